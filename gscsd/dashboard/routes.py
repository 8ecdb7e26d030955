"""The dashboard's own HTTP routes, and the rules every request meets.

* ``POST <prefix>_gscsd/view``: the one update path (:func:`.view.answer`),
  JSON in and out. A request that is not a view request, names a model that
  is not offered, or is too large gets a 4xx with one line saying what is
  wrong; never a traceback.
* ``GET <prefix>_gscsd/model/<hash>.js``: the model of a page as a script
  the page runs itself (:mod:`.preview`); 404 for a hash the server has not
  served.
* Every request: a body of at most :data:`MAX_BODY` bytes; a ``Host`` that
  the server answers to (so that a web page elsewhere cannot reach a
  dashboard on this machine through DNS rebinding); security headers on
  every answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from ..errors import GscsdError, InputError
from .preview import SCRIPT_NAME, SCRIPT_ROUTE, script

if TYPE_CHECKING:
    from .callbacks import Dashboard

log = logging.getLogger(__name__)

#: Path of the view route below the app's ``requests_pathname_prefix``.
ROUTE = "_gscsd/view"
#: Largest request body accepted (bytes); Dash's own requests are far smaller.
MAX_BODY = 1 << 20
#: Host names a dashboard answers to unless told otherwise (it binds 127.0.0.1 by default).
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Dash and plotly.js need inline scripts and eval (clientside callbacks); nothing leaves the origin.
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
}


def _error(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status=status, mimetype="application/json")


def host_name(host: str) -> str:
    """The name part of a ``Host`` header (``[::1]:8050`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def protect(server: Flask, allowed_hosts: Iterable[str] | None = None) -> None:
    """Limit request sizes, check the Host header, add security headers (see the module docstring).

    ``allowed_hosts``: names the server answers to (default :data:`LOCAL_HOSTS`);
    ``"*"`` answers to any.
    """
    allowed = {host_name(h) for h in (allowed_hosts or LOCAL_HOSTS)}
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY

    @server.before_request
    def _check_host():
        if "*" in allowed:
            return None
        name = host_name(request.host or "")
        if name not in allowed:
            return Response(f"Host '{name[:80]}' is not served here; open the dashboard at one of "
                            f"{', '.join(sorted(allowed))}, or start it with --allowed-hosts {name[:80]}\n",
                            status=421, mimetype="text/plain")
        return None

    @server.after_request
    def _headers(response: Response) -> Response:
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @server.errorhandler(413)
    def _too_large(_error_):
        return _error(413, f"the request is larger than {MAX_BODY // 1024} kB; reload the page")


def register_routes(server: Flask, board: Dashboard, prefix: str = "/") -> None:
    """Add ``POST {prefix}_gscsd/view`` to ``server`` (the Dash app's Flask server)."""

    def view() -> Response:
        try:
            body = json.loads(request.get_data(cache=False) or b"null")
        except (ValueError, RecursionError, UnicodeDecodeError):
            return _error(400, "the request is not valid JSON (or nests too deep, or has a number too long); "
                               "reload the page")
        try:
            reply = board.view(body)
            text = json.dumps(reply, allow_nan=False)
        except InputError as exc:
            return _error(400, str(exc))
        except GscsdError as exc:
            return _error(422, str(exc))
        except RecursionError:
            return _error(400, "the request nests too deep; reload the page")
        except Exception as exc:  # a bug of ours: one line to the page, the traceback to the log
            log.exception("view request failed")
            return _error(500, f"internal error ({type(exc).__name__}); the server log has the details")
        return Response(text, mimetype="application/json")

    server.add_url_rule(f"{prefix.rstrip('/')}/{ROUTE}", "gscsd_view", view, methods=["POST"])

    def model_script(name: str) -> Response:
        # The name is a model hash the library served, never a path.
        digest = name.removesuffix(".js")
        wanted = name.endswith(".js") and SCRIPT_NAME.match(digest)
        text = script(board.services.library.current(digest)) if wanted else None
        if text is None:
            return Response(f"no model script '{name[:80]}' here; reload the page\n", status=404,
                            mimetype="text/plain")
        response = Response(text, mimetype="text/javascript")
        # The URL names the model version and the code version: its content never changes.
        response.headers["Cache-Control"] = "private, max-age=86400, immutable"
        return response

    server.add_url_rule(f"{prefix.rstrip('/')}/{SCRIPT_ROUTE}<name>", "gscsd_model_script", model_script,
                        methods=["GET"])
    callbacks = f"{prefix.rstrip('/')}/_dash-update-component"

    @server.before_request
    def _check_callback_request():
        # Dash's callback route trusts the page; a request that is not a callback of this page is a 400.
        if request.path != callbacks or request.method != "POST":
            return None
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("output"), str) \
                or not isinstance(body.get("inputs", []), list) or not isinstance(body.get("state", []), list) \
                or not isinstance(body.get("outputs"), (dict, list)) \
                or not isinstance(body.get("changedPropIds", []), list):
            return _error(400, "not a callback request of this page; reload the page")
        return None

    @server.errorhandler(Exception)
    def _failed(exc: Exception):
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return exc
        log.exception("request %s failed", request.path)
        if request.path == callbacks:  # a request the page's callbacks cannot take: the client's doing
            return _error(400, f"this request does not fit the page ({type(exc).__name__}); reload the page")
        return _error(500, f"internal error ({type(exc).__name__}); the server log has the details")
