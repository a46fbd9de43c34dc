"""The Whoosh schema and the stable identities of reports and paragraphs.

One Whoosh document per paragraph, plus one per report (``kind == "report"``) that carries the
report's metadata and file hash, so a commit updates both atomically.
"""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import PurePosixPath

from whoosh.fields import ID, STORED, TEXT, Schema

from .analysis import PolicyTokenizer, segment_words
from .model import Report
from .normalise import fold

def make_schema(extra_words: tuple = ()) -> Schema:
    analyzer = PolicyTokenizer(extra_words)
    return Schema(
        pid=ID(stored=True, unique=True),
        rid=ID(stored=True),
        kind=ID(stored=True),  # heading | body | report
        ordinal=STORED(),
        # Word frequencies only: matching is done by the exact store, so Whoosh needs no positions;
        # heading, title and adjacency boosts are applied when re-ranking (search.py).
        content=TEXT(analyzer=analyzer, phrase=False),
        text=STORED(),
        section=STORED(),
        meta=STORED(),  # report docs: ReportMeta as JSON
        source=STORED(),  # corpus-relative path
        path=STORED(),  # absolute path at indexing time, for downloading the source file
        file_hash=STORED(),
        fmt=STORED(),
        # A paragraph that an update changed or removed keeps its old text under its old id, so
        # that links to it can point at the closest current paragraph instead of nowhere.
        retired_pid=ID(stored=True),
        retired_rid=ID(stored=True),
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
    meta = report.meta
    docs = [{
        "pid": f"{rid}~report",
        "rid": rid,
        "kind": "report",
        "ordinal": 0,
        "meta": json.dumps(meta.to_dict(), ensure_ascii=False),
        "source": source,
        "path": path,
        "file_hash": file_hash,
        "fmt": report.format,
    }]
    folded = [fold(p.text) for p in report.paragraphs]
    pids = paragraph_ids(rid, folded)
    words = tuple(extra_words)
    for pid, para, folded_text in zip(pids, report.paragraphs, folded):
        docs.append({
            "pid": pid,
            "rid": rid,
            "kind": para.kind,
            "ordinal": para.ordinal,
            "content": tuple(segment_words(folded_text, words)),
            "_folded": folded_text,  # not a field: for the exact store (exact.SegmentRowsBuilder)
            "text": para.text,
            "section": list(para.section),
        })
    return docs


def retired_documents(old_docs: list[dict], live_pids: set[str]) -> list[dict]:
    """Whoosh documents remembering the paragraphs of old_docs that are not live any more."""
    out = []
    for d in old_docs:
        if d.get("kind") in ("heading", "body") and d["pid"] not in live_pids:
            out.append({
                "kind": "retired", "retired_pid": d["pid"], "retired_rid": d["rid"],
                "ordinal": d.get("ordinal", 0), "text": d.get("text", ""), "section": d.get("section") or [],
            })
    return out
