"""Words for planners, read from the model's own documentation.

A modeller documents a variable in its ``.mdl`` comment for other modellers:
sources, section numbers, assumptions. A planner needs a plain name, one
line on what it does and units in words. This module reads those from the
comment, by a convention the modeller owns (see ``docs/modelling.md``), and
falls back to sensible text where the modeller wrote none:

* a comment may start with ``Label: Plain name.`` and ``Help: One line on
  what it means for a planner.`` (in that order, each ending with a full
  stop); the rest of the comment is the modeller's detail;
* a key output whose comment starts ``Headline`` (``Headline (higher is
  better): ...``) is the model's headline indicator, shown first and largest;
* a comment names a feedback loop the variable is part of as ``Loop R1
  (innovation value): how it closes.`` or ``Part of loops R1 (innovation
  value) and R2.``: ``R`` reinforcing, ``B`` balancing, a number, the loop's
  name in brackets (once is enough) and, after a colon, how it works
  (:func:`named_loops`);
* the ``.mdl``'s first group whose name is ``About`` carries the model's
  description in its header comment: what the model is, then paragraphs that
  start ``Good for:`` and ``Limits:``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Model

_LABEL = re.compile(r"^\s*label:\s*(?P<label>[^\n]+?)\.(?:\s+|$)", re.IGNORECASE)
_HELP = re.compile(r"^\s*help:\s*(?P<help>[^\n]+?\.)(?:\s+|$)", re.IGNORECASE)
_TAGS = re.compile(r"^\s*(key output|headline)(\s*\([^)]*\))?\s*:\s*", re.IGNORECASE)
_CITATION = re.compile(r"^\s*(policy lever|assumption|calibrated)?\s*(\([^)]*\))?\s*:?\s*", re.IGNORECASE)

#: Unit strings read as words (lower-case keys); anything else is read word by word.
_WORDS = {"dmnl": "", "1": "", "dimensionless": "", "%": "%", "percent": "%", "ug/m3": "µg/m³",
          "ugm3": "µg/m³", "µg/m3": "µg/m³"}
#: Words with their own plural, and the singular they read as in a denominator ("per person").
_PLURALS = {"person": "people", "people": "people", "yuan": "yuan", "renminbi": "renminbi", "yen": "yen",
            "fahrenheit": "fahrenheit", "celsius": "celsius", "kelvin": "kelvin"}
#: Number words after which a denominator stays plural ("per million people").
_COUNTS = {"hundred", "thousand", "million", "billion"}
_SINGULAR = {"people": "person", "persons": "person", "years": "year"}


@dataclass(frozen=True)
class Text:
    """What a planner reads about a variable.

    Attributes
    ----------
    label : str
        Plain name (the variable's name when the modeller gave none).
    help : str
        One line on what it means ("" when there is nothing short to say).
    detail : str
        The rest of the modeller's comment (sources, assumptions).
    """

    label: str
    help: str
    detail: str


def text_of(name: str, comment: str) -> Text:
    """The planner's text of a variable from its name and ``.mdl`` comment (see the module docstring).

    Its help is the ``Help:`` line, else the comment's first whole sentence (:func:`first_sentence`): the one
    rule for a lever's help line, a card's tooltip (:func:`meaning`), the reports' and the live report's.
    """
    rest = _TAGS.sub("", comment or "", count=1).strip()
    label = name
    found = _LABEL.match(rest)
    if found:
        label, rest = found.group("label").strip(), rest[found.end():]
    found = _HELP.match(rest)
    if found:
        return Text(label, found.group("help").strip(), rest[found.end():].strip())
    return Text(label, first_sentence(rest), rest.strip())


def first_sentence(comment: str) -> str:
    """The comment's first whole sentence, capitalised, without a leading citation ("Policy lever (§2 ...):").

    The sentence ends at the first full stop outside brackets and quotes that ends a word (not at a semicolon,
    an ellipsis or a decimal point), so that "Price on fossil CO2 (an emissions trading scheme or tax) from
    Policy Start Year; yuan per tonne." comes whole; a comment without one is whole.
    """
    rest = _CITATION.sub("", comment or "", count=1).strip()
    depth, quoted = 0, False
    for i, char in enumerate(rest):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char == '"':
            quoted = not quoted
        elif char == "." and not depth and not quoted and rest[i - 1:i] != "." and rest[i + 1:i + 2] in ("", " ", "\n"):
            rest = rest[:i + 1]
            break
    rest = " ".join(rest.split())
    return rest[:1].upper() + rest[1:]


def meaning(name: str, comment: str) -> str:
    """What a variable's number is, for a tooltip: its ``Help:`` line, else its comment's first whole sentence.

    The same text as :func:`text_of`'s help (one rule): what a number counts ("fossil CO2 emitted from the
    start of 2025 (Projection Start Year), billion tonnes: ...") comes whole. The ``Key output`` or
    ``Headline`` tag and a leading citation are left out.
    """
    return text_of(name, comment).help


def units_in_words(units: str) -> str:
    """``Million CNY/Year`` -> ``million CNY per year``; ``Dmnl`` -> ``""``; ``Person/Year`` -> ``people per year``.

    The numerator reads plural (``Knowledge Unit`` -> ``knowledge units``), denominators singular
    (``per person``); acronyms and units with capitals inside (``CNY``, ``TWh``, ``Mt``) stay as written.
    """
    units = (units or "").strip()
    if units.lower() in _WORDS:
        return _WORDS[units.lower()]
    parts = [part.strip() for part in units.split("/")]
    head = "" if parts[0] in ("1", "") else _words(parts[0], plural=True)
    tail = " per ".join(_words(part, plural=False) for part in parts[1:])
    return (f"{head} per {tail}" if head else f"per {tail}") if tail else head


def _words(unit: str, plural: bool) -> str:
    unit = unit.strip("() ")
    if "*" in unit:  # Person*Year -> person-years
        pieces = [_words(u, False) for u in unit.split("*")]
        last = pieces[-1] + ("s" if plural and not pieces[-1].endswith("s") else "")
        return "-".join([*pieces[:-1], last])
    words = [w if not (w[:1].isupper() and w[1:].islower() and w.isalpha() and len(w) > 2) else w.lower()
             for w in unit.split()]
    if not words:
        return ""
    last = words[-1]
    if plural:
        if last in _PLURALS:
            last = _PLURALS[last]
        elif last.isalpha() and last.islower() and not last.endswith("s"):
            last += "s"
    elif len(words) > 1 and words[-2].lower() in _COUNTS:
        last = _PLURALS.get(last, last)  # per million people, per thousand people
    else:
        last = _SINGULAR.get(last, last)
    return " ".join([*words[:-1], last])


def in_time_units(model: Model, variable: str) -> bool:
    """True when ``variable`` is measured in the model's time unit (a year such as a peak year, or a duration).

    Such a value reads as ``2024.6`` (no thousands separator, no rounding to
    three digits) and changes by years, not by percent.
    """
    units = (model.variable(variable).units or "").strip().lower()
    time = (model.time.units or "").strip().lower()
    return bool(units) and bool(time) and units.removesuffix("s") == time.removesuffix("s")


def headline(model: Model) -> str | None:
    """The model's headline indicator (a key output whose comment starts ``Headline``), else the first key output."""
    for variable in model.variables.values():
        if re.match(r"\s*headline\b", variable.comment or "", re.IGNORECASE):
            return variable.name
    return model.key_outputs[0] if model.key_outputs else None


def headline_first(model: Model) -> tuple[str, ...]:
    """The key outputs with the headline first, the others in the model's order: the order a planner reads them."""
    first = headline(model)
    return tuple(sorted(model.key_outputs, key=lambda name: name != first))


@dataclass(frozen=True)
class NamedLoop:
    """A feedback loop the modeller named in the comments (``Loop R1 (innovation value): ...``).

    Attributes
    ----------
    id : str
        ``R1``, ``B10``: ``R`` reinforcing, ``B`` balancing.
    name : str
        Its name ("" when no comment gives one).
    how : str
        How it closes, from the comment that defines it ("" when none says).
    variables : tuple of str
        The variables whose comments mention it, in the model's order.
    """

    id: str
    name: str
    how: str
    variables: tuple[str, ...]

    @property
    def kind(self) -> str:
        """``reinforcing`` or ``balancing``."""
        return "reinforcing" if self.id.startswith("R") else "balancing"


# "Loop R1 (name): how", "loops R1 (name) and R2", "loop B7": an id after "loop(s)", then more after "and" or ",".
_LOOPS = re.compile(r"\bloops?\s+(?P<list>[RB]\d+\b(?:\s*\([^)]*\))?(?:\s*(?:,|and)\s*(?:loops?\s+)?[RB]\d+\b"
                    r"(?:\s*\([^)]*\))?)*)(?P<colon>\s*:)?", re.IGNORECASE)
_ONE_LOOP = re.compile(r"(?P<id>[RB]\d+)\b(?:\s*\((?P<name>[^)]*)\))?")


def named_loops(model: Model) -> list[NamedLoop]:
    """The feedback loops the model's comments name, reinforcing first, then by number (R1, R2, ..., B1, ...).

    A loop's name and how it works come from the comment that defines it (``Loop R1 (name): how it
    closes.``), else from the first comment that names it.
    """
    found: dict[str, dict] = {}
    for variable in model.variables.values():
        comment = re.sub(r"\s+", " ", variable.comment or "")
        for match in _LOOPS.finditer(comment):
            ids = list(_ONE_LOOP.finditer(match.group("list")))
            for k, one in enumerate(ids):
                key = one.group("id").upper()
                entry = found.setdefault(key, {"name": "", "how": "", "variables": []})
                if variable.name not in entry["variables"]:
                    entry["variables"].append(variable.name)
                name = (one.group("name") or "").strip()
                defines = match.group("colon") is not None and k == len(ids) - 1
                if name and (not entry["name"] or defines and not entry["how"]):
                    entry["name"] = name
                if defines and not entry["how"]:
                    rest = comment[match.end():]
                    end = re.search(r"\.(\s|$)", rest)
                    entry["how"] = (rest[:end.start()] if end else rest).strip()
    loops = [NamedLoop(key, e["name"], e["how"], tuple(e["variables"])) for key, e in found.items()]
    return sorted(loops, key=lambda loop: (loop.id[0] != "R", int(loop.id[1:])))


@dataclass(frozen=True)
class About:
    """What a model is, what it is good for and its limits (from the ``.mdl``)."""

    title: str
    summary: str
    good_for: str
    limits: str


def about(model: Model, raw: str | None = None) -> About:
    """The model's description: its ``About`` group's header comment, else the comments of its groups.

    Parameters
    ----------
    model : Model
        The model (its file is read when ``raw`` is not given).
    raw : str, optional
        The ``.mdl`` text.
    """
    text = raw if raw is not None else model.path.read_text(encoding="utf-8", errors="replace")
    groups = dict(_group_comments(text))
    described = next((comment for name, comment in groups.items() if name.lower() == "about"), "")
    if described:
        summary, good, limits = _sections(described)
    else:
        summary = " ".join(f"{name}: {comment.rstrip('.')}." for name, comment in groups.items() if comment)
        good = limits = ""
    return About(model.name, summary.strip(), good.strip(), limits.strip())


def _sections(text: str) -> tuple[str, str, str]:
    # At the start or after a sentence: Vensim joins a comment's lines, so paragraphs run together.
    parts = re.split(r"(?i)(?:^|(?<=[.!?])\s+)(good for|limits)\s*:\s*", text)
    summary, good, limits = parts[0], "", ""
    for heading, body in zip(parts[1::2], parts[2::2]):
        if heading.lower() == "good for":
            good = body
        else:
            limits = body
    return summary, good, limits


_GROUP = re.compile(r"\*{3,}\s*\n\s*\.(?P<name>[^\n*]+?)\s*\n\s*\*{3,}\s*~(?P<comment>.*?)\|", re.S)


def _group_comments(raw: str) -> list[tuple[str, str]]:
    """``(group name, header comment)`` of every Vensim group, in file order; line continuations joined."""
    body = raw.split("\\\\\\---///", 1)[0]
    out = []
    for match in _GROUP.finditer(body):
        comment = re.sub(r"\\\s*\n\s*", " ", match.group("comment"))
        comment = re.sub(r"[ \t]+", " ", comment).strip()
        out.append((match.group("name").strip(), comment))
    return out
