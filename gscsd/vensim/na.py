"""Vensim's missing value ``:NA:``: a number, as Vensim has it.

In Vensim ``:NA:`` is not "not a number": it is one very negative number,
-2^110 (-1.298074214633707e33, the value Vensim's DLL and ``.vdf`` files
hold for missing data). It compares equal to itself, so a model can test for
missing data (``IF THEN ELSE(x = :NA:, 0, x)``); it is below every real value,
so ``MAX(:NA:, x)`` is ``x``; and ``:NA: + 20`` is ``:NA:`` again (20 is lost
in the rounding). Vensim's graphs and tables leave it out.

PySD's parser reads ``:NA:`` as numpy's NaN, which compares unequal to
everything, itself included, and spreads through arithmetic: a model that
tests for ``:NA:`` computes something else than in Vensim, and gscsd's check
for numerical failures (a NaN in the results) stops it. gscsd therefore
computes with Vensim's number in both engines (:func:`fix`, run on PySD's
abstract model before either engine sees it) and reports exactly that value
as missing (NaN) in the results (:func:`to_missing`), after checking them:
a NaN that reaches the results still is a numerical failure (a division
0/0, an overflow), while ``:NA:`` is the model's own statement.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

#: Vensim's :NA: (-2^110).
NA = -(2.0**110)


def fix(model: Any) -> Any:
    """Replace every ``:NA:`` of PySD's abstract ``model`` (PySD's NaN literals) with Vensim's :data:`NA`.

    Lookup points are left alone (PySD keeps NaN there for limits it does
    not know). Returns ``model``, changed in place.
    """
    for section in model.sections:
        for element in section.elements:
            for component in element.components:
                component.ast = _replace(component.ast)
    return model


def _replace(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return NA if math.isnan(value) else value
    if isinstance(value, tuple):
        return tuple(_replace(v) for v in value)
    if isinstance(value, list):
        return [_replace(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and np.isnan(value).any():
            return np.where(np.isnan(value), NA, value)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value).__name__ == "LookupsStructure":
            return value
        for field in dataclasses.fields(value):
            old = getattr(value, field.name)
            new = _replace(old)
            if new is not old:
                object.__setattr__(value, field.name, new)
        return value
    return value


def to_missing(values: np.ndarray) -> np.ndarray | None:
    """Where ``values`` are :data:`NA` (a boolean mask), or None when none is."""
    mask = values == NA
    return mask if mask.any() else None
