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
