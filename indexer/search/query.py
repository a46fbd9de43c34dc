"""The query language.

Each row of ``SYNTAX`` is one construct with its examples and meaning; ``search --help``, the web
UI's syntax table and the /syntax page are all made from it.

Operators have full-width and Chinese forms, since an input method types them: ``|`` ``｜`` ``OR``
``或``; ``AND`` ``与`` (or only a space); ``-`` ``－`` ``NOT`` ``非``; ``(`` ``（`` … ``)`` ``）``.
Word operators (OR, AND, NOT in any case, 或, 与, 非) count only as whole space-separated words.
OR binds tighter than AND: ``a b OR c`` is a AND (b OR c). A parenthesis groups only at the start
(opening) or end (closing) of a word and around more than one term, so that 一村（社区）一法律顾问
and （一） are text. A clause, an OR of terms and an exclusion hold of one source paragraph
(match.py); a query is brought to that form (an AND of ORs, less exclusions) by the parser.

Terms are folded like documents (full/half width, punctuation variants, 2021 年 == 2021年,
traditional == simplified), so they match wherever they occur, whatever jieba makes of them.
"""
from __future__ import annotations

from typing import Callable

import re
from dataclasses import dataclass, field, fields, replace

from indexer.citations.references import cn_numeral
from indexer.normalise import fold

FIELDS = ("region", "year", "type", "report", "section", "docno", "cites", "title", "issuer", "date", "similar",
          "article")
# Field names in Chinese, as a legal-affairs user types them: 条:23 is article:23.
FIELD_ALIASES = {"条": "article"}
SORTS = ("relevance", "date", "report")
# The dimensions a search's hits are counted by (``SearchEngine.facets``), named as their filters.
FACETS = ("region", "year", "type", "issuer")
# (examples, meaning): the one source of the syntax that --help, the web UI and /syntax show.
SYNTAX: tuple[tuple[tuple[str, ...], str], ...] = (
    (("出庭应诉率",), "包含这个短语的段落（像 Ctrl+F 一样逐字匹配）"),
    (("2021年 行政复议", "2021年 AND 行政复议", "2021年 与 行政复议"), "空格分隔（或 AND、与）：同一段同时包含两个词"),
    (("复议 OR 诉讼", "复议 | 诉讼", "复议 或 诉讼"), "包含任一个词（OR 比空格结合得紧：a b OR c 即 a 且 (b 或 c)）"),
    (("-临猗", "－临猗", "NOT 临猗", "非 临猗"), "排除包含该词的段落"),
    (("(复议 OR 诉讼) 败诉", "（复议 | 诉讼） -撤诉"), "括号分组；括号要贴在词首、词尾，且括住不止一个词（一村（社区）一法律顾问 仍是一个词）"),
    (('"双随机、一公开"', "“双随机 一公开”", '"“八五”普法"', '"4\\"号"'), "引号内作为一个整体，含空格、标点和运算符；引号内的同种引号前加 \\"),
    (("法律顾问 /s 村",), "两个词出现在同一句中（同句）"),
    (("~一村一法律顾问", "一村 /8 一法律顾问"), "近似：~ 后短语的各个词按顺序出现、前后相隔不超过 8 个字（可设置）；/N：后一个词在前一个词之后 N 字以内"),
    (("region:互助", "year:2021", "year:2020..2022", "year:2019,2021"), "限定地区、年份、年份范围或几个年份（冒号也可以是全角：）"),
    (("type:报告", "section:复议", "docno:互政〔2022〕4号"), "限定文种、章节标题、文号"),
    (("title:工作要点", "issuer:人民政府办公室", "date:2022-01..2022-06", "date:2022-01-17"), "限定报告标题、发文机关、发布日期（日期范围的两端可省略一端）"),
    (("issuer:=互助土族自治县人民政府",), "发文机关就是这一个（= 后是完整名称，不含只是包含它的机关，如 …人民政府办公室）"),
    (("cites:互政〔2022〕4号", 'cites:"法治政府建设实施纲要（2021—2025年）"'), "引用了某个文号或《标题》的段落"),
    (("article:第二十三条", "条:23", "条:10-1 title:行政复议法"), "法律文本的某一条（第十条之一写作 10-1）：这一条的各款、各项；在法律文本中，同一条的各款算作一段（同段即同条）"),
    (("cites:行政复议法第二十三条", "cites:《行政诉讼法》第3条"), "引用了某部法律、法规的某一条的段落"),
    (("report:<报告编号>",), "只在一份报告里找"),
    (("similar:<段落编号>",), "与这一段同源的段落（近似重复的，或有一段相同文字、只改了数字和地名的），连同它自己"),
)
SYNTAX_NOTE = "匹配时自动统一全角/半角、标点变体、数字与汉字间的空格（2021 年 = 2021年）和繁简体（行政復議 = 行政复议）。"


def syntax_text(indent: str = "  ") -> str:
    """``SYNTAX`` and ``SYNTAX_NOTE`` as plain text (``search --help``): each construct's examples,
    then its meaning."""
    lines = []
    for examples, meaning in SYNTAX:
        lines.append(indent + "   ".join(examples))
        lines.append(indent * 3 + meaning)
    return "\n".join(lines) + "\n\n" + indent + SYNTAX_NOTE


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class QueryError(ValueError):
    """A malformed query; ``position`` is a character offset into the query, when known."""

    def __init__(self, message: str, query: str = "", position: int | None = None):
        super().__init__(message)
        self.message = message
        self.query = query
        self.position = position

    def pointer(self) -> str:
        if self.position is None:
            return ""
        shown = _LONE_SURROGATE.sub("\ufffd", self.query)  # printable on any UTF-8 terminal
        return f"  {shown}\n  {' ' * _display_width(shown[: self.position])}^"


class QueryTooLong(QueryError):
    """A query longer than the limit: most likely a passage pasted to find its source, which the
    quote finder does; it is not echoed back."""


def _display_width(s: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in s)


@dataclass(frozen=True)
class Term:
    raw: str
    folded: str


@dataclass(frozen=True)
class Clause:
    """All clauses must hold. ``any_of``: at least one term occurs; ``same_sentence``: both terms
    occur in one sentence; ``ordered``: the terms occur in this order, the i-th at most ``gaps[i]``
    characters after the end of the one before (a near match: ``a /8 b``, ``~phrase``)."""

    any_of: tuple[Term, ...] = ()
    same_sentence: tuple[Term, Term] | None = None
    ordered: tuple[Term, ...] = ()
    gaps: tuple[int, ...] = ()

    def terms(self) -> tuple[Term, ...]:
        return self.same_sentence if self.same_sentence else self.ordered or self.any_of


@dataclass
class Filters:
    """Field filters of a query, or chosen beside it (the web UI's facets: ``chosen``). A new filter
    is a field here, its branch in ``_apply_field`` and ``to_query``, and its test in
    ``reports.ReportColumns.mask`` (a filter on reports) or ``match`` (on paragraphs)."""

    region: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    years: list[int] = field(default_factory=list)  # any of these years (year:2019,2021), besides the range
    doc_type: list[str] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    section: list[Term] = field(default_factory=list)
    docno: list[str] = field(default_factory=list)
    cites: list[str] = field(default_factory=list)
    similar: list[str] = field(default_factory=list)  # paragraph ids: the paragraphs sharing text with one
    article: list[str] = field(default_factory=list)  # article keys (23, 10-1): a legal text's articles
    title: list[str] = field(default_factory=list)  # folded: in the report's title
    issuer: list[str] = field(default_factory=list)  # folded: in one of the report's issuers (发文机关)
    issuer_is: list[str] = field(default_factory=list)  # folded: one of the report's issuers, whole (issuer:=X)
    date_from: int | None = None  # the report's date, as yyyymmdd, at least / at most
    date_to: int | None = None

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    @classmethod
    def chosen(cls, *, region: list[str] = (), doc_type: list[str] = (), issuer: list[str] = (),
               year_from: int | None = None, year_to: int | None = None, years: list[int] = (),
               report: list[str] = ()) -> "Filters":
        """Filters picked outside the query language (the web UI's facets), folded as the parser
        folds a ``region:``, ``type:`` or ``issuer:`` value."""
        return cls(region=[fold(v.strip()) for v in region], doc_type=[fold(v.strip()) for v in doc_type],
                   issuer_is=[fold(v.strip()) for v in issuer], year_from=year_from, year_to=year_to,
                   years=sorted(set(years)), report=list(report))

    def merged(self, other: "Filters") -> "Filters":
        """Both sets of filters at once: value lists add up (OR within one, AND with the query's
        clauses), year ranges intersect."""
        lists = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)
                 if isinstance(getattr(self, f.name), list)}
        def bound(name, pick):
            values = [v for v in (getattr(self, name), getattr(other, name)) if v is not None]
            return pick(values, default=None)

        return Filters(**lists, year_from=bound("year_from", max), year_to=bound("year_to", min),
                       date_from=bound("date_from", max), date_to=bound("date_to", min))

    def without(self, facet: str) -> "Filters":
        """These filters less those of one facet dimension (``FACETS``)."""
        if facet == "region":
            return replace(self, region=[])
        if facet == "type":
            return replace(self, doc_type=[])
        if facet == "issuer":
            return replace(self, issuer=[], issuer_is=[])
        if facet == "year":
            return replace(self, year_from=None, year_to=None, years=[])
        raise ValueError(f"unknown facet {facet!r} (known: {', '.join(FACETS)})")

    def selects(self, facet: str) -> bool:
        """Whether these filters choose values of one facet dimension."""
        return self.without(facet) != self

    def to_query(self) -> str:
        """The filters in the query language (what a filters-only search searched)."""
        parts = [f'region:"{v}"' for v in self.region] + [f'type:"{v}"' for v in self.doc_type]
        if self.year_range_shown():
            parts.append("year:" + self.year_range_shown())
        if self.years:
            parts.append("year:" + ",".join(map(str, self.years)))
        parts += [f'report:"{v}"' for v in self.report] + [f'section:"{t.raw}"' for t in self.section]
        parts += [f'docno:"{v}"' for v in self.docno] + [f'cites:"{v}"' for v in self.cites]
        parts += [f"similar:{v}" for v in self.similar] + [f"article:{v}" for v in self.article]
        parts += [f'title:"{v}"' for v in self.title] + [f'issuer:"{v}"' for v in self.issuer]
        parts += [f'issuer:"={v}"' for v in self.issuer_is]
        if self.date_range_shown():
            parts.append("date:" + self.date_range_shown())
        return " ".join(parts)

    def year_range_shown(self) -> str:
        """The year range as the query language writes it (2021, 2020..2022, ..2022), or ""."""
        lo, hi = self.year_from, self.year_to
        if lo is None and hi is None:
            return ""
        return str(lo) if lo == hi else f"{lo or ''}..{hi or ''}"

    def date_range_shown(self) -> str:
        """The date range as the query language writes it (2022-01-01..2022-06-30), or ""."""
        if self.date_from is None and self.date_to is None:
            return ""
        return f"{_shown_date(self.date_from)}..{_shown_date(self.date_to)}"

    def to_dict(self) -> dict:
        return {
            "region": self.region, "year_from": self.year_from, "year_to": self.year_to, "years": self.years,
            "type": self.doc_type, "report": self.report, "section": [t.raw for t in self.section],
            "docno": self.docno, "cites": self.cites, "similar": self.similar, "article": self.article, "title": self.title, "issuer": self.issuer, "issuer_is": self.issuer_is,
            "date_from": _shown_date(self.date_from) or None, "date_to": _shown_date(self.date_to) or None,
        }


@dataclass
class ParsedQuery:
    text: str
    clauses: list[Clause] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    shown: str = ""  # the query as searched, folded, operators in their ASCII form (``folded_display``)

    def positive_terms(self) -> list[Term]:
        """Every term a hit may hold, each folded form once, in query order."""
        seen: dict[str, Term] = {}
        for c in self.clauses:
            for t in c.terms():
                seen.setdefault(t.folded, t)
        return list(seen.values())

    def near_clause(self) -> Clause | None:
        """The first near-match clause (``~phrase``, ``a /N b``), whose gap a hit reports."""
        return next((c for c in self.clauses if c.ordered), None)

    def folded_display(self) -> str:
        """The query as it was searched, after folding (the 检索式 a result page shows)."""
        return self.shown


# -- words ----------------------------------------------------------------------------------------
TERM, FIELD, OR, AND, NOT, NEAR, OPEN, CLOSE = "term", "field", "or", "and", "not", "near", "open", "close"
_WORDS = {"or": OR, "或": OR, "and": AND, "与": AND, "not": NOT, "非": NOT, "/s": NEAR}
_WITHIN = re.compile(r"/(\d{1,2})")  # a /8 b: b begins at most 8 characters after a ends
_NEAR_PREFIX = "~～"  # ~phrase: the phrase's words in order, each within the near gap of the one before
ORDERED = "ordered"
_OR_MARKS = "|｜"
_NEGATIONS = "-－−"
_OPENS, _CLOSES = "(（", ")）"
_QUOTE_ENDS = {'"': '"', "“": "”", "”": "”"}
_FIELD_NAME = re.compile(r"([A-Za-z]+|条)[:：]")
MAX_CLAUSES = 32  # an AND of ORs a query may expand to (a OR of ANDs multiplies out)


@dataclass
class _Token:
    kind: str  # TERM FIELD OR AND NOT NEAR OPEN CLOSE
    text: str
    pos: int
    quoted: bool = False
    field: str = ""
    end: int = -1  # a field's: the offset after its value


def _quoted(q: str, i: int) -> tuple[str, int]:
    """The text of the quoted term opening at q[i] and the offset after it; a backslash makes the
    next quote (or backslash) literal."""
    end = _QUOTE_ENDS[q[i]]
    out = []
    j = i + 1
    while j < len(q):
        ch = q[j]
        if ch == "\\" and j + 1 < len(q) and (q[j + 1] in _QUOTE_ENDS or q[j + 1] == "\\"):
            out.append(q[j + 1])
            j += 2
            continue
        if ch == end:
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    raise QueryError(f"引号没有闭合：第 {i + 1} 个字符的 {q[i]} 缺少对应的 {end}"
                     f"（要查找引号本身，请在引号前加 \\）", q, i)


def _tokens(q: str) -> list[_Token]:
    out: list[_Token] = []
    groups = 0  # parentheses opened as groups and not yet closed
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in _OR_MARKS:
            out.append(_Token(OR, ch, start))
            i += 1
            continue
        if ch in _NEGATIONS and i + 1 < n and not q[i + 1].isspace() and q[i + 1] not in _OR_MARKS:
            out.append(_Token(NOT, ch, start))
            i += 1
            continue
        fname = ""
        m = _FIELD_NAME.match(q, i)
        if m:
            fname = _field_name(m, q, i)
            i = m.end()
            if i >= n or q[i].isspace():
                raise QueryError(f"{fname}: 后面缺少要限定的值", q, i)
        if q[i] in _QUOTE_ENDS:
            text, i = _quoted(q, i)
            out.append(_Token(FIELD if fname else TERM, text, start, quoted=True, field=fname, end=i))
            continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in _OR_MARKS and q[j] != '"':
            j += 1
        groups = _word(q, i, j, start, fname, groups, out)
        i = j
    return out


def with_field_value(q: str, name: str, folded: str, new: str) -> str:
    """The query with every ``name:`` whose value folds to ``folded`` given the value ``new``
    instead (the link that narrows an ambiguous region:城中区 to region:西宁市城中区)."""
    out, at = [], 0
    for tok in _tokens(q):
        if tok.kind == FIELD and tok.field == name and fold(tok.text.strip()) == folded:
            out += [q[at:tok.pos], f"{name}:{_quoted_value(new)}"]
            at = tok.end
    return "".join(out) + q[at:]


def _quoted_value(value: str, name: str = "") -> str:
    """A term, or the value of field ``name``, written so that the query language reads it back
    as it is: bare when it parses so, else in quotes (a quote or backslash in it escaped)."""
    written = f"{name}:{value}" if name else value
    try:
        toks = _tokens(written)
    except QueryError:
        toks = []
    kind = FIELD if name else TERM
    if len(toks) == 1 and toks[0].kind == kind and toks[0].text == value and not value.startswith("~"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Composed:
    """The advanced search form (高级检索): what each box asks for, written as one query."""

    all_words: str = ""  # every one of these words (space-separated)
    phrase: str = ""  # this phrase as it is, spaces and punctuation included
    any_words: str = ""  # at least one of these words
    none_words: str = ""  # none of these words
    near: str = ""  # this phrase's words in order, close together (~)
    title: str = ""
    docno: str = ""
    issuer: str = ""
    region: str = ""
    doc_type: str = ""
    year_from: str = ""
    year_to: str = ""
    date_from: str = ""
    date_to: str = ""

    def query(self) -> str:
        """The query these boxes ask for (empty boxes add nothing)."""
        parts = [_quoted_value(w) for w in self.all_words.split()]
        if self.phrase.strip():
            parts.append(_quoted_value(self.phrase.strip()))
        anyw = [_quoted_value(w) for w in self.any_words.split()]
        if len(anyw) == 1:
            parts += anyw
        elif anyw:
            parts.append("(" + " OR ".join(anyw) + ")")
        parts += ["-" + _quoted_value(w.lstrip(_NEGATIONS)) for w in self.none_words.split() if w.lstrip(_NEGATIONS)]
        if self.near.strip():
            parts.append("~" + self.near.strip().replace(" ", ""))
        for name, value in (("title", self.title), ("docno", self.docno), ("issuer", self.issuer),
                            ("region", self.region), ("type", self.doc_type)):
            if value.strip():
                parts.append(f"{name}:{_quoted_value(value.strip(), name)}")
        for name, lo, hi in (("year", self.year_from, self.year_to), ("date", self.date_from, self.date_to)):
            lo, hi = lo.strip(), hi.strip()
            if lo and lo == hi:
                parts.append(f"{name}:{lo}")
            elif lo or hi:
                parts.append(f"{name}:{lo}..{hi}")
        return " ".join(parts)


def _field_name(m: re.Match, q: str, at: int) -> str:
    name = FIELD_ALIASES.get(m.group(1), m.group(1).lower())
    if name not in FIELDS:
        raise QueryError(f"未知的字段 {m.group(1)}:（可用的字段：{' '.join(f + ':' for f in FIELDS)}；"
                         f"要查找这段文字本身，请加引号）", q, at)
    return name


def _word(q: str, i: int, j: int, start: int, fname: str, groups: int, out: list[_Token]) -> int:
    """The tokens of the word q[i:j] (``fname``: the field it is the value of, starting at
    ``start``), onto ``out``; returns the groups still open. A parenthesis is text when the word
    itself closes it (一村（社区）一法律顾问, （一）); one the word leaves open opens a group, one
    that closes nothing in the word closes a group if one is open and is text otherwise (七))."""
    pieces: list[tuple[str, int, int]] = []  # (kind, start, end) of the word's parts
    own: list[int] = []  # the word's parentheses still open
    begin = i
    for k in range(i, j):
        c = q[k]
        if c in _OPENS:
            own.append(k)
        elif c in _CLOSES:
            if own:
                own.pop()
            elif groups:
                pieces += [(TERM, begin, k), (CLOSE, k, k + 1)]
                groups -= 1
                begin = k + 1
    for k in own:  # left open by the word: groups (at most as many as the word's text allows)
        pieces += [(TERM, begin, k), (OPEN, k, k + 1)]
        begin = k + 1
    groups += len(own)
    pieces.append((TERM, begin, j))
    first = True
    for kind, a, b in pieces:
        if kind != TERM:
            out.append(_Token(kind, q[a:b], a))
            continue
        text = q[a:b]
        if not text:
            if first and fname:
                raise QueryError(f"{fname}: 后面缺少要限定的值", q, a)
            continue
        m = None if first and fname else _FIELD_NAME.match(text)
        if m:  # a field right after a parenthesis: (region:互助 …
            name = _field_name(m, q, a)
            if m.end() == len(text):
                raise QueryError(f"{name}: 后面缺少要限定的值", q, a + m.end())
            out.append(_Token(FIELD, text[m.end():], a, field=name, end=b))
        elif first and fname:
            out.append(_Token(FIELD, text, start, field=fname, end=b))
        elif _WORDS.get(text.lower()) or _WITHIN.fullmatch(text):
            out.append(_Token(_WORDS.get(text.lower(), NEAR), text, a))
        else:
            out.append(_Token(TERM, text, a))
        first = False
    return groups


# -- the tree of a query, and its AND of ORs ------------------------------------------------------
@dataclass(frozen=True)
class _Node:
    op: str  # TERM NEAR AND OR NOT
    pos: int
    term: Term | None = None
    near: tuple[Term, Term] | None = None
    kids: tuple["_Node", ...] = ()
    ordered: tuple[Term, ...] = ()
    gaps: tuple[int, ...] = ()


class _Parser:
    """and := or ((AND)? or)* ; or := unary (OR unary)* ; unary := NOT unary | primary ;
    primary := ( and ) | term [/s term] | field. Fields become filters (top level only)."""

    def __init__(self, q: str, tokens: list[_Token], filters: Filters, near_gap: int = 8):
        self.q, self.tokens, self.filters, self.near_gap = q, tokens, filters, near_gap
        self.i = 0
        self.depth = 0  # open groups, OR operands and NOTs around the token being read

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def error(self, message: str, tok: _Token | None) -> QueryError:
        return QueryError(message, self.q, tok.pos if tok is not None else len(self.q))

    def parse(self) -> _Node | None:
        node = self.and_expr()
        tok = self.peek()
        if tok is not None:  # only a CLOSE can stop and_expr early, and those are matched
            raise self.error(f"多余的 {tok.text}", tok)
        return node

    def and_expr(self) -> _Node | None:
        kids: list[_Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind == CLOSE:
                break
            if tok.kind == AND:
                if not kids:
                    raise self.error(f"{tok.text} 两边都要有检索词", tok)
                self.i += 1
                nxt = self.peek()
                if nxt is None or nxt.kind in (CLOSE, AND, OR, NEAR):
                    raise self.error(f"{tok.text} 两边都要有检索词", tok)
                continue
            node = self.or_expr()
            if node is not None:
                kids.append(node)
        if not kids:
            return None
        return kids[0] if len(kids) == 1 else _Node(AND, kids[0].pos, kids=tuple(kids))

    def or_expr(self) -> _Node | None:
        first_tok = self.peek()
        first = self.unary()
        if self.peek() is None or self.peek().kind != OR:
            return first
        if first is None:
            raise self.error("字段条件不能用 OR 连接（同一字段的几个值本来就是“或”：region:甲 region:乙）", first_tok)
        kids = [first]
        while (tok := self.peek()) is not None and tok.kind == OR:
            self.i += 1
            if self.peek() is None or self.peek().kind in (CLOSE, AND, OR, NEAR):
                raise self.error(f"{tok.text} 两边都要有检索词", tok)
            self.depth += 1
            kid = self.unary()
            self.depth -= 1
            if kid is None:
                raise self.error(f"{tok.text} 不能连接字段条件（同一字段的几个值本来就是“或”：region:甲 region:乙）", tok)
            kids.append(kid)
        return _Node(OR, kids[0].pos, kids=tuple(kids))

    def unary(self) -> _Node | None:
        tok = self.peek()
        if tok.kind == NOT:
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in (CLOSE, AND, OR, NEAR):
                raise self.error(f"{tok.text} 后面要跟一个检索词", tok)
            if nxt.kind == FIELD:
                raise self.error("字段条件不能排除", nxt)
            self.depth += 1
            kid = self.unary()
            self.depth -= 1
            return _Node(NOT, tok.pos, kids=(kid,))
        return self.primary()

    def primary(self) -> _Node | None:
        tok = self.peek()
        self.i += 1
        if tok.kind == OPEN:
            self.depth += 1
            node = self.and_expr()
            self.depth -= 1
            close = self.peek()
            if close is None:
                raise self.error(f"{tok.text} 没有对应的右括号（要查找括号本身，请加引号）", tok)
            self.i += 1
            if node is None:
                raise self.error("括号里没有检索词", tok)
            return node
        if tok.kind == FIELD:
            if self.depth:
                raise self.error(f"{tok.field}: 要写在括号、OR 和排除之外（它限定整个检索）", tok)
            _apply_field(self.filters, tok, self.q)
            return None
        if tok.kind in (OR, AND, NEAR):
            raise self.error(f"{tok.text} 两边都要有检索词", tok)
        if not tok.quoted and len(tok.text) > 1 and tok.text[0] in _NEAR_PREFIX:
            return self.near_phrase(tok)
        node = _Node(TERM, tok.pos, term=_term(tok, self.q))
        nxt = self.peek()
        if nxt is not None and nxt.kind == NEAR and nxt.text.lower() == "/s":
            self.i += 1
            other = self.peek()
            if other is None or other.kind != TERM:
                raise self.error("/s 两边都要有检索词", nxt)
            self.i += 1
            node = _Node(NEAR, tok.pos, near=(node.term, _term(other, self.q)))
        elif nxt is not None and nxt.kind == NEAR:
            terms, gaps = [node.term], []
            while (op := self.peek()) is not None and op.kind == NEAR and op.text.lower() != "/s":
                self.i += 1
                other = self.peek()
                if other is None or other.kind != TERM:
                    raise self.error(f"{op.text} 两边都要有检索词", op)
                self.i += 1
                terms.append(_term(other, self.q))
                gaps.append(int(op.text[1:]))
            node = _Node(ORDERED, tok.pos, ordered=tuple(terms), gaps=tuple(gaps))
        return node

    def near_phrase(self, tok: _Token) -> _Node:
        """~phrase: its words (jieba's, without this project's policy phrases) in order, each at most
        ``near_gap`` characters after the one before; a phrase of one word is that word."""
        from indexer.analysis import plain_words

        phrase = _term(_Token(TERM, tok.text[1:], tok.pos + 1), self.q)
        words = plain_words(phrase.folded)
        if len(words) < 2:
            return _Node(TERM, tok.pos, term=phrase)
        return _Node(ORDERED, tok.pos, ordered=tuple(Term(w, w) for w in words),
                     gaps=(self.near_gap,) * (len(words) - 1))


def _conjuncts(node: _Node, negated_at: int | None = None) -> list[list[tuple[int | None, _Node]]]:
    """The node as an AND of ORs of literals (De Morgan, then AND over OR): (where the NOT that
    negates it was written, or None; a leaf)."""
    if node.op in (TERM, NEAR, ORDERED):
        return [[(negated_at, node)]]
    if node.op == NOT:
        return _conjuncts(node.kids[0], None if negated_at is not None else node.pos)
    parts = [_conjuncts(kid, negated_at) for kid in node.kids]
    if (node.op == AND) == (negated_at is None):  # an AND, or a negated OR: the parts' clauses all hold
        return [clause for part in parts for clause in part]
    product: list[list[tuple[int | None, _Node]]] = [[]]
    for part in parts:
        product = [a + b for a in product for b in part]
        if len(product) > MAX_CLAUSES:
            raise QueryError(f"这个检索式展开后的条件太多（超过 {MAX_CLAUSES} 组“或”），请减少括号里的词", "", node.pos)
    return product


def _shown(node: _Node, inside: str = "") -> str:
    if node.op == TERM:
        return written_term(node.term.folded)
    if node.op == NEAR:
        return f"{written_term(node.near[0].folded)} /s {written_term(node.near[1].folded)}"
    if node.op == ORDERED:
        return written_term(node.ordered[0].folded) + "".join(
            f" /{g} {written_term(t.folded)}" for g, t in zip(node.gaps, node.ordered[1:]))
    if node.op == NOT:
        return "-" + _shown(node.kids[0], NOT)
    text = (" OR " if node.op == OR else " ").join(_shown(k, node.op) for k in node.kids)
    return f"({text})" if inside == NOT or (inside == OR and node.op == AND) else text


def written_term(folded: str) -> str:
    """A term as the query language writes it (quoted, with escapes, when it would not parse alone
    as that one term: spaces, operators, quotes, parentheses at its ends, a field name)."""
    plain = (folded and not any(c.isspace() or c in _OR_MARKS or c in _QUOTE_ENDS for c in folded)
             and folded.lower() not in _WORDS and folded[0] not in _NEGATIONS + _OPENS
             and folded[-1] not in _CLOSES and not _FIELD_NAME.match(folded))
    return folded if plain else '"' + folded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _term(tok: _Token, q: str) -> Term:
    folded = fold(tok.text).strip()
    if not folded:
        raise QueryError("引号里没有内容" if tok.quoted else "检索词是空的", q, tok.pos)
    return Term(tok.text, folded)


def with_filters(parse: Callable[[str], "ParsedQuery"], q: str, filters: "Filters | None") -> "ParsedQuery":
    """``q`` parsed by ``parse`` (an engine's limits) with filters chosen outside it (the UI's)."""
    if filters is None or filters.is_empty():
        return parse(q)
    if not q.strip():
        return ParsedQuery(filters.to_query(), filters=filters)
    parsed = parse(q)
    parsed.filters = parsed.filters.merged(filters)
    return parsed


def parse_query(q: str, *, max_chars: int = 200, max_terms: int = 12, near_gap: int = 8) -> ParsedQuery:
    if len(q) > max_chars:
        raise QueryTooLong(f"检索式太长（{len(q)} 个字符，最多 {max_chars} 个）；要查找一段原文的出处，请用“查找出处”", q)
    bad = _LONE_SURROGATE.search(q)
    if bad:  # half of a UTF-16 pair (JSON "\ud800") or an undecodable byte (surrogateescape): not text
        raise QueryError(f"检索式第 {bad.start() + 1} 个字符无效（U+{ord(bad.group()):04X}，"
                         f"是 UTF-16 代理对的一半，不是字符）", q, bad.start())
    if not q.strip():
        raise QueryError("检索式是空的：请输入要查找的词句，如 出庭应诉率", q, 0)
    tokens = _tokens(q)
    parsed = ParsedQuery(q)
    try:
        tree = _Parser(q, tokens, parsed.filters, near_gap).parse()
        conjuncts = _conjuncts(tree) if tree is not None else []
    except QueryError as exc:
        raise QueryError(exc.message, q, exc.position) from None
    n_terms = sum(t.kind == TERM for t in tokens) + len(parsed.filters.section)
    if n_terms > max_terms:
        raise QueryError(f"检索词太多（{n_terms} 个，最多 {max_terms} 个）", q, None)
    seen: set[tuple] = set()
    for clause in conjuncts:
        negated = [(at, leaf) for at, leaf in clause if at is not None]
        if negated and len(clause) > 1:
            raise QueryError("排除（- 或 NOT）只能用于一个词或 (A OR B) 这样的组，不能放进 OR 里", q, negated[0][0])
        if negated and negated[0][1].op in (NEAR, ORDERED):
            raise QueryError("/s、/N 和 ~ 的组合不能排除", q, negated[0][0])
        near = [leaf for _, leaf in clause if leaf.op in (NEAR, ORDERED)]
        if near and (len(clause) > 1 or negated):
            raise QueryError("/s、/N 和 ~ 不能与 OR 或排除用在同一组里", q, near[0].pos)
        if negated:
            term = negated[0][1].term
            key = ("-", term.folded)
            if key not in seen:
                seen.add(key)
                parsed.excluded.append(term)
            continue
        if near and near[0].op == ORDERED:
            leaf = near[0]
            key = ("/n", *(t.folded for t in leaf.ordered), *leaf.gaps)
            made = Clause(ordered=leaf.ordered, gaps=leaf.gaps)
        elif near:
            a, b = near[0].near
            key = ("/s", a.folded, b.folded)
            made = Clause(same_sentence=(a, b))
        else:
            terms = list({leaf.term.folded: leaf.term for _, leaf in clause}.values())
            key = ("or", *sorted(t.folded for t in terms))
            made = Clause(any_of=tuple(terms))
        if key not in seen:
            seen.add(key)
            parsed.clauses.append(made)
    if not parsed.clauses and parsed.filters.is_empty():
        raise QueryError("没有可检索的内容：至少要有一个不被排除的检索词", q, 0)
    parsed.shown = _shown(tree) if tree is not None else ""
    return parsed


def _apply_field(filters: Filters, tok: _Token, q: str) -> None:
    value = tok.text.strip()
    if tok.field == "year" and re.fullmatch(r"\d{4}(\s*[,，、]\s*\d{4})+", value):
        filters.years = sorted(set(filters.years) | {int(y) for y in re.findall(r"\d{4}", value)})
    elif tok.field == "year":
        m = re.fullmatch(r"(\d{4})(?:\s*(?:\.\.|-|~|—)\s*(\d{4})?)?", value) or re.fullmatch(r"\.\.(\d{4})", value)
        if not m:
            raise QueryError(f"year:{value} 不是年份，也不是 year:2020..2022 这样的范围或 year:2019,2021 这样的几个年份",
                             q, tok.pos)
        if value.startswith(".."):
            filters.year_to = int(m.group(1))
            return
        lo = int(m.group(1))
        hi = m.group(2)
        ranged = hi is not None or ".." in value or "-" in value
        filters.year_from = lo
        filters.year_to = int(hi) if hi else (None if ranged else lo)
        if filters.year_to is not None and filters.year_to < lo:
            raise QueryError(f"年份范围 {value} 的终止年早于起始年", q, tok.pos)
    elif tok.field == "region":
        filters.region.append(fold(value))
    elif tok.field == "type":
        filters.doc_type.append(fold(value))
    elif tok.field == "report":
        filters.report.append(value)
    elif tok.field == "section":
        filters.section.append(_term(tok, q))
    elif tok.field == "docno":
        filters.docno.append(value)
    elif tok.field == "cites":
        filters.cites.append(value)
    elif tok.field == "similar":
        filters.similar.append(value.strip())
    elif tok.field == "article":
        key = article_key(value)
        if key is None:
            raise QueryError(f"article:{value} 不是法律条文的编号（写作 article:第二十三条、条:23 或 条:10-1）", q, tok.pos)
        filters.article.append(key)
    elif tok.field == "title":
        filters.title.append(_term(tok, q).folded)
    elif tok.field == "issuer" and value.startswith("="):
        filters.issuer_is.append(fold(value[1:]))
    elif tok.field == "issuer":
        filters.issuer.append(_term(tok, q).folded)
    elif tok.field == "date":
        lo, sep, hi = value.partition("..")
        try:
            start = _date_key(lo, last=False) if lo else None
            end = _date_key(hi if sep else lo, last=True) if (hi or not sep) else None
        except ValueError:
            raise QueryError(f"date:{value} 不是日期，也不是 date:2022-01..2022-06 这样的日期范围", q, tok.pos) from None
        if start is not None and end is not None and end < start:
            raise QueryError(f"日期范围 {value} 的终止日早于起始日", q, tok.pos)
        filters.date_from = start if filters.date_from is None or start is None else max(filters.date_from, start)
        filters.date_to = end if filters.date_to is None or end is None else min(filters.date_to, end)


_ARTICLE_KEY = re.compile(r"第?\s*([^\s条之\-]+)\s*条?\s*(?:(?:之|-)\s*([^\s条]+))?")


def article_key(value: str) -> str | None:
    """The key of an article as typed (第二十三条, 23, 二十三, 第23条, 第十条之一, 10-1): 23, 10-1."""
    m = _ARTICLE_KEY.fullmatch(fold(value.strip()))
    if not m:
        return None
    number = cn_numeral(m.group(1))
    sub = cn_numeral(m.group(2)) if m.group(2) else None
    if not number or (m.group(2) and not sub):
        return None
    return f"{number}-{sub}" if sub else str(number)


_DATE = re.compile(r"(\d{4})(?:[-./年](\d{1,2})(?:[-./月](\d{1,2})日?)?月?)?")


def _date_key(text: str, *, last: bool) -> int:
    """yyyymmdd of a date as typed (2022, 2022-01, 2022-01-17, 2022年1月17日): its first day, or
    with ``last`` its last day (the end of a range)."""
    import calendar

    m = _DATE.fullmatch(text.strip())
    if not m:
        raise ValueError(text)
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else (12 if last else 1)
    if not 1 <= month <= 12:
        raise ValueError(text)
    days = calendar.monthrange(year, month)[1]
    day = int(m.group(3)) if m.group(3) else (days if last else 1)
    if not 1 <= day <= days:
        raise ValueError(text)
    return year * 10000 + month * 100 + day


def _shown_date(key: int | None) -> str:
    return f"{key // 10000:04d}-{key // 100 % 100:02d}-{key % 100:02d}" if key else ''
