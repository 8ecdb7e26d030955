/*
 * The dashboard's one update path, in the browser.
 *
 * The page keeps one view: the model, every lever's value, the method, the
 * scenario name, the overlays, the charts picked, the chart mode and the tab.
 * Whatever changes it (a slider dragged or moved by keys, a value typed into a
 * lever's box, a reset, Reset all, loading a saved scenario, an analysis tab's
 * "load", the chart picker, the mode, the method, the overlays, a tab, Back and
 * Forward) calls gscsd.change(), which posts the view to the server
 * (gscsd/dashboard/view.py through POST <prefix>_gscsd/view). One request is
 * in flight at a time; changes made meanwhile are sent together when it
 * returns, so answers never cross and the last change always wins. An answer
 * holds everything shown for its view: the charts (whole figures, or only the
 * new 'Current' lines), the summary cards, the run information, banners and
 * notes, the view as the server read it, and its URL. All of it is drawn at
 * once. When no newer change waits, the page adopts the answer's view: the
 * sliders, boxes, pickers and the shared view store (read by saving, exports
 * and the analysis tabs) take its values and the URL is written (one history
 * entry per change, except that moves of the same lever replace each other).
 *
 * Charts are Plotly plots this file draws itself. Charts in view are drawn
 * first, the rest of the Trajectories tab right after that paint; while
 * another tab is shown they wait and are drawn when the tab comes back.
 */
(function () {
    "use strict";

    // Plotly.animate options: jump straight to the new values, keep axes and legend as they are.
    const ANIMATION = {mode: "immediate", frame: {duration: 0, redraw: false}, transition: {duration: 0}};
    const CONFIG = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"]};
    const LEVER = "lever", BOX = "lever-box";

    let page = null;      // {model: {file, hash}, levers: {name: {min, max, step, default}}, tabs: [...]}
    let state = null;     // the view the page is heading for (levers: every lever)
    let shown = null;     // the view last adopted: what the widgets and the URL show
    let inflight = false; // a request is on its way
    let dirty = false;    // the view changed since the last request
    let typed = {};       // values typed into boxes, sent until an answer has read them
    let notes = {};       // lever -> why a typed value was not used as typed (until the lever changes)
    let query = null;     // a URL query to read the view from (Back/Forward), instead of the view
    let pendingKey;       // what the changes since the last request were (undefined: none yet)
    let pendingHistory = "auto";
    let historyKey = null; // the change behind the current history entry
    let charts = {revision: "", order: [], ranges: {}, figures: {}, current: {}};
    let stale = {};       // variable -> "full" | "lines": drawn data is older than charts.figures
    let drawScheduled = false;
    let unsynced = {};    // variable -> true: lines traced into the SVG, Plotly's own data not updated yet
    let syncTimer = null;
    const SYNC_AFTER = 150;  // ms without new lines before Plotly's own data catches up
    let dragMode = null;
    let here = null;      // how this page runs its charts' scenario itself (the answer's charts.preview), or null
    let drawnHere = false; // the lines drawn are the view's, run in this page (its answer has not come yet)
    let opened = {};      // tabs whose content was asked for
    // The scenario a name was given to (loaded, saved, typed, or a link's): {name, base, levers}. Once its
    // levers change, the page's name (and so its link, exports and saves) says so: "Carbon 150 (modified)",
    // and a link never carries a saved scenario's name for other values; moved back, the name is whole again.
    let named = null;
    const MODIFIED = " (modified)";
    let announced = "";   // the last status line read to screen readers

    function setProps(id, props) { window.dash_clientside.set_props(id, props); }

    function prefix() {
        // The app's path below the host ("/" unless served under a path), with its closing slash.
        const config = document.getElementById("_dash-config");
        const path = (config && JSON.parse(config.textContent).requests_pathname_prefix) || "/";
        return path.replace(/\/?$/, "/");
    }

    function viewUrl() { return prefix() + "_gscsd/view"; }

    function sameJSON(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

    function merge(view, patch) {
        const next = Object.assign({}, view, patch);
        if (patch.levers) { next.levers = Object.assign({}, view.levers, patch.levers); }
        return next;
    }

    // -- changes ------------------------------------------------------------------------
    function change(patch, how) {
        if (!state) { return; }
        how = how || {};
        const next = merge(state, patch || {});
        if (named && patch && patch.levers && how.query === undefined && !how.load &&
            (next.name === named.name || next.name === named.base + MODIFIED)) {
            next.name = sameJSON(sortedLevers(next.levers), named.levers) ? named.name : named.base + MODIFIED;
        }
        if (!how.typed && how.query === undefined && !how.force && sameJSON(next, state)) {
            return;  // nothing new: e.g. a widget taking the value the page gave it
        }
        state = next;
        if (how.typed) { Object.assign(typed, how.typed); }
        Object.keys(Object.assign({}, patch && patch.levers, how.typed)).forEach(function (name) { delete notes[name]; });
        if (how.query !== undefined) { query = how.query; }
        const key = how.key || "";
        pendingKey = pendingKey === undefined || pendingKey === key ? key : "";
        pendingHistory = how.history || (pendingHistory === "none" ? "none" : "auto");
        if (patch && patch.tab !== undefined) { showTab(patch.tab); }
        dirty = true;
        drawnHere = !how.typed && how.query === undefined && onlyLevers(patch) && runHere();
        if (!inflight) { send(); }
    }

    function sortedLevers(levers) {
        const out = {};
        Object.keys(levers || {}).sort().forEach(function (name) { out[name] = levers[name]; });
        return out;
    }

    function nameGiven(name, levers, saved) {
        // ``name`` now stands for ``levers`` (see ``named``); a link's "X (modified)" edited stays that, a name
        // saved as "X (modified)" edited is "X (modified) (modified)" (it is not the saved scenario any more).
        const base = !saved && name.slice(-MODIFIED.length) === MODIFIED ? name.slice(0, -MODIFIED.length) : name;
        named = name ? {name: name, base: base, levers: sortedLevers(levers)} : null;
    }

    function onlyLevers(patch) {
        return Boolean(patch) && Object.keys(patch).every(function (key) { return key === "levers" || key === "name"; });
    }

    function send() {
        inflight = true;
        dirty = false;
        const sentTyped = Object.assign({}, typed);
        const body = {model: page.model.file, hash: page.model.hash, typed: sentTyped,
                      have: {revision: charts.revision, ranges: charts.ranges}};
        if (query !== null) { body.query = query; } else { body.view = changedOnly(state); }
        const key = pendingKey, history = pendingHistory;
        query = null;
        pendingKey = undefined;
        pendingHistory = "auto";
        fetch(viewUrl(), {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
            .then(function (reply) {
                return reply.json().catch(function () { return {error: "the server's answer was not JSON (" +
                                                                       reply.status + ")"}; });
            })
            .then(function (answer) { received(answer, key, history, sentTyped); })
            .catch(function (error) {
                received({error: "the server did not answer: " + error}, key, history, sentTyped);
            });
    }

    function changedOnly(view) {
        // Levers at their defaults are left out: after a change of parameter set (whose lever values are the
        // defaults) they take the new defaults, while the levers the planner moved keep their values.
        const levers = {};
        Object.keys(view.levers).forEach(function (name) {
            const meta = page.levers[name];
            if (!meta || view.levers[name] !== meta["default"]) { levers[name] = view.levers[name]; }
        });
        return Object.assign({}, view, {levers: levers});
    }

    function received(answer, key, history, sentTyped) {
        inflight = false;
        Object.keys(sentTyped || {}).forEach(function (name) {
            // The server has read this typed value: from now on the view carries what it used.
            if (typed[name] === sentTyped[name]) { delete typed[name]; }
            if (answer.view && state) { state.levers[name] = answer.view.levers[name]; }
        });
        // Why a lever's value is not the one it was given (typed, linked or loaded between two steps).
        Object.keys(answer.notes || {}).forEach(function (name) { notes[name] = answer.notes[name]; });
        if (answer.navigate !== undefined) {  // Back/Forward to another model: that is another page
            window.location.assign(window.location.pathname + answer.navigate);
            return;
        }
        if (answer.error) {
            showBanner([{kind: "error", text: answer.error}]);
            if (dirty) { send(); }
            return;
        }
        if (answer.defaults) {
            Object.keys(answer.defaults).forEach(function (name) {
                if (page.levers[name]) { page.levers[name]["default"] = answer.defaults[name]; }
            });
        }
        if (answer.assumptions) {
            document.querySelectorAll("[data-assumption]").forEach(function (cell) {
                const value = answer.assumptions[cell.dataset.assumption];
                if (value !== undefined) { cell.textContent = String(value); }
            });
        }
        // An answer to an older request, while the page already draws a newer scenario run here: its lines
        // and cards would step back for a moment; the newer answer, asked for below, brings both.
        const behind = dirty && drawnHere;
        if (answer.charts && !(behind && answer.charts.lines)) { takeCharts(answer.charts); }
        if (here && answer.charts && answer.charts.figures && answer.view) { here.view = chartsOf(answer.view); }
        if (answer.charts && answer.charts.figures) { showLegend(); }
        if (!behind) { showCards(answer); announce(answer, key); }
        showText("run-info", answer.info);
        showBanner(answer.banner);
        showMessages(answer.messages);
        showNotes();
        if (dirty) { send(); return; }  // a newer change waits; its answer will be adopted
        adopt(answer, key, history, Object.keys(sentTyped || {}));
        if (answer.charts && answer.charts.lines && answer.charts.revision !== charts.revision) {
            change({}, {force: true, history: "none"});  // lines for charts we no longer have: get whole ones
        }
    }

    // -- adopting an answer's view --------------------------------------------------
    function adopt(answer, key, history, typedNames) {
        const view = answer.view;
        state = JSON.parse(JSON.stringify(view));
        if (!named || (view.name !== named.name && view.name !== named.base + MODIFIED)) {
            nameGiven(view.name || "", view.levers, false);  // a name typed, loaded, or a link's
        } else if (view.name !== named.name && sameJSON(sortedLevers(view.levers), named.levers)) {
            window.setTimeout(function () { change({name: named.name}, {key: "name", history: "replace"}); }, 0);
        }
        syncWidgets(view, typedNames || []);
        if (answer.drag !== dragMode && answer.charts) {
            dragMode = answer.drag;
            Object.keys(page.levers).forEach(function (name) {
                setProps({type: LEVER, name: name}, {updatemode: dragMode ? "drag" : "mouseup"});
            });
        }
        setProps("store-view", {data: Object.assign({}, view, {hash: answer.model.hash})});
        if (!shown || !sameJSON(shown.overlays, view.overlays)) {
            setProps("view-overlays", {data: view.overlays});
        }
        shown = view;
        writeHistory(answer.query, key, history);
    }

    function syncWidgets(view, typedNames) {
        // A box being typed into keeps its text, unless its value was just sent and read.
        Object.keys(page.levers).forEach(function (name) {
            const value = view.levers[name];
            const meta = page.levers[name];
            if (meta.value !== value) {
                const props = {value: value};
                if (value < meta.min) { props.min = meta.min = value; }
                if (value > meta.max) { props.max = meta.max = value; }
                setProps({type: LEVER, name: name}, props);
                meta.value = value;
            }
            const box = document.getElementById(JSON.stringify({name: name, type: BOX}));
            // Being typed into: focused, with text other than the value it was last given or sent (a box
            // left focused after Enter still follows Back, Forward and resets).
            const typing = box && box.contains(document.activeElement) && typedNames.indexOf(name) < 0 &&
                String(box.value) !== String(meta.box);
            if ((meta.box !== value || typedNames.indexOf(name) >= 0) && !typing) {
                setProps({type: BOX, name: name}, {value: value});
                meta.box = value;
                // The box shows the value the model runs with, as a number reads ("1e2" typed: 100).
                if (box && box.value !== String(value)) { box.value = String(value); }
            }
        });
        const widgets = {"method-select": view.method, "variable-picker": view.charts,
                         "scenario-name": view.name, "params-select": view.params || ""};
        Object.keys(widgets).forEach(function (id) {
            if (!shown || !sameJSON(widgetValue(shown, id), widgets[id])) { setProps(id, {value: widgets[id]}); }
        });
        document.querySelectorAll("[data-mode]").forEach(function (button) {
            button.setAttribute("aria-pressed", button.dataset.mode === view.mode ? "true" : "false");
        });
        showTab(view.tab);
        name();
    }

    function widgetValue(view, id) {
        return {"method-select": view.method, "variable-picker": view.charts,
                "scenario-name": view.name, "params-select": view.params || ""}[id];
    }

    function writeHistory(search, key, history) {
        const url = window.location.pathname + search;
        if (history === "none") { historyKey = null; return; }
        if (url === window.location.pathname + window.location.search) {
            if (history !== "replace") { historyKey = key || null; }
            return;
        }
        if (history === "replace" || (key && key.indexOf("lever:") === 0 && key === historyKey)) {
            window.history.replaceState(null, "", url);  // the same lever moved on: one entry for the move
        } else {
            window.history.pushState(null, "", url);
        }
        historyKey = key || null;
    }

    // -- tabs ------------------------------------------------------------------------------
    function showTab(tab) {
        if (!page || page.tabs.indexOf(tab) < 0) { tab = "trajectories"; }
        page.tabs.forEach(function (name) {
            const button = document.querySelector("[role=tab][data-tab='" + name + "']");
            const panel = document.getElementById("panel-" + name);
            const on = name === tab;
            if (button) {
                button.setAttribute("aria-selected", on ? "true" : "false");
                button.tabIndex = on ? 0 : -1;
                button.classList.toggle("active", on);
            }
            if (panel) { panel.hidden = !on; }
        });
        if (!opened[tab]) {
            opened[tab] = true;
            setProps("tab-opened", {data: tab});  // its content is built on first sight
        }
        if (tab === "trajectories") { drawSoon(); }
    }

    document.addEventListener("keydown", function (event) {
        // Escape closes the levers' sheet on a phone, wherever the focus is in it, and returns to its button.
        const levers = document.getElementById("levers");
        const popup = event.target.closest && event.target.closest("[aria-expanded='true']");  // a list open in it
        if (event.key === "Escape" && levers && levers.classList.contains("open") && !popup) {
            levers.classList.remove("open");
            const toggle = document.getElementById("levers-toggle");
            toggle.setAttribute("aria-expanded", "false");
            toggle.focus({preventScroll: true});
        }
    }, true);

    document.addEventListener("keydown", function (event) {
        // Tabs as WAI-ARIA describes them: arrows, Home and End move between tabs.
        const tab = event.target.closest && event.target.closest("[role=tab]");
        if (!tab || !page) { return; }
        const names = page.tabs;
        let i = names.indexOf(tab.dataset.tab);
        if (event.key === "ArrowRight") { i = (i + 1) % names.length; }
        else if (event.key === "ArrowLeft") { i = (i - 1 + names.length) % names.length; }
        else if (event.key === "Home") { i = 0; }
        else if (event.key === "End") { i = names.length - 1; }
        else { return; }
        event.preventDefault();
        document.querySelector("[role=tab][data-tab='" + names[i] + "']").focus();
        change({tab: names[i]}, {key: "tab"});
    });

    // Back or Forward: the view is what the URL says.
    window.addEventListener("popstate", function () {
        change({}, {query: window.location.search || "", history: "none", key: "history"});
    });

    // -- charts ----------------------------------------------------------------------------
    function takeCharts(update) {
        if (update.figures) {
            charts = {revision: update.revision, order: update.order, ranges: update.ranges, figures: update.figures,
                      current: update.current};
            here = update.preview ? Object.assign({}, update.preview, {revision: update.revision, view: null}) : null;
            loadModel(here);
            cells(update.order);
            update.order.forEach(function (variable) { stale[variable] = "full"; });
        } else if (update.revision === charts.revision) {
            Object.keys(update.lines).forEach(function (variable) {
                const figure = charts.figures[variable];
                const lines = update.lines[variable];
                lines.traces.forEach(function (trace, j) { figure.data[trace].y = lines.y[j]; });
                charts.current[variable] = lines.traces;
                figure.layout.yaxis.range = update.ranges[variable];
                if (!stale[variable]) { stale[variable] = "lines"; }
            });
            charts.ranges = update.ranges;
        } else {
            return;  // lines for charts replaced meanwhile (received() asks again)
        }
        drawSoon();
    }

    function cells(order) {
        const box = document.getElementById("charts");
        if (!box) { return; }
        const now = Array.from(box.children).map(function (cell) { return cell.dataset.variable; });
        if (sameJSON(now, order)) { return; }
        Array.from(box.querySelectorAll(".js-plotly-plot")).forEach(function (plot) { Plotly.purge(plot); });
        box.replaceChildren();
        order.forEach(function (variable, i) {
            const cell = document.createElement("div");
            cell.className = "chart-cell";
            cell.dataset.variable = variable;
            const plot = document.createElement("div");
            plot.className = "chart";
            plot.id = "chart-" + i;
            cell.appendChild(plot);
            box.appendChild(cell);
        });
    }

    function plotOf(variable) {
        const box = document.getElementById("charts");
        if (!box) { return null; }
        const cell = Array.from(box.children).find(function (c) { return c.dataset.variable === variable; });
        return cell ? cell.querySelector(".chart") : null;
    }

    function visible(element) {
        const panel = document.getElementById("panel-trajectories");
        if (panel && panel.hidden) { return false; }
        const box = element.getBoundingClientRect();
        return box.width > 0 && box.bottom > 0 && box.top < window.innerHeight;
    }

    function draw(variable) {
        const plot = plotOf(variable);
        const figure = charts.figures[variable];
        if (!plot || !figure || !window.Plotly) { return false; }
        const how = stale[variable];
        delete stale[variable];
        if (how === "lines" && plot.data && plot.dataset.revision === charts.revision) {
            const range = figure.layout.yaxis.range;
            const now = plot.layout && plot.layout.yaxis && plot.layout.yaxis.range;
            const traces = charts.current[variable];
            const data = traces.map(function (i) { return {y: figure.data[i].y}; });
            if (!now || now[0] !== range[0] || now[1] !== range[1]) {  // a new axis range: one update
                Plotly.update(plot, {y: data.map(function (d) { return d.y.slice(); })},
                              {"yaxis.range": range.slice(), "yaxis.autorange": false}, traces);
                delete unsynced[variable];
            } else if (tracePaths(plot, traces, figure)) {
                unsynced[variable] = true;
                scheduleSync();
            } else {
                Plotly.animate(plot, {data: data, traces: traces}, ANIMATION);
            }
        } else {
            // A copy: Plotly keeps the objects it is given as the plot's own, and the next answer's lines
            // must not change them behind its back (it would then see no change of range to redraw).
            const copy = JSON.parse(JSON.stringify(figure));
            // The container keeps the figure's height: on a window resize Plotly (responsive) drops the
            // layout's height and sizes the plot to its container, which without a height of its own
            // collapsed to 2 px once a chart had been redrawn whole.
            if (copy.layout.height) { plot.style.height = copy.layout.height + "px"; }
            Plotly.react(plot, copy.data, copy.layout, CONFIG);
            plot.dataset.revision = charts.revision;
            delete unsynced[variable];
        }
        return true;
    }

    function axisGrows(plot, variable) {
        // True when the chart's new lines come with another y range than the one drawn.
        const figure = charts.figures[variable];
        const range = figure && figure.layout.yaxis.range;
        const now = plot.layout && plot.layout.yaxis && plot.layout.yaxis.range;
        return !range || !now || now[0] !== range[0] || now[1] !== range[1];
    }

    function tracePaths(plot, traces, figure) {
        // Draw the 'Current' lines straight into their SVG paths, through the points Plotly draws them
        // through (its axes' data-to-pixel mapping), without its whole update pipeline (~10 ms a chart);
        // Plotly's own data follows when the moves pause (sync). False when the plot is not as expected.
        const layout = plot._fullLayout;
        if (!layout || !layout.xaxis || !layout.yaxis || !layout.xaxis.c2p) { return false; }
        const xa = layout.xaxis, ya = layout.yaxis;
        const groups = Array.from(plot.querySelectorAll("g.trace.scatter"));
        const paths = traces.map(function (index) {
            const g = groups.find(function (group) {
                const d = group.__data__;
                return d && d[0] && d[0].trace && d[0].trace.index === index;
            });
            return g && g.querySelector("path.js-line");
        });
        if (paths.some(function (path) { return !path; })) { return false; }
        paths.forEach(function (path, j) {
            const trace = figure.data[traces[j]];
            const points = trace.y.map(function (y, i) {
                return xa.c2p(trace.x[i]).toFixed(2) + "," + ya.c2p(y).toFixed(2);
            });
            path.setAttribute("d", "M" + points.join("L"));
        });
        return true;
    }

    function scheduleSync() {
        if (syncTimer !== null) { window.clearTimeout(syncTimer); }
        syncTimer = window.setTimeout(function () {
            syncTimer = null;
            const panel = document.getElementById("panel-trajectories");
            Object.keys(unsynced).forEach(function (variable) {
                delete unsynced[variable];
                if (panel && panel.hidden) { stale[variable] = stale[variable] || "lines"; return; }
                const plot = plotOf(variable);
                const figure = charts.figures[variable];
                if (!plot || !figure || stale[variable] || plot.dataset.revision !== charts.revision) { return; }
                const traces = charts.current[variable];
                Plotly.animate(plot, {data: traces.map(function (i) { return {y: figure.data[i].y}; }),
                                      traces: traces}, ANIMATION);
            });
        }, SYNC_AFTER);
    }

    function drawSoon() {
        if (!window.Plotly) { waitForPlotly(); return; }
        const panel = document.getElementById("panel-trajectories");
        if (panel && panel.hidden) { return; }  // drawn when the tab is shown again
        Object.keys(stale).forEach(function (variable) {
            // Lines alone are cheap to trace: every chart now; whole figures, and lines whose axis must grow
            // (a Plotly update, ~10 ms a chart): the charts in view first, the others after that frame.
            const plot = plotOf(variable);
            if (plot && (visible(plot) || (stale[variable] === "lines" && plot.data && !axisGrows(plot, variable)))) {
                draw(variable);
            }
        });
        if (Object.keys(stale).length && !drawScheduled) {
            drawScheduled = true;
            // After the next frame is painted (the charts in view are drawn in that frame).
            window.requestAnimationFrame(function () {
                window.setTimeout(function () {
                    drawScheduled = false;
                    const hidden = panel && panel.hidden;
                    if (!hidden) { Object.keys(stale).forEach(draw); }
                }, 0);
            });
        }
    }

    // plotly.js starts loading with the page, not when Dash first renders a graph (which comes after the
    // page's first render): the charts are drawn as soon as the first answer is in. Dash's graph component
    // uses the same file (window._dashPlotlyJSURL) and does not load it again once window.Plotly is there.
    (function loadPlotly() {
        if (window.Plotly || document.getElementById("gscsd-plotly")) { return; }
        const script = document.createElement("script");
        script.id = "gscsd-plotly";
        script.async = true;
        script.src = prefix() + "_dash-component-suites/plotly/package_data/plotly.min.js";
        document.head.appendChild(script);
    })();

    let waiting = false;
    function waitForPlotly() {
        // Draw once plotly.js (loaded above) is there.
        if (waiting) { return; }
        waiting = true;
        const started = Date.now();
        (function poll() {
            if (window.Plotly) { waiting = false; drawSoon(); return; }
            if (Date.now() - started < 60000) { window.setTimeout(poll, 30); }
        })();
    }

    // -- the model in the page (gscsd/dashboard/preview.py) -----------------------------------
    // A lever move runs the scenario here with the fast engine's JavaScript back-end (about 1 ms for
    // models/gsc.mdl) and draws the 'Current' lines at once; the server's answer, already on its way,
    // then replaces them (the same numbers to a relative 1e-9) and the cards, which are dimmed meanwhile.
    function loadModel(spec) {
        if (!spec || (window.gscsdModels && window.gscsdModels[spec.hash])) { return; }
        const id = "gscsd-model-" + spec.hash;
        if (document.getElementById(id)) { return; }
        const script = document.createElement("script");
        script.id = id;
        script.async = true;
        script.src = prefix() + spec.script;
        script.onload = function () { warm(spec, 24); };
        document.head.appendChild(script);
    }

    function warm(spec, runs) {
        // The browser compiles a function well only after it has run a few times: run the model while the
        // page is idle, so that the first moves take the ~1 ms a run takes later rather than 5-25 ms.
        const model = window.gscsdModels && window.gscsdModels[spec.hash];
        if (!model || runs <= 0) { return; }
        const later = window.requestIdleCallback || function (f) { return window.setTimeout(f, 50); };
        later(function () {
            const started = performance.now();
            try { window.GSCSDRuntime.simulate(model, spec.fixed, spec.time, spec.method); } catch (error) { return; }
            // A big model (a run of 50 ms or more) has had its share of the page's idle time.
            warm(spec, performance.now() - started < 50 ? runs - 1 : 0);
        });
    }

    function chartsOf(view) {
        // What the drawn charts depend on besides the levers: another value needs whole new figures.
        return JSON.stringify([view.method, view.params || null, view.mode, view.charts, view.overlays]);
    }

    function runHere() {
        const model = here && window.gscsdModels && window.gscsdModels[here.hash];
        if (!model || !window.GSCSDRuntime || !window.GSCSDRanges || here.revision !== charts.revision || here.view !== chartsOf(state)) {
            return false;
        }
        const started = performance.now();
        const params = Object.assign({}, here.fixed);
        Object.keys(here.levers).forEach(function (name) {
            if (typeof state.levers[name] === "number") { params[here.levers[name]] = state.levers[name]; }
        });
        let result;
        try {
            result = window.GSCSDRuntime.simulate(model, params, here.time, here.method);
        } catch (error) {
            return false;  // e.g. a DELAY whose order must change: the server's answer draws it
        }
        const lines = {};
        const count = result.count, values = result.values;
        for (let c = 0; c < charts.order.length; c++) {
            const variable = charts.order[c];
            const columns = here.columns[variable], traces = charts.current[variable];
            const figure = charts.figures[variable];
            if (!columns || !traces || !figure || columns.length !== traces.length) { return false; }
            const ys = [];
            for (let j = 0; j < columns.length; j++) {
                if (figure.data[traces[j]].x.length !== count) { return false; }
                const y = new Array(count);
                for (let k = 0; k < count; k++) {
                    let sum = 0;
                    columns[j].forEach(function (column) { sum += values[column * count + k]; });
                    if (!Number.isFinite(sum)) { return false; }  // the server says what went wrong
                    y[k] = sum;
                }
                ys.push(y);
            }
            lines[variable] = ys;
        }
        const ran = performance.now();
        charts.order.forEach(function (variable) {
            const figure = charts.figures[variable];
            charts.current[variable].forEach(function (trace, j) { figure.data[trace].y = lines[variable][j]; });
            // The axis grows as the server's would (GSCSDRanges, from the model's script: gscsd/report/ranges.js;
            // over the runs' lines, not the history dots, as view.charts) when a line leaves it, but is not
            // narrowed here: a narrower axis is a Plotly redraw (~10 ms a chart), left to the server's answer.
            const range = window.GSCSDRanges.steady(charts.ranges[variable], window.GSCSDRanges.extent(
                figure.data.filter(function (trace) { return trace.mode !== "markers"; })
                    .map(function (trace) { return trace.y; })), 0);
            figure.layout.yaxis.range = range.slice();
            charts.ranges[variable] = range.slice();
            if (!stale[variable]) { stale[variable] = "lines"; }
        });
        const box = document.getElementById("summary");
        if (box) { box.classList.add("pending"); box.setAttribute("aria-busy", "true"); }
        drawSoon();
        ranHere.push({at: started, run: ran - started, total: performance.now() - started});
        if (ranHere.length > 1000) { ranHere.shift(); }
        return true;
    }
    const ranHere = [];

    // -- cards and text --------------------------------------------------------------------
    function element(tag, className, text) {
        const node = document.createElement(tag);
        if (className) { node.className = className; }
        if (text !== undefined) { node.textContent = text; }
        return node;
    }

    function showCards(answer) {
        const box = document.getElementById("summary");
        if (!box) { return; }
        box.classList.remove("pending");
        box.removeAttribute("aria-busy");
        const nodes = [];
        (answer.cards || []).forEach(function (card) {
            const node = element("div", card.headline ? "card headline" : "card");
            node.dataset.variable = card.variable;
            const name = element("div", "card-name", card.label);
            // The tip says what the number is, from the model's own comment (cards[].help): shown in #card-tip
            // when the card has the focus (a keyboard, a tap on a touch screen) or the mouse (cardTip, below).
            node.dataset.tip = card.label + (card.units ? " (" + card.units + ")" : "") +
                (card.help ? "\n" + card.help : "");
            node.tabIndex = 0;
            node.setAttribute("aria-describedby", "card-tip");
            const value = element("div");
            value.append(element("span", "card-value", card.value), element("span", "units", " " + card.units));
            const change = element("div");
            change.append(element("span", "muted", "baseline " + card.baseline + " "),
                          element("span", "change " + card.tone, card.change));
            node.append(name, value, change);
            nodes.push(node);
        });
        // The year picker stays in place (a keyboard user changing the year keeps the focus); the cards follow.
        const when = yearCard(box, answer);
        Array.from(box.children).forEach(function (child) { if (child !== when) { child.remove(); } });
        when.hidden = !nodes.length;
        box.append.apply(box, nodes);
        const tip = document.getElementById("card-tip");
        if (tip && !tip.hidden) {  // the card it was shown for was replaced: show the new one's
            const card = box.querySelector(".card[data-variable='" + CSS.escape(tip.dataset.variable || "") + "']");
            if (card && (card.matches(":hover") || tipFor === "focus")) { cardTip(card, tipFor); } else { hideTip(); }
            if (card && tipFor === "focus" && document.activeElement === document.body) { card.focus(); }
        }
        summaryEdges();
    }

    // -- the cards' row: where it scrolls, its tips ------------------------------------------------
    let tipFor = null;  // "focus" or "mouse": what showed the card tip

    function summaryEdges() {
        // The row scrolls sideways: the side with more to see shows its button and a fade (summary-wrap's
        // more-left / more-right), so that the row says it scrolls.
        const box = document.getElementById("summary");
        const wrap = box && box.parentElement;
        if (!wrap || !wrap.classList.contains("summary-wrap")) { return; }
        const end = box.scrollWidth - box.clientWidth;
        wrap.classList.toggle("more-left", box.scrollLeft > 1);
        wrap.classList.toggle("more-right", end - box.scrollLeft > 1);
    }

    function cardTip(card, how) {
        // Under the card, inside the page's width: what the number is (the card's data-tip).
        const tip = document.getElementById("card-tip");
        const wrap = tip && tip.parentElement;
        if (!tip || !card.dataset.tip) { return; }
        tipFor = how;
        const lines = card.dataset.tip.split("\n");
        const head = element("strong", "", lines[0]);
        tip.replaceChildren(head);
        if (lines.length > 1) { tip.append(element("div", "", lines.slice(1).join(" "))); }
        tip.dataset.variable = card.dataset.variable;
        tip.hidden = false;
        const place = wrap.getBoundingClientRect(), at = card.getBoundingClientRect();
        const width = tip.offsetWidth;
        const left = Math.max(0, Math.min(at.left - place.left, place.width - width));
        tip.style.left = left + "px";
        tip.style.top = (at.bottom - place.top + 4) + "px";
    }

    function hideTip() {
        const tip = document.getElementById("card-tip");
        if (tip) { tip.hidden = true; tipFor = null; }
    }

    document.addEventListener("focusin", function (event) {
        const card = event.target.closest && event.target.closest("#summary .card[data-tip]");
        if (card) { cardTip(card, "focus"); } else if (tipFor === "focus") { hideTip(); }
    });
    document.addEventListener("focusout", function (event) {
        const card = event.target.closest && event.target.closest("#summary .card[data-tip]");
        if (card && tipFor === "focus" && !(event.relatedTarget && event.relatedTarget.closest &&
                                            event.relatedTarget.closest("#summary .card[data-tip]"))) {
            hideTip();
        }
    });
    document.addEventListener("mouseover", function (event) {
        const card = event.target.closest && event.target.closest("#summary .card[data-tip]");
        if (card && tipFor !== "focus") { cardTip(card, "mouse"); }
        if (!card && tipFor === "mouse") { hideTip(); }
    });
    document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && tipFor) { hideTip(); }
    });
    document.addEventListener("scroll", function (event) {
        if (event.target && event.target.id === "summary") {  // the row scrolled: the tip follows its card
            summaryEdges();
            const card = document.activeElement && document.activeElement.closest &&
                document.activeElement.closest("#summary .card[data-tip]");
            if (tipFor === "focus" && card) { cardTip(card, "focus"); } else if (tipFor) { hideTip(); }
        }
    }, true);
    window.addEventListener("resize", function () { summaryEdges(); hideTip(); });

    function yearCard(box, answer) {
        // "In <year>": the time the cards show, any saved time of the run (the view's year; the final by default).
        let card = box.querySelector(".card.when");
        if (!card) {
            card = element("label", "card when");
            const select = element("select", "card-year");
            select.id = "card-year";
            select.setAttribute("aria-label", "Year the cards show");
            select.addEventListener("change", function () {
                const last = select.options.length ? select.options[select.options.length - 1].value : "";
                change({year: select.value === last ? null : Number(select.value)}, {key: "year"});
            });
            card.append(element("span", "muted", "In"), select);
            box.prepend(card);
        }
        const select = card.querySelector("select");
        const years = answer.years || [];
        if (select.dataset.years !== years.join(",")) {
            select.replaceChildren.apply(select, years.map(function (year) { return new Option(year, year); }));
            select.dataset.years = years.join(",");
        }
        if (answer.when && select.value !== answer.when) { select.value = answer.when; }
        return card;
    }

    function showLegend() {
        // One legend for every chart: the lines of the first chart (same names, colours and dashes in all).
        const box = document.getElementById("legend");
        if (!box || !charts.order.length) { return; }
        // Every line any chart draws, once by name (a chart of history data adds its dots).
        const seen = {};
        const traces = [];
        charts.order.forEach(function (variable) {
            (charts.figures[variable] || {data: []}).data.forEach(function (trace) {
                if (!seen[trace.name] && (trace.line || trace.marker) && trace.mode) {
                    seen[trace.name] = true;
                    traces.push(trace);
                }
            });
        });
        const items = traces.map(function (trace) {
                const item = element("span", "legend-item");
                const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
                svg.setAttribute("width", "28");
                svg.setAttribute("height", "10");
                svg.setAttribute("aria-hidden", "true");
                let mark;
                if (trace.mode === "markers") {
                    mark = document.createElementNS("http://www.w3.org/2000/svg", "circle");
                    [["cx", "14"], ["cy", "5"], ["r", "3"], ["fill", trace.marker.color]].forEach(function (pair) {
                        mark.setAttribute(pair[0], pair[1]);
                    });
                } else {
                    mark = document.createElementNS("http://www.w3.org/2000/svg", "line");
                    const dash = {dash: "6,4", dot: "2,3", dashdot: "6,3,2,3", longdash: "10,4"}[trace.line.dash];
                    [["x1", "1"], ["y1", "5"], ["x2", "27"], ["y2", "5"], ["stroke", trace.line.color],
                     ["stroke-width", String(trace.line.width || 2)]].forEach(function (pair) {
                        mark.setAttribute(pair[0], pair[1]);
                    });
                    if (dash) { mark.setAttribute("stroke-dasharray", dash); }
                }
                svg.appendChild(mark);
                // Names come escaped for Plotly (figures.plain): show them as the text they stand for.
                const label = document.createElement("textarea");
                label.innerHTML = trace.name;
                // A long name is cut to the legend's width with an ellipsis; the whole name on hover.
                item.append(svg, element("span", "legend-name", label.value));
                item.title = label.value;
                return item;
            });
        box.replaceChildren.apply(box, items);
    }

    // A slider's thumb shows its new value (aria-valuenow) as soon as the slider has drawn it, some 15 ms
    // before Dash hands the value to the page's callback (sliders, below): the move starts from here, and
    // the callback then finds it made. Values the page gives the sliders are the view's already: no change.
    // Only where moves are cheap (the model runs in the page, or the server's runs are fast enough for
    // sliders that update while dragged): with slow runs a drag waits for the mouse's release, as Dash's does.
    new MutationObserver(function (records) {
        if (!state || !(here || dragMode)) { return; }
        records.forEach(function (record) {
            const holder = record.target.closest && record.target.closest(".lever-control [id]");
            let id = null;
            try { id = holder && JSON.parse(holder.id); } catch (error) { id = null; }
            const meta = id && id.type === LEVER && page.levers[id.name];
            const value = Number(record.target.getAttribute("aria-valuenow"));
            if (!meta || !Number.isFinite(value) || value === meta.value) { return; }
            meta.value = value;
            if (value !== state.levers[id.name]) {
                const patch = {};
                patch[id.name] = value;
                change({levers: patch}, {key: "lever:" + id.name});
            }
        });
    }).observe(document.documentElement, {subtree: true, attributes: true, attributeFilter: ["aria-valuenow"]});

    // -- accessibility and small page behaviours -------------------------------------
    function name() {
        // Accessible names Dash 4 does not give: each slider is named after its lever, with its units;
        // the focus target of each dropdown is visible to screen readers and named after its label.
        document.querySelectorAll(".lever-control").forEach(function (control) {
            const thumb = control.querySelector("[role=slider]");
            if (thumb && !thumb.getAttribute("aria-label")) {
                thumb.setAttribute("aria-label", control.dataset.label);
            }
            if (thumb) {
                const units = control.dataset.units;
                thumb.setAttribute("aria-valuetext", thumb.getAttribute("aria-valuenow") + (units ? " " + units : ""));
            }
        });
        document.querySelectorAll(".dash-dropdown-focus-target[aria-hidden]").forEach(function (target) {
            const label = target.closest("label");
            const text = label ? label.textContent : (target.parentElement.textContent || "");
            target.removeAttribute("aria-hidden");
            target.setAttribute("aria-label", text.trim() || "choose");
            target.setAttribute("aria-haspopup", "listbox");
        });
    }

    let naming = false;
    new MutationObserver(function () {
        if (naming) { return; }
        naming = true;
        window.requestAnimationFrame(function () { naming = false; name(); });
    }).observe(document.documentElement, {subtree: true, childList: true});

    document.addEventListener("click", function (event) {
        // "Skip to charts": the focus to the charts, or to the tab shown when it is another.
        const skip = event.target.closest && event.target.closest(".skip-link");
        if (skip) {
            event.preventDefault();
            const panel = document.querySelector(".tab-panel:not([hidden])");
            const charts = document.getElementById("charts");
            const goal = panel && panel.id !== "panel-trajectories" ? panel : charts;
            if (goal) { goal.focus(); goal.scrollIntoView({block: "start"}); }
            return;
        }
        const target = event.target.closest && event.target.closest("button");
        if (!target) { return; }
        if (target.classList.contains("summary-scroll")) {  // the cards' row, a screen's width on
            const box = document.getElementById("summary");
            box.scrollBy({left: Number(target.dataset.scroll) * box.clientWidth * 0.8, behavior: "smooth"});
            return;
        }
        if (target.id === "tools-toggle") {  // a phone's header: the tools other than the model
            const header = target.closest(".header");
            const open = !header.classList.contains("tools-open");
            header.classList.toggle("tools-open", open);
            target.setAttribute("aria-expanded", open ? "true" : "false");
            return;
        }
        const levers = document.getElementById("levers");
        if (target.id === "levers-toggle" || target.id === "levers-close") {  // the levers' sheet on phones
            const open = target.id === "levers-toggle" && !levers.classList.contains("open");
            levers.classList.toggle("open", open);
            document.getElementById("levers-toggle").setAttribute("aria-expanded", open ? "true" : "false");
            // The sheet takes the lower half: the cards and the first chart come to the upper half, in view
            // while the levers move them.
            const summary = document.getElementById("summary");
            if (open && summary && !document.getElementById("panel-trajectories").hidden) {
                summary.scrollIntoView({block: "start"});
            }
        } else if (target.id === "about-open" || target.id === "about-more") {
            document.getElementById("about-dialog").showModal();
        } else if (target.id === "about-close") {
            document.getElementById("about-dialog").close();
        } else if (target.id === "about-dismiss") {
            document.getElementById("about-intro").hidden = true;
        }
    });

    function introduce() {
        // A first visit shows what the model is and how to use the page; later visits only on demand.
        const intro = document.getElementById("about-intro");
        let seen = true;
        try { seen = window.localStorage.getItem("gscsd-about-seen") === "1"; } catch (error) { seen = true; }
        if (intro && !seen) {
            intro.hidden = false;
            try { window.localStorage.setItem("gscsd-about-seen", "1"); } catch (error) { /* private mode */ }
        }
    }

    function announce(answer, key) {
        // One short line for screen readers (the live region): what changed and the headline now, not the
        // whole summary (#summary is not live: read on demand).
        const box = document.getElementById("view-status");
        const cards = answer.cards || [];
        const head = cards.find(function (card) { return card.headline; }) || cards[0];
        if (!box || !head) { return; }
        let text = "";
        const lever = /^(lever|reset):(.*)$/.exec(key || "");
        const input = lever && document.getElementById(JSON.stringify({name: lever[2], type: BOX}));
        const control = input && input.closest(".lever-control");
        if (control && state && state.levers[lever[2]] !== undefined) {
            text = control.dataset.label + " " + state.levers[lever[2]] +
                (control.dataset.units ? " " + control.dataset.units : "") + ". ";
        }
        const change = head.change.replace("▲", "up").replace("▼", "down").replace("±", "");
        text += head.label + " in " + answer.when + ": " + head.value + (head.units ? " " + head.units : "") +
            ", " + change + " against the baseline.";
        if (answer.failed) { text = "This scenario cannot run: " + answer.failed; }
        if (text !== announced) { announced = text; box.textContent = text; }
    }

    function showText(id, text) {
        const node = document.getElementById(id);
        if (node && text !== undefined && node.textContent !== text) { node.textContent = text; }
    }

    function showBanner(items) {
        const box = document.getElementById("banner");
        if (!box) { return; }
        box.replaceChildren.apply(box, (items || []).map(function (item) {
            const node = element("div", "banner " + item.kind, item.text);
            node.setAttribute("role", item.kind === "error" ? "alert" : "status");
            if (item.reload) {
                const link = element("a", "", " Reload the page");
                link.href = window.location.href;
                node.append(link);
            }
            return node;
        }));
    }

    function showMessages(messages) {
        const box = document.getElementById("url-message");
        if (!box) { return; }
        box.replaceChildren.apply(box, (messages || []).map(function (text) { return element("div", "message", text); }));
        box.className = messages && messages.length ? "url-message" : "";
    }

    function showNotes() {
        document.querySelectorAll("[data-lever-note]").forEach(function (node) {
            const text = notes[node.dataset.leverNote] || "";
            if (node.textContent !== text) { node.textContent = text; }
        });
    }

    // -- entry points for the page's callbacks (gscsd/dashboard/callbacks.py) ------------
    function triggered() {
        // The id of the input that fired a clientside callback (a string, or an object for pattern ids).
        const ctx = window.dash_clientside.callback_context;
        if (!ctx) { return null; }
        if (ctx.triggered_id !== undefined) { return ctx.triggered_id; }
        const first = ctx.triggered && ctx.triggered[0];
        if (!first || !first.prop_id) { return null; }
        const id = first.prop_id.slice(0, first.prop_id.lastIndexOf("."));
        try { return JSON.parse(id); } catch (error) { return id; }
    }

    function clicked() {
        // Buttons inserted with a page fire their callbacks too, with no clicks: only real clicks count.
        const ctx = window.dash_clientside.callback_context;
        const first = ctx && ctx.triggered && ctx.triggered[0];
        return Boolean(first && first.value);
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.gscsd = Object.assign({}, window.dash_clientside.gscsd, {
        init: function (data) {
            // A page was built: its levers, tabs and the answer for the URL it was built from.
            if (!data) { return window.dash_clientside.no_update; }
            page = data.page;
            Object.keys(page.levers).forEach(function (name) {
                page.levers[name].value = page.levers[name].box = data.answer.view.levers[name];
            });
            state = null;
            shown = null;
            opened = {};
            charts = {revision: "", order: [], ranges: {}, figures: {}, current: {}};
            here = null;
            stale = {};
            unsynced = {};
            typed = {};
            notes = {};
            named = null;
            announced = "";
            state = JSON.parse(JSON.stringify(data.answer.view));
            introduce();
            // A page built without its URL (no referrer sent) reads the URL's view at once instead.
            const elsewhere = (data.query || "") !== (window.location.search || "");
            received(data.answer, "", elsewhere ? "none" : "replace");
            if (elsewhere) { change({}, {query: window.location.search || "", history: "replace", key: "init"}); }
            return window.dash_clientside.no_update;
        },
        sliders: function (values, ids) {
            if (!state) { return window.dash_clientside.no_update; }
            const patch = {};
            let key = "";
            ids.forEach(function (id, i) {
                const meta = page.levers[id.name];
                if (meta && values[i] !== null && values[i] !== meta.value) {
                    meta.value = values[i];
                    if (values[i] !== state.levers[id.name]) { patch[id.name] = values[i]; key = "lever:" + id.name; }
                }
            });
            if (Object.keys(patch).length) {
                change({levers: patch}, {key: Object.keys(patch).length === 1 ? key : ""});
            }
            return window.dash_clientside.no_update;
        },
        boxes: function (values, ids) {
            if (!state) { return window.dash_clientside.no_update; }
            ids.forEach(function (id, i) {
                const meta = page.levers[id.name];
                if (!meta || values[i] === meta.box) { return; }
                meta.box = values[i];
                const typedValue = {};
                typedValue[id.name] = values[i] === undefined ? null : values[i];
                const patch = {};
                if (typeof values[i] === "number") { patch[id.name] = values[i]; }
                change({levers: patch}, {typed: typedValue, key: "lever:" + id.name});
            });
            return window.dash_clientside.no_update;
        },
        reset: function () {
            // A lever's reset button or Reset all (which also clears the scenario name).
            const id = triggered();
            if (!state || !id || !clicked()) { return window.dash_clientside.no_update; }
            if (id === "reset-all") {
                const levers = {};
                Object.keys(page.levers).forEach(function (name) { levers[name] = page.levers[name]["default"]; });
                change({levers: levers, name: ""}, {key: "reset-all"});
            } else if (id.name && page.levers[id.name]) {
                const levers = {};
                levers[id.name] = page.levers[id.name]["default"];
                change({levers: levers}, {key: "reset:" + id.name});
            }
            return window.dash_clientside.no_update;
        },
        load: function (loaded) {
            // A saved scenario or an analysis result: its levers, the others at their defaults.
            if (!state || !loaded) { return window.dash_clientside.no_update; }
            const levers = {};
            Object.keys(page.levers).forEach(function (name) {
                levers[name] = name in loaded.levers ? loaded.levers[name] : page.levers[name]["default"];
            });
            const patch = {levers: levers, name: loaded.name || ""};
            if (loaded.params !== undefined) { patch.params = loaded.params || null; }
            named = null;  // the loaded name stands for the loaded levers (set when its answer is adopted)
            change(patch, {key: "load", force: true, load: true});
            return window.dash_clientside.no_update;
        },
        saved: function (saved) {
            // A save succeeded (callbacks.py: scenario-saved, never the message's words): the saved name stands
            // for the levers saved (see ``named``), the page's others at their values.
            if (!state || !saved || !saved.name) { return window.dash_clientside.no_update; }
            nameGiven(saved.name, Object.assign({}, state.levers, saved.levers || {}), true);
            return window.dash_clientside.no_update;
        },
        field: function (method, picked, name, overlays, params) {
            // The method, the charts picked, the scenario name, the overlays or the parameter set.
            const values = {"method-select": ["method", method], "variable-picker": ["charts", picked || []],
                            "scenario-name": ["name", name || ""], "overlay-chosen": ["overlays", overlays],
                            "params-select": ["params", params || null]};
            const found = values[triggered()];
            if (!state || !found || found[1] === undefined || (found[1] === null && found[0] !== "params")) {
                return window.dash_clientside.no_update;
            }
            const field = found[0], value = found[1];
            const patch = {};
            patch[field] = value;
            change(patch, {key: field});
            return window.dash_clientside.no_update;
        },
        mode: function () {
            // Subscripted variables summed, or one line per element.
            const id = triggered();
            if (state && id && id.name && clicked()) { change({mode: id.name}, {key: "mode"}); }
            return window.dash_clientside.no_update;
        },
        tab: function () {
            const id = triggered();
            if (state && id && id.name && clicked()) { change({tab: id.name}, {key: "tab"}); }
            return window.dash_clientside.no_update;
        },
        docs: function (rows, query) {
            // The documentation table: every row whose text holds all the words typed.
            const body = document.getElementById("doc-table");
            if (!body || !rows) { return window.dash_clientside.no_update; }
            const words = (query || "").toLowerCase().split(/\s+/).filter(Boolean);
            const columns = ["name", "units", "type", "group", "equation", "comment"];
            const shown = rows.filter(function (row) {
                const text = columns.map(function (c) { return row[c] || ""; }).join(" ").toLowerCase();
                return words.every(function (word) { return text.indexOf(word) >= 0; });
            });
            const fragment = document.createDocumentFragment();
            shown.forEach(function (row) {
                const tr = document.createElement("tr");
                columns.forEach(function (c) { tr.appendChild(element("td", c, row[c] || "")); });
                fragment.appendChild(tr);
            });
            if (!shown.length) {
                const td = element("td", "muted", "No variable matches.");
                td.colSpan = columns.length;
                const tr = document.createElement("tr");
                tr.appendChild(td);
                fragment.appendChild(tr);
            }
            body.replaceChildren(fragment);
            const count = document.getElementById("doc-count");
            if (count) { count.textContent = shown.length + " of " + rows.length + " variables"; }
            return window.dash_clientside.no_update;
        },
        workspace: function (key) {
            // The browser's workspace key: made once, kept in localStorage by its store.
            if (key) { return window.dash_clientside.no_update; }
            const bytes = new Uint8Array(16);
            window.crypto.getRandomValues(bytes);
            return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
        },
    });

    // For tests and benchmarks: the view, and whether the page has settled (nothing sent or waiting to be drawn).
    window.gscsd = {
        change: change,
        state: function () { return state; },
        idle: function () { return Boolean(state) && !inflight && !dirty; },
        ranHere: function () { return ranHere.slice(); },  // moves drawn from a run in the page: {run, total} ms
        here: function () { return here; },
        drawn: function () {
            return Boolean(state) && !inflight && !dirty && Object.keys(stale).length === 0 &&
                Object.keys(unsynced).length === 0;
        },
    };
})();
