"""Where an index lives and which layout it has: what a search needs to open one, without the
indexer's readers (PDF, HTML, Word), which take longer to import than a query takes to answer."""
from __future__ import annotations

from pathlib import Path

from whoosh import index as whoosh_index

INDEX_NAME = "paragraphs"
# What the index folder holds, and how: an index of another layout is rebuilt by `index` and
# refused by searches.
LAYOUT_FILE = "layout"
LAYOUT = "policy-search index layout 2: paragraphs in pieces beside their segments"


class IndexMissing(Exception):
    pass


class IndexOutdated(IndexMissing):
    pass


class IndexDamaged(IndexMissing):
    pass


def damaged(index_dir: Path, what: str) -> IndexDamaged:
    return IndexDamaged(f"the index in {index_dir} is damaged ({what}): run `policy-search index --rebuild`")


def open_index(index_dir: Path):
    if not whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME):
        raise IndexMissing(f"no index in {index_dir}: run `policy-search index` first")
    if not layout_current(index_dir):
        raise IndexOutdated(f"the index in {index_dir} was built by an older version of policy-search: "
                            "run `policy-search index --rebuild`")
    return whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)


def layout_current(index_dir: Path) -> bool:
    try:
        return (Path(index_dir) / LAYOUT_FILE).read_text(encoding="utf-8").strip() == LAYOUT
    except OSError:
        return False
