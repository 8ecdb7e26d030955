"""Project hygiene: lint in `make test`, declared test dependencies, shipped package data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

RUFF = Path(sys.executable).with_name("ruff")


def _ruff(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUFF), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_make_test_runs_ruff_before_pytest():
    for target in ("test", "test-fast"):
        plan = subprocess.run(["make", "-n", target], capture_output=True, text=True,
                              cwd=REPO, timeout=60).stdout
        lines = plan.splitlines()
        ruff = next(i for i, line in enumerate(lines) if "ruff check" in line)
        pytest_ = next(i for i, line in enumerate(lines) if "-m pytest" in line)
        assert ruff < pytest_, plan


def test_the_code_passes_ruff():
    result = _ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("source", "rule"), [
    ("import os\n", "F401"),  # pyflakes: unused import
    ("import sys\nimport os\n\nprint(os, sys)\n", "I001"),  # import order
    ("def f(x=[]):\n    return x\n", "B006"),  # bugbear: mutable default
    ("x = 1\nif x == None:\n    pass\n", "E711"),  # pycodestyle error
    ("x = '" + "a" * 130 + "'\n", "E501"),  # the line length the code uses (120)
])
def test_ruff_configuration_catches(tmp_path, source, rule):
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "bad.py").write_text(source)
    result = _ruff("check", "--no-cache", "bad.py", cwd=tmp_path)
    assert result.returncode == 1 and rule in result.stdout, result.stdout + result.stderr
