"""Shared fixtures: an isolated translation cache and paths to the models."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# CI (.ci/run sets CI=true) replays the same generated inputs every run: a red CI is reproducible, and
# nothing is written to .hypothesis/. Locally Hypothesis explores new inputs each run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
GSC = MODELS / "gsc.mdl"


def _shared() -> Path:
    """``$GSCSD_SHARED``, else ``shared/`` beside the checkout (for a git worktree: beside its main checkout)."""
    if os.environ.get("GSCSD_SHARED"):
        return Path(os.environ["GSCSD_SHARED"])
    beside = REPO.parent / "shared"
    git = REPO / ".git"
    if not beside.is_dir() and git.is_file():  # a worktree: .git says "gitdir: <main>/.git/worktrees/<name>"
        gitdir = Path(git.read_text(encoding="utf-8").partition("gitdir:")[2].strip())
        if gitdir.parent.name == "worktrees" and gitdir.parent.parent.name == ".git":
            return gitdir.parents[2].parent / "shared"
    return beside


SHARED = _shared()
CORPUS = SHARED / "vensim-corpus"
SAMPLES = CORPUS / "samples"
TEACUP = SAMPLES / "teacup" / "teacup.mdl"
MISSING_CORPUS = (f"Vensim corpus not found at {CORPUS}: the tests need shared/ beside the checkout "
                  "(as CI lays it out) or GSCSD_SHARED=/path/to/shared")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The Vensim corpus; its absence fails the tests that need it (CI must not pass without them)."""
    if not CORPUS.is_dir():
        pytest.fail(MISSING_CORPUS, pytrace=False)
    return CORPUS


#: ``gscsd`` as a command a user runs in a terminal, where Ctrl-C interrupts it. A test suite started in
#: the background (``make test &``) has SIGINT ignored, and children inherit that: ``python -m gscsd`` would
#: then ignore the SIGINT a test sends. This starts it with Python's own SIGINT handler.
GSCSD_IN_A_TERMINAL = [
    sys.executable, "-c",
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'gscsd'; runpy.run_module('gscsd', run_name='__main__', alter_sys=True)",
]


_REPORT: list[str] = []


def report_line(line: str) -> None:
    """Print ``line`` in the test run's summary (``pytest -q`` shows it too): counts a test wants seen."""
    _REPORT.append(line)


def pytest_terminal_summary(terminalreporter) -> None:
    if _REPORT:
        terminalreporter.section("gscsd")
        for line in _REPORT:
            terminalreporter.write_line(line)


#: Mark for tests that read the Vensim corpus: they fail, never skip, when it is missing.
needs_corpus = pytest.mark.usefixtures("corpus")


def corpus_params(values: list, arity: int = 1) -> list:
    """Parameters read from the corpus, or one that fails (through ``corpus``) when it is missing.

    An empty parameter list would make pytest skip the test silently.
    """
    if CORPUS.is_dir():
        return values
    return [pytest.param(*([None] * arity), id="vensim-corpus-missing")]


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Translate into a cache of this test session, never the user's."""
    cache = tmp_path_factory.mktemp("gscsd-cache")
    old = os.environ.get("GSCSD_CACHE_DIR")
    os.environ["GSCSD_CACHE_DIR"] = str(cache)
    # The fast engine's compiled back-end takes seconds to compile per model; the
    # suite runs the Python flavours (the same numbers) and tests/test_engine_native.py
    # the compiled code. No background compile processes during tests.
    os.environ.setdefault("GSCSD_NUMBA", "0")
    yield cache
    if old is None:
        os.environ.pop("GSCSD_CACHE_DIR", None)
    else:
        os.environ["GSCSD_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def teacup(corpus):
    import gscsd

    if not TEACUP.is_file():
        pytest.fail(f"corpus sample not found: {TEACUP}", pytrace=False)
    return gscsd.load_model(TEACUP)


@pytest.fixture(scope="session")
def gsc():
    import gscsd

    return gscsd.load_model(GSC)


def write_mdl(folder: Path, name: str, equations: str, control: str | None = None) -> Path:
    """Write a small Vensim model; ``equations`` are complete ``x = ... ~ units ~ doc |`` entries."""
    control = control or (
        "INITIAL TIME = 0 ~ Year ~ start |\nFINAL TIME = 10 ~ Year ~ end |\n"
        "TIME STEP = 0.25 ~ Year ~ step |\nSAVEPER = 1 ~ Year ~ save |\n"
    )
    path = folder / name
    path.write_text("{UTF-8}\n" + equations.strip() + "\n" + control, encoding="utf-8")
    return path
