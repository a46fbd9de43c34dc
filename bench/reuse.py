"""Text reuse benchmark (issue 16): how well ``engine.similar`` finds the paragraphs that share a
passage, what it costs to build and to ask.

    python3 bench/reuse.py --reports 1000 [--sample 150] [--base b7913c0]

The corpus is bench/generate.py's with its truth (``--truth``): every body paragraph is made of
seed paragraphs, with numbers, places and names changed, so two paragraphs of different reports
share a passage when they share a seed paragraph, or are made of two seed paragraphs that share
one (the seeds share boilerplate sentences: found by the same alignment between the seed
paragraphs, before any number or place was changed). For a sample of body paragraphs (60 characters
or more, with a known source), the relatives found with every candidate aligned are compared with
that truth (pair precision and recall, micro-averaged), and so are the 20 an ordinary ask returns
(precision@20).

Costs in the same run: the build at this commit against the build at ``--base`` (a commit before
the fingerprints; a git worktree), the warm time of an ordinary ask, and as the reference the
naive method (rapidfuzz's partial_ratio of the paragraph against every paragraph of the corpus).

The corpus-wide part: the time and memory of making the clusters of near-duplicate paragraphs
(``passages.ReuseMap``), their precision (members of a sampled paragraph's cluster that truly
share a passage with it) and recall (of the paragraphs made of exactly its seed paragraphs), a
report's relatives asked warm, and a search with near-duplicates folded against the same search
plain. ``--hot-key N`` sets the store's HOT_KEY (how common a fingerprint may be and still be
followed) to see what it costs recall; ``--reuse-index`` keeps the index of an earlier run.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from run import conditions, machine, percentile, publish  # noqa: E402


def build(code: Path, corpus: Path, index: Path) -> float:
    shutil.rmtree(index, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(corpus), "--index", str(index), "--json"],
                   cwd=code, check=True, capture_output=True, timeout=7200)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--sample", type=int, default=150)
    ap.add_argument("--base", default="", help="Commit to compare the build with (before the fingerprints).")
    ap.add_argument("--hot-key", type=int, default=0, help="The store's HOT_KEY for this run (0: as it is).")
    ap.add_argument("--reuse-index", action="store_true", help="Keep the index an earlier run built.")
    ap.add_argument("--same", type=float, default=0.0, help="clusters.SAME for this run (0: as it is).")
    args = ap.parse_args(argv)
    start = machine()
    out = BENCH / "out" / f"reuse-{args.reports}"
    corpus, truth_file = out / "corpus", out / "truth.jsonl"
    if not truth_file.exists():
        from generate import generate

        shutil.rmtree(corpus, ignore_errors=True)
        generate(args.reports, corpus, truth=truth_file)
    build_s = None if args.reuse_index and (out / "index").exists() else build(ROOT, corpus, out / "index")
    base_s = None
    if args.base:
        worktree = out / "base"
        if not worktree.exists():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), args.base],
                           check=True, capture_output=True)
        base_s = build(worktree, corpus, out / "index-base")
        shutil.rmtree(out / "index-base", ignore_errors=True)

    from indexer.search.engine import SearchEngine
    from indexer.store import exact

    if args.hot_key:
        exact.HOT_KEY = args.hot_key
    from indexer.reuse import clusters

    if args.same:
        clusters.SAME = args.same
    engine = SearchEngine(out / "index")
    sources: dict[tuple[str, str], set[str]] = {}  # (file, text) -> seed paragraph ids
    for line in truth_file.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for text, ids in row["paragraphs"]:
            sources[(row["file"], text)] = set(ids)
    # Seed paragraphs that share a passage among themselves.
    from generate import ReportMaker, load_counties, load_seeds, template_id
    from indexer.reuse.align import shared_passages

    templates = sorted(ReportMaker(load_seeds(), load_counties(200, 1)).templates)
    kin: dict[str, set[str]] = {template_id(t): {template_id(t)} for t in templates}
    for a in range(len(templates)):
        for b in range(a + 1, len(templates)):
            if shared_passages(templates[a], templates[b]):
                kin[template_id(templates[a])].add(template_id(templates[b]))
                kin[template_id(templates[b])].add(template_id(templates[a]))
    by_source: dict[str, set[str]] = {}
    known: dict[str, set[str]] = {}  # pid -> ids
    paragraphs, texts = [], []
    for ref in engine.reports():
        for p in engine.report(ref.id).paragraphs:
            if p.kind != "body":
                continue
            texts.append(p.text)
            ids = sources.get((ref.source, p.text))
            if ids:
                known[p.id] = ids
                for s in ids:
                    by_source.setdefault(s, set()).add(p.id)
                if len(p.text) >= 60:
                    paragraphs.append(p)
    body_count = len(texts)
    rng = random.Random(1)
    sample = rng.sample(paragraphs, min(args.sample, len(paragraphs)))
    found_true = found_all = truth_all = 0
    top_true = top_all = 0
    asks, full_asks = [], []
    for p in sample:
        rid = p.report.id
        related = {k for s in known[p.id] for k in kin.get(s, {s})}
        truth = {q for s in related for q in by_source.get(s, ()) if not q.startswith(rid + "~")}
        t = time.perf_counter()
        full = engine.similar(p.id, limit=100_000, candidates=100_000)
        full_asks.append(time.perf_counter() - t)
        got = {r.paragraph.id for r in full.relatives}
        found_true += len(got & truth)
        found_all += len(got)
        truth_all += len(truth)
        engine.similar(p.id)  # warm
        t = time.perf_counter()
        top = engine.similar(p.id)
        asks.append(time.perf_counter() - t)
        top_ids = {r.paragraph.id for r in top.relatives}
        top_true += len(top_ids & truth)
        top_all += len(top_ids)
    # The naive reference: one paragraph against every body paragraph, rapidfuzz partial_ratio.
    from rapidfuzz import fuzz, process

    naive = []
    for p in sample[:5]:
        t = time.perf_counter()
        process.extract(p.text, texts, scorer=fuzz.partial_ratio, limit=20)
        naive.append(time.perf_counter() - t)
    # The clusters: made once, then each sampled paragraph's cluster against the truth.
    import tracemalloc

    from indexer.search.passages import ReuseMap

    tracemalloc.start()
    t = time.perf_counter()
    reuse = ReuseMap.of(engine.store)
    map_s = time.perf_counter() - t
    map_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    engine._reuse.value = reuse
    clustered = int((reuse.cluster >= 0).sum())
    c_true = c_all = c_found = c_truth = 0
    by_sources: dict[frozenset, set[str]] = {}
    for q, ids in known.items():
        by_sources.setdefault(frozenset(ids), set()).add(q)
    for p in sample:
        rid = p.report.id
        i = engine.store.row_of(p.id)
        members = {engine.store.pid(j) for j in reuse.rows_of(i).tolist()} - {p.id}
        members = {m for m in members if not m.startswith(rid + "~")}
        related = {k for s in known[p.id] for k in kin.get(s, {s})}
        sharing = {q for s in related for q in by_source.get(s, ()) if not q.startswith(rid + "~")}
        same = {q for q in by_sources[frozenset(known[p.id])] if not q.startswith(rid + "~")}
        c_true += len(members & sharing)
        c_all += len(members)
        c_found += len(members & same)
        c_truth += len(same)
    rng_r = random.Random(2)
    rids = rng_r.sample([r.id for r in engine.reports()], min(40, len(engine.reports())))
    report_asks = []
    for rid in rids:
        engine.report_similar(rid)
        t = time.perf_counter()
        engine.report_similar(rid)
        report_asks.append(time.perf_counter() - t)
    plain, folded = [], []
    for q in ("法治政府建设", "行政复议", "依法行政", "法律顾问", "行政执法"):
        for collapse, into in ((False, plain), (True, folded)):
            engine.search(q, collapse=collapse)
            t = time.perf_counter()
            engine.search(q, collapse=collapse)
            into.append(time.perf_counter() - t)
    precision = found_true / max(found_all, 1)
    recall = found_true / max(truth_all, 1)
    p50 = percentile(asks, 0.5) * 1000
    lines = [f"### Text reuse at {args.reports:,} generated reports ({body_count:,} body paragraphs)", "",
             conditions(start, f"{len(sample)} sampled paragraphs, {len(known):,} with a known source"), "",
             "| measure | value |", "| --- | --- |",
             f"| pair precision, every candidate aligned | {precision:.3f} ({found_true:,} of {found_all:,}) |",
             f"| pair recall, every candidate aligned | {recall:.3f} ({found_true:,} of {truth_all:,}) |",
             f"| precision of the 20 an ordinary ask returns | {top_true / max(top_all, 1):.3f} ({top_true:,} of {top_all:,}) |",
             f"| ordinary ask, warm: p50 / p95 | {p50:.1f} / {percentile(asks, 0.95) * 1000:.1f} ms |",
             f"| every candidate aligned: p50 | {percentile(full_asks, 0.5) * 1000:.0f} ms |",
             f"| reference: rapidfuzz partial_ratio against every paragraph, p50 | "
             f"{statistics.median(naive) * 1000:.0f} ms ({statistics.median(naive) * 1000 / p50:.0f}× the ordinary ask) |",
             f"| clusters of near-duplicates: made in | {map_s:.1f} s, peak {map_peak / 2**20:.0f} MB traced "
             f"({len(reuse):,} clusters, {clustered:,} paragraphs in them) |",
             f"| cluster precision (members sharing a passage) | {c_true / max(c_all, 1):.3f} ({c_true:,} of {c_all:,}) |",
             f"| cluster recall (paragraphs of exactly its seeds) | {c_found / max(c_truth, 1):.3f} ({c_found:,} of {c_truth:,}) |",
             f"| a report's relatives, warm: p50 / p95 ({len(rids)} reports) | {percentile(report_asks, 0.5) * 1000:.1f} / "
             f"{percentile(report_asks, 0.95) * 1000:.1f} ms |",
             f"| search, near-duplicates folded / plain: median of 5 queries | {statistics.median(folded) * 1000:.1f} / "
             f"{statistics.median(plain) * 1000:.1f} ms |",
             f"| build at this commit | {f'{build_s:.1f} s' if build_s is not None else '(index of an earlier run)'} |"]
    if args.hot_key:
        lines.append(f"| HOT_KEY for this run | {args.hot_key:,} |")
    lines.append(f"| clusters: least estimated Jaccard similarity (SAME) | {clusters.SAME} |")
    if base_s is not None and build_s is not None:
        lines.append(f"| build at {args.base} (no fingerprints), same run | {base_s:.1f} s "
                     f"(fingerprints add {(build_s / base_s - 1) * 100:+.0f} %) |")
    publish(f"reuse-{args.reports}", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
