"""Small bundling problems with optima solvable by hand (see each docstring)."""

from __future__ import annotations

import numpy as np

from solvers.problem import BundlingProblem


def problem(
    edges,
    area,
    value,
    *,
    fixed=10.0,
    min_area=200.0,
    max_area=np.inf,
    max_units=0,
    slack=None,
    candidates=None,
    must=None,
    objective="npv",
    area_min=None,
):
    """A BundlingProblem from plain lists; slack defaults to -value (cost test = NPV >= 0)."""
    area = np.asarray(area, float)
    value = np.asarray(value, float)
    n = len(area)
    if objective == "max-p":
        return BundlingProblem(
            unit_ids=tuple(f"u{i}" for i in range(n)),
            edges=np.asarray(edges, int).reshape(-1, 2),
            area_ha=area,
            area_min_ha=area if area_min is None else np.asarray(area_min, float),
            value=np.zeros(n),
            bundle_value=1.0,
            slack=np.zeros(n),
            bundle_slack=0.0,
            min_area_ha=np.full(n, float(min_area)),
            max_area_ha=np.inf,
            max_units=0,
            candidates=None,
            must_cover=np.ones(n, bool),
            check_cost=False,
            objective="max-p",
        )
    return BundlingProblem(
        unit_ids=tuple(f"u{i}" for i in range(n)),
        edges=np.asarray(edges, int).reshape(-1, 2),
        area_ha=area,
        area_min_ha=area if area_min is None else np.asarray(area_min, float),
        value=value,
        bundle_value=-fixed,
        slack=-value if slack is None else np.asarray(slack, float),
        bundle_slack=fixed,
        min_area_ha=np.full(n, float(min_area)),
        max_area_ha=float(max_area),
        max_units=max_units,
        candidates=candidates,
        must_cover=np.zeros(n, bool) if must is None else np.asarray(must, bool),
        check_cost=True,
        objective=objective,
    )


def path(n):
    return [(i, i + 1) for i in range(n - 1)]


def grid_edges(rows, cols):
    e = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            if c + 1 < cols:
                e.append((i, i + 1))
            if r + 1 < rows:
                e.append((i, i + cols))
    return e


def two_bundles_beat_one():
    """Path 0-1-2-3-4; unit 2 is a poor bridge.

    Areas 100 each, minimum 200 ha, fixed cost 10 per bundle, values 20, 20, -30, 20, 20.
    Two bundles {0,1} and {3,4}: 2 * (40 - 10) = 60. Merging all five through unit 2:
    80 - 30 - 10 = 40. Any bundle holding unit 2 is worse than leaving it out, so the
    optimum is 60 with two bundles.
    """
    return problem(path(5), [100] * 5, [20, 20, -30, 20, 20]), 60.0, ((0, 1), (3, 4))


def bridge_makes_merging_worthwhile():
    """Path 0-1-2: two 150 ha units joined by a 10 ha bridge of value -5.

    Minimum 300 ha: neither big unit reaches it alone, nor with the bridge (160 ha);
    all three reach 310 ha with value 20 + 20 - 5 - 10 = 25 > 0. Optimum 25, one bundle.
    """
    return problem(path(3), [150, 10, 150], [20, -5, 20], min_area=300), 25.0, ((0, 1, 2),)


def cheap_bridge_merges():
    """As two_bundles_beat_one but the bridge is worth -5: merging saves a fixed cost.

    {0,1},{3,4}: 60. All five: 80 - 5 - 10 = 65. Optimum 65, one bundle.
    """
    return problem(path(5), [100] * 5, [20, 20, -5, 20, 20]), 65.0, ((0, 1, 2, 3, 4),)


def max_units_splits():
    """A 2x3 grid of 100 ha units worth 10 each, at most 3 units a bundle, min 200 ha.

    Six units cannot be one bundle; two bundles of three (the rows) give
    2 * (30 - 10) = 40; three bundles of two give 3 * (20 - 10) = 30. Optimum 40.
    """
    return problem(grid_edges(2, 3), [100] * 6, [10] * 6, max_units=3), 40.0, None


def cost_test_excludes():
    """Path 0-1 of 100 ha units worth 15 each, fixed 10, minimum 200 ha.

    The only bundle that reaches 200 ha is {0,1}, worth 30 - 10 = 20, but its cost test
    is 10 (fixed) - 3 - 3 (unit slacks) = 4 > 0: not cost-efficient. The optimum is the
    empty plan, 0.
    """
    return problem(path(2), [100, 100], [15, 15], slack=[-3, -3]), 0.0, ()


def credits_objective():
    """Maximize credits on path 0-1-2-3 with credits 5, 1, 1, 5 and no fixed value.

    Areas 100, minimum 200 ha. Cost test: bundle fixed 5, unit slacks -15, 6, 6, -10.
    {0,1}: 5 - 15 + 6 = -4 passes (6 credits); {1,2}: 17, {2,3}: 1, {0,1,2}: 2 and
    {1,2,3}: 7 fail; {0,1,2,3}: 5 - 15 + 12 - 10 = -8 passes (12 credits). No two
    disjoint passing bundles exist, so the optimum is 12 with all four units.
    """
    p = problem(
        path(4),
        [100] * 4,
        [5, 1, 1, 5],
        fixed=0.0,
        slack=[-15, 6, 6, -10],
        objective="credits",
    )
    return _replace(p, bundle_slack=5.0), 12.0, ((0, 1, 2, 3),)


def maxp_grid():
    """A 3x3 grid of 100 ha units with a 300 ha threshold.

    900 ha / 300 ha bounds the count at 3, and the three rows reach it: optimum 3.
    """
    return problem(grid_edges(3, 3), [100] * 9, [0] * 9, min_area=300, objective="max-p"), 3.0, None


def radius_limits():
    """Path 0-1-2-3 of 100 ha units worth 10, min 200 ha, fixed 5; the candidates let a
    root reach only its direct neighbours (a radius of one step).

    Two pairs {0,1} and {2,3}: 2 * (20 - 5) = 30. A triple such as {1,2,3} (rooted at 2)
    gives 30 - 5 = 25, and all four (40 - 5 = 35) would need a root reaching three
    steps, which no candidate set allows. Optimum 30 with the two pairs.
    """
    cands = (
        np.array([0, 1]),
        np.array([0, 1, 2]),
        np.array([1, 2, 3]),
        np.array([2, 3]),
    )
    return problem(path(4), [100] * 4, [10] * 4, fixed=5, candidates=cands), 30.0, ((0, 1), (2, 3))


def _replace(p, **kw):
    from dataclasses import replace

    return replace(p, **kw)


CASES = {
    "two_bundles_beat_one": two_bundles_beat_one,
    "bridge_makes_merging_worthwhile": bridge_makes_merging_worthwhile,
    "cheap_bridge_merges": cheap_bridge_merges,
    "max_units_splits": max_units_splits,
    "cost_test_excludes": cost_test_excludes,
    "credits_objective": credits_objective,
    "maxp_grid": maxp_grid,
    "radius_limits": radius_limits,
}


def assert_better_feasible_plan(p: BundlingProblem, start, plan, optimum: float) -> None:
    """A search's answer: disjoint feasible bundles covering every locked-in unit, worth
    at least the plan it started from and at most the enumerated optimum.

    The optimum may be that of the problem without its locked-in units: locking units
    in only removes plans, so it bounds both.
    """
    g = p.graph()
    covered = [j for b in plan for j in b]
    assert len(covered) == len(set(covered)), "bundles overlap"
    assert all(not p.bundle_violations(b, g) for b in plan)
    assert set(np.flatnonzero(p.must_cover).tolist()) <= set(covered)
    value = float(sum(p.bundle_objective(b) for b in plan))
    assert float(sum(p.bundle_objective(b) for b in start)) - 1e-9 <= value <= optimum + 1e-6
