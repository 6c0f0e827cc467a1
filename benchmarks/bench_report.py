"""Size of the national ``report.html``, time to write it and time to open it in Chromium.

    python -m benchmarks.bench_report --units 15000 --provinces 38 --seed 1

Generates the layer with the project's generator and runs ``psbundle national`` on it
in this process (its provinces on a local Dask cluster, a fresh parts cache), timing
the report writer as ``write_national`` calls it (``report.html`` and ``map.png``).
Then opens the report in headless Chromium (``tests/browser.py``: Debian's chromium
and chromedriver, no network) three times, each in a fresh browser, and records the
median time until the map has drawn its first frame: by the page's own clock (the
``data-ready`` attribute its script sets, in ms since navigation started) and on the
wall clock (the request until the page has loaded and the map is ready). Prints and
appends to ``--csv`` one row.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bundler.cli.commands import app
from bundler.outputs import national as national_outputs
from bundler.synthetic.generator import generate_units, write_layer
from tests.browser import open_report, start_chromium

OPENS = 3


@contextlib.contextmanager
def timed_report_writer(timings: list[float]):
    """Record the seconds of every ``write_report`` call ``write_national`` makes."""
    real = national_outputs.write_report

    def timed(*args, **kwargs):
        start = time.perf_counter()
        real(*args, **kwargs)
        timings.append(time.perf_counter() - start)

    national_outputs.write_report = timed
    try:
        yield
    finally:
        national_outputs.write_report = real


def open_times(page: Path) -> tuple[float, float]:
    """Median ``(page clock, wall clock)`` seconds until the map is drawn, over OPENS opens."""
    ready, wall = [], []
    for _ in range(OPENS):
        driver = start_chromium(1400, 1000)
        try:
            wall.append(open_report(driver, page, timeout=300))
            ms = driver.execute_script("return document.getElementById('ps-map').dataset.ready")
            ready.append(float(ms) / 1000)
        finally:
            driver.quit()
    return statistics.median(ready), statistics.median(wall)


def chromium_version() -> str:
    out = subprocess.run(["chromium", "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=15_000)
    ap.add_argument("--provinces", type=int, default=38)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per province")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--carbon-price", type=float, default=15.0)
    ap.add_argument("--csv", type=Path, default=Path("benchmarks/results/report_size.csv"))
    ap.add_argument("--keep", type=Path, help="keep the layer and the run's outputs here")
    args = ap.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
    scratch = (
        contextlib.nullcontext(str(args.keep))
        if args.keep
        else tempfile.TemporaryDirectory(prefix="bench-report-")
    )
    with scratch as tmp:
        layer, out = Path(tmp) / "national.gpkg", Path(tmp) / "out"
        write_layer(generate_units(args.units, seed=args.seed, n_provinces=args.provinces), layer)
        command = [
            "national", str(layer), "--out", str(out), "--solver", args.solver,
            "--time-limit", str(args.time_limit), "--workers", str(args.workers),
            "--carbon-price", str(args.carbon_price), "--cache", str(Path(tmp) / "cache"),
        ]  # fmt: skip
        timings: list[float] = []
        start = time.perf_counter()
        with timed_report_writer(timings):
            code = app(command, prog_name="psbundle", standalone_mode=False)
        national_s = time.perf_counter() - start
        if code not in (None, 0, 5) or len(timings) != 1:
            print(f"psbundle national ended with {code}", file=sys.stderr)
            return 1
        page = out / "report.html"
        ready_s, wall_s = open_times(page)
        run = json.loads((out / "run.json").read_text())
        row = {
            "units": args.units,
            "provinces": args.provinces,
            "seed": args.seed,
            "solver": args.solver,
            "time_limit_s": args.time_limit,
            "bundles": run["n_bundles"],
            "report_mb": round(page.stat().st_size / 1e6, 2),
            "map_png_mb": round((out / "map.png").stat().st_size / 1e6, 2),
            "write_s": round(timings[0], 1),
            "open_ready_s": round(ready_s, 2),
            "open_wall_s": round(wall_s, 2),
            "national_s": round(national_s, 1),
            "chromium": chromium_version(),
        }
    print(json.dumps(row))
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    new = not args.csv.exists()
    with args.csv.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
