"""Any Vensim model works: the corpus samples load, list their levers, run, and match Vensim."""

from __future__ import annotations

import pytest

import gscsd

from .conftest import SAMPLES, corpus_params, needs_corpus
from .corpus import canonical_output, compare_with_canonical

pytestmark = needs_corpus

SAMPLE_MODELS = corpus_params(sorted(SAMPLES.glob("*/*.mdl")))


@pytest.mark.parametrize("path", SAMPLE_MODELS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_loads_lists_levers_and_runs(path):
    model = gscsd.load_model(path)
    assert model.variables and model.stocks
    for lever in model.levers:  # constants with a range
        variable = model.variable(lever.name)
        assert variable.type == "Constant" and variable.has_bounds
        assert lever.min <= lever.default <= lever.max
    results = gscsd.run(model)
    assert results.index[0] == model.time.initial and results.index[-1] == pytest.approx(model.time.final)
    assert set(model.key_outputs) <= set(results.columns)
    if model.levers:  # moving a lever to its bound still runs
        lever = model.levers[0]
        gscsd.run(model, gscsd.Scenario(levers={lever.name: lever.max}))


def test_teacup_levers_are_its_ranged_constants(teacup):
    assert [(lever.name, lever.declared_min, lever.declared_max) for lever in teacup.levers] == [
        ("Characteristic Time", 0, None),
        ("Room Temperature", -459.67, None),
    ]


@pytest.mark.parametrize("folder", ["teacup", "SIR", "simple_harmonic_oscillator"])
def test_sample_matches_vensim_output(folder):
    path = next((SAMPLES / folder).glob("*.mdl"))
    vensim = canonical_output(SAMPLES / folder)
    ours = gscsd.run(gscsd.load_model(path))
    assert compare_with_canonical(ours, vensim, rtol=1e-3) == []
