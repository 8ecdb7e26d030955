"""Saved scenarios in a SQLite database: workspaces, versions, a trash and a shared library.

Nothing saved is ever lost by a click:

* every save of a scenario adds a **version**; saving under a name that exists
  needs ``replace=True`` (the dashboard asks first) and keeps the older
  versions, which stay listed and restorable;
* **delete** moves a scenario to its workspace's trash, from where it can be
  restored;
* scenarios belong to a **workspace** (without accounts: a random key the
  browser keeps; behind a login: the user name). Only that workspace can
  change them. **Publishing** puts a scenario in the shared library, where
  every workspace can load or overlay it, and still only its owner can change it;
* what is saved is validated (finite lever values, bounded names and notes),
  and a row that cannot be read (written by another version, damaged) is
  skipped with a warning instead of breaking the listing.

SQLite runs in WAL mode so readers never wait for a writer and several
dashboard processes may share the file; every change is one transaction, so
a write that fails (disk full, crash, a name clash) leaves the store as it was.

The file lives in the user's data directory (``$GSCSD_STORE``, else
``$XDG_DATA_HOME/gscsd/scenarios.sqlite``, else
``~/.local/share/gscsd/scenarios.sqlite``), never inside the package.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import GscsdError, InputError
from .scenario import Scenario
from .transactions import transaction

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
#: Workspace that scenarios saved before workspaces existed belong to (published, read-only).
LEGACY_WORKSPACE = "legacy"
#: Workspace of scenarios saved by the command line (``gscsd optimize --store``), published to the shared library.
CLI_WORKSPACE = "cli"
#: A workspace key: letters, digits, ``-_.@`` (a random hex key, or a user name behind a login).
WORKSPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
MAX_NAME = 200
MAX_NOTES = 20_000
MAX_LEVERS = 10_000
#: Largest row id SQLite can hold.
MAX_ID = 2**63 - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS saved (
    id INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL,
    model TEXT NOT NULL,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    deleted REAL,
    published REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS saved_live_names ON saved (workspace, model, name) WHERE deleted IS NULL;
CREATE TABLE IF NOT EXISTS versions (
    scenario_id INTEGER NOT NULL REFERENCES saved (id),
    version INTEGER NOT NULL,
    saved REAL NOT NULL,
    scenario TEXT NOT NULL,
    PRIMARY KEY (scenario_id, version)
);
"""
_COLUMNS = ("s.id, s.workspace, s.model, s.name, s.created, s.updated, s.deleted, s.published, v.version, "
            "v.scenario")
_LATEST = "JOIN versions v ON v.scenario_id = s.id AND v.version = (SELECT MAX(version) FROM versions " \
          "WHERE scenario_id = s.id)"


def default_store_path() -> Path:
    """Where saved scenarios live unless told otherwise (see module docstring)."""
    explicit = os.environ.get("GSCSD_STORE")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "gscsd" / "scenarios.sqlite"


class StoreError(GscsdError):
    """SQLite failed under the store (a damaged or unreadable file, a full disk): nothing was written."""


class NameTaken(InputError):
    """Saving under a name that a scenario of the workspace already has (pass ``replace=True``)."""


@dataclass(frozen=True)
class SavedScenario:
    """A scenario as stored.

    Attributes
    ----------
    id : int
        Row id (stable across versions and renames).
    workspace : str
        The workspace that owns it.
    model : str
        The model name it was saved for.
    scenario : Scenario
        Its content (latest version, or the version asked for).
    created, updated : float
        Unix seconds of the first save and the last change.
    version : int
        Version number of ``scenario`` (1 for the first save).
    deleted : float or None
        When it went to the trash.
    published : float or None
        When it was published to the shared library.
    """

    id: int
    workspace: str
    model: str
    scenario: Scenario
    created: float
    updated: float
    version: int = 1
    deleted: float | None = None
    published: float | None = None

    @property
    def name(self) -> str:
        """The scenario's name (unique per workspace and model among live scenarios)."""
        return self.scenario.name

    def mine(self, workspace: str) -> bool:
        """Whether ``workspace`` owns (and may change) it."""
        return self.workspace == workspace


@dataclass(frozen=True)
class Version:
    """One saved version of a scenario."""

    version: int
    saved: float
    scenario: Scenario


class ScenarioStore:
    """Saved scenarios, per workspace and model, in one SQLite file.

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
            self._create()
        except (sqlite3.Error, OSError, StoreError) as exc:
            raise InputError(f"cannot open the scenario store {self.path}: {exc}; pass another path") from None

    def _create(self) -> None:
        """Create the file and its tables, or bring an older schema up to date (idempotent)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
            # WAL must be switched on outside a transaction; it then sticks to the file.
            db.execute("PRAGMA busy_timeout=10000")
            db.execute("PRAGMA journal_mode=WAL")
        with self._connect(create=False) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise InputError(f"the scenario store {self.path} was written by a newer gscsd (schema "
                                 f"{version}); upgrade gscsd or pass another --store")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            if version == 1:
                _migrate_v1(db)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _recreate(self) -> None:
        """The file vanished while the server ran (deleted, a disk cleaned): start a new, empty store there.

        A write-ahead log left beside it belongs to the vanished file; replayed into the new one it
        would mix pages of two databases, so it is moved aside (``<name>-wal.orphan-<time>``), not deleted.
        """
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("-wal", "-shm"):
            leftover = self.path.with_name(self.path.name + suffix)
            if leftover.exists():
                leftover.replace(leftover.with_name(f"{leftover.name}.orphan-{stamp}"))
        log.warning("the scenario store %s had vanished; a new, empty one was created", self.path)
        self._create()

    @contextmanager
    def _connect(self, write: bool = True, create: bool = True) -> Iterator[sqlite3.Connection]:
        # One connection per call: sqlite3 connections must not cross threads.
        # Writers take the write lock up front (IMMEDIATE) so that a check and
        # the write that depends on it (a name clash, say) see the same data.
        # A failure of SQLite itself (a damaged file, a full disk) is a StoreError: one line, nothing written.
        try:
            if create and not self.path.exists():
                self._recreate()
            with transaction(self.path, write) as db:
                yield db
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"the scenario store {self.path.name} cannot be {'written' if write else 'read'} "
                             f"({exc})") from exc

    # -- reading ------------------------------------------------------------
    def list(self, model: str, workspace: str, *, shared: bool = True) -> list[SavedScenario]:
        """The live scenarios of ``workspace`` for ``model``, then (``shared``) others' published ones.

        Rows that cannot be read are skipped with a logged warning.
        """
        workspace = check_workspace(workspace)
        with self._connect(write=False) as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM saved s {_LATEST} WHERE s.model = ? AND s.deleted IS NULL "
                "AND (s.workspace = ? OR (? AND s.published IS NOT NULL)) "
                "ORDER BY s.workspace != ?, s.name COLLATE NOCASE",
                (model, workspace, int(shared), workspace),
            ).fetchall()
        return _readable(rows)

    def trash(self, model: str, workspace: str) -> list[SavedScenario]:
        """The scenarios of ``workspace`` in the trash, most recently deleted first."""
        workspace = check_workspace(workspace)
        with self._connect(write=False) as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM saved s {_LATEST} WHERE s.model = ? AND s.workspace = ? "
                "AND s.deleted IS NOT NULL ORDER BY s.deleted DESC", (model, workspace)).fetchall()
        return _readable(rows)

    def get(self, scenario_id: int, workspace: str, *, version: int | None = None) -> SavedScenario:
        """A scenario ``workspace`` may see (its own, or published), latest version unless asked.

        Raises
        ------
        InputError
            When there is none (or not for this workspace), or it cannot be read.
        """
        scenario_id, workspace = check_id(scenario_id), check_workspace(workspace)
        join = _LATEST if version is None else "JOIN versions v ON v.scenario_id = s.id AND v.version = ?"
        args = (scenario_id, workspace) if version is None else (check_id(version, "version"), scenario_id, workspace)
        with self._connect(write=False) as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM saved s {join} WHERE s.id = ? "
                             "AND (s.workspace = ? OR (s.published IS NOT NULL AND s.deleted IS NULL))",
                             args).fetchone()
        if row is None:
            what = f"version {version} of saved scenario {scenario_id}" if version else f"saved scenario {scenario_id}"
            raise InputError(f"no {what} here; it may have been deleted or belong to another workspace")
        saved = _read(row)
        if saved is None:
            raise InputError(f"saved scenario {scenario_id} cannot be read (damaged or from another version of "
                             "gscsd); it is skipped")
        return saved

    def versions(self, scenario_id: int, workspace: str) -> list[Version]:
        """Every version of a scenario ``workspace`` may see, newest first."""
        saved = self.get(scenario_id, workspace)
        with self._connect(write=False) as db:
            rows = db.execute("SELECT version, saved, scenario FROM versions WHERE scenario_id = ? "
                              "ORDER BY version DESC", (saved.id,)).fetchall()
        out = []
        for version, when, payload in rows:
            try:
                out.append(Version(int(version), float(when), Scenario.from_json(payload, "saved version")))
            except (InputError, ValueError, TypeError) as exc:
                log.warning("skipping version %s of saved scenario %s: %s", version, saved.id, exc)
        return out

    # -- writing ------------------------------------------------------------
    def save(self, model: str, scenario: Scenario, workspace: str, *, replace: bool = False) -> int:
        """Save ``scenario`` for ``model`` in ``workspace`` under its name; return its id.

        A name new to the workspace makes a new scenario. A name it already
        has raises :class:`NameTaken` unless ``replace``; then the content is
        saved as that scenario's next version (the older ones stay).
        """
        workspace = check_workspace(workspace)
        scenario = checked(scenario)
        payload = scenario.to_json()
        now = time.time()
        with self._connect() as db:
            row = db.execute("SELECT id FROM saved WHERE workspace = ? AND model = ? AND name = ? "
                             "AND deleted IS NULL", (workspace, model, scenario.name)).fetchone()
            if row is None:
                cursor = db.execute("INSERT INTO saved (workspace, model, name, created, updated) "
                                    "VALUES (?, ?, ?, ?, ?)", (workspace, model, scenario.name, now, now))
                scenario_id = int(cursor.lastrowid)
                db.execute("INSERT INTO versions VALUES (?, 1, ?, ?)", (scenario_id, now, payload))
                return scenario_id
            if not replace:
                raise NameTaken(f"a scenario called '{scenario.name}' is already saved; replace it (its older "
                                "versions are kept) or choose another name")
            scenario_id = int(row[0])
            _add_version(db, scenario_id, payload, now)
            return scenario_id

    def restore_version(self, scenario_id: int, version: int, workspace: str) -> int:
        """Make ``version`` the newest version again (as a new version); return the new number."""
        old = self.get(scenario_id, workspace, version=version)
        _owned(old, workspace, "restore a version of")
        scenario = replace(old.scenario, name=self.get(scenario_id, workspace).name)
        with self._connect() as db:
            return _add_version(db, old.id, scenario.to_json(), time.time())

    def rename(self, scenario_id: int, new_name: str, workspace: str) -> None:
        """Rename a scenario of ``workspace`` (all versions); NameTaken if the name is in use."""
        saved = self.get(scenario_id, workspace)
        _owned(saved, workspace, "rename")
        name = clean_name(new_name)
        with self._connect() as db:
            taken = db.execute("SELECT 1 FROM saved WHERE workspace = ? AND model = ? AND name = ? AND id != ? "
                               "AND deleted IS NULL", (workspace, saved.model, name, saved.id)).fetchone()
            if taken:
                raise NameTaken(f"a scenario called '{name}' is already saved; choose another name")
            db.execute("UPDATE saved SET name = ?, updated = ? WHERE id = ?", (name, time.time(), saved.id))

    def delete(self, scenario_id: int, workspace: str) -> SavedScenario:
        """Move a scenario of ``workspace`` to its trash; return it (to say what went)."""
        saved = self.get(scenario_id, workspace)
        _owned(saved, workspace, "delete")
        with self._connect() as db:
            db.execute("UPDATE saved SET deleted = ? WHERE id = ? AND deleted IS NULL", (time.time(), saved.id))
        return saved

    def restore(self, scenario_id: int, workspace: str) -> SavedScenario:
        """Take a scenario out of the trash (renamed ``name (restored)`` if its name is in use again)."""
        scenario_id, workspace = check_id(scenario_id), check_workspace(workspace)
        with self._connect() as db:
            row = db.execute("SELECT model, name FROM saved WHERE id = ? AND workspace = ? AND deleted IS NOT NULL",
                             (scenario_id, workspace)).fetchone()
            if row is None:
                raise InputError(f"saved scenario {scenario_id} is not in this workspace's trash")
            model, name = row
            base, n = name, 1
            while db.execute("SELECT 1 FROM saved WHERE workspace = ? AND model = ? AND name = ? "
                             "AND deleted IS NULL", (workspace, model, name)).fetchone():
                n += 1
                name = clean_name(f"{base[:MAX_NAME - 14]} (restored{'' if n == 2 else f' {n - 1}'})")
            db.execute("UPDATE saved SET deleted = NULL, name = ?, updated = ? WHERE id = ?",
                       (name, time.time(), scenario_id))
        return self.get(scenario_id, workspace)

    def publish(self, scenario_id: int, workspace: str, published: bool = True) -> None:
        """Put a scenario of ``workspace`` in the shared library (or take it out)."""
        saved = self.get(scenario_id, workspace)
        _owned(saved, workspace, "publish")
        with self._connect() as db:
            db.execute("UPDATE saved SET published = ? WHERE id = ?", (time.time() if published else None, saved.id))


def clean_name(name: object) -> str:
    """A scenario name with white space collapsed; InputError when empty or too long."""
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in str(name or "")).split())
    if not name:
        raise InputError("a saved scenario needs a name; type one first")
    if len(name) > MAX_NAME:
        raise InputError(f"scenario name is {len(name)} characters long; keep it under {MAX_NAME}")
    return name


def check_workspace(workspace: object) -> str:
    """The workspace key if it is well formed, else InputError."""
    if not isinstance(workspace, str) or not WORKSPACE.fullmatch(workspace):
        raise InputError("this browser's workspace key is missing or malformed; reload the page to get a new one")
    return workspace


def check_id(value: object, what: str = "saved scenario id") -> int:
    """A row id (a whole number SQLite can hold), else InputError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InputError(f"{what} must be a whole number between 1 and {MAX_ID}, got {str(value)[:40]!r}")
    return value


def checked(scenario: Scenario) -> Scenario:
    """``scenario`` with a clean name, if it is fit to save (finite numbers, bounded sizes); else InputError."""
    name = clean_name(scenario.name)
    if len(scenario.levers) > MAX_LEVERS:
        raise InputError(f"a saved scenario may set at most {MAX_LEVERS} levers, this one sets {len(scenario.levers)}")
    for key, value in scenario.levers.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise InputError(f"lever '{str(key)[:80]}' of scenario '{name}' needs a finite number, got {value!r}")
    for key in ("start_time", "final_time", "time_step"):
        value = getattr(scenario, key)
        if value is not None and not math.isfinite(value):
            raise InputError(f"{key.replace('_', ' ')} of scenario '{name}' must be a finite number")
    if len(scenario.notes) > MAX_NOTES:
        raise InputError(f"notes of scenario '{name}' are {len(scenario.notes):,} characters long; keep them under "
                         f"{MAX_NOTES:,}")
    return replace(scenario, name=name, levers={k: float(v) for k, v in scenario.levers.items()})


def _owned(saved: SavedScenario, workspace: str, action: str) -> None:
    if not saved.mine(workspace):
        raise InputError(f"'{saved.name}' is in the shared library and belongs to another workspace; you cannot "
                         f"{action} it (save a copy under your own name)")


def _add_version(db: sqlite3.Connection, scenario_id: int, payload: str, now: float) -> int:
    latest = db.execute("SELECT MAX(version) FROM versions WHERE scenario_id = ?", (scenario_id,)).fetchone()[0]
    number = int(latest or 0) + 1
    db.execute("INSERT INTO versions VALUES (?, ?, ?, ?)", (scenario_id, number, now, payload))
    db.execute("UPDATE saved SET updated = ? WHERE id = ?", (now, scenario_id))
    return number


def _read(row: tuple) -> SavedScenario | None:
    """A row as a SavedScenario, or None (with a warning) if it cannot be read."""
    scenario_id, workspace, model, name, created, updated, deleted, published, version, payload = row
    try:
        scenario = checked(replace(Scenario.from_json(payload, source=f"saved scenario {scenario_id}"), name=name))
        return SavedScenario(int(scenario_id), str(workspace), str(model), scenario, float(created), float(updated),
                             int(version), None if deleted is None else float(deleted),
                             None if published is None else float(published))
    except (InputError, ValueError, TypeError, RecursionError) as exc:
        log.warning("skipping saved scenario %s ('%s'): %s", scenario_id, str(name)[:80], exc)
        return None


def _readable(rows: list[tuple]) -> list[SavedScenario]:
    return [saved for saved in map(_read, rows) if saved is not None]


def _migrate_v1(db: sqlite3.Connection) -> None:
    """Scenarios saved before workspaces (schema 1) go to the shared library, read-only."""
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'scenarios'").fetchone()
    if not exists:
        return
    for row_id, model, name, payload, created, updated in db.execute(
            "SELECT id, model, name, scenario, created, updated FROM scenarios").fetchall():
        cursor = db.execute("INSERT INTO saved (workspace, model, name, created, updated, published) "
                            "VALUES (?, ?, ?, ?, ?, ?)", (LEGACY_WORKSPACE, model, name, created, updated, updated))
        db.execute("INSERT INTO versions VALUES (?, 1, ?, ?)", (cursor.lastrowid, updated, payload))
        log.info("moved saved scenario %s ('%s') to the shared library", row_id, name)
    db.execute("DROP TABLE scenarios")
