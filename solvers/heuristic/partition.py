"""Max-p partition: cover every unit with as many regions of the minimum area as possible.

Regions are grown one at a time from a front of already used units, so that no
pocket is stranded; each region grows by its most enclosed neighbour and finishes
with the neighbour (or pair of neighbours) that overshoots the threshold least.
Leftover pockets join their smallest neighbouring region. The partition is then
improved by opening a new region where surplus area is densest and repairing the
deficit by moving and swapping boundary units between adjacent regions (a descent
on the total deficit, then a tabu search on it), undoing the attempt when it fails.

Only the minimum area applies: a max-p problem (``objective == "max-p"``) has no
candidate, cost, maximum-area or unit-count rule, every unit must be covered, each
region is worth ``bundle_value`` and units are worth nothing (see
:func:`shape_problems`).
"""

from __future__ import annotations

import heapq
import math
import time

import numpy as np

from solvers.heuristic.common import CHECK_TOL, EPS, components, reach
from solvers.problem import BundlingProblem

_PHASES = (("descent",), ("tabu",))
# stagnation rule: an improvement phase ends after this many seconds without a new
# region, so that the time limit is a ceiling rather than the time every run takes
STAGNATION_S = 1.0


def shape_problems(p: BundlingProblem) -> list[str]:
    """What keeps ``p`` from having the max-p shape the partition assumes (empty if none).

    The partition counts regions, covers everything and applies only the minimum
    area; a rule it would ignore is reported here rather than silently broken.
    """
    out = []
    if p.candidates is not None:
        out.append("candidates are set")
    if p.check_cost:
        out.append("check_cost is set")
    if not math.isinf(p.max_area_ha):
        out.append("max_area_ha is finite")
    if p.max_units != 0:
        out.append("max_units is set")
    if not p.bundle_value > 0:
        out.append("bundle_value is not positive")
    if np.any(p.value):
        out.append("units have values")
    return out


def solve_partition(problem, nbrs, rng, t0, deadline):
    n = problem.n
    area = np.asarray(problem.area_min_ha, dtype=float)
    thr = np.asarray(problem.min_area_ha, dtype=float)
    comp = components(n, nbrs)
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
        if least > 2 * CHECK_TOL:
            count_bound += math.floor(positive / (least - CHECK_TOL) + 1e-9)
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
            comp = reach(self.nbrs, min(left), left)
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
        a failed attempt since its neighbourhood last changed, at ``target``, or
        after :data:`STAGNATION_S` seconds without a new region (the time limit is a
        ceiling, not a target).
        """
        tabu: set[int] = set()
        attempts = 0
        repairs = [{"descent": self._descent, "tabu": self._tabu_search}[m] for m in methods]
        last_gain = time.perf_counter()
        while time.perf_counter() < deadline and len(self.units) < target:
            if time.perf_counter() - last_gain > STAGNATION_S:
                break
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
                last_gain = time.perf_counter()
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
