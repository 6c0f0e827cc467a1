"""Rupiah beside dollars: ``<x>_idr = <x>_usd * economics.usd_idr``, one rule, one rate.

The plan of this module is written under a scenario *file* that sets its own rate, so the
tests also show that the rate comes from the scenario and that a file overrides the default.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import bundler.outputs.plan
from bundler.config.doc import render_scenario
from bundler.config.scenario import Scenario, load_scenario
from bundler.economics.currency import idr_name, with_idr_columns
from bundler.errors import InputError
from tests.test_workbook import write_small_plan

DEFAULT_TOML = Path(__file__).resolve().parents[1] / "scenarios" / "default.toml"
# the CSVs holding money, and the decimals plan.py writes them with
MONEY_CSV = {"bundles.csv": 4, "estimates.csv": 4, "benefit_sharing.csv": 2}


def _rate_file(folder: Path, rate: float) -> Path:
    path = folder / "rupiah.toml"
    path.write_text(f'name = "rupiah"\n\n[economics]\nusd_idr = {rate!r}\n')
    return path


@pytest.fixture(scope="module")
def rate() -> float:
    """A rate that is not the default, so a match proves the file was used."""
    return Scenario().economics.usd_idr * 0.9 + 1.0


@pytest.fixture(scope="module")
def reported() -> dict:
    """What the plan writer handed to the report (filled by ``plan_dir``)."""
    return {}


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory, rate, reported) -> Path:
    folder = tmp_path_factory.mktemp("idr")
    scenario = load_scenario(_rate_file(folder, rate))
    original = bundler.outputs.plan.write_report

    # records what the report is given and draws nothing: how it shows the figures is
    # the report's business, tested with the report
    def spy(*args, **kwargs):
        given = inspect.signature(original).bind(*args, **kwargs).arguments
        reported.update({k: given[k] for k in ("bundles", "tables", "facts")})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bundler.outputs.plan, "write_report", spy)
        return write_small_plan(folder / "plan", scenario, report=True)


def test_the_default_rate_is_documented_with_its_source():
    econ = Scenario().economics
    assert econ.usd_idr > 1000  # rupiah per dollar, not dollars per rupiah
    line = next(ln for ln in DEFAULT_TOML.read_text().splitlines() if ln.startswith("usd_idr ="))
    assert "JISDOR" in line and "Bank Indonesia" in line and "override" in line
    assert f"usd_idr = {econ.usd_idr!r}" in render_scenario()


def test_a_scenario_file_overrides_the_rate(tmp_path, rate):
    assert load_scenario(_rate_file(tmp_path, rate)).economics.usd_idr == rate
    assert Scenario().with_values({"economics.usd_idr": rate}).economics.usd_idr == rate


@pytest.mark.parametrize("bad", [0, 0.0, -16000.0])
def test_a_non_positive_rate_is_an_error_naming_the_key(tmp_path, bad):
    with pytest.raises(InputError, match=r"economics\.usd_idr"):
        Scenario().with_values({"economics.usd_idr": bad})
    path = _rate_file(tmp_path, bad)
    with pytest.raises(InputError, match=r"economics\.usd_idr") as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)
    with pytest.raises(InputError, match=r"economics\.usd_idr"):
        with_idr_columns(pd.DataFrame({"npv_usd": [1.0]}), bad)


def test_a_rate_that_is_not_a_number_is_an_error_naming_the_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[economics]\nusd_idr = "16,700"\n')
    with pytest.raises(InputError, match=r"economics\.usd_idr"):
        load_scenario(path)


@pytest.mark.parametrize("name", list(MONEY_CSV))
def test_every_usd_column_of_the_money_csvs_has_its_idr_twin(plan_dir, rate, name):
    table = pd.read_csv(plan_dir / name)
    usd = [c for c in table.columns if c.endswith("_usd")]
    assert usd, name
    columns = list(table.columns)
    for column in usd:
        twin = idr_name(column)
        assert columns.index(twin) == columns.index(column) + 1, (name, column)
        dollars = table[column].to_numpy(float)
        rupiah = table[twin].to_numpy(float)
        # both are rounded in the CSV; the dollars' rounding is multiplied by the rate
        tolerance = rate * 0.51 * 10.0 ** -MONEY_CSV[name] + 0.51 * 10.0 ** -MONEY_CSV[name]
        same = np.isclose(rupiah, dollars * rate, rtol=1e-12, atol=tolerance)
        assert (same | (np.isnan(rupiah) & np.isnan(dollars))).all(), (name, column)


def test_the_bundles_layer_and_run_json_carry_the_rate(plan_dir, rate):
    layer = gpd.read_file(plan_dir / "plan.gpkg", layer="bundles", read_geometry=False)
    for column in ("cost_usd", "npv_usd"):
        np.testing.assert_allclose(layer[idr_name(column)], layer[column] * rate, rtol=1e-12)
    facts = json.loads((plan_dir / "run.json").read_text())
    assert facts["scenario"]["economics"]["usd_idr"] == rate
    assert facts["scenario"]["name"] == "rupiah"


def test_the_report_is_given_the_rupiah_figures_and_the_rate(plan_dir, rate, reported):
    # the data only: how the report shows them is the report's own business
    facts = reported["facts"]
    assert facts["usd_idr"] == rate
    assert facts["carbon_price_idr"] == pytest.approx(facts["carbon_price_usd"] * rate)
    bundles = reported["bundles"]
    assert len(bundles) > 0
    for column in ("cost_usd", "npv_usd"):
        np.testing.assert_allclose(bundles[idr_name(column)], bundles[column] * rate, rtol=1e-12)
    # the estimates and the benefit sharing it shows are those of the CSVs, rupiah included
    shown = {c for table in reported["tables"].values() for c in table.columns}
    assert {"npv_idr", "bundling_gain_idr", "amount_idr"} <= shown


def test_with_idr_columns_puts_each_twin_beside_its_dollars():
    frame = pd.DataFrame(
        {"bundle_id": ["a", "b"], "cost_usd": [2.0, np.nan], "n": [1, 2], "npv_usd": [-1.5, 3.0]}
    )
    out = with_idr_columns(frame, 100.0)
    assert list(out.columns) == ["bundle_id", "cost_usd", "cost_idr", "n", "npv_usd", "npv_idr"]
    assert out["npv_idr"].tolist() == [-150.0, 300.0]
    assert out["cost_idr"].iloc[0] == 200.0 and math.isnan(out["cost_idr"].iloc[1])
    assert list(frame.columns) == ["bundle_id", "cost_usd", "n", "npv_usd"]  # input untouched
    # applied twice, the twins are replaced, not repeated
    assert list(with_idr_columns(out, 10.0).columns) == list(out.columns)
    assert with_idr_columns(out, 10.0)["npv_idr"].tolist() == [-15.0, 30.0]


def test_with_idr_columns_keeps_empty_and_geographic_tables():
    empty = with_idr_columns(pd.DataFrame({"amount_usd": pd.Series([], dtype=float)}), 5.0)
    assert list(empty.columns) == ["amount_usd", "amount_idr"] and empty.empty
    geo = gpd.GeoDataFrame({"npv_usd": [1.0]}, geometry=[Point(0, 0)], crs="EPSG:4326")
    out = with_idr_columns(geo, 5.0)
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == geo.crs
    assert out["npv_idr"].tolist() == [5.0]
