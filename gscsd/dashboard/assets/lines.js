/*
 * Slider moves, drawn as fast as the browser can (and two small helpers: the
 * sliders' update mode, and following Back/Forward in the browser).
 *
 * A move posts the sliders to the server (gscsd/dashboard/moves.py), which
 * answers with only the new y values of each chart's 'Current' lines and the
 * y ranges (gscsd.dashboard.callbacks.current_lines). Only the answer to the
 * latest move is drawn. Sending whole figures through Dash would make React
 * and Plotly rebuild every chart; here Plotly animates just those traces,
 * with no transition and no axis redraw unless a range changes. Charts in
 * view are drawn first; charts scrolled out of view follow right after that
 * paint, so the planner sees the lines they look at move at once. Then the
 * chart-lines store tells the dashboard what is drawn (summary, URL).
 */
(function () {
    "use strict";

    // Plotly.animate options: jump straight to the new values, keep axes and legend as they are.
    const ANIMATION = {
        mode: "immediate",
        frame: {duration: 0, redraw: false},
        transition: {duration: 0},
    };

    let later = {};  // variable -> lines not drawn yet (charts out of view)
    let scheduled = false;
    // Back or Forward: hand the query string to the dashboard's history store (layout.HISTORY),
    // whose callback sets the sliders. "at" makes a return to the same URL a change too.
    window.addEventListener("popstate", function () {
        window.dash_clientside.set_props("history", {data: {search: window.location.search || "", at: Date.now()}});
    });

    function graphs(revision) {
        // The plotted divs of the charts that show this revision, by variable.
        const found = {};
        document.querySelectorAll(".chart-cell").forEach(function (cell) {
            const plot = cell.querySelector(".js-plotly-plot");
            if (cell.dataset.revision === revision && plot && plot.data) {
                found[cell.dataset.variable] = plot;
            }
        });
        return found;
    }

    function inView(plot) {
        const box = plot.getBoundingClientRect();
        return box.width > 0 && box.bottom > 0 && box.top < window.innerHeight;
    }

    function sameRange(plot, range) {
        const now = plot.layout && plot.layout.yaxis && plot.layout.yaxis.range;
        return !range || (now && now[0] === range[0] && now[1] === range[1]);
    }

    function draw(plot, lines) {
        if (!sameRange(plot, lines.range)) {  // new axis range: one update of data and layout
            return Plotly.update(plot, {y: lines.y}, {"yaxis.range": lines.range, "yaxis.autorange": false},
                                 lines.traces);
        }
        const data = lines.y.map(function (y) { return {y: y}; });
        return Plotly.animate(plot, {data: data, traces: lines.traces}, ANIMATION);
    }

    function drawLater() {
        scheduled = false;
        const pending = later;
        later = {};
        Object.keys(pending).forEach(function (variable) {
            const plot = graphs(pending[variable].revision)[variable];
            if (plot) { draw(plot, pending[variable]); }
        });
    }

    function drawLines(update) {
        // Draw the lines of one move into the charts of its revision: in view now, the rest later.
        const plots = graphs(update.revision);
        Object.keys(update.charts).forEach(function (variable) {
            const lines = Object.assign({revision: update.revision}, update.charts[variable]);
            const plot = plots[variable];
            if (plot && inView(plot)) {
                delete later[variable];
                draw(plot, lines);
            } else {
                later[variable] = lines;
            }
        });
        if (!scheduled && Object.keys(later).length) {
            scheduled = true;
            // After the next frame is painted (Plotly draws the charts in view in that frame).
            window.requestAnimationFrame(function () { window.setTimeout(drawLater, 0); });
        }
    }

    function moveUrl() {
        // The move route below the app's request prefix (gscsd/dashboard/moves.py).
        const config = document.getElementById("_dash-config");
        const prefix = (config && JSON.parse(config.textContent).requests_pathname_prefix) || "/";
        return prefix.replace(/\/?$/, "/") + "_gscsd/move";
    }

    let sent = 0;  // number of the latest move sent: only its answer is drawn

    function scenario(lines) {
        // The chart-lines store's content (callbacks.drawn_scenario): the lines themselves stay out.
        return {levers: lines.levers, method: lines.method, cached: lines.cached, revision: lines.revision};
    }

    function answered(number, answer) {
        if (number !== sent || !answer) { return; }  // a later move has been sent: its answer counts
        const setProps = window.dash_clientside.set_props;
        if (answer.rebuild) {  // the charts on the page no longer fit (the model file changed...)
            setProps("charts-stale", {data: Date.now()});
            return;
        }
        if (answer.failed) {  // the scenario cannot run: the status callback shows why
            setProps("chart-lines", {data: scenario(answer.lines)});
            return;
        }
        const cell = document.querySelector(".chart-cell");
        if (cell && cell.dataset.revision !== answer.lines.revision) {
            return;  // the charts were rebuilt meanwhile, from the sliders as they are
        }
        drawLines(answer.lines);
        if (answer.shape) { setProps("chart-shape", {data: answer.shape}); }
        // What is drawn, for the summary, run time, URL and stores (the status callback).
        setProps("chart-lines", {data: scenario(answer.lines)});
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.gscsd = Object.assign({}, window.dash_clientside.gscsd, {
        moveLevers: function (values, ids, method, picked, mode, overlays, model, shape) {
            // A slider moved: ask the server for the new lines, draw them when they come.
            if (!model) { return window.dash_clientside.no_update; }
            const number = ++sent;
            const body = {
                names: ids.map(function (id) { return id.name; }), values: values, method: method,
                picked: picked, mode: mode, overlays: overlays, model: model, shape: shape,
            };
            fetch(moveUrl(), {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
                .then(function (reply) { return reply.status === 200 ? reply.json() : null; })
                .then(function (answer) { answered(number, answer); })
                .catch(function (error) { console.warn("gscsd: slider move failed:", error); });
            return window.dash_clientside.no_update;
        },

        sliderUpdatemode: function (shape, modes) {
            // "drag" (update while dragging) when the chart shape says the engine keeps up.
            if (!shape) { return window.dash_clientside.no_update; }
            const wanted = shape.drag ? "drag" : "mouseup";
            if (modes.every(function (mode) { return mode === wanted; })) {
                return window.dash_clientside.no_update;
            }
            return modes.map(function () { return wanted; });
        },
    });
})();
