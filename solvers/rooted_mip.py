r"""Exact bundling by a rooted-assignment MIP with lazily added contiguity cuts.

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

Every cut is valid for every connected bundle, so each round's dual bound is a
valid bound on the true optimum, and a round whose optimal solution is
connected is optimal for the full problem.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import networkx as nx
import numpy as np
import scipy.sparse as sp

from solvers.base import SolveParams, Termination, relative_gap
from solvers.mip import MipModel
from solvers.problem import BundlingProblem, BundlingResult


class RootedModel:
    """The compact model of the module docstring, with helpers to read and cut it."""

    def __init__(self, problem: BundlingProblem):
        self.problem = p = problem
        cands = p.candidates if p.candidates is not None else (np.arange(p.n),) * p.n
        roots, members = [], []
        for r, c in enumerate(cands):
            if len(c):
                roots.append(np.full(len(c), r))
                members.append(np.asarray(c, dtype=int))
        self.root = np.concatenate(roots) if roots else np.empty(0, int)
        self.unit = np.concatenate(members) if members else np.empty(0, int)
        self.index = {
            (int(r), int(j)): k for k, (r, j) in enumerate(zip(self.root, self.unit, strict=True))
        }
        self.roots = np.unique(self.root)
        self.candidates = {int(r): set(map(int, c)) for r, c in enumerate(cands) if len(c)}
        self.graph = p.graph()
        self.model = self._build()

    def _var(self, r: int, j: int) -> int:
        return self.index[(r, j)]

    def _build(self) -> MipModel:
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

    def bundles(self, x: np.ndarray) -> list[tuple[int, list[int]]]:
        """``(root, members)`` of every open bundle in a solution."""
        chosen = x > 0.5
        out: dict[int, list[int]] = {}
        for k in np.flatnonzero(chosen):
            out.setdefault(int(self.root[k]), []).append(int(self.unit[k]))
        return [(r, sorted(m)) for r, m in sorted(out.items()) if r in m]

    def separate(self, x: np.ndarray):
        """Cuts violated by a solution: one per (root, unit) in a part cut off from the root."""
        rows = []
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
                cols_b = [self._var(r, k) for k in sorted(boundary)]
                for j in sorted(part):
                    rows.append(
                        (
                            np.array([self._var(r, j), *cols_b]),
                            np.array([1.0] + [-1.0] * len(cols_b)),
                            -np.inf,
                            0.0,
                        )
                    )
        return rows

    def encode(self, bundles: Sequence[Sequence[int]]) -> np.ndarray | None:
        """A solution vector for given bundles, each rooted at a unit that may be its root."""
        x = np.zeros(len(self.root))
        for members in bundles:
            members = sorted(members)
            root = next(
                (
                    r
                    for r in members
                    if r in self.candidates
                    and set(members) <= self.candidates[r]
                    and self.problem.area_min_ha[members].sum()
                    >= self.problem.min_area_ha[r] - 1e-9
                ),
                None,
            )
            if root is None:
                return None
            for j in members:
                x[self._var(root, j)] = 1.0
        return x


def _stack(rows, nv):
    if not rows:
        return sp.csr_array((0, nv)), np.empty(0), np.empty(0)
    cols = np.concatenate([r[0] for r in rows])
    data = np.concatenate([r[1] for r in rows])
    ridx = np.repeat(np.arange(len(rows)), [len(r[0]) for r in rows])
    A = sp.csr_array((data, (ridx, cols)), shape=(len(rows), nv))
    A.sum_duplicates()
    return A, np.array([r[2] for r in rows], float), np.array([r[3] for r in rows], float)


def solve_rooted(
    problem: BundlingProblem,
    backend,
    params: SolveParams,
    warm_start: Sequence[Sequence[int]] | None = None,
    max_rounds: int = 50,
) -> BundlingResult:
    """Solve a bundling problem exactly with a MIP backend and separator cuts.

    Parameters
    ----------
    problem : BundlingProblem
    backend : module
        A MIP backend with ``solve_mip(model, params, warm_start)``.
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
        solution needed no further cut.
    """
    t0 = time.perf_counter()
    name = getattr(backend, "NAME", backend.__name__.rsplit(".", 1)[-1])
    rm = RootedModel(problem)
    model = rm.model
    x0 = rm.encode(warm_start) if warm_start else None
    ws_obj = (
        sum(problem.bundle_objective(b) for b in warm_start)
        if warm_start and x0 is not None
        else None
    )
    bound = None
    last = None
    for round_no in range(1, max_rounds + 1):
        left = params.time_limit - (time.perf_counter() - t0)
        if left <= 0.05:
            break
        res = backend.solve_mip(model, _with_time(params, left), warm_start=x0)
        last = res
        if res.bound is not None:
            bound = res.bound if bound is None else min(bound, res.bound)
        if res.termination == Termination.INFEASIBLE:
            return BundlingResult(
                Termination.INFEASIBLE,
                None,
                None,
                None,
                time.perf_counter() - t0,
                solver=name,
                message="no plan satisfies the rules",
                iterations=round_no,
            )
        if not res.has_solution:
            break
        cuts = rm.separate(res.x)
        if not cuts:
            bundles = [m for _, m in rm.bundles(res.x)]
            obj = sum(problem.bundle_objective(b) for b in bundles)
            if ws_obj is not None and ws_obj > obj + 1e-9:
                bundles, obj = [list(b) for b in warm_start], ws_obj
            proven = res.termination == Termination.OPTIMAL
            if proven:
                bound = obj if bound is None else max(obj, min(bound, res.bound or bound))
            gap = relative_gap(obj, bound)
            term = Termination.OPTIMAL if proven else Termination.FEASIBLE
            return BundlingResult(
                term,
                obj,
                bound,
                gap,
                time.perf_counter() - t0,
                bundles=_canon(bundles),
                solver=name,
                message=res.message,
                iterations=round_no,
            )
        A, lo, hi = _stack(cuts, model.A.shape[1])
        model = model.with_rows(A, lo, hi)
    # out of time or rounds with a disconnected answer: fall back to the warm start
    runtime = time.perf_counter() - t0
    if ws_obj is not None:
        return BundlingResult(
            Termination.FEASIBLE,
            ws_obj,
            bound,
            relative_gap(ws_obj, bound),
            runtime,
            bundles=_canon(warm_start),
            solver=name,
            message="limit reached; returning the heuristic's plan",
            iterations=round_no,
        )
    term = (
        Termination.NO_SOLUTION
        if last is None or last.termination != Termination.ERROR
        else Termination.ERROR
    )
    return BundlingResult(
        term,
        None,
        bound,
        None,
        runtime,
        solver=name,
        message=(last.message if last else "no time left"),
        iterations=round_no,
    )


def _with_time(params: SolveParams, seconds: float) -> SolveParams:
    return SolveParams(
        time_limit=max(seconds, 0.05),
        rel_gap=params.rel_gap,
        threads=params.threads,
        seed=params.seed,
        verbose=params.verbose,
    )


def _canon(bundles) -> tuple[tuple[int, ...], ...]:
    return tuple(sorted(tuple(sorted(int(j) for j in b)) for b in bundles))
