"""Nothing already indexed is lost: full disks, killed workers, killed swaps, files that change or
cannot be read, links out of the corpus and odd file names, each provoked for real."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from indexer.search.engine import SearchEngine
from indexer.indexing.update import IndexRunFailed, update_index

from conftest import ROOT, SEEDS
from test_index import _children, _variant_corpus, hits, make_corpus

QUERIES = ("出庭应诉率", "行政复议", "批次编号1", "乐都区")


def answers(index_dir: Path) -> dict[str, tuple[int, list[str]]]:
    engine = SearchEngine(index_dir)
    try:
        out = {q: (r.total, [h.id for h in r.hits]) for q in QUERIES for r in [engine.search(q, per_page=20)]}
        out["reports"] = (len(engine.reports()), [r.id for r in engine.reports()])
        return out
    finally:
        engine.close()


@contextmanager
def small_disk(path: Path, megabytes: int):
    """A tmpfs of the given size: writes past it fail with ENOSPC, as on a full disk."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_during_a_rebuild_keeps_the_complete_index(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    _variant_corpus(corpus, 200)
    with small_disk(tmp_path / "disk", 18) as disk:
        index_dir = disk / "index"
        update_index([corpus], index_dir)  # about 13 MB: a second copy does not fit
        before = answers(index_dir)
        with pytest.raises(IndexRunFailed) as failed:
            update_index([corpus], index_dir, rebuild=True)
        message = str(failed.value)
        assert "disk is full" in message and "unchanged" in message and str(index_dir) in message
        assert "\n" not in message  # one line, not one per file
        assert answers(index_dir) == before
        assert sorted(p.name for p in disk.iterdir()) == ["index"]  # the half-built copy is gone
        again = update_index([corpus], index_dir)  # and the index is still a working one
        assert again.unchanged == len(SEEDS) + 200 and not again.skipped


def test_a_full_disk_during_an_update_keeps_what_was_indexed(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    with small_disk(tmp_path / "disk", 3) as disk:
        index_dir = disk / "index"
        update_index([corpus], index_dir)
        before = answers(index_dir)
        _variant_corpus(corpus, 200)
        with pytest.raises(IndexRunFailed, match="disk is full"):
            update_index([corpus], index_dir)
        assert answers(index_dir) == before
        from indexer.store.integrity import verify

        assert verify(index_dir, full=True).ok


def test_a_killed_worker_fails_the_rebuild_and_keeps_the_index(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    _variant_corpus(corpus, 300)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    before = answers(index_dir)
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(corpus), "--index", str(index_dir),
                             "--rebuild"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and proc.poll() is None and time.monotonic() < deadline:
        for child in _children(proc.pid):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes() if Path(f"/proc/{child}").exists() else b""
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                time.sleep(0.8)  # let it start on a batch, as the OOM killer would find it
                os.kill(child, signal.SIGKILL)
                killed = child
                break
        time.sleep(0.05)
    out, err = proc.communicate(timeout=120)
    assert killed is not None, "the rebuild finished before a worker could be killed"
    assert proc.returncode == 1, (out, err)
    assert "worker process died" in err and "unchanged" in err and "Traceback" not in err
    assert answers(index_dir) == before
    assert not list(tmp_path.glob("index.rebuild-*")) and not list(tmp_path.glob("index.old-*"))


def test_a_file_unreadable_at_rebuild_time_keeps_its_indexed_version(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    engine = SearchEngine(index_dir)
    edited = engine.search("出庭应诉率为").hits[0]
    engine.close()
    # An edit, so that the rebuild must carry the retired paragraph's history over too.
    text = SEEDS[0].read_text(encoding="utf-8").replace("出庭应诉率为 89%", "出庭应诉率为 92%")
    (corpus / SEEDS[0].name).write_text(text, encoding="utf-8")
    update_index([corpus], index_dir)
    before = answers(index_dir)
    broken = corpus / SEEDS[4].name
    original = broken.read_bytes()
    broken.write_bytes(os.urandom(4096) + b"\x00\x00")

    summary = update_index([corpus], index_dir, rebuild=True)
    assert summary.rebuilt and summary.kept == [SEEDS[4].name]
    assert "previously indexed version is kept" in dict(summary.skipped)[SEEDS[4].name]
    assert answers(index_dir) == before
    engine = SearchEngine(index_dir)
    try:
        history = engine.paragraph_history(edited.id)
        assert history is not None and history.text == edited.text and history.closest
    finally:
        engine.close()
    broken.write_bytes(original)
    again = update_index([corpus], index_dir)  # carried over with its hash: the restored file is unchanged
    assert again.unchanged == len(SEEDS) and not (again.skipped or again.updated)


def test_a_file_gone_before_a_rebuild_reads_it_keeps_its_indexed_version(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    before = answers(index_dir)
    target = corpus / SEEDS[4].name
    target.unlink()
    target.symlink_to(corpus / "moved-away.txt")  # listed by the scan, but neither stat nor read works
    summary = update_index([corpus], index_dir, rebuild=True)
    assert summary.kept == [SEEDS[4].name]
    assert "previously indexed version is kept" in dict(summary.skipped)[SEEDS[4].name]
    assert answers(index_dir) == before


def test_a_file_changed_while_indexed_then_reverted_is_indexed_as_it_is(tmp_path, monkeypatch):
    import indexer.indexing.update as writer_module

    corpus = make_corpus(tmp_path / "corpus", {SEEDS[0].name})
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    path = corpus / SEEDS[0].name
    original = path.read_bytes() + "\n\n更新后的段落。\n".encode("utf-8")
    path.write_bytes(original)  # an update is due
    hash_of_listing = writer_module.sha256_of

    def then_someone_edits(p):
        digest = hash_of_listing(p)  # the indexer lists the file with this hash...
        path.write_bytes(original + "\n\n编辑途中的临时段落。\n".encode("utf-8"))  # ...then it changes
        return digest

    monkeypatch.setattr(writer_module, "sha256_of", then_someone_edits)
    update_index([corpus], index_dir)
    monkeypatch.undo()
    assert hits(index_dir, "编辑途中的临时段落") == 1  # indexed as it was read
    path.write_bytes(original)  # reverted
    assert update_index([corpus], index_dir).updated == [SEEDS[0].name]
    assert hits(index_dir, "编辑途中的临时段落") == 0


def _kill_a_rebuild_at(index_dir: Path, corpus: Path, where: str) -> subprocess.CompletedProcess:
    """Runs a rebuild in a process that dies (os._exit, as SIGKILL would leave it) at `where`."""
    script = f"""
import os, sys
from pathlib import Path
import indexer.indexing.swap as swap
import indexer.indexing.update as writer
where = {where!r}
if where == "building":
    real = writer._commit
    def commit_then_die(*a, **k):
        real(*a, **k)
        os._exit(9)
    writer._commit = commit_then_die
else:
    swap._exchange = lambda a, b: False  # the two-rename path, as on a file system without exchange
    real_rename = Path.rename
    def rename_then_die(self, target):
        real_rename(self, target)
        if where == "between renames" and Path(target).name.endswith(f".old-{{os.getpid()}}"):
            os._exit(9)
        return target
    Path.rename = rename_then_die
if __name__ == "__main__":
    writer.update_index([Path({str(corpus)!r})], Path({str(index_dir)!r}), rebuild=True)
"""
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_rebuild_killed_while_building_leaves_the_index_and_its_leftovers_are_removed(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    before = answers(index_dir)
    done = _kill_a_rebuild_at(index_dir, corpus, "building")
    assert done.returncode == 9, done.stderr
    assert len(list(tmp_path.glob("index.rebuild-*"))) == 1  # what the dead run left
    assert answers(index_dir) == before
    summary = update_index([corpus], index_dir)
    assert any("unfinished rebuild" in line for line in summary.recovered)
    assert not list(tmp_path.glob("index.rebuild-*"))
    assert summary.unchanged == len(SEEDS)


def test_a_rebuild_killed_between_the_two_renames_is_finished_by_the_next_run(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    shutil.copy(SEEDS[0], corpus / "extra.txt")
    done = _kill_a_rebuild_at(index_dir, corpus, "between renames")
    assert done.returncode == 9, done.stderr
    assert not index_dir.exists()  # the moment the exchange exists to avoid
    assert list(tmp_path.glob("index.old-*")) and list(tmp_path.glob("index.rebuild-*"))
    summary = update_index([corpus], index_dir)
    assert any("finished the swap" in line for line in summary.recovered)
    assert summary.unchanged == len(SEEDS) + 1  # the completed rebuild, with extra.txt, is the index
    assert not list(tmp_path.glob("index.old-*")) and not list(tmp_path.glob("index.rebuild-*"))


def test_an_atomic_exchange_never_leaves_the_index_path_empty(tmp_path):
    from indexer.indexing import swap

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "which").write_text("a")
    (b / "which").write_text("b")
    if not swap._exchange(a, b):
        pytest.skip("this file system has no renameat2 exchange (the two-rename path is tested above)")
    assert (a / "which").read_text() == "b" and (b / "which").read_text() == "a"


def test_a_first_build_killed_before_its_commit_leaves_no_empty_index(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    done = _kill_a_rebuild_at(index_dir, corpus, "building")
    assert done.returncode == 9
    assert not index_dir.exists()  # no index at all (serve builds one), rather than an empty one
    from indexer.indexing.update import ensure_index

    summary = ensure_index([corpus], index_dir)
    assert summary is not None and len(summary.added) == len(SEEDS)
    assert not list(tmp_path.glob("index.rebuild-*"))


def test_links_out_of_the_corpus_are_not_followed(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", {SEEDS[0].name})
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("机密文件内容，不属于语料库。\n", encoding="utf-8")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "secret.txt").symlink_to(secret)
    (corpus / "outdir").symlink_to(outside, target_is_directory=True)
    (corpus / "alias.txt").symlink_to(corpus / SEEDS[0].name)  # inside the corpus: fine
    index_dir = tmp_path / "index"
    summary = update_index([corpus], index_dir)
    reasons = dict(summary.skipped)
    assert "outside the corpus" in reasons["passwd.txt"] and "outside the corpus" in reasons["secret.txt"]
    assert sorted(summary.added) == sorted(["alias.txt", SEEDS[0].name])
    assert hits(index_dir, "机密文件") == 0 and hits(index_dir, "root") == 0

    import webapp

    client = webapp.create_app(index_dir).test_client()
    assert client.get("/reports/passwd/source").status_code == 404
    assert client.get("/reports/secret/source").status_code == 404


def test_odd_file_names_are_one_files_problem_and_shown_escaped(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    _variant_corpus(corpus, 30)  # enough files for worker processes and several batches
    text = SEEDS[0].read_bytes() + "\n\n怪名文件的独有段落。\n".encode("utf-8")
    bad_utf8 = os.fsencode(corpus) + b"/00500_\xff.txt"
    with open(bad_utf8, "wb") as f:
        f.write(text)
    (corpus / "new\nline.txt").write_bytes(text.replace("怪名".encode(), "换行".encode()))
    index_dir = tmp_path / "index"
    summary = update_index([corpus], index_dir)
    assert not summary.skipped, summary.skipped
    assert {"00500_\\xff.txt", "new\\nline.txt"} <= set(summary.added)
    assert len(summary.added) == len(SEEDS) + 32
    engine = SearchEngine(index_dir)
    try:
        hit = engine.search("怪名文件的独有段落").hits[0]
        assert hit.report.source == "00500_\\xff.txt" and hit.report.id == "00500_\\xff"
        assert engine.search("换行文件的独有段落").hits[0].report.source == "new\\nline.txt"
    finally:
        engine.close()
    import webapp

    client = webapp.create_app(index_dir).test_client()
    for rid, unique in (("00500_\\xff", "怪名文件的独有段落"), ("new\\nline", "换行文件的独有段落")):
        got = client.get("/reports/" + rid.replace("\\", "%5C") + "/source")
        assert got.status_code == 200 and unique in got.get_data().decode("utf-8")  # the real file, served
        assert "\n" not in got.headers["Content-Disposition"]
    again = update_index([corpus], index_dir)  # the names match their indexed versions
    assert again.unchanged == len(SEEDS) + 32 and not again.removed
    os.unlink(bad_utf8)
    assert update_index([corpus], index_dir).removed == ["00500_\\xff.txt"]
