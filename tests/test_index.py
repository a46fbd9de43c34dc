"""Incremental indexing, crash safety, the busy lock and stable ids, on real seed text."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from indexer.search.engine import SearchEngine
from indexer.indexing.update import IndexBusy, update_index
from indexer.store.layout import INDEX_NAME

from conftest import ROOT, SEEDS


def make_corpus(dirpath: Path, names=None) -> Path:
    dirpath.mkdir(parents=True, exist_ok=True)
    for p in SEEDS:
        if names is None or p.name in names:
            shutil.copy(p, dirpath / p.name)
    return dirpath


def hits(index_dir: Path, q: str) -> int:
    engine = SearchEngine(index_dir)
    try:
        return engine.search(q).total
    finally:
        engine.close()


def test_add_change_remove_unchanged(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", {SEEDS[0].name, SEEDS[1].name})
    index_dir = tmp_path / "index"
    first = update_index([corpus], index_dir)
    assert sorted(first.added) == sorted([SEEDS[0].name, SEEDS[1].name]) and first.reports == 2

    again = update_index([corpus], index_dir)
    assert again.unchanged == 2 and not (again.added or again.updated or again.removed)

    shutil.copy(SEEDS[3], corpus / SEEDS[3].name)
    (corpus / SEEDS[0].name).write_text(
        SEEDS[0].read_text(encoding="utf-8") + "\n\n新增段落：试点推行首席法务官制度。\n", encoding="utf-8")
    (corpus / SEEDS[1].name).unlink()
    third = update_index([corpus], index_dir)
    assert third.added == [SEEDS[3].name]
    assert third.updated == [SEEDS[0].name]
    assert third.removed == [SEEDS[1].name]
    assert third.reports == 2
    assert hits(index_dir, "首席法务官") == 1
    assert hits(index_dir, "盐池") == 0  # the removed report is gone
    assert hits(index_dir, "乐都区") > 0


def test_bad_file_is_skipped_and_old_version_kept(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", {SEEDS[4].name})
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "notes.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    index_dir = tmp_path / "index"
    summary = update_index([corpus], index_dir)
    reasons = dict(summary.skipped)
    assert "empty" in reasons["empty.txt"]
    assert "unsupported" in reasons["notes.xls"]
    assert hits(index_dir, "临猗") > 0
    before = hits(index_dir, "临猗")

    (corpus / SEEDS[4].name).write_bytes(os.urandom(4096) + b"\x00\x00")
    summary = update_index([corpus], index_dir)
    assert "previously indexed version is kept" in dict(summary.skipped)[SEEDS[4].name]
    assert hits(index_dir, "临猗") == before


def test_second_writer_gets_index_busy(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", {SEEDS[2].name})
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    writer = ix.writer()
    try:
        with pytest.raises(IndexBusy, match="index busy"):
            update_index([corpus], index_dir, rebuild=True)
        proc = subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(corpus), "--index", str(index_dir)],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert proc.returncode == 1 and "index busy" in proc.stderr
    finally:
        writer.cancel()
    assert hits(index_dir, "府院联动") > 0


def _variant_corpus(corpus: Path, n: int) -> None:
    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    for i in range(n):
        (corpus / f"variant_{i:04d}.txt").write_text(texts[i % len(texts)] + f"\n\n批次编号{i}号试点。\n", encoding="utf-8")


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


@pytest.mark.parametrize("kill_after", [1.0, 2.5, 4.0])
def test_killed_indexer_leaves_previous_index_searchable(tmp_path, kill_after):
    corpus = make_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    baseline = hits(index_dir, "出庭应诉率")
    _variant_corpus(corpus, 200)

    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(corpus), "--index", str(index_dir)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    finished = proc.poll() is not None
    workers = _children(proc.pid)
    if not finished:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{w}").exists() and _state(w) != "Z" for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if Path(f"/proc/{w}").exists() and _state(w) != "Z"], "worker outlived its indexer"

    after = hits(index_dir, "出庭应诉率")
    # All or nothing: either the old generation or the complete new one, never a partial commit.
    assert after in (baseline, baseline + 4 * 200 // 5), (after, finished)
    summary = update_index([corpus], index_dir)  # the lock died with the process; finish the job
    assert summary.reports == len(SEEDS) + 200
    assert hits(index_dir, "批次编号1") == 111  # variant_1, variant_10..19, variant_100..199


def test_paragraph_ids_are_stable_across_rebuild_and_edits(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", {SEEDS[0].name})
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    engine = SearchEngine(index_dir)
    target = engine.search("出庭应诉率为").hits[0].id
    engine.close()

    update_index([corpus], index_dir, rebuild=True)
    engine = SearchEngine(index_dir)
    assert engine.search("出庭应诉率为").hits[0].id == target
    engine.close()

    text = SEEDS[0].read_text(encoding="utf-8").replace("海东市人民政府：", "海东市人民政府：\n\n插入的新段落。")
    (corpus / SEEDS[0].name).write_text(text, encoding="utf-8")
    shutil.copy(SEEDS[1], corpus / SEEDS[1].name)
    update_index([corpus], index_dir)
    engine = SearchEngine(index_dir)
    hit = engine.search("出庭应诉率为").hits[0]
    assert hit.id == target
    assert engine.paragraph(target).text == hit.text
    engine.close()


def test_corpus_user_dictionary_is_used_and_a_change_rebuilds(tmp_path):
    from indexer.analysis import words

    corpus = make_corpus(tmp_path / "corpus", {SEEDS[0].name})
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    engine = SearchEngine(index_dir)
    assert engine.extra_words == ()
    before = engine.search("负责人出庭").total
    engine.close()

    (corpus / "userdict.txt").write_text("负责人出庭 100 n\n", encoding="utf-8")
    summary = update_index([corpus], index_dir)
    assert summary.reports == 1 and not summary.skipped  # the dictionary itself is not a report
    engine = SearchEngine(index_dir)
    assert engine.extra_words == (("负责人出庭", 100),)
    assert "负责人出庭" in words("行政负责人出庭制度", engine.extra_words)
    assert engine.search("负责人出庭").total == before  # matching never depends on segmentation
    engine.close()


def test_rebuild_keeps_every_report_across_intermediate_commits(tmp_path, monkeypatch):
    import indexer.indexing.update as writer_module

    corpus = make_corpus(tmp_path / "corpus")
    _variant_corpus(corpus, 20)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    monkeypatch.setattr(writer_module, "COMMIT_EVERY", 7)  # several commits inside one rebuild
    summary = update_index([corpus], index_dir, rebuild=True)
    # A rebuild re-reads every file, but a file that did not change is not "added".
    assert summary.rebuilt and summary.reports == len(SEEDS) + 20 and summary.unchanged == len(SEEDS) + 20
    assert not (summary.added or summary.updated or summary.removed)
    assert hits(index_dir, "批次编号") == 20
    assert not list(tmp_path.glob("index.rebuild-*")) and not list(tmp_path.glob("index.old-*"))


def test_changed_and_removed_paragraphs_point_to_the_closest_current_ones(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", {SEEDS[0].name, SEEDS[1].name})
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    engine = SearchEngine(index_dir)
    old = engine.search("出庭应诉率为").hits[0]
    gone = engine.search("盐池").hits[0]
    engine.close()

    text = SEEDS[0].read_text(encoding="utf-8").replace("出庭应诉率为 89%", "出庭应诉率为 92%")
    (corpus / SEEDS[0].name).write_text(text, encoding="utf-8")
    (corpus / SEEDS[1].name).unlink()
    summary = update_index([corpus], index_dir)
    assert summary.paragraphs == len(SearchEngine(index_dir).store)  # retired ones are not paragraphs

    engine = SearchEngine(index_dir)
    with pytest.raises(Exception):
        engine.paragraph(old.id)
    history = engine.paragraph_history(old.id)
    assert history.text == old.text and history.report.id == old.report.id
    best, score = history.closest[0]
    assert "出庭应诉率为 92%" in best.text and 0.9 < score < 1.0
    assert engine.search("出庭应诉率为 89").total == 0  # retired text is never a search hit

    removed = engine.paragraph_history(gone.id)
    assert removed.report is None and removed.text == gone.text and removed.closest == []
    assert engine.paragraph_history("nosuchreport~abc") is None
    unknown = engine.paragraph_history(f"{old.report.id}~zzzzzz")
    assert unknown.text == "" and unknown.report.id == old.report.id
    engine.close()


def test_report_and_paragraph_ids_survive_a_change_of_encoding_and_format(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", {SEEDS[4].name})
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    engine = SearchEngine(index_dir)
    before = [p.id for p in engine.report(SEEDS[4].stem).paragraphs]
    engine.close()

    path = corpus / SEEDS[4].name
    path.write_bytes(SEEDS[4].read_text(encoding="utf-8").encode("gb18030"))  # same text, GB18030
    summary = update_index([corpus], index_dir)
    assert summary.updated == [SEEDS[4].name]
    engine = SearchEngine(index_dir)
    assert [p.id for p in engine.report(SEEDS[4].stem).paragraphs] == before
    engine.close()

    path.rename(path.with_suffix(".md"))  # same text, another format
    summary = update_index([corpus], index_dir)
    assert summary.removed == [SEEDS[4].name] and summary.added == [SEEDS[4].stem + ".md"]
    engine = SearchEngine(index_dir)
    assert [r.id for r in engine.reports()] == [SEEDS[4].stem]
    assert [p.id for p in engine.report(SEEDS[4].stem).paragraphs] == before
    assert engine.search("临猗").total == len([p for p in engine.report(SEEDS[4].stem).paragraphs if "临猗" in p.text])
    engine.close()


def test_parallel_build_in_several_segments_finds_every_paragraph(tmp_path, monkeypatch):
    # 40 files in batches of at most 9 (COMMIT_EVERY): several segments built by worker processes
    # and several commits; every paragraph must be found exactly as a substring scan finds it.
    import indexer.indexing.update as writer_module
    from indexer.normalise import fold
    from indexer.reading.report import read_report

    monkeypatch.setattr(writer_module, "COMMIT_EVERY", 9)
    corpus = make_corpus(tmp_path / "corpus")
    _variant_corpus(corpus, 35)
    index_dir = tmp_path / "index"
    ticks = []

    class Bar:
        def update(self, n):
            ticks.append(n)

        def close(self):
            ticks.append("closed")

    summary = update_index([corpus], index_dir, progress=lambda total: ticks.append(total) or Bar())
    assert len(summary.added) == 40 and not summary.skipped
    assert ticks[0] == 40 and sum(t for t in ticks[1:-1]) == 40 and ticks[-1] == "closed"
    ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    assert len(ix._segments()) >= 5
    assert not (index_dir / writer_module.STAGING_NAME).exists()
    texts = [fold(p.text) for path in sorted(corpus.glob("*.txt")) for p in read_report(path).paragraphs]
    assert summary.paragraphs == len(texts)
    engine = SearchEngine(index_dir)
    try:
        for q in ("出庭应诉率", "批次编号1", "治政府建", "2021年"):
            assert engine.search(q).total == sum(fold(q) in t for t in texts), q
    finally:
        engine.close()


def test_a_failing_batch_fails_the_run_and_keeps_every_old_version(tmp_path, monkeypatch):
    from indexer.store.segments import SegmentBuilder
    from indexer.indexing.update import IndexRunFailed

    corpus = make_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    baseline = hits(index_dir, "出庭应诉率")
    for p in corpus.glob("*.txt"):
        p.write_text(p.read_text(encoding="utf-8") + "\n\n新增段落写入失败标记。\n", encoding="utf-8")

    def broken(self, **fields):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SegmentBuilder, "add_document", broken)
    with pytest.raises(IndexRunFailed) as failed:
        update_index([corpus], index_dir)
    message = str(failed.value)
    assert "disk is full" in message and "\n" not in message and str(index_dir) in message
    assert hits(index_dir, "出庭应诉率") == baseline and hits(index_dir, "写入失败标记") == 0
    monkeypatch.undo()
    assert len(update_index([corpus], index_dir).updated) == len(SEEDS)  # nothing was marked done
    assert hits(index_dir, "写入失败标记") == len(SEEDS)


def test_small_segments_merge_without_losing_a_paragraph(tmp_path):
    # Each update adds a small segment (and an edit a segment of retired paragraphs); small
    # segments are merged by writing their documents again from their pieces and stored fields.
    # The merged index must hold exactly what a fresh build of the same files holds, and the
    # retired paragraph must still be remembered.
    import numpy as np

    from indexer.store.pieces import PIECE_EXT
    from indexer.store.layout import open_index
    from indexer.indexing.merge import MERGE_AT

    corpus = make_corpus(tmp_path / "corpus", {SEEDS[0].name, SEEDS[1].name})
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    engine = SearchEngine(index_dir)
    old = engine.search("出庭应诉率", per_page=1).hits[0]
    engine.close()
    source = corpus / old.report.source
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace(old.text[:12], "改写" + old.text[:12], 1), encoding="utf-8")
    assert update_index([corpus], index_dir).updated == [old.report.source]
    engine = SearchEngine(index_dir)  # deletions, not yet merged away: the old version is not matched
    assert len(engine.store.parts) > 1 and any(p.global_of is not None for p in engine.store.parts)
    found = engine.search(f'"{old.text[:40]}"', per_page=5)
    assert found.total == 1 and found.hits[0].text.startswith("改写")  # the new version only
    assert [h.id for h in engine.search("改写", per_page=10).hits] != []
    engine.close()
    for seed in SEEDS[2:]:
        shutil.copy(seed, corpus / seed.name)
        update_index([corpus], index_dir)
    ix = open_index(index_dir)
    segments = ix._segments()
    assert len(segments) < MERGE_AT and not any(s.has_deletions() for s in segments)
    assert len(list(index_dir.glob("*" + PIECE_EXT))) == len(segments)  # merged-away pieces are gone

    fresh = tmp_path / "fresh"
    update_index([corpus], fresh)
    a, b = SearchEngine(index_dir), SearchEngine(fresh)
    try:
        sa, sb = a.store, b.store

        def rows(store):  # every paragraph as the engine sees it, in report order
            return [(store.pid(i), store.text(i), store.folded_text(i), store.section(i), int(store.ordinals[i]),
                     store.kind(i), int(store.blocks[i]), store.reports[int(store.report_idx[i])].rid)
                    for i in store.in_report_order(np.arange(len(store))).tolist()]

        assert len(sa) == len(sb) > 0 and rows(sa) == rows(sb)
        assert [r.__dict__ for r in sa.reports] == [r.__dict__ for r in sb.reports]
        for q in ("出庭应诉率", "改写", "行政复议 2021年", "法", "矛盾纠纷 人民调解", "法治 -政府"):
            ra, rb = a.search(q, per_page=100), b.search(q, per_page=100)
            assert ra.total == rb.total > 0 and ra.facets == rb.facets, q
            # Scores may differ a little: Whoosh's idf counts the retired paragraphs' documents too.
            assert {(h.id, tuple(map(tuple, h.highlights))) for h in ra.hits} == \
                {(h.id, tuple(map(tuple, h.highlights))) for h in rb.hits}, q
            for term in {t.folded for t in a.parse(q).positive_terms()}:
                ca, cb = sa.term_counts(term), sb.term_counts(term)
                assert sorted(zip(map(sa.pid, ca[0].tolist()), ca[1].tolist())) == \
                    sorted(zip(map(sb.pid, cb[0].tolist()), cb[1].tolist())), term
        history = a.paragraph_history(old.id)
        assert history is not None and history.text == old.text and history.closest
    finally:
        a.close()
        b.close()
