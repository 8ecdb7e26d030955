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
_PLURALS = {"person": "people", "people": "people", "yuan": "yuan", "renminbi": "renminbi", "yen": "yen"}
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
    """The planner's text of a variable from its name and ``.mdl`` comment (see the module docstring)."""
    rest = _TAGS.sub("", comment or "", count=1).strip()
    label = name
    found = _LABEL.match(rest)
    if found:
        label, rest = found.group("label").strip(), rest[found.end():]
    found = _HELP.match(rest)
    if found:
        return Text(label, found.group("help").strip(), rest[found.end():].strip())
    return Text(label, _first_sentence(rest), rest.strip())


def _first_sentence(comment: str) -> str:
    """The comment's first sentence without a leading citation ("Policy lever (§2 ...):")."""
    text = _CITATION.sub("", comment, count=1).strip()
    match = re.match(r"(.+?[.;])(\s|$)", text)
    sentence = (match.group(1) if match else text).strip().rstrip(";") + ("" if match else "")
    return sentence[0].upper() + sentence[1:] if sentence else ""


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
