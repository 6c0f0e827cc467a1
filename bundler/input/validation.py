"""Validation of a PS unit layer, once, at the edge.

:func:`load_units` reads a layer, maps its columns, checks everything, repairs
what can be repaired and returns the unit table every later step uses. All
problems are collected and reported together in one :class:`InputError`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from bundler.config.scenario import Scenario
from bundler.errors import InputError
from bundler.geometry import M2_PER_HA, area_ha
from bundler.input.crs import check_coordinates, parse_crs, working_crs
from bundler.input.reading import find_column, read_layer, rename_to_canonical
from bundler.input.schema import (
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
    TEXT_COLUMNS,
    normalize_kups,
    normalize_scheme,
    parse_bool,
    parse_conflict,
)
from bundler.input.unit_ids import assign_unit_ids, id_text, source_key_columns
from bundler.outputs.files import SOURCE_CRS
from bundler.text import short_list

_MAX_LISTED = 12
_POLYGONAL = ("Polygon", "MultiPolygon")


def _ids(values: Iterable[object]) -> str:
    """A short, readable list of ids or row numbers."""
    return short_list(values, _MAX_LISTED)


@dataclass
class ValidationReport:
    """What validation found and the cleaned unit table.

    Attributes
    ----------
    source : str
    units : geopandas.GeoDataFrame or None
        Canonical columns, geometry repaired and projected to ``crs``, plus
        ``area_ha`` (polygon area), ``overlap_ha`` (area shared with other permits)
        and ``area_excl_ha`` (``area_ha - overlap_ha``, floored at 0: an area that
        never counts an overlap twice). ``None`` when there were errors.
    input_crs : str
    crs : pyproj.CRS or None
        The working equal-area CRS.
    errors, warnings : list of str
    repaired : list of str
        Ids of units whose invalid geometry was repaired.
    overlaps : pandas.DataFrame
        ``unit_a, unit_b, overlap_ha`` for overlapping permits.
    area_mismatch : pandas.DataFrame
        ``unit_id, decreed_ha, polygon_ha, rel_diff`` beyond the tolerance.
    n_input : int
        Features in the file (before a province filter).
    """

    source: str
    units: gpd.GeoDataFrame | None = None
    input_crs: str = ""
    crs: CRS | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    overlaps: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["unit_a", "unit_b", "overlap_ha"])
    )
    area_mismatch: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["unit_id", "decreed_ha", "polygon_ha", "rel_diff"]
        )
    )
    n_input: int = 0

    @property
    def ok(self) -> bool:
        """True when the layer is usable (warnings allowed)."""
        return not self.errors

    def raise_if_errors(self) -> None:
        """Raise one :class:`InputError` listing every error."""
        if self.errors:
            n = len(self.errors)
            raise InputError(
                f"{self.source}: "
                + (f"{n} problems make" if n > 1 else "1 problem makes")
                + " the layer unusable",
                self.errors,
            )


def load_units(
    path: str | Path,
    scenario: Scenario | None = None,
    province: str | None = None,
    assume_crs: str | None = None,
) -> ValidationReport:
    """Read, check and clean a PS unit layer.

    Parameters
    ----------
    path : str or Path
        Any vector format GDAL reads, or GeoParquet.
    scenario : Scenario, optional
        Supplies ``[input]`` (column mapping, layer) and ``[validation]`` tolerances.
    province : str, optional
        Keep only units whose province code or name matches (case-insensitive).
    assume_crs : str, optional
        CRS to use when the layer has none (``EPSG:4326``, ``ESRI:54034`` ...).
        A layer that has a CRS keeps it.

    Returns
    -------
    ValidationReport
        Check ``report.ok``; ``report.units`` is set only when it is.

    Raises
    ------
    InputError
        When the file cannot be read at all (missing, not a layer, empty).
    """
    scenario = scenario or Scenario()
    source = str(path)
    raw = read_layer(path, layer=scenario.input.layer or None)
    report = ValidationReport(source=source, n_input=len(raw))
    keys = source_key_columns(raw)
    id_column = scenario.input.id_column.strip()
    overrides = dict(scenario.input.columns)
    if id_column:
        actual = find_column(raw.columns, id_column)
        if actual is None:
            present = ", ".join(str(c) for c in raw.columns if c != raw.geometry.name)
            report.errors.append(
                f"id column {id_column!r} (--id-column / input.id_column): the layer has no "
                f"such column; it has: {present}"
            )
            return report
        overrides = {k: v for k, v in overrides.items() if v != "unit_id"}
        overrides[actual] = "unit_id"
    gdf, renamed = rename_to_canonical(raw, overrides, source)
    gdf = gdf.reset_index(drop=True)
    # POLYGON Z exports: heights play no part in areas or distances
    gdf.geometry.values[:] = shapely.force_2d(gdf.geometry.values)
    rows = np.arange(1, len(gdf) + 1)
    gdf["_row"] = rows  # 1-based feature number, as GIS tools show it

    _check_crs(gdf, assume_crs, report)
    missing = [c for c in REQUIRED_COLUMNS if c not in gdf.columns]
    if missing:
        present = ", ".join(c for c in gdf.columns if c not in ("geometry", "_row"))
        report.errors.append(
            f"missing required column(s) {', '.join(missing)} (ministry name: SKEMA); "
            f"the layer has: {present}"
        )
        return report
    if _check_nested(gdf, report):
        return report

    renamed_id = next((r for r, c in renamed.items() if c == "unit_id"), None)
    id_name = id_column or renamed_id or ("unit_id" if "unit_id" in gdf.columns else "PS_ID")
    chosen = assign_unit_ids(
        gdf["unit_id"].reset_index(drop=True) if "unit_id" in gdf.columns else None,
        rows,
        keys.get("OBJECTID"),
        id_name,
        explicit=bool(id_column),
    )
    report.errors.extend(chosen.errors)
    report.warnings.extend(chosen.warnings)
    gdf["unit_id"] = chosen.ids.to_numpy()
    for key, values in keys.items():
        gdf[key] = values.to_numpy() if key == "OBJECTID" else id_text(values).to_numpy()
    if province:
        gdf = _filter_province(gdf, province, report)
        if gdf is None:
            return report
    _check_scheme(gdf, report)
    _check_numbers(gdf, report)
    _check_text_and_flags(gdf, report)
    gdf = _check_geometry(gdf, report)
    if report.errors:
        return report

    lonlat = gdf.to_crs("EPSG:4326").total_bounds
    report.crs = working_crs(tuple(lonlat))
    units = gdf.to_crs(report.crs)
    # a repaired ring with vertices a hair apart can cross itself once reprojected
    geoms = units.geometry.values.copy()
    _repair(
        geoms,
        ~shapely.is_valid(geoms),
        units["unit_id"],
        report,
        "geometries that became invalid when projected to the working CRS",
        " once projected to the working CRS",
    )
    if report.errors:
        return report
    units.geometry.values[:] = geoms
    # outputs are written in the input's CRS, so they overlay their source in a GIS
    units.attrs[SOURCE_CRS] = gdf.crs.to_wkt()
    units["area_ha"] = units.geometry.area / M2_PER_HA
    _measure_overlaps(units, scenario.validation.min_overlap_ha, report)
    _check_decreed_area(units, scenario.validation.area_tolerance, report)
    units = units.drop(columns="_row").reset_index(drop=True)
    report.units = units
    return report


def _check_crs(gdf: gpd.GeoDataFrame, assume_crs: str | None, report: ValidationReport) -> None:
    if gdf.crs is None:
        if not assume_crs:
            report.errors.append(
                "the layer has no CRS (no .prj or SRS); pass --assume-crs with the right one, "
                "e.g. --assume-crs EPSG:4326 or --assume-crs ESRI:54034"
            )
            return
        gdf.set_crs(parse_crs(assume_crs), inplace=True)
    report.input_crs = gdf.crs.to_string()
    geoms = gdf.geometry.values
    # non-finite coordinates are reported per unit by _check_geometry
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & _finite(geoms)
    if usable.any():
        bounds = shapely.total_bounds(geoms[usable])
        report.errors.extend(check_coordinates(bounds, gdf.crs, "coordinates"))


def _check_nested(gdf: gpd.GeoDataFrame, report: ValidationReport) -> bool:
    """Report fields holding lists or objects (GeoJSON arrays / objects); True if any do.

    The checks below expect one value per field, so such a layer is reported here and
    checked no further.
    """
    found = False
    flags = ("facilitator", "conflict")
    checked = ("unit_id", *REQUIRED_COLUMNS, *NUMERIC_COLUMNS, *TEXT_COLUMNS, *flags)
    for col in [c for c in checked if c in gdf.columns]:
        nested = gdf[col].map(lambda v: isinstance(v, list | tuple | dict | set | np.ndarray))
        if nested.any():
            found = True
            report.errors.append(
                f"column {col}: a list or object instead of a single value in rows "
                f"{_ids(gdf.loc[nested.to_numpy(bool), '_row'])}"
            )
    return found


def _filter_province(
    gdf: gpd.GeoDataFrame, province: str, report: ValidationReport
) -> gpd.GeoDataFrame | None:
    key = province.strip().lower()
    cols = [c for c in ("province_code", "province") if c in gdf.columns]
    if not cols:
        report.errors.append(
            f"--province {province!r}: the layer has no province column (KODE_PROV / NAMA_PROV)"
        )
        return None
    match = np.zeros(len(gdf), dtype=bool)
    for c in cols:
        match |= gdf[c].astype(str).str.strip().str.lower().eq(key).to_numpy()
    if not match.any():
        known = sorted(
            {
                " ".join(str(v) for v in row if pd.notna(v))
                for row in gdf[cols].drop_duplicates().itertuples(index=False)
            }
        )
        report.errors.append(
            f"--province {province!r} matches no unit; provinces in the file: {_ids(known)}"
        )
        return None
    return gdf.loc[match].reset_index(drop=True)


def _check_scheme(gdf: gpd.GeoDataFrame, report: ValidationReport) -> None:
    canon = gdf["scheme"].map(normalize_scheme)
    bad = canon.isna()
    if bad.any():
        by_value = gdf.loc[bad].groupby(gdf.loc[bad, "scheme"].astype(str))["unit_id"].apply(list)
        for value, ids in by_value.items():
            report.errors.append(
                f"column scheme (SKEMA): unknown scheme code {value!r} in units {_ids(ids)}; "
                "known codes: PPHD/HD, PPHKm/HKM, PPHTR/HTR, PKK/KK/Kulin-KK, HA, IPHPS"
            )
    gdf["scheme"] = canon


def _check_numbers(gdf: gpd.GeoDataFrame, report: ValidationReport) -> None:
    for col in NUMERIC_COLUMNS:
        if col not in gdf.columns:
            continue
        raw = gdf[col]
        values = pd.to_numeric(raw, errors="coerce")
        non_numeric = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        missing = raw.isna() | (raw.astype(str).str.strip().isin(["", "nan", "NaN"]))
        missing &= ~non_numeric
        arr = values.to_numpy(dtype=float)
        infinite = np.isinf(arr)
        negative = arr < 0
        for mask, what in (
            (non_numeric, "non-numeric values"),
            (missing, "missing (NaN/empty) values"),
            (infinite, "infinite values"),
            (negative, "negative values"),
        ):
            mask = np.asarray(mask, dtype=bool)
            if mask.any():
                report.errors.append(
                    f"column {col}: {what} in units {_ids(gdf.loc[mask, 'unit_id'])}"
                )
        gdf[col] = arr


def _check_text_and_flags(gdf: gpd.GeoDataFrame, report: ValidationReport) -> None:
    for col in TEXT_COLUMNS:
        if col in gdf.columns and col != "kups_class":
            gdf[col] = gdf[col].map(_text)
    if "kups_class" in gdf.columns:
        kups = gdf["kups_class"].map(normalize_kups)
        bad = kups == "?"
        if bad.any():
            values = sorted(set(gdf.loc[bad, "kups_class"].astype(str)))
            report.errors.append(
                f"column kups_class: unknown classes {_ids(values)} in units "
                f"{_ids(gdf.loc[bad, 'unit_id'])}; use blue, silver, gold or platinum"
            )
        gdf["kups_class"] = kups.where(~bad, None)
    if "facilitator" in gdf.columns:
        flags = gdf["facilitator"].map(parse_bool)
        bad = flags.isna()
        if bad.any():
            report.errors.append(
                f"column facilitator: not a yes/no value in units {_ids(gdf.loc[bad, 'unit_id'])}"
            )
        gdf["facilitator"] = flags.fillna(False).astype(bool)
    if "conflict" in gdf.columns:
        # yes/no, or a description of the conflict (kept as its note); see parse_conflict
        parsed = gdf["conflict"].map(parse_conflict)
        gdf["conflict"] = parsed.map(lambda p: p[0]).astype(bool)
        gdf["conflict_note"] = parsed.map(lambda p: p[1]).astype(object)


def _text(value: object) -> str:
    """A text field's value; a date field (``TGL_SK``) as an ISO date."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp | datetime.datetime | datetime.date | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    return str(value).strip()


def _finite(geoms) -> np.ndarray:
    """True for each geometry whose x and y coordinates are all finite (not NaN or inf)."""
    coords, index = shapely.get_coordinates(np.asarray(geoms), return_index=True)
    bad = np.zeros(len(geoms), dtype=bool)
    np.logical_or.at(bad, index, ~np.isfinite(coords).all(axis=1))
    return ~bad


def _polygonal_part(geom):
    """The polygons inside a geometry (repairs may return collections)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in _POLYGONAL and not g.is_empty]
    if not parts:
        return None
    return shapely.union_all(parts)


def _repair(
    geoms, invalid, ids: pd.Series, report: ValidationReport, what: str, when: str = ""
) -> None:
    """Repair ``geoms[invalid]`` in place into polygons; list the repaired and the lost."""
    if not invalid.any():
        return
    fixed = shapely.make_valid(geoms[invalid])
    fixed = np.array([_polygonal_part(g) for g in fixed], dtype=object)
    lost = np.array([g is None for g in fixed])
    idx = np.flatnonzero(invalid)
    if lost.any():
        report.errors.append(
            f"geometry: invalid{when} and not repairable into a polygon in units "
            + _ids(ids.iloc[idx[lost]])
        )
    geoms[idx[~lost]] = fixed[~lost]
    repaired = ids.iloc[idx[~lost]].tolist()
    if repaired:
        report.repaired.extend(r for r in repaired if r not in report.repaired)
        report.warnings.append(f"geometry: repaired {len(repaired)} {what}: {_ids(repaired)}")


def _check_geometry(gdf: gpd.GeoDataFrame, report: ValidationReport) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.values.copy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        report.errors.append(
            f"geometry: empty or missing geometry in units {_ids(gdf.loc[missing, 'unit_id'])}"
        )
    types = np.array(shapely.get_type_id(geoms))
    # 3 Polygon, 6 MultiPolygon; collections are judged after repair
    wrong = ~missing & ~np.isin(types, (3, 6, 7))
    if wrong.any():
        kinds = sorted({shapely.get_type_id(g) for g in geoms[wrong]})
        names = {
            0: "Point",
            1: "LineString",
            2: "LinearRing",
            4: "MultiPoint",
            5: "MultiLineString",
        }
        report.errors.append(
            "geometry: not polygons ("
            + ", ".join(names.get(k, str(k)) for k in kinds)
            + f") in units {_ids(gdf.loc[wrong, 'unit_id'])}"
        )
    # GEOS cannot check or repair NaN / infinite coordinates
    nonfinite = ~missing & ~wrong & ~_finite(geoms)
    if nonfinite.any():
        report.errors.append(
            "geometry: coordinates that are not finite (NaN or infinite) in units "
            + _ids(gdf.loc[nonfinite, "unit_id"])
        )
    ok = ~missing & ~wrong & ~nonfinite
    invalid = ok.copy()
    invalid[ok] = ~shapely.is_valid(geoms[ok])
    _repair(geoms, invalid, gdf["unit_id"], report, "invalid geometries")
    collections = ok & (types == 7)
    for i in np.flatnonzero(collections & ~invalid):
        geoms[i] = _polygonal_part(geoms[i])
        if geoms[i] is None:
            report.errors.append(
                f"geometry: a collection without polygons in unit {gdf.loc[i, 'unit_id']}"
            )
    out = gdf.copy()
    out.geometry.values[:] = geoms
    return out


def _measure_overlaps(units: gpd.GeoDataFrame, min_ha: float, report: ValidationReport) -> None:
    geoms = units.geometry.values
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if min_ha > 0 and len(left):
        # Pairs that only touch share no area, and in a tessellated layer nearly every
        # pair merely touches: the (much cheaper) touches test spares them the overlay.
        # Snap-rounding onto the 1 cm grid keeps touching rings touching, so such a pair
        # measures 0 ha below, under any positive minimum.
        overlapping = ~shapely.touches(geoms[left], geoms[right])
        left, right = left[overlapping], right[overlapping]
    overlap_ha = np.zeros(len(units))
    if len(left):
        # a 1 cm precision grid keeps the overlay robust on nearly coincident edges,
        # where exact overlay can fail with a GEOS topology error
        area = area_ha(shapely.intersection(geoms[left], geoms[right], grid_size=0.01))
        big = area >= min_ha
        left, right, area = left[big], right[big], area[big]
        np.add.at(overlap_ha, left, area)
        np.add.at(overlap_ha, right, area)
        ids = units["unit_id"].to_numpy()
        report.overlaps = pd.DataFrame(
            {"unit_a": ids[left], "unit_b": ids[right], "overlap_ha": np.round(area, 4)}
        )
        if len(area):
            report.warnings.append(
                f"overlap: {len(area)} pairs of permits overlap ({area.sum():.1f} ha in all); "
                "later steps count each overlap once"
            )
    units["overlap_ha"] = overlap_ha
    # conservative area: each overlap is removed from both partners, so the sum over
    # any bundle never exceeds the area of its union
    units["area_excl_ha"] = np.maximum(units["area_ha"].to_numpy() - overlap_ha, 0.0)


def _check_decreed_area(units: gpd.GeoDataFrame, tolerance: float, report: ValidationReport):
    if "decreed_ha" not in units.columns:
        return
    decreed = units["decreed_ha"].to_numpy(dtype=float)
    poly = units["area_ha"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(decreed > 0, (poly - decreed) / decreed, np.inf)
    off = np.abs(rel) > tolerance
    if off.any():
        report.area_mismatch = pd.DataFrame(
            {
                "unit_id": units.loc[off, "unit_id"].to_numpy(),
                "decreed_ha": decreed[off],
                "polygon_ha": np.round(poly[off], 2),
                "rel_diff": np.round(rel[off], 4),
            }
        )
        report.warnings.append(
            f"area: {int(off.sum())} units differ from their decreed area (LUAS_SK) by more "
            f"than {tolerance:.0%}: {_ids(units.loc[off, 'unit_id'])}"
        )
