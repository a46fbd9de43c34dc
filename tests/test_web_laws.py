"""Laws on the web: a report's article citations as links with the article's text beside, a law's
page with its per-article counts and article links, article permalinks, citations and the 410 of
an amended article's old link."""
from __future__ import annotations

import re
import shutil

import pytest

from indexer.indexing.update import update_index
from tests.law_factory import FUYI_ARTICLES, fuyi_text, seeds_with_laws

FUYI, CITING, REG = "laws~fuyi", "laws~citing", "laws~regulation"


@pytest.fixture(scope="module")
def web_laws(tmp_path_factory):
    base = tmp_path_factory.mktemp("web-laws")
    corpus = seeds_with_laws(base)
    update_index([corpus], base / "index")
    return corpus, base / "index"


@pytest.fixture(scope="module")
def app(web_laws):
    from webapp import create_app

    app = create_app(web_laws[1])
    app.config["TESTING"] = True
    return app


def page(client, url):
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.get_data(as_text=True)


def test_a_cited_article_is_one_link_with_its_text_beside(client, eng):
    html = page(client, f"/reports/{CITING}")
    a23 = eng.article(FUYI, "23")
    # 《行政复议法》第二十三条 is one link, to the article in its law, with a panel of its text.
    m = re.search(r'<a class="ref ref-article" href="([^"]+)" title="([^"]+)" data-panel="([^"]+)">([^<]+)</a>', html)
    assert m is not None
    href, title, panel, shown = m.groups()
    assert shown == "《行政复议法》第二十三条" and title == "中华人民共和国行政复议法 第二十三条"
    assert href.startswith(f"/reports/{FUYI}?hl=") and panel == "article-" + a23.id
    template = re.search(rf'<template id="{re.escape(panel)}">(.*?)</template>', html, re.S).group(1)
    for clause in FUYI_ARTICLES[23][1:]:
        assert f"<p>{clause}</p>" in template
    assert 'class="ref ref-title"' not in html.split("第二十三条")[0].split("严格落实")[-1]
    # A law the corpus does not hold keeps its title link to the citing paragraphs.
    assert "本库没有这份文件" in html


def test_the_law_page_counts_each_article_and_links_it(client, eng):
    html = page(client, f"/reports/{FUYI}")
    assert "条文被引用（3 条）" in html
    assert "<li>2023-09-01 全国人民代表大会常务委员会修订</li>" in html and "<dt>施行日期</dt><dd>2024-01-01</dd>" in html
    assert '<dd class="validity">现行有效</dd>' in page(client, "/reports/laws~local")
    a12 = eng.article(FUYI, "12")
    assert f'href="http://localhost/p/{a12.id}"' in html or f'/p/{a12.id}"' in html
    assert "被引 2 段 · 2 份" in html
    data = client.get(f"/api/reports/{FUYI}").get_json()
    by_key = {a["key"]: a for a in data["articles"]}
    assert (by_key["12"]["count"], by_key["12"]["report_count"]) == (2, 2)
    assert by_key["23"]["label"] == "第二十三条" and by_key["1"]["count"] == 0
    assert data["meta"]["doc_type"] == "法律" and data["meta"]["versions"][-1]["event"] == "修订"


def test_an_article_permalink_lands_on_its_paragraphs_and_cites_the_law(client, eng):
    a23 = eng.article(FUYI, "23")
    resp = client.get(f"/p/{a23.id}")
    assert resp.status_code == 302
    landed = page(client, resp.headers["Location"])
    marked = re.findall(r'<div class="para[^"]*is-target[^"]*" id="p-([^"]+)"', landed)
    assert marked == [p.id for p in a23.paragraphs]
    data = client.get(f"/api/paragraphs/{a23.id}").get_json()
    assert data["text"].split("\n")[1] == FUYI_ARTICLES[23][1] and data["section"][-1] == "第二十三条"
    cite = client.get(f"/api/cite/{a23.id}?format=gbt7714").get_json()["citation"]
    assert cite.startswith("全国人民代表大会常务委员会. 中华人民共和国行政复议法[EB/OL]. (2023-09-01)")
    assert ": 第二十三条" in cite


def test_an_amended_articles_old_link_shows_old_and_new(tmp_path, web_laws):
    from webapp import create_app
    from indexer.search.engine import SearchEngine

    corpus = tmp_path / "corpus"
    shutil.copytree(web_laws[0], corpus)
    update_index([corpus], tmp_path / "index")
    e = SearchEngine(tmp_path / "index")
    old = e.article(FUYI, "23")
    e.close()
    (corpus / "laws" / "fuyi.txt").write_text(
        fuyi_text().replace(FUYI_ARTICLES[23][3], "对前款规定的情形，行政机关应当书面告知先申请行政复议。"), encoding="utf-8")
    update_index([corpus], tmp_path / "index")
    client = create_app(tmp_path / "index").test_client()
    resp = client.get(f"/p/{old.id}")
    assert resp.status_code == 410
    html = resp.get_data(as_text=True)
    # The old article in full, and the article as it now reads first among the closest, its change marked.
    assert FUYI_ARTICLES[23][1] in html.split('class="closest"')[0]
    assert "<del>在作出行政行为时</del>" in html.split('class="closest"')[0]
    assert "<ins>书面</ins>告知" in html.split('class="closest"')[1].split("</blockquote>")[0]
    data = client.get(f"/api/paragraphs/{old.id}").get_json()
    assert data["error"]["code"] == "paragraph_changed"
    assert data["history"]["text"] == old.text
    assert "书面告知" in data["history"]["closest"][0]["paragraph"]["text"]
