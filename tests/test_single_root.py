"""The exact single-root model of column generation and what uses it.

Small random grids (``tests.test_rooted_mip.random_problem``), every feasible bundle
enumerated: separator rows never cut off a connected bundle, bounds under any time
limit stay at or above the enumerated best, and the exact best bundles of column
generation are feasible plans.
"""

from __future__ import annotations

import numpy as np
import pytest

import solvers.api
from solvers.api import ROOTED_MAX_UNITS, solve_bundling
from solvers.base import SolveParams
from solvers.colgen import solve_colgen
from solvers.colgen.root_bounds import ExactRootBounds, RootSets
from solvers.colgen.single_root import _ring_separators, _SeparationNetwork
from solvers.heuristic.common import neighbours, reach
from solvers.mip.rooted import reduce_candidates
from solvers.registry import get_backend
from tests.bundling_cases import path, problem
from tests.test_colgen import _best_reduced
from tests.test_rooted_mip import best_plan, feasible_bundles, random_problem


@pytest.mark.parametrize("seed", range(8))
def test_separator_rows_hold_for_every_connected_bundle_of_the_root(seed):
    """Rows from fractional points are valid: every bundle holding r and j holds a unit of S."""
    p = random_problem(seed, 3, 4)
    bundles = feasible_bundles(p)
    nbrs = neighbours(p.n, p.edges)
    local = [list(nb) for nb in nbrs]
    rng = np.random.default_rng(seed)
    found = 0
    for root in range(p.n):
        net = _SeparationNetwork(local, root)
        for _ in range(5):
            x = rng.uniform(0, 1, p.n) * (rng.random(p.n) < 0.7)
            x[root] = 1.0
            for j, sep in net.separate(x):
                found += 1
                # violated at x, as asked
                assert x[j] > x[sep].sum() + 1e-4
                assert root not in sep and j not in sep
                for b in bundles:
                    if root in b and j in b:
                        assert set(sep) & set(b), (root, j, sep, b)
    assert found > 0


def test_rings_on_a_path_are_the_units_in_between():
    # path 0-1-2-3 rooted at 0: unit 3 needs a unit 1 hop away ({2}) and one 2 hops
    # away ({1}); unit 2 needs one of its neighbours ({1, 3}: ring 1); unit 1 touches
    # the root, so no ring of it leaves out the root
    local = [[1], [0, 2], [1, 3], [2]]
    rows = sorted((j, sorted(ring)) for j, ring in _ring_separators(local, 0))
    assert rows == [(2, [1, 3]), (3, [1]), (3, [2])]


@pytest.mark.parametrize("seed", range(8))
def test_ring_rows_hold_for_every_connected_set_of_the_root(seed):
    """Each ring around j meets every connected set that holds both j and the root.

    Every subset of a 3 x 3 grid (with random diagonals) is tried, not only the
    feasible bundles, so that rings far from the root are checked too.
    """
    p = random_problem(seed, 3, 3)
    local = [list(nb) for nb in neighbours(p.n, p.edges)]
    sets = []
    for mask in range(1, 2**p.n):
        members = {i for i in range(p.n) if mask >> i & 1}
        start = min(members)
        if reach(local, start, members) == members:
            sets.append(members)
    checked = 0
    for root in range(p.n):
        for j, ring in _ring_separators(local, root):
            assert root not in ring and j not in ring
            for members in sets:
                if root in members and j in members:
                    checked += 1
                    assert set(ring) & members, (root, j, ring, members)
    assert checked > 0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("limit", [0.0, 0.01, 0.05])
def test_time_limited_exact_root_bounds_stay_valid(seed, limit):
    """Stopped in the LP rounds or the first MIP, the bound still covers the best bundle."""
    p = random_problem(seed)
    bundles = feasible_bundles(p)
    sets = RootSets.from_valid(reduce_candidates(p, p.graph()))
    nbrs = neighbours(p.n, p.edges)
    prices = np.round(np.random.default_rng(seed).uniform(0, 10, p.n), 2)
    best = _best_reduced(p, bundles, prices)
    for k, r in enumerate(sets.roots):
        res = ExactRootBounds(p, nbrs).bound(int(r), sets.candidates[k], prices, limit)
        assert res.bound >= best.get(int(r), -np.inf) - 1e-6
        if res.bundle is not None:
            assert not p.bundle_violations(res.bundle)
            assert int(r) in res.bundle


@pytest.mark.parametrize("seed", range(10))
def test_colgen_plan_is_feasible_and_never_above_the_optimum(seed):
    """The exact best bundles (zero prices, each avoiding the ones before) make a valid plan."""
    p = random_problem(seed, 3, 4)
    optimum = best_plan(p, feasible_bundles(p))
    res = solve_colgen(p, get_backend("highs"), SolveParams(time_limit=3, seed=seed))
    g = p.graph()
    assert all(not p.bundle_violations(b, g) for b in res.bundles)
    units = [j for b in res.bundles for j in b]
    assert len(units) == len(set(units))
    assert res.objective is not None and res.objective <= optimum + 1e-6
    assert res.bound is not None and res.bound >= optimum - 1e-6


def test_only_groups_up_to_the_limit_get_the_rooted_mip(monkeypatch):
    """A path of ROOTED_MAX_UNITS + 1 units goes to column generation alone."""
    calls = []

    def rooted(problem, *args, **kwargs):
        calls.append(problem.n)
        return real(problem, *args, **kwargs)

    real = solvers.api.solve_rooted
    monkeypatch.setattr(solvers.api, "solve_rooted", rooted)
    n = ROOTED_MAX_UNITS + 1
    big = problem(path(n), [100] * n, [5, -10] * (n // 2) + [5], fixed=1, min_area=200)
    res = solve_bundling(big, "highs", SolveParams(time_limit=5, seed=0))
    assert calls == [] and res.objective is not None
    solve_bundling(random_problem(0), "highs", SolveParams(time_limit=5, seed=0))
    assert calls == [12]
