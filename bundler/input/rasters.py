"""Exact-area zonal statistics: hectares of forest, peat or mangrove per unit from rasters.

Method
------
For each raster the units are reprojected to the raster's CRS (edges first densified to
1 km segments, so that a long straight edge follows the same ground path in both CRSs)
and handed to exactextract, which computes for every cell *i* the exact fraction
``c_i`` of the cell covered by a unit. Each cell also gets its true area ``a_i`` on the
ellipsoid, in m², supplied to exactextract as a weights raster that is computed window
by window from the raster's geometry (nothing is stored, and exactextract streams the
value raster in windows, so huge rasters are never loaded whole):

* geographic CRS (degrees): ``a_i = dλ * |S(φ_top) - S(φ_bottom)|`` with
  ``S(φ) = b²/2 * (sin φ / (1 - e² sin² φ) + ln((1 + e sin φ) / (1 - e sin φ)) / (2e))``,
  the area between the equator and latitude φ per radian of longitude on the CRS's
  ellipsoid (semi-minor axis ``b``, eccentricity ``e``). This is exact: a 0.01° cell
  is about 1.23 km² near the equator and shrinks with cos φ;
* projected CRS: ``a_i = dx * dy * ρ(x_i, y_i)``, the nominal cell area times the true
  area per unit of projected area, ``ρ = |det ∂(λ, φ)/∂(x, y)| * M(φ) N(φ) cos φ``: the
  Jacobian of the inverse projection (central differences of pyproj transforms, half a
  cell apart) times the ellipsoid's area element (meridional and prime-vertical radii
  ``M``, ``N``). ρ is 1 for equal-area projections, about 1.0008 near a UTM central
  meridian and about 1.0067 / cos² φ for Web Mercator; it is found from the transforms
  rather than from the projection's reported scale factors, which for Web Mercator
  ignore the ellipsoid. Within one window ρ is evaluated along the window's centre row
  and centre column and combined as ``ρ(x, y) ≈ ρ(x, y_c) * ρ(x_c, y) / ρ(x_c, y_c)``
  (exact when ρ depends on x or y only, as in Mercator; near-exact for UTM, whose ρ
  barely varies across a unit).

Exactextract measures the coverage fraction in the raster's own coordinates; the cell's
true area is taken as uniform across the cell, a first-order approximation whose error
is far below a pixel. Then, per unit and raster::

    ha      = sum_i v_i * c_i * a_i / 10,000     over cells with data
    covered = sum_i c_i * a_i / unit area        over cells with data

where ``v_i`` is the cell value: 0/1 (non-forest/forest) or a 0-1 fraction. Nodata
cells (and NaN) count as 0 and as *not covered*; so do parts of a unit outside the
raster. A unit less than ``1 - COVERAGE_TOLERANCE`` covered is named in a warning.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from bundler.errors import InputError
from bundler.geometry import M2_PER_HA
from bundler.text import short_list

# a unit with more than this share of its area outside the raster or on nodata is reported
COVERAGE_TOLERANCE = 0.001
# edges are densified to this length (m) before reprojection to another CRS
DENSIFY_M = 1_000.0
# values outside [0, 1] by more than this are an error
VALUE_TOLERANCE = 1e-6
# at most this many unit ids are named in one message
MAX_NAMED = 10


def _names(ids: list[str], extra: list[str] | None = None) -> str:
    shown = [f"{i} ({e})" if extra else str(i) for i, e in zip(ids, extra or ids, strict=True)]
    return short_list(shown, MAX_NAMED)


def _authalic_integral(phi: np.ndarray, a: float, b: float) -> np.ndarray:
    """Area (m²) between the equator and latitude ``phi`` (radians) per radian of longitude."""
    s = np.sin(phi)
    e2 = 1.0 - (b * b) / (a * a)
    if e2 <= 1e-15:
        return a * a * s
    e = math.sqrt(e2)
    return 0.5 * b * b * (s / (1.0 - e2 * s * s) + np.log((1 + e * s) / (1 - e * s)) / (2 * e))


def _make_cell_area_source(ds, crs: CRS):
    """A weights raster for exactextract whose cells hold their true area in m²."""
    from exactextract.raster import RasterSource

    class CellArea(RasterSource):
        def __init__(self):
            super().__init__()
            b = ds.bounds
            self.left, self.top = b.left, b.top
            self.dx = (b.right - b.left) / ds.width
            self.dy = (b.top - b.bottom) / ds.height
            self.ext = (b.left, b.bottom, b.right, b.top)
            self.wkt = ds.crs.wkt
            self.fallback = False
            if crs.is_geographic:
                self.angular = crs.axis_info[0].unit_conversion_factor
                self.a = crs.ellipsoid.semi_major_metre
                self.b = crs.ellipsoid.semi_minor_metre
            else:
                try:
                    geo = crs.geodetic_crs
                    self.to_ll = Transformer.from_crs(crs, geo, always_xy=True)
                    self.angular = geo.axis_info[0].unit_conversion_factor
                    self.a = geo.ellipsoid.semi_major_metre
                    self.b = geo.ellipsoid.semi_minor_metre
                except Exception:  # no usable geodetic CRS: fall back to nominal areas
                    self.to_ll = None
                unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
                self.nominal = self.dx * self.dy * unit * unit

        def res(self):
            return self.dx, self.dy

        def extent(self):
            return self.ext

        def srs_wkt(self):
            return self.wkt

        def nodata_value(self):
            return None

        def _area_density(self, xs, ys):
            """True m² per unit of projected x·y at the points, or None if unavailable."""
            if self.to_ll is None:
                return None
            # central differences of (lon, lat) give the Jacobian of the inverse projection;
            # times the ellipsoid's area element M N cos(lat) that is the true area density,
            # independent of how the projection reports its own scale factors
            h = 0.5 * min(self.dx, self.dy)
            lon_e, lat_e = self.to_ll.transform(xs + h, ys)
            lon_w, lat_w = self.to_ll.transform(xs - h, ys)
            lon_n, lat_n = self.to_ll.transform(xs, ys + h)
            lon_s, lat_s = self.to_ll.transform(xs, ys - h)
            rad = self.angular
            dlon_dx = (np.asarray(lon_e) - lon_w) * rad / (2 * h)
            dlat_dx = (np.asarray(lat_e) - lat_w) * rad / (2 * h)
            dlon_dy = (np.asarray(lon_n) - lon_s) * rad / (2 * h)
            dlat_dy = (np.asarray(lat_n) - lat_s) * rad / (2 * h)
            jac = np.abs(dlon_dx * dlat_dy - dlon_dy * dlat_dx)
            lat = 0.5 * (np.asarray(lat_n) + lat_s) * rad
            e2 = 1.0 - (self.b * self.b) / (self.a * self.a)
            w = 1.0 - e2 * np.sin(lat) ** 2
            m_n = self.a * self.a * (1.0 - e2) / (w * w)  # M * N
            dens = jac * m_n * np.cos(lat)
            if not np.all(np.isfinite(dens) & (dens > 0)):
                return None
            return dens

        def read_window(self, x0, y0, nx, ny):
            if nx == 0 or ny == 0:
                return np.zeros((ny, nx), dtype=float)
            if crs.is_geographic:
                tops = self.top - (y0 + np.arange(ny)) * self.dy
                edges = np.clip(
                    np.append(tops, tops[-1] - self.dy) * self.angular, -np.pi / 2, np.pi / 2
                )
                band = np.abs(np.diff(_authalic_integral(edges, self.a, self.b)))
                rows = band * self.dx * self.angular
                return np.repeat(rows[:, None], nx, axis=1)
            xs = self.left + (x0 + np.arange(nx) + 0.5) * self.dx
            ys = self.top - (y0 + np.arange(ny) + 0.5) * self.dy
            xc, yc = xs[nx // 2], ys[ny // 2]
            d_col = self._area_density(xs, np.full(nx, yc))
            d_row = self._area_density(np.full(ny, xc), ys)
            if d_col is None or d_row is None:
                self.fallback = True
                return np.full((ny, nx), self.nominal)
            dens = d_row[:, None] * d_col[None, :] / d_col[nx // 2]
            return dens * self.dx * self.dy

    return CellArea()


def _tally(values, coverage, weights):
    """Per unit: [value area m², covered area m², min value, max value] over cells with data."""
    data = np.ma.getdata(values).astype(float)
    valid = ~np.ma.getmaskarray(values) & np.isfinite(data)
    cw = np.asarray(coverage, dtype=float) * np.ma.getdata(weights).astype(float)
    cw = np.where(valid, cw, 0.0)
    touched = valid & (np.asarray(coverage) > 0)
    lo = float(data[touched].min()) if touched.any() else math.nan
    hi = float(data[touched].max()) if touched.any() else math.nan
    return np.array([float(np.sum(np.where(valid, data, 0.0) * cw)), float(cw.sum()), lo, hi])


def _unit_areas_m2(units: gpd.GeoDataFrame) -> np.ndarray:
    # true areas (the cell areas are true areas too), whatever CRS the units come in
    return units.geometry.to_crs("EPSG:6933").area.to_numpy(float)


def _open(path: Path):
    import rasterio
    from rasterio.errors import RasterioError

    if not path.exists():
        raise InputError(f"{path}: raster file not found")
    try:
        ds = rasterio.open(path)
    except (RasterioError, OSError) as exc:
        raise InputError(f"{path}: not a raster that GDAL can read ({exc})") from None
    if ds.count < 1:
        ds.close()
        raise InputError(f"{path}: the raster has no bands")
    if ds.crs is None or not ds.crs.to_wkt():
        ds.close()
        raise InputError(
            f"{path}: the raster has no CRS; assign one first "
            "(e.g. gdal_edit.py -a_srs EPSG:4326 FILE)"
        )
    t = ds.transform
    if t.b != 0 or t.d != 0 or t.e >= 0:
        ds.close()
        raise InputError(
            f"{path}: rotated or south-up rasters are not supported; warp it to a north-up "
            "grid first (gdalwarp)"
        )
    return ds


def _extract_one(
    key: str,
    path: Path,
    units: gpd.GeoDataFrame,
    unit_m2: np.ndarray,
    warn: list[str],
    fraction: bool = True,
) -> np.ndarray:
    """Hectares of ``key`` per unit from one raster; appends coverage warnings.

    With ``fraction`` False the cells hold any value >= 0 (a co-benefit index) and the
    result is each unit's mean value over its covered part times its area in hectares
    (0 for a unit with no data under it).
    """
    from exactextract import exact_extract
    from exactextract.raster import RasterioRasterSource
    from rasterio.errors import RasterioError

    ds = _open(path)
    try:
        rcrs = CRS.from_wkt(ds.crs.to_wkt())
        if ds.count > 1:
            warn.append(f"{path} ({key}): {ds.count} bands; only band 1 is used")
        geoms = units.geometry
        if not rcrs.equals(units.crs):
            step = DENSIFY_M if not units.crs.is_geographic else DENSIFY_M / 111_000.0
            geoms = gpd.GeoSeries(shapely.segmentize(geoms.values, step), crs=units.crs)
            geoms = geoms.to_crs(rcrs)
        bounds = geoms.bounds.to_numpy(float)
        finite = np.isfinite(bounds).all(axis=1)
        rb = ds.bounds
        hits = (
            finite
            & (bounds[:, 0] < rb.right)
            & (bounds[:, 2] > rb.left)
            & (bounds[:, 1] < rb.top)
            & (bounds[:, 3] > rb.bottom)
        )
        if not hits.any():
            raise InputError(
                f"{path} ({key}): the raster does not overlap any unit (raster extent "
                f"{rb.left:.6g}, {rb.bottom:.6g}, {rb.right:.6g}, {rb.top:.6g} in "
                f"{rcrs.to_string()}); is it the right file and CRS?"
            )
        rows = np.flatnonzero(hits)
        feats = gpd.GeoDataFrame({"_row": rows}, geometry=geoms.values[rows], crs=rcrs)
        try:
            values = RasterioRasterSource(ds, 1)
            weights = _make_cell_area_source(ds, rcrs)
            with warnings.catch_warnings():
                # the features are already in the raster's CRS; WKT spellings may differ
                warnings.filterwarnings("ignore", message="Spatial reference system")
                res = exact_extract(
                    values,
                    feats,
                    [_tally],
                    weights=weights,
                    include_cols=["_row"],
                    output="pandas",
                )
        except (RasterioError, RuntimeError, ValueError) as exc:
            raise InputError(f"{path} ({key}): cannot read the raster's cells ({exc})") from None
        if weights.fallback:
            warn.append(
                f"{path} ({key}): the projection's scale factors are unavailable; cell areas "
                "are taken as nominal (up to a few percent off in non-equal-area projections)"
            )
    finally:
        ds.close()

    tally = np.zeros((len(units), 4))
    tally[:, 2:] = np.nan
    for row, t in zip(res["_row"].to_numpy(int), res["_tally"], strict=True):
        if t is not None and not (isinstance(t, float) and math.isnan(t)):
            tally[row] = t
    value_m2, covered_m2, lo, hi = tally.T
    if not (covered_m2 > 0).any():
        raise InputError(
            f"{path} ({key}): the raster holds no data under any unit (only nodata "
            "there); is it the right file?"
        )
    if not fraction and np.nanmin(lo) < -VALUE_TOLERANCE:
        raise InputError(
            f"{path} ({key}): cell values under the units go down to {np.nanmin(lo):g}; "
            "expected values >= 0"
        )
    if fraction and (np.nanmin(lo) < -VALUE_TOLERANCE or np.nanmax(hi) > 1 + VALUE_TOLERANCE):
        raise InputError(
            f"{path} ({key}): cell values under the units range from {np.nanmin(lo):g} to "
            f"{np.nanmax(hi):g}; expected 0/1 (non-forest/forest) or a 0-1 fraction. "
            "Reclassify the raster first (e.g. divide percent cover by 100)"
        )
    share = np.divide(covered_m2, unit_m2, out=np.zeros_like(unit_m2), where=unit_m2 > 0)
    short = np.flatnonzero(share < 1.0 - COVERAGE_TOLERANCE)
    if len(short):
        ids = units["unit_id"].astype(str).to_numpy()[short].tolist()
        pct = [f"{100 * (1 - min(share[i], 1.0)):.0f}% uncovered" for i in short]
        warn.append(
            f"{path} ({key}): does not cover {len(short)} unit(s) fully (outside the raster "
            f"or nodata): {_names(ids, pct)}; their {key} counts only the covered part"
            if fraction
            else f"or nodata): {_names(ids, pct)}; their {key} is the mean over the covered "
            "part times the whole area"
        )
    if not fraction:
        mean = np.divide(value_m2, covered_m2, out=np.zeros_like(value_m2), where=covered_m2 > 0)
        return mean * unit_m2 / M2_PER_HA
    return value_m2 / M2_PER_HA


def zonal_areas(
    units: gpd.GeoDataFrame, rasters: Mapping[str, str | Path]
) -> tuple[pd.DataFrame, list[str]]:
    """Hectares of each raster's class inside each unit, exact to partial pixels.

    Parameters
    ----------
    units : GeoDataFrame
        Validated units with ``unit_id`` and polygon geometry in an equal-area metric CRS.
    rasters : mapping of str to path
        Raster key -> file, e.g. ``{"forest_ha_2010": "fc2010.tif", "peat_ha": "peat.tif"}``.
        Band 1 holds 0/1 (absent/present) or a 0-1 fraction per cell. The keys become
        the columns of the result; :func:`bundler.scoring.units.score_units` reads the keys
        ``forest_ha_2010``, ``forest_ha_2020``, ``peat_ha`` and ``mangrove_ha``.

    Returns
    -------
    areas : DataFrame
        Index ``unit_id`` (the units' order), one float column per key:
        ``ha = sum_i v_i * c_i * a_i / 10,000`` over cells with data, where ``v_i`` is the
        cell value, ``c_i`` the exact fraction of cell *i* covered by the unit and ``a_i``
        the cell's true area in m² on the ellipsoid (see the module docstring for how
        ``a_i`` is found in geographic and projected CRSs).
    warnings : list of str
        One message per raster that leaves units partly or fully uncovered (outside the
        raster or on nodata, beyond ``COVERAGE_TOLERANCE`` of the unit's area), naming
        them; multi-band rasters; projections without scale factors.

    Raises
    ------
    InputError
        Naming the file, when a raster is missing, unreadable or not a raster, has no
        CRS, is rotated, overlaps no unit, holds only nodata under the units, or holds
        values outside 0-1; also when the units have no CRS.
    """
    if units.crs is None:
        raise InputError("units: the layer has no CRS; zonal statistics need one")
    if "unit_id" not in units.columns:
        raise InputError("units: column unit_id is missing")
    unit_m2 = _unit_areas_m2(units)
    out = pd.DataFrame(index=pd.Index(units["unit_id"].astype(str), name="unit_id"))
    warn: list[str] = []
    for key, path in rasters.items():
        out[key] = _extract_one(key, Path(path), units, unit_m2, warn)
    return out, warn


def zonal_mean_times_area(
    units: gpd.GeoDataFrame, path: str | Path, key: str = "cobenefit"
) -> tuple[np.ndarray, list[str]]:
    """Per unit, the raster's mean value (band 1, any value >= 0) times the unit's area (ha).

    The same exact-area zonal statistics as :func:`zonal_areas`: the mean is
    ``sum_i v_i c_i a_i / sum_i c_i a_i`` over cells with data (``c_i`` the share of cell
    *i* inside the unit, ``a_i`` its true area), times the unit's true area in hectares.

    Raises
    ------
    InputError
        As :func:`zonal_areas`, and for a negative cell value under a unit.
    """
    if units.crs is None:
        raise InputError("units: the layer has no CRS; zonal statistics need one")
    if "unit_id" not in units.columns:
        raise InputError("units: column unit_id is missing")
    warn: list[str] = []
    values = _extract_one(key, Path(path), units, _unit_areas_m2(units), warn, fraction=False)
    return values, warn
