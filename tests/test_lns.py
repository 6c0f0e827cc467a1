"""Large-neighbourhood search on plans: a known answer, and feasibility by brute force."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.base import SolveParams
from solvers.colgen import solve_colgen
from solvers.colgen.neighbourhood import (
    LnsStats,
    bundle_groups,
    improve_by_regions,
    improve_plan,
    surroundings,
)
from solvers.heuristic.common import neighbours
from solvers.problem import restrict
from solvers.registry import get_backend
from tests.bundling_cases import assert_better_feasible_plan, path, problem
from tests.test_rooted_mip import best_plan, feasible_bundles, random_problem


def _value(p, plan) -> float:
    return float(sum(p.bundle_objective(b) for b in plan))


def _search(p, plan, seconds, seed=0, size=5):
    def search(until, rng, nbrs, stats):
        backend = get_backend("highs")
        params = SolveParams(time_limit=seconds, seed=seed)
        return improve_plan(p, backend, params, plan, until, rng, nbrs, stats=stats)

    return _run(p, search, seconds, seed, LnsStats(size=size))


def _run(p, search, seconds, seed, stats):
    until = time.perf_counter() + seconds
    out = search(until, np.random.default_rng(seed), neighbours(p.n, p.edges), stats)
    return out, stats


def _greedy(p, bundles) -> list[tuple[int, ...]]:
    """Paying bundles taken best first, each disjoint from the ones before."""
    plan: list[tuple[int, ...]] = []
    used: set[int] = set()
    for b in sorted(bundles, key=p.bundle_objective, reverse=True):
        if p.bundle_objective(b) > 0 and not used & set(b):
            plan.append(b)
            used.update(b)
    return plan


def test_search_finds_the_optimum_a_greedy_plan_misses():
    # a path of eight 100 ha units worth 1, 10, 10, 1, 1, 10, 10, 1; a bundle needs
    # 200 ha and holds at most two units (so it is a pair of neighbours) and costs 1.
    # Best bundle first takes the rich middles {1, 2} and {5, 6} (19 each), then
    # {3, 4} (1 + 1 - 1 = 1): 39, and the end units 0 and 7 are left alone. The
    # optimum pairs every rich unit with a poor one: {0, 1}, {2, 3}, {4, 5}, {6, 7},
    # 4 * (11 - 1) = 40 (eight units make at most four bundles, each at most 10 but
    # {1, 2} and {5, 6}, which leave two units unpaired).
    p = problem(path(8), [100] * 8, [1, 10, 10, 1, 1, 10, 10, 1], fixed=1, max_units=2)
    greedy = _greedy(p, feasible_bundles(p))
    assert sorted(greedy) == [(1, 2), (3, 4), (5, 6)] and _value(p, greedy) == 39
    assert best_plan(p, feasible_bundles(p)) == 40
    plan, stats = _search(p, greedy, 5.0, size=4)
    assert sorted(plan) == [(0, 1), (2, 3), (4, 5), (6, 7)]
    assert stats.improved >= 1


def test_search_starts_from_an_empty_plan():
    # no bundle yet (every walk meets free units only): the search still builds a plan,
    # here the optimum of the instance above, four pairs worth 10 each
    p = problem(path(8), [100] * 8, [1, 10, 10, 1, 1, 10, 10, 1], fixed=1, max_units=2)
    plan, _ = _search(p, [], 3.0, size=4)
    assert _value(p, plan) == 40


def test_bundle_groups_are_the_largest_sets_of_up_to_three_adjacent_bundles():
    # path 0-9 with bundles A {0, 1}, B {2, 3}, C {5, 6}, D {8, 9}: A touches B, B and C
    # are one free unit (4) apart, C and D one free unit (7) apart, so the bundles form
    # the chain A-B-C-D. Its connected sets of at most three bundles that no larger one
    # holds are A-B-C and B-C-D (A-B, A, ... lie inside them; A-B-D is not connected).
    # B-C-D holds unit 9, worth -5 (a member worth less than nothing: room to gain), so
    # it comes first. Neighbourhoods hold the bundles' own units only.
    owner = np.full(10, -1)
    plan = [(0, 1), (2, 3), (5, 6), (8, 9)]
    for b, members in enumerate(plan):
        owner[list(members)] = b
    nbrs = neighbours(10, np.array(path(10)))
    value = np.array([3.0] * 9 + [-5.0])
    assert bundle_groups(nbrs, owner, plan, value, 10) == [[2, 3, 5, 6, 8, 9], [0, 1, 2, 3, 5, 6]]
    # at most five units: both groups are too large
    assert bundle_groups(nbrs, owner, plan, value, 5) == []
    # two bundles far apart (three free units between them) share no group
    far = [(0, 1), (5, 6)]
    owner2 = np.full(10, -1)
    owner2[[0, 1]], owner2[[5, 6]] = 0, 1
    assert bundle_groups(nbrs, owner2, far, value, 10) == [[0, 1], [5, 6]]


def test_restricted_problem_keeps_only_the_chosen_units():
    p = problem(path(5), [100] * 5, [5] * 5, fixed=1, min_area=200)
    sub, kept = restrict(p, [4, 1, 2, 1])
    assert kept.tolist() == [1, 2, 4]
    assert sub.n == 3 and sub.edges.tolist() == [[0, 1]]
    assert sub.value.tolist() == [5.0, 5.0, 5.0]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    rows=st.integers(2, 3),
    cols=st.integers(3, 4),
    lock=st.booleans(),
)
def test_plans_stay_feasible_and_never_beat_the_enumerated_optimum(seed, rows, cols, lock):
    p = random_problem(seed, rows, cols)
    bundles = feasible_bundles(p)
    optimum = best_plan(p, bundles)
    start = _greedy(p, bundles)
    used = {j for b in start for j in b}
    if lock and start:
        # the start plan's units become locked in: every later plan must cover them
        must = np.zeros(p.n, bool)
        must[sorted(used)] = True
        p = type(p)(**{**p.__dict__, "must_cover": must})
    plan, _ = _search(p, start, 1.0, seed=seed, size=4)
    assert_better_feasible_plan(p, start, plan, optimum)


def _regions(p, plan, seconds, seed=0):
    backend = get_backend("highs")

    def solve_sub(sub, warm, limit):
        return solve_colgen(sub, backend, SolveParams(time_limit=limit, seed=seed), warm_start=warm)

    def search(until, rng, nbrs, stats):
        return improve_by_regions(p, solve_sub, plan, until, rng, nbrs, stats=stats)

    return _run(p, search, seconds, seed, LnsStats())


def test_surroundings_stop_at_other_bundles():
    # path 0-7 with bundles {2, 3} and {5, 6}: from {2, 3}, one step reaches the free
    # units 1 and 4, two steps also 0; unit 5 belongs to the other bundle and ends the walk
    owner = np.full(8, -1)
    owner[[2, 3]], owner[[5, 6]] = 0, 1
    nbrs = neighbours(8, np.array(path(8)))
    assert surroundings(nbrs, owner, (2, 3), 1) == [1, 2, 3, 4]
    assert surroundings(nbrs, owner, (2, 3), 2) == [0, 1, 2, 3, 4]
    assert surroundings(nbrs, owner, (2, 3), 0) == [2, 3]


def test_regions_split_a_bundle_with_its_free_neighbours():
    # a path of four 100 ha units worth 10 each; a bundle needs 200 ha, holds at most two
    # units and costs 1. The plan {1, 2} (19) leaves 0 and 3 alone; the region around it
    # holds all four units, and the optimum there is {0, 1} and {2, 3}: 2 * 19 = 38
    p = problem(path(4), [100] * 4, [10] * 4, fixed=1, max_units=2)
    assert best_plan(p, feasible_bundles(p)) == 38
    plan, stats = _regions(p, [(1, 2)], 5.0)
    assert sorted(plan) == [(0, 1), (2, 3)]
    assert stats.improved == 1


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), rows=st.integers(2, 3), cols=st.integers(3, 4))
def test_regions_keep_plans_feasible_and_never_beat_the_enumerated_optimum(seed, rows, cols):
    p = random_problem(seed, rows, cols)
    bundles = feasible_bundles(p)
    optimum = best_plan(p, bundles)
    start = _greedy(p, bundles)
    plan, _ = _regions(p, start, 1.5, seed=seed)
    assert_better_feasible_plan(p, start, plan, optimum)
