"""Fingerprints of paragraphs for finding shared passages.

A paragraph's text is folded (widths, traditional characters) and stripped of whitespace; each run
of digits becomes ``#`` and each name of the report's own places ``@`` (a template copied by the
next county changes exactly these: 2021年共办理12件 / 2023年共办理7件, 互助县 / 乐都区). Every run of
``SHINGLE`` characters of that is hashed, and the shingles whose hash is 0 modulo ``SAMPLE`` are the
paragraph's fingerprints. The choice depends on the characters alone, never on the paragraph
around them, so a passage shared inside two longer paragraphs keeps the same fingerprints in both
(the sampling of MOSS and of text-reuse studies); MinHash, which estimates the similarity of the
whole paragraphs, misses such a passage. A passage of ``SHINGLE`` + n characters has about
n / ``SAMPLE`` fingerprints.

The hashing is numpy over all paragraphs at once: a segment's fingerprints cost one pass over its
text, not a Python loop over its characters.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from indexer.normalise import fold

SHINGLE = 8  # characters
SAMPLE = 4  # one shingle in SAMPLE, by hash value, is a fingerprint
_DIGITS = re.compile(r"[0-9][0-9.,%]*")
_SPACE = re.compile(r"\s+")
_BASE = np.uint64(0x100000001B3)
_MIX1, _MIX2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)


_PLACE_SUFFIXES = ("土族自治县", "回族自治县", "藏族自治县", "自治县", "自治州", "自治区", "地区", "新区", "省", "市", "县",
                   "区", "州", "盟", "旗")


def place_names(*names: str) -> tuple[str, ...]:
    """A report's places (its county, city, province) as a copy's text names them: in full, by
    their stem (互助土族自治县: 互助) and as the stem with a common suffix (互助县), longest first."""
    out: set[str] = set()
    for name in names:
        if not name:
            continue
        out.add(name)
        stem = next((name[:-len(s)] for s in _PLACE_SUFFIXES if name.endswith(s) and len(name) - len(s) >= 2), "")
        if stem:
            out.add(stem)
            out.update(stem + s for s in ("县", "区", "市"))
    return tuple(sorted((fold(n) for n in out), key=len, reverse=True))


def masked(text: str, places: Sequence[str] = (), folded: bool = False) -> str:
    """The text as fingerprints see it: folded (unless it is), no whitespace, digits ``#``, the
    places (``place_names``, longest first) ``@``."""
    out = _DIGITS.sub("#", _SPACE.sub("", text if folded else fold(text)))
    for place in places:
        if len(place) >= 2 and place in out:
            out = out.replace(place, "@")
    return out


def fingerprints(texts: Sequence[str], places: Sequence[Sequence[str]] | None = None,
                 folded: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(keys, owners): every fingerprint of every text, sorted by key, once per text; ``owners``
    the index of the text each came from. ``places``: the place names to mask, per text
    (``place_names``); ``folded``: the texts are folded already."""
    forms = [masked(t, places[i] if places else (), folded) for i, t in enumerate(texts)]
    if not forms:
        return np.zeros(0, np.uint64), np.zeros(0, np.int32)
    # One array of code points, a 0 after each text; a shingle spanning a 0 is not a shingle.
    joined = "\0".join(forms) + "\0"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = codes.size - SHINGLE + 1
    if n <= 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int32)
    with np.errstate(over="ignore"):
        h = np.zeros(n, np.uint64)
        for j in range(SHINGLE):
            h = h * _BASE + codes[j:j + n]
        h ^= h >> np.uint64(33)
        h *= _MIX1
        h ^= h >> np.uint64(33)
        h *= _MIX2
        h ^= h >> np.uint64(33)
    breaks = np.concatenate([[0], np.cumsum(codes == 0)])
    whole = breaks[SHINGLE:SHINGLE + n] - breaks[:n] == 0
    owners = breaks[:n]  # texts ended before each start
    keep = whole & (h % np.uint64(SAMPLE) == 0)
    keys, owners = h[keep], owners[keep].astype(np.int32)
    order = np.lexsort((owners, keys))  # by key, then owner
    keys, owners = keys[order], owners[order]
    first = np.ones(keys.size, dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]) | (owners[1:] != owners[:-1])
    return keys[first], owners[first]
