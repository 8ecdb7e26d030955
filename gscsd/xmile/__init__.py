"""XMILE and Stella models (``.xmile``, ``.stmx``, ``.itmx``).

XMILE is the OASIS standard for system-dynamics models; Stella (isee
systems) saves it as ``.stmx`` (models) and ``.itmx`` (iThink), Vensim and
other tools export it as ``.xmile``. gscsd reads such a file the way it reads
a ``.mdl``: PySD's XMILE translator turns it into the same *abstract model*
PySD's Vensim translator produces, which both engines run, translated once
per content into the cache (never beside the source).

PySD's XMILE translator stops on parts of standard XMILE and some of what
Stella writes; the fixes live here, each small enough to go upstream:

* :mod:`.document`: reading the XML (UTF-8, well-formed, an ``<xmile>`` root),
  the simulation specs (``method``, ``isee:save_interval``), and the one-line
  refusal of what gscsd does not run (modules, macros, conveyors, queues,
  ovens);
* :mod:`.parser`: PySD's translator with the fixes (flow lists read as names,
  per-element graphical functions and initial values, dimensions given by
  ``size``, ``[*]`` wildcards, calls with any number of arguments) and a pass
  over the abstract model mapping XMILE built-ins (``LOOKUP``, ``MEAN``,
  ``SIZE``, ``PREVIOUS``, ``DT``, ``LOG10``, ``RANDOM``, ``NORMAL`` ...) onto
  structures both engines know;
* :mod:`.translation`: the cache entry (PySD's module and ``meta.json``) with
  the metadata: ranges from ``<range>`` and Stella's sliders and knobs, units,
  documentation, groups (sectors);
* :mod:`.views`: the ``<views>`` as a :class:`gscsd.sketch.Sketch`, drawn like
  a Vensim sketch.

See ``docs/engine.md`` ("XMILE and Stella models") for what is supported.
"""

from __future__ import annotations

from pathlib import Path

#: Bump whenever a change here changes translations: it keys the cache entries of XMILE models.
TRANSLATOR_VERSION = 4

#: File suffixes read as XMILE (Stella's ``.stmx``, iThink's ``.itmx``, the standard's ``.xmile``).
SUFFIXES = (".xmile", ".stmx", ".itmx")


def is_xmile(path: str | Path) -> bool:
    """True when ``path`` names an XMILE file (by its suffix)."""
    return Path(path).suffix.lower() in SUFFIXES


def translate_file(original: Path, data: bytes, scratch: Path, digest: str) -> dict:
    """Translate the XMILE bytes ``data`` (read from ``original``) into ``scratch``; return ``meta.json``'s content."""
    from .translation import translate_file as run

    return run(original, data, scratch, digest)


def abstract_model(text: str | bytes, origin: Path):
    """PySD's abstract model of an XMILE document (``text`` as read from ``origin``), with gscsd's fixes."""
    from .parser import abstract_model as run

    return run(text, origin)


__all__ = ["SUFFIXES", "TRANSLATOR_VERSION", "abstract_model", "is_xmile", "translate_file"]
