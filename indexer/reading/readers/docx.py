"""Word .docx files: body and table-cell paragraphs in document order, heading styles as
markdown headings, headers and footers left out."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from io import BytesIO

import docx
from docx.document import Document
from docx.oxml.ns import qn
from lxml import etree

from indexer.model import RawText, ReadError, ReadLimits, byte_size, over_limit
from indexer.reading.readers.archive import bounded_zip
from indexer.normalise import between_ascii, collapse_spaces

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
# A line break inside a paragraph with the spaces around it (a paragraph's text is stripped first,
# so a break is never at either end).
_LINE_BREAK = re.compile(r"[ \t\u3000\xa0]*\n[ \t\u3000\xa0]*")
_TITLE_STYLES = {"title", "标题"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 (and WPS) files: OLE compound documents

_P, _TBL, _SDT, _SDT_CONTENT = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
_TR, _TC = qn("w:tr"), qn("w:tc")
_T, _TAB, _BR, _CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_TXBX, _DEL = qn("w:txbxContent"), qn("w:del")
_PPR, _PSTYLE, _OUTLINE = qn("w:pPr"), qn("w:pStyle"), qn("w:outlineLvl")
_VAL = qn("w:val")
_HMERGE, _VMERGE, _TCPR = qn("w:hMerge"), qn("w:vMerge"), qn("w:tcPr")


def parse_docx(data: bytes, source: str, suffix: str = ".docx", limits: ReadLimits = ReadLimits()) -> RawText:
    if not data:
        raise ReadError(source, "file is empty")
    if data[:8] == OLE_MAGIC:
        raise ReadError(source, "an old Word 97-2003 .doc file renamed to .docx; save it as .docx first")
    # python-docx reports damage as whatever its zip, XML and part layers happen to raise
    # (BadZipFile, KeyError, XMLSyntaxError, ValueError ...); all of them mean a damaged file.
    try:
        package = bounded_zip(data, source, limits, "DOCX")
        _check_body_size(package, source, limits)
        document = docx.Document(package)
        paragraphs = list(_paragraphs(document))
        title = (document.core_properties.title or "").strip()
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - see above
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise ReadError(source, f"DOCX is corrupt or not a Word document: {detail}") from None
    if not paragraphs:
        raise ReadError(source, "DOCX has no text")
    fields = {"标题": title} if title else {}
    return RawText(source=source, text="\n\n".join(paragraphs), format="docx", fields=fields)


_DOCUMENT_PART = "word/document.xml"


# python-docx builds the whole tree of every XML part, some 350 bytes per element, so the
# elements are bounded too: this many per paragraph of the paragraph limit is far more than
# even heavily formatted documents use (typically 10 to 50).
ELEMENTS_PER_PARAGRAPH = 50
# ... and beside the body, a package's styles, numbering, theme and settings (python-docx's own
# template has 18,600 elements).
PACKAGE_ELEMENTS = 100_000


def _check_body_size(package: BytesIO, source: str, limits: ReadLimits) -> None:
    """Count the body's paragraphs with text, and the XML elements of every part, in one
    streaming pass before python-docx builds the whole tree of each part: a document with
    millions of either is skipped in seconds instead of taking minutes and gigabytes."""
    budget = _ElementBudget(ELEMENTS_PER_PARAGRAPH * limits.max_paragraphs + PACKAGE_ELEMENTS, source)
    with zipfile.ZipFile(package) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels")):
                with archive.open(name) as part:
                    paragraphs = _count_paragraphs(part, budget)
                if name == _DOCUMENT_PART and paragraphs > limits.max_paragraphs:
                    raise ReadError(source, over_limit(
                        f"DOCX has too many paragraphs with text ({paragraphs:,})",
                        f"{limits.max_paragraphs:,}", "max_report_paragraphs"))
    package.seek(0)


@dataclass
class _ElementBudget:
    limit: int
    source: str
    used: int = 0

    def spend(self) -> None:
        self.used += 1
        if self.used > self.limit:
            raise ReadError(self.source, over_limit(
                f"DOCX has too many XML elements (more than {self.limit:,})",
                f"{self.limit:,} ({ELEMENTS_PER_PARAGRAPH} a paragraph of the paragraph limit"
                f" and {PACKAGE_ELEMENTS:,} for styles and settings)",
                "max_report_paragraphs"))


def _count_paragraphs(part, budget: _ElementBudget) -> int:
    """Paragraphs with text in one XML part, every element charged to the budget."""
    paragraphs = 0
    has_text = False
    for _, element in etree.iterparse(part, events=("end",), resolve_entities=False, huge_tree=True):
        budget.spend()
        if element.tag == _T:
            has_text = has_text or bool(element.text and element.text.strip())
        elif element.tag == _P:
            paragraphs += has_text
            has_text = False
        # Keep only what is still open: an ended element is not needed once counted.
        element.clear(keep_tail=True)
        while element.getprevious() is not None:
            del element.getparent()[0]
    return paragraphs


def _paragraphs(document: Document):
    styles = _style_levels(document)
    yield from _blocks(document.element.body, styles)


def _style_levels(document: Document) -> dict[str, int]:
    """Heading level of each paragraph style id: by name, else by the style's outline level."""
    levels: dict[str, int] = {}
    for style in document.styles:
        style_id = style.style_id
        name = (style.name or "").strip()
        match = _HEADING_STYLE.match(name)
        if match and int(match.group(1)) > 0:
            levels[style_id] = int(match.group(1))
        elif name.lower() in _TITLE_STYLES:
            levels[style_id] = 1
        else:
            ppr = style.element.find(_PPR)
            outline = ppr.find(_OUTLINE) if ppr is not None else None
            if outline is not None and outline.get(_VAL, "").isdigit() and int(outline.get(_VAL)) < 9:
                levels[style_id] = int(outline.get(_VAL)) + 1
    return levels


def _blocks(container, styles: dict[str, int]):
    for child in container.iterchildren():
        if child.tag == _P:
            text = _paragraph_text(child)
            if text:
                level = _level(child, styles)
                yield f"{'#' * level} {text}" if level else text
        elif child.tag == _TBL:
            for row in child.iterchildren(_TR):
                for cell in row.iterchildren(_TC):
                    if not _merged_continuation(cell):
                        yield from _blocks(cell, styles)
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _blocks(content, styles)


def _merged_continuation(cell) -> bool:
    # A vertically merged cell repeats in every row it spans; its text is in the first one.
    tcpr = cell.find(_TCPR)
    if tcpr is None:
        return False
    vmerge = tcpr.find(_VMERGE)
    hmerge = tcpr.find(_HMERGE)
    return (vmerge is not None and vmerge.get(_VAL) in (None, "continue")) or (
        hmerge is not None and hmerge.get(_VAL) in (None, "continue")
    )


def _level(paragraph, styles: dict[str, int]) -> int:
    ppr = paragraph.find(_PPR)
    if ppr is None:
        return 0
    outline = ppr.find(_OUTLINE)
    if outline is not None and outline.get(_VAL, "").isdigit():
        value = int(outline.get(_VAL))
        return value + 1 if value < 9 else 0  # 9 is "body text"
    style = ppr.find(_PSTYLE)
    return styles.get(style.get(_VAL), 0) if style is not None else 0


def _paragraph_text(paragraph) -> str:
    # Walking the XML rather than python-docx's runs also picks up text in hyperlinks, fields,
    # content controls and tracked insertions; deleted text and text boxes stay out.
    parts: list[str] = []
    for node in paragraph.iter(_T, _TAB, _BR, _CR):
        if any(ancestor.tag in (_TXBX, _DEL) for ancestor in node.iterancestors()):
            continue
        if node.tag == _T:
            parts.append(node.text or "")
        elif node.tag == _TAB:
            parts.append("\t")
        else:
            parts.append("\n")
    text = "".join(parts).strip(" \t\n\u3000\xa0")
    # A line break inside a paragraph is layout, not a paragraph boundary.
    return collapse_spaces(text, _LINE_BREAK, between_ascii)
