"""``plan.xlsx``: the plan's tables as one Excel workbook for people who plan in a spreadsheet.

One sheet each for the bundles, the five-year priority list, the estimates, the benefit
sharing and the units. The values are those of the CSVs (``bundles.csv``,
``priority.csv``, ``estimates.csv``, ``benefit_sharing.csv``), unrounded, in typed cells
with number formats; headers carry units (``area (ha)``, ``NPV (USD)``). Lists of ids are
never ``;``-joined: the ``units`` sheet has one unit per row with its bundle id and its
source keys, and the ``bundles`` sheet leaves those lists out. The CSVs stay the
machine-readable files; the workbook is for reading and filtering.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bundler.input.unit_ids import SOURCE_KEYS
from bundler.outputs.files import atomic_write_file

SHEETS = ("bundles", "priority", "estimates", "benefit sharing", "units")
# columns of the bundles table that hold one value per unit, ';'-joined in the CSV
LIST_COLUMNS = ("unit_ids", *SOURCE_KEYS)
# the units sheet: who the unit is and where, then why it is (not) in a bundle
UNIT_COLUMNS = (
    "bundle_id",
    "unit_id",
    *SOURCE_KEYS,
    "scheme",
    "institution",
    "province",
    "district",
    "village",
    "area_ha",
    "potential_tco2e_yr",
    "readiness",
    "reason",
)

# suffix of a column name -> unit shown in its header, longest suffix first
_UNITS = (
    ("_tco2e_yr", "tCO2e/yr"),
    ("_tco2e", "tCO2e"),
    ("_usd", "USD"),
    ("_idr", "IDR"),
    ("_ha", "ha"),
)
_HEADERS = {
    "n_units": "units",
    "irr": "IRR (%)",
    "share": "share (%)",
    "readiness": "readiness (0-1)",
    "cost_per_tco2e": "cost per tCO2e (USD/tCO2e)",
    "breakeven_price_usd": "break-even price (USD/tCO2e)",
    "breakeven_price_idr": "break-even price (IDR/tCO2e)",
    "pv_credits": "PV credits (tCO2e)",
    "pv_costs": "PV costs (USD)",
    "pv_revenue": "PV revenue (USD)",
}
_WORDS = {"npv": "NPV", "irr": "IRR", "pv": "PV", "arr": "ARR", "tco2e": "tCO2e"}
_PERCENT = {"irr": "0.0%", "share": "0.00%"}
_INTEGER = "#,##0"
# Excel's column width is in characters of the default font
_MIN_WIDTH, _MAX_WIDTH = 6, 50
# rows read to size a column: enough to see typical values, bounded for large layers
_WIDTH_SAMPLE = 500
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")


def header(column: str) -> str:
    """The sheet header of a column, with its unit: ``area_ha`` -> ``area (ha)``.

    Parameters
    ----------
    column : str
        A column name of the plan's tables (``docs/outputs.md``).

    Returns
    -------
    str
        Source field names with capitals (``PS_ID``, ``OBJECTID``) are kept as they are,
        so they still join back to the source layer.
    """
    if column in _HEADERS:
        return _HEADERS[column]
    if column != column.lower():
        return column
    unit = ""
    for suffix, name in _UNITS:
        if column.endswith(suffix) and column != suffix.lstrip("_"):
            column, unit = column.removesuffix(suffix), f" ({name})"
            break
    words = [_WORDS.get(w, w) for w in column.split("_") if w]
    return " ".join(words) + unit


def number_format(column: str, integer: bool) -> str:
    """Excel number format of a numeric column (money, tonnes, hectares, shares ...)."""
    if column in _PERCENT:
        return _PERCENT[column]
    if integer or column.endswith("_idr"):
        return _INTEGER  # rupiah have no cents worth showing
    if column.endswith(("_usd", "_usd_yr")) or column in ("pv_costs", "pv_revenue"):
        return "#,##0.00"
    if "tco2e" in column or column == "pv_credits":
        return "#,##0.0"
    if column.endswith("_ha"):
        return "#,##0.00"
    return "0.00"


def plan_sheets(
    bundles: pd.DataFrame,
    priority: pd.DataFrame,
    estimates: pd.DataFrame,
    sharing: pd.DataFrame,
    units: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """The workbook's sheets (:data:`SHEETS`) from a plan's tables.

    Parameters
    ----------
    bundles : DataFrame
        The bundles table as written to ``bundles.csv``, with ``unit_ids`` as lists.
    priority, estimates, sharing : DataFrame
        As written to ``priority.csv``, ``estimates.csv``, ``benefit_sharing.csv``.
    units : DataFrame
        The ``units`` layer of ``plan.gpkg`` (``unit_id``, ``bundle_id``, ``reason`` ...).

    Returns
    -------
    dict of str to DataFrame
        Sheet name -> table. ``bundles`` without the per-unit lists; ``units`` with the
        units of each bundle in the order of its ``unit_ids`` (bundle by bundle), then
        the units in no bundle (``bundle_id`` empty, ``reason`` says why).
    """
    return {
        "bundles": bundles.drop(columns=[c for c in LIST_COLUMNS if c in bundles.columns]),
        "priority": priority,
        "estimates": estimates,
        "benefit sharing": sharing,
        "units": units_sheet(bundles, units),
    }


def units_sheet(bundles: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """One row per unit with its bundle id: the bundles' id lists expanded (see
    :func:`plan_sheets`)."""
    table = pd.DataFrame(units.drop(columns="geometry", errors="ignore"))
    table = table[[c for c in UNIT_COLUMNS if c in table.columns]]
    table = table.assign(bundle_id=table["bundle_id"].fillna("").astype(str))
    ids = table["unit_id"].astype(str)
    members = [str(u) for lst in bundles.get("unit_ids", pd.Series([], dtype=object)) for u in lst]
    position = pd.Series(np.arange(len(members)), index=members, dtype=float)
    # units in no bundle come after every member, in the layer's order
    rank = ids.map(position).fillna(len(members)).to_numpy()
    order = np.lexsort((np.arange(len(table)), rank))
    return table.iloc[order].reset_index(drop=True)


def write_plan_workbook(path: Path, **tables: pd.DataFrame) -> None:
    """Write ``plan.xlsx`` atomically: :func:`plan_sheets` of ``tables`` by :func:`write_workbook`.

    Parameters
    ----------
    path : Path
    **tables : DataFrame
        ``bundles``, ``priority``, ``estimates``, ``sharing`` and ``units``, as for
        :func:`plan_sheets`.
    """
    write_workbook(path, plan_sheets(**tables))


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    """Write tables as sheets of an ``.xlsx`` workbook, atomically (renamed into place).

    Parameters
    ----------
    path : Path
    sheets : mapping of str to DataFrame
        Sheet name (at most 31 characters) -> table, in order. Headers come from
        :func:`header`; numbers are typed cells with :func:`number_format`; an empty
        or missing value is an empty cell; an infinite one is the text ``inf``
        (as in the CSVs). The header row is frozen and filterable.
    """
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        _fill(book.create_sheet(name), frame)
    atomic_write_file(path, book.save)


def _fill(sheet: Worksheet, frame: pd.DataFrame) -> None:
    columns = [str(c) for c in frame.columns]
    titles = _unique_headers(columns)
    sheet.append(titles)
    for cell in sheet[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="top")
    integer = [pd.api.types.is_integer_dtype(frame[c]) for c in frame.columns]
    formats = [number_format(c, i) for c, i in zip(columns, integer, strict=True)]
    widths = [len(t) for t in titles]
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        for k, value in enumerate(row):
            cell = sheet.cell(row=r, column=k + 1, value=_cell_value(value))
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, never a formula, whatever a name holds
            elif isinstance(cell.value, numbers.Number) and not isinstance(cell.value, bool):
                cell.number_format = formats[k]
            if r - 2 < _WIDTH_SAMPLE:
                widths[k] = max(widths[k], _shown_length(cell.value))
    for k, width in enumerate(widths, start=1):
        letter = get_column_letter(k)
        sheet.column_dimensions[letter].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(frame), 1) + 1}"


def _unique_headers(columns: list[str]) -> list[str]:
    """:func:`header` of each column; a column whose header repeats keeps its own name."""
    titles = [header(c) for c in columns]
    return [c if titles.count(t) > 1 else t for c, t in zip(columns, titles, strict=True)]


def _cell_value(value):
    """A Python value openpyxl writes as a typed cell (number, bool, text or empty)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return None
        # Excel has no infinity; the text keeps what the CSV says (e.g. no break-even price)
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    # control characters are not allowed in the file format: shown, not dropped
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value)) or None


def _shown_length(value) -> int:
    if value is None:
        return 0
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    return len(str(value))
