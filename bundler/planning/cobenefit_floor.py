"""A floor on a plan's total co-benefit (``psbundle plan --min-cobenefit X``).

When the best plan (no floor) already has a co-benefit of at least ``X`` it is the
answer. Otherwise :func:`solvers.cobenefit.find_with_floor` re-optimises over the pooled
set-packing MIP of the alternatives with the row ``sum_j cobenefit_j c_j >= X``. The plan
it returns goes through the independent verifier and has its co-benefit measured again
here before anything is written. Its bound is the bound of the plan without the floor:
adding a constraint cannot raise the optimum, so that bound is valid (and its gap is
measured against it, which the plan's explanation says). Without a plan meeting the
floor, one error says why: proved impossible (the floor is above the co-benefit of all
units), or none found among the pool's bundles, or the time ran out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from bundler.config.scenario import Scenario
from bundler.errors import InputError, SolverError, VerificationError
from bundler.i18n.catalogue import translator
from bundler.planning.alternatives import best_by_component, verified_bundles
from bundler.planning.planner import Plan
from bundler.scoring.cobenefit import COBENEFIT
from solvers.base import SolveParams, Termination, relative_gap
from solvers.cobenefit import EXHAUSTED, FOUND, TIME_LIMIT, UNREACHABLE, find_with_floor
from solvers.registry import mip_backend_for

# the co-benefit measured here again may fall short of the floor by this much (relative)
FLOOR_TOL = 1e-6


@dataclass
class FloorPlan:
    """The plan that meets a co-benefit floor.

    Attributes
    ----------
    plan : Plan
        Verified; its bound is the plan without the floor's bound, its gap against it.
    floor : float
    cobenefit : float
        The plan's co-benefit.
    unconstrained_cobenefit : float
        The co-benefit of the best plan without the floor.
    unconstrained_objective : float or None
    reoptimised : bool
        False when the best plan already met the floor.
    n_columns : int
    note : str
        What was done, in the scenario's language.
    """

    plan: Plan
    floor: float
    cobenefit: float
    unconstrained_cobenefit: float
    unconstrained_objective: float | None
    reoptimised: bool
    n_columns: int
    note: str

    def facts(self) -> dict:
        """What ``run.json`` records under ``cobenefit_floor``."""
        return {
            "floor": self.floor,
            "cobenefit": self.cobenefit,
            "unconstrained_cobenefit": self.unconstrained_cobenefit,
            "unconstrained_objective": self.unconstrained_objective,
            "reoptimised": self.reoptimised,
            "objective": self.plan.objective,
            "bound": self.plan.bound,
            "gap": self.plan.gap,
            "columns": self.n_columns,
            "note": self.note,
        }


def plan_cobenefit_total(units: pd.DataFrame, plan: Plan) -> float:
    """The co-benefit of the units in the plan's bundles."""
    inside = plan.unit_bundle.to_numpy() != ""
    return float(units[COBENEFIT].to_numpy(float)[inside].sum())


def plan_min_cobenefit(
    units: gpd.GeoDataFrame,
    best: Plan,
    scenario: Scenario,
    max_gap_m: float,
    floor: float,
    solver: str | None = None,
    params: SolveParams | None = None,
) -> FloorPlan:
    """The best plan found whose co-benefit is at least ``floor``, verified.

    Raises
    ------
    InputError
        For units without co-benefit, a negative floor, a max-p plan, or a floor above
        the co-benefit of all units (no plan can meet it).
    SolverError
        When no plan meeting the floor was found among the pool's bundles, or in time.
    VerificationError
        When the plan found breaks a rule or the floor (a bug).
    """
    if COBENEFIT not in units.columns:
        raise InputError(
            "--min-cobenefit needs a co-benefit value per unit: the layer has no "
            "'biodiversity' column (name another with --cobenefit-column)"
        )
    if not (np.isfinite(floor) and floor >= 0):
        raise InputError(f"--min-cobenefit must be a number >= 0, got {floor:g}")
    if best.objective_name == "max-p":
        raise InputError("--min-cobenefit needs the npv or credits objective, not max-p")
    tr = translator(scenario.report.lang)
    _ = tr.gettext
    tol = FLOOR_TOL * max(1.0, floor)
    own = plan_cobenefit_total(units, best)
    if own >= floor - tol:
        note = _(
            "the best plan already has a co-benefit of {value}, at least the floor of {floor}"
        ).format(value=tr.decimal(own, 2), floor=tr.decimal(floor, 2))
        plan = replace(best, explanation=_join(best.explanation, note))
        return FloorPlan(plan, floor, own, own, best.objective, False, 0, note)
    pset = best.problem_set
    if pset is None:
        raise ValueError("the plan keeps no problems: make it with plan_bundles")
    backend = mip_backend(solver, best)
    cob = cobenefit_by_problem(units, pset)
    result = find_with_floor(
        pset.problems,
        best_by_component(units, best, pset),
        cob,
        floor,
        backend,  # type: ignore[arg-type]
        params=params or SolveParams(),
    )
    if result.stop != FOUND or result.bundles is None:
        _fail(result, floor)
    note = _(
        "re-optimised for a co-benefit of at least {floor}: {value} (the best plan without "
        "the floor has {own}); the gap is measured against the bound of the plan without "
        "the floor, a valid bound because adding the floor cannot raise the optimum"
    ).format(
        floor=tr.decimal(floor, 2),
        value=tr.decimal(result.cobenefit or 0.0, 2),
        own=tr.decimal(own, 2),
    )
    plan = verified_plan(
        units,
        best,
        scenario,
        max_gap_m,
        result.bundles,
        float(result.objective or 0.0),
        getattr(backend, "NAME", str(solver)),
        result.runtime_s,
        note,
        _("not selected: left out of the plan that meets the co-benefit floor"),
    )
    measured = plan_cobenefit_total(units, plan)
    if measured < floor - tol:
        raise VerificationError(
            f"the plan's co-benefit {measured:g} is below the floor {floor:g} "
            "(a bug in ps-bundler; nothing was written)"
        )
    return FloorPlan(plan, floor, measured, own, best.objective, True, result.n_columns, note)


def mip_backend(solver: str | None, best: Plan):
    """The MIP backend named (default the plan's), or HiGHS when that is no MIP backend."""
    return mip_backend_for(solver or best.solver)


def cobenefit_by_problem(units: pd.DataFrame, pset) -> list[np.ndarray]:
    """Per problem of ``pset``, its units' co-benefit."""
    values = units[COBENEFIT].to_numpy(float)
    return [values[np.asarray(idx, int)] for idx in pset.members]


def verified_plan(
    units,
    best: Plan,
    scenario,
    max_gap_m: float,
    bundles,
    objective: float,
    solver: str,
    runtime_s: float,
    explanation: str,
    dropped_reason: str = "",
) -> Plan:
    """A plan of ``bundles`` (per problem of ``best``'s, as the problem's unit indices),
    through the independent verifier, with ``best``'s bound and its gap to it."""
    pset = best.problem_set
    table, unit_bundle = verified_bundles(units, best, bundles, scenario, max_gap_m)
    # a unit outside the bundles keeps the best plan's reason when the best left it out too,
    # else it gets ``dropped_reason``
    kept = best.unit_reason.where(best.unit_bundle == "", dropped_reason)
    return Plan(
        bundles=table,
        unit_bundle=unit_bundle,
        unit_reason=kept.where(unit_bundle == "", ""),
        termination=Termination.FEASIBLE,
        objective=objective,
        bound=best.bound,
        gap=relative_gap(objective, best.bound),
        runtime_s=best.runtime_s + runtime_s,
        solver=solver,
        objective_name=best.objective_name,
        max_cost_per_tco2e=best.max_cost_per_tco2e,
        component_results=best.component_results,
        explanation=explanation,
        problem_set=pset,
    )


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second


def _fail(result, floor: float) -> None:
    """One error saying why no plan meets the floor."""
    if result.stop == UNREACHABLE:
        raise InputError(
            f"--min-cobenefit {floor:g}: no plan can meet it, since all units that may join "
            f"a bundle together have a co-benefit of only {result.max_cobenefit:g}"
        )
    if result.stop == EXHAUSTED:
        raise SolverError(
            f"--min-cobenefit {floor:g}: among the {result.n_columns} feasible bundles found, "
            "no plan reaches this co-benefit (not a proof that no plan can; lower the floor "
            "or give the search more time with --time-limit)"
        )
    if result.stop == TIME_LIMIT:
        raise SolverError(
            f"--min-cobenefit {floor:g}: no plan reaching this co-benefit was found before the "
            "time limit; give the search more time with --time-limit"
        )
    raise SolverError(f"--min-cobenefit {floor:g}: the solver failed ({result.message})")
