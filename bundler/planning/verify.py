"""The independent verifier: every plan is checked against the rules before it is written.

It recomputes everything from the geometry and the scenario, without the
adjacency graph or the solver's numbers: neighbourhood by the same gap rule
(boundary distance, or a shared landscape id), union areas, the exact cost
model. A violation is a bug in ps-bundler and raises
:class:`~bundler.errors.VerificationError`.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from bundler.config.scenario import Scenario
from bundler.economics.costmodel import bundle_economics
from bundler.errors import VerificationError
from bundler.geometry import union_area_ha
from bundler.graph.adjacency import TOUCH_TOLERANCE_M
from bundler.safeguards.exclusion import excluded_mask

TOL = 1e-6


def plan_violations(
    units: gpd.GeoDataFrame,
    bundles: Sequence[Sequence[str]],
    scenario: Scenario,
    max_gap_m: float,
    objective: str,
    min_area_of_unit: np.ndarray,
    max_cost_per_tco2e: float,
) -> list[str]:
    """Every rule a plan breaks; empty when the plan is valid.

    Parameters
    ----------
    units : GeoDataFrame
        The scored units in the working (metric, equal-area) CRS.
    bundles : sequence of sequence of str
        Unit ids of each bundle.
    scenario : Scenario
    max_gap_m : float
        The gap rule the plan was made with.
    objective : str
        ``"max-p"`` skips the cost and manageability tests (it has none).
    min_area_of_unit : ndarray
        Minimum bundle area each unit requires (by its main intervention).
    max_cost_per_tco2e : float

    Returns
    -------
    list of str
    """
    rules = scenario.bundling
    pos = {u: i for i, u in enumerate(units["unit_id"].astype(str))}
    problems: list[str] = []
    seen: dict[str, int] = {}
    for b, members in enumerate(bundles):
        for u in members:
            if u not in pos:
                problems.append(f"bundle {b}: unknown unit {u}")
            elif u in seen:
                problems.append(f"unit {u} is in bundles {seen[u]} and {b}")
            else:
                seen[u] = b
    if problems:
        return problems
    geoms = np.asarray(units.geometry.values, dtype=object)
    landscape = (
        units["landscape_id"].fillna("").astype(str).str.strip().to_numpy()
        if scenario.graph.landscape_edges and "landscape_id" in units
        else None
    )
    cx = shapely.centroid(geoms)
    excluded = excluded_mask(units)
    for b, members in enumerate(bundles):
        idx = np.array([pos[u] for u in members], dtype=int)
        label = f"bundle {b} ({len(idx)} units)"
        if not _connected(geoms[idx], max_gap_m, None if landscape is None else landscape[idx]):
            problems.append(f"{label}: not connected under the {max_gap_m:g} m gap rule")
        union_ha = union_area_ha(geoms[idx])
        need = float(min_area_of_unit[idx].max())
        if union_ha + TOL < need:
            problems.append(f"{label}: area {union_ha:.1f} ha below the minimum {need:.1f} ha")
        locked = set(members) & set(rules.locked_out)
        if locked:
            problems.append(f"{label}: contains locked-out units {sorted(locked)}")
        if excluded[idx].any():
            shut = sorted(str(u) for u in np.asarray(members)[excluded[idx]])
            problems.append(f"{label}: contains units excluded by a safeguard {shut}")
        if objective == "max-p":
            continue
        if union_ha > rules.max_area_ha + TOL:
            problems.append(f"{label}: area {union_ha:.1f} ha above the maximum")
        if rules.max_units and len(idx) > rules.max_units:
            problems.append(f"{label}: more than {rules.max_units} units")
        dist = shapely.distance(cx[idx][:, None], cx[idx][None, :])
        if dist.max(axis=1).min() > rules.max_radius_km * 1000 + 1e-3:
            problems.append(f"{label}: no unit has all others within {rules.max_radius_km} km")
        for col, flag in (
            ("district", rules.same_district),
            ("landscape_id", rules.same_landscape),
        ):
            if flag and units[col].iloc[idx].nunique() > 1:
                problems.append(f"{label}: spans more than one {col}")
        if rules.same_landscape and (units["landscape_id"].iloc[idx] == "").any():
            problems.append(f"{label}: has units outside any landscape")
        if rules.min_readiness > 0:
            low = units["readiness"].to_numpy(float)[idx] < rules.min_readiness - TOL
            if low.any():
                problems.append(f"{label}: units below the minimum readiness")
        econ = bundle_economics(units.iloc[idx], union_ha, scenario.economics)
        if econ.cost_per_tco2e > max_cost_per_tco2e * (1 + 1e-9) + TOL:
            problems.append(
                f"{label}: levelized cost {econ.cost_per_tco2e:.2f} USD/t above "
                f"{max_cost_per_tco2e:.2f}"
            )
    if objective != "max-p":
        missing = set(rules.locked_in) & set(pos) - set(seen)
        if missing:
            problems.append(f"locked-in units in no bundle: {sorted(missing)}")
    return problems


def _connected(geoms: np.ndarray, max_gap_m: float, landscape: np.ndarray | None) -> bool:
    """Connectivity by brute force over the bundle's pairs (bundles are small)."""
    n = len(geoms)
    if n <= 1:
        return True
    g = nx.Graph()
    g.add_nodes_from(range(n))
    d = shapely.distance(geoms[:, None], geoms[None, :])
    near = d <= max_gap_m + TOUCH_TOLERANCE_M + 1e-6
    if landscape is not None:
        near |= (landscape[:, None] == landscape[None, :]) & (landscape[:, None] != "")
    a, b = np.nonzero(np.triu(near, 1))
    g.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    return nx.is_connected(g)


def verify_plan(*args, **kwargs) -> None:
    """Raise :class:`VerificationError` when :func:`plan_violations` finds anything."""
    problems = plan_violations(*args, **kwargs)
    if problems:
        raise VerificationError(
            "the plan breaks its own rules (a bug in ps-bundler; nothing was written):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
