"""Simulated annealing on plans: known answers, and feasibility against brute force."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.heuristic.anneal import anneal_plan
from solvers.problem import BundlingProblem
from tests.bundling_cases import assert_better_feasible_plan, problem
from tests.test_rooted_mip import best_plan, feasible_bundles, random_problem

# a star: unit 0 (worth 3) with a poor arm 1 (worth -2) and a rich arm 2 (worth 4),
# 100 ha each; a bundle needs 200 ha, holds at most two units and costs 1. The
# feasible bundles are {0, 1} (3 - 2 - 1 = 0) and {0, 2} (3 + 4 - 1 = 6): 1 and 2 do
# not touch, and all three are one unit too many
STAR = [(0, 1), (0, 2)]


def _star(**kw) -> BundlingProblem:
    return problem(STAR, [100] * 3, [3, -2, 4], fixed=1, max_units=2, **kw)


def _anneal(p, plan, seconds=0.2, seed=0):
    return anneal_plan(p, plan, time.perf_counter() + seconds, seed)


def test_full_bundle_swaps_its_poor_member_for_a_rich_neighbour():
    # from {0, 1} (worth 0), unit 2 joins the full bundle and the poor unit 1 leaves
    # it: {0, 2}, worth 6, the optimum (the only other bundle is {0, 1})
    p = _star()
    assert best_plan(p, feasible_bundles(p)) == 6
    assert _anneal(p, [(0, 1)]) == [(0, 2)]


def test_locked_in_unit_is_never_set_free():
    # unit 1 must be in a bundle, so {0, 1} is the only plan, though {0, 2} pays more
    p = _star(must=[False, True, False])
    assert _anneal(p, [(0, 1)]) == [(0, 1)]


def test_search_ends_early_when_nothing_can_move():
    # with unit 1 locked in, no move is allowed at all (unit 2 could only take the
    # locked unit's place, unit 0 cannot leave a bundle of 100 ha): the search gives up
    # after IDLE_DRAWS draws instead of waiting for its deadline, a minute away
    p = _star(must=[False, True, False])
    start = time.perf_counter()
    assert anneal_plan(p, [(0, 1)], start + 60.0, seed=0) == [(0, 1)]
    assert time.perf_counter() - start < 30.0


def test_moves_respect_the_roots_limits():
    # root 0 may take units 0 and 1 only, root 2 unit 2 only, and 1 may not be a
    # root: {0, 2} has no root, so the plan cannot change
    cands = (np.array([0, 1]), np.array([], int), np.array([2]))
    p = _star(candidates=cands)
    assert p.bundle_violations((0, 2))
    assert _anneal(p, [(0, 1)]) == [(0, 1)]


def test_nothing_to_do_returns_the_plan():
    p = _star()
    assert _anneal(p, []) == []
    # past its deadline the search returns the plan as it came, sorted
    assert anneal_plan(p, [(1, 0)], time.perf_counter() - 1.0, seed=0) == [(0, 1)]


def _random_plan(p, bundles, rng) -> list[tuple[int, ...]]:
    """A feasible plan: disjoint bundles taken in a random order."""
    plan, used = [], set()
    for k in rng.permutation(len(bundles)):
        b = bundles[k]
        if not used & set(b):
            plan.append(b)
            used.update(b)
    return plan


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    rows=st.integers(2, 3),
    cols=st.integers(3, 4),
    max_units=st.sampled_from([None, 2, 3]),
    lock=st.booleans(),
)
def test_plans_stay_feasible_and_never_beat_the_enumerated_optimum(
    seed, rows, cols, max_units, lock
):
    p = random_problem(seed, rows, cols)
    if max_units is not None:
        p = replace(p, max_units=max_units)
    bundles = feasible_bundles(p)
    optimum = best_plan(p, bundles)
    start = _random_plan(p, bundles, np.random.default_rng(seed))
    if lock and start:
        # the start plan's first bundle is locked in: every later plan must cover it
        must = np.zeros(p.n, bool)
        must[list(start[0])] = True
        p = replace(p, must_cover=must)
    assert_better_feasible_plan(p, start, _anneal(p, start, 0.1, seed), optimum)
