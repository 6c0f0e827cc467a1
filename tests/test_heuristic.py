"""The heuristic backend: hand-checked answers, feasibility, locked-in units, determinism.

Small problems are also solved by brute force (every connected feasible bundle,
then the best disjoint choice by dynamic programming over unit subsets), so the
heuristic's objective can be checked against the true optimum and its bound
against it.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from dataclasses import replace

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.base import SolveParams, Termination
from solvers.heuristic import selection, solve_bundling
from solvers.registry import get_backend
from tests.bundling_cases import CASES, grid_edges, path, problem

PARAMS = SolveParams(time_limit=10, seed=1)


def check(p, res):
    """Every rule of the problem on every bundle, disjointness, consistent figures."""
    g = p.graph()
    for b in res.bundles:
        assert p.bundle_violations(b, g) == [], b
        assert list(b) == sorted(b)
    covered = [j for b in res.bundles for j in b]
    assert len(covered) == len(set(covered)), "bundles overlap"
    if res.termination in (Termination.FEASIBLE, Termination.OPTIMAL):
        assert set(np.flatnonzero(p.must_cover)) <= set(covered)
        assert res.objective == pytest.approx(sum(p.bundle_objective(b) for b in res.bundles))
        if res.bound is not None:
            assert res.objective <= res.bound + 1e-6 * max(1.0, abs(res.bound))
    else:
        assert res.termination == Termination.NO_SOLUTION
        assert res.bundles == ()


def brute_force(p):
    """The optimum of a small problem (``None`` when must-cover units cannot be covered)."""
    g = p.graph()
    n = p.n
    best_of = {}  # bitmask of a feasible bundle -> its objective
    for k in range(1, n + 1):
        for members in itertools.combinations(range(n), k):
            if not nx.is_connected(g.subgraph(members)):
                continue
            if not p.bundle_violations(members, g):
                best_of[sum(1 << j for j in members)] = p.bundle_objective(members)
    must = sum(1 << j for j in np.flatnonzero(p.must_cover))
    # best[mask]: best plan using only units in mask, covering every must unit in mask
    neg = -np.inf
    best = {0: 0.0}
    for mask in range(1, 1 << n):
        low = mask & -mask
        # either the lowest unit is left out (allowed unless it must be covered) ...
        val = best[mask ^ low] if not (low & must) else neg
        # ... or it is in one bundle inside mask
        for b, v in best_of.items():
            if b & low and b & mask == b:
                rest = best[mask ^ b]
                if rest > neg and rest + v > val:
                    val = rest + v
        best[mask] = val
    out = best[(1 << n) - 1]
    return None if out == neg else out


@contextlib.contextmanager
def no_listing():
    """Switch off the exact listing of small problems, so the search itself is tested."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(selection._Selector, "ENUMERATE_MAX_SETS", 0)
        yield


def test_registry_entry_solves_a_known_problem():
    # path 0-1-2 of 100 ha units worth 20, -5 and 20, minimum 200 ha, fixed cost 10.
    # {0, 1} and {1, 2} are worth 20 - 5 - 10 = 5 each, but they overlap; {0, 1, 2} is
    # worth 35 - 10 = 25; no single unit reaches 200 ha. Optimum 25, one bundle of all.
    backend = get_backend("heuristic")
    assert backend.NAME == "heuristic" and backend.KIND == "heuristic"
    assert backend.is_available()
    p = problem(path(3), [100] * 3, [20, -5, 20])
    res = backend.solve_bundling(p, PARAMS)
    check(p, res)
    assert res.bundles == ((0, 1, 2),)
    assert res.objective == pytest.approx(25.0)
    assert res.termination == Termination.OPTIMAL


def test_algorithm_follows_the_objective():
    # the same max-p problem relabelled "npv" is solved by selection, which covers
    # nothing it need not (must_cover is what max-p sets) and reports no region count
    p = problem(grid_edges(3, 3), [100] * 9, [0] * 9, min_area=300, objective="max-p")
    res = solve_bundling(p, PARAMS)
    assert "regions" in res.message and res.objective == pytest.approx(3.0)
    res = solve_bundling(replace(p, objective="npv"), PARAMS)
    assert "regions" not in res.message
    # a max-p problem with a rule the partition ignores is refused, not half-solved
    with pytest.raises(ValueError, match="not a max-p problem: max_units is set"):
        solve_bundling(replace(p, max_units=2), PARAMS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_solved_cases_reach_the_optimum(case):
    p, optimum, bundles = CASES[case]()
    res = solve_bundling(p, PARAMS)
    check(p, res)
    assert res.objective == pytest.approx(optimum)
    if bundles is not None and case != "maxp_grid":
        assert res.bundles == bundles


def test_path_of_six_two_bundles_beat_one_through_poor_units():
    # 1x6 path of 100 ha units, minimum 200 ha, fixed cost 10. The two ends {0,1} and
    # {4,5} are worth 2 * (30 - 10) = 40; joining them through units 2 and 3 (-30 each)
    # gives 60 - 60 - 10 = -10, and any bundle holding 2 or 3 is worth less than
    # without it. Optimum 40 with exactly these two bundles.
    p = problem(path(6), [100] * 6, [15, 15, -30, -30, 15, 15])
    res = solve_bundling(p, PARAMS)
    check(p, res)
    assert res.bundles == ((0, 1), (4, 5))
    assert res.objective == pytest.approx(40.0)
    # small enough to list every feasible bundle and pack them exactly: a proof
    assert res.termination == Termination.OPTIMAL
    assert res.bound == pytest.approx(40.0)
    # the search alone finds the same plan, but only the cheap bound (the sum of
    # positive values, 60) backs it
    with no_listing():
        res = solve_bundling(p, PARAMS)
    check(p, res)
    assert res.bundles == ((0, 1), (4, 5))
    assert res.termination == Termination.FEASIBLE
    assert res.bound == pytest.approx(60.0)


@pytest.mark.parametrize(("threshold", "regions"), [(300, 3), (200, 4), (400, 2), (900, 1)])
def test_maxp_grid_reaches_the_area_bound(threshold, regions):
    # 3x3 grid of 100 ha units: 900 ha / threshold regions fit, and a partition into
    # that many connected regions exists (rows for 300; pairs plus a triple for 200;
    # 4 + 5 units for 400), so the bound is reached and proves optimality.
    p = problem(grid_edges(3, 3), [100] * 9, [0] * 9, min_area=threshold, objective="max-p")
    res = solve_bundling(p, PARAMS)
    check(p, res)
    assert len(res.bundles) == regions
    assert sorted(j for b in res.bundles for j in b) == list(range(9)), "every unit covered"
    assert res.termination == Termination.OPTIMAL
    assert res.bound == regions and res.gap == 0


def test_maxp_star_cannot_reach_the_area_bound():
    # A star: centre 0 with five 100 ha leaves, threshold 200 ha. The bound says 3
    # (600 / 200), but every region needs the centre or is a lone 100 ha leaf, so the
    # optimum is 1 region; the answer is feasible, not proven.
    p = problem([(0, k) for k in range(1, 6)], [100] * 6, [0] * 6, min_area=200, objective="max-p")
    res = solve_bundling(p, PARAMS)
    check(p, res)
    assert res.bundles == ((0, 1, 2, 3, 4, 5),)
    assert res.termination == Termination.FEASIBLE
    assert res.bound == 3


def test_maxp_unequal_thresholds_use_the_smallest_member_threshold():
    # Path of four 100 ha units; units 0 and 3 may be roots of 200 ha regions, units
    # 1 and 2 need 400 ha. {0,1} and {2,3} are feasible (rooted at 0 and 3): 2 regions.
    p = problem(path(4), [100] * 4, [0] * 4, min_area=200, objective="max-p")
    p = replace(p, min_area_ha=np.array([200.0, 400.0, 400.0, 200.0]))
    res = solve_bundling(p, PARAMS)
    check(p, res)
    assert res.bundles == ((0, 1), (2, 3))


def test_maxp_component_too_small_for_a_region():
    # Two components: path 0-1-2 (300 ha, one region of 300) and a lone 100 ha unit 3.
    p = problem(path(3), [100] * 4, [0] * 4, min_area=300, objective="max-p")
    res = solve_bundling(p, PARAMS)
    check(p, res)
    assert res.termination == Termination.NO_SOLUTION
    assert "u3" in res.message
    # when unit 3 need not be covered, it is simply left out
    q = replace(p, must_cover=np.array([True, True, True, False]))
    res = solve_bundling(q, PARAMS)
    check(q, res)
    assert res.bundles == ((0, 1, 2),)
    assert res.termination == Termination.OPTIMAL


def test_locked_in_unit_is_covered_even_at_a_loss():
    # Path 0-1-2 of 100 ha units worth 20, 20, -5; minimum 200, fixed 10. Free choice:
    # {0,1} = 30. With unit 2 locked in, the best is {0,1,2} = 35 - 10 = 25 (unit 2
    # alone is too small, and {1,2} leaves 0 alone: 15 - 10 = 5).
    p = problem(path(3), [100] * 3, [20, 20, -5], must=[False, False, True])
    res = solve_bundling(p, PARAMS)
    check(p, res)
    assert res.bundles == ((0, 1, 2),)
    assert res.objective == pytest.approx(25.0)


def test_locked_in_unit_that_cannot_be_bundled_is_named():
    # minimum 400 ha on a 300 ha path: no bundle exists for locked-in unit 2
    p = problem(path(3), [100] * 3, [10] * 3, min_area=400, must=[False, False, True])
    res = solve_bundling(p, PARAMS)
    check(p, res)
    assert res.termination == Termination.NO_SOLUTION
    assert "u2" in res.message


def test_no_feasible_bundle_gives_an_empty_plan():
    p, _, _ = CASES["cost_test_excludes"]()
    with no_listing():
        res = solve_bundling(p, PARAMS)
    assert res.termination == Termination.FEASIBLE
    assert res.bundles == () and res.objective == 0.0
    # listing every bundle proves that no bundle is feasible
    res = solve_bundling(p, PARAMS)
    assert res.termination == Termination.OPTIMAL
    assert res.bundles == () and res.objective == 0.0 and res.bound == 0.0


def test_nothing_worth_bundling_is_proven_optimal():
    # every value negative: the bound is 0 and the empty plan reaches it
    p = problem(path(4), [100] * 4, [-1, -2, -3, -4])
    with no_listing():
        res = solve_bundling(p, PARAMS)
    assert res.bundles == () and res.objective == 0.0
    assert res.termination == Termination.OPTIMAL


def test_warm_start_is_kept_when_nothing_beats_it_and_bad_ones_are_ignored():
    p, optimum, bundles = CASES["two_bundles_beat_one"]()
    res = solve_bundling(p, PARAMS, warm_start=[[0, 1], [3, 4]])
    assert res.bundles == bundles
    # an infeasible (disconnected) and an overlapping bundle are dropped, not returned
    res = solve_bundling(p, PARAMS, warm_start=[[0, 4], [0, 1], [1, 2]])
    check(p, res)
    assert res.objective == pytest.approx(optimum)


def random_grid_problem(rows, cols, seed, objective="npv", radius=None, must_p=0.0):
    rng = np.random.default_rng(seed)
    n = rows * cols
    area = rng.uniform(20, 150, n)
    if objective == "max-p":
        p = problem(
            grid_edges(rows, cols),
            area,
            [0] * n,
            min_area=float(rng.uniform(100, 400)),
            objective="max-p",
        )
        if rng.random() < 0.5:
            p = replace(p, min_area_ha=rng.choice([150.0, 250.0, 350.0], n))
        return p
    candidates = None
    if radius is not None:
        r, c = np.divmod(np.arange(n), cols)
        cheb = np.maximum(np.abs(r[:, None] - r), np.abs(c[:, None] - c))
        candidates = []
        for root in range(n):
            near = np.flatnonzero(cheb[root] <= radius)
            # keep what the root reaches through near units, as the builder does
            g = nx.Graph(grid_edges(rows, cols)).subgraph(near.tolist())
            candidates.append(np.array(sorted(nx.node_connected_component(g, root))))
        candidates = tuple(candidates)
    value = rng.normal(10, 25, n)
    return problem(
        grid_edges(rows, cols),
        area,
        value,
        fixed=float(rng.uniform(0, 40)),
        min_area=float(rng.uniform(50, 300)),
        max_area=float(rng.choice([np.inf, rng.uniform(200, 600)])),
        max_units=int(rng.choice([0, 3, 5])),
        slack=-value + rng.normal(0, 8, n),
        candidates=candidates,
        must=rng.random(n) < must_p,
        objective=objective,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(1, 3),
    cols=st.integers(2, 4),
    seed=st.integers(0, 10_000),
    objective=st.sampled_from(["npv", "credits", "max-p"]),
    radius=st.sampled_from([None, 1, 2]),
    must_p=st.sampled_from([0.0, 0.0, 0.15]),
    listing=st.booleans(),
)
def test_random_small_problems_feasible_and_no_better_than_brute_force(
    rows, cols, seed, objective, radius, must_p, listing
):
    p = random_grid_problem(rows, cols, seed, objective, radius, must_p)
    with contextlib.nullcontext() if listing else no_listing():
        res = solve_bundling(p, SolveParams(time_limit=5, seed=seed))
    check(p, res)
    optimum = brute_force(p)
    if optimum is None:
        assert res.termination == Termination.NO_SOLUTION
        return
    if res.termination == Termination.NO_SOLUTION:
        # allowed for a heuristic, but only with locked-in units (else the empty plan)
        assert p.must_cover.any()
        return
    assert res.objective <= optimum + 1e-6
    assert res.bound is None or res.bound >= optimum - 1e-6
    if res.termination == Termination.OPTIMAL:
        assert res.objective == pytest.approx(optimum)
    if listing and objective != "max-p":
        assert res.termination == Termination.OPTIMAL


def test_random_small_problems_mostly_solved_to_optimality():
    # the property test only asks for feasibility; on plain random grids the search
    # (without the exact listing) should also find the optimum nearly always
    hits = total = 0
    for seed in range(40):
        for objective in ("npv", "max-p"):
            p = random_grid_problem(3, 3, seed, objective, radius=1 if seed % 2 else None)
            optimum = brute_force(p)
            if optimum is None:
                continue
            with no_listing():
                res = solve_bundling(p, SolveParams(time_limit=5, seed=0))
            total += 1
            hits += res.objective == pytest.approx(optimum)
    assert hits >= 0.9 * total, (hits, total)


def _voronoi(n, seed=0):
    from benchmarks.bench_maxp import maxp_problem

    return maxp_problem(n, seed)


def test_same_seed_same_bundles():
    rng = np.random.default_rng(3)
    n = 36
    value = rng.normal(5, 10, n)
    p = problem(grid_edges(6, 6), rng.uniform(50, 150, n), value, min_area=300, fixed=15)
    runs = [solve_bundling(p, SolveParams(time_limit=30, seed=7)) for _ in range(2)]
    assert runs[0].bundles == runs[1].bundles and runs[0].bundles
    q = _voronoi(300)
    runs = [solve_bundling(q, SolveParams(time_limit=60, seed=7)) for _ in range(2)]
    assert "time limit" not in runs[0].message, "the search must stop on its own here"
    assert runs[0].bundles == runs[1].bundles
    check(q, runs[0])


def test_maxp_voronoi_close_to_the_bound():
    # 600 Voronoi cells with lognormal areas (mean 800 ha), threshold 10,000 ha:
    # area bound 48
    p = _voronoi(600, seed=1)
    res = solve_bundling(p, SolveParams(time_limit=3, seed=0))
    check(p, res)
    assert sorted(j for b in res.bundles for j in b) == list(range(p.n))
    assert len(res.bundles) >= 0.92 * res.bound, (len(res.bundles), res.bound)


@pytest.mark.parametrize("objective", ["max-p", "npv"])
def test_time_limit_is_respected(objective):
    p = _voronoi(3000)
    if objective == "npv":
        rng = np.random.default_rng(0)
        value = p.area_ha * rng.normal(2, 6, p.n)
        p = replace(
            p,
            value=value,
            bundle_value=-8000.0,
            slack=-value,
            bundle_slack=8000.0,
            max_area_ha=75_000.0,
            max_units=40,
            must_cover=np.zeros(p.n, bool),
            check_cost=True,
            objective="npv",
        )
    t0 = time.perf_counter()
    res = solve_bundling(p, SolveParams(time_limit=1.0, seed=0))
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.5, elapsed
    check(p, res)
    assert res.bundles
