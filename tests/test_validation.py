"""Validation: every error path, the repairs and reports, and the ministry-export traits."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from bundler.config.scenario import Scenario, from_dict
from bundler.errors import InputError
from bundler.input.validation import load_units
from tests.layers import UTM, X0, Y0, bowtie, layer, ministry_export, square


def _write(gdf, tmp_path, name="units.gpkg"):
    path = tmp_path / name
    gdf.to_file(path) if not name.endswith(".parquet") else gdf.to_parquet(path)
    return path


def _errors(gdf, tmp_path, **kw):
    report = load_units(_write(gdf, tmp_path), **kw)
    assert not report.ok
    return "\n".join(report.errors)


def test_ministry_export_is_usable_and_lists_repairs_and_overlaps(tmp_path):
    report = load_units(_write(ministry_export(), tmp_path))
    assert report.ok, report.errors
    assert len(report.units) == 155
    assert report.input_crs == "ESRI:54034"
    assert len(report.repaired) == 5
    assert len(report.overlaps) == 29
    assert (shapely.get_num_geometries(report.units.geometry.values) > 1).sum() >= 30
    # every geometry is valid and polygonal after repair
    assert report.units.is_valid.all()
    assert set(report.units.geom_type) <= {"Polygon", "MultiPolygon"}


def test_overlap_area_is_measured_and_excluded_once(tmp_path):
    # two 1 km squares overlapping in a 100 m x 1 km strip: 10 ha of overlap.
    gdf = layer([square(0, 0, 1000), square(900, 0, 1000), square(5000, 0, 1000)])
    report = load_units(_write(gdf, tmp_path))
    assert report.ok
    assert len(report.overlaps) == 1
    row = report.overlaps.iloc[0]
    assert (row.unit_a, row.unit_b) == ("U000", "U001")
    assert row.overlap_ha == pytest.approx(10.0, rel=1e-3)
    units = report.units.set_index("unit_id")
    # each 100 ha square loses the 10 ha overlap; the far square keeps its 100 ha
    assert units.loc["U000", "area_excl_ha"] == pytest.approx(90.0, rel=1e-3)
    assert units.loc["U002", "area_excl_ha"] == pytest.approx(100.0, rel=1e-3)


@pytest.mark.parametrize("min_ha", [0.0, 0.01, 1.0])
def test_touching_units_measure_no_overlap_and_overlapping_ones_all_of_theirs(tmp_path, min_ha):
    # Voronoi-like cells sharing edges, a T-junction (a corner on a neighbour's edge),
    # an edge shared over part of its length, a corner-to-corner touch, and overlaps
    cells = [square(0, 0, 1000), square(1000, 0, 1000), square(0, 1000, 500)]
    cells += [square(500, 1000, 1500), square(1800, 2300, 300), square(1999.99, 0, 300)]
    cells += [Polygon([(X0 + 3000, Y0), (X0 + 4000, Y0), (X0 + 3500, Y0 + 700)])]
    cells += [Polygon([(X0 + 3500, Y0 + 700), (X0 + 4200, Y0 + 1400), (X0 + 3300, Y0 + 1400)])]
    scenario = from_dict({"validation": {"min_overlap_ha": min_ha}})
    report = load_units(_write(layer(cells), tmp_path), scenario)
    assert report.ok, report.errors
    geoms = report.units.geometry.values
    pairs = {
        (f"U{a:03d}", f"U{b:03d}"): area_ha
        for a in range(len(cells))
        for b in range(a + 1, len(cells))
        if shapely.intersects(geoms[a], geoms[b])
        and (area_ha := shapely.intersection(geoms[a], geoms[b], grid_size=0.01).area / 1e4)
        >= min_ha
    }
    found = {(r.unit_a, r.unit_b): r.overlap_ha for r in report.overlaps.itertuples()}
    assert found == {k: round(v, 4) for k, v in pairs.items()}
    # with a positive minimum only the 4 ha overlap (a 1 cm x 300 m strip is 0.0003 ha)
    if min_ha > 0:
        assert list(found) == [("U003", "U004")] and found["U003", "U004"] == pytest.approx(
            4, rel=1e-2
        )


def test_areas_are_computed_in_an_equal_area_crs_not_degrees(tmp_path):
    gdf = layer([square(0, 0, 1000)]).to_crs("EPSG:4326")
    report = load_units(_write(gdf, tmp_path))
    assert report.units.crs.is_projected
    assert report.units["area_ha"].iloc[0] == pytest.approx(100.0, rel=1e-3)


def test_no_crs_is_an_error_unless_asserted(tmp_path):
    gdf = layer([square(0, 0, 1000)]).set_crs(None, allow_override=True)
    msg = _errors(gdf, tmp_path)
    assert "no CRS" in msg and "--assume-crs" in msg
    report = load_units(tmp_path / "units.gpkg", assume_crs=UTM)
    assert report.ok
    assert report.units["area_ha"].iloc[0] == pytest.approx(100.0, rel=1e-3)


def test_metres_labelled_as_degrees_is_an_error(tmp_path):
    gdf = layer([square(0, 0, 1000)]).set_crs("EPSG:4326", allow_override=True)
    assert "look like metres" in _errors(gdf, tmp_path)


def test_degrees_labelled_as_metres_is_an_error(tmp_path):
    gdf = layer([square(0, 0, 1000)]).to_crs("EPSG:4326").set_crs(UTM, allow_override=True)
    assert "look like degrees" in _errors(gdf, tmp_path)


def test_invalid_geometry_is_repaired_and_listed(tmp_path):
    gdf = layer([square(0, 0, 1000), bowtie(3000, 0, 1000)])
    report = load_units(_write(gdf, tmp_path))
    assert report.ok
    assert report.repaired == ["U001"]
    # the bow-tie becomes two triangles of half the square: 50 ha
    assert report.units["area_ha"].iloc[1] == pytest.approx(50.0, rel=1e-3)
    assert any("repaired 1 invalid" in w for w in report.warnings)


def test_every_geometry_invalid_but_repairable(tmp_path):
    gdf = layer([bowtie(i * 3000, 0, 1000) for i in range(4)])
    report = load_units(_write(gdf, tmp_path))
    assert report.ok and len(report.repaired) == 4


def test_empty_and_non_polygon_geometries_are_errors(tmp_path):
    gdf = layer(
        [square(0, 0, 1000), Polygon(), Point(X0, Y0), LineString([(X0, Y0), (X0 + 1, Y0)])]
    )
    msg = _errors(gdf, tmp_path)
    assert "empty or missing geometry in units U001" in msg
    assert "not polygons (Point, LineString) in units U002, U003" in msg


def test_duplicate_and_empty_ids_name_rows_when_the_key_is_explicit(tmp_path):
    gdf = layer([square(i * 3000, 0, 1000) for i in range(4)], PS_ID=["a", "b", "a", ""])
    msg = _errors(gdf, tmp_path, scenario=from_dict({"input": {"id_column": "PS_ID"}}))
    assert "column PS_ID (the id column): duplicate values a (rows 1, 3)" in msg
    assert "column PS_ID (the id column): empty in rows 4" in msg


def test_duplicate_and_empty_ids_are_made_unique_by_default(tmp_path):
    # no OBJECTID: the repeated and the empty ids take the feature number
    gdf = layer([square(i * 3000, 0, 1000) for i in range(4)], PS_ID=["a", "b", "a", ""])
    report = load_units(_write(gdf, tmp_path))
    assert report.ok, report.errors
    assert list(report.units["unit_id"]) == ["a-r1", "b", "a-r3", "r4"]
    assert list(report.units["PS_ID"]) == ["a", "b", "a", ""]
    assert any("PS_ID is not a permit key" in w for w in report.warnings)


def test_unknown_id_column_is_named(tmp_path):
    gdf = layer([square(0, 0, 1000)])
    msg = _errors(gdf, tmp_path, scenario=from_dict({"input": {"id_column": "KODE"}}))
    assert "id column 'KODE'" in msg and "PS_ID" in msg


def test_unknown_scheme_code_names_value_and_units(tmp_path):
    gdf = layer([square(i * 3000, 0, 1000) for i in range(3)], SKEMA=["HD", "XYZ", "XYZ"])
    msg = _errors(gdf, tmp_path)
    assert "unknown scheme code 'XYZ' in units U001, U002" in msg


@pytest.mark.parametrize(
    ("values", "what"),
    [
        (["10", "abc", "5"], "non-numeric values in units U001"),
        ([10.0, np.nan, 5.0], "missing (NaN/empty) values in units U001"),
        ([10.0, np.inf, 5.0], "infinite values in units U001"),
        ([10.0, -3.0, 5.0], "negative values in units U001"),
    ],
)
def test_bad_numbers_name_column_and_units(tmp_path, values, what):
    gdf = layer([square(i * 3000, 0, 1000) for i in range(3)], Jml_KK=values)
    msg = _errors(gdf, tmp_path)
    assert f"column households: {what}" in msg


def test_all_problems_are_reported_together(tmp_path):
    gdf = layer(
        [square(0, 0, 1000), Point(X0, Y0), square(6000, 0, 1000)],
        PS_ID=["a", "b", "a"],
        SKEMA=["HD", "??", "HD"],
        LUAS_SK=[1.0, -1.0, 2.0],
    )
    # duplicate key (explicit), unknown scheme, negative area, not a polygon
    report = load_units(_write(gdf, tmp_path), from_dict({"input": {"id_column": "PS_ID"}}))
    assert len(report.errors) == 4
    with pytest.raises(InputError, match="4 problems"):
        report.raise_if_errors()


def test_missing_required_columns(tmp_path):
    gdf = layer([square(0, 0, 1000)]).drop(columns="SKEMA")
    assert "missing required column(s) scheme" in _errors(gdf, tmp_path)


def test_province_filter_by_code_or_name_and_unknown(tmp_path):
    gdf = layer(
        [square(i * 3000, 0, 1000) for i in range(3)],
        KODE_PROV=["16", "16", "62"],
        NAMA_PROV=["Sumatera Selatan", "Sumatera Selatan", "Kalimantan Tengah"],
    )
    path = _write(gdf, tmp_path)
    assert len(load_units(path, province="16").units) == 2
    assert len(load_units(path, province="kalimantan tengah").units) == 1
    report = load_units(path, province="Aceh")
    assert "matches no unit" in report.errors[0] and "62 Kalimantan Tengah" in report.errors[0]


def test_decreed_area_discrepancy_is_reported(tmp_path):
    # squares of 100 ha; decreed 100 (fine), 150 (-33%), 80 (+25%)
    gdf = layer([square(i * 3000, 0, 1000) for i in range(3)], LUAS_SK=[100.0, 150.0, 80.0])
    report = load_units(_write(gdf, tmp_path))
    assert report.ok
    assert report.area_mismatch["unit_id"].tolist() == ["U001", "U002"]
    assert report.area_mismatch["rel_diff"].tolist() == pytest.approx([-1 / 3, 0.25], abs=1e-3)


def test_scheme_codes_are_normalized_and_canonical_names_accepted(tmp_path):
    codes = ["PPHD", "HD", "PPHKm", "HKM", "PPHTR", "HTR", "PKK", "KK", "Kulin-KK", "HA", "IPHPS"]
    gdf = layer([square(i * 3000, 0, 1000) for i in range(len(codes))], SKEMA=codes)
    gdf = gdf.rename(columns={"PS_ID": "unit_id"})  # a canonical name next to a ministry one
    report = load_units(_write(gdf, tmp_path))
    assert report.units["scheme"].tolist() == [
        "hutan_desa", "hutan_desa", "hkm", "hkm", "htr", "htr",
        "kemitraan", "kemitraan", "kemitraan", "hutan_adat", "iphps",
    ]  # fmt: skip


def test_column_mapping_can_be_overridden_by_scenario(tmp_path):
    gdf = layer([square(0, 0, 1000)]).rename(columns={"PS_ID": "ID_IZIN", "SKEMA": "JENIS"})
    path = _write(gdf, tmp_path)
    scen = from_dict({"input": {"columns": {"ID_IZIN": "unit_id", "JENIS": "scheme"}}})
    report = load_units(path, scen)
    assert report.ok and report.units["unit_id"].tolist() == ["U000"]
    bad = from_dict({"input": {"columns": {"NOPE": "unit_id"}}})
    with pytest.raises(InputError, match="'NOPE', but the layer has no such column"):
        load_units(path, bad)


def test_two_columns_mapping_to_one_name_is_an_error(tmp_path):
    # two overrides onto one canonical name
    gdf = layer([square(0, 0, 1000)], KODE=["x"], NOMOR=["y"])
    scen = from_dict({"input": {"columns": {"KODE": "decree_no", "NOMOR": "decree_no"}}})
    report_error = "'KODE', 'NOMOR' all map to 'decree_no'"
    with pytest.raises(InputError, match=report_error):
        load_units(_write(gdf, tmp_path), scen)


def test_an_existing_canonical_column_wins_over_a_ministry_field(tmp_path):
    # ps-bundler's own scored_units.gpkg holds unit_id next to the source's PS_ID
    gdf = layer([square(0, 0, 1000)], unit_id=["x"])
    report = load_units(_write(gdf, tmp_path))
    assert report.ok and list(report.units["unit_id"]) == ["x"]
    assert list(report.units["PS_ID"]) == ["U000"]


def test_kups_and_facilitator_fields(tmp_path):
    gdf = layer(
        [square(i * 3000, 0, 1000) for i in range(3)],
        kups_class=["Gold", "emas", "diamond"],
        facilitator=["ya", "tidak", "maybe"],
    )
    msg = _errors(gdf, tmp_path)
    assert "unknown classes diamond in units U002" in msg
    assert "column facilitator: not a yes/no value in units U002" in msg


@pytest.mark.parametrize("name", ["u.gpkg", "u.shp", "u.geojson", "u.fgb", "u.parquet"])
def test_reads_every_format(tmp_path, name):
    gdf = layer([square(0, 0, 1000), square(3000, 0, 1000)])
    report = load_units(_write(gdf, tmp_path, name))
    # FlatGeobuf stores features in spatial-index order, so compare as a set
    assert report.ok and sorted(report.units["unit_id"]) == ["U000", "U001"]


def test_unreadable_inputs(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_units(tmp_path / "missing.gpkg")
    text = tmp_path / "notes.txt"
    text.write_text("these are not polygons\n")
    with pytest.raises(InputError, match="not a vector layer that can be read"):
        load_units(text)
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [ {"type": ')
    with pytest.raises(InputError, match=r"broken\.geojson: not a vector layer"):
        load_units(broken)
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="empty"):
        load_units(empty)


def test_input_file_is_not_modified(tmp_path):
    path = _write(ministry_export(), tmp_path)
    before = path.read_bytes()
    load_units(path, Scenario())
    assert path.read_bytes() == before


# A unit of a generated Sulawesi Tengah layer (ESRI:54034, metres) whose ring crosses
# itself. make_valid repairs it, but the repaired ring has vertices so close together
# that it crosses itself again once projected to the working LAEA CRS; the planner's
# union then failed with a GEOS TopologyException (100,000-unit national benchmark).
_SULAWESI_WKT = Path(__file__).with_name("data").joinpath("invalid_after_projection.wkt")


def test_geometry_invalid_after_projection_is_repaired_again(tmp_path):
    geom = shapely.from_wkt(_SULAWESI_WKT.read_text())
    assert not geom.is_valid
    layer = gpd.GeoDataFrame(
        {"PS_ID": ["PS-72-001050"], "SKEMA": ["PPHD"], "LUAS_SK": [759.38]},
        geometry=[geom],
        crs="ESRI:54034",
    )
    path = tmp_path / "one.gpkg"
    layer.to_file(path)
    # the first repair, in the layer's own CRS, is valid there ...
    repaired = shapely.make_valid(geom)
    assert repaired.is_valid
    report = load_units(path, Scenario())
    report.raise_if_errors()
    # ... and the projected units are valid too, and say they were repaired again
    assert shapely.is_valid(report.units.geometry.values).all()
    assert any("invalid when projected to the working CRS" in w for w in report.warnings)
    assert report.repaired == ["PS-72-001050"]
    area = float(shapely.union_all(report.units.geometry.values).area)
    assert area == pytest.approx(report.units["area_ha"].iloc[0] * 1e4)
