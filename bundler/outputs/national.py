"""Writing a national run: provinces' files, merged tables, national layers and report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bundler.config.scenario import Scenario, to_dict
from bundler.outputs.files import run_envelope, write_layers
from bundler.outputs.gaps import format_gap
from bundler.outputs.plan import json_default, package_versions
from bundler.outputs.report import write_report
from bundler.scale.national import (
    Part,
    concat_csv,
    copy_parts,
    merged_priority,
    national_layers,
    overall_termination,
    provinces_table,
)
from bundler.scoring.potential_tables import potential_by_intervention, potential_by_scheme

MERGED_CSV = ("bundles.csv", "estimates.csv", "yearly.csv", "benefit_sharing.csv")


def write_national(
    folder: Path,
    units: gpd.GeoDataFrame,
    parts: Sequence[Part],
    scenario: Scenario,
    facts: dict,
) -> dict:
    """Write a national run into ``folder`` (a scratch folder the caller moves into place).

    Parameters
    ----------
    folder : Path
    units : GeoDataFrame
        Every scored unit, in the working CRS.
    parts : sequence of Part
        One per province (one scenario).
    scenario : Scenario
    facts : dict
        Run facts for ``run.json`` and the report (inputs, solver, time limit ...).

    Returns
    -------
    dict
        The facts written to ``run.json``.

    Notes
    -----
    Files: ``provinces/<code>/`` (each province's plan files), ``provinces.csv``,
    ``priority.csv`` (national rank and provincial rank), the provinces'
    ``bundles.csv``, ``estimates.csv``, ``yearly.csv`` and ``benefit_sharing.csv``
    stacked, ``potential_by_intervention.csv`` and ``potential_by_scheme.csv``
    (the brief's two tables for the whole layer), ``plan.gpkg`` (layers
    ``units`` and ``bundles``), ``report.html``, ``map.png`` and ``run.json``.
    """
    copy_parts(parts, folder / "provinces")
    provinces = provinces_table(parts)
    provinces.to_csv(folder / "provinces.csv", index=False, float_format="%.4f")
    priority = merged_priority(parts, scenario)
    priority.to_csv(folder / "priority.csv", index=False, float_format="%.2f")
    merged = {name: concat_csv(parts, name) for name in MERGED_CSV}
    for name, table in merged.items():
        table.to_csv(folder / name, index=False, float_format="%.4f")
    by_int = potential_by_intervention(units)
    by_scheme = potential_by_scheme(units)
    by_int.to_csv(folder / "potential_by_intervention.csv", float_format="%.4f")
    by_scheme.to_csv(folder / "potential_by_scheme.csv", float_format="%.4f")

    unit_layer, bundle_layer = national_layers(units, parts)
    write_layers(folder / "plan.gpkg", {"units": unit_layer, "bundles": bundle_layer}, units)

    failed = [p for p in parts if p.status == "failed"]
    own = {
        "scenario": to_dict(scenario),
        "n_units": len(units),
        "n_provinces": len(parts),
        "n_bundles": len(priority),
        "provinces_computed": sum(p.status == "computed" for p in parts),
        "provinces_resumed": sum(p.status == "resumed" for p in parts),
        "provinces_failed": {p.code: p.error for p in failed},
        "termination": overall_termination(parts),
    }
    run = run_envelope("national", own, package_versions(), facts)
    (folder / "run.json").write_text(json.dumps(run, indent=2, default=json_default) + "\n")

    yearly = merged["yearly.csv"]
    yearly_credits = (
        yearly.loc[:, ["bundle_id", "year", "credits_tco2e"]].rename(
            columns={"credits_tco2e": "credits"}
        )
        if len(yearly)
        else pd.DataFrame(columns=["bundle_id", "year", "credits"])
    )
    report_facts = {
        k: run[k]
        for k in ("termination", "n_units", "n_provinces", "n_bundles", "provinces_resumed")
    }
    report_facts.update(
        report_kind="national",
        scenario=scenario.name,
        carbon_price_usd=scenario.economics.carbon_price_usd,
        provinces_failed=", ".join(f"{p.code} ({p.error})" for p in failed) or "none",
        **{k: v for k, v in facts.items() if v is not None},
    )
    if not len(priority):
        report_facts["explanation"] = "No province produced a bundle; see the provinces table."
    write_report(
        folder,
        unit_layer,
        _with_national_rank(bundle_layer, priority),
        {
            "Provinces": provinces.assign(gap=[_shown_gap(p.summary) for p in parts]),
            "National priority list": priority.drop(columns=["why"], errors="ignore"),
            "Potential by intervention (MtCO2e/yr, all units)": by_int.reset_index(),
            "Potential by scheme (MtCO2e/yr, all units)": by_scheme.reset_index(),
        },
        yearly_credits,
        report_facts,
        sharing=merged["benefit_sharing.csv"],
    )
    return run


def _with_national_rank(bundles: gpd.GeoDataFrame, priority: pd.DataFrame) -> gpd.GeoDataFrame:
    """The bundles for the report's map: ``priority_rank`` national, ``province_rank`` beside.

    A province's ``plan.gpkg`` ranks its bundles within the province; the national
    report's panel shows the rank in the national priority list, as its table does.
    """
    if not len(bundles) or "priority_rank" not in bundles or "bundle_id" not in priority:
        return bundles
    rank = priority.set_index(priority["bundle_id"].astype(str))["rank"]
    return bundles.assign(
        province_rank=bundles["priority_rank"],
        priority_rank=bundles["bundle_id"].astype(str).map(rank).astype("Int64"),
    )


def _shown_gap(summary: dict) -> str:
    """A province's gap for the report: a percentage, "undefined (...)" or "-"."""
    return format_gap(summary.get("objective"), summary.get("bound"))
