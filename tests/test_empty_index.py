"""An index without segments (an empty corpus, every file skipped, a build killed before its first
commit) is an empty index: no hits, unknown reports and paragraphs, no facets, and the web app
and `serve` work on it."""
from __future__ import annotations

import importlib.util
import json
import sys
import urllib.request
from pathlib import Path

import pytest

import webapp
from indexer.citations.quote import find_quote
from indexer.search.engine import NotFound, SearchEngine
from indexer.indexing.update import _fresh_index, update_index

from conftest import ROOT


@pytest.fixture(scope="module", params=["empty-corpus", "created-never-committed"])
def empty_index(request, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("empty")
    index_dir = base / "index"
    if request.param == "empty-corpus":
        corpus = base / "corpus"
        corpus.mkdir()
        summary = update_index([corpus], index_dir)
        assert not summary.added
    else:  # what a build leaves when it is killed before its first commit: Whoosh's first TOC
        _fresh_index(index_dir, ())
    return index_dir


def test_an_empty_index_answers_like_an_empty_corpus(empty_index):
    engine = SearchEngine(empty_index)
    try:
        assert engine.stats()["reports"] == engine.stats()["paragraphs"] == 0
        for q in ["x", "出庭应诉率", "行政复议 OR 诉讼 -临猗", '"双随机、一公开"', "法律顾问 /s 村",
                  "region:互助 year:2020..2022 type:报告", "cites:优化营商环境条例", "section:复议 法治"]:
            for kwargs in [{}, {"sort": "date"}, {"sort": "report", "page": 3}, {"by_report": True}]:
                result = engine.search(q, **kwargs)
                assert (result.total, result.reports, result.hits, result.groups or []) == (0, 0, [], [])
                assert result.facets == {"region": [], "year": [], "type": [], "issuer": []}
            assert engine.count(q) == 0
        assert engine.reports() == []
        with pytest.raises(NotFound):
            engine.report("000_0d8bbccb02c01f0a")
        with pytest.raises(NotFound):
            engine.report("000_0d8bbccb02c01f0a", start=0, limit=10)
        with pytest.raises(NotFound):
            engine.paragraph("000_0d8bbccb02c01f0a~2qkvku75b2")
        assert engine.paragraph_history("000_0d8bbccb02c01f0a~2qkvku75b2") is None
        assert find_quote(engine.store, "严格落实行政负责人出庭制度，行政机关负责人出庭应诉率为89%") == []
        assert engine.citations().most_cited() == []
        assert not engine.is_stale()
    finally:
        engine.close()


def test_the_web_app_serves_an_empty_index(empty_index):
    client = webapp.create_app(empty_index).test_client()
    assert client.get("/healthz").get_json() == {"ok": True, "reports": 0, "paragraphs": 0, "worker": 1}
    page = client.get("/")
    assert page.status_code == 200
    searched = client.get("/?q=x")
    assert searched.status_code == 200
    d = client.get("/api/search?q=x").get_json()
    assert d["ok"] and d["total"] == 0 and d["hits"] == []
    assert client.get("/api/facets?q=法治").get_json()["total"] == 0
    assert client.get("/api/reports/000_0d8bbccb02c01f0a").status_code == 404
    assert client.get("/api/paragraphs/000_0d8bbccb02c01f0a~2qkvku75b2").status_code == 404
    assert client.get("/reports/000_0d8bbccb02c01f0a").status_code == 404
    assert client.get("/p/000_0d8bbccb02c01f0a~2qkvku75b2").status_code == 404
    assert client.get("/citations").status_code == 200
    assert client.get("/api/citations").get_json()["documents"] == 0
    assert client.get("/quote?q=严格落实行政负责人出庭制度").status_code == 200
    assert client.get("/api/quote?q=严格落实行政负责人出庭制度").get_json().get("matches", []) == []


def _bench_load():
    """bench/load.py, whose start_server runs `policy-search serve --port 0` and yields its URL."""
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_serve_starts_on_an_empty_corpus(tmp_path):
    start_server = _bench_load().start_server
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with start_server(tmp_path / "index", corpus, cwd=tmp_path) as url:
        with urllib.request.urlopen(url + "healthz", timeout=30) as resp:
            assert resp.status == 200
            assert json.loads(resp.read()) == {"ok": True, "reports": 0, "paragraphs": 0, "worker": 1}
        with urllib.request.urlopen(url + "api/search?q=x", timeout=30) as resp:
            assert resp.status == 200
