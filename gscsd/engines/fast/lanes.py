"""Building and calling the lanes back-end (:mod:`.emit_c`): batches in C, several scenarios side by side.

The C source is written from the compiled module (:mod:`.emit_numba`) and
built with the system's C compiler into a shared library beside that module
in the translation cache, named by a digest of the source, the compiler and
its flags (``-march=native``: the library is for this machine's processor).
Building takes 13-19 s for ``models/gsc.mdl``; :mod:`.native` does it in
its compiling process after numba's functions, or in the calling process in
``GSCSD_NUMBA=wait`` mode. A batch runs in one thread per processor core
(the library's function releases no lock: ctypes lets go of the GIL).

``GSCSD_LANES=0`` keeps batches on numba's ``run_batch``. Without a C
compiler, or for a model :func:`.emit_c.emit` does not write, batches keep to
numba too; the reason is kept in :attr:`.native.Native.lanes_reason`.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import sysconfig
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .emit_c import C_VERSION, LANES, emit

#: The mark the compiling process leaves beside the compiled module (its text: the library's path), per version
#: of the written C, so that a library written by an older gscsd is not used.
MARK = f"lanes{C_VERSION}"
#: The longest the C compiler may take (gsc.mdl: about 13 s on this project's machine).
BUILD_SECONDS = 600
#: Flags every build uses. -ffp-contract=off: no fused multiply-add, so that a product and a sum round as in
#: the compiled module; -fno-math-errno lets sqrt be an instruction (it sets no errno here either way).
_FLAGS = ["-O2", "-ffp-contract=off", "-fno-math-errno", "-fPIC", "-shared"]
#: Tried in order; the first that builds a test program is kept.
_VARIANTS = (
    (["-march=native", "-mprefer-vector-width=512", "-fopenmp-simd", "-DGSCSD_VECTOR_POW"], ["-lmvec", "-lm"]),
    (["-march=native", "-fopenmp-simd"], ["-lm"]),
    ([], ["-lm"]),
)
_lock = threading.Lock()
_I64 = ctypes.c_int64
_DOUBLE_P = ctypes.POINTER(ctypes.c_double)
_I64_P = ctypes.POINTER(ctypes.c_int64)
_BYTE_P = ctypes.POINTER(ctypes.c_ubyte)
_HEAD = [_DOUBLE_P, _I64, _I64, _DOUBLE_P, _BYTE_P, _I64, ctypes.c_double, ctypes.c_double, ctypes.c_double,
         ctypes.c_double]
_RUN = [*_HEAD, _DOUBLE_P, _I64, _I64_P, _I64, _I64_P, _I64_P, _I64_P, _DOUBLE_P, _DOUBLE_P, _DOUBLE_P, _I64, _I64]
_DIVERGE = [*_HEAD, _I64_P, _DOUBLE_P, _DOUBLE_P, _I64_P, _I64, _I64]
#: Batches this large look for a shared start (the search runs up to REFERENCES references and checks SAMPLE
#: scenarios against each: on smaller batches it would cost more than it saves).
SHARE_FROM = 256
#: Reference runs tried at most: the .mdl's own values, then scenarios of the batch.
REFERENCES = 4
#: Scenarios of the batch the references are tried on.
SAMPLE = 128
#: The least share of the sample's steps a reference must share to be used.
WORTH = 0.05
#: The largest record of a reference run (steps x values kept a step x 8 bytes) a batch may keep.
RECORD_BYTES = 64 * 2**20
#: Pieces of a batch per thread, taken in turn (fewer pieces leave a thread idle when the other one runs on a
#: busier core; each piece costs one call).
PIECES = 8


def enabled() -> bool:
    """Whether batches may use the lanes back-end (``GSCSD_LANES``, read on every call: tests change it)."""
    return os.environ.get("GSCSD_LANES", "1").strip().lower() not in ("0", "false", "no")


class Lanes:
    """The lanes back-end of one model, built and loaded.

    Parameters
    ----------
    library : Path
        The shared library (see :func:`build`).
    """

    def __init__(self, library: Path) -> None:
        self.library = library
        loaded = ctypes.CDLL(str(library))
        self._run = loaded.gscsd_lanes
        self._run.argtypes = _RUN
        self._run.restype = ctypes.c_int
        self._diverge = loaded.gscsd_diverge
        self._diverge.argtypes = _DIVERGE
        self._diverge.restype = ctypes.c_int
        self.width = int(loaded.gscsd_width())
        self.statics = int(loaded.gscsd_statics())
        #: Steps shared with the reference by the last batch (sum over its scenarios), and its step count.
        self.shared = (0, 0)

    def run(self, P: np.ndarray, times: np.ndarray, save: np.ndarray, controls: tuple, out: np.ndarray,
            select: np.ndarray, status: np.ndarray, share: bool = True) -> None:
        """Run every row of ``P`` (scenario, lever slot) into ``out`` (selected column, scenario, saved time).

        ``status`` (scenario, 2) gets what the compiled module's ``run_batch`` writes on a DELAY order other
        than the generated one. The scenarios are split between the processor's cores in whole chunks of
        :data:`~.emit_c.LANES`.

        With ``share`` (batches of at least :data:`SHARE_FROM` scenarios, a record within
        :data:`RECORD_BYTES`), the steps at which a scenario's values are still those of a reference run are
        not computed again: see :meth:`shared_start`. The numbers are the same bits either way.
        """
        P = np.ascontiguousarray(P, dtype=np.float64)
        if not (out.flags.c_contiguous and out.dtype == np.float64 and status.flags.c_contiguous
                and status.dtype == np.int64):
            raise ValueError("out and status must be C-contiguous float64 and int64 arrays")  # pragma: no cover
        call = _Call(P, times, save, controls)
        scenarios = P.shape[0]
        index = start = record = None
        if share and scenarios >= SHARE_FROM and len(call.times) * self.width * 8 <= RECORD_BYTES:
            found = self.shared_start(call)
            if found is not None:
                start, record = found
                index = np.argsort(-start, kind="stable")  # chunks of scenarios that share alike
        select = np.ascontiguousarray(select, dtype=np.int64)
        tail = (out.ctypes.data_as(_DOUBLE_P), out.shape[2], select.ctypes.data_as(_I64_P), select.shape[0],
                status.ctypes.data_as(_I64_P), _pointer(index, _I64_P), _pointer(start, _I64_P),
                _pointer(record, _DOUBLE_P), None, None)
        steps = len(call.times)
        # the steps each chunk computes: from its earliest start (index sorts the starts down)
        work = None if start is None else steps + 1 - np.minimum.reduceat(start[index], np.arange(0, scenarios, LANES))
        self._parallel(self._run, call.head + tail, scenarios, work)
        self.shared = (0, 0) if start is None else (int(start.sum()), scenarios * steps)

    def shared_start(self, call: _Call) -> tuple[np.ndarray, np.ndarray] | None:
        """``(start, record)``: the step at which each scenario first differs from a reference run, and that
        run's values at every step; ``None`` when no reference runs to the end or none shares at least
        :data:`WORTH` of the steps.

        The reference is the ``.mdl``'s own values or one of the batch's scenarios, whichever a sample of the
        batch shares most steps with; after the ``.mdl``'s values, each reference tried is one of the sample's
        scenarios that share the most steps with the best so far. (In gsc.mdl every lever acts from Policy
        Start Year on, so a scenario shares the steps before its own start year with a reference whose policy
        starts later: each try starts later.) A scenario
        equals the reference at a step when every statement reading a value that differs from the
        reference's (a lever, or what derives from it before the steps) gives the reference's bits: the
        check computes only those statements, from the reference's other values.
        """
        scenarios = call.P.shape[0]
        sample = np.unique(np.linspace(0, scenarios - 1, min(scenarios, SAMPLE)).astype(np.int64))
        best = None
        row, tried = np.full(call.P.shape[1], np.nan), set()
        for _ in range(REFERENCES):
            reference = self._reference(call, row)
            if reference is not None:
                start = self._starts(call, *reference, sample)[sample]
                if best is None or start.sum() > best[0]:
                    best = (int(start.sum()), reference, start)
            if best is None:
                break
            # The next reference: one of the scenarios that share the most steps with the best so far (in
            # gsc.mdl, those whose policies start no sooner than its own: each try starts later).
            untried = np.array([int(k) not in tried for k in sample])
            if not untried.any():
                break
            most = best[2][untried].max()
            closest = [int(k) for k, d, u in zip(sample, best[2], untried) if u and d == most]
            tried.add(closest[len(closest) // 2])
            row = call.P[closest[len(closest) // 2]]
        if best is None or best[0] < WORTH * len(sample) * len(call.times):
            return None
        record, statics = best[1]
        return self._starts(call, record, statics, None), record

    def _reference(self, call: _Call, row: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The values of a run of ``row`` at every step, and its statics; ``None`` if it stops early."""
        reference = _Call(row[None, :], call.times, call.save, call.controls)
        record = np.zeros((len(call.times), self.width))
        statics = np.zeros(self.statics)
        status = np.zeros((1, 2), dtype=np.int64)
        out = np.zeros((1, 1, 1))
        self._run(*reference.head, out.ctypes.data_as(_DOUBLE_P), 1, None, 0, status.ctypes.data_as(_I64_P),
                  None, None, None, record.ctypes.data_as(_DOUBLE_P), statics.ctypes.data_as(_DOUBLE_P), 0, 1)
        if status[0, 0] or not np.isfinite(record).all():
            return None
        return record, statics

    def _starts(self, call: _Call, record: np.ndarray, statics: np.ndarray, only) -> np.ndarray:
        """Each scenario's first step that differs from the reference (``steps``: none); of ``only`` or all."""
        start = np.zeros(call.P.shape[0], dtype=np.int64)
        index = None if only is None else np.ascontiguousarray(only, dtype=np.int64)
        count = call.P.shape[0] if index is None else len(index)
        arguments = (*call.head[:10], _pointer(index, _I64_P), record.ctypes.data_as(_DOUBLE_P),
                     statics.ctypes.data_as(_DOUBLE_P), start.ctypes.data_as(_I64_P))
        self._parallel(self._diverge, arguments, count, None)
        return start

    @staticmethod
    def _parallel(function, arguments: tuple, count: int, work) -> None:
        """``function(*arguments, first, last)`` over ``count`` scenarios in whole chunks, one thread a core.

        The chunks are cut into :data:`PIECES` pieces a thread of about as much ``work`` each (a chunk's
        weight; ``None``: alike), which the threads take in turn as they finish: on a machine whose cores
        other processes also use, a thread that gets less of its core takes fewer pieces (halves fixed in
        advance would wait for the slower thread).
        """
        chunks = -(-count // LANES)
        workers = max(1, min(_cores(), chunks))
        if workers == 1:
            function(*arguments, 0, count)
            return
        weights = np.ones(chunks) if work is None else np.asarray(work, dtype=float)
        cumulative = np.cumsum(weights)
        pieces = min(chunks, workers * PIECES)
        cuts = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, pieces) / pieces, side="right")
        bounds = sorted({0, count, *(min(count, LANES * int(c)) for c in cuts)})
        jobs = [_pool(workers).submit(function, *arguments, low, high) for low, high in zip(bounds, bounds[1:])]
        for job in jobs:
            job.result()


class _Call:
    """The arguments every function of the library takes first (scenarios, time grid)."""

    def __init__(self, P: np.ndarray, times: np.ndarray, save: np.ndarray, controls: tuple) -> None:
        self.P = np.ascontiguousarray(P, dtype=np.float64)
        self.times = np.ascontiguousarray(times, dtype=np.float64)
        self.save = np.ascontiguousarray(save, dtype=np.bool_).view(np.uint8)
        self.controls = tuple(map(float, controls))
        self.head = (self.P.ctypes.data_as(_DOUBLE_P), self.P.shape[1], self.P.shape[0],
                     self.times.ctypes.data_as(_DOUBLE_P), self.save.ctypes.data_as(_BYTE_P), self.times.shape[0],
                     *self.controls)


def _pointer(array, kind):
    return None if array is None else array.ctypes.data_as(kind)


@functools.lru_cache(maxsize=4)
def _pool(workers: int) -> ThreadPoolExecutor:
    """Threads kept for the batches of this process (a batch calls the library several times)."""
    return ThreadPoolExecutor(workers, thread_name_prefix="gscsd-lanes")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def library_path(module: Path) -> tuple[Path, str] | tuple[None, str]:
    """Where the library of the compiled module ``module`` goes, and its C source; ``(None, why not)``."""
    source, reason = emit(module.read_text(encoding="utf-8"))
    if source is None:
        return None, f"the lanes back-end does not write {reason}"
    found = compiler()
    if found is None:
        return None, "no C compiler (cc) found"
    command, libraries, identity = found
    digest = hashlib.sha256("\0".join([source, identity, *command, *libraries]).encode()).hexdigest()[:16]
    return module.with_name(f"fast_lanes_c{C_VERSION}_{digest}.so"), source


def build(module: Path) -> Path | str:
    """Build (once: the library is kept in the cache) the lanes library of ``module``; the path, or why not."""
    path, source = library_path(module)
    if path is None:
        return source
    if path.is_file():
        return path
    command, libraries, _identity = compiler()
    with _lock:
        if path.is_file():
            return path
        stem = f".{path.stem}.{uuid.uuid4().hex[:8]}"
        c_file, scratch = path.with_name(stem + ".c"), path.with_name(stem + ".so")
        c_file.write_text(source, encoding="utf-8")
        try:
            done = subprocess.run([*command, *_FLAGS, "-o", str(scratch), str(c_file), *libraries],
                                  capture_output=True, text=True, timeout=BUILD_SECONDS)
            if done.returncode != 0:
                return f"the C compiler failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
            os.replace(scratch, path)
        except subprocess.TimeoutExpired:
            return f"the C compiler took longer than {BUILD_SECONDS} s"
        finally:
            c_file.unlink(missing_ok=True)
            scratch.unlink(missing_ok=True)
    return path


@functools.lru_cache(maxsize=1)
def compiler() -> tuple[list[str], list[str], str] | None:
    """``(compiler and flags, libraries, identity)`` of the first variant that builds here, ``None`` if none.

    The identity (the compiler's version and the processor ``-march=native`` resolves to) keys the library,
    so another compiler or machine sharing the cache builds its own.
    """
    cc = os.environ.get("CC") or (sysconfig.get_config_var("CC") or "cc").split()[0]
    cc = shutil.which(cc) or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    probe = ("#include <math.h>\n#ifdef GSCSD_VECTOR_POW\n#pragma omp declare simd notinbranch\n"
             "double pow(double, double);\n#endif\n"
             "int probe(double *a, double *b, int n) { for (int i = 0; i < n; i++) a[i] = pow(a[i], b[i]);"
             " return 0; }\n")
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"gscsd-probe-{uuid.uuid4().hex[:8]}"
    scratch.mkdir()
    try:
        (scratch / "probe.c").write_text(probe, encoding="utf-8")
        for flags, libraries in _VARIANTS:
            command = [cc, *flags]
            done = subprocess.run([*command, *_FLAGS, "-o", str(scratch / "probe.so"), str(scratch / "probe.c"),
                                   *libraries], capture_output=True, text=True, timeout=60)
            if done.returncode == 0:
                version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
                target = subprocess.run([*command, "-Q", "--help=target"], capture_output=True, text=True).stdout
                arch = next((line.split()[-1] for line in target.splitlines() if line.strip().startswith("-march=")),
                            "")
                return command, libraries, f"{version} {arch}"
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return None
