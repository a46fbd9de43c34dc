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

import hashlib
import re
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

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
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        out = unicodedata.normalize("NFKC", ch)
        if out == ch and ch not in _EXTRA and not "A" <= ch <= "Z":
            continue  # the steps below would leave it as it is (a one-shot search pays this loop)
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

# --- Fast paths. Each one skips work only where that work provably changes nothing, so the
# output is the same string the full steps produce (tests/test_fold_speed_equivalence.py).

# Step 1: the characters the table changes. The table is idempotent (no folded form contains
# a character the table changes), so replacing each distinct character with str.replace is the
# same as str.translate, and much faster on CJK text where most characters map to themselves.
_FOLD_MAP = {chr(cp): out for cp, out in _TABLE.items() if out != chr(cp)}
_FOLD_CHARS = re.compile("[" + "".join(re.escape(ch) for ch in sorted(_FOLD_MAP)) + "]")
# The full-width punctuation of ordinary Chinese prose; the fast path of ``fold`` maps these
# with str.replace and leaves every other character of the table to the general path.
_COMMON = tuple((ch, _FOLD_MAP[ch]) for ch in "，（）：；")
# The whitespace ``\s`` matches (exactly the characters of str.isspace, all in the BMP), as an
# explicit set: searching a set is several times faster than searching ``\s``.
_WHITESPACE_CHARS = "".join(ch for ch in map(chr, range(0x10000)) if ch.isspace())
_WHITESPACE = re.compile("[" + re.escape(_WHITESPACE_CHARS) + "]")
_OTHER_WHITESPACE = re.compile("[" + re.escape(_WHITESPACE_CHARS.replace(" ", "")) + "]")
_WORD_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

# Step 2: OpenCC t2s only ever writes a dictionary value in place of a dictionary key that
# occurs in the text, and passes every other character through. A text that contains no key
# whose value differs from it is therefore left unchanged, and the conversion can be skipped.
# Every such key either is a character t2s changes on its own (found at run time by converting
# each BMP character), contains one (phrases such as 憑藉), is outside the BMP, or contains one
# of the characters below: phrase keys made only of characters t2s leaves alone (打坏 -> 打坯,
# 回覆 -> 回复, 瞭解 -> 了解, ...). These were derived from the dictionaries whose fingerprint
# follows (OpenCC 1.4.2); with any other dictionaries the conversion is never skipped.
_T2S_PHRASE_CHARS = "函呈哩坏墓拜沈甦瞭藉衹覆醒"
_T2S_FINGERPRINT = "d10518080f93f021211254823fdd20a67d3d274f1615380f0c5053dc0308a320"


def t2s_fingerprint() -> str | None:
    """sha256 of the installed t2s configuration and the dictionary files it names."""
    config = getattr(_T2S, "config", None)
    if not isinstance(config, str):
        return None
    try:
        path = Path(config)
        data = path.read_bytes()
        digest = hashlib.sha256(data)
        for name in sorted(set(re.findall(r'"file"\s*:\s*"([^"]+)"', data.decode("utf-8")))):
            digest.update(name.encode("utf-8"))
            digest.update((path.parent / name).read_bytes())
    except (OSError, UnicodeDecodeError):
        return None
    return digest.hexdigest()


def _t2s_changed_chars() -> str:
    """The BMP characters t2s changes on their own."""
    chars = [chr(cp) for cp in range(1, 0x10000) if cp != 0x0A and not 0xD800 <= cp <= 0xDFFF]
    out = _T2S.convert("\n".join(chars)).split("\n")
    if len(out) != len(chars):
        raise ValueError("t2s changed the line structure")
    return "".join(ch for ch, conv in zip(chars, out) if conv != ch)


@cache
def _gates() -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """(T2S, RARE): T2S finds a character that may make t2s change a text, RARE any character
    that keeps a text off the fast path of ``fold``; None when t2s cannot be skipped."""
    if t2s_fingerprint() != _T2S_FINGERPRINT:
        return None, None
    try:
        changed = _t2s_changed_chars()
    except Exception:  # noqa: BLE001 - an unexpected converter: never skip it
        return None, None
    # Astral characters (TSCharactersExt has keys there) and lone surrogates (which t2s refuses
    # with UnicodeEncodeError) always take the full conversion.
    t2s_class = re.escape("".join(sorted(set(changed + _T2S_PHRASE_CHARS)))) + "\ud800-\udfff\U00010000-\U0010ffff"
    rare_chars = (set(_FOLD_MAP) - {ch for ch, _ in _COMMON}) | (set(_WHITESPACE_CHARS) - {" "})
    rare_class = re.escape("".join(sorted(rare_chars))) + t2s_class
    t2s = re.compile("[" + t2s_class + "]")
    rare = re.compile("[" + rare_class + "]")
    # The fast path relies on the common replacements adding no whitespace and nothing t2s changes.
    if any(t2s.search(out) or _WHITESPACE.search(out) for _, out in _COMMON):
        return None, None
    return t2s, rare


def _translate(text: str) -> str:
    """``text.translate(_TABLE)``."""
    found = _FOLD_CHARS.findall(text)
    if not found:
        return text
    if 4 * len(found) > len(text):
        return text.translate(_TABLE)
    for ch in set(found):
        text = text.replace(ch, _FOLD_MAP[ch])
    return text


def _needs_t2s(s: str) -> bool:
    if _gates.cache_info().currsize == 0 and _folds_before_gates < _EAGER_FOLDS:
        return True  # converting is always right; the gates pay off only over many folds
    t2s, _ = _gates()
    return t2s is None or t2s.search(s) is not None


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


# Which neighbours of a run of whitespace keep one space: (the character before, the run, the
# character after) -> keep. Each caller of ``collapse_spaces`` says which neighbours count.
SpaceRule = Callable[[str, str, str], bool]


def between_ascii(before: str, run: str, after: str) -> bool:
    """The readers' rule: a gap next to a Chinese character is a font change or a line wrap."""
    return before.isascii() and after.isascii()


def _between_word_chars(before: str, run: str, after: str) -> bool:
    """``fold``'s rule: only a space between two ASCII letters or digits separates words."""
    return _is_word_char(before) and _is_word_char(after)


def _run_replacement(text: str, start: int, end: int, keep: SpaceRule) -> str:
    if start == 0 or end == len(text):
        return ""
    return " " if keep(text[start - 1], text[start:end], text[end]) else ""


def collapse_spaces(text: str, runs: re.Pattern[str], keep: SpaceRule = between_ascii) -> str:
    """Each run of whitespace that ``runs`` matches becomes one space where ``keep`` holds and
    disappears elsewhere and at either end: the one place the "a space only between ASCII" rule
    of fold, the PDF, HTML and .docx readers is written (each passes its runs and its rule)."""
    return runs.sub(lambda m: _run_replacement(text, m.start(), m.end(), keep), text)


def without_spaces(text: str) -> str:
    """The text with every whitespace character removed: the key under which spaced-out labels,
    titles and running headers compare (索  引  号 = 索引号)."""
    return "".join(text.split())


_EAGER_FOLDS = 256  # folds by the full steps before the fast path's gates are built (~0.1 s)
_folds_before_gates = 0


def fold(text: str) -> str:
    global _folds_before_gates
    if _folds_before_gates < _EAGER_FOLDS and _gates.cache_info().currsize == 0:
        # A one-shot search folds a query and a few headings: building the gates would cost it
        # more than all its folds. Both paths give the same string (test_fold_speed_equivalence).
        _folds_before_gates += 1
        return _fold_full(text)
    _, rare = _gates()
    if rare is not None and rare.search(text) is None:
        # Only the common punctuation to map, nothing t2s changes, no whitespace but spaces.
        s = text
        for ch, out in _COMMON:
            if ch in s:
                s = s.replace(ch, out)
        return _tidy_plain_spaces(s) if " " in s else s
    return _fold_full(text)


def _fold_full(text: str) -> str:
    """``fold`` by its three steps, each skipped where it would change nothing."""
    s = _translate(text)
    if _needs_t2s(s):
        s, _ = _to_simplified(s)
    return tidy_spaces(s)


def tidy_spaces(text: str) -> str:
    """Whitespace rule of ``fold`` alone, for display strings such as titles: 盐池县 2021 年度 -> 盐池县2021年度."""
    if _WHITESPACE.search(text) is None:
        return text
    if _OTHER_WHITESPACE.search(text) is None:
        return _tidy_plain_spaces(text)
    return collapse_spaces(text, _SPACE_RUN, _between_word_chars)


def _tidy_plain_spaces(text: str) -> str:
    """``tidy_spaces`` of a text whose only whitespace is U+0020: each run of spaces becomes one
    space between two ASCII letters or digits and disappears everywhere else."""
    parts = text.split(" ")
    out = [parts[0]]
    for part in parts[1:]:
        if not part:  # inside a run of spaces, or at the end
            continue
        prev = out[-1]
        if prev and prev[-1] in _WORD_CHARS and part[0] in _WORD_CHARS:
            out.append(" ")
        out.append(part)
    return "".join(out)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of its source character."""
    if _UNEVEN.search(text) is None:
        s = _translate(text)
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
    simplified, aligned = _to_simplified(s) if _needs_t2s(s) else (s, True)
    if not aligned:
        chars2: list[str] = []
        origin2: list[int] = []
        for c, o in zip(s, origin):
            for c2 in _t2s_char(c):
                chars2.append(c2)
                origin2.append(o)
        simplified, origin = "".join(chars2), origin2
    s = simplified
    if _WHITESPACE.search(s) is None:
        return s, origin
    out_chars: list[str] = []
    out_origin: list[int] = []
    pos = 0
    for m in _SPACE_RUN.finditer(s):
        out_chars.append(s[pos:m.start()])
        out_origin.extend(origin[pos:m.start()])
        rep = _run_replacement(s, m.start(), m.end(), _between_word_chars)
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
