"""Near-optimal alternatives (``psbundle plan --alternatives K``): known answers, the limits
as a property of random problems, the verified plan-level wrapper and the command line."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundler.errors import InputError
from bundler.planning.alternatives import COLUMNS, alt_column, plan_alternatives
from bundler.planning.verify import plan_violations
from solvers.alternatives import DONE, EXHAUSTED, difference_share, find_alternatives
from solvers.api import solve_bundling
from solvers.base import SolveParams
from solvers.registry import get_backend
from tests.bundling_cases import path, problem, two_bundles_beat_one
from tests.cli_helpers import EXPORT_PLAN, one_error, run_cli, write_scoreable_export
from tests.scored import plan_grid, planned_grid
from tests.test_rooted_mip import random_problem

HIGHS = get_backend("highs")
PARAMS = SolveParams(time_limit=10, seed=0)


# ---------------------------------------------------------------- known answers


def test_the_second_best_plan_of_a_path_is_found_then_the_third():
    # Path 0-1-2-3-4 of 100 ha units, values 20, 20, -30, 20, 20, fixed cost 10 per
    # bundle, minimum 200 ha (tests/bundling_cases.two_bundles_beat_one). Every plan:
    #   {0,1} {3,4}          2 x (40 - 10)            = 60   the best, units Q = {0,1,3,4}
    #   {0,1,2,3,4}          80 - 30 - 10             = 40   units {0..4}: |S Δ Q| = 1,
    #                                                        |S ∪ Q| = 5: share 1/5 = 0.2
    #   {0,1} {2,3,4}        30 + (40 - 30 - 10 = 0)  = 30   units {0..4}, as above
    #   {0,1,2} {3,4}        0 + 30                   = 30   units {0..4}, as above
    #   {0,1} or {3,4}       40 - 10                  = 30   share with Q: 2/4 = 0.5
    #   {0,1,2,3}, {1,2,3,4} 60 - 30 - 10             = 20
    # With D = 0.2 (a tie is enough) and a loss of at most 50% (objective >= 30):
    # alt1 is the whole path (40, the second-best plan). alt2 must also differ from alt1
    # by 20%: the 30s over all five units do not (share 0 with alt1), {0,1} does (3/5
    # with alt1, 1/2 with the best), and so does {3,4}; alt3 is the other one ({0,1} vs
    # {3,4}: share 1). Nothing else reaches 30, so the search stops after three.
    p, best, bundles = two_bundles_beat_one()
    assert best == 60.0
    res = find_alternatives([p], [list(bundles)], 5, HIGHS, 0.5, 0.2, PARAMS)
    assert res.stop == EXHAUSTED
    assert res.best_objective == 60.0 and res.floor == 30.0
    found = [(a.bundles[0], a.objective) for a in res.alternatives]
    assert found[0] == (((0, 1, 2, 3, 4),), 40.0)
    assert res.alternatives[0].difference_from_best == pytest.approx(0.2)
    assert sorted(found[1:]) == [(((0, 1),), 30.0), (((3, 4),), 30.0)]
    assert [a.nearest for a in res.alternatives] == [0, 0, 0]
    # D = 0.25: the whole path differs by 0.2 only, so the first alternative is a 30
    res = find_alternatives([p], [list(bundles)], 1, HIGHS, 0.5, 0.25, PARAMS)
    assert res.stop == DONE
    assert res.alternatives[0].objective == 30.0
    assert res.alternatives[0].difference_from_best == pytest.approx(0.5)


def test_difference_and_loss_are_measured_over_the_whole_plan():
    # The path above twice, as two independent components: the best plan has four
    # bundles, 120, eight units. One component's whole path with the other's best plan
    # (100) differs by 1/9 < 0.2. Dropping any one of the four bundles (90) leaves six
    # units: share 2/8 = 0.25. Both whole paths (80) differ by 2/10 = 0.2. Other mixes
    # change one unit or lose more. So alt1 is worth 90, a loss of 25%, ...
    p, _, bundles = two_bundles_beat_one()
    q, _, _ = two_bundles_beat_one()
    best = [list(bundles), list(bundles)]
    res = find_alternatives([p, q], best, 1, HIGHS, 0.3, 0.2, PARAMS)
    assert res.best_objective == 120.0
    (alt,) = res.alternatives
    assert alt.objective == 90.0
    assert sum(len(c) for c in alt.bundles) == 3
    assert alt.difference_from_best == pytest.approx(0.25)
    # ... and with a loss of at most 20% (objective >= 96) there is none
    res = find_alternatives([p, q], best, 3, HIGHS, 0.2, 0.2, PARAMS)
    assert res.stop == EXHAUSTED and res.alternatives == ()


def test_an_empty_best_plan_asks_for_a_non_empty_one():
    # 0-1 worth 30 each, fixed cost 100: every bundle loses money, so 0 is the best
    # plan. The only feasible bundle, {0,1} (60 - 100 = -40), is a plan that differs
    # from the empty one in all of its units; at a loss of 100% of 0 (nothing), none.
    p = problem(path(2), [100, 100], [30, 30], fixed=100, min_area=200, slack=[-200, -200])
    assert not p.bundle_violations([0, 1])
    res = find_alternatives([p], [[]], 2, HIGHS, 1.0, 0.5, PARAMS)
    assert res.best_objective == 0.0 and res.alternatives == ()
    assert res.stop == EXHAUSTED


def test_limits_out_of_range_are_refused():
    p, _, bundles = two_bundles_beat_one()
    for kwargs in ({"min_difference": 0.0}, {"min_difference": 1.5}, {"max_loss": -0.1}):
        with pytest.raises(ValueError):
            find_alternatives([p], [list(bundles)], 1, HIGHS, **kwargs)


# ---------------------------------------------------------------- the limits, always


def _units(alt_bundles, offsets) -> frozenset[int]:
    return frozenset(offsets[c] + j for c, comp in enumerate(alt_bundles) for b in comp for j in b)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seeds=st.lists(st.integers(0, 10_000), min_size=1, max_size=2),
    max_loss=st.sampled_from([0.0, 0.1, 0.3, 1.0]),
    d=st.sampled_from([0.1, 0.2, 0.25, 1 / 3, 0.5, 1.0]),
)
def test_every_alternative_keeps_the_limits_against_every_earlier_plan(seeds, max_loss, d):
    problems = [random_problem(s) for s in seeds]
    best = [
        [list(b) for b in solve_bundling(p, "highs", SolveParams(time_limit=5)).bundles]
        for p in problems
    ]
    res = find_alternatives(problems, best, 3, HIGHS, max_loss, d, PARAMS)
    assert res.stop in (DONE, EXHAUSTED)
    assert res.stop != DONE or len(res.alternatives) == 3
    offsets = [sum(p.n for p in problems[:c]) for c in range(len(problems))]
    best_value = sum(
        p.bundle_objective(b) for p, comp in zip(problems, best, strict=True) for b in comp
    )
    earlier = [_units(best, offsets)]
    for alt in res.alternatives:
        value = 0.0
        for p, comp in zip(problems, alt.bundles, strict=True):
            g = p.graph()
            seen: set[int] = set()
            for b in comp:
                assert not p.bundle_violations(b, g), b
                assert not seen & set(b), "bundles overlap"
                seen |= set(b)
                value += p.bundle_objective(b)
        assert value == pytest.approx(alt.objective)
        assert value >= best_value - max_loss * abs(best_value) - 1e-6
        units = _units(alt.bundles, offsets)
        assert units == alt.units
        shares = [difference_share(units, q) for q in earlier]
        assert min(shares) >= d - 1e-9, shares
        assert alt.difference_from_nearest == pytest.approx(min(shares))
        earlier.append(units)


# ---------------------------------------------------------------- the plan-level wrapper


@pytest.fixture(scope="module")
def grid_plan(tmp_path_factory):
    return planned_grid(tmp_path_factory.mktemp("grid"), 4, 15.0, PARAMS)


def test_alternatives_are_verified_plans_with_their_own_figures(grid_plan):
    units, scen, gap, plan = grid_plan
    alts = plan_alternatives(units, plan, scen, gap, 3, 0.5, 0.2, params=PARAMS)
    assert alts.plans, alts.note
    assert list(alts.table.columns) == COLUMNS
    assert alts.table["plan"].tolist() == ["best"] + [
        f"alt{i}" for i in range(1, len(alts.plans) + 1)
    ]
    pset = plan.problem_set
    for i, alt in enumerate(alts.plans, start=1):
        members = alt.bundles["unit_ids"].tolist()
        assert not plan_violations(
            units, members, scen, gap, "npv", pset.min_area_of_unit, pset.max_cost_per_tco2e
        )
        assert alt.bundles["bundle_id"].str.startswith(f"A{i}-").all()
        assert alt.bound == plan.bound and alt.objective <= plan.bound + 1e-6
        assert set(alts.unit_columns()[alt_column(i)]) - {""} == set(alt.bundles["bundle_id"])
    rows = alts.table.iloc[1:]
    assert (rows["difference_from_nearest"] >= 0.2 - 1e-9).all()
    assert (rows["loss"] <= 0.5 + 1e-9).all()
    assert (rows["gap"] >= 0).all()
    if len(alts.plans) < 3:
        assert "of 3 alternatives found" in alts.note
    else:
        assert alts.note == ""


def test_a_max_p_plan_has_no_alternatives(grid_plan):
    units, scen, gap, _ = grid_plan
    maxp = plan_grid(units, scen, PARAMS, objective="max-p")
    with pytest.raises(InputError, match="max-p"):
        plan_alternatives(units, maxp, scen, gap, 2)


# ---------------------------------------------------------------- the command line

run = run_cli


PLAN = EXPORT_PLAN


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The ministry-export fixture, scoreable (as in test_cli)."""
    return write_scoreable_export(tmp_path_factory.mktemp("export"))


def test_plan_writes_the_alternatives(export, tmp_path):
    out = tmp_path / "plan"
    result = run("plan", export, "--out", out, *PLAN, "--alternatives", 2, "--max-loss", 30,
                 "--min-difference", 0.1)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "alternatives.csv" in " ".join(result.output.split()).split("plan written to")[-1]
    assert "Near-optimal alternatives" in result.output
    table = pd.read_csv(out / "alternatives.csv")
    assert list(table.columns) == COLUMNS
    found = len(table) - 1
    assert found >= 1 and table["plan"].iloc[0] == "best"
    assert (table["difference_from_nearest"].iloc[1:] >= 0.1 - 1e-6).all()
    assert (table["loss"].iloc[1:] <= 0.3 + 1e-6).all()
    facts = json.loads((out / "run.json").read_text())
    assert "alternatives.csv" in facts["files"]
    assert facts["alternatives"]["requested"] == 2
    assert facts["alternatives"]["found"] == found
    assert facts["alternatives"]["min_difference"] == 0.1
    assert facts["alternatives"]["max_loss"] == pytest.approx(0.3)
    layer = gpd.read_file(out / "plan.gpkg", layer="units", read_geometry=False)
    columns = [alt_column(i) for i in range(1, found + 1)]
    assert list(layer.columns[3 : 3 + found]) == columns
    for i, column in enumerate(columns, start=1):
        ids = set(layer[column].fillna("")) - {""}
        assert ids and all(b.startswith(f"A{i}-") for b in ids)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Near-optimal alternatives" in report and "difference_from_best" in report


def test_fewer_alternatives_than_asked_for_say_why(export, tmp_path):
    out = tmp_path / "plan"
    result = run("plan", export, "--out", out, *PLAN, "--alternatives", 40, "--max-loss", 1)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "of 40 alternatives found" in text
    facts = json.loads((out / "run.json").read_text())
    assert facts["alternatives"]["found"] < 40
    assert facts["alternatives"]["note"] and facts["alternatives"]["note"] in text


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--alternatives", 2, "--min-difference", 2), "--min-difference"),
        (("--alternatives", 2, "--min-difference", 0), "--min-difference"),
        (("--alternatives", 2, "--max-loss", 150), "--max-loss"),
        (("--alternatives", -1), "--alternatives"),
        (("--max-loss", 5), "only apply with --alternatives"),
        (("--alternatives", 2, "--objective", "max-p"), "max-p"),
    ],
)
def test_bad_alternative_settings_are_one_clear_error(export, tmp_path, flags, says):
    out = tmp_path / "o"
    result = run("plan", export, "--out", out, *flags)
    assert result.exit_code == 2, result.output
    errors = one_error(result)
    assert len(errors) == 1 and says in result.output
    assert not out.exists()
