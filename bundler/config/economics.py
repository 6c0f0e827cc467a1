"""Scenario sections for the cost model and the bundling rules, with sourced defaults.

Sources are named in each field's metadata (see ``scenarios/default.toml``):
TNC Blue Carbon Cost Tool (Indonesia defaults), Verra fee schedule (July 2023),
Rendón Thompson et al. 2013, MAgPIE peatland module, IDXCarbon prices, the
ministry's PNBP statement, Bank Indonesia's JISDOR rate (``usd_idr``, rupiah per
dollar for the reported ``*_idr`` columns); values marked *assumed* are reasonable
defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bundler.config.fields import number as _num

TNC = "TNC Blue Carbon Cost Tool, Indonesia defaults"


@dataclass(frozen=True)
class EconomicsSection:
    """Prices, discounting, deductions and costs of a carbon project."""

    carbon_price_usd: float = _num(
        5.0, source="IDXCarbon 2023-24: Rp 58,800-77,000/tCO2e, about 3.7-5 USD"
    )
    price_escalation: float = _num(0.0, lo=-0.5, hi=1.0, source="assumed: flat real price")
    discount_rate: float = _num(0.07, hi=1.0, source="assumed: middle of a 4-10% range")
    crediting_years: int = _num(30, lo=1, hi=100, source="assumed: a typical AFOLU period")
    buffer: float = _num(0.20, hi=0.99, source="Verra AFOLU risk tool 12-60%; ART-TREES 25%")
    leakage: float = _num(0.10, hi=0.99, source="VCS market leakage 0-70%; ART-TREES 0-20%")
    uncertainty: float = _num(0.05, hi=0.99, source="assumed")
    arr_ramp_years: int = _num(
        10, lo=1, hi=100, source="assumed: planted stands reach full uptake in about 10 years"
    )
    feasibility_usd: float = _num(50_000.0, source=TNC)
    project_document_usd: float = _num(100_000.0, source=TNC)
    validation_usd: float = _num(50_000.0, source=TNC)
    verification_usd: float = _num(75_000.0, source=TNC + " (verification + MRV per event)")
    verification_interval_years: int = _num(5, lo=1, hi=100, source=TNC)
    registry_account_usd_yr: float = _num(750.0, source="Verra fee schedule")
    registry_levy_usd_per_credit: float = _num(0.20, source="Verra fee schedule (July 2023)")
    pnbp_usd_per_credit: float = _num(
        0.19, source="ministry statement: Rp 3,000 per certificate at about Rp 15,500/USD"
    )
    liaison_usd_yr: float = _num(71_000.0, source=TNC + " (community liaison / FPIC)")
    liaison_years: int = _num(4, lo=0, hi=100, source=TNC)
    monitoring_usd_yr: float = _num(15_000.0, source=TNC)
    scale_step_ha: float = _num(2_500.0, lo=1.0, source=TNC + " (size step)")
    liaison_step_increase: float = _num(0.50, source=TNC + " (+50% per size step)")
    monitoring_step_increase: float = _num(
        0.25,
        source="assumed: TNC's +100% per step for "
        "monitoring data is cut to +25% for field monitoring",
    )
    unit_onboarding_usd: float = _num(5_000.0, source="assumed: FPIC and onboarding per PS unit")
    unit_monitoring_usd_yr: float = _num(1_000.0, source="assumed: community monitoring per unit")
    transaction_usd_ha_yr: float = _num(0.73, source="Rendon Thompson et al. 2013 (0.16-1.44)")
    peat_works_usd_ha: float = _num(1_230.0, source="MAgPIE peatland module (rewetting works)")
    peat_upkeep_usd_ha_yr: float = _num(37.0, source="MAgPIE peatland module")
    # Only converts reported figures (the *_idr columns): every computation is in USD.
    # At least 1 so that a zero or negative rate is refused, naming the key.
    usd_idr: float = _num(
        16_700.0,
        lo=1.0,
        source="Bank Indonesia JISDOR mid-rate, December 2025 (Rp 16,693/USD on 16 Dec), "
        "rounded; a default: override with the rate of your reporting date",
    )


@dataclass(frozen=True)
class BundlingSection:
    """Rules every bundle must meet, and what the optimizer maximizes."""

    objective: str = field(default="npv", metadata={"choices": ("npv", "credits", "max-p")})
    min_area_ha: float = _num(
        5_000.0, source="TNC size classes: a few thousand ha (restoration) to ~20,000 ha"
    )
    # main intervention -> minimum area; unlisted interventions use min_area_ha
    min_area_ha_by_intervention: dict[str, float] = field(default_factory=dict)
    max_cost_per_tco2e: float | None = field(
        default=None, metadata={"min": 0.0, "source": "default: the carbon price"}
    )
    max_area_ha: float = _num(75_000.0, source="assumed: a manageable landscape project")
    max_units: int = _num(40, lo=0, source="assumed: groups one facilitator team can coordinate")
    max_radius_km: float = _num(
        30.0, source="assumed: every unit within 30 km of the bundle's centre unit"
    )
    same_district: bool = False
    same_landscape: bool = False
    min_readiness: float = _num(0.0, hi=1.0, source="assumed: no floor")
    locked_in: tuple[str, ...] = ()
    locked_out: tuple[str, ...] = ()
    # larger components get column generation only, not the compact rooted MIP after it
    exact_max_units: int = _num(
        2_500,
        lo=1,
        source="assumed: largest group that also gets the compact rooted MIP (npv and "
        "credits: 150 at most, solvers/api.py)",
    )
    max_cut_rounds: int = _num(50, lo=1, source="assumed")
