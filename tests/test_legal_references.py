"""Article references in text (《X》第N条 in every form reports write, 本法第N条 inside a law), article
numbers both ways, short names and versions of laws when linking, and a law's citation formats."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from indexer.citations.formats import FORMATS, format_citation
from indexer.citations.references import (
    MAX_RANGE, Reference, ReferenceLinker, article_label, article_value, cn_numeral, extract_references,
    scan_folded, split_version,
)
from indexer.normalise import fold
from indexer.search.results import ParagraphView, ReportRef


# -- numerals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, n", [
    ("二十三", 23), ("一百零五", 105), ("十", 10), ("十二", 12), ("二十", 20), ("一千二百六十", 1260), ("两百", 200),
    ("一百", 100), ("一百一十", 110), ("一千零五", 1005), ("一千〇五", 1005), ("一十二", 12), ("三千", 3000),
    ("23", 23), ("２３", 23), ("105", 105), (" 二十三 ", 23),
    ("总则", None), ("", None), ("零", None), ("二三", None), ("十百", None), ("一百五", None), ("一千二十", None),
    ("第十条", None), ("十万", None), ("2十", None),
])
def test_numerals(text, n):
    assert cn_numeral(text) == n


def test_labels_round_trip():
    for n in range(1, 301):
        label = article_label(str(n))
        assert label.startswith("第") and label.endswith("条") and cn_numeral(label[1:-1]) == n, n
        assert cn_numeral(label[1:-1].replace("第", "")) == n
    for n in range(301, 1300):
        assert cn_numeral(article_label(str(n))[1:-1]) == n, n
    assert [article_label(k) for k in ("1", "10", "12", "20", "23", "100", "105", "110", "111", "260", "1260", "10-1",
                                       "240-2")] == [
        "第一条", "第十条", "第十二条", "第二十条", "第二十三条", "第一百条", "第一百零五条", "第一百一十条", "第一百一十一条",
        "第二百六十条", "第一千二百六十条", "第十条之一", "第二百四十条之二"]
    for bad in ("", "第十条", "ten", "10-"):
        with pytest.raises(ValueError):
            article_label(bad)


# -- extraction -------------------------------------------------------------------------------------
def arts(text, own=""):
    return [(r.raw, r.normalized) for r in extract_references(text, own_title=own) if r.kind == "article"]


def test_every_form_of_an_article_citation():
    assert arts("严格落实《行政复议法》第二十三条。") == [("《行政复议法》第二十三条", "行政复议法#23")]
    assert arts("依照《中华人民共和国行政诉讼法》第三条第三款规定") == [
        ("《中华人民共和国行政诉讼法》第三条第三款", "中华人民共和国行政诉讼法#3")]
    # a 项 after the 款 belongs to the span, not to the key
    assert arts("《行政处罚法》第10条第1款第（二）项") == [("《行政处罚法》第10条第1款第（二）项", "行政处罚法#10")]
    assert arts("《行政处罚法》第十条第三项") == [("《行政处罚法》第十条第三项", "行政处罚法#10")]
    assert arts("《行政处罚法》第一百零五条") == [("《行政处罚法》第一百零五条", "行政处罚法#105")]
    assert arts("《民法典》第一千二百六十条") == [("《民法典》第一千二百六十条", "民法典#1260")]
    assert arts("《某某条例》第十条之一") == [("《某某条例》第十条之一", "某某条例#10-1")]
    # digits, full-width digits and spaces (the folded text has none between Chinese and digits)
    assert arts("《行政复议法》第23条") == [("《行政复议法》第23条", "行政复议法#23")]
    assert arts("《行政复议法》第２３条") == [("《行政复议法》第２３条", "行政复议法#23")]
    assert arts("《行政复议法》 第 23 条") == [("《行政复议法》 第 23 条", "行政复议法#23")]
    assert arts("《 行政复议法 》第 二十三 条") == [("《 行政复议法 》第 二十三 条", "行政复议法#23")]
    # a title with a version keeps it in the key; traditional characters fold
    assert arts("《中華人民共和國行政複議法（2023年修訂）》第二十三條") == [
        ("《中華人民共和國行政複議法（2023年修訂）》第二十三條", "中华人民共和国行政复议法(2023年修订)#23")]


def test_ranges():
    assert arts("对《行政复议法》第十一条至第十三条的规定") == [("《行政复议法》第十一条至第十三条", f"行政复议法#{n}")
                                                      for n in (11, 12, 13)]
    assert arts("《行政处罚法》第10条到第12条") == [("《行政处罚法》第10条到第12条", f"行政处罚法#{n}") for n in (10, 11, 12)]
    # at most MAX_RANGE articles, all with the range's span
    long = arts("《某法》第一条至第九十条")
    assert MAX_RANGE == 50
    assert long == [("《某法》第一条至第九十条", f"某法#{n}") for n in range(1, 51)]
    # a range the wrong way round is its first article only
    assert arts("《某法》第十二条至第十条") == [("《某法》第十二条", "某法#12")]
    # a range, then a list item
    assert arts("《行政处罚法》第十条至第十二条、第十五条") == [
        ("《行政处罚法》第十条至第十二条", "行政处罚法#10"), ("《行政处罚法》第十条至第十二条", "行政处罚法#11"),
        ("《行政处罚法》第十条至第十二条", "行政处罚法#12"), ("第十五条", "行政处罚法#15")]


def test_lists():
    assert arts("贯彻《优化营商环境条例》第五条、第六条和第九条") == [
        ("《优化营商环境条例》第五条", "优化营商环境条例#5"), ("第六条", "优化营商环境条例#6"), ("第九条", "优化营商环境条例#9")]
    assert arts("《条例》第五条，第六条及第七条以及第八条与第九条") == [
        ("《条例》第五条", "条例#5"), ("第六条", "条例#6"), ("第七条", "条例#7"), ("第八条", "条例#8"), ("第九条", "条例#9")]
    assert arts("《条例》第五条第一款、第六条第二款") == [("《条例》第五条第一款", "条例#5"), ("第六条第二款", "条例#6")]
    # a 款 of the same article after 、 is no new article, and the list ends there
    assert arts("《条例》第五条第一款、第二款和第七条") == [("《条例》第五条第一款", "条例#5")]


def test_a_paragraph_citing_several_laws_and_articles():
    text = ("依据《中华人民共和国行政复议法》第二十三条、《行政诉讼法》第三条第三款和《行政处罚法》第十条至第十二条，"
            "对照《法治政府建设实施纲要（2021－2025年）》，落实《条例》第五条、第六条和第九条。")
    got = [(r.kind, r.raw, r.normalized, r.start, r.end) for r in extract_references(text)]
    assert got == [
        ("title", "《中华人民共和国行政复议法》", "中华人民共和国行政复议法", 2, 16),
        ("article", "《中华人民共和国行政复议法》第二十三条", "中华人民共和国行政复议法#23", 2, 21),
        ("title", "《行政诉讼法》", "行政诉讼法", 22, 29),
        ("article", "《行政诉讼法》第三条第三款", "行政诉讼法#3", 22, 35),
        ("title", "《行政处罚法》", "行政处罚法", 36, 43),
        ("article", "《行政处罚法》第十条至第十二条", "行政处罚法#10", 36, 51),
        ("article", "《行政处罚法》第十条至第十二条", "行政处罚法#11", 36, 51),
        ("article", "《行政处罚法》第十条至第十二条", "行政处罚法#12", 36, 51),
        ("title", "《法治政府建设实施纲要（2021－2025年）》", "法治政府建设实施纲要(2021-2025)", 54, 78),
        ("title", "《条例》", "条例", 81, 85),
        ("article", "《条例》第五条", "条例#5", 81, 88),
        ("article", "第六条", "条例#6", 89, 92),
        ("article", "第九条", "条例#9", 93, 96),
    ]
    refs = extract_references(text)
    assert all(text[r.start:r.end] == r.raw for r in refs)
    articles = [r for r in refs if r.kind == "article"]
    assert [r.article for r in articles] == ["23", "3", "10", "11", "12", "5", "6", "9"]
    assert [r.label for r in articles] == [
        "《中华人民共和国行政复议法》第二十三条", "《行政诉讼法》第三条", "《行政处罚法》第十条", "《行政处罚法》第十一条",
        "《行政处罚法》第十二条", "《条例》第五条", "《条例》第六条", "《条例》第九条"]
    # scan_folded, which the citation index uses, gives the same in folded text
    folded = fold(text)
    assert [(k, key) for k, _s, _e, key in scan_folded(folded)] == [(k, key) for k, _r, key, _s, _e in got]
    assert all(len(t) == 4 for t in scan_folded(folded))


def test_what_is_not_an_article_citation():
    assert arts("按照第二十三条的规定") == []  # no title before it
    assert extract_references("按照第二十三条的规定", own_title="某法") == []
    assert arts("《行政复议法》的第二十三条") == []  # not right after the title
    assert arts("《行政复议法第二十三条") == []  # an unclosed 《
    assert [r.raw for r in extract_references("见《未闭合 第五条 《行政复议法》第一条")] == [
        "《行政复议法》", "《行政复议法》第一条"]
    assert arts("根据《关于修改部分法律的决定》第一次修正") == []  # 第一次 is no article
    assert arts("依照本法第十条") == []  # 本法 without the document's own title
    assert extract_references("依照本法第十条") == []
    assert arts("《行政复议法》第二十三条款") == [("《行政复议法》第二十三条", "行政复议法#23")]


def test_a_law_citing_its_own_articles():
    assert arts("依照本条例第五条和第六条的规定", own="优化营商环境条例") == [
        ("本条例第五条", "优化营商环境条例#5"), ("第六条", "优化营商环境条例#6")]
    assert arts("本法第十条至第十二条", own="中华人民共和国行政复议法") == [
        ("本法第十条至第十二条", f"中华人民共和国行政复议法#{n}") for n in (10, 11, 12)]
    assert arts("违反本办法第三条、本规定第4条", own="某某管理办法") == [
        ("本办法第三条", "某某管理办法#3"), ("本规定第4条", "某某管理办法#4")]
    assert arts("本细则第一条 本决定第二条 本规则第三条 本准则第十条之一", own="某细则") == [
        ("本细则第一条", "某细则#1"), ("本决定第二条", "某细则#2"), ("本规则第三条", "某细则#3"), ("本准则第十条之一", "某细则#10-1")]
    # 基本法 is no 本法; the own title comes in 《》 or not, and names the label
    assert arts("香港基本法第十八条", own="某法") == []
    (r,) = extract_references("依照本法第二十三条", own_title="《中华人民共和国行政复议法》")
    assert (r.kind, r.raw, r.normalized, r.start, r.end, r.article) == (
        "article", "本法第二十三条", "中华人民共和国行政复议法#23", 2, 9, "23")
    assert r.label == "《中华人民共和国行政复议法》第二十三条"
    # 本法 in a scan of folded text: only with the own title
    assert scan_folded("依照本法第十条") == []
    assert scan_folded("依照本法第十条", own_title="某法") == [("article", 2, 7, "某法#10")]
    # a law citing another law and itself in one sentence
    got = arts("依照《行政处罚法》第十条和本法第五条", own="某法")
    assert got == [("《行政处罚法》第十条", "行政处罚法#10"), ("本法第五条", "某法#5")]


def test_reference_fields_and_dicts():
    (title, art) = extract_references("见《信访工作条例》第五条")
    assert title.to_dict() == {"kind": "title", "raw": "《信访工作条例》", "normalized": "信访工作条例", "start": 1,
                               "end": 9, "label": "信访工作条例"}
    assert art.to_dict() == {"kind": "article", "raw": "《信访工作条例》第五条", "normalized": "信访工作条例#5", "start": 1,
                             "end": 12, "article": "5", "title": "信访工作条例", "label": "《信访工作条例》第五条"}
    assert title.article == "" and title.title == ""
    # built the old way, from its key alone, an article reference still knows its article
    old = Reference("article", "第六条", "条例#6", 0, 3)
    assert old.article == "6" and old.label == "第六条"
    assert Reference("title", "《X》", "x", 0, 3).article == ""


# -- what users type --------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("行政复议法第二十三条", ("行政复议法", "23")), ("《行政复议法》第23条", ("行政复议法", "23")),
    ("中华人民共和国行政复议法 第二十三条", ("中华人民共和国行政复议法", "23")),
    ("中华人民共和国行政复议法 第十条之一", ("中华人民共和国行政复议法", "10-1")),
    ("行政诉讼法第三条第三款", ("行政诉讼法", "3")), ("《行政处罚法》第十条第一款第（二）项", ("行政处罚法", "10")),
    ("行政复议法第２３条", ("行政复议法", "23")), ("民法典第一千二百六十条", ("民法典", "1260")),
    ("法治政府建设实施纲要（2021－2025年）第五条", ("法治政府建设实施纲要(2021-2025)", "5")),
    ("行政复议法", None), ("第二十三条", None), ("本法第十条", None), ("行政复议法第二十三条规定", None),
    ("行政复议法第二三条", None), ("", None),
])
def test_article_values_as_typed(value, expected):
    assert article_value(value) == expected


# -- linking ----------------------------------------------------------------------------------------
REPORTS = [
    ("susong", {"title": "中华人民共和国行政诉讼法"}),
    ("fuyi", {"title": "中华人民共和国行政复议法"}),
    ("gang", {"title": "法治政府建设实施纲要（2021－2025年）"}),
    ("gw", {"title": "优化营商环境条例"}), ("qh", {"title": "青海省优化营商环境条例"}),
    ("x1", {"title": "中华人民共和国示范法"}), ("x2", {"title": "示范法"}),
    ("shixing", {"title": "某某管理办法"}),
    ("y1", {"title": "中华人民共和国另一法"}), ("y2", {"title": "中华人民共和国另一法"}),
]


@pytest.fixture(scope="module")
def linker():
    return ReferenceLinker(REPORTS)


def link(linker, text, kind="title"):
    refs = [r for r in extract_references(text) if r.kind == kind]
    return linker.link(kind, refs[-1].normalized)


@pytest.mark.parametrize("text, rids", [
    ("《中华人民共和国行政诉讼法》", ["susong"]),
    ("《行政诉讼法》", ["susong"]),  # the short name
    ("《中华人民共和国行政诉讼法（2017年修正）》", ["susong"]),  # a version the corpus title does not state
    ("《行政复议法（2023年修订）》", ["fuyi"]),  # short name and version
    ("《法治政府建设实施纲要（2021—2025年）》", ["gang"]),  # the same version, written otherwise
    ("《法治政府建设实施纲要(2021-2025)》", ["gang"]),
    ("《法治政府建设实施纲要（2015－2020年）》", []),  # another version
    ("《法治政府建设实施纲要》", []),  # no version: not the one with a version
    ("《优化营商环境条例》", ["gw"]),  # the exact title, not the province's
    ("《青海省优化营商环境条例》", ["qh"]),
    ("《优化营商环境条例（2019年）》", ["gw"]),
    ("《示范法》", ["x2"]),  # a short name two documents share: the exact title only
    ("《中华人民共和国示范法》", ["x1"]),
    ("《示范法（2020年修订）》", ["x2"]),  # the name first, then the short name
    ("《另一法》", []),  # two reports of that full title: a short name links to neither
    ("《中华人民共和国另一法》", ["y1", "y2"]),  # the exact title links every one, as always
    ("《某某管理办法（试行）》", []),  # (试行) is part of the name, not a version
    ("《中华人民共和国行政处罚法》", []),  # not in the corpus
    ("《海南省优化营商环境条例》", []),  # a province's name is never dropped
])
def test_titles_link_by_short_name_and_version(linker, text, rids):
    assert link(linker, text) == rids


def test_articles_link_by_their_title(linker):
    assert link(linker, "《行政诉讼法》第三条", "article") == ["susong"]
    assert link(linker, "《中华人民共和国行政复议法（2023年修订）》第二十三条", "article") == ["fuyi"]
    assert link(linker, "《优化营商环境条例》第五条、第六条", "article") == ["gw"]
    assert link(linker, "《示范法》第一条", "article") == ["x2"]
    assert link(linker, "《另一法》第一条", "article") == []
    assert linker.link("article", "行政诉讼法#3") == ["susong"]
    assert linker.link("article", "#3") == []
    # 本法 links to the law it is in
    (r,) = extract_references("本法第十条", own_title="中华人民共和国行政复议法")
    assert linker.link(r.kind, r.normalized) == ["fuyi"]


def test_versions_split():
    assert split_version("中华人民共和国行政复议法(2023年修订)") == ("中华人民共和国行政复议法", "(2023年修订)")
    assert split_version("法治政府建设实施纲要(2021-2025)") == ("法治政府建设实施纲要", "(2021-2025)")
    assert split_version("某某管理办法(试行)") == ("某某管理办法(试行)", "")
    assert split_version("行政复议法") == ("行政复议法", "")


# -- citation formats -------------------------------------------------------------------------------
URL = "http://127.0.0.1:8000/p/laws~fuyi~abc"
DAY = dt.date(2026, 12, 3)
META = {"title": "中华人民共和国行政复议法", "issuers": ["全国人民代表大会常务委员会"], "date": "2023-09-01",
        "doc_type": "法律", "validity": "现行有效",
        "versions": [{"event": "通过", "date": "1999-04-29", "body": "全国人民代表大会常务委员会"},
                     {"event": "修订", "date": "2023-09-01", "body": "全国人民代表大会常务委员会"},
                     {"event": "施行", "date": "2024-01-01", "body": ""}]}
SECTION = ["第二章 行政复议申请", "第二节 行政复议参加人", "第二十三条"]


def _view(section, *, doc_type="法律", date="2023-09-01", ordinal=57):
    ref = ReportRef(id="laws~fuyi", title="中华人民共和国行政复议法", region="", year=2023, source="laws/fuyi.txt",
                    doc_type=doc_type, date=date, issuers=("全国人民代表大会常务委员会",))
    return ParagraphView(id="laws~fuyi~abc", ordinal=ordinal, kind="body", section=section, text="第二十三条 …",
                         report=ref)


def cite(fmt, view=None, meta=META, url=URL):
    return format_citation(view or _view(SECTION), meta, url, fmt, DAY)


NOTE = "第二章 行政复议申请；第二节 行政复议参加人；第二十三条；时效性：现行有效"


def test_a_law_article_in_gbt7714():
    assert cite("gbt7714") == ("全国人民代表大会常务委员会. 中华人民共和国行政复议法[EB/OL]. (2023-09-01): 第二十三条"
                               "[2026-12-03]. http://127.0.0.1:8000/p/laws~fuyi~abc.")
    # read offline: no OL, no 引用日期, no address
    assert cite("gbt7714", url="") == "全国人民代表大会常务委员会. 中华人民共和国行政复议法[Z]. (2023-09-01): 第二十三条."
    # a regulation with its 令, as 其他题名信息
    reg = {"title": "优化营商环境条例", "issuers": ["国务院"], "date": "2019-10-22", "doc_type": "行政法规",
           "doc_number": "中华人民共和国国务院令第722号"}
    view = _view(["第一章 总则", "第五条"], doc_type="行政法规", date="")
    assert cite("gbt7714", view, reg) == ("国务院. 优化营商环境条例: 中华人民共和国国务院令第722号[EB/OL]. (2019-10-22): "
                                          "第五条[2026-12-03]. http://127.0.0.1:8000/p/laws~fuyi~abc.")
    assert cite("text", view, reg).startswith("国务院：《优化营商环境条例》（中华人民共和国国务院令第722号）第五条，2019年10月22日，"
                                              "第一章 总则。")


def test_a_law_article_in_the_other_formats():
    assert cite("text") == ("全国人民代表大会常务委员会：《中华人民共和国行政复议法》第二十三条，2023年9月1日，"
                            "第二章 行政复议申请，第二节 行政复议参加人。 http://127.0.0.1:8000/p/laws~fuyi~abc（2026-12-03访问）")
    assert cite("markdown") == ("[《中华人民共和国行政复议法》第二十三条](<http://127.0.0.1:8000/p/laws~fuyi~abc>) — "
                                "全国人民代表大会常务委员会，2023年9月1日，第二章 行政复议申请，第二节 行政复议参加人（2026-12-03访问）")
    assert cite("bibtex") == "\n".join([
        "@online{laws-fuyi-abc,", "  title = {{中华人民共和国行政复议法}},", "  author = {{全国人民代表大会常务委员会}},",
        "  organization = {全国人民代表大会常务委员会},", "  type = {法律},", "  year = {2023},", "  date = {2023-09-01},",
        f"  note = {{{NOTE}}},", f"  url = {{{URL}}},", "  urldate = {2026-12-03},", "  langid = {chinese}", "}", ""])
    assert cite("bibtex", url="").startswith("@misc{laws-fuyi-abc,\n")
    assert cite("ris") == "".join(f"{line}\n" for line in [
        "TY  - STAT", "TI  - 中华人民共和国行政复议法", "SE  - 第二十三条", "AU  - 全国人民代表大会常务委员会", "PY  - 2023",
        "DA  - 2023/09/01", "PB  - 全国人民代表大会常务委员会", "M3  - 法律", f"UR  - {URL}", "Y2  - 2026/12/03",
        f"N1  - {NOTE}", "LA  - zh-CN", "ID  - laws~fuyi~abc", "ER  - "])
    assert json.loads(cite("csl-json")) == [{
        "id": "laws~fuyi~abc", "type": "legislation", "title": "中华人民共和国行政复议法", "section": "第二十三条",
        "author": [{"literal": "全国人民代表大会常务委员会"}], "publisher": "全国人民代表大会常务委员会",
        "issued": {"date-parts": [[2023, 9, 1]]}, "genre": "法律", "URL": URL,
        "accessed": {"date-parts": [[2026, 12, 3]]}, "note": NOTE, "language": "zh-CN"}]


@pytest.mark.parametrize("doc_type", ["法律", "行政法规", "地方性法规", "自治条例", "单行条例", "部门规章", "地方政府规章",
                                      "规范性文件", "司法解释"])
def test_every_legal_type_is_cited_by_its_article(doc_type):
    meta = dict(META, doc_type=doc_type)
    view = _view(SECTION, doc_type=doc_type)
    for fmt in FORMATS:
        out = format_citation(view, meta, URL, fmt, DAY)
        assert "第二十三条" in out and "第57段" not in out, (doc_type, fmt)
    assert format_citation(view, meta, URL, "ris", DAY).startswith("TY  - STAT\n")


def test_a_law_date_from_its_versions_and_a_paragraph_outside_the_articles():
    # no meta date: the latest version's (修订 2023-09-01; 施行 is no version)
    meta = {k: v for k, v in META.items() if k != "date"}
    view = _view(SECTION, date="")
    assert cite("gbt7714", view, meta).startswith("全国人民代表大会常务委员会. 中华人民共和国行政复议法[EB/OL]. (2023-09-01): ")
    # no date at all
    bare = {"title": "某某条例", "doc_type": "地方性法规", "validity": "已修改"}
    assert cite("gbt7714", view, bare) == ("某某条例[EB/OL]. [出版日期不详]: 第二十三条[2026-12-03]. "
                                           "http://127.0.0.1:8000/p/laws~fuyi~abc.")
    assert "时效性：已修改；发文机关不详；发布日期不详" in cite("ris", view, bare)
    # the 题注 or 目录: no article in the section path, so the paragraph number
    front = _view([], ordinal=2)
    assert cite("gbt7714", front) == ("全国人民代表大会常务委员会. 中华人民共和国行政复议法[EB/OL]. (2023-09-01): 第2段"
                                      "[2026-12-03]. http://127.0.0.1:8000/p/laws~fuyi~abc.")


def test_a_reports_paragraph_is_cited_as_before():
    meta = {"title": "某县2023年法治政府建设情况的报告", "issuers": ["某县人民政府"], "date": "2024-01-10",
            "doc_type": "报告", "versions": [{"event": "修订", "date": "2023-09-01", "body": "x"}], "validity": "失效"}
    view = _view(["一、主要工作", "第二十三条"], doc_type="报告", ordinal=23)  # even a section named like an article
    assert cite("gbt7714", view, meta) == ("某县人民政府. 某县2023年法治政府建设情况的报告[R/OL]. [出版地不详]: 某县人民政府, "
                                           "2024: 第23段[2026-12-03]. http://127.0.0.1:8000/p/laws~fuyi~abc.")
    assert cite("text", view, meta) == ("某县人民政府：《某县2023年法治政府建设情况的报告》，2024年1月10日，一、主要工作，第二十三条，"
                                        "第23段。 http://127.0.0.1:8000/p/laws~fuyi~abc（2026-12-03访问）")
    assert cite("ris", view, meta).startswith("TY  - RPRT\n")
    assert "N1  - 一、主要工作；第二十三条；第23段\n" in cite("ris", view, meta)
    assert cite("bibtex", view, meta).startswith("@report{") and "institution = {某县人民政府}" in cite("bibtex", view, meta)
    assert json.loads(cite("csl-json", view, meta))[0]["type"] == "report"
    assert "section" not in json.loads(cite("csl-json", view, meta))[0]
