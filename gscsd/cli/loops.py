"""``gscsd loops``: the feedback loops of a model's equations, with length and polarity."""

from __future__ import annotations

import argparse
import json

from ..loops import MAX_LOOPS, find_loops
from ..model import load_model
from . import add_model_argument
from .table import format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("loops", help="feedback loops: variables, length, polarity (R/B)")
    add_model_argument(parser)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--max-loops", type=int, default=MAX_LOOPS, help=f"refuse more loops than this ({MAX_LOOPS})")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    loops = find_loops(model, args.max_loops)
    if args.format == "json":
        print(json.dumps([loop.as_dict() for loop in loops], indent=1, ensure_ascii=False))
        return 0
    rows = [(loop.id, loop.polarity, loop.length, " -> ".join(loop.variables)) for loop in loops]
    print(format_table(("loop", "polarity", "length", "variables (each drives the next)"), rows, max_width=110))
    counts = {p: sum(loop.polarity == p for loop in loops) for p in ("R", "B", "?")}
    print(f"{model.path.name}: {len(loops)} loops ({counts['R']} reinforcing, {counts['B']} balancing, "
          f"{counts['?']} of unknown polarity)")
    return 0
