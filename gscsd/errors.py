"""The exceptions gscsd raises.

Every error a user can cause derives from :class:`GscsdError` and carries a
one-line message that names the thing at fault and how to fix it, plus the
exit code the command line uses for it:

* ``2`` -- bad input (:class:`InputError`): unknown lever, value out of range,
  malformed scenario file or URL, missing file.
* ``1`` -- the model or the simulation failed (:class:`ModelError`): a ``.mdl``
  that does not parse, an unsupported Vensim function, non-finite results.
"""

from __future__ import annotations


class GscsdError(Exception):
    """Base class of every error gscsd raises on purpose."""

    exit_code = 1


class InputError(GscsdError, ValueError):
    """The user asked for something the model or the tool cannot accept."""

    exit_code = 2


class UnknownNameError(InputError, KeyError):
    """A lever or variable name that the model does not define."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class OutOfRangeError(InputError):
    """A lever value outside the range declared in the ``.mdl``."""


class ScenarioFileError(InputError):
    """A scenario file or URL that cannot be read."""


class ModelError(GscsdError):
    """The model cannot be translated or simulated."""

    exit_code = 1


class TranslationError(ModelError):
    """A ``.mdl`` file that PySD cannot parse or translate."""


class UnsupportedFunctionError(TranslationError):
    """A Vensim function that the translator does not support."""


class SimulationError(ModelError):
    """A run that failed or produced non-finite values."""


class VensimDifferenceWarning(UserWarning):
    """A run that gscsd knowingly computes otherwise than Vensim would.

    Issued once per difference and run, and recorded in the results'
    ``attrs["differences"]`` (one per line); ``docs/engine.md`` lists every
    known difference. Examples: random functions (other random streams than
    Vensim's), Vensim's RK4 Auto run at a fixed step, PySD lowering a DELAY's
    order where Vensim keeps it.
    """
