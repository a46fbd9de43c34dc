"""Files read into segments, a batch of files per segment: the plan, the worker processes (or the
parent itself, for a few files), and the progress they report.

Workers run reader -> structure -> analyser and write a complete segment with its piece into a
staging folder of their own (store.segments.SegmentWithPiece); the parent only moves finished
segments into the index folder (``adopt_segment``) and commits them (update.py). Progress is an
object handed down: the parent's bar in-process, a queue that the parent pumps into the bar for
workers.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

from indexer.model import ReadError, ReadLimits
from indexer.reading.readers import load_file
from indexer.reading.readers.ocr import observing_pages, page_note
from indexer.reading.report import read_report
from indexer.reading.sources import SourceRecord
from indexer.store.schema import ParagraphDoc, ReportDoc, indexed_ids, report_documents
from indexer.store.segments import SegmentWithPiece

PARALLEL_FROM = 16  # fewer files are indexed in-process: a worker's start-up would cost more
BATCH_BYTES_MIN = 1 << 20
BATCH_BYTES_MAX = 40 << 20


class Progress(Protocol):
    """Told of every file read (``put(1)``) and of each page OCR reads (``put("OCR file: page 2/9")``,
    shown beside the bar): a multiprocessing queue in a worker, BarProgress in-process."""

    def put(self, n: int | str) -> None: ...


class BarProgress:
    """Progress straight to a bar (``update(n)``, ``set_postfix_str(s)``), or nowhere if there is none."""

    def __init__(self, bar):
        self.bar = bar

    def put(self, n: int | str) -> None:
        if self.bar is None:
            return
        if isinstance(n, str):
            if hasattr(self.bar, "set_postfix_str"):
                self.bar.set_postfix_str(n)
        else:
            self.bar.update(n)


@dataclass(frozen=True)
class ReadJob:
    """One file to read, as a worker is sent it."""

    path: str
    source: str
    rid: str
    size: int  # bytes, for planning batches of similar size
    max_chars: int
    limits: ReadLimits
    extra_words: tuple
    sidecar: SourceRecord | None = None


@dataclass
class FileOutcome:
    source: str
    rid: str
    pids: list[str] | None  # the paragraph and article ids now indexed (schema.indexed_ids); None if skipped
    reason: str = ""
    digest: str = ""  # sha256 of the bytes that were indexed


@dataclass
class BatchResult:
    outcomes: list[FileOutcome]
    segment: object | None  # a Whoosh segment in `staging`, not yet in any table of contents
    staging: str
    failure: BaseException | None = None  # the batch as a whole could not be built (see _safely)
    # A cluster worker that cannot see the index folder sends the segment's files back:
    # name -> bytes, written into `staging` by the indexer (``received``).
    shipped: dict[str, bytes] | None = None

    def received(self) -> "BatchResult":
        """The batch with its shipped files written into its staging folder (a no-op otherwise)."""
        if self.shipped:
            os.makedirs(self.staging, exist_ok=True)
            for name, content in self.shipped.items():
                with open(os.path.join(self.staging, name), "wb") as f:
                    f.write(content)
            self.shipped = None
        return self


def with_sidecar(digest: str, sidecar: SourceRecord | None) -> str:
    """The hash a report is indexed under: its file's, and what its sidecar says of it, so that a
    changed sources.csv row re-reads the file. A file without a sidecar keeps its file's hash."""
    if sidecar is None:
        return digest
    return hashlib.sha256((digest + "\n" + sidecar.fingerprint()).encode("utf-8")).hexdigest()


def read_job(job: ReadJob) -> tuple[list[ReportDoc | ParagraphDoc] | None, str, str]:
    """reader -> structure -> analyser for one file: (documents or None, reason, hash). The file
    is read once, and the hash is of exactly those bytes: a file changed while it is read is
    indexed as it was read, and its next change (or revert) is seen."""
    try:
        content = load_file(job.path, job.source, job.limits)
        digest = with_sidecar(hashlib.sha256(content).hexdigest(), job.sidecar)
        report = read_report(job.path, source=job.source, max_chars=job.max_chars, limits=job.limits,
                             content=content, sidecar=job.sidecar)
        docs = report_documents(report, job.rid, job.source, str(Path(job.path).resolve()), digest, job.extra_words)
        return docs, "", digest
    except ReadError as exc:
        return None, exc.reason, ""
    except MemoryError:
        return None, "out of memory while reading it (lower its size or raise the machine's memory)", ""
    except Exception as exc:  # a reader bug must not stop the batch
        return None, f"unexpected error while reading: {type(exc).__name__}: {exc}", ""


def plan_batches(jobs: list[ReadJob], most_files: int, workers: int | None = None) -> list[list[ReadJob]]:
    """Consecutive files in batches of similar size, one segment each: several per worker
    (``workers``: this machine's cores unless given, a cluster's threads), so that the workers stay
    busy to the end, but large, so that the index has few segments. Commits come between batches,
    so a batch holds at most ``most_files`` (the files between commits)."""
    if not jobs:
        return []
    if len(jobs) < PARALLEL_FROM:
        return [jobs]
    workers = workers or _worker_count()
    target = min(BATCH_BYTES_MAX, max(BATCH_BYTES_MIN, sum(j.size for j in jobs) // (workers * 4)))
    batches: list[list[ReadJob]] = [[]]
    filled = 0
    for job in jobs:
        if batches[-1] and (filled + job.size > target or len(batches[-1]) >= most_files):
            batches.append([])
            filled = 0
        batches[-1].append(job)
        filled += job.size
    return batches


def build_batch(jobs: list[ReadJob], staging: str, schema, progress: Progress) -> BatchResult:
    """reader -> structure -> analyser -> one segment with its piece, for a batch of files."""
    segment = SegmentWithPiece.in_folder(staging, schema)
    outcomes = []
    for job in jobs:
        with observing_pages(lambda source, page, pages: progress.put(page_note(source, page, pages))):
            docs, reason, digest = read_job(job)
        if docs is None:
            outcomes.append(FileOutcome(job.source, job.rid, None, reason))
        else:
            segment.extend(docs)
            outcomes.append(FileOutcome(job.source, job.rid, indexed_ids(docs),
                                        "", digest))
        progress.put(1)
    return BatchResult(outcomes, segment.finish(), staging)


def adopt_segment(segment, staging: str, index_folder: str):
    """Moves a built segment's files from its staging folder into the index folder. Until a commit
    lists it, Whoosh treats it as leftovers: a crash before then loses nothing committed."""
    prefix = segment.segment_id() + "."
    for name in os.listdir(staging):
        if name.startswith(prefix):
            os.replace(os.path.join(staging, name), os.path.join(index_folder, name))
    shutil.rmtree(staging, ignore_errors=True)
    return segment


# A worker's progress queue: a multiprocessing queue reaches a worker only through its
# initializer (it cannot be pickled into a task), so the initializer keeps it here for
# _build_in_worker. Written once per worker process, never in the parent.
_worker_progress: Progress | None = None


def _init_worker(parent_pid: int, progress: Progress) -> None:
    """Worker initializer: progress goes to the parent's queue, and a worker whose indexer was
    killed exits instead of waiting for work forever."""
    global _worker_progress
    _worker_progress = progress

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _build_in_worker(jobs: list[ReadJob], staging: str, schema) -> BatchResult:
    return build_batch(jobs, staging, schema, _worker_progress or BarProgress(None))


def _worker_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def build_on_cluster_worker(jobs: list[ReadJob], staging: str, schema) -> BatchResult:
    """A batch as a Dask task on a cluster's worker. Where the worker sees the index folder (shared
    storage) it builds in ``staging`` there; elsewhere in a folder of its own, and ships the files
    back. A task retried after its worker died starts again from an empty folder."""
    shared = os.path.isdir(os.path.dirname(staging))
    folder = staging if shared else tempfile.mkdtemp(prefix="policy-search-batch-")
    shutil.rmtree(folder, ignore_errors=True)
    result = build_batch(jobs, folder, schema, BarProgress(None))
    if not shared:
        try:
            result.shipped = {name: Path(folder, name).read_bytes() for name in os.listdir(folder)}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        result.staging = staging
    return result


def build_batches(batches: list[list[ReadJob]], staging: Path, schema, bar, cluster=None) -> Iterator[BatchResult]:
    """Builds the batches' segments in worker processes (all cores: the parent only moves files and
    commits), or as tasks on a Dask ``cluster`` (a connected client), and yields them in order; a
    batch that failed as a whole comes back with its failure (the caller stops there: the batches
    not yet started are cancelled). ``bar`` (``update(n)``, or None) is told of every file."""
    dirs = [str(staging / f"batch-{i:05d}") for i in range(len(batches))]
    if cluster is not None:
        yield from _on_cluster(cluster, batches, staging, dirs, schema, bar)
        return
    if len(batches) <= 1:
        progress = BarProgress(bar)
        for batch, d in zip(batches, dirs):
            yield _safely(lambda: build_batch(batch, d, schema, progress), batch, d)
        return
    # "spawn", not "fork": a forked worker would share the open file of Whoosh's write lock and
    # keep the index locked after the indexer itself was killed.
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    pump = threading.Thread(target=_pump_progress, args=(queue, BarProgress(bar)), name="index-progress",
                            daemon=True)
    pump.start()
    workers = min(_worker_count(), len(batches))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(os.getpid(), queue))
    try:
        futures = [pool.submit(_build_in_worker, batch, d, schema) for batch, d in zip(batches, dirs)]
        for future, batch, d in zip(futures, batches, dirs):
            yield _safely(future.result, batch, d)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        queue.put(None)
        pump.join(timeout=5)


# A batch whose task failed this many more times (a reader never raises: only a write error, a
# full disk or a lost worker can) fails the run; the scheduler itself retries a task whose
# worker died (its distributed.scheduler.allowed-failures).
CLUSTER_RETRIES = 2


def _on_cluster(client, batches: list[list[ReadJob]], staging: Path, dirs: list[str], schema, bar
                ) -> Iterator[BatchResult]:
    """The batches as Dask tasks, yielded in order; the bar moves as each task finishes (the
    cluster's task stream), in whatever order they finish."""
    staging.mkdir(parents=True, exist_ok=True)
    progress = BarProgress(bar)
    lock = threading.Lock()

    def done(n: int):
        def tell(future) -> None:
            if future.status == "finished":
                with lock:
                    progress.put(n)
        return tell

    futures = []
    for i, (batch, d) in enumerate(zip(batches, dirs)):
        future = client.submit(build_on_cluster_worker, batch, d, schema, key=f"policy-search-batch-{i:05d}-{os.getpid()}",
                               retries=CLUSTER_RETRIES, pure=False)
        future.add_done_callback(done(len(batch)))
        futures.append(future)
    try:
        for future, batch, d in zip(futures, batches, dirs):
            yield _safely(lambda: future.result().received(), batch, d)
    finally:
        client.cancel(futures)


def _safely(run: Callable[[], BatchResult], batch: list[ReadJob], staging: str) -> BatchResult:
    """A batch's result, or its failure as a whole: a full disk, a write error, a worker process
    that died (BrokenProcessPool). Files a reader cannot read never get here (read_job)."""
    try:
        return run()
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return BatchResult([FileOutcome(job.source, job.rid, None, "") for job in batch], None, staging, failure=exc)


def _pump_progress(queue, progress: BarProgress) -> None:
    while True:
        n = queue.get()
        if n is None:
            return
        progress.put(n)
