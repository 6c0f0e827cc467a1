"""Estimation step: hand-computed economics, IRR and breakeven, bundling gain, and agreement
with the optimizer's linear cost model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
import shapely.affinity

from bundler.config.economics import EconomicsSection
from bundler.config.scenario import Scenario
from bundler.economics.costmodel import (
    COST_CATEGORIES,
    bundle_cost_breakdown,
    bundle_economics,
    cost_breakdown,
    linear_coefficients,
    rewet_peat_ha,
    unit_credits_by_year,
)
from bundler.economics.estimation import SUMMARY_COLUMNS, estimate_bundles, estimate_plan, irr
from bundler.errors import InputError
from bundler.geometry import union_area_ha
from bundler.graph.adjacency import build_adjacency
from bundler.planning.planner import plan_bundles
from solvers.base import SolveParams
from tests.scored import scored_grid

# Simple numbers for a hand computation: 3 years at 25% (d = 0.8, 0.64, 0.512),
# price 10, buffer 20% and leakage 25% (kept 0.6), ARR at full uptake from year 2.
HAND = EconomicsSection(
    carbon_price_usd=10.0,
    discount_rate=0.25,
    crediting_years=3,
    buffer=0.2,
    leakage=0.25,
    uncertainty=0.0,
    arr_ramp_years=2,
    feasibility_usd=100.0,
    project_document_usd=200.0,
    validation_usd=300.0,
    verification_usd=1000.0,
    verification_interval_years=3,
    registry_account_usd_yr=10.0,
    registry_levy_usd_per_credit=0.5,
    pnbp_usd_per_credit=0.0,
    liaison_usd_yr=40.0,
    liaison_years=2,
    monitoring_usd_yr=20.0,
    liaison_step_increase=0.0,
    monitoring_step_increase=0.0,
    unit_onboarding_usd=5.0,
    unit_monitoring_usd_yr=1.0,
    transaction_usd_ha_yr=0.0,
)


def _hand_units(tmp_path):
    # unit U000 protects 1,000 t/yr; unit U001 plants trees for 500 t/yr at full uptake
    units = scored_grid(tmp_path, 1, 2, protect=[1000.0, 0.0])
    units.loc[units.index[1], "potential_arr_tco2e_yr"] = 500.0
    return units


def test_hand_computed_bundle(tmp_path):
    units = _hand_units(tmp_path)
    est = estimate_bundles(units, {"B1": ["U000", "U001"]}, HAND)
    s = est.summary.iloc[0]
    y = est.yearly
    # gross: protect 1000 each year, ARR 250 (half uptake), 500, 500 -> 1250, 1500, 1500;
    # credits x 0.6: 750, 900, 900 (mean 850); revenue x 10: 7500, 9000, 9000
    assert y["credits_tco2e"].tolist() == pytest.approx([0, 750, 900, 900])
    assert y["revenue_usd"].tolist() == pytest.approx([0, 7500, 9000, 9000])
    assert s["credits_tco2e_yr"] == pytest.approx(850)
    assert s["gross_protect_tco2e_yr"] == pytest.approx(1000)
    assert s["gross_arr_tco2e_yr"] == pytest.approx(1250 / 3)
    # deductions of a mean gross 4250/3: buffer 20%, leakage 25% of the remaining 80%
    assert s["buffer_tco2e_yr"] == pytest.approx(0.2 * 4250 / 3)
    assert s["leakage_tco2e_yr"] == pytest.approx(0.2 * 4250 / 3)
    assert s["uncertainty_tco2e_yr"] == 0
    # costs: year 0 = 100 + 200 + 300 + 2 units x 5 = 610
    # year t = registry 10 + monitoring 20 + liaison 40 (t <= 2) + verification 1000 (t = 3)
    #          + 2 units x 1 + levy 0.5 x credits -> 447, 522, 1482
    assert y["costs_usd"].tolist() == pytest.approx([610, 447, 522, 1482])
    assert y["cost_fixed_usd"].tolist() == pytest.approx([600, 70, 70, 30])
    assert y["cost_verification_usd"].tolist() == pytest.approx([0, 0, 0, 1000])
    assert y["cost_levy_pnbp_usd"].tolist() == pytest.approx([0, 375, 450, 450])
    # PV: credits 750 x .8 + 900 x .64 + 900 x .512 = 1636.8; revenue 16368;
    # costs 610 + 447 x .8 + 522 x .64 + 1482 x .512 = 2060.464; NPV 14307.536
    assert s["pv_credits"] == pytest.approx(1636.8)
    assert s["pv_revenue"] == pytest.approx(16368)
    assert s["pv_costs"] == pytest.approx(2060.464)
    assert s["npv_usd"] == pytest.approx(14307.536)
    assert y["discounted_net_usd"].sum() == pytest.approx(14307.536)
    assert s["upfront_usd"] == pytest.approx(610)
    # breakeven = 2060.464 / 1636.8 (flat price)
    assert s["breakeven_price_usd"] == pytest.approx(2060.464 / 1636.8)
    # alone: U000 NPV 9891.288, U001 3188.088; the gain is one set of fixed costs:
    # 600 + 70 x .8 + 70 x .64 + 1030 x .512 = 1228.16
    assert s["standalone_npv_usd"] == pytest.approx(9891.288 + 3188.088)
    assert s["bundling_gain_usd"] == pytest.approx(1228.16)
    assert s["main_intervention"] == "protect"
    assert list(est.summary.columns) == SUMMARY_COLUMNS


def test_totals_equal_the_exact_cost_model(tmp_path):
    units = scored_grid(tmp_path, 3, 3, seed=4)
    rng = np.random.default_rng(1)
    ids = units["unit_id"].tolist()
    bundles = {
        f"H{k}": list(rng.choice(ids, size=rng.integers(1, 6), replace=False)) for k in range(6)
    }
    econ = EconomicsSection()
    est = estimate_bundles(units, bundles, econ)
    for row in est.summary.to_dict("records"):
        sub = units[units["unit_id"].isin(bundles[row["bundle_id"]])]
        sub = sub.set_index("unit_id").loc[bundles[row["bundle_id"]]].reset_index()
        e = bundle_economics(sub, row["area_ha"], econ)
        assert row["npv_usd"] == e.npv
        assert row["pv_costs"] == e.pv_costs
        assert row["pv_credits"] == e.pv_credits
        assert row["credits_tco2e_yr"] == e.credits_tco2e_yr
        assert row["cost_per_tco2e"] == e.cost_per_tco2e
        y = est.yearly[est.yearly["bundle_id"] == row["bundle_id"]]
        parts = y[[f"cost_{c}_usd" for c in COST_CATEGORIES]].sum(axis=1)
        np.testing.assert_allclose(parts, y["costs_usd"], rtol=1e-12)
        np.testing.assert_allclose(y["costs_usd"], e.costs_by_year, rtol=0)
        assert y["discounted_net_usd"].sum() == pytest.approx(e.npv, rel=1e-9)
        assert (y["revenue_usd"] * y["discount_factor"]).sum() == pytest.approx(e.pv_revenue)


def _varied_units(tmp_path):
    """A grid whose neighbours overlap, one unit in two parts, ARR and peat that rewets."""
    units = scored_grid(tmp_path, 3, 4, side=5000, step=4600, seed=5)
    rng = np.random.default_rng(5)
    units["potential_arr_tco2e_yr"] = rng.uniform(0, 5000, len(units))
    units["potential_peat_tco2e_yr"] = np.where(rng.random(len(units)) < 0.5, 800.0, 0.0)
    units["rewet_ha"] = np.where(units["potential_peat_tco2e_yr"] > 0, 120.0, 0.0)
    # a unit in two parts: its union, not the sum of its parts, is what it is charged for
    first = units.geometry.iloc[0]
    units.loc[units.index[0], "geometry"] = first.union(shapely.affinity.translate(first, 0, 9e4))
    return units


def test_standalone_values_are_each_unit_alone_by_the_exact_cost_model(tmp_path):
    units = _varied_units(tmp_path)
    econ = EconomicsSection(price_escalation=0.03)
    ids = units["unit_id"].tolist()
    bundles = {"A": ids[:5], "B": ids[3:9], "C": ids[::-1]}  # overlapping, reversed
    est = estimate_bundles(units, bundles, econ)
    alone = {}
    for k, uid in enumerate(ids):
        one = units.iloc[[k]]
        alone[uid] = bundle_economics(one, union_area_ha(one.geometry.values), econ).npv
    for row in est.summary.to_dict("records"):
        # the same sum in the same order: equal, not merely close
        assert row["standalone_npv_usd"] == float(sum(alone[u] for u in bundles[row["bundle_id"]]))
        assert row["bundling_gain_usd"] == row["npv_usd"] - row["standalone_npv_usd"]
        idx = [ids.index(u) for u in bundles[row["bundle_id"]]]  # in the bundle's order
        e = bundle_economics(units.iloc[idx], union_area_ha(units.geometry.values[idx]), econ)
        assert (row["npv_usd"], row["pv_revenue"]) == (e.npv, e.pv_revenue)


def test_many_bundles_cost_as_each_one_alone(tmp_path):
    units = _varied_units(tmp_path)
    econ = EconomicsSection()
    credits = unit_credits_by_year(units, econ)
    rewet = rewet_peat_ha(units)
    area = units["area_ha"].to_numpy() * 1.5  # several size steps
    many = cost_breakdown(np.arange(1, len(units) + 1), rewet, area, econ, credits)
    for k in range(len(units)):
        one = bundle_cost_breakdown(units.iloc[[k]], area[k], econ, credits[k])
        assert one.keys() == many.keys()
        for name in COST_CATEGORIES:
            scaled = cost_breakdown(k + 1, rewet[k], area[k], econ, credits[k])[name]
            np.testing.assert_array_equal(many[name][k], scaled)
            if name != "per_unit":  # one unit here, k + 1 in `many`
                np.testing.assert_array_equal(one[name], scaled)


def test_irr_and_breakeven_are_consistent(tmp_path):
    units = scored_grid(tmp_path, 2, 2, seed=2)
    econ = EconomicsSection(price_escalation=0.02)
    est = estimate_bundles(units, {"B": units["unit_id"].tolist()}, econ)
    s = est.summary.iloc[0]
    # NPV at the breakeven price is zero
    at_breakeven = dataclasses.replace(econ, carbon_price_usd=s["breakeven_price_usd"])
    again = estimate_bundles(units, {"B": units["unit_id"].tolist()}, at_breakeven)
    assert abs(again.summary["npv_usd"].iloc[0]) < 1e-6 * s["pv_costs"]
    # NPV at the IRR is zero, and the IRR exceeds the discount rate when NPV > 0
    assert s["npv_usd"] > 0 and s["irr"] is not None and s["irr"] > econ.discount_rate
    net = est.yearly["net_usd"].to_numpy()
    t = est.yearly["year"].to_numpy(float)
    assert abs(net @ (1 + s["irr"]) ** -t) < 1e-6 * abs(net).sum()


def test_irr_edge_cases():
    assert irr([-100.0, 110.0]) == pytest.approx(0.10)
    assert irr([-100.0, 0.0, 121.0]) == pytest.approx(0.10)
    assert irr([100.0, 10.0]) is None  # never negative
    # -1 + 5x - 6x^2 = 0 at x = 1/(1+r) = 1/2 and 1/3: two rates (100% and 200%)
    assert irr([-1.0, 5.0, -6.0]) is None


def test_bundling_two_small_units_gains_their_shared_fixed_costs(tmp_path):
    units = scored_grid(tmp_path, 1, 2, protect=[3000.0, 3000.0])
    econ = EconomicsSection()
    est = estimate_bundles(units, {"B": ["U000", "U001"], "A": ["U000"]}, econ)
    both, alone = est.summary.iloc[0], est.summary.iloc[1]
    assert both["bundling_gain_usd"] > 0
    # standalone units of this size lose money; each counts with its negative NPV
    assert both["standalone_npv_usd"] < 0
    assert alone["bundling_gain_usd"] == pytest.approx(0, abs=1e-6)


def test_unknown_units_and_empty_bundles_are_input_errors(tmp_path):
    units = scored_grid(tmp_path, 1, 2)
    with pytest.raises(InputError, match="unknown unit"):
        estimate_bundles(units, {"B": ["U000", "nope"]}, EconomicsSection())
    with pytest.raises(InputError, match="no units"):
        estimate_bundles(units, {"B": []}, EconomicsSection())


@pytest.mark.parametrize("seed", range(8))
def test_linear_model_is_conservative_against_the_exact_one(tmp_path, seed):
    # a 3x4 grid whose neighbours overlap by 400 m (step < side), random bundles
    units = scored_grid(tmp_path, 3, 4, side=5000, step=4600, seed=seed)
    assert (units["area_excl_ha"] < units["area_ha"]).any()
    units["potential_arr_tco2e_yr"] = np.random.default_rng(seed).uniform(0, 5000, len(units))
    econ = EconomicsSection()
    coef = linear_coefficients(units, econ)
    rng = np.random.default_rng(seed)
    ids = units["unit_id"].tolist()
    bundles = {
        f"R{k}": sorted(rng.choice(ids, size=rng.integers(1, 8), replace=False)) for k in range(5)
    }
    est = estimate_bundles(units, bundles, econ)
    for row in est.summary.to_dict("records"):
        idx = np.flatnonzero(units["unit_id"].isin(bundles[row["bundle_id"]]))
        lin_cost = coef.bundle_pv_cost + coef.pv_cost[idx].sum()
        assert lin_cost >= row["pv_costs"] - 1e-9 * row["pv_costs"]
        assert coef.pv_credits[idx].sum() == pytest.approx(row["pv_credits"], rel=1e-12)
        assert coef.credits_yr[idx].sum() == pytest.approx(row["credits_tco2e_yr"], rel=1e-12)


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_linear_and_exact_models_are_equal_on_whole_size_steps(tmp_path, steps):
    # no overlaps (200 m gaps) and a size step that divides the bundle's area exactly
    units = scored_grid(tmp_path, 2, 3, seed=steps)
    ids = units["unit_id"].tolist()[: 2 * steps]
    area = estimate_bundles(units, {"B": ids}, EconomicsSection()).summary["area_ha"].iloc[0]
    econ = EconomicsSection(scale_step_ha=area / steps)
    est = estimate_bundles(units, {"B": ids}, econ)
    coef = linear_coefficients(units, econ)
    idx = np.flatnonzero(units["unit_id"].isin(ids))
    assert coef.bundle_pv_cost + coef.pv_cost[idx].sum() == pytest.approx(
        est.summary["pv_costs"].iloc[0], rel=1e-9
    )
    assert coef.pv_credits[idx].sum() == pytest.approx(est.summary["pv_credits"].iloc[0])


def test_estimate_plan_end_to_end(tmp_path):
    units = scored_grid(tmp_path, 3, 4, seed=3)
    units["households"] = 100.0
    scen = Scenario().with_values({"bundling.min_area_ha": 5000, "bundling.max_units": 4})
    plan = plan_bundles(
        units, build_adjacency(units, 500.0), scen, 500.0, params=SolveParams(time_limit=30)
    )
    assert len(plan.bundles)
    est, priority, sharing, termination = estimate_plan(units, plan, scen)
    assert termination == "optimal"
    # the plan's own economics are the estimation's
    merged = plan.bundles.merge(est.summary, on="bundle_id", suffixes=("", "_est"))
    np.testing.assert_allclose(merged["npv_usd"], merged["npv_usd_est"], rtol=1e-12)
    np.testing.assert_allclose(merged["cost_usd"], merged["pv_costs"], rtol=1e-12)
    assert set(priority["bundle_id"]) == set(plan.bundles["bundle_id"])
    assert priority["rank"].tolist() == list(range(1, len(priority) + 1))
    cents = (sharing["amount_usd"] * 100).round().groupby(sharing["bundle_id"]).sum()
    expected = (est.summary.set_index("bundle_id")["pv_revenue"] * 100).round()
    assert (cents == expected.loc[cents.index]).all()
