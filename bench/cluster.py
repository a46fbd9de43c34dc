"""Cluster benchmark (issue 17): building on a Dask cluster, and searching a sharded index through
its coordinator, against one machine and one index, in the same run.

    python3 bench/cluster.py --corpus bench/out/reuse-10000/corpus [--shards 3] [--rounds 5]
    python3 bench/cluster.py --reports 10000          # generates the corpus first (bench/generate.py)

Builds, each timed from a running cluster (its start-up is not counted):
- the local build (``update_index``: worker processes on every core), the reference;
- the same corpus on a ``distributed.LocalCluster`` of 1 worker and of 2 workers (1 thread each,
  worker processes), whose answers are checked equal to the local build's;
- a sharded build (``--shards``) on the 2-worker cluster.

Queries (bench/queries.txt), warm, interleaved round by round: one engine over the local build; the
sharded index searched in this process (``shards.open_local``: the shards asked one after the
other); and the coordinator over the 2-worker cluster (``actors.ClusterEngine``, one replica). Every
answer of the last two is compared with one engine's (all but took_ms). The coordinator's overhead
is its latency less the in-process sharded search's (repeated queries: their terms' counts are
kept, so they skip the first round; the first ask of each query is shown apart); Dask's own floor is an empty actor call,
measured in the same run. Throughput: 4 client threads through each.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from run import conditions, load_queries, machine, percentile, publish  # noqa: E402


class Ping:
    def ping(self):
        return 1


def _answer(engine, q: str) -> dict:
    d = engine.search(q).to_dict()
    d.pop("took_ms")
    d.pop("shards", None)
    return d


def cluster_name_of(engines: dict) -> str:
    return list(engines)[2]


def _timed_build(**kwargs) -> float:
    from indexer.indexing.update import update_index

    started = time.perf_counter()
    update_index(**kwargs)
    return time.perf_counter() - started


def _throughput(engine, queries: list[str], threads: int = 4) -> float:
    done = []

    def run():
        for q in queries:
            engine.search(q)
            done.append(1)

    started = time.perf_counter()
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return len(done) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--reports", type=int, default=10000, help="Reports to generate when --corpus is not given.")
    ap.add_argument("--shards", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="Work folder (default bench/out/cluster-N).")
    ap.add_argument("--single", type=Path, default=None,
                    help="One index of the same corpus built before (by bench/run.py): the reference, "
                         "instead of building it; with it only the sharded build is timed (the 100k run).")
    ap.add_argument("--searches-only", action="store_true",
                    help="Keep the indexes an earlier run built in the work folder; measure the searches only.")
    args = ap.parse_args(argv)

    from distributed import Client, LocalCluster

    from indexer.indexing.shards import update_sharded
    from indexer.search.actors import ClusterEngine
    from indexer.search.engine import SearchEngine
    from indexer.search.shards import open_local
    from indexer.store.layout import shard_folders

    start = machine()
    corpus = args.corpus
    if corpus is None:
        import generate

        corpus = BENCH / "out" / f"corpus-{args.reports}"
        if not corpus.exists():
            generate.generate(args.reports, corpus)
    n_files = sum(1 for p in corpus.iterdir() if p.is_file())
    work = args.out or BENCH / "out" / f"cluster-{n_files}"
    if not args.searches_only:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    queries = [q for _, q in load_queries(BENCH / "queries.txt")]

    builds = {}
    if not args.searches_only and args.single is None:
        builds["local (2 processes)"] = _timed_build(roots=[corpus], index_dir=work / "local")
    one = SearchEngine(args.single or work / "local")
    expected = {q: _answer(one, q) for q in queries}
    unequal = {}
    for n in (() if args.searches_only or args.single else (1, 2)):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0") as lc, \
                Client(lc) as client:
            name = f"cluster, {n} worker{'s' if n > 1 else ''}"
            builds[name] = _timed_build(roots=[corpus], index_dir=work / f"cluster-{n}", cluster=client)
            built = SearchEngine(work / f"cluster-{n}")
            unequal[name] = sum(_answer(built, q) != expected[q] for q in queries)
            built.close()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc, \
            Client(lc) as client:
        if not args.searches_only:
            started = time.perf_counter()
            update_sharded([corpus], work / "sharded", args.shards, cluster=client)
            builds[f"cluster, 2 workers, {args.shards} shards"] = time.perf_counter() - started

        local_shards = open_local(work / "sharded", shard_folders(work / "sharded"))
        served = ClusterEngine(client, shard_folders(work / "sharded"), replicas=1)
        # The first ask of each query: the coordinator has counted none of its terms yet.
        cold = []
        for q in queries:
            t = time.perf_counter()
            served.search(q)
            cold.append((time.perf_counter() - t) * 1000)
        engines = {"one engine": one, f"{args.shards} shards in process": local_shards,
                   f"{args.shards} shards on 2 workers": served}
        for name, engine in engines.items():
            if name != "one engine":
                unequal[name] = sum(_answer(engine, q) != expected[q] for q in queries)
        times: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(args.rounds):
            for q in queries:
                for name, engine in engines.items():
                    t = time.perf_counter()
                    engine.search(q)
                    times[name].append((time.perf_counter() - t) * 1000)
        actor = client.submit(Ping, actor=True).result()
        pings = []
        for _ in range(200):
            t = time.perf_counter()
            actor.ping().result()
            pings.append((time.perf_counter() - t) * 1000)
        qps = {name: _throughput(engine, queries) for name, engine in engines.items()}

    lines = [f"## Cluster: {n_files:,} reports", "", conditions(start, f"{len(queries)} queries × {args.rounds} rounds"), ""]
    if builds:
        lines += ["| build | seconds | × local | answers unequal to the local build |", "| --- | --- | --- | --- |"]
        base = builds.get("local (2 processes)")
        for name, seconds in builds.items():
            ratio = f"{seconds / base:.2f}" if base else "—"
            lines.append(f"| {name} | {seconds:.1f} | {ratio} | {unequal.get(name, '—')} |")
    lines += ["", "| search | p50 ms | p95 ms | × one engine (p50) | queries/s, 4 threads | answers unequal |",
              "| --- | --- | --- | --- | --- | --- |"]
    p50_one = percentile(times["one engine"], 0.5)
    for name in engines:
        p50 = percentile(times[name], 0.5)
        lines.append(f"| {name} | {p50:.1f} | {percentile(times[name], 0.95):.1f} | {p50 / p50_one:.2f} | "
                     f"{qps[name]:.0f} | {unequal.get(name, '—')} |")
    lines.append(f"| {cluster_name_of(engines)}, first ask of each query | {percentile(cold, 0.5):.1f} | "
                 f"{percentile(cold, 0.95):.1f} | {percentile(cold, 0.5) / p50_one:.2f} | — | — |")
    local_name, cluster_name = list(engines)[1], list(engines)[2]
    overhead = [c - s for c, s in zip(times[cluster_name], times[local_name])]
    lines += ["", f"Coordinator overhead (cluster less in-process shards, per query): p50 {statistics.median(overhead):.1f} ms; "
              f"an empty Dask actor call on this machine: p50 {statistics.median(pings):.2f} ms, "
              f"p95 {percentile(pings, 0.95):.2f} ms (a query makes three rounds of calls, two once its terms were counted)."]
    publish(f"cluster-{n_files}", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
