"""The fast engine against Vensim's canonical output on the whole test corpus.

Every comparable case of ``vensim-corpus/tests`` (see its SOURCE.md) runs
through the fast engine and is compared with Vensim's output at rtol 1e-3
(the per-case tolerances of SOURCE.md where given). Where even PySD, the
reference, differs from Vensim at that tolerance (values that are zero up to
rounding, where a relative test with no absolute floor cannot pass), the fast
engine must fail exactly the same columns and agree with PySD to 1e-6.

Cases the fast engine does not compile are listed in ``UNSUPPORTED`` with
the reason; the test checks that the engine still refuses them, that
``engine="auto"`` runs them with PySD and says so, and that the result
matches Vensim too: through gscsd every comparable case runs.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import unsupported_reasons

from .conftest import CORPUS, corpus_params, needs_corpus
from .corpus import DATA_FILES, canonical_output, compare_with_canonical

pytestmark = [needs_corpus, pytest.mark.slow]

TESTS = CORPUS / "tests"
TOLERANCE = {"arguments": 1e-2}
#: Absolute floors (else none), and why. The allocations: Vensim's own search leaves up to 4e-7 where the exact
#: allocation is 0 (a requester whose curve starts right at the balance), gscsd's bisection 0 or 1e-14.
ATOL = {"allocate_available": 1e-6, "allocate_by_priority": 1e-6}

#: Not comparable (SOURCE.md): no canonical output, or a "future model".
NOT_COMPARABLE = {"get_time_value/test_get_time_value.mdl"}

#: Vensim's output of a case, where it is not the folder's output file (SOURCE.md / the case's README): the other
#: model of data_from_other_model reads data.tab, Vensim's run of this one.
OUTPUTS = {"data_from_other_model/model_to_generate_data.mdl": ("data.tab",)}

#: Cases the fast engine refuses (engine="auto" runs them with PySD), with why.
UNSUPPORTED = {
    "vector_select": "VECTOR SELECT with a range both with and without '!' (PySD broadcasts those by name)",
}


def _cases() -> list:
    if not TESTS.is_dir():
        return []
    cases = []
    for folder in sorted(TESTS.iterdir()):
        mdls = sorted(folder.glob("*.mdl"))
        if not mdls or canonical_output(folder) is None:
            continue  # no canonical output: not comparable
        for mdl in mdls:
            case = f"{folder.name}/{mdl.name}"
            if case in NOT_COMPARABLE:
                continue
            key = case if len(mdls) > 1 else folder.name
            cases.append(pytest.param(mdl, key, id=key))
    return cases


@pytest.mark.parametrize(("path", "key"), corpus_params(_cases(), arity=2))
def test_fast_engine_matches_vensim(path: Path, key: str):
    with warnings.catch_warnings():
        # PySD's parser warns about what it ignores (:CONSTRAINT:, incomplete ranges)
        warnings.simplefilter("ignore", UserWarning)
        model = gscsd.load_model(path, data_files=[path.parent / f for f in DATA_FILES.get(path.parent.name, [])])
        reasons = unsupported_reasons(model)
    vensim = canonical_output(path.parent, OUTPUTS.get(f"{path.parent.name}/{path.name}", ("output.csv", "output.tab")))
    rtol = TOLERANCE.get(path.parent.name, 1e-3)
    if key in UNSUPPORTED:
        assert reasons, f"{key} now compiles: remove it from UNSUPPORTED"
        ours = gscsd.run(model)  # auto: falls back to PySD and says why
        assert ours.attrs["engine"] == "pysd" and ours.attrs["fallback"]
        reference = gscsd.run(model, engine="pysd")
        np.testing.assert_array_equal(ours.to_numpy(), reference.to_numpy())
        return
    assert reasons == []
    ours = gscsd.run(model, engine="fast")
    if not set(vensim.columns) & set(ours.columns):
        # Names Vensim writes differently (quotes, unicode): same as PySD's, then.
        reference = gscsd.run(model, engine="pysd")
        assert list(ours.columns) == list(reference.columns)
        np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy(), rtol=1e-6, atol=1e-12)
        return
    problems = compare_with_canonical(ours, vensim, rtol=rtol, atol=ATOL.get(path.parent.name, 0.0))
    if problems:
        reference = gscsd.run(model, engine="pysd")
        assert compare_with_canonical(reference, vensim, rtol=rtol) == problems, "PySD matches Vensim here"
        columns = [p.split(" at ", 1)[0] for p in problems]
        np.testing.assert_allclose(ours[columns].to_numpy(), reference[columns].to_numpy(), rtol=1e-6, atol=1e-12)
