"""The search work the web layer used to do, now engine methods: each equals the way views.py
did it before (a search per selected facet dimension, paging a report's hits 100 at a time, query
strings for suggestions and filters), on the real seed corpus."""
from __future__ import annotations

import pytest

from indexer.search.history import diff_spans
from indexer.search.query import FACETS, Filters, parse_query, written_term


def _chosen(engine) -> list[Filters]:
    refs = engine.reports()
    regions = sorted({r.region for r in refs if r.region})
    years = sorted({r.year for r in refs if r.year})
    types = sorted({r.doc_type for r in refs if r.doc_type})
    return [
        Filters(),
        Filters.chosen(region=regions[:1]),
        Filters.chosen(region=regions[:2], doc_type=types[:1]),
        Filters.chosen(year_from=years[0], year_to=years[-1]),
        Filters.chosen(region=regions[:1], year_from=years[-1], year_to=years[-1], doc_type=types[:1]),
    ]


@pytest.mark.parametrize("q", ["出庭应诉率", "法治政府", "复议 OR 诉讼", "region:互助 法治", ""])
def test_facets_without_own_dimension_equal_a_search_with_that_filter_removed(engine, q):
    for filters in _chosen(engine):
        if not q and filters.is_empty():
            continue
        result = engine.search(q, filters=filters, per_page=1)
        facets = engine.facets(q, filters)
        assert engine.facets(q, filters, of=result) == facets
        for dim in FACETS:
            others = filters.without(dim)
            if filters.selects(dim) and (q or not others.is_empty()):
                assert facets[dim] == engine.search(q, filters=others, per_page=1).facets[dim], (q, filters, dim)
            else:
                assert facets[dim] == result.facets[dim], (q, filters, dim)


def test_filters_merge_as_the_query_language_joins_them(engine):
    """A query's own filters with the UI's equal the one query string holding both."""
    for filters in _chosen(engine)[1:]:
        assert parse_query(filters.to_query()).filters == filters
        for q in ("出庭应诉率", "法治 region:互助", "type:报告 复议"):
            joined = parse_query(f"{q} {filters.to_query()}", max_chars=10_000, max_terms=1_000)
            assert engine.parse_with(q, filters).filters == joined.filters, (q, filters)
            assert engine.search(q, filters=filters).total == engine.search(joined).total
    # year ranges intersect (in a query string the last year: would win)
    merged = engine.parse_with("法治 year:2019..2022", Filters.chosen(year_from=2020, year_to=2024)).filters
    assert (merged.year_from, merged.year_to) == (2020, 2022)
    assert Filters(year_to=2021).merged(Filters(year_from=2018)) == Filters(year_from=2018, year_to=2021)


def test_filters_only_search_searches_the_filters_as_a_query(engine):
    filters = _chosen(engine)[1]
    result = engine.search("", filters=filters)
    assert result.query == filters.to_query()
    assert result.total == engine.search(filters.to_query()).total > 0


def _paged_report_hits(engine, rid: str, q: str) -> list[tuple[int, str]]:
    hits, page = [], 1
    while page <= 20:
        res = engine.search(q, filters=Filters(report=[rid]), page=page, per_page=100, sort="report")
        hits += [(h.ordinal, h.id) for h in res.hits]
        if page >= res.pages:
            break
        page += 1
    return sorted(hits)


@pytest.mark.parametrize("q", ["出庭应诉率", "的", "法治 OR 政府", "法治 -的"])
def test_report_hits_equal_the_paged_hits(engine, q):
    for ref in engine.reports():
        found = engine.report_hits(ref.id, q)
        assert found.hits == _paged_report_hits(engine, ref.id, q), (ref.id, q)
        assert found.folded == engine.parse(q).folded_display()
    assert engine.report_hits(engine.reports()[0].id, "的", limit=5).hits == \
        _paged_report_hits(engine, engine.reports()[0].id, "的")[:5]


def _string_suggestions(engine, q: str, filters: Filters) -> list[tuple[str, int, bool]]:
    """The suggestions as views.py made them: query strings with the filters appended."""
    try:
        parsed = engine.parse(q) if q else None
    except Exception:
        parsed = None
    cands = [(q, True)] if not filters.is_empty() else []
    terms = [t.raw for t in parsed.positive_terms()] if parsed else []
    if len(terms) > 1:
        cands += [(" OR ".join(map(written_term, terms)), False)] + [(written_term(t), False) for t in terms]
    for t in terms[:2]:
        if len(t) >= 3:
            half = max(2, len(t) // 2)
            cands += [(written_term(c.strip()), False) for c in (t[:-1], t[1:], t[:half], t[half:], t[:-2]) if c.strip()]
    out, seen = [], set()
    for cq, dropped in cands:
        extra = "" if dropped else filters.to_query()
        if len(cq) < 2 or (cq, extra) in seen or (cq == q and not dropped):
            continue
        seen.add((cq, extra))
        try:
            n = engine.count((cq + " " + extra).strip())
        except Exception:
            continue
        if n:
            out.append((cq, n, dropped))
        if len(out) >= 4:
            break
    return out


@pytest.mark.parametrize("q", ["出庭应诉率 不在语料里的短语", "出庭应诉率", "不在语料里的短语", "行政复议工作 县", "x"])
def test_suggestions_equal_the_query_strings_views_built(engine, q):
    for filters in _chosen(engine):
        got = [(s.query, s.count, s.filters_dropped) for s in engine.suggestions(q, filters)]
        assert got == _string_suggestions(engine, q, filters), (q, filters)
    assert any(s.query == "出庭应诉率" and s.count == engine.count("出庭应诉率") > 0
               for s in engine.suggestions("出庭应诉率 不在语料里的短语", Filters()))


def test_history_diff_marks_whole_numbers():
    assert diff_spans("出庭应诉率为89%", "出庭应诉率为92%") == ([[6, 8]], [[6, 8]])
    assert diff_spans("相同", "相同") == ([], [])
