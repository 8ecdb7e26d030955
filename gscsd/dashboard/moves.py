"""The fast path of a slider move: one JSON request from the browser to the server and back.

``assets/lines.js`` posts the sliders' values and what the charts show to
``<prefix>_gscsd/move``; :meth:`~.callbacks.Dashboard.move` answers with the
new lines, which the browser draws at once. Going through a Dash callback
instead would add Dash's request handling and, in the browser, its renderer
before and after the request: about as long again as the run and the drawing
themselves (docs/performance.md). Everything else (summary, URL, stores) still
goes through Dash callbacks.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dash.exceptions import PreventUpdate
from flask import Flask, Response, request

if TYPE_CHECKING:
    from .callbacks import Dashboard

#: Path of the route below the app's ``requests_pathname_prefix``.
ROUTE = "_gscsd/move"


def register_moves(server: Flask, board: Dashboard, prefix: str = "/") -> None:
    """Add ``POST {prefix}_gscsd/move`` to ``server`` (the Dash app's Flask server)."""

    def move() -> Response:
        body = request.get_json(silent=True)
        try:
            if not isinstance(body, dict):
                raise TypeError("the body is not a JSON object")
            answer = board.move(list(body["names"]), list(body["values"]), body.get("method"), body.get("picked"),
                                body.get("mode"), body.get("overlays"), body["model"], body.get("shape"))
        except PreventUpdate:
            return Response(status=204)
        except (KeyError, TypeError, ValueError) as exc:
            return Response(json.dumps({"error": f"malformed slider move ({type(exc).__name__}: {exc}); "
                                                 "reload the page"}), status=400, mimetype="application/json")
        return Response(json.dumps(answer), mimetype="application/json")

    server.add_url_rule(f"{prefix.rstrip('/')}/{ROUTE}", "gscsd_move", move, methods=["POST"])
