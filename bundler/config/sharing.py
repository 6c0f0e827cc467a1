"""Scenario sections for benefit sharing and the five-year priority list, with sourced defaults.

The brief asks for a benefit-sharing plan with shares by investment contribution and for
a five-year plan with priority locations, where low-cover areas start their project
document and trading after five years of restoration. The PNBP per credit is
:attr:`bundler.config.economics.EconomicsSection.pnbp_usd_per_credit` (one value for both
the cost model and the state's share). Values marked *assumed* are reasonable defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bundler.config.fields import number as _num

BRIEF = "policy brief (docs/domain.md)"


@dataclass(frozen=True)
class BenefitSharingSection:
    """How a bundle's revenue is split between the state, local government, investor and units.

    See :mod:`bundler.economics.benefit_sharing` for the formulas.
    """

    local_government_share: float = _num(
        0.05, hi=1.0, source="assumed: a small incentive share of revenue for the regency"
    )
    # "investment": the investor finances the year-0 costs and its share of what is left
    # after the state and local government is year-0 costs / PV of all costs (excl. PNBP);
    # "fixed": investor_share
    investor_basis: str = field(
        default="investment",
        metadata={
            "choices": ("investment", "fixed"),
            "source": BRIEF + ": shares by investment contribution",
        },
    )
    investor_share: float = _num(
        0.3, hi=1.0, source="assumed: a negotiated share, used when investor_basis = fixed"
    )
    # how the units' share is divided among the units of a bundle
    unit_basis: str = field(
        default="credits",
        metadata={
            "choices": ("credits", "area", "investment"),
            "source": "assumed: pay for performance (each unit's discounted credits)",
        },
    )


@dataclass(frozen=True)
class ScheduleSection:
    """Capacities and weights of the five-year priority list.

    See :mod:`bundler.economics.schedule`.
    """

    years: int = _num(5, lo=1, hi=20, source=BRIEF + ": a five-year plan with priority locations")
    documents_per_year: int = _num(
        3, lo=0, source="assumed: project documents (DRAM/PDD) one programme can start per year"
    )
    budget_usd_per_year: float = _num(
        1_000_000.0, source="assumed: upfront (year-0) project costs fundable per year"
    )
    units_per_year: int = _num(
        60, lo=0, source="assumed: PS units the facilitators on site can onboard per year"
    )
    readiness_weight_usd: float = _num(
        200_000.0,
        source="assumed: a fully ready bundle is worth one project's feasibility, document "
        "and validation costs more",
    )
    low_cover_threshold: float = _num(
        0.3,
        hi=1.0,
        source="assumed: below 30% forest cover restoration comes first; the brief offers "
        "low-cover areas for trading after five years",
    )
    time_limit_s: float = _num(30.0, lo=0.1, source="assumed: the MIP is small")
