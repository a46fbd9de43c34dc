"""End to end in a real browser: `policy-search serve` on a free loopback port, driven by Debian's
chromium through Playwright. Set UPDATE_SCREENSHOTS=1 to refresh docs/screenshot-*.png.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from served import serve_process

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
DOCS = ROOT / "docs"
SHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`serve --port 0` on a corpus with no index yet: builds it, prints the URL, serves."""
    from test_web_app import make_corpus

    base = tmp_path_factory.mktemp("browser")
    corpus = make_corpus(base)
    index_dir = base / "index"
    with serve_process(index_dir, corpus, cwd=base) as served:
        assert index_dir.is_dir(), "serve should have built the missing index"
        assert "Built index" in "".join(served.output)
        yield served.url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; .ci/run does "
                    "this). Browser tests are not optional.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("dialog", lambda d: (problems.append("dialog opened: " + d.message), d.dismiss()))  # XSS would alert()
    pg.problems = problems
    yield pg
    ctx.close()


def in_viewport(pg, selector: str) -> bool:
    return pg.eval_on_selector(selector, """el => {
        const r = el.getBoundingClientRect();
        return r.bottom > 0 && r.top < window.innerHeight && r.height > 0;
    }""")


def summary_total(pg) -> int:
    return int(pg.locator("#summary strong").first.inner_text())


def test_search_filter_open_hit_and_navigate(page, server):
    pg = page
    pg.goto(server)
    assert pg.title() == "法治政府建设报告检索"
    # "/" focuses the query box from anywhere on the page
    pg.locator("body").click(position={"x": 5, "y": 400})
    pg.keyboard.press("/")
    assert pg.evaluate("document.activeElement.id") == "q"
    pg.keyboard.type("出庭应诉率")
    pg.keyboard.press("Enter")
    pg.wait_for_selector("#summary")
    assert "共" in pg.inner_text("#summary") and "份报告" in pg.inner_text("#summary")
    total = summary_total(pg)
    assert total == 5
    marks = pg.locator("ol.hits mark")
    assert marks.count() >= 5 and marks.first.inner_text() == "出庭应诉率"
    crumbs = pg.locator("ol.hits .crumbs li")
    assert crumbs.count() >= 5
    assert any(re.match(r"^[一二三四五六七八九十]+、", t) for t in crumbs.all_inner_texts())
    assert pg.locator("svg.bars").count() == 2

    # filter by region: the count changes, the facet shows as selected
    pg.locator('#facet-region a[data-value="乐都区"]').click()
    pg.wait_for_selector('#facet-region a[data-value="乐都区"][aria-pressed="true"]')
    assert summary_total(pg) == 1 < total
    assert "region=" in pg.url
    assert all(t == "乐都区" for t in pg.locator("ol.hits .tag").all_inner_texts() if "区" in t or "县" in t)

    # open the hit: land on the paragraph, scrolled into view and marked
    pg.locator("a.hit-title").first.click()
    pg.wait_for_selector(".para.is-target")
    assert "#p-" in pg.url
    target_id = pg.url.split("#", 1)[1]
    assert pg.get_attribute(".para.is-target", "id") == target_id
    assert pg.locator(".para.is-target mark").first.inner_text() == "出庭应诉率"
    assert in_viewport(pg, ".para.is-target")
    assert pg.locator(".meta dl").inner_text().count("乐都区") >= 1

    # a query with several hits in one report: follow next-hit with the button and the keyboard
    pg.fill("#q", "行政复议")
    pg.keyboard.press("Enter")
    pg.wait_for_selector("#summary")
    assert summary_total(pg) > 10
    if SHOTS:
        pg.screenshot(path=str(DOCS / "screenshot-search.png"))
    pg.locator('#facet-region a[data-value="乐都区"]').click()
    pg.wait_for_selector('#facet-region a[data-value="乐都区"][aria-pressed="true"]')
    pg.locator("a.hit-title").first.click()
    pg.wait_for_selector(".para.is-target")
    hits = pg.locator(".para.is-hit")
    assert hits.count() >= 2
    first = pg.get_attribute(".para.is-target", "id")
    pg.click("#next-hit")
    pg.wait_for_function(f"document.querySelector('.para.is-target').id !== {first!r}")
    second = pg.get_attribute(".para.is-target", "id")
    assert in_viewport(pg, ".para.is-target") and pg.url.endswith("#" + second)
    assert "当前第" in pg.inner_text("#hit-pos")
    if SHOTS:
        pg.screenshot(path=str(DOCS / "screenshot-report.png"))
    pg.locator("body").press("j")
    pg.wait_for_function(f"document.querySelector('.para.is-target').id !== {second!r}")
    pg.locator("body").press("k")
    pg.wait_for_function(f"document.querySelector('.para.is-target').id === {second!r}")
    assert in_viewport(pg, ".para.is-target")
    assert not pg.problems, pg.problems  # no CSP violations or script errors


def test_permalink_lands_marked(page, server):
    pg = page
    pg.goto(server + "?q=" + "出庭应诉率" + "&region=互助土族自治县")
    link = pg.locator("a.permalink").first.get_attribute("href")
    assert link.startswith("/p/")  # relative: a page never links to the Host a request named
    pg.goto(server + link[1:])
    pg.wait_for_selector(".para.is-target")
    assert in_viewport(pg, ".para.is-target")
    assert pg.url.split("#", 1)[1] == pg.get_attribute(".para.is-target", "id")
    # arriving from the search marks the query in place
    pg.goto(server + "?q=出庭应诉率&region=互助土族自治县")
    pg.locator("a.hit-title").first.click()
    pg.wait_for_selector(".para.is-target mark")
    assert in_viewport(pg, ".para.is-target mark")
    assert not pg.problems, pg.problems


def test_bad_query_and_phone_layout(browser, server):
    ctx = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN", is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    pg = ctx.new_page()
    try:
        resp = pg.goto(server + '?q="出庭应诉率')
        assert resp.status == 400
        assert "引号没有闭合" in pg.inner_text("#query-error")
        assert pg.input_value("#q") == '"出庭应诉率'
        pg.goto(server + "?q=出庭应诉率")
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 376, f"horizontal scrolling on a phone: {width}px"
        assert pg.locator("ol.hits mark").count() >= 5
        pg.locator("a.hit-title").first.click()
        pg.wait_for_selector(".para.is-target")
        assert pg.evaluate("document.documentElement.scrollWidth") <= 376
        assert in_viewport(pg, ".para.is-target")
    finally:
        ctx.close()


def test_healthz_and_404_over_http(page, server):
    pg = page
    resp = pg.goto(server + "healthz")
    assert resp.status == 200 and '"ok": true' in pg.inner_text("body").replace('"ok":true', '"ok": true')
    resp = pg.goto(server + "reports/nope")
    assert resp.status == 404 and "页面不存在" in pg.inner_text("main")


def _cite_context(browser, server, clipboard: bool = True):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    if clipboard:
        ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.rstrip("/"))
    return ctx


def _watch(pg) -> list[str]:
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    return problems


OPEN_READY = "dialog.cite-pop[open] #cite-pop-format:not([disabled])"


def test_cite_dialog_copies_the_chosen_format(browser, server):
    ctx = _cite_context(browser, server)
    pg = ctx.new_page()
    problems = _watch(pg)
    try:
        pg.goto(server + "?q=出庭应诉率&region=乐都区")
        cite = pg.locator("ol.hits a.cite").first
        pid = cite.get_attribute("href").rsplit("/", 1)[1]
        expected = pg.request.get(server + f"api/cite/{pid}").json()["citations"]
        cite.click()
        pg.wait_for_selector(OPEN_READY)
        assert pg.url.startswith(server + "?")  # stayed on the search page
        assert pg.get_attribute("dialog.cite-pop", "aria-labelledby") == "cite-pop-title"
        assert pg.input_value("#cite-pop-format") == "gbt7714"  # GB/T 7714 by default
        assert pg.input_value("#cite-pop-text") == expected["gbt7714"]
        labels = pg.locator("#cite-pop-format option").all_inner_texts()
        assert labels == ["GB/T 7714-2015", "纯文本", "Markdown", "BibTeX", "RIS (Zotero)", "CSL-JSON"]
        pg.select_option("#cite-pop-format", "bibtex")
        assert pg.input_value("#cite-pop-text") == expected["bibtex"]
        assert pg.get_attribute(".cite-pop-download", "href") == f"/api/cite/{pid}?format=bibtex&download=1"
        pg.click(".cite-pop-copy")
        pg.wait_for_selector(".cite-pop-done")
        assert "已复制" in pg.inner_text(".cite-pop-status")
        shown = pg.locator(".cite-pop-copied").text_content()
        assert shown == expected["bibtex"] and shown.startswith("@report{")
        assert pg.evaluate("navigator.clipboard.readText()") == expected["bibtex"]
        # Esc closes, focus goes back to the 引用 link
        pg.keyboard.press("Escape")
        pg.wait_for_function("!document.querySelector('dialog.cite-pop').open")
        assert pg.evaluate("document.activeElement === document.querySelector('ol.hits a.cite')")
        # the next opening keeps the chosen format; the close button closes too
        pg.locator("ol.hits a.cite").first.click()
        pg.wait_for_selector(OPEN_READY)
        assert pg.input_value("#cite-pop-format") == "bibtex"
        assert pg.locator(".cite-pop-done").count() == 0  # nothing claimed copied yet
        pg.click(".cite-pop-close")
        pg.wait_for_function("!document.querySelector('dialog.cite-pop').open")
        assert not problems, problems
    finally:
        ctx.close()


def test_cite_dialog_on_report_paragraph_by_keyboard(browser, server):
    ctx = _cite_context(browser, server)
    pg = ctx.new_page()
    problems = _watch(pg)
    try:
        pg.goto(server + "?q=出庭应诉率&region=乐都区")
        pg.locator("a.hit-title").first.click()
        pg.wait_for_selector(".para.is-target")
        link = pg.locator(".para.is-target a.cite-para")
        pid = pg.get_attribute(".para.is-target", "id")[2:]
        assert link.get_attribute("href") == f"/cite/{pid}"
        link.focus()
        pg.keyboard.press("Enter")
        pg.wait_for_selector(OPEN_READY)
        assert pg.evaluate("document.activeElement.id") == "cite-pop-format"
        assert f"第 {pg.inner_text('.para.is-target .pno')} 段" in pg.inner_text("#cite-pop-src")
        pg.keyboard.press("j")  # page shortcuts stay quiet while the dialog is open
        assert pg.get_attribute(".para.is-target", "id") == "p-" + pid
        pg.keyboard.press("Escape")
        pg.wait_for_function("!document.querySelector('dialog.cite-pop').open")
        assert pg.evaluate("document.activeElement.classList.contains('cite-para')")
        assert not problems, problems
    finally:
        ctx.close()


def test_cite_dialog_without_clipboard_selects_for_manual_copy(browser, server):
    ctx = _cite_context(browser, server, clipboard=False)
    ctx.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});")
    pg = ctx.new_page()
    try:
        pg.goto(server + "?q=出庭应诉率&region=乐都区")
        pg.locator("ol.hits a.cite").first.click()
        pg.wait_for_selector(OPEN_READY)
        pg.click(".cite-pop-copy")
        pg.wait_for_selector(".cite-pop-manual")
        assert "Ctrl+C" in pg.inner_text(".cite-pop-status") and "已复制" not in pg.inner_text(".cite-pop-status")
        assert pg.evaluate("""() => { const t = document.activeElement;
            return t.id === 'cite-pop-text' && t.selectionStart === 0 && t.selectionEnd === t.value.length
                   && t.value.length > 20; }""")
    finally:
        ctx.close()


def test_cite_without_javascript_is_a_page(browser, server):
    ctx = browser.new_context(java_script_enabled=False, locale="zh-CN")
    pg = ctx.new_page()
    try:
        pg.goto(server + "?q=出庭应诉率&region=乐都区")
        pg.locator("ol.hits a.cite").first.click()
        pg.wait_for_url("**/cite/**")
        assert pg.inner_text("h1") == "引用这一段"
        assert pg.locator("pre.citation").count() == 6
        assert pg.inner_text("#cite-bibtex").startswith("@report{")
        assert pg.locator("button.copy-pre").first.is_hidden()  # copy buttons only with JS
    finally:
        ctx.close()


def test_cite_page_copy_buttons(browser, server):
    ctx = _cite_context(browser, server)
    pg = ctx.new_page()
    problems = _watch(pg)
    try:
        pg.goto(server + "?q=出庭应诉率&region=乐都区")
        href = pg.locator("ol.hits a.cite").first.get_attribute("href")
        pg.goto(server.rstrip("/") + href)
        pg.click('button[data-copy-for="cite-ris"]')
        pg.wait_for_selector("#fmt-ris .copy-status:text('已复制')")
        assert pg.evaluate("navigator.clipboard.readText()") == pg.text_content("#cite-ris")
        assert not problems, problems
    finally:
        ctx.close()


def test_export_buttons_download_every_hit(browser, server):
    """导出全部 → CSV and Excel: real downloads through the browser, every hit of the search."""
    import csv
    import io
    import json
    import urllib.request

    from openpyxl import load_workbook

    with urllib.request.urlopen(server + "api/search?q=%E6%B3%95%E6%B2%BB&per_page=1") as resp:
        total = json.load(resp)["total"]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    try:
        pg.goto(server + "?q=法治")
        with pg.expect_download() as got:
            pg.click("a.export:has-text('CSV')")
        download = got.value
        assert download.suggested_filename.endswith(".csv")
        rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
        assert rows[0][0] == "报告标题" and len(rows) == total + 1 > 11  # more than the page shows
        with pg.expect_download() as got:
            pg.click("a.export:has-text('Excel')")
        assert got.value.suggested_filename.endswith(".xlsx")
        book = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True)
        assert sum(1 for _ in book.active.iter_rows()) == total + 1
        book.close()
    finally:
        ctx.close()


def _contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours."""
    def luminance(css: str) -> float:
        r, g, b = [int(float(x)) for x in re.findall(r"[\d.]+", css)[:3]]
        def ch(c):
            c = c / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_results_and_report_pages_are_accessible(browser, server):
    """An <h1> on the results page, a skip link to the filters first in keyboard order after the
    search box, paragraph numbers and 引用 links at ≥ 4.5:1, no keyboard hints on a touch screen."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    try:
        pg.goto(server + "?q=法治")
        assert "法治" in pg.inner_text("h1")
        pg.focus("#q")
        for _ in range(6):  # past the search form's own controls
            pg.keyboard.press("Tab")
            if pg.evaluate("document.activeElement.className") == "skip-to-filters":
                break
        assert pg.evaluate("document.activeElement.className") == "skip-to-filters"
        pg.keyboard.press("Enter")
        assert pg.evaluate("location.hash") == "#filters"
        pg.click("a.hit-open >> nth=0")
        pg.wait_for_selector(".para .pno")
        for selector in (".para .pno", ".para .cite-para"):
            fg, bg = pg.eval_on_selector(selector, "e => { const s = getComputedStyle(e); let b = e, c;"
                                                   " do { c = getComputedStyle(b).backgroundColor; b = b.parentElement; }"
                                                   " while (b && (c === 'rgba(0, 0, 0, 0)' || c === 'transparent'));"
                                                   " return [s.color, c]; }")
            assert _contrast(fg, bg) >= 4.5, (selector, fg, bg)
    finally:
        ctx.close()
    touch = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN", is_mobile=True, has_touch=True)
    pg = touch.new_page()
    try:
        pg.goto(server)
        assert not pg.is_visible(".intro .kbd-hint") and not pg.is_visible(".foot .kbd-hint")
    finally:
        touch.close()


def test_the_search_survives_navigation_and_is_remembered(page, server):
    """‹ 返回检索结果 goes back to the very search (filters, sort, page); a new query keeps the
    filters; recent searches are listed on the home page, as text, from this browser only."""
    import json
    import urllib.parse
    import urllib.request

    with urllib.request.urlopen(server + "api/search?q=%E6%B3%95%E6%B2%BB&per_page=1") as resp:
        region = next(f["value"] for f in json.load(resp)["facets"]["region"] if f["count"] > 10)
    pg = page
    start = server + "?" + urllib.parse.urlencode({"q": "法治", "region": region, "sort": "date", "page": 2})
    pg.goto(start)
    pg.click("ol.hits a.hit-title >> nth=0")
    pg.wait_for_selector("a.back")
    pg.click("a.back")
    pg.wait_for_selector("#summary")
    got = urllib.parse.parse_qs(urllib.parse.urlsplit(pg.url).query)
    assert got == {"q": ["法治"], "region": [region], "sort": ["date"], "page": ["2"]}
    pg.fill("#q", "依法行政")
    pg.keyboard.press("Enter")
    pg.wait_for_selector("#summary")
    kept = urllib.parse.parse_qs(urllib.parse.urlsplit(pg.url).query)
    assert kept["q"] == ["依法行政"] and kept["region"] == [region] and kept["sort"] == ["date"]
    assert "全部清除" in pg.inner_text(".chips")
    hostile = '<img src=x onerror=alert(1)>'
    pg.goto(server + "?" + urllib.parse.urlencode({"q": hostile}))
    pg.goto(server)
    recent = pg.locator("#recent a").all_inner_texts()
    assert recent[:3] == [hostile, "依法行政", "法治"]
    assert pg.locator("#recent img").count() == 0 and not pg.problems


@pytest.mark.parametrize("path", ["quote?q=%E5%87%BA%E5%BA%AD%E5%BA%94%E8%AF%89%E7%8E%87", "citations"])
def test_quote_and_citations_pages_fit_a_phone_and_are_styled(browser, server, path):
    """/quote and /citations on a 390 px phone: no sideways scrolling, a wide text box, the accent
    button, table headers on one line (a 20-column box, a grey button, one character a line and a
    690 px page before)."""
    ctx = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN", is_mobile=True)
    pg = ctx.new_page()
    try:
        assert pg.goto(server + path).status == 200
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
        if path.startswith("quote"):
            assert pg.eval_on_selector("#quote-text", "e => e.getBoundingClientRect().width") >= 300
            color = pg.eval_on_selector(".quote-form button", "e => getComputedStyle(e).backgroundColor")
            assert color == "rgb(164, 38, 44)", color  # --accent, not the browser's grey
            assert pg.locator(".quote-match").count() >= 1
        else:
            heights = pg.eval_on_selector_all("table.cited th", "ths => ths.filter(t => t.offsetParent)"
                                                                ".map(t => t.getBoundingClientRect().height)")
            line = pg.eval_on_selector("table.cited th", "e => parseFloat(getComputedStyle(e).fontSize)")
            assert heights and max(heights) < 3 * line, (heights, line)
    finally:
        ctx.close()


def test_advanced_search_writes_the_query_into_the_box(page, server):
    """高级检索 (issue 13): as boxes are filled in, the query they make appears in the search box;
    submitted, the results page is that query's, and a bad box is named before submitting."""
    import urllib.parse

    pg = page
    pg.goto(server)
    pg.click("header a[href$='/advanced']")
    pg.wait_for_selector("form.advanced-form")
    pg.fill("#adv-all_words", "行政复议")
    pg.fill("#adv-none_words", "临猗")
    pg.fill("#adv-phrase", "双随机 一公开")
    pg.fill("#adv-year_from", "2020")
    want = '行政复议 "双随机 一公开" -临猗 year:2020..'
    pg.wait_for_function("want => document.getElementById('q').value === want", arg=want, timeout=10_000)
    assert pg.inner_text("#adv-query") == want
    assert pg.eval_on_selector("#adv-region", "e => e.list && e.list.options.length") >= 1  # the corpus's places
    pg.fill("#adv-phrase", "")
    pg.fill("#adv-year_to", "20x1")
    pg.wait_for_selector("#adv-error .error", timeout=10_000)
    assert "不是年份" in pg.inner_text("#adv-error")
    pg.fill("#adv-year_to", "2022")
    pg.wait_for_function("() => document.getElementById('q').value.endsWith('year:2020..2022')", timeout=10_000)
    assert pg.inner_text("#adv-error") == ""
    pg.click("form.advanced-form button[type=submit]")
    pg.wait_for_selector("#summary")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(pg.url).query)["q"]
    assert q == ["行政复议 -临猗 year:2020..2022"]
    assert pg.input_value("#q") == q[0] and summary_total(pg) >= 1
    assert not pg.problems


@pytest.fixture(scope="module")
def citing_server(tmp_path_factory):
    """A server on the seeds and a report that cites one of them by 文号 and by title."""
    from test_in_text_references import make_citing_corpus

    base = tmp_path_factory.mktemp("browser-citing")
    corpus = make_citing_corpus(base)
    with serve_process(base / "index", corpus, cwd=base) as served:
        yield served.url


def test_references_in_the_text_are_links(browser, citing_server):
    """In a report's text, a 文号 and a 《title》 of a report in the corpus open that report; a title
    the corpus does not hold opens the paragraphs citing it."""
    from test_in_text_references import CITING, R000

    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    try:
        pg.goto(citing_server + f"reports/{CITING}")
        link = pg.locator("a.ref-docno", has_text="互政〔2022〕4号")
        assert link.count() == 1
        link.click()
        pg.wait_for_url(f"**/reports/{R000}")
        assert "互助土族自治县人民政府关于互助县2021年度" in pg.inner_text("h1")
        pg.go_back()
        pg.click("a.ref-title >> text=《法治政府建设实施纲要（2021—2025年）》")
        pg.wait_for_selector("#summary")
        assert summary_total(pg) >= 3
        assert pg.input_value("#q").startswith("cites:法治政府建设实施纲要")
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def reuse_server(tmp_path_factory):
    """A server on the seeds and a copy of seed 000 with its numbers and places changed."""
    import shutil

    from conftest import CORPUS
    from test_reuse import COPY, _copy_text

    base = tmp_path_factory.mktemp("browser-reuse")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / f"{COPY}.txt").write_text(_copy_text()[0], encoding="utf-8")
    with serve_process(base / "index", corpus, cwd=base) as served:
        yield served.url


def test_reuse_from_the_passages_to_the_hits_and_the_reports(browser, reuse_server):
    """Text reuse (issue 16) clicked through: /reuse lists the passages (and fits a phone), a
    passage lists its paragraphs, 合并近似段落 folds the copy's hits into the seed's, and a report
    page names its copy among its relatives and labels its paragraphs."""
    from test_reuse import COPY, SEED

    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    try:
        assert pg.goto(reuse_server + "reuse").status == 200
        assert pg.locator(".reuse-cluster").count() >= 10
        assert pg.locator(".reuse-cluster svg.bars").count() >= 20  # by year and by region
        pg.locator(".reuse-cluster .reuse-actions a").first.click()
        pg.wait_for_selector("#summary")
        assert "similar:" in pg.input_value("#q") and summary_total(pg) >= 2
        pg.goto(reuse_server + "?q=" + "法治政府建设工作领导小组")
        plain = summary_total(pg)
        pg.click("#collapse-toggle")
        pg.wait_for_selector(".collapsed-note")
        assert pg.get_attribute("#collapse-toggle", "aria-pressed") == "true"
        folded = int(pg.inner_text(".collapsed-note strong"))
        assert folded < plain and pg.locator(".folded-note a").count() >= 1
        pg.locator(".folded-note a").first.click()
        pg.wait_for_selector("#summary")
        assert "similar:" in pg.input_value("#q")
        pg.goto(reuse_server + f"reports/{SEED}")
        box = pg.locator("details.report-relatives")
        assert box.get_attribute("open") is not None
        assert box.locator("li a").first.get_attribute("href").endswith(f"/reports/{COPY}")
        assert pg.locator(".similar-para.reuse-shared").count() >= 10
        pg.locator(".similar-para.reuse-shared").first.click()
        pg.wait_for_selector(".similar-list")
        assert COPY in pg.content()
        assert not problems, problems
    finally:
        ctx.close()
    phone = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN", is_mobile=True)
    try:
        pp = phone.new_page()
        assert pp.goto(reuse_server + "reuse").status == 200
        assert pp.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()


@pytest.fixture(scope="module")
def laws_server(tmp_path_factory):
    """A server on the seeds and the laws of tests/law_factory.py, with a report citing their articles."""
    from law_factory import seeds_with_laws

    base = tmp_path_factory.mktemp("browser-laws")
    corpus = seeds_with_laws(base)
    with serve_process(base / "index", corpus, cwd=base) as served:
        yield served.url


def test_a_cited_article_shows_its_text_beside_the_report(browser, laws_server):
    """Hovering 《行政复议法》第二十三条 shows the article in the side panel; Escape closes it; a
    second click opens the article in its law, its paragraphs marked; the law lists its articles'
    citations."""
    from law_factory import FUYI_ARTICLES

    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    try:
        pg.goto(laws_server + "reports/laws~citing")
        panel = pg.locator("#article-panel")
        assert panel.is_hidden()
        link = pg.locator("a.ref-article", has_text="《行政复议法》第二十三条")
        link.hover()
        panel.wait_for(state="visible")
        text = panel.inner_text()
        assert "中华人民共和国行政复议法 第二十三条" in text and FUYI_ARTICLES[23][2] in text
        pg.keyboard.press("Escape")
        panel.wait_for(state="hidden")
        # Another article replaces it; the panel fits beside the text.
        pg.locator("a.ref-article", has_text="第六条").hover()
        panel.wait_for(state="visible")
        assert "第六条 国家鼓励、引导、支持和保护各种所有制经济发展。" in panel.inner_text()
        box = panel.bounding_box()
        assert box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 900
        # A click opens the article in its law.
        link.click()
        pg.wait_for_url("**/reports/laws~fuyi**")
        marked = pg.locator(".para.is-target")
        assert marked.count() == 4 and FUYI_ARTICLES[23][3] in marked.last.inner_text()
        assert pg.locator("details.articles-cited li").count() == 3
        assert "第十二条：2 段 · 2 份报告" in pg.locator("details.articles-cited").inner_text()
        assert not problems, problems
    finally:
        ctx.close()
    # On a phone a finger has no hover: the first tap shows the article, the second opens it.
    phone = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN", has_touch=True, is_mobile=True)
    pg = phone.new_page()
    try:
        pg.goto(laws_server + "reports/laws~citing")
        link = pg.locator("a.ref-article", has_text="《行政复议法》第二十三条")
        link.tap()
        pg.locator("#article-panel").wait_for(state="visible")
        assert "/reports/laws~citing" in pg.url
        box = pg.locator("#article-panel").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        link.tap()
        pg.wait_for_url("**/reports/laws~fuyi**")
    finally:
        phone.close()
