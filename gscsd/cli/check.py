"""``gscsd check``: the model's checks (defaults, its checks file, units); exit 1 if any fails."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..checks import run_checks
from ..model import load_model
from . import add_model_argument, add_params_argument, params_from
from .table import format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="behaviour checks: defaults (lever extremes, time step, history) and <model>.checks.yaml"
    )
    add_model_argument(parser)
    add_params_argument(parser)
    parser.add_argument("--checks", action="append", type=Path, metavar="FILE.yaml",
                        help="checks file to run (repeatable; default <model>.checks.yaml beside the model)")
    parser.add_argument("--no-defaults", dest="defaults", action="store_false",
                        help="skip the default checks (run only the checks files)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    params = params_from(args, model)
    results = []
    for result in run_checks(model, params=params, files=args.checks, defaults=args.defaults):
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
