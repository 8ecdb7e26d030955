"""The services behind the dashboard, created once per app and handed to every part of it.

Every tab, route and callback gets the same :class:`Services` (as
explainerdashboard hands its explainer to each component): the model
library, the result cache, the scenario store, the job runner and the
engine. Nothing reaches for a module-level global, so two apps in one
process (tests do that) never share state, and there is one place that
says which model version, engine and method a run uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..scenario import Scenario
from ..share import View
from ..store import ScenarioStore, check_workspace
from .library import ModelLibrary
from .results import ResultCache, scenario_for, simulate

if TYPE_CHECKING:
    import pandas as pd

    from ..analysis.jobs import JobRunner
    from ..model import Model


@dataclass
class Services:
    """What the dashboard's parts share.

    Attributes
    ----------
    library : ModelLibrary
        The models offered, by file name (paths never come from the browser).
    results : ResultCache
        Recent results, shared by every session (read-only frames).
    store : ScenarioStore
        Saved scenarios.
    jobs : JobRunner
        Background analyses.
    engine : str or None
        Engine of every run (``None``: :func:`gscsd.run`'s choice).
    workspace_header : str or None
        Behind a login: the request header that names the user (set by the
        proxy that authenticated them); it then is the workspace, and the
        browser's key is ignored.
    max_runs : int
        Most runs an analysis started from the dashboard may ask for.
    """

    library: ModelLibrary
    results: ResultCache
    store: ScenarioStore
    jobs: JobRunner
    engine: str | None = None
    workspace_header: str | None = None
    #: Most runs one analysis started from the dashboard may ask for (a shared server: one planner's
    #: analysis must not hold the CPU for an hour); the command line has no such limit.
    max_runs: int = 20_000

    def model(self, file: str | None) -> Model:
        """The current version of an offered model; InputError for anything else."""
        if not file:
            file = self.library.default()
        if file is None:
            raise InputError("no model is offered; start the dashboard with --models-dir pointing at Vensim models")
        loaded = self.library.get(file)
        if loaded.model is None:
            raise InputError(f"{file} cannot be loaded: {loaded.error}")
        return loaded.model

    def simulate(self, model: Model, scenario: Scenario, method: str) -> tuple[pd.DataFrame, bool]:
        """Results of ``scenario`` (cached) with the app's engine, and whether they were cached."""
        return simulate(model, scenario, method, self.results, self.engine)

    def scenario(self, model: Model, view: View | Mapping[str, Any], name: str | None = None) -> Scenario:
        """The current scenario of a page: the one place a view becomes a :class:`Scenario`.

        ``view`` is a :class:`~gscsd.share.View` or the view store's data
        (``View.as_dict()``): its levers, name and parameter set. Levers the
        model no longer has are dropped.
        """
        if isinstance(view, Mapping):
            levers, label, params = view.get("levers") or {}, view.get("name") or "", view.get("params") or None
        else:
            levers, label, params = view.levers, view.name, view.params
        if not isinstance(levers, Mapping) or not (params is None or isinstance(params, str)):
            raise InputError("the page's levers are malformed; reload the page")
        return scenario_for(model, levers, name or label or "Current", params)

    def method(self, view: View | Mapping[str, Any] | None, model: Model | None = None) -> str:
        """The page's integration method (else the model's own setting, else Euler)."""
        from ..engines import METHODS
        from ..share import model_method

        method = view.get("method") if isinstance(view, Mapping) else getattr(view, "method", None)
        return method if method in METHODS else (model_method(model) if model is not None else "euler")

    def check_runs(self, runs: int, what: str) -> None:
        """InputError when an analysis would ask for more than :attr:`max_runs` runs."""
        if runs > self.max_runs:
            raise InputError(f"{what} needs {runs:,} runs; the dashboard allows {self.max_runs:,} per analysis "
                             "(run it with the gscsd command line for more)")

    def workspace(self, key: object, headers: Mapping[str, str] | None = None) -> str:
        """The workspace of a request: the login header when configured, else the browser's key."""
        if self.workspace_header:
            user = (headers or {}).get(self.workspace_header)
            if not user:
                raise InputError(f"no '{self.workspace_header}' header: sign in through the proxy first")
            return check_workspace(user)
        return check_workspace(key)
