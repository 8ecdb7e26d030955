"""``gscsd report``: a self-contained HTML report of scenarios, or their results as CSV/netCDF."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import engines
from ..engines import METHODS
from ..errors import InputError
from ..model import load_model
from ..scenario import Scenario
from . import add_model_argument, add_params_argument, params_from

_SUFFIXES = {".html": "html", ".htm": "html", ".csv": "csv", ".nc": "netcdf"}
_DEFAULT_NAMES = {"html": "report.html", "csv": "report.csv", "netcdf": "report.nc"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="HTML report of scenarios vs the baseline (offline, one file); or --format csv|netcdf"
    )
    add_model_argument(parser)
    parser.add_argument("--scenario", dest="scenarios", action="append", default=[], type=Path, metavar="FILE",
                        help="scenario JSON file (repeatable; shown in this order)")
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the model's own values and compare with them (default: yes)")
    add_params_argument(parser)
    parser.add_argument("--uncertainty", type=Path, metavar="FILE",
                        help="percentile bands (.csv or .nc, as `gscsd uncertainty --out` writes) to shade")
    parser.add_argument("--title", help="report title (default: '<model> scenario report')")
    parser.add_argument("--live", action=argparse.BooleanOptionalAction, default=False,
                        help="a live report: the model runs in the page and the reader moves its levers "
                             "(default: a static report; a model that cannot run in a browser stays static, "
                             "with a note saying why)")
    parser.add_argument("--method", choices=METHODS, default="euler", help="integration method (default euler)")
    choices = getattr(engines, "ENGINES", ("pysd",))
    default = "auto" if "auto" in choices else "pysd"  # the fast engine where it supports the model
    parser.add_argument("--engine", choices=choices, default=default,
                        help=f"simulation engine (default {default}; the report names the engine used)")
    parser.add_argument("--format", choices=("html", "csv", "netcdf"),
                        help="html report, or the underlying results as csv/netcdf (default: from -o's extension)")
    parser.add_argument("-o", "--out", type=Path, help="output file (default report.html / .csv / .nc)")
    parser.set_defaults(handler=main)


def output_format(args: argparse.Namespace) -> tuple[str, Path]:
    """The format and output path from ``--format`` and ``-o``."""
    fmt = args.format
    if fmt is None:
        fmt = _SUFFIXES.get(args.out.suffix.lower(), "html") if args.out else "html"
    out = args.out or Path(_DEFAULT_NAMES[fmt])
    expected = [s for s, f in _SUFFIXES.items() if f == fmt]
    if out.suffix.lower() not in expected:
        raise InputError(f"-o {out}: a {fmt} file name must end in {' or '.join(expected)}")
    if not out.parent.is_dir():
        raise InputError(f"-o {out}: folder {out.parent} does not exist")
    return fmt, out


def main(args: argparse.Namespace) -> int:
    from ..report import prepare, render_html, write_exports
    from ..report.live import prepare_live

    fmt, out = output_format(args)
    if not args.scenarios and not args.baseline:
        raise InputError("nothing to report: give --scenario FILE, or keep the baseline")
    model = load_model(args.model)
    scenarios = [Scenario.load(path) for path in args.scenarios]
    data = prepare(model, scenarios, baseline=args.baseline, uncertainty=args.uncertainty, method=args.method,
                   engine=args.engine, params=params_from(args, model))
    if args.live and fmt != "html":
        raise InputError(f"--live makes an HTML report; {fmt} files hold the results only (drop --live)")
    if fmt == "html":
        steer = prepare_live(data) if args.live else None
        if isinstance(steer, str):
            print(f"note: the report stays static: {steer}", file=sys.stderr)
        text = render_html(data, title=args.title, live=steer if steer is not None else False)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        size = out.stat().st_size / 1e6
        kind = "" if steer is None else ", static" if isinstance(steer, str) else ", live"
        print(f"wrote {out} ({len(data.scenarios)} scenario(s){' + baseline' if args.baseline else ''}{kind}, "
              f"{size:.1f} MB)")
    else:
        write_exports(model, data.all_runs(), out, fmt)
        print(f"wrote {out} ({len(data.all_runs())} run(s), {fmt})")
    return 0
