"""Create and serve the Dash application.

``create_app(models_dir)`` builds the app; ``main()`` is ``python app.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import dash

from ..analysis.jobs import JobRunner
from ..store import ScenarioStore, default_store_path
from . import production
from .callbacks import Dashboard, register
from .library import ModelLibrary
from .results import ResultCache
from .routes import LOCAL_HOSTS, protect, register_routes
from .services import Services
from .tabs import Broken, load_tabs

DEFAULT_MODELS_DIR = os.environ.get("GSCSD_MODELS_DIR", "models")
#: Dash's page, with the page's language (screen readers read it with the right voice).
_INDEX = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""
ASSETS = Path(__file__).with_name("assets")


def create_app(
    models_dir: str | Path = DEFAULT_MODELS_DIR,
    *,
    store_path: str | Path | None = None,
    cache_size: int = 64,
    engine: str | None = None,
    allowed_hosts: Iterable[str] | None = None,
    workspace_header: str | None = None,
) -> dash.Dash:
    """The dashboard for the model files (``.mdl``, ``.xmile``, ``.stmx``, ``.itmx``) in ``models_dir``.

    Parameters
    ----------
    models_dir : str or Path
        Folder of Vensim and XMILE/Stella models offered in the model dropdown (or one model file).
    store_path : str or Path, optional
        SQLite file of saved scenarios (default :func:`gscsd.store.default_store_path`);
        analysis jobs are kept beside it, so several server processes share both.
    cache_size : int
        How many results to keep in memory (0 disables the cache).
    engine : str, optional
        Simulation engine for every run (default: :func:`gscsd.run`'s choice).
    allowed_hosts : iterable of str, optional
        Host names the server answers to (default: this machine's loopback
        names; ``"*"`` for any).
    workspace_header : str, optional
        Behind a login proxy, the header naming the signed-in user, who then
        is the workspace (``$GSCSD_WORKSPACE_HEADER``).

    Returns
    -------
    dash.Dash
        ``app.server`` is the WSGI application; ``app.gscsd`` the
        :class:`~gscsd.dashboard.callbacks.Dashboard` behind it.
    """
    app = dash.Dash(
        __name__,
        index_string=_INDEX,
        title="gscsd: Green Smart City planner",
        compress=True,  # gzip (flask-compress): plotly.js is 4.8 MB as it is, 1.4 MB compressed
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,  # tab contents exist only once a tab is opened
        update_title=None,  # keep the tab title still while a run is under way
    )
    # flask-compress leaves the file of a streamed answer (Flask's static files) open: gzip only the
    # answers built in memory (Dash's, plotly.js included); the few small assets go as they are.
    app.server.config["COMPRESS_STREAMS"] = False
    store = ScenarioStore(store_path)
    services = Services(ModelLibrary(models_dir), ResultCache(cache_size), store,
                        JobRunner(store.path.with_name(store.path.stem + "-jobs.sqlite")), engine,
                        workspace_header or os.environ.get("GSCSD_WORKSPACE_HEADER") or None)
    tabs = load_tabs(services)
    board = Dashboard(services, tabs)
    protect(app.server, allowed_hosts or _env_hosts())
    register(app, board)
    register_routes(app.server, board, app.config.routes_pathname_prefix)
    for i, tab in enumerate(tabs):
        if isinstance(tab, Broken):
            continue
        try:
            tab.register_callbacks(app)
        except Exception as exc:  # the tab shows this error; the dashboard still starts
            tabs[i] = Broken(tab.label, f"register_callbacks failed: {type(exc).__name__}: {exc}")
    board.tabs = tabs
    app.layout = board.serve_layout
    app.gscsd = board  # type: ignore[attr-defined]
    # Dash registers the scripts it may serve while it renders its index page, in the process that renders
    # it. Render it once now, so that every worker process forked from this one serves them (else a worker
    # that did not serve the page answers the page's script requests with errors).
    with app.server.test_request_context("/"):
        app.index()
    return app


def _env_hosts() -> list[str] | None:
    text = os.environ.get("GSCSD_ALLOWED_HOSTS", "")
    return [h.strip() for h in text.split(",") if h.strip()] or None


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served (another server holds it, say), else ``None``."""
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            probe.bind((host, port))
    except OSError as exc:
        return f"cannot serve on {host}:{port} ({exc.strerror or exc})"
    return None


def main(argv: list[str] | None = None) -> int:
    """``python app.py [--host 127.0.0.1] [--port 8050] [--models-dir models] [--store FILE] [--dev|--debug]``.

    Serves with gunicorn (:mod:`.production`) unless ``--dev`` or ``--debug``.
    """
    parser = argparse.ArgumentParser(prog="app.py", description="Serve the gscsd dashboard.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--models-dir", default=DEFAULT_MODELS_DIR,
                        help="folder of model files: .mdl, .xmile, .stmx, .itmx (or one such file)")
    parser.add_argument("--store", default=None,
                        help=f"SQLite file for saved scenarios (default {default_store_path()})")
    parser.add_argument("--engine", default=None, help="simulation engine (default: gscsd.run's choice)")
    parser.add_argument("--allowed-hosts", default=None,
                        help="comma-separated host names the dashboard answers to (default: this machine's "
                             "loopback names, plus --host); '*' for any")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode on Flask's server (off by default)")
    parser.add_argument("--dev", action="store_true", help="Flask's development server instead of gunicorn")
    parser.add_argument("--workers", type=int, default=production.WORKERS, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=production.THREADS, help="threads per worker")
    args = parser.parse_args(argv)
    hosts = [h.strip() for h in args.allowed_hosts.split(",")] if args.allowed_hosts else [*LOCAL_HOSTS, args.host]
    busy = port_in_use(args.host, args.port)
    if busy:
        print(f"app.py: {busy}; serve on another port: make run PORT={args.port + 1} "
              f"(or python app.py --port {args.port + 1})", file=sys.stderr)
        return 1
    app = create_app(args.models_dir, store_path=args.store, engine=args.engine, allowed_hosts=hosts)
    if args.dev or args.debug:
        app.run(host=args.host, port=args.port, debug=args.debug)
    else:
        production.serve(app.server, args.host, args.port, workers=max(1, args.workers),
                         threads=max(1, args.threads))
    return 0
