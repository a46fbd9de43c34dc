"""Citations for one paragraph: GB/T 7714-2015, plain text, Markdown, BibTeX, RIS and CSL-JSON.

``format_citation(view, meta, url, fmt, accessed)`` takes a ``search.ParagraphView``, the report's
metadata dict (``ReportView.meta``: issuers, doc_number, date, region, city, province ...), the
paragraph's permalink and the access date. ``fmt`` is a name in FORMATS or one of its ALIASES
(``canonical_format`` maps an alias to its name without formatting anything). ``inline_citation``
is the one-line form shown beside a search hit, which has no report metadata to draw on.

GB/T 7714-2015 (信息与文献 参考文献著录规则), the form of §4.1 (专著, which includes reports) and
§4.8 (电子资源), 顺序编码制 (§9.1):
``主要责任者. 题名: 其他题名信息[文献类型标识/文献载体标识]. 出版地: 出版者, 出版年: 引文页码[引用日期]. 获取和访问路径.``

* 主要责任者 (§8.1): the issuing bodies the document states (``meta["issuers"]``), corporate names
  in full, joined by ", "; more than three: the first three and ", 等" (", et al." in Latin
  script). None stated: the element is left out, as §8.1.4 allows under 顺序编码制, and the entry
  starts with the title. An issuer is never guessed from the region.
* 题名 (§8.2): the document's title. A document without one gets a title supplied from what is
  known (region, year, type) in square brackets, ``[乐都区2020年报告]``, so that it is not cited as
  if the document bore it. 其他题名信息 after ": " is the 文号 (互政〔2022〕4号).
* 文献类型标识 (Table B.1): R (报告) for 报告 and 总结; EB (电子公告) for the other 公文 a government
  site publishes (通知, 意见, 方案, 计划, 工作要点 …) when read online; Z (其他) otherwise.
  载体标识 OL (联机网络) when there is an address to read it at.
* 出版地 (§8.4.1): the place of the issuing government, province + city + county as the report names
  them (青海省海东市互助土族自治县: §8.4.1.1 qualifies a little-known place by its province);
  unknown: ``[出版地不详]`` (``[S.l.]`` in Latin script), §8.4.1.2.
* 出版者 (§8.4.2): the publisher the corpus's sidecar names, else the first issuer; unknown: ``[出版者不详]`` (``[s.n.]``), §8.4.2.2.
* 出版年 (§8.4.3): the year of the date the document states; none: ``[出版日期不详]`` (``[s.a.]``),
  never the year reported on (a 2021 report is published in 2022, or later).
* 引文页码 (§8.7): an online report has no pages; the paragraph number ``第N段`` locates the passage
  (the section path is given in the other formats' notes; ``›`` never appears in a reference).
* 引用日期 (§8.8.2) in square brackets straight after it, ``[2026-11-22]``, for a document read
  online; then ". " and the 获取和访问路径 (§8.8.3): the address the document was published at when
  the corpus says it (sources.csv, a page's canonical URL), else the paragraph's permalink; the
  entry ends with ".". The other formats keep the permalink beside a published address as 本地链接.
* Separators are the ASCII ". " ", " ": " of the standard's examples, also in Chinese entries.

A legal text (``meta["doc_type"]`` one of ``LEGAL_TYPES``: 法律, 行政法规, 地方性法规, 自治条例, 单行条例,
部门规章, 地方政府规章, 规范性文件, 司法解释, read from its 题注 by reading.legal) is cited as the law, and
a paragraph of it by its article, the last element of the paragraph's section path
(``["第二章 行政复议申请", "第二节 申请人", "第二十三条"]``). Reports are cited exactly as above.
* 主要责任者 (§8.1): the bodies its 题注 names (``meta["issuers"]``: 全国人民代表大会常务委员会, 国务院),
  as for a report; 题名 (§8.2) the law's title, 其他题名信息 its 令 when it has one (中华人民共和国国务院令第722号).
* 文献类型标识 (Table B.1): EB (电子公告) with OL when read online, Z (其他) otherwise. Table B.1 has no
  code for legislation: S is for standards, G for 汇编 (a printed 法规汇编, not one law read online),
  A for archives. A law text read on an official site (npc.gov.cn, gov.cn, a 人大's site) is an
  electronic announcement, [EB/OL] as in the standard's §4.8 examples of official online documents,
  and the common practice of Chinese journals citing a law online.
* 日期 (the 更新或修改日期 of §4.8's electronic resources): in parentheses after the type mark, the date
  of the latest version (通过, 修正, 修订, 公布 …: ``meta["date"]``, else the latest of
  ``meta["versions"]``), since that version's text is the one quoted; ``[出版日期不详]`` (``[s.a.]``)
  when the 题注 gives none. The 出版项 is left out, as in §4.8's examples of online documents.
* 引文页码 (§8.7): the article (``: 第二十三条``) where a report has its paragraph number, then the
  引用日期 and the address as for a report: ``全国人民代表大会常务委员会. 中华人民共和国行政复议法[EB/OL].
  (2023-09-01): 第二十三条[2026-12-03]. http://….`` A 款 is cited by its article (formats cannot tell
  the 款). A paragraph outside the articles (the 题注, 目录) keeps ``第N段``.
* Plain text: ``发文机关：《题名》（令）第二十三条，日期，编，章，节。``: the article after the title, as legal
  writing names it, and the headings above it after the date; Markdown the same label with the
  headings in its tail.
* RIS: ``TY  - STAT`` (statute: Zotero's 法规 type, with the article in ``SE``, its section field);
  GOVDOC would fit a 规范性文件 as well, but STAT is what a reference manager files laws under.
* CSL-JSON: ``"type": "legislation"`` with the article as ``"section"``.
* BibTeX, which has no statute type: the entry type of its code (``@online`` for EB, ``@misc`` for
  Z), the issuing body as ``organization`` (``institution`` is a report's), the article in the note.
* Notes (BibTeX, RIS N1, CSL-JSON): the headings down to the article, then the validity the text
  states (``时效性：已修改``, ``meta["validity"]``), then what is unknown.
"""
from __future__ import annotations

import datetime as _dt
import json
import re

from indexer.model import ARTICLE_LABEL, LEGAL_TYPES

FORMATS = ("gbt7714", "text", "markdown", "bibtex", "ris", "csl-json")  # a reader chooses from these
FORMAT_LABELS = {"gbt7714": "GB/T 7714-2015", "text": "纯文本", "markdown": "Markdown", "bibtex": "BibTeX",
                 "ris": "RIS (Zotero)", "csl-json": "CSL-JSON"}
# Other names readers type for them; ``canonical_format`` maps both to the name in FORMATS.
ALIASES = {
    "gb": "gbt7714", "gbt": "gbt7714", "gb/t7714": "gbt7714", "gb-t-7714": "gbt7714", "md": "markdown",
    "bib": "bibtex", "csl": "csl-json", "csljson": "csl-json", "json": "csl-json", "txt": "text",
    "plain": "text",
}
MEDIA_TYPES = {
    "gbt7714": "text/plain", "text": "text/plain", "markdown": "text/markdown",
    "bibtex": "application/x-bibtex", "ris": "application/x-research-info-systems",
    "csl-json": "application/vnd.citationstyles.csl+json",
}
FILE_EXTENSIONS = {"gbt7714": "txt", "text": "txt", "markdown": "md", "bibtex": "bib", "ris": "ris",
                   "csl-json": "json"}
_SECTION_TAIL = re.compile(r"[。．.，,；;：:、\s]+$")
_SPACES = re.compile(r"\s+")
_MAX_HEADING = 40


class UnknownFormat(ValueError):
    def __init__(self, fmt: str):
        super().__init__(f"unknown citation format {fmt!r} (choose from {', '.join(FORMATS)})")
        self.fmt = fmt
        self.formats = FORMATS


def _clean(value) -> str:
    """One line of text, or "" for None/missing."""
    if value is None:
        return ""
    return _SPACES.sub(" ", str(value)).strip()


def _tidy(value) -> str:
    from indexer.normalise import tidy_spaces

    return tidy_spaces(_clean(value)).strip()


# Table B.1 of GB/T 7714-2015: the document type code of each kind of document the readers name.
_TYPE_CODES = {"报告": "R", "总结": "R", "通知": "EB", "意见": "EB", "决定": "EB", "办法": "EB", "方案": "EB",
               "实施方案": "EB", "工作方案": "EB", "计划": "EB", "工作计划": "EB", "规划": "EB", "工作要点": "EB"}
_CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")
MAX_AUTHORS = 3  # §8.1.2: more are cut to three and "等"


class _Fields:
    """Everything a citation needs, each "" when unknown."""

    def __init__(self, view, meta: dict | None, url: str, accessed: _dt.date | None):
        meta = meta or {}
        ref = view.report
        self.pid = view.id
        self.rid = ref.id
        self.ordinal = int(view.ordinal)
        self.title = _tidy(meta.get("title") or ref.title)
        issuers = meta.get("issuers") or []
        if isinstance(issuers, str):
            issuers = [issuers]
        self.issuers = [i for i in (_tidy(x) for x in issuers) if i]
        self.docno = _tidy(meta.get("doc_number") or ref.doc_number)
        self.date = _clean(meta.get("date") or ref.date)
        self.year = meta.get("year") or ref.year
        self.region = _clean(meta.get("region") or ref.region)
        self.city = _clean(meta.get("city") or ref.city)
        self.province = _clean(meta.get("province") or ref.province)
        self.doc_type = _clean(meta.get("doc_type") or ref.doc_type)
        parts: list[str] = []
        for p in (self.province, self.city, self.region):
            if p and p not in parts:
                parts.append(p)
        self.place = "".join(parts)
        self.sections = [self._heading(s) for s in (view.section or []) if _clean(s)]
        self.legal = self.doc_type in LEGAL_TYPES
        # A legal text's paragraph is cited by its article (the last of its section path).
        self.article = self.sections[-1] if self.legal and self.sections and ARTICLE_LABEL.fullmatch(self.sections[-1]) else ""
        # Its headings above the article (编, 章, 节), which prose names after the article.
        self.headings = self.sections[:-1] if self.article else self.sections
        self.validity = _clean(meta.get("validity")) if self.legal else ""
        if self.legal and not self.date:  # the latest version's date, when only the 题注's versions say it
            self.date = _latest_version(meta.get("versions"))
        # The address it was published at (the corpus's sidecar, a page's canonical URL) is where a
        # reader finds it; the permalink to the paragraph in this index is kept as 本地链接.
        self.local_url = _clean(url)
        self.source_url = _clean(meta.get("source_url"))
        self.url = self.source_url or self.local_url
        self.publisher = _tidy(meta.get("publisher")) or (self.issuers[0] if self.issuers else "")
        self.accessed = accessed.isoformat() if accessed else ""
        self.date_parts = _date_parts(self.date)
        supplied = "".join([self.region, f"{self.year}年" if self.year else "", self.doc_type or "文件"])
        # A title the document does not bear is the cataloguer's, in square brackets.
        self.cited_title = self.title or f"[{supplied}]"
        self.latin = not _CJK.search(self.title or supplied)
        online = bool(self.url)
        code = "EB" if self.legal else _TYPE_CODES.get(self.doc_type, "Z")
        self.type_code = code if online or code != "EB" else "Z"
        self.type_mark = f"[{self.type_code}/OL]" if online else f"[{self.type_code}]"

    @staticmethod
    def _heading(s: str) -> str:
        s = _SECTION_TAIL.sub("", _clean(s))
        return s if len(s) <= _MAX_HEADING else s[: _MAX_HEADING - 1] + "…"

    @property
    def paragraph_label(self) -> str:
        """Where the passage is in the document: its article, else its paragraph number."""
        return self.article or paragraph_label(self.ordinal)

    @property
    def authors(self) -> str:
        """主要责任者 as GB/T 7714 writes it, or ""."""
        if len(self.issuers) <= MAX_AUTHORS:
            return ", ".join(self.issuers)
        return ", ".join(self.issuers[:MAX_AUTHORS]) + (", et al." if self.latin else ", 等")

    @property
    def publication(self) -> str:
        """出版地: 出版者, 出版年, each the standard's placeholder when the document does not say."""
        place = self.place or ("[S.l.]" if self.latin else "[出版地不详]")
        publisher = self.publisher or ("[s.n.]" if self.latin else "[出版者不详]")
        year = str(self.date_parts[0]) if self.date_parts else ("[s.a.]" if self.latin else "[出版日期不详]")
        return f"{place}: {publisher}, {year}"

    def location(self, sep: str = "；") -> str:
        """Where the paragraph is: its headings and its number (or its article, which ends its
        headings), for notes and prose."""
        return sep.join(self.sections if self.article else self.sections + [self.paragraph_label])

    @property
    def local_link(self) -> str:
        """The paragraph's permalink when the address cited is the document's own, else ""."""
        return self.local_url if self.source_url and self.local_url else ""

    def unknowns(self) -> list[str]:
        """What the document does not state, said in a note rather than guessed."""
        out = [] if self.title else ["题名为编者所拟"]
        out += [] if self.issuers else ["发文机关不详"]
        return out + ([] if self.date else ["发布日期不详"])


def paragraph_label(ordinal: int) -> str:
    return f"第{ordinal}段"


_VERSION_EVENTS = ("通过", "修正", "修订", "公布", "发布", "印发", "批准")  # 施行 makes no new text


def _latest_version(versions) -> str:
    """The date (YYYY-MM-DD) of the latest version a legal text's 题注 names, or ""."""
    dates = [str(v.get("date") or "") for v in versions or [] if isinstance(v, dict) and v.get("event") in _VERSION_EVENTS]
    dates = [d for d in dates if _date_parts(d)]
    return max(dates) if dates else ""


def _date_parts(date: str) -> list[int]:
    m = re.match(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", date or "")
    return [int(x) for x in m.groups() if x] if m else []


# -- formats ----------------------------------------------------------------------------------------
def _gbt7714(f: _Fields) -> str:
    if f.legal:
        return _gbt7714_legal(f)
    out = (f.authors + ". " if f.authors else "") + f.cited_title
    if f.docno:
        out += ": " + f.docno
    out += f"{f.type_mark}. {f.publication}: {f.paragraph_label}"
    if f.url:
        out += (f"[{f.accessed}]" if f.accessed else "") + ". " + f.url
    return out + "."


def _gbt7714_legal(f: _Fields) -> str:
    """§4.8's electronic announcement: 责任者. 题名: 令[EB/OL]. (版本日期): 第N条[引用日期]. 路径."""
    out = (f.authors + ". " if f.authors else "") + f.cited_title
    if f.docno:
        out += ": " + f.docno
    out += f"{f.type_mark}. " + (f"({f.date})" if f.date else ("[s.a.]" if f.latin else "[出版日期不详]"))
    out += f": {f.paragraph_label}"  # the article, or 第N段 outside the articles (题注, 目录)
    if f.url:
        out += (f"[{f.accessed}]" if f.accessed else "") + ". " + f.url
    return out + "."


def _prose_date(f: _Fields) -> str:
    parts = f.date_parts
    if len(parts) == 3:
        return f"{parts[0]}年{parts[1]}月{parts[2]}日"
    return f"{parts[0]}年" + (f"{parts[1]}月" if len(parts) > 1 else "") if parts else "日期不详"


def _text(f: _Fields) -> str:
    """The way Chinese legal writing cites a document: 发文机关《题名》（文号），日期，位置。"""
    head = ("、".join(f.issuers) if f.issuers else "发文机关不详") + "："
    head += f"《{f.title}》" if f.title else f.cited_title
    if f.docno:
        head += f"（{f.docno}）"
    if f.article:  # a law's article: 《中华人民共和国行政复议法》第二十三条, its chapter after the date
        out = "，".join([head + f.article, _prose_date(f)] + f.headings) + "。"
    else:
        out = "，".join([head, _prose_date(f), f.location(sep="，")]) + "。"
    if f.url:
        out += " " + f.url
        if f.accessed:
            out += f"（{f.accessed}访问）"
    if f.local_link:
        out += f" 本地链接：{f.local_link}"
    return out


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md_escape(s: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", s)


def _markdown(f: _Fields) -> str:
    title = f"《{f.title}》" if f.title else f.cited_title
    label = _md_escape(title + (f"（{f.docno}）" if f.docno else "") + (f.article or f" {f.paragraph_label}"))
    link = f"[{label}](<{f.url}>)" if f.url else label
    tail = ["、".join(f.issuers) if f.issuers else "发文机关不详", _prose_date(f)] + f.headings
    out = link + " — " + _md_escape("，".join(tail))
    if f.url and f.accessed:
        out += f"（{f.accessed}访问）"
    if f.local_link:
        out += f" [本地链接](<{f.local_link}>)"
    return out


_BIB_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$", "#": r"\#",
    "_": r"\_", "^": r"\^{}", "~": r"\~{}",
}
_BIB_SPECIAL = re.compile(r"[\\{}%&$#_^~]")


def bibtex_escape(s: str) -> str:
    return _BIB_SPECIAL.sub(lambda m: _BIB_ESCAPES[m.group(0)], s)


def _bib_url(url: str) -> str:
    return url.replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C")


def bibtex_key(pid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-:.]", "-", pid)


# Each GB/T 7714 type code's entry type in BibTeX (biblatex), RIS and CSL.
_ENTRY_TYPES = {"R": ("report", "RPRT", "report"), "EB": ("online", "GOVDOC", "document"),
                "Z": ("misc", "GEN", "document")}


def _note(f: _Fields) -> str:
    validity = [f"时效性：{f.validity}"] if f.validity else []
    return "；".join([f.location()] + validity + f.unknowns() + ([f"本地链接：{f.local_link}"] if f.local_link else []))


def _bibtex(f: _Fields) -> str:
    fields: list[tuple[str, str]] = [("title", "{" + bibtex_escape(f.cited_title) + "}")]
    if f.issuers:
        fields.append(("author", " and ".join("{" + bibtex_escape(i) + "}" for i in f.issuers)))
        # a law's body is an organization: institution is a report's (biblatex @online/@misc have none)
        fields.append(("organization" if f.legal else "institution", bibtex_escape(f.publisher)))
    if f.doc_type:
        fields.append(("type", bibtex_escape(f.doc_type)))
    if f.docno:
        fields.append(("number", bibtex_escape(f.docno)))
    if f.date_parts:
        fields.append(("year", str(f.date_parts[0])))
    if f.date:
        fields.append(("date", bibtex_escape(f.date)))
    if f.place:
        fields.append(("address", bibtex_escape(f.place)))
    fields.append(("note", bibtex_escape(_note(f))))
    if f.url:
        fields.append(("url", _bib_url(f.url)))
    if f.accessed and f.url:
        fields.append(("urldate", f.accessed))
    fields.append(("langid", "chinese"))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{_ENTRY_TYPES[f.type_code][0]}{{{bibtex_key(f.pid)},\n{body}\n}}\n"


def _ris(f: _Fields) -> str:
    lines = [("TY", "STAT" if f.legal else _ENTRY_TYPES[f.type_code][1]), ("TI", f.cited_title)]
    if f.article:
        lines.append(("SE", f.article))
    lines += [("AU", i) for i in f.issuers]
    if f.date_parts:
        lines.append(("PY", str(f.date_parts[0])))
        lines.append(("DA", "/".join(f"{p:02d}" if k else str(p) for k, p in enumerate(f.date_parts))))
    if f.place:
        lines.append(("CY", f.place))
    if f.publisher:
        lines.append(("PB", f.publisher))
    if f.docno:
        lines.append(("SN", f.docno))
    if f.doc_type:
        lines.append(("M3", f.doc_type))
    if f.url:
        lines.append(("UR", f.url))
        if f.accessed:
            lines.append(("Y2", f.accessed.replace("-", "/")))
    lines.append(("N1", _note(f)))
    lines.append(("LA", "zh-CN"))
    lines.append(("ID", f.pid))
    out = "".join(f"{tag}  - {_clean(value)}\n" for tag, value in lines)
    return out + "ER  - \n"


def csl_item(f: _Fields) -> dict:
    item: dict = {"id": f.pid, "type": "legislation" if f.legal else _ENTRY_TYPES[f.type_code][2],
                  "title": f.cited_title}
    if f.article:
        item["section"] = f.article
    if f.issuers:
        item["author"] = [{"literal": i} for i in f.issuers]
    if f.publisher:
        item["publisher"] = f.publisher
    if f.date_parts:
        item["issued"] = {"date-parts": [f.date_parts]}
    if f.docno:
        item["number"] = f.docno
    if f.doc_type:
        item["genre"] = f.doc_type
    if f.place:
        item["publisher-place"] = f.place
    if f.url:
        item["URL"] = f.url
        if f.accessed:
            item["accessed"] = {"date-parts": [_date_parts(f.accessed)]}
    item["note"] = _note(f)
    item["language"] = "zh-CN"
    return item


def _csl_json(f: _Fields) -> str:
    return json.dumps([csl_item(f)], ensure_ascii=False, indent=2)


_FORMATTERS = {
    "gbt7714": _gbt7714, "text": _text, "markdown": _markdown, "bibtex": _bibtex, "ris": _ris,
    "csl-json": _csl_json,
}


def canonical_format(fmt: str) -> str:
    """The name in FORMATS of ``fmt`` or of its alias (any case, spaces around ignored):
    ``bib`` -> ``bibtex``. Raises UnknownFormat for any other name."""
    key = (fmt or "").strip().lower()
    key = ALIASES.get(key, key)
    if key not in _FORMATTERS:
        raise UnknownFormat(fmt)
    return key


def format_citation(view, meta: dict | None, url: str, fmt: str = "gbt7714",
                    accessed: _dt.date | None = None) -> str:
    """The citation of paragraph ``view`` (a ParagraphView) in ``fmt`` (one of FORMATS or ALIASES).

    ``meta`` is the report's metadata (``ReportView.meta``); ``url`` the paragraph's permalink;
    ``accessed`` defaults to today. Raises UnknownFormat for any other fmt.
    """
    key = canonical_format(fmt)
    if accessed is None:
        accessed = _dt.date.today()
    return _FORMATTERS[key](_Fields(view, meta, url, accessed))


def all_citations(view, meta: dict | None, url: str, accessed: _dt.date | None = None) -> dict[str, str]:
    """{format: citation} for every format, for a "cite this paragraph" panel."""
    return {fmt: format_citation(view, meta, url, fmt, accessed) for fmt in FORMATS}


def inline_citation(title: str, section: list[str], ordinal: int, url: str) -> str:
    """The one-line citation shown beside a search hit and in a paragraph's JSON:
    ``题名，节 › 小节，第N段。URL``. Not one of FORMATS: it needs no report metadata (a hit carries
    none), so it takes the title, the section path as stored and the paragraph number as they are."""
    bits = [title]
    if section:
        bits.append(" › ".join(section))
    bits.append(paragraph_label(ordinal))
    return "，".join(bits) + "。" + url
