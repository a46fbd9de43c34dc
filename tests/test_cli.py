"""The command line, run as a user runs it: a real subprocess on the real corpus."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import CORPUS, ROOT, SEEDS


def run(*args, cwd=ROOT, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=env)


def test_parse_json_for_every_seed_and_exit_status(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    proc = run("parse", "--json", *map(str, SEEDS), str(bad))
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [d["ok"] for d in lines] == [True] * len(SEEDS) + [False]
    first = lines[0]
    assert first["meta"]["doc_number"] == "互政〔2022〕4号"
    assert set(first["paragraphs"][0]) == {"ordinal", "kind", "section", "text", "block"}
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
    assert "出庭应诉率" in plain.stdout and "【" not in plain.stdout and "4 paragraphs in 4 reports" in plain.stdout
    marked = run("search", "出庭应诉率", "--index", str(seed_index), "--marks")
    assert marked.stdout.count("【出庭应诉率】") >= 4 and "\x1b[" not in marked.stdout


def test_search_bad_query_is_a_usage_error_not_a_traceback(seed_index):
    proc = run("search", '"unclosed', "--index", str(seed_index))
    assert proc.returncode == 2
    assert "引号没有闭合" in proc.stderr and "Traceback" not in proc.stderr
    as_json = run("search", "foo:bar", "--index", str(seed_index), "--json")
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["error"]["message"].startswith("未知的字段")


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


# -- hostile arguments: every verb ends with a message and exit 2 (usage) or 1 (runtime) ------------

NOT_UTF8 = os.fsdecode(b"\xff\xfe")  # what Python makes of argv bytes that are not UTF-8
ENCODED_SURROGATE = os.fsdecode(b"\xed\xa0\x80")  # U+D800 written as UTF-8 bytes: not UTF-8 either
LONG = "法" * 40_000  # 120 KB: one argument may have at most 128 KB


def clean_exit(proc, status: int) -> str:
    """stderr of a run that ended as it should: the given status, a message, no traceback."""
    assert proc.returncode == status, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() or proc.stdout.strip()
    return proc.stderr


def test_search_with_bytes_that_are_not_utf8_is_a_usage_error(seed_index):
    for query in (NOT_UTF8, "出庭" + ENCODED_SURROGATE):
        for extra in ((), ("--json",)):
            err = clean_exit(run("search", query, "--index", str(seed_index), *extra), 2)
            assert "not UTF-8" in err and "QUERY" in err
    assert "\\xff\\xfe" in run("search", NOT_UTF8, "--index", str(seed_index)).stderr  # shown escaped


def test_a_lone_surrogate_is_not_text():
    """A lone surrogate cannot come from a Linux command line, only from Python callers."""
    from click.testing import CliRunner

    from indexer.cli import main

    result = CliRunner().invoke(main, ["search", "出庭\ud800"])
    assert result.exit_code == 2 and "lone surrogate" in result.output and "\\ud800" in result.output


def test_text_arguments_of_every_verb_must_be_utf8(seed_index, tmp_path):
    ix = ("--index", str(seed_index))
    cases = [
        ("show", NOT_UTF8, *ix),
        ("cite", NOT_UTF8, *ix),
        ("cite", "--quote", NOT_UTF8, *ix),
        ("cite", "-f", NOT_UTF8, "x~y", *ix),
        ("cite", "--base-url", NOT_UTF8, "x~y", *ix),
        ("serve", "--host", NOT_UTF8, "--port", "0", *ix, "--corpus", str(tmp_path / "none")),
        ("serve", "--base-url", NOT_UTF8, "--port", "0", *ix, "--corpus", str(tmp_path / "none")),
    ]
    for args in cases:
        err = clean_exit(run(*args), 2)
        assert "not UTF-8" in err, args


def test_quote_from_stdin_that_is_not_utf8_or_has_nul(seed_index):
    for data, what in ((b"\xe5\x87\xba\xff\xfe", "not UTF-8"), ("出庭应诉率\0为".encode(), "NUL")):
        proc = subprocess.run([sys.executable, "-m", "indexer.cli", "cite", "--quote", "-", "--index", str(seed_index)],
                              input=data, capture_output=True, cwd=ROOT, timeout=300)
        assert proc.returncode == 2 and b"Traceback" not in proc.stderr
        assert what.encode() in proc.stderr and b"standard input" in proc.stderr


def test_nul_in_a_configured_path_is_a_usage_error(tmp_path):
    import os as _os

    cfg = tmp_path / "policy-search.toml"
    cfg.write_text('index = "/tmp/a\\u0000b"\n', encoding="utf-8")
    env = dict(_os.environ, POLICY_SEARCH_CONFIG=str(cfg))
    for args in (("search", "法治"), ("index",), ("check",), ("show", "x~y")):
        err = clean_exit(run(*args, env=env), 2)
        assert "NUL" in err, args


def test_very_long_arguments(seed_index):
    ix = ("--index", str(seed_index))
    err = clean_exit(run("search", LONG, *ix), 2)
    assert "检索式太长" in err and "cite --quote" in err and len(err) < 2_000  # the query is not echoed whole
    err = clean_exit(run("show", LONG, *ix), 1)
    assert "no paragraph with id" in err and "40,002 characters" in err and len(err) < 2_000
    clean_exit(run("cite", LONG, *ix), 1)
    clean_exit(run("cite", "--quote", LONG[:10_000], *ix), 1)  # not found in this corpus
    long_path = "/tmp/" + "y" * 5_000
    assert "File name too long" in clean_exit(run("parse", long_path + ".txt"), 1)
    for verb in (("search", "x"), ("check",), ("index", str(CORPUS))):
        clean_exit(run(*verb, "--index", long_path), 2)


def test_nonexistent_paths(tmp_path):
    missing = tmp_path / "missing"
    assert "not found" in clean_exit(run("parse", str(missing / "x.txt")), 1)
    assert "does not exist" in clean_exit(run("index", str(missing), "--index", str(tmp_path / "ix")), 2)
    assert not (tmp_path / "ix").exists()  # nothing was created for a corpus that is not there
    assert "run `policy-search index` first" in clean_exit(run("search", "法治", "--index", str(missing)), 1)
    assert "no index in" in clean_exit(run("check", "--index", str(missing)), 1)
    err = clean_exit(run("serve", "--index", str(missing), "--corpus", str(missing), "--port", "0", timeout=120), 1)
    assert "no index in" in err


def test_a_file_where_a_directory_is_expected(tmp_path):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("不是索引", encoding="utf-8")
    for args in (("search", "法治"), ("show", "x~y"), ("cite", "x~y"), ("check",), ("index", str(CORPUS)),
                 ("serve", "--port", "0", "--corpus", str(tmp_path / "none"))):
        err = clean_exit(run(*args, "--index", str(a_file), timeout=120), 2)
        assert "is a file, not a directory" in err, args
    assert "is a directory" in clean_exit(run("parse", str(tmp_path)), 1)
    clean_exit(run("index", str(CORPUS), "--index", str(tmp_path / "ix"), "--userdict", str(tmp_path)), 2)


def test_an_index_that_cannot_be_written(tmp_path):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x", encoding="utf-8")
    # Root may write anywhere a directory can be made: a path through a file, and one in /proc, cannot.
    for where in (a_file / "index", Path("/proc/policy-search-index")):
        err = clean_exit(run("index", str(CORPUS), "--index", str(where)), 1)
        assert str(where) in err and "cannot write" in err
        assert not where.exists()
        # serve builds the index first when there is none
        err = clean_exit(run("serve", "--index", str(where), "--corpus", str(CORPUS), "--port", "0", timeout=120), 1)
        assert str(where) in err and "cannot write" in err


def test_serve_on_a_port_that_is_taken(seed_index, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        err = clean_exit(run("serve", "--port", str(port), "--index", str(seed_index), "--corpus",
                             str(tmp_path / "none"), timeout=120), 1)
    assert f"127.0.0.1:{port}" in err and "in use" in err


# -- names and texts that would act on a terminal are shown escaped -------------------------------

def odd_corpus(tmp_path, empty: int) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed, name in zip(SEEDS, (b"a\nb.txt", b"\xff\xfe.txt", b"e\x1b[31mvil.txt")):
        (corpus / os.fsdecode(name)).write_bytes(seed.read_bytes())
    (corpus / os.fsdecode(b"\x1b]0;pwned\x07.txt")).write_bytes(b"")
    for i in range(empty):
        (corpus / f"empty{i:02}.txt").write_bytes(b"")
    return corpus


def test_index_groups_skipped_files_by_reason(tmp_path):
    corpus = odd_corpus(tmp_path, empty=20)
    proc = run("index", str(corpus), "--index", str(tmp_path / "ix"))
    err = clean_exit(proc, 1)
    lines = [line for line in err.splitlines() if "skipped" in line]
    assert len(lines) == 1, err  # 21 empty files: one line, not 21
    assert lines[0].startswith("  skipped 21 files: file is empty: ") and lines[0].endswith("… and 16 more")
    assert "\x1b" not in err and "\x07" not in err and "\\x1b]0;pwned\\x07.txt" in err
    assert "added 3" in proc.stdout and "skipped 21" in proc.stdout
    # --json still lists every skipped file, with its reason.
    again = run("index", str(corpus), "--index", str(tmp_path / "ix2"), "--json")
    data = json.loads(again.stdout)
    assert len(data["skipped"]) == 21 and {s["reason"] for s in data["skipped"]} == {"file is empty"}
    assert len(data["added"]) == 3


def test_skipped_lines_name_up_to_five_files_per_reason():
    from indexer.terminal import skipped_lines

    skipped = [(f"f{i}.txt", "[Errno 28] No space left on device") for i in range(996)]
    skipped += [("a.pdf", "not a PDF"), ("b\nc.txt", "file is empty")]
    lines = skipped_lines(skipped)
    assert lines == ["  skipped 996 files: [Errno 28] No space left on device: "
                     "f0.txt, f1.txt, f2.txt, f3.txt, f4.txt … and 991 more",
                     "  skipped a.pdf: not a PDF",
                     "  skipped b\\nc.txt: file is empty"]


def test_parse_shows_odd_names_escaped_and_json_keeps_them(tmp_path):
    corpus = odd_corpus(tmp_path, empty=0)
    odd = [p for p in corpus.iterdir() if p.stat().st_size]
    proc = run("parse", *map(str, odd))
    assert proc.returncode == 0, proc.stderr
    heads = [line for line in proc.stdout.splitlines() if line.startswith("== ")]
    assert len(heads) == 3 and "\x1b" not in proc.stdout
    assert any(h.endswith("a\\nb.txt") for h in heads) and any(h.endswith("\\xff\\xfe.txt") for h in heads)
    as_json = run("parse", "--json", *map(str, odd))
    sources = {json.loads(line)["source"] for line in as_json.stdout.splitlines()}
    assert sources == {str(p) for p in odd}  # exactly the names given, bytes that are not UTF-8 included


def test_search_echoes_a_query_with_control_characters_escaped(seed_index):
    proc = run("search", "\x1b[2J出庭应诉率", "--index", str(seed_index))
    assert proc.returncode == 1 and "\x1b" not in proc.stdout and "\\x1b" in proc.stdout  # found nothing, as grep


def test_an_unforeseen_error_is_a_message_not_a_traceback(seed_index, monkeypatch):
    """The last line of defence: an error no verb foresaw (here: one the engine raises on opening,
    as Whoosh's EOFError did, which click turned into a bare "Aborted!") is named, exit 1."""
    from click.testing import CliRunner

    from indexer.search import engine as search
    from indexer.cli import main

    for error in (EOFError(), RuntimeError("boom \x1b[2J")):
        def broken(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(search.SearchEngine, "from_settings", broken)
        result = CliRunner().invoke(main, ["search", "法治", "--index", str(seed_index)])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert f"unexpected error: {type(error).__name__}" in result.output and "Aborted!" not in result.output
        assert "\x1b" not in result.output


def test_parse_and_index_apply_the_read_limits_of_the_settings(tmp_path):
    env = dict(os.environ, POLICY_SEARCH_MAX_REPORT_PARAGRAPHS="3")
    err = clean_exit(run("parse", str(SEEDS[0]), env=env), 1)
    assert "max_report_paragraphs" in err
    env = dict(os.environ, POLICY_SEARCH_MAX_FILE_MB="0")
    proc = run("index", str(CORPUS), "--index", str(tmp_path / "ix"), "--json", env=env)
    assert proc.returncode == 1
    skipped = json.loads(proc.stdout)["skipped"]
    assert len(skipped) == len(SEEDS) and all("max_file_mb" in s["reason"] for s in skipped)


def test_search_colour_marks_and_exit_status_as_grep(seed_index):
    ix = ("--index", str(seed_index))
    always = run("search", "出庭应诉率", *ix, "--color", "always")
    assert always.returncode == 0 and "\x1b[" in always.stdout and "出庭应诉率\x1b[0m" in always.stdout
    never = run("search", "出庭应诉率", *ix, "--color", "never", "--marks")
    assert "\x1b[" not in never.stdout and "【出庭应诉率】" in never.stdout
    env = {**os.environ, "NO_COLOR": "1"}
    assert "\x1b[" not in run("search", "出庭应诉率", *ix, env=env).stdout
    none = run("search", "不在语料里的短语", *ix)
    assert none.returncode == 1 and "0 paragraphs in 0 reports" in none.stdout and not none.stderr
    as_json = run("search", "不在语料里的短语", *ix, "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["total"] == 0
    past = run("search", "出庭应诉率", *ix, "--page", "9")
    assert past.returncode == 2 and "page 9 is past the last page (1 page of 10 hits)" in past.stderr, past.stderr


def test_search_counts_are_singular_for_one(seed_index):
    ix = ("--index", str(seed_index))
    data = json.loads(run("search", "出庭应诉率为", *ix, "--json").stdout)
    assert (data["total"], data["reports"]) == (1, 1)
    assert "1 paragraph in 1 report for 出庭应诉率为" in run("search", "出庭应诉率为", *ix).stdout
    data = json.loads(run("search", "盐池县", *ix, "--json").stdout)
    assert data["total"] > 1 and data["reports"] == 1
    assert f"{data['total']} paragraphs in 1 report for" in run("search", "盐池县", *ix).stdout
