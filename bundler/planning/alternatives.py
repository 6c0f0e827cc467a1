"""Near-optimal alternatives to a plan (``psbundle plan --alternatives K``).

:func:`plan_alternatives` hands the problems a plan solved and its bundles to
:func:`solvers.alternatives.find_alternatives`, which returns up to ``K`` further
plans, each within ``max_loss`` of the best plan's objective and different from every
earlier plan (the best and the alternatives before it) in at least a share
``min_difference`` of the selected units (both enforced as constraints of its MIP).
Each plan found becomes a :class:`~bundler.planning.planner.Plan` whose bundle ids
start with ``A<i>-`` (``A1-B001``), goes through the independent verifier
(:func:`~bundler.planning.verify.verify_plan`) and has its limits measured again here,
on its units, before anything is written. :attr:`Alternatives.table` compares them
(``alternatives.csv``, see docs/outputs.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from bundler.config.scenario import Scenario
from bundler.errors import InputError, VerificationError
from bundler.i18n.catalogue import Translator, translator
from bundler.planning.planner import Plan, bundle_table, plan_totals
from bundler.planning.verify import verify_plan
from solvers.alternatives import (
    DONE,
    EXHAUSTED,
    TIME_LIMIT,
    AlternativesResult,
    difference_share,
    find_alternatives,
)
from solvers.base import SolveParams, Termination, relative_gap
from solvers.registry import mip_backend_for

# defaults of the command line: at most 5% less than the best objective, at least 20% of
# the units different
DEFAULT_MAX_LOSS = 0.05
DEFAULT_MIN_DIFFERENCE = 0.2
# the columns of alternatives.csv (docs/outputs.md)
COLUMNS = [
    "plan",
    "objective",
    "gap",
    "loss",
    "n_bundles",
    "units_in_bundles",
    "area_ha",
    "credits_tco2e_yr",
    "npv_usd",
    "difference_from_best",
    "difference_from_nearest",
    "nearest_plan",
]
BEST = "best"
# the difference shares measured here again may fall short of the limit by this much
# (the MIP's tolerance; the solver checks the same)
SHARE_TOL = 1e-6


def alt_name(i: int) -> str:
    """The name of the ``i``-th alternative (from 1): ``alt1``."""
    return f"alt{i}"


def alt_column(i: int) -> str:
    """The ``units`` layer's column of the ``i``-th alternative: ``bundle_id_alt1``."""
    return f"bundle_id_{alt_name(i)}"


@dataclass
class Alternatives:
    """Near-optimal alternatives to a plan, verified.

    Attributes
    ----------
    plans : list of Plan
        The alternatives in the order found, bundle ids ``A<i>-B001`` ...; each with its
        own objective, the best plan's bound (a bound on every plan) and its gap to it.
        They carry no reasons for units outside their bundles.
    table : DataFrame
        One row for the best plan (``plan`` = ``best``), then one per alternative
        (``alt1`` ...): the columns of :data:`COLUMNS`.
    requested : int
    max_loss : float
        A fraction of the best objective.
    min_difference : float
        A share of units.
    stop : str
        Why the search stopped (:mod:`solvers.alternatives`: ``done``, ``exhausted``,
        ``time_limit``, ``failed``).
    n_columns : int
        The feasible bundles the search had at the end.
    runtime_s : float
    note : str
        Why fewer than ``requested`` were found, in the scenario's language (``""``
        when all were).
    """

    plans: list[Plan]
    table: pd.DataFrame
    requested: int
    max_loss: float
    min_difference: float
    stop: str
    n_columns: int
    runtime_s: float
    note: str = ""

    def unit_columns(self) -> dict[str, pd.Series]:
        """``bundle_id_alt<i>`` -> each unit's bundle in the ``i``-th alternative."""
        return {alt_column(i): p.unit_bundle for i, p in enumerate(self.plans, start=1)}

    def facts(self) -> dict:
        """What ``run.json`` records under ``alternatives``."""
        return {
            "requested": self.requested,
            "found": len(self.plans),
            "max_loss": self.max_loss,
            "min_difference": self.min_difference,
            "stop": self.stop,
            "columns": self.n_columns,
            "runtime_s": round(self.runtime_s, 3),
            "note": self.note,
        }


def plan_alternatives(
    units: gpd.GeoDataFrame,
    best: Plan,
    scenario: Scenario,
    max_gap_m: float,
    k: int,
    max_loss: float = DEFAULT_MAX_LOSS,
    min_difference: float = DEFAULT_MIN_DIFFERENCE,
    solver: str | None = None,
    params: SolveParams | None = None,
) -> Alternatives:
    """Up to ``k`` verified plans near ``best``, each different from every earlier one.

    Parameters
    ----------
    units : GeoDataFrame
        The scored units ``best`` was planned on.
    best : Plan
        From :func:`~bundler.planning.planner.plan_bundles` (it keeps its problems).
    scenario : Scenario
    max_gap_m : float
        The gap rule of the plan (the verifier checks connectivity with it).
    k : int
        How many alternatives to look for.
    max_loss : float
        Largest loss of objective, a fraction of the best plan's (0.05 = 5%).
    min_difference : float
        Least share of the units of two plans (their union) that only one of them
        holds, in ``(0, 1]``, against the best and every earlier alternative.
    solver : str, optional
        The MIP backend of the search (``highs``, ``cbc``, ``cpsat``); default the
        plan's solver, or ``highs`` when that is the heuristic.
    params : SolveParams, optional
        ``time_limit`` bounds the search, a ceiling.

    Returns
    -------
    Alternatives

    Raises
    ------
    InputError
        For limits out of range, or a max-p plan (it covers every unit: no plan can
        differ from it in its units).
    VerificationError
        When an alternative breaks a rule or a limit (a bug).
    """
    if k < 0:
        raise InputError(f"--alternatives must be 0 or more, got {k}")
    if not max_loss >= 0:
        raise InputError(f"--max-loss must be 0 or more percent, got {100 * max_loss:g}")
    if not 0 < min_difference <= 1:
        raise InputError(f"--min-difference must be a share in (0, 1], got {min_difference:g}")
    if best.objective_name == "max-p":
        raise InputError(
            "--alternatives needs the npv or credits objective: a max-p plan puts every "
            "unit in a bundle, so no other plan can differ from it in its units"
        )
    pset = best.problem_set
    if pset is None:
        raise ValueError("the plan keeps no problems: make it with plan_bundles")
    t0 = time.perf_counter()
    params = params or SolveParams()
    name = solver or best.solver
    backend = mip_backend_for(name)
    result = find_alternatives(
        pset.problems,
        best_by_component(units, best, pset),
        k,
        backend,  # type: ignore[arg-type]
        max_loss=max_loss,
        min_difference=min_difference,
        params=params,
    )
    plans = []
    for i, alt in enumerate(result.alternatives, start=1):
        bundles, unit_bundle = verified_bundles(units, best, alt.bundles, scenario, max_gap_m)
        plan = Plan(
            bundles=bundles,
            unit_bundle=unit_bundle,
            unit_reason=pd.Series([""] * len(units), index=units.index, dtype=object),
            termination=Termination.FEASIBLE,
            objective=alt.objective,
            bound=best.bound,
            gap=relative_gap(alt.objective, best.bound),
            runtime_s=result.runtime_s,
            solver=getattr(backend, "NAME", name),
            objective_name=best.objective_name,
            max_cost_per_tco2e=best.max_cost_per_tco2e,
        ).with_prefix(f"A{i}-")
        plans.append(plan)
    table = comparison_table(best, plans, result.best_objective)
    _check_limits(table, best, result, min_difference)
    return Alternatives(
        plans=plans,
        table=table,
        requested=k,
        max_loss=max_loss,
        min_difference=min_difference,
        stop=result.stop,
        n_columns=result.n_columns,
        runtime_s=time.perf_counter() - t0,
        note=shortfall_note(result, k, max_loss, min_difference, scenario.report.lang),
    )


def best_by_component(units, best: Plan, pset) -> list[list[list[int]]]:
    """The best plan's bundles per problem, as the problem's own unit indices.

    Parameters
    ----------
    units : GeoDataFrame
        The units the plan was made on.
    best : Plan
    pset : ProblemSet
        ``best.problem_set``.

    Returns
    -------
    list of list of list of int
        Per problem, its bundles.

    Raises
    ------
    VerificationError
        When a bundle spans two problems (a bug).
    """
    pos = {u: i for i, u in enumerate(units["unit_id"].astype(str))}
    where = {int(g): (c, j) for c, idx in enumerate(pset.members) for j, g in enumerate(idx)}
    out: list[list[list[int]]] = [[] for _ in pset.problems]
    for members in best.bundles["unit_ids"]:
        places = [where[pos[str(u)]] for u in members]
        comps = {c for c, _ in places}
        if len(comps) != 1:
            raise VerificationError(f"a bundle of the plan spans {len(comps)} groups of units")
        out[places[0][0]].append([j for _, j in places])
    return out


def selected_units(plan: Plan) -> frozenset[int]:
    """Row positions of the units in the plan's bundles."""
    return frozenset(np.flatnonzero(plan.unit_bundle.to_numpy() != "").tolist())


def comparison_table(best: Plan, plans: list[Plan], best_objective: float) -> pd.DataFrame:
    """The rows of ``alternatives.csv``: the best plan, then each alternative.

    Differences are measured on the plans' units (:func:`selected_units`): the share
    of the units of either plan that only one holds, against the best plan and against
    the nearest earlier plan (the smallest share; ``nearest_plan`` names it). The best
    plan's objective is ``best_objective``, the sum of its bundles' contributions (the
    plan's ``objective`` up to rounding), which the loss is measured against.
    """
    objective = best_objective
    earlier = [(BEST, selected_units(best))]
    rows = [
        {
            "plan": BEST,
            "objective": objective,
            "gap": relative_gap(objective, best.bound),
            "loss": 0.0,
            **plan_totals(best.bundles),
            "difference_from_best": np.nan,
            "difference_from_nearest": np.nan,
            "nearest_plan": "",
        }
    ]
    for i, plan in enumerate(plans, start=1):
        mine = selected_units(plan)
        shares = [(difference_share(mine, q), name) for name, q in earlier]
        share, nearest = min(shares, key=lambda s: s[0])
        obj = float(plan.objective or 0.0)
        rows.append(
            {
                "plan": alt_name(i),
                "objective": obj,
                "gap": plan.gap,
                "loss": (objective - obj) / abs(objective) if objective else np.nan,
                **plan_totals(plan.bundles),
                "difference_from_best": shares[0][0],
                "difference_from_nearest": share,
                "nearest_plan": nearest,
            }
        )
        earlier.append((alt_name(i), mine))
    return pd.DataFrame(rows, columns=COLUMNS)


def _check_limits(table: pd.DataFrame, best: Plan, result: AlternativesResult, d: float) -> None:
    """The limits, measured again on the plans' units: a breach is a bug."""
    rows = table.iloc[1:]
    short = rows[rows["difference_from_nearest"] < d - SHARE_TOL]
    below = rows[rows["objective"] < result.floor - 1e-6 * max(1.0, abs(result.floor))]
    if len(short) or len(below):
        raise VerificationError(
            "an alternative breaks its limits (a bug in ps-bundler; nothing was written): "
            + ", ".join(short["plan"].tolist() + below["plan"].tolist())
        )


def _percent(tr: Translator, fraction: float) -> str:
    """A fraction as a percentage, whole when it is one (5%), else to two decimals."""
    whole = abs(fraction * 100 - round(fraction * 100)) < 1e-9
    return tr.percent(fraction, 0 if whole else 2)


def shortfall_note(
    result: AlternativesResult, k: int, max_loss: float, min_difference: float, lang: str = "en"
) -> str:
    """Why the search found fewer than ``k`` alternatives, in ``lang``; ``""`` when it did not."""
    if result.stop == DONE or len(result.alternatives) >= k:
        return ""
    tr = translator(lang)
    _ = tr.gettext
    figures = {
        "found": len(result.alternatives),
        "requested": k,
        "loss": _percent(tr, max_loss),
        "share": _percent(tr, min_difference),
        "columns": tr.decimal(result.n_columns),
    }
    if result.stop == EXHAUSTED and not result.n_columns:
        text = _(
            "{found} of {requested} alternatives found: no bundle that meets the rules was "
            "found, so the plan without bundles is the only one"
        )
    elif result.stop == EXHAUSTED:
        text = _(
            "{found} of {requested} alternatives found: among the {columns} feasible bundles "
            "found, no further plan is within {loss} of the best objective and differs from "
            "every earlier plan in at least {share} of its units"
        )
    elif result.stop == TIME_LIMIT:
        text = _(
            "{found} of {requested} alternatives found before the time limit; give the search "
            "more time with --time-limit"
        )
    else:
        text = _(
            "{found} of {requested} alternatives found: the solver failed on the next one "
            "({message})"
        )
        figures["message"] = result.message
    return text.format(**figures)


def verified_bundles(units, best, bundles, scenario, max_gap_m: float):
    """Per-component bundles of another plan, as a plan's bundles table, after the verifier.

    Parameters
    ----------
    units : GeoDataFrame
        The units ``best`` was planned on.
    best : Plan
        The plan whose problems (``best.problem_set``) the bundles refer to.
    bundles : sequence of sequence of bundles
        Per problem of ``best.problem_set``, bundles as the problem's unit indices.
    scenario : Scenario
    max_gap_m : float

    Returns
    -------
    bundles : DataFrame
        As :attr:`Plan.bundles`.
    unit_bundle : Series
        ``bundle_id`` per unit (``""`` when in none).

    Raises
    ------
    VerificationError
        When a bundle breaks a rule (a bug).
    """
    pset = best.problem_set
    ids = units["unit_id"].astype(str).to_numpy()
    bundle_units = sorted(
        ([int(pset.members[c][j]) for j in b] for c, comp in enumerate(bundles) for b in comp),
        key=min,
    )
    verify_plan(
        units,
        [[ids[u] for u in b] for b in bundle_units],
        scenario,
        max_gap_m,
        best.objective_name,
        pset.min_area_of_unit,
        pset.max_cost_per_tco2e,
    )
    return bundle_table(units, bundle_units, scenario)
