"""Writing a national run: provinces' files, merged tables, national layers and report.

The national ``plan.gpkg`` and ``plan.xlsx`` are those of a plan (default QGIS styles,
the same workbook sheets) over every province; the report is given the same rupiah
facts as a plan's (``usd_idr``, ``carbon_price_idr``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bundler.config.scenario import Scenario, to_dict
from bundler.economics.currency import usd_to_idr
from bundler.i18n.catalogue import translator
from bundler.outputs.files import run_envelope, write_layers
from bundler.outputs.gaps import format_gap
from bundler.outputs.interop.qgis_styles import write_plan_styles
from bundler.outputs.interop.workbook import write_plan_workbook
from bundler.outputs.plan import json_default, package_versions
from bundler.outputs.report import write_report
from bundler.safeguards.exclusion import excluded_mask, excluded_table
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
    ``units`` and ``bundles``, each with its default QGIS style), ``plan.xlsx``
    (the sheets of a plan's, from the national tables), ``report.html``,
    ``map.png`` and ``run.json``.
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

    lang = scenario.report.lang
    _ = translator(lang).gettext
    unit_layer, bundle_layer = national_layers(units, parts, lang)
    write_layers(folder / "plan.gpkg", {"units": unit_layer, "bundles": bundle_layer}, units)
    # into the scratch folder's GeoPackage, so the styles move into place with it
    write_plan_styles(folder / "plan.gpkg", bundle_layer["bundle_id"])
    write_plan_workbook(
        folder / "plan.xlsx",
        bundles=merged["bundles.csv"],
        priority=priority,
        estimates=merged["estimates.csv"],
        sharing=merged["benefit_sharing.csv"],
        units=unit_layer,
    )

    failed = [p for p in parts if p.status == "failed"]
    own = {
        "scenario": to_dict(scenario),
        "n_units": len(units),
        "n_provinces": len(parts),
        "n_bundles": len(priority),
        "n_excluded": int(excluded_mask(units).sum()),
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
        for k in (
            "termination",
            "n_units",
            "n_provinces",
            "n_bundles",
            "n_excluded",
            "provinces_resumed",
        )
    }
    rate = scenario.economics.usd_idr
    report_facts.update(
        report_kind="national",
        scenario=scenario.name,
        carbon_price_usd=scenario.economics.carbon_price_usd,
        carbon_price_idr=usd_to_idr(scenario.economics.carbon_price_usd, rate),
        usd_idr=rate,
        provinces_failed=", ".join(f"{p.code} ({p.error})" for p in failed) or _("none"),
        **{k: v for k, v in facts.items() if v is not None},
    )
    if not len(priority):
        report_facts["explanation"] = _("No province produced a bundle; see the provinces table.")
    tables = {
        _("Provinces"): provinces.assign(gap=[_shown_gap(p.summary, lang) for p in parts]),
        _("National priority list"): priority.drop(columns=["why"], errors="ignore"),
        _("Potential by intervention (MtCO2e/yr, all units)"): by_int.reset_index(),
        _("Potential by scheme (MtCO2e/yr, all units)"): by_scheme.reset_index(),
    }
    excluded = excluded_table(unit_layer, lang)
    if len(excluded):
        tables[_("Excluded units")] = excluded
    write_report(
        folder,
        unit_layer,
        _with_national_rank(bundle_layer, priority),
        tables,
        yearly_credits,
        report_facts,
        sharing=merged["benefit_sharing.csv"],
        lang=lang,
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


def _shown_gap(summary: dict, lang: str = "en") -> str:
    """A province's gap for the report: a percentage, "undefined (...)" or "-"."""
    return format_gap(summary.get("objective"), summary.get("bound"), lang)
