"""Safeguards: no-go layers (``--exclude FILE[:LABEL]``, ``[safeguards]``) and the layer's
``conflict`` column lock units out before planning.

* Known answers: a unit half under a polygon is excluded at the default 10%, one with 5%
  is not, a point inside a unit excludes it, a layer's overlapping polygons count once.
* Property: on small random layers with random exclusion polygons, no excluded unit is
  ever in a bundle, and the excluded units are exactly those the rule names.
* The verifier rejects a bundle holding an excluded unit (also under max-p).
* Reading: a missing or unreadable file, a layer without geometry or CRS, a line layer
  and two layers with one label are one clear error naming the file.
* The command line: ``--exclude`` with and without a label, a missing file (exit 2, one
  message), the ``conflict`` column, ``--lang id``, ``run.json``, the report, ``national``.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box
from typer.testing import CliRunner

from bundler.cli.commands import app
from bundler.config.doc import render_scenario
from bundler.config.scenario import ExclusionLayer, Scenario, load_scenario
from bundler.errors import EXIT_INPUT, EXIT_OK, InputError
from bundler.graph.adjacency import build_adjacency
from bundler.input.schema import parse_conflict
from bundler.input.validation import load_units
from bundler.pipeline import prepare_units
from bundler.planning.planner import plan_bundles
from bundler.planning.problem_builder import unit_min_area
from bundler.planning.verify import plan_violations
from bundler.safeguards.exclusion import (
    COLUMNS,
    apply_safeguards,
    excluded_table,
    overlap_shares,
    point_counts,
)
from bundler.safeguards.layers import NoGoLayer, exclusion_option, read_no_go_layer
from solvers.base import SolveParams
from tests.layers import UTM, X0, Y0, layer, scoreable_export, square
from tests.scored import scored_grid

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path)
    return path


def no_go(polygons=(), points=(), label="konflik") -> NoGoLayer:
    """A layer already in the units' working CRS (no file)."""
    return NoGoLayer(
        label=label,
        path=f"{label}.gpkg",
        sha256="0" * 64,
        features=len(polygons) + len(points),
        polygons=np.array(list(polygons), dtype=object),
        points=np.array(list(points), dtype=object),
    )


# ---------------------------------------------------------------- known answers


@pytest.fixture
def three_units(tmp_path):
    """Three 1 km squares 500 m apart (UTM 48S), read as the product reads them."""
    path = write(layer([square(x, 0, 1000) for x in (0, 1500, 3000)]), tmp_path / "u.gpkg")
    return load_units(path).units


def _in_working_crs(units, geoms):
    return gpd.GeoSeries(geoms, crs=UTM).to_crs(units.crs).to_numpy()


def test_half_covered_is_excluded_five_percent_is_not_and_a_point_excludes(three_units):
    units = three_units
    polygons = _in_working_crs(
        units,
        [
            box(X0, Y0, X0 + 500, Y0 + 1000),  # half of U000
            box(X0 + 1500, Y0, X0 + 1550, Y0 + 1000),  # 5% of U001
        ],
    )
    points = _in_working_crs(units, [Point(X0 + 3500, Y0 + 500)])  # inside U002
    geoms = units.geometry.to_numpy()
    assert overlap_shares(geoms, polygons) == pytest.approx([0.5, 0.05, 0.0], abs=1e-3)
    assert point_counts(geoms, points).tolist() == [0, 0, 1]

    safe = apply_safeguards(units, Scenario(), [no_go(polygons, label="konflik")])
    assert safe.units["excluded"].tolist() == [True, False, False]
    assert safe.units["excluded_by"].tolist() == ["konflik", "", ""]
    assert safe.units.loc[0, "exclusion_reason"] == (
        "excluded: overlaps 'konflik' by 50.0% of its area (more than 10%)"
    )
    both = apply_safeguards(
        units, Scenario(), [no_go(polygons, label="konflik"), no_go(points=points, label="titik")]
    )
    assert both.units["excluded"].tolist() == [True, False, True]
    assert both.units.loc[2, "exclusion_reason"] == "excluded: contains 1 point(s) of 'titik'"
    assert both.units["exclusion_points"].tolist() == [0, 0, 1]
    assert [r["units_excluded"] for r in both.record["layers"]] == [1, 1]
    assert set(both.inputs) == {"exclude_konflik", "exclude_titik"}

    # at a 60% threshold half is not enough; at 4% the 5% sliver is too much
    strict = Scenario().with_values({"safeguards.max_overlap_share": 0.04})
    lax = Scenario().with_values({"safeguards.max_overlap_share": 0.6})
    assert apply_safeguards(units, strict, [no_go(polygons)]).units["excluded"].tolist() == [
        True,
        True,
        False,
    ]
    assert not apply_safeguards(units, lax, [no_go(polygons)]).units["excluded"].any()
    reason = apply_safeguards(units, strict, [no_go(polygons)]).units.loc[1, "exclusion_reason"]
    assert reason == "excluded: overlaps 'konflik' by 5.0% of its area (more than 4%)"


def test_overlapping_polygons_of_a_layer_count_once_and_exactly_the_limit_is_allowed(
    three_units,
):
    units = three_units
    # two copies of the same 10% strip: 10% under the layer, not 20%
    strip = box(X0, Y0, X0 + 100, Y0 + 1000)
    polygons = _in_working_crs(units, [strip, strip, box(X0 + 50, Y0, X0 + 100, Y0 + 1000)])
    share = overlap_shares(units.geometry.to_numpy(), polygons)
    assert share[0] == pytest.approx(0.1, abs=1e-4)
    at_limit = Scenario().with_values({"safeguards.max_overlap_share": 0.1 + 1e-3})
    assert not apply_safeguards(units, at_limit, [no_go(polygons)]).units["excluded"].any()


def test_reasons_in_bahasa_indonesia(three_units):
    units = three_units
    polygons = _in_working_crs(units, [box(X0, Y0, X0 + 234, Y0 + 1000)])
    scen = Scenario().with_values({"report.lang": "id"})
    safe = apply_safeguards(units, scen, [no_go(polygons)])
    assert safe.units.loc[0, "exclusion_reason"] == (
        "dikecualikan: tumpang tindih dengan 'konflik' seluas 23,4% dari luasnya (lebih dari 10%)"
    )
    table = excluded_table(safe.units.assign(reason=safe.units["exclusion_reason"]), "id")
    assert table.to_dict("records") == [
        {
            "unit_id": "U000",
            "excluded_by": "konflik",
            "overlap": "23,4%",
            "reason": safe.units.loc[0, "exclusion_reason"],
        }
    ]


def test_without_safeguards_nothing_is_added_and_stale_columns_go(three_units):
    plain = apply_safeguards(three_units, Scenario())
    assert not set(COLUMNS) & set(plain.units.columns)
    assert plain.record == {"max_overlap_share": 0.1, "conflict_column": False, "layers": []}
    stale = three_units.assign(excluded=True, exclusion_reason="old")
    assert not set(COLUMNS) & set(apply_safeguards(stale, Scenario()).units.columns)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, (True, "")),
        (False, (False, "")),
        (1, (True, "")),
        (0, (False, "")),
        (None, (False, "")),
        (float("nan"), (False, "")),
        ("", (False, "")),
        ("ya", (True, "")),
        ("Yes", (True, "")),
        ("TRUE", (True, "")),
        ("1", (True, "")),
        ("tidak", (False, "")),
        ("no", (False, "")),
        ("0", (False, "")),
        (" sengketa batas dengan HGU ", (True, "sengketa batas dengan HGU")),
    ],
)
def test_conflict_values(value, expected):
    assert parse_conflict(value) == expected


def test_the_konflik_column_is_read_and_excludes(tmp_path):
    gdf = layer(
        [square(x, 0, 1000) for x in (0, 1500, 3000, 4500)],
        KONFLIK=["ya", None, "tumpang tindih dengan HGU", "tidak"],
    )
    units = load_units(write(gdf, tmp_path / "k.gpkg")).units
    assert units["conflict"].tolist() == [True, False, True, False]
    safe = apply_safeguards(units, Scenario())
    assert safe.units["excluded"].tolist() == [True, False, True, False]
    assert safe.units["excluded_by"].tolist() == ["conflict", "", "conflict", ""]
    assert safe.units.loc[0, "exclusion_reason"] == (
        "excluded: the layer's conflict column records a tenure conflict"
    )
    assert safe.units.loc[2, "exclusion_reason"] == (
        "excluded: the layer's conflict column records a tenure conflict: "
        "'tumpang tindih dengan HGU'"
    )
    assert safe.record["conflict_units_excluded"] == 2
    off = Scenario().with_values({"safeguards.conflict_column": False})
    assert "excluded" not in apply_safeguards(units, off).units


# ---------------------------------------------------------------- planning and the verifier


def test_excluded_units_are_locked_out_and_the_verifier_checks_them(tmp_path):
    units = scored_grid(tmp_path, 2, 3, protect=[30_000] * 6)
    scen = Scenario().with_values(
        {"bundling.min_area_ha": 4000, "economics.carbon_price_usd": 30.0}
    )
    graph = build_adjacency(units, 1000.0)
    free = plan_bundles(units, graph, scen, 1000.0, params=SolveParams(time_limit=10))
    assert (free.unit_bundle != "").sum() == 6
    first = units.geometry.iloc[0]
    safe = apply_safeguards(units, scen, [no_go([first.buffer(-10)])])
    assert safe.units["excluded"].tolist() == [True] + [False] * 5
    plan = plan_bundles(safe.units, graph, scen, 1000.0, params=SolveParams(time_limit=10))
    assert plan.unit_bundle.iloc[0] == ""
    assert plan.unit_reason.iloc[0].startswith("excluded: overlaps 'konflik' by 99.")
    assert (plan.unit_bundle != "").sum() >= 2
    pinned = scen.with_values({"bundling.locked_in": ["U000"]})
    with pytest.raises(InputError, match="locked_in names units that a safeguard excludes"):
        plan_bundles(safe.units, graph, pinned, 1000.0, params=SolveParams(time_limit=10))
    every = [list(safe.units["unit_id"])]
    for objective in ("npv", "max-p"):
        problems = plan_violations(
            safe.units, every, scen, 1000.0, objective, unit_min_area(units, scen), 1e9
        )
        assert any("excluded by a safeguard ['U000']" in p for p in problems), objective


def _random_case(draw_rows, draw_cols, seed):
    """A scored grid of random shape, gaps and potentials, through the real reader."""
    rng = np.random.default_rng(seed)
    side = float(rng.uniform(1500, 4000))
    step = side + float(rng.uniform(0, 1500))
    geoms = [square(c * step, r * step, side) for r in range(draw_rows) for c in range(draw_cols)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "grid.gpkg"
        layer(geoms).to_file(path)
        units = load_units(path).units
    pot = rng.uniform(0, 40_000, len(units))
    return units.assign(
        potential_protect_tco2e_yr=pot,
        potential_arr_tco2e_yr=0.0,
        potential_peat_tco2e_yr=0.0,
        potential_tco2e_yr=pot,
        peat_ha=0.0,
        additionality=1.0,
        readiness=0.5,
        main_intervention="protect",
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(1, 3),
    cols=st.integers(2, 4),
    seed=st.integers(0, 10_000),
    boxes=st.lists(st.tuples(*[st.floats(0, 1) for _ in range(4)]), min_size=0, max_size=4),
    dots=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), max_size=2),
    limit=st.sampled_from([0.0, 0.05, 0.1, 0.5]),
    solver=st.sampled_from(["highs", "heuristic"]),
)
def test_excluded_units_never_appear_in_any_bundle(rows, cols, seed, boxes, dots, limit, solver):
    units = _random_case(rows, cols, seed)
    minx, miny, maxx, maxy = units.total_bounds
    w, h = maxx - minx, maxy - miny

    def at(fx, fy):
        return minx + fx * w, miny + fy * h

    polygons = []
    for a, b, c, d in boxes:
        (x0, y0), (x1, y1) = at(min(a, c), min(b, d)), at(max(a, c), max(b, d))
        if x1 - x0 > 1 and y1 - y0 > 1:
            polygons.append(box(x0, y0, x1, y1))
    points = [Point(*at(fx, fy)) for fx, fy in dots]
    scen = Scenario().with_values(
        {
            "safeguards.max_overlap_share": limit,
            "bundling.min_area_ha": 1000.0,
            "economics.carbon_price_usd": 30.0,
        }
    )
    safe = apply_safeguards(units, scen, [no_go(polygons, points)])
    out = safe.units
    # the rule, brute force
    covered = shapely.union_all(polygons) if polygons else None
    for i, g in enumerate(out.geometry):
        share = g.intersection(covered).area / g.area if covered is not None else 0.0
        inside = any(g.intersects(p) for p in points)
        assert bool(out["excluded"].iloc[i]) == (share > limit + 1e-9 or inside) or (
            abs(share - limit) < 1e-6
        )
    graph = build_adjacency(out, 1000.0)
    plan = plan_bundles(out, graph, scen, 1000.0, solver, SolveParams(time_limit=2, seed=seed))
    excluded = set(out.loc[out["excluded"], "unit_id"])
    in_bundles = {u for ids in plan.bundles["unit_ids"] for u in ids}
    assert not excluded & in_bundles
    assert (plan.unit_bundle[out["excluded"].to_numpy()] == "").all()
    reasons = plan.unit_reason[out["excluded"].to_numpy()]
    assert reasons.str.startswith("excluded: ").all()


# ---------------------------------------------------------------- reading layers


def test_exclude_option_parsing(tmp_path):
    assert exclusion_option("a/konflik.gpkg:tenure") == ExclusionLayer("a/konflik.gpkg", "tenure")
    assert exclusion_option("a/konflik.gpkg") == ExclusionLayer("a/konflik.gpkg", "")
    assert exclusion_option(r"C:\maps\konflik.gpkg") == ExclusionLayer(r"C:\maps\konflik.gpkg", "")
    assert exclusion_option(r"C:\maps\k.gpkg:x") == ExclusionLayer(r"C:\maps\k.gpkg", "x")
    odd = tmp_path / "odd:name.geojson"  # a file whose name holds a colon stays whole
    odd.write_text("{}")
    assert exclusion_option(str(odd)) == ExclusionLayer(str(odd), "")


def test_a_layer_is_reprojected_repaired_and_labelled_by_its_stem(tmp_path, three_units):
    bowtie = shapely.Polygon(
        [(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)]
    )  # invalid: two triangles, each a quarter of U000
    gdf = gpd.GeoDataFrame(
        {"n": [1, 2, 3]},
        geometry=[bowtie, None, Point(X0 + 1700, Y0 + 300)],
        crs=UTM,
    ).to_crs("EPSG:4326")
    path = write(gdf, tmp_path / "Konflik Tenurial.geojson")
    got = read_no_go_layer(ExclusionLayer(str(path)), three_units.crs)
    assert got.label == "Konflik Tenurial" and got.features == 3
    assert len(got.points) == 1 and shapely.is_valid(got.polygons).all()
    assert any("repaired 1 invalid polygon" in w for w in got.warnings)
    assert any("skipped 1 feature(s) without geometry" in w for w in got.warnings)
    safe = apply_safeguards(three_units, Scenario(), [got])
    assert safe.units["exclusion_share"].iloc[0] == pytest.approx(0.5, abs=1e-3)
    assert safe.units["excluded"].tolist() == [True, True, False]


def test_unusable_layers_are_one_clear_error_naming_the_file(tmp_path, three_units):
    crs = three_units.crs
    cases = {
        "missing.gpkg": None,
        "garbage.gpkg": "not a layer",
        "lines.gpkg": gpd.GeoDataFrame(
            {"n": [1]}, geometry=[LineString([(X0, Y0), (X0 + 10, Y0)])], crs=UTM
        ),
        "nocrs.shp": gpd.GeoDataFrame({"n": [1]}, geometry=[box(0, 0, 1, 1)]),
        "nogeom.geojson": gpd.GeoDataFrame({"n": [1]}, geometry=[None], crs=UTM),
    }
    expect = {
        "missing.gpkg": "file not found",
        "garbage.gpkg": "not a vector layer that can be read",
        "lines.gpkg": "holds lines",
        "nocrs.shp": "has no CRS",
        "nogeom.geojson": "no feature has a geometry",
    }
    for name, content in cases.items():
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content)
        elif content is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "'crs' was not provided": that is the point
                content.to_file(path)
        with pytest.raises(InputError) as info:
            read_no_go_layer(ExclusionLayer(str(path)), crs)
        message = str(info.value)
        assert message.startswith(f"exclusion layer {path}"), message
        assert expect[name] in message, message
    with pytest.raises(InputError, match="safeguards.exclude\\[0\\]: no path"):
        read_no_go_layer(ExclusionLayer(""), crs)


def test_two_layers_with_one_label_are_refused(tmp_path, three_units):
    a = write(layer([square(0, 0, 10)]), tmp_path / "a.gpkg")
    b = write(layer([square(0, 0, 10)]), tmp_path / "b.gpkg")
    scen = Scenario().with_values(
        {"safeguards.exclude": [{"path": str(a), "label": "x"}, {"path": str(b), "label": "x"}]}
    )
    with pytest.raises(InputError, match="both labelled 'x'"):
        apply_safeguards(three_units, scen)


def test_scenario_section_round_trips_and_paths_are_relative_to_the_file(tmp_path):
    folder = tmp_path / "scen"
    folder.mkdir()
    path = folder / "s.toml"
    path.write_text(
        '[safeguards]\nmax_overlap_share = 0.25\nexclude = [{ path = "konflik.gpkg", '
        'label = "konflik" }, { path = "/abs/hgu.shp" }]\n'
    )
    scen = load_scenario(path)
    assert scen.safeguards.max_overlap_share == 0.25
    assert scen.safeguards.exclude == (
        ExclusionLayer(str((folder / "konflik.gpkg").resolve()), "konflik"),
        ExclusionLayer("/abs/hgu.shp", ""),
    )
    again = tmp_path / "again.toml"
    again.write_text(render_scenario(scen))
    assert load_scenario(again) == scen
    bad = tmp_path / "bad.toml"
    bad.write_text('[safeguards]\nexclude = ["konflik.gpkg"]\nmax_overlap_share = 2\n')
    with pytest.raises(InputError) as info:
        load_scenario(bad)
    assert "safeguards.exclude[0]: expected a table" in str(info.value)
    assert "safeguards.max_overlap_share: must be <= 1.0" in str(info.value)


# ---------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """test_cli's scoreable ministry export, with no-go layers over its first rows."""
    folder = tmp_path_factory.mktemp("safeguards")
    path = write(scoreable_export(), folder / "export.gpkg")
    units = load_units(path).units
    # polygons over two rows of units (in degrees, to be reprojected), a point in another
    x0, y0, x1, _ = units.total_bounds
    strip = gpd.GeoSeries([box(x0, y0, x1, y0 + 8000)], crs=units.crs).to_crs("EPSG:4326")
    konflik = write(gpd.GeoDataFrame({"n": [1]}, geometry=strip), folder / "konflik.gpkg")
    far = units.geometry.iloc[-1].representative_point()
    dots = gpd.GeoDataFrame({"n": [1]}, geometry=[far], crs=units.crs).to_crs("EPSG:4326")
    titik = write(dots, folder / "titik.geojson")
    return {"layer": path, "konflik": konflik, "titik": titik, "folder": folder}


PLAN = ("--min-area-ha", 1000, "--max-gap-m", 2000, "--carbon-price", 20, "--time-limit", 20)


def _units(out: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(out / "plan.gpkg", layer="units")


def _bundled(out: Path) -> set[str]:
    bundles = pd.read_csv(out / "bundles.csv", dtype=str)
    return {u for ids in bundles["unit_ids"] for u in ids.split(";")}


def test_plan_with_exclude_with_and_without_label(export, tmp_path):
    out = tmp_path / "plan"
    result = run(
        "plan", export["layer"], "--out", out, *PLAN,
        "--exclude", export["konflik"], "--exclude", f"{export['titik']}:recorded conflicts",
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    assert "safeguards:" in result.output and "excluded before planning" in result.output
    units = _units(out)
    excluded = units[units["excluded"]]
    by_polygon = excluded[excluded["excluded_by"] == "konflik"]
    by_point = excluded[excluded["excluded_by"] == "recorded conflicts"]
    assert len(by_polygon) >= 10 and len(by_point) == 1
    assert by_point["reason"].iloc[0] == ("excluded: contains 1 point(s) of 'recorded conflicts'")
    assert (
        by_polygon["reason"]
        .str.match(r"excluded: overlaps 'konflik' by \d+\.\d% of its area \(more than 10%\)")
        .all()
    )
    assert (excluded["bundle_id"].fillna("") == "").all()
    assert not set(excluded["unit_id"]) & _bundled(out)
    assert len(_bundled(out)) > 0  # the rest still makes bundles
    assert "exclusion_reason" not in units  # it is the reason
    facts = json.loads((out / "run.json").read_text())
    assert facts["n_excluded"] == len(excluded)
    layers = facts["safeguards"]["layers"]
    assert [x["label"] for x in layers] == ["konflik", "recorded conflicts"]
    assert [x["features"] for x in layers] == [1, 1]
    assert [x["units_excluded"] for x in layers] == [len(by_polygon), 1]
    assert layers[0]["sha256"] == facts["inputs"]["exclude_konflik"]["sha256"]
    assert len(layers[0]["sha256"]) == 64 and layers[0]["path"] == str(export["konflik"])
    assert facts["safeguards"]["max_overlap_share"] == 0.1
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="table-3">Excluded units</h2>' in html
    section = html.split('<h2 id="table-3">')[1].split("<h2")[0]
    for uid in excluded["unit_id"]:
        assert f">{uid}<" in section
    data = json.loads(html.split('id="map-data">')[1].split("</script>")[0])
    assert len(data["units"]["excluded"]) == len(excluded)
    sheet = pd.read_excel(out / "plan.xlsx", sheet_name="units")
    assert int(sheet["excluded"].sum()) == len(excluded)


def test_a_missing_exclusion_file_is_one_clear_error(export, tmp_path):
    out = tmp_path / "o"
    missing = tmp_path / "nope.gpkg"
    result = run("plan", export["layer"], "--out", out, "--exclude", f"{missing}:konflik")
    assert result.exit_code == EXIT_INPUT
    assert result.output.count("error:") == 1
    assert f"exclusion layer {missing}: file not found" in " ".join(result.output.split())
    assert not out.exists()
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_text("no layer here")
    result = run("plan", export["layer"], "--out", out, "--exclude", garbage)
    assert result.exit_code == EXIT_INPUT and "not a vector layer" in result.output


def test_the_conflict_column_excludes_in_bahasa_indonesia(export, tmp_path):
    gdf = gpd.read_file(export["layer"])
    flags = [""] * len(gdf)
    flags[60], flags[40] = "ya", "sengketa batas dengan HGU"
    gdf["KONFLIK"] = flags
    path = write(gdf, tmp_path / "konflik-column.gpkg")
    out = tmp_path / "id"
    result = run(
        "plan", path, "--out", out, *PLAN, "--lang", "id",
        "--exclude", f"{export['konflik']}:konflik",
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    units = _units(out)
    assert units["conflict"].sum() == 2
    conflict = units[units["excluded_by"].str.contains("conflict")]
    assert len(conflict) == 2 and not set(conflict["unit_id"]) & _bundled(out)
    reasons = set(conflict["reason"])
    assert "dikecualikan: kolom konflik pada lapisan unit mencatat konflik tenurial" in reasons
    assert (
        "dikecualikan: kolom konflik pada lapisan unit mencatat konflik tenurial: "
        "'sengketa batas dengan HGU'"
    ) in reasons
    by_polygon = units[units["excluded_by"] == "konflik"]
    assert (
        by_polygon["reason"]
        .str.match(
            r"dikecualikan: tumpang tindih dengan 'konflik' seluas \d+,\d% dari luasnya "
            r"\(lebih dari 10%\)"
        )
        .all()
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Unit yang dikecualikan</h2>" in html and "Dikecualikan oleh" in html
    facts = json.loads((out / "run.json").read_text())
    assert facts["safeguards"]["conflict_units_excluded"] == 2


def test_national_takes_exclude(export, tmp_path):
    from distributed import LocalCluster

    out = tmp_path / "national"
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        result = run(
            "national", export["layer"], "--out", out, "--cache", tmp_path / "cache",
            "--min-area-ha", 1000, "--carbon-price", 20, "--time-limit", 5,
            "--scheduler", cluster.scheduler_address, "--exclude", export["konflik"],
        )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    facts = json.loads((out / "run.json").read_text())
    assert facts["n_excluded"] >= 10
    assert facts["safeguards"]["layers"][0]["label"] == "konflik"
    assert "exclude_konflik" in facts["inputs"]
    units = _units(out)
    excluded = units[units["excluded"]]
    assert len(excluded) == facts["n_excluded"]
    assert excluded["reason"].str.startswith("excluded: overlaps 'konflik'").all()
    assert not set(excluded["unit_id"]) & _bundled(out)
    assert "Excluded units</h2>" in (out / "report.html").read_text(encoding="utf-8")


def test_prepare_units_records_the_layers_as_inputs(export):
    scen = Scenario().with_values({"safeguards.exclude": [{"path": str(export["titik"])}]})
    prepared = prepare_units(export["layer"], scen)
    assert prepared.inputs["exclude_titik"]["sha256"] == prepared.safeguards["layers"][0]["sha256"]
    assert int(prepared.units["excluded"].sum()) == 1
