"""Writing a plan: ``plan.gpkg`` (units and bundles layers), ``bundles.csv``, ``run.json``."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bundler import __version__
from bundler.planning import Plan
from bundler.scenario import Scenario, to_dict

PACKAGES = (
    "ps-bundler",
    "highspy",
    "ortools",
    "pulp",
    "networkx",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyproj",
    "numpy",
    "scipy",
)


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file (streamed), or of every file in a folder (e.g. a shapefile's)."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(p.parent.glob(p.stem + ".*")) if p.suffix.lower() == ".shp" else [p]
    for f in files:
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a plan depends on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def units_layer(units: gpd.GeoDataFrame, plan: Plan) -> gpd.GeoDataFrame:
    """Every input unit with ``bundle_id`` and ``reason`` next to its scores."""
    out = units.copy()
    out["bundle_id"] = plan.unit_bundle.to_numpy()
    out["reason"] = plan.unit_reason.to_numpy()
    first = ["unit_id", "bundle_id", "reason"]
    return out[first + [c for c in out.columns if c not in first]]


def bundles_layer(units: gpd.GeoDataFrame, plan: Plan) -> gpd.GeoDataFrame:
    """One dissolved (multi)polygon per bundle with its figures."""
    table = plan.bundles.drop(columns="unit_ids")
    if not len(table):
        return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries([], crs=units.crs))
    dissolved = (
        units.assign(bundle_id=plan.unit_bundle.to_numpy())
        .loc[lambda d: d["bundle_id"] != ""]
        .dissolve(by="bundle_id")[["geometry"]]
        .reset_index()
    )
    return gpd.GeoDataFrame(
        table.merge(dissolved, on="bundle_id"), geometry="geometry", crs=units.crs
    )


def write_plan(
    folder: Path,
    units: gpd.GeoDataFrame,
    plan: Plan,
    scenario: Scenario,
    inputs: dict[str, Path],
    run_facts: dict,
) -> None:
    """Write the plan files into ``folder`` (a scratch folder moved into place by the caller).

    Parameters
    ----------
    folder : Path
    units : GeoDataFrame
        Scored units in the working CRS.
    plan : Plan
    scenario : Scenario
        The resolved scenario (defaults plus file plus command-line overrides).
    inputs : dict
        Name -> path of every input file; their sha256 go into ``run.json``.
    run_facts : dict
        Extra facts for ``run.json`` (seed, time limit, gap rule, command line ...).
    """
    gpkg = folder / "plan.gpkg"
    units_layer(units, plan).to_file(gpkg, layer="units", driver="GPKG")
    bundles_layer(units, plan).to_file(gpkg, layer="bundles", driver="GPKG", mode="a")
    table = plan.bundles.copy()
    table["unit_ids"] = table["unit_ids"].map(lambda ids: ";".join(ids))
    table.to_csv(folder / "bundles.csv", index=False, float_format="%.4f")
    run = {
        "ps_bundler": __version__,
        "inputs": {k: {"path": str(v), "sha256": sha256_of(v)} for k, v in inputs.items()},
        "scenario": to_dict(scenario),
        "solver": plan.solver,
        "objective_name": plan.objective_name,
        "termination": plan.termination.value,
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap,
        "runtime_s": round(plan.runtime_s, 3),
        "max_cost_per_tco2e": plan.max_cost_per_tco2e,
        "n_units": len(units),
        "n_bundles": len(plan.bundles),
        "components": [
            {
                "n_units": n,
                "termination": r.termination.value,
                "objective": r.objective,
                "bound": r.bound,
                "gap": r.gap,
                "runtime_s": round(r.runtime_s, 3),
                "rounds": r.iterations,
            }
            for n, r in plan.component_results
        ],
        "explanation": plan.explanation,
        "packages": package_versions(),
        **run_facts,
    }
    (folder / "run.json").write_text(json.dumps(run, indent=2, default=_json_default) + "\n")


def _json_default(obj):
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, tuple | set):
        return list(obj)
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")
