"""One SQLite transaction, as the scenario store and the job table both need it.

Each call opens its own connection (connections are not shared between
threads or server processes), waits up to 10 s for another writer, and
commits on success or rolls back on any exception, which it re-raises.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


@contextmanager
def transaction(path: Path, write: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` inside one transaction (``BEGIN IMMEDIATE`` when ``write``)."""
    with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as db:
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
