"""The fast engine's code generation for one model: analysis and emission, PySD's parse excluded.

Usage: ``.venv/bin/python bench/bench_codegen.py [models/gsc.mdl] [--repeats 21]``

Times, as medians of ``--repeats`` (wall and CPU time: the machine is shared, and CPU time suffers less from
other engineers' jobs):

* **engine code**: what :func:`gscsd.engines.fast.engine.generate` does after the parse: the analysis, the
  vector and scalar Python flavours and the numba module's source;
* **engine code + JavaScript**: that and the JavaScript module (:mod:`gscsd.engines.fast.emit_js`), from the
  same analysis.

To compare with an older checkout, run this file with that checkout's package first on the path
(``PYTHONPATH=/path/to/old``): before the one analysis (``Builder.analyse``) each Python flavour, and the
JavaScript module, analysed the model anew, which this script reproduces.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="models/gsc.mdl", type=Path)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()

    from gscsd.engines.fast import emit_python
    from gscsd.engines.fast.builder import Builder, abstract_model
    from gscsd.engines.fast.emit_js import emit as emit_js
    from gscsd.engines.fast.emit_numba import emit as emit_numba
    from gscsd.engines.fast.runtime import Table
    from gscsd.vensim import decode

    warnings.simplefilter("ignore")
    path = args.model
    start = time.perf_counter()
    abstract = abstract_model(decode(path.read_bytes()), path)
    parse = time.perf_counter() - start
    one = hasattr(Builder, "analyse")

    def engine_code():
        builder = Builder(abstract, None, path.resolve().parent)
        if one:
            plan = builder.analyse()
            emit_python.emit(builder, plan, scalar=False)
            emit_python.emit(builder, plan, scalar=True)
        else:  # the two-pass generator: one analysis per flavour
            builder.build(scalar=False)
            builder.build(scalar=True)
            plan = builder.last_plan
        emit_numba(builder, plan)
        return builder, plan

    def with_javascript():
        builder, plan = engine_code()
        if not one:  # emit_js analysed the model again (after parsing it again: not timed here)
            builder = Builder(abstract, None, path.resolve().parent)
            builder.build(scalar=True)
            plan = builder.last_plan
        if any(isinstance(spec, dict) for spec in builder.tables):
            raise SystemExit(f"{path.name}: external data; the JavaScript part needs the engine's loaders")
        emit_js(builder, plan, [Table(*spec) for spec in builder.tables], [])

    label = "one analysis" if one else "two-pass"
    for name, work in (("engine code (vector, scalar, numba)", engine_code),
                       ("engine code + JavaScript", with_javascript)):
        work()
        wall, cpu = [], []
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            work()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        print(f"{path.name} [{label}] {name}: wall median {statistics.median(wall) * 1000:.1f} ms "
              f"(min {min(wall) * 1000:.1f}), CPU median {statistics.median(cpu) * 1000:.1f} ms "
              f"(min {min(cpu) * 1000:.1f}) over {args.repeats}")
    print(f"{path.name}: PySD's parse {parse * 1000:.0f} ms (once; not in the figures above)")


if __name__ == "__main__":
    main()
