"""National runs and scenario sweeps on Dask: merging, failures, resume, grids.

The Dask tests use small generated layers (two or three provinces) so that each
run takes seconds. The sweep runs on a real local cluster of two worker
processes, as a user gets it; the failure and resume tests use an in-process
cluster so that a province's job can be replaced by one that fails. One national
run, written once for the module, serves the tests of its tables, layers, styles,
workbook and report.
"""

from __future__ import annotations

import inspect
import json
import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

import bundler.outputs.national
from bundler.cli.commands import app
from bundler.config.scenario import Scenario
from bundler.errors import EXIT_OK, EXIT_PARTIAL, InputError
from bundler.outputs.interop.qgis_styles import STYLE_TABLE
from bundler.outputs.interop.workbook import LIST_COLUMNS, SHEETS, header
from bundler.scale import province_job
from bundler.scale.national import Part, merged_priority
from bundler.scale.parts_cache import PartsCache, part_key
from bundler.scale.sweep import grid_scenarios, parse_grid
from bundler.synthetic.generator import generate_units, write_layer
from tests.test_workbook import csv_text, same_value

runner = CliRunner()
PRICE = "15"


@pytest.fixture(scope="module")
def layer(tmp_path_factory):
    """Three generated provinces, 150 units."""
    path = tmp_path_factory.mktemp("national") / "units.gpkg"
    write_layer(generate_units(150, seed=5, n_provinces=3), path)
    return path


def _local_cluster():
    """An in-process Dask cluster of two single-threaded workers."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")


@pytest.fixture
def cluster():
    with _local_cluster() as c:
        yield c


def _national(layer, out, cache, *extra):
    args = ["national", str(layer), "--out", str(out), "--cache", str(cache)]
    return runner.invoke(app, [*args, "--time-limit", "5", "--carbon-price", PRICE, *extra])


@pytest.fixture(scope="module")
def reported() -> dict:
    """What ``write_national`` handed to the report (filled by ``national_dir``)."""
    return {}


@pytest.fixture(scope="module")
def national_dir(layer, tmp_path_factory, reported):
    """A national run of the three provinces, its report's arguments recorded."""
    folder = tmp_path_factory.mktemp("national-run")
    original = bundler.outputs.national.write_report

    def spy(*args, **kwargs):
        given = inspect.signature(original).bind(*args, **kwargs).arguments
        reported.update({k: given[k] for k in ("bundles", "tables", "facts")})
        original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch, _local_cluster() as c:
        patch.setattr(bundler.outputs.national, "write_report", spy)
        result = _national(
            layer, folder / "out", folder / "cache", "--scheduler", c.scheduler_address
        )
    assert result.exit_code == EXIT_OK, result.output
    return folder / "out"


# ---- grids, keys and the national ranking (no Dask) ----


def test_grid_aliases_values_and_names():
    grid = parse_grid(["price=3,5.5", "min_area_ha=5000,10000", "bundling.same_district=true"])
    assert [(label, key) for label, key, _ in grid] == [
        ("price", "economics.carbon_price_usd"),
        ("min_area_ha", "bundling.min_area_ha"),
        ("bundling.same_district", "bundling.same_district"),
    ]
    assert grid[0][2] == [3, 5.5] and grid[2][2] == [True]
    scens = grid_scenarios(Scenario(), grid)
    # 2 x 2 x 1 combinations, each checked and named after its values
    assert [s.name for s in scens] == [
        "price=3_min_area_ha=5000_bundling.same_district=true",
        "price=3_min_area_ha=10000_bundling.same_district=true",
        "price=5.5_min_area_ha=5000_bundling.same_district=true",
        "price=5.5_min_area_ha=10000_bundling.same_district=true",
    ]
    assert scens[3].economics.carbon_price_usd == 5.5
    assert scens[3].bundling.min_area_ha == 10000
    assert scens[0].bundling.same_district is True


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("pirce=3,5", "did you mean 'price'"),
        ("price", "expected KEY=V1,V2"),
        ("price=3,,5", "empty value"),
        ("economics.carbon_price_usd=-1", "--grid economics.carbon_price_usd=-1"),
    ],
)
def test_bad_grid_items_are_named(spec, message):
    with pytest.raises(InputError, match=message.replace(".", r"\.").replace("=", "=")):
        grid_scenarios(Scenario(), parse_grid([spec]))


def test_part_key_ignores_the_name_but_not_the_values():
    inputs = {"units": {"path": "a.gpkg", "sha256": "ab" * 32}}
    settings = {"solver": "highs", "time_limit": 5.0}
    base = part_key(inputs, Scenario(), "16", settings)
    assert part_key(inputs, Scenario(name="other"), "16", settings) == base
    moved = {"units": {"path": "elsewhere/b.gpkg", "sha256": "ab" * 32}}
    assert part_key(moved, Scenario(), "16", settings) == base
    price = Scenario().with_values({"economics.carbon_price_usd": 99.0})
    assert part_key(inputs, price, "16", settings) != base
    assert part_key(inputs, Scenario(), "17", settings) != base
    assert part_key(inputs, Scenario(), "16", {**settings, "time_limit": 6.0}) != base


def _part(tmp_path, code, rows):
    folder = tmp_path / code
    folder.mkdir()
    pd.DataFrame(rows).to_csv(folder / "priority.csv", index=False)
    return Part("s", code, code, 1, code, status="computed", folder=folder)


def test_national_priority_merges_by_start_year_then_value(tmp_path):
    # readiness weight w = 200,000 USD (the default): value = NPV + w * readiness
    cols = ["rank", "bundle_id", "start_year", "npv_usd", "readiness"]
    a = _part(
        tmp_path,
        "11",
        [
            dict(zip(cols, [1, "11-B1", "1", 1.0e6, 0.5], strict=True)),  # value 1.10 M
            dict(zip(cols, [2, "11-B2", "2", 5.0e6, 0.0], strict=True)),  # year 2
            dict(zip(cols, [3, "11-B3", "later", 9.0e6, 1.0], strict=True)),
        ],
    )
    b = _part(
        tmp_path,
        "12",
        [
            dict(zip(cols, [1, "12-B1", "1", 1.0e6, 1.0], strict=True)),  # value 1.20 M
            dict(zip(cols, [2, "12-B2", "after 5", 0.5e6, 0.0], strict=True)),
        ],
    )
    table = merged_priority([a, b], Scenario())
    # year 1 by value (12-B1 1.20 M before 11-B1 1.10 M), then year 2, then
    # "after 5", then "later", whatever their NPV
    assert table["bundle_id"].tolist() == ["12-B1", "11-B1", "11-B2", "12-B2", "11-B3"]
    assert table["rank"].tolist() == [1, 2, 3, 4, 5]
    assert table["province_rank"].tolist() == [1, 1, 2, 2, 3]


def test_split_provinces_in_code_order_or_one_part():
    from shapely.geometry import box

    from bundler.scale.national import split_provinces

    geoms = [box(i, 0, i + 1, 1) for i in range(4)]
    units = gpd.GeoDataFrame(
        {"unit_id": list("abcd"), "province_code": ["9", "11", "9", "2"],
         "province": ["P9", "P11", "P9", "P2"]},
        geometry=geoms,
    )  # fmt: skip
    parts = split_provinces(units)
    # numeric codes in numeric order, not text order ("11" after "9")
    assert [(c, n, list(f["unit_id"])) for c, n, f in parts] == [
        ("2", "P2", ["d"]),
        ("9", "P9", ["a", "c"]),
        ("11", "P11", ["b"]),
    ]
    [(code, name, frame)] = split_provinces(units.drop(columns=["province_code", "province"]))
    assert (code, name, len(frame)) == ("all", "all", 4)


def test_parts_cache_round_trip(tmp_path):
    cache = PartsCache(tmp_path / "cache")
    assert cache.load("k") is None
    result = province_job.ProvinceResult({"n_bundles": 2}, {"priority.csv": b"rank\n"})
    folder = cache.store("k", result)
    assert cache.load("k") == {"n_bundles": 2}
    assert (folder / "priority.csv").read_bytes() == b"rank\n"
    assert not [p for p in cache.root.iterdir() if p.name.startswith(".")]


# ---- on Dask ----


def test_sweep_on_a_local_dask_cluster(layer, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", str(layer), "--out", str(out), "--cache", str(tmp_path / "cache")]
    result = runner.invoke(
        app, [*args, "--grid", "price=5,30", "--time-limit", "5", "--workers", "2"]
    )
    assert result.exit_code == EXIT_OK, result.output
    table = pd.read_csv(out / "comparison.csv")
    assert table["scenario"].tolist() == ["price=5", "price=30"]
    assert table["price"].tolist() == [5, 30]
    assert table["provinces"].tolist() == [3, 3]
    for row in table.itertuples():
        bundles = pd.read_csv(out / "scenarios" / row.scenario / "bundles.csv")
        assert row.bundles == len(bundles)
        assert row.units_included == (bundles["n_units"].sum() if len(bundles) else 0)
        assert row.npv_usd == pytest.approx(bundles["npv_usd"].sum() if len(bundles) else 0)
    assert table["bundles"].iloc[1] > 0  # at 30 USD/t this layer has bundles
    assert (out / "comparison.png").stat().st_size > 5_000
    assert "| price=30 |" in (out / "comparison.md").read_text()
    assert "carbon_price_usd = 30" in (out / "scenarios/price=30/scenario.toml").read_text()
    run = json.loads((out / "run.json").read_text())
    assert run["parts_computed"] == 6 and run["parts_failed"] == {}
    # a higher price only loosens the cost test, so when both plans are proven
    # optimal the NPV cannot fall
    if set(table["termination"]) == {"optimal"}:
        assert table["npv_usd"].iloc[1] >= table["npv_usd"].iloc[0] - 1e-6


def test_a_failing_province_is_reported_and_the_others_complete(
    layer, tmp_path, cluster, monkeypatch
):
    real = province_job.plan_province

    def flaky(spec, units):
        if spec.code == "33":
            raise RuntimeError("solver crashed in province 33")
        return real(spec, units)

    monkeypatch.setattr(province_job, "plan_province", flaky)
    out, cache = tmp_path / "national", tmp_path / "cache"
    result = _national(layer, out, cache, "--scheduler", cluster.scheduler_address)
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "1 of 3 province runs failed" in result.output
    assert "solver crashed in province 33" in result.output
    assert "Traceback" not in result.output
    provinces = pd.read_csv(out / "provinces.csv", dtype={"province_code": str})
    status = dict(zip(provinces["province_code"], provinces["status"], strict=True))
    assert status == {"16": "computed", "33": "failed", "62": "computed"}
    failed = provinces.set_index("province_code").loc["33"]
    assert "RuntimeError: solver crashed in province 33" in failed["error"]
    assert sorted(p.name for p in (out / "provinces").iterdir()) == ["16", "62"]
    run = json.loads((out / "run.json").read_text())
    assert run["termination"] == "partial" and list(run["provinces_failed"]) == ["33"]
    units = pd.read_csv(out / "priority.csv", dtype={"province_code": str})
    assert "33" not in set(units["province_code"])
    page = (out / "report.html").read_text()
    assert "national report" in page and "some provinces failed" in page

    # the re-run plans only the failed province, the others come from the cache
    monkeypatch.setattr(province_job, "plan_province", real)
    again = _national(layer, out, cache, "--scheduler", cluster.scheduler_address, "--force")
    assert again.exit_code == EXIT_OK, again.output
    run = json.loads((out / "run.json").read_text())
    assert (run["provinces_computed"], run["provinces_resumed"]) == (1, 2)
    assert run["termination"] in ("optimal", "feasible") and run["provinces_failed"] == {}


def test_a_finished_run_resumes_without_planning(layer, tmp_path, cluster, monkeypatch):
    cache = tmp_path / "cache"
    first = _national(layer, tmp_path / "a", cache, "--scheduler", cluster.scheduler_address)
    assert first.exit_code == EXIT_OK, first.output

    def never(spec, units):
        raise AssertionError("a resumed run must not plan again")

    monkeypatch.setattr(province_job, "plan_province", never)
    second = _national(layer, tmp_path / "b", cache, "--scheduler", cluster.scheduler_address)
    assert second.exit_code == EXIT_OK, second.output
    run = json.loads((tmp_path / "b" / "run.json").read_text())
    assert (run["provinces_computed"], run["provinces_resumed"]) == (0, 3)
    for name in ("priority.csv", "provinces.csv", "bundles.csv"):
        a = pd.read_csv(tmp_path / "a" / name).drop(columns=["status"], errors="ignore")
        b = pd.read_csv(tmp_path / "b" / name).drop(columns=["status"], errors="ignore")
        pd.testing.assert_frame_equal(a, b)
    # another price is another scenario: nothing to resume, so the job runs (and fails here)
    third = runner.invoke(
        app,
        ["national", str(layer), "--out", str(tmp_path / "c"), "--cache", str(cache),
         "--time-limit", "5", "--carbon-price", "16", "--scheduler", cluster.scheduler_address],
    )  # fmt: skip
    assert third.exit_code == EXIT_PARTIAL


def test_national_tables_and_layers(layer, national_dir):
    out = national_dir
    units = gpd.read_file(out / "plan.gpkg", layer="units")
    bundles = gpd.read_file(out / "plan.gpkg", layer="bundles")
    priority = pd.read_csv(out / "priority.csv")
    assert len(units) == 150
    # written in the input's CRS, national and provincial layers alike
    source = gpd.read_file(layer).crs
    assert units.crs == bundles.crs == source
    first = next((out / "provinces").iterdir()) / "plan.gpkg"
    assert gpd.read_file(first, layer="units").crs == source
    # every bundle id is unique nationally and carries its province code
    assert bundles["bundle_id"].is_unique
    assert sorted(bundles["bundle_id"]) == sorted(priority["bundle_id"])
    assert all(b.split("-")[0] == str(p) for b, p in
               zip(priority["bundle_id"], priority["province_code"], strict=True))  # fmt: skip
    chosen = units[units["bundle_id"].fillna("") != ""]
    assert set(chosen["bundle_id"]) == set(bundles["bundle_id"])
    assert (units.loc[units["bundle_id"].fillna("") == "", "reason"].fillna("") != "").all()
    by_int = pd.read_csv(out / "potential_by_intervention.csv", index_col=0)
    assert set(by_int.index) >= {"protect", "arr", "peat", "total"}
    assert by_int.loc["total", "share"] == pytest.approx(1.0)


def test_the_national_plan_gpkg_has_a_default_style_for_both_layers(national_dir):
    gpkg = national_dir / "plan.gpkg"
    con = sqlite3.connect(gpkg)
    try:
        rows = con.execute(
            f"SELECT f_table_name, styleQML, styleSLD, useAsDefault FROM {STYLE_TABLE}"
        ).fetchall()
    finally:
        con.close()
    assert sorted(r[0] for r in rows) == ["bundles", "units"]
    bundles = gpd.read_file(gpkg, layer="bundles", read_geometry=False)
    assert len(bundles) > 0
    for _, qml, sld, default in rows:
        assert default == 1
        root = ET.fromstring(qml)
        assert root.tag == "qgis"
        values = {c.get("value") for c in root.iter("category")}
        # every bundle of every province has its category
        assert set(bundles["bundle_id"]) <= values
        assert ET.fromstring(sld).tag.endswith("StyledLayerDescriptor")


def test_the_national_report_is_given_the_rupiah_facts(national_dir, reported):
    rate = Scenario().economics.usd_idr
    facts = reported["facts"]
    assert facts["report_kind"] == "national"
    assert facts["usd_idr"] == rate
    assert facts["carbon_price_usd"] == float(PRICE)
    assert facts["carbon_price_idr"] == pytest.approx(float(PRICE) * rate)
    # its bundles carry the provinces' rupiah columns
    bundles = reported["bundles"]
    assert len(bundles) > 0
    for column in ("cost", "npv"):
        pd.testing.assert_series_equal(
            bundles[f"{column}_idr"], bundles[f"{column}_usd"] * rate, check_names=False
        )


# the national workbook's sheets -> the national CSV each holds, and its decimals (national.py)
NATIONAL_SOURCES = {
    "bundles": ("bundles.csv", 4),
    "priority": ("priority.csv", 2),
    "estimates": ("estimates.csv", 4),
    "benefit sharing": ("benefit_sharing.csv", 4),
}


def test_the_national_workbook_holds_the_national_csvs(national_dir):
    book = national_dir / "plan.xlsx"
    assert "plan.xlsx" in json.loads((national_dir / "run.json").read_text())["files"]
    assert pd.ExcelFile(book).sheet_names == list(SHEETS)
    for sheet, (name, decimals) in NATIONAL_SOURCES.items():
        csv = csv_text(national_dir / name)
        kept = [c for c in csv.columns if not (sheet == "bundles" and c in LIST_COLUMNS)]
        got = pd.read_excel(book, sheet_name=sheet)
        assert list(got.columns) == [header(c) for c in kept], sheet
        assert len(got) == len(csv) > 0, sheet
        for column in kept:
            cells = got[header(column)].tolist()
            for i, (cell, text) in enumerate(zip(cells, csv[column], strict=True)):
                assert same_value(cell, text, decimals), (sheet, column, i, cell, text)
    # every unit of the country once, those of each bundle in the order of its unit_ids
    units = pd.read_excel(book, sheet_name="units", dtype=str).fillna("")
    layer = gpd.read_file(national_dir / "plan.gpkg", layer="units", read_geometry=False)
    assert len(units) == len(layer) == 150
    assert sorted(units[header("unit_id")]) == sorted(layer["unit_id"].astype(str))
    bundles = csv_text(national_dir / "bundles.csv")
    members = units[units[header("bundle_id")] != ""]
    assert members[header("unit_id")].tolist() == [
        u for ids in bundles["unit_ids"] for u in ids.split(";")
    ]
    assert members[header("bundle_id")].tolist() == [
        b for b, ids in zip(bundles["bundle_id"], bundles["unit_ids"], strict=True)
        for _ in ids.split(";")
    ]  # fmt: skip


def test_unreachable_scheduler_is_a_clear_error(layer, tmp_path, monkeypatch):
    from bundler.scale import dask_runner

    monkeypatch.setattr(dask_runner, "CONNECT_TIMEOUT", "1s")
    result = _national(layer, tmp_path / "o", tmp_path / "c", "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    assert "--scheduler tcp://127.0.0.1:9: cannot connect" in result.output
    assert not (tmp_path / "o").exists()


def test_sweep_needs_exactly_one_source_of_scenarios(layer, tmp_path):
    result = runner.invoke(app, ["sweep", str(layer), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "either --scenarios" in result.output
    result = runner.invoke(
        app, ["sweep", str(layer), "--out", str(tmp_path / "o"), "--grid", "pric=3"]
    )
    assert result.exit_code == 2 and "did you mean 'price'" in result.output


def test_stacked_csvs_keep_numeric_looking_ids_as_text(tmp_path):
    # a real export may carry PS_IDs that look like numbers, with leading zeros; the
    # state and investor rows of benefit_sharing.csv have no unit, so pandas would
    # read the column as float and write 160501 back as 160501.0
    from bundler.scale.national import Part, concat_csv

    folder = tmp_path / "p11"
    folder.mkdir()
    (folder / "benefit_sharing.csv").write_text(
        "bundle_id,unit_id,PS_ID,amount_usd\nB001,0160501,0160501,10.5\nB001,,,2.0\n"
    )
    part = Part("base", "11", "Aceh", 2, "k", status="computed", folder=folder)
    table = concat_csv([part], "benefit_sharing.csv")
    assert table["unit_id"].iloc[0] == "0160501"
    assert table["PS_ID"].iloc[0] == "0160501"
    assert table["amount_usd"].iloc[0] == 10.5
