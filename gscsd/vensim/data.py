"""Vensim's data files: ``.dat``, ``.tab`` and ``.csv`` series by variable name.

Vensim feeds *data variables* (``name :=`` ... or a name with no equation
but a data file) from files given at run time, in three formats:

* ``.dat``: a line with a variable name, then ``time<TAB>value`` lines for
  that variable, then the next name;
* ``.tab``: tab-separated table, one row per variable (first column the
  name, first row the times), or one column per variable (first column the
  times, first row the names); Vensim writes and reads both;
* ``.csv``: the same tables, comma-separated.

:func:`read_data_file` returns ``{name: (times, values)}`` with the names as
written (subscripted series as ``name[a,b]``); blanks are skipped, as Vensim
skips missing data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
from pathlib import Path

import numpy as np

from ..errors import InputError

Series = tuple[np.ndarray, np.ndarray]


def read_data_file(path: str | Path) -> dict[str, Series]:
    """Read a Vensim data file (``.dat``, ``.tab`` or ``.csv``); ``{name: (times, values)}``.

    Raises
    ------
    InputError
        If the file cannot be read or is not in one of the three formats.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read data file {path}: {exc.strerror}") from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    suffix = path.suffix.lower()
    try:
        if suffix == ".dat":
            return _read_dat(text)
        if suffix in (".tab", ".txt"):
            return _read_table(text, "\t")
        if suffix == ".csv":
            return _read_table(text, ",")
    except (ValueError, IndexError) as exc:
        raise InputError(f"{path}: not a Vensim data file ({exc}); see docs/engine.md for the formats") from exc
    raise InputError(f"{path}: data files must be .dat, .tab or .csv (Vensim's formats)")


def _number(text: str) -> float:
    text = text.strip().strip('"')
    if not text or text.upper() in (":NA:", "NA", "NAN"):
        return math.nan
    return float(text)


def _read_dat(text: str) -> dict[str, Series]:
    out: dict[str, tuple[list, list]] = {}
    current: tuple[list, list] | None = None
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 2 and _is_number(fields[0]):
            if current is None:
                raise ValueError(f"line {number}: a value before any variable name")
            value = _number(fields[1])
            if not math.isnan(value):
                current[0].append(float(fields[0]))
                current[1].append(value)
            continue
        current = out.setdefault(line.strip().strip('"'), ([], []))
    return {name: (np.array(t, dtype=float), np.array(v, dtype=float)) for name, (t, v) in out.items()}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_table(text: str, separator: str) -> dict[str, Series]:
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=separator) if any(c.strip() for c in row)]
    if not rows:
        raise ValueError("empty file")
    header = [c.strip().strip('"') for c in rows[0]]
    if len(header) < 2:
        raise ValueError("fewer than two columns")
    if not _is_number(header[1]):  # one column per variable, times in the first column
        times = [_number(row[0]) for row in rows[1:]]
        return {
            name: _series([(t, _number(row[j]) if j < len(row) else math.nan) for t, row in zip(times, rows[1:])])
            for j, name in enumerate(header[1:], 1)
        }
    # one row per variable, times in the first row
    times = [_number(c) for c in rows[0][1:]]
    return {row[0].strip().strip('"'): _series([(t, _number(c)) for t, c in zip(times, row[1:])]) for row in rows[1:]}


def _series(pairs: list[tuple[float, float]]) -> Series:
    kept = [(t, v) for t, v in pairs if not (math.isnan(t) or math.isnan(v))]
    return np.array([t for t, _ in kept], dtype=float), np.array([v for _, v in kept], dtype=float)


def series_for(files, column: str, model_name: str = "", folder: Path | None = None) -> Series:
    """The series of the data variable element ``column`` (``name`` or ``name[a,b]``) in the data files.

    The last file that has it wins, as in Vensim's list of data files. Names
    compare as Vensim does (case, spaces and underscores do not matter). An
    element the files leave out while they have other elements of its
    variable is Vensim's ``:NA:`` at all times (:mod:`gscsd.vensim.na`).

    Raises
    ------
    InputError
        If no file has it (nor any element of its variable): the message names the variable and the files.
    """
    wanted = _key(column)
    found = None
    for file in files:
        for name, series in read_cached(file).items():
            if _key(name) == wanted:
                found = series
    if found is None and "[" in wanted:
        # Vensim's sparse data: an element of a subscripted data variable that the files leave out while they
        # have others of it is :NA: throughout (SDEverywhere's sumif test model omits one on purpose)
        base = wanted.partition("[")[0] + "["
        if any(_key(name).startswith(base) for file in files for name in read_cached(file)):
            from .na import NA

            return np.array([0.0]), np.array([NA])
    if found is None or not len(found[0]):
        given = ", ".join(Path(f).name for f in files) or "none"
        binary = sorted(p.name for p in Path(folder).glob("*.vdf*")) if folder and Path(folder).is_dir() else []
        vdf = (f" (Vensim's binary data {', '.join(binary[:3])} cannot be read: export it from Vensim as .tab or "
               ".csv)") if binary else ""
        raise InputError(
            f"{model_name}: data variable '{column}' has no series in the data files ({given}); give a .dat, .tab "
            f"or .csv file that has it{vdf}: gscsd.load_model(path, data_files=[...]) or --data-file FILE"
        )
    return found


def _key(name: str) -> str:
    from ..names import canonical

    base, _, rest = name.partition("[")
    elements = ",".join(canonical(e) for e in rest.rstrip("]").split(",")) if rest else ""
    return canonical(base) + (f"[{elements}]" if rest else "")


_READ: dict[tuple, dict[str, Series]] = {}


def read_cached(path) -> dict[str, Series]:
    """:func:`read_data_file`, read once per file content (path, size and modification time)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _READ:
        if len(_READ) > 64:
            _READ.clear()
        _READ[key] = read_data_file(path)
    return _READ[key]


def for_pysd(path, folder: Path) -> Path:
    """A ``.tab`` copy of a ``.dat`` file for PySD (which reads only .tab and .csv); other files as they are.

    Series with other time points than the rest are interpolated onto the
    union of the times (so a :RAW: or :HOLD BACKWARD: data variable fed from a
    ``.dat`` file runs interpolated under PySD; the fast engine reads the
    ``.dat`` itself and keeps the keyword).
    """
    path = Path(path)
    if path.suffix.lower() != ".dat":
        return path
    data = path.read_bytes()
    target = Path(folder) / f"{path.stem}-{hashlib.sha256(data).hexdigest()[:16]}.tab"
    if not target.is_file():
        _write_tab(read_cached(path), target)
    return target


def _write_tab(series: dict[str, Series], target: Path) -> None:
    """Write ``series`` as one ``.tab`` table (a row per series) on the union of their times."""
    times = sorted({float(t) for ts, _ in series.values() for t in ts})
    lines = ["Time\t" + "\t".join(repr(t) for t in times)]
    for name, (ts, vs) in series.items():
        # PySD needs one time axis: a series is interpolated onto the others' times (Vensim's default for
        # data variables; their own points are kept exactly)
        filled = np.interp(times, ts, vs) if len(ts) else np.full(len(times), np.nan)
        lines.append(name + "\t" + "\t".join(repr(float(v)) for v in filled))
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(f".{os.getpid()}.part")
    scratch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(scratch, target)


def pysd_data_files(model, folder: Path) -> list[str]:
    """The data files PySD reads for ``model``: :func:`for_pysd` of each; when the files leave out some
    elements of a subscripted data variable, one ``.tab`` with every series of the files and those elements
    at Vensim's ``:NA:`` (as :func:`series_for` gives the fast engine; PySD reads a variable from the first
    file that has it and leaves the rest of its elements NaN)."""
    import itertools

    from .na import NA

    files = [str(for_pysd(f, folder)) for f in model.data_files]
    if not model.data_files:
        return files
    missing = []
    for variable in model.variables.values():
        if variable.type != "Data" or not variable.subscripts:
            continue
        ranges = [model.subscripts.get(d, (d,)) for d in variable.subscripts]
        for combo in itertools.product(*ranges):
            column = f"{variable.name}[{','.join(combo)}]"
            try:
                _, values = series_for(model.data_files, column)
            except InputError:
                break  # not fed by the data files (a data equation, GET DATA, or the whole variable missing)
            if len(values) == 1 and values[0] == NA:
                missing.append(column)
    if not missing:
        return files
    series: dict[str, Series] = {}
    for file in model.data_files:  # the last file that has a series wins, as in series_for
        for name, values in read_cached(file).items():
            series.pop(name, None)
            series[name] = values
    model_time = np.array([model.time.initial, model.time.final], dtype=float)
    series.update({name: (model_time, np.full(2, NA)) for name in missing})
    digest = hashlib.sha256(repr(sorted((k, v[0].tolist(), v[1].tolist()) for k, v in series.items())).encode())
    target = Path(folder) / f"data-{digest.hexdigest()[:16]}.tab"
    if not target.is_file():
        _write_tab(series, target)
    return [str(target)]
