"""Index writer: corpus files -> Whoosh documents, incremental by content hash.

Files are read, structured, analysed and written as Whoosh segments in worker processes, a
batch of files per segment (segments.SegmentBuilder); the parent deletes the old versions of
changed and removed files with an ordinary Whoosh writer and commits its changes together with
the new segments in one table of contents, which is written last, so a commit is atomic: a crash
or a kill leaves the previous generation searchable. Whoosh's write lock keeps a second indexer
out; it is told the index is busy.
"""
from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from whoosh import index as whoosh_index
from whoosh.writing import LockError

from indexer.analysis import load_userdict_file
from indexer.store.integrity import record as record_integrity
from indexer.store.layout import (INDEX_NAME, LAYOUT, LAYOUT_FILE, IndexDamaged, IndexOutdated, damaged, index_exists,
                     layout_current, open_index)
from indexer.model import ReadError, ReadLimits
from indexer.reading.report import read_report
from indexer.reading.readers import load_file
from indexer.store.pieces import (KIND_CODES, Piece, PieceBuilder, PieceMissing, PieceRow, missing_piece_damage, piece_of,
                     piece_path)
from indexer.reading.readers import SUPPORTED_SUFFIXES
from indexer.store.schema import make_schema, paragraph_document, report_documents, report_id, retired_documents, stored_document
from indexer.store.segments import SegmentBuilder
from indexer.indexing.swap import build_folder, recover, swap_in

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

    def to_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "reports": self.reports, "paragraphs": self.paragraphs,
            "rebuilt": self.rebuilt, "kept": self.kept, "recovered": self.recovered,
        }


@dataclass(frozen=True)
class CorpusFile:
    path: Path  # as found, for reading (may hold surrogate escapes of undecodable bytes)
    source: str  # corpus-relative, posix, printable (see source_name)


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def source_name(relative: str) -> str:
    """A file's name as the index keeps and shows it: the corpus-relative path, with bytes that are
    not UTF-8 (which os.walk hands over as surrogate escapes) written as \\xNN and control
    characters as \\n, \\t or \\xNN, so that no name can break an output line, a header, or the
    UTF-8 the index is written in. Ordinary names are unchanged."""
    if not _UNPRINTABLE.search(relative):
        return relative

    def escape(m: re.Match) -> str:
        ch = m.group(0)
        if 0xDC80 <= ord(ch) <= 0xDCFF:  # surrogateescape of one undecodable byte
            return f"\\x{ord(ch) - 0xDC00:02x}"
        return ch.encode("unicode_escape", "backslashreplace").decode("ascii")

    return _UNPRINTABLE.sub(escape, relative)


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a loop of links
        return False


def scan_corpus(roots: Iterable[Path]) -> tuple[list[CorpusFile], list[tuple[str, str]]]:
    """Supported files below the roots (a root may be a single file), and the files passed over
    with the reason. A file is below a root only if it still is once links are resolved: a link
    to a file outside the corpus (the system's password file, say) is passed over."""
    found: list[CorpusFile] = []
    passed: list[tuple[str, str]] = []
    names: dict[str, Path] = {}
    for root in roots:
        if root.is_file():
            found.append(CorpusFile(root, source_name(root.name)))
            continue
        if not root.is_dir():
            passed.append((source_name(str(root)), "no such file or directory"))
            continue
        real_root = root.resolve()
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                rel = path.relative_to(root).as_posix()
                if rel == USERDICT_NAME:
                    continue
                source = source_name(rel)
                if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                    passed.append((source, f"unsupported file type '{source_name(path.suffix or name)}'"))
                elif path.is_symlink() and not _inside(path, real_root):
                    passed.append((source, "a link to a file outside the corpus folder (not followed)"))
                elif source in names and names[source] != path:
                    passed.append((source, "its name, written printably, is the same as another file's"))
                else:
                    names[source] = path
                    found.append(CorpusFile(path, source))
    return found, passed


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
    return _schema_words_of(ix.schema)


def _schema_words_of(schema) -> tuple:
    return schema["content"].analyzer.extra_words


def _indexed_reports(ix) -> dict[str, tuple[str, str]]:
    """source -> (report id, file hash) of every report an index holds."""
    with ix.searcher() as s:
        return {stored["source"]: (stored["report_rid"], stored["file_hash"]) for stored in s.documents(kind="report")}


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
    if _schema_words(ix) != extra_words:
        return _Existing(ix, True, "the user dictionary changed")
    return _Existing(ix, True, "")


def _open_for_lock(index_dir: Path):
    try:
        return whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    except Exception:  # too damaged to open: it is replaced without its lock
        return None


def update_index(
    roots: list[Path],
    index_dir: Path,
    *,
    rebuild: bool = False,
    userdict: Path | None = None,
    max_chars: int = 1000,
    limits: ReadLimits = ReadLimits(),
    progress: Callable[[int], object] | None = None,
) -> IndexSummary:
    """Brings the index in line with the files below roots; returns what changed.

    An update adds new files, re-reads changed ones and removes vanished ones, committing every
    COMMIT_EVERY files. A full build (no index yet, ``rebuild``, a changed user dictionary or
    layout) reads every file into a new folder that replaces the index only once complete
    (swap.py); a file it cannot read that the old index has is carried over as it was indexed.
    A run that fails as a whole raises IndexRunFailed and loses nothing already indexed.

    ``progress(total)`` may return a progress bar (``update(n)``, ``close()``) told of every file.
    """
    index_dir = Path(index_dir)
    summary = IndexSummary()
    summary.recovered = recover(index_dir)
    files, passed = scan_corpus(roots)
    summary.skipped.extend(passed)
    extra_words = corpus_words(roots, userdict)
    existing = _existing_index(index_dir, extra_words, rebuild)
    busy = IndexBusy(f"index busy: another policy-search process is writing to {index_dir}")
    full = bool(existing.needs_rebuild)
    old = existing.ix if existing.readable else None
    indexed = _indexed_reports(old) if old is not None else {}

    old_lock = None
    build_dir: Path | None = None
    if full:
        # The old index stays locked, and searchable, while the new one is built beside it.
        if existing.ix is not None:
            old_lock = existing.ix.lock("WRITELOCK")
            if not old_lock.acquire(blocking=False):
                raise busy
        build_dir = build_folder(index_dir)
        shutil.rmtree(build_dir, ignore_errors=True)
        try:
            ix = _fresh_index(build_dir, extra_words)
        except OSError as exc:
            _release(old_lock)
            shutil.rmtree(build_dir, ignore_errors=True)
            raise _run_failed(exc, index_dir, full=True) from exc
        summary.rebuilt = existing.ix is not None
    else:
        ix = existing.ix
    try:
        writer = ix.writer(limitmb=256)
    except LockError as exc:
        _release(old_lock)
        raise busy from exc

    try:
        _run(_Run(index_dir, ix, old, indexed, files, roots, full, summary, max_chars, limits, extra_words, progress),
             writer)
        if build_dir is not None:
            swap_in(build_dir, index_dir)
            build_dir = None
    except OSError as exc:
        raise _run_failed(exc, index_dir, full) from exc
    finally:
        if build_dir is not None:
            shutil.rmtree(build_dir, ignore_errors=True)
        _release(old_lock)
    ix = open_index(index_dir)
    with ix.searcher() as s:
        summary.reports = sum(1 for _ in s.document_numbers(kind="report"))
        retired = sum(1 for _ in s.document_numbers(kind="retired"))
        summary.paragraphs = s.doc_count() - summary.reports - retired
    return summary


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


def _run(run: _Run, writer) -> None:
    """The body of an indexing run: reads what must be read, in worker processes, and commits it.
    On any failure the writer it holds is cancelled (its lock released) and its staging removed."""
    state = {"writer": writer}
    try:
        _read_and_commit(run, state)
    except BaseException:
        if state["writer"] is not None:
            try:
                state["writer"].cancel()
            except Exception:
                pass
        shutil.rmtree(Path(run.ix.storage.folder) / STAGING_NAME, ignore_errors=True)
        raise


def _read_and_commit(run: _Run, state: dict) -> None:
    ix, old, indexed, files, full, summary = run.ix, run.old, run.indexed, run.files, run.full, run.summary
    writer = state["writer"]
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
            summary.skipped.append((cf.source, _kept(f"cannot read file: {exc.strerror or exc}", cf.source, indexed)))
            continue
        previous = indexed.get(cf.source)
        if not full and previous and previous[1] == digest:
            summary.unchanged += 1
            continue
        jobs.append((str(cf.path), cf.source, rids[cf.source], run.max_chars, run.limits, run.extra_words))
        sizes.append(size)

    if all(r.is_dir() for r in run.roots):
        for source, (rid, _) in indexed.items():
            if source not in seen_sources and not any((r / source).exists() for r in run.roots):
                if not full:
                    # Removals first: a report whose file changed format (a.txt -> a.pdf) keeps
                    # its id, and its old documents must be gone before the new ones arrive.
                    _retire(writer, rid, set(), pieces)
                    writer.delete_by_term("rid", rid)
                summary.removed.append(source)

    staging = Path(ix.storage.folder) / STAGING_NAME
    shutil.rmtree(staging, ignore_errors=True)  # left by a killed run; we hold the lock
    bar = run.progress(len(jobs)) if run.progress is not None else None
    pending: list = []  # segments built since the last commit
    carry: list[str] = []  # report ids whose indexed version a full build carries over
    files_since_commit = 0
    try:
        for batch in _build_batches(_plan_batches(jobs, sizes), staging, ix.schema, bar):
            if batch.failure is not None:
                raise _run_failed(batch.failure, run.index_dir, full, [o.source for o in batch.outcomes])
            for outcome in batch.outcomes:
                previous = indexed.get(outcome.source)
                if outcome.pids is None:
                    summary.skipped.append((outcome.source, _kept(outcome.reason, outcome.source, indexed)))
                    if full and previous:
                        carry.append(previous[0])
                        summary.kept.append(outcome.source)
                    continue
                if full:
                    if previous is None:
                        summary.added.append(outcome.source)
                    elif previous[1] == outcome.digest:
                        summary.unchanged += 1
                    else:
                        summary.updated.append(outcome.source)
                elif previous:
                    _retire(writer, previous[0], set(outcome.pids), pieces)
                    writer.delete_by_term("rid", previous[0])
                    summary.updated.append(outcome.source)
                else:
                    summary.added.append(outcome.source)
            if batch.segment is not None:
                pending.append(_adopt_segment(batch, ix.storage))
            files_since_commit += len(batch.outcomes)
            if files_since_commit >= COMMIT_EVERY:
                state["writer"] = None
                _commit(writer, pending, mergeable)
                record_integrity(Path(ix.storage.folder))
                writer = state["writer"] = ix.writer(limitmb=256)
                pending, files_since_commit = [], 0
    finally:
        if bar is not None:
            bar.close()
    if full and old is not None:
        carried = _carry_over(old, set(carry), ix, staging)
        if carried is not None:
            pending.append(carried)
    state["writer"] = None
    _commit(writer, pending, mergeable)
    record_integrity(Path(ix.storage.folder))
    shutil.rmtree(staging, ignore_errors=True)


def _kept(reason: str, source: str, indexed: dict) -> str:
    return reason + (" (the previously indexed version is kept)" if source in indexed else "")


def _carry_over(old_ix, rids: set[str], ix, staging: Path):
    """One segment (with its piece) in the new index holding, from the old index, the reports a
    full build could not read (as they were indexed) and every retired paragraph, so that a
    rebuild loses neither a report nor the history behind old permalinks."""
    storage = _staging_storage(staging / "carried")
    docs = _live_documents(old_ix.storage, old_ix.schema, old_ix._segments(), _schema_words(ix), rids)
    segment = _segment_of(docs, storage, ix.schema)
    if segment is None:
        return None
    return _adopt_segment(BatchResult([], segment, storage.folder), ix.storage)


def _live_documents(storage, schema, segments: list, extra_words: tuple,
                    rids: set[str] | None = None) -> Iterator[dict]:
    """The live documents of segments, to be written again: paragraphs from their pieces (their
    words segmented with extra_words), reports and retired paragraphs from Whoosh's stored
    fields. ``rids``: only the paragraphs and reports of these reports (and every retired
    paragraph); None for all."""
    from whoosh.reading import SegmentReader

    for segment in segments:
        reader = SegmentReader(storage, schema, segment)
        try:
            # Without reports to carry, only stored documents are wanted: the pieces are not read.
            old = _piece_or_damage(storage.folder, reader) if rids is None or rids else None
            rows = {r.docnum: r for r in old.rows()} if old is not None else {}
            for docnum in range(segment.doc_count_all()):
                if reader.is_deleted(docnum):
                    continue
                row = rows.get(docnum)
                if row is not None:
                    if rids is None or row.rid in rids:
                        yield paragraph_document(row.pid, row.rid, row.kind, row.ordinal, row.section, row.text,
                                                 row.folded, extra_words)
                    continue
                doc = stored_document(reader.stored_fields(docnum))
                if doc is None:
                    if rids is not None and not rids:
                        continue  # a paragraph, whose piece was not read
                    raise damaged(storage.folder, f"document {docnum} of segment {segment.segment_id()} is in no piece")
                if rids is None or doc["kind"] == "retired" or doc["rid"] in rids:
                    yield doc
        finally:
            reader.close()


def _segment_of(docs: Iterable[dict], storage, schema):
    """One new segment (and its piece) in storage holding docs, or None if there are none."""
    builder = SegmentBuilder(storage, schema, INDEX_NAME)
    piece = PieceBuilder()
    for doc in docs:
        write_documents(builder, piece, [doc])
    if not builder.doc_count:
        return None
    segment = builder.finish()
    piece.save(piece_path(storage.folder, segment))
    return segment


def _staging_storage(folder: Path):
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(folder)).create()


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
    return _segment_of(_live_documents(storage, schema, segments, _schema_words_of(schema)), storage, schema)


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


def read_job(job: tuple) -> tuple[str, str, list[dict] | None, str, str]:
    """reader -> structure -> analyser for one file: (source, rid, documents or None, reason,
    hash). The file is read once, and the hash is of exactly those bytes: a file changed while it
    is read is indexed as it was read, and its next change (or revert) is seen."""
    path, source, rid, max_chars, limits, extra_words = job
    try:
        content = load_file(path, source, limits)
        digest = hashlib.sha256(content).hexdigest()
        report = read_report(path, source=source, max_chars=max_chars, limits=limits, content=content)
        docs = report_documents(report, rid, source, str(Path(path).resolve()), digest, extra_words)
        return source, rid, docs, "", digest
    except ReadError as exc:
        return source, rid, None, exc.reason, ""
    except MemoryError:
        return source, rid, None, "out of memory while reading it (lower its size or raise the machine's memory)", ""
    except Exception as exc:  # a reader bug must not stop the batch
        return source, rid, None, f"unexpected error while reading: {type(exc).__name__}: {exc}", ""


@dataclass
class FileOutcome:
    source: str
    rid: str
    pids: list[str] | None  # the paragraph ids now indexed; None if the file was skipped
    reason: str = ""
    digest: str = ""  # sha256 of the bytes that were indexed


@dataclass
class BatchResult:
    outcomes: list[FileOutcome]
    segment: object | None  # a Whoosh segment in `staging`, not yet in any table of contents
    staging: str
    failure: BaseException | None = None  # the batch as a whole could not be built (see _safely)


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
        source, rid, docs, reason, digest = read_job(job)
        if docs is None:
            outcomes.append(FileOutcome(source, rid, None, reason))
        else:
            write_documents(builder, piece, docs)
            outcomes.append(FileOutcome(source, rid, [d["pid"] for d in docs if d["kind"] != "report"], "", digest))
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
    commits) and yields them in order; a batch that failed as a whole comes back with its failure
    (the caller stops there: the batches not yet started are cancelled)."""
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
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(os.getpid(), queue))
    try:
        futures = [pool.submit(build_batch, batch, d, schema) for batch, d in zip(batches, dirs)]
        for future, batch, d in zip(futures, batches, dirs):
            yield _safely(future.result, batch, d)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        queue.put(None)
        pump.join(timeout=5)


def _safely(run: Callable[[], BatchResult], batch: list[tuple], staging: str) -> BatchResult:
    """A batch's result, or its failure as a whole: a full disk, a write error, a worker process
    that died (BrokenProcessPool). Files a reader cannot read never get here (read_job)."""
    try:
        return run()
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return BatchResult([FileOutcome(job[1], job[2], None, "") for job in batch], None, staging, failure=exc)


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


def ensure_index(roots: list[Path], index_dir: Path, **kwargs) -> IndexSummary | None:
    """Builds the index when there is none (first run of `serve`); returns None if it existed.
    What a dead run left beside the index is mended first, so a rebuild killed in its swap
    leaves a complete index to serve, not none."""
    recover(Path(index_dir))
    if index_exists(Path(index_dir)) and layout_current(index_dir):
        return None
    return update_index(roots, index_dir, **kwargs)


def default_progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="indexing", file=sys.stderr, disable=not sys.stderr.isatty())
