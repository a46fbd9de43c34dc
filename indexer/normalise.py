"""Search folding, defined once for documents and queries alike.

``fold`` is the fast path used when indexing and when parsing queries; ``fold_with_offsets``
produces the identical string together with, for every folded character, the index of the
original character it came from, so that highlights land on the original text.

Steps, in order:
1. per-character NFKC (full-width letters, digits and punctuation to their ASCII forms), ASCII
   lower-casing, and one form for paired punctuation variants (〔〕［］【】[] -> 〔〕, （）-> (),
   ：-> :, …);
2. traditional -> simplified (OpenCC t2s);
3. whitespace: removed where either neighbour is not an ASCII letter or digit (``2021 年`` ->
   ``2021年``, PDF font-change gaps such as ``水平 。``), otherwise collapsed to one space.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_EXTRA = {
    "〔": "〔", "〕": "〕", "[": "〔", "]": "〕", "【": "〔", "】": "〕", "〖": "〔", "〗": "〕",
    "﹝": "〔", "﹞": "〕", "「": "“", "」": "”", "『": "‘", "』": "’", "〈": "<", "〉": ">",
    "―": "—", "─": "—", "－": "-", "—": "—", "–": "-", "‐": "-", "\u3000": " ", "\xa0": " ",
    "、": "、", "。": "。", "．": ".", "｡": "。",
}


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x10000):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        out = unicodedata.normalize("NFKC", ch)
        out = "".join(_EXTRA.get(c, c) for c in out)
        out = "".join(c.lower() if "A" <= c <= "Z" else c for c in out)
        if out != ch:
            table[cp] = out
    for src, dst in _EXTRA.items():
        table[ord(src)] = dst
    # NFKC turns some characters into spaces or strings with spaces; keep them as one space.
    for cp, out in list(table.items()):
        if out.strip() == "" and out:
            table[cp] = " "
    return table


_TABLE = _build_table()
# Characters whose folded form is not exactly one character; texts without them fold 1:1.
_UNEVEN = re.compile("[" + "".join(re.escape(chr(cp)) for cp, out in _TABLE.items() if len(out) != 1) + "]")
_T2S = opencc.OpenCC("t2s")
_SPACE_RUN = re.compile(r"\s+")


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@lru_cache(maxsize=8192)
def _t2s_char(ch: str) -> str:
    return _T2S.convert(ch)


def _to_simplified(s: str) -> tuple[str, bool]:
    """Returns the converted text and whether it is aligned character for character."""
    out = _T2S.convert(s)
    if len(out) == len(s):
        return out, True
    return "".join(_t2s_char(c) for c in s), False


def _space_replacement(s: str, start: int, end: int) -> str:
    left = s[start - 1] if start > 0 else ""
    right = s[end] if end < len(s) else ""
    if left and right and _is_word_char(left) and _is_word_char(right):
        return " "
    return ""


def fold(text: str) -> str:
    s = text.translate(_TABLE)
    s, _ = _to_simplified(s)
    return tidy_spaces(s)


def tidy_spaces(text: str) -> str:
    """Whitespace rule of ``fold`` alone, for display strings such as titles: 盐池县 2021 年度 -> 盐池县2021年度."""
    return _SPACE_RUN.sub(lambda m: _space_replacement(m.string, m.start(), m.end()), text)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of its source character."""
    if _UNEVEN.search(text) is None:
        s = text.translate(_TABLE)
        origin = list(range(len(text)))
    else:
        chars: list[str] = []
        origin = []
        for i, ch in enumerate(text):
            out = _TABLE.get(ord(ch), ch)
            for c in out:
                chars.append(c)
                origin.append(i)
        s = "".join(chars)
    simplified, aligned = _to_simplified(s)
    if not aligned:
        chars2: list[str] = []
        origin2: list[int] = []
        for c, o in zip(s, origin):
            for c2 in _t2s_char(c):
                chars2.append(c2)
                origin2.append(o)
        simplified, origin = "".join(chars2), origin2
    s = simplified
    out_chars: list[str] = []
    out_origin: list[int] = []
    pos = 0
    for m in _SPACE_RUN.finditer(s):
        out_chars.append(s[pos:m.start()])
        out_origin.extend(origin[pos:m.start()])
        rep = _space_replacement(s, m.start(), m.end())
        if rep:
            out_chars.append(rep)
            out_origin.append(origin[m.start()])
        pos = m.end()
    out_chars.append(s[pos:])
    out_origin.extend(origin[pos:])
    return "".join(out_chars), out_origin


def original_span(origin: list[int], start: int, end: int) -> tuple[int, int]:
    """Maps the folded span [start, end) back onto the original text."""
    if end <= start:
        o = origin[start] if start < len(origin) else (origin[-1] + 1 if origin else 0)
        return o, o
    return origin[start], origin[end - 1] + 1


def fold_docno(docno: str) -> str:
    """A 文号 folded for comparison: 互政〔2022〕4号 == 互政[2022]4号 == 互政(2022)4 号."""
    s = fold(docno)
    s = re.sub(r"[〔(](\d{4})[〕)]", r"〔\1〕", s)
    return s.replace(" ", "")
