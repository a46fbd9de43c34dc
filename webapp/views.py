"""View models shared by the HTML pages and their JSON twins.

Each builder takes the engine and the request arguments and returns a JSON-safe dict; ``api``
jsonifies it, ``pages`` renders it. Errors are ``WebError`` with the one error shape
``{"ok": false, "error": {"code", "message", "position"?, "query"?}}``.

About 500 lines, on purpose: one builder per page (search, facets, report with its paging and hit
navigation, paragraph, history, cite, quote, citations), each turning request arguments into typed
values, making one engine call and laying out one dict; the search work itself is the engine's
(indexer/search/) and every URL is ``links``'.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from flask import current_app

from indexer.citations.formats import FORMAT_LABELS, FORMATS, canonical_format, inline_citation
from indexer.citations.quote import MAX_QUOTE_CHARS
from indexer.search.export import FORMATS as EXPORT_FORMATS
from indexer.search.engine import NotFound
from indexer.normalise import fold
from indexer.search.query import FACETS, SORTS, Composed, Filters, QueryError, QueryTooLong, with_field_value
from indexer.search.results import UNKNOWN, CitationsPending
from indexer.search.shards import NotOnShards
from indexer.search.suggest import FILTER_LABELS
from indexer.store.schema import rid_of

from . import links
from .engine import get_engine

MAX_FILTER_VALUES = 20
MAX_RAW_QUERY = 2000  # hard cap before parsing; the engine's own limit (max_query_chars) is lower
MAX_PAGE = 1_000_000  # far past any result's last page; bounds the offsets the engine computes
_QUOTES = re.compile(r"[\"“”]")
_YEAR = re.compile(r"(\d{4})(?:\.\.(\d{4}))?")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """The text with lone surrogates (not characters: JSON "\\ud800") as U+FFFD, so that it can be
    sent as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", text)


class WebError(Exception):
    def __init__(self, code: str, message: str, status: int = 400, *, position: int | None = None,
                 query: str | None = None, extra: dict | None = None, quote_url: str | None = None):
        super().__init__(message)
        self.code, self.message, self.status, self.position, self.query = code, message, status, position, query
        self.extra = extra or {}  # top-level keys next to "error" (e.g. "history" of a retired paragraph)
        self.quote_url = quote_url  # a query too long to be one: the quote finder for that text

    def to_dict(self) -> dict:
        err: dict = {"code": self.code, "message": self.message}
        if self.position is not None:
            err["position"] = self.position
        if self.query is not None:
            err["query"] = printable(self.query)
        if self.quote_url is not None:
            err["quote_url"] = self.quote_url
        return {"ok": False, "error": err, **self.extra}

    @classmethod
    def from_query_error(cls, exc: QueryError, q: str) -> "WebError":
        if isinstance(exc, QueryTooLong):
            return cls.too_long(exc.message, q)
        position = exc.position if exc.position is not None and exc.position <= len(q) else None
        return cls("bad_query", exc.message, 400, position=position, query=q)

    @classmethod
    def too_long(cls, message: str, q: str) -> "WebError":
        """A query too long to be one, most likely a pasted passage: not echoed (a caret under
        screens of text helps nobody), the quote finder offered instead."""
        return cls("bad_query", message, 400, quote_url=links.quote_url(q[:MAX_QUOTE_CHARS]))


def engine():
    return get_engine()


def settings():
    return current_app.config["SETTINGS"]


def _ref_dict(ref) -> dict:
    d = asdict(ref)
    d["display_title"] = ref.display_title
    return d


# -- arguments ------------------------------------------------------------------------------------
def _int_arg(args, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise WebError("bad_request", f"参数 {name} 必须是整数（收到 {raw[:20]!r}）") from None
    if value < lo or (hi is not None and value > hi):
        rng = f"{lo}–{hi}" if hi is not None else f"≥ {lo}"
        raise WebError("bad_request", f"参数 {name} 超出范围（{rng}）")
    return value


def _values(args, name: str) -> list[str]:
    out = []
    for raw in args.getlist(name):
        v = _QUOTES.sub("", raw).strip()
        if v and v not in out:
            out.append(v)
    if len(out) > MAX_FILTER_VALUES:
        raise WebError("bad_request", f"参数 {name} 的取值太多（最多 {MAX_FILTER_VALUES} 个）")
    return out


def search_params(args) -> dict:
    q = args.get("q", "")
    if len(q) > MAX_RAW_QUERY:
        raise WebError.too_long(f"检索式太长（{len(q)} 个字符）；要查找一段原文的出处，请用“查找出处”", q)
    q = q.strip()
    sort = args.get("sort", "relevance") or "relevance"
    if sort not in SORTS:
        raise WebError("bad_request", f"参数 sort 只能是 {' / '.join(SORTS)}")
    params = {
        "q": q,
        "page": _int_arg(args, "page", 1, 1, MAX_PAGE),
        "per_page": _int_arg(args, "per_page", 10, 1, 100),
        "sort": sort,
        "group": args.get("group", "") in ("1", "true", "on", "yes"),
        "collapse": args.get("collapse", "") in ("1", "true", "on", "yes"),
        "region": _values(args, "region"),
        "year": _values(args, "year"),
        "type": _values(args, "type"),
        "issuer": _values(args, "issuer"),
    }
    _check_years(params["year"])
    return params


def _check_years(years: list[str]) -> None:
    for y in years:
        if not _YEAR.fullmatch(y):
            raise WebError("bad_request", f"参数 year 应为年份（如 2021）或范围（如 2020..2022），收到 {y[:20]!r}")


def _year_filter(years: list[str]) -> dict:
    """The years chosen (one, a range, or any set of years) as Filters.chosen's arguments."""
    if not years:
        return {}
    if len(years) == 1:
        lo, hi = _YEAR.fullmatch(years[0]).groups()
        if hi is not None and int(hi) < int(lo):
            raise WebError("bad_request", f"参数 year：年份范围 {years[0]} 的终止年早于起始年")
        return {"year_from": int(lo), "year_to": int(hi or lo)}
    if any(".." in y for y in years):
        raise WebError("bad_request", "参数 year：范围只能单独使用")
    return {"years": [int(y) for y in years]}


def chosen_filters(params: dict) -> Filters:
    """The filters picked in the UI (``search_params``' region, type, issuer and year)."""
    return Filters.chosen(region=params["region"], doc_type=params["type"], issuer=params["issuer"],
                          **_year_filter(params["year"]))


# -- search ---------------------------------------------------------------------------------------
def _run(q: str, filters: Filters, **kwargs):
    try:
        return engine().search(q, filters=filters, **kwargs)
    except QueryError as exc:
        raise WebError.from_query_error(exc, q) from exc


def _facets(params: dict, filters: Filters, result) -> dict:
    """Facet counts over all hits (a selected dimension's without its own filter, ``engine.facets``),
    each value marked selected and whether it can be a filter; selected values are shown even
    when nothing has them."""
    facets = engine().facets(params["q"], filters, of=result)  # parses as the search just did
    out = {}
    for dim in FACETS:
        counts = dict(facets.get(dim, []))
        for sel in params[dim]:
            counts.setdefault(sel, 0)
        items = sorted(counts.items(), key=lambda kv: kv[0]) if dim == "year" else \
            sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        out[dim] = [{"value": v, "count": c, "selected": v in params[dim], "filterable": v != UNKNOWN}
                    for v, c in items]
    return out


def _decorate_hit(h: dict, q: str) -> dict:
    ref = h["report"]
    h["permalink"] = links.permalink(h["id"])
    h["url"] = links.report_paragraph_url(ref["id"], h["id"], q)
    h["citation"] = inline_citation(ref["display_title"], h["section"], h["ordinal"], h["permalink"])
    h.update(cite_links(h["id"]))
    h["similar_url"] = links.similar_url(h["id"]) if h.get("similar") else None
    h["folded_url"] = links.search_url(f"{q} similar:{h['id']}".strip()) if h.get("folded") else None
    return h


def cite_links(pid: str) -> dict:
    """The 引用 control of a paragraph: the HTML page (works without JS) and its JSON twin (for app.js)."""
    return {"cite_url": links.cite_url(pid), "cite_api": links.cite_api_url(pid)}


def _suggestions(params: dict, filters: Filters) -> list[dict]:
    """Looser queries that do find something, with their counts and links."""
    out = []
    for sug in engine().suggestions(params["q"], filters):
        args = {"q": sug.query, **({} if sug.filters_dropped else {d: params[d] for d in FACETS if params[d]})}
        out.append({"q": sug.query, "count": sug.count, "filters_dropped": sug.filters_dropped,
                    "url": links.search_url(**args)})
    return out


# The UI's filter parameter of each Filters dimension it can choose (the others are in the query).
_UI_FILTERS = {"region": "region", "year": "year", "doc_type": "type", "issuer_is": "issuer"}
MAX_PLACES_SHOWN = 10  # of a region name that names several places
# Each UI filter parameter's name on the page, in the order the filters are shown.
UI_FILTER_LABELS = {ui: FILTER_LABELS[dim] for dim, ui in _UI_FILTERS.items()}


def _emptying_filters(params: dict, filters: Filters) -> list[dict]:
    """The filters that made a search find nothing, each with the count without it and, when only
    the UI chose it (not the query), the link that drops it."""
    out = []
    parsed_own = engine().parse(params["q"]).filters if params["q"] else Filters()
    for e in engine().emptying_filters(params["q"], filters):
        ui = _UI_FILTERS.get(e.dimension)
        from_ui_only = ui is not None and bool(params[ui]) and not parsed_own.selects(ui)
        out.append({"dimension": e.dimension, "label": e.label, "values": e.values, "count": e.count,
                    "url": links.current_url_with(**{ui: None, "page": None}) if from_ui_only else None})
    return out


def _ambiguous_regions(params: dict, result) -> list[dict]:
    """Each region filter that names several places (城中区: in 西宁市 and in 柳州市), its places
    with their hits and the link that keeps only one: the UI's filter replaced, or the query's
    ``region:`` rewritten (``query.with_field_value``)."""
    out = []
    for amb in result.ambiguous_regions:
        value = amb["value"]
        chosen = [v for v in params["region"] if fold(v) == value]
        places = []
        for place in amb["places"][:MAX_PLACES_SHOWN]:
            if chosen:
                url = links.current_url_with(region=[place["place"] if fold(v) == value else v for v in params["region"]],
                                             page=None)
            else:
                url = links.current_url_with(q=with_field_value(params["q"], "region", value, place["place"]), page=None)
            places.append({**place, "url": url})
        out.append({"value": chosen[0] if chosen else value, "places": places, "more": len(amb["places"]) - len(places)})
    return out


def _require_something_to_search(params: dict) -> None:
    """A search needs a query or a chosen filter."""
    if not params["q"] and not any(params[d] for d in FACETS):
        raise WebError("bad_query", "检索式是空的：请输入要查找的词句，如 出庭应诉率", query="", position=0)


def search_model(args) -> dict:
    params = search_params(args)
    _require_something_to_search(params)
    filters = chosen_filters(params)
    result = _run(params["q"], filters, page=params["page"], per_page=params["per_page"],
                  sort=params["sort"], by_report=params["group"], collapse=params["collapse"])
    d = {"ok": True, **result.to_dict()}
    d["query"] = params["q"]
    d["searched"] = result.query
    d["facets"] = _facets(params, filters, result)
    d["params"] = params
    d["filter_labels"] = UI_FILTER_LABELS
    shown = list(zip(result.hits, d["hits"]))
    for group, grp in zip(result.groups or [], d.get("groups", [])):
        grp["report"]["display_title"] = group.report.display_title
        grp["url"] = links.report_url(grp["report"]["id"], params["q"])
        shown += zip(group.hits, grp["hits"])
    for hit, h in shown:
        h["report"]["display_title"] = hit.report.display_title
        _decorate_hit(h, params["q"])
    d["ambiguous_regions"] = _ambiguous_regions(params, result)
    d["suggestions"] = _suggestions(params, filters) if result.total == 0 else []
    d["emptying_filters"] = _emptying_filters(params, filters) if result.total == 0 else []
    d["prev_url"] = links.current_url_with("api.search", page=params["page"] - 1) if params["page"] > 1 else None
    d["next_url"] = links.current_url_with("api.search", page=params["page"] + 1) \
        if params["page"] < result.pages else None
    d["exports"] = {fmt: links.search_export_url(fmt) for fmt in EXPORT_FORMATS} if result.total else {}
    return d


@dataclass
class Export:
    """What an export answer streams: its file name, its rows' format and the rows."""

    filename: str
    fmt: str
    total: int
    rows: Iterator[dict]


def export_model(args, fmt: str) -> Export:
    """Every hit of a search (the parameters of /api/search; ``page`` and ``per_page`` do not
    apply) as export rows, in the engine's order for ``sort``. More than the setting
    ``max_export_hits`` is a 400 that points to the command line, which has no cap."""
    from indexer.search.export import rows_of

    if fmt not in EXPORT_FORMATS:
        raise WebError("not_found", f"没有这种导出格式：{fmt[:20]}（可选：{'、'.join(EXPORT_FORMATS)}）", 404)
    params = search_params(args)
    _require_something_to_search(params)
    try:
        total, hits = engine().all_hits(params["q"], sort=params["sort"], filters=chosen_filters(params),
                                        highlights=False)
    except QueryError as exc:
        raise WebError.from_query_error(exc, params["q"]) from exc
    cap = settings().max_export_hits
    if total > cap:
        raise WebError("export_too_large", f"一次最多导出 {cap:,} 段，这次检索有 {total:,} 段：请加筛选条件，"
                                           f"或用命令行 policy-search search … --all --format {fmt}（不设上限）")
    stem = "".join(c for c in (params["q"] or "filters")[:40] if c.isalnum() or c in "-_ ").strip() or "search"
    return Export(f"policy-search {stem}.{fmt}", fmt, total, rows_of(hits, links.permalink))


def facets_model(args) -> dict:
    d = search_model(args)
    return {k: d[k] for k in ("ok", "query", "folded", "total", "reports", "filters", "facets", "took_ms")}


# -- reading ----------------------------------------------------------------------------------------
def _report_hits(q: str, rid: str):
    """(``engine.report_hits`` of the query in the report, or None; the error dict of a malformed query)."""
    try:
        return engine().report_hits(rid, q), None
    except QueryError as exc:
        return None, WebError.from_query_error(exc, q).to_dict()["error"]


def report_page_size() -> int:
    return max(1, settings().report_page_paragraphs)


def page_of(ordinal: int, per_page: int) -> int:
    """The page (1-based) of a report that holds its paragraph number ``ordinal``."""
    return (max(1, ordinal) - 1) // per_page + 1


def _wanted_page(rid: str, args, hl: str, per_page: int) -> int:
    """``?page=`` when given, else the page holding paragraph ``hl`` (a permalink's target), else 1."""
    if args.get("page", "") != "":
        return _int_arg(args, "page", 1, 1, MAX_PAGE)
    if hl:
        try:
            target = engine().paragraph(hl)
        except NotFound:
            return 1
        if target.report.id == rid:
            return page_of(target.ordinal, per_page)
    return 1


_SUPPLIED_LABELS = {"title": "标题", "issuers": "发文机关", "publisher": "发布机构", "date": "日期",
                    "doc_number": "文号", "url": "来源网址"}


def _supplied(meta: dict) -> dict[str, list[str]]:
    """The metadata a corpus sidecar gave, by where it was given: {"sources.csv line 3": ["标题", …]}."""
    out: dict[str, list[str]] = {}
    for name, origin in (meta.get("supplied") or {}).items():
        out.setdefault(origin, []).append(_SUPPLIED_LABELS.get(name, name))
    return out


def report_model(rid: str, args, api: bool = False) -> dict:
    """One page of a report (``report_page_paragraphs`` paragraphs): its metadata, the table of
    contents of the whole report, and with ``q`` every hit of the query in the report
    (``query.hits``, with the page of each in ``query.hit_pages``) so that next/previous-hit links
    cross pages. ``hl`` (a paragraph id) marks a paragraph and, without ``page``, picks its page.
    ``api``: the previous and next pages are linked as JSON (/api/reports/<rid>), not as pages."""
    q = args.get("q", "")[:MAX_RAW_QUERY].strip()
    hl = args.get("hl", "")[:MAX_RAW_QUERY]
    per_page = report_page_size()
    page = _wanted_page(rid, args, hl, per_page)
    try:
        view = engine().report(rid, start=(page - 1) * per_page, limit=per_page)
    except NotFound:
        raise WebError("not_found", f"没有这份报告：{rid}", 404) from None
    pages = max(1, -(-view.total_paragraphs // per_page))
    if page > pages:
        raise WebError("bad_request", f"参数 page 超出范围（这份报告共 {pages} 页）")
    d = {"ok": True, **view.to_dict()}
    del d["headings"]  # as the toc below
    d["report"] = _ref_dict(view.report)
    d["supplied"] = _supplied(d["meta"])
    d["source_url"] = links.report_source_url(rid)
    d["permalink"] = links.report_permalink(rid)
    d["page"], d["pages"], d["per_page"] = page, pages, per_page
    page_url = links.report_api_url if api else links.report_url
    d["prev_url"] = page_url(rid, q, page - 1) if page > 1 else None
    d["next_url"] = page_url(rid, q, page + 1) if page < pages else None

    found, error = _report_hits(q, rid) if q else (None, None)
    hits = [pid for _, pid in found.hits] if found else []
    hit_pages = [page_of(ordinal, per_page) for ordinal, _ in found.hits] if found else []
    order = {pid: i for i, pid in enumerate(hits)}
    on_page = [i for i, p in enumerate(hit_pages) if p == page]
    d["articles"] = report_articles(rid, view.report.title)
    starts = {a["first_id"]: a for a in d["articles"]}
    targets = _article_targets(hl) or {hl}
    for p in d["paragraphs"]:
        pid = p["id"]
        p["anchor"] = links.anchor(pid)
        p["level"] = len(p["section"])
        p["permalink"] = links.permalink(pid)
        p["highlights"] = found.highlights(p["text"]) if pid in order else []
        p["hit"] = order.get(pid)
        p["target"] = pid in targets
        p["article"] = starts.get(pid)  # the article this paragraph opens: its permalink and 引用 count
    d["toc"] = []
    for h in view.headings:
        at = page_of(h.ordinal, per_page)
        d["toc"].append({"id": h.id, "anchor": links.anchor(h.id), "text": h.text, "level": max(1, len(h.section)),
                         "page": at, "url": f"#{links.anchor(h.id)}" if at == page else links.report_url(rid, q, at, h.id)})
    d["query"] = {"q": q, "folded": found.folded if found else "",
                  "hits": hits, "hit_pages": hit_pages, "error": error,
                  # hits[first:end] are on this page; prev_hit and next_hit (indices into hits) are
                  # the nearest hits before and after it, wrapping around, or None when every hit is here
                  "first": on_page[0] if on_page else None, "end": on_page[-1] + 1 if on_page else None,
                  "prev_hit": _nearest_hit(hit_pages, page, -1), "next_hit": _nearest_hit(hit_pages, page, +1)}
    d["hl"] = hl if any(p["target"] for p in d["paragraphs"]) else ""
    d["citations"] = report_citations(rid)
    d["reuse"] = report_reuse(rid)
    unsure: dict[int, list[list[int]]] = {}
    for ordinal, start, end in d["meta"].get("ocr_unsure") or []:
        unsure.setdefault(ordinal, []).append([start, end])
    d["cited_articles"] = {}  # article id -> what the page's panel shows of each article its paragraphs cite
    for p in d["paragraphs"]:
        p.update(cite_links(p["id"]))
        p["similar_url"] = links.similar_url(p["id"]) if p["kind"] == "body" else None
        p["references"] = _in_text_references(p["text"], rid, d["cited_articles"])
        p["unsure"] = unsure.get(p["ordinal"], [])
        p["reuse"] = d["reuse"]["status"].get(p["id"])
    return d


REPORT_RELATIVES_SHOWN = 10  # reports listed beside a report (its JSON twin /api/reports/<id>/similar has all asked)
REUSE_STATUS_LABELS = {"original": "原创", "shared": "共有", "boilerplate": "套话"}


def report_reuse(rid: str) -> dict:
    """The reports sharing the most text with report ``rid``, with links, and each body
    paragraph's standing (original, shared, boilerplate), for the report page."""
    try:
        found = engine().report_similar(rid, limit=REPORT_RELATIVES_SHOWN)
    except NotOnShards as exc:  # a sharded index: the page is shown without them
        return {"relatives": [], "counts": {k: 0 for k in REUSE_STATUS_LABELS}, "status": {}, "complete": True,
                "boilerplate_reports": 0, "api_url": links.report_similar_api_url(rid), "unavailable": exc.message}
    relatives = [{"id": rel.report.id, "display_title": rel.report.display_title, "region": rel.report.region,
                  "year": rel.report.year, "share": rel.share, "percent": _percent(rel.share),
                  "passages": rel.passages, "url": links.report_url(rel.report.id)} for rel in found.relatives]
    counts = {k: 0 for k in REUSE_STATUS_LABELS}
    status = {}
    for pid, (standing, n) in found.status.items():
        counts[standing] += 1
        status[pid] = {"status": standing, "label": REUSE_STATUS_LABELS[standing], "reports": n}
    return {"relatives": relatives, "counts": counts, "status": status, "complete": found.complete,
            "boilerplate_reports": found.boilerplate_reports, "api_url": links.report_similar_api_url(rid)}


def _percent(share: float) -> str:
    """A share as the page shows it: 96.8%, 0.4%, <0.1%."""
    return "<0.1%" if 0 < share < 0.001 else f"{share:.1%}"


def report_similar_model(rid: str, args) -> dict:
    """A report's relatives (engine.report_similar; ``?limit=``, ``?min_share=``, ``?boilerplate=``)."""
    limit = _int_arg(args, "limit", 20, 1, 500)
    min_share = _share_arg(args)
    boilerplate = _int_arg(args, "boilerplate", settings().boilerplate_reports, 1, 1_000_000)
    try:
        found = engine().report_similar(rid, limit=limit, min_share=min_share, boilerplate_reports=boilerplate)
    except NotFound:
        raise WebError("not_found", f"没有这份报告：{rid}", 404) from None
    d = {"ok": True, **found.to_dict()}
    d["report"]["url"] = links.report_url(rid)
    for rel in d["relatives"]:
        rel["report"]["url"] = links.report_url(rel["report"]["id"])
        for pair in rel["pairs"]:
            pair["a_url"] = links.report_paragraph_url(rid, pair["a"])
            pair["b_url"] = links.report_paragraph_url(rel["report"]["id"], pair["b"])
            pair["similar_url"] = links.similar_url(pair["a"])
    return d


def reuse_params(args) -> dict:
    """The report filters of /reuse (region, year, type, issuer, as the search page's)."""
    params = {dim: _values(args, dim) for dim in ("region", "year", "type", "issuer")}
    _check_years(params["year"])
    return params


def reuse_pairs_rows(args) -> Iterator[dict]:
    """The pairs export's rows under /reuse's report filters."""
    return engine().reuse_pairs(chosen_filters(reuse_params(args)))


def reuse_model(args, api: bool = False) -> dict:
    """The most reused passages under the report filters, a page at a time, each with its
    earliest paragraph, its spread over years and regions and its links (``api``: pages linked
    as JSON)."""
    params = reuse_params(args)
    filters = chosen_filters(params)
    n = _int_arg(args, "n", 20, 1, 200)
    found = engine().reuse(filters, start=(_int_arg(args, "page", 1, 1, MAX_PAGE) - 1) * n, limit=n)
    page, pages = list_page(args, found.total, n, "相同段落列表")
    endpoint = "api.reuse" if api else "pages.reuse"
    page_url = lambda p: links.current_url_with(endpoint, page=p if p > 1 else None)  # noqa: E731
    d = {"ok": True, **found.to_dict(), **_paging(page, pages, n, found.total, page_url), "params": params,
         "filter_labels": UI_FILTER_LABELS, "pairs_url": links.reuse_pairs_url()}
    for c, shown in zip(found.clusters, d["clusters"]):
        para = shown["paragraph"]
        para["report"] = _ref_dict(c.paragraph.report)
        para["url"] = links.report_paragraph_url(c.paragraph.report.id, c.paragraph.id)
        shown["search_url"] = links.search_url(f"similar:{c.paragraph.id}", **params)
        shown["similar_url"] = links.similar_url(c.paragraph.id)
        shown["earliest"]["url"] = links.report_url(c.earliest.id)
        shown["year_chart"] = [{"value": f"{y}年" if y else UNKNOWN, "count": k} for y, k in c.years]
        shown["place_chart"] = [{"value": p, "count": k} for p, k in c.places]
    return d


def _article_targets(hl: str) -> set[str]:
    """The paragraphs of the article whose id is ``hl`` (a link to a whole article marks them all)."""
    if not hl:
        return set()
    article = engine().article_by_id(hl)
    return {p.id for p in article.paragraphs} if article is not None else set()


def _in_text_references(text: str, rid: str, cited_articles: dict | None = None) -> list[dict]:
    """Each 《title》, 文号 and article (《行政复议法》第二十三条) of a paragraph as a link in place: to
    the article's paragraphs or the report of the corpus it names, else to the search for the
    paragraphs citing it. An article the corpus holds is put in ``cited_articles`` (its id -> its
    law's title, label, texts and link), which the page shows beside the text."""
    out = []
    refs = engine().references_in(text, rid)
    # 《X》第N条 is one link, to the article, where the corpus holds it; else 《X》 links to X.
    to_articles = {r.start for r in refs if r.article_id is not None}
    for r in refs:
        if r.kind == "title" and r.start in to_articles:
            continue
        if r.kind == "article" and r.article_id is None:
            continue
        if r.article_id is not None:
            article = engine().paragraph(r.article_id)
            url = links.report_paragraph_url(r.report_id, r.article_id)
            title = f"{article.report.display_title} {article.section[-1]}"
            if cited_articles is not None and r.article_id not in cited_articles:
                cited_articles[r.article_id] = {"id": r.article_id, "law": article.report.display_title,
                                                "label": article.section[-1], "texts": article.text.split("\n"),
                                                "url": url, "permalink": links.permalink(r.article_id),
                                                "panel": "article-" + r.article_id}
            out.append({"start": r.start, "end": r.end, "kind": r.kind, "report_id": r.report_id, "url": url,
                        "title": title, "article_id": r.article_id, "panel": "article-" + r.article_id})
            continue
        if r.report_id is not None:
            url, title = links.report_url(r.report_id), "打开本库中的这份文件"
        else:
            url, title = links.cites_search_url(r.key), "本库没有这份文件：查看引用它的段落"
        out.append({"start": r.start, "end": r.end, "kind": r.kind, "report_id": r.report_id, "url": url,
                    "title": title})
    return out


def _nearest_hit(hit_pages: list[int], page: int, step: int) -> int | None:
    """Index of the first hit after page (step +1) or the last before it (step -1), wrapping
    around the report; None when there is no hit off this page."""
    off = [i for i, p in enumerate(hit_pages) if p != page]
    if not off:
        return None
    if step > 0:
        return next((i for i in off if hit_pages[i] > page), off[0])
    return next((i for i in reversed(off) if hit_pages[i] < page), off[-1])


def report_meta(rid: str):
    """A report's metadata and source path without its paragraphs."""
    return engine().report(rid, start=0, limit=0)


def source_file(rid: str) -> str:
    """The report's source file on disk (absolute path); WebError not_found when it is gone."""
    import os

    try:
        path = report_meta(rid).path
    except NotFound:
        raise WebError("not_found", f"没有这份报告：{rid}", 404) from None
    if not path or not os.path.isfile(path):
        raise WebError("not_found", f"原始文件已不在服务器上：{os.path.basename(path or '')}", 404)
    return path


RETIRED_TITLES = {
    "paragraph_changed": "这个段落已修改或删除",
    "paragraph_removed": "这个段落已删除：该报告已不在语料库中",
    "paragraph_not_found": "在该报告中找不到这个段落",
}
RETIRED_STATUS = {"paragraph_changed": 410, "paragraph_removed": 410, "paragraph_not_found": 404}


def history_model(pid: str) -> dict | None:
    """What became of a paragraph id that is not live (``SearchEngine.paragraph_history``), with
    links: ``RetiredParagraph.to_dict()`` plus ``code``, ``message``, ``report.display_title`` and
    ``report.url``; for each of ``closest`` the paragraph's ``permalink`` and ``url``, the similarity
    as ``percent`` (rounded down: 99 means "almost", 100 only for an identical text) and ``changed``,
    the spans of its text that differ from the old text; ``old_changed``, the spans of the old text
    that differ from the closest one. None when the id is of no known report and was never indexed."""
    retired = engine().paragraph_history(pid)
    if retired is None:
        return None
    d = retired.to_dict()
    if retired.report is None:
        code = "paragraph_removed"
    elif not retired.text:
        code = "paragraph_not_found"
    else:
        code = "paragraph_changed"
    d["code"], d["message"] = code, RETIRED_TITLES[code]
    if retired.report is not None:
        d["report"] = dict(_ref_dict(retired.report), url=links.report_url(retired.report.id))
    for c in d["closest"]:
        p = c["paragraph"]
        p["permalink"] = links.permalink(p["id"])
        p["url"] = links.report_paragraph_url(p["report"]["id"], p["id"])
        c["percent"] = 100 if c["similarity"] >= 1 else min(99, int(c["similarity"] * 100))
    return d


def is_report(rid: str) -> bool:
    return engine().has_report(rid)


def live_paragraph(pid: str):
    """``engine.paragraph(pid)``; for an id that is no longer live a WebError carrying its history
    (410 paragraph_changed / paragraph_removed, 404 paragraph_not_found), else 404 not_found."""
    try:
        return engine().paragraph(pid)
    except NotFound:
        pass
    history = history_model(pid)
    if history is None:
        raise WebError("not_found", f"没有这个段落：{pid}", 404)
    code = history["code"]
    raise WebError(code, f"{RETIRED_TITLES[code]}：{pid}", RETIRED_STATUS[code], extra={"history": history})


def paragraph_model(pid: str, args) -> dict:
    view = live_paragraph(pid)
    q = args.get("q", "")[:MAX_RAW_QUERY].strip()
    d = {"ok": True, **view.to_dict()}
    d["report"] = _ref_dict(view.report)
    d["anchor"] = links.anchor(pid)
    d["permalink"] = links.permalink(pid)
    d["url"] = links.report_paragraph_url(view.report.id, pid, q)
    d["citation"] = inline_citation(view.report.display_title, view.section, view.ordinal, d["permalink"])
    d["highlights"] = []
    if q:
        try:
            d["highlights"] = engine().query_highlights(view.text, q)
        except QueryError as exc:
            raise WebError.from_query_error(exc, q) from exc
    return d


def _share_arg(args) -> float:
    raw = args.get("min_share", "")
    try:
        min_share = float(raw) if raw else 0.0
    except ValueError:
        raise WebError("bad_request", f"参数 min_share 必须是 0–1 之间的小数（收到 {raw[:20]!r}）") from None
    if not 0.0 <= min_share <= 1.0:  # NaN too
        raise WebError("bad_request", "参数 min_share 超出范围（0–1）")
    return min_share


def similar_model(pid: str, args) -> dict:
    """A paragraph's relatives (engine.similar), each with its links."""
    view = live_paragraph(pid)
    limit = _int_arg(args, "limit", 20, 1, 200)
    min_share = _share_arg(args)
    found = engine().similar(view.id, limit=limit, min_share=min_share)
    d = {"ok": True, **found.to_dict()}

    def linked_paragraph(shown: dict, paragraph) -> None:
        shown.update(report=_ref_dict(paragraph.report), permalink=links.permalink(paragraph.id),
                     url=links.report_paragraph_url(paragraph.report.id, paragraph.id))

    linked_paragraph(d["paragraph"], view)
    d["limit"], d["min_share"], d["api_url"] = limit, min_share, links.similar_api_url(view.id)
    for rel, r in zip(found.relatives, d["relatives"]):
        other = rel.paragraph
        linked_paragraph(r["paragraph"], other)
        # Each passage's two sides, with the differences' spans relative to each side's start.
        for passage, shown in zip(rel.passages, r["passages"]):
            shown["a_text"] = view.text[passage.a_start:passage.a_end]
            shown["b_text"] = other.text[passage.b_start:passage.b_end]
            shown["a_marks"] = [[s - passage.a_start, e - passage.a_start] for s, e, _, _ in passage.spans]
            shown["b_marks"] = [[bs - passage.b_start, be - passage.b_start] for _, _, bs, be in passage.spans]
    return d


def health_model() -> dict:
    eng = engine()
    stats = eng.stats()
    return {"ok": True, "reports": stats["reports"], "paragraphs": stats["paragraphs"],
            "worker": current_app.config.get("WORKER", 1)}


def list_page(args, total: int, per_page: int, what: str) -> tuple[int, int]:
    """(``?page=``, the number of pages) of a list of ``total`` items, ``per_page`` a page; a bad
    page, or one past the last, is a 400 bad_request. An empty list has one (empty) page."""
    page = _int_arg(args, "page", 1, 1, MAX_PAGE)
    pages = max(1, -(-total // per_page))
    if page > pages:
        raise WebError("bad_request", f"参数 page 超出范围（{what}共 {pages} 页）")
    return page, pages


def _paging(page: int, pages: int, per_page: int, total: int, url) -> dict:
    """The paging keys of a list's dict: ``url(n)`` is page n's link."""
    return {"page": page, "pages": pages, "per_page": per_page, "total": total,
            "start": min((page - 1) * per_page, total),
            "prev_url": url(page - 1) if page > 1 else None, "next_url": url(page + 1) if page < pages else None}


def report_list_size() -> int:
    return max(1, settings().report_list_per_page)


def home_model(args=None, api: bool = False) -> dict:
    """One page (``report_list_per_page`` reports, ``?page=``) of every report, newest first: the
    home page's list and ``/api/reports`` (``api``: pages linked as JSON). ``total`` is the number
    of reports in the index."""
    args = args if args is not None else {}
    per_page = report_list_size()
    eng = engine()
    page, pages = list_page(args, eng.stats()["reports"], per_page, "报告列表")
    listed = eng.report_page(start=(page - 1) * per_page, limit=per_page, order="year")
    page_url = links.reports_api_url if api else links.home_url
    return {"ok": True, **_paging(page, pages, per_page, listed.total, page_url), "order": listed.order,
            "reports": [dict(_ref_dict(r), url=links.report_url(r.id)) for r in listed.reports]}


# -- citations ------------------------------------------------------------------------------------
def cite_model(pid: str, args) -> dict:
    """Citations of one paragraph: every format, or only ``format`` (gbt7714 text markdown bibtex ris
    csl-json, or an alias such as bib)."""
    import datetime as dt

    from indexer.citations.formats import UnknownFormat, all_citations, format_citation

    view = live_paragraph(pid)
    meta = report_meta(view.report.id).meta
    link = links.permalink(pid)
    today = dt.date.today()
    d = {"ok": True, "id": pid, "url": link, "report": _ref_dict(view.report), "section": view.section,
         "ordinal": view.ordinal, "formats": list(FORMATS), "link_warning": links.local_links_warning()}
    fmt = args.get("format", "").strip()
    if fmt:
        try:
            canonical = canonical_format(fmt)
        except UnknownFormat as exc:
            raise WebError("unknown_format", str(exc), 400) from None
        d["citation"] = format_citation(view, meta, link, canonical, today)
        d["format"] = canonical  # an alias's name in FORMATS (bib -> bibtex), for the download's type and name
    else:
        d["citations"] = all_citations(view, meta, link, today)
        d["text"] = view.text
        d["kind"] = view.kind
        d["report"]["url"] = links.report_url(view.report.id)
        d["paragraph_url"] = links.report_paragraph_url(view.report.id, pid)
        d["entries"] = [{"format": f, "label": FORMAT_LABELS[f], "citation": d["citations"][f],
                         "download_url": links.cite_download_url(pid, f)} for f in FORMATS]
    return d


# The advanced search form's boxes: (parameter = query.Composed's field, label, hint), in order.
ADVANCED_FIELDS = (
    ("all_words", "包含全部词", "空格分隔，如 行政复议 败诉"),
    ("phrase", "包含完整短语", "原样匹配，含空格和标点，如 双随机、一公开"),
    ("any_words", "包含任一词", "空格分隔，如 复议 诉讼"),
    ("none_words", "不包含", "空格分隔，如 临猗"),
    ("near", "近似短语", "各个词按顺序、相隔不远，如 一村一法律顾问"),
    ("title", "报告标题含", "如 工作要点"),
    ("docno", "文号", "如 互政〔2022〕4号"),
    ("issuer", "发文机关含", "如 人民政府办公室"),
    ("region", "地区", "县、市或省，如 互助县、海东"),
    ("doc_type", "文种", "如 报告、总结"),
    ("year_from", "年份从", "如 2020"),
    ("year_to", "年份到", "如 2022"),
    ("date_from", "发布日期从", "如 2022-01 或 2022-01-17"),
    ("date_to", "发布日期到", "如 2022-06-30"),
)
_ADVANCED_CHOICES = {"region": "region", "doc_type": "type", "issuer": "issuer", "year_from": "year",
                     "year_to": "year"}  # the boxes that offer the corpus's values to pick


def advanced_model(args, *, with_choices: bool = True) -> dict:
    """The advanced search form: its boxes as filled in, the query they make (``query``, checked
    by parsing it; an error names the problem) and the search page of that query (``url``)."""
    values = {name: args.get(name, "")[:MAX_RAW_QUERY] for name, _, _ in ADVANCED_FIELDS}
    d: dict = {"ok": True, "fields": [{"name": n, "label": label, "hint": hint, "value": values[n],
                                      "choices": _ADVANCED_CHOICES.get(n)} for n, label, hint in ADVANCED_FIELDS]}
    written = Composed(**values).query()
    d["query"], d["url"], d["error"] = written, None, None
    if written:
        try:
            d["query"] = engine().composed(Composed(**values)).text
            d["url"] = links.search_url(d["query"])
        except QueryError as exc:
            d["error"] = WebError.from_query_error(exc, written).to_dict()["error"]
    if with_choices:
        eng = engine()
        d["choices"] = {dim: eng.known_values(dim) for dim in set(_ADVANCED_CHOICES.values())}
    return d


def quote_model(text: str, args) -> dict:
    """Where a pasted quote comes from: matches best first, [] when it is not in this corpus."""
    from indexer.citations.formats import format_citation

    text = (text or "").strip()
    if not text:
        raise WebError("empty_quote", "请粘贴要查找出处的文字", 400)
    bad = _LONE_SURROGATE.search(text)
    if bad:
        raise WebError("bad_request", f"引文第 {bad.start() + 1} 个字符无效（U+{ord(bad.group()):04X}：单独的代理项，不是字符）")
    if len(text) > MAX_QUOTE_CHARS:
        raise WebError("quote_too_long", f"引文过长（{len(text)} 字；最多 {MAX_QUOTE_CHARS} 字）", 400)
    limit = _int_arg(args, "limit", 5, 1, 20)
    eng = engine()
    matches = []
    for m in eng.quote(text, limit=limit):
        view = eng.paragraph(m.pid)
        md = m.to_dict()
        md.update(report=_ref_dict(view.report), section=view.section, text=view.text,
                  url=links.report_paragraph_url(view.report.id, m.pid), permalink=links.permalink(m.pid),
                  citation=format_citation(view, report_meta(view.report.id).meta, links.permalink(m.pid), "gbt7714"))
        matches.append(md)
    verdict = matches[0]["verification"]["verdict"] if matches else "未找到"
    return {"ok": True, "quote": text, "found": bool(matches), "verdict": verdict, "matches": matches,
            "link_warning": links.local_links_warning() if matches else None}


MAX_CITING = 50  # citing paragraphs (and reports) listed with a cited document; the rest are its search_url away


def _entry_dict(e) -> dict:
    """A cited document with links; ``pids`` and ``reports`` hold at most ``MAX_CITING`` of its
    citing paragraphs and reports (a document every report cites would list the corpus), ``count``
    and ``report_count`` all of them, ``search_url`` finds every citing paragraph, a page at a time."""
    d = e.to_dict()
    d["pids"], d["reports"] = d["pids"][:MAX_CITING], d["reports"][:MAX_CITING]
    d["search_url"] = links.cites_search_url(e.key)
    d["report_url"] = links.report_url(e.report_id) if e.report_id else None
    return d


def report_articles(rid: str, title: str) -> list[dict]:
    """The articles of legal text ``rid`` titled ``title`` (none for a report), each with its permalink and how often
    the corpus cites it: paragraphs (``count``) and reports (``report_count``), under any of the
    law's names, with the search for the citing paragraphs. While the corpus-wide citation index is
    being built the counts are None."""
    articles = engine().articles(rid)
    if not articles:
        return []
    try:
        cited = engine().citations().articles_cited(rid)
    except (CitationsPending, NotOnShards):
        cited = None
    out = []
    for key, label, first, aid in articles:
        entries = (cited or {}).get(key, [])
        reports = {r for e in entries for r in e.reports}
        out.append({"key": key, "label": label, "id": aid, "first_id": first, "anchor": links.anchor(first),
                    "permalink": links.permalink(aid),
                    "count": sum(e.count for e in entries) if cited is not None else None,
                    "report_count": len(reports) if cited is not None else None,
                    "search_url": links.cites_search_url(f"{title}{label}")})
    return out


def report_citations(rid: str) -> dict:
    """What report ``rid`` cites and who cites it, for the report page; while the corpus-wide
    index is being built, ``pending`` says so and the page is shown without them."""
    try:
        ci = engine().citations()
    except (CitationsPending, NotOnShards) as exc:
        return {"cites": [], "cited_by": [], "pending": exc.message}
    return {"pending": None, "cites": [_entry_dict(e) for e in ci.cites(rid)],
            "cited_by": [dict(_entry_dict(e), citing=[{"pid": p, "url": links.report_paragraph_url(rid_of(p), p)}
                                                       for p in e.pids[:MAX_CITING]]) for e in ci.cited_by(rid)]}


def citations_model(args, api: bool = False) -> dict:
    """The most cited documents of the corpus, with counts, and an SVG bar chart of the top ones
    (``api``: pages linked as JSON)."""
    from indexer.citations.cited import most_cited_svg

    kind = args.get("kind", "") or None
    if kind not in (None, "title", "docno"):
        raise WebError("bad_kind", "kind 只能是 title 或 docno", 400)
    n = _int_arg(args, "n", max(1, min(500, settings().citations_per_page)), 1, 500)  # per page
    ci = engine().citations()
    page, pages = list_page(args, ci.count(kind), n, "被引文件列表")
    top = ci.most_cited(n, kind=kind, start=(page - 1) * n)
    chart = top if page == 1 else ci.most_cited(20, kind=kind)  # the chart is always of the top 20
    page_url = links.citations_api_url if api else links.citations_url
    url = lambda p: page_url(kind, p, n if args.get("n", "") != "" else None)  # noqa: E731
    return {"ok": True, "documents": len(ci.entries), "citing_paragraphs": len(ci.by_pid), "kind": kind or "",
            **_paging(page, pages, n, ci.count(kind), url),
            "most_cited": [_entry_dict(e) for e in top],
            "chart_svg": most_cited_svg(chart[:20], href=lambda e: _entry_dict(e)["search_url"])}
