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
    wrong = subprocess.run([sys.executable, "-m", "indexer.cli", "similar", rid, "--index", str(index)],
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 1 and "that is a report's id" in wrong.stderr and "Traceback" not in wrong.stderr
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
