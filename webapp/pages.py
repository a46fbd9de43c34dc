"""HTML pages. Each renders the dict its JSON twin in ``api`` returns (built by ``views``)."""
from __future__ import annotations

import mimetypes
import os
import unicodedata
from urllib.parse import quote as percent_encode

from flask import Blueprint, jsonify, redirect, render_template, request, send_file
from werkzeug.exceptions import HTTPException

from indexer.citations.quote import MAX_QUOTE_CHARS
from indexer.search.results import Pending
from indexer.search.shards import NotOnShards

from . import links, views
from .views import WebError

bp = Blueprint("pages", __name__)

ERROR_TITLES = {400: "请求有误", 404: "页面不存在", 405: "不支持的请求方法", 500: "服务器出错了", 501: "此处不可用",
                503: "请稍后再试"}
PENDING_RETRY_S = 15  # Retry-After of a page that needs a corpus-wide index (citations, reuse) being built
ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 500: "internal_error"}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


@bp.get("/")
def search():
    args = request.args
    if not args.get("q", "").strip() and not any(args.getlist(d) for d in views.FACETS):
        return render_template("search.html", model=None, home=views.home_model(args), error=None,
                               q=args.get("q", ""))
    try:
        model = views.search_model(args)
    except WebError as err:
        return render_template("search.html", model=None, home=None, error=err.to_dict()["error"],
                               q=args.get("q", "")[: views.MAX_RAW_QUERY]), err.status
    return render_template("search.html", model=model, home=None, error=None, q=model["query"])


@bp.get("/syntax")
def syntax():
    return render_template("syntax.html", q=request.args.get("q", ""))


@bp.get("/reports/<rid>")
def report(rid: str):
    model = views.report_model(rid, request.args)
    status = 400 if model["query"]["error"] else 200
    return render_template("report.html", model=model, q=model["query"]["q"]), status


def download_names(name: str) -> tuple[str, str]:
    """(the name as sent, an ASCII stand-in) for a download named ``name``. A file name may hold
    anything the file system allows: control and format characters (a newline would end the
    header; a right-to-left override would disguise the extension) become "_", lone surrogates
    (bytes of a name that were not UTF-8) become U+FFFD."""
    shown = "".join("\ufffd" if unicodedata.category(c) == "Cs" else
                    "_" if unicodedata.category(c) in ("Cc", "Cf") else c for c in name)
    plain = unicodedata.normalize("NFKD", shown).encode("ascii", "ignore").decode("ascii")
    plain = "".join("_" if c in '"\\%' else c for c in plain)  # no quoting or %-decoding games
    stem, ext = os.path.splitext(plain)
    stem = " ".join(stem.split())  # what dropping the non-ASCII left: "报告 2021.txt" -> " 2021"
    if not any(c.isalnum() for c in stem):  # 中文.txt -> .txt
        stem = "source"
    return shown, stem + (ext if ext[1:].isalnum() else "")


def attachment_disposition(name: str) -> str:
    """Content-Disposition of a download (RFC 6266): the real name as ``filename*=UTF-8''…``
    (RFC 5987) and an ASCII ``filename="…"`` for clients that do not read it."""
    shown, plain = download_names(name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{percent_encode(shown, safe='!#$&+-.^_`|~')}"


@bp.get("/reports/<rid>/source")
def report_source(rid: str):
    path = views.source_file(rid)
    name = os.path.basename(path)
    _, plain = download_names(name)
    stat = os.stat(path)
    # werkzeug would build the header (and the ETag) from the path itself: neither survives a
    # newline or an undecodable byte in a file name
    resp = send_file(path, mimetype=mimetypes.guess_type(plain)[0] or "application/octet-stream",
                     as_attachment=True, download_name=plain, etag=f"{stat.st_mtime_ns:x}-{stat.st_size:x}")
    resp.headers["Content-Disposition"] = attachment_disposition(name)
    return resp


def _retired_page(err: WebError):
    """A paragraph id that is no longer live: what it said, where it was and where it went (the
    status of the JSON twin: 410 for a changed or removed paragraph, 404 for an id unknown in its
    report) -- never the bare 404 page."""
    return render_template("retired.html", model=err.extra["history"], q=""), err.status


@bp.get("/p/<path:pid>")
def paragraph(pid: str):
    """Permalink of a paragraph: lands on it in its report, scrolled and marked."""
    return _of_live_paragraph(lambda: views.paragraph_model(pid, request.args),
                              lambda model: redirect(model["url"], code=302))


def _of_live_paragraph(model_of, page_of):
    """``page_of(model_of())``; a paragraph id no longer live gets the page that says what became of it."""
    try:
        model = model_of()
    except WebError as err:
        if "history" in err.extra:
            return _retired_page(err)
        raise
    return page_of(model)


@bp.get("/similar/<path:pid>")
def similar(pid: str):
    """A paragraph's relatives in other reports, each shared passage side by side, changes marked;
    for a report's id, its relatives on its page."""
    if views.is_report(pid):
        return redirect(links.report_url(pid) + "#reuse", code=302)
    return _of_live_paragraph(lambda: views.similar_model(pid, request.args),
                              lambda model: render_template("similar.html", model=model, q=""))


@bp.get("/cite/<path:pid>")
def cite(pid: str):
    """Every citation format of a paragraph, each with a download link (the 引用 control without JS)."""
    return _of_live_paragraph(lambda: views.cite_model(pid, {}),
                              lambda model: render_template("cite.html", model=model, q=""))


@bp.route("/quote", methods=["GET", "POST"])
def quote():
    """Paste a quote, get the paragraph it comes from (GET ?q= keeps a shareable URL; POST for long text)."""
    text = request.form.get("text", "") if request.method == "POST" else request.args.get("q", "")
    model, error = None, None
    if text.strip():
        try:
            model = views.quote_model(text, request.args)
        except WebError as err:
            error = err.to_dict()["error"]
    return render_template("quote.html", model=model, error=error, text=text[:MAX_QUOTE_CHARS], q=""), \
        (400 if error else 200)


@bp.get("/advanced")
def advanced():
    """高级检索: a box per part of a query; submitted, it goes to the search page of the query the
    boxes make, so that the query box shows how to write it."""
    model = views.advanced_model(request.args)
    if request.args.get("go") and model["url"]:
        return redirect(model["url"])
    status = 400 if request.args.get("go") and model["error"] else 200
    return render_template("advanced.html", model=model, q=model["query"]), status


@bp.get("/reuse")
def reuse():
    """The most reused passages of the corpus (text reuse), under report filters."""
    return render_template("reuse.html", model=views.reuse_model(request.args), q="")


@bp.get("/citations")
def citations():
    """The most cited documents, with counts and a bar chart."""
    return render_template("citations.html", model=views.citations_model(request.args), q="")


@bp.get("/favicon.ico")
def favicon():
    return redirect(links.static_url("favicon.svg"), code=301)


@bp.get("/healthz")
def healthz():
    return jsonify(views.health_model())


def install_error_handlers(app) -> None:
    @app.errorhandler(WebError)
    def _web_error(err: WebError):
        if _wants_json():
            return jsonify(err.to_dict()), err.status
        return render_template("error.html", status=err.status, title=ERROR_TITLES.get(err.status, "出错了"),
                               message=err.message, q=""), err.status

    @app.errorhandler(Pending)
    def _pending(exc: Pending):
        headers = {"Retry-After": str(PENDING_RETRY_S)}
        if _wants_json():
            return jsonify({"ok": False, "error": {"code": exc.code, "message": exc.message}}), 503, headers
        return render_template("error.html", status=503, title=ERROR_TITLES[503], message=exc.message, q=""), 503, \
            headers

    @app.errorhandler(NotOnShards)
    def _not_on_shards(exc: NotOnShards):
        if _wants_json():
            return jsonify({"ok": False, "error": {"code": exc.code, "message": exc.message}}), 501
        return render_template("error.html", status=501, title=ERROR_TITLES[501], message=exc.message, q=""), 501

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code = ERROR_CODES.get(status, "http_error")
        message = {404: "没有这个页面。", 405: "这个网站是只读的：只接受 GET 请求。"}.get(status, exc.description)
        # the exception's own headers (Allow on a 405, Retry-After, ...) but not its Content-Type
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if _wants_json():
            return jsonify({"ok": False, "error": {"code": code, "message": message}}), status, headers
        return render_template("error.html", status=status, title=ERROR_TITLES.get(status, exc.name),
                               message=message, q=""), status, headers

    @app.errorhandler(Exception)
    def _server_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        app.logger.exception("unhandled error on %s", request.path)
        message = "服务器内部错误，请稍后再试。"
        if _wants_json():
            return jsonify({"ok": False, "error": {"code": "internal_error", "message": message}}), 500
        return render_template("error.html", status=500, title=ERROR_TITLES[500], message=message, q=""), 500


__all__ = ["bp", "install_error_handlers"]
