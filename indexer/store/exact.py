"""Exact substring matching beside Whoosh: every paragraph that contains the folded query.

Design: all folded paragraph texts of one index generation are laid end to end as UTF-16 code
units in one numpy array (``codes``), separated by a newline, which folding never leaves inside a
paragraph and a query never contains. A term's candidate offsets come from its rarest pair of
adjacent code units in the pair index (``PairIndex``: every offset sorted by its unit and the unit
after it, built by ``index_positions`` for a long-running server), or, without that index, from a
scan of ``codes`` for its rarest unit (a vectorised compare); the term's other units are checked at
the candidates with vectorised gathers. Offsets map to paragraphs through the pair index's
paragraph of every unit (a gather), else by binary search in ``starts``. Recall is exact by
construction (it is a substring scan), and jieba's segmentation plays no part in matching: it only
ranks. UTF-16 matching is exact even for characters outside the BMP, since surrogate halves
cannot match out of step.

The store is assembled in memory when an engine opens, from the pieces written beside each Whoosh
segment (pieces.py) and the segments' deletions, so nothing but the pieces is kept on disk: a
generation needs no cache of its own, and cannot have a stale one.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.normalise import fold
from indexer.store.pieces import KIND_NAMES, SEPARATOR, Piece, TextBlocks, piece_of


@dataclass
class ReportRow:
    rid: str
    meta: dict
    source: str
    path: str
    fmt: str
    file_hash: str


@dataclass(eq=False)
class ExactStore:
    """One generation's paragraphs, in report order; ``i`` below is a paragraph's row."""

    codes: np.ndarray  # uint16: every folded text, separated by SEPARATOR
    lengths: np.ndarray  # UTF-16 units of each folded text
    docnums: np.ndarray  # Whoosh document numbers
    report_idx: np.ndarray  # into reports
    ordinals: np.ndarray
    kinds: np.ndarray  # KIND_CODES
    unit_freq: np.ndarray  # [65536]: occurrences of each code unit in codes
    pids: list[str]
    section_table: list[list[str]]  # section paths are shared by many paragraphs: one table,
    section_ids: np.ndarray  # and an id per paragraph
    reports: list[ReportRow]  # by report id
    texts: list[TextBlocks]  # original texts: row_local[i] of texts[row_piece[i]]
    row_piece: np.ndarray
    row_local: np.ndarray

    def __post_init__(self):
        self.starts = np.concatenate(([0], np.cumsum(self.lengths.astype(np.int64) + 1)))[:self.lengths.size]
        self.ends = self.starts + self.lengths
        self.rid_index = {r.rid: i for i, r in enumerate(self.reports)}
        # Built on first use, by whichever thread asks first: each is written once, under
        # _lazy_lock, and published by one assignment, so a reader sees None or the whole thing.
        self._lazy_lock = threading.Lock()
        self._folded_sections: list[str | None] = [None] * len(self.section_table)
        self._pid_index: dict[str, int] | None = None
        self._pairs: PairIndex | None = None

    @classmethod
    def open(cls, reader, folder: Path) -> "ExactStore":
        """The store of the paragraphs a Whoosh reader sees (its segments' pieces, less deleted
        documents), in report order: reports by id, each report's paragraphs in reading order."""
        # An index with no segments yet (an empty corpus, a build killed before its first commit)
        # has one empty reader, whose segment() is None: an empty store.
        leaves = [(r, offset) for r, offset in reader.leaf_readers() if getattr(r, "segment", lambda: None)() is not None]
        # zlib lets go of the GIL while it decompresses: the pieces are read side by side.
        with ThreadPoolExecutor(max_workers=min(4, len(leaves) or 1)) as pool:
            found = list(pool.map(lambda leaf: piece_of(folder, leaf[0]), leaves))
        segments = [(r.segment(), offset) for (r, offset), piece in zip(leaves, found) if piece is not None]
        pieces = [piece for piece in found if piece is not None]

        parts: list[tuple[Piece, np.ndarray, int]] = []  # (piece, live rows, docnum offset)
        report_rows: list[ReportRow] = []
        for (segment, offset), piece in zip(segments, pieces):
            deleted = set(segment.deleted_docs()) if segment.has_deletions() else set()
            dead = np.fromiter(deleted, dtype=np.int64, count=len(deleted))
            live = ~np.isin(piece.docnums, dead) if dead.size else np.ones(len(piece), dtype=bool)
            parts.append((piece, live, offset))
            report_rows += [ReportRow(**r) for d, r in piece.reports if d not in deleted]

        reports = sorted(report_rows, key=lambda r: r.rid)
        rid_to_idx = {r.rid: i for i, r in enumerate(reports)}
        joined = lambda arrays, dtype: np.concatenate(arrays) if arrays else np.zeros(0, dtype)  # noqa: E731
        report_idx = joined([np.array([rid_to_idx.get(rid, -1) for rid in p.rid_table], dtype=np.int32)[p.rid_ids]
                             for p, _, _ in parts], np.int32)
        live = joined([lv for _, lv, _ in parts], bool)
        ordinals = joined([p.ordinals for p, _, _ in parts], np.int32)
        # A paragraph whose report document is missing (or deleted) is left out.
        order = np.lexsort((ordinals, report_idx))
        kept = (report_idx >= 0) & live
        order = order[kept[order]]

        lengths = joined([p.lengths for p, _, _ in parts], np.int32)
        all_codes = joined([p.codes for p, _, _ in parts], np.uint16)
        piece_starts = joined([p.starts + base for (p, _, _), base in
                               zip(parts, np.cumsum([0] + [p.codes.size for p, _, _ in parts]))], np.int64)
        # Unit counts from the pieces' own, less the paragraphs left out: no pass over all codes.
        unit_freq = np.zeros(65536, dtype=np.int64)
        for p, _, _ in parts:
            unit_freq += p.unit_freq
        if not kept.all():  # every unit of the left-out rows (and their separators) in one count
            unit_freq -= np.bincount(all_codes[np.repeat(~kept, lengths.astype(np.int64) + 1)], minlength=65536)
        unit_freq[SEPARATOR] = max(order.size - 1, 0)
        codes = _gather_runs(all_codes, piece_starts, lengths, order)
        del all_codes
        section_base = np.cumsum([0] + [len(p.section_table) for p, _, _ in parts])
        return cls(
            codes=codes, lengths=lengths[order], unit_freq=unit_freq,
            docnums=joined([p.docnums.astype(np.int64) + off for p, _, off in parts], np.int64)[order],
            report_idx=report_idx[order], ordinals=ordinals[order],
            kinds=joined([p.kinds for p, _, _ in parts], np.int8)[order],
            pids=_pick([pid for p, _, _ in parts for pid in p.pids], order),
            section_table=[sec for p, _, _ in parts for sec in p.section_table],
            section_ids=joined([p.section_ids + b for (p, _, _), b in zip(parts, section_base)], np.int32)[order],
            reports=reports, texts=[p.texts for p, _, _ in parts],
            row_piece=joined([np.full(len(p), k, dtype=np.int32) for k, (p, _, _) in enumerate(parts)], np.int32)[order],
            row_local=joined([np.arange(len(p), dtype=np.int32) for p, _, _ in parts], np.int32)[order],
        )

    @property
    def pid_index(self) -> dict[str, int]:
        """Paragraph id -> row. Built on first use: a one-shot search never looks a paragraph up by id."""
        index = self._pid_index
        if index is None:
            with self._lazy_lock:  # threads asking at once wait for the one dict
                if self._pid_index is None:
                    self._pid_index = {pid: i for i, pid in enumerate(self.pids)}
                index = self._pid_index
        return index

    def index_positions(self) -> None:
        """Sorts all positions by (unit, following unit, position) once (two 16-bit radix sorts,
        a few seconds per 100M units), so that a term is found from the positions of its rarest
        pair of adjacent units instead of by scanning every unit. Worth it for a long-running
        process (the web server, the benchmark); a one-shot CLI query just scans."""
        if self._pairs is not None or not self.codes.shape[0]:
            return
        with self._lazy_lock:
            if self._pairs is None:
                self._pairs = PairIndex.of(self.codes, self.unit_freq, self.starts, self.ends)

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
        pairs = self._pairs
        if pairs is not None and units.size >= 2:
            # Start from the term's rarest pair of adjacent units, found in the sorted pair index.
            spans = [pairs.span(int(units[j]), int(units[j + 1])) for j in range(units.size - 1)]
            k = min(range(len(spans)), key=lambda j: spans[j][1] - spans[j][0])
            lo, hi = spans[k]
            cand = pairs.positions[lo:hi].astype(np.int64) - k
            skip = (k, k + 1)
        elif pairs is not None:
            u = int(units[0])
            cand = np.sort(pairs.positions[pairs.unit_start[u]:pairs.unit_start[u + 1]]).astype(np.int64)
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

    def docs_containing(self, folded_term: str) -> np.ndarray:
        """Sorted unique paragraph indices whose folded text contains the term."""
        return self.term_counts(folded_term)[0]

    def term_counts(self, folded_term: str) -> tuple[np.ndarray, np.ndarray]:
        """(sorted paragraph indices containing the term, occurrences of the term in each)."""
        occ = self.occurrences(folded_term)
        if occ.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        # Ascending, since occurrences are sorted.
        pairs = self._pairs
        if pairs is not None:
            docs = pairs.unit_doc[occ].astype(np.int64)
        else:
            docs = np.searchsorted(self.starts, occ, side="right") - 1
        first = np.flatnonzero(np.diff(docs, prepend=-1))
        return docs[first], np.diff(first, append=docs.size)

    def folded_text(self, i: int) -> str:
        return np.asarray(self.codes[self.starts[i]:self.ends[i]]).tobytes().decode("utf-16-le", "replace")

    def text(self, i: int) -> str:
        """The paragraph's original text."""
        return self.texts[int(self.row_piece[i])].text(int(self.row_local[i]))

    def kind(self, i: int) -> str:
        return KIND_NAMES[int(self.kinds[i])]

    def section(self, i: int) -> list[str]:
        return self.section_table[int(self.section_ids[i])]

    def folded_section(self, i: int) -> str:
        # Folded on demand: most sections are never asked for.
        sid = int(self.section_ids[i])
        value = self._folded_sections[sid]
        if value is None:
            with self._lazy_lock:
                value = self._folded_sections[sid]
                if value is None:
                    value = self._folded_sections[sid] = fold(" › ".join(self.section_table[sid]))
        return value


@dataclass(frozen=True)
class PairIndex:
    """Every position of the store's codes sorted by (unit, following unit, position): a term is
    found from the positions of its rarest pair of adjacent units. Immutable once built."""

    positions: np.ndarray  # positions in that order
    following: np.ndarray  # the unit following each of them
    unit_start: np.ndarray  # [65537]: where each unit's positions start
    unit_doc: np.ndarray  # the paragraph of every code unit

    @classmethod
    def of(cls, codes: np.ndarray, unit_freq: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> "PairIndex":
        following = np.zeros_like(codes)
        following[:-1] = codes[1:]
        by_following = np.argsort(following, kind="stable")
        order = by_following[np.argsort(codes[by_following], kind="stable")]
        # The paragraph of every code unit (4 bytes a unit): a gather instead of a binary search
        # per occurrence, which cost common terms with 100k+ occurrences several milliseconds.
        lengths = ends - starts + 1  # with the separator that follows each paragraph
        return cls(positions=order.astype(np.int32) if order.size < 2**31 else order,
                   following=following[order], unit_start=np.concatenate(([0], np.cumsum(unit_freq))),
                   unit_doc=np.repeat(np.arange(len(starts), dtype=np.int32), lengths)[:codes.shape[0]])

    def span(self, a: int, b: int) -> tuple[int, int]:
        """The slice of ``positions`` where unit a is followed by unit b."""
        start, end = int(self.unit_start[a]), int(self.unit_start[a + 1])
        following = self.following[start:end]
        key = following.dtype.type(b)  # a Python int would make numpy cast the whole slice first
        return start + int(np.searchsorted(following, key, "left")), start + int(np.searchsorted(following, key, "right"))


def _gather_runs(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The folded texts of rows ``order`` end to end, each but the last followed by SEPARATOR,
    copied a run of consecutive rows at a time (a report's paragraphs are consecutive in their
    piece), not a paragraph at a time."""
    if order.size == 0:
        return np.zeros(0, dtype=np.uint16)
    if order.size == lengths.size and np.all(order[1:] == order[:-1] + 1) and order[0] == 0:
        out = codes  # already in report order and nothing deleted: the usual fresh build
    else:
        breaks = np.flatnonzero(np.diff(order) != 1) + 1
        firsts = order[np.concatenate(([0], breaks))]
        lasts = order[np.concatenate((breaks - 1, [order.size - 1]))]
        out = np.concatenate([codes[starts[a]:starts[b] + lengths[b] + 1]
                              for a, b in zip(firsts.tolist(), lasts.tolist())])
    return out[:-1]  # no separator after the last paragraph


def _pick(values: list, order: np.ndarray) -> list:
    return [values[i] for i in order.tolist()]
