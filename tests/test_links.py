"""webapp.links: every URL the app builds, each routed back to the page it names, odd ids included."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from indexer.config import Settings
from webapp import links

# A report id is a file stem and may hold spaces, CJK and URL syntax (never "/"); a paragraph id is
# "rid~hash" and is routed as a path, so it may hold "/" too.
ODD_RID = "报告 2021#1?a=b&c%20d+e"
ODD_PID = ODD_RID + "~x/y z#?%"
PLAIN_RID = "000_0d8bbccb02c01f0a"
PLAIN_PID = PLAIN_RID + "~2qkvku75b2"


class NoEngine:
    """Links never ask the engine anything: an app on a stand-in opens no index."""


@pytest.fixture()
def app(tmp_path):
    from webapp import create_app

    return create_app(Settings(index=tmp_path, host="127.0.0.1", port=8765), engine=NoEngine())


@pytest.fixture()
def ctx(app):
    with app.test_request_context("/"):
        yield app


def routed(app, url: str) -> tuple[str, dict, dict, str]:
    """(endpoint, view arguments, query arguments, fragment) of an app URL, as a request sees it."""
    parts = urlsplit(url)
    with app.test_request_context(parts.path + ("?" + parts.query if parts.query else "")):
        from flask import request

        return request.endpoint, dict(request.view_args or {}), parse_qs(parts.query), parts.fragment


@pytest.mark.parametrize("rid, pid", [(PLAIN_RID, PLAIN_PID), (ODD_RID, ODD_PID)])
def test_paragraph_urls_route_back_to_the_paragraph(ctx, rid, pid):
    assert routed(ctx, links.paragraph_url(pid))[:2] == ("pages.paragraph", {"pid": pid})
    assert routed(ctx, links.paragraph_api_url(pid))[:2] == ("api.paragraph", {"pid": pid})
    permalink = links.permalink(pid)
    assert permalink.startswith("http://127.0.0.1:8765/p/")
    assert permalink == "http://127.0.0.1:8765" + links.paragraph_url(pid)
    assert links.anchor(pid) == "p-" + pid


@pytest.mark.parametrize("rid, pid", [(PLAIN_RID, PLAIN_PID), (ODD_RID, ODD_PID)])
def test_report_urls_keep_page_query_and_mark(ctx, rid, pid):
    assert routed(ctx, links.report_url(rid)) == ("pages.report", {"rid": rid}, {}, "")
    assert routed(ctx, links.report_url(rid, "出庭 应诉&率", 3, pid)) == (
        "pages.report", {"rid": rid}, {"q": ["出庭 应诉&率"], "page": ["3"]}, "p-" + pid)
    assert routed(ctx, links.report_url(rid, "", 1)) == ("pages.report", {"rid": rid}, {}, "")  # page 1 is the default
    endpoint, args, query, fragment = routed(ctx, links.report_paragraph_url(rid, pid, "出庭应诉率"))
    assert (endpoint, args, query) == ("pages.report", {"rid": rid}, {"q": ["出庭应诉率"], "hl": [pid]})
    assert fragment == "p-" + pid
    assert "q" not in routed(ctx, links.report_paragraph_url(rid, pid))[2]
    assert routed(ctx, links.report_source_url(rid))[:2] == ("pages.report_source", {"rid": rid})
    assert routed(ctx, links.report_api_url(rid, "a b"))[:3] == ("api.report", {"rid": rid}, {"q": ["a b"]})
    assert links.report_permalink(rid) == "http://127.0.0.1:8765" + links.report_url(rid)


def test_report_url_arguments_keep_their_order(ctx):
    # the order of the old url_for calls: q before page, q before hl
    assert links.report_url("r", "x", 2, "r~p") == "/reports/r?q=x&page=2#p-r~p"
    assert links.report_paragraph_url("r", "r~p", "x") == "/reports/r?q=x&hl=r~p#p-r~p"


@pytest.mark.parametrize("pid", [PLAIN_PID, ODD_PID])
def test_cite_urls(ctx, pid):
    assert routed(ctx, links.cite_url(pid))[:2] == ("pages.cite", {"pid": pid})
    assert routed(ctx, links.cite_api_url(pid))[:3] == ("api.cite", {"pid": pid}, {})
    assert routed(ctx, links.cite_api_url(pid, "bibtex"))[2] == {"format": ["bibtex"]}
    assert routed(ctx, links.cite_download_url(pid, "csl-json"))[:3] == (
        "api.cite", {"pid": pid}, {"format": ["csl-json"], "download": ["1"]})


def test_search_urls_with_filters(ctx):
    assert links.search_url() == "/"
    assert routed(ctx, links.search_url("a&b #c", region=["互助县", "乐都区"], year=["2021"], type=[])) == (
        "pages.search", {}, {"q": ["a&b #c"], "region": ["互助县", "乐都区"], "year": ["2021"]}, "")
    assert routed(ctx, links.cites_search_url("互政〔2022〕4号"))[2] == {"q": ["cites:互政〔2022〕4号"]}
    assert routed(ctx, links.search_api_url("出庭应诉率", type=["报告"]))[:3] == (
        "api.search", {}, {"q": ["出庭应诉率"], "type": ["报告"]})
    assert links.syntax_url() == links.syntax_url("") == "/syntax"
    assert routed(ctx, links.syntax_url("x y"))[2] == {"q": ["x y"]}
    assert links.quote_url() == "/quote" and routed(ctx, links.quote_url("一句 话"))[2] == {"q": ["一句 话"]}
    assert links.citations_url() == "/citations" and links.citations_url("docno") == "/citations?kind=docno"
    assert links.static_url("app.js") == "/static/app.js"


def test_the_current_search_with_changes(app):
    with app.test_request_context("/?q=x&region=A&region=B&page=3&sort=date"):
        assert parse_qs(urlsplit(links.current_url_with(page=None, sort=None)).query) == {
            "q": ["x"], "region": ["A", "B"]}
        assert parse_qs(urlsplit(links.current_url_with(page=2)).query)["page"] == ["2"]
        # a filter value toggles off, another on; either way back to page 1
        assert parse_qs(urlsplit(links.toggled_filter_url("region", "A")).query) == {
            "q": ["x"], "region": ["B"], "sort": ["date"]}
        assert parse_qs(urlsplit(links.toggled_filter_url("region", "C")).query)["region"] == ["A", "B", "C"]
        assert parse_qs(urlsplit(links.toggled_filter_url("year", "2021", single=True)).query)["year"] == ["2021"]


def test_absolute_urls_use_base_url_never_the_host_header(tmp_path):
    from webapp import create_app

    app = create_app(Settings(index=tmp_path, base_url="https://search.example.org/ps/"), engine=NoEngine())
    with app.test_request_context("/", headers={"Host": "evil.example"}, base_url="http://evil.example/ps"):
        assert links.public_origin() == "https://search.example.org/ps"
        assert links.permalink(PLAIN_PID) == f"https://search.example.org/ps/p/{PLAIN_PID}"
        assert links.paragraph_url(PLAIN_PID) == f"/ps/p/{PLAIN_PID}"  # relative links keep the mount point
    app = create_app(Settings(index=tmp_path, host="0.0.0.0", port=80), engine=NoEngine())
    app.config["PUBLIC_ORIGIN"] = "http://10.0.0.5:8000"  # what server.run stores once bound
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert links.permalink(PLAIN_PID).startswith("http://10.0.0.5:8000/p/")


def test_local_origin():
    import socket

    assert links.local_origin("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert links.local_origin("::1", 8000) == "http://[::1]:8000"
    for wildcard in links.WILDCARD_HOSTS:
        assert links.local_origin(wildcard, 1) == f"http://{socket.gethostname() or 'localhost'}:1"
