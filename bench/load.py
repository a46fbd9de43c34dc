"""Load benchmark: one `policy-search serve` under 1, 4 and 8 concurrent clients on 127.0.0.1.

    python3 bench/load.py --reports 1000 [--clients 1,4,8] [--requests 600] [--seconds 60]
    python3 bench/load.py --smoke          # a few seconds: the seed corpus, 40 requests a level

One run: generate the corpus (or reuse bench/corpus-N, as bench/run.py does), start `policy-search
serve --port 0` on it (which builds the index into OUT/load-index-N when it is missing), ask every
request of a fixed mix once with one client (the serial answers), then for each client count run
that many clients, each on its own keep-alive connection, through the mix in its own order until
the level's request count or time bound is reached. Every answer is compared with the serial one
(status and JSON, timings left out). Results: throughput, latency p50/p95/p99, errors (connection
failures and statuses other than the serial one) and wrong answers, as a Markdown table on stdout
and OUT/load-N.md, and OUT/load-N.json.

The mix is what the web UI asks: searches (sorts, pages, grouping, filters), facets, reports (with
and without a query), paragraphs, citations of a paragraph, quote finding and the most-cited list.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from run import load_queries, machine, percentile  # noqa: E402  (bench/run.py, beside this file)

sys.path.insert(0, str(ROOT / "tests"))
from served import serve_process, without_per_answer_keys  # noqa: E402  (tests/served.py: one launcher for tests and benchmarks)

START_TIMEOUT_S = 900  # serve builds a missing index first: minutes at 10k reports


@contextlib.contextmanager
def start_server(index_dir: Path, corpus: Path, *, cwd: Path, threads: int | None = None, workers: int = 1):
    """`policy-search serve --port 0 --workers N` in a child process (tests/served.py, the tests'
    launcher); yields its URL (ending in /) once it prints it, and stops it on exit."""
    env = {"POLICY_SEARCH_SERVER_THREADS": str(threads)} if threads else {}
    env["POLICY_SEARCH_SERVER_WORKERS"] = str(workers)
    with serve_process(index_dir, corpus, cwd=cwd, timeout_s=START_TIMEOUT_S, env=env) as served:
        yield served.url


# -- answers ---------------------------------------------------------------------------------------
def canonical(status: int, body: bytes) -> str:
    """An answer as compared: its status and its JSON without tests/served.py's PER_ANSWER_KEYS (or its bytes, if not JSON)."""
    try:
        return f"{status} " + json.dumps(without_per_answer_keys(json.loads(body)), ensure_ascii=False, sort_keys=True)
    except ValueError:
        return f"{status} {body!r}"


# Answers 503 with Retry-After until the worker has built its citation index (on a thread of its
# own); report pages are served meanwhile without their citation lists. Asked for until it answers
# before the serial pass, and on every worker, so that no answer is compared across that change.
FIRST_USE = "/api/citations"


class Client:
    """One keep-alive connection to the server; reconnects after a failure."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.conn: http.client.HTTPConnection | None = None

    def _request(self, path: str) -> tuple[int, str | None, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            self.conn.request("GET", path)
            resp = self.conn.getresponse()
            return resp.status, resp.getheader("Retry-After"), resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def get(self, path: str) -> tuple[int, bytes]:
        status, _, body = self._request(path)
        return status, body

    def settled(self, path: str, seconds: float = 600.0) -> tuple[int, bytes]:
        """The answer once the server is past its first-use work: a 503 with Retry-After (the
        citation index being built in this worker) is asked again, every 2 s at most."""
        deadline = time.monotonic() + seconds
        while True:
            status, retry, body = self._request(path)
            if status != 503 or not retry or time.monotonic() > deadline:
                return status, body
            time.sleep(min(float(retry), 2.0))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _q(path: str, **params) -> str:
    return path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")


def request_mix(client: Client, queries: list[str], limit: int) -> list[str]:
    """Paths of the web UI's requests: searches of every query (sorts, pages, grouping, filters),
    then the reports, paragraphs and quotes that the first searches found."""
    paths: list[str] = []
    sorts = ("relevance", "date", "report")
    for k, q in enumerate(queries):
        paths.append(_q("/api/search", q=q))
        paths.append(_q("/api/search", q=q, page=2, sort=sorts[k % 3]))
        paths.append(_q("/api/search", q=q, group=1, sort=sorts[(k + 1) % 3]))
        if k % 3 == 0:
            paths.append(_q("/api/search", q=q, year="2018..2023", per_page=20))
            paths.append(_q("/api/facets", q=q))
    found_pids: list[str] = []
    found_rids: list[str] = []
    texts: list[str] = []
    for q in queries[:12]:
        status, body = client.get(_q("/api/search", q=q, per_page=5))
        if status != 200:
            continue
        for hit in json.loads(body)["hits"]:
            found_pids.append(hit["id"])
            found_rids.append(hit["report"]["id"])
            texts.append(hit["text"])
    for pid in list(dict.fromkeys(found_pids))[:30]:
        paths.append("/api/paragraphs/" + urllib.parse.quote(pid))
    for pid in list(dict.fromkeys(found_pids))[:8]:
        paths.append("/api/cite/" + urllib.parse.quote(pid))
    for rid in list(dict.fromkeys(found_rids))[:8]:
        paths.append("/api/reports/" + urllib.parse.quote(rid))
        paths.append(_q("/api/reports/" + urllib.parse.quote(rid), q=queries[0]))
    for text in texts[:6]:
        paths.append(_q("/api/quote", q=text[len(text) // 4: len(text) // 4 + 40]))
    paths += ["/api/citations", "/healthz"]
    if limit and len(paths) > limit:  # an even spread over the kinds of request, not the first searches
        step = len(paths) / limit
        paths = [paths[int(k * step)] for k in range(limit)]
    return paths


@dataclass
class Level:
    clients: int
    requests: int = 0
    errors: int = 0
    wrong: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def row(self, base_rps: float | None) -> dict:
        rps = self.requests / self.seconds if self.seconds else 0.0
        lat = self.latencies_ms
        return {"clients": self.clients, "requests": self.requests, "errors": self.errors, "wrong": self.wrong,
                "seconds": round(self.seconds, 2), "rps": round(rps, 1),
                "vs_1_client": round(rps / base_rps, 2) if base_rps else None,
                "p50_ms": round(percentile(lat, 0.50), 1), "p95_ms": round(percentile(lat, 0.95), 1),
                "p99_ms": round(percentile(lat, 0.99), 1), "examples": self.examples[:3]}


def run_level(url: str, paths: list[str], expected: list[str], clients: int, requests: int,
              seconds: float, seed: int) -> Level:
    level = Level(clients)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]
    quota = [requests]

    def take() -> bool:
        with lock:
            if quota[0] <= 0 or time.monotonic() > deadline[0]:
                return False
            quota[0] -= 1
            return True

    def client(k: int) -> None:
        order = list(range(len(paths)))
        random.Random(seed * 1000 + k).shuffle(order)
        c = Client(url)
        start.wait()
        n = 0
        while take():
            i = order[n % len(order)]
            n += 1
            t = time.perf_counter()
            try:
                status, body = c.get(paths[i])
                got = canonical(status, body)
                failed = status != int(expected[i].split(" ", 1)[0])
            except (OSError, http.client.HTTPException) as exc:
                got, failed = f"{type(exc).__name__}: {exc}", True
            took = (time.perf_counter() - t) * 1000
            with lock:
                level.latencies_ms.append(took)
                level.requests += 1
                if failed:
                    level.errors += 1
                if got != expected[i]:
                    level.wrong += 1
                    if len(level.examples) < 3:
                        level.examples.append(f"{paths[i]}: {got[:200]}")
        c.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + seconds
    started = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    level.seconds = time.perf_counter() - started
    return level


def warm_every_worker(url: str, workers: int, paths: list[str], expected: list[str], log) -> None:
    """Runs the mix once on every other worker of `serve --workers` too, so that no level meets a
    worker's first-use work (idfs, the citation index) that the serial pass did in one of them;
    their answers must equal the serial ones. Connections are spread by the kernel, so new ones are
    opened until each worker has been seen (at most 50)."""
    seen = set()
    for _ in range(50):
        if len(seen) >= workers:
            return
        c = Client(url)
        worker = json.loads(c.get("/healthz")[1]).get("worker", 1)
        if worker not in seen:
            seen.add(worker)
            c.settled(FIRST_USE)
            differs = [p for p, e in zip(paths, expected) if canonical(*c.get(p)) != e]
            if differs:
                raise SystemExit(f"worker {worker} answers differently from the serial pass: {differs[:3]}")
        c.close()
    log(f"warning: saw workers {sorted(seen)} of {workers} in 50 connections")


def render(r: dict) -> str:
    m = r["machine"]
    lines = [
        f"Load: {r['corpus']['reports']} reports ({r['corpus']['mb']:.1f} MB), {r['mix']} distinct requests, "
        f"server threads {r['server_threads']} × {r.get('server_workers', 1)} worker process(es); commit {m['commit']}{' (indexer modified)' if m['indexer_dirty'] else ''}, "
        f"{m['nproc']} cores, load average before {r['load_before']}, after {r['load_after']} (uptime), {m['date']}",
        "",
        "| clients | requests | errors | wrong answers | throughput (req/s) | vs 1 client | p50 ms | p95 ms | p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r["levels"]:
        ratio = f"{row['vs_1_client']:.2f}×" if row["vs_1_client"] is not None else "—"
        lines.append(f"| {row['clients']} | {row['requests']} | {row['errors']} | {row['wrong']} | {row['rps']:.1f} | "
                     f"{ratio} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} |")
    lines.append("")
    lines.append(f"every answer equal to the serial one: {'yes' if r['all_equal'] else 'NO'}")
    for row in r["levels"]:
        for example in row["examples"]:
            lines.append(f"- {row['clients']} clients, differs: {example}")
    return "\n".join(lines) + "\n"


def _uptime_load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="policy-search load benchmark (concurrent clients on one server)")
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--clients", default="1,4,8", help="client counts, comma-separated")
    ap.add_argument("--requests", type=int, default=600, help="requests per client count (at most)")
    ap.add_argument("--seconds", type=float, default=60.0, help="time per client count (at most)")
    ap.add_argument("--mix", type=int, default=0, help="at most this many distinct requests (0: all)")
    ap.add_argument("--threads", type=int, help="server threads (default: the server_threads setting)")
    ap.add_argument("--workers", type=int, default=1, help="serving processes (serve --workers)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=BENCH / "out")
    ap.add_argument("--queries", type=Path, default=BENCH / "queries.txt")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds, not minutes: the seed corpus, clients 1,2, 40 requests each (keeps this script working)")
    args = ap.parse_args(argv)
    log = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    if args.smoke:
        corpus, name = ROOT / "corpus", "smoke"
        args.clients, args.requests, args.seconds, args.mix = "1,2", 40, 20.0, 40
        index_dir = out / "load-index-smoke"
        shutil.rmtree(index_dir, ignore_errors=True)
    else:
        n = args.reports
        corpus, name = BENCH / f"corpus-{n}", str(n)
        if not (corpus / ".complete").exists():
            shutil.rmtree(corpus, ignore_errors=True)
            log(f"generating {n} reports into {corpus}")
            subprocess.run([sys.executable, str(BENCH / "generate.py"), "--reports", str(n), "--out", str(corpus),
                            "--seed", str(args.seed)], check=True)
            (corpus / ".complete").write_text(f"seed={args.seed}\n")
        index_dir = out / f"load-index-{n}"
    files = sorted(corpus.glob("*.txt"))
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    queries = [q for _, q in load_queries(args.queries)]

    result: dict = {"machine": machine(), "corpus": {"reports": len(files), "mb": sum(f.stat().st_size for f in files) / 1e6}}
    log(f"starting serve on {corpus} (index {index_dir}; built first if missing)")
    with start_server(index_dir, corpus, cwd=out, threads=args.threads, workers=args.workers) as url:
        log(f"serving on {url}")
        serial = Client(url)
        paths = request_mix(serial, queries, args.mix)
        serial.settled(FIRST_USE)  # the citation index is built before any report page is asked for
        expected = [canonical(*serial.get(p)) for p in paths]
        serial.close()
        # The serial answers must themselves be sound: a 500 there would make "equal" meaningless.
        broken = [p for p, e in zip(paths, expected) if e.startswith("5")]
        if broken:
            raise SystemExit(f"serial answers with a server error: {broken[:3]}")
        health = json.loads(Client(url).get("/healthz")[1])
        warm_every_worker(url, args.workers, paths, expected, log)
        result.update(mix=len(paths), server_threads=args.threads or "default (8)", server_workers=args.workers,
                      load_before=_uptime_load(),
                      paragraphs=health.get("paragraphs"))
        levels = []
        base_rps = None
        for clients in counts:
            log(f"{clients} client(s): up to {args.requests} requests or {args.seconds:.0f} s")
            level = run_level(url, paths, expected, clients, args.requests, args.seconds, args.seed)
            row = level.row(base_rps)
            if clients == 1:
                base_rps = row["rps"]
                row["vs_1_client"] = 1.0
            levels.append(row)
            log(f"  {row['rps']:.1f} req/s, p95 {row['p95_ms']:.1f} ms, {row['errors']} errors, {row['wrong']} wrong")
        result["load_after"] = _uptime_load()
    result["levels"] = levels
    result["all_equal"] = all(r["wrong"] == 0 and r["errors"] == 0 for r in levels)
    table = render(result)
    name += f"-w{args.workers}" if args.workers > 1 else ""
    (out / f"load-{name}.md").write_text(table, encoding="utf-8")
    (out / f"load-{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(table)
    return 0 if result["all_equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
