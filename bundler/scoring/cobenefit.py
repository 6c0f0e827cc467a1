"""A co-benefit value per unit (biodiversity by default), from a column of the layer or a
raster (:func:`cobenefit_from_raster`).

:func:`add_cobenefit` finds the column (exactly, else case-insensitively), checks that
every value is a non-negative number and stores it as ``cobenefit`` (float). A bundle's
co-benefit is the sum over its units (:func:`bundler.planning.planner.bundle_table`);
``--min-cobenefit`` puts a floor on a plan's (:mod:`bundler.planning.cobenefit_floor`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from bundler.errors import InputError
from bundler.input.rasters import zonal_mean_times_area
from bundler.input.reading import find_column

DEFAULT_COLUMN = "biodiversity"
COBENEFIT = "cobenefit"


def add_cobenefit(
    units: gpd.GeoDataFrame, column: str | None, source: str = "layer"
) -> gpd.GeoDataFrame:
    """``units`` with ``cobenefit`` from ``column`` (default :data:`DEFAULT_COLUMN`).

    A missing default column leaves ``units`` as they are (no co-benefit); a missing
    named column, or a value that is not a non-negative number, is an
    :class:`~bundler.errors.InputError` naming ``source``, the column and the row
    (1-based, in the order of the units, with its unit id).
    """
    name = column or DEFAULT_COLUMN
    actual = find_column(units.columns, name)
    if actual is None:
        if column is None:
            return units
        raise InputError(
            f"{source}: --cobenefit-column {name!r}: the layer has no such column "
            f"(columns: {', '.join(map(str, units.columns))})"
        )
    raw = units[actual]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if len(bad):
        i = int(bad[0])
        more = f" (and {len(bad) - 1} more row(s))" if len(bad) > 1 else ""
        uid = units["unit_id"].iloc[i] if "unit_id" in units.columns else ""
        raise InputError(
            f"{source}: column {actual!r}, row {i + 1} (unit {uid}): {raw.iloc[i]!r} is not "
            f"a non-negative number; the co-benefit must be a number >= 0 per unit{more}"
        )
    out = units.copy()
    out[COBENEFIT] = values
    return out


def has_cobenefit(units: pd.DataFrame) -> bool:
    """Whether ``units`` carry a co-benefit value."""
    return COBENEFIT in units.columns


def cobenefit_from_raster(
    units: gpd.GeoDataFrame, path: Path
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """``units`` with ``cobenefit`` from a raster (``--biodiversity RASTER``): each unit's
    mean cell value times its area in hectares, by the exact-area zonal statistics of the
    forest layers (:func:`bundler.input.rasters.zonal_mean_times_area`), and its warnings."""
    values, warnings = zonal_mean_times_area(units, path, "biodiversity")
    out = units.copy()
    out[COBENEFIT] = values
    return out, warnings
