"""The passages two paragraphs share, found by local alignment, and what changed inside them.

The two texts are compared character by character as fingerprints see them (folded; every digit
alike, so 12 and 89 align and are then told apart as a changed number); rapidfuzz's Indel
alignment (the longest common subsequence, in C) gives the equal runs, and the best-scoring
stretches of that alignment (each equal character +1, each character inserted or deleted
-``PENALTY``: Smith-Waterman's scoring along the one alignment path) are the shared passages,
wherever they lie inside the two paragraphs. Each passage lists its differences, with numbers
and places named.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import Indel

from indexer.normalise import fold

MIN_SHARED = 20  # equal characters a shared passage has at least
MIN_SAME = 0.7  # and the share of its characters (of the longer side) that are equal
PENALTY = 1.0
_DIGIT = re.compile(r"[0-9]")


@dataclass(frozen=True)
class Change:
    a: str  # the text on this side ("" where the other side inserts)
    b: str
    kind: str  # 数字 | 地名 | 文字

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "kind": self.kind}


@dataclass(frozen=True)
class Passage:
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    same: int  # equal characters
    changes: tuple[Change, ...] = field(default=())
    # [(a_start, a_end, b_start, b_end)] of each difference, offsets into the texts
    spans: tuple[tuple[int, int, int, int], ...] = field(default=())

    @property
    def share(self) -> float:
        return self.same / max(self.a_end - self.a_start, self.b_end - self.b_start, 1)

    def to_dict(self) -> dict:
        return {"a": [self.a_start, self.a_end], "b": [self.b_start, self.b_end], "same": self.same,
                "share": round(self.share, 3), "changes": [c.to_dict() for c in self.changes],
                "spans": [list(s) for s in self.spans]}


class _OneForOne(dict):
    """str.translate's table for ``comparable``: each character's folded form where folding keeps
    it one character, digits alike; filled as characters are first seen (a race writes the same)."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        f = fold(ch)
        out = "0" if ch.isdigit() else (f if len(f) == 1 else ch)
        self[cp] = out
        return out


_ONE_FOR_ONE = _OneForOne()


def comparable(text: str) -> str:
    """One character for each of the text's: folded where folding keeps one, digits alike."""
    return text.translate(_ONE_FOR_ONE)


def shared_passages(a: str, b: str, places: Sequence[str] = (), *, detail: bool = True,
                    a_form: str | None = None) -> list[Passage]:
    """Every passage ``a`` and ``b`` share (at least MIN_SHARED equal characters, MIN_SAME of
    its length), in ``a``'s order. ``places``: names of places, to say a change is of a place;
    ``detail=False``: the passages' extents and equal characters only, no changes (what ranking
    many candidates needs); ``a_form``: ``comparable(a)``, when a is compared with many."""
    steps = _steps(Indel.opcodes(a_form if a_form is not None else comparable(a), comparable(b)))
    out: list[Passage] = []
    score, start, best, best_end = 0.0, 0, 0.0, -1

    def close() -> None:
        if best_end >= start:
            passage = _passage(a, b, steps[start:best_end + 1], places, detail)
            if passage.same >= MIN_SHARED and passage.share >= MIN_SAME:
                out.append(passage)

    for i, (equal, s0, s1, d0, d1) in enumerate(steps):
        gain = (s1 - s0) if equal else -PENALTY * max(s1 - s0, d1 - d0)
        if score + gain <= 0:
            close()  # the stretch that ended here, if it was worth keeping
            score, start, best, best_end = 0.0, i + 1, 0.0, -1
            continue
        score += gain
        if equal and score > best:
            best, best_end = score, i
    close()
    return out


def _steps(opcodes) -> list[tuple[bool, int, int, int, int]]:
    """The alignment as alternating steps: (equal, a_start, a_end, b_start, b_end); the inserts
    and deletes between two equal runs are one step (a substitution costs its longer side)."""
    steps: list[list] = []
    for op in opcodes:
        equal = op.tag == "equal"
        if steps and not equal and not steps[-1][0]:
            steps[-1][2], steps[-1][4] = op.src_end, op.dest_end
        else:
            steps.append([equal, op.src_start, op.src_end, op.dest_start, op.dest_end])
    return [tuple(step) for step in steps]


_DIGIT_RUN = re.compile(r"[0-9]+(?:[.．][0-9]+)?")


def _passage(a: str, b: str, steps, places: Sequence[str], detail: bool = True) -> Passage:
    same = sum(s1 - s0 for equal, s0, s1, _, _ in steps if equal)
    spans: list[list[int]] = [[s0, s1, d0, d1] for equal, s0, s1, d0, d1 in steps if not equal]
    # A changed number is equal where digits are alike: the digits of equal runs that differ.
    for equal, s0, s1, d0, d1 in steps:
        if equal:
            for m in _DIGIT.finditer(a, s0, s1):  # only a digit can differ where the two are alike
                k = m.start() - s0
                if a[s0 + k] != b[d0 + k]:
                    same -= 1
                    spans.append([s0 + k, s0 + k + 1, d0 + k, d0 + k + 1])
    if not detail:
        return Passage(steps[0][1], steps[-1][2], steps[0][3], steps[-1][4], same)
    # A difference inside a number is the whole number on both sides; touching ones are one.
    for span in spans:
        span[0], span[1] = _widened(a, span[0], span[1])
        span[2], span[3] = _widened(b, span[2], span[3])
    merged: list[list[int]] = []
    for span in sorted(spans):
        if merged and span[0] <= merged[-1][1] and span[2] <= merged[-1][3]:
            merged[-1][1], merged[-1][3] = max(merged[-1][1], span[1]), max(merged[-1][3], span[3])
        else:
            merged.append(span)
    changes = tuple(Change(a[s:e], b[bs:be], _kind(a[s:e], b[bs:be], a, b, s, bs, places)) for s, e, bs, be in merged)
    return Passage(steps[0][1], steps[-1][2], steps[0][3], steps[-1][4], same, changes,
                   tuple(tuple(span) for span in merged))


def _widened(text: str, s: int, e: int) -> tuple[int, int]:
    """[s, e) widened to the whole digit runs it touches (an empty span: the run it is inside)."""
    inside = text[s:e] if e > s else text[max(0, s - 1):s + 1]
    if any(ch.isdigit() for ch in inside[:1] + inside[-1:]):
        while s > 0 and text[s - 1].isdigit():
            s -= 1
        while e < len(text) and text[e].isdigit():
            e += 1
    return s, e


def _kind(x: str, y: str, a: str, b: str, s: int, bs: int, places: Sequence[str]) -> str:
    if _DIGIT.search(x + y):
        return "数字"
    for place in places:
        if place and (_covers(a, s, len(x), place) or _covers(b, bs, len(y), place)):
            return "地名"
    return "文字"


def _covers(text: str, at: int, n: int, name: str) -> bool:
    """Whether an occurrence of ``name`` in ``text`` overlaps [at, at + n)."""
    lo = max(0, at - len(name))
    i = text.find(name, lo, at + n + len(name))
    while i != -1 and i < at + max(n, 1):
        if i + len(name) > at:
            return True
        i = text.find(name, i + 1, at + n + len(name))
    return False
