"""A Pareto front of objective against co-benefit (``psbundle plan --pareto N``).

:func:`solvers.cobenefit.pareto_front` runs the epsilon-constraint method on the pooled
set-packing MIP: floors on the co-benefit spread evenly between the best plan's and the
largest a plan of the pool reaches, each floor's plan the best of the pool meeting it.
Every point becomes a verified :class:`~bundler.planning.planner.Plan` (bundle ids
``P<i>-B001``) with its objective, co-benefit and gap to the bound of the plan without a
floor (valid: a floor cannot raise the optimum). Dominated and repeated plans are dropped,
and :attr:`Pareto.note` says so. :attr:`Pareto.table` is ``pareto.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from bundler.config.scenario import Scenario
from bundler.errors import InputError, VerificationError
from bundler.i18n.catalogue import translator
from bundler.planning.alternatives import best_by_component
from bundler.planning.cobenefit_floor import (
    FLOOR_TOL,
    cobenefit_by_problem,
    mip_backend,
    plan_cobenefit_total,
    verified_plan,
)
from bundler.planning.planner import Plan, plan_totals
from bundler.scoring.cobenefit import COBENEFIT
from solvers.base import SolveParams
from solvers.cobenefit import pareto_front

# the columns of pareto.csv (docs/outputs.md)
COLUMNS = [
    "point",
    "floor",
    "objective",
    "cobenefit",
    "gap",
    "n_bundles",
    "units_in_bundles",
    "area_ha",
    "credits_tco2e_yr",
    "npv_usd",
]


@dataclass
class Pareto:
    """A verified Pareto front: ``plans`` by rising co-benefit, ``table`` (pareto.csv),
    ``dropped`` (dominated or repeated plans left out), ``note`` in the report's language."""

    plans: list[Plan]
    table: pd.DataFrame
    requested: int
    dropped: int
    max_cobenefit: float
    stop: str
    n_columns: int
    runtime_s: float
    note: str

    def facts(self) -> dict:
        """What ``run.json`` records under ``pareto``."""
        return {
            "requested": self.requested,
            "points": len(self.plans),
            "dropped": self.dropped,
            "max_cobenefit": self.max_cobenefit,
            "stop": self.stop,
            "columns": self.n_columns,
            "runtime_s": round(self.runtime_s, 3),
            "note": self.note,
        }


def plan_pareto(
    units: gpd.GeoDataFrame,
    best: Plan,
    scenario: Scenario,
    max_gap_m: float,
    n: int,
    solver: str | None = None,
    params: SolveParams | None = None,
) -> Pareto:
    """Up to ``n`` verified plans trading the objective against co-benefit, none dominated.

    Raises
    ------
    InputError
        For units without co-benefit, ``n`` below 2 or a max-p plan.
    VerificationError
        When a point breaks a rule or its floor, or one dominates another (a bug).
    """
    if COBENEFIT not in units.columns:
        raise InputError(
            "--pareto needs a co-benefit value per unit: the layer has no 'biodiversity' "
            "column (name another with --cobenefit-column)"
        )
    if n < 2:
        raise InputError(f"--pareto needs 2 or more points, got {n}")
    if best.objective_name == "max-p":
        raise InputError("--pareto needs the npv or credits objective, not max-p")
    pset = best.problem_set
    if pset is None:
        raise ValueError("the plan keeps no problems: make it with plan_bundles")
    backend = mip_backend(solver, best)
    result = pareto_front(
        pset.problems,
        best_by_component(units, best, pset),
        cobenefit_by_problem(units, pset),
        n,
        backend,  # type: ignore[arg-type]
        params=params or SolveParams(),
    )
    plans, rows = [], []
    name = getattr(backend, "NAME", str(solver))
    for i, point in enumerate(result.points, start=1):
        plan = verified_plan(
            units, best, scenario, max_gap_m, point.bundles, point.objective, name,
            result.runtime_s, "",
        ).with_prefix(f"P{i}-")  # fmt: skip
        value = plan_cobenefit_total(units, plan)
        if value < point.floor - FLOOR_TOL * max(1.0, point.floor):
            raise VerificationError(
                f"Pareto point {i} is below its co-benefit floor (a bug in ps-bundler; "
                "nothing was written)"
            )
        plans.append(plan)
        rows.append(
            {
                "point": i,
                "floor": point.floor,
                "objective": point.objective,
                "cobenefit": value,
                "gap": plan.gap,
                **plan_totals(plan.bundles),
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return Pareto(
        plans=plans,
        table=table,
        requested=n,
        dropped=result.dropped,
        max_cobenefit=result.max_cobenefit,
        stop=result.stop,
        n_columns=result.n_columns,
        runtime_s=result.runtime_s,
        note=_note(result, n, scenario.report.lang),
    )


def _note(result, n: int, lang: str) -> str:
    """What the front is and what was left out, in ``lang``."""
    tr = translator(lang)
    _ = tr.gettext
    text = _(
        "{points} plan(s) on the front from {requested} co-benefit floors between the best "
        "plan's co-benefit and {top}, the largest a plan of the {columns} feasible bundles "
        "found reaches; each gap is measured against the bound of the plan without a floor, "
        "a valid bound because a floor cannot raise the optimum"
    ).format(
        points=len(result.points),
        requested=n,
        top=tr.decimal(result.max_cobenefit, 2),
        columns=tr.decimal(result.n_columns),
    )
    if result.dropped:
        text += "; " + _(
            "{dropped} plan(s) found were dropped: dominated by another (no more objective "
            "and no more co-benefit) or the same as another"
        ).format(dropped=result.dropped)
    return text
