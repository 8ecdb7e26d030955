"""Knockouts: cut a causal link or freeze one element, in a rewritten copy of the model.

Two kinds of change, both switched on and off by a constant so that many
knockouts run as one batch on any engine:

**cut** ``(cause, effect)``
    ``cause``'s use in the equation of ``effect`` is replaced by a fixed
    input, so the loops through that link no longer feed back while
    everything else stays live: with ``hold="initial"`` (the usual loop
    knockout) ``cause``'s value at the initial time; with ``hold="base"``
    ``cause``'s trajectory in a base run (every TIME STEP, as a lookup of
    ``Time``, per element), so that another scenario run through the cut link
    shows what the loop adds to a policy's effect. With the switch off the
    equation is the original one.
**freeze** ``(variable, element)``
    one element of a variable is held at its value at the initial time (for a
    stock: its net inflow set to zero), the other elements stay live;
    ``element=None`` freezes every element (or a scalar variable).

:func:`knockout_model` writes the rewritten ``.mdl`` into the cache
(``$GSCSD_CACHE_DIR/knockouts/``, keyed by the model's content, the changes
and the base scenario) and loads it like any model: the fast engine and PySD
both run it, and the original file is never touched. Each change gets a
switch, a scalar constant ``gscsd ko N`` (0 off, 1 on)::

    ko = knockout_model(model, cuts=[("Talent", "Hiring")], freezes=[("R&D Spending", "Software")])
    batch = gscsd.run_batch(ko.model, [Scenario()] * 3, constants=[{}, ko.on(cut=("Talent", "Hiring")),
                                                                   ko.on(freeze=("R&D Spending", "Software"))])

:func:`cut_effect` and :func:`freeze_effect` do that and return the change of
chosen outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError
from .names import canonical

if TYPE_CHECKING:
    import pandas as pd

    from .model import Model
    from .scenario import Scenario

_SKETCH = "\\\\\\---///"
#: Most changes in one knockout model.
MAX_CHANGES = 2000


@dataclass(frozen=True)
class KnockoutModel:
    """A rewritten copy of a model with one switch per change.

    Attributes
    ----------
    model : Model
        The copy (run it like any model).
    cuts : dict of (cause, effect) to str
        The switch constant of each cut link.
    freezes : dict of (variable, element) to str
        The switch constant of each frozen element.
    """

    model: Model
    cuts: dict[tuple[str, str], str] = field(default_factory=dict)
    freezes: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def on(self, cut: tuple[str, str] | None = None, freeze: tuple[str, str | None] | None = None,
           cuts: Sequence[tuple[str, str]] = (), freezes: Sequence[tuple[str, str | None]] = ()) -> dict[str, float]:
        """Constants switching on the given changes (for ``run_batch(constants=...)``)."""
        values: dict[str, float] = {}
        for link in ([cut] if cut else []) + list(cuts):
            values[self.cuts[self._link(link)]] = 1.0
        for item in ([freeze] if freeze else []) + list(freezes):
            values[self.freezes[self._frozen(item)]] = 1.0
        return values

    def _link(self, link: tuple[str, str]) -> tuple[str, str]:
        key = (canonical(link[0]), canonical(link[1]))
        for known in self.cuts:
            if (canonical(known[0]), canonical(known[1])) == key:
                return known
        raise InputError(f"link {link[0]} -> {link[1]} was not cut in this knockout model")

    def _frozen(self, item: tuple[str, str | None]) -> tuple[str, str | None]:
        key = (canonical(item[0]), canonical(item[1]) if item[1] else None)
        for known in self.freezes:
            if (canonical(known[0]), canonical(known[1]) if known[1] else None) == key:
                return known
        raise InputError(f"{item[0]}[{item[1]}] was not frozen in this knockout model")


# -- the .mdl text ---------------------------------------------------------------------------


@dataclass
class _Chunk:
    """One ``lhs = rhs ~ units ~ doc |`` definition of the equations part."""

    start: int
    end: int  # index of the closing '|'
    text: str

    @property
    def lhs(self) -> str:
        return _split_definition(self.text)[0]

    @property
    def name(self) -> str:
        return canonical(re.split(r"[\[(=:]", self.lhs, maxsplit=1)[0].strip())


def _chunks(text: str) -> tuple[list[_Chunk], int]:
    """The definitions of the equations part, and where that part ends."""
    end = text.find(_SKETCH)
    end = len(text) if end < 0 else end
    chunks, start, depth = [], 0, 0
    for i in range(end):
        char = text[i]
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif char == "|" and depth == 0:
            chunks.append(_Chunk(start, i, text[start:i]))
            start = i + 1
    return chunks, end


def _split_definition(chunk: str) -> tuple[str, str, str]:
    """``(lhs, rhs, rest)``: the left side, the right side and ``~ units ~ doc``."""
    body, tilde, rest = chunk.partition("~")
    match = re.search(r"(?<![<>:=])=(?!=)", body)
    if not match:
        return body.strip(), "", tilde + rest
    return body[: match.start()].strip(), body[match.end():], tilde + rest


def _name_pattern(names: Sequence[str]) -> re.Pattern:
    """One regex matching any model variable name in equation text (longest first, Vensim spacing)."""
    parts = []
    for name in sorted(set(names), key=len, reverse=True):
        words = [re.escape(w) for w in re.split(r"[\s_]+", name.strip().strip('"')) if w]
        if words:
            parts.append(r'"?' + r"[\s_]+".join(words) + r'"?')
    return re.compile(r"(?<![\w\"])(?:" + "|".join(parts) + r")(?![\w\"])", re.IGNORECASE)


def _replace_references(rhs: str, pattern: re.Pattern, target: str, replacement: str,
                        also_range: bool = False) -> tuple[str, int]:
    """Replace the references to ``target`` (canonical) in ``rhs``; return the text and the count.

    ``also_range``: the name is a subscript range too (``Capability[Capability]``), so only
    ``name[...]`` is the variable; a bare ``name`` (``ELMCOUNT(Capability)``) is the range.
    """
    count = 0

    def swap(match: re.Match) -> str:
        nonlocal count
        before = rhs[: match.start()]
        inside = before.count("[") > before.count("]")  # a subscript (a range may share a variable's name)
        if also_range and not rhs[match.end():].lstrip().startswith("["):
            return match.group(0)
        if canonical(match.group(0)) == target and not inside:
            count += 1
            return replacement
        return match.group(0)

    return pattern.sub(swap, rhs), count


def _table(name: str, times: np.ndarray, values: np.ndarray) -> str:
    points = ",".join(f"({t!r},{v!r})" for t, v in zip(times.tolist(), values.tolist()))
    return f"{name}(\n\t[({times[0]!r},{np.min(values)!r})-({times[-1]!r},{np.max(values)!r})],{points})"


def _fine_text(text: str) -> str:
    """The model with SAVEPER = TIME STEP (its base run saves every step)."""
    chunks, _ = _chunks(text)
    for chunk in chunks:
        if chunk.name == "saveper":
            lhs, _rhs, rest = _split_definition(chunk.text)
            new = f"\n{lhs.strip()} = TIME STEP\n\t{rest.lstrip()}"
            return text[: chunk.start] + new + text[chunk.end:]
    return text + "\nSAVEPER = TIME STEP ~ ~ |\n"


# -- building ---------------------------------------------------------------------------------


def _cache_dir() -> Path:
    from .translate import cache_root

    return cache_root() / "knockouts"


def _write(text: str, model: Model, key: str) -> Model:
    from .model import load_model
    from .xmile import is_xmile

    if is_xmile(model.path):
        raise InputError(f"{model.path.name}: knockouts and loop dominance rewrite a model's Vensim equations, so "
                         "they work on .mdl models only (the loop list works on XMILE models too)")

    folder = _cache_dir() / key
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / model.path.name
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        scratch = folder / f".{uuid.uuid4().hex[:8]}.tmp"
        scratch.write_text(text, encoding="utf-8")
        os.replace(scratch, path)
    return load_model(path, model.data_files)


def base_run(model: Model, scenario: Scenario | None = None) -> pd.DataFrame:
    """The scenario's run with every TIME STEP saved (what cuts replay)."""
    from .runner import run
    from .scenario import Scenario

    text = model.path.read_text(encoding="utf-8", errors="replace")
    key = hashlib.sha256(("fine" + model.hash).encode()).hexdigest()[:24]
    fine = _write(_fine_text(text), model, key)
    return run(fine, scenario or Scenario("base"))


def knockout_model(
    model: Model,
    cuts: Sequence[tuple[str, str]] = (),
    freezes: Sequence[tuple[str, str | None]] = (),
    scenario: Scenario | None = None,
    hold: str = "initial",
) -> KnockoutModel:
    """A copy of ``model`` where each cut link and each frozen element has a switch (see the module docstring).

    ``scenario`` is the base run (initial values, replayed trajectories);
    ``hold`` is ``"initial"`` or ``"base"`` for cut links.

    Raises
    ------
    InputError
        A name the model lacks, a link that is not in the effect's equation,
        a freeze of a variable defined by several equations or over more than
        one subscript, too many changes.
    """
    from .scenario import Scenario

    if len(cuts) + len(freezes) > MAX_CHANGES:
        raise InputError(f"{len(cuts) + len(freezes)} knockout changes; at most {MAX_CHANGES} in one model")
    if hold not in ("initial", "base"):
        raise InputError(f"hold must be 'initial' or 'base', got {hold!r}")
    scenario = scenario or Scenario("base")
    text = model.path.read_text(encoding="utf-8", errors="replace")
    payload = json.dumps([model.hash, [list(c) for c in cuts], [list(f) for f in freezes],
                          scenario.key(model), hold], default=str)
    key = hashlib.sha256(payload.encode()).hexdigest()[:24]
    base = base_run(model, scenario) if cuts or freezes else None
    chunks, end = _chunks(text)
    by_name: dict[str, list[_Chunk]] = {}
    for chunk in chunks:
        lhs, rhs, _rest = _split_definition(chunk.text)
        if rhs and not lhs.rstrip().endswith(":"):  # equations, not subscript ranges, lookups or data
            by_name.setdefault(chunk.name, []).append(chunk)
    pattern = _name_pattern(list(model.variables))
    edits: dict[int, str] = {}  # chunk start -> new chunk text
    extra: list[str] = []
    switches_cut: dict[tuple[str, str], str] = {}
    switches_freeze: dict[tuple[str, str | None], str] = {}
    counter = 0

    def chunk_text(chunk: _Chunk) -> str:
        return edits.get(chunk.start, chunk.text)

    for cause, effect in cuts:
        x, y = model.variable(cause), model.variable(effect)
        counter += 1
        switch = f"gscsd ko {counter}"
        replay = f"gscsd ko {counter} base"
        found = 0
        for chunk in by_name.get(canonical(y.name), []):
            current = chunk_text(chunk)
            lhs, rhs, rest = _split_definition(current)
            also_range = canonical(x.name) in {canonical(r) for r in model.subscripts}
            new_rhs, count = _replace_references(rhs, pattern, canonical(x.name), f"__KO{counter}__", also_range)
            if count:
                new_rhs = _wrap_references(new_rhs, f"__KO{counter}__", switch, replay, x)
                edits[chunk.start] = f"{lhs} ={new_rhs}{rest}"
                found += count
        if not found:
            raise InputError(f"'{x.name}' does not appear in the equation of '{y.name}'; no link to cut")
        extra += _replay_definitions(model, x, replay, base.iloc[:1] if hold == "initial" else base)
        extra.append(f"{switch} = 0\n\t~\tDmnl\n\t~\tgscsd knockout switch: cut {x.name} -> {y.name}\n\t|")
        switches_cut[(x.name, y.name)] = switch

    for item in freezes:
        name, element = item[0], item[1] if len(item) > 1 else None
        variable = model.variable(name)
        definitions = by_name.get(canonical(variable.name), [])
        if len(definitions) != 1:
            raise InputError(f"'{variable.name}' is defined by {len(definitions)} equations; freeze needs one")
        counter += 1
        switch = f"gscsd ko {counter}"
        chunk = definitions[0]
        lhs, rhs, rest = _split_definition(chunk_text(chunk))
        if element is not None and len(variable.subscripts) != 1:
            raise InputError(f"freezing one element needs a variable with one subscript; '{variable.name}' has "
                             f"{len(variable.subscripts)}")
        elements = model.subscripts[variable.subscripts[0]] if variable.subscripts else ()
        if element is not None:
            known = {canonical(e): e for e in elements}
            if canonical(element) not in known:
                raise InputError(f"'{element}' is not an element of {variable.subscripts[0]} ({', '.join(elements)})")
            element = known[canonical(element)]
        dims = f"[{variable.subscripts[0]}]" if variable.subscripts else ""
        mask = f"gscsd ko {counter} mask"
        held = f"gscsd ko {counter} value"
        if variable.subscripts:
            flags = ", ".join("1" if element is None or e == element else "0" for e in elements)
            initial = ", ".join(repr(float(base[f"{variable.name}[{e}]"].iloc[0])) if base is not None else "0"
                                for e in elements)
            extra.append(f"{mask}{dims} = {flags}\n\t~\tDmnl\n\t~\tgscsd knockout: elements frozen\n\t|")
            extra.append(f"{held}{dims} = {initial}\n\t~\t{variable.units}\n\t~\tgscsd knockout: initial values\n\t|")
            condition = f"{switch} * {mask}{dims} = 1"
        else:
            extra.append(f"{held} = {float(base[variable.name].iloc[0])!r}\n\t~\t{variable.units}\n\t~\t"
                         "gscsd knockout: initial value\n\t|")
            condition = f"{switch} = 1"
        if variable.is_stock:
            flow, initial_expr = _integ_arguments(rhs, variable.name)
            new_rhs = f" INTEG(IF THEN ELSE({condition}, 0, {flow}), {initial_expr})\n\t"
        else:
            new_rhs = f" IF THEN ELSE({condition}, {held}{dims}, {rhs.strip()})\n\t"
        edits[chunk.start] = f"{lhs} ={new_rhs}{rest}"
        extra.append(f"{switch} = 0\n\t~\tDmnl\n\t~\tgscsd knockout switch: freeze {variable.name}"
                     f"{'[' + element + ']' if element else ''}\n\t|")
        switches_freeze[(variable.name, element)] = switch

    pieces, last = [], 0
    for chunk in chunks:
        if chunk.start in edits:
            pieces.append(text[last: chunk.start])
            pieces.append(edits[chunk.start])
            last = chunk.end
    pieces.append(text[last:end])
    added = "\n\n".join(extra)
    rewritten = "".join(pieces).rstrip() + ("\n\n" + added + "\n\n" if added else "\n") + text[end:]
    return KnockoutModel(_write(rewritten, model, key), switches_cut, switches_freeze)


def _wrap_references(rhs: str, marker: str, switch: str, replay: str, x) -> str:
    """Turn each ``marker[subs]`` back into ``IF THEN ELSE(switch = 1, replay[subs], x[subs])``."""
    name = f'"{x.name}"' if re.search(r"[^\w\s]", x.name) else x.name

    def swap(match: re.Match) -> str:
        subs = match.group(1) or ""
        return f"IF THEN ELSE({switch} = 1, {replay}{subs}, {name}{subs})"

    return re.sub(re.escape(marker) + r"(\s*\[[^\]]*\])?", swap, rhs)


def _replay_definitions(model: Model, x, replay: str, base: pd.DataFrame) -> list[str]:
    """Lookups of ``x``'s base trajectory (per element) and the variable that reads them at ``Time``."""
    times = base.index.to_numpy(float)
    table = f"{replay} table"
    if len(times) == 1:  # hold the initial value
        if not x.subscripts:
            value = float(base[x.name].iloc[0])
            return [f"{replay} = {value!r}\n\t~\t{x.units}\n\t~\tgscsd knockout: initial value\n\t|"]
        if len(x.subscripts) != 1:
            raise InputError(f"cutting a link from '{x.name}' (over {len(x.subscripts)} subscripts) is not "
                             "supported; cut links from variables with at most one subscript")
        dim = x.subscripts[0]
        values = ", ".join(repr(float(base[f"{x.name}[{e}]"].iloc[0])) for e in model.subscripts[dim])
        return [f"{replay}[{dim}] = {values}\n\t~\t{x.units}\n\t~\tgscsd knockout: initial values\n\t|"]
    if not x.subscripts:
        values = base[x.name].to_numpy(float)
        return [f"{_table(table, times, values)}\n\t~\t{x.units}\n\t~\tgscsd knockout: base run\n\t|",
                f"{replay} = {table}(Time)\n\t~\t{x.units}\n\t~\tgscsd knockout: base run\n\t|"]
    if len(x.subscripts) != 1:
        raise InputError(f"cutting a link from '{x.name}' (over {len(x.subscripts)} subscripts) is not supported; "
                         "cut links from variables with at most one subscript")
    out = []
    for element in model.subscripts[x.subscripts[0]]:
        values = base[f"{x.name}[{element}]"].to_numpy(float)
        out.append(f"{_table(f'{table}[{element}]', times, values)}\n\t~\t{x.units}\n\t~\t\n\t|")
    dim = x.subscripts[0]
    out.append(f"{replay}[{dim}] = {table}[{dim}](Time)\n\t~\t{x.units}\n\t~\tgscsd knockout: base run\n\t|")
    return out


def _integ_arguments(rhs: str, name: str) -> tuple[str, str]:
    match = re.search(r"INTEG\s*\(", rhs, re.IGNORECASE)
    if not match:
        raise InputError(f"'{name}' is a stock whose equation is not INTEG(flow, initial); cannot freeze it")
    depth, start, parts = 0, match.end(), []
    for i in range(match.end(), len(rhs)):
        char = rhs[i]
        if char in "([":
            depth += 1
        elif char in ")]":
            if depth == 0:
                parts.append(rhs[start:i])
                break
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(rhs[start:i])
            start = i + 1
    if len(parts) != 2:
        raise InputError(f"'{name}': cannot read the flow and initial value of its INTEG")
    return parts[0].strip(), parts[1].strip()


# -- effects ---------------------------------------------------------------------------------


def _effects(ko: KnockoutModel, switches: Mapping[str, dict[str, float]], outputs: Sequence[str],
             scenario: Scenario | None, time: float | None) -> pd.DataFrame:
    import pandas as pd

    from .runner import run_batch
    from .scenario import Scenario

    scenario = scenario or Scenario("base")
    labels = ["(none)", *switches]
    constants = [{}] + [switches[label] for label in labels[1:]]
    names = [ko.model.variable(o).name for o in outputs]
    batch = run_batch(ko.model, [replace(scenario, name=label) for label in labels], variables=names,
                      constants=constants)
    when = float(batch["time"].values[-1]) if time is None else float(time)
    rows = []
    for name in names:
        values = batch[name].values.reshape(len(labels), len(batch["time"]), -1).sum(axis=2)
        at = np.array([np.interp(when, batch["time"].values, row) for row in values])
        for label, value in zip(labels[1:], at[1:]):
            change = (value - at[0]) / abs(at[0]) * 100 if at[0] else np.nan
            rows.append({"knockout": label, "output": name, "time": when, "base": at[0], "value": value,
                         "change_pct": change})
    return pd.DataFrame(rows)


def cut_effect(model: Model, links: Sequence[tuple[str, str]], outputs: Sequence[str],
               scenario: Scenario | None = None, time: float | None = None, *, hold: str = "initial",
               base: Scenario | None = None) -> pd.DataFrame:
    """Change of ``outputs`` (at ``time``, default the final time) in ``scenario`` when each link is cut alone.

    ``hold="initial"`` holds the cause at its initial value in ``scenario``;
    ``hold="base"`` replays the cause's trajectory in ``base`` (default the
    baseline) while ``scenario`` runs: what the links add to the scenario's
    difference from the base.

    Returns
    -------
    DataFrame
        ``knockout`` (``"cause -> effect"``), ``output``, ``time``, ``base``, ``value``, ``change_pct``.
    """
    from .scenario import Scenario

    source = (base or Scenario("base")) if hold == "base" else scenario
    ko = knockout_model(model, cuts=links, scenario=source, hold=hold)
    switches = {f"{a} -> {b}": ko.on(cut=(a, b)) for a, b in ko.cuts}
    return _effects(ko, switches, outputs, scenario, time)


def freeze_effect(model: Model, items: Sequence[tuple[str, str | None]], outputs: Sequence[str],
                  scenario: Scenario | None = None, time: float | None = None) -> pd.DataFrame:
    """Change of ``outputs`` when each ``(variable, element)`` is frozen alone (see :func:`knockout_model`)."""
    ko = knockout_model(model, freezes=items, scenario=scenario)
    switches = {f"{v}[{e}]" if e else v: ko.on(freeze=(v, e)) for v, e in ko.freezes}
    return _effects(ko, switches, outputs, scenario, time)
