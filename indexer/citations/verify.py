"""Is the quote what the source says? The quote beside the stretch of source it was found in, every
difference marked, and the facts a misquote changes said outright (引文与原文不符：98% ≠ 89%).

Both texts are compared folded (``normalise.fold``: width, punctuation variants, traditional
characters, spaces between digits and Chinese) and without punctuation and spaces: a quote that
differs only there is 完全一致, with the punctuation left as it was quoted. Each remaining
difference is an ``Edit`` (the quote has characters the source lacks, lacks some it has, or has
others in their place) with its spans in both original texts, for <ins>/<del> marks. An edit that
touches a fact (a number, a date, a 文号, the name of a place the corpus knows) is also said as a
``Fact``: which kind, what the quote says and what the source says.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, field

from indexer.citations.references import scan_folded
from indexer.normalise import fold_with_offsets

EXACT, DIFFERS, NOT_FOUND = "完全一致", "有出入", "未找到"
VERDICT_CODES = {EXACT: "exact", DIFFERS: "differs", NOT_FOUND: "not_found"}
# Kept in the comparison although not letters or digits: 98% is not 98‰.
_KEPT = set("%‰")
_FACTS = (
    ("日期", re.compile(r"(?:19|20)\d{2}年(?:\d{1,2}月(?:\d{1,2}日)?)?|(?:19|20)\d{2}-\d{1,2}(?:-\d{1,2})?")),
    ("数字", re.compile(r"\d+(?:\.\d+)?(?:%|‰|万|亿)?")),
)


@dataclass(frozen=True)
class Edit:
    kind: str  # "added": only in the quote; "missing": only in the source; "changed": different
    quote: str
    source: str
    quote_span: tuple[int, int]  # in the quote's text; empty for a delete
    source_span: tuple[int, int]  # in the source text; empty for an insert


@dataclass(frozen=True)
class Fact:
    kind: str  # 数字 日期 文号 地名
    quote: str  # as the quote has it ("" when the quote leaves it out)
    source: str  # as the source has it ("" when the quote adds it)

    def message(self) -> str:
        if not self.quote:
            return f"{self.kind}：引文少了原文的 {self.source}"
        if not self.source:
            return f"{self.kind}：引文多出 {self.quote}，原文没有"
        return f"{self.kind}：{self.quote} ≠ {self.source}"


@dataclass
class Verification:
    verdict: str  # EXACT | DIFFERS | NOT_FOUND
    edits: list[Edit] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    # The source with the quote's differences in place: ("same" | "del" | "ins", text), del being
    # the source's characters the quote lacks or changed, ins the quote's in their place.
    segments: list[tuple[str, str]] = field(default_factory=list)

    @property
    def code(self) -> str:
        return VERDICT_CODES[self.verdict]

    def summary(self) -> str:
        """One line: the verdict and what differs, as a user reads it."""
        if self.verdict != DIFFERS:
            return self.verdict
        if self.facts:
            return "引文与原文不符：" + "；".join(f.message() for f in self.facts)
        return f"有出入：{len(self.edits)} 处文字不同"

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "code": self.code, "summary": self.summary(),
                "edits": [dict(asdict(e), quote_span=list(e.quote_span), source_span=list(e.source_span))
                          for e in self.edits],
                "facts": [dict(asdict(f), message=f.message()) for f in self.facts],
                "segments": [{"kind": k, "text": t} for k, t in self.segments]}


def _compared(text: str) -> tuple[str, list[int], str, list[int]]:
    """(letters, digits and %, each with its index in the original text; the folded text and its
    origins), the forms the comparison and the fact finder read."""
    folded, origin = fold_with_offsets(text)
    keep = [i for i, c in enumerate(folded) if c.isalnum() or c in _KEPT]
    return "".join(folded[i] for i in keep), [origin[i] for i in keep], folded, origin


def _span(origin: list[int], lo: int, hi: int, text_len: int) -> tuple[int, int]:
    """The original span of compared characters [lo, hi); an empty one where an edit falls."""
    if hi > lo:
        return origin[lo], origin[hi - 1] + 1
    at = origin[lo - 1] + 1 if lo > 0 else (origin[0] if origin else text_len)  # right after what precedes
    return at, at


def _facts_in(folded: str, origin: list[int], places: list[str]) -> list[tuple[str, int, int, str]]:
    """(kind, start, end in the original text, text) of every fact of the folded text, longest kinds first."""
    taken = [False] * len(folded)
    out = []
    for kind, start, end, _key in scan_folded(folded):
        if kind == "docno":
            taken[start:end] = [True] * (end - start)
            out.append(("文号", origin[start], origin[end - 1] + 1, folded[start:end]))
    patterns = list(_FACTS)
    if places:
        patterns.insert(0, ("地名", re.compile("|".join(map(re.escape, places)))))
    for kind, pattern in patterns:
        for m in pattern.finditer(folded):
            if any(taken[m.start():m.end()]):
                continue
            taken[m.start():m.end()] = [True] * (m.end() - m.start())
            out.append((kind, origin[m.start()], origin[m.end() - 1] + 1, m.group()))
    return out


def _whole_numbers(opcodes, q: str, s: str) -> list[tuple[int, int, int, int]]:
    """The differing stretches (quote i1:i2, source j1:j2), each that touches a number widened to
    the whole number on both sides (98% for 89% is one change, not 8 added and 8 dropped), and
    stretches that then meet merged."""
    def widen(text: str, lo: int, hi: int) -> tuple[int, int]:
        touches = any(c.isdigit() for c in text[max(0, lo - 1):hi + 1])
        if not touches:
            return lo, hi
        while lo > 0 and text[lo - 1].isdigit():
            lo -= 1
        while hi < len(text) and text[hi].isdigit():
            hi += 1
        return lo, hi

    out: list[list[int]] = []
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            continue
        (i1, i2), (j1, j2) = widen(q, i1, i2), widen(s, j1, j2)
        if out and (i1 <= out[-1][1] or j1 <= out[-1][3]):
            last = out[-1]
            last[1], last[3] = max(last[1], i2), max(last[3], j2)
            last[0], last[2] = min(last[0], i1), min(last[2], j1)
        else:
            out.append([i1, i2, j1, j2])
    return [tuple(x) for x in out]


def verify(quote: str, source: str, *, found: bool = True, places: list[str] = ()) -> Verification:
    """The verdict on ``quote`` against the source text it was found in; ``found`` False: 未找到.
    ``places``: names of places (longest first) whose change is a fact."""
    if not found:
        return Verification(NOT_FOUND)
    q, qmap, qfold, qorigin = _compared(quote)
    s, smap, sfold, sorigin = _compared(source)
    if q == s:
        return Verification(EXACT, segments=[("same", source)])
    edits = []
    for i1, i2, j1, j2 in _whole_numbers(difflib.SequenceMatcher(None, q, s, autojunk=False).get_opcodes(), q, s):
        qspan, sspan = _span(qmap, i1, i2, len(quote)), _span(smap, j1, j2, len(source))
        kind = "changed" if i2 > i1 and j2 > j1 else ("added" if i2 > i1 else "missing")
        edits.append(Edit(kind, quote[qspan[0]:qspan[1]], source[sspan[0]:sspan[1]], qspan, sspan))
    return Verification(DIFFERS, edits, _changed_facts(quote, source, qfold, qorigin, sfold, sorigin, list(places)),
                        _segments(source, edits))


def _segments(source: str, edits: list[Edit]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    for e in edits:
        lo, hi = e.source_span
        if lo > at:
            out.append(("same", source[at:lo]))
        if hi > lo:
            out.append(("del", source[lo:hi]))
        if e.quote:
            out.append(("ins", e.quote))
        at = max(at, hi)
    if at < len(source):
        out.append(("same", source[at:]))
    return out


def _changed_facts(quote: str, source: str, qfold: str, qorigin: list[int], sfold: str, sorigin: list[int],
                   places: list[str]) -> list[Fact]:
    """The facts of the quote and of the source, in order, set against each other: a number, date,
    文号 or place that is not the source's where it stands, or that only one of them has."""
    qfacts = _facts_in(qfold, qorigin, places)
    sfacts = _facts_in(sfold, sorigin, places)
    qkeys = [(f[0], f[3]) for f in qfacts]
    skeys = [(f[0], f[3]) for f in sfacts]
    out: list[Fact] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, qkeys, skeys, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        qs, ss = qfacts[i1:i2], sfacts[j1:j2]
        for k in range(max(len(qs), len(ss))):
            fq = qs[k] if k < len(qs) else None
            fs = ss[k] if k < len(ss) else None
            if fq and fs and fq[0] != fs[0]:  # of different kinds: two facts, each on its own
                out += [Fact(fq[0], quote[fq[1]:fq[2]], ""), Fact(fs[0], "", source[fs[1]:fs[2]])]
                continue
            kind = (fq or fs)[0]
            out.append(Fact(kind, quote[fq[1]:fq[2]] if fq else "", source[fs[1]:fs[2]] if fs else ""))
    return out
