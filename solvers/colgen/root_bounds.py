r"""Upper bounds on the best bundle of each root at given unit prices.

Column generation and the Lagrangian bound (:mod:`solvers.colgen.driver`) need, for
every root ``r`` and prices :math:`\pi` on the units, a number :math:`U_r(\pi)` that no
feasible bundle rooted at ``r`` beats in *reduced value*

.. math::

    b + \sum_{j \in S} (v_j - \pi_j).

Two bounds, a cheap one for every root and an exact one for the few that matter:

:func:`relaxed_root_bounds`
    Drops connectivity, the maximum area and the cost test, keeps "``r`` is in",
    at most ``max_units`` members from ``r``'s reduced candidates and the minimum
    area. The minimum area is moved into the objective with a multiplier
    :math:`\mu \ge 0`; for every :math:`\mu` the best choice is ``r`` plus the
    ``max_units - 1`` largest positive scores :math:`v_j - \pi_j + \mu a_j`, so

    .. math::

        U_r(\pi) \le b - \mu A_r + (v_r - \pi_r + \mu a_r) + \textstyle\sum^{top}
        \max(0, v_j - \pi_j + \mu a_j)

    is valid for every :math:`\mu \ge 0` (weak duality); a golden-section search over
    :math:`\mu` (the right side is convex in :math:`\mu`) picks a good one. All roots
    are bounded at once in one padded matrix.
:class:`ExactRootBounds`
    The best connected bundle rooted at ``r`` of positive reduced value, with every
    rule, by branch-and-cut on one HiGHS model
    (:class:`solvers.colgen.single_root.SingleRootSolver`): separator rows from
    fractional LP points first, then MIP rounds with the rows that cut off each
    disconnected answer. Its LP and MIP dual bounds are valid at any time, so a
    time-limited solve still bounds :math:`U_r(\pi)`. Each root's model, and its
    rows, is kept from one price to the next.
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from solvers.colgen.single_root import SingleRootSolver
from solvers.problem import BundlingProblem

# golden-section steps over the area multiplier: the bracket (in log(1 + mu)) shrinks
# to 0.618**n of its width, 1e-5 after 25 steps; any multiplier gives a valid bound
GOLDEN_STEPS = 25
_GOLD = (math.sqrt(5.0) - 1.0) / 2.0
# the path bound is also tried without the area multiplier when at most this many
# roots need it (one shortest-path search per root and multiplier)
PATH_BOTH_MAX_ROOTS = 500
# a connected answer is feasible for the problem's own check, which tolerates this much
_TOL = 1e-6
# root models kept at once: a solved model holds about 5 MB (40 roots of a 298-unit
# generated-2000 group took 200 MB, and HiGHS does not give it back until the model
# goes), so the least recently used go beyond this (about 160 MB)
KEPT_MODELS = 32


@dataclass(frozen=True)
class RootSets:
    """Every root that may hold a feasible bundle, with its reduced candidates.

    Attributes
    ----------
    roots : ndarray of int, shape (R,)
    members : ndarray of int, shape (R, C)
        Candidates of each root other than the root itself, padded with ``-1``.
    mask : ndarray of bool, shape (R, C)
        True where ``members`` holds a unit.
    candidates : list of ndarray
        Each root's candidates including the root (for the exact bound).
    """

    roots: np.ndarray
    members: np.ndarray
    mask: np.ndarray
    candidates: list[np.ndarray]

    @classmethod
    def from_valid(cls, valid: dict[int, set[int]]) -> RootSets:
        """From ``{root: candidates}``, as :func:`solvers.mip.rooted.reduce_candidates` gives."""
        roots = np.array(sorted(valid), dtype=int)
        cands = [np.array(sorted(valid[int(r)]), dtype=int) for r in roots]
        width = max((len(c) - 1 for c in cands), default=0)
        members = np.full((len(roots), max(width, 1)), -1, dtype=int)
        for k, (r, c) in enumerate(zip(roots, cands, strict=True)):
            others = c[c != r]
            members[k, : len(others)] = others
        return cls(roots, members, members >= 0, cands)


def relaxed_root_bounds(
    problem: BundlingProblem, sets: RootSets, prices: np.ndarray, with_choice: bool = False
):
    """A valid upper bound on the best reduced value of every root (module docstring).

    Parameters
    ----------
    problem : BundlingProblem
    sets : RootSets
    prices : ndarray of shape (n,)
        The price :math:`\\pi_j` of each unit (dual values of the cover rows).

    with_choice : bool
        Also return the relaxed problem's choice at the chosen multiplier (for a
        subgradient of the Lagrangian bound).

    Returns
    -------
    bounds : ndarray of shape (R,)
        ``U_r`` for ``sets.roots`` in order; ``-inf`` for a root that cannot reach its
        minimum area with ``max_units`` candidates.
    choice : ndarray of bool, shape (R, C)
        Only with ``with_choice``: the candidates (columns of ``sets.members``) the
        relaxed problem takes besides the root.
    """
    p = problem
    if not len(sets.roots):
        return (np.empty(0), np.zeros(sets.mask.shape, bool)) if with_choice else np.empty(0)
    reduced = np.asarray(p.value, float) - np.asarray(prices, float)
    roots, mask = sets.roots, sets.mask
    safe = np.where(mask, sets.members, 0)
    w = np.where(mask, reduced[safe], -np.inf)
    a = np.where(mask, np.asarray(p.area_min_ha, float)[safe], 0.0)
    need = np.asarray(p.min_area_ha, float)[roots]
    w_root = reduced[roots]
    a_root = np.asarray(p.area_min_ha, float)[roots]
    k = (p.max_units if p.max_units > 0 else p.n) - 1
    width = w.shape[1]

    def top_sum(scores: np.ndarray) -> np.ndarray:
        """Sum of the ``k`` largest positive scores of each row."""
        if k <= 0:
            return np.zeros(len(scores))
        part = np.partition(scores, width - k, axis=1)[:, width - k :] if k < width else scores
        return np.where(np.isfinite(part), np.maximum(part, 0.0), 0.0).sum(axis=1)

    def value_at(mu: np.ndarray) -> np.ndarray:
        s = w + mu[:, None] * a
        return p.bundle_value - mu * need + (w_root + mu * a_root) + top_sum(s)

    # can the k largest candidate areas plus the root's reach the minimum at all?
    if k > 0:
        k_eff = min(k, width)
        biggest = np.sort(a, axis=1)[:, width - k_eff :].sum(axis=1)
    else:
        biggest = np.zeros(len(roots))
    reachable = a_root + biggest >= need - _TOL
    # past hi every score is positive and ranked by area, so the value only grows
    spread = np.abs(np.where(mask, w, 0.0)).sum(axis=1) + abs(w_root) + abs(p.bundle_value)
    smallest = np.where(mask & (a > 0), a, np.inf).min(axis=1, initial=np.inf)
    smallest = np.minimum(smallest, np.where(a_root > 0, a_root, np.inf))
    hi = np.where(np.isfinite(smallest), 2.0 * spread / np.maximum(smallest, 1e-9), 0.0) + 1.0
    lo = np.zeros(len(roots))
    # search log(1 + mu): the bracket spans many orders of magnitude
    tlo, thi = np.log1p(lo), np.log1p(hi)
    t1 = thi - _GOLD * (thi - tlo)
    t2 = tlo + _GOLD * (thi - tlo)
    f1, f2 = value_at(np.expm1(t1)), value_at(np.expm1(t2))
    best = value_at(lo)
    best_mu = lo.copy()

    def keep(f, t):
        nonlocal best, best_mu
        better = f < best
        best = np.where(better, f, best)
        best_mu = np.where(better, np.expm1(t), best_mu)

    keep(f1, t1)
    keep(f2, t2)
    for _ in range(GOLDEN_STEPS):
        left = f1 <= f2
        thi = np.where(left, t2, thi)
        tlo = np.where(left, tlo, t1)
        t2n = np.where(left, t1, tlo + _GOLD * (thi - tlo))
        t1n = np.where(left, thi - _GOLD * (thi - tlo), t2)
        t_new = np.where(left, t1n, t2n)
        f_new = value_at(np.expm1(t_new))
        f1, f2 = np.where(left, f_new, f2), np.where(left, f1, f_new)
        t1, t2 = t1n, t2n
        keep(f_new, t_new)
    bounds = np.where(reachable, best, -np.inf)
    s = w + best_mu[:, None] * a
    if 0 < k < width:
        cut = np.partition(s, width - k, axis=1)[:, width - k][:, None]
        choice = (s >= cut) & (s > 0) & mask
    else:
        choice = (s > 0) & mask if k > 0 else np.zeros_like(mask)
    # connectivity: a second bound for the roots the first leaves positive
    todo = np.flatnonzero(bounds > 0)
    if len(todo):
        mus = {float(np.median(best_mu[todo]))}
        if len(todo) <= PATH_BOTH_MAX_ROOTS:
            mus.add(0.0)
        for mu in mus:
            path, took = _path_bounds(p, sets, reduced, mu, todo)
            better = path < bounds[todo]
            bounds[todo] = np.where(better, path, bounds[todo])
            choice[todo] = np.where(better[:, None], took, choice[todo])
    if not with_choice:
        return bounds
    return bounds, choice


def _path_bounds(p: BundlingProblem, sets: RootSets, reduced, mu: float, rows: np.ndarray):
    r"""The path bound at one area multiplier, for some roots.

    With scores :math:`\sigma_j = v_j - \pi_j + \mu a_j`, a connected bundle holding
    ``r`` and ``j`` holds a path from ``r`` to ``j``, whose units after ``r`` cost at
    least :math:`t_j`, the cheapest such path counting only negative scores. So the
    bundle's members other than ``r`` score at most
    :math:`\sum_{t_j \le T} \max(0, \sigma_j) - T` with :math:`T` the largest
    :math:`t_j` among them; the best :math:`T` bounds every bundle.
    """
    score = reduced + mu * np.asarray(p.area_min_ha, float)
    cost = np.maximum(-score, 0.0)
    e = np.asarray(p.edges, dtype=int).reshape(-1, 2)
    heads = np.concatenate([e[:, 1], e[:, 0]])
    tails = np.concatenate([e[:, 0], e[:, 1]])
    # entering a unit costs its negative score; scipy drops explicit zeros from a
    # sparse graph, so every edge gets a tiny extra weight, taken back below
    tiny = 1e-9 * max(1.0, float(cost.max(initial=0.0)))
    graph = sp.csr_array((cost[heads] + tiny, (tails, heads)), shape=(p.n, p.n))
    roots = sets.roots[rows]
    members, mask = sets.members[rows], sets.mask[rows]
    safe = np.where(mask, members, 0)
    # a unit farther than a root's whole positive gain can never pay its way there,
    # so the search stops at the largest such gain (unreached units count as too far)
    reach = float(np.where(mask, np.maximum(score[safe], 0.0), 0.0).sum(axis=1).max())
    dist = dijkstra(graph, directed=True, indices=roots, limit=reach + tiny * (p.n + 1))
    dist = dist - tiny * p.n
    t = np.where(mask, np.take_along_axis(dist, safe, axis=1), np.inf)
    gain = np.where(mask, np.maximum(score[safe], 0.0), 0.0)
    order = np.argsort(t, axis=1, kind="stable")
    t_sorted = np.take_along_axis(t, order, axis=1)
    total = np.cumsum(np.take_along_axis(gain, order, axis=1), axis=1) - t_sorted
    total = np.where(np.isfinite(t_sorted), total, -np.inf)
    pick = np.argmax(total, axis=1)
    top = np.maximum(total[np.arange(len(rows)), pick], 0.0)
    need = np.asarray(p.min_area_ha, float)[roots]
    value = p.bundle_value - mu * need + score[roots] + top
    cutoff = np.where(top > 0, t_sorted[np.arange(len(rows)), pick], -np.inf)
    took = mask & (t <= cutoff[:, None]) & (gain > 0)
    return value, took


@dataclass(frozen=True)
class RootOptimum:
    """The answer of :meth:`ExactRootBounds.bound`.

    Attributes
    ----------
    bound : float
        A valid upper bound on the root's best reduced value (``-inf`` when no
        feasible bundle exists).
    bundle : tuple of int or None
        The best connected feasible bundle found (sorted unit indices).
    proven : bool
        True when ``bound`` equals the value of ``bundle`` (or no bundle exists).
    """

    bound: float
    bundle: tuple[int, ...] | None
    proven: bool


class ExactRootBounds:
    """Exact single-root bounds of many roots, each root's model kept across price changes.

    Column generation prices the same roots again and again at nearby prices; keeping
    each root's :class:`~solvers.colgen.single_root.SingleRootSolver` lets its
    separator rows carry over, so a later solve needs few new rounds.

    Parameters
    ----------
    problem : BundlingProblem
    nbrs : list of list of int
        Adjacency lists of the problem's graph.
    """

    def __init__(self, problem: BundlingProblem, nbrs: list[list[int]]):
        self.problem, self.nbrs = problem, nbrs
        self._models: OrderedDict[int, tuple[np.ndarray, SingleRootSolver]] = OrderedDict()

    def bound(
        self, root: int, candidates: np.ndarray, prices: np.ndarray, time_limit: float
    ) -> RootOptimum:
        """The best connected bundle rooted at ``root`` of positive reduced value (MIP with cuts).

        Only bundles worth more than a tiny floor are searched, so that "no column
        here" is proven by infeasibility; the bound returned is then the floor.

        Parameters
        ----------
        root : int
        candidates : ndarray of int
            The root's candidates, including ``root`` (the same at every call for a root).
        prices : ndarray of shape (n,)
        time_limit : float
            Seconds for all cut rounds together.

        Returns
        -------
        RootOptimum
        """
        p = self.problem
        keep, outside = _worth_keeping(p, self.nbrs, root, np.asarray(candidates, int), prices)
        if len(keep) == 0:
            return RootOptimum(outside, None, False)
        cand, solver = self._solver(root, candidates)
        w = np.asarray(p.value, float)[cand] - np.asarray(prices, float)[cand]
        # only a bundle of positive reduced value matters (the bound takes max(0, U_r)):
        # asking for one lets the MIP stop at infeasibility instead of proving the optimum
        floor = 1e-9 * max(1.0, abs(float(p.bundle_value)))
        ans = solver.solve(w, float(p.bundle_value), floor, np.isin(cand, keep), time_limit)
        if ans.bound == -math.inf:  # no bundle of the kept units reaches the floor
            return RootOptimum(max(outside, floor), None, True)
        if ans.chosen is None:
            return RootOptimum(max(ans.bound, outside, floor), None, False)
        bundle = tuple(sorted(int(cand[i]) for i in ans.chosen))
        value = float(ans.value)
        return RootOptimum(max(ans.bound, value, outside), bundle, ans.proven and outside <= value)

    def _solver(self, root: int, candidates: np.ndarray) -> tuple[np.ndarray, SingleRootSolver]:
        if root in self._models:
            self._models.move_to_end(root)
        else:
            if len(self._models) >= KEPT_MODELS:
                self._models.popitem(last=False)  # the least recently used
            p = self.problem
            cand = np.asarray(sorted(map(int, candidates)), dtype=int)
            pos = {int(j): k for k, j in enumerate(cand)}
            rows: list[tuple[np.ndarray, float, float]] = [
                (np.asarray(p.area_min_ha, float)[cand], float(p.min_area_ha[root]) - _TOL, np.inf)
            ]
            if math.isfinite(p.max_area_ha):
                rows.append((np.asarray(p.area_ha, float)[cand], -np.inf, float(p.max_area_ha)))
            if p.max_units:
                rows.append((np.ones(len(cand)), -np.inf, float(p.max_units)))
            if p.check_cost:
                rows.append((np.asarray(p.slack, float)[cand], -np.inf, -float(p.bundle_slack)))
            local = [[pos[k] for k in self.nbrs[int(j)] if k in pos] for j in cand]
            self._models[root] = (cand, SingleRootSolver(local, pos[int(root)], rows))
        return self._models[root]


def _worth_keeping(p: BundlingProblem, nbrs, root: int, cand: np.ndarray, prices: np.ndarray):
    """The candidates that may be in a bundle of positive reduced value, and a bound on the rest.

    A bundle holding ``j`` holds a path from the root to ``j``; its reduced value is at
    most the bundle value, plus every positive reduced value among the candidates,
    minus the cheapest path's negative values (:math:`t_j`, the root's own value
    counted apart). A unit whose bound is not positive is dropped: the exact model
    then only has to look at the rest, and the largest dropped bound (``-inf`` when
    none) still bounds every bundle that would have used one.
    """
    w = np.asarray(p.value, float) - np.asarray(prices, float)
    inside = set(map(int, cand))
    cost = np.maximum(-w, 0.0)
    gain = float(np.maximum(w[cand], 0.0).sum() - max(w[root], 0.0))
    base = float(p.bundle_value + w[root] + gain)
    dist = {root: 0.0}
    heap = [(0.0, root)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u] or base - d <= 0.0:
            continue
        for k in nbrs[u]:
            if k in inside:
                nd = d + cost[k]
                if nd < dist.get(k, math.inf):
                    dist[k] = nd
                    heapq.heappush(heap, (nd, k))
    tol = 1e-6 * max(1.0, abs(base))
    keep = np.array(sorted(j for j, d in dist.items() if base - d > tol), dtype=int)
    if root not in set(keep.tolist()):
        keep = np.array([], dtype=int)
    # units never reached lie behind a dropped one, whose bound covers them too
    outside = max((base - d for d in dist.values() if base - d <= tol), default=-math.inf)
    return keep, outside
