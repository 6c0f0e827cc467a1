"""A simple greedy baseline for the NPV (or credits) objective: no local search, no MIP.

From every unit that may be a root, a bundle is grown greedily: start from the
root, repeatedly add the available candidate neighbour (in ``candidates[root]``,
adjacent to the bundle) with the highest value, skipping units that would break
the maximum area, until the unit count limit or no neighbour is left; the
bundle is the best-valued *feasible* prefix of that growth (minimum area from the
root, cost test). The best such bundle over all roots is taken if it is worth
more than zero, its units are removed, and the process repeats.

Lazy evaluation keeps it fast: a root's growth depends only on the units it
looked at (its members and the neighbours it considered), so a cached result
stays exact until one of those units is taken by another bundle.

This is the obvious thing to do by hand, and the bar the optimiser must clear.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from solvers.base import Termination
from solvers.problem import BundlingProblem, BundlingResult

EPS = 1e-9


def _neighbours(problem: BundlingProblem) -> list[list[int]]:
    nb: list[list[int]] = [[] for _ in range(problem.n)]
    for a, b in np.asarray(problem.edges, dtype=int).reshape(-1, 2):
        nb[a].append(int(b))
        nb[b].append(int(a))
    return nb


def grow(
    problem: BundlingProblem,
    root: int,
    free: np.ndarray,
    nbrs: list[list[int]],
    allowed: np.ndarray | None,
) -> tuple[float, list[int], set[int]]:
    """Greedy growth from ``root``: (objective, members, units looked at).

    ``objective`` is ``-inf`` with no members when no prefix is feasible.
    """
    p = problem
    members = [root]
    seen = {root}
    area = float(p.area_ha[root])
    area_min = float(p.area_min_ha[root])
    value = float(p.bundle_value + p.value[root])
    slack = float(p.bundle_slack + p.slack[root])
    need = float(p.min_area_ha[root])
    cap = p.max_units if p.max_units else p.n

    def ok() -> bool:
        return area_min >= need - 1e-6 and (not p.check_cost or slack <= 1e-6)

    best = (value, 1) if ok() else (-np.inf, 0)
    heap: list[tuple[float, int]] = []

    def push_from(u: int) -> None:
        for v in nbrs[u]:
            if v in seen:
                continue
            seen.add(v)
            if free[v] and (allowed is None or allowed[v]):
                heapq.heappush(heap, (-float(p.value[v]), v))

    push_from(root)
    while heap and len(members) < cap:
        _, v = heapq.heappop(heap)
        if area + p.area_ha[v] > p.max_area_ha + 1e-6:
            continue
        members.append(v)
        area += float(p.area_ha[v])
        area_min += float(p.area_min_ha[v])
        value += float(p.value[v])
        slack += float(p.slack[v])
        if ok() and value > best[0] + EPS:
            best = (value, len(members))
        push_from(v)
    return best[0], members[: best[1]], seen


def solve_greedy(problem: BundlingProblem, time_limit: float = float("inf")) -> BundlingResult:
    """Run the greedy baseline of the module docstring on one problem.

    Parameters
    ----------
    problem : BundlingProblem
    time_limit : float
        Seconds; when reached, the bundles accepted so far are returned.

    Returns
    -------
    BundlingResult
        ``FEASIBLE`` (no bound, no gap); ``message`` says when the limit stopped it.
    """
    t0 = time.perf_counter()
    p = problem
    nbrs = _neighbours(p)
    free = np.ones(p.n, dtype=bool)
    masks: dict[int, np.ndarray | None] = {}
    roots = [r for r in range(p.n) if p.candidates is None or len(p.candidates[r])]
    for r in roots:
        if p.candidates is None:
            masks[r] = None
        else:
            m = np.zeros(p.n, dtype=bool)
            m[p.candidates[r]] = True
            masks[r] = m
    version = np.zeros(p.n, dtype=np.int64)  # bumped when a unit is taken
    heap: list[tuple[float, int, int]] = []
    cache: dict[int, tuple[list[int], set[int], int]] = {}
    stamp = 0

    def evaluate(r: int) -> None:
        val, members, seen = grow(p, r, free, nbrs, masks[r])
        cache[r] = (members, seen, stamp)
        if members and val > EPS:
            heapq.heappush(heap, (-val, r, stamp))

    for r in roots:
        evaluate(r)
    bundles: list[list[int]] = []
    message = "no positive bundle left"
    while heap:
        if time.perf_counter() - t0 > time_limit:
            message = "time limit reached"
            break
        _, r, at = heapq.heappop(heap)
        members, seen, when = cache.get(r, ([], set(), -1))
        if when != at or not free[r]:
            continue  # stale entry
        if any(version[u] > at for u in seen):
            evaluate(r)  # something it looked at was taken since: grow again
            continue
        bundles.append(sorted(members))
        stamp += 1
        for u in members:
            free[u] = False
            version[u] = stamp
    obj = float(sum(p.bundle_objective(b) for b in bundles))
    return BundlingResult(
        Termination.FEASIBLE,
        obj,
        None,
        None,
        time.perf_counter() - t0,
        bundles=tuple(tuple(b) for b in sorted(bundles)),
        solver="greedy",
        message=message,
    )
