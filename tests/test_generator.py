"""The synthetic layer generator: determinism, schema, realism, writing."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from bundler.cli.commands import app
from bundler.input.crs import working_crs
from bundler.input.schema import KUPS_CLASSES, normalize_scheme
from bundler.input.validation import load_units
from bundler.synthetic.generator import (
    COLUMNS,
    OUTPUT_CRS,
    PROVINCE_ORDER,
    PROVINCES,
    generate_units,
    write_layer,
)


@pytest.fixture(scope="module")
def province() -> gpd.GeoDataFrame:
    """2,000 units in the first province of the fixed order."""
    return generate_units(2000, seed=11, n_provinces=1)


@pytest.fixture(scope="module")
def national() -> gpd.GeoDataFrame:
    """3,000 units spread over all 38 provinces."""
    return generate_units(3000, seed=3, n_provinces=38)


def _metric(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Repaired geometries in an equal-area CRS centred on the layer, as validation does."""
    lonlat = gdf.to_crs("EPSG:4326").total_bounds
    return shapely.make_valid(gdf.to_crs(working_crs(tuple(lonlat))).geometry.values)


def _pairs(geoms: np.ndarray, within_m: float):
    """Pairs (i < j) of units at most ``within_m`` apart, their gap and overlap area (m2)."""
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=within_m)
    keep = left < right
    left, right = left[keep], right[keep]
    gap = shapely.distance(geoms[left], geoms[right])
    overlap = np.zeros(len(left))
    hit = gap == 0
    overlap[hit] = shapely.area(shapely.intersection(geoms[left[hit]], geoms[right[hit]]))
    return left, right, gap, overlap


# ---------------------------------------------------------------------- determinism


@pytest.mark.parametrize("crs", [OUTPUT_CRS, "EPSG:4326"])
def test_same_seed_gives_a_bitwise_identical_layer(crs):
    a = generate_units(400, seed=9, n_provinces=3, crs=crs)
    b = generate_units(400, seed=9, n_provinces=3, crs=crs)
    assert shapely.to_wkb(a.geometry.values).tolist() == shapely.to_wkb(b.geometry.values).tolist()
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.crs == b.crs


def test_different_seed_gives_a_different_layer():
    a = generate_units(400, seed=9, n_provinces=3)
    b = generate_units(400, seed=10, n_provinces=3)
    assert not np.array_equal(a["LUAS_SK"].to_numpy(), b["LUAS_SK"].to_numpy())
    assert not shapely.equals_exact(a.geometry.values, b.geometry.values).all()


# ---------------------------------------------------------------------- schema


def test_columns_ids_and_codes(province):
    assert list(province.columns) == [*COLUMNS, "geometry"]
    assert province.crs.to_string() == OUTPUT_CRS
    assert province["OBJECTID"].tolist() == list(range(1, len(province) + 1))
    assert province["PS_ID"].str.fullmatch(r"0|\d{6}").all()
    code = PROVINCE_ORDER[0]
    assert (province["KODE_PROV"] == code).all()
    assert province["KODE_KAB"].str.fullmatch(rf"{code}\d{{2}}").all()
    assert province["NAMA_KAB"].nunique() > 3
    # raw scheme codes: all known, long and short forms mixed
    assert province["SKEMA"].map(normalize_scheme).notna().all()
    assert {"PPHKm", "HKM", "PPHD", "HD"} <= set(province["SKEMA"])
    assert pd.api.types.is_datetime64_dtype(province["TGL_SK"])
    assert province["TGL_SK"].dt.year.between(2010, 2024).all()
    assert (province["TGL_SK"] == province["TGL_SK"].dt.normalize()).all()  # dates, no time
    assert province["NO_SK"].str.startswith("SK.").all()
    assert province["LEMBAGA"].str.len().gt(3).all()
    assert province["Jml_KK"].dtype == np.int64 and (province["Jml_KK"] >= 5).all()
    assert province["facilitator"].dtype == bool and 0.2 < province["facilitator"].mean() < 0.8
    assert set(province["kups_class"]) <= {"", *KUPS_CLASSES}
    assert province["landscape_id"].str.fullmatch(r"(IAD-\d{2})?").all()


def test_ps_id_is_no_key_as_in_real_exports(national):
    """PS_ID: "0" for ~20%, else regency code + 2-digit sequence shared by neighbours."""
    # one province of real size, and 38 provinces of about 80 permits each
    for gdf in (generate_units(300, seed=2026), national):
        n = len(gdf)
        ps_id = gdf["PS_ID"]
        assert not ps_id.is_unique
        # a real one-province export: 83 distinct values for 155 permits, 34 zeros
        assert 0.45 <= ps_id.nunique() / n <= 0.7
        assert 0.15 <= (ps_id == "0").mean() <= 0.25
        coded = gdf[ps_id != "0"]
        assert (coded["PS_ID"].str[:4] == coded["KODE_KAB"]).all()
        per_code = coded.groupby("PS_ID")["KODE_KAB"].agg(["size", "nunique"])
        assert (per_code["nunique"] == 1).all()  # a code belongs to one regency
        assert 1.2 <= per_code["size"].mean() <= 1.7
        assert (per_code["size"] == 1).any() and (per_code["size"] >= 3).any()
        assert gdf["OBJECTID"].is_unique and gdf["OBJECTID"].tolist() == list(range(1, n + 1))


def test_ps_id_keeps_two_digit_sequences_in_large_regencies(province):
    """2,000 permits in one province: at most 99 codes per regency, so more sharing."""
    coded = province[province["PS_ID"] != "0"]
    assert coded["PS_ID"].str.fullmatch(r"\d{6}").all()
    assert (coded.groupby("KODE_KAB")["PS_ID"].nunique() <= 99).all()
    assert 0.15 <= (province["PS_ID"] == "0").mean() <= 0.25


def test_decree_numbers_repeat_a_little(province):
    no_sk = province["NO_SK"]
    # real: 859 distinct of 884
    assert 0.95 <= no_sk.nunique() / len(province) < 0.99
    repeated = province[no_sk.duplicated(keep=False)]
    # one decree, one date
    assert (repeated.groupby("NO_SK")["TGL_SK"].nunique() == 1).all()


def test_provinces_table_and_national_spread(national):
    codes = [p.code for p in PROVINCES]
    assert len(PROVINCES) == 38 and len(set(codes)) == 38
    assert sorted(PROVINCE_ORDER) == sorted(codes)
    names = {p.code: p.name for p in PROVINCES}
    assert names["11"] == "Aceh" and names["94"] == "Papua" and names["97"] == "Papua Pegunungan"
    assert {"91", "92", "94", "95", "96", "97"} <= set(codes)
    for p in PROVINCES:
        assert 94 < p.lon < 142 and -11 < p.lat < 6
    assert set(national["KODE_PROV"]) == set(codes)
    count = national["KODE_PROV"].value_counts()
    assert count["35"] > count["81"] and count["61"] > count["31"]
    # about 48 landscapes nationally, covering a minority of units
    n_landscapes = national.loc[national["landscape_id"] != "", "landscape_id"].nunique()
    assert 40 <= n_landscapes <= 48
    assert (national["landscape_id"] != "").mean() < 0.4


def test_scheme_shares_follow_the_national_ones(national):
    share = national["SKEMA"].map(normalize_scheme).value_counts(normalize=True)
    expected = {
        "hkm": 0.35,
        "hutan_desa": 0.30,
        "kemitraan": 0.20,
        "htr": 0.09,
        "hutan_adat": 0.04,
        "iphps": 0.02,
    }
    for scheme, value in expected.items():
        assert share.get(scheme, 0.0) == pytest.approx(value, abs=0.06), scheme


# ---------------------------------------------------------------------- geometry


def test_area_distribution(province, national):
    for layer in (province, national):
        area = shapely.area(_metric(layer)) / 1e4
        assert 400 <= np.median(area) <= 800
        assert area.max() <= 16_000
        assert area.min() >= 5
        # a long tail: the largest are many times the median
        assert np.percentile(area, 99.5) > 4 * np.median(area)


def test_decreed_area_and_forest_functions(province):
    area = shapely.area(_metric(province)) / 1e4
    rel = np.abs(province["LUAS_SK"].to_numpy() / area - 1)
    assert (rel <= 0.05).mean() > 0.9
    assert 0.005 <= (rel > 0.10).mean() <= 0.06
    functions = province[["Luas_HK", "LUAS_HL", "LUAS_HPT", "LUAS_HP", "LUAS_HPK"]].sum(axis=1)
    assert np.allclose(functions, province["LUAS_SK"], rtol=0.02)
    # about one permit in 250 is drawn several times larger than decreed
    ratio = area / province["LUAS_SK"].to_numpy()
    assert 4 <= (ratio > 3).sum() <= 16
    assert ratio.max() <= 6.5


def test_a_polygon_several_times_its_decreed_area():
    """As in the real export: a 1,398 ha polygon decreed at 255 ha (factor ~5)."""
    gdf = generate_units(300, seed=2026)
    ratio = shapely.area(_metric(gdf)) / 1e4 / gdf["LUAS_SK"].to_numpy()
    assert ratio.max() > 3
    assert (ratio > 3).sum() <= 3


def test_multipolygons_and_invalid_rings(province):
    geoms = province.geometry.values
    parts = shapely.get_num_geometries(geoms)
    assert set(province.geom_type) == {"Polygon", "MultiPolygon"}
    assert 0.20 <= (parts > 1).mean() <= 0.32
    assert (parts == 3).any()
    invalid = ~shapely.is_valid(geoms)
    assert 0.01 <= invalid.mean() <= 0.03
    repaired = shapely.make_valid(geoms[invalid])
    # make_valid gives polygons (and, for a spike, a stray line) covering about the same area
    kept = [
        shapely.union_all([g for g in shapely.get_parts(r) if g.geom_type.endswith("Polygon")])
        for r in repaired
    ]
    before = province["LUAS_SK"].to_numpy()[invalid]
    assert all(g.area > 0 for g in kept)
    assert np.median(shapely.area(_metric(province)[invalid]) / 1e4 / before) == pytest.approx(
        1.0, abs=0.05
    )


def test_neighbours_touch_sometimes_and_mostly_leave_small_gaps(province):
    geoms = _metric(province)
    n = len(geoms)
    left, right, gap, overlap = _pairs(geoms, 2000.0)
    overlapping = overlap >= 100.0  # 0.01 ha, validation's default sliver threshold
    touching = (gap < 0.01) & ~overlapping
    small_gap = gap >= 0.01
    assert overlapping.sum() >= 1
    in_overlap = np.unique(np.concatenate([left[overlapping], right[overlapping]]))
    assert 0.005 <= len(in_overlap) / n <= 0.04
    assert touching.sum() >= 0.1 * n
    assert small_gap.sum() >= 0.5 * n
    assert small_gap.sum() > 2 * touching.sum()
    # not a tessellation: touching pairs leave most units in separate groups
    assert len(np.unique(np.concatenate([left[touching], right[touching]]))) < 0.6 * n


def test_national_layer_has_isolated_units(national):
    geoms = _metric(national)
    left, right, _, _ = _pairs(geoms, 2000.0)
    has_near = np.zeros(len(geoms), dtype=bool)
    has_near[left] = has_near[right] = True
    assert 0.03 <= (~has_near).mean() <= 0.3


# ---------------------------------------------------------------------- cover, peat, mangrove


def test_forest_peat_and_mangrove(national):
    area = shapely.area(_metric(national)) / 1e4
    f10 = national["forest_ha_2010"].to_numpy()
    f20 = national["forest_ha_2020"].to_numpy()
    # exact for valid units; repairing a twisted ring may shave off a little
    valid = national.is_valid.to_numpy()
    assert (f20[valid] <= area[valid] + 0.01).all() and (f10[valid] <= area[valid] + 0.01).all()
    assert (f10 <= 1.05 * area).all()
    forested = f20 > 20.0  # rates of tiny forests are blurred by rounding to 0.01 ha
    rate = np.log(f10[forested] / f20[forested]) / 10 * 100
    assert rate.min() >= -0.5 - 0.01 and rate.max() <= 3.0 + 0.01
    assert (rate > 0).mean() > 0.6 and (rate < 0).mean() > 0.05
    assert np.median(rate) < 1.0

    kind = national["KODE_PROV"].map({p.code: p.kind for p in PROVINCES})
    cover = pd.Series(f20 / area).groupby(kind.to_numpy()).mean()
    assert cover["papua"] > cover["kalimantan"] > cover["java"]
    peat = national["peat_ha"].to_numpy()
    peat_regions = kind.isin(["sumatra", "kalimantan", "papua"]).to_numpy()
    assert (peat[~peat_regions] == 0).all()
    assert (peat[peat_regions] > 0).mean() > 0.1
    mangrove = national["mangrove_ha"].to_numpy()
    assert 0.01 <= (mangrove > 0).mean() <= 0.15
    assert (mangrove[valid] + peat[valid] <= area[valid] + 0.02).all()


def test_first_province_is_forested_with_peat():
    gdf = generate_units(300, seed=2026, n_provinces=1)
    assert (gdf["KODE_PROV"] == PROVINCE_ORDER[0]).all()
    assert (gdf["peat_ha"] > 0).mean() > 0.2
    assert (gdf["forest_ha_2020"].sum() / gdf["LUAS_SK"].sum()) > 0.25


# ---------------------------------------------------------------------- edge cases


def test_tiny_layers_and_bad_arguments():
    one = generate_units(1, seed=0)
    assert len(one) == 1 and one.geometry.iloc[0].area > 0
    few = generate_units(5, seed=0, n_provinces=38)
    assert len(few) == 5 and few["OBJECTID"].tolist() == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="n_units"):
        generate_units(0, seed=0)
    with pytest.raises(ValueError, match="n_provinces"):
        generate_units(10, seed=0, n_provinces=39)
    with pytest.raises(ValueError, match="seed"):
        generate_units(10, seed=-1)
    with pytest.raises(ValueError, match="crs must be one of ESRI:54034, EPSG:4326"):
        generate_units(10, seed=0, crs="EPSG:32748")


# ---------------------------------------------------------------------- CRS


def test_wgs84_layer_is_the_default_one_projected():
    default = generate_units(300, seed=5, n_provinces=2)
    wgs84 = generate_units(300, seed=5, n_provinces=2, crs="EPSG:4326")
    assert wgs84.crs.to_string() == "EPSG:4326"
    pd.testing.assert_frame_equal(wgs84.drop(columns="geometry"), default.drop(columns="geometry"))
    lon_min, lat_min, lon_max, lat_max = wgs84.total_bounds
    assert 94 < lon_min < lon_max < 142 and -11 < lat_min < lat_max < 6
    assert wgs84.has_z.all()
    np.testing.assert_array_equal(
        shapely.is_valid(wgs84.geometry.values), shapely.is_valid(default.geometry.values)
    )
    back = wgs84.to_crs(OUTPUT_CRS).geometry.values
    np.testing.assert_allclose(
        shapely.get_coordinates(back), shapely.get_coordinates(default.geometry.values), atol=0.01
    )


def test_cli_generate_crs_option(tmp_path):
    runner = CliRunner()
    path = tmp_path / "units.gpkg"
    result = runner.invoke(
        app, ["generate", "-n", "40", "--seed", "1", "--crs", "EPSG:4326", "--out", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert gpd.read_file(path).crs.to_string() == "EPSG:4326"
    bad = tmp_path / "bad.gpkg"
    result = runner.invoke(app, ["generate", "-n", "40", "--crs", "EPSG:32748", "--out", str(bad)])
    assert result.exit_code != 0
    assert "--crs" in result.output and "EPSG:32748" in result.output
    assert "Traceback" not in result.output
    assert not bad.exists()


# ---------------------------------------------------------------------- writing


@pytest.fixture(scope="module")
def small() -> gpd.GeoDataFrame:
    return generate_units(300, seed=5, n_provinces=2)


def _read(path):
    return gpd.read_parquet(path) if path.suffix == ".parquet" else gpd.read_file(path)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".fgb", ".parquet"])
def test_write_layer_round_trips(small, tmp_path, suffix):
    path = tmp_path / f"units{suffix}"
    write_layer(small, path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    # FlatGeobuf writes in the order of its spatial index
    back = _read(path).sort_values("OBJECTID").reset_index(drop=True)
    assert back.crs.to_string() == OUTPUT_CRS
    assert list(back.columns) == list(small.columns)
    assert pd.api.types.is_datetime64_dtype(back["TGL_SK"])
    assert back.has_z.all()
    for col in COLUMNS:
        want, got = small[col].to_numpy(), back[col].to_numpy()
        if small[col].dtype.kind in "fi":
            np.testing.assert_allclose(got.astype(float), want.astype(float), err_msg=col)
        else:
            assert (got == want).all(), col
    # invalid rings survive the trip; coordinates are kept (GeoJSON prints ~15 digits)
    want, got = small.geometry.values, back.geometry.values
    np.testing.assert_array_equal(shapely.is_valid(got), shapely.is_valid(want))
    np.testing.assert_allclose(
        shapely.get_coordinates(got), shapely.get_coordinates(want), rtol=0, atol=1e-3
    )


def test_write_layer_replaces_files_and_names_shapefile_fields(small, tmp_path):
    path = tmp_path / "units.gpkg"
    write_layer(small.iloc[:10], path)
    write_layer(small, path)
    assert len(gpd.read_file(path)) == len(small)
    assert gpd.list_layers(path)["name"].tolist() == ["units"]

    shp = tmp_path / "shp" / "units.shp"
    write_layer(small, shp)
    suffixes = sorted(p.suffix for p in shp.parent.iterdir())
    assert suffixes == [".cpg", ".dbf", ".prj", ".shp", ".shx"]
    back = gpd.read_file(shp)
    assert {"PENDAMPING", "KELAS_KUPS", "ID_LANSKAP", "FOREST2010"} <= set(back.columns)
    assert back.crs.to_string() == OUTPUT_CRS

    with pytest.raises(ValueError, match="unknown format"):
        write_layer(small, tmp_path / "units.xlsx")
    assert not (tmp_path / "units.xlsx").exists()


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_written_layer_has_z_and_a_date_field(small, tmp_path, suffix):
    path = tmp_path / f"units{suffix}"
    write_layer(small, path)
    info = pyogrio.read_info(path)
    assert info["geometry_type"].endswith(" Z")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["TGL_SK"] == "OFTDate"
    assert types["OBJECTID"].startswith("OFTInteger")
    back = gpd.read_file(path)
    assert back.has_z.all()
    assert set(back.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (shapely.get_coordinates(back.geometry.values, include_z=True)[:, 2] == 0).all()
    assert pd.api.types.is_datetime64_dtype(back["TGL_SK"])
    assert (back["TGL_SK"].to_numpy() == small["TGL_SK"].to_numpy()).all()
    assert back["PS_ID"].tolist() == small["PS_ID"].tolist()  # text, "0" included
    assert not back["PS_ID"].is_unique and back["OBJECTID"].is_unique


def test_generated_layer_passes_validation(small, tmp_path):
    path = tmp_path / "units.gpkg"
    write_layer(small, path)
    report = load_units(path)
    assert report.ok, report.errors
    assert len(report.repaired) == int((~small.is_valid).sum()) > 0
    assert len(report.overlaps) >= 1
    canonical = {"unit_id", "scheme", "decreed_ha", "households", "forest_ha_2010", "peat_ha"}
    assert canonical <= set(report.units.columns)
    assert report.units["facilitator"].dtype == bool
