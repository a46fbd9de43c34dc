"""Positional pair postings: every position of a segment's folded text, listed under the pair of
code units that starts there.

The folded texts of a segment are UTF-16 code units end to end, each paragraph followed by
SEPARATOR (which folding never leaves inside a paragraph and a query never holds). Every position
of a unit (not a separator) is listed once, under the key ``unit << 16 | next unit``; a list is
ascending. A term's candidates are the list of its rarest pair (exact.piece_occurrences confirms
them in the folded codes: measured 4–10x faster than intersecting the lists of pairs spanning the
term, bench/README.md); a term of one unit is the union of the lists whose key starts with it.

A list is stored in whichever of three forms is smallest (measured on the 10k benchmark corpus:
1.94 bytes a position, against 1.98 for delta varints, which decode ten times slower in numpy):
    raw: the positions as uint32 (rare pairs, whose gaps are wide);
    8 / 16: Elias–Fano split at that bit: the low bits as uint8 / uint16, the high bits in unary
        (the i-th position sets bit ``(p >> l) + i`` of a byte-aligned bitmap), so that decoding is
        ``unpackbits``, ``flatnonzero`` and a shift: a few nanoseconds a position.
The directory (one row per distinct pair: key, form, count, where its parts start) is searched with
``searchsorted``; everything is read from memory-mapped arrays (mapped.py), so a query touches only
the lists of its own pairs.
"""
from __future__ import annotations

import numpy as np

SEPARATOR = 0x000A
RAW, LOW8, LOW16 = 0, 1, 2
_LOW_BITS = {LOW8: 8, LOW16: 16}
_LOW_DTYPE = {RAW: np.uint32, LOW8: np.uint8, LOW16: np.uint16}
_BLOB = {RAW: "pair_raw", LOW8: "pair_low8", LOW16: "pair_low16"}

def build_postings(codes: np.ndarray) -> dict[str, np.ndarray]:
    """The pair postings of ``codes`` (uint16, every paragraph followed by SEPARATOR), as the
    arrays ``PairPostings`` reads."""
    codes = np.asarray(codes, dtype=np.uint16)
    if codes.size and codes[-1] != SEPARATOR:
        raise ValueError("the folded texts must end with a separator")
    pos = np.flatnonzero(codes != SEPARATOR)
    if pos.size >= 2**32:
        raise ValueError("a segment's folded text must hold fewer than 2**32 units")
    first, second = codes[pos], codes[pos + 1]
    # Two stable 16-bit sorts (numpy sorts them by radix): by the following unit, then by the unit.
    order = np.argsort(second, kind="stable")
    order = order[np.argsort(first[order], kind="stable")]
    keys_all = (first[order].astype(np.uint32) << 16) | second[order]
    positions = pos[order].astype(np.int64)
    del first, second, order, pos
    if positions.size == 0:
        return _empty()
    starts = np.flatnonzero(np.concatenate(([True], keys_all[1:] != keys_all[:-1])))
    keys = keys_all[starts]
    ends = np.append(starts[1:], positions.size)
    counts = ends - starts
    last = positions[ends - 1]
    n = counts.astype(np.int64)
    cost = np.stack([32 * n,  # bits of each form
                     8 * n + 8 * (-(-((last >> 8) + 1 + n) // 8)),
                     16 * n + 8 * (-(-((last >> 16) + 1 + n) // 8))])
    forms = np.argmin(cost, axis=0).astype(np.uint8)
    list_of = np.repeat(np.arange(keys.size), counts)  # the list of every position
    index_in_list = np.arange(positions.size) - np.repeat(starts, counts)
    low_start = np.zeros(keys.size, dtype=np.uint32)
    high_start = np.zeros(keys.size, dtype=np.uint32)
    high_bytes = np.zeros(keys.size, dtype=np.uint32)
    blobs = {}
    split_forms = []  # (form, its lists, its positions, low bits)
    for form, dtype in _LOW_DTYPE.items():
        chosen = forms == form
        in_form = chosen[list_of]
        low_start[chosen] = np.concatenate(([0], np.cumsum(counts[chosen])))[:-1]
        if form == RAW:
            blobs[_BLOB[form]] = positions[in_form].astype(np.uint32)
            continue
        bits = _LOW_BITS[form]
        blobs[_BLOB[form]] = (positions[in_form] & ((1 << bits) - 1)).astype(dtype)
        nbytes = -(-((last[chosen] >> bits) + 1 + n[chosen]) // 8)
        high_bytes[chosen] = nbytes
        high_start[chosen] = np.concatenate(([0], np.cumsum(nbytes)))[:-1]
        split_forms.append((form, chosen, in_form, bits))
    total_high = int(high_bytes.sum())
    if total_high >= 2**32:
        raise ValueError("a segment's pair postings are too large")
    # Every non-raw form gets its own region of one bitmap: offsets shift by what came before.
    bitmap = np.zeros(total_high * 8, dtype=bool)
    base = 0
    for form, chosen, in_form, bits in split_forms:
        high_start[chosen] += base
        base += int(high_bytes[chosen].sum())
        lists = list_of[in_form]
        bit = high_start[lists].astype(np.int64) * 8 + (positions[in_form] >> bits) + index_in_list[in_form]
        bitmap[bit] = True
    return {"pair_keys": keys, "pair_forms": forms, "pair_counts": counts.astype(np.uint32),
            "pair_low_start": low_start, "pair_high_start": high_start, "pair_high_bytes": high_bytes,
            **blobs, "pair_high": np.packbits(bitmap)}


def _empty() -> dict[str, np.ndarray]:
    return {"pair_keys": np.zeros(0, np.uint32), "pair_forms": np.zeros(0, np.uint8),
            "pair_counts": np.zeros(0, np.uint32), "pair_low_start": np.zeros(0, np.uint32),
            "pair_high_start": np.zeros(0, np.uint32), "pair_high_bytes": np.zeros(0, np.uint32),
            "pair_raw": np.zeros(0, np.uint32), "pair_low8": np.zeros(0, np.uint8),
            "pair_low16": np.zeros(0, np.uint16), "pair_high": np.zeros(0, np.uint8)}


class PairPostings:
    """Reads the arrays ``build_postings`` made (typically memory-mapped); immutable, so threads
    share it freely."""

    def __init__(self, arrays):
        self.keys = arrays["pair_keys"]
        self.forms = arrays["pair_forms"]
        self.counts = arrays["pair_counts"]
        self.low_start = arrays["pair_low_start"]
        self.high_start = arrays["pair_high_start"]
        self.high_bytes = arrays["pair_high_bytes"]
        self.blobs = {form: arrays[name] for form, name in _BLOB.items()}
        self.high = arrays["pair_high"]

    def find(self, key: int) -> int:
        """The directory row of a pair key, or -1."""
        k = int(np.searchsorted(self.keys, np.uint32(key)))
        return k if k < self.keys.size and int(self.keys[k]) == key else -1

    def count(self, k: int) -> int:
        return int(self.counts[k]) if k >= 0 else 0

    def decode(self, k: int) -> np.ndarray:
        """The positions (int64, ascending) of directory row k."""
        n = int(self.counts[k])
        form = int(self.forms[k])
        start = int(self.low_start[k])
        low = self.blobs[form][start:start + n]
        if form == RAW:
            return low.astype(np.int64)
        hs = int(self.high_start[k])
        ones = np.flatnonzero(np.unpackbits(self.high[hs:hs + int(self.high_bytes[k])]))[:n]
        return ((ones - np.arange(n)) << _LOW_BITS[form]) | low

    def _unit_rows(self, unit: int) -> tuple[int, int]:
        """The directory rows of the pairs that start with ``unit``."""
        return (int(np.searchsorted(self.keys, np.uint32(unit << 16))),
                int(np.searchsorted(self.keys, np.uint32(unit << 16 | 0xFFFF), "right")))

    def unit_count(self, unit: int) -> int:
        """How many positions hold ``unit``."""
        lo, hi = self._unit_rows(unit)
        return int(self.counts[lo:hi].sum())

    def unit_positions(self, unit: int) -> np.ndarray:
        """Every position of one code unit, ascending."""
        lo, hi = self._unit_rows(unit)
        if lo == hi:
            return np.empty(0, dtype=np.int64)
        return np.sort(np.concatenate([self.decode(k) for k in range(lo, hi)]))
