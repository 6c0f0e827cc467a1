"""From scored units, their graph and a scenario to solver-neutral bundling problems.

Each connected component of the eligible units' graph is an independent
:class:`~solvers.problem.BundlingProblem`. The manageability rules become each
root's candidate set: units whose centroid lies within ``max_radius_km`` of the
root's centroid, in the same district / landscape when asked, whose own minimum
area is not larger than the root's, and that can reach the root through other
candidates.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from bundler.config.scenario import Scenario
from bundler.economics.costmodel import linear_coefficients
from bundler.errors import InputError
from bundler.i18n.catalogue import translator
from bundler.i18n.languages import N_
from bundler.safeguards.exclusion import excluded_mask, exclusion_reasons
from solvers.problem import BundlingProblem

# Why a unit is in no bundle: English messages of the catalogue (bundler/i18n), written in
# the scenario's language (report.lang) where a reason is given.
REASON_LOCKED_OUT = N_("locked out by the scenario")
REASON_READINESS = N_("readiness below the scenario's minimum")
REASON_ISOLATED = N_("too isolated: its group of neighbours cannot reach the minimum area")
# Why a unit of a solved group is in no bundle. Each is said only when it is true:
# "not cost-efficient" needs a proof (the group solved to optimality with no bundle at
# all), so a group that stopped without proof gets one of the "undecided" reasons.
REASON_NOT_COST_EFFICIENT = N_(
    "not cost-efficient: its group was solved to proven optimality and no bundle in it pays off"
)
REASON_NOT_CHOSEN = N_(
    "not selected: its group's plan was proven optimal, and no plan that includes it is worth more"
)
REASON_UNDECIDED_TIME = N_(
    "undecided: the search of its group stopped at the time limit before it could tell whether "
    "a bundle with it pays off; give it more time with --time-limit"
)
REASON_UNDECIDED_HEURISTIC = N_(
    "undecided: its group was planned by the fast heuristic alone, which proves nothing; an "
    "exact solver (--solver highs) with more time (--time-limit) can tell whether a bundle with "
    "it pays off"
)
REASON_NOT_CHOSEN_MAXP = N_("left out of the max-p partition")


def reason_too_small(
    radius_km: float, max_units: int, best_ha: float, need_ha: float, lang: str = "en"
) -> str:
    """Why a group's units can be in no bundle: its limits cap every bundle below the minimum.

    In the language ``lang``, its figures written for that language's locale.
    """
    tr = translator(lang)
    _ = tr.gettext
    figures = {
        "radius": tr.significant(radius_km, 6) if np.isfinite(radius_km) else "",  # as :g
        "max_units": str(int(max_units)),
        "best": tr.decimal(best_ha, 0),
        "need": tr.decimal(need_ha, 0),
    }
    finite = np.isfinite(radius_km)
    if finite and max_units:
        text = _(
            "no bundle can reach the minimum area: within bundling.max_radius_km = {radius} km "
            "of a centre unit and with at most bundling.max_units = {max_units} units, the "
            "largest bundle its group allows has {best} ha, short of the {need} ha minimum"
        )
    elif finite:
        text = _(
            "no bundle can reach the minimum area: within bundling.max_radius_km = {radius} km "
            "of a centre unit, the largest bundle its group allows has {best} ha, short of the "
            "{need} ha minimum"
        )
    elif max_units:
        text = _(
            "no bundle can reach the minimum area: with at most bundling.max_units = "
            "{max_units} units, the largest bundle its group allows has {best} ha, short of the "
            "{need} ha minimum"
        )
    else:
        text = _(
            "no bundle can reach the minimum area: the largest bundle its group allows has "
            "{best} ha, short of the {need} ha minimum"
        )
    return text.format(**figures)


@dataclass
class ProblemSet:
    """The pieces of one planning run.

    Attributes
    ----------
    problems : list of BundlingProblem
        One per component that can reach the minimum area.
    members : list of ndarray
        For each problem, the row positions (in the units table) of its units.
    reasons : dict
        Row position -> why the unit is in no problem at all.
    max_cost_per_tco2e : float
    min_area_of_unit : ndarray
        Each unit's minimum bundle area (by its main intervention).
    """

    problems: list[BundlingProblem] = field(default_factory=list)
    members: list[np.ndarray] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)
    max_cost_per_tco2e: float = 0.0
    min_area_of_unit: np.ndarray | None = None


def unit_min_area(units: gpd.GeoDataFrame, scenario: Scenario) -> np.ndarray:
    """Minimum bundle area each unit requires, by its main intervention."""
    rules = scenario.bundling
    base = np.full(len(units), float(rules.min_area_ha))
    if rules.min_area_ha_by_intervention and "main_intervention" in units:
        lookup = units["main_intervention"].map(rules.min_area_ha_by_intervention)
        base = lookup.fillna(rules.min_area_ha).to_numpy(float)
    return base


def centres(units: gpd.GeoDataFrame) -> np.ndarray:
    """Centroid coordinates (metres, working CRS), shape ``(n, 2)``."""
    c = units.geometry.centroid
    return np.column_stack([c.x.to_numpy(), c.y.to_numpy()])


def build_problems(
    units: gpd.GeoDataFrame, graph: nx.Graph, scenario: Scenario, objective: str | None = None
) -> ProblemSet:
    """Split a planning run into independent bundling problems.

    Parameters
    ----------
    units : GeoDataFrame
        Scored units in the working CRS (``unit_id``, ``area_ha``, ``area_excl_ha``,
        potentials, ``additionality``, ``readiness``; ``district`` and
        ``landscape_id`` when the scenario asks for them).
    graph : networkx.Graph
        Adjacency on ``unit_id``.
    scenario : Scenario
    objective : str, optional
        Overrides ``scenario.bundling.objective``.

    Returns
    -------
    ProblemSet
    """
    rules = scenario.bundling
    objective = objective or rules.objective
    econ = scenario.economics
    max_cost = (
        econ.carbon_price_usd if rules.max_cost_per_tco2e is None else rules.max_cost_per_tco2e
    )
    ids = units["unit_id"].astype(str).to_numpy()
    pos_of = {u: i for i, u in enumerate(ids)}
    n = len(units)
    out = ProblemSet(max_cost_per_tco2e=float(max_cost))
    lang = scenario.report.lang
    _ = translator(lang).gettext
    out.min_area_of_unit = unit_min_area(units, scenario)

    eligible = np.ones(n, dtype=bool)
    locked_out = np.isin(ids, list(rules.locked_out))
    for i in np.flatnonzero(locked_out):
        out.reasons[int(i)] = _(REASON_LOCKED_OUT)
    eligible &= ~locked_out
    # excluded by a safeguard (bundler/safeguards): locked out too, with its own reason
    excluded = excluded_mask(units)
    if excluded.any():
        kept = sorted(set(ids[excluded]) & set(rules.locked_in))
        if kept:
            raise InputError(
                "bundling.locked_in names units that a safeguard excludes (no-go layer or "
                f"conflict column): {', '.join(kept)}; drop them from locked_in"
            )
        why = exclusion_reasons(units, translator(lang))
        for i in np.flatnonzero(excluded):
            out.reasons[int(i)] = str(why[i])
        eligible &= ~excluded
    if objective != "max-p" and rules.min_readiness > 0 and "readiness" in units:
        low = eligible & (units["readiness"].to_numpy(float) < rules.min_readiness)
        for i in np.flatnonzero(low):
            out.reasons[int(i)] = _(REASON_READINESS)
        eligible &= ~low

    sub = graph.subgraph([ids[i] for i in np.flatnonzero(eligible)])
    area = units["area_ha"].to_numpy(float)
    area_excl = units["area_excl_ha"].to_numpy(float)
    if objective == "max-p":
        value = np.zeros(n)
        slack = np.zeros(n)
        bundle_value, bundle_slack = 1.0, 0.0
    else:
        coef = linear_coefficients(units, econ)
        value = coef.npv if objective == "npv" else coef.credits_yr
        bundle_value = -coef.bundle_pv_cost if objective == "npv" else 0.0
        slack = coef.slack(max_cost)
        bundle_slack = coef.bundle_pv_cost
    xy = centres(units)
    locked_in = set(rules.locked_in)

    # sorted for reproducible problem order
    comps = sorted(sorted(pos_of[u] for u in c) for c in nx.connected_components(sub))
    for comp in comps:
        idx = np.asarray(comp, dtype=int)
        need = out.min_area_of_unit[idx].min()
        if area_excl[idx].sum() < need:
            for i in idx:
                out.reasons[int(i)] = _(REASON_ISOLATED)
            continue
        local = {int(g): k for k, g in enumerate(idx)}
        edges = np.array(
            sorted(
                (min(local[pos_of[a]], local[pos_of[b]]), max(local[pos_of[a]], local[pos_of[b]]))
                for a, b in sub.subgraph(ids[idx]).edges()
            ),
            dtype=int,
        ).reshape(-1, 2)
        if objective == "max-p":
            candidates = None
            must = np.ones(len(idx), dtype=bool)
        else:
            candidates = _candidates(units, idx, edges, xy, out.min_area_of_unit, scenario)
            must = np.isin(ids[idx], list(locked_in))
            best, short_of = _largest_bundle(
                idx, candidates, area_excl, out.min_area_of_unit, rules
            )
            if best < short_of:
                why = reason_too_small(rules.max_radius_km, rules.max_units, best, short_of, lang)
                for i in idx:
                    out.reasons[int(i)] = why
                continue
        out.problems.append(
            BundlingProblem(
                unit_ids=tuple(ids[idx]),
                edges=edges,
                # Coefficients are rounded, each in the conservative direction, to whole
                # cents of a hectare, dollars and thousandths of a tonne, so that every
                # backend (CP-SAT needs integers) solves exactly the same model.
                area_ha=_up(area[idx], 100),
                area_min_ha=_down(area_excl[idx], 100),
                value=np.round(value[idx], 0 if objective == "npv" else 3),
                bundle_value=float(np.round(bundle_value, 0)),
                slack=_up(slack[idx], 1),
                bundle_slack=float(_up(np.array([bundle_slack]), 1)[0]),
                min_area_ha=_up(out.min_area_of_unit[idx], 100),
                max_area_ha=(
                    float(_down(np.array([rules.max_area_ha]), 100)[0])
                    if objective != "max-p"
                    else np.inf
                ),
                max_units=int(rules.max_units) if objective != "max-p" else 0,
                candidates=candidates,
                must_cover=must,
                check_cost=objective != "max-p",
                objective=objective,
            )
        )
        out.members.append(idx)
    return out


def price_slopes(
    units: gpd.GeoDataFrame, scenario: Scenario, objective: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """How each unit's ``value`` and ``slack`` in :func:`build_problems` change per USD/tCO2e.

    The value of the ``npv`` objective is present revenue minus present costs, and revenue
    is linear in the carbon price (every year's price is the price times a fixed
    escalation), so its slope is the revenue at a price of 1; credits do not depend on
    the price. The cost test's ceiling is the carbon price unless
    ``bundling.max_cost_per_tco2e`` fixes it, so the slack falls by each unit's present
    credits per USD, or not at all.

    Parameters
    ----------
    units : GeoDataFrame
        Scored units, as for :func:`build_problems`.
    scenario : Scenario
    objective : str, optional
        ``npv`` or ``credits``; default the scenario's.

    Returns
    -------
    value, slack : ndarray of shape (n,)
        Per unit (rows of ``units``).
    """
    objective = objective or scenario.bundling.objective
    econ = scenario.economics
    per_usd = linear_coefficients(units, dataclasses.replace(econ, carbon_price_usd=1.0))
    value = per_usd.pv_revenue if objective == "npv" else np.zeros(len(units))
    follows_price = scenario.bundling.max_cost_per_tco2e is None
    slack = -per_usd.pv_credits if follows_price else np.zeros(len(units))
    return np.asarray(value, float), np.asarray(slack, float)


def _up(values: np.ndarray, per_unit: int) -> np.ndarray:
    """Round up to multiples of ``1 / per_unit``."""
    return np.ceil(np.asarray(values, float) * per_unit - 1e-9) / per_unit


def _down(values: np.ndarray, per_unit: int) -> np.ndarray:
    """Round down to multiples of ``1 / per_unit``."""
    return np.floor(np.asarray(values, float) * per_unit + 1e-9) / per_unit


def _largest_bundle(idx, candidates, area_excl, min_area, rules) -> tuple[float, float]:
    """The largest area any bundle of a group may reach, and the minimum it falls short of.

    A bundle rooted at ``r`` holds only ``r``'s candidates, at most ``max_units`` of
    them, so the sum of its ``max_units`` largest candidate areas bounds its area. When
    no root reaches its own minimum that way, no bundle of the group can exist. Returns
    ``(best, need)``: with ``best < need`` the group is impossible, ``need`` being the
    smallest minimum among the roots that come closest.
    """
    best, need = -1.0, 0.0
    for r, cand in enumerate(candidates):
        if not len(cand):
            continue
        areas = np.sort(area_excl[idx[cand]])[::-1]
        reach = float(areas[: rules.max_units].sum() if rules.max_units else areas.sum())
        want = float(min_area[idx[r]])
        if reach >= want:
            return reach, want
        if reach > best:
            best, need = reach, want
    return max(best, 0.0), need if best >= 0 else float(min_area[idx].min())


def _candidates(units, idx, edges, xy, min_area, scenario) -> tuple[np.ndarray, ...]:
    """Per root: the units that may share its bundle (see the module docstring)."""
    rules = scenario.bundling
    k = len(idx)
    adj = [[] for _ in range(k)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    radius = rules.max_radius_km * 1000.0
    tree = cKDTree(xy[idx])
    near = tree.query_ball_point(xy[idx], r=radius) if np.isfinite(radius) else None
    district = units["district"].to_numpy()[idx] if rules.same_district else None
    landscape = units["landscape_id"].to_numpy()[idx] if rules.same_landscape else None
    need = min_area[idx]
    out = []
    for r in range(k):
        allowed = np.zeros(k, dtype=bool)
        allowed[near[r] if near is not None else slice(None)] = True
        allowed &= need <= need[r]
        if district is not None:
            allowed &= district == district[r]
        if landscape is not None:
            allowed &= (landscape == landscape[r]) & (landscape != "")
        if not allowed[r]:
            out.append(np.empty(0, dtype=int))
            continue
        # keep only what the root can reach through allowed units
        seen = {r}
        queue = deque([r])
        while queue:
            u = queue.popleft()
            for v in adj[u]:
                if allowed[v] and v not in seen:
                    seen.add(v)
                    queue.append(v)
        out.append(np.array(sorted(seen), dtype=int))
    return tuple(out)
