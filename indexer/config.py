"""The one place that holds configuration: defaults < config file < environment < flags.

Config file: the path in $POLICY_SEARCH_CONFIG, else ./policy-search.toml if present. Keys are the
field names of ``Settings`` (e.g. ``index = "/data/ps-index"``). Environment: POLICY_SEARCH_<FIELD>
in upper case (POLICY_SEARCH_INDEX, POLICY_SEARCH_CORPUS, POLICY_SEARCH_BASE_URL, ...).
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "POLICY_SEARCH_"


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    corpus: Path = PROJECT_ROOT / "corpus"
    index: Path = PROJECT_ROOT / "index"
    max_chunk_chars: int = 1000
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = ""  # public URL prefix for permalinks; empty = the request's own host
    userdict: Path | None = None  # extra jieba user dictionary (the corpus's userdict.txt is used too)
    max_query_chars: int = 200
    max_query_terms: int = 12
    near_gap: int = 8  # characters a near match (~phrase) allows between one word and the next
    # Bounds on one input file (readers): larger files are skipped with a clear reason, and the
    # memory a file takes stays a small multiple of these.
    max_file_mb: int = 64  # bytes on disk
    max_inflated_mb: int = 64  # text a compressed container (.docx) unpacks to
    max_report_paragraphs: int = 20_000  # paragraphs one report may have
    max_pdf_pages: int = 10_000  # pages of one PDF
    # Passwords to try on an encrypted PDF (--pdf-password, repeatable; a list in the config file;
    # one a line in POLICY_SEARCH_PDF_PASSWORDS). Never printed or kept in the index.
    pdf_passwords: tuple[str, ...] = ()
    # OCR results (scans, images) kept by file hash, outside the index: a scan is read once.
    ocr_cache: Path | None = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policy-search" / "ocr"
    # The server (waitress): many slow or half-open connections must not starve real users.
    server_threads: int = 8  # per worker process
    server_workers: int = 1  # serving processes on one port (serve --workers)
    connection_limit: int = 500
    channel_timeout: int = 30  # seconds an idle or trickling connection is kept
    max_request_body_kb: int = 1024
    max_request_header_kb: int = 32
    report_page_paragraphs: int = 500  # paragraphs per page of a report (HTML and JSON)
    report_list_per_page: int = 100  # reports per page of the report list (the home page, /api/reports)
    citations_per_page: int = 50  # documents per page of the most-cited list (/citations, /api/citations)
    # A server builds the citation index within the first request that needs it when it reads at
    # most this many paragraphs (about 2 s), else on a thread of its own (503 citations_pending meanwhile).
    citations_wait_paragraphs: int = 20_000
    # Likewise the clusters of near-duplicate paragraphs (/reuse, a hit's 相似段落 N, folding
    # near-duplicate hits) when there are at most this many fingerprints (about 1 s).
    reuse_wait_fingerprints: int = 2_000_000
    boilerplate_reports: int = 10  # a paragraph shared with more reports than this is boilerplate (a report's relatives)
    max_export_hits: int = 200_000  # hits one web export (/api/search.csv …) may hold; the CLI has no cap
    cluster: str = ""  # a Dask scheduler (tcp://HOST:8786): index builds on its workers, search and serve ask its shards
    shard_replicas: int = 1  # workers that hold each shard when serving from a cluster


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if value is None:
            return None
        if "Path" in str(kind):
            return Path(os.path.expanduser(str(value)))
        if kind == "int" or kind is int:
            return int(value)
        if "tuple" in str(kind):
            if isinstance(value, str):  # the environment: one a line
                return tuple(v for v in value.splitlines() if v)
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise TypeError("a list of strings is expected")
            return tuple(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: {value!r} is not valid ({exc})") from exc


def load_settings(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    settings = Settings()
    names = {f.name for f in fields(Settings)}

    config_path = environ.get(ENV_PREFIX + "CONFIG")
    path = Path(config_path) if config_path else Path("policy-search.toml")
    if path.exists():
        try:
            loaded = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file ({exc})") from exc
        unknown = set(loaded) - names
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        settings = replace(settings, **{k: _coerce(k, v) for k, v in loaded.items()})
    elif config_path:
        raise ConfigError(f"{path}: config file named by {ENV_PREFIX}CONFIG does not exist")

    from_env = {n: environ[ENV_PREFIX + n.upper()] for n in names if ENV_PREFIX + n.upper() in environ}
    settings = replace(settings, **{k: _coerce(k, v) for k, v in from_env.items()})

    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    return replace(settings, **{k: _coerce(k, v) for k, v in flags.items()})
