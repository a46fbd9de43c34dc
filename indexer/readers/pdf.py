"""PDF files: pypdf's layout-mode text, rebuilt into paragraphs.

pypdf gives one line per printed line and no paragraph marks, so paragraphs are recovered from
the page geometry that layout mode keeps:

* Chinese official documents indent the first line of every body paragraph by two characters,
  so a line indented against the page's left margin starts a paragraph;
* a line set well away from the margin (a centred title or heading, a right-aligned date or
  signature) is a paragraph of its own;
* a line ending well short of the full line width ends its paragraph (the last line of a
  paragraph, a heading flush left without indent); a short gap is enough when the line ends
  a sentence;
* a short line that does not end a sentence, after a line that does, is a heading of its own
  even when the paragraph before it happens to end on a full line;
* a clear vertical gap (four font heights) separates paragraphs;
* anything else continues the previous line, across page breaks too, joined without a space
  unless two ASCII words meet.

Running headers and footers (the same line, digits aside, at the top or bottom of most pages)
and page numbers (``— 3 —``, ``- 3 -``, ``第 3 页 共 10 页``, ``3/10``, a bare number) are dropped.
Spaces that only mark a font change (``2021 年``, ``水平 。``) are removed; a space between two
ASCII characters is kept as one.

Layout mode measures positions in columns of (roughly) the page's average glyph advance, close
to one full-width character on Chinese pages; widths are counted in full-width characters
(half for ASCII).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from io import BytesIO

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from indexer.model import RawText, ReadError, ReadLimits

# Layout mode's column is the page's average glyph advance divided by this weight; slightly
# above 1 makes a full-width character a little more than one column on any Chinese page, so
# a two-character indent is never rounded down to one column.
SCALE_WEIGHT = 1.1
# A first-line indent of two characters shows as 2..4 columns depending on the page's mix of
# full- and half-width glyphs; one column is a stray leading space; further out a line is
# centred or right-aligned.
MIN_INDENT = 2
MAX_INDENT = 4
# A line ending this many characters short of the full width ends its paragraph.
SHORT_GAP = 4.0
# ... or this many when it ends a sentence: a wrapped line can fall ~2 characters short when
# a number or Latin word does not fit at its end.
SENTENCE_GAP = 2.5
# A vertical gap of at least this many font heights between two lines is a paragraph break
# (layout mode emits a blank line once the gap reaches twice its font-height weight); high
# enough that generous fixed line spacing never reads as a break.
GAP_FONT_HEIGHTS = 4.0
# A running header/footer appears at the top/bottom of at least this share of pages.
RUNNING_SHARE = 0.4
# Lines examined at each end of a page for page numbers and running headers/footers.
EDGE_LINES = 2

_SENTENCE_END = set("。！？；：!?;:…")
_CLOSERS = "”’」』）)》〉】〕\"'"
_PAGE_NUMBER = re.compile(
    r"""^(?:
        [-—–－―─~～.·•]*(?:\d+|[IVX]{1,6}|[ivx]{1,6})[-—–－―─~～.·•]*   # 3, — 3 —, - 3 -, ~3~
      | 第\d+页(?:[,，/]?共\d+页)?                               # 第3页, 第3页共10页, 第3页/共10页
      | 共\d+页[,，/]?第\d+页
      | \d+/\d+                                                 # 3/10
      | (?i:page)\d+(?:(?i:of)\d+)?                             # Page 3 of 10
    )$""",
    re.VERBOSE,
)
_PADDING = " \u3000\xa0"
_SPACE_RUN = re.compile(r"[ \t\xa0\u3000]+")


@dataclass
class _Line:
    page: int
    text: str  # without leading and trailing padding
    lead: int  # leading columns on the page
    gap_before: bool  # a clear vertical gap separates it from the line above
    indent: int = 0  # columns right of the page's left margin (negative: sticks out left)
    width: float = 0.0  # printed width in full-width characters


def parse_pdf(data: bytes, source: str, suffix: str = ".pdf", limits: ReadLimits = ReadLimits()) -> RawText:
    if not data.strip():
        raise ReadError(source, "file is empty")
    if b"%PDF-" not in data[:1024]:
        raise ReadError(source, "PDF is corrupt or truncated: no %PDF- header, not a PDF file")
    # pypdf in non-strict mode rebuilds a cut-off file and quietly returns the pages it still
    # finds; a missing end marker is the reliable sign that the rest of the document is gone.
    if b"%%EOF" not in data[-4096:]:
        raise ReadError(source, "PDF is corrupt or truncated: the end-of-file marker is missing")

    reader = _open(data, source)
    pages = _page_texts(reader, source)
    if not any(text.strip() for text in pages):
        raise ReadError(source, "PDF has no text layer (scanned image?)")
    lines = _drop_running_lines([_page_lines(i, text) for i, text in enumerate(pages)])
    paragraphs = _paragraphs(lines)
    if not paragraphs:
        raise ReadError(source, "PDF has no text layer (scanned image?)")
    fields = _fields(reader)
    return RawText(source=source, text="\n\n".join(paragraphs), format="pdf", fields=fields)


def _open(data: bytes, source: str) -> PdfReader:
    # pypdf signals malformed input with many exception types (PdfReadError, KeyError,
    # ValueError, struct.error, RecursionError ...), none of which the caller can act on
    # differently: each means the file is damaged.
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:
                raise ReadError(source, "PDF is encrypted with AES and the cryptography package is not installed") from None
            if opened == PasswordType.NOT_DECRYPTED:
                raise ReadError(source, "PDF is encrypted")
        if len(reader.pages) == 0:
            raise ReadError(source, "PDF is corrupt or truncated: it has no pages")
    except ReadError:
        raise
    except FileNotDecryptedError:
        raise ReadError(source, "PDF is encrypted") from None
    except Exception as exc:  # noqa: BLE001 - see above
        raise ReadError(source, f"PDF is corrupt or truncated: {_describe(exc)}") from None
    return reader


def _page_texts(reader: PdfReader, source: str) -> list[str]:
    texts = []
    for number in range(1, len(reader.pages) + 1):
        try:
            page = reader.pages[number - 1]
        except Exception as exc:  # noqa: BLE001 - a damaged page tree
            raise ReadError(source, f"PDF is corrupt or truncated: page {number}: {_describe(exc)}") from None
        try:
            text = page.extract_text(
                extraction_mode="layout",
                layout_mode_space_vertically=True,
                layout_mode_scale_weight=SCALE_WEIGHT,
                layout_mode_font_height_weight=GAP_FONT_HEIGHTS / 2,
            )
        except Exception:  # noqa: BLE001 - layout mode gives up on some fonts plain mode reads
            try:
                text = page.extract_text()
            except Exception as exc:  # noqa: BLE001
                raise ReadError(source, f"PDF is corrupt or truncated: page {number}: {_describe(exc)}") from None
        texts.append(text or "")
    return texts


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _fields(reader: PdfReader) -> dict[str, str]:
    try:
        info = reader.metadata
        title = str(info.title or "").strip() if info else ""
    except Exception:  # noqa: BLE001 - metadata is optional; a damaged info dictionary is not fatal
        return {}
    # Word's PDF export records the source file name, which is not the document's title.
    title = re.sub(r"^Microsoft Word\s*-\s*", "", title)
    title = re.sub(r"\.(?:docx?|wps|pdf)$", "", title, flags=re.IGNORECASE).strip()
    return {"标题": title} if title else {}


def _page_lines(page: int, text: str) -> list[_Line]:
    lines: list[_Line] = []
    gap = False
    for raw in text.replace("\r", "\n").split("\n"):
        content = raw.strip(_PADDING + "\t")
        if not content:
            gap = bool(lines)
            continue
        lead = len(raw) - len(raw.lstrip(_PADDING))
        lines.append(_Line(page=page, text=content, lead=lead, gap_before=gap))
        gap = False
    return lines


def _compact(text: str) -> str:
    return _SPACE_RUN.sub("", text)


def _drop_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", _compact(line.text))

    tops: Counter[str] = Counter()
    bottoms: Counter[str] = Counter()
    for lines in pages:
        tops.update({key(line) for line in lines[:EDGE_LINES]})
        bottoms.update({key(line) for line in lines[-EDGE_LINES:]})
    needed = max(2, math.ceil(RUNNING_SHARE * len(pages)))
    running_top = {k for k, n in tops.items() if n >= needed}
    running_bottom = {k for k, n in bottoms.items() if n >= needed}

    kept_pages = []
    for lines in pages:
        drop = set()
        for i, line in enumerate(lines[:EDGE_LINES]):
            if key(line) in running_top or _PAGE_NUMBER.match(_compact(line.text)):
                drop.add(i)
        for i in range(max(0, len(lines) - EDGE_LINES), len(lines)):
            line = lines[i]
            if key(line) in running_bottom or _PAGE_NUMBER.match(_compact(line.text)):
                drop.add(i)
        kept = [line for i, line in enumerate(lines) if i not in drop]
        if kept:
            # A gap that only separated the body from a dropped header means nothing.
            kept[0].gap_before = False
        kept_pages.append(kept)
    return kept_pages


def _display_width(text: str) -> float:
    width = 0.0
    for ch in text:
        if ch in " \t":
            continue
        width += 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5
    return width


def _measure(pages: list[list[_Line]]) -> list[_Line]:
    lines: list[_Line] = []
    for page_lines in pages:
        if not page_lines:
            continue
        # The left margin is where most lines start: continuation lines outnumber the rest.
        counts = Counter(line.lead for line in page_lines)
        margin = min(lead for lead, n in counts.items() if n == max(counts.values()))
        for line in page_lines:
            line.indent = line.lead - margin
            line.width = _display_width(line.text)
            lines.append(line)
    return lines


def _full_width(lines: list[_Line]) -> float:
    rights = sorted(_right(line) for line in lines if line.indent <= MAX_INDENT)
    if not rights:
        return 0.0
    return rights[int(0.9 * (len(rights) - 1))]


def _right(line: _Line) -> float:
    return max(line.indent, 0) / SCALE_WEIGHT + line.width


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip(_CLOSERS + " ")
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _paragraphs(pages: list[list[_Line]]) -> list[str]:
    lines = _measure(pages)
    full = _full_width(lines)
    paragraphs: list[list[str]] = []
    previous: _Line | None = None
    for line in lines:
        starts = (
            previous is None
            or line.gap_before
            or line.indent >= MIN_INDENT
            or previous.indent > MAX_INDENT
            or _ends_short(previous, full)
            or _stands_alone(previous, line, full)
        )
        if starts:
            paragraphs.append([line.text])
        else:
            paragraphs[-1].append(line.text)
        previous = line
    return [text for text in (tidy_spaces(_join(parts)) for parts in paragraphs) if text]


def _ends_short(line: _Line, full: float) -> bool:
    gap = full - _right(line)
    return gap >= SHORT_GAP or (gap >= SENTENCE_GAP and _ends_sentence(line.text))


def _stands_alone(previous: _Line, line: _Line, full: float) -> bool:
    # A flush-left heading right after a paragraph whose last line happens to be full: the
    # heading is short and, unlike the last line of a paragraph, does not end a sentence.
    return (
        _ends_sentence(previous.text)
        and full - _right(line) >= SHORT_GAP
        and not _ends_sentence(line.text)
    )


def _join(parts: list[str]) -> str:
    text = parts[0]
    for part in parts[1:]:
        if text[-1:].isascii() and text[-1:].isalnum() and part[:1].isascii() and part[:1].isalnum():
            text += " " + part
        else:
            text += part
    return text


def tidy_spaces(text: str) -> str:
    """Drop spaces next to non-ASCII characters (font-change gaps); keep one between ASCII ones."""

    def replace(match: re.Match[str]) -> str:
        start, end = match.start(), match.end()
        if start == 0 or end == len(text):
            return ""
        before, after = text[start - 1], text[end]
        return " " if before.isascii() and after.isascii() else ""

    return _SPACE_RUN.sub(replace, text)
