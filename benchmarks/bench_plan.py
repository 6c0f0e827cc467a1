"""Planning benchmark: a generated dense province, every backend, median of repeats.

Run ``python -m benchmarks.bench_plan --units 2000 --time-limit 60 --repeat 3``.
Reports, per backend: termination, objective, bound, gap and wall time (median
over repeats, each repeat with its own seed), plus the time to build the graph.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bundler.config.scenario import Scenario
from bundler.pipeline import adjacency, prepare_units
from bundler.planning.planner import plan_bundles
from bundler.synthetic.generator import generate_units, write_layer
from solvers.base import SolveParams


def run(units: int, time_limit: float, repeat: int, solvers: list[str], seed: int) -> list[dict]:
    """Plan one generated province with each solver; return one row per (solver, repeat)."""
    scen = Scenario()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "units.gpkg"
        write_layer(generate_units(units, seed=seed, n_provinces=1), path)
        prepared = prepare_units(path, scen)
        t0 = time.perf_counter()
        graph = adjacency(prepared.units, scen)
        graph_s = time.perf_counter() - t0
        for solver in solvers:
            for r in range(repeat):
                params = SolveParams(time_limit=time_limit, seed=r, threads=2)
                t0 = time.perf_counter()
                plan = plan_bundles(
                    prepared.units, graph, scen, scen.graph.max_gap_m, solver=solver, params=params
                )
                rows.append(
                    {
                        "solver": solver,
                        "repeat": r,
                        "n": units,
                        "termination": plan.termination.value,
                        "objective": plan.objective,
                        "bound": plan.bound,
                        "gap": plan.gap,
                        "bundles": len(plan.bundles),
                        "seconds": time.perf_counter() - t0,
                        "graph_s": graph_s,
                        "edges": graph.number_of_edges(),
                    }
                )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--solvers", default="highs,heuristic")
    a = ap.parse_args()
    rows = run(a.units, a.time_limit, a.repeat, a.solvers.split(","), a.seed)
    print(f"n={a.units} edges={rows[0]['edges']} graph build {rows[0]['graph_s']:.2f} s")
    print("solver      termination  median_s  median_gap  objective      bound          bundles")
    for solver in a.solvers.split(","):
        rs = [r for r in rows if r["solver"] == solver]
        gaps = [r["gap"] for r in rs if r["gap"] is not None]
        med_gap = f"{statistics.median(gaps):.4%}" if gaps else "-"
        terms = ",".join(sorted({r["termination"] for r in rs}))
        last = rs[-1]
        bound = "-" if last["bound"] is None else f"{last['bound']:.4g}"
        print(
            f"{solver:<11} {terms:<12} {statistics.median(r['seconds'] for r in rs):8.2f}  "
            f"{med_gap:>10}  {last['objective']:<14.6g} {bound:<14} {last['bundles']}"
        )


if __name__ == "__main__":
    main()
