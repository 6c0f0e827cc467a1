"""Adjacency graph: known answers on hand-drawn layouts, and the index against brute force.

Layouts are boxes in UTM 50S (EPSG:32750, metres) offset to realistic coordinates
(about 117 E, 4.5 S). All corners are whole metres, which floats hold exactly, so
gaps and border lengths below are exact and compared with ``==``.
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, box

import bundler.graph.adjacency as graph_module
from bundler.graph.adjacency import (
    EDGE_COLUMNS,
    TOUCH_TOLERANCE_M,
    GraphSummary,
    build_adjacency,
    edges_frame,
    graph_summary,
)
from bundler.input.crs import working_crs

CRS = "EPSG:32750"
X0, Y0 = 500_000.0, 9_500_000.0


def sq(x: float, y: float, w: float, h: float | None = None):
    """A box with its lower-left corner at (X0 + x, Y0 + y), w by h metres."""
    h = w if h is None else h
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def units(geoms, ids=None, crs=CRS, **columns) -> gpd.GeoDataFrame:
    ids = ids or [chr(ord("A") + k) for k in range(len(geoms))]
    data = {"unit_id": ids, "area_ha": [g.area / 1e4 for g in geoms], **columns}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def edge_set(g: nx.Graph) -> set[frozenset]:
    return {frozenset(e) for e in g.edges()}


# ---------------------------------------------------------------- known answers


def test_touching_squares_share_their_whole_side():
    # B starts exactly where A ends (x = 100): the boundaries meet along the
    # segment x = 100, 0 <= y <= 100, so the gap is 0 and the shared border is
    # the full 100 m side.
    g = build_adjacency(units([sq(0, 0, 100), sq(100, 0, 100)]), max_gap_m=500)
    assert edge_set(g) == {frozenset("AB")}
    e = g.edges["A", "B"]
    assert e["gap_m"] == 0.0
    assert e["shared_border_m"] == 100.0
    assert e["spatial"] is True
    assert e["landscape"] is False


def test_nodes_carry_area_and_a_point_inside_the_unit():
    layer = units([sq(0, 0, 100), sq(100, 0, 100, 300)])
    g = build_adjacency(layer, max_gap_m=0)
    assert list(g.nodes) == ["A", "B"]
    # 100 m x 100 m = 1 ha; 100 m x 300 m = 3 ha (taken from the area_ha column)
    assert g.nodes["A"]["area_ha"] == 1.0
    assert g.nodes["B"]["area_ha"] == 3.0
    for uid, geom in zip(layer["unit_id"], layer.geometry, strict=True):
        x, y = g.nodes[uid]["pos"]
        assert isinstance(x, float) and isinstance(y, float)
        assert geom.contains(shapely.Point(x, y))


def test_gap_within_the_limit_gives_an_edge_with_that_gap():
    # A ends at x = 100, B starts at x = 150: 50 m of open ground between them,
    # which is within 60 m. The two never meet, so there is no shared border.
    g = build_adjacency(units([sq(0, 0, 100), sq(150, 0, 100)]), max_gap_m=60)
    e = g.edges["A", "B"]
    assert e["gap_m"] == 50.0
    assert e["shared_border_m"] == 0.0
    assert e["spatial"] is True


def test_gap_equal_to_the_limit_is_included():
    # the rule is gap <= max_gap_m: a 50 m gap with a 50 m limit is an edge
    g = build_adjacency(units([sq(0, 0, 100), sq(150, 0, 100)]), max_gap_m=50)
    assert g.edges["A", "B"]["gap_m"] == 50.0


def test_diagonal_gap_is_the_euclidean_corner_distance():
    # B's lower-left corner is 30 m right and 40 m above A's upper-right corner:
    # the nearest points are those corners, 50 m apart (3-4-5 triangle), so the
    # pair is in at 50 m and out at 49 m although each axis gap is below 49 m.
    layer = units([sq(0, 0, 100), sq(130, 140, 100)])
    assert build_adjacency(layer, max_gap_m=50).edges["A", "B"]["gap_m"] == 50.0
    assert build_adjacency(layer, max_gap_m=49).number_of_edges() == 0


def test_gap_beyond_the_limit_gives_no_edge_but_keeps_both_units():
    # 70 m apart with a 50 m limit: not neighbours; both stay in the graph
    g = build_adjacency(units([sq(0, 0, 100), sq(170, 0, 100)]), max_gap_m=50)
    assert g.number_of_edges() == 0
    assert set(g.nodes) == {"A", "B"}


def test_zero_gap_keeps_only_units_that_touch_or_overlap():
    # A and B touch (x = 100); C overlaps B; D is 1 m right of C: with a 0 m
    # limit A-B and B-C are edges, C-D (1 m) is not, and D is isolated.
    layer = units([sq(0, 0, 100), sq(100, 0, 100), sq(150, 50, 100), sq(251, 0, 100)])
    g = build_adjacency(layer, max_gap_m=0)
    assert edge_set(g) == {frozenset("AB"), frozenset("BC")}
    assert all(d["gap_m"] == 0.0 for *_, d in g.edges(data=True))
    assert g.degree["D"] == 0
    # the same layer with a 1 m limit adds C-D with its 1 m gap
    g1 = build_adjacency(layer, max_gap_m=1)
    assert g1.edges["C", "D"]["gap_m"] == 1.0


def test_corner_touching_squares_are_neighbours_without_a_shared_border():
    # B's lower-left corner is A's upper-right corner (100, 100): the boundaries
    # meet in a single point, so the gap is 0 but the shared border has no length.
    for max_gap in (0, 10):
        g = build_adjacency(units([sq(0, 0, 100), sq(100, 100, 100)]), max_gap_m=max_gap)
        e = g.edges["A", "B"]
        assert e["gap_m"] == 0.0
        assert e["shared_border_m"] == 0.0


def test_partly_touching_sides_share_only_the_common_stretch():
    # B (100 m tall) sits against A's right side but 60 m higher: the sides
    # overlap from y = 60 to y = 100, so 40 m of shared border.
    g = build_adjacency(units([sq(0, 0, 100), sq(100, 60, 100)]), max_gap_m=0)
    assert g.edges["A", "B"]["shared_border_m"] == 40.0


def test_borders_a_millimetre_apart_still_count_as_shared():
    # B's left side is 1 mm right of A's right side: the gap is that millimetre
    # (not 0), but on the 1 cm snapping grid the two sides coincide, so the
    # full 100 m side is shared. 5 cm apart is a real gap: no shared border.
    g = build_adjacency(units([sq(0, 0, 100), sq(100.001, 0, 100)]), max_gap_m=1)
    e = g.edges["A", "B"]
    assert e["gap_m"] == pytest.approx(0.001, abs=1e-6)
    assert e["shared_border_m"] == 100.0
    g5 = build_adjacency(units([sq(0, 0, 100), sq(100.05, 0, 100)]), max_gap_m=1)
    assert g5.edges["A", "B"]["shared_border_m"] == 0.0


def test_shared_border_survives_reprojection_to_the_working_crs():
    # In UTM 48S, B (1 km x 400 m) sits against the middle of A's 1 km right
    # side: a T-junction, 400 m of shared border. In the equal-area working CRS
    # the straight sides bend slightly and B's corners end up a fraction of a
    # millimetre off A's side; the border must still be about 400 m (areas and
    # lengths change by well under 0.1% between the two CRSs).
    utm = gpd.GeoSeries(
        [box(400_000, 9_650_000, 401_000, 9_651_000), box(401_000, 9_650_300, 402_000, 9_650_700)],
        crs="EPSG:32748",
    )
    work = utm.to_crs(working_crs(tuple(utm.to_crs("EPSG:4326").total_bounds)))
    g = build_adjacency(units(list(work)), max_gap_m=1)
    e = g.edges["A", "B"]
    assert 0 < e["gap_m"] < 0.001
    assert e["shared_border_m"] == pytest.approx(400.0, rel=1e-3)


def test_overlapping_squares_have_gap_zero():
    # B covers A's upper-right quarter: the boundaries cross at two points
    # (100, 50) and (50, 100) only, so gap 0 and no shared border.
    g = build_adjacency(units([sq(0, 0, 100), sq(50, 50, 100)]), max_gap_m=10)
    e = g.edges["A", "B"]
    assert e["gap_m"] == 0.0
    assert e["shared_border_m"] == 0.0


def test_overlapping_squares_count_the_boundary_they_run_along_together():
    # B is A shifted 50 m right: both have their bottom and top sides on y = 0
    # and y = 100, and those run together from x = 50 to x = 100, twice 50 m.
    # A's right side and B's left side lie inside the other unit, not on its
    # boundary, so they do not count: 100 m in all.
    g = build_adjacency(units([sq(0, 0, 100), sq(50, 0, 100)]), max_gap_m=0)
    e = g.edges["A", "B"]
    assert e["gap_m"] == 0.0
    assert e["shared_border_m"] == 100.0


def test_a_detached_multipolygon_part_near_another_unit_makes_the_edge():
    # A's main part is at x 0..100; its detached 10 m part at x 1000..1010.
    # B starts at x = 1030: 20 m from the small part, 930 m from the main part.
    # The gap is measured to the nearest part, so 20 m, within 50 m.
    a = MultiPolygon([sq(0, 0, 100), sq(1000, 0, 10)])
    g = build_adjacency(units([a, sq(1030, 0, 100)]), max_gap_m=50)
    assert g.edges["A", "B"]["gap_m"] == 20.0
    # the same B against A's main part alone is 930 m away: no edge
    g_main = build_adjacency(units([sq(0, 0, 100), sq(1030, 0, 100)]), max_gap_m=50)
    assert g_main.number_of_edges() == 0


def test_a_multipolygon_part_touching_another_unit_shares_that_side():
    # the 10 m part at x 1000..1010 touches B along x = 1010 for its 10 m height
    a = MultiPolygon([sq(0, 0, 100), sq(1000, 0, 10)])
    g = build_adjacency(units([a, sq(1010, 0, 100)]), max_gap_m=0)
    assert g.edges["A", "B"]["shared_border_m"] == 10.0


def test_landscape_edges_link_far_apart_units_of_one_landscape():
    # A and B are 9,900 m apart (A ends at 100, B starts at 10,000) but share
    # landscape "L1"; C is next to A (gap 0) and also in L1; D ("") and E (NaN)
    # are in no landscape, so they are not linked to each other although both
    # "lack" one; F is in L2 alone.
    layer = units(
        [
            sq(0, 0, 100),
            sq(10_000, 0, 100),
            sq(100, 0, 100),
            sq(20_000, 0, 100),
            sq(30_000, 0, 100),
            sq(40_000, 0, 100),
        ],
        landscape_id=["L1", "L1", "L1", "", np.nan, "L2"],
    )
    g = build_adjacency(layer, max_gap_m=500, landscape_edges=True)
    # L1 is a clique of A, B, C
    assert edge_set(g) == {frozenset("AB"), frozenset("AC"), frozenset("BC")}
    ab = g.edges["A", "B"]
    assert ab == {"gap_m": 9_900.0, "shared_border_m": 0.0, "spatial": False, "landscape": True}
    # B to C: B starts at 10,000, C ends at 200
    assert g.edges["B", "C"]["gap_m"] == 9_800.0
    # A-C is both within the gap and in the same landscape
    ac = g.edges["A", "C"]
    assert ac == {"gap_m": 0.0, "shared_border_m": 100.0, "spatial": True, "landscape": True}
    assert {u for u, deg in g.degree() if deg == 0} == {"D", "E", "F"}

    # without landscape edges only the spatial pair A-C remains; its landscape
    # flag still says that the two share a landscape
    g_off = build_adjacency(layer, max_gap_m=500, landscape_edges=False)
    assert edge_set(g_off) == {frozenset("AC")}
    assert g_off.edges["A", "C"]["landscape"] is True


def test_landscape_ids_are_compared_as_written_and_none_means_none():
    # None and whitespace-only ids mean no landscape; "L1" and "l1" differ
    layer = units(
        [sq(0, 0, 10), sq(1_000, 0, 10), sq(2_000, 0, 10), sq(3_000, 0, 10), sq(4_000, 0, 10)],
        landscape_id=[None, None, " ", "L1", "l1"],
    )
    g = build_adjacency(layer, max_gap_m=0, landscape_edges=True)
    assert g.number_of_edges() == 0


def test_landscape_edges_without_a_landscape_column_are_just_spatial():
    layer = units([sq(0, 0, 100), sq(100, 0, 100), sq(5_000, 0, 100)])
    g = build_adjacency(layer, max_gap_m=0, landscape_edges=True)
    assert edge_set(g) == {frozenset("AB")}
    assert g.edges["A", "B"]["landscape"] is False


def test_isolated_units_are_nodes_and_the_summary_counts_them():
    # A-B-C a touching chain (A|B at x = 100, B|C at x = 200); D-E 30 m apart
    # (within 50 m); F more than 50 m from everything (nearest is E, 400 m).
    layer = units(
        [
            sq(0, 0, 100),
            sq(100, 0, 100),
            sq(200, 0, 100),
            sq(1_000, 0, 100),
            sq(1_130, 0, 100),
            sq(1_630, 0, 100),
        ]
    )
    g = build_adjacency(layer, max_gap_m=50)
    assert set(g.nodes) == set("ABCDEF")
    assert g.degree["F"] == 0
    s = graph_summary(g)
    assert s == GraphSummary(
        n_units=6,
        n_edges=3,  # A-B, B-C, D-E
        n_components=3,  # {A, B, C}, {D, E}, {F}
        component_sizes=[3, 2, 1],
        isolated=["F"],
        largest_component_size=3,
    )


def test_summary_of_an_empty_layer():
    g = build_adjacency(units([]), max_gap_m=100)
    assert g.number_of_nodes() == 0
    assert graph_summary(g) == GraphSummary(0, 0, 0, [], [], 0)
    frame = edges_frame(g)
    assert list(frame.columns) == list(EDGE_COLUMNS)
    assert len(frame) == 0


def test_edges_frame_columns_and_reproducible_order():
    # ids in the layer are deliberately not in sorted order, so the graph's own
    # edge order (layer order) differs from the sorted CSV order.
    # Z|Y touch (x = 100), Y|X touch (x = 200), M is 10 m from X.
    layer = units(
        [sq(0, 0, 100), sq(100, 0, 100), sq(200, 0, 100), sq(310, 0, 100)],
        ids=["Z", "Y", "X", "M"],
    )
    g = build_adjacency(layer, max_gap_m=20)
    frame = edges_frame(g)
    assert list(frame.columns) == list(EDGE_COLUMNS)
    assert list(zip(frame["unit_a"], frame["unit_b"], strict=True)) == [
        ("M", "X"),
        ("X", "Y"),
        ("Y", "Z"),
    ]
    assert frame["gap_m"].tolist() == [10.0, 0.0, 0.0]
    assert frame["shared_border_m"].tolist() == [0.0, 100.0, 100.0]
    assert frame["spatial"].tolist() == [True, True, True]
    assert frame["landscape"].tolist() == [False, False, False]
    assert frame["spatial"].dtype == bool
    # a graph with the same edges added in another order gives the same table
    h = nx.Graph()
    h.add_edges_from(reversed([(b, a, d) for a, b, d in g.edges(data=True)]))
    assert edges_frame(h).equals(frame)


def test_progress_is_reported_per_chunk_and_chunking_changes_nothing(monkeypatch):
    # a touching row of 5 squares: 4 edges; with chunks of 2 units the callback
    # sees 0, 2, 4 and 5 of 5, and the pairs found across chunk borders
    # (B-C, D-E) are neither lost nor doubled
    layer = units([sq(100 * k, 0, 100) for k in range(5)])
    whole = build_adjacency(layer, max_gap_m=10)
    monkeypatch.setattr(graph_module, "CHUNK", 2)
    calls = []
    chunked = build_adjacency(layer, max_gap_m=10, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert edges_frame(chunked).equals(edges_frame(whole))
    assert chunked.number_of_edges() == 4


@pytest.mark.parametrize("bad", [-1.0, -1e-9, math.nan, math.inf, -math.inf])
def test_negative_or_non_finite_gap_is_refused(bad):
    with pytest.raises(ValueError, match="max_gap_m"):
        build_adjacency(units([sq(0, 0, 100)]), max_gap_m=bad)


def test_geographic_crs_is_refused():
    layer = gpd.GeoDataFrame(
        {"unit_id": ["A"], "area_ha": [1.0]},
        geometry=[box(117.0, -4.5, 117.01, -4.49)],
        crs="EPSG:4326",
    )
    with pytest.raises(ValueError, match="geographic CRS"):
        build_adjacency(layer, max_gap_m=100)


def test_missing_or_non_metric_crs_is_refused():
    with pytest.raises(ValueError, match="no CRS"):
        build_adjacency(units([sq(0, 0, 100)], crs=None), max_gap_m=100)
    # California zone 3 in US survey feet: a "100" gap would be 30 m
    with pytest.raises(ValueError, match="foot"):
        build_adjacency(units([box(0, 0, 100, 100)], crs="EPSG:2227"), max_gap_m=100)


def test_repeated_unit_ids_are_refused():
    # nodes are keyed by unit_id, so two units "A" would silently become one
    with pytest.raises(ValueError, match="repeated: A"):
        build_adjacency(units([sq(0, 0, 100), sq(500, 0, 100)], ids=["A", "A"]), max_gap_m=10)


# ---------------------------------------------------------------- index vs brute force

# Corners on a 10 m lattice in a 600 m square, sides 10-150 m: boxes that touch,
# share corners, overlap or sit exactly max_gap_m apart are all common.
coords = st.integers(0, 60).map(lambda v: v * 10.0)
sides = st.integers(1, 15).map(lambda v: v * 10.0)
boxes = st.tuples(coords, coords, sides, sides)
# one or two boxes per unit; the union of two disjoint boxes is a multipolygon
unit_shapes = st.lists(boxes, min_size=1, max_size=2)
layers = st.lists(
    st.tuples(unit_shapes, st.sampled_from(["", "L1", "L2", None])), min_size=0, max_size=14
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layer=layers,
    max_gap=st.sampled_from([0.0, 5.0, 10.0, 20.0, 35.5, 100.0]),
    landscape_edges=st.booleans(),
)
def test_edges_equal_brute_force_pairs(layer, max_gap, landscape_edges):
    geoms = [shapely.union_all([sq(x, y, w, h) for x, y, w, h in parts]) for parts, _ in layer]
    labels = [lab for _, lab in layer]
    ids = [f"u{k:02d}" for k in range(len(geoms))]
    frame = units(geoms, ids=ids, landscape_id=labels)
    g = build_adjacency(frame, max_gap_m=max_gap, landscape_edges=landscape_edges)

    # every pair, the O(n^2) way, straight from the definition
    expected = {}
    for a in range(len(geoms)):
        for b in range(a + 1, len(geoms)):
            d = float(shapely.distance(geoms[a], geoms[b]))
            same = labels[a] not in ("", None) and labels[a] == labels[b]
            near = d <= max_gap + TOUCH_TOLERANCE_M
            if near or (landscape_edges and same):
                expected[frozenset((ids[a], ids[b]))] = (d, near, same, a, b)

    assert set(g.nodes) == set(ids)
    assert edge_set(g) == set(expected)
    for pair, (d, spatial, same, a, b) in expected.items():
        e = g.edges[tuple(pair)]
        assert e["gap_m"] == d
        assert e["spatial"] is spatial
        assert e["landscape"] is same
        border = (
            shapely.length(shapely.intersection(geoms[a].boundary, geoms[b].boundary))
            if d == 0
            else 0.0
        )
        assert e["shared_border_m"] == pytest.approx(border, abs=1e-9)
