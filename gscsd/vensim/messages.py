"""One-line errors a modeler can act on, from PySD's parser and builder failures.

Every message names the file and line, the variable, what in the equation is
at fault (the Vensim feature, or the text where reading stopped) and what to
do. :func:`parse_failure` explains a parser error (PySD's ``Rule 'keyword'
didn't match`` and the like); :func:`build_failure` finds the variable PySD's
code builder was working on when it failed and explains the common causes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: Known causes: (pattern in the error or the equation, the feature, what to do).
HINTS: list[tuple[str, str, str]] = [
    (r"cannot reshape array|size \d+ into shape", "a subscript mapping, :EXCEPT: or sub-range that PySD lays out "
     "wrongly", "write the values element by element, or map to whole ranges"),
    (r"maximum recursion depth", "a loop of equations with no stock between them (or an initial value that needs "
     "itself)", "break the loop with a stock, INITIAL or ACTIVE INITIAL"),
    (r"Circular initialization", "initial values that PySD finds circular (often a subscripted stock whose "
     "elements' initial values refer to each other, which PySD initialises as one)", "give those initial values "
     "without the other elements of the same stock, or split the stock"),
    # PySD lacks these; the fast engine runs them (docs/engine.md), so the way out is that engine.
    *((rf"\b{name}\b", name, "the fast engine runs it: use the engine 'auto' (the default) or 'fast', not 'pysd'")
      for name in ("VECTOR ELM MAP", "VECTOR LOOKUP", "VECTOR SORT ORDER", "VECTOR RANK", "VECTOR REORDER",
                   "LOOKUP FORWARD", "LOOKUP BACKWARD", "LOOKUP INVERT", "LOOKUP EXTRAPOLATE", "DELAY MATERIAL",
                   "SINTEG", "DEPRECIATE STRAIGHTLINE", "GAMMA LN", "GET DATA BETWEEN TIMES")),
    (r"\bSSTATS\b", "SSTATS (not a Vensim function: a macro in the models that use it)", "include the macro's "
     ":MACRO: definition in the .mdl, or compute the statistic with stocks"),
    (r"GET DIRECT DATA|GET XLS DATA|GET DATA", "GET ... DATA", "check the file name, sheet and cells; the file is "
     "read relative to the .mdl"),
    (r"Indirect reference to file: '\?", "a file alias ('?name': Vensim keeps the file it stands for in its own "
     "settings, outside the .mdl)", "write the data file's name in the equation in place of the alias"),
    (r"_ext_(constant|lookup|data)_", "an external data reference (GET XLS/DIRECT)", "check that the file beside "
     "the .mdl exists and the sheet and cells are right"),
]


def hint(*texts: str) -> tuple[str, str] | None:
    """(feature, what to do) for the first known cause found in ``texts``."""
    for pattern, feature, todo in HINTS:
        if any(re.search(pattern, t or "", re.IGNORECASE) for t in texts):
            return feature, todo
    return None


def parse_failure(original: Path, line: int | str, label: str, equation: str, exc: Exception) -> str:
    """A parser error as one line: where, which variable, the text where reading stopped, what to do."""
    known = hint(equation, str(exc))
    near = ""
    text, position = getattr(exc, "text", None), getattr(exc, "pos", None)
    if isinstance(text, str) and isinstance(position, int):
        near = text[position:position + 40].strip()
    where = f"{original}:{line}: cannot parse the equation of '{label}'"
    if known:
        return f"{where}: Vensim's {known[0]} is not supported by the translator; {known[1]}"
    stop = f" at '{near}'" if near else " at its end"
    return (f"{where}: the translator stopped{stop}; check the Vensim syntax there (a missing operator, an "
            "unbalanced parenthesis, an unsupported function) or rewrite that part")


def element_in_traceback(exc: BaseException) -> str | None:
    """The name of the model element PySD was building when ``exc`` was raised, if any frame says."""
    names = []
    tb = exc.__traceback__
    while tb is not None:
        frame_locals = tb.tb_frame.f_locals
        candidate = frame_locals.get("self")  # a method of the element being built, not a loop over them
        name = getattr(candidate, "name", None)
        if isinstance(name, str) and type(candidate).__name__ in ("ElementBuilder", "ComponentBuilder"):
            names.append(name)
        tb = tb.tb_next
    return names[-1] if names else None


def build_failure(original: Path, raw: str, exc: BaseException, line_of: Any) -> str:
    """A failure of PySD's code builder as one line, naming the variable where a frame says which."""
    name = element_in_traceback(exc)
    first = next((s.strip() for s in str(exc).splitlines() if s.strip()), type(exc).__name__)
    known = hint(first, _equation_of(raw, name) if name else "")
    where = f"{original}:{line_of(raw, name)}: '{name}'" if name else f"{original}"
    if known:
        return f"{where}: {known[0]} ({first}); {known[1]}"
    return (f"{where}: the translator failed ({type(exc).__name__}: {first}); simplify this equation or write it "
            "element by element, and report the model if Vensim runs it")


def _equation_of(raw: str, name: str | None) -> str:
    if not name:
        return ""
    words = r"[\s_]+".join(re.escape(w) for w in name.split())
    match = re.search(r"^\s*" + words + r"\s*(\[[^\]]*\])?\s*(=|\(|:)(?P<rhs>[^~|]*)", raw, re.I | re.M)
    return match.group("rhs") if match else ""


def definition_line(raw: str, name: str) -> int | str:
    """The 1-based line of ``raw`` where variable ``name`` is defined (spaces and ``_`` alike, any case), or "?".

    ``name`` may carry subscripts (``stock[north]``), which are ignored: the first definition of the variable
    answers.
    """
    base = name.split("[", 1)[0].strip().strip('"')
    words = r"[\s_]+".join(re.escape(w) for w in re.split(r"[\s_]+", base) if w)
    if not words:
        return "?"
    match = re.search(r'^[ \t]*"?' + words + r'"?[ \t]*(\[[^\]]*\])?\s*(=|:=|\(|~|:[A-Z ]+:)', raw, re.I | re.M)
    return raw.count("\n", 0, match.start()) + 1 if match else "?"


def variable_at(raw: str, line: int | str) -> str:
    """The variable whose definition holds ``line`` of ``raw`` (the nearest ``name =`` at or above it)."""
    if not isinstance(line, int):
        return "?"
    lines = raw.splitlines()
    for number in range(min(line, len(lines)) - 1, -1, -1):
        match = re.match(r"\s*([^=~|:(\[*{]+?)\s*(\[[^\]]*\])?\s*(=|:=|\()", lines[number])
        if match and match.group(1).strip():
            return match.group(1).strip()
    return "?"
