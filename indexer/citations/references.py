"""The documents a paragraph cites: 《…》 titles and 文号, linked to reports in the corpus.

Extraction runs on the folded text (``normalise.fold_with_offsets``), so full/half-width brackets,
〔〕[]［］【】 and spaces are already one form, and spans are mapped back onto the original text.

* Titles: 《…》 with nesting. Inside a title, 《…》 and <…>/〈…〉 may nest, so
  《关于批转<关于进一步做好行政机关负责人出庭应诉的通知>的请示》 is one title, and adjacent
  《A》《B》 are two. A 《 that is never closed (within ``MAX_TITLE`` characters or before the
  paragraph ends) is skipped, so titles after it are still found. The key (``title_key``) is the
  folded title without spaces and quotation marks, with brackets in one form (《》〈〉 inside -> <>,
  （）-> ()), dashes in one form and the 年 of a version range dropped: 《法治政府建设实施纲要（2021—2025 年）》,
  《法治政府建设实施纲要(2021-2025年)》 and 《法治政府建设实施纲要（2021—2025）》 share one key.
* 文号: issuer abbreviation + bracketed year + number + 号, brackets 〔〕 [] ［］ () 【】 and spaces
  folded: 盐法发〔2021〕1 号 -> 盐法发〔2021〕1号, 乐治委办(2020)9号 -> 乐治委办〔2020〕9号 (the key
  is ``normalise.fold_docno``). The bracket must hold exactly a four-digit year and be followed by a
  number and 号, so version ranges such as (2021—2025年) and dates such as 2021年5月 never match.
  The abbreviation is the run of Chinese characters before the bracket, cut after verbs and particles
  that introduce it (制发, 印发, 通过, 根据, 的, 和 ...): 10月21日制发乐司〔2020〕76号 -> 乐司〔2020〕76号.

Linking (``link_references``/``ReferenceLinker``) is conservative: a 文号 links to the report whose
meta ``doc_number`` folds equal; a title links to the report whose title key is equal, or, when the
only difference is a leading issuer name before 关于 (互助土族自治县人民政府关于… vs 关于…), to the
one report whose ``关于…`` part is equal and, if the citation names an issuer, whose issuers match.

``cited_by_index(engine)`` gathers every citation in the corpus: key -> citing paragraphs, label,
counts and the linked report, for a most-cited page and for "cited by" lists. Only paragraphs that
contain 《 or 号 (found with the exact store) are read.
"""
from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field

from indexer.normalise import fold, fold_docno, fold_with_offsets, original_span, tidy_spaces
from indexer.store.schema import rid_of

MAX_TITLE = 200
_OPEN, _CLOSE = "《", "》"

# Folded text: 〔〕 for every square-ish bracket, () for （）.
_DOCNO = re.compile(r"([\u3400-\u9fff]{1,16})([〔(])\s?((?:19|20)\d{2})\s?([〕)])\s?(\d{1,5})\s?号")
_DOCNO_LEADS = (
    "制发", "印发", "下发", "转发", "发布", "出台", "通过", "根据", "按照", "依据", "依照", "参照", "执行",
    "落实", "贯彻", "对照", "结合", "关于", "文件", "通知", "精神", "要求", "规定", "办法", "以及", "并",
    "的", "和", "与", "及", "或", "是", "对", "将", "在", "为", "据", "以", "由", "向", "即", "见", "等",
    "年", "月", "日",
)
_LEAD_RE = re.compile("|".join(sorted(map(re.escape, _DOCNO_LEADS), key=len, reverse=True)))
_QUOTES = re.compile(r"[“”‘’\"'「」『』]")
_DASHES = re.compile(r"[—–―─‐‑‒−~～〜\-]+")
_VERSION_YEAR = re.compile(r"\((\d{4})-(\d{4})年?\)")
_ISSUER_END = re.compile(r"(人民政府|政府|办公室|办公厅|委员会|党委|县委|市委|区委|省委|党组|法院|检察院|局|厅|部|委|办)$")


@dataclass(frozen=True)
class Reference:
    kind: str  # "title" | "docno"
    raw: str  # as written in the original text, brackets included
    normalized: str  # the key: title_key(title) or fold_docno(docno)
    start: int  # span of raw in the original text
    end: int

    @property
    def label(self) -> str:
        """For display: the title without its outer 《》, or the 文号, spaces tidied."""
        s = self.raw[1:-1] if self.kind == "title" and self.raw.startswith(_OPEN) else self.raw
        return tidy_spaces(s).strip()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["label"] = self.label
        return d


@dataclass(frozen=True)
class LinkedReference(Reference):
    report_id: str | None = None
    report_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["report_ids"] = list(self.report_ids)
        return d


# -- keys -------------------------------------------------------------------------------------------
def title_key(title: str) -> str:
    """The comparison key of a title (with or without its outer 《》)."""
    s = fold(title).strip()
    if s.startswith(_OPEN) and s.endswith(_CLOSE):
        s = s[1:-1]
    s = s.replace(" ", "").replace(_OPEN, "<").replace(_CLOSE, ">")
    s = _QUOTES.sub("", s)
    s = _DASHES.sub("-", s)
    s = _VERSION_YEAR.sub(r"(\1-\2)", s)
    return s.strip("。.,，;；:：、")


def docno_key(docno: str) -> str:
    return fold_docno(docno)


def _docno_prefix(run: str) -> str:
    """The issuer abbreviation at the end of a run of Chinese characters before a 文号 bracket."""
    cut = 0
    for m in _LEAD_RE.finditer(run):
        if m.end() < len(run):  # a lead word must leave at least one character
            cut = max(cut, m.end())
    prefix = run[cut:]
    return prefix[-10:]


# -- extraction ------------------------------------------------------------------------------------
def _scan_titles(folded: str) -> list[tuple[int, int]]:
    """[start, end) of each outermost 《…》 in the folded text (end after the closing 》)."""
    out: list[tuple[int, int]] = []
    n = len(folded)
    i = folded.find(_OPEN)
    while i != -1:
        depth = 0
        j = i
        limit = min(n, i + MAX_TITLE + 2)
        end = -1
        while j < limit:
            c = folded[j]
            if c == _OPEN:
                depth += 1
            elif c == _CLOSE:
                depth -= 1
                if depth == 0:
                    end = j + 1
                    break
            elif c == "\n":
                break
            j += 1
        if end != -1 and end - i > 2:
            out.append((i, end))
            i = folded.find(_OPEN, end)
        else:
            i = folded.find(_OPEN, i + 1)  # unclosed: skip this 《 and look for titles inside
    return out


def _scan_docnos(folded: str) -> list[tuple[int, int, str]]:
    """[start, end) and key of each 文号 in the folded text."""
    out = []
    for m in _DOCNO.finditer(folded):
        prefix = _docno_prefix(m.group(1))
        if not prefix:
            continue
        start = m.end(1) - len(prefix)
        raw = folded[start:m.end()]
        out.append((start, m.end(), fold_docno(raw)))
    return out


def scan_folded(folded: str) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, key) for every reference in already folded text, in text order."""
    refs = [("title", s, e, title_key(folded[s:e])) for s, e in _scan_titles(folded)]
    refs += [("docno", s, e, k) for s, e, k in _scan_docnos(folded)]
    refs = [r for r in refs if r[3]]
    refs.sort(key=lambda r: (r[1], r[2]))
    return refs


def extract_references(text: str) -> list[Reference]:
    """Every 《title》 and 文号 the text cites, in order, with spans into ``text``."""
    if not text or (_OPEN not in text and "号" not in text and "號" not in text):
        return []
    folded, origin = fold_with_offsets(text)
    out: list[Reference] = []
    for kind, s, e, key in scan_folded(folded):
        os_, oe = original_span(origin, s, e)
        out.append(Reference(kind=kind, raw=text[os_:oe], normalized=key, start=os_, end=oe))
    return out


# -- linking ---------------------------------------------------------------------------------------
def _guanyu_core(key: str) -> tuple[str, str]:
    """(issuer part, 关于… part) of a title key; ("", key) when there is no issuer before 关于."""
    k = key.find("关于")
    if k <= 0:
        return "", key
    head = key[:k]
    if len(head) > 30 or not _ISSUER_END.search(head):
        return "", key
    return head, key[k:]


class ReferenceLinker:
    """Links references to reports; build once for a corpus, use for many paragraphs."""

    def __init__(self, reports):
        self.by_docno: dict[str, list[str]] = {}
        self.by_title: dict[str, list[str]] = {}
        self.by_core: dict[str, list[tuple[str, set[str]]]] = {}
        for rid, meta in reports:
            meta = meta or {}
            dn = docno_key(meta.get("doc_number") or "")
            if dn:
                self.by_docno.setdefault(dn, []).append(rid)
            fields = meta.get("fields") if isinstance(meta.get("fields"), dict) else {}
            titles = [t for t in (meta.get("title"), fields.get("标题")) if t]
            issuers = {title_key(i) for i in (meta.get("issuers") or []) if i}
            cores: set[str] = set()
            for title in titles:
                key = title_key(title)
                if rid not in self.by_title.get(key, []):
                    self.by_title.setdefault(key, []).append(rid)
                head, core = _guanyu_core(key)
                if head:
                    issuers.add(head)
                if core.startswith("关于") and len(core) >= 8:
                    cores.add(core)
            for core in cores:
                self.by_core.setdefault(core, []).append((rid, issuers))

    def link(self, kind: str, key: str) -> list[str]:
        if kind == "docno":
            return list(dict.fromkeys(self.by_docno.get(key, [])))
        exact = self.by_title.get(key)
        if exact:
            return list(dict.fromkeys(exact))
        head, core = _guanyu_core(key)
        cands = self.by_core.get(core, [])
        if head:
            cands = [(rid, iss) for rid, iss in cands if head in iss]
        rids = list(dict.fromkeys(rid for rid, _ in cands))
        return rids if len(rids) == 1 else []

    def link_all(self, refs: list[Reference]) -> list[LinkedReference]:
        out = []
        for r in refs:
            rids = self.link(r.kind, r.normalized)
            out.append(LinkedReference(kind=r.kind, raw=r.raw, normalized=r.normalized, start=r.start, end=r.end,
                                       report_id=rids[0] if rids else None, report_ids=tuple(rids)))
        return out


def link_references(refs: list[Reference], reports) -> list[LinkedReference]:
    """Each reference with the report it names, or report_id None. ``reports``: [(rid, meta)]."""
    return ReferenceLinker(reports).link_all(refs)


def corpus_reports(engine) -> list[tuple[str, dict]]:
    return [(r.rid, r.meta) for r in engine.store.reports]


# -- the whole corpus ------------------------------------------------------------------------------
@dataclass
class CitedEntry:
    key: str
    kind: str  # "title" | "docno"
    label: str  # as first written (original text, outer 《》 dropped); filled when shown
    pids: list[str] = field(default_factory=list)  # citing paragraphs, corpus order, each once
    reports: list[str] = field(default_factory=list)  # citing reports, each once
    report_id: str | None = None  # the cited document, when it is in the corpus

    @property
    def count(self) -> int:
        return len(self.pids)

    @property
    def report_count(self) -> int:
        return len(self.reports)

    def to_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "label": self.label, "count": self.count,
                "report_count": self.report_count, "report_id": self.report_id, "pids": self.pids,
                "reports": self.reports}


@dataclass
class CitationIndex:
    entries: dict[str, CitedEntry]  # "title:<key>" / "docno:<key>" -> entry
    by_pid: dict[str, list[str]]  # citing paragraph -> entry keys, in text order
    engine: object = field(default=None, repr=False, compare=False)  # for labels, read lazily
    # The index is shared by the server's threads; a label is filled in once, under this lock.
    _label_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _labelled(self, items: list[CitedEntry]) -> list[CitedEntry]:
        if all(e.label for e in items):
            return items
        with self._label_lock:
            for e in items:
                if not e.label:
                    e.label = _label_for(self.engine, e) if self.engine is not None else e.key
        return items

    def most_cited(self, n: int | None = 50, kind: str | None = None) -> list[CitedEntry]:
        """Most cited first: by citing reports, then citing paragraphs, then key."""
        items = [e for e in self.entries.values() if kind is None or e.kind == kind]
        items.sort(key=lambda e: (-e.report_count, -e.count, e.key))
        return self._labelled(items if n is None else items[:n])

    def cited_by(self, rid: str) -> list[CitedEntry]:
        """Entries that link to report ``rid`` (its "cited by" list: entry.pids cite it)."""
        return self._labelled([e for e in self.entries.values() if e.report_id == rid])

    def cites(self, rid: str) -> list[CitedEntry]:
        """What report ``rid`` cites (entries whose citing reports include it), in text order."""
        keys = [k for pid, ks in self.by_pid.items() if rid_of(pid) == rid for k in ks]
        return self._labelled([self.entries[k] for k in dict.fromkeys(keys)])

    def get(self, value: str) -> CitedEntry | None:
        """The entry for a title (with or without 《》) or a 文号 as a user types it."""
        for key in entry_keys(value):
            if key in self.entries:
                return self._labelled([self.entries[key]])[0]
        return None

    def to_dict(self, n: int | None = 50) -> dict:
        return {"documents": len(self.entries), "citing_paragraphs": len(self.by_pid),
                "most_cited": [e.to_dict() for e in self.most_cited(n)]}


def entry_key(kind: str, key: str) -> str:
    return f"{kind}:{key}"


def entry_keys(value: str) -> list[str]:
    """Candidate entry keys for a user-typed citation (cites:… filter): 文号 first if it parses."""
    value = (value or "").strip()
    out = []
    folded = fold(value)
    if _DOCNO.fullmatch(folded.replace(" ", "")):
        out.append(entry_key("docno", fold_docno(value)))
    out.append(entry_key("title", title_key(value)))
    return out


def _candidate_rows(store):
    import numpy as np

    a = store.docs_containing(_OPEN)
    b = store.docs_containing("号")
    return np.union1d(a, b)


def cited_by_index(engine, *, include_self: bool = False) -> CitationIndex:
    """Every citation in the corpus. A report's mention of its own 文号 or title (letterheads,
    信息公开 tables) is not counted unless ``include_self``."""
    store = engine.store
    linker = ReferenceLinker(corpus_reports(engine))
    entries: dict[str, CitedEntry] = {}
    by_pid: dict[str, list[str]] = {}
    for i in _candidate_rows(store).tolist():
        folded = store.folded_text(i)
        refs = scan_folded(folded)
        if not refs:
            continue
        pid = store.pids[i]
        rid = store.reports[int(store.report_idx[i])].rid
        keys: list[str] = []
        for kind, s, e, key in refs:
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
    return CitationIndex(entries=entries, by_pid=by_pid, engine=engine)


def _label_for(engine, entry: CitedEntry) -> str:
    try:
        text = engine.paragraph(entry.pids[0]).text
    except Exception:  # noqa: BLE001 - label only
        text = ""
    for r in extract_references(text):
        if r.kind == entry.kind and r.normalized == entry.key:
            return r.label
    return entry.key


def paragraphs_citing(engine, value: str):
    """Sorted exact-store indices of paragraphs citing ``value`` (a title or 文号), for a cites: filter."""
    import numpy as np

    store = engine.store
    wanted = set(entry_keys(value))
    folded = fold(value).replace(" ", "")
    if not folded:
        return np.empty(0, dtype=np.int64)
    # Preselect by the longest run of Chinese characters the citation must contain.
    runs = re.findall(r"[\u3400-\u9fff]+", folded.replace(_OPEN, "").replace(_CLOSE, ""))
    anchor = max(runs, key=len) if runs else ""
    cand = store.docs_containing(anchor[:12]) if anchor else _candidate_rows(store)
    keep = []
    for i in cand.tolist():
        for kind, _s, _e, key in scan_folded(store.folded_text(i)):
            if entry_key(kind, key) in wanted:
                keep.append(i)
                break
    return np.array(keep, dtype=np.int64)


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
