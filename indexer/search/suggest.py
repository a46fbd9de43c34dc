"""Looser queries that do find something, for a search that found nothing: without the chosen
filters, the terms OR-ed, each term alone, and the first two terms shortened; each written as a
query that parses (a term quoted where it holds spaces or operators)."""
from __future__ import annotations

from collections.abc import Callable

from indexer.search.query import Filters, ParsedQuery, QueryError, written_term
from indexer.search.results import Suggestion

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
