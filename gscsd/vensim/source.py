"""A ``.mdl`` file's text, its settings section, and PySD's parser over it.

Vensim writes a model file in three parts: the equations, the sketch (after
``\\\\\\---///``), and a settings section (after ``///---\\\\\\`` and the marker
``:L<%^E!@``) with one ``code:values`` line per setting. Line ``15`` holds the
integration type as its fourth value.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Vensim's integration type codes (fourth value of settings line 15) and how
#: gscsd runs them. ``differs`` says how gscsd's method differs from Vensim's.
INTEGRATION_TYPES: dict[int, tuple[str, str, str | None]] = {
    0: ("Euler", "euler", None),
    1: ("RK4 Auto", "rk4", "Vensim's RK4 Auto shortens a step where its error estimate asks; gscsd integrates "
        "with fixed-step RK4 at TIME STEP (equal wherever Vensim keeps the step)"),
    2: ("Difference", "euler", "Vensim's Difference integration is run as Euler"),
    3: ("RK2 Auto", "rk4", "Vensim's RK2 is run as fixed-step RK4 (more accurate; results differ by RK2's error)"),
    4: ("RK2 Fixed", "rk4", "Vensim's RK2 is run as fixed-step RK4 (more accurate; results differ by RK2's error)"),
    5: ("RK4 Fixed", "rk4", None),
}

_SETTINGS_MARK = re.compile(r":L\x7f?<%\^E!@")


@dataclass(frozen=True)
class Settings:
    """What the settings section says (only what gscsd uses).

    Attributes
    ----------
    method : str
        The integration method gscsd uses for the model's own setting.
    vensim_method : str
        Vensim's name for it (``Euler``, ``RK4 Fixed``, ...).
    differences : tuple of str
        How gscsd's run differs from Vensim's for this setting.
    """

    method: str = "euler"
    vensim_method: str = "Euler"
    differences: tuple[str, ...] = field(default_factory=tuple)


def read_settings(text: str) -> Settings:
    """Read the settings section of a model's ``text`` (defaults when it has none)."""
    match = _SETTINGS_MARK.search(text)
    if not match:
        return Settings()
    for line in text[match.end():].splitlines():
        code, _, values = line.strip().partition(":")
        if code != "15":
            continue
        parts = values.split(",")
        try:
            number = int(parts[3])
        except (IndexError, ValueError):
            return Settings()
        name, method, differs = INTEGRATION_TYPES.get(
            number, (f"integration type {number}", "euler", f"unknown Vensim integration type {number} is run as Euler")
        )
        return Settings(method, name, (differs,) if differs else ())
    return Settings()


def decode(data: bytes) -> str:
    """The text of a ``.mdl`` file as PySD reads it.

    Vensim writes ``{UTF-8}`` on the first line of Unicode models; older
    files carry no marker and are read as UTF-8 (PySD's default), with
    undecodable bytes dropped as PySD drops them.
    """
    first = data.split(b"\n", 1)[0]
    match = re.search(rb"\{([^}]*)\}", first)
    encoding = "utf-8"
    if match:
        try:
            "".encode(match.group(1).decode("ascii"))
            encoding = match.group(1).decode("ascii")
        except (LookupError, UnicodeDecodeError):
            encoding = "utf-8"
    text = data.decode(encoding, errors="ignore")
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as Python's text mode reads it


def open_vensim(text: str, origin: Path) -> Any:
    """PySD's ``VensimFile`` over ``text``, as if read from ``origin``.

    Nothing is written: PySD sees the prepared text (see
    :mod:`gscsd.vensim.preprocess`), its abstract model holds ``:NA:`` as
    Vensim's number (:mod:`gscsd.vensim.na`), and it resolves data files and macro
    modules relative to the folder of ``origin``.
    """
    from pysd.translators.vensim.vensim_file import VensimFile

    from .preprocess import prepare

    prepared = prepare(text)

    class _Prepared(VensimFile):
        def _read(self, encoding):  # the text is already decoded
            return prepared

        def get_abstract_model(self):  # :NA: as Vensim's number, for both engines (gscsd.vensim.na)
            from .na import fix

            return fix(super().get_abstract_model())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _Prepared(Path(origin))
