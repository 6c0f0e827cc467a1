"""Small hand-made PS layers for tests, built in a metric CRS near Sumatra.

Coordinates are in UTM zone 48S (EPSG:32748) around x=400 km, y=9,650 km,
which is about 104.1 E, 3.2 S (Sumatera Selatan), so the working equal-area
CRS distorts areas and distances by well under 0.1%.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

X0, Y0 = 400_000.0, 9_650_000.0
UTM = "EPSG:32748"


def square(x: float, y: float, side: float) -> Polygon:
    """A square with its lower-left corner at (X0 + x, Y0 + y), in metres."""
    return box(X0 + x, Y0 + y, X0 + x + side, Y0 + y + side)


def bowtie(x: float, y: float, side: float) -> Polygon:
    """A self-intersecting ring (invalid); make_valid turns it into two triangles."""
    x, y = X0 + x, Y0 + y
    return Polygon([(x, y), (x + side, y + side), (x + side, y), (x, y + side)])


def layer(geoms, crs=UTM, **columns) -> gpd.GeoDataFrame:
    """A layer in the ministry's schema; defaults fill PS_ID and SKEMA."""
    n = len(geoms)
    data = {"PS_ID": [f"U{i:03d}" for i in range(n)], "SKEMA": ["PPHKm"] * n}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def ministry_export(seed: int = 155) -> gpd.GeoDataFrame:
    """A layer with the traits of a real ministry export of one province.

    155 permits on a 5 km grid (13 columns), squares of 1.0-3.0 km side so that
    neighbours never touch by accident; 30 of them multipolygons (a detached
    200 m square inside their own grid cell); 29 overlapping pairs made by
    widening the left unit of 29 horizontal neighbour pairs by 2.5 km so it
    reaches into its right neighbour; 5 bow-tie (invalid) rings; ESRI:54034.

    The attributes have the traits of the real export too: ``PS_ID`` is no key
    (34 permits carry 0, the other 121 share 82 district-plus-sequence codes, 39
    of them twice: 83 distinct values, as in the real file), ``OBJECTID`` is
    unique (501-655), ``NO_SK`` repeats once, ``TGL_SK`` is a date, geometries
    are ``POLYGON Z`` / ``MULTIPOLYGON Z``, and one permit's polygon is 5.5 times
    its decreed area.
    """
    rng = np.random.default_rng(seed)
    n, ncol, step = 155, 13, 5000.0
    sides = rng.uniform(1000, 3000, n)
    geoms: list = []
    for i in range(n):
        r, c = divmod(i, ncol)
        geoms.append(square(c * step, r * step, sides[i]))
    # overlapping pairs: (i, i+1) in the same row, i even column, first 29 such pairs
    pairs = [(r * ncol + c, r * ncol + c + 1) for r in range(12) for c in range(0, 12, 2)][:29]
    for a, b in pairs:
        ra, ca = divmod(a, ncol)
        _, cb = divmod(b, ncol)
        x, y = ca * step, ra * step
        # reaches from the left cell's corner to 500 m inside the right square
        geoms[a] = box(X0 + x, Y0 + y, X0 + cb * step + 500, Y0 + y + sides[a])
        assert sides[b] > 500
    paired = {i for p in pairs for i in p}
    free = [i for i in range(n) if i not in paired]
    for i in free[:30]:
        r, c = divmod(i, ncol)
        extra = square(c * step + 3800, r * step + 3800, 200)
        geoms[i] = MultiPolygon([geoms[i], extra])
    invalid = free[30:35]
    for i in invalid:
        r, c = divmod(i, ncol)
        geoms[i] = bowtie(c * step, r * step, sides[i])
    gdf = layer(
        geoms,
        SKEMA=rng.choice(["PPHD", "PPHKm", "PPHTR", "PKK"], n).tolist(),
        LEMBAGA=["LPHD"] * n,
        KODE_PROV=["16"] * n,
        NAMA_PROV=["Sumatera Selatan"] * n,
        KODE_KAB=rng.choice(["1601", "1602", "1603"], n).tolist(),
        Jml_KK=rng.integers(10, 400, n),
    )
    # decreed areas follow the repaired shapes, within +-3%
    area_ha = gdf.geometry.make_valid().to_crs("EPSG:6933").area.to_numpy() / 1e4
    gdf["LUAS_SK"] = np.round(area_ha * rng.uniform(0.97, 1.03, n), 2)
    gdf.loc[7, "LUAS_SK"] = round(area_ha[7] / 5.5, 2)
    codes = [f"16{k // 30 + 1:02d}{k % 30 + 1:02d}" for k in range(82)]
    ps_id = ["0"] * 34 + codes[:43] + [c for c in codes[43:] for _ in range(2)]
    gdf["PS_ID"] = rng.permutation(np.array(ps_id, dtype=object))
    gdf["OBJECTID"] = np.arange(501, 501 + n)
    no_sk = [f"SK.{4000 + i}/MENLHK-PSKL/PKPS/PSL.0/{i % 12 + 1}/2019" for i in range(n)]
    no_sk[12] = no_sk[11]
    gdf["NO_SK"] = no_sk
    days = rng.integers(0, 12 * 365, n)
    gdf["TGL_SK"] = (np.datetime64("2012-01-01") + days.astype("timedelta64[D]")).astype(
        "datetime64[ms]"
    )
    gdf.geometry = shapely.force_3d(gdf.geometry.values)
    return gdf.to_crs("ESRI:54034")


def scoreable_export(seed: int = 155) -> gpd.GeoDataFrame:
    """:func:`ministry_export` with forest and peat columns (shares of the decreed area),
    so that it can be scored and planned without rasters."""
    gdf = ministry_export(seed)
    decreed = gdf["LUAS_SK"].to_numpy()
    gdf["forest_ha_2010"] = decreed * 0.8
    gdf["forest_ha_2020"] = decreed * 0.7
    gdf["peat_ha"] = decreed * 0.1
    return gdf
