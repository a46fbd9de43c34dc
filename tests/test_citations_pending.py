"""A server's engine builds the corpus-wide citation index on a thread of its own (at 100k reports
it reads 1.3 million paragraphs, two minutes of one core): meanwhile report pages are served
without their citation lists, and what needs the index answers 503 with Retry-After; once built,
every page has it. The build is the real one, held back by the test until it has seen the
pending answers."""
from __future__ import annotations

import threading

import pytest

from indexer.citations import cited


@pytest.fixture
def held_build(monkeypatch):
    """CitationIndex.of, the real one, started but held until the test releases it."""
    started, release = threading.Event(), threading.Event()
    real = cited.CitationIndex.of.__func__

    def held(cls, store, **kwargs):
        started.set()
        assert release.wait(60)
        return real(cls, store, **kwargs)

    monkeypatch.setattr(cited.CitationIndex, "of", classmethod(held))
    return started, release


def test_pages_do_not_wait_for_the_citation_index(seed_index, held_build):
    from indexer.config import Settings
    from webapp import create_app

    started, release = held_build
    app = create_app(Settings(index=seed_index, corpus=seed_index / "no-corpus", citations_wait_paragraphs=0))
    client = app.test_client()
    eng = app.extensions["policy_search_engine"]
    rid = eng.reports()[0].id
    try:
        page = client.get(f"/reports/{rid}")
        assert page.status_code == 200 and "正在统计全部" in page.get_data(as_text=True)
        assert started.wait(30)  # the build runs on its own thread, not in the request
        d = client.get(f"/api/reports/{rid}").get_json()
        assert d["citations"]["pending"] and d["citations"]["cited_by"] == []
        for path in ("/api/citations", "/api/search?q=" + "cites:互政〔2022〕4号"):
            r = client.get(path)
            assert r.status_code == 503 and r.headers["Retry-After"].isdigit(), path
            assert r.get_json()["error"]["code"] == "citations_pending"
        html = client.get("/citations")
        assert html.status_code == 503 and "正在统计全部" in html.get_data(as_text=True)
    finally:
        release.set()
    eng._citations.thread.join(60)
    d = client.get(f"/api/reports/{rid}").get_json()
    assert d["citations"]["pending"] is None
    ci = eng.citations()
    assert [e["key"] for e in d["citations"]["cites"]] == [e.key for e in ci.cites(rid)]
    assert client.get("/api/citations").status_code == 200
    top = ci.most_cited(1)[0]
    r = client.get("/api/search", query_string={"q": f'cites:"{top.key}"'})
    assert r.status_code == 200 and r.get_json()["total"] == top.count


def test_the_command_line_engine_waits_for_it(seed_index):
    from indexer.search.engine import SearchEngine

    eng = SearchEngine(seed_index)
    try:
        assert not eng.serving
        threads = [threading.Thread(target=eng.citations) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert eng.citations() is eng._citations.value and eng._citations.thread is None  # built once, in the caller
        top = eng.citations().most_cited(1)[0]
        assert eng.search(f'cites:"{top.key}"').total == top.count > 0
    finally:
        eng.close()


def test_a_small_corpus_is_built_within_the_request(seed_index):
    from indexer.citations.cited import citation_work
    from webapp import create_app

    app = create_app(seed_index)
    eng = app.extensions["policy_search_engine"]
    assert eng.serving and 0 < citation_work(eng.store) <= eng.citations_wait_rows
    assert app.test_client().get("/api/citations").status_code == 200 and eng._citations.thread is None
