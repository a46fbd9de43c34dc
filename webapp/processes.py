"""Several serving processes on one port: ``policy-search serve --workers N``.

One Python process runs one thread at a time (the GIL), so waitress's threads alone cannot use a
second core: at 10k reports the load benchmark served 34 requests/s with one client and no more
with eight. The supervisor here binds the listening sockets once, then starts N worker processes
("spawn": fresh interpreters, nothing inherited but the sockets and the settings). Each opens its
own engine on the same index (its pieces memory-mapped, so the page cache holds one copy for all),
runs a bounded waitress server on the port, and refreshes itself when the index moves on. On
Linux every worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads the
connections over them; elsewhere the workers share the supervisor's listening sockets.

The supervisor announces the address once every worker has opened the index, restarts a worker
that dies (a few times a minute at most), and stops them all on Ctrl+C or SIGTERM. A worker stops
by itself when the supervisor is gone, so no orphan keeps the port.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.connection import Connection, wait

from waitress.adjustments import Adjustments

from indexer.config import Settings

from .links import local_origin

RESTARTS_PER_MINUTE = 5  # more crashes than this in a minute: something is wrong, stop
STOP_WAIT_S = 10.0  # how long a worker gets to finish its requests before it is killed
PARENT_CHECK_S = 1.0


class WorkersFailed(Exception):
    """The workers could not start or keep running; the message says why."""


# On Linux each worker listens on a socket of its own, all bound to the port with SO_REUSEPORT,
# and the kernel spreads new connections over them. With one shared listening socket, the worker
# that wakes first takes a burst of connections: 8 clients connecting at once landed 7 to 1.
SPREAD_BY_KERNEL = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _bound(family: int, socktype: int, proto: int, sockaddr) -> socket.socket:
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if SPREAD_BY_KERNEL:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(sockaddr)
    except OSError:
        sock.close()
        raise
    return sock


def _adjustments(settings: Settings) -> Adjustments:
    """Waitress's reading of the settings' options (its listen addresses, its backlog)."""
    from .server import waitress_options

    return Adjustments(**waitress_options(settings))


def _refuse_if_served(family: int, socktype: int, proto: int, sockaddr) -> None:
    """OSError (address in use) when a server listens on the address already. Binding with
    SO_REUSEPORT would otherwise join another `serve --workers` of the same user on that port and
    split the connections between two servers."""
    probe = socket.socket(family, socktype, proto)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a stopped server's TIME_WAIT is no owner
        probe.bind(sockaddr)
    finally:
        probe.close()


def reserved_sockets(settings: Settings) -> list[socket.socket]:
    """The supervisor's sockets for the settings' host and port, bound as waitress would bind
    them (one per address a host name resolves to; port 0: a free port). They hold the port; with
    SPREAD_BY_KERNEL they do not listen (each worker listens on its own), else they are the
    listening sockets every worker shares."""
    adj = _adjustments(settings)
    sockets: list[socket.socket] = []
    try:
        for family, socktype, proto, sockaddr in adj.listen:
            if SPREAD_BY_KERNEL and sockaddr[1]:
                _refuse_if_served(family, socktype, proto, sockaddr)
            sockets.append(_bound(family, socktype, proto, sockaddr))
            if not SPREAD_BY_KERNEL:
                sockets[-1].listen(adj.backlog)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def worker_sockets(reserved: list[socket.socket], backlog: int) -> list[socket.socket]:
    """A worker's listening sockets on the supervisor's reserved addresses."""
    if not SPREAD_BY_KERNEL:
        return reserved
    own = []
    for sock in reserved:
        own.append(_bound(sock.family, sock.type, sock.proto, sock.getsockname()))
        own[-1].listen(backlog)
        sock.close()
    return own


def addresses_of(sockets: list[socket.socket]) -> list[tuple[str, int]]:
    return [(str(s.getsockname()[0]), int(s.getsockname()[1])) for s in sockets]


def _exit_with(parent: int) -> None:
    """Ends this worker when the supervisor is gone (killed without a chance to stop it)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="policy-search-parent-watch", daemon=True).start()


def _worker(settings: Settings, number: int, sockets: list[socket.socket], origin: str, ready: Connection,
            parent: int) -> None:
    """One serving process: open the index, say so on ``ready``, serve until stopped."""
    _exit_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the supervisor, which stops us
    try:
        from . import create_app
        from .server import create_bounded_server

        app = create_app(settings)
        app.config["PUBLIC_ORIGIN"] = origin
        app.config["WORKER"] = number
        server = create_bounded_server(app, settings, worker_sockets(sockets, _adjustments(settings).backlog))
    except Exception as exc:  # noqa: BLE001 - reported to the supervisor, which says it and stops
        ready.send(("error", str(exc) or type(exc).__name__))
        return
    ready.send(("ready", os.getpid()))
    ready.close()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the supervisor stops us: close and end
    try:
        server.run()
    finally:
        server.close()


class Supervisor:
    """N worker processes on one set of listening sockets."""

    def __init__(self, settings: Settings, workers: int, sockets: list[socket.socket], origin: str):
        self.settings = settings
        self.count = workers
        self.sockets = sockets
        self.origin = origin
        self._context = multiprocessing.get_context("spawn")
        self._procs: dict[int, multiprocessing.process.BaseProcess] = {}
        self._crashes: list[float] = []

    def _start(self, number: int) -> tuple[multiprocessing.process.BaseProcess, Connection]:
        receive, send = self._context.Pipe(duplex=False)
        proc = self._context.Process(target=_worker, name=f"policy-search worker {number}",
                                     args=(self.settings, number, self.sockets, self.origin, send, os.getpid()))
        proc.start()
        send.close()
        self._procs[number] = proc
        return proc, receive

    @staticmethod
    def _await_ready(number: int, proc, receive: Connection) -> None:
        """Waits until the worker has opened the index; WorkersFailed with its reason if it cannot."""
        try:
            while not receive.poll(0.2):
                if not proc.is_alive():
                    raise WorkersFailed(f"worker {number} exited (code {proc.exitcode}) before it was ready")
            state, detail = receive.recv()
        except EOFError:
            raise WorkersFailed(f"worker {number} exited (code {proc.exitcode}) before it was ready") from None
        finally:
            receive.close()
        if state != "ready":
            raise WorkersFailed(detail)

    def start(self) -> None:
        """Starts every worker and returns once all of them serve."""
        started = [(n, *self._start(n)) for n in range(1, self.count + 1)]
        for number, proc, receive in started:
            self._await_ready(number, proc, receive)

    def supervise(self) -> None:
        """Keeps N workers running until interrupted; WorkersFailed when they keep dying."""
        while True:
            by_sentinel = {p.sentinel: n for n, p in self._procs.items()}
            for sentinel in wait(list(by_sentinel), timeout=5.0):
                number = by_sentinel[sentinel]
                proc = self._procs[number]
                proc.join()
                now = time.monotonic()
                self._crashes = [t for t in self._crashes if now - t < 60] + [now]
                if len(self._crashes) > RESTARTS_PER_MINUTE:
                    raise WorkersFailed(f"worker processes keep exiting ({len(self._crashes)} in a minute; "
                                        f"the last, worker {number}, with code {proc.exitcode})")
                print(f"worker {number} (pid {proc.pid}) exited with code {proc.exitcode}; starting another",
                      file=sys.stderr, flush=True)
                replacement, receive = self._start(number)
                self._await_ready(number, replacement, receive)
                print(f"worker {number} (pid {replacement.pid}) serves", file=sys.stderr, flush=True)

    def stop(self) -> None:
        """Stops every worker: SIGTERM, then SIGKILL for one that has not ended in STOP_WAIT_S."""
        procs = list(self._procs.values())
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + STOP_WAIT_S
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
        for sock in self.sockets:
            sock.close()


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_workers(settings: Settings, workers: int) -> None:
    """``serve --workers N``: bind, start N workers, announce, supervise until Ctrl+C or SIGTERM.
    OSError when the address cannot be bound; WorkersFailed when the workers cannot serve."""
    from .server import announce

    sockets = reserved_sockets(settings)
    addresses = addresses_of(sockets)
    supervisor = Supervisor(settings, workers, sockets, local_origin(settings.host, addresses[0][1]))
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        supervisor.start()
        announce(settings, addresses, supervisor.origin, workers=workers)
        supervisor.supervise()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        supervisor.stop()
        signal.signal(signal.SIGTERM, previous)
