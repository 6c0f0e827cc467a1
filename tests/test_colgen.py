"""Column generation and its Lagrangian bound: known answers and validity by brute force."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.base import SolveParams, Termination
from solvers.colgen import solve_colgen
from solvers.colgen.capacity import capacity_bound, capacity_prices
from solvers.colgen.driver import _beyond_proof, _State
from solvers.colgen.lagrangian import search_prices
from solvers.colgen.master import ColumnPool, MasterLpError, solve_master_lp
from solvers.colgen.root_bounds import (
    ExactRootBounds,
    RootSets,
    relaxed_root_bounds,
)
from solvers.heuristic.common import neighbours
from solvers.mip.rooted import RootedModel, lp_cut_rounds, reduce_candidates
from solvers.registry import available_backends, get_backend
from tests.bundling_cases import path, problem
from tests.test_rooted_mip import best_plan, feasible_bundles, random_problem

MIP = [b.name for b in available_backends() if b.kind == "mip"]


def bridge_instance():
    """Path A-B-C-D of 100 ha units, values 5, -10, 5, 5, fixed cost 1, minimum 200 ha.

    Feasible bundles (two units at least; the cost test is NPV >= 0): {C, D} = -1 + 10
    = 9 and {A, B, C, D} = -1 + 5 - 10 + 5 + 5 = 4 ({A, B}, {B, C}, {A, B, C} and
    {B, C, D} have negative NPV). They overlap, so the optimum is 9.

    The compact LP with every separator cut is 10: root A opens fully with B, C and D
    at 1/3 each (area 100 + 3 * 100/3 = 200, value -1 + 5 + (5 + 5 - 10)/3 = 4) while
    root C keeps {C, D} at 2/3 (value 6): it pays the bridge B only in part.

    The set-packing bound over whole bundles is 9: the price 9 on C (or shared by C
    and D) leaves {A, B, C, D} with reduced value 4 - 9 < 0, and 9 + 0 = 9.
    """
    return problem(path(4), [100] * 4, [5, -10, 5, 5], fixed=1, min_area=200)


def test_compact_lp_is_loose_where_the_set_packing_bound_is_exact():
    p = bridge_instance()
    _, compact = lp_cut_rounds(RootedModel(p), time_limit=10)
    assert compact == pytest.approx(10.0, abs=1e-6)
    res = solve_colgen(p, get_backend("highs"), SolveParams(time_limit=10, rel_gap=0.0))
    assert res.termination == Termination.OPTIMAL
    assert res.objective == pytest.approx(9.0)
    assert res.bundles == ((2, 3),)
    assert res.bound == pytest.approx(9.0, abs=1e-5)


def test_a_group_with_no_paying_bundle_is_proven_empty():
    # the bridge instance with C and D worth 4 each: {C, D} = -1 + 8 = 7 still pays, so
    # take the fixed cost to 20: {C, D} = -12 and {A, B, C, D} = -16, nothing pays,
    # and every root's exact bound proves it (optimum 0, bound 0)
    p = problem(path(4), [100] * 4, [5, -10, 4, 4], fixed=20, min_area=200)
    res = solve_colgen(p, get_backend("highs"), SolveParams(time_limit=10))
    assert res.termination == Termination.OPTIMAL
    assert res.objective == 0.0 and res.bundles == ()
    assert res.bound == pytest.approx(0.0, abs=1e-6)


def _best_reduced(p, bundles, prices):
    """Best reduced value of a feasible bundle per root, by enumeration."""
    best: dict[int, float] = {}
    for b in bundles:
        arr = np.array(b)
        value = p.bundle_objective(b) - float(prices[arr].sum())
        for r in b:
            if p.may_root(r, arr) and p.area_min_ha[arr].sum() >= p.min_area_ha[r] - 1e-6:
                best[r] = max(best.get(r, -np.inf), value)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_root_bounds_never_cut_off_a_bundle(seed):
    """Relaxed, path and exact root bounds are at least the best bundle of each root.

    The kept models (:class:`ExactRootBounds`) see four prices one after the other, so
    the rows gathered at earlier prices are checked at later ones too.
    """
    p = random_problem(seed)
    bundles = feasible_bundles(p)
    sets = RootSets.from_valid(reduce_candidates(p, p.graph()))
    rng = np.random.default_rng(seed)
    nbrs = neighbours(p.n, p.edges)
    kept = ExactRootBounds(p, nbrs)
    for _ in range(4):
        prices = np.round(rng.uniform(0, 20, p.n), 2)
        best = _best_reduced(p, bundles, prices)
        relaxed = relaxed_root_bounds(p, sets, prices)
        for k, r in enumerate(sets.roots):
            want = best.get(int(r), -np.inf)
            assert relaxed[k] >= want - 1e-6, (r, relaxed[k], want)
            fresh = ExactRootBounds(p, nbrs).bound(int(r), sets.candidates[k], prices, 5.0)
            again = kept.bound(int(r), sets.candidates[k], prices, 5.0)
            for exact in (fresh, again):
                assert exact.bound >= want - 1e-6, (r, exact.bound, want)
                if exact.proven and want > 1e-6:
                    assert exact.bundle is not None
                    value = p.bundle_objective(exact.bundle) - prices[list(exact.bundle)].sum()
                    assert value == pytest.approx(want, abs=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), rows=st.integers(2, 3), cols=st.integers(2, 4))
def test_bound_is_never_below_the_enumerated_optimum(seed, rows, cols):
    p = random_problem(seed, rows, cols)
    optimum = best_plan(p, feasible_bundles(p))
    res = solve_colgen(p, get_backend("highs"), SolveParams(time_limit=5, seed=seed))
    assert res.bound is not None and res.bound >= optimum - 1e-6
    assert res.objective is not None and res.objective <= optimum + 1e-6
    g = p.graph()
    assert all(not p.bundle_violations(b, g) for b in res.bundles)
    if res.termination == Termination.OPTIMAL:
        assert res.objective >= optimum - 1e-4 * max(1.0, abs(optimum))


def test_capacity_prices_bound_a_plan_of_full_bundles():
    """Path 0-1-2 of 1, 1 and 2 ha, each worth 6, fixed cost 1, 1 to 2 ha per bundle.

    Feasible bundles: each unit alone (5 each) and {0, 1} (11); {1, 2} and the whole
    path are above 2 ha. The optimum is {0, 1} and {2}: 11 + 5 = 16.

    The area limit alone prices out every bundle: with 1/2 per hectare (2 ha times 1/2
    pays the fixed cost of 1) the prices are 6 - 1/2, 6 - 1/2 and 6 - 1, and a bundle's
    reduced value is at most -1 + (its area) / 2 <= 0. Their sum is 16, the optimum.
    """
    p = problem(path(3), [1, 1, 2], [6, 6, 6], fixed=1, min_area=1, max_area=2)
    prices = capacity_prices(p)
    assert prices == pytest.approx([5.5, 5.5, 5.0])
    sets = RootSets.from_valid(reduce_candidates(p, p.graph()))
    assert search_prices(p, sets, 16.0, deadline=np.inf).bound == pytest.approx(16.0)


def test_no_capacity_prices_without_a_fixed_cost_or_a_limit():
    assert capacity_prices(problem(path(3), [1, 1, 2], [6, 6, 6], fixed=1, min_area=1)) is None
    free = problem(path(3), [1, 1, 2], [6, 6, 6], fixed=0, min_area=1, max_units=2)
    assert capacity_prices(free) is None


@pytest.mark.parametrize("seed", range(8))
def test_no_bundle_pays_at_capacity_prices(seed):
    """Every feasible bundle, enumerated, has a reduced value <= 0 at capacity prices."""
    p = random_problem(seed)
    if p.max_units == 0 and not np.isfinite(p.max_area_ha):
        p = replace(p, max_units=4)
    prices = capacity_prices(p)
    assert prices is not None and (prices >= 0).all()
    for b in feasible_bundles(p):
        assert p.bundle_objective(b) - prices[list(b)].sum() <= 1e-9


def triangle_of_pairs():
    """Three mutually adjacent 1 ha units worth 9 each, fixed cost 10, two units at most.

    A unit alone (9 - 10) fails the cost test; each pair pays 18 - 10 = 8, and the
    pairs overlap, so the optimum is 8.

    The capacity prices are 9 - 10/2 = 4 each (sum 12), and the set-packing LP is 12
    too: each pair at 1/2. The capacity bound with moats sees that the three units
    form one cluster with no moat (no other unit): covering all 3 needs two bundles,
    3 of 4 places filled, a deficit of 5; covering 2 leaves out the smallest price, 4;
    covering none leaves out 12. The least is 4, and 12 - 4 = 8 is the optimum.
    """
    return problem(
        [(0, 1), (1, 2), (0, 2)], [1, 1, 1], [9, 9, 9], fixed=10, min_area=1, max_units=2
    )


def test_capacity_bound_sees_the_integer_count_of_bundles_the_lp_cannot():
    p = triangle_of_pairs()
    assert capacity_prices(p).sum() == pytest.approx(12.0)
    pool = ColumnPool(p)
    for b in feasible_bundles(p):
        pool.add(b)
    assert solve_master_lp(pool, time_limit=5).value == pytest.approx(12.0)
    assert capacity_bound(p) == pytest.approx(8.0)
    res = solve_colgen(p, get_backend("highs"), SolveParams(time_limit=10, rel_gap=0.0))
    assert res.termination == Termination.OPTIMAL
    assert res.objective == pytest.approx(8.0) and res.bound == pytest.approx(8.0)


def test_a_plan_below_the_master_lp_is_beyond_a_proof_by_its_own_prices():
    # the triangle above: the best plan is one pair, 8, and the master LP over the
    # three pairs is 12. Prices on the plan's own units would make L = 8, but no
    # prices make L smaller than the LP, so a proof try is pointless; at an LP of 8
    # (a pool holding only the plan) it is not
    p = triangle_of_pairs()
    pool = ColumnPool(p)
    for b in feasible_bundles(p):
        pool.add(b)
    state = _State(p)
    state.offer([(0, 1)])
    assert state.best_obj == pytest.approx(8.0)
    assert _beyond_proof(state, solve_master_lp(pool, time_limit=5).value)
    assert not _beyond_proof(state, 8.0)
    assert not _beyond_proof(_State(p), 12.0)  # no plan yet


def test_capacity_bound_charges_a_lone_unit_for_its_moat():
    """Path 0-1-2-3 of 1 ha units worth 9, 9, 0 and 7, fixed cost 10, two units at most.

    Only {0, 1} pays (8); {2, 3} = 7 - 10 and {1, 2} = 9 - 10 do not, so the optimum
    is 8. Shares are 10/2 = 5 a unit: prices 4, 4, 0, 2 (capacity bound 10), and unit 2
    has slack 5 - 0 = 5. Unit 3 is a cluster of its own: a bundle inside it leaves 1
    of 2 places empty (deficit 5), leaving it out costs its price 2, so gamma = 2; a
    bundle that crosses its moat takes unit 2, whose slack 5 covers that 2. The
    cluster {0, 1} fills a bundle exactly (gamma 0). The bound is 10 - 2 = 8.
    """
    p = problem(path(4), [1] * 4, [9, 9, 0, 7], fixed=10, min_area=1, max_units=2)
    assert capacity_prices(p) == pytest.approx([4, 4, 0, 2])
    assert capacity_bound(p) == pytest.approx(8.0)
    assert best_plan(p, feasible_bundles(p)) == pytest.approx(8.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    rows=st.integers(2, 3),
    cols=st.integers(2, 4),
    max_units=st.integers(2, 5),
    scale=st.sampled_from([1.0, 3.0]),
)
def test_capacity_bound_is_never_below_the_enumerated_optimum(seed, rows, cols, max_units, scale):
    # scale 3 makes many units worth more than their share: clusters of all sizes
    p = random_problem(seed, rows, cols)
    p = replace(p, max_units=max_units, value=np.asarray(p.value) * scale)
    bound = capacity_bound(p)
    assert bound is not None
    optimum = best_plan(p, feasible_bundles(p))
    assert bound >= optimum - 1e-6
    assert bound <= capacity_prices(p).sum() + 1e-9


def test_master_lp_says_when_the_pool_cannot_cover_a_locked_in_unit():
    # D is locked in and the only column, {A, B, C}, leaves it out: no packing covers D
    p = replace(bridge_instance(), must_cover=np.array([False, False, False, True]))
    pool = ColumnPool(p)
    pool.add((0, 1, 2))
    with pytest.raises(MasterLpError, match="locked-in"):
        solve_master_lp(pool, time_limit=5)
    pool.add((2, 3))
    assert solve_master_lp(pool, time_limit=5).value == pytest.approx(9.0)


@pytest.mark.parametrize("backend", MIP)
def test_every_backend_solves_the_integer_master(backend):
    res = solve_colgen(bridge_instance(), get_backend(backend), SolveParams(time_limit=10))
    assert res.objective == pytest.approx(9.0)
    assert res.bound >= 9.0 - 1e-6


def test_merged_results_keep_the_better_plan_and_the_smaller_bound():
    from solvers.api import merge_results
    from solvers.problem import BundlingResult

    rooted = BundlingResult(Termination.FEASIBLE, 90.0, 100.0, None, 1.0, ((0, 1),), "highs")
    cg = BundlingResult(Termination.FEASIBLE, 90.0, 95.0, None, 1.0, ((1, 2),), "highs")
    tie = merge_results(rooted, cg, 1e-4)
    # equal objectives keep the first plan; 95 is valid and smaller than 100
    assert tie.bundles == ((0, 1),) and tie.bound == 95.0
    assert tie.gap == pytest.approx(5 / 90) and tie.termination == Termination.FEASIBLE
    better = BundlingResult(Termination.FEASIBLE, 95.0, 96.0, None, 1.0, ((1, 2),), "highs")
    closed = merge_results(rooted, better, 1e-4)
    # 95 beats 90; the bound is min(100, 96) = 96, a 1.05% gap: still open
    assert closed.bundles == ((1, 2),) and closed.bound == 96.0
    assert closed.termination == Termination.FEASIBLE
    exact = BundlingResult(Termination.FEASIBLE, 95.0, 95.0, None, 1.0, ((1, 2),), "highs")
    assert merge_results(rooted, exact, 1e-4).termination == Termination.OPTIMAL
