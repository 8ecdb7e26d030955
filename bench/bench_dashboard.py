"""Dashboard latency in a real browser: slider moved -> charts redrawn.

Usage: ``.venv/bin/python bench/bench_dashboard.py [--model models/gsc.mdl] [--moves 30] [--pysd-moves 10]``
Prints medians and p90s and writes them to docs/performance.md (``--no-write``: print only).

The app is served on 127.0.0.1 in a thread and driven by headless Debian
chromium. Each move presses ArrowRight on a lever's slider (a new value every
time, so no result comes from the cache). Times are taken in the page, from
the keydown event's timestamp to the moment each chart's plot changes in the
DOM (a MutationObserver on its plot area; the browser paints it in the same
frame): for the charts in view, for the frame after those (an upper bound on
when they are on screen), and for every chart on the page, including those
scrolled out of view. Each move waits until every chart has new data.
Measured for the engine ``gscsd.run`` chooses by default and for PySD
(``--engine pysd`` of the app), which takes seconds per run, so it gets fewer
moves.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from perfdoc import machine, median_ms, p90_ms, stamp, update_section  # noqa: E402

#: Before a move: watch every chart's plot area; ``window.__move`` resolves to [keydown, charts in
#: view updated, the frame after that, all charts updated] (page clock, ms) once every chart plots
#: new data (a promise, so nothing polls the page while it works).
ARM = """() => {
  const plots = Array.from(document.querySelectorAll('#charts .js-plotly-plot'));
  const current = p => (p._fullData.find(t => t.name.startsWith('Current')) || {}).y;
  const before = plots.map(current);
  const inView = plots.map(p => { const b = p.getBoundingClientRect(); return b.bottom > 0 && b.top < innerHeight; });
  const changed = plots.map(() => null);
  let key = null, frame = null, done;
  window.__move = new Promise(resolve => { done = resolve; });
  document.addEventListener('keydown', e => { key = e.timeStamp; }, {once: true, capture: true});
  const finish = () => {
    if (frame === null || changed.some((t, i) => t === null || current(plots[i]) === before[i])) {
      return requestAnimationFrame(finish);
    }
    done([key, Math.max(...changed.filter((t, i) => inView[i])), frame, Math.max(...changed)]);
  };
  plots.forEach((plot, i) => {
    const watch = new MutationObserver(() => {
      if (key === null || changed[i] !== null) return;
      changed[i] = performance.now();
      watch.disconnect();
      if (frame === null && changed.every((t, j) => t !== null || !inView[j])) {
        frame = -1;
        requestAnimationFrame(() => { frame = performance.now(); });
      }
      if (changed.every(t => t !== null)) finish();
    });
    watch.observe(plot.querySelector('.cartesianlayer'), {subtree: true, attributes: true, childList: true});
  });
  return inView.filter(v => v).length;
}"""


def pick_lever(model, moves: int):
    """The first lever with room for ``moves`` steps from its minimum."""
    for lever in model.levers:
        if (lever.max - lever.min) / lever.step >= moves + 2:
            return lever
    raise SystemExit(f"no lever of {model.path.name} has {moves + 2} slider steps")


def timed_server(board, spent: list[float]) -> None:
    """Record the wall time of the server work a slider move causes (its one view request)."""
    original = board.view

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    board.view = wrapper


def measure(browser, model_path: Path, engine: str | None, moves: int) -> dict:
    """Per move (ms): charts in view, the frame after, all charts, server; and what was moved and ran."""
    import json

    import gscsd
    from gscsd.dashboard.server import create_app
    from tests.browser import serve

    model = gscsd.load_model(model_path)
    lever = pick_lever(model, moves)
    samples: dict = {"view": [], "frame": [], "all": [], "server": []}
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(model_path, store_path=Path(folder) / "s.sqlite", engine=engine)
        spent: list[float] = []
        timed_server(app.gscsd, spent)
        with serve(app.server) as url:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(600_000)
            page.goto(f"{url}/?{lever.py_name}={lever.min!r}")
            page.wait_for_function("() => window.gscsd && window.gscsd.drawn()")
            if page.evaluate("() => Boolean(window.gscsd.here())"):  # the model runs in the page: wait for it
                page.wait_for_function("() => Object.keys(window.gscsdModels || {}).length > 0")
            slider_id = json.dumps({"name": lever.name, "type": "lever"}, separators=(",", ":"))
            handle = page.locator(f"[id='{slider_id}'] [role=slider]")
            handle.focus()
            for i in range(moves + 1):  # the first move warms up and is not counted
                in_view = page.evaluate(ARM)
                spent.clear()
                handle.press("ArrowRight")
                key, view, frame, every = page.evaluate("() => window.__move")
                page.wait_for_function("() => window.gscsd.drawn()")
                if i:
                    samples["view"].append((view - key) / 1000)
                    samples["frame"].append((frame - key) / 1000)
                    samples["all"].append((every - key) / 1000)
                    samples["server"].append(sum(spent))
            here = page.evaluate("() => window.gscsd.ranHere()")[1:]  # the first move warmed up
            samples.update(here=len(here), here_run=[m["run"] / 1000 for m in here])
            samples.update(ran=page.locator("#run-info").inner_text(), lever=lever.name, in_view=in_view,
                           charts=page.locator("#charts .js-plotly-plot").count())
            page.close()
    return samples


PAGE_HEADER = ("| first chart, cold (ms) | first chart, warm (ms) | all charts, warm (ms) | transferred, cold (MB) "
               "| Documentation tab (ms) |")
#: In every page: the time (page clock, from navigation) when the first chart shows a line.
FIRST_CHART = """
window.__firstChart = null;
new MutationObserver((records, observer) => {
  if (document.querySelector('#charts .js-plotly-plot .scatterlayer path.js-line')) {
    window.__firstChart = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, childList: true});
"""


def measure_page(browser, model_path: Path, loads: int) -> dict:
    """Opening the page as ``make run`` serves it (gunicorn, gzip): first chart cold and warm, bytes, docs tab."""
    import signal
    import socket
    import subprocess

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    samples: dict = {"cold": [], "warm": [], "all": [], "bytes": [], "docs": []}
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--models-dir", str(model_path),
                                   "--store", str(Path(folder) / "s.sqlite")], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            for _ in range(600):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            url = f"http://127.0.0.1:{port}/"
            for i in range(loads + 1):  # the first load warms the server (translation, caches) and is not counted
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_init_script(FIRST_CHART + "window.localStorage.setItem('gscsd-about-seen', '1');")
                page = context.new_page()
                page.set_default_timeout(120_000)
                for warm in (False, True):  # a new browser (empty cache), then a reload (warm cache)
                    page.goto(url) if not warm else page.reload()
                    page.wait_for_function("() => window.__firstChart && window.gscsd && window.gscsd.drawn()")
                    first, drawn = page.evaluate("() => [window.__firstChart, performance.now()]")
                    if i and not warm:
                        samples["cold"].append(first / 1000)
                        samples["bytes"].append(page.evaluate(
                            "() => performance.getEntriesByType('navigation')[0].transferSize + performance"
                            ".getEntriesByType('resource').reduce((total, e) => total + (e.transferSize || 0), 0)"))
                    elif i:
                        samples["warm"].append(first / 1000)
                        samples["all"].append(drawn / 1000)
                if i:
                    started = time.perf_counter()
                    page.click("[role=tab][data-tab='documentation']")
                    page.wait_for_selector("#doc-table tr td.name")
                    samples["docs"].append(time.perf_counter() - started)
                context.close()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/gsc.mdl")
    parser.add_argument("--moves", type=int, default=30, help="moves measured with the default engine")
    parser.add_argument("--pysd-moves", type=int, default=10, help="moves measured with PySD (0 to skip)")
    parser.add_argument("--loads", type=int, default=5, help="page loads measured (0 to skip)")
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
            got = measure(browser, Path(args.model), engine, moves)
            ran = got["ran"].split("·")[1].strip() if "·" in got["ran"] else "?"
            rows.append((label, ran, got["lever"], len(got["all"]), f"{got['in_view']} of {got['charts']}",
                         median_ms(got["view"]), p90_ms(got["view"]), median_ms(got["frame"]),
                         median_ms(got["all"]), p90_ms(got["all"]), median_ms(got["server"]),
                         f"{got['here']} ({median_ms(got['here_run']):.1f} ms)" if got["here"] else "0"))
            print(f"{label}: engine {ran}, {len(got['all'])} moves of '{got['lever']}': charts in view "
                  f"({rows[-1][4]}) median {rows[-1][5]:.0f} ms, p90 {rows[-1][6]:.0f} ms, next frame "
                  f"{rows[-1][7]:.0f} ms; all charts median {rows[-1][8]:.0f} ms, p90 {rows[-1][9]:.0f} ms; "
                  f"server {rows[-1][10]:.0f} ms; drawn from a run in the page: {rows[-1][11]}", flush=True)
        page = measure_page(browser, Path(args.model), args.loads) if args.loads > 0 else None
        if page:
            print(f"page: first chart cold {median_ms(page['cold']):.0f} ms, warm {median_ms(page['warm']):.0f} ms, "
                  f"all charts warm {median_ms(page['all']):.0f} ms, {statistics.median(page['bytes']) / 1e6:.2f} MB "
                  f"cold, documentation tab {median_ms(page['docs']):.0f} ms", flush=True)
        browser.close()

    table = "\n".join(f"| {label} | {ran} | {lever} | {n} | {shown} | {v50:.0f} | {v90:.0f} | {f50:.0f} | "
                      f"{a50:.0f} | {a90:.0f} | {srv:.0f} | {here} |"
                      for label, ran, lever, n, shown, v50, v90, f50, a50, a90, srv, here in rows)
    header = ("| engine asked | engine that ran | lever moved | moves | charts in view | in view p50 (ms) | in view p90"
              " | next frame p50 | all charts p50 | all charts p90 | server (ms) "
              "| drawn from a run in the page (its p50) |")
    markdown = f"""
## Dashboard: slider move to charts redrawn

`.venv/bin/python bench/bench_dashboard.py` ({stamp()}, {machine()}). Headless chromium (software
rendering, no GPU) on the same 2 cores as the server, viewport 1400x1000. Each move is one ArrowRight
on a slider (a new value, so never a cached result). Times run from the keydown event to each chart's
plot changing in the page (the browser paints it in that frame); "next frame" is the animation frame
after the charts in view changed, an upper bound on when they are on screen. "all charts" includes
those scrolled out of view, which the dashboard draws right after the ones in view. "server" is the
median time of the server work per move: the one view request that answers the charts' new lines,
the summary cards, the URL and the view together (issue 11's one update path). Where the model runs in
the browser (`gscsd/dashboard/preview.py`: the fast engine's JavaScript back-end), the page runs the
move itself and draws the lines before that answer comes; the last column counts those moves and gives
the median time of the run in the page. The server's answer then replaces the lines (same numbers to
1e-9) and brings the cards.
Load average when the run started: {load:.1f} on {os.cpu_count()} cores. Targets: charts in view p50
no worse than 85 ms (issue 11, the figure before one update path); all charts p50 <= 60 ms (issue 12).

{header}
|---|---|---|---|---|---|---|---|---|---|---|---|
{table}
"""
    if page:
        markdown += f"""
Opening the page as `make run` serves it (gunicorn, gzip), {args.loads} times, medians: a new browser
(empty cache), then a reload (warm cache); times from navigation to the first chart showing a line and to
every chart drawn; bytes over the wire for the cold load; the Documentation tab from click to its rows.
Targets (issue 12): first chart warm <= 1.5 s, <= 2 MB, Documentation <= 1 s, all charts after a move
p50 <= 60 ms (the table above).

{PAGE_HEADER}
|---|---|---|---|---|
| {median_ms(page['cold']):.0f} | {median_ms(page['warm']):.0f} | {median_ms(page['all']):.0f} | \
{statistics.median(page['bytes']) / 1e6:.2f} | {median_ms(page['docs']):.0f} |
"""
    print(markdown)
    if not args.no_write:
        update_section("dashboard", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
