"""The documents a paragraph cites: 《…》 titles and 文号, linked to reports in the corpus.

Extraction runs on the folded text (``normalise.fold_with_offsets``), so full/half-width brackets,
〔〕[]［］【】 and spaces are already one form, and spans are mapped back onto the original text.

* Titles: 《…》 with nesting. Inside a title, 《…》 and <…>/〈…〉 may nest, so
  《关于批转<关于进一步做好行政机关负责人出庭应诉的通知>的请示》 is one title, and adjacent
  《A》《B》 are two. A 《 that is never closed (within ``MAX_TITLE`` characters or before the
  paragraph ends) is skipped, so titles after it are still found. The key (``title_key``) is the
  folded title without spaces and quotation marks, with brackets in one form (《》〈〉 inside -> <>,
  （）-> ()), dashes in one form and the 年 of a version range dropped: 《法治政府建设实施纲要（2021—2025 年）》,
  《法治政府建设实施纲要(2021-2025年)》 and 《法治政府建设实施纲要（2021—2025）》 share one key.
* 文号: issuer abbreviation + bracketed year + number + 号, brackets 〔〕 [] ［］ () 【】 and spaces
  folded: 盐法发〔2021〕1 号 -> 盐法发〔2021〕1号, 乐治委办(2020)9号 -> 乐治委办〔2020〕9号 (the key
  is ``normalise.fold_docno``). The bracket must hold exactly a four-digit year and be followed by a
  number and 号, so version ranges such as (2021—2025年) and dates such as 2021年5月 never match.
  The abbreviation is the run of Chinese characters before the bracket, cut after verbs and particles
  that introduce it (制发, 印发, 通过, 根据, 的, 和 ...): 10月21日制发乐司〔2020〕76号 -> 乐司〔2020〕76号.

Linking (``ReferenceLinker``) is conservative: a 文号 links to the report whose meta
``doc_number`` folds equal; a title links to the report whose title key is equal, or, when the only
difference is a leading issuer name before 关于 (互助土族自治县人民政府关于… vs 关于…), to the one
report whose ``关于…`` part is equal and, if the citation names an issuer, whose issuers match.

The corpus-wide index of what cites what is ``cited.CitationIndex``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from indexer.normalise import fold, fold_docno, fold_with_offsets, original_span, tidy_spaces

MAX_TITLE = 200
_OPEN, _CLOSE = "《", "》"
# Every reference holds one of these in folded text (號 folds to 号): a paragraph without any
# cites nothing, so a corpus scan reads only the paragraphs the exact store finds holding one.
MARKERS = (_OPEN, "号")

# Folded text: 〔〕 for every square-ish bracket, () for （）.
_DOCNO = re.compile(r"([\u3400-\u9fff]{1,16})([〔(])\s?((?:19|20)\d{2})\s?([〕)])\s?(\d{1,5})\s?号")
_DOCNO_LEADS = (
    "制发", "印发", "下发", "转发", "发布", "出台", "通过", "根据", "按照", "依据", "依照", "参照", "执行",
    "落实", "贯彻", "对照", "结合", "关于", "文件", "通知", "精神", "要求", "规定", "办法", "以及", "并",
    "的", "和", "与", "及", "或", "是", "对", "将", "在", "为", "据", "以", "由", "向", "即", "见", "等",
    "年", "月", "日",
)
_LEAD_RE = re.compile("|".join(sorted(map(re.escape, _DOCNO_LEADS), key=len, reverse=True)))
_QUOTES = re.compile(r"[“”‘’\"'「」『』]")
_DASHES = re.compile(r"[—–―─‐‑‒−~～〜\-]+")
_VERSION_YEAR = re.compile(r"\((\d{4})-(\d{4})年?\)")
_ISSUER_END = re.compile(r"(人民政府|政府|办公室|办公厅|委员会|党委|县委|市委|区委|省委|党组|法院|检察院|局|厅|部|委|办)$")


@dataclass(frozen=True)
class Reference:
    kind: str  # "title" | "docno"
    raw: str  # as written in the original text, brackets included
    normalized: str  # the key: title_key(title) or fold_docno(docno)
    start: int  # span of raw in the original text
    end: int

    @property
    def label(self) -> str:
        """For display: the title without its outer 《》, or the 文号, spaces tidied."""
        s = self.raw[1:-1] if self.kind == "title" and self.raw.startswith(_OPEN) else self.raw
        return tidy_spaces(s).strip()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["label"] = self.label
        return d


# -- keys -------------------------------------------------------------------------------------------
def title_key(title: str) -> str:
    """The comparison key of a title (with or without its outer 《》)."""
    s = fold(title).strip()
    if s.startswith(_OPEN) and s.endswith(_CLOSE):
        s = s[1:-1]
    s = s.replace(" ", "").replace(_OPEN, "<").replace(_CLOSE, ">")
    s = _QUOTES.sub("", s)
    s = _DASHES.sub("-", s)
    s = _VERSION_YEAR.sub(r"(\1-\2)", s)
    return s.strip("。.,，;；:：、")


def docno_key(docno: str) -> str:
    return fold_docno(docno)


def is_docno(value: str) -> bool:
    """Whether ``value`` (as a user types it) is a whole 文号, e.g. 互政(2022)4号."""
    return _DOCNO.fullmatch(fold(value).replace(" ", "")) is not None


def _docno_prefix(run: str) -> str:
    """The issuer abbreviation at the end of a run of Chinese characters before a 文号 bracket."""
    cut = 0
    for m in _LEAD_RE.finditer(run):
        if m.end() < len(run):  # a lead word must leave at least one character
            cut = max(cut, m.end())
    prefix = run[cut:]
    return prefix[-10:]


# -- extraction ------------------------------------------------------------------------------------
def _scan_titles(folded: str) -> list[tuple[int, int]]:
    """[start, end) of each outermost 《…》 in the folded text (end after the closing 》)."""
    out: list[tuple[int, int]] = []
    n = len(folded)
    i = folded.find(_OPEN)
    while i != -1:
        depth = 0
        j = i
        limit = min(n, i + MAX_TITLE + 2)
        end = -1
        while j < limit:
            c = folded[j]
            if c == _OPEN:
                depth += 1
            elif c == _CLOSE:
                depth -= 1
                if depth == 0:
                    end = j + 1
                    break
            elif c == "\n":
                break
            j += 1
        if end != -1 and end - i > 2:
            out.append((i, end))
            i = folded.find(_OPEN, end)
        else:
            i = folded.find(_OPEN, i + 1)  # unclosed: skip this 《 and look for titles inside
    return out


def _scan_docnos(folded: str) -> list[tuple[int, int, str]]:
    """[start, end) and key of each 文号 in the folded text."""
    out = []
    for m in _DOCNO.finditer(folded):
        prefix = _docno_prefix(m.group(1))
        if not prefix:
            continue
        start = m.end(1) - len(prefix)
        raw = folded[start:m.end()]
        out.append((start, m.end(), fold_docno(raw)))
    return out


def scan_folded(folded: str) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, key) for every reference in already folded text, in text order."""
    refs = [("title", s, e, title_key(folded[s:e])) for s, e in _scan_titles(folded)]
    refs += [("docno", s, e, k) for s, e, k in _scan_docnos(folded)]
    refs = [r for r in refs if r[3]]
    refs.sort(key=lambda r: (r[1], r[2]))
    return refs


def extract_references(text: str) -> list[Reference]:
    """Every 《title》 and 文号 the text cites, in order, with spans into ``text``."""
    if not text or (_OPEN not in text and "号" not in text and "號" not in text):
        return []
    folded, origin = fold_with_offsets(text)
    out: list[Reference] = []
    for kind, s, e, key in scan_folded(folded):
        os_, oe = original_span(origin, s, e)
        out.append(Reference(kind=kind, raw=text[os_:oe], normalized=key, start=os_, end=oe))
    return out


# -- linking ---------------------------------------------------------------------------------------
def _guanyu_core(key: str) -> tuple[str, str]:
    """(issuer part, 关于… part) of a title key; ("", key) when there is no issuer before 关于."""
    k = key.find("关于")
    if k <= 0:
        return "", key
    head = key[:k]
    if len(head) > 30 or not _ISSUER_END.search(head):
        return "", key
    return head, key[k:]


class ReferenceLinker:
    """Links references to reports; build once for a corpus, use for many paragraphs."""

    def __init__(self, reports: Iterable[tuple[str, dict]]):
        self.by_docno: dict[str, list[str]] = {}
        self.by_title: dict[str, list[str]] = {}
        self.by_core: dict[str, list[tuple[str, set[str]]]] = {}
        for rid, meta in reports:
            meta = meta or {}
            dn = docno_key(meta.get("doc_number") or "")
            if dn:
                self.by_docno.setdefault(dn, []).append(rid)
            fields = meta.get("fields") if isinstance(meta.get("fields"), dict) else {}
            titles = [t for t in (meta.get("title"), fields.get("标题")) if t]
            issuers = {title_key(i) for i in (meta.get("issuers") or []) if i}
            cores: set[str] = set()
            for title in titles:
                key = title_key(title)
                if rid not in self.by_title.get(key, []):
                    self.by_title.setdefault(key, []).append(rid)
                head, core = _guanyu_core(key)
                if head:
                    issuers.add(head)
                if core.startswith("关于") and len(core) >= 8:
                    cores.add(core)
            for core in cores:
                self.by_core.setdefault(core, []).append((rid, issuers))

    def link(self, kind: str, key: str) -> list[str]:
        """The reports a reference (its kind and key) names: every one for a 文号 or an exact title,
        the single one for a 关于… title (none when several match)."""
        if kind == "docno":
            return list(dict.fromkeys(self.by_docno.get(key, [])))
        exact = self.by_title.get(key)
        if exact:
            return list(dict.fromkeys(exact))
        head, core = _guanyu_core(key)
        cands = self.by_core.get(core, [])
        if head:
            cands = [(rid, iss) for rid, iss in cands if head in iss]
        rids = list(dict.fromkeys(rid for rid, _ in cands))
        return rids if len(rids) == 1 else []
