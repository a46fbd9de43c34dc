"""Beyond one machine (issue 17): a sharded index answers as one index would; a Dask cluster on
loopback builds the index and serves its shards, with the same answers; a worker killed mid-build
or mid-query loses nothing and is never silently left out.

The clusters are real: ``distributed.LocalCluster`` with worker processes, and a ``dask
scheduler`` with two ``dask worker`` processes started as subprocesses (the command line's own
path, ``index --cluster`` and ``search --cluster``)."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer.indexing import batches
from indexer.indexing.shards import ShardsMismatch, update_sharded
from indexer.indexing.update import IndexRunFailed, update_index
from indexer.search.engine import SearchEngine
from indexer.search.shards import ShardUnsupported, open_local
from indexer.store.layout import shard_folders, shard_of
from indexer.store.schema import report_id

from conftest import CORPUS, ROOT
from test_search import SUBSTRING_QUERIES

distributed = pytest.importorskip("distributed")

REPORTS = 40
SHARDS = 3
VARIANTS = [{}, {"page": 2, "per_page": 7}, {"sort": "date", "page": 3, "per_page": 5}, {"sort": "report", "page": 2}]


def _generate(n: int, out: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.generate(n, out)


def queries() -> list[str]:
    lines = (ROOT / "bench" / "queries.txt").read_text("utf-8").splitlines()
    bench = [line.split("\t", 1)[1] for line in lines if line.strip() and not line.startswith("#")]
    return bench + [f'"{q}"' if " " in q else q for q in SUBSTRING_QUERIES] + [
        "法治 /s 政府", "行政 region:县", "依法行政 year:2018..2022", "cites:中华人民共和国行政诉讼法", "县 -法治",
        "~出庭 应诉", "出庭应诉率 type:报告"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cluster") / "corpus"
    _generate(REPORTS, out)
    for seed in sorted(CORPUS.glob("*.txt")):
        shutil.copy(seed, out / seed.name)
    # Two files of one stem: their ids are told apart as in one index, so both go to one shard.
    first = sorted(out.glob("0000*.txt"))[0]
    (out / (first.stem + ".md")).write_text(first.read_text("utf-8").replace("法治", "依法治理", 5), "utf-8")
    return out


@pytest.fixture(scope="module")
def single(corpus, tmp_path_factory) -> SearchEngine:
    index_dir = tmp_path_factory.mktemp("single") / "index"
    update_index([corpus], index_dir)
    return SearchEngine(index_dir)


@pytest.fixture(scope="module")
def sharded(corpus, tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("sharded") / "index"
    update_sharded([corpus], index_dir, SHARDS)
    return index_dir


def answer(engine, q: str, **kw) -> dict:
    d = engine.search(q, **kw).to_dict()
    d.pop("took_ms")
    d.pop("shards", None)
    return d


def test_reports_are_split_stably_by_id_and_each_lands_in_one_shard(corpus, sharded, single):
    folders = shard_folders(sharded)
    assert [f.name for f in folders] == [f"shard-00{k}-of-003" for k in (1, 2, 3)]
    held = {}
    for k, folder in enumerate(folders):
        engine = SearchEngine(folder)
        rids = engine.store.reports.rids
        assert rids, f"shard {k + 1} holds no report: the split is degenerate"
        for rid in rids:
            assert rid not in held
            held[rid] = k
    assert sorted(held) == sorted(single.store.reports.rids)  # the same ids as one index gives
    for r in range(len(single.store.reports)):
        row = single.store.reports[r]
        assert held[row.rid] == shard_of(report_id(row.source), SHARDS), row.source
    twins = [rid for rid in held if "." in rid]  # the second file of a stem keeps its name as its id
    assert twins and all(held[t] == held[report_id(t)] for t in twins)


@pytest.mark.parametrize("variant", range(len(VARIANTS)))
def test_a_sharded_index_answers_every_query_as_one_index(single, sharded, variant):
    many = open_local(sharded, shard_folders(sharded))
    kw = VARIANTS[variant]
    for q in queries():
        assert answer(many, q, **kw) == answer(single, q, **kw), (q, kw)


def test_grouped_hits_and_exports_equal_one_index(single, sharded):
    many = open_local(sharded, shard_folders(sharded))
    for q in ["法治", "出庭应诉率", "行政复议", "2021年", "县 -法治", "行政 region:县", "的"]:
        for kw in [{}, {"page": 2, "per_page": 7}, {"sort": "date", "page": 3, "per_page": 5}, {"page": 5, "per_page": 3}]:
            assert answer(many, q, by_report=True, **kw) == answer(single, q, by_report=True, **kw), (q, kw)
        for sort in ("relevance", "date", "report"):
            for limit in (None, 45):
                n1, one = single.all_hits(q, sort=sort, limit=limit)
                n2, two = many.all_hits(q, sort=sort, limit=limit)
                assert n1 == n2 and [h.to_dict() for h in one] == [h.to_dict() for h in two], (q, sort, limit)


def test_what_shards_cannot_answer_as_one_index_is_said(sharded):
    many = open_local(sharded, shard_folders(sharded))
    with pytest.raises(ShardUnsupported, match="--collapse"):
        many.search("法治", collapse=True)
    with pytest.raises(ShardUnsupported, match="similar"):
        many.search("similar:000_0d8bbccb02c01f0a~abc")


def test_a_sharded_build_refuses_what_it_must_not_replace(corpus, sharded, single, tmp_path):
    with pytest.raises(ShardsMismatch, match="one shard"):
        update_sharded([corpus], single.index_dir, 2)
    with pytest.raises(ShardsMismatch, match="--rebuild"):
        update_sharded([corpus], sharded, 2)
    # Resharding with --rebuild: the new shards replace the old ones once all are built.
    copy = tmp_path / "index"
    shutil.copytree(sharded, copy)
    update_sharded([corpus], copy, 2, rebuild=True)
    assert [f.name for f in shard_folders(copy)] == ["shard-001-of-002", "shard-002-of-002"]
    assert sorted(p.name for p in copy.iterdir()) == ["shard-001-of-002", "shard-002-of-002", "shards.json"]
    assert answer(open_local(copy, shard_folders(copy)), "法治") == answer(single, "法治")


# -- a LocalCluster with worker processes ---------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc:
        with distributed.Client(lc) as client:
            yield client


def _worker_pids(client) -> dict[str, int]:
    return client.run(os.getpid)


def _index_answers(index_dir: Path) -> dict:
    engine = open_local(index_dir, shard_folders(index_dir)) if shard_folders(index_dir) else SearchEngine(index_dir)
    return {q: answer(engine, q) for q in queries()[:30]}


def test_a_cluster_build_equals_a_local_build(corpus, single, cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(batches, "BATCH_BYTES_MIN", 1)  # many batches: many tasks on both workers
    index_dir = tmp_path / "index"
    summary = update_index([corpus], index_dir, cluster=cluster)
    assert summary.reports == len(single.store.reports) and not summary.skipped
    built = SearchEngine(index_dir)
    assert built.store.reports.rids == single.store.reports.rids
    assert [built.store.pid(i) for i in range(len(built.store))] == [single.store.pid(i) for i in range(len(single.store))]
    for q in queries():
        for kw in VARIANTS[:2]:
            assert answer(built, q, **kw) == answer(single, q, **kw), (q, kw)


def test_a_sharded_cluster_build_serves_the_same_answers(corpus, single, sharded, cluster, tmp_path):
    from indexer.search.actors import ClusterEngine

    index_dir = tmp_path / "index"
    update_sharded([corpus], index_dir, SHARDS, cluster=cluster)
    served = ClusterEngine(cluster, shard_folders(index_dir), replicas=2)
    assert all(len(workers) == 2 for workers in served.holders().values())
    for q in queries():
        for kw in VARIANTS:
            got = served.search(q, **kw)
            assert got.shards["complete"] and got.shards["answered"] == SHARDS
            d = got.to_dict()
            d.pop("took_ms"), d.pop("shards")
            assert d == answer(single, q, **kw), (q, kw)
    assert answer(served, "行政复议", by_report=True, page=2, per_page=4) == \
        answer(single, "行政复议", by_report=True, page=2, per_page=4)


def test_a_worker_killed_mid_build_has_its_batches_built_elsewhere(corpus, single, tmp_path, monkeypatch):
    monkeypatch.setattr(batches, "BATCH_BYTES_MIN", 1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc, \
            distributed.Client(lc) as client:
        pids = _worker_pids(client)
        killed = []

        class KillingBar:
            """A progress bar that kills a worker when the first batch is done, while the other
            worker is building its own."""

            def update(self, n):
                if not killed:
                    busy = [w for w, tasks in client.processing().items() if tasks]
                    victim = busy[0] if busy else sorted(pids)[0]
                    os.kill(pids[victim], signal.SIGKILL)
                    killed.append(victim)

            def close(self):
                pass

        index_dir = tmp_path / "index"
        summary = update_index([corpus], index_dir, cluster=client, progress=lambda total: KillingBar())
        assert killed
        assert summary.reports == len(single.store.reports) and not summary.skipped
    built = SearchEngine(index_dir)
    assert [built.store.pid(i) for i in range(len(built.store))] == [single.store.pid(i) for i in range(len(single.store))]
    for q in queries()[:30]:
        assert answer(built, q) == answer(single, q), q


def test_a_cluster_build_that_cannot_finish_keeps_the_previous_index(tmp_path, cluster):
    """The workers' writes fail for real (a full disk): the batch fails on every try, and the
    run with it; the index is as it was."""
    from test_index_safety import _variant_corpus, make_corpus, small_disk

    corpus = make_corpus(tmp_path / "corpus")
    _variant_corpus(corpus, 200)
    with small_disk(tmp_path / "disk", 18) as disk:
        index_dir = disk / "index"
        update_index([corpus], index_dir, cluster=cluster)  # about 13 MB: a second copy does not fit
        before = _index_answers(index_dir)
        with pytest.raises(IndexRunFailed) as failed:
            update_index([corpus], index_dir, rebuild=True, cluster=cluster)
        assert "disk is full" in str(failed.value) and "unchanged" in str(failed.value)
        assert _index_answers(index_dir) == before
        assert sorted(p.name for p in disk.iterdir()) == ["index"]


# -- a dask scheduler and two dask workers as subprocesses ----------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def dask_processes(tmp_path):
    """`dask scheduler` and two `dask worker` processes (no nanny: a killed worker stays dead)."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ)
    # `python -m dask`: the `dask` script of this interpreter, on the PATH or not.
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=open(tmp_path / "scheduler.log", "w"), env=env)]
    try:
        for n in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{n}"],
                stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"worker{n}.log", "w"), env=env, cwd=tmp_path))
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, procs[1:]
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_the_command_line_builds_and_searches_on_a_dask_cluster(corpus, single, dask_processes, tmp_path):
    address, workers = dask_processes
    index_dir = tmp_path / "index"
    built = _cli("index", str(corpus), "--index", str(index_dir), "--shards", str(SHARDS), "--cluster", address)
    assert built.returncode == 0, built.stderr
    assert f"Dask cluster {address}: 2 workers" in built.stderr
    assert len(shard_folders(index_dir)) == SHARDS
    for q in ["出庭应诉率", "法治 region:县", "行政复议"]:
        done = _cli("search", q, "--index", str(index_dir), "--cluster", address, "--json", "-n", "20")
        assert done.returncode == 0, done.stderr
        got = json.loads(done.stdout)
        assert got.pop("shards") == {"answered": 3, "total": 3, "missing": [], "reports": len(single.store.reports),
                                     "complete": True}
        got.pop("took_ms")
        assert got == json.loads(json.dumps(answer(single, q, per_page=20), ensure_ascii=False)), q
    plain = _cli("search", "出庭应诉率", "--index", str(single.index_dir), "--cluster", address)
    assert plain.returncode == 1 and "is not sharded" in plain.stderr and "Traceback" not in plain.stderr


def test_a_worker_killed_mid_query_is_never_silently_left_out(single, sharded, dask_processes):
    """A query that a lost worker's shard did not answer says so; the others equal one index's
    answers; placed again on the worker left, the shard answers in full."""
    from indexer.search.actors import ClusterEngine

    address, workers = dask_processes
    qs = queries()[:20]
    expected = {q: answer(single, q) for q in qs}
    shard_reports = [len(SearchEngine(f).store.reports) for f in shard_folders(sharded)]
    with distributed.Client(address, timeout=30) as client:
        served = ClusterEngine(client, shard_folders(sharded), replicas=1)
        holders = served.holders()
        pids = client.run(os.getpid)
        victim = holders[2][0]  # the worker holding shard 2 (and not shard 1)
        assert holders[1][0] != victim
        seen = {"complete": 0, "partial": 0}
        stop = threading.Event()
        errors = []

        def ask():
            while not stop.is_set():
                for q in qs:
                    try:
                        got = served.search(q)
                    except Exception as exc:  # anything but an answer is a failure
                        errors.append(repr(exc))
                        return
                    d = got.to_dict()
                    d.pop("took_ms"), d.pop("shards")
                    if got.shards["complete"]:
                        assert d == expected[q], q
                        seen["complete"] += 1
                    else:
                        missing = got.shards["missing"]
                        assert 2 in missing and got.shards["answered"] == SHARDS - len(missing)
                        assert got.shards["reports"] == sum(n for k, n in enumerate(shard_reports) if k + 1 not in missing)
                        assert got.total <= expected[q]["total"]
                        seen["partial"] += 1

        thread = threading.Thread(target=ask)
        thread.start()
        time.sleep(1.0)
        os.kill(pids[victim], signal.SIGKILL)  # mid-query: the thread is asking all along
        time.sleep(3.0)
        stop.set()
        thread.join(timeout=120)
        assert not errors, errors
        assert seen["partial"] > 0 and seen["complete"] > 0, seen
        # Placed again on the worker that is left, every shard answers, as one index.
        placed = served.refresh()
        assert any("shard 2 opened" in line for line in placed), placed
        for q in qs:
            got = served.search(q)
            assert got.shards["complete"]
            d = got.to_dict()
            d.pop("took_ms"), d.pop("shards")
            assert d == expected[q], q


# -- serving a sharded index: the web app, in-process and from the cluster ------------------------

def _json_without(value, keys=("took_ms", "shards", "similar", "similar_url")):  # no text reuse on shards
    if isinstance(value, dict):
        return {k: _json_without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_json_without(v, keys) for v in value]
    return value


WEB_SEARCHES = ["q=出庭应诉率", "q=法治&region=县&page=2", "q=行政复议&sort=date", "q=法治&by_report=1",
                "q=政府&year=2018..2022&per_page=20", "q=依法行政&type=报告", "q=不在语料里的短语"]


def test_a_sharded_index_is_served_with_one_indexes_pages(single, sharded):
    """The web app on a sharded index (its shards in the process): the same search answers and
    report pages as on one index; what needs one index over the corpus answers 501, by name."""
    from indexer.config import load_settings
    from webapp import create_app

    many = create_app(load_settings({"index": sharded})).test_client()
    one = create_app(load_settings({"index": single.index_dir})).test_client()
    for args in WEB_SEARCHES:
        got, want = many.get(f"/api/search?{args}"), one.get(f"/api/search?{args}")
        assert got.status_code == want.status_code == 200, args
        assert got.get_json()["shards"]["complete"]
        assert _json_without(got.get_json()) == _json_without(want.get_json()), args
        page = many.get(f"/?{args}")
        assert page.status_code == 200 and "个分片作答" not in page.get_data(as_text=True)
    hit = one.get("/api/search?q=出庭应诉率").get_json()["hits"][0]
    for path in (f"/api/paragraphs/{hit['id']}", f"/cite/{hit['id']}", "/api/reports", "/advanced"):
        assert many.get(path).get_data() == one.get(path).get_data(), path
    report = many.get(f"/api/reports/{hit['report']['id']}").get_json()
    no_reuse = ("reuse",)  # each paragraph's 原创/共有/套话 needs text reuse over the whole corpus
    assert _json_without(report["paragraphs"], no_reuse) == \
        _json_without(one.get(f"/api/reports/{hit['report']['id']}").get_json()["paragraphs"], no_reuse)
    assert many.get(f"/reports/{hit['report']['id']}").status_code == 200
    for path in ("/api/citations", "/api/reuse"):
        refused = many.get(path)
        assert refused.status_code == 501 and refused.get_json()["error"]["code"] == "not_on_shards", path
    page = many.get("/citations")
    assert page.status_code == 501 and "分片索引上不可用" in page.get_data(as_text=True)
    assert many.get("/api/search?q=similar:" + hit["id"]).status_code == 400


def test_serve_from_a_dask_cluster_over_http_says_when_a_shard_is_gone(single, sharded, dask_processes, tmp_path):
    """A real `serve --cluster` on loopback: its answers equal one index's; a worker killed, the
    page and the JSON say which shards answered; the server places the shard again by itself."""
    import urllib.parse
    import urllib.request

    from served import serve_process

    address, workers = dask_processes
    env = {"POLICY_SEARCH_CLUSTER": address}
    with serve_process(sharded, tmp_path / "no-corpus", cwd=tmp_path, env=env, timeout_s=180) as served:
        assert any("3 of 3 shards on the Dask cluster" in line for line in served.output), served.output

        def get(path: str):
            with urllib.request.urlopen(served.url + path, timeout=60) as resp:
                return resp.read().decode("utf-8")

        one = __import__("webapp").create_app(
            __import__("indexer.config", fromlist=["load_settings"]).load_settings({"index": single.index_dir})).test_client()
        for args in WEB_SEARCHES[:4]:
            quoted = urllib.parse.quote(args, safe="=&")
            # Permalinks name the server's own address; the test client's is 127.0.0.1:8000.
            got = json.loads(get(f"api/search?{quoted}").replace(served.url, "http://127.0.0.1:8000/"))
            assert got["shards"]["complete"]
            assert _json_without(got) == _json_without(one.get(f"/api/search?{args}").get_json()), args
        with distributed.Client(address, timeout=30) as client:
            pids = client.run(os.getpid)
        victim = sorted(pids)[1]  # shards 2 (and none other of 3 on 2 workers with one replica each)
        os.kill(pids[victim], signal.SIGKILL)
        time.sleep(1.0)
        got = json.loads(get("api/search?q=" + urllib.parse.quote("法治")))
        assert got["shards"] == {"answered": 2, "total": 3, "missing": [2], "reports": got["shards"]["reports"],
                                 "complete": False}
        assert got["total"] < one.get("/api/search?q=法治").get_json()["total"]
        page = get("?q=" + urllib.parse.quote("法治"))
        assert "只有 2/3 个分片作答" in page and "第 2 片" in page


def test_a_shard_reindexed_while_queries_run_answers_from_one_generation(corpus, tmp_path, monkeypatch):
    """An update of one shard under 8 threads of queries: every answer equals the answer before
    the update or the one after it, never a mix of one shard's two generations."""
    from indexer.search import shards as shards_module

    monkeypatch.setattr(shards_module, "STALE_CHECK_SECONDS", 0.0)  # every query looks for a newer generation
    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    index_dir = tmp_path / "index"
    update_sharded([copy], index_dir, SHARDS)
    many = open_local(index_dir, shard_folders(index_dir))
    qs = ["法治", "出庭应诉率", "行政复议", "县 -法治", "政府 year:2018..2022"]
    before = {q: answer(many, q) for q in qs}
    # Files of shard 1 only change: their answers move, the other shards' stay.
    changed = [p for p in sorted(copy.glob("*.txt")) if shard_of(report_id(p.name), SHARDS) == 0][:3]
    for p in changed:
        p.write_text(p.read_text("utf-8").replace("法治", "法治法治", 4).replace("政府", "人民政府", 3), "utf-8")
    results: list[tuple[str, dict]] = []
    stop = threading.Event()

    def ask():
        while not stop.is_set():
            for q in qs:
                results.append((q, answer(many, q)))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        update_sharded([copy], index_dir, SHARDS)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    after = {q: answer(many, q) for q in qs}
    assert any(after[q] != before[q] for q in qs)  # the update changed what is found
    assert results
    for q, got in results:
        assert got == before[q] or got == after[q], q
    assert any(got == after[q] for q, got in results[-40:])


def test_suggestions_and_emptying_filters_equal_one_indexes(single, sharded):
    many = open_local(sharded, shard_folders(sharded))
    from indexer.search.query import Filters

    for q, filters in [("出庭应诉率 region:不存在县 year:2030", None), ("法治 type:法律", Filters(region=["县"])),
                       ("出庭应诉率 一村一法律顾问 不在语料里的短语", None), ("出庭应诉率 year:2030", None), ("行政复议 -县", Filters(year_from=2030, year_to=2031))]:
        assert many.emptying_filters(q, filters) == single.emptying_filters(q, filters), q
        assert many.suggestions(q, filters or Filters()) == single.suggestions(q, filters or Filters()), q
    for facet in ("region", "year", "type", "issuer"):
        assert many.known_values(facet) == single.known_values(facet)
    for order in ("year", "id"):
        assert many.report_page(3, 17, order) == single.report_page(3, 17, order)
