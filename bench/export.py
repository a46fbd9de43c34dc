"""Export benchmark (issue 13): every hit of a query written out by `policy-search search Q --all
--format F -o FILE`, as a user runs it (a new process, the index's pages warm), for queries of
about 10^4 and 10^5 hits: wall time, hits a second and peak RSS, beside the same process printing
one page (`--limit 10`: what the process needs before it writes anything) and, as the reference
measured in the same run, ripgrep printing every matching line of the corpus files as JSON
(`rg --json -F TERM`).

    python3 bench/export.py --index bench/out/index-100000 --corpus bench/corpus-100000

Memory that does not grow with the hits is the claim: the export's heap (anonymous RSS, sampled;
the index's mapped pages are the page cache's) above the one-page run's should stay nearly flat
from 10^4 to 10^5 hits (a few bytes a hit for the ordered rows and the ranking, the rest constant).
Results: a Markdown table on stdout and bench/out/export-N.md.
"""
from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from run import machine  # noqa: E402  (bench/run.py, beside this file)

QUERIES = ["出庭应诉率 year:2021", "出庭应诉率"]  # at 100k reports: 11,153 and 124,652 hits
FORMATS = ["csv", "jsonl", "xlsx"]


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, peak RSS MB, peak anonymous RSS MB: the heap, sampled every 10 ms) of one process.
    RSS counts the index's pages the process touched, which the page cache holds and grow with
    the hits read; the heap is what the process itself holds."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    anon = 0.0
    status_file = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status_file.read_text().splitlines():
                if line.startswith("RssAnon:"):
                    anon = max(anon, int(line.split()[1]) / 1024)
        except OSError:
            pass
        time.sleep(0.01)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-500:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
    return wall, peak, anon


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, help="the corpus files, for the ripgrep reference")
    ap.add_argument("--queries", nargs="+", default=QUERIES)
    ap.add_argument("--out", type=Path, default=BENCH / "out")
    args = ap.parse_args()
    compileall.compile_dir(str(ROOT / "indexer"), quiet=1)  # as installed: no per-run compiling
    base = [sys.executable, "-m", "indexer.cli", "search", "--index", str(args.index)]
    m = machine()
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        timed(base + [args.queries[0], "--limit", "10"])  # page cache warm
        for q in args.queries:
            page_s, _, page_mb = timed(base + [q, "--limit", "10"])
            term = q.split()[0]
            rg = None
            if args.corpus and shutil.which("rg"):
                rg = timed(["rg", "--json", "-F", term, str(args.corpus)])[:1] + (None,)
            for fmt in FORMATS:
                out = Path(tmp) / f"hits.{fmt}"
                wall, _, mb = timed(base + [q, "--all", "-f", fmt, "-o", str(out)])
                lines = out.read_bytes().count(b"\n") if fmt != "xlsx" else None
                hits = (lines - 1 if fmt == "csv" else lines) if lines is not None else None
                rows.append({"query": q, "format": fmt, "hits": hits, "wall_s": wall, "rss_mb": mb,
                             "page_s": page_s, "page_mb": page_mb, "file_mb": out.stat().st_size / 2**20,
                             "rg_s": rg[0] if rg else None})
                out.unlink()
    hits_of = {r["query"]: r["hits"] for r in rows if r["hits"] is not None}
    lines = [
        f"Export: index {args.index} ({sum(p.stat().st_size for p in args.index.rglob('*') if p.is_file()) / 2**20:,.0f} MB), "
        f"commit {m['commit']}, {m['nproc']} cores, load average {load_before:.2f} → {os.getloadavg()[0]:.2f}, {m['date']}",
        "",
        "| query | hits | format | file MB | export s | hits/s | export heap MB | one page s / heap MB | heap above one page | "
        "rg --json s (export ×) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        n = hits_of.get(r["query"]) or 0
        rg = f"{r['rg_s']:.2f} ({r['wall_s'] / r['rg_s']:.2f}×)" if r["rg_s"] else "—"
        lines.append(f"| `{r['query']}` | {n:,} | {r['format']} | {r['file_mb']:.1f} | {r['wall_s']:.2f} | "
                     f"{n / r['wall_s']:,.0f} | {r['rss_mb']:.0f} | {r['page_s']:.2f} / {r['page_mb']:.0f} | "
                     f"{r['rss_mb'] - r['page_mb']:+.0f} | {rg} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"export-{args.index.name}.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
