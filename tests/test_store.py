"""The SQLite scenario store: workspaces, versions, trash, shared library; nothing saved is lost."""

from __future__ import annotations

import math
import sqlite3
import threading

import pytest

from gscsd.errors import InputError
from gscsd.scenario import Scenario
from gscsd.store import LEGACY_WORKSPACE, NameTaken, ScenarioStore, StoreError, default_store_path

ME, YOU = "a" * 32, "b" * 32


def test_save_list_get_rename_and_names_per_workspace(tmp_path):
    store = ScenarioStore(tmp_path / "sub" / "s.sqlite")
    first = store.save("gsc", Scenario("Green push", {"A": 0.7}, notes="n"), ME)
    store.save("gsc", Scenario("alpha", {"A": 0.1}), ME)
    store.save("teacup", Scenario("Green push", {"B": 2}), ME)
    store.save("gsc", Scenario("Green push", {"A": 0.2}), YOU)  # another workspace may use the same name
    assert [s.name for s in store.list("gsc", ME)] == ["alpha", "Green push"]
    assert store.get(first, ME).scenario.levers == {"A": 0.7} and store.get(first, ME).scenario.notes == "n"
    store.rename(first, "  Greener   push ", ME)
    assert store.get(first, ME).name == "Greener push" and store.get(first, ME).scenario.name == "Greener push"
    with pytest.raises(NameTaken, match="'alpha' is already saved; choose another name"):
        store.rename(first, "alpha", ME)
    with pytest.raises(InputError, match="needs a name"):
        store.save("gsc", Scenario("  ", {}), ME)
    with pytest.raises(InputError, match="under 200"):
        store.save("gsc", Scenario("x" * 201, {}), ME)


def test_saving_an_existing_name_asks_and_keeps_every_version(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")
    first = store.save("gsc", Scenario("Plan", {"A": 0.1}, notes="first"), ME)
    with pytest.raises(NameTaken, match="'Plan' is already saved; replace it"):
        store.save("gsc", Scenario("Plan", {"A": 0.2}), ME)
    assert store.get(first, ME).scenario.levers == {"A": 0.1}  # nothing replaced without asking
    assert store.save("gsc", Scenario("Plan", {"A": 0.2}, notes="second"), ME, replace=True) == first
    assert store.save("gsc", Scenario("Plan", {"A": 0.3}), ME, replace=True) == first
    saved = store.get(first, ME)
    assert (saved.version, saved.scenario.levers) == (3, {"A": 0.3})
    versions = store.versions(first, ME)
    assert [(v.version, v.scenario.levers["A"], v.scenario.notes) for v in versions] == [
        (3, 0.3, ""), (2, 0.2, "second"), (1, 0.1, "first")]
    assert store.get(first, ME, version=1).scenario.notes == "first"
    # restoring version 1 adds it as version 4: nothing is overwritten
    assert store.restore_version(first, 1, ME) == 4
    assert store.get(first, ME).scenario.levers == {"A": 0.1} and len(store.versions(first, ME)) == 4


def test_delete_goes_to_the_trash_and_restores(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")
    first = store.save("gsc", Scenario("Plan", {"A": 0.1}), ME)
    store.save("gsc", Scenario("Plan", {"A": 0.1}), ME, replace=True)
    gone = store.delete(first, ME)
    assert gone.name == "Plan" and store.list("gsc", ME) == []
    assert [s.name for s in store.trash("gsc", ME)] == ["Plan"] and store.trash("gsc", YOU) == []
    # the name is free again; restoring the old one then renames it instead of clashing
    store.save("gsc", Scenario("Plan", {"A": 0.5}), ME)
    restored = store.restore(first, ME)
    assert restored.name == "Plan (restored)" and restored.version == 2
    assert sorted(s.name for s in store.list("gsc", ME)) == ["Plan", "Plan (restored)"]
    with pytest.raises(InputError, match="not in this workspace's trash"):
        store.restore(first, ME)


def test_workspaces_are_private_and_the_shared_library_is_read_only(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")
    mine = store.save("gsc", Scenario("Mine", {"A": 0.1}), ME)
    with pytest.raises(InputError, match="belong to another workspace"):
        store.get(mine, YOU)
    assert store.list("gsc", YOU) == []
    for action in (lambda: store.rename(mine, "x", YOU), lambda: store.delete(mine, YOU),
                   lambda: store.publish(mine, YOU)):
        with pytest.raises(InputError):
            action()
    store.publish(mine, ME)
    shared = store.list("gsc", YOU)
    assert [(s.name, s.mine(YOU)) for s in shared] == [("Mine", False)] and store.get(mine, YOU).name == "Mine"
    with pytest.raises(InputError, match="shared library and belongs to another workspace; you cannot rename"):
        store.rename(mine, "Hijacked", YOU)
    with pytest.raises(InputError, match="cannot delete"):
        store.delete(mine, YOU)
    store.publish(mine, ME, False)
    assert store.list("gsc", YOU) == []
    with pytest.raises(InputError, match="workspace key is missing or malformed"):
        store.list("gsc", "../etc")


def test_bad_values_are_refused_and_a_bad_row_never_breaks_the_listing(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")
    good = store.save("gsc", Scenario("Good", {"A": 0.1}), ME)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(InputError, match="needs a finite number"):
            store.save("gsc", Scenario("Poison", {"Talent Programme Budget": bad}), ME)
    with pytest.raises(InputError, match="notes .* keep them under"):
        store.save("gsc", Scenario("Long", {}, notes="x" * 20001), ME)
    # rows written by something else (another version, a damaged file) are skipped with a warning
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        for name, payload in (("NaN", '{"name": "NaN", "levers": {"A": NaN}}'), ("Junk", "not json"),
                              ("Deep", "[" * 100000)):
            cursor = db.execute("INSERT INTO saved (workspace, model, name, created, updated) "
                                "VALUES (?, 'gsc', ?, 0, 0)", (ME, name))
            db.execute("INSERT INTO versions VALUES (?, 1, 0, ?)", (cursor.lastrowid, payload))
    assert [s.name for s in store.list("gsc", ME)] == ["Good"]
    bad_id = store.list("gsc", ME)[0].id + 1
    with pytest.raises(InputError, match="cannot be read"):
        store.get(bad_id, ME)
    assert store.get(good, ME).name == "Good"


@pytest.mark.parametrize("bad", [2**63, -1, 0, 1.5, "3", True, None])
def test_ids_are_checked_before_they_reach_sqlite(tmp_path, bad):
    store = ScenarioStore(tmp_path / "s.sqlite")
    with pytest.raises(InputError, match="whole number between 1 and"):
        store.get(bad, ME)


def test_wal_mode_and_reopening_keeps_data(tmp_path):
    path = tmp_path / "s.sqlite"
    ScenarioStore(path).save("m", Scenario("kept", {"x": 1}), ME)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ScenarioStore(path).list("m", ME)[0].scenario.levers == {"x": 1.0}


def test_a_failed_write_keeps_saved_scenarios(tmp_path):
    path = tmp_path / "s.sqlite"
    store = ScenarioStore(path)
    store.save("m", Scenario("one", {"x": 1}), ME)
    # Make every later insert fail half-way (after the row is written, before commit).
    with sqlite3.connect(path) as db:
        db.execute("CREATE TRIGGER boom AFTER INSERT ON versions BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(StoreError, match=r"^the scenario store s.sqlite cannot be written \(disk full\)$"):
        store.save("m", Scenario("two", {"x": 2}), ME)
    with pytest.raises(StoreError, match="disk full"):
        store.save("m", Scenario("one", {"x": 3}), ME, replace=True)
    assert [(s.name, s.scenario.levers, s.version) for s in store.list("m", ME)] == [("one", {"x": 1.0}, 1)]


def test_a_store_file_that_vanished_is_created_again_and_a_damaged_one_is_left_alone(tmp_path):
    path = tmp_path / "s.sqlite"
    store = ScenarioStore(path)
    store.save("m", Scenario("one", {"x": 1}), ME)
    for leftover in path.parent.glob("s.sqlite*"):
        leftover.unlink()  # deleted while the server runs (with its write-ahead log, if any)
    assert store.list("m", ME) == []  # a new, empty store: no "no such table"
    saved = store.save("m", Scenario("two", {"x": 2}), ME)
    assert store.get(saved, ME).scenario.levers == {"x": 2.0}
    # a stale write-ahead log beside a vanished file is moved aside, never replayed into the new store
    path.unlink()
    (tmp_path / "s.sqlite-wal").write_bytes(b"stale log")
    assert store.list("m", ME) == []
    assert [p.name.split(".orphan-")[0] for p in tmp_path.glob("*.orphan-*")] == ["s.sqlite-wal"]
    # a file that is not a database: one line, and the file stays as it was
    path.write_bytes(b"not a database, someone's notes" * 100)
    with pytest.raises(StoreError, match=r"^the scenario store s.sqlite cannot be written \(file is not a database\)$"):
        store.save("m", Scenario("three", {"x": 3}), ME)
    with pytest.raises(StoreError, match="cannot be read"):
        store.list("m", ME)
    assert path.read_bytes() == b"not a database, someone's notes" * 100


def test_scenarios_of_schema_1_move_to_the_shared_library(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE scenarios (id INTEGER PRIMARY KEY, model TEXT NOT NULL, name TEXT NOT NULL, "
                   "scenario TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL, UNIQUE (model, name))")
        payload = '{"name": "Old", "levers": {"A": 1}}'
        db.execute("INSERT INTO scenarios VALUES (1, 'gsc', 'Old', ?, 1, 2)", (payload,))
        db.execute("PRAGMA user_version=1")
    store = ScenarioStore(path)
    (old,) = store.list("gsc", ME)
    assert (old.name, old.workspace, old.scenario.levers, old.mine(ME)) == ("Old", LEGACY_WORKSPACE, {"A": 1.0}, False)


def test_concurrent_writers_from_threads(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")
    errors = []

    def write(i):
        try:
            for j in range(10):
                store.save("m", Scenario(f"s{i}-{j}", {"x": j}), ME)
                store.save("m", Scenario("shared", {"x": i}), ME, replace=True)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.list("m", ME)) == 81
    shared = next(s for s in store.list("m", ME) if s.name == "shared")
    assert shared.version == 80  # every replace is a version; none lost


def test_default_path_is_a_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GSCSD_STORE", str(tmp_path / "x.sqlite"))
    assert default_store_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("GSCSD_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "gscsd" / "scenarios.sqlite"
