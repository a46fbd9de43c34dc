"""Segment pieces (indexer/pieces.py): paragraphs read back exactly, texts packed small, and an
index of the old layout is rebuilt rather than misread."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zlib

import numpy as np
import pytest

from indexer.normalise import fold
from indexer.reading.report import read_report
from indexer.store.mapped import MappedArrays, write_arrays
from indexer.store.pieces import REPORT_COLUMNS, TEXT_BLOCK, PieceBuilder, TextBlocks, read_piece
from indexer.store.schema import paragraph_ids, report_id

from conftest import ROOT, SEEDS

ODD_TEXTS = ["", "𠀀𪚥 outside the BMP, 2021 年", "两行\n之间", "<script>alert(1)</script> & \"引号\"", "长" * 5000]


def _seed_paragraphs():
    out = []
    for path in SEEDS:
        report = read_report(path, source=path.name)
        rid = report_id(path.name)
        folded = [fold(p.text) for p in report.paragraphs]
        for pid, p, f in zip(paragraph_ids(rid, folded), report.paragraphs, folded):
            out.append((pid, rid, p.kind, p.ordinal, list(p.section), p.text, f))
    return out


def test_every_seed_paragraph_reads_back_exactly(tmp_path):
    rows = _seed_paragraphs()
    rows += [(f"odd~{i}", "odd", "body", i, ["一、"], t, fold(t)) for i, t in enumerate(ODD_TEXTS)]
    builder = PieceBuilder()
    for docnum, row in enumerate(rows):
        builder.add_paragraph(docnum * 2, *row, block=docnum // 2)  # docnums with gaps, as report documents leave them
    builder.add_report(1, {"rid": "odd", "meta": {"title": "标题", "region": "乐都区"}})
    path = tmp_path / "segment.piece"
    builder.save(path)
    piece = read_piece(path)
    assert len(piece) == len(rows) > 250
    assert piece.reports == [(1, {"rid": "odd", "meta": {"title": "标题", "region": "乐都区"}})]
    assert piece.report_columns == {"docnum": [1], "rid": ["odd"], "year": [0], "date": [""], "region": ["乐都区"],
                                    "doc_type": [""], "region_text": ["乐都区"], "type": [""], "docno": [""],
                                    "title": ["标题"], "issuers": [""], "issuer_text": [""], "place": ["乐都区"],
                                    "city": [""], "province": [""]}
    # Random order, so that the one-block cache is not what makes it right.
    for j in sorted(range(len(rows)), key=lambda j: (j * 7919) % len(rows)):
        r = piece.row(j)
        pid, rid, kind, ordinal, section, text, folded = rows[j]
        assert (r.docnum, r.pid, r.rid, r.kind, r.ordinal, r.section, r.text, r.block) == (
            j * 2, pid, rid, kind, ordinal, section, text, j // 2)
        assert r.folded == folded.replace("\n", " ")  # the one character that separates folded texts
    assert [r.text for r in piece.rows()] == [row[5] for row in rows]


def test_a_piece_from_before_a_report_column_reads_its_rows_for_it(tmp_path):
    """An index built before a report column was added (the issuer facet's, issue 13) keeps
    working: the piece fills the columns its header lacks from its report rows."""
    builder = PieceBuilder()
    builder.add_paragraph(0, "r~1", "r", "body", 1, [], "正文", fold("正文"), block=0)
    meta = {"title": "互助土族自治县2022年法治政府建设情况报告", "region": "互助土族自治县", "city": "海东市",
            "province": "青海省", "issuers": ["互助土族自治县人民政府", "中共互助土族自治县委"]}
    builder.add_report(0, {"rid": "r", "meta": meta})
    new, old = tmp_path / "new.piece", tmp_path / "old.piece"
    builder.save(new)
    arrays = MappedArrays(new)
    header = dict(arrays.meta)
    header["report_columns"] = {k: v for k, v in header["report_columns"].items()
                                if k not in ("title", "issuers", "issuer_text", "place", "city", "province")}
    write_arrays(old, {name: np.array(a) for name, a in arrays.arrays.items()}, header)
    assert set(MappedArrays(old).meta["report_columns"]) < set(REPORT_COLUMNS)
    columns = read_piece(old).report_columns
    assert columns == read_piece(new).report_columns
    assert columns["issuers"] == ["互助土族自治县人民政府|中共互助土族自治县委"]
    assert columns["place"] == ["青海省海东市互助土族自治县"]


def test_texts_pack_smaller_than_whoosh_stores_them():
    # Whoosh compressed each stored paragraph alone; blocks against a sampled dictionary must
    # take much less, even on just the five seeds.
    texts = [row[5] for row in _seed_paragraphs()]
    blocks = TextBlocks.pack(texts)
    alone = sum(len(zlib.compress(t.encode("utf-8"), 3)) for t in texts)
    assert len(blocks.blob) + len(blocks.dictionary) < 0.8 * alone
    assert len(blocks.dictionary) > 1000 and blocks.block_ends.size == -(-len(texts) // TEXT_BLOCK)
    assert [blocks.text(j) for j in range(len(texts))] == texts


def test_an_empty_piece_reads_back(tmp_path):
    PieceBuilder().save(tmp_path / "empty.piece")
    piece = read_piece(tmp_path / "empty.piece")
    assert len(piece) == 0 and piece.codes.size == 0 and piece.rows() == []


PREVIOUS_LAYOUT = "policy-search index layout 2: paragraphs in pieces beside their segments"


@pytest.mark.parametrize("old", ["layout 2", "no layout file"])
def test_an_index_of_the_old_layout_is_refused_then_rebuilt(tmp_path, seed_index, old):
    from indexer.search.engine import SearchEngine
    from indexer.store.layout import LAYOUT_FILE, IndexOutdated
    from indexer.store.pieces import PIECE_EXT
    from indexer.indexing.update import update_index

    index_dir = tmp_path / "index"
    shutil.copytree(seed_index, index_dir)
    if old == "layout 2":  # compressed pieces (.paragraphs.npz), read whole when an engine opened
        (index_dir / LAYOUT_FILE).write_text(PREVIOUS_LAYOUT + "\n", encoding="utf-8")
        for piece in index_dir.glob("*" + PIECE_EXT):
            piece.rename(piece.with_name(piece.name.replace(PIECE_EXT, ".paragraphs.npz")))
    else:  # as an index written before the layout file existed
        (index_dir / LAYOUT_FILE).unlink()
    with pytest.raises(IndexOutdated, match="older version.*--rebuild"):
        SearchEngine(index_dir)
    cli = subprocess.run([sys.executable, "-m", "indexer.cli", "search", "出庭应诉率", "--index", str(index_dir)],
                         capture_output=True, text=True, cwd=ROOT)
    assert cli.returncode == 1 and "older version" in cli.stderr and "Traceback" not in cli.stderr

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for p in SEEDS:
        shutil.copy(p, corpus / p.name)
    summary = update_index([corpus], index_dir)  # not asked to rebuild: the layout makes it
    assert len(summary.added) == len(SEEDS)
    engine = SearchEngine(index_dir)
    try:
        assert engine.search("出庭应诉率").total > 0
    finally:
        engine.close()


@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_a_damaged_piece_is_named_not_a_traceback(tmp_path, seed_index, damage):
    from indexer.store.layout import IndexDamaged
    from indexer.store.pieces import PIECE_EXT
    from indexer.search.engine import SearchEngine

    index_dir = tmp_path / "index"
    shutil.copytree(seed_index, index_dir)
    piece = next(index_dir.glob("*" + PIECE_EXT))
    if damage == "truncated":  # as by a full disk
        piece.write_bytes(piece.read_bytes()[:1000])
    else:  # as by a copy that left it out
        piece.unlink()
    with pytest.raises(IndexDamaged, match=f"{piece.name}.*--rebuild"):
        SearchEngine(index_dir)
    run = lambda *args: subprocess.run([sys.executable, "-m", "indexer.cli", *args, "--index", str(index_dir)],  # noqa: E731
                                       capture_output=True, text=True, cwd=ROOT)
    cli = run("search", "出庭应诉率")
    assert cli.returncode == 1 and piece.name in cli.stderr and "Traceback" not in cli.stderr

    # Updating every report needs their old paragraphs (to remember them): refused the same way,
    # and a rebuild mends it.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for p in SEEDS:
        (corpus / p.name).write_text(p.read_text(encoding="utf-8") + "\n\n新增一段。\n", encoding="utf-8")
    cli = run("index", str(corpus))
    assert cli.returncode == 1 and piece.name in cli.stderr and "Traceback" not in cli.stderr
    assert run("index", str(corpus), "--rebuild").returncode == 0
    assert run("search", "新增一段").returncode == 0


def test_rid_of_gives_back_the_report_id_of_every_paragraph_id():
    from indexer.store.schema import ReportDoc, rid_of

    for rid in ("report", "sub~folder~report", "a~b"):  # a file in a subfolder: its id holds "~"
        pids = paragraph_ids(rid, ["甲", "乙", "甲"]) + [ReportDoc(rid, {}, "", "", "", "txt").pid]
        assert pids[2].endswith("-2") and [rid_of(p) for p in pids] == [rid] * 4
