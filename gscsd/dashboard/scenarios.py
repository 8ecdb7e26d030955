"""Saved scenarios in the dashboard: what the scenario bar's buttons do, as plain methods.

Each method takes plain values (the page's view, the browser's workspace,
the fields of the bar) and returns plain values, so tests call them
directly; :mod:`.callbacks` wires them to the buttons. Nothing here can lose
work: saving over a name asks first and keeps the older versions, Delete
moves to the trash (Undo and Restore bring it back), and only a scenario's
own workspace can change it.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InputError
from ..model import Model
from ..store import NameTaken, SavedScenario
from .services import Services

#: Overlay option values: a saved scenario (``id:12``) or an overlay that came with the page's link (``link:0``).
SAVED, LINK = "id:", "link:"


@dataclass(frozen=True)
class Outcome:
    """What a scenario action tells the page.

    Attributes
    ----------
    message : str
        One line for the status area.
    selected : int or None
        The saved scenario to select afterwards (``None``: leave the selection).
    confirm : str or None
        A question to ask before going on (saving over a name).
    undo : int or None
        A scenario the Undo button brings back from the trash.
    load : dict or None
        ``{"levers", "name"}`` to make the current scenario.
    notes : str or None
        Text for the notes box.
    saved : dict or None
        Set by a save that succeeded, and only then: ``{"id", "name", "version", "levers"}`` of the scenario
        saved. The page reads that its name now stands for these levers from here, never from ``message``
        (words for people, which may change).
    """

    message: str
    selected: int | None = None
    confirm: str | None = None
    undo: int | None = None
    load: dict[str, Any] | None = None
    notes: str | None = None
    saved: dict[str, Any] | None = None


class ScenarioPanel:
    """The scenario bar's actions for one app."""

    def __init__(self, services: Services) -> None:
        self.services = services

    # -- listings -----------------------------------------------------------
    def options(self, model: Model, workspace: str) -> list[dict[str, Any]]:
        """Saved scenarios a workspace can load: its own, then the shared library."""
        return [{"label": _label(saved, workspace), "value": saved.id}
                for saved in self.services.store.list(model.name, workspace)]

    def trash_options(self, model: Model, workspace: str) -> list[dict[str, Any]]:
        """The workspace's trash, most recently deleted first."""
        return [{"label": f"{saved.name} (deleted {_when(saved.deleted)})", "value": saved.id}
                for saved in self.services.store.trash(model.name, workspace)]

    def version_options(self, selected: int | None, workspace: str) -> list[dict[str, Any]]:
        """Every version of the selected scenario, newest first."""
        if selected is None:
            return []
        try:
            versions = self.services.store.versions(selected, workspace)
        except InputError:
            return []
        newest = versions[0].version if versions else 0
        return [{"label": f"v{v.version} · {_when(v.saved)}" + (" (current)" if v.version == newest else ""),
                 "value": v.version} for v in versions]

    # -- actions -------------------------------------------------------------
    def save(self, view: Mapping[str, Any] | None, workspace: str, name: str | None, notes: str | None,
             replace_existing: bool = False) -> Outcome:
        """Save the page's current scenario under ``name`` (asking before replacing one)."""
        if not (name or "").strip():
            raise InputError("a saved scenario needs a name; type one first")
        model = self._model(view)
        scenario = replace(self.services.scenario(model, view or {}, name), notes=notes or "")
        try:
            selected = self.services.store.save(model.name, scenario, workspace, replace=replace_existing)
        except NameTaken:
            return Outcome("", confirm=f"'{' '.join(name.split())}' is saved already. Replace it? Its current "
                                       "version stays in its history.")
        saved = self.services.store.get(selected, workspace)
        how = f"Saved '{saved.name}'" + (f" as version {saved.version}" if saved.version > 1 else "")
        return Outcome(how + ".", selected=selected,
                       saved={"id": selected, "name": saved.name, "version": saved.version,
                              "levers": dict(saved.scenario.levers)})

    def load(self, selected: int | None, workspace: str) -> Outcome:
        """Make a saved scenario the current one."""
        if selected is None:
            return Outcome("Pick a saved scenario to load.")
        saved = self.services.store.get(selected, workspace)
        params = saved.scenario.params if isinstance(saved.scenario.params, str) else None
        return Outcome(f"Loaded '{saved.name}'.", notes=saved.scenario.notes,
                       load={"levers": dict(saved.scenario.levers), "name": saved.name, "params": params})

    def rename(self, selected: int | None, workspace: str, name: str | None) -> Outcome:
        """Rename the selected saved scenario to ``name``."""
        if selected is None:
            raise InputError("pick a saved scenario to rename first")
        self.services.store.rename(selected, name or "", workspace)
        return Outcome(f"Renamed to '{' '.join((name or '').split())}'.", selected=selected)

    def delete(self, selected: int | None, workspace: str) -> Outcome:
        """Move the selected scenario to the trash (Undo brings it back)."""
        if selected is None:
            raise InputError("pick a saved scenario to delete first")
        gone = self.services.store.delete(selected, workspace)
        return Outcome(f"Moved '{gone.name}' to the trash.", undo=gone.id)

    def restore(self, scenario_id: int | None, workspace: str) -> Outcome:
        """Bring a scenario back from the trash."""
        if scenario_id is None:
            raise InputError("pick a scenario in the trash first")
        saved = self.services.store.restore(scenario_id, workspace)
        return Outcome(f"Restored '{saved.name}'.", selected=saved.id)

    def restore_version(self, selected: int | None, version: int | None, workspace: str) -> Outcome:
        """Make an older version the current one (as a new version; nothing is overwritten)."""
        if selected is None or version is None:
            raise InputError("pick a saved scenario and one of its versions first")
        number = self.services.store.restore_version(selected, version, workspace)
        return Outcome(f"Version {version} is the current one again (saved as version {number}).", selected=selected)

    def publish(self, selected: int | None, workspace: str, published: bool) -> Outcome:
        """Put the selected scenario in the shared library, or take it out."""
        if selected is None:
            raise InputError("pick a saved scenario first")
        self.services.store.publish(selected, workspace, published)
        saved = self.services.store.get(selected, workspace)
        return Outcome(f"'{saved.name}' is {'in' if published else 'no longer in'} the shared library.",
                       selected=selected)

    # -- overlays ------------------------------------------------------------
    def overlays(self, values: Sequence[str] | None, view_overlays: Sequence[Mapping[str, Any]] | None,
                 workspace: str) -> list[dict[str, Any]]:
        """The overlays (by value) for the overlay picker's values."""
        chosen = []
        for value in values or []:
            if isinstance(value, str) and value.startswith(SAVED):
                try:
                    saved = self.services.store.get(int(value[len(SAVED):]), workspace)
                except (InputError, ValueError):
                    continue  # deleted by its owner meanwhile
                chosen.append({"name": saved.name, "levers": dict(saved.scenario.levers)})
            elif isinstance(value, str) and value.startswith(LINK):
                try:
                    chosen.append(dict((view_overlays or [])[int(value[len(LINK):])]))
                except (IndexError, ValueError):
                    continue
        return chosen

    def overlay_picker(self, model: Model, view_overlays: Sequence[Mapping[str, Any]] | None,
                       workspace: str) -> tuple[list[dict[str, Any]], list[str]]:
        """Options and value of the overlay picker for the view's overlays.

        An overlay equal to a saved scenario (name and levers) shows as that
        scenario; one that came with a link and is saved nowhere shows as
        ``name (from the link)``.
        """
        saved = self.services.store.list(model.name, workspace)
        options = [{"label": _label(s, workspace), "value": f"{SAVED}{s.id}"} for s in saved]
        value = []
        for i, overlay in enumerate(view_overlays or []):
            match = next((s for s in saved if s.name == overlay.get("name")
                          and _same(s.scenario.levers, overlay.get("levers") or {})), None)
            if match is not None:
                value.append(f"{SAVED}{match.id}")
            else:
                options.append({"label": f"{overlay.get('name')} (from the link)", "value": f"{LINK}{i}"})
                value.append(f"{LINK}{i}")
        return options, value

    def _model(self, view: Mapping[str, Any] | None) -> Model:
        if not view:
            raise InputError("the page has not finished loading; try again")
        return self.services.model(view.get("model"))


def _same(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    return json.dumps(sorted((k, float(v)) for k, v in a.items())) == json.dumps(
        sorted((k, float(v)) for k, v in b.items()))


def _label(saved: SavedScenario, workspace: str) -> str:
    if not saved.mine(workspace):
        return f"{saved.name} · shared library"
    return saved.name + (" · published" if saved.published else "")


def _when(timestamp: float | None) -> str:
    return _dt.datetime.fromtimestamp(timestamp or 0).strftime("%Y-%m-%d %H:%M")
