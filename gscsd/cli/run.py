"""``gscsd run``: simulate a scenario and write or summarise the results."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ..errors import InputError
from ..model import load_model
from ..results_io import write_results
from ..runner import run
from ..scenario import Scenario
from . import add_model_argument, add_params_argument, params_from
from .table import format_table, number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run a scenario; write .csv/.nc or print key outputs")
    add_model_argument(parser)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                        help="set a lever (repeatable); applied on top of --scenario")
    parser.add_argument("--scenario", type=Path, help="scenario JSON file")
    add_params_argument(parser)
    parser.add_argument("--final-time", type=float, help="override FINAL TIME (model time units)")
    parser.add_argument("--time-step", type=float, help="override TIME STEP (model time units)")
    parser.add_argument("--out", type=Path, help="write all results to FILE (.csv or .nc)")
    parser.add_argument("--data-file", dest="data_files", action="append", default=[], type=Path, metavar="FILE",
                        help="Vensim data file (.dat, .tab or .csv) feeding the model's data variables (repeatable)")
    parser.add_argument("--external-file", dest="external_files", action="append", default=[], metavar="?ALIAS=FILE",
                        help="the file a GET XLS/DIRECT alias such as '?data' stands for (repeatable)")
    add_engine_arguments(parser)
    parser.set_defaults(handler=main)


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """--engine, --method, --rtol, --atol (shared by commands that simulate)."""
    from ..engines import ENGINES, METHODS

    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="simulation engine; auto = fast where it supports the model, else PySD (default)")
    parser.add_argument("--method", choices=METHODS, default=None,
                        help="integration method (default: the .mdl's setting, as Vensim; euler when it has none); "
                        "rk4 is Vensim's fixed-step RK4")
    parser.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance of rk45/lsoda/radau")
    parser.add_argument("--atol", type=float, default=1e-9, help="absolute tolerance of rk45/lsoda/radau")


def engine_options(args: argparse.Namespace) -> dict:
    """Keyword arguments for gscsd.run from the engine arguments."""
    return {"engine": args.engine, "method": args.method, "rtol": args.rtol, "atol": args.atol}


def report_fallback(results) -> None:
    """One stderr line when engine=auto had to use PySD."""
    import sys

    reason = results.attrs.get("fallback")
    if reason:
        print(f"note: ran with PySD because {reason}", file=sys.stderr)


def parse_assignment(text: str) -> tuple[str, float]:
    """Split ``NAME=VALUE`` into a lever name and a number."""
    name, sep, value = text.rpartition("=")
    if not sep or not name.strip():
        raise InputError(f"--set needs NAME=VALUE, got '{text}'")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise InputError(f"--set {name.strip()}: '{value}' is not a number") from None


def scenario_from_args(args: argparse.Namespace, model=None) -> Scenario:
    """The scenario described by --scenario, --params, --set, --final-time and --time-step."""
    scenario = Scenario.load(args.scenario) if args.scenario else Scenario("command line")
    levers = dict(scenario.levers)
    levers.update(parse_assignment(text) for text in args.sets)
    changes: dict = {"levers": levers}
    if model is not None and getattr(args, "params", None) is not None:
        changes["params"] = params_from(args, model)
    if args.final_time is not None:
        changes["final_time"] = args.final_time
    if args.time_step is not None:
        changes["time_step"] = args.time_step
    return replace(scenario, **changes)


def external_files(pairs: list[str]) -> dict[str, str]:
    """``--external-file ?ALIAS=FILE`` options as ``{"?ALIAS": "FILE"}``; InputError for a malformed one."""
    out = {}
    for pair in pairs:
        alias, sep, file = pair.partition("=")
        if not sep or not alias.strip().startswith("?") or not file.strip():
            raise InputError(f"--external-file {pair!r}: write ?ALIAS=FILE, e.g. --external-file '?data=data.xlsx'")
        out[alias.strip()] = file.strip()
    return out


def main(args: argparse.Namespace) -> int:
    model = load_model(args.model, data_files=args.data_files, external_files=external_files(args.external_files))
    scenario = scenario_from_args(args, model)
    if args.out is not None:
        results = run(model, scenario, **engine_options(args))
        report_fallback(results)
        write_results(results, model, args.out)
        print(f"wrote {args.out}")
        return 0
    results = run(model, scenario, **engine_options(args))
    report_fallback(results)
    final = results.index[-1]
    rows = []
    for name in model.key_outputs:
        variable = model.variable(name)
        columns = model.elements(name)
        value = float(results[columns].iloc[-1].sum())
        label = variable.label if len(columns) == 1 else f"{variable.label} (sum of {len(columns)})"
        rows.append((label, number(value), variable.units))
    applied = f", parameter set '{_set_name(scenario.params)}'" if scenario.params is not None else ""
    print(f"{model.name}: scenario '{scenario.name}'{applied}, values at time {final:g}")
    print(format_table(("output", "value", "units"), rows))
    return 0


def _set_name(params) -> str:
    return params if isinstance(params, str) else params.name
