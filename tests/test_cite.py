"""Citation formats for real seed paragraphs: golden strings, missing metadata, machine formats."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pytest

from indexer.citations import formats
from indexer.citations.formats import (
    ALIASES, FORMAT_LABELS, FORMATS, UnknownFormat, all_citations, bibtex_escape, canonical_format, format_citation,
    inline_citation,
)

R000 = "000_0d8bbccb02c01f0a"
R001 = "001_623fe7deefd3bc57"
R003 = "003_08e8b4a7741f3a58"
ACCESSED = dt.date(2026, 11, 22)
BASE = "http://localhost:8000/p/"


def paragraph_with(engine, rid: str, needle: str):
    rv = engine.report(rid)
    for p in rv.paragraphs:
        if needle in p.text:
            return p, rv.meta
    raise AssertionError(f"no paragraph of {rid} contains {needle!r}")


@pytest.fixture(scope="module")
def p18(engine):
    p, meta = paragraph_with(engine, R000, "一是推进行政复议体制改革")
    assert p.ordinal == 18
    return p, meta


def cite(view, meta, fmt):
    return format_citation(view, meta, BASE + view.id, fmt, ACCESSED)


# One paragraph of each seed report and its references, written by hand from GB/T 7714-2015 (the
# rules are in indexer/citations/formats.py's docstring): 主要责任者 only when the report states an
# issuer, a supplied title in [ ], R for 报告/总结 and EB for a 通知 read online, the placeholders
# [出版者不详] and [出版日期不详] where the report says nothing, the year of the stated date as 出版年,
# 第N段 where a printed work has its page, the access date and the address.
HU = "互助土族自治县人民政府"
HU_TITLE = "互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告"
SEEDS = {
    R000: ("一是推进行政复议体制改革", 18, {
        "gbt7714": f"{HU}. {HU_TITLE}: 互政〔2022〕4号[R/OL]. 青海省海东市互助土族自治县: {HU}, 2022: 第18段"
                   "[2026-11-22]. {url}.",
        "text": f"{HU}：《{HU_TITLE}》（互政〔2022〕4号），2022年1月17日，一、2021年度法治政府建设工作开展情况，"
                "（五）加强权力约束，自觉接受监督，第18段。 {url}（2026-11-22访问）",
        "markdown": f"[《{HU_TITLE}》（互政〔2022〕4号） 第18段](<{{url}}>) — {HU}，2022年1月17日，"
                    "一、2021年度法治政府建设工作开展情况，（五）加强权力约束，自觉接受监督（2026-11-22访问）",
    }),
    R001: ("持续优化营商环境", 9, {
        "gbt7714": "盐池县2021年度法治政府建设工作情况总结[R/OL]. 宁夏回族自治区吴忠市盐池县: [出版者不详], [出版日期不详]: "
                   "第9段[2026-11-22]. {url}.",
        "text": "发文机关不详：《盐池县2021年度法治政府建设工作情况总结》，日期不详，一、主要举措和成效，"
                "（三）依法全面履行政府职能，优化高效政务环境，第9段。 {url}（2026-11-22访问）",
        "markdown": "[《盐池县2021年度法治政府建设工作情况总结》 第9段](<{url}>) — 发文机关不详，日期不详，一、主要举措和成效，"
                    "（三）依法全面履行政府职能，优化高效政务环境（2026-11-22访问）",
    }),
    "002_6785f9f2da4cfcb2": ("关键一年", 9, {
        "gbt7714": "互助土族自治县人民政府办公室. 关于印发互助县2024年法治政府建设工作要点的通知: 互政办〔2024〕18号[EB/OL]. "
                   "青海省海东市互助土族自治县: 互助土族自治县人民政府办公室, 2024: 第9段[2026-11-22]. {url}.",
        "text": "互助土族自治县人民政府办公室：《关于印发互助县2024年法治政府建设工作要点的通知》（互政办〔2024〕18号），"
                "2024年4月22日，互助县2024年法治政府建设工作要点，第9段。 {url}（2026-11-22访问）",
        "markdown": "[《关于印发互助县2024年法治政府建设工作要点的通知》（互政办〔2024〕18号） 第9段](<{url}>) — "
                    "互助土族自治县人民政府办公室，2024年4月22日，互助县2024年法治政府建设工作要点（2026-11-22访问）",
    }),
    R003: ("东法委执法组", 19, {
        "gbt7714": "[乐都区2020年报告][R/OL]. 青海省海东市乐都区: [出版者不详], [出版日期不详]: 第19段[2026-11-22]. {url}.",
        "text": "发文机关不详：[乐都区2020年报告]，日期不详，一、工作开展情况，(四)加强行政执法监督,着力规范行政执法，"
                "1.强化行政执法整治，第19段。 {url}（2026-11-22访问）",
        "markdown": "[\\[乐都区2020年报告\\] 第19段](<{url}>) — 发文机关不详，日期不详，一、工作开展情况，"
                    "(四)加强行政执法监督,着力规范行政执法，1.强化行政执法整治（2026-11-22访问）",
    }),
    "004_34069464076b4f45": ("推行法律顾问制度", 30, {
        "gbt7714": "中共临猗县委, 临猗县人民政府. 关于2021年度法治政府建设工作的情况报告: 临字〔2022〕6号[R/OL]. "
                   "山西省运城市临猗县: 中共临猗县委, 2022: 第30段[2026-11-22]. {url}.",
        "text": "中共临猗县委、临猗县人民政府：《关于2021年度法治政府建设工作的情况报告》（临字〔2022〕6号），2022年1月19日，"
                "一、法治政府建设及党政主要负责人履行推进法治建设第一责任人职责情况，（三）完善决策机制，健全政府依法行政制度体系，"
                "3.坚持落实法律顾问制度，第30段。 {url}（2026-11-22访问）",
        "markdown": "[《关于2021年度法治政府建设工作的情况报告》（临字〔2022〕6号） 第30段](<{url}>) — 中共临猗县委、临猗县人民政府，"
                    "2022年1月19日，一、法治政府建设及党政主要负责人履行推进法治建设第一责任人职责情况，"
                    "（三）完善决策机制，健全政府依法行政制度体系，3.坚持落实法律顾问制度（2026-11-22访问）",
    }),
}
# The machine formats of the same paragraphs: every field, by hand.
MACHINE = {
    R000: {"type": ("report", "RPRT", "report"), "title": HU_TITLE, "authors": [HU], "date": "2022-01-17",
           "docno": "互政〔2022〕4号", "kind": "报告", "place": "青海省海东市互助土族自治县",
           "note": "一、2021年度法治政府建设工作开展情况；（五）加强权力约束，自觉接受监督；第18段"},
    R001: {"type": ("report", "RPRT", "report"), "title": "盐池县2021年度法治政府建设工作情况总结", "authors": [],
           "date": "", "docno": "", "kind": "总结", "place": "宁夏回族自治区吴忠市盐池县",
           "note": "一、主要举措和成效；（三）依法全面履行政府职能，优化高效政务环境；第9段；发文机关不详；发布日期不详"},
    "002_6785f9f2da4cfcb2": {"type": ("online", "GOVDOC", "document"),
                             "title": "关于印发互助县2024年法治政府建设工作要点的通知", "authors": ["互助土族自治县人民政府办公室"],
                             "date": "2024-04-22", "docno": "互政办〔2024〕18号", "kind": "工作要点",
                             "place": "青海省海东市互助土族自治县", "note": "互助县2024年法治政府建设工作要点；第9段"},
    R003: {"type": ("report", "RPRT", "report"), "title": "[乐都区2020年报告]", "authors": [], "date": "", "docno": "",
           "kind": "报告", "place": "青海省海东市乐都区",
           "note": "一、工作开展情况；(四)加强行政执法监督,着力规范行政执法；1.强化行政执法整治；第19段；题名为编者所拟；"
                   "发文机关不详；发布日期不详"},
    "004_34069464076b4f45": {"type": ("report", "RPRT", "report"), "title": "关于2021年度法治政府建设工作的情况报告",
                             "authors": ["中共临猗县委", "临猗县人民政府"], "date": "2022-01-19", "docno": "临字〔2022〕6号",
                             "kind": "报告", "place": "山西省运城市临猗县",
                             "note": "一、法治政府建设及党政主要负责人履行推进法治建设第一责任人职责情况；"
                                     "（三）完善决策机制，健全政府依法行政制度体系；3.坚持落实法律顾问制度；第30段"},
}


@pytest.fixture(scope="module")
def seed_paragraphs(engine):
    out = {}
    for rid, (needle, ordinal, _) in SEEDS.items():
        view, meta = paragraph_with(engine, rid, needle)
        assert view.ordinal == ordinal
        out[rid] = (view, meta)
    return out


@pytest.mark.parametrize("rid", list(SEEDS))
@pytest.mark.parametrize("fmt", ["gbt7714", "text", "markdown"])
def test_each_seed_reference_as_written_by_hand(seed_paragraphs, rid, fmt):
    view, meta = seed_paragraphs[rid]
    assert cite(view, meta, fmt) == SEEDS[rid][2][fmt].replace("{url}", BASE + view.id)


@pytest.mark.parametrize("rid", list(MACHINE))
def test_each_seed_in_bibtex_ris_and_csl_as_written_by_hand(seed_paragraphs, rid):
    view, meta = seed_paragraphs[rid]
    want = MACHINE[rid]
    url = BASE + view.id
    bib_type, ris_type, csl_type = want["type"]
    year = want["date"][:4]
    bib = [f"@{bib_type}{{{view.id.replace('~', '-')},", f"  title = {{{{{want['title']}}}}},"]
    if want["authors"]:
        bib += ["  author = {" + " and ".join("{" + a + "}" for a in want["authors"]) + "},",
                f"  institution = {{{want['authors'][0]}}},"]
    bib += [f"  type = {{{want['kind']}}},"]
    bib += [f"  number = {{{want['docno']}}},"] if want["docno"] else []
    bib += [f"  year = {{{year}}},", f"  date = {{{want['date']}}},"] if want["date"] else []
    bib += [f"  address = {{{want['place']}}},", f"  note = {{{want['note']}}},", f"  url = {{{url}}},",
            "  urldate = {2026-11-22},", "  langid = {chinese}", "}", ""]
    assert cite(view, meta, "bibtex") == "\n".join(bib)
    ris = [f"TY  - {ris_type}", f"TI  - {want['title']}"] + [f"AU  - {a}" for a in want["authors"]]
    ris += [f"PY  - {year}", "DA  - " + want["date"].replace("-", "/")] if want["date"] else []
    ris += [f"CY  - {want['place']}"] + ([f"PB  - {want['authors'][0]}"] if want["authors"] else [])
    ris += [f"SN  - {want['docno']}"] if want["docno"] else []
    ris += [f"M3  - {want['kind']}", f"UR  - {url}", "Y2  - 2026/11/22", f"N1  - {want['note']}", "LA  - zh-CN",
            f"ID  - {view.id}", "ER  - ", ""]
    assert cite(view, meta, "ris") == "\n".join(ris)
    item = {"id": view.id, "type": csl_type, "title": want["title"]}
    if want["authors"]:
        item.update(author=[{"literal": a} for a in want["authors"]], publisher=want["authors"][0])
    if want["date"]:
        item["issued"] = {"date-parts": [[int(x) for x in want["date"].split("-")]]}
    if want["docno"]:
        item["number"] = want["docno"]
    item.update({"genre": want["kind"], "publisher-place": want["place"], "URL": url,
                 "accessed": {"date-parts": [[2026, 11, 22]]}, "note": want["note"], "language": "zh-CN"})
    assert json.loads(cite(view, meta, "csl-json")) == [item]


def test_offline_references_have_no_access_date_and_no_online_type(seed_paragraphs):
    """Without an address (no /OL): no 引用日期, and a 通知 is no 电子公告 but 其他 (Z)."""
    view, meta = seed_paragraphs[R001]
    assert format_citation(view, meta, "", "gbt7714", ACCESSED) == (
        "盐池县2021年度法治政府建设工作情况总结[R]. 宁夏回族自治区吴忠市盐池县: [出版者不详], [出版日期不详]: 第9段."
    )
    view, meta = seed_paragraphs["002_6785f9f2da4cfcb2"]
    gb = format_citation(view, meta, "", "gbt7714", ACCESSED)
    assert "互政办〔2024〕18号[Z]. " in gb and "[2026-11-22]" not in gb
    assert "Y2  -" not in format_citation(view, meta, "", "ris", ACCESSED)


def test_placeholders_in_latin_script_and_many_issuers(seed_paragraphs):
    """A report in Latin script gets [S.l.], [s.n.] and [s.a.]; more than three issuers: three and 等."""
    view, meta = seed_paragraphs[R001]
    nowhere = dataclasses.replace(view, report=dataclasses.replace(view.report, region="", city="", province="",
                                                                    doc_type=""))
    english = {"title": "Annual report on law-based government"}
    gb = format_citation(nowhere, english, BASE + view.id, "gbt7714", ACCESSED)
    assert gb.startswith("Annual report on law-based government[Z/OL]. [S.l.]: [s.n.], [s.a.]: 第9段[2026-11-22]. ")
    gb = format_citation(nowhere, {}, BASE + view.id, "gbt7714", ACCESSED)
    assert gb.startswith("盐池县2021年度法治政府建设工作情况总结[Z/OL]. [出版地不详]: [出版者不详], [出版日期不详]: 第9段")
    four = dict(meta, issuers=["甲局", "乙局", "丙局", "丁局"], date="2022-03-01")
    gb = format_citation(view, four, BASE + view.id, "gbt7714", ACCESSED)
    assert gb.startswith("甲局, 乙局, 丙局, 等. 盐池县2021年度法治政府建设工作情况总结[R/OL]. 宁夏回族自治区吴忠市盐池县: 甲局, 2022: ")


def test_no_reference_holds_the_section_arrow(engine):
    for ref in engine.reports():
        rv = engine.report(ref.id)
        for view in rv.paragraphs[::5]:
            for fmt in FORMATS:
                assert "›" not in format_citation(view, rv.meta, BASE + view.id, fmt, ACCESSED), fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_none_or_empty_brackets_anywhere(engine, fmt):
    for ref in engine.reports():
        rv = engine.report(ref.id)
        for view in (rv.paragraphs[0], rv.paragraphs[len(rv.paragraphs) // 2], rv.paragraphs[-1]):
            for meta in (rv.meta, {}, None):
                out = format_citation(view, meta, BASE + view.id, fmt, ACCESSED)
                assert "None" not in out and "null" not in out
                for empty in ("[]", "()", "（）", "{}", "〔〕", ": .", ", ,", "..", "，，"):
                    assert empty not in out.replace("{}\n", ""), (fmt, empty, out)


@pytest.mark.parametrize("fmt", FORMATS)
def test_meta_fallback_to_report_ref(p18, fmt):
    view, meta = p18
    # Without the meta dict the ReportRef still gives title, 文号, date and place.
    out = format_citation(view, None, BASE + view.id, fmt, ACCESSED)
    assert "互政〔2022〕4号" in out and "2022" in out.replace("〔2022〕", "")
    if fmt not in ("text", "markdown"):
        assert "青海省海东市互助土族自治县" in out


def test_ris_lines_parse(engine):
    tag = re.compile(r"^[A-Z][A-Z0-9]  - (.*)$")
    for ref in engine.reports():
        rv = engine.report(ref.id)
        ris = format_citation(rv.paragraphs[-1], rv.meta, BASE + rv.paragraphs[-1].id, "ris", ACCESSED)
        lines = ris.splitlines()
        assert lines[0] in ("TY  - RPRT", "TY  - GOVDOC") and lines[-1] == "ER  - "
        assert all(tag.match(line) for line in lines)
        tags = [line[:2] for line in lines]
        assert "TI" in tags and "UR" in tags and "Y2" in tags


def _balanced(s: str) -> bool:
    depth = 0
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def test_bibtex_escapes_and_balance(engine, p18):
    view, meta = p18
    weird = dict(meta, title="规划{50%}&B_C#1$x$~y^z\\end", issuers=["某{局}"], doc_number="某发〔2022〕1号")
    bib = format_citation(view, weird, BASE + view.id + "{x}", "bibtex", ACCESSED)
    assert _balanced(bib)
    assert r"{规划\{50\%\}\&B\_C\#1\$x\$\~{}y\^{}z\textbackslash{}end}" in bib
    assert "author = {{某\\{局\\}}}" in bib
    assert "%7Bx%7D" in bib
    assert bibtex_escape("a_b") == r"a\_b"
    for ref in engine.reports():
        rv = engine.report(ref.id)
        for view in rv.paragraphs[::7]:
            out = format_citation(view, rv.meta, BASE + view.id, "bibtex", ACCESSED)
            assert _balanced(out) and out.startswith(("@report{", "@online{")) and out.rstrip().endswith("}")


def test_csl_json_required_keys(engine):
    for ref in engine.reports():
        rv = engine.report(ref.id)
        view = rv.paragraphs[-1]
        items = json.loads(format_citation(view, rv.meta, BASE + view.id, "csl-json", ACCESSED))
        assert isinstance(items, list) and len(items) == 1
        item = items[0]
        assert {"id", "type", "title", "URL", "accessed", "note"} <= set(item)
        assert item["type"] in ("report", "document") and item["title"]
        if rv.meta.get("issuers"):
            assert item["author"] == [{"literal": i} for i in rv.meta["issuers"]]
        if rv.meta.get("date"):
            y, m, d = (int(x) for x in rv.meta["date"].split("-"))
            assert item["issued"] == {"date-parts": [[y, m, d]]}


def test_multiple_issuers(engine):
    rv = engine.report("004_34069464076b4f45")
    view = rv.paragraphs[-1]
    gb = format_citation(view, rv.meta, BASE + view.id, "gbt7714", ACCESSED)
    assert gb.startswith("中共临猗县委, 临猗县人民政府. 关于2021年度法治政府建设工作的情况报告: 临字〔2022〕6号[R/OL]. ")
    bib = format_citation(view, rv.meta, BASE + view.id, "bibtex", ACCESSED)
    assert "author = {{中共临猗县委} and {临猗县人民政府}}" in bib
    ris = format_citation(view, rv.meta, BASE + view.id, "ris", ACCESSED)
    assert "AU  - 中共临猗县委\nAU  - 临猗县人民政府\n" in ris


def test_unknown_format_and_default_date(p18):
    view, meta = p18
    with pytest.raises(UnknownFormat) as exc:
        format_citation(view, meta, BASE, "apa", ACCESSED)
    assert exc.value.formats == FORMATS
    for fmt in FORMATS:
        assert fmt in str(exc.value)
    assert f"[{dt.date.today().isoformat()}]" in format_citation(view, meta, BASE + view.id, "gbt7714")
    assert set(all_citations(view, meta, BASE + view.id, ACCESSED)) == set(FORMATS)


# -- format names -----------------------------------------------------------------------------------
def test_canonical_format_of_names_and_aliases():
    for fmt in FORMATS:
        assert canonical_format(fmt) == fmt
        assert canonical_format(f"  {fmt.upper()} ") == fmt
    assert {alias: canonical_format(alias) for alias in ALIASES} == ALIASES
    assert canonical_format("BIB") == "bibtex" and canonical_format("GB/T7714") == "gbt7714"
    assert set(ALIASES.values()) <= set(FORMATS) and set(FORMAT_LABELS) == set(FORMATS)
    for bad in ("apa", "", " ", "bibtexx", "inline"):
        with pytest.raises(UnknownFormat) as exc:
            canonical_format(bad)
        assert exc.value.fmt == bad and exc.value.formats == FORMATS


def test_an_alias_formats_as_its_format(p18):
    view, meta = p18
    for alias, fmt in ALIASES.items():
        assert cite(view, meta, alias) == cite(view, meta, fmt)


def test_the_cite_api_finds_an_alias_without_formatting_every_format(engine, seed_index, monkeypatch):
    from webapp import create_app

    view, _ = paragraph_with(engine, R000, "一是推进行政复议体制改革")
    client = create_app(seed_index, engine=engine).test_client()
    calls = []
    real = formats.format_citation
    monkeypatch.setattr(formats, "format_citation", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    d = client.get(f"/api/cite/{view.id}", query_string={"format": " BIB "}).get_json()
    assert d["format"] == "bibtex" and d["citation"].startswith("@report{")
    assert calls == ["bibtex"]
    resp = client.get(f"/api/cite/{view.id}", query_string={"format": "md", "download": "1"})
    assert resp.mimetype == "text/markdown" and 'filename="citation.md"' in resp.headers["Content-Disposition"]
    assert client.get(f"/api/cite/{view.id}", query_string={"format": "apa"}).get_json()["error"]["code"] == \
        "unknown_format"


def test_inline_citation():
    assert inline_citation("某县报告", ["一、总体情况", "（一）复议"], 7, "http://h/p/x") == \
        "某县报告，一、总体情况 › （一）复议，第7段。http://h/p/x"
    assert inline_citation("某县报告", [], 1, "http://h/p/x") == "某县报告，第1段。http://h/p/x"
