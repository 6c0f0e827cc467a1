"""Planning: pick and merge neighbouring units into connected carbon projects.

The pipeline is pure (no printing): scored units + adjacency graph + scenario
-> independent problems per component -> solver -> plan -> independent
verification -> exact economics of every bundle.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from bundler.config.scenario import Scenario
from bundler.config.scoring import STREAMS
from bundler.economics.costmodel import bundle_economics
from bundler.errors import InputError, SolverError
from bundler.geometry import union_area_ha
from bundler.i18n.catalogue import translator
from bundler.input.unit_ids import SOURCE_KEYS
from bundler.planning.problem_builder import (
    REASON_NOT_CHOSEN,
    REASON_NOT_CHOSEN_MAXP,
    REASON_NOT_COST_EFFICIENT,
    REASON_UNDECIDED_HEURISTIC,
    REASON_UNDECIDED_TIME,
    ProblemSet,
    build_problems,
)
from bundler.planning.settings_check import check_settings
from bundler.planning.verify import verify_plan
from solvers.api import HEURISTIC, merge_results, solve_bundling
from solvers.base import SolveParams, Termination, absolute_gap, relative_gap

# seconds the heuristic gets for each component left once the time limit is spent
SPENT_BUDGET_S = 0.1
# heuristic warm start: share of a group's time (more above LARGE_GROUP units)
WARM_SHARE = 0.25
WARM_SHARE_LARGE = 0.4
LARGE_GROUP = 1_000
# a group still open is solved again only when at least this many seconds are left
MIN_REVISIT_S = 1.0


@dataclass
class Plan:
    """A verified plan.

    Attributes
    ----------
    bundles : DataFrame
        One row per bundle: ``bundle_id, unit_ids (list), n_units, area_ha,
        credits_tco2e_yr, cost_usd, npv_usd, cost_per_tco2e`` and the main
        intervention. Present values in USD.
    unit_bundle : Series
        ``bundle_id`` per unit (``""`` when not selected), aligned with the units.
    unit_reason : Series
        Why a unit is in no bundle (``""`` when it is in one).
    termination : Termination
        ``optimal`` only when every component was proven optimal.
    objective, bound, gap : float or None
    runtime_s : float
    solver : str
    objective_name : str
    component_results : list
        ``(n_units, BundlingResult)`` per solved component.
    explanation : str
        A sentence for plans without any bundle.
    problem_set : ProblemSet or None
        The problems the plan solved (one per group of neighbouring units), for the
        near-optimal alternatives (:mod:`bundler.planning.alternatives`) and the
        importance of units (:mod:`bundler.planning.importance`).
    problem_bounds : list of float or None
        The proven bound of each problem of ``problem_set``, in its order (``None``
        when its solve gave none).
    """

    bundles: pd.DataFrame
    unit_bundle: pd.Series
    unit_reason: pd.Series
    termination: Termination
    objective: float | None
    bound: float | None
    gap: float | None
    runtime_s: float
    solver: str
    objective_name: str
    max_cost_per_tco2e: float
    component_results: list = field(default_factory=list)
    explanation: str = ""
    problem_set: ProblemSet | None = field(default=None, repr=False, compare=False)
    problem_bounds: list = field(default_factory=list, repr=False, compare=False)

    def with_prefix(self, prefix: str) -> Plan:
        """A copy whose bundle ids start with ``prefix`` (unique across provinces)."""

        def rename(bid: str) -> str:
            return f"{prefix}{bid}" if bid else bid

        bundles = self.bundles.assign(bundle_id=self.bundles["bundle_id"].map(rename))
        return dataclasses.replace(self, bundles=bundles, unit_bundle=self.unit_bundle.map(rename))


def plan_bundles(
    units: gpd.GeoDataFrame,
    graph: nx.Graph,
    scenario: Scenario,
    max_gap_m: float,
    solver: str = "highs",
    params: SolveParams | None = None,
    objective: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Choose disjoint, connected bundles that meet every rule, and verify them.

    Parameters
    ----------
    units : GeoDataFrame
        Scored units in the working CRS.
    graph : networkx.Graph
        Adjacency on ``unit_id`` built with ``max_gap_m``.
    scenario : Scenario
    max_gap_m : float
        The gap rule of ``graph`` (the verifier checks connectivity with it).
    solver : str
        Backend name (see ``psbundle solvers``).
    params : SolveParams, optional
        ``time_limit`` is the budget of the whole run.
    objective : str, optional
        ``npv``, ``credits`` or ``max-p``; default the scenario's.
    progress : callable, optional
        ``progress(done_units, total_units)``.

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        When settings contradict each other (a minimum area above the maximum), or
        locked-in units cannot be in any bundle that meets the rules.
    SolverError
        When the backend fails on a component without any answer.
    VerificationError
        When the plan breaks a rule (a bug).
    """
    check_settings(scenario)
    t0 = time.perf_counter()
    params = params or SolveParams()
    objective = objective or scenario.bundling.objective
    pset = build_problems(units, graph, scenario, objective)
    n_total = sum(p.n for p in pset.problems)
    reasons = dict(pset.reasons)
    chosen: list[list[int]] = []
    results = []
    done = 0
    # smallest first: they finish early and pass their unused time on to the large ones
    order = sorted(range(len(pset.problems)), key=lambda k: (pset.problems[k].n, k))
    for rank, k in enumerate(order):
        problem = pset.problems[k]
        remaining_units = sum(pset.problems[q].n for q in order[rank:])
        left = params.time_limit - (time.perf_counter() - t0)
        if left > 0:
            budget = max(1.0, left * problem.n / max(remaining_units, 1))
            res = _solve_component(problem, solver, params, budget, scenario)
        else:
            # the run's time is spent: a quick heuristic answer, so that a province of
            # hundreds of components does not overrun by a second per component
            res = solve_bundling(
                problem, HEURISTIC, SolveParams(time_limit=SPENT_BUDGET_S, seed=params.seed)
            )
        results.append((problem.n, res))
        if res.termination == Termination.INFEASIBLE:
            locked = [u for u, m in zip(problem.unit_ids, problem.must_cover, strict=True) if m]
            raise InputError(
                "no plan meets the rules: locked-in units "
                + ", ".join(locked)
                + " cannot all be in bundles that reach the minimum area and cost tests"
            )
        if res.termination == Termination.ERROR or (
            res.termination == Termination.NO_SOLUTION and problem.must_cover.any()
        ):
            raise SolverError(
                f"solver {solver!r} returned no answer for a group of {problem.n} units "
                f"({res.message or res.termination.value}); try a longer --time-limit "
                "or --solver heuristic"
            )
        done += problem.n
        if progress:
            progress(done, n_total)
    if solver != HEURISTIC:
        _revisit(pset.problems, order, results, solver, params, scenario, t0)
    for k, (_, res) in zip(order, results, strict=True):
        chosen.extend([int(pset.members[k][j]) for j in b] for b in res.bundles)

    ids = units["unit_id"].astype(str).to_numpy()
    bundle_units = sorted(chosen, key=lambda b: min(b))
    verify_plan(
        units,
        [[ids[i] for i in b] for b in bundle_units],
        scenario,
        max_gap_m,
        objective,
        pset.min_area_of_unit,
        pset.max_cost_per_tco2e,
    )
    bundles, unit_bundle = _bundle_table(units, bundle_units, scenario)
    tr = translator(scenario.report.lang)  # reasons in the scenario's language
    for k, (_, res) in zip(order, results, strict=True):
        why = tr.gettext(_unselected_reason(res, objective))
        for i in pset.members[k]:
            if unit_bundle.iloc[i] == "":
                reasons[int(i)] = why
    unit_reason = pd.Series([reasons.get(i, "") for i in range(len(units))], index=units.index)
    term, obj, bound = _aggregate(results)
    explanation = ""
    if not len(bundles):
        explanation = _explain_empty(units, pset, reasons, tr)
    return Plan(
        bundles=bundles,
        unit_bundle=unit_bundle,
        unit_reason=unit_reason,
        termination=term,
        objective=obj,
        bound=bound,
        gap=relative_gap(obj, bound),
        runtime_s=time.perf_counter() - t0,
        solver=solver,
        objective_name=objective,
        max_cost_per_tco2e=pset.max_cost_per_tco2e,
        component_results=results,
        explanation=explanation,
        problem_set=pset,
        # results run in solving order; problem k's is at position argsort(order)[k]
        problem_bounds=[results[i][1].bound for i in np.argsort(order)],
    )


def plan_totals(bundles: pd.DataFrame) -> dict:
    """A plan's totals over its bundles table: bundles, units in them, area, credits and NPV."""
    # sums over no rows are 0, and NaN figures of unscored bundles are skipped
    return {
        "n_bundles": len(bundles),
        "units_in_bundles": int(bundles["n_units"].sum()),
        "area_ha": float(bundles["area_ha"].sum()),
        "credits_tco2e_yr": float(bundles["credits_tco2e_yr"].sum()),
        "npv_usd": float(bundles["npv_usd"].sum()),
    }


def _solve_component(problem, solver, params, budget, scenario):
    """Heuristic warm start, then the MIP backend's certified solve (any size).

    Above ``bundling.exact_max_units`` a max-p component stays with the heuristic (its
    area bound is the proof); npv and credits components get column generation with
    a Lagrangian bound, and the compact rooted MIP only up to that size.
    """
    p = dataclasses.replace(params, time_limit=budget)
    large = problem.n > scenario.bundling.exact_max_units
    if solver == HEURISTIC or (large and problem.objective == "max-p"):
        return solve_bundling(problem, HEURISTIC, p)
    warm = solve_bundling(
        problem,
        HEURISTIC,
        SolveParams(time_limit=max(0.2, _warm_share(problem) * budget), seed=params.seed),
    )
    if warm.termination == Termination.OPTIMAL:
        # the heuristic proved it (exact enumeration of a small component)
        return warm
    ws = [list(b) for b in warm.bundles] or None
    rest = max(0.5, budget - warm.runtime_s)
    return solve_bundling(
        problem,
        solver,
        dataclasses.replace(p, time_limit=rest),
        warm_start=ws,
        max_rounds=scenario.bundling.max_cut_rounds,
        compact_max_units=scenario.bundling.exact_max_units,
    )


def _revisit(problems, order, results, solver, params, scenario, t0) -> None:
    """Give the time that finished groups left over to the groups still open.

    Groups solved within their share of the time limit leave the rest of it unused;
    the groups whose gap is still open get it, largest absolute gap first, each
    restarting from its own plan. A group's result is replaced only by one with an
    objective at least as good; the smaller of the two bounds is kept (both are valid).
    """
    open_groups = [
        (gap, rank)
        for rank, (_, res) in enumerate(results)
        if res.termination == Termination.FEASIBLE
        and res.solver != HEURISTIC
        and (gap := absolute_gap(res.objective, res.bound)) is not None
        and gap > 0
    ]
    total = sum(g for g, _ in open_groups)
    for gap, rank in sorted(open_groups, reverse=True):
        left = params.time_limit - (time.perf_counter() - t0)
        if left < MIN_REVISIT_S or total <= 0:
            break
        budget = max(MIN_REVISIT_S, left * gap / total)
        total -= gap
        problem, old = problems[order[rank]], results[rank][1]
        new = solve_bundling(
            problem,
            solver,
            dataclasses.replace(params, time_limit=min(budget, left)),
            warm_start=[list(b) for b in old.bundles] or None,
            max_rounds=scenario.bundling.max_cut_rounds,
            compact_max_units=scenario.bundling.exact_max_units,
        )
        results[rank] = (problem.n, _better_of(old, new, params.rel_gap))


def _better_of(old, new, rel_gap: float):
    """The better plan of two solves of one group (the new one on a tie), tighter bound."""
    if new.objective is None or new.termination not in (Termination.OPTIMAL, Termination.FEASIBLE):
        return old
    return dataclasses.replace(
        merge_results(new, old, rel_gap),
        runtime_s=old.runtime_s + new.runtime_s,
        iterations=old.iterations + new.iterations,
    )


def _warm_share(problem) -> float:
    """Share of a group's time for the heuristic's warm start.

    On large groups the heuristic's plan is usually the one returned (column
    generation mostly proves the bound), so it gets more; it stops on its own when it
    stops improving, so the share is a ceiling.
    """
    return WARM_SHARE_LARGE if problem.n > LARGE_GROUP else WARM_SHARE


def _unselected_reason(res, objective: str) -> str:
    """Why the unselected units of one solved group are out: only what the result proves."""
    if objective == "max-p":
        return REASON_NOT_CHOSEN_MAXP
    if res.termination == Termination.OPTIMAL:
        return REASON_NOT_CHOSEN if res.bundles else REASON_NOT_COST_EFFICIENT
    if res.solver == HEURISTIC:
        return REASON_UNDECIDED_HEURISTIC
    return REASON_UNDECIDED_TIME


def _aggregate(results):
    if not results:
        return Termination.OPTIMAL, 0.0, 0.0
    terms = [r.termination for _, r in results]
    objs = [r.objective for _, r in results]
    obj = None if any(o is None for o in objs) else float(sum(objs))
    bounds = [r.bound for _, r in results]
    bound = None if any(b is None for b in bounds) else float(sum(bounds))
    if all(t == Termination.OPTIMAL for t in terms):
        term = Termination.OPTIMAL
    elif obj is not None:
        term = Termination.FEASIBLE
    else:
        term = Termination.NO_SOLUTION
    return term, obj, bound


def bundle_table(units, bundle_units, scenario) -> tuple[pd.DataFrame, pd.Series]:
    """A plan's bundles table and ``bundle_id`` per unit, from each bundle's row positions.

    The columns of :attr:`Plan.bundles`; bundles are numbered ``B001``... in the order given.
    """
    return _bundle_table(units, bundle_units, scenario)


def _bundle_table(units, bundle_units, scenario):
    econ = scenario.economics
    rows = []
    unit_bundle = pd.Series([""] * len(units), index=units.index, dtype=object)
    geoms = units.geometry.values
    keys = [k for k in SOURCE_KEYS if k in units.columns]
    width = max(3, len(str(len(bundle_units))))
    for k, idx in enumerate(bundle_units, start=1):
        bid = f"B{k:0{width}d}"
        sub = units.iloc[idx]
        union_ha = union_area_ha(geoms[idx])
        scored = "potential_protect_tco2e_yr" in sub
        row = {
            "bundle_id": bid,
            "unit_ids": list(sub["unit_id"].astype(str)),
            "n_units": len(idx),
            "area_ha": union_ha,
        }
        if scored and "additionality" in sub:
            e = bundle_economics(sub, union_ha, econ)
            shares = {name: float(sub[f"potential_{name}_tco2e_yr"].sum()) for name in STREAMS}
            row.update(
                credits_tco2e_yr=e.credits_tco2e_yr,
                cost_usd=e.pv_costs,
                npv_usd=e.npv,
                cost_per_tco2e=e.cost_per_tco2e,
                main_intervention=max(shares, key=shares.get) if any(shares.values()) else "none",
            )
        if "cobenefit" in sub:  # the sum over its units (bundler.scoring.cobenefit)
            row["cobenefit"] = float(sub["cobenefit"].sum())
        for key in keys:  # the source's own fields, to join each bundle back to the file
            row[key] = ";".join(sub[key].astype(str))
        rows.append(row)
        unit_bundle.iloc[idx] = bid
    cols = [
        "bundle_id",
        "unit_ids",
        "n_units",
        "area_ha",
        "credits_tco2e_yr",
        "cost_usd",
        "npv_usd",
        "cost_per_tco2e",
        "main_intervention",
        *(["cobenefit"] if "cobenefit" in units.columns else []),
        *keys,
    ]
    frame = pd.DataFrame(rows, columns=cols)
    return frame, unit_bundle


def _explain_empty(units, pset, reasons, tr) -> str:
    """Why a plan has no bundle, in the language of ``tr`` (the reasons already are)."""
    _ = tr.gettext
    counts: dict[str, int] = {}
    for r in reasons.values():
        counts[r] = counts.get(r, 0) + 1
    parts = [
        _("{n} unit(s): {reason}").format(n=n, reason=r)
        for r, n in sorted(counts.items(), key=lambda kv: -kv[1])
    ]
    need = float(np.min(pset.min_area_of_unit)) if len(units) else 0.0
    rules = _("(minimum area {area} ha, maximum levelized cost {cost} USD/tCO2e)").format(
        area=tr.decimal(need, 0), cost=tr.decimal(pset.max_cost_per_tco2e, 2, group=False)
    )
    undecided = _(REASON_UNDECIDED_TIME) in counts or _(REASON_UNDECIDED_HEURISTIC) in counts
    head = (
        _(
            "No bundle was found {rules}, and the search ended before it could prove that none "
            "exists."
        )
        if undecided
        else _("No bundle meets the rules {rules}.")
    ).format(rules=rules)
    return head + " " + "; ".join(parts)
