"""The five-year priority list: which bundle starts its project in which year.

Each bundle ``b`` gets a start year ``y = 1..Y`` (``Y = years``, 5 by default), or

* ``"after Y"`` when it is a restoration bundle (main intervention ``arr``) in a
  low-cover landscape (area-weighted forest cover below ``low_cover_threshold``):
  the brief offers such areas for investment with the project document and trading
  after five years of restoration; they use no capacity of years ``1..Y``. A bundle of
  unknown forest cover is never delayed;
* ``"later"`` when it gets no year (capacity short, or no positive value).

The others are chosen by an exact MIP over binaries ``z[b, y]``:

``max sum_{b,y} v_b delta^(y - 1) z[b, y]`` with ``v_b = NPV_b + w * readiness_b``
(readiness area-weighted, missing counts as 0) and ``delta = 1 / (1 + r)`` at the
economics' discount rate, so a later start loses value and ready bundles come first;
subject to ``sum_y z[b, y] <= 1`` and, every year ``y``,
``sum_b z[b, y] <= documents_per_year``, ``sum_b K0_b z[b, y] <= budget_usd_per_year``
(``K0`` the year-0 costs) and ``sum_b n_b z[b, y] <= units_per_year``. Pairs that can
never be chosen (``v_b <= 0``, or one bundle alone exceeding a capacity) are left out
of the model and reported as such.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from bundler.config.economics import EconomicsSection
from bundler.config.sharing import ScheduleSection
from bundler.economics.common import bundle_positions, unit_index
from bundler.i18n.catalogue import Translator, translator
from solvers.base import SolveParams, Termination
from solvers.mip.model import MipBuilder
from solvers.registry import get_backend

PRIORITY_COLUMNS = [
    "rank",
    "bundle_id",
    "start_year",
    "province",
    "districts",
    "area_ha",
    "credits_tco2e_yr",
    "npv_usd",
    "readiness",
    "main_intervention",
    "why",
]
LATER = "later"


def _usd(v: float, tr: Translator) -> str:
    _ = tr.gettext
    if abs(v) >= 1e6:
        return _("{amount} M USD").format(amount=tr.decimal(v / 1e6, 1, group=False))
    if abs(v) >= 1e3:
        return _("{amount} k USD").format(amount=tr.decimal(v / 1e3, 0, group=False))
    return _("{amount} USD").format(amount=tr.decimal(v, 0))


def _weighted(values: np.ndarray, weights: np.ndarray) -> float:
    ok = np.isfinite(values) & np.isfinite(weights)
    if not ok.any():
        return math.nan
    w = weights[ok]
    if w.sum() <= 0:
        return float(values[ok].mean())
    return float(values[ok] @ w / w.sum())


def _texts(columns: Mapping[str, list], idx: Sequence[int], *names: str) -> list[str]:
    """The distinct texts of the first of ``names`` that has any at rows ``idx``."""
    for name in names:
        if name in columns:
            values = columns[name]
            vals = [str(v).strip() for v in (values[i] for i in idx) if pd.notna(v)]
            vals = [v for v in vals if v and v.lower() not in ("nan", "none")]
            if vals:
                return sorted(set(vals))
    return []


def bundle_attributes(units: pd.DataFrame, bundles: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Where each bundle is and how ready it is.

    Returns
    -------
    DataFrame
        ``bundle_id``, ``province`` and ``districts`` (``"; "``-joined names, codes when
        names are missing), ``readiness`` and ``forest_cover`` (means weighted by
        ``area_ha``, NaN when the column is missing).
    """
    rows = []
    index = unit_index(units)
    # the columns once, then each bundle's rows of them: selecting a bundle's rows of
    # the (Geo)DataFrame costs far more than these few sums
    area_ha = units["area_ha"].to_numpy(float)
    numbers = {
        col: pd.to_numeric(units[col], errors="coerce").to_numpy(float)
        for col in ("readiness", "forest_cover")
        if col in units
    }
    texts = {
        col: units[col].tolist()
        for col in ("province", "province_code", "district", "district_code")
        if col in units
    }
    for bid, ids in bundles.items():
        idx = bundle_positions(units, ids, index)
        area = area_ha[idx]

        def mean(col: str, idx=idx, area=area) -> float:
            if col not in numbers:
                return math.nan
            return _weighted(numbers[col][idx], area)

        rows.append(
            {
                "bundle_id": str(bid),
                "province": "; ".join(_texts(texts, idx, "province", "province_code")),
                "districts": "; ".join(_texts(texts, idx, "district", "district_code")),
                "readiness": mean("readiness"),
                "forest_cover": mean("forest_cover"),
            }
        )
    return pd.DataFrame(
        rows, columns=["bundle_id", "province", "districts", "readiness", "forest_cover"]
    )


def schedule_bundles(
    summary: pd.DataFrame,
    units: pd.DataFrame,
    bundles: Mapping[str, Sequence[str]],
    econ: EconomicsSection,
    section: ScheduleSection,
    solver: str = "highs",
    lang: str = "en",
) -> tuple[pd.DataFrame, str]:
    """The priority list of ``priority.csv`` for estimated bundles.

    Parameters
    ----------
    summary : DataFrame
        :attr:`bundler.economics.estimation.Estimates.summary` (``npv_usd``, ``upfront_usd``,
        ``n_units``, ``area_ha``, ``credits_tco2e_yr``, ``main_intervention``).
    units : DataFrame
        Scored units (``readiness``, ``forest_cover``, ``province``, ``district``).
    bundles : mapping of str to sequence of str
        ``bundle_id -> unit_ids`` of the same bundles.
    econ : EconomicsSection
        Its ``discount_rate`` discounts a later start.
    section : ScheduleSection
    solver : str
        A MIP backend name.
    lang : str
        The language of the ``why`` column (a language of :mod:`bundler.i18n`).

    Returns
    -------
    priority : DataFrame
        See :func:`schedule_table`.
    termination : str
    """
    table = summary.merge(bundle_attributes(units, bundles), on="bundle_id", how="left")
    return schedule_table(table, section, econ.discount_rate, solver, lang)


def schedule_table(
    table: pd.DataFrame,
    section: ScheduleSection,
    discount_rate: float,
    solver: str = "highs",
    lang: str = "en",
) -> tuple[pd.DataFrame, str]:
    """Assign start years to bundles described by a table (formulas in the module docstring).

    Parameters
    ----------
    table : DataFrame
        One row per bundle: ``bundle_id, npv_usd, upfront_usd, n_units, readiness,
        forest_cover, main_intervention``; ``province, districts, area_ha,
        credits_tco2e_yr`` are copied when present.
    section : ScheduleSection
    discount_rate : float
        ``r`` of ``delta = 1 / (1 + r)``.
    solver : str
        A MIP backend name for :func:`solvers.registry.get_backend`.
    lang : str
        The language of ``why`` (a language of :mod:`bundler.i18n`; figures in its locale).

    Returns
    -------
    priority : DataFrame
        :data:`PRIORITY_COLUMNS`, ranked: scheduled bundles by start year then value,
        then ``"after Y"`` and ``"later"`` ones by NPV. ``start_year`` is text
        (``"1"`` .. ``"Y"``, ``"after Y"``, ``"later"``) so the column has one type.
    termination : str
        The MIP's :class:`~solvers.base.Termination` value; ``optimal`` when nothing
        needed a solver.
    """
    Y = int(section.years)
    n = len(table)
    npv = table["npv_usd"].to_numpy(float)
    upfront = table["upfront_usd"].to_numpy(float)
    size = table["n_units"].to_numpy(float)
    ready = pd.to_numeric(table["readiness"], errors="coerce").to_numpy(float)
    cover = pd.to_numeric(table["forest_cover"], errors="coerce").to_numpy(float)
    value = npv + section.readiness_weight_usd * np.nan_to_num(ready, nan=0.0)
    delta = (1.0 + discount_rate) ** -np.arange(Y, dtype=float)
    delayed = (table["main_intervention"].astype(str) == "arr").to_numpy() & (
        cover < section.low_cover_threshold
    )
    tr = translator(lang)
    _ = tr.gettext
    why = [""] * n
    for b in range(n):
        if delayed[b]:
            why[b] = _(
                "restoration in a low-cover landscape (forest cover {cover} < {threshold}): "
                "trading after year {years}"
            ).format(
                cover=tr.decimal(cover[b], 2, group=False),
                threshold=tr.decimal(section.low_cover_threshold, 2, group=False),
                years=Y,
            )
        elif value[b] <= 0:
            why[b] = _("NPV {npv}: no positive value to start in years 1-{years}").format(
                npv=_usd(npv[b], tr), years=Y
            )
        elif section.documents_per_year < 1:
            why[b] = _("no project document can be started (documents_per_year = 0)")
        elif upfront[b] > section.budget_usd_per_year:
            why[b] = _("upfront costs {upfront} exceed the yearly budget {budget}").format(
                upfront=_usd(upfront[b], tr), budget=_usd(section.budget_usd_per_year, tr)
            )
        elif size[b] > section.units_per_year:
            why[b] = _(
                "{units} units exceed the {capacity} units facilitators can onboard a year"
            ).format(units=int(size[b]), capacity=section.units_per_year)
    candidates = [b for b in range(n) if not why[b]]
    start = [f"after {Y}" if delayed[b] else LATER for b in range(n)]
    termination = Termination.OPTIMAL.value
    if candidates:
        years, termination = _solve(candidates, value, upfront, size, delta, section, solver)
        for b in candidates:
            y = years.get(b)
            if y is None:
                why[b] = (
                    _("no capacity left in years 1-{years}").format(years=Y)
                    if termination in (Termination.OPTIMAL.value, Termination.FEASIBLE.value)
                    else _("schedule not solved ({termination})").format(termination=termination)
                )
            else:
                start[b] = str(y)
        used = _usage(years, upfront, size, Y)
        for b, y in years.items():
            known = (
                _("ready ({readiness})").format(readiness=tr.decimal(ready[b], 2, group=False))
                if np.isfinite(ready[b])
                else _("readiness unknown")
            )
            when = (
                _("capacity in year 1")
                if y == 1
                else _earlier(b, y, used, upfront, size, section, tr)
            )
            why[b] = _("{readiness}, NPV {npv}, {when}").format(
                readiness=known, npv=_usd(npv[b], tr), when=when
            )

    def key(b: int) -> tuple:
        s = start[b]
        if s.isdigit():
            return (0, int(s), -value[b], b)
        return (1 if s != LATER else 2, 0, -npv[b], b)

    order = sorted(range(n), key=key)
    cols = {
        c: table[c].to_numpy() if c in table else np.full(n, None)
        for c in ("province", "districts", "area_ha", "credits_tco2e_yr")
    }
    out = pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "bundle_id": [str(table["bundle_id"].iloc[b]) for b in order],
            "start_year": [start[b] for b in order],
            "province": [cols["province"][b] for b in order],
            "districts": [cols["districts"][b] for b in order],
            "area_ha": [cols["area_ha"][b] for b in order],
            "credits_tco2e_yr": [cols["credits_tco2e_yr"][b] for b in order],
            "npv_usd": npv[order] if n else [],
            "readiness": ready[order] if n else [],
            "main_intervention": [str(table["main_intervention"].iloc[b]) for b in order],
            "why": [why[b] for b in order],
        },
        columns=PRIORITY_COLUMNS,
    )
    return out, termination


def _solve(candidates, value, upfront, size, delta, section, solver):
    Y = len(delta)
    mb = MipBuilder(maximize=True)
    z = {
        (b, y): mb.add_var(0, 1, integer=True, obj=value[b] * delta[y - 1])
        for b in candidates
        for y in range(1, Y + 1)
    }
    for b in candidates:
        mb.add_row({z[b, y]: 1.0 for y in range(1, Y + 1)}, hi=1.0)
    for y in range(1, Y + 1):
        mb.add_row({z[b, y]: 1.0 for b in candidates}, hi=section.documents_per_year)
        mb.add_row({z[b, y]: upfront[b] for b in candidates}, hi=section.budget_usd_per_year)
        mb.add_row({z[b, y]: size[b] for b in candidates}, hi=section.units_per_year)
    # the model is tiny; a near-zero gap makes the answer the exact optimum
    params = SolveParams(time_limit=section.time_limit_s, rel_gap=1e-7, threads=1)
    res = get_backend(solver).solve_mip(mb.build(), params)
    if not res.has_solution:
        return {}, res.termination.value
    years = {b: y for (b, y), j in z.items() if res.x[j] > 0.5}
    return years, res.termination.value


def _usage(years: dict[int, int], upfront, size, Y: int) -> list[tuple[int, float, float]]:
    used = [[0, 0.0, 0.0] for _ in range(Y + 1)]
    for b, y in years.items():
        used[y][0] += 1
        used[y][1] += upfront[b]
        used[y][2] += size[b]
    return [tuple(u) for u in used]


def _earlier(b, y, used, upfront, size, section, tr: Translator) -> str:
    """Why a bundle starts in year ``y``: the capacities of earlier years it would exceed."""
    _ = tr.gettext
    full = set()
    for k in range(1, y):
        docs, money, n_units = used[k]
        if docs + 1 > section.documents_per_year:
            full.add(_("project documents"))
        if money + upfront[b] > section.budget_usd_per_year:
            full.add(_("budget"))
        if n_units + size[b] > section.units_per_year:
            full.add(_("units onboarded"))
    if not full:
        if y == 2:
            return _("starts in year 2: year 1 holds higher-value bundles")
        return _("starts in year {year}: years 1-{last} hold higher-value bundles").format(
            year=y, last=y - 1
        )
    if y == 2:
        return _("starts in year 2: year 1 full ({capacities})").format(
            capacities=", ".join(sorted(full))
        )
    return _("starts in year {year}: years 1-{last} full ({capacities})").format(
        year=y, last=y - 1, capacities=", ".join(sorted(full))
    )
