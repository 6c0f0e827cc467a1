"""Plan one benchmark instance end to end and print objective, bound, gap and time as JSON.

For before/after tables across commits: build and save an instance with this tree
(``--save``), then plan the saved instance with each commit on ``PYTHONPATH``
(``--load``), so both plan exactly the same units, graph and family settings::

    python -m benchmarks.bench_certified --family messy --units 1600 --seed 1 --save m1.pkl
    python -m benchmarks.bench_certified --load m1.pkl --time-limit 60
    PYTHONPATH=/path/to/old/worktree python -m benchmarks.bench_certified --load m1.pkl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import resource
import time


def main(argv: list[str] | None = None) -> dict:
    """Parse arguments, plan, print and return one result row."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="messy")
    ap.add_argument("--units", type=int, default=1600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--save", help="build the instance and pickle it here, then stop")
    ap.add_argument("--load", help="plan a pickled instance instead of building one")
    args = ap.parse_args(argv)
    from bundler.planning.planner import plan_bundles
    from solvers.base import SolveParams

    if args.load:
        with open(args.load, "rb") as f:
            units, graph, scen = pickle.load(f)
        _fill_new_sections(scen)
    else:
        from benchmarks.instances import build_instance

        inst = build_instance(args.family, args.units, args.seed)
        units, graph, scen = inst.units, inst.graph, inst.scenario
        if args.save:
            with open(args.save, "wb") as f:
                pickle.dump((units, graph, scen), f)
            return {}
    t0 = time.perf_counter()
    plan = plan_bundles(
        units,
        graph,
        scen,
        scen.graph.max_gap_m,
        solver="highs",
        params=SolveParams(time_limit=args.time_limit, seed=0),
    )
    row = {
        "instance": args.load or f"{args.family}-{args.units}-s{args.seed}",
        "time_limit": args.time_limit,
        "termination": plan.termination.value,
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap,
        "seconds": round(time.perf_counter() - t0, 1),
        "bundles": len(plan.bundles),
        "max_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
    }
    print(json.dumps(row))
    return row


def _fill_new_sections(scen) -> None:
    """Give a scenario pickled by another commit the sections this one added (defaults)."""
    fresh = type(scen)()
    for f in dataclasses.fields(scen):
        if f.name not in scen.__dict__:
            object.__setattr__(scen, f.name, getattr(fresh, f.name))


if __name__ == "__main__":
    main()
