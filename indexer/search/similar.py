"""A paragraph's relatives (issue 16): the paragraphs of other reports that share a passage with
it, numbers and places changed or not.

Candidates are the paragraphs sharing at least ``LEAST_KEYS`` of its fingerprints (reuse.keys;
the store looks them up in every piece), most shared first; the best of them (``CANDIDATES_PER``
times as many as asked for, at least ``CANDIDATES``; alignment is what costs) are aligned with it
(reuse.align) and those with a shared passage are its relatives, the most shared characters first.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from indexer.reuse.align import Passage, comparable, shared_passages
from indexer.reuse.keys import fingerprints
from indexer.search.results import ParagraphView, ReportRef

LEAST_KEYS = 2
CANDIDATES = 30
CANDIDATES_PER = 3


@dataclass(frozen=True)
class Relative:
    paragraph: ParagraphView  # the other paragraph, with its report
    passages: tuple[Passage, ...]  # a: offsets in the asked-for paragraph, b: in this one
    shared: int  # characters equal in the passages
    share: float  # of the asked-for paragraph's characters

    def to_dict(self) -> dict:
        return {"paragraph": asdict(self.paragraph), "shared": self.shared, "share": round(self.share, 3),
                "passages": [p.to_dict() for p in self.passages]}


@dataclass(frozen=True)
class Relatives:
    paragraph: ParagraphView
    relatives: list[Relative] = field(default_factory=list)
    complete: bool = True  # False: some pieces predate text reuse (the index needs a rebuild)

    def to_dict(self) -> dict:
        return {"paragraph": asdict(self.paragraph), "complete": self.complete,
                "relatives": [r.to_dict() for r in self.relatives]}


def _aligned(store, i: int, text: str, form: str, candidates: int) -> tuple[list[tuple[int, int, str]], bool]:
    """([(shared characters, row, its text)], complete): the best ``candidates`` candidates of
    paragraph i (``text``, its comparable ``form``) that share a passage with it, the most shared
    first; ranked by their passages' extents alone (no changes worked out)."""
    rows, _, complete = store.reuse_candidates(i, LEAST_KEYS)
    found: list[tuple[int, int, str]] = []
    for row in rows[:candidates].tolist():
        other = store.text(row)
        passages = shared_passages(text, other, detail=False, a_form=form)
        if passages:
            found.append((sum(p.same for p in passages), row, other))
    found.sort(key=lambda f: (-f[0], f[1]))
    return found, complete


def relative_rows(store, i: int, limit: int) -> list[int]:
    """The rows of paragraph i's first ``limit`` relatives (``relatives_of`` with ``limit`` as
    its candidates), without their views or changes: what a similar: filter needs."""
    text = store.text(i)
    return [row for _, row, _ in _aligned(store, i, text, comparable(text), limit)[0][:limit]]


def relatives_of(store, view_of, i: int, *, limit: int = 20, min_share: float = 0.0,
                 candidates: int | None = None) -> Relatives:
    """Paragraph i's relatives (at most ``limit``, each sharing at least ``min_share`` of its
    characters; the best ``candidates`` are aligned); ``view_of(row)`` is the engine's
    ParagraphView of a row."""
    me = view_of(i)
    places = store.reuse_places(i)
    text = me.text
    form = comparable(text)
    if candidates is None:
        candidates = max(CANDIDATES, CANDIDATES_PER * limit)
    # Only the relatives returned get their changes.
    found, complete = _aligned(store, i, text, form, candidates)
    out = []
    for shared, row, other in found:
        share = shared / max(len(text), 1)
        if share < min_share:
            continue
        passages = tuple(shared_passages(text, other, places + store.reuse_places(row), a_form=form))
        out.append(Relative(view_of(row), passages, shared, share))
        if len(out) >= limit:
            break
    return Relatives(me, out, complete)


# -- a report's relatives ------------------------------------------------------------------------
ORIGINAL, SHARED, BOILERPLATE = "original", "shared", "boilerplate"
BOILERPLATE_REPORTS = 10  # a paragraph shared with more reports than this is boilerplate
# Fingerprints two paragraphs share for a report's relatives: a shared passage of about
# SHINGLE + 3 * SAMPLE = 20 characters (align.MIN_SHARED), not a common phrase of a dozen.
REPORT_LEAST_KEYS = 4
BOILERPLATE_PARAGRAPHS_PER_REPORT = 2  # a fingerprint in more paragraphs than this times the limit is boilerplate


@dataclass(frozen=True)
class ParagraphPair:
    a: str  # a paragraph of the asked-for report
    b: str  # the paragraph of the other report sharing most of its fingerprints
    shared: int  # characters of a estimated shared: its length times the share of its fingerprints b has
    share: float  # of a's characters


@dataclass(frozen=True)
class ReportRelative:
    report: ReportRef
    shared: int  # characters of the asked-for report found in this one (estimated, as ParagraphPair.shared)
    share: float  # of the asked-for report's body characters
    passages: int  # its paragraphs sharing a passage with this report
    pairs: tuple[ParagraphPair, ...]

    def to_dict(self) -> dict:
        return {"report": asdict(self.report), "shared": self.shared, "share": round(self.share, 3),
                "passages": self.passages, "pairs": [asdict(p) for p in self.pairs]}


@dataclass(frozen=True)
class ReportRelatives:
    report: ReportRef
    relatives: list[ReportRelative]
    status: dict[str, tuple[str, int]]  # body paragraph id -> (ORIGINAL | SHARED | BOILERPLATE, other reports)
    boilerplate_reports: int
    complete: bool = True

    def to_dict(self) -> dict:
        return {"report": asdict(self.report), "complete": self.complete, "boilerplate_reports": self.boilerplate_reports,
                "relatives": [r.to_dict() for r in self.relatives],
                "paragraphs": [{"id": pid, "status": s, "reports": n} for pid, (s, n) in self.status.items()]}


DENSE_CELLS = 4_000_000  # (paragraph, report) cells counted with one bincount; more, by sorting


def _counted(own: np.ndarray, reports: np.ndarray, n_own: int, n_reports: int):
    """(owner, report, count) of each pair of ``own`` and ``reports`` that occurs, and how often."""
    code = own * n_reports + reports
    if n_own * n_reports <= DENSE_CELLS:
        counts = np.bincount(code, minlength=n_own * n_reports)
        code = np.flatnonzero(counts)
        found = counts[code]
    else:
        code, found = np.unique(code, return_counts=True)
    return code // n_reports, code % n_reports, found


def _best_rows(own: np.ndarray, rows: np.ndarray, report_idx: np.ndarray, listed: np.ndarray, n: int) -> dict:
    """{(owner, report): the report's row sharing the most of the owner's fingerprints} for the
    reports ``listed``; ``report_idx``: the report of every row."""
    take = np.isin(report_idx[rows], listed)
    code, shared = np.unique(own[take] * n + rows[take], return_counts=True)
    own, rows = code // n, code % n
    reports = report_idx[rows].astype(np.int64)
    order = np.lexsort((rows, -shared, reports, own))
    own, rows, reports = own[order], rows[order], reports[order]
    first = np.ones(own.size, dtype=bool)
    first[1:] = (own[1:] != own[:-1]) | (reports[1:] != reports[:-1])
    return dict(zip(zip(own[first].tolist(), reports[first].tolist()), rows[first].tolist()))


def report_relatives_of(store, ref_of, r: int, *, limit: int | None = 20, min_share: float = 0.0,
                        boilerplate_reports: int = BOILERPLATE_REPORTS) -> ReportRelatives:
    """Report r's relatives: the reports sharing the most of its body text beyond boilerplate,
    each with the share of its characters found there and its paragraphs that share a passage;
    and per body paragraph whether it is original to the corpus, shared, or boilerplate (shared
    with more than ``boilerplate_reports`` reports). Text in more paragraphs of the corpus than
    BOILERPLATE_PARAGRAPHS_PER_REPORT times that is boilerplate: it makes its paragraph
    boilerplate and counts towards no relative, so an ask never follows a template's
    fingerprints to the thousands of reports that have it (its cost grows with what is shared
    by few). The shares are estimated from fingerprints (a paragraph's length times the share of
    its fingerprints the other report has), not aligned: a report has dozens of paragraphs, each
    with candidates in many reports. ``ref_of(r)``: report r's ReportRef; ``limit``: None for
    every relative."""
    lo, hi = store.report_rows(r)
    body = [i for i in range(lo, hi) if store.kind(i) == "body"]
    places = store.reuse_places(lo) if hi > lo else ()
    keys, owners = fingerprints([store.folded_text(i) for i in body], [places] * len(body), folded=True)
    per_owner = np.maximum(np.bincount(owners, minlength=len(body)), 1)
    lengths = np.array([len(store.text(i)) for i in body], dtype=np.int64)
    # Text in more paragraphs than twice the boilerplate limit is boilerplate wherever it is: its
    # fingerprints are counted, not followed to the (thousands of) paragraphs that have them.
    own, rows, hot = store.reuse_matches(keys, owners, most=BOILERPLATE_PARAGRAPHS_PER_REPORT * boilerplate_reports)
    hot_per_owner = np.bincount(owners[hot], minlength=len(body))
    reports = store.report_idx[rows].astype(np.int64)
    elsewhere = reports != r
    own, rows, reports = own[elsewhere], rows[elsewhere], reports[elsewhere]
    # Per (paragraph, other report): how many of the paragraph's fingerprints the report has (a
    # fingerprint in two of its paragraphs counts twice: capped at all of them).
    own_of, report_of, found = _counted(own, reports, len(body), len(store.reports))
    keep = found >= REPORT_LEAST_KEYS
    own_of, report_of, found = own_of[keep], report_of[keep], found[keep]
    fraction = np.minimum(found / per_owner[own_of], 1.0)
    chars = np.rint(fraction * lengths[own_of]).astype(np.int64)
    total = max(int(lengths.sum()), 1)
    by_report = np.bincount(report_of, weights=chars, minlength=len(store.reports)).astype(np.int64)
    passages = np.bincount(report_of, minlength=len(store.reports))
    listed = np.flatnonzero((passages > 0) & (by_report >= min_share * total))
    listed = listed[np.lexsort((listed, -by_report[listed]))]
    if limit is not None:
        listed = listed[:limit]
    best = _best_rows(own, rows, store.report_idx, listed, len(store))
    out = []
    for other in listed.tolist():
        ks = np.flatnonzero(report_of == other).tolist()
        pairs = tuple(ParagraphPair(store.pid(body[int(own_of[k])]), store.pid(best[(int(own_of[k]), other)]),
                                    int(chars[k]), round(float(fraction[k]), 3)) for k in ks)
        out.append(ReportRelative(ref_of(other), int(by_report[other]), int(by_report[other]) / total, len(ks), pairs))
    n_reports = np.bincount(own_of, minlength=len(body))
    status = {}
    for j, i in enumerate(body):
        many = n_reports[j] > boilerplate_reports or hot_per_owner[j] >= REPORT_LEAST_KEYS
        status[store.pid(i)] = (BOILERPLATE if many else SHARED if n_reports[j] else ORIGINAL, int(n_reports[j]))
    return ReportRelatives(ref_of(r), out, status, boilerplate_reports, store.reuse_complete())
