r"""Column generation with a Lagrangian bound: plans and a proof for components of any size.

A plan is a set packing of feasible bundles (columns). Relaxing "each unit in at most
one bundle" with prices :math:`\pi \ge 0` (any sign for locked-in units) gives, for
*any* prices,

.. math::

    \text{OPT} \le L(\pi) = \sum_j \pi_j + \sum_r \max\bigl(0, U_r(\pi)\bigr),

where :math:`U_r(\pi)` bounds the best reduced value :math:`b + \sum_{j\in S}(v_j -
\pi_j)` of a feasible bundle ``S`` rooted at ``r``. Why: map every bundle of a plan to
the valid root with the smallest minimum area (bundles are disjoint, so the roots
differ); the plan's value is its bundles' reduced values plus the prices of the
covered units, at most :math:`U_r` each and :math:`\pi_j` each. A bound is therefore
valid whatever prices produced it; good prices make it tight, and at the prices of
the full set-packing LP (the Dantzig-Wolfe bound) it equals that LP's value, which
pays every bundle's fixed cost in whole, unlike the compact model's relaxation.

The steps (:func:`solve_colgen`):

1. the pool starts with the warm start and bundles grown at zero prices, and a plan
   of exact best bundles (the single-root model at zero prices from the most
   promising roots, each avoiding the units of the ones before);
2. the capacity bound with moats (:func:`~solvers.colgen.capacity.capacity_bound`),
   and a subgradient search (:func:`~solvers.colgen.lagrangian.search_prices`) that
   finds prices where the relaxed root bounds make :math:`L` small (the best-bound
   prices);
3. a try to prove the plan so far optimal with prices on its own units
   (:class:`~solvers.colgen.certify.PlanCertifier`); it is tried again whenever the
   plan changes, and a try cut short by time resumes where it stopped, until the
   master LP exceeds the plan's value (no such prices exist then);
4. the master LP over the pool (:mod:`solvers.colgen.master`) gives prices;
5. :func:`~solvers.colgen.root_bounds.relaxed_root_bounds` bounds every root at
   those prices, giving :math:`L(\pi)`; only roots with a positive bound can hold a
   column worth adding, and the heuristic grows bundles from them at reduced values;
6. when it finds none, the exact single-root MIP
   (:class:`~solvers.colgen.root_bounds.ExactRootBounds`) either finds a column or
   replaces the root's bound by a tighter one;
7. now and then, and at the end, the integer master over the pool (with the chosen
   MIP backend) gives a plan;
8. before the last integer master, simulated annealing on unit moves
   (:func:`~solvers.heuristic.anneal.anneal_plan`) and then a large-neighbourhood
   search (:func:`~solvers.colgen.neighbourhood.improve_plan`) re-solves small regions
   of the incumbent exactly (groups with many roots:
   :func:`~solvers.colgen.neighbourhood.improve_by_regions`, one bundle and the free
   units around it by column generation); their better bundles join the pool.

Time the last integer master leaves goes back to pricing rounds (groups of at most
:data:`MANY_ROOTS` roots). It stops when the best plan is within ``params.rel_gap`` of
the smallest bound seen (an :math:`L(\pi)` or the capacity bound), when no column is
left to add (the LP bound is then proven) and the integer master has had its turn, or
when time runs out.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from solvers.backend import MipBackend
from solvers.base import SolveParams, Termination, relative_gap
from solvers.colgen.capacity import capacity_bound
from solvers.colgen.certify import PlanCertifier
from solvers.colgen.lagrangian import lagrangian_value, search_prices
from solvers.colgen.master import ColumnPool, MasterLpError, solve_master_ip, solve_master_lp
from solvers.colgen.neighbourhood import LnsStats, improve_by_regions, improve_plan
from solvers.colgen.root_bounds import ExactRootBounds, RootSets, relaxed_root_bounds
from solvers.heuristic.anneal import anneal_plan
from solvers.heuristic.common import neighbours
from solvers.heuristic.selection import grow_bundles
from solvers.mip.rooted import reduce_candidates
from solvers.problem import BundlingProblem, BundlingResult, canonical_bundles

# share of the time limit kept for the last integer master
FINAL_IP_SHARE = 0.15
# the integer master runs every this many pricing rounds
IP_EVERY = 6
# seconds at most for one root's exact bound
EXACT_ROOT_S = 2.0
# re-solve the master LP after this many new columns from exact pricing
EXACT_BATCH = 8
# weight of the best-bound prices in the pricing point (Wentges smoothing) at the start.
# A round whose exact pricing does not lower the bound halves the step toward the LP's
# prices (the weight goes to 1 - (1 - weight) / 2), as a line search on the convex
# Lagrangian would: far from the best-bound prices exact pricing is slow and the bound
# poor (counties-159 seed 3: rounds of 8-21 s, no better bound at a fixed 0.5), close to
# them it is fast but may stall (seed 5 at a fixed 0.95: 101.53 M from 19 s on). At 60 s
# the halving rule ends seed 3 at 208.95 M (fixed 0.5: 209.69 M, fixed 0.95: 209.11 M)
# and seed 5 at 97.27 M (fixed 0.5: 98.20 M, fixed 0.95: 101.53 M)
SMOOTHING = 0.5
# the heuristic grows bundles from at most this many roots per round, best bound first
MAX_PRICED_ROOTS = 400
# share of the time (and number of roots) for exact best bundles at zero prices
SEED_SHARE = 0.1
SEED_ROOTS = 6
# share of the time for the price search; above MANY_ROOTS roots one relaxed bound
# takes about 2 s (3,000 roots, 383 candidates each) and exact pricing is out of
# reach, so the search gets most of it (60 s of search took the dense 3,000-cell
# group's bound from 307.5 M to 270.5 M against a plan of 257.9 M)
SEARCH_SHARE = 0.2
SEARCH_SHARE_MANY = 0.65
MANY_ROOTS = 1_000
# share of the time limit for the large-neighbourhood search on the plan, before the
# last integer master (which then also combines its bundles). Its gains come early:
# counties-159 seed 1's plan went from 177.02 M to 177.26 M in its first 0.2 s and no
# further in 100 s (neighbourhoods of two bundles proven optimal); a two-bundle plan of
# messy-1600 seed 2's 79-unit group went from 3.07 M to 3.16 M in 0.4 s. On groups with
# many roots the search of regions keeps finding gains step after step (dense seed 2:
# 14 of 36 steps of 3 s better), while their bound comes from the capacity bound and
# the price search, which rarely moves it there, so the search gets most of the time
# (dense seeds 1-3 at 120 s: gaps 4.00 / 6.09 / 6.40% with 0.6, 4.11 / 5.97 / 6.18% with
# 0.75, a difference within run-to-run noise)
LNS_SHARE = 0.25
LNS_SHARE_MANY = 0.75
# share of that search's time for the annealing on unit moves, which comes first
# (solvers.heuristic.anneal). Where the plans' bundles are full it finds what the
# region searches do not: dense seed 2 at 120 s ended at 139.37 M with 0.7 and 139.34 M
# with 1.0 (regions alone: 135.42 M); messy seed 2's 79-unit group went from 2.98 M to
# 3.16 M with 0.3, and counties seed 3 ended at 207.56 M with 0.3 against 206.77 M
# without it (the same bound, 208.72 M)
ANNEAL_SHARE = 0.3
ANNEAL_SHARE_MANY = 0.7
# a try to prove the incumbent (solvers.colgen.certify) takes at most this share of the
# time its step has left, so that the plan's side keeps the rest; a try cut short
# resumes at the next step
CERTIFY_SHARE = 0.5


@dataclass
class _State:
    """The incumbent, the bound and the bookkeeping of one run."""

    problem: BundlingProblem
    best: list[tuple[int, ...]] = field(default_factory=list)
    best_obj: float | None = None
    bound: float = math.inf
    rounds: int = 0
    exact_roots: int = 0

    def offer(self, bundles: Sequence[Sequence[int]]) -> None:
        plan = [tuple(sorted(map(int, b))) for b in bundles]
        covered = {j for b in plan for j in b}
        if not set(np.flatnonzero(self.problem.must_cover).tolist()) <= covered:
            return
        obj = float(sum(self.problem.bundle_objective(b) for b in plan))
        if self.best_obj is None or obj > self.best_obj + 1e-9:
            self.best, self.best_obj = plan, obj

    def closed(self, rel_gap: float) -> bool:
        gap = relative_gap(self.best_obj, self.bound)
        return gap is not None and gap <= rel_gap


def solve_colgen(
    problem: BundlingProblem,
    backend: MipBackend,
    params: SolveParams,
    warm_start: Sequence[Sequence[int]] | None = None,
) -> BundlingResult:
    """Solve a bundling problem by column generation, with a proven bound (module docstring).

    Parameters
    ----------
    problem : BundlingProblem
    backend : MipBackend
        Solves the integer master.
    params : SolveParams
        ``time_limit`` is a ceiling: the run stops as soon as ``rel_gap`` is proven.
    warm_start : sequence of bundles, optional
        Feasible bundles (the heuristic's plan); they join the pool and are the
        plan to beat.

    Returns
    -------
    BundlingResult
        ``OPTIMAL`` when the plan is within ``params.rel_gap`` of the bound.
    """
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit
    name = getattr(backend, "NAME", "mip")
    p = problem
    graph = p.graph()
    valid = reduce_candidates(p, graph)
    state = _State(p)

    def done(term: Termination, message: str) -> BundlingResult:
        bound = None if not math.isfinite(state.bound) else state.bound
        if bound is not None and state.best_obj is not None and bound < state.best_obj:
            bound = state.best_obj  # float noise: a feasible plan is never above the bound
        return BundlingResult(
            term,
            state.best_obj,
            bound,
            relative_gap(state.best_obj, bound),
            time.perf_counter() - t0,
            bundles=canonical_bundles(state.best),
            solver=name,
            message=message,
            iterations=state.rounds,
        )

    covered = {j for c in valid.values() for j in c}
    lonely = [int(j) for j in np.flatnonzero(p.must_cover) if int(j) not in covered]
    if lonely:
        state.bound = -math.inf
        return done(
            Termination.INFEASIBLE, f"locked-in unit {p.unit_ids[lonely[0]]} fits in no bundle"
        )
    if not valid:
        state.best_obj, state.bound = 0.0, 0.0
        return done(Termination.OPTIMAL, "no feasible bundle exists")
    if not p.must_cover.any():
        state.best_obj = 0.0  # bundling nothing is a plan
    # what the limits and the moats around clusters prove (solvers.colgen.capacity):
    # it takes milliseconds, and it sees the integer number of bundles a small patch
    # needs, which no prices can
    cap = capacity_bound(p)
    if cap is not None:
        state.bound = cap
    nbrs = neighbours(p.n, p.edges)
    rng = np.random.default_rng(params.seed)
    sets = RootSets.from_valid(valid)
    pool = ColumnPool(p)
    exact = ExactRootBounds(p, nbrs)
    g = graph
    for b in warm_start or ():
        if not p.bundle_violations(b, g):
            pool.add(b)
    if warm_start:
        state.offer([b for b in warm_start if not p.bundle_violations(b, g)])
    final_ip = max(0.2, FINAL_IP_SHARE * params.time_limit)
    many = len(sets.roots) > MANY_ROOTS
    lns_share = LNS_SHARE_MANY if many else LNS_SHARE
    lns_end = deadline - final_ip
    cg_end = lns_end - lns_share * params.time_limit

    def price(prices: np.ndarray, until: float) -> tuple[int, np.ndarray]:
        """Add bundles that pay at ``prices``; also returns each root's relaxed bound."""
        ub = relaxed_root_bounds(p, sets, prices)
        tol = 1e-6 * max(1.0, abs(state.best_obj or 0.0))
        order = np.argsort(-ub, kind="stable")
        roots = [int(sets.roots[k]) for k in order if ub[k] > tol]
        if not roots:
            return 0, ub
        reduced = replace(p, value=np.asarray(p.value, float) - prices)
        added = 0
        for b in grow_bundles(reduced, nbrs, rng, until, roots=roots[:MAX_PRICED_ROOTS]):
            if reduced.bundle_objective(b) > tol and pool.add(b):
                added += 1
        return added, ub

    # the first columns: bundles that pay at zero prices
    span = cg_end - t0
    _, ub0 = price(np.zeros(p.n), t0 + 0.1 * span)
    # the best single bundles, exactly, from the most promising roots (the plan's side;
    # one exact solve takes up to EXACT_ROOT_S: a short run still gets one)
    seed_share = max(SEED_SHARE, min(EXACT_ROOT_S / max(span, 1e-9), 0.3))
    _seed_bundles(p, exact, sets, ub0, pool, state, t0 + (0.1 + seed_share) * span)
    # prices that make the relaxed bound small: the best-bound prices ("center")
    # (many roots: exact pricing cannot keep up, so the search gets most of the time)
    search_share = SEARCH_SHARE if len(sets.roots) <= MANY_ROOTS else SEARCH_SHARE_MANY
    start = 0.1 + seed_share
    search = search_prices(p, sets, state.best_obj or 0.0, t0 + (start + search_share) * span)
    state.bound = min(state.bound, search.bound)
    center, center_value = search.prices, search.bound
    # a proof of the plan so far ends the run here, and may take the time up to the
    # neighbourhood search
    trial = _certify(p, exact, sets, center, pool, state, lns_end, None, share=1.0)
    if not state.closed(params.rel_gap):
        # the bundles that pay at the center
        price(center, t0 + (start + 0.1 + search_share) * span)
    message = ""
    converged = False
    alpha = SMOOTHING
    lp_value = -math.inf  # the master LP's last value: at most the set-packing LP's

    def rounds(until: float) -> None:
        """Pricing rounds until ``until``, convergence, or a proven gap."""
        nonlocal message, converged, alpha, center, center_value, trial, lp_value
        while time.perf_counter() < until and not state.closed(params.rel_gap):
            state.rounds += 1
            try:
                lp = solve_master_lp(pool, until - time.perf_counter()) if len(pool) else None
            except MasterLpError as err:
                message = str(err)
                return
            if lp is not None:
                lp_value = lp.value
                if np.all(np.minimum(lp.x, 1.0 - lp.x) < 1e-7):
                    state.offer([pool.bundles[k] for k in np.flatnonzero(lp.x > 0.5)])
            # price at a point between the best-bound prices and the LP's: the LP's
            # duals jump between rounds, the smoothed point converges steadily (an
            # empty pool's LP has every price 0)
            lp_prices = lp.prices if lp is not None else np.zeros(p.n)
            prices = alpha * center + (1.0 - alpha) * lp_prices
            added, ub = price(prices, until)
            value = lagrangian_value(prices, ub)
            priced_exactly = not added
            if not added:
                added, value, complete = _exact_pricing(
                    p, exact, sets, prices, ub, pool, state, until
                )
                if not added:
                    if complete and alpha == 0.0:
                        converged = True
                        state.bound = min(state.bound, value)
                        return
                    # no column at the smoothed point: price at the LP's own duals next
                    alpha = 0.0 if complete else alpha
            state.bound = min(state.bound, value)
            if value < center_value:
                center, center_value = prices, value
            elif priced_exactly and alpha > 0.0:
                alpha = 1.0 - (1.0 - alpha) / 2.0  # (SMOOTHING)
            if state.rounds % IP_EVERY == 0:
                _integer_master(pool, backend, params, state, min(until, time.perf_counter() + 2.0))
            trial = _certify(p, exact, sets, center, pool, state, until, trial, lp_value)

    rounds(cg_end)
    lns = LnsStats()
    if state.best_obj is not None and not state.closed(params.rel_gap):
        _improve(p, backend, params, nbrs, pool, state, lns_end, lns, many)
        until = deadline - 0.5 * final_ip
        trial = _certify(p, exact, sets, center, pool, state, until, trial, lp_value)
    if not state.closed(params.rel_gap):
        _integer_master(pool, backend, params, state, deadline)
        trial = _certify(p, exact, sets, center, pool, state, deadline, trial, lp_value)
    if not converged and not message and not many:
        # the time the last integer master left goes to the bound (a plan the rounds'
        # integer masters find is kept too); handing it back to the planner would
        # start this group again from nothing. (Many roots: one round's relaxed bounds
        # take seconds and cannot stop at a deadline.)
        rounds(deadline)
    term = Termination.OPTIMAL if state.closed(params.rel_gap) else Termination.FEASIBLE
    if state.best_obj is None:
        return done(Termination.NO_SOLUTION, "no plan covers every locked-in unit")
    notes = [f"{len(pool)} columns, {state.rounds} pricing rounds"]
    if state.exact_roots:
        notes.append(f"{state.exact_roots} exact root bounds")
    if lns.steps:
        notes.append(f"{lns.steps} neighbourhoods re-solved, {lns.improved} better")
    if trial is not None and trial.verdict is not None and math.isfinite(trial.verdict.bound):
        notes.append("proven by prices on the plan's own units")
    if converged:
        notes.append("no column left to add: the set-packing LP is solved")
    elif term != Termination.OPTIMAL and time.perf_counter() >= cg_end:
        notes.append("time limit reached")
    if message:
        notes.append(message)
    return done(term, "; ".join(notes))


def _exact_pricing(p, exact, sets, prices, ub, pool, state, until) -> tuple[int, float, bool]:
    """Exact single-root pricing on the roots with a positive relaxed bound, best first.

    Returns the columns added, :math:`L(\\pi)` with every exactly bounded root's bound
    replaced (valid at these prices even when the pass stops early), and whether every
    root is now proven to hold no column worth adding.
    """
    ub = ub.copy()
    tol = 1e-6 * max(1.0, abs(state.best_obj or 0.0))
    added = 0
    for k in np.argsort(-ub, kind="stable"):
        if ub[k] <= tol or time.perf_counter() >= until:
            break
        left = until - time.perf_counter()
        res = exact.bound(int(sets.roots[k]), sets.candidates[k], prices, min(EXACT_ROOT_S, left))
        state.exact_roots += 1
        ub[k] = min(ub[k], res.bound)
        if res.bundle is not None:
            reduced = p.bundle_objective(res.bundle) - float(prices[list(res.bundle)].sum())
            if reduced > tol and not p.bundle_violations(res.bundle) and pool.add(res.bundle):
                added += 1
                if added >= EXACT_BATCH:
                    break
    complete = bool(np.all(ub <= tol))
    return added, lagrangian_value(prices, ub), complete


def _seed_bundles(p, exact, sets, ub, pool, state, until) -> None:
    """A plan of exact best bundles, each disjoint from the ones before (the plan's side).

    Greedy growth misses bundles that must cross poor units to reach rich ones
    (generated-2000 seed 1: a 188-unit group's heuristic plan was 0.573 M, the best
    single bundle 0.595 M). From the roots with the largest relaxed bounds at zero
    prices, the exact single-root model finds the best bundle that avoids the units
    of the bundles found so far (they get a price above any bundle's value, so no
    bundle of positive reduced value holds one); each joins the pool, for the integer
    master to combine, and the bundles found so far are offered as a plan. Only the
    plan gains: no bound is taken from these solves.
    """
    value = np.asarray(p.value, float)
    blocked = np.zeros(p.n)
    high = float(np.abs(value).sum() + abs(p.bundle_value)) + 1.0
    plan: list[tuple[int, ...]] = []
    used: set[int] = set()
    tried = 0
    for k in np.argsort(-ub, kind="stable"):
        left = until - time.perf_counter()
        if ub[k] <= 0 or tried >= SEED_ROOTS or left <= 0.05:
            break
        root = int(sets.roots[k])
        if root in used:
            continue
        tried += 1
        res = exact.bound(root, sets.candidates[k], blocked, min(EXACT_ROOT_S, left))
        state.exact_roots += 1
        bundle = res.bundle
        if bundle is None or used & set(bundle) or p.bundle_violations(bundle):
            continue
        if p.bundle_objective(bundle) <= 0 and not p.must_cover[list(bundle)].any():
            continue
        pool.add(bundle)
        plan.append(bundle)
        state.offer(plan)
        used.update(bundle)
        blocked[list(bundle)] = high


def _certify(
    p, exact, sets, center, pool, state, until, trial, lp_value=-math.inf, share=CERTIFY_SHARE
) -> PlanCertifier | None:
    """Go on trying to prove the incumbent optimal (:mod:`solvers.colgen.certify`).

    A new plan gets a new :class:`PlanCertifier` (with the current best-bound prices);
    the same plan resumes its own. A try takes at most ``share`` of the time left
    until ``until``; none is made once the master LP's last value ``lp_value`` puts
    the plan beyond such a proof (:func:`_beyond_proof`). Returns the certifier to
    pass to the next call.
    """
    if state.best_obj is None or not state.best or len(sets.roots) > MANY_ROOTS:
        # (many roots: one exact solve rarely settles a root there, see SEARCH_SHARE)
        return trial
    if _beyond_proof(state, lp_value):
        return trial
    if trial is None or trial.plan != state.best:  # both hold sorted tuples
        trial = PlanCertifier(p, exact, sets, state.best, center, pool, EXACT_ROOT_S)
    now = time.perf_counter()
    if trial.verdict is not None or state.closed(0.0) or until - now <= 0.05:
        return trial
    cert = trial.attempt(now + share * (until - now))
    state.bound = min(state.bound, cert.bound)
    state.exact_roots += cert.solves
    return trial


def _beyond_proof(state: _State, lp_value: float) -> bool:
    """Whether prices on the plan's own units can no longer prove it optimal.

    Such prices make :math:`L` the plan's value, and no prices make :math:`L` smaller
    than the set-packing LP, which is at least the master LP over any pool: once that
    exceeds the plan's value, a proof try can only spend time.
    """
    if state.best_obj is None:
        return False
    return lp_value > state.best_obj + 1e-9 * max(1.0, abs(state.best_obj))


def _improve(p, backend, params, nbrs, pool, state, until, stats, many_roots) -> None:
    """Search around the incumbent; its better bundles join the pool.

    First simulated annealing on unit moves
    (:func:`~solvers.heuristic.anneal.anneal_plan`), then a large-neighbourhood search:
    groups with many roots re-solve regions around one bundle by column generation
    (:func:`~solvers.colgen.neighbourhood.improve_by_regions`), the others small
    neighbourhoods by the rooted MIP.
    """

    def keep(plan) -> bool:
        for b in plan:
            pool.add(b)
        state.offer(plan)
        return state.closed(params.rel_gap)

    # a stream of its own, so the search does not shift the pricing's random choices
    rng = np.random.default_rng([params.seed, 1])
    share = ANNEAL_SHARE_MANY if many_roots else ANNEAL_SHARE
    now = time.perf_counter()
    seed = int(rng.integers(2**31))
    annealed = anneal_plan(p, state.best, now + share * (until - now), seed, nbrs)
    if keep(annealed) or time.perf_counter() >= until:
        return
    if not many_roots:
        improve_plan(p, backend, params, state.best, until, rng, nbrs, on_improve=keep, stats=stats)
        return

    def solve_sub(sub, warm, limit):
        # a region holds far fewer roots than MANY_ROOTS: this does not come back here
        return solve_colgen(sub, backend, replace(params, time_limit=limit), warm_start=warm)

    improve_by_regions(p, solve_sub, state.best, until, rng, nbrs, on_improve=keep, stats=stats)


def _integer_master(pool, backend, params, state, until) -> None:
    left = until - time.perf_counter()
    if left <= 0.05 or not len(pool):
        return
    chosen = solve_master_ip(
        pool,
        backend,
        replace(params, time_limit=left),
        incumbent=state.best if state.best else None,
    )
    if chosen is not None:
        state.offer(chosen)
