"""Simulated annealing on a plan: units move between bundles and the free pool one at a time.

The column-generation searches re-solve whole regions, a few per second. Most of what
a plan of full bundles leaves on the table is small: a paying free unit next to a
bundle that holds a connector of negative value, a bundle boundary one unit off. This
search makes such moves by the hundred thousand. One move picks a unit ``i`` and a
neighbour ``j`` in another bundle (or free):

* ``i`` leaves its bundle (or the free pool) and joins ``j``'s (or becomes free);
* when ``j``'s bundle is at its unit limit, the member of least value among a few
  drawn at random leaves it for the free pool (a swap);
* the move stands only when every bundle it touches stays feasible (connected, a
  valid root, area, unit and cost limits; locked-in units never become free), and
  the plan's value then rises, or falls by ``d`` with probability ``exp(-d / T)``.

The temperature ``T`` falls geometrically over the time given, from half the mean
value of a paying unit to a fiftieth of it, so the search wanders first and climbs
last. It ends at the deadline, or sooner after :data:`IDLE_DRAWS` draws in a row that
moved nothing. Bundles may vanish but no new one starts (one unit is rarely a bundle): the
searches around it create bundles. The best plan seen is returned after a check of
every bundle against :meth:`~solvers.problem.BundlingProblem.bundle_violations`;
should any fail, the input plan comes back unchanged.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from solvers.heuristic.common import is_connected, neighbours
from solvers.problem import BundlingProblem

# temperatures at the start and at the end, as shares of the mean paying unit's value
HOT, COLD = 0.5, 0.02
# members drawn when a full bundle must give one up (the least valuable that can go)
EVICT_DRAWS = 4
# moves between two looks at the clock
CLOCK_EVERY = 256
# the search stops early after this many draws in a row that moved nothing: every move
# left breaks a rule or the plan has nothing to move (a small group is done in
# milliseconds, and its time goes to the searches after it)
IDLE_DRAWS = 50_000


def anneal_plan(
    problem: BundlingProblem,
    plan: Sequence[Sequence[int]],
    until: float,
    seed: int,
    nbrs: list[list[int]] | None = None,
) -> list[tuple[int, ...]]:
    """The best plan the annealing finds from ``plan`` before ``until``.

    Parameters
    ----------
    problem : BundlingProblem
    plan : sequence of sequence of int
        Feasible, disjoint bundles to start from.
    until : float
        ``time.perf_counter()`` deadline.
    seed : int
        Seed of the move draws: the same seed and the same number of moves give the
        same plan.
    nbrs : list of list of int, optional
        Adjacency lists (:func:`~solvers.heuristic.common.neighbours`), if already built.

    Returns
    -------
    list of tuple of int
        Feasible, disjoint bundles with a value at least that of ``plan``.
    """
    start = [tuple(sorted(int(j) for j in b)) for b in plan]
    paying = np.asarray(problem.value, float)
    paying = paying[paying > 0]
    if not start or not len(paying) or time.perf_counter() >= until:
        return start
    nbrs = neighbours(problem.n, problem.edges) if nbrs is None else nbrs
    state = _State(problem, nbrs, start)
    best = state.search(until, float(paying.mean()), random.Random(seed))
    g = problem.graph()
    if any(problem.bundle_violations(b, g) for b in best):
        return start  # a slip of the bookkeeping must not reach a plan
    return best


class _State:
    """Bundles as member sets with running sums, and the moves on them."""

    def __init__(self, p: BundlingProblem, nbrs, plan) -> None:
        self.p, self.nbrs = p, nbrs
        n = p.n
        self.value = np.asarray(p.value, float)
        self.area_min = np.asarray(p.area_min_ha, float)
        self.area = np.asarray(p.area_ha, float)
        self.slack = np.asarray(p.slack, float)
        self.locked = np.asarray(p.must_cover, bool)
        self.max_units = p.max_units or n
        if p.candidates is not None:
            # accepts[r, j]: j may join a bundle rooted at r; by_unit[j]: those roots
            rows = np.repeat(np.arange(n), [len(c) for c in p.candidates])
            cols = np.concatenate([np.asarray(c, int) for c in p.candidates]) if n else rows
            self.accepts = sp.csr_array((np.ones(len(rows), bool), (rows, cols)), shape=(n, n))
            csc = self.accepts.tocsc()
            self.by_unit = [csc.indices[csc.indptr[j] : csc.indptr[j + 1]] for j in range(n)]
            self._keys = rows.astype(np.int64) * n + cols
            self._keys.sort()
        self.owner = np.full(n, -1)
        self.members: list[set[int]] = []
        self.count: list[np.ndarray] = []  # count[b][r]: members that root r accepts
        self.sums: list[list[float]] = []  # area_min, area, slack of each bundle
        for b, units in enumerate(plan):
            idx = np.asarray(units, int)
            self.owner[idx] = b
            self.members.append(set(units))
            if p.candidates is not None:
                counts = np.asarray(self.accepts[:, idx].sum(axis=1)).ravel()
                self.count.append(counts.astype(np.int32))
            sums = [self.area_min[idx].sum(), self.area[idx].sum(), self.slack[idx].sum()]
            self.sums.append(sums)

    def _accepted(self, roots: np.ndarray, unit: int) -> np.ndarray:
        keys = roots.astype(np.int64) * self.p.n + unit
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return self._keys[pos] == keys

    def _feasible(self, b: int, units: set[int], added: int, removed: int, sums) -> bool:
        """Whether bundle ``b`` with ``added`` in and ``removed`` out (-1: none) is feasible."""
        p = self.p
        if len(units) > self.max_units or sums[1] > p.max_area_ha:
            return False
        if p.check_cost and p.bundle_slack + sums[2] > 0.0:
            return False
        roots = np.fromiter(units, int, len(units))
        if p.candidates is not None:
            counts = self.count[b][roots]
            if added >= 0:
                counts = counts + self._accepted(roots, added)
            if removed >= 0:
                counts = counts - self._accepted(roots, removed)
            roots = roots[counts == len(units)]
            if not len(roots):
                return False
        return sums[0] >= float(self.p.min_area_ha[roots].min())

    def _shifted(self, b: int, unit: int, sign: int, sums=None) -> list[float]:
        base = self.sums[b] if sums is None else sums
        return [
            base[0] + sign * self.area_min[unit],
            base[1] + sign * self.area[unit],
            base[2] + sign * self.slack[unit],
        ]

    def _propose(self, i: int, j: int, rng: random.Random):
        """The move of ``i`` into ``j``'s place: (gain, evicted unit or -1), or None."""
        s, t = int(self.owner[i]), int(self.owner[j])
        gain, evicted = 0.0, -1
        if s >= 0:
            if t < 0 and self.locked[i]:
                return None
            rest = self.members[s] - {i}
            if rest:
                if not is_connected(self.nbrs, rest):
                    return None
                if not self._feasible(s, rest, -1, i, self._shifted(s, i, -1)):
                    return None
            else:
                gain -= self.p.bundle_value
            gain -= self.value[i]
        if t >= 0:
            grown = self.members[t] | {i}
            sums = self._shifted(t, i, +1)
            if len(grown) > self.max_units:
                drawn = rng.sample(sorted(self.members[t]), min(EVICT_DRAWS, len(self.members[t])))
                for u in sorted(drawn, key=lambda u: self.value[u]):
                    if u != j and not self.locked[u] and is_connected(self.nbrs, grown - {u}):
                        evicted = u
                        break
                if evicted < 0:
                    return None
                grown.discard(evicted)
                sums = self._shifted(t, evicted, -1, sums)
                gain -= self.value[evicted]
            if not self._feasible(t, grown, i, evicted, sums):
                return None
            gain += self.value[i]
        return gain, evicted

    def _move(self, unit: int, src: int, dst: int) -> None:
        if src >= 0:
            self.members[src].discard(unit)
            self.sums[src] = self._shifted(src, unit, -1)
            if self.p.candidates is not None:
                self.count[src][self.by_unit[unit]] -= 1
        if dst >= 0:
            self.members[dst].add(unit)
            self.sums[dst] = self._shifted(dst, unit, +1)
            if self.p.candidates is not None:
                self.count[dst][self.by_unit[unit]] += 1
        self.owner[unit] = dst

    def _plan(self, owner: np.ndarray) -> list[tuple[int, ...]]:
        order = np.argsort(owner, kind="stable")
        cuts = np.searchsorted(owner[order], np.arange(len(self.members) + 1))
        out = [tuple(sorted(order[a:b].tolist())) for a, b in itertools.pairwise(cuts) if b > a]
        return sorted(out)

    def search(self, until: float, scale: float, rng: random.Random) -> list[tuple[int, ...]]:
        """Anneal until ``until``; the best plan seen."""
        n, nbrs = self.p.n, self.nbrs
        t0 = time.perf_counter()
        span = max(until - t0, 1e-9)
        hot, cold = HOT * scale, COLD * scale
        temp, gained, best_gain, best_owner = hot, 0.0, 0.0, self.owner.copy()
        moves = last_move = 0
        while True:
            moves += 1
            if moves % CLOCK_EVERY == 0:
                now = time.perf_counter()
                if now >= until or moves - last_move > IDLE_DRAWS:
                    break
                temp = hot * (cold / hot) ** ((now - t0) / span)
            i = rng.randrange(n)
            if not nbrs[i]:
                continue
            j = nbrs[i][rng.randrange(len(nbrs[i]))]
            if self.owner[i] == self.owner[j]:
                continue
            found = self._propose(i, j, rng)
            if found is None:
                continue
            gain, evicted = found
            if gain < 0 and rng.random() >= math.exp(gain / temp):
                continue
            dst = int(self.owner[j])
            if evicted >= 0:
                self._move(evicted, dst, -1)
            self._move(i, int(self.owner[i]), dst)
            last_move = moves
            gained += gain
            if gained > best_gain + 1e-9 * scale:
                best_gain, best_owner = gained, self.owner.copy()
        return self._plan(best_owner)
