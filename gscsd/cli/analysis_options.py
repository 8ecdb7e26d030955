"""Options shared by the analysis commands (uncertainty, sensitivity, optimize, calibrate)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..analysis.executor import SCHEDULER_ENV, get_executor
from ..analysis.progress import ProgressBar
from ..errors import InputError
from ..model import Model
from ..scenario import Scenario


def add_vary(parser: argparse.ArgumentParser, required_text: str) -> None:
    parser.add_argument("--vary", action="append", default=[], metavar="NAME[=DIST]",
                        help=f"lever to vary (repeatable): NAME, NAME=triangular, NAME=uniform(a,b), "
                             f"NAME=triangular(a,mode,b) or NAME=normal(mean,sd); {required_text}")


def add_common(parser: argparse.ArgumentParser, seed: bool = True) -> None:
    """--scenario, --params, --seed, where to run, progress."""
    from . import add_params_argument

    parser.add_argument("--scenario", type=Path, metavar="FILE",
                        help="scenario JSON the levers not varied (and time settings) come from")
    add_params_argument(parser)
    if seed:
        parser.add_argument("--seed", type=int, default=0, help="random seed; same seed, same numbers (default 0)")
    where = parser.add_argument_group("where runs happen")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help=f"Dask scheduler tcp://HOST:PORT (or local[:N] for a local cluster); "
                            f"default ${SCHEDULER_ENV}")
    where.add_argument("--workers", type=int, metavar="N", help="local worker processes (default 1: this process)")
    where.add_argument("--chunk-size", type=int, metavar="N", help="scenarios per task (default: automatic)")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="draw a progress bar on stderr (default: when stderr is a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never draw a progress bar")


def base_scenario(args: argparse.Namespace, model: Model) -> Scenario | None:
    """The --scenario file with the --params set, validated against ``model``; ``None`` if neither is given."""
    from dataclasses import replace

    from . import params_from

    params = params_from(args, model)
    if args.scenario is None and params is None:
        return None
    scenario = Scenario.load(args.scenario) if args.scenario is not None else Scenario("Baseline")
    if params is not None:
        scenario = replace(scenario, params=params)
    return scenario.validated(model)


def executor_from(args: argparse.Namespace):
    """The executor for --scheduler/$GSCSD_SCHEDULER, --workers and --chunk-size."""
    return get_executor(args.scheduler, args.workers, args.chunk_size)


def progress_bar(args: argparse.Namespace, label: str) -> ProgressBar:
    return ProgressBar(label, enabled=args.progress)


def check_positive(value: int | None, option: str) -> None:
    if value is not None and value < 1:
        raise InputError(f"{option} must be at least 1, got {value}")


def out_suffix(path: Path | None, allowed: tuple[str, ...], option: str = "--out") -> None:
    """Refuse an output file of the wrong kind before any run is spent."""
    if path is not None and path.suffix.lower() not in allowed:
        raise InputError(f"{option} {path}: the file must end in {' or '.join(allowed)}")
    if path is not None and not path.parent.exists():
        raise InputError(f"{option} {path}: folder {path.parent} does not exist")


def horizon(model: Model, scenario: Scenario | None) -> tuple[float, float]:
    """Start and final time of the runs: the scenario's, else the model's."""
    start = model.time.initial if scenario is None or scenario.start_time is None else scenario.start_time
    final = model.time.final if scenario is None or scenario.final_time is None else scenario.final_time
    return start, final
