"""Speed benchmark (issue 3): build time, index size, memory, warm query latency and exact recall.

    python3 bench/run.py --reports 1000 [--keep] [--out bench/out] [--profile]

One run: generate the corpus (or reuse bench/corpus-N), build the index from scratch in a child
process, then, in this process, time warm queries (engine.search(q, per_page=10): exact total plus
the top 10 with highlights) and the references measured on the same machine in the same run: raw
jieba segmentation throughput and a plain Python substring scan over the folded paragraph texts,
which is also the truth that the engine's recall and false hits are measured against; and (issue 12,
unless --no-references) SQLite FTS5 with its trigram tokenizer over the same folded paragraphs, and
ripgrep (when installed) over those paragraphs one a line and over the raw corpus files.
Results: a Markdown table on stdout and bench/out/results-N.md, plus bench/out/results-N.json.
"""
from __future__ import annotations

import argparse
import compileall
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # stay on one core: the machine is shared

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

TARGETS = {  # from issue 12 (1k: issue 3)
    100000: {"build_s": 720, "index_mb": 4000, "open_s": 2, "rss_mb": 1500, "p50_ms": 30, "p95_ms": 150, "cli_s": 1},
    10000: {"build_s": 60, "index_mb": 400, "open_s": 0.5, "rss_mb": 400, "p50_ms": 8, "p95_ms": 25, "cli_s": 0.5},
    1000: {"build_s": 15, "p95_ms": 20},
}
CLI_QUERIES = 8  # one-shot `policy-search search` runs timed (the first queries of each category)
REFERENCE_FTS5 = "SQLite FTS5 trigram at 10k reports: recall 1.0, p50 55 ms, p95 832 ms, build 95 s, index 777 MB"


# -- helpers -----------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def rss_now_mb() -> dict:
    """This process's resident memory now (/proc/self/status): all of it, and its anonymous part
    (the heap; the rest is mapped files, the index's pages among them, which the page cache holds)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024
    return {"rss_mb": out.get("VmRSS", float("nan")), "anon_mb": out.get("RssAnon", float("nan")),
            "file_mb": out.get("RssFile", float("nan"))}


def one_shot_cli(index_dir: Path, queries: list[str]) -> dict:
    """Wall time (and peak RSS) of `policy-search search` as a user runs it: a new process per
    query, from start to exit, the index's pages warm in the page cache."""
    cmd = [sys.executable, "-m", "indexer.cli", "search", "--index", str(index_dir), "--limit", "10"]
    # Byte code compiled as an install does it: with PYTHONDONTWRITEBYTECODE set (this machine has
    # it), every run would compile the project's modules again (~45 ms of each one-shot run).
    compileall.compile_dir(str(ROOT / "indexer"), quiet=1)
    subprocess.run(cmd + [queries[0]], capture_output=True, check=True)  # page cache warm
    walls, rss = [], []
    for q in queries:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd + [q], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        walls.append(time.perf_counter() - t)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):  # 1: nothing found, as grep
            raise SystemExit(f"policy-search search {q!r} failed: {proc.stderr.read()[-500:]!r}")
        proc.stderr.close()
        rss.append(usage.ru_maxrss / 1024)
    return {"queries": len(queries), "p50_s": statistics.median(walls), "max_s": max(walls),
            "maxrss_mb": max(rss)}


def size_breakdown(index_dir: Path) -> dict[str, float]:
    """MB on disk by what the files hold."""
    from indexer.store.pieces import PIECE_EXT

    kinds = {"postings": (".pst",), "term tables": (".trm",), "Whoosh stored fields": ("._stored.col",),
             "pieces": (PIECE_EXT,)}
    out = {k: 0.0 for k in [*kinds, "other"]}
    for f in index_dir.rglob("*"):
        if f.is_file():
            kind = next((k for k, ends in kinds.items() if f.name.endswith(ends)), "other")
            out[kind] += f.stat().st_size / 1e6
    return out


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = 0.0
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                ram_gb = int(line.split()[1]) / 1024 / 1024
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "indexer"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": round(ram_gb, 1), "python": platform.python_version(),
            "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "commit": commit,
            "indexer_dirty": bool(dirty), "loadavg": os.getloadavg()[0]}


def conditions(start: dict, extra: str = "") -> str:
    """The line under a result's heading: when, where, which commit, the load at start and now."""
    dirty = " (indexer modified)" if start.get("indexer_dirty") else ""
    return (f"{start['date']} · {start['nproc']} cores · commit {start['commit']}{dirty} · load avg "
            f"{start['loadavg']:.1f} at start, {os.getloadavg()[0]:.1f} at end" + (f" · {extra}" if extra else ""))


def publish(name: str, lines: list[str]) -> None:
    """A benchmark's Markdown, on stdout and in bench/out/<name>.md."""
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / f"{name}.md").write_text(text, encoding="utf-8")


def load_queries(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cat, q = line.split("\t", 1)
        out.append((cat, q))
    return out


# -- build (child process) ---------------------------------------------------------------------
def build_child(corpus: Path, index_dir: Path, profile_out: Path | None) -> None:
    """Runs in a fresh interpreter so that its peak RSS is the build's alone; prints JSON."""
    import indexer.indexing.batches as batches
    import indexer.indexing.update as writer

    if profile_out:
        batches.PARALLEL_FROM = 1 << 30  # profile reading and segmenting too: no worker processes
    shutil.rmtree(index_dir, ignore_errors=True)
    prof = cProfile.Profile() if profile_out else None
    started = time.perf_counter()
    if prof:
        prof.enable()
    # From scratch = into an empty directory (rebuild=True would also copy nothing: same path).
    summary = writer.update_index([corpus], index_dir)
    if prof:
        prof.disable()
    took = time.perf_counter() - started
    if prof:
        prof.dump_stats(str(profile_out))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "build_s": took, "maxrss_mb": maxrss_mb(),
        "worker_maxrss_mb": children.ru_maxrss / 1024, "worker_cpu_s": children.ru_utime + children.ru_stime,
        "reports": summary.reports, "paragraphs": summary.paragraphs, "skipped": len(summary.skipped),
        "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
    }))


def run_build(corpus: Path, index_dir: Path, profile_out: Path | None, cpus: int | None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--build-child", str(corpus), str(index_dir)]
    if cpus:
        cmd = ["taskset", "-c", ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:cpus])] + cmd
    if profile_out:
        cmd += ["--profile-out", str(profile_out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"build failed ({proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- references --------------------------------------------------------------------------------
SOURCE_JOIN = "\x1f"  # between the chunks of one source paragraph: no folded text or query holds it


def source_texts(store) -> list[str]:
    """The folded text of every source paragraph (``store.groups``: a run-in heading and its body,
    the chunks of a long paragraph), its chunks joined by SOURCE_JOIN, so that a term cannot match
    across the join (the engine matches within chunks)."""
    texts: list[list[str]] = [[] for _ in range(store.group_count)]
    for i, g in enumerate(store.groups.tolist()):
        texts[g].append(store.folded_text(i))
    return [SOURCE_JOIN.join(t) for t in texts]


def engine_groups(engine, parsed) -> set[int]:
    """The source paragraphs of the engine's hits (what the references find)."""
    return set(engine.store.groups[engine.match(parsed)].tolist())


def scan_matches(texts: list[str], parsed) -> list[int]:
    """The query's semantics evaluated with Python `in` over folded texts (of source paragraphs)."""
    clauses = [[t.folded for t in c.any_of] for c in parsed.clauses if not c.same_sentence]
    if any(c.same_sentence for c in parsed.clauses) or not parsed.filters.is_empty():
        raise ValueError("the scan reference handles terms, OR and exclusions only")
    excluded = [t.folded for t in parsed.excluded]
    if len(clauses) == 1 and len(clauses[0]) == 1 and not excluded:
        term = clauses[0][0]
        return [i for i, t in enumerate(texts) if term in t]
    return [i for i, t in enumerate(texts)
            if all(any(a in t for a in c) for c in clauses) and not any(x in t for x in excluded)]


def text_sample(files: list[Path], min_bytes: int) -> tuple[list[str], int]:
    """The texts of the first files that add up to at least min_bytes, and their size in bytes."""
    sample: list[str] = []
    size = 0
    for f in files:
        text = f.read_text(encoding="utf-8")
        sample.append(text)
        size += len(text.encode("utf-8"))
        if size >= min_bytes:
            break
    return sample, size


def jieba_throughput(files: list[Path], min_bytes: int) -> dict:
    import jieba

    jieba.initialize()
    sample, size = text_sample(files, min_bytes)
    t = time.perf_counter()
    words = 0
    for text in sample:
        for _ in jieba.cut(text):
            words += 1
    took = time.perf_counter() - t
    return {"sample_mb": size / 1e6, "sample_files": len(sample), "seconds": took, "mb_s": size / 1e6 / took,
            "words": words}


def segment_throughput(files: list[Path], min_bytes: int) -> dict:
    """The indexer's own analysis (fold + rjieba segmentation with its per-run cache), same sample as jieba."""
    from indexer.analysis import forget_segmenters, segment
    from indexer.normalise import fold

    forget_segmenters()  # a cold per-run cache, as a fresh indexer process starts
    texts, size = text_sample(files, min_bytes)
    t = time.perf_counter()
    for text in texts:
        segment(fold(text))
    took = time.perf_counter() - t
    return {"sample_mb": size / 1e6, "seconds": took, "mb_s": size / 1e6 / took}


def fts5_trigram_available() -> bool:
    """SQLite 3.34+ built with FTS5 (its trigram tokenizer)."""
    import sqlite3

    if sqlite3.sqlite_version_info < (3, 34, 0):
        return False
    try:
        con = sqlite3.connect(":memory:")
        con.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='trigram case_sensitive 1')")
        con.close()
        return True
    except sqlite3.Error:
        return False


def fts5_build(texts: list[str], db_path: Path):
    """One row per text (rowid = its index + 1: a source paragraph, see source_texts); returns (connection, seconds).

    Timed: create, insert in one transaction, 'optimize' (merge into one b-tree), commit. Folded text is
    lower case already, so `case_sensitive 1` makes MATCH byte-exact like the engine."""
    import sqlite3

    for suffix in ("", "-journal", "-wal"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    t = time.perf_counter()
    con = sqlite3.connect(str(db_path))
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("CREATE VIRTUAL TABLE para USING fts5(body, tokenize='trigram case_sensitive 1')")
    with con:
        con.executemany("INSERT INTO para(rowid, body) VALUES (?, ?)", ((i + 1, x) for i, x in enumerate(texts)))
        con.execute("INSERT INTO para(para) VALUES ('optimize')")
    return con, time.perf_counter() - t


def _fts5_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def fts5_where(parsed) -> tuple[str, list[str]]:
    """The query as an SQL condition on table `para`: clauses whose terms all have >= 3 characters
    become one FTS5 MATCH expression (phrases, OR within a clause, AND between clauses, NOT for
    excluded terms of >= 3 characters); any other clause is an OR of `body LIKE '%term%'`, and a
    shorter excluded term `body NOT LIKE '%term%'`, ANDed with the MATCH (or alone: a full scan)."""
    if any(c.same_sentence for c in parsed.clauses) or not parsed.filters.is_empty():
        raise ValueError("the FTS5 reference handles terms, OR and exclusions only")
    match, conds, params = [], [], []
    like = "body LIKE ? ESCAPE '\\'"
    for c in parsed.clauses:
        alts = [t.folded for t in c.any_of]
        if all(len(a) >= 3 for a in alts):
            match.append("(" + " OR ".join(_fts5_phrase(a) for a in alts) + ")")
        else:
            conds.append("(" + " OR ".join([like] * len(alts)) + ")")
            params += [_like_pattern(a) for a in alts]
    expr = " AND ".join(match)
    for x in (t.folded for t in parsed.excluded):
        if len(x) >= 3 and expr:
            expr = f"({expr}) NOT {_fts5_phrase(x)}"
        else:
            conds.append("NOT " + like)
            params.append(_like_pattern(x))
    if expr:
        conds.insert(0, "para MATCH ?")
        params.insert(0, expr)
    return " AND ".join(conds) or "1", params


def fts5_search(con, parsed, limit: int = 10) -> tuple[int, list[tuple[int, str]]]:
    """Exact total and the first `limit` rows (store index, text), in rowid order."""
    where, params = fts5_where(parsed)
    total = con.execute(f"SELECT count(*) FROM para WHERE {where}", params).fetchone()[0]
    rows = con.execute(f"SELECT rowid - 1, body FROM para WHERE {where} LIMIT {int(limit)}", params).fetchall()
    return total, rows


def fts5_matches(con, parsed) -> list[int]:
    where, params = fts5_where(parsed)
    return [r[0] - 1 for r in con.execute(f"SELECT rowid FROM para WHERE {where}", params)]


def rg_args(parsed, use_raw: bool = False) -> list[str]:
    """ripgrep arguments for the query's semantics on one line: a fixed string (or several, OR) for a
    single clause without exclusions, otherwise a PCRE2 pattern of lookaheads (AND of clauses, OR
    within one, negative lookaheads for exclusions) that consumes the whole line."""
    import re

    if any(c.same_sentence for c in parsed.clauses) or not parsed.filters.is_empty():
        raise ValueError("the ripgrep reference handles terms, OR and exclusions only")
    pick = (lambda t: t.raw) if use_raw else (lambda t: t.folded)
    clauses = [[pick(t) for t in c.any_of] for c in parsed.clauses]
    if len(clauses) == 1 and not parsed.excluded:
        return ["-F"] + [a for term in clauses[0] for a in ("-e", term)]
    pattern = "^" + "".join("(?=.*(?:" + "|".join(re.escape(a) for a in c) + "))" for c in clauses)
    pattern += "".join("(?!.*" + re.escape(pick(t)) + ")" for t in parsed.excluded) + ".*"
    return ["-P", "-e", pattern]


def rg_count(rg: str, args: list[str], paths: list[str]) -> int:
    """Matching lines summed over the files (`rg -c`)."""
    proc = subprocess.run([rg, "-c", "--no-filename", *args, "--", *paths], capture_output=True, text=True)
    return sum(int(x) for x in proc.stdout.split())


def rg_lines(rg: str, args: list[str], path: str) -> set[int]:
    """0-based numbers of the matching lines of one file (untimed; for recall)."""
    proc = subprocess.run([rg, "-n", "-o", "-r", "", "--no-filename", *args, "--", path],
                          capture_output=True, text=True)
    return {int(x.split(":", 1)[0]) - 1 for x in proc.stdout.splitlines() if x}


def references(engine, texts: list[str], per_query: list[dict], truths: list[set[int]], corpus: Path,
               files: list[Path], out: Path, n: int, repeats: int, log) -> tuple[dict | None, dict | None]:
    """SQLite FTS5 trigram and ripgrep, on the same folded paragraphs and queries; adds per-query
    figures to per_query. Returns (fts5, ripgrep), None where unavailable."""
    import sqlite3

    fts5 = None
    if fts5_trigram_available():
        db_path = out / f"fts5-{n}.sqlite"
        con, build_s = fts5_build(texts, db_path)
        lat = []
        for r, truth in zip(per_query, truths):
            parsed = engine.parse(r["query"])
            fts5_search(con, parsed)  # warm-up
            q_lat = []
            for _ in range(repeats):
                t = time.perf_counter()
                total, _rows = fts5_search(con, parsed)
                q_lat.append((time.perf_counter() - t) * 1000)
            hits = set(fts5_matches(con, parsed))
            r["fts5"] = {"total": total, "p50_ms": statistics.median(q_lat), "max_ms": max(q_lat),
                         "recall": len(hits & truth) / len(truth) if truth else 1.0,
                         "false_hits": len(hits - truth)}
            lat += q_lat
        con.close()
        fts5 = {"sqlite": sqlite3.sqlite_version, "build_s": build_s, "index_mb": db_path.stat().st_size / 1e6,
                "p50_ms": percentile(lat, 0.5), "p95_ms": percentile(lat, 0.95), "samples": len(lat),
                "recall_min": min(r["fts5"]["recall"] for r in per_query),
                "false_hits": sum(r["fts5"]["false_hits"] for r in per_query)}
        db_path.unlink(missing_ok=True)
        log(f"FTS5 build {build_s:.1f} s, {fts5['index_mb']:.0f} MB; p50 {fts5['p50_ms']:.1f} ms "
            f"p95 {fts5['p95_ms']:.1f} ms; recall min {fts5['recall_min']:.3f}, false hits {fts5['false_hits']}")
    else:
        log(f"SQLite {sqlite3.sqlite_version}: no FTS5 trigram tokenizer")

    rg = shutil.which("rg")
    if not rg:
        return fts5, None
    lines_path = out / f"paragraphs-{n}.txt"  # the folded paragraphs, one a line: line i = store index i
    t = time.perf_counter()
    with open(lines_path, "w", encoding="utf-8") as fh:
        for x in texts:
            fh.write(x + "\n")
    write_s = time.perf_counter() - t
    raw_paths = [str(f) for f in files]
    lat_folded, lat_raw = [], []
    for r, truth in zip(per_query, truths):
        parsed = engine.parse(r["query"])
        folded_args, raw_args = rg_args(parsed), rg_args(parsed, use_raw=True)
        rg_count(rg, folded_args, [str(lines_path)])  # warm-up (page cache)
        rg_count(rg, raw_args, raw_paths)
        fl, rl = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            total = rg_count(rg, folded_args, [str(lines_path)])
            fl.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            raw_lines = rg_count(rg, raw_args, raw_paths)
            rl.append((time.perf_counter() - t) * 1000)
        hits = rg_lines(rg, folded_args, str(lines_path))
        r["rg"] = {"total": total, "p50_ms": statistics.median(fl), "raw_lines": raw_lines,
                   "raw_p50_ms": statistics.median(rl),
                   "recall": len(hits & truth) / len(truth) if truth else 1.0, "false_hits": len(hits - truth)}
        lat_folded += fl
        lat_raw += rl
    version = subprocess.run([rg, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    ripgrep = {"version": version, "write_s": write_s, "file_mb": lines_path.stat().st_size / 1e6,
               "p50_ms": percentile(lat_folded, 0.5), "p95_ms": percentile(lat_folded, 0.95),
               "raw_p50_ms": percentile(lat_raw, 0.5), "raw_p95_ms": percentile(lat_raw, 0.95),
               "raw_files": len(raw_paths), "samples": len(lat_folded),
               "recall_min": min(r["rg"]["recall"] for r in per_query),
               "false_hits": sum(r["rg"]["false_hits"] for r in per_query),
               "note": "one rg process per query; -c counts matching lines"}
    lines_path.unlink(missing_ok=True)
    log(f"ripgrep folded paragraphs p50 {ripgrep['p50_ms']:.1f} ms p95 {ripgrep['p95_ms']:.1f} ms, "
        f"raw files p50 {ripgrep['raw_p50_ms']:.1f} ms; recall min {ripgrep['recall_min']:.3f}")
    return fts5, ripgrep


# -- main --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="policy-search speed benchmark")
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=BENCH / "out")
    ap.add_argument("--keep", action="store_true", help="keep the built index in OUT/index-N")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=Path, default=BENCH / "queries.txt")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats of each query after a warm-up")
    ap.add_argument("--scan-repeats", type=int, default=3)
    ap.add_argument("--jieba-mb", type=float, default=5.0, help="jieba reference sample size (MB)")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile the build and the 3 slowest queries; top functions to OUT/profile-N-*.txt")
    ap.add_argument("--no-references", action="store_true",
                    help="skip the SQLite FTS5 and ripgrep references (the scan and jieba ones still run)")
    ap.add_argument("--cpus", type=int, help="pin the build (and its worker processes) to this many cores")
    ap.add_argument("--reuse-index", action="store_true",
                    help="skip the build: query the index an earlier --keep run left in OUT/index-N "
                         "(its build figures are copied from OUT/results-N.json and marked as reused)")
    ap.add_argument("--build-child", nargs=2, metavar=("CORPUS", "INDEX"), help=argparse.SUPPRESS)
    ap.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.build_child:
        build_child(Path(args.build_child[0]), Path(args.build_child[1]), args.profile_out)
        return 0

    n = args.reports
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"reports_requested": n, "machine": machine(), "no_references": args.no_references}
    log = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)  # noqa: E731

    # 1. corpus
    corpus = BENCH / f"corpus-{n}"
    marker = corpus / ".complete"
    if marker.exists():
        log(f"reusing {corpus}")
        result["generate_s"] = None
    else:
        shutil.rmtree(corpus, ignore_errors=True)
        t = time.perf_counter()
        subprocess.run([sys.executable, str(BENCH / "generate.py"), "--reports", str(n), "--out", str(corpus),
                        "--seed", str(args.seed)], check=True)
        result["generate_s"] = time.perf_counter() - t
        marker.write_text(f"seed={args.seed}\n")
    files = sorted(corpus.glob("*.txt"))
    corpus_bytes = sum(f.stat().st_size for f in files)
    result["corpus"] = {"reports": len(files), "mb": corpus_bytes / 1e6}

    # 2. build from scratch, in a child process
    index_dir = out / f"index-{n}"
    prof_build = out / f"profile-{n}-build.prof" if args.profile else None
    previous = out / f"results-{n}.json"
    if args.reuse_index:
        if not (index_dir.exists() and previous.exists()):
            raise SystemExit(f"--reuse-index needs {index_dir} and {previous} from an earlier --keep run")
        earlier = json.loads(previous.read_text(encoding="utf-8"))
        build = dict(earlier["build"])
        build.setdefault("reused_from", f"{earlier['machine'].get('date', '?')} commit {earlier['machine'].get('commit', '?')}")
        log(f"reusing the index in {index_dir} (built {build['reused_from']})")
        args.keep = True
    else:
        log(f"building index of {len(files)} reports ({corpus_bytes / 1e6:.1f} MB) in {index_dir}")
        build = run_build(corpus, index_dir, prof_build, args.cpus)
        build["cpus"] = args.cpus or os.cpu_count()
        build["mb_s"] = corpus_bytes / 1e6 / build["build_s"]
        build["index_mb"] = dir_size(index_dir) / 1e6
        build["size_mb"] = size_breakdown(index_dir)
    result["build"] = build
    result["corpus"]["paragraphs"] = build["paragraphs"]
    if build["reports"] != len(files):
        result["warning"] = f"index holds {build['reports']} reports, corpus has {len(files)}"
        log("WARNING: " + result["warning"])
    log(f"build {build['build_s']:.1f} s ({build['mb_s']:.2f} MB/s), index {build['index_mb']:.0f} MB, "
        f"peak RSS {build['maxrss_mb']:.0f} MB")
    if prof_build:
        write_profile(prof_build, out / f"profile-{n}-build.txt")

    # 3. warm queries in this process
    from indexer.search.engine import SearchEngine

    queries = load_queries(args.queries)
    t = time.perf_counter()
    engine = SearchEngine(index_dir)
    open_s = time.perf_counter() - t
    rss_open = rss_now_mb()
    per_query = []
    for cat, q in queries:
        engine.search(q, per_page=10)  # warm-up
        lat, match_lat, cpu = [], [], []
        for _ in range(args.repeats):
            t, c = time.perf_counter(), time.process_time()
            res = engine.search(q, per_page=10)
            lat.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        for _ in range(args.repeats):
            t = time.perf_counter()
            engine.match(engine.parse(q))
            match_lat.append((time.perf_counter() - t) * 1000)
        per_query.append({"category": cat, "query": q, "total": res.total, "reports": res.reports,
                          "latencies_ms": lat, "p50_ms": statistics.median(lat), "max_ms": max(lat),
                          "cpu_ms": cpu, "cpu_p50_ms": statistics.median(cpu),
                          "match_p50_ms": statistics.median(match_lat)})
    all_lat = [x for r in per_query for x in r["latencies_ms"]]
    all_cpu = [x for r in per_query for x in r["cpu_ms"]]
    result["query"] = {"open_s": open_s, "rss_open": rss_open, "rss_after": rss_now_mb(),
                       "p50_ms": percentile(all_lat, 0.5), "p95_ms": percentile(all_lat, 0.95),
                       "max_ms": max(all_lat), "samples": len(all_lat), "maxrss_mb": maxrss_mb(),
                       "cpu_p50_ms": percentile(all_cpu, 0.5), "cpu_p95_ms": percentile(all_cpu, 0.95),
                       "match_p50_ms": percentile([r["match_p50_ms"] for r in per_query], 0.5)}
    log(f"open {open_s:.2f} s, RSS {rss_open['rss_mb']:.0f} MB after open, "
        f"{result['query']['rss_after']['rss_mb']:.0f} MB after the queries; "
        f"queries p50 {result['query']['p50_ms']:.1f} ms p95 {result['query']['p95_ms']:.1f} ms")
    firsts = list(dict.fromkeys(cat for cat, _ in queries))
    cli_queries = [next(q for c, q in queries if c == cat) for cat in firsts][:CLI_QUERIES]
    result["cli"] = one_shot_cli(index_dir, cli_queries)
    log(f"one-shot CLI p50 {result['cli']['p50_s']:.2f} s, max {result['cli']['max_s']:.2f} s, "
        f"peak RSS {result['cli']['maxrss_mb']:.0f} MB")

    if args.profile:
        slow = sorted(per_query, key=lambda r: -r["p50_ms"])[:3]
        prof = cProfile.Profile()
        prof.enable()
        for r in slow:
            for _ in range(args.repeats):
                engine.search(r["query"], per_page=10)
        prof.disable()
        path = out / f"profile-{n}-queries.prof"
        prof.dump_stats(str(path))
        write_profile(path, out / f"profile-{n}-queries.txt",
                      header="slowest queries: " + ", ".join(r["query"] for r in slow))

    # 4. references: plain substring scan (also the recall truth), jieba, ripgrep; all of them over
    # source paragraphs (match.py's semantics), so recall and false hits count source paragraphs.
    store = engine.store
    t = time.perf_counter()
    texts = source_texts(store)
    scan_load_s = time.perf_counter() - t
    scan_lat = []
    truths: list[set[int]] = []
    for r in per_query:
        parsed = engine.parse(r["query"])
        engine_hits = engine_groups(engine, parsed)
        lat = []
        for _ in range(args.scan_repeats):
            t = time.perf_counter()
            truth = scan_matches(texts, parsed)
            lat.append((time.perf_counter() - t) * 1000)
        truth_set = set(truth)
        truths.append(truth_set)
        r["scan_total"] = len(truth_set)
        r["scan_p50_ms"] = statistics.median(lat)
        r["recall"] = len(engine_hits & truth_set) / len(truth_set) if truth_set else 1.0
        r["false_hits"] = len(engine_hits - truth_set)
        scan_lat += lat
    result["scan"] = {"load_s": scan_load_s, "p50_ms": percentile(scan_lat, 0.5),
                      "p95_ms": percentile(scan_lat, 0.95), "paragraphs": len(store),
                      "source_paragraphs": store.group_count}
    result["recall_min"] = min(r["recall"] for r in per_query)
    result["false_hits"] = sum(r["false_hits"] for r in per_query)
    log(f"scan p50 {result['scan']['p50_ms']:.1f} ms; recall min {result['recall_min']:.3f}, "
        f"false hits {result['false_hits']}")

    jb_bytes = int(args.jieba_mb * 1e6)
    result["jieba"] = jieba_throughput(files, jb_bytes)
    result["segment"] = segment_throughput(files, jb_bytes)
    log(f"jieba {result['jieba']['mb_s']:.2f} MB/s on {result['jieba']['sample_mb']:.1f} MB")
    if args.no_references:
        result["fts5"], result["ripgrep"] = None, None
    else:
        result["fts5"], result["ripgrep"] = references(engine, texts, per_query, truths, corpus, files, out, n,
                                                       args.repeats, log)
    del texts
    result["per_query"] = per_query
    engine.close()

    result["ratios"] = {
        "build_vs_jieba": build["mb_s"] / result["jieba"]["mb_s"],
        "p50_vs_scan": result["query"]["p50_ms"] / result["scan"]["p50_ms"],
        "p95_vs_scan": result["query"]["p95_ms"] / result["scan"]["p95_ms"],
    }
    for key in ("fts5", "ripgrep"):
        if result.get(key):
            result["ratios"][f"p50_vs_{key}"] = result["query"]["p50_ms"] / result[key]["p50_ms"]
            result["ratios"][f"p95_vs_{key}"] = result["query"]["p95_ms"] / result[key]["p95_ms"]
    result["loadavg_end"] = os.getloadavg()[0]
    md = render(result)
    print(md)
    (out / f"results-{n}.md").write_text(md, encoding="utf-8")
    (out / f"results-{n}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if not args.keep:
        shutil.rmtree(index_dir, ignore_errors=True)
    return 0


def write_profile(prof_path: Path, txt_path: Path, header: str = "", top: int = 35) -> None:
    buf = io.StringIO()
    if header:
        buf.write(header + "\n")
    st = pstats.Stats(str(prof_path), stream=buf).strip_dirs()
    st.sort_stats("cumulative").print_stats(top)
    st.sort_stats("tottime").print_stats(top)
    txt_path.write_text(buf.getvalue(), encoding="utf-8")


def _status(value: float, limit: float | None) -> str:
    if limit is None:
        return ""
    return f"≤ {limit:g}: " + ("**met**" if value <= limit else f"**missed** ({value / limit:.1f}×)")


def render(r: dict) -> str:
    m, c, b, q, s, j = r["machine"], r["corpus"], r["build"], r["query"], r["scan"], r["jieba"]
    tgt = TARGETS.get(c["reports"], {})
    lines = [
        f"## {c['reports']:,} reports — {c['mb']:.1f} MB, {c['paragraphs']:,} paragraphs",
        "",
        f"{m['date']} · {m['nproc']} cores · {m['cpu']} · {m['ram_gb']:g} GB RAM · Python {m['python']} · "
        f"commit {m['commit']}{' (indexer/ modified in working tree)' if m['indexer_dirty'] else ''} · "
        f"load avg {m['loadavg']:.1f} at start, {r.get('loadavg_end', float('nan')):.1f} at end",
        "",
        "| metric | value | reference / ratio | target (issue 12; 1k: issue 3) |",
        "|---|---|---|---|",
        f"| build from scratch{' (reused: ' + b['reused_from'] + ')' if b.get('reused_from') else ''} | "
        f"{b['build_s']:.1f} s ({b['mb_s']:.2f} MB/s) | "
        f"{r['ratios']['build_vs_jieba']:.2f}× raw jieba throughput | {_status(b['build_s'], tgt.get('build_s'))} |",
        f"| index size on disk | {b['index_mb']:.0f} MB ("
        + ", ".join(f"{k} {v:.0f}" for k, v in b.get("size_mb", {}).items()) + ") | "
        f"{b['index_mb'] / c['mb']:.1f}× corpus | {_status(b['index_mb'], tgt.get('index_mb'))} |",
        f"| peak RSS, build process | {b['maxrss_mb']:.0f} MB (largest worker process {b.get('worker_maxrss_mb', 0):.0f} MB) | "
        f"CPU {b['cpu_s']:.0f} s + workers {b.get('worker_cpu_s', 0):.0f} s on {b.get('cpus', '?')} cores | |",
        f"| engine open | {q['open_s']:.2f} s | | {_status(q['open_s'], tgt.get('open_s'))} |",
        f"| RSS of the query process after open / after the queries | {q['rss_open']['rss_mb']:.0f} / "
        f"{q['rss_after']['rss_mb']:.0f} MB (heap {q['rss_open']['anon_mb']:.0f} / {q['rss_after']['anon_mb']:.0f} MB, "
        f"mapped index pages {q['rss_after']['file_mb']:.0f} MB) | peak {q['maxrss_mb']:.0f} MB | "
        f"{_status(q['rss_after']['rss_mb'], tgt.get('rss_mb'))} |",
        f"| one-shot CLI `policy-search search` ({r['cli']['queries']} queries, new process each) | "
        f"p50 {r['cli']['p50_s']:.2f} s, max {r['cli']['max_s']:.2f} s | peak RSS {r['cli']['maxrss_mb']:.0f} MB | "
        f"{_status(r['cli']['max_s'], tgt.get('cli_s'))} |",
        f"| query p50 (search, total + top 10 + highlights) | {q['p50_ms']:.1f} ms | "
        f"{r['ratios']['p50_vs_scan']:.3f}× scan | {_status(q['p50_ms'], tgt.get('p50_ms'))} |",
        f"| query p95 | {q['p95_ms']:.1f} ms (max {q['max_ms']:.0f}) | {r['ratios']['p95_vs_scan']:.3f}× scan | "
        f"{_status(q['p95_ms'], tgt.get('p95_ms'))} |",
        f"| query CPU time p50 / p95 (less sensitive to other load) | {q['cpu_p50_ms']:.1f} / {q['cpu_p95_ms']:.1f} ms | | |",
        f"| exact match only (engine.match) p50 of per-query medians | {q['match_p50_ms']:.1f} ms | | |",
        f"| recall vs scan (min over queries) | {r['recall_min']:.3f} | false hits {r['false_hits']} | 1.000, 0 |",
        f"| reference: Python substring scan | p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms | "
        f"preload {s['load_s']:.1f} s | |",
        f"| reference: raw jieba.cut | {j['mb_s']:.2f} MB/s | on {j['sample_mb']:.1f} MB ({j['sample_files']} files) | |",
        f"| indexer fold+segment (per-run cache) | {r['segment']['mb_s']:.2f} MB/s | same sample | |",
    ]
    rt = r["ratios"]
    if r.get("fts5"):
        f5 = r["fts5"]
        lines.append(
            f"| reference: SQLite {f5['sqlite']} FTS5 trigram, one row per folded paragraph (total + first 10 rows) | "
            f"build {f5['build_s']:.1f} s, {f5['index_mb']:.0f} MB; p50 {f5['p50_ms']:.1f} ms, p95 {f5['p95_ms']:.1f} ms; "
            f"recall min {f5['recall_min']:.3f}, false hits {f5['false_hits']} | "
            f"engine p50 {rt['p50_vs_fts5']:.3f}×, p95 {rt['p95_vs_fts5']:.3f}× FTS5; "
            f"build {b['build_s'] / f5['build_s']:.2f}×, index {b['index_mb'] / f5['index_mb']:.2f}× | |")
    elif "fts5" in r:
        lines.append("| reference: SQLite FTS5 trigram | " + ("not run (--no-references)" if r.get("no_references")
                     else "not available (SQLite < 3.34 or no FTS5)") + " | | |")
    if r.get("ripgrep"):
        g = r["ripgrep"]
        lines.append(
            f"| reference: {g['version']}, no index: folded paragraphs one a line ({g['file_mb']:.0f} MB file) | "
            f"p50 {g['p50_ms']:.1f} ms, p95 {g['p95_ms']:.1f} ms; recall min {g['recall_min']:.3f}, "
            f"false hits {g['false_hits']} | engine p50 {rt['p50_vs_ripgrep']:.3f}×, p95 {rt['p95_vs_ripgrep']:.3f}× "
            f"rg; {g['note']} | |")
        lines.append(f"| reference: ripgrep, raw corpus files ({g['raw_files']} files, unfolded raw terms, lines ≠ "
                     f"paragraphs) | p50 {g['raw_p50_ms']:.1f} ms, p95 {g['raw_p95_ms']:.1f} ms | "
                     f"wall time only, not a recall reference | |")
    elif r.get("no_references"):
        lines.append("| reference: ripgrep | not run (--no-references) | | |")
    else:
        lines.append("| reference: ripgrep | not installed | | |")
    if r.get("generate_s"):
        lines.append(f"| corpus generation | {r['generate_s']:.1f} s | | < 120 s at 10k |")
    if r.get("warning"):
        lines.append(f"| **warning** | {r['warning']} | | |")
    lines += ["", f"Other reference ({REFERENCE_FTS5}).", "",
              "| category | query | total | scan | recall | false | p50 ms | max ms | cpu ms | match ms | scan ms |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in r["per_query"]:
        qd = p["query"].replace("|", "\\|")
        lines.append(f"| {p['category']} | `{qd}` | {p['total']} | {p['scan_total']} | {p['recall']:.3f} | "
                     f"{p['false_hits']} | {p['p50_ms']:.1f} | {p['max_ms']:.1f} | {p['cpu_p50_ms']:.1f} | {p['match_p50_ms']:.1f} | "
                     f"{p['scan_p50_ms']:.0f} |")
    if any("fts5" in p or "rg" in p for p in r["per_query"]):
        lines += ["", "References per query (p50 of the timed repeats; rg raw = matching lines of the raw files):", "",
                  "| query | scan | FTS5 total | FTS5 recall | FTS5 false | FTS5 ms | rg total | rg recall | rg false "
                  "| rg ms | rg raw lines | rg raw ms |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for p in r["per_query"]:
            qd = p["query"].replace("|", "\\|")
            f5, g = p.get("fts5"), p.get("rg")
            cells = [f"`{qd}`", str(p["scan_total"])]
            cells += ([str(f5["total"]), f"{f5['recall']:.3f}", str(f5["false_hits"]), f"{f5['p50_ms']:.1f}"]
                      if f5 else ["", "", "", ""])
            cells += ([str(g["total"]), f"{g['recall']:.3f}", str(g["false_hits"]), f"{g['p50_ms']:.1f}",
                       str(g["raw_lines"]), f"{g['raw_p50_ms']:.1f}"] if g else [""] * 6)
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
