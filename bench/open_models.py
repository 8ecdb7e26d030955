"""How many real Vensim models gscsd opens, runs and matches Vensim on.

Usage::

    .venv/bin/python bench/open_models.py DIR [DIR ...] [--out report.tsv] [--timeout 120]

Every ``.mdl`` under the folders is loaded (``gscsd.load_model``, with the
``.dat``/``.tab``/``.csv`` files beside it as data files, except its own
Vensim output, and the files its aliases stand for where an SDEverywhere
``<name>_spec.json`` beside it says, as SDEverywhere's runner reads them), run
with ``engine="auto"``, and, where Vensim's output lies beside it (a ``.dat``
named like the model or its folder, as in SDEverywhere's test models),
compared with it at rtol 1e-3 (absolute floor 1e-6). Each model has a time
limit (``--isolate``: and a process of its own). The models are not part of the repository: point
the script at clones of public model collections.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ONE = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from pathlib import Path
import numpy as np
import gscsd
from gscsd.vensim.data import read_data_file
path = Path(sys.argv[1])
out = {"model": str(path)}
def stage(name):
    out["stage"] = name
try:
    stage("load")
    own = {path.with_suffix(".dat").name, f"{path.parent.name}.dat"}
    data = [f for f in sorted(path.parent.iterdir()) if f.suffix.lower() in (".dat", ".tab", ".csv")
            and f.name not in own and not f.stem.lower().startswith("output")]
    spec = path.with_name(f"{path.stem}_spec.json")  # SDEverywhere's: the files its aliases ('?data') stand for
    aliases = json.loads(spec.read_text(encoding="utf-8")).get("directData") if spec.is_file() else None
    model = gscsd.load_model(path, data_files=data, external_files=aliases)
    stage("run")
    results = gscsd.run(model)
    out["engine"] = results.attrs["engine"]
    out["fallback"] = results.attrs.get("fallback", "")
    stage("compare")
    for reference in (path.with_suffix(".dat"), path.parent / f"{path.parent.name}.dat"):
        if reference.is_file() and reference.stem not in ("data",) and not reference.stem.endswith("_data"):
            series = read_data_file(reference)
            bad, shared = [], 0
            for name, (t, v) in series.items():
                if name not in results.columns:
                    continue
                index = results.index.get_indexer(t)
                ok = index >= 0
                if not ok.any():
                    continue
                shared += 1
                ours = results[name].to_numpy()[index[ok]]
                if not np.allclose(ours, v[ok], rtol=1e-3, atol=1e-6):
                    bad.append(name)
            out["compared"], out["mismatched"] = shared, bad[:5]
            break
    stage("ok")
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:400]
print(json.dumps(out))
"""


def _one_in_process(path: Path, timeout: float) -> dict:
    """ONE's work in this process, stopped by an alarm after ``timeout`` seconds."""
    import contextlib
    import io
    import signal

    def stop(signum, frame):
        raise TimeoutError(f"over {timeout:.0f} s")

    sys.argv = ["one", str(path)]
    buffer = io.StringIO()
    signal.signal(signal.SIGALRM, stop)
    signal.alarm(int(timeout))
    try:
        with contextlib.redirect_stdout(buffer):
            exec(compile(ONE, "<one>", "exec"), {"__name__": "one"})  # our own harness, in this process
    except TimeoutError as exc:
        return {"model": str(path), "stage": "timeout", "error": str(exc)}
    finally:
        signal.alarm(0)
    return json.loads(buffer.getvalue().strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--isolate", action="store_true", help="one process per model (slower, survives crashes)")
    args = parser.parse_args()
    os.environ["GSCSD_NUMBA"] = "0"  # the Python flavours: same numbers, no compile per model
    models = sorted(p for folder in args.folders for p in folder.rglob("*") if p.suffix.lower() == ".mdl")
    rows = []
    for path in models:
        if not args.isolate:
            row = _one_in_process(path, args.timeout)
        else:
            try:
                done = subprocess.run([sys.executable, "-c", ONE, str(path)], capture_output=True, text=True,
                                      timeout=args.timeout, env={**os.environ, "GSCSD_NUMBA": "0"})
                row = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {
                    "model": str(path), "stage": "crash", "error": done.stderr.strip().splitlines()[-1:]}
            except subprocess.TimeoutExpired:
                row = {"model": str(path), "stage": "timeout", "error": f"over {args.timeout:.0f} s"}
        rows.append(row)
        print(f"{row['stage']:8} {row.get('engine', ''):5} {path}  {str(row.get('error', ''))[:160]}", flush=True)
    stages = Counter(r["stage"] for r in rows)
    opened = sum(1 for r in rows if r["stage"] in ("compare", "ok"))
    compared = [r for r in rows if "compared" in r]
    matched = sum(1 for r in compared if not r["mismatched"])
    fast = sum(1 for r in rows if r.get("engine") == "fast")
    print(f"\n{opened}/{len(rows)} models load and run ({fast} on the fast engine); "
          f"{matched}/{len(compared)} with Vensim output beside them match it; stages: {dict(stages)}")
    if args.out:
        args.out.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
