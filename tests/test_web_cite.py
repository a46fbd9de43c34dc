"""引用 and changed paragraphs on the web, through Flask's test client on real indexes.

* /cite/<pid> (every citation format, each with a download link) and its JSON twin /api/cite/<pid>;
  the 引用 links on hits and paragraphs; escaping of document text in citations.
* Links to paragraphs that changed or left the corpus: a corpus is indexed, one paragraph edited,
  one report deleted, the corpus re-indexed; the old ids then lead to a notice with the old text and
  the closest current paragraph, never to the bare 404 page.
"""
from __future__ import annotations

import html as htmllib
import json
import re
import shutil

import pytest

from indexer.search.query import Filters

from test_web_app import (SEEDS, XSS_FILE, XSS_REPORT, app, assert_safe, html,  # noqa: F401
                          web_index, xss_rid)

LABELS = {"gbt7714": "GB/T 7714-2015", "text": "纯文本", "markdown": "Markdown", "bibtex": "BibTeX",
          "ris": "RIS (Zotero)", "csl-json": "CSL-JSON"}
MEDIA = {"gbt7714": ("text/plain", "txt"), "text": ("text/plain", "txt"), "markdown": ("text/markdown", "md"),
         "bibtex": ("application/x-bibtex", "bib"), "ris": ("application/x-research-info-systems", "ris"),
         "csl-json": ("application/vnd.citationstyles.csl+json", "json")}


def shown_citations(page: str) -> dict[str, str]:
    """{format: citation text} as the /cite page shows it, in page order."""
    found = re.findall(r'<pre id="cite-([a-z0-9-]+)" class="citation"[^>]*>(.*?)</pre>', page, re.S)
    return {fmt: htmllib.unescape(body) for fmt, body in found}


def _lead_hit(eng):  # noqa: F811
    return eng.search("出庭应诉率", filters=Filters.chosen(region=["乐都区"])).hits[0]


# -- /cite/<pid> --------------------------------------------------------------------------------------------
def test_cite_page_shows_every_format(client, eng):  # noqa: F811
    hit = _lead_hit(eng)
    r = client.get(f"/cite/{hit.id}")
    page = html(r)
    assert r.status_code == 200
    assert "<h1>引用这一段</h1>" in page
    shown = shown_citations(page)
    assert list(shown) == list(LABELS)
    for fmt, label in LABELS.items():
        assert f'<h3 id="fmt-{fmt}-label">{htmllib.escape(label, quote=False)}</h3>' in page, fmt
        assert f'href="/api/cite/{hit.id}?format={fmt}&amp;download=1" download>下载</a>' in page, fmt
    settings = client.application.config["SETTINGS"]
    link = f"http://{settings.host}:{settings.port}/p/{hit.id}"  # the server's address, not the request's Host
    assert shown["bibtex"].startswith("@report{") and link in shown["bibtex"]
    assert "TY  - RPRT" in shown["ris"] and shown["ris"].rstrip().endswith("ER  -")
    csl = json.loads(shown["csl-json"])
    assert csl[0]["id"] == hit.id and csl[0]["URL"] == link
    assert "[R/OL]" in shown["gbt7714"] and shown["gbt7714"].endswith(link + ".")
    assert f"第{hit.ordinal}段" in shown["text"]
    # the paragraph, its report and where it sits
    assert htmllib.escape(hit.text, quote=False) in page
    assert f'<a href="/reports/{hit.report.id}">' in page and f"第 {hit.ordinal} 段" in page
    assert f'href="/p/{hit.id}" class="permalink"' in page
    # the page renders what the JSON twin returns
    d = client.get(f"/api/cite/{hit.id}").get_json()
    assert d["ok"] and d["formats"] == list(LABELS) and d["citations"] == shown
    assert [(e["format"], e["label"]) for e in d["entries"]] == list(LABELS.items())
    assert d["text"] == hit.text and d["url"] == link
    assert_safe(page)


def test_cite_downloads(client, eng):  # noqa: F811
    hit = _lead_hit(eng)
    citations = client.get(f"/api/cite/{hit.id}").get_json()["citations"]
    for fmt, (media, ext) in MEDIA.items():
        r = client.get(f"/api/cite/{hit.id}", query_string={"format": fmt, "download": 1})
        assert r.status_code == 200, fmt
        assert r.mimetype == media, fmt
        assert r.headers["Content-Disposition"] == f'attachment; filename="citation.{ext}"'
        assert r.get_data(as_text=True) == citations[fmt]
    # an alias downloads as its format
    r = client.get(f"/api/cite/{hit.id}", query_string={"format": "bib", "download": 1})
    assert r.mimetype == "application/x-bibtex" and r.headers["Content-Disposition"].endswith('.bib"')
    one = client.get(f"/api/cite/{hit.id}", query_string={"format": "ris"}).get_json()
    assert one["format"] == "ris" and one["citation"] == citations["ris"]
    bad = client.get(f"/api/cite/{hit.id}", query_string={"format": "apa"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "unknown_format"


def test_cite_links_everywhere(client, eng):  # noqa: F811
    d = client.get("/api/search?q=出庭应诉率").get_json()
    for h in d["hits"]:
        assert h["cite_url"] == f"/cite/{h['id']}" and h["cite_api"] == f"/api/cite/{h['id']}"
    grouped = client.get("/?q=法治政府&group=1")
    n_hits = sum(len(g["hits"]) for g in client.get("/api/search?q=法治政府&group=1").get_json()["groups"])
    assert html(grouped).count('<a class="cite" href="/cite/') == n_hits
    rid = _lead_hit(eng).report.id
    rep = client.get(f"/api/reports/{rid}").get_json()
    assert all(p["cite_url"] == f"/cite/{p['id']}" for p in rep["paragraphs"])
    page = html(client.get(f"/reports/{rid}"))
    for p in rep["paragraphs"]:
        assert f'<a class="cite cite-para" href="/cite/{p["id"]}" data-cite-api="/api/cite/{p["id"]}"' in page
    # the quote finder links to the same page
    q = html(client.get("/quote", query_string={"q": _lead_hit(eng).text[:40]}))
    assert f'href="/cite/{_lead_hit(eng).id}">其他格式</a>' in q


def test_cite_escapes_document_text(client, eng, xss_rid):  # noqa: F811
    target = next(p for p in eng.report(xss_rid).paragraphs if "onerror" in p.text)
    r = client.get(f"/cite/{target.id}")
    page = html(r)
    assert r.status_code == 200
    assert_safe(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    shown = shown_citations(page)
    assert "<script>alert(1)</script>" in shown["gbt7714"]  # the title, as written, escaped only for HTML
    assert json.loads(shown["csl-json"])[0]["title"].endswith("<script>alert(1)</script>")
    api = client.get(f"/api/cite/{target.id}")
    assert api.mimetype == "application/json"
    # the report page with its 引用 links stays safe too
    assert_safe(html(client.get(f"/reports/{xss_rid}")))


def test_cite_permalinks_use_base_url(web_index, eng):  # noqa: F811
    from indexer.config import Settings
    from webapp import create_app

    _, index_dir = web_index
    app = create_app(Settings(index=index_dir, base_url="https://search.example.org/"), engine=eng)
    c = app.test_client()
    hit = _lead_hit(eng)
    link = f"https://search.example.org/p/{hit.id}"
    page = html(c.get(f"/cite/{hit.id}"))
    shown = shown_citations(page)
    assert all(link in text for text in shown.values()), shown
    assert f'href="/p/{hit.id}" class="permalink"' in page
    assert c.get(f"/api/cite/{hit.id}").get_json()["url"] == link


def test_cite_unknown_paragraph(client):  # noqa: F811
    r = client.get("/cite/nosuch~x")
    assert r.status_code == 404 and "页面不存在" in html(r)
    r = client.get("/api/cite/nosuch~x")
    assert r.status_code == 404 and r.get_json() == {
        "ok": False, "error": {"code": "not_found", "message": "没有这个段落：nosuch~x"}}


# -- changed and removed paragraphs -------------------------------------------------------------------------
OLD, NEW = "出庭应诉率为 89%", "出庭应诉率为 92%"
XSS_OLD, XSS_NEW = "出庭应诉率达到100%，<script>", "出庭应诉率达到99%，<script>"


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    """A corpus indexed, then one paragraph edited (in a seed and in the XSS report), one report
    deleted and the corpus indexed again; the app on the new index and the ids from before."""
    from indexer.search.engine import SearchEngine
    from indexer.indexing.update import update_index
    from webapp import create_app

    base = tmp_path_factory.mktemp("changed")
    corpus = base / "corpus"
    corpus.mkdir()
    for p in SEEDS:
        shutil.copy(p, corpus / p.name)
    (corpus / XSS_FILE).write_text(XSS_REPORT, encoding="utf-8")
    index_dir = base / "index"
    update_index([corpus], index_dir)

    before = SearchEngine(index_dir)
    try:
        edited = next(h for h in before.search("出庭应诉率为", per_page=50).hits if OLD in h.text)
        xss_old = next(h for h in before.search("出庭应诉率达到100%", per_page=50).hits if "<script>" in h.text)
        gone_ref = next(r for r in before.reports() if r.id != edited.report.id and r.source != XSS_FILE)
        gone = next(p for p in before.report(gone_ref.id).paragraphs if p.kind == "body" and len(p.text) > 40)
        ids = {"edited": edited.id, "rid": edited.report.id, "old_text": edited.text, "xss": xss_old.id,
               "gone": gone.id, "gone_rid": gone_ref.id, "gone_text": gone.text}
    finally:
        before.close()

    src = corpus / edited.report.source
    text = src.read_text(encoding="utf-8")
    assert text.count(OLD) == 1
    src.write_text(text.replace(OLD, NEW), encoding="utf-8")
    xss = corpus / XSS_FILE
    xss.write_text(xss.read_text(encoding="utf-8").replace(XSS_OLD, XSS_NEW), encoding="utf-8")
    (corpus / gone_ref.source).unlink()
    summary = update_index([corpus], index_dir)
    assert summary.removed == [gone_ref.source] and len(summary.updated) == 2

    app = create_app(index_dir)
    app.config["TESTING"] = True
    eng = app.extensions["policy_search_engine"]
    ids["new"] = next(p.id for p in eng.report(ids["rid"]).paragraphs if NEW in p.text)
    return app, ids


def test_changed_paragraph_notice(changed):
    app, ids = changed
    c = app.test_client()
    r = c.get(f"/p/{ids['edited']}")
    page = html(r)
    assert r.status_code == 410  # Gone, with a helpful page, not the bare 404 page
    assert "<h1>这个段落已修改或删除</h1>" in page and "页面不存在" not in page
    # the old text (the change struck through), its section path and paragraph number, the report
    assert "出庭应诉率为 <del>89</del>%" in page
    old_plain = re.sub(r"</?del>", "", page)
    assert htmllib.escape(ids["old_text"], quote=False) in old_plain
    assert f'<a href="/reports/{ids["rid"]}" class="retired-report">' in page
    d = c.get(f"/api/paragraphs/{ids['edited']}").get_json()
    hist = d["history"]
    for s in hist["section"]:
        assert f"<li>{htmllib.escape(s, quote=False)}</li>" in page
    assert f"第 {hist['ordinal']} 段" in page
    # the closest current paragraph: the edited one, with its similarity and permalink
    top = hist["closest"][0]
    assert top["paragraph"]["id"] == ids["new"] and 0.9 < top["similarity"] < 1
    assert f'<span class="similarity">相似度 {top["percent"]}%</span>' in page and top["percent"] == 99
    assert f'<a href="/p/{ids["new"]}" class="closest-link">' in page
    assert "出庭应诉率为 <ins>92</ins>%" in page
    assert_safe(page)
    # the closest paragraph's permalink lands on it
    follow = c.get(f"/p/{ids['new']}")
    assert follow.status_code == 302 and follow.headers["Location"].endswith(f"#p-{ids['new']}")


def test_changed_paragraph_api(changed):
    app, ids = changed
    c = app.test_client()
    r = c.get(f"/api/paragraphs/{ids['edited']}")
    assert r.status_code == 410
    d = r.get_json()
    assert d["ok"] is False and d["error"]["code"] == "paragraph_changed"
    assert ids["edited"] in d["error"]["message"] and set(d["error"]) == {"code", "message"}
    hist = d["history"]
    assert hist["id"] == ids["edited"] and hist["report_id"] == ids["rid"] and hist["text"] == ids["old_text"]
    assert hist["report"]["id"] == ids["rid"] and hist["report"]["url"] == f"/reports/{ids['rid']}"
    top = hist["closest"][0]
    assert top["paragraph"]["id"] == ids["new"] and NEW in top["paragraph"]["text"]
    settings = app.config["SETTINGS"]
    assert top["paragraph"]["permalink"] == f"http://{settings.host}:{settings.port}/p/{ids['new']}"
    assert top["similarity"] == max(c_["similarity"] for c_ in hist["closest"])
    # the other twins of the old id say the same
    assert c.get(f"/api/cite/{ids['edited']}").status_code == 410
    cite_page = c.get(f"/cite/{ids['edited']}")
    assert cite_page.status_code == 410 and "这个段落已修改或删除" in html(cite_page)


def test_removed_report_paragraph(changed):
    app, ids = changed
    c = app.test_client()
    r = c.get(f"/p/{ids['gone']}")
    page = html(r)
    assert r.status_code == 410
    assert "这个段落已修改或删除" in page and "该报告已不在语料库中" in page
    assert htmllib.escape(ids["gone_text"], quote=False) in page
    assert f"<code>{ids['gone_rid']}</code>" in page
    assert 'href="/quote?q=' in page  # where the text may live now
    assert_safe(page)
    d = c.get(f"/api/paragraphs/{ids['gone']}")
    assert d.status_code == 410
    body = d.get_json()
    assert body["error"]["code"] == "paragraph_removed"
    assert body["history"]["report"] is None and body["history"]["closest"] == []
    assert body["history"]["text"] == ids["gone_text"]
    assert c.get(f"/reports/{ids['gone_rid']}").status_code == 404


def test_unknown_paragraph_of_a_known_report(changed):
    app, ids = changed
    c = app.test_client()
    r = c.get(f"/p/{ids['rid']}~zzzz")
    page = html(r)
    assert r.status_code == 404  # never existed: Not Found, but with a page that helps
    assert "在该报告中找不到这个段落" in page and "页面不存在" not in page
    assert f'<a href="/reports/{ids["rid"]}">查看这份报告的全文</a>' in page
    d = c.get(f"/api/paragraphs/{ids['rid']}~zzzz")
    assert d.status_code == 404
    body = d.get_json()
    assert body["error"]["code"] == "paragraph_not_found" and body["history"]["text"] == ""
    assert body["history"]["report"]["id"] == ids["rid"]


def test_unknown_paragraph_of_an_unknown_report(changed):
    app, _ = changed
    c = app.test_client()
    r = c.get("/p/nosuch~x")
    assert r.status_code == 404 and "页面不存在" in html(r)
    r = c.get("/api/paragraphs/nosuch~x")
    assert r.status_code == 404
    assert r.get_json() == {"ok": False, "error": {"code": "not_found", "message": "没有这个段落：nosuch~x"}}


def test_changed_paragraph_notice_escapes(changed):
    app, ids = changed
    c = app.test_client()
    r = c.get(f"/p/{ids['xss']}")
    page = html(r)
    assert r.status_code == 410
    assert_safe(page)
    assert "<del>100</del>%，&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<ins>99</ins>%，&lt;script&gt;alert(1)&lt;/script&gt;" in page
    hist = c.get(f"/api/paragraphs/{ids['xss']}").get_json()["history"]
    assert "<script>alert(1)</script>" in hist["text"]  # JSON carries the text as written
