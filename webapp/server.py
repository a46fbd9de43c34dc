"""Waitress for the app: create the bounded server, announce where it listens, run it. The rest of
`policy-search serve` (settings, building the index if there is none, messages) is the CLI's.

Waitress is bounded by the settings (``server_threads``, ``connection_limit``, ``channel_timeout``,
``max_request_body_kb``, ``max_request_header_kb``): slow or half-open connections wait in
waitress's event loop, not in a thread, and up to ``connection_limit`` of them do not keep other
clients out. Requests that waitress refuses itself, before the app sees them (headers over the
limit: 431, a body over the limit: 413, a malformed request line: 400), answer on ``/api/`` in the
API's JSON error shape.
"""
from __future__ import annotations

import json
import sys

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer

from indexer.config import Settings

from .links import WILDCARD_HOSTS, local_origin

# A waitress answer's status -> the API's error code (README "Errors").
WAITRESS_ERROR_CODES = {400: "bad_request", 413: "request_too_large", 431: "headers_too_large",
                        500: "internal_error", 501: "not_implemented"}
WAITRESS_ERROR_MESSAGES = {400: "请求格式有误", 413: "请求体过大", 431: "请求行或请求头过长",
                           500: "服务器内部错误，请稍后再试。", 501: "不支持的传输编码"}
_REQUEST_START = 64  # bytes of the request kept to tell an /api/ request: "METHOD /api/"


class ApiShapedError:
    """A waitress error answer (``waitress.utilities.Error``) in the API's error shape."""

    def __init__(self, error):
        self.code, self.reason, self.body = error.code, error.reason, error.body

    def to_response(self, ident=None):
        message = WAITRESS_ERROR_MESSAGES.get(self.code, self.reason)
        body = {"ok": False, "error": {"code": WAITRESS_ERROR_CODES.get(self.code, "bad_request"),
                                       "message": f"{message}（{self.body}）"}}
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        return f"{self.code} {self.reason}", headers, json.dumps(body, ensure_ascii=False).encode("utf-8")


def is_api_request(start: bytes) -> bool:
    """Whether the first bytes of a request ("GET /api/search?…") address the JSON API."""
    parts = start.lstrip().split(b" ", 2)
    return len(parts) > 1 and (parts[1].startswith(b"/api/") or parts[1] == b"/healthz")


class ApiAwareParser(HTTPRequestParser):
    """Waitress's request parser; the errors it finds answer in the API's shape on /api/."""

    _start = b""

    def received(self, data):
        if len(self._start) < _REQUEST_START:
            self._start = (self._start + data)[:_REQUEST_START]
        consumed = super().received(data)
        if self.error is not None and not isinstance(self.error, ApiShapedError) and is_api_request(self._start):
            self.error = ApiShapedError(self.error)
        return consumed


class ApiAwareChannel(HTTPChannel):
    parser_class = ApiAwareParser


def waitress_options(settings: Settings) -> dict:
    """The waitress adjustments that bound the server, from the settings."""
    timeout = max(1, settings.channel_timeout)
    return {
        "host": settings.host, "port": settings.port,
        "threads": max(1, settings.server_threads),
        "connection_limit": max(1, settings.connection_limit),
        "channel_timeout": timeout,
        "cleanup_interval": max(1, min(30, timeout // 2)),  # how often idle connections are looked for
        "max_request_body_size": max(1, settings.max_request_body_kb) * 1024,
        "max_request_header_size": max(1, settings.max_request_header_kb) * 1024,
        "asyncore_use_poll": True,  # select() fails past 1024 descriptors; poll() does not
        "ident": "policy-search",
        "clear_untrusted_proxy_headers": True,
    }


def listening_on(server) -> list[tuple[str, int]]:
    """(host, port) of every socket a waitress server listens on (a host name such as localhost
    can give one per address family)."""
    if hasattr(server, "effective_listen"):
        return [(str(h), int(p)) for h, p in server.effective_listen]
    return [(str(server.effective_host), int(server.effective_port))]


def _wsgi_servers(server) -> list[BaseWSGIServer]:
    if isinstance(server, BaseWSGIServer):
        return [server]
    return [s for s in getattr(server, "map", {}).values() if isinstance(s, BaseWSGIServer)]


def create_bounded_server(app, settings: Settings, sockets: list | None = None):
    """A waitress server for the app with the settings' limits and API-shaped error answers, on
    the settings' host and port or on ``sockets`` (listening already: a worker of serve --workers)."""
    from waitress import create_server

    options = waitress_options(settings)
    if sockets is not None:
        options = {k: v for k, v in options.items() if k not in ("host", "port")}
        options["sockets"] = sockets
    server = create_server(app, **options)
    for s in _wsgi_servers(server):
        s.channel_class = ApiAwareChannel
    return server


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def announce(settings: Settings, addresses: list[tuple[str, int]], origin: str, workers: int = 1) -> None:
    """Print where the server listens, and warn when that is every network interface."""
    host, port = addresses[0]
    wildcard = settings.host in WILDCARD_HOSTS
    shown = ", ".join(_url(h, p) for h, p in addresses)
    processes = f" ({workers} worker processes)" if workers > 1 else ""
    print(f"Serving policy-search on {shown}{processes} … open it in a browser (Ctrl+C to stop)")
    if wildcard:
        local = "[::1]" if ":" in host else "127.0.0.1"
        family = "IPv6 and IPv4" if ":" in host else "IPv4"
        print(f"On this machine open http://{local}:{port}/")
        print(f"warning: listening on every {family} network interface ({settings.host or '*'}): anyone who "
              f"can reach this machine on port {port} can use the server; --host 127.0.0.1 keeps it local",
              file=sys.stderr)
    if not settings.base_url and (wildcard or host not in ("127.0.0.1", "::1", "localhost")):
        print(f"Permalinks and citations point at {origin}/ (set --base-url to the address readers use)",
              file=sys.stderr)
    sys.stdout.flush()


def run(server, app, settings: Settings) -> None:
    """Serve with a server from ``create_bounded_server`` until interrupted, after announcing it.
    Port 0 picks a free port: the address printed, and used for absolute links, is the one bound."""
    addresses = listening_on(server)
    # Absolute links (citations, the API's permalink/url) use the address actually bound (port 0
    # is a free port chosen now), never a request's Host header.
    origin = local_origin(settings.host, addresses[0][1])
    app.config["PUBLIC_ORIGIN"] = origin
    announce(settings, addresses, origin)
    try:
        server.run()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        server.close()
