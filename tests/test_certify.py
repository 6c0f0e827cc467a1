"""Proving a plan optimal with prices on its own units (solvers.colgen.certify)."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.colgen.certify import PlanCertifier, plan_prices
from solvers.colgen.master import ColumnPool
from solvers.colgen.root_bounds import ExactRootBounds, RootSets
from solvers.heuristic.common import neighbours
from solvers.mip.rooted import reduce_candidates
from tests.test_colgen import bridge_instance
from tests.test_rooted_mip import best_plan, feasible_bundles, random_problem


def _certify(p, plan, center=None):
    sets = RootSets.from_valid(reduce_candidates(p, p.graph()))
    exact = ExactRootBounds(p, neighbours(p.n, p.edges))
    pool = ColumnPool(p)
    center = np.ones(p.n) if center is None else center
    trial = PlanCertifier(p, exact, sets, plan, center, pool, 5.0)
    cert = trial.attempt(time.perf_counter() + 30)
    assert cert.final
    return cert.bound, pool


def test_the_best_plan_of_the_bridge_is_proven_by_prices_on_its_units():
    # path A-B-C-D, values 5, -10, 5, 5, fixed cost 1, minimum 200 ha (tests.test_colgen):
    # the plan {C, D} is worth -1 + 5 + 5 = 9. Prices 4.5 on C and on D (the plan's
    # value spread evenly, as the center is flat) leave the only other feasible
    # bundle, {A, B, C, D} (worth 4), a reduced value of 4 - 9 = -5, so no root holds
    # a paying bundle and the bound is 9 + 0 = 9: the plan is optimal
    p = bridge_instance()
    prices = plan_prices(p, [(2, 3)], np.ones(4))
    assert prices.tolist() == [0.0, 0.0, 4.5, 4.5]
    bound, _ = _certify(p, [(2, 3)])
    assert bound == pytest.approx(9.0, abs=1e-4)


def test_a_worse_plan_is_not_proven_and_its_witness_joins_the_pool():
    # the plan {A, B, C, D} is worth 4: its prices sum to 4, so {C, D} (worth 9) keeps
    # a reduced value of at least 9 - 4 = 5 whatever their spread; no prices on the
    # plan's units can price it out (they would need pi_C + pi_D >= 9 > 4)
    p = bridge_instance()
    bound, pool = _certify(p, [(0, 1, 2, 3)])
    assert math.isinf(bound)
    assert (2, 3) in pool.bundles


def test_a_plan_with_a_negative_bundle_of_free_units_gets_no_prices():
    # prices below zero are only allowed on locked-in units' rows
    p = bridge_instance()
    assert plan_prices(p, [(0, 1)], np.ones(4)) is None
    locked = replace(p, must_cover=np.array([True, True, False, False]))
    assert plan_prices(locked, [(0, 1)], np.ones(4)).tolist() == [-3.0, -3.0, 0.0, 0.0]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), rows=st.integers(2, 3), cols=st.integers(2, 4))
def test_a_certified_bound_is_never_below_the_enumerated_optimum(seed, rows, cols):
    """Any plan, any spread of the first prices: the bound holds the optimum."""
    p = random_problem(seed, rows, cols)
    bundles = feasible_bundles(p)
    optimum = best_plan(p, bundles)
    rng = np.random.default_rng(seed)
    plan = _greedy_plan(p, bundles)
    if not plan:
        return
    bound, pool = _certify(p, plan, rng.uniform(0, 10, p.n))
    assert bound >= optimum - 1e-6
    if math.isfinite(bound):
        assert bound == pytest.approx(sum(p.bundle_objective(b) for b in plan), abs=1e-3)
    for b in pool.bundles:
        assert not p.bundle_violations(b)


def _greedy_plan(p, bundles):
    """The best bundles in turn, each disjoint from the ones before."""
    plan, used = [], set()
    for b in sorted(bundles, key=lambda b: -p.bundle_objective(b)):
        if p.bundle_objective(b) > 0 and not used & set(b):
            plan.append(b)
            used |= set(b)
    return plan


def test_most_optimal_plans_of_small_grids_are_proven():
    """Prices on the plan's units suffice for most optimal plans, never for a worse one.

    On the 3 x 4 grids of seeds 0-19 the greedy plan is optimal 16 times and 13 of
    those are proven (the others need prices on units outside the plan, or the
    set-packing LP is above the optimum there); none of the 3 worse plans is.
    """
    proven = optimal = 0
    for seed in range(20):
        p = random_problem(seed, 3, 4)
        bundles = feasible_bundles(p)
        plan = _greedy_plan(p, bundles)
        if not plan:
            continue
        value = sum(p.bundle_objective(b) for b in plan)
        is_optimal = value >= best_plan(p, bundles) - 1e-6
        bound, _ = _certify(p, plan)
        optimal += is_optimal
        proven += math.isfinite(bound)
        assert is_optimal or math.isinf(bound)
    assert optimal == 16
    assert proven >= 11
