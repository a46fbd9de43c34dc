"""A segment's piece: the paragraphs of one Whoosh segment as the engine matches and shows them.

Whoosh keeps what ranking needs (postings of words, field lengths) and the stored fields of report
and retired documents. A paragraph's id, section, original text (shown in hits), folded text and
the pair postings that find a term in it (postings.py) are kept here instead, in one file per
segment, written by whoever writes the segment (an index worker, a merge) and named after it, so
that it lives and dies with the segment: Whoosh deletes it with the segment's other files.

The file is one of memory-mapped arrays (mapped.py): an engine that opens it reads its header (the
segment's report rows and tables), and what a query touches of the rest comes through the page
cache. Nothing is decompressed or sorted when an engine opens:
- the folded texts are raw UTF-16 code units (``codes``): a term's candidates, taken from its
  rarest pair's postings, are confirmed by reading its other units there (measured on the 10k
  benchmark corpus, 4–7x faster than confirming them from the postings of its other pairs, for
  2 more bytes a unit; bench/README.md has the trade-off);
- the original texts are compressed in blocks of TEXT_BLOCK paragraphs against a preset dictionary
  sampled from the segment's own texts (zlib's ``zdict``): small blocks then pack about as well as
  one long stream, while showing a hit decompresses a few kilobytes;
- ids and section paths are UTF-8 blobs with their end offsets, decoded one at a time.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.normalise import fold, fold_docno
from indexer.reuse.keys import fingerprints, place_names
from indexer.store.layout import IndexDamaged, damaged
from indexer.store.mapped import MappedArrays, MappedFileError, write_arrays
from indexer.store.postings import SEPARATOR, PairPostings, build_postings

PIECE_EXT = ".piece"
KIND_CODES = {"heading": 0, "body": 1}
KIND_NAMES = {v: k for k, v in KIND_CODES.items()}
TEXT_BLOCK = 16  # paragraphs per compressed block of original text
DICTIONARY_BYTES = 32 * 1024  # zlib looks back at most 32 KB, so a larger dictionary is unused
TEXT_LEVEL = 3  # measured: level 6 is 6% smaller and half as fast


class TextBlocks:
    """Original paragraph texts, compressed in blocks against a shared dictionary; ``text(j)``."""

    def __init__(self, dictionary: bytes, blob, block_ends: np.ndarray, ends: np.ndarray):
        self.dictionary = dictionary
        self.blob = blob  # bytes-like (a mapped uint8 array)
        self.block_ends = block_ends
        self.ends = ends  # end offset of each text in its block-concatenated form
        self._last: tuple[int, bytes] = (-1, b"")  # reading a report's paragraphs in order hits one block

    @classmethod
    def pack(cls, texts: list[str]) -> "TextBlocks":
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        dictionary = _sample_dictionary(encoded)
        primed = zlib.compressobj(TEXT_LEVEL, zdict=dictionary) if dictionary else zlib.compressobj(TEXT_LEVEL)
        blocks = []
        for i in range(0, len(encoded), TEXT_BLOCK):
            c = primed.copy()  # the dictionary is hashed once, not once a block
            blocks.append(c.compress(b"".join(encoded[i:i + TEXT_BLOCK])) + c.flush())
        ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
        block_ends = np.cumsum([len(b) for b in blocks], dtype=np.int64)
        return cls(dictionary, b"".join(blocks), block_ends, ends)

    def __len__(self) -> int:
        return int(self.ends.size)

    def offset(self, j: int) -> int:
        return int(self.ends[j - 1]) if j else 0

    def text(self, j: int) -> str:
        b = j // TEXT_BLOCK
        base = self.offset(b * TEXT_BLOCK)
        end = int(self.ends[j]) - base
        last = self._last
        if last[0] == b and len(last[1]) >= end:
            raw = last[1]
        else:
            # Only as far into the block as this paragraph ends: half a block on average, where
            # hits come one to a block (a page of ranked hits, an export).
            start = int(self.block_ends[b - 1]) if b else 0
            d = zlib.decompressobj(zdict=self.dictionary) if self.dictionary else zlib.decompressobj()
            raw = d.decompress(self.blob[start:int(self.block_ends[b])], end)
            self._last = (b, raw)  # one tuple swap: safe when threads share the store
        return raw[self.offset(j) - base:end].decode("utf-8", "surrogatepass")


def _sample_dictionary(encoded: list[bytes]) -> bytes:
    """Whole paragraphs taken evenly from the segment, up to DICTIONARY_BYTES (a quarter of the
    text for small segments, whose dictionary would otherwise outweigh what it saves)."""
    total = sum(len(e) for e in encoded)
    size = min(DICTIONARY_BYTES, total // 4)
    if size < 256:
        return b""
    picked = b"".join(encoded[::max(1, total // size)])
    return picked[-size:]


class StringColumn:
    """Strings stored as one UTF-8 blob and their end offsets; ``[j]`` decodes one."""

    def __init__(self, blob, ends: np.ndarray):
        self.blob = blob
        self.ends = ends

    @staticmethod
    def pack(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
        encoded = [s.encode("utf-8", "surrogatepass") for s in strings]
        return (np.frombuffer(b"".join(encoded), dtype=np.uint8),
                np.cumsum([len(e) for e in encoded], dtype=np.int64))

    def __len__(self) -> int:
        return int(self.ends.size)

    def __getitem__(self, j: int) -> str:
        start = int(self.ends[j - 1]) if j else 0
        return bytes(self.blob[start:int(self.ends[j])]).decode("utf-8", "surrogatepass")


def title_folded(meta: dict) -> str:
    """A report's title as filters and ranking compare it."""
    return fold(meta.get("title", ""))


def place_of(meta: dict) -> str:
    """A report's place written out, province first (青海省海东市互助土族自治县; 北京市朝阳区):
    what a researcher writes to tell two counties of one name apart."""
    parts: list[str] = []
    for name in (meta.get("province", ""), meta.get("city", ""), meta.get("region", "")):
        if name and name not in parts:
            parts.append(name)
    return "".join(parts)


def report_columns_of(meta: dict) -> dict:
    """What the report filters compare, folded once when the report is written, not whenever an
    engine opens (``search.reports.ReportColumns``)."""
    return {
        "region_text": fold(" ".join([meta.get("region", ""), meta.get("city", ""), meta.get("province", "")])),
        "type": fold(meta.get("doc_type", "")),
        "title": title_folded(meta),
        "docno": fold_docno(meta.get("doc_number", "")),
        "issuer_text": fold(ISSUER_SEPARATOR.join(meta.get("issuers") or ())),
    }


# A report's issuers (发文机关) in one column's string; no issuer's name holds it.
ISSUER_SEPARATOR = "|"
REPORT_COLUMNS = ("docnum", "rid", "year", "date", "region", "doc_type", "region_text", "type", "docno",
                  "title", "issuers", "issuer_text", "place", "city", "province")


def report_table_columns(reports: list[tuple[int, dict]]) -> dict[str, list]:
    """What an engine reads of every report when it opens, a list per column (REPORT_COLUMNS)."""
    out: dict[str, list] = {name: [] for name in REPORT_COLUMNS}
    for docnum, row in reports:
        meta = row.get("meta") or {}
        folded = report_columns_of(meta)
        values = {"docnum": docnum, "rid": row["rid"], "year": meta.get("year") or 0, "date": meta.get("date") or "",
                  "region": meta.get("region", ""), "doc_type": meta.get("doc_type", ""),
                  "issuers": ISSUER_SEPARATOR.join(meta.get("issuers") or ()), "place": place_of(meta),
                  "city": meta.get("city", ""), "province": meta.get("province", ""), **folded}
        for name in REPORT_COLUMNS:
            out[name].append(values[name])
    return out


@dataclass
class PieceRow:
    """One paragraph as its piece holds it (for retiring an old version, or merging segments)."""

    docnum: int
    pid: str
    rid: str
    kind: str
    ordinal: int
    section: list[str]
    text: str
    folded: str
    block: int = 0  # the source paragraph (within its report) this chunk is part of


class Piece:
    """One segment's piece, read from its memory-mapped file; immutable, shared by threads."""

    def __init__(self, arrays: MappedArrays):
        self.file = arrays
        meta = arrays.meta
        self.rid_table: list[str] = meta["rid_table"]
        # The segment's reports: the columns an engine needs for every report (ids, years, dates,
        # facet labels, folded filter columns) as plain lists in the header, which parse fast; a
        # report's full row (metadata, paths, hash) is decoded when asked for (``report_row``).
        self.report_columns: dict[str, list] = meta["report_columns"]
        self.report_rows = StringColumn(arrays["report_row_blob"], arrays["report_row_ends"])
        if any(name not in self.report_columns for name in REPORT_COLUMNS):
            # A piece written before a column was added: its rows have what the column holds.
            self.report_columns = report_table_columns(self.reports)
        self.docnums = arrays["docnums"]  # int32, within the segment, ascending
        self.rid_ids = arrays["rid_ids"]  # int32, into rid_table
        self.ordinals = arrays["ordinals"]
        self.blocks = arrays["blocks"]
        self.kinds = arrays["kinds"]  # int8, KIND_CODES
        self.section_ids = arrays["section_ids"]  # into sections
        self.lengths = arrays["lengths"]  # UTF-16 units of each folded text
        self.starts = arrays["starts"]  # offset of each folded text in codes
        self.codes = arrays["codes"]  # uint16: the folded texts, each followed by SEPARATOR
        self.separator_bits = arrays["separator_bits"]  # uint64 per 64 units: which are separators
        self.separators_before = arrays["separators_before"]  # int32 per 64 units: separators before them
        self.postings = PairPostings(arrays)
        self.pids = StringColumn(arrays["pid_blob"], arrays["pid_ends"])
        self.sections = StringColumn(arrays["section_blob"], arrays["section_ends"])  # JSON lists
        self.texts = TextBlocks(arrays["text_dictionary"].tobytes(), arrays["text_blob"], arrays["text_block_ends"],
                                arrays["text_ends"])
        # The fingerprints of its body paragraphs (sorted) and their rows, for text reuse; None
        # in a piece written before them (its index answers no relatives until it is rebuilt).
        self.reuse_keys = arrays["reuse_keys"] if "reuse_keys" in arrays else None
        self.reuse_rows = arrays["reuse_rows"] if "reuse_rows" in arrays else None

    def __len__(self) -> int:
        return int(self.docnums.size)

    def report_row(self, k: int) -> dict:
        """The k-th report of the segment as ``add_report`` was given it (exact.ReportRow's fields)."""
        return json.loads(self.report_rows[k])

    @property
    def reports(self) -> list[tuple[int, dict]]:
        """(docnum, row) of every report of the segment (decodes them all)."""
        return [(d, self.report_row(k)) for k, d in enumerate(self.report_columns["docnum"])]

    def folded(self, j: int) -> str:
        start = int(self.starts[j])
        return self.codes[start:start + int(self.lengths[j])].tobytes().decode("utf-16-le", "surrogatepass")

    def rows_at(self, positions: np.ndarray) -> np.ndarray:
        """The row of each offset into ``codes``: the separators before it, counted from the
        block's running count and the block's bitmap (a few vectorised steps, where a binary
        search of ``starts`` took 4x as long per offset)."""
        block = positions >> 6
        below = np.left_shift(np.uint64(1), (positions & 63).astype(np.uint64)) - np.uint64(1)
        return self.separators_before[block].astype(np.int64) + np.bitwise_count(self.separator_bits[block] & below)

    def section(self, sid: int) -> list[str]:
        return json.loads(self.sections[sid])

    def row(self, j: int) -> PieceRow:
        return PieceRow(int(self.docnums[j]), self.pids[j], self.rid_table[int(self.rid_ids[j])],
                        KIND_NAMES[int(self.kinds[j])], int(self.ordinals[j]),
                        self.section(int(self.section_ids[j])), self.texts.text(j), self.folded(j),
                        int(self.blocks[j]))

    def rows(self) -> list[PieceRow]:
        return [self.row(j) for j in range(len(self))]


class PieceBuilder:
    """Gathers a segment's paragraphs while the segment is written (see segments.SegmentWithPiece)."""

    def __init__(self):
        self.docnums: list[int] = []
        self.rid_table: dict[str, int] = {}
        self.rid_ids: list[int] = []
        self.pids: list[str] = []
        self.ordinals: list[int] = []
        self.blocks: list[int] = []
        self.kinds: list[int] = []
        self.sections: dict[tuple, int] = {}
        self.section_ids: list[int] = []
        self.texts: list[str] = []
        self.folded: list[str] = []
        self.reports: list[tuple[int, dict]] = []

    def add_paragraph(self, docnum: int, pid: str, rid: str, kind: str, ordinal: int, section: list[str],
                      text: str, folded: str, block: int = 0) -> None:
        self.docnums.append(docnum)
        self.rid_ids.append(self.rid_table.setdefault(rid, len(self.rid_table)))
        self.pids.append(pid)
        self.ordinals.append(ordinal)
        self.blocks.append(block)
        self.kinds.append(KIND_CODES[kind])
        self.section_ids.append(self.sections.setdefault(tuple(section), len(self.sections)))
        self.texts.append(text)
        self.folded.append(folded.replace("\n", " "))  # the one unit that separates folded texts

    def add_report(self, docnum: int, row: dict) -> None:
        self.reports.append((docnum, row))

    def __len__(self) -> int:
        return len(self.pids)

    def save(self, path: Path) -> None:
        joined = "".join(t + "\n" for t in self.folded).encode("utf-16-le", "surrogatepass")
        codes = np.frombuffer(joined, dtype=np.uint16)
        lengths = np.array([len(t.encode("utf-16-le", "surrogatepass")) // 2 for t in self.folded], dtype=np.int32)
        starts = np.concatenate(([0], np.cumsum(lengths.astype(np.int64) + 1)))[:lengths.size]
        texts = TextBlocks.pack(self.texts)
        pid_blob, pid_ends = StringColumn.pack(self.pids)
        section_blob, section_ends = StringColumn.pack([json.dumps(list(s), ensure_ascii=False) for s in self.sections])
        row_blob, row_ends = StringColumn.pack([json.dumps(row, ensure_ascii=False) for _, row in self.reports])
        arrays = {
            "docnums": np.array(self.docnums, dtype=np.int32),
            "rid_ids": np.array(self.rid_ids, dtype=np.int32),
            "ordinals": np.array(self.ordinals, dtype=np.int32),
            "blocks": np.array(self.blocks, dtype=np.int32),
            "kinds": np.array(self.kinds, dtype=np.int8),
            "section_ids": np.array(self.section_ids, dtype=np.int32),
            "lengths": lengths,
            "starts": starts.astype(np.int64),
            "codes": codes,
            **_separator_rank(codes),
            **build_postings(codes),
            "pid_blob": pid_blob, "pid_ends": pid_ends,
            "section_blob": section_blob, "section_ends": section_ends,
            "text_dictionary": np.frombuffer(texts.dictionary, dtype=np.uint8),
            "text_blob": np.frombuffer(texts.blob, dtype=np.uint8),
            "text_block_ends": texts.block_ends,
            "text_ends": texts.ends,
            "report_row_blob": row_blob, "report_row_ends": row_ends,
            **self._reuse_keys(),
        }
        write_arrays(path, arrays, {"rid_table": list(self.rid_table),
                                    "report_columns": report_table_columns(self.reports)})


    def _reuse_keys(self) -> dict[str, np.ndarray]:
        """The fingerprints of the body paragraphs (reuse.keys), sorted: ``reuse_keys`` and the
        row of each, ``reuse_rows``; a report's own place names masked."""
        places_of: dict[str, tuple[str, ...]] = {}
        for _, row in self.reports:
            meta = row.get("meta") or {}
            places_of[row["rid"]] = place_names(meta.get("region", ""), meta.get("city", ""), meta.get("province", ""))
        rids = list(self.rid_table)
        body = [j for j, kind in enumerate(self.kinds) if kind == KIND_CODES["body"]]
        keys, owners = fingerprints([self.folded[j] for j in body],
                                    [places_of.get(rids[self.rid_ids[j]], ()) for j in body], folded=True)
        return {"reuse_keys": keys, "reuse_rows": np.array(body, dtype=np.int32)[owners] if body else owners}


def _separator_rank(codes: np.ndarray) -> dict[str, np.ndarray]:
    """Per block of 64 code units, a bitmap of its separators and how many separators precede
    it: the row of an offset is a lookup and a popcount (``Piece.rows_at``)."""
    padded = np.zeros(-(-codes.size // 64) * 64, dtype=bool)
    padded[:codes.size] = codes == SEPARATOR
    bits = np.packbits(padded.reshape(-1, 64), axis=1, bitorder="little").view("<u8").reshape(-1)
    counts = np.bitwise_count(bits).astype(np.int64)
    before = np.concatenate(([0], np.cumsum(counts)))[:-1]
    return {"separator_bits": bits.astype(np.uint64), "separators_before": before.astype(np.int32)}


class PieceMissing(Exception):
    """A segment's piece vanished while it was being opened: a writer committed and cleaned up."""


def read_piece(path: Path) -> Piece:
    try:
        return Piece(MappedArrays(path))
    except FileNotFoundError as exc:
        raise PieceMissing(str(path)) from exc
    except (MappedFileError, KeyError, ValueError, TypeError, OSError) as exc:  # truncated, overwritten, not a piece
        raise damaged(path.parent, f"{path.name}: {type(exc).__name__}: {exc}") from exc


def piece_path(folder: Path, segment) -> Path:
    return Path(folder) / (segment.segment_id() + PIECE_EXT)


def piece_of(folder: Path, segreader) -> Piece | None:
    """The piece of a Whoosh segment reader's segment; None for a segment without paragraphs (one
    of retired paragraphs only, which Whoosh stores itself). PieceMissing if it should have one."""
    path = piece_path(folder, segreader.segment())
    if not path.exists():
        if any(segreader.doc_frequency("kind", k) for k in KIND_CODES):
            raise PieceMissing(str(path))
        return None
    return read_piece(path)


def locked_piece_of(folder: Path, segreader) -> Piece | None:
    """piece_of, for a writer: it holds the lock, so a missing piece is no race but damage."""
    try:
        return piece_of(folder, segreader)
    except PieceMissing as exc:
        raise missing_piece_damage(exc) from exc


def missing_piece_damage(exc: PieceMissing) -> IndexDamaged:
    path = Path(str(exc))
    return damaged(path.parent, f"{path.name} is missing")


__all__ = ["SEPARATOR", "PIECE_EXT", "KIND_CODES", "KIND_NAMES", "TEXT_BLOCK", "TextBlocks", "StringColumn", "Piece",
           "PieceRow", "PieceBuilder", "PieceMissing", "read_piece", "piece_path", "piece_of", "locked_piece_of",
           "missing_piece_damage", "report_columns_of"]
