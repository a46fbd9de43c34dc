"""Looser queries that do find something, for a search that found nothing: without the chosen
filters, the terms OR-ed, each term alone, and the first two terms shortened; each written as a
query that parses (a term quoted where it holds spaces or operators)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from indexer.search.query import Filters, ParsedQuery, QueryError, written_term
from indexer.search.results import EmptyingFilter, Suggestion

MAX_SUGGESTIONS = 4


def _candidates(q: str, filters: Filters, parsed: ParsedQuery | None) -> list[tuple[str, bool]]:
    """(query, filters dropped) in the order they are tried."""
    cands: list[tuple[str, bool]] = []
    if not filters.is_empty():
        cands.append((q, True))
    terms = [t.raw for t in parsed.positive_terms()] if parsed else []
    if len(terms) > 1:
        cands.append((" OR ".join(map(written_term, terms)), False))
        cands += [(written_term(t), False) for t in terms]
    for t in terms[:2]:
        if len(t) >= 3:
            half = max(2, len(t) // 2)
            cands += [(written_term(part.strip()), False) for part in (t[:-1], t[1:], t[:half], t[half:], t[:-2])
                      if part.strip()]
    return cands


def suggestions(q: str, filters: Filters, parse: Callable[[str], ParsedQuery],
                count: Callable[[str, Filters], int]) -> list[Suggestion]:
    """Up to MAX_SUGGESTIONS looser queries than ``q`` with ``filters`` that find something, with
    their counts. ``parse`` parses a query within the engine's limits; ``count`` counts its hits."""
    try:
        parsed = parse(q) if q else None
    except QueryError:
        parsed = None
    out: list[Suggestion] = []
    seen: set[tuple[str, bool]] = set()
    for cq, dropped in _candidates(q, filters, parsed):
        key = (cq, dropped or filters.is_empty())
        if len(cq) < 2 or key in seen or (cq == q and not dropped):
            continue
        seen.add(key)
        try:
            n = count(cq, Filters() if dropped else filters)
        except QueryError:
            continue
        if n:
            out.append(Suggestion(cq, n, dropped))
        if len(out) >= MAX_SUGGESTIONS:
            break
    return out


FILTER_LABELS = {"region": "地区", "year": "年份", "doc_type": "文种", "report": "报告", "section": "章节",
                 "docno": "文号", "cites": "引用", "title": "标题", "issuer": "发文机关", "issuer_is": "发文机关", "date": "日期"}


def emptying_filters(parsed: ParsedQuery, count: Callable[[ParsedQuery], int]) -> list[EmptyingFilter]:
    """For a query (its filters, the chosen ones merged in) that found nothing: each filter
    dimension without which it finds something, with that count. Values of one dimension are
    OR-ed, so only a whole dimension can be what empties the result."""
    f = parsed.filters
    out = []
    for dim, label in FILTER_LABELS.items():
        if dim == "year":
            values = [v for v in [f.year_range_shown()] if v] + [str(y) for y in f.years]
            rest = f.without("year")
        elif dim == "date":
            values = [v for v in [f.date_range_shown()] if v]
            rest = replace(f, date_from=None, date_to=None)
        else:
            values = [v.raw if dim == "section" else v for v in getattr(f, dim)]
            rest = replace(f, **{dim: []})
        if not values or (not parsed.clauses and rest.is_empty()):
            continue
        n = count(replace(parsed, filters=rest))
        if n:
            out.append(EmptyingFilter(dim, label, values, n))
    return out
