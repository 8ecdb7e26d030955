"""Browser-test support: one Playwright session, Debian's chromium, apps served in threads.

Import the fixtures in a test module with ``from .browser import browser, serve  # noqa: F401``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# Without the background-networking flags chromium keeps dialling out on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """A headless chromium shared by the whole test session (one sync_playwright).

    pytest makes one instance of this fixture per test module that imports it,
    and a second ``sync_playwright()`` fails ("Sync API inside the asyncio
    loop"); so the instances share one module-level chromium, closed by the
    last to finish.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    if not _SHARED:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        _SHARED.update(playwright=playwright, browser=instance, users=0)
    _SHARED["users"] += 1
    yield _SHARED["browser"]
    _SHARED["users"] -= 1
    if _SHARED["users"] == 0:
        _SHARED["browser"].close()
        _SHARED["playwright"].stop()
        _SHARED.clear()


_SHARED: dict = {}


@contextmanager
def serve(wsgi_app) -> Iterator[str]:
    """Serve a WSGI app (e.g. ``dash_app.server``) on 127.0.0.1 in a thread; yield its URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def artifact(name: str) -> Path:
    """Path for a test artifact (screenshots, reports); the folder is git-ignored."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
