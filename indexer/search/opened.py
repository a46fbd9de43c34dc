"""Which engine answers for an index folder: a SearchEngine for an index, a ShardedEngine for a
sharded one (its shards opened in this process), a ClusterEngine when a Dask cluster serves it."""
from __future__ import annotations

from pathlib import Path

from indexer.search.engine import SearchEngine
from indexer.search.shards import ShardedEngine, open_local
from indexer.store.layout import IndexMissing, shard_folders


class NotSharded(IndexMissing):
    """A cluster was named for an index that is not sharded."""


def engine_options(settings) -> dict:
    return dict(max_query_chars=settings.max_query_chars, max_query_terms=settings.max_query_terms,
                near_gap=settings.near_gap)


def open_search_engine(settings, client=None) -> SearchEngine | ShardedEngine:
    """The engine for ``settings.index``: with a Dask ``client``, its shards as actors on the
    cluster's workers (``settings.shard_replicas`` each)."""
    folders = shard_folders(Path(settings.index))
    if client is not None:
        if folders is None:
            raise NotSharded(f"the index in {settings.index} is not sharded, and a cluster serves shards: "
                             "build one with `policy-search index --shards N`, or search without --cluster")
        from indexer.search.actors import ClusterEngine

        return ClusterEngine(client, folders, replicas=settings.shard_replicas, **engine_options(settings))
    if folders is not None:
        return open_local(Path(settings.index), folders, **engine_options(settings))
    return SearchEngine.from_settings(settings)


def is_sharded(index_dir: Path) -> bool:
    return shard_folders(Path(index_dir)) is not None
