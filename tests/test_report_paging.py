"""SearchEngine.report pages a report: [start, start + limit), its total and every heading."""
from __future__ import annotations

import pytest

from indexer.search.engine import NotFound


def test_report_pages_are_slices_of_the_whole_report(engine):
    for ref in engine.reports():
        whole = engine.report(ref.id)
        ids = [p.id for p in whole.paragraphs]
        assert whole.start == 0 and whole.total_paragraphs == len(ids) > 0
        assert [p.id for p in whole.headings] == [p.id for p in whole.paragraphs if p.kind == "heading"]
        for start, limit in [(0, 1), (0, 7), (3, 5), (len(ids) - 2, 10), (len(ids), 5), (len(ids) + 3, 5), (5, 0)]:
            page = engine.report(ref.id, start=start, limit=limit)
            assert [p.id for p in page.paragraphs] == ids[start:start + limit]
            assert page.start == min(start, len(ids)) and page.total_paragraphs == len(ids)
            assert [p.id for p in page.headings] == [p.id for p in whole.headings]
            # a page's views are the same views as in the whole report (previous/next across pages)
            assert [p.to_dict() for p in page.paragraphs] == [p.to_dict() for p in whole.paragraphs[start:start + limit]]
        assert [p.id for p in engine.report(ref.id, start=4).paragraphs] == ids[4:]


def test_report_paging_rejects_negative_bounds_and_unknown_reports(engine):
    rid = engine.reports()[0].id
    with pytest.raises(ValueError):
        engine.report(rid, start=-1)
    with pytest.raises(ValueError):
        engine.report(rid, limit=-1)
    with pytest.raises(NotFound):
        engine.report("no-such-report", start=0, limit=10)
