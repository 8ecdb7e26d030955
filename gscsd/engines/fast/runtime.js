/* The JavaScript runtime of gscsd's fast engine: the helpers a module written by emit_js.py calls.
 *
 * Each helper has the formula of its scalar twin in runtime.py (`_s_*`, and so of PySD's
 * pysd.py_backend.functions), written for JavaScript doubles: a division by zero or a domain error gives
 * inf or NaN, as numpy (and PySD) do. `simulate` runs a module with Euler or RK4 on the time grid of
 * engine.time_grid, so a run here gives the Python engine's numbers.
 *
 * Defines one global, GSCSDRuntime. No dependencies, no network, no DOM.
 */
var GSCSDRuntime = (function () {
    "use strict";

    /** What Vensim (and PySD) treat as zero in XIDZ, ZIDZ, MODULO, RAMP and PULSE. */
    const SMALL_VENSIM = 1e-6;
    const NA = -Math.pow(2, 110);  // Vensim's :NA: (gscsd/vensim/na.py)

    // Python's min(a, b) and max(a, b): the first argument unless the second is strictly smaller/larger.
    function min(a, b) { return b < a ? b : a; }
    function max(a, b) { return b > a ? b : a; }

    /** Python's float modulo: the result has the sign of the divisor. */
    function pymod(a, b) {
        const m = a % b;
        if (m !== 0) { return (m < 0) !== (b < 0) ? m + b : m; }
        return b < 0 ? -0 : 0;
    }

    /** numpy's rint: halves to even. */
    function rint(x) {
        const r = Math.round(x);
        return (r - x === 0.5 && r % 2 !== 0) ? r - 1 : r;
    }

    function xidz(numerator, denominator, fallback) {
        return Math.abs(denominator) < SMALL_VENSIM ? fallback : numerator / denominator;
    }
    function zidz(numerator, denominator) {
        return Math.abs(denominator) < SMALL_VENSIM ? 0.0 : numerator / denominator;
    }
    // Python's math.trunc gives an integer, which has no sign of zero: trunc(-0.5) is 0, not -0 (`+ 0` drops it).
    function trunc(x) { return Math.trunc(x) + 0; }
    function integer(x) { return trunc(x); }
    function quantum(a, b) { return b < SMALL_VENSIM ? a : b * trunc(a / b); }
    function modulo(x, m) { return x - (m < SMALL_VENSIM ? x : m * trunc(x / m)); }
    // Python's truth of a number: 0 is false, NaN true.
    function and(a, b) { return (a != 0) && (b != 0); }
    function or(a, b) { return (a != 0) || (b != 0); }
    function not(a) { return !(a != 0); }
    function ramp(time, slope, start, finish) {
        const final = min(finish, time);
        return (time + SMALL_VENSIM > start) * slope * (final - start);
    }
    function step(time, dt, value, tstep) { return value * (time + dt / 2 > tstep); }
    /** PULSE (repeat 0), PULSE TRAIN and XMILE's PULSE; NaN/Infinity defaults mean "not given". */
    function pulse(time, dt, start, width, repeat, end, magnitude) {
        width = width !== width ? 0.5 * dt : width;
        const out = magnitude === magnitude ? magnitude / dt : 1.0;
        if (repeat == 0) { return (start - SMALL_VENSIM <= time && time < start + width) ? out : 0.0; }
        // Vensim's PULSE TRAIN includes its end time (a pulse starting at `end` is on).
        if (start <= time && time <= end) { return pymod(time - start + SMALL_VENSIM, repeat) < width ? out : 0.0; }
        return 0.0;
    }

    function bisectLeft(xs, x) {
        let lo = 0, hi = xs.length;
        while (lo < hi) { const mid = (lo + hi) >> 1; if (xs[mid] < x) { lo = mid + 1; } else { hi = mid; } }
        return lo;
    }
    function bisectRight(xs, x) {
        let lo = 0, hi = xs.length;
        while (lo < hi) { const mid = (lo + hi) >> 1; if (x < xs[mid]) { hi = mid; } else { lo = mid + 1; } }
        return lo;
    }

    /** A lookup as a function of x: runtime.py's scalar_lookup (kind "interpolate") and _lookup_scalar. */
    function table(xs, ys, kind) {
        const n = xs.length;
        if (kind === "interpolate" && n >= 2) {
            const xFirst = xs[0], xLast = xs[n - 1], yFirst = ys[0], yLast = ys[n - 1];
            const slopes = new Float64Array(n);
            for (let i = 1; i < n; i++) { slopes[i] = (ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1]); }
            return function (x) {
                if (x <= xFirst) { return yFirst; }
                if (x >= xLast) { return yLast; }
                if (x !== x) { return x; }
                const i = bisectLeft(xs, x);
                if (xs[i] === x) { return ys[i]; }
                return slopes[i] * (x - xs[i - 1]) + ys[i - 1];
            };
        }
        return function (x) { return lookupOther(xs, ys, kind, x); };
    }

    function lookupOther(xs, ys, kind, x) {
        const n = xs.length;
        if (kind.startsWith("data_")) {  // data: exact points, else :RAW: -> Vensim's :NA:, look_forward -> next
            const i = bisectLeft(xs, x);
            if (i < n && xs[i] === x) { return ys[i]; }
            if (kind === "data_raw") { return NA; }
            if (i >= n) { return ys[n - 1]; }
            return ys[i];
        }
        if (kind === "forward") {  // LOOKUP FORWARD: the y of the first point at or after x
            return x !== x ? x : ys[Math.min(bisectLeft(xs, x), n - 1)];
        }
        if (kind === "between_forward" || kind === "between_backward") {  // GET DATA BETWEEN TIMES (_between)
            if (x !== x) { return x; }
            const i = bisectLeft(xs, Math.floor(x));
            return kind === "between_forward" ? ys[Math.min(i, n - 1)] : ys[Math.max(i - 1, 0)];
        }
        if (x <= xs[0] || x >= xs[n - 1] || n === 1) {
            if (x === xs[0]) { return ys[0]; }
            if (x === xs[n - 1]) { return ys[n - 1]; }
            if (kind === "extrapolate" && n > 1) {
                if (x < xs[0]) { return ys[0] + (ys[1] - ys[0]) / (xs[1] - xs[0]) * (x - xs[0]); }
                return ys[n - 1] + (ys[n - 1] - ys[n - 2]) / (xs[n - 1] - xs[n - 2]) * (x - xs[n - 1]);
            }
            return x < xs[0] ? ys[0] : ys[n - 1];
        }
        if (kind === "hold_backward") { return ys[bisectRight(xs, x) - 1]; }
        const i = bisectLeft(xs, x);
        if (xs[i] === x) { return ys[i]; }
        const slope = (ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1]);
        return slope * (x - xs[i - 1]) + ys[i - 1];
    }

    /** VECTOR ELM MAP (runtime.py's _s_elm_map): values[floor(position + SMALL_VENSIM)], NaN outside. */
    function elmMap(position, values) {
        if (position !== position) { return NaN; }
        const index = Math.floor(position + SMALL_VENSIM);
        return index >= 0 && index < values.length ? values[index] : NaN;
    }

    /** VECTOR LOOKUP (runtime.py's _s_vector_lookup): modes 0 lookup, 1 area, 2 backward, 3 extrapolate,
     *  4 forward, 5 invert, 6 slope, 7-9 area, invert and slope with the end segments continued. */
    function vectorLookup(x, xmin, xmax, mode, ys) {
        const n = ys.length;
        if (x !== x || mode !== mode || mode < 0 || mode > 9) { return NaN; }
        const m = Math.trunc(mode);
        if (n === 1) {
            if (m === 5 || m === 8) { return xmin; }
            if (m === 6 || m === 9) { return 0.0; }
            return (m === 1 || m === 7) ? ys[0] * (x - xmin) : ys[0];
        }
        const step = (xmax - xmin) / (n - 1);
        const extend = m === 3 || m === 7 || m === 8 || m === 9;
        if (m === 5 || m === 8) {
            if (x <= ys[0]) { return extend && x < ys[0] ? xmin + (x - ys[0]) * step / (ys[1] - ys[0]) : xmin; }
            for (let k = 1; k < n; k++) {
                if (ys[k] >= x) {
                    if (ys[k] === x) { return xmin + k * step; }
                    return xmin + (k - 1) * step + (x - ys[k - 1]) * step / (ys[k] - ys[k - 1]);
                }
            }
            return extend ? xmax + (x - ys[n - 1]) * step / (ys[n - 1] - ys[n - 2]) : xmax;
        }
        if (m === 6 || m === 9) {
            if (x < xmin) { return extend ? (ys[1] - ys[0]) / step : 0.0; }
            if (x > xmax) { return extend ? (ys[n - 1] - ys[n - 2]) / step : 0.0; }
            const k = Math.min(Math.trunc((x - xmin) / step), n - 2);
            return (ys[k + 1] - ys[k]) / step;
        }
        if (m === 1 || m === 7) {
            if (x <= xmin) {
                const edge = extend ? ys[0] + (ys[1] - ys[0]) / step * (x - xmin) : ys[0];
                return (x - xmin) * (ys[0] + edge) / 2;
            }
            let area = 0.0;
            for (let k = 0; k < n - 1; k++) {
                const start = xmin + k * step;
                if (x >= start + step) {
                    area += step * (ys[k] + ys[k + 1]) / 2;
                } else {
                    const there = ys[k] + (ys[k + 1] - ys[k]) * (x - start) / step;
                    return area + (x - start) * (ys[k] + there) / 2;
                }
            }
            const edge = extend ? ys[n - 1] + (ys[n - 1] - ys[n - 2]) / step * (x - xmax) : ys[n - 1];
            return area + (x - xmax) * (ys[n - 1] + edge) / 2;
        }
        if (x <= xmin || x >= xmax) {
            if (m === 3 && x !== xmin && x !== xmax) {
                if (x < xmin) { return ys[0] + (ys[1] - ys[0]) / step * (x - xmin); }
                return ys[n - 1] + (ys[n - 1] - ys[n - 2]) / step * (x - xmax);
            }
            return x <= xmin ? ys[0] : ys[n - 1];
        }
        const position = (x - xmin) / step;
        const k = Math.trunc(position);
        if (k >= n - 1) { return ys[n - 1]; }
        if (position === k) { return ys[k]; }
        if (m === 2) { return ys[k]; }
        if (m === 4) { return ys[k + 1]; }
        return ys[k] + (ys[k + 1] - ys[k]) * (position - k);
    }

    /** VECTOR SORT ORDER at place k (runtime.py's _s_sort_order): the position of the element sorting there. */
    function sortOrder(k, direction, values) {
        const n = values.length;
        const target = direction > 0 ? k : n - 1 - k;
        for (let j = 0; j < n; j++) {
            let below = 0;
            for (let i = 0; i < n; i++) { if (values[i] < values[j] || (values[i] === values[j] && i < j)) { below++; } }
            if (below === target) { return j; }
        }
        return NaN;
    }

    /** VECTOR RANK of element k (runtime.py's _s_rank): 1-based, ascending for a direction > 0. */
    function rank(k, direction, values) {
        let below = 0;
        for (let i = 0; i < values.length; i++) {
            if (values[i] < values[k] || (values[i] === values[k] && i < k)) { below++; }
        }
        return direction > 0 ? below + 1 : values.length - below;
    }

    /** The allocation functions (allocation.py: _share, _normal_tail, _total, _s_allocate_available,
     *  _whole_units, _s_allocate_by_priority, _s_find_market_price, _excess, _s_at_price), the same formulas. */
    function normalTail(x) {
        const t = 1.0 / (1.0 + 0.33267 * x);
        return 0.3989422804014327 * Math.exp(-x * x / 2) * t * (0.4361836 + t * (-0.1201676 + t * 0.9372980));
    }
    function share(ptype, level, priority, width, demand) {
        if (ptype === 0) { return 1.0; }
        if (!(ptype >= 1 && ptype <= 4)) { return NaN; }
        const z = level - priority;
        let below;
        if (width <= 0) {
            below = z >= 0 ? 1.0 : 0.0;
        } else if (ptype === 1) {
            below = Math.min(Math.max(z / width + 0.5, 0.0), 1.0);
        } else if (ptype === 2) {
            const half = width / 2;
            if (z <= -half) { below = 0.0; } else if (z >= half) { below = 1.0; } else if (z <= 0) {
                below = 2 * (z + half) ** 2 / width ** 2;
            } else { below = 1 - 2 * (half - z) ** 2 / width ** 2; }
        } else if (ptype === 3) {
            const upper = normalTail(Math.abs(z) / width);
            return (z >= 0) === demand ? upper : 1 - upper;
        } else if (z < 0) {
            return demand ? 1 - 0.5 * Math.exp(z / width) : 0.5 * Math.exp(z / width);
        } else {
            return demand ? 0.5 * Math.exp(-z / width) : 1 - 0.5 * Math.exp(-z / width);
        }
        return demand ? 1 - below : below;
    }
    function allocTotal(level, quantities, types, priorities, widths, demand) {
        let total = 0.0;
        for (let i = 0; i < quantities.length; i++) {
            if (quantities[i] > 0) { total += quantities[i] * share(types[i], level, priorities[i], widths[i], demand); }
        }
        return total;
    }
    function wholeUnits(out, amount) {
        const n = out.length;
        let given = 0.0;
        const remainders = new Array(n).fill(0.0);
        for (let i = 0; i < n; i++) {
            const whole = Math.floor(out[i] + 1e-9);
            remainders[i] = out[i] - whole;
            out[i] = whole;
            given += whole;
        }
        const left = Math.floor(amount + 1e-9) - given;
        for (let k = 0; k < left; k++) {
            let best = -1;
            for (let i = 0; i < n; i++) {
                if (remainders[i] > 1e-9 && (best < 0 || remainders[i] > remainders[best])) { best = i; }
            }
            if (best < 0) { break; }
            out[best] += 1.0;
            remainders[best] = 0.0;
        }
    }
    /** ALLOCATE AVAILABLE's allocation to requester `place`. */
    function allocateAvailable(place, requests, ptypes, priorities, widths, avail) {
        const n = requests.length;
        if (avail !== avail) { return NaN; }
        const whole = ptypes[0] >= 10;
        const types = new Array(n).fill(0.0), quantities = new Array(n).fill(0.0);
        let total = 0.0, fixed = 0.0, lo = Infinity, hi = -Infinity;
        for (let i = 0; i < n; i++) {
            let kind = whole ? ptypes[i] - 10 : ptypes[i];
            if (kind !== kind || requests[i] !== requests[i] || priorities[i] !== priorities[i] || widths[i] !== widths[i]) {
                return NaN;
            }
            kind = Math.floor(kind);
            if (kind < 0 || kind > 4) { return NaN; }
            types[i] = kind;
            quantities[i] = Math.max(requests[i], 0.0);
            total += quantities[i];
            if (kind === 0) {
                fixed += quantities[i];
            } else if (quantities[i] > 0) {
                lo = Math.min(lo, priorities[i] - Math.abs(widths[i]) - 1.0);
                hi = Math.max(hi, priorities[i] + Math.abs(widths[i]) + 1.0);
            }
        }
        const out = new Array(n).fill(0.0);
        if (avail >= total) {
            for (let i = 0; i < n; i++) { out[i] = quantities[i]; }
        } else if (avail > 0) {
            if (avail <= fixed) {
                for (let i = 0; i < n; i++) { if (types[i] === 0) { out[i] = quantities[i] * (avail / fixed); } }
            } else {
                for (let k = 0; k < 200; k++) {
                    if (allocTotal(lo, quantities, types, priorities, widths, true) >= avail) { break; }
                    lo -= hi - lo;
                }
                for (let k = 0; k < 200; k++) {
                    if (allocTotal(hi, quantities, types, priorities, widths, true) <= avail) { break; }
                    hi += hi - lo;
                }
                for (let k = 0; k < 100; k++) {
                    const mid = 0.5 * (lo + hi);
                    if (mid <= lo || mid >= hi) { break; }
                    if (allocTotal(mid, quantities, types, priorities, widths, true) > avail) { lo = mid; } else { hi = mid; }
                }
                const level = hi;
                for (let i = 0; i < n; i++) {
                    if (quantities[i] > 0) { out[i] = quantities[i] * share(types[i], level, priorities[i], widths[i], true); }
                }
            }
        }
        if (whole) { wholeUnits(out, Math.min(avail, total)); }
        return out[place];
    }
    /** ALLOCATE BY PRIORITY: ALLOCATE AVAILABLE with rectangular profiles of one width. */
    function allocateByPriority(place, requests, priorities, width, supply) {
        const n = requests.length;
        return allocateAvailable(place, requests, new Array(n).fill(1.0), priorities, new Array(n).fill(width), supply);
    }
    const REACH = [0.0, 0.5, 0.5, 5.0, 10.0];
    function excess(price, dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths) {
        let demand = 0.0, supply = 0.0;
        for (let i = 0; i < dq.length; i++) {
            if (dq[i] > 0) { demand += dq[i] * share(Math.floor(dtypes[i]), price, dprios[i], dwidths[i], true); }
        }
        for (let i = 0; i < sq.length; i++) {
            if (sq[i] > 0) { supply += sq[i] * share(Math.floor(stypes[i]), price, sprios[i], swidths[i], false); }
        }
        return demand - supply;
    }
    /** FIND MARKET PRICE: the price balancing demand and supply (the end of the search range where none does). */
    function findMarketPrice(dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths) {
        let lo = Infinity, hi = -Infinity;
        const nd = dq.length;
        for (let i = 0; i < nd + sq.length; i++) {
            const ptype = i < nd ? dtypes[i] : stypes[i - nd];
            const prio = i < nd ? dprios[i] : sprios[i - nd];
            const width = i < nd ? dwidths[i] : swidths[i - nd];
            if (ptype !== ptype || prio !== prio || width !== width || ptype < 0 || ptype > 4) { return NaN; }
            const reach = REACH[Math.trunc(ptype)] * Math.abs(width);
            lo = Math.min(lo, prio - reach);
            hi = Math.max(hi, prio + reach);
        }
        for (const q of dq) { if (q !== q) { return NaN; } }
        for (const q of sq) { if (q !== q) { return NaN; } }
        const args = [dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths];
        if (excess(lo, ...args) <= 0) { return lo; }
        if (excess(hi, ...args) >= 0) { return hi; }
        for (let k = 0; k < 100; k++) {
            const mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) { break; }
            if (excess(mid, ...args) > 0) { lo = mid; } else { hi = mid; }
        }
        return 0.5 * (lo + hi);
    }
    /** DEMAND AT PRICE (demand 1) or SUPPLY AT PRICE (0) of one demander or supplier. */
    function atPrice(quantity, ptype, priority, width, price, demand) {
        if (quantity !== quantity || ptype !== ptype) { return NaN; }
        if (quantity <= 0) { return 0.0; }
        return quantity * share(Math.floor(ptype), price, priority, width, demand > 0);
    }

    /** INVERT MATRIX (runtime.py's _s_invert_matrix): entry (i, j) of the inverse of the n x n matrix `values`. */
    function invertMatrix(i, j, n, values) {
        const a = values.slice(0, n * n);
        const inverse = new Array(n * n).fill(0.0);
        for (let k = 0; k < n; k++) { inverse[k * n + k] = 1.0; }
        for (let col = 0; col < n; col++) {
            let pivot = col, best = Math.abs(a[col * n + col]);
            for (let r = col + 1; r < n; r++) {
                if (Math.abs(a[r * n + col]) > best) { pivot = r; best = Math.abs(a[r * n + col]); }
            }
            if (!(best > 0)) { return NaN; }
            if (pivot !== col) {
                for (let c = 0; c < n; c++) {
                    [a[col * n + c], a[pivot * n + c]] = [a[pivot * n + c], a[col * n + c]];
                    [inverse[col * n + c], inverse[pivot * n + c]] = [inverse[pivot * n + c], inverse[col * n + c]];
                }
            }
            const p = a[col * n + col];
            for (let c = 0; c < n; c++) { a[col * n + c] /= p; inverse[col * n + c] /= p; }
            for (let r = 0; r < n; r++) {
                const factor = a[r * n + col];
                if (r !== col && factor !== 0) {
                    for (let c = 0; c < n; c++) {
                        a[r * n + c] -= factor * a[col * n + c];
                        inverse[r * n + c] -= factor * inverse[col * n + c];
                    }
                }
            }
        }
        return inverse[i * n + j];
    }

    /** GAMMA LN: log|gamma(x)|, Infinity at 0 and the negative integers (as runtime.py's _v_gamma_ln).
     *  Stirling's series from x >= 15 (terms B2k / (2k (2k - 1) x^(2k-1)) up to x^-13), shifted down by
     *  log(x (x + 1) ... ), reflected below 0.5; relative error about 1e-15 (absolute near the zeros at 1, 2). */
    const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156];
    function gammaLn(x) {
        if (x !== x) { return x; }
        if (x === Infinity) { return Infinity; }
        if (x <= 0 && Math.floor(x) === x) { return Infinity; }
        if (x === 1 || x === 2) { return 0; }
        if (x < 0.5) { return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - gammaLn(1 - x); }
        let shift = 1;
        let z = x;
        while (z < 15) { shift *= z; z += 1; }
        const inverse = 1 / z, square = inverse * inverse;
        let series = 0, power = inverse;
        for (const c of STIRLING) { series += c * power; power *= square; }
        return (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + series - Math.log(shift);
    }

    /** A run that needs another structure than the module was written for (runtime.py's StructureChange). */
    class StructureChange extends Error {}

    /** The order a DELAY/SMOOTH runs with (runtime.py's run_order); throws when it is not the written one. */
    function runOrder(expected, order, dt, delayTime, column) {
        if (!Number.isFinite(order)) { throw new StructureChange(column + ": the order is not a number"); }
        let value = Math.trunc(order);
        if (delayTime !== null) {
            while (value * dt > delayTime && value > 0) { value -= 1; }
        }
        if (value < 1) { throw new StructureChange(column + ": delay time shorter than TIME STEP"); }
        if (value !== expected) {
            throw new StructureChange(column + ": these values make the delay's order " + value + " instead of " +
                                      expected + ", which needs the model written anew (the Python engine does)");
        }
        return value;
    }

    /** Python's round(): halves to even. */
    function pyround(x) { return rint(x); }

    /** DELAY FIXED: a pipe of round(delay/dt) slots (runtime.py's FixedDelay, PySD's DelayFixed). */
    class FixedDelay {
        constructor(delayTime, dt, initial, name) {
            this.order = pyround(max(delayTime / dt, 1.0) + SMALL_VENSIM);
            this.pointer = 0;
            this.state = initial;
            this.pipe = new Array(this.order).fill(initial);
            this.name = name;
        }
        update(value) {
            this.pipe[this.pointer] = value;
            this.pointer = (this.pointer + 1) % this.order;
            this.state = this.pipe[this.pointer];
        }
    }

    /** DEPRECIATE STRAIGHTLINE (runtime.py's Depreciation): each step's stream spread over round(dtime / dt) steps. */
    class Depreciation {
        constructor(dtime, dt, name) {
            this.dtime = dtime;
            this.dt = dt;
            const steps = max(pyround(dtime / dt + SMALL_VENSIM), 1);
            this.pending = new Array(steps - 1).fill(0.0);
            this.name = name;
        }
        value(stream) {
            const share = stream * this.dt / this.dtime;
            return this.pending.length ? this.pending[0] + share : share;
        }
        advance(stream) {
            const share = stream * this.dt / this.dtime;
            const pending = this.pending.length ? this.pending.slice(1).concat([0.0]) : [];
            this.pending = pending.map(amount => amount + share);
            return this;
        }
    }

    /** DELAY MATERIAL (runtime.py's MaterialDelay, one scenario): material leaves in the order it came,
     *  round(delay / dt) steps (at least one) after it came in; the initial value before the first arrives,
     *  the missing value at a later step with nothing to give out. */
    class MaterialDelay {
        constructor(delay, dt, initial, missing, name) {
            this.dt = dt;
            this.queue = [];
            this.step = 0;
            this.first = this.steps(delay);
            this.initial = initial;
            this.missing = missing;
            this.state = initial;
            this.name = name;
        }
        steps(delay) { return max(pyround(delay / this.dt + SMALL_VENSIM), 1); }
        advance(value, delay) {
            this.queue.push([this.step + this.steps(delay), value]);
            this.step += 1;
            let last = -1;
            for (let k = 0; k < this.queue.length; k++) { if (this.queue[k][0] <= this.step) { last = k; } }
            if (last >= 0) {
                let out = this.queue[0][1];
                for (let k = 1; k <= last; k++) { out = out + this.queue[k][1]; }
                this.queue.splice(0, last + 1);
                this.state = out;
            } else {
                this.state = this.step < this.first ? this.initial : this.missing;
            }
            return this;
        }
    }

    /** SINTEG's restrictions (runtime.py's _s_sinteg): a multiple of quant, spec within thresh, min, max. */
    function sinteg(value, low, high, quant, spec, thresh) {
        if (quant === quant && quant > 0) { value = Math.floor(value / quant + 0.5) * quant; }
        if (spec === spec && thresh === thresh && Math.abs(value - spec) < thresh) { value = spec; }
        if (low === low && value < low) { value = low; }
        if (high === high && value > high) { value = high; }
        return value;
    }

    /** VECTOR SELECT over flattened [selection, expression] pairs (runtime.py's vector_select). */
    function vectorSelect(missing, action, error, pairs) {
        action = Math.trunc(action);
        error = Math.trunc(error);
        let nonzero = 0;
        for (const pair of pairs) { if (pair[0] != 0) { nonzero += 1; } }
        if ((error === 1 || error === 3) && nonzero === 0) {
            throw new Error("VECTOR SELECT: all the values of the selection are 0");
        }
        if ((error === 2 || error === 3) && nonzero > 1) {
            throw new Error("VECTOR SELECT: more than one non-zero value in the selection");
        }
        if (!(action >= 0 && action <= 10)) { throw new Error("VECTOR SELECT: numerical action " + action + " is not 0-10"); }
        if (nonzero === 0) { return missing; }
        const values = [];
        for (const pair of pairs) {
            const selection = +pair[0], expression = +pair[1];
            if (selection == 0) { continue; }
            const value = action <= 4 ? selection * expression : action === 5 ? expression ** selection : expression;
            if (value === value) { values.push(value); }  // numpy's nan-functions skip NaN
        }
        if (action === 0 || action === 6) { return values.reduce((a, b) => a + b, 0); }
        if (action === 1 || action === 5 || action === 7) { return values.reduce((a, b) => a * b, 1); }
        if (!values.length) { return NaN; }
        if (action === 2 || action === 8) { return values.reduce((a, b) => (b < a ? b : a)); }
        if (action === 3 || action === 9) { return values.reduce((a, b) => (b > a ? b : a)); }
        return values.reduce((a, b) => a + b, 0) / values.length;
    }

    /** engine.time_grid: times of each step (repeated addition), which to save, the saved times rounded. */
    function timeGrid(start, final, step, saveper) {
        const precision = step * 1e-5;
        const times = [];
        let t = start;
        while (t + precision < final) { times.push(t); t = t + step; }
        times.push(t);
        const save = new Uint8Array(times.length);
        const saved = [];
        const digits = -Math.trunc(Math.log10(precision));
        const scale = 10 ** digits;
        for (let n = 0; n < times.length; n++) {
            const delay = times[n] - start;
            if (pymod(delay, saveper) < precision || pymod(-delay, saveper) < precision) {
                save[n] = 1;
                saved.push(digits >= 0 ? rint(times[n] * scale) / scale : times[n]);
            }
        }
        return {times: Float64Array.from(times), save: save, saved: Float64Array.from(saved)};
    }

    /** Lever values by PySD name -> the module's slots (NaN: the .mdl's value). Unknown names throw. */
    function slots(model, params) {
        const P = new Float64Array(model.levers.length).fill(NaN);
        const index = model.slotIndex || (model.slotIndex = new Map(model.levers.map((name, k) => [name, k])));
        for (const name of Object.keys(params || {})) {
            const k = index.get(name);
            if (k === undefined) { throw new Error("'" + name + "' is not a constant this model can set"); }
            P[k] = +params[name];
        }
        return P;
    }

    /**
     * Run `model` once.
     *
     * @param {object} model  what a module returns when called with this runtime
     * @param {object} params  lever values by PySD name
     * @param {object} time  {start, final, step, saveper} in model time units
     * @param {string} method  "euler" or "rk4" (a model with discrete state runs RK4 as Euler, as in Python)
     * @returns {{times: Float64Array, values: Float64Array, count: number, columns: string[], method: string,
     *     missing: Uint8Array|null}}  values column by column: column j at saved time k is values[j * count + k];
     *     where the model gives Vensim's :NA: a value is NaN and `missing` is 1 there (null when nowhere)
     */
    function simulate(model, params, time, method) {
        const P = slots(model, params);
        const grid = timeGrid(time.start, time.final, time.step, time.saveper);
        const count = grid.saved.length;
        const out = new Float64Array(model.columns.length * count);
        let ran = method === "rk4" && model.odeUnsupported.length === 0 ? "rk4" : "euler";
        if (method !== "euler" && method !== "rk4") { throw new Error("method '" + method + "' does not run here"); }
        if (ran === "euler") {
            model.euler(P, grid.times, grid.save, time.start, time.final, time.step, time.saveper, out, count);
        } else {
            rk4(model, P, grid, time, out, count);
        }
        // Vensim's :NA: (a number while running, gscsd/vensim/na.py) is missing in the results, as in Python's
        // gscsd.runner.check_finite; `missing` marks where, so a NaN that the run computed is still a failure
        let missing = null;
        for (let i = 0; i < out.length; i++) {
            if (out[i] === NA) {
                missing = missing || new Uint8Array(out.length);
                missing[i] = 1;
                out[i] = NaN;
            }
        }
        return {times: grid.saved, values: out, count: count, columns: model.columns, method: ran, missing: missing};
    }

    /** Vensim's fixed-step RK4 (integrate.py's _rk4): four stages per step, outputs at the saved times. */
    function rk4(model, P, grid, time, out, count) {
        const ode = model.ode(P, time.start, time.final, time.step, time.saveper);
        const times = grid.times, save = grid.save, n = model.states, last = times.length - 1;
        let state = ode.initial(times[0]);
        const k1 = new Float64Array(n), k2 = new Float64Array(n), k3 = new Float64Array(n), k4 = new Float64Array(n);
        const probe = new Float64Array(n);
        let k = 0;
        for (let step = 0; step <= last; step++) {
            const t = times[step];
            if (save[step]) { ode.rates(t, state, probe, out, k, count); k += 1; }
            if (step === last) { break; }
            const h = times[step + 1] - t;
            ode.rates(t, state, k1, null, 0, count);
            for (let i = 0; i < n; i++) { probe[i] = state[i] + h / 2 * k1[i]; }
            ode.rates(t + h / 2, probe, k2, null, 0, count);
            for (let i = 0; i < n; i++) { probe[i] = state[i] + h / 2 * k2[i]; }
            ode.rates(t + h / 2, probe, k3, null, 0, count);
            for (let i = 0; i < n; i++) { probe[i] = state[i] + h * k3[i]; }
            ode.rates(t + h, probe, k4, null, 0, count);
            const next = new Float64Array(n);
            for (let i = 0; i < n; i++) { next[i] = state[i] + h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]); }
            state = next;
        }
    }

    return {
        SMALL_VENSIM: SMALL_VENSIM, min: min, max: max, pymod: pymod, xidz: xidz, zidz: zidz, integer: integer,
        quantum: quantum, modulo: modulo, and: and, or: or, not: not, ramp: ramp, step: step, pulse: pulse,
        table: table, runOrder: runOrder, StructureChange: StructureChange, FixedDelay: FixedDelay,
        Depreciation: Depreciation, MaterialDelay: MaterialDelay, sinteg: sinteg,
        vectorSelect: vectorSelect, elmMap: elmMap, vectorLookup: vectorLookup, gammaLn: gammaLn,
        sortOrder: sortOrder, rank: rank, timeGrid: timeGrid, allocateAvailable: allocateAvailable,
        allocateByPriority: allocateByPriority, findMarketPrice: findMarketPrice, atPrice: atPrice,
        invertMatrix: invertMatrix,
        simulate: simulate,
    };
})();
