"""``gscsd loops``: feedback loops (length, polarity), their knockout effects and dominance over time."""

from __future__ import annotations

import argparse
import json

from ..loops import MAX_LOOPS, find_loops, loop_knockouts, loop_scores
from ..model import load_model
from . import add_model_argument, add_params_argument, params_from
from .table import format_table, number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("loops", help="feedback loops: polarity, knockout effects, dominance over time")
    add_model_argument(parser)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--max-loops", type=int, default=MAX_LOOPS, help=f"refuse more loops than this ({MAX_LOOPS})")
    parser.add_argument("--output", action="append", default=[], metavar="VARIABLE",
                        help="knock each loop out and report the change of this output (repeatable)")
    parser.add_argument("--year", type=float, help="time of the knockout effect (default: the final time)")
    parser.add_argument("--top", type=int, default=20, help="rows of the knockout table (default 20)")
    parser.add_argument("--symbolic", action="store_true",
                        help="link signs from the equations only (default: open signs measured along a run)")
    parser.add_argument("--dominance", action="store_true",
                        help="loop dominance over time (Loops That Matter loop scores)")
    add_params_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from ..scenario import Scenario

    model = load_model(args.model)
    params = params_from(args, model)
    scenario = Scenario("base", params=params) if params is not None else None
    loops = find_loops(model, args.max_loops, numeric=not args.symbolic, scenario=scenario)
    if args.format == "json":
        data: dict = {"loops": [loop.as_dict() for loop in loops]}
        if args.output:
            data["knockouts"] = loop_knockouts(model, args.output, loops=loops, scenario=scenario,
                                               time=args.year).to_dict(orient="records")
        if args.dominance:
            data["dominance"] = loop_scores(model, scenario, loops).as_dict()
        print(json.dumps(data, indent=1, ensure_ascii=False))
        return 0
    rows = [(loop.id, loop.polarity, loop.length, " -> ".join(loop.variables)) for loop in loops]
    print(format_table(("loop", "polarity", "length", "variables (each drives the next)"), rows, max_width=110))
    counts = {p: sum(loop.polarity == p for loop in loops) for p in ("R", "B", "?")}
    print(f"{model.path.name}: {len(loops)} loops ({counts['R']} reinforcing, {counts['B']} balancing, "
          f"{counts['?']} of unknown polarity)")
    if args.output:
        table = loop_knockouts(model, args.output, loops=loops, scenario=scenario, time=args.year)
        rows = [(r.loop, r.polarity, r.cut, r.output, f"{r.time:g}", number(r.base), number(r.value),
                 f"{r.change_pct:+.2f}%") for r in table.head(args.top).itertuples()]
        print("knockout effects (each loop's most specific link cut, its cause held at its initial value)")
        print(format_table(("loop", "pol.", "link cut", "output", "time", "base", "knocked out", "change"), rows))
    if args.dominance:
        scores = loop_scores(model, scenario, loops)
        dominant = scores.dominant().dropna()
        spans, start, current, previous = [], None, None, None
        for time, loop_id in dominant.items():
            if loop_id != current:
                if current is not None:
                    spans.append((current, start, previous))
                start, current = time, loop_id
            previous = time
        if current is not None:
            spans.append((current, start, previous))
        by_id = {loop.id: loop for loop in scores.loops}
        rows = [(f"{a:g}-{b:g}", loop_id, by_id[loop_id].polarity, " -> ".join(by_id[loop_id].variables))
                for loop_id, a, b in spans]
        print("dominant loop over time (largest share of the loop scores)")
        print(format_table(("time", "loop", "polarity", "variables"), rows, max_width=110))
        if scores.unscored:
            print(f"note: {len(scores.unscored)} loop(s) not scored (through higher-order SMOOTH/DELAY "
                  "variables); their knockout effects still hold")
    return 0
