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

import logging
import math
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from io import BytesIO

import pypdf
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError

from indexer.model import RawText, ReadError, ReadLimits, byte_size, over_limit
from indexer.normalise import between_ascii, collapse_spaces, without_spaces
from indexer.reading.readers.ocr import NOT_INSTALLED, ocr_available, ocr_pdf_pages

log = logging.getLogger(__name__)
# pypdf logs every repair it makes to a damaged file as a WARNING under "pypdf" (tens of thousands
# for one bad file). With no handler configured anywhere, Python's last-resort handler would print
# each on stderr; with this one they go only where the application sends logging (a log file).
logging.getLogger("pypdf").addHandler(logging.NullHandler())

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
      | [一—-]\d+[一—-]                                           # — 3 — as OCR reads it: 一3一
      | 第\d+页(?:[,，/]?共\d+页)?                               # 第3页, 第3页共10页, 第3页/共10页
      | 共\d+页[,，/]?第\d+页
      | \d+/\d+                                                 # 3/10
      | (?i:page)\d+(?:(?i:of)\d+)?                             # Page 3 of 10
    )$""",
    re.VERBOSE,
)
_PADDING = " \u3000\xa0"
_SPACE_RUN = re.compile(r"[ \t\xa0\u3000]+")


@dataclass(slots=True)  # one per printed line: thousands of pages make hundreds of thousands
class _Line:
    page: int
    text: str  # without leading and trailing padding
    lead: int  # leading columns on the page
    gap_before: bool  # a clear vertical gap separates it from the line above
    indent: int = 0  # columns right of the page's left margin (negative: sticks out left)
    width: float = 0.0  # printed width in full-width characters


def parse_pdf(data: bytes, source: str, suffix: str = ".pdf", limits: ReadLimits = ReadLimits()) -> RawText:
    """pypdf's complaints about the file are counted (and logged under "pypdf" and this module),
    never printed; a file that is skipped says how many there were."""
    with _pypdf_problems() as problems, _pypdf_limits(limits):
        try:
            return _parse_pdf(data, source, limits)
        except ReadError as exc:
            if not problems.count:
                raise
            raise ReadError(source, f"{exc.reason} (pypdf reported {problems.summary()})") from None
        finally:
            if problems.count:
                log.info("%s: pypdf reported %s", source, problems.summary())


class _ProblemCount(logging.Handler):
    """Counts the warnings pypdf logs while one file is read, and keeps the first."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.note(record.getMessage())

    def note(self, message: str) -> None:
        self.count += 1
        if not self.first:
            self.first = message.strip().splitlines()[0] if message.strip() else ""

    def summary(self) -> str:
        noun = "problem" if self.count == 1 else "problems"
        return f"{self.count:,} {noun}, the first: {self.first}" if self.first else f"{self.count:,} {noun}"


@contextmanager
def _pypdf_problems() -> Iterator[_ProblemCount]:
    # pypdf also warns through warnings.warn; catch_warnings is process-wide state, which is fine
    # where files are read (one at a time per process).
    problems = _ProblemCount()
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.addHandler(problems)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield problems
    finally:
        pypdf_log.removeHandler(problems)
        for warning in caught:
            problems.note(str(warning.message))


def _pypdf_limits(limits: ReadLimits):
    """pypdf's own bounds on what one stream may decompress to, lowered to max_inflated_bytes.

    pypdf before 6.5 has no per-call configuration; its built-in bounds (75 MB a stream) apply.
    """
    apply = getattr(pypdf, "apply_configuration", None)
    if apply is None:
        return nullcontext()
    current = pypdf.get_configuration()
    names = ("zlib_maximum_output_length", "lzw_maximum_output_length", "run_length_maximum_output_length",
             "brotli_maximum_output_length", "array_based_stream_maximum_output_length")
    overwrites = {n: min(getattr(current, n), limits.max_inflated_bytes) for n in names if hasattr(current, n)}
    return apply(**overwrites)


def _parse_pdf(data: bytes, source: str, limits: ReadLimits) -> RawText:
    if not data.strip():
        raise ReadError(source, "file is empty")
    if b"%PDF-" not in data[:1024]:
        raise ReadError(source, "PDF is corrupt or truncated: no %PDF- header, not a PDF file")
    # pypdf in non-strict mode rebuilds a cut-off file and quietly returns the pages it still
    # finds; a missing end marker is the reliable sign that the rest of the document is gone.
    if b"%%EOF" not in data[-4096:]:
        raise ReadError(source, "PDF is corrupt or truncated: the end-of-file marker is missing")

    reader = _open(data, source, limits)
    pages = _page_texts(reader, source, limits)
    # Pages without a text layer (a scan, or scanned pages inside a text PDF) are read by OCR.
    scanned = [i for i, text in enumerate(pages) if not text.strip()]
    ocr = None
    if scanned:
        if not ocr_available():
            if len(scanned) == len(pages):
                raise ReadError(source, f"PDF has no text layer (scanned image?): {_pages(len(pages))}, none with "
                                        f"text. {NOT_INSTALLED}")
        else:
            ocr = ocr_pdf_pages(data, scanned, source, limits)
            for i, text in zip(scanned, ocr.pages):
                pages[i] = text
    if not any(text.strip() for text in pages):
        raise ReadError(source, f"PDF has no text layer and OCR found none: {_pages(len(pages))}")
    paragraphs = layout_paragraphs(pages)
    if not paragraphs:
        raise ReadError(source, f"PDF has no text but page numbers: {_pages(len(pages))}")
    fields = _fields(reader)
    return RawText(source=source, text="\n\n".join(paragraphs), format="pdf", fields=fields,
                   ocr_confidence=round(ocr.confidence, 3) if ocr is not None else None,
                   ocr_unsure=tuple(ocr.unsure) if ocr is not None else ())


def _open(data: bytes, source: str, limits: ReadLimits) -> PdfReader:
    # pypdf signals malformed input with many exception types (PdfReadError, KeyError,
    # ValueError, struct.error, RecursionError ...), none of which the caller can act on
    # differently: each means the file is damaged.
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            _decrypt(reader, source, limits.pdf_passwords)
        # The page tree's own count first: listing the pages builds an object for each (10 s
        # for 30,000 pages). The count may lie; the pages listed are checked again below.
        _check_page_count(_declared_page_count(reader), source, limits)
        if len(reader.pages) == 0:
            raise ReadError(source, "PDF is corrupt or truncated: it has no pages")
    except ReadError:
        raise
    except FileNotDecryptedError:
        raise ReadError(source, _PASSWORD_REQUIRED) from None
    except Exception as exc:  # noqa: BLE001 - see above
        raise ReadError(source, f"PDF is corrupt or truncated: {_describe(exc)}") from None
    return reader


_PASSWORD_REQUIRED = "encrypted: password required (give it with --pdf-password or the setting pdf_passwords)"


def _decrypt(reader: PdfReader, source: str, passwords: tuple[str, ...]) -> None:
    """Opens an encrypted PDF with the empty password (one with only an owner password, which
    restricts printing or copying, opens so) or one of ``passwords``; ReadError when none does."""
    for password in ("", *passwords):
        try:
            if reader.decrypt(password) != PasswordType.NOT_DECRYPTED:
                return
        except DependencyError:
            raise ReadError(source, "encrypted with AES, which needs the cryptography package: "
                                    "pip install 'cryptography>=3.1'") from None
    if passwords:
        raise ReadError(source, f"encrypted: password required (none of the {len(passwords)} passwords "
                                "given opens it)")
    raise ReadError(source, _PASSWORD_REQUIRED)


def _declared_page_count(reader: PdfReader) -> int:
    try:
        count = reader.trailer["/Root"]["/Pages"]["/Count"]
        return int(count) if isinstance(count, int) else 0
    except Exception:  # noqa: BLE001 - a damaged page tree is named when the pages are listed
        return 0


def _check_page_count(count: int, source: str, limits: ReadLimits) -> None:
    if count > limits.max_pages:
        # pypdf keeps every page's parsed objects: memory and time grow with the page count.
        raise ReadError(source, over_limit(f"PDF has too many pages ({count:,})", f"{limits.max_pages:,} pages", "max_pdf_pages"))


def _page_texts(reader: PdfReader, source: str, limits: ReadLimits) -> list[str]:
    count = len(reader.pages)
    _check_page_count(count, source, limits)
    texts = []
    total = 0
    for number in range(1, count + 1):
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
        except LimitReachedError as exc:
            raise _limit_reached(source, number, exc, limits) from None
        except Exception:  # noqa: BLE001 - layout mode gives up on some fonts plain mode reads
            try:
                text = page.extract_text()
            except LimitReachedError as exc:
                raise _limit_reached(source, number, exc, limits) from None
            except Exception as exc:  # noqa: BLE001
                raise ReadError(source, f"PDF is corrupt or truncated: page {number}: {_describe(exc)}") from None
        text = text or ""
        # Layout mode pads lines with spaces: count the bytes of what is left once they are gone.
        total += len(text.encode("utf-8")) - text.count(" ")
        if total > limits.max_inflated_bytes:
            raise ReadError(source, over_limit(
                f"PDF has more than {byte_size(limits.max_inflated_bytes)} of text (by page {number:,} of {count:,})",
                byte_size(limits.max_inflated_bytes), "max_inflated_mb"))
        texts.append(text)
    return texts


def _pages(count: int) -> str:
    return "1 page" if count == 1 else f"{count:,} pages"


def _limit_reached(source: str, number: int, exc: LimitReachedError, limits: ReadLimits) -> ReadError:
    if "decompress" in str(exc):
        return ReadError(source, over_limit(
            f"a content stream of page {number:,} unpacks to more than {byte_size(limits.max_inflated_bytes)}",
            byte_size(limits.max_inflated_bytes), "max_inflated_mb"))
    return ReadError(source, f"PDF is corrupt or truncated: page {number:,}: {_describe(exc)}")


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


def layout_paragraphs(pages: list[str]) -> list[str]:
    """The paragraphs of pages laid out as text, one line a printed line, each indented by spaces
    as far as it stands from the left (pypdf's layout mode; the OFD reader writes its pages so),
    with running headers, footers and page numbers dropped."""
    return _paragraphs(_drop_running_lines([_page_lines(i, text) for i, text in enumerate(pages)]))


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


def _drop_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", without_spaces(line.text))

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
        numbers = {i for i in _edge_indexes(lines) if _PAGE_NUMBER.match(without_spaces(lines[i].text))}
        running = {i for i in range(min(EDGE_LINES, len(lines))) if key(lines[i]) in running_top}
        running |= {i for i in range(max(0, len(lines) - EDGE_LINES), len(lines)) if key(lines[i]) in running_bottom}
        if not set(range(len(lines))) - numbers - running:
            # A line repeated, digits aside, on most pages is a running header only beside other
            # text: as the page's only line it is the text ("Line of text on page 7.").
            running = set()
        drop = numbers | running
        kept = [line for i, line in enumerate(lines) if i not in drop]
        if kept:
            # A gap that only separated the body from a dropped header means nothing.
            kept[0].gap_before = False
        kept_pages.append(kept)
    return kept_pages


def _edge_indexes(lines: list[_Line]) -> set[int]:
    return set(range(min(EDGE_LINES, len(lines)))) | set(range(max(0, len(lines) - EDGE_LINES), len(lines)))


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
    return collapse_spaces(text, _SPACE_RUN, between_ascii)
