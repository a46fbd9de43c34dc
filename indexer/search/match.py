"""Which paragraphs a parsed query matches: its clauses and filters over the exact store, every
paragraph whose folded text contains the term (as Ctrl+F would find it), whatever jieba makes of it."""
from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from indexer.search.query import ParsedQuery
from indexer.search.reports import ReportColumns
from indexer.store.exact import ExactStore

_SENTENCE_SPLIT = re.compile(r"(?<=[。！？!?；;])")

TermCounts = dict[str, tuple[np.ndarray, np.ndarray]]  # folded term: (paragraph rows, occurrences)


def matching_rows(parsed: ParsedQuery, store: ExactStore, columns: ReportColumns,
                  citing_mask: Callable[[str], np.ndarray], counts: TermCounts | None = None) -> np.ndarray:
    """Sorted rows (into the exact store) of every paragraph the query matches.

    ``citing_mask(value)``: a mask of the paragraphs citing a 文号 or a title (``cites:``).
    ``counts``, if given, receives {folded term: (paragraph rows, occurrences)} for ranking.
    """
    counts = {} if counts is None else counts

    def docs(term: str) -> np.ndarray:
        if term not in counts:
            counts[term] = store.term_counts(term)
        return counts[term][0]

    mask = np.ones(len(store), dtype=bool)
    rmask = columns.mask(parsed.filters)
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
        mask &= citing_mask(value)
    for term in parsed.excluded:
        mask[docs(term.folded)] = False
    hits = np.flatnonzero(mask)
    for term in parsed.filters.section:
        hits = np.array([i for i in hits if term.folded in store.folded_section(i)], dtype=np.int64)
    return hits
