"""Building and calling the lanes back-end (:mod:`.emit_c`): batches in C, several scenarios side by side.

The C source is written from the compiled module (:mod:`.emit_numba`) and
built with the system's C compiler into a shared library beside that module
in the translation cache, named by a digest of the source, the compiler and
its flags (``-march=native``: the library is for this machine's processor).
Building takes about 13 s for ``models/gsc.mdl``; :mod:`.native` does it in
its compiling process after numba's functions, or in the calling process in
``GSCSD_NUMBA=wait`` mode. A batch runs in one thread per processor core
(the library's function releases no lock: ctypes lets go of the GIL).

``GSCSD_LANES=0`` keeps batches on numba's ``run_batch``. Without a C
compiler, or for a model :func:`.emit_c.emit` does not write, batches keep to
numba too; the reason is kept in :attr:`Lanes.reason`.
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
_ARGUMENTS = [_DOUBLE_P, _I64, _I64, _DOUBLE_P, _BYTE_P, _I64, ctypes.c_double, ctypes.c_double, ctypes.c_double,
              ctypes.c_double, _DOUBLE_P, _I64, _I64_P, _I64, _I64_P, _I64, _I64]


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
        self._function = ctypes.CDLL(str(library)).gscsd_lanes
        self._function.argtypes = _ARGUMENTS
        self._function.restype = ctypes.c_int

    def run(self, P: np.ndarray, times: np.ndarray, save: np.ndarray, controls: tuple, out: np.ndarray,
            select: np.ndarray, status: np.ndarray) -> None:
        """Run every row of ``P`` (scenario, lever slot) into ``out`` (selected column, scenario, saved time).

        ``status`` (scenario, 2) gets what the compiled module's ``run_batch`` writes on a DELAY order other
        than the generated one. The scenarios are split between the processor's cores in whole chunks of
        :data:`~.emit_c.LANES`.
        """
        P = np.ascontiguousarray(P, dtype=np.float64)
        times = np.ascontiguousarray(times, dtype=np.float64)
        save = np.ascontiguousarray(save, dtype=np.bool_).view(np.uint8)
        select = np.ascontiguousarray(select, dtype=np.int64)
        if not (out.flags.c_contiguous and out.dtype == np.float64 and status.flags.c_contiguous
                and status.dtype == np.int64):
            raise ValueError("out and status must be C-contiguous float64 and int64 arrays")  # pragma: no cover
        scenarios = P.shape[0]
        arguments = (P.ctypes.data_as(_DOUBLE_P), P.shape[1], scenarios, times.ctypes.data_as(_DOUBLE_P),
                     save.ctypes.data_as(_BYTE_P), times.shape[0], *map(float, controls),
                     out.ctypes.data_as(_DOUBLE_P), out.shape[2], select.ctypes.data_as(_I64_P), select.shape[0],
                     status.ctypes.data_as(_I64_P))
        chunks = -(-scenarios // LANES)
        workers = max(1, min(_cores(), chunks))
        bounds = [min(scenarios, LANES * (chunks * k // workers)) for k in range(workers + 1)]
        if workers == 1:
            self._function(*arguments, 0, scenarios)
            return
        with ThreadPoolExecutor(workers, thread_name_prefix="gscsd-lanes") as pool:
            for done in [pool.submit(self._function, *arguments, bounds[k], bounds[k + 1]) for k in range(workers)]:
                done.result()


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
