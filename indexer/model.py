"""The typed values that flow between the pipeline stages.

file -> reader (RawText) -> structure (Report of Paragraphs with SectionPaths and ReportMeta)
-> indexing -> index. What a search returns (hits, results) is the search stage's own
(indexer/search/), since only it and the presentation above it use those types.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

ParagraphKind = Literal["heading", "body"]
# The categories of legal texts a ReportMeta.doc_type may be (reading.legal.category_of); a report's
# doc_type is none of them.
LEGAL_TYPES = ("法律", "行政法规", "地方性法规", "自治条例", "单行条例", "部门规章", "地方政府规章", "司法解释",
               "规范性文件")
# The last element of a legal text's paragraph's section path: its article (第二十三条, 第十条之一).
ARTICLE_LABEL = re.compile(r"第[零〇一二两三四五六七八九十百千0-9]+条(?:之[零〇一二三四五六七八九十]+)?")
SectionPath = tuple[str, ...]


class ReadError(Exception):
    """A file that cannot be turned into a report; the message names the file and the reason."""

    def __init__(self, source: str, reason: str):
        # One line per skipped file, whatever a library put in its exception's message.
        reason = " ".join(reason.split()) if "\n" in reason or "\r" in reason else reason
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on one input file, so that its memory stays a small multiple of them.

    ``max_file_bytes``: bytes on disk; ``max_inflated_bytes``: what a compressed container (a
    .docx's XML parts, a PDF's content streams) may unpack to; ``max_paragraphs``: paragraphs one
    report may have; ``max_pages``: pages of a PDF (pypdf keeps every page's objects, so memory
    grows with them). A file over a limit is skipped with a ReadError naming the limit and the
    setting that raises it.
    """

    max_file_bytes: int = 64 << 20
    max_inflated_bytes: int = 64 << 20
    max_paragraphs: int = 20_000
    max_pages: int = 10_000
    # Not a bound but what a reader may also use on one file: the passwords to try on an encrypted
    # PDF (the empty one is always tried first: a PDF with only an owner password opens with it).
    pdf_passwords: tuple[str, ...] = ()
    ocr_cache: Path | None = None  # where OCR results are kept by file hash (None: not kept)

    @classmethod
    def from_settings(cls, settings) -> "ReadLimits":
        """From ``indexer.config.Settings`` (max_file_mb, max_inflated_mb, max_report_paragraphs,
        max_pdf_pages, pdf_passwords)."""
        return cls(
            max_file_bytes=settings.max_file_mb << 20,
            max_inflated_bytes=settings.max_inflated_mb << 20,
            max_paragraphs=settings.max_report_paragraphs,
            max_pages=settings.max_pdf_pages,
            pdf_passwords=tuple(settings.pdf_passwords),
            ocr_cache=settings.ocr_cache,
        )


def over_limit(what: str, limit: str, setting: str) -> str:
    """The reason a file over a limit is skipped: what it has, the limit, the setting to raise."""
    return f"{what}, over the limit of {limit} (raise setting {setting}, env POLICY_SEARCH_{setting.upper()})"


def byte_size(n: int) -> str:
    """64 MB, 1.5 MB, 100 KB, 999 bytes."""
    for unit, shift in (("MB", 20), ("KB", 10)):
        if n >= 1 << shift:
            return f"{n >> shift} {unit}" if n % (1 << shift) == 0 else f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True)
class RawText:
    """What a reader hands on: the document's text with blank lines between paragraphs.

    Readers of formats that know their headings (docx heading styles) mark them with a leading
    markdown ``#``, so the structure stage sees one dialect whatever the file format was.
    ``fields`` holds metadata the container itself carried (the HTML 信息公开 table, docx core
    properties), keyed by the Chinese label (索引号, 发文字号, 发布机构, 发布日期, 标题 ...).
    """

    source: str
    text: str
    format: str
    fields: dict[str, str] = field(default_factory=dict)
    ocr_confidence: float | None = None  # read by OCR (some pages or all): the mean confidence of its text
    # Runs OCR read with low confidence, as (before, run, after) anchors (readers.ocr.unsure_runs).
    ocr_unsure: tuple[tuple[str, str, str], ...] = ()


# The RawText field of the address a page says it lives at (an HTML page's canonical URL).
SOURCE_URL_FIELD = "网址"


@dataclass
class ReportMeta:
    title: str = ""
    issuers: list[str] = field(default_factory=list)
    doc_number: str = ""
    date: str = ""  # ISO yyyy-mm-dd, or "" when the report does not say
    region: str = ""  # county or district
    city: str = ""
    province: str = ""
    year: int | None = None  # the year the report covers
    doc_type: str = ""  # 报告 / 总结 / 工作要点 / 通知 ...
    recipient: str = ""  # 主送 line, e.g. 海东市人民政府
    signer: str = ""  # 签发人
    fields: dict[str, str] = field(default_factory=dict)
    source_url: str = ""  # the address it was published at (a sidecar's url, an HTML page's canonical URL)
    publisher: str = ""  # who published it, when a sidecar says (else the first issuer is)
    supplied: dict[str, str] = field(default_factory=dict)  # field -> the sidecar that gave it
    ocr: bool = False  # its text (some pages or all) was read from scans by OCR
    ocr_confidence: float | None = None  # OCR's mean confidence (0..1)
    ocr_unsure: list[list[int]] = field(default_factory=list)  # [paragraph ordinal, start, end] read unsure
    # A legal text's 题注 (reading.legal.Version.to_dict): its versions and when it took effect.
    versions: list[dict] = field(default_factory=list)
    effective: str = ""  # yyyy-mm-dd of 施行, when stated
    validity: str = ""  # 现行有效 / 已修改 / 部分失效 / 失效 / 尚未生效, when stated

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Paragraph:
    ordinal: int  # 1-based position in the report
    kind: ParagraphKind
    section: SectionPath  # enclosing heading titles, outermost first (a heading includes itself)
    text: str  # original text, for display and citation
    # The source paragraph (1-based, within the report) this one is part of: a run-in heading and
    # the body run in after it, or the chunks of a paragraph split at max_chunk_chars, share one,
    # and the terms of an AND are matched over all of it. 0: a paragraph of its own.
    block: int = 0

    def to_dict(self) -> dict:
        return {"ordinal": self.ordinal, "kind": self.kind, "section": list(self.section), "text": self.text,
                "block": self.block}


@dataclass
class Report:
    source: str  # path as given (corpus-relative when indexed)
    format: str
    meta: ReportMeta
    paragraphs: list[Paragraph]

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "ok": True,
            "meta": self.meta.to_dict(),
            "paragraphs": [p.to_dict() for p in self.paragraphs],
        }
