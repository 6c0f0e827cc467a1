"""The one entry point ``bundler`` uses: solve a bundling problem with a named backend."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import cast

from solvers.backend import HeuristicBackend, MipBackend
from solvers.base import SolveParams, Termination, relative_gap
from solvers.colgen import solve_colgen
from solvers.mip.model import within_gap
from solvers.mip.rooted import solve_rooted
from solvers.problem import BundlingProblem, BundlingResult
from solvers.registry import get_backend

HEURISTIC = "heuristic"
MAXP = "max-p"
# share of the time the rooted MIP gets before column generation (small problems):
# on groups of up to ~110 units its branch-and-cut bound beat the set-packing LP's
# (benchmarks/README.md), so column generation only gets what is left
ROOTED_SHARE = 0.8
# above this many units column generation gets the whole time, no rooted MIP: on the
# generated-2000 groups of 188 and 298 units the rooted MIP's bound after 18-38 s
# (0.84-0.94 M, 1.63 M) was no better than column generation's price search after a few
# seconds (0.65 M, 1.62 M) and its plan no better than column generation's exact best
# bundles. With the rooted MIP at 20% of the time (12 s of 60) first, counties-159
# seed 3 ended at 1.64%, and at 0.88% with column generation alone (both with the
# smoothing weight of solvers.colgen.driver fixed at 0.95)
ROOTED_MAX_UNITS = 150
# above this many (root, candidate) pairs the compact model's LP alone outlasts a
# typical time limit (a 300-cell Voronoi group with a 30 km radius has 58,654 and
# solved no LP in 10 s), so such groups get column generation only
COMPACT_MAX_PAIRS = 50_000


def solve_bundling(
    problem: BundlingProblem,
    solver: str = "highs",
    params: SolveParams | None = None,
    warm_start: Sequence[Sequence[int]] | None = None,
    max_rounds: int = 50,
    compact_max_units: int | None = None,
) -> BundlingResult:
    """Solve one bundling problem.

    With a MIP backend, ``npv`` and ``credits`` problems of at most
    ``compact_max_units`` and :data:`ROOTED_MAX_UNITS` units (and at most
    :data:`COMPACT_MAX_PAIRS` root-candidate pairs) first get the compact rooted MIP
    (:func:`solvers.mip.rooted.solve_rooted`); when it leaves a gap, column
    generation with a Lagrangian bound (:func:`solvers.colgen.solve_colgen`) gets the
    rest of the time, warm-started with its plan, and the smaller of the two bounds is
    returned (each is valid). Larger problems get column generation alone. ``max-p``
    problems go to the rooted MIP alone.

    Parameters
    ----------
    problem : BundlingProblem
    solver : str
        A name from :data:`solvers.registry.BACKENDS`: ``"highs"``, ``"cbc"``,
        ``"cpsat"`` (exact MIP with separator cuts) or ``"heuristic"``.
    params : SolveParams, optional
        ``time_limit`` is a ceiling: the solve stops once ``rel_gap`` is proven.
    warm_start : sequence of bundles, optional
        Feasible bundles to start from (MIP backends).
    max_rounds : int
        Solve-check-resolve rounds for the rooted MIP.
    compact_max_units : int, optional
        Largest problem that also gets the rooted MIP, below :data:`ROOTED_MAX_UNITS`;
        default that limit alone.

    Returns
    -------
    BundlingResult
    """
    params = params or SolveParams()
    backend = get_backend(solver)
    if solver == HEURISTIC:
        heuristic = cast(HeuristicBackend, backend)
        return heuristic.solve_bundling(problem, params, warm_start=warm_start)
    mip = cast(MipBackend, backend)
    t0 = time.perf_counter()
    try:
        if problem.objective == MAXP:
            return solve_rooted(problem, mip, params, warm_start=warm_start, max_rounds=max_rounds)
        return _certified(problem, mip, params, warm_start, max_rounds, compact_max_units)
    except MemoryError:
        return BundlingResult(
            Termination.ERROR,
            None,
            None,
            None,
            time.perf_counter() - t0,
            solver=solver,
            message="out of memory building the model",
        )


def _compact_size(problem: BundlingProblem) -> int:
    """(root, candidate) pairs of the compact model before its reductions."""
    if problem.candidates is None:
        return problem.n * problem.n
    return int(sum(len(c) for c in problem.candidates))


def _certified(problem, backend, params, warm_start, max_rounds, compact_max_units):
    """The rooted MIP first (small problems), then column generation on the time left."""
    t0 = time.perf_counter()
    limit = min(ROOTED_MAX_UNITS, compact_max_units or ROOTED_MAX_UNITS)
    compact = problem.n <= limit and _compact_size(problem) <= COMPACT_MAX_PAIRS
    if not compact:
        return solve_colgen(problem, backend, params, warm_start)
    rooted = solve_rooted(
        problem,
        backend,
        replace(params, time_limit=ROOTED_SHARE * params.time_limit),
        warm_start=warm_start,
        max_rounds=max_rounds,
    )
    left = params.time_limit - (time.perf_counter() - t0)
    if rooted.termination in (Termination.OPTIMAL, Termination.INFEASIBLE) or left < 0.2:
        return rooted
    start = [list(b) for b in rooted.bundles] or warm_start
    cg = solve_colgen(problem, backend, replace(params, time_limit=left), start)
    if rooted.termination in (Termination.ERROR, Termination.NO_SOLUTION):
        return cg
    return replace(
        merge_results(rooted, cg, params.rel_gap),
        runtime_s=time.perf_counter() - t0,
        message=f"rooted MIP: {rooted.message}; column generation: {cg.message}",
        iterations=cg.iterations + rooted.iterations,
    )


def merge_results(kept: BundlingResult, other: BundlingResult, rel_gap: float) -> BundlingResult:
    """Two answers to one problem as one: the better plan with the smaller of the bounds.

    Each bound is valid, so the smaller one is too; it is raised to the plan's value when
    float noise leaves it below (a feasible plan is never above the optimum).

    Parameters
    ----------
    kept : BundlingResult
        Its plan is kept unless ``other``'s objective is better by more than 1e-9.
    other : BundlingResult
    rel_gap : float
        The gap at which the merged answer is ``OPTIMAL``.

    Returns
    -------
    BundlingResult
        The chosen answer with the merged ``bound``, ``gap`` and ``termination``; its
        other fields (runtime, message) as they were.
    """
    best = other if (other.objective or 0.0) > (kept.objective or 0.0) + 1e-9 else kept
    bounds = [b for b in (kept.bound, other.bound) if b is not None]
    bound = min(bounds) if bounds else None
    if bound is not None and best.objective is not None:
        bound = max(bound, best.objective)
    gap = relative_gap(best.objective, bound)
    term = Termination.OPTIMAL if within_gap(gap, rel_gap) else Termination.FEASIBLE
    return replace(best, termination=term, bound=bound, gap=gap)
