"""Create and serve the Dash application.

``create_app(models_dir)`` builds the app; ``main()`` is ``python app.py``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import dash

from ..store import ScenarioStore, default_store_path
from . import layout
from .callbacks import Dashboard, register
from .library import ModelLibrary
from .moves import register_moves
from .results import ResultCache
from .tabs import load_tab_modules

DEFAULT_MODELS_DIR = os.environ.get("GSCSD_MODELS_DIR", "models")
ASSETS = Path(__file__).with_name("assets")


def create_app(
    models_dir: str | Path = DEFAULT_MODELS_DIR,
    *,
    store_path: str | Path | None = None,
    cache_size: int = 64,
    engine: str | None = None,
) -> dash.Dash:
    """The dashboard for the ``.mdl`` files in ``models_dir``.

    Parameters
    ----------
    models_dir : str or Path
        Folder of Vensim models offered in the model dropdown (or one ``.mdl``).
    store_path : str or Path, optional
        SQLite file of saved scenarios (default :func:`gscsd.store.default_store_path`).
    cache_size : int
        How many results to keep in memory (0 disables the cache).
    engine : str, optional
        Simulation engine for every run (default: :func:`gscsd.run`'s choice).

    Returns
    -------
    dash.Dash
        ``app.server`` is the WSGI application; ``app.gscsd`` the
        :class:`~gscsd.dashboard.callbacks.Dashboard` behind it.
    """
    app = dash.Dash(
        __name__,
        title="gscsd: Green Smart City planner",
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,  # tab contents exist only once a page is built
        update_title=None,  # keep the tab title still while a run is under way
    )
    modules = load_tab_modules()
    board = Dashboard(ModelLibrary(models_dir), ScenarioStore(store_path), ResultCache(cache_size), modules,
                      engine)
    app.layout = layout.shell
    register(app, board)
    register_moves(app.server, board, app.config.routes_pathname_prefix)
    for i, (name, module, _error) in enumerate(modules):
        if module is None:
            continue
        try:
            module.register_callbacks(app)
        except Exception as exc:  # the tab shows this error; the dashboard still starts
            modules[i] = (name, None, f"register_callbacks failed: {type(exc).__name__}: {exc}")
    app.gscsd = board  # type: ignore[attr-defined]
    return app


def main(argv: list[str] | None = None) -> int:
    """``python app.py [--host 127.0.0.1] [--port 8050] [--models-dir models] [--store FILE] [--debug]``."""
    parser = argparse.ArgumentParser(prog="app.py", description="Serve the gscsd dashboard.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--models-dir", default=DEFAULT_MODELS_DIR, help="folder of .mdl files (or one .mdl file)")
    parser.add_argument("--store", default=None,
                        help=f"SQLite file for saved scenarios (default {default_store_path()})")
    parser.add_argument("--engine", default=None, help="simulation engine (default: gscsd.run's choice)")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (off by default)")
    args = parser.parse_args(argv)
    app = create_app(args.models_dir, store_path=args.store, engine=args.engine)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0
