"""``map.png``, and what it shares with the report's interactive map.

Both maps take their extent, margin and scale bar from one :class:`MapFrame`,
their colours from :func:`bundle_colors` and the constants below, so the image
and the page show the same picture. ``map.png`` is drawn with matplotlib (Agg),
1600 px wide, deterministic (fixed colour cycle, no dates in the metadata).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import withStroke

from bundler.text import natural_key

# tab20 without its two greys (which would read as "not selected"), strong
# hues first so that the first nine bundles never share a hue.
_TAB20_ORDER = (0, 2, 4, 6, 8, 10, 12, 16, 18, 1, 3, 5, 7, 9, 11, 13, 17, 19)
UNSELECTED_FILL = "#d9d9d9"
UNSELECTED_EDGE = "#969696"
# A colour used nowhere else in the page, so a screenshot can find the map.
MAP_BACKGROUND = "#f4f8fb"
BUNDLE_OUTLINE = "#303030"
MAP_PNG_WIDTH_PX = 1600
PNG_DPI = 100
# legends list at most this many bundles
MAX_LEGEND = 20


def bundle_colors(bundle_ids: Iterable[str]) -> dict[str, str]:
    """A fixed colour per bundle: ids in natural order take the colour cycle in turn.

    Parameters
    ----------
    bundle_ids : iterable of str

    Returns
    -------
    dict of str to str
        Bundle id -> ``#rrggbb``.
    """
    cmap = mpl.colormaps["tab20"]
    cycle = [mpl.colors.to_hex(cmap(i)) for i in _TAB20_ORDER]
    ids = sorted({str(b) for b in bundle_ids}, key=natural_key)
    return {b: cycle[i % len(cycle)] for i, b in enumerate(ids)}


# ---------------------------------------------------------------- both maps


@dataclass(frozen=True)
class ScaleBar:
    """A scale bar: a round length in metres, its length in map units and its label."""

    length_m: float
    length: float
    label: str


@dataclass(frozen=True)
class MapFrame:
    """What ``map.png`` and the HTML map share: extent drawn, margin and scale bar.

    Attributes
    ----------
    minx, miny, maxx, maxy : float
        The units' and bundles' bounds, in map units.
    w, h : float
        Width and height of those bounds, at least 1 map unit.
    pad : float
        Margin around the bounds: 2% of the longer side. The scale bar goes
        below the bounds, its left end at ``minx``.
    bar : ScaleBar or None
        None when the CRS is not projected (no scale bar).
    """

    minx: float
    miny: float
    maxx: float
    maxy: float
    w: float
    h: float
    pad: float
    bar: ScaleBar | None


def map_frame(units: gpd.GeoDataFrame, bundles: gpd.GeoDataFrame) -> MapFrame:
    """The frame of both maps (see :class:`MapFrame`)."""
    minx, miny, maxx, maxy = extent(units, bundles)
    w, h = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
    return MapFrame(minx, miny, maxx, maxy, w, h, 0.02 * max(w, h), scale_bar(units.crs, w))


def scale_bar(crs, width: float) -> ScaleBar | None:
    """A scale bar of a round length (1, 2 or 5 times a power of ten metres) about a
    fifth of ``width`` (map units), or None when ``crs`` is not projected."""
    to_m = metres_per_unit(crs)
    if to_m is None:
        return None
    length_m = _nice_length(width * to_m / 5)
    return ScaleBar(length_m, length_m / to_m, _length_label(length_m))


# ---------------------------------------------------------------- map.png


def map_figure(
    units: gpd.GeoDataFrame, bundles: gpd.GeoDataFrame, colors: dict[str, str]
) -> Figure:
    """The map as a matplotlib figure (Agg canvas), 1600 px wide at its dpi.

    Parameters
    ----------
    units, bundles : GeoDataFrame
        As for :func:`write_report`.
    colors : dict of str to str
        Bundle id -> colour, from :func:`bundle_colors`.

    Returns
    -------
    Figure
    """
    frame = map_frame(units, bundles)
    minx, miny, maxx, maxy = frame.minx, frame.miny, frame.maxx, frame.maxy
    w, h, pad = frame.w, frame.h, frame.pad
    width_in = MAP_PNG_WIDTH_PX / PNG_DPI
    # the map takes 80% of the width (the legend the rest) and 90% of the height
    height_in = float(np.clip(width_in * 0.8 * h / w / 0.9, 6.0, 20.0))
    fig = Figure(figsize=(width_in, height_in), dpi=PNG_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.02, 0.8, 0.9))
    ax.set_axis_off()
    ax.set_aspect("equal", adjustable="box")
    bid = units["bundle_id"].fillna("").astype(str).to_numpy()
    selected = bid != ""
    geoms = units.geometry.to_numpy()
    if (~selected).any():
        ax.add_collection(
            PathCollection(
                [_mpl_path(g) for g in geoms[~selected]],
                facecolors=UNSELECTED_FILL,
                edgecolors=UNSELECTED_EDGE,
                linewidths=0.4,
            )
        )
    if selected.any():
        ax.add_collection(
            PathCollection(
                [_mpl_path(g) for g in geoms[selected]],
                facecolors=[colors.get(b, UNSELECTED_FILL) for b in bid[selected]],
                edgecolors="white",
                linewidths=0.3,
            )
        )
    if len(bundles):
        ax.add_collection(
            PathCollection(
                [_mpl_path(g) for g in bundles.geometry.to_numpy()],
                facecolors="none",
                edgecolors=BUNDLE_OUTLINE,
                linewidths=1.0,
            )
        )
        for b, pt in label_points(bundles):
            ax.text(
                pt.x,
                pt.y,
                b,
                ha="center",
                va="center",
                fontsize=9,
                fontweight="bold",
                path_effects=[withStroke(linewidth=3, foreground="white")],
            )
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - 4 * pad, maxy + pad)  # room below for the scale bar
    if not len(units):
        ax.text(0.5, 0.5, "No units", transform=ax.transAxes, ha="center", fontsize=14)
    if frame.bar is not None:
        _draw_scale_bar(ax, frame.bar, minx, miny - pad * 3, pad)
    handles = [
        Patch(facecolor=c, edgecolor=BUNDLE_OUTLINE, label=b)
        for b, c in list(colors.items())[:MAX_LEGEND]
    ]
    if len(colors) > MAX_LEGEND:
        handles.append(Patch(color="none", label=f"… and {len(colors) - MAX_LEGEND} more"))
    handles.append(
        Patch(facecolor=UNSELECTED_FILL, edgecolor=UNSELECTED_EDGE, label="not selected")
    )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=9,
        frameon=True,
        title="Bundles",
    )
    title = f"{len(colors)} bundle(s), {int(selected.sum())} of {len(units)} units selected"
    fig.suptitle(title, fontsize=14, y=0.98)
    return fig


def _mpl_path(geom) -> MplPath:
    """A compound matplotlib path (holes included) for a (multi)polygon."""
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for ring in rings(geom):
        xy = np.asarray(ring.coords)[:, :2]
        if len(xy) < 3:
            continue
        c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
        c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
        verts.append(xy)
        codes.append(c)
    if not verts:
        return MplPath(np.zeros((1, 2)), [MplPath.MOVETO])
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _draw_scale_bar(ax, bar: ScaleBar, x0: float, y0: float, pad: float) -> None:
    """``bar`` from ``(x0, y0)`` rightwards (map units), its label just above."""
    ax.plot(
        [x0, x0 + bar.length],
        [y0, y0],
        color="black",
        linewidth=3,
        solid_capstyle="butt",
    )
    ax.text(
        x0 + bar.length / 2,
        y0 + pad * 0.3,
        bar.label,
        ha="center",
        va="bottom",
        fontsize=9,
    )


def extent(units: gpd.GeoDataFrame, bundles: gpd.GeoDataFrame) -> tuple[float, ...]:
    """``(minx, miny, maxx, maxy)`` of the units and bundles; a unit square when empty."""
    boxes = [f.total_bounds for f in (units, bundles) if len(f)]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return (0.0, 0.0, 1.0, 1.0)
    b = np.array(boxes)
    return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())


def rings(geom) -> list:
    """The exterior and interior rings of a (multi)polygon, in order."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, shapely.Polygon):
        return [geom.exterior, *geom.interiors]
    if hasattr(geom, "geoms"):
        return [r for g in geom.geoms for r in rings(g)]
    return []


def label_points(bundles: gpd.GeoDataFrame) -> list[tuple[str, shapely.Point]]:
    """``(bundle id, a point inside it)`` for every bundle with a geometry."""
    return [
        (str(b), g.representative_point())
        for b, g in zip(bundles["bundle_id"], bundles.geometry, strict=True)
        if g is not None and not g.is_empty
    ]


def metres_per_unit(crs) -> float | None:
    """Metres in one map unit, or None when the CRS is not projected (no scale bar)."""
    if crs is None or not crs.is_projected or not crs.axis_info:
        return None
    factor = crs.axis_info[0].unit_conversion_factor
    return float(factor) if factor else None


def _nice_length(x: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``x`` (at least 1 m)."""
    if not x > 1:
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


def _length_label(m: float) -> str:
    return f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"
