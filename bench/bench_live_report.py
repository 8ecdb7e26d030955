"""A live report of models/gsc.mdl in headless chromium: lever move to charts redrawn, the model's run, the size.

Usage: ``.venv/bin/python bench/bench_live_report.py [--moves 60] [--runs 300] [--no-write]``.
Prints medians and writes them to the ``live-report`` section of docs/performance.md.

* size: the live report and the static report of the same data (the baseline and the two scenarios of
  ``make report``), and their ratio (budget, issue 16: 1.2);
* model run: ``GSCSDRuntime.simulate`` of gsc.mdl in the page after the page's warm-up, each of the runs
  timed (median and p90; the mean as well, which carries the garbage collector's pauses: each run allocates
  its results, and back to back the pauses fall inside the runs, where between a reader's moves they fall in
  idle time); and the first runs of a fresh copy, before the browser has compiled the model ("cold");
* moves: one key press (ArrowRight or ArrowLeft) on a lever's slider, cycling through the levers, in bursts of
  ten 60 ms apart with a pause after each (when Plotly's data catches up: "sync"). Times run from the keydown
  event (its timestamp) to the end of the page's update (every chart's line and the summary redrawn: "all
  charts redrawn"), and to the next animation frame after it (the browser paints that frame: "next frame").
  Every chart is redrawn on every move, in view or not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from perfdoc import machine, p90_ms, stamp, update_section

SCENARIOS = ("models/scenarios/green-push.json", "models/scenarios/talent-and-collaboration.json")

_PROBE = """() => {
    // keydown -> end of the page's update (the live script's own 'input' listener ran before this one)
    // -> the next animation frame after it.
    window.__moves = [];
    let pressed = null;
    document.addEventListener("keydown", (event) => { pressed = event.timeStamp; }, true);
    document.querySelectorAll("#live input[type=range]").forEach((slider) => {
        slider.addEventListener("input", () => {
            const done = performance.now(), start = pressed;
            const timing = window.gscsdLive.timings[window.gscsdLive.timings.length - 1];
            requestAnimationFrame(() => {
                window.__moves.push({redrawn: done - start, frame: performance.now() - start,
                                     run: timing.run, replotted: timing.replotted});
            });
        });
    });
}"""

_RUNS = """(runs) => {
    const R = GSCSDRuntime, data = JSON.parse(document.getElementById("gscsd-live-data").textContent);
    const start = data.starts[0], params = Object.assign({}, start.fixed);
    data.levers.forEach((lever, k) => { params[lever.py] = start.levers[k]; });
    const out = [];  // one run at a time, back to back (the page's clock ticks in 0.1 ms)
    for (let i = 0; i < runs; i++) {
        const t = performance.now();
        R.simulate(GSCSD_MODEL, params, start.time, data.method);
        out.push(performance.now() - t);
    }
    return out;
}"""

_COLD = """() => {
    // A fresh copy of the model (its own functions, never run): its first runs, as before the warm-up.
    const R = GSCSDRuntime, data = JSON.parse(document.getElementById("gscsd-live-data").textContent);
    const source = document.getElementById("gscsd-model").textContent;
    const model = (0, eval)(source.replace(/^var GSCSD_MODEL = /, "").replace(/;\\s*$/, ""));
    const start = data.starts[0], params = Object.assign({}, start.fixed);
    data.levers.forEach((lever, k) => { params[lever.py] = start.levers[k]; });
    const out = [];
    for (let i = 0; i < 10; i++) {
        const t = performance.now();
        R.simulate(model, params, start.time, data.method);
        out.push(performance.now() - t);
    }
    return out;
}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/gsc.mdl")
    parser.add_argument("--moves", type=int, default=60, help="lever moves measured")
    parser.add_argument("--runs", type=int, default=300, help="model runs timed one by one in the page")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    import gscsd
    from gscsd.report import prepare, render_html
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    load_start = os.getloadavg()
    model = gscsd.load_model(args.model)
    scenarios = [gscsd.Scenario.load(path) for path in SCENARIOS if Path(path).is_file()]
    data = prepare(model, scenarios, engine="auto")
    started = time.perf_counter()
    live = render_html(data, live=True)
    live_s = time.perf_counter() - started
    static = render_html(data)
    live_bytes, static_bytes = len(live.encode()), len(static.encode())

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        path = Path(folder) / "live.html"
        path.write_text(live, encoding="utf-8")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                      else route.abort())
        context.set_offline(True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        opened = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_function("window.gscsdLive && window.gscsdLive.ready")
        ready_s = time.perf_counter() - opened
        page.wait_for_function("window.gscsdLive.warm === true", timeout=60_000)
        runs = page.evaluate(_RUNS, args.runs)
        page.evaluate(_PROBE)
        levers = page.locator("#live input[type=range]").count()
        syncs, before = [], page.evaluate("window.gscsdLive.moves")
        for move in range(args.moves):
            lever = (move // 10) % levers
            if move % 10 == 0:  # ten steps towards the end of the slider that has room for them
                room = page.evaluate(f"(s => (Number(s.max) - Number(s.value)) / Number(s.step))"
                                     f"(document.getElementById('lever-{lever}'))")
                key = "ArrowRight" if room >= 10 else "ArrowLeft"
            page.focus(f"#lever-{lever}")
            page.keyboard.press(key)
            page.wait_for_timeout(60)
            if move % 10 == 9:
                syncs.append(page.evaluate("() => { const t = performance.now(); window.gscsdLive.syncNow(); "
                                           "return performance.now() - t; }"))
        made = page.evaluate("window.gscsdLive.moves") - before
        page.wait_for_function(f"window.__moves.length >= {made}")
        moves = page.evaluate("window.__moves")
        cold = page.evaluate(_COLD)  # last: a second model in the page makes the runtime's calls polymorphic
        charts = page.evaluate("JSON.parse(document.getElementById('gscsd-live-data').textContent).charts.length")
        browser.close()
    if errors:
        print("page errors:", errors, file=sys.stderr)
        return 1
    load_end = os.getloadavg()

    def med(values):
        return statistics.median(values)

    redrawn = [m["redrawn"] for m in moves]
    frame = [m["frame"] for m in moves]
    moved_runs = [m["run"] for m in moves]
    replotted = sum(1 for m in moves if m["replotted"])
    rows = [
        ("model run in the page (warm)", f"{med(runs):.3f}", f"{p90_ms([r / 1000 for r in runs]):.3f}",
         f"{args.runs} runs back to back, each timed (the page's clock ticks in 0.1 ms); mean "
         f"{statistics.fmean(runs):.2f} ms with the garbage collector's pauses, which a run now and then meets"),
        ("model run, first 10 runs of a fresh copy (cold)", f"{med(cold):.2f}", f"{max(cold):.2f} (max)",
         "before the browser compiles it; the page warms it up as it opens"),
        ("model run within a move", f"{med(moved_runs):.3f}", f"{p90_ms([r / 1000 for r in moved_runs]):.3f}",
         f"{len(moves)} moves"),
        ("keydown -> all charts and summary redrawn", f"{med(redrawn):.1f}",
         f"{p90_ms([r / 1000 for r in redrawn]):.1f}",
         f"{len(moves)} moves, {charts} charts; {replotted} moves changed an axis (Plotly redraws that chart)"),
        ("keydown -> next frame", f"{med(frame):.1f}", f"{p90_ms([r / 1000 for r in frame]):.1f}", "painted"),
        ("sync: Plotly's data catches up after a pause", f"{med(syncs):.1f}", f"{max(syncs):.1f} (max)",
         f"{charts} charts, once per pause; the page does it one chart a task"),
    ]
    table = "\n".join(f"| {what} | {p50} | {p90} | {note} |" for what, p50, p90, note in rows)
    markdown = f"""## Live report: lever move to charts redrawn (`bench/bench_live_report.py`)

Measured {stamp()} on {machine()}; load average (1, 5, 15 min) {', '.join(f'{v:.1f}' for v in load_start)} at
the start and {', '.join(f'{v:.1f}' for v in load_end)} at the end (2 shared cores).
Command: `.venv/bin/python bench/bench_live_report.py --moves {args.moves} --runs {args.runs}`

The live report of `{Path(args.model).name}` with the baseline and {len(scenarios)} scenarios of `make report`, opened
from `file://` in headless chromium (software rendering, viewport 1400x1000, offline); the page ready
{ready_s:.1f} s after navigation; rendering the HTML in Python {live_s:.1f} s.

| what | median ms | p90 ms | notes |
|---|---:|---:|---|
{table}

Size: live report {live_bytes / 1e6:.2f} MB, static report of the same runs {static_bytes / 1e6:.2f} MB:
**{live_bytes / static_bytes:.3f}x** (budget 1.2x).

Targets (issue 16): a lever move redraws all charts in <= 50 ms p50: {med(redrawn):.1f} ms (next frame
{med(frame):.1f} ms); the model run <= 2 ms: {med(runs):.3f} ms warm, {med(moved_runs):.3f} ms within a move.
"""
    print(markdown)
    if not args.no_write:
        update_section("live-report", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
