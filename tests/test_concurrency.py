"""One SearchEngine shared by many threads (as waitress shares it) answers exactly as it does serially.

The corpus is generated (bench/generate.py) and then edited and re-indexed, so the index has
several segments, deletions and retired paragraphs: every path the web app takes through the
engine (search with pages, sorts, grouping and filters, counts, reports and their pages,
paragraphs, the history of changed paragraphs, citations, quote finding) reads Whoosh's files,
the pieces and the store's lazy structures. Each thread runs every operation in its own order;
every answer must equal the serial one.
"""
from __future__ import annotations

import importlib.util
import json
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from indexer.search.engine import NotFound, SearchEngine
from indexer.search.rank import _BYTE_LENGTHS
from indexer.search.query import Filters
from indexer.indexing.update import update_index

from conftest import CORPUS, ROOT

THREADS = 12
REPORTS = 40


def _generate(n: int, out: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    module.generate(n, out)


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("concurrency")
    corpus = base / "corpus"
    _generate(REPORTS, corpus)
    for seed in sorted(CORPUS.glob("*.txt")):
        shutil.copy(seed, corpus / seed.name)
    index_dir = base / "index"
    update_index([corpus], index_dir)
    # Edit a few reports and index again: new segments, deleted documents, retired paragraphs.
    for path in sorted(corpus.glob("0000*.txt"))[:4]:
        text = path.read_text("utf-8")
        path.write_text(text.replace("法治", "法治建设", 3), "utf-8")
    update_index([corpus], index_dir)
    return index_dir


def _queries() -> list[str]:
    lines = (ROOT / "bench" / "queries.txt").read_text("utf-8").splitlines()
    bench = [line.split("\t", 1)[1] for line in lines if line.strip() and not line.startswith("#")]
    return bench + ["法治 /s 政府", "行政 region:县", "依法行政 year:2018..2022", "法治 section:行政",
                    "出庭应诉率 type:报告", "cites:中华人民共和国行政诉讼法", "法治建设", "县 -法治", "政府"]


def _operations(engine: SearchEngine) -> list[tuple[str, tuple, dict]]:
    """(method, args, kwargs): a wide spread of what the web app asks of the engine."""
    rng = random.Random(7)
    ops: list[tuple[str, tuple, dict]] = []
    sorts = ("relevance", "date", "report")
    for k, q in enumerate(_queries()):
        ops.append(("search", (q,), {}))
        ops.append(("search", (q,), {"page": 2, "per_page": 7, "sort": sorts[k % 3]}))
        ops.append(("search", (q,), {"page": 2, "per_page": 5, "by_report": True, "sort": sorts[(k + 1) % 3]}))
        if k % 3 == 0:
            ops.append(("search", (q,), {"per_page": 20, "filters": Filters(year_from=2016, year_to=2023)}))
        if k % 2 == 0:
            ops.append(("count", (q,), {}))
    refs = engine.reports()
    for ref in rng.sample(refs, 8):
        ops.append(("search", ("政府",), {"filters": Filters(report=[ref.id]), "per_page": 100, "sort": "report"}))
        ops.append(("report", (ref.id,), {}))
        ops.append(("report", (ref.id,), {"start": 5, "limit": 9}))
    store = engine.store
    rows = rng.sample(range(len(store)), 40)
    for i in rows:
        ops.append(("paragraph", (store.pid(i),), {}))
    for i in rows[:8]:
        text = store.text(i)
        ops.append(("quote", (text[len(text) // 4: len(text) // 4 + 40],), {}))
    retired = _retired_pids(engine)[:20]
    assert retired, "the re-index should have retired some paragraphs"
    for pid in retired:
        ops.append(("paragraph_history", (pid,), {}))
        ops.append(("paragraph", (pid,), {}))  # not live: NotFound
    ops.append(("paragraph_history", (refs[0].id + "~nosuchhash",), {}))
    ops.append(("citations", (), {}))
    ops.append(("stats", (), {}))
    return ops


def _retired_pids(engine: SearchEngine) -> list[str]:
    reader = engine.searcher.reader()
    return [text.decode("utf-8") if isinstance(text, bytes) else text
            for text in reader.lexicon("retired_pid")]


def _answer(engine: SearchEngine, op: tuple[str, tuple, dict]) -> str:
    """The operation's result as canonical JSON (timings left out), or the exception it raised."""
    name, args, kwargs = op
    try:
        if name == "search":
            d = engine.search(*args, **kwargs).to_dict()
            d.pop("took_ms")
        elif name == "count":
            d = engine.count(*args)
        elif name == "report":
            d = engine.report(*args, **kwargs).to_dict()
        elif name == "paragraph":
            d = engine.paragraph(*args).to_dict()
        elif name == "paragraph_history":
            h = engine.paragraph_history(*args)
            d = h.to_dict() if h else None
        elif name == "quote":
            d = [m.to_dict() for m in engine.quote(*args)]
        elif name == "citations":
            ci = engine.citations()
            d = [e.to_dict() for e in ci.most_cited(None)]
        else:
            d = engine.stats()
    except NotFound as exc:
        d = {"not_found": str(exc)}
    except Exception as exc:  # recorded, so that a thread's failure is reported with its operation
        d = {"raised": f"{type(exc).__name__}: {exc}"}
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


def test_threads_sharing_one_engine_get_the_serial_answers(shared_index):
    # Serial answers from an engine of its own; the shared engine is fresh, so that its lazy
    # structures (pid index, folded sections, citations, Whoosh readers) are first built under threads.
    serial_engine = SearchEngine(shared_index)
    try:
        ops = _operations(serial_engine)
        expected = [_answer(serial_engine, op) for op in ops]
    finally:
        serial_engine.close()
    assert not any('"raised"' in e for e in expected), [e for e in expected if '"raised"' in e][:3]

    engine = SearchEngine(shared_index)
    wrong: list[tuple[str, str, str]] = []
    start = threading.Barrier(THREADS)

    def client(seed: int) -> None:
        order = list(range(len(ops)))
        random.Random(seed).shuffle(order)
        start.wait()
        for k in order:
            got = _answer(engine, ops[k])
            if got != expected[k]:
                wrong.append((repr(ops[k]), expected[k][:300], got[:300]))

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(THREADS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        engine.close()
    assert not wrong, f"{len(wrong)} of {THREADS * len(ops)} answers differ from the serial ones, e.g. {wrong[:3]}"


def test_field_lengths_read_at_open_equal_whooshs_own(shared_index):
    # Scoring uses lengths read in bulk when the engine opens instead of Whoosh's per-document
    # reads (shared file handles): they must be exactly the lengths Whoosh gives.
    engine = SearchEngine(shared_index)
    try:
        reader = engine.searcher.reader()
        assert len(list(reader.leaf_readers())) > 1  # several segments, with deletions
        whoosh_lengths = [reader.doc_field_length(int(d), "content") or 0 for d in engine.store.whoosh_docnums()]
        ours = _BYTE_LENGTHS[engine.ranker.content_length_bytes]
        assert ours.tolist() == [float(n) for n in whoosh_lengths]
        assert max(whoosh_lengths) > 0
    finally:
        engine.close()


def test_the_load_benchmark_runs_and_finds_every_concurrent_answer_equal(tmp_path):
    # bench/load.py is run by hand; its smoke mode (seed corpus, 1 and 2 clients, 40 requests
    # each) keeps it from rotting: a real server, real clients, answers compared with serial ones.
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--smoke", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((tmp_path / "load-smoke.json").read_text("utf-8"))
    assert [level["clients"] for level in result["levels"]] == [1, 2]
    assert all(level["requests"] > 0 and level["errors"] == level["wrong"] == 0 for level in result["levels"])
    assert result["mix"] == 40 and "every answer equal to the serial one: yes" in proc.stdout
