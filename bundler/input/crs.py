"""Coordinate reference systems: plausibility checks and the working equal-area CRS."""

from __future__ import annotations

import math

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from bundler.errors import InputError


def parse_crs(text: str, source: str = "--assume-crs") -> CRS:
    """Parse a CRS given by the user (``EPSG:4326``, ``ESRI:54034``, a WKT or PROJ string)."""
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise InputError(f"{source}: not a coordinate reference system: {text!r} ({exc})") from None


def check_coordinates(bounds: np.ndarray, crs: CRS, source: str) -> list[str]:
    """Problems with coordinates that cannot be what the CRS says they are.

    Parameters
    ----------
    bounds : array of 4 floats
        ``minx, miny, maxx, maxy`` of the layer in its own CRS.
    crs : pyproj.CRS
    source : str
        The file, for messages.

    Returns
    -------
    list of str
        Empty when the coordinates are plausible. Metres labelled as degrees
        (|x| > 180 or |y| > 90 in a geographic CRS) and degrees labelled as metres
        (a whole layer a few metres wide inside +-180/+-90 in a projected CRS) are
        reported, as are coordinates the CRS cannot transform to longitude/latitude.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return [f"{source}: coordinates are not finite"]
    if crs.is_geographic:
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            return [
                f"{source}: the CRS ({crs.to_string()}) is in degrees but coordinates reach "
                f"x={max(abs(minx), abs(maxx)):.0f}, y={max(abs(miny), abs(maxy)):.0f}; they look "
                "like metres. Fix the layer's CRS (or pass --assume-crs with the right one)"
            ]
        return []
    in_degree_box = max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90
    if in_degree_box and (maxx - minx) < 10 and (maxy - miny) < 10:
        return [
            f"{source}: the CRS ({crs.to_string()}) is projected (metres) but the whole layer "
            f"spans {maxx - minx:.3g} x {maxy - miny:.3g} units inside +-180/+-90; the "
            "coordinates look like degrees. Fix the layer's CRS (e.g. EPSG:4326)"
        ]
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xs = np.array([minx, maxx, minx, maxx, (minx + maxx) / 2])
    ys = np.array([miny, miny, maxy, maxy, (miny + maxy) / 2])
    lon, lat = to_ll.transform(xs, ys)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()) or np.abs(lat).max() > 90:
        return [
            f"{source}: coordinates (x {minx:.0f}..{maxx:.0f}, y {miny:.0f}..{maxy:.0f}) lie "
            f"outside the area of the CRS {crs.to_string()}; is the CRS right?"
        ]
    return []


def working_crs(bounds_lonlat: tuple[float, float, float, float]) -> CRS:
    """An equal-area CRS in metres for a layer's extent.

    A Lambert azimuthal equal-area projection centred on the extent: areas are
    exact and, over a province or even the whole archipelago, distances stay
    within a few percent, which is far finer than the gap rule needs.
    """
    minx, miny, maxx, maxy = bounds_lonlat
    lon0 = (minx + maxx) / 2
    lat0 = (miny + maxy) / 2
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +x_0=0 +y_0=0 "
        "+datum=WGS84 +units=m +no_defs"
    )
