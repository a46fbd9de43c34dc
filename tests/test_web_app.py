"""Web app through Flask's test client, on a real index: the seed corpus plus one hostile report.

Every route and its JSON twin, facets, pagination, sort, grouping, error paths, XSS probes.
"""
from __future__ import annotations

import dataclasses
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from markupsafe import escape

from indexer.search.query import Filters

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "corpus").glob("*.txt"))

XSS_REPORT = """# 海东市平安区人民政府文件

平政〔2023〕7号

## 平安区人民政府关于2022年度法治政府建设工作情况的报告<script>alert(1)</script>

海东市人民政府：

2022年，平安区坚持以习近平法治思想为指导，全面推进法治政府建设。现将有关情况报告如下：

### 一、主要工作" onmouseover="alert(1)<script>alert(1)</script>

（一）强化行政应诉<script>alert(1)</script>。

全区行政机关负责人出庭应诉率达到100%，<script>alert(1)</script>测试用段落" onmouseover="alert(1)，<img src=x onerror=alert(1)>。

（二）推进严格规范公正文明执法。

全面推行行政执法公示制度、执法全过程记录制度、重大执法决定法制审核制度。

海东市平安区人民政府

2023年1月10日
"""
XSS_FILE = "900_xss_probe.txt"
RAW_PROBES = ("<script>alert", '" onmouseover="', "onmouseover=\"alert", "<img src=x")


def make_corpus(base: Path) -> Path:
    corpus = base / "corpus"
    corpus.mkdir(parents=True)
    for p in SEEDS:
        shutil.copy(p, corpus / p.name)
    (corpus / XSS_FILE).write_text(XSS_REPORT, encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def web_index(tmp_path_factory):
    from indexer.indexing.update import update_index

    base = tmp_path_factory.mktemp("web")
    corpus = make_corpus(base)
    index_dir = base / "index"
    summary = update_index([corpus], index_dir)
    assert not summary.skipped
    return corpus, index_dir


@pytest.fixture(scope="module")
def app(web_index):
    from webapp import create_app

    _, index_dir = web_index
    app = create_app(index_dir)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def xss_rid(eng):
    return next(r.id for r in eng.reports() if r.source == XSS_FILE)


def html(resp) -> str:
    assert resp.mimetype == "text/html"
    return resp.get_data(as_text=True)


class _TagAudit(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict] = []
        self.bad_attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.bad_attrs.append((tag, name))
        if tag == "script":
            self.scripts.append(dict(attrs))


def assert_safe(page: str) -> None:
    """No unescaped probe, no element with an event-handler or style attribute, no script but app.js."""
    for probe in RAW_PROBES:
        assert probe not in page, f"unescaped {probe!r} in HTML"
    audit = _TagAudit()
    audit.feed(page)
    assert not audit.bad_attrs, audit.bad_attrs
    assert audit.scripts == [{"src": "/static/app.js", "defer": None}], audit.scripts


# -- basics -----------------------------------------------------------------------------------------
def test_healthz(client, eng):
    r = client.get("/healthz")
    assert r.status_code == 200
    d = r.get_json()
    assert d == {"ok": True, "reports": len(SEEDS) + 1, "paragraphs": d["paragraphs"], "worker": 1}
    assert d["paragraphs"] > 100


def test_home_page(client):
    r = client.get("/")
    page = html(r)
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in page
    assert 'id="q"' in page and "autofocus" in page
    assert "查询语法" in page
    assert "收录的报告（6 份）" in page
    assert "互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告" in page
    assert_safe(page)


def test_security_headers_everywhere(client, xss_rid):
    for url in ["/", "/?q=出庭应诉率", "/api/search?q=出庭应诉率", f"/reports/{xss_rid}", "/nope", "/healthz"]:
        r = client.get(url)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "object-src 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_static_assets_local(client):
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    page = html(client.get("/?q=出庭应诉率"))
    assert not re.search(r'<(script|link|img|iframe)\b[^>]*(src|href)="(https?:)?//', page), "external resource"


# -- search -------------------------------------------------------------------------------------------
def test_search_page(client, eng):
    r = client.get("/?q=出庭应诉率")
    page = html(r)
    assert r.status_code == 200
    res = eng.search("出庭应诉率")
    assert res.total == 5 and res.reports == 5
    assert f"共 <strong>{res.total}</strong> 段 · <strong>{res.reports}</strong> 份报告 · 用时" in page
    assert "毫秒" in page
    assert page.count('class="hit"') == 5
    assert page.count("<mark>出庭应诉率</mark>") >= 5
    # breadcrumb of the section path, paragraph number, links, cite
    hit = res.hits[0]
    crumbs = "".join(f"<li>{escape(s)}</li>" for s in hit.section)
    assert crumbs in page
    assert f"第 {hit.ordinal} 段" in page
    assert f'/reports/{hit.report.id}?q=' in page and f"#p-{hit.id}" in page
    assert f'href="/p/{hit.id}"' in page  # relative: never the request's Host
    # 引用 on every hit: a link to the HTML page of every format (no JS needed), the JSON twin for app.js
    for h in res.hits:
        assert (f'<a class="cite" href="/cite/{h.id}" data-cite-api="/api/cite/{h.id}" '
                f'aria-haspopup="dialog"') in page
    # facets and charts
    for dim in ("facet-region", "facet-year", "facet-type"):
        assert f'id="{dim}"' in page
    assert '<svg class="bars" role="img"' in page and "<desc id=\"chart-year-desc\">" in page
    assert '<table class="visually-hidden">' in page
    assert 'value="出庭应诉率"' in page
    assert_safe(page)


def test_api_search_is_search_result_to_dict(client, eng):
    d = client.get("/api/search?q=出庭应诉率").get_json()
    ref = eng.search("出庭应诉率").to_dict()
    assert d["ok"] is True
    for key in ("folded", "total", "reports", "page", "per_page", "pages", "sort", "filters"):
        assert d[key] == ref[key], key
    assert [h["id"] for h in d["hits"]] == [h["id"] for h in ref["hits"]]
    h = d["hits"][0]
    assert h["highlights"] and h["text"][h["highlights"][0][0]:h["highlights"][0][1]] == "出庭应诉率"
    assert h["permalink"].endswith(f"/p/{h['id']}")
    assert h["citation"].endswith(h["permalink"]) and f"第{h['ordinal']}段" in h["citation"]
    assert {f["value"] for f in d["facets"]["region"]} >= {"乐都区", "盐池县", "互助土族自治县", "平安区"}


def test_cli_json_shares_the_shape(client, web_index):
    import json

    from click.testing import CliRunner

    from indexer.cli import main

    _, index_dir = web_index
    out = CliRunner().invoke(main, ["search", "出庭应诉率", "--json", "--index", str(index_dir)])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.output)
    api = client.get("/api/search?q=出庭应诉率").get_json()
    assert [h["id"] for h in cli["hits"]] == [h["id"] for h in api["hits"]]
    assert set(cli) <= set(api)


def test_region_facet_filters_hits_and_counts(client, eng):
    d = client.get("/api/search?q=出庭应诉率&region=乐都区").get_json()
    assert d["total"] == eng.search("出庭应诉率", filters=Filters.chosen(region=["乐都区"])).total == 1
    assert all(h["report"]["region"] == "乐都区" for h in d["hits"])
    regions = {f["value"]: f for f in d["facets"]["region"]}
    assert regions["乐都区"]["selected"] and not regions["盐池县"]["selected"]
    assert regions["盐池县"]["count"] == 1  # other regions stay visible to switch or add
    assert d["filters"]["region"] == ["乐都区"]
    # OR within one dimension
    two = client.get("/api/search?q=出庭应诉率&region=乐都区&region=盐池县").get_json()
    assert two["total"] == 2
    page = html(client.get("/?q=出庭应诉率&region=乐都区"))
    assert "共 <strong>1</strong> 段" in page
    assert 'aria-pressed="true" data-value="乐都区"' in page
    assert "地区：乐都区" in page  # active filter chip


def test_facets_api(client, eng):
    d = client.get("/api/facets?q=法治政府&year=2021").get_json()
    assert d["ok"] and set(d) == {"ok", "query", "folded", "total", "reports", "filters", "facets", "took_ms"}
    assert d["total"] == eng.search("法治政府", filters=Filters(year_from=2021, year_to=2021)).total
    years = {f["value"]: f for f in d["facets"]["year"]}
    assert years["2021"]["selected"] and "2020" in years
    assert sum(f["count"] for f in d["facets"]["region"]) == d["total"]


def test_year_and_type_filters(client, eng):
    d = client.get("/api/search?q=法治政府&year=2020&year=2021").get_json()
    assert d["total"] == eng.search("法治政府", filters=Filters(year_from=2020, year_to=2021)).total
    d = client.get("/api/search?q=法治政府&type=总结").get_json()
    assert d["total"] > 0 and all(h["report"]["doc_type"] == "总结" for h in d["hits"])
    # Any set of years, consecutive or not (issue 13: one checkbox used to replace another).
    years = sorted({r.year for r in eng.reports() if r.year})
    assert len(years) >= 3
    picked = [years[0], years[-1]]
    d = client.get("/api/search", query_string={"q": "法治政府", "year": [str(y) for y in picked]}).get_json()
    want = sum(eng.search("法治政府", filters=Filters(year_from=y, year_to=y)).total for y in picked)
    assert d["total"] == want > 0 and {h["report"]["year"] for h in d["hits"]} <= set(picked)
    assert d["total"] == eng.search(f"法治政府 year:{picked[0]},{picked[1]}").total
    assert d["total"] == eng.search(f"法治政府 year：{picked[0]}、{picked[1]}").total
    selected = {f["value"] for f in d["facets"]["year"] if f["selected"]}
    assert selected == {str(y) for y in picked}
    page = html(client.get("/", query_string={"q": "法治政府", "year": str(picked[0])}))
    assert f"year={picked[0]}&amp;year={years[1]}" in page  # another year's box adds to the first
    r = client.get("/api/search?q=法治政府&year=2020..2022&year=2024")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_request"
    r = client.get("/api/search?q=法治政府&year=20x1")
    assert r.status_code == 400
    # unknown type is shown with its count but is not a filter link
    page = html(client.get("/?q=出庭应诉率"))
    assert '<span class="facet-link disabled" title="报告没有写明' in page and "未知" in page
    unknown = page[page.index('<span class="facet-link disabled"'):]
    assert not unknown[:unknown.index("</span></span>")].count('class="box"')  # it is no checkbox


def test_filters_only_search(client, eng):
    d = client.get("/api/search?region=乐都区&per_page=5").get_json()
    assert d["total"] == eng.search("", filters=Filters.chosen(region=["乐都区"])).total > 10


def test_pagination(client, eng):
    p1 = client.get("/api/search?q=法治&per_page=3").get_json()
    p2 = client.get("/api/search?q=法治&per_page=3&page=2").get_json()
    assert p1["pages"] > 2 and p2["page"] == 2
    assert [h["id"] for h in p2["hits"]] == [h.id for h in eng.search("法治", page=2, per_page=3).hits]
    assert not {h["id"] for h in p1["hits"]} & {h["id"] for h in p2["hits"]}
    page = html(client.get("/?q=法治&per_page=3&page=2"))
    assert 'aria-label="分页"' in page and 'rel="next"' in page and 'rel="prev"' in page
    assert '<ol class="hits" start="4">' in page
    beyond = client.get(f"/?q=法治&per_page=3&page={p1['pages'] + 5}")
    assert beyond.status_code == 200 and "这一页没有结果" in html(beyond)
    for bad in ("per_page=500", "per_page=0", "page=0", "page=abc"):
        r = client.get(f"/api/search?q=法治&{bad}")
        assert r.status_code == 400, bad
        assert r.get_json()["ok"] is False and r.get_json()["error"]["code"] == "bad_request"
        assert client.get(f"/?q=法治&{bad}").status_code == 400


def test_sort(client, eng):
    d = client.get("/api/search?q=法治政府建设&sort=date&per_page=20").get_json()
    assert d["sort"] == "date"
    dates = [h["report"]["date"] or "" for h in d["hits"] if h["report"]["date"]]
    assert dates == sorted(dates, reverse=True)
    assert [h["id"] for h in d["hits"]] == [h.id for h in eng.search("法治政府建设", sort="date", per_page=20).hits]
    page = html(client.get("/?q=法治政府建设&sort=date"))
    assert 'aria-current="true" class="on">按日期' in page
    assert '<input type="hidden" name="sort" value="date">' in page
    r = client.get("/api/search?q=法治&sort=bogus")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_request"


def test_group_by_report(client, eng):
    d = client.get("/api/search?q=法治政府&group=1").get_json()
    assert "groups" in d and len(d["groups"]) == d["reports"]
    assert sum(g["count"] for g in d["groups"]) == d["total"]
    page = html(client.get("/?q=法治政府&group=1"))
    assert page.count('class="group-title"') == len(d["groups"])
    ids = re.findall(r'<li class="hit" id="(hit-\d+)">', page)
    shown = sum(len(g["hits"]) for g in d["groups"])
    assert len(ids) == shown and len(set(ids)) == shown  # one anchor each, across the groups
    assert page.count('class="hit-title"') == 0  # a card does not repeat its group's report title
    assert 'aria-pressed="true" role="button">按报告分组' in page
    assert "在该报告中查看全部" in page
    assert_safe(page)


def test_empty_results_show_folded_query_and_suggestions(client):
    r = client.get("/?q=出庭应诉率 不在语料里的短语")
    page = html(r)
    assert r.status_code == 200
    assert "没有找到" in page and "共 <strong>0</strong> 段" in page
    assert "<code>出庭应诉率 不在语料里的短语</code>" in page
    assert 'class="suggest"' in page and ">出庭应诉率</a>" in page
    d = client.get("/api/search?q=出庭应诉率 不在语料里的短语").get_json()
    assert d["total"] == 0 and any(s["q"] == "出庭应诉率" and s["count"] == 5 for s in d["suggestions"])
    # folding is shown: full-width and traditional characters
    page = html(client.get("/?q=ＡＢＣ行政復議ＸＹＺ"))
    assert "<code>abc行政复议xyz</code>" in page
    # a filter that empties the result suggests dropping it
    d = client.get("/api/search?q=出庭应诉率&region=乐都区&year=2024").get_json()
    assert d["total"] == 0 and any(s["filters_dropped"] for s in d["suggestions"])
    # ... and each filter that empties it is named, with the count without it (issue 13)
    emptying = {e["dimension"]: e for e in d["emptying_filters"]}
    for dim, param, value in (("region", "region", "乐都区"), ("year", "year", "2024")):
        alone = client.get("/api/search", query_string={"q": "出庭应诉率", param: value}).get_json()["total"]
        other = {"region": ("year", "2024"), "year": ("region", "乐都区")}[dim]
        without = client.get("/api/search", query_string={"q": "出庭应诉率", other[0]: other[1]}).get_json()["total"]
        assert (dim in emptying) == (without > 0), (dim, without)
        if dim in emptying:
            assert emptying[dim]["count"] == without and emptying[dim]["values"] == [value]
            assert param + "=" not in emptying[dim]["url"]
    assert emptying, "the seed corpus has 出庭应诉率 in 乐都区 or in 2024"
    page = html(client.get("/?q=出庭应诉率&region=乐都区&year=2024"))
    assert "是筛选条件让结果为空" in page and "去掉这个筛选" in page
    # a filter written in the query is named too, without a link (the query has to be edited)
    d = client.get("/api/search", query_string={"q": "出庭应诉率 region:乐都区 year:2024"}).get_json()
    assert d["total"] == 0 and {e["dimension"] for e in d["emptying_filters"]} == set(emptying)
    assert all(e["url"] is None for e in d["emptying_filters"])


def test_bad_query_keeps_query_and_message(client):
    r = client.get('/?q="出庭应诉率')
    page = html(r)
    assert r.status_code == 400
    assert "引号没有闭合" in page and "查询写法有误" in page
    assert 'value="&#34;出庭应诉率"' in page
    assert 'role="alert"' in page
    api = client.get('/api/search?q="出庭应诉率')
    assert api.status_code == 400
    assert api.get_json() == {"ok": False, "error": {
        "code": "bad_query", "message": "引号没有闭合：第 1 个字符的 \" 缺少对应的 \"（要查找引号本身，请在引号前加 \\）",
        "position": 0, "query": '"出庭应诉率'}}
    for q in ["OR 复议", "region:", "复议 OR", "foo:bar", "year:20x"]:
        assert client.get("/api/search", query_string={"q": q}).status_code == 400, q
        assert client.get("/", query_string={"q": q}).status_code == 400, q


def test_query_length_and_terms_bounded(client):
    long_q = "法" * 500
    r = client.get("/", query_string={"q": long_q})
    page = html(r)
    alert = page[page.index('id="query-error"'):page.index("</section>", page.index('id="query-error"'))]
    assert r.status_code == 400 and "检索式太长" in alert and "法法法" not in alert  # no caret under it
    assert 'href="/quote?q=' in alert  # the quote finder, for a pasted passage
    r = client.get("/api/search", query_string={"q": long_q})
    err = r.get_json()["error"]
    assert r.status_code == 400 and err["code"] == "bad_query" and err["quote_url"].startswith("/quote?q=")
    assert "position" not in err
    many = " ".join(f"词{i}" for i in range(30))
    r = client.get("/api/search", query_string={"q": many})
    assert r.status_code == 400 and "检索词太多" in r.get_json()["error"]["message"]
    huge = client.get("/api/search", query_string={"q": "x" * 5000})
    assert huge.status_code == 400
    assert client.get("/api/search", query_string={"region": [f"r{i}" for i in range(30)]}).status_code == 400


def test_api_search_needs_a_query(client):
    r = client.get("/api/search")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_query"


# -- reports and paragraphs ---------------------------------------------------------------------------------
def _lead_hit(eng, q="出庭应诉率", region="乐都区"):
    return eng.search(q, filters=Filters.chosen(region=[region])).hits[0]


def test_report_page(client, eng):
    hit = _lead_hit(eng)
    rid = hit.report.id
    r = client.get(f"/reports/{rid}", query_string={"q": "出庭应诉", "hl": hit.id})
    page = html(r)
    assert r.status_code == 200
    view = eng.report(rid)
    for p in view.paragraphs:  # every paragraph has its stable anchor
        assert f'id="p-{p.id}"' in page
    assert f'is-hit is-target" id="p-{hit.id}"' in page
    assert "<mark>出庭应诉</mark>" in page
    assert 'id="next-hit"' in page and 'id="prev-hit"' in page
    n_hits = eng.search("出庭应诉", filters=Filters(report=[rid])).total
    assert page.count("data-hit=") == n_hits > 1
    assert 'aria-label="目录"' in page
    heading = next(p for p in view.paragraphs if p.kind == "heading")
    assert f'href="#p-{heading.id}">{escape(heading.text)}</a>' in page
    assert f'href="/reports/{rid}/source"' in page and "下载原文" in page
    assert page.count('class="cite cite-para"') == len(view.paragraphs)  # 引用 on every paragraph
    assert f'href="/cite/{hit.id}" data-cite-api="/api/cite/{hit.id}"' in page
    assert "乐都区" in page and view.report.source in page
    assert_safe(page)


def test_report_metadata_panel(client, eng):
    rid = next(r.id for r in eng.reports() if r.doc_number == "互政〔2022〕4号")
    page = html(client.get(f"/reports/{rid}"))
    for label, value in [("文号", "互政〔2022〕4号"), ("日期", "2022-01-17"), ("发文机关", "互助土族自治县人民政府"),
                         ("年度", "2021年"), ("文种", "报告")]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page, label
    assert "青海省 › 海东市 › 互助土族自治县" in page


def test_report_api_twin(client, eng):
    hit = _lead_hit(eng)
    rid = hit.report.id
    d = client.get(f"/api/reports/{rid}", query_string={"q": "出庭应诉", "hl": hit.id}).get_json()
    assert d["ok"] and d["report"]["id"] == rid and d["hl"] == hit.id
    assert len(d["paragraphs"]) == len(eng.report(rid).paragraphs)
    assert hit.id in d["query"]["hits"]
    marked = [p for p in d["paragraphs"] if p["highlights"]]
    assert [p["id"] for p in marked] == d["query"]["hits"]
    assert d["toc"] and all(t["anchor"].startswith("p-") for t in d["toc"])
    plain = client.get(f"/api/reports/{rid}").get_json()
    assert plain["query"]["hits"] == [] and not any(p["highlights"] for p in plain["paragraphs"])
    bad = client.get(f"/api/reports/{rid}", query_string={"q": '"open'})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_query"
    bad_page = client.get(f"/reports/{rid}", query_string={"q": '"open'})
    assert bad_page.status_code == 400 and "引号没有闭合" in html(bad_page)


def test_report_not_found(client):
    r = client.get("/reports/nope")
    assert r.status_code == 404 and "404" in html(r) and "没有这份报告" in html(r)
    r = client.get("/api/reports/nope")
    assert r.status_code == 404
    assert r.get_json() == {"ok": False, "error": {"code": "not_found", "message": "没有这份报告：nope"}}
    assert client.get("/reports/nope/source").status_code == 404


def test_paragraph_permalink_and_twin(client, eng):
    hit = _lead_hit(eng)
    r = client.get(f"/p/{hit.id}")
    assert r.status_code == 302
    assert r.headers["Location"] == f"/reports/{hit.report.id}?hl={hit.id}#p-{hit.id}"
    r = client.get(f"/p/{hit.id}", query_string={"q": "出庭应诉率"})
    assert "q=%E5%87%BA%E5%BA%AD%E5%BA%94%E8%AF%89%E7%8E%87" in r.headers["Location"]
    landed = client.get(f"/p/{hit.id}", follow_redirects=True)
    assert f'is-target" id="p-{hit.id}"' in html(landed)
    d = client.get(f"/api/paragraphs/{hit.id}", query_string={"q": "出庭应诉率"}).get_json()
    assert d["ok"] and d["id"] == hit.id and d["text"] == hit.text and d["section"] == hit.section
    assert d["highlights"] == hit.highlights
    settings = client.application.config["SETTINGS"]
    assert d["permalink"] == f"http://{settings.host}:{settings.port}/p/{hit.id}"  # the server's address
    assert d["url"].endswith(f"#p-{hit.id}")
    assert d["citation"].startswith(hit.report.display_title)
    assert client.get("/p/nope").status_code == 404
    nf = client.get("/api/paragraphs/nope")
    assert nf.status_code == 404 and nf.get_json()["error"]["code"] == "not_found"


def test_source_download(client, eng, web_index):
    corpus, _ = web_index
    rid = eng.reports()[0].id
    r = client.get(f"/reports/{rid}/source")
    assert r.status_code == 200
    assert f"filename*=UTF-8''{quote(eng.reports()[0].source)}" in r.headers["Content-Disposition"]
    assert r.data == (corpus / eng.reports()[0].source).read_bytes()


def test_source_missing_is_404(client, eng, monkeypatch):
    rid = eng.reports()[0].id
    real = eng.report

    def gone(r, **page):
        return dataclasses.replace(real(r, **page), path="/nonexistent/file.txt")

    monkeypatch.setattr(eng, "report", gone)
    r = client.get(f"/reports/{rid}/source")
    assert r.status_code == 404 and "file.txt" in html(r)


def test_base_url_permalinks(web_index, eng):
    from indexer.config import Settings
    from webapp import create_app

    _, index_dir = web_index
    app = create_app(Settings(index=index_dir, base_url="https://search.example.org/"), engine=eng)
    d = app.test_client().get("/api/search?q=出庭应诉率").get_json()
    assert d["hits"][0]["permalink"] == f"https://search.example.org/p/{d['hits'][0]['id']}"


# -- errors -------------------------------------------------------------------------------------------------
def test_404_pages(client):
    r = client.get("/no/such/page")
    page = html(r)
    assert r.status_code == 404 and "页面不存在" in page and 'class="searchbar"' in page
    r = client.get("/api/no/such")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_read_only(client):
    for url in ("/", "/api/search?q=x", "/healthz"):
        r = client.post(url)
        assert r.status_code == 405
    assert client.post("/api/search").get_json()["error"]["code"] == "method_not_allowed"
    assert client.delete("/reports/x").status_code == 405


def test_500_page(web_index, eng):
    from webapp import create_app

    _, index_dir = web_index
    app = create_app(index_dir, engine=eng)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    @app.get("/api/boom")
    def api_boom():
        raise RuntimeError("secret detail")

    c = app.test_client()
    r = c.get("/boom")
    assert r.status_code == 500 and "服务器出错了" in html(r) and "secret detail" not in html(r)
    r = c.get("/api/boom")
    assert r.status_code == 500 and r.get_json() == {
        "ok": False, "error": {"code": "internal_error", "message": "服务器内部错误，请稍后再试。"}}


# -- XSS ----------------------------------------------------------------------------------------------------
def test_xss_in_document_text(client, eng, xss_rid):
    d = client.get("/api/search?q=出庭应诉率&region=平安区").get_json()
    assert d["total"] == 1 and "<script>alert(1)</script>" in d["hits"][0]["text"]  # stored as written
    for url in ["/?q=出庭应诉率", "/?q=出庭应诉率&group=1", "/?q=alert", "/?q=onmouseover",
                f"/reports/{xss_rid}", f"/reports/{xss_rid}?q=alert", f"/reports/{xss_rid}?q=script",
                f"/reports/{xss_rid}?q=出庭应诉率&hl={d['hits'][0]['id']}", "/"]:
        page = html(client.get(url))
        assert_safe(page)
    page = html(client.get(f"/reports/{xss_rid}?q=alert"))
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in page
    assert "&#34; onmouseover=&#34;<mark>alert</mark>(1)" in page


def test_xss_in_query(client, xss_rid):
    probes = ['<script>alert(1)</script>', '"><script>alert(1)</script>', '" onmouseover="alert(1)',
              "<img src=x onerror=alert(1)>", "region:<script>alert(1)</script>"]
    for q in probes:
        for url in ("/", f"/reports/{xss_rid}", "/syntax"):
            r = client.get(url, query_string={"q": q})
            assert r.status_code in (200, 400)
            assert_safe(html(r))
        r = client.get("/api/search", query_string={"q": q})
        assert r.mimetype == "application/json"
    # filter values are quoted safely, never injected into the query language or the page
    r = client.get("/", query_string={"q": "出庭应诉率", "region": '"><script>alert(1)</script>'})
    assert_safe(html(r))
    r = client.get("/api/search", query_string={"q": "出庭应诉率", "region": '乐都区" OR year:2021'})
    assert r.status_code == 200 and r.get_json()["total"] == 0


def test_snippet_window_cuts_at_sentences():
    from indexer.search.highlight import snippet_bounds
    from webapp.render import snippet

    text = "前言部分。" * 40 + "这里提到出庭应诉率达到百分之九十。" + "后文内容很长。" * 40
    start = text.index("出庭应诉率")
    spans = [[start, start + 5]]
    lo, hi = snippet_bounds(text, spans)
    assert lo <= start < start + 5 <= hi and 120 <= hi - lo <= 160 + 2 * 80
    assert text[lo - 1] == "。" and text[hi - 1] == "。"
    out = str(snippet(text, spans))
    assert out.startswith("…") and out.endswith("…") and "<mark>出庭应诉率</mark>" in out
    short = "<b>短段落</b>出庭应诉率。"
    assert str(snippet(short, [[10, 15]])) == "&lt;b&gt;短段落&lt;/b&gt;<mark>出庭应诉率</mark>。"


def test_issuer_facet_counts_and_selects_whole_issuers(client, eng):
    """The 发文机关 facet (issue 13): one count per issuer, a report with two issuers counted under
    each; choosing one selects reports with that issuer, whole: 互助土族自治县人民政府 is not
    互助土族自治县人民政府办公室, though its name holds it."""
    d = client.get("/api/search?q=行政复议").get_json()
    issuers = {f["value"]: f["count"] for f in d["facets"]["issuer"]}
    by_issuer: dict[str, int] = {}
    for ref in eng.reports():
        hits = eng.search(f'行政复议 report:"{ref.id}"').total if ref.issuers else 0
        for name in ref.issuers:
            by_issuer[name] = by_issuer.get(name, 0) + hits
    assert {k: v for k, v in by_issuer.items() if v} == {k: v for k, v in issuers.items() if k != "未知"}
    joint = [r for r in eng.reports() if len(r.issuers) > 1]
    assert joint, "a seed report is issued jointly (中共临猗县委, 临猗县人民政府)"
    whole, office = "互助土族自治县人民政府", "互助土族自治县人民政府办公室"
    assert issuers[whole] and issuers[office]
    one = client.get("/api/search", query_string={"q": "行政复议", "issuer": whole}).get_json()
    assert one["total"] == issuers[whole]
    assert all(whole in h["report"]["issuers"] for h in one["hits"])
    assert one["total"] == eng.search(f"行政复议 issuer:={whole}").total
    assert one["total"] == eng.search(f'行政复议 issuer:"={whole}"').total
    holding = eng.search(f"行政复议 issuer:{whole}").total
    assert holding == issuers[whole] + issuers[office]  # without =, any issuer whose name holds it
    facet = {f["value"]: f for f in one["facets"]["issuer"]}
    assert facet[whole]["selected"] and facet[office]["count"] == issuers[office]  # switch or add
    page = html(client.get("/", query_string={"q": "行政复议", "issuer": whole}))
    assert 'id="facet-issuer"' in page and f"发文机关：{whole}" in page




def test_advanced_search_form_and_its_json_twin(client, eng):
    """高级检索 without JavaScript: the form submits to /advanced?go=1, which sends the browser to
    the search page of the query the boxes make; a box the query language cannot say is named."""
    page = html(client.get("/advanced"))
    for label in ("包含全部词", "包含完整短语", "包含任一词", "不包含", "近似短语", "报告标题含", "文号", "发文机关含",
                  "地区", "文种", "年份从", "发布日期从"):
        assert f">{label}</label>" in page
    assert '<option value="互助土族自治县">' in page  # the corpus's regions to pick from
    boxes = {"all_words": "出庭应诉率", "any_words": "复议 诉讼", "none_words": "－临猗", "region": "互助县",
             "doc_type": "报告", "year_from": "2019", "year_to": "2022", "issuer": "人民政府"}
    r = client.get("/advanced", query_string={**boxes, "go": "1"})
    assert r.status_code == 302
    q = parse_qs(urlsplit(r.headers["Location"]).query)["q"][0]
    assert q == "出庭应诉率 (复议 OR 诉讼) -临猗 issuer:人民政府 region:互助县 type:报告 year:2019..2022"
    twin = client.get("/api/advanced", query_string=boxes).get_json()
    assert twin["query"] == q and twin["error"] is None and "choices" not in twin
    assert eng.search(q).total == client.get("/api/search", query_string={"q": q}).get_json()["total"]
    # The boxes are read as they are written: a phrase keeps its spaces, operators in a box are words.
    twin = client.get("/api/advanced", query_string={"phrase": "双随机 一公开", "all_words": "AND 或",
                                                     "title": 'a"b', "near": "一村一法律顾问"}).get_json()
    assert twin["query"] == '"AND" "或" "双随机 一公开" ~一村一法律顾问 title:"a\\"b"'
    assert eng.parse(twin["query"]).shown  # it parses
    r = client.get("/advanced", query_string={"go": "1", "date_from": "2022-13"})
    assert r.status_code == 400
    assert "不是日期" in html(r) and 'class="caret"' in html(r)
    assert client.get("/advanced?go=1").status_code == 200  # nothing filled in: the form again
    xss = client.get("/advanced", query_string={"title": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in html(xss)
