/* A live report: the reader moves levers, the model runs in this page, the charts and the summary follow.
 *
 * Written into the report by gscsd/report/live.py after the figures, the runtime (GSCSDRuntime) and the model
 * (GSCSD_MODEL); reads the page's data from the JSON element #gscsd-live-data. One state (the lever values and
 * the scenario started from) and one update path: every change goes through move(), which runs the model and
 * redraws. A move draws the reader's line straight into each chart's SVG path through Plotly's own axis
 * mapping (c2p), which takes well under a millisecond a chart; Plotly's data catches up when the moves pause
 * (sync), so that hover, zoom and legend clicks see the same numbers. A chart whose axis must change is
 * redrawn by Plotly at once. Text from the model or the scenarios is only ever set as text, never as markup.
 */
(function () {
    "use strict";
    const R = window.GSCSDRuntime;
    const model = window.GSCSD_MODEL;
    const data = JSON.parse(document.getElementById("gscsd-live-data").textContent);
    const byId = function (id) { return document.getElementById(id); };
    const FLAT_PCT = 0.05;  // gscsd.summary.FLAT_PCT: changes smaller than this (in %) read as no change

    const levers = data.levers.map(function (lever, k) {
        return {spec: lever, slider: byId("lever-" + k), box: byId("lever-box-" + k), note: byId("lever-note-" + k),
                row: document.querySelector('[data-lever="' + k + '"]')};
    });
    const charts = data.charts.map(function (chart) {
        return Object.assign({gd: byId(chart.id), x: null, y: null, unsynced: false, range: null, extent: null},
                             chart);
    });
    const summaryCells = Array.from(document.querySelectorAll("#live-summary td[data-live-cell]"));
    const status = byId("live-status");
    const state = {start: data.opening, values: data.starts[data.opening].levers.slice(), result: null};
    const live = window.gscsdLive = {
        moves: 0, synced: true, syncAfter: data.syncAfter, timings: [], ready: false, error: "",
        values: function () { return state.values.slice(); },
        start: function () { return state.start; },
        scenario: scenario, syncNow: syncNow,
    };
    let syncTimer = null;

    // -- numbers as the report writes them (gscsd.figures.display_number, Python's %-formats) ------------
    function general3(value) {  // Python's f"{value:.3g}"
        const exponent = Number(value.toExponential(2).split("e")[1]);
        if (exponent < -4 || exponent >= 3) { return exponential(value, 2, true); }
        return trimZeros(value.toFixed(2 - exponent));
    }
    function trimZeros(text) { return text.indexOf(".") < 0 ? text : text.replace(/0+$/, "").replace(/\.$/, ""); }
    function exponential(value, digits, trim) {  // Python writes at least two exponent digits: 1.5e-05
        const parts = value.toExponential(digits).split("e");
        const mantissa = trim ? trimZeros(parts[0]) : parts[0];
        const power = Number(parts[1]);
        return mantissa + "e" + (power < 0 ? "-" : "+") + String(Math.abs(power)).padStart(2, "0");
    }
    function displayNumber(value) {
        if (value !== value) { return "n/a"; }
        const magnitude = Math.abs(value);
        if (magnitude === 0) { return "0"; }
        if (magnitude < 1e-4) { return exponential(value, 2, false); }
        const words = [[1e12, "trillion"], [1e9, "billion"], [1e6, "million"]];
        for (let i = 0; i < words.length; i++) {
            if (magnitude >= words[i][0] * 0.9995) { return general3(value / words[i][0]) + " " + words[i][1]; }
        }
        if (magnitude >= 1000) {
            const rounded = Number(general3(value)).toFixed(0);
            const negative = rounded[0] === "-";
            const digits = negative ? rounded.slice(1) : rounded;
            return (negative ? "-" : "") + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
        }
        return general3(value);
    }
    function scaleOf(value) {  // gscsd.figures._scale
        const magnitude = Math.abs(value);
        if (value !== value || (magnitude > 0 && magnitude < 1e-4)) { return null; }
        const words = [[1e12, "trillion"], [1e9, "billion"], [1e6, "million"]];
        for (let i = 0; i < words.length; i++) { if (magnitude >= words[i][0] * 0.9995) { return words[i]; } }
        return [1, ""];
    }
    function decimalsOf(text) { return (text.split(" ")[0].split(".")[1] || "").length; }
    function displayBeside(value, base) {
        // gscsd.figures.display_beside: a value beside its baseline to the same decimals ("80.0" by "79.9")
        const text = displayNumber(value);
        if (base === null || base === undefined || base !== base) { return text; }
        const scale = scaleOf(value), other = scaleOf(base);
        if (!scale || !other || scale[0] !== other[0]) { return text; }
        const decimals = Math.max(decimalsOf(text), decimalsOf(displayNumber(base)));
        const fixed = (Number(general3(value / scale[0])) + 0).toFixed(decimals);
        const negative = fixed[0] === "-";
        const parts = (negative ? fixed.slice(1) : fixed).split(".");
        const whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
        return (negative && Number(fixed) !== 0 ? "-" : "") + whole + (parts[1] ? "." + parts[1] : "") +
            (scale[1] ? " " + scale[1] : "");
    }
    function number(value, base) {
        return value === null || !Number.isFinite(value) ? "–" : displayBeside(value, base);
    }
    function tone(change, better) {  // gscsd.summary.tone
        if (change !== change || Math.abs(change) < FLAT_PCT) { return "flat"; }
        if (better !== "higher" && better !== "lower") { return "neutral"; }
        return (change > 0) === (better === "higher") ? "good" : "bad";
    }
    function percent(change, better) {  // gscsd.report.build._percent, as elements
        const span = document.createElement("span");
        if (change === null || !Number.isFinite(change)) {
            span.className = "note";
            span.textContent = "n/a";
            return span;
        }
        const colour = tone(change, better);
        span.className = colour;
        span.textContent = colour === "flat" ? "±0.0%" :
            (change > 0 ? "▲ " : "▼ ") + (change >= 0 ? "+" : "") + change.toFixed(1) + "%";
        return span;
    }

    // -- the run ------------------------------------------------------------------------------------------
    function params() {
        const start = data.starts[state.start];
        const out = Object.assign({}, start.fixed);
        data.levers.forEach(function (lever, k) { out[lever.py] = state.values[k]; });
        return out;
    }
    function line(result, columns) {  // a variable's values (summed over its elements), as gscsd.figures.series
        const count = result.count, values = result.values, out = new Array(count);
        for (let k = 0; k < count; k++) {
            let sum = values[columns[0] * count + k];
            for (let j = 1; j < columns.length; j++) { sum += values[columns[j] * count + k]; }
            out[k] = sum;
        }
        return out;
    }
    function interp(x, xs, ys) {  // numpy.interp at one point
        const n = xs.length;
        if (x <= xs[0]) { return ys[0]; }
        if (x >= xs[n - 1]) { return ys[n - 1]; }
        let j = 0;
        while (xs[j + 1] <= x) { j += 1; }
        const slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]);
        const value = slope * (x - xs[j]) + ys[j];
        return value === value ? value : slope * (x - xs[j + 1]) + ys[j + 1];
    }
    function firstNonFinite(result) {  // gscsd.runner.check_finite, over what the page shows
        const shown = new Set();
        charts.forEach(function (chart) { chart.columns.forEach(function (c) { shown.add(c); }); });
        data.summary.outputs.forEach(function (output) { output.columns.forEach(function (c) { shown.add(c); }); });
        for (let k = 0; k < result.count; k++) {
            for (const column of shown) {
                const value = result.values[column * result.count + k];
                if (!Number.isFinite(value) && !(result.missing && result.missing[column * result.count + k])) {
                    return "'" + result.columns[column] + "' becomes " + (value !== value ? "NaN" : String(value)) +
                        " at time " + Number(result.times[k].toPrecision(6)) + "; these lever values cannot be run";
                }
            }
        }
        return "";
    }

    function move(reason) {
        const started = performance.now();
        let result;
        try {
            result = R.simulate(model, params(), data.starts[state.start].time, data.method);
        } catch (error) {
            return fail("These values cannot be run here: " + (error && error.message ? error.message : error));
        }
        const bad = firstNonFinite(result);
        if (bad) { return fail(bad); }
        const ran = performance.now();
        state.result = result;
        live.error = "";
        const replotted = draw(result);
        fillSummary(result);
        share();
        const done = performance.now();
        live.moves += 1;
        live.timings.push({reason: reason, run: ran - started, draw: done - ran, total: done - started,
                           replotted: replotted});
        if (live.timings.length > 1000) { live.timings.shift(); }
        const changed = state.values.filter(function (v, k) { return v !== data.starts[state.start].levers[k]; });
        status.textContent = changed.length + " of " + levers.length + " levers differ from “" +
            data.starts[state.start].name + "” · run " + (ran - started).toFixed(ran - started < 1 ? 2 : 1) + " ms";
        status.classList.remove("error");
        return true;
    }
    function fail(message) {
        live.error = message;
        status.textContent = message;
        status.classList.add("error");
        return false;
    }

    // -- the charts ---------------------------------------------------------------------------------------
    function draw(result) {  // returns how many charts Plotly redrew (their axes changed)
        const x = Array.from(result.times);
        let replotted = 0;
        charts.forEach(function (chart) {
            const y = line(result, chart.columns);
            const extent = GSCSDRanges.extent([chart.extent ? [chart.extent[0], chart.extent[1]] : [], y]);
            const range = GSCSDRanges.steady(chart.range, extent);
            const sameX = chart.x !== null && chart.x.length === x.length && chart.x.every(function (v, i) {
                return v === x[i];
            });
            chart.x = x;
            chart.y = y;
            if (range === chart.range && sameX && trace(chart, x, y)) {
                chart.unsynced = true;
                live.synced = false;
                return;
            }
            chart.range = range;
            chart.unsynced = false;
            replotted += 1;
            Plotly.update(chart.gd, {x: [x], y: [y]}, {"yaxis.range": range.slice(), "yaxis.autorange": false},
                          [chart.trace]);
        });
        scheduleSync();
        return replotted;
    }
    function trace(chart, x, y) {
        // The reader's line straight into its SVG path, through the points Plotly draws it through; false
        // when the chart is not as expected (the line hidden from the legend, say): then Plotly draws it.
        const layout = chart.gd._fullLayout;
        if (!layout || !layout.xaxis || !layout.yaxis || !layout.xaxis.c2p) { return false; }
        const group = Array.from(chart.gd.querySelectorAll("g.trace.scatter")).find(function (g) {
            const d = g.__data__;
            return d && d[0] && d[0].trace && d[0].trace.index === chart.trace && d[0].trace.visible === true;
        });
        const path = group && group.querySelector("path.js-line");
        if (!path) { return false; }
        const xa = layout.xaxis, ya = layout.yaxis;
        const points = new Array(y.length);
        for (let i = 0; i < y.length; i++) { points[i] = xa.c2p(x[i]).toFixed(2) + "," + ya.c2p(y[i]).toFixed(2); }
        path.setAttribute("d", "M" + points.join("L"));
        return true;
    }
    function scheduleSync() {
        if (syncTimer !== null) { window.clearTimeout(syncTimer); }
        syncTimer = window.setTimeout(syncOne, live.syncAfter);
    }
    function syncChart(chart) {
        chart.unsynced = false;
        Plotly.restyle(chart.gd, {x: [chart.x], y: [chart.y]}, [chart.trace]);
    }
    function syncOne() {
        // Plotly's data catches up with the lines drawn into its charts, one chart a task (about 15 ms each),
        // so that a key pressed meanwhile waits for one chart at most, not for all of them.
        syncTimer = null;
        const chart = charts.find(function (c) { return c.unsynced; });
        if (!chart) { live.synced = true; return; }
        syncChart(chart);
        syncTimer = window.setTimeout(syncOne, 0);
    }
    function syncNow() {  // every chart at once (tests and benchmarks)
        if (syncTimer !== null) { window.clearTimeout(syncTimer); syncTimer = null; }
        charts.forEach(function (chart) { if (chart.unsynced) { syncChart(chart); } });
        live.synced = true;
    }

    // -- the summary and the scenario file ----------------------------------------------------------------
    function fillSummary(result) {
        const times = data.summary.times, baseline = data.summary.baseline;
        let cell = 0;
        data.summary.outputs.forEach(function (output, r) {
            const values = line(result, output.columns);
            times.forEach(function (time, c) {
                const target = summaryCells[cell++];
                if (!target) { return; }
                const now = interp(time, result.times, values);
                const base = baseline !== null ? baseline[r][c] : null;
                target.textContent = number(now, base);
                if (baseline !== null) {
                    const change = base ? (now - base) / Math.abs(base) * 100 : NaN;
                    target.appendChild(document.createElement("br"));
                    target.appendChild(percent(change, output.better));
                }
            });
        });
    }
    function scenario() {  // the reader's scenario as gscsd reads it back (gscsd.Scenario JSON)
        const start = data.starts[state.start];
        const changed = {};
        data.levers.forEach(function (lever, k) {
            if (state.values[k] !== lever.default) { changed[lever.name] = state.values[k]; }
        });
        return Object.assign({name: data.name, levers: changed}, start.base,
                             {notes: "Started from “" + start.name + "” in a live report."});
    }
    function share() {
        const box = byId("live-json");
        if (box) { box.value = JSON.stringify(scenario(), null, 1); }
    }

    // -- the controls -------------------------------------------------------------------------------------
    function show(k) {  // a lever's controls show its value in the state
        const lever = levers[k], value = state.values[k];
        lever.slider.value = String(value);
        if (document.activeElement !== lever.box) { lever.box.value = String(value); }
        lever.row.classList.toggle("changed", value !== data.starts[state.start].levers[k]);
        lever.note.textContent = "";
    }
    function setLever(k, value, reason) {
        state.values[k] = value;
        show(k);
        move(reason);
    }
    function checked(k, text) {  // a typed value, as gscsd.model.Lever.check takes it; null with a note if not
        const spec = levers[k].spec, value = Number(text);
        const low = spec.min === null ? -Infinity : spec.min, high = spec.max === null ? Infinity : spec.max;
        if (text.trim() === "" || !Number.isFinite(value)) {
            levers[k].note.textContent = "Type a number.";
            return null;
        }
        if (value < low || value > high) {
            const range = low === -Infinity ? "at most " + displayNumber(high) :
                high === Infinity ? "at least " + displayNumber(low) :
                "between " + displayNumber(low) + " and " + displayNumber(high);
            levers[k].note.textContent = spec.label + " must be " + range + " (the model's range); kept at " +
                displayNumber(state.values[k]) + ".";
            return null;
        }
        return value;
    }
    levers.forEach(function (lever, k) {
        lever.slider.addEventListener("input", function () { setLever(k, Number(lever.slider.value), "slider"); });
        lever.box.addEventListener("change", function () {
            const value = checked(k, lever.box.value);
            if (value !== null) { setLever(k, value, "box"); }
        });
        lever.box.addEventListener("blur", function () { lever.box.value = String(state.values[k]); });
    });
    document.querySelectorAll("#live button[data-reset]").forEach(function (button) {
        const k = Number(button.dataset.reset);
        button.addEventListener("click", function () { setLever(k, data.starts[state.start].levers[k], "reset"); });
    });
    function startFrom(index) {
        state.start = index;
        state.values = data.starts[index].levers.slice();
        levers.forEach(function (lever, k) { show(k); });
        move("start");
    }
    byId("live-reset").addEventListener("click", function () { startFrom(state.start); });
    byId("live-start").addEventListener("change", function (event) { startFrom(Number(event.target.value)); });

    // -- start ----------------------------------------------------------------------------------------------
    function init() {
        charts.forEach(function (chart) {
            const lines = chart.gd.data.filter(function (t, i) { return i !== chart.trace; }).map(function (t) {
                return t.y || [];
            });
            chart.extent = GSCSDRanges.extent(lines);
            chart.range = chart.gd.layout.yaxis.range.slice();
            chart.x = chart.gd.data[chart.trace].x.slice();
            chart.y = chart.gd.data[chart.trace].y.slice();
        });
        levers.forEach(function (lever, k) { show(k); });
        share();
        if (move("load")) { status.textContent = "Ready: move a lever."; }
        live.ready = true;
        warmUp(40);
    }
    function warmUp(runs) {
        // A few runs in idle moments, so that the browser has compiled the model to machine code before the
        // reader's first move (the first runs of a large function are interpreted, several times slower).
        if (runs <= 0) { live.warm = true; return; }
        window.setTimeout(function () {
            try { R.simulate(model, params(), data.starts[state.start].time, data.method); } catch (error) { return; }
            warmUp(runs - 1);
        }, 0);
    }
    init();
})();
