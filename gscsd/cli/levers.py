"""``gscsd levers``: the policy levers of a model."""

from __future__ import annotations

import argparse
import json

from ..model import load_model
from . import add_model_argument
from .table import format_table, number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("levers", help="list the policy levers (constants with a range)")
    add_model_argument(parser)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    if args.format == "json":
        print(json.dumps([lever.as_dict() for lever in model.levers], indent=2, ensure_ascii=False))
        return 0
    rows = [
        (lever.label, lever.units, f"[{number(lever.min)}, {number(lever.max)}] step {number(lever.step)}",
         number(lever.default), lever.group or "", lever.comment)
        for lever in model.levers
    ]
    print(format_table(("lever", "units", "range", "default", "group", "comment"), rows))
    return 0
