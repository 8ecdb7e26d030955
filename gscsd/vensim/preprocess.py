"""Rewrites of a model's text before PySD parses it.

Each pass takes the equations part of the file (the sketch and settings are
left alone) and returns it rewritten; :func:`prepare` runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable

SKETCH_MARK = "\\\\\\---///"

#: The passes, in order. Each takes and returns the equations text.
PASSES: list[Callable[[str], str]] = []


def prepare(text: str) -> str:
    """Run every pass of :data:`PASSES` over the equations of ``text``."""
    equations, mark, rest = text.partition(SKETCH_MARK)
    for step in PASSES:
        equations = step(equations)
    return equations + mark + rest
