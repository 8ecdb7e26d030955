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


def chart_request(app, levers, model_data, shape=None):
    """The request the browser sends when a slider moves (Dash's update protocol).

    Without ``shape`` (the chart-shape store) it asks for whole charts, as on a
    first draw; with it, for just the new lines.
    """
    model = gscsd.load_model(model_data["path"])
    ids = [{"name": lever.name, "type": "lever"} for lever in model.levers]
    outputs = [{"id": "charts", "property": "children"}, {"id": "chart-lines", "property": "data"},
               {"id": "chart-shape", "property": "data"}]
    (output,) = [key for key in app.callback_map if key.startswith("..charts.children")]
    values = [levers.get(lever.name, lever.default) for lever in model.levers]
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [[{"id": i, "property": "value", "value": v} for i, v in zip(ids, values)],
                   {"id": "method-select", "property": "value", "value": "euler"},
                   {"id": "variable-picker", "property": "value", "value": ["Learning"]},
                   {"id": "series-mode", "property": "value", "value": "elements"},
                   {"id": STORE_IDS.overlays, "property": "data", "value": []}],
        "state": [[{"id": i, "property": "id", "value": i} for i in ids],
                  {"id": STORE_IDS.model, "property": "data", "value": model_data},
                  {"id": "chart-shape", "property": "data", "value": shape}],
        "changedPropIds": [json.dumps(ids[0], separators=(",", ":")) + ".value"],
    }


def plotted(response_json, figures=None):
    """{(chart, trace): y values} of the 'Current' traces in a charts response.

    A response with only new lines needs the ``figures`` (``{chart: figure}``)
    they go into, to name their traces.
    """
    if "charts" not in response_json["response"]:
        update = response_json["response"]["chart-lines"]["data"]["charts"]
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
        results, shape, figures = [], None, None
        for _ in range(3):  # whole charts, then just the lines (twice)
            reply = client.post("/_dash-update-component", json=chart_request(app, levers, model_data, shape))
            assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
            answer = json.loads(reply.get_data(as_text=True))
            assert ("charts" in answer["response"]) == (shape is None)
            results.append(plotted(answer, figures))
            if shape is None:
                shape = answer["response"]["chart-shape"]["data"]
                figures = {c["props"]["children"]["props"]["id"]["name"]: c["props"]["children"]["props"]["figure"]
                           for c in answer["response"]["charts"]["children"]}
                assert "chart-lines" in answer["response"]  # says which scenario is drawn, for the summary
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
