"""Report metadata from front matter, back matter, body and container fields.

Only what the document says is extracted; anything it does not say stays empty. Everything here
takes plain strings: the structure stage (structure.py) sorts lines into front, back and body and
hands over their texts, so this module does not know its line or block types.
"""
from __future__ import annotations

import re
from collections import Counter

from indexer.model import SOURCE_URL_FIELD, ReportMeta
from indexer.normalise import tidy_spaces, without_spaces
from indexer.reading import gazetteer
from indexer.reading.sources import SourceRecord

_HEADER_LABELS = ["索引号", "发文字号", "发布机构", "公文时效", "主题分类", "发布日期", "成文日期", "文号", "标题", "浏览", "来源", "发文机关", "生成日期"]
_LABEL_RE = re.compile(
    "(" + "|".join(r"\s*".join(label) for label in sorted(_HEADER_LABELS, key=len, reverse=True)) + r")\s*[:：]"
)
DOCNO_RE = re.compile(
    r"[\u4e00-\u9fff]{1,10}\s*[〔\[［(（【]\s*(?:19|20)\d{2}\s*[〕\]］)）】]\s*\d{1,4}\s*号"
)
_DATE_RE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_LINE = re.compile(r"^\s*(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(印发|印)?\s*$")
_ISO_DATE = re.compile(r"((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_ORG_SUFFIX = re.compile(
    r"(人民政府|政府办公室|办公室|县委|区委|市委|党委|委员会|人民代表大会常务委员会|常委会|司法局|局|厅|委|办)$"
)
_PUNCT = re.compile(r"[，。；：:、！？!?,;（）()《》“”]")
_DOC_TYPES = ["工作要点", "实施方案", "工作方案", "工作计划", "规划", "方案", "报告", "总结", "通知", "意见", "计划", "办法", "决定", "要点"]


class WebHeader:
    """The 信息公开 header at the top of a web-page dump, read one line at a time into ``fields``.
    Line by line, so that the structure stage can stop a report at its paragraph limit before all
    its lines exist."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        self._seen_label = False

    def take(self, text: str) -> bool:
        """Whether the line belongs to the header (its fields are then in ``fields``); the first
        line that does not ends the header."""
        fields = self.fields
        matches = list(_LABEL_RE.finditer(text))
        if matches and matches[0].start() == 0:
            self._seen_label = True
            for k, m in enumerate(matches):
                end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
                value = text[m.end():end].strip()
                label = without_spaces(m.group(1))
                if value and not fields.get(label):
                    fields[label] = value
            return True
        if self._seen_label:
            m = DOCNO_RE.match(text)
            if m and text[m.end():m.end() + 1] in (":", "："):
                fields.setdefault("标题", text[m.end() + 1:].strip())
                fields.setdefault("文号", m.group())
                return True
        return False


def is_date_line(text: str) -> bool:
    return bool(_DATE_LINE.match(text))


def is_org_line(text: str) -> bool:
    t = text.replace(" ", "")
    return 2 < len(t) <= 30 and not _PUNCT.search(t) and bool(_ORG_SUFFIX.search(t)) and not t.endswith("文件")


def is_back_matter_line(text: str) -> bool:
    return is_date_line(text) or is_org_line(text)


def iso_date(text: str) -> str:
    m = _DATE_RE.search(text) or _ISO_DATE.search(text)
    if not m:
        return ""
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return ""
    return f"{y:04d}-{mo:02d}-{d:02d}"


def _doc_type_of(title: str) -> str:
    t = title.rstrip("。 ")
    m = re.search(r"印发(.+?)的通知$", t)
    if m:
        inner = m.group(1).strip("《》")
        inner_type = _doc_type_of(inner)
        if inner_type:
            return inner_type
    for kind in _DOC_TYPES:
        if t.endswith(kind) or t.endswith(kind + "》"):
            return "工作要点" if kind == "要点" else kind
    return ""


def _add(values: list[str], value: str) -> None:
    value = value.strip()
    if value and value not in values:
        values.append(value)


REGION_SCAN_CHARS = 20_000


def _prefix(texts: list[str], limit: int) -> list[str]:
    out, used = [], 0
    for t in texts:
        if used >= limit:
            break
        out.append(t[: limit - used])
        used += len(out[-1])
    return out


def extract_meta(front: list[str], back: list[str], body: list[str], fields: dict[str, str]) -> ReportMeta:
    """``front``: the lines before the first heading or prose; ``back``: the closing date and
    issuer lines; ``body``: the headings and body paragraphs, in order."""
    meta = ReportMeta(fields=dict(fields))
    issuers: list[str] = []
    title_candidates: list[str] = []
    for line in front:
        compact = line.replace(" ", "")
        m = DOCNO_RE.search(line)
        if m and not meta.doc_number:
            meta.doc_number = without_spaces(m.group())
        sm = re.search(r"签\s*发\s*人\s*[:：]\s*(\S+)", line)
        if sm:
            meta.signer = sm.group(1)
        if m or sm:
            continue
        if compact.endswith("文件") and len(compact) <= 30:
            _add(issuers, compact[: -len("文件")])  # the red head: "<issuer>文件"
            continue
        if compact.endswith((":", "：")):
            meta.recipient = compact.rstrip(":：")
            continue
        if "关于" in compact or _doc_type_of(compact):
            title_candidates.append(line)
            continue
        if is_org_line(compact):
            _add(issuers, compact)

    if title_candidates:
        title_line = max(title_candidates, key=lambda t: ("关于" in t, len(t)))
        title = tidy_spaces(title_line)
        # "<issuer> 关于…": a red-head style title that names its issuer first.
        head, sep, _ = title_line.partition("关于")
        if sep and head.strip() and is_org_line(head.strip()):
            _add(issuers, head.replace(" ", ""))
        meta.title = title.replace(" ", "") if re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", title_line) else title
    elif fields.get("标题"):
        meta.title = DOCNO_RE.sub("", fields["标题"]).lstrip(":： ")

    for i, text in enumerate(back):
        if is_org_line(text):
            nxt = back[i + 1] if i + 1 < len(back) else ""
            if not nxt.rstrip().endswith(("印发", "印")):
                _add(issuers, text.replace(" ", ""))
    meta.issuers = issuers

    for text in back:
        if is_date_line(text):
            meta.date = iso_date(text)
            break
    if not meta.date:
        for label in ("成文日期", "发布日期"):
            if fields.get(label):
                meta.date = iso_date(fields[label])
                if meta.date:
                    break
    meta.source_url = fields.get(SOURCE_URL_FIELD, "")
    if not meta.doc_number and fields.get("发文字号"):
        meta.doc_number = without_spaces(fields["发文字号"])
    if not meta.doc_number and fields.get("文号"):
        meta.doc_number = without_spaces(fields["文号"])

    first_body = next((t for t in body if len(t) > 30), "")
    ym = re.search(r"((?:19|20)\d{2})\s*年", meta.title) or re.search(r"((?:19|20)\d{2})\s*年", first_body)
    if ym:
        meta.year = int(ym.group(1))

    meta.doc_type = _doc_type_of(meta.title)
    if not meta.doc_type and not meta.title:
        for kind in ("报告", "总结"):
            if re.search(kind + r"如下", first_body):
                meta.doc_type = kind
                break

    named = gazetteer.find_counties(" ".join(issuers + [meta.title] + front))
    if named:
        place = named[0]
    else:
        counts: Counter = Counter()
        # The region is named early; scanning a bounded prefix keeps huge files linear and fast.
        for text in _prefix(body, REGION_SCAN_CHARS):
            for p in gazetteer.find_counties(text):
                counts[p] += text.count(p.county) or 1
        place = counts.most_common(1)[0][0] if counts else None
    if place is not None:
        meta.region, meta.city, meta.province = place.county, place.city, place.province
    return meta


def with_source(meta: ReportMeta, record: SourceRecord) -> ReportMeta:
    """The metadata with what the corpus's sidecar says of the file put in place of what was read
    (``sources``); each field it gives is marked with where it came from."""
    if record.title:
        meta.title = record.title
        meta.doc_type = _doc_type_of(record.title) or meta.doc_type
        ym = re.search(r"((?:19|20)\d{2})\s*年", record.title)
        if ym and meta.year is None:
            meta.year = int(ym.group(1))
    if record.issuers:
        meta.issuers = list(record.issuers)
    if record.date:
        meta.date = record.date
    if record.doc_number:
        meta.doc_number = record.doc_number
    if record.url:
        meta.source_url = record.url
    if record.publisher:
        meta.publisher = record.publisher
    meta.supplied = {name: record.origin for name in record.given()}
    return meta
