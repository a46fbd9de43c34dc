"""A sharded index served from a Dask cluster: each shard held by a Dask actor (``ShardActor``,
a ``shards.ShardSide`` on a worker that reads the shard's folder), by ``replicas`` workers each,
and a coordinator (``ClusterEngine``) in the server or the command line that asks them.

Shards are placed on the workers in address order, shard k's replicas on workers k, k+1, ... A
worker that dies takes its actors with it: the coordinator goes on with the shards' other
replicas, says which shards no replica answered, and ``refresh`` places those shards again on the
workers that are left (the index is on shared storage, so any worker can open any shard).
"""
from __future__ import annotations

import threading
import uuid
from pathlib import Path

from indexer.cluster import workers as cluster_workers
from indexer.search.shards import ReplicaLost, ShardedEngine, ShardSide

REPLICA_TIMEOUT = 30  # seconds a shard's answer may take before its replica counts as lost


class ShardActor:
    """A shard's end inside a Dask worker (created by ``client.submit(ShardActor, …, actor=True)``)."""

    def __init__(self, index_dir: str, engine_options: dict):
        self.side = ShardSide(index_dir, **engine_options)

    def state(self):
        return self.side.state()

    def counts(self, *args):
        return self.side.counts(*args)

    def partial(self, *args):
        return self.side.partial(*args)

    def finish(self, *args):
        return self.side.finish(*args)


def _transport_failure(exc: BaseException) -> bool:
    """Whether an actor call failed on the way (its worker gone, no answer in time) rather than
    in the shard's own code, whose exceptions Dask raises here as they were raised there."""
    from distributed.comm.core import CommClosedError

    if isinstance(exc, (OSError, TimeoutError, CommClosedError)):
        return True
    return isinstance(exc, RuntimeError) and "lost" in str(exc).lower()  # "Worker holding Actor was lost"


class _Timed:
    """An actor's answer within REPLICA_TIMEOUT; ReplicaLost if it could not be asked or did not
    answer."""

    def __init__(self, send, name: str):
        self.name = name
        try:
            self.future, self.error = send(), None
        except Exception as exc:
            if not _transport_failure(exc):
                raise
            self.future, self.error = None, exc

    def result(self):
        if self.error is None:
            try:
                return self.future.result(timeout=REPLICA_TIMEOUT)
            except Exception as exc:
                if not _transport_failure(exc):
                    raise
                self.error = exc
        raise ReplicaLost(f"{self.name}: {type(self.error).__name__}: {self.error}") from self.error


class ActorReplica:
    """One worker's actor of one shard."""

    def __init__(self, actor, worker: str, shard: int):
        self.actor, self.worker, self.shard = actor, worker, shard
        self.name = f"shard {shard + 1} on {worker}"

    def call(self, method: str, *args):
        return _Timed(lambda: getattr(self.actor, method)(*args), self.name)


class ShardPlacementFailed(Exception):
    """A shard could not be opened on any worker (the workers cannot see its folder, or it is damaged)."""


class ClusterEngine(ShardedEngine):
    """The coordinator of a sharded index whose shards are actors on a Dask cluster."""

    def __init__(self, client, folders: list[Path], *, replicas: int = 1, **engine_options):
        super().__init__([[] for _ in folders], **engine_options)
        self.client = client
        self.folders = [str(Path(f).resolve()) for f in folders]
        self.replicas_wanted = max(1, replicas)
        self.engine_options = dict(engine_options)
        self._placing = threading.Lock()
        self.place()

    def _open_on(self, k: int, worker: str):
        # A key of its own each time: a worker back at the same address gets a new actor, not the lost one.
        future = self.client.submit(ShardActor, self.folders[k], self.engine_options, actor=True, workers=[worker],
                                    allow_other_workers=False, pure=False,
                                    key=f"policy-search-shard-{k + 1}-{uuid.uuid4().hex[:12]}")
        return future

    def place(self) -> list[str]:
        """Gives every shard ``replicas`` live actors on distinct workers (as far as there are
        workers), opening the missing ones; returns what was done, a line each."""
        with self._placing:
            live_workers = cluster_workers(self.client)
            if not live_workers:
                raise ShardPlacementFailed("the cluster has no worker to hold the shards")
            done = []
            pending = []
            with self._lock:
                for k in range(len(self.folders)):
                    self.replicas[k] = [r for r in self.replicas[k]
                                        if id(r) not in self._lost and r.worker in live_workers]
                self._lost.clear()
            for k in range(len(self.folders)):
                held = {r.worker for r in self.replicas[k]}
                want = min(self.replicas_wanted, len(live_workers)) - len(held)
                order = [live_workers[(k + j) % len(live_workers)] for j in range(len(live_workers))]
                for worker in [w for w in order if w not in held][:max(0, want)]:
                    pending.append((k, worker, self._open_on(k, worker)))
            errors = []
            for k, worker, future in pending:
                try:
                    actor = future.result(timeout=REPLICA_TIMEOUT * 4)
                except Exception as exc:
                    errors.append(f"shard {k + 1} ({self.folders[k]}) on {worker}: {type(exc).__name__}: {exc}")
                    continue
                with self._lock:
                    self.replicas[k].append(ActorReplica(actor, worker, k))
                done.append(f"shard {k + 1} opened on {worker}")
            empty = [k for k in range(len(self.folders)) if not self.replicas[k]]
            if empty and len(empty) == len(self.folders):
                raise ShardPlacementFailed("no shard could be opened on the cluster's workers: " + "; ".join(errors[:3]))
            return done + [f"not placed: {e}" for e in errors]

    def refresh(self) -> list[str]:
        """Places again the shards that lost replicas (a worker gone): call it between queries."""
        return self.place()

    def holders(self) -> dict[int, list[str]]:
        with self._lock:
            return {k + 1: [r.worker for r in reps if id(r) not in self._lost] for k, reps in enumerate(self.replicas)}
