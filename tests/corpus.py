"""Reading the Vensim corpus: canonical outputs (Vensim's and Stella's) and comparison with ours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: Data files a corpus case reads its data variables from (SOURCE.md), by folder.
DATA_FILES = {"data_from_other_model": ["data.tab"]}


def canonical_output(folder: Path, names: tuple[str, ...] = ("output.csv", "output.tab")) -> pd.DataFrame | None:
    """Vensim's output of a corpus case (the first of ``names`` the folder has), indexed by time."""
    for name in names:
        sep = "," if name.endswith(".csv") else "\t"
        path = folder / name
        if path.is_file():
            # Some files end lines with a lone '\r' (classic Mac); normalise first.
            text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
            from io import StringIO

            frame = pd.read_csv(StringIO(text), sep=sep)
            frame.columns = [str(c).strip().strip('"') for c in frame.columns]
            time = next(c for c in frame.columns if c.lower() == "time")
            frame = frame.set_index(time)
            frame.index = frame.index.astype(float)
            frame = frame.apply(pd.to_numeric, errors="coerce")
            # .tab outputs write constants only in their first row; a blank between values is Vensim's :NA:
            # (a :RAW: data variable between its points), which stays missing.
            once = [c for c in frame.columns if frame[c].iloc[1:].isna().all()]
            frame[once] = frame[once].ffill()
            return frame
    return None


def compare_with_canonical(ours: pd.DataFrame, vensim: pd.DataFrame, rtol: float, atol: float = 0.0) -> list[str]:
    """Columns (shared by both) whose values differ beyond ``rtol`` (and ``atol``); [] when all agree."""
    times = vensim.index.intersection(ours.index)
    assert len(times) > 1, "no common time points"
    shared = [c for c in vensim.columns if c in ours.columns]
    assert shared, "no common columns"
    problems = []
    for column in shared:
        expected = vensim.loc[times, column].to_numpy(float)
        actual = ours.loc[times, column].to_numpy(float)
        if not np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):
            worst = np.nanargmax(np.abs(actual - expected) / np.maximum(np.abs(expected), 1e-300))
            problems.append(f"{column} at {times[worst]:g}: {actual[worst]:.6g} vs Vensim {expected[worst]:.6g}")
    return problems


def stella_outputs(folder: Path) -> dict[str, pd.DataFrame]:
    """Stella's outputs of a corpus case (``output_stella*.csv``) by file name, indexed by time.

    Stella names the time column after the time unit (``Months``): the first
    column is the time, whatever its name.
    """
    from io import StringIO

    found = {}
    for path in sorted(folder.glob("output_stella*.csv")):
        text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        frame = pd.read_csv(StringIO(text))
        frame.columns = [str(c).strip().strip('"') for c in frame.columns]
        frame = frame.set_index(frame.columns[0])
        frame.index = frame.index.astype(float)
        found[path.name] = frame.apply(pd.to_numeric, errors="coerce")
    return found


def by_canonical_name(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its columns named by :func:`gscsd.names.canonical` (XMILE names ignore case and '_')."""
    from gscsd.names import canonical

    renamed = frame.copy()
    renamed.columns = [canonical(str(c).replace("\\n", " ")) for c in frame.columns]
    return renamed
