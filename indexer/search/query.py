"""The query language.

    出庭应诉率                 paragraphs containing the phrase (substring of the folded text)
    2021年 行政复议            both (AND is implicit between space-separated terms)
    复议 OR 诉讼   复议 | 诉讼   either
    -临猗                      exclude paragraphs containing it
    "双随机、一公开"            one literal term, spaces and punctuation included
    法律顾问 /s 村              both within one sentence (同句)
    region:互助  year:2021  year:2020..2022  type:报告  report:<id>  section:复议  docno:互政〔2022〕4号
    cites:互政〔2022〕4号   cites:"法治政府建设实施纲要（2021—2025年）"   paragraphs citing a 文号 or a 《title》

Terms are folded like documents (full/half width, punctuation variants, 2021 年 == 2021年,
traditional == simplified), so they match wherever they occur, whatever jieba makes of them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace

from indexer.normalise import fold

FIELDS = ("region", "year", "type", "report", "section", "docno", "cites")
SORTS = ("relevance", "date", "report")
# The dimensions a search's hits are counted by (``SearchEngine.facets``), named as their filters.
FACETS = ("region", "year", "type")
SYNTAX_HELP = __doc__
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


def _display_width(s: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in s)


@dataclass(frozen=True)
class Term:
    raw: str
    folded: str


@dataclass(frozen=True)
class Clause:
    """All clauses must hold. ``any_of``: at least one term occurs; ``same_sentence``: both terms
    occur in one sentence."""

    any_of: tuple[Term, ...] = ()
    same_sentence: tuple[Term, Term] | None = None

    def terms(self) -> tuple[Term, ...]:
        return self.same_sentence if self.same_sentence else self.any_of


@dataclass
class Filters:
    """Field filters of a query, or chosen beside it (the web UI's facets: ``chosen``). A new filter
    is a field here, its branch in ``_apply_field`` and ``to_query``, and its test in
    ``reports.ReportColumns.mask`` (a filter on reports) or ``match`` (on paragraphs)."""

    region: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    doc_type: list[str] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    section: list[Term] = field(default_factory=list)
    docno: list[str] = field(default_factory=list)
    cites: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    @classmethod
    def chosen(cls, *, region: list[str] = (), doc_type: list[str] = (), year_from: int | None = None,
               year_to: int | None = None, report: list[str] = ()) -> "Filters":
        """Filters picked outside the query language (the web UI's facets), folded as the parser
        folds a ``region:`` or ``type:`` value."""
        return cls(region=[fold(v.strip()) for v in region], doc_type=[fold(v.strip()) for v in doc_type],
                   year_from=year_from, year_to=year_to, report=list(report))

    def merged(self, other: "Filters") -> "Filters":
        """Both sets of filters at once: value lists add up (OR within one, AND with the query's
        clauses), year ranges intersect."""
        lists = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)
                 if isinstance(getattr(self, f.name), list)}
        year_from = [y for y in (self.year_from, other.year_from) if y is not None]
        year_to = [y for y in (self.year_to, other.year_to) if y is not None]
        return Filters(**lists, year_from=max(year_from, default=None), year_to=min(year_to, default=None))

    def without(self, facet: str) -> "Filters":
        """These filters less those of one facet dimension (``FACETS``)."""
        if facet == "region":
            return replace(self, region=[])
        if facet == "type":
            return replace(self, doc_type=[])
        if facet == "year":
            return replace(self, year_from=None, year_to=None)
        raise ValueError(f"unknown facet {facet!r} (known: {', '.join(FACETS)})")

    def selects(self, facet: str) -> bool:
        """Whether these filters choose values of one facet dimension."""
        return self.without(facet) != self

    def to_query(self) -> str:
        """The filters in the query language (what a filters-only search searched)."""
        parts = [f'region:"{v}"' for v in self.region] + [f'type:"{v}"' for v in self.doc_type]
        if self.year_from is not None or self.year_to is not None:
            lo, hi = self.year_from, self.year_to
            parts.append(f"year:{lo}" if lo == hi else f"year:{lo or ''}..{hi or ''}")
        parts += [f'report:"{v}"' for v in self.report] + [f'section:"{t.raw}"' for t in self.section]
        parts += [f'docno:"{v}"' for v in self.docno] + [f'cites:"{v}"' for v in self.cites]
        return " ".join(parts)

    def to_dict(self) -> dict:
        return {
            "region": self.region, "year_from": self.year_from, "year_to": self.year_to,
            "type": self.doc_type, "report": self.report, "section": [t.raw for t in self.section],
            "docno": self.docno, "cites": self.cites,
        }


@dataclass
class ParsedQuery:
    text: str
    clauses: list[Clause] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)

    def positive_terms(self) -> list[Term]:
        return [t for c in self.clauses for t in c.terms()]

    def folded_display(self) -> str:
        """The query as it was searched, after folding."""
        parts = []
        for c in self.clauses:
            if c.same_sentence:
                parts.append(f"{c.same_sentence[0].folded} /s {c.same_sentence[1].folded}")
            else:
                parts.append(" OR ".join(t.folded for t in c.any_of))
        parts += [f"-{t.folded}" for t in self.excluded]
        return " ".join(parts)


@dataclass
class _Token:
    kind: str  # term | or | near | field
    text: str
    pos: int
    negated: bool = False
    quoted: bool = False
    field: str = ""


def _tokens(q: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch == "|":
            out.append(_Token("or", "|", start))
            i += 1
            continue
        negated = False
        if ch == "-" and i + 1 < n and not q[i + 1].isspace():
            negated = True
            i += 1
        fname = ""
        m = re.match(r"([A-Za-z]+):", q[i:])
        if m and not negated:
            fname = m.group(1).lower()
            if fname not in FIELDS:
                raise QueryError(f"unknown field '{m.group(1)}:' (known fields: {', '.join(f + ':' for f in FIELDS)})",
                                 q, i)
            i += m.end()
            if i >= n or q[i].isspace():
                raise QueryError(f"'{fname}:' needs a value", q, i)
        if i < n and q[i] in "\"“”":
            close = re.compile(r"[\"“”]")
            m2 = close.search(q, i + 1)
            if not m2:
                raise QueryError("unclosed quotation mark", q, i)
            text = q[i + 1:m2.start()]
            i = m2.end()
            tok = _Token("field" if fname else "term", text, start, negated, True, fname)
        else:
            j = i
            while j < n and not q[j].isspace() and q[j] != "|":
                if q[j] == '"':
                    break
                j += 1
            text = q[i:j]
            i = j
            if not fname and not negated and text == "OR":
                out.append(_Token("or", text, start))
                continue
            if not fname and not negated and text.lower() == "/s":
                out.append(_Token("near", text, start))
                continue
            if negated and not text:
                raise QueryError("'-' must be followed by a term", q, start)
            tok = _Token("field" if fname else "term", text, start, negated, False, fname)
        out.append(tok)
    return out


def _term(tok: _Token, q: str) -> Term:
    folded = fold(tok.text).strip()
    if not folded:
        raise QueryError("empty term" + (" in quotes" if tok.quoted else ""), q, tok.pos)
    return Term(tok.text, folded)


def parse_query(q: str, *, max_chars: int = 200, max_terms: int = 12) -> ParsedQuery:
    if len(q) > max_chars:
        raise QueryError(f"query is too long ({len(q)} characters; at most {max_chars})", q, max_chars)
    bad = _LONE_SURROGATE.search(q)
    if bad:  # half of a UTF-16 pair (JSON "\ud800") or an undecodable byte (surrogateescape): not text
        raise QueryError(f"the query holds an invalid character at position {bad.start()} "
                         f"(U+{ord(bad.group()):04X}, half of a UTF-16 surrogate pair: not a character)",
                         q, bad.start())
    if not q.strip():
        raise QueryError("empty query: type a phrase such as 出庭应诉率", q, 0)
    tokens = _tokens(q)
    parsed = ParsedQuery(q)
    groups: list[list[_Token]] = []  # positive terms, OR-joined within a group
    near_pairs: list[tuple[_Token, _Token]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind in ("or", "near"):
            raise QueryError(f"'{tok.text}' needs a term on each side", q, tok.pos)
        if tok.kind == "field":
            _apply_field(parsed.filters, tok, q)
            i += 1
            continue
        if tok.negated:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.kind in ("or", "near"):
                raise QueryError(f"an excluded term cannot be combined with '{nxt.text}'", q, nxt.pos)
            parsed.excluded.append(_term(tok, q))
            i += 1
            continue
        group = [tok]
        i += 1
        while i < len(tokens) and tokens[i].kind in ("or", "near"):
            op = tokens[i]
            if i + 1 >= len(tokens) or tokens[i + 1].kind != "term" or tokens[i + 1].negated:
                raise QueryError(f"'{op.text}' needs a term on each side", q, op.pos)
            if op.kind == "near":
                if len(group) != 1:
                    raise QueryError("'/s' cannot be mixed with OR in one group", q, op.pos)
                near_pairs.append((group[0], tokens[i + 1]))
                group = []
                i += 2
                break
            group.append(tokens[i + 1])
            i += 2
        if group:
            groups.append(group)
    for group in groups:
        parsed.clauses.append(Clause(any_of=tuple(_term(t, q) for t in group)))
    for a, b in near_pairs:
        parsed.clauses.append(Clause(same_sentence=(_term(a, q), _term(b, q))))
    n_terms = len(parsed.positive_terms()) + len(parsed.excluded) + len(parsed.filters.section)
    if n_terms > max_terms:
        raise QueryError(f"too many terms ({n_terms}; at most {max_terms})", q, None)
    if not parsed.clauses and parsed.filters.is_empty():
        raise QueryError("nothing to search for: add a term that is not excluded", q, 0)
    return parsed


def _apply_field(filters: Filters, tok: _Token, q: str) -> None:
    value = tok.text.strip()
    if tok.field == "year":
        m = re.fullmatch(r"(\d{4})(?:\s*(?:\.\.|-|~|—)\s*(\d{4})?)?", value) or re.fullmatch(r"\.\.(\d{4})", value)
        if not m:
            raise QueryError(f"year:{value} is not a year or a range like year:2020..2022", q, tok.pos)
        if value.startswith(".."):
            filters.year_to = int(m.group(1))
            return
        lo = int(m.group(1))
        hi = m.group(2)
        ranged = hi is not None or ".." in value or "-" in value
        filters.year_from = lo
        filters.year_to = int(hi) if hi else (None if ranged else lo)
        if filters.year_to is not None and filters.year_to < lo:
            raise QueryError(f"year range {value} ends before it starts", q, tok.pos)
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
