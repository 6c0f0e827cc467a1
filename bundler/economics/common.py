"""Helpers the economics modules share: finding a bundle's units in the unit table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from geopandas.array import GeometryDtype

from bundler.errors import InputError


def attribute_table(units: pd.DataFrame) -> pd.DataFrame:
    """The units' table without its geometry columns, as a plain DataFrame.

    Row selections of it cost a fraction of a GeoDataFrame's, which matters to the
    steps that read a bundle's attributes bundle by bundle.

    Parameters
    ----------
    units : DataFrame or GeoDataFrame

    Returns
    -------
    DataFrame
        Every column but the geometry ones, rows as they are.
    """
    geometry = [c for c in units.columns if isinstance(units[c].dtype, GeometryDtype)]
    return pd.DataFrame(units.drop(columns=geometry))


def unit_index(units: pd.DataFrame) -> dict[str, int]:
    """``unit_id -> row position`` of the units."""
    return {u: i for i, u in enumerate(units["unit_id"].astype(str))}


def bundle_positions(
    units: pd.DataFrame, unit_ids: Sequence[str], index: Mapping[str, int] | None = None
) -> list[int]:
    """Row positions of ``unit_ids`` in ``units``.

    Parameters
    ----------
    units : DataFrame
    unit_ids : sequence of str
    index : mapping, optional
        :func:`unit_index` of ``units``, to look up many bundles without rebuilding it.

    Raises
    ------
    InputError
        For an empty bundle, unknown unit ids or a unit listed twice.
    """
    pos = unit_index(units) if index is None else index
    ids = [str(u) for u in unit_ids]
    missing = [u for u in ids if u not in pos]
    if not ids:
        raise InputError("a bundle has no units")
    if missing:
        raise InputError("unknown unit id(s) in a bundle: " + ", ".join(missing[:10]))
    if len(set(ids)) != len(ids):
        raise InputError("a bundle lists the same unit twice")
    return [pos[u] for u in ids]
