"""Index writer: corpus files -> Whoosh documents, incremental by content hash.

Files are read, structured, analysed and written as Whoosh segments in worker processes, a
batch of files per segment (segments.SegmentBuilder); the parent deletes the old versions of
changed and removed files with an ordinary Whoosh writer and commits its changes together with
the new segments in one table of contents, which is written last, so a commit is atomic: a crash
or a kill leaves the previous generation searchable. Whoosh's write lock keeps a second indexer
out; it is told the index is busy.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from whoosh import index as whoosh_index
from whoosh.writing import LockError

from .analysis import load_userdict_file
from .layout import INDEX_NAME, LAYOUT, LAYOUT_FILE, damaged, layout_current, open_index
from .model import ReadError
from .parse import parse_file
from .pieces import (KIND_CODES, Piece, PieceBuilder, PieceMissing, PieceRow, missing_piece_damage, piece_of,
                     piece_path)
from .readers import SUPPORTED_SUFFIXES
from .schema import make_schema, paragraph_document, report_documents, report_id, retired_documents, stored_document
from .segments import SegmentBuilder

USERDICT_NAME = "userdict.txt"
STAGING_NAME = "staging"  # inside the index folder: where workers build segments
COMMIT_EVERY = 1000  # files; a kill loses at most the work since the last commit
PARALLEL_FROM = 16  # fewer files are indexed in-process: a worker's start-up would cost more
BATCH_BYTES_MIN = 1 << 20
BATCH_BYTES_MAX = 40 << 20
# Small segments left by earlier runs (incremental updates) are merged once there are MERGE_AT of
# them, and a segment with more deleted documents than live ones is compacted. A run never merges
# the segments it made itself: a build would otherwise write its own batches again.
SMALL_SEGMENT_DOCS = 1_500  # about 30 reports; a build's batches are larger (1 MB and up)
MERGE_AT = 4


class IndexBusy(Exception):
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


def _fresh_index(index_dir: Path, extra_words: tuple):
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(index_dir), make_schema(extra_words), indexname=INDEX_NAME)
    (index_dir / LAYOUT_FILE).write_text(LAYOUT + "\n", encoding="utf-8")
    return ix


def _schema_words(ix) -> tuple:
    return ix.schema["content"].analyzer.extra_words


def update_index(
    roots: list[Path],
    index_dir: Path,
    *,
    rebuild: bool = False,
    userdict: Path | None = None,
    max_chars: int = 1000,
    progress: Callable[[int], object] | None = None,
) -> IndexSummary:
    """Brings the index in line with the files below roots; returns what changed.

    ``progress(total)`` may return a progress bar (``update(n)``, ``close()``) told of every file.
    """
    summary = IndexSummary()
    files, unsupported = scan_corpus(roots)
    summary.skipped.extend(unsupported)
    extra_words = corpus_words(roots, userdict)

    swap_dir: Path | None = None
    old_lock = None
    busy = IndexBusy(f"index busy: another policy-search process is writing to {index_dir}")
    if whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME):
        ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
        if rebuild or _schema_words(ix) != extra_words or not layout_current(index_dir):
            # Everything is read again (or the dictionary changed, so every paragraph must be
            # segmented again, or the layout changed) into a new index that replaces the old one
            # only once it is complete; the old one stays locked, and searchable, meanwhile.
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
                    indexed[stored["source"]] = (stored["report_rid"], stored["file_hash"])

        mergeable = {seg.segment_id() for seg in ix._segments()}  # made by earlier runs
        rids = _assign_report_ids(files, indexed)
        pieces: dict[str, Piece | None] = {}  # read on demand, for the old versions of changed reports
        seen_sources = set()
        jobs: list[tuple] = []
        sizes: list[int] = []
        for cf in files:
            seen_sources.add(cf.source)
            try:
                digest = file_hash(cf.path)
                size = cf.path.stat().st_size
            except OSError as exc:
                summary.skipped.append((cf.source, f"cannot read file: {exc.strerror or exc}"))
                continue
            previous = indexed.get(cf.source)
            if previous and previous[1] == digest:
                summary.unchanged += 1
                continue
            jobs.append((str(cf.path), cf.source, rids[cf.source], digest, max_chars, extra_words))
            sizes.append(size)

        if all(r.is_dir() for r in roots):
            # Removals first: a report whose file changed format (a.txt -> a.pdf) keeps its id,
            # and its old documents must be gone before the new ones arrive.
            for source, (rid, _) in indexed.items():
                if source not in seen_sources and not any((r / source).exists() for r in roots):
                    _retire(writer, rid, set(), pieces)
                    writer.delete_by_term("rid", rid)
                    summary.removed.append(source)

        staging = Path(ix.storage.folder) / STAGING_NAME
        shutil.rmtree(staging, ignore_errors=True)  # left by a killed run; we hold the lock
        bar = progress(len(jobs)) if progress is not None else None
        pending: list = []  # segments built since the last commit
        files_since_commit = 0
        for batch in _build_batches(_plan_batches(jobs, sizes), staging, ix.schema, bar):
            for outcome in batch.outcomes:
                previous = indexed.get(outcome.source)
                if outcome.pids is None:
                    reason = outcome.reason
                    if previous:
                        reason += " (the previously indexed version is kept)"
                    summary.skipped.append((outcome.source, reason))
                    continue
                if previous:
                    _retire(writer, previous[0], set(outcome.pids), pieces)
                    writer.delete_by_term("rid", previous[0])
                    summary.updated.append(outcome.source)
                else:
                    summary.added.append(outcome.source)
            if batch.segment is not None:
                pending.append(_adopt_segment(batch, ix.storage))
            files_since_commit += len(batch.outcomes)
            if files_since_commit >= COMMIT_EVERY:
                _commit(writer, pending, mergeable)
                writer = ix.writer(limitmb=256)
                pending, files_since_commit = [], 0
        if bar is not None:
            bar.close()

        _commit(writer, pending, mergeable)
        writer = None
        shutil.rmtree(staging, ignore_errors=True)
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
    with ix.searcher() as s:
        summary.reports = sum(1 for _ in s.document_numbers(kind="report"))
        retired = sum(1 for _ in s.document_numbers(kind="retired"))
        summary.paragraphs = s.doc_count() - summary.reports - retired
    return summary


def _commit(writer, segments: list, mergeable: set[str]) -> None:
    """Commits the writer's deletions and documents together with the segments built beside it,
    in one new table of contents; small segments among ``mergeable`` (ids) are merged first."""
    writer.commit(mergetype=lambda w, existing: _merge_small(w, existing, mergeable) + segments)


def _merge_small(writer, existing: list, mergeable: set[str]) -> list:
    """Whoosh's own merge (MERGE_SMALL) copies stored fields, and a paragraph keeps nothing there:
    small segments are merged by writing their live documents again, with their pieces, into one."""
    candidates = [s for s in existing if s.segment_id() in mergeable]
    wasteful = [s for s in candidates if s.doc_count() * 2 < s.doc_count_all()]
    small = [s for s in candidates if s.doc_count() < SMALL_SEGMENT_DOCS]
    chosen = [s for s in candidates if s in wasteful or (len(small) >= MERGE_AT and s in small)]
    if not chosen:
        return existing
    merged = _merge_segments(writer.storage, writer.schema, chosen)
    return [s for s in existing if s not in chosen] + ([merged] if merged is not None else [])


def _merge_segments(storage, schema, segments: list):
    """One new segment (and piece) holding the live documents of segments, or None if none is left."""
    from whoosh.reading import SegmentReader

    extra_words = schema["content"].analyzer.extra_words
    builder = SegmentBuilder(storage, schema, INDEX_NAME)
    piece = PieceBuilder()
    for segment in segments:
        reader = SegmentReader(storage, schema, segment)
        try:
            old = _piece_or_damage(storage.folder, reader)
            rows = {r.docnum: r for r in old.rows()} if old is not None else {}
            for docnum in range(segment.doc_count_all()):
                if reader.is_deleted(docnum):
                    continue
                row = rows.get(docnum)
                if row is not None:
                    doc = paragraph_document(row.pid, row.rid, row.kind, row.ordinal, row.section, row.text,
                                             row.folded, extra_words)
                else:
                    doc = stored_document(reader.stored_fields(docnum))
                    if doc is None:
                        raise damaged(storage.folder, f"document {docnum} of segment {segment.segment_id()} is in no piece")
                write_documents(builder, piece, [doc])
        finally:
            reader.close()
    if not builder.doc_count:
        return None
    segment = builder.finish()
    piece.save(piece_path(storage.folder, segment))
    return segment


def write_documents(builder: SegmentBuilder, piece: PieceBuilder, docs: list[dict]) -> None:
    """Adds documents to a segment being built, and their paragraphs and reports to its piece."""
    for doc in docs:
        kind = doc.get("kind")
        if kind in KIND_CODES:
            piece.add_paragraph(builder.doc_count, doc["pid"], doc["rid"], kind, doc["_ordinal"], doc["_section"],
                                doc["_text"], doc["_folded"])
        elif kind == "report":
            piece.add_report(builder.doc_count, {
                "rid": doc["rid"], "meta": json.loads(doc["meta"]), "source": doc["source"], "path": doc["path"],
                "fmt": doc["fmt"], "file_hash": doc["file_hash"]})
        builder.add_document(**doc)


def _retire(writer, rid: str, live_pids: set[str], pieces: dict[str, Piece | None]) -> None:
    """Remembers the paragraphs of report rid that the update drops (see schema.retired_documents)."""
    for doc in retired_documents(_current_paragraphs(writer, rid, pieces), live_pids):
        writer.delete_by_term("retired_pid", doc["retired_pid"])
        writer.add_document(**doc)


def _current_paragraphs(writer, rid: str, pieces: dict[str, Piece | None]) -> list[PieceRow]:
    """The live paragraphs of report rid, from the pieces of the segments that hold them."""
    out: list[PieceRow] = []
    with writer.searcher() as s:
        docnums = np.fromiter(s.document_numbers(rid=rid), dtype=np.int64)
        for segreader, offset in s.reader().leaf_readers():
            if not hasattr(segreader, "segment"):
                continue
            local = docnums[(docnums >= offset) & (docnums < offset + segreader.doc_count_all())] - offset
            if not local.size:
                continue
            segment_id = segreader.segment().segment_id()
            if segment_id not in pieces:
                pieces[segment_id] = _piece_or_damage(writer.storage.folder, segreader)
            piece = pieces[segment_id]
            if piece is not None:  # else retired paragraphs only
                out += [piece.row(j) for j in np.flatnonzero(np.isin(piece.docnums, local))]
    return out


def _piece_or_damage(folder, segreader) -> Piece | None:
    """piece_of, for a writer: it holds the lock, so a missing piece is no race but damage."""
    try:
        return piece_of(folder, segreader)
    except PieceMissing as exc:
        raise missing_piece_damage(exc) from exc


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


@dataclass
class FileOutcome:
    source: str
    rid: str
    pids: list[str] | None  # the paragraph ids now indexed; None if the file was skipped
    reason: str = ""


@dataclass
class BatchResult:
    outcomes: list[FileOutcome]
    segment: object | None  # a Whoosh segment in `staging`, not yet in any table of contents
    staging: str


def _plan_batches(jobs: list[tuple], sizes: list[int]) -> list[list[tuple]]:
    """Consecutive files in batches of similar size, one segment each: several per worker, so that
    the workers stay busy to the end, but large, so that the index has few segments. Commits come
    between batches, so a batch holds at most COMMIT_EVERY files."""
    if not jobs:
        return []
    if len(jobs) < PARALLEL_FROM:
        return [jobs]
    target = min(BATCH_BYTES_MAX, max(BATCH_BYTES_MIN, sum(sizes) // (_worker_count() * 4)))
    batches: list[list[tuple]] = [[]]
    filled = 0
    for job, size in zip(jobs, sizes):
        if batches[-1] and (filled + size > target or len(batches[-1]) >= COMMIT_EVERY):
            batches.append([])
            filled = 0
        batches[-1].append(job)
        filled += size
    return batches


def build_batch(jobs: list[tuple], staging: str, schema) -> BatchResult:
    """reader -> structure -> analyser -> one Whoosh segment, for a batch of files (in a worker)."""
    from whoosh.filedb.filestore import FileStorage

    storage = FileStorage(staging).create()
    builder = SegmentBuilder(storage, schema, INDEX_NAME)
    piece = PieceBuilder()
    outcomes = []
    for job in jobs:
        source, rid, docs, reason = read_job(job)
        if docs is None:
            outcomes.append(FileOutcome(source, rid, None, reason))
        else:
            write_documents(builder, piece, docs)
            outcomes.append(FileOutcome(source, rid, [d["pid"] for d in docs if d["kind"] != "report"]))
        _report_progress()
    if not builder.doc_count:
        return BatchResult(outcomes, None, staging)
    segment = builder.finish()
    piece.save(piece_path(staging, segment))
    return BatchResult(outcomes, segment, staging)


def _adopt_segment(batch: BatchResult, storage):
    """Moves a built segment's files from its staging folder into the index folder. Until a commit
    lists it, Whoosh treats it as leftovers: a crash before then loses nothing committed."""
    segment = batch.segment
    prefix = segment.segment_id() + "."
    for name in os.listdir(batch.staging):
        if name.startswith(prefix):
            os.replace(os.path.join(batch.staging, name), os.path.join(storage.folder, name))
    shutil.rmtree(batch.staging, ignore_errors=True)
    return segment


_progress_queue = None


def _report_progress() -> None:
    if _progress_queue is not None:
        _progress_queue.put(1)


def _init_worker(parent_pid: int, queue) -> None:
    """Worker initializer: progress goes to the parent's queue, and a worker whose indexer was
    killed exits instead of waiting for work forever."""
    global _progress_queue
    _progress_queue = queue

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _worker_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _build_batches(batches: list[list[tuple]], staging: Path, schema, bar) -> Iterator[BatchResult]:
    """Builds the batches' segments in worker processes (all cores: the parent only moves files and
    commits) and yields them in order; a failed batch comes back as skipped files."""
    global _progress_queue
    dirs = [str(staging / f"batch-{i:05d}") for i in range(len(batches))]
    if len(batches) <= 1:
        _progress_queue = _InlineProgress(bar)
        try:
            for batch, d in zip(batches, dirs):
                yield _safely(lambda: build_batch(batch, d, schema), batch, d)
        finally:
            _progress_queue = None
        return
    # "spawn", not "fork": a forked worker would share the open file of Whoosh's write lock and
    # keep the index locked after the indexer itself was killed.
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    pump = threading.Thread(target=_pump_progress, args=(queue, bar), name="index-progress", daemon=True)
    pump.start()
    workers = min(_worker_count(), len(batches))
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(os.getpid(), queue)) as pool:
            futures = [pool.submit(build_batch, batch, d, schema) for batch, d in zip(batches, dirs)]
            for future, batch, d in zip(futures, batches, dirs):
                yield _safely(future.result, batch, d)
    finally:
        queue.put(None)
        pump.join(timeout=5)


def _safely(run: Callable[[], BatchResult], batch: list[tuple], staging: str) -> BatchResult:
    try:
        return run()
    except Exception as exc:  # a crashed worker must not stop the run: its files are reported
        shutil.rmtree(staging, ignore_errors=True)
        reason = f"indexing failed: {type(exc).__name__}: {exc}"
        return BatchResult([FileOutcome(job[1], job[2], None, reason) for job in batch], None, staging)


class _InlineProgress:
    def __init__(self, bar):
        self.bar = bar

    def put(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)


def _pump_progress(queue, bar) -> None:
    while True:
        n = queue.get()
        if n is None:
            return
        if bar is not None:
            bar.update(n)


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
    if whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME) and layout_current(index_dir):
        return None
    return update_index(roots, index_dir, **kwargs)


def default_progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="indexing", file=sys.stderr, disable=not sys.stderr.isatty())
