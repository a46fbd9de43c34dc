"""Where an index lives and which layout it has: what a search needs to open one, without the
indexer's readers (PDF, HTML, Word), which take longer to import than a query takes to answer."""
from __future__ import annotations

from pathlib import Path

from whoosh import index as whoosh_index

INDEX_NAME = "paragraphs"
# What the index folder holds, and how: an index of another layout is rebuilt by `index` and
# refused by searches.
LAYOUT_FILE = "layout"
LAYOUT = "policy-search index layout 3: memory-mapped pieces with pair postings beside their segments"


# A sharded index: a folder of N shard folders, each a complete index of its share of the
# reports, and this file naming them, written once every shard is built.
SHARDS_FILE = "shards.json"


def shard_of(base_rid: str, shards: int) -> int:
    """The shard a report belongs to, stable for its base id (``schema.report_id``, before any
    suffix that tells a.txt from a.pdf: both land in one shard, where their ids are told apart
    as in one index): the first 8 bytes of its sha1, modulo the number of shards."""
    if shards <= 1:
        return 0
    import hashlib

    return int.from_bytes(hashlib.sha1(base_rid.encode("utf-8")).digest()[:8], "big") % shards


def shard_folder(index_dir: Path, k: int, shards: int) -> Path:
    return Path(index_dir) / f"shard-{k + 1:03d}-of-{shards:03d}"


def shard_folders(index_dir: Path) -> list[Path] | None:
    """The shard folders of a sharded index, in order, or None if index_dir is not one."""
    import json

    try:
        manifest = json.loads((Path(index_dir) / SHARDS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):  # no such folder, or a path through a file
        return None
    except (OSError, ValueError) as exc:
        raise IndexDamaged(f"the shard list {Path(index_dir) / SHARDS_FILE} cannot be read ({exc}): "
                           "run `policy-search index --shards N --rebuild`") from exc
    n = manifest.get("shards") if isinstance(manifest, dict) else None
    if not isinstance(n, int) or n < 1:
        raise IndexDamaged(f"the shard list {Path(index_dir) / SHARDS_FILE} names no shards: "
                           "run `policy-search index --shards N --rebuild`")
    return [shard_folder(index_dir, k, n) for k in range(n)]


class IndexMissing(Exception):
    pass


class IndexOutdated(IndexMissing):
    pass


class IndexDamaged(IndexMissing):
    pass


def damaged(index_dir: Path, what: str) -> IndexDamaged:
    return IndexDamaged(f"the index in {index_dir} is damaged ({what}): run `policy-search index --rebuild`")


def index_exists(index_dir: Path) -> bool:
    """Whether the folder holds a table of contents, judged by name: Whoosh's own exists_in reads
    it, and a damaged one would raise there instead of being named."""
    from indexer.store.integrity import latest_generation

    return latest_generation(Path(index_dir)) >= 0


def open_index(index_dir: Path, *, checksums: bool = False):
    """The Whoosh index in index_dir, after the cheap integrity check (integrity.quick_problems:
    sizes; ``checksums``: every file's sha256 too, which reads the whole index): IndexMissing,
    IndexOutdated or IndexDamaged instead of whatever Whoosh would raise."""
    from indexer.store.integrity import quick_problems

    index_dir = Path(index_dir)
    try:
        exists = index_exists(index_dir)
    except OSError as exc:
        raise IndexMissing(f"cannot read the index in {index_dir}: {exc.strerror or exc}") from exc
    if not exists:
        if index_dir.exists() and not index_dir.is_dir():
            raise IndexMissing(f"{index_dir} is not a directory, so it holds no index: use --index DIR")
        raise IndexMissing(f"no index in {index_dir}: run `policy-search index` first")
    if not layout_current(index_dir):
        raise IndexOutdated(f"the index in {index_dir} was built by an older version of policy-search: "
                            "run `policy-search index --rebuild`")
    try:
        problems = quick_problems(index_dir, full=checksums)
    except OSError as exc:
        raise IndexMissing(f"cannot read the index in {index_dir}: {exc.strerror or exc}") from exc
    if problems:
        raise damaged(index_dir, "; ".join(map(str, problems[:3])) + (f"; and {len(problems) - 3} more"
                                                                        if len(problems) > 3 else ""))
    for attempt in range(5):
        try:
            ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
            _open_segments(ix, index_dir)
            return ix
        except FileNotFoundError:
            # The table of contents just listed, or a segment it names, was replaced by a writer's
            # newer generation (which cleans up the old one's files): read that.
            if attempt == 4:
                raise IndexMissing(f"no index in {index_dir}: run `policy-search index` first") from None
        except PermissionError as exc:
            raise IndexMissing(f"cannot read the index in {index_dir}: {exc.strerror or exc}") from exc
        except IndexDamaged:
            raise
        except Exception as exc:  # truncated (EOFError, struct.error), garbage ("different architecture"), ...
            from indexer.store.integrity import latest_generation, toc_name

            raise damaged(index_dir, f"{toc_name(latest_generation(index_dir))} cannot be read: "
                                     f"{type(exc).__name__}: {exc}") from exc


def _open_segments(ix, index_dir: Path) -> None:
    """Opens (and closes) a reader of every segment: a file whose header is garbage (same size,
    other bytes, so the size check passes) is named here, not in the middle of a query. Cheap:
    a segment reader reads its files' headers, not their contents."""
    from whoosh.reading import SegmentReader

    toc = ix._read_toc()
    for segment in toc.segments:
        try:
            SegmentReader(ix.storage, toc.schema, segment).close()
        except (FileNotFoundError, PermissionError):
            raise
        except Exception as exc:
            raise damaged(index_dir, f"segment {segment.segment_id()} cannot be opened: "
                                     f"{type(exc).__name__}: {exc}") from exc


def layout_current(index_dir: Path) -> bool:
    try:
        return (Path(index_dir) / LAYOUT_FILE).read_text(encoding="utf-8").strip() == LAYOUT
    except OSError:
        return False
