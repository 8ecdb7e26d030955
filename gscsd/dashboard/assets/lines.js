/*
 * Draw a slider move's results into the trajectory charts (and two small helpers:
 * the sliders' update mode, and noticing Back/Forward in the browser).
 *
 * After a slider move the server sends only the new y values of each chart's
 * 'Current' lines, and a y range where one had to change (the chart-lines
 * store, see gscsd.dashboard.callbacks.current_lines). Sending whole figures
 * through Dash would make React and Plotly rebuild every chart; here Plotly
 * animates just those traces, with no transition and no axis redraw. Charts
 * in view are drawn first; charts scrolled out of view follow right after
 * that paint, so the planner sees the lines they look at move at once.
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

    function draw(plot, lines) {
        if (lines.range) {  // new axis range: one update of data and layout
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

    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.gscsd = Object.assign({}, window.dash_clientside.gscsd, {
        drawLines: function (update) {
            if (!update || !update.charts) { return window.dash_clientside.no_update; }
            const plots = graphs(update.revision);
            Object.keys(update.charts).forEach(function (variable) {
                const lines = Object.assign({revision: update.revision}, update.charts[variable]);
                const waiting = later[variable];
                // A range sent with a move not drawn yet still applies to this one.
                if (!lines.range && waiting && waiting.revision === lines.revision && waiting.range) {
                    lines.range = waiting.range;
                }
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
            return update.revision;
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
