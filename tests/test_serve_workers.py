"""`policy-search serve --workers N`: N real worker processes on one port, started, supervised and
stopped by one supervisor (webapp/processes.py). Every answer equals the serial answer whichever
process gives it; a killed worker is replaced; stopping or killing the supervisor leaves no worker
behind; a bad number of workers is a usage error."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT
from served import serve_process, settle_workers, without_per_answer_keys

QUERIES = ["出庭应诉率", "法治", "矛盾纠纷 人民调解", "行政复议 -诉讼", "\"依法行政\"", "year:2022 法治", "一村一法律顾问"]
PATHS = [f"/api/search?q={urllib.parse.quote(q)}" for q in QUERIES] + [
    f"/api/search?q={urllib.parse.quote('法治')}&page=2&sort=date", f"/api/search?q={urllib.parse.quote('法治')}&by=report",
    "/api/reports", "/api/citations",
]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _workers_of(supervisor: int) -> set[int]:
    """The worker processes (multiprocessing spawn children) of the supervisor."""
    try:
        children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    except OSError:
        return set()
    found = set()
    for pid in map(int, children):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.add(pid)
    return found


def _answer_tolerating_resets(url: str) -> dict | None:
    try:
        status, body = _get(url)
    except ConnectionResetError:
        return None
    return body if status == 200 else None


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def _seen_workers(url: str, wanted: int, requests: int = 400) -> set[int]:
    """Worker numbers that answered /healthz, asked by 8 concurrent clients, until ``wanted`` were
    seen or ``requests`` were made."""
    seen: set[int] = set()
    lock = threading.Lock()
    left = [requests]

    def client():
        while True:
            with lock:
                if len(seen) >= wanted or left[0] <= 0:
                    return
                left[0] -= 1
            status, body = _get(url + "healthz")
            assert status == 200
            with lock:
                seen.add(body["worker"])

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return seen


@pytest.fixture(scope="module")
def served_workers(seed_index, tmp_path_factory):
    base = tmp_path_factory.mktemp("workers")
    with serve_process(seed_index, base / "no-corpus", cwd=base, args=("--workers", "2")) as served:
        yield served


def test_two_workers_answer_as_one_process_does(served_workers):
    url = served_workers.url
    assert "(2 worker processes)" in "".join(served_workers.output)
    assert len(_workers_of(served_workers.pid)) == 2
    assert _seen_workers(url, 2) == {1, 2}
    settle_workers(url, 2, ["/api/citations"])  # each worker's citation index, built in the background
    serial = {}
    for path in PATHS:
        status, body = _get(url + path.lstrip("/"))
        assert status == 200, (path, body)
        serial[path] = without_per_answer_keys(body)
    wrong: list[str] = []

    def client(k: int):
        order = PATHS[k % len(PATHS):] + PATHS[:k % len(PATHS)]
        for path in order * 3:
            status, body = _get(url + path.lstrip("/"))
            if status != 200 or without_per_answer_keys(body) != serial[path]:
                wrong.append(path)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not wrong and not any(t.is_alive() for t in threads)


def test_a_killed_worker_is_replaced(seed_index, tmp_path):
    with serve_process(seed_index, tmp_path / "no-corpus", cwd=tmp_path, args=("--workers", "2")) as served:
        before = _workers_of(served.pid)
        assert len(before) == 2
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: not _alive(victim), 20, "the killed worker to exit")
        # The kernel closes a dead process's sockets a moment after it ends: a connection it put
        # on the victim's listening socket meanwhile is reset. After that the other worker answers
        # while the replacement is still opening the index.
        reported = _wait_for(lambda: next((line for line in served.output if "exited with code -9; starting another"
                                           in line), None), 60, "the supervisor to report the killed worker")
        number = int(reported.split()[1])
        answered = _wait_for(lambda: _answer_tolerating_resets(served.url + "healthz"), 30, "an answer")
        replacement_ready = any(" serves" in line for line in served.output)
        assert answered["ok"] and (replacement_ready or answered["worker"] != number)
        status, body = _get(served.url + "api/search?q=" + urllib.parse.quote("出庭应诉率"))
        assert status == 200 and body["total"] > 0
        def replaced():
            workers = _workers_of(served.pid)
            return workers if len(workers) == 2 and victim not in workers else None

        after = _wait_for(replaced, 60, "a second worker again")
        _wait_for(lambda: any(f"(pid {min(after - before)}) serves" in line for line in served.output), 60,
                  "the new worker to open the index")
        assert after & before and victim not in after
        assert _seen_workers(served.url, 2) == {1, 2}
    # The supervisor stopped (SIGTERM) and took its workers with it.
    _wait_for(lambda: not any(_alive(p) for p in after), 20, "the workers to stop with the supervisor")


def test_workers_end_when_the_supervisor_is_killed(seed_index, tmp_path):
    with serve_process(seed_index, tmp_path / "no-corpus", cwd=tmp_path, args=("--workers", "2")) as served:
        workers = _workers_of(served.pid)
        assert len(workers) == 2
        os.kill(served.pid, signal.SIGKILL)  # no chance to stop them
        _wait_for(lambda: not any(_alive(p) for p in workers), 20, "orphaned workers to exit")


@pytest.mark.parametrize("how", [("--workers", "0"), ("--workers", "x")])
def test_a_bad_number_of_workers_is_a_usage_error(how, seed_index, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "indexer.cli", "serve", "--index", str(seed_index), "--port", "0", *how],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 2 and "--workers" in proc.stderr and "Traceback" not in proc.stderr


def test_a_bad_server_workers_setting_is_a_usage_error(seed_index, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "indexer.cli", "serve", "--index", str(seed_index), "--port", "0"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), POLICY_SEARCH_SERVER_WORKERS="0"))
    assert proc.returncode == 2 and "server_workers" in proc.stderr and "Traceback" not in proc.stderr


def test_a_taken_port_is_named(seed_index, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "indexer.cli", "serve", "--index", str(seed_index), "--port",
                               str(port), "--workers", "2"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 1 and f"cannot serve on 127.0.0.1:{port}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_port_another_serve_workers_holds_is_named(served_workers, seed_index, tmp_path):
    """A second `serve --workers` on the first one's port is refused, not joined to it (both
    would listen with SO_REUSEPORT and split the connections)."""
    port = served_workers.port
    proc = subprocess.run([sys.executable, "-m", "indexer.cli", "serve", "--index", str(seed_index), "--port",
                           str(port), "--workers", "2"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 1 and f"cannot serve on 127.0.0.1:{port}" in proc.stderr, proc.stderr
    assert _seen_workers(served_workers.url, 2) == {1, 2}


def test_a_worker_that_cannot_open_the_index_stops_the_start_with_its_reason(seed_index, tmp_path):
    """The supervisor's own check of the index passed (serve opens it before starting workers),
    then the index was damaged before the workers opened it: the start fails with the worker's
    reason, naming the file, and leaves no worker running and the port free."""
    from indexer.config import Settings
    from webapp.processes import Supervisor, WorkersFailed, addresses_of, reserved_sockets

    index_copy = tmp_path / "index"
    shutil.copytree(seed_index, index_copy)
    piece = sorted(index_copy.glob("*.piece"))[0]
    with piece.open("r+b") as f:
        f.truncate(piece.stat().st_size // 2)
    settings = Settings(index=index_copy, corpus=tmp_path / "no-corpus", host="127.0.0.1", port=0)
    sockets = reserved_sockets(settings)
    port = addresses_of(sockets)[0][1]
    supervisor = Supervisor(settings, 2, sockets, f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(WorkersFailed) as failed:
            supervisor.start()
    finally:
        supervisor.stop()
    assert piece.name in str(failed.value) and "Traceback" not in str(failed.value), failed.value
    assert not any(p.is_alive() for p in supervisor._procs.values())
    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", port))
