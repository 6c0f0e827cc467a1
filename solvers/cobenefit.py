r"""A floor on a plan's co-benefit: the best plan of the pooled MIP whose co-benefit is
at least ``X``.

Each unit ``j`` has a co-benefit :math:`v_j \ge 0` (biodiversity by default); a plan's
co-benefit is the sum over the units in its bundles. With :math:`c_j = 1` when unit ``j``
is in a chosen bundle, the floor is the linear row :math:`\sum_j v_j c_j \ge X`, in
which a column (bundle) ``b`` has the coefficient :math:`\sum_{j \in b} v_j`.

Method: the pools of :mod:`solvers.alternatives` (the best plan's bundles and their
neighbours, bundles grown at the problem's own, noisy and steered values), plus growth
passes at values that favour co-benefit (:data:`WEIGHTS`), then one set-packing MIP
over the union of the pools with the floor row, maximizing the objective. No
difference rows: the plan may share any units with the best one.

Adding a row cannot raise the optimum, so the bound of the plan without the floor
bounds the plan found too. When the MIP finds no plan, that is proved only for the
pool's bundles (:data:`EXHAUSTED`), unless the floor is above the co-benefit of all
units together (:data:`UNREACHABLE`: no plan at all can meet it).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from solvers.alternatives import POOL_SHARE, _Search
from solvers.backend import MipBackend
from solvers.base import SolveParams, Termination
from solvers.mip.model import MipModel
from solvers.problem import BundlingProblem

FOUND = "found"  # a plan meeting the floor
UNREACHABLE = "unreachable"  # the floor is above the co-benefit of all units: proved
EXHAUSTED = "exhausted"  # no plan made of the pool's bundles meets the floor
TIME_LIMIT = "time_limit"  # the time ran out first
FAILED = "failed"  # the MIP backend failed

# growth passes at value + w * co-benefit (both scaled to a mean unit value of 1)
WEIGHTS = (0.5, 1.0, 2.0, 4.0, 8.0)
# the floor's row tolerance (relative), the MIP's
FLOOR_TOL = 1e-6


@dataclass(frozen=True)
class FloorResult:
    """What :func:`find_with_floor` found.

    Attributes
    ----------
    bundles : tuple or None
        Per component, its bundles (sorted tuples of the component's unit indices);
        None when no plan meeting the floor was found.
    objective : float or None
    cobenefit : float or None
        The plan's co-benefit (sum over its units).
    floor : float
    stop : str
        :data:`FOUND`, :data:`UNREACHABLE`, :data:`EXHAUSTED`, :data:`TIME_LIMIT`, :data:`FAILED`.
    termination : Termination
        The MIP's (``OPTIMAL``: no better plan of the pool meets the floor).
    n_columns : int
    max_cobenefit : float
        The co-benefit of all units together (an upper bound on any plan's).
    runtime_s : float
    message : str
    """

    bundles: tuple[tuple[tuple[int, ...], ...], ...] | None
    objective: float | None
    cobenefit: float | None
    floor: float
    stop: str
    termination: Termination
    n_columns: int
    max_cobenefit: float
    runtime_s: float
    message: str = ""


def plan_cobenefit(bundles, cobenefit: Sequence[np.ndarray]) -> float:
    """The co-benefit of a plan given per component (bundles of unit indices)."""
    return float(
        sum(
            float(np.sum(np.asarray(v, float)[list(b)]))
            for comp, v in zip(bundles, cobenefit, strict=True)
            for b in comp
        )
    )


def find_with_floor(
    problems: Sequence[BundlingProblem],
    best: Sequence[Sequence[Sequence[int]]],
    cobenefit: Sequence[np.ndarray],
    floor: float,
    backend: MipBackend,
    params: SolveParams | None = None,
) -> FloorResult:
    """The best plan of the pooled MIP with co-benefit at least ``floor``.

    Parameters
    ----------
    problems : sequence of BundlingProblem
        The independent problems (components) of one run.
    best : sequence of bundles per problem
        The best plan without the floor (its bundles seed the pools).
    cobenefit : sequence of arrays
        Per problem, each unit's co-benefit (>= 0).
    floor : float
        The least co-benefit of the plan (>= 0).
    backend : MipBackend
    params : SolveParams, optional
        ``time_limit`` bounds the whole search.

    Raises
    ------
    ValueError
        For a negative or non-finite floor or co-benefit, or shapes that do not match.
    """
    if not (np.isfinite(floor) and floor >= 0):
        raise ValueError(f"floor must be a number >= 0, got {floor}")
    if len(cobenefit) != len(problems) or len(best) != len(problems):
        raise ValueError("best and cobenefit must have one entry per problem")
    cob = [np.asarray(v, float) for v in cobenefit]
    for p, v in zip(problems, cob, strict=True):
        if v.shape != (p.n,) or not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError("each co-benefit must be finite and >= 0, one per unit")
    params = params or SolveParams()
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit
    total = float(sum(float(v.sum()) for v in cob))
    tol = FLOOR_TOL * max(1.0, abs(floor))

    def done(stop, bundles=None, objective=None, value=None, term=Termination.NO_SOLUTION, msg=""):
        return FloorResult(
            bundles,
            objective,
            value,
            floor,
            stop,
            term,
            search.n_columns if search is not None else 0,
            total,
            time.perf_counter() - t0,
            msg,
        )

    search = None
    if floor > total + tol:
        return done(UNREACHABLE)
    search = _pooled(problems, best, cob, params, t0)
    left = deadline - time.perf_counter()
    if left <= 0.05:
        return done(TIME_LIMIT)
    res = backend.solve_mip(_model(search, cob, floor), replace(params, time_limit=left))
    if res.termination == Termination.ERROR:
        return done(FAILED, msg=res.message)
    if not res.has_solution:
        proved = res.termination in (Termination.INFEASIBLE, Termination.OPTIMAL)
        return done(EXHAUSTED if proved else TIME_LIMIT, term=res.termination)
    bundles, objective = _chosen(search, np.asarray(res.x) > 0.5)
    value = plan_cobenefit(bundles, cob)
    if value < floor - tol:
        return done(FAILED, msg="the MIP returned a plan below the co-benefit floor")
    return done(FOUND, bundles, objective, value, res.termination)


def _pooled(problems, best, cob: list[np.ndarray], params: SolveParams, t0: float) -> _Search:
    """The pools of the alternatives' search, grown toward co-benefit too, no difference rows."""
    search = _Search(problems, best, 1.0, params)
    search.first_pool(t0 + POOL_SHARE * params.time_limit)
    search.earlier = []  # no difference rows: a plan may share any units with the best
    _grow_toward(search, cob, t0 + (1 + POOL_SHARE) / 2 * params.time_limit)
    return search


@dataclass(frozen=True)
class FrontPoint:
    """One plan of a Pareto front: the best plan of the pool with co-benefit >= ``floor``."""

    floor: float
    bundles: tuple[tuple[tuple[int, ...], ...], ...]
    objective: float
    cobenefit: float
    termination: Termination


@dataclass(frozen=True)
class FrontResult:
    """What :func:`pareto_front` found: its points by rising co-benefit (none dominated),
    how many plans found were dropped as dominated or repeated, the largest co-benefit
    the pool reaches, and the floors tried."""

    points: tuple[FrontPoint, ...]
    dropped: int
    max_cobenefit: float
    floors: tuple[float, ...]
    stop: str
    n_columns: int
    runtime_s: float


def dominated(a: FrontPoint, b: FrontPoint, tol: float = 1e-9) -> bool:
    """Whether ``b`` dominates ``a``: at least as good in both, better in one."""
    ge = b.objective >= a.objective - tol and b.cobenefit >= a.cobenefit - tol
    gt = b.objective > a.objective + tol or b.cobenefit > a.cobenefit + tol
    return ge and gt


def non_dominated(points: Sequence[FrontPoint]) -> list[FrontPoint]:
    """The points no other dominates, one per (objective, co-benefit), by rising co-benefit."""
    keep: list[FrontPoint] = []
    for p in points:
        if any(dominated(p, q) for q in points):
            continue
        if any(
            abs(p.objective - q.objective) <= 1e-9 and abs(p.cobenefit - q.cobenefit) <= 1e-9
            for q in keep
        ):
            continue
        keep.append(p)
    return sorted(keep, key=lambda p: (p.cobenefit, -p.objective))


def pareto_front(
    problems: Sequence[BundlingProblem],
    best: Sequence[Sequence[Sequence[int]]],
    cobenefit: Sequence[np.ndarray],
    n: int,
    backend: MipBackend,
    params: SolveParams | None = None,
) -> FrontResult:
    """Up to ``n`` plans trading objective against co-benefit (epsilon-constraint).

    The floors are spread evenly between the best plan's co-benefit and the largest
    co-benefit a plan of the pool reaches (a MIP maximizing co-benefit); each floor's
    plan is the best of the pool meeting it. Dominated and repeated plans are dropped
    (:attr:`FrontResult.dropped` counts them).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    cob = [np.asarray(v, float) for v in cobenefit]
    for p, v in zip(problems, cob, strict=True):
        if v.shape != (p.n,) or not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError("each co-benefit must be finite and >= 0, one per unit")
    params = params or SolveParams()
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit
    search = _pooled(problems, best, cob, params, t0)
    start = float(plan_cobenefit(search.best, cob))
    top_model = _model(search, cob, 0.0)
    top_model = replace(top_model, obj=np.asarray(top_model.A[[-1]].toarray()).ravel())
    slot = (deadline - time.perf_counter()) / (n + 1)
    res = backend.solve_mip(top_model, replace(params, time_limit=max(slot, 0.05)))
    top = start
    if res.has_solution:
        top = max(start, plan_cobenefit(_chosen(search, np.asarray(res.x) > 0.5)[0], cob))
    floors = tuple(np.linspace(start, top, n).tolist()) if n > 1 else (start,)
    found: list[FrontPoint] = []
    stop = FOUND
    for f in floors:
        left = deadline - time.perf_counter()
        if left <= 0.05:
            stop = TIME_LIMIT
            break
        res = backend.solve_mip(
            _model(search, cob, f), replace(params, time_limit=min(left, max(slot, 0.05)))
        )
        if res.termination == Termination.ERROR:
            stop = FAILED
            break
        if not res.has_solution:
            continue
        bundles, objective = _chosen(search, np.asarray(res.x) > 0.5)
        value = plan_cobenefit(bundles, cob)
        if value >= f - FLOOR_TOL * max(1.0, f):
            found.append(FrontPoint(f, bundles, objective, value, res.termination))
    points = non_dominated(found)
    return FrontResult(
        tuple(points),
        len(found) - len(points),
        top,
        floors,
        stop,
        search.n_columns,
        time.perf_counter() - t0,
    )


def _chosen(search: _Search, chosen: np.ndarray) -> tuple[tuple, float]:
    """The bundles of the chosen columns per component, and their objective."""
    bundles, objective, k = [], 0.0, 0
    for pool in search.pools:
        mine = [pool.bundles[j] for j in np.flatnonzero(chosen[k : k + len(pool)])]
        bundles.append(tuple(sorted(mine)))
        objective += float(sum(pool.values[pool.index[b]] for b in mine))
        k += len(pool)
    return tuple(bundles), objective


def _grow_toward(search: _Search, cob: list[np.ndarray], until: float) -> None:
    """Growth passes at the problem's values plus a growing weight on co-benefit."""
    for w in WEIGHTS:
        for c, p in enumerate(search.problems):
            if time.perf_counter() >= until:
                return
            value = np.asarray(p.value, float)
            scale = float(np.mean(np.abs(value))) or 1.0
            cscale = float(np.mean(cob[c])) or 1.0
            search._grow(c, value + w * scale * cob[c] / cscale, until)


def _model(search: _Search, cob: list[np.ndarray], floor: float) -> MipModel:
    """The set-packing MIP over the pools with the co-benefit floor as its last row."""
    base = search.model(-np.inf, with_floor=False)
    inc, _ = search._columns()
    coef = inc.T @ (np.concatenate(cob) if cob else np.zeros(0))
    return replace(
        base,
        A=sp.vstack([base.A, sp.csr_array(np.asarray(coef, float).reshape(1, -1))], format="csr"),
        row_lo=np.concatenate([base.row_lo, [floor - FLOOR_TOL * max(1.0, floor) / 10]]),
        row_hi=np.concatenate([base.row_hi, [np.inf]]),
    )
