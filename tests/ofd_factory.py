"""OFD files (GB/T 33190) for tests, laid out like Chinese official documents: A4 pages, a centred
title, body paragraphs of 28 characters a line with a two-character first-line indent, headings
flush left, a running header and a centred ``— N —`` page number. Text is placed as OFD writers
place it: one TextObject a line, or (``per_char``) one a character, as some converters write."""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

NS = "http://www.ofdspec.org/2016"
SIZE = 5.6  # mm, about 16 pt
PITCH = 10.0  # mm between baselines
LEFT = 27.0
CHARS = 28
TOP, BOTTOM = 40.0, 260.0
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+[.．、])")


def _width(text: str) -> float:
    return sum(1 if ord(c) > 0x2E80 else 0.5 for c in text)


def _wrap(text: str, first: float, rest: float) -> list[str]:
    lines, line, room = [], "", first
    for ch in text:
        # A number or a Latin word is not broken across lines, as layout engines keep it whole.
        if _width(line + ch) > room and not (line and line[-1].isascii() and line[-1].isalnum() and ch.isascii()):
            lines.append(line)
            line, room = "", rest
        line += ch
    return lines + ([line] if line else [])


def _text_objects(x: float, y: float, text: str, per_char: bool, next_id) -> list[str]:
    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    if not per_char:
        return [f'<ofd:TextObject ID="{next_id()}" Boundary="{x:.2f} {y - SIZE:.2f} {_width(text) * SIZE:.2f} '
                f'{SIZE * 1.3:.2f}" Font="1" Size="{SIZE}"><ofd:TextCode X="0" Y="{SIZE:.2f}">{esc(text)}'
                f'</ofd:TextCode></ofd:TextObject>']
    out, at = [], x
    for ch in text:
        out.append(f'<ofd:TextObject ID="{next_id()}" Boundary="{at:.2f} {y - SIZE:.2f} {SIZE:.2f} {SIZE * 1.3:.2f}" '
                   f'Font="1" Size="{SIZE}"><ofd:TextCode X="0" Y="{SIZE:.2f}">{esc(ch)}</ofd:TextCode></ofd:TextObject>')
        at += SIZE if ord(ch) > 0x2E80 else SIZE / 2
    return out


def make_gov_ofd(path: str | Path, title: str, paragraphs: Sequence[str], *, author: str = "",
                 creation_date: str = "", header: str | None = "法治政府建设年度报告（公开）",
                 per_char: bool = False) -> int:
    """Write the document to ``path``; returns its number of pages."""
    counter = iter(range(10, 10_000_000))
    next_id = lambda: next(counter)  # noqa: E731
    pages: list[list[str]] = [[]]
    y = TOP

    def place(x: float, text: str) -> None:
        nonlocal y
        if y > BOTTOM:
            pages.append([])
            y = TOP
        pages[-1].extend(_text_objects(x, y, text, per_char, next_id))
        y += PITCH

    place(LEFT + (CHARS - _width(title)) / 2 * SIZE, title)
    y += PITCH
    for para in paragraphs:
        if _HEADING.match(para) and _width(para) <= CHARS:
            place(LEFT, para)
            continue
        for k, line in enumerate(_wrap(para, CHARS - 2, CHARS)):
            place(LEFT + (2 * SIZE if k == 0 else 0), line)
    files: dict[str, str] = {}
    page_refs = []
    for n, objects in enumerate(pages, 1):
        extra = []
        if header:
            extra += _text_objects(LEFT + (CHARS - _width(header)) / 2 * SIZE, 20.0, header, per_char, next_id)
        number = f"— {n} —"
        extra += _text_objects(LEFT + (CHARS - _width(number)) / 2 * SIZE, 285.0, number, per_char, next_id)
        files[f"Doc_0/Pages/Page_{n - 1}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer ID="{next_id()}">'
            + "".join(objects + extra) + "</ofd:Layer></ofd:Content></ofd:Page>")
        page_refs.append(f'<ofd:Page ID="{next_id()}" BaseLoc="Pages/Page_{n - 1}/Content.xml"/>')
    files["Doc_0/Document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
        '<ofd:MaxUnitID>99</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>'
        f'</ofd:CommonData><ofd:Pages>{"".join(page_refs)}</ofd:Pages></ofd:Document>')
    info = "".join(f"<ofd:{tag}>{value}</ofd:{tag}>" for tag, value in
                   (("Title", title), ("Author", author), ("CreationDate", creation_date)) if value)
    files["OFD.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD"><ofd:DocBody>'
        f'<ofd:DocInfo><ofd:DocID>0c5e</ofd:DocID>{info}</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>'
        '</ofd:DocBody></ofd:OFD>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    Path(path).write_bytes(buffer.getvalue())
    return len(pages)
