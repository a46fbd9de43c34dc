"""Text reuse (issue 16): the paragraphs of other reports that share a passage with a paragraph,
found by fingerprints kept in every piece and confirmed by alignment. Tested on the bundled corpus
plus a copy of seed 000 with its numbers and places changed and a sentence deleted, and an
unrelated report that must have no relatives."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from indexer.reuse.align import shared_passages
from indexer.reuse.keys import fingerprints, place_names

from conftest import CORPUS

SEED = "000_0d8bbccb02c01f0a"
COPY = "copy_of_000"
UNRELATED = ("今年春季，本地气温回升较快，降水偏少，果树开花比往年提前一周左右。农技人员建议果农及时疏花疏果，"
             "合理灌溉，注意防范晚霜冻害，同时做好病虫害的监测和预报工作。\n\n"
             "夏季来临以后，游客数量明显增加，景区加开了观光车和临时停车场，餐饮和住宿的价格保持平稳，"
             "志愿者在各个路口为外地游客指路，介绍当地的风味小吃和民俗活动。")
DELETED = "严格落实重大行政决策程序规定"  # a sentence of seed 000 the copy leaves out (found below)


def _copy_text() -> tuple[str, str]:
    """Seed 000 as another county would copy it: its places renamed, every number changed, one
    sentence deleted; and the sentence."""
    text = (CORPUS / f"{SEED}.txt").read_text(encoding="utf-8")
    sentence = next(s for s in re.findall(r"[^。\n]*。", text) if len(s) > 30 and "互助" not in s and not re.search(r"\d", s))
    copied = text.replace(sentence, "", 1)
    copied = copied.replace("互助土族自治县", "乐都区").replace("互助县", "乐都区").replace("互助", "乐都")
    copied = re.sub(r"\d+", lambda m: str(int(m.group()) + 3), copied)
    return copied, sentence


@pytest.fixture(scope="module")
def reuse_index(tmp_path_factory):
    from indexer.indexing.update import update_index

    base = tmp_path_factory.mktemp("reuse")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    copied, sentence = _copy_text()
    (corpus / f"{COPY}.txt").write_text(copied, encoding="utf-8")
    (corpus / "unrelated.txt").write_text(UNRELATED, encoding="utf-8")
    index = base / "index"
    update_index([corpus], index)
    return corpus, index, sentence


@pytest.fixture(scope="module")
def reuse_engine(reuse_index):
    from indexer.search.engine import SearchEngine

    return SearchEngine(reuse_index[1])


def _paragraphs(engine, prefix: str):
    rid = next(r.id for r in engine.reports() if r.id.startswith(prefix))
    return [p for p in engine.report(rid).paragraphs if p.kind == "body"]


def test_fingerprints_survive_changed_numbers_and_places_and_a_passage_inside_more():
    a = "2021年，互助县共办理行政复议案件12件，全部在法定期限内审结，纠错率为零。"
    b = "此外，我们还召开了专题会议。2023年，乐都区共办理行政复议案件7件，全部在法定期限内审结，纠错率为零。"
    keys, owners = fingerprints([a, b, UNRELATED], [place_names("互助土族自治县"), place_names("乐都区"), ()])
    ka, kb, kc = (set(keys[owners == k].tolist()) for k in range(3))
    assert ka and ka <= kb and not ka & kc
    assert "互助县" in place_names("互助土族自治县") and "海东" in place_names("海东市")


def test_alignment_names_what_changed_and_finds_nothing_between_strangers():
    a = "为此召开专题会议。2021年，互助县共办理行政复议案件12件，全部在法定期限内审结，纠错率为零。"
    b = "2023年，乐都区共办理行政复议案件7件，全部在法定期限内审结，纠错率为零。另有别的内容与此无关。"
    (passage,) = shared_passages(a, b, place_names("互助县") + place_names("乐都区"))
    assert a[passage.a_start:passage.a_end].startswith("2021年，互助县共办理")
    assert b[passage.b_start:passage.b_end].startswith("2023年，乐都区共办理")
    assert [(c.a, c.b, c.kind) for c in passage.changes] == [("2021", "2023", "数字"), ("互助县", "乐都区", "地名"),
                                                              ("12", "7", "数字")]
    assert shared_passages(a, UNRELATED) == []


def test_a_copied_report_is_each_paragraphs_first_relative(reuse_engine, reuse_index):
    sentence = reuse_index[2]
    seed = _paragraphs(reuse_engine, SEED)
    long_ones = [p for p in seed if len(p.text) >= 60]
    assert len(long_ones) >= 10
    for p in long_ones:
        found = reuse_engine.similar(p.id)
        assert found.complete and found.relatives, p.text
        best = found.relatives[0]
        assert best.paragraph.report.id.startswith(COPY) and best.share >= 0.8, (p.text, best)
        kinds = {c.kind for passage in best.passages for c in passage.changes}
        if re.search(r"\d", p.text):
            assert "数字" in kinds
    # The paragraph that lost a sentence: still its copy, the sentence a change of text.
    holder = next(p for p in seed if sentence in p.text)
    best = reuse_engine.similar(holder.id).relatives[0]
    assert best.paragraph.report.id.startswith(COPY)
    deleted = [c for passage in best.passages for c in passage.changes if c.kind == "文字"]
    assert any(sentence.strip("。") in c.a for c in deleted) or len(best.passages) > 1


def test_an_unrelated_report_has_no_relatives(reuse_engine):
    for p in _paragraphs(reuse_engine, "unrelated"):
        assert reuse_engine.similar(p.id).relatives == []


def test_relatives_come_and_go_with_their_reports(reuse_index, tmp_path):
    from indexer.indexing.update import update_index
    from indexer.search.engine import SearchEngine

    corpus, index, _ = reuse_index
    work_corpus, work_index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(corpus, work_corpus)
    shutil.copytree(index, work_index)
    engine = SearchEngine(work_index)
    pid = next(p.id for p in _paragraphs(engine, SEED) if len(p.text) >= 200)
    assert engine.similar(pid).relatives[0].paragraph.report.id.startswith(COPY)
    (work_corpus / f"{COPY}.txt").unlink()
    update_index([work_corpus], work_index)
    after = SearchEngine(work_index).similar(pid)
    assert after.complete and not any(r.paragraph.report.id.startswith(COPY) for r in after.relatives)


def test_cli_and_api_give_the_relatives(reuse_index, reuse_engine):
    from indexer.config import Settings
    from webapp import create_app

    corpus, index, _ = reuse_index
    pid = next(p.id for p in _paragraphs(reuse_engine, SEED) if len(p.text) >= 200)
    run = subprocess.run([sys.executable, "-m", "indexer.cli", "similar", pid, "--index", str(index), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got["relatives"][0]["paragraph"]["id"].startswith(COPY) and got["relatives"][0]["passages"]
    text = subprocess.run([sys.executable, "-m", "indexer.cli", "similar", pid, "--index", str(index), "-n", "1"],
                          capture_output=True, text=True, timeout=120)
    assert text.returncode == 0 and "乐都区" in text.stdout and "（数字）" in text.stdout
    rid = pid.split("~")[0]
    report = subprocess.run([sys.executable, "-m", "indexer.cli", "similar", rid, "--index", str(index)],
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert re.search(r"\d+ original, \d+ shared, 0 boilerplate", lines[0]) and lines[1].endswith(COPY)
    wrong = subprocess.run([sys.executable, "-m", "indexer.cli", "similar", "no-such-id", "--index", str(index)],
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 1 and "no paragraph or report with id 'no-such-id'" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    client = create_app(Settings(index=index, corpus=corpus)).test_client()
    api = client.get(f"/api/paragraphs/{pid}/similar?limit=3&min_share=0.5")
    body = api.get_json()
    assert api.status_code == 200 and 1 <= len(body["relatives"]) <= 3
    first = body["relatives"][0]
    assert first["share"] >= 0.5 and first["paragraph"]["permalink"].endswith(first["paragraph"]["id"])
    assert client.get(f"/api/paragraphs/{pid}/similar?min_share=2").status_code == 400
    assert client.get(f"/api/paragraphs/{pid}/similar?min_share=x").get_json()["ok"] is False
    assert client.get("/api/paragraphs/nope~x/similar").status_code == 404


def test_the_relatives_page_shows_the_passages_side_by_side(reuse_index, reuse_engine):
    from indexer.config import Settings
    from webapp import create_app

    corpus, index, _ = reuse_index
    client = create_app(Settings(index=index, corpus=corpus)).test_client()
    para = next(p for p in _paragraphs(reuse_engine, SEED) if len(p.text) >= 200 and re.search(r"\d", p.text))
    report_page = client.get(f"/reports/{para.report.id}").get_data(as_text=True)
    assert f'href="/similar/{para.id}"' in report_page
    page = client.get(f"/similar/{para.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "相似段落" in html and "乐都区" in html
    assert re.search(r"<del>\d+</del>", html) and re.search(r"<ins>\d+</ins>", html) and "（数字）" in html
    unrelated = next(p for p in _paragraphs(reuse_engine, "unrelated"))
    assert "没有与这一段共同的文字" in client.get(f"/similar/{unrelated.id}").get_data(as_text=True)
    hostile = client.get("/similar/<script>alert(1)</script>")
    assert hostile.status_code == 404 and "<script>alert" not in hostile.get_data(as_text=True)


def test_the_generators_truth_names_each_paragraphs_seed_and_the_engine_finds_its_kin(tmp_path):
    import importlib.util

    from indexer.indexing.update import update_index
    from indexer.search.engine import SearchEngine

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generate  # its dataclasses look their module up
    spec.loader.exec_module(generate)
    corpus, truth = tmp_path / "corpus", tmp_path / "truth.jsonl"
    generate.generate(12, corpus, truth=truth)
    rows = [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines()]
    assert [r["file"] for r in rows] == sorted(p.name for p in corpus.iterdir())
    sources = {(r["file"], text): set(ids) for r in rows for text, ids in r["paragraphs"]}
    assert sum(1 for ids in sources.values() if ids) > 0.9 * len(sources)
    update_index([corpus], tmp_path / "index")
    engine = SearchEngine(tmp_path / "index")
    by_pid, by_source = {}, {}
    for ref in engine.reports():
        for p in engine.report(ref.id).paragraphs:
            ids = sources.get((ref.source, p.text))
            if ids:
                by_pid[p.id] = (p, ids)
                for s in ids:
                    by_source.setdefault(s, set()).add(p.id)
    assert len(by_pid) > 0.8 * len(sources)  # the text indexed is the text generated
    # A paragraph made from a seed paragraph that other reports used too has them among its relatives.
    checked = 0
    for pid, (p, ids) in list(by_pid.items()):
        others = {q for s in ids for q in by_source[s] if not q.startswith(p.report.id + "~")}
        if len(p.text) < 80 or not others:
            continue
        found = {r.paragraph.id for r in engine.similar(pid, limit=500, candidates=500).relatives}
        assert len(found & others) >= 0.8 * len(others), p.text
        checked += 1
        if checked == 15:
            break
    assert checked == 15


# -- across the corpus: clusters, a report's relatives, similar:, folding, /reuse, pairs ----------
def test_components_and_clusters_on_arrays_made_here():
    import numpy as np

    from indexer.reuse.clusters import components, near_duplicate_labels

    labels = components(6, np.array([0, 1, 4]), np.array([1, 2, 5]))
    assert labels.tolist() == [0, 0, 0, 3, 4, 4]
    a = "2021年，互助县共办理行政复议案件12件，全部在法定期限内审结，纠错率为零，行政机关负责人出庭应诉率达到百分之百。"
    b = a.replace("2021", "2023").replace("12", "7").replace("互助县", "乐都区")
    keys, owners = fingerprints([a, b, UNRELATED], [place_names("互助县"), place_names("乐都区"), ()])
    got = near_duplicate_labels([(keys, owners.astype(np.int64))], 3)
    assert got[0] == got[1] >= 0 and got[2] == -1
    # A paragraph no longer live (-1) is in no cluster, and takes none with it.
    rows = np.where(owners == 1, -1, owners).astype(np.int64)
    assert near_duplicate_labels([(keys, rows)], 3).tolist() == [-1, -1, -1]


def test_the_copy_and_its_seed_are_one_cluster_and_strangers_none(reuse_engine):
    reuse = reuse_engine.reuse_map()
    store = reuse_engine.store
    copies = {p.text: p for p in _paragraphs(reuse_engine, COPY)}
    clustered = 0
    for p in _paragraphs(reuse_engine, SEED):
        i = store.row_of(p.id)
        members = {store.pid(j) for j in reuse.rows_of(i).tolist()}
        if len(p.text) >= 100 and len(members) > 1:
            clustered += 1
            assert {m.split("~")[0] for m in members} == {SEED, COPY} and reuse.others[i] == 1
    assert clustered >= 10 and len(copies) >= 10
    for p in _paragraphs(reuse_engine, "unrelated"):
        assert reuse.cluster[store.row_of(p.id)] == -1 and reuse.others[store.row_of(p.id)] == 0


def test_a_reports_relatives_put_its_copy_first_and_tell_each_paragraphs_standing(reuse_engine, monkeypatch):
    found = reuse_engine.report_similar(SEED)
    first = found.relatives[0]
    assert first.report.id == COPY and first.share >= 0.8 and first.passages >= 10
    assert all(r.share < 0.2 for r in found.relatives[1:])
    assert all(pair.a.startswith(SEED) and pair.b.startswith(COPY) for pair in first.pairs)
    standing = {pid: s for pid, (s, _) in found.status.items()}
    assert set(standing) == {p.id for p in _paragraphs(reuse_engine, SEED)}
    assert sum(s == "shared" for s in standing.values()) >= 10 and "boilerplate" not in standing.values()
    # More reports than the boilerplate limit: boilerplate; and text in more paragraphs than twice
    # the limit (phrases common to the five seeds, here) is boilerplate too, and counts for no relative.
    strict = reuse_engine.report_similar(SEED, boilerplate_reports=1)
    assert all(s == "boilerplate" for s, n in strict.status.values() if n > 1)
    assert sum(s == "boilerplate" for s, _ in strict.status.values()) > 0
    assert all(r.share <= q.share for r in strict.relatives for q in found.relatives if q.report == r.report)
    # Every fingerprint boilerplate: no relative, and every paragraph with a few of them boilerplate.
    monkeypatch.setattr("indexer.search.similar.BOILERPLATE_PARAGRAPHS_PER_REPORT", 0)
    common = reuse_engine.report_similar(SEED)
    assert common.relatives == [] and sum(s == "boilerplate" for s, _ in common.status.values()) >= 10
    monkeypatch.undo()
    lone = reuse_engine.report_similar(next(r.id for r in reuse_engine.reports() if r.id.startswith("unrelated")))
    assert lone.relatives == [] and {s for s, _ in lone.status.values()} == {"original"}


def test_similar_in_a_query_and_near_duplicates_folded(reuse_engine):
    para = next(p for p in _paragraphs(reuse_engine, SEED) if len(p.text) >= 200)
    found = reuse_engine.search(f"similar:{para.id}", per_page=50)
    ids = {h.id for h in found.hits}
    assert para.id in ids and any(i.startswith(COPY) for i in ids) and found.total == len(ids)
    only_copy = reuse_engine.search(f"similar:{para.id} region:乐都", per_page=50)
    assert only_copy.total >= 1 and all(h.report.id == COPY for h in only_copy.hits)
    phrase = re.sub(r"\d|互助", "", para.text)[10:22]
    plain = reuse_engine.search(phrase, per_page=50)
    folded = reuse_engine.search(phrase, per_page=50, collapse=True)
    assert plain.collapsed is None and folded.collapsed == plain.total - sum(h.folded for h in folded.hits)
    assert folded.collapsed < plain.total and {h.id for h in folded.hits} < {h.id for h in plain.hits}
    assert any(h.folded == 1 and h.similar == 1 for h in folded.hits)
    # Paging the folded hits: the pages add up to the folded list.
    pages = [reuse_engine.search(phrase, per_page=1, page=n, collapse=True).hits[0].id for n in range(1, folded.collapsed + 1)]
    assert pages == [h.id for h in folded.hits]
    from indexer.search.query import QueryError

    with pytest.raises(QueryError, match="不是现有段落的编号"):
        reuse_engine.search("similar:nope~x")


def test_the_most_reused_passages_name_the_earliest_report(reuse_engine):
    page = reuse_engine.reuse(limit=100)
    assert page.total >= 10 and len(page.clusters) == page.total
    for c in page.clusters:
        assert c.reports == 2 and c.regions == 2 and c.paragraphs == 2
        assert c.earliest.id == SEED and c.paragraph.report.id == SEED  # dated 2022-01-17; the copy 2024
        assert sorted(y for y, _ in c.years) == [2021, 2024]
    from indexer.search.query import Filters

    assert reuse_engine.reuse(Filters(region=["互助"])).total == 0  # the seed alone: its copy is 乐都区's
    assert reuse_engine.reuse(start=5, limit=3).clusters == page.clusters[5:8]


def test_pairs_for_network_analysis_from_the_cli_and_the_api(reuse_index, reuse_engine, tmp_path):
    import csv

    from indexer.config import Settings
    from webapp import create_app

    corpus, index, _ = reuse_index
    out = tmp_path / "pairs.csv"
    run = subprocess.run([sys.executable, "-m", "indexer.cli", "reuse", "--index", str(index), "--pairs", "-o", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert f"wrote {len(rows)} pairs" in run.stderr
    assert rows and all(r["报告A编号"] != r["报告B编号"] for r in rows)
    copy_pairs = [r for r in rows if {r["报告A编号"], r["报告B编号"]} == {SEED, COPY}]
    assert len(copy_pairs) >= 10 and all(0 < float(r["占段落A比例"]) <= 1 and int(r["相同字数"]) > 0 for r in copy_pairs)
    once = {(r["段落A编号"], r["段落B编号"]) for r in rows}
    assert len(once) == len(rows) and not any((b, a) in once for a, b in once)
    client = create_app(Settings(index=index, corpus=corpus)).test_client()
    api = client.get("/api/reuse/pairs.csv")
    assert api.status_code == 200 and api.mimetype == "text/csv"
    assert list(csv.DictReader(api.get_data(as_text=True).lstrip("\ufeff").splitlines())) == rows
    heard = []
    assert len(list(reuse_engine.reuse_pairs(done=lambda n, of: heard.append((n, of))))) == len(rows)
    n_reports = len(reuse_engine.reports())
    assert heard[-1] == (n_reports, n_reports) and [n for n, _ in heard] == sorted(n for n, _ in heard)
    mine = list(csv.DictReader(client.get("/api/reuse/pairs.csv?region=乐都").get_data(as_text=True)
                               .lstrip("\ufeff").splitlines()))
    assert mine and all(r["报告A地区"] == r["报告B地区"] == "乐都区" for r in mine)  # seed 003 and the copy
    assert mine == [r for r in rows if r["报告A地区"] == r["报告B地区"] == "乐都区"]
    listed = subprocess.run([sys.executable, "-m", "indexer.cli", "reuse", "--index", str(index), "--json", "-n", "2"],
                            capture_output=True, text=True, timeout=120)
    got = json.loads(listed.stdout)
    assert got["total"] == reuse_engine.reuse().total and len(got["clusters"]) == 2
    bad = subprocess.run([sys.executable, "-m", "indexer.cli", "reuse", "--index", str(index), "法治"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "只接受筛选条件" in bad.stderr and "Traceback" not in bad.stderr


def test_the_web_shows_reuse_on_reports_hits_and_its_own_page(reuse_index, reuse_engine):
    from indexer.config import Settings
    from webapp import create_app

    corpus, index, _ = reuse_index
    client = create_app(Settings(index=index, corpus=corpus)).test_client()
    report = client.get(f"/reports/{SEED}").get_data(as_text=True)
    relatives = re.search(r'<details class="report-relatives".*?</details>', report, re.S).group(0)
    assert f'href="/reports/{COPY}"' in relatives and re.search(r"\d+\.\d%", relatives)
    assert "reuse-shared" in report and "原创" in report
    api = client.get(f"/api/reports/{SEED}/similar?limit=1").get_json()
    assert api["relatives"][0]["report"]["id"] == COPY and api["relatives"][0]["pairs"][0]["b_url"].startswith(f"/reports/{COPY}")
    assert client.get(f"/similar/{SEED}").headers["Location"].endswith(f"/reports/{SEED}#reuse")
    assert client.get("/api/reports/nope/similar").status_code == 404
    reuse = client.get("/reuse")
    html = reuse.get_data(as_text=True)
    assert reuse.status_code == 200 and html.count('class="reuse-cluster"') == min(20, reuse_engine.reuse().total)
    assert "使用它的报告 · 按年份" in html and 'href="/?q=similar:' in html
    twin = client.get("/api/reuse?n=2").get_json()
    assert twin["total"] == reuse_engine.reuse().total and twin["next_url"].startswith("/api/reuse")
    hostile = client.get("/reuse?region=<script>x</script>")
    assert hostile.status_code == 200 and "<script>x" not in hostile.get_data(as_text=True)
    assert client.get("/api/reuse?year=20x1").status_code == 400
    para = next(p for p in _paragraphs(reuse_engine, SEED) if len(p.text) >= 200)
    phrase = re.sub(r"\d|互助", "", para.text)[10:22]
    folded = client.get("/", query_string={"q": phrase, "collapse": "1"}).get_data(as_text=True)
    assert 'class="collapsed-note"' in folded and 'class="folded-note"' in folded and "相似段落 1" in folded
    assert 'aria-pressed="true" role="button" title="把各报告' in folded


def test_a_server_makes_the_reuse_map_on_a_thread_and_pages_wait_for_nothing(reuse_index, monkeypatch):
    import threading

    from indexer.config import Settings
    from indexer.search import passages
    from webapp import create_app

    corpus, index, _ = reuse_index
    started, release = threading.Event(), threading.Event()
    real = passages.ReuseMap.of.__func__

    def held(cls, store):
        started.set()
        assert release.wait(60)
        return real(cls, store)

    monkeypatch.setattr(passages.ReuseMap, "of", classmethod(held))
    app = create_app(Settings(index=index, corpus=corpus, reuse_wait_fingerprints=0))
    eng = app.extensions["policy_search_engine"]
    client = app.test_client()
    try:
        first = client.get("/api/search", query_string={"q": "法治"})
        assert first.status_code == 200 and all(h["similar"] is None for h in first.get_json()["hits"])
        assert started.wait(30)
        pending = client.get("/api/reuse")
        assert pending.status_code == 503 and pending.get_json()["error"]["code"] == "reuse_pending"
        assert pending.headers["Retry-After"].isdigit()
        page = client.get("/", query_string={"q": "法治", "collapse": "1"})
        assert page.status_code == 200 and "相似段落还在统计中" in page.get_data(as_text=True)
        pid = eng.search("法治").hits[0].id
        similar = client.get("/api/search", query_string={"q": f"similar:{pid}"})
        assert similar.status_code == 503 and similar.get_json()["error"]["code"] == "reuse_pending"
    finally:
        release.set()
    eng._reuse.thread.join(60)
    assert client.get("/api/reuse").status_code == 200
    assert any(h["similar"] is not None for h in client.get("/api/search", query_string={"q": "法治"}).get_json()["hits"])
    assert client.get("/api/search", query_string={"q": f"similar:{pid}"}).get_json()["total"] >= 1


def test_the_command_line_counts_near_duplicates_only_when_it_folds_them(reuse_index):
    from indexer.search.engine import SearchEngine

    engine = SearchEngine(reuse_index[1])
    assert all(h.similar is None for h in engine.search("法治政府建设").hits) and engine._reuse.value is None
    folded = engine.search("法治政府建设", collapse=True)
    assert folded.collapsed is not None and all(h.similar is not None for h in folded.hits)
    assert all(h.similar is not None for h in engine.search("法治政府建设").hits)  # made once, then shown


def test_many_threads_get_one_reuse_map_and_the_serial_answers(reuse_index):
    from concurrent.futures import ThreadPoolExecutor

    from indexer.search.engine import SearchEngine

    engine = SearchEngine(reuse_index[1])
    serial = SearchEngine(reuse_index[1])
    queries = ["法治政府建设", "行政复议", "法律顾问", "依法行政", "执法"]
    expected = {q: [(h.id, h.folded, h.similar) for h in serial.search(q, collapse=True, per_page=20).hits] for q in queries}
    expected_reuse = serial.reuse(limit=50).to_dict()
    expected_report = serial.report_similar(SEED).to_dict()

    def ask(k: int):
        q = queries[k % len(queries)]
        return (q, [(h.id, h.folded, h.similar) for h in engine.search(q, collapse=True, per_page=20).hits],
                engine.reuse(limit=50).to_dict() if k % 3 == 0 else None,
                engine.report_similar(SEED).to_dict() if k % 3 == 1 else None, id(engine.reuse_map()))

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(ask, range(64)))
    assert len({a[4] for a in answers}) == 1  # one map, made once
    for q, hits, listing, report, _ in answers:
        assert hits == expected[q]
        assert listing is None or listing == expected_reuse
        assert report is None or report == expected_report
