"""``gscsd optimize``: best lever values for an objective, within ranges and constraints."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..analysis import optimize as optimization
from ..analysis.outputs import parse_constraint, parse_output
from ..analysis.problem import problem_from_model
from ..errors import InputError
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
    parser = subparsers.add_parser("optimize", help="find lever values that maximize or minimize an objective")
    add_model_argument(parser)
    goal = parser.add_mutually_exclusive_group(required=True)
    goal.add_argument("--maximize", metavar="SPEC", help="objective: NAME@TIME or integral(NAME, START, END)")
    goal.add_argument("--minimize", metavar="SPEC", help="objective to minimize")
    add_vary(parser, "at least one (searched within its range)")
    parser.add_argument("--constraint", action="append", default=[], metavar="EXPR",
                        help="repeatable: 'NAME@TIME>=X', 'integral(NAME, A, B)<=X' or a lever budget "
                             "'Lever A + 2*Lever B <= X'")
    parser.add_argument("--popsize", type=int, default=8, help="population per lever (default 8)")
    parser.add_argument("--maxiter", type=int, default=20, help="generations at most (default 20)")
    parser.add_argument("--tol", type=float, default=0.01,
                        help="stop when the population's objective spread is below this fraction of its mean "
                             "(default 0.01)")
    parser.add_argument("--no-polish", dest="polish", action="store_false", help="skip the local SLSQP polish")
    parser.add_argument("--out", type=Path, metavar="FILE", help="save the optimal scenario as JSON")
    parser.add_argument("--name", help="name of the saved scenario")
    parser.add_argument("--store", nargs="?", const="", metavar="DB",
                        help="also save it in the dashboard's scenario store (default store, or the DB file given)")
    add_common(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    check_positive(args.popsize, "--popsize")
    check_positive(args.maxiter, "--maxiter")
    if not args.tol >= 0:
        raise InputError(f"--tol must be zero or positive, got {args.tol:g}")
    out_suffix(args.out, (".json",))
    model = load_model(args.model)
    base = base_scenario(args, model)
    span = horizon(model, base)
    objective = parse_output(model, args.maximize or args.minimize, horizon=span)
    constraints = [parse_constraint(model, text, horizon=span) for text in args.constraint]
    problem = problem_from_model(model, args.vary, base)
    with executor_from(args) as executor, progress_bar(args, "optimize") as bar:
        result = optimization.optimize(model, problem, objective, maximize=args.maximize is not None,
                                       constraints=constraints, base=base, seed=args.seed, popsize=args.popsize,
                                       maxiter=args.maxiter, tol=args.tol, polish=args.polish, executor=executor,
                                       progress=bar)
    scenario = result.scenario
    if args.name:
        from dataclasses import replace

        scenario = replace(scenario, name=args.name)
    direction = "maximize" if result.maximize else "minimize"
    units = model.variable(objective.variable).units
    print(f"{model.name}: {direction} {objective.label} ({units}) over {problem.num_vars} lever(s), "
          f"{result.runs} runs, seed {args.seed}")
    rows = [(display(f.name), number(f.base), number(result.values[f.name]),
             f"[{number(f.low)}, {number(f.high)}]", f.units)
            for f in problem.factors]
    print(format_table(("lever", "baseline", "optimum", "range", "units"), rows))
    print(f"objective: {number(result.baseline)} -> {number(result.objective)} {units}")
    for check in result.constraints:
        status = "ok" if check.satisfied else "VIOLATED"
        print(f"constraint {check.label}: {number(check.value)} ({status})")
    if not result.feasible:
        print("no feasible point found: the constraints could not all be met within the lever ranges")
    if args.out is not None:
        scenario.save(args.out)
        print(f"wrote {args.out}")
    if args.store is not None:
        from ..store import CLI_WORKSPACE, ScenarioStore

        # Saved from the command line to be seen: into the dashboard's shared library (a new
        # version if the name is there already; older versions stay).
        store = ScenarioStore(args.store or None)
        ident = store.save(model.name, scenario, CLI_WORKSPACE, replace=True)
        store.publish(ident, CLI_WORKSPACE)
        print(f"saved '{scenario.name}' in the scenario store's shared library (id {ident})")
    return 0 if result.feasible else 1
