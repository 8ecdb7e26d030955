"""What a run may ask for: time settings, tolerances and the size of a run.

Every run goes through :func:`gscsd.runner.request_for`, which resolves its
settings here, before an engine is called, so that no value (from a ``.mdl``,
a scenario file, the command line, the dashboard or an analysis) can make an
engine loop forever or exhaust memory:

* INITIAL TIME, FINAL TIME, TIME STEP and SAVEPER are finite numbers, the
  run ends after it starts, the step is positive and no longer than the run;
* ``t + TIME STEP > t`` at every time of the run (floating point has a
  finite resolution: ``2060 + 1e-13 == 2060``);
* a run takes at most :data:`MAX_STEPS` time steps and keeps at most
  :data:`MAX_SAVED_VALUES` numbers (saved times x result columns);
* the tolerances of the error-controlled methods are finite and positive.

Inputs are bounded too: scenario files (:data:`MAX_SCENARIO_BYTES`, name,
notes and number of levers) and ``.mdl`` files (:data:`MAX_MODEL_BYTES`).

A bad value the user gave (a scenario, an argument) raises
:class:`~gscsd.errors.InputError` (exit code 2); a bad setting of the model
file itself raises :class:`~gscsd.errors.ModelError` (exit code 1, as for any
``.mdl`` that cannot run: the fix is in the model, not in the command).
Both limits can be raised for a machine with the environment variables
``GSCSD_MAX_STEPS`` and ``GSCSD_MAX_SAVED_VALUES``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InputError, ModelError, OutOfRangeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .model import Model
    from .scenario import Scenario

#: Most time steps of one run (``(FINAL TIME - INITIAL TIME) / TIME STEP``).
#: About 10 s for models/gsc.mdl on the fast engine; PySD is far slower.
MAX_STEPS = 1_000_000
#: Smallest TIME STEP (model time units): reported times are rounded to a hundred-thousandth of the step
#: (as PySD does), which beyond this has more decimals than a float carries (a step of 1e-308 gave NaN times).
MIN_TIME_STEP = 1e-12
#: Most numbers one run keeps: saved times x result columns (80 MB as float64).
MAX_SAVED_VALUES = 10_000_000
#: Relative tolerance of rk45/lsoda/radau: below this SciPy cannot deliver it, at 1 it means nothing.
RTOL_RANGE = (1e-12, 1.0)

#: Inputs: largest scenario file, longest scenario name and notes, most levers a scenario may set.
MAX_SCENARIO_BYTES = 1_000_000
MAX_NAME_CHARS = 200
MAX_NOTES_CHARS = 20_000
MAX_SCENARIO_LEVERS = 1_000
#: Largest .mdl file read (big Vensim models are a few MB).
MAX_MODEL_BYTES = 20_000_000

STEPS_ENV = "GSCSD_MAX_STEPS"
VALUES_ENV = "GSCSD_MAX_SAVED_VALUES"


@dataclass(frozen=True)
class Times:
    """Resolved time settings of a run (model time units)."""

    start: float
    final: float
    step: float
    saveper: float

    @property
    def steps(self) -> float:
        """Number of time steps (may be fractional; ``inf`` for an overflowing horizon)."""
        return (self.final - self.start) / self.step

    @property
    def saved(self) -> int:
        """Number of saved times (the start, then every SAVEPER)."""
        return int((self.final - self.start) / self.saveper + 1e-9) + 1


def limit(env: str, default: int) -> int:
    """A limit from the environment variable ``env``, else ``default``."""
    text = os.environ.get(env)
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{env}={text!r} must be a whole number (unset it to use {default:,})") from None
    if value < 1:
        raise InputError(f"{env}={text!r} must be at least 1 (unset it to use {default:,})")
    return value


class _Setting:
    """One time setting, where it came from, and how to name it in a message."""

    def __init__(self, model: Model, user: float | None, vensim: str, label: str, own: float | None) -> None:
        self.user = user is not None
        self.value = user if user is not None else own
        self.name = label if self.user else vensim
        self.file = model.path.name

    def fail(self, message: str, *others: _Setting) -> None:
        """Raise for ``message``: the user's error if they set this or any of ``others``."""
        if self.user or any(o.user for o in others):
            raise OutOfRangeError(message)
        raise ModelError(f"{self.file}: {message}; fix it in the model")


def resolve_times(model: Model, scenario: Scenario) -> Times:
    """The run's time settings: the scenario's, else the model's; validated.

    Raises
    ------
    OutOfRangeError
        For a bad time setting of the scenario (exit code 2).
    ModelError
        For a bad time setting of the model itself (exit code 1).
    """
    # Fast path (batches validate thousands of scenarios): the same conditions as below, in one go.
    own = model.time
    start = own.initial if scenario.start_time is None else scenario.start_time
    final = own.final if scenario.final_time is None else scenario.final_time
    step = own.step if scenario.time_step is None else scenario.time_step
    saveper = own.saveper
    if (type(start) is type(final) is type(step) is type(saveper) is float
            and -math.inf < start < final < math.inf and MIN_TIME_STEP <= step <= final - start and saveper > 0
            and saveper < math.inf and max(-start, final) + step > max(-start, final)
            and (final - start) / step <= limit(STEPS_ENV, MAX_STEPS)):
        return Times(start, final, step, max(saveper, step))
    return _checked_times(model, scenario)


def _checked_times(model: Model, scenario: Scenario) -> Times:
    """:func:`resolve_times`, one condition at a time, raising with the setting to blame."""
    own = model.time
    start = _Setting(model, scenario.start_time, "INITIAL TIME", "start time", own.initial)
    final = _Setting(model, scenario.final_time, "FINAL TIME", "final time", own.final)
    step = _Setting(model, scenario.time_step, "TIME STEP", "time step", own.step)
    saveper = _Setting(model, None, "SAVEPER", "save period", own.saveper)
    for setting in (start, final, step, saveper):
        value = setting.value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            got = "no finite value" if value is None else repr(value)
            setting.fail(f"{setting.name} needs a finite number, got {got}")
    if not final.value > start.value:
        final.fail(f"{final.name} {final.value:g} must be later than {start.name} {start.value:g}", start)
    horizon = final.value - start.value
    if not 0 < step.value <= horizon:
        step.fail(f"{step.name} {step.value:g} must be positive and no longer than the run ({horizon:g})",
                  start, final)
    if not saveper.value > 0:
        saveper.fail(f"{saveper.name} {saveper.value:g} must be positive")
    end = max(start, final, key=lambda s: abs(s.value))  # floating point is coarsest farthest from zero
    t = end.value
    if not t + step.value > t:
        step.fail(f"{step.name} {step.value:g} is too small for times near {t:g} ({t:g} + {step.value:g} "
                  f"rounds back to {t:g}); use at least {4 * math.ulp(t):.3g}", end)
    if step.value < MIN_TIME_STEP:
        step.fail(f"{step.name} {step.value:g} is below the smallest time step gscsd runs ({MIN_TIME_STEP:g}); "
                  "use a larger one")
    times = Times(start.value, final.value, step.value, max(saveper.value, step.value))
    most = limit(STEPS_ENV, MAX_STEPS)
    if not times.steps <= most:
        step.fail(f"{step.name} {step.value:g} makes {times.steps:,.0f} steps from {start.value:g} to "
                  f"{final.value:g}, more than the limit of {most:,} per run; use a time step of at least "
                  f"{horizon / most:.3g} or a shorter run (or raise {STEPS_ENV})", start, final)
    return times


def check_size(model: Model, times: Times, variables: Sequence[str] | None) -> None:
    """Raise InputError when a run would keep more than :data:`MAX_SAVED_VALUES` numbers."""
    counts = model.element_counts
    columns = sum(counts[v] for v in variables) if variables is not None else model.column_count
    values = times.saved * columns
    most = limit(VALUES_ENV, MAX_SAVED_VALUES)
    if values > most:
        raise InputError(
            f"{model.path.name}: the run would keep {values:,} values ({times.saved:,} saved times x {columns:,} "
            f"columns), more than the limit of {most:,}; save less often (SAVEPER), ask for fewer variables "
            f"or a shorter run (or raise {VALUES_ENV})"
        )


def check_tolerances(rtol: float, atol: float) -> None:
    """Raise InputError unless ``rtol`` and ``atol`` are usable tolerances of the SciPy methods."""
    low, high = RTOL_RANGE
    if type(rtol) is type(atol) is float and low <= rtol < high and 0 < atol < math.inf:
        return  # the usual case, without the checks below
    if not _number(rtol) or not low <= rtol < high:
        raise InputError(f"rtol {rtol!r} must be a number from {low:g} up to (not including) {high:g}; "
                         "it is the relative tolerance of rk45/lsoda/radau (default 1e-06)")
    if not _number(atol) or not atol > 0:
        raise InputError(f"atol {atol!r} must be a finite positive number; it is the absolute tolerance "
                         "of rk45/lsoda/radau (default 1e-09)")


def shorten(value: object, most: int = 60) -> str:
    """``repr(value)`` cut to ``most`` characters, for messages about user input (one short line)."""
    text = repr(value)
    return text if len(text) <= most else text[: most - 3] + "..."


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
