"""``gscsd units``: every variable's declared and computed units, and each inconsistency (exit 1 if any)."""

from __future__ import annotations

import argparse

from ..model import load_model
from ..units import check_units, units_table
from . import add_model_argument
from .table import format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("units", help="units check: declared vs computed units of every equation")
    add_model_argument(parser)
    parser.add_argument("--issues", action="store_true", help="print only the inconsistencies and missing units")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    issues = check_units(model)
    if not args.issues:
        flagged = {i.variable for i in issues}
        rows = [(name, declared or "(none)", computed, "!" if name in flagged else "")
                for name, declared, computed in units_table(model)]
        print(format_table(("variable", "declared", "computed", ""), rows, max_width=70))
        print("computed: '?' unknown (a lookup, an undeclared input), 'number' a plain number, '!' inconsistent")
    errors = [i for i in issues if i.kind == "mismatch"]
    for issue in issues:
        print(f"{'error' if issue.kind == 'mismatch' else 'warning'}: {issue.message}")
    missing = len(issues) - len(errors)
    print(f"{model.path.name}: {len(errors)} units error(s), {missing} variable(s) without units")
    return 1 if errors else 0
