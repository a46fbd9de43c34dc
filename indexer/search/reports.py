"""Per-report columns of one generation, built once when an engine opens: what the report filters
test (years, dates, regions, types, 文号), the report titles the ranking boosts, and the facet codes
hits are counted by. The folded columns were folded when each report was written
(pieces.report_columns_of): opening folds nothing."""
from __future__ import annotations

import numpy as np

from indexer.normalise import fold, fold_docno
from indexer.search.query import FACETS, Filters
from indexer.search.results import UNKNOWN, ReportRef
from indexer.store.exact import ExactStore
from indexer.store.pieces import ISSUER_SEPARATOR

# A county's common name drops what comes between its first characters and this last one
# (互助土族自治县 is 互助县, 阿克塞哈萨克族自治县 阿克塞县).
_SHORT_NAME_ENDS = "县区市旗"


def _in_range(keys: np.ndarray, lo: int | None, hi: int | None) -> list[np.ndarray]:
    """The masks of keys ≥ lo and of known keys (> 0) ≤ hi, for the bounds that are set."""
    out = [keys >= lo] if lo is not None else []
    return out + ([(keys <= hi) & (keys > 0)] if hi is not None else [])


def _holding(column: list[str], values: list[str]) -> np.ndarray:
    """Reports whose (folded) text in ``column`` holds one of ``values``; an empty text none."""
    return np.array([bool(t) and any(v in t for v in values) for t in column], dtype=bool)


def _region_labels(regions: list[str], places: list[str]) -> list[str]:
    """Each report's region as the region facet shows it: the county's name, or where counties of
    that name lie in several cities of the corpus (朝阳区), its place written out (北京市朝阳区)."""
    places_of: dict[str, set[str]] = {}
    for region, place in zip(regions, places):
        places_of.setdefault(region, set()).add(place)
    return [UNKNOWN if not region else place if len(places_of[region]) > 1 else region
            for region, place in zip(regions, places)]


def report_ref(row) -> ReportRef:
    m = row.meta
    return ReportRef(id=row.rid, title=m.get("title", ""), region=m.get("region", ""), year=m.get("year"),
                     source=row.source, doc_type=m.get("doc_type", ""), date=m.get("date", ""),
                     city=m.get("city", ""), province=m.get("province", ""), doc_number=m.get("doc_number", ""),
                     issuers=tuple(m.get("issuers") or ()))


class FacetCodes:
    """A facet dimension's values as codes: value ``codes[j]`` (a label's index) belongs to report
    ``owners[j]``; a report has one value per dimension, or several (its issuers)."""

    def __init__(self, owners: np.ndarray | None, codes: np.ndarray, labels: list[str]):
        self.owners = owners  # None: report j has the j-th code
        self.codes = codes
        self.labels = labels

    def counts(self, per_report: np.ndarray) -> np.ndarray:
        """Per label, the sum of ``per_report`` over the reports that have it."""
        weights = per_report if self.owners is None else per_report[self.owners]
        return np.bincount(self.codes, weights=weights, minlength=len(self.labels)).astype(np.int64)


def _codes(values: list[str]) -> FacetCodes:
    labels = sorted(set(values))
    index = {v: i for i, v in enumerate(labels)}
    return FacetCodes(None, np.array([index[v] for v in values], dtype=np.int64), labels)


def _codes_of_lists(values: list[list[str]]) -> FacetCodes:
    labels = sorted({v for vs in values for v in vs})
    index = {v: i for i, v in enumerate(labels)}
    owners = np.repeat(np.arange(len(values), dtype=np.int64), [len(vs) for vs in values])
    return FacetCodes(owners, np.array([index[v] for vs in values for v in vs], dtype=np.int64), labels)


class ReportRefs:
    """``refs[r]``: report r's ``ReportRef``, built from its row when first asked for and kept,
    so that every caller gets the same object; a racing thread may build one twice, harmlessly."""

    def __init__(self, table):
        self._table = table
        self._refs: dict[int, ReportRef] = {}

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, r: int) -> ReportRef:
        ref = self._refs.get(r)
        if ref is None:
            ref = self._refs.setdefault(r, report_ref(self._table[r]))
        return ref

    def peek(self, r: int) -> ReportRef:
        """Report r's ref without keeping it (``ReportTable.peek``): memory stays flat over an export."""
        ref = self._refs.get(r)
        return ref if ref is not None else report_ref(self._table.peek(r))

    def __iter__(self):
        return (self[r] for r in range(len(self)))


def facet_order(facet: str, counts: dict[str, int]) -> list[tuple[str, int]]:
    """A facet's (value, count) as shown: years in order, the others most first."""
    return sorted(counts.items(), key=(lambda kv: kv[0]) if facet == "year" else (lambda kv: (-kv[1], kv[0])))


def known_order(facet: str, counts: dict[str, int]) -> list[tuple[str, int]]:
    """A facet's values as the advanced search offers them: years newest first, the others most
    reports first."""
    if facet == "year":
        return sorted(counts.items(), key=lambda kv: kv[0], reverse=True)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def place_order(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


class ReportColumns:
    """One entry per report of the store, in the store's report order (by id); read-only once
    built. Built from the report table's header columns: no report's row is decoded to open."""

    def __init__(self, store: ExactStore):
        table = store.reports
        self._table = table
        self.rids = table.rids
        self.refs = ReportRefs(table)
        self.years = np.array(table.column("year"), dtype=np.int32)
        self.date_keys = np.array([int(d.replace("-", "")) if d else 0 for d in table.column("date")], dtype=np.int64)
        self.regions = table.column("region")
        self.region_text = table.column("region_text")
        self.folded_regions = [fold(r) for r in self.regions]
        self.places = table.column("place")
        folded_place = {p: fold(p) for p in set(self.places)}
        self.folded_places = [folded_place[p] for p in self.places]
        self._place_codes = _codes(self.places)
        parts = {}
        for place, province, city, county in zip(self.places, table.column("province"), table.column("city"),
                                                 self.regions):
            parts.setdefault(place, list(dict.fromkeys(n for n in (province, city, county) if n)))
        self._place_parts = [parts[label] for label in self._place_codes.labels]  # as place_of writes them
        self.types = table.column("type")
        self.docnos = table.column("docno")
        self.titles = table.column("title")
        self.issuer_text = table.column("issuer_text")
        self._store = store
        self.facet_codes = {
            "region": _codes(_region_labels(self.regions, self.places)),
            "year": _codes([str(y) if y else UNKNOWN for y in self.years.tolist()]),
            "type": _codes([v or UNKNOWN for v in table.column("doc_type")]),
            "issuer": _codes_of_lists([v.split(ISSUER_SEPARATOR) if v else [UNKNOWN] for v in table.column("issuers")]),
        }

    def folded_title(self, r: int) -> str:
        """Report r's title, folded (the ranking boosts terms in it)."""
        return self.titles[r]

    def __len__(self) -> int:
        return len(self.refs)

    def rows(self, r: int) -> tuple[int, int]:
        """[lo, hi): the store rows of report r's paragraphs, in reading order."""
        return self._store.report_rows(r)

    def mask(self, f: Filters) -> np.ndarray | None:
        """Which reports pass the report filters (region, year, date, title, issuer, type, report,
        文号); None when no report filter is set. Values of one filter are OR-ed, filters AND-ed."""
        parts: list[np.ndarray] = []
        if f.region:
            parts.append(np.logical_or.reduce([self.region_mask(v) for v in f.region]))
        parts += _in_range(self.years, f.year_from, f.year_to) + _in_range(self.date_keys, f.date_from, f.date_to)
        if f.years:
            parts.append(np.isin(self.years, np.array(f.years, dtype=np.int32)))
        if f.title:
            parts.append(_holding(self.titles, f.title))
        if f.issuer or f.issuer_is:
            parts.append(_holding(self.issuer_text, f.issuer) | self.issuer_mask(f.issuer_is))
        if f.doc_type:
            parts.append(_holding(self.types, f.doc_type))
        if f.report:
            wanted = set(f.report)
            parts.append(np.array([rid in wanted for rid in self.rids], dtype=bool))
        if f.docno:
            wanted_nos = {fold_docno(d) for d in f.docno}
            parts.append(np.array([d in wanted_nos for d in self.docnos], dtype=bool))
        return np.logical_and.reduce(parts) if parts else None

    def issuer_mask(self, values: list[str]) -> np.ndarray:
        """Reports one of whose issuers is one of ``values`` (folded), whole."""
        codes = self.facet_codes["issuer"]
        wanted = [i for i, label in enumerate(codes.labels) if fold(label) in values]
        mask = np.zeros(len(self), dtype=bool)
        mask[codes.owners[np.isin(codes.codes, wanted)]] = True
        return mask

    def region_mask(self, value: str) -> np.ndarray:
        """Reports in the region ``value`` (folded): a county, city or province whose name holds
        it, or else the counties its common short name stands for (互助县: 互助土族自治县; XY县
        is any county named XY…县, XY区 any XY…区)."""
        mask = np.array([value in t or value in p for t, p in zip(self.region_text, self.folded_places)], dtype=bool)
        if mask.any() or len(value) < 3 or value[-1] not in _SHORT_NAME_ENDS:
            return mask
        base, end = value[:-1], value[-1]
        return np.array([r.startswith(base) and r.endswith(end) for r in self.folded_regions], dtype=bool)

    def region_candidates(self, value: str, per_report: np.ndarray, every: bool = False) -> list[tuple[str, int]]:
        """The places the region filter ``value`` (folded) names among the reports with hits, with
        their hits, most first: a province, a city or a county, written out as ``place_of`` writes
        it (which ``region:`` also matches); one place, or none, is no ambiguity (``every``: they
        are listed all the same, for a sharded index to add up)."""
        codes = self._place_codes
        per_place = codes.counts(per_report * self.region_mask(value))
        counts: dict[str, int] = {}
        for k in np.flatnonzero(per_place).tolist():
            named = self._place_parts[k]
            level = next((j for j, name in enumerate(named) if value in fold(name)), len(named) - 1)
            place = "".join(named[: level + 1])
            counts[place] = counts.get(place, 0) + int(per_place[k])
        return place_order(counts) if len(counts) > 1 or every else []

    def hits_per_report(self, hit_reports: np.ndarray) -> np.ndarray:
        """How many hits each report holds, given the report of every hit."""
        return np.bincount(hit_reports, minlength=len(self))

    def facet(self, facet: str, per_report: np.ndarray) -> list[tuple[str, int]]:
        """Paragraph counts per value of one facet dimension (vectorised per report); years in
        order, regions and types by count."""
        codes = self.facet_codes[facet]
        per_value = codes.counts(per_report)
        return facet_order(facet, {codes.labels[v]: int(per_value[v]) for v in np.flatnonzero(per_value)})

    def known_counts(self, facet: str) -> dict[str, int]:
        """Reports per value of one facet dimension over the whole corpus (unknown left out)."""
        codes = self.facet_codes[facet]
        per_value = codes.counts(np.ones(len(self), dtype=np.int64))
        return {codes.labels[v]: int(per_value[v]) for v in np.flatnonzero(per_value) if codes.labels[v] != UNKNOWN}

    def known_values(self, facet: str, limit: int) -> list[str]:
        """The values of one facet dimension that reports have, most reports first (years newest first)."""
        return [v for v, _ in known_order(facet, self.known_counts(facet))[:limit]]

    def facets(self, per_report: np.ndarray) -> dict[str, list[tuple[str, int]]]:
        """Every facet dimension's counts, given the hits in each report (``hits_per_report``)."""
        return {facet: self.facet(facet, per_report) for facet in FACETS}
