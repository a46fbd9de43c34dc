"""The README keeps up with the code, in the spirit of sqlite-utils' tests/test_docs.py: every CLI
verb, query field, API route and setting is named in README.md, and every module path that
README.md or bench/README.md names exists."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BENCH_README = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")


def _verbs() -> list[str]:
    from indexer.cli import main

    return sorted(main.commands)


def _settings() -> list[str]:
    from indexer.config import Settings

    return [f.name for f in dataclasses.fields(Settings)]


def _query_fields() -> list[str]:
    from indexer.search.query import FIELDS

    return list(FIELDS)


@pytest.mark.parametrize("verb", _verbs())
def test_every_cli_verb_is_in_the_readme(verb):
    assert f"policy-search {verb}" in README, f"README.md shows no `policy-search {verb}`"


@pytest.mark.parametrize("field", _query_fields())
def test_every_query_field_is_in_the_readme(field):
    # As the query table writes a field: `region:互助`.
    assert f"`{field}:" in README, f"README.md's query table shows no `{field}:…`"


@pytest.mark.parametrize("setting", _settings())
def test_every_setting_is_in_the_readme(setting):
    assert f"`{setting}`" in README, f"README.md does not name the setting `{setting}`"


def _readme_route(rule: str) -> re.Pattern[str]:
    """A Flask rule as the README writes it: each ``<converter:name>`` as any ``<…>``."""
    parts = re.split(r"<[^>]+>", rule)
    return re.compile("`(?:[A-Z]+ )?" + "<[^>]+>".join(re.escape(p) for p in parts) + "`")


def test_every_api_route_is_in_the_readme(seed_index):
    from indexer.config import Settings
    from webapp import create_app

    app = create_app(Settings(index=seed_index))
    routes = sorted({rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")})
    assert routes, "the app has no /api/ route"
    missing = [r for r in routes if not _readme_route(r).search(README)]
    assert not missing, f"README.md's API table lacks {missing}"


# Modules (`indexer/store/exact.py`, `bench/run.py`, `tests/test_cli.py`) and packages
# (`indexer/indexing/`); not the data folders bench/README.md describes (`bench/out/`).
_PATH = re.compile(r"(?<![\w/.])((?:indexer|webapp|bench|tests)/[\w/]*\.py|(?:indexer|webapp)/[\w/]*/)(?![\w.])")
# `indexer.indexing.update.update_index`: a module and, maybe, a name in it
_DOTTED = re.compile(r"(?<![\w.])((?:indexer|webapp)(?:\.\w+)+)")


@pytest.mark.parametrize("name", ["README.md", "bench/README.md"])
def test_every_path_the_readmes_name_exists(name):
    text = {"README.md": README, "bench/README.md": BENCH_README}[name]
    paths = set(_PATH.findall(text))
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"{name} names paths that do not exist: {missing}"
    for dotted in set(_DOTTED.findall(text)):
        parts = dotted.split(".")
        candidates = [Path(*parts[:n]) for n in (len(parts), len(parts) - 1) if n]
        assert any((ROOT / c).with_suffix(".py").exists() or (ROOT / c / "__init__.py").exists()
                   for c in candidates), f"{name} names {dotted}, which is no module (or name in one)"
