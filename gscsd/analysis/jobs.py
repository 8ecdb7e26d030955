"""Background analysis jobs for the dashboard, shared by every server process.

The dashboard must never block its sliders on an analysis, so an analysis
runs in a background thread of the server process that received the Run
click (:meth:`JobRunner.start` returns a job id kept in the browser). The
job's state (progress, the final message, the pickled result, a cancel
request) lives in a SQLite file, so that a page served by several worker
processes (``gunicorn -w 4``) can poll, cancel and draw a job from any of
them. A Cancel click sets a flag in the file; the process running the job
sees it within half a second and sets the job's cancel event, which every
executor honours at the next chunk boundary. A job whose process died is
reported as failed instead of running forever.

Runs happen where :func:`~gscsd.analysis.executor.get_executor` says: on the
Dask cluster named by ``$GSCSD_SCHEDULER``, otherwise in the job's thread.
"""

from __future__ import annotations

import os
import pickle
import socket
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GscsdError, InputError
from ..transactions import transaction
from .executor import Cancelled

#: A job body: ``body(progress, cancel) -> result``.
Body = Callable[[Callable[[int, int], None], threading.Event], Any]
#: Largest pickled result kept (bytes); a bigger one fails the job with a clear message.
MAX_RESULT = 64 * 2**20
#: How often a running job writes its progress and looks for a cancel request (seconds).
TICK = 0.5
_HOST = socket.gethostname()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    status TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    result BLOB,
    cancel INTEGER NOT NULL DEFAULT 0,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    finished REAL
)
"""


@dataclass
class Job:
    """One background analysis as a poll sees it.

    Attributes
    ----------
    id : str
        Random id, handed to the browser.
    label : str
        What runs, for status lines.
    status : {"running", "done", "failed", "cancelled"}
    done, total : int
        Runs finished and expected (total may grow for optimizations).
    error : str
        One-line message when failed.
    """

    id: str
    label: str
    status: str = "running"
    done: int = 0
    total: int = 0
    error: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    _result: Any = field(default=None, repr=False)
    _runner: JobRunner | None = field(default=None, repr=False)

    @property
    def result(self) -> Any:
        """The body's return value once ``status == "done"`` (read from the job file on first use)."""
        if self._result is None and self.status == "done" and self._runner is not None:
            self._result = self._runner._result(self.id)
        return self._result

    @property
    def elapsed(self) -> float:
        """Seconds since start (until the end once finished)."""
        return (self.finished or time.time()) - self.started

    def snapshot(self) -> dict[str, Any]:
        """Status, counts and a one-line message."""
        if self.status == "running":
            message = f"{self.label}: {self.done}/{self.total or '?'} runs, {self.elapsed:.0f} s"
        elif self.status == "done":
            message = f"{self.label}: done, {self.done} runs in {self.elapsed:.1f} s"
        elif self.status == "cancelled":
            message = f"{self.label}: cancelled after {self.done} runs"
        else:
            message = f"{self.label} failed: {self.error}"
        return {"status": self.status, "done": self.done, "total": self.total, "message": message}


class JobRunner:
    """Start, find and cancel background jobs; keeps the last ``keep`` finished ones.

    Parameters
    ----------
    path : str or Path, optional
        The SQLite file of job states, shared by the server's processes
        (default: a file of this process's own in the temporary directory,
        which suits a single process).
    max_running : int
        Jobs allowed at once across the processes sharing ``path`` (CPU is
        shared with every dashboard user).
    keep : int
        Finished jobs kept for their results.
    """

    def __init__(self, path: str | Path | None = None, max_running: int = 2, keep: int = 32) -> None:
        if path is None:
            path = Path(tempfile.gettempdir()) / f"gscsd-jobs-{os.getpid()}-{uuid.uuid4().hex[:8]}.sqlite"
        self.path = Path(path)
        self.max_running = max_running
        self.keep = keep
        self._events: dict[str, threading.Event] = {}  # jobs this process runs
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
        with self._db() as db:
            db.execute(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with transaction(self.path) as db:
            yield db

    def start(self, label: str, body: Body) -> Job:
        """Run ``body(progress, cancel)`` in a daemon thread; InputError if too many run."""
        job = Job(uuid.uuid4().hex, label, _runner=self)
        with self._db() as db:
            self._reap(db)
            running = db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'running'").fetchone()[0]
            if running >= self.max_running:
                raise InputError(f"{running} analyses are already running; wait for one or cancel it")
            db.execute("INSERT INTO jobs (id, label, status, host, pid, started) VALUES (?, ?, 'running', ?, ?, ?)",
                       (job.id, label, _HOST, os.getpid(), job.started))
            finished = [row[0] for row in db.execute(
                "SELECT id FROM jobs WHERE status != 'running' ORDER BY started DESC LIMIT -1 OFFSET ?",
                (self.keep,))]
            db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in finished])
        cancel = threading.Event()
        with self._lock:
            self._events[job.id] = cancel
        threading.Thread(target=self._run, args=(job, body, cancel), name=f"gscsd-job-{job.id[:8]}",
                         daemon=True).start()
        return job

    def _run(self, job: Job, body: Body, cancel: threading.Event) -> None:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] < TICK and done < total:
                return
            last[0] = now
            with self._db() as db:
                db.execute("UPDATE jobs SET done = ?, total = ? WHERE id = ?", (int(done), int(total), job.id))
                if db.execute("SELECT cancel FROM jobs WHERE id = ?", (job.id,)).fetchone()[0]:
                    cancel.set()

        watcher = threading.Thread(target=self._watch, args=(job.id, cancel), daemon=True)
        watcher.start()
        status, error, blob = "done", "", None
        try:
            result = body(progress, cancel)
            blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            if len(blob) > MAX_RESULT:
                size = len(blob)
                status, blob = "failed", None
                error = (f"the result is {size / 2**20:.0f} MB, more than the {MAX_RESULT // 2**20} MB kept; "
                         "ask for fewer runs or outputs")
        except Cancelled:
            status = "cancelled"
        except GscsdError as exc:
            status, error = "failed", str(exc)
        except Exception as exc:  # a bug of ours: report it on the page instead of losing the thread silently
            status, error = "failed", f"internal error: {type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._events.pop(job.id, None)
            cancel.set()  # stops the watcher
            with self._db() as db:
                db.execute("UPDATE jobs SET status = ?, error = ?, result = ?, finished = ? WHERE id = ?",
                           (status, error, blob, time.time(), job.id))

    def _watch(self, job_id: str, cancel: threading.Event) -> None:
        """Turn a cancel request written by any process into the job's cancel event."""
        while not cancel.wait(TICK):
            try:
                with closing(sqlite3.connect(self.path, timeout=10)) as db:
                    row = db.execute("SELECT cancel FROM jobs WHERE id = ?", (job_id,)).fetchone()
            except sqlite3.Error:
                continue
            if row is None or row[0]:
                cancel.set()

    def _reap(self, db: sqlite3.Connection) -> None:
        """Mark jobs of processes on this host that died as failed."""
        for job_id, pid in db.execute("SELECT id, pid FROM jobs WHERE status = 'running' AND host = ?",
                                      (_HOST,)).fetchall():
            if pid != os.getpid() and not _alive(pid):
                db.execute("UPDATE jobs SET status = 'failed', error = ?, finished = ? WHERE id = ?",
                           ("the server process running it stopped; run it again", time.time(), job_id))

    def get(self, job_id: str | None) -> Job | None:
        """The job with this id, or ``None`` (unknown or forgotten)."""
        if not isinstance(job_id, str) or len(job_id) != 32:
            return None
        with self._db() as db:
            self._reap(db)
            row = db.execute("SELECT id, label, status, done, total, error, started, finished FROM jobs "
                             "WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return None
        return Job(row[0], row[1], row[2], int(row[3]), int(row[4]), row[5], float(row[6]),
                   None if row[7] is None else float(row[7]), _runner=self)

    def _result(self, job_id: str) -> Any:
        with self._db() as db:
            row = db.execute("SELECT result FROM jobs WHERE id = ?", (job_id,)).fetchone()
        # Our own file, written by our own processes: trusted like the rest of the server's state.
        return None if row is None or row[0] is None else pickle.loads(row[0])

    def cancel(self, job_id: str | None) -> bool:
        """Ask a running job to stop at the next chunk; True if it was running."""
        job = self.get(job_id)
        if job is None or job.status != "running":
            return False
        with self._db() as db:
            db.execute("UPDATE jobs SET cancel = 1 WHERE id = ?", (job.id,))
        with self._lock:
            event = self._events.get(job.id)
        if event is not None:
            event.set()
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
