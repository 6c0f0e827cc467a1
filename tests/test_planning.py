"""Planning end to end on hand-made layers, and the verifier against planted violations."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundler.config.scenario import Scenario
from bundler.economics.costmodel import bundle_economics, linear_coefficients
from bundler.graph.adjacency import build_adjacency
from bundler.planning.planner import plan_bundles
from bundler.planning.problem_builder import REASON_ISOLATED, build_problems
from bundler.planning.verify import plan_violations
from solvers.base import SolveParams, Termination
from tests.scored import scored_grid

GAP = 500.0
PARAMS = SolveParams(time_limit=30, seed=0)


def _scenario(**bundling):
    return Scenario().with_values({f"bundling.{k}": v for k, v in bundling.items()})


def _plan(units, scen, solver="highs", objective=None):
    g = build_adjacency(units, GAP)
    return plan_bundles(units, g, scen, GAP, solver=solver, params=PARAMS, objective=objective)


def _violations(units, scen, bundles, objective="npv"):
    pset = build_problems(units, build_adjacency(units, GAP), scen, objective)
    return plan_violations(
        units, bundles, scen, GAP, objective, pset.min_area_of_unit, pset.max_cost_per_tco2e
    )


def test_strong_units_make_bundles_and_weak_ones_stay_out(tmp_path):
    # 1x6 row of 2,500 ha squares (200 m apart, within the 500 m gap rule).
    # Units 0-2 are rich (40,000 t/yr), units 3-5 have nothing to credit.
    # With a 5,000 ha minimum, the rich units form bundles; the empty ones add
    # only costs, so the optimum leaves them out.
    units = scored_grid(tmp_path, 1, 6, protect=[40_000] * 3 + [0] * 3)
    scen = _scenario(min_area_ha=5000, max_units=3)
    plan = _plan(units, scen)
    assert plan.termination == Termination.OPTIMAL
    selected = set(plan.unit_bundle[plan.unit_bundle != ""].index)
    assert selected <= {0, 1, 2} and len(selected) >= 2
    assert (plan.unit_reason.iloc[3:] != "").all()
    # the plan's NPV is the exact model's, and positive
    assert plan.bundles["npv_usd"].sum() > 0
    assert (plan.bundles["cost_per_tco2e"] <= 5.0 + 1e-9).all()


def test_backends_agree_on_a_small_layer(tmp_path):
    units = scored_grid(tmp_path, 3, 4, seed=3)
    scen = _scenario(min_area_ha=5000, max_units=4)
    objs = {s: _plan(units, scen, s).objective for s in ("highs", "cbc", "cpsat")}
    first = objs["highs"]
    assert all(v == pytest.approx(first, rel=1e-6) for v in objs.values()), objs


def test_impossible_minimum_area_gives_a_valid_empty_plan(tmp_path):
    units = scored_grid(tmp_path, 2, 2)
    plan = _plan(units, _scenario(min_area_ha=7e4))
    assert len(plan.bundles) == 0
    assert plan.termination == Termination.OPTIMAL
    assert (plan.unit_reason == REASON_ISOLATED).all()
    assert "No bundle meets the rules" in plan.explanation


def test_same_input_and_seed_give_the_same_plan(tmp_path):
    units = scored_grid(tmp_path, 3, 3, seed=5)
    scen = _scenario(min_area_ha=5000, max_units=3)
    a = _plan(units, scen)
    b = _plan(units, scen)
    assert a.bundles["unit_ids"].tolist() == b.bundles["unit_ids"].tolist()


def test_maxp_partitions_every_unit(tmp_path):
    # 3x3 grid of 2,500 ha squares, threshold 7,500 ha: at most 9 * 2500 / 7500 = 3 regions,
    # and the rows reach it. Every unit is in a region (a partition).
    units = scored_grid(tmp_path, 3, 3)
    plan = _plan(units, _scenario(min_area_ha=7400), objective="max-p")
    assert plan.termination == Termination.OPTIMAL
    assert plan.objective == pytest.approx(3.0)
    assert (plan.unit_bundle != "").all()


def test_linear_cost_model_never_accepts_what_the_exact_model_rejects(tmp_path):
    units = scored_grid(tmp_path, 2, 3, seed=2)
    econ = Scenario().economics
    coef = linear_coefficients(units, econ)
    geoms = units.geometry.values
    import itertools

    import shapely

    for k in range(1, 7):
        for idx in itertools.combinations(range(6), k):
            idx = list(idx)
            union = shapely.union_all(geoms[idx]).area / 1e4
            exact = bundle_economics(units.iloc[idx], union, econ)
            linear_cost = coef.bundle_pv_cost + coef.pv_cost[idx].sum()
            assert linear_cost >= exact.pv_costs - 1e-6
            assert coef.pv_credits[idx].sum() == pytest.approx(exact.pv_credits)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 3), cols=st.integers(2, 4))
def test_verified_plans_hold_and_planted_violations_are_caught(tmp_path, seed, rows, cols):
    units = scored_grid(tmp_path, rows, cols, seed=seed)
    scen = _scenario(min_area_ha=5000, max_units=3)
    plan = _plan(units, scen, solver="heuristic")  # plan_bundles verifies before returning
    bundles = [list(b) for b in plan.bundles["unit_ids"]]
    assert _violations(units, scen, bundles) == []
    ids = units["unit_id"].tolist()
    # a unit in two bundles
    if bundles:
        twice = [*bundles, [bundles[0][0]]]
        assert any("is in bundles" in v for v in _violations(units, scen, twice))
        # a bundle shrunk below the minimum area
        small = [[bundles[0][0]], *bundles[1:]]
        assert any("below the minimum" in v for v in _violations(units, scen, small))
    # a bundle of two units far apart: not connected
    if rows * cols >= 3 and cols >= 3:
        far = [[ids[0], ids[cols - 1]]]
        assert any("not connected" in v for v in _violations(units, scen, far))
    # a bundle of units with nothing to credit fails the cost test
    poor = units.copy()
    poor["potential_protect_tco2e_yr"] = 0.0
    pair = [[ids[0], ids[1]]]
    assert any("levelized cost" in v for v in _violations(poor, scen, pair))


def test_once_the_time_limit_is_spent_the_rest_get_the_heuristic_only(tmp_path):
    # 1x6 row, 10 km apart: six components of one unit each. With a time limit that
    # is spent before the first component starts, every component goes to the
    # heuristic alone (no MIP a second each), and the plan is still verified and
    # honest: each single unit is enumerated, so each component is proven optimal.
    units = scored_grid(tmp_path, 1, 6, step=15_000.0, protect=[40_000, 0] * 3)
    scen = _scenario(min_area_ha=2000)
    g = build_adjacency(units, GAP)
    spent = SolveParams(time_limit=1e-9, seed=0)
    plan = plan_bundles(units, g, scen, GAP, solver="highs", params=spent)
    assert [r.solver for _, r in plan.component_results] == ["heuristic"] * 6
    assert plan.termination == Termination.OPTIMAL
    full = plan_bundles(units, g, scen, GAP, solver="highs", params=PARAMS)
    # the quick answers are the exact ones here: units 0, 2, 4 alone pay off
    assert plan.objective == pytest.approx(full.objective)
    assert sorted(plan.bundles["unit_ids"].map(tuple)) == sorted(
        full.bundles["unit_ids"].map(tuple)
    )
    assert len(plan.bundles) == 3
