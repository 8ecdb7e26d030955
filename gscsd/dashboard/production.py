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
  worker restarted instead of hanging it for good;
* a request line of up to :data:`REQUEST_LINE` characters (gunicorn's most;
  its default, 4,094, refused links the dashboard writes): every link the
  dashboard writes is at most :data:`gscsd.share.MAX_QUERY` characters of
  query, which leaves room for the method, path and protocol. A longer one
  (typed or made by hand) is answered by gunicorn before the app sees it:
  414, with one line of ours saying what to do (:func:`worker_class`). A link
  between the two reaches the page, which reads its first ``MAX_QUERY``
  characters and says so.

``gunicorn app:server`` with your own options works as well (give it
``--limit-request-line 8190 --limit-request-field_size 8190``, or long links
get gunicorn's bare 414); ``--dev`` (or ``--debug``) keeps Flask's server for
development.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..share import MAX_QUERY

#: Defaults for this machine size (2 cores); ``--workers`` and ``--threads`` change them.
WORKERS = 2
THREADS = 4
TIMEOUT = 120
#: Longest request line and header line gunicorn reads (its maximum; 0 would mean unbounded).
REQUEST_LINE = 8190
#: A link longer than the server reads: the one line the browser shows (gunicorn's own page says only
#: "Request Line is too large").
TOO_LONG = ("This link is longer than the {limit:,} characters the gscsd dashboard reads, so it cannot be "
            "opened. Links the dashboard writes stay under {most:,}: open the dashboard and rebuild the view, "
            "or ask for the link again.")


def too_long_page(status: str) -> bytes:
    """The whole HTTP answer to a link longer than the server reads: ``status`` and one line of ours."""
    text = TOO_LONG.format(limit=REQUEST_LINE, most=MAX_QUERY)
    body = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gscsd: link too long</title>"
            "<meta name=\"viewport\" content=\"width=device-width\"></head><body style=\"font-family:system-ui,"
            "sans-serif;margin:2em;color:#1f2933\"><h1 style=\"font-size:19px;color:#0066a1\">gscsd</h1>"
            f"<p role=\"alert\" style=\"background:#fdecea;border:1px solid #f5c2bd;color:#7a1a12;"
            f"padding:8px 12px;border-radius:6px\">{text}</p><p><a href=\"/\">Open the dashboard</a></p>"
            "</body></html>").encode()
    head = (f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    return head + body


def worker_class() -> type:
    """gunicorn's threaded worker, with the dashboard's own answer to a link that is too long.

    (Built on first use: gunicorn is imported only to serve.)
    """
    from gunicorn import util
    from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
    from gunicorn.workers.gthread import ThreadWorker

    class Worker(ThreadWorker):
        def handle_error(self, req, client, addr, exc):
            if not isinstance(exc, (LimitRequestLine, LimitRequestHeaders)):
                return super().handle_error(req, client, addr, exc)
            self.log.warning("refused a request: %s", exc)
            status = "414 URI Too Long" if isinstance(exc, LimitRequestLine) else "431 Request Header Fields Too Large"
            try:
                util.write_nonblock(client, too_long_page(status))
            except OSError:
                self.log.debug("could not answer a refused request")
            return None

    return Worker


def serve(app: Any, host: str, port: int, *, workers: int = WORKERS, threads: int = THREADS,
          timeout: int = TIMEOUT, log: Callable[[str], None] = print) -> None:
    """Serve the WSGI ``app`` with gunicorn on ``host:port`` until stopped (Ctrl-C)."""
    from gunicorn.app.base import BaseApplication

    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": worker_class(),
        "limit_request_line": REQUEST_LINE,
        "limit_request_field_size": REQUEST_LINE,
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
