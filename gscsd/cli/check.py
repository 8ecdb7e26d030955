"""``gscsd check``: the model's behaviour checks (exit 1 if any fails)."""

from __future__ import annotations

import argparse
import sys

from ..checks import run_checks
from ..model import load_model
from . import add_model_argument, add_params_argument, params_from
from .table import format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="behaviour checks: lever extremes, time step, history fit"
    )
    add_model_argument(parser)
    add_params_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    params = params_from(args, model)
    results = []
    for result in run_checks(model, params=params):
        results.append(result)
        if sys.stderr.isatty():
            print(f"\r{len(results)} checks run", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    rows = [(r.check, r.case, "PASS" if r.passed else "FAIL", r.detail) for r in results]
    print(format_table(("check", "case", "result", "detail"), rows, max_width=90))
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0
