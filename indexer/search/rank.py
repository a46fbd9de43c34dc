"""Ranking, and the one module of search/ that touches Whoosh: every hit is pre-ranked by BM25 over
exact term occurrences (vectorised), the best RERANK_DEPTH are scored by Whoosh's BM25F over jieba
words and re-ranked with boosts for words in the section heading and the report title and for the
words standing together. Retired paragraphs' stored fields are read here too, under the same lock."""
from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from whoosh.scoring import BM25F, bm25
from whoosh.util.numeric import byte_to_length

from indexer.analysis import segment_words, words as analyse_words
from indexer.search.match import TermCounts
from indexer.search.query import ParsedQuery, Term
from indexer.search.reports import ReportColumns
from indexer.store.exact import ExactStore

# The best pre-ranked hits that Whoosh scores and the boosts re-rank: a fixed number, so that
# every page is cut from the same ranking.
RERANK_DEPTH = 30
BM25_K1, BM25_B = 1.2, 0.75  # Whoosh's BM25F and the pre-rank both score with these
MAX_CACHED_IDFS = 100_000  # words whose idf an engine remembers
_UNSEEN = object()


@dataclass(frozen=True)
class CorpusStats:
    """What the scores take from the whole corpus: one index's own (``Ranker.own``), or for a
    sharded index the shards' sums (search/shards.py), gathered before the query as
    Elasticsearch's dfs_query_then_fetch does, so that every shard scores as one index would.
    Lengths and counts are integers, so sums in any order are exact and the averages equal."""

    rows: int  # live paragraphs (the pre-rank's N)
    exact_lengths: int  # their folded lengths, summed
    whoosh_docs: int  # Whoosh's doc_count_all: every document, deleted or not (its idf's N)
    content_lengths: int  # Whoosh's field_length("content")
    exact_df: dict[str, int] | None = field(default=None, compare=False)  # folded term -> paragraphs; None: own
    word_df: dict[str, int] | None = field(default=None, compare=False)  # jieba word -> Whoosh doc_frequency

    @property
    def avg_exact_length(self) -> float:
        return self.exact_lengths / self.rows if self.rows else 1.0

    @property
    def avg_content_length(self) -> float:
        # As Whoosh's avg_field_length and BM25FScorer have it (``or 1``: an empty index).
        return (self.content_lengths / (self.whoosh_docs or 1)) or 1

    def idf(self, n: int) -> float:
        """Whoosh's WeightingModel.idf for a word in n documents, to the bit."""
        return math.log(self.whoosh_docs / (n + 1)) + 1


def open_searcher(ix):
    """A Whoosh searcher of the index's newest generation, scoring as the ranking does."""
    return ix.searcher(weighting=BM25F(B=BM25_B, K1=BM25_K1))


def open_stored_fields(searcher) -> None:
    """Open every segment's stored fields now. Whoosh opens them on first use, by path: once an
    update has merged the segment away, or a rebuild has put a new folder at the index path, that
    path names another file or none. Opened now, the engine keeps reading its own generation's files."""
    for leaf, _ in searcher.reader().leaf_readers():
        if leaf.doc_count_all():
            leaf.stored_fields(0)


def top_positions(values: np.ndarray, k: int) -> np.ndarray:
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


def _field_length_bytes(reader, docnums: np.ndarray, fieldname: str) -> np.ndarray:
    """Whoosh's stored length byte of ``fieldname`` for each of these document numbers (decoded
    by ``_BYTE_LENGTHS`` exactly as ``doc_field_length`` answers it), read with one read per
    segment into an array that threads may share. (Whoosh reads it a byte at a time through a
    shared seek-then-read file handle.) One byte a paragraph, not eight: it is kept for the engine's life."""
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
    return lengths[docnums]


class Ranker:
    """Ranks one generation's hits; safe to share between threads."""

    def __init__(self, ix, searcher, store: ExactStore, columns: ReportColumns):
        self.searcher = searcher
        self.store = store
        self.columns = columns
        # Whoosh's readers share one open file per segment file and read it by seek-then-read, so
        # two threads reading at once get each other's bytes (wrong terms, wrong scores). Every use
        # of the searcher after opening goes through this lock: the idf of a word not seen before
        # and a retired paragraph's stored fields. Matching and scoring read no Whoosh file.
        self._whoosh = threading.Lock()
        self.content_length_bytes = _field_length_bytes(searcher.reader(), store.whoosh_docnums(), "content")
        self.own = CorpusStats(len(store), int(store.lengths.sum(dtype=np.int64)), searcher.doc_count_all(),
                               int(searcher.field_length("content")))
        self._idfs: dict[str, float | None] = {}
        self.extra_words = ix.schema["content"].analyzer.extra_words
        analyse_words("预热", self.extra_words)  # load the segmenter's dictionary now, not in the first query

    def retired_fields(self, pid: str) -> dict | None:
        """The stored fields of a retired paragraph id (``retired_rid``, ``text``, ``section``,
        ``ordinal``), None if it was never retired."""
        with self._whoosh:
            return self.searcher.document(retired_pid=pid)

    def query_words(self, terms: list[Term]) -> list[str]:
        return list(dict.fromkeys(w for term in terms for w in analyse_words(term.folded, self.extra_words)))

    def _boost(self, i: int, terms: list[str]) -> float:
        """Re-ranking factor: terms in the section heading or the report title, terms adjacent."""
        factor = 1.0
        section = self.store.folded_section(i)
        title = self.columns.folded_title(int(self.store.report_idx[i]))
        for term in terms:
            if term in section:
                factor *= 2.0
            if term in title:
                factor *= 1.5
        if len(terms) > 1:
            text = self.store.folded_text(i)
            factor *= 1.0 + sum(0.5 for a, b in zip(terms, terms[1:]) if a + b in text)
        return factor

    def prerank(self, terms: list[str], hits: np.ndarray, counts: TermCounts, stats: CorpusStats | None = None
                ) -> np.ndarray:
        """BM25 over exact term occurrences, vectorised over every hit: orders the hits cheaply so
        that Whoosh need only score the few that can reach the page. ``stats``: the corpus's (a
        sharded index's sums), else this index's own."""
        store = self.store
        stats = stats or self.own
        n = stats.rows
        lengths = store.lengths[hits].astype(np.float64)
        avg = stats.avg_exact_length
        score = np.zeros(hits.size)
        for term in dict.fromkeys(terms):
            docs, occ = counts.get(term) or store.term_counts(term)
            if docs.size == 0:
                continue
            df = docs.size if stats.exact_df is None else stats.exact_df[term]
            tf = np.zeros(hits.size)
            pos = np.searchsorted(docs, hits)
            pos[pos >= docs.size] = 0
            present = docs[pos] == hits
            tf[present] = occ[pos[present]]
            idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
            score += idf * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * lengths / avg))
        return score

    def word_frequency(self, word: str) -> int:
        """Whoosh's doc_frequency of a word in ``content`` (a shard's part of the corpus's)."""
        with self._whoosh:
            return self.searcher.doc_frequency("content", word)

    def _idf(self, word: str, stats: CorpusStats | None = None) -> float | None:
        if stats is not None and stats.word_df is not None:
            n = stats.word_df.get(word, 0)
            return stats.idf(n) if n else None
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

    def word_scores(self, words: list[str], rows: list[int], stats: CorpusStats | None = None) -> dict[int, float]:
        """Whoosh's BM25F over jieba words (its formula, idf, average and stored field lengths) for
        just these paragraphs, the sum over the query's words as Whoosh's Or sums them. A word's
        frequency is counted from the paragraph's own words, which are exactly what its postings
        hold, instead of skipping a posting matcher to each paragraph block by block, which cost
        common words several milliseconds. Field lengths come from ``content_lengths``, read once
        when the engine opened, and idfs from ``_idf``: scoring reads no Whoosh file."""
        idfs = {w: idf for w in words if (idf := self._idf(w, stats)) is not None}
        avg = (stats or self.own).avg_content_length
        out: dict[int, float] = {}
        if not idfs:
            return out
        for i in rows:
            counts = Counter(segment_words(self.store.folded_text(i), self.extra_words))
            length = float(_BYTE_LENGTHS[self.content_length_bytes[i]])
            score = 0.0
            for w, idf in idfs.items():
                if counts[w]:
                    score += bm25(idf, float(counts[w]), length, avg, BM25_B, BM25_K1)
            if score:
                out[i] = score
        return out

    def rescored(self, parsed: ParsedQuery, head: np.ndarray, pre: np.ndarray, stats: CorpusStats | None = None
                 ) -> list[float]:
        """The final scores of the pre-rank's head (rows ``head`` with pre-rank scores ``pre``):
        Whoosh's BM25F over jieba words times the boosts, the pre-rank breaking ties."""
        terms = [t.folded for t in parsed.positive_terms()]
        bm25 = self.word_scores(self.query_words(parsed.positive_terms()), head.tolist(), stats)
        return [bm25.get(int(i), 0.0) * self._boost(int(i), terms) + 1e-3 * float(p) for i, p in zip(head, pre)]

    def ranked(self, parsed: ParsedQuery, hits: np.ndarray, limit: int | None,
               counts: TermCounts) -> tuple[np.ndarray, np.ndarray]:
        """(hit rows in rank order up to limit, their scores).

        Every hit is pre-ranked by BM25 over exact occurrences; the best RERANK_DEPTH of them are
        scored by Whoosh's BM25F over jieba words and re-ranked with the section-heading, title and
        adjacency boosts; the rest follow in pre-rank order.
        """
        if hits.size == 0:
            return hits, np.zeros(0)
        terms = [t.folded for t in parsed.positive_terms()]
        pre = self.prerank(terms, hits, counts)
        # Ties go to the earlier hit: hits come in report order (match.matching_rows), the same
        # for a merged index as for a fresh build.
        head_pos = top_positions(pre, RERANK_DEPTH)
        head = hits[head_pos]
        rescored = sorted(
            ((score, int(at), int(i)) for score, i, at in zip(self.rescored(parsed, head, pre[head_pos]), head, head_pos)),
            key=lambda x: (-x[0], x[1]),
        )
        ranked = [i for _, _, i in rescored]
        scores = [sc for sc, _, _ in rescored]
        if limit is None or limit > len(ranked):
            # Past the re-ranked head, hits follow in pre-rank order (a full sort, only when asked).
            order = np.lexsort((np.arange(hits.size), -pre))[len(ranked):]
            if limit is not None:
                order = order[: limit - len(ranked)]
            ranked += hits[order].tolist()
            scores += [0.0] * int(order.size)
        if limit is not None:
            ranked, scores = ranked[:limit], scores[:limit]
        return np.array(ranked, dtype=np.int64), np.array(scores)
