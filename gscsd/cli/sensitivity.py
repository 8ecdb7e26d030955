"""``gscsd sensitivity``: tornado (one at a time) or Sobol' indices of an output."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..analysis import sensitivity
from ..analysis.outputs import parse_output
from ..analysis.problem import problem_from_model
from ..model import load_model
from ..names import display
from . import add_model_argument
from .analysis_options import (
    add_common,
    add_vary,
    base_scenario,
    check_positive,
    executor_from,
    horizon,
    out_suffix,
    progress_bar,
)
from .table import format_table, number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sensitivity", help="which levers matter: tornado or Sobol' indices")
    add_model_argument(parser)
    parser.add_argument("--output", required=True, metavar="SPEC",
                        help="output: NAME (with --year), NAME@TIME or integral(NAME, START, END)")
    parser.add_argument("--year", type=float, help="time of a bare --output NAME (default: final time)")
    parser.add_argument("--method", choices=("tornado", "sobol"), default="tornado",
                        help="tornado: each lever at min and max (2d+1 runs); sobol: global indices (N(d+2) runs)")
    parser.add_argument("--samples", type=int, default=sensitivity.SOBOL_N, metavar="N",
                        help=f"Sobol' base sample, a power of two (default {sensitivity.SOBOL_N})")
    add_vary(parser, "default: every lever")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the table to FILE (.csv)")
    add_common(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    check_positive(args.samples, "--samples")
    out_suffix(args.out, (".csv",))
    model = load_model(args.model)
    base = base_scenario(args, model)
    output = parse_output(model, args.output, year=args.year, horizon=horizon(model, base))
    vary = args.vary or [lever.name for lever in model.levers]
    problem = problem_from_model(model, vary, base)
    if args.method == "sobol":
        sensitivity.sobol_sample(problem, args.samples, args.seed)  # a bad --samples fails before any run
    with executor_from(args) as executor, progress_bar(args, args.method) as bar:
        if args.method == "tornado":
            result = sensitivity.tornado(model, problem, output, base=base, executor=executor, progress=bar)
        else:
            result = sensitivity.sobol(model, problem, output, args.samples, args.seed, base=base,
                                       executor=executor, progress=bar)
    table = result.table
    units = model.variable(output.variable).units
    print(f"{model.name}: {args.method} sensitivity of {output.label} ({units}), {result.runs} runs")
    if args.method == "tornado":
        rows = [(display(r.factor), number(r.low), number(r.high), number(r.output_low), number(r.output_high),
                 number(r.swing), number(r.reach))
                for r in table.itertuples()]
        print(f"base value {number(table['base_output'].iloc[0])}")
        print(format_table(("lever", "low", "high", "output at low", "output at high", "swing",
                            "furthest from base"), rows))
    else:
        rows = [(display(r.factor), number(r.S1), f"[{number(r.S1_low)}, {number(r.S1_high)}]", number(r.ST),
                 f"[{number(r.ST_low)}, {number(r.ST_high)}]") for r in table.itertuples()]
        print(f"seed {args.seed}, {args.samples} base samples, 95% bootstrap intervals")
        print(format_table(("lever", "first order", "95% CI", "total", "95% CI"), rows))
    if args.out is not None:
        table.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    return 0
