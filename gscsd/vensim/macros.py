"""Vensim macros, expanded into plain equations before translation.

A macro::

    :MACRO: SMOOTHED(input, delay time : trend)
    SMOOTHED = SMOOTH(input, delay time) ~ units ~ |
    trend = (input - SMOOTHED) / delay time ~ units ~ |
    :END OF MACRO:

is a template: every call (``y = SMOOTHED(x, 3 : y trend)``) has its own copy
of the macro's variables, with its arguments in place of the inputs. This
module writes that copy out as ordinary equations, named
``<MACRO> <n> <variable>`` (the macro's own output: ``<MACRO> <n>``), and puts
a reference to the output where the call was; extra outputs after ``:`` in a
call become equations of the caller's variables (``y trend = SMOOTHED 1 trend``).

What Vensim allows in macros and is handled here: ``Time$``, ``TIME STEP$``
and the other ``$`` names (the model's own), stateful functions (each call
keeps its own state), macros calling macros, macros defined anywhere in the
file (also right after a group header), calls inside larger expressions and
in subscripted equations (the copy is subscripted like the caller's left-hand
side). A macro with subscripted variables of its own is refused with a clear
error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UnsupportedFunctionError

_BLOCK = re.compile(r":MACRO:(?P<body>.*?):END OF MACRO:", re.S | re.I)
#: A name: words separated by spaces or underscores (or a quoted name), not starting with a digit.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.$])[A-Za-z_\x80-\uffff][\w\x80-\uffff\'&%$]*'
                    r"(?:[ _]+[A-Za-z_\x80-\uffff][\w\x80-\uffff'&%$]*)*")
_KEYWORDS = {"and", "or", "not", "na", "end of macro", "macro", "except", "equation", "interpolate",
             "raw", "hold backward", "look forward", "supplementary"}
MAX_DEPTH = 20


@dataclass
class Macro:
    """One ``:MACRO:`` block: name, inputs, extra outputs and its equations (text)."""

    name: str
    inputs: list[str]
    outputs: list[str]
    entries: list[str]  # each `lhs = rhs ~ units ~ doc |`

    @property
    def locals(self) -> list[str]:
        return [_lhs_name(entry) for entry in self.entries]


def canonical(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().strip('"')).lower()


#: Vensim functions that PySD's translator lacks, written as Vensim macros from Vensim's documented
#: definitions; used where a model calls them (and defines no macro of that name).
BUILTINS = """
:MACRO: NPV(stream, discount rate, initial value, factor)
NPV = (accumulated + stream * TIME STEP$ * discount factor) * factor
	~	~	Vensim's NPV: the discounted stream accumulated, plus this step's share, times factor
	|
discount factor = INTEG(-discount factor * discount rate / (1 + discount rate * TIME STEP$), 1)
	~	~	1 / (1 + rate)^(t / TIME STEP) by Euler steps
	|
accumulated = INTEG(stream * discount factor, initial value)
	~	~	|
:END OF MACRO:
:MACRO: X IF MISSING(value, replacement)
X IF MISSING = IF THEN ELSE(value = :NA:, replacement, value)
	~	~	Vensim's X IF MISSING: the value, or the replacement where the value is missing (:NA:)
	|
:END OF MACRO:
"""


def expand_macros(text: str) -> str:
    """Return ``text`` with every macro call expanded and the macro definitions removed."""
    macros = {canonical(m.name): m for m in _definitions(text)}
    for builtin in _definitions(BUILTINS):
        if canonical(builtin.name) not in macros and _calls(text, {canonical(builtin.name): builtin}):
            macros[canonical(builtin.name)] = builtin
    if not macros:
        return text
    # the definitions go, keeping their line count so that line numbers stay right
    text = _BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    ranges = _subscript_ranges(text)
    counter = dict.fromkeys(macros, 0)
    entries = _split_entries(text)
    out: list[str] = []
    pending = list(entries)
    depth_of = {id(e): 0 for e in pending}
    while pending:
        entry = pending.pop(0)
        depth = depth_of.get(id(entry), 0)
        equation, rest = _split_equation(entry)
        if not _calls(equation, macros):
            out.append(entry)
            continue
        if depth >= MAX_DEPTH:
            raise UnsupportedFunctionError(
                f"macros call each other more than {MAX_DEPTH} levels deep near '{equation.strip()[:60]}'; "
                "a macro may not call itself"
            )
        lhs = equation.split("=", 1)[0] if "=" in equation else ""
        subscripts = _lhs_ranges(lhs, ranges)
        new_equation, extra = _expand_calls(equation, macros, counter, subscripts)
        replaced = new_equation + rest
        out_entries = [replaced] + extra
        for item in out_entries:
            depth_of[id(item)] = depth + 1
        pending = out_entries + pending
    return "".join(out)


def _definitions(text: str) -> list[Macro]:
    found = []
    for block in _BLOCK.finditer(text):
        body = block.group("body")
        header, _, equations = body.partition("\n")
        match = re.match(r"\s*(?P<name>[^(]+?)\s*\((?P<args>.*)\)\s*$", header, re.S)
        if not match:
            raise UnsupportedFunctionError(f"cannot read the macro header ':MACRO: {header.strip()[:80]}'")
        inputs, _, outputs = match.group("args").partition(":")
        found.append(Macro(
            match.group("name").strip(),
            [a.strip() for a in inputs.split(",") if a.strip()],
            [a.strip() for a in outputs.split(",") if a.strip()],
            [e for e in _split_entries(equations) if e.strip().strip("|").strip()],
        ))
    return found


def _split_entries(text: str) -> list[str]:
    """Entries ending with ``|`` (outside quotes); the last piece keeps whatever follows."""
    out, start, quote = [], 0, False
    for i, char in enumerate(text):
        if char == '"':
            quote = not quote
        elif char == "|" and not quote:
            out.append(text[start:i + 1])
            start = i + 1
    if start < len(text):
        out.append(text[start:])
    return out


def _split_equation(entry: str) -> tuple[str, str]:
    """(equation part, the rest from the first ``~``) of an entry."""
    quote = False
    for i, char in enumerate(entry):
        if char == '"':
            quote = not quote
        elif char == "~" and not quote:
            return entry[:i], entry[i:]
    return entry, ""


def _lhs_name(entry: str) -> str:
    equation, _ = _split_equation(entry)
    lhs = re.split(r"=|\(|\[|:", equation.strip(), maxsplit=1)[0]
    return lhs.strip()


def _subscript_ranges(text: str) -> set[str]:
    names = set()
    for entry in _split_entries(text):
        equation, _ = _split_equation(entry)
        match = re.match(r"\s*([^:=\[\]~(|]+?)\s*(?::(?![=:])|<->)", equation)
        if match and "*" not in match.group(1):
            names.add(canonical(match.group(1)))
    return names


def _lhs_ranges(lhs: str, ranges: set[str]) -> list[str]:
    match = re.search(r"\[(.*?)\]", lhs)
    if not match:
        return []
    subs = [s.strip() for s in match.group(1).split(",")]
    return [s for s in subs if canonical(s.rstrip("!")) in ranges]


def _calls(equation: str, macros: dict) -> bool:
    return any(canonical(m.group(0)) in macros and _followed_by_paren(equation, m.end())
               for m in _TOKEN.finditer(equation))


def _followed_by_paren(text: str, end: int) -> bool:
    return bool(re.match(r"\s*\(", text[end:]))


def _closing(text: str, start: int) -> int:
    """Index of the ``)`` matching the ``(`` at ``start``."""
    depth, quote = 0, False
    for i in range(start, len(text)):
        char = text[i]
        if char == '"':
            quote = not quote
        elif quote:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
    raise UnsupportedFunctionError(f"unbalanced parentheses in '{text.strip()[:80]}'")


def _split_arguments(text: str) -> tuple[list[str], list[str]]:
    """Top-level comma-separated arguments, split at a top-level ``:`` (not ``:AND:``-like keywords)."""
    groups: list[list[str]] = [[]]
    depth, quote, start = 0, False, 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            quote = not quote
        elif quote:
            pass
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and char == ",":
            groups[-1].append(text[start:i])
            start = i + 1
        elif depth == 0 and char == ":" and not re.match(r":[A-Za-z ]+:", text[i:]):
            groups[-1].append(text[start:i])
            groups.append([])
            start = i + 1
        elif char == ":" and re.match(r":[A-Za-z ]+:", text[i:]):
            i = text.index(":", i + 1)
        i += 1
    groups[-1].append(text[start:])
    inputs = [a.strip() for a in groups[0] if a.strip()]
    outputs = [a.strip() for a in (groups[1] if len(groups) > 1 else []) if a.strip()]
    return inputs, outputs


def _expand_calls(equation: str, macros: dict, counter: dict, subscripts: list[str]) -> tuple[str, list[str]]:
    """Replace the first macro call of ``equation``; return it and the new entries of that call's copy."""
    for match in _TOKEN.finditer(equation):
        macro = macros.get(canonical(match.group(0)))
        if macro is None or not _followed_by_paren(equation, match.end()):
            continue
        open_at = equation.index("(", match.end())
        close_at = _closing(equation, open_at)
        inputs, outputs = _split_arguments(equation[open_at + 1:close_at])
        if len(inputs) != len(macro.inputs) or len(outputs) > len(macro.outputs):
            raise UnsupportedFunctionError(
                f"macro {macro.name} takes {len(macro.inputs)} inputs and {len(macro.outputs)} outputs; "
                f"'{equation[match.start():close_at + 1].strip()[:80]}' gives {len(inputs)} and {len(outputs)}"
            )
        key = canonical(macro.name)
        counter[key] += 1
        prefix = f"{macro.name} {counter[key]}"
        names = {canonical(local): (prefix if canonical(local) == key else f"{prefix} {local}")
                 for local in macro.locals}
        suffix = f"[{','.join(subscripts)}]" if subscripts else ""
        substitutions = {canonical(name): f"({arg})" for name, arg in zip(macro.inputs, inputs)}
        substitutions.update({k: v + suffix for k, v in names.items()})
        entries = [_instantiate(entry, substitutions, names, suffix) for entry in macro.entries]
        for caller, inner in zip(outputs, macro.outputs):
            target = names.get(canonical(inner))
            if target is None:
                raise UnsupportedFunctionError(f"macro {macro.name} names output '{inner}' but does not define it")
            entries.append(f"\n{caller}{suffix} = {target}{suffix}\n\t~\t\n\t~\tan output of {macro.name}\n\t|")
        replaced = equation[:match.start()] + f"{prefix}{suffix}" + equation[close_at + 1:]
        return replaced, ["\n" + e.lstrip("\n") for e in entries]
    return equation, []


def _instantiate(entry: str, substitutions: dict, names: dict, suffix: str) -> str:
    equation, rest = _split_equation(entry)
    lhs, operator, rhs = _partition_lhs(equation)
    keyword = ""
    found = re.match(r"(?P<name>.*?)(?P<keyword>\s*:[A-Za-z ]+:\s*)$", lhs, re.S)  # `y :RAW: := ...`
    if found:
        lhs, keyword = found.group("name"), found.group("keyword")
    name = canonical(re.split(r"\[|\(", lhs, maxsplit=1)[0])
    if "[" in lhs:
        raise UnsupportedFunctionError(
            f"macro variable '{lhs.strip()}' is subscripted; gscsd expands macros whose variables are not "
            "subscripted (subscript the call instead)"
        )
    new_lhs = names.get(name, lhs.strip()) + suffix + keyword
    return f"{new_lhs} {operator}{_substitute(rhs.replace('$', '').lstrip(), substitutions)}{rest}"


def _partition_lhs(equation: str) -> tuple[str, str, str]:
    match = re.match(r"(?P<lhs>[^=(]*?(?:\[[^\]]*\])?)\s*(?P<op>:=|==|=|\()", equation, re.S)
    if not match:
        raise UnsupportedFunctionError(f"cannot read the macro equation '{equation.strip()[:80]}'")
    op = match.group("op")
    rhs = equation[match.end():]
    if op == "(":  # a lookup table defined in the macro
        return match.group("lhs"), "", "(" + rhs
    return match.group("lhs"), op + " ", rhs


def _substitute(text: str, substitutions: dict) -> str:
    def replace(match: re.Match) -> str:
        token = match.group(0)
        key = canonical(token)
        if key in _KEYWORDS:
            return token
        return substitutions.get(key, token)

    return _TOKEN.sub(replace, text)
