"""What cites what across one index generation: every 《title》 and 文号 a paragraph cites, linked
to the report it names when that report is in the corpus.

``CitationIndex.of(store)`` reads the generation's paragraph table (``store.exact.ExactStore``):
paragraph ids, folded texts, the report of each row and the reports' metadata. Only paragraphs that
contain a ``references.MARKERS`` character (found with the exact store) are scanned. The index
serves a most-cited page, "cited by" / "cites" lists and the ``cites:`` filter; labels (the
citation as first written) are read from the original text when an entry is first shown.
"""
from __future__ import annotations

import re

import threading
from dataclasses import dataclass, field

import numpy as np

from indexer.citations.references import (
    MARKERS, ReferenceLinker, article_value, extract_references, is_docno, scan_folded, title_key,
)
from indexer.normalise import fold_docno
from indexer.store.exact import ExactStore
from indexer.store.schema import rid_of


@dataclass
class CitedEntry:
    key: str
    kind: str  # "title" | "docno" | "article" (key: <title key>#<article>, e.g. …行政复议法#23)
    label: str  # as first written (original text, outer 《》 dropped); filled when shown
    pids: list[str] = field(default_factory=list)  # citing paragraphs, corpus order, each once
    reports: list[str] = field(default_factory=list)  # citing reports, each once
    report_id: str | None = None  # the cited document, when it is in the corpus

    @property
    def count(self) -> int:
        return len(self.pids)

    @property
    def article(self) -> str:
        """The article an "article" entry cites (23, 10-1), else ""."""
        return self.key.rpartition("#")[2] if self.kind == "article" else ""

    @property
    def report_count(self) -> int:
        return len(self.reports)

    def to_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "label": self.label, "count": self.count,
                "report_count": self.report_count, "report_id": self.report_id, "pids": self.pids,
                "reports": self.reports}


def entry_key(kind: str, key: str) -> str:
    return f"{kind}:{key}"


def entry_keys(value: str) -> list[str]:
    """Candidate entry keys for a user-typed citation (cites:… filter): 文号 first if it parses,
    an article when the value ends with one (行政复议法第二十三条)."""
    value = (value or "").strip()
    out = []
    article = article_value(value)
    if article is not None:
        out.append(entry_key("article", f"{article[0]}#{article[1]}"))
    if is_docno(value):
        out.append(entry_key("docno", fold_docno(value)))
    out.append(entry_key("title", title_key(value)))
    return out


_VERSION = re.compile(r"\([^()]*\)$")


def short_title_key(key: str) -> str:
    """A law's title key as its short name (行政复议法 is 中华人民共和国行政复议法)."""
    return key.removeprefix("中华人民共和国") or key


def loose_title_key(key: str) -> str:
    """A title key without the version in parentheses at its end (…纲要(2021-2025), …法(2023年修订))."""
    return _VERSION.sub("", key).strip()


# The ways a cited title is loosened to find what a user names, tried in turn.
_LOOSENINGS = (("short", short_title_key), ("version", lambda key: loose_title_key(short_title_key(key))))


def _grouping(kind: str, key: str, loosen) -> str:
    """An entry key with its title part loosened (``short_title_key``, ``loose_title_key``)."""
    if kind == "article":
        title, _, article = key.rpartition("#")
        return f"article:{loosen(title)}#{article}"
    return f"{kind}:{loosen(key)}"


def citing_candidates(store: ExactStore) -> np.ndarray:
    """Rows of the paragraphs that may cite something (those holding a marker), in report order."""
    rows = np.empty(0, dtype=np.int64)
    for marker in MARKERS:
        rows = np.union1d(rows, store.docs_containing(marker))
    return store.in_report_order(rows)


_SELF_MARKERS = ("本法第", "本条例第", "本规定第", "本办法第", "本细则第", "本决定第", "本规则第", "本准则第")


def _self_article_candidates(store: ExactStore) -> np.ndarray:
    """Rows that may cite an article of their own text (本法第十条, 本条例第五条)."""
    rows = [store.docs_containing(m) for m in _SELF_MARKERS]
    return np.unique(np.concatenate(rows)) if rows else np.empty(0, dtype=np.int64)


def citation_work(store: ExactStore) -> int:
    """An upper bound, read from the pair postings' counts alone, of the paragraphs
    ``CitationIndex.of`` reads: the occurrences of the markers."""
    return sum(part.piece.postings.unit_count(ord(m)) for part in store.parts for m in MARKERS)


@dataclass
class CitationIndex:
    entries: dict[str, CitedEntry]  # "title:<key>" / "docno:<key>" -> entry
    by_pid: dict[str, list[str]]  # citing paragraph -> entry keys, in text order
    store: ExactStore = field(repr=False, compare=False)  # where labels are read, when first shown
    # The index is shared by the server's threads; a label is filled in once, under this lock.
    _label_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _rank_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _rankings: dict = field(default_factory=dict, repr=False, compare=False)  # kind -> entries, most cited first
    _reports_maps: tuple | None = field(default=None, repr=False, compare=False)  # _per_report's, built once
    _loose: dict | None = field(default=None, repr=False, compare=False)  # matching's, built once

    @classmethod
    def of(cls, store: ExactStore, *, include_self: bool = False) -> "CitationIndex":
        """Every citation in the store's paragraphs. A report's mention of its own 文号 or title
        (letterheads, 信息公开 tables) is not counted unless ``include_self``."""
        linker = ReferenceLinker((r.rid, r.meta) for r in store.reports)
        entries: dict[str, CitedEntry] = {}
        by_pid: dict[str, list[str]] = {}
        markers = np.zeros(len(store), dtype=bool)
        markers[citing_candidates(store)] = True
        # 本法第十条 inside a law holds no marker: its rows are found through 本 … 条 as well.
        for row in _self_article_candidates(store).tolist():
            markers[row] = True
        for i in store.in_report_order(np.flatnonzero(markers)).tolist():
            report = store.reports[int(store.report_idx[i])]
            refs = scan_folded(store.folded_text(i), own_title=(report.meta or {}).get("title") or "")
            if not refs:
                continue
            pid = store.pid(i)
            rid = report.rid
            keys: list[str] = []
            for kind, _s, _e, key in refs:
                ek = entry_key(kind, key)
                entry = entries.get(ek)
                if entry is None:
                    rids = linker.link(kind, key)
                    entry = CitedEntry(key=key, kind=kind, label="", report_id=rids[0] if rids else None)
                    entries[ek] = entry
                if not include_self and entry.report_id == rid:
                    continue
                if ek in keys:
                    continue
                keys.append(ek)
                entry.pids.append(pid)
                if not entry.reports or entry.reports[-1] != rid:  # rows come grouped by report
                    entry.reports.append(rid)
            if keys:
                by_pid[pid] = keys
        entries = {k: e for k, e in entries.items() if e.pids}
        # Labels come from the original text of the first citing paragraph, read when an entry is shown.
        return cls(entries=entries, by_pid=by_pid, store=store)

    def _label_of(self, entry: CitedEntry) -> str:
        row = self.store.row_of(entry.pids[0])
        text = self.store.text(row) if row is not None else ""
        for r in extract_references(text):
            if r.kind == entry.kind and r.normalized == entry.key:
                return r.label
        return entry.key

    def _labelled(self, items: list[CitedEntry]) -> list[CitedEntry]:
        if all(e.label for e in items):
            return items
        with self._label_lock:
            for e in items:
                if not e.label:
                    e.label = self._label_of(e)
        return items

    def _ranked(self, kind: str | None) -> list[CitedEntry]:
        """Every entry (of ``kind``), most cited first, sorted once per index and shared."""
        with self._rank_lock:
            items = self._rankings.get(kind)
            if items is None:
                items = [e for e in self.entries.values() if kind is None or e.kind == kind]
                items.sort(key=lambda e: (-e.report_count, -e.count, e.key))
                self._rankings[kind] = items
            return items

    def most_cited(self, n: int | None = 50, kind: str | None = None, start: int = 0) -> list[CitedEntry]:
        """Most cited first: by citing reports, then citing paragraphs, then key; ``n`` of them
        from position ``start`` (all of them with ``n`` None)."""
        items = self._ranked(kind)
        return self._labelled(items[start:] if n is None else items[start:start + n])

    def count(self, kind: str | None = None) -> int:
        """How many documents are cited (of ``kind``): the length of the whole most-cited list."""
        return len(self._ranked(kind))

    def _per_report(self) -> tuple[dict[str, list[str]], dict[str, list[CitedEntry]]]:
        """(report -> the entry keys its paragraphs cite, in text order, each once; report -> the
        entries linked to it), built once on first use, so that a report page does not scan the
        whole corpus's citations."""
        with self._rank_lock:
            if self._reports_maps is None:
                cites: dict[str, dict[str, None]] = {}
                for pid, ks in self.by_pid.items():
                    cites.setdefault(rid_of(pid), {}).update(dict.fromkeys(ks))
                cited: dict[str, list[CitedEntry]] = {}
                for e in self.entries.values():
                    if e.report_id is not None:
                        cited.setdefault(e.report_id, []).append(e)
                self._reports_maps = ({r: list(ks) for r, ks in cites.items()}, cited)
            return self._reports_maps

    def cited_by(self, rid: str) -> list[CitedEntry]:
        """Entries that link to report ``rid`` (its "cited by" list: entry.pids cite it)."""
        return self._labelled(list(self._per_report()[1].get(rid, [])))

    def cites(self, rid: str) -> list[CitedEntry]:
        """What report ``rid`` cites (entries whose citing reports include it), in text order."""
        return self._labelled([self.entries[k] for k in self._per_report()[0].get(rid, [])])

    def matching(self, value: str) -> list[CitedEntry]:
        """Every entry a user's ``cites:`` value names: its 文号, title or article (行政复议法第二十三条)
        under any of the law's names (with or without 中华人民共和国, with or without 《》), else, for
        a title or an article, each one that is it but for a version in parentheses
        (法治政府建设实施纲要 names …纲要(2015-2020) and …纲要(2021-2025))."""
        article = article_value(value)
        if article is not None:
            kind, key = "article", f"{article[0]}#{article[1]}"
        elif is_docno(value):
            entry = self.get(value)
            return [entry] if entry is not None else []
        else:
            kind, key = "title", title_key(value)
        if not key.strip("#"):
            return []
        for name, loosen in _LOOSENINGS:
            found = self._grouped(name, loosen).get(_grouping(kind, key, loosen), [])
            if found:
                return self._labelled(list(found))
        return []

    def _grouped(self, name: str, loosen) -> dict[str, list[CitedEntry]]:
        """Title and article entries by their keys loosened one way, built once per way."""
        with self._rank_lock:
            if self._loose is None:
                self._loose = {}
            grouped = self._loose.get(name)
            if grouped is None:
                grouped = {}
                for e in self.entries.values():
                    if e.kind in ("title", "article"):
                        grouped.setdefault(_grouping(e.kind, e.key, loosen), []).append(e)
                self._loose[name] = grouped
            return grouped

    def articles_cited(self, rid: str) -> dict[str, list[CitedEntry]]:
        """The articles of legal text ``rid`` that the corpus cites: article (23, 10-1) -> the
        entries citing it (under each name it is cited by: 《行政复议法》, 《中华人民共和国行政复议法》)."""
        out: dict[str, list[CitedEntry]] = {}
        for e in self.cited_by(rid):
            if e.kind == "article":
                out.setdefault(e.article, []).append(e)
        return out

    def get(self, value: str) -> CitedEntry | None:
        """The entry for a title (with or without 《》) or a 文号 as a user types it."""
        for key in entry_keys(value):
            if key in self.entries:
                return self._labelled([self.entries[key]])[0]
        return None

    def to_dict(self, n: int | None = 50) -> dict:
        return {"documents": len(self.entries), "citing_paragraphs": len(self.by_pid),
                "most_cited": [e.to_dict() for e in self.most_cited(n)]}


def most_cited_svg(entries: list[CitedEntry], *, href=None, width: int = 640, bar_height: int = 22,
                   label_chars: int = 24) -> str:
    """A horizontal bar chart (inline SVG, no script) of citing-report counts for ``entries``
    (e.g. ``CitationIndex.most_cited(20)``). ``href(entry)`` -> link for each bar, or None."""
    from html import escape

    if not entries:
        return ('<svg xmlns="http://www.w3.org/2000/svg" class="cite-chart" width="%d" height="24" role="img" '
                'aria-label="没有引用"></svg>' % width)
    label_w = min(width // 2, 14 * label_chars)
    plot_w = width - label_w - 60
    top = max(e.report_count for e in entries) or 1
    rows = []
    for k, e in enumerate(entries):
        y = k * bar_height
        w = max(2, round(plot_w * e.report_count / top))
        label = e.label or e.key
        short = label if len(label) <= label_chars else label[: label_chars - 1] + "…"
        title = f"{label}：{e.report_count} 份报告，{e.count} 段"
        bar = (f'<text x="{label_w - 6}" y="{y + bar_height * 0.68:.1f}" text-anchor="end">{escape(short)}</text>'
               f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{bar_height - 6}" class="bar bar-{e.kind}"/>'
               f'<text x="{label_w + w + 6}" y="{y + bar_height * 0.68:.1f}" class="count">{e.report_count}</text>')
        link = href(e) if href else None
        inner = f"<title>{escape(title)}</title>{bar}"
        rows.append(f'<a href="{escape(link)}">{inner}</a>' if link else f"<g>{inner}</g>")
    height = bar_height * len(entries)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="cite-chart" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="被引最多的文件" font-size="13">'
            + "".join(rows) + "</svg>")
