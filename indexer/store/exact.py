"""Exact substring matching beside Whoosh: every paragraph that contains the folded query.

One generation's store is its segments' pieces (pieces.py), memory-mapped, in segment order: a
paragraph's *row* is its place in that order, counting only live paragraphs (a segment's deleted
documents, and paragraphs whose report document is gone, get no row). A report's paragraphs are
consecutive rows (a segment is written a report at a time), in reading order; reports are numbered
by id (``reports``, ``report_idx``).

A term is matched in each piece: candidates from the pair postings of its rarest pair of adjacent
UTF-16 code units, confirmed by reading its other units in the piece's folded codes; an offset maps
to its paragraph through the piece's newline ranks (``Piece.rows_at``). Recall is exact by construction
(it is a substring match), and jieba's segmentation plays no part in matching: it only ranks. UTF-16
matching is exact even for characters outside the BMP, since surrogate halves cannot match out of
step.

Opening reads each piece's header and a few small per-row columns (ordinals, lengths, kinds, source
paragraphs: 17 bytes a paragraph, kept in memory); nothing is sorted or decompressed, and the texts,
codes and postings stay in the page cache, shared by every process that maps them.
"""
from __future__ import annotations

import operator
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.normalise import fold
from indexer.reuse.keys import fingerprints, place_names
from indexer.store.pieces import KIND_NAMES, REPORT_COLUMNS, SEPARATOR, Piece, piece_of
from indexer.store.schema import rid_of


def _picked(values: list, order: list[int]) -> list:
    """``[values[i] for i in order]``, by one C call."""
    if len(order) < 2:
        return [values[i] for i in order]
    return list(operator.itemgetter(*order)(values))


@dataclass
class ReportRow:
    rid: str
    meta: dict
    source: str
    path: str
    fmt: str
    file_hash: str


class ReportTable:
    """The live reports of a generation, by id: ``table[r]`` is report r's ``ReportRow``, decoded
    from its piece when first asked for (opening reads only ``pieces.REPORT_COLUMNS``, lists in
    the pieces' headers); ``column(name)`` is one of those columns for every report."""

    def __init__(self, pieces: list[Piece], owners: list[tuple[int, int]], columns: dict[str, list]):
        self._pieces = pieces
        self._owners = owners  # report r: (index into pieces, its place among the piece's reports)
        self._columns = columns
        self._rows: dict[int, ReportRow] = {}

    def __len__(self) -> int:
        return len(self._owners)

    def __getitem__(self, r: int) -> ReportRow:
        if r < 0:
            r += len(self._owners)
        row = self._rows.get(r)
        if row is None:
            row = self._rows[r] = self._decoded(r)  # a racing thread decodes the same row: either one is kept
        return row

    def peek(self, r: int) -> ReportRow:
        """Report r's row, decoded afresh unless it is kept already, and not kept: for a pass over
        many reports (an export) that must not fill the cache."""
        row = self._rows.get(r)
        return row if row is not None else self._decoded(r)

    def _decoded(self, r: int) -> ReportRow:
        p, k = self._owners[r]
        return ReportRow(**self._pieces[p].report_row(k))

    def __iter__(self):
        return (self[r] for r in range(len(self)))

    def column(self, name: str) -> list:
        return self._columns[name]

    @property
    def rids(self) -> list[str]:
        return self._columns["rid"]


@dataclass(frozen=True)
class StorePart:
    """One segment's piece as the store numbers it."""

    piece: Piece
    base: int  # the row of its first live paragraph
    count: int  # its live paragraphs
    global_of: np.ndarray | None  # piece row -> store row (-1: not live); None when every one is live
    local_of: np.ndarray | None  # store row - base -> piece row; None when every one is live

    def local(self, row: int) -> int:
        j = row - self.base
        return j if self.local_of is None else int(self.local_of[j])

    def rows_of(self, local: np.ndarray) -> np.ndarray:
        """The store rows of piece rows ``local`` (-1: not live)."""
        return local + self.base if self.global_of is None else self.global_of[local]


def piece_occurrences(piece: Piece, units: np.ndarray) -> np.ndarray:
    """Start offsets (ascending) of a term's code units in one piece's folded codes."""
    postings = piece.postings
    size = int(units.size)
    if size == 1:
        # A common unit is listed under hundreds of pairs: comparing every unit is faster.
        u = int(units[0])
        if postings.unit_count(u) * 64 > piece.codes.size:
            return np.flatnonzero(piece.codes == units[0])
        return postings.unit_positions(u)
    rows = []
    for j in range(size - 1):
        row = postings.find(int(units[j]) << 16 | int(units[j + 1]))
        if row < 0:  # a pair the segment never holds: no occurrence
            return np.empty(0, dtype=np.int64)
        rows.append(row)
    k = min(range(size - 1), key=lambda j: postings.count(rows[j]))
    cand = postings.decode(rows[k]) - k
    codes = piece.codes
    cand = cand[(cand >= 0) & (cand + size <= codes.size)]
    for j in range(size):
        if j in (k, k + 1) or cand.size == 0:
            continue
        cand = cand[codes[cand + j] == units[j]]
    return cand


HOT_KEY = 2000  # a fingerprint in more paragraphs of one piece than this is boilerplate there


def _spans_of(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """values[starts[k]:starts[k] + counts[k]] for every k, one after another, as int64."""
    return np.concatenate([values[a:a + c] for a, c in zip(starts.tolist(), counts.tolist())]).astype(np.int64)


class ExactStore:
    """One generation's paragraphs; ``i`` below is a paragraph's row. Shared by threads: the
    arrays are never written after opening, and the one cache is filled under a lock."""

    def __init__(self, parts: list[StorePart], reports: ReportTable, report_idx: np.ndarray,
                 ordinals: np.ndarray, lengths: np.ndarray, kinds: np.ndarray, blocks: np.ndarray, docbases: list[int],
                 rid_index: dict[str, int]):
        self.parts = parts
        self.bases = np.array([p.base for p in parts] + [sum(p.count for p in parts)], dtype=np.int64)
        self.reports = reports  # by report id
        self.report_idx = report_idx  # int32: into reports
        self.ordinals = ordinals
        self.lengths = lengths  # UTF-16 units of each folded text
        self.kinds = kinds
        self.blocks = blocks  # the source paragraph (model.Paragraph.block) within its report
        self._docbases = docbases
        self.rid_index = rid_index  # report id -> report number (open builds it once)
        # report r's rows are [report_first[r], report_end[r]); empty (0, 0) for a report without paragraphs
        self.report_first = np.zeros(len(reports), dtype=np.int64)
        self.report_end = np.zeros(len(reports), dtype=np.int64)
        # Source paragraphs numbered across the store (match.py): consecutive rows of one report
        # with one block number are chunks of one paragraph; block 0 is a paragraph of its own.
        self.groups = np.zeros(0, dtype=np.int32)
        self.group_count = 0
        if report_idx.size:
            new_report = np.concatenate(([True], report_idx[1:] != report_idx[:-1]))
            runs = np.flatnonzero(new_report)
            owners = report_idx[runs]
            self.report_first[owners] = runs
            self.report_end[owners] = np.append(runs[1:], report_idx.size)
            new = new_report | np.concatenate(([True], (blocks[1:] != blocks[:-1]) | (blocks[1:] == 0)))
            self.groups = (np.cumsum(new) - 1).astype(np.int32)
            self.group_count = int(self.groups[-1]) + 1
        self._sorted_by_report = bool(np.all(report_idx[1:] >= report_idx[:-1])) if report_idx.size else True
        self._lock = threading.Lock()
        self._folded_sections: dict[tuple[int, int], str] = {}

    @classmethod
    def open(cls, reader, folder: Path) -> "ExactStore":
        """The store of the paragraphs a Whoosh reader sees (its segments' pieces, less deleted
        documents). PieceMissing if a piece vanished meanwhile (a writer's cleanup)."""
        # An index with no segments yet (an empty corpus, a build killed before its first commit)
        # has one empty reader, whose segment() is None: an empty store.
        leaves = [(r, offset) for r, offset in reader.leaf_readers() if getattr(r, "segment", lambda: None)() is not None]
        found = []
        for segreader, offset in leaves:
            piece = piece_of(folder, segreader)
            if piece is None:
                continue
            segment = segreader.segment()
            deleted = np.fromiter(segment.deleted_docs(), dtype=np.int64) if segment.has_deletions() else None
            found.append((piece, offset, deleted))

        # Every piece's report columns end to end, then the live reports' places in id order
        # (whole columns at a time: at 100k reports a loop per report and column took 0.3 s).
        flat: dict[str, list] = {name: [] for name in REPORT_COLUMNS}
        owners: list[tuple[int, int]] = []
        live: list[int] = []
        for p, (piece, _, deleted) in enumerate(found):
            columns_of = piece.report_columns
            start = len(owners)
            for name in REPORT_COLUMNS:
                flat[name] += columns_of[name]
            owners += [(p, k) for k in range(len(columns_of["rid"]))]
            if deleted is None or not deleted.size:
                live += range(start, len(owners))
            else:
                dead = set(deleted.tolist())
                live += [start + k for k, d in enumerate(columns_of["docnum"]) if d not in dead]
        rids = flat["rid"]
        order = sorted(live, key=rids.__getitem__)
        columns = {name: _picked(values, order) for name, values in flat.items()}
        reports = ReportTable([piece for piece, _, _ in found], _picked(owners, order), columns)
        rid_to_idx = {rid: i for i, rid in enumerate(columns["rid"])}

        parts: list[StorePart] = []
        row_columns: dict[str, list[np.ndarray]] = {name: [] for name in ("report_idx", "ordinals", "lengths", "kinds",
                                                                          "blocks")}
        docbases = []
        base = 0
        for piece, offset, deleted in found:
            owner = np.array([rid_to_idx.get(rid, -1) for rid in piece.rid_table], dtype=np.int32)[piece.rid_ids] \
                if len(piece) else np.zeros(0, dtype=np.int32)
            # A paragraph whose report document is missing (or deleted) is left out.
            live = owner >= 0
            if deleted is not None and deleted.size:
                live &= ~np.isin(piece.docnums, deleted)
            if live.all():
                keep = slice(None)
                part = StorePart(piece, base, len(piece), None, None)
            else:
                keep = np.flatnonzero(live)
                global_of = np.full(len(piece), -1, dtype=np.int64)
                global_of[keep] = base + np.arange(keep.size)
                part = StorePart(piece, base, int(keep.size), global_of, keep)
            parts.append(part)
            docbases.append(offset)
            row_columns["report_idx"].append(owner[keep])
            for name in ("ordinals", "lengths", "kinds", "blocks"):
                row_columns[name].append(np.asarray(getattr(piece, name))[keep])
            base += part.count
        dtypes = {"report_idx": np.int32, "ordinals": np.int32, "lengths": np.int32, "kinds": np.int8,
                  "blocks": np.int32}
        joined = {name: np.concatenate(arrays).astype(dtypes[name], copy=False) if arrays else np.zeros(0, dtypes[name])
                  for name, arrays in row_columns.items()}
        return cls(parts, reports, docbases=docbases, rid_index=rid_to_idx, **joined)

    def __len__(self) -> int:
        return int(self.bases[-1])

    def part_of(self, i: int) -> StorePart:
        return self.parts[int(np.searchsorted(self.bases, i, "right")) - 1]

    def whoosh_docnums(self) -> np.ndarray:
        """The Whoosh document number of every row (for the ranker's field lengths)."""
        out = [np.asarray(p.piece.docnums, dtype=np.int64)[p.local_of if p.local_of is not None else slice(None)]
               + docbase for p, docbase in zip(self.parts, self._docbases)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def report_rows(self, r: int) -> tuple[int, int]:
        """[lo, hi): the rows of report r's paragraphs, in reading order."""
        return int(self.report_first[r]), int(self.report_end[r])

    def in_report_order(self, rows: np.ndarray) -> np.ndarray:
        """Rows ordered by report id, then reading order: the same for a merged index as for a
        fresh build of the same files, whichever segments hold them."""
        if rows.size < 2 or self._sorted_by_report:  # rows ascending are in report order already
            return rows
        return rows[np.argsort(self.report_idx[rows], kind="stable")]

    # -- matching -------------------------------------------------------------------------------
    def term_counts(self, folded_term: str) -> tuple[np.ndarray, np.ndarray]:
        """(ascending rows of the paragraphs containing an already folded term, occurrences in each)."""
        units = np.frombuffer(folded_term.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
        empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
        if units.size == 0 or SEPARATOR in units or 0 in units:
            return empty
        found = []  # every occurrence's row, ascending (parts come in row order)
        for part in self.parts:
            occ = piece_occurrences(part.piece, units)
            if occ.size == 0:
                continue
            local = part.piece.rows_at(occ)
            if part.global_of is None:
                found.append(local + part.base)
            else:
                rows = part.global_of[local]
                found.append(rows[rows >= 0])
        if not found:
            return empty
        rows = np.concatenate(found) if len(found) > 1 else found[0]
        first = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
        return rows[first].astype(np.int64, copy=False), np.diff(np.append(first, rows.size))

    def docs_containing(self, folded_term: str) -> np.ndarray:
        """Ascending rows of the paragraphs whose folded text contains the term."""
        return self.term_counts(folded_term)[0]

    # -- one paragraph --------------------------------------------------------------------------
    def _at(self, i: int) -> tuple[Piece, int]:
        part = self.part_of(i)
        return part.piece, part.local(i)

    def folded_text(self, i: int) -> str:
        piece, j = self._at(i)
        return piece.folded(j)

    def text(self, i: int) -> str:
        """The paragraph's original text."""
        piece, j = self._at(i)
        return piece.texts.text(j)

    def pid(self, i: int) -> str:
        piece, j = self._at(i)
        return piece.pids[j]

    def kind(self, i: int) -> str:
        return KIND_NAMES[int(self.kinds[i])]

    def section(self, i: int) -> list[str]:
        piece, j = self._at(i)
        return piece.section(int(piece.section_ids[j]))

    def folded_section(self, i: int) -> str:
        # Folded on demand, once per section: most sections are never asked for.
        part = self.part_of(i)
        sid = int(part.piece.section_ids[part.local(i)])
        key = (int(part.base), sid)
        value = self._folded_sections.get(key)
        if value is None:
            value = fold(" › ".join(part.piece.section(sid)))
            with self._lock:
                self._folded_sections[key] = value
        return value

    # -- text reuse ---------------------------------------------------------------------------
    def reuse_places(self, i: int) -> tuple[str, ...]:
        """The place names masked in paragraph i's fingerprints (its report's)."""
        r = int(self.report_idx[i])
        return place_names(*(self.reports.column(name)[r] for name in ("region", "city", "province")))

    def reuse_parts(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(keys, rows) of each piece with fingerprints: every fingerprint of its body paragraphs
        and the store row it is of (-1: a paragraph no longer live)."""
        for part in self.parts:
            if part.piece.reuse_keys is not None:
                yield part.piece.reuse_keys, part.rows_of(part.piece.reuse_rows.astype(np.int64))

    def reuse_fingerprint_count(self) -> int:
        return sum(int(part.piece.reuse_keys.size) for part in self.parts if part.piece.reuse_keys is not None)

    def reuse_complete(self) -> bool:
        """Whether every piece has fingerprints (not: pieces from before text reuse)."""
        return all(part.piece.reuse_keys is not None for part in self.parts)

    def _key_spans(self, keys: np.ndarray) -> list[tuple[StorePart, np.ndarray, np.ndarray]]:
        """(part, lo, n) of each piece with fingerprints: where each of ``keys`` (sorted) starts
        in its ``reuse_keys``, and how many rows have it."""
        out = []
        for part in self.parts:
            piece = part.piece
            if piece.reuse_keys is None:
                continue
            lo = np.searchsorted(piece.reuse_keys, keys, "left")
            out.append((part, lo, np.searchsorted(piece.reuse_keys, keys, "right") - lo))
        return out

    def reuse_matches(self, keys: np.ndarray, owners: np.ndarray, most: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(owners, rows, hot): for fingerprints ``keys`` (sorted) of texts ``owners``, each pair
        (owner, row) of a fingerprint's owner and a live paragraph that has it, once per
        fingerprint; and per key whether it is hot, in more than ``most`` paragraphs of the whole
        store (boilerplate), so that it finds no rows."""
        spans = self._key_spans(keys)
        hot = sum((n for _, _, n in spans), np.zeros(keys.size, dtype=np.int64)) > most
        found_owners, found_rows = [], []
        for part, lo, n in spans:
            take = (n > 0) & ~hot
            if not take.any():
                continue
            rows = part.rows_of(_spans_of(part.piece.reuse_rows, lo[take], n[take]))
            who = np.repeat(owners[take], n[take])
            live = rows >= 0
            found_owners.append(who[live])
            found_rows.append(rows[live])
        if not found_rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), hot
        return np.concatenate(found_owners).astype(np.int64), np.concatenate(found_rows), hot

    def reuse_candidates(self, i: int, least: int = 2) -> tuple[np.ndarray, np.ndarray, bool]:
        """(rows, shared): the body paragraphs of other reports that share at least ``least`` of
        paragraph i's fingerprints, most shared first, and how many each shares; and whether
        every piece has fingerprints (False: pieces from before text reuse, answering none). A
        fingerprint in more than HOT_KEY paragraphs of a piece (boilerplate) finds none there:
        it would cost more than it tells."""
        keys, _ = fingerprints([self.folded_text(i)], [self.reuse_places(i)], folded=True)
        found_rows, found_shared = [], []
        for part, lo, n in self._key_spans(keys):
            take = (n > 0) & (n <= HOT_KEY)
            if not take.any():
                continue
            # A row is in one piece and has each fingerprint once: a count per row of the piece.
            counts = np.bincount(_spans_of(part.piece.reuse_rows, lo[take], n[take]), minlength=len(part.piece))
            local = np.flatnonzero(counts >= least)
            rows = part.rows_of(local)
            live = rows >= 0
            found_rows.append(rows[live])
            found_shared.append(counts[local[live]])
        complete = self.reuse_complete()
        if not found_rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), complete
        rows, shared = np.concatenate(found_rows), np.concatenate(found_shared)
        keep = self.report_idx[rows] != self.report_idx[i]
        rows, shared = rows[keep], shared[keep]
        order = np.lexsort((rows, -shared))
        return rows[order], shared[order], complete

    def row_of(self, pid: str) -> int | None:
        """The row of a paragraph id, None if no live paragraph has it: looked for among its
        report's rows (no index of every id is held)."""
        r = self.rid_index.get(rid_of(pid))
        if r is None:
            return None
        lo, hi = self.report_rows(r)
        for i in range(lo, hi):
            if self.pid(i) == pid:
                return i
        return None
