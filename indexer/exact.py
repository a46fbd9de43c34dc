"""Exact substring matching beside Whoosh: every paragraph that contains the folded query.

Design: all folded paragraph texts of one index generation are laid end to end as UTF-16 code
units in one numpy array (``codes``), separated by a newline, which folding never leaves inside a
paragraph and a query never contains. A term is found by scanning ``codes`` for its rarest code
unit (a vectorised compare) and checking the term's other units at the candidate offsets with
vectorised gathers; offsets map to paragraphs by binary search in ``starts``. Recall is exact by
construction (it is a substring scan), and jieba's segmentation plays no part in matching: it only
ranks. UTF-16 matching is exact even for characters outside the BMP, since surrogate halves
cannot match out of step.

The arrays are written once per index generation under ``<index>/cache/exact-<gen>/`` and loaded
with numpy (memory-mapped), so opening a searcher does not re-read every stored paragraph.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .normalise import fold

SEPARATOR = 0x000A
KIND_CODES = {"heading": 0, "body": 1}


@dataclass
class ReportRow:
    rid: str
    meta: dict
    source: str
    path: str
    fmt: str
    file_hash: str


class ExactStore:
    def __init__(self, directory: Path):
        self.directory = directory
        load = lambda name: np.load(directory / f"{name}.npy", mmap_mode="r")  # noqa: E731
        self.codes = load("codes")
        self.starts = np.asarray(load("starts"))
        self.ends = np.asarray(load("ends"))
        self.docnums = np.asarray(load("docnums"))
        self.report_idx = np.asarray(load("report_idx"))
        self.ordinals = np.asarray(load("ordinals"))
        self.kinds = np.asarray(load("kinds"))
        self.unit_freq = np.asarray(load("unit_freq"))
        with open(directory / "docs.json", encoding="utf-8") as f:
            extra = json.load(f)
        self.pids: list[str] = extra["pids"]
        # Section paths are shared by many paragraphs: one table, an id per paragraph.
        self.section_table: list[list[str]] = extra["section_table"]
        self.section_ids = np.asarray(load("section_ids"))
        self.reports = [ReportRow(**r) for r in extra["reports"]]
        self.pid_index = {pid: i for i, pid in enumerate(self.pids)}
        self.rid_index = {r.rid: i for i, r in enumerate(self.reports)}
        self._folded_sections: list[str | None] = [None] * len(self.section_table)
        self._positions: np.ndarray | None = None
        self._unit_start: np.ndarray | None = None
        self._following: np.ndarray | None = None
        self._unit_doc: np.ndarray | None = None

    def index_positions(self) -> None:
        """Sorts all positions by (unit, following unit, position) once (two 16-bit radix sorts,
        a few seconds per 100M units), so that a term is found from the positions of its rarest
        pair of adjacent units instead of by scanning every unit. Worth it for a long-running
        process (the web server, the benchmark); a one-shot CLI query just scans."""
        if self._positions is not None or not self.codes.shape[0]:
            return
        self.codes = np.array(self.codes)  # into memory: gathers from a memory map are slower
        following = np.zeros_like(self.codes)
        following[:-1] = self.codes[1:]
        by_following = np.argsort(following, kind="stable")
        order = by_following[np.argsort(self.codes[by_following], kind="stable")]
        self._positions = order.astype(np.int32) if order.size < 2**31 else order
        self._following = following[order]
        self._unit_start = np.concatenate(([0], np.cumsum(self.unit_freq)))
        # The paragraph of every code unit (4 bytes a unit): a gather instead of a binary search
        # per occurrence, which cost common terms with 100k+ occurrences several milliseconds.
        lengths = self.ends - self.starts + 1  # with the separator that follows each paragraph
        self._unit_doc = np.repeat(np.arange(len(self.starts), dtype=np.int32), lengths)[:self.codes.shape[0]]

    def __len__(self) -> int:
        return len(self.pids)

    # -- matching -------------------------------------------------------------------------------
    def occurrences(self, folded_term: str) -> np.ndarray:
        """Start offsets (in code units), ascending, of every occurrence of an already folded term."""
        units = np.frombuffer(folded_term.encode("utf-16-le"), dtype=np.uint16)
        if units.size == 0 or SEPARATOR in units or 0 in units:
            return np.empty(0, dtype=np.int64)
        if self.unit_freq[units].min() == 0:
            return np.empty(0, dtype=np.int64)
        n = self.codes.shape[0]
        if self._positions is not None and units.size >= 2:
            # Start from the term's rarest pair of adjacent units, found in the sorted pair index.
            spans = [self._pair_span(int(units[j]), int(units[j + 1])) for j in range(units.size - 1)]
            k = min(range(len(spans)), key=lambda j: spans[j][1] - spans[j][0])
            lo, hi = spans[k]
            cand = self._positions[lo:hi].astype(np.int64) - k
            skip = (k, k + 1)
        elif self._positions is not None:
            u = int(units[0])
            cand = np.sort(self._positions[self._unit_start[u]:self._unit_start[u + 1]]).astype(np.int64)
            skip = (0,)
        else:
            k = int(np.argmin(self.unit_freq[units]))
            cand = np.flatnonzero(self.codes == units[k]).astype(np.int64) - k
            skip = (k,)
        cand = cand[(cand >= 0) & (cand + units.size <= n)]
        for j in range(units.size):
            if j in skip or cand.size == 0:
                continue
            cand = cand[self.codes[cand + j] == units[j]]
        return cand

    def _pair_span(self, a: int, b: int) -> tuple[int, int]:
        """The slice of the pair index holding the positions where unit a is followed by unit b."""
        start, end = int(self._unit_start[a]), int(self._unit_start[a + 1])
        following = self._following[start:end]
        key = following.dtype.type(b)  # a Python int would make numpy cast the whole slice first
        return start + int(np.searchsorted(following, key, "left")), start + int(np.searchsorted(following, key, "right"))

    def docs_containing(self, folded_term: str) -> np.ndarray:
        """Sorted unique paragraph indices whose folded text contains the term."""
        return self.term_counts(folded_term)[0]

    def term_counts(self, folded_term: str) -> tuple[np.ndarray, np.ndarray]:
        """(sorted paragraph indices containing the term, occurrences of the term in each)."""
        occ = self.occurrences(folded_term)
        if occ.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        # Ascending, since occurrences are sorted.
        if self._unit_doc is not None:
            docs = self._unit_doc[occ].astype(np.int64)
        else:
            docs = np.searchsorted(self.starts, occ, side="right") - 1
        first = np.flatnonzero(np.diff(docs, prepend=-1))
        return docs[first], np.diff(first, append=docs.size)

    def folded_text(self, i: int) -> str:
        return np.asarray(self.codes[self.starts[i]:self.ends[i]]).tobytes().decode("utf-16-le", "replace")

    def section(self, i: int) -> list[str]:
        return self.section_table[int(self.section_ids[i])]

    def folded_section(self, i: int) -> str:
        # Folded on demand: most sections are never asked for.
        sid = int(self.section_ids[i])
        value = self._folded_sections[sid]
        if value is None:
            value = self._folded_sections[sid] = fold(" › ".join(self.section_table[sid]))
        return value


STORE_VERSION = 3  # bump when the arrays change, so caches of an older layout are rebuilt


def cache_dir(index_dir: Path, generation: int) -> Path:
    return index_dir / "cache" / f"exact-v{STORE_VERSION}-{generation}"


PIECE_EXT = ".exact.npz"  # named after its segment, so it lives and dies with the segment


@dataclass
class SegmentRows:
    """What the exact store takes from one Whoosh segment: its paragraphs, folded, and its reports."""

    docnums: np.ndarray  # within the segment
    rids: list[str]
    ordinals: np.ndarray
    kinds: np.ndarray
    pids: list[str]
    sections: list[list[str]]
    lengths: np.ndarray  # UTF-16 units of each folded text
    codes: np.ndarray  # the folded texts, each followed by SEPARATOR
    reports: list[tuple[int, dict]]  # (docnum within the segment, ReportRow fields)


class SegmentRowsBuilder:
    """Gathers a segment's rows while it is written (segments.SegmentBuilder in a worker), so that
    the exact store need not read every stored paragraph back and fold it again."""

    def __init__(self):
        self.docnums: list[int] = []
        self.rids: list[str] = []
        self.ordinals: list[int] = []
        self.kinds: list[int] = []
        self.pids: list[str] = []
        self.sections: list[list[str]] = []
        self.texts: list[str] = []
        self.reports: list[tuple[int, dict]] = []

    def add(self, docnum: int, doc: dict, folded: str | None = None) -> None:
        kind = doc.get("kind")
        if kind == "report":
            self.reports.append((docnum, _report_row(doc).__dict__))
        elif kind in KIND_CODES:
            self.docnums.append(docnum)
            self.rids.append(doc["rid"])
            self.ordinals.append(doc["ordinal"])
            self.kinds.append(KIND_CODES[kind])
            self.pids.append(doc["pid"])
            self.sections.append(list(doc.get("section") or ()))
            self.texts.append(_folded_row(doc["text"] if folded is None else folded, folded is not None))

    def rows(self) -> SegmentRows:
        joined = "".join(t + "\n" for t in self.texts)
        codes = np.frombuffer(joined.encode("utf-16-le"), dtype=np.uint16)
        lengths = np.array([len(t.encode("utf-16-le")) // 2 for t in self.texts], dtype=np.int64)
        return SegmentRows(np.array(self.docnums, dtype=np.int64), self.rids, np.array(self.ordinals, dtype=np.int32),
                           np.array(self.kinds, dtype=np.int8), self.pids, self.sections, lengths, codes, self.reports)

    def save(self, path: Path) -> None:
        r = self.rows()
        strings = json.dumps({"rids": r.rids, "pids": r.pids, "sections": r.sections, "reports": r.reports},
                             ensure_ascii=False).encode("utf-8")
        with open(path, "wb") as f:  # compressed: it is read once per generation, and text packs ~3:1
            np.savez_compressed(f, docnums=r.docnums, ordinals=r.ordinals, kinds=r.kinds, lengths=r.lengths, codes=r.codes,
                     strings=np.frombuffer(strings, dtype=np.uint8))


def _folded_row(text: str, already_folded: bool) -> str:
    return (text if already_folded else fold(text)).replace("\n", " ")


def _report_row(stored: dict) -> ReportRow:
    return ReportRow(rid=stored["rid"], meta=json.loads(stored["meta"]), source=stored.get("source", ""),
                     path=stored.get("path", ""), fmt=stored.get("fmt", ""), file_hash=stored.get("file_hash", ""))


def _load_rows(path: Path) -> SegmentRows:
    with np.load(path) as z:
        strings = json.loads(z["strings"].tobytes().decode("utf-8"))
        return SegmentRows(z["docnums"], strings["rids"], z["ordinals"], z["kinds"], strings["pids"],
                           strings["sections"], z["lengths"], z["codes"], [tuple(r) for r in strings["reports"]])


def _segment_rows(ix, segment) -> SegmentRows:
    """A segment's rows from the piece written beside it, else (segments merged by Whoosh, older
    indexes) from its stored fields. Deleted documents are left out."""
    from whoosh.reading import SegmentReader

    piece = Path(ix.storage.folder) / (segment.segment_id() + PIECE_EXT)
    if piece.exists():
        rows = _load_rows(piece)
    else:
        builder = SegmentRowsBuilder()
        reader = SegmentReader(ix.storage, ix.schema, segment)
        try:
            for docnum, stored in reader.iter_docs():
                builder.add(docnum, stored)
        finally:
            reader.close()
        rows = builder.rows()
    deleted = set(segment.deleted_docs())
    if not deleted:
        return rows
    keep = ~np.isin(rows.docnums, np.fromiter(deleted, dtype=np.int64))
    starts = np.concatenate(([0], np.cumsum(rows.lengths + 1)))
    codes = np.concatenate([rows.codes[starts[i]:starts[i + 1]] for i in np.flatnonzero(keep)] or [np.zeros(0, np.uint16)])
    reports = [(d, r) for d, r in rows.reports if d not in deleted]
    pick = lambda values: [v for v, k in zip(values, keep) if k]  # noqa: E731
    return SegmentRows(rows.docnums[keep], pick(rows.rids), rows.ordinals[keep], rows.kinds[keep], pick(rows.pids),
                       pick(rows.sections), rows.lengths[keep], codes, reports)


def build_exact_store(index_dir: Path, ix) -> Path:
    """Writes the exact-match arrays for the index's current generation; returns their folder."""
    generation = ix.latest_generation()
    target = cache_dir(index_dir, generation)
    if (target / "docs.json").exists():
        return target
    parts: list[tuple[int, SegmentRows]] = []
    base = 0
    for segment in ix._segments():  # in table-of-contents order, which numbers the documents
        parts.append((base, _segment_rows(ix, segment)))
        base += segment.doc_count_all()

    reports = sorted((ReportRow(**r) for _, rows in parts for _, r in rows.reports), key=lambda r: r.rid)
    rid_to_idx = {r.rid: i for i, r in enumerate(reports)}
    rids = [rid for _, rows in parts for rid in rows.rids]
    report_idx = np.array([rid_to_idx.get(rid, -1) for rid in rids], dtype=np.int64)
    ordinals = np.concatenate([rows.ordinals for _, rows in parts]) if parts else np.zeros(0, np.int32)
    docnums = np.concatenate([rows.docnums + b for b, rows in parts]) if parts else np.zeros(0, np.int64)
    kinds = np.concatenate([rows.kinds for _, rows in parts]) if parts else np.zeros(0, np.int8)
    lengths = np.concatenate([rows.lengths for _, rows in parts]) if parts else np.zeros(0, np.int64)
    codes = np.concatenate([rows.codes for _, rows in parts]) if parts else np.zeros(0, np.uint16)
    pids = [pid for _, rows in parts for pid in rows.pids]
    sections = [sec for _, rows in parts for sec in rows.sections]
    del parts

    # Paragraphs in report order (reports by id), each report's in reading order; a paragraph
    # whose report document is missing is left out.
    order = np.lexsort((ordinals, report_idx))
    order = order[report_idx[order] >= 0]
    old_starts = np.concatenate(([0], np.cumsum(lengths + 1)))[:-1]
    if order.size != lengths.size or np.any(order != np.arange(order.size)):
        codes = np.concatenate([codes[old_starts[i]:old_starts[i] + lengths[i] + 1] for i in order.tolist()]
                               or [np.zeros(0, np.uint16)])
        report_idx, ordinals, docnums, kinds, lengths = (a[order] for a in (report_idx, ordinals, docnums, kinds, lengths))
        pids = [pids[i] for i in order.tolist()]
        sections = [sections[i] for i in order.tolist()]
    starts = np.concatenate(([0], np.cumsum(lengths + 1)))[:-1]
    codes = codes[:-1] if codes.size else codes  # no separator after the last paragraph

    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "codes.npy", codes)
    np.save(tmp / "starts.npy", starts.astype(np.int64))
    np.save(tmp / "ends.npy", (starts + lengths).astype(np.int64))
    np.save(tmp / "docnums.npy", docnums.astype(np.int64))
    np.save(tmp / "report_idx.npy", report_idx.astype(np.int32))
    np.save(tmp / "ordinals.npy", ordinals.astype(np.int32))
    np.save(tmp / "kinds.npy", kinds.astype(np.int8))
    np.save(tmp / "unit_freq.npy", np.bincount(codes, minlength=65536).astype(np.int64))
    table: dict[tuple, int] = {}
    section_ids = np.array([table.setdefault(tuple(sec), len(table)) for sec in sections], dtype=np.int32)
    np.save(tmp / "section_ids.npy", section_ids)
    with open(tmp / "docs.json", "w", encoding="utf-8") as f:
        json.dump({
            "pids": pids,
            "section_table": [list(k) for k in table],
            "reports": [r.__dict__ for r in reports],
        }, f, ensure_ascii=False)
    try:
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process built it first
    for old in (index_dir / "cache").glob("exact-*"):
        if old != target and not old.name.startswith(target.name):
            shutil.rmtree(old, ignore_errors=True)
    return target
