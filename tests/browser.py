"""Browser-test support: one Playwright session, Debian's chromium, apps served in threads.

Import the fixtures in a test module with ``from .browser import browser, serve  # noqa: F401``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


@dataclass
class Offline:
    """A page that may load ``file://`` URLs only; what it tried to fetch, logged as errors and alerted."""

    context: object
    page: object
    requests: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)

    def assert_clean(self) -> None:
        """No alert, no console error or uncaught exception, no request beyond ``file://``."""
        assert not self.dialogs, f"an alert fired: {self.dialogs}"
        assert not self.errors, self.errors
        assert not self.requests, f"the page tried to load {self.requests}"


def offline_page(browser, **context_options) -> Offline:
    """A new context and page with the network blocked (a report must work from a USB stick); close its context."""
    context = browser.new_context(**context_options)
    found = Offline(context, None)

    def block(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            found.requests.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    context.set_offline(True)
    page = found.page = context.new_page()
    page.on("console", lambda m: found.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: found.errors.append(str(exc)))
    page.on("dialog", lambda d: (found.dialogs.append(d.message), d.dismiss()))
    return found


def artifact(name: str) -> Path:
    """Path for a test artifact (screenshots, reports); the folder is git-ignored."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
