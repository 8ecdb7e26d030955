"""Dashboard throughput under load: requests/s and latency at 1, 10 and 50 clients.

Usage: ``.venv/bin/python bench/bench_load.py [--model-dir models] [--seconds 8] [--clients 1,10,50]``
Writes the table to docs/performance.md (``--no-write``: print only).

The dashboard is started as ``make run`` starts it (``python app.py``: gunicorn, 2 workers x 4
threads) on a free port of 127.0.0.1. Clients are threads of this process, each with its own
keep-alive connection, sending one request after the other for ``--seconds``:

* **move** -- what a slider move sends (``POST _gscsd/view`` with the charts' revision): the
  server runs the new scenario and answers the 'Current' lines, the cards and the URL;
* **charts** -- a request for whole charts (no revision: page load, another chart set, an
  overlay): the server runs the scenario and builds every figure. This replaces the Dash chart
  callback that issue 15 measured at 5-7 requests/s.

Every request moves a lever to another value of its slider grid, taken at random, so most runs
are new (each worker keeps 64 results). The clients share the machine's 2 cores with the server:
the figures are what one machine does for both, a lower bound for a separate server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from perfdoc import machine, stamp, update_section  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(models: Path, store: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--models-dir", str(models),
                               "--store", str(store)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the dashboard did not start")


def post(connection: http.client.HTTPConnection, body: dict) -> dict:
    connection.request("POST", "/_gscsd/view", json.dumps(body), {"Content-Type": "application/json"})
    reply = connection.getresponse()
    data = reply.read()
    if reply.status != 200:
        raise RuntimeError(f"HTTP {reply.status}: {data[:200]!r}")
    return json.loads(data)


def run_level(port: int, kind: str, clients: int, seconds: float, first: dict, lever: dict) -> dict:
    """Requests/s and latencies of ``clients`` clients sending ``kind`` requests for ``seconds``."""
    values = [lever["min"] + i * lever["step"] for i in range(int((lever["max"] - lever["min"]) / lever["step"]) + 1)]
    latencies: list[float] = []
    errors: list[str] = []
    guard = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        view = dict(first["view"])
        have = {"revision": first["charts"]["revision"], "ranges": first["charts"]["ranges"]} if kind == "move" \
            else None
        try:
            while time.perf_counter() < stop:
                body = {"model": first["model"]["file"],
                        "view": {**view, "levers": {**view["levers"], lever["name"]: rng.choice(values)}}}
                if have:
                    body["have"] = have
                started = time.perf_counter()
                answer = post(connection, body)
                took = time.perf_counter() - started
                assert ("lines" if kind == "move" else "figures") in answer["charts"]
                with guard:
                    latencies.append(took)
        except Exception as exc:  # reported in the table, not hidden
            with guard:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))] * 1000 if ordered else float("nan")

    return {"kind": kind, "clients": clients, "requests": len(latencies), "rate": len(latencies) / elapsed,
            "p50": statistics.median(latencies) * 1000 if latencies else float("nan"), "p99": pct(0.99),
            "errors": len(errors), "first_error": errors[0] if errors else ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", default="models")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each load level")
    parser.add_argument("--clients", default="1,10,50", help="comma-separated numbers of clients")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        server, port = start(Path(args.models_dir).resolve(), Path(scratch) / "s.sqlite")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            first = post(connection, {"query": ""})
            connection.close()
            model = first["model"]["file"]
            init = json.loads(subprocess.run(
                [sys.executable, "-c", "import json, sys; from gscsd import load_model; m = load_model(sys.argv[1]);"
                 "l = max(m.levers, key=lambda l: (l.max - l.min) / l.step);"
                 "print(json.dumps({'name': l.name, 'min': l.min, 'max': l.max, 'step': l.step}))",
                 str(Path(args.models_dir) / model)], capture_output=True, text=True, cwd=ROOT, check=True).stdout)
            for kind in ("move", "charts"):
                run_level(port, kind, 2, 2.0, first, init)  # warm both workers
                for clients in levels:
                    row = run_level(port, kind, clients, args.seconds, first, init)
                    rows.append(row)
                    print(f"{kind:6} {clients:3} clients: {row['rate']:6.1f} req/s, p50 {row['p50']:6.1f} ms, "
                          f"p99 {row['p99']:7.1f} ms, {row['requests']} requests, {row['errors']} errors "
                          f"{row['first_error']}", flush=True)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
    table = "\n".join(f"| {r['kind']} | {r['clients']} | {r['rate']:.0f} | {r['p50']:.0f} | {r['p99']:.0f} | "
                      f"{r['requests']} | {r['errors']} |" for r in rows)
    markdown = f"""
## Dashboard under load (`bench/bench_load.py`)

`.venv/bin/python bench/bench_load.py` ({stamp()}, {machine()}); load average {load:.1f} when it started.
The dashboard as `make run` serves it (gunicorn, 2 workers x 4 threads) on 127.0.0.1, model `{model}`;
clients are threads of the benchmark on the same 2 cores, each with a keep-alive connection, for
{args.seconds:g} s per level. Each request moves the lever `{init['name']}` to a random value of its
grid, so most runs are new. **move**: a slider move (the 'Current' lines, cards, URL); **charts**: whole
charts (page load, another chart set or overlay), which replaced the Dash chart callback that served 5-7
requests/s. Target (issue 15): whole charts at >= 50 requests/s with 10 clients.

| request | clients | requests/s | p50 (ms) | p99 (ms) | requests | errors |
|---|---|---|---|---|---|---|
{table}
"""
    print(markdown)
    if not args.no_write:
        update_section("load", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
