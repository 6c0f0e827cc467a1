"""Scored unit tables made by hand, for planning tests that must not depend on scoring factors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from bundler.config.scenario import Scenario
from bundler.graph.adjacency import build_adjacency
from bundler.input.validation import load_units
from bundler.planning.planner import plan_bundles
from tests.layers import layer, square


def scored_grid(
    tmp_path,
    rows: int,
    cols: int,
    side: float = 5000.0,
    step: float = 5200.0,
    protect=None,
    seed: int = 0,
    additionality: float = 1.0,
) -> gpd.GeoDataFrame:
    """A rows x cols grid of squares ``side`` metres wide, ``step - side`` metres apart.

    Goes through the real reader and validator (so areas and the working CRS are the
    product's own), then gets hand-set scores: protection potential per unit
    (tCO2e/yr), no ARR or peat, the given additionality and readiness 0.5.
    """
    geoms = [square(c * step, r * step, side) for r in range(rows) for c in range(cols)]
    gdf = layer(geoms, KODE_KAB=["1601"] * len(geoms))
    path = tmp_path / f"grid_{rows}x{cols}_{seed}.gpkg"
    gdf.to_file(path)
    units = load_units(path).units
    n = len(units)
    rng = np.random.default_rng(seed)
    pot = rng.uniform(0, 40_000, n) if protect is None else np.asarray(protect, float)
    units["potential_protect_tco2e_yr"] = pot
    units["potential_arr_tco2e_yr"] = 0.0
    units["potential_peat_tco2e_yr"] = 0.0
    units["potential_tco2e_yr"] = pot
    units["peat_ha"] = 0.0
    units["additionality"] = additionality
    units["readiness"] = 0.5
    units["main_intervention"] = "protect"
    return units


# the gap rule of the planned grids (neighbours 200 m apart are adjacent)
GRID_GAP_M = 500.0


def plan_grid(units, scenario, params, objective=None):
    """``units`` planned under ``scenario`` with the :data:`GRID_GAP_M` gap rule."""
    graph = build_adjacency(units, GRID_GAP_M)
    return plan_bundles(units, graph, scenario, GRID_GAP_M, params=params, objective=objective)


def planned_grid(folder, seed: int, carbon_price: float, params):
    """A 3 x 5 :func:`scored_grid` planned at ``carbon_price`` with a 5,000 ha minimum.

    Returns ``(units, scenario, gap_m, plan)``; the plan must have bundles.
    """
    units = scored_grid(folder, 3, 5, seed=seed)
    scenario = Scenario().with_values(
        {"economics.carbon_price_usd": carbon_price, "bundling.min_area_ha": 5000.0}
    )
    plan = plan_grid(units, scenario, params)
    assert len(plan.bundles), "the fixture needs a plan with bundles"
    return units, scenario, GRID_GAP_M, plan
