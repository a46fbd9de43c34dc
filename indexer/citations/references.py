"""The documents a paragraph cites: 《…》 titles, 文号 and articles of laws, linked to reports in the corpus.

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

* Articles (kind ``"article"``): a 《title》 followed at once (spaces aside) by article numbers cites
  those articles of it, one reference each: ``第N条``, ``第N条第M款`` and ``…第K项`` or ``…第（K）项`` (the article only; the
  span covers the 款 and 项), ``第N条之一`` (article ``10-1``), a range ``第N条至第M条`` (also 到; each of
  N..M, at most ``MAX_RANGE``, all with the range's span) and lists of these joined by 、 ， 和 及 以及 与
  (《条例》第五条、第六条和第九条 is three). Numbers are Chinese numerals as laws write them
  (``cn_numeral``: 第一百零五条, 第二十条, 第十条, 第一千二百六十条) or digits (第23条, full-width
  ２３ folds to 23). The key is ``<title key>#<article>`` (行政复议法#23, …#10-1); the first article's
  span runs from the 《 to the end of its own text, a later list item's covers that item alone
  (第六条), a range's the whole range. The 《title》 itself is still a title reference, so
  《X》第五条 is one title and one article reference. Inside a legal text, ``本法第N条`` (and 本条例,
  本规定, 本办法, 本细则, 本实施细则, 本决定, 本规则, 本准则, 本解释; same forms) cites its own
  articles: an article reference under the document's own title when the caller gives it
  (``own_title``), none otherwise. A bare ``第N条`` with no title or 本法 before it cites nothing.
  ``article_value`` reads an article a user names in a ``cites:`` filter (行政复议法第二十三条,
  《行政复议法》第23条) and ``article_label`` writes an article key as laws do (10-1 -> 第十条之一).

Linking (``ReferenceLinker``) is conservative: a 文号 links to the report whose meta
``doc_number`` folds equal; a title links to every report whose title key is equal. Failing that:

* versions and short names: a title is split into its name and a trailing version in parentheses
  that holds a year or 修订/修正 (…法(2023年修订), …纲要(2021-2025); (试行) is part of the name). A
  cited name links to the one report whose name is the same (first) or, failing that, whose short
  name is the same: a national law's title without its leading 中华人民共和国 (中华人民共和国行政诉讼法
  is also 行政诉讼法; a province's name is never dropped, so 青海省优化营商环境条例 is not
  优化营商环境条例). The report's version must be the cited one, or it has none (a cited
  …法(2023年修订) links to …法, a cited …纲要(2021-2025) never to …纲要(2015-2020)); a citation without
  a version links only to a report without one. Several reports of the same name: nothing, so a
  short name shared by two documents links only to an exact title.
* 关于…: when the only difference is a leading issuer name before 关于 (互助土族自治县人民政府关于…
  vs 关于…), to the one report whose ``关于…`` part is equal and, if the citation names an issuer,
  whose issuers match.
* An article links to the reports its title part names, by the same rules.

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
    article: str = ""  # an article reference's article as a key part (23, 10-1); "" for the others
    title: str = ""  # an article reference's title as written, without 《》 (the document's own for 本法)

    def __post_init__(self):
        if self.kind == "article" and not self.article:  # built from its key alone
            object.__setattr__(self, "article", self.normalized.rpartition("#")[2])

    @property
    def label(self) -> str:
        """For display: the title without its outer 《》, or the 文号, spaces tidied; an article as
        《title》第N条 (the article as laws write it, whichever list item or 本法 cited it)."""
        if self.kind == "article" and self.title and re.fullmatch(r"\d+(?:-\d+)?", self.article):
            return f"《{tidy_spaces(self.title).strip()}》{article_label(self.article)}"
        s = self.raw[1:-1] if self.kind == "title" and self.raw.startswith(_OPEN) else self.raw
        return tidy_spaces(s).strip()

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.kind != "article":  # a title's or 文号's dict is as it always was
            del d["article"], d["title"]
        d["label"] = self.label
        return d


# -- article numbers -------------------------------------------------------------------------------
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL = "[零〇一二两三四五六七八九十百千0-9]+"
_ARTICLE = rf"第({NUMERAL})条(?:之({NUMERAL}))?"
# How a legal text names itself before its own articles: 本法第十条, 本条例第五条.
_SELF_WORDS = "本(?:法|条例|实施细则|细则|规定|办法|决定|规则|准则|解释)"


def cn_numeral(text: str) -> int | None:
    """An article number as laws write it: 二十三 -> 23, 一百零五 -> 105, 十 -> 10, 十二 -> 12,
    两百 -> 200, 一千二百六十 -> 1260, 23 (full-width digits too) -> 23; None when it is no numeral
    (二三, 十百, 一百五, 零, 第十条, ""). Chinese numerals must be written as ``_numeral_text`` writes
    them, but for 两 (两百), 〇 (一千〇五) and a leading 一十 (一十二)."""
    t = fold(text).strip() if text else ""
    if not t:
        return None
    if t.isascii() and t.isdigit():
        return int(t)
    if len(t) > 12:
        return None
    total = current = 0
    for ch in t:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            return None
    value = total + current
    if not 0 < value < 10000:
        return None
    written = t.replace("两", "二").replace("〇", "零")
    if written.startswith("一十"):
        written = written[1:]
    return value if written == _numeral_text(value) else None


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


def _written(n: int) -> str:
    return _numeral_text(n) if 0 < n < 10000 else str(n)


def article_label(article: str) -> str:
    """An article key as laws write it: 23 -> 第二十三条, 10-1 -> 第十条之一, 105 -> 第一百零五条,
    100 -> 第一百条, 110 -> 第一百一十条. Raises ValueError for anything but an article key."""
    number, _, sub = str(article).partition("-")
    if not number.isdigit() or (_ and not sub.isdigit()):
        raise ValueError(f"not an article key: {article!r}")
    return f"第{_written(int(number))}条" + (f"之{_written(int(sub))}" if sub else "")


def _article_of(m: re.Match) -> str | None:
    """The key of an article matched by ``_ARTICLE`` (its groups 1 and 2), or None."""
    number = cn_numeral(m.group(1))
    sub = cn_numeral(m.group(2)) if m.group(2) else None
    if not number or (m.group(2) and not sub):
        return None
    return article_key_of(number, sub)


def article_value(value: str) -> tuple[str, str] | None:
    """(title key, article key) of a user's ``cites:`` value naming an article: 行政复议法第二十三条,
    《行政复议法》第23条, 中华人民共和国行政复议法 第二十三条 -> (中华人民共和国行政复议法, 23); a 款 or
    项 after the article is dropped (…第二十三条第二款 -> 23), 第十条之一 is 10-1. None when the value
    does not end with an article, or names no title before it (第二十三条, 本法第十条)."""
    folded = fold((value or "").strip()).replace(" ", "")
    m = re.fullmatch(rf"(.+?){_ARTICLE}(?:第{NUMERAL}款)?(?:第\(?{NUMERAL}\)?项)?", folded)
    if not m or re.fullmatch(_SELF_WORDS, m.group(1)):
        return None  # 本法第十条 names no document without the law it is in
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
_ARTICLE_AT = re.compile(rf"\s?{_ARTICLE}(?:第{NUMERAL}款)?(?:第\(?{NUMERAL}\)?项)?")
_RANGE_TO = re.compile(rf"\s?(?:至|到|-|—|~)\s?{_ARTICLE}")
_LIST_SEP = re.compile(r"\s?(?:、|,|，|以及|和|及|与)\s?(?=第)")
# 本法第十条 in a law; not the 法 of 基本法, 根本法, 成本法 or 日本法.
_SELF = re.compile(rf"(?:(?<![基根成日])本法|(?!本法){_SELF_WORDS})(?=\s?第)")
MAX_RANGE = 50  # articles one range stands for (第一条至第九十条 is not a citation of 90 articles one by one)


def _scan_articles(folded: str, title: str, at: int, begin: int) -> list[tuple[int, int, str]]:
    """(start, end, article key) of the articles cited right after a title (or 本法) ending at ``at``,
    the first spanning from ``begin`` (the title's start). ``title`` is the title key."""
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


def _scan(folded: str, own_title: str = "") -> list[tuple[str, int, int, str, tuple[int, int] | None]]:
    """``scan_folded``'s tuples, each with where its title is written: the [start, end) of the
    《title》 an article reference follows, None for 本法 (the own title) and for the others."""
    refs: list[tuple[str, int, int, str, tuple[int, int] | None]] = []
    for s, e in _scan_titles(folded):
        key = title_key(folded[s:e])
        refs.append(("title", s, e, key, None))
        if key:
            refs += [("article", a, b, k, (s, e)) for a, b, k in _scan_articles(folded, key, e, s)]
    own = title_key(own_title) if own_title else ""
    if own and "本" in folded:
        for m in _SELF.finditer(folded):
            refs += [("article", a, b, k, None) for a, b, k in _scan_articles(folded, own, m.end(), m.start())]
    refs += [("docno", s, e, k, None) for s, e, k in _scan_docnos(folded)]
    refs = [r for r in refs if r[3]]
    refs.sort(key=lambda r: (r[1], r[2]))
    return refs


def scan_folded(folded: str, own_title: str = "") -> list[tuple[str, int, int, str]]:
    """(kind, start, end, key) for every reference in already folded text, in text order: each
    《title》 and 文号, and each article cited after a title (kind "article", key <title key>#<article>);
    with ``own_title`` (the document's own title) also its articles cited as 本法第N条."""
    return [r[:4] for r in _scan(folded, own_title)]


def extract_references(text: str, own_title: str = "") -> list[Reference]:
    """Every 《title》, 文号 and article the text cites, in order, with spans into ``text``; with
    ``own_title`` (the title of the document the text is of) also the articles of its own document it
    cites (本法第十条), under that title."""
    if not text or (_OPEN not in text and "号" not in text and "號" not in text and not (own_title and "本" in text)):
        return []
    folded, origin = fold_with_offsets(text)
    out: list[Reference] = []
    own = own_title.strip()
    if own.startswith(_OPEN) and own.endswith(_CLOSE):
        own = own[1:-1]
    for kind, s, e, key, written in _scan(folded, own_title):
        os_, oe = original_span(origin, s, e)
        if kind != "article":
            out.append(Reference(kind=kind, raw=text[os_:oe], normalized=key, start=os_, end=oe))
            continue
        if written is None:
            title = own
        else:
            ts, te = original_span(origin, *written)
            title = text[ts:te][1:-1]
        out.append(Reference(kind=kind, raw=text[os_:oe], normalized=key, start=os_, end=oe,
                             article=key.rpartition("#")[2], title=title))
    return out


# -- linking ---------------------------------------------------------------------------------------
# A version after a title: parentheses at its end holding a year or 修订/修正 ((2023年修订),
# (2021-2025), (2018年修正)); (试行), (草案) and the like are part of the name.
_TRAILING_VERSION = re.compile(r"\((?=[^()]*(?:\d{4}|修订|修正))[^()]*\)$")
_STATE = "中华人民共和国"


def short_name(key: str) -> str:
    """A national law's title key as reports shorten it: 中华人民共和国行政诉讼法 -> 行政诉讼法. Only
    中华人民共和国 is dropped, never a province's or city's name."""
    return key[len(_STATE):] if key.startswith(_STATE) and len(key) > len(_STATE) + 1 else key


def split_version(key: str) -> tuple[str, str]:
    """(name, version) of a title key: 中华人民共和国行政复议法(2023年修订) -> (…行政复议法, (2023年修订)),
    法治政府建设实施纲要(2021-2025) -> (…纲要, (2021-2025)); (key, "") without a version."""
    m = _TRAILING_VERSION.search(key)
    if not m or m.start() == 0:
        return key, ""
    return key[:m.start()], m.group(0)


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
        # name (a title key without its version) -> [(rid, version)]; and the same by short name.
        self.by_name: dict[str, list[tuple[str, str]]] = {}
        self.by_short: dict[str, list[tuple[str, str]]] = {}
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
                if not key:
                    continue
                if rid not in self.by_title.get(key, []):
                    self.by_title.setdefault(key, []).append(rid)
                name, version = split_version(key)
                for table, k in ((self.by_name, name), (self.by_short, short_name(name))):
                    if (rid, version) not in table.get(k, []):
                        table.setdefault(k, []).append((rid, version))
                head, core = _guanyu_core(key)
                if head:
                    issuers.add(head)
                if core.startswith("关于") and len(core) >= 8:
                    cores.add(core)
            for core in cores:
                self.by_core.setdefault(core, []).append((rid, issuers))

    def _by_name(self, key: str) -> list[str] | None:
        """The reports a title names by its name and version (None: no report of that name)."""
        name, version = split_version(key)
        for table, k in ((self.by_name, name), (self.by_short, short_name(name))):
            found = table.get(k)
            if not found:
                continue
            same = [rid for rid, v in found if v == version]
            if not same and version:
                same = [rid for rid, v in found if not v]  # the report states no version
            rids = list(dict.fromkeys(same))
            if len(rids) == 1:
                return rids
            if rids:
                return []  # several documents of that name: none of them
        return None

    def link(self, kind: str, key: str) -> list[str]:
        """The reports a reference (its kind and key) names: every one for a 文号 or an exact title,
        else the single one of its name, short name and version, or of its 关于… part (none when
        several match); an article (``<title key>#<article>``) by its title part."""
        if kind == "docno":
            return list(dict.fromkeys(self.by_docno.get(key, [])))
        if kind == "article":
            key = key.rpartition("#")[0]
        if not key:
            return []
        exact = self.by_title.get(key)
        if exact:
            return list(dict.fromkeys(exact))
        named = self._by_name(key)
        if named is not None:
            return named
        head, core = _guanyu_core(key)
        cands = self.by_core.get(core, [])
        if head:
            cands = [(rid, iss) for rid, iss in cands if head in iss]
        rids = list(dict.fromkeys(rid for rid, _ in cands))
        return rids if len(rids) == 1 else []
