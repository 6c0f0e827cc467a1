"""Estimation step: the exact economics of any set of bundles, year by year.

Works on the optimizer's bundles and on hand-drawn ones alike. Every figure comes
from :mod:`bundler.economics.costmodel` (the single source of the cost model), so a bundle's
totals here equal :func:`bundler.economics.costmodel.bundle_economics` for the same units and
union area. Per bundle ``b`` over the crediting years ``t = 1..T``:

* gross reductions by intervention ``G_t[k] = sum_j g_jt[k]``
  (:func:`bundler.economics.costmodel.unit_gross_by_year`: potential x ramp x additionality x
  non-overlapping share), deductions ``buffer = G b``, ``leakage = G (1 - b) l``,
  ``uncertainty = G (1 - b)(1 - l) u``, and credits ``C_t = G_t (1 - b)(1 - l)(1 - u)``;
* costs by category (:func:`bundler.economics.costmodel.bundle_cost_breakdown`), revenue
  ``R_t = C_t p_t``, net ``N_t = R_t - K_t`` (``N_0 = -K_0``) and
  ``NPV = sum_t N_t d_t`` with ``d_0 = 1``;
* ``IRR``: the rate ``r > -0.95`` with ``sum_t N_t (1 + r)^-t = 0`` when there is
  exactly one; ``None`` when there is none or more than one;
* ``breakeven price = PV(costs) / sum_t C_t (1 + g)^(t - 1) d_t``: the year-1 price
  (escalating as the scenario says) at which NPV is 0. Costs do not depend on the price;
* ``standalone NPV = sum_j NPV({j})``: each unit alone as a project with its own area,
  and ``bundling gain = NPV(b) - standalone NPV``. A unit whose standalone NPV is
  negative counts with that negative value (it would not start a project alone): the
  gain is then the whole cost saving of sharing fixed costs, not the gain over the
  best of "alone or not at all".
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import shapely
from scipy.optimize import brentq

from bundler.config.economics import EconomicsSection
from bundler.config.scoring import STREAMS
from bundler.economics.benefit_sharing import share_benefits
from bundler.economics.common import attribute_table, bundle_positions, unit_index
from bundler.economics.costmodel import (
    COST_CATEGORIES,
    cost_breakdown,
    discount_factors,
    economics_of,
    price_path,
    rewet_peat_ha,
    unit_credits_by_year,
    unit_gross_by_year,
)
from bundler.economics.schedule import schedule_bundles
from bundler.geometry import M2_PER_HA, union_area_ha

if TYPE_CHECKING:
    from bundler.config.scenario import Scenario
    from bundler.planning.planner import Plan

SUMMARY_COLUMNS = [
    "bundle_id",
    "n_units",
    "area_ha",
    "main_intervention",
    "gross_protect_tco2e_yr",
    "gross_arr_tco2e_yr",
    "gross_peat_tco2e_yr",
    "buffer_tco2e_yr",
    "leakage_tco2e_yr",
    "uncertainty_tco2e_yr",
    "credits_tco2e_yr",
    "pv_credits",
    "pv_costs",
    "pv_revenue",
    "upfront_usd",
    "npv_usd",
    "irr",
    "breakeven_price_usd",
    "cost_per_tco2e",
    "standalone_npv_usd",
    "bundling_gain_usd",
]

YEARLY_COLUMNS = [
    "bundle_id",
    "year",
    *(f"gross_{k}_tco2e" for k in STREAMS),
    "credits_tco2e",
    *(f"cost_{c}_usd" for c in COST_CATEGORIES),
    "costs_usd",
    "revenue_usd",
    "net_usd",
    "discount_factor",
    "discounted_net_usd",
]

# IRR search grid: below -95% the discount factors of long periods overflow usefulness
_IRR_GRID = np.concatenate([np.linspace(-0.95, 1.0, 391), np.geomspace(1.0, 1000.0, 121)[1:]])


@dataclass(frozen=True)
class Estimates:
    """The estimation step's tables.

    Attributes
    ----------
    summary : DataFrame
        One row per bundle, columns :data:`SUMMARY_COLUMNS`: tonnes per year are means
        over the crediting period, money in USD present values (``upfront_usd`` is the
        year-0 cost, undiscounted), ``irr`` is ``None`` when undefined.
    yearly : DataFrame
        One row per bundle and year ``0..T``, columns :data:`YEARLY_COLUMNS`.
    """

    summary: pd.DataFrame
    yearly: pd.DataFrame


class PlanEconomics(NamedTuple):
    """A plan's economics, as :func:`estimate_plan` computes them for the plan writer.

    A named tuple, so ``est, priority, sharing, termination = estimate_plan(...)`` works.

    Attributes
    ----------
    est : Estimates
        ``estimates.csv`` and ``yearly.csv``.
    priority : DataFrame
        The five-year priority list (``priority.csv``).
    sharing : DataFrame
        Benefit sharing (``benefit_sharing.csv``).
    schedule_termination : str
        The schedule MIP's termination (``optimal``, ``feasible``, ...).
    """

    est: Estimates
    priority: pd.DataFrame
    sharing: pd.DataFrame
    schedule_termination: str


def irr(cash_flows: Sequence[float]) -> float | None:
    """Internal rate of return of cash flows in years ``0, 1, ..., T``.

    The rate ``r`` with ``sum_t N_t (1 + r)^-t = 0``, searched on ``-0.95 < r <= 1000``.

    Parameters
    ----------
    cash_flows : sequence of float
        ``N_0 .. N_T``.

    Returns
    -------
    float or None
        The rate when exactly one exists in the range; ``None`` when the flows never
        change sign, when there is no root or when there are several (non-conventional
        flows, e.g. verification years that cost more than they earn, can have more
        than one, and then no single rate describes the project).
    """
    flows = np.asarray(cash_flows, dtype=float)
    if not ((flows > 0).any() and (flows < 0).any()):
        return None
    t = np.arange(len(flows), dtype=float)

    def npv(r: float) -> float:
        return float(flows @ (1.0 + r) ** -t)

    values = np.array([float(flows @ p) for p in _irr_powers(len(flows))])
    signs = np.sign(values)
    roots = [float(r) for r, s in zip(_IRR_GRID, signs, strict=True) if s == 0]
    for i in np.flatnonzero(signs[:-1] * signs[1:] < 0):
        roots.append(brentq(npv, _IRR_GRID[i], _IRR_GRID[i + 1], xtol=1e-12, rtol=1e-12))
    return roots[0] if len(roots) == 1 else None


@functools.cache
def _irr_powers(n: int) -> np.ndarray:
    """``(1 + r)^-t`` for every ``r`` of the IRR grid (rows) and ``t = 0..n-1``.

    The same powers :func:`irr`'s ``npv`` takes, computed once per length instead of
    once per bundle and rate.
    """
    t = np.arange(n, dtype=float)
    powers = np.array([(1.0 + r) ** -t for r in _IRR_GRID])
    powers.setflags(write=False)
    return powers


def main_intervention(units: pd.DataFrame) -> str:
    """The intervention with the largest summed potential (``"none"`` without any).

    The same rule as the plan's bundle table, on the raw ``potential_*_tco2e_yr`` columns.
    """
    return _largest({k: float(units[f"potential_{k}_tco2e_yr"].sum()) for k in STREAMS})


def _largest(sums: Mapping[str, float]) -> str:
    """The intervention of the largest sum, ``"none"`` when no sum is positive."""
    return max(sums, key=sums.get) if any(v > 0 for v in sums.values()) else "none"


def estimate_bundles(
    units: pd.DataFrame, bundles: Mapping[str, Sequence[str]], econ: EconomicsSection
) -> Estimates:
    """Exact economics of each bundle, in total and per year.

    Parameters
    ----------
    units : GeoDataFrame
        Scored units in the working (metric, equal-area) CRS.
    bundles : mapping of str to sequence of str
        ``bundle_id -> unit_ids``; any bundles, disjoint or not, connected or not.
    econ : EconomicsSection

    Returns
    -------
    Estimates
        Formulas in the module docstring.

    Raises
    ------
    InputError
        For a bundle without units or with unknown unit ids.
    """
    d = discount_factors(econ)
    d0 = np.concatenate([[1.0], d])
    prices = price_path(econ)
    unit_price = price_path(dataclasses.replace(econ, carbon_price_usd=1.0))
    kept = (1 - econ.buffer, (1 - econ.buffer) * (1 - econ.leakage))
    rows = []
    index = unit_index(units)
    # Every figure below is a sum over a bundle's units of a per-unit column, so the
    # columns are computed once for the whole table and indexed per bundle: selecting
    # each bundle's rows of the table (and each unit's, for the standalone values)
    # costs far more than the cost model. Sums over the same values in the same order
    # keep every figure what the row-by-row evaluation gave.
    table = attribute_table(units)
    unit_credits = unit_credits_by_year(table, econ)
    unit_gross = unit_gross_by_year(table, econ)
    rewet = rewet_peat_ha(table)
    potentials = {k: table[f"potential_{k}_tco2e_yr"].to_numpy(float) for k in STREAMS}
    geoms = units.geometry.values
    positions = [
        (bid, np.asarray(bundle_positions(units, ids, index), dtype=np.intp))
        for bid, ids in bundles.items()
    ]
    members = np.unique(np.concatenate([idx for _, idx in positions])) if positions else []
    standalone = _standalone_npv(geoms, members, rewet, unit_credits, econ)
    columns: dict[str, list[np.ndarray]] = {c: [] for c in YEARLY_COLUMNS}
    for bid, idx in positions:
        area = union_area_ha(geoms[idx])
        credits = np.asarray(unit_credits[idx].sum(axis=0), float)
        parts = cost_breakdown(len(idx), float(rewet[idx].sum()), area, econ, credits)
        e = economics_of(parts, area, len(idx), credits, econ)
        gross = {k: v[idx].sum(axis=0) for k, v in unit_gross.items()}
        total_gross = sum(gross.values())
        deductions = {
            "buffer": total_gross * econ.buffer,
            "leakage": total_gross * kept[0] * econ.leakage,
            "uncertainty": total_gross * kept[1] * econ.uncertainty,
        }
        revenue = np.concatenate([[0.0], e.credits_by_year * prices])
        net = revenue - e.costs_by_year
        alone = float(sum(standalone[j] for j in idx.tolist()))
        unit_revenue = float(e.credits_by_year @ (unit_price * d))
        row = {
            "bundle_id": str(bid),
            "n_units": e.n_units,
            "area_ha": e.area_ha,
            "main_intervention": _main_intervention(potentials, idx),
            **{f"gross_{k}_tco2e_yr": float(gross[k].mean()) for k in STREAMS},
            **{f"{k}_tco2e_yr": float(v.mean()) for k, v in deductions.items()},
            "credits_tco2e_yr": e.credits_tco2e_yr,
            "pv_credits": e.pv_credits,
            "pv_costs": e.pv_costs,
            "pv_revenue": e.pv_revenue,
            "upfront_usd": float(e.costs_by_year[0]),
            "npv_usd": e.npv,
            "irr": irr(net),
            "breakeven_price_usd": e.pv_costs / unit_revenue if unit_revenue > 0 else np.inf,
            "cost_per_tco2e": e.cost_per_tco2e,
            "standalone_npv_usd": alone,
            "bundling_gain_usd": e.npv - alone,
        }
        rows.append(row)
        zero = np.zeros(1)
        year = {
            "bundle_id": np.full(len(d0), str(bid), dtype=object),
            "year": np.arange(len(d0)),
            **{f"gross_{k}_tco2e": np.concatenate([zero, gross[k]]) for k in STREAMS},
            "credits_tco2e": np.concatenate([zero, e.credits_by_year]),
            **{f"cost_{c}_usd": parts[c] for c in COST_CATEGORIES},
            "costs_usd": e.costs_by_year,
            "revenue_usd": revenue,
            "net_usd": net,
            "discount_factor": d0,
            "discounted_net_usd": net * d0,
        }
        for c in YEARLY_COLUMNS:
            columns[c].append(year[c])
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    summary["irr"] = pd.Series(
        [r["irr"] for r in rows], index=summary.index, dtype=object
    )  # keep None, not NaN: "undefined", not "missing"
    yearly = (
        pd.DataFrame({c: np.concatenate(v) for c, v in columns.items()}, columns=YEARLY_COLUMNS)
        if rows
        else pd.DataFrame(columns=YEARLY_COLUMNS)
    )
    return Estimates(summary=summary, yearly=yearly)


def _standalone_npv(
    geoms, positions, rewet: np.ndarray, unit_credits: np.ndarray, econ: EconomicsSection
) -> dict[int, float]:
    """NPV of each unit at row ``positions`` as a project of its own, by row position.

    :func:`bundler.economics.costmodel.bundle_economics` of the unit alone with the area
    of its own union, for all the units at once.
    """
    positions = np.asarray(positions, dtype=np.intp)
    # one vectorised unary union per unit: the area of a unit's union, not of its
    # polygon, is what a one-unit bundle is charged for (they differ for multipolygons)
    cells = np.asarray(geoms[positions], dtype=object).reshape(-1, 1)
    areas = shapely.area(shapely.union_all(cells, axis=1)) / M2_PER_HA
    credits = unit_credits[positions]
    parts = cost_breakdown(np.ones(len(positions)), rewet[positions], areas, econ, credits)
    costs = parts[COST_CATEGORIES[0]].copy()
    for name in COST_CATEGORIES[1:]:
        costs = costs + parts[name]
    d = discount_factors(econ)
    revenue_factor = price_path(econ) * d
    # present values one unit at a time, as bundle_economics takes them: a matrix
    # product may add up in another order than the vector dot product does
    return {
        j: float(c @ revenue_factor) - float(k[0] + k[1:] @ d)
        for j, c, k in zip(positions.tolist(), credits, costs, strict=True)
    }


def _main_intervention(potentials: Mapping[str, np.ndarray], idx: np.ndarray) -> str:
    """:func:`main_intervention` of the units at ``idx`` from the potential columns."""
    # nansum: a missing potential counts as 0, as pandas' column sums count it
    return _largest({k: float(np.nansum(v[idx])) for k, v in potentials.items()})


def estimate_plan(units: pd.DataFrame, plan: Plan, scenario: Scenario) -> PlanEconomics:
    """Estimation, five-year priority list and benefit sharing of a plan's bundles.

    Parameters
    ----------
    units : GeoDataFrame
        The scored units the plan was made from (working CRS).
    plan : Plan
        Its ``bundles`` table gives ``bundle_id -> unit_ids``.
    scenario : Scenario
        ``economics``, ``schedule`` and ``sharing`` sections.

    Returns
    -------
    PlanEconomics
        ``est``; ``priority`` from :func:`bundler.economics.schedule.schedule_bundles`
        (``priority.csv``, its ``why`` in the scenario's ``report.lang``); ``sharing`` from
        :func:`bundler.economics.benefit_sharing.share_benefits` (``benefit_sharing.csv``);
        ``schedule_termination``, the schedule MIP's termination (``optimal``, ``feasible``,
        ...).
    """
    bundles = {
        str(b): [str(u) for u in ids]
        for b, ids in zip(plan.bundles["bundle_id"], plan.bundles["unit_ids"], strict=True)
    }
    est = estimate_bundles(units, bundles, scenario.economics)
    priority, termination = schedule_bundles(
        est.summary,
        units,
        bundles,
        scenario.economics,
        scenario.schedule,
        lang=scenario.report.lang,
    )
    sharing = share_benefits(units, bundles, est.summary, scenario.economics, scenario.sharing)
    return PlanEconomics(est, priority, sharing, termination)
