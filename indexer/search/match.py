"""Which paragraphs a parsed query matches: its clauses and filters over the exact store, every
paragraph whose folded text contains the term (as Ctrl+F would find it), whatever jieba makes of it.

Clauses (and exclusions) hold of a *source* paragraph, as it stands in the document, even where
the reader split it into several chunks (a run-in heading and the body run in after it, a paragraph
cut at max_chunk_chars; ``Paragraph.block``): ``矛盾纠纷 人民调解`` matches a numbered paragraph whose
short first sentence became a heading chunk and whose body holds the other term. The hits are the
chunks of the matched source paragraphs that hold a clause's term themselves, so that each is shown
with its own section path; ``a /s b`` still needs both terms in one sentence of one chunk. Report
filters, ``cites:``, ``similar:`` and ``section:`` test the chunk shown. In a legal text the source
paragraph is the article (its 款, 项 and 目), so ``article:`` lets through every paragraph of it.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from indexer.citations.references import article_label
from indexer.normalise import fold
from indexer.search.query import ParsedQuery
from indexer.search.reports import ReportColumns
from indexer.store.exact import ExactStore

_SENTENCE_SPLIT = re.compile(r"(?<=[。！？!?；;])")

TermCounts = dict[str, tuple[np.ndarray, np.ndarray]]  # folded term: (paragraph rows, occurrences)


def matching_rows(parsed: ParsedQuery, store: ExactStore, columns: ReportColumns,
                  paragraph_mask: Callable[[str, str], np.ndarray], counts: TermCounts | None = None) -> np.ndarray:
    """Rows (into the exact store) of every paragraph the query matches, in report order
    (``ExactStore.in_report_order``).

    ``paragraph_mask(field, value)``: a mask of the paragraphs a paragraph filter lets through:
    those citing a 文号 or a title (``cites:``), those sharing text with a paragraph (``similar:``).
    ``counts``, if given, receives {folded term: (paragraph rows, occurrences)} for ranking.
    """
    counts = {} if counts is None else counts
    n = len(store)

    def docs(term: str) -> np.ndarray:
        if term not in counts:
            counts[term] = store.term_counts(term)
        return counts[term][0]

    rmask = columns.mask(parsed.filters)
    f = parsed.filters
    if len(parsed.clauses) == 1 and rmask is None and not (parsed.excluded or f.cites or f.similar or f.section
                                                           or f.article):
        # One clause, nothing else: its rows are the answer (no per-paragraph masks to build).
        return store.in_report_order(_clause_rows(parsed.clauses[0], store, docs))
    groups = store.groups  # the source paragraph of every row, numbered across the store
    shown = np.ones(n, dtype=bool)  # rows that pass the filters
    if rmask is not None:
        shown &= rmask[store.report_idx]
    for value in parsed.filters.cites:
        shown &= paragraph_mask("cites", value)
    for value in parsed.filters.similar:
        shown &= paragraph_mask("similar", value)
    if parsed.filters.article:
        shown &= article_mask(store, parsed.filters.article)

    if parsed.clauses:
        group_ok = np.ones(store.group_count, dtype=bool)
        holds = np.zeros(n, dtype=bool)  # rows holding some clause's term(s) themselves
        for clause in parsed.clauses:
            rows = _clause_rows(clause, store, docs)
            holds[rows] = True
            in_clause = np.zeros(store.group_count, dtype=bool)
            in_clause[groups[rows]] = True
            group_ok &= in_clause
        mask = shown & holds & group_ok[groups]
    else:
        mask = shown
    if parsed.excluded:
        dropped = np.zeros(store.group_count, dtype=bool)
        for term in parsed.excluded:
            dropped[groups[docs(term.folded)]] = True
        mask &= ~dropped[groups]
    hits = np.flatnonzero(mask)
    for term in parsed.filters.section:
        hits = np.array([i for i in hits if term.folded in store.folded_section(i)], dtype=np.int64)
    return store.in_report_order(hits)


def article_mask(store: ExactStore, keys: list[str]) -> np.ndarray:
    """The paragraphs of the articles ``keys`` (23, 10-1) of every legal text: the source paragraphs
    whose first chunk opens with the article's label (第二十三条) and has it as its section, found
    through the label's occurrences in the exact store rather than by reading every section."""
    groups = store.groups
    keep = np.zeros(store.group_count, dtype=bool)
    for key in keys:
        label = article_label(key)
        for i in store.docs_containing(fold(label)).tolist():
            section = store.section(i)
            if section and section[-1] == label and store.folded_text(i).startswith(fold(label)):
                keep[groups[i]] = True
    return keep[groups]


def ordered_gap(text: str, words: tuple[str, ...], gaps: tuple[int, ...]) -> int | None:
    """The fewest characters between the words of a near match in ``text`` (folded): ``words`` in
    this order, the i-th beginning at most ``gaps[i - 1]`` characters after the one before ends;
    None when they do not occur so. From each place of the first word, the earliest place of the
    next that is close enough is taken (a later one only leaves less room for the rest)."""
    best = None
    start = text.find(words[0])
    while start >= 0:
        end, total = start + len(words[0]), 0
        for word, gap in zip(words[1:], gaps):
            at = text.find(word, end, end + gap + len(word))
            if at < 0:
                break
            total += at - end
            end = at + len(word)
        else:
            best = total if best is None else min(best, total)
            if best == 0:
                return 0
        start = text.find(words[0], start + 1)
    return best


def ordered_candidates(clause, docs: Callable[[str], np.ndarray]) -> np.ndarray:
    """Rows that may hold a near-match clause: those holding every word. A one-character word
    (一, 率) is left to the check when a longer one narrows the rows, since its rows are a large
    part of the corpus. Each candidate's text is then read and checked (``ordered_gap``)."""
    words = [t.folded for t in clause.ordered]
    narrowing = [w for w in words if len(w) > 1] or words
    cand = docs(narrowing[0])
    for w in narrowing[1:]:
        cand = np.intersect1d(cand, docs(w), assume_unique=True)
    return cand


def _clause_rows(clause, store: ExactStore, docs: Callable[[str], np.ndarray]) -> np.ndarray:
    """Rows whose own text satisfies one clause (ascending)."""
    if clause.ordered:
        words = tuple(t.folded for t in clause.ordered)
        cand = ordered_candidates(clause, docs)
        return np.array([i for i in cand.tolist() if ordered_gap(store.folded_text(i), words, clause.gaps) is not None],
                        dtype=np.int64)
    if clause.same_sentence:
        a, b = clause.same_sentence
        both = np.intersect1d(docs(a.folded), docs(b.folded), assume_unique=True)
        return np.array([i for i in both.tolist()
                         if any(a.folded in s and b.folded in s for s in _SENTENCE_SPLIT.split(store.folded_text(i)))],
                        dtype=np.int64)
    found = [docs(term.folded) for term in clause.any_of]
    if len(found) == 1:
        return found[0]
    union = np.zeros(len(store), dtype=bool)  # linear in the store, where a sort of the hits is not
    for rows in found:
        union[rows] = True
    return np.flatnonzero(union)
