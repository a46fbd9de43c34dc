"""Every URL the app builds, in one place (datasette's ``url_builder`` pattern).

View models, pages, the API and the templates (as the ``links`` global) call these instead of
``url_for`` with endpoint names and argument spellings of their own, so that a route's shape is
written once. Relative URLs (``/p/…``) are for the app's own pages; absolute ones
(``permalink``, ``absolute_url``) are what users copy into citations, so their origin never comes
from the request (see ``public_origin``). Ids are escaped by the routes' converters: a report id
is one path segment, a paragraph id may hold "/" (``<path:pid>``).
"""
from __future__ import annotations

import socket

from flask import current_app, request, url_for

from indexer.config import Settings
from indexer.search.query import FACETS

WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


# -- origins --------------------------------------------------------------------------------------
def local_origin(host: str, port: int) -> str:
    """``http://host:port`` of a server listening on host and port. A wildcard address (every
    interface) names no host a reader can reach, so the machine's own name stands for it."""
    if host in WILDCARD_HOSTS:
        host = socket.gethostname() or "localhost"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def public_origin() -> str:
    """Scheme and host of absolute links (citations, the API's ``permalink`` and ``url``):
    ``settings.base_url`` when set, else the address the server was started on (``server.run``
    stores it as ``PUBLIC_ORIGIN``; settings host and port otherwise). Never the request's Host
    header: a client chooses it, and it would end up in the citations users copy."""
    settings = _settings()
    base = settings.base_url.rstrip("/")
    if base:
        return base
    return current_app.config.get("PUBLIC_ORIGIN") or local_origin(settings.host, settings.port)


def local_links_warning() -> str | None:
    """Without ``base_url`` the permalinks in citations point at this server's own address, which
    a reader of the citing text cannot open: the warning that says so, or None."""
    if _settings().base_url:
        return None
    return (f"引用中的段落链接指向本机服务器（{public_origin()}），别人打不开；"
            "要给出公开的链接，请把设置 base_url（serve --base-url）设为公开网址。")


def absolute_url(path: str) -> str:
    """An absolute URL for an app path (``url_for``'s, script root included) on ``public_origin``."""
    root = request.script_root
    if _settings().base_url and root and path.startswith(root):
        path = path[len(root):]  # base_url already names the prefix the app is mounted under
    return public_origin() + path


# -- paragraphs -----------------------------------------------------------------------------------
def anchor(pid: str) -> str:
    """The HTML id of a paragraph on its report page."""
    return "p-" + pid


def paragraph_url(pid: str) -> str:
    """The permalink's path: redirects to the paragraph in its report (or says where it went)."""
    return url_for("pages.paragraph", pid=pid)


def permalink(pid: str) -> str:
    """The absolute permalink of a paragraph, as citations give it."""
    return absolute_url(paragraph_url(pid))


def paragraph_api_url(pid: str) -> str:
    return url_for("api.paragraph", pid=pid)


def similar_url(pid: str) -> str:
    """The page of a paragraph's relatives (text reuse)."""
    return url_for("pages.similar", pid=pid)


def similar_api_url(pid: str) -> str:
    """A paragraph's relatives (text reuse), as JSON."""
    return url_for("api.similar", pid=pid)


def report_similar_api_url(rid: str) -> str:
    """The reports sharing the most text with a report, and its paragraphs' standing, as JSON."""
    return url_for("api.report_similar", rid=rid)


def reuse_url(**filters: list[str]) -> str:
    """The most reused passages (/reuse), under report filters (``region=[…]`` …)."""
    return url_for("pages.reuse", **{dim: values for dim, values in filters.items() if values})


def reuse_pairs_url() -> str:
    """Every pair of paragraphs sharing text, as CSV, under the current page's report filters."""
    return url_for("api.reuse_pairs", **_current_args(("page", "n")))


# -- reports --------------------------------------------------------------------------------------
def report_url(rid: str, q: str = "", page: int = 1, at: str | None = None) -> str:
    """A page of a report, keeping the query ``q``, scrolled to paragraph ``at`` when given."""
    return url_for("pages.report", rid=rid, q=q or None, page=page if page > 1 else None) + _fragment(at)


def report_paragraph_url(rid: str, pid: str, q: str = "") -> str:
    """The report page holding paragraph ``pid``, the paragraph marked (``hl``) and scrolled to."""
    return url_for("pages.report", rid=rid, q=q or None, hl=pid) + _fragment(pid)


def report_permalink(rid: str) -> str:
    return absolute_url(url_for("pages.report", rid=rid))


def report_source_url(rid: str) -> str:
    """The report's source file, as a download."""
    return url_for("pages.report_source", rid=rid)


def report_api_url(rid: str, q: str = "", page: int = 1) -> str:
    """Page ``page`` of a report as JSON (the report page's twin)."""
    return url_for("api.report", rid=rid, q=q or None, page=page if page > 1 else None)


def _fragment(pid: str | None) -> str:
    return f"#{anchor(pid)}" if pid else ""


# -- citations ------------------------------------------------------------------------------------
def cite_url(pid: str) -> str:
    """The 引用 page of a paragraph: every format, works without JS."""
    return url_for("pages.cite", pid=pid)


def cite_api_url(pid: str, fmt: str | None = None) -> str:
    """The citations of a paragraph as JSON (all, or one ``fmt``), the 引用 control's data."""
    return url_for("api.cite", pid=pid, format=fmt)


def cite_download_url(pid: str, fmt: str) -> str:
    """One citation format of a paragraph as a file."""
    return url_for("api.cite", pid=pid, format=fmt, download=1)


def citations_url(kind: str | None = None, page: int = 1, n: int | None = None) -> str:
    """The most-cited page (``kind`` title or docno narrows it; page ``page`` of ``n`` a page)."""
    return url_for("pages.citations", kind=kind, n=n, page=page if page > 1 else None)


def citations_api_url(kind: str | None = None, page: int = 1, n: int | None = None) -> str:
    return url_for("api.citations", kind=kind, n=n, page=page if page > 1 else None)


def quote_url(q: str | None = None) -> str:
    """The find-a-quote's-source page, with a quote to look up when given."""
    return url_for("pages.quote", q=q)


# -- search ---------------------------------------------------------------------------------------
def search_url(q: str | None = None, **filters: list[str]) -> str:
    """The search page for ``q`` with filters (``region=[…]``, ``year=[…]``, ``type=[…]``; empty
    ones left out); the home page without arguments."""
    return url_for("pages.search", q=q, **{dim: values for dim, values in filters.items() if values})


def home_url(page: int = 1) -> str:
    """Page ``page`` of the home page's list of every report."""
    return url_for("pages.search", page=page if page > 1 else None)


def reports_api_url(page: int = 1) -> str:
    """Page ``page`` of the list of every report as JSON (the home page's twin)."""
    return url_for("api.reports", page=page if page > 1 else None)


def cites_search_url(key: str) -> str:
    """Every paragraph citing a document (``cites:`` filter; entry keys hold no spaces or quotes)."""
    return search_url(f"cites:{key}")


def search_api_url(q: str | None = None, **filters: list[str]) -> str:
    return url_for("api.search", q=q, **{dim: values for dim, values in filters.items() if values})


def advanced_url() -> str:
    """The advanced search form (高级检索)."""
    return url_for("pages.advanced")


def advanced_api_url() -> str:
    """The JSON twin of the advanced search form: the query its boxes make."""
    return url_for("api.advanced")


def syntax_url(q: str | None = None) -> str:
    """The query syntax page (its examples keep the query being typed)."""
    return url_for("pages.syntax", q=q or None)


def _current_args(drop=()) -> dict[str, list[str]]:
    """The current request's query arguments, every value of each, less those in ``drop``."""
    return {k: request.args.getlist(k) for k in request.args if k not in drop}


def current_url_with(endpoint: str = "pages.search", _drop=(), **changes) -> str:
    """The current request's URL for ``endpoint`` with some arguments changed (None removes)."""
    args = _current_args(_drop)
    for k, v in changes.items():
        if v is None or v == "" or v == []:
            args.pop(k, None)
        else:
            args[k] = v if isinstance(v, list) else [str(v)]
    return url_for(endpoint, **args)


# Every page with a JSON twin (the same parameters, the dict the page renders): its endpoint.
_JSON_TWINS = {"pages.search": "api.search", "pages.report": "api.report", "pages.citations": "api.citations",
               "pages.quote": "api.quote", "pages.cite": "api.cite", "pages.advanced": "api.advanced",
               "pages.reuse": "api.reuse", "pages.similar": "api.similar"}


def json_twin_url() -> str | None:
    """The JSON of the page being shown (the home page's: its list of reports), or None."""
    endpoint = request.endpoint
    args = _current_args()
    if endpoint == "pages.search" and not request.args.get("q", "").strip() \
            and not any(request.args.getlist(d) for d in FACETS):
        return url_for("api.reports", page=request.args.get("page") or None)
    twin = _JSON_TWINS.get(endpoint or "")
    if twin is None:
        return None
    return url_for(twin, **(request.view_args or {}), **args)


def search_export_url(fmt: str) -> str:
    """Every hit of the current search as a file (``fmt``: csv tsv jsonl json xlsx), whichever
    page of it is shown."""
    return url_for("api.search_export", fmt=fmt, **_current_args(("page", "per_page", "group", "fmt")))


def toggled_filter_url(dim: str, value: str, single: bool = False) -> str:
    """The current search with filter value ``value`` of ``dim`` added or removed (``single``:
    the only one of its dimension), back on page 1."""
    current = request.args.getlist(dim)
    if value in current:
        new = [v for v in current if v != value]
    else:
        new = [value] if single else current + [value]
    return current_url_with(**{dim: new, "page": None})


def static_url(filename: str) -> str:
    return url_for("static", filename=filename)
