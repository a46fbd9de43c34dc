"""JSON twins of the pages: same parameters, same view models (``views``), one error shape."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from . import views
from .views import WebError

bp = Blueprint("api", __name__, url_prefix="/api")


def error_response(err: WebError):
    return jsonify(err.to_dict()), err.status


@bp.errorhandler(WebError)
def _web_error(err: WebError):
    return error_response(err)


@bp.get("/search")
def search():
    """Hits for q (+ region/year/type filters), a page at a time: SearchResult.to_dict() + ok."""
    return jsonify(views.search_model(request.args))


@bp.get("/facets")
def facets():
    """Counts by region, year and type over all hits for the same parameters as /api/search."""
    return jsonify(views.facets_model(request.args))


@bp.get("/reports/<rid>")
def report(rid: str):
    d = views.report_model(rid, request.args)
    if d["query"]["error"]:
        return jsonify({"ok": False, "error": d["query"]["error"]}), 400
    return jsonify(d)


@bp.get("/paragraphs/<path:pid>")
def paragraph(pid: str):
    return jsonify(views.paragraph_model(pid, request.args))
