"""``plan.xlsx``: the plan's tables as one Excel workbook for people who plan in a spreadsheet.

One sheet each for the bundles, the five-year priority list, the estimates, the benefit
sharing and the units. The values are those of the CSVs (``bundles.csv``,
``priority.csv``, ``estimates.csv``, ``benefit_sharing.csv``), unrounded, in typed cells
with number formats; headers carry units (``area (ha)``, ``NPV (USD)``). Lists of ids are
never ``;``-joined: the ``units`` sheet has one unit per row with its bundle id and its
source keys, and the ``bundles`` sheet leaves those lists out. The CSVs stay the
machine-readable files; the workbook is for reading and filtering.

The file is the same each time the same tables are written when ``SOURCE_DATE_EPOCH``
(seconds since 1970, the reproducible-builds convention) or ``OGR_CURRENT_DATE`` (ISO
8601, the variable GDAL and :mod:`bundler.outputs.interop.qgis_styles` read) is set:
the workbook's creation and modification times and every zip entry's time are then that
time; without either they are the time of writing. openpyxl's own saver stamps the
current time into the properties and the zip entries, so the archive is written here.
"""

from __future__ import annotations

import math
import numbers
import os
import shutil
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bundler.errors import InputError
from bundler.input.unit_ids import SOURCE_KEYS
from bundler.outputs.files import atomic_write_file
from bundler.outputs.interop.qgis_styles import DATE_VARIABLE
from bundler.outputs.interop.sheet_xml import ExcelWriter

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
    "excluded",
    "excluded_by",
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
# a fixed time for the file, looked for before DATE_VARIABLE (see the module docstring)
EPOCH_VARIABLE = "SOURCE_DATE_EPOCH"
# the times a zip entry can hold (DOS date and time, 2-second steps)
_ZIP_FIRST, _ZIP_LAST = datetime(1980, 1, 1), datetime(2107, 12, 31, 23, 59, 58)
# permissions of every entry (rw-------), as zipfile gives an entry written from bytes
_ZIP_MODE = 0o600 << 16


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
    units: pd.DataFrame,
    estimates: pd.DataFrame | None = None,
    sharing: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The workbook's sheets (:data:`SHEETS`) from a plan's tables.

    Parameters
    ----------
    bundles : DataFrame
        The bundles table as written to ``bundles.csv``, with ``unit_ids`` as lists
        (or ``;``-joined, as read back from the CSV).
    priority : DataFrame
        As written to ``priority.csv``.
    units : DataFrame
        The ``units`` layer of ``plan.gpkg`` (``unit_id``, ``bundle_id``, ``reason`` ...).
    estimates, sharing : DataFrame, optional
        As written to ``estimates.csv`` and ``benefit_sharing.csv``; a table not given
        has no sheet.

    Returns
    -------
    dict of str to DataFrame
        Sheet name -> table, in the order of :data:`SHEETS`. ``bundles`` without the
        per-unit lists; ``units`` with the units of each bundle in the order of its
        ``unit_ids`` (bundle by bundle), then the units in no bundle (``bundle_id``
        empty, ``reason`` says why).
    """
    sheets = {
        "bundles": bundles.drop(columns=[c for c in LIST_COLUMNS if c in bundles.columns]),
        "priority": priority,
        "estimates": estimates,
        "benefit sharing": sharing,
        "units": units_sheet(bundles, units),
    }
    return {name: table for name, table in sheets.items() if table is not None}


def units_sheet(bundles: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """One row per unit with its bundle id: the bundles' id lists expanded (see
    :func:`plan_sheets`)."""
    table = pd.DataFrame(units.drop(columns="geometry", errors="ignore"))
    table = table[[c for c in UNIT_COLUMNS if c in table.columns]]
    table = table.assign(bundle_id=table["bundle_id"].fillna("").astype(str))
    ids = table["unit_id"].astype(str)
    lists = bundles.get("unit_ids", pd.Series([], dtype=object))
    members = [str(u) for ids in lists for u in _id_list(ids)]
    position = pd.Series(np.arange(len(members)), index=members, dtype=float)
    # units in no bundle come after every member, in the layer's order
    rank = ids.map(position).fillna(len(members)).to_numpy()
    order = np.lexsort((np.arange(len(table)), rank))
    return table.iloc[order].reset_index(drop=True)


def _id_list(ids) -> list:
    """A bundle's ``unit_ids``: a list as it is, a ``;``-joined text (a CSV's) split."""
    if isinstance(ids, list | tuple | np.ndarray):
        return list(ids)
    return str(ids).split(";")


def write_plan_workbook(path: Path, **tables: pd.DataFrame | None) -> None:
    """Write ``plan.xlsx`` atomically: :func:`plan_sheets` of ``tables`` by :func:`write_workbook`.

    Parameters
    ----------
    path : Path
    **tables : DataFrame
        ``bundles``, ``priority``, ``units`` and, optionally, ``estimates`` and
        ``sharing``, as for :func:`plan_sheets`.
    """
    write_workbook(path, plan_sheets(**tables))


def write_workbook(
    path: Path, sheets: Mapping[str, pd.DataFrame], environ: Mapping[str, str] | None = None
) -> None:
    """Write tables as sheets of an ``.xlsx`` workbook, atomically (renamed into place).

    Parameters
    ----------
    path : Path
    sheets : mapping of str to DataFrame
        Sheet name (at most 31 characters) -> table, in order. Headers come from
        :func:`header`; numbers are typed cells with :func:`number_format`; an empty
        or missing value is an empty cell; an infinite one is the text ``inf``
        (as in the CSVs). The header row is frozen and filterable.
    environ : mapping, optional
        Where to read ``SOURCE_DATE_EPOCH`` and ``OGR_CURRENT_DATE`` (default: the
        process environment); see :func:`save_time`.

    Raises
    ------
    InputError
        When one of those variables is set but malformed.
    """
    stamp = save_time(os.environ if environ is None else environ)
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        _fill(book.create_sheet(name), frame)
    atomic_write_file(path, lambda p: _save(book, p, stamp))


def save_time(environ: Mapping[str, str]) -> datetime:
    """The time written into the workbook (UTC, without a zone, as openpyxl takes it).

    ``SOURCE_DATE_EPOCH`` (whole seconds since 1970-01-01 UTC) when set, else
    ``OGR_CURRENT_DATE`` (an ISO 8601 date-time; one without a zone is UTC) when set,
    else now.

    Raises
    ------
    InputError
        When the variable used is not of its form.
    """
    epoch = environ.get(EPOCH_VARIABLE, "").strip()
    if epoch:
        try:
            seconds = int(epoch)
            if seconds < 0:
                raise ValueError(epoch)
            return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            raise InputError(
                f"{EPOCH_VARIABLE}={epoch!r}: not a whole number of seconds since "
                "1970-01-01 (e.g. 1765843200); unset it or correct it"
            ) from None
    date = environ.get(DATE_VARIABLE, "").strip()
    if date:
        try:
            when = datetime.fromisoformat(date)
        except ValueError:
            raise InputError(
                f"{DATE_VARIABLE}={date!r}: not an ISO 8601 date-time "
                "(e.g. 2025-01-01T00:00:00Z); unset it or correct it"
            ) from None
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        return when.replace(microsecond=0)
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _save(book: Workbook, path: Path, stamp: datetime) -> None:
    """Save ``book`` with ``stamp`` as its creation and modification time and every
    zip entry's time (what :meth:`Workbook.save` does, without its clock)."""
    book.properties.created = book.properties.modified = stamp
    entry_time = min(max(stamp, _ZIP_FIRST), _ZIP_LAST).timetuple()[:6]
    with _StampedZip(path, entry_time) as archive:
        ExcelWriter(book, archive).write_data()


class _StampedZip(zipfile.ZipFile):
    """A zip archive written with one time and one mode for every entry.

    ``zipfile`` stamps an entry written from bytes with the current time, and one
    written from a file (openpyxl's worksheets go through a temporary file) with the
    file's time and mode.
    """

    def __init__(self, path: Path, entry_time: tuple[int, ...]):
        super().__init__(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._entry_time = entry_time

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self._entry_time)
        info.compress_type = self.compression
        info.external_attr = _ZIP_MODE
        return info

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        name = getattr(zinfo_or_arcname, "filename", zinfo_or_arcname)
        super().writestr(self._entry(name), data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        info = self._entry(arcname or os.path.basename(filename))
        if compress_type is not None:
            info.compress_type = compress_type
        info.file_size = os.path.getsize(filename)  # decides whether ZIP64 is needed
        with open(filename, "rb") as source, self.open(info, "w") as target:
            shutil.copyfileobj(source, target, 1 << 20)


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
    # a column's numeric cells all get the style of its first one, which registers the
    # number format with the workbook when it first appears, in row order as before
    styles: list = [None] * len(columns)
    values = [_column_values(frame.iloc[:, k]) for k in range(len(columns))]
    for r, row in enumerate(zip(*values, strict=True), start=2):
        cells = []
        for k, value in enumerate(row):
            numeric = type(value) is float or type(value) is int
            cell = Cell(sheet, value=value, style_array=styles[k] if numeric else None)
            if numeric and styles[k] is None:
                cell.number_format = formats[k]
                styles[k] = cell._style
            elif type(value) is str and value.startswith("="):
                cell.data_type = "s"  # text, never a formula, whatever a name holds
            cells.append(cell)
            if r - 2 < _WIDTH_SAMPLE:
                widths[k] = max(widths[k], _shown_length(cell.value))
        sheet.append(cells)
    for k, width in enumerate(widths, start=1):
        letter = get_column_letter(k)
        sheet.column_dimensions[letter].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(frame), 1) + 1}"


def _column_values(column: pd.Series) -> list:
    """:func:`_cell_value` of every value of a column, by whole arrays where the dtype allows.

    NumPy columns convert to Python numbers at once (NaN empty, infinities as text);
    any other column goes value by value, as it iterates.
    """
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else ""
    if kind and kind in "iub":
        return column.to_numpy().tolist()
    if kind == "f":
        values = column.to_numpy()
        out = values.tolist()
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            v = out[i]
            out[i] = None if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return out
    return [_cell_value(v) for v in column]


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
