"""Dashboard latency in a real browser: slider moved -> every chart redrawn.

Usage: ``.venv/bin/python bench/bench_dashboard.py [--model models/gsc.mdl] [--moves 30] [--pysd-moves 10]``
Prints median and p90 and writes them to docs/performance.md (``--no-write``: print only).

The app is served on 127.0.0.1 in a thread and driven by headless Debian
chromium. Each move presses ArrowRight on a lever's slider (a new value every
time, so no result comes from the cache) and waits until every chart on the
page plots new data. Measured for the engine ``gscsd.run`` chooses by default
and for PySD (``--engine pysd`` of the app), which takes seconds per run, so it
gets fewer moves.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from perfdoc import machine, median_ms, p90_ms, stamp, update_section  # noqa: E402

#: Snapshot every chart's plotted 'Current' data (object identity changes on redraw).
SNAPSHOT = """() => { window.__before = Array.from(document.querySelectorAll('.chart .js-plotly-plot'))
    .map(p => (p._fullData.find(t => t.name.startsWith('Current')) || {}).y); return window.__before.length; }"""
REDRAWN = """() => { const now = Array.from(document.querySelectorAll('.chart .js-plotly-plot'))
    .map(p => (p._fullData.find(t => t.name.startsWith('Current')) || {}).y);
    return now.length === window.__before.length && now.every((y, i) => y && y !== window.__before[i]); }"""


def pick_lever(model, moves: int):
    """The first lever with room for ``moves`` steps from its minimum."""
    for lever in model.levers:
        if (lever.max - lever.min) / lever.step >= moves + 2:
            return lever
    raise SystemExit(f"no lever of {model.path.name} has {moves + 2} slider steps")


def timed_server(board, spent: list[float]) -> None:
    """Record the wall time of the two callbacks a slider move runs (levers sync, charts)."""
    for name in ("sync_levers", "update_charts"):
        original = getattr(board, name)

        def wrapper(*args, _original=original, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - started)

        setattr(board, name, wrapper)


def measure(browser, model_path: Path, engine: str | None, moves: int) -> tuple[list[float], list[float], str, str]:
    """Seconds per move (browser, server); the lever moved; the engine that ran (from the page)."""
    import json

    import gscsd
    from gscsd.dashboard.server import create_app
    from tests.browser import serve

    model = gscsd.load_model(model_path)
    lever = pick_lever(model, moves)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(model_path, store_path=Path(folder) / "s.sqlite", engine=engine)
        spent: list[float] = []
        timed_server(app.gscsd, spent)
        server = []
        with serve(app.server) as url:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(600_000)
            page.goto(f"{url}/?{lever.py_name}={lever.min!r}")
            page.wait_for_function("document.querySelectorAll('.chart .js-plotly-plot').length > 0")
            slider_id = json.dumps({"name": lever.name, "type": "lever"}, separators=(",", ":"))
            handle = page.locator(f"[id='{slider_id}'] [role=slider]")
            handle.focus()
            samples = []
            for i in range(moves + 1):  # the first move warms up and is not counted
                page.evaluate(SNAPSHOT)
                spent.clear()
                started = time.perf_counter()
                handle.press("ArrowRight")
                page.wait_for_function(REDRAWN, polling="raf")
                if i:
                    samples.append(time.perf_counter() - started)
                    server.append(sum(spent))
            ran = page.locator("#run-info").inner_text()
            page.close()
    return samples, server, lever.name, ran


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/gsc.mdl")
    parser.add_argument("--moves", type=int, default=30, help="moves measured with the default engine")
    parser.add_argument("--pysd-moves", type=int, default=10, help="moves measured with PySD (0 to skip)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    load = os.getloadavg()[0]
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        for label, engine, moves in (("default (`gscsd.run`'s choice)", None, args.moves),
                                     ("pysd", "pysd", args.pysd_moves)):
            if moves <= 0:
                continue
            samples, server, lever, ran = measure(browser, Path(args.model), engine, moves)
            rows.append((label, ran.split("·")[1].strip() if "·" in ran else "?", lever, len(samples),
                         median_ms(samples), p90_ms(samples), median_ms(server)))
            print(f"{label}: engine {rows[-1][1]}, {len(samples)} moves of '{lever}': "
                  f"median {rows[-1][4]:.0f} ms, p90 {rows[-1][5]:.0f} ms, server {rows[-1][6]:.0f} ms", flush=True)
        browser.close()

    table = "\n".join(f"| {label} | {ran} | {lever} | {n} | {p50:.0f} | {p90:.0f} | {srv:.0f} |"
                      for label, ran, lever, n, p50, p90, srv in rows)
    markdown = f"""
## Dashboard: slider move to charts redrawn

`.venv/bin/python bench/bench_dashboard.py` ({stamp()}, {machine()}). Headless chromium on the same
machine as the server; each move is one ArrowRight on a slider (a new value, so never a cached result)
until every chart plots the new run (all key outputs of `{Path(args.model).name}`). "server" is the median
time spent in the two callbacks of a move (levers sync; run + summary + chart patches); the rest is HTTP,
Dash's renderer and Plotly redrawing the charts in chromium (software rendering, no GPU).
Load average when the run started: {load:.1f} on {os.cpu_count()} cores. Target: p50 <= 100 ms.

| engine asked | engine that ran | lever moved | moves | median (ms) | p90 (ms) | server (ms) |
|---|---|---|---|---|---|---|
{table}
"""
    print(markdown)
    if not args.no_write:
        update_section("dashboard", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
