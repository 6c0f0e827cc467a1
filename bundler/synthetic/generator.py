"""Realistic synthetic PS permit layers in the ministry's schema.

The generator stands in for the ministry's permit layer wherever a real one is
not at hand: the demo, tests, benchmarks. It reproduces the traits that matter
to bundling (see ``docs/domain.md``, "Data: PS permit layers"):

* units clustered in landscapes, with small gaps between most neighbours, some
  shared borders and scattered isolated units (never a perfect tessellation);
* a long-tailed area distribution (median near 600 ha, up to ~15,000 ha);
* 20-30% multipolygons, ~1-3% overlapping permits and ~1-3% invalid rings
  that ``shapely.make_valid`` repairs;
* the ministry's field names and raw scheme codes, plus the canonical
  optional columns (forest cover 2010/2020, peat, mangrove, readiness);
* the keys of real exports: ``OBJECTID`` (1..n in file order) is the only
  unique one; ``PS_ID`` is no permit key but a text code of the regency
  (``KODE_KAB``) plus a two-digit sequence (``"160101"``), shared by about 1.4
  permits on average, and ``"0"`` for about 20% of the permits (a real
  one-province export has 83 distinct values for 155 permits); ``NO_SK`` repeats
  for about 3% of the permits (one decree, same date, for two permits);
* ``TGL_SK`` a date (``datetime64``), written as a date field;
* decreed areas (``LUAS_SK``) within a few percent of the polygon's, except
  ~2% off by 10-60% and about one permit in 250 whose polygon is about 3.5-6
  times its decreed area (a real one: 1,398 ha drawn, 255 ha decreed);
* ``POLYGON Z`` / ``MULTIPOLYGON Z`` geometries (z = 0), as exported;
* the World Cylindrical Equal Area CRS (ESRI:54034) of many real exports, or
  WGS84 (EPSG:4326) on request.

How the geometry is built, in one Lambert azimuthal equal-area CRS centred on
the chosen provinces: in each province, landscape (cluster) centres are drawn
on a coarse jittered grid of slots with a few hot spots; the units of a
landscape sit on a sunflower spiral spaced so that each Voronoi cell is about
the landscape's mean unit size (divided by a looseness factor). One Voronoi
diagram of all seeds is intersected with an irregular blob around each seed:
units larger than their cell fill it and share borders with full neighbours,
smaller ones leave a gap, and "shrunk" units are scaled towards their seed,
which opens a gap of tens to hundreds of metres. Every step keeps a unit inside
its own (convex) cell, so no overlap arises except the few made on purpose, in
any province or across provinces. Long edges are densified on a grid shared by
collinear edges (a partly shared border bends the same way on both sides once
projected) and the result is projected to ESRI:54034, where the invalid rings
are made; a WGS84 layer is that one with its vertices projected to EPSG:4326.

All randomness comes from :func:`numpy.random.default_rng` streams seeded with
``(seed, province code)`` and ``(seed, 0)``: the same arguments give a
bitwise-identical layer.
Figures not taken from ``docs/domain.md`` (province weights, regional forest
cover and deforestation, scheme mixes by island group) are assumptions chosen
to look plausible, not statistics.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from bundler.geometry import M2_PER_HA, area_ha
from bundler.outputs.files import atomic_write_file

OUTPUT_CRS = "ESRI:54034"
# CRSs generate_units can write: ESRI:54034 (the default) or WGS84
CRS_CHOICES: tuple[str, ...] = (OUTPUT_CRS, "EPSG:4326")


class Province(NamedTuple):
    """One of Indonesia's 38 provinces: BPS code, name, approximate centroid, island group."""

    code: str
    name: str
    lon: float
    lat: float
    kind: str


PROVINCES: list[Province] = [
    Province("11", "Aceh", 96.90, 4.25, "sumatra"),
    Province("12", "Sumatera Utara", 99.10, 2.20, "sumatra"),
    Province("13", "Sumatera Barat", 100.55, -0.75, "sumatra"),
    Province("14", "Riau", 101.80, 0.30, "sumatra"),
    Province("15", "Jambi", 102.90, -1.60, "sumatra"),
    Province("16", "Sumatera Selatan", 104.20, -3.30, "sumatra"),
    Province("17", "Bengkulu", 102.30, -3.60, "sumatra"),
    Province("18", "Lampung", 105.00, -4.90, "sumatra"),
    Province("19", "Kepulauan Bangka Belitung", 106.50, -2.60, "sumatra"),
    Province("21", "Kepulauan Riau", 104.50, 0.90, "sumatra"),
    Province("31", "DKI Jakarta", 106.83, -6.20, "java"),
    Province("32", "Jawa Barat", 107.60, -6.95, "java"),
    Province("33", "Jawa Tengah", 110.20, -7.20, "java"),
    Province("34", "DI Yogyakarta", 110.40, -7.85, "java"),
    Province("35", "Jawa Timur", 112.70, -7.70, "java"),
    Province("36", "Banten", 106.10, -6.45, "java"),
    Province("51", "Bali", 115.10, -8.40, "nusa_tenggara"),
    Province("52", "Nusa Tenggara Barat", 117.40, -8.60, "nusa_tenggara"),
    Province("53", "Nusa Tenggara Timur", 121.00, -8.70, "nusa_tenggara"),
    Province("61", "Kalimantan Barat", 111.00, -0.10, "kalimantan"),
    Province("62", "Kalimantan Tengah", 113.40, -1.70, "kalimantan"),
    Province("63", "Kalimantan Selatan", 115.30, -2.90, "kalimantan"),
    Province("64", "Kalimantan Timur", 116.40, 0.50, "kalimantan"),
    Province("65", "Kalimantan Utara", 116.30, 3.00, "kalimantan"),
    Province("71", "Sulawesi Utara", 124.30, 0.80, "sulawesi"),
    Province("72", "Sulawesi Tengah", 121.40, -1.40, "sulawesi"),
    Province("73", "Sulawesi Selatan", 120.00, -3.70, "sulawesi"),
    Province("74", "Sulawesi Tenggara", 122.20, -4.10, "sulawesi"),
    Province("75", "Gorontalo", 122.40, 0.70, "sulawesi"),
    Province("76", "Sulawesi Barat", 119.30, -2.50, "sulawesi"),
    Province("81", "Maluku", 129.40, -3.20, "maluku"),
    Province("82", "Maluku Utara", 127.90, 0.80, "maluku"),
    Province("91", "Papua Barat", 133.30, -2.30, "papua"),
    Province("92", "Papua Barat Daya", 131.70, -1.00, "papua"),
    Province("94", "Papua", 138.50, -2.20, "papua"),
    Province("95", "Papua Selatan", 139.80, -7.00, "papua"),
    Province("96", "Papua Tengah", 136.30, -3.70, "papua"),
    Province("97", "Papua Pegunungan", 139.00, -4.10, "papua"),
]

# The first K provinces are used when n_provinces=K. Sumatera Selatan first
# (forest, peat and mixed cover: a one-province demo with every typology), then
# alternating island groups so that a small K already spans Java and Papua.
PROVINCE_ORDER: tuple[str, ...] = (
    "16", "62", "33", "94", "73", "61", "14", "35", "32", "12", "15", "64", "72",
    "95", "13", "18", "11", "74", "63", "53", "52", "91", "92", "96", "17", "65",
    "19", "76", "81", "82", "71", "75", "97", "34", "36", "51", "21", "31",
)  # fmt: skip

COLUMNS: tuple[str, ...] = (
    "OBJECTID", "PS_ID", "SKEMA", "LEMBAGA", "NO_SK", "TGL_SK", "KODE_PROV", "NAMA_PROV",
    "KODE_KAB", "NAMA_KAB", "NAMA_KEC", "NAMA_DESA", "LUAS_SK", "Luas_HK", "LUAS_HL",
    "LUAS_HPT", "LUAS_HP", "LUAS_HPK", "Jml_KK", "forest_ha_2010", "forest_ha_2020",
    "peat_ha", "mangrove_ha", "facilitator", "kups_class", "landscape_id",
)  # fmt: skip

N_LANDSCAPES = 48  # Integrated Area Development landscapes nationally (brief)

_BY_CODE = {p.code: p for p in PROVINCES}

# Land area (km2, approximate; the six Papua provinces after the 2022 split).
_AREA_KM2 = {
    "11": 57956, "12": 72981, "13": 42013, "14": 87024, "15": 50058, "16": 91592,
    "17": 19919, "18": 34624, "19": 16424, "21": 8202, "31": 664, "32": 35378,
    "33": 32801, "34": 3133, "35": 47800, "36": 9663, "51": 5780, "52": 18572,
    "53": 48718, "61": 147307, "62": 153565, "63": 38744, "64": 129067, "65": 75468,
    "71": 13852, "72": 61841, "73": 46717, "74": 38068, "75": 11257, "76": 16787,
    "81": 46914, "82": 31983, "91": 60275, "92": 39123, "94": 82681, "95": 117849,
    "96": 61073, "97": 51213,
}  # fmt: skip

# Relative number of permits (assumed: many in Java, Sumatra, Kalimantan and
# Sulawesi; fewer but larger in Papua; almost none in Jakarta).
_WEIGHT = {
    "11": 2.5, "12": 5.0, "13": 3.5, "14": 3.0, "15": 3.5, "16": 3.0, "17": 2.0,
    "18": 4.0, "19": 1.2, "21": 0.5, "31": 0.05, "32": 5.0, "33": 6.0, "34": 0.6,
    "35": 8.0, "36": 1.0, "51": 0.8, "52": 2.5, "53": 3.0, "61": 5.5, "62": 4.0,
    "63": 2.5, "64": 2.5, "65": 1.0, "71": 1.2, "72": 3.5, "73": 5.0, "74": 3.0,
    "75": 1.0, "76": 1.5, "81": 1.5, "82": 1.5, "91": 1.5, "92": 1.5, "94": 1.5,
    "95": 1.2, "96": 1.2, "97": 0.8,
}  # fmt: skip

# Share of a province's landscapes that lie on peat (assumed; zero elsewhere).
_PEAT = {
    "11": 0.15, "12": 0.20, "13": 0.10, "14": 0.65, "15": 0.40, "16": 0.45, "17": 0.08,
    "18": 0.08, "19": 0.10, "21": 0.05, "61": 0.45, "62": 0.55, "63": 0.30, "64": 0.15,
    "65": 0.20, "91": 0.25, "92": 0.25, "94": 0.30, "95": 0.45, "96": 0.20, "97": 0.03,
}  # fmt: skip

# Scheme order used in the tables below.
_SCHEMES = ("hkm", "hutan_desa", "kemitraan", "htr", "hutan_adat", "iphps")
_RAW_CODES = {
    "hkm": ("PPHKm", "HKM"),
    "hutan_desa": ("PPHD", "HD"),
    "kemitraan": ("PKK", "KK", "Kulin-KK"),
    "htr": ("PPHTR", "HTR"),
    "hutan_adat": ("HA", "HA"),
    "iphps": ("IPHPS", "IPHPS"),
}
_SCHEME_AREA = np.array([0.95, 1.25, 0.75, 0.9, 1.5, 0.5])  # relative unit size by scheme


class _Region(NamedTuple):
    area: float  # unit size relative to the national base
    cover: float  # mean natural-forest share in 2020
    defor: float  # mean deforestation rate 2010-2020, %/yr
    coastal: float  # share of landscapes on the coast
    ha_per_hh: float  # permit area per household
    facilitator: float  # share of units with a facilitator
    schemes: tuple[float, ...]  # weights in _SCHEMES order


# Assumed regional contrasts: Papua large, forested, customary; Java small,
# deforested long ago, partnership and IPHPS on Perhutani land.
_REGIONS = {
    "sumatra": _Region(1.00, 0.42, 0.80, 0.12, 3.5, 0.45, (0.40, 0.33, 0.13, 0.12, 0.02, 0.0)),
    "java": _Region(0.60, 0.15, 0.10, 0.10, 1.2, 0.60, (0.33, 0.04, 0.51, 0.02, 0.01, 0.09)),
    "nusa_tenggara": _Region(
        0.75, 0.35, 0.30, 0.20, 2.0, 0.45, (0.55, 0.20, 0.13, 0.09, 0.03, 0.0)
    ),
    "kalimantan": _Region(1.20, 0.62, 0.70, 0.12, 6.0, 0.45, (0.25, 0.46, 0.13, 0.11, 0.05, 0.0)),
    "sulawesi": _Region(0.85, 0.55, 0.50, 0.18, 3.0, 0.45, (0.45, 0.30, 0.11, 0.10, 0.04, 0.0)),
    "maluku": _Region(1.05, 0.68, 0.35, 0.30, 5.0, 0.40, (0.35, 0.40, 0.09, 0.08, 0.08, 0.0)),
    "papua": _Region(1.50, 0.85, 0.25, 0.15, 15.0, 0.35, (0.15, 0.48, 0.04, 0.05, 0.28, 0.0)),
}

# Forest-function split (HK conservation, HL protection, HPT limited production,
# HP production, HPK convertible): Dirichlet weights by scheme; small weights
# make most units fall in one or two functions, as in real decrees.
_FUNCTION_ALPHA = np.array(
    [
        [0.02, 1.0, 0.4, 0.8, 0.10],  # hkm
        [0.02, 1.0, 0.6, 0.8, 0.15],  # hutan_desa
        [0.05, 0.6, 0.4, 1.0, 0.20],  # kemitraan
        [0.01, 0.1, 0.8, 1.2, 0.30],  # htr
        [0.10, 0.8, 0.6, 0.6, 0.30],  # hutan_adat
        [0.01, 0.3, 0.1, 1.5, 0.05],  # iphps
    ]
)

_PLACE_A = np.array(
    [
        "Sungai", "Tanjung", "Muara", "Bukit", "Lubuk", "Talang", "Teluk", "Air", "Batu",
        "Tanah", "Padang", "Kuala", "Rantau", "Pulau", "Danau", "Gunung", "Lembah", "Sei",
        "Ujung", "Kampung", "Tebing", "Mekar", "Suka", "Karang", "Sumber", "Rimba", "Bina",
        "Tunas", "Wana", "Marga", "Sido", "Ngudi", "Lestari", "Kayu", "Rawa", "Pematang",
        "Simpang", "Koto", "Nagari", "Long", "Tumbang", "Pasir", "Labuhan", "Way", "Ulu",
        "Manggala", "Harapan", "Sinar", "Cahaya", "Bumi", "Wonosari",
    ]
)  # fmt: skip
_PLACE_B = np.array(
    [
        "Jaya", "Makmur", "Baru", "Indah", "Raya", "Sari", "Mulya", "Lestari", "Tengah",
        "Timur", "Barat", "Utara", "Selatan", "Hijau", "Rejo", "Harapan", "Sejahtera", "Agung",
        "Permai", "Mandiri", "Abadi", "Bersatu", "Damai", "Rahayu", "Asri", "Kencana", "Mekar",
        "Subur", "Tani", "Maju", "Wangi", "Putih", "Merah", "Panjang", "Besar", "Kecil",
        "Dalam", "Luar", "Hulu", "Hilir", "Ilir", "Ulu", "Kuning", "Tinggi", "Emas", "Bening",
        "Rimba", "Wana", "Lama",
    ]
)  # fmt: skip
_KAB_B = np.array(
    [
        "Hulu", "Hilir", "Ilir", "Ulu", "Timur", "Barat", "Utara", "Selatan", "Tengah", "Raya",
        "Laut", "Darat",
    ]
)  # fmt: skip
_GROUP_NAMES = np.array(
    [
        "Maju Bersama", "Sumber Rejeki", "Tunas Harapan", "Wana Lestari", "Hutan Lestari",
        "Karya Tani", "Sido Makmur", "Rimba Jaya", "Bina Wana", "Mekar Sari", "Tani Mandiri",
        "Sinar Harapan", "Wana Tani", "Lestari Alam", "Alam Hijau", "Usaha Bersama",
        "Sepakat", "Serumpun", "Wono Lestari", "Ngudi Rejeki", "Rukun Makmur", "Bukit Hijau",
        "Karya Bakti", "Sehati", "Cahaya Rimba", "Bersatu Jaya", "Daun Hijau", "Rimbun",
    ]
)  # fmt: skip
_KUPS = np.array(["blue", "silver", "gold", "platinum"])

_GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))
# Longest edge before projecting: a straight edge bends slightly in ESRI:54034,
# and a partly shared edge must bend the same way on both sides of the border.
_SEGMENT_M = 500.0
_BASE_HA, _SIGMA_UP, _SIGMA_DOWN = 750.0, 0.3, 1.0  # landscape-level size distribution
_SIGMA_UNIT = 0.25  # spread of unit sizes inside one landscape
_BIG_LONE = 0.05  # share of lone units drawn from the tail of very large permits
_MAX_HA = 14_500.0  # largest permit
_BLOB_VERTICES = 48
_PS_ID_ZERO = 0.2  # share of permits whose PS_ID is "0"
_PS_ID_SHARE = 1.4  # permits per non-zero PS_ID code, on average
_NO_SK_REPEAT = 0.03  # share of permits that repeat another permit's decree
_OVERSIZE = 0.004  # share of permits whose polygon is several times the decreed area
_OVERSIZE_FACTOR = (3.5, 6.0)
_FUNCTION_COLUMNS = ("Luas_HK", "LUAS_HL", "LUAS_HPT", "LUAS_HP", "LUAS_HPK")


def generate_units(
    n_units: int, seed: int, n_provinces: int = 1, crs: str = OUTPUT_CRS
) -> gpd.GeoDataFrame:
    """Generate a synthetic PS permit layer in the ministry's schema.

    Parameters
    ----------
    n_units : int
        Number of permits (rows), at least 1.
    seed : int
        Random seed. The same ``(n_units, seed, n_provinces, crs)`` always
        gives a bitwise-identical layer; a different seed gives a different one.
    n_provinces : int, default 1
        Use the first ``n_provinces`` of :data:`PROVINCE_ORDER` (1-38). Units
        are shared among them by an assumed weight of each province's PS
        programme, with at least one unit each when ``n_units`` allows.
    crs : {"ESRI:54034", "EPSG:4326"}, default "ESRI:54034"
        CRS of the layer: World Cylindrical Equal Area, like many ministry
        exports, or WGS84 longitude/latitude. Only the coordinates differ: the
        EPSG:4326 layer is the ESRI:54034 one with every vertex projected.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per permit with the columns of :data:`COLUMNS` (ministry names
        ``OBJECTID`` ... ``Jml_KK`` plus ``forest_ha_2010``, ``forest_ha_2020``,
        ``peat_ha``, ``mangrove_ha``, ``facilitator``, ``kups_class`` and
        ``landscape_id``), Polygon Z and MultiPolygon Z geometries with z = 0 (a
        few of them deliberately invalid or overlapping a neighbour), in
        ``crs``. Rows are in ``OBJECTID`` order (1..n): by province code, and
        in an arbitrary but fixed order within a province.

    Raises
    ------
    ValueError
        When ``n_units < 1``, ``n_provinces`` is outside 1-38 or ``crs`` is not
        one of :data:`CRS_CHOICES`.

    Notes
    -----
    About 1.5 s for 11,000 units and 15-20 s for 100,000 on one core; see the
    module docstring for the construction. ``LUAS_SK`` follows the polygon area
    within a few percent, except about 2% of units that are off by more than
    10% and about one in 250 (at least one from 20 units) whose polygon is
    about 3.5-6 times its decreed area, as in real layers. About 2% of the geometries
    are invalid (a twisted pair of vertices or a spike) and about 1-2% of units
    overlap a neighbour.

    As in real exports, only ``OBJECTID`` is a key: ``PS_ID`` is ``"0"`` for
    about 20% of the permits and otherwise ``KODE_KAB`` plus a two-digit
    sequence shared by neighbouring permits of one regency (up to 99 codes per
    regency, so very large layers share more); ``NO_SK`` and ``TGL_SK`` repeat
    another permit's decree for about 3% of the permits. ``TGL_SK`` is
    ``datetime64[ms]`` (midnight), which :func:`write_layer` writes as a date.

    Examples
    --------
    >>> gdf = generate_units(50, seed=1)
    >>> len(gdf), gdf.crs.to_string(), gdf["OBJECTID"].is_unique, bool(gdf.has_z.all())
    (50, 'ESRI:54034', True, True)
    """
    n_units, seed = int(n_units), int(seed)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if n_units < 1:
        raise ValueError(f"n_units must be at least 1, got {n_units}")
    if not 1 <= n_provinces <= len(PROVINCE_ORDER):
        raise ValueError(f"n_provinces must be between 1 and {len(PROVINCE_ORDER)}")
    out_crs = str(crs).strip().upper()
    if out_crs not in CRS_CHOICES:
        raise ValueError(f"crs must be one of {', '.join(CRS_CHOICES)}, got {crs!r}")
    codes = list(PROVINCE_ORDER[:n_provinces])
    weights = np.array([_WEIGHT[c] for c in codes])
    counts = _allocate(n_units, weights, at_least_one=True)
    # about 48 landscapes nationally; a subset of provinces gets its share, at
    # least one each
    share = weights.sum() / sum(_WEIGHT.values())
    n_iad = _allocate(max(len(codes), round(N_LANDSCAPES * share)), weights, at_least_one=True)

    provs = [_BY_CODE[c] for c, k in zip(codes, counts, strict=True) if k > 0]
    lon0 = float(np.mean([p.lon for p in provs]))
    lat0 = float(np.mean([p.lat for p in provs]))
    laea = CRS.from_proj4(
        f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +x_0=0 +y_0=0 +datum=WGS84 +units=m"
    )
    to_xy = Transformer.from_crs("EPSG:4326", laea, always_xy=True)
    plans = []
    for code, k in zip(codes, counts, strict=True):
        if k == 0:
            continue
        prov = _BY_CODE[code]
        rng = np.random.default_rng([seed, int(code)])
        centre = np.array(to_xy.transform(prov.lon, prov.lat))
        plans.append(_plan(prov, int(k), centre, rng))

    seeds = np.concatenate([p.seeds for p in plans])
    shape_rng = np.random.default_rng([seed, 0])
    geoms = _shapes(
        seeds,
        np.concatenate([p.target for p in plans]),
        np.concatenate([p.full for p in plans]),
        np.concatenate([p.sizes[p.cl] for p in plans]),
        np.concatenate([p.rank for p in plans]),
        shape_rng,
    )
    geoms, area_ha = _finish(geoms, laea)
    geoms = _make_invalid(geoms, shape_rng)

    frames = []
    start, iad_next = 0, 1
    iad_of = dict(zip(codes, n_iad, strict=True))
    for p in plans:
        n = len(p.cl)
        rows = slice(start, start + n)
        frame, used = _attributes(p, area_ha[rows], int(iad_of[p.prov.code]), iad_next)
        frame["geometry"] = geoms[rows]
        frames.append(frame)
        start += n
        iad_next += used
    gdf = pd.concat(frames, ignore_index=True)
    _oversize(gdf, area_ha, shape_rng)
    # file order: by province, shuffled within one (the order of the former
    # PS-<province>-<number> ids); OBJECTID numbers the rows in that order
    gdf = gdf.sort_values(["KODE_PROV", "_order"], kind="stable").reset_index(drop=True)
    gdf = gdf.drop(columns="_order")
    gdf.insert(0, "OBJECTID", np.arange(1, len(gdf) + 1, dtype=np.int64))
    geoms = gdf["geometry"].to_numpy()
    if out_crs != OUTPUT_CRS:
        geoms = gpd.GeoSeries(geoms, crs=OUTPUT_CRS).to_crs(out_crs).to_numpy()
    gdf["geometry"] = shapely.force_3d(geoms, 0.0)
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=out_crs)


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike) -> None:
    """Write a layer, choosing the format from the file suffix, atomically.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer; invalid geometries are written as they are.
    path : str or path-like
        ``.gpkg`` (GeoPackage), ``.shp`` (Shapefile), ``.geojson`` / ``.json``
        (GeoJSON), ``.fgb`` (FlatGeobuf) or ``.parquet`` (GeoParquet).

    Raises
    ------
    ValueError
        For any other suffix.

    Notes
    -----
    The file is written under a temporary name in the target folder and moved
    into place with :func:`os.replace`, so a killed run never leaves half a
    file. A Shapefile is several files: they are written into a temporary
    folder and moved one by one, the ``.shp`` last. Shapefile field names are
    limited to 10 characters, so ``facilitator``, ``kups_class`` and
    ``landscape_id`` are written under their ministry names ``PENDAMPING``,
    ``KELAS_KUPS`` and ``ID_LANSKAP``, and the other long names are shortened
    (``forest_ha_2010`` -> ``FOREST2010``, ``forest_ha_2020`` -> ``FOREST2020``,
    ``mangrove_ha`` -> ``MANGROVE``).

    A datetime column whose values are all dates (midnight, such as
    ``TGL_SK``) is written as a date field in GeoPackage, Shapefile and
    GeoJSON (FlatGeobuf has only date-times; GeoParquet keeps the timestamp);
    GDAL reads it back as ``datetime64``. Z coordinates are written as they are.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        atomic_write_file(path, lambda p: gdf.to_parquet(p))
    elif suffix in (".gpkg", ".geojson", ".json", ".fgb"):
        driver = {".gpkg": "GPKG", ".fgb": "FlatGeobuf"}.get(suffix, "GeoJSON")
        frame, options = _with_dates(gdf)
        # the layer is named after the final file, not the temporary one
        atomic_write_file(
            path,
            lambda p: frame.to_file(p, driver=driver, layer=path.stem, engine="pyogrio", **options),
        )
    elif suffix == ".shp":
        _write_shapefile(gdf, path)
    else:
        raise ValueError(
            f"{path}: unknown format {suffix!r}; use .gpkg, .shp, .geojson, .fgb or .parquet"
        )


_SHAPEFILE_NAMES = {
    "facilitator": "PENDAMPING",
    "kups_class": "KELAS_KUPS",
    "landscape_id": "ID_LANSKAP",
    "forest_ha_2010": "FOREST2010",
    "forest_ha_2020": "FOREST2020",
    "mangrove_ha": "MANGROVE",
}


def _with_dates(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict]:
    """The layer with its date-only datetime columns as Arrow dates, and the write options.

    pyogrio writes ``datetime64`` as a date-time field (a text field in a
    Shapefile); through Arrow a ``date32`` column becomes a real date field.
    A layer without such a column is returned as it is, for the usual path.
    """
    dates = [
        col
        for col in gdf.columns
        if col != gdf.geometry.name
        and pd.api.types.is_datetime64_dtype(gdf[col].dtype)
        and (gdf[col].dropna() == gdf[col].dropna().dt.normalize()).all()
    ]
    if not dates:
        return gdf, {}
    out = gdf.copy()
    for col in dates:
        out[col] = out[col].astype(pd.ArrowDtype(pa.date32()))
    return out, {"use_arrow": True}


def _write_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = gdf.rename(columns=_SHAPEFILE_NAMES)
    if "PENDAMPING" in out.columns:
        # the dBASE logical type round-trips poorly; 0/1 is read back as a flag
        out["PENDAMPING"] = out["PENDAMPING"].astype(int)
    out, options = _with_dates(out)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.stem}.partial-", dir=path.parent))
    try:
        out.to_file(scratch / path.name, driver="ESRI Shapefile", engine="pyogrio", **options)
        files = sorted(scratch.iterdir(), key=lambda p: p.suffix.lower() == ".shp")
        for f in files:
            os.replace(f, path.with_suffix(f.suffix))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------- helpers


def _allocate(total: int, weights: np.ndarray, at_least_one: bool = False) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    k = len(weights)
    base = np.ones(k, dtype=np.int64) if at_least_one and total >= k else np.zeros(k, np.int64)
    rest = total - int(base.sum())
    share = weights / weights.sum() * rest
    counts = np.floor(share).astype(np.int64)
    left = rest - int(counts.sum())
    # stable order so ties are broken the same way every time
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[:left]] += 1
    return base + counts


def _cluster_sizes(n: int, rng: np.random.Generator) -> np.ndarray:
    """Landscape sizes summing to ``n``: many singletons and small groups, a long tail."""
    k = 1 + np.ceil(np.exp(rng.normal(np.log(8.0), 0.9, n))).astype(np.int64)
    k[rng.random(n) < 0.6] = 1
    k = np.minimum(k, 200)
    ends = np.cumsum(k)
    c = int(np.searchsorted(ends, n)) + 1
    k = k[:c].copy()
    k[-1] -= int(ends[c - 1] - n)
    return k


def _names(rng: np.random.Generator, n: int, second=_PLACE_B) -> np.ndarray:
    a = _PLACE_A[rng.integers(0, len(_PLACE_A), n)]
    b = second[rng.integers(0, len(second), n)]
    return np.char.upper(np.char.add(np.char.add(a, " "), b))


def _region_radius_m(code: str, footprint_m2: float) -> float:
    """Radius of the disc in which a province's landscapes are placed.

    80% of the radius of a disc as large as the province; widened when the
    units would cover more than 30% of it (only for unrealistically many
    units), so that landscapes stay apart.
    """
    r = 0.8 * np.sqrt(_AREA_KM2[code] / np.pi) * 1000.0
    return float(max(r, np.sqrt(footprint_m2 / (0.3 * np.pi))))


def _base_areas(n: int, rng: np.random.Generator) -> np.ndarray:
    """Landscape base areas (ha), before the regional and scheme factors.

    A split log-normal, wider below the median than above: a long tail of
    small permits but a short one of large ones, which keeps the national
    total near the real one (~5.5 Mha mapped for some 11,000 permits) with a
    median near 500-600 ha. The very largest permits come from ``_BIG_LONE``.
    """
    z = rng.standard_normal(n)
    return np.exp(np.log(_BASE_HA) + np.where(z > 0, _SIGMA_UP * z, _SIGMA_DOWN * z))


# --------------------------------------------------------------------------- a province


class _Plan(NamedTuple):
    """A province's units before their shapes: landscapes, schemes, sizes, seeds."""

    prov: Province
    rng: np.random.Generator  # the province's stream, continued by _attributes
    sizes: np.ndarray  # units per landscape
    cl: np.ndarray  # landscape of each unit
    scheme: np.ndarray  # index into _SCHEMES
    target: np.ndarray  # intended area, ha
    full: np.ndarray  # keeps its cell-and-blob shape (else shrunk towards its seed)
    rank: np.ndarray  # position on the landscape's spiral, 0 = centre
    seeds: np.ndarray  # (n, 2) metres in the common CRS
    cover: np.ndarray  # landscape traits: forest share 2020
    defor: np.ndarray  # deforestation rate, %/yr
    peat: np.ndarray  # landscape on peat
    coastal: np.ndarray  # landscape on the coast
    facilitator: np.ndarray  # share of units with a facilitator


def _plan(prov: Province, n: int, centre: np.ndarray, rng: np.random.Generator) -> _Plan:
    """Landscapes, schemes, target areas and seed points of one province's ``n`` units."""
    region = _REGIONS[prov.kind]
    sizes = _cluster_sizes(n, rng)
    n_cl = len(sizes)
    cl = np.repeat(np.arange(n_cl), sizes)
    compact = rng.uniform(0.6, 1.0, n_cl)  # 1: cells as large as the units; lower: looser
    cl_area = _base_areas(n_cl, rng)
    # the largest permits (customary forests, big village forests) stand alone
    big = (sizes == 1) & (rng.random(n_cl) < _BIG_LONE)
    cl_area[big] = np.exp(rng.uniform(np.log(3000.0), np.log(_MAX_HA), int(big.sum())))
    dominant = rng.choice(len(_SCHEMES), n_cl, p=_norm(region.schemes))
    scheme = np.where(
        rng.random(n) < 0.4,
        dominant[cl],
        rng.choice(len(_SCHEMES), n, p=_norm(region.schemes)),
    )
    within = np.exp(rng.normal(0.0, _SIGMA_UNIT, n))
    target = cl_area[cl] * within * region.area * _SCHEME_AREA[scheme]
    target[big[cl]] = cl_area[cl][big[cl]]
    target = np.clip(target, 12.0, _MAX_HA)
    seeds, rank = _layout(prov.code, sizes, cl, compact, target, rng)
    full = rng.random(n) < (0.35 + 0.6 * (compact[cl] - 0.6) / 0.4)
    return _Plan(
        prov=prov,
        rng=rng,
        sizes=sizes,
        cl=cl,
        scheme=scheme,
        target=target,
        full=full,
        rank=rank,
        seeds=seeds + centre,
        cover=rng.beta(4 * region.cover, 4 * (1 - region.cover), n_cl),
        defor=rng.gamma(1.3, (region.defor + 0.2) / 1.3, n_cl) - 0.2,
        peat=rng.random(n_cl) < _PEAT.get(prov.code, 0.0),
        coastal=rng.random(n_cl) < region.coastal,
        facilitator=np.clip(region.facilitator + rng.normal(0, 0.2, n_cl), 0.05, 0.95),
    )


def _norm(w) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return w / w.sum()


def _layout(code, sizes, cl, compact, target, rng):
    """Seed points: clusters on a jittered grid of slots, units on a sunflower spiral."""
    n_cl = len(sizes)
    # every unit of a landscape gets a cell of the landscape's mean size: the
    # larger units then fill their cells (and share borders), smaller ones leave gaps
    cl_mean = np.bincount(cl, weights=target, minlength=n_cl) / sizes
    foot = cl_mean[cl] * M2_PER_HA / compact[cl]  # m2
    cl_foot = np.bincount(cl, weights=foot, minlength=n_cl)
    cl_radius = np.sqrt(cl_foot / np.pi)
    radius = _region_radius_m(code, float(cl_foot.sum()))
    # slots: about 2.5 times as many as clusters, so landscapes stay apart
    step = radius * np.sqrt(np.pi / (2.5 * n_cl))
    g = np.arange(-radius, radius + step, step) + rng.uniform(-step / 2, step / 2)
    gx, gy = np.meshgrid(g, g)
    slots = np.column_stack([gx.ravel(), gy.ravel()])
    slots = slots[np.hypot(slots[:, 0], slots[:, 1]) <= radius - step / 2]
    if len(slots) == 0:
        slots = np.zeros((1, 2))
    # patchy: a few hot spots draw most landscapes
    hot = rng.uniform(-radius, radius, (4, 2))
    d2 = ((slots[:, None, :] - hot[None, :, :]) ** 2).sum(-1)
    weight = 0.25 + np.exp(-d2 / (2 * (0.35 * radius) ** 2)).sum(1)
    replace = len(slots) < n_cl
    pick = rng.choice(len(slots), n_cl, replace=replace, p=weight / weight.sum())
    slack = np.maximum(step - 2 * cl_radius, 0.0)[:, None]
    centres = slots[pick] + rng.uniform(-0.5, 0.5, (n_cl, 2)) * slack
    if replace:
        centres += rng.normal(0, step / 3, (n_cl, 2))

    # within a cluster: a sunflower spiral, units in random order
    order = np.lexsort((rng.random(len(target)), cl))
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    f_sorted = foot[order]
    cl_sorted = cl[order]
    cum = np.cumsum(f_sorted) - f_sorted
    c_i = cum - cum[start][cl_sorted] + f_sorted / 2
    rank = np.arange(len(order)) - start[cl_sorted]
    theta = rank * _GOLDEN_ANGLE + rng.uniform(0, 2 * np.pi, n_cl)[cl_sorted]
    r = np.sqrt(c_i / np.pi)
    local = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    local += rng.normal(0, 0.18, local.shape) * np.sqrt(f_sorted)[:, None]
    # landscapes along rivers and ridges are elongated
    stretch = np.exp(rng.uniform(0, np.log(2.2), n_cl))[cl_sorted]
    rot = rng.uniform(0, np.pi, n_cl)[cl_sorted]
    x, y = local[:, 0] * stretch, local[:, 1] / stretch
    local = np.column_stack([x * np.cos(rot) - y * np.sin(rot), x * np.sin(rot) + y * np.cos(rot)])
    seeds = np.empty_like(local)
    seeds[order] = centres[cl_sorted] + local
    order_in_cl = np.empty(len(order), dtype=np.int64)
    order_in_cl[order] = rank
    return seeds, order_in_cl


def _blobs(centres: np.ndarray, area_m2: np.ndarray, rng: np.random.Generator):
    """Irregular star-shaped polygons of the given areas around ``centres``.

    Returns the polygons and each one's largest radius.
    """
    n = len(centres)
    theta = np.linspace(0, 2 * np.pi, _BLOB_VERTICES, endpoint=False)
    h = np.arange(2, 10)
    coef = rng.normal(0, 1, (n, len(h))) * (0.22 / h**0.9)
    phase = rng.uniform(0, 2 * np.pi, (n, len(h)))
    # sum_h c sin(h t + p) = sum_h (c cos p) sin(h t) + (c sin p) cos(h t): two products
    ht = h[:, None] * theta[None, :]
    log_r = (coef * np.cos(phase)) @ np.sin(ht) + (coef * np.sin(phase)) @ np.cos(ht)
    r = np.exp(log_r)
    unit_area = 0.5 * np.sin(2 * np.pi / _BLOB_VERTICES) * (r * np.roll(r, -1, axis=1)).sum(1)
    r *= np.sqrt(area_m2 / unit_area)[:, None]
    xy = np.empty((n, _BLOB_VERTICES + 1, 2))
    xy[:, :-1, 0] = r * np.cos(theta) + centres[:, :1]
    xy[:, :-1, 1] = r * np.sin(theta) + centres[:, 1:]
    xy[:, -1] = xy[:, 0]
    return shapely.polygons(xy), r.max(1)


def _inradius(cells: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Distance from each centre to the boundary of its convex cell (which contains it)."""
    coords, idx = shapely.get_coordinates(cells, return_index=True)
    same = idx[:-1] == idx[1:]  # consecutive vertices of one ring form an edge
    p, q, k = coords[:-1][same], coords[1:][same], idx[:-1][same]
    d = q - p
    c = centres[k]
    cross = np.abs(d[:, 0] * (c[:, 1] - p[:, 1]) - d[:, 1] * (c[:, 0] - p[:, 0]))
    dist = cross / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)
    out = np.full(len(cells), np.inf)
    np.minimum.at(out, k, dist)
    return out


def _scale_about(geoms: np.ndarray, centres: np.ndarray, factor: np.ndarray) -> np.ndarray:
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    coords = centres[idx] + factor[idx, None] * (coords - centres[idx])
    return shapely.set_coordinates(geoms.copy(), coords)


def _shapes(seeds, target, full, cl_size, rank, rng) -> np.ndarray:
    """Unit polygons in the common CRS: Voronoi cell x blob, shrunk or grown, cut, holed."""
    n = len(seeds)
    span = np.abs(seeds).max() + 50_000.0
    frame = shapely.box(-span, -span, span, span)
    if n == 1:
        cells = np.array([frame])
    else:
        vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
        cells = shapely.get_parts(vor)
    area_m2 = target * M2_PER_HA
    # full units: a blob a bit larger than the target, so inside a landscape the
    # cell edges (shared with full neighbours) bound them; rim units get the blob
    beta = np.where(full, rng.uniform(1.15, 1.45, n), rng.uniform(0.9, 1.2, n))
    blobs, reach = _blobs(seeds, area_m2 * beta, rng)
    # a blob that cannot reach its cell's boundary is the unit as it is
    clip = reach >= _inradius(cells, seeds)
    geoms = blobs.copy()
    geoms[clip] = shapely.intersection(cells[clip], blobs[clip])
    area0 = shapely.area(geoms)

    # shrink the others towards their seed: the shape stays inside its cell
    f = np.ones(n)
    shrink = ~full
    f[shrink] = rng.uniform(0.65, 0.97, int(shrink.sum()))
    # ... but not below the smallest permits on record (~12 ha)
    f[shrink] = np.maximum(f[shrink], np.sqrt(12e4 / area0[shrink])).clip(max=1.0)
    # a few overlaps on purpose: grow interior full units of larger landscapes
    candidates = np.flatnonzero(full & (cl_size >= 4) & (rank < 0.5 * cl_size))
    n_grow = min(len(candidates), _count(n, 0.008))
    grow = rng.choice(candidates, n_grow, replace=False) if n_grow else np.array([], int)
    f[grow] = rng.uniform(1.05, 1.15, n_grow)
    # lone units are bounded by their blob only; keep the largest under the cap
    f = np.minimum(f, np.sqrt(_MAX_HA * M2_PER_HA / area0))
    moved = np.flatnonzero(f != 1.0)
    geoms[moved] = _scale_about(geoms[moved], seeds[moved], f[moved])

    # multipolygons: a narrow strip (track, river, enclave boundary) cuts off
    # one or two small parts
    r_eq = np.sqrt(shapely.area(geoms) / np.pi)
    eligible = np.flatnonzero((r_eq > 350.0) & ~np.isin(np.arange(n), grow))
    n_cut = min(len(eligible), _count(n, 0.27))
    cut = rng.choice(eligible, n_cut, replace=False)
    ang = rng.uniform(0, 2 * np.pi, n_cut)
    bands = _bands(seeds[cut], r_eq[cut], ang, rng)
    # a second strip on the far side, roughly parallel, makes three parts
    two = np.flatnonzero(rng.random(n_cut) < 0.2)
    if len(two):
        ang2 = ang[two] + np.pi + rng.normal(0, 0.2, len(two))
        bands[two] = shapely.union(bands[two], _bands(seeds[cut[two]], r_eq[cut[two]], ang2, rng))
    geoms[cut] = shapely.difference(geoms[cut], bands)

    # a few holes: a village enclave inside the permit
    holey = np.flatnonzero((r_eq > 800.0) & ~np.isin(np.arange(n), cut))
    holey = rng.choice(holey, min(len(holey), _count(n, 0.03)), replace=False)
    if len(holey):
        ang = rng.uniform(0, 2 * np.pi, len(holey))
        off = 0.3 * r_eq[holey, None] * np.column_stack([np.cos(ang), np.sin(ang)])
        hole_area = np.pi * (r_eq[holey] * rng.uniform(0.08, 0.18, len(holey))) ** 2
        holes, _ = _blobs(seeds[holey] + off, hole_area, rng)
        geoms[holey] = shapely.difference(geoms[holey], holes)
    return geoms


def _count(n: int, share: float) -> int:
    """How many units get a rare trait: about ``share`` of them, at least one from 20 units."""
    return max(1, round(share * n)) if n >= 20 else 0


def _bands(centres, r_eq, ang, rng) -> np.ndarray:
    """Thin rectangles crossing a unit at 45-75% of its radius from the seed, towards ``ang``."""
    m = len(centres)
    u = np.column_stack([np.cos(ang), np.sin(ang)])  # across the band
    v = np.column_stack([-u[:, 1], u[:, 0]])  # along the band
    mid = centres + u * (rng.uniform(0.45, 0.75, m) * r_eq)[:, None]
    half_w = np.minimum(rng.uniform(20, 100, m), 0.08 * r_eq)[:, None]
    half_l = (3.0 * r_eq)[:, None]
    corners = np.stack(
        [
            mid - u * half_w - v * half_l,
            mid + u * half_w - v * half_l,
            mid + u * half_w + v * half_l,
            mid - u * half_w + v * half_l,
            mid - u * half_w - v * half_l,
        ],
        axis=1,
    )
    return shapely.polygons(corners)


def _finish(geoms: np.ndarray, crs: CRS):
    """Densify and project to ESRI:54034; return geometries and areas (ha)."""
    to_out = Transformer.from_crs(crs, CRS.from_user_input(OUTPUT_CRS), always_xy=True)
    _, coords, (ring_off, part_off, geom_off) = shapely.to_ragged_array(
        shapely.multipolygons(shapely.get_parts(geoms), indices=_part_index(geoms))
    )
    coords, ring_off = _densify(coords, ring_off, _SEGMENT_M)
    x, y = to_out.transform(coords[:, 0], coords[:, 1])
    multi = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, np.column_stack([x, y]), (ring_off, part_off, geom_off)
    )
    single = shapely.get_num_geometries(multi) == 1
    out = multi.copy()
    out[single] = shapely.get_geometry(multi[single], 0)
    return out, area_ha(out)


def _part_index(geoms: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(geoms)), shapely.get_num_geometries(geoms))


def _densify(coords: np.ndarray, ring_off: np.ndarray, step: float):
    """Insert vertices into edges longer than ``step`` metres, on a grid shared by collinear edges.

    A straight edge bends slightly when projected; if two polygons share only
    part of an edge, their vertices differ and the projected borders would
    drift apart by up to a few decimetres. Here the new vertices sit at
    multiples of ``step`` measured from the foot of the perpendicular from the
    origin onto the edge's line, computed from the endpoints in a canonical
    order, so both polygons get the very same vertices on their common part
    whichever direction they run.
    """
    n = len(coords)
    d_all = np.diff(coords, axis=0)
    long = np.hypot(d_all[:, 0], d_all[:, 1]) > step
    long[ring_off[1:-1] - 1] = False  # the closing vertex of a ring starts no edge
    j = np.flatnonzero(long)
    p, q = coords[j], coords[j + 1]
    swap = (p[:, 0] > q[:, 0]) | ((p[:, 0] == q[:, 0]) & (p[:, 1] > q[:, 1]))
    a = np.where(swap[:, None], q, p)
    d = np.where(swap[:, None], p, q) - a
    u = d / np.hypot(d[:, 0], d[:, 1])[:, None]
    ta = (a * u).sum(1)
    tb = ta + (d * u).sum(1)
    foot = a - ta[:, None] * u
    eps = 1e-3 * step
    k_lo = np.floor((ta + eps) / step).astype(np.int64) + 1
    k_hi = np.ceil((tb - eps) / step).astype(np.int64) - 1
    m = np.maximum(k_hi - k_lo + 1, 0)
    inserts = np.zeros(n, dtype=np.int64)
    inserts[j] = m
    shift = np.concatenate([[0], np.cumsum(inserts)])
    out = np.empty((n + int(shift[-1]), 2))
    out[np.arange(n) + shift[:-1]] = coords
    if shift[-1]:
        s = np.repeat(np.arange(len(j)), m)
        local = np.arange(len(s)) - np.repeat(np.cumsum(m) - m, m)
        k = np.where(swap[s], k_hi[s] - local, k_lo[s] + local)
        out[j[s] + shift[j[s]] + 1 + local] = foot[s] + (k * step)[:, None] * u[s]
    return out, ring_off + shift[ring_off]


def _make_invalid(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Corrupt ~2% of the geometries the way digitising does: twisted vertices, spikes."""
    n = len(geoms)
    k = _count(n, 0.02)
    if k == 0:
        return geoms
    geoms = geoms.copy()
    picks = rng.choice(n, k, replace=False)
    kinds = rng.random(k) < 0.5
    for i, bowtie in zip(picks, kinds, strict=True):
        geoms[i] = _corrupt(geoms[i], bool(bowtie), rng)
    return geoms


def _corrupt(geom, bowtie: bool, rng: np.random.Generator):
    """The geometry with its largest part's outer ring made self-intersecting."""
    parts = list(shapely.get_parts(geom))
    main = int(np.argmax(shapely.area(parts)))
    poly = parts[main]
    ring = shapely.get_coordinates(poly.exterior)[:-1]
    holes = [shapely.get_coordinates(h) for h in poly.interiors]
    m = len(ring)
    for _ in range(10):
        i = int(rng.integers(1, m - 2))
        if bowtie:
            # two neighbouring vertices swapped: the ring crosses itself
            bad = ring.copy()
            bad[[i, i + 1]] = bad[[i + 1, i]]
        else:
            # a spike out and back to the same vertex
            away = ring[i] - ring.mean(0)
            tip = ring[i] + away / max(np.hypot(*away), 1e-9) * rng.uniform(60, 250)
            bad = np.concatenate([ring[: i + 1], tip[None], ring[i:]])
        cand = shapely.Polygon(np.concatenate([bad, bad[:1]]), holes)
        if not cand.is_valid:
            parts[main] = cand
            return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    return geom


# --------------------------------------------------------------------------- attributes


def _attributes(
    plan: _Plan, area_ha: np.ndarray, n_iad: int, iad_start: int
) -> tuple[pd.DataFrame, int]:
    """The attribute table of one province; also returns how many landscape ids it used."""
    prov, rng, cl, scheme, seeds = plan.prov, plan.rng, plan.cl, plan.scheme, plan.seeds
    region = _REGIONS[prov.kind]
    n, n_cl = len(cl), len(plan.sizes)
    # ---- file order (PS_ID comes last, from the regencies) and decrees
    order = rng.permutation(n) + 1 + int(rng.integers(0, 50))
    long_form = rng.random() * 0.7 + 0.2  # provinces differ in how they write codes
    use_long = rng.random(n) < long_form
    raw = np.empty(n, dtype=object)
    for s, name in enumerate(_SCHEMES):
        variants = _RAW_CODES[name]
        hit = scheme == s
        if name == "kemitraan":
            pick = np.where(use_long[hit], 0, rng.choice([1, 2], int(hit.sum()), p=[0.7, 0.3]))
        else:
            pick = np.where(use_long[hit], 0, 1)
        raw[hit] = np.array(variants, dtype=object)[pick]

    year = rng.choice(
        np.arange(2010, 2025),
        n,
        p=_norm([1, 1, 1, 1, 1, 2, 4, 8, 10, 9, 7, 7, 6, 5, 4]),
    )
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    tgl = np.array(
        [f"{y}-{mo:02d}-{d:02d}" for y, mo, d in zip(year, month, day, strict=True)],
        dtype="datetime64[D]",
    ).astype("datetime64[ms]")
    num = rng.integers(1000, 9999, n)
    no_sk = [
        f"SK.{k}/Menhut-II/{y}" if y < 2015 else f"SK.{k}/MENLHK-PSKL/PKPS/PSL.0/{mo}/{y}"
        for k, y, mo in zip(num, year, month, strict=True)
    ]

    # ---- administrative names: regencies by nearest centre, districts by landscape
    n_kab = int(rng.integers(6, 16))
    kab_centres = seeds[rng.choice(n, min(n_kab, n), replace=False)]
    n_kab = len(kab_centres)
    kab = cKDTree(kab_centres).query(seeds)[1]
    kab_names = _names(rng, n_kab, _KAB_B)
    kec_cl = _names(rng, n_cl)
    kec = kec_cl[cl].astype(object)
    other = rng.random(n) < 0.2
    kec[other] = _names(rng, int(other.sum()))
    desa = _names(rng, n)

    lembaga = np.empty(n, dtype=object)
    group = _GROUP_NAMES[rng.integers(0, len(_GROUP_NAMES), n)]
    kind = rng.choice(["KTH", "Gapoktanhut", "Koperasi", "KUPS"], n, p=[0.55, 0.2, 0.15, 0.1])
    generic = np.char.add(np.char.add(kind.astype(str), " "), group)
    lembaga[:] = generic
    hd = scheme == _SCHEMES.index("hutan_desa")
    lembaga[hd] = np.char.add("LPHD ", np.char.title(desa[hd]))
    ha = scheme == _SCHEMES.index("hutan_adat")
    lembaga[ha] = np.char.add("Masyarakat Hukum Adat ", np.char.title(desa[ha]))

    # ---- decreed area and forest functions
    luas_sk = area_ha * (1 + np.clip(rng.normal(0, 0.012, n), -0.04, 0.04))
    off = rng.random(n) < 0.02
    high = rng.random(n) < 0.5
    luas_sk[off] = area_ha[off] * np.where(
        high[off], rng.uniform(1.12, 1.6, int(off.sum())), rng.uniform(0.55, 0.88, int(off.sum()))
    )
    luas_sk = np.round(luas_sk, 2)
    g = rng.gamma(_FUNCTION_ALPHA[scheme], 1.0)
    share = g / np.maximum(g.sum(1, keepdims=True), 1e-300)
    share[share < 0.03] = 0.0
    empty = share.sum(1) == 0
    share[empty, 3] = 1.0
    share /= share.sum(1, keepdims=True)
    functions = np.round(share * (luas_sk * rng.uniform(0.985, 1.0, n))[:, None], 2)

    # ---- households
    hh_area = region.ha_per_hh * np.exp(rng.normal(0, 0.5, n))
    hh_area *= np.where(hd | ha, 1.5, 1.0)
    households = np.maximum(5, np.round(luas_sk / hh_area)).astype(np.int64)

    # ---- forest cover 2010 and 2020, peat, mangrove
    c = np.clip(plan.cover[cl], 0.01, 0.99)
    cover = rng.beta(8 * c, 8 * (1 - c))
    f2020 = cover * area_ha
    rate = np.clip(plan.defor[cl] + rng.normal(0, 0.3, n), -0.5, 3.0) / 100.0
    f2010 = np.minimum(f2020 * np.exp(10 * rate), area_ha)
    peat_share = np.where(plan.peat[cl] & (rng.random(n) < 0.75), rng.beta(2.0, 1.5, n), 0.0)
    peat = peat_share * area_ha
    mangrove_share = np.where(
        plan.coastal[cl] & (rng.random(n) < 0.35), rng.uniform(0.05, 0.5, n), 0.0
    )
    mangrove = np.minimum(mangrove_share * area_ha, area_ha - peat)

    facilitator = rng.random(n) < plan.facilitator[cl]
    kups = np.where(rng.random(n) < 0.35, "", _KUPS[rng.choice(4, n, p=[0.5, 0.32, 0.14, 0.04])])

    kode_kab = np.char.add(prov.code, np.char.zfill((kab + 1).astype(str), 2)).astype(object)
    frame = pd.DataFrame(
        {
            "PS_ID": "",  # filled below
            "SKEMA": raw,
            "LEMBAGA": lembaga,
            "NO_SK": np.array(no_sk, dtype=object),
            "TGL_SK": tgl,
            "KODE_PROV": prov.code,
            "NAMA_PROV": prov.name.upper(),
            "KODE_KAB": kode_kab,
            "NAMA_KAB": kab_names[kab].astype(object),
            "NAMA_KEC": kec.astype(object),
            "NAMA_DESA": desa.astype(object),
            "LUAS_SK": luas_sk,
            "Luas_HK": functions[:, 0],
            "LUAS_HL": functions[:, 1],
            "LUAS_HPT": functions[:, 2],
            "LUAS_HP": functions[:, 3],
            "LUAS_HPK": functions[:, 4],
            "Jml_KK": households,
            "forest_ha_2010": np.round(f2010, 2),
            "forest_ha_2020": np.round(f2020, 2),
            "peat_ha": np.round(peat, 2),
            "mangrove_ha": np.round(mangrove, 2),
            "facilitator": facilitator,
            "kups_class": kups.astype(object),
        }
    )

    # Integrated Area Development landscapes: whole clusters, larger ones likelier
    iad = np.full(n, "", dtype=object)
    multi = np.flatnonzero(plan.sizes > 1)
    used = min(n_iad, len(multi))
    if used:
        p = plan.sizes[multi] / plan.sizes[multi].sum()
        chosen = rng.choice(multi, used, replace=False, p=p)
        lookup = np.full(n_cl, -1)
        lookup[chosen] = np.arange(used)
        hit = lookup[cl] >= 0
        labels = np.array([f"IAD-{iad_start + i:02d}" for i in range(used)], dtype=object)
        iad[hit] = labels[lookup[cl][hit]]
        # programmes bring facilitators to their landscapes
        frame["facilitator"] = frame["facilitator"].to_numpy() | (hit & (rng.random(n) < 0.5))
    frame["landscape_id"] = iad
    # ---- the keys of real exports: PS_ID no key, a few decrees shared
    frame["PS_ID"] = _ps_ids(kode_kab, cl, rng)
    _share_decrees(frame, kode_kab, rng)
    frame["_order"] = order
    return frame, used


def _ps_ids(kode_kab: np.ndarray, cl: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``PS_ID`` as in real exports: ``"0"`` or regency code + two-digit sequence, shared.

    About ``_PS_ID_ZERO`` of the permits get ``"0"``. The others, taken per
    regency in landscape order, are cut into runs of neighbouring permits at
    random places, ``_PS_ID_SHARE`` permits per run on average (at most 99 runs
    in a regency); run ``k`` is ``KODE_KAB`` followed by ``k`` on two digits.
    """
    n = len(kode_kab)
    ids = np.full(n, "0", dtype=object)
    coded = rng.random(n) >= _PS_ID_ZERO
    kab = np.unique(kode_kab.astype(str), return_inverse=True)[1]
    order = np.lexsort((rng.random(n), cl, kab))
    order = order[coded[order]]
    if len(order) == 0:
        return ids
    kabs = kode_kab[order]
    starts = np.flatnonzero(np.r_[True, kab[order][1:] != kab[order][:-1]])
    for start, end in zip(starts, [*starts[1:], len(order)], strict=True):
        m = int(end - start)
        runs = int(np.clip(round(m / _PS_ID_SHARE), 1, min(m, 99)))
        first = np.zeros(m, dtype=np.int64)
        first[rng.choice(np.arange(1, m), runs - 1, replace=False)] = 1
        run = np.cumsum(first) + 1
        ids[order[start:end]] = [f"{kabs[start]}{k:02d}" for k in run]
    return ids


def _share_decrees(frame: pd.DataFrame, kode_kab: np.ndarray, rng: np.random.Generator) -> None:
    """Give about ``_NO_SK_REPEAT`` of the permits another permit's decree (number and date).

    The other permit is in the same regency when one is free; a permit that
    passes its decree on keeps it. A number drawn twice by chance is one decree
    too: all its permits get the date of the first.
    """
    n = len(frame)
    k = round(_NO_SK_REPEAT * n) if n >= 2 else 0
    copies = rng.choice(n, k, replace=False)
    free = np.ones(n, dtype=bool)
    free[copies] = False
    source = np.empty(k, dtype=np.int64)
    for j, i in enumerate(copies):
        pool = np.flatnonzero(free & (kode_kab == kode_kab[i]))
        if len(pool) == 0:
            pool = np.flatnonzero(free)
        source[j] = pool[rng.integers(0, len(pool))]
    for col in ("NO_SK", "TGL_SK"):
        values = frame[col].to_numpy().copy()
        values[copies] = values[source]
        frame[col] = values
    frame["TGL_SK"] = frame.groupby("NO_SK", sort=False)["TGL_SK"].transform("first")


def _oversize(frame: pd.DataFrame, area_ha: np.ndarray, rng: np.random.Generator) -> None:
    """Make about ``_OVERSIZE`` of the permits' polygons several times their decreed area.

    As in the real export where a 1,398 ha polygon carries a 255 ha decree:
    ``LUAS_SK`` and the forest-function areas are divided by a factor of 3.5-6
    and households scaled with them. Only permits of 300 ha or more whose
    decreed area was within 5% of the polygon's are picked, so the polygon ends
    up 3.3-6.3 times the decree.
    """
    luas = frame["LUAS_SK"].to_numpy()
    close = np.abs(luas / area_ha - 1) <= 0.05
    eligible = np.flatnonzero(close & (area_ha >= 300.0))
    k = min(len(eligible), _count(len(frame), _OVERSIZE))
    if k == 0:
        return
    pick = np.sort(rng.choice(eligible, k, replace=False))
    factor = rng.uniform(*_OVERSIZE_FACTOR, k)
    frame.loc[pick, "LUAS_SK"] = np.round(luas[pick] / factor, 2)
    for col in _FUNCTION_COLUMNS:
        frame.loc[pick, col] = np.round(frame.loc[pick, col].to_numpy() / factor, 2)
    households = frame.loc[pick, "Jml_KK"].to_numpy() / factor
    frame.loc[pick, "Jml_KK"] = np.maximum(5, np.round(households)).astype(np.int64)
