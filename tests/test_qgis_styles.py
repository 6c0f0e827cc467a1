"""Default QGIS styles in ``plan.gpkg``: the ``layer_styles`` table, one default per layer.

Bundles are coloured as on the report's map (the report's own colour function is the
reference), units of no bundle are grey, every QML and SLD is well-formed XML, and with
``OGR_CURRENT_DATE`` set the GeoPackage is the same file each time it is written.
"""

from __future__ import annotations

import hashlib
import sqlite3
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from matplotlib.colors import to_rgba
from shapely.geometry import box

from bundler.errors import InputError
from bundler.outputs.files import write_layers
from bundler.outputs.interop.qgis_styles import (
    DATE_VARIABLE,
    STYLE_TABLE,
    write_plan_styles,
)
from bundler.outputs.report.static_map import UNSELECTED_FILL, bundle_colors
from tests.test_workbook import write_small_plan

LAYERS = ("units", "bundles")
SLD = "{http://www.opengis.net/sld}"
OGC = "{http://www.opengis.net/ogc}"


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    return write_small_plan(tmp_path_factory.mktemp("styles") / "plan")


def styles(gpkg: Path) -> dict[str, dict]:
    """Layer name -> its row of ``layer_styles``."""
    con = sqlite3.connect(gpkg)
    con.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in con.execute(f"SELECT * FROM {STYLE_TABLE}")]
    finally:
        con.close()
    assert len({r["f_table_name"] for r in rows}) == len(rows), "one style per layer"
    return {r["f_table_name"]: r for r in rows}


def qgis_colour(hex_colour: str) -> str:
    return ",".join(str(round(v * 255)) for v in to_rgba(hex_colour))


def categories(qml: str) -> dict[str, str]:
    """Category value -> fill colour of a categorized QML style."""
    root = ET.fromstring(qml)
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "bundle_id"
    fills = {}
    for symbol in renderer.find("symbols"):
        options = symbol.find("layer/Option")
        fills[symbol.get("name")] = next(
            o.get("value") for o in options if o.get("name") == "color"
        )
    return {c.get("value"): fills[c.get("symbol")] for c in renderer.find("categories")}


def test_both_layers_have_a_default_style_that_parses(plan_dir):
    gpkg = plan_dir / "plan.gpkg"
    rows = styles(gpkg)
    assert set(rows) == set(LAYERS)
    con = sqlite3.connect(gpkg)
    geometry = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    kind = con.execute(
        "SELECT data_type FROM gpkg_contents WHERE table_name = ?", (STYLE_TABLE,)
    ).fetchone()
    con.close()
    assert kind == ("attributes",)  # registered, as QGIS registers it
    for layer, row in rows.items():
        assert row["useAsDefault"] == 1
        assert row["f_geometry_column"] == geometry[layer]
        assert row["styleName"] and row["description"]
        assert ET.fromstring(row["styleQML"]).tag == "qgis"
        assert ET.fromstring(row["styleSLD"]).tag == f"{SLD}StyledLayerDescriptor"
    # GDAL (and so QGIS) sees the table; the layers read as before
    assert STYLE_TABLE in pyogrio.list_layers(gpkg)[:, 0]
    table = pyogrio.read_dataframe(gpkg, layer=STYLE_TABLE)
    assert sorted(table["f_table_name"]) == sorted(LAYERS) and table["useAsDefault"].all()
    assert len(gpd.read_file(gpkg, layer="units")) > 0


def test_bundles_are_coloured_as_on_the_report_map_and_unselected_units_grey(plan_dir):
    rows = styles(plan_dir / "plan.gpkg")
    layer = gpd.read_file(plan_dir / "plan.gpkg", layer="bundles", read_geometry=False)
    expected = {b: qgis_colour(c) for b, c in bundle_colors(layer["bundle_id"]).items()}
    assert len(expected) >= 2
    assert categories(rows["bundles"]["styleQML"]) == expected
    assert categories(rows["units"]["styleQML"]) == {**expected, "": qgis_colour(UNSELECTED_FILL)}
    # the SLD says the same: a rule per bundle, the rest (else) grey
    sld = ET.fromstring(rows["units"]["styleSLD"])
    rules = sld.findall(f".//{SLD}Rule")
    literals = [r.findtext(f".//{OGC}Literal") for r in rules]
    assert literals == [*expected, None]
    assert rules[-1].find(f"{SLD}ElseFilter") is not None
    assert rules[-1].findtext(f".//{SLD}CssParameter[@name='fill']") == UNSELECTED_FILL


def _layers(crs: str = "EPSG:32748") -> dict[str, gpd.GeoDataFrame]:
    units = gpd.GeoDataFrame(
        {"unit_id": ["u1", "u2", "u3"], "bundle_id": ["B1", "B1", ""]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)],
        crs=crs,
    )
    bundles = units[units["bundle_id"] != ""].dissolve(by="bundle_id").reset_index()
    return {"units": units, "bundles": bundles[["bundle_id", "geometry"]]}


def _write(path: Path, bundle_ids=("B1",)) -> Path:
    layers = _layers()
    write_layers(path, layers, layers["units"])
    write_plan_styles(path, bundle_ids)
    return path


def test_with_ogr_current_date_the_geopackage_is_the_same_file_each_time(tmp_path, monkeypatch):
    stamp = "2025-12-16T00:00:00Z"
    monkeypatch.setenv(DATE_VARIABLE, stamp)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    a, b = _write(tmp_path / "a" / "plan.gpkg"), _write(tmp_path / "b" / "plan.gpkg")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    assert {r["update_time"] for r in styles(a).values()} == {stamp}


def test_without_ogr_current_date_the_styles_carry_the_time_of_writing(tmp_path, monkeypatch):
    monkeypatch.delenv(DATE_VARIABLE, raising=False)
    before = datetime.now(UTC) - timedelta(seconds=1)
    path = _write(tmp_path / "plan.gpkg")
    for row in styles(path).values():
        written = datetime.fromisoformat(row["update_time"])
        assert before <= written <= datetime.now(UTC) + timedelta(seconds=1)


def test_a_malformed_ogr_current_date_is_an_error_naming_it(tmp_path, monkeypatch):
    layers = _layers()
    path = tmp_path / "plan.gpkg"
    write_layers(path, layers, layers["units"])
    monkeypatch.setenv(DATE_VARIABLE, "last tuesday")
    with pytest.raises(InputError, match=DATE_VARIABLE):
        write_plan_styles(path, ["B1"])


def test_writing_again_replaces_the_styles_and_an_empty_plan_gets_grey_units(tmp_path):
    path = _write(tmp_path / "plan.gpkg")
    write_plan_styles(path, [])  # e.g. a plan without bundles
    rows = styles(path)
    assert set(rows) == set(LAYERS)
    assert categories(rows["units"]["styleQML"]) == {"": qgis_colour(UNSELECTED_FILL)}
    assert categories(rows["bundles"]["styleQML"]) == {}


def test_a_style_for_a_missing_layer_is_refused(tmp_path):
    path = _write(tmp_path / "plan.gpkg")
    with pytest.raises(ValueError, match="parcels"):
        write_plan_styles(path, ["B1"], units_layer="parcels")
