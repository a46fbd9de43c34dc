"""Citations a paragraph makes (《…》 titles, 文号), linking them to reports, the corpus-wide index."""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

import numpy as np
import pytest

from indexer.normalise import fold
from indexer.citations.cited import CitationIndex, citing_candidates, entry_key, entry_keys
from indexer.citations.references import Reference, ReferenceLinker, extract_references, scan_folded, title_key

from conftest import CORPUS
from conftest import paragraph_with

R000 = "000_0d8bbccb02c01f0a"
R001 = "001_623fe7deefd3bc57"
R002 = "002_6785f9f2da4cfcb2"
R003 = "003_08e8b4a7741f3a58"
R004 = "004_34069464076b4f45"


# -- oracles: plain restatements of what the engine does in one pass ---------------------------------
def corpus_reports(engine) -> list[tuple[str, dict]]:
    return [(r.rid, r.meta) for r in engine.store.reports]


@dataclass(frozen=True)
class LinkedReference:
    label: str
    report_id: str | None


def link_references(refs: list[Reference], reports) -> list[LinkedReference]:
    """Each reference with the report it names, or report_id None. ``reports``: [(rid, meta)]."""
    linker = ReferenceLinker(reports)
    out = []
    for r in refs:
        rids = linker.link(r.kind, r.normalized)
        out.append(LinkedReference(label=r.label, report_id=rids[0] if rids else None))
    return out


def paragraphs_citing(engine, value: str) -> np.ndarray:
    """Sorted exact-store rows of the paragraphs citing ``value`` (a title or 文号), by a scan."""
    store = engine.store
    wanted = set(entry_keys(value))
    folded = fold(value).replace(" ", "")
    if not folded:
        return np.empty(0, dtype=np.int64)
    # Preselect by the longest run of Chinese characters the citation must contain.
    runs = re.findall(r"[\u3400-\u9fff]+", folded.replace("《", "").replace("》", ""))
    anchor = max(runs, key=len) if runs else ""
    cand = store.docs_containing(anchor[:12]) if anchor else citing_candidates(store)
    keep = [i for i in cand.tolist()
            if any(entry_key(kind, key) in wanted for kind, _s, _e, key in scan_folded(store.folded_text(i)))]
    return np.array(keep, dtype=np.int64)


def refs_of(text: str) -> list[tuple[str, str, str]]:
    return [(r.kind, r.raw, r.normalized) for r in extract_references(text)]


# -- extraction on seed paragraphs ------------------------------------------------------------------
def test_seed_001_docno_with_spaces_and_title(engine):
    p = paragraph_with(engine, R001, "盐法发")
    refs = extract_references(p.text)
    got = [(r.kind, r.raw, r.normalized) for r in refs]
    assert ("title", "《县委全面依法治县委员会 2021 年工作要点》", "县委全面依法治县委员会2021年工作要点") in got
    assert ("docno", "盐法发〔2021〕1 号", "盐法发〔2021〕1号") in got
    p2 = paragraph_with(engine, R001, "盐市监处")
    assert ("docno", "盐市监处〔2021〕15 号", "盐市监处〔2021〕15号") in refs_of(p2.text)
    for r in refs:
        assert p.text[r.start:r.end] == r.raw
    # The docno comes right after its title, in text order.
    kinds = [r.kind for r in refs]
    i = kinds.index("docno")
    assert refs[i - 1].raw == "《县委全面依法治县委员会 2021 年工作要点》"


def test_seed_001_title_with_version_is_not_a_docno(engine):
    p = paragraph_with(engine, R001, "法治政府建设实施纲要（2021—2025 年）")
    got = refs_of(p.text)
    assert got[:2] == [
        ("title", "《法治政府建设实施纲要（2021—2025 年）》", "法治政府建设实施纲要(2021-2025)"),
        ("title", "《法治政府建设与责任落实督察工作规定》", "法治政府建设与责任落实督察工作规定"),
    ]
    assert not [r for r in got if r[0] == "docno"]


def test_version_variants_share_one_key():
    keys = {r.normalized for t in ("《法治政府建设实施纲要（2021—2025 年）》", "《法治政府建设实施纲要(2021—2025年)》",
                                    "《法治政府建设实施纲要(2021-2025年)》", "《法治政府建设实施纲要（2021—2025）》",
                                    "《法治政府建設實施綱要（２０２１－２０２５年）》")
            for r in extract_references(t)}
    assert keys == {"法治政府建设实施纲要(2021-2025)"}
    assert title_key("法治政府建设实施纲要（2021—2025 年）") == "法治政府建设实施纲要(2021-2025)"


def test_seed_003_nested_title_is_one_title(engine):
    p = paragraph_with(engine, R003, "关于批转")
    got = refs_of(p.text)
    assert got[0] == ("title", "《关于批转<关于进一步做好行政机关负责人出庭应诉的通知>的请示》",
                      "关于批转<关于进一步做好行政机关负责人出庭应诉的通知>的请示")
    assert ("title", "《请示》", "请示") in got
    assert not any("<关于进一步做好" == r[1][:8] for r in got)
    assert extract_references(p.text)[0].label == "关于批转<关于进一步做好行政机关负责人出庭应诉的通知>的请示"


def test_seed_003_multiple_inner_titles(engine):
    p = paragraph_with(engine, R003, "青海省行政执法公示办法")
    titles = [r for r in extract_references(p.text) if r.kind == "title"]
    assert titles[0].raw.startswith("《关于进一步贯彻落实<青海省行政执法公示办法><青海省行政执法全过程记录办法>")
    assert titles[0].raw.endswith("的通知》")
    assert all("青海省行政执法全过程记录办法" not in t.raw for t in titles[1:])


def test_seed_003_docno_variants(engine):
    p = paragraph_with(engine, R003, "东法委执法组")
    got = refs_of(p.text)
    assert ("title", "《关于开展行政执法监督检查的通知》", "关于开展行政执法监督检查的通知") in got
    assert ("docno", "东法委执法组【2020】3号", "东法委执法组〔2020〕3号") in got

    p = paragraph_with(engine, R003, "乐治委办")
    docnos = [(r[1], r[2]) for r in refs_of(p.text) if r[0] == "docno"]
    assert ("乐治委办(2020)9号", "乐治委办〔2020〕9号") in docnos
    # the lead-in verb and the date are not part of the issuer abbreviation
    assert all(not raw.startswith(("通过", "日")) for raw, _ in docnos)

    p = paragraph_with(engine, R003, "乐司〔2020〕76号")
    docnos = [(r[1], r[2]) for r in refs_of(p.text) if r[0] == "docno"]
    assert ("乐司〔2020〕76号", "乐司〔2020〕76号") in docnos


def test_seed_002_title_with_inner_version(engine):
    p = paragraph_with(engine, R002, "提升行政执法质量三年行动计划")
    got = refs_of(p.text)
    assert got[0] == ("title", "《<提升行政执法质量三年行动计划(2023-2025年)>实施方案》",
                      "<提升行政执法质量三年行动计划(2023-2025)>实施方案")
    assert not [r for r in got if r[0] == "docno"]


def test_adjacent_titles_are_two():
    got = refs_of("印发了《互助县 2021 年法治政府建设工作要点和任务台账》《互助县党政主要负责人履行法治建设情况纳入年终述职内容工作方案》等文件")
    assert [r[1] for r in got] == ["《互助县 2021 年法治政府建设工作要点和任务台账》",
                                   "《互助县党政主要负责人履行法治建设情况纳入年终述职内容工作方案》"]
    assert got[0][2] == "互助县2021年法治政府建设工作要点和任务台账"


@pytest.mark.parametrize("text,expected", [
    ("依据互政〔2022〕4号文件", "互政〔2022〕4号"),
    ("依据互政[2022]4号文件", "互政〔2022〕4号"),
    ("依据互政［2022］4号文件", "互政〔2022〕4号"),
    ("依据互政(2022)4号文件", "互政〔2022〕4号"),
    ("依据互政（2022）4 号文件", "互政〔2022〕4号"),
    ("依据互政【2022】4号文件", "互政〔2022〕4号"),
    ("依据互政 〔 2022 〕 4 号文件", "互政〔2022〕4号"),
    ("10月21日制发乐司〔2020〕76号《关于加强", "乐司〔2020〕76号"),
])
def test_docno_variants_fold_to_one_key(text, expected):
    docnos = [r for r in extract_references(text) if r.kind == "docno"]
    assert [r.normalized for r in docnos] == [expected]
    r = docnos[0]
    assert text[r.start:r.end] == r.raw


@pytest.mark.parametrize("text", [
    "《法治政府建设实施纲要（2021—2025 年）》", "2021年5月底前出台", "(2021-2025年)", "第3号", "〔2022〕4号",
    "全年受理行政复议案件 9 件", "编号为2021号",
])
def test_no_false_docnos(text):
    assert not [r for r in extract_references(text) if r.kind == "docno"]


def test_unclosed_bracket_does_not_swallow_titles():
    got = refs_of("见《未闭合的书名 以及《互助县法治建设督察通报》和《信访工作条例》")
    assert [r[1] for r in got] == ["《互助县法治建设督察通报》", "《信访工作条例》"]


def test_no_references():
    assert extract_references("") == []
    assert extract_references("全年发放宣传资料 16 万余份") == []


# -- linking ----------------------------------------------------------------------------------------
def test_docno_links_to_report(engine):
    reports = corpus_reports(engine)
    for text in ("根据互政〔2022〕4号", "根据互政[2022]4号", "根据互政（2022）4 号", "根据临字【2022】6号"):
        linked = link_references(extract_references(text), reports)
        assert len(linked) == 1
        assert linked[0].report_id == (R004 if "临字" in text else R000)
    linked = link_references(extract_references("根据乐司〔2020〕76号"), reports)
    assert linked[0].report_id is None


def test_title_links_conservatively(engine):
    reports = corpus_reports(engine)
    text = ("《互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告》"
            "《关于互助县2021年度法治政府建设工作开展情况的报告》"
            "《互助土族自治县人民政府办公室关于印发互助县2024年法治政府建设工作要点的通知》"
            "《盐池县 2021 年度法治政府建设工作情况总结》"
            "《某某县人民政府关于互助县2021年度法治政府建设工作开展情况的报告》"
            "《法治政府建设实施纲要（2021—2025 年）》")
    got = [(r.label, r.report_id) for r in link_references(extract_references(text), reports)]
    assert got == [
        ("互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告", R000),
        ("关于互助县2021年度法治政府建设工作开展情况的报告", R000),
        ("互助土族自治县人民政府办公室关于印发互助县2024年法治政府建设工作要点的通知", R002),
        ("盐池县2021年度法治政府建设工作情况总结", R001),
        ("某某县人民政府关于互助县2021年度法治政府建设工作开展情况的报告", None),  # another issuer
        ("法治政府建设实施纲要（2021—2025年）", None),  # not in this corpus
    ]


CITING = """海东市乐都区司法局关于学习借鉴互助县法治政府建设经验的报告

一、学习借鉴情况

认真学习了《互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告》（互政[2022]4号），对照检查本单位工作。

同时学习了《关于印發互助縣2024年法治政府建設工作要點的通知》（互政辦【2024】18號）和东法委执法组〔2020〕3号文件。
"""


@pytest.fixture(scope="module")
def citing_engine(tmp_path_factory):
    from indexer.search.engine import SearchEngine
    from indexer.indexing.update import update_index

    base = tmp_path_factory.mktemp("citing-index")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "005_citing.txt").write_text(CITING, encoding="utf-8")
    summary = update_index([corpus], base / "index")
    assert not summary.skipped
    eng = SearchEngine(base / "index")
    yield eng
    eng.close()


def test_cited_by_index_links_across_reports(citing_engine):
    ci = CitationIndex.of(citing_engine.store)
    citing_rid = next(r.rid for r in citing_engine.store.reports if r.source.endswith("005_citing.txt"))

    hz = ci.get("互政〔2022〕4号")
    assert hz is not None and hz.report_id == R000
    assert hz.reports == [citing_rid]  # report 000's own letterhead 文号 is not a citation of itself
    assert ci.get("互政(2022)4号") is hz

    title = ci.get("《互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告》")
    assert title is not None and title.report_id == R000 and title.reports == [citing_rid]

    # traditional characters and 【】 fold to report 002's 文号 and title
    assert ci.get("互政办〔2024〕18号").report_id == R002
    assert ci.get("关于印发互助县2024年法治政府建设工作要点的通知").report_id == R002

    cited_000 = {e.key for e in ci.cited_by(R000)}
    assert cited_000 == {"互政〔2022〕4号", "互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告"}
    assert all(e.pids and all(p.startswith(citing_rid) for p in e.pids) for e in ci.cited_by(R000))

    assert [e.label for e in ci.cites(citing_rid)] == [
        "互助土族自治县人民政府关于互助县2021年度法治政府建设工作开展情况的报告", "互政[2022]4号",
        "关于印發互助縣2024年法治政府建設工作要點的通知", "互政辦【2024】18號", "东法委执法组【2020】3号"]  # label: first citer (003)
    assert [e.report_id for e in ci.cites(citing_rid)][:4] == [R000, R000, R002, R002]

    # 东法委执法组 is cited by seed 003 and by the new report
    dfw = ci.get("东法委执法组【2020】3号")
    assert dfw.report_count == 2 and dfw.report_id is None and dfw.label == "东法委执法组【2020】3号"
    assert dfw.reports == [R003, citing_rid]


def test_cited_by_index_on_seeds(engine):
    ci = CitationIndex.of(engine.store)
    top = ci.most_cited(10)
    assert top[0].report_count >= top[-1].report_count
    # 《法治政府建设实施纲要》 is cited by 001 (…（2021—2025 年）) and 004 (…（2021—2025）): one document
    e = ci.get("法治政府建设实施纲要(2021-2025年)")
    assert e is not None and set(e.reports) == {R001, R004}
    assert e.label == "法治政府建设实施纲要（2021—2025年）"
    e = ci.get("青海省行政规范性文件制定和备案办法")
    assert set(e.reports) == {R000, R002, R003} and e.count == 3
    # every paragraph listed really contains the citation
    for entry in ci.entries.values():
        for pid in entry.pids:
            keys = {r.normalized for r in extract_references(engine.paragraph(pid).text) if r.kind == entry.kind}
            assert entry.key in keys
    # and no paragraph with a citation is missed (plain scan of every paragraph)
    scan = set()
    for ref in engine.reports():
        for p in engine.report(ref.id).paragraphs:
            for r in extract_references(p.text):
                linked = link_references([r], corpus_reports(engine))[0]
                if linked.report_id != ref.id:
                    scan.add(p.id)
    assert scan == set(ci.by_pid)
    d = ci.to_dict(5)
    assert d["documents"] == len(ci.entries) and len(d["most_cited"]) == 5


def test_paragraphs_citing(engine):
    idx = paragraphs_citing(engine, "法治政府建设实施纲要(2021—2025年)")
    assert {engine.store.pid(i).split("~")[0] for i in idx} == {R001, R004}
    idx = paragraphs_citing(engine, "东法委执法组[2020]3号")
    assert len(idx) == 1 and "东法委执法组" in engine.paragraph(engine.store.pid(idx[0])).text
    assert paragraphs_citing(engine, "不存在的文件").size == 0


def test_reference_to_dict():
    r = extract_references("见《信访工作条例》")[0]
    assert isinstance(r, Reference)
    assert r.to_dict() == {"kind": "title", "raw": "《信访工作条例》", "normalized": "信访工作条例", "start": 1,
                           "end": 9, "label": "信访工作条例"}
    assert fold(r.raw) == r.raw


def test_most_cited_svg(engine):
    import xml.etree.ElementTree as ET

    from indexer.citations.cited import most_cited_svg

    ci = CitationIndex.of(engine.store)
    top = ci.most_cited(10)
    svg = most_cited_svg(top, href=lambda e: f"/?q=cites:{e.key}&x=<1>")
    root = ET.fromstring(svg)  # well-formed XML, labels and links escaped
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}a")) == 10
    assert len(root.iter(f"{ns}rect").__next__().attrib) >= 4
    assert "青海省行政规范性文件制定和备案办法" in svg
    assert ET.fromstring(most_cited_svg([])) is not None
