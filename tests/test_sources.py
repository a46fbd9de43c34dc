"""Where reports came from (issue 14): sources.csv and <file>.meta.json beside the corpus, an HTML
page's canonical URL; read when indexing, shown on the report page, cited as the online address."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys

import pytest

from indexer.citations.formats import format_citation
from indexer.reading.sources import SourceRecord, iso_date, read_sources

from conftest import ROOT, SEEDS

YANCHI = "001_623fe7deefd3bc57.txt"
LEDU = "003_08e8b4a7741f3a58.txt"
YANCHI_URL = "http://www.yanchi.gov.cn/xxgk/fzzfjs/202201/t20220128_3318611.html"
CSV = (
    "文件,网址,发文机关,发布机构,日期,标题\n"
    f"{YANCHI},{YANCHI_URL},盐池县人民政府,盐池县人民政府办公室,2022年1月28日,\n"
    f"{LEDU},,海东市乐都区人民政府；中共海东市乐都区委,,2021-02-03,乐都区2020年法治政府建设工作报告\n"
    "missing.txt,http://example.gov.cn/a.html,,,,\n"
    f"{SEEDS[0].name},,,,2022-13-45,\n"
)


def _corpus(base, csv_text: str | None = CSV, encoding: str = "utf-8"):
    corpus = base / "corpus"
    corpus.mkdir()
    for p in SEEDS:
        shutil.copy(p, corpus / p.name)
    if csv_text is not None:
        (corpus / "sources.csv").write_bytes(csv_text.encode(encoding))
    return corpus


def test_iso_date_reads_the_ways_people_write_dates():
    assert [iso_date(t) for t in ("2022-01-17", "2022/1/7", "2022年1月17日", "2022年3月", "2022", "2022-13-01",
                                  "2022-02-30", "一月", "")] == \
        ["2022-01-17", "2022-01-07", "2022-01-17", "2022-03", "2022", "", "", "", ""]


def test_sources_csv_in_gbk_with_chinese_headers_and_its_problems(tmp_path):
    """Excel on a Chinese Windows saves CSV as GBK: it reads. Each row that cannot be used is named
    with its line and why; the others apply."""
    corpus = _corpus(tmp_path, encoding="gbk")
    records, problems = read_sources(corpus, [p.name for p in SEEDS])
    assert set(records) == {YANCHI, LEDU}
    yanchi = records[YANCHI]
    assert yanchi == SourceRecord(url=YANCHI_URL, issuers=("盐池县人民政府",), publisher="盐池县人民政府办公室",
                                  date="2022-01-28", origin="sources.csv line 2")
    assert records[LEDU].issuers == ("海东市乐都区人民政府", "中共海东市乐都区委")
    assert problems == [("sources.csv", "line 4: 'missing.txt': no such file in the corpus"),
                        ("sources.csv", "line 5: date '2022-13-45' is not a date (write 2022-01-17 or 2022年1月17日)")]


def test_a_meta_json_beside_a_file_overrides_its_row_and_bad_ones_are_named(tmp_path):
    corpus = _corpus(tmp_path)
    (corpus / (YANCHI + ".meta.json")).write_text(json.dumps({"url": "https://yanchi.gov.cn/b.html", "发文机关": [
        "盐池县人民政府", "中共盐池县委"]}, ensure_ascii=False), encoding="utf-8")
    (corpus / (LEDU + ".meta.json")).write_text("{not json", encoding="utf-8")
    (corpus / (SEEDS[4].name + ".meta.json")).write_text('{"colour": "red"}', encoding="utf-8")
    (corpus / (SEEDS[2].name + ".meta.json")).write_text('{"url": "javascript:alert(1)"}', encoding="utf-8")
    records, problems = read_sources(corpus, [p.name for p in SEEDS])
    assert records[YANCHI].url == "https://yanchi.gov.cn/b.html"
    assert records[YANCHI].issuers == ("盐池县人民政府", "中共盐池县委") and records[YANCHI].origin == YANCHI + ".meta.json"
    assert records[LEDU].origin == "sources.csv line 3"  # its bad .meta.json leaves the row in place
    reasons = dict(problems)
    assert reasons[LEDU + ".meta.json"] == "not JSON: Expecting property name enclosed in double quotes at line 1"
    assert reasons[SEEDS[4].name + ".meta.json"].startswith("unknown key 'colour'")
    assert reasons[SEEDS[2].name + ".meta.json"] == "url 'javascript:alert(1)' is not an http(s) address"


def test_a_csv_without_a_file_column_or_with_an_unknown_one_is_refused_whole(tmp_path):
    corpus = _corpus(tmp_path, "网址,标题\nhttp://a.gov.cn/,x\n")
    assert read_sources(corpus, [p.name for p in SEEDS]) == (
        {}, [("sources.csv", "the header row has no file column (文件); columns: file, url, title, issuers, "
                             "publisher, date, doc_number")])
    (corpus / "sources.csv").write_text("file,colour\na.txt,red\n", encoding="utf-8")
    records, problems = read_sources(corpus, [p.name for p in SEEDS])
    assert records == {} and problems[0][1].startswith("unknown column 'colour'")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    from indexer.indexing.update import update_index

    base = tmp_path_factory.mktemp("sources")
    corpus = _corpus(base)
    summary = update_index([corpus], base / "index")
    return corpus, base / "index", summary


def test_indexing_applies_the_sidecar_and_names_what_it_could_not(indexed):
    from indexer.search.engine import SearchEngine

    corpus, index_dir, summary = indexed
    assert len(summary.added) == len(SEEDS) and not summary.skipped  # sources.csv is no report
    assert [s for s, _ in summary.warnings] == ["sources.csv", "sources.csv"]
    eng = SearchEngine(index_dir)
    try:
        rid = YANCHI.removesuffix(".txt")
        meta = eng.report(rid, limit=1).meta
        assert (meta["source_url"], meta["issuers"], meta["publisher"], meta["date"]) == (
            YANCHI_URL, ["盐池县人民政府"], "盐池县人民政府办公室", "2022-01-28")
        assert meta["supplied"] == {"url": "sources.csv line 2", "issuers": "sources.csv line 2",
                                    "publisher": "sources.csv line 2", "date": "sources.csv line 2"}
        assert eng.search("营商环境 issuer:盐池县人民政府").total > 0  # searchable by what the sidecar gave
        assert eng.search("营商环境 date:2022-01-28").total == eng.search(f"营商环境 report:{rid}").total > 0
        ledu = eng.report(LEDU.removesuffix(".txt"), limit=1)
        assert ledu.report.title == "乐都区2020年法治政府建设工作报告" and ledu.report.display_title == ledu.report.title
        # The reference cites the published address, the sidecar's issuer, publisher and date.
        view = next(p for p in eng.report(rid).paragraphs if "持续优化营商环境" in p.text)
        local = "http://127.0.0.1:8000/p/" + view.id
        gb = format_citation(view, meta, local, "gbt7714", dt.date(2026, 11, 22))
        assert gb == ("盐池县人民政府. 盐池县2021年度法治政府建设工作情况总结[R/OL]. 宁夏回族自治区吴忠市盐池县: 盐池县人民政府办公室, "
                      f"2022: 第9段[2026-11-22]. {YANCHI_URL}.")
        text = format_citation(view, meta, local, "text", dt.date(2026, 11, 22))
        assert text.endswith(f"{YANCHI_URL}（2026-11-22访问） 本地链接：{local}")
        csl = json.loads(format_citation(view, meta, local, "csl-json", dt.date(2026, 11, 22)))[0]
        assert csl["URL"] == YANCHI_URL and csl["publisher"] == "盐池县人民政府办公室" and local in csl["note"]
    finally:
        eng.close()


def test_a_changed_row_reindexes_its_report_only_and_a_removed_one_reverts(tmp_path):
    from indexer.indexing.update import update_index
    from indexer.search.engine import SearchEngine

    corpus = _corpus(tmp_path)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    (corpus / "sources.csv").write_text(CSV.replace("2022年1月28日", "2022年1月29日"), encoding="utf-8")
    again = update_index([corpus], index_dir)
    assert again.updated == [YANCHI] and again.unchanged == len(SEEDS) - 1 and not again.added
    (corpus / "sources.csv").unlink()
    back = update_index([corpus], index_dir)
    assert sorted(back.updated) == sorted([YANCHI, LEDU]) and not back.warnings
    eng = SearchEngine(index_dir)
    try:
        meta = eng.report(YANCHI.removesuffix(".txt"), limit=1).meta
        assert meta["issuers"] == [] and meta["source_url"] == "" and meta["supplied"] == {}
    finally:
        eng.close()


def test_an_html_page_cites_its_canonical_address(tmp_path):
    from indexer.reading.report import read_report

    page = tmp_path / "a.html"
    page.write_text('<html><head><title>x</title><link rel="canonical" href="http://www.huzhu.gov.cn/a/1.html">'
                    '</head><body><h1>互助县2021年度法治政府建设工作报告</h1><p>' + "依法行政。" * 20 + "</p></body></html>",
                    encoding="utf-8")
    assert read_report(page).meta.source_url == "http://www.huzhu.gov.cn/a/1.html"
    page.write_text('<html><head><link rel="canonical" href="javascript:alert(1)"><meta property="og:url" '
                    'content="https://x.gov.cn/og.html"></head><body><p>' + "依法行政。" * 20 + "</p></body></html>",
                    encoding="utf-8")
    assert read_report(page).meta.source_url == ""  # a canonical link that is no http(s) address is not used
    page.write_text('<html><head><meta property="og:url" content="https://x.gov.cn/og.html"></head><body><p>'
                    + "依法行政。" * 20 + "</p></body></html>", encoding="utf-8")
    assert read_report(page).meta.source_url == "https://x.gov.cn/og.html"


def test_index_command_names_rows_not_applied_and_exits_1(tmp_path):
    corpus = _corpus(tmp_path)
    run = subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(corpus), "--index", str(tmp_path / "ix")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 1, run.stderr
    assert "not applied: sources.csv: line 4: 'missing.txt': no such file in the corpus" in run.stderr
    assert "skipped 0" in run.stdout


def test_report_page_shows_the_source_and_the_cite_page_warns_of_local_links(indexed):
    from indexer.config import Settings
    from webapp import create_app

    corpus, index_dir, _ = indexed
    rid = YANCHI.removesuffix(".txt")
    client = create_app(Settings(index=index_dir, corpus=corpus)).test_client()
    page = client.get(f"/reports/{rid}").get_data(as_text=True)
    assert f'<a href="{YANCHI_URL}" rel="noopener noreferrer nofollow external">{YANCHI_URL}</a>' in page
    assert "发布机构</dt><dd>盐池县人民政府办公室" in page
    assert "来源网址、发文机关、发布机构、日期：据 sources.csv line 2" in page
    pid = client.get(f"/api/search?q=持续优化营商环境 report:{rid}").get_json()["hits"][0]["id"]
    cite = client.get(f"/api/cite/{pid}").get_json()
    assert cite["link_warning"].startswith("引用中的段落链接指向本机服务器")
    assert "本机服务器" in client.get(f"/cite/{pid}").get_data(as_text=True)
    public = create_app(Settings(index=index_dir, corpus=corpus, base_url="https://search.example.org")).test_client()
    cite = public.get(f"/api/cite/{pid}").get_json()
    assert cite["link_warning"] is None and cite["citations"]["gbt7714"].endswith(f"{YANCHI_URL}.")
    assert cite["citations"]["text"].endswith(f"本地链接：https://search.example.org/p/{pid}")
