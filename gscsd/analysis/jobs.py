"""Background analysis jobs for the dashboard: a thread per job, polled for progress.

The dashboard must never block its sliders on an analysis, so an analysis
runs in a background thread of the server process: a callback starts it
(:meth:`JobRunner.start` returns a job id kept in the browser), a
``dcc.Interval`` polls :meth:`Job.snapshot` for progress and, once done,
draws :attr:`Job.result`; a Cancel button sets the job's cancel event, which
every executor honours at the next chunk boundary.

Runs happen where :func:`~gscsd.analysis.executor.get_executor` says: on the
Dask cluster named by ``$GSCSD_SCHEDULER``, otherwise in the job's thread.
Jobs live in the process that started them: serve the dashboard from one
process (``gunicorn --workers 1 --threads 8 app:server``) or point
``$GSCSD_SCHEDULER`` at a cluster so the server only coordinates.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import GscsdError, InputError
from .executor import Cancelled

#: A job body: ``body(progress, cancel) -> result``.
Body = Callable[[Callable[[int, int], None], threading.Event], Any]


@dataclass
class Job:
    """One background analysis and its state (read by polling callbacks).

    Attributes
    ----------
    id : str
        Random id, handed to the browser.
    label : str
        What runs, for status lines.
    status : {"running", "done", "failed", "cancelled"}
    done, total : int
        Runs finished and expected (total may grow for optimizations).
    result : Any
        The body's return value once ``status == "done"``.
    error : str
        One-line message when failed.
    """

    id: str
    label: str
    cancel: threading.Event = field(default_factory=threading.Event)
    status: str = "running"
    done: int = 0
    total: int = 0
    result: Any = None
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def elapsed(self) -> float:
        """Seconds since start (until the end once finished)."""
        return (self.finished or time.monotonic()) - self.started

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
    max_running : int
        Jobs allowed at once (CPU is shared with every dashboard user).
    keep : int
        Finished jobs kept for their results.
    """

    def __init__(self, max_running: int = 2, keep: int = 32) -> None:
        self.max_running = max_running
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, label: str, body: Body) -> Job:
        """Run ``body(progress, cancel)`` in a daemon thread; InputError if too many run."""
        with self._lock:
            running = sum(job.status == "running" for job in self._jobs.values())
            if running >= self.max_running:
                raise InputError(f"{running} analyses are already running; wait for one or cancel it")
            job = Job(uuid.uuid4().hex, label)
            self._jobs[job.id] = job
            finished = [k for k, j in self._jobs.items() if j.status != "running"]
            for key in finished[: max(0, len(finished) - self.keep)]:
                del self._jobs[key]
        threading.Thread(target=self._run, args=(job, body), name=f"gscsd-job-{job.id[:8]}", daemon=True).start()
        return job

    def _run(self, job: Job, body: Body) -> None:
        try:
            job.result = body(job.progress, job.cancel)
            job.status = "done"
        except Cancelled:
            job.status = "cancelled"
        except GscsdError as exc:
            job.error, job.status = str(exc), "failed"
        except Exception as exc:  # a bug of ours: report it on the page instead of losing the thread silently
            job.error, job.status = f"internal error: {type(exc).__name__}: {exc}", "failed"
        finally:
            job.finished = time.monotonic()

    def get(self, job_id: str | None) -> Job | None:
        """The job with this id, or ``None`` (unknown or forgotten)."""
        if not job_id:
            return None
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str | None) -> bool:
        """Ask a running job to stop at the next chunk; True if it was running."""
        job = self.get(job_id)
        if job is None or job.status != "running":
            return False
        job.cancel.set()
        return True


#: The dashboard's job runner (one per server process).
RUNNER = JobRunner()
