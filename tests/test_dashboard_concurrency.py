"""Several sessions at once get their own results (the same as running alone)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import gscsd
from gscsd.dashboard.server import create_app

from .test_dashboard_callbacks import make_models_dir

SCENARIOS = [
    {"Growth": 0.0},
    {"Growth": 0.1, "Green Investment": 0.9},
    {"Growth": 0.05, "Learning Time": 1.0},
    {"Green Investment": 0.0},
    {"Growth": 0.02, "Green Investment": 0.35, "Learning Time": 7.5},
    {},
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = make_models_dir(tmp_path_factory.mktemp("models"))
    # No result cache: every request simulates, so sessions really run side by side.
    return create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite", cache_size=0)


def view(levers):
    return {"model": "city.mdl", "levers": levers, "method": "euler", "name": "", "overlays": [],
            "charts": ["Learning"], "mode": "elements", "tab": "trajectories"}


def current(answer, figures):
    """{(chart, trace name): y} of the 'Current' lines of an answer (whole figures or only lines)."""
    charts = answer["charts"]
    if "figures" in charts:
        figures.update(charts["figures"])
        return {(v, figures[v]["data"][i]["name"]): np.asarray(figures[v]["data"][i]["y"])
                for v, traces in charts["current"].items() for i in traces}
    return {(v, figures[v]["data"][i]["name"]): np.asarray(y)
            for v, lines in charts["lines"].items() for i, y in zip(lines["traces"], lines["y"])}


def test_concurrent_sessions_match_sequential_runs(app):
    model = app.gscsd.services.model("city.mdl")

    def session(levers):
        client = app.server.test_client()  # one client per session, as separate browsers
        reply = client.post("/_gscsd/view", json={"view": view(levers)})
        assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
        answer, figures = reply.get_json(), {}
        results = [current(answer, figures)]
        have = {"revision": answer["charts"]["revision"], "ranges": answer["charts"]["ranges"]}
        for _ in range(2):  # then slider moves, answered with just the lines
            reply = client.post("/_gscsd/view", json={"view": view(levers), "have": have})
            assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
            answer = reply.get_json()
            assert "lines" in answer["charts"] and answer["charts"]["revision"] == have["revision"]
            results.append(current(answer, figures))
        return results, answer["cards"]

    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        concurrent = list(pool.map(session, SCENARIOS))

    for levers, (results, cards) in zip(SCENARIOS, concurrent):
        expected = gscsd.run(model, gscsd.Scenario("alone", levers))
        for lines in results:
            np.testing.assert_allclose(lines[("Size", "Current")], expected["Size"].to_numpy(), rtol=1e-12)
            np.testing.assert_allclose(lines[("Knowledge", "Current: Wind")],
                                       expected["Knowledge[Wind]"].to_numpy(), rtol=1e-12)
            np.testing.assert_allclose(lines[("Learning", "Current: Solar")],
                                       expected["Learning[Solar]"].to_numpy(), rtol=1e-12)
        size = next(c for c in cards if c["variable"] == "Size")
        baseline = gscsd.run(model)["Size"].iloc[-1]
        assert size["value"] == gscsd.figures.display_alike(expected["Size"].iloc[-1], baseline)[0]
    # the scenarios really differ, so a mix-up would have been caught
    finals = {round(float(r[0][("Size", "Current")][-1]), 6) for r, _ in concurrent}
    assert len(finals) >= 4
