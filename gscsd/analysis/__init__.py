"""Policy analysis at scale: uncertainty, sensitivity, optimization and calibration.

Every family has SALib-like ``sample(problem, n, seed)`` / ``analyze(problem,
Y, ...)`` functions plus one call that samples, runs and analyzes. Runs go
through :func:`gscsd.run_batch` in chunks of scenarios, in this process, in
local processes or on a Dask cluster (:mod:`gscsd.analysis.executor`).
Analyses also accept a plain Python function of ``X (n, d)`` in place of a
model, which is how their known-answer tests run.
"""

from .executor import Cancelled, DaskExecutor, LocalExecutor, evaluate, get_executor
from .outputs import Constraint, Output, parse_constraint, parse_output
from .problem import Factor, Problem, problem_from_model

__all__ = [
    "Cancelled",
    "Constraint",
    "DaskExecutor",
    "Factor",
    "LocalExecutor",
    "Output",
    "Problem",
    "evaluate",
    "get_executor",
    "parse_constraint",
    "parse_output",
    "problem_from_model",
]
