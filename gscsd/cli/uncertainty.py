"""``gscsd uncertainty``: Monte Carlo percentile bands of outputs over time.

The bands file (``--out FILE.csv`` or ``.nc``) is described in
:mod:`gscsd.analysis.uncertainty`; ``gscsd report --uncertainty FILE`` reads it.
Where the model has observed history (``data/`` beside it, or the parameter
set's folder there), only the runs that fit it are kept
(:mod:`gscsd.analysis.history_match`); ``--no-history`` keeps every run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..analysis import history_match, uncertainty
from ..analysis.problem import problem_from_model
from ..history import observed_history
from ..model import load_model
from ..names import display
from . import add_model_argument
from .analysis_options import (
    add_common,
    add_vary,
    base_scenario,
    check_positive,
    executor_from,
    out_suffix,
    progress_bar,
)
from .table import format_table, number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("uncertainty", help="Monte Carlo: percentile bands of outputs over time")
    add_model_argument(parser)
    add_vary(parser, "'assumptions' or 'levers' for all of them; default: every ranged assumption of the model")
    parser.add_argument("--samples", type=int, default=200, metavar="N", help="number of runs (default 200)")
    parser.add_argument("--output", action="append", default=[], metavar="VARIABLE",
                        help="variable to band (repeatable; default: the model's key outputs)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the bands to FILE (.csv or .nc)")
    parser.add_argument("--no-history", action="store_true",
                        help="keep every run, also those that miss the model's observed history")
    parser.add_argument("--cutoff", type=float, default=history_match.CUTOFF, metavar="I",
                        help="largest implausibility of a run kept: its error on each observed series over the "
                             f"error allowed (default {history_match.CUTOFF:g}, the three-sigma rule)")
    parser.add_argument("--max-draws", type=int, metavar="N",
                        help="most runs drawn to find --samples that fit history (default "
                             f"{uncertainty.DRAWS_PER_RUN} x --samples)")
    add_common(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    check_positive(args.samples, "--samples")
    out_suffix(args.out, (".csv", ".nc"))
    model = load_model(args.model)
    base = base_scenario(args, model)
    vary = args.vary
    if not [v for v in vary if v.strip()] and model.assumptions:
        # "How sure is that": by default over the model's uncertain assumptions, not the policy levers.
        vary = ["assumptions=triangular"]
        print(f"{model.name}: varying its {len(model.assumptions)} ranged assumption(s), triangular over each "
              "range (--vary NAME or --vary levers to choose)")
    problem = problem_from_model(model, vary, base)
    variables = [model.variable(name).name for name in (args.output or model.key_outputs)]
    history = None if args.no_history else observed_history(model, base.params if base else None) or None
    with executor_from(args) as executor, progress_bar(args, "uncertainty") as bar:
        result = uncertainty.run(model, problem, args.samples, args.seed, variables=variables, base=base,
                                 history=history, cutoff=args.cutoff, max_draws=args.max_draws,
                                 executor=executor, progress=bar)
    if args.out is not None:
        uncertainty.write_bands(result.bands, args.out, attrs={"model": model.name, "samples": result.kept,
                                                               "seed": args.seed, "drawn": result.drawn})
    final = result.bands["time"].max()
    rows = []
    for name in variables:
        row = result.bands[(result.bands["variable"] == name) & (result.bands["time"] == final)].iloc[0]
        rows.append((display(name), *(number(row[c]) for c in uncertainty.BAND_COLUMNS), row["units"]))
    print(f"{model.name}: {result.kept} runs (seed {args.seed}) varying "
          + ", ".join(f.name + " ~ " + f.label for f in problem.factors))
    if result.history is not None:
        matched = result.history
        print(f"history matching: kept {result.kept:,} of {result.drawn:,} runs drawn, those within "
              f"implausibility {matched.cutoff:g} on each of {len(matched.series)} observed series "
              "(--no-history keeps every run)")
        if result.kept < args.samples:
            print(f"only {result.kept:,} of the {args.samples:,} runs asked for fit history within "
                  f"{result.drawn:,} draws (--max-draws N to draw more)")
    print(f"percentiles at time {final:g}")
    print(format_table(("output", *uncertainty.BAND_COLUMNS, "units"), rows))
    if result.failed:
        print(f"{result.failed} of {result.drawn} runs failed and are left out of the bands")
    if args.out is not None:
        print(f"wrote {args.out}")
    return 0
