"""How long a report of models/gsc.mdl takes, and how big it is.

Usage: ``.venv/bin/python bench/bench_report.py [--repeat 3] [--model models/gsc.mdl] [--no-write]``.
Prints medians and writes them to the ``report`` section of docs/performance.md.

* sketch: parse the ``.mdl`` sketch (:func:`gscsd.sketch.load_sketch`);
* diagrams: one Plotly figure per view (:func:`gscsd.diagram.diagram_figure`);
* runs: the baseline and the two scenarios of ``make report`` (:func:`gscsd.report.prepare`),
  with ``--engine`` (default ``auto``, as ``gscsd report``; ``pysd`` for the reference engine);
* render: the HTML page from those runs (:func:`gscsd.report.render_html`), and its size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from perfdoc import machine, median_ms, stamp, update_section

SCENARIOS = ("models/scenarios/green-push.json", "models/scenarios/talent-and-collaboration.json")


def timed(function, repeat: int) -> tuple[list[float], object]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - started)
    return samples, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/gsc.mdl")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine", default="auto",
                        help="simulation engine of the runs (default auto, as `gscsd report`)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()

    import gscsd
    from gscsd.diagram import diagram_figure
    from gscsd.report import prepare, render_html
    from gscsd.sketch import load_sketch

    model = gscsd.load_model(args.model)
    scenarios = [gscsd.Scenario.load(path) for path in SCENARIOS]
    sketch_s, sketch = timed(lambda: load_sketch(model.path), args.repeat)
    views = [v for v in sketch.views if v.elements]
    diagram_s, _ = timed(lambda: [diagram_figure(v, model) for v in views], args.repeat)
    runs_s, data = timed(lambda: prepare(model, scenarios, engine=args.engine), args.repeat)
    render_s, page = timed(lambda: render_html(data), args.repeat)
    elements = sum(len(v.elements) for v in views)
    rows = [
        ("parse sketch", median_ms(sketch_s), f"{len(views)} views, {elements} elements"),
        ("draw all diagrams", median_ms(diagram_s), f"{len(views)} figures"),
        ("run baseline + 2 scenarios", median_ms(runs_s), f"3 runs, engine {args.engine} (ran: {data.engine})"),
        ("render HTML", median_ms(render_s), f"{len(page.encode()) / 1e6:.1f} MB, plotly.js inlined"),
    ]
    table = "\n".join(f"| {what} | {ms:,.0f} ms | {note} |" for what, ms, note in rows)
    markdown = (
        f"## Reports (`bench/bench_report.py`)\n\nMedian of {args.repeat}, {stamp()}, {machine()}; "
        f"model `{Path(args.model).name}`.\n\n| step | median | notes |\n|---|---:|---|\n{table}\n"
    )
    print(markdown)
    if not args.no_write:
        update_section("report", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
