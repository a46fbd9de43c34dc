"""Legal texts read as laws: 编 › 分编 › 章 › 节 › 条 with the article as the citable unit, its 款/项/目
as paragraphs of one source paragraph, the 目录 as front matter, and the metadata of the 题注."""
from __future__ import annotations

import pytest

from indexer.model import LEGAL_TYPES
from indexer.reading.legal import category_of, validity_of, versions_of
from indexer.reading.report import read_report
from tests.law_factory import FUYI_ARTICLES, write_laws


@pytest.fixture(scope="module")
def laws(tmp_path_factory):
    paths = write_laws(tmp_path_factory.mktemp("laws"))
    return {name: read_report(path) for name, path in paths.items()}


def _article_paragraphs(report, label):
    return [p for p in report.paragraphs if p.section and p.section[-1] == label]


def test_every_clause_knows_its_article_and_section_path(laws):
    fuyi = laws["fuyi"]
    p23 = _article_paragraphs(fuyi, "第二十三条")
    assert [p.text for p in p23] == ["第二十三条 " + FUYI_ARTICLES[23][0]] + FUYI_ARTICLES[23][1:]
    assert {p.section for p in p23} == {("第二章 行政复议申请", "第二节 行政复议参加人", "第二十三条")}
    assert {p.kind for p in p23} == {"body"}
    # One source paragraph per article: an AND holds of the whole article.
    assert len({p.block for p in p23}) == 1
    assert p23[0].block != _article_paragraphs(fuyi, "第二十四条")[0].block
    assert _article_paragraphs(fuyi, "第一条")[0].section == ("第一章 总则", "第一条")


def test_headings_are_chapters_and_sections_and_the_table_of_contents_is_front_matter(laws):
    fuyi = laws["fuyi"]
    headings = [(p.text, p.section) for p in fuyi.paragraphs if p.kind == "heading"]
    assert headings == [
        ("第一章 总则", ("第一章 总则",)),
        ("第二章 行政复议申请", ("第二章 行政复议申请",)),
        ("第一节 行政复议范围", ("第二章 行政复议申请", "第一节 行政复议范围")),
        ("第二节 行政复议参加人", ("第二章 行政复议申请", "第二节 行政复议参加人")),
        ("第七章 附则", ("第七章 附则",)),
    ]
    # The 目录's entries are there to be found, but head nothing.
    toc = [p for p in fuyi.paragraphs if p.text.replace(" ", "").startswith("第二章") and not p.section]
    assert len(toc) == 1 and toc[0].kind == "body"


def test_items_inside_an_article_are_never_headings(laws):
    p11 = _article_paragraphs(laws["fuyi"], "第十一条")
    assert [p.text[:3] for p in p11] == ["第十一", "（一）", "（二）", "（三）"]
    code = laws["code"]
    p240 = _article_paragraphs(code, "第二百四十条之一")
    assert [p.text for p in p240] == ["第二百四十条之一 示范条文：", "（一）第一项；", "1.第一目；", "2.第二目。"]
    assert p240[0].section == ("第二编 物权", "第二分编 所有权", "第四章 一般规定", "第二百四十条之一")
    assert _article_paragraphs(code, "第二百零五条")[0].section == (
        "第二编 物权", "第一分编 通则", "第一章 一般规定", "第二百零五条")


def test_title_note_gives_issuers_versions_dates_and_type(laws):
    meta = laws["fuyi"].meta
    assert meta.title == "中华人民共和国行政复议法"
    assert meta.issuers == ["全国人民代表大会常务委员会"]
    assert [(v["event"], v["date"]) for v in meta.versions] == [
        ("通过", "1999-04-29"), ("修正", "2009-08-27"), ("修正", "2017-09-01"), ("修订", "2023-09-01")]
    assert meta.date == "2023-09-01" and meta.year == 2023
    assert meta.effective == "2024-01-01"  # 本法自2024年1月1日起施行
    assert meta.doc_type == "法律"
    susong = laws["susong"].meta
    assert susong.issuers == ["全国人民代表大会", "全国人民代表大会常务委员会"]
    assert susong.date == "2017-06-27" and susong.doc_type == "法律"
    # The 题注 is front matter: its 《关于修改…的决定》 is not taken for the law's title.
    assert not any(p.section for p in laws["susong"].paragraphs[:2])


def test_a_regulation_by_order_and_a_local_regulation(laws):
    reg = laws["regulation"].meta
    assert (reg.title, reg.issuers, reg.doc_number, reg.date, reg.effective, reg.doc_type) == (
        "优化营商环境条例", ["国务院"], "国务院令第722号", "2019-10-22", "2020-01-01", "行政法规")
    local = laws["local"].meta
    assert (local.title, local.issuers, local.date, local.doc_type, local.validity) == (
        "青海省优化营商环境条例", ["青海省人民代表大会常务委员会"], "2021-03-31", "地方性法规", "现行有效")
    assert local.region == "" or local.province == "青海省"


def test_a_notice_with_an_attached_measure_mixes_both_numberings(laws):
    notice = laws["notice"]
    assert notice.meta.title.endswith("的通知") and notice.meta.doc_type == "办法"
    assert notice.meta.versions == []
    by_text = {p.text[:6]: p for p in notice.paragraphs}
    assert by_text["各单位要高度"].section == ("一、高度重视",)
    second = _article_paragraphs(notice, "第二条")
    assert second[0].section == ("互助县行政规范性文件管理办法", "第一章 总则", "第二条")
    assert [p.text[:4] for p in second] == ["第二条 ", "有下列情", "（一）涉", "（二）在"]
    assert len({p.block for p in second}) == 1


def test_reports_keep_their_numbering(laws):
    report = laws["citing"]
    assert report.meta.doc_type == "报告" and report.meta.versions == []
    assert [p.section for p in report.paragraphs if p.kind == "heading"] == [
        ("一、主要工作",), ("一、主要工作", "（一）推进行政复议体制改革"), ("一、主要工作", "（二）优化营商环境")]


@pytest.mark.parametrize("note, expected", [
    ("（2023年9月1日 全国人民代表大会常务委员会通过）", [("通过", "2023-09-01", "全国人民代表大会常务委员会", "")]),
    ("（2020年1月5日青海省人民政府令第3号公布　自2020年3月1日起施行）",
     [("公布", "2020-01-05", "青海省人民政府", "青海省人民政府令第3号"), ("施行", "2020-03-01", "", "")]),
    ("（2018年8月1日司法部令第141号发布）", [("发布", "2018-08-01", "司法部", "司法部令第141号")]),
])
def test_versions_of_title_notes(note, expected):
    assert [(v.event, v.date, v.body, v.order) for v in versions_of(note)] == expected


@pytest.mark.parametrize("title, issuers, order, expected", [
    ("中华人民共和国行政复议法", ["全国人民代表大会常务委员会"], "", "法律"),
    ("优化营商环境条例", ["国务院"], "国务院令第722号", "行政法规"),
    ("青海省优化营商环境条例", ["青海省人民代表大会常务委员会"], "", "地方性法规"),
    ("互助土族自治县自治条例", ["互助土族自治县人民代表大会"], "", "自治条例"),
    ("司法行政机关行政复议应诉工作规定", ["司法部"], "司法部令第141号", "部门规章"),
    ("青海省行政规范性文件制定和监督管理办法", ["青海省人民政府"], "青海省人民政府令第3号", "地方政府规章"),
    ("互助县行政规范性文件管理办法", ["互助土族自治县人民政府"], "", "规范性文件"),
    ("最高人民法院关于适用《中华人民共和国行政诉讼法》的解释", ["最高人民法院"], "", "司法解释"),
    ("湟源县2023年法治政府建设情况的报告", ["湟源县人民政府"], "", ""),
])
def test_category_from_issuer_order_and_form(title, issuers, order, expected):
    assert category_of(title, issuers, order) == expected
    assert expected == "" or expected in LEGAL_TYPES  # what the citation formats cite as a law


def test_validity_when_stated():
    assert validity_of(["时效性：现行有效"]) == "现行有效"
    assert validity_of(["【时效性】已被修改"]) == "已修改"
    assert validity_of(["中华人民共和国某某条例（已废止）"]) == "失效"
    assert validity_of(["第一条 为了…"]) == ""


def test_parse_outlines_a_law_with_its_articles_and_versions(tmp_path):
    import subprocess
    import sys

    path = write_laws(tmp_path)["fuyi"]
    out = subprocess.run([sys.executable, "-m", "indexer.cli", "parse", str(path)], capture_output=True, text=True,
                         check=True).stdout
    assert "  type        法律\n" in out and "  effective   2024-01-01\n" in out
    assert "1999-04-29 通过；2009-08-27 修正；2017-09-01 修正；2023-09-01 修订" in out
    assert "\n  第二章 行政复议申请  [¶" in out and "\n      第二十三条  [¶" in out
