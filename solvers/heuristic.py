"""A fast heuristic for :class:`~solvers.problem.BundlingProblem`: feasible bundles, no proof.

Used as a backend of its own (``"heuristic"``), as the warm start of the MIP
backends, and for components too large for them. Every bundle it returns is
checked with :meth:`BundlingProblem.bundle_violations`; the answer is
``FEASIBLE`` (``OPTIMAL`` only when the objective meets the valid upper bound it
reports), or ``NO_SOLUTION`` when it cannot cover every ``must_cover`` unit.

Two regimes:

*Partition* (max-p: every unit must be covered, each bundle is worth 1, no
candidate, cost, maximum-area or unit-count rule). Regions are grown one at a
time from a front of already used units, so that no pocket is stranded; each
region grows by its most enclosed neighbour and finishes with the neighbour (or
pair of neighbours) that overshoots the threshold least. Leftover pockets join
their smallest neighbouring region. The partition is then improved by opening a
new region where surplus area is densest and repairing the deficit by moving
and swapping boundary units between adjacent regions (a descent on the total
deficit, then a tabu search on it), undoing the attempt when it fails.

*Selection* (npv, credits and anything else). A small problem (up to
20,000 connected unit sets) has every feasible bundle listed, and a set-packing
MIP over them (HiGHS via :func:`scipy.optimize.milp`, no gap) is then exact: the
answer is ``OPTIMAL``. Otherwise candidate bundles are grown from every unit that
may be a root, adding the frontier unit with the best value plus a reward for
progress toward the minimum area and the cost test, and keeping a few feasible
prefixes; a few scorings, then seeded random ones, give a pool. Disjoint subsets
are chosen greedily in several orders, improved by exchanges with the pool (and
by the packing MIP when the pool is small), then polished: drop negative units,
add positive ones, swap members for better neighbours, merge adjacent bundles
(saving a bundle's fixed cost), regrow each bundle with the others fixed, grow
new bundles in what is left. ``warm_start`` bundles join the pool and are the
plan to beat.

Every random choice draws from ``numpy.random.default_rng(params.seed)``. The
search stops on its own criteria (no improvement), so the same problem and seed
give the same bundles whenever the time limit is not what stopped it; when it
is, the answer depends on how far the search got (the message says so).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

from solvers.base import SolveParams, Termination, relative_gap
from solvers.problem import BundlingProblem, BundlingResult

NAME = "heuristic"
EPS = 1e-9
# the problem's own check tolerates 1e-6 ha below a minimum; bounds must allow for it
_CHECK_TOL = 1e-6
_PHASES = (("descent",), ("tabu",))


def is_available() -> bool:
    """The heuristic needs nothing beyond numpy and scipy."""
    return True


def solve_bundling(
    problem: BundlingProblem,
    params: SolveParams,
    warm_start: Sequence[Sequence[int]] | None = None,
) -> BundlingResult:
    """Find good feasible bundles for a bundling problem.

    Parameters
    ----------
    problem : BundlingProblem
    params : SolveParams
        ``time_limit`` and ``seed`` are used; ``rel_gap``, ``threads`` and
        ``verbose`` are not.
    warm_start : sequence of bundles, optional
        Bundles to start from (npv and credits; max-p builds its own partition);
        infeasible or overlapping ones are ignored.

    Returns
    -------
    BundlingResult
        ``FEASIBLE`` with the bundles found (possibly none, objective 0, when no
        feasible bundle exists and nothing must be covered); ``OPTIMAL`` only when
        the objective equals the upper bound in ``bound`` (the max-p area bound, or
        the exact packing of a small problem); ``NO_SOLUTION`` when a
        ``must_cover`` unit could not be put in a bundle (named in ``message``).
    """
    t0 = time.perf_counter()
    # leave time for the final check of every bundle, which grows with the problem
    reserve = min(0.5 * params.time_limit, 0.03 * params.time_limit + 5e-5 * problem.n)
    deadline = t0 + params.time_limit - reserve
    rng = np.random.default_rng(params.seed)
    nbrs = _neighbours(problem.n, problem.edges)
    if _is_partition(problem):
        bundles, bound, message, iters = _solve_partition(problem, nbrs, rng, t0, deadline)
    else:
        bundles, bound, message, iters = _solve_selection(
            problem, nbrs, rng, t0, deadline, warm_start
        )
    return _result(problem, bundles, bound, message, iters, t0)


# ---------------------------------------------------------------------------- shared


def _neighbours(n: int, edges: np.ndarray) -> list[list[int]]:
    """Sorted adjacency lists (Python lists: the hot loops index them one at a time)."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    e = e[e[:, 0] != e[:, 1]]
    rows = np.concatenate([e[:, 0], e[:, 1]])
    cols = np.concatenate([e[:, 1], e[:, 0]])
    m = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    m.sort_indices()
    ind = m.indices.tolist()
    ptr = m.indptr.tolist()
    return [ind[ptr[i] : ptr[i + 1]] for i in range(n)]


def _components(n: int, nbrs: list[list[int]]) -> np.ndarray:
    rows = [i for i in range(n) for _ in nbrs[i]]
    cols = [j for i in range(n) for j in nbrs[i]]
    m = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(m, directed=False)[1]


def _reach(nbrs: list[list[int]], start: int, allowed: set) -> set:
    """The units of ``allowed`` that ``start`` reaches through neighbours in ``allowed``."""
    seen, stack = {start}, [start]
    while stack:
        for y in nbrs[stack.pop()]:
            if y in allowed and y not in seen:
                seen.add(y)
                stack.append(y)
    return seen


def _canon(bundles) -> tuple[tuple[int, ...], ...]:
    return tuple(sorted(tuple(sorted(int(j) for j in b)) for b in bundles))


def _result(problem, bundles, bound, message, iterations, t0) -> BundlingResult:
    """Check every bundle against the problem's own rules and build the answer."""
    g = problem.graph()
    kept: list[tuple[int, ...]] = []
    used: set[int] = set()
    dropped = 0
    for b in _canon(bundles):
        # a heuristic bug must never reach the plan: drop what the problem rejects
        if not b or used.intersection(b) or problem.bundle_violations(b, g):
            dropped += 1
            continue
        kept.append(b)
        used.update(b)
    notes = [message] if message else []
    if dropped:
        notes.append(f"{dropped} bundle(s) failed the final check and were dropped")
    missing = [j for j in np.flatnonzero(problem.must_cover).tolist() if j not in used]
    runtime = time.perf_counter() - t0
    if missing:
        names = ", ".join(problem.unit_ids[j] for j in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        notes.insert(0, f"no feasible bundle found for locked-in unit(s) {names}{more}")
        return BundlingResult(
            Termination.NO_SOLUTION,
            None,
            bound,
            None,
            runtime,
            solver=NAME,
            message="; ".join(notes),
            iterations=iterations,
        )
    objective = float(sum(problem.bundle_objective(b) for b in kept))
    proven = bound is not None and objective >= bound - 1e-9 * max(1.0, abs(bound))
    return BundlingResult(
        Termination.OPTIMAL if proven else Termination.FEASIBLE,
        objective,
        bound,
        relative_gap(objective, bound),
        runtime,
        bundles=tuple(kept),
        solver=NAME,
        message="; ".join(notes),
        iterations=iterations,
    )


# ---------------------------------------------------------------------------- partition


def _is_partition(p: BundlingProblem) -> bool:
    """Max-p shape: count regions, cover everything, only the minimum area applies."""
    return (
        p.candidates is None
        and not p.check_cost
        and math.isinf(p.max_area_ha)
        and p.max_units == 0
        and p.bundle_value > 0
        and p.n > 0
        and not np.any(p.value)
    )


def _solve_partition(problem, nbrs, rng, t0, deadline):
    n = problem.n
    area = np.asarray(problem.area_min_ha, dtype=float)
    thr = np.asarray(problem.min_area_ha, dtype=float)
    comp = _components(n, nbrs)
    active = np.ones(n, dtype=bool)
    count_bound = 0
    for c in range(comp.max() + 1):
        idx = comp == c
        total, least = float(area[idx].sum()), float(thr[idx].min())
        if total < least - EPS:
            # too small for any region: these units stay out (an error if locked in)
            active[idx] = False
            continue
        # every region of the component holds at least `least` ha (the check allows
        # 1e-6 less), and regions are disjoint
        positive = float(np.clip(area[idx], 0.0, None).sum())
        if least > 2 * _CHECK_TOL:
            count_bound += math.floor(positive / (least - _CHECK_TOL) + 1e-9)
        else:
            count_bound += int(idx.sum())
    bound = float(count_bound * problem.bundle_value)
    if not active.any():
        return [], bound, "no group of units reaches the minimum area", 0

    area_l, thr_l, active_l = area.tolist(), thr.tolist(), active.tolist()
    best = None
    construct_until = t0 + 0.25 * (deadline - t0)
    for k in range(8):
        if k and time.perf_counter() > construct_until:
            break
        part = _Partition(nbrs, area_l, thr_l, active_l, rng)
        part.construct(noise=0.0 if k % 2 == 0 else 0.1)
        if best is None or len(part.units) > len(best.units):
            best = part
        if len(best.units) >= count_bound:
            break
    built = len(best.units)
    attempts = 0
    for methods in _PHASES:
        if len(best.units) >= count_bound:
            break
        attempts += best.improve(deadline, methods, count_bound)
    regions = best.regions()
    message = f"{len(regions)} regions ({built} after construction); area bound {count_bound}"
    if time.perf_counter() >= deadline:
        message += "; time limit reached"
    return regions, bound, message, attempts


class _Partition:
    """A max-p partition under change: labels, region members, areas, thresholds.

    A region's threshold is the smallest ``min_area_ha`` of its members (every
    member may be the root when there are no candidate limits).
    """

    def __init__(self, nbrs, area, thr, active, rng):
        self.n = len(area)
        self.nbrs = nbrs
        self.area = area
        self.thr = thr
        self.active = active
        self.rng = rng
        self.label = [-1] * self.n
        self.units: list[set[int]] = []
        self.rarea: list[float] = []
        self.rthr: list[float] = []
        self.radj: list[dict[int, int]] = []  # region -> {adjacent region: shared edges}
        self.uniform = len(set(thr)) <= 1

    # ------------------------------------------------------------ construction
    def construct(self, noise: float) -> None:
        """Grow regions one after another, then absorb the pockets left over."""
        nbrs, area, thr, rng = self.nbrs, self.area, self.thr, self.rng
        n = self.n
        free, dead = -1, -2
        label = [free if self.active[i] else -3 for i in range(n)]
        deg = [len(x) for x in nbrs]
        # seeds come from the edge of what is already used (most enclosed first), so
        # the used area grows as one front and leaves no pocket behind
        closed = [sum(1 for v in nbrs[i] if label[v] != free) for i in range(n)]
        tie = rng.random(n).tolist()
        heap = [(-(closed[i] + 1) / (deg[i] + 1), tie[i], i) for i in range(n) if label[i] == free]
        heapq.heapify(heap)
        regions: list[list[int]] = []

        def close(u):
            for v in nbrs[u]:
                if label[v] == free:
                    closed[v] += 1
                    heapq.heappush(heap, (-(closed[v] + 1) / (deg[v] + 1), tie[v], v))

        # a unit that reaches the threshold alone is a region alone: anything added is waste
        for i in range(n):
            if label[i] == free and area[i] >= thr[i] - EPS:
                label[i] = len(regions)
                regions.append([i])
        for reg in regions:
            close(reg[0])
        while heap:
            _, _, s = heapq.heappop(heap)
            if label[s] != free:
                continue
            k = len(regions)
            reg = [s]
            label[s] = k
            a, t = area[s], thr[s]
            links: dict[int, int] = {}
            for v in nbrs[s]:
                if label[v] == free:
                    links[v] = links.get(v, 0) + 1
            while a < t - EPS and links:
                pick = self._next_unit(links, a, t, deg, closed, noise)
                del links[pick]
                label[pick] = k
                reg.append(pick)
                a += area[pick]
                t = min(t, thr[pick])
                for v in nbrs[pick]:
                    if label[v] == free:
                        links[v] = links.get(v, 0) + 1
            if a < t - EPS:
                # the whole free pocket was absorbed and is still too small
                for u in reg:
                    label[u] = dead
            else:
                regions.append(reg)
            for u in reg:
                close(u)
        self._load(label, regions)
        self._absorb_leftovers()

    def _next_unit(self, links, a, t, deg, closed, noise):
        """The frontier unit to add: the best finish if one is close, else the most enclosed."""
        area, thr = self.area, self.thr
        need = t - a
        single, o1 = -1, math.inf
        for u in links:
            nd = min(t, thr[u]) - a
            if area[u] >= nd - EPS:
                # a little credit for compactness (edges shared with the region)
                o = area[u] - nd - 0.05 * need * links[u]
                if o < o1:
                    single, o1 = u, o
        if single >= 0 and o1 <= 0.02 * t:
            return single
        # two small units may finish closer to the threshold than one large one
        fl = list(links)
        pair, o2 = -1, math.inf
        if len(fl) > 1:
            fa = [area[u] for u in fl]
            for x in range(len(fl)):
                ax = fa[x]
                if ax >= need:
                    continue
                for y in range(x + 1, len(fl)):
                    s2 = ax + fa[y]
                    if fa[y] < need <= s2 and s2 - need < o2:
                        o2 = s2 - need
                        pair = fl[x] if ax <= fa[y] else fl[y]
        if pair >= 0 and o2 < o1:
            return pair
        if single >= 0:
            return single
        best, best_sc = -1, -math.inf
        for u in fl:
            sc = (links[u] + 1 + closed[u]) / (deg[u] + 1)
            if noise:
                sc += noise * self.rng.random()
            if sc > best_sc:
                best, best_sc = u, sc
        return best

    def _load(self, label, regions):
        self.label = [lab if lab >= 0 else -1 for lab in label]
        self.leftover = [i for i in range(self.n) if label[i] == -2]
        self.units = [set(r) for r in regions]
        self.rarea = [sum(self.area[u] for u in r) for r in regions]
        self.rthr = [min(self.thr[u] for u in r) for r in regions]
        self.radj = [{} for _ in regions]
        lab = self.label
        for k, r in enumerate(regions):
            adj = self.radj[k]
            for u in r:
                for v in self.nbrs[u]:
                    c = lab[v]
                    if c >= 0 and c != k:
                        adj[c] = adj.get(c, 0) + 1

    def _absorb_leftovers(self):
        """Give leftover units to their smallest adjacent region, from the outside in."""
        left = set(self.leftover)
        while left:
            progress = False
            for u in sorted(left):
                adj = {self.label[v] for v in self.nbrs[u] if self.label[v] >= 0}
                if not adj:
                    continue
                r = min(adj, key=lambda c: (self.rarea[c], c))
                self._add(u, r)
                left.discard(u)
                progress = True
            if not progress:
                break
        # what is still left is a whole component where no region grew (only possible
        # with unequal thresholds): all of it is one region, as the component reaches
        # its smallest threshold
        while left:
            comp = _reach(self.nbrs, min(left), left)
            left -= comp
            k = self._new_region()
            for u in sorted(comp):
                self._add(u, k)

    # ------------------------------------------------------------ moves
    def _new_region(self) -> int:
        self.units.append(set())
        self.rarea.append(0.0)
        self.rthr.append(math.inf)
        self.radj.append({})
        return len(self.units) - 1

    def _drop_last_region(self):
        self.units.pop()
        self.rarea.pop()
        self.rthr.pop()
        self.radj.pop()

    def _add(self, u, r):
        self.label[u] = r
        self.units[r].add(u)
        self.rarea[r] += self.area[u]
        self.rthr[r] = min(self.rthr[r], self.thr[u])
        lab, radj = self.label, self.radj
        for v in self.nbrs[u]:
            c = lab[v]
            if c >= 0 and c != r:
                radj[r][c] = radj[r].get(c, 0) + 1
                radj[c][r] = radj[c].get(r, 0) + 1

    def _remove(self, u) -> int:
        r = self.label[u]
        lab, radj = self.label, self.radj
        for v in self.nbrs[u]:
            c = lab[v]
            if c >= 0 and c != r:
                for x, y in ((r, c), (c, r)):
                    k = radj[x][y] - 1
                    if k:
                        radj[x][y] = k
                    else:
                        del radj[x][y]
        lab[u] = -1
        self.units[r].discard(u)
        self.rarea[r] -= self.area[u]
        if self.thr[u] <= self.rthr[r]:
            self.rthr[r] = min((self.thr[w] for w in self.units[r]), default=math.inf)
        return r

    def move(self, u, b) -> int:
        """Move unit ``u`` to region ``b``; returns the region it left."""
        a = self._remove(u)
        self._add(u, b)
        return a

    def undo(self, log):
        for v, a in reversed(log):
            self.move(v, a)

    def can_leave(self, u) -> bool:
        """Whether the region of ``u`` stays connected and non-empty without it."""
        r = self.label[u]
        lab = self.label
        inside = [v for v in self.nbrs[u] if lab[v] == r]
        if not inside:
            return False
        if len(inside) == 1:
            return True
        # connected iff u's neighbours inside the region still reach each other
        want = set(inside[1:])
        seen = {u, inside[0]}
        stack = [inside[0]]
        nbrs = self.nbrs
        while stack:
            x = stack.pop()
            for y in nbrs[x]:
                if y not in seen and lab[y] == r:
                    seen.add(y)
                    want.discard(y)
                    if not want:
                        return True
                    stack.append(y)
        return False

    def connected_after(self, r, out, into) -> bool:
        """Whether region ``r`` minus unit ``out`` plus unit ``into`` is connected."""
        lab, nbrs = self.label, self.nbrs
        seen = {out, into}
        stack = [into]
        size = 1
        while stack:
            x = stack.pop()
            for y in nbrs[x]:
                if y not in seen and lab[y] == r:
                    seen.add(y)
                    size += 1
                    stack.append(y)
        return size == len(self.units[r])

    def thr_without(self, u) -> float:
        r = self.label[u]
        if self.uniform or self.thr[u] > self.rthr[r]:
            return self.rthr[r]
        return min((self.thr[w] for w in self.units[r] if w != u), default=math.inf)

    def _thr_swap(self, r, out, into) -> float:
        if self.uniform:
            return self.rthr[r]
        rest = min((self.thr[x] for x in self.units[r] if x != out), default=math.inf)
        return min(rest, self.thr[into])

    def _deficit_regions(self):
        return [r for r in range(len(self.units)) if self.rarea[r] < self.rthr[r] - EPS]

    # ------------------------------------------------------------ improvement
    def improve(self, deadline, methods, target) -> int:
        """Add regions one at a time: open one at a unit, repair the deficit or undo.

        Returns the number of attempts. Stops when every region has been the site of
        a failed attempt since its neighbourhood last changed, or at ``target``.
        """
        tabu: set[int] = set()
        attempts = 0
        repairs = [{"descent": self._descent, "tabu": self._tabu_search}[m] for m in methods]
        while time.perf_counter() < deadline and len(self.units) < target:
            surplus = [self.rarea[r] - self.rthr[r] for r in range(len(self.units))]
            # open the new region where surplus area is densest
            site, site_sc = -1, -math.inf
            for r in range(len(self.units)):
                if r in tabu:
                    continue
                sc = surplus[r] + sum(surplus[c] for c in self.radj[r])
                if sc > site_sc:
                    site, site_sc = r, sc
            if site < 0:
                break
            seed, seed_sc = -1, -math.inf
            for u in sorted(self.units[site]):
                sc = sum(surplus[self.label[v]] for v in self.nbrs[u] if self.label[v] >= 0)
                if sc > seed_sc and self.can_leave(u):
                    seed, seed_sc = u, sc
            if seed < 0:
                tabu.add(site)
                continue
            attempts += 1
            ok = False
            for repair in repairs:
                self._remove(seed)
                k = self._new_region()
                self._add(seed, k)
                ok, log, touched = repair(deadline)
                if ok:
                    break
                self.undo(log)
                self._remove(seed)
                self._drop_last_region()
                self._add(seed, site)
            if ok:
                for r in list(touched):
                    tabu.discard(r)
                    tabu.difference_update(self.radj[r])
            else:
                tabu.add(site)
        return attempts

    def _descent(self, deadline, max_plateau=10, max_steps=2000):
        """Lower the total deficit by moves and swaps across region borders.

        A move of ``u`` from ``a`` into a region ``d`` in deficit lowers the total
        by ``min(x_u, deficit_d) - new deficit_a``, so a neighbour can pass on part
        of its surplus even when it ends in deficit itself. When no move or swap
        lowers the total, surplus is moved one region closer to a deficit (a plateau
        move that keeps the donor full).
        """
        log: list[tuple[int, int]] = []
        touched: set[int] = set()
        plateau = 0
        for _ in range(max_steps):
            deficit = self._deficit_regions()
            if not deficit:
                return True, log, touched
            if time.perf_counter() > deadline:
                break
            mv = self._improving_move(deficit)
            if mv is not None:
                v, d = mv
                a = self.move(v, d)
                log.append((v, a))
                touched.update((a, d))
                plateau = 0
                continue
            sw = self._improving_swap(deficit)
            if sw is not None:
                v, d, w, a = sw
                self.move(v, d)
                self.move(w, a)
                log.extend(((v, a), (w, d)))
                touched.update((a, d))
                plateau = 0
                continue
            plateau += 1
            if plateau > max_plateau:
                break
            mv = self._downhill(deficit)
            if mv is None:
                break
            v, b = mv
            a = self.move(v, b)
            log.append((v, a))
            touched.update((a, b))
        return False, log, touched

    def _improving_move(self, deficit):
        area, nbrs, label, thr = self.area, self.nbrs, self.label, self.thr
        rthr, rarea, uniform = self.rthr, self.rarea, self.uniform
        cands = []
        for d in deficit:
            td0, ad = rthr[d], rarea[d]
            dd = td0 - ad
            seen = set()
            for u in self.units[d]:
                for v in nbrs[u]:
                    a = label[v]
                    if a < 0 or a == d or v in seen:
                        continue
                    seen.add(v)
                    x = area[v]
                    ra = rarea[a]
                    ta = rthr[a] if uniform else self.thr_without(v)
                    before_a = rthr[a] - ra
                    before_a = before_a if before_a > 0.0 else 0.0
                    after_a = ta - ra + x
                    after_a = after_a if after_a > 0.0 else 0.0
                    td = td0 if uniform or thr[v] >= td0 else thr[v]
                    after_d = td - ad - x
                    after_d = after_d if after_d > 0.0 else 0.0
                    delta = (after_a - before_a) + (after_d - dd)
                    if delta < -EPS:
                        cands.append((delta, -after_a, v, d))
        cands.sort()
        for _, _, v, d in cands:
            if self.can_leave(v):
                return v, d
        return None

    def _improving_swap(self, deficit):
        """An exchange across a deficit region's border (``v`` in, ``w`` out) that helps."""
        label, area, nbrs = self.label, self.area, self.nbrs
        cands = []
        for d in deficit:
            dd = self.rthr[d] - self.rarea[d]
            for w in self.units[d]:
                xw = area[w]
                for v in nbrs[w]:
                    a = label[v]
                    if a < 0 or a == d or area[v] <= xw:
                        continue
                    net = area[v] - xw
                    before_a = max(0.0, self.rthr[a] - self.rarea[a])
                    after_a = max(0.0, self._thr_swap(a, v, w) - self.rarea[a] + net)
                    after_d = max(0.0, self._thr_swap(d, w, v) - self.rarea[d] - net)
                    delta = (after_a - before_a) + (after_d - dd)
                    if delta < -EPS:
                        cands.append((delta, v, d, w, a))
        cands.sort()
        for _, v, d, w, a in cands:
            if self.connected_after(d, w, v) and self.connected_after(a, v, w):
                return v, d, w, a
        return None

    def _region_distance(self, deficit, radius):
        dist = dict.fromkeys(deficit, 0)
        frontier = list(deficit)
        for k in range(1, radius + 1):
            nxt = []
            for r in frontier:
                for c in self.radj[r]:
                    if c not in dist:
                        dist[c] = k
                        nxt.append(c)
            frontier = nxt
        return dist

    def _downhill(self, deficit, radius=4):
        """A move of surplus one region closer to a deficit that keeps the donor full."""
        dist = self._region_distance(deficit, radius)
        best, best_key = None, None
        label, area = self.label, self.area
        for a, da in dist.items():
            if da < 2:
                continue
            s_a = self.rarea[a] - self.rthr[a]
            if s_a <= EPS:
                continue
            for u in self.units[a]:
                if area[u] > s_a + EPS:
                    continue
                for v in self.nbrs[u]:
                    b = label[v]
                    if b >= 0 and dist.get(b, radius + 1) == da - 1:
                        key = (da, self.rng.random())
                        if (best_key is None or key < best_key) and (
                            self.thr_without(u) <= self.rarea[a] - area[u] + EPS
                        ):
                            best, best_key = (u, b), key
                        break
        if best is None or not self.can_leave(best[0]):
            return None
        return best

    def _tabu_search(self, deadline, max_no_improve=60, radius=2, tenure=8, max_steps=3000):
        """Tabu search on the total deficit over moves near the regions in deficit.

        Slower than the descent, but it can climb out of the states where the
        descent stops; ties prefer moves toward the deficit.
        """
        area, nbrs, label, rng = self.area, self.nbrs, self.label, self.rng
        log: list[tuple[int, int]] = []
        touched: set[int] = set()
        total = sum(max(0.0, self.rthr[r] - self.rarea[r]) for r in range(len(self.units)))
        best_total = total
        tabu_until: dict[int, int] = {}
        since = 0
        key = rng.random(self.n).tolist()  # random tie-breaks, fixed for this search
        for step in range(max_steps):
            deficit = self._deficit_regions()
            if not deficit:
                return True, log, touched
            if since > max_no_improve or time.perf_counter() > deadline:
                break
            dist = self._region_distance(deficit, radius)
            cands = []
            rthr, rarea, thr, uniform = self.rthr, self.rarea, self.thr, self.uniform
            far = radius + 1
            for a, da in dist.items():
                ra, ta = rarea[a], rthr[a]
                before_a = ta - ra if ta > ra else 0.0
                for u in self.units[a]:
                    xu = area[u]
                    after_a = (ta if uniform else self.thr_without(u)) - ra + xu
                    after_a = after_a if after_a > 0.0 else 0.0
                    is_tabu = tabu_until.get(u, -1) > step
                    done = set()
                    for v in nbrs[u]:
                        b = label[v]
                        if b < 0 or b == a or b in done:
                            continue
                        done.add(b)
                        rb, tb = rarea[b], rthr[b]
                        tb2 = tb if uniform or thr[u] >= tb else thr[u]
                        after_b = tb2 - rb - xu
                        after_b = after_b if after_b > 0.0 else 0.0
                        delta = after_a - before_a + after_b - (tb - rb if tb > rb else 0.0)
                        if is_tabu and total + delta >= best_total - EPS:
                            continue  # tabu unless it beats the best (aspiration)
                        toward = dist.get(b, far) - da
                        # float noise must not outrank the preference for moving toward
                        dq = delta if delta > 1e-7 or delta < -1e-7 else 0.0
                        cands.append((dq, toward, key[u], u, b, delta))
            cands.sort()
            moved = False
            for *_, u, b, delta in cands:
                if self.can_leave(u):
                    a = self.move(u, b)
                    log.append((u, a))
                    touched.update((a, b))
                    tabu_until[u] = step + tenure
                    total += delta
                    moved = True
                    break
            if not moved:
                break
            if total < best_total - EPS:
                best_total, since = total, 0
            else:
                since += 1
        return False, log, touched

    def regions(self) -> list[list[int]]:
        return [sorted(r) for r in self.units if r]


# ---------------------------------------------------------------------------- selection


def _selection_bound(p: BundlingProblem, nbrs) -> float:
    """A valid upper bound on the objective of any plan.

    Bundles are disjoint, so the units' part of the objective is at most the sum of
    the positive unit values. When ``bundle_value <= 0`` each bundle adds at most 0
    more; otherwise at most ``bundle_value`` times the number of disjoint bundles
    that fit, which per component is at most its total area over the smallest
    minimum area of the component (the check tolerates 1e-6 ha less).
    """
    units = float(np.clip(p.value, 0.0, None).sum())
    if p.bundle_value <= 0:
        return units
    comp = _components(p.n, nbrs)
    count = 0
    for c in range(comp.max() + 1 if p.n else 0):
        idx = comp == c
        least = float(p.min_area_ha[idx].min())
        total = float(np.clip(p.area_min_ha[idx], 0.0, None).sum())
        if least > 2 * _CHECK_TOL:
            count += min(int(idx.sum()), math.floor(total / (least - _CHECK_TOL) + 1e-9))
        else:
            count += int(idx.sum())
    return units + float(p.bundle_value) * count


def _solve_selection(problem, nbrs, rng, t0, deadline, warm_start):
    bound = _selection_bound(problem, nbrs)
    if problem.n == 0:
        return [], bound, "", 0
    sel = _Selector(problem, nbrs, rng)
    plan, rounds, message = sel.run(t0, deadline, warm_start)
    if sel.proven is not None:
        bound = min(bound, sel.proven)
    return plan, bound, message, rounds


class _Selector:
    """Candidate bundles grown from roots, a disjoint choice among them, and polishing."""

    def __init__(self, p: BundlingProblem, nbrs, rng):
        self.n = n = p.n
        self.nbrs = nbrs
        self.rng = rng
        self.val = np.asarray(p.value, dtype=float).tolist()
        self.amin = np.asarray(p.area_min_ha, dtype=float).tolist()
        self.area = np.asarray(p.area_ha, dtype=float).tolist()
        self.slack = np.asarray(p.slack, dtype=float).tolist()
        self.min_a = np.asarray(p.min_area_ha, dtype=float).tolist()
        self.bv = float(p.bundle_value)
        self.bs = float(p.bundle_slack)
        self.max_a = float(p.max_area_ha)
        self.max_u = int(p.max_units) if p.max_units else n
        self.cost = bool(p.check_cost)
        if p.candidates is None:
            self.cand = None
            self.roots = list(range(n))
        else:
            self.cand = [frozenset(np.asarray(c, dtype=int).tolist()) for c in p.candidates]
            self.roots = [r for r in range(n) if r in self.cand[r]]
        self.must = set(np.flatnonzero(p.must_cover).tolist())
        self.roots_set = set(self.roots)
        self.proven: float | None = None  # the optimum, when the exact packing found it
        # scales that make "value", "area toward the minimum" and "cost slack toward
        # zero" comparable in the growth score
        mean_val = float(np.mean(np.abs(p.value))) or 1.0
        mean_area = float(np.mean(np.abs(p.area_min_ha))) or 1.0
        mean_slack = float(np.mean(np.abs(p.slack))) or 1.0
        self.val_scale = mean_val
        self.area_price = mean_val / mean_area
        self.slack_price = mean_val / mean_slack
        # one step of look-ahead: a poor unit next to a valuable one is a bridge
        self.look = [max([0.0] + [self.val[k] for k in nbrs[j]]) for j in range(n)]
        self.promise = [self.val[r] + sum(max(0.0, self.val[k]) for k in nbrs[r]) for r in range(n)]

    # ------------------------------------------------------------ rules
    def objective(self, b) -> float:
        return self.bv + sum(self.val[j] for j in b)

    def feasible(self, b) -> bool:
        """Every rule of the problem, with no tolerance in our favour."""
        k = len(b)
        if k == 0 or k > self.max_u:
            return False
        if sum(self.area[j] for j in b) > self.max_a + EPS:
            return False
        if self.cost and self.bs + sum(self.slack[j] for j in b) > EPS:
            return False
        if self.cand is None:
            req = min(self.min_a[j] for j in b)
        else:
            cand = self.cand
            roots = [r for r in b if cand[r] and all(j in cand[r] for j in b)]
            if not roots:
                return False
            req = min(self.min_a[r] for r in roots)
        if sum(self.amin[j] for j in b) < req - EPS:
            return False
        return self.connected(b)

    def connected(self, b) -> bool:
        inb = set(b)
        return len(_reach(self.nbrs, next(iter(inb)), inb)) == len(inb)

    # ------------------------------------------------------------ growth
    def grow(self, r, lam, gamma, noise=None, blocked=None, force=(), patience=4, must_bonus=0.0):
        """Grow a bundle from root ``r``; returns some of its feasible prefixes, pruned.

        Each step adds the frontier unit (inside ``candidates[r]``, not blocked)
        with the best score: its value, plus ``gamma`` times the best value next to
        it, plus ``lam`` (in units of mean value per mean hectare) times the area it
        adds toward the minimum, plus a reward for closing a positive cost slack.
        ``force`` (a path from ``r``) is added first and kept. Growth stops
        ``patience`` steps after the best prefix (or after the area is reached
        while the cost test still fails). ``must_bonus`` is added to the score of a
        locked-in unit and, per locked-in member, to the value that ranks prefixes.
        Returned: the best prefix, every earlier best-so-far that the next unit made
        worse (two small bundles may beat one grown through a poor bridge) and, for
        area-minded scorings, the first feasible prefix.
        """
        val, amin, area, slack, nbrs = self.val, self.amin, self.area, self.slack, self.nbrs
        allowed = self.cand[r] if self.cand is not None else None
        cand = self.cand
        # an area-minded growth also offers its first feasible prefix (a lean bundle)
        lean = lam > self.FIRST_LAMBDA
        lam *= self.area_price
        mu = self.slack_price
        members = [r]
        inside = {r}
        a_min, a_full = amin[r], area[r]
        slk = self.bs + slack[r]
        value = self.bv + val[r]
        roots = [r]
        req = self.min_a[r]
        frontier: set[int] = set()

        def extend(u):
            for k in nbrs[u]:
                if (
                    k not in inside
                    and (allowed is None or k in allowed)
                    and (blocked is None or k not in blocked)
                ):
                    frontier.add(k)

        extend(r)
        n_force = len(force)
        must = self.must
        if must_bonus and r in must:
            value += must_bonus
        best_len, best_val = 0, -math.inf
        if n_force == 0 and a_min >= req - EPS and (not self.cost or slk <= EPS):
            best_len, best_val = 1, value
        lengths = [1] if best_len else []
        peaks: list[int] = []
        since = 0
        fi = 0
        while len(members) < self.max_u:
            if fi < n_force:
                j = force[fi]
                fi += 1
                if j not in frontier or a_full + area[j] > self.max_a + EPS:
                    return []
            else:
                # stop a few steps after the best prefix; and when the area is there
                # but the cost test still fails, give up after as many steps
                if since >= patience and (best_len or a_min >= req):
                    break
                need = req - a_min if req > a_min else 0.0
                over = slk if self.cost and slk > 0 else 0.0
                j, best_sc = -1, -math.inf
                for k in frontier:
                    if a_full + area[k] > self.max_a + EPS:
                        continue
                    sc = val[k] + gamma * self.look[k]
                    if need:
                        sc += lam * min(amin[k], need)
                    if over and slack[k] < 0:
                        sc += mu * min(-slack[k], over)
                    if noise is not None:
                        sc += noise[k]
                    if must_bonus and k in must:
                        sc += must_bonus
                    if sc > best_sc or (sc == best_sc and k < j):
                        j, best_sc = k, sc
                if j < 0:
                    break
            frontier.discard(j)
            members.append(j)
            inside.add(j)
            a_min += amin[j]
            a_full += area[j]
            slk += slack[j]
            value += val[j]
            if must_bonus and j in must:
                value += must_bonus
            if cand is None:
                req = min(req, self.min_a[j])
            else:
                roots = [x for x in roots if j in cand[x]]
                if cand[j] and all(y in cand[j] for y in members):
                    roots.append(j)
                req = min(self.min_a[x] for x in roots)
            extend(j)
            ok = a_min >= req - EPS and (not self.cost or slk <= EPS)
            if lengths and lengths[-1] == len(members) - 1 and value < best_val - EPS:
                # the best so far was a peak: worth keeping even if a later one beats it
                peaks.append(lengths[-1])
            if ok and len(members) > n_force and value > best_val + EPS:
                best_len, best_val, since = len(members), value, 0
                lengths.append(best_len)
            elif best_len or a_min >= req:
                since += 1
        keep = sorted(set(peaks + lengths[-1:] + (lengths[:1] if lean else [])))
        return [self.prune(members[:k]) for k in keep]

    def prune(self, b):
        """Drop negative units the bundle does not need (area, cost, connection)."""
        b = list(b)
        changed = True
        while changed:
            changed = False
            for j in sorted(b, key=lambda x: (self.val[x], x)):
                if self.val[j] >= 0:
                    break
                if j in self.must:
                    continue
                rest = [x for x in b if x != j]
                if rest and self.feasible(rest):
                    b = rest
                    changed = True
                    break
        return b

    def path(self, r, u):
        """A shortest path from ``r`` to ``u`` inside ``candidates[r]`` (without ``r``)."""
        allowed = self.cand[r] if self.cand is not None else None
        prev = {r: -1}
        queue = [r]
        for x in queue:
            if x == u:
                break
            for y in self.nbrs[x]:
                if y in prev or (allowed is not None and y not in allowed):
                    continue
                prev[y] = x
                queue.append(y)
        if u not in prev:
            return None
        out = []
        while u != r:
            out.append(u)
            u = prev[u]
        return out[::-1]

    # ------------------------------------------------------------ pool
    VARIANTS = ((1.0, 0.5), (4.0, 0.5), (0.25, 1.0))
    FIRST_LAMBDA = 2.0

    def generate(self, pool, deadline, variants, noise_level=0.0, blocked=None, roots=None):
        """Grow from every root (most promising first) with each scoring variant."""
        roots = self.roots if roots is None else roots
        order = sorted(roots, key=lambda r: (-self.promise[r], r))
        for lam, gamma in variants:
            noise = None
            if noise_level:
                noise = (self.rng.random(self.n) * noise_level * self.val_scale).tolist()
            for r in order:
                if blocked is not None and r in blocked:
                    continue
                if time.perf_counter() > deadline:
                    return
                for b in self.grow(r, lam, gamma, noise, blocked):
                    pool.setdefault(tuple(sorted(b)), None)

    def generate_must(self, pool, deadline, variants=None, n_roots=12, noise_level=0.0):
        """Bundles through each locked-in unit, grown from the nearest roots that may hold it."""
        variants = self.VARIANTS if variants is None else variants
        bonus = 1.0 + abs(self.bv) + sum(map(abs, self.val))
        noise = None
        if noise_level:
            noise = (self.rng.random(self.n) * noise_level * self.val_scale).tolist()
        for u in sorted(self.must):
            roots = [r for r in self.roots if self.cand is None or u in self.cand[r]]
            # the nearest roots first (breadth-first from u)
            dist = {u: 0}
            queue = [u]
            for x in queue:
                for y in self.nbrs[x]:
                    if y not in dist:
                        dist[y] = dist[x] + 1
                        queue.append(y)
            roots = sorted((r for r in roots if r in dist), key=lambda r: (dist[r], r))[:n_roots]
            for r in roots:
                if time.perf_counter() > deadline:
                    return
                force = self.path(r, u) if r != u else []
                if force is None:
                    continue
                for lam, gamma in variants:
                    # a locked-in unit may need a large bundle, and its bundle had
                    # better hold other locked-in units too
                    for b in self.grow(
                        r, lam, gamma, noise, force=force, patience=20, must_bonus=bonus
                    ):
                        pool.setdefault(tuple(sorted(b)), None)

    # a problem with more connected sets than this is left to the heuristic search
    ENUMERATE_MAX_SETS = 20_000

    def enumerate_all(self, pool, deadline) -> bool:
        """Put every feasible bundle worth having in the pool; False if there are too many.

        Connected sets are listed once each by extension from their smallest unit
        (Wernicke's ESU), cut off when they pass the unit count or maximum area.
        """
        if self.n > 60:
            return False
        nbrs, area, val = self.nbrs, self.area, self.val
        found: list[list[int]] = []
        count = 0

        def visit(sub, near, ext, v, a):
            nonlocal count
            count += 1
            if count > self.ENUMERATE_MAX_SETS or (
                count % 1000 == 0 and time.perf_counter() > deadline
            ):
                return False
            worth = self.bv + sum(val[j] for j in sub) > EPS or self.must.intersection(sub)
            if worth and self.feasible(sub):
                found.append(sorted(sub))
            if len(sub) >= self.max_u:
                return True
            ext = list(ext)
            while ext:
                w = ext.pop()
                if a + area[w] > self.max_a + EPS:
                    continue  # so does every larger set with w
                new = [u for u in nbrs[w] if u > v and u not in near]
                if not visit([*sub, w], near | set(nbrs[w]) | {w}, ext + new, v, a + area[w]):
                    return False
            return True

        for v in range(self.n):
            if area[v] > self.max_a + EPS:
                continue
            near = set(nbrs[v]) | {v}
            if not visit([v], near, [u for u in nbrs[v] if u > v], v, area[v]):
                return False
        for b in found:
            pool.setdefault(tuple(b), None)
        return True

    # ------------------------------------------------------------ choice
    # orders for the greedy choice: by objective, or by objective per unit, per square
    # root of units, or per hectare (after polishing, each wins on some problems)
    ORDERS = ("objective", "sqrt", "unit", "area")

    def greedy(self, pool, order="objective", shuffle=False):
        """Disjoint bundles in the given order, the locked-in units' bundles first.

        With ``shuffle``, the locked-in units are served in a random order.
        """
        used: set[int] = set()
        plan = []
        must = sorted(self.must)
        if shuffle:
            must = [must[k] for k in self.rng.permutation(len(must))]
        if order == "objective":
            scored = sorted(pool, key=lambda b: (-self.objective(b), b))
        else:
            area = self.area

            def size(b):
                if order == "unit":
                    return len(b)
                if order == "sqrt":
                    return math.sqrt(len(b))
                return max(EPS, sum(area[j] for j in b))

            scored = sorted(pool, key=lambda b: (-self.objective(b) / size(b), b))
        for u in must:
            if u in used:
                continue
            for b in scored:
                if u in b and used.isdisjoint(b):
                    plan.append(list(b))
                    used.update(b)
                    break
        for b in scored:
            if self.objective(b) <= EPS:
                break
            if used.isdisjoint(b):
                plan.append(list(b))
                used.update(b)
        return plan

    # beyond this many nonzeros HiGHS often cannot even finish the root LP in time
    PACK_MAX_NONZEROS = 30_000

    def swap(self, plan, pool, deadline):
        """Set-packing local search: bring in a pool bundle worth more than those it hits.

        The units freed by the bundles taken out are refilled greedily from the pool.
        Only improving exchanges are made, so the plan never gets worse.
        """
        plan = [tuple(sorted(b)) for b in plan]
        cols = sorted(
            (b for b in pool if self.objective(b) > EPS), key=lambda b: (-self.objective(b), b)
        )
        by_unit: dict[int, list[int]] = {}
        for k, b in enumerate(cols):
            for j in b:
                by_unit.setdefault(j, []).append(k)
        obj = [self.objective(b) for b in cols]
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            owner = self._owner(plan)
            current = set(plan)
            plan_obj = [self.objective(b) for b in plan]
            for k, b in enumerate(cols):
                if b in current:
                    continue
                hit = {owner[j] for j in b if owner[j] >= 0}
                lose = sum(plan_obj[h] for h in hit)
                if obj[k] <= lose + EPS:
                    continue
                freed = {j for h in hit for j in plan[h]}
                if not {j for j in freed if j in self.must} <= set(b):
                    continue
                plan = [p for i, p in enumerate(plan) if i not in hit] + [b]
                used = {j for p in plan for j in p}
                for k2 in sorted({k2 for j in freed - set(b) for k2 in by_unit.get(j, ())}):
                    if used.isdisjoint(cols[k2]):
                        plan.append(cols[k2])
                        used.update(cols[k2])
                improved = True
                break
        return [list(b) for b in plan]

    def pack(self, pool, deadline, exact=False):
        """The best disjoint choice from the pool (set packing MIP), or None.

        With ``exact``, the MIP is solved with no gap and, when it finishes,
        ``self.proven`` is set: the pool then holds every bundle worth having, so
        its optimum is the problem's.
        """
        cols = [b for b in pool if self.objective(b) > EPS or self.must.intersection(b)]
        left = deadline - time.perf_counter()
        if exact and not cols and not self.must:
            self.proven = 0.0
            return []
        if not cols or left < 0.05:
            return None
        covered = {j for b in cols for j in b}
        if not self.must <= covered or sum(map(len, cols)) > self.PACK_MAX_NONZEROS:
            return None
        rows = sorted(covered)
        row_of = {j: i for i, j in enumerate(rows)}
        ri = [row_of[j] for b in cols for j in b]
        ci = [k for k, b in enumerate(cols) for _ in b]
        A = sp.csr_array((np.ones(len(ri)), (ri, ci)), shape=(len(rows), len(cols)))
        lo = np.array([1.0 if j in self.must else 0.0 for j in rows])
        c = -np.array([self.objective(b) for b in cols])
        try:
            res = milp(
                c,
                integrality=np.ones(len(cols)),
                bounds=Bounds(0.0, 1.0),
                constraints=LinearConstraint(A, lo, np.ones(len(rows))),
                options={
                    "time_limit": max(0.05, (1.0 if exact else 0.5) * left),
                    "disp": False,
                    "mip_rel_gap": 0.0 if exact else 1e-4,
                },
            )
        except (ValueError, MemoryError):
            return None
        if res.x is None:
            return None
        plan = [list(cols[k]) for k in np.flatnonzero(res.x > 0.5)]
        if exact and res.status == 0:
            self.proven = self.total(plan)
        return plan

    # ------------------------------------------------------------ polish
    def polish(self, plan, deadline):
        """Local search on a plan: trim, extend, exchange, merge, regrow, drop, fill."""
        plan = [list(b) for b in plan]
        for _ in range(50):
            if time.perf_counter() > deadline:
                break
            before = self.total(plan)
            plan = [self.prune(b) for b in plan]
            plan = self._extend_all(plan, deadline)
            plan = self._exchange_all(plan, deadline)
            plan = self._merge_all(plan, deadline)
            plan = self._regrow_all(plan, deadline)
            plan = [b for b in plan if self.objective(b) > EPS or self.must.intersection(b)]
            plan = self._fill(plan, deadline)
            if self.total(plan) <= before + EPS:
                break
        return plan

    def total(self, plan) -> float:
        return float(sum(self.objective(b) for b in plan))

    def _owner(self, plan):
        owner = [-1] * self.n
        for k, b in enumerate(plan):
            for j in b:
                owner[j] = k
        return owner

    def _extend_all(self, plan, deadline):
        owner = self._owner(plan)
        val = self.val
        for k in range(len(plan)):
            b = plan[k]
            while time.perf_counter() < deadline:
                inb = set(b)
                front = sorted(
                    {x for j in b for x in self.nbrs[j] if owner[x] < 0 and x not in inb},
                    key=lambda x: (-val[x], x),
                )
                add = None
                for x in front:
                    if val[x] <= EPS:
                        break
                    if self.feasible([*b, x]):
                        add = [x]
                        break
                if add is None:
                    # a poor unit is worth adding when it brings a better one along
                    for x in front:
                        if val[x] > EPS:
                            continue
                        for y in self.nbrs[x]:
                            if (
                                owner[y] < 0
                                and y not in inb
                                and y != x
                                and val[x] + val[y] > EPS
                                and self.feasible([*b, x, y])
                            ):
                                add = [x, y]
                                break
                        if add:
                            break
                if add is None:
                    break
                b = [*b, *add]
                for x in add:
                    owner[x] = k
            plan[k] = b
        return plan

    def _exchange_all(self, plan, deadline, max_checks=40):
        """Swap a member for a better free neighbour when limits (units, area) bind."""
        owner = self._owner(plan)
        val = self.val
        for k in range(len(plan)):
            b = plan[k]
            while time.perf_counter() < deadline:
                inb = set(b)
                front = {x for j in b for x in self.nbrs[j] if owner[x] < 0 and x not in inb}
                pairs = sorted(
                    (val[j] - val[x], j, x)
                    for x in front
                    for j in b
                    if j not in self.must and val[x] - val[j] > EPS
                )
                done = None
                for _, j, x in pairs[:max_checks]:
                    nb = [y for y in b if y != j] + [x]
                    if self.feasible(nb):
                        done = (j, x, nb)
                        break
                if done is None:
                    break
                j, x, b = done
                owner[j], owner[x] = -1, k
            plan[k] = b
        return plan

    def _regrow_all(self, plan, deadline, roots_per_bundle=6):
        """Grow each bundle anew around its best members, the others' units blocked."""
        for k in range(len(plan)):
            if time.perf_counter() > deadline:
                break
            b = plan[k]
            if self.must.intersection(b):
                continue  # keep locked-in units where they are
            blocked = {j for i, o in enumerate(plan) if i != k for j in o}
            best, best_val = b, self.objective(b)
            roots = sorted(
                (r for r in b if r in self.roots_set), key=lambda r: (-self.promise[r], r)
            )
            for r in roots[:roots_per_bundle]:
                for lam, gamma in self.VARIANTS:
                    for nb in self.grow(r, lam, gamma, blocked=blocked):
                        v = self.objective(nb)
                        if v > best_val + EPS:
                            best, best_val = nb, v
            plan[k] = list(best)
        return plan

    def _merge_all(self, plan, deadline):
        """Join adjacent bundles (directly or through one free unit) when it pays."""
        if self.bv >= 0:
            return plan
        merged = True
        while merged and time.perf_counter() < deadline:
            merged = False
            owner = self._owner(plan)
            options = []
            for k, b in enumerate(plan):
                for j in b:
                    for x in self.nbrs[j]:
                        o = owner[x]
                        if o > k:
                            options.append((-self.bv, k, o, -1))
                        elif o < 0:
                            for y in self.nbrs[x]:
                                o2 = owner[y]
                                if o2 > k:
                                    gain = -self.bv + self.val[x]
                                    if gain > EPS:
                                        options.append((gain, k, o2, x))
            for _gain, k, o, x in sorted(set(options), key=lambda t: (-t[0], t[1:])):
                union = plan[k] + plan[o] + ([x] if x >= 0 else [])
                if len(union) <= self.max_u and self.feasible(union):
                    plan = [b for i, b in enumerate(plan) if i not in (k, o)] + [union]
                    merged = True
                    break
        return plan

    def _fill(self, plan, deadline):
        """New bundles grown in what the plan leaves free."""
        used = {j for b in plan for j in b}
        free_roots = [r for r in self.roots if r not in used]
        if not free_roots:
            return plan
        pool: dict[tuple[int, ...], None] = {}
        self.generate(pool, deadline, self.VARIANTS[:1], blocked=used, roots=free_roots)
        for b in sorted(pool, key=lambda b: (-self.objective(b), b)):
            if self.objective(b) <= EPS:
                break
            if used.isdisjoint(b):
                plan.append(list(b))
                used.update(b)
        return plan

    # ------------------------------------------------------------ driver
    def _valid_warm(self, warm_start):
        out, used = [], set()
        for b in warm_start or ():
            b = sorted({int(j) for j in b})
            if b and used.isdisjoint(b) and all(0 <= j < self.n for j in b) and self.feasible(b):
                out.append(b)
                used.update(b)
        return out

    def run(self, t0, deadline, warm_start):
        pool: dict[tuple[int, ...], None] = {}
        warm = self._valid_warm(warm_start)
        for b in warm:
            pool.setdefault(tuple(b), None)
        span = deadline - t0
        if self.enumerate_all(pool, t0 + 0.3 * span):
            # small enough to list every feasible bundle: the packing MIP is exact
            plan = self.pack(pool, deadline, exact=True)
            if self.proven is not None:
                return plan, 1, f"every feasible bundle listed ({len(pool)}); exact packing"
        if self.must:
            self.generate_must(pool, t0 + 0.2 * span)
        self.generate(pool, t0 + 0.4 * span, self.VARIANTS)
        plan = self.polish(warm, deadline) if warm else []
        for k, order in enumerate(self.ORDERS):
            if k and time.perf_counter() > t0 + 0.6 * span:
                break
            cand = self.greedy(pool, order)
            cand = self.polish(self.swap(cand, pool, deadline), deadline)
            if self._better(cand, plan) or (not k and not warm):
                plan = cand
        packed = self.pack(pool, t0 + 0.7 * span)
        if packed is not None:
            packed = self.polish(packed, deadline)
            if self._better(packed, plan):
                plan = packed
        rounds = 1
        stale = 0
        # seeded random variants while they pay; stop after two barren rounds. Each
        # round starts from the plan and only takes improving steps.
        while time.perf_counter() < deadline - 0.1 * span:
            # more patience while a locked-in unit is still uncovered
            if stale >= (2 if self._covers_must(plan) else 8):
                break
            rounds += 1
            for b in plan:
                pool.setdefault(tuple(sorted(b)), None)
            lam = float(np.exp(self.rng.uniform(np.log(0.2), np.log(5.0))))
            gamma = float(self.rng.uniform(0.0, 1.0))
            size = len(pool)
            if not self._covers_must(plan):
                self.generate_must(
                    pool, deadline - 0.15 * span, ((lam, gamma),), n_roots=40, noise_level=0.5
                )
            self.generate(pool, deadline - 0.15 * span, ((lam, gamma),), noise_level=0.5)
            if len(pool) == size:
                stale += 1
                continue
            cand = self.swap(plan, pool, deadline)
            other = self.greedy(pool, self.ORDERS[rounds % len(self.ORDERS)], shuffle=True)
            other = self.swap(other, pool, deadline)
            if self._better(other, cand):
                cand = other
            packed = self.pack(pool, deadline - 0.1 * span)
            if packed is not None and self._better(packed, cand):
                cand = packed
            cand = self.polish(cand, deadline)
            if self._better(cand, plan):
                plan, stale = cand, 0
            else:
                stale += 1
        message = f"{len(plan)} bundles from a pool of {len(pool)}"
        if time.perf_counter() >= deadline:
            message += "; time limit reached"
        return plan, rounds, message

    def _covers_must(self, plan) -> bool:
        return self.must <= {j for b in plan for j in b}

    def _better(self, a, b) -> bool:
        ca, cb = self._covers_must(a), self._covers_must(b)
        if ca != cb:
            return ca
        return self.total(a) > self.total(b) + EPS
