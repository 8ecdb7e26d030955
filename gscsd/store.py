"""Saved scenarios in a SQLite database.

One file holds every user's saved scenarios, per model. SQLite is the
embedded default: it runs in WAL mode so readers never wait for a writer and
several dashboard processes may share the file, and every change is one
transaction, so a write that fails (disk full, crash, a name clash) leaves
the saved scenarios exactly as they were.

The file lives in the user's data directory (``$GSCSD_STORE``, else
``$XDG_DATA_HOME/gscsd/scenarios.sqlite``, else
``~/.local/share/gscsd/scenarios.sqlite``), never inside the package.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .scenario import Scenario

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    name TEXT NOT NULL,
    scenario TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    UNIQUE (model, name)
)
"""


def default_store_path() -> Path:
    """Where saved scenarios live unless told otherwise (see module docstring)."""
    explicit = os.environ.get("GSCSD_STORE")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "gscsd" / "scenarios.sqlite"


@dataclass(frozen=True)
class SavedScenario:
    """A scenario as stored: its row id, model, times (Unix seconds) and content."""

    id: int
    model: str
    scenario: Scenario
    created: float
    updated: float

    @property
    def name(self) -> str:
        """The scenario's name (unique per model)."""
        return self.scenario.name


class ScenarioStore:
    """Saved scenarios, per model name, in one SQLite file.

    Safe to use from several threads and processes: every call opens its own
    connection and runs in a single transaction.

    Parameters
    ----------
    path : str or Path, optional
        The database file (created with its folder); default
        :func:`default_store_path`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
                # WAL must be switched on outside a transaction; it then sticks to the file.
                db.execute("PRAGMA busy_timeout=10000")
                db.execute("PRAGMA journal_mode=WAL")
            with self._connect() as db:
                db.execute(_SCHEMA)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise InputError(f"cannot open the scenario store {self.path}: {exc}; pass another path") from None

    @contextmanager
    def _connect(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        # One connection per call: sqlite3 connections must not cross threads.
        # Writers take the write lock up front (IMMEDIATE) so that a check and
        # the write that depends on it (a name clash, say) see the same data.
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
            db.execute("PRAGMA busy_timeout=10000")
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- reading ------------------------------------------------------------
    def list(self, model: str) -> list[SavedScenario]:
        """The scenarios saved for ``model``, by name."""
        with self._connect(write=False) as db:
            rows = db.execute(
                "SELECT id, model, name, scenario, created, updated FROM scenarios WHERE model = ? "
                "ORDER BY name COLLATE NOCASE",
                (model,),
            ).fetchall()
        return [_saved(row) for row in rows]

    def get(self, scenario_id: int) -> SavedScenario:
        """The scenario with this id; InputError if there is none."""
        with self._connect(write=False) as db:
            row = db.execute(
                "SELECT id, model, name, scenario, created, updated FROM scenarios WHERE id = ?", (scenario_id,)
            ).fetchone()
        if row is None:
            raise InputError(f"no saved scenario with id {scenario_id}; it may have been deleted")
        return _saved(row)

    # -- writing ------------------------------------------------------------
    def save(self, model: str, scenario: Scenario, *, overwrite: bool = True) -> int:
        """Save ``scenario`` for ``model`` under its name; return its id.

        A scenario of the same name is replaced when ``overwrite`` (keeping
        its id), else InputError.
        """
        name = _clean_name(scenario.name)
        payload = Scenario(name, dict(scenario.levers), scenario.start_time, scenario.final_time,
                           scenario.time_step, scenario.notes).to_json()
        now = time.time()
        with self._connect() as db:
            row = db.execute("SELECT id FROM scenarios WHERE model = ? AND name = ?", (model, name)).fetchone()
            if row is not None:
                if not overwrite:
                    raise InputError(f"a scenario called '{name}' is already saved for {model}; choose another name")
                db.execute("UPDATE scenarios SET scenario = ?, updated = ? WHERE id = ?", (payload, now, row[0]))
                return int(row[0])
            cursor = db.execute(
                "INSERT INTO scenarios (model, name, scenario, created, updated) VALUES (?, ?, ?, ?, ?)",
                (model, name, payload, now, now),
            )
            return int(cursor.lastrowid)

    def rename(self, scenario_id: int, new_name: str) -> None:
        """Rename a saved scenario; InputError if the name is taken or empty."""
        name = _clean_name(new_name)
        with self._connect() as db:
            row = db.execute("SELECT model, scenario FROM scenarios WHERE id = ?", (scenario_id,)).fetchone()
            if row is None:
                raise InputError(f"no saved scenario with id {scenario_id}; it may have been deleted")
            taken = db.execute(
                "SELECT 1 FROM scenarios WHERE model = ? AND name = ? AND id != ?", (row[0], name, scenario_id)
            ).fetchone()
            if taken:
                raise InputError(f"a scenario called '{name}' is already saved for {row[0]}; choose another name")
            data = json.loads(row[1])
            data["name"] = name
            db.execute(
                "UPDATE scenarios SET name = ?, scenario = ?, updated = ? WHERE id = ?",
                (name, json.dumps(data, ensure_ascii=False), time.time(), scenario_id),
            )

    def delete(self, scenario_id: int) -> None:
        """Delete a saved scenario (no error if it is already gone)."""
        with self._connect() as db:
            db.execute("DELETE FROM scenarios WHERE id = ?", (scenario_id,))


def _clean_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise InputError("a saved scenario needs a name; type one first")
    if len(name) > 200:
        raise InputError(f"scenario name is {len(name)} characters long; keep it under 200")
    return name


def _saved(row: tuple) -> SavedScenario:
    scenario_id, model, name, payload, created, updated = row
    scenario = Scenario.from_json(payload, source=f"saved scenario '{name}'")
    if scenario.name != name:
        scenario = Scenario(name, scenario.levers, scenario.start_time, scenario.final_time, scenario.time_step,
                            scenario.notes)
    return SavedScenario(int(scenario_id), model, scenario, float(created), float(updated))
