"""The benchmark's references (bench/run.py, issue 12) agree with the engine on the seed corpus:
the SQLite FTS5 trigram translation of a query and the ripgrep pattern find the same source
paragraphs as the engine and the plain substring scan (match.py's same-paragraph semantics)."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["法治政府建设", "行政复议 法律顾问", "行政复议 OR 行政诉讼", "律师事务所 | 公证", "行政复议 -诉讼",
           "法治政府建设 -2021年", '"双随机、一公开"', "行政復議", '"２０２１ 年"', "2021年", "公证", "复议 -诉讼",
           "执法 OR 行政复议", "量子计算机"]


@pytest.fixture(scope="module")
def bench_run():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def texts(engine, bench_run):
    texts = bench_run.source_texts(engine.store)
    assert len(texts) < len(engine.store)  # the seeds have run-in headings: fewer source paragraphs than chunks
    return texts


def test_fts5_translation(bench_run, engine):
    like = "body LIKE ? ESCAPE '\\'"
    where, params = bench_run.fts5_where(engine.parse("行政复议 OR 行政诉讼 公证 -诉讼 -复议"))
    assert where == f"para MATCH ? AND ({like}) AND NOT {like} AND NOT {like}"
    assert params == ['("行政复议" OR "行政诉讼")', "%公证%", "%诉讼%", "%复议%"]
    where, params = bench_run.fts5_where(engine.parse("法治政府建设 -2021年 -公开标准"))
    assert where == "para MATCH ?"
    assert params == ['((("法治政府建设")) NOT "2021年") NOT "公开标准"']
    assert bench_run._fts5_phrase('a"b') == '"a""b"'
    assert bench_run._like_pattern("5%_a") == "%5\\%\\_a%"


def test_fts5_totals_equal_the_engine(bench_run, engine, texts, tmp_path):
    if not bench_run.fts5_trigram_available():
        pytest.skip("SQLite without the FTS5 trigram tokenizer")
    con, _ = bench_run.fts5_build(texts, tmp_path / "fts5.sqlite")
    try:
        for q in QUERIES + [q for _, q in bench_run.load_queries(ROOT / "bench" / "queries.txt")]:
            parsed = engine.parse(q)
            want = sorted(bench_run.engine_groups(engine, parsed))
            assert sorted(bench_run.scan_matches(texts, parsed)) == want, q
            total, rows = bench_run.fts5_search(con, parsed)
            assert total == len(want), q
            assert [i for i, _ in rows] == want[:10], q
            assert sorted(bench_run.fts5_matches(con, parsed)) == want, q
    finally:
        con.close()


def test_ripgrep_lines_equal_the_engine(bench_run, engine, texts, tmp_path):
    lines = tmp_path / "paragraphs.txt"
    lines.write_text("".join(x + "\n" for x in texts), encoding="utf-8")
    rg = shutil.which("rg")
    for q in QUERIES:
        parsed = engine.parse(q)
        want = bench_run.engine_groups(engine, parsed)
        args = bench_run.rg_args(parsed)
        assert bench_run.rg_count(rg, args, [str(lines)]) == len(want), q
        assert bench_run.rg_lines(rg, args, str(lines)) == want, q
