"""Stages 6-7, economics: the cost model the planner's cost test uses, and for a finished
plan the estimates (credits, costs, NPV, IRR per bundle and year), the five-year
priority schedule and the benefit sharing.

Data flow: ... plan -> verify -> **estimate -> schedule** -> outputs.
:func:`estimate_plan` gives everything the plan writer needs.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.economics.benefit_sharing import share_benefits
    from bundler.economics.costmodel import bundle_economics
    from bundler.economics.estimation import (
        Estimates,
        PlanEconomics,
        estimate_bundles,
        estimate_plan,
    )
    from bundler.economics.schedule import schedule_bundles

_EXPORTS = {
    "Estimates": "bundler.economics.estimation",
    "PlanEconomics": "bundler.economics.estimation",
    "estimate_bundles": "bundler.economics.estimation",
    "estimate_plan": "bundler.economics.estimation",
    "bundle_economics": "bundler.economics.costmodel",
    "schedule_bundles": "bundler.economics.schedule",
    "share_benefits": "bundler.economics.benefit_sharing",
}
__all__ = [
    "Estimates",
    "PlanEconomics",
    "bundle_economics",
    "estimate_bundles",
    "estimate_plan",
    "schedule_bundles",
    "share_benefits",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
