"""Pieces both heuristic algorithms share: adjacency lists, connected pieces, the final check.

:func:`result` is the last step of every heuristic solve: each bundle is checked
against the problem's own rules (:meth:`BundlingProblem.bundle_violations`), and a
bundle that fails is dropped, so a heuristic bug never reaches a plan.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from solvers.base import Termination, relative_gap
from solvers.problem import BundlingProblem, BundlingResult, canonical_bundles

NAME = "heuristic"
EPS = 1e-9
# the problem's own check tolerates 1e-6 ha below a minimum; bounds must allow for it
CHECK_TOL = 1e-6


def neighbours(n: int, edges: np.ndarray) -> list[list[int]]:
    """Sorted adjacency lists (Python lists: the hot loops index them one at a time)."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    e = e[e[:, 0] != e[:, 1]]
    rows = np.concatenate([e[:, 0], e[:, 1]])
    cols = np.concatenate([e[:, 1], e[:, 0]])
    m = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    m.sort_indices()
    ind = m.indices.tolist()
    ptr = m.indptr.tolist()
    return [ind[ptr[i] : ptr[i + 1]] for i in range(n)]


def components(n: int, nbrs: list[list[int]]) -> np.ndarray:
    rows = [i for i in range(n) for _ in nbrs[i]]
    cols = [j for i in range(n) for j in nbrs[i]]
    m = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(m, directed=False)[1]


def reach(nbrs: list[list[int]], start: int, allowed: set) -> set:
    """The units of ``allowed`` that ``start`` reaches through neighbours in ``allowed``."""
    seen, stack = {start}, [start]
    while stack:
        for y in nbrs[stack.pop()]:
            if y in allowed and y not in seen:
                seen.add(y)
                stack.append(y)
    return seen


def is_connected(nbrs: list[list[int]], units: set) -> bool:
    """Whether ``units`` (a set; empty counts as connected) is one piece of the graph."""
    return not units or len(reach(nbrs, next(iter(units)), units)) == len(units)


canon = canonical_bundles


def result(problem: BundlingProblem, bundles, bound, message, iterations, t0) -> BundlingResult:
    """Check every bundle against the problem's own rules and build the answer."""
    g = problem.graph()
    kept: list[tuple[int, ...]] = []
    used: set[int] = set()
    dropped = 0
    for b in canon(bundles):
        # a heuristic bug must never reach the plan: drop what the problem rejects
        if not b or used.intersection(b) or problem.bundle_violations(b, g):
            dropped += 1
            continue
        kept.append(b)
        used.update(b)
    notes = [message] if message else []
    if dropped:
        notes.append(f"{dropped} bundle(s) failed the final check and were dropped")
    missing = [j for j in np.flatnonzero(problem.must_cover).tolist() if j not in used]
    runtime = time.perf_counter() - t0
    if missing:
        names = ", ".join(problem.unit_ids[j] for j in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        notes.insert(0, f"no feasible bundle found for locked-in unit(s) {names}{more}")
        return BundlingResult(
            Termination.NO_SOLUTION,
            None,
            bound,
            None,
            runtime,
            solver=NAME,
            message="; ".join(notes),
            iterations=iterations,
        )
    objective = float(sum(problem.bundle_objective(b) for b in kept))
    proven = bound is not None and objective >= bound - 1e-9 * max(1.0, abs(bound))
    return BundlingResult(
        Termination.OPTIMAL if proven else Termination.FEASIBLE,
        objective,
        bound,
        relative_gap(objective, bound),
        runtime,
        bundles=tuple(kept),
        solver=NAME,
        message="; ".join(notes),
        iterations=iterations,
    )
