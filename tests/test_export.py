"""Every hit out (issue 13): `search --all --format …` on the command line and /api/search.<fmt> on
the web, in every format, against the engine's own count and order, on the seed corpus and on a
corpus whose paragraphs start like spreadsheet formulas."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from conftest import ROOT
from indexer.search.export import COLUMNS

KEYS = [k for k, _ in COLUMNS]
LABELS = [label for _, label in COLUMNS]
EVIL = '=HYPERLINK("http://127.0.0.1:9/x","点我")出庭应诉率不是公式。'


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def _xlsx_rows(path_or_bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    book = load_workbook(source, read_only=True)
    rows = [[("" if c.value is None else str(c.value)) for c in row] for row in book.active.iter_rows()]
    book.close()
    return rows


@pytest.fixture(scope="module")
def formula_index(tmp_path_factory):
    """A report with paragraphs that begin like formulas (=, +, -, @)."""
    from indexer.indexing.update import update_index

    base = tmp_path_factory.mktemp("formula")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "formula.txt").write_text(
        "某某县2021年法治政府建设工作情况报告\n\n一、主要工作\n\n" + EVIL + "\n\n"
        "+1 出庭应诉率提高。\n\n-2 出庭应诉率下降。\n\n@出庭应诉率 名单。\n", encoding="utf-8")
    update_index([corpus], base / "index")
    return base / "index"


def test_every_format_holds_every_hit_in_the_engines_order(seed_index, engine, tmp_path):
    ix = ("--index", str(seed_index), "--base-url", "https://example.org/ps")
    want = engine.search("法治", per_page=100, sort="report")
    n, hits = engine.all_hits("法治", sort="report")
    ids = [h.id for h in hits]
    assert n == want.total == len(ids) > 10 and ids[:100] == [h.id for h in want.hits]
    lines = run("search", "法治", *ix, "--all", "--sort", "report", "-f", "jsonl")
    assert lines.returncode == 0, lines.stderr
    rows = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [r["id"] for r in rows] == ids and all(list(r) == KEYS for r in rows)
    assert all(r["permalink"] == f"https://example.org/ps/p/{r['id']}" and "法治" in r["text"] for r in rows)
    assert {r["region"] for r in rows} >= {"互助土族自治县", "盐池县"} and all(r["title"] and r["year"] for r in rows)
    assert any(r["doc_number"] == "互政〔2022〕4号" and r["issuer"] for r in rows)
    assert json.loads(run("search", "法治", *ix, "--all", "--sort", "report", "-f", "json").stdout) == rows
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        out = run("search", "法治", *ix, "--all", "--sort", "report", "-f", fmt).stdout
        table = list(csv.reader(io.StringIO(out), delimiter=delimiter))
        assert table[0] == LABELS and len(table) == n + 1
        assert [dict(zip(KEYS, t)) for t in table[1:]] == [{k: "" if v is None else str(v) for k, v in r.items()}
                                                           for r in rows]
    book = tmp_path / "hits.xlsx"
    made = run("search", "法治", *ix, "--all", "--sort", "report", "-f", "xlsx", "-o", str(book))
    assert made.returncode == 0 and f"wrote {n} hits" in made.stderr and not book.with_name("hits.xlsx.partial").exists()
    sheet = _xlsx_rows(book)
    assert sheet[0] == LABELS and [dict(zip(KEYS, r)) for r in sheet[1:]] == \
        [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    written = tmp_path / "hits.csv"
    assert run("search", "法治", *ix, "--all", "--sort", "report", "-f", "csv", "-o", str(written)).returncode == 0
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads the file as UTF-8
    page_two = [json.loads(line)["id"] for line in
                run("search", "法治", *ix, "-f", "jsonl", "--page", "2", "--limit", "5", "--sort", "report").stdout.splitlines()]
    assert page_two == ids[5:10]  # without --all: the page


def test_all_as_text_and_the_exit_statuses(seed_index, engine):
    ix = ("--index", str(seed_index))
    total = engine.search("出庭应诉率").total
    text = run("search", "出庭应诉率", *ix, "--all")
    assert text.returncode == 0 and text.stdout.count("\n  ¶") == total and f"{total} paragraphs" in text.stdout
    none = run("search", "不在语料里的短语", *ix, "--all", "-f", "csv")
    assert none.returncode == 1 and list(csv.reader(io.StringIO(none.stdout))) == [LABELS]
    for args, says in ((["-f", "xlsx"], "needs --output"), (["-f", "csv", "--json"], "two outputs"),
                       (["--all", "--by-report"], "--by-report"), (["-o", "x.csv"], "give --format")):
        bad = run("search", "出庭应诉率", *ix, *args)
        assert bad.returncode == 2 and says in bad.stderr and "Traceback" not in bad.stderr, (args, bad.stderr)
    bad = run("search", '"出庭', *ix, "--all", "-f", "csv")
    assert bad.returncode == 2 and "引号没有闭合" in bad.stderr


def test_an_export_to_a_file_that_cannot_be_written_names_it_and_leaves_nothing(seed_index, tmp_path):
    target = tmp_path / "missing-folder" / "hits.csv"
    proc = run("search", "法治", "--index", str(seed_index), "--all", "-f", "csv", "-o", str(target))
    assert proc.returncode == 1 and "cannot write the export" in proc.stderr and "missing-folder" in proc.stderr
    assert not target.parent.exists()
    existing = tmp_path / "old.csv"
    existing.write_text("kept", encoding="utf-8")
    (tmp_path / "old.csv.partial").mkdir()  # the partial file cannot be made: the old file stays as it was
    proc = run("search", "法治", "--index", str(seed_index), "--all", "-f", "csv", "-o", str(existing))
    assert proc.returncode == 1 and existing.read_text(encoding="utf-8") == "kept"


def test_cells_that_look_like_formulas_stay_text(formula_index, tmp_path):
    ix = ("--index", str(formula_index))
    rows = [json.loads(line) for line in run("search", "出庭应诉率", *ix, "--all", "-f", "jsonl").stdout.splitlines()]
    texts = {r["text"] for r in rows}
    assert EVIL in texts and {"+1 出庭应诉率提高。", "-2 出庭应诉率下降。", "@出庭应诉率 名单。"} <= texts  # JSON: exact
    table = list(csv.reader(io.StringIO(run("search", "出庭应诉率", *ix, "--all", "-f", "csv").stdout)))
    cells = {t[KEYS.index("text")] for t in table[1:]}
    assert "'" + EVIL in cells and "'+1 出庭应诉率提高。" in cells and "'@出庭应诉率 名单。" in cells
    book = tmp_path / "f.xlsx"
    assert run("search", "出庭应诉率", *ix, "--all", "-f", "xlsx", "-o", str(book)).returncode == 0
    from openpyxl import load_workbook

    sheet = load_workbook(book).active
    column = LABELS.index("段落原文") + 1
    cells = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    assert EVIL in [c.value for c in cells] and all(c.data_type == "s" for c in cells)  # text, not a formula


# -- the web ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(seed_index):
    from webapp import create_app

    app = create_app(seed_index)
    app.config["TESTING"] = True
    return app.test_client()


def test_the_web_exports_every_hit_with_the_filters_and_sort(client, engine):
    d = client.get("/api/search", query_string={"q": "法治", "region": "互助", "per_page": 5, "sort": "date"}).get_json()
    n, hits = engine.all_hits("法治 region:互助", sort="date")
    ids = [h.id for h in hits]
    assert d["total"] == n > 5 and d["next_url"].endswith("&page=2") and d["prev_url"] is None
    assert client.get(d["next_url"]).get_json()["hits"][0]["id"] == ids[5]
    exports = d["exports"]
    assert set(exports) == {"csv", "tsv", "jsonl", "json", "xlsx"} and all("page" not in u for u in exports.values())
    r = client.get(exports["jsonl"])
    assert r.status_code == 200 and r.is_streamed and r.headers["X-Total-Count"] == str(n)
    assert "attachment" in r.headers["Content-Disposition"] and "filename*=UTF-8''" in r.headers["Content-Disposition"]
    rows = [json.loads(line) for line in r.get_data(as_text=True).splitlines()]
    assert [row["id"] for row in rows] == ids and all(row["permalink"].endswith("/p/" + row["id"]) for row in rows)
    table = list(csv.reader(io.StringIO(client.get(exports["csv"]).get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0] == LABELS and [t[KEYS.index("id")] for t in table[1:]] == ids
    sheet = _xlsx_rows(client.get(exports["xlsx"]).data)
    assert [r[KEYS.index("id")] for r in sheet[1:]] == ids
    assert [row["id"] for row in client.get(exports["json"]).get_json()] == ids


def test_web_export_errors(client, seed_index):
    from indexer.config import Settings
    from webapp import create_app

    r = client.get("/api/search.doc?q=法治")
    assert r.status_code == 404 and "没有这种导出格式" in r.get_json()["error"]["message"]
    r = client.get("/api/search.csv", query_string={"q": '"法治'})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_query"
    r = client.get("/api/search.csv")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_query"
    small = create_app(Settings(index=seed_index, corpus=seed_index / "none", max_export_hits=3)).test_client()
    r = small.get("/api/search.xlsx?q=法治")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "export_too_large"
    assert "--all --format xlsx" in r.get_json()["error"]["message"]
    assert small.get("/api/search.csv?q=出庭应诉率为").status_code == 200  # 1 hit: within the bound


def test_pages_link_their_json_twin_and_the_export(client, engine):
    page = client.get("/?q=法治").get_data(as_text=True)
    assert '<link rel="alternate" type="application/json" href="/api/search?q=' in page
    assert '<link rel="alternate" type="text/csv" href="/api/search.csv?q=' in page
    assert "导出全部：" in page and 'href="/api/search.xlsx?q=' in page
    rid = engine.reports()[0].id
    report = client.get(f"/reports/{rid}?page=1").get_data(as_text=True)
    assert f'<link rel="alternate" type="application/json" href="/api/reports/{rid}?page=1">' in report
    assert f'<a href="/api/reports/{rid}?page=1">本页 JSON</a>' in report
    assert '<link rel="alternate" type="application/json" href="/api/reports">' in client.get("/").get_data(as_text=True)
    assert "导出全部" not in client.get("/?q=不在语料里的短语").get_data(as_text=True)
