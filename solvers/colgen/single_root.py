r"""The best connected bundle of one root at given prices, by branch-and-cut on one HiGHS model.

The model (one binary :math:`x_i` per kept candidate, :math:`x_r = 1`):

.. math::

    \max\ b + \sum_i w_i x_i \quad\text{s.t.}\quad \sum_i w_i x_i \ge f - b,\
    \text{area, size and cost rows},\
    x_j \le \sum_{k \in S} x_k \ \text{for every } r\text{-}j \text{ vertex separator } S.

Every row holds for every connected feasible bundle holding ``r`` whose reduced value
is at least the floor :math:`f` (a separator of ``r`` and ``j`` meets every path
between them, so a connected bundle holding both holds a unit of it), so every LP or
MIP dual bound of the model bounds the best such bundle, and an infeasible model
proves that none reaches the floor.

The model starts with the ring separators of every unit (:func:`_ring_separators`),
and more rows are found in two ways, all on the same ``highspy.Highs`` object, which
:class:`SingleRootSolver` keeps from one price to the next, so that the dual simplex
restarts from the last basis and every row found so far:

1. LP rounds: for a fractional solution, the minimum-weight ``r``-``j`` vertex
   separator with weights :math:`x_k` (a maximum flow after node splitting) is a
   violated row when it weighs less than :math:`x_j`. This closes most of the gap
   between the knapsack relaxation and the connected optimum before any branching;
   the integer-only loop this replaces often stayed open after 10 s on 100-unit
   candidate sets.
2. MIP rounds: an integer solution with a piece cut off from the root gets the
   rows "a unit of the piece needs a unit of the piece's border", and the MIP is
   solved again with them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, maximum_flow, shortest_path

from solvers.heuristic.common import reach

# integer scale of the max-flow capacities (scipy's maximum_flow needs integers)
_FLOW_SCALE = 1_000_000
# a separator row must be violated by at least this much to be added
_VIOLATION = 1e-3
# the LP rounds stop when the bound moved less than this (relative) in STALL_ROUNDS rounds
_STALL = 1e-5
_STALL_ROUNDS = 4
# share of the time limit the LP rounds may use
LP_SHARE = 0.5


@dataclass(frozen=True)
class SingleRootAnswer:
    """What :meth:`SingleRootSolver.solve` proved.

    Attributes
    ----------
    bound : float
        Valid upper bound on the best reduced value of a connected feasible bundle
        whose value reaches the floor (``-inf`` when the model is proven infeasible).
    chosen : ndarray of int or None
        Local indices of the best connected solution found.
    value : float or None
        Its reduced value (with the offset).
    proven : bool
        True when ``bound`` is ``value`` (or the model is infeasible).
    """

    bound: float
    chosen: np.ndarray | None
    value: float | None
    proven: bool


class SingleRootSolver:
    """One root's model, kept across price changes so that its separator rows carry over.

    Only the objective, the floor row and which candidates may join change with the
    prices; the knapsack rows, and every separator row (each holds for every connected
    bundle of the root, whatever the prices), stay. A later solve therefore starts from
    the rows and the basis of the ones before: on a 166-candidate root of
    generated-2000 the first solve took 136 LP rounds and about 9,000 rows.

    Parameters
    ----------
    local : list of list of int
        Neighbours of each candidate among the candidates (local indices ``0..m-1``).
    root : int
        Local index of the root.
    rows : list of (ndarray, float, float)
        Dense coefficient rows with their lower and upper limits (the area, size and
        cost rows, which do not depend on the prices).
    """

    def __init__(self, local: list, root: int, rows: list):
        import highspy  # loads libhighs: only when an exact bound is asked for

        m = len(local)
        self.m, self.root, self.local = m, root, local
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", 0)
        lb = np.zeros(m)
        lb[root] = 1.0
        h.addVars(m, lb, np.ones(m))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        # row 0 is the floor row: the reduced values, which change with the prices
        h.addRow(-np.inf, np.inf, m, np.arange(m, dtype=np.int32), np.ones(m))
        _add_dense(h, rows)
        _add_cuts(h, _ring_separators(local, root))
        self.h = h
        self.status = highspy.HighsModelStatus
        self.net = _SeparationNetwork(local, root)
        self.integer = False

    def solve(
        self, w: np.ndarray, offset: float, floor: float, allowed: np.ndarray, time_limit: float
    ) -> SingleRootAnswer:
        """LP separator rounds, then MIP rounds, at new values (module docstring).

        Parameters
        ----------
        w : ndarray of shape (m,)
            Reduced value of each candidate.
        offset : float
            The bundle value :math:`b`, added to every objective.
        floor : float
            Only bundles whose reduced value (with the offset) reaches it are searched.
        allowed : ndarray of bool, shape (m,)
            The candidates that may join (the root always may).
        time_limit : float
            Seconds for all rounds together.

        Returns
        -------
        SingleRootAnswer
        """
        t0 = time.perf_counter()
        h, m, root = self.h, self.m, self.root
        cols = np.arange(m, dtype=np.int32)
        w = np.asarray(w, float)
        h.changeColsCost(m, cols, w)
        for i in range(m):
            h.changeCoeff(0, i, float(w[i]))
        h.changeRowBounds(0, floor - offset, np.inf)
        lb = np.zeros(m)
        lb[root] = 1.0
        ub = np.asarray(allowed, float)
        ub[root] = 1.0
        h.changeColsBounds(m, cols, lb, ub)
        if self.integer:
            h.changeColsIntegrality(m, cols, np.zeros(m, dtype=np.uint8))
            self.integer = False
        bound = math.inf
        status = self.status
        history: list[float] = []
        # LP rounds
        while True:
            left = LP_SHARE * time_limit - (time.perf_counter() - t0)
            if left <= 0.005:
                break
            h.setOptionValue("time_limit", float(left))
            _run(h)
            ms = h.getModelStatus()
            if ms == status.kInfeasible:
                return SingleRootAnswer(-math.inf, None, None, True)
            if ms != status.kOptimal:
                break
            value = offset + float(h.getInfo().objective_function_value)
            bound = min(bound, value)
            history.append(value)
            x = np.asarray(h.getSolution().col_value)
            if len(history) > _STALL_ROUNDS and history[-1 - _STALL_ROUNDS] - value <= _STALL * max(
                1.0, abs(value)
            ):
                break
            cuts = self.net.separate(x)
            if not cuts:
                if _integral(x) and _connected(self.local, root, x):
                    chosen = np.flatnonzero(x > 0.5)
                    val = offset + float(w[chosen].sum())
                    return SingleRootAnswer(val, chosen, val, True)
                break
            _add_cuts(h, cuts)
        # MIP rounds
        h.changeColsIntegrality(m, cols, np.ones(m, dtype=np.uint8))
        self.integer = True
        while True:
            left = time_limit - (time.perf_counter() - t0)
            if left <= 0.01:
                break
            h.setOptionValue("time_limit", float(left))
            _run(h)
            ms = h.getModelStatus()
            info = h.getInfo()
            if ms == status.kInfeasible:
                return SingleRootAnswer(-math.inf, None, None, True)
            dual = float(info.mip_dual_bound)
            if math.isfinite(dual):
                bound = min(bound, offset + dual)
            if info.primal_solution_status != 2:
                break
            x = np.asarray(h.getSolution().col_value)
            pieces = _cut_off_pieces(self.local, root, x)
            if not pieces:
                chosen = np.flatnonzero(x > 0.5)
                val = offset + float(w[chosen].sum())
                if ms == status.kOptimal:
                    bound = min(bound, val)
                bound = max(bound, val)
                return SingleRootAnswer(bound, chosen, val, ms == status.kOptimal)
            cuts = []
            for piece in pieces:
                border = sorted({k for i in piece for k in self.local[i] if k not in piece})
                cuts.extend((i, border) for i in piece)
            _add_cuts(h, cuts)
        return SingleRootAnswer(bound, None, None, False)


def _ring_separators(local: list, root: int) -> list[tuple[int, list[int]]]:
    """The rings around every unit: separator rows known before any LP.

    The units at ``d`` hops from ``j`` separate ``j`` from the root whenever
    ``1 <= d < hops(j, root)``: a path changes its distance from ``j`` by at most one
    per step, so every path from ``j`` to the root meets each such ring. Ring 1 says
    that a member needs a member neighbour. With every ring from the start, a
    166-candidate root of generated-2000 needed 23 LP rounds instead of 136 (0.5 s
    instead of 5.7 s); the rows say early that a distant unit pays for a unit at every
    distance on its way.
    """
    m = len(local)
    src = [i for i in range(m) for _ in local[i]]
    dst = [k for i in range(m) for k in local[i]]
    graph = sp.csr_array((np.ones(len(src)), (src, dst)), shape=(m, m))
    hops = shortest_path(graph, unweighted=True)
    cuts: list[tuple[int, list[int]]] = []
    for j in range(m):
        far = hops[j, root]
        if j == root:
            continue
        if not np.isfinite(far):
            cuts.append((j, []))  # nothing joins j to the root
            continue
        row = hops[j]
        for d in range(1, int(far)):
            cuts.append((j, np.flatnonzero(row == d).tolist()))
    return cuts


def _run(h) -> None:
    """``h.run()``, again after restarting HiGHS' thread pool if the pool refused it."""
    import highspy  # loads libhighs: only when an exact bound is asked for

    if h.run() == highspy.HighsStatus.kError and h.getModelStatus() == (
        highspy.HighsModelStatus.kNotset
    ):
        highspy.Highs.resetGlobalScheduler(True)
        h.run()


def _add_dense(h, rows) -> None:
    if not rows:
        return
    A = sp.csr_array(np.vstack([r[0] for r in rows]))
    A.eliminate_zeros()
    A.sort_indices()
    h.addRows(
        A.shape[0],
        np.array([r[1] for r in rows], float),
        np.array([r[2] for r in rows], float),
        int(A.nnz),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(np.float64),
    )


def _add_cuts(h, cuts) -> None:
    """Rows :math:`x_i - \\sum_{k \\in S} x_k \\le 0` for ``(i, S)`` pairs."""
    if not cuts:
        return
    starts, idx, val = [], [], []
    for i, sep in cuts:
        starts.append(len(idx))
        cols = [int(i), *sorted(int(k) for k in sep if k != i)]
        idx.extend(cols)
        val.extend([1.0] + [-1.0] * (len(cols) - 1))
    n = len(cuts)
    h.addRows(
        n,
        np.full(n, -np.inf),
        np.zeros(n),
        len(idx),
        np.array(starts, dtype=np.int32),
        np.array(idx, dtype=np.int32),
        np.array(val, dtype=np.float64),
    )


def _integral(x: np.ndarray) -> bool:
    return bool(np.all(np.minimum(x, 1.0 - x) < 1e-7))


def _connected(local, root: int, x: np.ndarray) -> bool:
    return not _cut_off_pieces(local, root, x)


def _cut_off_pieces(local, root: int, x: np.ndarray) -> list[set[int]]:
    """The connected pieces of an integer solution that do not hold the root."""
    on = set(np.flatnonzero(x > 0.5).tolist())
    rest = on - reach(local, root, on)
    pieces = []
    while rest:
        piece = reach(local, rest.pop(), on)
        rest -= piece
        pieces.append(piece)
    return pieces


class _SeparationNetwork:
    """The node-split graph of the candidates, for minimum ``r``-``j`` vertex separators.

    Node ``i`` is split into ``i`` (in) and ``m + i`` (out), joined by an arc of
    capacity :math:`x_i`; every edge becomes two uncapacitated arcs out-to-in. A
    minimum ``r``-``j`` cut then only cuts node arcs: a vertex separator.
    """

    def __init__(self, local, root: int):
        m = len(local)
        self.m, self.root, self.local = m, root, local
        src = list(range(m))
        dst = [m + i for i in range(m)]
        for i in range(m):
            for k in local[i]:
                src.append(m + i)
                dst.append(k)
        self.src = np.array(src, dtype=np.int32)
        self.dst = np.array(dst, dtype=np.int32)
        near = set(local[root]) | {root}
        self.far = np.array([i for i in range(m) if i not in near], dtype=int)

    def separate(self, x: np.ndarray) -> list[tuple[int, list[int]]]:
        """Separator rows violated by ``x``: ``(j, S)`` with :math:`x_j > x(S)`."""
        m, r = self.m, self.root
        if not len(self.far):
            return []
        todo = self.far[np.argsort(-x[self.far], kind="stable")]
        todo = todo[x[todo] >= _VIOLATION]
        if not len(todo):
            return []
        big = 10 * _FLOW_SCALE
        node_cap = np.round(np.clip(x, 0.0, 1.0) * _FLOW_SCALE).astype(np.int64)
        node_cap[r] = big
        cap = np.concatenate([node_cap, np.full(len(self.src) - m, big)]).astype(np.int32)
        net = sp.csr_array((cap, (self.src, self.dst)), shape=(2 * m, 2 * m))
        net.sum_duplicates()
        cuts: list[tuple[int, list[int]]] = []
        covered = np.zeros(m, dtype=bool)
        for j in todo:
            if covered[j]:
                continue
            res = maximum_flow(net, m + r, int(j))
            if res.flow_value >= (x[j] - _VIOLATION) * _FLOW_SCALE:
                continue
            resid = sp.csr_array(net - res.flow)
            resid.data = (resid.data > 0).astype(np.int8)
            resid.eliminate_zeros()
            # the minimum cut nearest the root, and the one nearest j ("back cut"):
            # saturated node arcs from the side the root reaches / that reaches j
            seen = np.zeros(2 * m, dtype=bool)
            seen[breadth_first_order(resid, m + r, return_predecessors=False)] = True
            back = np.zeros(2 * m, dtype=bool)
            back[breadth_first_order(resid.T.tocsr(), int(j), return_predecessors=False)] = True
            for sep, beyond in (
                (np.flatnonzero(seen[:m] & ~seen[m:]), ~seen[:m]),
                (np.flatnonzero(~back[:m] & back[m:]), back[:m]),
            ):
                weight = float(x[sep].sum())
                inside = np.zeros(m, dtype=bool)
                inside[sep] = True
                # every unit beyond the cut is separated from the root by the same set
                for u in np.flatnonzero(beyond & ~inside & (x >= weight + _VIOLATION)):
                    if u != r:
                        covered[u] = True
                        cuts.append((int(u), sep.tolist()))
        return cuts
