"""The fast engine: PySD's parse of a Vensim model compiled to batch numpy code.

See ``docs/engine.md``. Entry points: :class:`FastEngine` (registered as
``"fast"`` in :func:`gscsd.engines.get_engine`), :func:`compile_model`,
:func:`unsupported_reasons`.
"""

from .engine import FastEngine, FastUnsupportedError, compile_model, unsupported_reasons

__all__ = ["FastEngine", "FastUnsupportedError", "compile_model", "unsupported_reasons"]
