"""Time :func:`bundler.graph.adjacency.build_adjacency` on a large synthetic layer.

    python -m benchmarks.bench_graph --units 100000 --repeat 3

The layer is a seeded, jittered grid of rectangles of random sizes in UTM 50S
(metres), made here rather than with the project's generator so that this
benchmark measures the graph alone and keeps working whatever the generator does.
Cells are 3 km apart and rectangles 1.0-2.9 km wide, so gaps between neighbours
run from 0 to a few km: with ``max_gap_m=1000`` a unit has about 3 neighbours
(seed 0: 1.45 edges per unit, 0.6% of them touching) and one component holds
over 90% of the units.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

import geopandas as gpd
import numpy as np
import shapely

from bundler.graph.adjacency import build_adjacency, graph_summary

CRS = "EPSG:32750"
X0, Y0 = 300_000.0, 9_000_000.0
PITCH = 3_000.0


def synthetic_layer(n: int, seed: int = 0, densify_m: float = 0.0) -> gpd.GeoDataFrame:
    """A jittered grid of ``n`` rectangles with gaps of 0 to a few km.

    Parameters
    ----------
    n : int
        Units.
    seed : int
        Same seed, same layer.
    densify_m : float
        When > 0, add boundary vertices every ``densify_m`` metres, to mimic the
        hundreds of vertices of real permit boundaries (distance work grows with them).
    """
    rng = np.random.default_rng(seed)
    ncol = int(np.ceil(np.sqrt(n)))
    row, col = np.divmod(np.arange(n), ncol)
    w = rng.uniform(1000, 2900, n)
    h = rng.uniform(1000, 2900, n)
    # jitter within the cell; snapping a few to the cell's edges makes touching
    # neighbours (a shared border) as well as gaps
    x = col * PITCH + rng.uniform(0, PITCH - w)
    y = row * PITCH + rng.uniform(0, PITCH - h)
    snap_right = rng.random(n) < 0.1
    snap_left = rng.random(n) < 0.1
    x[snap_right] = (col[snap_right] + 1) * PITCH - w[snap_right]
    x[snap_left] = col[snap_left] * PITCH
    geoms = shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)
    if densify_m > 0:
        geoms = shapely.segmentize(geoms, densify_m)
    return gpd.GeoDataFrame(
        {"unit_id": [f"U{i:07d}" for i in range(n)], "area_ha": w * h / 1e4},
        geometry=geoms,
        crs=CRS,
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: build the layer, time the graph, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--units", type=int, default=100_000, help="units in the layer")
    ap.add_argument("--repeat", type=int, default=3, help="timed builds (median reported)")
    ap.add_argument("--max-gap-m", type=float, default=1000.0, help="gap rule, metres")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--densify-m", type=float, default=0.0, help="boundary vertex spacing (0: plain boxes)"
    )
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    units = synthetic_layer(args.units, args.seed, args.densify_m)
    t_layer = time.perf_counter() - t0
    vertices = int(shapely.get_num_coordinates(units.geometry.values).sum())

    times = []
    graph = None
    for _ in range(max(1, args.repeat)):
        graph = None  # free the previous run's graph, so peak RSS reflects one graph
        t0 = time.perf_counter()
        graph = build_adjacency(units, args.max_gap_m)
        times.append(time.perf_counter() - t0)
    s = graph_summary(graph)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    print(
        f"units              {args.units:,} ({vertices:,} vertices, layer built in {t_layer:.1f} s)"
    )
    print(f"max_gap_m          {args.max_gap_m:g}")
    print(f"runs               {len(times)}: " + ", ".join(f"{t:.2f}" for t in times) + " s")
    print(f"median seconds     {statistics.median(times):.2f}")
    print(f"edges              {s.n_edges:,}")
    print(
        f"components         {s.n_components:,} (largest {s.largest_component_size:,} units, "
        f"{len(s.isolated):,} isolated)"
    )
    print(f"peak RSS           {peak_mib:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
