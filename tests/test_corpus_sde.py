"""SDEverywhere's test models against Vensim's own output (tests/data/sdeverywhere, MIT licence).

Each model runs with the fast engine and is compared with the ``.dat`` that
Vensim wrote for it, at rtol 1e-3 with an absolute floor of 1e-6 (the
``.dat`` files hold six significant digits). These cover what the SDXorg
corpus lacks: PULSE TRAIN at its last pulse, DELAY3 over per-element delay
times, NPV, inline comments, equation cycles PySD cannot order (``ref``,
``interleaved``: the fast engine runs them, PySD does not).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import unsupported_reasons
from gscsd.vensim.data import read_data_file

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ROOT = Path(__file__).resolve().parent / "data" / "sdeverywhere"
MODELS = sorted(ROOT.glob("*/*.mdl"))


def test_the_models_are_here():
    assert len(MODELS) >= 25 and (ROOT / "LICENSE").is_file()


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.parent.name)
def test_fast_engine_matches_vensim(path):
    model = gscsd.load_model(path)
    assert unsupported_reasons(model) == []
    results = gscsd.run(model, engine="fast")
    vensim = read_data_file(path.with_suffix(".dat"))
    compared, problems = 0, []
    for name, (times, values) in vensim.items():
        if name not in results.columns:
            continue
        index = results.index.get_indexer(times)
        assert (index >= 0).all(), f"{name}: Vensim saved times that we did not"
        ours = results[name].to_numpy()[index]
        compared += 1
        if not np.allclose(ours, values, rtol=1e-3, atol=1e-6):
            worst = int(np.argmax(np.abs(ours - values)))
            problems.append(f"{name} at {times[worst]:g}: {ours[worst]:.6g} vs Vensim {values[worst]:.6g}")
    assert compared >= 1
    assert problems == []
