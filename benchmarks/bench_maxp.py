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
side-by-side comparison.
"""

from __future__ import annotations

import argparse
import sys
import time

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


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: build the problem, solve it, check and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--units", type=int, default=3000, help="Voronoi cells")
    ap.add_argument("--seed", type=int, default=0, help="layer and solver seed")
    ap.add_argument("--threshold", type=float, default=10_000.0, help="minimum region area, ha")
    ap.add_argument("--sigma", type=float, default=1.0, help="lognormal shape of the areas")
    ap.add_argument("--time-limit", type=float, default=10.0, help="solver limit, seconds")
    args = ap.parse_args(argv)

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
