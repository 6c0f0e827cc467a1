"""The bundling problem in solver-neutral form.

:class:`BundlingProblem` is what ``bundler`` hands to ``solvers``: plain arrays,
no geometry. Units are numbered ``0..n-1``. A *bundle* is a set of units; it is
feasible when

* it is connected in the graph given by ``edges``;
* it has a *root* ``r`` with every member in ``candidates[r]`` (this encodes the
  radius, district and landscape limits, decided by ``bundler``);
* ``sum(area_min_ha[members]) >= min_area_ha[r]`` (a conservative area: overlaps
  with other permits already removed);
* ``sum(area_ha[members]) <= max_area_ha`` and ``len(members) <= max_units``
  (when ``max_units > 0``);
* when ``check_cost``: ``bundle_slack + sum(slack[members]) <= 0``. ``slack`` is the
  linear, conservative form of "levelized cost per credit <= price": present value
  of costs minus price times present value of credits.

The objective is ``sum over bundles of (bundle_value + sum(value[members]))``,
maximized. Bundles are disjoint. Units with ``must_cover`` set must be in a bundle
(locked-in units; every unit for max-p).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import networkx as nx
import numpy as np

from solvers.base import Termination


@dataclass(frozen=True, eq=False)
class BundlingProblem:
    """One independent piece (usually a connected component) of a bundling run.

    Attributes
    ----------
    unit_ids : tuple of str
        Input ids, for messages and results.
    edges : ndarray of shape (m, 2)
        Adjacency as pairs ``(i, j)`` with ``i < j``.
    area_ha, area_min_ha : ndarray of shape (n,)
        Full polygon area (for upper limits) and the conservative area with
        overlaps removed (for the minimum).
    value : ndarray of shape (n,)
        Objective contribution of a unit when it is in a bundle.
    bundle_value : float
        Objective contribution of each bundle (e.g. minus its fixed costs; +1 for max-p).
    slack : ndarray of shape (n,)
        Cost-efficiency contribution of a unit (see module docstring).
    bundle_slack : float
        Cost-efficiency contribution of each bundle (its fixed costs).
    min_area_ha : ndarray of shape (n,)
        Minimum bundle area when unit ``i`` is the root.
    max_area_ha : float
        Maximum bundle area (``inf`` for none).
    max_units : int
        Maximum number of units in a bundle (0 for none).
    candidates : tuple of ndarray, or None
        ``candidates[r]``: sorted unit indices that may join a bundle rooted at ``r``
        (always including ``r`` itself when ``r`` may be a root; empty otherwise).
        ``None`` means no radius/district/landscape limit: any unit may join any root.
    must_cover : ndarray of bool, shape (n,)
        Units that must be in some bundle.
    check_cost : bool
        Whether the cost-efficiency constraint applies.
    objective : str
        ``"npv"``, ``"credits"`` or ``"max-p"``; informative only, the numbers above
        already encode it.
    """

    unit_ids: tuple[str, ...]
    edges: np.ndarray
    area_ha: np.ndarray
    area_min_ha: np.ndarray
    value: np.ndarray
    bundle_value: float
    slack: np.ndarray
    bundle_slack: float
    min_area_ha: np.ndarray
    max_area_ha: float
    max_units: int
    candidates: tuple[np.ndarray, ...] | None
    must_cover: np.ndarray
    check_cost: bool = True
    objective: str = "npv"

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.unit_ids)

    def graph(self) -> nx.Graph:
        """The adjacency graph on unit indices ``0..n-1``."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(map(tuple, np.asarray(self.edges, dtype=int).reshape(-1, 2)))
        return g

    def may_root(self, root: int, members: np.ndarray) -> bool:
        """Whether every member may join a bundle rooted at ``root``."""
        if self.candidates is None:
            return True
        return bool(np.isin(members, self.candidates[root]).all())

    def bundle_objective(self, members: Iterable[int]) -> float:
        """Objective contribution of one bundle."""
        idx = np.fromiter(members, dtype=int)
        return float(self.bundle_value + self.value[idx].sum())

    def bundle_violations(self, members: Sequence[int], graph: nx.Graph | None = None) -> list[str]:
        """Rules of the module docstring that a bundle breaks (empty when feasible).

        Parameters
        ----------
        members : sequence of int
            Unit indices of the bundle.
        graph : networkx.Graph, optional
            ``self.graph()``, passed in to avoid rebuilding it for every bundle.
        """
        g = self.graph() if graph is None else graph
        idx = np.asarray(sorted(set(members)), dtype=int)
        out: list[str] = []
        if len(idx) == 0:
            return ["empty bundle"]
        if not nx.is_connected(g.subgraph(idx.tolist())):
            out.append("not connected")
        roots = [r for r in idx if self.may_root(r, idx)]
        area_min = float(self.area_min_ha[idx].sum())
        if not roots:
            out.append("no unit can be the root of all members (radius/district/landscape)")
        elif area_min < min(self.min_area_ha[r] for r in roots) - 1e-6:
            out.append(f"area {area_min:.1f} ha below the minimum")
        if float(self.area_ha[idx].sum()) > self.max_area_ha + 1e-6:
            out.append("area above the maximum")
        if self.max_units and len(idx) > self.max_units:
            out.append(f"{len(idx)} units above the maximum {self.max_units}")
        if self.check_cost and self.bundle_slack + float(self.slack[idx].sum()) > 1e-6:
            out.append("not cost-efficient")
        return out


@dataclass(frozen=True)
class BundlingResult:
    """A normalized answer to a :class:`BundlingProblem`.

    Attributes
    ----------
    termination : Termination
        ``OPTIMAL`` only when proven (see :mod:`solvers.base`).
    objective : float or None
        Sum of the bundles' objective contributions.
    bound : float or None
        Best proven upper bound on the optimum, when the backend has one.
    gap : float or None
        Relative gap (see :func:`solvers.base.relative_gap`).
    runtime_s : float
    bundles : tuple of tuple of int
        Each bundle's sorted unit indices; bundles sorted by their first unit.
    solver : str
    message : str
    iterations : int
        Solve-check-resolve rounds (MIP backends) or local-search passes.
    """

    termination: Termination
    objective: float | None
    bound: float | None
    gap: float | None
    runtime_s: float
    bundles: tuple[tuple[int, ...], ...] = ()
    solver: str = ""
    message: str = ""
    iterations: int = 0


def canonical_bundles(bundles) -> tuple[tuple[int, ...], ...]:
    """Bundles as sorted tuples of sorted unit indices: one form for comparing plans."""
    return tuple(sorted(tuple(sorted(int(j) for j in b)) for b in bundles))


def restrict(problem: BundlingProblem, units: Sequence[int]) -> tuple[BundlingProblem, np.ndarray]:
    """The problem on a subset of its units, renumbered, and the old index of each unit kept.

    Parameters
    ----------
    problem : BundlingProblem
    units : sequence of int
        The units to keep (any order; duplicates ignored).

    Returns
    -------
    problem : BundlingProblem
        Units ``0..k-1`` in their old order; only edges and candidates between kept
        units, and no root outside them. Every feasible bundle of it, mapped back, is a
        feasible bundle of ``problem`` (same areas, values and limits, a subgraph).
    kept : ndarray of int
        ``kept[new] = old``.
    """
    kept = np.unique(np.asarray(units, dtype=int))
    new_of = np.full(problem.n, -1, dtype=int)
    new_of[kept] = np.arange(len(kept))
    edges = np.asarray(problem.edges, dtype=int).reshape(-1, 2)
    edges = new_of[edges[(new_of[edges] >= 0).all(axis=1)]].reshape(-1, 2)
    candidates = None
    if problem.candidates is not None:
        candidates = []
        for r in kept:
            c = new_of[np.asarray(problem.candidates[r], dtype=int)]
            candidates.append(c[c >= 0])
        candidates = tuple(candidates)
    sub = replace(
        problem,
        unit_ids=tuple(problem.unit_ids[i] for i in kept),
        edges=edges,
        area_ha=problem.area_ha[kept],
        area_min_ha=problem.area_min_ha[kept],
        value=problem.value[kept],
        slack=problem.slack[kept],
        min_area_ha=problem.min_area_ha[kept],
        candidates=candidates,
        must_cover=problem.must_cover[kept],
    )
    return sub, kept
