"""The solver interface shared by every backend: parameters, termination and result.

Every backend returns the same normalized :class:`SolveResult`. A result is
``OPTIMAL`` only when the solver proved optimality within the requested gap;
an answer found when a limit stopped the search is ``FEASIBLE`` and carries its
best bound and gap, so a timed-out answer never looks optimal.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np


class Termination(enum.StrEnum):
    """Why a solve stopped."""

    OPTIMAL = "optimal"  # proven optimal (within rel_gap)
    FEASIBLE = "feasible"  # a solution, not proven optimal (limit reached or heuristic)
    INFEASIBLE = "infeasible"  # proven to have no solution
    NO_SOLUTION = "no_solution"  # a limit was reached before any solution was found
    ERROR = "error"  # the backend failed


@dataclass(frozen=True)
class SolveParams:
    """Parameters every backend understands.

    Parameters
    ----------
    time_limit : float
        Wall-clock limit in seconds for one solve.
    rel_gap : float
        Relative optimality gap at which the solver may stop and report optimal.
    threads : int
        Worker threads; 0 lets the backend decide.
    seed : int
        Random seed, so that runs are reproducible.
    verbose : bool
        Let the backend print its log.
    """

    time_limit: float = 60.0
    rel_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    verbose: bool = False

    def __post_init__(self):
        if not (self.time_limit > 0 and math.isfinite(self.time_limit)):
            raise ValueError(
                f"time_limit must be a positive number of seconds, got {self.time_limit}"
            )
        if not (0 <= self.rel_gap < 1):
            raise ValueError(f"rel_gap must be in [0, 1), got {self.rel_gap}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0, got {self.threads}")


@dataclass(frozen=True)
class SolveResult:
    """A normalized solver answer.

    Attributes
    ----------
    termination : Termination
    objective : float or None
        Objective value of the returned solution (in the model's sense).
    bound : float or None
        Best proven bound on the optimum (upper bound when maximizing).
    gap : float or None
        Relative gap ``|bound - objective| / |objective|`` (see :func:`relative_gap`);
        None without both, or when undefined (objective 0, bound not).
    runtime_s : float
    x : numpy.ndarray or None
        Variable values of the returned solution.
    solver : str
        Backend name.
    message : str
        Extra information (e.g. the backend's own status text).
    """

    termination: Termination
    objective: float | None
    bound: float | None
    gap: float | None
    runtime_s: float
    x: np.ndarray | None = field(default=None, repr=False)
    solver: str = ""
    message: str = ""

    @classmethod
    def failed(cls, solver: str, runtime_s: float, message: str) -> SolveResult:
        """An ``ERROR`` answer: no solution, no bound, and why."""
        return cls(Termination.ERROR, None, None, None, runtime_s, solver=solver, message=message)

    @property
    def has_solution(self) -> bool:
        """True when a primal solution is available."""
        return self.x is not None and self.termination in (
            Termination.OPTIMAL,
            Termination.FEASIBLE,
        )


# Below this |objective| a relative gap is undefined (unless the bound agrees).
ZERO_OBJECTIVE = 1e-9
# Objective and bound agree (gap 0) when they differ by at most this times
# max(1, |objective|, |bound|): float noise, not a gap.
SAME_VALUE_TOL = 1e-6


def _finite_pair(objective: float | None, bound: float | None) -> bool:
    return (
        objective is not None
        and bound is not None
        and math.isfinite(objective)
        and math.isfinite(bound)
    )


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative gap ``|bound - objective| / |objective|`` between a solution value and a bound.

    * ``0.0`` when the two agree up to float noise, i.e. ``|bound - objective| <=
      1e-6 * max(1, |objective|, |bound|)`` (so a proven zero objective with a
      zero bound has gap 0);
    * ``None`` when either is missing (``None``) or not finite;
    * ``None`` (undefined) when ``|objective| < 1e-9`` and the bound differs:
      no ratio to the objective is meaningful then, see :func:`absolute_gap`.

    ``None`` always means "optimality not proven within a relative gap"
    (:func:`solvers.mip.model.within_gap` is false for it).
    """
    if not _finite_pair(objective, bound):
        return None
    diff = abs(bound - objective)
    if diff <= SAME_VALUE_TOL * max(1.0, abs(objective), abs(bound)):
        return 0.0
    if abs(objective) < ZERO_OBJECTIVE:
        return None
    return diff / abs(objective)


def absolute_gap(objective: float | None, bound: float | None) -> float | None:
    """Absolute gap ``|bound - objective|``, ``None`` if either is missing or not finite."""
    if not _finite_pair(objective, bound):
        return None
    return abs(bound - objective)
