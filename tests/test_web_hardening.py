"""The web layer against hostile requests, and its bounds.

On a real index (the seed corpus, a generated report of 2,912 paragraphs, a report whose file
name is markup): download names that would break a header, links that never take the request's
Host, report pages that page through a long report (anchors, permalinks, hit navigation and the
table of contents across pages), malformed JSON bodies and parameters, lone surrogates, 405's Allow,
and a real `policy-search serve --port 0`: its printed address, waitress's limits (half-open
connections, over-long request lines and headers, bodies) and a sweep of odd requests over HTTP.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import threading
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from indexer.search.query import Filters

from served import serve_process

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "corpus").glob("*.txt"))
CN = "一二三四五六七八九十"
LONG_FILE = "800_long_report.txt"
MARKUP_FILE = '901_<img src=x onerror=alert(1)>".txt'
HIT_EVERY = 97  # every 97th body paragraph of the long report mentions 出庭应诉率


def long_report() -> str:
    """10 sections of 10 numbered items of 28 paragraphs: 2,912 paragraphs, 110 of them headings."""
    lines = ["# 某县人民政府关于2023年度法治政府建设工作情况的报告", "", "某市人民政府：", ""]
    k = 0
    for s in range(10):
        lines += [f"{CN[s]}、第{s + 1}部分工作", ""]
        for t in range(10):
            lines += [f"{t + 1}.第{s + 1}部分第{t + 1}项工作", ""]
            for _ in range(28):
                k += 1
                extra = "行政机关负责人出庭应诉率稳步提高，" if k % HIT_EVERY == 0 else ""
                lines += [f"本段为第{k}段测试正文，{extra}全面推进依法行政工作落实到位。", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def hard_index(tmp_path_factory):
    from indexer.indexing.update import update_index

    base = tmp_path_factory.mktemp("hardening")
    corpus = base / "corpus"
    corpus.mkdir()
    for p in SEEDS:
        shutil.copy(p, corpus / p.name)
    (corpus / LONG_FILE).write_text(long_report(), encoding="utf-8")
    shutil.copy(SEEDS[0], corpus / MARKUP_FILE)
    index_dir = base / "index"
    summary = update_index([corpus], index_dir)
    assert not summary.skipped, summary.skipped
    return base, corpus, index_dir


@pytest.fixture(scope="module")
def app(hard_index):
    from indexer.config import Settings
    from webapp import create_app

    _, corpus, index_dir = hard_index
    app = create_app(Settings(index=index_dir, corpus=corpus))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def long_rid(eng):
    return next(r.id for r in eng.reports() if r.source == LONG_FILE)


def _rid_of(eng, source: str) -> str:
    return next(r.id for r in eng.reports() if r.source == source)


def _error(resp, status: int, code: str | None = None) -> dict:
    """The API's error shape, with the given status."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    d = resp.get_json()
    assert d["ok"] is False and set(d["error"]) >= {"code", "message"} and d["error"]["message"]
    if code:
        assert d["error"]["code"] == code, d
    return d["error"]


# -- 7: file names in headers and pages ------------------------------------------------------------------
def test_source_download_with_a_newline_in_its_name(client, eng, tmp_path, monkeypatch):
    """A source file named with a newline answered 500 (werkzeug refuses a header with a newline)."""
    odd = tmp_path / "a\nb 报告.txt"
    odd.write_bytes("第一段。\n".encode("gb18030"))
    rid = eng.reports()[0].id
    real = eng.report
    monkeypatch.setattr(eng, "report", lambda r, **page: dataclasses.replace(real(r, **page), path=str(odd)))
    r = client.get(f"/reports/{rid}/source")
    assert r.status_code == 200 and r.data == odd.read_bytes()
    cd = r.headers["Content-Disposition"]
    assert "\n" not in cd and "\r" not in cd
    assert cd == "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a_b%20%E6%8A%A5%E5%91%8A.txt"


def test_download_names_for_any_file_name():
    from webapp.pages import attachment_disposition, download_names

    assert download_names("report.txt") == ("report.txt", "report.txt")
    assert download_names("中文 名.docx") == ("中文 名.docx", "source.docx")  # nothing left in ASCII
    assert download_names("bad\udcff\udcfename.txt") == ("bad\ufffd\ufffdname.txt", "badname.txt")
    assert download_names("evil\u202etxt.exe") == ("evil_txt.exe", "evil_txt.exe")  # no right-to-left trick
    assert download_names('q"uo\\te%41.txt')[1] == "q_uo_te_41.txt"
    assert download_names("tab\there\x00.pdf")[0] == "tab_here_.pdf"
    cd = attachment_disposition("bad\udcff\n\u6587.txt")
    cd.encode("ascii")  # a header value: ASCII only, whatever the name
    assert cd == "attachment; filename=\"bad_.txt\"; filename*=UTF-8''bad%EF%BF%BD_%E6%96%87.txt"


def test_markup_in_a_file_name_is_escaped(client, eng):
    from test_web_app import assert_safe

    rid = _rid_of(eng, MARKUP_FILE)
    page = client.get(f"/reports/{quote(rid, safe='')}").get_data(as_text=True)
    assert "901_&lt;img src=x onerror=alert(1)&gt;&#34;.txt" in page
    assert_safe(page)
    r = client.get(f"/reports/{quote(rid, safe='')}/source")
    assert r.status_code == 200 and "\n" not in r.headers["Content-Disposition"]
    assert r.headers["Content-Disposition"] == ("attachment; filename=\"901_<img src=x onerror=alert(1)>_.txt\"; "
                                                "filename*=UTF-8''901_%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%22.txt")
    assert_safe(client.get("/").get_data(as_text=True))  # the report list links it


# -- 9: absolute links never take the Host header -----------------------------------------------------------
def test_permalinks_ignore_the_host_header(client, app):
    settings = app.config["SETTINGS"]
    origin = f"http://{settings.host}:{settings.port}"
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    d = client.get("/api/search?q=出庭应诉率", headers=evil).get_json()
    hit = d["hits"][0]
    assert hit["permalink"] == f"{origin}/p/{hit['id']}"
    assert hit["citation"].endswith(hit["permalink"])
    p = client.get(f"/api/paragraphs/{hit['id']}", headers=evil).get_json()
    assert p["permalink"] == hit["permalink"]
    c = client.get(f"/api/cite/{hit['id']}", headers=evil).get_json()
    assert c["url"] == hit["permalink"] and all(hit["permalink"] in t for t in c["citations"].values())
    for url in ("/?q=出庭应诉率", f"/cite/{hit['id']}", f"/reports/{hit['report']['id']}?q=出庭应诉率"):
        page = client.get(url, headers=evil).get_data(as_text=True)
        assert "evil.example" not in page, url
    page = client.get("/?q=出庭应诉率", headers=evil).get_data(as_text=True)
    assert f'href="/p/{hit["id"]}" class="permalink"' in page  # links in pages are relative


def test_public_origin_from_the_server_and_base_url(hard_index, eng):
    from indexer.config import Settings
    from webapp import create_app
    from webapp.links import local_origin

    _, _, index_dir = hard_index
    app = create_app(Settings(index=index_dir, port=0), engine=eng)
    app.config["PUBLIC_ORIGIN"] = "http://127.0.0.1:41234"  # what server.run stores once bound
    d = app.test_client().get("/api/search?q=出庭应诉率", headers={"Host": "evil.example"}).get_json()
    assert d["hits"][0]["permalink"].startswith("http://127.0.0.1:41234/p/")
    app = create_app(Settings(index=index_dir, base_url="https://search.example.org/ps/"), engine=eng)
    d = app.test_client().get("/api/search?q=出庭应诉率", headers={"Host": "evil.example"}).get_json()
    assert d["hits"][0]["permalink"] == f"https://search.example.org/ps/p/{d['hits'][0]['id']}"
    assert local_origin("::1", 8000) == "http://[::1]:8000"
    assert local_origin("0.0.0.0", 8000) == f"http://{socket.gethostname()}:8000"


# -- 10: the server's address and limits ------------------------------------------------------------------------
def test_announce_names_the_real_address_and_warns_on_every_interface(capsys):
    from indexer.config import Settings
    from webapp.server import announce

    announce(Settings(host="0.0.0.0"), [("0.0.0.0", 8123)], "http://box:8123")
    out = capsys.readouterr()
    assert "Serving policy-search on http://0.0.0.0:8123/" in out.out and "127.0.0.1" not in out.out.split("\n")[0]
    assert "http://127.0.0.1:8123/" in out.out
    assert "warning: listening on every IPv4 network interface" in out.err and "--host 127.0.0.1" in out.err
    assert "http://box:8123/" in out.err and "--base-url" in out.err
    announce(Settings(host="::"), [("::", 8124)], "http://box:8124")
    out = capsys.readouterr()
    assert "http://[::]:8124/" in out.out and "http://[::1]:8124/" in out.out
    assert "warning: listening on every IPv6 and IPv4 network interface" in out.err
    announce(Settings(host="127.0.0.1"), [("127.0.0.1", 8125)], "http://127.0.0.1:8125")
    out = capsys.readouterr()
    assert "Serving policy-search on http://127.0.0.1:8125/" in out.out and out.err == ""


def test_waitress_takes_its_limits_from_the_settings(app):
    from indexer.config import Settings
    from webapp.server import ApiAwareChannel, create_bounded_server, listening_on

    settings = Settings(host="127.0.0.1", port=0, server_threads=3, connection_limit=77, channel_timeout=9,
                        max_request_body_kb=5, max_request_header_kb=6)
    server = create_bounded_server(app, settings)
    try:
        adj = server.adj
        assert (adj.threads, adj.connection_limit, adj.channel_timeout) == (3, 77, 9)
        assert (adj.max_request_body_size, adj.max_request_header_size) == (5 * 1024, 6 * 1024)
        assert server.channel_class is ApiAwareChannel
        [(host, port)] = listening_on(server)
        assert host == "127.0.0.1" and port > 0
    finally:
        server.close()


# -- 11: long reports come in pages -------------------------------------------------------------------------------
def test_long_report_is_paged(client, eng, long_rid):
    whole = eng.report(long_rid)
    assert whole.total_paragraphs == 2912 and len(whole.headings) == 110
    r = client.get(f"/reports/{long_rid}")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert page.count('<div class="para') == 500
    for p in whole.paragraphs[:500]:
        assert f'id="p-{p.id}"' in page
    assert f'id="p-{whole.paragraphs[500].id}"' not in page
    assert len(page) < 2_000_000  # was every paragraph of the report
    assert "第 1–500 段，共 2912 段" in page and f'href="/reports/{long_rid}?page=2" rel="next"' in page
    # the table of contents lists every heading; those on later pages link to their page
    assert page.count('<li class="lvl-') == 110
    late = whole.headings[-1]
    assert f'href="/reports/{long_rid}?page=6#p-{late.id}"' in page
    early = whole.headings[0]
    assert f'href="#p-{early.id}"' in page


def test_report_api_pages(client, eng, long_rid):
    d = client.get(f"/api/reports/{long_rid}", query_string={"page": 3}).get_json()
    assert d["ok"] and (d["page"], d["pages"], d["per_page"], d["start"]) == (3, 6, 500, 1000)
    assert d["total_paragraphs"] == 2912 and "headings" not in d
    assert [p["ordinal"] for p in d["paragraphs"]] == list(range(1001, 1501))
    assert len(d["toc"]) == 110 and {t["page"] for t in d["toc"]} == {1, 2, 3, 4, 5, 6}
    assert d["prev_url"] == f"/api/reports/{long_rid}?page=2" and d["next_url"] == f"/api/reports/{long_rid}?page=4"
    assert client.get(d["next_url"]).get_json()["page"] == 4
    last = client.get(f"/api/reports/{long_rid}", query_string={"page": 6}).get_json()
    assert len(last["paragraphs"]) == 412 and last["next_url"] is None
    for bad in ("7", "0", "-1", "abc", "1" * 31):
        _error(client.get(f"/api/reports/{long_rid}", query_string={"page": bad}), 400, "bad_request")
        assert client.get(f"/reports/{long_rid}", query_string={"page": bad}).status_code == 400


def test_permalink_lands_on_the_page_that_holds_the_paragraph(client, eng, long_rid):
    target = eng.report(long_rid, start=2399, limit=1).paragraphs[0]
    assert target.ordinal == 2400
    r = client.get(f"/p/{target.id}")
    assert r.status_code == 302 and r.headers["Location"] == f"/reports/{long_rid}?hl={target.id}#p-{target.id}"
    landed = client.get(r.headers["Location"].split("#")[0])
    page = landed.get_data(as_text=True)
    assert f'is-target" id="p-{target.id}"' in page and "第 2001–2500 段" in page
    d = client.get(f"/api/reports/{long_rid}", query_string={"hl": target.id}).get_json()
    assert d["page"] == 5 and d["hl"] == target.id
    # an explicit page wins over hl; an hl of another report is only ignored
    d = client.get(f"/api/reports/{long_rid}", query_string={"hl": target.id, "page": 1}).get_json()
    assert d["page"] == 1 and d["hl"] == ""
    other = eng.reports()[0].id
    d = client.get(f"/api/reports/{long_rid}", query_string={"hl": f"{other}~nope"}).get_json()
    assert d["page"] == 1


def test_hit_navigation_crosses_pages(client, eng, long_rid):
    q = "出庭应诉率"
    res = eng.search(q, filters=Filters(report=[long_rid]), per_page=100, sort="report")
    expected = [h.id for h in sorted(res.hits, key=lambda h: h.ordinal)]
    ordinals = sorted(h.ordinal for h in res.hits)
    assert len(expected) == 2800 // HIT_EVERY == 28
    d = client.get(f"/api/reports/{long_rid}", query_string={"q": q}).get_json()
    assert d["query"]["hits"] == expected
    assert d["query"]["hit_pages"] == [(o - 1) // 500 + 1 for o in ordinals]
    first, end = d["query"]["first"], d["query"]["end"]
    on_page = [p["id"] for p in d["paragraphs"] if p["hit"] is not None]
    assert on_page == expected[first:end] and all(p["highlights"] for p in d["paragraphs"] if p["hit"] is not None)
    assert d["query"]["next_hit"] == end and d["query"]["prev_hit"] == len(expected) - 1  # wraps to the last
    # the last hit of page 1: "next" goes to the first hit of page 2, marked there
    last_here, first_next = expected[end - 1], expected[end]
    page = client.get(f"/reports/{long_rid}", query_string={"q": q, "hl": last_here}).get_data(as_text=True)
    link = f"/reports/{long_rid}?q={quote(q)}&amp;hl={quote(first_next, safe='~')}#p-{first_next}"
    assert f'id="next-hit" class="btn" href="{link}"' in page
    assert f'<a href="{link}" class="next-link">下一处</a>' in page
    assert f'data-after="{link}"' in page and "当前第 %d 处" % end in page
    there = client.get(link.replace("&amp;", "&").split("#")[0]).get_data(as_text=True)
    assert f'is-hit is-target" id="p-{first_next}"' in there and "<mark>出庭应诉率</mark>" in there
    assert "第 501–1000 段" in there
    # within a page the links stay anchors
    second = expected[first + 1]
    page1 = client.get(f"/reports/{long_rid}", query_string={"q": q, "hl": expected[first]}).get_data(as_text=True)
    assert f'id="next-hit" class="btn" href="#p-{second}"' in page1


def test_page_of_a_report_without_hits_links_to_the_nearest(client, eng, long_rid, monkeypatch):
    from webapp import views

    monkeypatch.setattr(views, "report_page_size", lambda: 50)
    pages = client.get(f"/api/reports/{long_rid}", query_string={"q": "出庭应诉率"}).get_json()["query"]["hit_pages"]
    empty = next(p for p in range(min(pages) + 1, max(pages)) if p not in pages)
    d = client.get(f"/api/reports/{long_rid}", query_string={"q": "出庭应诉率", "page": empty}).get_json()
    assert d["page"] == empty and d["query"]["first"] is None and d["query"]["end"] is None
    assert pages[d["query"]["next_hit"]] == min(p for p in pages if p > empty)
    assert pages[d["query"]["prev_hit"]] == max(p for p in pages if p < empty)
    page = client.get(f"/reports/{long_rid}", query_string={"q": "出庭应诉率", "page": empty}).get_data(as_text=True)
    nxt = d["query"]["hits"][d["query"]["next_hit"]]
    assert f'id="next-hit" class="btn" href="/reports/{long_rid}?q=' in page and f"#p-{nxt}" in page
    assert "（本页 0 处）" in page


# -- 12: bodies, parameters, methods --------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    "[1,2,3]", '"x"', '{"text":123}', '{"text":["a"]}', '{"text":"\\ud800"}', "[" * 100_000 + "]" * 100_000,
    "{not json", '{"text": "abc"', "\xff\xfe".encode("latin-1"),
])
def test_quote_api_rejects_bodies_that_are_not_a_text(client, body):
    r = client.post("/api/quote", data=body, content_type="application/json")
    _error(r, 400)


def test_quote_api_bodies_that_work_and_too_large(client):
    r = client.post("/api/quote", json={"text": "行政机关负责人出庭应诉率稳步提高"})
    assert r.status_code == 200 and r.get_json()["found"]
    _error(client.post("/api/quote", json={}), 400, "empty_quote")
    big = json.dumps({"text": "x" * 300_000})
    _error(client.post("/api/quote", data=big, content_type="application/json"), 413, "request_too_large")


def test_lone_surrogates_are_a_query_error(eng):
    from indexer.search.query import QueryError, parse_query

    for q in ("\ud800", "出庭\udcff应诉", "region:\udc80"):
        with pytest.raises(QueryError, match="字符无效") as exc:
            parse_query(q)
        assert exc.value.position == next(i for i, c in enumerate(q) if 0xD800 <= ord(c) <= 0xDFFF)
        exc.value.pointer().encode("utf-8")  # printable
        with pytest.raises(QueryError):
            eng.search(q)
        with pytest.raises(QueryError):
            eng.count(q)
    assert parse_query("出庭 \U0001F600").positive_terms()[1].raw == "\U0001F600"  # a real astral character


def test_405_names_the_allowed_methods(client, long_rid):
    for method, url in (("post", "/api/search"), ("put", "/"), ("delete", f"/reports/{long_rid}"),
                        ("post", "/healthz"), ("patch", "/api/quote")):
        r = getattr(client, method)(url)
        assert r.status_code == 405, url
        allowed = {m.strip() for m in r.headers["Allow"].split(",")}
        assert "GET" in allowed and "DELETE" not in allowed, url
    assert "POST" in client.patch("/api/quote").headers["Allow"]
    _error(client.post("/api/search"), 405, "method_not_allowed")


HOSTILE_URLS = [
    "/reports/..%2f..%2fetc", "/reports/..%2F..%2Fetc%2Fpasswd/source", "/p/%00", "/p/" + "a" * 20_000,
    "/reports/" + "x" * 20_000, "/api/reports/%00", "/api/paragraphs/%00", "/api/cite/%00", "/cite/%00",
    "/reports/%00/source", "/static/..%2f..%2fviews.py", "/static/%00", "/p/~", "/p/" + "~" * 1000,
    "/?q=x&page=-1", "/?q=x&page=" + "1" * 31, "/api/search?q=x&page=" + "1" * 31, "/api/search?q=x&per_page=abc",
    "/api/search?q=x&per_page=0", "/api/search?q=x&q=y&page=1&page=2", "/api/search?q=x&year=9999999999",
    "/api/search?q=x&year=0000", "/api/search?q=x&year=2020..1990", "/api/search?q=year:9999..0001",
    "/api/search?q=x&group=1&page=99999999999999999999", "/api/facets?q=x&page=99999999",
    "/api/search?q=%ED%A0%80", "/api/search?q=%ff%fe", "/api/search?q=%", "/api/search?q=%zz",
    "/api/search?q=%E5%87", "/?q=%", "/?q=%ED%A0%80", "/api/search?%=%", "/api/search?q=x&sort=%00",
    "/api/search?q=%00", "/api/search?q=a%00b", "/api/search?region=%00", "/api/search?q=x&region=" + "r" * 3000,
    "/api/search?q=" + "出" * 3000, "/api/search?q=" + "a%20" * 50, "/api/search?q=" + "|" * 100,
    "/api/search?q=x&" + "&".join(f"type={i}" for i in range(30)), "/api/search?q=region:", "/api/search?q=-",
    "/api/search?q=%22%22", "/api/search?q=report:%22", "/api/search?q=cites:%00", "/api/citations?n=abc",
    "/api/citations?n=" + "9" * 40, "/api/citations?kind=%00", "/citations?n=-5", "/api/quote?q=%ED%A0%80",
    "/api/quote?q=" + "x" * 6000, "/quote?q=%00", "/api/quote?q=a&limit=abc", "/syntax?q=%ff",
    "/api/cite/x?format=%00", "/api/", "/api/search/",
]


def _assert_no_crash(status: int, content_type: str, body: str, url: str) -> None:
    # 503 is the one designed 5xx: the server's citation index is still being built (cites:)
    assert status < 500 or (status == 503 and ("citations_pending" in body or "正在统计全部" in body)), \
        (status, url, body[:300])
    assert "Traceback" not in body and 'File "' not in body, url
    if url.startswith("/api/") and "download=1" not in url:
        assert content_type.startswith("application/json"), (url, content_type)
        d = json.loads(body)
        assert d["ok"] is (status == 200), url
        if status != 200:
            assert d["error"]["code"] and d["error"]["message"], url


def test_hostile_sweep_through_the_app(client, long_rid, eng):
    pid = eng.report(long_rid, start=3, limit=1).paragraphs[0].id
    extra = [f"/api/reports/{long_rid}?q=%22", f"/reports/{long_rid}?q=x&hl=%00", f"/reports/{long_rid}?hl=" + "h" * 5000,
             f"/api/reports/{long_rid}?page=2&page=abc", f"/api/paragraphs/{pid}?q=%22", f"/p/{pid}?q=%ED%A0%80",
             f"/api/cite/{pid}?format=%00", f"/api/cite/{pid}?format=bibtex&download=1"]
    for url in HOSTILE_URLS + extra:
        r = client.get(url)
        _assert_no_crash(r.status_code, r.content_type or "", r.get_data(as_text=True), url)


# -- a real server -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(hard_index):
    """`policy-search serve --host 127.0.0.1 --port 0` on the module's (already built) index."""
    base, corpus, index_dir = hard_index
    with serve_process(index_dir, corpus, cwd=base) as served:
        yield {"url": served.url, "port": served.port, "output": served.output}


def raw_request(port: int, data: bytes, timeout: float = 15) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client fixes them up) and read the answer to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    answer = b"".join(chunks)
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


PRINTABLE_ASCII = "".join(chr(i) for i in range(0x21, 0x7F))


def get(port: int, target: str, *headers: str) -> tuple[int, dict[str, str], bytes]:
    """GET target as written, but for its non-ASCII characters (percent-encoded as UTF-8)."""
    extra = "".join(h + "\r\n" for h in headers)
    target = quote(target, safe=PRINTABLE_ASCII)
    return raw_request(port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
                       .encode("latin-1"))


def test_serve_prints_its_address_and_links_use_it(served):
    port = served["port"]
    assert served["url"] == f"http://127.0.0.1:{port}/"
    status, _, body = raw_request(port, b"GET /api/search?q=%E5%87%BA%E5%BA%AD%E5%BA%94%E8%AF%89%E7%8E%87 HTTP/1.1\r\n"
                                        b"Host: evil.example\r\nConnection: close\r\n\r\n")
    d = json.loads(body)
    assert status == 200 and d["hits"][0]["permalink"] == f"http://127.0.0.1:{port}/p/{d['hits'][0]['id']}"
    assert b"evil.example" not in body


def test_half_open_connections_do_not_starve_the_server(served):
    """120 connections trickling a request's headers (waitress's default limit was 100 connections:
    the next client waited for one of them to give up) while a normal request is answered."""
    port = served["port"]
    slow: list[socket.socket] = []
    stop = threading.Event()

    def trickle():
        for _ in range(100):  # at most 100 rounds of one byte each
            if stop.wait(0.2):
                return
            for s in slow:
                try:
                    s.send(b"x")
                except OSError:
                    pass

    ticker = threading.Thread(target=trickle, daemon=True)
    try:
        for _ in range(120):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow.append(s)
        ticker.start()
        with urllib.request.urlopen(served["url"] + "healthz", timeout=15) as resp:
            assert resp.status == 200 and json.load(resp)["ok"] is True
        with urllib.request.urlopen(served["url"] + "api/search?q=%E6%B3%95%E6%B2%BB", timeout=15) as resp:
            assert resp.status == 200 and json.load(resp)["total"] > 0
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join(timeout=5)
        for s in slow:
            s.close()
    assert len(slow) == 120


def test_overlong_request_line_and_headers_answer_in_the_error_shape(served):
    """Waitress answers these before the app: 431, on /api/ in the API's JSON error shape. Exactly
    the limit is sent, so waitress has read everything when it answers (no reset)."""
    port = served["port"]
    limit = 32 * 1024  # max_request_header_kb's default
    line = b"GET /api/search?q="
    status, headers, body = raw_request(port, line + b"a" * (limit - len(line)))
    assert status == 431 and headers["content-type"] == "application/json"
    err = json.loads(body)["error"]
    assert json.loads(body)["ok"] is False and err["code"] == "headers_too_large" and str(limit) in err["message"]
    head = f"GET /api/search?q=a HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Big: ".encode()
    status, headers, body = raw_request(port, head + b"b" * (limit - len(head)))
    assert status == 431 and json.loads(body)["error"]["code"] == "headers_too_large"
    page = b"GET /?q="
    status, headers, body = raw_request(port, page + b"a" * (limit - len(page)))
    assert status == 431 and headers["content-type"].startswith("text/plain") and b"Traceback" not in body
    # a body over max_request_body_kb is refused from its Content-Length, before it is sent
    status, headers, body = raw_request(port, b"POST /api/quote HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                                              b"\r\nContent-Length: 99999999\r\nConnection: close\r\n\r\n")
    assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"
    # raw UTF-8 in the request line
    status, headers, body = raw_request(port, "GET /api/search?q=出庭 HTTP/1.1\r\nHost: x\r\nConnection: close"
                                              "\r\n\r\n".encode("utf-8"))
    assert status == 400 and json.loads(body)["error"]["code"] == "bad_request"


def test_hostile_sweep_over_http(served, long_rid):
    port = served["port"]
    for url in HOSTILE_URLS + [f"/reports/{long_rid}?page=999", "//api/search?q=a", "/api/search?q=\x7f"]:
        status, headers, body = get(port, url)
        _assert_no_crash(status, headers.get("content-type", ""), body.decode("utf-8"), url)
    status, headers, _ = raw_request(port, b"DELETE /api/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 405 and "GET" in headers["allow"]
    status, headers, body = raw_request(port, b"POST /api/quote HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                                              b"\r\nContent-Length: 7\r\nConnection: close\r\n\r\n[1,2,3]")
    assert status == 400 and json.loads(body)["error"]["code"] == "bad_request"
    assert "Traceback" not in "".join(served["output"])


def test_hit_keys_cross_report_pages_in_a_browser(served, eng, long_rid):
    """j past the last hit of a page opens the next hit on the next page, k comes back (app.js)."""
    from playwright.sync_api import sync_playwright

    from test_web_browser import CHROMIUM, LAUNCH_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does this)")
    res = eng.search("出庭应诉率", filters=Filters(report=[long_rid]), per_page=100, sort="report")
    hits = sorted(res.hits, key=lambda h: h.ordinal)
    end = sum(1 for h in hits if h.ordinal <= 500)  # hits on page 1
    last_here, first_next = hits[end - 1].id, hits[end].id
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            pg = browser.new_page()
            problems: list[str] = []
            pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            pg.on("pageerror", lambda e: problems.append(str(e)))
            pg.goto(served["url"] + f"reports/{long_rid}?q={quote('出庭应诉率')}&hl={quote(last_here)}#p-{last_here}")
            assert pg.get_attribute(".para.is-target", "id") == f"p-{last_here}"
            assert f"当前第 {end} 处" in pg.inner_text("#hit-pos")
            pg.locator("body").press("j")
            pg.wait_for_selector(f'.para.is-target[id="p-{first_next}"]')
            assert "第 501–1000 段" in pg.inner_text(".report-pager")
            assert f"当前第 {end + 1} 处" in pg.inner_text("#hit-pos")
            pg.locator("body").press("k")
            pg.wait_for_selector(f'.para.is-target[id="p-{last_here}"]')
            assert "第 1–500 段" in pg.inner_text(".report-pager")
            pg.locator("body").press("k")  # within the page: no new page, the hit before is marked
            pg.wait_for_selector(f'.para.is-target[id="p-{hits[end - 2].id}"]')
            assert pg.url.endswith(f"#p-{hits[end - 2].id}") or pg.url.endswith(quote(f"#p-{hits[end - 2].id}"))
            assert not problems, problems
        finally:
            browser.close()
