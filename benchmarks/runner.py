"""The benchmark suite: every backend and variant on seeded instances, plus peer comparisons.

    python -m benchmarks --quick --out bench-out
    python -m benchmarks --full --time-limit 60 --out bench-full

Each run (one solver and variant on one instance) happens in a fresh process
(forked from a fork server that imported the libraries once; ``spawn`` is the
alternative, see :func:`run_isolated`), so its peak memory is its own: ``peak_mem_mb`` is the
larger of the process's own peak resident set and that of the processes it
waited for (CBC runs as a child executable); ``base_mem_mb`` is the peak before
the solve started (interpreter, libraries and the loaded instance). A run that
overruns its time limit by far is killed and recorded as an error.

What is run on each instance (see :mod:`benchmarks.instances` for the families):

NPV objective (the product's default)
    * every available MIP backend, variant ``warm``: the planner itself
      (:func:`bundler.planning.planner.plan_bundles`): heuristic warm start, then
      the rooted MIP and column generation on components up to ``exact_max_units``
      (column generation alone above that, see :func:`solvers.api.solve_bundling`);
    * every available MIP backend, variant ``cold``: the same components solved
      by the MIP without a warm start, with the planner's time split; recorded as
      skipped when a component is above ``exact_max_units`` (the planner gives
      those column generation only, never the rooted MIP);
    * ``heuristic``, variant ``planner``: the planner with the heuristic backend;
    * ``greedy``, variant ``baseline``: :mod:`benchmarks.greedy`.
Max-p (the tessellations: grid, Voronoi, dense and counties families; touching adjacency,
10,000 ha threshold, counties 300,000 ha)
    * ``heuristic``: ``build_problems(..., objective="max-p")`` then
      ``solve_bundling(problem, "heuristic")``;
    * ``highs`` variant ``warm``: the exact MIP with the heuristic's warm start,
      on instances up to ``maxp_exact_max_n`` units (the rooted model has n²
      variables; larger ones are recorded as skipped);
    * ``spopt``: PySAL spopt ``MaxPHeuristic`` on the same units, areas,
      threshold and adjacency (libpysal ``Queen.from_dataframe``, which equals our
      touching graph: checked and noted), up to ``spopt_max_n`` units;
    * ``pygeoda``: GeoDa's greedy max-p (``pygeoda.maxp_greedy``, one thread by
      default, ``pygeoda_iterations`` iterations) on the same units, areas and
      threshold with GeoDa's queen weights (compared with our touching graph and
      noted), up to ``pygeoda_max_n`` units; units in groups of neighbours that cannot
      reach the threshold (in no problem of ours) are left out, as GeoDa would not
      return on them. Recorded as skipped when pygeoda is not installed.
    Max-p times are solve times only (problem and weights building excluded,
    noted); NPV times are the planner's whole run (problem building included).

Each family plans under its own settings (:data:`benchmarks.families.FAMILY_SETTINGS`:
gap rule, minimum and maximum area, radius, carbon price); NPV rows name them in
``settings``.

Outputs in ``--out``: ``results.csv`` (tidy, one row per run), ``results.md``,
``plot.png`` (time and gap against n, per solver), ``maxp.png`` and
``machine.txt``; instances are pickled under ``instances/``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import math
import multiprocessing as mp
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

COLUMNS = [
    "instance",
    "family",
    "n",
    "solver",
    "variant",
    "objective_kind",
    "termination",
    "objective",
    "bound",
    "gap",
    "runtime_s",
    "peak_mem_mb",
    "n_bundles",
    "base_mem_mb",
    "time_limit_s",
    "seed",
    "settings",
    "note",
]
QUICK_SIZES = (100, 300, 1000)
QUICK_COLD_MAX_UNITS = 300
FULL_SIZES = (100, 300, 1000, 3000, 10_000, 15_000)
MIP_BACKENDS = ("highs", "cbc", "cpsat")
HEADLINE = ("voronoi", 3000)  # docs/domain.md's spopt figure
PEERS = ("spopt", "pygeoda")  # max-p peers: no time limit of ours applies


@dataclass
class Config:
    """What one benchmark run covers (the command line's options)."""

    out: Path = Path("bench-out")
    mode: str = "quick"
    sizes: tuple[int, ...] = QUICK_SIZES
    families: tuple[str, ...] = ("grid", "voronoi", "generated")
    solvers: tuple[str, ...] | None = None  # None: every available backend
    time_limit: float = 5.0
    seed: int = 0
    seeds: tuple[int, ...] | None = None  # several instance seeds (default: (seed,))
    threads: int = 1
    greedy: bool = True
    cold: bool = True
    maxp: bool = True
    maxp_exact_max_n: int = 300
    spopt: bool = True
    spopt_max_n: int = 3000
    spopt_construction: int = 10
    spopt_sa: int = 1
    spopt_top_n: int = 2
    pygeoda: bool = True
    pygeoda_iterations: int = 99  # GeoDa's default
    pygeoda_max_n: int = 15_000
    headline: bool = True
    headline_construction: int = 99  # spopt's own default
    headline_sa: int = 1
    plot: bool = True
    command: str = ""
    rows: list[dict] = field(default_factory=list)


# ------------------------------------------------------------------ worker side


def _peak_mb() -> float:
    """Peak RSS of this process and of the children it waited for, MiB (Linux: KiB units)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


def _row(spec: dict, **values) -> dict:
    row = dict.fromkeys(COLUMNS)
    row.update(
        instance=spec["instance"],
        family=spec["family"],
        n=spec["n"],
        solver=spec["solver"],
        variant=spec["variant"],
        objective_kind=spec["part"],
        time_limit_s=spec.get("time_limit"),
        seed=spec.get("seed"),
        settings=spec.get("settings", ""),
    )
    row.update(values)
    return row


def _aggregate(results) -> tuple[str, float | None, float | None]:
    """Like the planner: optimal only when every piece is; objective None if any piece has none."""
    from solvers.base import Termination

    if not results:
        return Termination.OPTIMAL.value, 0.0, 0.0
    objs = [r.objective for r in results]
    bounds = [r.bound for r in results]
    obj = None if any(o is None for o in objs) else float(sum(objs))
    bound = None if any(b is None for b in bounds) else float(sum(bounds))
    if all(r.termination == Termination.OPTIMAL for r in results):
        term = Termination.OPTIMAL
    elif obj is not None:
        term = Termination.FEASIBLE
    else:
        term = Termination.NO_SOLUTION
    return term.value, obj, bound


def _term_counts(results) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.termination.value] = counts.get(r.termination.value, 0) + 1
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))


def _violations(problem, bundles) -> int:
    g = problem.graph()
    return sum(1 for b in bundles if problem.bundle_violations(b, g))


def _params(spec: dict, time_limit: float):
    from solvers.base import SolveParams

    return SolveParams(time_limit=time_limit, seed=spec["seed"], threads=spec["threads"])


def _npv_planner(spec, inst) -> dict:
    from bundler.planning.planner import plan_bundles
    from solvers.base import relative_gap

    scen = inst.scenario
    t0 = time.perf_counter()
    plan = plan_bundles(
        inst.units,
        inst.graph,
        scen,
        scen.graph.max_gap_m,
        solver=spec["solver"],
        params=_params(spec, spec["time_limit"]),
    )
    runtime = time.perf_counter() - t0
    res = [r for _, r in plan.component_results]
    note = f"{len(res)} components: {_term_counts(res)}"
    cap = scen.bundling.exact_max_units
    big = [k for k, _ in plan.component_results if k > cap]
    if spec["solver"] != "heuristic" and big:
        note += (
            f"; column generation only on {len(big)} component(s) of {sum(big)} units "
            f"(> exact_max_units={cap})"
        )
    return _row(
        spec,
        termination=plan.termination.value,
        objective=plan.objective,
        bound=plan.bound,
        gap=relative_gap(plan.objective, plan.bound),
        runtime_s=runtime,
        n_bundles=len(plan.bundles),
        note=note,
    )


def _npv_pieces(spec, inst, solve_one) -> dict:
    """Solve each component with ``solve_one(problem, budget)``, the planner's time split."""
    from bundler.planning.problem_builder import build_problems
    from solvers.base import relative_gap

    t0 = time.perf_counter()
    pset = build_problems(inst.units, inst.graph, inst.scenario)
    order = sorted(range(len(pset.problems)), key=lambda k: (pset.problems[k].n, k))
    results, bad = [], 0
    for rank, k in enumerate(order):
        problem = pset.problems[k]
        remaining = sum(pset.problems[q].n for q in order[rank:])
        left = spec["time_limit"] - (time.perf_counter() - t0)
        budget = max(1.0, left * problem.n / max(remaining, 1))
        res = solve_one(problem, budget)
        bad += _violations(problem, res.bundles)
        results.append(res)
    runtime = time.perf_counter() - t0
    term, obj, bound = _aggregate(results)
    note = f"{len(results)} components: {_term_counts(results)}"
    if bad:
        note += f"; {bad} INFEASIBLE bundles"
        term = "error"
    return _row(
        spec,
        termination=term,
        objective=obj,
        bound=bound,
        gap=relative_gap(obj, bound),
        runtime_s=runtime,
        n_bundles=sum(len(r.bundles) for r in results),
        note=note,
    )


def _npv_cold(spec, inst) -> dict:
    from solvers.api import solve_bundling

    rounds = inst.scenario.bundling.max_cut_rounds
    return _npv_pieces(
        spec,
        inst,
        lambda p, budget: solve_bundling(
            p, spec["solver"], _params(spec, budget), warm_start=None, max_rounds=rounds
        ),
    )


def _npv_greedy(spec, inst) -> dict:
    from benchmarks.greedy import solve_greedy

    return _npv_pieces(spec, inst, lambda p, budget: solve_greedy(p, budget))


def _maxp_problems(inst):
    from bundler.planning.problem_builder import build_problems

    return build_problems(inst.maxp_units, inst.maxp_graph, inst.maxp_scenario, "max-p")


def _maxp_ours(spec, inst) -> dict:
    from solvers.api import solve_bundling
    from solvers.base import relative_gap

    t0 = time.perf_counter()
    pset = _maxp_problems(inst)
    build_s = time.perf_counter() - t0
    results, bad, covered = [], 0, 0
    t0 = time.perf_counter()
    for problem in pset.problems:
        budget = spec["time_limit"]
        if spec["solver"] == "heuristic":
            res = solve_bundling(problem, "heuristic", _params(spec, budget))
        else:
            warm = solve_bundling(problem, "heuristic", _params(spec, max(0.2, 0.1 * budget)))
            res = solve_bundling(
                problem,
                spec["solver"],
                _params(spec, max(0.5, budget - warm.runtime_s)),
                warm_start=[list(b) for b in warm.bundles] or None,
                max_rounds=inst.maxp_scenario.bundling.max_cut_rounds,
            )
        bad += _violations(problem, res.bundles)
        covered += sum(len(b) for b in res.bundles)
        results.append(res)
    runtime = time.perf_counter() - t0
    term, obj, bound = _aggregate(results)
    n_units = sum(p.n for p in pset.problems)
    note = (
        f"solve time only (problem built in {build_s:.2f} s); {len(results)} component(s); "
        f"{covered} of {n_units} units covered"
    )
    if bad or covered != n_units:
        note += f"; {bad} INVALID regions"
        term = "error"
    return _row(
        spec,
        termination=term,
        objective=obj,
        bound=bound,
        gap=relative_gap(obj, bound),
        runtime_s=runtime,
        n_bundles=sum(len(r.bundles) for r in results),
        note=note,
    )


def _maxp_layout(inst, pset):
    """Row positions of the max-p units, their areas as our problems use them, and where.

    Returns ``ids``, ``pos`` (id -> row), ``area`` (our problems' ``area_min_ha``, 0 for a
    unit in no problem) and ``where`` (row -> (problem, local index)).
    """
    ids = inst.maxp_units["unit_id"].astype(str).to_numpy()
    pos = {u: i for i, u in enumerate(ids)}
    # the very areas our problem uses (rounded down to 0.01 ha by build_problems)
    area = np.zeros(len(ids))
    where: dict[int, tuple[int, int]] = {}
    for k, p in enumerate(pset.problems):
        for j, u in enumerate(p.unit_ids):
            area[pos[u]] = p.area_min_ha[j]
            where[pos[u]] = (k, j)
    return ids, pos, area, where


def _invalid_regions(pset, where, regions) -> int:
    """Regions (lists of rows) that break a rule of our problem (connected, area, one piece)."""
    bad = 0
    graphs = [p.graph() for p in pset.problems]
    for members in regions:
        ks = {where[i][0] for i in members if i in where}
        if len(ks) != 1 or len(members) != sum(1 for i in members if i in where):
            bad += 1
            continue
        k = ks.pop()
        local = [where[i][1] for i in members]
        bad += bool(pset.problems[k].bundle_violations(local, graphs[k]))
    return bad


def _area_bound(pset) -> int:
    return sum(math.floor(p.area_min_ha.sum() / p.min_area_ha.min()) for p in pset.problems)


def _maxp_spopt(spec, inst) -> dict:
    import libpysal
    from spopt.region import MaxPHeuristic

    s = json.loads(spec["settings_json"])
    pset = _maxp_problems(inst)
    _ids, pos, area, where = _maxp_layout(inst, pset)
    gdf = inst.maxp_units[["unit_id", "geometry"]].copy()
    gdf["area"] = area
    gdf["attr"] = np.random.default_rng([spec["seed"], 3]).random(len(gdf))
    t0 = time.perf_counter()
    w = libpysal.weights.Queen.from_dataframe(gdf, use_index=False)
    w_s = time.perf_counter() - t0
    theirs = {(min(i, j), max(i, j)) for i, ns in w.neighbors.items() for j in ns}
    ours = {(min(pos[a], pos[b]), max(pos[a], pos[b])) for a, b in inst.maxp_graph.edges()}
    # spopt draws from numpy's legacy global generator: seed it from the run's seed
    np.random.seed(int(np.random.default_rng([spec["seed"], 4]).integers(2**31)))
    t0 = time.perf_counter()
    model = MaxPHeuristic(
        gdf,
        w,
        ["attr"],
        "area",
        float(inst.maxp_scenario.bundling.min_area_ha),
        top_n=s["top_n"],
        max_iterations_construction=s["max_iterations_construction"],
        max_iterations_sa=s["max_iterations_sa"],
    )
    model.solve()
    runtime = time.perf_counter() - t0
    labels = np.asarray(model.labels_)
    regions: dict = {}
    for i, lab in enumerate(labels):
        regions.setdefault(lab, []).append(i)
    bad = _invalid_regions(pset, where, regions.values())
    note = (
        f"solve time only (Queen weights built in {w_s:.2f} s; "
        f"{len(ours ^ theirs)} edges differ from our touching graph); "
        f"spopt p={model.p}; area bound {_area_bound(pset)}; "
        f"{len(regions)} regions checked, {bad} invalid"
    )
    return _row(
        spec,
        termination="feasible" if not bad else "error",
        objective=float(len(regions)),
        bound=None,
        gap=None,
        runtime_s=runtime,
        n_bundles=len(regions),
        note=note,
    )


def _maxp_pygeoda(spec, inst) -> dict:
    from benchmarks.bench_maxp import pygeoda_maxp

    s = json.loads(spec["settings_json"])
    pset = _maxp_problems(inst)
    _ids, pos, area, where = _maxp_layout(inst, pset)
    # units in no problem of ours sit in groups that cannot reach the threshold: GeoDa's
    # maxp_greedy does not return on those, so they are left out (they are in no region
    # of any method)
    keep = np.array(sorted(where), dtype=int)
    attr = np.random.default_rng([spec["seed"], 3]).random(len(area))
    out = pygeoda_maxp(
        inst.maxp_units.geometry.values[keep],
        area[keep],
        float(inst.maxp_scenario.bundling.min_area_ha),
        attr=attr[keep],
        seed=int(np.random.default_rng([spec["seed"], 5]).integers(1, 2**31)),
        threads=s["cpu_threads"],
        iterations=s["iterations"],
    )
    regions = [keep[r].tolist() for r in out["regions"]]
    theirs = {(int(keep[i]), int(keep[j])) for i, j in out["edges"]}
    kept = set(keep.tolist())
    ours = {
        (min(pos[a], pos[b]), max(pos[a], pos[b]))
        for a, b in inst.maxp_graph.edges()
        if pos[a] in kept and pos[b] in kept
    }
    bad = _invalid_regions(pset, where, regions)
    unassigned = int((out["labels"] == 0).sum())
    note = (
        f"solve time only (queen weights built in {out['weights_s']:.2f} s; "
        f"{len(ours ^ theirs)} edges differ from our touching graph); "
        f"{len(area) - len(keep)} units in groups below the threshold left out; "
        f"area bound {_area_bound(pset)}; {len(regions)} regions checked, {bad} invalid; "
        f"{unassigned} units in no region"
    )
    return _row(
        spec,
        termination="feasible" if not bad else "error",
        objective=float(len(regions)),
        bound=None,
        gap=None,
        runtime_s=out["runtime_s"],
        n_bundles=len(regions),
        note=note,
    )


TASKS = {
    ("npv", "warm"): _npv_planner,
    ("npv", "planner"): _npv_planner,
    ("npv", "cold"): _npv_cold,
    ("npv", "baseline"): _npv_greedy,
    ("max-p", "heuristic"): _maxp_ours,
    ("max-p", "warm"): _maxp_ours,
}


def run_task(spec: dict) -> dict:
    """Run one benchmark task in this process (the worker calls it); returns a CSV row."""
    import warnings

    from benchmarks.instances import load_instance

    warnings.filterwarnings("ignore")
    inst = load_instance(spec["instance_path"])
    base = _peak_mb()
    if spec["solver"] == "spopt":
        row = _maxp_spopt(spec, inst)
    elif spec["solver"] == "pygeoda":
        row = _maxp_pygeoda(spec, inst)
    else:
        row = TASKS[(spec["part"], spec["variant"])](spec, inst)
    row["base_mem_mb"] = base
    over = (row.get("runtime_s") or 0.0) - spec["time_limit"]
    if spec["solver"] not in PEERS and over > max(1.0, 0.1 * spec["time_limit"]):
        row["note"] = f"{row.get('note') or ''}; OVER the time limit by {over:.1f} s"
    return row


def _child(conn, spec: dict) -> None:
    try:
        row = run_task(spec)
    except Exception as exc:  # recorded, not hidden
        row = _row(spec, termination="error", note=f"{type(exc).__name__}: {exc}"[:300])
    row["peak_mem_mb"] = _peak_mb()
    conn.send(row)
    conn.close()


# imported once by the fork server, so that each run's fresh process starts in a
# fraction of a second instead of importing geopandas, OR-Tools ... again (5 s and
# more); spopt and pygeoda are not preloaded, so our runs' memory does not include them
PRELOAD = [
    "benchmarks.runner",
    "benchmarks.instances",
    "benchmarks.greedy",
    "bundler.planning.planner",
    "solvers.api",
    "solvers.heuristic",
    "solvers.mip.highs",
    "solvers.mip.cbc",
    "solvers.mip.cpsat",
]
START_METHOD = "forkserver"


def _context(method: str | None = None):
    ctx = mp.get_context(method or START_METHOD)
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)
    return ctx


def run_isolated(spec: dict, timeout: float, start_method: str | None = None) -> dict:
    """Run :func:`run_task` in a fresh process; kill it after ``timeout`` seconds.

    The process comes from a fork server (default) that imported the libraries
    once, or is spawned (``start_method="spawn"``); either way it is new for this
    run, so its peak memory is this run's alone.
    """
    ctx = _context(start_method)
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, spec), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    send.close()
    row = None
    try:
        if recv.poll(timeout):
            row = recv.recv()
    except EOFError:
        row = None
    proc.join(10)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if row is None:
        waited = time.perf_counter() - t0
        why = (
            f"killed after {waited:.0f} s without an answer"
            if waited >= timeout
            else f"worker died (exit code {proc.exitcode})"
        )
        row = _row(spec, termination="error", runtime_s=waited, note=why)
    return row


# ------------------------------------------------------------------ driver side


def _spec(cfg: Config, inst, path: Path, part: str, solver: str, variant: str, settings: str):
    return {
        "instance_path": str(path),
        "instance": inst.name,
        "family": inst.family,
        "n": inst.n,
        "part": part,
        "solver": solver,
        "variant": variant,
        "time_limit": cfg.time_limit,
        "seed": inst.seed,
        "threads": cfg.threads,
        "settings": settings,
    }


def _spopt_available() -> str:
    """Empty when spopt and libpysal import; otherwise why not."""
    try:
        import libpysal  # noqa: F401
        import spopt.region  # noqa: F401
    except ImportError as exc:
        return f"spopt not installed ({exc}); pip install -e '.[bench]'"
    return ""


def _pygeoda_available() -> str:
    """Empty when pygeoda imports; otherwise why not."""
    try:
        import pygeoda  # noqa: F401
    except ImportError as exc:
        return f"pygeoda not installed ({exc}); pip install -e '.[bench]'"
    return ""


def _plan_tasks(cfg: Config, inst, path: Path, npv: bool = True, headline: bool = False):
    """Yield ``(spec, skip_reason)`` for one instance (``headline``: spopt's headline settings)."""
    from benchmarks.families import settings_text
    from solvers.registry import available_backends

    avail = [b.name for b in available_backends()]
    wanted = list(cfg.solvers) if cfg.solvers else avail
    mips = [s for s in wanted if s in MIP_BACKENDS]
    mip_set = f"threads={cfg.threads}, rel_gap=1e-4, seed={inst.seed}"
    # NPV rows name the family's planning settings (max-p uses its own threshold, gap 0)
    scen = settings_text(inst.family)
    scen = f"; scenario: {scen}" if scen else ""
    npv_set = mip_set + scen
    if npv:
        cap = inst.scenario.bundling.exact_max_units
        largest = inst.component_sizes[0] if inst.component_sizes else 0
        for s in mips:
            if s not in avail:
                yield _spec(cfg, inst, path, "npv", s, "warm", npv_set), "backend not available"
                continue
            yield _spec(cfg, inst, path, "npv", s, "warm", npv_set), ""
            if not cfg.cold:
                continue
            skip = ""
            if largest > cap:
                skip = (
                    f"a component of {largest} units is above exact_max_units={cap}; "
                    "the planner gives it column generation only, never the rooted MIP"
                )
            elif cfg.mode == "quick" and inst.n > QUICK_COLD_MAX_UNITS:
                # without a warm start the MIPs find nothing at this size in a quick
                # run's limit (measured); the full mode runs them
                skip = f"quick mode runs the cold variant up to {QUICK_COLD_MAX_UNITS} units"
            yield _spec(cfg, inst, path, "npv", s, "cold", npv_set), skip
        if "heuristic" in wanted:
            h_set = f"seed={inst.seed}{scen}"
            yield _spec(cfg, inst, path, "npv", "heuristic", "planner", h_set), ""
        if cfg.greedy:
            g_set = f"lazy greedy, no search{scen}"
            yield _spec(cfg, inst, path, "npv", "greedy", "baseline", g_set), ""
    if cfg.maxp and inst.maxp_units is not None:
        yield (
            _spec(cfg, inst, path, "max-p", "heuristic", "heuristic", f"seed={inst.seed}"),
            "",
        )
        exact = next((s for s in ("highs", "cpsat", "cbc") if s in mips), None)
        if exact:
            skip = ""
            if inst.n > cfg.maxp_exact_max_n:
                skip = (
                    f"rooted max-p model has n^2 = {inst.n**2:,} assignment variables; "
                    f"exact max-p run up to {cfg.maxp_exact_max_n} units"
                )
            yield _spec(cfg, inst, path, "max-p", exact, "warm", mip_set), skip
        if cfg.spopt:
            settings = {
                "top_n": cfg.spopt_top_n,
                "max_iterations_construction": (
                    cfg.headline_construction if headline else cfg.spopt_construction
                ),
                "max_iterations_sa": cfg.headline_sa if headline else cfg.spopt_sa,
            }
            spec = _spec(
                cfg,
                inst,
                path,
                "max-p",
                "spopt",
                f"c={settings['max_iterations_construction']},sa={settings['max_iterations_sa']}",
                ", ".join(f"{k}={v}" for k, v in settings.items()) + ", attrs=[seeded uniform]",
            )
            spec["settings_json"] = json.dumps(settings)
            skip = _spopt_available()
            if not skip and inst.n > cfg.spopt_max_n:
                skip = (
                    f"spopt run up to {cfg.spopt_max_n} units in this mode "
                    "(n x n attribute distance matrix; annealing time grows fast)"
                )
            yield spec, skip
        if cfg.pygeoda:
            settings = {"iterations": cfg.pygeoda_iterations, "cpu_threads": cfg.threads}
            spec = _spec(
                cfg,
                inst,
                path,
                "max-p",
                "pygeoda",
                f"it={cfg.pygeoda_iterations}",
                f"maxp_greedy, iterations={cfg.pygeoda_iterations}, cpu_threads={cfg.threads}, "
                "queen weights, attrs=[seeded uniform]",
            )
            spec["settings_json"] = json.dumps(settings)
            skip = _pygeoda_available()
            if not skip and inst.n > cfg.pygeoda_max_n:
                skip = f"pygeoda run up to {cfg.pygeoda_max_n} units (--pygeoda-max-n)"
            yield spec, skip


def machine_info() -> dict:
    """nproc, memory, Python and CPU model of this machine."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        free = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    except OSError:
        free = ""
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "bundler", "solvers"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split("\n")
    except OSError:
        head, dirty = "", []
    changed = sorted(line[3:] for line in dirty if line.strip())
    return {
        "git": head + (f" + uncommitted changes in {', '.join(changed)}" if changed else ""),
        "nproc": nproc,
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "free": free.strip(),
    }


def _timeout(spec: dict) -> float:
    if spec["solver"] in PEERS:
        return 3600.0
    return 3 * spec["time_limit"] + 300.0


def run_benchmarks(cfg: Config, log=print) -> list[dict]:
    """Build the instances, run every task in its own process, write the outputs.

    Returns the rows (also in ``cfg.out / "results.csv"``).
    """
    from benchmarks.families import settings_text
    from benchmarks.instances import build_instance

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    load_start = os.getloadavg()[0]
    seeds = cfg.seeds or (cfg.seed,)
    jobs = [(f, n, seed, True) for seed in seeds for n in cfg.sizes for f in cfg.families]
    # the 3,000-unit Voronoi max-p headline, when the Voronoi family is in the run
    if (
        cfg.headline
        and cfg.maxp
        and HEADLINE[0] in cfg.families
        and HEADLINE not in [(f, n) for f, n, _, _ in jobs]
    ):
        jobs.append((*HEADLINE, seeds[0], False))
    for family, n, seed, npv in jobs:
        t0 = time.perf_counter()
        inst = build_instance(family, n, seed)
        path = inst.save(out / "instances" / f"{inst.name}.pkl")
        info = inst.info
        scen = settings_text(family)
        log(
            f"== {inst.name}: built in {time.perf_counter() - t0:.1f} s, {info['edges']} edges, "
            f"{info['components']} components (largest {info['largest_component']}), "
            f"{info.get('eligible_units', '?')} of {n} units in them"
            + (f"; scenario: {scen}" if scen else "")
        )
        headline = cfg.headline and (family, n) == HEADLINE
        for spec, skip in _plan_tasks(cfg, inst, path, npv=npv, headline=headline):
            if skip:
                row = _row(spec, termination="skipped", note=skip)
            else:
                row = run_isolated(spec, _timeout(spec))
            rows.append(row)
            log(_describe(row))
            write_csv(rows, out / "results.csv")
    info = machine_info()
    info["load_1min"] = f"{load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    (out / "machine.txt").write_text(json.dumps(info, indent=2) + "\n")
    write_markdown(rows, out / "results.md", cfg, info)
    if cfg.plot:
        plot(rows, out)
    return rows


def _describe(row: dict) -> str:
    def f(v, spec):
        return "-" if v is None or v == "" else format(v, spec)

    return (
        f"  {row['objective_kind']:<6} {row['solver']:<9} {row['variant']:<9} "
        f"{row['termination']:<11} obj {f(row['objective'], '.6g'):>11} "
        f"gap {f(row['gap'], '.2%'):>8} {f(row['runtime_s'], '.2f'):>7} s "
        f"{f(row['peak_mem_mb'], '.0f'):>5} MB  {row['note'] or ''}"
    )


def write_csv(rows: list[dict], path: Path) -> None:
    """The tidy CSV: :data:`COLUMNS`, one row per run."""
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS})
    tmp.replace(path)


def read_csv(path: Path) -> list[dict]:
    """Rows of a results CSV with numbers parsed (empty cells -> None)."""
    num = {"n", "objective", "bound", "gap", "runtime_s", "peak_mem_mb", "n_bundles"}
    num |= {"base_mem_mb", "time_limit_s", "seed"}
    out = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            d = {}
            for k, v in r.items():
                if k in num:
                    d[k] = None if v == "" else float(v)
                else:
                    d[k] = v
            d["n"] = int(d["n"])
            out.append(d)
    return out


def _fmt(v, kind: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if kind == "usd":
        return f"{v / 1e6:,.3f}"
    if kind == "pct":
        return f"{v:.2%}"
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "s":
        return f"{v:.2f}"
    return str(v)


def _termination(r: dict) -> str:
    if r["termination"] == "skipped":
        return f"skipped ({r['note']})"
    return r["termination"]


def write_markdown(rows: list[dict], path: Path, cfg: Config, info: dict) -> None:
    """results.md: how it was made, the NPV table, greedy vs ours, the max-p comparison."""
    from benchmarks.families import settings_text

    seeds = ", ".join(map(str, cfg.seeds or (cfg.seed,)))
    lines = [
        "# Benchmark results",
        "",
        f"Made by `{cfg.command or 'python -m benchmarks'}` on "
        f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}: {cfg.mode} mode, sizes "
        f"{', '.join(map(str, cfg.sizes))}, time limit {cfg.time_limit:g} s per run, "
        f"{cfg.threads} thread(s), seed(s) {seeds}.",
        "",
        "Planning settings over the default scenario: "
        + "; ".join(
            f"{fam}: {settings_text(fam) or 'none'}"
            for fam in dict.fromkeys(r["family"] for r in rows)
        )
        + ".",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"{info['platform']}. Code: {info.get('git') or 'unknown'}. "
        f"Load average (1 min): {info.get('load_1min', '?')} (one busy core gives about 1; "
        "more than that means other work shared the cores and times are inflated).",
        "",
    ]
    npv = [r for r in rows if r["objective_kind"] == "npv"]
    if npv:
        lines += [
            "## NPV objective (USD millions; bound and gap from the solver)",
            "",
            "| instance | n | solver | variant | termination | objective | bound | gap "
            "| time s | peak MB | bundles | note |",
            "|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in npv:
            note = "" if r["termination"] == "skipped" else (r["note"] or "")
            lines.append(
                f"| {r['instance']} | {r['n']} | {r['solver']} | {r['variant']} | "
                f"{_termination(r)} | {_fmt(r['objective'], 'usd')} | {_fmt(r['bound'], 'usd')} | "
                f"{_fmt(r['gap'], 'pct')} | {_fmt(r['runtime_s'], 's')} | "
                f"{_fmt(r['peak_mem_mb'], 'int')} | {_fmt(r['n_bundles'], 'int')} | {note} |"
            )
        lines += ["", "## Greedy baseline against ours (NPV, USD millions)", ""]
        lines += [
            "| instance | greedy | heuristic | best MIP (warm) | best / greedy |",
            "|---|---:|---:|---:|---:|",
        ]
        for name in dict.fromkeys(r["instance"] for r in npv):
            rs = [r for r in npv if r["instance"] == name and r["objective"] is not None]
            g = next((r["objective"] for r in rs if r["solver"] == "greedy"), None)
            h = next((r["objective"] for r in rs if r["solver"] == "heuristic"), None)
            ws = [r["objective"] for r in rs if r["variant"] == "warm"]
            best = max([v for v in [h, *ws] if v is not None], default=None)
            ratio = "-" if not g or best is None else f"{best / g:.3f}"
            lines.append(
                f"| {name} | {_fmt(g, 'usd')} | {_fmt(h, 'usd')} | "
                f"{_fmt(max(ws) if ws else None, 'usd')} | {ratio} |"
            )
        lines.append("")
    maxp = [r for r in rows if r["objective_kind"] == "max-p"]
    if maxp:
        lines += [
            "## Max-p: ours against PySAL spopt MaxPHeuristic and GeoDa maxp_greedy",
            "",
            "Touching adjacency, threshold 10,000 ha (counties: 300,000 ha); regions found "
            "and solve seconds.",
            "",
            "| instance | n | solver | variant | termination | regions | bound | time s "
            "| peak MB | settings | note |",
            "|---|---:|---|---|---|---:|---:|---:|---:|---|---|",
        ]
        for r in maxp:
            note = "" if r["termination"] == "skipped" else (r["note"] or "")
            lines.append(
                f"| {r['instance']} | {r['n']} | {r['solver']} | {r['variant']} | "
                f"{_termination(r)} | {_fmt(r['objective'], 'int')} | {_fmt(r['bound'], 'int')} | "
                f"{_fmt(r['runtime_s'], 's')} | {_fmt(r['peak_mem_mb'], 'int')} | "
                f"{r['settings']} | {note} |"
            )
        lines.append("")
    path.write_text("\n".join(lines))


def _log_axes(ax, title: str, ylabel: str) -> None:
    """Log-log axes against the number of units, with a small legend."""
    ax.set(title=title, xscale="log", yscale="log", xlabel="units", ylabel=ylabel)
    ax.legend(fontsize=7)


def plot(rows: list[dict], out: Path) -> None:
    """plot.png: NPV time and gap against n per solver/variant, one column per family;
    maxp.png: max-p regions and time against n, ours against spopt."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    npv = [r for r in rows if r["objective_kind"] == "npv" and r["runtime_s"] is not None]
    keys = list(dict.fromkeys((r["solver"], r["variant"]) for r in rows))
    palette = plt.get_cmap("tab20").colors
    colour = {k: palette[i % len(palette)] for i, k in enumerate(keys)}
    fams = list(dict.fromkeys(r["family"] for r in npv))
    if fams:
        fig, axes = plt.subplots(2, len(fams), figsize=(5 * len(fams), 8), squeeze=False)
        for c, fam in enumerate(fams):
            rs = [r for r in npv if r["family"] == fam]
            for key in dict.fromkeys((r["solver"], r["variant"]) for r in rs):
                pts = sorted((r["n"], r) for r in rs if (r["solver"], r["variant"]) == key)
                label = f"{key[0]} {key[1]}"
                axes[0][c].plot(
                    [n for n, _ in pts],
                    [r["runtime_s"] for _, r in pts],
                    "o-",
                    label=label,
                    color=colour[key],
                )
                gp = [(n, r["gap"]) for n, r in pts if r["gap"] is not None]
                if gp:
                    axes[1][c].plot(
                        [n for n, _ in gp],
                        [min(max(g, 1e-6), 10.0) for _, g in gp],
                        "o-",
                        label=label,
                        color=colour[key],
                    )
            _log_axes(axes[0][c], f"{fam}: runtime", "seconds")
            _log_axes(axes[1][c], f"{fam}: gap (1e-6 = closed, capped at 10)", "relative gap")
        fig.tight_layout()
        fig.savefig(out / "plot.png", dpi=110)
        plt.close(fig)
    mp_rows = [r for r in rows if r["objective_kind"] == "max-p" and r["objective"] is not None]
    if mp_rows:
        fams = list(dict.fromkeys(r["family"] for r in mp_rows))
        fig, axes = plt.subplots(2, len(fams), figsize=(5 * len(fams), 8), squeeze=False)
        for c, fam in enumerate(fams):
            rs = [r for r in mp_rows if r["family"] == fam]
            for key in dict.fromkeys((r["solver"], r["variant"]) for r in rs):
                pts = sorted((r["n"], r) for r in rs if (r["solver"], r["variant"]) == key)
                label = f"{key[0]} {key[1]}"
                for ax, col in ((axes[0][c], "objective"), (axes[1][c], "runtime_s")):
                    ax.plot(
                        [n for n, _ in pts],
                        [r[col] for _, r in pts],
                        "o-",
                        label=label,
                        color=colour[key],
                    )
            # the heuristic reports the area bound (the MIP's LP bound is weaker)
            bounds = sorted(
                {(r["n"], r["bound"]) for r in rs if r["solver"] == "heuristic" and r["bound"]}
            )
            if bounds:
                axes[0][c].plot(*zip(*bounds, strict=True), "k--", label="area bound")
            _log_axes(axes[0][c], f"{fam}: max-p regions", "regions")
            _log_axes(axes[1][c], f"{fam}: max-p solve time", "seconds")
        fig.tight_layout()
        fig.savefig(out / "maxp.png", dpi=110)
        plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks``: see the module docstring."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="sizes 100, 300, 1000 (default)")
    mode.add_argument("--full", action="store_true", help="sizes 100 ... 15,000")
    ap.add_argument(
        "--time-limit", type=float, default=None, help="seconds per run (default 5 quick, 60 full)"
    )
    ap.add_argument("--out", type=Path, default=Path("bench-out"), help="output folder")
    ap.add_argument("--sizes", default=None, help="comma-separated unit counts (override)")
    ap.add_argument(
        "--families",
        default="grid,voronoi,generated",
        help="comma-separated, of grid, voronoi, generated, messy, dense, counties "
        "(each plans under its own settings: benchmarks/families.py)",
    )
    ap.add_argument(
        "--solvers", default=None, help="comma-separated backends (default: every available one)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--seeds", default=None, help="comma-separated instance seeds (override --seed), e.g. 1,2,3"
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-greedy", action="store_true")
    ap.add_argument("--no-maxp", action="store_true")
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument(
        "--no-headline",
        action="store_true",
        help="skip the extra 3,000-unit Voronoi max-p comparison",
    )
    ap.add_argument("--spopt-max-n", type=int, default=3000)
    ap.add_argument("--no-pygeoda", action="store_true", help="skip GeoDa's max-p (pygeoda)")
    ap.add_argument(
        "--pygeoda-iterations", type=int, default=99, help="maxp_greedy iterations (GeoDa's 99)"
    )
    ap.add_argument("--pygeoda-max-n", type=int, default=15_000)
    ap.add_argument("--spopt-sa", type=int, default=1, help="spopt max_iterations_sa")
    ap.add_argument(
        "--spopt-construction",
        type=int,
        default=None,
        help="spopt max_iterations_construction (default 10 quick, 99 full; "
        "the 3,000-unit Voronoi headline always uses spopt's default 99)",
    )
    ap.add_argument("--no-cold", action="store_true", help="skip the MIP runs without warm start")
    ap.add_argument("--maxp-exact-max-n", type=int, default=300)
    ap.add_argument("--no-plot", action="store_true")
    a = ap.parse_args(argv)
    full = bool(a.full)
    sizes = FULL_SIZES if full else QUICK_SIZES
    if a.sizes:
        sizes = tuple(int(s) for s in a.sizes.split(","))
    from benchmarks.instances import FAMILIES

    fams = tuple(f.strip() for f in a.families.split(",") if f.strip())
    unknown = [f for f in fams if f not in FAMILIES]
    if unknown:
        ap.error(
            f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; "
            f"known: {', '.join(FAMILIES)}"
        )
    seeds = tuple(int(x) for x in a.seeds.split(",")) if a.seeds else None
    cfg = Config(
        out=a.out,
        mode="full" if full else "quick",
        sizes=sizes,
        families=fams,
        solvers=tuple(a.solvers.split(",")) if a.solvers else None,
        time_limit=a.time_limit or (60.0 if full else 5.0),
        seed=seeds[0] if seeds else a.seed,
        seeds=seeds,
        threads=a.threads,
        greedy=not a.no_greedy,
        maxp=not a.no_maxp,
        spopt=not a.no_spopt,
        spopt_max_n=a.spopt_max_n,
        pygeoda=not a.no_pygeoda,
        pygeoda_iterations=a.pygeoda_iterations,
        pygeoda_max_n=a.pygeoda_max_n,
        spopt_construction=a.spopt_construction or (99 if full else 10),
        cold=not a.no_cold,
        spopt_sa=a.spopt_sa,
        maxp_exact_max_n=a.maxp_exact_max_n,
        headline=not a.no_headline,
        plot=not a.no_plot,
        command="python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv),
    )
    t0 = time.perf_counter()
    rows = run_benchmarks(cfg)
    print(f"{len(rows)} rows in {time.perf_counter() - t0:.0f} s -> {cfg.out}/results.csv")
    return 0
