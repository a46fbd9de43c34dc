"""A sharded index: the reports split into N shards, stable by report id (``layout.shard_of``),
each shard a complete index of its own in a folder of the index folder, built and updated by the
ordinary run (update.py) on its share of the files, on this machine or on a Dask cluster.

The shard list (``layout.SHARDS_FILE``) is written once every shard is built, by rename, so a
build that fails leaves the previous shards and their list as they were. Resharding (another N)
builds the new shards in folders of their own names beside the old ones, then switches the list,
then removes the old folders.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Callable

from indexer.indexing.update import IndexRunFailed, IndexSummary, update_index
from indexer.store.layout import LAYOUT, SHARDS_FILE, index_exists, shard_folder, shard_folders

MAX_SHARDS = 256


class ShardsMismatch(Exception):
    """The index folder holds something a sharded build must not replace without being told."""


def _merged(total: IndexSummary, part: IndexSummary) -> None:
    for f in fields(IndexSummary):
        value = getattr(part, f.name)
        if isinstance(value, list):
            getattr(total, f.name).extend(value)
        elif isinstance(value, bool):
            setattr(total, f.name, getattr(total, f.name) or value)
        else:
            setattr(total, f.name, getattr(total, f.name) + value)


def _write_shard_list(index_dir: Path, shards: int) -> None:
    tmp = index_dir / (SHARDS_FILE + ".tmp")
    tmp.write_text(json.dumps({"shards": shards, "layout": LAYOUT}) + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / SHARDS_FILE)


def update_sharded(roots: list[Path], index_dir: Path, shards: int, *, rebuild: bool = False,
                   progress: Callable[[int, int, int], object] | None = None, **kwargs) -> IndexSummary:
    """Builds or updates the N shards of the index in ``index_dir`` from the files below roots;
    returns what changed over all of them. ``progress(k, n, total)`` may return shard k's bar;
    the other keyword arguments are update_index's (``cluster`` among them)."""
    index_dir = Path(index_dir)
    if not 1 <= shards <= MAX_SHARDS:
        raise ShardsMismatch(f"--shards {shards}: give a number of shards from 1 to {MAX_SHARDS}")
    if index_exists(index_dir):
        raise ShardsMismatch(f"{index_dir} holds an index of one shard: give --index another folder for the "
                             f"sharded index (or remove this one first)")
    old = shard_folders(index_dir)
    if old is not None and len(old) != shards and not rebuild:
        raise ShardsMismatch(f"the index in {index_dir} has {len(old)} shards: --shards {shards} splits it anew, "
                             "which reads every file again; add --rebuild to do it")
    index_dir.mkdir(parents=True, exist_ok=True)
    summary = IndexSummary()
    for k in range(shards):
        bar = (lambda total, k=k: progress(k, shards, total)) if progress is not None else None
        part = update_index(roots, shard_folder(index_dir, k, shards), rebuild=rebuild, progress=bar,
                            shard=(k, shards), **kwargs)
        _merged(summary, part)
    _write_shard_list(index_dir, shards)
    for folder in old or []:
        if folder not in shard_folders(index_dir):
            shutil.rmtree(folder, ignore_errors=True)
    return summary


__all__ = ["IndexRunFailed", "ShardsMismatch", "update_sharded"]
