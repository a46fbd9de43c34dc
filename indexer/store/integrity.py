"""Checksums of the files a generation of the index owns, so that damage is named, not tripped over.

After every commit the writer calls ``record(index_dir)``: a manifest of the latest generation
lists its table of contents, every file of each of its segments (Whoosh's and the paragraph
pieces) with size, mtime and sha256. Opening an index (``layout.open_index``) checks the cheap part
(``quick_problems``: every file present with its size, the table of contents by its sha256, a few
KB); ``policy-search check`` verifies every file's sha256 (``verify``).

The manifest is ``integrity_<generation>.json`` in the index folder: Whoosh's clean-up only deletes
files named ``_paragraphs_<gen>.toc`` and ``paragraphs_<segment>.<ext>``, so it leaves it alone,
and record() removes the manifests of older generations itself. Segment files are written once and
never changed, so a file already in the previous manifest with the same name, size and mtime keeps
its checksum: an incremental update hashes only the files it wrote.

An index without a manifest for its latest generation (built before checksums existed, or caught
between a commit and its record) opens unchecked, as before; ``check`` reports it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from indexer.store.layout import INDEX_NAME

MANIFEST_FORMAT = "policy-search integrity 1"
MANIFEST_PATTERN = re.compile(r"^integrity_([0-9]+)\.json$")
TOC_PATTERN = re.compile(rf"^_{INDEX_NAME}_([0-9]+)\.toc$")
HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    mtime_ns: int
    sha256: str

    def to_dict(self) -> dict:
        return {"name": self.name, "size": self.size, "mtime_ns": self.mtime_ns, "sha256": self.sha256}


@dataclass(frozen=True)
class Manifest:
    generation: int
    files: tuple[FileEntry, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class Problem:
    """One damaged or missing file (or an index that cannot be checked), in words."""
    file: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.what}"

    def to_dict(self) -> dict:
        return {"file": self.file, "problem": self.what}


class ManifestUnreadable(Exception):
    pass


def manifest_name(generation: int) -> str:
    return f"integrity_{generation}.json"


def toc_name(generation: int) -> str:
    return f"_{INDEX_NAME}_{generation}.toc"


def latest_generation(index_dir: Path) -> int:
    """The newest table of contents in the folder, by name only (reading it is what may fail); -1 if
    none or no folder. OSError if the folder cannot be listed."""
    try:
        names = os.listdir(index_dir)
    except (FileNotFoundError, NotADirectoryError):
        return -1
    gens = [int(m.group(1)) for m in map(TOC_PATTERN.match, names) if m]
    return max(gens, default=-1)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(HASH_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def generation_files(index_dir: Path, generation: int) -> list[str]:
    """The files generation owns: its table of contents and every file of its segments."""
    from whoosh.fields import ID, Schema
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    # A stand-in schema makes Whoosh skip unpickling the stored one (which imports the analyser):
    # only the segment list is needed here.
    toc = TOC.read(FileStorage(str(index_dir)), INDEX_NAME, gen=generation, schema=Schema(stand_in=ID))
    prefixes = tuple(segment.segment_id() + "." for segment in toc.segments)
    names = [name for name in os.listdir(index_dir)
             if name.startswith(prefixes) and not name.endswith(".tmp")] if prefixes else []
    return [toc_name(generation)] + sorted(names)


def new_entry(index_dir: Path, name: str, st: os.stat_result) -> FileEntry:
    """The entry of a file not in the previous manifest (or changed since): hashed."""
    return FileEntry(name, st.st_size, st.st_mtime_ns, sha256_of(Path(index_dir) / name))


def read_manifest(path: Path) -> Manifest:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        files = tuple(FileEntry(str(f["name"]), int(f["size"]), int(f["mtime_ns"]), str(f["sha256"]))
                      for f in data["files"])
        outside = [f.name for f in files if Path(f.name).name != f.name or f.name in ("", ".", "..")]
        if outside:  # a manifest names files of its own folder only
            raise ValueError(f"names a file outside the index: {outside[0]!r}")
        return Manifest(int(data["generation"]), files)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ManifestUnreadable(f"{Path(path).name}: not a valid manifest ({type(exc).__name__}: {exc})") from exc


def _manifests(index_dir: Path) -> list[tuple[int, str]]:
    return sorted((int(m.group(1)), m.group(0)) for m in map(MANIFEST_PATTERN.match, os.listdir(index_dir)) if m)


def record(index_dir: Path) -> Manifest:
    """Writes the manifest of the latest generation and removes older ones. Call it after every
    commit, holding the write lock (no other writer may commit meanwhile)."""
    index_dir = Path(index_dir)
    generation = latest_generation(index_dir)
    if generation < 0:
        raise FileNotFoundError(f"no index in {index_dir}")
    known: dict[str, FileEntry] = {}
    for gen, name in _manifests(index_dir):
        if gen < generation:
            try:
                known.update((f.name, f) for f in read_manifest(index_dir / name).files)
            except (FileNotFoundError, ManifestUnreadable):
                pass  # hash everything again
    entries = []
    for name in generation_files(index_dir, generation):
        st = os.stat(index_dir / name)
        old = known.get(name)
        if old is not None and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns:
            entries.append(old)
        else:
            entries.append(new_entry(index_dir, name, st))
    manifest = Manifest(generation, tuple(entries))
    target = index_dir / manifest_name(generation)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"format": MANIFEST_FORMAT, "generation": generation,
                               "files": [e.to_dict() for e in entries]}, indent=0) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    for gen, name in _manifests(index_dir):
        if gen != generation:
            try:
                os.remove(index_dir / name)
            except FileNotFoundError:
                pass
    return manifest


def current_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of the latest generation; None when it has none. ManifestUnreadable if damaged."""
    generation = latest_generation(index_dir)
    try:
        manifest = read_manifest(Path(index_dir) / manifest_name(generation))
    except FileNotFoundError:
        return None
    if manifest.generation != generation:
        raise ManifestUnreadable(f"{manifest_name(generation)}: lists generation {manifest.generation}")
    return manifest


def _file_problem(index_dir: Path, entry: FileEntry, full: bool) -> Problem | None:
    path = Path(index_dir) / entry.name
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return Problem(entry.name, "missing")
    except OSError as exc:
        return Problem(entry.name, f"cannot be read ({exc.strerror or exc})")
    if size != entry.size:
        change = "truncated" if size < entry.size else "grown"
        return Problem(entry.name, f"{change} to {size:,} bytes from {entry.size:,}")
    # The table of contents is small and says which files make the index: always hashed.
    if full or TOC_PATTERN.match(entry.name):
        try:
            digest = sha256_of(path)
        except OSError as exc:
            return Problem(entry.name, f"cannot be read ({exc.strerror or exc})")
        if digest != entry.sha256:
            return Problem(entry.name, "contents changed (checksum mismatch)")
    return None


def check_manifest(index_dir: Path, manifest: Manifest, *, full: bool) -> list[Problem]:
    return [p for p in (_file_problem(index_dir, e, full) for e in manifest.files) if p is not None]


def _checked(index_dir: Path, full: bool) -> tuple[list[Problem], Manifest | None, int]:
    """Problems of the latest generation against its manifest (none if it has no manifest), the
    manifest and the generation."""
    for attempt in range(5):
        generation = latest_generation(index_dir)
        try:
            manifest = current_manifest(index_dir)
        except ManifestUnreadable as exc:
            problems, manifest = [Problem(manifest_name(generation), str(exc).split(": ", 1)[-1])], None
        else:
            problems = [] if manifest is None else check_manifest(index_dir, manifest, full=full)
        if not problems or latest_generation(index_dir) == generation:
            break
        # A writer committed meanwhile and cleaned up the files of the generation being checked.
    return problems, manifest, generation


def quick_problems(index_dir: Path, *, full: bool = False) -> list[Problem]:
    """The check made whenever an index is opened: every file present with its size, and the table
    of contents' checksum (``full``: every file's). Empty when the latest generation has no
    manifest (see the module's docstring)."""
    return _checked(Path(index_dir), full)[0]


@dataclass(frozen=True)
class Verification:
    problems: list[Problem]
    files: int
    bytes: int
    generation: int

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(index_dir: Path, full: bool = True) -> Verification:
    """Every file of the latest generation against its manifest (``full``: by sha256)."""
    from indexer.store.layout import LAYOUT_FILE, layout_current

    index_dir = Path(index_dir)
    if latest_generation(index_dir) < 0:
        return Verification([Problem(str(index_dir), "no index here")], 0, 0, -1)
    if not layout_current(index_dir):
        return Verification([Problem(LAYOUT_FILE, "missing, or written by an older version of policy-search")],
                            0, 0, latest_generation(index_dir))
    problems, manifest, generation = _checked(index_dir, full)
    if manifest is None:
        if not problems:
            problems = [Problem(manifest_name(generation),
                                "missing: the index has no checksums to verify (it was written by an older "
                                "policy-search, or an index run is committing right now)")]
        return Verification(problems, 0, 0, generation)
    return Verification(problems, len(manifest.files), manifest.total_bytes, generation)
