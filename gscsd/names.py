"""Vensim name handling.

Vensim treats names case-insensitively and makes no difference between a
space and an underscore, so ``"r&d intensity"``, ``"R&D_Intensity"`` and
``"R&D Intensity"`` are one variable. Everything in gscsd that looks a name up
goes through :func:`canonical`.

Vensim needs quotes around names with characters such as ``&``
(``"R&D Intensity"``). They are syntax, not part of the name: gscsd drops
them once, when it reads a model's metadata (:func:`gscsd.load_model`), and
the engines drop them from their result columns (:func:`column_name`), so
levers, results, CSV headers, scenarios, URLs and reports all say
``R&D Intensity``. Lookups still accept the quoted spelling.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_SPACES = re.compile(r"[\s_]+")


def canonical(name: str) -> str:
    """Return the key Vensim would use to compare ``name`` with other names."""
    return _SPACES.sub(" ", name.strip().strip('"')).lower()


def display(name: str) -> str:
    """A name as users see it: ``"R&D Intensity"`` (quoted in the .mdl, as
    Vensim requires for names with ``&``) without its quotes."""
    name = str(name)
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


def column_name(column: str) -> str:
    """A result column as users see it: ``"R&D Emphasis"[Basic]`` -> ``R&D Emphasis[Basic]``.

    Engines name columns as the ``.mdl`` spells the variable; this drops
    Vensim's quotes from the variable's part (a quoted name may hold ``[``).
    """
    column = str(column)
    if column.startswith('"'):
        end = column.find('"', 1)
        if end > 0:
            return column[1:end] + column[end + 1 :]
    return column


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` of ``candidates`` that look like ``name``.

    Matching is done on canonical forms so that case and underscores do not
    hide an obvious candidate; the candidates come back in their own spelling.
    """
    by_key: dict[str, str] = {}
    for candidate in candidates:
        by_key.setdefault(canonical(candidate), candidate)
    keys = difflib.get_close_matches(canonical(name), list(by_key), n=n, cutoff=0.5)
    # A name typed as a fragment ("intensity") is worth suggesting too.
    fragment = canonical(name)
    if len(keys) < n and len(fragment) >= 3:
        keys += [k for k in by_key if fragment in k and k not in keys][: n - len(keys)]
    return [by_key[k] for k in keys]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean 'a', 'b'?"`` or ``""`` when nothing is close."""
    matches = close_matches(name, candidates)
    if not matches:
        return ""
    return "; did you mean " + ", ".join(repr(m) for m in matches) + "?"


def split_outside(text: str, separator: str = ",") -> list[str]:
    """``text`` split at each ``separator`` outside brackets (``()`` and ``[]``), stripped, empty items dropped.

    ``"Name[a,b]=2, C=1"`` gives ``["Name[a,b]=2", "C=1"]``; ``"B1, (DimA: SubA, A3)"`` gives ``["B1",
    "(DimA: SubA, A3)"]``.
    """
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == separator and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]
