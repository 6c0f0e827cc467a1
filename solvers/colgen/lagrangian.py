r"""Unit prices that make the Lagrangian bound small, by a subgradient method.

:math:`L(\pi) = \sum_j \pi_j + \sum_r \max(0, U_r(\pi))` (see :mod:`solvers.colgen.driver`)
is convex in the prices. With the relaxed root bounds of
:func:`~solvers.colgen.root_bounds.relaxed_root_bounds`, a subgradient is
:math:`1 - (\text{number of positive roots whose relaxed choice takes } j)`: a unit
wanted by several roots is under-priced, one wanted by none over-priced. The method
starts from :math:`\pi_j = \max(0, v_j)`, where every root's bound is at most the
bundle value and :math:`L` is the plain "sum of positive unit values" bound, and takes
Polyak steps toward the best known plan's value, halving the step size after a run of
steps without progress. Every :math:`L(\pi)` it evaluates is a valid bound.

When the unit or area limit binds, a better start is
:func:`~solvers.colgen.capacity.capacity_prices`: the limits alone price out every
bundle (the "best ``k`` units per bundle" bound), which the subgradient steps, with
their relaxed root bounds, did not reach on the dense 3,000-cell groups (dense seed 2:
144.53 M after 30 s of steps, 144.26 M from the limits alone).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from solvers.colgen.capacity import capacity_prices
from solvers.colgen.root_bounds import RootSets, relaxed_root_bounds
from solvers.problem import BundlingProblem

# halve the step after this many steps without a better bound
PATIENCE = 8
# stop when the step factor falls below this
MIN_THETA = 1e-4


@dataclass(frozen=True)
class PriceSearch:
    """The best prices found and their bound.

    Attributes
    ----------
    prices : ndarray of shape (n,)
    bound : float
        :math:`L` at ``prices`` (with relaxed root bounds, or the sum of the capacity
        prices): a valid upper bound.
    steps : int
    """

    prices: np.ndarray
    bound: float
    steps: int


def lagrangian_value(prices: np.ndarray, root_bounds: np.ndarray) -> float:
    """:math:`L(\\pi)`: the prices plus every positive root bound (a valid upper bound).

    Parameters
    ----------
    prices : ndarray of shape (n,)
    root_bounds : ndarray of shape (R,)
        Valid bounds :math:`U_r(\\pi)` at these prices.

    Returns
    -------
    float
    """
    return float(np.sum(prices) + np.maximum(root_bounds, 0.0).sum())


def search_prices(
    problem: BundlingProblem,
    sets: RootSets,
    target: float,
    deadline: float,
    start: np.ndarray | None = None,
    max_steps: int = 400,
) -> PriceSearch:
    """Subgradient descent on :math:`L` with relaxed root bounds (module docstring).

    Parameters
    ----------
    problem : BundlingProblem
    sets : RootSets
    target : float
        The best known plan's value (the Polyak step aims at it).
    deadline : float
        ``time.perf_counter()`` value at which to stop.
    start : ndarray, optional
        Starting prices; default :math:`\\max(0, v_j)`, or :func:`capacity_prices`
        when they exist (their exact bound is then also a candidate for the result).
    max_steps : int

    Returns
    -------
    PriceSearch
    """
    p = problem
    must = np.asarray(p.must_cover, bool)
    pi = np.maximum(np.asarray(p.value, float), 0.0) if start is None else start.copy()
    best_pi, best = pi, np.inf
    capacity = capacity_prices(p) if start is None else None
    if capacity is not None:
        # no bundle pays at these prices (capacity_prices), whatever the relaxed
        # bounds say: the bound is the sum of the prices
        pi = best_pi = capacity
        best = float(capacity.sum())
    theta, stall, steps = 1.0, 0, 0
    for steps in range(1, max_steps + 1):
        ub, choice = relaxed_root_bounds(p, sets, pi, with_choice=True)
        value = lagrangian_value(pi, ub)
        if value < best - 1e-9 * max(1.0, abs(value)):
            best, best_pi, stall = value, pi, 0
        elif steps > 1 or capacity is None:  # the capacity start's own step is no stall
            stall += 1
            if stall >= PATIENCE:
                theta, stall = theta / 2.0, 0
        if theta < MIN_THETA or time.perf_counter() > deadline:
            break
        positive = ub > 0
        used = np.zeros(p.n)
        np.add.at(used, sets.roots[positive], 1.0)
        np.add.at(used, sets.members[positive][choice[positive]], 1.0)
        grad = 1.0 - used
        # a packing row's price stays >= 0: no step below it
        grad = np.where(~must & (pi <= 0.0) & (grad > 0.0), 0.0, grad)
        norm = float(grad @ grad)
        if norm == 0.0:
            break
        gap = max(value - target, 1e-6 * max(1.0, abs(value)))
        pi = pi - theta * gap / norm * grad
        pi = np.where(must, pi, np.maximum(pi, 0.0))
    return PriceSearch(best_pi, best, steps)
