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
    yield from _blocks(document.element.body, styles, _Numbering.of(document))


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


def _blocks(container, styles: dict[str, int], numbering: "_Numbering"):
    for child in container.iterchildren():
        if child.tag == _P:
            text = _paragraph_text(child)
            label = numbering.label(child)  # counted for every numbered paragraph, with text or not
            if text:
                text = label + text
                level = _level(child, styles)
                yield f"{'#' * level} {text}" if level else text
        elif child.tag == _TBL:
            for row in child.iterchildren(_TR):
                for cell in row.iterchildren(_TC):
                    if not _merged_continuation(cell):
                        yield from _blocks(cell, styles, numbering)
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _blocks(content, styles, numbering)


_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL = "零壹贰叁肆伍陆柒捌玖"


def _chinese(n: int, digits: str = _CN_DIGITS, ten: str = "十") -> str:
    """1..99 the way Chinese numbering counts (一 … 十 十一 … 二十 … 九十九); larger as digits."""
    if n <= 0 or n >= 100:
        return "".join(digits[int(d)] for d in str(max(n, 0)))
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else digits[tens]) + ten if tens else "") + (digits[ones] if ones else "")


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                           (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out += numeral
            n -= value
    return out


def _letter(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


# w:numFmt values -> the number as written; bullets and "none" write no number.
_FORMATS = {
    "decimal": str, "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    "decimalFullWidth2": lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    "chineseCounting": _chinese, "chineseCountingThousand": _chinese, "taiwaneseCounting": _chinese,
    "taiwaneseCountingThousand": _chinese, "japaneseCounting": _chinese, "ideographTraditional": lambda n: "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10],
    "chineseLegalSimplified": lambda n: _chinese(n, _CN_LEGAL, "拾"),
    "ideographDigital": lambda n: "".join(_CN_DIGITS[int(d)] for d in str(n)).replace("零", "〇"),
    "decimalEnclosedCircle": lambda n: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
    "decimalEnclosedCircleChinese": lambda n: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
    "decimalEnclosedParen": lambda n: f"({n})", "decimalEnclosedFullstop": lambda n: f"{n}.",
    "lowerLetter": _letter, "upperLetter": lambda n: _letter(n).upper(),
    "lowerRoman": _roman, "upperRoman": lambda n: _roman(n).upper(),
}
_NUM_PR, _NUM_ID, _ILVL = qn("w:numPr"), qn("w:numId"), qn("w:ilvl")
_ABSTRACT, _ABSTRACT_ID, _NUM, _LVL = qn("w:abstractNum"), qn("w:abstractNumId"), qn("w:num"), qn("w:lvl")
_NUM_FMT, _LVL_TEXT, _START, _OVERRIDE, _START_OVERRIDE = (qn("w:numFmt"), qn("w:lvlText"), qn("w:start"),
                                                           qn("w:lvlOverride"), qn("w:startOverride"))


class _Numbering:
    """Word's automatic numbering (一、 （一） 1. written by list numbering, not typed), so that the
    labels sections come from are in the text: numbering.xml's levels (format, text, start) and a
    counter per list, counted in document order as Word counts them."""

    def __init__(self, numbering_xml=None, style_numbers: dict[str, tuple[str, int]] | None = None):
        self._levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId -> ilvl -> (fmt, text, start)
        self._counts: dict[str, list[int]] = {}
        self._style_numbers = style_numbers or {}
        if numbering_xml is None:
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for a in numbering_xml.iterchildren(_ABSTRACT):
            levels = {}
            for lvl in a.iterchildren(_LVL):
                fmt, text, start = lvl.find(_NUM_FMT), lvl.find(_LVL_TEXT), lvl.find(_START)
                levels[int(lvl.get(_ILVL, "0"))] = (fmt.get(_VAL, "decimal") if fmt is not None else "decimal",
                                                   text.get(_VAL, "") if text is not None else "",
                                                   int(start.get(_VAL, "1")) if start is not None else 1)
            abstract[a.get(_ABSTRACT_ID, "")] = levels
        for num in numbering_xml.iterchildren(_NUM):
            ref = num.find(_ABSTRACT_ID)
            levels = dict(abstract.get(ref.get(_VAL, "") if ref is not None else "", {}))
            for override in num.iterchildren(_OVERRIDE):
                start = override.find(_START_OVERRIDE)
                ilvl = int(override.get(_ILVL, "0"))
                if start is not None and ilvl in levels:
                    fmt, text, _ = levels[ilvl]
                    levels[ilvl] = (fmt, text, int(start.get(_VAL, "1")))
            self._levels[num.get(_NUM_ID, "")] = levels

    @classmethod
    def of(cls, document: Document) -> "_Numbering":
        try:
            xml = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return cls()
        style_numbers = {}
        for style in document.styles:
            ppr = style.element.find(_PPR)
            numpr = ppr.find(_NUM_PR) if ppr is not None else None
            if numpr is not None and numpr.find(_NUM_ID) is not None:
                ilvl = numpr.find(_ILVL)
                style_numbers[style.style_id] = (numpr.find(_NUM_ID).get(_VAL, ""),
                                                 int(ilvl.get(_VAL, "0")) if ilvl is not None else 0)
        return cls(xml, style_numbers)

    def label(self, paragraph) -> str:
        """The paragraph's number as Word shows it ("一、", "（一）", "1."), "" if it has none."""
        ppr = paragraph.find(_PPR)
        if ppr is None:
            return ""
        numpr = ppr.find(_NUM_PR)
        if numpr is not None and numpr.find(_NUM_ID) is not None:
            ilvl = numpr.find(_ILVL)
            num_id, level = numpr.find(_NUM_ID).get(_VAL, ""), int(ilvl.get(_VAL, "0")) if ilvl is not None else 0
        else:
            style = ppr.find(_PSTYLE)
            found = self._style_numbers.get(style.get(_VAL, "")) if style is not None else None
            if found is None:
                return ""
            num_id, level = found
        levels = self._levels.get(num_id)
        if not levels or level not in levels or not 0 <= level < 9:
            return ""  # numId 0 switches numbering off
        counts = self._counts.setdefault(num_id, [levels.get(k, ("", "", 1))[2] - 1 for k in range(9)])
        counts[level] += 1
        for deeper in range(level + 1, 9):
            counts[deeper] = levels.get(deeper, ("", "", 1))[2] - 1
        fmt, text, _ = levels[level]
        if fmt not in _FORMATS or not text:
            return ""  # a bullet, or no number

        def number(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            kfmt = levels.get(k, (fmt, "", 1))[0]
            return _FORMATS.get(kfmt, str)(max(counts[k], 1))

        return re.sub(r"%([1-9])", number, text)


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
