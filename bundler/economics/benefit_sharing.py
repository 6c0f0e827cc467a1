"""Benefit sharing: split each bundle's revenue between state, local government, investor, units.

What is split is the bundle's **present value of revenue** ``R = sum_t C_t p_t d_t``
(USD, discounted like every other money figure of a plan), not one year's revenue.
In order:

1. **state**: PNBP per credit times the discounted credits, ``S = min(pnbp * PV(C), R)``;
2. **local government**: an incentive share, ``G = min(g * R, R - S)``;
3. what is left, ``D = R - S - G``, goes to the **investor** ``I = s D`` and the
   **units** ``U = (1 - s) D``. With ``investor_basis = "investment"`` the investor
   finances the year-0 costs (feasibility, document, validation, onboarding, peat
   works), and ``s = K_0 / (PV(costs) - pnbp * PV(C))``: its investment's share of all
   project costs except the PNBP (which is the state's line); the running costs are
   paid out of the parties' shares as the credits come in. With ``"fixed"``,
   ``s = investor_share``;
4. the units' share ``U`` is divided in proportion to each unit's contribution
   ``w_j``: ``"credits"`` its discounted credits ``sum_t c_jt d_t``, ``"area"`` its
   ``area_excl_ha`` (overlaps are nobody's), ``"investment"`` its own costs in the
   linear cost model (:attr:`bundler.economics.costmodel.LinearCoefficients.pv_cost`: onboarding,
   unit monitoring, per-ha costs, peat works, levies). All-zero contributions share equally.

Amounts are whole cents: ``round(100 R)`` cents are allocated to all lines of a bundle
at once by the largest-remainder (Hamilton) method, so they add up exactly to the
revenue in cents. Per household: a unit's amount divided by its ``households``
(NaN when unknown or zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from bundler.config.economics import EconomicsSection
from bundler.config.sharing import BenefitSharingSection
from bundler.economics.common import attribute_table, bundle_positions, unit_index
from bundler.economics.costmodel import discount_factors, linear_coefficients, unit_credits_by_year

SHARING_COLUMNS = ["bundle_id", "party", "unit_id", "amount_usd", "share", "per_household_usd"]
PARTIES = ("state", "local_government", "investor")


def allocate_cents(total_cents: int, weights: Sequence[float]) -> np.ndarray:
    """Split ``total_cents`` in proportion to ``weights``, in whole cents, exactly.

    Largest remainder: line ``i`` gets ``floor(q_i)`` with ``q_i = total * w_i / sum(w)``
    (exact rational arithmetic), and the ``total - sum(floor(q_i))`` cents left go one
    each to the lines with the largest ``q_i - floor(q_i)`` (ties: earlier line first).

    Parameters
    ----------
    total_cents : int
        Non-negative.
    weights : sequence of float
        Non-negative and finite; all zero means equal weights.

    Returns
    -------
    ndarray of int64
        Sums exactly to ``total_cents``.
    """
    total = int(total_cents)
    if total < 0:
        raise ValueError(f"total_cents must be >= 0, got {total}")
    raw = [float(x) for x in weights]
    if any(x < 0 or not math.isfinite(x) for x in raw):
        raise ValueError("weights must be non-negative and finite")
    if not raw:
        if total:
            raise ValueError("cannot allocate cents to no lines")
        return np.zeros(0, dtype=np.int64)
    # a float is n / d exactly with d a power of two: over the largest d every weight is a
    # whole number a_i, and q_i = total * a_i / sum(a) in integers (what Fractions would
    # compute, at a fraction of the cost); the remainders share one denominator
    ratios = [x.as_integer_ratio() for x in raw]
    scale = max(d for _, d in ratios)
    a = [n * (scale // d) for n, d in ratios]
    asum = sum(a)
    if asum == 0:
        a, asum = [1] * len(a), len(a)
    out, remainder = [], []
    for ai in a:
        whole, part = divmod(total * ai, asum)
        out.append(whole)
        remainder.append(part)
    left = total - sum(out)
    order = sorted(range(len(a)), key=lambda i: (-remainder[i], i))
    for i in order[:left]:
        out[i] += 1
    return np.array(out, dtype=np.int64)


def split_revenue(
    revenue_usd: float,
    state_usd: float,
    local_government_share: float,
    investor_share: float,
    unit_weights: Sequence[float],
) -> np.ndarray:
    """One bundle's revenue in cents: state, local government, investor, then each unit.

    ``S = min(state, R)``, ``G = min(g R, R - S)``, ``I = s (R - S - G)``,
    ``U_j = (1 - s)(R - S - G) w_j / sum(w)`` (equal when all ``w`` are 0), allocated
    with :func:`allocate_cents` to ``round(100 R)`` cents.

    Parameters
    ----------
    revenue_usd : float
        ``R >= 0``.
    state_usd : float
        The PNBP due, ``>= 0``.
    local_government_share, investor_share : float
        ``g`` and ``s`` in ``[0, 1]``.
    unit_weights : sequence of float
        Contributions ``w_j >= 0`` of at least one unit.

    Returns
    -------
    ndarray of int64
        ``3 + len(unit_weights)`` amounts in cents summing exactly to ``round(100 R)``.
    """
    r = max(float(revenue_usd), 0.0)
    state = min(max(float(state_usd), 0.0), r)
    local = min(local_government_share * r, r - state)
    rest = max(r - state - local, 0.0)
    w = np.asarray(unit_weights, dtype=float)
    if w.size == 0:
        raise ValueError("a bundle needs at least one unit")
    w = w / w.sum() if w.sum() > 0 else np.full(w.size, 1.0 / w.size)
    targets = [state, local, investor_share * rest, *((1.0 - investor_share) * rest * w)]
    return allocate_cents(round(100 * r), targets)


def _unit_weights(
    table: pd.DataFrame, credits: np.ndarray, idx: list[int], econ: EconomicsSection, basis: str
) -> np.ndarray:
    """Contributions ``w_j`` of the units at rows ``idx`` of ``table``.

    ``credits`` is :func:`unit_credits_by_year` of the whole ``table``: its rows at
    ``idx`` are the bundle's own, so a bundle needs no selection of table rows.
    """
    if basis == "credits":
        return credits[idx] @ discount_factors(econ)
    if basis == "area":
        return table["area_excl_ha"].to_numpy(float)[idx]
    if basis == "investment":
        return linear_coefficients(table.iloc[idx], econ).pv_cost
    raise ValueError(f"unknown unit_basis {basis!r}")


def investor_share(row: Mapping, econ: EconomicsSection, section: BenefitSharingSection) -> float:
    """The investor's share ``s`` of what is left after the state and local government.

    ``"investment"``: ``K_0 / (PV(costs) - pnbp * PV(credits))`` clipped to ``[0, 1]``
    (0 without costs); ``"fixed"``: ``investor_share``.
    """
    if section.investor_basis == "fixed":
        return float(section.investor_share)
    costs = float(row["pv_costs"]) - econ.pnbp_usd_per_credit * float(row["pv_credits"])
    return float(np.clip(float(row["upfront_usd"]) / costs, 0.0, 1.0)) if costs > 0 else 0.0


def share_benefits(
    units: pd.DataFrame,
    bundles: Mapping[str, Sequence[str]],
    summary: pd.DataFrame,
    econ: EconomicsSection,
    section: BenefitSharingSection,
) -> pd.DataFrame:
    """The benefit-sharing table of ``benefit_sharing.csv``.

    Parameters
    ----------
    units : DataFrame
        Scored units; ``households`` is optional.
    bundles : mapping of str to sequence of str
        ``bundle_id -> unit_ids``.
    summary : DataFrame
        :attr:`bundler.economics.estimation.Estimates.summary` of the same bundles
        (``pv_revenue``, ``pv_credits``, ``pv_costs``, ``upfront_usd``).
    econ : EconomicsSection
    section : BenefitSharingSection

    Returns
    -------
    DataFrame
        :data:`SHARING_COLUMNS`; per bundle one row for each of ``state``,
        ``local_government``, ``investor`` and one ``unit`` row per unit.
        ``share = amount / R`` (NaN when ``R = 0``); ``unit_id`` is ``""`` on party
        rows; ``per_household_usd`` is NaN except on unit rows with known households.
        Formulas in the module docstring.
    """
    hh = (
        pd.to_numeric(units["households"], errors="coerce").to_numpy(float)
        if "households" in units
        else np.full(len(units), np.nan)
    )
    out = []
    index = unit_index(units)
    # attributes only, computed once: selecting each bundle's rows of a GeoDataFrame
    # costs more than the whole split
    table = attribute_table(units)
    credits = unit_credits_by_year(table, econ) if section.unit_basis == "credits" else None
    unit_ids = units["unit_id"].astype(str).to_numpy(dtype=object)
    for row in summary.to_dict("records"):
        bid = str(row["bundle_id"])
        idx = bundle_positions(units, bundles[bid], index)
        cents = split_revenue(
            row["pv_revenue"],
            econ.pnbp_usd_per_credit * row["pv_credits"],
            section.local_government_share,
            investor_share(row, econ, section),
            _unit_weights(table, credits, idx, econ, section.unit_basis),
        )
        total = int(cents.sum())
        ids = unit_ids[idx].tolist()
        for k, c in enumerate(cents):
            is_unit = k >= len(PARTIES)
            amount = int(c) / 100
            households = hh[idx[k - len(PARTIES)]] if is_unit else np.nan
            out.append(
                {
                    "bundle_id": bid,
                    "party": "unit" if is_unit else PARTIES[k],
                    "unit_id": ids[k - len(PARTIES)] if is_unit else "",
                    "amount_usd": amount,
                    "share": int(c) / total if total else np.nan,
                    "per_household_usd": amount / households if households > 0 else np.nan,
                }
            )
    return pd.DataFrame(out, columns=SHARING_COLUMNS)
