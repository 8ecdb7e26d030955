"""The SQLite scenario store."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from gscsd.errors import InputError
from gscsd.scenario import Scenario
from gscsd.store import ScenarioStore, default_store_path


def test_save_list_get_rename_delete(tmp_path):
    store = ScenarioStore(tmp_path / "sub" / "s.sqlite")
    first = store.save("gsc", Scenario("Green push", {"A": 0.7}, notes="n"))
    store.save("gsc", Scenario("alpha", {"A": 0.1}))
    store.save("teacup", Scenario("Green push", {"B": 2}))
    assert [s.name for s in store.list("gsc")] == ["alpha", "Green push"]
    assert store.get(first).scenario.levers == {"A": 0.7} and store.get(first).scenario.notes == "n"
    # saving under the same name replaces it and keeps the id
    assert store.save("gsc", Scenario("Green push", {"A": 0.9})) == first
    assert store.get(first).scenario.levers == {"A": 0.9}
    with pytest.raises(InputError, match="'Green push' is already saved for gsc"):
        store.save("gsc", Scenario("Green push", {}), overwrite=False)
    store.rename(first, "  Greener   push ")
    assert store.get(first).name == "Greener push"
    assert store.get(first).scenario.name == "Greener push"
    with pytest.raises(InputError, match="'alpha' is already saved for gsc; choose another name"):
        store.rename(first, "alpha")
    with pytest.raises(InputError, match="needs a name"):
        store.save("gsc", Scenario("  ", {}))
    store.delete(first)
    assert [s.name for s in store.list("gsc")] == ["alpha"]
    with pytest.raises(InputError, match=f"no saved scenario with id {first}"):
        store.get(first)
    assert [s.name for s in store.list("teacup")] == ["Green push"]


def test_wal_mode_and_reopening_keeps_data(tmp_path):
    path = tmp_path / "s.sqlite"
    ScenarioStore(path).save("m", Scenario("kept", {"x": 1}))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ScenarioStore(path).list("m")[0].scenario.levers == {"x": 1.0}


def test_a_failed_write_keeps_saved_scenarios(tmp_path):
    path = tmp_path / "s.sqlite"
    store = ScenarioStore(path)
    store.save("m", Scenario("one", {"x": 1}))
    # Make every later insert fail half-way (after the row is written, before commit).
    with sqlite3.connect(path) as db:
        db.execute("CREATE TRIGGER boom AFTER INSERT ON scenarios BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        store.save("m", Scenario("two", {"x": 2}))
    assert [(s.name, s.scenario.levers) for s in store.list("m")] == [("one", {"x": 1.0})]


def test_concurrent_writers_from_threads(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")
    errors = []

    def work(i):
        try:
            for j in range(5):
                store.save("m", Scenario(f"s{i}-{j}", {"x": i + j / 10}))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    saved = {s.name: s.scenario.levers["x"] for s in store.list("m")}
    assert len(saved) == 30 and saved["s5-4"] == pytest.approx(5.4)


def test_default_path_is_a_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("GSCSD_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "gscsd" / "scenarios.sqlite"
    monkeypatch.setenv("GSCSD_STORE", str(tmp_path / "x.db"))
    assert default_store_path() == tmp_path / "x.db"
