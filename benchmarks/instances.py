"""Seeded benchmark instances: grid, Voronoi, generated, messy, dense and counties layers.

Every family goes through the product's own reader and validator
(:func:`bundler.input.validation.load_units`), so areas, ids and the working CRS are the
product's; the adjacency graph is :func:`bundler.pipeline.adjacency` under the
family's scenario (for grid, Voronoi and generated the default: gap rule 1 km). What
differs is where the scores come from:

``grid``
    A rectilinear grid of touching rectangles, column widths and row heights drawn
    uniformly from 1.5-4 km (areas 225-1,600 ha, mean about 770 ha), so a unit
    touches up to eight neighbours (corners count). Scores are synthetic (see
    :func:`synthetic_scores`).
``voronoi``
    Voronoi cells of uniform random points in a square sized for a mean cell of
    800 ha (:func:`benchmarks.bench_maxp.voronoi_layer`). Scores are synthetic.
``generated``
    :func:`bundler.synthetic.generator.generate_units` (clustered landscapes with gaps,
    multipolygons, a few invalid rings and overlaps), scored by the product's
    scoring from the layer's own forest, peat and mangrove columns. One province
    up to 3,000 units, then one province per 3,000 units.

For the max-p comparison with PySAL spopt and GeoDa (the tessellations: grid, Voronoi,
dense, counties) an instance also carries ``maxp_units`` and ``maxp_graph``: the same
units with *touching* adjacency (gap 0) and the area to reach. For the Voronoi family the
areas are the lognormal attribute of :func:`benchmarks.bench_maxp.maxp_problem` (mean
800 ha, sigma 1), as in the domain notes' spopt figure; for the others they are the
polygons' own areas. The threshold is :data:`MAXP_THRESHOLD_HA` (10,000 ha), or for
``counties`` the family's own minimum (300,000 ha).

``messy``, ``dense``, ``counties``
    The issue's three instance kinds (:mod:`benchmarks.families`): a messy clustered
    province scored by the product's scoring (500 m gap rule, 5,000 ha, 10 USD/t), a
    dense Voronoi tessellation in one component (touching rule, 10 USD/t) and large
    county-like polygons (300,000 ha bundles of about 5-20 units). ``dense`` and
    ``counties`` have synthetic scores.

Each family plans under its own settings (:data:`benchmarks.families.FAMILY_SETTINGS`,
scenario overrides; none for ``grid``, ``voronoi`` and ``generated``): the instance's
``scenario``, ``graph`` and ``problems`` are all under them, and the runner plans with
``instance.scenario``.

All randomness: ``numpy.random.default_rng`` streams seeded from the instance seed.
"""

from __future__ import annotations

import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from benchmarks import families
from benchmarks.bench_maxp import voronoi_layer
from bundler.config.scenario import Scenario
from bundler.graph.adjacency import build_adjacency
from bundler.input.validation import load_units
from bundler.pipeline import adjacency, prepare_units
from bundler.planning.problem_builder import ProblemSet, build_problems
from bundler.synthetic.generator import generate_units, write_layer
from solvers.problem import BundlingProblem

FAMILIES = ("grid", "voronoi", "generated", *families.NEW_FAMILIES)
# UTM 48S near Sumatera Selatan, as in tests/layers.py
UTM, X0, Y0 = families.UTM, families.X0, families.Y0
MEAN_CELL_HA = 800.0
MAXP_THRESHOLD_HA = 10_000.0
MAXP_FAMILIES = ("grid", "voronoi", "dense", "counties")
# max-p thresholds other than MAXP_THRESHOLD_HA: the family's own minimum bundle area
MAXP_THRESHOLD_OF = {"counties": families.FAMILY_SETTINGS["counties"]["bundling.min_area_ha"]}


@dataclass
class Instance:
    """One benchmark instance, ready to plan (and, for grid/Voronoi, to run max-p on).

    Attributes
    ----------
    name, family : str
    n : int
        Units.
    seed : int
    units : GeoDataFrame
        Scored units in the working CRS.
    graph : networkx.Graph
        Adjacency under ``scenario`` (gap rule ``scenario.graph.max_gap_m``).
    scenario : Scenario
        The default scenario with the family's settings
        (:data:`benchmarks.families.FAMILY_SETTINGS`) applied.
    component_sizes : list of int
        Sizes of the NPV problem's components (largest first), after
        :func:`bundler.planning.problem_builder.build_problems`.
    maxp_units : GeoDataFrame or None
        Units whose ``area_ha``/``area_excl_ha`` are the max-p areas.
    maxp_graph : networkx.Graph or None
        Touching adjacency (corners count, like libpysal's Queen weights).
    maxp_scenario : Scenario or None
        ``scenario`` with ``min_area_ha`` = the threshold and gap 0.
    info : dict
        Build time and graph figures.
    settings : dict
        The family's scenario overrides (dotted keys).
    problem_set : ProblemSet or None
        :func:`~bundler.planning.problem_builder.build_problems` of ``units``, ``graph``
        and ``scenario``; not pickled (rebuilt on first use after loading, so that a
        worker's memory is what it was before the instance carried it).
    """

    name: str
    family: str
    n: int
    seed: int
    units: gpd.GeoDataFrame
    graph: nx.Graph
    scenario: Scenario
    component_sizes: list[int] = field(default_factory=list)
    maxp_units: gpd.GeoDataFrame | None = None
    maxp_graph: nx.Graph | None = None
    maxp_scenario: Scenario | None = None
    info: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    problem_set: ProblemSet | None = field(default=None, repr=False)

    @property
    def problems(self) -> list[BundlingProblem]:
        """The NPV problems (one per component that can reach the minimum area)."""
        if self.problem_set is None:
            self.problem_set = build_problems(self.units, self.graph, self.scenario)
        return self.problem_set.problems

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["problem_set"] = None
        return state

    def save(self, path: Path) -> Path:
        """Pickle to ``path`` (the runner's worker processes load it from there)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
        return path


def load_instance(path: str | Path) -> Instance:
    """Read an instance saved by :meth:`Instance.save`."""
    with open(path, "rb") as f:
        return pickle.load(f)


def synthetic_scores(units: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    """Give validated units seeded scores, the way ``tests/scored.py`` does.

    Protection potential per hectare is lognormal (median 2.5 tCO2e/ha/yr, sigma
    0.7) times a smooth spatial factor (a few seeded Gaussian bumps, so that good
    units cluster as real landscapes do); additionality is uniform in 0.3-1.0 and
    readiness uniform in 0.2-0.9. No ARR or peat. About a third of the units pay
    for their own costs before a bundle's fixed costs.
    """
    rng = np.random.default_rng([seed, 7])
    n = len(units)
    c = units.geometry.centroid
    xy = np.column_stack([c.x.to_numpy(), c.y.to_numpy()])
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = float(np.max(hi - lo)) or 1.0
    k = max(3, int(np.sqrt(n) / 4))
    centres = lo + rng.random((k, 2)) * (hi - lo)
    widths = span * rng.uniform(0.05, 0.2, k)
    heights = rng.uniform(-1.0, 1.0, k)
    d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    smooth = (heights[None, :] * np.exp(-d2 / (2 * widths[None, :] ** 2))).sum(axis=1)
    per_ha = np.exp(np.log(2.5) + 0.7 * rng.standard_normal(n) + 0.8 * smooth)
    pot = per_ha * units["area_ha"].to_numpy(float)
    units = units.copy()
    units["potential_protect_tco2e_yr"] = pot
    units["potential_arr_tco2e_yr"] = 0.0
    units["potential_peat_tco2e_yr"] = 0.0
    units["potential_tco2e_yr"] = pot
    units["peat_ha"] = 0.0
    units["additionality"] = rng.uniform(0.3, 1.0, n)
    units["readiness"] = rng.uniform(0.2, 0.9, n)
    units["main_intervention"] = "protect"
    return units


def _ministry_layer(geoms, crs: str = UTM) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "PS_ID": [f"U{i:06d}" for i in range(n)],
            "SKEMA": ["PPHKm"] * n,
            "KODE_PROV": ["16"] * n,
            "KODE_KAB": ["1601"] * n,
        },
        geometry=list(geoms),
        crs=crs,
    )


def _validated(geoms, tmp: Path, name: str) -> gpd.GeoDataFrame:
    path = tmp / f"{name}.gpkg"
    _ministry_layer(geoms).to_file(path)
    report = load_units(path)
    report.raise_if_errors()
    return report.units


def grid_geometries(n: int, seed: int) -> np.ndarray:
    """Touching rectangles on a jittered rectilinear grid (first ``n`` cells, row by row)."""
    rng = np.random.default_rng([seed, 11])
    ncol = int(np.ceil(np.sqrt(n)))
    nrow = int(np.ceil(n / ncol))
    xs = np.concatenate([[0.0], np.cumsum(rng.uniform(1500.0, 4000.0, ncol))])
    ys = np.concatenate([[0.0], np.cumsum(rng.uniform(1500.0, 4000.0, nrow))])
    row, col = np.divmod(np.arange(n), ncol)
    return shapely.box(X0 + xs[col], Y0 + ys[row], X0 + xs[col + 1], Y0 + ys[row + 1])


def voronoi_geometries(n: int, seed: int) -> np.ndarray:
    """Voronoi cells of :func:`benchmarks.bench_maxp.voronoi_layer`, scaled to metres."""
    cells, _ = voronoi_layer(n, seed)
    side = float(np.sqrt(n * MEAN_CELL_HA * 1e4))
    return shapely.transform(cells, lambda c: c * side + np.array([X0, Y0]))


def maxp_areas(n: int, seed: int, mean_area_ha: float = MEAN_CELL_HA, sigma: float = 1.0):
    """The lognormal areas of :func:`benchmarks.bench_maxp.maxp_problem` (same stream)."""
    rng = np.random.default_rng([seed, 1])
    area = rng.lognormal(0.0, sigma, n)
    return area * (mean_area_ha / area.mean())


def build_instance(
    family: str, n: int, seed: int = 0, scenario: Scenario | None = None
) -> Instance:
    """Build one instance (see the module docstring).

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    n : int
        Units.
    seed : int
        Same family, n and seed: the same instance.
    scenario : Scenario, optional
        The base scenario (default ``Scenario()``); the family's settings
        (:data:`benchmarks.families.FAMILY_SETTINGS`) are applied over it.
    """
    import time

    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    scen = families.family_scenario(family, scenario)
    t0 = time.perf_counter()
    extra: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if family in ("generated", "messy"):
            path = tmp / "units.gpkg"
            if family == "generated":
                provinces = 1 if n <= 3000 else n // 3000
                write_layer(generate_units(n, seed=seed, n_provinces=provinces), path)
            else:
                geoms, landscape, extra = families.messy_layer(n, seed)
                families.ministry_layer(geoms, landscape, seed).to_file(path)
            units = prepare_units(path, scen).units
        else:
            geoms = {
                "grid": grid_geometries,
                "voronoi": voronoi_geometries,
                "dense": families.dense_geometries,
                "counties": families.county_geometries,
            }[family](n, seed)
            units = synthetic_scores(_validated(geoms, tmp, family), seed)
    graph = adjacency(units, scen)
    pset = build_problems(units, graph, scen)
    inst = Instance(
        name=f"{family}-{n}-s{seed}",
        family=family,
        n=n,
        seed=seed,
        units=units,
        graph=graph,
        scenario=scen,
        component_sizes=sorted((p.n for p in pset.problems), reverse=True),
        settings=dict(families.FAMILY_SETTINGS.get(family, {})),
        problem_set=pset,
    )
    if family in MAXP_FAMILIES:
        mu = units.copy()
        if family == "voronoi":
            area = maxp_areas(n, seed)
            mu["area_ha"] = area
            mu["area_excl_ha"] = area
        inst.maxp_units = mu
        inst.maxp_graph = build_adjacency(mu, 0.0)
        inst.maxp_scenario = scen.with_values(
            {
                "bundling.min_area_ha": MAXP_THRESHOLD_OF.get(family, MAXP_THRESHOLD_HA),
                "graph.max_gap_m": 0.0,
            }
        )
    in_problems = sum(p.n for p in pset.problems)
    inst.info = {
        "build_s": time.perf_counter() - t0,
        "edges": graph.number_of_edges(),
        "components": len(pset.problems),
        "largest_component": inst.component_sizes[0] if inst.component_sizes else 0,
        "graph_components": nx.number_connected_components(graph),
        "eligible_units": in_problems,
        "eligible_share": in_problems / max(len(units), 1),
    }
    if family == "messy":
        inst.info.update(
            landscapes=extra["landscapes"], grown=len(extra["grown"]), split=len(extra["split"])
        )
    return inst
