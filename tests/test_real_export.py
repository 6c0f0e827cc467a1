"""A layer with the traits of a real ministry export goes through every command as it comes.

The fixture (tests.layers.ministry_export) has PS_ID values that are no permit key
(34 zeros, 83 distinct values for 155 permits), a unique OBJECTID, a date-typed
TGL_SK, POLYGON Z geometries in ESRI:54034, invalid rings, overlaps and a polygon
5.5 times its decreed area. Before the unit-id rule every command stopped with
"column unit_id: duplicate ids 0 (rows ...)".
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bundler.cli.commands import app
from bundler.config.scenario import Scenario
from bundler.errors import InputError
from bundler.input.unit_ids import assign_unit_ids
from bundler.planning.planner import plan_bundles
from bundler.planning.problem_builder import (
    REASON_NOT_COST_EFFICIENT,
    REASON_UNDECIDED_HEURISTIC,
    REASON_UNDECIDED_TIME,
)
from solvers.base import SolveParams, Termination
from tests.layers import UTM, X0, Y0, ministry_export
from tests.test_rasters import write_raster

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The real-trait export on disk, with forest rasters covering all of it."""
    folder = tmp_path_factory.mktemp("export")
    path = folder / "PS_032025_export.gpkg"
    ministry_export().to_file(path)
    # 2010 all forest; 2020 the western half forest (grid spans x 0-65 km, y 0-60 km)
    full = np.ones((650, 700), dtype="uint8")
    half = full.copy()
    half[:, 350:] = 0
    args = {"left": X0 - 1000, "top": Y0 + 64_000, "res": 100, "crs": UTM}
    f2010 = write_raster(folder / "f2010.tif", full, **args)
    f2020 = write_raster(folder / "f2020.tif", half, **args)
    return path, f2010, f2020


def test_fixture_has_the_real_traits(export):
    raw = gpd.read_file(export[0])
    assert raw["PS_ID"].nunique() == 83 and (raw["PS_ID"] == "0").sum() == 34
    assert raw["OBJECTID"].is_unique
    assert raw.has_z.all()
    assert pd.api.types.is_datetime64_any_dtype(raw["TGL_SK"])
    assert raw.crs.to_string() == "ESRI:54034"


def test_naming_ps_id_as_the_key_reproduces_the_old_error(export):
    result = run("validate", export[0], "--id-column", "PS_ID")
    assert result.exit_code == 2
    assert "column PS_ID (the id column): duplicate values 0 (rows" in result.output


def test_validate_passes_with_no_option_and_says_what_it_did(export):
    result = run("validate", export[0])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "PS_ID is not a permit key" in text
    assert "83 distinct values for 155 permits; 34 carry 0" in text


def test_id_rule_known_answers():
    # a: unique, kept; 0 twice and b twice: suffixed with OBJECTID; blank: OBJECTID alone
    ids = pd.Series(["a", "0", "b", "b", "0", ""])
    rows = np.arange(1, 7)
    got = assign_unit_ids(ids, rows, pd.Series([11, 12, 13, 14, 15, 16]), "PS_ID", False)
    assert list(got.ids) == ["a", "0-o12", "b-o13", "b-o14", "0-o15", "o16"]
    # without a unique OBJECTID the feature number is used
    got = assign_unit_ids(ids, rows, pd.Series([1, 1, 2, 3, 4, 5]), "PS_ID", False)
    assert list(got.ids) == ["a", "0-r2", "b-r3", "b-r4", "0-r5", "r6"]
    # unique ids pass untouched and without a warning
    got = assign_unit_ids(pd.Series(["x", "y"]), np.arange(1, 3), None, "PS_ID", False)
    assert list(got.ids) == ["x", "y"] and not got.warnings


def test_score_and_plan_with_rasters_keep_source_keys_and_crs(export, tmp_path):
    path, f2010, f2020 = export
    rasters = ("--forest-2010", f2010, "--forest-2020", f2020)
    scored = tmp_path / "scored"
    result = run("score", path, "--out", scored, *rasters)
    assert result.exit_code == 0, result.output
    layer = gpd.read_file(scored / "scored_units.gpkg")
    assert layer.crs.to_string() == "ESRI:54034"
    assert layer["unit_id"].is_unique and {"PS_ID", "NO_SK", "OBJECTID"} <= set(layer.columns)

    out = tmp_path / "plan"
    result = run("plan", path, "--out", out, *rasters, "--min-area-ha", 1000,
                 "--max-gap-m", 3000, "--carbon-price", 20, "--time-limit", 5)  # fmt: skip
    assert result.exit_code == 0, result.output
    units = gpd.read_file(out / "plan.gpkg", layer="units")
    bundles = gpd.read_file(out / "plan.gpkg", layer="bundles")
    assert units.crs.to_string() == bundles.crs.to_string() == "ESRI:54034"
    assert units["unit_id"].is_unique and len(units) == 155
    assert {"PS_ID", "NO_SK", "OBJECTID"} <= set(units.columns)
    # each id joins back to the source row it came from
    src = gpd.read_file(path).set_index("OBJECTID")
    joined = units.set_index("OBJECTID")
    assert (joined["PS_ID"] == src.loc[joined.index, "PS_ID"].astype(str)).all()
    table = pd.read_csv(out / "bundles.csv", dtype=str)
    assert {"PS_ID", "NO_SK", "OBJECTID"} <= set(table.columns)
    assert len(table) >= 1
    first = table.iloc[0]
    assert len(first["unit_ids"].split(";")) == len(first["OBJECTID"].split(";"))
    facts = json.loads((out / "run.json").read_text())
    assert any("PS_ID is not a permit key" in w for w in facts["warnings"])
    assert any(w.startswith("overlap:") for w in facts["warnings"])
    html = (out / "report.html").read_text()
    assert "PS_ID is not a permit key" in html


def test_contradictory_areas_exit_2_naming_both_keys(export, tmp_path):
    result = run("plan", export[0], "--out", tmp_path / "o", "--min-area-ha", 300000)
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "bundling.min_area_ha = 300,000 ha (from the command-line flag --min-area-ha)" in text
    assert "bundling.max_area_ha = 75,000 ha (the default)" in text
    assert not (tmp_path / "o").exists()
    scen = tmp_path / "s.toml"
    scen.write_text("[bundling]\nmax_area_ha = 4000\nmin_area_ha_by_intervention = {arr = 9000}\n")
    result = run("plan", export[0], "--out", tmp_path / "o", "--scenario", scen)
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "bundling.min_area_ha = 5,000 ha (the default)" in text
    assert f"bundling.min_area_ha_by_intervention.arr = 9,000 ha (from {scen})" in text
    assert f"bundling.max_area_ha = 4,000 ha (from {scen})" in text


def _scored(export):
    from bundler.pipeline import prepare_units

    path, f2010, f2020 = export
    rasters = {"forest_2010": f2010, "forest_2020": f2020}
    scen = Scenario().with_values(
        {"bundling.min_area_ha": 1000, "graph.max_gap_m": 3000, "economics.carbon_price_usd": 20}
    )
    return prepare_units(path, scen, rasters=rasters).units, scen


def test_unproven_groups_never_call_a_unit_not_cost_efficient(export, monkeypatch):
    from bundler.pipeline import adjacency
    from bundler.planning import planner as planning
    from solvers.problem import BundlingResult

    units, scen = _scored(export)
    graph = adjacency(units, scen)

    # every group stops at its limit with no bundle and no proof
    def stopped(problem, solver, params, warm_start=None, max_rounds=None, **_):
        return BundlingResult(Termination.FEASIBLE, 0.0, 1e6, None, 0.1, solver="highs")

    monkeypatch.setattr(planning, "solve_bundling", stopped)
    plan = plan_bundles(units, graph, scen, scen.graph.max_gap_m, params=SolveParams(5))
    reasons = set(plan.unit_reason)
    assert REASON_UNDECIDED_TIME in reasons
    assert not any(r.startswith("not cost-efficient") for r in reasons)
    assert "could prove that none exists" in plan.explanation


def test_heuristic_alone_is_undecided_and_a_proof_is_cost_efficient(export):
    from bundler.pipeline import adjacency

    units, scen = _scored(export)
    graph = adjacency(units, scen)
    plan = plan_bundles(
        units, graph, scen, scen.graph.max_gap_m, solver="heuristic", params=SolveParams(5)
    )
    reasons = list(plan.unit_reason)
    results = [res for _, res in plan.component_results]
    # the heuristic proves optimality only by enumerating a small group; exactly the units
    # of groups proven to hold no bundle are "not cost-efficient", and open groups are
    # "undecided"
    proven_empty = sum(
        n
        for n, r in plan.component_results
        if r.termination == Termination.OPTIMAL and not r.bundles
    )
    assert reasons.count(REASON_NOT_COST_EFFICIENT) == proven_empty
    assert any(r.termination != Termination.OPTIMAL for r in results)
    assert REASON_UNDECIDED_HEURISTIC in reasons
    # a price no bundle can meet, solved exactly: "not cost-efficient" is then proven
    poor = scen.with_values({"economics.carbon_price_usd": 0.5})
    plan = plan_bundles(units, graph, poor, poor.graph.max_gap_m, params=SolveParams(20))
    assert plan.termination == Termination.OPTIMAL and not len(plan.bundles)
    assert REASON_NOT_COST_EFFICIENT in set(plan.unit_reason)
    assert REASON_UNDECIDED_HEURISTIC not in set(plan.unit_reason)


def test_limits_that_cap_every_bundle_below_the_minimum_say_so(export):
    from bundler.pipeline import adjacency

    units, scen = _scored(export)
    # the export's units are at most ~900 ha; two of them never reach 5,000 ha
    tight = scen.with_values({"bundling.max_units": 2, "bundling.min_area_ha": 5000})
    plan = plan_bundles(units, adjacency(units, tight), tight, tight.graph.max_gap_m)
    assert not len(plan.bundles)
    assert "bundling.max_units = 2" in plan.explanation
    assert "short of the 5,000 ha minimum" in plan.explanation


def test_api_rejects_contradictory_settings():
    bad = Scenario().with_values({"bundling.min_area_ha": 9e4})
    with pytest.raises(InputError, match="bundling.max_area_ha"):
        plan_bundles(ministry_export().iloc[:0], None, bad, 0.0)


def test_scored_output_reads_back_as_input(export, tmp_path):
    # scored_units.gpkg keeps unit_id next to the source's PS_ID and NO_SK; read again
    # (as national --help suggests), the canonical columns win and nothing collides
    path, f2010, f2020 = export
    out = tmp_path / "scored"
    assert run("score", path, "--out", out, "--forest-2010", f2010,
               "--forest-2020", f2020).exit_code == 0  # fmt: skip
    again = run("validate", out / "scored_units.gpkg")
    assert again.exit_code == 0, again.output
    assert "PS_ID is not a permit key" not in " ".join(again.output.split())
