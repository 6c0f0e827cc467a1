"""Importance of units (``psbundle plan --importance``): known answers for the loss of a
bridging unit and for a join price, the bounds as properties of random problems, the
plan-level wrapper and the command line."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundler.errors import InputError
from bundler.planning.importance import COLUMNS, plan_importance
from solvers.api import solve_bundling
from solvers.base import SolveParams
from solvers.importance import (
    PriceSlopes,
    bundle_price,
    price_thresholds,
    replacement_importance,
    without_unit,
)
from tests.bundling_cases import problem
from tests.cli_helpers import EXPORT_PLAN, one_error, run_cli, write_scoreable_export
from tests.scored import plan_grid, planned_grid
from tests.test_rooted_mip import best_plan, feasible_bundles, random_problem

PARAMS = SolveParams(time_limit=10, seed=0)


# ---------------------------------------------------------------- known answers


def bridge_case():
    """Units 0 (20 ha, value 10), 1 (5 ha, value 0), 2 (20 ha, value 10), 3 (10 ha, value 2);
    edges 0-1, 1-2, 0-3; minimum 40 ha; each bundle costs 5.

    The connected sets of 40 ha or more are {0,1,2} (45 ha, 20 - 5 = 15) and {0,1,2,3}
    (55 ha, 22 - 5 = 17); {0,1,3} has 35 ha and {0,3} 30. So the optimum is 17, all four
    units. Without the bridge 1 the graph falls apart into {0,3} (30 ha) and {2} (20 ha):
    no bundle, 0, a loss of 17. Without 0 only {1,2} is left (25 ha): a loss of 17;
    without 2, {0,1,3} (35 ha): 17. Without 3 the best is {0,1,2}, 15: a loss of 2.
    """
    return problem([(0, 1), (1, 2), (0, 3)], [20, 5, 20, 10], [10, 0, 10, 2], fixed=5, min_area=40)


def test_the_importance_of_a_bridging_unit_is_the_hand_computed_loss():
    p = bridge_case()
    plan = solve_bundling(p, "highs", PARAMS)
    assert plan.bundles == ((0, 1, 2, 3),) and plan.objective == pytest.approx(17)
    (rows,) = replacement_importance([p], [plan.bundles], [plan.bound], "highs", PARAMS)
    loss = {r.unit: r for r in rows}
    for unit, expected in {0: 17, 1: 17, 2: 17, 3: 2}.items():
        r = loss[unit]
        assert r.resolved and r.proven  # to PARAMS' gap, 1e-4 of the plan's 17
        assert r.loss == pytest.approx(expected)
        assert r.low == pytest.approx(expected) and r.high == pytest.approx(expected)


def test_without_time_the_loss_keeps_the_plans_bounds():
    # no time to solve again: the warm start (the bundle without the unit, when it is
    # still feasible and pays) gives the upper end, 0 the lower. Without 3, {0,1,2} is
    # still feasible (15), so 3's loss is at most 17 - 15 = 2; without the bridge no piece
    # reaches 40 ha, so its loss is at most 17.
    p = bridge_case()
    plan = solve_bundling(p, "highs", PARAMS)
    (rows,) = replacement_importance(
        [p], [plan.bundles], [plan.bound], "highs", SolveParams(time_limit=1e-6)
    )
    loss = {r.unit: r for r in rows}
    assert not any(r.resolved for r in rows)
    assert (loss[3].low, loss[3].high, loss[3].loss) == (0.0, pytest.approx(2), pytest.approx(2))
    assert (loss[1].low, loss[1].high) == (0.0, pytest.approx(17))


def test_a_locked_in_unit_is_not_measured_and_its_bridges_are_indispensable():
    # bridge_case with unit 3 locked in: any plan must bundle 3, and the only bundle with 3
    # that reaches 40 ha needs 0, 1 and 2 (without 2: {0,1,3} has 35 ha; without 1 or 0
    # unit 3 is cut off from the rest). So without 0, 1 or 2 no plan meets the rules: an
    # infinite loss, proven by the re-solve. Locking 3 itself out would also drop the
    # requirement to bundle it, so its loss is not measured.
    p = replace(bridge_case(), must_cover=np.array([False, False, False, True]))
    plan = solve_bundling(p, "highs", PARAMS)
    (rows,) = replacement_importance([p], [plan.bundles], [plan.bound], "highs", PARAMS)
    loss = {r.unit: r for r in rows}
    assert loss[3].locked and math.isnan(loss[3].loss) and not loss[3].resolved
    for u in (0, 1, 2):
        assert loss[u].resolved and loss[u].low == math.inf and loss[u].proven


def test_a_unit_out_of_the_problem_leaves_a_renumbered_problem():
    p = bridge_case()
    sub, kept = without_unit(p, 1)
    assert kept.tolist() == [0, 2, 3]
    assert sub.n == 3 and sub.edges.tolist() == [[0, 2]]  # only 0-3 is left, renumbered
    assert sub.unit_ids == ("u0", "u2", "u3")
    with pytest.raises(ValueError):
        without_unit(p, 4)


def price_case():
    """Units 0 and 1 of 100 ha each, and 2 (100 ha) beside 1; minimum 200 ha; each bundle
    has fixed costs of 100. At price p a unit's cost-test slack is 50 - 10 p (costs 50,
    credits 10) and its value 10 p - 50 (revenue 10 p); unit 2 has costs of 10^6 and no
    credits. The problem is written at p = 5.

    {0,1} passes the cost test when 100 + 2 (50 - 10 p) <= 0, p >= 10, and pays when
    2 (10 p - 50) - 100 >= 0, p >= 10: both units join at exactly 10 USD. Every bundle with
    unit 2 holds {0,1} too (200 ha) and carries its 10^6 of costs: {0,1,2} passes when
    20 p >= 10^6 + 200, p >= 50,010 USD, far above a search range that ends at 100: it never
    joins within it.
    """
    p0 = 5.0
    p = problem(
        [(0, 1), (1, 2)],
        [100, 100, 100],
        [10 * p0 - 50, 10 * p0 - 50, -1e6],
        fixed=100,
        min_area=200,
        slack=[50 - 10 * p0, 50 - 10 * p0, 1e6],
    )
    slopes = PriceSlopes(p0, np.array([10.0, 10.0, 0.0]), np.array([-10.0, -10.0, 0.0]))
    return p, slopes


def test_the_join_price_of_a_pair_is_the_hand_computed_one():
    p, slopes = price_case()
    assert bundle_price(p, slopes, (0, 1)) == pytest.approx(10.0)
    assert bundle_price(p, slopes, (0, 1, 2)) == pytest.approx(50_010.0)
    th = {t.unit: t for t in price_thresholds(p, slopes, [0, 1, 2], 100.0, 5.0)}
    for u in (0, 1):
        assert th[u].high == pytest.approx(10.0) and set(th[u].witness) == {0, 1}
        # the proven lower end is within the bisection's resolution of 10
        assert 9.8 <= th[u].low <= 10.0 and not th[u].never
    assert th[2].never and th[2].high == math.inf and th[2].low >= 100.0


# ---------------------------------------------------------------- properties


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), cols=st.integers(2, 3))
def test_the_loss_bounds_hold_the_enumerated_loss(seed, cols):
    p = random_problem(seed, 2, cols)
    plan = solve_bundling(p, "highs", PARAMS)
    opt = best_plan(p, feasible_bundles(p))
    (rows,) = replacement_importance([p], [plan.bundles], [plan.bound], "highs", PARAMS)
    assert {r.unit for r in rows} == {j for b in plan.bundles for j in b}
    for r in rows:
        sub, _ = without_unit(p, r.unit)
        true_loss = opt - best_plan(sub, feasible_bundles(sub))
        assert r.low - 1e-6 <= true_loss <= r.high + 1e-6
        assert r.low - 1e-6 <= r.loss <= r.high + 1e-6


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), cols=st.integers(2, 4))
def test_join_prices_bracket_the_enumerated_threshold(seed, cols):
    p = random_problem(seed, 2, cols)
    rng = np.random.default_rng(seed)
    slopes = PriceSlopes(5.0, rng.uniform(0, 4, p.n).round(1), -rng.uniform(0, 4, p.n).round(1))
    # every bundle that meets the rules apart from the economic tests, and its price
    shapes = feasible_bundles(replace(p, check_cost=False, value=np.abs(p.value)))
    true = {u: math.inf for u in range(p.n)}
    for b in shapes:
        price = bundle_price(p, slopes, b)
        for u in b:
            true[u] = min(true[u], price)
    for t in price_thresholds(p, slopes, range(p.n), 60.0, 5.0, seed=seed):
        assert t.low <= t.high
        assert t.low <= true[t.unit] + 1e-6, (t, true[t.unit])
        if t.high < math.inf:
            assert true[t.unit] <= t.high + 1e-6
            assert t.unit in t.witness
            assert not replace(p, check_cost=False).bundle_violations(t.witness)
            assert bundle_price(p, slopes, t.witness) == pytest.approx(t.high)
        if t.never:
            assert true[t.unit] > 60.0 - 1e-6


# ---------------------------------------------------------------- the plan-level wrapper


@pytest.fixture(scope="module")
def grid_plan(tmp_path_factory):
    return planned_grid(tmp_path_factory.mktemp("grid"), 4, 15.0, PARAMS)


def test_every_unit_gets_a_row_that_answers_its_question(grid_plan):
    units, scen, _, plan = grid_plan
    imp = plan_importance(units, plan, scen, params=PARAMS)
    t = imp.table
    assert list(t.columns) == COLUMNS and len(t) == len(units)
    inside = t["bundle_id"] != ""
    assert (t.loc[inside, "importance_low"] <= t.loc[inside, "importance"] + 1e-6).all()
    assert (t.loc[inside, "importance"] <= t.loc[inside, "importance_high"] + 1e-6).all()
    assert t.loc[inside, "join_price_usd"].isna().all()
    assert t.loc[~inside, "importance"].isna().all()
    # a unit outside has a join price, or a note that says why not
    outside = t[~inside]
    assert (outside["join_price_usd"].notna() | (outside["note"] != "")).all()
    joined = outside[outside["join_price_usd"].notna()]
    assert (joined["join_price_low_usd"] <= joined["join_price_usd"] + 1e-9).all()
    assert imp.facts()["units_in_plan"] == int(inside.sum())


def test_a_max_p_plan_has_no_importance(grid_plan):
    units, scen, _, _ = grid_plan
    maxp = plan_grid(units, scen, PARAMS, objective="max-p")
    with pytest.raises(InputError, match="max-p"):
        plan_importance(units, maxp, scen)


# ---------------------------------------------------------------- the command line

run = run_cli


PLAN = EXPORT_PLAN


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The ministry-export fixture, scoreable (as in test_cli)."""
    return write_scoreable_export(tmp_path_factory.mktemp("export"))


def test_plan_writes_the_importance(export, tmp_path):
    out = tmp_path / "plan"
    result = run("plan", export, "--out", out, *PLAN, "--importance", "--importance-time", 8,
                 "--max-price", 60)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "importance.csv" in " ".join(result.output.split()).split("plan written to")[-1]
    assert "Importance of units" in result.output
    table = pd.read_csv(out / "importance.csv", dtype={"unit_id": str, "bundle_id": str})
    assert list(table.columns) == COLUMNS
    facts = json.loads((out / "run.json").read_text())
    assert "importance.csv" in facts["files"]
    assert facts["importance"]["max_price_usd"] == 60.0
    assert facts["importance"]["budget_s"] == 8.0
    assert facts["importance"]["units_in_plan"] == int(table["bundle_id"].notna().sum())
    layer = gpd.read_file(out / "plan.gpkg", layer="units", read_geometry=False)
    assert {"importance", "join_price_usd"} <= set(layer.columns)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Importance of units" in report


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--importance-time", 5), "only apply with --importance"),
        (("--max-price", 50), "only apply with --importance"),
        (("--importance", "--objective", "max-p"), "max-p"),
        (("--importance", "--max-price", 0), "--max-price"),
    ],
)
def test_bad_importance_settings_are_one_clear_error(export, tmp_path, flags, says):
    out = tmp_path / "o"
    result = run("plan", export, "--out", out, *flags)
    assert result.exit_code == 2, result.output
    errors = one_error(result)
    assert len(errors) <= 1 and says in result.output
    assert not out.exists()
