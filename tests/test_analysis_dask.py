"""The same seed gives the same numbers locally and on a Dask cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd.analysis import (
    DaskExecutor,
    LocalExecutor,
    calibrate,
    get_executor,
    optimize,
    parse_output,
    problem_from_model,
    sensitivity,
    uncertainty,
)
from gscsd.analysis import executor as executor_module
from gscsd.errors import InputError

from .conftest import write_mdl
from .test_analysis_library import CONTROL, LOGISTIC

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def logistic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logistic-dask")
    return gscsd.load_model(write_mdl(folder, "logistic.mdl", LOGISTIC, CONTROL))


@pytest.fixture(scope="module")
def local_client():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                       dashboard_address=":0")  # a free port, never a clash with 8787
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def test_local_cluster_matches_local_runs(logistic, local_client):
    problem = problem_from_model(logistic, ["Rate", "Capacity=triangular"])
    dask = DaskExecutor(client=local_client, chunk_size=5)
    local = uncertainty.run(logistic, problem, 12, seed=0, variables=["Population"])
    remote_progress = []
    remote = uncertainty.run(logistic, problem, 12, seed=0, variables=["Population"], executor=dask,
                             progress=lambda done, total: remote_progress.append(done))
    pd.testing.assert_frame_equal(local.bands, remote.bands)
    assert remote_progress[0] == 0 and remote_progress[-1] == 12 and len(remote_progress) == 4  # 3 chunks

    output = parse_output(logistic, "Population@10")
    a = sensitivity.sobol(logistic, problem, output, n=8, seed=2, n_resamples=50)
    b = sensitivity.sobol(logistic, problem, output, n=8, seed=2, n_resamples=50, executor=dask)
    pd.testing.assert_frame_equal(a.table, b.table)

    a = optimize.optimize(logistic, problem, output, seed=1, popsize=4, maxiter=2, polish=False)
    b = optimize.optimize(logistic, problem, output, seed=1, popsize=4, maxiter=2, polish=False, executor=dask)
    assert a.values == b.values and a.objective == b.objective

    clean = gscsd.run(logistic, gscsd.Scenario("truth", {"Rate": 0.45}))["Population"]
    data = pd.DataFrame({"Population": clean.loc[[0.0, 4.0, 8.0, 12.0, 16.0]].to_numpy() + [0.3, -0.2, 0.4, 0, -0.1]},
                        index=pd.Index([0.0, 4.0, 8.0, 12.0, 16.0], name="time"))
    a = calibrate.calibrate(logistic, ["Rate"], data)
    b = calibrate.calibrate(logistic, ["Rate"], data, executor=dask)
    pd.testing.assert_frame_equal(a.estimates, b.estimates)


def test_a_worker_with_another_model_file_refuses(logistic, local_client, tmp_path):
    from gscsd.analysis.executor import model_task

    task = model_task(logistic, problem_from_model(logistic, ["Rate"]))
    other = type(task)(**{**task.__dict__, "model_hash": "0" * 16})
    future = local_client.submit(other, np.array([[0.3]]), pure=False)
    with pytest.raises(gscsd.ModelError, match=r"differs from the client's copy"):
        future.result()


def test_unreachable_scheduler_is_a_clear_input_error(logistic, monkeypatch):
    # Dask retries a refused connection until the timeout: 1 s instead of the CLI's 5 s gives the same error.
    monkeypatch.setattr(executor_module, "CONNECT_TIMEOUT", "1s")
    executor = get_executor("tcp://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        uncertainty.run(logistic, problem_from_model(logistic, ["Rate"]), 2, seed=0, executor=executor)


def test_executor_selection(monkeypatch):
    monkeypatch.delenv("GSCSD_SCHEDULER", raising=False)
    assert isinstance(get_executor(), LocalExecutor)
    assert get_executor(workers=3).workers == 3
    monkeypatch.setenv("GSCSD_SCHEDULER", "tcp://127.0.0.1:8786")
    executor = get_executor()
    assert isinstance(executor, DaskExecutor) and executor.address == "tcp://127.0.0.1:8786"


def _dask(*args: str) -> list[str]:
    return [sys.executable, "-m", "distributed.cli." + args[0], *args[1:]]


def test_scheduler_and_worker_processes_give_the_same_numbers(logistic, tmp_path):
    """Start `dask scheduler` and `dask worker` on 127.0.0.1, run through the CLI, stop them."""
    from gscsd.cli import main

    scheduler_file = tmp_path / "scheduler.json"
    env = dict(os.environ)  # the worker shares the test session's translation cache
    logs = [open(tmp_path / f"{name}.log", "w") for name in ("scheduler", "worker")]
    scheduler = subprocess.Popen(
        _dask("dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(scheduler_file)),
        env=env, stdout=logs[0], stderr=subprocess.STDOUT)
    processes = [scheduler]
    try:
        deadline = time.monotonic() + 60
        address = None
        while address is None and time.monotonic() < deadline:
            try:  # the scheduler creates the file, then writes it: wait for a whole one
                address = json.loads(scheduler_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        assert address, "the dask scheduler did not write its address"
        assert address.startswith("tcp://127.0.0.1:")
        processes.append(subprocess.Popen(
            _dask("dask_worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                  "--host", "127.0.0.1"),
            env=env, stdout=logs[1], stderr=subprocess.STDOUT))
        with distributed.Client(address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(1, timeout=60)

        args = [str(logistic.path), "--vary", "Rate", "--vary", "Capacity", "--samples", "10", "--seed", "0",
                "--output", "Population", "--chunk-size", "4"]
        assert main(["uncertainty", *args, "--out", str(tmp_path / "local.csv")]) == 0
        assert main(["uncertainty", *args, "--scheduler", address, "--out", str(tmp_path / "dask.csv")]) == 0
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "local.csv"), pd.read_csv(tmp_path / "dask.csv"))
    finally:
        for process in reversed(processes):  # SIGTERM: a suite run in the background ignores SIGINT
            process.send_signal(signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()
    assert all(p.poll() is not None for p in processes)


def test_scheduler_local_starts_and_stops_a_cluster_for_the_command(logistic, tmp_path):
    from gscsd.cli import main

    args = ["sensitivity", str(logistic.path), "--output", "Population@10", "--method", "sobol", "--samples", "8"]
    assert main([*args, "--out", str(tmp_path / "here.csv")]) == 0
    assert main([*args, "--scheduler", "local:1", "--out", str(tmp_path / "cluster.csv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "here.csv"), pd.read_csv(tmp_path / "cluster.csv"))
