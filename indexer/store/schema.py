"""The Whoosh schema, the documents of a report, and the stable identities of reports and paragraphs.

One Whoosh document per paragraph, plus one per report (``kind == "report"``) that carries the
report's metadata and file hash, so a commit updates both atomically. A paragraph document stores
nothing in Whoosh: its id, section and texts go to its segment's piece (pieces.py). Report and
retired documents are few, and keep their stored fields in Whoosh. Each kind of document is a
typed value here; ``whoosh_fields()`` is what Whoosh is given of it (segments.SegmentWithPiece
writes both sides).
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

from whoosh.fields import ID, STORED, TEXT, Schema

from indexer.analysis import PolicyTokenizer, segment_words
from indexer.model import ARTICLE_LABEL, Report
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


def schema_words(schema: Schema) -> tuple:
    """The user dictionary an index's words were segmented with (pickled with its schema)."""
    return schema["content"].analyzer.extra_words


@dataclass(frozen=True)
class ParagraphDoc:
    """A paragraph: Whoosh indexes its words; its id, section and texts go to its segment's piece."""

    pid: str
    rid: str
    kind: str  # heading | body (pieces.KIND_CODES)
    ordinal: int
    section: list[str]
    text: str  # as the report has it, shown in hits
    folded: str  # normalise.fold(text), matched by the exact store
    words: tuple[str, ...]  # folded, segmented (analysis.segment_words)
    block: int = 0  # the source paragraph it is part of (model.Paragraph.block)

    def whoosh_fields(self) -> dict:
        return {"pid": self.pid, "rid": self.rid, "kind": self.kind, "content": self.words}


@dataclass(frozen=True)
class ReportDoc:
    """A report's own document: its metadata and file hash, committed with its paragraphs."""

    rid: str
    meta: dict  # ReportMeta.to_dict()
    source: str  # corpus-relative path
    path: str  # absolute path at indexing time, for downloading the source file
    file_hash: str
    fmt: str
    kind: ClassVar[str] = "report"

    @property
    def pid(self) -> str:
        return f"{self.rid}~report"

    def whoosh_fields(self) -> dict:
        return {
            "pid": self.pid, "rid": self.rid, "kind": self.kind, "report_rid": self.rid,
            "meta": json.dumps(self.meta, ensure_ascii=False),
            "source": self.source, "path": self.path, "file_hash": self.file_hash, "fmt": self.fmt,
        }

    def piece_row(self) -> dict:
        """The report as its segment's piece lists it (the fields of exact.ReportRow)."""
        return {"rid": self.rid, "meta": self.meta, "source": self.source, "path": self.path, "fmt": self.fmt,
                "file_hash": self.file_hash}


@dataclass(frozen=True)
class RetiredDoc:
    """A paragraph that an update changed or removed, kept (in Whoosh's stored fields) under its old id."""

    pid: str
    rid: str
    ordinal: int
    text: str
    section: list[str]
    kind: ClassVar[str] = "retired"

    def whoosh_fields(self) -> dict:
        return {"kind": self.kind, "retired_pid": self.pid, "retired_rid": self.rid, "ordinal": self.ordinal,
                "text": self.text, "section": self.section}


Document = ParagraphDoc | ReportDoc | RetiredDoc


def report_id(relative_source: str) -> str:
    """A report's id: its corpus-relative path without the suffix (stable across re-indexing and
    across a change of encoding or format of the same file, e.g. report.txt -> report.pdf)."""
    p = PurePosixPath(relative_source)
    stem = str(p.with_suffix("")) if p.suffix else str(p)
    return stem.replace("/", "~")


def rid_of(pid: str) -> str:
    """The report id in a paragraph id (``rid~hash``, ``rid~hash-n`` or ``rid~report``): up to its
    last ``~``, since a report id may hold ``~`` itself (a file in a subfolder) and a hash never does."""
    return pid.rsplit("~", 1)[0]


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




def article_groups(paragraphs) -> list[tuple[str, list[int]]]:
    """(article id, indices into ``paragraphs``) of every article of one report's paragraphs
    (``ParagraphDoc``s or ``pieces.PieceRow``s, in reading order): the consecutive paragraphs of one
    source paragraph whose section path ends with an article label. An article's id is made like a
    paragraph's, from its report and its whole folded text, so that a link to it holds while the
    article is unchanged (also when it is renumbered) and an amended article's old id is retired."""
    out: list[tuple[str, list[int]]] = []
    last = None
    for k, p in enumerate(paragraphs):
        section = p.section
        if not section or not ARTICLE_LABEL.fullmatch(section[-1]):
            last = None
            continue
        key = (p.block, tuple(section))
        if key == last:
            out[-1][1].append(k)
        else:
            out.append(("", [k]))
        last = key
    rid = paragraphs[0].rid if paragraphs else ""
    return [(article_id(rid, [paragraphs[k].folded for k in ks]), ks) for _, ks in out]


def article_id(rid: str, folded_texts: list[str]) -> str:
    """An article's id; an article of one paragraph has that paragraph's id (but for a repeat's -n)."""
    return f"{rid}~{content_hash(chr(10).join(folded_texts))}"


def report_documents(report: Report, rid: str, source: str, path: str, file_hash: str,
                     extra_words: tuple = ()) -> list[ReportDoc | ParagraphDoc]:
    """The documents of one report, its own first, paragraphs already analysed into words."""
    docs: list[ReportDoc | ParagraphDoc] = [ReportDoc(rid, report.meta.to_dict(), source, path, file_hash,
                                                      report.format)]
    folded = [fold(p.text) for p in report.paragraphs]
    pids = paragraph_ids(rid, folded)
    words = tuple(extra_words)
    for pid, para, folded_text in zip(pids, report.paragraphs, folded):
        docs.append(paragraph_document(pid, rid, para.kind, para.ordinal, list(para.section), para.text,
                                       folded_text, words, block=para.block))
    return docs


def paragraph_document(pid: str, rid: str, kind: str, ordinal: int, section: list[str], text: str, folded: str,
                       extra_words: tuple, *, block: int = 0) -> ParagraphDoc:
    return ParagraphDoc(pid, rid, kind, ordinal, section, text, folded, tuple(segment_words(folded, extra_words)),
                        block)


def stored_document(stored: dict) -> ReportDoc | RetiredDoc | None:
    """A report or retired document again, from the fields Whoosh stored (for merging segments)."""
    if "report_rid" in stored:
        return ReportDoc(stored["report_rid"], json.loads(stored["meta"]), stored["source"], stored["path"],
                         stored["file_hash"], stored["fmt"])
    if "retired_pid" in stored:
        return RetiredDoc(stored["retired_pid"], stored["retired_rid"], stored["ordinal"], stored["text"],
                          stored["section"])
    return None


def retired_documents(old_paragraphs: list, live_pids: set[str]) -> list[RetiredDoc]:
    """Documents remembering the paragraphs (pieces.PieceRow, of one report in reading order) and
    the articles of more than one paragraph (``article_groups``) that are not live any more; an
    article's document holds its paragraphs' texts, one a line."""
    docs = [RetiredDoc(p.pid, p.rid, p.ordinal, p.text, list(p.section))
            for p in old_paragraphs if p.pid not in live_pids]
    ordered = sorted(old_paragraphs, key=lambda p: p.ordinal)
    for aid, ks in article_groups(ordered):
        if len(ks) > 1 and aid not in live_pids:
            first = ordered[ks[0]]
            docs.append(RetiredDoc(aid, first.rid, first.ordinal, "\n".join(ordered[k].text for k in ks),
                                   list(first.section)))
    return docs


def indexed_ids(docs: list) -> list[str]:
    """The ids a report's documents make live: its paragraphs' and its articles' of more than one
    paragraph (an update retires those of the old version that are not among them)."""
    paragraphs = [d for d in docs if isinstance(d, ParagraphDoc)]
    return [d.pid for d in paragraphs] + [aid for aid, ks in article_groups(paragraphs) if len(ks) > 1]
