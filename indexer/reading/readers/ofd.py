"""OFD files (GB/T 33190, the national format of electronic government documents): a zip of XML.

``OFD.xml`` names the document (``DocBody/DocRoot`` -> ``Doc_0/Document.xml``) and carries its
``DocInfo`` (Title, Author, CreationDate); ``Document.xml`` lists the pages (``Pages/Page/@BaseLoc``)
and the default page size; each page's ``Content.xml`` holds ``TextObject`` elements, each placed by
its ``Boundary`` ("x y width height", millimetres, y downwards) with ``TextCode`` runs at X, Y (the
baseline) inside it, in font ``Size`` millimetres.

The text is put back in reading order from those positions (``layout.page_layout``), and the PDF
reader's paragraph recovery then reads these pages as it reads a PDF's layout text, so indents,
centred titles, running headers and page numbers come out the same.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from xml.etree import ElementTree

from indexer.model import RawText, ReadError, ReadLimits, over_limit
from indexer.reading.readers.archive import bounded_zip
from indexer.reading.readers.layout import Run, page_layout
from indexer.reading.readers.pdf import layout_paragraphs

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse_ofd(data: bytes, source: str, suffix: str = ".ofd", limits: ReadLimits = ReadLimits()) -> RawText:
    if not data.startswith(b"PK"):
        raise ReadError(source, "OFD is corrupt or not an OFD file: not a zip archive")
    try:
        archive = zipfile.ZipFile(bounded_zip(data, source, limits, "OFD"))
        root = _xml(archive, "OFD.xml", source)
        body = _child(root, "DocBody")
        doc_path = _text(_child(body, "DocRoot")).lstrip("/") if body is not None else ""
        if not doc_path:
            raise ReadError(source, "OFD is corrupt: OFD.xml names no document (DocBody/DocRoot)")
        document = _xml(archive, doc_path, source)
        page_paths = [_resolve(doc_path, p.get("BaseLoc", "")) for p in document.findall(".//{*}Page")]
        if len(page_paths) > limits.max_pages:
            raise ReadError(source, over_limit(f"OFD has {len(page_paths):,} pages", f"{limits.max_pages:,}",
                                               "max_pdf_pages"))
        pages = [page_layout(_runs(_xml(archive, path, source))) for path in page_paths if path]
        fields = _doc_info(body)
    except ReadError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError, EOFError) as exc:
        raise ReadError(source, f"OFD is corrupt: {type(exc).__name__}: {exc}") from None
    if not any(page.strip() for page in pages):
        raise ReadError(source, f"OFD has no text (scanned pages?): {len(pages)} page(s), none with text")
    paragraphs = layout_paragraphs(pages)
    if not paragraphs:
        raise ReadError(source, "OFD has no text but page numbers")
    return RawText(source=source, text="\n\n".join(paragraphs), format="ofd", fields=fields)


def _xml(archive: zipfile.ZipFile, name: str, source: str) -> ElementTree.Element:
    try:
        data = archive.read(name)
    except KeyError:
        raise ReadError(source, f"OFD is corrupt: it lacks {name}") from None
    return ElementTree.fromstring(data)


def _resolve(doc_path: str, loc: str) -> str:
    """A page's BaseLoc: from the archive's root when absolute, else from the document's folder."""
    if not loc:
        return ""
    if loc.startswith("/"):
        return posixpath.normpath(loc.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(doc_path), loc))


def _child(element: ElementTree.Element | None, name: str) -> ElementTree.Element | None:
    return element.find("{*}" + name) if element is not None else None


def _text(element: ElementTree.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _doc_info(body: ElementTree.Element | None) -> dict[str, str]:
    """DocInfo as the metadata stage's fields: 标题, 作者, 成文日期."""
    info = _child(body, "DocInfo")
    fields = {}
    for tag, label in (("Title", "标题"), ("Author", "作者"), ("CreationDate", "成文日期")):
        value = _text(_child(info, tag))
        if value:
            fields[label] = value
    return fields


def _numbers(value: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(value or "")]


def _runs(page: ElementTree.Element) -> list[Run]:
    out = []
    for obj in page.findall(".//{*}TextObject"):
        box = _numbers(obj.get("Boundary"))
        bx, by = (box[0], box[1]) if len(box) >= 2 else (0.0, 0.0)
        size = (_numbers(obj.get("Size")) or [3.5])[0] or 3.5
        for code in obj.findall(".//{*}TextCode"):
            text = code.text or ""
            if text.strip():
                x = (_numbers(code.get("X")) or [0.0])[0]
                y = (_numbers(code.get("Y")) or [0.0])[0]
                out.append(Run(bx + x, by + y, size, text))
    return out
