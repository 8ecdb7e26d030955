"""Shared fixtures: an isolated translation cache and paths to the models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
GSC = MODELS / "gsc.mdl"
SHARED = Path(os.environ.get("GSCSD_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "vensim-corpus"
SAMPLES = CORPUS / "samples"
TEACUP = SAMPLES / "teacup" / "teacup.mdl"

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"Vensim corpus not found at {CORPUS}")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Translate into a cache of this test session, never the user's."""
    cache = tmp_path_factory.mktemp("gscsd-cache")
    old = os.environ.get("GSCSD_CACHE_DIR")
    os.environ["GSCSD_CACHE_DIR"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("GSCSD_CACHE_DIR", None)
    else:
        os.environ["GSCSD_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def teacup():
    import gscsd

    if not TEACUP.is_file():
        pytest.skip(f"corpus sample not found: {TEACUP}")
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
