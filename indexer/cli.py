"""The policy-search command line. Thin: every verb calls the same API as the web app.

Whatever the arguments, a verb ends with a message and exit status 2 (usage) or 1 (runtime), never
a traceback: arguments that are not UTF-8 text are usage errors, and untrusted text (file names,
queries, the index's texts) is shown escaped (indexer/terminal.py), so a control character
cannot break the output.

About 500 lines, on purpose: seven verbs, each with its options and help text, and each mapping
the API's errors onto one message and exit status; `serve` also builds the index when there is
none (the CLI owns that, webapp/server.py only runs waitress). How things are printed lives in
terminal.py; what is left here is one block per verb, which reads best in one file.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import click

from indexer import __version__
from indexer.config import ConfigError, load_settings
from indexer.model import ReadError, ReadLimits
from indexer.search.export import FORMATS as EXPORT_FORMATS
from indexer.terminal import (SHOWN_CHARS, TEXT, counted, describe_os_error, echo_hit, echo_outline, printable, shown_citation,
                              shown_difference, sidecar_lines, skipped_lines, to_json)

class PolicySearch(click.Group):
    """The command group; an error no verb foresaw still ends with a message, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`… | head`): stop quietly, without a second error at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:
            raise click.ClickException(describe_os_error(exc)) from exc
        except Exception as exc:
            raise click.ClickException(
                f"unexpected error: {type(exc).__name__}: {printable(str(exc), 1000)} "
                "(this is a bug in policy-search: please report it with the command that caused it)") from exc


def _settings(**overrides):
    try:
        settings = load_settings(overrides)
    except ConfigError as exc:
        raise click.UsageError(printable(str(exc))) from exc
    for name in ("index", "corpus", "userdict"):
        value = getattr(settings, name)
        if value is not None and "\0" in str(value):
            raise click.UsageError(f"setting {name!r}: {printable(str(value), SHOWN_CHARS)} has a NUL character")
    return settings


@click.group(cls=PolicySearch, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="policy-search")
def main() -> None:
    """Full-text search over Chinese government policy reports (法治政府建设 annual reports).

    \b
    Typical use:
      policy-search serve                 # web UI on the bundled corpus (index built on first run)
      policy-search index                 # build or update the index from corpus/
      policy-search search 出庭应诉率       # every paragraph that contains the phrase
      policy-search parse report.pdf      # see how a file is read
      policy-search cite ID -f bibtex     # cite a paragraph; cite --quote "…" finds a quote's source
      policy-search check                 # verify every file of the index against its checksums
    """


_pdf_password_option = click.option(
    "--pdf-password", "pdf_passwords", multiple=True, metavar="PASSWORD", type=TEXT,
    help="A password to try on encrypted PDFs (repeatable; setting pdf_passwords). One with only an owner "
         "password (printing and copying restricted) needs none.")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
@click.option("--max-chunk-chars", type=click.IntRange(min=50), default=None,
              help="Split longer paragraphs at sentence ends (default 1000).")
@_pdf_password_option
def parse(paths: tuple[Path, ...], as_json: bool, max_chunk_chars: int | None, pdf_passwords: tuple[str, ...]) -> None:
    """Read files into paragraphs with section paths and report metadata.

    Supports .txt .md .pdf .html .htm .docx .ofd .doc .wps (through LibreOffice) and scans as PDF
    or .png .jpg .tif (by OCR, the [ocr] extra). An encrypted PDF opens with the empty password (one
    with only an owner password) or one given with --pdf-password; else it is skipped as
    "encrypted: password required". Exit status: 0 when every file was read, 1 when some were
    skipped (each named with its reason), 2 for usage errors.
    """
    from indexer.reading.readers.ocr import observing_pages, page_note
    from indexer.reading.report import read_report

    settings = _settings(max_chunk_chars=max_chunk_chars, pdf_passwords=pdf_passwords or None)
    limits = ReadLimits.from_settings(settings)

    def pages_read(source: str, page: int, pages: int) -> None:
        if sys.stderr.isatty():  # a scan takes seconds a page
            click.echo("\r" + page_note(source, page, pages), err=True, nl=page == pages)

    failed = 0
    for path in paths:
        try:
            if path.is_dir():
                raise ReadError(str(path), "is a directory (give the files in it, or index it)")
            with observing_pages(pages_read):
                report = read_report(path, max_chars=settings.max_chunk_chars, limits=limits)
        except ReadError as exc:
            reason = exc.reason
        except OSError as exc:  # a name too long, a path through a file, ...
            reason = describe_os_error(exc, "cannot read") if exc.filename is None else f"cannot read: {exc.strerror or exc}"
        else:
            if as_json:
                click.echo(to_json(report.to_dict()))
            else:
                echo_outline(report)
            continue
        failed += 1
        if as_json:
            click.echo(to_json({"source": str(path), "ok": False, "error": reason}))
        else:
            click.echo(f"skipped {printable(str(path), SHOWN_CHARS)}: {printable(reason)}", err=True)
    sys.exit(1 if failed else 0)


def _index_dir_option(f):
    return click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None,
                        help="Index directory (default: index/ in the project; env POLICY_SEARCH_INDEX).")(f)


def _engine(settings):
    from indexer.search.engine import SearchEngine
    from indexer.search.opened import is_sharded
    from indexer.store.layout import IndexMissing

    _require_index_folder(settings.index)
    try:
        if is_sharded(settings.index):
            raise click.ClickException(f"the index in {printable(str(settings.index))} is sharded: `search` answers "
                                       "from it (with --cluster, or here); this command needs an index of one shard")
        return SearchEngine.from_settings(settings)
    except IndexMissing as exc:  # missing, outdated or damaged: the message says which, and what to do
        raise click.ClickException(printable(str(exc))) from exc


def _search_engine(settings):
    """The engine `search` asks: one index, a sharded index here, or its shards on a cluster."""
    from indexer.cluster import ClusterUnreachable
    from indexer.search.actors import ShardPlacementFailed
    from indexer.search.opened import open_search_engine
    from indexer.store.layout import IndexMissing

    _require_index_folder(settings.index)
    client = _connected(settings.cluster) if settings.cluster else None
    try:
        return open_search_engine(settings, client)
    except (IndexMissing, ClusterUnreachable, ShardPlacementFailed) as exc:
        raise click.ClickException(printable(str(exc))) from exc


def _shards_note(result) -> None:
    """On stderr, when shards did not answer: which share of the corpus the answer covers."""
    shards = getattr(result, "shards", None)
    if shards and shards["missing"]:
        missing = ", ".join(map(str, shards["missing"]))
        click.echo(f"warning: {shards['answered']} of {shards['total']} shards answered (no worker holds shard "
                   f"{missing}): the totals and hits cover {counted(shards['reports'], 'report')} only", err=True)


def _require_index_folder(index_dir: Path) -> None:
    """A usage error for an --index that cannot be an index folder (a file, a name too long)."""
    try:
        if index_dir.exists() and not index_dir.is_dir():
            raise click.UsageError(f"--index {printable(str(index_dir), SHOWN_CHARS)} is a file, not a directory")
    except OSError as exc:
        raise click.UsageError(f"--index {printable(str(index_dir), SHOWN_CHARS)}: {exc.strerror or exc}") from exc


_cluster_option = click.option(
    "--cluster", default=None, metavar="tcp://HOST:PORT", type=TEXT,
    help="A Dask scheduler (setting cluster, env POLICY_SEARCH_CLUSTER; --cluster '' for none).")


def _connected(address: str):
    """A client of the Dask scheduler at ``address``, its workers and dashboard told on stderr."""
    from indexer.cluster import ClusterUnreachable, connect, dashboard, worker_threads, workers

    try:
        client = connect(address)
    except ClusterUnreachable as exc:
        raise click.ClickException(printable(str(exc))) from exc
    board = dashboard(client)
    click.echo(f"Dask cluster {printable(address)}: {counted(len(workers(client)), 'worker')}, "
               f"{counted(worker_threads(client), 'thread')}" + (f"; dashboard {printable(board)}" if board else ""), err=True)
    return client


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@_index_dir_option
@click.option("--rebuild", is_flag=True, help="Re-read every file instead of only new and changed ones.")
@_cluster_option
@click.option("--shards", type=click.IntRange(1, 256), default=None,
              help="Split the reports into N shard indexes (stable by report id) that a cluster serves; "
                   "a sharded index keeps its number unless --rebuild is given with another.")
@click.option("--userdict", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Extra jieba user dictionary (corpus/userdict.txt is always used when present).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (every skipped file, with its reason).")
@_pdf_password_option
def index(paths: tuple[Path, ...], index_dir: Path | None, rebuild: bool, cluster: str | None, shards: int | None,
          userdict: Path | None, as_json: bool, pdf_passwords: tuple[str, ...]) -> None:
    """Build or update the index from corpus files or folders (default: the bundled corpus/).

    Incremental by content hash: new files are added, changed ones re-read, files no longer in the
    corpus removed. A file that cannot be read is skipped with its reason (a previously indexed
    version is kept). The previous index stays searchable until the update is committed. A damaged
    index is not updated: --rebuild replaces it.

    Where reports came from: a sources.csv in a corpus folder (columns file, url, title, issuer,
    publisher, date, doc_number; or 文件, 网址, 标题, 发文机关, 发布机构, 日期, 文号) or a
    <file>.meta.json beside a file gives what the text does not state; a row that cannot be used is
    named with its line. Exit status: 0 when every file was indexed, 1 when some were skipped, a
    sidecar row was not applied or the run failed, 2 for usage errors.

    With --cluster the batches are built by the Dask cluster's workers (the index equals a local
    build); they read the corpus and write the index folder where they see them (shared storage),
    else they ship the segments back. A worker lost mid-build: its batches run on another; a build
    that cannot finish keeps the previous index.
    """
    from indexer.store.layout import IndexMissing, shard_folders
    from indexer.indexing.shards import ShardsMismatch, update_sharded
    from indexer.indexing.update import IndexBusy, IndexRunFailed, default_progress, update_index

    settings = _settings(index=index_dir, userdict=userdict, pdf_passwords=pdf_passwords or None, cluster=cluster)
    roots = list(paths) or [settings.corpus]
    if not paths and not settings.corpus.is_dir():
        raise click.UsageError(f"the corpus {printable(str(settings.corpus), SHOWN_CHARS)} is not a directory: "
                               "give the files or folders to index, or set corpus")
    _require_index_folder(settings.index)
    try:
        existing = shard_folders(settings.index)
    except IndexMissing as exc:
        raise click.ClickException(printable(str(exc))) from exc
    client = _connected(settings.cluster) if settings.cluster else None
    options = dict(rebuild=rebuild, userdict=settings.userdict, max_chars=settings.max_chunk_chars,
                   limits=ReadLimits.from_settings(settings), cluster=client)
    try:
        if shards is not None or existing is not None:
            def shard_bar(k: int, n: int, total: int):
                return None if as_json else default_progress(total, f"shard {k + 1}/{n}")

            summary = update_sharded(roots, settings.index, shards or len(existing), progress=shard_bar, **options)
        else:
            summary = update_index(roots, settings.index, progress=None if as_json else default_progress, **options)
    except ShardsMismatch as exc:
        raise click.UsageError(printable(str(exc))) from exc
    except (IndexBusy, IndexRunFailed, IndexMissing) as exc:  # IndexMissing: damaged (IndexDamaged)
        raise click.ClickException(printable(str(exc))) from exc
    except OSError as exc:
        raise click.ClickException(describe_os_error(exc, f"cannot write the index in {printable(str(settings.index))}")) from exc
    finally:
        if client is not None:
            client.close()
    if as_json:
        click.echo(to_json(summary.to_dict()))
    else:
        rebuilt = " (rebuilt)" if getattr(summary, "rebuilt", False) else ""
        sharded = shard_folders(settings.index)
        split = f" in {len(sharded)} shards" if sharded else ""
        click.echo(f"index {printable(str(settings.index))}: {summary.reports} reports, {summary.paragraphs} paragraphs"
                   f"{split}{rebuilt}")
        click.echo(f"  added {len(summary.added)}, updated {len(summary.updated)}, removed {len(summary.removed)}, "
                   f"unchanged {summary.unchanged}, skipped {len(summary.skipped)}")
        for done in getattr(summary, "recovered", []):
            click.echo(f"  {printable(done)}")
        for line in skipped_lines(summary.skipped) + sidecar_lines(summary.warnings):
            click.echo(line, err=True)
    sys.exit(1 if summary.skipped or summary.warnings else 0)


def _search_help() -> str:
    """``search --help``: the query syntax from its one source, query.SYNTAX."""
    from indexer.search.query import syntax_text

    # \b keeps click from re-wrapping the syntax table.
    return (f"Find every paragraph that contains QUERY.\n\n\b\n查询语法（Query language）:\n{syntax_text()}\n\n"
            "Exit status: 0 found, 1 nothing found (as grep, also with --json), 2 a bad query or option.")


@main.command(help=_search_help())
@click.argument("query", type=TEXT)
@_index_dir_option
@click.option("--limit", "-n", type=click.IntRange(1, 100), default=10, show_default=True, help="Hits per page.")
@click.option("--page", "-p", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "date", "report"]), default="relevance", show_default=True)
@click.option("--by-report", is_flag=True, help="Group hits by report.")
@click.option("--collapse", is_flag=True,
              help="Fold near-duplicate hits (the same paragraph copied into other reports) into the first of them.")
@click.option("--all", "every_hit", is_flag=True,
              help="Every hit, not one page (streamed, no cap; with --format, an export).")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", *EXPORT_FORMATS]), default="text", show_default=True,
              help="text, or the hits as rows (report title, region, city, province, year, 文号, issuer, date, "
                   "section, paragraph number, text, permalink): jsonl, csv, tsv, json, xlsx.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (replaced whole once complete) instead of standard output; xlsx needs it.")
@click.option("--base-url", default=None, metavar="URL",
              help="Where the rows' permalinks point (default: the setting base_url, else the local server).")
@click.option("--color", "color_when", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the matches: auto = on a terminal, unless NO_COLOR is set.")
@click.option("--marks", is_flag=True,
              help="Without colour, put 【】 around the matches (off by default: 文号 hold real 【】).")
@click.option("--json", "as_json", is_flag=True, help="The result page as one JSON object (hits, facets, counts).")
@_cluster_option
def search(query: str, index_dir: Path | None, limit: int, page: int, sort: str, by_report: bool, collapse: bool,
           every_hit: bool, fmt: str, output: Path | None, base_url: str | None, color_when: str, marks: bool, as_json: bool,
           cluster: str | None) -> None:
    from indexer.search.query import QueryError
    from indexer.search.shards import ShardUnsupported

    if as_json and fmt != "text":
        raise click.UsageError("--json and --format are two outputs: give one (--format json is the rows as a JSON array)")
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs --output FILE (a workbook is not text)")
    if by_report and (every_hit or fmt != "text"):
        raise click.UsageError("--by-report groups one page of hits: it does not go with --all or --format")
    if collapse and (by_report or every_hit or fmt != "text"):
        raise click.UsageError("--collapse folds one page of hits: it does not go with --by-report, --all or --format")
    if output is not None and fmt == "text":
        raise click.UsageError("--output writes an export: give --format too (jsonl, csv, tsv, json or xlsx)")
    settings = _settings(index=index_dir, base_url=base_url, cluster=cluster)
    engine = _search_engine(settings)
    color = color_when == "always" or (color_when == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    style = "color" if color else "marks" if marks else "plain"
    try:
        if every_hit:
            total, hits = engine.all_hits(query, sort=sort, highlights=fmt == "text")
            result = None
        else:
            result = engine.search(query, page=page, per_page=limit, sort=sort, by_report=by_report, collapse=collapse)
            total, hits = result.total, iter(result.hits)
    except ShardUnsupported as exc:
        raise click.UsageError(printable(exc.message)) from exc
    except QueryError as exc:
        _query_failed(exc, query, as_json)
    _shards_note(result)
    if as_json:
        click.echo(to_json(result.to_dict()))
        sys.exit(0 if total else 1)
    if result is not None and result.total and page > result.pages:
        raise click.UsageError(f"page {page} is past the last page ({result.pages} "
                               f"{'page' if result.pages == 1 else 'pages'} of {limit} "
                               f"{'report' if by_report else 'hit'}{'s' if limit > 1 else ''})")
    if fmt != "text":
        _export(hits, total, fmt, output, _permalink_of(settings))
        sys.exit(0 if total else 1)
    if result is None:
        click.echo(f"{counted(total, 'paragraph')} for {printable(engine.parse(query).folded_display() or query, SHOWN_CHARS)}"
                   " — every hit")
    else:
        unit = f"report {result.page}/{result.pages}" if by_report else f"page {result.page}/{result.pages}"
        folded = f", {result.collapsed} once near-duplicates are folded" if result.collapsed is not None else ""
        click.echo(f"{counted(result.total, 'paragraph')} in {counted(result.reports, 'report')}{folded} for "
                   f"{printable(result.folded or query, SHOWN_CHARS)} ({result.took_ms:.0f} ms) — {unit}")
    if result is not None and result.near:
        near = result.near
        click.echo(f"Near matches: {counted(near['total'], 'more paragraph')} hold {' · '.join(near['words'])} in order, "
                   f"at most {near['gap']} characters apart (not counted above): "
                   f"policy-search search {printable(near['query'])}")
    if total == 0:
        click.echo("No paragraph contains it. Try fewer or shorter terms, or drop a filter.")
        sys.exit(1)
    if result is not None and result.groups is not None:
        for group in result.groups:
            ref = group.report
            click.echo("")
            head = printable(f"{ref.display_title} · {ref.region or '—'} · {ref.year or '—'}") + \
                f" — {counted(group.count, 'paragraph')}"
            click.echo(click.style(head, bold=True) if color else head, color=color)
            for hit in group.hits:
                echo_hit(hit, style, with_report=False)
        return
    for hit in hits:
        echo_hit(hit, style, with_report=True)


def _query_failed(exc, query: str, as_json: bool):
    """Exit status 2 with the query error: JSON, or the message and a caret under the place."""
    from indexer.search.query import QueryTooLong

    if as_json:
        click.echo(to_json({"ok": False, "error": {"code": "bad_query", "message": exc.message, "query": query,
                                                   "position": exc.position}}))
        sys.exit(2)
    msg = f"检索式有误：{printable(exc.message)}"
    if isinstance(exc, QueryTooLong):
        msg += "（命令行：policy-search cite --quote -，从标准输入读入原文）"
    if exc.pointer() and len(query) <= SHOWN_CHARS:
        msg += "\n" + "\n".join(printable(line) for line in exc.pointer().split("\n"))
    raise click.UsageError(msg) from exc


def _write_whole(output: Path, write, what: str) -> None:
    """``write(f)`` into a file beside ``output``, renamed over it once complete: a failed or
    interrupted write leaves no half file in its place."""
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as f:
            write(f)
        os.replace(partial, output)
    except OSError as exc:
        raise click.ClickException(describe_os_error(exc, f"cannot write {what}")) from exc
    finally:
        partial.unlink(missing_ok=True)


def _export(hits, total: int, fmt: str, output: Path | None, permalink) -> None:
    """The hits as rows in ``fmt``, streamed to standard output or to ``output`` (written beside it
    and renamed once complete, so that a failed or interrupted export leaves no half file in its
    place); progress on a terminal's stderr."""
    from tqdm import tqdm

    from indexer.search.export import rows_of, text_chunks, write_xlsx

    shown = tqdm(hits, total=total, unit=" hits", file=sys.stderr, disable=not sys.stderr.isatty() or total < 1000,
                 desc="exporting")
    rows = rows_of(shown, permalink)
    if output is None:
        for chunk in text_chunks(rows, fmt):
            click.echo(chunk, nl=False)
        return
    def write(f) -> None:
        if fmt == "xlsx":
            write_xlsx(rows, f)
        else:
            for chunk in text_chunks(rows, fmt, bom=True):
                f.write(chunk.encode("utf-8"))

    _write_whole(output, write, "the export")
    click.echo(f"wrote {counted(total, 'hit')} to {printable(str(output))} ({fmt})", err=True)


@main.command()
@click.argument("paragraph_id", type=TEXT)
@_index_dir_option
@click.option("--context", "-C", type=click.IntRange(0, 20), default=1, show_default=True,
              help="Paragraphs to show before and after.")
@click.option("--json", "as_json", is_flag=True)
def show(paragraph_id: str, index_dir: Path | None, context: int, as_json: bool) -> None:
    """Print one paragraph (by the id search prints) in its report and section."""
    from indexer.search.engine import NotFound

    engine = _engine(_settings(index=index_dir))
    try:
        view = engine.paragraph(paragraph_id)
    except NotFound:
        raise click.ClickException(f"no paragraph with id {printable(repr(paragraph_id), SHOWN_CHARS)} in this index")
    before, after = [], []
    cur = view
    for _ in range(context):
        if not cur.previous_id:
            break
        cur = engine.paragraph(cur.previous_id)
        before.insert(0, cur)
    cur = view
    for _ in range(context):
        if not cur.next_id:
            break
        cur = engine.paragraph(cur.next_id)
        after.append(cur)
    if as_json:
        click.echo(to_json({"paragraph": view.to_dict(), "before": [p.to_dict() for p in before],
                            "after": [p.to_dict() for p in after]}))
        return
    ref = view.report
    click.echo(printable(f"{ref.display_title} · {ref.region or '—'} · {ref.year or '—'} · {ref.source}"))
    if view.section:
        click.echo(printable(" › ".join(view.section)))
    for p in before + [view] + after:
        mark = ">" if p.id == view.id else " "
        click.echo(f"{mark} ¶{p.ordinal} {printable(p.text)}")


@main.command()
@click.argument("item_id", metavar="ID", type=TEXT)
@_index_dir_option
@click.option("--limit", "-n", type=click.IntRange(1, 200), default=20, show_default=True,
              help="Relatives to list at most.")
@click.option("--min-share", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="Only relatives sharing at least this share of the paragraph's (the report's) characters.")
@click.option("--boilerplate", type=click.IntRange(min=1), default=None,
              help="For a report: a paragraph shared with more reports than this is boilerplate "
                   "(default: the setting boilerplate_reports, 10).")
@click.option("--json", "as_json", is_flag=True)
def similar(item_id: str, index_dir: Path | None, limit: int, min_share: float, boilerplate: int | None,
            as_json: bool) -> None:
    """What shares text with a paragraph or a report (同源段落), numbers and place names changed
    or not. For a paragraph id: the paragraphs of other reports sharing a passage with it, the
    most shared characters first, with what changed. For a report id: the reports sharing the most
    of its text (the share of its characters found in each, estimated from fingerprints), and how
    many of its paragraphs are original, shared or boilerplate."""
    from indexer.search.engine import NotFound

    settings = _settings(index=index_dir, boilerplate_reports=boilerplate)
    engine = _engine(settings)
    try:
        found = engine.similar(item_id, limit=limit, min_share=min_share)
    except NotFound:
        try:
            found = engine.report_similar(item_id, limit=limit, min_share=min_share,
                                          boilerplate_reports=settings.boilerplate_reports)
        except NotFound:
            raise click.ClickException(f"no paragraph or report with id {printable(repr(item_id), SHOWN_CHARS)} "
                                       "in this index") from None
        return _echo_report_relatives(found, as_json)
    if as_json:
        click.echo(to_json(found.to_dict()))
        return
    _rebuild_note(found.complete)
    if not found.relatives:
        click.echo("no paragraph of another report shares a passage with this one")
        return
    for rel in found.relatives:
        ref = rel.paragraph.report
        click.echo(printable(f"{rel.shared} shared characters ({rel.share:.0%}) · {ref.display_title} · "
                             f"{ref.region or '—'} · {ref.year or '—'} · {rel.paragraph.id}"))
        changes = [f"{c.a or '∅'}→{c.b or '∅'}（{c.kind}）" for passage in rel.passages for c in passage.changes]
        if changes:
            click.echo("  changed: " + printable("；".join(changes[:12]) + (" …" if len(changes) > 12 else "")))


def _rebuild_note(complete: bool) -> None:
    if not complete:
        click.echo("note: part of this index was built before text reuse was; rebuild it "
                   "(policy-search index --rebuild) to find relatives there", err=True)


def _echo_report_relatives(found, as_json: bool) -> None:
    if as_json:
        click.echo(to_json(found.to_dict()))
        return
    _rebuild_note(found.complete)
    standing = Counter(s for s, _ in found.status.values())
    click.echo(printable(f"{found.report.display_title}: {counted(len(found.status), 'paragraph')}, "
                         f"{standing['original']} original, {standing['shared']} shared, "
                         f"{standing['boilerplate']} boilerplate (shared with more than "
                         f"{found.boilerplate_reports} reports)"))
    if not found.relatives:
        click.echo("no other report shares text with this one")
        return
    for rel in found.relatives:
        ref = rel.report
        click.echo(printable(f"{rel.share:.1%} of its characters ({rel.shared}) in {counted(rel.passages, 'paragraph')} · "
                             f"{ref.display_title} · {ref.region or '—'} · {ref.year or '—'} · {ref.id}"))


@main.command()
@click.argument("filters", metavar="[FILTERS]", default="", type=TEXT)
@_index_dir_option
@click.option("--limit", "-n", type=click.IntRange(1, 500), default=20, show_default=True, help="Passages per page.")
@click.option("--page", "-p", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--pairs", is_flag=True,
              help="Instead: every pair of paragraphs of two reports sharing text, as CSV (report A, paragraph A, "
                   "report B, paragraph B, shared characters, share of A), for network analysis.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="With --pairs: write to this file (replaced whole once complete) instead of standard output.")
@click.option("--json", "as_json", is_flag=True)
def reuse(filters: str, index_dir: Path | None, limit: int, page: int, pairs: bool, output: Path | None,
          as_json: bool) -> None:
    """The most reused passages: paragraphs copied, numbers and places changed or not, into the
    most reports; each with the reports and regions that have it and the earliest report.
    FILTERS, in the query language, limit the reports counted: "region:青海 year:2021..2022"."""
    from indexer.search.query import QueryError

    if output is not None and not pairs:
        raise click.UsageError("--output writes the pairs: give --pairs too")
    engine = _engine(_settings(index=index_dir))
    try:
        chosen = engine.report_filters(filters)
    except QueryError as exc:
        _query_failed(exc, filters, as_json)
    if pairs:
        return _write_pairs(engine, chosen, output)
    found = engine.reuse(chosen, start=(page - 1) * limit, limit=limit)
    if as_json:
        click.echo(to_json(found.to_dict()))
        return
    _rebuild_note(found.complete)
    click.echo(f"{counted(found.total, 'passage')} in two or more reports"
               + (f" — page {page}/{max(1, -(-found.total // limit))}" if found.total else ""))
    for n, c in enumerate(found.clusters, start=found.start + 1):
        ref = c.earliest
        click.echo("")
        click.echo(printable(f"{n}. {counted(c.reports, 'report')}, {counted(c.regions, 'region')}, "
                             f"{counted(c.paragraphs, 'paragraph')}; earliest {ref.display_title} · "
                             f"{ref.region or '—'} · {ref.date or ref.year or '—'}"))
        click.echo("  " + printable(c.paragraph.text, 160))
        click.echo(f"  similar:{printable(c.paragraph.id)}")


def _write_pairs(engine, chosen, output: Path | None) -> None:
    from indexer.search.export import PAIR_COLUMNS, text_chunks

    from tqdm import tqdm

    written = 0
    bar = tqdm(unit=" reports", file=sys.stderr, disable=not sys.stderr.isatty(), desc="pairing")

    def done(n: int, of: int) -> None:
        bar.total = of
        bar.update(n - bar.n)

    def counted_rows():
        nonlocal written
        for row in engine.reuse_pairs(chosen, done=done):
            written += 1
            yield row
        bar.close()

    rows = counted_rows()
    if output is None:
        for chunk in text_chunks(rows, "csv", columns=PAIR_COLUMNS):
            click.echo(chunk, nl=False)
        return
    def write(f) -> None:
        for chunk in text_chunks(rows, "csv", bom=True, columns=PAIR_COLUMNS):
            f.write(chunk.encode("utf-8"))

    _write_whole(output, write, "the pairs")
    click.echo(f"wrote {counted(written, 'pair')} to {printable(str(output))} (csv)", err=True)


def _permalink_base(settings) -> str:
    """Where permalinks point: --base-url / POLICY_SEARCH_BASE_URL, else the local server address."""
    if settings.base_url:
        return settings.base_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def _local_links_warning(settings) -> str | None:
    """Without base_url the permalinks point at a local server that readers of a citation cannot
    open: the note that says so (on stderr, so that the citation itself pipes clean)."""
    if settings.base_url:
        return None
    return (f"the links point at the local server {_permalink_base(settings)}, which readers of your text cannot "
            "open; give --base-url (setting base_url) the public address")


def _permalink_of(settings):
    """pid -> its permalink (the server's /p/<id>), as the web UI and citations give it."""
    base = _permalink_base(settings)
    return lambda pid: f"{base}/p/{pid}"


@main.command()
@click.argument("paragraph_id", required=False, type=TEXT)
@_index_dir_option
@click.option("--format", "-f", "fmt", default="gbt7714", show_default=True, metavar="FORMAT", type=TEXT,
              help="gbt7714 | text | markdown | bibtex | ris | csl-json | all")
@click.option("--quote", "-q", "quote", default=None, metavar="TEXT", type=TEXT,
              help="Find the paragraph a quote comes from instead (use - to read it from stdin).")
@click.option("--limit", "-n", type=click.IntRange(1, 20), default=5, show_default=True, help="Quote matches to show.")
@click.option("--base-url", default=None, type=TEXT, help="URL prefix for permalinks (default: the local server).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def cite(paragraph_id: str | None, index_dir: Path | None, fmt: str, quote: str | None, limit: int,
         base_url: str | None, as_json: bool) -> None:
    """Cite a paragraph (by the id search prints), or find where a quote comes from.

    \b
      policy-search cite 000_0d8bbccb02c01f0a~2qkvku75b2               # GB/T 7714-2015
      policy-search cite 000_0d8bbccb02c01f0a~2qkvku75b2 -f bibtex
      policy-search cite --quote "行政机关负责人出庭应诉率为 89%"        # which paragraph is this?
    A quote found is 完全一致 (word for word once folded: width, punctuation, traditional
    characters and spaces aside) or 有出入, with the source shown and each difference in place
    ([-source-]{+quote+}, or red and green), changed numbers, dates, 文号 and places named
    (引文与原文不符：98% ≠ 89%). Exit status: 0 found, 1 未找到 (no paragraph holds most of the
    quote), 2 usage errors.
    """
    import datetime as dt

    from indexer.citations.formats import FORMATS, UnknownFormat, format_citation
    from indexer.citations.quote import THRESHOLD
    from indexer.search.engine import NotFound

    settings = _settings(index=index_dir, base_url=base_url)
    if (quote is None) == (paragraph_id is None):
        raise click.UsageError("give either a paragraph id or --quote TEXT")
    fmts = list(FORMATS) if fmt == "all" else [fmt]
    if fmt != "all" and fmt not in FORMATS:
        raise click.UsageError(printable(str(UnknownFormat(printable(fmt, SHOWN_CHARS)))))
    engine = _engine(settings)
    permalink = _permalink_of(settings)
    today = dt.date.today()

    def citations(pid: str) -> dict[str, str]:
        view = engine.paragraph(pid)
        meta = engine.report(view.report.id).meta
        return {f: format_citation(view, meta, permalink(pid), f, today) for f in fmts}

    if quote is not None:
        text = _stdin_text("the quote") if quote == "-" else quote
        matches = engine.quote(text, limit=limit)
        verdict = matches[0].verification["verdict"] if matches else "未找到"
        if as_json:
            click.echo(to_json({"ok": True, "found": bool(matches), "verdict": verdict, "matches": [
                dict(m.to_dict(), url=permalink(m.pid), citations=citations(m.pid)) for m in matches],
                "link_warning": _local_links_warning(settings)}))
        elif not matches:
            click.echo(f"未找到: not found in this corpus (no paragraph holds {THRESHOLD:.0%} of the quote)")
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        for m in [] if as_json else matches:
            view = engine.paragraph(m.pid)
            checked = m.verification
            click.echo("")
            click.echo(f"{checked['verdict']}  {m.score:.0%}  {printable(view.report.display_title)} · ¶{view.ordinal}  "
                       f"{printable(m.pid)}" + (f" (+ {len(m.pids) - 1} more paragraph)" if len(m.pids) > 1 else ""))
            if checked["verdict"] != "完全一致":
                click.echo("  " + printable(checked["summary"]))
            shown = shown_difference(checked["segments"], color)
            click.echo("  " + "\n  ".join(shown.split("\n")), color=color)
            for f, c in citations(m.pid).items():
                click.echo(("" if len(fmts) == 1 else f"[{f}]\n") + shown_citation(c))
        if matches and not as_json and _local_links_warning(settings):
            click.echo(f"note: {_local_links_warning(settings)}", err=True)
        sys.exit(0 if matches else 1)
    try:
        out = citations(paragraph_id)
    except NotFound:
        raise click.ClickException(f"no paragraph with id {printable(repr(paragraph_id), SHOWN_CHARS)} in this index")
    warning = _local_links_warning(settings)
    if as_json:
        click.echo(to_json({"ok": True, "id": paragraph_id, "url": permalink(paragraph_id), "citations": out,
                            "link_warning": warning}))
        return
    if warning:
        click.echo(f"note: {warning}", err=True)
    for f, c in out.items():
        if len(out) > 1:
            click.echo(f"[{f}]")
        click.echo(shown_citation(c))


def _stdin_text(what: str) -> str:
    """Standard input as text: UTF-8 (with or without BOM), else a usage error naming where it is not."""
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"{what} read from standard input is not UTF-8 "
                               f"(byte 0x{data[exc.start]:02x} at offset {exc.start:,})") from exc
    if "\0" in text:
        raise click.UsageError(f"{what} read from standard input has a NUL character (at offset {text.index(chr(0)):,})")
    return text


@main.command()
@click.option("--host", default=None, type=TEXT, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 8000; 0 picks a free one).")
@_index_dir_option
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), default=None,
              help="Corpus to build the index from when there is none (default: the bundled corpus/).")
@click.option("--base-url", default=None, type=TEXT, help="Public URL prefix for permalinks, e.g. https://search.example.org")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Serving processes sharing the port (default 1; setting server_workers). Each maps the same "
                   "index; one per core lets throughput grow with the cores.")
@_cluster_option
def serve(host: str | None, port: int | None, index_dir: Path | None, corpus_dir: Path | None,
          base_url: str | None, workers: int | None, cluster: str | None) -> None:
    """Serve the web UI with waitress (builds the index first if there is none).

    A sharded index (`index --shards N`) is served by a coordinator: with --cluster its shards are
    Dask actors on the cluster's workers (setting shard_replicas workers each), else they are opened
    in this process. Pages that need one index over the whole corpus (citations, text reuse, a
    quote's source) answer 501 there."""
    from indexer.store.layout import IndexMissing
    from webapp import create_app
    from webapp.server import create_bounded_server, run

    settings = _settings(host=host, port=port, index=index_dir, corpus=corpus_dir, base_url=base_url,
                         server_workers=workers, cluster=cluster)
    if settings.server_workers < 1:
        raise click.UsageError(f"setting 'server_workers': {settings.server_workers} is not a number of processes (≥ 1)")
    _require_index_folder(settings.index)
    try:
        engine = _sharded_to_serve(settings) or _index_to_serve(settings)
        if settings.server_workers > 1:
            if engine is not None:
                engine.close()  # every worker opens its own
            _serve_workers(settings)
            return
        try:
            app = create_app(settings, engine=engine)
        except IndexMissing as exc:  # damaged, or removed since it was checked
            raise click.ClickException(str(exc)) from None
        try:
            server = create_bounded_server(app, settings)
        except OSError as exc:  # port taken, address not on this machine, ...
            raise click.ClickException(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") \
                from None
        run(server, app, settings)
    except IndexMissing as exc:  # missing, outdated or damaged, as the message says
        raise click.ClickException(printable(str(exc))) from exc
    except OSError as exc:  # the port is taken, the address is not this machine's, ...
        raise click.ClickException(describe_os_error(exc, f"cannot serve on {printable(settings.host)}:{settings.port}")) from exc
    except ValueError as exc:  # waitress: "Invalid host/port specified."
        raise click.ClickException(f"cannot serve on {printable(settings.host)}:{settings.port}: {printable(str(exc))}") from exc


def _serve_workers(settings) -> None:
    from webapp.processes import WorkersFailed, run_workers

    try:
        run_workers(settings, settings.server_workers)
    except WorkersFailed as exc:
        raise click.ClickException(printable(str(exc))) from None


def _sharded_to_serve(settings):
    """A sharded index's coordinator (its shards on the cluster, or opened here), or None for an
    index of one shard. A sharded index is never built by serve: `index --shards N` builds it."""
    from indexer.search.opened import is_sharded
    from indexer.store.layout import IndexMissing

    try:
        sharded = is_sharded(settings.index)
    except IndexMissing as exc:
        raise click.ClickException(printable(str(exc))) from exc
    if not sharded and not settings.cluster:
        return None
    engine = _search_engine(settings)
    shards = engine.stats()["shards"]
    where = f"on the Dask cluster {printable(settings.cluster)}" if settings.cluster else "in this process"
    click.echo(f"Using sharded index {printable(str(settings.index))}: {shards['answered']} of {shards['total']} "
               f"shards {where}, {counted(shards['reports'], 'report')}")
    return engine


def _index_to_serve(settings):
    """The engine for serve when it has to be opened here (no corpus: an existing index as it is),
    else None after building or updating the index from the corpus when there is none yet; the
    app then opens it."""
    from indexer.search.engine import SearchEngine
    from indexer.store.layout import IndexDamaged, IndexMissing, IndexOutdated

    corpus = Path(settings.corpus)
    if corpus.is_dir():
        click.echo(f"Checking index {settings.index} (corpus {corpus}) …")
        _build_index_if_missing(settings)
        return None
    try:
        engine = SearchEngine.from_settings(settings)
    except IndexOutdated as exc:
        raise click.ClickException(f"{exc} (with --corpus DIR, serve rebuilds it)") from None
    except IndexDamaged as exc:
        raise click.ClickException(str(exc)) from None
    except IndexMissing:
        raise click.ClickException(
            f"no index in {settings.index}, and the corpus {corpus} to build it from is not a directory "
            "(use --corpus DIR or --index DIR)") from None
    click.echo(f"Using index {settings.index} (corpus {corpus} not found; not updating)")
    return engine


def _build_index_if_missing(settings) -> None:
    from indexer.indexing.update import IndexBusy, IndexRunFailed, default_progress, ensure_index

    corpus = Path(settings.corpus)
    try:
        summary = ensure_index([corpus], Path(settings.index), progress=default_progress,
                               userdict=settings.userdict, max_chars=settings.max_chunk_chars,
                               limits=ReadLimits.from_settings(settings))
    except (IndexBusy, IndexRunFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    if summary is None:
        click.echo(f"Using index {settings.index}")
        return
    for line in summary.recovered:
        click.echo(f"  {line}", err=True)
    click.echo(f"Built index {settings.index} from {corpus}: {summary.reports} reports, "
               f"{summary.paragraphs} paragraphs")
    for line in skipped_lines(summary.skipped) + sidecar_lines(summary.warnings):
        click.echo(line, err=True)


@main.command()
@_index_dir_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check(index_dir: Path | None, as_json: bool) -> None:
    """Verify every file of the index against the checksums recorded when it was written.

    Reads the whole index (sha256 of every file). Exit status: 0 when it is whole, 1 when a file is
    damaged or missing (each is named; `policy-search index --rebuild` mends it), 2 for usage errors.
    """
    from indexer.store.integrity import verify

    settings = _settings(index=index_dir)
    _require_index_folder(settings.index)
    shown = printable(str(settings.index))
    result = verify(settings.index, full=True)
    no_index = result.generation < 0
    advice = ("run `policy-search index` first" if no_index else "run `policy-search index --rebuild`")
    if as_json:
        click.echo(to_json({"ok": result.ok, "index": str(settings.index), "generation": result.generation,
                            "files": result.files, "bytes": result.bytes,
                            "problems": [p.to_dict() for p in result.problems],
                            **({} if result.ok else {"advice": advice})}))
    elif result.ok:
        click.echo(f"index OK: {result.files} files, {result.bytes / 1e6:.1f} MB verified ({shown}, generation "
                   f"{result.generation})")
    elif no_index:
        click.echo(f"Error: no index in {shown}: {advice}", err=True)
    else:
        for problem in result.problems:
            click.echo(f"  {printable(str(problem))}", err=True)
        click.echo(f"Error: the index in {shown} is damaged ({len(result.problems)} "
                   f"{'file' if len(result.problems) == 1 else 'files'}): {advice}", err=True)
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
