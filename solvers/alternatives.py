r"""Near-optimal alternatives: further plans close to the best one, each different enough.

Given the independent problems of one planning run (its components) and the best plan
found for them, :func:`find_alternatives` returns up to ``k`` further plans, each

* within ``max_loss`` of the best plan's objective: ``objective >= best - max_loss * |best|``
  (``max_loss`` a fraction; the best plan's bound bounds every alternative too);
* different from every earlier plan (the best and the alternatives before it) in at
  least a share ``min_difference`` (``D``) of the selected units:
  :math:`|S \triangle Q| \ge D\,|S \cup Q|` for the new plan's units ``S`` and an
  earlier plan's units ``Q``.

Both are constraints of the model that chooses a plan, not checks of a lucky result.
With :math:`c_j = 1` when unit ``j`` is in a chosen bundle (the sum of the chosen
columns that hold it), :math:`|S \cup Q| = |S \triangle Q| + |S \cap Q|`, so the
difference rule is :math:`(1 - D)|S \triangle Q| \ge D\,|S \cap Q|`, and with
:math:`|S \triangle Q| = \sum_{j \in Q}(1 - c_j) + \sum_{j \notin Q} c_j` and
:math:`|S \cap Q| = \sum_{j \in Q} c_j` it is the linear row

.. math::

    (1 - D) \sum_{j \notin Q} c_j - \sum_{j \in Q} c_j \;\ge\; -(1 - D)\,|Q|,

in which a column (bundle) ``b`` has the coefficient :math:`(1 - D)|b| - (2 - D)|b \cap Q|`.
An empty ``Q`` makes the row hold for any plan, so there it says "at least one unit"
(an empty plan is the empty ``Q`` itself).

Method. Per component a pool of feasible bundles
(:class:`~solvers.colgen.master.ColumnPool`): the best plan's bundles, each of them with
one unit dropped or one neighbour added (when still feasible), and bundles grown by the
heuristic's growth (:func:`~solvers.heuristic.selection.grow_bundles`) at the problem's
own values, at noisy values and at values that steer away from the best plan's units.
Units of different components never meet, so one set-packing MIP over the union of the
pools chooses a whole plan: a row per unit (in at most one chosen bundle, exactly one
when locked in), the loss floor and one difference row per earlier plan, maximizing the
objective. Before each MIP a few pricing rounds add columns: the LP relaxation's duals
(unit rows, the floor, the difference rows) give every unit a reduced value, and
bundles grown at those values that pay join the pool. The plan found adds its own
difference row, and the next MIP runs. Fewer than ``k`` plans is an answer: the
result says why (:data:`EXHAUSTED`: no further plan made of the pool's bundles meets
the limits; :data:`TIME_LIMIT`; :data:`FAILED`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from solvers.backend import MipBackend
from solvers.base import SolveParams, Termination
from solvers.colgen.master import ColumnPool
from solvers.heuristic.common import neighbours
from solvers.heuristic.selection import grow_bundles
from solvers.mip.model import MipModel
from solvers.problem import BundlingProblem

# why fewer plans than asked for came back (AlternativesResult.stop)
DONE = "done"  # all k found
EXHAUSTED = "exhausted"  # the MIP proved that no further plan of the pool meets the limits
TIME_LIMIT = "time_limit"  # the time ran out first
FAILED = "failed"  # the MIP backend failed

# share of the time limit for the first pool (the rest goes to the alternatives)
POOL_SHARE = 0.3
# share of each alternative's time for its pricing rounds (the rest for its MIP)
PRICE_SHARE = 0.35
# pricing rounds before each MIP at most
PRICE_ROUNDS = 4
# noisy growth passes for the first pool, and the noise's size in mean unit values
NOISE_PASSES = 3
NOISE_SCALE = 0.5
# steering away from the best plan's units, in mean unit values
STEER = (0.5, 2.0)
# growth passes at random values go on until this many in a row are stale: add fewer
# bundles than STALE_SHARE of the pool (at least one)
STALE_PASSES = 3
STALE_SHARE = 0.005
# when the MIP finds no further plan, the pools grow at random values and it tries
# again, at most this many times per alternative
RETRIES = 3
# a difference row's bound is lowered by this (per unit of |Q|) so that a plan exactly
# at the limit (a share of exactly D) is not lost to rounding: ties are allowed
TIE_SLACK = 1e-9
# a difference row's coefficient below this is rounding noise of an exact 0
COEF_ZERO = 1e-9
# the plan found is checked again: its difference shares with this slack and its
# objective against the floor with this one (relative), the MIP's row tolerance
CHECK_TOL = 1e-6
FLOOR_TOL = 1e-6


@dataclass(frozen=True)
class Alternative:
    """One alternative plan.

    Attributes
    ----------
    bundles : tuple
        Per component (in the order of the problems), its bundles: sorted tuples of
        the component's unit indices.
    objective : float
        Sum of the bundles' objective contributions.
    units : frozenset of int
        Its units, numbered across components (a component's offset plus the unit's index).
    difference_from_best : float
        :func:`difference_share` with the best plan.
    difference_from_nearest : float
        The smallest share with an earlier plan (the best or an alternative before it).
    nearest : int
        That plan: 0 the best, ``i`` the ``i``-th alternative.
    termination : Termination
        Its MIP's: ``OPTIMAL`` when no better plan of the pool meets the limits.
    """

    bundles: tuple[tuple[tuple[int, ...], ...], ...]
    objective: float
    units: frozenset[int]
    difference_from_best: float
    difference_from_nearest: float
    nearest: int
    termination: Termination


@dataclass(frozen=True)
class AlternativesResult:
    """What :func:`find_alternatives` found.

    Attributes
    ----------
    alternatives : tuple of Alternative
        In the order found (each within the limits against all before it).
    best_objective : float
        The best plan's objective, recomputed from its bundles.
    floor : float
        The least objective an alternative may have.
    stop : str
        :data:`DONE`, :data:`EXHAUSTED`, :data:`TIME_LIMIT` or :data:`FAILED`.
    n_columns : int
        Feasible bundles in the pools at the end.
    runtime_s : float
    message : str
        The backend's words when it failed.
    """

    alternatives: tuple[Alternative, ...]
    best_objective: float
    floor: float
    stop: str
    n_columns: int
    runtime_s: float
    message: str = ""


def difference_share(a: frozenset[int] | set[int], b: frozenset[int] | set[int]) -> float:
    """``|a Δ b| / |a ∪ b|``: the share of the units of either plan that only one holds.

    0 for two empty plans.
    """
    union = len(a | b)
    return len(a ^ b) / union if union else 0.0


def loss_floor(best_objective: float, max_loss: float) -> float:
    """The least objective within ``max_loss`` (a fraction) of ``best_objective``."""
    return best_objective - max_loss * abs(best_objective)


def find_alternatives(
    problems: Sequence[BundlingProblem],
    best: Sequence[Sequence[Sequence[int]]],
    k: int,
    backend: MipBackend,
    max_loss: float = 0.05,
    min_difference: float = 0.2,
    params: SolveParams | None = None,
) -> AlternativesResult:
    """Up to ``k`` plans near the best one, each different from every earlier plan.

    Parameters
    ----------
    problems : sequence of BundlingProblem
        The independent problems (components) of one run.
    best : sequence of bundles per problem
        The best plan: for each problem, its bundles as unit indices of that problem.
    k : int
        How many alternatives to look for (>= 0).
    backend : MipBackend
        Solves the set-packing MIPs.
    max_loss : float
        Largest loss of objective, a fraction of the best plan's (>= 0): 0.05 is 5%.
    min_difference : float
        Least share of units (in ``(0, 1]``) by which each alternative differs from
        every earlier plan (module docstring).
    params : SolveParams, optional
        ``time_limit`` bounds the whole search (a ceiling); ``rel_gap``, ``threads``
        and ``seed`` go to the MIPs and the growth.

    Returns
    -------
    AlternativesResult

    Raises
    ------
    ValueError
        For a limit out of range, or ``best`` not matching ``problems``.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if not (max_loss >= 0 and math.isfinite(max_loss)):
        raise ValueError(f"max_loss must be a fraction >= 0, got {max_loss}")
    if not (0 < min_difference <= 1):
        raise ValueError(f"min_difference must be in (0, 1], got {min_difference}")
    if len(best) != len(problems):
        raise ValueError(f"best has {len(best)} components, problems {len(problems)}")
    params = params or SolveParams()
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit
    search = _Search(problems, best, min_difference, params)
    floor = loss_floor(search.best_objective, max_loss)

    def done(stop: str, found: list[Alternative], message: str = "") -> AlternativesResult:
        return AlternativesResult(
            tuple(found),
            search.best_objective,
            floor,
            stop,
            search.n_columns,
            time.perf_counter() - t0,
            message,
        )

    found: list[Alternative] = []
    if k == 0:
        return done(DONE, found)
    search.first_pool(t0 + POOL_SHARE * params.time_limit)
    retries = 0
    while len(found) < k:
        if not search.n_columns:  # no feasible bundle at all: the empty plan is the only one
            return done(EXHAUSTED, found)
        now = time.perf_counter()
        if now >= deadline:
            return done(TIME_LIMIT, found)
        slot = (deadline - now) / (k - len(found))
        search.price(floor, now + PRICE_SHARE * slot)
        left = min(deadline, now + slot) - time.perf_counter()
        if left <= 0.05:
            return done(TIME_LIMIT, found)
        # the floor is not a row of the MIP: the best plan of the pools that differs
        # enough is found, then held against it (HiGHS proves "nothing is left above the
        # floor" several times faster this way than as an infeasible model)
        res = backend.solve_mip(
            search.model(floor, with_floor=False), replace(params, time_limit=left)
        )
        tol = FLOOR_TOL * max(1.0, abs(floor))
        alt = search.measure(np.asarray(res.x) > 0.5) if res.has_solution else None
        if alt is not None and alt.difference_from_nearest < min_difference - CHECK_TOL:
            # the rows forbid this; a backend that returns it has failed
            return done(FAILED, found, "the MIP returned a plan outside the limits")
        if alt is not None and alt.objective >= floor - tol:
            found.append(replace(alt, termination=res.termination))
            search.earlier.append(alt.units)
            retries = 0
            continue
        none_left = res.termination in (Termination.INFEASIBLE, Termination.OPTIMAL) or (
            res.bound is not None and res.bound < floor - tol
        )
        if res.termination == Termination.ERROR:
            return done(FAILED, found, res.message)
        if not none_left:
            return done(TIME_LIMIT, found)
        # none in the pools: grow more at random values, and try again if that added any
        until = min(deadline, time.perf_counter() + PRICE_SHARE * slot)
        if retries < RETRIES and search.diversify(until):
            retries += 1
            continue
        return done(EXHAUSTED, found)
    return done(DONE, found)


class _Search:
    """The pools, the earlier plans and the model over them."""

    def __init__(self, problems, best, min_difference: float, params: SolveParams):
        self.problems = list(problems)
        self.d = float(min_difference)
        self.params = params
        self.rng = np.random.default_rng(params.seed)
        sizes = [p.n for p in self.problems]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.n = int(self.offsets[-1])
        self.nbrs = [neighbours(p.n, p.edges) for p in self.problems]
        self.graphs = [p.graph() for p in self.problems]
        self.pools = [ColumnPool(p) for p in self.problems]
        self.best = [[tuple(sorted(int(j) for j in b)) for b in comp] for comp in best]
        for pool, comp in zip(self.pools, self.best, strict=True):
            for b in comp:
                pool.add(b)
        self.best_objective = float(
            sum(
                p.bundle_objective(b)
                for p, comp in zip(self.problems, self.best, strict=True)
                for b in comp
            )
        )
        best_units = frozenset(
            int(self.offsets[c] + j) for c, comp in enumerate(self.best) for b in comp for j in b
        )
        self.earlier: list[frozenset[int]] = [best_units]
        must = [np.asarray(p.must_cover, bool) for p in self.problems]
        self.must = np.concatenate(must) if must else np.zeros(0, bool)

    @property
    def n_columns(self) -> int:
        return sum(len(p) for p in self.pools)

    # ------------------------------------------------------------ columns
    def _deadlines(self, until: float) -> list[float]:
        """Each component's share of the time to ``until``, by size (cumulative)."""
        now = time.perf_counter()
        span = max(0.0, until - now)
        total = max(1, self.n)
        ends = now + span * np.cumsum([p.n for p in self.problems]) / total
        return ends.tolist()

    def _grow(self, c: int, value: np.ndarray, until: float, bundle_value=None, tol=None) -> int:
        """Add the bundles grown in component ``c`` at ``value``; with ``tol``, only
        those whose value there (with ``bundle_value``) is above it."""
        p = self.problems[c]
        bv = p.bundle_value if bundle_value is None else float(bundle_value)
        at = replace(p, value=np.asarray(value, float), bundle_value=bv)
        added = 0
        for b in grow_bundles(at, self.nbrs[c], self.rng, until):
            if tol is not None and at.bundle_objective(b) <= tol:
                continue
            added += self.pools[c].add(b)
        return added

    def _neighbours_of_best(self, c: int) -> None:
        """The best plan's bundles with one unit dropped or one neighbour added."""
        p, g, pool = self.problems[c], self.graphs[c], self.pools[c]
        for b in self.best[c]:
            inside = set(b)
            near = {u for j in b for u in self.nbrs[c][j]} - inside
            variants = [[x for x in b if x != j] for j in b if len(b) > 1]
            variants += [[*b, u] for u in sorted(near)]
            for v in variants:
                if not p.bundle_violations(v, g):
                    pool.add(v)

    def first_pool(self, until: float) -> None:
        """The best plan's neighbourhood, then growth at own, noisy and steered values."""
        for c in range(len(self.problems)):
            self._neighbours_of_best(c)
        passes = 1 + NOISE_PASSES + len(STEER)
        start = time.perf_counter()
        for k in range(passes):
            ends = self._deadlines(start + (until - start) * (k + 1) / passes)
            for c, p in enumerate(self.problems):
                if time.perf_counter() >= until:
                    return
                value = np.asarray(p.value, float)
                scale = float(np.mean(np.abs(value))) or 1.0
                if 1 <= k <= NOISE_PASSES:
                    value = value + self.rng.normal(0.0, NOISE_SCALE * scale, p.n)
                elif k > NOISE_PASSES:
                    steer = STEER[k - NOISE_PASSES - 1] * scale
                    value = value - steer * self._in_plan(c, self.earlier[0])
                self._grow(c, value, ends[c])
        self.diversify(until)

    def diversify(self, until: float) -> int:
        """Growth passes at random values until ``until``, or until :data:`STALE_PASSES`
        passes in a row add next to nothing (:data:`STALE_SHARE`); returns the bundles added.

        Each pass draws one way to perturb every component's values: noise of a random
        size, or a random penalty on a random half of the earlier plans' units, or on
        the units of one random earlier plan (with a little noise), so that bundles
        around other units, or around the same units cut differently, join the pools.
        """
        total, stale = 0, 0
        while time.perf_counter() < until and stale < STALE_PASSES:
            kind = int(self.rng.integers(3))
            strength = float(self.rng.uniform(0.25, 3.0))
            if kind == 1:
                union = sorted(frozenset().union(*self.earlier))
                avoid = frozenset(u for u in union if self.rng.random() < 0.5)
            else:
                avoid = self.earlier[int(self.rng.integers(len(self.earlier)))]
            added = 0
            for c, p in enumerate(self.problems):
                if time.perf_counter() >= until:
                    break
                value = np.asarray(p.value, float)
                scale = float(np.mean(np.abs(value))) or 1.0
                if kind == 0:
                    value = value + self.rng.normal(0.0, strength * scale / 2, p.n)
                else:
                    value = value - strength * scale * self._in_plan(c, avoid)
                    value = value + self.rng.normal(0.0, 0.1 * scale, p.n)
                added += self._grow(c, value, until)
            total += added
            stale = 0 if added >= max(1.0, STALE_SHARE * self.n_columns) else stale + 1
        return total

    def _in_plan(self, c: int, units: frozenset[int]) -> np.ndarray:
        """1 for the units of component ``c`` that are in ``units``, else 0."""
        lo, n = int(self.offsets[c]), self.problems[c].n
        out = np.zeros(n)
        idx = [u - lo for u in units if lo <= u < lo + n]
        out[idx] = 1.0
        return out

    def price(self, floor: float, until: float) -> None:
        """Pricing rounds: bundles that pay at the LP's duals join the pools."""
        tol = 1e-6 * max(1.0, abs(self.best_objective))
        for _ in range(PRICE_ROUNDS):
            if time.perf_counter() >= until:
                return
            model = self.model(floor)
            duals = _lp_duals(model, self.n, until - time.perf_counter())
            ends = self._deadlines(until)
            added = 0
            for c in range(len(self.problems)):
                if time.perf_counter() >= until:
                    break
                value, bv = self._reduced(c, duals)
                if duals is None:  # the pool cannot meet the rows yet: steer toward them
                    added += self._grow(c, value, ends[c])
                else:
                    added += self._grow(c, value, ends[c], bundle_value=bv, tol=tol)
            if not added:
                return

    def _reduced(self, c: int, duals) -> tuple[np.ndarray, float]:
        """Unit values of component ``c`` at the LP's duals (module docstring).

        Without duals (an infeasible LP), values steered by the difference rows with
        the weight of a mean unit value.
        """
        p = self.problems[c]
        value = np.asarray(p.value, float)
        lo, hi = int(self.offsets[c]), int(self.offsets[c + 1])
        rows = [self._difference_weights(q)[lo:hi] for q in self.earlier]
        if duals is None:
            scale = float(np.mean(np.abs(value))) or 1.0
            return value + scale * np.sum(rows, axis=0), p.bundle_value
        unit_y, floor_y, diff_y = duals
        keep = 1.0 - floor_y  # the floor's dual (<= 0) makes value worth more
        reduced = keep * value - unit_y[lo:hi]
        for y, w in zip(diff_y, rows, strict=True):
            reduced = reduced - y * w
        return reduced, keep * p.bundle_value

    def _difference_weights(self, q: frozenset[int]) -> np.ndarray:
        """Per unit, its weight in the difference row of plan ``q``: ``-1`` in ``q``,
        ``1 - D`` outside (both 1 for an empty ``q``: "at least one unit")."""
        if not q:
            return np.ones(self.n)
        w = np.full(self.n, 1.0 - self.d)
        w[list(q)] = -1.0
        return w

    # ------------------------------------------------------------ the model
    def _columns(self) -> tuple[sp.csc_array, np.ndarray]:
        """Units (across components) by columns, and the columns' values."""
        blocks = [pool.incidence() for pool in self.pools]
        inc = sp.csc_array(sp.block_diag(blocks, format="csc")) if blocks else None
        if inc is None or inc.shape[0] != self.n:  # components without any unit
            inc = sp.csc_array((self.n, self.n_columns))
        values = np.concatenate([np.asarray(p.values, float) for p in self.pools] or [[]])
        return inc, values

    def model(self, floor: float, with_floor: bool = True) -> MipModel:
        """The set-packing MIP over the pools with the floor (``with_floor``) and the
        difference rows, in this order after the units' rows."""
        inc, values = self._columns()
        m = len(values)
        rows = [inc.tocsr()]
        lo = [np.where(self.must, 1.0, -np.inf)]
        hi = [np.ones(self.n)]
        if with_floor:  # ties with it are allowed (a loss of exactly max_loss)
            rows.append(sp.csr_array(values.reshape(1, -1)))
            lo.append([floor])
            hi.append([np.inf])
        for q in self.earlier:
            coef = inc.T @ self._difference_weights(q)
            # (1 - D)|b| - (2 - D)|b ∩ Q| is 0 for some bundles: not 1e-16
            coef[np.abs(coef) < COEF_ZERO] = 0.0
            rows.append(sp.csr_array(coef.reshape(1, -1)))
            bound = 1.0 if not q else -(1.0 - self.d) * len(q)
            lo.append([bound - TIE_SLACK * (1 + len(q))])
            hi.append([np.inf])
        return MipModel(
            obj=values,
            lb=np.zeros(m),
            ub=np.ones(m),
            integer=np.ones(m, dtype=bool),
            A=sp.vstack(rows, format="csr"),
            row_lo=np.concatenate([np.asarray(x, float) for x in lo]),
            row_hi=np.concatenate([np.asarray(x, float) for x in hi]),
            maximize=True,
        )

    def measure(self, chosen: np.ndarray) -> Alternative:
        """The plan of the chosen columns, measured against the earlier plans."""
        bundles, objective, k = [], 0.0, 0
        for pool in self.pools:
            mine = [pool.bundles[j] for j in np.flatnonzero(chosen[k : k + len(pool)])]
            bundles.append(tuple(sorted(mine)))
            objective += float(sum(pool.values[pool.index[b]] for b in mine))
            k += len(pool)
        units = frozenset(
            int(self.offsets[c] + j) for c, comp in enumerate(bundles) for b in comp for j in b
        )
        shares = [difference_share(units, q) for q in self.earlier]
        nearest = int(np.argmin(shares))
        return Alternative(
            tuple(bundles),
            objective,
            units,
            shares[0],
            shares[nearest],
            nearest,
            Termination.FEASIBLE,
        )


def _lp_duals(model: MipModel, n_units: int, time_limit: float):
    """The LP relaxation's duals as ``(unit rows, floor row, difference rows)``, each the
    amount a unit of the row's activity costs (subtracted from a column's value); None
    when the LP is infeasible or unsolved.

    The rows are those of :meth:`_Search.model`: ``n_units`` unit rows (``<= 1``, or
    ``== 1`` when locked in), then the floor and the difference rows (``>=``). In the
    minimization scipy solves, a row's marginal is the change of its optimum per unit
    of the row's bound: a ``<=`` row's price is minus its marginal, a ``>=`` row
    (passed as ``-a x <= -lo``) costs its marginal (``<= 0``: it pays).
    """
    A = model.A
    eq = np.isfinite(model.row_lo) & (model.row_lo == model.row_hi)
    ub = np.isfinite(model.row_hi) & ~eq
    lb = np.isfinite(model.row_lo) & ~eq
    if model.num_vars == 0:
        return None
    A_ub = sp.vstack([A[ub], -A[lb]], format="csr") if (ub.any() or lb.any()) else None
    b_ub = np.concatenate([model.row_hi[ub], -model.row_lo[lb]])
    res = linprog(
        -model.obj,
        A_ub=A_ub,
        b_ub=b_ub if A_ub is not None else None,
        A_eq=A[eq] if eq.any() else None,
        b_eq=model.row_lo[eq] if eq.any() else None,
        bounds=(0, 1),
        method="highs",
        options={"time_limit": max(time_limit, 0.05)},
    )
    if res.status != 0:
        return None
    y = np.zeros(A.shape[0])
    marg_ub = np.asarray(res.ineqlin.marginals, float)
    y[ub] -= marg_ub[: int(ub.sum())]
    y[lb] += marg_ub[int(ub.sum()) :]
    if eq.any():
        y[eq] -= np.asarray(res.eqlin.marginals, float)
    return y[:n_units], float(y[n_units]), y[n_units + 1 :]
