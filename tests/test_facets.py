"""Facets and region names on a corpus of many places (issue 13): a generated corpus of 40
reports (35 regions, 36 issuers) and reports of two counties both named 朝阳区 (北京市, 长春市)."""
from __future__ import annotations

import html as html_lib
import importlib.util
import re
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

from indexer.reading.gazetteer import find_counties
from indexer.search.query import Filters, with_field_value

from conftest import ROOT

SAME_NAME = {
    "bj.txt": ("北京市朝阳区", 2022, "100%"),
    "cc.txt": ("长春市朝阳区", 2021, "95%"),
}


def _same_name_report(place: str, year: int, rate: str) -> str:
    return (f"{place}人民政府关于{year}年法治政府建设情况的报告\n\n{year}年，{place}人民政府坚持依法行政，"
            f"推进严格规范公正文明执法。\n\n一、主要工作\n\n全区行政机关负责人出庭应诉率达到{rate}。\n")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from indexer.config import Settings
    from indexer.indexing.update import update_index
    from webapp import create_app

    base = tmp_path_factory.mktemp("facets")
    corpus = base / "corpus"
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.generate(40, corpus)
    for name, args in SAME_NAME.items():
        (corpus / name).write_text(_same_name_report(*args), encoding="utf-8")
    summary = update_index([corpus], base / "index")
    assert not summary.skipped, summary.skipped
    app = create_app(Settings(index=base / "index", corpus=corpus))
    app.config["TESTING"] = True
    return app


def page_of(client, **args) -> str:
    resp = client.get("/", query_string=args)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_a_county_name_with_its_city_is_that_county():
    beijing, = find_counties("北京市朝阳区人民政府")
    changchun, = find_counties("长春朝阳区2021年")
    assert (beijing.city, beijing.county) == ("北京市", "朝阳区")
    assert (changchun.city, changchun.province, changchun.county) == ("长春市", "吉林省", "朝阳区")
    assert find_counties("朝阳区人民政府") == []  # which one is not said
    assert find_counties("市辖区") == []


def test_long_facets_show_ten_values_and_fold_the_rest(client):
    d = client.get("/api/search?q=法治").get_json()
    page = page_of(client, q="法治")
    folded = 0
    for dim in ("region", "issuer"):
        values = d["facets"][dim]
        section = page[page.index(f'id="facet-{dim}"'):]
        section = section[:section.index("</section>")]
        assert section.count('class="facet-link') == len(values) > 10
        head = section[:section.index("facet-more")]
        assert head.count('class="facet-link') == 10
        assert f"更多（另 {len(values) - 10} 个）" in section
        folded += 1
        assert [html_lib.unescape(v) for v in re.findall(r'data-value="([^"]*)"', section)] == \
            [f["value"] for f in values if f["value"] != "未知"]
    years = page[page.index('id="facet-year"'):]
    assert "facet-more" not in years[:years.index("</section>")]  # years are all shown, in order
    assert folded == 2


def test_a_region_name_of_two_places_is_said_and_each_is_one_link(client, eng):
    d = client.get("/api/search", query_string={"q": "出庭应诉率", "region": "朝阳区"}).get_json()
    assert d["total"] == 2
    amb, = d["ambiguous_regions"]
    assert amb["value"] == "朝阳区"
    assert {p["place"]: p["count"] for p in amb["places"]} == {"北京市朝阳区": 1, "吉林省长春市朝阳区": 1}
    page = page_of(client, q="出庭应诉率", region="朝阳区")
    assert "地区“朝阳区”不止一处" in page
    for place in amb["places"]:
        url = html_lib.unescape(re.search(rf'<a href="([^"]+)" title="只看{place["place"]}"', page).group(1))
        one = client.get(url.replace("/?", "/api/search?", 1)).get_json()
        assert one["total"] == 1 and one["ambiguous_regions"] == []
        assert one["hits"][0]["report"]["id"] == ("bj" if place["place"].startswith("北京") else "cc")
    # In the query: the link rewrites its region: value.
    d = client.get("/api/search", query_string={"q": "出庭应诉率 region:朝阳区"}).get_json()
    assert d["total"] == 2 and d["ambiguous_regions"][0]["value"] == "朝阳区"
    page = page_of(client, q="出庭应诉率 region:朝阳区")
    url = html_lib.unescape(re.search(r'<a href="([^"]+)" title="只看北京市朝阳区"', page).group(1))
    assert parse_qs(urlsplit(url).query)["q"] == ["出庭应诉率 region:北京市朝阳区"]
    assert eng.search("出庭应诉率 region:北京市朝阳区").total == 1
    assert eng.search("出庭应诉率 region:长春市朝阳区").total == 1
    assert eng.search("出庭应诉率 region:吉林").total == 1
    # The facet names the two apart; a city's name is no ambiguity.
    regions = {f["value"] for f in d["facets"]["region"]}
    assert {"北京市朝阳区", "吉林省长春市朝阳区"} <= regions and "朝阳区" not in regions
    city = eng.search("出庭应诉率", filters=Filters.chosen(region=["长春市"]))
    assert city.total == 1 and city.ambiguous_regions == []


def test_with_field_value_rewrites_only_that_field():
    assert with_field_value("出庭应诉率 region:朝阳区", "region", "朝阳区", "北京市朝阳区") == \
        "出庭应诉率 region:北京市朝阳区"
    assert with_field_value('region："朝阳区" 朝阳区 OR 复议', "region", "朝阳区", "长春 朝阳区") == \
        'region:"长春 朝阳区" 朝阳区 OR 复议'
    assert with_field_value("(region:朝阳区 OR region:和平区) 复议", "region", "和平区", "天津市和平区") == \
        "(region:朝阳区 OR region:天津市和平区) 复议"
    assert with_field_value("复议 region:互助", "region", "朝阳区", "北京市朝阳区") == "复议 region:互助"


def test_issuer_facet_values_select_their_reports(client, eng):
    d = client.get("/api/search?q=法治").get_json()
    for f in d["facets"]["issuer"][:5]:
        picked = client.get("/api/search", query_string={"q": "法治", "issuer": f["value"]}).get_json()
        assert picked["total"] == f["count"] == eng.search(f'法治 issuer:"={f["value"]}"').total
        assert all(f["value"] in h["report"]["issuers"] for h in picked["hits"])
