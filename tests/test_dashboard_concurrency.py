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
    """The request for whole charts (Dash's update protocol), as on a page load."""
    model = gscsd.load_model(model_data["path"])
    ids = [{"name": lever.name, "type": "lever"} for lever in model.levers]
    outputs = [{"id": "charts", "property": "children"}, {"id": "chart-lines", "property": "data"},
               {"id": "chart-shape", "property": "data"}]
    (output,) = [key for key in app.callback_map if key.startswith("..charts.children")]
    values = [levers.get(lever.name, lever.default) for lever in model.levers]
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [{"id": "method-select", "property": "value", "value": "euler"},
                   {"id": "variable-picker", "property": "value", "value": ["Learning"]},
                   {"id": "series-mode", "property": "value", "value": "elements"},
                   {"id": STORE_IDS.overlays, "property": "data", "value": []},
                   {"id": "charts-stale", "property": "data", "value": None}],
        "state": [[{"id": i, "property": "value", "value": v} for i, v in zip(ids, values)],
                  [{"id": i, "property": "id", "value": i} for i in ids],
                  {"id": STORE_IDS.model, "property": "data", "value": model_data}],
        "changedPropIds": ["method-select.value"],
    }


def move_request(levers, model_data, shape):
    """What assets/lines.js posts after a slider move (gscsd/dashboard/moves.py)."""
    model = gscsd.load_model(model_data["path"])
    return {"names": [lever.name for lever in model.levers],
            "values": [levers.get(lever.name, lever.default) for lever in model.levers],
            "method": "euler", "picked": ["Learning"], "mode": "elements", "overlays": [], "model": model_data,
            "shape": shape}


def plotted(response_json, figures=None):
    """{(chart, trace): y values} of the 'Current' traces in a charts response.

    A response with only new lines needs the ``figures`` (``{chart: figure}``)
    they go into, to name their traces.
    """
    if "lines" in response_json:  # a move's answer
        update = response_json["lines"]["charts"]
        return {(chart, figures[chart]["data"][j]["name"]): np.asarray(y, dtype=float)
                for chart, lines in update.items() for j, y in zip(lines["traces"], lines["y"])}
    cells = response_json["response"]["charts"]["children"]
    lines = {}
    for cell in cells:
        graph = cell["props"]["children"]
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
        reply = client.post("/_dash-update-component", json=chart_request(app, levers, model_data))
        assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
        answer = json.loads(reply.get_data(as_text=True))
        results = [plotted(answer)]
        shape = answer["response"]["chart-shape"]["data"]
        figures = {c["props"]["children"]["props"]["id"]["name"]: c["props"]["children"]["props"]["figure"]
                   for c in answer["response"]["charts"]["children"]}
        assert answer["response"]["chart-lines"]["data"]["levers"]  # says which scenario is drawn, for the status
        for _ in range(2):  # then slider moves, answered with just the lines
            reply = client.post("/_gscsd/move", json=move_request(levers, model_data, shape))
            assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
            answer = reply.get_json()
            assert "lines" in answer and answer["shape"]["revision"] == shape["revision"]
            results.append(plotted(answer, figures))
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
