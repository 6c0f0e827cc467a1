"""One conformance suite over every available backend, on hand-solvable bundling problems.

The exact (MIP) backends must prove the hand-computed optimum; the heuristic must
return feasible bundles worth no more than the optimum.
"""

from __future__ import annotations

import numpy as np
import pytest

from solvers.api import solve_bundling
from solvers.base import SolveParams, Termination
from solvers.registry import available_backends
from tests.bundling_cases import CASES

BACKENDS = [b.name for b in available_backends()]
MIP = [b.name for b in available_backends() if b.kind == "mip"]
PARAMS = SolveParams(time_limit=20, seed=1)


def test_every_backend_of_the_product_is_available_here():
    assert {"highs", "cbc", "cpsat", "heuristic"} <= set(BACKENDS)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_on_known_answers(backend, case):
    problem, optimum, bundles = CASES[case]()
    res = solve_bundling(problem, backend, PARAMS)
    g = problem.graph()
    for b in res.bundles:
        assert problem.bundle_violations(b, g) == [], (backend, case, b)
    covered = [j for b in res.bundles for j in b]
    assert len(covered) == len(set(covered)), "bundles overlap"
    assert res.objective == pytest.approx(sum(problem.bundle_objective(b) for b in res.bundles))
    if backend in MIP:
        assert res.termination == Termination.OPTIMAL, res.message
        assert res.objective == pytest.approx(optimum)
        assert res.gap is not None and res.gap <= 1e-4
        if bundles is not None:
            assert res.bundles == bundles
    else:
        assert res.termination in (Termination.FEASIBLE, Termination.OPTIMAL)
        assert res.objective <= optimum + 1e-9
        if res.termination == Termination.OPTIMAL:
            assert res.objective == pytest.approx(optimum)


@pytest.mark.parametrize("case", sorted(CASES))
def test_exact_backends_agree(case):
    problem, _, _ = CASES[case]()
    values = {b: solve_bundling(problem, b, PARAMS).objective for b in MIP}
    assert len(MIP) >= 3
    first = next(iter(values.values()))
    assert all(v == pytest.approx(first) for v in values.values()), values


@pytest.mark.parametrize("backend", MIP)
def test_locked_in_unit_that_cannot_be_bundled_is_infeasible(backend):
    # path 0-1-2 of 100 ha units, minimum 400 ha: even all three give only 300 ha,
    # so the locked-in unit 2 fits in no bundle.
    from tests.bundling_cases import path, problem

    p = problem(path(3), [100] * 3, [10] * 3, min_area=400, must=[False, False, True])
    res = solve_bundling(p, backend, PARAMS)
    assert res.termination == Termination.INFEASIBLE


@pytest.mark.parametrize("backend", MIP)
def test_warm_start_is_used_and_kept_feasible(backend):
    problem, optimum, _ = CASES["two_bundles_beat_one"]()
    res = solve_bundling(problem, backend, PARAMS, warm_start=[[0, 1]])
    assert res.termination == Termination.OPTIMAL
    assert res.objective == pytest.approx(optimum)


def test_disconnected_answers_are_cut_off():
    # A star of value: units 0 and 2 are worth 50 each, unit 1 (the only link) is worth
    # -45. Without contiguity the MIP would take {0, 2} (100 - 10 = 90); with it, the
    # bundle needs unit 1: 100 - 45 - 10 = 45, which beats {0,1} (50 - 45 - 10 < 0).
    from tests.bundling_cases import path, problem

    p = problem(path(3), [100] * 3, [50, -45, 50], min_area=200)
    res = solve_bundling(p, "highs", PARAMS)
    assert res.bundles == ((0, 1, 2),)
    assert res.objective == pytest.approx(45.0)
    assert res.iterations >= 1


def test_same_seed_same_answer():
    rng = np.random.default_rng(3)
    from tests.bundling_cases import grid_edges, problem

    n = 25
    p = problem(
        grid_edges(5, 5), rng.uniform(50, 150, n), rng.normal(5, 10, n), min_area=300, fixed=15
    )
    for backend in BACKENDS:
        a = solve_bundling(p, backend, SolveParams(time_limit=10, seed=7))
        b = solve_bundling(p, backend, SolveParams(time_limit=10, seed=7))
        assert a.bundles == b.bundles, backend
