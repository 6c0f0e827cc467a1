"""The master problem of column generation: a set packing over a pool of bundles.

Each column is one feasible bundle with its objective contribution; each row says a
unit is in at most one chosen bundle (exactly one for a ``must_cover`` unit). The LP
relaxation gives the unit prices (row duals) that drive pricing; the integer master
over the same pool gives plans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from solvers.backend import MipBackend
from solvers.base import SolveParams
from solvers.mip.model import MipModel
from solvers.problem import BundlingProblem


class ColumnPool:
    """Feasible bundles, each once, with their objective contributions.

    Parameters
    ----------
    problem : BundlingProblem
    """

    def __init__(self, problem: BundlingProblem):
        self.problem = problem
        self.index: dict[tuple[int, ...], int] = {}
        self.bundles: list[tuple[int, ...]] = []
        self.values: list[float] = []

    def __len__(self) -> int:
        return len(self.bundles)

    def add(self, bundle) -> bool:
        """Add a bundle (checked feasible by the caller); False when it is already there."""
        key = tuple(sorted(int(j) for j in bundle))
        if not key or key in self.index:
            return False
        self.index[key] = len(self.bundles)
        self.bundles.append(key)
        self.values.append(self.problem.bundle_objective(key))
        return True

    def incidence(self) -> sp.csc_array:
        """Units by columns, 1 where the column holds the unit."""
        n, m = self.problem.n, len(self.bundles)
        sizes = [len(b) for b in self.bundles]
        rows = np.fromiter((j for b in self.bundles for j in b), dtype=int, count=sum(sizes))
        cols = np.repeat(np.arange(m), sizes)
        return sp.csc_array((np.ones(len(rows)), (rows, cols)), shape=(n, m))


@dataclass(frozen=True)
class MasterLp:
    """The solved LP relaxation of the master.

    Attributes
    ----------
    value : float
        Its optimal value (an upper bound only on plans made from the pool).
    prices : ndarray of shape (n,)
        Dual value of each unit's row: what a unit is worth to the pool's best
        fractional packing (``>= 0``, any sign for a ``must_cover`` unit).
    x : ndarray
        Column values.
    """

    value: float
    prices: np.ndarray
    x: np.ndarray


class MasterLpError(Exception):
    """The master LP has no answer: it is infeasible or ran out of time (the message says which)."""


def solve_master_lp(pool: ColumnPool, time_limit: float) -> MasterLp:
    """Solve the master LP with HiGHS (scipy).

    Parameters
    ----------
    pool : ColumnPool
    time_limit : float
        Seconds.

    Returns
    -------
    MasterLp

    Raises
    ------
    MasterLpError
        With the reason as its message.
    """
    p = pool.problem
    A = pool.incidence().tocsr()
    must = np.asarray(p.must_cover, bool)
    free = ~must
    res = linprog(
        -np.asarray(pool.values, float),
        A_ub=A[free] if free.any() else None,
        b_ub=np.ones(int(free.sum())) if free.any() else None,
        A_eq=A[must] if must.any() else None,
        b_eq=np.ones(int(must.sum())) if must.any() else None,
        bounds=(0, None),
        method="highs",
        options={"time_limit": max(time_limit, 0.05)},
    )
    if res.status == 2:
        raise MasterLpError("the pool cannot cover every locked-in unit yet")
    if res.status != 0:
        raise MasterLpError(f"the master LP was not solved in the time left ({res.message})")
    prices = np.zeros(p.n)
    if free.any():
        prices[free] = -np.asarray(res.ineqlin.marginals, float)
    if must.any():
        prices[must] = -np.asarray(res.eqlin.marginals, float)
    # LP noise may leave tiny negative prices on packing rows; a negative price is
    # never better for the bound (a row at most 1 has a non-negative dual)
    prices[free] = np.maximum(prices[free], 0.0)
    return MasterLp(float(-res.fun), prices, np.asarray(res.x, float))


def solve_master_ip(
    pool: ColumnPool,
    backend: MipBackend,
    params: SolveParams,
    incumbent: list[tuple[int, ...]] | None = None,
) -> list[tuple[int, ...]] | None:
    """The best disjoint choice of pool columns, by a MIP backend within ``params``.

    Parameters
    ----------
    pool : ColumnPool
    backend : MipBackend
    params : SolveParams
    incumbent : list of bundles, optional
        A plan made of pool columns, passed as the warm start.

    Returns
    -------
    list of tuple of int or None
        The chosen bundles, or None when the backend found no solution.
    """
    p = pool.problem
    m = len(pool)
    if m == 0:
        return None
    must = np.asarray(p.must_cover, bool)
    model = MipModel(
        obj=np.asarray(pool.values, float),
        lb=np.zeros(m),
        ub=np.ones(m),
        integer=np.ones(m, dtype=bool),
        A=pool.incidence().tocsr(),
        row_lo=np.where(must, 1.0, -np.inf),
        row_hi=np.ones(p.n),
        maximize=True,
    )
    x0 = None
    if incumbent is not None and all(tuple(b) in pool.index for b in incumbent):
        x0 = np.zeros(m)
        x0[[pool.index[tuple(b)] for b in incumbent]] = 1.0
    res = backend.solve_mip(model, params, warm_start=x0)
    if not res.has_solution:
        return None
    return [pool.bundles[k] for k in np.flatnonzero(np.asarray(res.x) > 0.5)]
