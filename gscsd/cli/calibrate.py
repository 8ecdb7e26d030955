"""``gscsd calibrate``: fit parameters to several historical series at once (weighted least squares)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..analysis.calibrate import calibrate, parse_holdout, parse_weights
from ..errors import InputError
from ..history import load_data
from ..model import load_model
from ..names import display
from . import add_model_argument
from .analysis_options import add_common, base_scenario, executor_from, out_suffix, progress_bar
from .table import format_table, number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calibrate", help="fit parameters to historical series (all at once)")
    add_model_argument(parser)
    parser.add_argument("--data", action="append", default=[], type=Path, metavar="FILE_OR_DIR",
                        help="CSV file or folder of CSV files (repeatable): a year column, then one column per "
                             "series named after its variable (Name[element] for one element)")
    parser.add_argument("--fit", action="append", default=[], metavar="NAME[=uniform(a,b)]",
                        help="lever or constant to estimate (repeatable; searched within its range or given bounds)")
    parser.add_argument("--weights", action="append", default=[], metavar="SERIES=W[,SERIES=W]",
                        help="weight of a series (repeatable; default 1 each)")
    parser.add_argument("--holdout", metavar="START:END",
                        help="leave observations in this period out of the fit; report them out of sample")
    parser.add_argument("--confidence", type=float, default=0.95, help="level of the intervals (default 0.95)")
    parser.add_argument("--max-evaluations", type=int, default=50, help="least-squares iterations at most")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="save the fit: FILE.cin (a parameter set) or FILE.json (a scenario using it)")
    add_common(parser, seed=False)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    out_suffix(args.out, (".cin", ".json"))
    if not 0 < args.confidence < 1:
        raise InputError(f"--confidence must be between 0 and 1, got {args.confidence:g}")
    fit = [name for name in args.fit if name.strip()]
    if not fit:
        raise InputError("nothing to fit: name at least one lever or constant with --fit")
    if not args.data:
        raise InputError("no data: give --data FILE.csv or --data FOLDER")
    holdout = parse_holdout(args.holdout) if args.holdout else None
    weights = parse_weights(args.weights)
    model = load_model(args.model)
    base = base_scenario(args, model)
    data = load_data(args.data, model)
    with executor_from(args) as executor, progress_bar(args, "calibrate") as bar:
        result = calibrate(model, fit, data, weights=weights, holdout=holdout, base=base,
                           confidence=args.confidence, max_evaluations=args.max_evaluations, executor=executor,
                           progress=bar)
    level = f"{args.confidence:.0%}"
    sources = ", ".join(str(d) for d in args.data)
    held = f", hold-out {result.holdout[0]:g}-{result.holdout[1]:g}" if result.holdout else ""
    status = "" if result.success else f" (did not converge: {result.message})"
    print(f"{model.name}: least-squares fit of {len(result.series)} series ({sources}){held}, {result.runs} runs, "
          f"{result.dof} degrees of freedom{status}")
    rows = [(display(r.parameter), r.kind, number(r.estimate), number(r.std_error),
             f"[{number(r.ci_low)}, {number(r.ci_high)}]", number(r.initial), r.units)
            for r in result.estimates.itertuples()]
    print(format_table(("parameter", "kind", "estimate", "std error", f"{level} CI", "start", "units"), rows))
    if len(result.estimates) > 1:
        names = [display(n) for n in result.correlation.index]
        rows = [(name, *(f"{v:+.2f}" for v in row)) for name, row in zip(names, result.correlation.to_numpy())]
        print("correlations of the estimates")
        print(format_table(("", *(f"({i + 1})" for i in range(len(names)))),
                           [(f"({i + 1}) {r[0]}", *r[1:]) for i, r in enumerate(rows)]))
    table = result.table()
    rows = [(r.series, r.sample, number(r.weight), r.n, number(r.mape), number(r.r2), number(r.rmse),
             number(r.theil_um), number(r.theil_us), number(r.theil_uc)) for r in table.itertuples()]
    print(format_table(("series", "sample", "weight", "n", "MAPE %", "R2", "RMSE", "Theil UM", "Theil US", "Theil UC"),
                       rows))
    for note in result.notes:
        print(f"note: {note}")
    if args.out is not None:
        if args.out.suffix.lower() == ".cin":
            header = (f"gscsd calibrate {model.path.name}: {', '.join(result.estimates['parameter'])} fitted to "
                      f"{sources}{held}; cost {result.cost:.6g}")
            result.params.save(args.out, header=header)
        else:
            result.scenario.save(args.out)
        print(f"wrote {args.out}")
    return 0
