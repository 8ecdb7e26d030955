"""Reading what a dashboard page shows, for the browser tests: drawn lines, rendered paths, cards, URL.

"One truth on screen": :func:`assert_shows` checks that what Plotly drew for
every 'Current' line (its ``_fullData`` and the SVG path it rendered), the
summary cards, the sliders and the URL all show ``gscsd.run`` of the same
scenario.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

import gscsd
from gscsd.describe import in_time_units
from gscsd.figures import display_alike, display_time
from gscsd.share import decode, lever_defaults

TIMEOUT = 20_000

#: Everything a chart shows for one trace: Plotly's data, and whether its rendered path goes through the points.
_TRACE = """([variable, name]) => {
    const cell = [...document.querySelectorAll('#charts .chart-cell')].find(c => c.dataset.variable === variable);
    const plot = cell && cell.querySelector('.js-plotly-plot');
    if (!plot || !plot._fullData) { return null; }
    const trace = plot._fullData.find(t => t.name === name);
    if (!trace) { return null; }
    const g = [...plot.querySelectorAll('g.trace.scatter')].find(
        g => g.__data__ && g.__data__[0] && g.__data__[0].trace && g.__data__[0].trace.name === name);
    const path = g && g.querySelector('path.js-line');
    const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
    const points = Array.from(trace.x, (x, k) => [xa.c2p(x), ya.c2p(trace.y[k])]);
    const vertices = path ? path.getAttribute('d').replace(/[ML]/g, ' ').trim().split(/\\s+/)
        .map(p => p.split(',').map(Number)) : [];
    const near = (a, b) => Math.abs(a[0] - b[0]) < 0.6 && Math.abs(a[1] - b[1]) < 0.6;
    const [low, high] = ya.range, slack = (high - low) * 1e-9;
    return {
        x: Array.from(trace.x), y: Array.from(trace.y), vertices: vertices.length,
        outside: Array.from(trace.y).filter(y => y < low - slack || y > high + slack).length,
        off: vertices.filter(v => !points.some(p => near(p, v))).length,
        ends: vertices.length > 1 && near(vertices[0], points[0]) && near(vertices[vertices.length - 1],
                                                                         points[points.length - 1]),
    };
}"""


def lever_id(name: str, kind: str = "lever") -> str:
    return json.dumps({"name": name, "type": kind}, separators=(",", ":"))


def slider(page, name):
    return page.locator(f"[id='{lever_id(name)}'] [role=slider]")


def box(page, name):
    return page.locator(f"[id='{lever_id(name, 'lever-box')}']")


def settle(page, timeout: int = TIMEOUT) -> None:
    """Wait until the page has sent everything and drawn every answer."""
    page.wait_for_function("() => window.gscsd && window.gscsd.drawn()", timeout=timeout)


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.querySelectorAll('#charts .js-plotly-plot').length >= 1", timeout=TIMEOUT)
    # Dash loads its slider component on demand: wait until every lever has its slider.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.lever')].every(l => l.querySelector('[role=slider]'))", timeout=TIMEOUT)
    settle(page)


def trace(page, variable: str, name: str = "Current") -> dict | None:
    return page.evaluate(_TRACE, [variable, name])


def search(page) -> str:
    return page.evaluate("() => window.location.search")


def cards(page) -> dict[str, str]:
    """``{variable: value text}`` of the summary cards."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#summary .card[data-variable]')]
        .map(c => [c.dataset.variable, c.querySelector('.card-value').textContent]))""")


def expected_lines(model, frame, variable: str, mode: str) -> dict[str, np.ndarray]:
    """The 'Current' lines a chart must show: ``{trace name: values}``."""
    columns = model.elements(variable)
    if len(columns) == 1:
        return {"Current": frame[columns[0]].to_numpy(float)}
    if mode == "sum":
        return {"Current": frame[columns].sum(axis=1).to_numpy(float)}
    return {f"Current: {c[len(variable) + 1:-1]}": frame[c].to_numpy(float) for c in columns}


def assert_shows(page, model, levers: Mapping[str, float], *, mode: str = "sum", method: str = "euler",
                 params: str | None = None) -> None:
    """Charts (data and rendered paths), cards, sliders and URL all show ``gscsd.run`` of ``levers``
    (on top of the parameter set ``params``, whose lever values are then the defaults)."""
    settle(page)
    expected = gscsd.run(model, gscsd.Scenario("expected", dict(levers), params=params), method=method)
    defaults = lever_defaults(model, params)
    variables = page.evaluate(
        "() => [...document.querySelectorAll('#charts .chart-cell')].map(c => c.dataset.variable)")
    assert set(model.key_outputs) <= set(variables)
    for variable in variables:
        for name, values in expected_lines(model, expected, variable, mode).items():
            drawn = trace(page, variable, name)
            assert drawn is not None, f"no '{name}' line on the {variable} chart"
            np.testing.assert_allclose(drawn["y"], values, rtol=1e-12, err_msg=f"{variable}: {name}")
            np.testing.assert_allclose(drawn["x"], expected.index.to_numpy(float))
            assert drawn["vertices"] >= 2 and drawn["off"] == 0 and drawn["ends"], (variable, name, drawn["off"])
            assert drawn["outside"] == 0, f"{variable}: {name} leaves the chart's y range at {drawn['outside']} points"
    final = expected.index[-1]
    baseline = gscsd.run(model, gscsd.Scenario("Baseline", params=params), method=method)
    shown = cards(page)
    for variable in model.key_outputs:
        total, base = (sum(frame[c].loc[final] for c in model.elements(variable)) for frame in (expected, baseline))
        # a time (a peak year) reads as a year, 2024.6; everything else to three digits, as many decimals as
        # the baseline beside it
        written = display_time(total) if in_time_units(model, variable) else display_alike(total, base)[0]
        assert shown[variable] == written, variable
    url = decode(model, search(page)).view
    assert url.params == params and url.levers == {k: v for k, v in levers.items() if v != defaults[k]}
    for lever in model.levers:
        value = float(slider(page, lever.name).get_attribute("aria-valuenow"))
        assert value == levers.get(lever.name, defaults[lever.name]), lever.name
        assert float(box(page, lever.name).input_value()) == value, lever.name



def walk(node):
    """Every Dash component under ``node`` (a layout, lists of them, their children), depth first."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from walk(item)
        return
    if node is None or isinstance(node, (str, int, float)):
        return
    yield node
    yield from walk(getattr(node, "children", None))


def text_in(node) -> str:
    """All the text under a Dash component (or a list of them), joined by spaces."""
    if isinstance(node, (list, tuple)):
        return " ".join(text_in(n) for n in node)
    if isinstance(node, str):
        return node
    if node is None or isinstance(node, (int, float)):
        return ""
    return text_in(getattr(node, "children", None))
