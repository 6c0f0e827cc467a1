"""Run the heuristic on a max-p problem over a seeded Voronoi tessellation.

    python -m benchmarks.bench_maxp --units 3000 --seed 0

The layer: ``n`` uniform random points in a square, their Voronoi cells clipped
to the square (points mirrored across the four sides, so that every cell is
finite and ends at the square's edge), and units adjacent when their cells share
an edge. Areas are attributes, not the cells' own areas: lognormal draws rescaled
to a mean of 800 ha, so that the threshold of 10,000 ha needs about 12 units and
the area bound (total area / threshold) is about n / 12.5. This is the instance
docs/domain.md quotes for PySAL spopt's ``MaxPHeuristic`` (about 200 regions out of a
bound of about 240 on 3,000 units); the figures printed here are for a
side-by-side comparison. With ``--pygeoda`` GeoDa's greedy max-p
(:func:`pygeoda_maxp`, one thread) runs on the same cells and areas too.

The whole command instead, as the product runs it (read, score, graph, plan, estimate,
write every file):

    python -m benchmarks.bench_maxp --whole-process DIR --units 3000 --seed 1 --repeat 3

writes the cells in the ministry's schema with forest columns (:func:`ministry_gpkg`,
``DIR/vor<n>.gpkg``) and times ``psbundle plan vor<n>.gpkg --objective max-p
--min-area-ha 10000 --max-gap-m 0 --time-limit 120`` (``OGR_CURRENT_DATE`` fixed, so the
files are the same each time), printing each run's wall time and their median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from scipy.spatial import Voronoi

from solvers.base import SolveParams
from solvers.heuristic import solve_bundling
from solvers.problem import BundlingProblem


def voronoi_layer(n: int, seed: int = 0, side: float = 1.0):
    """Voronoi cells of ``n`` seeded random points, clipped to a square, and their adjacency.

    Parameters
    ----------
    n : int
        Cells.
    seed : int
        Same seed, same layer.
    side : float
        Side of the square.

    Returns
    -------
    cells : ndarray of shapely.Polygon, shape (n,)
    edges : ndarray of shape (m, 2)
        Pairs ``(i, j)``, ``i < j``, of cells sharing an edge of positive length.
    """
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0.0, side, size=(n, 2))
    # mirror images across the sides bound every original cell by the square
    mirrored = [pts]
    for axis in (0, 1):
        for edge in (0.0, side):
            m = pts.copy()
            m[:, axis] = 2 * edge - m[:, axis]
            mirrored.append(m)
    vor = Voronoi(np.vstack(mirrored))
    square = shapely.box(0.0, 0.0, side, side)
    cells = []
    for i in range(n):
        region = vor.regions[vor.point_region[i]]
        poly = shapely.Polygon(vor.vertices[region])
        cells.append(shapely.intersection(poly, square))
    cells = np.array(cells, dtype=object)
    rp = vor.ridge_points
    inner = (rp[:, 0] < n) & (rp[:, 1] < n)
    ridges = [vor.ridge_vertices[k] for k in np.flatnonzero(inner)]
    length = np.array([np.linalg.norm(vor.vertices[a] - vor.vertices[b]) for a, b in ridges])
    pairs = np.sort(rp[inner], axis=1)[length > 1e-12 * side]
    edges = np.unique(pairs, axis=0)
    return cells, edges


def maxp_problem(
    n: int,
    seed: int = 0,
    mean_area_ha: float = 800.0,
    sigma: float = 1.0,
    threshold_ha: float = 10_000.0,
) -> BundlingProblem:
    """The max-p bundling problem of the module docstring.

    Parameters
    ----------
    n : int
        Units.
    seed : int
        Seeds both the points and the areas.
    mean_area_ha : float
        Mean unit area after rescaling.
    sigma : float
        Shape of the lognormal (standard deviation of log area).
    threshold_ha : float
        Minimum region area.
    """
    cells, edges = voronoi_layer(n, seed)
    total = float(shapely.area(cells).sum())
    if not np.isclose(total, 1.0):
        raise RuntimeError(f"cells cover {total:.6f} of the unit square, not all of it")
    rng = np.random.default_rng([seed, 1])
    area = rng.lognormal(0.0, sigma, n)
    area *= mean_area_ha / area.mean()
    return BundlingProblem(
        unit_ids=tuple(f"V{i:05d}" for i in range(n)),
        edges=edges,
        area_ha=area,
        area_min_ha=area,
        value=np.zeros(n),
        bundle_value=1.0,
        slack=np.zeros(n),
        bundle_slack=0.0,
        min_area_ha=np.full(n, threshold_ha),
        max_area_ha=np.inf,
        max_units=0,
        candidates=None,
        must_cover=np.ones(n, dtype=bool),
        check_cost=False,
        objective="max-p",
    )


def pygeoda_maxp(
    geoms,
    area: np.ndarray,
    threshold_ha: float,
    attr: np.ndarray | None = None,
    seed: int = 0,
    threads: int = 1,
    iterations: int = 99,
) -> dict:
    """GeoDa's greedy max-p (``pygeoda.maxp_greedy``) on polygons with given areas.

    The weights are GeoDa's queen contiguity (``pygeoda.queen_weights`` of
    ``pygeoda.open`` of the polygons: corners count, like our touching graph); the
    bound variable is ``area`` with minimum ``threshold_ha``; ``attr`` (default: seeded
    uniform) is the variable whose within-region homogeneity GeoDa optimizes, which
    plays no part in the number of regions.

    Parameters
    ----------
    geoms : sequence of shapely polygons
    area : ndarray
        The areas the regions must reach (an attribute, not the polygons' own).
    threshold_ha : float
        Minimum region area.
    attr : ndarray, optional
    seed : int
        GeoDa's ``random_seed`` (and the default attribute's seed).
    threads : int
        ``cpu_threads`` (1 for a one-core comparison).
    iterations : int
        Iterations of the greedy construction (GeoDa's default 99).

    Returns
    -------
    dict
        ``labels`` (ndarray of int, one per polygon, 0 for a polygon in no region),
        ``regions`` (list of arrays of polygon positions), ``runtime_s`` (the
        ``maxp_greedy`` call alone), ``weights_s`` (opening the layer and building the
        weights) and ``edges`` (set of ``(i, j)``, ``i < j``, queen neighbours).

    Raises
    ------
    ImportError
        When pygeoda is not installed.
    ValueError
        When a group of queen neighbours cannot reach the threshold: ``maxp_greedy``
        never returns on such an input (pygeoda 0.1.3), so it is refused here.
    """
    import geopandas as gpd
    import pygeoda
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    area = np.asarray(area, dtype=float)
    n = len(area)
    if attr is None:
        attr = np.random.default_rng([seed, 3]).random(n)
    gdf = gpd.GeoDataFrame({"area": area, "attr": np.asarray(attr, float)}, geometry=list(geoms))
    t0 = time.perf_counter()
    w = pygeoda.queen_weights(pygeoda.open(gdf))
    weights_s = time.perf_counter() - t0
    edges = {(min(i, j), max(i, j)) for i in range(n) for j in w.get_neighbors(i)}
    pairs = np.array(sorted(edges), dtype=int).reshape(-1, 2)
    adj = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    short = np.bincount(comp, weights=area) < threshold_ha
    if short.any():
        raise ValueError(
            f"{int(short.sum())} group(s) of queen neighbours cannot reach {threshold_ha:g} "
            "(pygeoda's maxp_greedy would not return); leave their polygons out"
        )
    t0 = time.perf_counter()
    res = pygeoda.maxp_greedy(
        w,
        gdf[["attr"]],
        gdf["area"],
        float(threshold_ha),
        iterations=int(iterations),
        random_seed=int(seed),
        cpu_threads=int(threads),
    )
    runtime = time.perf_counter() - t0
    labels = np.asarray(res["Clusters"], dtype=int)
    regions = [np.flatnonzero(labels == k) for k in np.unique(labels[labels > 0])]
    return {
        "labels": labels,
        "regions": regions,
        "runtime_s": runtime,
        "weights_s": weights_s,
        "edges": edges,
    }


def ministry_gpkg(path: Path, n: int = 3000, seed: int = 1, blocks: int = 5) -> Path:
    """The Voronoi cells as a layer in the ministry's schema, with forest columns.

    :func:`benchmarks.instances.voronoi_geometries` of ``n`` and ``seed`` (metres, mean
    cell 800 ha) with the attributes of :func:`benchmarks.families.ministry_layer`
    (forest 2010/2020, peat, mangrove, schemes, households ...), drawn per landscape:
    a ``blocks`` x ``blocks`` grid of squares over the layer, so attributes vary in space.

    Parameters
    ----------
    path : Path
        The GeoPackage to write.
    n, seed : int
        Cells and seed (the same cells and attributes each time).
    blocks : int
        Landscapes along each side.

    Returns
    -------
    Path
        ``path``.
    """
    # benchmarks.families and benchmarks.instances import this module: not at the top
    from benchmarks import families
    from benchmarks.instances import voronoi_geometries

    geoms = voronoi_geometries(n, seed)
    centre = shapely.centroid(geoms)
    landscape = np.zeros(n, dtype=np.int64)
    for k, coord in enumerate((shapely.get_x(centre), shapely.get_y(centre))):
        span = np.ptp(coord) + 1e-9
        cell = np.minimum(((coord - coord.min()) / span * blocks).astype(np.int64), blocks - 1)
        landscape += cell * blocks**k
    families.ministry_layer(geoms, landscape, seed).to_file(path)
    return Path(path)


def whole_process(folder: Path, n: int, seed: int, repeat: int) -> list[float]:
    """Wall seconds of ``psbundle plan`` (max-p, the module docstring's flags) per run."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OGR_CURRENT_DATE": "2026-01-01T00:00:00.000Z"}
    layer = folder / f"vor{n}.gpkg"
    if not layer.exists():
        ministry_gpkg(layer, n, seed)
    command = [sys.executable, "-m", "bundler.cli", "plan", str(layer), "--objective", "max-p"]
    command += ["--min-area-ha", "10000", "--max-gap-m", "0", "--time-limit", "120"]
    command += ["--out", str(folder / "plan"), "--force"]
    seconds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - t0)
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: build the problem, solve it, check and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--units", type=int, default=3000, help="Voronoi cells")
    ap.add_argument("--seed", type=int, default=0, help="layer and solver seed")
    ap.add_argument("--threshold", type=float, default=10_000.0, help="minimum region area, ha")
    ap.add_argument("--sigma", type=float, default=1.0, help="lognormal shape of the areas")
    ap.add_argument("--time-limit", type=float, default=10.0, help="solver limit, seconds")
    ap.add_argument(
        "--pygeoda",
        action="store_true",
        help="also run GeoDa's greedy max-p (pygeoda, one thread) on the same cells",
    )
    ap.add_argument("--pygeoda-iterations", type=int, default=99, help="GeoDa's iterations")
    ap.add_argument(
        "--whole-process",
        type=Path,
        metavar="DIR",
        help="time the whole psbundle plan command on the cells in the ministry schema",
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs of --whole-process")
    args = ap.parse_args(argv)
    if args.whole_process is not None:
        runs = whole_process(args.whole_process, args.units, args.seed, args.repeat)
        print("runs       " + ", ".join(f"{s:.2f}" for s in runs) + " s")
        print(f"median     {statistics.median(runs):.2f} s")
        return 0

    t0 = time.perf_counter()
    problem = maxp_problem(args.units, args.seed, sigma=args.sigma, threshold_ha=args.threshold)
    t_layer = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = solve_bundling(problem, SolveParams(time_limit=args.time_limit, seed=args.seed))
    seconds = time.perf_counter() - t0

    g = problem.graph()
    bad = [b for b in res.bundles if problem.bundle_violations(b, g)]
    covered = sorted(j for b in res.bundles for j in b)
    if bad or covered != list(range(problem.n)):
        print(f"INVALID: {len(bad)} infeasible regions, {problem.n - len(covered)} units left out")
        return 1
    print(f"n          {problem.n} ({len(problem.edges)} edges, layer built in {t_layer:.1f} s)")
    print(f"regions    {len(res.bundles)}")
    print(f"bound      {res.bound:.0f}")
    print(f"seconds    {seconds:.2f}")
    print(f"status     {res.termination.value} ({res.message})")
    if args.pygeoda:
        try:
            import pygeoda  # noqa: F401
        except ImportError as exc:
            print(f"pygeoda    unavailable ({exc}); pip install -e '.[bench]'")
            return 0
        cells, _ = voronoi_layer(args.units, args.seed)
        out = pygeoda_maxp(
            cells,
            problem.area_min_ha,
            args.threshold,
            seed=args.seed,
            threads=1,
            iterations=args.pygeoda_iterations,
        )
        ours = {tuple(e) for e in np.asarray(problem.edges).tolist()}
        bad = sum(bool(problem.bundle_violations(r.tolist(), g)) for r in out["regions"])
        left = int((out["labels"] == 0).sum())
        print(
            f"pygeoda    {len(out['regions'])} regions in {out['runtime_s']:.2f} s "
            f"(maxp_greedy, {args.pygeoda_iterations} iterations, 1 thread; weights "
            f"{out['weights_s']:.2f} s, {len(ours ^ out['edges'])} edges differ from ours; "
            f"{bad} invalid regions, {left} units in no region)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
