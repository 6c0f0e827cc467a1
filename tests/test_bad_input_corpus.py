"""A corpus of bad inputs, made here by the tests, each run through ``psbundle plan``.

For every case the contract of the README's exit-code table holds: exit code 2 (bad input),
one clear message naming what is wrong and where (file, column, unit ids or rows, key), no
traceback, and nothing written: ``--out`` is absent (or stays empty) and no scratch folder
(``.OUT.partial-*``) is left beside it. ``plan`` checks the output folder, then reads the
scenario, layer and rasters, and only then writes, so a bad input can never leave a partial
plan behind.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon
from typer.testing import CliRunner

from bundler.cli.commands import app
from tests.layers import UTM, X0, Y0, bowtie, layer, square
from tests.test_rasters import write_raster

runner = CliRunner()

TWO = [square(0, 0, 1000), square(3000, 0, 1000)]
# what scoring needs besides the required columns (tests/test_cli.py's `export` does the same)
SCORABLE = {
    "LUAS_SK": [100.0, 100.0],
    "KODE_PROV": ["16", "16"],
    "NAMA_PROV": ["Sumatera Selatan"] * 2,
    "forest_ha_2010": [80.0, 80.0],
    "forest_ha_2020": [70.0, 70.0],
}


def run(*args) -> object:
    return runner.invoke(app, [str(a) for a in args])


def leftovers(out: Path) -> list[str]:
    """Hidden scratch or backup folders that a run left beside ``out``."""
    if not out.parent.exists():
        return []
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def assert_nothing_written(out: Path) -> None:
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
    assert leftovers(out) == []


def assert_bad_input(result, out: Path, *needles: str) -> str:
    """Exit 2, one message holding every needle, no traceback, nothing written."""
    text = result.output
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    # one message: a single "error:" (a layer's report lists its problems under it)
    assert text.count("error:") == 1, text
    # each case breaks one rule, so the message lists at most one problem
    assert len(re.findall(r"^\s+- ", text, flags=re.M)) <= 1, text
    flat = " ".join(text.split())  # rich may wrap long lines
    for needle in needles:
        assert needle in flat, (needle, text)
    assert_nothing_written(out)
    return flat


def _write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path)
    return path


def _sliver(x: float) -> Polygon:
    # a degenerate ring: three collinear points, zero area. make_valid turns it into a line,
    # which holds no polygon, so it cannot be repaired into a unit
    x0 = X0 + x
    return Polygon([(x0, Y0), (x0 + 500, Y0), (x0 + 1000, Y0)])


def _spike(x: float) -> Polygon:
    # a ring that goes out and comes back along the same line: zero area, repairs to a line
    x0 = X0 + x
    return Polygon([(x0, Y0), (x0 + 1000, Y0 + 1000), (x0, Y0)])


# Each case builds its input in a folder and returns (units path, extra CLI args, needles):
# what the one message must contain. The file name is always among the needles.
Case = Callable[[Path], tuple[Path, list, list[str]]]


def c_empty_layer(d):
    p = _write(layer([], crs=UTM), d / "empty.gpkg")
    return p, [], ["empty.gpkg", "the layer is empty (no features)"]


def c_empty_feature_collection(d):
    p = d / "empty.geojson"
    p.write_text('{"type": "FeatureCollection", "features": []}')
    return p, [], ["empty.geojson", "the layer is empty (no features)"]


def _no_crs(path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio warns that the file will have no CRS: yes
        return _write(layer(TWO, crs=None), path)


def c_no_crs(d):
    p = _no_crs(d / "nocrs.gpkg")
    # the fix is named too: --assume-crs
    return p, [], ["nocrs.gpkg", "the layer has no CRS", "--assume-crs"]


def c_metres_labelled_as_degrees(d):
    # UTM coordinates (x ~ 400 km, y ~ 9,650 km) with a lon/lat label
    gdf = layer(TWO).set_crs("EPSG:4326", allow_override=True)
    p = _write(gdf, d / "degrees.gpkg")
    return p, [], ["degrees.gpkg", "EPSG:4326", "is in degrees", "they look like metres"]


def c_every_geometry_unrepairable(d):
    p = _write(layer([_sliver(0), _spike(3000)]), d / "slivers.gpkg")
    return p, [], ["slivers.gpkg", "invalid and not repairable into a polygon in units U000, U001"]


def c_points_instead_of_polygons(d):
    gdf = layer([Point(X0, Y0), Point(X0 + 3000, Y0)])
    p = _write(gdf, d / "points.gpkg")
    return p, [], ["points.gpkg", "geometry: not polygons (Point) in units U000, U001"]


def c_lines_instead_of_polygons(d):
    gdf = layer([LineString([(X0, Y0), (X0 + 900, Y0)]), square(3000, 0, 1000)])
    p = _write(gdf, d / "lines.gpkg")
    return p, [], ["lines.gpkg", "geometry: not polygons (LineString) in units U000"]


def c_empty_geometries(d):
    # an empty polygon and a missing (NULL) geometry next to a good unit
    gdf = layer([square(0, 0, 1000), Polygon(), None])
    p = _write(gdf, d / "emptygeom.gpkg")
    return p, [], ["emptygeom.gpkg", "empty or missing geometry in units U001, U002"]


def c_duplicate_ids(d):
    gdf = layer([*TWO, square(6000, 0, 1000)], PS_ID=["A", "B", "A"])
    p = _write(gdf, d / "dups.gpkg")
    # rows are 1-based feature numbers, as GIS tools show them
    # PS_ID repeats in real exports and gets made unique, but a key named explicitly
    # must be unique as it is
    return (
        p,
        ["--id-column", "PS_ID"],
        [
            "dups.gpkg",
            "column PS_ID (the id column): duplicate values A (rows 1, 3)",
        ],
    )


def c_unknown_scheme(d):
    p = _write(layer(TWO, SKEMA=["PPHD", "HTX"]), d / "scheme.gpkg")
    return p, [], ["scheme.gpkg", "column scheme (SKEMA): unknown scheme code 'HTX' in units U001"]


def _numbers(d, name, values):
    return _write(layer(TWO, LUAS_SK=values), d / f"{name}.gpkg")


def c_non_numeric(d):
    p = _numbers(d, "text", ["100.5", "seratus"])
    return p, [], ["text.gpkg", "column decreed_ha: non-numeric values in units U001"]


def c_nan(d):
    p = _numbers(d, "nan", [100.0, np.nan])
    return p, [], ["nan.gpkg", "column decreed_ha: missing (NaN/empty) values in units U001"]


def c_infinite(d):
    p = _numbers(d, "inf", [np.inf, 100.0])
    return p, [], ["inf.gpkg", "column decreed_ha: infinite values in units U000"]


def c_negative(d):
    p = _numbers(d, "neg", [100.0, -5.0])
    return p, [], ["neg.gpkg", "column decreed_ha: negative values in units U001"]


def c_list_in_a_field(d):
    # GeoJSON allows arrays as property values; GDAL reads them as list fields
    doc = json.loads(layer(TWO).to_crs("EPSG:4326").to_json())
    doc["features"][0]["properties"]["SKEMA"] = ["PPHD", "HKM"]
    p = d / "lists.geojson"
    p.write_text(json.dumps(doc))
    return p, [], ["lists.geojson", "column scheme: a list or object instead of a single value"]


def c_non_finite_coordinates(d):
    # JSON has no NaN or Infinity, but GDAL reads them; GEOS cannot check or repair them
    doc = json.loads(layer(TWO).to_crs("EPSG:4326").to_json())
    doc["features"][1]["geometry"]["coordinates"][0][1] = [float("inf"), -3.2]
    p = d / "infinite.geojson"
    p.write_text(json.dumps(doc))
    return (
        p,
        [],
        ["infinite.geojson", "coordinates that are not finite (NaN or infinite) in units U001"],
    )


def c_broken_geojson(d):
    text = layer(TWO).to_crs("EPSG:4326").to_json()
    p = d / "broken.geojson"
    p.write_text(text[: len(text) // 2])  # cut off half way, as by an interrupted download
    return p, [], ["broken.geojson", "not a vector layer that can be read"]


def c_plain_text(d):
    p = d / "permits.txt"
    p.write_text("PS_ID SKEMA\nU1 PPHD\nthese are notes, not a layer\n")
    return p, [], ["permits.txt", "not a vector layer that can be read"]


def c_plain_text_named_gpkg(d):
    p = d / "permits.gpkg"
    p.write_text("not a GeoPackage at all\n")
    return p, [], ["permits.gpkg", "not a vector layer that can be read"]


def c_missing_path(d):
    return d / "nowhere" / "permits.gpkg", [], ["permits.gpkg", "file not found"]


def c_folder_instead_of_file(d):
    (d / "permits").mkdir()
    return d / "permits", [], ["permits", "is a folder, not a vector layer file"]


def c_missing_required_column(d):
    gdf = layer(TWO).drop(columns="SKEMA")
    p = _write(gdf, d / "noscheme.gpkg")
    return p, [], ["noscheme.gpkg", "missing required column(s) scheme", "SKEMA"]


def c_unknown_province(d):
    p = _write(layer(TWO, **SCORABLE), d / "prov.gpkg")
    needles = ["prov.gpkg", "--province 'Aceh' matches no unit", "16 Sumatera Selatan"]
    return p, ["--province", "Aceh"], needles


def c_province_without_province_column(d):
    p = _write(layer(TWO), d / "noprov.gpkg")
    return p, ["--province", "16"], ["noprov.gpkg", "the layer has no province column"]


def c_bad_assume_crs(d):
    p = _no_crs(d / "nocrs.gpkg")
    return p, ["--assume-crs", "EPSG:99999999"], ["--assume-crs", "EPSG:99999999"]


LAYER_CASES: list[Case] = [
    c_empty_layer,
    c_empty_feature_collection,
    c_no_crs,
    c_metres_labelled_as_degrees,
    c_every_geometry_unrepairable,
    c_points_instead_of_polygons,
    c_lines_instead_of_polygons,
    c_empty_geometries,
    c_duplicate_ids,
    c_unknown_scheme,
    c_non_numeric,
    c_nan,
    c_infinite,
    c_negative,
    c_list_in_a_field,
    c_non_finite_coordinates,
    c_broken_geojson,
    c_plain_text,
    c_plain_text_named_gpkg,
    c_missing_path,
    c_folder_instead_of_file,
    c_missing_required_column,
    c_unknown_province,
    c_province_without_province_column,
    c_bad_assume_crs,
]


def _ids(cases):
    return [c.__name__.removeprefix("c_") for c in cases]


@pytest.mark.parametrize("case", LAYER_CASES, ids=_ids(LAYER_CASES))
def test_bad_layer_plan_exits_2_with_one_message_and_writes_nothing(case, tmp_path):
    units, extra, needles = case(tmp_path)
    out = tmp_path / "runs" / "out"
    assert_bad_input(run("plan", units, "--out", out, *extra), out, *needles)


@pytest.mark.parametrize("case", LAYER_CASES, ids=_ids(LAYER_CASES))
def test_bad_layer_validate_exits_2_with_the_same_message(case, tmp_path):
    # validate reads and checks exactly like plan, so it gives the same single message
    units, extra, needles = case(tmp_path)
    result = run("validate", units, *extra)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.count("error:") == 1
    flat = " ".join(result.output.split())
    assert all(n in flat for n in needles), result.output
    assert "OK:" not in result.output


def test_bad_input_leaves_an_existing_empty_out_empty(tmp_path):
    # an empty --out is allowed without --force; a failing run must not fill it
    units, args, needles = c_duplicate_ids(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    assert_bad_input(run("plan", units, "--out", out, *args), out, *needles)
    assert out.is_dir()


def test_every_problem_of_a_layer_is_listed_in_one_message(tmp_path):
    # the corpus's layer faults at once: still one message (one "error:"), one problem a line
    gdf = layer(
        [square(0, 0, 1000), Point(X0, Y0), square(6000, 0, 1000)],
        PS_ID=["A", "B", "A"],
        SKEMA=["PPHD", "HTX", "HKM"],
        LUAS_SK=[-1.0, np.inf, np.nan],
    )
    units = _write(gdf, tmp_path / "all.gpkg")
    out = tmp_path / "out"
    result = run("plan", units, "--out", out, "--id-column", "PS_ID")
    assert result.exit_code == 2 and result.output.count("error:") == 1
    flat = " ".join(result.output.split())
    assert "all.gpkg: 6 problems make the layer unusable" in flat
    for needle in (
        "duplicate values A (rows 1, 3)",
        "unknown scheme code 'HTX' in units B",
        "negative values in units A",
        "infinite values in units B",
        "missing (NaN/empty) values in units A",
        "not polygons (Point) in units B",
    ):
        assert needle in flat, needle
    assert_nothing_written(out)


# ---------------------------------------------------------------------------------------------
# invalid geometry: repairable is a warning, unrepairable an error


def test_every_geometry_invalid_but_repairable_is_planned_with_a_warning(tmp_path):
    # Bow-ties are invalid, but make_valid turns each into two triangles of the same outline:
    # the permit's land is still known, so `validate --help` promises a warning (exit 0),
    # not an error. The unrepairable variant (zero-area rings) is c_every_geometry_unrepairable.
    gdf = layer([bowtie(0, 0, 1000), bowtie(3000, 0, 1000)], **SCORABLE)
    units = _write(gdf, tmp_path / "bowties.gpkg")
    out = tmp_path / "out"
    result = run("plan", units, "--out", out, "--min-area-ha", 10)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "repaired 2 invalid geometries: U000, U001" in flat
    plan = gpd.read_file(out / "plan.gpkg", layer="units")
    assert plan.is_valid.all()
    # a 1 km bow-tie repairs to two triangles of a quarter of the square each: 50 ha
    assert plan["area_ha"].to_numpy() == pytest.approx([50.0, 50.0], rel=1e-3)


# ---------------------------------------------------------------------------------------------
# scenario files


@pytest.fixture
def units(tmp_path) -> Path:
    """A usable, scorable layer: bad scenarios and rasters are the only fault."""
    return _write(layer(TWO, **SCORABLE), tmp_path / "units.gpkg")


SCENARIO_CASES = {
    # a typo is named with the key it probably meant
    "unknown-key": (
        "[economics]\ncarbon_prise_usd = 10\n",
        "unknown key 'economics.carbon_prise_usd'; did you mean 'economics.carbon_price_usd'?",
    ),
    "unknown-section": (
        "[econmics]\ncarbon_price_usd = 10\n",
        "unknown key 'econmics'; did you mean 'economics'?",
    ),
    "wrong-type-number": ('[graph]\nmax_gap_m = "far"\n', "graph.max_gap_m: expected a number"),
    "wrong-type-bool": (
        '[graph]\nlandscape_edges = "yes"\n',
        "graph.landscape_edges: expected true or false, got 'yes'",
    ),
    "wrong-type-table": ("graph = 5\n", "graph: expected a table, got int"),
    "wrong-choice": (
        '[bundling]\nobjective = "profit"\n',
        "bundling.objective: must be one of npv, credits, max-p; got 'profit'",
    ),
    "negative-price": (
        "[economics]\ncarbon_price_usd = -3\n",
        "economics.carbon_price_usd: must be >= 0.0, got -3.0",
    ),
    "infinite-value": ("[graph]\nmax_gap_m = inf\n", "graph.max_gap_m: must be finite"),
    # found by tests/test_fuzz.py: these were OverflowError / ValueError (exit 1)
    "number-too-large": (
        "[economics]\ncarbon_price_usd = 1" + "0" * 400 + "\n",
        "economics.carbon_price_usd: number too large",
    ),
    "integer-too-long": ("[economics]\ncrediting_years = " + "9" * 5000 + "\n", "not valid TOML"),
    "invalid-toml": ("[economics\ncarbon_price_usd = 10\n", "not valid TOML"),
    "invalid-toml-value": ("[economics]\ncarbon_price_usd = = 10\n", "not valid TOML"),
}


@pytest.mark.parametrize("name", sorted(SCENARIO_CASES))
def test_bad_scenario_exits_2_naming_file_and_key(name, units, tmp_path):
    text, needle = SCENARIO_CASES[name]
    scenario = tmp_path / f"{name}.toml"
    scenario.write_text(text)
    out = tmp_path / "out"
    flat = assert_bad_input(run("plan", units, "--out", out, "--scenario", scenario), out, needle)
    assert f"{name}.toml" in flat
    # the same message from `psbundle scenario`, which only checks the file
    shown = run("scenario", scenario)
    assert shown.exit_code == 2 and needle in " ".join(shown.output.split())


def test_missing_and_undecodable_scenario_files(units, tmp_path):
    out = tmp_path / "out"
    result = run("plan", units, "--out", out, "--scenario", tmp_path / "nope.toml")
    assert_bad_input(result, out, "nope.toml: scenario file not found")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('name = "Hutan Kemasyarakatan é"\n'.encode("latin-1"))
    result = run("plan", units, "--out", out, "--scenario", latin)
    assert_bad_input(result, out, "latin.toml: cannot read scenario file")


def test_bad_command_line_values_are_bad_input(units, tmp_path):
    out = tmp_path / "out"
    # typer rejects out-of-range options itself with its usage error, also exit 2
    result = run("plan", units, "--out", out, "--carbon-price", -5)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--carbon-price" in result.output
    assert_nothing_written(out)
    result = run("plan", units, "--out", out, "--solver", "gurobi")
    assert_bad_input(result, out, "--solver", "gurobi")


# ---------------------------------------------------------------------------------------------
# rasters


def _ones(path: Path, *, left: float, crs) -> Path:
    # 40 x 40 cells of 100 m over the units of TWO (x 0..4 km) when left = X0 - 500
    return write_raster(
        path, np.ones((40, 40), "uint8"), left=left, top=Y0 + 2000, res=100, crs=crs
    )


def test_raster_without_crs_is_bad_input(units, tmp_path):
    raster = _ones(tmp_path / "forest-nocrs.tif", left=X0 - 500, crs=None)
    out = tmp_path / "out"
    result = run("plan", units, "--out", out, "--forest-2010", raster, "--forest-2020", raster)
    assert_bad_input(result, out, "forest-nocrs.tif: the raster has no CRS")


def test_raster_that_overlaps_no_unit_is_bad_input(units, tmp_path):
    good = _ones(tmp_path / "forest.tif", left=X0 - 500, crs=UTM)
    # 500 km east of the units: right CRS, wrong place
    far = _ones(tmp_path / "peat-far.tif", left=X0 + 500_000, crs=UTM)
    out = tmp_path / "out"
    args = ("--forest-2010", good, "--forest-2020", good, "--peat", far)
    result = run("plan", units, "--out", out, *args)
    # the message names the file, what it was used for, and the raster's extent and CRS
    assert_bad_input(
        result, out, "peat-far.tif (peat_ha): the raster does not overlap any unit", "EPSG:32748"
    )


def test_raster_that_is_not_a_raster_is_bad_input(units, tmp_path):
    bogus = tmp_path / "forest.tif"
    bogus.write_text("not a GeoTIFF\n")
    out = tmp_path / "out"
    result = run("plan", units, "--out", out, "--forest-2010", bogus, "--forest-2020", bogus)
    assert_bad_input(result, out, "forest.tif: not a raster that GDAL can read")


# ---------------------------------------------------------------------------------------------
# an impossible threshold is not an error


def test_impossible_min_area_gives_a_valid_empty_plan_with_an_explanation(units, tmp_path):
    # the two units hold 200 ha together; no bundle can reach 70,000 ha (a minimum within
    # the default maximum of 75,000 ha). That is an answer (no bundle), not bad input: exit 0,
    # every output written, the reason said twice
    out = tmp_path / "out"
    result = run("plan", units, "--out", out, "--min-area-ha", 7e4, "--solver", "heuristic")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "No bundle meets the rules (minimum area 70,000 ha" in flat
    facts = json.loads((out / "run.json").read_text())
    assert facts["n_bundles"] == 0
    assert facts["scenario"]["bundling"]["min_area_ha"] == 7e4
    # run.json carries the same explanation that was printed
    assert facts["explanation"].startswith("No bundle meets the rules (minimum area 70,000 ha")
    assert " ".join(facts["explanation"].split()) in flat
    assert "cannot reach the minimum area" in facts["explanation"]
    bundles = pd.read_csv(out / "bundles.csv")
    assert len(bundles) == 0 and "bundle_id" in bundles.columns
    plan_units = gpd.read_file(out / "plan.gpkg", layer="units")
    # every unit is in the plan, in no bundle (an empty bundle_id), with its reason
    assert sorted(plan_units["unit_id"]) == ["U000", "U001"]
    assert (plan_units["bundle_id"].fillna("") == "").all()
    assert plan_units["reason"].str.contains("minimum area").all()
    assert leftovers(out) == []


# ---------------------------------------------------------------------------------------------
# the documented exit codes

ROOT = Path(__file__).resolve().parents[1]


def _head(meaning: str) -> str:
    """What a code means, without the details: the text before the first ':', ';' or '('."""
    return re.split(r"[:;(]", meaning.replace("`", ""))[0].strip().lower()


def _readme_codes() -> dict[int, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*(.+?)\s*\|\s*$", section, flags=re.M)
    return {int(code): meaning for code, meaning in rows}


def _docstring_codes() -> dict[int, str]:
    import bundler.errors

    section = bundler.errors.__doc__.split("Exit codes\n----------", 1)[1]
    rows = re.findall(r"^(\d+)\s+(.+)$", section, flags=re.M)
    return {int(code): meaning for code, meaning in rows}


def test_readme_and_errors_module_document_the_same_exit_codes():
    import bundler.errors as errors

    readme, doc = _readme_codes(), _docstring_codes()
    assert sorted(readme) == [0, 1, 2, 3, 4, 5, 130]
    # same codes, same meaning (the README adds details after ':', ';' or '(')
    assert {c: _head(m) for c, m in readme.items()} == {c: _head(m) for c, m in doc.items()}
    constants = {getattr(errors, n): n for n in dir(errors) if n.startswith("EXIT_")}
    assert sorted(constants) == sorted(readme)
    # each error class exits with the code whose documented meaning describes it
    expected = {
        errors.InputError: "bad input",
        errors.OutputExistsError: "the output folder exists and is not empty",
        errors.SolverError: "a solver failed to return any answer",
        errors.VerificationError: "internal error",
        errors.PartialFailureError: "partly done",
        errors.PsBundlerError: "internal error",
    }
    for cls, meaning in expected.items():
        assert _head(readme[cls.exit_code]) == meaning, cls.__name__
    subclasses = {
        c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)
    }
    assert subclasses == set(expected), "a new error class needs its row here and in README"


def test_cli_help_and_code_use_only_documented_exit_codes():
    documented = set(_readme_codes())
    help_text = " ".join(run("--help").output.split())
    listed = re.search(r"Exit codes: (.+?)\.", help_text).group(1)
    assert {int(c) for c in re.findall(r"(\d+) [a-z]", listed)} == documented
    # the CLI exits only through the named constants of bundler.errors, never a bare number
    import bundler.errors as errors

    source = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "bundler" / "cli").glob("*.py"))
    )
    literal = {int(c) for c in re.findall(r"(?:_fail\(.*?,|typer\.Exit\()\s*(\d+)\)", source)}
    assert literal == set(), literal
    named = set(re.findall(r"\b(EXIT_[A-Z]+)\b", source))
    assert named and {getattr(errors, n) for n in named} <= documented
