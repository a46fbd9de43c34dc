"""Near matches (近似, issue 13): `~phrase` finds the phrase's words in order, each at most
`near_gap` characters after the one before; `a /N b` finds b at most N characters after a. Checked
against a regular-expression scan of every folded paragraph of the seed corpus; a one-phrase search
with few exact hits offers its near matches, counted apart from the exact total."""
from __future__ import annotations

import re

import pytest

from indexer.analysis import plain_words


def _scan(engine, words: list[str], gaps: list[int]) -> list[int]:
    pattern = re.compile(re.escape(words[0]) + "".join(f".{{0,{g}}}?{re.escape(w)}" for w, g in zip(words[1:], gaps)),
                         re.S)
    return [i for i in range(len(engine.store)) if pattern.search(engine.store.folded_text(i))]


def _rows(engine, q: str) -> list[int]:
    return sorted(engine.match(engine.parse(q)).tolist())


def test_the_issues_example_finds_its_near_matches_apart_from_the_exact_total(engine):
    words = plain_words("一村一法律顾问")
    assert words == ["一村", "一", "法律顾问"]
    exact = engine.search("一村一法律顾问")
    assert exact.total == 0  # the reports say 一村（社区）一法律顾问
    want = _scan(engine, words, [8, 8])
    assert want and exact.near == {"query": "~一村一法律顾问", "words": words, "gap": 8, "total": len(want)}
    near = engine.search("~一村一法律顾问", per_page=100)
    assert _rows(engine, "~一村一法律顾问") == want and near.total == len(want)
    assert near.folded == "一村 /8 一 /8 法律顾问"
    for hit in near.hits:
        assert hit.gap is not None and 0 < hit.gap <= 16  # (社区) between 一村 and 一: 4 characters
        assert all(hit.text[s:e] != "一" for s, e in hit.highlights)  # one-character words are not marked
    assert any(h.gap == 4 and "一村（社区）一法律顾问" in h.text for h in near.hits)


@pytest.mark.parametrize("q, words, gaps", [
    ("村 /6 法律顾问", ["村", "法律顾问"], [6]),
    ("行政 /4 案件", ["行政", "案件"], [4]),
    ("法律顾问 /10 村", ["法律顾问", "村"], [10]),
    ("行政 /2 复议 /5 案件", ["行政", "复议", "案件"], [2, 5]),
    ("~出庭应诉率", ["出庭", "应诉", "率"], [8, 8]),
    ("~依法行政工作", plain_words("依法行政工作"), [8] * (len(plain_words("依法行政工作")) - 1)),
])
def test_near_matches_equal_a_scan(engine, q, words, gaps):
    want = _scan(engine, words, gaps)
    assert want, q
    assert _rows(engine, q) == want
    exact_rows = set(_rows(engine, '"' + "".join(words) + '"'))
    assert exact_rows <= set(want)  # the phrase itself is the closest near match
    for hit in engine.search(q, per_page=100).hits:
        assert hit.gap is not None and hit.gap <= sum(gaps)


def test_a_wider_or_narrower_gap_is_a_setting(seed_index):
    from indexer.search.engine import SearchEngine

    narrow = SearchEngine(seed_index, near_gap=2)
    try:
        assert narrow.search("~一村一法律顾问").total == 0  # (社区) is 4 characters
        assert narrow.search("一村一法律顾问").near is None
    finally:
        narrow.close()


def test_many_exact_hits_offer_no_near_matches_and_operators_are_checked(engine):
    assert engine.search("出庭应诉率").near is None or engine.search("出庭应诉率").total < 5
    assert engine.search("法治").near is None
    from indexer.search.query import QueryError

    for q, says in (("-~一村一法律顾问 法治", "不能排除"), ("~一村一法律顾问 OR 法治", "不能与 OR"), ("法律顾问 /8", "两边都要有检索词")):
        with pytest.raises(QueryError, match=says):
            engine.parse(q)


def test_the_web_and_the_command_line_show_them(seed_index):
    import subprocess
    import sys

    from conftest import ROOT
    from webapp import create_app

    client = create_app(seed_index).test_client()
    d = client.get("/api/search?q=一村一法律顾问").get_json()
    assert d["total"] == 0 and d["near"]["total"] > 0
    page = client.get("/?q=一村一法律顾问").get_data(as_text=True)
    assert 'class="near-offer"' in page and "q=~%E4%B8%80%E6%9D%91" in page and "不计入精确结果" in page
    near_page = client.get("/?q=~一村一法律顾问").get_data(as_text=True)
    assert near_page.count('class="tag tag-near"') == d["near"]["total"]
    hits = client.get("/api/search?q=~一村一法律顾问").get_json()["hits"]
    assert all(h["gap"] is not None for h in hits)
    cli = subprocess.run([sys.executable, "-m", "indexer.cli", "search", "一村一法律顾问", "--index", str(seed_index)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert cli.returncode == 1 and "Near matches:" in cli.stdout and "search ~一村一法律顾问" in cli.stdout
