"""Passages across the corpus (issue 16): one generation's clusters of near-duplicate paragraphs
(``reuse.clusters``), made from the fingerprints every piece keeps, once per engine.

A cluster's passage is shown by its earliest paragraph: that of the report dated first (by its
date, then its year). The map answers how many paragraphs of other reports are near-duplicates
of a row (a hit's "相似段落 N"), which rows a cluster holds (``similar:`` and the folding of
near-duplicate hits), and the most reused passages under report filters (``/reuse``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from indexer.reuse.clusters import near_duplicate_labels
from indexer.search.reports import ReportColumns
from indexer.search.results import ParagraphView, ReportRef
from indexer.store.exact import ExactStore

UNDATED = 99_999_999  # an undated report sorts after every dated one


@dataclass(frozen=True)
class ReuseCluster:
    paragraph: ParagraphView  # the earliest report's paragraph
    reports: int  # reports holding one of its paragraphs (under the filters)
    regions: int
    paragraphs: int
    earliest: ReportRef
    years: list[tuple[int | None, int]]  # reports per year, in year order (None: unknown)
    places: list[tuple[str, int]]  # reports per region, most first

    def to_dict(self) -> dict:
        return {"paragraph": asdict(self.paragraph), "reports": self.reports, "regions": self.regions,
                "paragraphs": self.paragraphs, "earliest": asdict(self.earliest),
                "years": [{"year": y, "reports": n} for y, n in self.years],
                "places": [{"region": p, "reports": n} for p, n in self.places]}


@dataclass
class ReusePage:
    clusters: list[ReuseCluster]
    total: int  # clusters spanning two or more reports (under the filters)
    start: int
    filters: dict = field(default_factory=dict)
    complete: bool = True  # False: some pieces predate text reuse (the index needs a rebuild)

    def to_dict(self) -> dict:
        return {"total": self.total, "start": self.start, "filters": self.filters, "complete": self.complete,
                "clusters": [c.to_dict() for c in self.clusters]}


class ReuseMap:
    """Read-only once made: shared by the threads of an engine."""

    def __init__(self, cluster: np.ndarray, members: np.ndarray, starts: np.ndarray, others: np.ndarray,
                 pair_cluster: np.ndarray, pair_report: np.ndarray, pair_rows: np.ndarray, complete: bool):
        self.cluster = cluster  # per row: its cluster's number, -1 in none
        self.members = members  # rows by cluster, then row
        self.starts = starts  # cluster c: members[starts[c]:starts[c + 1]]
        self.others = others  # per row: near-duplicate paragraphs in other reports
        self.pair_cluster = pair_cluster  # each (cluster, report) once, with its paragraphs
        self.pair_report = pair_report
        self.pair_rows = pair_rows
        self.complete = complete

    @classmethod
    def of(cls, store: ExactStore) -> "ReuseMap":
        n = len(store)
        labels = near_duplicate_labels(store.reuse_parts(), n)
        rows = np.flatnonzero(labels >= 0)
        _, number = np.unique(labels[rows], return_inverse=True)
        cluster = np.full(n, -1, dtype=np.int64)
        cluster[rows] = number
        order = np.lexsort((rows, number))
        members, of_member = rows[order], number[order]
        count = int(number.max()) + 1 if number.size else 0
        starts = np.searchsorted(of_member, np.arange(count + 1))
        n_reports = max(len(store.reports), 1)
        code, pair_of, pair_rows = np.unique(of_member * n_reports + store.report_idx[members],
                                             return_inverse=True, return_counts=True)
        others = np.zeros(n, dtype=np.int64)
        others[members] = np.diff(starts)[of_member] - pair_rows[pair_of]
        return cls(cluster, members, starts, others, code // n_reports, code % n_reports, pair_rows,
                   store.reuse_complete())

    def __len__(self) -> int:
        return self.starts.size - 1 if self.starts.size else 0

    def rows_of(self, i: int) -> np.ndarray:
        """The rows of row i's cluster (with i), ascending; just i when it is in none."""
        c = int(self.cluster[i])
        return np.array([i]) if c < 0 else np.sort(self.members[self.starts[c]:self.starts[c + 1]])

    def listing(self, store: ExactStore, columns: ReportColumns, view_of, report_mask: np.ndarray | None,
                start: int, limit: int) -> tuple[list[ReuseCluster], int]:
        """The clusters spanning two or more of the reports ``report_mask`` lets through (all,
        without one), those in the most reports first (then the most paragraphs, then the
        earliest found): [start, start + limit) of them, and how many there are."""
        passing = np.ones(self.pair_report.size, dtype=bool) if report_mask is None else report_mask[self.pair_report]
        n_reports = np.bincount(self.pair_cluster[passing], minlength=len(self))
        n_rows = np.bincount(self.pair_cluster[passing], weights=self.pair_rows[passing], minlength=len(self))
        listed = np.flatnonzero(n_reports >= 2)
        listed = listed[np.lexsort((listed, -n_rows[listed], -n_reports[listed]))]
        out = [self._cluster(int(c), store, columns, view_of, report_mask) for c in listed[start:start + limit]]
        return out, int(listed.size)

    def _cluster(self, c: int, store: ExactStore, columns: ReportColumns, view_of,
                 report_mask: np.ndarray | None) -> ReuseCluster:
        rows = self.members[self.starts[c]:self.starts[c + 1]]
        reports = store.report_idx[rows]
        if report_mask is not None:
            rows, reports = rows[report_mask[reports]], reports[report_mask[reports]]
        dates = columns.date_keys[reports]
        years = columns.years[reports]
        first = int(np.lexsort((rows, np.where(years > 0, years, 9999), np.where(dates > 0, dates, UNDATED)))[0])
        distinct = np.unique(reports).tolist()
        per_year = Counter(int(columns.years[r]) or None for r in distinct)
        per_place = Counter(columns.regions[r] or "未知" for r in distinct)
        return ReuseCluster(
            paragraph=view_of(int(rows[first])), reports=len(distinct), regions=len(per_place), paragraphs=int(rows.size),
            earliest=columns.refs[int(reports[first])],
            years=sorted(per_year.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)),
            places=sorted(per_place.items(), key=lambda kv: (-kv[1], kv[0])))
