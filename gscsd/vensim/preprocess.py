"""Rewrites of a model's text before PySD parses it.

Each pass takes the equations part of the file (the sketch and settings are
left alone) and returns it rewritten; :func:`prepare` runs them in order:

* :func:`join_continuations`: a backslash at the end of a line continues it,
  anywhere (PySD only joins ``\\`` + newline + tab; a subscript list or a
  macro header broken with ``\\`` alone failed);
* :func:`strip_inline_comments`: ``{...}`` comments inside equations (Vensim
  allows them anywhere in the equation part; PySD's grammar does not);
* :func:`complete_entries`: an entry with units but no comment field
  (``FINAL TIME = 1 ~ Month |``, as hand-written models have it) gets its
  empty comment; PySD's grammar reads such an entry as a group header and
  drops the variable;
* :func:`~gscsd.vensim.macros.expand_macros`: every macro call replaced by
  equations of its own (see :mod:`gscsd.vensim.macros`), so that PySD and the
  fast engine see a model without macros;
* :func:`mark_data_variables`: a variable with no equation is a data
  variable; PySD needs a keyword to read it as one;
* :func:`pair_flat_lookups`: an old-style lookup written as one flat list of
  x values then y values becomes (x, y) pairs.

Each pass keeps line numbers where it can (comments become as many newlines),
so errors still point at the right line of the original file.
"""

from __future__ import annotations

import re
from collections.abc import Callable

SKETCH_MARK = "\\\\\\---///"

_CONTINUATION = re.compile(r"\\[ \t]*\r?\n[ \t]*")


def join_continuations(text: str) -> str:
    """Join lines ending in a backslash (Vensim's line continuation) with a space."""
    return _CONTINUATION.sub(" ", text)


def strip_inline_comments(text: str) -> str:
    """Remove ``{...}`` comments from the equation part of every entry (before its first ``~``).

    Quoted names are left alone; a comment keeps its newlines so that line
    numbers do not move. The ``{UTF-8}`` marker at the top goes too (the text
    is already decoded).
    """
    out: list[str] = []
    in_equation = True  # between '|' and the entry's first '~'
    in_quote = False
    depth = 0
    for char in text:
        if depth:
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            elif char == "\n":
                out.append("\n")
            continue
        if in_quote:
            in_quote = char != '"'
            out.append(char)
            continue
        if char == '"':
            in_quote = True
        elif char == "{" and in_equation:
            depth = 1
            continue
        elif char == "~":
            in_equation = False
        elif char == "|":
            in_equation = True
        out.append(char)
    return "".join(out)


def complete_entries(text: str) -> str:
    """Give an entry written ``equation ~ units |`` (no comment field) its empty comment: ``... ~ units ~|``.

    Vensim reads such an entry as a variable; PySD's grammar takes any entry
    with one ``~`` for a group header (``****** .Control ****** ~ title |``)
    and drops it, so a model whose time settings are written that way lost
    them. Group headers (a line of ``***`` in their first field, which may
    follow a macro's ``:END OF MACRO:``) are left alone.
    """
    from .macros import _split_equation

    out = []
    for entry in _entries(text):
        equation, rest = _split_equation(entry)
        if (rest and entry.rstrip().endswith("|") and _tildes(rest) == 1
                and equation.strip() and not _GROUP_STARS.search(equation)):
            end = entry.rstrip().rindex("|")
            entry = entry[:end] + "~" + entry[end:]
        out.append(entry)
    return "".join(out)


_GROUP_STARS = re.compile(r"^\s*\*{3}", re.M)


def _tildes(text: str) -> int:
    """How many ``~`` separate fields in ``text`` (quoted names do not count)."""
    count, quote = 0, False
    for char in text:
        if char == '"':
            quote = not quote
        elif char == "~" and not quote:
            count += 1
    return count


_BARE = re.compile(r"^(?P<name>\s*(?:\"[^\"]+\"|[A-Za-z_\x80-\uffff][^=:~(\[\]|*<>]*?)\s*(?:\[[^\]]*\])?)\s*(?=~)",
                   re.S)


def mark_data_variables(text: str) -> str:
    """A variable with no equation is a data variable (fed by a data file at run time): add the
    ``:INTERPOLATE:`` keyword, Vensim's default, that PySD's grammar needs to read it as one."""
    out = []
    for entry in _entries(text):
        match = _BARE.match(entry)
        if match and match.group("name").strip() and not match.group("name").strip().startswith(":"):
            entry = entry[:match.end("name")] + " :INTERPOLATE: " + entry[match.end("name"):]
        out.append(entry)
    return "".join(out)


_NUMBER = r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*"
_FLAT_LOOKUP = re.compile(r"^(?P<name>\s*[^=:~(\[\]|*<>]+?(?:\[[^\]]*\])?)\s*\((?P<values>" + _NUMBER
                          + r"(?:," + _NUMBER + r")+)\)\s*(?=~)", re.S)


def pair_flat_lookups(text: str) -> str:
    """An old-style lookup written as one flat list, ``name(x1, ..., xn, y1, ..., yn)``, as (x, y) pairs."""
    out = []
    for entry in _entries(text):
        match = _FLAT_LOOKUP.match(entry)
        if match:
            values = [v.strip() for v in match.group("values").split(",")]
            if len(values) % 2 == 0:
                half = len(values) // 2
                pairs = ",".join(f"({x},{y})" for x, y in zip(values[:half], values[half:]))
                entry = f"{match.group('name')}({pairs})\n" + entry[match.end():]
        out.append(entry)
    return "".join(out)


def _entries(text: str) -> list[str]:
    from .macros import _split_entries

    return _split_entries(text)


def _expand(text: str) -> str:
    from .macros import expand_macros

    return expand_macros(text)


#: The passes, in order. Each takes and returns the equations text.
PASSES: list[Callable[[str], str]] = [join_continuations, strip_inline_comments, complete_entries, _expand,
                                      mark_data_variables, pair_flat_lookups]


def prepare(text: str) -> str:
    """Run every pass of :data:`PASSES` over the equations of ``text``, after resolving the file aliases its
    settings define (``'?data'``, :mod:`gscsd.vensim.aliases`)."""
    from .aliases import resolve, settings_aliases

    equations, mark, rest = text.partition(SKETCH_MARK)
    equations = resolve(equations, settings_aliases(rest))
    for step in PASSES:
        equations = step(equations)
    return equations + mark + rest
