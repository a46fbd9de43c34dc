"""A real `policy-search serve --port 0` in a child process, for browser tests, HTTP tests and the
load benchmark (bench/load.py imports it): one launcher, so all three start the server alike."""
from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL_LINE = re.compile(r"Serving policy-search on (http://\S+?/)")


@dataclass
class Served:
    url: str  # ends in /
    port: int
    output: list[str] = field(default_factory=list)  # everything serve printed, growing
    pid: int = 0  # the serve process (with --workers, the supervisor)


@contextlib.contextmanager
def serve_process(index_dir: Path, corpus: Path, *, cwd: Path, timeout_s: float = 120,
                  env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
    """Starts serve on 127.0.0.1 (building a missing index first), yields a Served once it prints
    its URL, and stops it on exit. ``env``: extra environment (settings such as
    POLICY_SEARCH_SERVER_THREADS); ``args``: more flags of serve."""
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT), **(env or {}))
    full_env.pop("POLICY_SEARCH_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "serve", "--host", "127.0.0.1", "--port", "0",
         "--index", str(index_dir), "--corpus", str(corpus), *args],
        cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8")
    lines: queue.Queue = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        for line in proc.stdout:
            output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + timeout_s
        url = None
        while url is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"serve printed no URL within {timeout_s} s:\n" + "".join(output[-20:])) from None
            if line is None:
                raise RuntimeError(f"serve exited ({proc.wait()}) before printing its URL:\n" + "".join(output[-20:]))
            m = URL_LINE.search(line)
            url = m.group(1) if m else None
        yield Served(url, int(url.rsplit(":", 1)[1].rstrip("/")), output, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# Keys that differ between equal answers by design: a search's time, and which worker of
# `serve --workers` answered /healthz. The tests and bench/load.py compare answers without them.
PER_ANSWER_KEYS = ("took_ms", "worker")


def without_per_answer_keys(value):
    if isinstance(value, dict):
        return {k: without_per_answer_keys(v) for k, v in value.items() if k not in PER_ANSWER_KEYS}
    if isinstance(value, list):
        return [without_per_answer_keys(v) for v in value]
    return value


def settle_workers(url: str, workers: int, paths: list[str], seconds: float = 120) -> None:
    """Asks every worker of a server for ``paths`` until none answers 503 (a worker's first-use
    work, such as the citation index, done on a thread of its own): connections are spread over
    the workers by the kernel, so new ones are opened until each worker has been seen settled."""
    import http.client
    import json
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    settled: set[int] = set()
    deadline = time.monotonic() + seconds
    while len(settled) < workers:
        assert time.monotonic() < deadline, f"workers settled: {sorted(settled)} of {workers}"
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request("GET", "/healthz")
            worker = json.loads(conn.getresponse().read())["worker"]
            for path in paths:
                while True:
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    resp.read()
                    if resp.status != 503:
                        break
                    assert time.monotonic() < deadline, f"{path} still 503 on worker {worker}"
                    time.sleep(0.2)
            settled.add(worker)
        finally:
            conn.close()
