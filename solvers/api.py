"""The one entry point ``bundler`` uses: solve a bundling problem with a named backend."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import cast

from solvers.backend import HeuristicBackend, MipBackend
from solvers.base import SolveParams, Termination
from solvers.mip.rooted import solve_rooted
from solvers.problem import BundlingProblem, BundlingResult
from solvers.registry import get_backend

HEURISTIC = "heuristic"


def solve_bundling(
    problem: BundlingProblem,
    solver: str = "highs",
    params: SolveParams | None = None,
    warm_start: Sequence[Sequence[int]] | None = None,
    max_rounds: int = 50,
) -> BundlingResult:
    """Solve one bundling problem.

    Parameters
    ----------
    problem : BundlingProblem
    solver : str
        A name from :data:`solvers.registry.BACKENDS`: ``"highs"``, ``"cbc"``,
        ``"cpsat"`` (exact MIP with separator cuts) or ``"heuristic"``.
    params : SolveParams, optional
    warm_start : sequence of bundles, optional
        Feasible bundles to start from (MIP backends).
    max_rounds : int
        Solve-check-resolve rounds for the MIP backends.

    Returns
    -------
    BundlingResult
    """
    params = params or SolveParams()
    backend = get_backend(solver)
    if solver == HEURISTIC:
        heuristic = cast(HeuristicBackend, backend)
        return heuristic.solve_bundling(problem, params, warm_start=warm_start)
    t0 = time.perf_counter()
    try:
        return solve_rooted(
            problem, cast(MipBackend, backend), params, warm_start=warm_start, max_rounds=max_rounds
        )
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
