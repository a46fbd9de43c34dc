"""Template helpers: highlighted text and snippets (every piece escaped; where a snippet starts and ends
is ``search.highlight``'s), chart rows (URLs: ``links``)."""
from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape

from indexer.search.highlight import snippet_bounds
from indexer.search.query import SYNTAX, SYNTAX_NOTE

MARK_TAGS = ("mark", "ins", "del")


UNSURE_OPEN = Markup('<span class="ocr-unsure" title="识别置信度低，请核对原件">')


def highlight(text: str, spans, tag: str = "mark", unsure=()) -> Markup:
    """The text with each span wrapped in <mark> (or <ins>, <del>), and the characters OCR read
    unsure (``unsure`` spans) in a span of their own inside; every piece of document text escaped."""
    if tag not in MARK_TAGS:
        raise ValueError(tag)
    open_, close = Markup(f"<{tag}>"), Markup(f"</{tag}>")
    out, pos = [], 0
    for s, e in spans or []:
        s, e = max(s, pos), min(e, len(text))
        if e <= s:
            continue
        out.append(_unsure(text, pos, s, unsure))
        out.append(open_ + _unsure(text, s, e, unsure) + close)
        pos = e
    out.append(_unsure(text, pos, len(text), unsure))
    return Markup("").join(out)


def _unsure(text: str, lo: int, hi: int, unsure) -> Markup:
    """text[lo:hi] escaped, its unsure characters marked."""
    out, pos = [], lo
    for s, e in sorted(unsure or []):
        s, e = max(s, pos), min(e, hi)
        if e <= s:
            continue
        out.append(escape(text[pos:s]))
        out.append(UNSURE_OPEN + escape(text[s:e]) + Markup("</span>"))
        pos = e
    out.append(escape(text[pos:hi]))
    return Markup("").join(out)


def linked(text: str, marks, references, unsure=()) -> Markup:
    """The text with the query's matches in <mark> and each reference it holds (a 《title》 or 文号:
    ``references``, dicts with start, end, url, title) a link in place; a mark that crosses a
    link's edge is cut there; the characters OCR read unsure (``unsure`` spans) marked. Every
    piece of document text escaped."""
    refs = sorted((r for r in references or [] if 0 <= r["start"] < r["end"] <= len(text)), key=lambda r: r["start"])
    out, pos = [], 0

    def plain(lo: int, hi: int) -> Markup:
        return highlight(text[lo:hi], _shifted(marks, lo, hi), unsure=_shifted(unsure, lo, hi))

    for r in refs:
        if r["start"] < pos:
            continue  # overlapping references: the first one keeps the text
        out.append(plain(pos, r["start"]))
        panel = Markup(' data-panel="{}"').format(r["panel"]) if r.get("panel") else Markup("")
        out.append(Markup('<a class="ref ref-{}" href="{}" title="{}"{}>').format(r["kind"], r["url"], r["title"], panel)
                   + plain(r["start"], r["end"]) + Markup("</a>"))
        pos = r["end"]
    out.append(plain(pos, len(text)))
    return Markup("").join(out)


def _shifted(spans, lo: int, hi: int) -> list[list[int]]:
    """The spans inside [lo, hi), relative to lo."""
    return [[max(s, lo) - lo, min(e, hi) - lo] for s, e in spans or [] if e > lo and s < hi]


def snippet(text: str, spans, tag: str = "mark") -> Markup:
    """A readable window around the first hit, cut at sentence ends, hits marked."""
    lo, hi = snippet_bounds(text, spans or [])
    inner = [[max(s, lo) - lo, min(e, hi) - lo] for s, e in spans or [] if e > lo and s < hi]
    body = highlight(text[lo:hi], inner, tag)
    return (Markup("…") if lo > 0 else Markup("")) + body + (Markup("…") if hi < len(text) else Markup(""))


def chart_rows(items, limit: int = 12) -> list[dict]:
    items = [i for i in items if i["count"] > 0][:limit]
    top = max((i["count"] for i in items), default=1) or 1
    return [dict(i, frac=i["count"] / top) for i in items]


def short(label: str, n: int = 8) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def page_window(page: int, pages: int, width: int = 2) -> list[int | None]:
    shown = sorted({1, pages, *range(max(1, page - width), min(pages, page + width) + 1)})
    out: list[int | None] = []
    for p in shown:
        if out and p - (out[-1] or 0) > 1:
            out.append(None)
        out.append(p)
    return out


def section_path(section) -> str:
    return " › ".join(section or [])


def install(app: Flask) -> None:
    app.jinja_env.filters.update(highlight=highlight, snippet=snippet, short=short, section_path=section_path,
                                 linked=linked)
    app.jinja_env.globals.update(chart_rows=chart_rows, page_window=page_window, syntax_rows=SYNTAX,
                                 syntax_note=SYNTAX_NOTE)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

