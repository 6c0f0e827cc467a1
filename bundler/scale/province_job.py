"""One province of a national run or sweep: the unit of work sent to a Dask worker.

The job is pure: it receives the province's scored units and the settings,
plans, estimates and schedules them, writes the usual plan files into a
scratch folder and returns their bytes, so a worker on another machine needs
neither the input file nor a shared disk.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from bundler.config.scenario import Scenario
from bundler.economics.estimation import estimate_plan
from bundler.outputs.plan import json_default, write_plan
from bundler.pipeline import adjacency
from bundler.planning.planner import plan_bundles, plan_totals
from solvers.base import SolveParams


@dataclass(frozen=True)
class ProvinceSpec:
    """What a worker needs, besides the units, to plan one province.

    Attributes
    ----------
    code : str
        Province code (``KODE_PROV``), or ``"all"`` for a layer without provinces.
    name : str
        Province name, for tables and reports.
    scenario : Scenario
        The resolved scenario.
    solver : str
        Backend name.
    params : SolveParams
        Time limit (for this province), gap, threads and seed.
    inputs : dict
        ``name -> {"path", "sha256"}`` of the input files, for ``run.json``.
    run_facts : dict
        Extra facts for ``run.json``.
    report : bool
        Write ``report.html`` and ``map.png`` too.
    """

    code: str
    name: str
    scenario: Scenario
    solver: str
    params: SolveParams
    inputs: dict = field(default_factory=dict)
    run_facts: dict = field(default_factory=dict)
    report: bool = True


@dataclass
class ProvinceResult:
    """A planned province: its summary row and its plan files (name -> bytes)."""

    summary: dict
    files: dict[str, bytes]


def plan_province(spec: ProvinceSpec, units: gpd.GeoDataFrame) -> ProvinceResult:
    """Plan, estimate and schedule one province and return its files.

    Parameters
    ----------
    spec : ProvinceSpec
    units : GeoDataFrame
        The province's validated and scored units in the working CRS.

    Returns
    -------
    ProvinceResult
        ``summary`` holds ``province_code, province, n_units, n_bundles,
        units_in_bundles, area_ha, credits_tco2e_yr, npv_usd, termination,
        objective, bound, gap, abs_gap, runtime_s, explanation``; ``files`` the plan
        files of :func:`bundler.outputs.plan.write_plan`. Bundle ids carry the
        province code (``16-B03``) so they stay unique in national tables.
    """
    scen = spec.scenario
    graph = adjacency(units, scen)
    plan = plan_bundles(
        units, graph, scen, scen.graph.max_gap_m, solver=spec.solver, params=spec.params
    )
    plan = plan.with_prefix(f"{spec.code}-")
    economics = estimate_plan(units, plan, scen)
    facts = {"province": spec.code, "province_name": spec.name, **spec.run_facts}
    with tempfile.TemporaryDirectory(prefix="psbundle-province-") as scratch:
        folder = Path(scratch)
        run = write_plan(
            folder,
            units,
            plan,
            scen,
            spec.inputs,
            facts,
            report=spec.report,
            economics=economics,
        )
        b = plan.bundles
        summary = {
            "province_code": spec.code,
            "province": spec.name,
            "n_units": len(units),
            **plan_totals(b),
            "termination": run["termination"],
            "objective": run["objective"],
            "bound": run["bound"],
            "gap": run["gap"],
            "abs_gap": run["abs_gap"],
            "runtime_s": run["runtime_s"],
            "explanation": plan.explanation,
        }
        summary = json.loads(json.dumps(summary, default=json_default))
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    return ProvinceResult(summary=summary, files=files)
