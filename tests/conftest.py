"""Shared fixtures: the real seed corpus and one index built from it per test session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import system_packages

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEEDS = sorted(CORPUS.glob("*.txt"))


def pytest_sessionstart(session):
    problem = system_packages.ensure()
    if problem is not None:
        pytest.exit(f"cannot run the tests: {problem}", returncode=4)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    from indexer.indexing.update import update_index

    base = tmp_path_factory.mktemp("seed-index")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    index_dir = base / "index"
    summary = update_index([corpus], index_dir)
    assert not summary.skipped and len(summary.added) == len(SEEDS)
    return index_dir


@pytest.fixture(scope="session")
def engine(seed_index):
    from indexer.search.engine import SearchEngine

    eng = SearchEngine(seed_index)
    yield eng
    eng.close()


def paragraph_with(engine, rid: str, needle: str):
    """The first paragraph of report rid whose text contains needle."""
    for p in engine.report(rid).paragraphs:
        if needle in p.text:
            return p
    raise AssertionError(f"no paragraph of {rid} contains {needle!r}")


# The web tests' modules each define an ``app`` fixture (a Flask app on an index of their own);
# these are the same for all of them.
@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def eng(app):
    return app.extensions["policy_search_engine"]
