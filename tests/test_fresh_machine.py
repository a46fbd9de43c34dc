"""The README's test command is the whole set-up: .ci/run runs it verbatim, and the system
packages the tests need are installed by the tests themselves (tests/system_packages.py)."""
from __future__ import annotations

import subprocess

import system_packages
from system_packages import SystemPackage

from conftest import ROOT


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("```"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    return lines[start + 1:end]


def test_ci_runs_the_readme_test_command_verbatim():
    printed = subprocess.run(["bash", str(ROOT / ".ci" / "run"), "--print-command"], capture_output=True,
                             text=True, check=True).stdout.strip()
    install_and_serve, install_and_test = readme_commands()
    assert printed == install_and_test
    assert "pip install -e '.[test]'" in printed and "pytest" in printed
    assert "pip install -e '.[ocr]'" in install_and_serve and "policy-search serve" in install_and_serve


def test_the_packages_the_tests_need_are_present_after_the_session_started():
    # pytest_sessionstart (conftest.py) installed them if they were missing.
    assert system_packages.missing() == []


def test_without_root_a_missing_package_is_one_clear_instruction(tmp_path, monkeypatch):
    absent = SystemPackage("chromium", tmp_path / "no-such-chromium", "browser tests")
    monkeypatch.setattr(system_packages.os, "geteuid", lambda: 1000)
    problem = system_packages.ensure((absent,))
    assert problem is not None
    assert "sudo apt-get install -y chromium" in problem and "browser tests" in problem


def test_nothing_missing_means_nothing_to_do(tmp_path):
    present = tmp_path / "present"
    present.write_text("x")
    assert system_packages.ensure((SystemPackage("whatever", present, "tests"),)) is None
