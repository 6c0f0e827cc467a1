"""How much each unit matters to a plan (``psbundle plan --importance``).

Two questions, one table (``importance.csv``, one row per unit):

* **A unit of the plan:** its *replacement importance*, the objective lost when the unit is
  locked out and the plan re-optimised, with proven bounds on that loss
  (:func:`solvers.importance.replacement_importance`).
* **A unit outside the plan:** the carbon price at which a bundle that holds it would first
  pass the cost test and pay, between a proven lower end and a witnessed upper end within
  ``[0, max_price]`` (:func:`solvers.importance.price_thresholds`), or the reason it never
  can.

Both run within one time budget: the price brackets get up to :data:`PRICE_SHARE` of it
(they usually need far less) and the re-solves the rest, each warm-started from the plan.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from bundler.config.scenario import Scenario
from bundler.errors import InputError
from bundler.i18n.catalogue import translator
from bundler.i18n.languages import N_
from bundler.planning.alternatives import best_by_component
from bundler.planning.planner import Plan
from bundler.planning.problem_builder import price_slopes
from solvers.base import SolveParams
from solvers.importance import PriceSlopes, price_thresholds, replacement_importance
from solvers.registry import mip_backend_for

# the top of the price search, USD/tCO2e: far above today's prices (IDXCarbon 3.7-5 USD,
# docs/domain.md) and above most published carbon-price paths
DEFAULT_MAX_PRICE = 100.0
# share of the time budget for the price brackets (the rest for the re-solves)
PRICE_SHARE = 0.3
# the columns of importance.csv (docs/outputs.md)
COLUMNS = [
    "unit_id",
    "bundle_id",
    "importance",
    "importance_low",
    "importance_high",
    "importance_proven",
    "join_price_usd",
    "join_price_low_usd",
    "join_with",
    "note",
]
# units of the report's table of most important units
TOP_UNITS = 15

TITLE_LOSS = N_("Importance of units: the plan's most important units")
TITLE_JOIN = N_("Join prices: units outside the plan that join at the lowest carbon prices")
NOTE_NOT_RESOLVED = N_(
    "not solved again within the time budget: the loss lies between the bounds given; give "
    "it more time with --importance-time"
)
NOTE_LOCKED = N_(
    "locked in by the scenario: its loss is not measured (locking it out would also drop the "
    "requirement to bundle it)"
)
NOTE_INDISPENSABLE = N_(
    "indispensable: without it the locked-in units cannot all be in bundles, so no plan meets "
    "the rules (proven)"
)
NOTE_PASSES_NOW = N_(
    "a bundle with it passes at the scenario's price, but the plan chose other bundles"
)
NOTE_NEVER = N_(
    "no bundle with it passes the cost test and pays at any price up to {max_price} USD/tCO2e "
    "(proven)"
)
NOTE_NOT_FOUND = N_(
    "no bundle with it that passes was found up to {max_price} USD/tCO2e; none passes at "
    "{low} USD/tCO2e or below (proven)"
)
NOTE_PRICE_FREE = N_("{reason}; the carbon price does not change this")


@dataclass
class Importance:
    """The importance of every unit of a run, measured against its plan.

    Attributes
    ----------
    table : DataFrame
        One row per unit, the columns of :data:`COLUMNS` (``importance*`` for units of
        the plan, in the objective's unit; ``join_price*`` for the others, USD/tCO2e).
    objective_name : str
        The objective the losses are measured in.
    max_price : float
        Top of the price search, USD/tCO2e.
    budget_s, runtime_s : float
    resolved, proven : int
        Units of the plan solved again, and those whose loss is proven (to the gap).
    provable : int
        Units of the plan in groups whose plan is proven optimal: only their losses can be
        proven (the loss's upper end is the plan's bound minus a plan without the unit).
    """

    table: pd.DataFrame
    objective_name: str
    max_price: float
    budget_s: float
    runtime_s: float
    resolved: int
    proven: int
    provable: int = 0

    def unit_columns(self) -> dict[str, pd.Series]:
        """Columns for the ``units`` layer: ``importance`` and ``join_price_usd``."""
        return {c: self.table[c] for c in ("importance", "join_price_usd")}

    def facts(self) -> dict:
        """What ``run.json`` records under ``importance``."""
        selected = self.table["bundle_id"] != ""
        return {
            "objective": self.objective_name,
            "units_in_plan": int(selected.sum()),
            "resolved": self.resolved,
            "proven": self.proven,
            "provable": self.provable,
            "units_outside": int((~selected).sum()),
            "with_join_price": int(self.table["join_price_usd"].notna().sum()),
            "max_price_usd": self.max_price,
            "budget_s": self.budget_s,
            "runtime_s": round(self.runtime_s, 3),
        }

    def report_tables(self, lang: str = "en") -> dict[str, pd.DataFrame]:
        """The report's two tables, by title in ``lang``: the most important units of the
        plan, and the units outside it that join at the lowest prices (at most
        :data:`TOP_UNITS` rows each)."""
        _ = translator(lang).gettext
        t = self.table
        inside = t[t["bundle_id"] != ""].sort_values(
            ["importance", "unit_id"], ascending=[False, True]
        )
        outside = t[(t["bundle_id"] == "") & t["join_price_usd"].notna()]
        outside = outside.sort_values(["join_price_usd", "unit_id"])
        loss = ["unit_id", "bundle_id", "importance", "importance_low", "importance_high"]
        join = ["unit_id", "join_price_usd", "join_price_low_usd", "note"]
        return {
            _(TITLE_LOSS): inside.head(TOP_UNITS)[loss].reset_index(drop=True),
            _(TITLE_JOIN): outside.head(TOP_UNITS)[join].reset_index(drop=True),
        }


def plan_importance(
    units: gpd.GeoDataFrame,
    plan: Plan,
    scenario: Scenario,
    solver: str | None = None,
    params: SolveParams | None = None,
    max_price: float = DEFAULT_MAX_PRICE,
    progress: Callable[[int, int], None] | None = None,
) -> Importance:
    """The importance of every unit of ``plan`` (module docstring).

    Parameters
    ----------
    units : GeoDataFrame
        The scored units the plan was made on.
    plan : Plan
        From :func:`~bundler.planning.planner.plan_bundles` (it keeps its problems).
    scenario : Scenario
    solver : str, optional
        Backend of the re-solves; default the plan's (``highs`` when that is the
        heuristic: its bounds prove little).
    params : SolveParams, optional
        ``time_limit`` is the budget of the whole measurement, a ceiling.
    max_price : float
        Top of the price search, USD/tCO2e (> 0).
    progress : callable, optional
        ``progress(done, total)`` over the units of the plan.

    Returns
    -------
    Importance

    Raises
    ------
    InputError
        For a max-p plan (no cost test, no price), or a ``max_price`` that is not positive.
    """
    if plan.objective_name == "max-p":
        raise InputError(
            "--importance needs the npv or credits objective: a max-p plan has no value or "
            "cost test to lose or to pass"
        )
    if not (max_price > 0 and math.isfinite(max_price)):
        raise InputError(f"--max-price must be a price above 0 USD/tCO2e, got {max_price:g}")
    pset = plan.problem_set
    if pset is None:
        raise ValueError("the plan keeps no problems: make it with plan_bundles")
    t0 = time.perf_counter()
    params = params or SolveParams()
    name = mip_backend_for(solver or plan.solver).NAME
    best = best_by_component(units, plan, pset)
    price = float(scenario.economics.carbon_price_usd)
    dv, ds = price_slopes(units, scenario, plan.objective_name)
    brackets: dict[int, object] = {}
    price_until = t0 + PRICE_SHARE * params.time_limit
    remaining = sum(p.n for p in pset.problems)
    for c, (problem, idx) in enumerate(zip(pset.problems, pset.members, strict=True)):
        inside = {j for b in best[c] for j in b}
        left = max(0.0, price_until - time.perf_counter())
        share = left * problem.n / max(1, remaining)
        remaining -= problem.n
        slopes = PriceSlopes(price, dv[idx], ds[idx])
        outside = [j for j in range(problem.n) if j not in inside]
        for th in price_thresholds(problem, slopes, outside, max_price, share, params.seed):
            brackets[int(idx[th.unit])] = (th, idx)
    bounds = plan.problem_bounds or [None] * len(pset.problems)
    left = max(1e-6, params.time_limit - (time.perf_counter() - t0))
    losses = replacement_importance(
        pset.problems,
        best,
        bounds,
        name,
        replace(params, time_limit=left),
        progress,
    )
    rows = _rows(units, plan, pset, losses, brackets, price, max_price, scenario)
    resolved = sum(r.resolved for comp in losses for r in comp)
    provable = sum(r.provable for comp in losses for r in comp)
    proven = sum(r.proven for comp in losses for r in comp)
    return Importance(
        table=rows,
        objective_name=plan.objective_name,
        max_price=float(max_price),
        budget_s=float(params.time_limit),
        runtime_s=time.perf_counter() - t0,
        resolved=int(resolved),
        proven=int(proven),
        provable=int(provable),
    )


def _rows(units, plan, pset, losses, brackets, price, max_price, scenario):
    """The table of :class:`Importance`, in the order of ``units``."""
    tr = translator(scenario.report.lang)
    _ = tr.gettext
    ids = units["unit_id"].astype(str).to_numpy()
    n = len(units)
    table = pd.DataFrame(
        {
            "unit_id": ids,
            "bundle_id": plan.unit_bundle.to_numpy(),
            "importance": np.full(n, np.nan),
            "importance_low": np.full(n, np.nan),
            "importance_high": np.full(n, np.nan),
            "importance_proven": pd.array([pd.NA] * n, dtype="boolean"),
            "join_price_usd": np.full(n, np.nan),
            "join_price_low_usd": np.full(n, np.nan),
            "join_with": [""] * n,
            "note": [""] * n,
        },
        index=units.index,
    )
    col = {c: table.columns.get_loc(c) for c in table.columns}
    for c, comp in enumerate(losses):
        idx = pset.members[c]
        for r in comp:
            i = int(idx[r.unit])
            if r.locked:
                table.iat[i, col["note"]] = _(NOTE_LOCKED)
                continue
            table.iat[i, col["importance"]] = r.loss
            table.iat[i, col["importance_low"]] = r.low
            # inf only for a proven infinite loss; an unknown upper end stays empty
            open_top = math.isinf(r.high) and not math.isinf(r.low)
            table.iat[i, col["importance_high"]] = np.nan if open_top else r.high
            table.iat[i, col["importance_proven"]] = r.proven
            if math.isinf(r.low):
                table.iat[i, col["note"]] = _(NOTE_INDISPENSABLE)
            elif not r.resolved:
                table.iat[i, col["note"]] = _(NOTE_NOT_RESOLVED)
    figures = {"max_price": tr.decimal(max_price, 2)}
    for i, (th, idx) in brackets.items():
        table.iat[i, col["join_price_low_usd"]] = th.low
        if math.isfinite(th.high):
            table.iat[i, col["join_price_usd"]] = th.high
            table.iat[i, col["join_with"]] = ";".join(ids[int(idx[j])] for j in th.witness)
            if th.high <= price:
                table.iat[i, col["note"]] = _(NOTE_PASSES_NOW)
        elif th.never:
            table.iat[i, col["note"]] = _(NOTE_NEVER).format(**figures)
        else:
            low = tr.decimal(th.low, 2)
            table.iat[i, col["note"]] = _(NOTE_NOT_FOUND).format(low=low, **figures)
    for i, reason in pset.reasons.items():
        table.iat[int(i), col["note"]] = _(NOTE_PRICE_FREE).format(reason=reason)
    return table.reset_index(drop=True)
