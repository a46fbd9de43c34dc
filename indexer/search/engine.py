"""The search API shared by the CLI and the web app: query -> hits, reports, paragraphs.

Matching is exact (``exact.ExactStore``: every paragraph whose folded text contains the term);
ranking is Whoosh BM25F over jieba words, with boosts for words in the section heading and the
report title and for the words standing together as a phrase.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from whoosh.scoring import BM25F, bm25
from whoosh.util.numeric import byte_to_length

from indexer.analysis import segment_words, words as analyse_words
from indexer.store.exact import ExactStore
from indexer.normalise import fold, fold_docno, fold_with_offsets, original_span
from indexer.store.pieces import KIND_CODES, PieceMissing, missing_piece_damage
from indexer.search.query import Filters, ParsedQuery, QueryError, Term, parse_query
from indexer.store.integrity import latest_generation, toc_name
from indexer.store.layout import open_index
from indexer.store.schema import rid_of

SORTS = ("relevance", "date", "report")
# The best pre-ranked hits that Whoosh scores and the boosts re-rank: a fixed number, so that
# every page is cut from the same ranking.
RERANK_DEPTH = 30
BM25_K1, BM25_B = 1.2, 0.75
MAX_CACHED_IDFS = 100_000  # words whose idf an engine remembers
_UNSEEN = object()
_SENTENCE_SPLIT = re.compile(r"(?<=[。！？!?；;])")


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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["report"] = {k: d["report"][k] for k in ("id", "title", "region", "year", "source", "doc_type", "date")}
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

    @property
    def pages(self) -> int:
        units = self.group_total if self.groups is not None else self.total
        return max(1, -(-units // self.per_page))

    def to_dict(self) -> dict:
        d = {
            "query": self.query, "folded": self.folded, "total": self.total, "reports": self.reports,
            "page": self.page, "per_page": self.per_page, "pages": self.pages, "sort": self.sort,
            "took_ms": round(self.took_ms, 1), "filters": self.filters,
            "facets": {k: [{"value": v, "count": c} for v, c in vals] for k, vals in self.facets.items()},
            "hits": [h.to_dict() for h in self.hits],
        }
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


def _top_positions(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest values, ties broken by position, best first, without sorting
    all of them."""
    n = values.size
    if n <= k:
        return np.lexsort((np.arange(n), -values))
    kth = np.partition(values, n - k)[n - k]
    above = np.flatnonzero(values > kth)
    chosen = np.concatenate([above, np.flatnonzero(values == kth)[: k - above.size]])
    return chosen[np.lexsort((chosen, -values[chosen]))]


# Whoosh's decoding of a stored length byte (whoosh.util.numeric.byte_to_length); 0 stands for
# "no words", for which doc_field_length answers None and which is never scored.
_BYTE_LENGTHS = np.array([0] + [byte_to_length(b) for b in range(1, 256)], dtype=np.float64)


def _field_lengths(reader, docnums: np.ndarray, fieldname: str) -> np.ndarray:
    """Whoosh's stored length of ``fieldname`` for each of these document numbers, exactly as
    ``doc_field_length`` answers it, read with one read per segment into an array that threads may
    share. (Whoosh reads it a byte at a time through a shared seek-then-read file handle.)"""
    lengths = np.zeros(max(reader.doc_count_all(), 1), dtype=np.uint8)
    column = f"_{fieldname}_len"  # the W3 codec's name for a field's length column
    for leaf, offset in reader.leaf_readers():
        perdoc = getattr(leaf, "_perdoc", None)
        if perdoc is None:  # an empty reader: no documents, no lengths
            continue
        if not perdoc.has_column(column):
            continue
        colfile, base, size = perdoc._get_column_file(column)  # a handle of our own
        try:
            raw = np.frombuffer(colfile.get(base, size), dtype=np.uint8)
        finally:
            colfile.close()
        n = min(raw.size, leaf.doc_count_all())  # documents past the column's end have length 0
        lengths[offset:offset + n] = raw[:n]
    return _BYTE_LENGTHS[lengths[docnums]]


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

    def to_dict(self) -> dict:
        return {
            "id": self.id, "report_id": self.report_id, "text": self.text, "section": self.section,
            "ordinal": self.ordinal, "report": asdict(self.report) if self.report else None,
            "closest": [{"paragraph": p.to_dict(), "similarity": round(score, 3)} for p, score in self.closest],
        }


def highlight_spans(text: str, terms: list[str]) -> list[list[int]]:
    """Spans of the original text where any folded term occurs in the folded text, merged."""
    folded, origin = fold_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        start = folded.find(term)
        while start != -1:
            spans.append(original_span(origin, start, start + len(term)))
            start = folded.find(term, start + 1)
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return merged


class SearchEngine:
    """Opens an index once and answers queries; safe to share between threads."""

    def __init__(self, index_dir: Path, *, max_query_chars: int = 200, max_query_terms: int = 12,
                 warm: bool = False):
        """``warm``: spend a little start-up time on structures that make every query faster
        (for servers and benchmarks, not for one-shot CLI calls)."""
        self.index_dir = Path(index_dir)
        self.warm = warm
        self.max_query_chars = max_query_chars
        self.max_query_terms = max_query_terms
        # Whoosh's readers share one open file per segment file and read it by seek-then-read, so
        # two threads reading at once get each other's bytes (wrong terms, wrong scores). Every use
        # of the searcher after opening goes through this lock: the idf of a word not seen before
        # and a retired paragraph's stored fields. Matching and scoring read no Whoosh file.
        self._whoosh = threading.Lock()
        self._cite_lock = threading.Lock()
        self._open()

    @classmethod
    def from_settings(cls, settings, *, warm: bool = False) -> "SearchEngine":
        return cls(settings.index, max_query_chars=settings.max_query_chars,
                   max_query_terms=settings.max_query_terms, warm=warm)

    def _open(self) -> None:
        seen_before = index_identity(self.index_dir)
        self.ix = open_index(self.index_dir)
        for attempt in range(5):
            # The searcher and the store must see one generation: the store is read from the
            # searcher's own segments. A writer that commits meanwhile may delete a merged
            # segment's piece before it is read; the newer generation is opened instead.
            self.searcher = self.ix.searcher(weighting=BM25F(B=BM25_B, K1=BM25_K1))
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
        # Whoosh opens a segment's stored fields on first use, by path: once an update has merged
        # the segment away, or a rebuild has put a new folder at the index path, that path names
        # another file or none. Opened now, the engine keeps reading its own generation's files.
        for leaf, _ in self.searcher.reader().leaf_readers():
            if leaf.doc_count_all():
                leaf.stored_fields(0)
        if self.warm:
            self.store.index_positions()
        self._content_lengths = _field_lengths(self.searcher.reader(), self.store.docnums, "content")
        # As Whoosh's BM25FScorer has it (``or 1``: an empty index).
        self._avg_content_length = self.searcher.avg_field_length("content") or 1
        self._idfs: dict[str, float | None] = {}
        self.extra_words = self.ix.schema["content"].analyzer.extra_words
        analyse_words("预热", self.extra_words)  # load the segmenter's dictionary now, not in the first query
        reports = self.store.reports
        self._refs = [self._ref(r) for r in reports]
        self._years = np.array([r.meta.get("year") or 0 for r in reports], dtype=np.int32)
        dates = [r.meta.get("date") or "" for r in reports]
        self._date_keys = np.array([int(d.replace("-", "")) if d else 0 for d in dates], dtype=np.int64)
        self._region_text = [fold(" ".join([r.meta.get("region", ""), r.meta.get("city", ""), r.meta.get("province", "")]))
                             for r in reports]
        self._types = [fold(r.meta.get("doc_type", "")) for r in reports]
        self._folded_titles = [fold(r.meta.get("title", "")) for r in reports]
        self._docnos = [fold_docno(r.meta.get("doc_number", "")) for r in reports]
        self._report_first = np.searchsorted(self.store.report_idx, np.arange(len(reports) + 1))
        self._facet_codes = {
            "region": self._codes([ref.region or "未知" for ref in self._refs]),
            "year": self._codes([str(ref.year) if ref.year else "未知" for ref in self._refs]),
            "type": self._codes([ref.doc_type or "未知" for ref in self._refs]),
        }
        self._citations = None  # cited.CitationIndex of this generation, built on first use

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
        return SearchEngine(self.index_dir, max_query_chars=self.max_query_chars,
                            max_query_terms=self.max_query_terms, warm=self.warm)

    def close(self) -> None:
        self.searcher.close()

    @staticmethod
    def _ref(row) -> ReportRef:
        m = row.meta
        return ReportRef(id=row.rid, title=m.get("title", ""), region=m.get("region", ""), year=m.get("year"),
                         source=row.source, doc_type=m.get("doc_type", ""), date=m.get("date", ""),
                         city=m.get("city", ""), province=m.get("province", ""), doc_number=m.get("doc_number", ""))

    # -- matching ---------------------------------------------------------------------------------
    def parse(self, q: str) -> ParsedQuery:
        return parse_query(q, max_chars=self.max_query_chars, max_terms=self.max_query_terms)

    def _parse_with_filters(self, q: str, extra_filters: str) -> ParsedQuery:
        """The user's query (within the length limits) plus filters chosen in the UI (not limited)."""
        if not extra_filters.strip():
            return self.parse(q)
        if not q.strip():
            return parse_query(extra_filters, max_chars=10_000, max_terms=1_000)
        parsed = self.parse(q)
        extra = parse_query(extra_filters, max_chars=10_000, max_terms=1_000)
        if extra.clauses or extra.excluded:
            raise QueryError("extra filters may only hold field:value filters", extra_filters)
        f, g = parsed.filters, extra.filters
        f.region += g.region
        f.doc_type += g.doc_type
        f.report += g.report
        f.section += g.section
        f.docno += g.docno
        f.cites += g.cites
        if g.year_from is not None:
            f.year_from = g.year_from if f.year_from is None else max(f.year_from, g.year_from)
        if g.year_to is not None:
            f.year_to = g.year_to if f.year_to is None else min(f.year_to, g.year_to)
        return parsed

    def stats(self) -> dict:
        return {"reports": len(self.store.reports), "paragraphs": len(self.store), "generation": self.generation}

    def _report_mask(self, f: Filters) -> np.ndarray | None:
        n = len(self.store.reports)
        mask = np.ones(n, dtype=bool)
        touched = False
        if f.region:
            touched = True
            mask &= np.array([any(v in t for v in f.region) for t in self._region_text], dtype=bool)
        if f.year_from is not None:
            touched = True
            mask &= self._years >= f.year_from
        if f.year_to is not None:
            touched = True
            mask &= (self._years <= f.year_to) & (self._years > 0)
        if f.doc_type:
            touched = True
            mask &= np.array([any(v in t for v in f.doc_type) if t else False for t in self._types], dtype=bool)
        if f.report:
            touched = True
            wanted = set(f.report)
            mask &= np.array([r.rid in wanted for r in self.store.reports], dtype=bool)
        if f.docno:
            touched = True
            wanted_nos = {fold_docno(d) for d in f.docno}
            mask &= np.array([d in wanted_nos for d in self._docnos], dtype=bool)
        return mask if touched else None

    def citations(self):
        """What cites what in this generation (``cited.CitationIndex``), built on first use."""
        with self._cite_lock:
            if self._citations is None:
                from indexer.citations.cited import CitationIndex

                self._citations = CitationIndex.of(self.store)
            return self._citations

    def quote(self, text: str, limit: int = 5):
        """The paragraphs a pasted quote comes from (``quote.QuoteMatch``), best first."""
        from indexer.citations.quote import find_quote

        return find_quote(self.store, text, limit=limit)

    def _citing_mask(self, value: str) -> np.ndarray:
        """Paragraphs citing ``value`` (a 文号, or a title with or without 《》); a report's own
        letterhead 文号 is not a citation of itself."""
        keep = np.zeros(len(self.store), dtype=bool)
        entry = self.citations().get(value)
        if entry is not None:
            keep[[self.store.pid_index[p] for p in entry.pids]] = True
        return keep

    def match(self, parsed: ParsedQuery, counts: dict | None = None) -> np.ndarray:
        """Sorted indices (into the exact store) of every paragraph the query matches.

        ``counts``, if given, receives {folded term: (paragraph indices, occurrences)} for ranking.
        """
        store = self.store
        counts = {} if counts is None else counts

        def docs(term: str) -> np.ndarray:
            if term not in counts:
                counts[term] = store.term_counts(term)
            return counts[term][0]

        mask = np.ones(len(store), dtype=bool)
        rmask = self._report_mask(parsed.filters)
        if rmask is not None:
            mask &= rmask[store.report_idx]
        for clause in parsed.clauses:
            if clause.same_sentence:
                a, b = clause.same_sentence
                both = np.zeros(len(store), dtype=bool)
                both[np.intersect1d(docs(a.folded), docs(b.folded), assume_unique=True)] = True
                both &= mask
                keep = np.zeros(len(store), dtype=bool)
                for i in np.flatnonzero(both):
                    if any(a.folded in s and b.folded in s for s in _SENTENCE_SPLIT.split(store.folded_text(i))):
                        keep[i] = True
                mask &= keep
            else:
                any_mask = np.zeros(len(store), dtype=bool)
                for term in clause.any_of:
                    any_mask[docs(term.folded)] = True
                mask &= any_mask
        for value in parsed.filters.cites:
            mask &= self._citing_mask(value)
        for term in parsed.excluded:
            mask[docs(term.folded)] = False
        hits = np.flatnonzero(mask)
        for term in parsed.filters.section:
            hits = np.array([i for i in hits if term.folded in store.folded_section(i)], dtype=np.int64)
        return hits

    # -- ranking ----------------------------------------------------------------------------------
    def _query_words(self, terms: list[Term]) -> list[str]:
        return list(dict.fromkeys(w for term in terms for w in analyse_words(term.folded, self.extra_words)))

    def _boost(self, i: int, terms: list[str]) -> float:
        """Re-ranking factor: terms in the section heading or the report title, terms adjacent."""
        factor = 1.0
        section = self.store.folded_section(i)
        title = self._folded_titles[int(self.store.report_idx[i])]
        for term in terms:
            if term in section:
                factor *= 2.0
            if term in title:
                factor *= 1.5
        if len(terms) > 1:
            text = self.store.folded_text(i)
            factor *= 1.0 + sum(0.5 for a, b in zip(terms, terms[1:]) if a + b in text)
        return factor

    def _prerank(self, terms: list[str], hits: np.ndarray, counts: dict) -> np.ndarray:
        """BM25 over exact term occurrences, vectorised over every hit: orders the hits cheaply so
        that Whoosh need only score the few that can reach the page."""
        store = self.store
        n = len(store)
        lengths = (store.ends[hits] - store.starts[hits]).astype(np.float64)
        avg = float((store.ends - store.starts).mean()) if n else 1.0
        score = np.zeros(hits.size)
        for term in dict.fromkeys(terms):
            docs, occ = counts.get(term) or store.term_counts(term)
            if docs.size == 0:
                continue
            tf = np.zeros(hits.size)
            pos = np.searchsorted(docs, hits)
            pos[pos >= docs.size] = 0
            present = docs[pos] == hits
            tf[present] = occ[pos[present]]
            idf = np.log(1.0 + (n - docs.size + 0.5) / (docs.size + 0.5))
            score += idf * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * lengths / avg))
        return score

    def _idf(self, word: str) -> float | None:
        """Whoosh's idf of a word in ``content`` (None if no paragraph has it), looked up once per
        engine: the lookup reads every segment's term file, about 1 ms a word at 1,000 reports,
        and under the Whoosh lock that would serialise the threads' queries."""
        cached = self._idfs.get(word, _UNSEEN)
        if cached is not _UNSEEN:
            return cached
        with self._whoosh:
            if self.searcher.doc_frequency("content", word):
                idf = self.searcher.weighting.idf(self.searcher, "content", word)
            else:
                idf = None
            if len(self._idfs) >= MAX_CACHED_IDFS:  # bounded: queries may be any words
                self._idfs = {}
            self._idfs[word] = idf
        return idf

    def _word_scores(self, words: list[str], rows: list[int]) -> dict[int, float]:
        """Whoosh's BM25F over jieba words (its formula, idf, average and stored field lengths) for
        just these paragraphs, the sum over the query's words as Whoosh's Or sums them. A word's
        frequency is counted from the paragraph's own words, which are exactly what its postings
        hold, instead of skipping a posting matcher to each paragraph block by block, which cost
        common words several milliseconds. Field lengths come from ``_content_lengths``, read once
        when the engine opened, and idfs from ``_idf``: scoring reads no Whoosh file."""
        idfs = {w: idf for w in words if (idf := self._idf(w)) is not None}
        out: dict[int, float] = {}
        if not idfs:
            return out
        for i in rows:
            counts = Counter(segment_words(self.store.folded_text(i), self.extra_words))
            length = float(self._content_lengths[i])
            score = 0.0
            for w, idf in idfs.items():
                if counts[w]:
                    score += bm25(idf, float(counts[w]), length, self._avg_content_length, BM25_B, BM25_K1)
            if score:
                out[i] = score
        return out

    def _scores(self, parsed: ParsedQuery, hits: np.ndarray, limit: int | None,
                counts: dict) -> tuple[np.ndarray, np.ndarray]:
        """(hit indices in rank order up to limit, their scores).

        Every hit is pre-ranked by BM25 over exact occurrences; the best RERANK_DEPTH of them are
        scored by Whoosh's BM25F over jieba words and re-ranked with the section-heading, title and
        adjacency boosts; the rest follow in pre-rank order.
        """
        if hits.size == 0:
            return hits, np.zeros(0)
        terms = [t.folded for t in parsed.positive_terms()]
        pre = self._prerank(terms, hits, counts)
        head_pos = _top_positions(pre, RERANK_DEPTH)
        head = hits[head_pos]
        bm25 = self._word_scores(self._query_words(parsed.positive_terms()), head.tolist())
        rescored = sorted(
            ((bm25.get(int(i), 0.0) * self._boost(int(i), terms) + 1e-3 * float(p), int(i))
             for i, p in zip(head, pre[head_pos])),
            key=lambda x: (-x[0], x[1]),
        )
        ranked = [i for _, i in rescored]
        scores = [sc for sc, _ in rescored]
        if limit is None or limit > len(ranked):
            # Past the re-ranked head, hits follow in pre-rank order (a full sort, only when asked).
            order = np.lexsort((hits, -pre))[len(ranked):]
            if limit is not None:
                order = order[: limit - len(ranked)]
            ranked += hits[order].tolist()
            scores += [0.0] * int(order.size)
        if limit is not None:
            ranked, scores = ranked[:limit], scores[:limit]
        return np.array(ranked, dtype=np.int64), np.array(scores)

    # -- results ----------------------------------------------------------------------------------
    def _hit(self, i: int, score: float, terms: list[str]) -> Hit:
        text = self.store.text(i)
        return Hit(
            id=self.store.pids[i], text=text, section=list(self.store.section(i)),
            highlights=highlight_spans(text, terms) if terms else [], ordinal=int(self.store.ordinals[i]),
            kind=self.store.kind(i), score=round(score, 4), report=self._refs[int(self.store.report_idx[i])],
        )

    def _facets(self, hits: np.ndarray) -> dict[str, list[tuple[str, int]]]:
        """Paragraph counts per region, year and type over all hits (vectorised per report)."""
        counts = np.bincount(self.store.report_idx[hits], minlength=len(self._refs))
        out = {}
        for key, (codes, labels) in self._facet_codes.items():
            per_value = np.bincount(codes, weights=counts, minlength=len(labels)).astype(np.int64)
            out[key] = [(labels[v], int(per_value[v])) for v in np.flatnonzero(per_value)]
        out["region"].sort(key=lambda kv: (-kv[1], kv[0]))
        out["year"].sort(key=lambda kv: kv[0])
        out["type"].sort(key=lambda kv: (-kv[1], kv[0]))
        return out

    @staticmethod
    def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
        labels = sorted(set(values))
        index = {v: i for i, v in enumerate(labels)}
        return np.array([index[v] for v in values], dtype=np.int64), labels

    def search(self, q: str | ParsedQuery, *, page: int = 1, per_page: int = 10, sort: str = "relevance",
               by_report: bool = False, extra_filters: str = "") -> SearchResult:
        started = time.perf_counter()
        if sort not in SORTS:
            raise QueryError(f"unknown sort '{sort}' (choose from {', '.join(SORTS)})")
        if page < 1 or per_page < 1 or per_page > 100:
            raise QueryError("page must be ≥ 1 and per_page between 1 and 100")
        parsed = q if isinstance(q, ParsedQuery) else self._parse_with_filters(q, extra_filters)
        counts: dict = {}
        hits = self.match(parsed, counts)
        terms = [t.folded for t in parsed.positive_terms()]
        total = int(hits.size)
        n_reports = int(np.unique(self.store.report_idx[hits]).size) if total else 0
        offset = (page - 1) * per_page
        groups = None
        group_total = 0
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
                ReportGroup(self._refs[r], len(members[r]), [self._hit(i, s, terms) for i, s in members[r][:3]])
                for r in report_order[offset: offset + per_page]
            ]
            page_hits = [h for g in groups for h in g.hits]
        else:
            order, scores = self._ordered(parsed, hits, sort, offset + per_page, counts)
            page_hits = [self._hit(int(i), float(s), terms)
                         for i, s in zip(order[offset: offset + per_page], scores[offset: offset + per_page])]
        result = SearchResult(
            query=parsed.text, folded=parsed.folded_display(), total=total, reports=n_reports, page=page,
            per_page=per_page, sort=sort, hits=page_hits, facets=self._facets(hits),
            took_ms=(time.perf_counter() - started) * 1000, filters=parsed.filters.to_dict(), groups=groups,
        )
        result.group_total = group_total
        return result

    def _ordered(self, parsed: ParsedQuery, hits: np.ndarray, sort: str, limit: int | None, counts: dict):
        if sort == "relevance":
            return self._scores(parsed, hits, limit, counts)
        ridx = self.store.report_idx[hits]
        if sort == "date":
            keys = np.lexsort((self.store.ordinals[hits], ridx, -self._date_keys[ridx]))
        else:
            keys = np.arange(hits.size)
        order = hits[keys]
        if limit is not None:
            order = order[:limit]
        return order, np.zeros(order.size)

    def count(self, q: str) -> int:
        return int(self.match(self.parse(q)).size)

    # -- reading ------------------------------------------------------------------------------------
    def _view(self, i: int) -> ParagraphView:
        r = int(self.store.report_idx[i])
        lo, hi = int(self._report_first[r]), int(self._report_first[r + 1])
        return ParagraphView(
            id=self.store.pids[i], ordinal=int(self.store.ordinals[i]), kind=self.store.kind(i),
            section=list(self.store.section(i)), text=self.store.text(i), report=self._refs[r],
            previous_id=self.store.pids[i - 1] if i - 1 >= lo else None,
            next_id=self.store.pids[i + 1] if i + 1 < hi else None,
        )

    def paragraph(self, pid: str) -> ParagraphView:
        i = self.store.pid_index.get(pid)
        if i is None:
            raise NotFound(pid)
        return self._view(i)

    def paragraph_history(self, pid: str, limit: int = 3) -> RetiredParagraph | None:
        """What became of a paragraph id that is not live: its last text (if it was ever indexed)
        and the most similar current paragraphs of its report. None for an id of an unknown report
        that was never indexed."""
        import difflib

        with self._whoosh:
            stored = self.searcher.document(retired_pid=pid)
        rid = stored["retired_rid"] if stored else rid_of(pid)
        r = self.store.rid_index.get(rid)
        if stored is None and r is None:
            return None
        retired = RetiredParagraph(
            id=pid, report_id=rid, text=stored.get("text", "") if stored else "",
            section=list(stored.get("section") or []) if stored else [], ordinal=stored.get("ordinal", 0) if stored else 0,
            report=self._refs[r] if r is not None else None,
        )
        if r is not None and retired.text:
            old = fold(retired.text)
            lo, hi = int(self._report_first[r]), int(self._report_first[r + 1])
            scored = []
            for i in range(lo, hi):
                matcher = difflib.SequenceMatcher(None, old, self.store.folded_text(i), autojunk=False)
                if matcher.real_quick_ratio() > 0.3 and matcher.quick_ratio() > 0.3:
                    scored.append((matcher.ratio(), i))
            scored.sort(key=lambda x: (-x[0], x[1]))
            retired.closest = [(self._view(i), score) for score, i in scored[:limit] if score > 0.3]
        return retired

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
        lo, hi = int(self._report_first[r]), int(self._report_first[r + 1])
        first = min(lo + start, hi)
        last = hi if limit is None else min(first + limit, hi)
        heading = KIND_CODES["heading"]
        headings = (lo + np.flatnonzero(self.store.kinds[lo:hi] == heading)).tolist()
        return ReportView(report=self._refs[r], meta=row.meta, fmt=row.fmt, path=row.path,
                          paragraphs=[self._view(i) for i in range(first, last)], start=first - lo,
                          total_paragraphs=hi - lo, headings=[self._view(i) for i in headings])

    def reports(self) -> list[ReportRef]:
        return list(self._refs)
