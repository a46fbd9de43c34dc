"""Searching a sharded index as one: each shard answers its part, the coordinator adds them up.

A query goes in three rounds, each sent to one replica of every shard at once:

1. **counts** (Elasticsearch's dfs phase): each shard's paragraphs holding each query term and
   Whoosh's document frequency of each query word. Summed with the shards' constant figures
   (``rank.CorpusStats``: rows, lengths, documents), they are the corpus's statistics.
2. **partial**: each shard matches, counts hits, reports and facet values, and ranks its hits with
   the corpus's statistics, so that its scores are the ones one index would give. It sends its
   best ``depth`` in the order asked for, and for relevance its best RERANK_DEPTH pre-ranked hits
   with their final scores. The coordinator keeps the corpus's best RERANK_DEPTH by pre-rank (the
   head one index would re-rank), orders them by final score, and lets the rest follow in pre-rank
   order, ties broken by report id and reading order as one index breaks them.
3. **hits**: the page's paragraphs, built by the shards that hold them.

A report lives wholly in one shard, so totals, report counts and facet counts are sums. Each call
names the generation the shard reported in round 1: a shard keeps its previous generation open
while a query that began on it is answered. A shard that no replica answers is left out, and the
result says which share of the corpus answered (``SearchResult.shards``); never silently partial.

``ShardSide`` is the shard's end (in-process, or inside a Dask actor: search/served.py);
``ShardedEngine`` the coordinator's. Neither reads another shard's files.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from indexer.search.engine import GROUP_HITS, NEAR_OFFER_BELOW, NEAR_OFFER_MAX_CANDIDATES, SearchEngine, _check_sort, _marked_terms
from indexer.search.query import FACETS, Filters, ParsedQuery, QueryError, parse_query, with_filters
from indexer.search.rank import RERANK_DEPTH, CorpusStats, top_positions
from indexer.search.highlight import highlight_spans
from indexer.search.reports import facet_order, known_order, place_order
from indexer.search.results import Hit, Pending, ReportGroup, ReportPage, SearchResult
from indexer.search.suggest import emptying_filters, suggestions
from indexer.store.layout import shard_of
from indexer.store.schema import report_id, rid_of

STALE_CHECK_SECONDS = 1.0  # how often a shard looks for a newer generation of its index
KEPT_GENERATIONS = 2  # the one served and the one before, for queries that began on it
CACHED_TERMS = 256  # term rows a shard keeps from the counts round for the partial round
EXPORT_CHUNK = 500  # hits an export fetches from the shards at a time
KEPT_COUNTS = 4096  # (shard, generation, terms) counts a coordinator keeps
ATTEMPTS = 3  # a query whose shard changed generation or replica mid-way is asked again


class ReplicaLost(Exception):
    """A replica that could not be asked or did not answer (its worker gone, a timeout): the
    transport says so by raising this; any other exception is the shard's own answer."""


class GenerationGone(Exception):
    """The shard no longer holds the generation a query began on: ask again."""


class NotOnShards(Exception):
    """What a sharded index does not offer: corpus-wide structures that one index builds over
    every report (the citation index, the clusters of near-duplicates, a quote's sources)."""

    code = "not_on_shards"

    def __init__(self, what: str):
        self.message = f"{what}在分片索引上不可用：它需要整个语料的一个索引（policy-search index 不加 --shards）。"
        super().__init__(self.message)


class ShardUnsupported(QueryError):
    """What a sharded index cannot answer as one index would (a query field across reports)."""


@dataclass(frozen=True)
class ShardState:
    """A shard's generation and its constant figures."""

    generation: int
    reports: int
    paragraphs: int
    stats: CorpusStats


@dataclass
class ShardPartial:
    """One shard's part of a search."""

    total: int
    reports: int
    facets: dict[str, list[tuple[str, int]]]
    places: dict[str, list[tuple[str, int]]]  # region filter value -> places with hits (all of them)
    top: list[tuple]  # (sort key, row): its best ``depth`` hits, keys comparable across shards
    head: list[tuple] = field(default_factory=list)  # relevance: (key, row) of its pre-rank head
    near: tuple[dict, int, int] | None = None  # engine.near_counts, when its total is small
    newest: int = 0  # the generation the shard serves now (a newer one: the coordinator asks its state again)
    # Grouped by report: (its best hit's key, its hits, its first GROUP_HITS (key, row)), best first.
    groups: list[tuple] = field(default_factory=list)


def _combined(states: list[ShardState]) -> CorpusStats:
    return CorpusStats(sum(s.stats.rows for s in states), sum(s.stats.exact_lengths for s in states),
                       sum(s.stats.whoosh_docs for s in states), sum(s.stats.content_lengths for s in states))


class ShardSide:
    """A shard's end: its index opened as a SearchEngine, answering the coordinator's rounds with
    plain values. Safe to share between threads."""

    def __init__(self, index_dir: str | Path, **engine_options):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        engine = SearchEngine(self.index_dir, **engine_options)
        self._engines: OrderedDict[int, SearchEngine] = OrderedDict([(engine.generation, engine)])
        self._checked = time.monotonic()
        self._terms: OrderedDict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def _current(self) -> SearchEngine:
        with self._lock:
            engine = next(reversed(self._engines.values()))
            if time.monotonic() - self._checked < STALE_CHECK_SECONDS:
                return engine
            self._checked = time.monotonic()
        fresh = engine.reopened()  # outside the lock: opening reads the index
        if fresh is None:
            return engine
        with self._lock:
            self._engines[fresh.generation] = fresh
            while len(self._engines) > KEPT_GENERATIONS:
                self._engines.popitem(last=False)
        return fresh

    def _engine(self, generation: int) -> SearchEngine:
        with self._lock:
            engine = self._engines.get(generation)
        if engine is None:
            raise GenerationGone(f"{self.index_dir}: generation {generation} is no longer open")
        return engine

    def state(self) -> ShardState:
        return self._state_of(self._current())

    @staticmethod
    def _state_of(engine: SearchEngine) -> ShardState:
        return ShardState(engine.generation, len(engine.store.reports), len(engine.store), engine.ranker.own)

    def _cached(self, key: tuple, make):
        """What the counts round found, kept for the partial round (at most CACHED_TERMS)."""
        with self._lock:
            found = self._terms.get(key)
        if found is None:
            found = make()
            with self._lock:
                self._terms[key] = found
                while len(self._terms) > CACHED_TERMS:
                    self._terms.popitem(last=False)
        return found

    def _term_rows(self, engine: SearchEngine, term: str) -> tuple[np.ndarray, np.ndarray]:
        return self._cached((engine.generation, term), lambda: engine.store.term_counts(term))

    def counts(self, parsed: ParsedQuery) -> tuple[ShardState, dict[str, int], dict[str, int]]:
        """The first round: (the generation served and its figures, paragraphs holding each
        positive term, Whoosh's frequency of each query word) of the newest generation."""
        engine = self._current()
        exact = {t.folded: int(self._term_rows(engine, t.folded)[0].size) for t in parsed.positive_terms()}
        words = {w: self._word_frequency(engine, w) for w in engine.ranker.query_words(parsed.positive_terms())}
        return self._state_of(engine), exact, words

    def _word_frequency(self, engine: SearchEngine, word: str) -> int:
        # Beside the terms' rows, told apart by the NUL no folded term holds.
        return self._cached((engine.generation, "\0" + word), lambda: engine.ranker.word_frequency(word))

    def partial(self, generation: int, parsed: ParsedQuery, stats: CorpusStats, sort: str,
                depth: int, groups: int = 0) -> ShardPartial:
        """The second round: its part of a search, its best ``depth`` hits in the order asked
        for (for relevance, pre-ranked with the corpus's statistics, and its pre-rank head);
        ``groups``: its first reports in that order, each with its hits counted and its first
        GROUP_HITS (hits grouped by report)."""
        engine = self._engine(generation)
        newest = self._current().generation
        counts = {t.folded: self._term_rows(engine, t.folded) for t in parsed.positive_terms()}
        hits = engine.match(parsed, counts)
        store, columns = engine.store, engine.columns
        ridx = store.report_idx[hits]
        per_report = columns.hits_per_report(ridx)
        total = int(hits.size)
        part = ShardPartial(
            total=total, reports=int(np.count_nonzero(per_report)), facets=columns.facets(per_report),
            places={v: columns.region_candidates(v, per_report, every=True) for v in parsed.filters.region},
            top=[], newest=newest)
        if total < NEAR_OFFER_BELOW:  # the offer is the corpus's: a shard without hits counts its part
            part.near = engine.near_counts(parsed)
        if not total:
            return part
        rids = columns.rids
        # A hit's place in one index's order: its report's id, then its place in that report
        # (this shard's hits come in report order, so their positions keep reading order).
        # Keys are made only for the hits sent.
        if sort == "relevance":
            terms = [t.folded for t in parsed.positive_terms()]
            pre = engine.ranker.prerank(terms, hits, counts, stats)

            def key(k: int) -> tuple:
                return (-float(pre[k]), rids[int(ridx[k])], k)

            part.head = [(key(int(k)), int(hits[k])) for k in top_positions(pre, RERANK_DEPTH)]
            chosen = top_positions(pre, depth)
        elif sort == "date":
            dates = columns.date_keys[ridx]
            ordinals = store.ordinals[hits]

            def key(k: int) -> tuple:
                return (-int(dates[k]), rids[int(ridx[k])], int(ordinals[k]))

            chosen = np.lexsort((ordinals, ridx, -dates))[:depth]
        else:
            def key(k: int) -> tuple:
                return (rids[int(ridx[k])], k)

            chosen = np.arange(min(depth, total))
        if groups:
            part.groups = _report_groups(ridx, _order_of(sort, locals()), per_report, key, hits, groups)
        part.top = [(key(int(k)), int(hits[k])) for k in chosen]
        return part

    # What a shard answers alone: the report, paragraph and article a page shows, each in the
    # shard that holds its report.
    ASKABLE = frozenset({"report", "report_hits", "has_report", "articles", "article", "article_by_id", "paragraph",
                         "paragraph_history", "references_in", "known_counts", "report_keys"})

    def ask(self, method: str, args: tuple, kwargs: dict):
        if method not in self.ASKABLE:
            raise ValueError(f"a shard is not asked {method!r}")
        engine = self._current()
        if method == "known_counts":
            return engine.columns.known_counts(*args)
        if method == "report_keys":
            return engine.report_keys(*args)
        return getattr(engine, method)(*args, **kwargs)

    def finish(self, generation: int, parsed: ParsedQuery, stats: CorpusStats,
               head: list[tuple[int, float]], rows: list[int], marked: bool = True) -> tuple[list[float], dict[int, Hit]]:
        """The third round: the final scores of its rows in the corpus's head ((row, pre-rank
        score)), and the hits of ``rows`` (their scores set by the coordinator; ``marked``: with
        the query's matches marked)."""
        engine = self._engine(generation)
        finals = engine.ranker.rescored(parsed, np.array([r for r, _ in head], dtype=np.int64),
                                        np.array([p for _, p in head]), stats) if head else []
        terms, near = _marked_terms(parsed) if marked else [], parsed.near_clause()
        return finals, {i: engine.hit_at(i, 0.0, terms, near) for i in rows}


def _order_of(sort: str, scope: dict) -> np.ndarray:
    """Every hit's position in the order asked for (the shard's part of one index's order)."""
    if sort == "relevance":
        pre = scope["pre"]
        return np.lexsort((np.arange(pre.size), -pre))
    if sort == "date":
        return np.lexsort((scope["ordinals"], scope["ridx"], -scope["dates"]))
    return np.arange(scope["total"])


def _report_groups(ridx: np.ndarray, order: np.ndarray, per_report: np.ndarray, key, hits: np.ndarray,
                   most: int) -> list[tuple]:
    """The first ``most`` reports by their best hit in ``order``, each as (its best hit's key, its
    hits, its first GROUP_HITS hits as (key, row))."""
    in_order = ridx[order]
    _, first = np.unique(in_order, return_index=True)
    out = []
    for at in np.sort(first)[:most].tolist():
        r = int(in_order[at])
        members = order[at:][in_order[at:] == r][:GROUP_HITS]
        out.append((key(int(members[0])), int(per_report[r]), [(key(int(m)), int(hits[m])) for m in members]))
    return out


class _Done:
    """An in-process answer, shaped like a Dask future."""

    def __init__(self, call):
        try:
            self.value, self.error = call(), None
        except Exception as exc:
            self.value, self.error = None, exc

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


class LocalReplica:
    """A shard opened in this process (a sharded index searched on one machine, and the tests)."""

    def __init__(self, side: ShardSide, name: str):
        self.side, self.name = side, name

    def call(self, method: str, *args):
        return _Done(lambda: getattr(self.side, method)(*args))


@dataclass
class ShardsAnswered:
    """How much of the corpus a sharded answer covers."""

    answered: int
    total: int
    missing: list[int]  # shard numbers (from 1) that no replica answered
    reports: int  # reports in the shards that answered

    def to_dict(self) -> dict:
        return {"answered": self.answered, "total": self.total, "missing": self.missing, "reports": self.reports,
                "complete": not self.missing}


class ShardedEngine:
    """The coordinator: one replica of every shard asked at once per round, their answers
    merged into what one index over the whole corpus answers. ``replicas[k]``: shard k's replicas
    (objects with ``call(method, *args)`` returning a future), the first that answers is used."""

    def __init__(self, replicas: list[list], *, max_query_chars: int = 200, max_query_terms: int = 12,
                 near_gap: int = 8):
        self.replicas = [list(r) for r in replicas]
        self.max_query_chars, self.max_query_terms, self.near_gap = max_query_chars, max_query_terms, near_gap
        self._lock = threading.Lock()
        self._lost: set[int] = set()  # id() of replicas that failed; forgotten by ``restore``
        self._reports: dict[int, int] = {}  # shard -> its reports, as last seen
        self._known: dict[int, ShardState] = {}  # shard -> the state it last reported
        self._counted: OrderedDict[tuple, tuple[dict, dict]] = OrderedDict()  # (shard, generation, terms) -> counts

    # -- the query language, as SearchEngine parses it ---------------------------------------
    def parse(self, q: str) -> ParsedQuery:
        return parse_query(q, max_chars=self.max_query_chars, max_terms=self.max_query_terms, near_gap=self.near_gap)

    def parse_with(self, q: str, filters: Filters | None = None) -> ParsedQuery:
        """The user's query (within the length limits) with filters chosen outside it (the UI's)."""
        return with_filters(self.parse, q, filters)

    # -- rounds --------------------------------------------------------------------------------
    def _live(self, k: int) -> list:
        with self._lock:
            return [r for r in self.replicas[k] if id(r) not in self._lost]

    def _lose(self, replica) -> None:
        with self._lock:
            self._lost.add(id(replica))

    def restore(self) -> None:
        """Ask the replicas that failed again (a worker back, a shard placed anew)."""
        with self._lock:
            self._lost.clear()

    def _round(self, asked: dict[int, object], method: str, args_of) -> dict[int, object]:
        """``method`` on the replica ``asked[k]`` of each shard k, all at once; a replica that fails
        is lost and its shard left out of the answer (raised as _ReplicaLost)."""
        futures = {k: replica.call(method, *args_of(k)) for k, replica in asked.items()}
        out = {}
        lost = False
        for k, future in futures.items():
            try:
                out[k] = future.result()
            except ReplicaLost:
                self._lose(asked[k])
                lost = True
        if lost:
            raise _ReplicaLost()
        return out

    def _states(self, parsed: ParsedQuery | None = None, counted: bool = False, fresh: bool = False):
        """(one live replica of every shard that has one, its state, and with ``counted`` the
        query's term counts: the first round). A shard's counts depend on its generation and the
        query's terms alone, so those of a generation already asked are kept, and a query whose
        terms were all counted skips the round (paging, facets, a term asked before). Which
        generation each shard serves comes back with every partial answer."""
        terms = tuple(t.folded for t in parsed.positive_terms()) if counted and parsed is not None else ()
        while True:
            asked = {k: live[0] for k in range(len(self.replicas)) if (live := self._live(k))}
            with self._lock:
                known = {k: self._known.get(k) for k in asked}
                kept = {k: self._counted.get((k, st.generation, terms)) for k, st in known.items() if st is not None}
            if not fresh and all(st is not None for st in known.values()) and \
                    (not counted or all(v is not None for v in kept.values())):
                return asked, known, ({k: (known[k], *kept[k]) for k in asked} if counted else None)
            try:
                if counted:
                    answers = self._round(asked, "counts", lambda k: (parsed,))
                    states = {k: a[0] for k, a in answers.items()}
                else:
                    answers = None
                    states = self._round(asked, "state", lambda k: ())
            except _ReplicaLost:
                continue  # the next replica of each lost one (or none)
            with self._lock:
                self._reports.update({k: s.reports for k, s in states.items()})
                self._known.update(states)
                for k, (st, exact, words) in (answers or {}).items():
                    self._counted[(k, st.generation, terms)] = (exact, words)
                while len(self._counted) > KEPT_COUNTS:
                    self._counted.popitem(last=False)
            return asked, states, answers

    def _moved(self, parts: dict[int, "ShardPartial"], states: dict[int, ShardState]) -> None:
        """Forget the state of each shard that serves a newer generation than the one asked."""
        with self._lock:
            for k, p in parts.items():
                if p.newest != states[k].generation:
                    self._known.pop(k, None)

    def _answered(self, states: dict[int, ShardState]) -> ShardsAnswered:
        missing = [k + 1 for k in range(len(self.replicas)) if k not in states]
        return ShardsAnswered(len(states), len(self.replicas), missing, sum(s.reports for s in states.values()))

    def _asking(self, work, parsed: ParsedQuery, counted: bool):
        """``work(asked, states, stats)`` with every shard at one generation and the corpus's
        statistics (``counted``: with the query's term counts), asked again if a shard changed
        generation or lost a replica on the way."""
        for attempt in range(ATTEMPTS):
            asked, states, answers = self._states(parsed, counted)
            stats = _corpus_stats(states, answers)
            try:
                return work(asked, states, stats)
            except (GenerationGone, _ReplicaLost):
                with self._lock:
                    self._known.clear()
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # -- the search API ------------------------------------------------------------------------
    def _check(self, parsed: ParsedQuery) -> None:
        for field_name in ("similar",):
            if getattr(parsed.filters, field_name, None):
                raise ShardUnsupported(f"{field_name}: 在分片索引上不可用（近似段落跨越分片）", 0)

    def search(self, q: str | ParsedQuery, *, page: int = 1, per_page: int = 10, sort: str = "relevance",
               by_report: bool = False, filters: Filters | None = None, collapse: bool = False) -> SearchResult:
        started = time.perf_counter()
        _check_sort(sort)
        if page < 1 or per_page < 1 or per_page > 100:
            raise ValueError(f"page 应 ≥ 1，per_page 应在 1 到 100 之间（收到 page={page}，per_page={per_page}）")
        if collapse:
            raise ShardUnsupported("合并近似段落在分片索引上不可用（近似段落跨越分片：--collapse）", 0)
        parsed = q if isinstance(q, ParsedQuery) else self.parse_with(q, filters)
        self._check(parsed)
        offset = (page - 1) * per_page
        depth = max(offset + per_page, RERANK_DEPTH)

        def grouped(asked, states, stats):
            gens = {k: s.generation for k, s in states.items()}
            wanted_groups = offset + per_page + RERANK_DEPTH
            parts: dict[int, ShardPartial] = self._round(
                asked, "partial", lambda k: (gens[k], parsed, stats, sort, RERANK_DEPTH, wanted_groups))
            self._moved(parts, states)
            head = _merged_order(parts, sort, RERANK_DEPTH)[0]
            finals = self._finals(asked, gens, parsed, stats, head)
            # One index orders reports by their first hit's rank: a report with hits in the
            # re-ranked head by the best of them, the others after, by their best pre-rank.
            head_rank = {(k, row): n for n, (k, row) in enumerate(_by_final(head, finals))}
            best_rank: dict[tuple[int, str], int] = {}
            for key, k, row in head:
                rid = key[1]
                best_rank[(k, rid)] = min(best_rank.get((k, rid), len(head)), head_rank[(k, row)])
            candidates = []
            for k, p in parts.items():
                for best, count, members in p.groups:
                    # Ranked by the best final score among its hits in the head, if it has any there.
                    rank = best_rank.get((k, best[1]))
                    candidates.append(((0, rank) if rank is not None else (1, best), k, count, members))
            candidates.sort(key=lambda c: c[0])
            page_groups = candidates[offset: offset + per_page]
            chosen = []
            for _, k, count, members in page_groups:
                # All of its hits in the head (a report may have more there than GROUP_HITS), by
                # final score, then its others by pre-rank.
                rid = members[0][0][1]
                in_head = sorted(((kk, row) for key, kk, row in head if kk == k and key[1] == rid), key=head_rank.get)
                others = [(k, row) for _, row in members if (k, row) not in head_rank]
                chosen.append((k, count, (in_head + others)[:GROUP_HITS]))
            wanted: dict[int, list[int]] = {}
            for k, _, rows in chosen:
                wanted.setdefault(k, []).extend(row for _, row in rows)
            done = self._round({k: asked[k] for k in wanted}, "finish",
                               lambda k: (gens[k], parsed, stats, [], wanted[k])) if wanted else {}
            groups = []
            for k, count, rows in chosen:
                hits = [replace(done[k][1][row], score=round(finals.get((k, row), 0.0), 4)) for _, row in rows]
                groups.append(ReportGroup(hits[0].report, count, hits))
            return parts, groups, self._answered(states)

        def work(asked, states, stats):
            gens = {k: s.generation for k, s in states.items()}
            parts: dict[int, ShardPartial] = self._round(
                asked, "partial", lambda k: (gens[k], parsed, stats, sort, depth))
            self._moved(parts, states)
            head, rest = _merged_order(parts, sort, offset + per_page)
            touches_head = offset < len(head)
            rest_rows = rest[max(0, offset - len(head)): offset + per_page - len(head)]
            scoring = {k: [(row, -key[0]) for key, kk, row in head if kk == k] for k in parts} if touches_head else {}
            wanted = {k: [row for row, _ in scoring.get(k, [])] for k in parts}
            for _, k, row in rest_rows:
                wanted[k].append(row)
            asking = {k: asked[k] for k in parts if wanted[k] or scoring.get(k)}
            done = self._round(asking, "finish",
                               lambda k: (gens[k], parsed, stats, scoring.get(k, []), wanted[k])) if asking else {}
            ranked = []
            if touches_head:
                finals = {}
                for k, (scores, _) in done.items():
                    finals.update({(k, row): f for (row, _), f in zip(scoring.get(k, []), scores)})
                ranked = [(k, row, finals[(k, row)]) for k, row in _by_final(head, finals)]
            ranked = ranked[offset:] + [(k, row, 0.0) for _, k, row in rest_rows]
            hits = [replace(done[k][1][row], score=round(score, 4)) for k, row, score in ranked[:per_page]]
            return parts, hits, self._answered(states)

        groups = None
        if by_report:
            parts, groups, answered = self._asking(grouped, parsed, counted=sort == "relevance")
            hits = [h for g in groups for h in g.hits]
        else:
            parts, hits, answered = self._asking(work, parsed, counted=sort == "relevance")
        total = sum(p.total for p in parts.values())
        result = SearchResult(
            query=parsed.text, folded=parsed.folded_display(), total=total,
            reports=sum(p.reports for p in parts.values()), page=page, per_page=per_page, sort=sort, hits=hits,
            facets=_summed_facets(parts.values()), took_ms=(time.perf_counter() - started) * 1000,
            filters=parsed.filters.to_dict(), ambiguous_regions=_ambiguous(parsed.filters, parts.values()) if total else [],
        )
        result.shards = answered.to_dict()
        if groups is not None:
            result.groups, result.group_total = groups, result.reports
        if total < NEAR_OFFER_BELOW:
            result.near = _near_offer(parts.values(), total)
        return result

    def all_hits(self, q: str | ParsedQuery, *, sort: str = "relevance", filters: Filters | None = None,
                 limit: int | None = None, highlights: bool = True) -> tuple[int, Iterator[Hit]]:
        """(the number of hits, every hit in order), as SearchEngine.all_hits: ordered once, the
        hits fetched from their shards EXPORT_CHUNK at a time as the iterator reaches them. A
        shard that moves to a newer generation before the export ends stops it with GenerationGone."""
        _check_sort(sort)
        parsed = q if isinstance(q, ParsedQuery) else self.parse_with(q, filters)
        self._check(parsed)
        everything = 1 << 62

        def work(asked, states, stats):
            gens = {k: s.generation for k, s in states.items()}
            parts = self._round(asked, "partial", lambda k: (gens[k], parsed, stats, sort, limit or everything))
            self._moved(parts, states)
            head, rest = _merged_order(parts, sort, limit or everything)
            finals = self._finals(asked, gens, parsed, stats, head)
            ranked = [(k, row, finals[(k, row)]) for k, row in _by_final(head, finals)]
            ranked += [(k, row, 0.0) for _, k, row in rest]
            return asked, gens, stats, ranked[:limit] if limit is not None else ranked

        asked, gens, stats, ranked = self._asking(work, parsed, counted=sort == "relevance")

        def hits() -> Iterator[Hit]:
            for start in range(0, len(ranked), EXPORT_CHUNK):
                chunk = ranked[start: start + EXPORT_CHUNK]
                wanted: dict[int, list[int]] = {}
                for k, row, _ in chunk:
                    wanted.setdefault(k, []).append(row)
                try:
                    done = self._round({k: asked[k] for k in wanted}, "finish",
                                       lambda k: (gens[k], parsed, stats, [], wanted[k], highlights))
                except _ReplicaLost:
                    raise ReplicaLost("a shard's worker was lost during the export: run it again") from None
                for k, row, score in chunk:
                    yield replace(done[k][1][row], score=round(score, 4))

        return len(ranked), hits()

    def _finals(self, asked, gens, parsed, stats, head) -> dict[tuple[int, int], float]:
        """(shard, row) -> final score of each hit in the corpus's pre-rank head, from its shard."""
        scoring = {k: [(row, -key[0]) for key, kk, row in head if kk == k] for k in asked}
        asking = {k: asked[k] for k in scoring if scoring[k]}
        done = self._round(asking, "finish", lambda k: (gens[k], parsed, stats, scoring[k], [])) if asking else {}
        finals = {}
        for k, (scores, _) in done.items():
            finals.update({(k, row): f for (row, _), f in zip(scoring[k], scores)})
        return finals

    def count(self, q: str | ParsedQuery, filters: Filters | None = None) -> int:
        return self.search(q, filters=filters, sort="report", per_page=1).total

    # -- what one shard answers: the report's, the paragraph's and the article's pages ---------
    def shard_of_report(self, rid: str) -> int:
        return shard_of(report_id(rid), len(self.replicas))

    def _ask(self, k: int, method: str, *args, **kwargs):
        """``method`` of shard k's engine, on its first replica that answers."""
        for replica in self._live(k):
            try:
                return replica.call("ask", method, args, kwargs).result()
            except ReplicaLost:
                self._lose(replica)
        raise ShardMissing(k + 1)

    def _of_report(self, rid: str, method: str, *args, **kwargs):
        return self._ask(self.shard_of_report(rid), method, *args, **kwargs)

    def has_report(self, rid: str) -> bool:
        return self._of_report(rid, "has_report", rid)

    def report(self, rid: str, *, start: int = 0, limit: int | None = None):
        return self._of_report(rid, "report", rid, start=start, limit=limit)

    def report_hits(self, rid: str, q: str, limit: int | None = None):
        return self._of_report(rid, "report_hits", rid, q, *(() if limit is None else (limit,)))

    def articles(self, rid: str):
        return self._of_report(rid, "articles", rid)

    def article(self, rid: str, key: str):
        return self._of_report(rid, "article", rid, key)

    def article_by_id(self, aid: str):
        return self._of_report(rid_of(aid), "article_by_id", aid)

    def paragraph(self, pid: str):
        return self._of_report(rid_of(pid), "paragraph", pid)

    def paragraph_history(self, pid: str, limit: int = 3):
        return self._of_report(rid_of(pid), "paragraph_history", pid, limit)

    def references_in(self, text: str, rid: str = "") -> list:
        """A paragraph's references, each linked by whichever shard holds what it names."""
        found: dict[tuple[int, int], object] = {}
        for k in range(len(self.replicas)):
            try:
                refs = self._ask(k, "references_in", text, rid)
            except ShardMissing:
                continue
            for ref in refs:
                at = (ref.start, ref.end)
                if at not in found or (not _linked(found[at]) and _linked(ref)):
                    found[at] = ref
        return [found[at] for at in sorted(found)]

    # -- what the shards answer together -------------------------------------------------------
    def facets(self, q: str, filters: Filters, of: SearchResult | None = None) -> dict[str, list[tuple[str, int]]]:
        """As SearchEngine.facets: a dimension that ``filters`` selects counted without its own selection."""
        full = of.facets if of is not None else None
        out = {}
        for facet in FACETS:
            others = filters.without(facet)
            if filters.selects(facet) and (q or not others.is_empty()):
                out[facet] = self.search(q, filters=others, sort="report", per_page=1).facets[facet]
                continue
            if full is None:
                full = self.search(q, filters=filters, sort="report", per_page=1).facets
            out[facet] = full[facet]
        return out

    def suggestions(self, q: str, filters: Filters):
        return suggestions(q, filters, self.parse, self.count)

    def emptying_filters(self, q: str, filters: Filters | None = None):
        return emptying_filters(self.parse_with(q, filters), self.count)

    def query_highlights(self, text: str, q: str) -> list[list[int]]:
        return highlight_spans(text, [t.folded for t in self.parse(q).positive_terms()])

    def composed(self, form) -> ParsedQuery:
        return self.parse(form.query())

    def known_values(self, facet: str, limit: int = 500) -> list[str]:
        counts: dict[str, int] = {}
        for k in range(len(self.replicas)):
            try:
                for value, n in self._ask(k, "known_counts", facet).items():
                    counts[value] = counts.get(value, 0) + n
            except ShardMissing:
                continue
        return [v for v, _ in known_order(facet, counts)[:limit]]

    def report_page(self, start: int = 0, limit: int | None = None, order: str = "year") -> ReportPage:
        if start < 0 or (limit is not None and limit < 0):
            raise ValueError(f"start and limit must be ≥ 0 (got {start}, {limit})")
        end = None if limit is None else start + limit
        keyed, total = [], 0
        for k in range(len(self.replicas)):
            try:
                part, n = self._ask(k, "report_keys", order, end)
            except ShardMissing:
                continue
            keyed += part
            total += n
        keyed.sort(key=lambda kr: kr[0])
        return ReportPage(reports=[ref for _, ref in keyed[start:end]], total=total, start=min(start, total), order=order)

    def reports(self) -> list:
        return self.report_page(order="id").reports

    def is_stale(self) -> bool:
        return False  # each shard follows its own index's generations

    def reopened(self):
        return None

    # -- what needs one index over the whole corpus ---------------------------------------------
    def citations(self):
        raise NotOnShards("被引文献（引用索引）")

    def quote(self, text: str, limit: int = 5):
        raise NotOnShards("原文出处查找")

    def similar(self, pid: str, **kwargs):
        raise NotOnShards("相似段落")

    def report_similar(self, rid: str, **kwargs):
        raise NotOnShards("相似报告")

    def reuse(self, filters=None, **kwargs):
        raise NotOnShards("文本复用")

    def reuse_pairs(self, filters=None, done=None):
        raise NotOnShards("文本复用")

    def report_filters(self, text: str) -> Filters:
        raise NotOnShards("文本复用")

    def stats(self) -> dict:
        _, states, _ = self._states(fresh=True)
        return {"reports": sum(s.reports for s in states.values()),
                "paragraphs": sum(s.paragraphs for s in states.values()),
                "generation": {k + 1: s.generation for k, s in states.items()},
                "shards": self._answered(states).to_dict()}


class _ReplicaLost(Exception):
    pass


class ShardMissing(Pending):
    """No replica of the shard that holds a report answers (503 with Retry-After, as any Pending)."""

    code = "shard_missing"

    def __init__(self, shard: int):
        self.shard = shard
        super().__init__(f"保存这份报告的分片（第 {shard} 片）暂时没有可用的工作节点，请稍后再试。")


def _linked(ref) -> bool:
    return bool(getattr(ref, "report_id", None) or getattr(ref, "article_id", None))


def _corpus_stats(states: dict[int, ShardState], answers: dict | None) -> CorpusStats:
    """The shards' figures summed, with the query's term counts when they were asked for."""
    base = _combined(list(states.values()))
    if answers is None:
        return base
    exact: dict[str, int] = {}
    words: dict[str, int] = {}
    for _, ex, wd in answers.values():
        for t, n in ex.items():
            exact[t] = exact.get(t, 0) + n
        for w, n in wd.items():
            words[w] = words.get(w, 0) + n
    return CorpusStats(base.rows, base.exact_lengths, base.whoosh_docs, base.content_lengths, exact, words)


def _by_final(head: list[tuple], finals: dict) -> list[tuple[int, int]]:
    """The head's (shard, row) as one index re-ranks it: by final score, ties to the earlier hit
    (report id, reading order)."""
    return [(k, row) for _, k, row in sorted(head, key=lambda h: (-finals[(h[1], h[2])], h[0][1:]))]


def _merged_order(parts: dict[int, ShardPartial], sort: str, limit: int) -> tuple[list[tuple], list[tuple]]:
    """(the corpus's pre-rank head, (key, shard, row) best first, for relevance; the hits after
    it in one index's order, up to ``limit`` in all)."""
    if sort != "relevance":
        return [], sorted((key, k, row) for k, p in parts.items() for key, row in p.top)[:limit]
    head = sorted((key, k, row) for k, p in parts.items() for key, row in p.head)[:RERANK_DEPTH]
    if limit <= len(head):
        return head, []
    in_head = {(k, row) for _, k, row in head}
    rest = sorted((key, k, row) for k, p in parts.items() for key, row in p.top if (k, row) not in in_head)
    return head, rest[: limit - len(head)]


def _summed_facets(parts) -> dict[str, list[tuple[str, int]]]:
    out = {}
    for facet in FACETS:
        counts: dict[str, int] = {}
        for p in parts:
            for value, n in p.facets.get(facet, []):
                counts[value] = counts.get(value, 0) + n
        out[facet] = facet_order(facet, counts)
    return out


def _ambiguous(filters: Filters, parts) -> list[dict]:
    out = []
    for value in filters.region:
        counts: dict[str, int] = {}
        for p in parts:
            for place, n in p.places.get(value, []):
                counts[place] = counts.get(place, 0) + n
        if len(counts) > 1:
            out.append({"value": value, "places": [{"place": p, "count": n} for p, n in place_order(counts)]})
    return out


def _near_offer(parts, exact: int) -> dict | None:
    found = [p.near for p in parts if p.near is not None]
    if not found:
        return None
    candidates = sum(c for _, c, _ in found)
    if candidates > NEAR_OFFER_MAX_CANDIDATES:
        return None
    more = sum(n for _, _, n in found) - exact
    return {**found[0][0], "total": more} if more > 0 else None


def open_local(index_dir: Path, folders: list[Path], **engine_options) -> ShardedEngine:
    """A sharded index searched in this process: every shard opened here."""
    return ShardedEngine([[LocalReplica(ShardSide(f, **engine_options), f.name)] for f in folders], **engine_options)
