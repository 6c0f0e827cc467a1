"""Scored unit tables made by hand, for planning tests that must not depend on scoring factors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from bundler.input.validation import load_units
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
