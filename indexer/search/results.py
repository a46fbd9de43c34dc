"""What a search answers: hits, pages of them, grouped by report, paragraphs and reports to read,
retired paragraphs. Plain values, and ``to_dict`` the one way each becomes JSON."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from indexer.search.highlight import highlight_spans

UNKNOWN = "未知"  # the facet value of a report without a region, a year or a type


@dataclass
class ReportRef:
    id: str
    title: str
    region: str
    year: int | None
    source: str
    doc_type: str = ""
    date: str = ""
    city: str = ""
    province: str = ""
    doc_number: str = ""
    issuers: tuple[str, ...] = ()

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        bits = [self.region, f"{self.year}年" if self.year else "", self.doc_type or "报告"]
        return "".join(b for b in bits if b) + "（无标题）"


@dataclass
class Hit:
    id: str
    text: str
    section: list[str]
    highlights: list[list[int]]
    ordinal: int
    kind: str
    score: float
    report: ReportRef
    gap: int | None = None  # a near match's characters between its words (None: not a near match)
    similar: int | None = None  # near-duplicate paragraphs in other reports (None: not known yet)
    folded: int = 0  # near-duplicate hits folded into this one (a search that collapses them)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["report"] = {k: d["report"][k] for k in ("id", "title", "region", "year", "source", "doc_type", "date", "issuers")}
        return d


@dataclass
class ReportGroup:
    report: ReportRef
    count: int
    hits: list[Hit]


@dataclass
class SearchResult:
    query: str
    folded: str
    total: int
    reports: int
    page: int
    per_page: int
    sort: str
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    took_ms: float
    filters: dict
    groups: list[ReportGroup] | None = None
    group_total: int = 0  # reports on all pages, when grouped
    near: dict | None = None  # few exact hits: {"query": "~…", "words", "gap", "total"} more found by a near match
    ambiguous_regions: list[dict] = field(default_factory=list)  # [{"value", "places": [{"place", "count"}]}]
    collapsed: int | None = None  # hits left once near-duplicates are folded (None: not folded)
    collapse_pending: bool = False  # folding was asked for, but the reuse map is still being made
    shards: dict | None = None  # a sharded index's: {"answered", "total", "missing", "reports", "complete"}

    @property
    def pages(self) -> int:
        units = self.group_total if self.groups is not None else self.collapsed if self.collapsed is not None \
            else self.total
        return max(1, -(-units // self.per_page))

    def to_dict(self) -> dict:
        d = {
            "query": self.query, "folded": self.folded, "total": self.total, "reports": self.reports,
            "page": self.page, "per_page": self.per_page, "pages": self.pages, "sort": self.sort,
            "took_ms": round(self.took_ms, 1), "filters": self.filters,
            "facets": {k: [{"value": v, "count": c} for v, c in vals] for k, vals in self.facets.items()},
            "hits": [h.to_dict() for h in self.hits], "near": self.near,
            "ambiguous_regions": self.ambiguous_regions, "collapsed": self.collapsed,
            "collapse_pending": self.collapse_pending,
        }
        if self.shards is not None:
            d["shards"] = self.shards
        if self.groups is not None:
            d["groups"] = [{"report": asdict(g.report), "count": g.count, "hits": [h.to_dict() for h in g.hits]}
                           for g in self.groups]
        return d


@dataclass
class ParagraphView:
    id: str
    ordinal: int
    kind: str
    section: list[str]
    text: str
    report: ReportRef
    previous_id: str | None = None
    next_id: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ReportView:
    report: ReportRef
    meta: dict
    fmt: str
    path: str
    paragraphs: list[ParagraphView] = field(default_factory=list)  # [start, start + limit) of the report
    start: int = 0  # the position (0-based, in reading order) of paragraphs[0] in the report
    total_paragraphs: int = 0  # in the whole report, not just this page
    headings: list[ParagraphView] = field(default_factory=list)  # every heading of the whole report (its toc)

    def to_dict(self) -> dict:
        bare = lambda views: [{k: v for k, v in p.to_dict().items() if k != "report"} for p in views]  # noqa: E731
        return {"report": asdict(self.report), "meta": self.meta, "format": self.fmt,
                "start": self.start, "total_paragraphs": self.total_paragraphs,
                "paragraphs": bare(self.paragraphs), "headings": bare(self.headings)}


@dataclass
class ReportPage:
    """One page of the list of every report (``SearchEngine.report_page``)."""

    reports: list[ReportRef]  # [start, start + limit) of every report, in ``order``
    total: int  # reports in the whole index
    start: int = 0
    order: str = "year"

    def to_dict(self) -> dict:
        return {"reports": [asdict(r) for r in self.reports], "total": self.total, "start": self.start,
                "order": self.order}


class Pending(Exception):
    """A corpus-wide index is being built on a thread of its own (a serving engine's first use):
    try again shortly. ``code`` names it for a JSON answer."""

    code = "pending"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CitationsPending(Pending):
    code = "citations_pending"

    def __init__(self, paragraphs: int):
        super().__init__(f"正在统计全部 {paragraphs:,} 段中的引用关系（服务启动后首次使用需要一些时间），请稍后刷新")


class ReusePending(Pending):
    code = "reuse_pending"

    def __init__(self, paragraphs: int):
        super().__init__(f"正在比对全部 {paragraphs:,} 段中的相似段落（服务启动后首次使用需要一些时间），请稍后刷新")


class NotFound(KeyError):
    pass


@dataclass
class RetiredParagraph:
    """A paragraph id that is no longer live: its last known text and where it went."""

    id: str
    report_id: str
    text: str  # "" when the id was never indexed
    section: list[str]
    ordinal: int
    report: ReportRef | None  # None when the report itself left the corpus
    closest: list[tuple[ParagraphView, float]] = field(default_factory=list)
    # [start, end) spans of what differs: in the old text from the closest paragraph's, and in each
    # closest paragraph's text from the old one (parallel to ``closest``).
    old_changed: list[list[int]] = field(default_factory=list)
    changed: list[list[list[int]]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "report_id": self.report_id, "text": self.text, "section": self.section,
            "ordinal": self.ordinal, "report": asdict(self.report) if self.report else None,
            "closest": [{"paragraph": p.to_dict(), "similarity": round(score, 3), "changed": spans}
                        for (p, score), spans in zip(self.closest, self.changed)],
            "old_changed": self.old_changed,
        }


@dataclass
class ReportHits:
    """Every paragraph of one report that a query matches, in reading order."""

    folded: str  # the query as searched, after folding
    terms: list[str]  # its folded positive terms, for highlighting
    hits: list[tuple[int, str]]  # (ordinal, paragraph id)

    def highlights(self, text: str) -> list[list[int]]:
        """Spans of a paragraph's text where the query's terms occur."""
        return highlight_spans(text, self.terms)


@dataclass
class Suggestion:
    """A looser query that finds something; ``filters_dropped``: without the chosen filters."""

    query: str
    count: int
    filters_dropped: bool


@dataclass
class EmptyingFilter:
    """One filter dimension of a search that found nothing, without which it finds ``count``
    paragraphs: the no-results message names it (``suggest.emptying_filters``)."""

    dimension: str  # a Filters field: region, year, doc_type, report, section, docno, cites
    label: str  # in Chinese: 地区, 年份, …
    values: list[str]  # as written
    count: int


@dataclass(frozen=True)
class InTextReference:
    """A 《title》 or 文号 in a paragraph's text: where it is, what it names, and the report of the
    corpus it is (None when the corpus does not hold it)."""

    start: int
    end: int
    kind: str  # "title" | "docno" | "article"
    key: str
    raw: str
    report_id: str | None
    article: str = ""  # an article reference's article (23, 10-1)
    article_id: str | None = None  # the article's id (results.Article), when the corpus holds it


@dataclass(frozen=True)
class Article:
    """An article (条) of a legal text: its label (第二十三条), its key (23, 10-1) and its paragraphs
    (its 款, 项 and 目) in reading order."""

    id: str  # schema.article_id: stable while the article's text is (its permalink /p/<id>)
    report_id: str
    key: str
    label: str
    paragraphs: list[ParagraphView]

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paragraphs)

    def as_paragraph(self) -> ParagraphView:
        """The article as one paragraph (its permalink, its citation): its texts one a line, at its
        first paragraph's place."""
        first, last = self.paragraphs[0], self.paragraphs[-1]
        return ParagraphView(id=self.id, ordinal=first.ordinal, kind="body", section=list(first.section),
                             text=self.text, report=first.report, previous_id=first.previous_id,
                             next_id=last.next_id)

    def to_dict(self) -> dict:
        return {"report_id": self.report_id, "key": self.key, "label": self.label, "id": self.id, "text": self.text,
                "paragraphs": [p.to_dict() for p in self.paragraphs]}
