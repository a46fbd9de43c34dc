"""Lists of everything page through them (issue 12): the home page's report list and
``/api/reports``, the most-cited list (``/citations``, ``/api/citations``), on a generated corpus
of 250 small reports, and the engine's ``report_page`` behind them (sorted once per generation,
shared by threads)."""
from __future__ import annotations

import re
import threading

import pytest

N_REPORTS = 250
PER_PAGE = 40  # report_list_per_page: 250 reports -> 7 pages
CITE_PER_PAGE = 30  # citations_per_page
REGIONS = ["互助县", "乐都区", "临猗县", "平安区", "民和县"]


def small_report(k: int) -> str:
    year = 2015 + k % 10
    region = REGIONS[k % len(REGIONS)]
    return "\n".join([
        f"# {region}人民政府关于{year}年度法治政府建设工作情况的报告（第{k}号测试）", "",
        f"测政〔{year}〕{k}号", "",
        "某市人民政府：", "",
        f"一、{year}年主要工作", "",
        f"本县第{k}份测试报告，依据《测试文件第{k}号》和测政〔2014〕{k}号推进依法行政。", "",
        "二、贯彻落实情况", "",
        "认真贯彻《测试总纲》和测政〔2015〕0号文件精神。", "",  # every report cites these (the latter is report 0)
    ])


@pytest.fixture(scope="module")
def list_index(tmp_path_factory):
    from indexer.indexing.update import update_index

    base = tmp_path_factory.mktemp("report-list")
    corpus = base / "corpus"
    corpus.mkdir()
    for k in range(N_REPORTS):
        (corpus / f"r{k:03d}.txt").write_text(small_report(k), encoding="utf-8")
    index_dir = base / "index"
    summary = update_index([corpus], index_dir)
    assert not summary.skipped, summary.skipped
    return corpus, index_dir


@pytest.fixture(scope="module")
def app(list_index):
    from indexer.config import Settings
    from webapp import create_app

    corpus, index_dir = list_index
    app = create_app(Settings(index=index_dir, corpus=corpus, report_list_per_page=PER_PAGE,
                              citations_per_page=CITE_PER_PAGE))
    app.config["TESTING"] = True
    return app


def _expected(eng) -> list[str]:
    return [r.id for r in sorted(eng.reports(), key=lambda r: (-(r.year or 0), r.region, r.id))]


def test_engine_report_page(eng):
    every = eng.report_page()
    assert every.total == N_REPORTS and [r.id for r in every.reports] == _expected(eng)
    page = eng.report_page(start=245, limit=10)
    assert page.total == N_REPORTS and page.start == 245 and [r.id for r in page.reports] == _expected(eng)[245:]
    assert eng.report_page(start=300, limit=10).reports == []
    assert [r.id for r in eng.report_page(order="id").reports] == sorted(r.id for r in eng.reports())
    assert eng.report_page(limit=5).reports[0] is eng.report_page(limit=5).reports[0]  # sorted once, shared
    with pytest.raises(ValueError):
        eng.report_page(order="nope")
    with pytest.raises(ValueError):
        eng.report_page(start=-1)


def test_report_page_is_sorted_once_across_threads(list_index):
    from indexer.search.engine import SearchEngine

    eng = SearchEngine(list_index[1])
    try:
        seen, errors = [], []

        def read():
            try:
                seen.append(eng._sorted_reports("year"))
            except Exception as exc:  # pragma: no cover
                errors.append(exc)

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors and len(seen) == 8 and all(s is seen[0] for s in seen)
    finally:
        eng.close()


def test_api_reports_pages_list_every_report_once_in_order(client, eng):
    first = client.get("/api/reports").get_json()
    assert first["ok"] and first["total"] == N_REPORTS and first["per_page"] == PER_PAGE
    pages = first["pages"]
    assert pages == -(-N_REPORTS // PER_PAGE) == 7
    ids = []
    url = "/api/reports"
    for n in range(1, pages + 1):
        d = client.get(f"/api/reports?page={n}").get_json()
        assert d["page"] == n and d["pages"] == pages and d["start"] == (n - 1) * PER_PAGE
        assert len(d["reports"]) == (PER_PAGE if n < pages else N_REPORTS - (pages - 1) * PER_PAGE)
        assert (d["prev_url"] is None) == (n == 1) and (d["next_url"] is None) == (n == pages)
        if n > 1:
            assert d["prev_url"] == ("/api/reports" if n == 2 else f"/api/reports?page={n - 1}")
        if n < pages:
            assert d["next_url"] == f"/api/reports?page={n + 1}"
            assert client.get(d["next_url"]).get_json()["page"] == n + 1
        assert all(r["url"] == f"/reports/{r['id']}" and r["display_title"] for r in d["reports"])
        ids += [r["id"] for r in d["reports"]]
    assert url and ids == _expected(eng) and len(set(ids)) == N_REPORTS


def test_home_page_is_the_twin_and_shows_navigation(client):
    for n in (1, 4, 7):
        html = client.get(f"/?page={n}" if n > 1 else "/").get_data(as_text=True)
        d = client.get(f"/api/reports?page={n}").get_json()
        assert f"第 {n} 页，共 7 页" in html
        assert f"收录的报告（{N_REPORTS} 份）" in html
        listed = re.findall(r'<li><a href="/reports/([^"]+)">', html)
        assert listed == [r["id"] for r in d["reports"]]
        assert ('rel="next"' in html) == (n < 7) and ('rel="prev"' in html) == (n > 1)
        if n < 7:
            assert f'href="/?page={n + 1}" rel="next"' in html
    html = client.get("/?page=4").get_data(as_text=True)
    assert 'href="/"' in html and 'href="/?page=7"' in html  # the window reaches the first and the last


def test_home_page_size_is_bounded_by_the_page_size(client):
    one = len(client.get("/?page=2").data)
    per_report = max(len(f'<li><a href="/reports/{r["id"]}">{r["display_title"]}</a>') + 200
                     for r in client.get("/api/reports?page=2").get_json()["reports"])
    assert one < 40_000 + PER_PAGE * per_report
    # and a page does not grow with the corpus: every page is about the size of the first
    assert abs(one - len(client.get("/").data)) < PER_PAGE * per_report // 4


@pytest.mark.parametrize("page", ["0", "-1", "8", "999999999", "x", "1.5"])
@pytest.mark.parametrize("path", ["/api/reports", "/"])
def test_bad_pages_are_400(client, path, page):
    r = client.get(f"{path}?page={page}")
    assert r.status_code == 400
    if path.startswith("/api/"):
        d = r.get_json()
        assert d["ok"] is False and d["error"]["code"] == "bad_request" and "page" in d["error"]["message"]
    else:
        assert "page" in r.get_data(as_text=True)


def test_citations_page_through_every_cited_document(client):
    first = client.get("/api/citations").get_json()
    total, pages = first["total"], first["pages"]
    assert total >= 2 * N_REPORTS and first["per_page"] == CITE_PER_PAGE and pages == -(-total // CITE_PER_PAGE)
    keys = []
    for n in range(1, pages + 1):
        d = client.get(f"/api/citations?page={n}").get_json()
        assert d["page"] == n and len(d["most_cited"]) <= CITE_PER_PAGE
        keys += [e["key"] for e in d["most_cited"]]
    assert len(keys) == len(set(keys)) == total
    html = client.get("/citations?page=2").get_data(as_text=True)
    assert f"第 2 页，共 {pages} 页" in html and 'href="/citations?page=3" rel="next"' in html
    d = client.get("/api/citations?kind=docno&n=100&page=2").get_json()
    assert d["per_page"] == 100 and d["next_url"] == "/api/citations?kind=docno&n=100&page=3"
    assert client.get(d["next_url"]).get_json()["page"] == 3
    assert all(e["kind"] == "docno" for e in d["most_cited"])
    for bad in ("0", str(pages + 1), "x"):
        r = client.get(f"/api/citations?page={bad}")
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_request"
    assert client.get(f"/citations?page={pages + 1}").status_code == 400


def test_a_document_every_report_cites_lists_a_bounded_number_of_citing_paragraphs(client, eng):
    from webapp.views import MAX_CITING

    top = client.get("/api/citations?n=1").get_json()["most_cited"][0]
    assert top["report_count"] >= N_REPORTS - 1 and top["count"] >= N_REPORTS - 1
    assert len(top["pids"]) == len(top["reports"]) == MAX_CITING
    r0 = next(r.id for r in eng.reports() if r.source == "r000.txt")
    d = client.get(f"/api/reports/{r0}").get_json()
    (entry,) = [e for e in d["citations"]["cited_by"] if e["kind"] == "docno"]
    assert entry["count"] == N_REPORTS - 1 and len(entry["citing"]) == MAX_CITING  # its own 文号 is no citation
    html = client.get(f"/reports/{r0}").get_data(as_text=True)
    assert f"…全部 {N_REPORTS - 1} 段" in html
