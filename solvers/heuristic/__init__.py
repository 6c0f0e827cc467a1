"""A fast heuristic for :class:`~solvers.problem.BundlingProblem`: feasible bundles, no proof.

Used as a backend of its own (``"heuristic"``), as the warm start of the MIP
backends, and for components too large for them. Every bundle it returns is
checked with :meth:`BundlingProblem.bundle_violations`; the answer is
``FEASIBLE`` (``OPTIMAL`` only when the objective meets the valid upper bound it
reports), or ``NO_SOLUTION`` when it cannot cover every ``must_cover`` unit.

Two algorithms, chosen by the problem's ``objective``:

* ``"max-p"``: *partition* (:mod:`solvers.heuristic.partition`), region growing
  with descent and tabu repair; every unit is covered, regions are counted.
* ``"npv"``, ``"credits"``: *selection* (:mod:`solvers.heuristic.selection`),
  greedy growth, local search, and exact enumeration for small problems.

:mod:`solvers.heuristic.common` holds what both share (adjacency lists, connected
pieces, the final check).

Every random choice draws from ``numpy.random.default_rng(params.seed)``. The
search stops on its own criteria (no improvement), so the same problem and seed
give the same bundles whenever the time limit is not what stopped it; when it
is, the answer depends on how far the search got (the message says so).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from solvers.base import SolveParams
from solvers.heuristic.common import NAME, neighbours, result
from solvers.heuristic.partition import shape_problems, solve_partition
from solvers.heuristic.selection import solve_selection
from solvers.problem import BundlingProblem, BundlingResult

__all__ = ["DESCRIPTION", "KIND", "NAME", "is_available", "solve_bundling"]

KIND = "heuristic"
DESCRIPTION = "greedy construction and local search, no optimality proof"
MAXP = "max-p"


def is_available() -> bool:
    """The heuristic needs nothing beyond numpy and scipy."""
    return True


def solve_bundling(
    problem: BundlingProblem,
    params: SolveParams,
    warm_start: Sequence[Sequence[int]] | None = None,
) -> BundlingResult:
    """Find good feasible bundles for a bundling problem.

    Parameters
    ----------
    problem : BundlingProblem
        ``objective`` picks the algorithm: ``"max-p"`` the partition, anything else
        (``"npv"``, ``"credits"``) the selection.
    params : SolveParams
        ``time_limit`` and ``seed`` are used; ``rel_gap``, ``threads`` and
        ``verbose`` are not.
    warm_start : sequence of bundles, optional
        Bundles to start from (npv and credits; max-p builds its own partition);
        infeasible or overlapping ones are ignored.

    Returns
    -------
    BundlingResult
        ``FEASIBLE`` with the bundles found (possibly none, objective 0, when no
        feasible bundle exists and nothing must be covered); ``OPTIMAL`` only when
        the objective equals the upper bound in ``bound`` (the max-p area bound, or
        the exact packing of a small problem); ``NO_SOLUTION`` when a
        ``must_cover`` unit could not be put in a bundle (named in ``message``).

    Raises
    ------
    ValueError
        For a ``"max-p"`` problem with a rule the partition would ignore (see
        :func:`solvers.heuristic.partition.shape_problems`).
    """
    partition = problem.objective == MAXP and problem.n > 0
    if partition:
        wrong = shape_problems(problem)
        if wrong:
            raise ValueError(f"not a max-p problem: {'; '.join(wrong)}")
    t0 = time.perf_counter()
    # leave time for the final check of every bundle, which grows with the problem
    reserve = min(0.5 * params.time_limit, 0.03 * params.time_limit + 5e-5 * problem.n)
    deadline = t0 + params.time_limit - reserve
    rng = np.random.default_rng(params.seed)
    nbrs = neighbours(problem.n, problem.edges)
    if partition:
        bundles, bound, message, iters = solve_partition(problem, nbrs, rng, t0, deadline)
    else:
        bundles, bound, message, iters = solve_selection(
            problem, nbrs, rng, t0, deadline, warm_start
        )
    return result(problem, bundles, bound, message, iters, t0)
