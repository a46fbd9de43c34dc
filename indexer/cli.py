"""The policy-search command line. Thin: every verb calls the same API as the web app."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .config import ConfigError, load_settings
from .model import ReadError


def _settings(**overrides):
    try:
        return load_settings(overrides)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    """


def _echo_outline(report) -> None:
    meta = report.meta
    click.echo(click.style(f"== {report.source}", bold=True))
    for label, value in [
        ("title", meta.title), ("issuers", "、".join(meta.issuers)), ("doc number", meta.doc_number),
        ("date", meta.date), ("region", " ".join(x for x in (meta.province, meta.city, meta.region) if x)),
        ("year", meta.year or ""), ("type", meta.doc_type),
    ]:
        if value:
            click.echo(f"  {label:<11} {value}")
    click.echo(f"  paragraphs  {len(report.paragraphs)}")
    for p in report.paragraphs:
        if p.kind == "heading":
            indent = "  " * len(p.section)
            click.echo(f"{indent}{p.text}  [¶{p.ordinal}]")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
@click.option("--max-chunk-chars", type=click.IntRange(min=50), default=None,
              help="Split longer paragraphs at sentence ends (default 1000).")
def parse(paths: tuple[Path, ...], as_json: bool, max_chunk_chars: int | None) -> None:
    """Read files into paragraphs with section paths and report metadata.

    Supports .txt .md .pdf .html .htm .docx. Exit status: 0 when every file was read, 1 when some
    were skipped (each named with its reason), 2 for usage errors.
    """
    from .parse import parse_file

    settings = _settings(max_chunk_chars=max_chunk_chars)
    failed = 0
    for path in paths:
        try:
            report = parse_file(path, max_chars=settings.max_chunk_chars)
        except ReadError as exc:
            failed += 1
            if as_json:
                click.echo(json.dumps({"source": str(path), "ok": False, "error": exc.reason}, ensure_ascii=False))
            else:
                click.echo(f"skipped {exc}", err=True)
            continue
        if as_json:
            click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        else:
            _echo_outline(report)
    sys.exit(1 if failed else 0)


def _index_dir_option(f):
    return click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None,
                        help="Index directory (default: index/ in the project; env POLICY_SEARCH_INDEX).")(f)


def _engine(settings):
    from .search import SearchEngine
    from .layout import IndexMissing

    try:
        return SearchEngine.from_settings(settings)
    except IndexMissing as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_index_dir_option
@click.option("--rebuild", is_flag=True, help="Re-read every file instead of only new and changed ones.")
@click.option("--userdict", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Extra jieba user dictionary (corpus/userdict.txt is always used when present).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def index(paths: tuple[Path, ...], index_dir: Path | None, rebuild: bool, userdict: Path | None, as_json: bool) -> None:
    """Build or update the index from corpus files (default: the bundled corpus/).

    Incremental by content hash: new files are added, changed ones re-read, files no longer in the
    corpus removed. A file that cannot be read is skipped with its reason (a previously indexed
    version is kept). The previous index stays searchable until the update is committed.
    """
    from .layout import IndexDamaged
    from .writer import IndexBusy, default_progress, update_index

    settings = _settings(index=index_dir, userdict=userdict)
    roots = list(paths) or [settings.corpus]
    try:
        summary = update_index(roots, settings.index, rebuild=rebuild, userdict=settings.userdict,
                               max_chars=settings.max_chunk_chars, progress=None if as_json else default_progress)
    except (IndexBusy, IndexDamaged) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        click.echo(f"index {settings.index}: {summary.reports} reports, {summary.paragraphs} paragraphs")
        click.echo(f"  added {len(summary.added)}, updated {len(summary.updated)}, removed {len(summary.removed)}, "
                   f"unchanged {summary.unchanged}, skipped {len(summary.skipped)}")
        for source, reason in summary.skipped:
            click.echo(f"  skipped {source}: {reason}", err=True)
    sys.exit(1 if summary.skipped else 0)


def _highlight(text: str, spans: list[list[int]], color: bool) -> str:
    out, pos = [], 0
    for s, e in spans:
        out.append(text[pos:s])
        seg = text[s:e]
        out.append(click.style(seg, fg="red", bold=True) if color else f"【{seg}】")
        pos = e
    out.append(text[pos:])
    return "".join(out)


@main.command()
@click.argument("query")
@_index_dir_option
@click.option("--limit", "-n", type=click.IntRange(1, 100), default=10, show_default=True, help="Hits per page.")
@click.option("--page", "-p", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "date", "report"]), default="relevance", show_default=True)
@click.option("--by-report", is_flag=True, help="Group hits by report.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def search(query: str, index_dir: Path | None, limit: int, page: int, sort: str, by_report: bool, as_json: bool) -> None:
    """Find every paragraph that contains QUERY.

    \b
    Query language:
      出庭应诉率                 paragraphs containing the phrase, as Ctrl+F finds it
      2021年 行政复议            both terms (AND is implicit)
      复议 OR 诉讼  (or  复议 | 诉讼)   either term
      -临猗                      exclude paragraphs containing the term
      "双随机、一公开"            one literal term, spaces and punctuation included
      法律顾问 /s 村              both terms in one sentence (同句)
      region:互助  year:2021  year:2020..2022  type:报告  report:ID  section:复议  docno:互政〔2022〕4号
    Matching folds full/half width, punctuation variants, spaces between digits and Chinese
    (2021 年 = 2021年) and traditional/simplified characters (行政復議 = 行政复议).
    """
    from .query import QueryError

    settings = _settings(index=index_dir)
    engine = _engine(settings)
    try:
        result = engine.search(query, page=page, per_page=limit, sort=sort, by_report=by_report)
    except QueryError as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "error": {"code": "bad_query", "message": exc.message, "query": query,
                                                          "position": exc.position}}, ensure_ascii=False))
            sys.exit(2)
        msg = f"invalid query: {exc.message}"
        if exc.pointer():
            msg += "\n" + exc.pointer()
        raise click.UsageError(msg) from exc
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    color = sys.stdout.isatty()
    unit = f"report {result.page}/{result.pages}" if by_report else f"page {result.page}/{result.pages}"
    click.echo(f"{result.total} paragraphs in {result.reports} reports for {result.folded or query} "
               f"({result.took_ms:.0f} ms) — {unit}")
    if result.total == 0:
        click.echo("No paragraph contains it. Try fewer or shorter terms, or drop a filter.")
    if result.groups is not None:
        for group in result.groups:
            ref = group.report
            click.echo("")
            head = f"{ref.display_title} · {ref.region or '—'} · {ref.year or '—'} — {group.count} paragraphs"
            click.echo(click.style(head, bold=True) if color else head)
            for hit in group.hits:
                _echo_hit(hit, color, with_report=False)
        return
    for hit in result.hits:
        _echo_hit(hit, color, with_report=True)


def _echo_hit(hit, color: bool, with_report: bool) -> None:
    ref = hit.report
    if with_report:
        click.echo("")
        head = f"{ref.display_title} · {ref.region or '—'} · {ref.year or '—'}"
        click.echo(click.style(head, bold=True) if color else head)
    if hit.section:
        click.echo("  " + " › ".join(hit.section))
    click.echo(f"  ¶{hit.ordinal}  {hit.id}")
    click.echo("  " + _highlight(hit.text, hit.highlights, color))


@main.command()
@click.argument("paragraph_id")
@_index_dir_option
@click.option("--context", "-C", type=click.IntRange(0, 20), default=1, show_default=True,
              help="Paragraphs to show before and after.")
@click.option("--json", "as_json", is_flag=True)
def show(paragraph_id: str, index_dir: Path | None, context: int, as_json: bool) -> None:
    """Print one paragraph (by the id search prints) in its report and section."""
    from .search import NotFound

    engine = _engine(_settings(index=index_dir))
    try:
        view = engine.paragraph(paragraph_id)
    except NotFound:
        raise click.ClickException(f"no paragraph with id {paragraph_id!r} in this index")
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
        click.echo(json.dumps({"paragraph": view.to_dict(), "before": [p.to_dict() for p in before],
                               "after": [p.to_dict() for p in after]}, ensure_ascii=False))
        return
    ref = view.report
    click.echo(f"{ref.display_title} · {ref.region or '—'} · {ref.year or '—'} · {ref.source}")
    if view.section:
        click.echo(" › ".join(view.section))
    for p in before + [view] + after:
        mark = ">" if p.id == view.id else " "
        click.echo(f"{mark} ¶{p.ordinal} {p.text}")



def _permalink_base(settings) -> str:
    """Where permalinks point: --base-url / POLICY_SEARCH_BASE_URL, else the local server address."""
    if settings.base_url:
        return settings.base_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


@main.command()
@click.argument("paragraph_id", required=False)
@_index_dir_option
@click.option("--format", "-f", "fmt", default="gbt7714", show_default=True, metavar="FORMAT",
              help="gbt7714 | text | markdown | bibtex | ris | csl-json | all")
@click.option("--quote", "-q", "quote", default=None, metavar="TEXT",
              help="Find the paragraph a quote comes from instead (use - to read it from stdin).")
@click.option("--limit", "-n", type=click.IntRange(1, 20), default=5, show_default=True, help="Quote matches to show.")
@click.option("--base-url", default=None, help="URL prefix for permalinks (default: the local server).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def cite(paragraph_id: str | None, index_dir: Path | None, fmt: str, quote: str | None, limit: int,
         base_url: str | None, as_json: bool) -> None:
    """Cite a paragraph (by the id search prints), or find where a quote comes from.

    \b
      policy-search cite 000_0d8bbccb02c01f0a~2qkvku75b2               # GB/T 7714-2015
      policy-search cite 000_0d8bbccb02c01f0a~2qkvku75b2 -f bibtex
      policy-search cite --quote "行政机关负责人出庭应诉率为 89%"        # which paragraph is this?
    Exit status: 0 found, 1 quote not found in this corpus, 2 usage errors.
    """
    import datetime as dt

    from .cite import FORMATS, UnknownFormat, format_citation
    from .search import NotFound

    settings = _settings(index=index_dir, base_url=base_url)
    if (quote is None) == (paragraph_id is None):
        raise click.UsageError("give either a paragraph id or --quote TEXT")
    fmts = list(FORMATS) if fmt == "all" else [fmt]
    if fmt != "all" and fmt not in FORMATS:
        raise click.UsageError(str(UnknownFormat(fmt)))
    engine = _engine(settings)
    base = _permalink_base(settings)
    today = dt.date.today()

    def citations(pid: str) -> dict[str, str]:
        view = engine.paragraph(pid)
        meta = engine.report(view.report.id).meta
        return {f: format_citation(view, meta, f"{base}/p/{pid}", f, today) for f in fmts}

    if quote is not None:
        from .quote import find_quote

        text = click.get_text_stream("stdin").read() if quote == "-" else quote
        matches = find_quote(engine, text, limit=limit)
        if as_json:
            click.echo(json.dumps({"ok": True, "found": bool(matches), "matches": [
                dict(m.to_dict(), url=f"{base}/p/{m.pid}", citations=citations(m.pid)) for m in matches]},
                ensure_ascii=False))
        elif not matches:
            click.echo("not found in this corpus (no paragraph shares at least half of the quote)")
        for m in [] if as_json else matches:
            view = engine.paragraph(m.pid)
            click.echo("")
            click.echo(f"{m.score:.0%}  {view.report.display_title} · ¶{view.ordinal}  {m.pid}"
                       + (f" (+ {len(m.pids) - 1} more paragraph)" if len(m.pids) > 1 else ""))
            click.echo("  " + m.matched_text.replace("\n", "\n  "))
            for f, c in citations(m.pid).items():
                click.echo(("" if len(fmts) == 1 else f"[{f}]\n") + c.rstrip("\n"))
        sys.exit(0 if matches else 1)
    try:
        out = citations(paragraph_id)
    except NotFound:
        raise click.ClickException(f"no paragraph with id {paragraph_id!r} in this index")
    if as_json:
        click.echo(json.dumps({"ok": True, "id": paragraph_id, "url": f"{base}/p/{paragraph_id}", "citations": out},
                              ensure_ascii=False))
        return
    for f, c in out.items():
        if len(out) > 1:
            click.echo(f"[{f}]")
        click.echo(c.rstrip("\n"))


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 8000; 0 picks a free one).")
@_index_dir_option
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), default=None,
              help="Corpus to build the index from when there is none (default: the bundled corpus/).")
@click.option("--base-url", default=None, help="Public URL prefix for permalinks, e.g. https://search.example.org")
def serve(host: str | None, port: int | None, index_dir: Path | None, corpus_dir: Path | None,
          base_url: str | None) -> None:
    """Serve the web UI with waitress (builds the index first if there is none)."""
    from webapp.server import run

    settings = _settings(host=host, port=port, index=index_dir, corpus=corpus_dir, base_url=base_url)
    run(settings)


if __name__ == "__main__":
    main()
