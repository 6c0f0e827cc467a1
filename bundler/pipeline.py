"""The pipeline as pure functions: file -> units -> scores -> graph -> plan.

Nothing here prints; the CLI shows progress through the callbacks it passes in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx

from bundler.config.scenario import Scenario
from bundler.graph.adjacency import build_adjacency
from bundler.input.rasters import zonal_areas
from bundler.input.validation import ValidationReport, load_units
from bundler.safeguards.exclusion import apply_safeguards
from bundler.scoring.units import score_units

# CLI raster flag -> the unit column it fills
RASTER_COLUMNS = {
    "forest_2010": "forest_ha_2010",
    "forest_2020": "forest_ha_2020",
    "peat": "peat_ha",
    "mangrove": "mangrove_ha",
}


@dataclass
class Prepared:
    """Validated and scored units, ready to plan.

    ``inputs`` maps a name to an input file's path (or its ready ``{"path", "sha256"}``
    record); ``safeguards`` is what ``run.json`` records of the exclusions
    (:class:`bundler.safeguards.exclusion.Safeguards`).
    """

    report: ValidationReport
    units: gpd.GeoDataFrame
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, Path | dict] = field(default_factory=dict)
    safeguards: dict = field(default_factory=dict)


def prepare_units(
    path: Path,
    scenario: Scenario,
    province: str | None = None,
    assume_crs: str | None = None,
    rasters: dict[str, Path | None] | None = None,
) -> Prepared:
    """Read, validate and score a unit layer, and mark the units its safeguards exclude.

    Parameters
    ----------
    path : Path
        The unit layer.
    scenario : Scenario
    province : str, optional
        Province code or name to keep.
    assume_crs : str, optional
        CRS for a layer without one.
    rasters : dict, optional
        ``forest_2010``, ``forest_2020``, ``peat``, ``mangrove`` -> GeoTIFF path (or None).
        Without rasters the layer's own columns are used.

    Returns
    -------
    Prepared
        With the columns of :mod:`bundler.safeguards.exclusion` when the scenario's
        ``[safeguards]`` name exclusion layers or the layer has a ``conflict`` column.

    Raises
    ------
    InputError
        For an unusable layer, raster or exclusion layer.
    """
    report = load_units(path, scenario, province=province, assume_crs=assume_crs)
    report.raise_if_errors()
    given = {k: Path(v) for k, v in (rasters or {}).items() if v is not None}
    warnings = list(report.warnings)
    areas = None
    if given:
        areas, raster_warnings = zonal_areas(
            report.units, {RASTER_COLUMNS[k]: v for k, v in given.items()}
        )
        warnings.extend(raster_warnings)
    scored = score_units(report.units, scenario.scoring, areas)
    warnings.extend(scored.attrs.get("scoring_warnings", []))
    safe = apply_safeguards(scored, scenario)
    warnings.extend(safe.warnings)
    inputs = {"units": Path(path), **{f"raster_{k}": v for k, v in given.items()}, **safe.inputs}
    return Prepared(
        report=report, units=safe.units, warnings=warnings, inputs=inputs, safeguards=safe.record
    )


def adjacency(
    units: gpd.GeoDataFrame,
    scenario: Scenario,
    progress: Callable[[int, int], None] | None = None,
) -> nx.Graph:
    """The adjacency graph under the scenario's gap and landscape rules."""
    return build_adjacency(
        units,
        scenario.graph.max_gap_m,
        landscape_edges=scenario.graph.landscape_edges,
        progress=progress,
    )
