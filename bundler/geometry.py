"""Areas in hectares of geometries in a metric, equal-area CRS."""

from __future__ import annotations

import numpy as np
import shapely

M2_PER_HA = 1e4


def area_ha(geoms) -> np.ndarray:
    """Area of each geometry, ha."""
    return shapely.area(geoms) / M2_PER_HA


def union_area_ha(geoms) -> float:
    """Area of the union of the geometries, ha (overlaps counted once)."""
    return float(shapely.union_all(geoms).area) / M2_PER_HA
