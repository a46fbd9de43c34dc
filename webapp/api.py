"""JSON twins of the pages: same parameters, same view models (``views``), one error shape."""
from __future__ import annotations

import json

from flask import Blueprint, jsonify, request

from . import links, views
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


@bp.get("/search.<fmt>")
def search_export(fmt: str):
    """Every hit of the search (the parameters of /api/search) as a file: csv, tsv, jsonl, json or
    xlsx, streamed as the rows are read (xlsx: assembled in a temporary file first)."""
    import tempfile

    from flask import Response, stream_with_context

    from indexer.search.export import MEDIA_TYPES, text_chunks, write_xlsx

    from .pages import attachment_disposition

    export = views.export_model(request.args, fmt)
    headers = {"Content-Disposition": attachment_disposition(export.filename), "X-Total-Count": str(export.total)}
    if export.fmt != "xlsx":
        chunks = text_chunks(export.rows, export.fmt, bom=True)
        return Response(stream_with_context(c.encode("utf-8") for c in chunks), mimetype=MEDIA_TYPES[export.fmt],
                        headers=headers)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    write_xlsx(export.rows, spool)
    spool.seek(0)

    def pieces():
        with spool:
            while chunk := spool.read(64 * 1024):
                yield chunk

    return Response(pieces(), mimetype=MEDIA_TYPES["xlsx"], headers=headers)


@bp.get("/facets")
def facets():
    """Counts by region, year, type and issuer over all hits for the same parameters as /api/search."""
    return jsonify(views.facets_model(request.args))


@bp.get("/reports")
def reports():
    """Every report, a page at a time (?page=; report_list_per_page a page), newest first: the home page's list."""
    return jsonify(views.home_model(request.args, api=True))


@bp.get("/reports/<rid>")
def report(rid: str):
    d = views.report_model(rid, request.args, api=True)
    if d["query"]["error"]:
        return jsonify({"ok": False, "error": d["query"]["error"]}), 400
    return jsonify(d)


@bp.get("/paragraphs/<path:pid>")
def paragraph(pid: str):
    return jsonify(views.paragraph_model(pid, request.args))


@bp.get("/paragraphs/<path:pid>/similar")
def similar(pid: str):
    """The paragraphs of other reports sharing a passage with this one (``?limit=``, ``?min_share=``);
    for a report's id, /api/reports/<id>/similar."""
    if views.is_report(pid):
        from flask import redirect

        return redirect(links.report_similar_api_url(pid) + ("?" + request.query_string.decode() if request.query_string else ""),
                        code=302)
    return jsonify(views.similar_model(pid, request.args))


@bp.get("/reports/<rid>/similar")
def report_similar(rid: str):
    """The reports sharing the most text with this one, with the pairs of paragraphs, and each of
    its paragraphs' standing: original, shared, boilerplate (``?limit=``, ``?min_share=``, ``?boilerplate=``)."""
    return jsonify(views.report_similar_model(rid, request.args))


@bp.get("/reuse")
def reuse():
    """The most reused passages (clusters of near-duplicate paragraphs), under report filters
    (``region``, ``year``, ``type``, ``issuer``), ``n`` a page."""
    return jsonify(views.reuse_model(request.args, api=True))


@bp.get("/reuse/pairs.csv")
def reuse_pairs():
    """Every pair of paragraphs of two reports sharing text, under the report filters, as CSV
    (streamed as each report's pairs are found), for network analysis."""
    from flask import Response, stream_with_context

    from indexer.search.export import MEDIA_TYPES, PAIR_COLUMNS, text_chunks

    from .pages import attachment_disposition

    rows = views.reuse_pairs_rows(request.args)
    chunks = text_chunks(rows, "csv", bom=True, columns=PAIR_COLUMNS)
    return Response(stream_with_context(c.encode("utf-8") for c in chunks), mimetype=MEDIA_TYPES["csv"],
                    headers={"Content-Disposition": attachment_disposition("policy-search reuse pairs.csv")})


@bp.get("/cite/<path:pid>")
def cite(pid: str):
    """Citations of a paragraph (?format=gbt7714|text|markdown|bibtex|ris|csl-json; &download=1 for the file)."""
    from flask import Response

    from indexer.citations.formats import FILE_EXTENSIONS, MEDIA_TYPES

    d = views.cite_model(pid, request.args)
    if d.get("format") and request.args.get("download"):
        fmt = d["format"]
        resp = Response(d["citation"], mimetype=MEDIA_TYPES.get(fmt, "text/plain"))
        resp.headers["Content-Disposition"] = f'attachment; filename="citation.{FILE_EXTENSIONS.get(fmt, "txt")}"'
        return resp
    return jsonify(d)


# A JSON body of MAX_QUOTE_CHARS characters, each written as \uXXXX, fits many times over;
# past this the body is not read at all.
MAX_QUOTE_BODY = 256 * 1024


def posted_quote() -> str:
    """The quote of a POST: form field ``text``, or JSON ``{"text": "…"}``. Any other JSON (a list,
    a number, nesting deeper than the parser goes, invalid UTF-8) is a 400 in the error shape."""
    if not request.is_json:
        return request.form.get("text", "")
    if (request.content_length or 0) > MAX_QUOTE_BODY:
        raise WebError("request_too_large", f"请求体过大（最多 {MAX_QUOTE_BODY // 1024} KB）", 413)
    try:
        body = json.loads(request.get_data(cache=False))
    except RecursionError:  # [[[[… deeper than the parser's recursion limit
        raise WebError("bad_request", "请求体的 JSON 嵌套过深") from None
    except ValueError:  # UnicodeDecodeError is a ValueError too
        raise WebError("bad_request", "请求体不是有效的 JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("text", ""), str):
        raise WebError("bad_request", '请求体应为 JSON 对象 {"text": "要查找出处的文字"}，text 为字符串')
    return body.get("text", "")


@bp.route("/quote", methods=["GET", "POST"])
def quote():
    """Source of a quote: GET ?q=…, or POST text (form field ``text`` or JSON {"text": …})."""
    text = posted_quote() if request.method == "POST" else request.args.get("q", "")
    return jsonify(views.quote_model(text, request.args))


@bp.get("/advanced")
def advanced():
    """The query the advanced search form's boxes make (?all_words=…&region=…): query, url, error."""
    return jsonify(views.advanced_model(request.args, with_choices=request.args.get("choices") == "1"))


@bp.get("/citations")
def citations():
    """Most cited documents (?n=50&kind=title|docno)."""
    d = views.citations_model(request.args, api=True)
    d.pop("chart_svg", None)
    return jsonify(d)
