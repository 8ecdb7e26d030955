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
import io
import math
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
