"""Comparisons with the baseline and how a change is coloured."""

from __future__ import annotations

import math

import gscsd
from gscsd.summary import compare, tone

from .conftest import write_mdl

MODEL = """
Rate = 0.1 ~ 1/Year [0,0.5,0.01] ~ Decay. |
Stock = INTEG(-Stock * Rate, 100) ~ Widget ~ Key output (lower is better): what is left. |
Drained = 100 - Stock ~ Widget ~ Key output (Higher is better): what went. |
Level = Stock / 100 ~ Dmnl ~ Key output: share left. |
"""


def test_key_outputs_say_which_way_is_good(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "decay.mdl", MODEL))
    assert {v: model.variable(v).better for v in model.key_outputs} == {"Stock": "lower", "Drained": "higher",
                                                                         "Level": None}
    table = compare(model, gscsd.run(model, gscsd.Scenario("fast", {"Rate": 0.2})), gscsd.run(model), [2.0])
    assert dict(zip(table["variable"], table["better"])) == {"Stock": "lower", "Drained": "higher", "Level": ""}
    # faster decay: less left (good, lower is better), more drained (good), a smaller share (no colour)
    tones = {r.variable: tone(r.change_pct, r.better) for r in table.itertuples()}
    assert tones == {"Stock": "good", "Drained": "good", "Level": "neutral"}


def test_tone():
    assert tone(5.0, "higher") == "good" and tone(-5.0, "higher") == "bad"
    assert tone(5.0, "lower") == "bad" and tone(-5.0, "lower") == "good"
    assert tone(5.0, None) == "neutral" and tone(-5.0, "") == "neutral"
    assert tone(0.01, "higher") == "flat" and tone(math.nan, "lower") == "flat"
