"""Laws beside the reports: does reading legal texts change the reports' answers, and what does it cost?

    python bench/laws.py --reports 1000 --laws 60 --before /path/to/a/checkout/of/the/commit/before

The corpus is bench/corpus-N (bench/generate.py) plus ``--laws`` generated legal texts (a 题注 with
amendments, a 目录, 章/节, articles of one to four 款 with 项) and as many short notices citing their
articles (《X》第N条, 第N条至第M条, lists). Each code tree (``--before``, the checkout before legal
texts were read; and this one) builds an index of the reports alone and one of the reports with
the laws, each in a child process, and runs bench/queries.txt on both. Printed and written to
OUT/laws-N.md: whether the reports-only answers are identical between the trees (hits, order and
scores of the first page, totals), whether the reports' hits are the same with the laws added,
build times and query latencies (p50, p95) of both trees, and the article features' own latencies
(article:, cites: of an article, a cited article's text).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # this tree's indexer, wherever the project is installed from

from indexer.citations.references import article_label  # noqa: E402
SUBJECTS = ["行政复议", "行政处罚", "行政许可", "政务公开", "营商环境", "法律援助", "人民调解", "公共法律服务", "信访工作",
            "安全生产", "生态环境保护", "食品安全", "城市管理", "社会救助", "农村土地承包"]


def cn(n: int) -> str:
    return article_label(str(n))[1:-1]  # 十, 十二, 一百零五: as laws write them


def law_text(rng: random.Random, k: int) -> tuple[str, str, int]:
    """(title, text, articles) of generated legal text k."""
    subject = SUBJECTS[k % len(SUBJECTS)]
    kind = ["法", "条例", "办法"][k % 3]
    title = f"中华人民共和国{subject}示范{k}法" if kind == "法" else f"{subject}管理示范{k}{kind}"
    y = 1995 + k % 25
    lines = [title, "", f"（{y}年4月29日第九届全国人民代表大会常务委员会第九次会议通过　{y + 10}年8月27日第十一届全国人民代表大会"
             f"常务委员会第十次会议第一次修正　2023年9月1日第十四届全国人民代表大会常务委员会第五次会议修订）", ""]
    chapters = rng.randint(4, 8)
    lines += ["目　　录"] + [f"第{cn(c)}章　第{cn(c)}章内容" for c in range(1, chapters + 1)] + [""]
    n = 0
    for c in range(1, chapters + 1):
        lines += [f"第{cn(c)}章　第{cn(c)}章内容"]
        for s in range(1, rng.randint(1, 3) + 1):
            lines.append(f"第{cn(s)}节　{subject}第{cn(s)}节")
            for _ in range(rng.randint(3, 8)):
                n += 1
                first = f"{subject}工作应当坚持依法行政，第{n}项要求是县级以上人民政府应当健全{subject}制度，落实工作责任。"
                lines.append(f"第{cn(n)}条　{first}")
                for m in range(rng.randint(0, 3)):
                    if m == 0 and rng.random() < 0.5:
                        lines.append("有下列情形之一的，由有关部门责令改正：")
                        lines += [f"（{cn(i)}）未按照规定履行{subject}职责的第{i}种情形；" for i in range(1, rng.randint(2, 4) + 1)]
                    else:
                        lines.append(f"前款规定的{subject}事项，由县级以上地方人民政府司法行政部门负责组织实施，第{m + 1}款。")
    lines.append(f"第{cn(n + 1)}条　本{kind if kind != '法' else '法'}自2024年1月1日起施行。")
    return title, "\n".join(lines) + "\n", n + 1


def notice_text(rng: random.Random, k: int, laws: list[tuple[str, int]]) -> str:
    """A short notice citing articles of the laws in every form the reports use."""
    (t1, n1), (t2, n2) = rng.sample(laws, 2)
    a, b = rng.randint(1, n1 - 3), rng.randint(1, n2 - 1)
    short = t1.removeprefix("中华人民共和国")
    return (f"示范县人民政府办公室关于落实{k}号工作的通知\n\n一、工作要求\n严格落实《{short}》第{cn(a)}条，依照《{t2}》第{cn(b)}条第二款，"
            f"对《{t1}》第{cn(a + 1)}条至第{cn(a + 2)}条规定的事项开展检查。\n二、工作安排\n各单位按照《{t1}》第{cn(a)}条、第{cn(a + 1)}条"
            f"和第{cn(a + 3)}条抓好落实。\n示范县人民政府办公室\n2024年3月1日\n")


def make_law_corpus(folder: Path, n_laws: int, seed: int) -> list[str]:
    """The laws and the notices citing them, in ``folder``; returns the laws' titles."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    laws = []
    for k in range(n_laws):
        title, text, articles = law_text(rng, k)
        (folder / f"law-{k:03d}.txt").write_text(text, encoding="utf-8")
        laws.append((title, articles))
    for k in range(n_laws):
        (folder / f"notice-{k:03d}.txt").write_text(notice_text(rng, k, laws), encoding="utf-8")
    return [t for t, _ in laws]


CHILD = r'''
import json, statistics, sys, time
from pathlib import Path
from indexer.indexing.update import update_index
from indexer.search.engine import SearchEngine
corpus, index, queries, repeats = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
t = time.perf_counter()
update_index([corpus], index)
build = time.perf_counter() - t
eng = SearchEngine(index)
out = {"build_s": build, "paragraphs": len(eng.store), "queries": {}}
for q in queries:
    eng.search(q)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        res = eng.search(q, per_page=10)
        times.append(time.perf_counter() - t)
    rows = eng.match(eng.parse(q))
    report_rows = [eng.store.pid(i) for i in rows.tolist() if not eng.store.pid(i).startswith("laws~")]
    out["queries"][q] = {"total": res.total, "ms": statistics.median(times) * 1000,
                         "top": [[h.id, h.score] for h in res.hits], "report_hits": report_rows}
eng.close()
print(json.dumps(out))
'''


def run_tree(tree: Path, corpus: Path, index: Path, queries: list[str], repeats: int) -> dict:
    shutil.rmtree(index, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(index), json.dumps(queries), str(repeats)],
                          env=env, capture_output=True, text=True, cwd=str(tree), check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=1000, help="reports of bench/corpus-N (made by bench/generate.py)")
    ap.add_argument("--laws", type=int, default=60, help="generated legal texts, and as many notices citing them")
    ap.add_argument("--before", type=Path, required=True, help="a checkout of the commit before legal texts were read")
    ap.add_argument("--out", type=Path, default=BENCH / "out")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    reports = BENCH / f"corpus-{args.reports}"
    if not (reports / ".complete").exists():
        subprocess.run([sys.executable, str(BENCH / "generate.py"), "--reports", str(args.reports), "--out", str(reports),
                        "--seed", str(args.seed)], check=True)
        (reports / ".complete").write_text(f"seed={args.seed}\n")
    work = args.out / f"laws-{args.reports}"
    shutil.rmtree(work, ignore_errors=True)
    alone, mixed = work / "reports", work / "mixed"
    shutil.copytree(reports, alone, ignore=shutil.ignore_patterns(".complete"))
    shutil.copytree(alone, mixed)
    titles = make_law_corpus(mixed / "laws", args.laws, args.seed)
    queries = [line.split("\t", 1)[1].strip() for line in (BENCH / "queries.txt").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    short = titles[0].removeprefix("中华人民共和国")
    legal_queries = [f"article:3 title:{short}", "条:5", f"cites:{short}第三条", f"title:{short} 第三条", "cites:" + short]
    load = os.getloadavg()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    before_commit = subprocess.run(["git", "-C", str(args.before), "rev-parse", "--short", "HEAD"], capture_output=True,
                                   text=True).stdout.strip()
    runs = {}
    for name, tree in (("before", args.before), ("now", ROOT)):
        for corpus_name, corpus in (("reports", alone), ("mixed", mixed)):
            qs = queries + (legal_queries if corpus_name == "mixed" and name == "now" else [])  # before: no article:
            print(f"[{time.strftime('%H:%M:%S')}] {name}: {corpus_name}", file=sys.stderr, flush=True)
            runs[name, corpus_name] = run_tree(tree, corpus, work / f"index-{name}-{corpus_name}", qs, args.repeats)

    b, n = runs["before", "reports"], runs["now", "reports"]
    same_reports = all(b["queries"][q]["top"] == n["queries"][q]["top"] and b["queries"][q]["total"] == n["queries"][q]["total"]
                       for q in queries)
    bm, nm = runs["before", "mixed"], runs["now", "mixed"]
    same_hits_mixed = all(sorted(bm["queries"][q]["report_hits"]) == sorted(nm["queries"][q]["report_hits"]) for q in queries)
    same_hits_added = all(sorted(n["queries"][q]["report_hits"]) == sorted(nm["queries"][q]["report_hits"]) for q in queries)

    def lat(run, qs):
        ms = [run["queries"][q]["ms"] for q in qs]
        return statistics.median(ms), pct(ms, 0.95)

    lines = [f"## Laws beside the reports: {args.reports} reports + {args.laws} laws + {args.laws} citing notices",
             "", f"Commit {commit} against {before_commit} (before legal texts were read); load average "
             f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores; {len(queries)} queries of bench/queries.txt, "
             f"median of {args.repeats} repeats each.", "",
             f"- Reports alone, first page (ids, order, scores) and totals of every query identical before and now: **{same_reports}**",
             f"- Reports + laws: the reports' hits identical before and now: **{same_hits_mixed}**; "
             f"and identical to the reports-alone index's: **{same_hits_added}** (recall unchanged)", "",
             "| | build (s) | paragraphs | query p50 (ms) | query p95 (ms) |", "| --- | --- | --- | --- | --- |"]
    for (name, corpus_name), run in runs.items():
        p50, p95 = lat(run, queries)
        lines.append(f"| {name}, {corpus_name} | {run['build_s']:.1f} | {run['paragraphs']:,} | {p50:.1f} | {p95:.1f} |")
    lines += ["", "| legal query (now, reports + laws) | hits | ms |", "| --- | --- | --- |"]
    for q in legal_queries:
        r = nm["queries"][q]
        lines.append(f"| `{q}` | {r['total']} | {r['ms']:.1f} |")
    text = "\n".join(lines) + "\n"
    (args.out / f"laws-{args.reports}.md").write_text(text, encoding="utf-8")
    print(text)
    return 0 if same_reports and same_hits_mixed and same_hits_added else 1


if __name__ == "__main__":
    sys.exit(main())
