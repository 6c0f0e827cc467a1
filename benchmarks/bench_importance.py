"""Time the importance of units (``psbundle plan --importance``) on one benchmark instance.

    python -m benchmarks.bench_importance --family generated --units 1000 --seed 3 \\
        --price 15 --plan-time 20 --budgets 15 60 240

Plans the instance once (HiGHS, ``--plan-time`` seconds), then measures importance with
each budget from the same plan and prints one JSON row per budget: seconds used, units of
the plan solved again and proven, units outside with a witnessed join price, and the
median width of the join-price brackets (witnessed minus proven lower end, over the
witnessed price). With ``--out FILE`` the rows are appended to a CSV file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv: list[str] | None = None) -> list[dict]:
    """Parse arguments, plan, measure and print one row per budget."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="generated")
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--price", type=float, default=15.0, help="carbon price, USD/tCO2e")
    ap.add_argument("--plan-time", type=float, default=20.0)
    ap.add_argument("--budgets", type=float, nargs="+", default=[15.0, 60.0])
    ap.add_argument("--out", type=Path, help="append the rows to this CSV file")
    args = ap.parse_args(argv)
    from benchmarks.instances import build_instance
    from bundler.planning.importance import plan_importance
    from bundler.planning.planner import plan_bundles
    from solvers.base import SolveParams

    inst = build_instance(args.family, args.units, args.seed)
    scen = inst.scenario
    econ = dataclasses.replace(scen.economics, carbon_price_usd=args.price)
    scen = dataclasses.replace(scen, economics=econ)
    t0 = time.perf_counter()
    plan = plan_bundles(
        inst.units,
        inst.graph,
        scen,
        scen.graph.max_gap_m,
        solver="highs",
        params=SolveParams(time_limit=args.plan_time, seed=0),
    )
    plan_s = time.perf_counter() - t0
    rows = []
    for budget in args.budgets:
        t0 = time.perf_counter()
        imp = plan_importance(inst.units, plan, scen, params=SolveParams(time_limit=budget, seed=0))
        facts = imp.facts()
        joined = imp.table.dropna(subset=["join_price_usd"])
        width = (joined["join_price_usd"] - joined["join_price_low_usd"]) / joined[
            "join_price_usd"
        ].where(joined["join_price_usd"] > 0)
        row = {
            "instance": f"{args.family}-{args.units}-s{args.seed}",
            "price_usd": args.price,
            "plan_s": round(plan_s, 1),
            "plan_gap": plan.gap,
            "budget_s": budget,
            "seconds": round(time.perf_counter() - t0, 1),
            "units_in_plan": facts["units_in_plan"],
            "resolved": facts["resolved"],
            "proven": facts["proven"],
            "provable": facts["provable"],
            "units_outside": facts["units_outside"],
            "with_join_price": facts["with_join_price"],
            "median_bracket": float(np.nanmedian(width)) if len(width) else None,
        }
        print(json.dumps(row))
        rows.append(row)
    if args.out:
        frame = pd.DataFrame(rows)
        frame.to_csv(args.out, mode="a", index=False, header=not args.out.exists())
    return rows


if __name__ == "__main__":
    main()
