"""Exactness of the rooted MIP's reductions, symmetry rows and LP cuts, by brute force.

Random small instances (a grid with some diagonals, candidate sets from a radius,
a unit limit, a cost test with its own slacks) are small enough to enumerate every
connected subset, so the feasible bundles and the optimal plan are known exactly.
"""

from __future__ import annotations

import itertools
from functools import cache

import networkx as nx
import numpy as np
import pytest

from solvers.api import solve_bundling
from solvers.base import SolveParams, Termination
from solvers.mip.rooted import RootedModel, _stack, lp_cut_rounds, reduce_candidates
from solvers.problem import BundlingProblem
from solvers.registry import available_backends

MIP = [b.name for b in available_backends() if b.kind == "mip"]
SEEDS = range(8)


def random_problem(seed: int, rows: int = 3, cols: int = 4) -> BundlingProblem:
    """A grid of ``rows * cols`` units whose optimum takes some but not all units."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    xy = np.array([(i // cols, i % cols) for i in range(n)], float)
    edges = {(i, i + 1) for i in range(n) if (i % cols) + 1 < cols}
    edges |= {(i, i + cols) for i in range(n - cols)}
    edges |= {
        (i, i + cols + 1) for i in range(n - cols) if (i % cols) + 1 < cols and rng.random() < 0.3
    }
    # whole numbers, so that CP-SAT solves the model exactly (no rounded rows)
    area = rng.integers(50, 150, n).astype(float)
    value = np.round(rng.normal(5, 15, n))
    radius = rng.choice([1.0, 1.5, 2.3, 10.0])
    cands = []
    for r in range(n):
        if rng.random() < 0.15:
            cands.append(np.empty(0, int))  # not allowed to be a root
        else:
            cands.append(np.flatnonzero(np.hypot(*(xy - xy[r]).T) <= radius + 1e-9))
    return BundlingProblem(
        unit_ids=tuple(f"u{i}" for i in range(n)),
        edges=np.array(sorted(edges), int),
        area_ha=area,
        area_min_ha=np.floor(area * rng.uniform(0.7, 1.0, n)),
        value=value,
        bundle_value=-20.0,
        slack=-value + np.round(rng.normal(0, 5, n)),
        bundle_slack=15.0,
        min_area_ha=rng.choice([150.0, 250.0], n),
        max_area_ha=float(rng.choice([np.inf, 500.0])),
        max_units=int(rng.choice([0, 3, 5])),
        candidates=tuple(cands),
        must_cover=np.zeros(n, bool),
        check_cost=True,
    )


def feasible_bundles(p: BundlingProblem) -> list[tuple[int, ...]]:
    g = p.graph()
    out = []
    for size in range(1, p.n + 1):
        for b in itertools.combinations(range(p.n), size):
            if nx.is_connected(g.subgraph(b)) and not p.bundle_violations(b, g):
                out.append(b)
    return out


def best_plan(p: BundlingProblem, bundles) -> float:
    """Best disjoint packing of the feasible bundles, over bit masks of the units."""
    weight = {sum(1 << j for j in b): p.bundle_objective(b) for b in bundles}
    weight = {m: w for m, w in weight.items() if w > 0}

    @cache
    def best(free: int) -> float:
        if not free:
            return 0.0
        low = free & -free
        rest = best(free & ~low)  # the lowest free unit stays out
        for m, w in weight.items():
            if m & low and m & free == m:
                rest = max(rest, w + best(free & ~m))
        return rest

    return best((1 << p.n) - 1)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_feasible_bundle_keeps_its_representation(seed):
    p = random_problem(seed)
    rm = RootedModel(p)
    valid = reduce_candidates(p, p.graph())
    bundles = feasible_bundles(p)
    for b in bundles:
        roots = [r for r in b if p.may_root(r, np.array(b))]
        for r in roots:
            if p.area_min_ha[list(b)].sum() >= p.min_area_ha[r]:
                assert set(b) <= valid[r], (b, r)
        x = rm.encode([b])
        assert x is not None, b
        assert rm.model.max_violation(x) <= 1e-6, b


def test_reduction_removes_variables():
    # path 0-1-2-3 of 100 ha units, minimum 100 ha, fixed cost 10, values 30, -5, -5, -40
    # (slack = -value). Without reductions every unit may join every root: 4 x 4 = 16
    # variables. Reduced: a bundle pays only through unit 0 (30 - 10 = 20 covers the
    # bridges 1 and 2, 5 each, never unit 3 at 40), so roots 0, 1 and 2 keep {0, 1, 2}
    # and root 3 goes. Symmetry breaking roots a bundle at its smallest valid root:
    # x[1, 0], x[2, 0] and x[2, 1] go, since any bundle holding 0 (or 1) has 0 (or 1)
    # as a valid root too. Left: root 0 {0, 1, 2}, root 1 {1, 2}, root 2 {2}: 6.
    from tests.bundling_cases import path, problem

    p = problem(path(4), [100] * 4, [30, -5, -5, -40], fixed=10, min_area=100)
    assert RootedModel(p, reduce=False).model.num_vars == 16
    rm = RootedModel(p)
    assert rm.model.num_vars == 6
    assert rm.candidates == {0: {0, 1, 2}, 1: {1, 2}, 2: {2}}


@pytest.mark.parametrize("seed", SEEDS)
def test_reduction_never_adds_variables(seed):
    p = random_problem(seed)
    assert RootedModel(p).model.num_vars <= RootedModel(p, reduce=False).model.num_vars


def test_reduction_drops_roots_and_units_that_cannot_pay():
    # path 0-1-2-3: only unit 0 has value; unit 3 is too far behind costly bridges
    from tests.bundling_cases import path, problem

    p = problem(path(4), [100] * 4, [30, -5, -5, -40], fixed=10, min_area=100)
    valid = reduce_candidates(p, p.graph())
    # 30 - 10 pays for at most 20 of bridges: 1 and 2 fit, 3 (40) never does
    assert valid[0] == {0, 1, 2}
    # a bundle rooted at 3 holds 3 itself and can never pay for it
    assert 3 not in valid
    rm = RootedModel(p)
    assert rm.model.num_vars < RootedModel(p, reduce=False).model.num_vars


@pytest.mark.parametrize("seed", SEEDS)
def test_lp_cuts_are_valid_for_every_feasible_bundle(seed):
    p = random_problem(seed)
    rm = RootedModel(p)
    cuts, bound = lp_cut_rounds(rm, time_limit=10)
    bundles = feasible_bundles(p)
    if cuts:
        A, lo, hi = _stack(cuts, rm.model.num_vars)
        model = rm.model.with_rows(A, lo, hi)
    else:
        model = rm.model
    for b in bundles:
        assert model.max_violation(rm.encode([b])) <= 1e-6, b
    if bound is not None:
        assert bound >= best_plan(p, bundles) - 1e-6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("backend", MIP)
def test_optimum_matches_enumeration(backend, seed):
    p = random_problem(seed)
    bundles = feasible_bundles(p)
    optimum = best_plan(p, bundles)
    res = solve_bundling(p, backend, SolveParams(time_limit=20, rel_gap=1e-9))
    assert res.termination == Termination.OPTIMAL, res.message
    assert res.objective == pytest.approx(optimum, abs=1e-6)
    g = p.graph()
    assert all(not p.bundle_violations(b, g) for b in res.bundles)


@pytest.mark.parametrize("seed", SEEDS)
def test_warm_start_proof_matches_enumeration(seed):
    p = random_problem(seed)
    bundles = feasible_bundles(p)
    optimum = best_plan(p, bundles)
    first = solve_bundling(p, "highs", SolveParams(time_limit=20, rel_gap=1e-9))
    res = solve_bundling(
        p, "highs", SolveParams(time_limit=20, rel_gap=1e-9), warm_start=first.bundles
    )
    assert res.termination == Termination.OPTIMAL
    assert res.objective == pytest.approx(optimum, abs=1e-6)
