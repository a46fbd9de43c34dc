"""The corpus as a run finds it: the files below its folders, their printable names, their hashes,
the user dictionary beside them, and the report id each file is indexed under."""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from indexer.analysis import load_userdict_file
from indexer.reading.readers import SUPPORTED_SUFFIXES
from indexer.reading.sources import META_SUFFIX, SourceRecord, is_sidecar, read_sources
from indexer.store.schema import report_id

USERDICT_NAME = "userdict.txt"  # in a corpus folder: words for the segmenter, not a report


@dataclass(frozen=True)
class CorpusFile:
    path: Path  # as found, for reading (may hold surrogate escapes of undecodable bytes)
    source: str  # corpus-relative, posix, printable (see source_name)
    sidecar: SourceRecord | None = None  # what sources.csv or its .meta.json says of it


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
                if rel == USERDICT_NAME or is_sidecar(name):
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


def with_sidecars(roots: Iterable[Path], files: list[CorpusFile]) -> tuple[list[CorpusFile], list[tuple[str, str]]]:
    """The files, each with what its corpus folder's sidecars say of it (``reading.sources``), and
    the sidecars' problems (name, reason). A single file given as a root has its .meta.json only."""
    records: dict[str, SourceRecord] = {}
    problems: list[tuple[str, str]] = []
    for root in roots:
        if root.is_dir():
            found, trouble = read_sources(root, [cf.source for cf in files if (root / cf.source).exists()])
        elif root.is_file() and root.with_name(root.name + META_SUFFIX).is_file():
            found, trouble = read_sources(root.parent, [root.name])
        else:
            continue
        records.update(found)
        problems += trouble
    return [dataclasses.replace(cf, sidecar=records.get(cf.source)) for cf in files], problems


def corpus_words(roots: Iterable[Path], userdict: Path | None) -> tuple:
    words: tuple = ()
    for root in roots:
        candidate = root / USERDICT_NAME
        if root.is_dir() and candidate.is_file():
            words += load_userdict_file(candidate)
    if userdict is not None:
        words += load_userdict_file(userdict)
    return words


def assign_report_ids(files: list[CorpusFile], indexed: dict[str, tuple[str, str]]) -> dict[str, str]:
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
