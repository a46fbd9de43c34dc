"""An indexing run: corpus files -> a committed generation, incremental by content hash.

Files are read into segments in worker processes (batches.py); the parent deletes the old versions
of changed and removed files with an ordinary Whoosh writer and commits its changes together with
the new segments in one table of contents, which is written last, so a commit is atomic: a crash
or a kill leaves the previous generation searchable. Whoosh's write lock keeps a second indexer
out; it is told the index is busy. A full build writes a new index beside the old one and swaps
it in once complete (swap.py), carrying over what it could not read.
"""
from __future__ import annotations

import errno
import shutil
import sys
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from whoosh import index as whoosh_index
from whoosh.writing import LockError

from indexer.cluster import worker_threads
from indexer.indexing.batches import (CLUSTER_RETRIES, FileOutcome, ReadJob, adopt_segment, build_batches, plan_batches,
                                      with_sidecar)
from indexer.indexing.corpus import CorpusFile, assign_report_ids, corpus_words, scan_corpus, with_sidecars
from indexer.indexing.merge import merged_segments
from indexer.indexing.retire import retire
from indexer.indexing.swap import build_folder, recover, swap_in
from indexer.model import ReadLimits
from indexer.store.integrity import record as record_integrity, sha256_of
from indexer.store.layout import (INDEX_NAME, LAYOUT, LAYOUT_FILE, IndexDamaged, IndexOutdated, index_exists,
                                  layout_current, open_index, shard_of)
from indexer.store.pieces import Piece
from indexer.store.schema import make_schema, report_id, schema_words
from indexer.store.segments import SegmentWithPiece, live_documents

STAGING_NAME = "staging"  # inside the index folder: where workers build segments
COMMIT_EVERY = 1000  # files; a kill loses at most the work since the last commit


class IndexBusy(Exception):
    pass


class IndexRunFailed(Exception):
    """A run that failed as a whole (disk full, a worker process killed, a write error): nothing
    already indexed is lost. A full build leaves the previous index as it was; an update keeps
    what it committed before the failure (every COMMIT_EVERY files) and the rest as it was."""


@dataclass
class IndexSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    paragraphs: int = 0
    reports: int = 0
    rebuilt: bool = False  # every file was read again into a new index that replaced the old one
    kept: list[str] = field(default_factory=list)  # skipped files whose indexed version was carried over
    recovered: list[str] = field(default_factory=list)  # what was mended of a dead run's leftovers
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (sidecar, reason): a row not applied

    def to_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "reports": self.reports, "paragraphs": self.paragraphs,
            "rebuilt": self.rebuilt, "kept": self.kept, "recovered": self.recovered,
            "warnings": [{"source": s, "reason": r} for s, r in self.warnings],
        }


def update_index(
    roots: list[Path],
    index_dir: Path,
    *,
    rebuild: bool = False,
    userdict: Path | None = None,
    max_chars: int = 1000,
    limits: ReadLimits = ReadLimits(),
    progress: Callable[[int], object] | None = None,
    cluster=None,
    shard: tuple[int, int] | None = None,
) -> IndexSummary:
    """Brings the index in line with the files below roots; returns what changed.

    An update adds new files, re-reads changed ones and removes vanished ones, committing every
    COMMIT_EVERY files. A full build (no index yet, ``rebuild``, a changed user dictionary or
    layout) reads every file into a new folder that replaces the index only once complete
    (swap.py); a file it cannot read that the old index has is carried over as it was indexed.
    A run that fails as a whole raises IndexRunFailed and loses nothing already indexed.

    ``progress(total)`` may return a progress bar (``update(n)``, ``close()``) told of every file.
    ``cluster``: a connected Dask client whose workers build the batches instead of this machine's
    processes (the result is the same). ``shard``: (k, n), only the files of shard k of n
    (``layout.shard_of``), for a sharded index (shards.py).
    """
    index_dir = Path(index_dir)
    summary = IndexSummary(recovered=recover(index_dir))
    files, passed = scan_corpus(roots)
    files, summary.warnings = with_sidecars(roots, files)
    if shard is not None:
        files = [cf for cf in files if shard_of(report_id(cf.source), shard[1]) == shard[0]]
        passed = [(source, why) for source, why in passed if shard_of(report_id(source), shard[1]) == shard[0]]
        summary.warnings = [(source, why) for source, why in summary.warnings
                            if shard_of(report_id(source), shard[1]) == shard[0]]
    summary.skipped.extend(passed)
    extra_words = corpus_words(roots, userdict)
    existing = _existing_index(index_dir, extra_words, rebuild)
    full = bool(existing.needs_rebuild)
    old = existing.ix if existing.readable else None
    indexed = _indexed_reports(old) if old is not None else {}
    target = _Target.open(existing, index_dir, extra_words)
    summary.rebuilt = full and existing.ix is not None
    try:
        _run(_Run(index_dir, target.ix, old, indexed, files, roots, full, summary, max_chars, limits, extra_words,
                  progress, cluster), target.writer)
        _count(summary, target.ix)  # the generation just committed, before a full build moves it in place
        target.swap_in(index_dir)
    except OSError as exc:
        raise _run_failed(exc, index_dir, full) from exc
    finally:
        target.close()
    return summary


def ensure_index(roots: list[Path], index_dir: Path, **kwargs) -> IndexSummary | None:
    """Builds the index when there is none (first run of `serve`); returns None if it existed.
    What a dead run left beside the index is mended first, so a rebuild killed in its swap
    leaves a complete index to serve, not none."""
    mended = recover(Path(index_dir))
    if index_exists(Path(index_dir)) and layout_current(index_dir):
        return None
    summary = update_index(roots, index_dir, **kwargs)
    summary.recovered[:0] = mended
    return summary


def default_progress(total: int, desc: str = "indexing"):
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc=desc, file=sys.stderr, disable=not sys.stderr.isatty())


def _fresh_index(index_dir: Path, extra_words: tuple):
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(index_dir), make_schema(extra_words), indexname=INDEX_NAME)
    (index_dir / LAYOUT_FILE).write_text(LAYOUT + "\n", encoding="utf-8")
    return ix


def _indexed_reports(ix) -> dict[str, tuple[str, str]]:
    """source -> (report id, file hash) of every report an index holds."""
    with ix.searcher() as s:
        return {stored["source"]: (stored["report_rid"], stored["file_hash"]) for stored in s.documents(kind="report")}


def _count(summary: IndexSummary, ix) -> None:
    with ix.searcher() as s:
        summary.reports = sum(1 for _ in s.document_numbers(kind="report"))
        retired = sum(1 for _ in s.document_numbers(kind="retired"))
        summary.paragraphs = s.doc_count() - summary.reports - retired


@dataclass
class _Existing:
    """The index already at the index path, as a run finds it."""

    ix: object | None  # None: no index, or one Whoosh cannot open
    readable: bool  # its reports and pieces can be read (for an update, or to carry files over)
    needs_rebuild: str  # why an update is not enough ("" if it is)


def _existing_index(index_dir: Path, extra_words: tuple, rebuild: bool) -> _Existing:
    if not index_exists(index_dir):
        return _Existing(None, False, "no index yet")
    try:
        # An update builds on every file of the generation: all are checked, not just their sizes.
        ix = open_index(index_dir, checksums=not rebuild)
    except IndexOutdated:
        return _Existing(_open_for_lock(index_dir), False, "built by an older version")
    except IndexDamaged:
        if not rebuild:
            raise
        return _Existing(_open_for_lock(index_dir), False, "damaged")
    if rebuild:
        return _Existing(ix, True, "asked for")
    if schema_words(ix.schema) != extra_words:
        return _Existing(ix, True, "the user dictionary changed")
    return _Existing(ix, True, "")


def _open_for_lock(index_dir: Path):
    try:
        return whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    except Exception:  # too damaged to open: it is replaced without its lock
        return None


@dataclass
class _Target:
    """The index a run writes, with its writer: the index itself for an update; for a full build a
    new index in a folder beside it, which replaces it once complete, while the old one stays
    locked, and searchable."""

    ix: object
    writer: object
    build_dir: Path | None = None  # a full build's folder, until swapped in
    old_lock: object | None = None

    @classmethod
    def open(cls, existing: _Existing, index_dir: Path, extra_words: tuple) -> "_Target":
        busy = IndexBusy(f"index busy: another policy-search process is writing to {index_dir}")
        if not existing.needs_rebuild:
            try:
                return cls(existing.ix, existing.ix.writer(limitmb=256))
            except LockError as exc:
                raise busy from exc
        old_lock = None
        if existing.ix is not None:
            old_lock = existing.ix.lock("WRITELOCK")
            if not old_lock.acquire(blocking=False):
                raise busy
        build_dir = build_folder(index_dir)
        shutil.rmtree(build_dir, ignore_errors=True)
        try:
            ix = _fresh_index(build_dir, extra_words)
            return cls(ix, ix.writer(limitmb=256), build_dir, old_lock)
        except (OSError, LockError) as exc:
            _release(old_lock)
            shutil.rmtree(build_dir, ignore_errors=True)
            if isinstance(exc, LockError):
                raise busy from exc
            raise _run_failed(exc, index_dir, full=True) from exc

    def swap_in(self, index_dir: Path) -> None:
        if self.build_dir is not None:
            swap_in(self.build_dir, index_dir)
            self.build_dir = None

    def close(self) -> None:
        """Removes a build that was not swapped in and releases the old index's lock."""
        if self.build_dir is not None:
            shutil.rmtree(self.build_dir, ignore_errors=True)
        _release(self.old_lock)


def _release(lock) -> None:
    if lock is not None:
        try:
            lock.release()
        except OSError:
            pass  # its file went with the replaced index


def _kept_words(index_dir: Path, full: bool) -> str:
    if full:
        return f"the index in {index_dir} is unchanged"
    return (f"the index in {index_dir} keeps what this run committed before the failure "
            "and every other file as it was indexed before")


def _run_failed(exc: BaseException, index_dir: Path, full: bool, files: list[str] | None = None) -> IndexRunFailed:
    where = f" while indexing {files[0]}" + (f" and {len(files) - 1} other files" if len(files) > 1 else "") \
        if files else ""
    if isinstance(exc, BrokenProcessPool):
        what = "an indexing worker process died (killed, or out of memory)"
    elif type(exc).__name__ == "KilledWorker":  # distributed's: every worker that ran the task died
        what = f"the cluster's workers died while building a batch, {CLUSTER_RETRIES + 1} times or more (killed, or out of memory)"
    elif type(exc).__name__ in ("CommClosedError", "FutureCancelledError", "CancelledError"):
        what = f"the cluster stopped answering ({type(exc).__name__}: {exc})"
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        what = f"the disk is full ({exc.strerror or exc})"
    elif isinstance(exc, OSError):
        what = f"cannot write the index ({exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''})"
    else:
        what = f"indexing failed ({type(exc).__name__}: {exc})"
    return IndexRunFailed(f"{what}{where}; {_kept_words(index_dir, full)}. Fix the cause and run it again.")


@dataclass
class _Run:
    """What one indexing run works with."""

    index_dir: Path  # where the index is (a full build writes ``ix`` in a folder beside it)
    ix: object  # the Whoosh index written to
    old: object | None  # the index being replaced by a full build, if readable (to carry files over)
    indexed: dict[str, tuple[str, str]]  # source -> (report id, hash) of the index before the run
    files: list[CorpusFile]
    roots: list[Path]
    full: bool
    summary: IndexSummary
    max_chars: int
    limits: ReadLimits
    extra_words: tuple
    progress: Callable[[int], object] | None
    cluster: object | None = None  # a Dask client: the batches are its tasks
    # read on demand, for the old versions of changed reports: segment id -> its piece
    pieces: dict[str, Piece | None] = field(default_factory=dict)

    @property
    def staging(self) -> Path:
        return Path(self.ix.storage.folder) / STAGING_NAME


class _Commits:
    """The run's open writer and what its next commit adds: the segments built since the last one.
    The index's checksums are recorded after every commit (integrity.py)."""

    def __init__(self, ix, writer):
        self.ix = ix
        self.writer = writer  # None while it commits: a commit that failed leaves nothing to cancel
        self.mergeable = {seg.segment_id() for seg in ix._segments()}  # made by earlier runs
        self.pending: list = []
        self.files = 0  # since the last commit

    def commit(self, reopen: bool = True) -> None:
        writer, self.writer = self.writer, None
        _commit(writer, self.pending, self.mergeable)
        record_integrity(Path(self.ix.storage.folder))
        self.pending, self.files = [], 0
        if reopen:
            self.writer = self.ix.writer(limitmb=256)

    def cancel(self) -> None:
        if self.writer is not None:
            try:
                self.writer.cancel()
            except Exception:
                pass


def _commit(writer, segments: list, mergeable: set[str]) -> None:
    """Commits the writer's deletions and documents together with the segments built beside it,
    in one new table of contents; segments among ``mergeable`` (ids) are merged first (merge.py)."""
    writer.commit(mergetype=lambda w, existing: merged_segments(w, existing, mergeable) + segments)


def _run(run: _Run, writer) -> None:
    """The body of an indexing run: reads what must be read, in worker processes, and commits it.
    On any failure the writer it holds is cancelled (its lock released) and its staging removed."""
    commits = _Commits(run.ix, writer)
    try:
        jobs = _files_to_read(run)
        _remove_vanished(run, commits.writer)
        shutil.rmtree(run.staging, ignore_errors=True)  # left by a killed run; we hold the lock
        carry = _read_files(run, jobs, commits)
        if run.full and run.old is not None:
            carried = _carry_over(run.old, carry, run.ix, run.staging)
            if carried is not None:
                commits.pending.append(carried)
        commits.commit(reopen=False)
        shutil.rmtree(run.staging, ignore_errors=True)
    except BaseException:
        commits.cancel()
        shutil.rmtree(run.staging, ignore_errors=True)
        raise


def _files_to_read(run: _Run) -> list[ReadJob]:
    """The files that are new or changed (every file, for a full build); the others are counted."""
    rids = assign_report_ids(run.files, run.indexed)
    jobs = []
    for cf in run.files:
        if not run.full:  # a full build reads every file: its worker hashes what it read
            try:
                digest = sha256_of(cf.path)
            except OSError as exc:
                run.summary.skipped.append((cf.source, _kept(f"cannot read file: {exc.strerror or exc}", cf.source,
                                                             run.indexed)))
                continue
            previous = run.indexed.get(cf.source)
            if previous and previous[1] == with_sidecar(digest, cf.sidecar):
                run.summary.unchanged += 1
                continue
        try:
            size = cf.path.stat().st_size
        except OSError:
            size = 0  # the worker's read says why, and a full build carries the indexed version over
        jobs.append(ReadJob(str(cf.path), cf.source, rids[cf.source], size, run.max_chars, run.limits,
                            run.extra_words, cf.sidecar))
    return jobs


def _remove_vanished(run: _Run, writer) -> None:
    if not all(r.is_dir() for r in run.roots):
        return
    seen = {cf.source for cf in run.files}
    for source, (rid, _) in run.indexed.items():
        if source not in seen and not any((r / source).exists() for r in run.roots):
            if not run.full:
                # Removals first: a report whose file changed format (a.txt -> a.pdf) keeps
                # its id, and its old documents must be gone before the new ones arrive.
                retire(writer, rid, set(), run.pieces)
                writer.delete_by_term("rid", rid)
            run.summary.removed.append(source)


def _read_files(run: _Run, jobs: list[ReadJob], commits: _Commits) -> set[str]:
    """Reads the files into segments and commits them every COMMIT_EVERY files; returns the ids of
    the reports whose indexed version a full build carries over (it could not read their files)."""
    bar = run.progress(len(jobs)) if run.progress is not None else None
    carry: set[str] = set()
    try:
        workers = worker_threads(run.cluster) if run.cluster is not None else None
        for batch in build_batches(plan_batches(jobs, COMMIT_EVERY, workers), run.staging, run.ix.schema, bar,
                                   run.cluster):
            if batch.failure is not None:
                raise _run_failed(batch.failure, run.index_dir, run.full, [o.source for o in batch.outcomes])
            for outcome in batch.outcomes:
                carry |= _account(run, outcome, commits.writer)
            if batch.segment is not None:
                batch.received()
                commits.pending.append(adopt_segment(batch.segment, batch.staging, run.ix.storage.folder))
            commits.files += len(batch.outcomes)
            if commits.files >= COMMIT_EVERY:
                commits.commit()
    finally:
        if bar is not None:
            bar.close()
    return carry


def _account(run: _Run, outcome: FileOutcome, writer) -> set[str]:
    """Enters a file's outcome in the summary and, for an update, retires and deletes the version it
    replaces; returns the report id to carry over if a full build could not read the file."""
    summary, previous = run.summary, run.indexed.get(outcome.source)
    if outcome.pids is None:
        summary.skipped.append((outcome.source, _kept(outcome.reason, outcome.source, run.indexed)))
        if run.full and previous:
            summary.kept.append(outcome.source)
            return {previous[0]}
        return set()
    if run.full:
        if previous is None:
            summary.added.append(outcome.source)
        elif previous[1] == outcome.digest:
            summary.unchanged += 1
        else:
            summary.updated.append(outcome.source)
    elif previous:
        retire(writer, previous[0], set(outcome.pids), run.pieces)
        writer.delete_by_term("rid", previous[0])
        summary.updated.append(outcome.source)
    else:
        summary.added.append(outcome.source)
    return set()


def _kept(reason: str, source: str, indexed: dict) -> str:
    return reason + (" (the previously indexed version is kept)" if source in indexed else "")


def _carry_over(old_ix, rids: set[str], ix, staging: Path):
    """One segment (with its piece) in the new index holding, from the old index, the reports a
    full build could not read (as they were indexed) and every retired paragraph, so that a
    rebuild loses neither a report nor the history behind old permalinks."""
    folder = staging / "carried"
    builder = SegmentWithPiece.in_folder(folder, ix.schema)
    builder.extend(live_documents(old_ix.storage, old_ix.schema, old_ix._segments(), schema_words(ix.schema), rids))
    segment = builder.finish()
    if segment is None:
        return None
    return adopt_segment(segment, str(folder), ix.storage.folder)

