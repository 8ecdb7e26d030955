"""`python app.py` (what `make run` starts) serves with gunicorn: several workers, gzip, security headers."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .test_dashboard_callbacks import make_models_dir

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_app_py_serves_with_gunicorn_workers_and_gzip(tmp_path):
    folder = make_models_dir(tmp_path / "models")
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--models-dir", str(folder),
                               "--store", str(tmp_path / "s.sqlite"), "--workers", "2", "--threads", "2"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as reply:
                    page, headers = reply.read(), reply.headers
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the dashboard did not start")
        assert headers["Server"] == "gunicorn" and headers["X-Frame-Options"] == "DENY"
        assert b"_dash-config" in page
        request = urllib.request.Request(base + "/_dash-component-suites/plotly/package_data/plotly.min.js",
                                         headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.headers["Content-Encoding"] == "gzip" and int(reply.headers["Content-Length"]) < 2_000_000
        # every worker answers the one update path
        body = json.dumps({"view": {"model": "city.mdl", "levers": {"Growth": 0.04}}}).encode()
        for _ in range(4):
            view = urllib.request.Request(base + "/_gscsd/view", data=body,
                                          headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(view, timeout=30) as reply:
                assert json.loads(reply.read())["query"] == "?model=city.mdl&growth=0.04"
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) == 2
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output[-2000:]
    assert f"gscsd dashboard on http://127.0.0.1:{port}/ (2 workers x 2 threads" in output
