"""``gscsd calibrate``: fit lever values to historical data by least squares."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..analysis.calibrate import calibrate
from ..errors import InputError
from ..history import load_history
from ..model import load_model
from ..names import display
from . import add_model_argument
from .analysis_options import add_common, base_scenario, check_positive, executor_from, out_suffix, progress_bar
from .table import format_table, number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calibrate", help="fit parameters to historical series (models/data/*.csv)")
    add_model_argument(parser)
    parser.add_argument("--data", type=Path, required=True, metavar="FILE",
                        help="CSV: time column, then columns named after model variables")
    parser.add_argument("--fit", action="append", default=[], metavar="NAME",
                        help="lever to estimate (repeatable; searched within its range)")
    parser.add_argument("--confidence", type=float, default=0.95, help="level of the intervals (default 0.95)")
    parser.add_argument("--max-evaluations", type=int, default=50, help="least-squares iterations at most")
    parser.add_argument("--out", type=Path, metavar="FILE", help="save the calibrated scenario as JSON")
    add_common(parser, seed=False)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    check_positive(args.max_evaluations, "--max-evaluations")
    out_suffix(args.out, (".json",))
    if not 0 < args.confidence < 1:
        raise InputError(f"--confidence must be between 0 and 1, got {args.confidence:g}")
    fit = [name for name in args.fit if name.strip()]
    if not fit:
        raise InputError("nothing to fit: name at least one lever with --fit")
    if not args.data.is_file():
        raise InputError(f"data file {args.data} not found")
    model = load_model(args.model)
    base = base_scenario(args, model)
    data = load_history(args.data, model)
    with executor_from(args) as executor, progress_bar(args, "calibrate") as bar:
        result = calibrate(model, data, fit, base=base, confidence=args.confidence,
                           max_evaluations=args.max_evaluations, executor=executor, progress=bar)
    level = f"{args.confidence:.0%}"
    print(f"{model.name}: least-squares fit to {args.data.name}, {result.runs} runs, "
          f"{result.dof} degrees of freedom{'' if result.success else ' (did not converge: ' + result.message + ')'}")
    rows = [(display(r.parameter), number(r.estimate), number(r.std_error),
             f"[{number(r.ci_low)}, {number(r.ci_high)}]",
             number(r.initial), r.units) for r in result.estimates.itertuples()]
    print(format_table(("parameter", "estimate", "std error", f"{level} CI", "start", "units"), rows))
    rows = [(s.variable, s.n, number(s.mape), number(s.r2), number(s.rmse), number(s.theil_um), number(s.theil_us),
             number(s.theil_uc)) for s in result.fit]
    print(format_table(("variable", "n", "MAPE %", "R2", "RMSE", "Theil UM", "Theil US", "Theil UC"), rows))
    for note in result.notes:
        print(f"note: {note}")
    if args.out is not None:
        result.scenario.save(args.out)
        print(f"wrote {args.out}")
    return 0
