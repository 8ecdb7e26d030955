"""The gscsd dashboard: ``python app.py [--host 127.0.0.1] [--port 8050] [--models-dir models]``.

``app.server`` is the WSGI application for ``gunicorn app:server``.
"""

from __future__ import annotations

import sys

from gscsd.dashboard.server import create_app, main

app = create_app()
server = app.server

if __name__ == "__main__":
    sys.exit(main())
