"""The gscsd dashboard: ``python app.py [--host 127.0.0.1] [--port 8050] [--models-dir models] [--store FILE]``.

``app.server`` is the WSGI application for ``gunicorn app:server`` (models from
``$GSCSD_MODELS_DIR``, default ``models``; saved scenarios in ``$GSCSD_STORE``
or the user data directory).
"""

from __future__ import annotations

import sys

from gscsd.dashboard.server import create_app, main

if __name__ == "__main__":
    sys.exit(main())

app = create_app()
server = app.server
