"""Plain text and markdown files: detect the encoding, normalise line endings, keep the markup."""
from __future__ import annotations

import codecs
import re
import unicodedata
import charset_normalizer

from indexer.model import RawText, ReadError, ReadLimits

# Longest BOMs first: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# charset-normalizer names the subset it happened to need; GB18030 decodes all of them and
# more, so a GBK file with one rare character still reads.
_GB_FAMILY = {"gb2312", "gbk", "cp936", "ms936", "gb18030", "hz", "euc_cn", "euc-cn"}
# cp950 is Microsoft's superset of Big5 and what Big5 files written on Windows really are.
_BIG5_FAMILY = {"big5", "big5hkscs", "cp950"}

# Text whose share of control, unassigned or private-use characters exceeds this is not text.
_MAX_GARBAGE_SHARE = 0.02
_GARBAGE_SAMPLE = 1 << 16



def decode_bytes(data: bytes, source: str, declared: str | None = None) -> str:
    """Decode text of unknown encoding, raising ReadError for empty files and binary data.

    ``declared`` is an encoding the container named (an HTML meta charset); it is trusted only
    if the bytes decode cleanly with it.
    """
    if not data.strip():
        raise ReadError(source, "file is empty")
    text = _decode(data, source, declared)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ReadError(source, "file is empty")
    if _looks_binary(text):
        raise ReadError(source, "binary data in an unknown encoding")
    return text


_TEXTUAL = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2000-\u206f\x20-\x7e\t\n\r]")
MIN_TEXTUAL_SHARE = 0.95  # of the characters a UTF-16 reading gives, for it to be taken as the text


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark (Windows' 'Unicode' text files often are): the
    reading, little- or big-endian, that decodes cleanly into Chinese and ASCII text, else None."""
    if len(data) % 2:
        return None
    best, share = None, 0.0
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:_GARBAGE_SAMPLE]
        textual = len(_TEXTUAL.findall(sample)) / max(1, len(sample))
        if textual > share:
            best, share = text, textual
    return best if share >= MIN_TEXTUAL_SHARE else None


def _decode(data: bytes, source: str, declared: str | None) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise ReadError(source, f"invalid {encoding.upper()} text after the byte-order mark: {exc.reason}") from None
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None:
            raise ReadError(source, "binary data in an unknown encoding")
        return text
    if declared:
        encoding = _preferred(declared)
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(_detection_sample(data)).best()
    candidates = [_preferred(best.encoding)] if best is not None else []
    # Chinese government files that are not UTF-8 are almost always GB-encoded.
    candidates += [enc for enc in ("gb18030", "cp950") if enc not in candidates]
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise ReadError(source, "binary data in an unknown encoding")


# charset-normalizer's time grows with the input (seconds for tens of MB of binary data); a
# sample decides as well, and the whole file is then decoded with its answer, or a fallback.
_DETECTION_SAMPLE = 1 << 20


def _detection_sample(data: bytes) -> bytes:
    if len(data) <= _DETECTION_SAMPLE:
        return data
    # End at a line break when there is one, so that no multibyte character is cut in two.
    cut = data.rfind(b"\n", _DETECTION_SAMPLE // 2, _DETECTION_SAMPLE)
    return data[:cut] if cut != -1 else data[:_DETECTION_SAMPLE]


def _preferred(encoding: str) -> str:
    name = codecs.lookup(encoding).name if _known(encoding) else encoding.lower()
    if name in _GB_FAMILY or encoding.lower() in _GB_FAMILY:
        return "gb18030"
    if name in _BIG5_FAMILY or encoding.lower() in _BIG5_FAMILY:
        return "cp950"
    return name


def _known(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


_COMMON_TEXT = re.compile(r"[\u0020-\u007e\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2010-\u2027\n\r\t\f\v]+")


def _looks_binary(text: str) -> bool:
    # A sample from the start, middle and end keeps this linear and cheap on huge files.
    if len(text) > 3 * _GARBAGE_SAMPLE:
        mid = len(text) // 2
        text = text[:_GARBAGE_SAMPLE] + text[mid:mid + _GARBAGE_SAMPLE] + text[-_GARBAGE_SAMPLE:]
    # Most text is CJK, ASCII and common punctuation: count only the rest one by one.
    rare = _COMMON_TEXT.sub("", text)
    bad = sum(1 for ch in rare if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"))
    return bad > _MAX_GARBAGE_SHARE * len(text)


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_plain(data: bytes, source: str, suffix: str = ".txt", limits: ReadLimits = ReadLimits()) -> RawText:
    fmt = "md" if suffix == ".md" else "txt"
    text = normalise_newlines(decode_bytes(data, source))
    return RawText(source=source, text=_paragraphs(text, fmt), format=fmt)


# Substitutions over the text in chunks of whole lines rather than a list of lines: a regex
# substitution builds a Python string per match and per gap between matches (about 50 bytes
# each), so over a whole file of millions of short lines it would cost gigabytes.
_CHUNK_CHARS = 1 << 18
_PAD = " \t\u3000\xa0\f\v"
# Chinese text files indent paragraphs with full-width spaces; the indent is layout.
_TXT_LINE_PAD = re.compile(rf"^[{_PAD}]+|[{_PAD}]+$", re.MULTILINE)
# Leading ASCII spaces can be markdown syntax (nested lists, code); trailing ones are not.
_MD_LINE_PAD = re.compile(rf"^[\u3000\xa0]+|[{_PAD}]+$", re.MULTILINE)


def _paragraphs(text: str, fmt: str) -> str:
    text = _strip_lines(text, _TXT_LINE_PAD if fmt == "txt" else _MD_LINE_PAD).strip("\n")
    if fmt == "txt" and "\n\n" not in text:
        # A text file without any blank line writes one paragraph per line.
        return text.replace("\n", "\n\n")
    # Lines of padding are empty now: runs of blank lines become one (str.replace, no per-match objects).
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _strip_lines(text: str, padding: re.Pattern[str]) -> str:
    chunks = []
    start = 0
    while start < len(text):
        # Each chunk ends just before a newline, so ^ and $ in it fall where they do in the text.
        end = text.find("\n", start + _CHUNK_CHARS)
        end = len(text) if end == -1 else end
        chunks.append(padding.sub("", text[start:end]))
        start = end
    return "".join(chunks)
