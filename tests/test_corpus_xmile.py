"""The XMILE and Stella files of the corpus: translated, run by the fast engine, compared with the canonical outputs.

The corpus holds 115 ``.xmile``/``.stmx`` files (most written by xmutil or
Stella from the folder's ``.mdl``; ``samples/`` has Stella's own teacup and
SIR, ``*_legacy.stmx`` are Stella 10's pre-standard files). Each one is loaded
with :func:`gscsd.load_model` (translated once into this session's cache) and
run by the fast engine; the result is compared, by XMILE name (case and
``_`` ignored), with every canonical output of its folder: Vensim's
``output.csv``/``output.tab`` and Stella's ``output_stella*.csv``, at rtol
1e-3. Where even PySD differs from the canonical output at that tolerance
(values that are zero up to rounding, where a relative test with no absolute
floor cannot pass), the fast engine must fail exactly the same columns and
agree with PySD to 1e-6, as in ``test_corpus_vensim.py``.

Files gscsd refuses are listed in :data:`REFUSED` with the words the one-line
message must hold. The summary line with the counts is printed at the end of
the run (``XMILE corpus: ...``) and asserted.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import unsupported_reasons
from gscsd.errors import TranslationError

from .conftest import CORPUS, corpus_params, needs_corpus, report_line
from .corpus import by_canonical_name, canonical_output, compare_with_canonical, stella_outputs

pytestmark = [needs_corpus, pytest.mark.slow]

SUFFIXES = (".xmile", ".stmx", ".itmx")
RTOL = 1e-3

_UNCONVERTED = "'???' is not an equation"
_MACRO = "is called like a macro, and the file defines no <macro>"

#: Files gscsd refuses, by folder (or folder/file), with words its one-line message must hold. None of them is
#: standard XMILE: xmutil wrote '???' where it could not convert an equation, dropped the macros it calls, and
#: wrote a postfix 'not'; two files are not well-formed XML (PySD's lenient parser drops the stocks after the
#: error and runs what is left).
REFUSED = {
    "subscript_1d_arrays": _UNCONVERTED, "subscript_constant_call": _UNCONVERTED,
    "subscript_mixed_assembly": _UNCONVERTED, "subscript_multiples": _UNCONVERTED,
    "subscript_subranges": _UNCONVERTED, "subscript_subranges_equal": _UNCONVERTED,
    "subscript_updimensioning": _UNCONVERTED, "subscripted_flows": _UNCONVERTED,
    "macro_expression": _MACRO, "macro_multi_expression": _MACRO, "macro_multi_macros": _MACRO,
    "macro_stock": _MACRO,
    "logicals/test_logicals.stmx": "of auxiliary 'NOT output': unexpected 'not THEN",
    "non_negative_flows": "malformed XML: Opening and ending tag mismatch",
}

#: Folders whose XMILE file is not the model Vensim's output is of: compared with Stella's output only.
NOT_THE_MDL = {"active_initial": "xmutil wrote Stock A's initial value without ACTIVE INITIAL"}

#: Files whose <sim_specs> asks for RK4 where the .mdl (whose Vensim output the folder holds) integrates with
#: Euler (Vensim's XMILE export writes RK4): gscsd honours RK4, so the comparison runs Euler explicitly.
RK4_OF_AN_EULER_MDL = {"arithmetics_exp", "min_max_1arg", "rounding", "subscripted_trig", "zeroled_decimals"}

#: The counts the summary asserts: every file PySD's translator alone runs (88 of 115) translates here too,
#: except the 2 malformed files; 2 it stopped on translate now (special_characters_xmile's .stmx, whose flow
#: lists hold names with operators in them, and lookups' .stmx, which calls LOOKUP(gf, x)).
EXPECTED = {"files": 115, "translated": 88, "fast": 88, "matched": 88, "refused": 27}


def _files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def _case(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def _refusal(path: Path) -> str | None:
    return REFUSED.get(f"{path.parent.name}/{path.name}") or REFUSED.get(path.parent.name)


@dataclass(frozen=True)
class Outcome:
    """What happened to one file."""

    translated: bool = False
    fast: bool = False
    matched: str = ""  # "exact", "rounding" (where PySD fails the same columns), or "" (not compared/matched)
    detail: str = ""


@functools.cache
def outcome(path: Path) -> Outcome:
    """Load, compile, run and compare one file (once per session)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model = gscsd.load_model(path)
    except TranslationError as exc:
        return Outcome(detail=str(exc))
    reasons = unsupported_reasons(model)
    if reasons:
        return Outcome(translated=True, detail="; ".join(reasons))
    folder = path.parent
    method = "euler" if folder.name in RK4_OF_AN_EULER_MDL else None
    ours = by_canonical_name(gscsd.run(model, engine="fast", method=method))
    references = dict(stella_outputs(folder))
    vensim = canonical_output(folder)
    if vensim is not None and folder.name not in NOT_THE_MDL:
        references["Vensim's output"] = vensim
    assert references, f"{_case(path)}: no canonical output"
    problems = {}
    for name, reference in references.items():
        found = compare_with_canonical(ours, by_canonical_name(reference), RTOL)
        if found:
            problems[name] = found
    if not problems:
        return Outcome(True, True, "exact")
    pysd = by_canonical_name(gscsd.run(model, engine="pysd", method=method))
    for name, found in problems.items():
        if compare_with_canonical(pysd, by_canonical_name(references[name]), RTOL) != found:
            return Outcome(True, True, "", f"{name}: {found[:3]} (PySD matches there)")
        columns = [p.split(" at ", 1)[0] for p in found]
        if not np.allclose(ours[columns].to_numpy(), pysd[columns].to_numpy(), rtol=1e-6, atol=1e-12):
            return Outcome(True, True, "", f"{name}: {found[:3]}, and the fast engine differs from PySD there")
    return Outcome(True, True, "rounding", f"zero up to rounding, as in PySD: {problems}")


@pytest.mark.parametrize("path", corpus_params(_files()), ids=lambda p: _case(p) if p else "corpus-missing")
def test_xmile_file(path: Path):
    result = outcome(path)
    refusal = _refusal(path)
    if refusal:
        assert not result.translated, f"{_case(path)} translates now: remove it from REFUSED"
        assert refusal in result.detail, result.detail
        assert result.detail.startswith(f"{path}:") and "\n" not in result.detail  # one line, file and line
        return
    assert result.translated and result.fast, result.detail
    assert result.matched, result.detail


def test_rk4_is_honoured_where_the_file_asks_for_it():
    path = CORPUS / "tests" / "zeroled_decimals" / "test_zeroled_decimals.xmile"
    model = gscsd.load_model(path)
    assert (model.time.method, model.time.vensim_method) == ("rk4", "RK4")
    rk4, euler = gscsd.run(model, engine="fast"), gscsd.run(model, engine="fast", method="euler")
    # stockmixed's outflow flow7 is Time: over the first step RK4 takes its mean (0.5), Euler its start value (0)
    assert rk4["stockmixed"].iloc[1] == pytest.approx(-1.1777) and euler["stockmixed"].iloc[1] == pytest.approx(-0.6777)


def test_summary_counts():
    files = _files()
    results = {path: outcome(path) for path in files}
    counts = {
        "files": len(files),
        "translated": sum(r.translated for r in results.values()),
        "fast": sum(r.fast for r in results.values()),
        "matched": sum(bool(r.matched) for r in results.values()),
        "refused": sum(not r.translated for r in results.values()),
    }
    rounding = sum(r.matched == "rounding" for r in results.values())
    report_line(
        f"XMILE corpus: {counts['files']} files, {counts['translated']} translated, {counts['fast']} on the fast "
        f"engine, {counts['matched']} matched (rtol {RTOL:g}; {rounding} of them where the canonical values are zero "
        f"up to rounding, equal to PySD's), {counts['refused']} refused with one line"
    )
    assert counts == EXPECTED, {_case(p): r.detail for p, r in results.items() if not r.matched}
