r"""Exact bundling by a rooted-assignment MIP with contiguity cuts.

Variables: ``x[r, j]`` in {0, 1} for every root ``r`` and ``j`` in
``candidates[r]``; ``x[r, r] = 1`` opens a bundle rooted at ``r``.

.. math::

    \max \sum_r \Big(b\,x_{rr} + \sum_{j} v_j\, x_{rj}\Big)

subject to

* cover: :math:`\sum_r x_{rj} \le 1` (``= 1`` for must-cover units);
* link: :math:`x_{rj} \le x_{rr}`;
* minimum area: :math:`\sum_j a^{min}_j x_{rj} \ge A^{min}_r x_{rr}`;
* maximum area and unit count: :math:`\sum_j a_j x_{rj} \le A^{max} x_{rr}`,
  :math:`\sum_j x_{rj} \le K x_{rr}`;
* cost efficiency: :math:`\sum_j s_j x_{rj} + s_0 x_{rr} \le 0`;
* contiguity, by *a,b-separator* cuts (Validi, Buchanan & Lykhovyd 2022): for a set
  ``C`` of candidates of ``r`` not containing ``r``, and ``j`` in ``C``,
  :math:`x_{rj} \le \sum_{k \in \partial C} x_{rk}`, where :math:`\partial C` are
  the candidates of ``r`` adjacent to ``C`` but outside it. The cuts for single
  units (every member has a member neighbour) go in from the start; the rest
  are found in a solve-check-resolve loop, because HiGHS, CBC and CP-SAT have
  no lazy-constraint callbacks.

Before the MIP, three exact reductions shrink the model (see :func:`reduce_candidates`
and :meth:`RootedModel._build`): candidates that cannot share a feasible bundle with
a root are dropped, a bundle may only be rooted at its smallest-index valid root,
and the number of bundles is bounded. Then separator cuts are also separated from
fractional LP solutions by minimum vertex cuts (:func:`lp_cut_rounds`), so that the
MIP starts from a much tighter relaxation.

Every cut is valid for every connected bundle, so each round's dual bound is a
valid bound on the true optimum, and a round whose optimal solution is
connected is optimal for the full problem.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from collections.abc import Sequence

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from solvers.backend import MipBackend
from solvers.base import SolveParams, Termination, relative_gap
from solvers.mip.model import MipModel
from solvers.problem import BundlingProblem, BundlingResult, canonical_bundles
from solvers.registry import open_lp_relaxation

# Symmetry rows x[r, j] <= sum(x[r, k] for k in D) are only added when D is this small:
# long rows cost more LP time than the symmetry they remove.
SYMMETRY_MAX_TERMS = 8
# Fraction of the time limit the LP cut rounds may use before the MIP starts.
LP_TIME_SHARE = 0.5
# Integer scale for the max-flow capacities (scipy's maximum_flow needs integers).
_FLOW_SCALE = 1_000_000
# Above this many (cut, root) pairs a separator is transferred only to the bundle's members.
_TRANSFER_WORK = 500_000
# A cut must be violated by at least this much to be added.
_VIOLATION = 1e-3


def reduce_candidates(problem: BundlingProblem, graph: nx.Graph) -> dict[int, set[int]]:
    """For every root that can have a feasible bundle, the candidates that can join one.

    ``j`` is kept for root ``r`` unless no feasible bundle rooted at ``r`` contains
    ``j``, so the reduction is exact: every feasible bundle is still a subset of the
    reduced candidates of each of its valid roots. A unit is dropped when

    * it is not reachable from ``r`` inside the candidates within ``max_units - 1`` hops;
    * (cost check) even the cheapest path from ``r`` to it, counted with only its
      positive slacks, plus the most negative slacks of any ``max_units`` candidates,
      cannot make the bundle cost-efficient;

    and a root is dropped when even its best bundle by these counts fails the cost
    check or the minimum area (largest ``max_units`` conservative areas). The two
    steps repeat until nothing changes, since dropping units can cut off others.

    Parameters
    ----------
    problem : BundlingProblem
    graph : networkx.Graph
        ``problem.graph()``.

    Returns
    -------
    dict of int to set of int
        Reduced candidates of every root that is kept (each containing the root).
    """
    p = problem
    cands = p.candidates if p.candidates is not None else (np.arange(p.n),) * p.n
    k_max = p.max_units if p.max_units > 0 else p.n
    pos_slack = np.maximum(p.slack, 0.0)
    neg_slack = np.minimum(p.slack, 0.0)
    # the bundle test allows this much slack (see BundlingProblem.bundle_violations);
    # dropping only beyond it keeps every bundle the checker accepts
    cost_tol = 1e-6 * max(1.0, abs(p.bundle_slack))
    out: dict[int, set[int]] = {}
    for r, c in enumerate(cands):
        keep = set(map(int, c))
        if r not in keep:
            continue
        while True:
            reach = _hops(graph, r, keep, k_max - 1)
            idx = np.fromiter(reach, dtype=int)
            best_area = np.sort(p.area_min_ha[idx])[::-1][:k_max].sum()
            if best_area < p.min_area_ha[r] - 1e-6:
                reach = set()
                break
            if p.check_cost:
                best_neg = np.sort(neg_slack[idx])[:k_max].sum()
                dist = _node_weighted_dist(graph, r, reach, pos_slack)
                lim = cost_tol - p.bundle_slack - best_neg
                if dist[r] > lim:
                    reach = set()
                    break
                reach = {j for j in reach if dist.get(j, math.inf) <= lim}
            if reach == keep:
                break
            keep = reach
        if reach:
            out[r] = reach
    return out


def _hops(graph: nx.Graph, r: int, allowed: set[int], max_hops: int) -> set[int]:
    seen = {r}
    todo = deque([(r, 0)])
    while todo:
        u, d = todo.popleft()
        if d >= max_hops:
            continue
        for w in graph.neighbors(u):
            if w in allowed and w not in seen:
                seen.add(w)
                todo.append((w, d + 1))
    return seen


def _node_weighted_dist(graph, r, allowed, weight) -> dict[int, float]:
    # path cost counts every node on the path, both ends included
    dist = {r: float(weight[r])}
    heap = [(dist[r], r)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for w in graph.neighbors(u):
            if w in allowed:
                nd = d + float(weight[w])
                if nd < dist.get(w, math.inf):
                    dist[w] = nd
                    heapq.heappush(heap, (nd, w))
    return dist


class RootedModel:
    """The compact model of the module docstring, with helpers to read and cut it.

    Parameters
    ----------
    problem : BundlingProblem
    reduce : bool
        Apply the exact reductions (candidate pruning, symmetry breaking, bundle
        count bound). Without them the model is the plain one of the module docstring.
    """

    def __init__(self, problem: BundlingProblem, reduce: bool = True):
        self.problem = p = problem
        self.graph = p.graph()
        if reduce:
            self.valid = reduce_candidates(p, self.graph)
        else:
            cands = p.candidates if p.candidates is not None else (np.arange(p.n),) * p.n
            self.valid = {r: set(map(int, c)) for r, c in enumerate(cands) if len(c)}
        self.candidates = {r: set(c) for r, c in self.valid.items()}
        sym_rows = self._break_symmetry() if reduce else []
        roots, members = [], []
        for r in sorted(self.candidates):
            c = sorted(self.candidates[r])
            roots.append(np.full(len(c), r))
            members.append(np.asarray(c, dtype=int))
        self.root = np.concatenate(roots) if roots else np.empty(0, int)
        self.unit = np.concatenate(members) if members else np.empty(0, int)
        self.index = {
            (int(r), int(j)): k for k, (r, j) in enumerate(zip(self.root, self.unit, strict=True))
        }
        self.roots = np.unique(self.root)
        self.adj = [list(self.graph.neighbors(u)) for u in range(p.n)]
        groups: dict[frozenset, int] = {}
        self._group = {
            r: groups.setdefault(frozenset(v), len(groups)) for r, v in self.valid.items()
        }
        covered = set(map(int, self.unit))
        self.uncoverable = [j for j in np.flatnonzero(p.must_cover) if int(j) not in covered]
        self.model = self._build(sym_rows, count_bound=reduce)

    def _var(self, r: int, j: int) -> int:
        return self.index[(r, j)]

    def _break_symmetry(self) -> list[tuple[int, int, list[int]]]:
        """Root every bundle at its smallest-index valid root.

        Let ``r`` be the smallest-index valid root of a feasible bundle ``B`` and
        ``j < r`` a member that may be a root with ``min_area[j] <= min_area[r]``. ``B``
        meets ``min_area[j]``, so ``j`` is not a valid root only because ``B`` is not
        within ``candidates[j]``, nor then within the reduced ``valid[j]``: some member
        lies in ``D = valid[r] - valid[j]``. Hence ``x[r, j] <= sum(x[r, k], k in D)``
        keeps the representation rooted at ``r``, and with ``D`` empty ``x[r, j] = 0``.
        Drops the variables of empty ``D`` here and returns ``(r, j, D)`` for short ones.
        """
        p = self.problem
        rows = []
        for r in sorted(self.valid):
            for j in sorted(self.valid[r]):
                if j >= r or j not in self.valid or p.min_area_ha[j] > p.min_area_ha[r]:
                    continue
                d = self.valid[r] - self.valid[j]
                if not d:
                    self.candidates[r].discard(j)
                elif len(d) <= SYMMETRY_MAX_TERMS:
                    rows.append((r, j, sorted(d)))
        return rows

    def _build(self, sym_rows, count_bound: bool) -> MipModel:
        p = self.problem
        nv = len(self.root)
        is_root = self.root == self.unit
        obj = p.value[self.unit] + np.where(is_root, p.bundle_value, 0.0)
        rows: list[tuple[np.ndarray, np.ndarray, float, float]] = []

        def add(cols, coefs, lo, hi):
            rows.append((np.asarray(cols, int), np.asarray(coefs, float), lo, hi))

        by_unit: dict[int, list[int]] = {}
        for k, j in enumerate(self.unit):
            by_unit.setdefault(int(j), []).append(k)
        for j in range(p.n):
            ks = by_unit.get(j, [])
            if not ks:
                continue
            lo = 1.0 if p.must_cover[j] else -np.inf
            add(ks, np.ones(len(ks)), lo, 1.0)
        for r in map(int, self.roots):
            ks = np.array([self._var(r, j) for j in sorted(self.candidates[r])])
            js = self.unit[ks]
            y = self._var(r, r)
            others = ks[js != r]
            for k in others:  # link
                add([k, y], [1.0, -1.0], -np.inf, 0.0)
            add(
                ks,
                np.where(js == r, p.area_min_ha[js] - p.min_area_ha[r], p.area_min_ha[js]),
                0.0,
                np.inf,
            )
            if np.isfinite(p.max_area_ha) and p.area_ha[js].sum() > p.max_area_ha:
                add(
                    ks,
                    np.where(js == r, p.area_ha[js] - p.max_area_ha, p.area_ha[js]),
                    -np.inf,
                    0.0,
                )
            if p.max_units and len(js) > p.max_units:
                add(ks, np.where(js == r, 1.0 - p.max_units, 1.0), -np.inf, 0.0)
            if p.check_cost:
                add(ks, np.where(js == r, p.slack[js] + p.bundle_slack, p.slack[js]), -np.inf, 0.0)
            for j in js[js != r]:  # a member needs a member neighbour
                nb = [k for k in self.graph.neighbors(int(j)) if k in self.candidates[r]]
                add(
                    [self._var(r, int(j))] + [self._var(r, k) for k in nb],
                    [1.0] + [-1.0] * len(nb),
                    -np.inf,
                    0.0,
                )
        for r, j, d in sym_rows:
            if j not in self.candidates[r]:
                continue
            ds = [self._var(r, k) for k in d if k in self.candidates[r]]
            add([self._var(r, j), *ds], [1.0] + [-1.0] * len(ds), -np.inf, 0.0)
        if count_bound and len(self.roots):
            k = self._max_bundles()
            if k < len(self.roots):
                ys = [self._var(int(r), int(r)) for r in self.roots]
                add(ys, np.ones(len(ys)), -np.inf, float(k))
        A, lo, hi = _stack(rows, nv)
        return MipModel(
            obj=obj,
            lb=np.zeros(nv),
            ub=np.ones(nv),
            integer=np.ones(nv, dtype=bool),
            A=A,
            row_lo=lo,
            row_hi=hi,
            maximize=True,
        )

    def _max_bundles(self) -> int:
        """An upper bound on the number of disjoint feasible bundles.

        Each bundle needs at least the smallest root minimum of conservative area,
        and (cost check) negative slack of at least ``bundle_slack``; bundles are
        disjoint, so the totals over all units bound their number.
        """
        p = self.problem
        units = np.fromiter(set(map(int, self.unit)), dtype=int)
        k = len(self.roots)
        need = float(p.min_area_ha[self.roots].min())
        if need > 0:
            k = min(k, math.floor(p.area_min_ha[units].sum() / need + 1e-9))
        if p.check_cost and p.bundle_slack > 0:
            # a bundle passes with up to cost_tol of slack left (as in reduce_candidates)
            need = p.bundle_slack - 1e-6 * max(1.0, abs(p.bundle_slack))
            have = float(np.maximum(-p.slack[units], 0.0).sum())
            k = min(k, math.floor(have / need + 1e-9))
        return max(k, 0)

    def bundles(self, x: np.ndarray) -> list[tuple[int, list[int]]]:
        """``(root, members)`` of every open bundle in a solution."""
        chosen = x > 0.5
        out: dict[int, list[int]] = {}
        for k in np.flatnonzero(chosen):
            out.setdefault(int(self.root[k]), []).append(int(self.unit[k]))
        return [(r, sorted(m)) for r, m in sorted(out.items()) if r in m]

    def _cut(self, r: int, j: int, sep) -> tuple[np.ndarray, np.ndarray, float, float]:
        cols = [self._var(r, k) for k in sorted(sep)]
        return (
            np.array([self._var(r, j), *cols]),
            np.array([1.0] + [-1.0] * len(cols)),
            -np.inf,
            0.0,
        )

    def separate(self, x: np.ndarray):
        """Cuts violated by a solution: one per (root, unit) in a part cut off from the root.

        Each separator found is also tried for the bundle's other members as roots
        (see :meth:`transfer`).
        """
        rows = []
        found = []
        for r, members in self.bundles(x):
            sub = self.graph.subgraph(members)
            if nx.is_connected(sub):
                continue
            for part in nx.connected_components(sub):
                if r in part:
                    continue
                boundary = {
                    k
                    for j in part
                    for k in self.graph.neighbors(j)
                    if k in self.candidates[r] and k not in part
                }
                for j in sorted(part):
                    rows.append(self._cut(r, j, boundary))
                    found.append((r, j, boundary, members))
        return rows + self.transfer(found)

    def transfer(self, found) -> list:
        """The same separators for other roots of the same bundle, where they still separate.

        A set ``S`` that cuts ``j`` off from ``r`` inside ``candidates[r]`` is a valid
        separator for another root ``q`` when ``j`` is a candidate of ``q`` and the
        part of ``candidates[q] - S`` around ``j`` does not hold ``q``; its boundary
        within ``S`` gives the cut. Without this the LP or MIP just moves the same
        disconnected bundle to another root in the next round. Every root is tried
        while that is cheap enough (``_TRANSFER_WORK``), otherwise only the bundle's
        members (``to``), the roots it most easily moves to.

        Parameters
        ----------
        found : iterable of (r, j, S, to)
        """
        rows = []
        done = set()
        parts: dict = {}
        everywhere = len(found) * len(self.roots) <= _TRANSFER_WORK
        for r, j, sep, to in found:
            fsep = frozenset(sep)
            for q in map(int, self.roots) if everywhere else to:
                if q in (r, j) or q in sep or q not in self.candidates:
                    continue
                cq = self.candidates[q]
                if j not in cq or (q, j, fsep) in done:
                    continue
                done.add((q, j, fsep))
                # separate within the unbroken valid[q]: a path inside candidates[q]
                # is one inside valid[q], and roots often share valid sets, so the
                # part around j is computed once per set
                key = (self._group[q], j, fsep)
                if key not in parts:
                    vq = self.valid[q]
                    part = _component(self.adj, j, vq, sep)
                    parts[key] = (
                        part,
                        {k for u in part for k in self.adj[u] if k in vq and k not in part},
                    )
                part, boundary = parts[key]
                if q in part:
                    continue
                rows.append(self._cut(q, j, boundary & cq))
        return rows

    def separate_fractional(self, x: np.ndarray, eps: float = _VIOLATION):
        """Separator cuts violated by a fractional solution, by minimum vertex cuts.

        For each root ``r`` and member ``j`` not adjacent to ``r``, the smallest
        ``r``-``j`` vertex separator ``S`` inside ``candidates[r]``, with capacities
        ``x[r, k]``, gives a violated cut when its weight is below ``x[r, j]``. Node
        splitting turns the vertex cut into an arc cut for ``maximum_flow``.

        Returns
        -------
        list
            Rows for :meth:`MipModel.with_rows` (after :func:`_stack`), including
            the transfers to other roots.
        """
        rows, found = [], []
        for r in map(int, self.roots):
            if x[self._var(r, r)] < eps:
                continue
            cand = sorted(self.candidates[r])
            pos = {k: i for i, k in enumerate(cand)}
            xv = x[[self._var(r, k) for k in cand]]
            todo = [
                cand[i]
                for i in np.argsort(-xv)
                if xv[i] >= eps and cand[i] != r and not self.graph.has_edge(r, cand[i])
            ]
            if not todo:
                continue
            n = len(cand)
            src, dst, cap = [], [], []
            big = 10 * _FLOW_SCALE  # more than any node capacity: never in a minimum cut
            for i, k in enumerate(cand):
                src.append(i)
                dst.append(n + i)
                cap.append(big if k == r else round(xv[i] * _FLOW_SCALE))
                for w in self.graph.neighbors(k):
                    if w in pos:
                        src.append(n + i)
                        dst.append(pos[w])
                        cap.append(big)
            net = sp.csr_array(
                (np.array(cap, dtype=np.int32), (np.array(src), np.array(dst))),
                shape=(2 * n, 2 * n),
            )
            support = [cand[i] for i in np.flatnonzero(xv >= eps)]
            covered = set()
            for j in todo:
                if j in covered:
                    continue
                res = maximum_flow(net, n + pos[r], pos[j])
                if res.flow_value >= (xv[pos[j]] - eps) * _FLOW_SCALE:
                    continue
                resid = sp.csr_array(net - res.flow)
                resid.data = (resid.data > 0).astype(np.int8)
                resid.eliminate_zeros()
                reach = np.zeros(2 * n, dtype=bool)
                reach[breadth_first_order(resid, n + pos[r], return_predecessors=False)] = True
                sep = {cand[i] for i in range(n) if reach[i] and not reach[n + i]}
                weight = sum(xv[pos[k]] for k in sep)
                # every unit beyond the cut is separated from r by the same set
                for i in range(n):
                    u = cand[i]
                    if reach[i] or u in sep or u == r or xv[i] < weight + eps:
                        continue
                    covered.add(u)
                    rows.append(self._cut(r, u, sep))
                    found.append((r, u, sep, support))
        return rows + self.transfer(found)

    def repair(self, x: np.ndarray) -> list[list[int]] | None:
        """The feasible connected parts of a solution's bundles, as a plan.

        Parts that break a rule, or are worth nothing, are left out; ``None`` when
        that would leave a must-cover unit out.
        """
        p = self.problem
        plan = []
        for _, members in self.bundles(x):
            for part in nx.connected_components(self.graph.subgraph(members)):
                part = sorted(part)
                keep = not p.bundle_violations(part, self.graph) and (
                    p.bundle_objective(part) > 0 or p.must_cover[part].any()
                )
                if keep:
                    plan.append(part)
                elif p.must_cover[part].any():
                    return None
        return plan

    def encode(self, bundles: Sequence[Sequence[int]]) -> np.ndarray | None:
        """A solution vector for given bundles, each rooted at its smallest valid root."""
        x = np.zeros(len(self.root))
        for members in bundles:
            members = sorted(members)
            root = next(
                (
                    r
                    for r in members
                    if r in self.valid
                    and set(members) <= self.valid[r]
                    and self.problem.area_min_ha[members].sum()
                    >= self.problem.min_area_ha[r] - 1e-9
                ),
                None,
            )
            if root is None or any(j not in self.candidates[root] for j in members):
                return None
            for j in members:
                x[self._var(root, j)] = 1.0
        return x


def _component(adj, start: int, allowed: set[int], blocked) -> set[int]:
    seen = {start}
    todo = [start]
    while todo:
        u = todo.pop()
        for w in adj[u]:
            if w in allowed and w not in blocked and w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def _stack(rows, nv):
    if not rows:
        return sp.csr_array((0, nv)), np.empty(0), np.empty(0)
    cols = np.concatenate([r[0] for r in rows])
    data = np.concatenate([r[1] for r in rows])
    ridx = np.repeat(np.arange(len(rows)), [len(r[0]) for r in rows])
    A = sp.csr_array((data, (ridx, cols)), shape=(len(rows), nv))
    A.sum_duplicates()
    return A, np.array([r[2] for r in rows], float), np.array([r[3] for r in rows], float)


def lp_cut_rounds(
    rm: RootedModel, time_limit: float, threads: int = 0, max_rounds: int = 200
) -> tuple[list, float | None]:
    """Tighten the LP relaxation with separator cuts from fractional solutions.

    The LP is one :class:`~solvers.mip.model.LpRelaxation` across rounds, from
    :func:`solvers.registry.open_lp_relaxation` (HiGHS, the one backend with an
    incremental LP): new cuts are appended and the dual simplex restarts from the
    previous basis, which is far cheaper than passing the grown model again. Stops
    when no cut is violated, the bound stalls, or time runs out.

    Parameters
    ----------
    rm : RootedModel
    time_limit : float
        Seconds for all rounds together.
    threads : int
        As :attr:`SolveParams.threads`; matching the MIP's keeps HiGHS from resizing
        its process-wide thread pool between the LP and a HiGHS MIP.
    max_rounds : int

    Returns
    -------
    cuts : list
        Every cut added (rows for :func:`_stack`).
    bound : float or None
        The smallest optimal LP value: a valid upper bound on the optimum, since
        every row is valid for every feasible plan. ``None`` when the LP backend is missing
        or no LP was solved to optimality.
    """
    t0 = time.perf_counter()
    model = rm.model
    try:
        # the model maximizes (built with maximize=True), so the LP bound is an upper bound
        lp = open_lp_relaxation(model, threads)
    except (ImportError, OSError):
        return [], None
    cuts: list = []
    seen: set = set()
    bound = None
    history: list[float] = []
    for _ in range(max_rounds):
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0.05:
            break
        solved = lp.solve(left)
        if solved is None:
            break
        value, x = solved
        bound = value if bound is None else min(bound, value)
        history.append(value)
        # a bound that moved less than 0.01% in five rounds is not worth more LP time
        if len(history) > 5 and history[-6] - value <= 1e-4 * max(1.0, abs(value)):
            break
        new = []
        for row in rm.separate_fractional(x):
            key = tuple(row[0])
            if key not in seen:
                seen.add(key)
                new.append(row)
        if not new:
            break
        cuts.extend(new)
        C, lo, hi = _stack(new, model.num_vars)
        lp.add_rows(C, lo, hi)
    return cuts, bound


def solve_rooted(
    problem: BundlingProblem,
    backend: MipBackend,
    params: SolveParams,
    warm_start: Sequence[Sequence[int]] | None = None,
    max_rounds: int = 50,
) -> BundlingResult:
    """Solve a bundling problem exactly with a MIP backend and separator cuts.

    Parameters
    ----------
    problem : BundlingProblem
    backend : MipBackend
        A MIP backend (:class:`solvers.backend.MipBackend`), e.g. from
        :func:`solvers.registry.get_backend`.
    params : SolveParams
        ``time_limit`` covers all rounds together.
    warm_start : sequence of bundles, optional
        Feasible bundles (e.g. from the heuristic); used as the starting solution
        in every round (they satisfy every cut) and returned if no round finds better.
    max_rounds : int
        Limit on solve-check-resolve rounds.

    Returns
    -------
    BundlingResult
        ``OPTIMAL`` only when the last round was solved to optimality and its
        solution needed no further cut, or when the LP or a round's bound proves
        the best connected plan found optimal. Without must-cover units the empty
        plan is the fallback, so a run out of time still returns a plan.
    """
    t0 = time.perf_counter()
    name = getattr(backend, "NAME", backend.__name__.rsplit(".", 1)[-1])
    rm = RootedModel(problem)

    def done(term, obj, bound, bundles, message, rounds):
        gap = relative_gap(obj, bound)
        return BundlingResult(
            term,
            obj,
            bound,
            gap,
            time.perf_counter() - t0,
            bundles=canonical_bundles(bundles) if bundles is not None else (),
            solver=name,
            message=message,
            iterations=rounds,
        )

    if rm.uncoverable:
        j = int(rm.uncoverable[0])
        return done(
            Termination.INFEASIBLE,
            None,
            None,
            None,
            f"locked-in unit {problem.unit_ids[j]} fits in no feasible bundle",
            0,
        )
    if not len(rm.root):
        return done(Termination.OPTIMAL, 0.0, 0.0, [], "no feasible bundle exists", 0)
    model = rm.model
    x0 = rm.encode(warm_start) if warm_start else None
    ws_obj = (
        sum(problem.bundle_objective(b) for b in warm_start)
        if warm_start and x0 is not None
        else None
    )
    best = [list(b) for b in warm_start] if ws_obj is not None else None
    best_obj = ws_obj
    if best is None and not problem.must_cover.any():
        # bundling nothing is a plan too: a timed-out run still has an answer
        best, best_obj, x0 = [], 0.0, np.zeros(model.num_vars)

    def offer(bundles) -> None:
        """Keep ``bundles`` as the incumbent (and next warm start) when it is better."""
        nonlocal best, best_obj, x0
        obj = sum(problem.bundle_objective(b) for b in bundles)
        if best_obj is not None and obj <= best_obj + 1e-9:
            return
        best, best_obj = bundles, obj
        x = rm.encode(bundles)
        if x is not None:
            x0 = x

    def closed() -> bool:
        gap = relative_gap(best_obj, bound)
        return gap is not None and gap <= params.rel_gap

    try:
        cuts, bound = lp_cut_rounds(rm, LP_TIME_SHARE * params.time_limit, params.threads)
    except Exception:  # the LP only helps; a failure there must not stop the exact solve
        cuts, bound = [], None
    if best_obj is not None and bound is not None and bound < best_obj:
        bound = best_obj  # LP tolerance: the incumbent is a feasible plan
    if best is not None and closed():
        return done(
            Termination.OPTIMAL, best_obj, bound, best, "the LP bound proves the plan optimal", 0
        )
    if cuts:
        A, lo, hi = _stack(cuts, model.num_vars)
        model = model.with_rows(A, lo, hi)

    last = None
    round_no = 0
    for round_no in range(1, max_rounds + 1):
        left = params.time_limit - (time.perf_counter() - t0)
        if left <= 0.05:
            break
        res = backend.solve_mip(model, _with_time(params, left), warm_start=x0)
        last = res
        if res.bound is not None:
            bound = res.bound if bound is None else min(bound, res.bound)
        if res.termination == Termination.INFEASIBLE:
            return done(
                Termination.INFEASIBLE, None, None, None, "no plan satisfies the rules", round_no
            )
        if not res.has_solution:
            break
        cuts = rm.separate(res.x)
        if not cuts:
            offer([m for _, m in rm.bundles(res.x)])
            if res.termination == Termination.OPTIMAL:
                # this round's optimum is connected, so it is the true optimum
                bound = best_obj if bound is None else max(best_obj, bound)
            # the LP bound may close the gap that the backend could not (CP-SAT often)
            term = Termination.OPTIMAL if closed() else Termination.FEASIBLE
            return done(term, best_obj, bound, best, res.message, round_no)
        # the disconnected answer's feasible parts are often a far better incumbent
        repaired = rm.repair(res.x)
        if repaired is not None:
            offer(repaired)
        if best is not None and closed():
            return done(
                Termination.OPTIMAL, best_obj, bound, best, "the bound proves the plan", round_no
            )
        A, lo, hi = _stack(cuts, model.num_vars)
        model = model.with_rows(A, lo, hi)
    # out of time or rounds with a disconnected answer: fall back to the best plan seen
    if best is not None:
        return done(
            Termination.OPTIMAL if closed() else Termination.FEASIBLE,
            best_obj,
            bound,
            best,
            "limit reached; returning the best connected plan found",
            round_no,
        )
    term = (
        Termination.NO_SOLUTION
        if last is None or last.termination != Termination.ERROR
        else Termination.ERROR
    )
    return done(term, None, bound, None, last.message if last else "no time left", round_no)


def _with_time(params: SolveParams, seconds: float) -> SolveParams:
    return SolveParams(
        time_limit=max(seconds, 0.05),
        rel_gap=params.rel_gap,
        threads=params.threads,
        seed=params.seed,
        verbose=params.verbose,
    )
