"""A Dask cluster as the build and the serving reach it: a client connected within a bounded wait,
its dashboard and its workers, and the error in the user's words when it cannot be reached.

Dask (``dask.distributed``) is the transport: tasks for the build's batches, actors for the shards
a server asks. Nothing here knows what an index is; ``indexing`` and ``search`` bring their work.
"""
from __future__ import annotations

CONNECT_TIMEOUT = 10  # seconds to reach the scheduler


class ClusterUnreachable(Exception):
    """The scheduler at the address did not answer, or the address is not one."""


def connect(address: str, timeout: float = CONNECT_TIMEOUT):
    """A ``distributed.Client`` of the scheduler at ``address`` (tcp://HOST:PORT, or a
    ``distributed.LocalCluster``/``Client`` object that tests and embedding programs pass), with
    at least one worker."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ClusterUnreachable("dask.distributed is not installed: pip install 'distributed'") from exc
    if hasattr(address, "submit"):  # a Client already
        return address
    if not isinstance(address, str) and hasattr(address, "scheduler_address"):
        address = address.scheduler_address
    address = str(address).strip()
    if "://" not in address:
        address = "tcp://" + address
    try:
        # The default client: Dask's actor proxies find their client there.
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterUnreachable(f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc}); "
                                 "start it with `dask scheduler` and its workers with `dask worker ADDRESS`") from exc
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise ClusterUnreachable(f"the Dask scheduler at {address} has no worker (none joined within {timeout:g} s): "
                                 "start one with `dask worker " + address + "`") from exc
    return client


def worker_threads(client) -> int:
    """Threads across the cluster's workers: how many tasks run at once."""
    return max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))


def workers(client) -> list[str]:
    """The workers' addresses, sorted: the order shards are placed in."""
    return sorted(client.scheduler_info()["workers"])


def dashboard(client) -> str:
    """The dashboard's address, or "" when the scheduler runs none (--no-dashboard, or bokeh
    missing): Dask's link names the default port even then."""
    try:
        if "dashboard" not in client.scheduler_info().get("services", {}):
            return ""
        return client.dashboard_link or ""
    except Exception:
        return ""
