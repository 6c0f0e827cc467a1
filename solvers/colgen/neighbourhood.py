"""Large-neighbourhood search: better plans by re-solving small regions of the incumbent exactly.

Column generation and the rooted MIP prove bounds on hard groups, but their plans may
stay short of the optimum (counties-159 seed 1: plan 177.0 M against a set-packing LP
bound of 181.1 M; the integer master over 2,140 columns found no better plan). One
step of :func:`improve_plan`:

1. a *neighbourhood*: first, for each new incumbent, every largest group of up to
   :data:`MAX_BUNDLES` adjacent bundles, their own units only (:func:`bundle_groups`,
   a sweep: the bundles re-partition their units); then, from a random start unit, a
   breadth-first walk that takes free units one by one and the incumbent's bundles
   whole (at most :data:`MAX_BUNDLES` of them; some walks from a free unit take free
   units only), up to a size that grows after quickly proven walks and shrinks after
   timed-out ones;
2. everything outside stays as it is: its bundles are kept and its units removed from
   the sub-problem (:func:`restrict`);
3. the compact rooted MIP (:func:`solvers.mip.rooted.solve_rooted`) re-optimises the
   sub-problem, warm-started with the incumbent's bundles inside it, so its answer is
   never worse than what it replaces;
4. a better answer is checked bundle by bundle against the full problem and becomes
   the incumbent. A neighbourhood proven optimal is not solved again while its
   bundles stay; many such draws in a row end the search (a small group is done).

Groups with many roots (bundles of up to 40 units on dense) get
:func:`improve_by_regions` instead: one bundle and the free units around it, re-solved
by column generation.

A bundle of the sub-problem is a bundle of the full problem (its edges and candidate
sets are subsets of the full ones), and the kept bundles cover every locked-in unit
outside, so each accepted plan is feasible. Only the plan gains: no bound comes from
these solves.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from solvers.backend import MipBackend
from solvers.base import SolveParams, Termination
from solvers.mip.rooted import solve_rooted
from solvers.problem import BundlingProblem, restrict

# incumbent bundles a neighbourhood may take whole: a few adjacent bundles can trade
# units, more make the sub-problem as hard as the whole group
MAX_BUNDLES = 3
# first neighbourhood size (units), and its limits; the size grows after quick proven
# steps and shrinks after timed-out ones
START_UNITS = 40
MIN_UNITS = 12
MAX_UNITS = 160
# a neighbourhood is at most this share of the group (else it is the whole problem again)
MAX_SHARE = 0.7
# seconds at most for one step
STEP_S = 6.0
# seconds at most for one step of the sweep over groups of adjacent bundles
# (bundle_groups): the groups that gain prove in 0.1-1.7 s (counties-159 seed 1), the
# others run to any limit unproven
SWEEP_STEP_S = 2.0
# a step proven this fast (share of its time) lets the next neighbourhood grow
QUICK = 0.3
GROW, SHRINK = 1.25, 0.8
# share of the neighbourhoods from a free unit that hold free units only
FREE_ONLY = 0.5
# draws in a row of neighbourhoods already proven: the small group is done
MAX_MISSES = 30
# improve_by_regions: free units this many steps around the drawn bundle join it
# (dense seed 2, 90 s from 133.19 M: 1 hop 133.51 M, 2 hops 134.36 M, 3 hops 134.66 M),
# seconds per step (3 s found most gains; a step of two bundles and 5 s gained less),
# and the least time worth a step
REGION_HOPS = 3
REGION_STEP_S = 3.0
MIN_REGION_S = 1.0


@dataclass
class LnsStats:
    """What one :func:`improve_plan` run did.

    Attributes
    ----------
    steps : int
        Sub-problems solved.
    improved : int
        Steps whose answer became the incumbent.
    size : int
        Neighbourhood size (units) at the end.
    """

    steps: int = 0
    improved: int = 0
    size: int = START_UNITS


def neighbourhood(
    nbrs: list[list[int]],
    owner: np.ndarray,
    plan: Sequence[Sequence[int]],
    start: int,
    size: int,
    rng: np.random.Generator,
    whole_bundles: bool = True,
) -> list[int]:
    """Units near ``start``: free units and whole bundles of ``plan``, about ``size`` of them.

    Parameters
    ----------
    nbrs : list of list of int
        Adjacency lists.
    owner : ndarray of int
        Index in ``plan`` of each unit's bundle, -1 for a free unit.
    plan : sequence of bundles
    start : int
    size : int
        Target number of units; a bundle is only taken whole, and only while it fits
        (the start's own bundle always is).
    rng : numpy.random.Generator
        Breaks ties between units at the same distance.
    whole_bundles : bool
        Whether bundles met on the way join (else they are walls, and a neighbourhood
        from a free unit holds free units only: room for a new bundle).

    Returns
    -------
    list of int
        The neighbourhood's units.
    """
    taken: set[int] = set()
    bundles: set[int] = set()
    todo: deque[int] = deque()

    def take(u: int) -> None:
        b = int(owner[u])
        members = [u] if b < 0 else list(plan[b])
        if b >= 0:
            bundles.add(b)
        taken.update(members)
        todo.extend(members)

    take(start)
    while todo and len(taken) < size:
        u = todo.popleft()
        around = [w for w in nbrs[u] if w not in taken]
        rng.shuffle(around)
        for w in around:
            if w in taken or len(taken) >= size:
                continue
            b = int(owner[w])
            if b >= 0 and (
                not whole_bundles or len(bundles) >= MAX_BUNDLES or len(taken) + len(plan[b]) > size
            ):
                continue
            take(w)
    return sorted(taken)


def improve_plan(
    problem: BundlingProblem,
    backend: MipBackend,
    params: SolveParams,
    plan: Sequence[Sequence[int]],
    until: float,
    rng: np.random.Generator,
    nbrs: list[list[int]],
    on_improve=None,
    stats: LnsStats | None = None,
) -> list[tuple[int, ...]]:
    """Improve a feasible plan by re-solving neighbourhoods exactly until ``until``.

    Parameters
    ----------
    problem : BundlingProblem
    backend : MipBackend
        Solves each sub-problem's rooted MIP.
    params : SolveParams
        ``threads`` and ``rel_gap`` of each step (its time comes from ``until``).
    plan : sequence of bundles
        A feasible plan (every locked-in unit covered).
    until : float
        ``time.perf_counter()`` deadline (a ceiling).
    rng : numpy.random.Generator
        Chooses the start units, uniformly (seeded by the caller).
    nbrs : list of list of int
        Adjacency lists of ``problem``.
    on_improve : callable, optional
        ``on_improve(plan)`` with each new incumbent (e.g. to add its bundles to a
        column pool); a true answer stops the search (e.g. the gap is closed).
    stats : LnsStats, optional
        Filled in as the run goes.

    Returns
    -------
    list of tuple of int
        The best plan found (``plan`` itself when nothing better was).
    """
    p = problem
    stats = stats if stats is not None else LnsStats()
    best = [tuple(sorted(map(int, b))) for b in plan]
    graph = p.graph()
    size = min(stats.size, max(MIN_UNITS, int(MAX_SHARE * p.n)))
    # neighbourhoods proven optimal for the incumbent's bundles in them: solving one
    # again cannot help
    proven_keys: set[tuple] = set()
    misses = 0
    value = np.asarray(p.value, float)
    cap = min(MAX_UNITS, max(MIN_UNITS, int(MAX_SHARE * p.n)))
    # first every group of adjacent bundles (again after each new incumbent), then walks
    sweep: deque[list[int]] = deque()
    swept: list[tuple[int, ...]] | None = None
    while time.perf_counter() < until - 0.1 and misses < MAX_MISSES:
        owner = _owners(p.n, best)
        if swept != best:
            swept = list(best)
            sweep = deque(bundle_groups(nbrs, owner, best, value, cap))
        walk = not sweep
        if not walk:
            units = sweep.popleft()
        else:
            start = int(rng.integers(p.n))
            # some neighbourhoods from a free unit hold free units only: room for a new
            # bundle where a neighbourhood would otherwise fill up with one big bundle
            # (they cost little: with no paying bundle inside, the LP proves 0 at once)
            free_only = owner[start] < 0 and rng.random() < FREE_ONLY
            units = neighbourhood(nbrs, owner, best, start, size, rng, not free_only)
        inside = {int(owner[u]) for u in units if owner[u] >= 0}
        key = (tuple(units), tuple(sorted(best[b] for b in inside)))
        if key in proven_keys:
            misses += 1
            continue
        misses = 0
        sub, kept = restrict(p, units)
        new_of = {int(old): k for k, old in enumerate(kept)}
        warm = [[new_of[j] for j in best[b]] for b in inside]
        old_value = sum(p.bundle_objective(best[b]) for b in inside)
        limit = min(STEP_S if walk else SWEEP_STEP_S, until - time.perf_counter())
        if limit <= 0.1:
            break
        t0 = time.perf_counter()
        res = solve_rooted(
            sub, backend, replace(params, time_limit=limit), warm_start=warm or None, max_rounds=50
        )
        took = time.perf_counter() - t0
        stats.steps += 1
        proven = res.termination == Termination.OPTIMAL
        if proven:
            proven_keys.add(key)
        if walk and proven and took < QUICK * limit:
            size = min(int(size * GROW) + 1, cap)
        elif walk and not proven:
            size = max(int(size * SHRINK), MIN_UNITS)
        stats.size = size
        best, stop = _take(p, graph, best, inside, old_value, res, kept, stats, on_improve)
        if stop:
            break
    return best


def bundle_groups(
    nbrs: list[list[int]],
    owner: np.ndarray,
    plan: Sequence[Sequence[int]],
    value: np.ndarray,
    max_units: int,
) -> list[list[int]]:
    """Neighbourhoods of adjacent bundles, most promising first: the sweep of :func:`improve_plan`.

    Two bundles are adjacent when a unit of one touches a unit of the other, directly
    or through one free unit. Each connected set of at most :data:`MAX_BUNDLES`
    bundles that no larger such set contains gives one neighbourhood: the units of
    its bundles (free units make the sub-problem much harder: on counties-159 seed 1
    the groups with their free neighbours, 90-111 units, ran to 6 s unproven, while
    the bundles alone, 47-58 units, gained 0.64 M in 0.1-1.4 s), when there are at
    most ``max_units`` of them. A random walk rarely takes three given bundles whole
    (from the same plan, one of two 30 s walks found a better re-partition), while a
    plan of a few large bundles has only a handful of such groups.

    Parameters
    ----------
    nbrs, owner, plan
        As for :func:`neighbourhood`.
    value : ndarray
        Unit values: groups whose bundles hold more value below zero (connectors and
        poor members, room to gain) come first.
    max_units : int
        Largest neighbourhood.

    Returns
    -------
    list of list of int
        Sorted unit indices of each neighbourhood.
    """
    near: list[set[int]] = [set() for _ in plan]
    for b, members in enumerate(plan):
        for u in members:
            for w in nbrs[u]:
                if owner[w] >= 0:
                    near[b].add(int(owner[w]))
                else:
                    near[b].update(int(owner[x]) for x in nbrs[w] if owner[x] >= 0)
        near[b].discard(b)
    sets: set[frozenset[int]] = {frozenset([b]) for b in range(len(plan))}
    grown = set(sets)
    for _ in range(MAX_BUNDLES - 1):
        grown = {g | {c} for g in grown for b in g for c in near[b] if c not in g}
        sets |= grown
    out = []
    for g in sets:
        # a set inside a larger one can take one more adjacent bundle (both connected)
        if len(g) < MAX_BUNDLES and any(c not in g for b in g for c in near[b]):
            continue
        members = {int(u) for b in g for u in plan[b]}
        units = sorted(members)
        if len(units) > max_units:
            continue
        out.append((float(np.minimum(value[units], 0.0).sum()), units))
    out.sort(key=lambda t: (t[0], t[1]))
    return [units for _, units in out]


def _owners(n: int, plan) -> np.ndarray:
    """Index in ``plan`` of each unit's bundle, -1 for a free unit."""
    owner = np.full(n, -1, dtype=int)
    for k, b in enumerate(plan):
        owner[list(b)] = k
    return owner


def _take(p, graph, best, inside, old_value, res, kept, stats, on_improve):
    """The plan with the bundles ``inside`` replaced by a better sub-problem answer.

    Returns the plan (``best`` itself when the answer is not better, or when, which
    cannot happen for a sub-problem's bundle but a wrong plan is never offered, it
    breaks a rule of the full problem) and whether ``on_improve`` asks to stop.
    """
    tol = 1e-9 * max(1.0, abs(old_value))
    if res.objective is None or res.objective <= old_value + tol:
        return best, False
    new = [tuple(sorted(int(kept[j]) for j in b)) for b in res.bundles]
    if any(p.bundle_violations(b, graph) for b in new):
        return best, False
    plan_new = [b for k, b in enumerate(best) if k not in inside] + new
    covered = {j for b in plan_new for j in b}
    if not set(np.flatnonzero(p.must_cover).tolist()) <= covered:
        return best, False
    stats.improved += 1
    return plan_new, on_improve is not None and bool(on_improve(plan_new))


def surroundings(nbrs: list[list[int]], owner: np.ndarray, bundle, hops: int) -> list[int]:
    """A bundle and the free units at most ``hops`` steps from it through free units.

    Parameters
    ----------
    nbrs : list of list of int
        Adjacency lists.
    owner : ndarray of int
        Index of each unit's bundle in the plan, -1 for a free unit.
    bundle : sequence of int
    hops : int

    Returns
    -------
    list of int
        Sorted unit indices.
    """
    taken = set(map(int, bundle))
    front = set(taken)
    for _ in range(hops):
        front = {w for u in front for w in nbrs[u] if owner[w] < 0 and w not in taken}
        taken |= front
    return sorted(taken)


def improve_by_regions(
    problem: BundlingProblem,
    solve_sub,
    plan: Sequence[Sequence[int]],
    until: float,
    rng: np.random.Generator,
    nbrs: list[list[int]],
    on_improve=None,
    stats: LnsStats | None = None,
) -> list[tuple[int, ...]]:
    """Improve a plan by re-solving one bundle and the free units around it at a time.

    For groups with too many roots for :func:`improve_plan`: their bundles are large
    (the dense 3,000-cell groups fill 40 units), so a neighbourhood of whole bundles
    is past what the rooted MIP solves in a step, and one without them has no room
    for a bundle that pays. Here a neighbourhood is one bundle, drawn uniformly, with
    the free units within :data:`REGION_HOPS` steps (70-160 units on dense), and
    ``solve_sub`` (column generation, whose exact single-root model handles such a
    sub-problem in seconds) re-solves it, warm-started with the bundle. Dense seed 2,
    from a heuristic plan of 133.19 M: 134.66 M after 90 s of 3 s steps (a rooted MIP
    step on the same neighbourhood found nothing in 60 s).

    Parameters
    ----------
    problem : BundlingProblem
    solve_sub : callable
        ``solve_sub(sub_problem, warm_start, time_limit)`` returning a
        :class:`~solvers.problem.BundlingResult` of the sub-problem.
    plan : sequence of bundles
        A feasible plan.
    until : float
        ``time.perf_counter()`` deadline (a ceiling).
    rng : numpy.random.Generator
        Draws the bundles (seeded by the caller).
    nbrs : list of list of int
        Adjacency lists of ``problem``.
    on_improve : callable, optional
        As in :func:`improve_plan`.
    stats : LnsStats, optional
        Filled in as the run goes.

    Returns
    -------
    list of tuple of int
        The best plan found.
    """
    p = problem
    stats = stats if stats is not None else LnsStats()
    best = [tuple(sorted(map(int, b))) for b in plan]
    graph = p.graph()
    proven: set[tuple] = set()
    misses = 0
    while best and time.perf_counter() < until - MIN_REGION_S and misses < MAX_MISSES:
        owner = _owners(p.n, best)
        k = int(rng.integers(len(best)))
        units = surroundings(nbrs, owner, best[k], REGION_HOPS)
        key = (tuple(units), best[k])
        if key in proven:
            misses += 1
            continue
        misses = 0
        sub, kept = restrict(p, units)
        new_of = {int(old): i for i, old in enumerate(kept)}
        old_value = p.bundle_objective(best[k])
        limit = min(REGION_STEP_S, until - time.perf_counter())
        res = solve_sub(sub, [[new_of[j] for j in best[k]]], limit)
        stats.steps += 1
        if res.termination == Termination.OPTIMAL:
            proven.add(key)
        best, stop = _take(p, graph, best, {k}, old_value, res, kept, stats, on_improve)
        if stop:
            break
    return best
