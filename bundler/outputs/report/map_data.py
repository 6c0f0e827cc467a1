"""The interactive map's data: one JSON object that ``templates/map.js`` draws as SVG.

Geometry
    Units, bundle outlines and district outlines are simplified with shapely's
    ``simplify`` (topology preserved) and snapped to an integer grid of
    :data:`DETAIL` steps across the longer side of the frame ``map.png`` also
    uses (:func:`~bundler.outputs.report.static_map.map_frame`), y pointing
    down. Each ring is SVG path data with relative moves,
    ``M<x> <y>l<dx> <dy> ... z``, which the browser parses itself.
Tolerance
    The map opens about 1,000 px across, so ``extent / 2000`` is half a pixel.
    Bundles and their units are simplified to one grid step, ``extent /
    DETAIL`` (half a pixel at 8x zoom); so is every unit of a map of up to
    :data:`COARSE_ABOVE` units. In a larger map (a national report) the units
    in no bundle, most of its bytes, and the district outlines are context:
    simplified to :data:`CONTEXT_SCALE` steps (half a pixel at 2x zoom) and
    written in units of that many steps, which the script scales back.
Attributes
    Only what the panels show: a bundle's figures, already formatted as in the
    report's tables, and its benefit shares; a unit's id, reason and scores as
    integers (fixed decimals) with categories as indices into short lists.

Every user-visible word of the map (labels, buttons, messages) lives in the
template, not here: this module sends ids, keys and numbers (the figures
formatted for the page's language).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bundler.i18n.catalogue import translator
from bundler.outputs.report.cells import fmt_cell, fmt_num, is_number
from bundler.outputs.report.static_map import (
    UNSELECTED_FILL,
    MapFrame,
    label_points,
    metres_per_unit,
)

DETAIL = 16_000
CONTEXT_SCALE = 4
COARSE_ABOVE = 20_000
# a district's outline closes gaps between its units up to twice this (metres)
DISTRICT_GAP_M = 1_000.0

# bundle figures the panel shows, in this order, when the bundles layer has them
BUNDLE_FIELDS = (
    "n_units",
    "area_ha",
    "credits_tco2e_yr",
    "npv_usd",
    "cost_per_tco2e",
    "main_intervention",
    "start_year",
    "priority_rank",
    "province_rank",
    "province_code",
)
# unit scores the panel shows: column -> decimals (None: a category)
UNIT_FIELDS = {
    "area_ha": 0,
    "typology": None,
    "intervention": None,
    "potential_tco2e_yr": 0,
    "additionality": 2,
    "readiness": 2,
}
# a unit excluded before planning carries this boolean column (drawn as its own layer)
EXCLUDED_COLUMN = "excluded"


@dataclass(frozen=True)
class Grid:
    """The integer grid the map's coordinates are snapped to.

    Attributes
    ----------
    x0, y0 : float
        Map coordinates of the grid's origin: the frame's top-left corner.
    step : float
        Map units per grid step.
    width, height : int
        The frame in steps.
    metres_per_step : float or None
        None when the CRS is not projected (the map then has no scale bar).
    """

    x0: float
    y0: float
    step: float
    width: int
    height: int
    metres_per_step: float | None

    def snap(self, xy: np.ndarray, scale: int = 1) -> np.ndarray:
        """Map coordinates ``(n, 2)`` -> integer coordinates ``(n, 2)`` in units of
        ``scale`` steps, y down."""
        gx = (xy[:, 0] - self.x0) / (self.step * scale)
        gy = (self.y0 - xy[:, 1]) / (self.step * scale)
        return np.rint(np.column_stack([gx, gy])).astype(np.int64)


def map_grid(frame: MapFrame, crs) -> Grid:
    """The grid over ``frame`` (its bounds plus its margin on every side)."""
    w, h = frame.w + 2 * frame.pad, frame.h + 2 * frame.pad
    step = max(w, h) / DETAIL
    to_m = metres_per_unit(crs)
    return Grid(
        frame.minx - frame.pad,
        frame.maxy + frame.pad,
        step,
        math.ceil(w / step),
        math.ceil(h / step),
        None if to_m is None else step * to_m,
    )


def map_data(
    units: gpd.GeoDataFrame,
    bundles: gpd.GeoDataFrame,
    colors: dict[str, str],
    frame: MapFrame,
    sharing: pd.DataFrame | None = None,
    lang: str = "en",
) -> dict:
    """Everything the interactive map draws and shows, as plain JSON-ready values.

    Parameters
    ----------
    units, bundles : GeoDataFrame
        As for :func:`bundler.outputs.report.page.write_report`.
    colors : dict of str to str
        Bundle id -> colour.
    frame : MapFrame
        The frame shared with ``map.png``.
    sharing : DataFrame, optional
        The benefit-sharing table (``bundle_id``, ``party``, ``amount_usd``,
        ``share``); each bundle's panel then shows its shares by party.
    lang : str
        The language (:mod:`bundler.i18n`) whose locale the figures are written in.

    Returns
    -------
    dict
        ``grid`` (``[width, height]`` in steps), ``step_m`` (metres per step or
        None), ``context_scale`` (steps per unit of the context paths),
        ``bundles`` (``id``, ``color``, ``d`` outline, ``at`` label point,
        ``box`` extent, ``members`` unit indices, ``fields`` and ``fig``
        formatted figures, ``shares``), ``units`` (``id``, ``d``, ``reason``
        index, ``excluded`` indices, ``fields``, ``values``, ``cats``),
        ``reasons`` and ``districts`` (context path data).
    """
    grid = map_grid(frame, units.crs)
    n = len(units)
    uid = units["unit_id"].astype(str).tolist() if n else []
    bid = units["bundle_id"].fillna("").astype(str).to_numpy() if n else np.array([], dtype=str)
    excluded = _excluded(units) & (bid == "")
    # units whose bundle has no row in `bundles` keep a figure-less entry, so none vanishes
    order = list(colors) + sorted(set(bid[bid != ""]) - set(colors))
    index = {b: i for i, b in enumerate(order)}
    members: list[list[int]] = [[] for _ in order]
    for i in np.flatnonzero(bid != ""):
        members[index[bid[i]]].append(int(i))

    scale = CONTEXT_SCALE if n > COARSE_ABOVE else 1
    geoms = units.geometry.to_numpy() if n else np.array([], dtype=object)
    shown = np.empty(n, dtype=object)  # each unit as drawn, simplified
    paths = np.array([""] * n, dtype=object)
    context = bid == ""
    for mask, s in ((~context, 1), (context, scale)):
        if mask.any():
            shown[mask] = shapely.simplify(geoms[mask], grid.step * s, preserve_topology=True)
            paths[mask] = path_data(shown[mask], grid, s)

    reasons, reason_idx = _categories(
        units["reason"] if "reason" in units else pd.Series([""] * n, dtype=object)
    )
    return {
        "grid": [grid.width, grid.height],
        "step_m": grid.metres_per_step,
        "context_scale": scale,
        "unit_size": _typical_size(geoms, grid),
        "bundles": _bundles_data(
            bundles, order, colors, members, shapely.bounds(geoms), grid, sharing, lang
        ),
        "units": {
            "id": uid,
            "d": paths.tolist(),
            "reason": reason_idx,
            "excluded": np.flatnonzero(excluded).tolist(),
            **_unit_fields(units),
        },
        "reasons": reasons,
        "districts": district_outlines(units, shown, grid, scale),
    }


def map_layers(data: dict) -> dict[str, int]:
    """How many things each switchable layer of :func:`map_data`'s map holds.

    ``bundles``, ``unselected`` (units in no bundle and not excluded),
    ``excluded`` and ``districts``; the page offers a switch only for a layer
    that is not empty.
    """
    units = data["units"]
    in_bundles = sum(len(m) for m in data["bundles"]["members"])
    excluded = len(units["excluded"])
    return {
        "bundles": len(data["bundles"]["id"]),
        "unselected": len(units["id"]) - in_bundles - excluded,
        "excluded": excluded,
        "districts": len(data["districts"]),
    }


def map_json(data: dict) -> str:
    """``data`` as compact JSON that is safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c`` ... so no text (an id, a
    reason) can close the element or open a comment.
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def path_data(geoms: Sequence, grid: Grid, scale: int = 1) -> list[str]:
    """SVG path data per (multi)polygon, already simplified: on the grid, relative moves.

    Parameters
    ----------
    geoms : sequence of shapely geometries
    grid : Grid
    scale : int
        Write coordinates in units of this many grid steps.

    Returns
    -------
    list of str
        One string per geometry. A ring that keeps fewer than three distinct
        grid points is dropped; a geometry left with no ring becomes a one-unit
        square at its first vertex, so a tiny unit can still be found and
        zoomed to. Missing or empty geometries give ``""``.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = [""] * len(geoms)
    if not len(geoms):
        return out
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if not len(xy):
        return out
    g = grid.snap(xy, scale)
    coord_owner = part_owner[ring_part[coord_ring]]
    owners, first = np.unique(coord_owner, return_index=True)
    fallback = dict(zip(owners.tolist(), g[first].tolist(), strict=True))
    same_ring = np.r_[coord_ring[1:] == coord_ring[:-1], False]
    # a ring's closing vertex (z closes it) and repeats on the grid carry nothing
    repeat = np.r_[False, same_ring[:-1] & (g[1:] == g[:-1]).all(axis=1)]
    keep = same_ring & ~repeat
    g, coord_ring, coord_owner = g[keep], coord_ring[keep], coord_owner[keep]
    starts = np.flatnonzero(np.r_[True, coord_ring[1:] != coord_ring[:-1]])
    ends = np.r_[starts[1:], len(g)]
    delta = g.copy()
    delta[1:] -= g[:-1]
    moves, points = delta.ravel().tolist(), g.ravel().tolist()
    pieces: dict[int, list[str]] = {}
    for a, b, u in zip(starts.tolist(), ends.tolist(), coord_owner[starts].tolist(), strict=True):
        if b - a < 3:
            continue
        rel = " ".join(map(str, moves[2 * a + 2 : 2 * b])).replace(" -", "-")
        pieces.setdefault(u, []).append(f"M{points[2 * a]} {points[2 * a + 1]}l{rel}z")
    for u, (x, y) in fallback.items():
        out[u] = "".join(pieces[u]) if u in pieces else f"M{x} {y}h1v1h-1z"
    return out


def district_outlines(
    units: gpd.GeoDataFrame, shown: np.ndarray, grid: Grid, scale: int
) -> list[str]:
    """Outlines of the districts (kabupaten) the units lie in, as path data.

    There is no district layer in the input, so each district is drawn as the
    outline of its own units, dissolved after closing the gaps between them
    (a buffer out and back in by :data:`DISTRICT_GAP_M`, or 8 units of
    ``scale`` steps if more, or without a projected CRS) and simplified like
    the context. Districts are told apart by ``district_code`` when the
    layer has it, else by ``district``, within their ``province_code``. An
    empty list when the layer has neither column (or no values in it).

    Parameters
    ----------
    units : GeoDataFrame
    shown : ndarray of shapely geometries
        The units as drawn (simplified): the outline is context, not a boundary,
        so it is built from them rather than from the full geometry.
    grid : Grid
    scale : int
        Grid steps per unit of the outlines' coordinates (and their tolerance).

    Returns
    -------
    list of str
    """
    key = next(
        (
            c
            for c in ("district_code", "district")
            if c in units and units[c].fillna("").astype(str).str.strip().ne("").any()
        ),
        None,
    )
    if key is None or not len(units):
        return []
    names = units[key].fillna("").astype(str).str.strip()
    if "province_code" in units:
        names = units["province_code"].fillna("").astype(str) + "/" + names
    has = (names.str.len() > 0).to_numpy() & ~shapely.is_missing(shown)
    tolerance = grid.step * scale
    close = 8 * tolerance
    if grid.metres_per_step:  # units within the default neighbour gap (1 km) join up
        close = max(close, DISTRICT_GAP_M / grid.metres_per_step * grid.step)
    grown = shapely.buffer(shown[has], close, quad_segs=2)
    frame = gpd.GeoDataFrame({"k": names.to_numpy()[has]}, geometry=grown, crs=units.crs)
    dissolved = frame.dissolve("k", sort=True).geometry.to_numpy()
    shrunk = shapely.buffer(dissolved, -close, quad_segs=2)
    outline = shapely.simplify(shrunk, tolerance, preserve_topology=True)
    return [d for d in path_data(outline, grid, scale) if d]


def _bundles_data(
    bundles: gpd.GeoDataFrame,
    order: list[str],
    colors: dict[str, str],
    members: list[list[int]],
    unit_bounds: np.ndarray,
    grid: Grid,
    sharing: pd.DataFrame | None,
    lang: str,
) -> dict:
    """The bundles' part of :func:`map_data`, in ``order`` (colours' order, then orphans)."""
    rows = {}
    if len(bundles):
        ids = bundles["bundle_id"].astype(str).tolist()
        rows = dict(zip(ids, range(len(ids)), strict=True))
    outlines = []
    if len(bundles):
        geoms = bundles.geometry.to_numpy()
        outlines = path_data(shapely.simplify(geoms, grid.step, preserve_topology=True), grid)
    at = {}
    for b, pt in label_points(bundles) if len(bundles) else []:
        ((x, y),) = grid.snap(np.array([[pt.x, pt.y]])).tolist()
        at[b] = [x, y]
    # the box a search or a table link zooms to: the bundle's, else its units'
    bounds = shapely.bounds(bundles.geometry.to_numpy()) if len(bundles) else None
    boxes = []
    for b, m in zip(order, members, strict=True):
        box = bounds[rows[b]] if b in rows else np.nan
        if not np.isfinite(box).all() and m:
            own = unit_bounds[m]
            box = np.r_[np.nanmin(own[:, :2], axis=0), np.nanmax(own[:, 2:], axis=0)]
        if np.isfinite(box).all():
            (x0, y0), (x1, y1) = grid.snap(np.array([[box[0], box[3]], [box[2], box[1]]])).tolist()
            boxes.append([x0, y0, x1, y1])
        else:
            boxes.append(None)
    fields = [f for f in BUNDLE_FIELDS if f in bundles.columns]
    figures = []
    for b in order:
        if b not in rows:
            figures.append([""] * len(fields))
            continue
        rec = bundles.iloc[rows[b]]
        figures.append(
            [fmt_num(rec[f], lang) if is_number(rec[f]) else fmt_cell(rec[f]) for f in fields]
        )
    return {
        "id": order,
        "color": [colors.get(b, UNSELECTED_FILL) for b in order],
        "d": [outlines[rows[b]] if b in rows else "" for b in order],
        "at": [at.get(b) for b in order],
        "box": boxes,
        "members": members,
        "fields": fields,
        "fig": figures,
        "shares": _shares(sharing, order, lang),
    }


def _shares(sharing: pd.DataFrame | None, order: list[str], lang: str) -> list[list[list[str]]]:
    """Per bundle: ``[party, amount (USD), share (%)]`` rows, the units' rows summed as one.

    Parties keep the table's order; empty lists without a sharing table.
    """
    out: list[list[list[str]]] = [[] for _ in order]
    if sharing is None or not len(sharing) or not {"bundle_id", "party"} <= set(sharing):
        return out
    where = {b: i for i, b in enumerate(order)}
    table = sharing.assign(bundle_id=sharing["bundle_id"].astype(str))
    table = table[table["bundle_id"].isin(where)]
    for (b, party), rows in table.groupby(["bundle_id", "party"], sort=False):
        amount = rows["amount_usd"].sum() if "amount_usd" in rows else float("nan")
        share = rows["share"].sum() if "share" in rows else float("nan")
        out[where[b]].append(
            [
                str(party),
                fmt_num(float(amount), lang) if is_number(amount) else "",
                translator(lang).percent(float(share), 1) if is_number(share) else "",
            ]
        )
    return out


def _categories(values: pd.Series) -> tuple[list[str], list[int]]:
    """Distinct texts (``""`` first, then by first appearance) and each value's index."""
    text = values.fillna("").astype(str)
    codes, uniques = pd.factorize(pd.concat([pd.Series([""]), text], ignore_index=True))
    return [str(u) for u in uniques], codes[1:].tolist()


def _unit_fields(units: gpd.GeoDataFrame) -> dict:
    """``fields`` (``[column, decimals or None]``), ``values`` (one list per field) and
    ``cats`` (a category field's texts) for the columns of :data:`UNIT_FIELDS` present."""
    fields, values, cats = [], [], {}
    for col, digits in UNIT_FIELDS.items():
        if col not in units:
            continue
        if digits is None:
            cats[col], codes = _categories(units[col])
            values.append(codes)
        else:
            num = pd.to_numeric(units[col], errors="coerce").to_numpy(dtype=float)
            scaled = np.rint(num * 10**digits)
            values.append([None if not math.isfinite(v) else int(v) for v in scaled.tolist()])
        fields.append([col, digits])
    return {"fields": fields, "values": values, "cats": cats}


def _excluded(units: gpd.GeoDataFrame) -> np.ndarray:
    """True for units excluded before planning (the optional boolean ``excluded`` column)."""
    if EXCLUDED_COLUMN not in units or not len(units):
        return np.zeros(len(units), dtype=bool)
    return units[EXCLUDED_COLUMN].fillna(False).astype(bool).to_numpy()


def _typical_size(geoms: np.ndarray, grid: Grid) -> float:
    """The median unit's larger side, in grid steps (the script thins strokes below a few px)."""
    if not len(geoms):
        return 0.0
    b = shapely.bounds(geoms)
    side = np.fmax(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    side = side[np.isfinite(side)]
    return round(float(np.median(side)) / grid.step, 1) if len(side) else 0.0
