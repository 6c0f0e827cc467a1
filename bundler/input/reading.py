"""Reading PS unit layers from any vector format GDAL reads, and mapping column names."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bundler.errors import InputError
from bundler.input.schema import MINISTRY_FIELDS

PARQUET_SUFFIXES = (".parquet", ".geoparquet")


def read_layer(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, GeoParquet, ...).

    Parameters
    ----------
    path : str or Path
        The file to read. ``.parquet`` / ``.geoparquet`` files are read as GeoParquet;
        anything else through GDAL (pyogrio).
    layer : str, optional
        Layer name inside a multi-layer file; the first layer when omitted.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer as stored, with its original column names and CRS.

    Raises
    ------
    InputError
        When the path does not exist, is not a readable vector layer, or the
        layer holds no features.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    if p.is_dir() and p.suffix.lower() != ".gdb":
        raise InputError(f"{p}: is a folder, not a vector layer file")
    try:
        with warnings.catch_warnings():
            # GDAL chatter (e.g. "unknown CRS") is reported by validation instead
            warnings.simplefilter("ignore")
            if p.suffix.lower() in PARQUET_SUFFIXES:
                gdf = gpd.read_parquet(p)
            else:
                gdf = gpd.read_file(p, layer=layer or None, engine="pyogrio")
    except Exception as exc:  # GDAL raises many types; all mean "unreadable"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: not a vector layer that can be read ({reason})") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputError(f"{p}: has no geometry column")
    if len(gdf) == 0:
        raise InputError(f"{p}: the layer is empty (no features)")
    return gdf


def find_column(columns, name: str) -> str | None:
    """The column of ``columns`` called ``name``: exactly, else case-insensitively."""
    columns = list(columns)
    if name in columns:
        return name
    lower = {str(c).lower(): c for c in columns}
    return lower.get(name.lower())


def canonical_columns(
    columns: list[str], overrides: dict[str, str] | None = None, source: str = "layer"
) -> dict[str, str]:
    """Decide the canonical name of each column.

    The ministry's field names (``PS_ID``, ``SKEMA``, ``LUAS_SK`` ...) are matched
    case-insensitively; canonical names pass through; ``overrides`` (from the
    scenario's ``[input.columns]``) map raw names to canonical ones and win over
    the built-in table: a canonical name that an override targets is taken by
    the override alone.

    Parameters
    ----------
    columns : list of str
        The layer's column names.
    overrides : dict, optional
        Raw name -> canonical name.
    source : str
        The file, for messages.

    Returns
    -------
    dict
        Raw column name -> canonical name, for the columns that get renamed.

    Raises
    ------
    InputError
        When two columns would end up with the same canonical name, or an
        override names a column that is not in the layer.
    """
    overrides = dict(overrides or {})
    # a canonical name an override targets is no longer taken by the built-in table,
    # so naming an id column explicitly never collides with PS_ID -> unit_id
    taken = set(overrides.values())
    # a layer that already has a canonical column (ps-bundler's own output keeps both
    # unit_id and the source's PS_ID) keeps it; the ministry field then stays as it is
    taken |= set(columns) & set(MINISTRY_FIELDS.values())
    mapping: dict[str, str] = {}
    problems = []
    for raw, canon in overrides.items():
        actual = find_column(columns, raw)
        if actual is None:
            problems.append(f"[input.columns] maps {raw!r}, but the layer has no such column")
            continue
        mapping[actual] = canon
    for col in columns:
        if col in mapping:
            continue
        canon = MINISTRY_FIELDS.get(col.upper())
        if canon is not None and canon not in taken:
            mapping[col] = canon
    targets: dict[str, list[str]] = {}
    for col in columns:
        targets.setdefault(mapping.get(col, col), []).append(col)
    for canon, raws in targets.items():
        if len(raws) > 1:
            problems.append(
                f"columns {', '.join(map(repr, raws))} all map to {canon!r}; "
                "drop one or map it elsewhere in [input.columns]"
            )
    if problems:
        raise InputError(f"{source}: cannot map column names", problems)
    return {raw: canon for raw, canon in mapping.items() if raw != canon}


def rename_to_canonical(
    gdf: gpd.GeoDataFrame, overrides: dict[str, str] | None = None, source: str = "layer"
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """A copy of ``gdf`` with its columns under their canonical names, and the renaming.

    Returns
    -------
    (GeoDataFrame, dict)
        The renamed copy, and raw name -> canonical name for the renamed columns
        (see :func:`canonical_columns`).
    """
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    mapping = canonical_columns(cols, overrides, source)
    out = gdf.rename(columns=mapping)
    return gpd.GeoDataFrame(pd.DataFrame(out), geometry=gdf.geometry.name, crs=gdf.crs), mapping
