"""What a legal text says of itself: its 题注 (the versions: 通过, 修正, 修订, 公布, 施行 …, with
their dates and bodies), its category (法律, 行政法规, 地方性法规, 部门规章, 规范性文件 …) and its
validity when stated (现行有效, 已修改, 失效).

A law saved as text opens with its title, then a 题注 in parentheses, sometimes over several lines:
    中华人民共和国行政诉讼法
    （1989年4月4日第七届全国人民代表大会第二次会议通过　根据2014年11月1日第十二届全国人民代表大会
    常务委员会第十一次会议《关于修改〈中华人民共和国行政诉讼法〉的决定》第一次修正 …）
A regulation's 题注 names its 令 instead: （2019年10月22日中华人民共和国国务院令第722号公布　自2020年1月1日起施行）.

The structure stage (structure.py) finds the 题注 among the front lines and the articles in the body;
``legal_meta`` puts what they say over the report metadata. Only what the text says is taken: a
category is inferred from the issuer and the title's ending, never from the corpus folder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.model import ReportMeta
from indexer.normalise import without_spaces

NUMERALS = "零〇一二两三四五六七八九十百千0-9０-９"
# The events a 题注 dates, as the texts write them; 施行 is when it takes effect, not a version.
EVENTS = ("通过", "修正", "修订", "公布", "发布", "印发", "批准", "施行")
VERSION_EVENTS = ("通过", "修正", "修订", "公布", "发布", "印发", "批准")
_DATE = r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_EVENT = re.compile(rf"(自\s*)?{_DATE}(起)?(.*?)(?:第[{NUMERALS}]+次)?\s*(通过|修正|修订|公布|发布|印发|批准|施行)")
_TITLED = re.compile(r"《[^《》]*(?:《[^《》]*》[^《》]*)*》")
_SESSION = re.compile(rf"第[{NUMERALS}]+(届|次)|常务会议|会议|根据|^由|的$")
_ORDER = re.compile(rf"([\u4e00-\u9fff]{{0,20}}令)\s*[(（]?\s*第\s*([{NUMERALS}]+)\s*号\s*[)）]?")
_VALIDITY = re.compile(r"(?:时效性|效力状态|时效状态|有效性|时效)\s*[:：】\]]\s*(现行有效|有效|已修改|已被修改|部分失效|已失效|失效|已废止|废止|尚未生效)")
_VALIDITY_MARK = re.compile(r"[(（【\[]\s*(现行有效|已修改|已被修改|部分失效|已失效|失效|已废止|废止|尚未生效)\s*[)）】\]]")
_VALIDITY_NAMES = {"有效": "现行有效", "已被修改": "已修改", "已失效": "失效", "已废止": "失效", "废止": "失效"}
# A title ends with its form: what kind of instrument it is.
FORMS = ("实施细则", "细则", "条例", "规定", "办法", "规则", "准则", "决定", "解释", "意见", "通知", "规程", "法")


@dataclass(frozen=True)
class Version:
    event: str  # one of EVENTS
    date: str  # yyyy-mm-dd
    body: str  # who did it, as the 题注 names it without sessions (全国人民代表大会常务委员会), or ""
    order: str = ""  # the 令 it was published by (国务院令第722号), or ""

    def to_dict(self) -> dict:
        return {"event": self.event, "date": self.date, "body": self.body, "order": self.order}


def is_title_note_start(text: str) -> bool:
    """A line that opens a 题注: in parentheses, a date, then an event (or the date alone, the
    event following on the next line)."""
    t = text.lstrip()
    return t[:1] in "（(" and bool(re.match(rf"[（(]\s*(?:自\s*)?{_DATE}", t))


def title_note_closed(text: str) -> bool:
    return text.rstrip().endswith(("）", ")"))


def versions_of(note: str) -> list[Version]:
    """The dated events of a 题注, in the order it names them."""
    out: list[Version] = []
    for m in _EVENT.finditer(note):
        y, mo, d = int(m.group(2)), int(m.group(3)), int(m.group(4))
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            continue
        between = m.group(6)
        order = ""
        om = _ORDER.search(between)
        if om:
            order = without_spaces(om.group(1)).removeprefix("中华人民共和国") + f"第{om.group(2)}号"
            between = between[: om.start()] + om.group(1)[: -1]  # 国务院令 -> 国务院
        out.append(Version(m.group(7), f"{y:04d}-{mo:02d}-{d:02d}", _body(between), order))
    return out


def _body(text: str) -> str:
    t = _TITLED.sub("", text)
    t = _SESSION.sub("", without_spaces(t))
    t = t.strip("，,、　 ")
    if t.startswith("中华人民共和国") and t != "中华人民共和国":
        t = t.removeprefix("中华人民共和国")
    return t if 2 <= len(t) <= 30 else ""


def form_of(title: str) -> str:
    """The instrument the title names (its ending): 法, 条例, 规定, 办法, 细则 …, or ""."""
    t = re.sub(r"[(（][^()（）]*[)）]$", "", title.strip().rstrip("。 "))  # …法（2023年修订）
    return next((f for f in FORMS if t.endswith(f)), "")


def category_of(title: str, issuers: list[str], order: str = "") -> str:
    """法律, 行政法规, 地方性法规, 自治条例, 单行条例, 部门规章, 地方政府规章, 司法解释 or 规范性文件,
    from who issued it, its 令 and its form; "" when they do not tell."""
    form = form_of(title)
    bodies = " ".join(issuers)
    if "最高人民法院" in bodies or "最高人民检察院" in bodies:
        return "司法解释"
    if any(b in ("全国人民代表大会", "全国人民代表大会常务委员会") for b in issuers):
        return "法律"
    if "人民代表大会" in bodies:  # a province's, a city's, an autonomous area's
        if "自治条例" in title:
            return "自治条例"
        if "自治" in bodies and form == "条例" and "自治" in title:
            return "单行条例"
        return "地方性法规"
    if any(b == "国务院" for b in issuers) and form in ("条例", "规定", "办法", "细则", "实施细则"):
        return "行政法规"
    if order:
        return "地方政府规章" if re.search(r"(人民政府|政府)令", order) else "部门规章"
    if title.startswith("中华人民共和国") and form == "法":
        return "法律"
    if form and form != "法":
        return "规范性文件"
    return ""


def validity_of(lines: list[str]) -> str:
    """现行有效, 已修改, 部分失效, 失效 or 尚未生效 when a line states it (时效性：现行有效, 【已失效】)."""
    for line in lines:
        m = _VALIDITY.search(line) or _VALIDITY_MARK.search(line)
        if m:
            return _VALIDITY_NAMES.get(m.group(1), m.group(1))
    return ""


def legal_title(front: list[str]) -> str:
    """The law's name among the front lines: the first one ending with a form, not a 题注, 令 or 目录."""
    for line in front:
        t = line.strip()
        if is_title_note_start(t) or _ORDER.fullmatch(without_spaces(t)) or len(t) > 60:
            continue
        if form_of(t) and not re.search("[。，；：:]", t):
            return t
    return ""


_TAKES_EFFECT = re.compile(rf"本(?:法|条例|规定|办法|细则|实施细则|规则|决定|解释)(?:自|于)\s*{_DATE}\s*起?\s*(?:施行|实施|生效)")


def effective_in(body: list[str]) -> str:
    """When the text says it takes effect (本法自2024年1月1日起施行), from its last such article."""
    for text in reversed(body):
        m = _TAKES_EFFECT.search(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return ""


def legal_meta(meta: ReportMeta, front: list[str], notes: list[str], articles: int,
               body: list[str] = ()) -> ReportMeta:
    """The metadata of a legal text (a 题注 among ``notes``, or ``articles`` of 第X条 form and a
    title ending with a form; ``body``: its paragraphs, where it may say when it takes effect) put
    over what the report reading found; a report (a 通知 with an
    attached 办法, whose title is 关于印发…的通知) is left as it is."""
    title = meta.title or legal_title(front)
    if not (notes or articles) or re.search(r"印发.*的通知$", title) or not form_of(title):
        return meta
    versions = [v for note in notes for v in versions_of(note)]
    meta.title = title.replace(" ", "") if re.fullmatch(r"[\u4e00-\u9fff ]+", title) else title
    bodies: list[str] = []
    for v in versions:
        if v.body and v.body not in bodies and v.event != "施行":
            bodies.append(v.body)
    if bodies:
        meta.issuers = bodies
    orders = [v.order for v in versions if v.order]
    if orders and not meta.doc_number:
        meta.doc_number = orders[-1]
    dated = [v.date for v in versions if v.event in VERSION_EVENTS]
    if dated:
        meta.date = max(dated)  # the latest version's
    effective = [v.date for v in versions if v.event == "施行"]
    meta.effective = effective[-1] if effective else effective_in(list(body))
    meta.versions = [v.to_dict() for v in versions]
    meta.validity = validity_of(front + notes) or meta.validity
    meta.doc_type = category_of(meta.title, meta.issuers, orders[-1] if orders else "") or meta.doc_type
    if meta.date:
        meta.year = int(meta.date[:4])  # a law covers no year: its version's
    return meta
