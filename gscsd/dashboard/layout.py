"""Page layout, built from model metadata (no lever name, bound or unit in here).

:func:`shell` is the part that never changes (URL, shared stores, downloads);
:func:`page` builds everything for one model: header, the lever panel (a
slider, a number box and a note per lever, grouped by the model's groups),
the tab bar and the tab panels. The Trajectories panel's charts and cards
are drawn by ``assets/view.js`` from the answers of :mod:`.view`; the other
panels are filled the first time their tab is opened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from ..describe import about, text_of, units_in_words
from ..engines import METHODS
from ..model import Lever, Model
from ..share import chartable, format_value
from .tabs import STORE_IDS

LEVER = "lever"
LEVER_BOX = "lever-box"
LEVER_RESET = "lever-reset"
TAB = "tab"
MODE = "mode"
PANEL = "panel"
#: Written by the page build for assets/view.js: the page's levers and tabs, and the answer for its URL.
VIEW_INIT = "view-init"
#: Written by assets/view.js: the view's overlays (when they change), the tab opened for the first time.
VIEW_OVERLAYS = "view-overlays"
TAB_OPENED = "tab-opened"
#: Written by a callback: the overlays picked, by value, for assets/view.js.
OVERLAY_CHOSEN = "overlay-chosen"
#: The browser's workspace key (kept in localStorage).
WORKSPACE = "workspace"
#: Written by a callback when a save succeeded: what was saved (scenarios.Outcome.saved), for assets/view.js.
SCENARIO_SAVED = "scenario-saved"
BUILTIN_TABS = (("trajectories", "Trajectories"), ("documentation", "Documentation"))
DOC_COLUMNS = ("name", "units", "type", "group", "equation", "comment")


def shell(children: Any, init: Mapping[str, Any] | None) -> html.Div:
    """The page: URL, stores shared by every tab, downloads, and ``children`` (the page of a model).

    ``init`` is what assets/view.js starts the page with (:func:`page_data`).
    """
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="nav"),
            dcc.Store(id=VIEW_INIT, data=init),
            dcc.Store(id=STORE_IDS.view),
            dcc.Store(id=STORE_IDS.load),
            dcc.Store(id=VIEW_OVERLAYS),
            dcc.Store(id=OVERLAY_CHOSEN),
            dcc.Store(id=TAB_OPENED),
            dcc.Store(id=WORKSPACE, storage_type="local"),
            dcc.Download(id="download-csv"),
            dcc.Download(id="download-report"),
            html.Div(id="page", className="page", children=children),
        ],
        className="gscsd",
    )


def page_data(model: Model, file: str, tabs: Sequence[str], answer: Mapping[str, Any],
              query: str = "") -> dict[str, Any]:
    """What assets/view.js needs to run the page: model, levers (range, step, default), tabs, the answer
    for the URL the page was built from, and that URL's ``query``."""
    levers = {lever.name: {"min": lever.min, "max": lever.max, "step": lever.step, "default": lever.default}
              for lever in model.levers}
    return {"page": {"model": {"file": file, "hash": model.hash}, "levers": levers, "tabs": list(tabs)},
            "answer": answer, "query": query}


def page(
    model: Model,
    *,
    file: str,
    files: Sequence[str],
    levers: Mapping[str, float],
    method: str,
    tabs: Sequence[tuple[str, str]],
    tab: str = "trajectories",
    sets: Sequence[str] = (),
    params: str | None = None,
) -> list:
    """Everything shown for one model.

    Parameters
    ----------
    model : Model
        The model to build the page for.
    file : str
        Its file name in the models folder; ``files`` are all offered.
    levers : mapping of str to float
        The values the sliders start at.
    method : str
        The integration method selected.
    tabs : sequence of (name, label)
        Every tab, in order.
    tab : str
        The tab shown first.
    sets, params : sequence of str, str or None
        The parameter sets beside the model (regions) and the one the page runs with.
    """
    param_options = [{"label": "the model's own", "value": ""}, *({"label": name, "value": name} for name in sets)]
    header = html.Header(
        [
            html.Button("☰ Levers", id="levers-toggle", className="button levers-toggle",
                        **{"aria-controls": "levers", "aria-expanded": "false"}),
            html.Div([html.H1("gscsd"), html.Span("Green Smart City planner", className="tagline")], className="brand"),
            html.Button("About", id="about-open", className="button", title="What this model is, and how to use it"),
            # On a phone the tools other than the model wait behind this button (assets/view.js: tools-open),
            # so that the header takes two rows and the charts stay in sight.
            html.Button("Tools", id="tools-toggle", className="button tools-toggle",
                        **{"aria-controls": "header-tools", "aria-expanded": "false"}),
            html.Div([
            html.Label(["Model", dcc.Dropdown(id="model-select", options=list(files), value=file, clearable=False,
                                              className="model-select")], className="field model-field"),
            html.Label(["Parameters", dcc.Dropdown(
                id="params-select", value=params or "", clearable=False, className="params-select",
                options=param_options, style=fit_width(option["label"] for option in param_options))],
                className="field", title="A parameter set beside the model (a region): its values replace the "
                                         "model's, and its lever values become the defaults",
                style=None if sets else {"display": "none"}),
            html.Label(["Integration", dcc.Dropdown(id="method-select", options=list(METHODS), value=method,
                                                    clearable=False, className="method-select")], className="field"),
            html.Button("Export CSV", id="export-csv", className="button"),
            html.Button("Export report", id="export-report", className="button",
                        title="One HTML file of this scenario and the overlays, to mail or print"),
            html.Button("Export live report", id="export-live-report", className="button",
                        title="The same file with the model inside it: its reader moves the levers, offline"),
            ], className="header-tools", id="header-tools"),
            html.Span(id="export-message", className="export-message", role="alert"),
            html.Span(id="run-info", className="run-info", title="Time of the last simulation", role="status"),
        ],
        className="header",
    )
    tab_bar = html.Div(
        [html.Button(label, id={"type": TAB, "name": name}, role="tab", className="tab" + (" active" if name == tab
                                                                                          else ""),
                     tabIndex="0" if name == tab else "-1",
                     **{"data-tab": name, "aria-selected": "true" if name == tab else "false",
                        "aria-controls": f"panel-{name}"})
         for name, label in tabs],
        role="tablist", className="tab-bar", **{"aria-label": "Views of the model"},
    )
    # Tab contents other than Trajectories are built the first time the tab is opened (callbacks._open_tab).
    panels = [html.Div(trajectories_tab(model) if name == "trajectories" else
                       html.Div(html.P("Loading...", className="muted"), id={"type": "panel-body", "name": name}),
                       id=f"panel-{name}", role="tabpanel", hidden=name != tab, className="tab-panel",
                       **{"data-panel": name, "aria-label": label})
              for name, label in tabs]
    # The first visit's About card is a block of its own, never over anything: above the lever panel on a
    # wide screen (the levers below it, the charts beside it where they always are), above the tabs on a phone.
    body = html.Div(
        [
            about_intro(model),
            html.Aside(lever_panel(model, levers), id="levers", className="levers", **{"aria-label": "Policy levers"}),
            html.Main([tab_bar, *panels], className="content"),
        ],
        className="body",
    )
    # The first thing a keyboard reaches: past the header and some thirty levers to the charts.
    skip = html.A("Skip to charts", href="#charts", className="skip-link")
    # The live region: one line of what changed (assets/view.js), not the whole summary.
    status = html.Div(id="view-status", className="sr-only", role="status", **{"aria-live": "polite"})
    return [skip, header, about_dialog(model), html.Div(id="banner", className="banner-slot"),
            html.Div(id="url-message", role="alert"), status, body]


def about_parts(model: Model) -> list:
    """What the model is, what it is good for, its limits (from the .mdl) and how to use the page."""
    text = about(model)
    parts: list = [html.P(text.summary or f"{model.name}: a system-dynamics model.")]
    if text.good_for:
        parts += [html.H3("Good for"), html.P(text.good_for)]
    if text.limits:
        parts += [html.H3("Limits"), html.P(text.limits)]
    parts += [html.H3("How to use this page"), html.Ul([
        html.Li("Move the levers (on the left; on a phone behind the Levers button), or type a value in a lever's "
                "box: every chart and card follows at "
                "once. The dashed grey line is the baseline, the model's own values."),
        html.Li(f"The cards give each key output in {format_value(model.time.final)} and its change against the "
                "baseline; green and red say whether the model counts the change as good or bad."),
        html.Li("Save a scenario under a name, overlay saved ones, and copy the address bar to share exactly "
                "what you see."),
        html.Li("The Documentation tab explains every variable; Structure shows the stock-and-flow diagrams; "
                "Uncertainty, Sensitivity and Optimize run analyses."),
    ])]
    return parts


def about_intro(model: Model) -> html.Section:
    """A short about on a visitor's first visit (assets/view.js shows it once; the About button shows it all)."""
    text = about(model)
    return html.Section([html.Div([html.H2(f"About this model: {model.name}"),
                                   html.Div([html.Button("Read more", id="about-more", className="button small"),
                                             html.Button("Got it", id="about-dismiss", className="button small")],
                                            className="about-buttons")],
                                  className="about-head"),
                         html.P(text.summary or f"{model.name}: a system-dynamics model.", className="about-summary"),
                         html.P("Move the levers (on the left; on a phone behind the Levers button): the charts "
                                "and cards follow at once, the baseline dashed grey behind.", className="muted")],
                        id="about-intro", className="about-intro", hidden=True, **{"aria-label": "About this model"})


def about_dialog(model: Model) -> html.Dialog:
    """The about text on demand (the header's About button opens it as a modal dialog)."""
    return html.Dialog([html.Div([html.H2(f"About this model: {model.name}"),
                                  html.Button("Close", id="about-close", className="button small")],
                                 className="about-head"),
                        *about_parts(model)], id="about-dialog", className="about-dialog",
                       **{"aria-label": "About this model"})


def lever_panel(model: Model, values: Mapping[str, float]) -> list:
    """One slider per lever, grouped by the model's groups."""
    close = html.Button("Close", id="levers-close", className="button small levers-close",
                        **{"aria-controls": "levers"})
    if not model.levers:
        return [html.Div([html.H2("Policy levers"), close], className="levers-head"),
                html.P("This model has no constants with a range, so no sliders.", className="muted")]
    groups: dict[str, list[Lever]] = {}
    for lever in model.levers:
        groups.setdefault(lever.group or "Levers", []).append(lever)
    children: list = [
        html.Div([html.H2("Policy levers"),
                  html.Button("Reset all", id="reset-all", className="button small",
                              title="Every lever to its default; clears the scenario name"), close],
                 className="levers-head")
    ]
    for group, levers in groups.items():
        children.append(
            html.Details([html.Summary(f"{group} ({len(levers)})")] +
                         [lever_row(lever, values.get(lever.name, lever.default)) for lever in levers],
                         open=True, className="lever-group")
        )
    if model.assumptions:
        children.append(assumptions_panel(model))
    return children


def assumptions_panel(model: Model) -> html.Details:
    """The model's ranged assumptions beside the policies: values and plausible ranges (not sliders).

    Assumptions are what the model takes as given; the Uncertainty tab varies them over their ranges.
    assets/view.js writes the values of the page's parameter set into the ``data-assumption`` cells.
    """
    rows = []
    for assumption in model.assumptions:
        text = text_of(assumption.label, assumption.comment)
        units = units_in_words(assumption.units)
        rows.append(html.Div([
            html.Div([html.Span(text.label, className="assumption-name"),
                      html.Span(format_value(assumption.default), className="assumption-value",
                                **{"data-assumption": assumption.name}),
                      html.Span(units, className="units")], className="lever-head"),
            html.Div(f"Plausible range {format_value(assumption.min)} to {format_value(assumption.max)}"
                     + (f" {units}" if units else "") + (f". {text.help}" if text.help else ""), className="help"),
        ], className="assumption"))
    return html.Details([html.Summary(f"Assumptions ({len(model.assumptions)})"),
                         html.P("What the model takes as given. They are not policies: the Uncertainty tab varies "
                                "them over their plausible ranges to show how sure the results are.",
                                className="muted assumptions-note"), *rows],
                        open=False, className="lever-group assumptions")


def lever_row(lever: Lever, value: float) -> html.Div:
    """A lever's plain name, units in words, one line of help, slider, number box, note and reset button.

    The modeller's whole comment (sources, assumptions) is one click away under the help line.
    """
    low, high = min(lever.min, value), max(lever.max, value)
    text = text_of(lever.label, lever.comment)
    units = units_in_words(lever.units)
    help_line = [text.help] if text.help else []
    if text.detail and text.detail != text.help:
        help_line.append(html.Details([html.Summary("more"), text.detail]))
    return html.Div(
        [
            html.Div(
                [
                    html.Span(text.label, className="lever-name", title=lever.label),
                    html.Span(units, className="units", title=lever.units),
                    html.Button("↺", id={"type": LEVER_RESET, "name": lever.name}, className="reset",
                                title=f"Reset to {format_value(lever.default)}",
                                **{"aria-label": f"reset {text.label} to {format_value(lever.default)}"}),
                ],
                className="lever-head",
            ),
            html.Div(help_line, className="help") if help_line else None,
            html.Div(
                [
                    dcc.Slider(id={"type": LEVER, "name": lever.name}, min=low, max=high, step=lever.step,
                               value=value, marks={low: format_value(low), high: format_value(high)},
                               updatemode="mouseup", allow_direct_input=False, className="lever-slider"),
                    labelled(f"{text.label} value" + (f" ({units})" if units else ""),
                             dcc.Input(id={"type": LEVER_BOX, "name": lever.name}, type="number", value=value,
                                       debounce=True, step="any", className="lever-box", inputMode="decimal")),
                ],
                className="lever-control", **{"data-label": text.label, "data-units": units},
            ),
            html.Div(className="lever-note", role="status", **{"data-lever-note": lever.name}),
        ],
        className="lever",
    )


def variable_options(model: Model) -> list[dict[str, str]]:
    """Every variable that has results, for the chart picker."""
    options = []
    for variable in sorted(model.variables.values(), key=lambda v: v.name.lower()):
        if not chartable(model, variable.name):
            continue
        label = f"{variable.label} ({variable.units})" if variable.units else variable.label
        options.append({"label": label, "value": variable.name})
    return options


def scenario_bar() -> html.Div:
    """Saving, loading and sharing scenarios: name, save, saved list, overlays; notes, versions, trash below."""
    return html.Div(
        [
            html.Div(
                [
                    labelled("Scenario name", dcc.Input(id="scenario-name", type="text", placeholder="Scenario name",
                                                        debounce=True, className="scenario-name", maxLength=200)),
                    html.Button("Save", id="save-scenario", className="button"),
                    labelled("Saved scenarios", dcc.Dropdown(id="saved-select", options=[],
                                                             placeholder="Saved scenarios", className="saved-select")),
                    html.Button("Load", id="load-scenario", className="button"),
                    labelled("Overlay saved scenarios", dcc.Dropdown(
                        id="overlay-select", options=[], multi=True, placeholder="Overlay saved scenarios",
                        className="overlay-select")),
                ],
                className="scenario-row",
            ),
            html.Div(id="scenario-confirm", className="scenario-confirm", hidden=True, children=[
                html.Span(id="scenario-confirm-text"),
                html.Button("Replace", id="save-replace", className="button danger"),
                html.Button("Cancel", id="save-cancel", className="button"),
            ]),
            dcc.Store(id=SCENARIO_SAVED),
            html.Div([html.Span(id="scenario-message", className="scenario-message", role="status"),
                      html.Button("Undo", id="undo-delete", className="button small", hidden=True)],
                     className="scenario-row"),
            html.Details(
                [
                    html.Summary("Rename, delete, notes, versions, trash and the shared library"),
                    html.Div([html.Button("Rename", id="rename-scenario", className="button",
                                          title="Rename the saved scenario to the name typed above"),
                              html.Button("Delete", id="delete-scenario", className="button danger",
                                          title="Move to the trash (restorable)"),
                              html.Button("Publish", id="publish-scenario", className="button",
                                          title="Put the saved scenario in the library every visitor can see"),
                              html.Button("Unpublish", id="unpublish-scenario", className="button")],
                             className="scenario-row"),
                    labelled("Scenario notes", dcc.Textarea(id="scenario-notes", className="scenario-notes",
                                                            placeholder="Notes saved with the scenario (reports print "
                                                                        "them)", maxLength=20000)),
                    html.Div([labelled("Versions", dcc.Dropdown(id="version-select", options=[],
                                                                placeholder="Versions of the saved scenario",
                                                                className="version-select")),
                              html.Button("Restore version", id="restore-version", className="button")],
                             className="scenario-row"),
                    html.Div([labelled("Trash", dcc.Dropdown(id="trash-select", options=[], placeholder="Trash",
                                                             className="trash-select")),
                              html.Button("Restore", id="restore-scenario", className="button")],
                             className="scenario-row"),
                ],
                className="scenario-more",
            ),
        ],
        className="scenario-bar",
    )


def trajectories_tab(model: Model) -> html.Div:
    """Scenario bar, chart controls, the summary cards, one legend and the charts (drawn by assets/view.js)."""
    subscripted = any(model.variable(v).subscripts for v in model.variables)
    controls = html.Div(
        [
            labelled("Add charts", dcc.Dropdown(id="variable-picker", options=variable_options(model), multi=True,
                                                placeholder="Add charts: any model variable",
                                                className="variable-picker")),
            html.Div([html.Button(label, id={"type": MODE, "name": value}, className="button",
                                  **{"aria-pressed": "true" if value == "sum" else "false", "data-mode": value})
                      for value, label in (("sum", "summed"), ("elements", "per element"))],
                     className="mode-toggle", role="group", hidden=not subscripted,
                     **{"aria-label": "Subscripted variables: summed or one line per element"}),
        ],
        className="chart-controls",
    )
    # The summary is not a live region (a screen reader would read its twenty cards on every move):
    # #view-status says what changed; the cards are read on demand (each focusable, its meaning shown in
    # #card-tip on focus, a tap or the mouse). One row that scrolls sideways, with buttons at the edges where
    # there is more, and a fade there (assets/view.js: summary-wrap's more-left / more-right).
    cards = html.Div([
        html.Button("‹", className="summary-scroll left", tabIndex="-1", title="Earlier key outputs",
                    **{"aria-label": "Scroll the key outputs back", "aria-controls": "summary", "data-scroll": "-1"}),
        html.Div(id="summary", className="summary", role="group", **{"aria-label": "Key outputs"}),
        html.Button("›", className="summary-scroll right", tabIndex="-1", title="More key outputs",
                    **{"aria-label": "Scroll to more key outputs", "aria-controls": "summary", "data-scroll": "1"}),
        html.Div(id="card-tip", className="card-tip", role="tooltip", hidden=True),
    ], className="summary-wrap")
    return html.Div([scenario_bar(), controls, cards,
                     html.Div(id="legend", className="page-legend", **{"aria-label": "Legend"}),
                     html.Div(id="charts", className="charts", tabIndex="-1", role="region",
                              **{"aria-label": "Charts"})],
                    className="tab-body")


def documentation_tab(model: Model) -> html.Div:
    """A searchable table of every variable.

    The rows travel as data and ``assets/view.js`` draws and filters them in the page: a table of
    a few hundred rows built as Dash components took seconds to render, and searching it needed the
    server.
    """
    rows = documentation_rows(model)
    return html.Div(
        [
            html.Div([labelled("Search the model", dcc.Input(
                id="doc-search", type="search", debounce=False, maxLength=200, className="doc-search",
                placeholder="Search names, units, equations, comments")),
                      html.Span(f"{len(rows)} variables", id="doc-count", className="muted", role="status")],
                     className="doc-head"),
            dcc.Store(id="doc-rows", data=rows),
            html.Table([html.Thead(html.Tr([html.Th(c) for c in DOC_COLUMNS])), html.Tbody(id="doc-table")],
                       className="doc-table"),
        ],
        className="tab-body",
    )


def documentation_rows(model: Model, query: str | None = None) -> list[dict[str, str]]:
    """Table rows (name, units, type, group, equation, comment), filtered by ``query`` words."""
    words = (query or "").lower().split()
    rows = []
    for variable in model.variables.values():
        row = {"name": variable.label, "units": variable.units, "type": variable.kind,
               "group": variable.group or "", "equation": variable.equation, "comment": variable.comment}
        text = " ".join(row.values()).lower()
        if all(word in text for word in words):
            rows.append(row)
    return rows


def fit_width(labels: Any) -> dict[str, str]:
    """A dropdown's style that shows the longest of ``labels`` whole (room for the arrow), as wide as its
    place allows: a fixed width cut "the model's own" to "the model's o..."."""
    longest = max((len(str(label)) for label in labels), default=8)
    return {"width": f"calc({longest + 1}ch + 44px)", "maxWidth": "100%"}


def labelled(text: str, component: Any) -> html.Label:
    """``component`` with an accessible name that screen readers read (the text is visually hidden)."""
    return html.Label([html.Span(text, className="sr-only"), component], className="labelled")


def error_page(text: str, strong: str | None = None) -> list:
    """A page that only says what is wrong."""
    return [html.Div([html.Strong(strong) if strong else None, text], className="banner error", role="alert")]
