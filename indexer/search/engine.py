"""The search API shared by the CLI and the web app: query -> hits, facets, reports, paragraphs.

``SearchEngine`` opens one committed generation and delegates: ``match`` (clauses -> paragraph
rows over the exact store), ``rank`` (the only module that touches Whoosh), ``reports`` (per-report
columns, filter masks, facets), ``highlight``, ``history`` and ``suggest``; results are ``results``'
plain values.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from indexer.search.highlight import highlight_spans
from indexer.search.history import paragraph_history
from indexer.search.match import TermCounts, matching_rows, ordered_candidates, ordered_gap
from indexer.search.query import (FACETS, SORTS, Composed, Filters, ParsedQuery, QueryError, with_filters,
                                  article_key, parse_query)
from indexer.search.rank import Ranker, open_searcher, open_stored_fields
from indexer.search.reports import ReportColumns
from indexer.search.deferred import Deferred
from indexer.search.passages import ReuseMap, ReusePage
from indexer.search.results import (Article, CitationsPending, ReusePending, EmptyingFilter, Hit, InTextReference, NotFound, ParagraphView, ReportGroup,
                                    ReportHits, ReportPage, ReportRef, ReportView, RetiredParagraph, SearchResult,
                                    Suggestion)
from indexer.search.similar import (BOILERPLATE_REPORTS, Relatives, ReportRelatives, relative_rows, relatives_of,
                                     report_relatives_of)
from indexer.search.suggest import emptying_filters, suggestions
from indexer.store.exact import ExactStore
from indexer.model import ARTICLE_LABEL
from indexer.store.schema import article_id, rid_of
from indexer.store.integrity import latest_generation, toc_name
from indexer.store.layout import open_index
from indexer.store.pieces import KIND_CODES, PieceMissing, missing_piece_damage

MAX_REPORT_HITS = 2000  # hits of one report that a report page marks
GROUP_HITS = 3  # hits shown under each report when grouped
ARTICLE_MAPS_KEPT = 4096  # legal texts whose article maps an engine keeps (a law has a few hundred articles)
SIMILAR_FIELD_RELATIVES = 100  # relatives (aligned, besides its near-duplicates) a similar: filter lets through
# the orders of the report list (``SearchEngine.report_page``): name -> sort key of report r, from
# the report columns (no report's row is decoded to sort)
REPORT_ORDERS = {
    "year": lambda c, r: (-int(c.years[r]), c.regions[r], c.rids[r]),  # newest first, as the home page lists them
    "id": lambda c, r: c.rids[r],
}


def index_identity(index_dir: Path) -> tuple | None:
    """What tells one committed index generation from any other at this path: the newest table of
    contents' generation, file identity (device, inode), mtime, size and a digest of its bytes. A
    rebuild starts again at the same generation number in a new folder, so the number alone would
    not tell it from the index it replaced; its table of contents is a new file, written with
    segment ids of its own. None if there is no table of contents (no index, or one mid-swap)."""
    try:
        generation = latest_generation(index_dir)
        if generation < 0:
            return None
        with open(Path(index_dir) / toc_name(generation), "rb") as f:
            st = os.fstat(f.fileno())
            digest = hashlib.blake2b(f.read(), digest_size=16).hexdigest()
    except OSError:  # replaced between listing and opening, or unreadable: nothing to compare
        return None
    return generation, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size, digest


NEAR_OFFER_BELOW = 5  # exact hits below which a one-phrase search also counts its near matches
NEAR_OFFER_MAX_CANDIDATES = 5_000  # paragraphs holding all its words that the offer reads at most (~0.1 s)


def _check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise ValueError(f"未知的排序方式 {sort!r}（可选：{'、'.join(SORTS)}）")


def _marked_terms(parsed: ParsedQuery) -> list[str]:
    """The terms a hit's text is marked at: every positive term, less the one-character words of
    a near match that has longer ones (一 of 一村 /8 一 /8 法律顾问 would mark every 一)."""
    skip = {t.folded for c in parsed.clauses if c.ordered and any(len(w.folded) > 1 for w in c.ordered)
            for t in c.ordered if len(t.folded) == 1}
    return [t.folded for t in parsed.positive_terms() if t.folded not in skip]


def _folded(order: np.ndarray, scores: np.ndarray, cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hits in ``order`` with each cluster's later hits folded into its first: (rows, scores,
    how many were folded into each)."""
    labels = cluster[order]
    key = np.where(labels >= 0, labels, -1 - order)  # a row in no cluster is a cluster of its own
    _, first, inverse, sizes = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    keep = np.zeros(order.size, dtype=bool)
    keep[first] = True
    return order[keep], scores[keep], (sizes[inverse] - 1)[keep]


class SearchEngine:
    """Opens an index once and answers queries; safe to share between threads."""

    def __init__(self, index_dir: Path, *, max_query_chars: int = 200, max_query_terms: int = 12, near_gap: int = 8):
        """Opening reads the segments' headers and a few per-paragraph columns, not the corpus
        (store.exact): a one-shot CLI call and a server open the same engine."""
        self.index_dir = Path(index_dir)
        self.max_query_chars = max_query_chars
        self.max_query_terms = max_query_terms
        self.near_gap = near_gap  # characters between the words of a near match (~phrase)
        self.serving = False  # a server's engine: slow first builds happen off the request (citations)
        self.citations_wait_rows = 0  # a serving engine builds the citation index in the request up to this work
        self.reuse_wait_keys = 2_000_000  # a serving engine makes the reuse map in the request up to this many fingerprints
        self.boilerplate_reports = BOILERPLATE_REPORTS  # a report's paragraph shared with more is boilerplate
        self._order_lock = threading.Lock()
        self._open()

    @classmethod
    def from_settings(cls, settings) -> "SearchEngine":
        engine = cls(settings.index, max_query_chars=settings.max_query_chars,
                     max_query_terms=settings.max_query_terms, near_gap=settings.near_gap)
        engine.reuse_wait_keys, engine.boilerplate_reports = settings.reuse_wait_fingerprints, settings.boilerplate_reports
        return engine

    def _open(self) -> None:
        seen_before = index_identity(self.index_dir)
        self.ix = open_index(self.index_dir)
        for attempt in range(5):
            # The searcher and the store must see one generation: the store is read from the
            # searcher's own segments. A writer that commits meanwhile may delete a merged
            # segment's piece before it is read; the newer generation is opened instead.
            self.searcher = open_searcher(self.ix)
            generation = self.searcher.reader().generation()
            self.generation = self.ix.latest_generation() if generation is None else generation
            # What this engine serves, as is_stale compares it. Unknown (None: stale at the next
            # check, so reopened) if the folder changed while it was opened.
            seen = index_identity(self.index_dir)
            self.identity = seen if seen == seen_before and seen is not None and seen[0] == self.generation else None
            try:
                self.store = ExactStore.open(self.searcher.reader(), self.index_dir)
                break
            except PieceMissing as exc:
                self.searcher.close()
                if attempt == 4:  # not a race: the piece is gone for good
                    raise missing_piece_damage(exc) from exc
                time.sleep(0.1 * (attempt + 1))
            except BaseException:
                self.searcher.close()
                raise
        open_stored_fields(self.searcher)
        self.columns = ReportColumns(self.store)
        self.ranker = Ranker(self.ix, self.searcher, self.store, self.columns)
        self.extra_words = self.ranker.extra_words  # the words this index's analyser adds to jieba's
        self._article_maps: dict[int, dict[str, list[int]]] = {}
        self._citations = Deferred(self._build_citations, self._citation_work, lambda: CitationsPending(len(self.store)),
                                   "policy-search-citations")
        self._reuse = Deferred(lambda: ReuseMap.of(self.store), self.store.reuse_fingerprint_count,
                               lambda: ReusePending(len(self.store)), "policy-search-reuse")
        self._orders: dict[str, list[int]] = {}  # REPORT_ORDERS name -> every report's number, sorted once

    def is_stale(self) -> bool:
        """Whether `policy-search index` has committed since this engine opened: a newer generation,
        or a rebuild, whose new folder took the index path with a generation of the same number.
        Judged by the identity of the newest table of contents (``index_identity``), not its number."""
        return index_identity(self.index_dir) != self.identity

    def reopened(self) -> "SearchEngine | None":
        """A new engine on the newest generation, or None if this one is current. The engine is
        never changed in place: threads still reading it see one consistent generation."""
        if not self.is_stale():
            return None
        fresh = SearchEngine(self.index_dir, max_query_chars=self.max_query_chars,
                             max_query_terms=self.max_query_terms, near_gap=self.near_gap)
        fresh.serving, fresh.citations_wait_rows = self.serving, self.citations_wait_rows
        fresh.reuse_wait_keys, fresh.boilerplate_reports = self.reuse_wait_keys, self.boilerplate_reports
        return fresh

    def close(self) -> None:
        self.searcher.close()

    # -- matching ---------------------------------------------------------------------------------
    def parse(self, q: str) -> ParsedQuery:
        return parse_query(q, max_chars=self.max_query_chars, max_terms=self.max_query_terms, near_gap=self.near_gap)

    def parse_with(self, q: str, filters: Filters | None = None) -> ParsedQuery:
        """The user's query (within the length limits) with filters chosen outside it (the UI's)."""
        return with_filters(self.parse, q, filters)

    def stats(self) -> dict:
        return {"reports": len(self.store.reports), "paragraphs": len(self.store), "generation": self.generation}

    def citations(self):
        """What cites what in this generation (``cited.CitationIndex``), built on first use: read
        from every paragraph that holds a 《 or a 号 (at 100k reports 1.3 million of them, two
        minutes of one core). A ``serving`` engine with more than ``citations_wait_rows`` of them to
        read builds it on a thread of its own and meanwhile raises CitationsPending, so that no
        request waits that long; otherwise the caller waits."""
        return self._citations.get(self.serving, self.citations_wait_rows)

    def _citation_work(self) -> int:
        from indexer.citations.cited import citation_work

        return citation_work(self.store)

    def _build_citations(self):
        from indexer.citations.cited import CitationIndex

        return CitationIndex.of(self.store)

    def quote(self, text: str, limit: int = 5):
        """The paragraphs a pasted quote comes from (``quote.QuoteMatch``), best first."""
        from indexer.citations.quote import find_quote

        return find_quote(self.store, text, limit=limit)

    def _paragraph_mask(self, name: str, value: str) -> np.ndarray:
        return self._citing_mask(value) if name == "cites" else self._similar_mask(value)

    def _similar_mask(self, pid: str) -> np.ndarray:
        """The paragraph ``pid`` (similar:), its near-duplicates (the reuse map's cluster) and its
        relatives (up to SIMILAR_FIELD_RELATIVES of them)."""
        i = self.store.row_of(pid)
        if i is None:
            raise QueryError(f"similar:{pid} 不是现有段落的编号（段落编号形如 <报告编号>~<10 个字母或数字>，"
                             "见段落的链接或 --json 的 id）", f"similar:{pid}", 0)
        keep = np.zeros(len(self.store), dtype=bool)
        keep[i] = True
        keep[self.reuse_map().rows_of(i)] = True  # a server making it answers ReusePending meanwhile
        keep[relative_rows(self.store, i, SIMILAR_FIELD_RELATIVES)] = True
        return keep

    def _citing_mask(self, value: str) -> np.ndarray:
        """Paragraphs citing ``value`` (a 文号, or a title with or without 《》); a report's own
        letterhead 文号 is not a citation of itself."""
        keep = np.zeros(len(self.store), dtype=bool)
        for entry in self.citations().matching(value):
            rows = [self.store.row_of(p) for p in entry.pids]
            keep[[i for i in rows if i is not None]] = True
        return keep

    def references_in(self, text: str, rid: str = "") -> list[InTextReference]:
        """The 《titles》, 文号 and articles (《行政复议法》第二十三条, inside a law 本法第十条) a
        paragraph's text cites, each with its span, the report in the corpus it names and, for an
        article the corpus holds, its first paragraph (None while a server's citation index is
        still being built); a report's mention of itself (``rid``) is left out, but not of its articles."""
        from indexer.citations.cited import entry_key
        from indexer.citations.references import extract_references, title_key

        r = self.store.rid_index.get(rid) if rid else None
        own_title = ((self.store.reports[r].meta or {}).get("title") or "") if r is not None else ""
        refs = extract_references(text, own_title=own_title)
        if not refs:
            return []
        try:
            entries = self.citations().entries
        except CitationsPending:
            entries = {}
        own_key = title_key(own_title) if own_title else None
        out = []
        for ref in refs:
            entry = entries.get(entry_key(ref.kind, ref.normalized))
            target = entry.report_id if entry is not None else None
            article = ref.normalized.rpartition("#")[2] if ref.kind == "article" else ""
            if article and target is None and own_key is not None and ref.normalized.rpartition("#")[0] == own_key:
                target = rid  # 本法第十条: not counted as a citation, but linked
            if target is not None and target == rid and not article:
                continue
            found = self.article(target, article) if article and target is not None else None
            out.append(InTextReference(ref.start, ref.end, ref.kind, ref.normalized, ref.raw, target, article,
                                       found.id if found is not None else None))
        return out

    def article(self, rid: str, key: str) -> Article | None:
        """Article ``key`` (23, 10-1) of legal text ``rid`` with its paragraphs; None when the report
        has no such article (or is not in the corpus)."""
        r = self.store.rid_index.get(rid)
        rows = self._articles_of(r).get(key) if r is not None else None
        if not rows:
            return None
        return Article(article_id(rid, [self.store.folded_text(i) for i in rows]), rid, key,
                       self.store.section(rows[0])[-1], [self._view(i) for i in rows])

    def article_by_id(self, aid: str) -> Article | None:
        """The live article whose id (``schema.article_id``: its report and whole text) is ``aid``."""
        r = self.store.rid_index.get(rid_of(aid))
        if r is None:
            return None
        for key, rows in self._articles_of(r).items():
            if article_id(self.store.reports[r].rid, [self.store.folded_text(i) for i in rows]) == aid:
                return self.article(self.store.reports[r].rid, key)
        return None

    def articles(self, rid: str) -> list[tuple[str, str, str, str]]:
        """(key, label, its first paragraph's id, its own id) of every article of report ``rid``, in
        reading order."""
        r = self.store.rid_index.get(rid)
        if r is None:
            return []
        return [(key, self.store.section(rows[0])[-1], self.store.pid(rows[0]),
                 article_id(rid, [self.store.folded_text(i) for i in rows]))
                for key, rows in self._articles_of(r).items()]

    def _articles_of(self, r: int) -> dict[str, list[int]]:
        """Report r's articles: key -> its rows (the first article of each number), read once from
        its paragraphs' section paths. The
        maps are shared by threads: a racing thread builds an equal one, and either is kept."""
        found = self._article_maps.get(r)
        if found is None:
            found = {}
            lo, hi = self.store.report_rows(r)
            last = None  # the article of the row before, as (its key, its section path)
            for i in range(lo, hi):
                section = tuple(self.store.section(i))
                key = article_key(section[-1]) if section and ARTICLE_LABEL.fullmatch(section[-1]) else None
                # A second article of one number (a second attached 办法's 第一条) is not the first's.
                if key is not None and (last == (key, section) or key not in found):
                    found.setdefault(key, []).append(i)
                last = (key, section)
            if len(self._article_maps) >= ARTICLE_MAPS_KEPT:
                self._article_maps = {}
            self._article_maps[r] = found
        return found

    def match(self, parsed: ParsedQuery, counts: TermCounts | None = None) -> np.ndarray:
        """Sorted indices (into the exact store) of every paragraph the query matches.

        ``counts``, if given, receives {folded term: (paragraph indices, occurrences)} for ranking.
        """
        return matching_rows(parsed, self.store, self.columns, self._paragraph_mask, counts)

    # -- results ----------------------------------------------------------------------------------
    def _hit(self, i: int, score: float, terms: list[str], keep: bool = True, near=None,
             reuse: ReuseMap | None = None, folded: int = 0) -> Hit:
        """Row i as a hit, its matches of ``terms`` marked; ``keep``: its report's ref is kept for
        the next request (an export passes False, so that memory does not grow with it); ``near``:
        the query's near-match clause, whose gap the hit reports; ``reuse``: the reuse map its
        count of near-duplicates comes from; ``folded``: near-duplicate hits folded into it."""
        text = self.store.text(i)
        r = int(self.store.report_idx[i])
        gap = ordered_gap(self.store.folded_text(i), tuple(t.folded for t in near.ordered), near.gaps) \
            if near is not None else None
        return Hit(gap=gap, similar=int(reuse.others[i]) if reuse is not None else None, folded=folded,
            id=self.store.pid(i), text=text, section=list(self.store.section(i)),
            highlights=highlight_spans(text, terms) if terms else [], ordinal=int(self.store.ordinals[i]),
            kind=self.store.kind(i), score=round(score, 4),
            report=self.columns.refs[r] if keep else self.columns.refs.peek(r),
        )

    def hit_at(self, i: int, score: float, terms: list[str], near=None) -> Hit:
        """Row i as a search hit (a shard builds its part of a sharded page with it)."""
        return self._hit(i, score, terms, near=near, reuse=self._reuse_if_ready())

    def search(self, q: str | ParsedQuery, *, page: int = 1, per_page: int = 10, sort: str = "relevance",
               by_report: bool = False, filters: Filters | None = None, collapse: bool = False) -> SearchResult:
        """One page of the hits of ``q`` (with ``filters`` besides the query's own), ranked or
        sorted, and the facet counts over all of them; ``collapse``: near-duplicate hits folded
        into the first of them (not with ``by_report``)."""
        started = time.perf_counter()
        _check_sort(sort)
        if page < 1 or per_page < 1 or per_page > 100:
            raise ValueError(f"page 应 ≥ 1，per_page 应在 1 到 100 之间（收到 page={page}，per_page={per_page}）")
        parsed = q if isinstance(q, ParsedQuery) else self.parse_with(q, filters)
        counts: TermCounts = {}
        hits = self.match(parsed, counts)
        terms = _marked_terms(parsed)
        near = parsed.near_clause()
        total = int(hits.size)
        # A report's rows are consecutive, so ascending hits change report only between reports.
        n_reports = 1 + int(np.count_nonzero(np.diff(self.store.report_idx[hits]))) if total else 0
        offset = (page - 1) * per_page
        groups = None
        group_total = 0
        collapsed = None
        reuse = self.reuse_map() if collapse and not by_report and not self.serving else self._reuse_if_ready()
        if by_report:
            order, scores = self._ordered(parsed, hits, sort, None, counts)
            first_rank: dict[int, int] = {}
            members: dict[int, list[tuple[int, float]]] = {}
            for rank, (i, s) in enumerate(zip(order.tolist(), scores.tolist())):
                r = int(self.store.report_idx[i])
                first_rank.setdefault(r, rank)
                members.setdefault(r, []).append((i, s))
            report_order = sorted(first_rank, key=first_rank.get)
            group_total = len(report_order)
            groups = [
                ReportGroup(self.columns.refs[r], len(members[r]),
                            [self._hit(i, s, terms, near=near, reuse=reuse) for i, s in members[r][:GROUP_HITS]])
                for r in report_order[offset: offset + per_page]
            ]
            page_hits = [h for g in groups for h in g.hits]
        elif collapse and reuse is not None:
            order, scores = self._ordered(parsed, hits, sort, None, counts)
            order, scores, folded = _folded(order, scores, reuse.cluster)
            collapsed = int(order.size)
            page_hits = [self._hit(int(order[k]), float(scores[k]), terms, near=near, reuse=reuse, folded=int(folded[k]))
                         for k in range(offset, min(offset + per_page, collapsed))]
        else:
            order, scores = self._ordered(parsed, hits, sort, offset + per_page, counts)
            page_hits = [self._hit(int(i), float(s), terms, near=near, reuse=reuse)
                         for i, s in zip(order[offset: offset + per_page], scores[offset: offset + per_page])]
        per_report = self.columns.hits_per_report(self.store.report_idx[hits])
        result = SearchResult(
            query=parsed.text, folded=parsed.folded_display(), total=total, reports=n_reports, page=page,
            per_page=per_page, sort=sort, hits=page_hits, facets=self.columns.facets(per_report),
            took_ms=(time.perf_counter() - started) * 1000, filters=parsed.filters.to_dict(), groups=groups,
            ambiguous_regions=self._ambiguous_regions(parsed.filters, per_report) if total else [],
            collapsed=collapsed, collapse_pending=collapse and not by_report and reuse is None,
        )
        result.group_total = group_total
        if total < NEAR_OFFER_BELOW:
            result.near = self._near_offer(parsed, total)
        return result

    def _ambiguous_regions(self, filters: Filters, per_report: np.ndarray) -> list[dict]:
        """Each region filter value that names more than one place among the hits (城中区: in 西宁市
        and in 柳州市), with the places and their hits: all of them are searched."""
        out = []
        for value in filters.region:
            places = self.columns.region_candidates(value, per_report)
            if places:
                out.append({"value": value, "places": [{"place": p, "count": n} for p, n in places]})
        return out

    def _near_offer(self, parsed: ParsedQuery, exact: int) -> dict | None:
        """For a one-phrase query with few exact hits: how many more paragraphs hold its words in
        order, each within ``near_gap`` characters of the one before (``~phrase``), counted apart
        from the exact total."""
        counted = self.near_counts(parsed)
        if counted is None or counted[1] > NEAR_OFFER_MAX_CANDIDATES:
            return None
        offer, _, loose_total = counted
        more = loose_total - exact
        return {**offer, "total": more} if more > 0 else None

    def near_counts(self, parsed: ParsedQuery, most: int = NEAR_OFFER_MAX_CANDIDATES) -> tuple[dict, int, int] | None:
        """The near-match offer's parts: (its query, words and gap; the paragraphs holding all its
        words; those the near match finds, exact hits among them), None for a query that has no
        looser form. With more than ``most`` candidates they are not read (0 found): reading every
        one would cost seconds, and ~phrase still can. A sharded index sums the parts."""
        if len(parsed.clauses) != 1 or len(parsed.clauses[0].any_of) != 1 or parsed.clauses[0].ordered:
            return None
        phrase = parsed.clauses[0].any_of[0]
        near_q = "~" + phrase.raw
        try:
            loose = self.parse(near_q)
        except QueryError:
            return None
        if not loose.clauses or not loose.clauses[0].ordered:
            return None  # one word: nothing looser
        loose.excluded, loose.filters = parsed.excluded, parsed.filters
        counts: TermCounts = {}  # the words' rows, found once for the bound and the match

        def docs(term: str) -> np.ndarray:
            if term not in counts:
                counts[term] = self.store.term_counts(term)
            return counts[term][0]

        offer = {"query": near_q, "words": [t.folded for t in loose.clauses[0].ordered], "gap": self.near_gap}
        candidates = int(ordered_candidates(loose.clauses[0], docs).size)
        if candidates > most:
            return offer, candidates, 0
        return offer, candidates, int(self.match(loose, counts).size)

    def all_hits(self, q: str | ParsedQuery, *, sort: str = "relevance", filters: Filters | None = None,
                 limit: int | None = None, highlights: bool = True) -> tuple[int, Iterator[Hit]]:
        """(the number of hits, every hit in order) of ``q``, for an export: matched and ordered
        here, once (a few bytes a hit); each hit is built, its text read, as the iterator reaches
        it, and nothing of it is kept. ``limit``: at most that many; ``highlights``: mark the
        matches (an export's rows do not need them). A malformed query raises QueryError here."""
        _check_sort(sort)
        parsed = q if isinstance(q, ParsedQuery) else self.parse_with(q, filters)
        counts: TermCounts = {}
        hits = self.match(parsed, counts)
        order, scores = self._ordered(parsed, hits, sort, limit, counts)
        terms = _marked_terms(parsed) if highlights else []
        near = parsed.near_clause()
        return int(order.size), (self._hit(i, s, terms, keep=False, near=near)
                                 for i, s in zip(order.tolist(), scores.tolist()))

    def _ordered(self, parsed: ParsedQuery, hits: np.ndarray, sort: str, limit: int | None, counts: TermCounts):
        if sort == "relevance":
            return self.ranker.ranked(parsed, hits, limit, counts)
        ridx = self.store.report_idx[hits]
        if sort == "date":
            keys = np.lexsort((self.store.ordinals[hits], ridx, -self.columns.date_keys[ridx]))
        else:
            keys = np.arange(hits.size)
        order = hits[keys]
        if limit is not None:
            order = order[:limit]
        return order, np.zeros(order.size)

    def count(self, q: str, filters: Filters | None = None) -> int:
        return int(self.match(self.parse_with(q, filters)).size)

    def facets(self, q: str, filters: Filters, of: SearchResult | None = None) -> dict[str, list[tuple[str, int]]]:
        """Facet counts of ``q`` with ``filters``, where a dimension that ``filters`` selects is
        counted without its own selection (so that its other values stay visible and selectable:
        OR within a dimension, AND across). ``of``: this search's result, whose facets are reused
        for the dimensions that need no search of their own. A dimension whose removal leaves
        nothing to search keeps its filtered counts."""
        full = of.facets if of is not None else None
        out = {}
        counts: TermCounts = {}  # each term is scanned once for all dimensions
        for facet in FACETS:
            others = filters.without(facet)
            if filters.selects(facet) and (q or not others.is_empty()):
                hits = self.match(self.parse_with(q, others), counts)
                out[facet] = self.columns.facet(facet, self.columns.hits_per_report(self.store.report_idx[hits]))
                continue
            if full is None:
                hits = self.match(self.parse_with(q, filters), counts)
                full = self.columns.facets(self.columns.hits_per_report(self.store.report_idx[hits]))
            out[facet] = full[facet]
        return out

    def suggestions(self, q: str, filters: Filters) -> list[Suggestion]:
        """Looser queries than ``q`` with ``filters`` that do find something (``suggest``)."""
        return suggestions(q, filters, self.parse, self.count)

    def emptying_filters(self, q: str, filters: Filters | None = None) -> list[EmptyingFilter]:
        """For a search that found nothing: the filter dimensions (the query's and ``filters``)
        without each of which it finds something (``suggest.emptying_filters``)."""
        return emptying_filters(self.parse_with(q, filters), lambda parsed: int(self.match(parsed).size))

    def query_highlights(self, text: str, q: str) -> list[list[int]]:
        """Spans of ``text`` where the positive terms of query ``q`` occur."""
        return highlight_spans(text, [t.folded for t in self.parse(q).positive_terms()])

    def report_hits(self, rid: str, q: str, limit: int = MAX_REPORT_HITS) -> ReportHits:
        """The first ``limit`` paragraphs of report ``rid`` (in reading order) that ``q`` matches,
        in one pass."""
        parsed = self.parse_with(q, Filters(report=[rid]))
        rows = self.match(parsed)[:limit]
        hits = sorted((int(self.store.ordinals[i]), self.store.pid(i)) for i in rows.tolist())
        return ReportHits(folded=parsed.folded_display(), terms=[t.folded for t in parsed.positive_terms()], hits=hits)

    # -- reading ------------------------------------------------------------------------------------
    def _view(self, i: int) -> ParagraphView:
        r = int(self.store.report_idx[i])
        lo, hi = self.columns.rows(r)
        return ParagraphView(
            id=self.store.pid(i), ordinal=int(self.store.ordinals[i]), kind=self.store.kind(i),
            section=list(self.store.section(i)), text=self.store.text(i), report=self.columns.refs[r],
            previous_id=self.store.pid(i - 1) if i - 1 >= lo else None,
            next_id=self.store.pid(i + 1) if i + 1 < hi else None,
        )

    def paragraph(self, pid: str) -> ParagraphView:
        """Paragraph ``pid``, or the article of a legal text whose id it is (as one paragraph)."""
        i = self.store.row_of(pid)
        if i is None:
            article = self.article_by_id(pid)
            if article is None:
                raise NotFound(pid)
            return article.as_paragraph()
        return self._view(i)

    def similar(self, pid: str, *, limit: int = 20, min_share: float = 0.0, candidates: int | None = None) -> Relatives:
        """The paragraphs of other reports that share a passage with paragraph ``pid`` (``similar``;
        ``candidates``: how many to align, by default a few times ``limit``)."""
        i = self.store.row_of(pid)
        if i is None:
            raise NotFound(pid)
        return relatives_of(self.store, self._view, i, limit=limit, min_share=min_share,
                            candidates=candidates)

    def has_report(self, rid: str) -> bool:
        return rid in self.store.rid_index

    def report_similar(self, rid: str, *, limit: int = 20, min_share: float = 0.0,
                       boilerplate_reports: int | None = None) -> ReportRelatives:
        """The reports sharing the most text with report ``rid``, and each of its paragraphs'
        standing: original, shared or boilerplate (``similar.report_relatives_of``)."""
        r = self.store.rid_index.get(rid)
        if r is None:
            raise NotFound(rid)
        return report_relatives_of(self.store, self.columns.refs.__getitem__, r, limit=limit, min_share=min_share,
                                   boilerplate_reports=boilerplate_reports or self.boilerplate_reports)

    def reuse_map(self) -> ReuseMap:
        """This generation's clusters of near-duplicate paragraphs (``passages.ReuseMap``), made
        on first use: by the caller, or by a serving engine with more than ``reuse_wait_keys``
        fingerprints on a thread of its own (ReusePending meanwhile)."""
        return self._reuse.get(self.serving, self.reuse_wait_keys)

    def _reuse_if_ready(self) -> ReuseMap | None:
        """The reuse map if it is made, else None: what a hit's 相似段落 N needs, which no search
        waits for (a serving engine starts making it; a command-line call makes it only when it
        folds near-duplicates or filters by similar:)."""
        if self._reuse.value is not None or not self.serving:
            return self._reuse.value
        try:
            return self.reuse_map()
        except ReusePending:
            return None

    def report_filters(self, text: str) -> Filters:
        """The filters of ``text`` in the query language (region:青海 year:2021): what lists of
        reports (``reuse``) take; a word to search for is a QueryError."""
        if not text.strip():
            return Filters()
        parsed = self.parse(text)
        if parsed.clauses or parsed.excluded:
            raise QueryError(f"这里只接受筛选条件（如 region:青海 year:2021..2022），不接受检索词：{text}", text, 0)
        return parsed.filters

    def reuse_pairs(self, filters: Filters | None = None, done=None) -> Iterator[dict]:
        """Every pair of paragraphs of two reports (both let through by ``filters``) that share
        text, once (from the report first in the store's order), as ``export.PAIR_COLUMNS`` rows:
        a report's relatives (``report_similar``) one report at a time, each pair as it is found.
        ``done(n, of)``, if given, hears after each report how many of how many are done."""
        mask = self.columns.mask(filters or Filters())
        wanted = range(len(self.columns)) if mask is None else np.flatnonzero(mask).tolist()
        for k, r in enumerate(wanted):
            if done is not None and k:
                done(k, len(wanted))
            ref = self.columns.refs.peek(r)
            found = report_relatives_of(self.store, self.columns.refs.peek, r, limit=None,
                                        boilerplate_reports=self.boilerplate_reports)
            for rel in found.relatives:
                other = self.store.rid_index[rel.report.id]
                if other <= r or (mask is not None and not mask[other]):
                    continue
                for pair in rel.pairs:
                    yield {"report_a": ref.id, "title_a": ref.display_title, "region_a": ref.region, "year_a": ref.year,
                           "paragraph_a": pair.a, "report_b": rel.report.id, "title_b": rel.report.display_title,
                           "region_b": rel.report.region, "year_b": rel.report.year, "paragraph_b": pair.b,
                           "shared": pair.shared, "share": pair.share}
        if done is not None:
            done(len(wanted), len(wanted))

    def reuse(self, filters: Filters | None = None, *, start: int = 0, limit: int = 20) -> ReusePage:
        """The most reused passages: clusters of near-duplicate paragraphs in two or more of the
        reports ``filters`` let through (only their report filters count), most reports first."""
        if start < 0 or limit < 0:
            raise ValueError(f"start and limit must be ≥ 0 (got {start}, {limit})")
        filters = filters or Filters()
        reuse = self.reuse_map()
        clusters, total = reuse.listing(self.store, self.columns, self._view, self.columns.mask(filters), start, limit)
        return ReusePage(clusters, total, start, filters.to_dict(), reuse.complete)

    def paragraph_history(self, pid: str, limit: int = 3) -> RetiredParagraph | None:
        """What became of a paragraph id that is not live (``history.paragraph_history``)."""
        def article_now(label: str) -> ParagraphView | None:
            key = article_key(label) if ARTICLE_LABEL.fullmatch(label) else None
            found = self.article(rid_of(pid), key) if key is not None else None
            return found.as_paragraph() if found is not None else None

        return paragraph_history(pid, self.ranker, self.store, self.columns, self._view, limit, article_now)

    def report(self, rid: str, *, start: int = 0, limit: int | None = None) -> ReportView:
        """A report with its paragraphs [start, start + limit) in reading order (all of them
        without ``limit``), its paragraph count and every heading (for a table of contents).
        Only the page's paragraphs and the headings are decompressed and built."""
        r = self.store.rid_index.get(rid)
        if r is None:
            raise NotFound(rid)
        if start < 0 or (limit is not None and limit < 0):
            raise ValueError(f"report {rid}: start and limit must be ≥ 0 (got {start}, {limit})")
        row = self.store.reports[r]
        lo, hi = self.columns.rows(r)
        first = min(lo + start, hi)
        last = hi if limit is None else min(first + limit, hi)
        heading = KIND_CODES["heading"]
        headings = (lo + np.flatnonzero(self.store.kinds[lo:hi] == heading)).tolist()
        return ReportView(report=self.columns.refs[r], meta=row.meta, fmt=row.fmt, path=row.path,
                          paragraphs=[self._view(i) for i in range(first, last)], start=first - lo,
                          total_paragraphs=hi - lo, headings=[self._view(i) for i in headings])

    def composed(self, form: Composed) -> ParsedQuery:
        """The advanced search form's query, parsed (QueryError when a box holds what the query
        language cannot say, e.g. year:20x1): ``.text`` is what goes in the search box."""
        return self.parse(form.query())

    def known_values(self, facet: str, limit: int = 500) -> list[str]:
        """A facet dimension's values over the whole corpus, most reports first: what the advanced
        search form offers to pick."""
        return self.columns.known_values(facet, limit)

    def reports(self) -> list[ReportRef]:
        """Every report, in the store's order (the report list pages use ``report_page``)."""
        return list(self.columns.refs)

    def _sorted_reports(self, order: str) -> list[int]:
        """Every report's number in ``order``, sorted once per engine (so once per generation) and
        shared read-only by the threads that ask."""
        if order not in REPORT_ORDERS:
            raise ValueError(f"unknown report order {order!r} (choose from {', '.join(REPORT_ORDERS)})")
        with self._order_lock:
            ordered = self._orders.get(order)
            if ordered is None:
                key = REPORT_ORDERS[order]
                ordered = self._orders[order] = sorted(range(len(self.columns)), key=lambda r: key(self.columns, r))
            return ordered

    def report_keys(self, order: str, end: int | None) -> tuple[list[tuple], int]:
        """The first ``end`` reports in ``order`` with their sort keys, and the number of reports:
        a sharded index merges its shards' lists by key."""
        ordered = self._sorted_reports(order)
        key = REPORT_ORDERS[order]
        return [(key(self.columns, r), self.columns.refs[r]) for r in ordered[:end]], len(ordered)

    def report_page(self, start: int = 0, limit: int | None = None, order: str = "year") -> ReportPage:
        """Reports [start, start + limit) of every report in ``order`` (``REPORT_ORDERS``: "year",
        newest first, then region and id; "id"), with the number of reports in all."""
        if start < 0 or (limit is not None and limit < 0):
            raise ValueError(f"start and limit must be ≥ 0 (got {start}, {limit})")
        ordered = self._sorted_reports(order)
        end = len(ordered) if limit is None else start + limit
        return ReportPage(reports=[self.columns.refs[r] for r in ordered[start:end]], total=len(ordered),
                          start=min(start, len(ordered)), order=order)
