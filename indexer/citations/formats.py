"""Citations for one paragraph: GB/T 7714-2015, plain text, Markdown, BibTeX, RIS and CSL-JSON.

``format_citation(view, meta, url, fmt, accessed)`` takes a ``search.ParagraphView``, the report's
metadata dict (``ReportView.meta``: issuers, doc_number, date, region, city, province ...), the
paragraph's permalink and the access date. ``fmt`` is a name in FORMATS or one of its ALIASES
(``canonical_format`` maps an alias to its name without formatting anything). ``inline_citation``
is the one-line form shown beside a search hit, which has no report metadata to draw on.

GB/T 7714-2015 (信息与文献 参考文献著录规则), report [R] read online [R/OL]; the rules followed:

* element order (§4.1/§4.4 and §8 for electronic resources):
  ``主要责任者. 题名: 其他题名信息[文献类型标识/载体标识]. 出版地: 出版者, 出版年: 引文页码[引用日期]. 获取和访问路径.``
* 主要责任者 = the issuing bodies (``meta["issuers"]``), a corporate author given in full, several
  joined by ", " (§8.1.2/8.1.4); absent -> the element is left out and the entry starts with the title.
* 题名 = the report title; 其他题名信息 after ": " = the 文号 (互政〔2022〕4号), the usual place of a
  report number. A report without a title is cited by its display title (``ReportRef.display_title``:
  region + year + type + （无标题）).
* 文献类型标识 ``[R/OL]``: report (R) read online (OL), the permalink being the 获取和访问路径.
* 出版地 = the place, province + city + county as the report names them (青海省海东市互助土族自治县);
  出版者 = the first issuer; 出版年 = the issue date in ISO form (YYYY-MM-DD, §8.3.4 permits ISO 8601).
  Missing parts are dropped with their own punctuation (no "[出版者不详]" noise, no "None").
* 引文页码 is replaced by the location inside the report: the section path (headings joined by
  " › ", trailing sentence punctuation dropped) and the paragraph number ``第N段``, after ": ".
* 引用日期 in square brackets straight after it, ``[2026-11-22]``, then ". " and the URL, and the
  entry ends with ".".
* Separators are the ASCII ". " ", " ": " of the standard (§7/§8 examples) even in Chinese entries.
"""
from __future__ import annotations

import datetime as _dt
import json
import re

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


class _Fields:
    """Everything a citation needs, each "" when unknown."""

    def __init__(self, view, meta: dict | None, url: str, accessed: _dt.date | None):
        meta = meta or {}
        ref = view.report
        self.pid = view.id
        self.rid = ref.id
        self.ordinal = int(view.ordinal)
        self.title = _tidy(meta.get("title") or ref.title)
        self.display_title = self.title or _tidy(ref.display_title)
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
        self.url = _clean(url)
        self.accessed = accessed.isoformat() if accessed else ""
        self.date_parts = _date_parts(self.date)

    @staticmethod
    def _heading(s: str) -> str:
        s = _SECTION_TAIL.sub("", _clean(s))
        return s if len(s) <= _MAX_HEADING else s[: _MAX_HEADING - 1] + "…"

    @property
    def paragraph_label(self) -> str:
        return paragraph_label(self.ordinal)

    def location(self, sep: str = ", ") -> str:
        bits = [" › ".join(self.sections)] if self.sections else []
        return sep.join(bits + [self.paragraph_label])


def paragraph_label(ordinal: int) -> str:
    return f"第{ordinal}段"


def _date_parts(date: str) -> list[int]:
    m = re.match(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", date or "")
    return [int(x) for x in m.groups() if x] if m else []


# -- formats ----------------------------------------------------------------------------------------
def _gbt7714(f: _Fields) -> str:
    out = ""
    if f.issuers:
        out += ", ".join(f.issuers) + ". "
    out += f.display_title
    if f.docno:
        out += ": " + f.docno
    out += "[R/OL]" if f.url else "[R]"
    pub = ""
    if f.place:
        pub = f.place + (": " + f.issuers[0] if f.issuers else "")
    elif f.issuers:
        pub = f.issuers[0]
    if f.date:
        pub = f"{pub}, {f.date}" if pub else f.date
    out += ". " + (pub + ": " if pub else "") + f.location()
    if f.accessed:
        out += f"[{f.accessed}]"
    out += "."
    if f.url:
        out += " " + f.url + "."
    return out


def _text(f: _Fields) -> str:
    head = f.display_title + (f"（{f.docno}）" if f.docno else "")
    bits = [head]
    if f.issuers:
        bits.append("、".join(f.issuers))
    if f.date:
        bits.append(f.date)
    bits.append(f.location(sep="，"))
    out = "，".join(bits) + "。"
    if f.url:
        out += " " + f.url
        if f.accessed:
            out += f"（{f.accessed}访问）"
    return out


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md_escape(s: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", s)


def _markdown(f: _Fields) -> str:
    label = _md_escape(f.display_title + (f"（{f.docno}）" if f.docno else "") + f" {f.paragraph_label}")
    link = f"[{label}](<{f.url}>)" if f.url else label
    bits = [link]
    tail = [x for x in ("、".join(f.issuers), f.date, " › ".join(f.sections)) if x]
    if tail:
        bits.append(_md_escape("，".join(tail)))
    out = " — ".join(bits)
    if f.url and f.accessed:
        out += f"（{f.accessed}访问）"
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


def _bibtex(f: _Fields) -> str:
    fields: list[tuple[str, str]] = [("title", "{" + bibtex_escape(f.display_title) + "}")]
    if f.issuers:
        fields.append(("author", " and ".join("{" + bibtex_escape(i) + "}" for i in f.issuers)))
        fields.append(("institution", bibtex_escape(f.issuers[0])))
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
    fields.append(("note", bibtex_escape(f.location(sep=", "))))
    if f.url:
        fields.append(("url", _bib_url(f.url)))
    if f.accessed:
        fields.append(("urldate", f.accessed))
    fields.append(("langid", "chinese"))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@report{{{bibtex_key(f.pid)},\n{body}\n}}\n"


def _ris(f: _Fields) -> str:
    lines = [("TY", "RPRT"), ("TI", f.display_title)]
    lines += [("AU", i) for i in f.issuers]
    if f.date_parts:
        lines.append(("PY", str(f.date_parts[0])))
        lines.append(("DA", "/".join(f"{p:02d}" if k else str(p) for k, p in enumerate(f.date_parts))))
    if f.place:
        lines.append(("CY", f.place))
    if f.issuers:
        lines.append(("PB", f.issuers[0]))
    if f.docno:
        lines.append(("SN", f.docno))
    if f.doc_type:
        lines.append(("M3", f.doc_type))
    if f.url:
        lines.append(("UR", f.url))
    if f.accessed:
        lines.append(("Y2", f.accessed.replace("-", "/")))
    lines.append(("N1", f.location(sep=", ")))
    lines.append(("LA", "zh-CN"))
    lines.append(("ID", f.pid))
    out = "".join(f"{tag}  - {_clean(value)}\n" for tag, value in lines)
    return out + "ER  - \n"


def csl_item(f: _Fields) -> dict:
    item: dict = {"id": f.pid, "type": "report", "title": f.display_title}
    if f.issuers:
        item["author"] = [{"literal": i} for i in f.issuers]
        item["publisher"] = f.issuers[0]
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
    item["note"] = f.location(sep=", ")
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
