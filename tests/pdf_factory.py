"""Government-style PDFs for tests, drawn with reportlab the way Chinese official documents are laid out.

A4 page, 16 pt body text (三号), 28 full-width characters per line, every body paragraph's first
line indented by two character widths, a centred title, headings flush left without indent, a
running header on every page and a centred ``— N —`` page number in the footer.

Characters the CJK font lacks (ASCII, curly quotes, em dashes) are drawn in Helvetica, so the
extracted text shows the font-change gaps real PDFs have (``2021 年``).

A paragraph is drawn as a heading (flush left, no indent) when it fits on one line and starts
like a Chinese heading (``一、`` ``（一）`` ``1.`` ...), or when its index is in ``headings``.
"""
from __future__ import annotations

import os
import re
from collections.abc import Collection, Sequence

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

CJK_FONT_PATH = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
CJK_FONT = "DroidSansFallback"
LATIN_FONT = "Helvetica"

BODY_SIZE = 16.0
CHARS_PER_LINE = 28
LINE_WIDTH = BODY_SIZE * CHARS_PER_LINE
LEFT = (A4[0] - LINE_WIDTH) / 2
LINE_HEIGHT = 28.0
TOP = A4[1] - 100  # baseline of the first body line
BOTTOM = 90  # no body baseline below this
TITLE_SIZE = 22.0

_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+[.．、])")
# A line must not start with closing punctuation; such a character stays on the previous line.
_NO_LINE_START = set("，。、；：！？）》」』”’〕】,.;:!?)")

_cjk_face = None


def _cjk_font():
    global _cjk_face
    if _cjk_face is None:
        font = TTFont(CJK_FONT, CJK_FONT_PATH)
        pdfmetrics.registerFont(font)
        _cjk_face = font
    return _cjk_face


def _runs(text: str) -> list[tuple[str, str]]:
    """Split text into (font name, substring) runs: CJK font where it has the glyph, else Helvetica."""
    cmap = _cjk_font().face.charToGlyph
    runs: list[tuple[str, str]] = []
    for ch in text:
        font = CJK_FONT if ord(ch) in cmap and not ch.isascii() else LATIN_FONT
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs


def _width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(s, font, size) for font, s in _runs(text))


def _draw(c: canvas.Canvas, x: float, y: float, text: str, size: float) -> None:
    for font, s in _runs(text):
        c.setFont(font, size)
        c.drawString(x, y, s)
        x += pdfmetrics.stringWidth(s, font, size)


_TOKEN = re.compile(r"[A-Za-z0-9.%]+|.", re.DOTALL)


def _wrap(text: str, first_width: float, width: float, size: float) -> list[str]:
    """Break into lines like a word processor: never inside an ASCII word or number."""
    lines: list[str] = []
    current = ""
    limit = first_width
    for token in _TOKEN.findall(text):
        if current and _width(current + token, size) > limit + 0.01 and token not in _NO_LINE_START:
            lines.append(current)
            current = ""
            limit = width
        if not current and token == " " and lines:
            continue  # a space where a line breaks is not drawn
        current += token
    if current:
        lines.append(current)
    return lines


def is_heading(paragraph: str) -> bool:
    return bool(_HEADING.match(paragraph)) and _width(paragraph, BODY_SIZE) <= LINE_WIDTH


def make_gov_pdf(
    path: str | os.PathLike,
    title: str,
    paragraphs: Sequence[str],
    *,
    header: str | None = "法治政府建设年度报告（公开）",
    page_numbers: bool = True,
    page_number_format: str = "— {n} —",
    headings: Collection[int] = (),
) -> int:
    """Write the document to ``path`` and return the number of pages.

    ``page_number_format`` may use ``{n}`` and ``{total}`` (e.g. ``"第 {n} 页 共 {total} 页"``).
    """
    _cjk_font()
    # Lay out first, so that the page count is known when page numbers are drawn.
    pages: list[list[tuple[float, float, str, float]]] = [[]]
    y = TOP
    for k, line in enumerate(title.split("\n") if title else []):  # a long title: lines split at "\n", each centred
        y -= LINE_HEIGHT * 0.6 if k else 0
        pages[-1].append(((A4[0] - _width(line, TITLE_SIZE)) / 2, y, line, TITLE_SIZE))
        y -= LINE_HEIGHT
    y -= LINE_HEIGHT if title else 0
    for index, paragraph in enumerate(paragraphs):
        indent = 0.0 if (index in headings or is_heading(paragraph)) else 2 * BODY_SIZE
        for line_no, line in enumerate(_wrap(paragraph, LINE_WIDTH - indent, LINE_WIDTH, BODY_SIZE)):
            if y < BOTTOM:
                pages.append([])
                y = TOP
            pages[-1].append((LEFT + (indent if line_no == 0 else 0.0), y, line, BODY_SIZE))
            y -= LINE_HEIGHT

    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle(title.replace("\n", ""))
    for number, lines in enumerate(pages, start=1):
        if header:
            _draw(c, (A4[0] - _width(header, 10.5)) / 2, A4[1] - 50, header, 10.5)
            c.setLineWidth(0.5)
            c.line(LEFT, A4[1] - 56, LEFT + LINE_WIDTH, A4[1] - 56)
        for x, y, text, size in lines:
            _draw(c, x, y, text, size)
        if page_numbers:
            label = page_number_format.format(n=number, total=len(pages))
            _draw(c, (A4[0] - _width(label, 14)) / 2, 45, label, 14)
        c.showPage()
    c.save()
    return len(pages)
