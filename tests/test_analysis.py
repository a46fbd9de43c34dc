"""The analysis chain: jieba precise-mode words with ordinal positions, proven against substring search."""
from __future__ import annotations

import jieba
import pytest
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.query import Phrase

from indexer.analysis import PolicyTokenizer, segment, segment_words, shipped_userdict, words
from indexer.normalise import fold
from indexer.reading.report import read_report

from conftest import SEEDS


@pytest.fixture(scope="module")
def paragraphs():
    return [p.text for path in SEEDS for p in read_report(path).paragraphs]


def test_positions_are_ordinal_and_offsets_point_at_words():
    # Whoosh reuses one Token object, so copy what each step yields.
    tokens = [(t.pos, t.text, t.startchar, t.endchar)
              for t in PolicyTokenizer()("行政机关负责人出庭应诉率为 89%，2021 年", positions=True, chars=True)]
    assert [pos for pos, _, _, _ in tokens] == list(range(len(tokens)))
    folded = fold("行政机关负责人出庭应诉率为 89%，2021 年")
    assert [w for _, w, _, _ in tokens] == ["行政机关负责人", "出庭应诉率", "为", "89%", "2021", "年"]
    for _, text, start, end in tokens:
        assert folded[start:end] == text


def test_single_non_chinese_characters_are_kept():
    assert words("A 类 x 5 项") == ["a", "类", "x", "5", "项"]


EXTRA_WORDS = (("法治督察", None), ("示范创建", None), ("府院联动", 30))


def test_segmentation_equals_jieba_precise_mode_on_the_corpus(paragraphs):
    # rjieba behind the analyzer, and the per-run cache, must not change a single token: compare
    # with jieba.cut itself, given the same user dictionary (shipped words plus corpus words,
    # with and without a frequency), over every paragraph of the bundled corpus.
    reference = jieba.Tokenizer()
    for word, freq in shipped_userdict() + EXTRA_WORDS:
        reference.add_word(word, freq)
    compared = 0
    for text in paragraphs:
        folded = fold(text)
        expected = [w for w in reference.cut(folded, HMM=True) if w.strip() and any(c.isalnum() for c in w)]
        got = [w for w, _, _ in segment(folded, EXTRA_WORDS)]
        assert got == expected, text[:60]
        assert segment_words(folded, EXTRA_WORDS) == got  # the indexing path, without spans
        compared += len(got)
    assert compared > 10_000  # every token of the five reports
    # The dictionary matters: without it jieba cuts the policy terms differently.
    plain = [w for w in jieba.Tokenizer().cut("推行一村一法律顾问制度", HMM=True)]
    assert "一村一法律顾问" not in plain and "一村一法律顾问" in words("推行一村一法律顾问制度")


def test_user_dictionary_terms_are_single_words():
    assert "出庭应诉率" in words("行政机关负责人出庭应诉率为89%")
    assert "一村一法律顾问" in words("推行一村一法律顾问制度")
    assert "放管服" in words("持续深化放管服改革")


def _phrase_hits(analyzer, texts, phrase_words):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        ix = whoosh_index.create_in(d, Schema(n=ID(stored=True), body=TEXT(analyzer=analyzer, phrase=True)))
        with ix.writer() as w:
            for i, t in enumerate(texts):
                w.add_document(n=str(i), body=t)
        with ix.searcher() as s:
            return {int(hit["n"]) for hit in s.search(Phrase("body", phrase_words), limit=None)}


def test_word_phrase_queries_work_with_ordinal_positions(paragraphs):
    # A phrase of whole words: our positions make Whoosh phrase queries find exactly the
    # paragraphs a substring scan finds; jieba's bundled analyzer (character offsets as
    # positions, overlapping search-mode tokens) finds none of them.
    from jieba.analyse import ChineseAnalyzer

    phrase = "行政复议体制改革"
    expected = {i for i, t in enumerate(paragraphs) if phrase in fold(t)}
    assert len(expected) >= 3
    ours = _phrase_hits(PolicyTokenizer(), paragraphs, words(phrase))
    assert ours == expected
    bundled_words = [w for w in jieba.cut_for_search(phrase) if w.strip()]
    assert _phrase_hits(ChineseAnalyzer(), paragraphs, bundled_words) != expected
