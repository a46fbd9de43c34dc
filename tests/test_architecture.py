"""The architecture contract (docs/architecture.md, `[tool.importlinter]` in pyproject.toml): data
flows cli, webapp -> search -> citations -> store <- indexing -> reading; the shared modules are
below every stage; the web app and the CLI never import whoosh or numpy themselves."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contract_holds():
    # The script pip installed beside this Python (the `test` extra), else the one on PATH.
    beside = Path(sys.executable).parent / "lint-imports"
    script = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert script, "lint-imports is missing: python3 -m pip install -e '.[test]'"
    proc = subprocess.run([script, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, "imports against the architecture:\n" + proc.stdout + proc.stderr
