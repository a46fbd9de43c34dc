"""A running app picks up an index updated by `policy-search index`, without a request waiting."""
from __future__ import annotations

import shutil
import time

import webapp
from indexer.writer import update_index

from conftest import SEEDS


def test_app_reopens_a_newer_index_generation_in_the_background(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS[0], corpus / SEEDS[0].name)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    app = webapp.create_app(index_dir)
    client = app.test_client()
    assert client.get("/healthz").get_json()["reports"] == 1
    first_engine = app.extensions["policy_search_engine"]

    shutil.copy(SEEDS[3], corpus / SEEDS[3].name)
    update_index([corpus], index_dir)
    monkeypatch.setattr(webapp, "REFRESH_EVERY_S", 0.0)
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
