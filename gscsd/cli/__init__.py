"""The ``gscsd`` command line.

Each sub-command lives in its own module of this package with two functions,
``register(subparsers)`` and ``main(args) -> int``. Errors a user can cause
print one line and exit 2 (bad input) or 1 (model or simulation failure);
``--debug`` shows the traceback instead.

Exit codes: 0 done, 1 the model or a run failed, 2 bad input, 130 interrupted
(Ctrl-C), 141 the reader of the output went away (``gscsd levers | head -1``;
128 + SIGPIPE, as Unix tools that a broken pipe ends).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence

from ..errors import GscsdError

#: Sub-command modules, in the order ``gscsd --help`` lists them.
COMMANDS = ("levers", "run", "check", "units", "loops", "report", "uncertainty", "sensitivity", "optimize", "calibrate")

DEFAULT_MODEL = "models/gsc.mdl"

#: Exit code when stdout's reader closed the pipe (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141
#: Longest error line printed (a message quoting huge input stays readable).
MAX_MESSAGE_CHARS = 1000


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage already; keep its message to one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = _Parser(prog="gscsd", description="System dynamics for Green Smart City planning.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """The optional positional MODEL shared by sub-commands."""
    parser.add_argument(
        "model", nargs="?", default=DEFAULT_MODEL, metavar="MODEL",
        help=f"model file: Vensim .mdl, or XMILE/Stella .xmile, .stmx, .itmx (default {DEFAULT_MODEL})"
    )


def add_params_argument(parser: argparse.ArgumentParser) -> None:
    """``--params FILE.cin|NAME``: a parameter set applied under the levers (see gscsd.params)."""
    parser.add_argument(
        "--params", metavar="FILE.cin|NAME",
        help="parameter set: a Vensim changes file (NAME = NUMBER lines) or the name of a set beside the model "
             "(hangzhou for models/gsc.hangzhou.cin); its values replace the .mdl's, levers replace the set's",
    )


def params_from(args: argparse.Namespace, model):
    """The validated parameter set of ``--params`` (a file or a set name), or ``None``."""
    from pathlib import Path

    from ..params import SET_NAME, load_params, param_set

    text = getattr(args, "params", None)
    if text is None:
        return None
    if SET_NAME.match(text) and not Path(text).is_file():
        return param_set(model, text)
    return load_params(text, model)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gscsd`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here rather than at exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except GscsdError as exc:
        if args.debug:
            raise
        print(f"gscsd: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gscsd: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: say so in one line unless debugging
        if args.debug:
            raise
        print(f"gscsd: internal error: {type(exc).__name__}: {one_line(str(exc))} (rerun with --debug for details)",
              file=sys.stderr)
        return 1


def one_line(message: str) -> str:
    """``message`` on one line of at most :data:`MAX_MESSAGE_CHARS` (input quoted in it may hold anything)."""
    message = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", message)  # every character that breaks a line
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 3] + "..."
    return message


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail again (Python's docs' recipe)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stdout (tests) has no descriptor
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
