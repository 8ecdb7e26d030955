"""Several sessions at once get their own results (the same as running alone)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import gscsd
from gscsd.dashboard.server import create_app
from gscsd.dashboard.tabs import STORE_IDS

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
def served(tmp_path_factory):
    folder = make_models_dir(tmp_path_factory.mktemp("models"))
    # No result cache: every request simulates, so sessions really run side by side.
    app = create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite", cache_size=0)
    _, model_data, *_ = app.gscsd.build_page("")
    return app, model_data


def chart_request(app, levers, model_data):
    """The request the browser sends when the levers store changes (Dash's update protocol)."""
    model = gscsd.load_model(model_data["path"])
    sliders = [{"id": {"name": lever.name, "type": "lever"}, "property": "updatemode"} for lever in model.levers]
    outputs = [{"id": "charts", "property": "children"}, [], {"id": "summary", "property": "children"},
               {"id": "run-info", "property": "children"}, {"id": "banner", "property": "children"},
               {"id": "chart-shape", "property": "data"}, sliders]
    (output,) = [key for key in app.callback_map if key.startswith("..charts.children")]
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [{"id": STORE_IDS.levers, "property": "data", "value": levers},
                   {"id": STORE_IDS.method, "property": "data", "value": "euler"},
                   {"id": "variable-picker", "property": "value", "value": ["Learning"]},
                   {"id": "series-mode", "property": "value", "value": "elements"},
                   {"id": STORE_IDS.overlays, "property": "data", "value": []}],
        "state": [{"id": STORE_IDS.model, "property": "data", "value": model_data},
                  {"id": "chart-shape", "property": "data", "value": None},
                  [dict(slider, value="mouseup") for slider in sliders]],
        "changedPropIds": [f"{STORE_IDS.levers}.data"],
    }


def plotted(response_json):
    """{(chart, trace): y values} of the 'Current' traces in a charts response."""
    graphs = response_json["response"]["charts"]["children"]
    lines = {}
    for graph in graphs:
        for trace in graph["props"]["figure"]["data"]:
            if trace["name"].startswith("Current"):
                y = trace["y"]
                if isinstance(y, dict):  # plotly's base64 typed-array encoding
                    import base64

                    y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"])
                lines[(graph["props"]["id"]["name"], trace["name"])] = np.asarray(y, dtype=float)
    return lines


def test_concurrent_sessions_match_sequential_runs(served):
    app, model_data = served
    model = gscsd.load_model(model_data["path"])

    def session(levers):
        client = app.server.test_client()  # one client per session, as separate browsers
        results = []
        for _ in range(2):
            reply = client.post("/_dash-update-component", json=chart_request(app, levers, model_data))
            assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
            results.append(plotted(json.loads(reply.get_data(as_text=True))))
        return results

    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        concurrent = list(pool.map(session, SCENARIOS))

    for levers, results in zip(SCENARIOS, concurrent):
        expected = gscsd.run(model, gscsd.Scenario("alone", levers))
        for lines in results:
            assert set(lines) >= {("Size", "Current"), ("Knowledge", "Current: Wind"), ("Learning", "Current: Solar")}
            np.testing.assert_allclose(lines[("Size", "Current")], expected["Size"].to_numpy(), rtol=1e-12)
            np.testing.assert_allclose(lines[("Knowledge", "Current: Wind")],
                                       expected["Knowledge[Wind]"].to_numpy(), rtol=1e-12)
            np.testing.assert_allclose(lines[("Learning", "Current: Solar")],
                                       expected["Learning[Solar]"].to_numpy(), rtol=1e-12)
    # the scenarios really differ, so a mix-up would have been caught
    finals = {round(float(r[0][("Size", "Current")][-1]), 6) for r in concurrent}
    assert len(finals) >= 4
