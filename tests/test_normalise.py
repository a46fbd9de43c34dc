"""Search folding and the offset map back to the original text."""
from __future__ import annotations

import pytest

from indexer.normalise import fold, fold_docno, fold_with_offsets, original_span

from conftest import SEEDS


@pytest.mark.parametrize("original,folded", [
    ("2021 年", "2021年"),
    ("4 号", "4号"),
    ("水平 。", "水平。"),
    ("（一）", "(一)"),
    ("(一)", "(一)"),
    ("：", ":"),
    ("ＡＢＣ１２３", "abc123"),
    ("行政復議", "行政复议"),
    ("互政〔2022〕4号", "互政〔2022〕4号"),
    ("互政[2022]4号", "互政〔2022〕4号"),
    ("互政［2022］4号", "互政〔2022〕4号"),
    ("Word 2010", "word 2010"),
    ("APP 提供", "app提供"),
    ("a\u3000\u3000b", "a b"),
])
def test_fold(original, folded):
    assert fold(original) == folded


def test_docno_variants_fold_together():
    assert fold_docno("互政(2022)4 号") == fold_docno("互政〔2022〕4号") == fold_docno("互政[2022]4号")


def test_fast_and_offset_paths_agree_on_whole_corpus():
    for path in SEEDS:
        text = path.read_text(encoding="utf-8")
        folded, origin = fold_with_offsets(text)
        assert folded == fold(text)
        assert len(origin) == len(folded)
        assert origin == sorted(origin)


def test_offsets_land_on_original_characters():
    text = "全年受理行政復議案件 9 件，（一）ＡＢ"
    folded, origin = fold_with_offsets(text)
    i = folded.find("行政复议")
    s, e = original_span(origin, i, i + 4)
    assert text[s:e] == "行政復議"
    i = folded.find("9件")
    s, e = original_span(origin, i, i + 2)
    assert text[s:e] == "9 件"
    i = folded.find("(一)ab")
    s, e = original_span(origin, i, i + 5)
    assert text[s:e] == "（一）ＡＢ"
