"""Where reports came from, as the corpus says beside them: a ``sources.csv`` in a corpus folder
(a row per file) or a ``<file>.meta.json`` next to one file. Either gives a report what its text
does not state, or states it better: the address it was published at, its publisher, issuers, date,
title and 文号. What is given here overrides what the metadata stage read (``metadata.supplied``).

sources.csv has a header row naming its columns, in English or Chinese (``COLUMNS``); the ``file``
column holds the file's path inside the corpus folder (``reports/a.pdf``) or, when that is unique,
its bare name. Several issuers are separated by ``；`` ``;`` or ``、``. A row that cannot be used (no
such file, a date that is no date) is reported with its line and skipped; the rest still apply.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import datetime as _dt

from indexer.model import ReadError
from indexer.reading.readers.plain import decode_bytes

SOURCES_CSV = "sources.csv"
META_SUFFIX = ".meta.json"
MAX_SIDECAR_BYTES = 16 << 20

# Each field's column names, the first the canonical one.
COLUMNS = {
    "file": ("file", "文件", "文件名", "path"),
    "url": ("url", "网址", "链接", "来源网址", "source_url"),
    "title": ("title", "标题", "题名"),
    "issuers": ("issuers", "issuer", "发文机关", "发文单位"),
    "publisher": ("publisher", "发布机构", "出版者"),
    "date": ("date", "日期", "发布日期", "成文日期"),
    "doc_number": ("doc_number", "docno", "文号", "发文字号"),
}
_ISSUER_SEPARATORS = re.compile(r"[；;、]")
_DATE = re.compile(r"\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?\s*月?)?\s*年?\s*")


def iso_date(text: str) -> str:
    """A date as people write it (2022-01-17, 2022/1/17, 2022年1月17日, 2022-01, 2022) in ISO form, or
    "" if it is no date."""
    m = _DATE.fullmatch(text)
    if not m:
        return ""
    y, mo, d = (int(g) if g else None for g in m.groups())
    try:
        _dt.date(y, mo or 1, d or 1)
    except ValueError:
        return ""
    return f"{y:04d}" + (f"-{mo:02d}" if mo else "") + (f"-{d:02d}" if d else "")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass(frozen=True)
class SourceRecord:
    """What a sidecar says of one file; "" (or ()) where it says nothing."""

    url: str = ""
    title: str = ""
    issuers: tuple[str, ...] = ()
    publisher: str = ""
    date: str = ""  # ISO yyyy-mm-dd (or yyyy-mm, yyyy)
    doc_number: str = ""
    origin: str = ""  # where it was said: "sources.csv line 3", "a.pdf.meta.json"

    def given(self) -> list[str]:
        """The fields the sidecar gives, by name."""
        return [f.name for f in fields(self) if f.name != "origin" and getattr(self, f.name)]

    def fingerprint(self) -> str:
        """What the record says, as one string: a change to it changes the report."""
        return json.dumps({k: v for k, v in asdict(self).items() if k != "origin"}, ensure_ascii=False,
                          sort_keys=True)


def is_sidecar(name: str) -> bool:
    """Whether a file name is a sidecar (read with its corpus, never indexed as a report)."""
    return name == SOURCES_CSV or name.endswith(META_SUFFIX)


def _record(values: dict[str, str], origin: str) -> SourceRecord:
    """A record of one row or JSON object; ValueError says what is wrong with it."""
    url = values.get("url", "").strip()
    if url and not _URL.fullmatch(url):
        raise ValueError(f"url {url[:80]!r} is not an http(s) address")
    date = values.get("date", "").strip()
    iso = iso_date(date) if date else ""
    if date and not iso:
        raise ValueError(f"date {date[:40]!r} is not a date (write 2022-01-17 or 2022年1月17日)")
    raw_issuers = values.get("issuers", "")
    issuers = raw_issuers if isinstance(raw_issuers, list) else _ISSUER_SEPARATORS.split(raw_issuers)
    return SourceRecord(url=url, title=values.get("title", "").strip(),
                        issuers=tuple(i.strip() for i in issuers if str(i).strip()),
                        publisher=values.get("publisher", "").strip(), date=iso,
                        doc_number=values.get("doc_number", "").strip(), origin=origin)


def _read_text(path: Path, name: str) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_SIDECAR_BYTES:
            raise ReadError(name, f"larger than {MAX_SIDECAR_BYTES >> 20} MB")
        return decode_bytes(path.read_bytes(), name)
    except OSError as exc:
        raise ReadError(name, f"cannot read it: {exc.strerror or exc}") from None


def _canonical_columns(header: list[str], name: str) -> dict[int, str]:
    by_alias = {alias.lower(): field for field, aliases in COLUMNS.items() for alias in aliases}
    out: dict[int, str] = {}
    unknown = []
    for i, col in enumerate(header):
        field = by_alias.get(col.strip().lower())
        if field is None:
            unknown.append(col.strip())
        elif field not in out.values():
            out[i] = field
    if "file" not in out.values():
        raise ReadError(name, "the header row has no file column (文件); columns: "
                              + ", ".join(aliases[0] for aliases in COLUMNS.values()))
    if unknown:
        raise ReadError(name, f"unknown column {unknown[0][:40]!r} (known: "
                              + ", ".join(f"{a[0]}/{a[1]}" for a in COLUMNS.values()) + ")")
    return out


def read_sources(root: Path, sources: list[str]) -> tuple[dict[str, SourceRecord], list[tuple[str, str]]]:
    """The records of the corpus folder ``root`` for its files ``sources`` (corpus-relative), and the
    problems found, as (sidecar name, reason): a sidecar that cannot be read at all, or one row of
    it. A file's ``.meta.json`` overrides its sources.csv row."""
    records: dict[str, SourceRecord] = {}
    problems: list[tuple[str, str]] = []
    known = set(sources)
    by_name: dict[str, list[str]] = {}
    for s in sources:
        by_name.setdefault(s.rsplit("/", 1)[-1], []).append(s)
    csv_path = root / SOURCES_CSV
    if csv_path.is_file():
        try:
            _read_csv(csv_path, known, by_name, records, problems)
        except ReadError as exc:
            problems.append((SOURCES_CSV, exc.reason))
    for source in sources:
        meta_path = root / (source + META_SUFFIX)
        if not meta_path.is_file():
            continue
        name = source + META_SUFFIX
        try:
            values = json.loads(_read_text(meta_path, name))
            if not isinstance(values, dict):
                raise ValueError("it holds no JSON object")
            canonical = _json_fields(values)
            records[source] = _record(canonical, name)
        except ReadError as exc:
            problems.append((name, exc.reason))
        except json.JSONDecodeError as exc:
            problems.append((name, f"not JSON: {exc.msg} at line {exc.lineno}"))
        except ValueError as exc:
            problems.append((name, str(exc)))
    return records, problems


def _json_fields(values: dict) -> dict:
    by_alias = {alias.lower(): field for field, aliases in COLUMNS.items() for alias in aliases}
    out = {}
    for key, value in values.items():
        field = by_alias.get(str(key).lower())
        if field is None or field == "file":
            raise ValueError(f"unknown key {str(key)[:40]!r} (known: "
                             + ", ".join(a[0] for f, a in COLUMNS.items() if f != "file") + ")")
        if field == "issuers" and isinstance(value, list):
            out[field] = [str(v) for v in value]
        elif not isinstance(value, (str, int)):
            raise ValueError(f"{key}: a text is expected")
        else:
            out[field] = str(value)
    return out


def _read_csv(path: Path, known: set[str], by_name: dict[str, list[str]], records: dict[str, SourceRecord],
              problems: list[tuple[str, str]]) -> None:
    rows = csv.reader(io.StringIO(_read_text(path, SOURCES_CSV)))
    header = next(rows, None)
    if not header:
        raise ReadError(SOURCES_CSV, "it has no header row")
    columns = _canonical_columns(header, SOURCES_CSV)
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {field: row[i] for i, field in columns.items() if i < len(row)}
        name = values.get("file", "").strip().replace("\\", "/").lstrip("./")
        where = f"{SOURCES_CSV} line {line}"
        if not name:
            problems.append((SOURCES_CSV, f"line {line}: no file named"))
            continue
        source = name if name in known else (by_name.get(name, [None])[0] if len(by_name.get(name, [])) == 1
                                             else None)
        if source is None:
            reason = "several files have that name: write its path" if len(by_name.get(name, [])) > 1 \
                else "no such file in the corpus"
            problems.append((SOURCES_CSV, f"line {line}: {name[:80]!r}: {reason}"))
            continue
        try:
            records[source] = _record(values, where)
        except ValueError as exc:
            problems.append((SOURCES_CSV, f"line {line}: {exc}"))
