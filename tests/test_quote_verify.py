"""Quotes verified against their source (issue 14): 完全一致, 有出入 with every difference and the
changed facts named, 未找到; on the seed corpus, the command line and the web page."""
from __future__ import annotations

import subprocess
import sys

import pytest

from indexer.citations.quote import THRESHOLD, find_quote
from indexer.citations.verify import DIFFERS, EXACT, verify

from conftest import ROOT

R000 = "000_0d8bbccb02c01f0a"


def test_a_changed_number_is_one_change_and_a_named_fact():
    v = verify("行政机关负责人出庭应诉率为 98%", "行政机关负责人出庭应诉率为89%")
    assert v.verdict == DIFFERS and v.summary() == "引文与原文不符：数字：98% ≠ 89%"
    assert [(e.kind, e.quote, e.source) for e in v.edits] == [("changed", "98", "89")]
    assert v.segments == [("same", "行政机关负责人出庭应诉率为"), ("del", "89"), ("ins", "98"), ("same", "%")]
    v = verify("全年办理行政应诉案件250件", "全年办理行政应诉案件 25 件")
    assert v.summary() == "引文与原文不符：数字：250 ≠ 25"


@pytest.mark.parametrize("quote, source, message", [
    ("根据互政〔2022〕4号文件", "根据互政〔2021〕4号文件", "文号：互政〔2022〕4号 ≠ 互政〔2021〕4号"),
    ("2021年5月召开会议", "2021年6月召开会议", "日期：2021年5月 ≠ 2021年6月"),
    ("互助县推进法治政府建设", "乐都区推进法治政府建设", "地名：互助县 ≠ 乐都区"),
    ("共办理行政复议案件12件", "共办理行政复议案件", "数字：引文多出 12，原文没有"),
])
def test_each_kind_of_fact(quote, source, message):
    v = verify(quote, source, places=["互助县", "乐都区"])
    assert v.verdict == DIFFERS and [f.message() for f in v.facts] == [message]


def test_what_folding_evens_out_is_no_difference_and_words_are():
    for quote in ("出庭应诉率为８９％", "出庭應訴率為89%", "出庭应诉率为 89 %", "出庭应诉率为89%。", "出庭，应诉率为89%"):
        assert verify(quote, "出庭应诉率为89%").verdict == EXACT, quote
    v = verify("召开会议研究", "召开专题会议研究")
    assert v.verdict == DIFFERS and not v.facts and v.summary() == "有出入：1 处文字不同"
    assert [(e.kind, e.source) for e in v.edits] == [("missing", "专题")]


def test_the_issues_misquotes_on_the_seed_corpus(engine):
    first = find_quote(engine.store, "行政机关负责人出庭应诉率为 98%")[0]
    assert first.report_id == R000 and first.ordinal == 18
    assert first.matched_text.endswith("89%") and first.verification["verdict"] == "有出入"
    assert [f["message"] for f in first.verification["facts"]] == ["数字：98% ≠ 89%"]
    first = find_quote(engine.store, "全年办理行政应诉案件 250 件")[0]
    assert first.report_id == R000 and [f["message"] for f in first.verification["facts"]] == ["数字：250 ≠ 25"]
    exact = find_quote(engine.store, "全年办理行政应诉案件 25 件")[0]
    assert exact.verification["verdict"] == "完全一致" and exact.verification["segments"] == [
        {"kind": "same", "text": exact.matched_text}]
    assert find_quote(engine.store, "量子计算") == []  # a 50% match on 计算 is no source
    assert find_quote(engine.store, "量子计算机利用量子叠加原理进行并行计算") == []


def test_a_quote_across_a_heading_is_matched_across_the_paragraphs(engine):
    paragraphs = engine.report(R000).paragraphs
    a, heading, b = paragraphs[9], paragraphs[10], paragraphs[11]
    assert (a.kind, heading.kind, b.kind) == ("body", "heading", "body")
    quote = a.text[-25:] + heading.text + b.text[:25]
    match = find_quote(engine.store, quote)[0]
    assert match.pids == [a.id, heading.id, b.id] and match.score == 1.0
    assert match.verification["verdict"] == "完全一致"
    assert match.matched_text == "\n".join([a.text[-25:], heading.text, b.text[:25]])


def test_the_threshold_is_the_benchmarks():
    """bench/quotes.py chose it: no quote from outside the corpus reaches it (bench/README.md)."""
    text = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    assert f"| {THRESHOLD:.2f} **(chosen)** |" in text


def _cli(*args, stdin: str | None = None, index=None):
    return subprocess.run([sys.executable, "-m", "indexer.cli", "cite", "--index", str(index), *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=120, env={"NO_COLOR": "1", "PATH": ""})


def test_cite_quote_says_the_verdict_and_shows_the_difference(seed_index):
    run = _cli("--quote", "行政机关负责人出庭应诉率为 98%", "-n", "1", index=seed_index)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("有出入  87%  互助土族自治县人民政府关于")
    assert lines[1] == "  引文与原文不符：数字：98% ≠ 89%"
    assert lines[2] == "  行政机关负责人出庭应诉率为 [-89-]{+98+}%"
    assert "links point at the local server" in run.stderr
    run = _cli("--quote", "-", "-n", "1", stdin="严格落实行政负责人出庭制度", index=seed_index)
    assert run.returncode == 0 and run.stdout.strip().splitlines()[0].startswith("完全一致  100%")
    run = _cli("--quote", "量子计算", index=seed_index)
    assert run.returncode == 1 and run.stdout.startswith("未找到")
    run = _cli("--quote", "量子计算", "--json", index=seed_index)
    assert run.returncode == 1 and '"verdict": "未找到"' in run.stdout


def test_quote_page_marks_the_differences(seed_index):
    from webapp import create_app

    client = create_app(seed_index).test_client()
    page = client.get("/quote", query_string={"q": "行政机关负责人出庭应诉率为 98%"}).get_data(as_text=True)
    assert '<span class="verdict verdict-differs">有出入</span>' in page
    assert "<li>数字：98% ≠ 89%</li>" in page
    assert '<blockquote class="source-text">行政机关负责人出庭应诉率为 <del>89</del><ins>98</ins>%</blockquote>' in page
    d = client.get("/api/quote", query_string={"q": "行政机关负责人出庭应诉率为 98%"}).get_json()
    assert d["verdict"] == "有出入" and d["matches"][0]["verification"]["facts"][0]["quote"] == "98%"
    hostile = "<script>alert(1)</script>出庭应诉率为 89%"
    page = client.get("/quote", query_string={"q": hostile}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    page = client.get("/quote", query_string={"q": "量子计算"}).get_data(as_text=True)
    assert "<strong>未找到</strong>" in page
