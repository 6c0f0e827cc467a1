"""Writing a plan: every file of ``psbundle plan``'s output folder.

``report.html`` and ``map.png`` (through :mod:`bundler.outputs.report`), ``plan.gpkg``
(layers ``units`` and ``bundles``, with their default QGIS styles), ``bundles.csv``,
``estimates.csv``, ``yearly.csv``, ``priority.csv``, ``benefit_sharing.csv``,
``plan.xlsx`` (through :mod:`bundler.outputs.interop`), ``run.json`` and, with
near-optimal alternatives (``--alternatives``), ``alternatives.csv``. Money is in US
dollars, with rupiah beside it (``*_idr``) in the bundles, estimates and benefit
sharing. Every column is described in ``docs/outputs.md``.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bundler.config.scenario import Scenario, to_dict
from bundler.economics.currency import usd_to_idr, with_idr_columns
from bundler.economics.estimation import PlanEconomics
from bundler.i18n.catalogue import translator
from bundler.outputs.files import run_envelope, write_layers
from bundler.outputs.forked import start_forked
from bundler.outputs.gaps import bound_meaning
from bundler.outputs.interop.qgis_styles import write_plan_styles
from bundler.outputs.interop.workbook import write_plan_workbook
from bundler.outputs.report import write_report
from bundler.outputs.report.charts import pareto_figure, pareto_html
from bundler.planning.alternatives import Alternatives
from bundler.planning.importance import Importance
from bundler.planning.pareto import Pareto
from bundler.planning.planner import Plan
from bundler.safeguards.exclusion import REASON as EXCLUSION_REASON
from bundler.safeguards.exclusion import excluded_mask, excluded_table
from solvers.base import absolute_gap

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
    "openpyxl",
)
# plans of at least this many units draw their report in a forked process beside the
# other files (bundler.outputs.forked); below it the fork costs more than it saves
# (3,000 units: report 1.6 s, the other files 1.2 s)
FORK_MIN_UNITS = 1_000


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


def input_record(value: str | Path | dict) -> dict:
    """``{"path", "sha256"}`` of an input file, or the record itself when already made."""
    if isinstance(value, dict):
        return {"path": str(value["path"]), "sha256": str(value["sha256"])}
    return {"path": str(value), "sha256": sha256_of(value)}


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a plan depends on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def units_layer(
    units: gpd.GeoDataFrame,
    plan: Plan,
    alternatives: Alternatives | None = None,
    importance: Importance | None = None,
) -> gpd.GeoDataFrame:
    """Every input unit with ``bundle_id`` and ``reason`` next to its scores.

    With ``alternatives``, each unit's bundle in each of them follows ``reason``
    (``bundle_id_alt1`` ...); with ``importance``, its ``importance`` and
    ``join_price_usd``.

    An excluded unit's ``exclusion_reason`` is its ``reason``, so it is not repeated.
    """
    out = units.drop(columns=[EXCLUSION_REASON], errors="ignore")
    out["bundle_id"] = plan.unit_bundle.to_numpy()
    out["reason"] = plan.unit_reason.to_numpy()
    first = ["unit_id", "bundle_id", "reason"]
    extra = alternatives.unit_columns() if alternatives else {}
    extra.update(importance.unit_columns() if importance else {})
    for name, column in extra.items():
        out[name] = column.to_numpy()
        first.append(name)
    return out[first + [c for c in out.columns if c not in first]]


def bundles_layer(units: gpd.GeoDataFrame, bundles: pd.DataFrame) -> gpd.GeoDataFrame:
    """One dissolved (multi)polygon per bundle with its figures."""
    table = bundles.drop(columns="unit_ids")
    if not len(table):
        return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries([], crs=units.crs))
    members = bundles[["bundle_id", "unit_ids"]].explode("unit_ids")
    where = dict(zip(members["unit_ids"], members["bundle_id"], strict=True))
    dissolved = (
        units.assign(bundle_id=units["unit_id"].astype(str).map(where))
        .dropna(subset=["bundle_id"])
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
    inputs: dict[str, Path | dict],
    run_facts: dict,
    report: bool = True,
    *,
    economics: PlanEconomics,
    alternatives: Alternatives | None = None,
    pareto: Pareto | None = None,
    importance: Importance | None = None,
) -> dict:
    """Write every output of a plan and of its economics into ``folder``.

    ``folder`` is a scratch folder that the caller moves into place, so a run's
    files appear all together or not at all.

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
        A value may instead be a ready ``{"path": ..., "sha256": ...}`` record
        (a worker of a national run may not see the input file).
    run_facts : dict
        Extra facts for ``run.json`` (seed, time limit, gap rule, command line ...).
    report : bool
        Also write ``report.html`` and ``map.png`` (sweeps skip them for speed).
    economics : PlanEconomics
        The plan's estimates, five-year schedule and benefit sharing, from
        :func:`bundler.economics.estimation.estimate_plan`: callers estimate and
        schedule before writing, so this function only writes.
    alternatives : Alternatives, optional
        Near-optimal alternatives, verified
        (:func:`bundler.planning.alternatives.plan_alternatives`): ``alternatives.csv``,
        a ``bundle_id_alt<i>`` column per alternative in the ``units`` layer, a section
        of the report and ``alternatives`` in ``run.json``.
    pareto : Pareto, optional
        A verified Pareto front of objective against co-benefit
        (:func:`bundler.planning.pareto.plan_pareto`): ``pareto.csv``, ``pareto.png``, a
        section of the report (chart and table) and ``pareto`` in ``run.json``.
    importance : Importance, optional
        Each unit's importance (:func:`bundler.planning.importance.plan_importance`):
        ``importance.csv``, ``importance`` and ``join_price_usd`` columns in the
        ``units`` layer, a section of the report and ``importance`` in ``run.json``.

    Returns
    -------
    dict
        The facts written to ``run.json``.

    Notes
    -----
    Files: ``plan.gpkg`` (layers ``units`` and ``bundles``, the latter with
    ``start_year`` and ``priority_rank``; each with its default QGIS style),
    ``bundles.csv``, ``estimates.csv``, ``yearly.csv``, ``priority.csv``,
    ``benefit_sharing.csv``, ``plan.xlsx``, ``run.json``, ``report.html`` and
    ``map.png``. The bundles (layer and CSV), estimates and benefit sharing have an
    ``<x>_idr`` column beside every ``<x>_usd`` one, at ``economics.usd_idr``.
    ``report.html`` is written in the scenario's ``report.lang`` (the plan's reasons
    and the priority list's ``why`` already are); the CSV files keep ``.`` decimals.
    """
    est, priority, sharing, schedule_term = economics
    rate = scenario.economics.usd_idr
    order = priority.set_index("bundle_id")
    table = with_idr_columns(plan.bundles, rate)
    table["start_year"] = table["bundle_id"].map(order["start_year"]).astype(str)
    table["priority_rank"] = table["bundle_id"].map(order["rank"]).astype("Int64")
    bundle_layer = with_idr_columns(bundles_layer(units, plan.bundles), rate)
    bundle_layer["start_year"] = bundle_layer["bundle_id"].map(order["start_year"]).astype(str)
    bundle_layer["priority_rank"] = bundle_layer["bundle_id"].map(order["rank"]).astype("Int64")
    out = _Outputs(
        folder=folder,
        scenario=scenario,
        table=table,
        summary=with_idr_columns(est.summary, rate),
        sharing=with_idr_columns(sharing, rate),
        priority=priority,
        yearly=est.yearly,
        unit_layer=units_layer(units, plan, alternatives, importance),
        bundle_layer=bundle_layer,
        alternatives=alternatives,
        pareto=pareto,
        importance=importance,
    )
    run = run_envelope(
        None,
        _own_facts(units, plan, inputs, schedule_term, out),
        package_versions(),
        run_facts,
    )
    # the report (maps and charts) is drawn in a child process while this one writes the
    # data files: on two cores the slower of the two sets the time, not their sum
    pages = None
    if report:
        pages = start_forked(
            lambda: _write_report_files(out, plan, run, run_facts),
            fork=len(units) >= FORK_MIN_UNITS,
        )
    try:
        _write_data_files(out, units, run)
    except BaseException:
        if pages is not None:
            pages.cancel()
        raise
    if pages is not None:
        pages.join()
    return run


@dataclass(frozen=True)
class _Outputs:
    """The tables and layers of one plan, ready to write."""

    folder: Path
    scenario: Scenario
    table: pd.DataFrame
    summary: pd.DataFrame
    sharing: pd.DataFrame
    priority: pd.DataFrame
    yearly: pd.DataFrame
    unit_layer: gpd.GeoDataFrame
    bundle_layer: gpd.GeoDataFrame
    alternatives: Alternatives | None
    pareto: Pareto | None
    importance: Importance | None


def _own_facts(units, plan, inputs, schedule_term, out: _Outputs) -> dict:
    """What ``run.json`` says of this plan (the envelope adds versions and run facts)."""
    own = {
        "inputs": {k: input_record(v) for k, v in inputs.items()},
        "scenario": to_dict(out.scenario),
        "solver": plan.solver,
        "objective_name": plan.objective_name,
        "termination": plan.termination.value,
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap,
        "abs_gap": absolute_gap(plan.objective, plan.bound),
        "bound_refers_to": bound_meaning(plan.objective_name),
        "runtime_s": round(plan.runtime_s, 3),
        "max_cost_per_tco2e": plan.max_cost_per_tco2e,
        "n_units": len(units),
        "n_bundles": len(plan.bundles),
        "n_excluded": int(excluded_mask(units).sum()),
        "schedule_termination": schedule_term,
        "components": [
            {
                "n_units": n,
                "solved_by": r.solver,
                "termination": r.termination.value,
                "objective": r.objective,
                "bound": r.bound,
                "gap": r.gap,
                "abs_gap": absolute_gap(r.objective, r.bound),
                "runtime_s": round(r.runtime_s, 3),
                "rounds": r.iterations,
            }
            for n, r in plan.component_results
        ],
        "explanation": plan.explanation,
    }
    if out.alternatives is not None:
        own["alternatives"] = out.alternatives.facts()
    if out.pareto is not None:
        own["pareto"] = out.pareto.facts()
    if out.importance is not None:
        own["importance"] = out.importance.facts()
    return own


def _write_data_files(out: _Outputs, units: gpd.GeoDataFrame, run: dict) -> None:
    """Every file but the report: GeoPackage and its styles, CSV, workbook, ``run.json``."""
    folder = out.folder
    write_layers(
        folder / "plan.gpkg", {"units": out.unit_layer, "bundles": out.bundle_layer}, units
    )
    # into the scratch folder's GeoPackage, so the styles move into place with it
    write_plan_styles(
        folder / "plan.gpkg", out.table["bundle_id"], units_layer="units", bundles_layer="bundles"
    )
    csv = out.table.assign(unit_ids=out.table["unit_ids"].map(";".join))
    csv.to_csv(folder / "bundles.csv", index=False, float_format="%.4f")
    out.summary.to_csv(folder / "estimates.csv", index=False, float_format="%.4f")
    out.yearly.to_csv(folder / "yearly.csv", index=False, float_format="%.4f")
    out.priority.to_csv(folder / "priority.csv", index=False, float_format="%.2f")
    out.sharing.to_csv(folder / "benefit_sharing.csv", index=False, float_format="%.2f")
    if out.alternatives is not None:
        out.alternatives.table.to_csv(folder / "alternatives.csv", index=False, float_format="%.6f")
    if out.pareto is not None:
        out.pareto.table.to_csv(folder / "pareto.csv", index=False, float_format="%.6f")
        pareto_figure(out.pareto.table, out.scenario.report.lang).savefig(
            folder / "pareto.png", format="png", dpi=150
        )
    if out.importance is not None:
        out.importance.table.to_csv(folder / "importance.csv", index=False, float_format="%.4f")
    write_plan_workbook(
        folder / "plan.xlsx",
        bundles=out.table,
        priority=out.priority,
        estimates=out.summary,
        sharing=out.sharing,
        units=out.unit_layer,
    )
    (folder / "run.json").write_text(json.dumps(run, indent=2, default=json_default) + "\n")


def _write_report_files(out: _Outputs, plan: Plan, run: dict, run_facts: dict) -> None:
    """``report.html`` and ``map.png``, in the scenario's report language."""
    scenario = out.scenario
    lang = scenario.report.lang
    rate = scenario.economics.usd_idr
    yearly_credits = out.yearly.loc[:, ["bundle_id", "year", "credits_tco2e"]].rename(
        columns={"credits_tco2e": "credits"}
    )
    report_facts = {
        k: run[k]
        for k in (
            "solver",
            "objective_name",
            "termination",
            "objective",
            "bound",
            "gap",
            "runtime_s",
            "n_units",
            "n_bundles",
            "n_excluded",
            "schedule_termination",
            "explanation",
            "alternatives",
            "pareto",
            "importance",
        )
        if k in run
    }
    report_facts.update(
        scenario=scenario.name,
        carbon_price_usd=scenario.economics.carbon_price_usd,
        carbon_price_idr=usd_to_idr(scenario.economics.carbon_price_usd, rate),
        usd_idr=rate,
        # objective, bound and NPV measure different things: the facts say which one
        bound_refers_to=bound_meaning(plan.objective_name, lang),
        inputs=run["inputs"],
        **{k: v for k, v in run_facts.items() if v is not None},
    )
    _ = translator(lang).gettext
    tables = {
        _("Five-year priority list"): out.priority,
        _("Bundles"): out.summary,
        _("Benefit sharing"): out.sharing,
    }
    excluded = excluded_table(out.unit_layer, lang)
    if len(excluded):
        tables[_("Excluded units")] = excluded
    if out.alternatives is not None:
        tables[_("Near-optimal alternatives")] = out.alternatives.table
    if out.importance is not None:
        tables.update(out.importance.report_tables(lang))
    charts = {}
    if out.pareto is not None:
        title = _("Objective against co-benefit (Pareto front)")
        tables[title] = out.pareto.table
        charts[title] = pareto_html(out.pareto.table, lang)
    write_report(
        out.folder,
        out.unit_layer,
        out.bundle_layer,
        tables,
        yearly_credits,
        report_facts,
        sharing=out.sharing,
        lang=lang,
        charts=charts,
    )


def json_default(obj):
    """``json.dumps`` fallback for paths, numpy scalars, tuples, sets and timestamps."""
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, tuple | set):
        return list(obj)
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")
