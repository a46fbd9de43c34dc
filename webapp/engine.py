"""The app's search engine: opened with the app, reopened in the background when the index on disk
moves on (flaskr's ``db.py`` pattern: ``init_app`` ties it to an app, ``get_engine`` hands it to a
request).

A running server picks up an index updated by ``policy-search index``: every ``REFRESH_EVERY_S`` a
request makes a cheap staleness check, and a new engine is opened on a background thread, so no
request waits for it. Requests under way keep the engine they started with; the old one is never
closed under them.
"""
from __future__ import annotations

import threading
import time

from flask import Flask, current_app, g

from indexer.config import Settings
from indexer.cluster import connect
from indexer.search.engine import SearchEngine
from indexer.search.opened import open_search_engine

REFRESH_EVERY_S = 30.0
_ENGINE = "policy_search_engine"  # app.extensions keys
_CHECKED = "policy_search_refreshed"


def get_engine() -> SearchEngine:
    """The engine of this request: the newest generation the app had opened when the request first
    asked, kept for the whole request (in ``g``), so that a reload swapping in a newer generation
    meanwhile cannot mix two generations in one answer."""
    if "policy_search_engine" not in g:
        g.policy_search_engine = current_app.extensions[_ENGINE]
    return g.policy_search_engine


def init_app(app: Flask, settings: Settings, engine: SearchEngine | None = None) -> None:
    """Give ``app`` an engine (``engine``, or one opened on ``settings``' index: a sharded index's
    coordinator, on ``settings.cluster`` when one is set) and keep it fresh."""
    if engine is None:
        client = connect(settings.cluster) if settings.cluster else None
        engine = open_search_engine(settings, client)
    engine.serving = True  # no request waits for a slow first build (citations, reuse)
    engine.citations_wait_rows = settings.citations_wait_paragraphs
    engine.reuse_wait_keys = settings.reuse_wait_fingerprints
    app.extensions[_ENGINE] = engine
    app.extensions[_CHECKED] = time.monotonic()
    reopening = threading.Lock()  # one reopen at a time

    def reopen() -> None:
        try:
            current = app.extensions[_ENGINE]
            if hasattr(current, "refresh"):  # a cluster's shards: place again those that lost their workers
                for line in current.refresh():
                    app.logger.warning("shards: %s", line)
            fresh = current.reopened()
            if fresh is not None:
                app.extensions[_ENGINE] = fresh  # requests under way keep the old one
        except Exception:  # keep serving the generation we have
            app.logger.exception("index refresh failed")
        finally:
            reopening.release()

    @app.before_request
    def _refresh_index() -> None:
        get_engine()  # this request keeps the generation it started with, whatever a reopen does meanwhile
        now = time.monotonic()
        if now - app.extensions[_CHECKED] > REFRESH_EVERY_S:
            app.extensions[_CHECKED] = now
            engine = app.extensions[_ENGINE]
            if (engine.is_stale() or hasattr(engine, "refresh")) and reopening.acquire(blocking=False):
                threading.Thread(target=reopen, name="policy-search-reopen", daemon=True).start()
