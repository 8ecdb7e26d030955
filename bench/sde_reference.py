"""SDEverywhere's generated C for a model, built at run time as a speed reference.

Nothing here is committed from elsewhere: at run time this module

1. installs ``@sdeverywhere/compile`` from npm into a scratch folder. Its
   ``xlsx`` dependency points at a host outside the npm registry, so an npm
   ``overrides`` entry replaces it with a local shim around the registry's
   ``xlsx`` that adds ``set_fs`` (which that version lacks);
2. asks it for the C code of the model (a copy of the ``.mdl`` in which a
   variable named like a subscript range is renamed: SDEverywhere cannot hold
   both, e.g. gsc.mdl's ``Capability[Capability]``);
3. copies SDEverywhere's C runtime (``packages/cli/src/c``) from a local
   clone of its repository (``--sde-repo``; not on npm), adds a small timing
   driver written here, and compiles with ``cc -O2`` (the runtime's makefile flags);
4. runs it: the median wall time of ``runModel`` over many runs, in-process.

:func:`build` returns the executable, or the reason it could not be built.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

COMPILE_VERSION = "0.7.28"
RUNTIME_FILES = ("vensim.c", "vensim.h", "model.c", "model.h", "macros.c", "macros.h", "allocation.c", "sde.h")

PACKAGE = {
    "name": "gscsd-sde-reference",
    "private": True,
    "type": "module",
    "dependencies": {"@sdeverywhere/compile": COMPILE_VERSION, "xlsx-registry": "npm:xlsx@0.18.5"},
    "overrides": {"xlsx": "file:./xlsx-shim"},
}
SHIM_PACKAGE = {"name": "xlsx", "version": "0.18.5", "main": "index.cjs",
                "dependencies": {"xlsx-registry": "npm:xlsx@0.18.5"}}
SHIM = """const real = require("xlsx-registry");
module.exports = Object.assign({}, real, { set_fs: real.set_fs || function () {} });
"""
GENERATE = """import fs from 'fs'
import { parseAndGenerate } from '@sdeverywhere/compile'
const [mdl, specFile, buildDir] = process.argv.slice(2)
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'))
const text = fs.readFileSync(mdl, 'utf8')  // parseAndGenerate runs SDEverywhere's own preprocessing
await parseAndGenerate(text, 'vensim', spec, ['generateC'], buildDir, 'model', buildDir)
"""
DRIVER = r"""#include "sde.h"
#include <time.h>
static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}
int main(int argc, char** argv) {
  int repeat = argc > 1 ? atoi(argv[1]) : 1000;
  size_t saves = (size_t)(round((getFinalTime() - getInitialTime()) / getSaveper())) + 1;
  double* outputs = malloc(sizeof(double) * saves * (numOutputs + 1));
  double* samples = malloc(sizeof(double) * repeat);
  struct timespec a, b;
  for (int i = 0; i < repeat; i++) {
    clock_gettime(CLOCK_MONOTONIC, &a);
    runModel(NULL, outputs);
    clock_gettime(CLOCK_MONOTONIC, &b);
    samples[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  }
  qsort(samples, repeat, sizeof(double), cmp);
  printf("%.6f %d %zu\n", samples[repeat / 2], numOutputs, saves);
  return 0;
}
"""


def renamed_copy(mdl: Path, clashes: list[str], target: Path) -> None:
    """Copy ``mdl`` renaming each variable in ``clashes`` (named like a subscript range) outside brackets."""
    text = mdl.read_text(encoding="utf-8", errors="replace")
    equations, mark, rest = text.partition("\\\\\\---///")
    for name in clashes:
        # the whole name: not part of a longer name, not the range's own definition (`Capability: a, b`)
        words = r"[ _]+".join(map(re.escape, name.split()))
        pattern = re.compile(r"(?<![\w\"])(?<![A-Za-z0-9][ _])(?<!ELMCOUNT\()" + words
                             + r"(?![\w\"])(?![ _]+[A-Za-z0-9])(?!\s*:(?![=A-Z]))", re.I)
        out, depth, last = [], 0, 0
        for match in pattern.finditer(equations):
            segment = equations[last:match.start()]
            depth += segment.count("[") - segment.count("]")
            out.append(segment)
            out.append(match.group(0) if depth > 0 else f"{name} Variable")
            last = match.end()
        out.append(equations[last:])
        equations = "".join(out)
    # A table of constants (`x[A, B] = 1, 2; 3, 4 ~`): Vensim ends each row with `;`, the last one included,
    # and SDEverywhere's grammar requires that last `;`, which Vensim also reads without.
    equations = _TABLE_END.sub(r"\1;\2", equations)
    target.write_text(_lift_initials(equations) + mark + rest, encoding="utf-8")


def _lift_initials(equations: str) -> str:
    """Each ``INITIAL(x)`` inside a larger expression as a variable of its own (``gscsd initial 1 = INITIAL(x)``):
    SDEverywhere accepts INITIAL only right after the ``=``. The lifted variable has the subscripts of the
    equation's left-hand side; Vensim's meaning is the same. Comments and ACTIVE INITIAL are left alone."""
    lifted: list[str] = []
    chunks = equations.split("|")
    for c, chunk in enumerate(chunks):
        equation, tilde, notes = chunk.partition("~")
        out, last = [], 0
        for match in re.finditer(r"(?<!ACTIVE )\bINITIAL\s*\(", equation, re.I):
            if equation[:match.start()].rstrip().endswith("=") or match.start() < last:
                continue
            depth, end = 0, match.end() - 1
            for end in range(match.end() - 1, len(equation)):
                depth += {"(": 1, ")": -1}.get(equation[end], 0)
                if depth == 0:
                    break
            subscripts = re.search(r"\[[^\]]*\]", equation.split("=", 1)[0])  # the left-hand side's
            name = f"gscsd initial {len(lifted) + 1}{subscripts.group(0) if subscripts else ''}"
            lifted.append(f"{name} = {equation[match.start():end + 1]}\n\t~\t\n\t~\t\n\t|\n")
            out += [equation[last:match.start()], name]
            last = end + 1
        if out:
            chunks[c] = "".join(out) + equation[last:] + tilde + notes
    return "|".join(chunks) + "".join("\n" + definition for definition in lifted)


_NUMBER = r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*"
_TABLE_END = re.compile(rf"(=(?:{_NUMBER}[,;])+?{_NUMBER}(?:;(?:{_NUMBER}[,;])*?{_NUMBER})+)(\s*~)")


def build(mdl: Path, outputs: list[str], clashes: list[str], sde_repo: Path | None, work: Path | None = None):
    """Return ``(executable, None)`` or ``(None, why it could not be built)``."""
    for tool in ("npm", "node", "cc", "git"):
        if shutil.which(tool) is None:
            return None, f"`{tool}` is not installed"
    if sde_repo is None or not (sde_repo / "HEAD").exists() and not (sde_repo / ".git").exists():
        return None, ("no clone of the SDEverywhere repository for its C runtime (pass --sde-repo PATH; the "
                      "runtime is not published on npm)")
    work = Path(work or tempfile.mkdtemp(prefix="gscsd-sde-"))
    (work / "xlsx-shim").mkdir(parents=True, exist_ok=True)
    (work / "package.json").write_text(json.dumps(PACKAGE), encoding="utf-8")
    (work / "xlsx-shim" / "package.json").write_text(json.dumps(SHIM_PACKAGE), encoding="utf-8")
    (work / "xlsx-shim" / "index.cjs").write_text(SHIM, encoding="utf-8")
    steps = [(["npm", "install", "--no-audit", "--no-fund", "--silent"], "npm install @sdeverywhere/compile")]
    for command, what in steps:
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=600)
        if done.returncode:
            return None, f"{what} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
    build_dir = work / "build"
    build_dir.mkdir(exist_ok=True)
    renamed_copy(mdl, clashes, work / "model.mdl")
    (work / "spec.json").write_text(json.dumps({"inputVarNames": [], "outputVarNames": outputs}), encoding="utf-8")
    (work / "generate.mjs").write_text(GENERATE, encoding="utf-8")
    done = subprocess.run(["node", "generate.mjs", "model.mdl", "spec.json", str(build_dir)], cwd=work,
                          capture_output=True, text=True, timeout=600)
    if done.returncode or not (build_dir / "model.c").is_file():
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.startswith("Error")]
        return None, f"SDEverywhere could not generate C for {mdl.name}: {lines[0] if lines else 'no output'}"
    shutil.move(build_dir / "model.c", build_dir / "generated.c")
    for name in RUNTIME_FILES:
        blob = subprocess.run(["git", f"--git-dir={_git_dir(sde_repo)}", "show", f"HEAD:packages/cli/src/c/{name}"],
                              capture_output=True, timeout=60)
        if blob.returncode:
            return None, f"the SDEverywhere clone has no packages/cli/src/c/{name}"
        (build_dir / name).write_bytes(blob.stdout)
    (build_dir / "driver.c").write_text(DRIVER, encoding="utf-8")
    sources = ["driver.c", "generated.c", "model.c", "vensim.c", "macros.c", "allocation.c"]
    done = subprocess.run(["cc", "-O2", "-o", "sde_model", *sources, "-lm"], cwd=build_dir, capture_output=True,
                          text=True, timeout=600)
    if done.returncode:
        return None, f"cc failed: {done.stderr.strip().splitlines()[:1]}"
    return build_dir / "sde_model", None


def _git_dir(repo: Path) -> Path:
    return repo / ".git" if (repo / ".git").exists() else repo


def time_runs(executable: Path, repeat: int) -> tuple[float, int, int]:
    """Median ms of ``runModel`` over ``repeat`` runs, and the numbers of outputs and save points."""
    done = subprocess.run([str(executable), str(repeat)], capture_output=True, text=True, timeout=600, check=True)
    median, outputs, saves = done.stdout.split()
    return float(median), int(outputs), int(saves)
