"""Finding the source of a pasted quote in the real seed corpus."""
from __future__ import annotations

import time

import opencc
import pytest

from indexer.citations.quote import QuoteMatch, find_quote
from conftest import paragraph_with

R000 = "000_0d8bbccb02c01f0a"
R001 = "001_623fe7deefd3bc57"
SENTENCE = "严格落实行政负责人出庭制度，全年办理行政应诉案件 25 件，行政机关负责人出庭应诉率为 89%。"


@pytest.fixture(scope="module")
def source(engine):
    return paragraph_with(engine, R000, SENTENCE)


def assert_found(matches, pid, min_score=1.0):
    assert matches, "quote not found"
    assert isinstance(matches[0], QuoteMatch)
    assert matches[0].pid == pid
    assert matches[0].score >= min_score
    assert all(0.0 <= m.score <= 1.0 and m.score == round(m.score, 3) for m in matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_exact_sentence(engine, source):
    matches = find_quote(engine.store, SENTENCE)
    assert_found(matches, source.id)
    m = matches[0]
    assert m.score == 1.0 and m.report_id == R000 and m.ordinal == source.ordinal and m.pids == [source.id]
    assert m.matched_text.startswith("严格落实行政负责人出庭制度") and m.matched_text.endswith("89%")
    s, e = m.span
    assert source.text[s:e] == m.matched_text


def test_punctuation_and_spaces_changed(engine, source):
    quote = "严格落实行政负责人出庭制度,全年办理行政应诉案件25件  行政机关负责人出庭应诉率为８９％."
    assert_found(find_quote(engine.store, quote), source.id, 1.0)
    quote = "严 格 落 实 行 政 负 责 人 出 庭 制 度 ——全年办理行政应诉案件 25 件；行政机关负责人出庭应诉率为 89%！"
    assert_found(find_quote(engine.store, quote), source.id, 1.0)


def test_three_characters_changed(engine, source):
    quote = SENTENCE.replace("严格落实", "严肃落实").replace("办理", "受理").replace("出庭应诉率为", "出庭应诉率达")
    assert sum(a != b for a, b in zip(quote, SENTENCE)) == 3
    matches = find_quote(engine.store, quote)
    assert_found(matches, source.id, 0.8)
    assert matches[0].score < 1.0


def test_traditional_characters(engine, source):
    quote = opencc.OpenCC("s2t").convert(SENTENCE)
    assert quote != SENTENCE
    assert_found(find_quote(engine.store, quote), source.id, 0.95)


def test_long_passage_from_the_middle_of_a_paragraph(engine):
    p = paragraph_with(engine, R001, "2.36 万件")
    if len(p.text) < 600:
        p = max(engine.report(R001).paragraphs, key=lambda x: len(x.text))
    quote = p.text[150:550]
    assert len(quote) == 400
    started = time.perf_counter()
    matches = find_quote(engine.store, quote)
    took = time.perf_counter() - started
    assert_found(matches, p.id, 1.0)
    s, e = matches[0].span
    assert p.text[s:e] == matches[0].matched_text
    assert matches[0].matched_text in quote and len(matches[0].matched_text) >= len(quote) - 3
    assert took < 2.0


def test_whole_paragraph_with_edits(engine, source):
    quote = source.text.replace("，", ",").replace("。", ". ").replace("复议", "復議")
    assert_found(find_quote(engine.store, quote), source.id, 0.95)


def test_quote_across_two_paragraphs(engine):
    report = engine.report(R000)
    body = [p for p in report.paragraphs if len(p.text) > 120]
    a = body[2]
    b = engine.paragraph(a.next_id)
    quote = a.text[-60:] + b.text[:60]
    matches = find_quote(engine.store, quote)
    assert matches and matches[0].pids == [a.id, b.id] and matches[0].pid == a.id
    assert matches[0].score >= 0.9
    assert "\n" in matches[0].matched_text


def test_not_in_corpus(engine):
    assert find_quote(engine.store, "今天天气晴朗，我们一起去公园散步，然后在湖边吃了一顿美味的午餐。") == []
    assert find_quote(engine.store, "我县坚持以人民为中心，深入推进法治政府建设，取得了显著成效，群众满意度不断提高。") == []
    assert find_quote(engine.store, "") == []
    assert find_quote(engine.store, "。，、 ") == []
    assert find_quote(engine.store, "县") == []


def test_short_phrase_and_limit(engine):
    matches = find_quote(engine.store, "出庭应诉率", limit=3)
    assert 1 <= len(matches) <= 3
    assert all(m.score == 1.0 and "出庭应诉率" in engine.paragraph(m.pid).text for m in matches)
    d = matches[0].to_dict()
    assert set(d) >= {"pid", "score", "matched_text", "span", "pids", "report_id", "ordinal"}


def test_passage_of_several_paragraphs(engine):
    report = engine.report(R001)
    long_ones = [p for p in report.paragraphs if len(p.text) > 400][:3]
    quote = "\n\n".join(p.text for p in long_ones)
    matches = find_quote(engine.store, quote, limit=10)
    found = [m.pid for m in matches if m.score >= 0.95]
    assert set(p.id for p in long_ones) <= set(found)
