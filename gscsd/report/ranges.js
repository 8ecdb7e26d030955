/* Chart y ranges in the browser: the twins of gscsd.figures._extent, padded_range and steady_range.
 *
 * Pages that draw a line from a run made in the browser (live reports, gscsd/report/live.js; the dashboard's
 * moves run in the page, gscsd/dashboard/assets/view.js) pin a chart's y axis as the Python side would, so
 * that the axis stays put while a lever moves and grows only when a line outgrows it. The arithmetic is the
 * Python functions' (IEEE doubles both), so both sides give the same range for the same lines; the browser
 * tests compare them. Defines one global, GSCSDRanges.
 */
var GSCSDRanges = (function () {
    "use strict";

    /** Smallest and largest finite value of all `lines` (arrays of numbers), or null if there is none. */
    function extent(lines) {
        let low = Infinity, high = -Infinity;
        lines.forEach(function (values) {
            for (let i = 0; i < values.length; i++) {
                const v = values[i];
                if (Number.isFinite(v)) { if (v < low) { low = v; } if (v > high) { high = v; } }
            }
        });
        return low <= high ? [low, high] : null;
    }

    /** padded_range: [low, high] with `pad` of the span below and `padAbove` (default `pad`) above, never
     *  padded across zero. */
    function padded(span, pad, padAbove) {
        if (span === null) { return [0, 1]; }
        const low = span[0], high = span[1];
        const flat = Math.abs(high) * 0.1 || 1.0;
        const above = padAbove === undefined ? pad : padAbove;
        let bottom = low - (high > low ? (high - low) * pad : flat);
        let top = high + (high > low ? (high - low) * above : flat);
        if (low >= 0) { bottom = Math.max(bottom, 0); } else if (high <= 0) { top = Math.min(top, 0); }
        return [bottom, top];
    }

    /**
     * steady_range: `previous` itself while the lines fit it and fill at least `fill` of it (default 0.5, as
     * in Python), else a new range.
     */
    function steady(previous, span, fill) {
        if (fill === undefined) { fill = 0.5; }
        if (!previous || previous.length !== 2 || span === null) { return padded(span, 0.05); }
        const low = previous[0], high = previous[1];
        if (low <= span[0] && span[1] <= high && span[1] - span[0] >= fill * (high - low)) { return previous; }
        // HEADROOM of gscsd.figures (0.4) on each side the lines outgrew
        return padded(span, span[0] < low ? 0.4 : 0.05, span[1] > high ? 0.4 : 0.05);
    }

    return {extent: extent, padded: padded, steady: steady};
})();
