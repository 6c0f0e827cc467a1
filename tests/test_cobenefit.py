"""Co-benefit per unit (biodiversity by default) and the floor on a plan's total
(``--cobenefit-column``, ``--min-cobenefit``)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bundler.cli.commands import app
from bundler.errors import InputError
from bundler.planning.cobenefit_floor import plan_cobenefit_total, plan_min_cobenefit
from bundler.planning.verify import plan_violations
from bundler.scoring.cobenefit import add_cobenefit, cobenefit_from_raster
from solvers.base import SolveParams
from solvers.cobenefit import (
    FOUND,
    UNREACHABLE,
    dominated,
    find_with_floor,
    pareto_front,
    plan_cobenefit,
)
from solvers.registry import get_backend
from tests.bundling_cases import path, problem, two_bundles_beat_one
from tests.layers import ministry_export
from tests.scored import planned_grid
from tests.test_rasters import grid
from tests.test_rasters import units as raster_units

HIGHS = get_backend("highs")
PARAMS = SolveParams(time_limit=10, seed=0)
runner = CliRunner()


# ---------------------------------------------------------------- the solver


def test_the_floor_forces_the_poor_bridge_into_the_plan():
    # Path 0-1-2-3-4, areas 100, minimum 200 ha, fixed cost 10, values 20, 20, -30, 20, 20.
    # Without a floor: {0,1} and {3,4}, 2 * (40 - 10) = 60, co-benefit 0 + 0 = 0.
    # Co-benefit 50 on unit 2 only, floor 50: unit 2 must be in a bundle. The plans with it:
    # {0,1,2,3,4}: 80 - 30 - 10 = 40; {0,1,2} + {3,4}: (40 - 30 - 10) + 30 = 30 (and its
    # mirror); {1,2,3}: 10 - 10 = 0 (0 and 4 alone are below 200 ha). Best: 40, co-benefit 50.
    p, best_value, best = two_bundles_beat_one()
    cob = np.array([0.0, 0.0, 50.0, 0.0, 0.0])
    res = find_with_floor([p], [best], [cob], 50.0, HIGHS, PARAMS)
    assert res.stop == FOUND
    assert res.bundles == (((0, 1, 2, 3, 4),),)
    assert res.objective == pytest.approx(40.0) and best_value == 60.0
    assert res.cobenefit == pytest.approx(50.0)


def test_a_floor_above_every_unit_together_is_proved_unreachable():
    p, _, best = two_bundles_beat_one()
    res = find_with_floor([p], [best], [np.full(5, 10.0)], 50.5, HIGHS, PARAMS)
    assert res.stop == UNREACHABLE and res.bundles is None
    assert res.max_cobenefit == pytest.approx(50.0)


def test_bad_floor_or_cobenefit_is_refused():
    p, _, best = two_bundles_beat_one()
    with pytest.raises(ValueError):
        find_with_floor([p], [best], [np.zeros(5)], -1.0, HIGHS, PARAMS)
    with pytest.raises(ValueError):
        find_with_floor([p], [best], [np.array([1, -1, 0, 0, 0.0])], 1.0, HIGHS, PARAMS)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.integers(-30, 40), min_size=4, max_size=8),
    cob=st.data(),
    share=st.floats(0.0, 1.0),
)
def test_a_plan_found_meets_its_floor_and_is_feasible(values, cob, share):
    n = len(values)
    p = problem(path(n), [100] * n, values)
    v = np.asarray(cob.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), float)
    floor = share * float(v.sum())
    res = find_with_floor([p], [[]], [v], floor, HIGHS, PARAMS)
    if res.stop != FOUND:
        return
    bundles = res.bundles[0]
    used = [j for b in bundles for j in b]
    assert len(used) == len(set(used))
    graph = p.graph()
    for b in bundles:
        assert not p.bundle_violations(list(b), graph)
    assert plan_cobenefit(res.bundles, [v]) >= floor - 1e-6 * max(1.0, floor)
    assert res.objective == pytest.approx(sum(p.bundle_objective(b) for b in bundles))


def test_a_two_point_pareto_front_by_hand():
    # The path above with co-benefit 50 on unit 2. The best plan {0,1} + {3,4}: objective 60,
    # co-benefit 0. The largest co-benefit of any plan is 50 (unit 2 in a bundle), so three
    # floors are 0, 25 and 50. Floor 0: the best plan (60, 0). Floors 25 and 50: unit 2 must
    # be in a bundle, best {0,1,2,3,4} = 80 - 30 - 10 = 40 (see the floor test), (40, 50).
    # The second repeats the plan of the third: dropped. Neither remaining point dominates
    # the other (60 > 40 but 0 < 50): the front is (60, 0), (40, 50).
    p, _, best = two_bundles_beat_one()
    res = pareto_front([p], [best], [np.array([0, 0, 50, 0, 0.0])], 3, HIGHS, PARAMS)
    assert res.floors == (0.0, 25.0, 50.0)
    assert [(q.objective, q.cobenefit) for q in res.points] == [(60.0, 0.0), (40.0, 50.0)]
    assert [q.bundles for q in res.points] == [(((0, 1), (3, 4)),), (((0, 1, 2, 3, 4),),)]
    assert res.dropped == 1 and res.max_cobenefit == 50.0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.integers(-30, 40), min_size=4, max_size=8),
    data=st.data(),
    n=st.integers(2, 5),
)
def test_the_front_is_non_dominated_and_every_point_meets_its_floor(values, data, n):
    k = len(values)
    p = problem(path(k), [100] * k, values)
    v = np.asarray(data.draw(st.lists(st.integers(0, 9), min_size=k, max_size=k)), float)
    res = pareto_front([p], [[]], [v], n, HIGHS, PARAMS)
    graph = p.graph()
    for q in res.points:
        assert q.cobenefit >= q.floor - 1e-6 * max(1.0, q.floor)
        assert q.cobenefit == pytest.approx(plan_cobenefit(q.bundles, [v]))
        used = [j for b in q.bundles[0] for j in b]
        assert len(used) == len(set(used))
        for b in q.bundles[0]:
            assert not p.bundle_violations(list(b), graph)
        assert q.objective == pytest.approx(sum(p.bundle_objective(b) for b in q.bundles[0]))
        assert not any(dominated(q, r) for r in res.points)
    assert len(res.points) + res.dropped <= n


# ---------------------------------------------------------------- the column


def test_the_cobenefit_column_is_read_case_insensitively_and_checked():
    units = pd.DataFrame({"unit_id": ["a", "b"], "Biodiversity": [1.5, 0]})
    assert add_cobenefit(units, None)["cobenefit"].tolist() == [1.5, 0.0]
    assert "cobenefit" not in add_cobenefit(units.drop(columns="Biodiversity"), None)
    with pytest.raises(InputError, match="no such column"):
        add_cobenefit(units, "birds", "f.gpkg")
    bad = units.assign(Biodiversity=[1.0, -2.0])
    with pytest.raises(InputError, match=r"f\.gpkg: column 'Biodiversity', row 2 \(unit b\)"):
        add_cobenefit(bad, None, "f.gpkg")


def test_the_raster_gives_mean_value_times_area(tmp_path):
    from shapely.geometry import box

    path = grid(tmp_path, value=4.0, dtype="float32")
    # x 100..350, y 100..200: 2.5 ha at 4 per ha -> 10; the second half outside the raster
    # (x 1900..2100): mean 4 over the covered half times the whole 2 ha -> 8, with a warning
    layer = raster_units(box(100, 100, 350, 200), box(1900, 100, 2100, 200))
    out, warnings = cobenefit_from_raster(layer, path)
    assert out["cobenefit"].tolist() == pytest.approx([10.0, 8.0], rel=1e-6)
    assert len(warnings) == 1 and "U1" in warnings[0]
    bad = grid(tmp_path, value=-1.0, dtype="float32", name="neg.tif")
    with pytest.raises(InputError, match="neg.tif"):
        cobenefit_from_raster(layer, bad)


# ---------------------------------------------------------------- the plan level


@pytest.fixture(scope="module")
def grid_plan(tmp_path_factory):
    return planned_grid(tmp_path_factory.mktemp("grid"), 2, 5.0, PARAMS)


def test_the_floor_plan_is_verified_and_measured_against_the_plain_bound(grid_plan):
    units, scen, gap, plan = grid_plan
    # co-benefit only on units that may join a bundle but are outside the best plan: a
    # floor of 1 needs one of them
    may = np.zeros(len(units), bool)
    may[np.concatenate([np.asarray(m, int) for m in plan.problem_set.members])] = True
    outside = may & (plan.unit_bundle.to_numpy() == "")
    assert outside.any()
    units = units.assign(cobenefit=np.where(outside, 1.0, 0.0))
    assert plan_cobenefit_total(units, plan) == 0
    floor = plan_min_cobenefit(units, plan, scen, gap, 1.0, params=PARAMS)
    assert floor.reoptimised and floor.cobenefit >= 1.0
    assert floor.plan.bound == plan.bound
    assert floor.plan.objective <= plan.bound + 1e-6
    assert "cobenefit" in floor.plan.bundles.columns
    assert floor.plan.bundles["cobenefit"].sum() == pytest.approx(floor.cobenefit)
    members = [list(m) for m in floor.plan.bundles["unit_ids"]]
    pset = plan.problem_set
    assert not plan_violations(
        units,
        members,
        scen,
        gap,
        plan.objective_name,
        pset.min_area_of_unit,
        pset.max_cost_per_tco2e,
    )
    left = (plan.unit_bundle != "") & (floor.plan.unit_bundle == "")
    assert floor.plan.unit_reason[left].str.startswith("not selected: left out").all()
    assert (floor.plan.unit_reason[floor.plan.unit_bundle != ""] == "").all()
    # a floor the best plan meets keeps it
    same = plan_min_cobenefit(units, plan, scen, gap, 0.0, params=PARAMS)
    assert not same.reoptimised and same.plan.objective == plan.objective


# ---------------------------------------------------------------- the command line


@pytest.fixture
def export(tmp_path):
    gdf = ministry_export()
    decreed = gdf["LUAS_SK"].to_numpy()
    gdf["forest_ha_2010"] = decreed * 0.8
    gdf["forest_ha_2020"] = decreed * 0.7
    gdf["peat_ha"] = decreed * 0.1
    gdf["birds"] = np.random.default_rng(0).uniform(0, 10, len(gdf)).round(2)
    path = tmp_path / "export.gpkg"
    gdf.to_file(path)
    return path


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


PLAN = ("--min-area-ha", 1000, "--max-gap-m", 2000, "--carbon-price", 20, "--time-limit", 20)


def test_cli_cobenefit_column_and_floor(export, tmp_path):
    out = tmp_path / "plan"
    result = run("plan", export, "--out", out, *PLAN, "--cobenefit-column", "birds",
                 "--min-cobenefit", 1)  # fmt: skip
    assert result.exit_code == 0, result.output
    bundles = pd.read_csv(out / "bundles.csv")
    layer = gpd.read_file(out / "plan.gpkg", layer="units")
    inside = layer["bundle_id"].fillna("") != ""
    assert bundles["cobenefit"].sum() == pytest.approx(layer.loc[inside, "cobenefit"].sum())
    facts = json.loads((out / "run.json").read_text())
    assert facts["cobenefit_floor"]["cobenefit"] >= 1
    assert facts["cobenefit_column"] == "birds"


def test_cli_pareto_writes_its_files(export, tmp_path):
    out = tmp_path / "front"
    result = run("plan", export, "--out", out, *PLAN, "--cobenefit-column", "birds",
                 "--pareto", 3)  # fmt: skip
    assert result.exit_code == 0, result.output
    front = pd.read_csv(out / "pareto.csv")
    assert list(front.columns[:5]) == ["point", "floor", "objective", "cobenefit", "gap"]
    assert len(front) >= 1 and (front["cobenefit"] >= front["floor"] - 1e-6).all()
    assert (out / "pareto.png").stat().st_size > 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Pareto front" in page and 'id="pareto-figure_1"' in page
    facts = json.loads((out / "run.json").read_text())
    assert facts["pareto"]["points"] == len(front)
    for bad in (["--pareto", 1], ["--pareto", 3, "--min-cobenefit", 1]):
        result = run("plan", export, "--out", tmp_path / "x", *PLAN, "--cobenefit-column",
                     "birds", *bad)  # fmt: skip
        assert result.exit_code == 2 and result.output.count("error:") == 1
    result = run("plan", export, "--out", tmp_path / "y", *PLAN, "--pareto", 3)
    assert result.exit_code == 2 and "biodiversity" in result.output


def test_cli_biodiversity_raster(export, tmp_path):
    from tests.test_rasters import write_raster

    gdf = gpd.read_file(export)
    left, bottom, right, top = gdf.total_bounds
    res = (right - left) / 200
    rows = int((top - bottom) / res) + 4
    tif = write_raster(tmp_path / "bio.tif", np.full((rows, 204), 2.0, "float32"),
                       left=left - 2 * res, top=top + 2 * res, res=res, crs=gdf.crs)  # fmt: skip
    out = tmp_path / "bio"
    result = run("plan", export, "--out", out, *PLAN, "--biodiversity", tif)
    assert result.exit_code == 0, result.output
    layer = gpd.read_file(out / "plan.gpkg", layer="units")
    true_ha = layer.geometry.to_crs("EPSG:6933").area.to_numpy() / 1e4
    assert layer["cobenefit"].to_numpy() == pytest.approx(2.0 * true_ha, rel=1e-3)
    facts = json.loads((out / "run.json").read_text())
    assert "raster_biodiversity" in facts["inputs"]
    both = run("plan", export, "--out", tmp_path / "z", *PLAN, "--biodiversity", tif,
               "--cobenefit-column", "birds")  # fmt: skip
    assert both.exit_code == 2 and "not both" in both.output


def test_cli_bad_cobenefit_values_and_floors_exit_2(export, tmp_path):
    gdf = gpd.read_file(export)
    gdf["birds"] = gdf["birds"].astype(object)
    gdf.loc[3, "birds"] = "many"
    bad = tmp_path / "bad.gpkg"
    gdf.to_file(bad)
    result = run("plan", bad, "--out", tmp_path / "a", *PLAN, "--cobenefit-column", "birds")
    assert result.exit_code == 2
    assert result.output.count("error:") == 1
    assert "bad.gpkg" in result.output and "'birds', row 4" in result.output
    # no column for the floor
    result = run("plan", export, "--out", tmp_path / "b", *PLAN, "--min-cobenefit", 5)
    assert result.exit_code == 2 and "biodiversity" in result.output
    # a floor above all units together: proved, one message
    result = run("plan", export, "--out", tmp_path / "c", *PLAN, "--cobenefit-column", "birds",
                 "--min-cobenefit", 1e6)  # fmt: skip
    assert result.exit_code == 2 and "no plan can meet it" in result.output
    result = run("plan", export, "--out", tmp_path / "d", *PLAN, "--min-cobenefit", -1)
    assert result.exit_code == 2
    assert not any((tmp_path / x).exists() for x in "abcd")
