"""Citation formats for real seed paragraphs: golden strings, missing metadata, machine formats."""
from __future__ import annotations

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


def test_gbt7714_golden(p18):
    view, meta = p18
    assert cite(view, meta, "gbt7714") == (
        "互助土族自治县人民政府. 互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告: 互政〔2022〕4号[R/OL]. "
        "青海省海东市互助土族自治县: 互助土族自治县人民政府, 2022-01-17: "
        "一、2021年度法治政府建设工作开展情况 › （五）加强权力约束，自觉接受监督, 第18段[2026-11-22]. "
        f"{BASE}{view.id}."
    )


def test_text_and_markdown_golden(p18):
    view, meta = p18
    title = "互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告"
    section = "一、2021年度法治政府建设工作开展情况 › （五）加强权力约束，自觉接受监督"
    assert cite(view, meta, "text") == (
        f"{title}（互政〔2022〕4号），互助土族自治县人民政府，2022-01-17，{section}，第18段。 "
        f"{BASE}{view.id}（2026-11-22访问）"
    )
    assert cite(view, meta, "markdown") == (
        f"[{title}（互政〔2022〕4号） 第18段](<{BASE}{view.id}>) — "
        f"互助土族自治县人民政府，2022-01-17，{section}（2026-11-22访问）"
    )


def test_bibtex_golden(p18):
    view, meta = p18
    key = view.id.replace("~", "-")
    assert cite(view, meta, "bibtex") == (
        f"@report{{{key},\n"
        "  title = {{互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告}},\n"
        "  author = {{互助土族自治县人民政府}},\n"
        "  institution = {互助土族自治县人民政府},\n"
        "  type = {报告},\n"
        "  number = {互政〔2022〕4号},\n"
        "  year = {2022},\n"
        "  date = {2022-01-17},\n"
        "  address = {青海省海东市互助土族自治县},\n"
        "  note = {一、2021年度法治政府建设工作开展情况 › （五）加强权力约束，自觉接受监督, 第18段},\n"
        f"  url = {{{BASE}{view.id}}},\n"
        "  urldate = {2026-11-22},\n"
        "  langid = {chinese}\n"
        "}\n"
    )


def test_ris_golden_and_tag_lines(p18):
    view, meta = p18
    ris = cite(view, meta, "ris")
    assert ris == (
        "TY  - RPRT\n"
        "TI  - 互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告\n"
        "AU  - 互助土族自治县人民政府\n"
        "PY  - 2022\n"
        "DA  - 2022/01/17\n"
        "CY  - 青海省海东市互助土族自治县\n"
        "PB  - 互助土族自治县人民政府\n"
        "SN  - 互政〔2022〕4号\n"
        "M3  - 报告\n"
        f"UR  - {BASE}{view.id}\n"
        "Y2  - 2026/11/22\n"
        "N1  - 一、2021年度法治政府建设工作开展情况 › （五）加强权力约束，自觉接受监督, 第18段\n"
        "LA  - zh-CN\n"
        f"ID  - {view.id}\n"
        "ER  - \n"
    )


def test_csl_json_golden(p18):
    view, meta = p18
    data = json.loads(cite(view, meta, "csl-json"))
    assert data == [{
        "id": view.id, "type": "report",
        "title": "互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告",
        "author": [{"literal": "互助土族自治县人民政府"}], "publisher": "互助土族自治县人民政府",
        "issued": {"date-parts": [[2022, 1, 17]]}, "number": "互政〔2022〕4号", "genre": "报告",
        "publisher-place": "青海省海东市互助土族自治县", "URL": BASE + view.id,
        "accessed": {"date-parts": [[2026, 11, 22]]},
        "note": "一、2021年度法治政府建设工作开展情况 › （五）加强权力约束，自觉接受监督, 第18段", "language": "zh-CN",
    }]


def test_seed_003_without_title_issuer_or_date(engine):
    rv = engine.report(R003)
    assert not rv.meta.get("title") and not rv.meta.get("issuers") and not rv.meta.get("date")
    view = next(p for p in rv.paragraphs if "东法委执法组" in p.text)
    display = view.report.display_title
    assert display == "乐都区2020年报告（无标题）"
    gb = cite(view, rv.meta, "gbt7714")
    assert gb.startswith(display + "[R/OL]. 青海省海东市乐都区: 一、工作开展情况 › ")
    assert gb.endswith(f", 第{view.ordinal}段[2026-11-22]. {BASE}{view.id}.")
    data = json.loads(cite(view, rv.meta, "csl-json"))[0]
    assert data["title"] == display and "author" not in data and "issued" not in data and "number" not in data
    ris = cite(view, rv.meta, "ris")
    assert "AU  -" not in ris and "PY  -" not in ris and "SN  -" not in ris
    bib = cite(view, rv.meta, "bibtex")
    assert "author" not in bib and "year" not in bib and "number" not in bib


def test_seed_001_without_issuer_or_date_and_no_url(engine):
    rv = engine.report(R001)
    view = rv.paragraphs[0]
    assert format_citation(view, rv.meta, "", "gbt7714", ACCESSED) == (
        "盐池县2021年度法治政府建设工作情况总结[R]. 宁夏回族自治区吴忠市盐池县: 第1段[2026-11-22]."
    )
    assert format_citation(view, rv.meta, "", "markdown", ACCESSED) == "盐池县2021年度法治政府建设工作情况总结 第1段"


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
        assert lines[0] == "TY  - RPRT" and lines[-1] == "ER  - "
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
            assert _balanced(out) and out.startswith("@report{") and out.rstrip().endswith("}")


def test_csl_json_required_keys(engine):
    for ref in engine.reports():
        rv = engine.report(ref.id)
        view = rv.paragraphs[-1]
        items = json.loads(format_citation(view, rv.meta, BASE + view.id, "csl-json", ACCESSED))
        assert isinstance(items, list) and len(items) == 1
        item = items[0]
        assert {"id", "type", "title", "URL", "accessed", "note"} <= set(item)
        assert item["type"] == "report" and item["title"]
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
