"""Bulk-built segments (indexer/store/segments.py) against segments written by Whoosh's own writer."""
from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.qparser import QueryParser
from whoosh.writing import NO_MERGE

from indexer.reading.report import read_report
from indexer.store.pieces import PieceRow
from indexer.store.schema import Document, ParagraphDoc, make_schema, report_documents, report_id, retired_documents
from indexer.store.segments import SegmentBuilder

from conftest import SEEDS

EXTRA_WORDS = (("府院联动", 30),)


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    docs = []
    # Twice over, so that common words fill several blocks of 128 postings.
    for copy in range(2):
        for path in SEEDS:
            report = read_report(path, source=path.name)
            rid = report_id(f"{copy}/{path.name}")
            docs += report_documents(report, rid, path.name, str(path), "0" * 64, EXTRA_WORDS)
    # Retired paragraphs use the other ID fields and no content.
    old = [PieceRow(0, d.pid, d.rid, d.kind, d.ordinal, d.section, d.text, d.folded)
           for d in docs[:40] if isinstance(d, ParagraphDoc)]
    docs += retired_documents(old, set())
    return docs


def _whoosh_written(directory: Path, docs: list[Document]):
    ix = whoosh_index.create_in(str(directory), make_schema(EXTRA_WORDS), indexname="paragraphs")
    writer = ix.writer(compound=False)
    for doc in docs:
        writer.add_document(**doc.whoosh_fields())
    writer.commit(merge=False)
    return ix


def _bulk_written(directory: Path, docs: list[Document]):
    ix = whoosh_index.create_in(str(directory), make_schema(EXTRA_WORDS), indexname="paragraphs")
    builder = SegmentBuilder(ix.storage, ix.schema, "paragraphs")
    for doc in docs:
        builder.add_document(**doc.whoosh_fields())
    segment = builder.finish()
    writer = ix.writer()
    writer.commit(mergetype=lambda w, segments: NO_MERGE(w, segments) + [segment])
    return whoosh_index.open_dir(str(directory), indexname="paragraphs")


@pytest.fixture(scope="module")
def both(tmp_path_factory, documents):
    base = tmp_path_factory.mktemp("segments")
    (base / "whoosh").mkdir()
    (base / "bulk").mkdir()
    return _whoosh_written(base / "whoosh", documents), _bulk_written(base / "bulk", documents)


def _segment_files(ix) -> dict[str, bytes]:
    (segment,) = ix._segments()
    prefix = segment.segment_id()
    return {name[len(prefix):]: ix.storage.open_file(name).read()
            for name in segment.list_files(ix.storage)}


def test_segment_files_are_byte_identical(both, documents):
    ours, theirs = _segment_files(both[1]), _segment_files(both[0])
    assert sorted(ours) == sorted(theirs)
    for ext in theirs:
        assert ours[ext] == theirs[ext], f"{ext} differs"
    assert both[1].doc_count() == len(documents)


def test_postings_and_statistics_read_back_the_same(both):
    with both[0].reader() as a, both[1].reader() as b:
        terms = list(a.all_terms())
        assert terms == list(b.all_terms())
        multi_block = 0
        for field, term in terms:
            ia, ib = a.term_info(field, term), b.term_info(field, term)
            assert (ia.doc_frequency(), ia.weight(), ia.min_length(), ia.max_length(), ia.max_weight()) == \
                   (ib.doc_frequency(), ib.weight(), ib.min_length(), ib.max_length(), ib.max_weight())
            assert list(a.postings(field, term).items_as("weight")) == list(b.postings(field, term).items_as("weight"))
            multi_block += ia.doc_frequency() > 128
        assert multi_block >= 3  # terms spanning several blocks were compared
        for docnum in range(a.doc_count_all()):
            assert a.stored_fields(docnum) == b.stored_fields(docnum)
            assert a.doc_field_length(docnum, "content") == b.doc_field_length(docnum, "content")
        assert a.field_length("content") == b.field_length("content")


@pytest.mark.parametrize("text", ["行政复议", "法治政府 建设", "出庭应诉率 OR 府院联动", "放管服"])
def test_bm25f_scores_are_the_same(both, text):
    results = []
    for ix in both:
        with ix.searcher(weighting=scoring.BM25F()) as s:
            q = QueryParser("content", ix.schema).parse(text)
            results.append([(hit.docnum, round(hit.score, 9)) for hit in s.search(q, limit=None)])
    assert results[0] and results[0] == results[1]


def test_a_segment_with_its_piece_is_the_same_segment(tmp_path, both, documents):
    from indexer.store.pieces import PIECE_EXT, piece_path, read_piece
    from indexer.store.segments import SegmentWithPiece

    ix = whoosh_index.create_in(str(tmp_path), make_schema(EXTRA_WORDS), indexname="paragraphs")
    builder = SegmentWithPiece(ix.storage, ix.schema)
    builder.extend(documents)
    segment = builder.finish()
    ix.writer().commit(mergetype=lambda w, segments: NO_MERGE(w, segments) + [segment])
    ix = whoosh_index.open_dir(str(tmp_path), indexname="paragraphs")
    ours = _segment_files(ix)
    assert ours.pop(PIECE_EXT) and ours == _segment_files(both[0])  # its piece is named after it
    rows = read_piece(piece_path(tmp_path, segment)).rows()
    paragraphs = [d for d in documents if isinstance(d, ParagraphDoc)]
    assert [(r.pid, r.text, r.section) for r in rows] == [(d.pid, d.text, d.section) for d in paragraphs]
