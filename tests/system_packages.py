"""What the tests need from the system besides Python packages, installed when it is missing.

The README's test command (`python3 -m pip install -e '.[test]' && python3 -m pytest -q`) must pass
on a fresh Debian machine with nothing else done first, and `.ci/run` runs that same command. So
the first pytest run installs Debian's chromium (browser tests, through Playwright), a CJK
TrueType font (PDF tests embed it), ripgrep (a benchmark reference) and LibreOffice (it converts .doc
and .wps files) with apt when it runs as root, or stops at once with the one
line to run otherwise. Browser tests are never skipped for want of a browser.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SystemPackage:
    debian_name: str
    provides: Path  # the file the tests use
    why: str


REQUIRED = (
    SystemPackage("chromium", Path("/usr/bin/chromium"), "browser tests (Playwright drives Debian's chromium)"),
    SystemPackage("fonts-droid-fallback", Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
                  "PDF tests (a CJK TrueType font to embed)"),
    SystemPackage("ripgrep", Path("/usr/bin/rg"), "the benchmark's ripgrep reference (tests/test_bench_references.py)"),
    SystemPackage("libreoffice-writer-nogui", Path("/usr/bin/soffice"),
                  "the .doc and .wps reader's tests (LibreOffice converts them)"),
)


def missing(required=REQUIRED) -> list[SystemPackage]:
    return [p for p in required if not p.provides.exists()]


def install_command(packages: list[SystemPackage]) -> list[str]:
    return ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + [p.debian_name for p in packages]


def ensure(required=REQUIRED, *, out=None) -> str | None:
    """Installs what is missing; returns None when all is there, else why the tests cannot run.
    Progress goes to the real stderr (``out``), past pytest's capture: an install takes a minute."""
    out = sys.__stderr__ if out is None else out
    todo = missing(required)
    if not todo:
        return None
    names = " ".join(p.debian_name for p in todo)
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return (f"the tests need Debian packages that are missing: {names} "
                f"({'; '.join(p.why for p in todo)}). Install them with: sudo apt-get install -y {names}")
    print(f"policy-search tests: installing Debian packages {names} (first run on this machine) …",
          file=out, flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], install_command(todo)):
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            tail = "\n".join(done.stdout.strip().splitlines()[-5:])
            return f"`{' '.join(cmd)}` failed (exit {done.returncode}):\n{tail}"
    still = missing(required)
    if still:
        return f"installed {names}, but {', '.join(str(p.provides) for p in still)} is still missing"
    return None
