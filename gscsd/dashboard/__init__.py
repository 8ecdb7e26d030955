"""The planner's dashboard (Plotly Dash). The only part of gscsd that imports Dash.

Start it with ``python app.py [--host 127.0.0.1] [--port 8050] [--models-dir models]``
or ``gunicorn app:server``; :func:`gscsd.dashboard.server.create_app` builds the app.

Adding a tab (plug-ins)
-----------------------
Other parts of gscsd add tabs next to "Trajectories" and "Documentation"
without editing the dashboard: put the module's dotted name in
:data:`gscsd.dashboard.tabs.EXTRA_TABS`. Each such module provides

``LABEL: str``
    The tab's title.
``layout(context: TabContext) -> dash component``
    Called every time a page is built for a model (the first load, a model
    switch, a page reload). ``context`` (:class:`gscsd.dashboard.tabs.TabContext`)
    carries the current :class:`~gscsd.model.Model`, its path, and the ids of the
    shared stores (``context.ids``, a :class:`gscsd.dashboard.tabs.StoreIds`).
    Keep it cheap: run simulations in callbacks, not here.
``register_callbacks(app) -> None``
    Called once per app, at start. Register callbacks with ``app.callback``
    (not ``dash.callback``, which would attach them to whichever app is
    created first); use the shared stores as ``Input``/``State``:

    * ``STORE_IDS.levers`` -- ``data`` is ``{lever name: value}`` for every
      lever of the current model (the current scenario, updated as sliders move);
    * ``STORE_IDS.model`` -- ``data`` is ``{"file", "path", "hash", "name"}`` of
      the selected model; :func:`gscsd.dashboard.tabs.model_from_store` turns it
      into a :class:`~gscsd.model.Model` (loaded once per content hash);
    * ``STORE_IDS.method`` -- ``data`` is the integration method chosen in the
      header (one of :data:`gscsd.engines.METHODS`);
    * ``STORE_IDS.overlays`` -- ``data`` is a list of saved scenarios chosen for
      overlay, each ``{"name", "levers"}``;
    * ``STORE_IDS.load`` -- write ``{lever name: value}`` to its ``data``
      (``Output(STORE_IDS.load, "data", allow_duplicate=True)``) to set the
      sliders (unmentioned levers go to their defaults).

    Give your own components ids prefixed with your module's name (e.g.
    ``"uncertainty-samples"``) so they never clash. Components of a tab exist
    only once its page is built, which the app allows
    (``suppress_callback_exceptions``).

A tab whose module fails to import or whose ``layout`` raises is shown with
the error message instead of its content; the rest of the dashboard works on.
See ``docs/dashboard.md``.
"""
