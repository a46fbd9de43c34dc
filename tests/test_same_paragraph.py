"""Same-paragraph semantics (issue 12): the terms of an AND and the exclusions hold of a paragraph
as it stands in the source document, even where the reader split it into chunks, on a report
written here whose paragraphs are split in each of the ways the reader splits them."""
from __future__ import annotations

import pytest

from indexer.indexing.update import update_index
from indexer.normalise import fold
from indexer.reading.report import read_report
from indexer.search.engine import SearchEngine

LONG = "第一句讲到了矛盾纠纷的排查。" + "这是一句不含查询词的填充文字。" * 40 + "最后一句讲到了人民调解员的培训。"
REPORT = f"""某某县2021年法治政府建设工作情况报告

一、主要工作

（一）化解矛盾纠纷。一是加强人民调解组织建设，调解成功率达到98%。

**（二）推进行政复议。**二是规范行政诉讼应诉工作，出庭应诉率达到100%。

（三）深化普法。矛盾纠纷和人民调解都写在一个段落里。

{LONG}

（四）独立的标题讲人民调解

矛盾纠纷写在标题后面的另一段里。
"""


@pytest.fixture(scope="module")
def split_engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("same-paragraph")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "split.txt").write_text(REPORT, encoding="utf-8")
    update_index([corpus], root / "index", max_chars=200)
    engine = SearchEngine(root / "index")
    yield engine, read_report(corpus / "split.txt", max_chars=200)
    engine.close()


def _hits(engine, q):
    return sorted(int(engine.store.ordinals[i]) for i in engine.match(engine.parse(q)))


def _chunks_with(report, *needles):
    return [p for p in report.paragraphs if any(n in p.text for n in needles)]


def test_the_report_is_split_as_intended(split_engine):
    _, report = split_engine
    run_in = [p for p in report.paragraphs if p.text.startswith("（一）化解矛盾纠纷")]
    assert run_in and run_in[0].kind == "heading"
    body = next(p for p in report.paragraphs if p.text.startswith("一是加强人民调解"))
    assert body.block == run_in[0].block  # the run-in heading and its body are one source paragraph
    long_chunks = [p for p in report.paragraphs if p.block == next(q.block for q in report.paragraphs
                                                                  if q.text.startswith("第一句"))]
    assert len(long_chunks) > 2  # cut at max_chars
    standalone = next(p for p in report.paragraphs if p.text.startswith("（四）"))
    after = next(p for p in report.paragraphs if p.text.startswith("矛盾纠纷写在标题后面"))
    assert standalone.block != after.block  # a heading line of its own is a paragraph of its own


def test_and_over_a_run_in_heading_and_its_body(split_engine):
    engine, report = split_engine
    heading = next(p for p in report.paragraphs if p.text.startswith("（一）化解矛盾纠纷"))
    body = next(p for p in report.paragraphs if p.text.startswith("一是加强人民调解"))
    together = next(p for p in report.paragraphs if p.text.startswith("矛盾纠纷和人民调解"))
    first = next(p for p in report.paragraphs if p.text.startswith("第一句"))
    last = next(p for p in report.paragraphs if "人民调解员的培训" in p.text)
    got = _hits(engine, "矛盾纠纷 人民调解")
    # The chunks that hold a term, of every source paragraph that holds both; not the heading
    # line of its own (四) and the paragraph after it, which are two paragraphs.
    assert got == sorted({heading.ordinal, body.ordinal, together.ordinal, first.ordinal, last.ordinal})
    assert engine.search("矛盾纠纷 人民调解").total == 5


def test_bold_run_in_heading_and_exclusion_over_the_whole_paragraph(split_engine):
    engine, report = split_engine
    heading = next(p for p in report.paragraphs if p.text.startswith("（二）推进行政复议"))
    body = next(p for p in report.paragraphs if p.text.startswith("二是规范行政诉讼"))
    assert heading.block == body.block and heading.kind == "heading"
    assert _hits(engine, "行政复议 出庭应诉率") == sorted([heading.ordinal, body.ordinal])
    # 出庭应诉率 is in the body, 行政复议 in its heading: excluded as one paragraph.
    assert body.ordinal not in _hits(engine, "出庭应诉率 -行政复议")
    assert _hits(engine, "出庭应诉率 -行政复议") == []


def test_same_sentence_still_needs_one_sentence_of_one_chunk(split_engine):
    engine, report = split_engine
    together = next(p for p in report.paragraphs if p.text.startswith("矛盾纠纷和人民调解"))
    assert _hits(engine, "矛盾纠纷 /s 人民调解") == [together.ordinal]


def test_every_pair_of_words_equals_a_scan_of_source_paragraphs(split_engine):
    engine, report = split_engine
    sources: dict[int, list] = {}
    for p in report.paragraphs:
        sources.setdefault(p.block, []).append((p.ordinal, fold(p.text)))
    words = ["矛盾纠纷", "人民调解", "行政复议", "出庭应诉率", "填充文字", "普法", "标题", "98%"]
    for a in words:
        for b in words:
            if a == b:
                continue
            expected = sorted(o for chunks in sources.values()
                              if any(a in t for _, t in chunks) and any(b in t for _, t in chunks)
                              for o, t in chunks if a in t or b in t)
            assert _hits(engine, f"{a} {b}") == expected, (a, b)
            expected_not = sorted(o for chunks in sources.values()
                                  if any(a in t for _, t in chunks) and not any(b in t for _, t in chunks)
                                  for o, t in chunks if a in t)
            assert _hits(engine, f"{a} -{b}") == expected_not, (a, b)
