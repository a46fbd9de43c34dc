"""Search on the real seed corpus: substring truth, folding, ranking, highlights, filters, errors."""
from __future__ import annotations

import re

import pytest

from indexer.normalise import fold
from indexer.reading.report import read_report
from indexer.search.query import QueryError
from indexer.store.schema import report_id

from conftest import SEEDS


@pytest.fixture(scope="module")
def scan_paragraphs():
    """(rid, ordinal) -> folded text, straight from the files: the plain substring reference."""
    out = {}
    for path in SEEDS:
        report = read_report(path)
        for p in report.paragraphs:
            out[(report_id(path.name), p.ordinal)] = fold(p.text)
    return out


def engine_keys(engine, q):
    idx = engine.match(engine.parse(q))
    store = engine.store
    return {(store.reports[int(store.report_idx[i])].rid, int(store.ordinals[i])) for i in idx}


SUBSTRING_QUERIES = [
    "出庭应诉率", "出庭应诉", "一村一法律顾问", "一村（社区）一法律顾问", "治政府建", "治政府", "政执法人",
    "2021年", "2021 年", "行政復議", "行政复议", "双随机、一公开", "一次办", "次办", "89%", "〔2022〕",
    "互政[2022]4号", "(一)", "（一）", "：", "法治政府建设", "法律顾问", "北京中盈律师事务所", "12·4",
    "2.36万件", "义义务", "领导干部履职评定挂钩", "ＡＰＰ", "app", "1+9+x", "《", "的", "乐都区",
    "不在语料里的短语", "县",
]


@pytest.mark.parametrize("q", SUBSTRING_QUERIES)
def test_hits_equal_plain_substring_scan(engine, scan_paragraphs, q):
    term = fold(q).strip()
    expected = {k for k, text in scan_paragraphs.items() if term in text}
    got = engine_keys(engine, f'"{q}"' if " " in q else q)
    assert got == expected
    assert engine.search(f'"{q}"' if " " in q else q).total == len(expected)


def test_jieba_word_boundaries_do_not_matter(engine, scan_paragraphs):
    # jieba cuts 出庭应诉率为 as 出庭/应诉/率为: a word-level phrase engine misses 应诉率; substring search does not.
    expected = {k for k, t in scan_paragraphs.items() if "应诉率" in t}
    assert expected and engine_keys(engine, "应诉率") == expected


@pytest.fixture(scope="module")
def source_paragraphs():
    """{(rid, block): [(ordinal, folded chunk), …]}: the chunks of every source paragraph (a run-in
    heading and its body, the pieces of a long paragraph), straight from the files."""
    out: dict = {}
    for path in SEEDS:
        for p in read_report(path).paragraphs:
            out.setdefault((report_id(path.name), p.block), []).append((p.ordinal, fold(p.text)))
    return out


def source_scan(source_paragraphs, clauses: list[list[str]], excluded: list[str] = ()) -> set:
    """The reference of same-paragraph semantics: every clause (an OR of terms) holds somewhere in
    the source paragraph and no excluded term occurs in it; the hits are its chunks that hold a term."""
    out = set()
    for (rid, _), chunks in source_paragraphs.items():
        texts = [t for _, t in chunks]
        if all(any(term in t for t in texts for term in clause) for clause in clauses) and \
                not any(term in t for t in texts for term in excluded):
            out |= {(rid, o) for o, t in chunks if any(term in t for clause in clauses for term in clause)}
    return out


@pytest.mark.parametrize("q,clauses,excluded", [
    ("2021年 行政复议", [["2021年"], ["行政复议"]], []),
    ("复议 OR 诉讼", [["复议", "诉讼"]], []),
    ("复议 | 诉讼 法律顾问", [["复议", "诉讼"], ["法律顾问"]], []),
    ('"双随机、一公开" -临猗', [["双随机、一公开"]], ["临猗"]),
    ("法治 -政府", [["法治"]], ["政府"]),
    ("矛盾纠纷 人民调解", [["矛盾纠纷"], ["人民调解"]], []),
    ("依法 行政 -复议", [["依法"], ["行政"]], ["复议"]),
])
def test_boolean_semantics_equal_scan_of_source_paragraphs(engine, source_paragraphs, q, clauses, excluded):
    expected = source_scan(source_paragraphs, clauses, excluded)
    assert expected, q
    assert engine_keys(engine, q) == expected


def test_and_reaches_across_chunks_of_one_source_paragraph(engine, source_paragraphs, scan_paragraphs):
    per_chunk = {k for k, t in scan_paragraphs.items() if "矛盾纠纷" in t and "人民调解" in t}
    got = engine_keys(engine, "矛盾纠纷 人民调解")
    assert per_chunk < got  # strictly more than a chunk-by-chunk AND finds
    of_split = {(rid, o) for (rid, _), chunks in source_paragraphs.items() if len(chunks) > 1 for o, _ in chunks}
    assert got - per_chunk <= of_split  # the extra hits are chunks of split source paragraphs


def test_same_sentence(engine, scan_paragraphs):
    def same_sentence(t):
        return any("法律顾问" in s and "县" in s for s in re.split(r"(?<=[。！？!?；;])", t))

    expected = {k for k, t in scan_paragraphs.items() if same_sentence(t)}
    loose = {k for k, t in scan_paragraphs.items() if "法律顾问" in t and "县" in t}
    assert expected and expected < loose  # the operator really narrows
    assert engine_keys(engine, "法律顾问 /s 县") == expected


def test_filters(engine, scan_paragraphs):
    total_2021 = engine.search("法治").total
    only_yanchi = engine.search("法治 region:盐池")
    assert 0 < only_yanchi.total < total_2021
    assert {h.report.region for h in only_yanchi.hits} == {"盐池县"}
    assert {h.report.region for h in engine.search("法治 region:海东市", per_page=100).hits} == {"互助土族自治县", "乐都区"}
    assert {h.report.year for h in engine.search("法治 year:2020..2021", per_page=100).hits} <= {2020, 2021}
    assert engine.search("法治 year:2024").reports == 1
    assert {h.report.doc_type for h in engine.search("法治 type:总结", per_page=100).hits} == {"总结"}
    assert engine.search("法治 report:003_08e8b4a7741f3a58").reports == 1
    assert engine.search("docno:互政[2022]4号").reports == 1
    assert engine.search("docno:互政〔2022〕4号 出庭应诉率").total == 1
    sec = engine.search("section:复议", per_page=100)
    assert sec.total > 0 and all(any("复议" in fold(s) for s in h.section) for h in sec.hits)


def test_highlights_land_on_original_text(engine):
    result = engine.search("行政復議", per_page=50)
    assert result.total > 0
    for hit in result.hits:
        assert hit.highlights
        for s, e in hit.highlights:
            assert fold(hit.text[s:e]) == "行政复议"
    spaced = engine.search("2021年", per_page=50)
    assert any(hit.text[s:e] == "2021 年" for hit in spaced.hits for s, e in hit.highlights)


def test_ranking_prefers_heading_and_repeated_terms(engine):
    result = engine.search("法律顾问", per_page=50)
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    top = result.hits[0]
    assert "法律顾问" in " ".join(top.section) or top.text.count("法律顾问") >= 3


def test_sort_by_date_and_report_order(engine):
    by_date = engine.search("法治", sort="date", per_page=100)
    dates = [h.report.date for h in by_date.hits if h.report.date]
    assert dates == sorted(dates, reverse=True)
    by_report = engine.search("法治", sort="report", per_page=100)
    keys = [(h.report.id, h.ordinal) for h in by_report.hits]
    assert keys == sorted(keys)


def test_totals_pages_and_groups(engine):
    first = engine.search("法治", per_page=5)
    second = engine.search("法治", per_page=5, page=2)
    assert first.total == second.total and first.total > 10
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    assert first.reports == 5
    grouped = engine.search("法治", by_report=True, per_page=10)
    assert grouped.groups is not None and len(grouped.groups) == 5
    assert sum(g.count for g in grouped.groups) == grouped.total


def test_facets_count_all_hits(engine):
    result = engine.search("法治", per_page=1)
    assert sum(c for _, c in result.facets["region"]) == result.total
    assert sum(c for _, c in result.facets["year"]) == result.total


@pytest.mark.parametrize("q,message", [
    ("", "检索式是空的"),
    ('"unclosed', "引号没有闭合"),
    ("a OR", "OR 两边都要有检索词"),
    ("foo:bar", "未知的字段 foo:"),
    ("year:20x", "不是年份"),
    ("-法治", "没有可检索的内容"),
    ("法" * 300, "检索式太长"),
    (" ".join(["法"] * 20), "检索词太多"),
])
def test_malformed_queries_get_clear_messages(engine, q, message):
    with pytest.raises(QueryError) as err:
        engine.search(q)
    assert message in err.value.message


def test_paragraph_and_report_views(engine):
    hit = engine.search("出庭应诉率为").hits[0]
    view = engine.paragraph(hit.id)
    assert view.text == hit.text and view.section == hit.section
    report = engine.report(hit.report.id)
    assert [p.ordinal for p in report.paragraphs] == list(range(1, len(report.paragraphs) + 1))
    assert report.paragraphs[view.ordinal - 1].id == hit.id
    assert engine.paragraph(view.next_id).ordinal == view.ordinal + 1


def test_pair_postings_find_exactly_what_a_scan_finds_for_every_substring(engine):
    # Every substring (1 to 8 units) of sampled paragraphs, and the substring-truth queries: the
    # rows and per-row occurrence counts of the pair postings equal a scan of every folded text.
    store = engine.store
    texts = [store.folded_text(i) for i in range(len(store))]

    def scan(term):
        rows = [i for i, t in enumerate(texts) if term in t]
        return rows, [_overlapping(texts[i], term) for i in rows]

    terms = {fold(q).strip() for q in SUBSTRING_QUERIES} | {"法", "治政", "“", "府建设", "\U00020000"}
    for i in range(0, len(store), max(1, len(store) // 25)):
        text = texts[i]
        for length in range(1, 9):
            terms |= {text[start:start + length] for start in range(0, max(len(text) - length, 0), 11)}
    assert len(terms) > 500
    for term in sorted(terms):
        rows, counts = store.term_counts(term)
        assert (rows.tolist(), counts.tolist()) == scan(term), term


def _overlapping(text: str, term: str) -> int:
    n, at = 0, text.find(term)
    while at >= 0:
        n += 1
        at = text.find(term, at + 1)
    return n


@pytest.mark.parametrize("q", ["行政复议", "出庭应诉率 法律顾问", "法治政府建设 依法行政", "2021年 行政执法"])
def test_rerank_scores_equal_whoosh_bm25f_search(engine, q):
    # The re-ranker scores paragraphs with Whoosh's BM25F scorer and word counts from each
    # paragraph's own words; that must equal what Whoosh's own search over the postings gives.
    from whoosh import query as wq

    parsed = engine.parse(q)
    words = engine.ranker.query_words(parsed.positive_terms())
    rows = engine.store.docs_containing(parsed.positive_terms()[0].folded)
    ours = engine.ranker.word_scores(words, rows.tolist())
    docnums = engine.store.whoosh_docnums()
    query = wq.Or([wq.Term("content", w) for w in words])
    theirs = {hit.docnum: hit.score for hit in engine.searcher.search(query, limit=None)}
    assert len(ours) > 3
    for i, score in ours.items():
        assert score == pytest.approx(theirs[int(docnums[i])], rel=1e-9)
    # and every row Whoosh scores is scored here too
    docnum_to_row = {int(docnums[i]): i for i in rows.tolist()}
    assert {docnum_to_row[d] for d in theirs if d in docnum_to_row} == set(ours)
