"""Selection: choose disjoint feasible bundles of best total value (npv and credits).

A small problem (up to 20,000 connected unit sets) has every feasible bundle listed,
and a set-packing MIP over them (HiGHS via :func:`scipy.optimize.milp`, no gap) is
then exact: the answer is ``OPTIMAL``. Otherwise candidate bundles are grown from
every unit that may be a root, adding the frontier unit with the best value plus a
reward for progress toward the minimum area and the cost test, and keeping a few
feasible prefixes; a few scorings, then seeded random ones, give a pool. Disjoint
subsets are chosen greedily in several orders, improved by exchanges with the pool
(and by the packing MIP when the pool is small), then polished: drop negative
units, add positive ones, swap members for better neighbours, merge adjacent
bundles (saving a bundle's fixed cost), regrow each bundle with the others fixed,
grow new bundles in what is left. ``warm_start`` bundles join the pool and are the
plan to beat.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from solvers.heuristic.common import CHECK_TOL, EPS, components, is_connected
from solvers.problem import BundlingProblem


def selection_bound(p: BundlingProblem, nbrs) -> float:
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
    comp = components(p.n, nbrs)
    count = 0
    for c in range(comp.max() + 1 if p.n else 0):
        idx = comp == c
        least = float(p.min_area_ha[idx].min())
        total = float(np.clip(p.area_min_ha[idx], 0.0, None).sum())
        if least > 2 * CHECK_TOL:
            count += min(int(idx.sum()), math.floor(total / (least - CHECK_TOL) + 1e-9))
        else:
            count += int(idx.sum())
    return units + float(p.bundle_value) * count


def grow_bundles(problem: BundlingProblem, nbrs, rng, deadline: float, roots=None, variants=None):
    """Feasible bundles grown from ``roots`` by the selection's scorings (column generation).

    Parameters
    ----------
    problem : BundlingProblem
        Its ``value`` ranks units during growth: pass reduced values (value minus
        price) to grow bundles that pay at those prices; ``slack`` and the limits
        keep every bundle feasible.
    nbrs : list of list of int
        Adjacency lists.
    rng : numpy.random.Generator
    deadline : float
        ``time.perf_counter()`` value at which to stop.
    roots : sequence of int, optional
        Roots to grow from, most promising first; default every root.
    variants : sequence of (float, float), optional
        ``(area weight, look-ahead weight)`` scorings; default the selection's three.

    Returns
    -------
    list of tuple of int
        Distinct feasible bundles, each sorted.
    """
    sel = _Selector(problem, nbrs, rng)
    pool: dict[tuple[int, ...], None] = {}
    roots = sel.roots if roots is None else [r for r in roots if r in sel.roots_set]
    for lam, gamma in variants or sel.VARIANTS:
        for r in roots:
            if time.perf_counter() > deadline:
                break
            for b in sel.grow(r, lam, gamma):
                pool.setdefault(tuple(sorted(b)), None)
    return [b for b in pool if sel.feasible(b)]


def solve_selection(problem, nbrs, rng, t0, deadline, warm_start):
    bound = selection_bound(problem, nbrs)
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
        return is_connected(self.nbrs, set(b))

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

    def generate(
        self, pool, deadline, variants, noise_level=0.0, blocked=None, roots=None, patience=4
    ):
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
                for b in self.grow(r, lam, gamma, noise, blocked, patience=patience):
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
        self.generate(pool, t0 + 0.35 * span, self.VARIANTS)
        # long growth too: a bundle may pay only after a long run of poor units (a
        # greedy growth to the unit limit found better plans on clustered landscapes)
        self.generate(pool, t0 + 0.45 * span, self.VARIANTS[:1], patience=self.max_u)
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
