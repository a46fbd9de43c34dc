"""A running app picks up an index updated by `policy-search index`, without a request waiting."""
from __future__ import annotations

import shutil
import time

import webapp
import webapp.engine
from indexer.search.engine import SearchEngine
from indexer.indexing.update import update_index

from conftest import SEEDS


def _app_on_one_report(tmp_path):
    """An app serving an index of one seed report: (corpus, index_dir, app, client, its engine)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS[0], corpus / SEEDS[0].name)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    app = webapp.create_app(index_dir)
    client = app.test_client()
    assert client.get("/healthz").get_json()["reports"] == 1
    return corpus, index_dir, app, client, app.extensions["policy_search_engine"]


def test_app_reopens_a_newer_index_generation_in_the_background(tmp_path, monkeypatch):
    corpus, index_dir, app, client, first_engine = _app_on_one_report(tmp_path)

    shutil.copy(SEEDS[3], corpus / SEEDS[3].name)
    update_index([corpus], index_dir)
    monkeypatch.setattr(webapp.engine, "REFRESH_EVERY_S", 0.0)
    # The request that notices the new generation is answered from the old one...
    assert client.get("/api/search?q=乐都区").get_json()["total"] == 0
    deadline = time.monotonic() + 60
    while app.extensions["policy_search_engine"] is first_engine and time.monotonic() < deadline:
        time.sleep(0.05)
    # ...and later requests see the new one.
    assert app.extensions["policy_search_engine"] is not first_engine
    assert client.get("/healthz").get_json()["reports"] == 2
    assert client.get("/api/search?q=乐都区").get_json()["total"] > 0
    # the old engine is still whole for any request that was reading it
    assert first_engine.search("出庭应诉率").total == 1


def _retired_pids(engine) -> list[str]:
    return [t.decode("utf-8") if isinstance(t, bytes) else t for t in engine.searcher.reader().lexicon("retired_pid")]


def test_app_picks_up_a_rebuild_whose_generation_has_the_same_number(tmp_path, monkeypatch):
    corpus, index_dir, app, client, first_engine = _app_on_one_report(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    for seed in SEEDS[1:4]:
        shutil.copy(seed, other / seed.name)
    before = first_engine.search("出庭应诉率").to_dict()

    # A rebuild from another corpus: a new folder at the same path, generation numbers from the start.
    update_index([other], index_dir, rebuild=True)
    monkeypatch.setattr(webapp.engine, "REFRESH_EVERY_S", 0.0)
    client.get("/healthz")
    deadline = time.monotonic() + 60
    while app.extensions["policy_search_engine"] is first_engine and time.monotonic() < deadline:
        time.sleep(0.05)
    fresh = app.extensions["policy_search_engine"]
    assert fresh is not first_engine
    assert fresh.generation == first_engine.generation  # the case a generation number cannot tell apart
    assert client.get("/healthz").get_json()["reports"] == 3
    assert {r.id for r in fresh.reports()} == {s.stem for s in SEEDS[1:4]}
    assert not fresh.is_stale()
    # the old engine, whose folder the rebuild deleted, still answers from its own generation
    after = first_engine.search("出庭应诉率").to_dict()
    assert {**after, "took_ms": 0} == {**before, "took_ms": 0}


def test_an_engine_keeps_reading_its_generation_after_a_rebuild_deleted_its_folder(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    report = corpus / SEEDS[0].name
    shutil.copy(SEEDS[0], report)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    report.write_text(report.read_text("utf-8").replace("法治", "法治建设", 5), "utf-8")
    update_index([corpus], index_dir)  # the edited paragraphs are retired: their texts are in Whoosh
    # A rebuild carries them over into a segment of its own, whose stored fields Whoosh opens by
    # path on first use (a segment Whoosh's writer made is one compound file, opened at once).
    update_index([corpus], index_dir, rebuild=True)
    engine = SearchEngine(index_dir)
    retired = _retired_pids(engine)
    assert retired
    histories = {pid: engine.paragraph_history(pid).to_dict() for pid in retired}

    engine = SearchEngine(index_dir)  # one that has not read a retired paragraph yet
    shutil.rmtree(corpus)
    corpus.mkdir()
    shutil.copy(SEEDS[2], corpus / SEEDS[2].name)
    update_index([corpus], index_dir, rebuild=True)
    assert engine.is_stale()
    for pid in retired:
        assert engine.paragraph_history(pid).to_dict() == histories[pid]
