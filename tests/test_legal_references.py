"""Article references in text (《X》第N条 in every form reports write, 本法第N条 inside a law), article
numbers both ways, short names and versions of laws when linking, and a law's citation formats."""
from __future__ import annotations

import datetime as dt

import pytest

from indexer.citations.formats import format_citation
from indexer.citations.references import (
    ReferenceLinker, article_label, article_value, cn_numeral, extract_references,
)
from indexer.search.results import ParagraphView, ReportRef


@pytest.mark.parametrize("text, n", [
    ("二十三", 23), ("一百零五", 105), ("十", 10), ("十二", 12), ("一千二百六十", 1260), ("两百", 200),
    ("一百一十", 110), ("23", 23), ("２３", 23), ("总则", None), ("", None),
])
def test_numerals(text, n):
    assert cn_numeral(text) == n


def test_labels_round_trip():
    for n in range(1, 1300):
        label = article_label(str(n))
        assert label.startswith("第") and label.endswith("条") and cn_numeral(label[1:-1]) == n
    assert [article_label(k) for k in ("10", "20", "100", "105", "110", "10-1")] == [
        "第十条", "第二十条", "第一百条", "第一百零五条", "第一百一十条", "第十条之一"]


def arts(text, own=""):
    return [(r.raw, r.normalized) for r in extract_references(text, own_title=own) if r.kind == "article"]


def test_every_form_of_an_article_citation():
    assert arts("严格落实《行政复议法》第二十三条。") == [("《行政复议法》第二十三条", "行政复议法#23")]
    assert arts("依照《中华人民共和国行政诉讼法》第三条第三款规定") == [
        ("《中华人民共和国行政诉讼法》第三条第三款", "中华人民共和国行政诉讼法#3")]
    assert arts("《行政处罚法》第10条第1款第（二）项") == [("《行政处罚法》第10条第1款", "行政处罚法#10")]
    assert arts("对《行政复议法》第十一条至第十三条的规定") == [("《行政复议法》第十一条至第十三条", f"行政复议法#{n}")
                                                      for n in (11, 12, 13)]
    assert arts("贯彻《优化营商环境条例》第五条、第六条和第九条") == [
        ("《优化营商环境条例》第五条", "优化营商环境条例#5"), ("第六条", "优化营商环境条例#6"), ("第九条", "优化营商环境条例#9")]
    assert arts("《某某条例》第十条之一") == [("《某某条例》第十条之一", "某某条例#10-1")]
    assert arts("《行政复议法》第２３条") == [("《行政复议法》第２３条", "行政复议法#23")]
    # Two laws in one sentence, each with its own articles.
    assert [k for _, k in arts("《行政复议法》第一条和《行政诉讼法》第二条")] == ["行政复议法#1", "行政诉讼法#2"]


def test_what_is_not_an_article_citation():
    assert arts("按照第二十三条的规定") == []  # no title before it
    assert arts("《行政复议法》的第二十三条") == []  # not right after the title
    assert arts("《行政复议法第二十三条") == []  # an unclosed 《
    assert arts("依照本法第十条") == []  # 本法 without the document's own title


def test_a_law_citing_its_own_articles():
    assert arts("依照本条例第五条和第六条的规定", own="优化营商环境条例") == [
        ("本条例第五条", "优化营商环境条例#5"), ("第六条", "优化营商环境条例#6")]
    assert arts("本法第十条至第十二条", own="中华人民共和国行政复议法") == [
        ("本法第十条至第十二条", f"中华人民共和国行政复议法#{n}") for n in (10, 11, 12)]


@pytest.mark.parametrize("value, expected", [
    ("行政复议法第二十三条", ("行政复议法", "23")), ("《行政复议法》第23条", ("行政复议法", "23")),
    ("中华人民共和国行政复议法 第十条之一", ("中华人民共和国行政复议法", "10-1")),
    ("行政诉讼法第三条第三款", ("行政诉讼法", "3")), ("行政复议法", None), ("第二十三条", None),
])
def test_article_values_as_typed(value, expected):
    assert article_value(value) == expected


def test_short_names_versions_and_ambiguity():
    linker = ReferenceLinker([
        ("susong", {"title": "中华人民共和国行政诉讼法"}),
        ("gang", {"title": "法治政府建设实施纲要（2021－2025年）"}),
        ("gw", {"title": "优化营商环境条例"}), ("qh", {"title": "青海省优化营商环境条例"}),
        ("x1", {"title": "中华人民共和国示范法"}), ("x2", {"title": "示范法"}),
    ])
    link = lambda kind, text: linker.link(kind, extract_references(text)[-1 if kind == "article" else 0].normalized)  # noqa: E731
    assert link("title", "《行政诉讼法》") == ["susong"]
    assert link("title", "《中华人民共和国行政诉讼法（2017年修正）》") == ["susong"]
    assert link("article", "《行政诉讼法》第三条") == ["susong"]
    assert link("title", "《法治政府建设实施纲要（2021—2025年）》") == ["gang"]
    assert link("title", "《法治政府建设实施纲要（2015－2020年）》") == []  # another version
    assert link("title", "《优化营商环境条例》") == ["gw"]
    assert link("title", "《示范法》") == ["x2"]  # the exact title wins over a short name
    assert link("title", "《中华人民共和国示范法》") == ["x1"]


def _view(section):
    ref = ReportRef(id="laws~fuyi", title="中华人民共和国行政复议法", region="", year=2023, source="laws/fuyi.txt",
                    doc_type="法律", date="2023-09-01", issuers=("全国人民代表大会常务委员会",))
    return ParagraphView(id="laws~fuyi~abc", ordinal=23, kind="body", section=section, text="第二十三条 …", report=ref)


META = {"title": "中华人民共和国行政复议法", "issuers": ["全国人民代表大会常务委员会"], "date": "2023-09-01",
        "doc_type": "法律", "versions": [{"event": "修订", "date": "2023-09-01", "body": "全国人民代表大会常务委员会"}]}
SECTION = ["第二章 行政复议申请", "第二节 行政复议参加人", "第二十三条"]
DAY = dt.date(2026, 12, 3)


def test_a_law_article_in_every_format():
    url = "http://127.0.0.1:8000/p/laws~fuyi~abc"
    cite = lambda fmt: format_citation(_view(SECTION), META, url, fmt, DAY)  # noqa: E731
    assert cite("gbt7714") == ("全国人民代表大会常务委员会. 中华人民共和国行政复议法[EB/OL]. (2023-09-01): 第二十三条"
                               "[2026-12-03]. http://127.0.0.1:8000/p/laws~fuyi~abc.")
    assert cite("text").startswith("全国人民代表大会常务委员会：《中华人民共和国行政复议法》第二十三条，2023年9月1日，")
    assert cite("text").count("第二十三条") == 2 and "第23段" not in cite("text")
    assert "《中华人民共和国行政复议法》第二十三条" in cite("markdown")
    assert cite("ris").startswith("TY  - STAT\n") and "SE  - 第二十三条\n" in cite("ris")
    assert '"type": "legislation"' in cite("csl-json") and '"section": "第二十三条"' in cite("csl-json")
    assert cite("bibtex").startswith("@online{") and "第二十三条" in cite("bibtex")


def test_a_reports_paragraph_is_cited_as_before():
    meta = dict(META, doc_type="报告", title="某县2023年法治政府建设情况的报告")
    assert ": 第23段[2026-12-03]" in format_citation(_view(["一、主要工作"]), meta, "http://x/p/1", "gbt7714", DAY)
