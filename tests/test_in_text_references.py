"""References inside the text (issue 14): 《titles》 and 文号 in a paragraph are links in place, to
the cited report when the corpus holds it and else to the paragraphs citing it; ``cites:`` matches
titles without their version and with or without 《》; a report's own 文号 is no citation of itself."""
from __future__ import annotations

import re
import shutil
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from conftest import SEEDS

R000 = "000_0d8bbccb02c01f0a"
CITING = "citing_report"
CITING_TEXT = """某县2022年法治政府建设工作情况报告

一、主要工作

根据互政〔2022〕4号和《法治政府建设实施纲要（2021—2025年）》的要求，参照《互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告》，本县全面推进依法行政，行政机关负责人出庭应诉率达到100%。
"""


def make_citing_corpus(base):
    """The seeds and a report citing the first of them by 文号 and by title."""
    corpus = base / "corpus"
    corpus.mkdir()
    for p in SEEDS:
        shutil.copy(p, corpus / p.name)
    (corpus / f"{CITING}.txt").write_text(CITING_TEXT, encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from indexer.config import Settings
    from indexer.indexing.update import update_index
    from webapp import create_app

    base = tmp_path_factory.mktemp("in-text")
    corpus = make_citing_corpus(base)
    update_index([corpus], base / "index")
    app = create_app(Settings(index=base / "index", corpus=corpus))
    app.config["TESTING"] = True
    return app


def _links(page: str) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2), re.sub("<[^>]+>", "", m.group(3)))
            for m in re.finditer(r'<a class="ref ref-(\w+)" href="([^"]+)" title="[^"]*">(.*?)</a>', page)]


def test_references_link_in_place(client):
    page = client.get(f"/reports/{CITING}").get_data(as_text=True)
    found = _links(page)
    kinds = {text: (kind, href) for kind, href, text in found}
    assert kinds["互政〔2022〕4号"] == ("docno", f"/reports/{R000}")
    assert kinds["《互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告》"] == ("title", f"/reports/{R000}")
    kind, href = kinds["《法治政府建设实施纲要（2021—2025年）》"]
    assert kind == "title" and unquote(parse_qs(urlsplit(href).query)["q"][0]) == "cites:法治政府建设实施纲要(2021-2025)"
    # A query's marks survive inside and beside the links.
    marked = client.get(f"/reports/{CITING}", query_string={"q": "互政"}).get_data(as_text=True)
    assert f'<a class="ref ref-docno" href="/reports/{R000}" title="打开本库中的这份文件"><mark>互政</mark>〔2022〕4号</a>' in marked
    # The cited report's own 文号 in its letterhead is no link to itself.
    own = client.get(f"/reports/{R000}").get_data(as_text=True)
    assert not any(href == f"/reports/{R000}" for _, href, _ in _links(own))


def test_cites_matches_titles_loosely(eng):
    exact = eng.search('cites:"法治政府建设实施纲要（2021—2025年）"').total
    assert exact >= 3  # the seeds and the citing report
    assert eng.search("cites:法治政府建设实施纲要").total >= exact  # without the version: every version
    assert eng.search("cites:《法治政府建设实施纲要》").total == eng.search("cites:法治政府建设实施纲要").total
    assert eng.search("cites:互政〔2022〕4号").total == 1  # the citing report; not 互助's own letterhead
    assert eng.search("docno:互政〔2022〕4号").total > 1  # which docno: finds
