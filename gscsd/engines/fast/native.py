"""Loading the compiled back-end of a model, and compiling it out of the way.

The compiled module (:mod:`.emit_numba`) is a file in the model's translation
cache entry; numba keeps its machine code beside it (``__pycache__``,
``cache=True``), so a model compiles once per machine, not once per process.
Compiling takes seconds (about 15 s for ``models/gsc.mdl`` on this project's
machine), so by default it happens in a separate process while runs use the
Python flavours, which give the same numbers; once that process has written
its mark, runs switch to the compiled code.

``GSCSD_NUMBA`` chooses:

* ``background`` (default): as above, from the second run of a model in a
  process (a one-shot command, which runs once, compiles nothing); the
  compiling process is this process's child and ends with it (when it exits,
  or within a second of it being killed), and after :data:`COMPILE_SECONDS`
  in any case;
* ``wait``: compile in the calling process on first use (benchmarks, tests of
  the compiled back-end);
* ``0``: never use the compiled back-end.

Without numba installed the engine keeps to the Python flavours.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.util
import os
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODES = ("background", "wait", "0")
#: The longest a background compile may take (gsc.mdl takes about 15 s, World3-03 about 20 s, on 2 busy cores).
COMPILE_SECONDS = 600
_started: dict[str, subprocess.Popen] = {}
_lock = threading.Lock()


def mode() -> str:
    """The ``GSCSD_NUMBA`` mode, ``"0"`` when numba is not installed (read on every call: tests change it)."""
    return _mode(os.environ.get("GSCSD_NUMBA"))


@functools.lru_cache(maxsize=16)
def _mode(text: str | None) -> str:
    chosen = (text or "background").strip().lower() or "background"
    if chosen in ("1", "true", "yes"):
        chosen = "background"
    if chosen not in MODES or chosen == "0":
        return "0"
    return chosen if _numba_installed() else "0"


@functools.lru_cache(maxsize=1)
def _numba_installed() -> bool:
    return importlib.util.find_spec("numba") is not None


@dataclass
class Native:
    """The compiled back-end of one model.

    Attributes
    ----------
    path : Path
        The generated module in the translation cache.
    slots : dict
        Lever PySD name -> position in the lever vector ``P``.
    delays : list of str
        Results column of each checked DELAY/SMOOTH order (status code - 1).
    columns : int
        Number of results columns.
    broken : str or None
        Why numba could not compile it (then the Python flavours run).
    lanes_reason : str or None
        Why batches do not use the lanes back-end (:mod:`.lanes`), once known.
    """

    path: Path
    slots: dict[str, int]
    delays: list[str]
    columns: int
    broken: str | None = None
    lanes_reason: str | None = None
    _module: Any = field(default=None, repr=False)
    _lanes: Any = field(default=None, repr=False)
    _asked: int = field(default=0, repr=False)
    _ready: set = field(default_factory=set, repr=False)

    def module(self) -> Any:
        """The imported module (its functions compile, or load numba's cache, on first call)."""
        if self._module is None:
            from .emit_numba import NUMBA_VERSION

            module = _import(self.path)
            if getattr(module, "VERSION", None) != NUMBA_VERSION:  # written by another gscsd: never call it
                raise ImportError(f"{self.path.name} has calling convention {getattr(module, 'VERSION', None)}, "
                                  f"not {NUMBA_VERSION}")
            self._module = module
        return self._module

    def lanes(self) -> Any:
        """The lanes back-end for batches (:class:`.lanes.Lanes`), or ``None`` when it is not built (yet).

        In ``wait`` mode it is built here on first use; in ``background`` mode by the compiling process,
        after numba's functions.
        """
        from . import lanes

        if self._lanes is not None or self.lanes_reason is not None or not lanes.enabled():
            return self._lanes if lanes.enabled() else None
        chosen = mode()
        if chosen == "background":
            failed, done = _mark(self.path, lanes.MARK + "-failed"), _mark(self.path, lanes.MARK)
            if failed.is_file():
                self.lanes_reason = failed.read_text(encoding="utf-8", errors="replace")[:500]
            if not done.is_file():
                return None
            built = Path(done.read_text(encoding="utf-8"))  # the library the compiling process built
            if built.parent != self.path.parent or not built.is_file():
                return None
        elif chosen == "wait":
            built = lanes.build(self.path)
        else:
            return None
        if isinstance(built, str):
            self.lanes_reason = built
            return None
        self._lanes = lanes.Lanes(built)
        return self._lanes

    def usable(self, kind: str) -> bool:
        """Whether ``run`` (``kind="run"``), ``run_batch`` (``"batch"``), ``run_rk4`` (``"rk4"``) or
        ``run_rk4_batch`` (``"rk4batch"``) may be called now.

        The RK4 functions compile apart (in ``background`` mode another compiling process, started when RK4 is
        asked for as the Euler functions are), so that models run with Euler never wait for them.
        """
        if self.broken is not None:
            return False
        chosen = mode()
        if chosen == "wait":
            return True
        if chosen != "background":
            return False
        if kind in self._ready:
            return True
        if _mark(self.path, kind).is_file():
            self._ready.add(kind)  # marks are never taken back: no file check on later runs
            return True
        group = "rk4" if kind.startswith("rk4") else "run"
        failed = _mark(self.path, "rk4-failed" if group == "rk4" else "failed")
        if failed.is_file():
            if group == "run":
                self.broken = failed.read_text(encoding="utf-8", errors="replace")[:500]
            return False
        # A process that runs a model once (a one-shot command) would only start a compile it cannot use;
        # a batch, or a second run, says the process goes on (a dashboard, an analysis).
        self._asked += 1
        if kind.endswith("batch") or self._asked >= 2:
            _compile_elsewhere(self, group)
        return False


def load(entry_dir: Path, generator: int, spec: dict) -> Native | None:
    """Write the compiled module of a cache entry (if not there yet); ``None`` when there is none to use."""
    if not spec.get("source") or mode() == "0":
        return None
    source = spec["source"]
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = entry_dir / f"fast_native_g{generator}_{digest}.py"
    if not path.is_file():
        scratch = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        scratch.write_text(source, encoding="utf-8")
        os.replace(scratch, path)
    return Native(path, {lever: k for k, lever in enumerate(spec["levers"])}, list(spec["delays"]),
                  int(spec["columns"]))


def _import(path: Path) -> Any:
    name = "gscsd_native_" + path.stem.rsplit("_", 1)[-1]
    with _lock:
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[name] = module
    return module


def _mark(path: Path, kind: str) -> Path:
    return path.with_name(f".{path.stem}.{kind}")


def _compile_elsewhere(native: Native, group: str = "run") -> None:
    """Start (once per process) a child process that compiles ``native``'s ``group`` of functions (Euler's
    ``"run"``, then the lanes library; or ``"rk4"``) into numba's on-disk cache.

    The child ends with this process: it is terminated when this process
    exits, and watches its parent (a parent killed outright leaves it running
    for at most a second); it never runs longer than :data:`COMPILE_SECONDS`.
    """
    key = f"{native.path}:{group}"
    with _lock:
        if key in _started:
            return
        command = [sys.executable, "-m", "gscsd.engines.fast.native", str(native.path), str(len(native.slots)),
                   str(native.columns), str(os.getpid()), group]
        env = {**os.environ, "GSCSD_NUMBA": "wait"}
        if not _started:
            atexit.register(_stop_children)
        _started[key] = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, env=env)


def _stop_children() -> None:
    """Terminate the compiles still running when this process exits (numba's cache stays consistent:
    it writes each entry to a temporary file and renames it)."""
    for child in list(_started.values()):
        if child.poll() is None:
            child.terminate()
    for child in list(_started.values()):
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()


def _watch(parent: int, seconds: float) -> None:
    """End this (compiling) process when ``parent`` is gone or after ``seconds``."""
    import time

    deadline = time.monotonic() + seconds

    def watch() -> None:
        while True:
            if os.getppid() != parent or time.monotonic() > deadline:
                os._exit(3)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="gscsd-compile-watch").start()


def warm(path: Path, levers: int, columns: int, group: str = "run") -> None:
    """Compile the single-run and batch functions of the module at ``path`` (numba caches them on disk): Euler's
    (``group="run"``), then its lanes library (:mod:`.lanes`), or RK4's (``"rk4"``); a mark after each."""
    import numpy as np

    one, batch, marks = (("run_rk4_one", "run_rk4_batch", ("rk4", "rk4batch")) if group == "rk4"
                         else ("run_one", "run_batch", ("run", "batch")))
    try:
        module = _import(path)
        times = np.array([0.0, 1.0])
        save = np.array([True, True])
        select = np.arange(columns, dtype=np.int64)
        if group == "rk4" and not module.RK4:
            raise TypeError("the model has discrete state: no RK4 functions")
        getattr(module, one)(np.full(levers, np.nan), times, save, 0.0, 1.0, 1.0, 1.0, np.empty((columns, 1, 2)),
                             select, np.zeros(2, dtype=np.int64))
        _mark(path, marks[0]).write_text("ok", encoding="utf-8")
        getattr(module, batch)(np.full((2, levers), np.nan), times, save, 0.0, 1.0, 1.0, 1.0,
                               np.empty((columns, 2, 2)), select, np.zeros((2, 2), dtype=np.int64))
        _mark(path, marks[1]).write_text("ok", encoding="utf-8")
    except Exception as exc:  # recorded for the engine, which then keeps to Python
        _mark(path, "rk4-failed" if group == "rk4" else "failed").write_text(f"{type(exc).__name__}: {exc}",
                                                                            encoding="utf-8")
        return
    if group == "rk4":
        return
    from . import lanes

    if lanes.enabled():
        built = lanes.build(path)
        _mark(path, lanes.MARK + "-failed" if isinstance(built, str) else lanes.MARK).write_text(str(built),
                                                                                             encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - run by _compile_elsewhere
    if len(sys.argv) > 4:
        _watch(int(sys.argv[4]), COMPILE_SECONDS)
    warm(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[5] if len(sys.argv) > 5 else "run")
