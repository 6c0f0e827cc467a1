"""``plan.xlsx``: the plan's CSVs as one workbook, typed, with units in the headers.

One small plan is written once for the module (a generated province planned by the
heuristic, so it is quick and has several bundles); every sheet is compared with the CSV it
comes from, value by value. With ``SOURCE_DATE_EPOCH`` or ``OGR_CURRENT_DATE`` set, the
workbook is the same file each time it is written.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import openpyxl.comments
import openpyxl.styles
import openpyxl.writer.excel
import pandas as pd
import pytest

import bundler
from bundler.config.scenario import Scenario
from bundler.errors import InputError
from bundler.outputs.files import check_output_dir, output_files
from bundler.outputs.interop import sheet_xml, workbook
from bundler.outputs.interop.qgis_styles import DATE_VARIABLE
from bundler.outputs.interop.workbook import (
    EPOCH_VARIABLE,
    LIST_COLUMNS,
    SHEETS,
    header,
    number_format,
    plan_sheets,
    save_time,
    units_sheet,
    write_workbook,
)

# the sheet -> the CSV it holds, and the decimals that CSV is written with (plan.py)
SOURCES = {
    "bundles": ("bundles.csv", 4),
    "priority": ("priority.csv", 2),
    "estimates": ("estimates.csv", 4),
    "benefit sharing": ("benefit_sharing.csv", 2),
}
# enough to give a generated province of 80 units several bundles
SMALL_PLAN = {"economics.carbon_price_usd": 20.0, "bundling.min_area_ha": 1000.0}


def write_small_plan(out: Path, scenario: Scenario | None = None, report: bool = False) -> Path:
    """Plan a generated province of 80 units with the heuristic and write it to ``out``."""
    scenario = (scenario or Scenario()).with_values(SMALL_PLAN)
    layer = out.parent / f"{out.name}-permits.gpkg"
    bundler.write_layer(bundler.generate_units(80, seed=11), layer)
    prepared = bundler.prepare_units(layer, scenario)
    graph = bundler.adjacency(prepared.units, scenario)
    gap = scenario.graph.max_gap_m
    plan = bundler.plan_bundles(prepared.units, graph, scenario, gap, solver="heuristic")
    economics = bundler.estimate_plan(prepared.units, plan, scenario)
    with bundler.atomic_output_dir(out) as scratch:
        bundler.write_plan(
            scratch,
            prepared.units,
            plan,
            scenario,
            prepared.inputs,
            {},
            report,
            economics=economics,
        )
    return out


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    out = write_small_plan(tmp_path_factory.mktemp("workbook") / "plan")
    assert len(pd.read_csv(out / "bundles.csv")) >= 2, "the fixture should make several bundles"
    return out


def csv_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def same_value(cell, text: str, decimals: int) -> bool:
    """Is a workbook cell (as pandas read it) the value the CSV wrote as ``text``?"""
    if text == "":
        return cell is None or (isinstance(cell, float) and math.isnan(cell))
    try:
        number = float(text)
    except ValueError:
        return str(cell) == text
    if isinstance(cell, str) or math.isinf(number):
        return str(cell) == text  # text in both (a start year "1", "inf")
    if isinstance(cell, bool | np.bool_):
        return str(cell) == text
    # the CSV rounds to `decimals`; the workbook keeps the value unrounded
    return math.isclose(float(cell), number, rel_tol=1e-9, abs_tol=0.51 * 10.0**-decimals)


def test_the_workbook_is_written_listed_in_run_json_and_replaceable_with_force(plan_dir):
    assert (plan_dir / "plan.xlsx").is_file()
    facts = json.loads((plan_dir / "run.json").read_text())
    assert "plan.xlsx" in facts["files"]
    assert output_files(plan_dir) == sorted([*facts["files"], "run.json"])  # nothing left over
    check_output_dir(plan_dir, force=True)  # an earlier output: --force may replace it


def test_openpyxl_opens_it_with_frozen_typed_headers_and_units(plan_dir):
    book = openpyxl.load_workbook(plan_dir / "plan.xlsx")
    assert book.sheetnames == list(SHEETS)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        titles = [c.value for c in sheet[1]]
        assert all(isinstance(t, str) and t for t in titles), sheet.title
        assert len(set(titles)) == len(titles), sheet.title
        for col in range(1, sheet.max_column + 1):
            letter = openpyxl.utils.get_column_letter(col)
            assert 6 <= sheet.column_dimensions[letter].width <= 52, (sheet.title, letter)
    bundles_titles = [c.value for c in book["bundles"][1]]
    for expected in ("area (ha)", "NPV (USD)", "NPV (IDR)", "credits (tCO2e/yr)"):
        assert expected in bundles_titles
    # numbers are numbers, with a number format, not text
    for title, column in (("area (ha)", "area_ha"), ("NPV (USD)", "npv_usd")):
        k = bundles_titles.index(title)
        cells = [row[k] for row in book["bundles"].iter_rows(min_row=2)]
        assert cells and all(c.data_type == "n" and isinstance(c.value, float) for c in cells)
        assert all(c.number_format == number_format(column, False) for c in cells)
        assert all(c.number_format != "General" for c in cells)
    units_titles = [c.value for c in book["units"][1]]
    assert units_titles[:2] == [header("bundle_id"), header("unit_id")]


@pytest.mark.parametrize("sheet", list(SOURCES))
def test_each_sheet_holds_its_csv_value_for_value(plan_dir, sheet):
    name, decimals = SOURCES[sheet]
    csv = csv_text(plan_dir / name)
    kept = [c for c in csv.columns if not (sheet == "bundles" and c in LIST_COLUMNS)]
    got = pd.read_excel(plan_dir / "plan.xlsx", sheet_name=sheet)
    assert list(got.columns) == [header(c) for c in kept]
    assert len(got) == len(csv) > 0
    for column in kept:
        cells = got[header(column)].tolist()
        for i, (cell, text) in enumerate(zip(cells, csv[column], strict=True)):
            assert same_value(cell, text, decimals), (sheet, column, i, cell, text)


def test_the_units_sheet_has_one_unit_per_row_with_its_bundle(plan_dir):
    bundles = csv_text(plan_dir / "bundles.csv")
    sheet = pd.read_excel(plan_dir / "plan.xlsx", sheet_name="units", dtype=str).fillna("")
    layer = gpd.read_file(plan_dir / "plan.gpkg", layer="units", read_geometry=False)
    assert len(sheet) == len(layer) and sheet[header("unit_id")].is_unique
    assert set(sheet[header("unit_id")]) == set(layer["unit_id"].astype(str))
    # every id list of bundles.csv, expanded one unit per row, in the same order
    members = sheet[sheet[header("bundle_id")] != ""]
    assert members[header("bundle_id")].tolist() == [
        b for b, ids in zip(bundles["bundle_id"], bundles["unit_ids"], strict=True)
        for _ in ids.split(";")
    ]  # fmt: skip
    for key in LIST_COLUMNS:
        if key in bundles.columns:
            column = "unit_id" if key == "unit_ids" else key
            expanded = [v for joined in bundles[key] for v in joined.split(";")]
            assert members[header(column)].tolist() == expanded, key
    # units in no bundle come last, each with its reason
    rest = sheet.iloc[len(members) :]
    assert (rest[header("bundle_id")] == "").all() and (rest[header("reason")] != "").all()


def test_cells_keep_types_and_nothing_becomes_a_formula(tmp_path):
    frame = pd.DataFrame(
        {
            "name": ["=SUM(A1:A9)", "plain", ""],
            "npv_usd": [1.5, float("inf"), float("nan")],
            "n_units": [3, 4, 5],
            "irr": [0.1, None, 0.2],
            "facilitator": [True, False, True],
        }
    )
    path = tmp_path / "t.xlsx"
    write_workbook(path, {"t": frame})
    sheet = openpyxl.load_workbook(path)["t"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["=SUM(A1:A9)", "plain", None]
    assert sheet["A2"].data_type == "s"  # text, not a formula
    assert [r[1] for r in rows] == [1.5, "inf", None]
    assert [r[2] for r in rows] == [3, 4, 5] and sheet["C2"].number_format == "#,##0"
    assert [r[3] for r in rows] == [0.1, None, 0.2] and sheet["D2"].number_format.endswith("%")
    assert [r[4] for r in rows] == [True, False, True]
    assert [c.value for c in sheet[1]] == [header(c) for c in frame.columns]
    assert not list(tmp_path.glob(".*"))  # the atomic writer's scratch folder is gone


def test_headers_carry_units():
    assert header("area_ha") == "area (ha)"
    assert header("npv_usd") == "NPV (USD)"
    assert header("npv_idr") == "NPV (IDR)"
    assert header("credits_tco2e_yr") == "credits (tCO2e/yr)"
    assert header("OBJECTID") == "OBJECTID"  # source keys keep their names


def test_units_sheet_of_a_plan_without_bundles_lists_every_unit():
    units = pd.DataFrame({"unit_id": ["a", "b"], "bundle_id": ["", ""], "reason": ["x", "y"]})
    bundles = pd.DataFrame({"bundle_id": pd.Series([], dtype=str), "unit_ids": []})
    sheet = units_sheet(bundles, units)
    assert sheet["unit_id"].tolist() == ["a", "b"] and list(sheet.columns)[:2] == [
        "bundle_id",
        "unit_id",
    ]


def test_a_csv_read_bundles_table_gives_the_same_units_sheet_and_tables_may_be_left_out():
    units = pd.DataFrame(
        {"unit_id": ["a", "b", "c"], "bundle_id": ["B2", "B1", ""], "reason": ["", "", "x"]}
    )
    listed = pd.DataFrame({"bundle_id": ["B1", "B2"], "unit_ids": [["b"], ["a"]]})
    joined = listed.assign(unit_ids=["b", "a"])  # as read back from bundles.csv
    pd.testing.assert_frame_equal(units_sheet(joined, units), units_sheet(listed, units))
    assert units_sheet(listed, units)["unit_id"].tolist() == ["b", "a", "c"]
    sheets = plan_sheets(bundles=listed, priority=pd.DataFrame(), units=units)
    assert list(sheets) == ["bundles", "priority", "units"]


# ---- the same file each time ----

FIXED_EPOCH = "1765843200"  # 2025-12-16T00:00:00Z
FIXED_TIME = datetime(2025, 12, 16)


def _stamps(path: Path) -> tuple[set, datetime, datetime]:
    """Every zip entry's time, and the workbook's creation and modification times."""
    with zipfile.ZipFile(path) as archive:
        entries = {info.date_time for info in archive.infolist()}
    props = openpyxl.load_workbook(path).properties
    return entries, props.created, props.modified


def test_with_source_date_epoch_two_writes_of_a_plan_are_byte_identical(tmp_path, monkeypatch):
    monkeypatch.setenv(EPOCH_VARIABLE, FIXED_EPOCH)
    monkeypatch.delenv(DATE_VARIABLE, raising=False)
    a = write_small_plan(tmp_path / "a") / "plan.xlsx"
    b = write_small_plan(tmp_path / "b") / "plan.xlsx"
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    # the fixed time, not the clock, in the properties and in every zip entry
    assert _stamps(a) == ({FIXED_TIME.timetuple()[:6]}, FIXED_TIME, FIXED_TIME)


def test_ogr_current_date_fixes_the_time_too(tmp_path, monkeypatch):
    monkeypatch.delenv(EPOCH_VARIABLE, raising=False)
    monkeypatch.setenv(DATE_VARIABLE, "2025-12-16T07:00:00+07:00")  # midnight UTC
    frame = pd.DataFrame({"npv_usd": [1.0, 2.5], "bundle_id": ["B1", "B2"]})
    paths = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    for path in paths:
        write_workbook(path, {"bundles": frame})
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert _stamps(paths[0]) == ({FIXED_TIME.timetuple()[:6]}, FIXED_TIME, FIXED_TIME)


def test_which_time_is_written():
    now = datetime.now(UTC).replace(tzinfo=None)
    assert abs(save_time({}) - now) < timedelta(seconds=5)
    assert save_time({EPOCH_VARIABLE: FIXED_EPOCH}) == FIXED_TIME
    assert save_time({DATE_VARIABLE: "2025-12-16T00:00:00Z"}) == FIXED_TIME
    assert save_time({DATE_VARIABLE: "2025-12-16T00:00:00"}) == FIXED_TIME  # no zone: UTC
    # the reproducible-builds variable first
    both = {EPOCH_VARIABLE: FIXED_EPOCH, DATE_VARIABLE: "2030-01-01T00:00:00Z"}
    assert save_time(both) == FIXED_TIME


def test_a_time_before_the_zip_format_s_first_date_still_writes_a_valid_file(tmp_path):
    path = tmp_path / "t.xlsx"
    write_workbook(path, {"t": pd.DataFrame({"a": [1]})}, environ={EPOCH_VARIABLE: "0"})
    # the properties keep the time; the zip entries start at 1980, the format's first date
    entries, created, modified = _stamps(path)
    assert entries == {(1980, 1, 1, 0, 0, 0)} and created == modified == datetime(1970, 1, 1)


@pytest.mark.parametrize(
    ("variable", "value"),
    [(EPOCH_VARIABLE, "yesterday"), (EPOCH_VARIABLE, "-5"), (DATE_VARIABLE, "last tuesday")],
)
def test_a_malformed_fixed_time_is_an_error_naming_the_variable(tmp_path, variable, value):
    with pytest.raises(InputError, match=variable):
        write_workbook(tmp_path / "t.xlsx", {"t": pd.DataFrame({"a": [1]})}, {variable: value})
    assert not list(tmp_path.iterdir())


# ---- the faster worksheet writer writes what openpyxl writes ----


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_plain_cells_are_written_byte_for_byte_as_openpyxl_writes_them(tmp_path, monkeypatch):
    monkeypatch.setenv(EPOCH_VARIABLE, FIXED_EPOCH)
    texts = [
        " lead",
        "trail ",
        "   ",
        "a & b < c > d \"q\" 'a'",
        "Kabupaten Musi Banyuasin ✓",
        "=SUM(A1)",
        "=",
        "#N/A",
        "bell\x07",
        "line\nbreak",
        "",
        None,
    ]
    n = len(texts)
    frame = pd.DataFrame(
        {
            "name": texts,
            "npv_usd": [
                1.5,
                float("inf"),
                float("-inf"),
                float("nan"),
                -0.0,
                1e-300,
                1e300,
                0.1 + 0.2,
                123456789.123456789,
                -2.5,
                7.0,
                3.0,
            ],
            "n_units": np.arange(n, dtype=np.int64) - 3,
            "share": np.linspace(0, 1, n).astype(np.float32),
            "flag": [True, False] * (n // 2),
            "households": pd.array([1, None] * (n // 2), dtype="Int64"),
            "unit_ids": [["a", "b"], ("c",)] * (n // 2),
            "when": pd.date_range("2025-01-01", periods=n),
            "mixed": [1, 2.5, "x", None, np.float64(4.5), np.int32(7), True, 8, 9, 10, 11, 12],
        }
    )
    fast, stock = tmp_path / "fast.xlsx", tmp_path / "stock.xlsx"
    write_workbook(fast, {"t": frame, "empty": frame.iloc[:0], "none": pd.DataFrame()})
    monkeypatch.setattr(workbook, "ExcelWriter", openpyxl.writer.excel.ExcelWriter)
    write_workbook(stock, {"t": frame, "empty": frame.iloc[:0], "none": pd.DataFrame()})
    assert _members(fast) == _members(stock)
    assert fast.read_bytes() == stock.read_bytes()


def test_cells_openpyxl_must_write_itself_keep_their_place_and_styles(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["text", 1, 2.5, True, None])
    sheet["A2"] = "=SUM(B1:C1)"  # a formula
    sheet["B2"] = datetime(2025, 1, 1)  # a date, with its own number format
    sheet["C2"] = "#DIV/0!"  # an error code
    sheet["D2"] = "linked"
    sheet["D2"].hyperlink = "https://example.org"
    sheet["E2"] = "noted"
    sheet["E2"].comment = openpyxl.comments.Comment("a note", "me")
    sheet["A3"].font = openpyxl.styles.Font(bold=True)  # a styled empty cell
    sheet["B3"] = 4
    sheet.row_dimensions[4].height = 30  # a row with row dimensions
    sheet["A4"] = "tall"
    sheet["B5"] = " spaced "
    paths = {}
    for name, writer in (
        ("fast", sheet_xml.ExcelWriter),
        ("stock", openpyxl.writer.excel.ExcelWriter),
    ):
        paths[name] = tmp_path / f"{name}.xlsx"
        with zipfile.ZipFile(paths[name], "w", zipfile.ZIP_DEFLATED) as archive:
            writer(book, archive).write_data()
    assert _members(paths["fast"]) == _members(paths["stock"])
