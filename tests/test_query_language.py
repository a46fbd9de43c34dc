"""The query language as researchers type it (issue 13): every operator in its ASCII, full-width
and Chinese forms, parentheses that group without breaking text that holds parentheses, quotes
with escapes, and errors in Chinese that point at the place. The parser is checked against
itself (each form parses as its ASCII form) and the engine against a plain scan of the seed
corpus's source paragraphs with the boolean expression written out by hand."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.normalise import fold
from indexer.search.query import QueryError, parse_query


def _shape(q: str):
    """What a query searches: its clauses (each an OR of folded terms, or a /s pair) and exclusions."""
    p = parse_query(q)
    clauses = sorted(tuple(sorted(t.folded for t in c.terms())) + (("/s",) if c.same_sentence else ())
                     for c in p.clauses)
    return clauses, sorted(t.folded for t in p.excluded)


@pytest.mark.parametrize("ascii_form, others", [
    ("复议 OR 诉讼", ["复议 | 诉讼", "复议|诉讼", "复议 ｜ 诉讼", "复议｜诉讼", "复议 或 诉讼", "复议 or 诉讼", "复议 Or 诉讼"]),
    ("复议 诉讼", ["复议 AND 诉讼", "复议 and 诉讼", "复议 与 诉讼", "复议　诉讼"]),  # the last: an ideographic space
    ("复议 -诉讼", ["复议 －诉讼", "复议 NOT 诉讼", "复议 not 诉讼", "复议 非 诉讼", "复议 −诉讼"]),
    ("(复议 OR 诉讼) 败诉", ["（复议 OR 诉讼） 败诉", "（复议 ｜ 诉讼）与 败诉", "( 复议 或 诉讼 ) 败诉", "败诉 (复议|诉讼)",
                           "（复议｜诉讼）败诉", "败诉（复议|诉讼）"]),  # without spaces, as Chinese is typed
    ("复议 -(撤诉 OR 调解)", ["复议 －（撤诉 或 调解）", "复议 非 (撤诉 | 调解)", "复议 -撤诉 -调解"]),
    ('"双随机、一公开" -临猗', ['"双随机、一公开" －临猗', '“双随机、一公开” 非 临猗']),
    ("region:互助 法治", ["region：互助 法治", "法治 REGION:互助"]),
])
def test_every_form_of_an_operator_searches_as_its_ascii_form(ascii_form, others):
    want = _shape(ascii_form)
    for q in others:
        assert _shape(q) == want, q
    if ascii_form.startswith("region"):
        assert parse_query("region：互助 法治").filters.region == parse_query(ascii_form).filters.region == ["互助"]


@pytest.mark.parametrize("q, clauses, excluded", [
    ("a b OR c", [("a",), ("b", "c")], []),  # OR binds tighter than AND
    ("(a b) OR c", [("a", "c"), ("b", "c")], []),  # an OR of ANDs, multiplied out
    ("((a OR b) c) d", [("a", "b"), ("c",), ("d",)], []),
    ("a NOT NOT b", [("a",), ("b",)], []),
    ("一村（社区）一法律顾问", [("一村(社区)一法律顾问",)], []),  # parentheses inside a word are text
    ("（一）", [("(一)",)], []),  # a parenthesis around one word is text
    ("七)", [("七)",)], []),  # a heading that lost its opening parenthesis
    ("第二条(一) 复议", [("复议",), ("第二条(一)",)], []),
    ('"“八五”普法"', [("“八五”普法",)], []),  # the other kind of quote inside quotes
    ('“他说 "依法" 行政”', [(fold('他说 "依法" 行政'),)], []),
    ('"4\\"号"', [('4"号',)], []),  # an escaped quote
    ('"a | b OR c"', [(fold("a | b OR c"),)], []),  # operators inside quotes are text
    ('"或"', [("或",)], []),
    ("或者 与其", [("与其",), ("或者",)], []),  # word operators only as whole words
    ("法律顾问 /s 村", [("村", "法律顾问", "/s")], []),
])
def test_grouping_precedence_and_literal_text(q, clauses, excluded):
    assert _shape(q) == (sorted(clauses), excluded)


@pytest.mark.parametrize("q", ["(复议 OR 诉讼) 败诉 -撤诉", "a b OR c", "(a b) OR c", '"a b" "4\\"号" -"x y"',
                               "一村（社区）一法律顾问", "复议 -(撤诉 OR 调解)", "（一） 七)", "法律顾问 /s 村"])
def test_the_searched_form_shown_is_a_query_that_searches_the_same(q):
    shown = parse_query(q).folded_display()
    assert _shape(shown) == _shape(q), shown


@pytest.mark.parametrize("q, fragment, position", [
    ('复议 "诉讼', "引号没有闭合", 3),
    ("“诉讼", "缺少对应的 ”", 0),
    ("(复议 OR 诉讼", "没有对应的右括号", 0),
    ("复议 OR", "OR 两边都要有检索词", 3),
    ("或 复议", "或 两边都要有检索词", 0),
    ("复议 与", "与 两边都要有检索词", 3),
    ("复议 非", "非 后面要跟一个检索词", 3),
    ("-复议 OR 诉讼", "不能放进 OR 里", 0),
    ("诉讼 -(复议 败诉)", "不能放进 OR 里", 3),
    ("a /s b OR c", "/s、/N 和 ~ 不能与 OR", 0),
    ("region:互助 OR 法治", "字段条件不能用 OR 连接", 0),
    ("(region:互助 法治)", "要写在括号、OR 和排除之外", 1),
    ("法治 foo:bar", "未知的字段 foo:", 3),
    ("法治 region:", "region: 后面缺少要限定的值", 10),
    ("year:2023..2020 法治", "终止年早于起始年", 0),
    ("-法治", "没有可检索的内容", 0),
    ("( )", "括号里没有检索词", 0),
    ("(a b) OR (c d) OR (e f) OR (g h) OR (i j) OR (k l)", "条件太多", None),
])
def test_errors_are_in_chinese_and_point_at_the_place(q, fragment, position):
    with pytest.raises(QueryError) as err:
        parse_query(q)
    assert fragment in err.value.message, err.value.message
    if position is not None:
        assert err.value.position == position
        assert err.value.pointer().splitlines()[-1].endswith("^")


# -- the engine against a scan of source paragraphs ------------------------------------------------
def _scan(engine, holds, positives):
    """Rows the engine should give: the chunks, holding a positive term themselves, of every source
    paragraph (all its chunks together) for which ``holds(contains)`` is true, ``contains(term)``
    telling whether some chunk of the paragraph holds the term."""
    store = engine.store
    texts = [store.folded_text(i) for i in range(len(store))]
    by_group: dict[int, list[int]] = {}
    for i, g in enumerate(store.groups.tolist()):
        by_group.setdefault(g, []).append(i)
    want = []
    for rows in by_group.values():
        if holds(lambda term: any(term in texts[i] for i in rows)):
            want += [i for i in rows if any(t in texts[i] for t in positives)]
    return sorted(want)


@pytest.mark.parametrize("q, holds, positives", [
    ("(复议 OR 诉讼) 败诉", lambda c: (c("复议") or c("诉讼")) and c("败诉"), ["复议", "诉讼", "败诉"]),
    ("（行政复议 ｜ 行政诉讼） －应诉", lambda c: (c("行政复议") or c("行政诉讼")) and not c("应诉"), ["行政复议", "行政诉讼"]),
    ("法治 NOT (政府 OR 建设)", lambda c: c("法治") and not (c("政府") or c("建设")), ["法治"]),
    ("(法律顾问 村) OR (法律顾问 社区)", lambda c: (c("法律顾问") and c("村")) or (c("法律顾问") and c("社区")),
     ["法律顾问", "村", "社区"]),
    ("出庭 与 应诉 非 负责人", lambda c: c("出庭") and c("应诉") and not c("负责人"), ["出庭", "应诉"]),
    ("普法 或 宣传 与 教育", lambda c: (c("普法") or c("宣传")) and c("教育"), ["普法", "宣传", "教育"]),
])
def test_boolean_queries_equal_a_scan_of_source_paragraphs(engine, q, holds, positives):
    got = sorted(engine.match(engine.parse(q)).tolist())
    want = _scan(engine, holds, positives)
    assert want, f"{q}: the seed corpus should have hits"
    assert got == want
    assert engine.search(q).total == len(want)


def test_the_issues_examples(engine):
    with_space = engine.search('"双随机、一公开" －临猗')
    assert with_space.folded == "双随机、一公开 -临猗"
    assert with_space.total == engine.search('"双随机、一公开" -临猗').total > 0
    hits = engine.match(engine.parse("一村（社区）一法律顾问"))
    assert hits.size and all("一村(社区)一法律顾问" in engine.store.folded_text(int(i)) for i in hits)
    assert np.array_equal(hits, engine.match(engine.parse('"一村（社区）一法律顾问"')))


@pytest.mark.parametrize("q", ['"双随机 一公开" 不在语料里的短语', "复议 AND 不在语料里的短语", '"法治 OR 政府" "区 (县"',
                               "出庭应诉率 不在语料里的短语"])
def test_suggestions_are_queries_that_find_what_they_say(engine, q):
    from indexer.search.query import Filters

    assert engine.search(q).total == 0
    suggestions = engine.suggestions(q, Filters())
    for s in suggestions:
        assert engine.search(s.query).total == s.count > 0, s.query  # parses, and finds that many
        assert " AND " not in s.query and "OR OR" not in s.query
    assert suggestions or q.startswith('"法治')


def test_a_county_by_its_common_name(engine):
    """region:互助县 found nothing: the corpus knows 互助土族自治县 (issue 13)."""
    full = engine.search("法治 region:互助土族自治县").total
    assert full > 0
    assert engine.search("法治 region:互助县").total == engine.search("法治 region:互助").total == full
    assert {h.report.region for h in engine.search("法治 region:互助县", per_page=100).hits} == {"互助土族自治县"}
    assert engine.search("法治 region:互助市").total == 0  # the short name keeps its kind of place


@pytest.mark.parametrize("field, value, holds", [
    ("title", "工作要点", lambda ref: "工作要点" in ref.title),
    ("title", "法治政府建设", lambda ref: "法治政府建设" in ref.title),
    ("issuer", "人民政府办公室", lambda ref: any("人民政府办公室" in i for i in ref.issuers)),
    ("issuer", "临猗县", lambda ref: any("临猗县" in i for i in ref.issuers)),
    ("date", "2022-01..2022-06", lambda ref: "2022-01-01" <= ref.date <= "2022-06-30" if ref.date else False),
    ("date", "2022-01-17", lambda ref: ref.date == "2022-01-17"),
    ("date", "2022", lambda ref: ref.date.startswith("2022")),
    ("date", "..2022-01-18", lambda ref: bool(ref.date) and ref.date <= "2022-01-18"),
    ("date", "2022年1月", lambda ref: ref.date.startswith("2022-01")),
])
def test_title_issuer_and_date_fields_filter_reports(engine, field, value, holds):
    """title:, issuer: (发文机关) and date: ranges (issue 13), against each report's own metadata."""
    every = engine.search("法治", per_page=100, sort="report")
    want = [h.id for h in every.hits if holds(h.report)]
    got = engine.search(f"法治 {field}:{value}", per_page=100, sort="report")
    assert [h.id for h in got.hits] == want and got.total == len(want)
    if value in ("工作要点", "2022-01-17", "人民政府办公室"):
        assert want


def test_bad_dates_are_named(engine):
    for q, says in (("法治 date:2022-13", "不是日期"), ("法治 date:2023..2022", "终止日早于起始日"),
                    ("法治 date:2022-02-30", "不是日期")):
        with pytest.raises(QueryError, match=says):
            engine.parse(q)
