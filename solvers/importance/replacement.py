r"""Replacement importance: what a plan loses when one of its units is locked out.

For a unit ``u`` of a plan, let :math:`OPT` be the optimum of its problem and
:math:`OPT_u` the optimum with ``u`` locked out (removed from the problem). Locking a
unit out only removes bundles, so :math:`OPT_u \le OPT` and the loss
:math:`\Delta_u = OPT - OPT_u` is never negative. The plan has objective :math:`z` and
a proven bound :math:`B` (:math:`z \le OPT \le B`); a re-solve without ``u`` gives a
plan :math:`z_u` and a bound :math:`B_u` (:math:`z_u \le OPT_u \le B_u`). Hence

.. math::

    \max(0,\; z - B_u) \;\le\; \Delta_u \;\le\; B - z_u ,

and the figure reported is :math:`\max(0, z - z_u)`, the loss between the two plans
found. When both solves are proven the interval closes on it (up to the gap).

Before any re-solve the interval is already known, which is what a unit keeps when the
time budget ends first: the plan's other bundles, with the pieces of ``u``'s bundle
that stay feasible without ``u``, are a plan without ``u`` (their objective
:math:`z_w \le OPT_u`), and :math:`B_u \le B`; so :math:`0 \le \Delta_u \le B - z_w`.
Re-solves start from that plan (a warm start) and go widest interval first, each with
an equal share of the budget left; units still open after a pass get another, from
their best plan so far and with at least twice the time, while the budget lasts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import networkx as nx
import numpy as np

from solvers.api import solve_bundling
from solvers.base import SolveParams, Termination
from solvers.problem import BundlingProblem, restrict

# a re-solve gets at least this many seconds (the widest intervals first); when less is
# left, the units not reached keep their intervals so far
MIN_SLOT_S = 0.2
# losses within this share of the plan's objective (or 1e-6 absolute) are 0: rounding
LOSS_TOL = 1e-9


@dataclass(frozen=True)
class UnitImportance:
    """The replacement importance of one unit of a plan.

    Attributes
    ----------
    unit : int
        The unit's index in its problem.
    loss : float
        ``max(0, z - z_u)``: the plan's objective minus that of the best plan found
        without the unit.
    low, high : float
        Proven bounds on the true loss (module docstring); ``high`` is ``inf`` when the
        plan has no bound.
    resolved : bool
        Whether the problem was solved again without the unit (else the interval is
        the warm start's).
    runtime_s : float
        Seconds of its re-solves.
    locked : bool
        A locked-in unit (``must_cover``): not measured, all figures NaN. Locking it out
        would also drop the requirement to cover it, so the loss has no sign.
    proven : bool
        ``high - low`` is within the solve's ``rel_gap`` of the plan's objective.
    provable : bool
        The plan of the unit's group is proven optimal (to the same gap): only then can
        the loss be proven, its upper end being the plan's bound minus a plan without it.

    A loss of ``inf`` (all three figures) is proven: without the unit no plan meets the
    rules (the locked-in units cannot all be in bundles).
    """

    unit: int
    loss: float
    low: float
    high: float
    resolved: bool
    runtime_s: float = 0.0
    locked: bool = False
    proven: bool = False
    provable: bool = False


def _closed(low: float, high: float, rel_gap: float, scale: float) -> bool:
    """Whether ``high - low`` is within ``rel_gap`` of ``scale`` (a proven infinite loss is)."""
    if low == np.inf:
        return True
    return high - low <= rel_gap * max(abs(scale), 1.0) + 1e-6


def without_unit(problem: BundlingProblem, unit: int) -> tuple[BundlingProblem, np.ndarray]:
    """The problem with one unit removed, and the old index of each unit kept.

    Parameters
    ----------
    problem : BundlingProblem
    unit : int
        The unit to lock out.

    Returns
    -------
    problem : BundlingProblem
        Units renumbered ``0..n-2`` in their old order; edges and candidate sets without
        the unit (a root's candidates are a superset of what it can reach, which every
        backend allows).
    kept : ndarray of int
        ``kept[new] = old``.
    """
    n = problem.n
    if not 0 <= unit < n:
        raise ValueError(f"unit {unit} is not in a problem of {n} units")
    return restrict(problem, [j for j in range(n) if j != unit])


def replacement_importance(
    problems: Sequence[BundlingProblem],
    plans: Sequence[Sequence[Sequence[int]]],
    bounds: Sequence[float | None],
    solver: str = "highs",
    params: SolveParams | None = None,
    progress=None,
) -> list[list[UnitImportance]]:
    """The replacement importance of every unit of a plan, within a time budget.

    Parameters
    ----------
    problems : sequence of BundlingProblem
        The independent problems (components) the plan solved.
    plans : sequence of bundles per problem
        The plan: per problem, its bundles as unit indices.
    bounds : sequence of float or None
        Per problem, the plan's proven bound (``None``: none).
    solver : str
        The backend of the re-solves (:func:`solvers.api.solve_bundling`).
    params : SolveParams, optional
        ``time_limit`` is the budget of all re-solves together (a ceiling);
        ``rel_gap``, ``threads`` and ``seed`` go to each.
    progress : callable, optional
        ``progress(done, total)`` after each unit.

    Returns
    -------
    list of list of UnitImportance
        Per problem, one entry per unit of its plan, in unit order.
    """
    params = params or SolveParams()
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit
    jobs: list[_Job] = []
    locked: dict[tuple[int, int], UnitImportance] = {}
    for c, (problem, plan, bound) in enumerate(zip(problems, plans, bounds, strict=True)):
        graph = problem.graph()
        bundles = [tuple(sorted(int(j) for j in b)) for b in plan]
        z = float(sum(problem.bundle_objective(b) for b in bundles))
        top = np.inf if bound is None else max(float(bound), z)
        provable = _closed(z, top, params.rel_gap, z)
        must = np.flatnonzero(problem.must_cover)
        for b in bundles:
            for u in b:
                if problem.must_cover[u]:
                    locked[(c, u)] = UnitImportance(
                        u, *[np.nan] * 3, False, locked=True, provable=provable
                    )
                    continue
                warm = _warm_plan(problem, graph, bundles, b, u)
                covered = {j for x in warm for j in x}
                # a plan without u must still cover the locked-in units to bound OPT_u
                w = (
                    float(sum(problem.bundle_objective(x) for x in warm))
                    if covered.issuperset(must.tolist())
                    else -np.inf
                )
                jobs.append(
                    _Job(c, u, z, top, warm if w > -np.inf else [], w, params.rel_gap, provable)
                )
    out: dict[tuple[int, int], UnitImportance] = {(j.comp, j.unit): j.cheap() for j in jobs}
    out.update(locked)
    # passes over the units still open, each with an equal share of the time left: the
    # time that quick (proven) re-solves leave goes to the hard ones, from their last plan
    done, slot = 0, 0.0
    while deadline - time.perf_counter() >= MIN_SLOT_S:
        open_jobs = [j for j in jobs if not out[(j.comp, j.unit)].proven]
        if not open_jobs:
            break
        open_jobs.sort(key=lambda j: (-_width(out[(j.comp, j.unit)]), j.comp, j.unit))
        # each pass at least doubles the previous pass's time per unit, so that hard
        # re-solves finish (widest first) rather than all stopping short again
        left = deadline - time.perf_counter()
        slot = max(MIN_SLOT_S, 2.0 * slot, left / len(open_jobs))
        for job in open_jobs:
            left = deadline - time.perf_counter()
            if left < MIN_SLOT_S:
                break
            out[(job.comp, job.unit)] = job.solve(
                problems[job.comp], solver, replace(params, time_limit=min(slot, left))
            )
            done += 1
            if progress is not None:
                progress(min(done, len(jobs)), len(jobs))
    return [
        [out[(c, u)] for u in sorted({int(j) for b in plan for j in b})]
        for c, plan in enumerate(plans)
    ]


def _width(r: UnitImportance) -> float:
    return r.high - r.low


def _warm_plan(problem, graph, bundles, holder, unit) -> list[tuple[int, ...]]:
    """A plan without ``unit``: the other bundles, and the pieces of its bundle that are
    still feasible and pay."""
    rest = [b for b in bundles if b != holder]
    left = [j for j in holder if j != unit]
    for piece in nx.connected_components(graph.subgraph(left)):
        piece = tuple(sorted(piece))
        if not problem.bundle_violations(piece, graph) and problem.bundle_objective(piece) > 0:
            rest.append(piece)
    return rest


@dataclass
class _Job:
    comp: int
    unit: int
    objective: float
    top: float  # the plan's bound B
    warm: list[tuple[int, ...]]
    warm_objective: float
    rel_gap: float
    provable: bool

    def __post_init__(self):
        self.bound = self.top  # B_u <= B: locking a unit out only removes bundles
        self.runtime_s = 0.0

    def _loss(self, z_u: float) -> float:
        if not np.isfinite(z_u):  # no plan without the unit is known
            return np.nan
        loss = self.objective - z_u
        return loss if loss > LOSS_TOL * max(1.0, abs(self.objective)) else 0.0

    def _result(self, loss: float, low: float, high: float, resolved: bool) -> UnitImportance:
        return UnitImportance(
            self.unit,
            loss,
            low,
            high,
            resolved,
            self.runtime_s,
            proven=_closed(low, high, self.rel_gap, self.objective),
            provable=self.provable,
        )

    def cheap(self) -> UnitImportance:
        """The warm start's interval, before any re-solve."""
        top = max(0.0, self.top - self.warm_objective)
        return self._result(self._loss(self.warm_objective), 0.0, top, False)

    def solve(self, problem: BundlingProblem, solver: str, params: SolveParams) -> UnitImportance:
        """Solve ``problem`` again without the unit, from the best plan without it so far;
        the best plan and the smallest bound of all its solves are kept."""
        sub, kept = without_unit(problem, self.unit)
        new_of = {int(old): k for k, old in enumerate(kept)}
        warm = [[new_of[j] for j in b] for b in self.warm]
        res = solve_bundling(sub, solver, params, warm_start=warm or None)
        self.runtime_s += res.runtime_s
        if res.termination == Termination.INFEASIBLE:
            # proven: without the unit the locked-in units cannot all be bundled
            return self._result(np.inf, np.inf, np.inf, True)
        if res.objective is not None and res.objective > self.warm_objective:
            self.warm = [tuple(int(kept[j]) for j in b) for b in res.bundles]
            self.warm_objective = float(res.objective)
        if res.bound is not None:
            self.bound = min(self.bound, float(res.bound))
        z_u = self.warm_objective
        low = max(0.0, self.objective - max(self.bound, z_u))
        return self._result(self._loss(z_u), low, max(0.0, self.top - z_u), True)
