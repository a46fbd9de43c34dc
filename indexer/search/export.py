"""Every hit of a search as rows, in the forms researchers take them away in: JSON Lines, CSV, TSV,
a JSON array and an Excel workbook. The rows come one at a time from ``SearchEngine.all_hits``
(the hits are matched and ordered once; each paragraph's text is read as its row is written), so
memory does not grow with the number of hits; only the xlsx container is assembled in a temporary
file before it is sent, since a zip's directory comes last.

Cells are the documents' text, which is untrusted: in CSV and TSV a cell that a spreadsheet would
take for a formula (starting with = + - @, a tab or a carriage return) gets a leading ' (as OWASP
advises for CSV injection); in xlsx every cell is stored as text, never as a formula; JSON keeps
the text exactly.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # the command line imports this module for its format names: kept light
    from indexer.search.results import Hit

# (key in JSON, header in CSV/TSV/xlsx)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("title", "报告标题"), ("region", "地区"), ("city", "市"), ("province", "省"), ("year", "年份"),
    ("doc_number", "文号"), ("issuer", "发文机关"), ("date", "日期"), ("section", "章节"),
    ("ordinal", "段落序号"), ("text", "段落原文"), ("permalink", "永久链接"), ("id", "段落编号"),
    ("report_id", "报告编号"),
)
# A pair of paragraphs of two reports sharing text (SearchEngine.reuse_pairs), for network analysis.
PAIR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("report_a", "报告A编号"), ("title_a", "报告A标题"), ("region_a", "报告A地区"), ("year_a", "报告A年份"),
    ("paragraph_a", "段落A编号"), ("report_b", "报告B编号"), ("title_b", "报告B标题"), ("region_b", "报告B地区"),
    ("year_b", "报告B年份"), ("paragraph_b", "段落B编号"), ("shared", "相同字数"), ("share", "占段落A比例"),
)
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(MEDIA_TYPES)
TEXT_FORMATS = ("jsonl", "csv", "tsv", "json")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SECTION_JOIN = " › "


def row_of(hit: Hit, permalink: str) -> dict:
    """One hit as an export row (``COLUMNS``' keys)."""
    ref = hit.report
    return {"title": ref.display_title, "region": ref.region, "city": ref.city, "province": ref.province,
            "year": ref.year, "doc_number": ref.doc_number, "issuer": "、".join(ref.issuers), "date": ref.date,
            "section": SECTION_JOIN.join(hit.section), "ordinal": hit.ordinal, "text": hit.text,
            "permalink": permalink, "id": hit.id, "report_id": ref.id}


def rows_of(hits: Iterable[Hit], permalink: Callable[[str], str]) -> Iterator[dict]:
    return (row_of(h, permalink(h.id)) for h in hits)


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def text_chunks(rows: Iterable[dict], fmt: str, *, bom: bool = False,
                columns: tuple[tuple[str, str], ...] = COLUMNS) -> Iterator[str]:
    """The rows in one of ``TEXT_FORMATS``, a piece at a time (a row, or the header). ``bom``: a
    UTF-8 byte order mark first in CSV and TSV, which spreadsheet programs need to read them as
    UTF-8 (a file; not on standard output); JSON never has one. ``columns``: (key, CSV header)."""
    if fmt not in TEXT_FORMATS:
        raise ValueError(f"not a text format: {fmt!r} (one of {', '.join(TEXT_FORMATS)})")
    if bom and fmt in ("csv", "tsv"):
        yield "\ufeff"
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    if fmt == "json":
        first = True
        yield "["
        for row in rows:
            yield ("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False)
            first = False
        yield "\n]\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\r\n")
    writer.writerow([label for _, label in columns])
    for row in rows:
        writer.writerow([_cell(row[key]) for key, _ in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()  # the header, when there was no row


def write_xlsx(rows: Iterable[dict], out: BinaryIO, *, sheet: str = "检索结果") -> int:
    """The rows as an Excel workbook written to ``out`` (openpyxl's write-only mode: rows go to
    disk as they come); every cell a text cell. Returns the number of rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)

    def cell(value) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, ILLEGAL_CHARACTERS_RE.sub("\ufffd", "" if value is None else str(value)))
        c.data_type = "s"  # text, even when it starts with = (a formula otherwise)
        return c

    ws.append([cell(label) for _, label in COLUMNS])
    n = 0
    for row in rows:
        ws.append([cell(row[key]) for key, _ in COLUMNS])
        n += 1
    book.save(out)
    return n
