"""The report's table headers in the reader's language.

A table in ``report.html`` shows the same columns as its CSV file. In English a
header is the column's name, as in the CSV (and in ``docs/outputs.md``); in
another language it is the column's label in that language, from the catalogue
(context ``column``), and the page keeps the name in the header's ``title``.
A column not listed here keeps its name in every language.
"""

from __future__ import annotations

import functools

from bundler.i18n.catalogue import translator


def column_label(column: str, lang: str = "en") -> str:
    """The header of ``column`` in the language ``lang``."""
    return _labels(lang).get(column, column)


@functools.cache
def _labels(lang: str) -> dict[str, str]:
    tr = translator(lang)
    return {
        "rank": tr.pgettext("column", "rank"),
        "bundle_id": tr.pgettext("column", "bundle_id"),
        "start_year": tr.pgettext("column", "start_year"),
        "province": tr.pgettext("column", "province"),
        "districts": tr.pgettext("column", "districts"),
        "area_ha": tr.pgettext("column", "area_ha"),
        "credits_tco2e_yr": tr.pgettext("column", "credits_tco2e_yr"),
        "npv_usd": tr.pgettext("column", "npv_usd"),
        "readiness": tr.pgettext("column", "readiness"),
        "main_intervention": tr.pgettext("column", "main_intervention"),
        "why": tr.pgettext("column", "why"),
        "province_rank": tr.pgettext("column", "province_rank"),
        "province_code": tr.pgettext("column", "province_code"),
        "n_units": tr.pgettext("column", "n_units"),
        "gross_protect_tco2e_yr": tr.pgettext("column", "gross_protect_tco2e_yr"),
        "gross_arr_tco2e_yr": tr.pgettext("column", "gross_arr_tco2e_yr"),
        "gross_peat_tco2e_yr": tr.pgettext("column", "gross_peat_tco2e_yr"),
        "buffer_tco2e_yr": tr.pgettext("column", "buffer_tco2e_yr"),
        "leakage_tco2e_yr": tr.pgettext("column", "leakage_tco2e_yr"),
        "uncertainty_tco2e_yr": tr.pgettext("column", "uncertainty_tco2e_yr"),
        "pv_credits": tr.pgettext("column", "pv_credits"),
        "pv_costs": tr.pgettext("column", "pv_costs"),
        "pv_revenue": tr.pgettext("column", "pv_revenue"),
        "upfront_usd": tr.pgettext("column", "upfront_usd"),
        "upfront_idr": tr.pgettext("column", "upfront_idr"),
        "npv_idr": tr.pgettext("column", "npv_idr"),
        "irr": tr.pgettext("column", "irr"),
        "breakeven_price_usd": tr.pgettext("column", "breakeven_price_usd"),
        "breakeven_price_idr": tr.pgettext("column", "breakeven_price_idr"),
        "cost_per_tco2e": tr.pgettext("column", "cost_per_tco2e"),
        "standalone_npv_usd": tr.pgettext("column", "standalone_npv_usd"),
        "standalone_npv_idr": tr.pgettext("column", "standalone_npv_idr"),
        "bundling_gain_usd": tr.pgettext("column", "bundling_gain_usd"),
        "bundling_gain_idr": tr.pgettext("column", "bundling_gain_idr"),
        "party": tr.pgettext("column", "party"),
        "unit_id": tr.pgettext("column", "unit_id"),
        "amount_usd": tr.pgettext("column", "amount_usd"),
        "amount_idr": tr.pgettext("column", "amount_idr"),
        "share": tr.pgettext("column", "share"),
        "per_household_usd": tr.pgettext("column", "per_household_usd"),
        "per_household_idr": tr.pgettext("column", "per_household_idr"),
        "status": tr.pgettext("column", "status"),
        "n_bundles": tr.pgettext("column", "n_bundles"),
        "units_in_bundles": tr.pgettext("column", "units_in_bundles"),
        "termination": tr.pgettext("column", "termination"),
        "gap": tr.pgettext("column", "gap"),
        "abs_gap": tr.pgettext("column", "abs_gap"),
        "runtime_s": tr.pgettext("column", "runtime_s"),
        "error": tr.pgettext("column", "error"),
        "intervention": tr.pgettext("column", "intervention"),
        "mtco2e_yr": tr.pgettext("column", "mtco2e_yr"),
        "top_province": tr.pgettext("column", "top_province"),
        "scheme": tr.pgettext("column", "scheme"),
        "protect": tr.pgettext("column", "protect"),
        "arr": tr.pgettext("column", "arr"),
        "peat": tr.pgettext("column", "peat"),
        "total": tr.pgettext("column", "total"),
        "reason": tr.pgettext("column", "reason"),
        "units": tr.pgettext("column", "units"),
        "scenario": tr.pgettext("column", "scenario"),
        "bundles": tr.pgettext("column", "bundles"),
        "units_included": tr.pgettext("column", "units_included"),
        # alternatives.csv (psbundle plan --alternatives)
        "plan": tr.pgettext("column", "plan"),
        "objective": tr.pgettext("column", "objective"),
        "loss": tr.pgettext("column", "loss"),
        "difference_from_best": tr.pgettext("column", "difference_from_best"),
        "difference_from_nearest": tr.pgettext("column", "difference_from_nearest"),
        "nearest_plan": tr.pgettext("column", "nearest_plan"),
        # importance.csv (psbundle plan --importance)
        "importance": tr.pgettext("column", "importance"),
        "importance_low": tr.pgettext("column", "importance_low"),
        "importance_high": tr.pgettext("column", "importance_high"),
        "join_price_usd": tr.pgettext("column", "join_price_usd"),
        "join_price_low_usd": tr.pgettext("column", "join_price_low_usd"),
        "note": tr.pgettext("column", "note"),
        "excluded_by": tr.pgettext("column", "excluded_by"),
        "overlap": tr.pgettext("column", "overlap"),
    }
