r"""The carbon price at which a unit outside the plan would first join a paying bundle.

A bundle *passes at price* :math:`p` when it meets every rule of
:class:`~solvers.problem.BundlingProblem` with its numbers at :math:`p`: the cost test
(:math:`\text{bundle\_slack} + \sum_j \text{slack}_j(p) \le 0`) and a non-negative
objective (a plan never gains from a bundle that loses). Both numbers are linear in the
price (:class:`PriceSlopes`): :math:`\text{slack}_j(p) = \text{slack}_j + (p - p_0)\,s_j`
with :math:`s_j \le 0` (a credit is worth more), :math:`\text{value}_j(p) = \text{value}_j
+ (p - p_0)\,v_j` with :math:`v_j \ge 0`. So a bundle that passes at :math:`p` passes at
every higher price, and its own *bundle price* (:func:`bundle_price`), the least price at
which it passes, has a closed form. A unit's threshold :math:`t_u` is the least bundle
price over the feasible bundles that hold it; :func:`price_thresholds` brackets it:

* **Upper end, witnessed.** Bundles grown by the heuristic's growth
  (:func:`~solvers.heuristic.selection.grow_bundles`) at the problem's numbers at several
  prices, and from each unit as a root: each feasible bundle's price is an upper end for
  every unit in it, and the bundle is kept as the witness.
* **Lower end, proven.** A relaxation: a bundle rooted at ``r`` that holds ``u`` is a
  connected subset of ``r``'s candidates that holds ``r`` and ``u`` and reaches ``r``'s
  minimum area. Dropping the upper limits (area, units), the most such a set can collect
  of a margin ``m`` (``-slack(p)`` for the cost test, ``value(p)`` for the objective) is
  at most

  .. math::

      \sum_{j:\,m_j > 0} m_j + \min(m_u, 0) + \min(m_r, 0)
      - \max\Bigl(F_r\bigl(A_r - a^{+} - [m_u \le 0]\,a_u - [m_r \le 0]\,a_r\bigr),\;
      P(r, u)\Bigr),

  (the root's terms only when ``r`` is not ``u``) where :math:`a^{+}` is the area of the
  candidates with a positive margin, :math:`F_r(x)` the least margin given up to add
  :math:`x` ha more from the others (a fractional knapsack: cheapest margin per hectare
  first; :math:`F_r(x) = \infty` when they hold less), and :math:`P(r, u)` the least
  margin given up by the units strictly between ``r`` and ``u`` on a path of the group's
  graph (a shortest path; the bundle's other non-positive units must both fill the area
  and connect ``u`` to ``r``, so they give up at least the larger of the two). Units
  may be counted twice in :math:`F_r`, and paths may leave the candidates, which only
  raises the bound. When this bound is below the test's need for every root, no bundle
  with ``u`` passes at :math:`p`, nor at any lower price (margins rise with the price).
  The prices are searched by bisection, so the lower end is the highest price at which
  the relaxation rules the unit out, to a resolution of :data:`RESOLUTION`.

The search range is :math:`[0, p_{max}]`: a unit whose relaxation rules it out at
:math:`p_{max}` can never join within the range, and says so.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from solvers.heuristic.common import neighbours
from solvers.heuristic.selection import grow_bundles
from solvers.problem import BundlingProblem

# the bisection stops when a unit's bracket is narrower than this share of its upper
# end, or than MIN_WIDTH USD
RESOLUTION = 0.01
MIN_WIDTH = 0.01
# first prices of the bisection: this many equal steps over the range
COARSE_STEPS = 16
# entries (root x candidate) of the relaxation computed at once (memory)
CHUNK = 2_000_000
# share of the time for the proven lower ends (the rest for witnesses)
LOWER_SHARE = 0.4
# a unit's witness search tries prices from its lower end up in these steps
WITNESS_STEP = 1.25
# added to every edge of the path search (a zero-weight edge would vanish from the
# sparse graph) and taken back off, n times over, from every path's cost
PATH_EPS = 1e-9
# roots tried for a unit that may not be a root itself
ROOTS_PER_UNIT = 3
# tolerance of the tests (the problem's own check allows 1e-6)
TOL = 1e-6


@dataclass(frozen=True)
class PriceSlopes:
    """How a problem's numbers move with the carbon price.

    Attributes
    ----------
    price : float
        The price the problem's ``value`` and ``slack`` are at, USD/tCO2e.
    value : ndarray of shape (n,)
        Change of each unit's value per USD/tCO2e (>= 0).
    slack : ndarray of shape (n,)
        Change of each unit's cost-test slack per USD/tCO2e (<= 0).
    """

    price: float
    value: np.ndarray
    slack: np.ndarray

    def at(self, problem: BundlingProblem, price: float) -> BundlingProblem:
        """``problem`` with its numbers at ``price``."""
        d = price - self.price
        return replace(
            problem, value=problem.value + d * self.value, slack=problem.slack + d * self.slack
        )


@dataclass(frozen=True)
class Threshold:
    """Where a unit's threshold price lies.

    Attributes
    ----------
    unit : int
        The unit's index in its problem.
    low : float
        Proven: no feasible bundle that holds the unit passes at this price or below
        (0 when none is ruled out at 0).
    high : float
        Witnessed: ``witness`` holds the unit and passes from this price on (``inf``
        when no bundle that holds it was found within the range).
    witness : tuple of int
        That bundle (empty when none).
    never : bool
        Proven: no bundle that holds it passes anywhere in the range.
    """

    unit: int
    low: float
    high: float
    witness: tuple[int, ...] = ()
    never: bool = False


def bundle_price(problem: BundlingProblem, slopes: PriceSlopes, members) -> float:
    """The least price >= 0 at which a bundle passes its economic tests (module docstring).

    Parameters
    ----------
    problem : BundlingProblem
    slopes : PriceSlopes
    members : iterable of int
        A bundle that meets the other rules.

    Returns
    -------
    float
        ``inf`` when it passes at no price.
    """
    idx = np.fromiter(members, dtype=int)
    needs = [
        _least_price(
            problem.bundle_value + problem.value[idx].sum(), slopes.value[idx].sum(), slopes.price
        )
    ]
    if problem.check_cost:
        slack = problem.bundle_slack + problem.slack[idx].sum()
        needs.append(_least_price(-slack, -slopes.slack[idx].sum(), slopes.price))
    return max(0.0, *needs)


def _least_price(level: float, slope: float, price: float) -> float:
    """The least ``p`` with ``level + (p - price) * slope >= 0`` (``slope >= 0``)."""
    if slope > 0:
        return price - level / slope
    return -math.inf if level >= -TOL else math.inf


def price_thresholds(
    problem: BundlingProblem,
    slopes: PriceSlopes,
    units,
    max_price: float,
    time_limit: float,
    seed: int = 0,
) -> list[Threshold]:
    """Bracket the threshold price of each of ``units`` (module docstring).

    Parameters
    ----------
    problem : BundlingProblem
        Its numbers at ``slopes.price``.
    slopes : PriceSlopes
    units : iterable of int
        The units to bracket (those outside the plan).
    max_price : float
        Upper end of the search range, USD/tCO2e.
    time_limit : float
        Seconds, a ceiling; a unit keeps the bracket found by then (each end valid).
    seed : int
        Of the growth's random choices.

    Returns
    -------
    list of Threshold
        One per unit of ``units``, in its order.
    """
    t0 = time.perf_counter()
    units = [int(u) for u in units]
    if not units:
        return []
    low, up = _lower_ends(problem, slopes, units, max_price, t0 + LOWER_SHARE * time_limit)
    high = {u: math.inf for u in units}
    witness: dict[int, tuple[int, ...]] = {u: () for u in units}
    search = _Witnesses(problem, slopes, seed, high, witness)
    deadline = t0 + time_limit
    # one growth from every root at a few prices spreads witnesses over many units at once
    finite = [up[u] for u in units if up[u] <= max_price]
    if finite:
        for p in np.unique(np.quantile(finite, [0.0, 0.5, 1.0])):
            search.grow(float(p), None, deadline)
    for u in sorted(units, key=lambda v: up[v]):
        p = max(up[u], TOL)
        while high[u] > p and p <= max_price * (1 + TOL) and time.perf_counter() < deadline:
            search.grow(p, search.roots_for(u), deadline, unit=u)
            p = min(p * WITNESS_STEP, max_price) if p < max_price else math.inf
    out = []
    for u in units:
        h = high[u] if high[u] <= max_price * (1 + TOL) else math.inf
        never = low[u] >= max_price
        out.append(Threshold(u, min(low[u], h), h, witness[u] if h < math.inf else (), never))
    return out


class _Witnesses:
    """Feasible bundles grown at given prices; each lowers its members' upper ends."""

    def __init__(self, problem, slopes, seed, high, witness):
        self.problem, self.slopes = problem, slopes
        self.nbrs = neighbours(problem.n, problem.edges)
        self.rng = np.random.default_rng(seed)
        self.high, self.witness = high, witness

    def roots_for(self, unit: int) -> list[int]:
        """Roots a bundle with ``unit`` can grow from: the unit itself when it may be one,
        else a few whose candidates hold it, neighbours first."""
        cands = self.problem.candidates
        if cands is None or len(cands[unit]):
            return [unit]
        near = set(self.nbrs[unit])
        holders = [r for r in range(self.problem.n) if len(cands[r]) and unit in set(cands[r])]
        holders.sort(key=lambda r: (r not in near, r))
        return holders[:ROOTS_PER_UNIT]

    def grow(self, price: float, roots, deadline: float, unit: int | None = None) -> None:
        """Grow bundles at ``price`` (from ``roots``, default all), favouring ``unit``."""
        at = self.slopes.at(self.problem, price)
        if unit is not None:  # worth more than all others together: growth takes it when it can
            value = at.value.copy()
            value[unit] += float(np.abs(at.value).sum()) + 1.0
            at = replace(at, value=value)
        for b in grow_bundles(at, self.nbrs, self.rng, deadline, roots=roots):
            p = bundle_price(self.problem, self.slopes, b)
            for u in b:
                if u in self.high and p < self.high[u]:
                    self.high[u], self.witness[u] = p, tuple(b)


def _lower_ends(problem, slopes, units, max_price, deadline):
    """Per unit: the highest price tried at which the relaxation rules it out (``low``)
    and the lowest at which it does not (``up``, ``inf`` when none up to ``max_price``)."""
    relax = _Relaxation(problem, slopes)
    low = {u: 0.0 for u in units}
    up = {u: math.inf for u in units}
    wanted = np.zeros(problem.n + 1, dtype=bool)
    wanted[units] = True
    tried: set[float] = set()

    def try_price(p: float) -> None:
        tried.add(p)
        ok = relax.possible(p)
        for u in units:
            if ok[u]:
                up[u] = min(up[u], p)
            else:
                low[u] = max(low[u], p)

    for p in np.linspace(0.0, max_price, COARSE_STEPS + 1):
        if time.perf_counter() >= deadline:
            return low, up
        try_price(float(p))
    while time.perf_counter() < deadline:
        brackets = {
            (low[u], up[u])
            for u in units
            if up[u] < math.inf and up[u] - low[u] > max(MIN_WIDTH, RESOLUTION * up[u])
        }
        mids = sorted({(a + b) / 2 for a, b in brackets} - tried)
        if not mids:
            break
        for p in mids:
            if time.perf_counter() >= deadline:
                break
            try_price(p)
    return low, up


class _Relaxation:
    """The relaxation of the module docstring over every (root, candidate) pair."""

    def __init__(self, problem: BundlingProblem, slopes: PriceSlopes):
        self.problem, self.slopes = problem, slopes
        n = problem.n
        if problem.candidates is None:
            cands = [np.arange(n)] * n
        else:
            cands = [np.asarray(c, dtype=int) for c in problem.candidates]
        roots = [r for r in range(n) if len(cands[r])]
        width = max((len(cands[r]) for r in roots), default=0)
        # padded with the dummy unit n (no margin, no area)
        self.cand = np.full((len(roots), width), n, dtype=int)
        for k, r in enumerate(roots):
            self.cand[k, : len(cands[r])] = cands[r]
        self.floor = np.asarray(problem.min_area_ha, float)[roots] - TOL
        self.area = np.append(np.asarray(problem.area_min_ha, float), 0.0)
        self.roots = np.asarray(roots, dtype=int)
        # both directions of every edge: a path's cost is that of the units it enters
        e = np.asarray(problem.edges, dtype=int).reshape(-1, 2)
        self.heads = np.concatenate([e[:, 0], e[:, 1]])
        self.tails = np.concatenate([e[:, 1], e[:, 0]])

    def possible(self, price: float) -> np.ndarray:
        """Per unit (and the dummy), whether some root's relaxation lets it pass at ``price``."""
        at = self.slopes.at(self.problem, price)
        value = np.append(at.value, 0.0)
        tests = [(value, -at.bundle_value)]
        if at.check_cost:
            tests.append((np.append(-at.slack, 0.0), at.bundle_slack))
        ok = np.zeros(self.problem.n + 1, dtype=bool)
        rows = max(1, CHUNK // max(1, self.cand.shape[1]))
        for lo in range(0, len(self.cand), rows):
            cand = self.cand[lo : lo + rows]
            roots = self.roots[lo : lo + rows]
            floor = self.floor[lo : lo + rows]
            passes = np.ones(cand.shape, dtype=bool)
            for margin, need in tests:
                tol = TOL * max(1.0, abs(need))
                bound = self._bound(margin, cand, roots, floor, None)
                # the path term only for the roots that still let some unit pass (it costs
                # a shortest-path search per root)
                live = np.flatnonzero((passes & (bound >= need - tol)).any(axis=1))
                if len(live):
                    path = self._path_costs(margin, roots[live], cand[live])
                    bound[live] = self._bound(margin, cand[live], roots[live], floor[live], path)
                passes &= bound >= need - tol
            ok[cand[passes]] = True
        return ok

    def _bound(self, margin, cand, roots, floor, path) -> np.ndarray:
        """:func:`_forced_bound` of some rows of the candidate matrix."""
        return _forced_bound(
            margin[cand],
            self.area[cand],
            floor,
            margin[roots],
            self.area[roots],
            cand == roots[:, None],
            path,
        )

    def _path_costs(self, margin, roots, cand) -> np.ndarray:
        """Per (root, candidate) entry: the least margin given up by the units strictly
        between them on a path in the group's graph (a lower bound on what any connected
        bundle holding both gives up there: the candidate limits are dropped)."""
        n = self.problem.n
        cost = np.maximum(0.0, -margin[:n])
        graph = sp.csr_array((cost[self.tails] + PATH_EPS, (self.heads, self.tails)), shape=(n, n))
        dist = dijkstra(graph, directed=True, indices=roots)
        dist = np.hstack([dist, np.zeros((len(roots), 1))])  # the dummy
        entered = np.append(cost, 0.0)
        internal = np.take_along_axis(dist, cand, axis=1) - entered[cand]
        # the epsilons on the edges only make paths dearer: take them back off
        return np.maximum(0.0, np.where(np.isfinite(internal), internal, 0.0) - PATH_EPS * n)


def _forced_bound(
    m: np.ndarray,
    a: np.ndarray,
    floor: np.ndarray,
    m_root: np.ndarray,
    a_root: np.ndarray,
    is_root: np.ndarray,
    path: np.ndarray | None = None,
) -> np.ndarray:
    """Per (root, candidate) entry: the relaxation's bound with that candidate and the
    root forced in.

    ``m`` and ``a`` are the candidates' margins and areas (rows: roots; the dummy has
    both 0), ``floor`` each root's minimum area, ``m_root`` and ``a_root`` the root's
    own, ``is_root`` where the candidate is the root, ``path`` (optional) what a path
    from the root to the candidate gives up at least (module docstring). A bundle's
    non-positive units other than the candidate and the root must both cover the area
    that the rest leaves short and hold such a path, so they give up at least the larger
    of the two.
    """
    positive = m > 0
    gain = np.where(positive, m, 0.0).sum(axis=1, keepdims=True)
    area_pos = np.where(positive, a, 0.0).sum(axis=1, keepdims=True)
    fill = ~positive & (a > 0)
    per_ha = np.where(fill, -m / np.where(a > 0, a, 1.0), np.inf)
    order = np.argsort(per_ha, axis=1, kind="stable")
    fa = np.take_along_axis(np.where(fill, a, 0.0), order, axis=1)
    fc = np.take_along_axis(np.where(fill, -m, 0.0), order, axis=1)
    rate = np.take_along_axis(per_ha, order, axis=1)
    cum_a = np.cumsum(fa, axis=1)
    cum_c = np.cumsum(fc, axis=1)
    # the root, when not positive and not the candidate itself, is forced in too
    root_out = (m_root <= 0)[:, None] & ~is_root
    need = floor[:, None] - area_pos - np.where(positive, 0.0, a)
    need = np.maximum(need - np.where(root_out, a_root[:, None], 0.0), 0.0)
    # row-wise search: rows lifted apart by more than any area
    rows, width = m.shape
    lift = (
        np.arange(rows) * (2.0 * (cum_a[:, -1].max(initial=0.0) + need.max(initial=0.0)) + 1.0)
    )[:, None]
    k = np.searchsorted((cum_a + lift).ravel(), (need + lift).ravel(), side="left")
    k = k.reshape(rows, width) - np.arange(rows)[:, None] * width
    short = k >= width
    kk = np.minimum(k, width - 1)
    step = np.take_along_axis(rate, kk, axis=1)
    cost = np.take_along_axis(cum_c, kk, axis=1) - (
        np.take_along_axis(cum_a, kk, axis=1) - need
    ) * np.where(np.isfinite(step), step, 0.0)
    cost = np.where(need <= 0, 0.0, np.where(short, np.inf, cost))
    if path is not None:
        cost = np.maximum(cost, path)
    root_term = np.where(root_out, np.minimum(m_root, 0.0)[:, None], 0.0)
    return gain + np.minimum(m, 0.0) + root_term - cost
