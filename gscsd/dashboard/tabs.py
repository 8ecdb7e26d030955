"""The tab contract of the dashboard, and its plug-in registry.

A tab is a class (explainerdashboard's ``ExplainerComponent`` shape): it is
made once per app with the app's :class:`~.services.Services` injected,
builds its content for a page with :meth:`Tab.layout`, and registers its
callbacks once with :meth:`Tab.register_callbacks`. Every tab reads the
page's state from one place, the view store (``STORE_IDS.view``, written by
``assets/view.js`` with the view the page shows), and turns it into a model,
a scenario and a method with the services
(:meth:`~.services.Services.model`, :meth:`~.services.Services.scenario`,
:meth:`~.services.Services.method`), so every tab runs the model version,
scenario, engine and method the charts show.

To add a tab, append ``"package.module:ClassName"`` to :data:`EXTRA_TABS`.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import dash

    from ..model import Model
    from ..share import View
    from .services import Services

#: The extra tabs, in display order (between "Trajectories" and "Documentation").
EXTRA_TABS: list[str] = ["gscsd.dashboard.compare_tab:CompareTab", "gscsd.dashboard.structure_tab:StructureTab",
                         "gscsd.dashboard.uncertainty_tab:UncertaintyTab",
                         "gscsd.dashboard.sensitivity_tab:SensitivityTab", "gscsd.dashboard.optimize_tab:OptimizeTab"]


@dataclass(frozen=True)
class StoreIds:
    """Ids of the ``dcc.Store`` components every tab may use (``data`` property).

    Attributes
    ----------
    view : str
        Read-only for tabs: the view the page shows (:meth:`gscsd.share.View.as_dict`,
        every lever's value under ``levers``, and the model's ``hash``).
    load : str
        Write-only for tabs: set its ``data`` to ``{"levers": {name: value}, "name": str}``
        (an ``Output`` with ``allow_duplicate=True``) to make that the current
        scenario; levers not mentioned go to their defaults.
    """

    view: str = "store-view"
    load: str = "scenario-loaded"


#: The shared store ids (the same for every page and model).
STORE_IDS = StoreIds()


@dataclass(frozen=True)
class TabContext:
    """What a tab's ``layout`` gets to build itself for the current page.

    Attributes
    ----------
    model : Model
        The page's model (immutable; share it freely, never a PySD object).
    view : View
        The view the page was built for.
    ids : StoreIds
        Ids of the shared stores to use as callback ``State``/``Output``.
    """

    model: Model
    view: View
    ids: StoreIds = STORE_IDS
    extra: dict[str, Any] = field(default_factory=dict)


class Tab:
    """A tab of the dashboard. Subclasses set ``label`` (and ``name`` if the label is not a good URL word).

    Parameters
    ----------
    services : Services
        The app's shared services; every run a tab makes goes through them.
    """

    label: ClassVar[str] = ""
    name: ClassVar[str] = ""

    def __init__(self, services: Services) -> None:
        self.services = services

    @classmethod
    def key(cls) -> str:
        """The tab's name in URLs and component ids (``uncertainty``)."""
        return cls.name or re.sub(r"[^a-z0-9]+", "-", cls.label.lower()).strip("-")

    def layout(self, context: TabContext) -> Any:
        """The tab's content for a page (called the first time the tab is opened)."""
        raise NotImplementedError

    def register_callbacks(self, app: dash.Dash) -> None:
        """Register the tab's callbacks on ``app`` (once per app); use ``app.callback``."""


@dataclass(frozen=True)
class Broken:
    """A tab whose class failed to import or build: it shows its error instead of its content."""

    label: str
    error: str

    def key(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")


def load_tabs(services: Services, names: list[str] | None = None) -> list[Tab | Broken]:
    """Make the tabs of :data:`EXTRA_TABS` (or ``names``) for an app; a broken one becomes :class:`Broken`."""
    tabs: list[Tab | Broken] = []
    for spec in EXTRA_TABS if names is None else names:
        module_name, _, class_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
            cls = getattr(module, class_name or "TAB")
            if not (isinstance(cls, type) and issubclass(cls, Tab)):
                raise TypeError(f"{spec} is not a gscsd.dashboard.tabs.Tab")
            tabs.append(cls(services))
        except Exception as exc:  # a broken plug-in must not take the dashboard down
            tabs.append(Broken(class_name or module_name.rsplit(".", 1)[-1], f"{type(exc).__name__}: {exc}"))
    return tabs
