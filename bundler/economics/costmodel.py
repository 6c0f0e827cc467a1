"""The cost model of a carbon project, exact and in its linear (per-unit) form.

A bundle of units is one carbon project over ``T = crediting_years`` years:

* **credits** of unit *j* in year *t*:
  ``c_jt = (protect_j + peat_j + arr_j * min(1, t / arr_ramp_years)) * additionality_j
  * s_j * (1 - buffer) * (1 - leakage) * (1 - uncertainty)``, where ``s_j =
  area_excl_ha / area_ha`` removes the share of the unit that overlaps other
  permits, so an overlap is never credited twice;
* **costs at year 0**: feasibility + project document + validation (per bundle),
  onboarding/FPIC per unit, rewetting works per ha of drained peat (``rewet_ha``)
  in units that rewet;
* **costs in year t = 1..T**: registry account, monitoring
  ``M * (1 + m * floor(A / step))``, community liaison ``L * (1 + l * floor(A / step))``
  for the first ``liaison_years``, verification every ``verification_interval_years``,
  per-unit monitoring, transaction costs per ha, peat upkeep per ha of peat, and the
  registry levy and PNBP per credit. ``A`` is the bundle's area (union of its units);
* present values with discount factors ``d_t = (1 + r)^-t``; revenue at price
  ``p_t = p * (1 + g)^(t - 1)``.

``levelized cost = PV(costs) / PV(credits)`` and ``NPV = PV(revenue) - PV(costs)``.

The **linear form** gives each unit a value and a cost-efficiency slack, and each
bundle a fixed part, so that a MIP can add them up. It replaces ``floor(A / step)``
by ``sum(area_ha) / step``; since ``floor(x) <= x`` and ``A <= sum(area_ha)``, the
linear costs are never below the exact ones: a bundle the linear model accepts is
accepted by the exact model too (``tests/test_costmodel.py`` checks this).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bundler.config.economics import EconomicsSection
from bundler.config.scoring import STREAMS

POTENTIAL_COLUMNS = (
    "potential_protect_tco2e_yr",
    "potential_arr_tco2e_yr",
    "potential_peat_tco2e_yr",
)


def _years(econ: EconomicsSection) -> np.ndarray:
    return np.arange(1, int(econ.crediting_years) + 1, dtype=float)


def discount_factors(econ: EconomicsSection) -> np.ndarray:
    """``d_t = (1 + r)^-t`` for ``t = 1..T``."""
    return (1.0 + econ.discount_rate) ** -_years(econ)


def price_path(econ: EconomicsSection) -> np.ndarray:
    """Carbon price in each year ``t = 1..T``."""
    return econ.carbon_price_usd * (1.0 + econ.price_escalation) ** (_years(econ) - 1)


def _overlap_share(units: pd.DataFrame) -> np.ndarray:
    area = units["area_ha"].to_numpy(float)
    return np.divide(
        units["area_excl_ha"].to_numpy(float), area, out=np.zeros_like(area), where=area > 0
    )


def _kept(econ: EconomicsSection) -> float:
    return (1 - econ.buffer) * (1 - econ.leakage) * (1 - econ.uncertainty)


def unit_credits_by_year(units: pd.DataFrame, econ: EconomicsSection) -> np.ndarray:
    """Issuable credits of each unit in each year, shape ``(n_units, T)``.

    Parameters
    ----------
    units : DataFrame
        Scored units: the three ``potential_*_tco2e_yr`` columns, ``additionality``,
        ``area_ha`` and ``area_excl_ha``.
    econ : EconomicsSection

    Returns
    -------
    ndarray
        ``c_jt`` of the module docstring.
    """
    t = _years(econ)
    ramp = np.minimum(1.0, t / float(econ.arr_ramp_years))
    steady = units["potential_protect_tco2e_yr"].to_numpy(float) + units[
        "potential_peat_tco2e_yr"
    ].to_numpy(float)
    arr = units["potential_arr_tco2e_yr"].to_numpy(float)
    factor = units["additionality"].to_numpy(float) * _overlap_share(units) * _kept(econ)
    return (steady[:, None] + arr[:, None] * ramp[None, :]) * factor[:, None]


def unit_gross_by_year(units: pd.DataFrame, econ: EconomicsSection) -> dict[str, np.ndarray]:
    """Creditable reductions of each unit before the deductions, by intervention.

    ``g_jt[k] = potential_k_j * ramp_k(t) * additionality_j * s_j`` with
    ``ramp_arr(t) = min(1, t / arr_ramp_years)`` and ``ramp = 1`` for protection and
    peat, so that ``c_jt = sum_k g_jt[k] * (1 - buffer) * (1 - leakage) *
    (1 - uncertainty)`` (up to rounding).

    Parameters
    ----------
    units : DataFrame
        As for :func:`unit_credits_by_year`.
    econ : EconomicsSection

    Returns
    -------
    dict of str to ndarray
        ``{"protect", "arr", "peat"}`` -> array of shape ``(n_units, T)``.
    """
    t = _years(econ)
    ramp = np.minimum(1.0, t / float(econ.arr_ramp_years))
    factor = units["additionality"].to_numpy(float) * _overlap_share(units)
    out = {}
    for name in STREAMS:
        pot = units[f"potential_{name}_tco2e_yr"].to_numpy(float) * factor
        out[name] = pot[:, None] * (ramp if name == "arr" else np.ones_like(t))[None, :]
    return out


def rewet_peat_ha(units: pd.DataFrame) -> np.ndarray:
    """Peat area of each unit that gets rewetting works: the drained peat of units that rewet.

    Scoring gives it as ``rewet_ha``; tables without it (hand-made ones) fall back
    to all the peat of units with a peat potential.

    Parameters
    ----------
    units : DataFrame
        Scored units (``rewet_ha``, or ``peat_ha`` and ``potential_peat_tco2e_yr``).

    Returns
    -------
    ndarray
        Hectares, one per unit.
    """
    if "rewet_ha" in units:
        return units["rewet_ha"].to_numpy(float)
    peat = units["peat_ha"].to_numpy(float) if "peat_ha" in units else np.zeros(len(units))
    rewets = units["potential_peat_tco2e_yr"].to_numpy(float) > 0
    return np.where(rewets, peat, 0.0)


def bundle_fixed_pv(econ: EconomicsSection) -> float:
    """Present value of the costs every bundle pays whatever its size (size step 0)."""
    d = discount_factors(econ)
    t = _years(econ)
    upfront = econ.feasibility_usd + econ.project_document_usd + econ.validation_usd
    yearly = econ.registry_account_usd_yr + econ.monitoring_usd_yr
    liaison = np.where(t <= econ.liaison_years, econ.liaison_usd_yr, 0.0)
    verify = np.where(t % econ.verification_interval_years == 0, econ.verification_usd, 0.0)
    return float(upfront + ((yearly + liaison + verify) * d).sum())


@dataclass(frozen=True)
class LinearCoefficients:
    """Per-unit and per-bundle terms of the linear cost model (present values, USD or t).

    Attributes
    ----------
    pv_credits : ndarray
        Discounted credits of each unit.
    credits_yr : ndarray
        Mean issuable credits per year of each unit.
    pv_revenue : ndarray
    pv_cost : ndarray
        Unit costs, including its share of the size-step costs (linearized).
    bundle_pv_cost : float
        Fixed costs of a bundle.
    """

    pv_credits: np.ndarray
    credits_yr: np.ndarray
    pv_revenue: np.ndarray
    pv_cost: np.ndarray
    bundle_pv_cost: float

    @property
    def npv(self) -> np.ndarray:
        """Each unit's contribution to a bundle's NPV (before the bundle's fixed costs)."""
        return self.pv_revenue - self.pv_cost

    def slack(self, max_cost_per_tco2e: float) -> np.ndarray:
        """Each unit's term of ``PV(costs) - max_cost * PV(credits) <= 0``."""
        return self.pv_cost - max_cost_per_tco2e * self.pv_credits


def linear_coefficients(units: pd.DataFrame, econ: EconomicsSection) -> LinearCoefficients:
    """The linear (conservative) cost model of the module docstring, per unit.

    Parameters
    ----------
    units : DataFrame
        Scored units (see :func:`unit_credits_by_year`) and ``peat_ha``.
    econ : EconomicsSection

    Returns
    -------
    LinearCoefficients
    """
    d = discount_factors(econ)
    t = _years(econ)
    credits = unit_credits_by_year(units, econ)
    pv_credits = credits @ d
    pv_revenue = credits @ (price_path(econ) * d)
    area = units["area_ha"].to_numpy(float)
    peat = rewet_peat_ha(units)
    annuity = d.sum()
    liaison_annuity = d[t <= econ.liaison_years].sum()
    per_ha_yr = econ.transaction_usd_ha_yr + (
        econ.monitoring_usd_yr * econ.monitoring_step_increase / econ.scale_step_ha
    )
    per_ha_liaison = econ.liaison_usd_yr * econ.liaison_step_increase / econ.scale_step_ha
    pv_cost = (
        econ.unit_onboarding_usd
        + econ.peat_works_usd_ha * peat
        + annuity
        * (econ.unit_monitoring_usd_yr + per_ha_yr * area + econ.peat_upkeep_usd_ha_yr * peat)
        + liaison_annuity * per_ha_liaison * area
        + (econ.registry_levy_usd_per_credit + econ.pnbp_usd_per_credit) * pv_credits
    )
    return LinearCoefficients(
        pv_credits=pv_credits,
        credits_yr=credits.mean(axis=1),
        pv_revenue=pv_revenue,
        pv_cost=pv_cost,
        bundle_pv_cost=bundle_fixed_pv(econ),
    )


@dataclass(frozen=True)
class BundleEconomics:
    """The exact cost model's figures for one bundle."""

    area_ha: float
    n_units: int
    credits_by_year: np.ndarray
    costs_by_year: np.ndarray  # index 0 is year 0
    pv_credits: float
    pv_costs: float
    pv_revenue: float

    @property
    def npv(self) -> float:
        """Net present value, USD."""
        return self.pv_revenue - self.pv_costs

    @property
    def cost_per_tco2e(self) -> float:
        """Levelized cost per credit, USD/tCO2e (``inf`` without credits)."""
        return self.pv_costs / self.pv_credits if self.pv_credits > 0 else float("inf")

    @property
    def credits_tco2e_yr(self) -> float:
        """Mean issuable credits per year."""
        return float(self.credits_by_year.mean())


COST_CATEGORIES = ("fixed", "verification", "per_unit", "per_ha", "peat_works", "levy_pnbp")


def bundle_cost_breakdown(
    units: pd.DataFrame,
    union_area_ha: float,
    econ: EconomicsSection,
    credits_by_year: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The exact cost model's costs of one bundle by category and year.

    With ``n`` units, ``A`` the union area, ``P`` the ha of peat in units that
    rewet, ``k = floor(A / step)`` and ``C_t`` the bundle's credits:

    * ``fixed``: year 0 ``feasibility + project document + validation``; year t
      ``registry account + M (1 + m k) + [t <= liaison_years] L (1 + l k)``;
    * ``verification``: ``V`` in every year ``t`` divisible by the interval;
    * ``per_unit``: year 0 ``n * onboarding``; year t ``n * unit monitoring``;
    * ``per_ha``: year t ``transaction_usd_ha_yr * A``;
    * ``peat_works``: year 0 ``peat_works_usd_ha * P``; year t ``peat_upkeep * P``;
    * ``levy_pnbp``: year t ``(registry levy + PNBP) * C_t``.

    Parameters
    ----------
    units : DataFrame
        The bundle's scored units.
    union_area_ha : float
        Area of the union of their geometries.
    econ : EconomicsSection
    credits_by_year : ndarray, optional
        ``C_t`` for ``t = 1..T``; computed from ``units`` when omitted.

    Returns
    -------
    dict of str to ndarray
        :data:`COST_CATEGORIES` -> costs in years ``0..T`` (index 0 is year 0),
        in the order in which :func:`bundle_economics` adds them up.
    """
    if credits_by_year is None:
        credits_by_year = unit_credits_by_year(units, econ).sum(axis=0)
    return cost_breakdown(
        len(units), float(rewet_peat_ha(units).sum()), union_area_ha, econ, credits_by_year
    )


def cost_breakdown(
    n_units: int | np.ndarray,
    rewet_ha: float | np.ndarray,
    union_area_ha: float | np.ndarray,
    econ: EconomicsSection,
    credits_by_year: np.ndarray,
) -> dict[str, np.ndarray]:
    """:func:`bundle_cost_breakdown` from a bundle's totals instead of its unit table.

    Callers that evaluate many bundles sum the per-unit columns themselves
    (:func:`rewet_peat_ha`, :func:`unit_credits_by_year`) instead of selecting the
    unit rows of each bundle, which costs far more than the model itself. Given
    arrays, it evaluates many bundles at once, each cost by the same arithmetic.

    Parameters
    ----------
    n_units : int or ndarray
        ``n``, the bundle's units (or one per bundle).
    rewet_ha : float or ndarray
        ``P``, the sum of :func:`rewet_peat_ha` over the bundle's units.
    union_area_ha : float or ndarray
        ``A``, the area of the union of their geometries.
    econ : EconomicsSection
    credits_by_year : ndarray
        ``C_t`` for ``t = 1..T``, shape ``(T,)`` (or ``(m, T)``, one row per bundle).

    Returns
    -------
    dict of str to ndarray
        As :func:`bundle_cost_breakdown`; with ``m`` bundles each array has shape
        ``(m, T + 1)``.
    """
    t = _years(econ)
    # a trailing axis of 1 broadcasts each bundle's figures over its years
    n = np.asarray(n_units, dtype=float)[..., None]
    peat = np.asarray(rewet_ha, dtype=float)[..., None]
    area = np.asarray(union_area_ha, dtype=float)[..., None]
    credits_by_year = np.asarray(credits_by_year, dtype=float)
    steps = np.floor(area / econ.scale_step_ha)
    monitoring = econ.monitoring_usd_yr * (1 + econ.monitoring_step_increase * steps)
    liaison = econ.liaison_usd_yr * (1 + econ.liaison_step_increase * steps)
    zero = np.zeros_like(t)
    lead = np.broadcast_shapes(n.shape, peat.shape, area.shape, (*credits_by_year.shape[:-1], 1))

    def with_year0(year0, yearly: np.ndarray) -> np.ndarray:
        first = np.broadcast_to(np.asarray(year0, dtype=float), lead)
        return np.concatenate([first, np.broadcast_to(yearly, lead[:-1] + t.shape)], axis=-1)

    return {
        "fixed": with_year0(
            econ.feasibility_usd + econ.project_document_usd + econ.validation_usd,
            econ.registry_account_usd_yr
            + monitoring
            + np.where(t <= econ.liaison_years, liaison, 0.0),
        ),
        "verification": with_year0(
            0.0, np.where(t % econ.verification_interval_years == 0, econ.verification_usd, 0.0)
        ),
        "per_unit": with_year0(
            n * econ.unit_onboarding_usd, zero + n * econ.unit_monitoring_usd_yr
        ),
        "per_ha": with_year0(0.0, zero + econ.transaction_usd_ha_yr * area),
        "peat_works": with_year0(
            econ.peat_works_usd_ha * peat, zero + econ.peat_upkeep_usd_ha_yr * peat
        ),
        "levy_pnbp": with_year0(
            0.0, (econ.registry_levy_usd_per_credit + econ.pnbp_usd_per_credit) * credits_by_year
        ),
    }


def bundle_economics(
    units: pd.DataFrame,
    union_area_ha: float,
    econ: EconomicsSection,
    credits_by_year: np.ndarray | None = None,
) -> BundleEconomics:
    """Evaluate one bundle with the exact cost model of the module docstring.

    The costs are the sum over :data:`COST_CATEGORIES` of
    :func:`bundle_cost_breakdown`; ``PV(costs) = cost_0 + sum_t cost_t d_t``,
    ``PV(credits) = sum_t C_t d_t`` and ``PV(revenue) = sum_t C_t p_t d_t``.

    Parameters
    ----------
    units : DataFrame
        The bundle's scored units.
    union_area_ha : float
        Area of the union of their geometries (overlaps once).
    econ : EconomicsSection
    credits_by_year : ndarray, optional
        The bundle's credits for ``t = 1..T`` (the sum of
        :func:`unit_credits_by_year` over its units), when the caller has them.

    Returns
    -------
    BundleEconomics
    """
    credits = (
        unit_credits_by_year(units, econ).sum(axis=0)
        if credits_by_year is None
        else np.asarray(credits_by_year, float)
    )
    parts = bundle_cost_breakdown(units, union_area_ha, econ, credits)
    return economics_of(parts, union_area_ha, len(units), credits, econ)


def economics_of(
    parts: dict[str, np.ndarray],
    union_area_ha: float,
    n_units: int,
    credits_by_year: np.ndarray,
    econ: EconomicsSection,
) -> BundleEconomics:
    """A bundle's :class:`BundleEconomics` from its :func:`cost_breakdown`.

    Parameters
    ----------
    parts : dict of str to ndarray
        :func:`cost_breakdown` (or :func:`bundle_cost_breakdown`) of the bundle.
    union_area_ha : float
    n_units : int
    credits_by_year : ndarray
        The credits ``parts`` were computed with (float, ``t = 1..T``).
    econ : EconomicsSection

    Returns
    -------
    BundleEconomics
        As :func:`bundle_economics`.
    """
    d = discount_factors(econ)
    credits = credits_by_year
    costs = parts[COST_CATEGORIES[0]].copy()
    for name in COST_CATEGORIES[1:]:
        costs = costs + parts[name]
    return BundleEconomics(
        area_ha=float(union_area_ha),
        n_units=n_units,
        credits_by_year=credits,
        costs_by_year=costs,
        pv_credits=float(credits @ d),
        pv_costs=float(costs[0] + costs[1:] @ d),
        pv_revenue=float(credits @ (price_path(econ) * d)),
    )
