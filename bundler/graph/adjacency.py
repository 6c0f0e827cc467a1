"""The adjacency graph: which PS units may be bundled together.

Real permit layers are scattered (few units share a border), so neighbourhood is
a distance rule: two units are neighbours when the gap between their boundaries
is at most ``max_gap_m`` metres, optionally also when they share a landscape id.
Candidate pairs come from a spatial index, and every per-pair measure is computed
with shapely's vectorised array functions, so a layer of 100,000 units builds in
seconds rather than the hours an all-pairs loop would take.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from bundler.geometry import area_ha

__all__ = ["EDGE_COLUMNS", "GraphSummary", "build_adjacency", "edges_frame", "graph_summary"]

#: Columns of :func:`edges_frame`, in order.
EDGE_COLUMNS = ("unit_a", "unit_b", "gap_m", "shared_border_m", "spatial", "landscape")

#: Geometries per spatial-index query; also the granularity of the progress callback.
CHUNK = 10_000

#: Boundaries closer than this (metres) count as one shared border. Reprojection
#: alone bends straight edges by millimetres (a T-junction 1 km long in UTM ends up
#: about 0.3 mm apart in an equal-area CRS), which would otherwise turn a shared
#: border into a few crossing points; 1 cm is far below the digitising accuracy
#: of permit boundaries.
BORDER_SNAP_M = 0.01

#: Boundaries this close count as touching. Reprojection bends straight edges
#: between vertices, so units that share a border in the source CRS end up
#: millimetres to centimetres apart in the working CRS; half a metre is far below
#: the accuracy of permit boundaries and absorbs that noise. The gap rule is
#: therefore ``distance <= max_gap_m + TOUCH_TOLERANCE_M`` (the verifier uses it too).
TOUCH_TOLERANCE_M = 0.5

_METRE_NAMES = {"metre", "meter", "metres", "meters", "m"}


@dataclass(frozen=True)
class GraphSummary:
    """Counts describing an adjacency graph (see :func:`graph_summary`).

    Attributes
    ----------
    n_units : int
        Nodes, isolated units included.
    n_edges : int
        Neighbour pairs.
    n_components : int
        Connected groups (an isolated unit is a group of one).
    component_sizes : list of int
        Units per connected group, largest first.
    isolated : list of str
        ``unit_id`` of the units without any neighbour, sorted.
    largest_component_size : int
        Units in the largest group (0 for an empty graph).
    """

    n_units: int
    n_edges: int
    n_components: int
    component_sizes: list[int]
    isolated: list[str]
    largest_component_size: int


def _check_inputs(units: gpd.GeoDataFrame, max_gap_m: float) -> float:
    try:
        gap = float(max_gap_m)
    except (TypeError, ValueError):
        raise ValueError(f"max_gap_m must be a number of metres, got {max_gap_m!r}") from None
    if not math.isfinite(gap) or gap < 0:
        raise ValueError(
            f"max_gap_m must be a finite distance of 0 metres or more, got {max_gap_m!r}"
        )
    crs = units.crs
    if crs is None:
        # Without a CRS the coordinates could be degrees, and a 1000 "m" gap would then
        # span whole provinces; refuse rather than guess.
        raise ValueError(
            "the units have no CRS, so gap distances cannot be known to be metres; "
            "reproject them to a projected CRS in metres first"
        )
    if crs.is_geographic:
        raise ValueError(
            f"the units are in a geographic CRS ({crs.to_string()}, degrees); gap distances "
            "must be in metres, so reproject them to a projected CRS first"
        )
    units_of_axes = {a.unit_name.lower() for a in crs.axis_info[:2]}
    if units_of_axes and not units_of_axes <= _METRE_NAMES:
        raise ValueError(
            f"the units' CRS ({crs.to_string()}) measures in {', '.join(sorted(units_of_axes))}; "
            "gap distances must be in metres, so reproject them to a metric CRS first"
        )
    return gap


def _landscape_codes(units: gpd.GeoDataFrame) -> np.ndarray | None:
    """Integer landscape code per unit, -1 for none; None when the column is absent."""
    if "landscape_id" not in units.columns:
        return None
    col = units["landscape_id"]
    text = col.astype("string").str.strip()
    present = (col.notna() & text.notna() & (text != "")).to_numpy(bool)
    codes = np.full(len(units), -1, dtype=np.int64)
    if present.any():
        codes[present] = pd.factorize(text[present].to_numpy(object))[0]
    return codes


def _landscape_pairs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j) of units with the same landscape code (one clique per landscape)."""
    members = np.flatnonzero(codes >= 0)
    order = members[np.argsort(codes[members], kind="stable")]
    sorted_codes = codes[order]
    bounds = np.flatnonzero(np.diff(sorted_codes)) + 1
    a_parts, b_parts = [], []
    for group in np.split(order, bounds):
        if len(group) < 2:
            continue
        group = np.sort(group)
        ia, ib = np.triu_indices(len(group), 1)
        a_parts.append(group[ia])
        b_parts.append(group[ib])
    if not a_parts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(a_parts).astype(np.int64), np.concatenate(b_parts).astype(np.int64)


def _shared_border(geoms: np.ndarray, i: np.ndarray, j: np.ndarray, gap: np.ndarray):
    """Length of the common boundary of pairs (i, j); computed only where they (nearly) meet."""
    out = np.zeros(len(i))
    meet = gap <= BORDER_SNAP_M
    if meet.any():
        # boundaries per pair rather than for the whole layer: few pairs meet
        common = shapely.intersection(
            shapely.boundary(geoms[i[meet]]),
            shapely.boundary(geoms[j[meet]]),
            grid_size=BORDER_SNAP_M,
        )
        # length() of a collection counts only its lines: meeting at a point gives 0
        out[meet] = shapely.length(common)
    return out


def build_adjacency(
    units: gpd.GeoDataFrame,
    max_gap_m: float,
    landscape_edges: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> nx.Graph:
    """Build the graph of units that may be bundled together.

    Two units are neighbours when the gap between their (multi)polygons, the
    shapely distance, is at most ``max_gap_m`` metres (0 when they touch or
    overlap), plus ``TOUCH_TOLERANCE_M`` (0.5 m) of reprojection noise. Every
    part of a multipolygon counts, so a detached part lying near another unit
    links the two. With ``landscape_edges`` two units are also
    neighbours when they share a non-empty ``landscape_id``.

    Parameters
    ----------
    units : GeoDataFrame
        Validated units: valid Polygon/MultiPolygon geometries in a projected CRS in
        metres, a unique string column ``unit_id``, a float column ``area_ha`` (the
        geometry's area is used when the column is absent) and optionally a column
        ``landscape_id`` (empty string, None or NaN mean no landscape).
    max_gap_m : float
        Largest boundary-to-boundary gap between neighbours, in metres; 0 links
        only units that touch or overlap.
    landscape_edges : bool, default False
        Also link every pair of units sharing a landscape id (a clique per landscape).
    progress : callable, optional
        ``progress(done, total)`` is called with the number of units processed out
        of ``len(units)``: once at the start and after each chunk of
        ``CHUNK`` units, so a caller can drive a progress bar.

    Returns
    -------
    networkx.Graph
        One node per ``unit_id`` (isolated units included), in layer order, with
        attributes ``area_ha`` (float) and ``pos`` (x, y of a representative point
        inside the unit, metres). One edge per neighbour pair with attributes

        - ``gap_m``: boundary-to-boundary distance in metres (0 when touching or
          overlapping; measured as well for landscape-only edges);
        - ``shared_border_m``: length of the line intersection of the two
          boundaries (0 when they meet only at points or do not meet; for
          overlapping units, only where their boundaries run together). The
          intersection is taken on a ``BORDER_SNAP_M`` (1 cm) grid, so that
          boundaries a rounding or reprojection error apart still count as
          shared; it is computed only for pairs whose gap is at most that;
        - ``spatial``: ``gap_m <= max_gap_m``;
        - ``landscape``: both units carry the same non-empty ``landscape_id``
          (reported whatever ``landscape_edges`` is).

    Raises
    ------
    ValueError
        If ``max_gap_m`` is negative or not finite, if the CRS is missing,
        geographic (degrees) or measures in anything but metres, or if a
        ``unit_id`` repeats.

    Notes
    -----
    Candidate pairs come from a shapely ``STRtree`` queried with the predicate
    ``dwithin``, in chunks of ``CHUNK``
    units; distances and shared borders are computed with shapely's vectorised
    functions, shared borders only for pairs that meet.

    Complexity: building the index is O(n log n); the query is about
    O(n log n + k) for k candidate pairs, and each pair costs one distance
    (O(v log v) in its vertex count v) plus one boundary intersection if the two
    meet. Landscape edges add sum(m_l^2) / 2 pairs for landscapes of m_l units,
    each with a distance computation, so a landscape of thousands of units is
    expensive by definition. Memory is O(n + edges).
    """
    gap = _check_inputs(units, max_gap_m)
    n = len(units)
    if progress is not None:
        progress(0, n)
    ids = units["unit_id"].astype(str).to_numpy(object)
    if not pd.Index(ids).is_unique:
        # nodes are keyed by unit_id: duplicates would silently merge units
        dup = sorted(pd.Index(ids)[pd.Index(ids).duplicated()].unique())[:5]
        raise ValueError(f"unit_id must be unique; repeated: {', '.join(dup)}")
    geoms = np.asarray(units.geometry.values, dtype=object)
    area = units["area_ha"].to_numpy(float) if "area_ha" in units.columns else area_ha(geoms)
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms)) if n else np.empty((0, 2))

    graph = nx.Graph()
    graph.add_nodes_from(
        (uid, {"area_ha": float(a), "pos": (float(x), float(y))})
        for uid, a, (x, y) in zip(ids, area, xy, strict=True)
    )
    if n == 0:
        return graph

    tree = shapely.STRtree(geoms)
    # GEOS's dwithin and distance() take different code paths; querying a hair
    # wider and then filtering on distance() makes the edge rule exactly
    # "distance <= max_gap_m", with no pair lost to a last-bit rounding difference.
    limit = gap + TOUCH_TOLERANCE_M
    query_gap = limit + max(1e-6, limit * 1e-9)
    parts_i, parts_j, parts_gap, parts_border = [], [], [], []
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        hit = tree.query(geoms[start:stop], predicate="dwithin", distance=query_gap)
        i = hit[0].astype(np.int64) + start
        j = hit[1].astype(np.int64)
        # each unordered pair is found from both ends (and each unit finds itself)
        keep = i < j
        i, j = i[keep], j[keep]
        d = shapely.distance(geoms[i], geoms[j])
        keep = d <= limit
        i, j, d = i[keep], j[keep], d[keep]
        parts_i.append(i)
        parts_j.append(j)
        parts_gap.append(d)
        parts_border.append(_shared_border(geoms, i, j, d))
        if progress is not None:
            progress(stop, n)

    i = np.concatenate(parts_i)
    j = np.concatenate(parts_j)
    d = np.concatenate(parts_gap)
    border = np.concatenate(parts_border)
    spatial = np.ones(len(i), dtype=bool)

    codes = _landscape_codes(units)
    if landscape_edges and codes is not None:
        li, lj = _landscape_pairs(codes)
        # pairs already found spatially keep their measures; only the rest need a distance
        new = ~np.isin(li * n + lj, i * n + j)
        li, lj = li[new], lj[new]
        ld = shapely.distance(geoms[li], geoms[lj])
        i = np.concatenate([i, li])
        j = np.concatenate([j, lj])
        d = np.concatenate([d, ld])
        border = np.concatenate([border, _shared_border(geoms, li, lj, ld)])
        spatial = np.concatenate([spatial, ld <= limit])
    if codes is None:
        same_landscape = np.zeros(len(i), dtype=bool)
    else:
        same_landscape = (codes[i] == codes[j]) & (codes[i] >= 0)

    # layer order of (i, j), so that the same layer always gives the same edge order
    order = np.lexsort((j, i))
    graph.add_edges_from(
        (
            ids[a],
            ids[b],
            {"gap_m": g, "shared_border_m": s, "spatial": sp, "landscape": ls},
        )
        for a, b, g, s, sp, ls in zip(
            i[order].tolist(),
            j[order].tolist(),
            d[order].tolist(),
            border[order].tolist(),
            spatial[order].tolist(),
            same_landscape[order].tolist(),
            strict=True,
        )
    )
    return graph


def graph_summary(graph: nx.Graph) -> GraphSummary:
    """Count the units, neighbour pairs and connected groups of an adjacency graph.

    Parameters
    ----------
    graph : networkx.Graph
        As built by :func:`build_adjacency`.

    Returns
    -------
    GraphSummary

    Notes
    -----
    Complexity: O(n + m) for n nodes and m edges (one connected-components pass)
    plus O(c log c) to sort the sizes of c components.
    """
    sizes = sorted((len(c) for c in nx.connected_components(graph)), reverse=True)
    isolated = sorted(str(u) for u, deg in graph.degree() if deg == 0)
    return GraphSummary(
        n_units=graph.number_of_nodes(),
        n_edges=graph.number_of_edges(),
        n_components=len(sizes),
        component_sizes=sizes,
        isolated=isolated,
        largest_component_size=sizes[0] if sizes else 0,
    )


def edges_frame(graph: nx.Graph) -> pd.DataFrame:
    """The neighbour pairs of an adjacency graph as a table, one row per edge.

    Parameters
    ----------
    graph : networkx.Graph
        As built by :func:`build_adjacency`.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit_a, unit_b, gap_m, shared_border_m, spatial, landscape``
        (see :func:`build_adjacency`). Each pair is written with
        ``unit_a < unit_b`` (string order) and rows are sorted by
        ``unit_a, unit_b``, so the same graph always gives the same CSV, whatever
        order its edges were added in.

    Notes
    -----
    Complexity: O(m log m) for m edges (the sort).
    """
    rows = []
    for a, b, data in graph.edges(data=True):
        a, b = str(a), str(b)
        if b < a:
            a, b = b, a
        rows.append(
            (
                a,
                b,
                float(data.get("gap_m", math.nan)),
                float(data.get("shared_border_m", math.nan)),
                bool(data.get("spatial", False)),
                bool(data.get("landscape", False)),
            )
        )
    frame = pd.DataFrame.from_records(rows, columns=list(EDGE_COLUMNS))
    frame = frame.astype(
        {
            "unit_a": object,
            "unit_b": object,
            "gap_m": float,
            "shared_border_m": float,
            "spatial": bool,
            "landscape": bool,
        }
    )
    return frame.sort_values(["unit_a", "unit_b"], kind="stable", ignore_index=True)
