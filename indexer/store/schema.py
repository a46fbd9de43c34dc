"""The Whoosh schema, the documents of a report, and the stable identities of reports and paragraphs.

One Whoosh document per paragraph, plus one per report (``kind == "report"``) that carries the
report's metadata and file hash, so a commit updates both atomically. A paragraph document stores
nothing in Whoosh: its id, section and texts go to its segment's piece (pieces.py), passed along
under keys starting with ``_``, which Whoosh ignores. Report and retired documents are few, and
keep their stored fields in Whoosh.
"""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import PurePosixPath

from whoosh.fields import ID, STORED, TEXT, Schema

from indexer.analysis import PolicyTokenizer, segment_words
from indexer.model import Report
from indexer.normalise import fold

def make_schema(extra_words: tuple = ()) -> Schema:
    analyzer = PolicyTokenizer(extra_words)
    return Schema(
        pid=ID(unique=True),
        rid=ID(),
        kind=ID(),  # heading | body | report | retired
        # Word frequencies only: matching is done by the exact store, so Whoosh needs no positions;
        # heading, title and adjacency boosts are applied when re-ranking (search.py).
        content=TEXT(analyzer=analyzer, phrase=False),
        report_rid=STORED(),  # report docs: the report's id (rid is indexed only)
        meta=STORED(),  # report docs: ReportMeta as JSON
        source=STORED(),  # corpus-relative path
        path=STORED(),  # absolute path at indexing time, for downloading the source file
        file_hash=STORED(),
        fmt=STORED(),
        # A paragraph that an update changed or removed keeps its old text under its old id, so
        # that links to it can point at the closest current paragraph instead of nowhere.
        retired_pid=ID(stored=True),
        retired_rid=ID(stored=True),
        ordinal=STORED(),  # retired docs
        text=STORED(),  # retired docs
        section=STORED(),  # retired docs
    )


def report_id(relative_source: str) -> str:
    """A report's id: its corpus-relative path without the suffix (stable across re-indexing and
    across a change of encoding or format of the same file, e.g. report.txt -> report.pdf)."""
    p = PurePosixPath(relative_source)
    stem = str(p.with_suffix("")) if p.suffix else str(p)
    return stem.replace("/", "~")


def content_hash(folded: str) -> str:
    digest = hashlib.sha1(folded.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii")[:10].lower()


def paragraph_ids(rid: str, folded_texts: list[str]) -> list[str]:
    """Ids from the report id and the paragraph's folded content; identical paragraphs in one
    report are told apart by their order among themselves, not by their ordinal."""
    seen: dict[str, int] = {}
    ids = []
    for folded in folded_texts:
        h = content_hash(folded)
        n = seen.get(h, 0) + 1
        seen[h] = n
        ids.append(f"{rid}~{h}" if n == 1 else f"{rid}~{h}-{n}")
    return ids


def report_documents(report: Report, rid: str, source: str, path: str, file_hash: str,
                     extra_words: tuple = ()) -> list[dict]:
    """The Whoosh documents of one report, paragraphs already analysed into words."""
    docs = [report_document(rid, report.meta.to_dict(), source, path, file_hash, report.format)]
    folded = [fold(p.text) for p in report.paragraphs]
    pids = paragraph_ids(rid, folded)
    words = tuple(extra_words)
    for pid, para, folded_text in zip(pids, report.paragraphs, folded):
        docs.append(paragraph_document(pid, rid, para.kind, para.ordinal, list(para.section), para.text,
                                       folded_text, words))
    return docs


def report_document(rid: str, meta: dict, source: str, path: str, file_hash: str, fmt: str) -> dict:
    return {
        "pid": f"{rid}~report", "rid": rid, "kind": "report", "report_rid": rid,
        "meta": json.dumps(meta, ensure_ascii=False),
        "source": source,
        "path": path,  # absolute path at indexing time, for downloading the source file
        "file_hash": file_hash, "fmt": fmt,
    }


def paragraph_document(pid: str, rid: str, kind: str, ordinal: int, section: list[str], text: str, folded: str,
                       extra_words: tuple) -> dict:
    return {
        "pid": pid, "rid": rid, "kind": kind,
        "content": tuple(segment_words(folded, extra_words)),
        # Not Whoosh fields: for the segment's piece (pieces.PieceBuilder).
        "_ordinal": ordinal, "_section": section, "_text": text, "_folded": folded,
    }


def stored_document(stored: dict) -> dict | None:
    """A report or retired document again, from the fields Whoosh stored (for merging segments)."""
    if "report_rid" in stored:
        return report_document(stored["report_rid"], json.loads(stored["meta"]), stored["source"], stored["path"],
                               stored["file_hash"], stored["fmt"])
    if "retired_pid" in stored:
        return {**stored, "kind": "retired"}
    return None


def retired_documents(old_paragraphs: list, live_pids: set[str]) -> list[dict]:
    """Whoosh documents remembering the paragraphs (pieces.PieceRow) that are not live any more."""
    return [{
        "kind": "retired", "retired_pid": p.pid, "retired_rid": p.rid, "ordinal": p.ordinal,
        "text": p.text, "section": list(p.section),
    } for p in old_paragraphs if p.pid not in live_pids]
