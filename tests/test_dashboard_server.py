"""`python app.py` (what `make run` starts) serves with gunicorn: several workers, gzip, security headers, and
every link the dashboard writes (a longer one gets our one line)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from gscsd.dashboard import production
from gscsd.dashboard.server import create_app
from gscsd.dashboard.view import Request, read_view
from gscsd.share import (
    MAX_CHARTS,
    MAX_NAME,
    MAX_OVERLAYS,
    MAX_QUERY,
    Overlay,
    View,
    chartable,
    encode,
    fit,
    format_value,
    on_step,
)

from .browser import artifact, browser  # noqa: F401
from .dashboard_page import TIMEOUT, open_page, settle, slider
from .test_dashboard_callbacks import make_models_dir

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_app_py_serves_with_gunicorn_workers_and_gzip(tmp_path):
    folder = make_models_dir(tmp_path / "models")
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--models-dir", str(folder),
                               "--store", str(tmp_path / "s.sqlite"), "--workers", "2", "--threads", "2"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as reply:
                    page, headers = reply.read(), reply.headers
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the dashboard did not start")
        assert headers["Server"] == "gunicorn" and headers["X-Frame-Options"] == "DENY"
        assert b"_dash-config" in page
        request = urllib.request.Request(base + "/_dash-component-suites/plotly/package_data/plotly.min.js",
                                         headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.headers["Content-Encoding"] == "gzip" and int(reply.headers["Content-Length"]) < 2_000_000
        # every worker answers the one update path
        body = json.dumps({"view": {"model": "city.mdl", "levers": {"Growth": 0.04}}}).encode()
        for _ in range(4):
            view = urllib.request.Request(base + "/_gscsd/view", data=body,
                                          headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(view, timeout=30) as reply:
                assert json.loads(reply.read())["query"] == "?model=city.mdl&growth=0.04"
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) == 2
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output[-2000:]
    assert f"gscsd dashboard on http://127.0.0.1:{port}/ (2 workers x 2 threads" in output


# -- every link the dashboard writes opens again ---------------------------------------------------------------
def worst_view(model, char: str) -> View:
    """The longest view of ``model`` the dashboard's limits allow: every lever at the step with the longest
    text, in the page and in :data:`MAX_OVERLAYS` overlays, :data:`MAX_CHARTS` charts of the longest names,
    every name :data:`MAX_NAME` characters of ``char``."""
    levers = {}
    for lever in model.levers:
        steps = (lever.min + k * lever.step for k in range(round((lever.max - lever.min) / lever.step) + 1))
        values = [on_step(lever, v) for v in steps]
        levers[lever.name] = max((v for v in values if v != lever.default), key=lambda v: len(format_value(v)))
    charts = sorted((name for name in model.variables if chartable(model, name)),
                    key=lambda name: -len(model.variable(name).py_name))[:MAX_CHARTS]
    names = [f"{i}" + char * (MAX_NAME - 1) for i in range(MAX_OVERLAYS + 1)]
    return View(model=model.path.name, levers=levers, method="rk4", name=names[0], mode="elements",
                overlays=tuple(Overlay(n, dict(levers)) for n in names[1:]), charts=tuple(charts),
                tab="uncertainty", year=2030.0)


def test_every_link_the_dashboard_writes_fits_the_server_s_request_line(gsc):
    # the request line: method, path, query, protocol; the Referer header carries the page's address too
    assert len("GET / HTTP/1.1") + MAX_QUERY + 100 <= production.REQUEST_LINE <= 8190
    assert len("Referer: http://localhost:65535/") + MAX_QUERY <= production.REQUEST_LINE
    longest = worst_view(gsc, "n")
    query = encode(gsc, longest)
    assert 6_000 < len(query) <= MAX_QUERY, len(query)  # the longest view of plain names: nothing left out
    assert fit(gsc, longest, []) is longest
    # names that percent-encode to 5 ('%' in an overlay's name), 9 (Chinese) and 12 (an emoji) characters each:
    # the dashboard keeps what its link can hold, and says what it left out
    for char in ("%", "碳", "\U0001F332"):
        messages: list[str] = []
        whole = worst_view(gsc, char)
        view = fit(gsc, whole, messages)
        kept = len(view.overlays)
        assert len(encode(gsc, view)) <= MAX_QUERY, char
        # as many overlays as fit, every chart
        assert len(encode(gsc, replace(view, overlays=whole.overlays[:kept + 1]))) > MAX_QUERY, char
        assert len(messages) == MAX_OVERLAYS - kept and view.charts == longest.charts and view.name == whole.name
    # and so does the one update path, for a view a browser sends
    services = create_app(REPO / "models").gscsd.services
    request = Request(view=worst_view(gsc, "碳").as_dict())
    view, messages, _ = read_view(gsc, request)
    assert len(encode(gsc, view)) <= MAX_QUERY and len(view.overlays) == 2 and services


@pytest.mark.browser
def test_the_longest_link_reloads_through_gunicorn_and_a_longer_one_says_why(tmp_path, browser, gsc):  # noqa: F811
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--models-dir", str(REPO / "models"),
                               "--store", str(tmp_path / "s.sqlite"), "--workers", "1", "--threads", "2"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script("window.localStorage.setItem('gscsd-about-seen', '1')")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT * 3)
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(base + "/", timeout=5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the dashboard did not start")
        view = replace(worst_view(gsc, "n"), tab="trajectories", year=None)
        query = encode(gsc, view)
        assert len("GET /" + query + " HTTP/1.1") > 4094  # gunicorn's default refused it
        for visit in ("open", "reload"):
            if visit == "open":
                open_page(page, base + "/" + query)
            else:
                page.reload()
                settle(page)
            assert page.evaluate("() => window.location.search") == query, visit
            assert page.locator("#scenario-name").input_value() == view.name
            legend = page.locator("#legend").inner_text()
            assert all(o.name in legend for o in view.overlays), visit
            drawn = page.evaluate("() => [...document.querySelectorAll('#charts .chart-cell')].length")
            assert drawn == len(set(gsc.key_outputs) | set(view.charts)), visit
            assert page.locator("#url-message").inner_text() == ""
            for lever in gsc.levers:
                assert float(slider(page, lever.name).get_attribute("aria-valuenow")) == view.levers[lever.name]
        page.screenshot(path=artifact("dashboard-longest-link.png"))
        # longer than the app reads, shorter than the server's limit: the page opens and says what it read
        open_page(page, base + "/?model=gsc.mdl&carbon_price=150&name=" + "x" * 8_100)
        message = page.locator("#url-message").inner_text()
        assert "only the first 8,000 are read" in message and "keep it under 200" in message
        # longer than the server reads: our one line, not gunicorn's bare page
        reply = page.goto(base + "/?model=gsc.mdl&name=" + "x" * 9_000)
        assert reply.status == 414
        assert page.locator("[role=alert]").inner_text() == production.TOO_LONG.format(limit=8190, most=MAX_QUERY)
        page.screenshot(path=artifact("dashboard-link-too-long.png"))
    finally:
        context.close()
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=60)
