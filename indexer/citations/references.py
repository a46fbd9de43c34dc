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
    kind: str  # "title" | "docno" | "article"
    raw: str  # as written in the original text, brackets included
    normalized: str  # the key: title_key(title), fold_docno(docno), or <title key>#<article> (…法#23)
    start: int  # span of raw in the original text
    end: int

    @property
    def article(self) -> str:
        """An article reference's article (23, 10-1), else ""."""
        return self.normalized.rpartition("#")[2] if self.kind == "article" else ""

    @property
    def label(self) -> str:
        """For display: the title without its outer 《》, or the 文号, spaces tidied."""
        s = self.raw[1:-1] if self.kind == "title" and self.raw.startswith(_OPEN) else self.raw
        return tidy_spaces(s).strip()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["label"] = self.label
        if self.kind == "article":
            d["article"] = self.article
        return d


# -- article numbers -------------------------------------------------------------------------------
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL = "[零〇一二两三四五六七八九十百千0-9]+"
_ARTICLE = rf"第({NUMERAL})条(?:之({NUMERAL}))?"


def cn_numeral(text: str) -> int | None:
    """An article number as laws write it: 二十三 -> 23, 一百零五 -> 105, 十二 -> 12, 两百 -> 200,
    一千二百六十 -> 1260, 23 (full-width digits too) -> 23; None when it is no numeral."""
    t = fold(text.strip()) if text else ""
    if not t:
        return None
    if t.isascii() and t.isdigit():
        return int(t)
    total = current = 0
    for ch in t:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            return None
    return (total + current) or None


def _numeral_text(n: int) -> str:
    """23 -> 二十三, 105 -> 一百零五, 110 -> 一百一十, 10 -> 十, 1260 -> 一千二百六十."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    out, zero = "", False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // unit % 10
        if d:
            out += ("零" if zero else "") + digits[d] + name
            zero = False
        elif out:
            zero = True
    return out


def article_key_of(number: int, sub: int | None = None) -> str:
    return f"{number}-{sub}" if sub else str(number)


def article_label(key: str) -> str:
    """An article key as laws write it: 23 -> 第二十三条, 10-1 -> 第十条之一, 105 -> 第一百零五条."""
    number, _, sub = key.partition("-")
    return f"第{_numeral_text(int(number))}条" + (f"之{_numeral_text(int(sub))}" if sub else "")


def _article_of(m: re.Match) -> str | None:
    """The key of an article matched by ``_ARTICLE`` (its groups 1 and 2), or None."""
    number = cn_numeral(m.group(1))
    sub = cn_numeral(m.group(2)) if m.group(2) else None
    if not number or (m.group(2) and not sub):
        return None
    return article_key_of(number, sub)


def article_value(value: str) -> tuple[str, str] | None:
    """(title key, article key) of a user's ``cites:`` value naming an article: 行政复议法第二十三条,
    《行政复议法》第23条, 中华人民共和国行政复议法 第二十三条 -> (…行政复议法, 23); None otherwise."""
    folded = fold((value or "").strip()).replace(" ", "")
    m = re.fullmatch(rf"(.+?){_ARTICLE}(?:第{NUMERAL}款)?(?:第{NUMERAL}项)?", folded)
    if not m:
        return None
    key = title_key(m.group(1))
    article = cn_numeral(m.group(2))
    sub = cn_numeral(m.group(3)) if m.group(3) else None
    if not key or not article or (m.group(3) and not sub):
        return None
    return key, article_key_of(article, sub)


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


# After a title (or 本法): 第N条, 第N条第M款(第K项), 第N条至第M条, and lists of them (、 ， 和 及 以及 与).
_ARTICLE_AT = re.compile(rf"\s?{_ARTICLE}(?:第{NUMERAL}款)?(?:第{NUMERAL}项)?")
_RANGE_TO = re.compile(rf"\s?(?:至|到|-|—)\s?{_ARTICLE}")
_LIST_SEP = re.compile(r"\s?(?:、|,|，|以及|和|及|与)\s?(?=第)")
_SELF = re.compile(r"本(?:法|条例|实施细则|细则|规定|办法|决定|规则|准则|解释)(?=第)")
MAX_RANGE = 50  # articles one range stands for (第一条至第九十条 is not a citation of 90 articles one by one)


def _scan_articles(folded: str, title: str, at: int, begin: int) -> list[tuple[int, int, str]]:
    """(start, end, article key) of the articles cited right after a title (or 本法) ending at ``at``,
    the first spanning from ``begin`` (the title's start)."""
    out: list[tuple[int, int, str]] = []
    pos, start = at, begin
    while True:
        m = _ARTICLE_AT.match(folded, pos)
        if not m:
            break
        key = _article_of(m)
        if key is None:
            break
        end = m.end()
        r = _RANGE_TO.match(folded, end)
        last = _article_of(r) if r else None
        if r and last and "-" not in key and "-" not in last and int(last) > int(key):
            end = r.end()
            numbers = range(int(key), min(int(last), int(key) + MAX_RANGE - 1) + 1)
            out += [(start, end, f"{title}#{n}") for n in numbers]
        else:
            out.append((start, end, f"{title}#{key}"))
        sep = _LIST_SEP.match(folded, end)
        if not sep:
            break
        pos = start = sep.end()
    return out


def scan_folded(folded: str, own_title: str = "") -> list[tuple[str, int, int, str]]:
    """(kind, start, end, key) for every reference in already folded text, in text order: each
    《title》 and 文号, and each article cited after a title (kind "article", key <title key>#<article>);
    with ``own_title`` (the document's own title) also its articles cited as 本法第N条."""
    refs = []
    for s, e in _scan_titles(folded):
        key = title_key(folded[s:e])
        refs.append(("title", s, e, key))
        if key:
            refs += [("article", a, b, k) for a, b, k in _scan_articles(folded, key, e, s)]
    if own_title and "本" in folded:
        own = title_key(own_title)
        for m in _SELF.finditer(folded):
            refs += [("article", a, b, k) for a, b, k in _scan_articles(folded, own, m.end(), m.start())]
    refs += [("docno", s, e, k) for s, e, k in _scan_docnos(folded)]
    refs = [r for r in refs if r[3]]
    refs.sort(key=lambda r: (r[1], r[2]))
    return refs


def extract_references(text: str, own_title: str = "") -> list[Reference]:
    """Every 《title》, 文号 and article the text cites, in order, with spans into ``text``; with
    ``own_title`` also the articles of its own document it cites (本法第十条)."""
    if not text or (_OPEN not in text and "号" not in text and "號" not in text and not (own_title and "本" in text)):
        return []
    folded, origin = fold_with_offsets(text)
    out: list[Reference] = []
    for kind, s, e, key in scan_folded(folded, own_title):
        os_, oe = original_span(origin, s, e)
        out.append(Reference(kind=kind, raw=text[os_:oe], normalized=key, start=os_, end=oe))
    return out


# -- linking ---------------------------------------------------------------------------------------
_TRAILING_VERSION = re.compile(r"\([^()]*\)$")
_STATE = "中华人民共和国"


def short_name(key: str) -> str:
    """A national law's title key as reports shorten it: 中华人民共和国行政诉讼法 -> 行政诉讼法."""
    return key[len(_STATE):] if key.startswith(_STATE) and len(key) > len(_STATE) + 1 else key

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
        self.by_plain: dict[str, list[str]] = {}  # a title without a version, and its short name
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
                if not _TRAILING_VERSION.search(key):
                    for plain in {key, short_name(key)}:
                        if rid not in self.by_plain.get(plain, []):
                            self.by_plain.setdefault(plain, []).append(rid)
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
        if kind == "article":
            key = key.rpartition("#")[0]
        exact = self.by_title.get(key)
        if exact:
            return list(dict.fromkeys(exact))
        # A law's short name (行政诉讼法) or a version of it (…法(2023年修订)): the one document of
        # that name without a version, if only one has it.
        plain = _TRAILING_VERSION.sub("", key)
        for name in dict.fromkeys((plain, short_name(plain))):
            rids = list(dict.fromkeys(self.by_plain.get(name, [])))
            if len(rids) == 1:
                return rids
            if rids:
                return []
        head, core = _guanyu_core(key)
        cands = self.by_core.get(core, [])
        if head:
            cands = [(rid, iss) for rid, iss in cands if head in iss]
        rids = list(dict.fromkeys(rid for rid, _ in cands))
        return rids if len(rids) == 1 else []
