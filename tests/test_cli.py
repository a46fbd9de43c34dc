"""The command line, run as a user runs it: a real subprocess on the real corpus."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, SEEDS


def run(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env=env)


def test_parse_json_for_every_seed_and_exit_status(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    proc = run("parse", "--json", *map(str, SEEDS), str(bad))
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [d["ok"] for d in lines] == [True] * len(SEEDS) + [False]
    first = lines[0]
    assert first["meta"]["doc_number"] == "互政〔2022〕4号"
    assert set(first["paragraphs"][0]) == {"ordinal", "kind", "section", "text"}
    assert lines[-1]["source"] == str(bad) and "empty" in lines[-1]["error"]
    ok = run("parse", str(SEEDS[1]))
    assert ok.returncode == 0 and "盐池县2021年度法治政府建设工作情况总结" in ok.stdout


def test_parse_usage_error():
    assert run("parse").returncode == 2


def test_search_json_shape_and_plain_output(seed_index):
    proc = run("search", "出庭应诉率", "--index", str(seed_index), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"query", "total", "reports", "hits"} <= set(data)
    assert data["total"] == 4 and data["reports"] == 4
    hit = data["hits"][0]
    assert {"id", "text", "section", "highlights", "report"} <= set(hit)
    assert set(hit["report"]) >= {"id", "title", "region", "year", "source"}
    assert hit["report"]["source"].endswith(".txt") and "/" not in hit["report"]["source"]
    for s, e in hit["highlights"]:
        assert hit["text"][s:e] == "出庭应诉率"
    plain = run("search", "出庭应诉率", "--index", str(seed_index))
    assert "\x1b[" not in plain.stdout  # no colour codes when piped
    assert "【出庭应诉率】" in plain.stdout and "4 paragraphs in 4 reports" in plain.stdout


def test_search_bad_query_is_a_usage_error_not_a_traceback(seed_index):
    proc = run("search", '"unclosed', "--index", str(seed_index))
    assert proc.returncode == 2
    assert "unclosed quotation mark" in proc.stderr and "Traceback" not in proc.stderr
    as_json = run("search", "foo:bar", "--index", str(seed_index), "--json")
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["error"]["message"].startswith("unknown field")


def test_show_paragraph_in_context(seed_index):
    hit = json.loads(run("search", "出庭应诉率为", "--index", str(seed_index), "--json").stdout)["hits"][0]
    proc = run("show", hit["id"], "--index", str(seed_index))
    assert proc.returncode == 0 and "> ¶" in proc.stdout and "出庭应诉率为" in proc.stdout
    missing = run("show", "nope~x", "--index", str(seed_index))
    assert missing.returncode == 1 and "no paragraph" in missing.stderr


def test_missing_index_is_explained(tmp_path):
    proc = run("search", "法治", "--index", str(tmp_path / "none"))
    assert proc.returncode == 1 and "run `policy-search index` first" in proc.stderr


def test_index_from_environment_and_config_file(tmp_path, seed_index):
    import os

    env = dict(os.environ, POLICY_SEARCH_INDEX=str(seed_index))
    assert json.loads(run("search", "出庭应诉率", "--json", env=env).stdout)["total"] == 4
    cfg = tmp_path / "policy-search.toml"
    cfg.write_text(f'index = "{seed_index}"\n', encoding="utf-8")
    assert json.loads(run("search", "出庭应诉率", "--json", cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=str(ROOT))).stdout)["total"] == 4
    cfg.write_text('colour = "red"\n', encoding="utf-8")
    bad = run("search", "x", cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert bad.returncode == 2 and "unknown setting" in bad.stderr
