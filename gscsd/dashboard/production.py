"""Serving the dashboard with gunicorn, the production WSGI server, from ``python app.py``.

Flask's own server is for development: one process, no timeouts, no
compression of its own. ``python app.py`` (and so ``make run``) serves with
gunicorn instead, started from Python so that the command stays the same:

* ``workers`` processes (default 2, one per core here) share the work; the
  app is built once before they fork (``preload_app``), so each starts with
  the models already loaded; saved scenarios and analysis jobs are shared
  through SQLite, so any worker answers any page;
* ``threads`` per worker (default 4) keep one slow request (a PySD run, an
  export) from holding up the others;
* a request taking longer than ``timeout`` seconds (default 120) gets its
  worker restarted instead of hanging it for good.

``gunicorn app:server`` with your own options works as well; ``--dev`` (or
``--debug``) keeps Flask's server for development.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Defaults for this machine size (2 cores); ``--workers`` and ``--threads`` change them.
WORKERS = 2
THREADS = 4
TIMEOUT = 120


def serve(app: Any, host: str, port: int, *, workers: int = WORKERS, threads: int = THREADS,
          timeout: int = TIMEOUT, log: Callable[[str], None] = print) -> None:
    """Serve the WSGI ``app`` with gunicorn on ``host:port`` until stopped (Ctrl-C)."""
    from gunicorn.app.base import BaseApplication

    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": timeout,
        "graceful_timeout": 30,
        "keepalive": 5,
        "preload_app": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "gscsd-dashboard",
    }

    class Dashboard(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    log(f"gscsd dashboard on http://{host}:{port}/ ({workers} workers x {threads} threads; Ctrl-C stops it)")
    Dashboard().run()
