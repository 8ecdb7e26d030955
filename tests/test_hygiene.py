"""Project hygiene: lint in `make test`, declared test dependencies, shipped package data."""

from __future__ import annotations

import os
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


def _package_data() -> dict[str, list[str]]:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"].get("package-data", {})


def test_every_non_python_file_of_the_package_is_package_data():
    """A non-editable install (a wheel) carries only .py files and the package-data patterns.

    ``assets/lines.js`` was missing once, so slider moves broke when gscsd was installed from a wheel
    (its successor, ``assets/view.js``, runs every update of the page).
    """
    data = _package_data()
    tracked = subprocess.run(["git", "ls-files", "gscsd"], capture_output=True, text=True, cwd=REPO,
                             check=True).stdout.split()
    files = [REPO / f for f in tracked if not f.endswith(".py")]
    assert any(f.name == "view.js" for f in files)
    missing = []
    for file in files:
        package = file.parent
        while not (package / "__init__.py").is_file():
            package = package.parent
        dotted = ".".join(package.relative_to(REPO).parts)
        patterns = data.get(dotted, []) + data.get("*", [])
        if not any(file in set(package.glob(pattern)) for pattern in patterns):
            missing.append(str(file.relative_to(REPO)))
    assert not missing, f"add to [tool.setuptools.package-data] in pyproject.toml: {missing}"


def _imported_modules(folder: Path) -> set[str]:
    import ast

    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _declared_distributions() -> set[str]:
    import re
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    declared = set()
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", requirement)
        declared.add(match[1].lower().replace("_", "-"))
        # "dask[distributed]" declares the distribution of the extra too.
        declared.update(e.strip().lower() for e in (match[2] or "").split(",") if e.strip() and match[1] != "gscsd")
    return declared


@pytest.mark.parametrize("folder", ["tests", "gscsd"])
def test_every_third_party_module_imported_is_declared(folder):
    """`psutil` was used by the tests but only installed because dask happens to need it."""
    from importlib.metadata import packages_distributions

    owners = packages_distributions()
    declared = _declared_distributions()
    undeclared = {}
    for module in sorted(_imported_modules(REPO / folder) - set(sys.stdlib_module_names) - {"gscsd", "tests"}):
        distributions = {d.lower().replace("_", "-") for d in owners.get(module, [module])}
        if not distributions & declared:
            undeclared[module] = sorted(distributions)
    assert not undeclared, f"declare these in pyproject.toml's dev extra: {undeclared}"


def test_corpus_tests_fail_not_skip_when_the_corpus_is_missing(tmp_path):
    """CI must go red without ../shared: the corpus tests used to skip silently."""
    env = {**os.environ, "GSCSD_SHARED": str(tmp_path / "nowhere")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
         "tests/test_corpus_samples.py", "tests/test_corpus_vensim.py"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 1, done.stdout[-2000:]
    assert "skipped" not in summary and "error" in summary and "passed" not in summary, summary
    assert f"Vensim corpus not found at {tmp_path / 'nowhere' / 'vensim-corpus'}" in done.stdout
    assert "GSCSD_SHARED" in done.stdout and "vensim-corpus-missing" in done.stdout


def test_pytest_has_a_timeout(request):
    """A hung test fails after this many seconds instead of holding CI for its 90 minutes."""
    assert 60 <= float(request.config.getini("timeout")) <= 900


@pytest.mark.slow
def test_the_suite_passes_when_started_in_the_background(tmp_path):
    """`make test &` runs pytest with SIGINT ignored (so do the children it starts).

    The Ctrl-C test's child then ignored its SIGINT, timed out, and left two pipes open whose
    ResourceWarning failed the next test under filterwarnings=error.
    """
    script = ("import signal, sys, pytest; signal.signal(signal.SIGINT, signal.SIG_IGN); "
              "sys.exit(pytest.main(sys.argv[1:]))")
    done = subprocess.run(
        [sys.executable, "-c", script, "-q", "-p", "no:cacheprovider", "-W", "error::ResourceWarning",
         "tests/test_analysis_cli.py::test_ctrl_c_stops_the_run_and_its_worker_processes",
         "tests/test_analysis_cli.py::test_progress_bar_line"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 passed" in done.stdout


def test_a_second_dashboard_on_a_busy_port_gives_a_one_line_hint():
    """A second `make run` used to end in Flask's multi-line error."""
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([sys.executable, "app.py", "--port", str(port)], capture_output=True, text=True,
                              cwd=REPO, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"app.py: cannot serve on 127.0.0.1:{port} (Address already in use); serve on another port: "
        f"make run PORT={port + 1} (or python app.py --port {port + 1})"
    ]


def test_the_readme_says_how_to_reach_the_command_and_the_limits_it_documents_hold():
    from gscsd import limits
    from gscsd.cli import EXIT_BROKEN_PIPE

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/gscsd" in readme and ". .venv/bin/activate" in readme and "make run PORT=" in readme
    section = readme.split("### Limits", 1)[1].split("\n## ", 1)[0]
    for value in (limits.MAX_STEPS, limits.MAX_SAVED_VALUES, limits.MAX_SCENARIO_BYTES, limits.MAX_NAME_CHARS,
                  limits.MAX_NOTES_CHARS, limits.MAX_SCENARIO_LEVERS, limits.MAX_MODEL_BYTES):
        assert f"{value:,}" in section, value
    assert f"{limits.RTOL_RANGE[0]:g}" in section and limits.STEPS_ENV in section and limits.VALUES_ENV in section
    assert f" {EXIT_BROKEN_PIPE} " in section
