"""No-go layers: recorded tenure conflicts, concessions and other areas a project must avoid.

A layer is any vector file GDAL reads (or GeoParquet) of polygons, points or both. It is
read once, its geometry made 2-D, reprojected to the units' working CRS and repaired
(invalid polygons through ``make_valid``); features without geometry are skipped. A file
that is missing or unreadable, has no CRS, holds lines or has no geometry at all is one
:class:`~bundler.errors.InputError` naming the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from bundler.config.scenario import ExclusionLayer
from bundler.errors import InputError
from bundler.input.crs import check_coordinates
from bundler.input.reading import read_layer

# shapely type ids
_POINTS = (0, 4)  # Point, MultiPoint
_POLYGONS = (3, 6)  # Polygon, MultiPolygon
_LINES = (1, 2, 5)  # LineString, LinearRing, MultiLineString
_COLLECTION = 7


@dataclass
class NoGoLayer:
    """One exclusion layer, ready to intersect with the units.

    Attributes
    ----------
    label : str
        The name the units' reasons give it (its ``label``, else the file's stem).
    path : str
    sha256 : str
        Of the file (of every file beside a shapefile with its stem).
    features : int
        Features in the file, with or without geometry.
    polygons, points : ndarray of shapely geometries
        Valid polygons and single points, in the units' working CRS.
    warnings : list of str
    """

    label: str
    path: str
    sha256: str
    features: int
    polygons: np.ndarray
    points: np.ndarray
    warnings: list[str] = field(default_factory=list)

    def record(self) -> dict:
        """What ``run.json`` says of it (``units_excluded`` is added once it is applied)."""
        return {
            "label": self.label,
            "path": self.path,
            "sha256": self.sha256,
            "features": self.features,
            "polygons": len(self.polygons),
            "points": len(self.points),
        }


def exclusion_option(text: str) -> ExclusionLayer:
    """``--exclude FILE[:LABEL]`` as a layer of ``[safeguards] exclude``.

    The text after the last ``:`` is the label when it holds no path separator and the
    whole text is not itself an existing file (so ``C:\\maps\\konflik.gpkg`` stays a
    path). Without a label the file's stem is used when the layer is read.

    Examples
    --------
    >>> exclusion_option("data/konflik.gpkg:tenure conflicts")
    ExclusionLayer(path='data/konflik.gpkg', label='tenure conflicts')
    >>> exclusion_option("data/konflik.gpkg")
    ExclusionLayer(path='data/konflik.gpkg', label='')
    """
    text = text.strip()
    head, sep, tail = text.rpartition(":")
    if sep and head and not Path(text).exists() and not any(c in tail for c in "/\\"):
        return ExclusionLayer(path=head.strip(), label=tail.strip())
    return ExclusionLayer(path=text, label="")


def read_no_go_layers(specs: Sequence[ExclusionLayer], crs) -> list[NoGoLayer]:
    """Read every layer of ``specs`` into the working CRS ``crs``.

    Raises
    ------
    InputError
        For a layer without a path, a file that cannot be used (see the module's
        docstring), or two layers with the same label.
    """
    layers = [read_no_go_layer(spec, crs, k) for k, spec in enumerate(specs)]
    seen: dict[str, str] = {}
    for layer in layers:
        if layer.label in seen:
            raise InputError(
                f"exclusion layers {seen[layer.label]} and {layer.path} are both labelled "
                f"{layer.label!r}; give each its own label (--exclude FILE:LABEL, or label "
                "in the scenario's [safeguards] exclude)"
            )
        seen[layer.label] = layer.path
    return layers


def read_no_go_layer(spec: ExclusionLayer, crs, position: int = 0) -> NoGoLayer:
    """Read one exclusion layer into the working CRS ``crs`` (see the module's docstring)."""
    if not spec.path.strip():
        raise InputError(
            f"safeguards.exclude[{position}]: no path; give the file of the exclusion layer"
        )
    path = Path(spec.path).expanduser()
    label = spec.label.strip() or path.stem
    try:
        raw = read_layer(path)
    except InputError as exc:
        raise InputError(f"exclusion layer {exc}") from None
    where = f"exclusion layer {path}"
    geoms = shapely.force_2d(np.asarray(raw.geometry.values, dtype=object))
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not usable.any():
        raise InputError(f"{where}: no feature has a geometry")
    if raw.crs is None:
        raise InputError(
            f"{where}: the layer has no CRS (no .prj or SRS); save it with its coordinate "
            "reference system, e.g. ogr2ogr -a_srs EPSG:4326 fixed.gpkg "
            f"{path.name}"
        )
    problems = check_coordinates(shapely.total_bounds(geoms[usable]), raw.crs, where)
    if problems:
        raise InputError(problems[0])
    warnings = []
    if not usable.all():
        warnings.append(f"{where}: skipped {int((~usable).sum())} feature(s) without geometry")
    parts = shapely.get_parts(geoms[usable])
    kinds = shapely.get_type_id(parts)
    while (kinds == _COLLECTION).any():  # collections nest: take them apart
        parts = shapely.get_parts(parts)
        kinds = shapely.get_type_id(parts)
    lines = np.isin(kinds, _LINES)
    if lines.any():
        raise InputError(
            f"{where}: holds lines ({int(lines.sum())} of {len(parts)} parts); an exclusion "
            "layer holds polygons (no-go areas) or points (recorded conflicts)"
        )
    projected = gpd.GeoSeries(parts, crs=raw.crs).to_crs(crs).to_numpy()
    polygons = projected[np.isin(kinds, _POLYGONS)]
    points = projected[np.isin(kinds, _POINTS)]
    polygons, repaired = _valid_polygons(polygons)
    if repaired:
        warnings.append(f"{where}: repaired {repaired} invalid polygon(s)")
    if not len(polygons) and not len(points):
        raise InputError(f"{where}: no polygon or point is left after repair")
    return NoGoLayer(
        label=label,
        path=str(spec.path),
        sha256=file_sha256(path),
        features=len(raw),
        polygons=polygons,
        points=points,
        warnings=warnings,
    )


def _valid_polygons(polygons: np.ndarray) -> tuple[np.ndarray, int]:
    """Valid, non-empty polygons from ``polygons`` and how many needed repair."""
    invalid = ~shapely.is_valid(polygons)
    if invalid.any():
        fixed = shapely.make_valid(polygons[invalid])
        # keep the polygonal parts of what make_valid returns (it may add lines or points)
        pieces = shapely.get_parts(fixed)
        keep = np.isin(shapely.get_type_id(pieces), _POLYGONS)
        polygons = np.concatenate([polygons[~invalid], pieces[keep]])
    polygons = polygons[~shapely.is_empty(polygons)]
    return polygons, int(invalid.sum())


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, of a shapefile and every file beside it with its stem, or of
    every file in a folder (a FileGDB)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
    elif p.suffix.lower() == ".shp":
        files = sorted(p.parent.glob(p.stem + ".*"))
    else:
        files = [p]
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()
