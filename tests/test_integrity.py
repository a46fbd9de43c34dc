"""A damaged index is named as damaged, with the advice to rebuild, by search, index, check and
serve, for every kind of file it holds; `index --rebuild` mends it. Real indexes of the corpus,
damaged on disk as a full disk, a crash or a bad copy would leave them, and the real command line
in subprocesses."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import ROOT

REBUILD_ADVICE = "run `policy-search index --rebuild`"


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "indexer.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


@pytest.fixture
def index_copy(seed_index, tmp_path) -> Path:
    """A copy of the session's index of the corpus, to damage."""
    copy = tmp_path / "index"
    shutil.copytree(seed_index, copy)
    return copy


@pytest.fixture
def corpus(seed_index) -> Path:
    return seed_index.parent / "corpus"  # the copy of the corpus the session's index was built from


def one_file(index_dir: Path, suffix: str) -> Path:
    found = sorted(p for p in index_dir.iterdir() if p.name.endswith(suffix))
    assert found, f"no {suffix} file in {sorted(p.name for p in index_dir.iterdir())}"
    return found[0]


def truncate(path: Path, keep: float = 0.5) -> Path:
    with path.open("r+b") as f:
        f.truncate(int(path.stat().st_size * keep))
    return path


def overwrite_same_size(path: Path) -> Path:
    size = path.stat().st_size
    path.write_bytes(bytes((i * 131 + 7) % 251 for i in range(size)))  # not zeros: nothing reads as empty
    return path


def delete(path: Path) -> Path:
    path.unlink()
    return path


# kind of damage -> what does it to an index folder and returns the file it damaged
DAMAGE = {
    "toc truncated": lambda ix: truncate(one_file(ix, ".toc"), 0.1),
    "toc garbage": lambda ix: overwrite_same_size(one_file(ix, ".toc")),
    "trm truncated": lambda ix: truncate(one_file(ix, ".trm")),
    "trm garbage": lambda ix: overwrite_same_size(one_file(ix, ".trm")),
    "content_len.col truncated": lambda ix: truncate(one_file(ix, "._content_len.col")),
    "pst truncated": lambda ix: truncate(one_file(ix, ".pst")),
    "piece truncated": lambda ix: truncate(one_file(ix, ".piece")),
    "piece overwritten, same size": lambda ix: overwrite_same_size(one_file(ix, ".piece")),
    "trm deleted": lambda ix: delete(one_file(ix, ".trm")),
    "piece deleted": lambda ix: delete(one_file(ix, ".piece")),
}


def assert_named_damage(proc, index_dir: Path) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert f"the index in {index_dir} is damaged" in proc.stderr, proc.stderr
    assert REBUILD_ADVICE in proc.stderr, proc.stderr


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_named_by_search_index_and_check_and_rebuild_mends_it(kind, index_copy, corpus):
    whole = run("check", "--index", index_copy)
    assert whole.returncode == 0 and whole.stdout.startswith("index OK: "), whole.stderr
    victim = DAMAGE[kind](index_copy)

    assert_named_damage(run("search", "法治", "--index", index_copy), index_copy)
    show = run("show", "000_0d8bbccb02c01f0a~x", "--index", index_copy)
    assert_named_damage(show, index_copy)
    # An update must not build on a damaged index (nor say "unchanged" and exit 0).
    update = run("index", corpus, "--index", index_copy)
    assert_named_damage(update, index_copy)
    assert "unchanged" not in update.stdout
    check = run("check", "--index", index_copy)
    assert check.returncode == 1 and "Traceback" not in check.stderr
    assert f"the index in {index_copy} is damaged" in check.stderr and REBUILD_ADVICE in check.stderr
    as_json = run("check", "--index", index_copy, "--json")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False and data["advice"] == REBUILD_ADVICE
    assert [p["file"] for p in data["problems"]] == [victim.name]  # the damaged file, and only it
    assert victim.name in check.stderr

    mend = run("index", corpus, "--index", index_copy, "--rebuild")
    assert mend.returncode == 0, mend.stderr
    assert run("check", "--index", index_copy).returncode == 0
    after = run("search", "出庭应诉率", "--index", index_copy, "--json")
    assert after.returncode == 0 and json.loads(after.stdout)["total"] == 4


@pytest.mark.parametrize("kind, what", [("trm truncated", "truncated to"), ("toc garbage", "checksum mismatch"),
                                        ("trm deleted", "missing")])
def test_check_says_what_is_wrong_with_the_file(kind, what, index_copy):
    victim = DAMAGE[kind](index_copy)
    proc = run("check", "--index", index_copy)
    assert proc.returncode == 1 and f"{victim.name}: " in proc.stderr and what in proc.stderr


def test_check_of_a_whole_index_counts_what_it_verified(index_copy):
    from indexer.store.integrity import current_manifest

    manifest = current_manifest(index_copy)
    proc = run("check", "--index", index_copy, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is True and data["problems"] == []
    assert data["files"] == len(manifest.files) and data["bytes"] == sum(
        (index_copy / f.name).stat().st_size for f in manifest.files)
    # Everything the generation owns is listed: its table of contents, each segment's files, pieces.
    names = {f.name for f in manifest.files}
    on_disk = {p.name for p in index_copy.iterdir() if p.name.startswith(("paragraphs_", "_paragraphs_"))}
    assert names == on_disk - {"paragraphs_WRITELOCK"}
    assert any(n.endswith(".piece") for n in names) and any(n.endswith(".toc") for n in names)


def test_check_without_an_index_or_without_checksums(tmp_path, index_copy):
    none = run("check", "--index", tmp_path / "nothing")
    assert none.returncode == 1 and "no index in" in none.stderr and "Traceback" not in none.stderr
    for manifest in index_copy.glob("integrity_*.json"):
        manifest.unlink()
    # An index written before checksums existed still opens (searches work) ...
    assert json.loads(run("search", "出庭应诉率", "--index", index_copy, "--json").stdout)["total"] == 4
    # ... but check says it cannot verify it.
    proc = run("check", "--index", index_copy)
    assert proc.returncode == 1 and "no checksums" in proc.stderr


def test_a_damaged_manifest_is_damage(index_copy):
    manifest = next(index_copy.glob("integrity_*.json"))
    manifest.write_text("{not json", encoding="utf-8")
    proc = run("search", "法治", "--index", index_copy)
    assert_named_damage(proc, index_copy)
    assert manifest.name in proc.stderr


def test_without_a_manifest_a_damaged_toc_is_still_named(index_copy):
    """An index from before checksums: Whoosh's own errors on opening are named as damage."""
    for manifest in index_copy.glob("integrity_*.json"):
        manifest.unlink()
    toc = one_file(index_copy, ".toc")
    truncate(toc, 0.3)
    assert_named_damage(run("search", "法治", "--index", index_copy), index_copy)
    overwrite_same_size(toc)
    proc = run("search", "法治", "--index", index_copy)
    assert_named_damage(proc, index_copy)
    assert toc.name in proc.stderr


def test_serve_on_a_damaged_index_exits_with_the_message(index_copy, corpus, tmp_path):
    truncate(one_file(index_copy, ".trm"))
    for corpus_dir in (corpus, tmp_path / "no-corpus"):
        proc = run("serve", "--index", index_copy, "--corpus", corpus_dir, "--port", "0", timeout=120)
        assert_named_damage(proc, index_copy)
        assert "Serving" not in proc.stdout


# -- the manifest ------------------------------------------------------------------------------

def test_manifests_follow_each_commit_and_hash_only_new_files(tmp_path, monkeypatch):
    """record() after every commit: one manifest, of the latest generation (the older ones are
    removed, Whoosh's clean-up leaves it alone), and an update hashes only the files it wrote."""
    from indexer.store import integrity
    from indexer.indexing.update import update_index

    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    first = integrity.current_manifest(index_dir)
    assert first is not None and first.generation == integrity.latest_generation(index_dir)

    hashed: list[str] = []
    real = integrity.new_entry
    monkeypatch.setattr(integrity, "new_entry", lambda d, name, st: hashed.append(name) or real(d, name, st))
    extra = corpus / "zz_new.txt"
    extra.write_text("某县2022年法治政府建设情况报告\n\n一、主要工作\n\n我县推进依法行政，复议纠错率明显下降。\n",
                     encoding="utf-8")
    update_index([corpus], index_dir)
    second = integrity.current_manifest(index_dir)
    assert second.generation > first.generation
    assert sorted(index_dir.glob("integrity_*.json")) == [index_dir / integrity.manifest_name(second.generation)]
    old_names = {f.name for f in first.files}
    new_names = {f.name for f in second.files}
    assert hashed and set(hashed) == new_names - old_names  # the new TOC and the new segment's files
    assert integrity.verify(index_dir).ok


def test_record_reuses_only_entries_that_still_match(tmp_path, seed_index):
    """A file changed in place since the last manifest (same name, other size or mtime) is hashed again."""
    from indexer.store import integrity

    index_dir = tmp_path / "index"
    shutil.copytree(seed_index, index_dir)
    manifest = integrity.current_manifest(index_dir)
    piece = next(f for f in manifest.files if f.name.endswith(".piece"))
    path = index_dir / piece.name
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, new mtime
    again = integrity.record(index_dir)
    entry = next(f for f in again.files if f.name == piece.name)
    assert entry.sha256 == integrity.sha256_of(path) != piece.sha256


def test_an_index_being_committed_is_never_reported_damaged(tmp_path):
    """Readers open the index while a writer commits generation after generation (and Whoosh
    deletes the files of the generations it replaces): open_index must never call that damage."""
    from indexer.store import integrity
    from indexer.store.layout import open_index
    from indexer.indexing.update import update_index

    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    index_dir = tmp_path / "index"
    update_index([corpus], index_dir)
    target = sorted(corpus.glob("*.txt"))[0]
    original = target.read_text(encoding="utf-8")
    done = threading.Event()
    errors: list[BaseException] = []
    opened = [0]

    def read_repeatedly():
        while not done.is_set():
            try:
                open_index(index_dir)
                opened[0] += 1
            except Exception as exc:  # IndexDamaged above all, but nothing else either
                errors.append(exc)
                return

    reader = threading.Thread(target=read_repeatedly)
    reader.start()
    try:
        for round_ in range(6):  # each round changes one report: a new segment, the old one's files go
            target.write_text(original + f"\n\n第{round_}次补充：依法行政工作持续推进。\n", encoding="utf-8")
            update_index([corpus], index_dir)
    finally:
        done.set()
        reader.join(timeout=60)
    assert not errors, errors[0]
    assert opened[0] > 0
    assert integrity.verify(index_dir).ok
