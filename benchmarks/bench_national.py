"""Time and memory of a national run: ``psbundle national`` on a generated layer.

    python -m benchmarks.bench_national --units 15000 --provinces 38 --seed 1

Generates the layer with the project's generator, then runs the real command
in a child process (a fresh parts cache, so nothing is resumed) while sampling
the resident memory of the whole process tree (the command and its Dask
workers) every 0.25 s. Prints and appends to ``--csv`` one row: units,
provinces, wall time, peak summed RSS, bundles, provinces proven optimal.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bundler.synthetic.generator import generate_units, write_layer


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and all its descendants (0 for ones that just ended)."""
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def run_national(layer: Path, out: Path, time_limit: float, workers: int, price: float) -> dict:
    """Run ``psbundle national`` on ``layer`` and measure it.

    Returns
    -------
    dict
        ``wall_s``, ``peak_rss_mib``, ``exit_code`` and figures from ``run.json``.
    """
    cmd = [
        sys.executable, "-m", "bundler.cli", "national", str(layer), "--out", str(out),
        "--time-limit", str(time_limit), "--workers", str(workers),
        "--carbon-price", str(price), "--cache", str(out.parent / "cache"),
    ]  # fmt: skip
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss(proc))
        time.sleep(0.25)
    wall = time.perf_counter() - start
    stderr = child.stderr.read() if child.stderr else ""
    row = {"wall_s": round(wall, 1), "peak_rss_mib": round(peak / 2**20), "exit": child.returncode}
    if child.returncode not in (0, 5):
        print(stderr[-2000:], file=sys.stderr)
        return row
    run = json.loads((out / "run.json").read_text())
    provinces = [line.split(",") for line in (out / "provinces.csv").read_text().splitlines()[1:]]
    row.update(
        bundles=run["n_bundles"],
        provinces_optimal=sum(1 for p in provinces if "optimal" in p),
        provinces_failed=len(run["provinces_failed"]),
        failures="; ".join(f"{k}: {v}" for k, v in run["provinces_failed"].items()),
        termination=run["termination"],
    )
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=15_000)
    ap.add_argument("--provinces", type=int, default=38)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per province")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--carbon-price", type=float, default=15.0)
    ap.add_argument("--csv", type=Path, default=Path("benchmarks/results/national.csv"))
    ap.add_argument("--keep", type=Path, help="keep the layer and the run's outputs here")
    args = ap.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
    scratch = (
        contextlib.nullcontext(str(args.keep))
        if args.keep
        else tempfile.TemporaryDirectory(prefix="bench-national-")
    )
    with scratch as tmp:
        layer = Path(tmp) / "national.gpkg"
        t0 = time.perf_counter()
        write_layer(generate_units(args.units, seed=args.seed, n_provinces=args.provinces), layer)
        gen_s = time.perf_counter() - t0
        row = {
            "units": args.units,
            "provinces": args.provinces,
            "seed": args.seed,
            "time_limit_s": args.time_limit,
            "workers": args.workers,
            "generate_s": round(gen_s, 1),
            **run_national(
                layer, Path(tmp) / "out", args.time_limit, args.workers, args.carbon_price
            ),
        }
    print(json.dumps(row))
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    new = not args.csv.exists()
    with args.csv.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)
    return 0 if row["exit"] in (0, 5) else 1


if __name__ == "__main__":
    sys.exit(main())
