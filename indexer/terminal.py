"""What the command line puts on a terminal and takes from it: untrusted text (file names,
queries, the index's texts) escaped so that a control character cannot act, JSON that keeps a file
name's stray bytes, UTF-8 arguments, skipped files grouped by reason, and how a report outline, a
hit and a citation are printed. Apart from cli.py, so that the verbs there stay one call each.
"""
from __future__ import annotations

import json
import os
import unicodedata

import click

from indexer.model import ARTICLE_LABEL

SHOWN_PER_REASON = 5  # skipped files named per reason; the rest are counted (--json lists all)
SHOWN_CHARS = 200  # of an argument echoed in a message
# Shown escaped: control and format characters (a newline, ESC, a right-to-left override) and
# surrogates (bytes of a file name that are not UTF-8, kept by Python as U+DC80..U+DCFF).
ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def printable(text: str, limit: int | None = None) -> str:
    """text as it may be shown on a terminal: characters that would act instead of showing are
    written as Python writes them in a string literal (\\n, \\x1b, \\u202e; a byte that is not
    UTF-8 as \\xff); ``limit``: at most that many characters, then how many there were."""
    text = str(text)
    cut = limit is not None and len(text) > limit
    shown = text[:limit] if cut else text
    if any(unicodedata.category(ch) in ESCAPED_CATEGORIES for ch in shown):
        shown = "".join(_escaped(ch) if unicodedata.category(ch) in ESCAPED_CATEGORIES else ch for ch in shown)
    return shown + (f"… ({len(text):,} characters)" if cut else "")


def _escaped(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return repr(ch)[1:-1]  # \\n, \\x1b, \\u202e, \\ud800


def to_json(data) -> str:
    """JSON with the text as it is; a byte of a file name that is not UTF-8 (a surrogate, which
    cannot be written as UTF-8) as its \\udcXX escape, which Python's json reads back exactly."""
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")


def not_text_reason(value: str) -> str | None:
    """Why value cannot be taken as text (bytes that are not UTF-8, a NUL), or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = value[exc.start:exc.end]
        if all(0xDC80 <= ord(ch) <= 0xDCFF for ch in bad):
            return f"has bytes that are not UTF-8 ({printable(bad)})"
        return f"has a lone surrogate ({printable(bad)}), which is not text"
    if "\0" in value:
        return "has a NUL character"
    return None


class Utf8Text(click.ParamType):
    """A text argument (query, id, quote, URL): UTF-8, no NUL, else a usage error naming why."""

    name = "text"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        reason = not_text_reason(value)
        if reason:
            self.fail(f"{printable(value, SHOWN_CHARS)!s} {reason}; give it as UTF-8 text", param, ctx)
        return value


TEXT = Utf8Text()


def describe_os_error(exc: OSError, doing: str = "") -> str:
    """An OSError in words: what was being done, the file, the reason."""
    where = f" {printable(os.fsdecode(exc.filename))}" if exc.filename is not None else ""
    return f"{doing}{':' if doing and where else ''}{where}: {exc.strerror or exc}".lstrip(": ")


def sidecar_lines(warnings: list[tuple[str, str]]) -> list[str]:
    """A line for each sidecar row (or sidecar) that was not applied, naming it and why."""
    return [f"  not applied: {printable(source, SHOWN_CHARS)}: {printable(reason)}" for source, reason in warnings]


def skipped_lines(skipped: list[tuple[str, str]], per_reason: int = SHOWN_PER_REASON) -> list[str]:
    """Skipped files grouped by reason, most frequent first, each reason on one line naming up to
    per_reason files: a disk that fills up must not print one line per file of the corpus."""
    by_reason: dict[str, list[str]] = {}
    for source, reason in skipped:
        by_reason.setdefault(reason, []).append(source)
    lines = []
    for reason, sources in sorted(by_reason.items(), key=lambda item: -len(item[1])):
        names = ", ".join(printable(s, SHOWN_CHARS) for s in sources[:per_reason])
        if len(sources) == 1:
            lines.append(f"  skipped {names}: {printable(reason)}")
            continue
        more = f" … and {len(sources) - per_reason} more" if len(sources) > per_reason else ""
        lines.append(f"  skipped {len(sources)} files: {printable(reason)}: {names}{more}")
    return lines


def echo_outline(report) -> None:
    meta = report.meta
    click.echo(click.style(f"== {printable(report.source)}", bold=True))
    for label, value in [
        ("title", meta.title), ("issuers", "、".join(meta.issuers)), ("doc number", meta.doc_number),
        ("date", meta.date), ("region", " ".join(x for x in (meta.province, meta.city, meta.region) if x)),
        ("year", meta.year or ""), ("type", meta.doc_type),
        ("versions", "；".join(f"{v['date']} {v['event']}" for v in meta.versions)), ("effective", meta.effective),
        ("validity", meta.validity),
    ]:
        if value:
            click.echo(f"  {label:<11} {printable(value)}")
    click.echo(f"  paragraphs  {len(report.paragraphs)}")
    articles = {}  # a legal text's articles, as the outline lists them: under their headings, one a line
    for p in report.paragraphs:
        if p.kind == "heading":
            indent = "  " * len(p.section)
            click.echo(f"{indent}{printable(p.text)}  [¶{p.ordinal}]")
        elif p.section and ARTICLE_LABEL.fullmatch(p.section[-1]) and p.section not in articles:
            articles[p.section] = p.ordinal
            click.echo(f"{'  ' * len(p.section)}{printable(p.section[-1])}  [¶{p.ordinal}]")


def counted(n: int, noun: str) -> str:
    """``1 report``, ``2 reports``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def highlighted(text: str, spans: list[list[int]], style: str) -> str:
    """text with its matches shown: ``style`` "color" (red, bold), "marks" (【】) or "plain"."""
    out, pos = [], 0
    for s, e in spans:
        out.append(printable(text[pos:s]))
        seg = printable(text[s:e])
        out.append(click.style(seg, fg="red", bold=True) if style == "color" else f"【{seg}】" if style == "marks" else seg)
        pos = e
    out.append(printable(text[pos:]))
    return "".join(out)


def shown_difference(segments: list[dict], color: bool) -> str:
    """A verified quote's source with the quote's differences in place: [-source-]{+quote+}, or in
    red and green on a terminal that shows colour."""
    out = []
    for seg in segments:
        text = printable(seg["text"])
        if seg["kind"] == "same":
            out.append(text)
        elif color:
            out.append(click.style(text, fg="red", strikethrough=True) if seg["kind"] == "del"
                       else click.style(text, fg="green", bold=True))
        else:
            out.append(f"[-{text}-]" if seg["kind"] == "del" else f"{{+{text}+}}")
    return "".join(out)


def echo_hit(hit, style: str, with_report: bool) -> None:
    ref = hit.report
    color = style == "color"  # click drops styles on a pipe unless told (--color always)
    if with_report:
        click.echo("")
        head = printable(f"{ref.display_title} · {ref.region or '—'} · {ref.year or '—'}")
        click.echo(click.style(head, bold=True) if color else head, color=color)
    if hit.section:
        click.echo("  " + printable(" › ".join(hit.section)))
    notes = [f"near match: {hit.gap} characters between the words"] if hit.gap is not None else []
    if hit.similar:
        notes.append(f"{hit.similar} similar in other reports")
    if hit.folded:
        notes.append(f"and {hit.folded} near-duplicate {'hit' if hit.folded == 1 else 'hits'} folded in: "
                     f"similar:{hit.id}")
    click.echo(f"  ¶{hit.ordinal}  {printable(hit.id)}" + "".join(f"  ({printable(n)})" for n in notes))
    click.echo("  " + highlighted(hit.text, hit.highlights, style), color=color)


def shown_citation(citation: str) -> str:
    """A citation as printed: its own lines (RIS, BibTeX, CSL-JSON have several) kept, anything
    else that would act on the terminal escaped."""
    return "\n".join(printable(line) for line in citation.rstrip("\n").split("\n"))
