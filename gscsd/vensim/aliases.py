"""File aliases in GET XLS/DIRECT functions: ``GET DIRECT DATA('?data', ...)``.

Vensim lets a model name its data files indirectly: ``'?data'`` stands for a
file chosen outside the equations, which Vensim keeps in the settings section
of the ``.mdl`` (a line ``30:?data=data.xlsx``) and SDEverywhere takes from
its spec file (``"directData": {"?data": "data.xlsx"}``). PySD stops on them
("Indirect reference to file"). gscsd resolves them before either engine
parses the model:

* from the model's own settings (:func:`settings_aliases`, in
  :func:`gscsd.vensim.preprocess.prepare`), as Vensim does;
* from the caller (:func:`rewrite`): ``gscsd.load_model(path,
  external_files={"?data": "data.xlsx"})``, ``gscsd run --external-file
  ?data=data.xlsx``, which win over the settings;

and an alias left unresolved is one line naming the model, the variable and
how to supply the file (:func:`unresolved`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError

_SETTING = re.compile(r"^30:(\?[^=\r\n]+)=(.*?)\s*$", re.M)
_QUOTED = re.compile(r"'(\?[^'\r\n]+)'")


def settings_aliases(settings: str) -> dict[str, str]:
    """The aliases the settings section of a ``.mdl`` (the text after the sketch) defines: ``{"?data": file}``."""
    return {name.strip().lower(): file.strip() for name, file in _SETTING.findall(settings) if file.strip()}


def resolve(equations: str, aliases: Mapping[str, str]) -> str:
    """``equations`` with every quoted alias that ``aliases`` knows (any case) replaced by its file."""
    if not aliases:
        return equations
    known = {name.lower(): file for name, file in aliases.items()}

    def replace(match: re.Match) -> str:
        file = known.get(match.group(1).strip().lower())
        return match.group(0) if file is None else f"'{file}'"

    return _QUOTED.sub(replace, equations)


def rewrite(data: bytes, external_files: Mapping[str, str | Path], folder: Path) -> bytes:
    """The bytes of a model with the caller's aliases resolved (absolute paths: a file given relative to the
    working directory is used if it exists there, else relative to the model's ``folder``, as Vensim reads it).

    Raises
    ------
    InputError
        For an alias that does not start with ``?``, a file that does not exist, or a path with a quote in it.
    """
    resolved: dict[str, str] = {}
    for name, file in external_files.items():
        if not isinstance(name, str) or not name.startswith("?") or len(name) < 2:
            raise InputError(f"external file alias {name!r} must start with '?', as the model writes it ('?data')")
        path = Path(file).expanduser()
        if not path.is_absolute() and not path.is_file():
            path = folder / path
        if not path.is_file():
            raise InputError(f"external file for {name} not found: {file}; give the path to the data file "
                             "(relative to the working directory or to the model's folder)")
        if "'" in str(path.resolve()):
            raise InputError(f"external file for {name}: {path} has a quote (') in its path; move or rename it")
        resolved[name] = str(path.resolve())
    if not resolved:
        return data
    from .source import decode

    text = decode(data)
    head = "{UTF-8}\n" if not text.lstrip().startswith("{UTF-8}") else ""
    return (head + resolve(text, resolved)).encode("utf-8")


def unresolved(model: Any) -> list[tuple[str, str]]:
    """``(element, alias)`` for each GET XLS/DIRECT function of PySD's abstract ``model`` whose file is an
    alias nothing resolved."""
    found = []
    for element in model.sections[0].elements:
        for component in element.components:
            file = getattr(component.ast, "file", None)
            if isinstance(file, str) and file.startswith("?"):
                found.append((element.name, file))
    return found
