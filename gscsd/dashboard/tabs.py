"""The tab plug-in registry of the dashboard (see the package docstring).

To add a tab, append your module's dotted name to :data:`EXTRA_TABS`; the
module provides ``LABEL``, ``layout(context)`` and ``register_callbacks(app)``.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ..model import Model, load_model

#: Dotted module names of the extra tabs, in display order (after "Trajectories").
#: Engineers adding a tab append their module here, e.g. ``"gscsd.dashboard.structure_tab"``.
EXTRA_TABS: list[str] = ["gscsd.dashboard.structure_tab", "gscsd.dashboard.uncertainty_tab",
                         "gscsd.dashboard.sensitivity_tab", "gscsd.dashboard.optimize_tab"]


@dataclass(frozen=True)
class StoreIds:
    """Ids of the ``dcc.Store`` components every tab may read (``data`` property).

    Attributes
    ----------
    levers : str
        ``{lever name: value}`` of every lever of the current model.
    model : str
        ``{"file": "gsc.mdl", "path": "/abs/models/gsc.mdl", "hash": "...", "name": "gsc"}``.
    method : str
        Integration method name (one of :data:`gscsd.engines.METHODS`).
    overlays : str
        Saved scenarios selected for overlay: ``[{"name": ..., "levers": {...}}, ...]``.
    load : str
        Write-only for tabs: set its ``data`` to ``{lever name: value}`` (an
        ``Output`` with ``allow_duplicate=True``) to move the sliders there;
        levers not mentioned go to their defaults.
    """

    levers: str = "store-levers"
    model: str = "store-model"
    method: str = "store-method"
    overlays: str = "store-overlays"
    load: str = "scenario-loaded"


#: The shared store ids (the same for every page and model).
STORE_IDS = StoreIds()


@dataclass(frozen=True)
class TabContext:
    """What a tab's ``layout`` gets to build itself for the current model.

    Attributes
    ----------
    model : Model
        The selected model (immutable; share it freely, never a PySD object).
    model_path : Path
        Its ``.mdl`` file.
    levers : dict of str to float
        The lever values the page starts with (defaults overlaid by the URL).
    ids : StoreIds
        Ids of the shared stores to use as callback ``Input``/``State``.
    """

    model: Model
    model_path: Path
    levers: dict[str, float] = field(default_factory=dict)
    ids: StoreIds = STORE_IDS


def load_tab_modules(names: list[str] | None = None) -> list[tuple[str, ModuleType | None, str | None]]:
    """Import the tab modules: ``(name, module or None, error message or None)`` each."""
    loaded = []
    for name in EXTRA_TABS if names is None else names:
        try:
            module = importlib.import_module(name)
            missing = [a for a in ("LABEL", "layout", "register_callbacks") if not hasattr(module, a)]
            if missing:
                raise AttributeError(f"tab module {name} lacks {', '.join(missing)}")
            loaded.append((name, module, None))
        except Exception as exc:  # a broken plug-in must not take the dashboard down
            loaded.append((name, None, f"{type(exc).__name__}: {exc}"))
    return loaded


_models: dict[tuple[str, str], Model] = {}
_models_lock = threading.Lock()


def model_from_store(data: dict[str, Any]) -> Model:
    """The :class:`Model` described by the ``STORE_IDS.model`` store's data.

    Loaded once per (path, content hash) and shared: a Model holds no
    simulation state. Runs still build a fresh engine each (``gscsd.run``).
    """
    key = (data["path"], data["hash"])
    with _models_lock:
        model = _models.get(key)
    if model is None:
        model = load_model(data["path"])
        with _models_lock:
            _models[(data["path"], model.hash)] = model
    return model
