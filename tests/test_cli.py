"""The command line through typer's CliRunner: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from bundler.cli.commands import app
from tests.layers import layer, scoreable_export, square

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def table_row(output: str, label: str) -> str:
    """The value cell of the row of a printed two-column table whose label cell is ``label``."""
    rows = [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.lstrip().startswith("│")
    ]
    values = [cells[1] for cells in rows if len(cells) == 2 and cells[0] == label]
    assert len(values) == 1, f"no single {label!r} row in:\n{output}"
    return values[0]


@pytest.fixture
def export(tmp_path):
    """The ministry-export fixture plus forest and peat columns, so it can be scored."""
    path = tmp_path / "export.gpkg"
    scoreable_export().to_file(path)
    return path


def test_help_teaches_with_examples():
    result = run("--help")
    assert result.exit_code == 0
    for cmd in ("validate", "graph", "generate", "demo", "plan", "score", "solvers"):
        assert cmd in result.output
    for cmd in ("validate", "graph", "plan", "score", "generate", "demo", "national", "sweep"):
        sub = run(cmd, "--help")
        assert sub.exit_code == 0 and "Example" in sub.output, cmd


def test_validate_ministry_export_lists_repairs_and_overlaps(export):
    result = run("validate", export)
    assert result.exit_code == 0, result.output
    assert "repaired geometries" in result.output
    assert table_row(result.output, "overlapping pairs") == "29"
    assert "OK:" in result.output


def test_validate_bad_layer_exits_2_with_one_clear_message(tmp_path):
    path = tmp_path / "bad.gpkg"
    layer(
        [square(0, 0, 1000), square(3000, 0, 1000)], PS_ID=["a", "a"], SKEMA=["HD", "ZZ"]
    ).to_file(path)
    result = run("validate", path, "--id-column", "PS_ID")
    assert result.exit_code == 2
    assert "error:" in result.output
    assert "duplicate values a" in result.output and "'ZZ'" in result.output


def test_missing_file_and_unknown_province(tmp_path, export):
    assert run("validate", tmp_path / "nope.gpkg").exit_code == 2
    result = run("validate", export, "--province", "Aceh")
    assert result.exit_code == 2 and "matches no unit" in result.output


def test_graph_prints_components_and_writes_edges(export, tmp_path):
    edges = tmp_path / "edges.csv"
    result = run("graph", export, "--max-gap-m", 1500, "--edges", edges)
    assert result.exit_code == 0, result.output
    assert "connected groups" in result.output and "Isolated units" in result.output
    header = edges.read_text().splitlines()[0]
    assert header == "unit_a,unit_b,gap_m,shared_border_m,spatial,landscape"


def test_scenario_command_round_trips(tmp_path):
    path = tmp_path / "s.toml"
    result = run("scenario", "--write", path)
    assert result.exit_code == 0
    shown = run("scenario", path)
    assert shown.exit_code == 0 and "carbon_price_usd = 5.0" in shown.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[economics]\ncarbon_price = 3\n")
    result = run("scenario", bad)
    assert result.exit_code == 2 and "did you mean 'economics.carbon_price_usd'" in result.output


def test_solvers_lists_backends():
    result = run("solvers")
    assert result.exit_code == 0
    for name in ("highs", "cbc", "cpsat", "heuristic"):
        assert name in result.output


def test_plan_writes_every_output_and_refuses_to_overwrite(export, tmp_path):
    out = tmp_path / "plan"
    args = ("plan", export, "--out", out, "--min-area-ha", 1000, "--max-gap-m", 2000,
            "--carbon-price", 20, "--time-limit", 20)  # fmt: skip
    result = run(*args)
    assert result.exit_code == 0, result.output
    closing = " ".join(result.output.split()).split("plan written to")[-1]
    assert "(report.html," in closing  # the planner's deliverable, named first
    assert {p.name for p in out.iterdir()} == {
        "plan.gpkg", "bundles.csv", "run.json", "estimates.csv", "yearly.csv",
        "priority.csv", "benefit_sharing.csv", "report.html", "map.png", "plan.xlsx",
    }  # fmt: skip
    facts = json.loads((out / "run.json").read_text())
    assert facts["termination"] in ("optimal", "feasible")
    assert len(facts["inputs"]["units"]["sha256"]) == 64
    assert facts["scenario"]["economics"]["carbon_price_usd"] == 20.0
    # the gap is named for what it measures: the planning model, not the exact NPV
    assert facts["bound_refers_to"].startswith("the planning model's NPV in USD")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "bound_refers_to" in page and "the planning model" in page
    assert "gap refers to" in result.output
    again = run(*args)
    assert again.exit_code == 3 and "--force" in again.output
    assert run(*args, "--force").exit_code == 0


def test_plan_bad_solver_and_bad_scenario(export, tmp_path):
    result = run("plan", export, "--out", tmp_path / "o", "--solver", "gurobi")
    assert result.exit_code == 2 and "gurobi" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[economics]\ncarbon_price_usd = -3\n")
    result = run("plan", export, "--out", tmp_path / "o", "--scenario", bad)
    assert result.exit_code == 2 and "carbon_price_usd: must be >= 0.0" in result.output
    assert not (tmp_path / "o").exists()


def test_impossible_threshold_is_a_valid_empty_plan(export, tmp_path):
    out = tmp_path / "empty"
    # 70,000 ha is within the default maximum of 75,000 ha, but the export's groups
    # of neighbours are far smaller
    result = run("plan", export, "--out", out, "--min-area-ha", 7e4)
    assert result.exit_code == 0, result.output
    assert "No bundle meets the rules" in result.output
    facts = json.loads((out / "run.json").read_text())
    assert facts["n_bundles"] == 0 and facts["explanation"]


def _forest_rasters(tmp_path):
    """Forest rasters over the layers of tests.layers: UTM 48S, 100 m cells, x 400-420 km.

    2010: everything forest; 2020: the western half (x < 410 km) forest.
    """
    from tests.layers import UTM, X0, Y0
    from tests.test_rasters import write_raster

    full = np.ones((200, 200), dtype="uint8")
    half = full.copy()
    half[:, 100:] = 0
    args = {"left": X0, "top": Y0 + 20_000, "res": 100, "crs": UTM}
    return (
        write_raster(tmp_path / "f2010.tif", full, **args),
        write_raster(tmp_path / "f2020.tif", half, **args),
    )


def test_score_with_rasters_writes_layer_and_tables(tmp_path):
    import geopandas as gpd

    # two 1 km squares: one in the western (forested) half, one in the eastern half
    path = tmp_path / "u.gpkg"
    layer([square(2000, 2000, 1000), square(15000, 2000, 1000)]).to_file(path)
    f2010, f2020 = _forest_rasters(tmp_path)
    out = tmp_path / "scored"
    result = run("score", path, "--out", out, "--forest-2010", f2010, "--forest-2020", f2020)
    assert result.exit_code == 0, result.output
    assert "Potential by intervention" in result.output
    scored = gpd.read_file(out / "scored_units.gpkg").set_index("unit_id")
    # 100 ha each in 2010; in 2020 the western unit keeps its forest, the eastern loses it
    assert scored.loc["U000", "forest_ha_2010"] == pytest.approx(100, rel=1e-3)
    assert scored.loc["U000", "forest_ha_2020"] == pytest.approx(100, rel=1e-3)
    assert scored.loc["U001", "forest_ha_2020"] == pytest.approx(0, abs=1e-6)
    assert scored.loc["U000", "typology"] == "HFLD"
    assert (out / "potential_by_intervention.csv").exists()
    assert (out / "potential_by_scheme.csv").exists()


def test_score_with_a_bad_raster_names_it(tmp_path):
    path = tmp_path / "u.gpkg"
    layer([square(2000, 2000, 1000)]).to_file(path)
    bogus = tmp_path / "forest.tif"
    bogus.write_text("not a raster")
    result = run("score", path, "--out", tmp_path / "o", "--forest-2010", bogus,
                 "--forest-2020", bogus)  # fmt: skip
    assert result.exit_code == 2 and "forest.tif" in result.output
    assert not (tmp_path / "o").exists()
    only_one = run("score", path, "--out", tmp_path / "o", "--forest-2010", bogus)
    assert only_one.exit_code == 2 and "go together" in only_one.output
