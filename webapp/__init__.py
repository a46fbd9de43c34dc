"""The web UI: a thin Flask app over ``indexer.search.engine.SearchEngine``.

``create_app(settings_or_index_dir, engine=None)`` builds the app. HTML pages (``pages``) and their
JSON twins (``api``) call the same view-model builders in ``views``; the HTML templates render the
dict the API returns. The app is read-only (GET/HEAD only) and never touches Whoosh directly.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from flask import Flask, g, request

from indexer.config import Settings, load_settings

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
REFRESH_EVERY_S = 30.0


def create_app(settings_or_index_dir: Settings | Path | str | None = None, engine=None) -> Flask:
    if settings_or_index_dir is None:
        settings = load_settings()
    elif isinstance(settings_or_index_dir, Settings):
        settings = settings_or_index_dir
    else:
        settings = load_settings({"index": Path(settings_or_index_dir)})
    if engine is None:
        from indexer.search.engine import SearchEngine

        engine = SearchEngine.from_settings(settings, warm=True)

    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["policy_search_engine"] = engine
    app.extensions["policy_search_refreshed"] = time.monotonic()

    from . import api, pages, render

    render.install(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    pages.install_error_handlers(app)

    reopening = threading.Lock()

    def _reopen() -> None:
        try:
            fresh = app.extensions["policy_search_engine"].reopened()
            if fresh is not None:
                app.extensions["policy_search_engine"] = fresh  # requests under way keep the old one
        except Exception:  # keep serving the generation we have
            app.logger.exception("index refresh failed")
        finally:
            reopening.release()

    @app.before_request
    def _refresh_index():
        # Pick up an index updated by `policy-search index` while the server runs: a cheap check,
        # and the new engine is opened in the background so no request waits for it.
        now = time.monotonic()
        if now - app.extensions["policy_search_refreshed"] > REFRESH_EVERY_S:
            app.extensions["policy_search_refreshed"] = now
            if app.extensions["policy_search_engine"].is_stale() and reopening.acquire(blocking=False):
                threading.Thread(target=_reopen, name="policy-search-reopen", daemon=True).start()
        g.started = time.perf_counter()

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/api/") or request.path == "/healthz":
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    return app
