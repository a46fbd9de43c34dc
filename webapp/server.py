"""`policy-search serve`: build the index if missing, then serve the app with waitress."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from indexer.config import Settings


def _build_index_if_missing(settings: Settings) -> None:
    from indexer.writer import IndexBusy, default_progress, ensure_index

    corpus = Path(settings.corpus)
    try:
        summary = ensure_index([corpus], Path(settings.index), progress=default_progress,
                               userdict=settings.userdict, max_chars=settings.max_chunk_chars)
    except IndexBusy as exc:
        raise click.ClickException(str(exc)) from exc
    if summary is None:
        click.echo(f"Using index {settings.index}")
        return
    click.echo(f"Built index {settings.index} from {corpus}: {summary.reports} reports, "
               f"{summary.paragraphs} paragraphs")
    for source, reason in summary.skipped:
        click.echo(f"  skipped {source}: {reason}", err=True)


def run(settings: Settings, *, threads: int = 8) -> None:
    """Serve until interrupted. Port 0 picks a free port; the real URL is printed."""
    from waitress import create_server

    from . import create_app

    from indexer.search import SearchEngine
    from indexer.layout import IndexDamaged, IndexMissing, IndexOutdated

    corpus = Path(settings.corpus)
    engine = None
    if corpus.is_dir():
        click.echo(f"Checking index {settings.index} (corpus {corpus}) …")
        _build_index_if_missing(settings)
    else:
        try:  # no corpus to build from: serve an existing index as it is
            engine = SearchEngine.from_settings(settings, warm=True)
        except IndexOutdated as exc:
            raise click.ClickException(f"{exc} (with --corpus DIR, serve rebuilds it)") from None
        except IndexDamaged as exc:
            raise click.ClickException(str(exc)) from None
        except IndexMissing:
            raise click.ClickException(
                f"no index in {settings.index}, and the corpus {corpus} to build it from is not a directory "
                "(use --corpus DIR or --index DIR)") from None
        click.echo(f"Using index {settings.index} (corpus {corpus} not found; not updating)")
    try:
        app = create_app(settings, engine=engine)
    except IndexMissing as exc:  # damaged, or removed since it was checked
        raise click.ClickException(str(exc)) from None
    server = create_server(app, host=settings.host, port=settings.port, threads=threads,
                           ident="policy-search", clear_untrusted_proxy_headers=True)
    host = settings.host
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::", ""):
        shown = "127.0.0.1"
    url = f"http://{shown}:{server.effective_port}/"
    click.echo(f"Serving policy-search on {url} … open it in a browser (Ctrl+C to stop)")
    sys.stdout.flush()
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("\nStopped.")
    finally:
        server.close()
