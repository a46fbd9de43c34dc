"""A segment's piece: the paragraphs of one Whoosh segment as the engine shows and matches them.

Whoosh keeps what ranking needs (postings of words, field lengths) and the stored fields of report
and retired documents. A paragraph's id, section, original text (shown in hits) and folded text
(matched by the exact store) are kept here instead, in one file per segment, written by whoever
writes the segment (an index worker, a merge) and named after it, so that it lives and dies with
the segment: Whoosh deletes it with the segment's other files.

Why not Whoosh's stored fields: Whoosh compresses them one document at a time, and a paragraph of
a few hundred characters hardly compresses alone. At 10,000 reports they took 271 MB, as much as
the corpus. Here the original texts are compressed in blocks of TEXT_BLOCK paragraphs against a
preset dictionary sampled from the segment's own texts (zlib's ``zdict``): small blocks then pack
about as well as one long stream, while showing a hit still decompresses only a few kilobytes.
The folded texts are one zlib stream, since the engine reads them all when it opens.
"""
from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from indexer.store.layout import IndexDamaged, damaged

PIECE_EXT = ".paragraphs.npz"
SEPARATOR = 0x000A  # between folded texts: folding never leaves a newline inside a paragraph
KIND_CODES = {"heading": 0, "body": 1}
KIND_NAMES = {v: k for k, v in KIND_CODES.items()}
TEXT_BLOCK = 16  # paragraphs per compressed block of original text
DICTIONARY_BYTES = 32 * 1024  # zlib looks back at most 32 KB, so a larger dictionary is unused
TEXT_LEVEL = 3  # measured: level 6 is 6% smaller and half as fast
CODES_LEVEL = 6


class TextBlocks:
    """Original paragraph texts, compressed in blocks against a shared dictionary; ``text(j)``."""

    def __init__(self, dictionary: bytes, blob: bytes, block_ends: np.ndarray, sizes: np.ndarray):
        self.dictionary = dictionary
        self.blob = blob
        self.block_ends = block_ends
        self.offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        self._last: tuple[int, bytes] = (-1, b"")  # reading a report's paragraphs in order hits one block

    @classmethod
    def pack(cls, texts: list[str]) -> "TextBlocks":
        encoded = [t.encode("utf-8") for t in texts]
        dictionary = _sample_dictionary(encoded)
        primed = zlib.compressobj(TEXT_LEVEL, zdict=dictionary) if dictionary else zlib.compressobj(TEXT_LEVEL)
        blocks = []
        for i in range(0, len(encoded), TEXT_BLOCK):
            c = primed.copy()  # the dictionary is hashed once, not once a block
            blocks.append(c.compress(b"".join(encoded[i:i + TEXT_BLOCK])) + c.flush())
        sizes = np.array([len(e) for e in encoded], dtype=np.int64)
        block_ends = np.cumsum([len(b) for b in blocks], dtype=np.int64)
        return cls(dictionary, b"".join(blocks), block_ends, sizes)

    def __len__(self) -> int:
        return self.offsets.size - 1

    def text(self, j: int) -> str:
        b = j // TEXT_BLOCK
        last = self._last
        if last[0] == b:
            raw = last[1]
        else:
            start = int(self.block_ends[b - 1]) if b else 0
            d = zlib.decompressobj(zdict=self.dictionary) if self.dictionary else zlib.decompressobj()
            raw = d.decompress(self.blob[start:int(self.block_ends[b])])
            self._last = (b, raw)  # one tuple swap: safe when threads share the store
        base = int(self.offsets[b * TEXT_BLOCK])
        return raw[int(self.offsets[j]) - base:int(self.offsets[j + 1]) - base].decode("utf-8")


def _sample_dictionary(encoded: list[bytes]) -> bytes:
    """Whole paragraphs taken evenly from the segment, up to DICTIONARY_BYTES (a quarter of the
    text for small segments, whose dictionary would otherwise outweigh what it saves)."""
    total = sum(len(e) for e in encoded)
    size = min(DICTIONARY_BYTES, total // 4)
    if size < 256:
        return b""
    picked = b"".join(encoded[::max(1, total // size)])
    return picked[-size:]


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


@dataclass
class Piece:
    docnums: np.ndarray  # int32, within the segment, ascending
    rid_table: list[str]
    rid_ids: np.ndarray  # int32, into rid_table
    pids: list[str]
    ordinals: np.ndarray  # int32
    kinds: np.ndarray  # int8, KIND_CODES
    section_table: list[list[str]]
    section_ids: np.ndarray  # int32, into section_table
    lengths: np.ndarray  # int32, UTF-16 units of each folded text
    codes: np.ndarray  # uint16: the folded texts, each followed by SEPARATOR
    unit_freq: np.ndarray  # int64 [65536]: occurrences of each code unit in the folded texts
    texts: TextBlocks
    reports: list[tuple[int, dict]]  # (docnum within the segment, exact.ReportRow fields)

    def __len__(self) -> int:
        return len(self.pids)

    @cached_property
    def starts(self) -> np.ndarray:
        """Offset in ``codes`` of each folded text."""
        return np.concatenate(([0], np.cumsum(self.lengths.astype(np.int64) + 1)))[:len(self)]

    def row(self, j: int) -> PieceRow:
        start = int(self.starts[j])
        folded = self.codes[start:start + int(self.lengths[j])].tobytes().decode("utf-16-le")
        return PieceRow(int(self.docnums[j]), self.pids[j], self.rid_table[int(self.rid_ids[j])],
                        KIND_NAMES[int(self.kinds[j])], int(self.ordinals[j]),
                        list(self.section_table[int(self.section_ids[j])]), self.texts.text(j), folded)

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
        self.kinds: list[int] = []
        self.sections: dict[tuple, int] = {}
        self.section_ids: list[int] = []
        self.texts: list[str] = []
        self.folded: list[str] = []
        self.reports: list[tuple[int, dict]] = []

    def add_paragraph(self, docnum: int, pid: str, rid: str, kind: str, ordinal: int, section: list[str],
                      text: str, folded: str) -> None:
        self.docnums.append(docnum)
        self.rid_ids.append(self.rid_table.setdefault(rid, len(self.rid_table)))
        self.pids.append(pid)
        self.ordinals.append(ordinal)
        self.kinds.append(KIND_CODES[kind])
        self.section_ids.append(self.sections.setdefault(tuple(section), len(self.sections)))
        self.texts.append(text)
        self.folded.append(folded.replace("\n", " "))

    def add_report(self, docnum: int, row: dict) -> None:
        self.reports.append((docnum, row))

    def __len__(self) -> int:
        return len(self.pids)

    def save(self, path: Path) -> None:
        joined = "".join(t + "\n" for t in self.folded).encode("utf-16-le")
        codes = np.frombuffer(joined, dtype=np.uint16)
        ends = np.flatnonzero(codes == SEPARATOR)
        lengths = (ends - np.concatenate(([0], ends + 1))[:ends.size]).astype(np.int32)  # in UTF-16 units
        unit_freq = np.bincount(codes, minlength=65536).astype(np.int64)
        unit_freq[SEPARATOR] -= ends.size  # the separators are the store's, not the texts'
        texts = TextBlocks.pack(self.texts)
        strings = json.dumps({"rid_table": list(self.rid_table), "section_table": [list(s) for s in self.sections],
                              "reports": self.reports}, ensure_ascii=False).encode("utf-8", "surrogatepass")
        # Ids as one NUL-separated string (no path holds a NUL): split far faster than JSON parses.
        pids = "\0".join(self.pids).encode("utf-8")
        members = {
            "docnums": (np.array(self.docnums, dtype=np.int32), True),
            "rid_ids": (np.array(self.rid_ids, dtype=np.int32), True),
            "unit_freq": (unit_freq, True),
            "ordinals": (np.array(self.ordinals, dtype=np.int32), True),
            "kinds": (np.array(self.kinds, dtype=np.int8), True),
            "section_ids": (np.array(self.section_ids, dtype=np.int32), True),
            "lengths": (lengths, True),
            "text_sizes": (np.diff(texts.offsets).astype(np.int32), True),
            "codes_z": (_bytes_array(zlib.compress(joined, CODES_LEVEL)), False),
            "strings_z": (_bytes_array(zlib.compress(strings, CODES_LEVEL)), False),
            "pids_z": (_bytes_array(zlib.compress(pids, CODES_LEVEL)), False),
            "text_dictionary": (_bytes_array(texts.dictionary), True),
            "text_blob": (_bytes_array(texts.blob), False),
            "text_block_ends": (texts.block_ends, True),
        }
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w") as z:
            for name, (array, deflate) in members.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, array, allow_pickle=False)
                z.writestr(name + ".npy", buf.getvalue(),
                           compress_type=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)
        tmp.replace(path)


def _bytes_array(b: bytes) -> np.ndarray:
    return np.frombuffer(b, dtype=np.uint8)


class PieceMissing(Exception):
    """A segment's piece vanished while it was being opened: a writer committed and cleaned up."""


def read_piece(path: Path) -> Piece:
    try:
        return _read_piece(path)
    except FileNotFoundError as exc:
        raise PieceMissing(str(path)) from exc
    except Exception as exc:  # truncated, overwritten, or not a piece at all
        raise damaged(path.parent, f"{path.name}: {type(exc).__name__}: {exc}") from exc


def _read_piece(path: Path) -> Piece:
    with np.load(path, allow_pickle=False) as z:
        # surrogatepass: a report's path may hold the surrogate escapes of a file name that is not
        # UTF-8 (os.fsdecode), kept so that its source file can still be opened.
        strings = json.loads(zlib.decompress(z["strings_z"].tobytes()).decode("utf-8", "surrogatepass"))
        pids = zlib.decompress(z["pids_z"].tobytes()).decode("utf-8")
        codes = np.frombuffer(zlib.decompress(z["codes_z"].tobytes()), dtype=np.uint16)
        texts = TextBlocks(z["text_dictionary"].tobytes(), z["text_blob"].tobytes(), z["text_block_ends"],
                           z["text_sizes"])
        return Piece(z["docnums"], strings["rid_table"], z["rid_ids"], pids.split("\0") if pids else [],
                     z["ordinals"], z["kinds"], strings["section_table"], z["section_ids"], z["lengths"], codes,
                     z["unit_freq"], texts, [tuple(r) for r in strings["reports"]])


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
