r"""The capacity bound: what the unit and area limits of a bundle alone prove.

A bundle holds at most ``max_units`` units and ``max_area_ha`` hectares and pays the
fixed cost :math:`F = -b`. Multipliers :math:`\lambda, \mu \ge 0` on the line
:math:`\lambda\,\text{max\_units} + \mu\,\text{max\_area\_ha} = F` split that cost into
a share :math:`c_j = \lambda + \mu A_j` per unit (``A`` the full area). With the prices
:math:`\pi_j = \max(0, v_j - c_j)` (:func:`capacity_prices`) no bundle pays, so
:math:`\sum_j \pi_j` bounds every plan: the "best ``k`` units per bundle" bound.

It is loose where the units worth more than their share lie in small patches: a
bundle that takes such a patch is either short of the limits or must also take
units worth less than their share. :func:`capacity_bound` proves part of that loss
for every plan. Write :math:`s_j = c_j - (v_j - \pi_j) \ge 0` (the *slack*, 0 for a
unit worth at least its share) and :math:`\text{cap}(B) = F - \sum_{j \in B} c_j \ge 0`.
For any plan,

.. math::

    \sum_B (v(B) + b) = \sum_j \pi_j - \Bigl[\sum_{j \text{ uncovered}} \pi_j
    + \sum_B \bigl(\text{cap}(B) + \sum_{j \in B} s_j\bigr)\Bigr],

and every term in the brackets (the *deficit*) is :math:`\ge 0`. Take the *clusters*:
connected sets of slack-0 units bounded by units of positive slack (the *moat*). A
bundle that holds units of a cluster ``C`` and any unit outside it holds a moat unit
of ``C``. So for each cluster, either some bundle crosses its moat, or every covered
unit of ``C`` lies in bundles inside ``C``; covering ``n - t`` of its ``n`` units
with ``m`` such bundles leaves a deficit of at least

.. math::

    S_t + \lambda\,\bigl((-(n - t)) \bmod \text{max\_units}\bigr)
    + \mu \max(0, \text{max\_area\_ha} - A(C)) \quad (n - t \ge 1),

with :math:`S_t` the sum of the ``t`` smallest prices in ``C`` (``m`` bundles hold at
most ``m max_units`` units and ``m max_area_ha`` hectares, and ``m >= 1``); the
smallest of these over ``t`` (``S_n`` when nothing is covered) is the cluster's
``gamma``. A moat unit ``k`` can pay for the crossings of all clusters it borders
at most once, with its own slack. The linear program

.. math::

    \max \sum_C \Delta_C \quad \text{s.t.} \quad 0 \le \Delta_C \le \gamma_C,\;
    \sum_{C \ni k \text{ in its moat}} \Delta_C \le s_k

then bounds the deficit of every plan from below: a cluster whose moat is crossed
gets :math:`\Delta_C` from the slack of a moat unit in the crossing bundle, the others
pay :math:`\gamma_C \ge \Delta_C` inside. Hence every plan is worth at most
:math:`\sum_j \pi_j - \sum_C \Delta_C`. A cluster with a locked-in unit gets
:math:`\gamma = 0`, which is always valid: its prices may be negative and a plan cannot
leave that unit out, so :math:`S_t` would price a choice no plan has.

The integer count of bundles inside a cluster is what the set-packing LP cannot see
(three mutually adjacent units of a two-unit limit: the LP takes each pair at 1/2),
so this bound can lie below the Dantzig-Wolfe bound. Dense seed 2: the capacity
bound is 144.26 M and the moats take 1.25 M off it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from solvers.problem import BundlingProblem

# points on the line of (count, area) multipliers tried by capacity_prices
CAPACITY_STEPS = 101


def _shares(problem: BundlingProblem) -> tuple[np.ndarray, np.ndarray, float, float] | None:
    r"""Each unit's share :math:`c_j` and price :math:`\pi_j` at the best multipliers.

    Returns ``(shares, prices, lambda, mu)``, or None where no multipliers exist.
    """
    p = problem
    budget = -float(p.bundle_value)
    has_units, has_area = p.max_units > 0, bool(np.isfinite(p.max_area_ha))
    if budget <= 0 or not (has_units or has_area):
        return None
    value = np.asarray(p.value, float)
    area = np.asarray(p.area_ha, float)
    must = np.asarray(p.must_cover, bool)
    share = np.linspace(0.0, 1.0, CAPACITY_STEPS)
    if not has_area:
        share = np.ones(1)
    elif not has_units:
        share = np.zeros(1)
    lam = share * budget / max(p.max_units, 1)
    mu = (1.0 - share) * budget / (p.max_area_ha if has_area else 1.0)
    shares = lam[:, None] + mu[:, None] * area[None, :]
    prices = value[None, :] - shares
    prices = np.where(must[None, :], prices, np.maximum(prices, 0.0))
    best = int(np.argmin(prices.sum(axis=1)))
    return shares[best], prices[best], float(lam[best]), float(mu[best])


def capacity_prices(problem: BundlingProblem) -> np.ndarray | None:
    r"""Prices under which no bundle pays, from the unit and area limits alone.

    :math:`\pi_j = \max(0, v_j - c_j)` (no floor at 0 for a locked-in unit): every
    unit's reduced value is at most its share :math:`c_j`, and a bundle's shares sum
    to at most the fixed cost, so no root's bound is positive and
    :math:`L(\pi) = \sum_j \pi_j` exactly. The point of the line with the smallest sum
    is returned.

    Parameters
    ----------
    problem : BundlingProblem

    Returns
    -------
    ndarray of shape (n,) or None
        None when the bundle value is not negative (the line is the single point
        :math:`\lambda = \mu = 0`) or neither limit is set.
    """
    found = _shares(problem)
    return None if found is None else found[1]


def capacity_bound(problem: BundlingProblem) -> float | None:
    """The capacity bound less what the moats around clusters prove (module docstring).

    Parameters
    ----------
    problem : BundlingProblem

    Returns
    -------
    float or None
        A valid upper bound on every plan's objective; None where
        :func:`capacity_prices` has none.
    """
    p = problem
    found = _shares(p)
    if found is None:
        return None
    shares, prices, lam, mu = found
    total = float(prices.sum())
    slack = np.maximum(shares - (np.asarray(p.value, float) - prices), 0.0)
    tight = slack <= 1e-9 * np.maximum(1.0, shares)
    edges = np.asarray(p.edges, dtype=int).reshape(-1, 2)
    both = tight[edges[:, 0]] & tight[edges[:, 1]]
    inner = sp.coo_array(
        (np.ones(int(both.sum())), (edges[both, 0], edges[both, 1])), shape=(p.n, p.n)
    )
    _, label = connected_components(inner, directed=False)
    label = np.where(tight, label, -1)
    gamma = _cluster_gammas(p, label, prices, lam, mu)
    # moat rows: (slack unit, cluster) for every edge between a cluster with a gamma
    # and a unit of positive slack, in both directions; a cluster without one keeps
    # its whole gamma
    pairs = np.concatenate([edges, edges[:, ::-1]])
    cluster = label[pairs[:, 0]]
    keep = (cluster >= 0) & (label[pairs[:, 1]] < 0)
    keep[keep] = gamma[cluster[keep]] > 0
    if not keep.any():
        return total - float(gamma.sum())  # no cluster has a moat to cross
    rows_of, row = np.unique(pairs[keep, 1], return_inverse=True)
    # a unit bordering a cluster along several edges is one row entry
    entries = np.unique(np.stack([row, cluster[keep]], axis=1), axis=0)
    A = sp.csr_array(
        (np.ones(len(entries)), (entries[:, 0], entries[:, 1])),
        shape=(len(rows_of), len(gamma)),
    )
    res = linprog(
        -np.ones(len(gamma)),
        A_ub=A,
        b_ub=slack[rows_of],
        bounds=np.stack([np.zeros(len(gamma)), gamma], axis=1),
        method="highs",
    )
    if res.status != 0:
        return total
    delta = np.clip(np.asarray(res.x, float), 0.0, gamma)
    # the LP's tolerance may leave a row a hair above its slack: scale down to exact
    load = A @ delta
    over = load > slack[rows_of]
    if over.any():
        delta *= float(np.min(slack[rows_of][over] / load[over]))
    return total - float(delta.sum())


def _cluster_gammas(p, label, prices, lam, mu) -> np.ndarray:
    """Each cluster's least deficit when no bundle crosses its moat (module docstring)."""
    count = int(label.max()) + 1 if (label >= 0).any() else 0
    gamma = np.zeros(count)
    area = np.asarray(p.area_ha, float)
    must = np.asarray(p.must_cover, bool)
    order = np.argsort(label, kind="stable")
    starts = np.searchsorted(label[order], np.arange(count + 1))
    for c in range(count):
        members = order[starts[c] : starts[c + 1]]
        if must[members].any():
            continue
        n = len(members)
        smallest = np.concatenate([[0.0], np.cumsum(np.sort(prices[members]))])
        covered = n - np.arange(n + 1)
        short = np.zeros(n + 1)
        if p.max_units > 0:
            short += lam * ((-covered) % p.max_units)
        if np.isfinite(p.max_area_ha):
            short += mu * max(0.0, p.max_area_ha - float(area[members].sum()))
        gamma[c] = max(0.0, float(np.min(smallest + np.where(covered > 0, short, 0.0))))
    return gamma
