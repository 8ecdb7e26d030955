"""Write the fast engine's generated sources of many models into a folder, to compare two checkouts.

Usage: ``.venv/bin/python bench/generated_sources.py OUT [FOLDER ...]``

For ``models/gsc.mdl`` and every ``.mdl``, ``.xmile``, ``.stmx`` and ``.itmx`` below the folders (default: the
Vensim corpus beside the repository, ``../shared/vensim-corpus``, and ``tests/data``), writes
``OUT/<hash of the path>/{vector,scalar,numba,js}`` (or ``unsupported``/``error``, the reason) and
``OUT/index.json`` (hash -> path). Run it with each checkout's package first on the path
(``PYTHONPATH=...``) and compare with ``diff -r OUT1 OUT2``: a refactoring of the generator that claims to keep
the generated code shows no difference, so every result stays bit for bit what it was.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import warnings
from pathlib import Path


def sources(path: Path) -> dict[str, str]:
    """The generated sources of one model, by back-end."""
    from gscsd.engines.fast import emit_python
    from gscsd.engines.fast.builder import Builder, abstract_model
    from gscsd.engines.fast.emit_js import JavaScriptUnsupportedError
    from gscsd.engines.fast.emit_js import emit as emit_js
    from gscsd.engines.fast.emit_numba import emit as emit_numba
    from gscsd.engines.fast.runtime import Table
    from gscsd.vensim import decode

    builder = Builder(abstract_model(decode(path.read_bytes()), path), None, path.resolve().parent)
    out = {}
    if hasattr(builder, "analyse"):
        plan = builder.analyse()
        out["vector"] = emit_python.emit(builder, plan, scalar=False)[0]
        out["scalar"] = emit_python.emit(builder, plan, scalar=True)[0]
    else:  # a checkout from before the one analysis
        out["vector"] = builder.build(scalar=False)[0]
        out["scalar"] = builder.build(scalar=True)[0]
        plan = builder.last_plan
    out["numba"] = json.dumps(emit_numba(builder, plan), indent=0)
    if not any(isinstance(spec, dict) for spec in builder.tables) and not builder.externals:
        try:
            module = emit_js(builder, plan, [Table(*spec) for spec in builder.tables], [])
            out["js"] = json.dumps(module, indent=0, sort_keys=True)
        except JavaScriptUnsupportedError as exc:
            out["js"] = f"unsupported: {exc}"
    return out


def main() -> None:
    from gscsd.engines.fast.builder import Unsupported

    warnings.simplefilter("ignore")
    out = Path(sys.argv[1])
    roots = [Path(p) for p in sys.argv[2:]] or [Path(__file__).resolve().parents[2] / "shared" / "vensim-corpus",
                                                 Path("tests/data")]
    paths = [Path("models/gsc.mdl")]
    for root in roots:
        for pattern in ("*.mdl", "*.xmile", "*.stmx", "*.itmx"):
            paths += sorted(root.rglob(pattern))
    out.mkdir(parents=True, exist_ok=True)
    index, written, start = {}, 0, time.perf_counter()
    for path in paths:
        name = hashlib.sha1(str(path).encode()).hexdigest()[:10]
        try:
            found = sources(path)
            written += 1
        except Unsupported as exc:
            found = {"unsupported": str(exc)}
        except Exception as exc:  # a file gscsd does not open: its message, compared too
            found = {"error": f"{type(exc).__name__}: {exc}"}
        (out / name).mkdir(exist_ok=True)
        for kind, text in found.items():
            (out / name / kind).write_text(text, encoding="utf-8")
        index[name] = str(path)
    (out / "index.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
    print(f"{len(paths)} models, {written} with generated code, {time.perf_counter() - start:.1f} s -> {out}")


if __name__ == "__main__":
    main()
