"""Index writer: corpus files -> Whoosh documents, incremental by content hash.

Every change goes through one Whoosh writer and lands with its commit, which is atomic (the new
table of contents is written last): a crash or a kill leaves the previous generation searchable.
Whoosh's write lock keeps a second indexer out; it is told the index is busy.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import sys
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh import index as whoosh_index
from whoosh.writing import LockError

from .analysis import load_userdict_file
from .exact import ExactStore, build_exact_store
from .model import ReadError
from .parse import parse_file
from .readers import SUPPORTED_SUFFIXES
from .schema import make_schema, report_documents, report_id, retired_documents

INDEX_NAME = "paragraphs"
USERDICT_NAME = "userdict.txt"
COMMIT_EVERY = 1000
PARALLEL_FROM = 16  # fewer files are read in-process: a worker's start-up would cost more


class IndexBusy(Exception):
    pass


class IndexMissing(Exception):
    pass


@dataclass
class IndexSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    paragraphs: int = 0
    reports: int = 0

    def to_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "reports": self.reports, "paragraphs": self.paragraphs,
        }


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    source: str  # corpus-relative, posix


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def scan_corpus(roots: Iterable[Path]) -> tuple[list[CorpusFile], list[tuple[str, str]]]:
    """Supported files below the roots (a root may be a single file), and unsupported ones."""
    found: list[CorpusFile] = []
    unsupported: list[tuple[str, str]] = []
    for root in roots:
        if root.is_file():
            found.append(CorpusFile(root, root.name))
            continue
        if not root.is_dir():
            unsupported.append((str(root), "no such file or directory"))
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                rel = path.relative_to(root).as_posix()
                if rel == USERDICT_NAME:
                    continue
                if path.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.append(CorpusFile(path, rel))
                else:
                    unsupported.append((rel, f"unsupported file type '{path.suffix or name}'"))
    return found, unsupported


def corpus_words(roots: Iterable[Path], userdict: Path | None) -> tuple:
    words: tuple = ()
    for root in roots:
        candidate = root / USERDICT_NAME
        if root.is_dir() and candidate.is_file():
            words += load_userdict_file(candidate)
    if userdict is not None:
        words += load_userdict_file(userdict)
    return words


def open_index(index_dir: Path):
    if not whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME):
        raise IndexMissing(f"no index in {index_dir}: run `policy-search index` first")
    return whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)


def _fresh_index(index_dir: Path, extra_words: tuple):
    index_dir.mkdir(parents=True, exist_ok=True)
    return whoosh_index.create_in(str(index_dir), make_schema(extra_words), indexname=INDEX_NAME)


def _schema_words(ix) -> tuple:
    return ix.schema["content"].analyzer.extra_words


def update_index(
    roots: list[Path],
    index_dir: Path,
    *,
    rebuild: bool = False,
    userdict: Path | None = None,
    max_chars: int = 1000,
    progress: Callable[[Iterable, int], Iterable] | None = None,
) -> IndexSummary:
    """Brings the index in line with the files below roots; returns what changed."""
    summary = IndexSummary()
    files, unsupported = scan_corpus(roots)
    summary.skipped.extend(unsupported)
    extra_words = corpus_words(roots, userdict)

    swap_dir: Path | None = None
    old_lock = None
    busy = IndexBusy(f"index busy: another policy-search process is writing to {index_dir}")
    if whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME):
        ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
        if rebuild or _schema_words(ix) != extra_words:
            # Everything is read again (or the dictionary changed, so every paragraph must be
            # segmented again) into a new index that replaces the old one only once it is
            # complete; the old one stays locked, and searchable, meanwhile.
            old_lock = ix.lock("WRITELOCK")
            if not old_lock.acquire(blocking=False):
                raise busy
            swap_dir = index_dir.with_name(index_dir.name + f".rebuild-{os.getpid()}")
            shutil.rmtree(swap_dir, ignore_errors=True)
            ix = _fresh_index(swap_dir, extra_words)
            rebuild = True
    else:
        ix = _fresh_index(index_dir, extra_words)

    try:
        writer = ix.writer(limitmb=256)
    except LockError as exc:
        if old_lock is not None:
            old_lock.release()
        raise busy from exc

    try:
        indexed: dict[str, tuple[str, str]] = {}  # source -> (rid, hash)
        if not rebuild:
            with ix.searcher() as s:
                for stored in s.documents(kind="report"):
                    indexed[stored["source"]] = (stored["rid"], stored["file_hash"])

        rids = _assign_report_ids(files, indexed)
        seen_sources = set()
        jobs: list[tuple] = []
        for cf in files:
            seen_sources.add(cf.source)
            try:
                digest = file_hash(cf.path)
            except OSError as exc:
                summary.skipped.append((cf.source, f"cannot read file: {exc.strerror or exc}"))
                continue
            previous = indexed.get(cf.source)
            if previous and previous[1] == digest:
                summary.unchanged += 1
                continue
            jobs.append((str(cf.path), cf.source, rids[cf.source], digest, max_chars, extra_words))

        if all(r.is_dir() for r in roots):
            # Removals first: a report whose file changed format (a.txt -> a.pdf) keeps its id,
            # and its old documents must be gone before the new ones arrive.
            for source, (rid, _) in indexed.items():
                if source not in seen_sources and not any((r / source).exists() for r in roots):
                    _retire(writer, rid, set())
                    writer.delete_by_term("rid", rid)
                    summary.removed.append(source)

        results = _read_jobs(jobs)
        if progress is not None:
            results = progress(results, len(jobs))
        pending = 0
        for source, rid, docs, reason in results:
            previous = indexed.get(source)
            if docs is None:
                if previous:
                    reason += " (the previously indexed version is kept)"
                summary.skipped.append((source, reason))
                continue
            if previous:
                _retire(writer, previous[0], {d["pid"] for d in docs})
                writer.delete_by_term("rid", previous[0])
                summary.updated.append(source)
            else:
                summary.added.append(source)
            for doc in docs:
                writer.add_document(**doc)
            pending += 1
            if pending >= COMMIT_EVERY:
                writer.commit()
                writer = ix.writer(limitmb=256)
                pending = 0

        writer.commit()
        writer = None
        if swap_dir is not None:
            _swap_in(swap_dir, index_dir)
            swap_dir = None
            ix = open_index(index_dir)
    finally:
        if writer is not None:
            writer.cancel()
        if swap_dir is not None:
            shutil.rmtree(swap_dir, ignore_errors=True)
        if old_lock is not None:
            try:
                old_lock.release()
            except OSError:
                pass  # its file went with the replaced index
    store = ExactStore(build_exact_store(index_dir, ix))
    summary.reports, summary.paragraphs = len(store.reports), len(store)
    return summary


def _retire(writer, rid: str, live_pids: set[str]) -> None:
    """Remembers the paragraphs of report rid that the update drops (see schema.retired_documents)."""
    with writer.searcher() as s:
        old = [dict(d) for d in s.documents(rid=rid)]
    for doc in retired_documents(old, live_pids):
        writer.delete_by_term("retired_pid", doc["retired_pid"])
        writer.add_document(**doc)


def read_job(job: tuple) -> tuple[str, str, list[dict] | None, str]:
    """reader -> structure -> analyser for one file: (source, rid, documents or None, reason)."""
    path, source, rid, digest, max_chars, extra_words = job
    try:
        report = parse_file(path, source=source, max_chars=max_chars)
        return source, rid, report_documents(report, rid, source, str(Path(path).resolve()), digest, extra_words), ""
    except ReadError as exc:
        return source, rid, None, exc.reason
    except Exception as exc:  # a reader bug must not stop the batch
        return source, rid, None, f"unexpected error while reading: {type(exc).__name__}: {exc}"


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: a worker whose indexer was killed would otherwise wait for work forever."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _read_jobs(jobs: list[tuple]) -> Iterator[tuple]:
    """Reads and analyses files in worker processes (in order, a bounded number in flight) while
    the caller feeds Whoosh: segmentation and Whoosh's writer each keep one core busy."""
    workers = max(1, min(4, (os.cpu_count() or 1) - 1))
    if len(jobs) < PARALLEL_FROM:
        yield from map(read_job, jobs)
        return
    # "spawn", not "fork": a forked worker would share the open file of Whoosh's write lock and
    # keep the index locked after the indexer itself was killed.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_exit_with_parent,
                             initargs=(os.getpid(),)) as pool:
        in_flight: deque = deque()
        it = iter(jobs)
        for job in it:
            in_flight.append(pool.submit(read_job, job))
            if len(in_flight) >= workers * 4:
                break
        while in_flight:
            result = in_flight.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                in_flight.append(pool.submit(read_job, nxt))
            yield result


def _assign_report_ids(files: list[CorpusFile], indexed: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Stem-based ids; a second file with the same stem (a.txt beside a.pdf) keeps its suffix."""
    present = {cf.source for cf in files}
    # Ids of files that are gone are free again: a.txt replaced by a.pdf keeps the id "a".
    taken = {rid: src for src, (rid, _) in indexed.items() if src in present}
    out: dict[str, str] = {}
    for cf in files:
        if cf.source in indexed:
            out[cf.source] = indexed[cf.source][0]
            continue
        rid = report_id(cf.source)
        if rid in taken and taken[rid] != cf.source:
            rid = cf.source.replace("/", "~")
        taken[rid] = cf.source
        out[cf.source] = rid
    return out


def _swap_in(new_dir: Path, index_dir: Path) -> None:
    old = index_dir.with_name(index_dir.name + f".old-{os.getpid()}")
    if index_dir.exists():
        index_dir.rename(old)
    new_dir.rename(index_dir)
    shutil.rmtree(old, ignore_errors=True)


def ensure_index(roots: list[Path], index_dir: Path, **kwargs) -> IndexSummary | None:
    """Builds the index when there is none (first run of `serve`); returns None if it existed."""
    if whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME):
        ix = open_index(index_dir)
        build_exact_store(index_dir, ix)
        return None
    return update_index(roots, index_dir, **kwargs)


def default_progress(items, total):
    from tqdm import tqdm

    return tqdm(items, total=total, unit="file", desc="indexing", file=sys.stderr,
                disable=not sys.stderr.isatty())
