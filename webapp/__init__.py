"""The web UI: a thin Flask app over ``indexer.search.engine.SearchEngine``.

``create_app(settings_or_index_dir, engine=None)`` builds the app: config, blueprints, security
headers; the engine's life cycle is in ``engine``, every URL the app builds in ``links``. HTML pages
(``pages``) and their JSON twins (``api``) call the same view-model builders in ``views``; the HTML
templates render the dict the API returns. The app is read-only (GET/HEAD only) and never touches Whoosh directly.
"""
from __future__ import annotations

import time
from pathlib import Path

from flask import Flask, g, request

from indexer.config import Settings, load_settings

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def create_app(settings_or_index_dir: Settings | Path | str | None = None, engine=None) -> Flask:
    """The app on ``settings`` (or an index folder, or the settings found by ``load_settings``),
    serving ``engine`` when given, else an engine it opens and keeps fresh (``webapp.engine``)."""
    if settings_or_index_dir is None:
        settings = load_settings()
    elif isinstance(settings_or_index_dir, Settings):
        settings = settings_or_index_dir
    else:
        settings = load_settings({"index": Path(settings_or_index_dir)})

    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    from . import api, links, pages, render
    from .engine import init_app

    init_app(app, settings, engine)
    render.install(app)
    app.jinja_env.globals["links"] = links
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    pages.install_error_handlers(app)

    @app.before_request
    def _started():
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
