"""No data lost: outputs are replaced only on purpose and all at once; inputs are never touched.

* an existing non-empty ``--out`` is never overwritten without ``--force`` (exit 3);
* a run killed (SIGKILL) at any point while writing leaves ``--out`` holding exactly the
  previous complete results, or the new complete results, or (only in the instant between
  the two renames that swap the folders) nothing, with the previous results intact in the
  hidden ``.OUT.old-*`` folder beside it; never a mix, never half a file;
* the unit layer, the scenario file and the rasters are byte-for-byte the same after a run,
  and no file appears beside them;
* ``--force`` replaces only an earlier ps-bundler output (tests/test_force_rule.py), and
  then completely: nothing stale survives.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bundler.cli.commands import app
from tests.layers import UTM, X0, Y0, layer, square
from tests.test_rasters import write_raster

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

# every file a plan writes (bundler/outputs/plan.py, write_plan)
PLAN_FILES = {
    "plan.gpkg", "bundles.csv", "run.json", "estimates.csv", "yearly.csv",
    "priority.csv", "benefit_sharing.csv", "report.html", "map.png", "plan.xlsx",
}  # fmt: skip


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (and "dir" for every folder) under ``folder``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def hidden_beside(out: Path) -> list[Path]:
    return sorted(p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture
def units(tmp_path) -> Path:
    """Six 1 km squares in two touching rows, scorable, that bundle at 30 USD/t."""
    d = tmp_path / "inputs"
    d.mkdir()
    geoms = [square(x, y, 1000) for y in (0, 1000) for x in (0, 1000, 2000)]
    n = len(geoms)
    gdf = layer(
        geoms,
        LUAS_SK=[100.0] * n,
        KODE_PROV=["16"] * n,
        NAMA_PROV=["Sumatera Selatan"] * n,
        forest_ha_2010=[90.0] * n,
        forest_ha_2020=[60.0] * n,
        peat_ha=[10.0] * n,
    )
    path = d / "units.gpkg"
    gdf.to_file(path)
    return path


# each call appends the carbon price: 30 USD/t for a new plan, 40 for the previous one, so
# that the two plans' files differ
PLAN_ARGS = ("--min-area-ha", 150, "--solver", "heuristic", "--carbon-price")


@pytest.fixture
def previous(units, tmp_path) -> tuple[Path, dict[str, str]]:
    """A folder holding a complete earlier plan (at another price), and its snapshot."""
    out = tmp_path / "out"
    result = run("plan", units, "--out", out, *PLAN_ARGS, 40)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == PLAN_FILES
    # the earlier plan has bundles, so a new plan's files differ from it
    assert json.loads((out / "run.json").read_text())["n_bundles"] >= 1
    return out, snapshot(out)


# ---------------------------------------------------------------------------------------------
# no overwrite without --force


@pytest.mark.parametrize("command", ["plan", "score", "demo"])
def test_non_empty_out_is_never_overwritten_without_force(command, units, tmp_path):
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("my notes, not a plan\n")
    (out / "run.json").write_text('{"mine": true}\n')  # even a file a plan would write
    (out / "sub" / "data.bin").write_bytes(bytes(range(256)))
    before = snapshot(out)
    args = {"plan": ("plan", units), "score": ("score", units), "demo": ("demo",)}[command]
    result = run(*args, "--out", out)
    # exit 3 (README: the output folder exists and is not empty), naming folder and remedy
    assert result.exit_code == 3, result.output
    assert str(out.name) in result.output and "--force" in result.output
    assert snapshot(out) == before
    assert hidden_beside(out) == []


def test_out_that_is_a_file_is_refused_and_kept(units, tmp_path):
    out = tmp_path / "results"
    out.write_text("a file where the folder should go\n")
    result = run("plan", units, "--out", out, *PLAN_ARGS, 30, "--force")
    # not a folder: bad input (2), even with --force; the file is kept as it was
    assert result.exit_code == 2, result.output
    assert "is not a folder" in result.output
    assert out.read_text() == "a file where the folder should go\n"


def test_a_failing_forced_run_keeps_the_previous_results(previous, units, tmp_path):
    out, before = previous
    bad = tmp_path / "bad.toml"
    bad.write_text("[economics]\ncarbon_price_usd = -1\n")
    # --force asks to replace the results, but only by a run that succeeds
    result = run("plan", units, "--out", out, "--force", "--scenario", bad)
    assert result.exit_code == 2, result.output
    assert snapshot(out) == before
    assert hidden_beside(out) == []


# ---------------------------------------------------------------------------------------------
# --force replaces everything


@pytest.mark.parametrize("listed", [True, False], ids=["files-listed", "older-run-json"])
def test_force_replaces_the_folder_completely(previous, units, listed):
    out, _ = previous
    (out / "stale.txt").write_text("from an older version\n")
    (out / "old-run").mkdir()
    (out / "old-run" / "bundles.csv").write_text("bundle_id\nB999\n")
    (out / "bundles.csv").write_text("bundle_id\nB999\n")
    # files an earlier ps-bundler run wrote: listed in its run.json, or written by an older
    # version whose run.json lists no files (--force never replaces anybody else's files)
    facts = json.loads((out / "run.json").read_text())
    if listed:
        facts["files"] += ["stale.txt", "old-run/bundles.csv"]
    else:
        del facts["files"]
    (out / "run.json").write_text(json.dumps(facts, indent=2) + "\n")
    result = run("plan", units, "--out", out, *PLAN_ARGS, 30, "--force")
    assert result.exit_code == 0, result.output
    # exactly the files of one plan: nothing stale, nothing from the earlier plan kept
    assert {str(p.relative_to(out)) for p in out.rglob("*")} == PLAN_FILES
    assert "B999" not in (out / "bundles.csv").read_text()
    facts = json.loads((out / "run.json").read_text())
    assert facts["scenario"]["economics"]["carbon_price_usd"] == 30.0
    # the new run.json lists exactly the files of this plan
    assert facts["files"] == sorted(PLAN_FILES - {"run.json"})
    assert hidden_beside(out) == []


# ---------------------------------------------------------------------------------------------
# inputs are never modified


def test_inputs_are_never_modified(units, tmp_path):
    d = units.parent
    scenario = d / "scenario.toml"
    scenario.write_text("[graph]\nmax_gap_m = 500\n")
    # rasters over the six units (x 0..3 km, y 0..2 km), in the layer's CRS and in degrees
    cells = np.ones((40, 50), "uint8")
    grid = {"left": X0 - 500, "top": Y0 + 3000, "res": 100, "crs": UTM}
    rasters = {
        "--forest-2010": write_raster(d / "f2010.tif", cells, **grid),
        "--forest-2020": write_raster(d / "f2020.tif", cells, **grid),
        "--peat": write_raster(d / "peat.tif", np.zeros((40, 50), "uint8"), **grid),
        "--mangrove": write_raster(
            d / "mangrove.tif", np.zeros((10, 10), "float32"),
            left=104.05, top=-3.1, res=0.01, crs="EPSG:4326",
        ),
    }  # fmt: skip
    before = snapshot(d)
    flags = [str(a) for kv in rasters.items() for a in kv]
    out = tmp_path / "out"
    result = run("plan", units, "--out", out, "--scenario", scenario, *flags, *PLAN_ARGS, 30)
    assert result.exit_code == 0, result.output
    result = run("score", units, "--out", tmp_path / "scored", "--scenario", scenario, *flags)
    assert result.exit_code == 0, result.output
    assert run("validate", units, "--scenario", scenario).exit_code == 0
    # same bytes, and no new file beside them (no GDAL .aux.xml, no GeoPackage -wal/-shm)
    assert snapshot(d) == before
    # run.json records the sha256 of exactly these bytes
    facts = json.loads((out / "run.json").read_text())
    assert facts["inputs"]["units"]["sha256"] == before["units.gpkg"]
    assert facts["inputs"]["raster_peat"]["sha256"] == before["peat.tif"]


def test_a_shapefile_and_its_sidecars_are_never_modified(units, tmp_path):
    import geopandas as gpd

    d = tmp_path / "shp"
    d.mkdir()
    # shapefile fields have at most 10 characters: the ministry's FOREST2010 / FOREST2020
    gdf = gpd.read_file(units).rename(
        columns={"forest_ha_2010": "FOREST2010", "forest_ha_2020": "FOREST2020"}
    )
    gdf.to_file(d / "units.shp")
    before = snapshot(d)
    assert {"units.shp", "units.shx", "units.dbf", "units.prj"} <= set(before)
    result = run("plan", d / "units.shp", "--out", tmp_path / "out", *PLAN_ARGS, 30)
    assert result.exit_code == 0, result.output
    assert snapshot(d) == before


# ---------------------------------------------------------------------------------------------
# killed mid-write

# The writer plans once with the real pipeline, then for each job it is sent on stdin
# ("<stop> <out>") forks a child that writes the plan with the real atomic_output_dir and
# write_plan into <out> (replacing it, as --force does). Every write call
# (GeoDataFrame.to_file, DataFrame.to_csv, Path.write_text, write_report) and every rename and
# removal first prints "AT <pid> <n> <label>". At label number <stop> the child prints
# "STOP <pid> <label>" and sleeps until the test kills it with SIGKILL: no finally blocks, no
# atexit, exactly what a power cut or the OOM killer does. Forking saves re-importing and
# re-planning for every kill point.
WRITER = r"""
import os, re, shutil, sys, time, traceback
from pathlib import Path

import geopandas as gpd
import pandas as pd

import bundler.outputs.plan
from bundler.outputs.files import atomic_output_dir
from bundler.pipeline import adjacency, prepare_units
from bundler.economics.estimation import estimate_plan
from bundler.outputs.plan import write_plan
from bundler.planning.planner import plan_bundles
from bundler.config.scenario import Scenario

stop = seen = 0


def at(label):
    global seen
    seen += 1
    print(f"AT {os.getpid()} {seen} {label}", flush=True)
    if seen == stop:
        print(f"STOP {os.getpid()} {label}", flush=True)
        while True:
            time.sleep(60)


def hook(owner, name, label):
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
        at(label(*args, **kwargs))
        return real(*args, **kwargs)

    setattr(owner, name, wrapped)


def kind(x):
    # a file or folder name without its random or pid part: .out.partial, .out.old, .map.png.N
    return re.sub(r"\d+", "N", Path(str(x)).name.split("-")[0])


hook(gpd.GeoDataFrame, "to_file", lambda self, p, *a, **k: f"to_file {kind(p)}:{k.get('layer')}")
hook(pd.DataFrame, "to_csv", lambda self, p=None, *a, **k: f"to_csv {kind(p)}")
hook(Path, "write_text", lambda self, *a, **k: f"write_text {kind(self)}")
hook(bundler.outputs.plan, "write_report", lambda *a, **k: "write_report")
hook(os, "replace", lambda src, dst, **k: f"replace {kind(src)} -> {kind(dst)}")
hook(shutil, "rmtree", lambda p, *a, **k: f"rmtree {kind(p)}")

scen = Scenario().with_values({"bundling.min_area_ha": 150.0, "economics.carbon_price_usd": 30.0})
prepared = prepare_units(Path(sys.argv[1]), scen)
graph = adjacency(prepared.units, scen)
plan = plan_bundles(prepared.units, graph, scen, scen.graph.max_gap_m, solver="heuristic")


def write(out):
    with atomic_output_dir(out, force=True) as tmp:
        at("scratch folder made")
        economics = estimate_plan(prepared.units, plan, scen)
        write_plan(
            tmp, prepared.units, plan, scen, prepared.inputs, {"seed": 0}, economics=economics
        )
        at("everything written to the scratch folder")
    at("renamed into place")


print("READY", flush=True)
for line in sys.stdin:
    stop_text, out = line.rstrip("\n").split(" ", 1)
    stop, seen = int(stop_text), 0
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            write(Path(out))
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(f"EXIT {os.waitstatus_to_exitcode(status)}", flush=True)
"""


class Writer:
    """Drives the WRITER process: one job at a time, killing the child where it stops."""

    def __init__(self, units: Path, tmp_path: Path):
        script = tmp_path / "writer.py"
        script.write_text(WRITER)
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(units)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=tmp_path,
        )
        assert self.proc.stdout.readline().strip() == "READY", self._stderr()

    def _stderr(self) -> str:
        self.proc.kill()
        return self.proc.stderr.read()

    def write(self, out: Path, stop: int) -> tuple[list[str], str | None, int]:
        """Write a plan into ``out``, killed just before label number ``stop`` (0: never).

        Returns the labels passed, the label it was killed at (or None), and the exit code
        (negative: killed by that signal).
        """
        self.proc.stdin.write(f"{stop} {out}\n")
        self.proc.stdin.flush()
        labels, stopped = [], None
        for line in self.proc.stdout:
            tag, _, rest = line.rstrip("\n").partition(" ")
            if tag == "AT":
                labels.append(rest.split(" ", 2)[2])
            elif tag == "STOP":
                pid, _, stopped = rest.partition(" ")
                os.kill(int(pid), signal.SIGKILL)
                labels.pop()  # its own AT line: the write it stopped before never ran
            elif tag == "EXIT":
                return labels, stopped, int(rest)
        raise AssertionError(f"the writer died: {self._stderr()}")

    def close(self) -> None:
        self.proc.stdin.close()
        assert self.proc.wait(timeout=60) == 0, self.proc.stderr.read()


@pytest.fixture
def writers():
    """Start Writers; any still running when the test ends (a failure) is killed."""
    started: list[Writer] = []

    def start(units: Path, tmp_path: Path) -> Writer:
        started.append(Writer(units, tmp_path))
        return started[-1]

    yield start
    for w in started:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


def _is_complete_plan(folder: Path) -> bool:
    """A whole plan: every file, run.json readable, both layers of plan.gpkg readable."""
    import geopandas as gpd

    if {p.name for p in folder.iterdir()} != PLAN_FILES:
        return False
    facts = json.loads((folder / "run.json").read_text())
    units = gpd.read_file(folder / "plan.gpkg", layer="units")
    bundles = gpd.read_file(folder / "plan.gpkg", layer="bundles")
    return len(units) == facts["n_units"] and len(bundles) == facts["n_bundles"]


def test_a_run_killed_at_any_point_while_writing_leaves_old_or_new_results_never_half(
    units, previous, tmp_path, writers
):
    out, before = previous
    writer = writers(units, tmp_path)
    # 1. a run that is not stopped lists every write and rename, and finishes
    trace_out = tmp_path / "trace" / "out"
    _copy(out, trace_out, before)
    labels, stopped, code = writer.write(trace_out, 0)
    assert code == 0 and stopped is None
    assert "to_file plan.gpkg:units" in labels and "write_text run.json" in labels, labels
    assert labels[-1] == "renamed into place"
    assert _is_complete_plan(trace_out)

    # 2. for each point, a run replacing (as --force) a copy of the previous complete plan,
    #    killed just before that write or rename
    outcomes = {}
    for stop, point in enumerate(labels, start=1):
        o = tmp_path / f"kill{stop:02d}" / "out"
        _copy(out, o, before)
        seen, stopped, code = writer.write(o, stop)
        # killed by SIGKILL just before `point`, after the same steps as the traced run
        assert code == -signal.SIGKILL and stopped == point and seen == labels[: stop - 1]
        if o.exists() and snapshot(o) == before:
            outcomes[point] = "previous"
        elif o.exists() and _is_complete_plan(o) and snapshot(o) != before:
            outcomes[point] = "new"
        else:
            # only possible between the two renames: the previous plan is moved aside first
            assert not o.exists(), (point, sorted(p.name for p in o.iterdir()))
            old = [p for p in hidden_beside(o) if ".old-" in p.name]
            assert len(old) == 1 and snapshot(old[0]) == before, point
            outcomes[point] = "none (previous kept aside)"
    writer.close()
    # every write goes into the scratch folder and keeps the previous plan in place
    writes = [lb for lb in labels if lb.startswith(("to_file", "to_csv", "write_", "scratch"))]
    assert len(writes) >= 8 and all(outcomes[lb] == "previous" for lb in writes), outcomes
    assert outcomes["everything written to the scratch folder"] == "previous"
    # the swap: the old plan moved aside, the new one moved in, the old one removed
    assert labels[-4:-1] == [
        "replace out -> .out.old",
        "replace .out.partial -> out",
        "rmtree .out.old",
    ], labels
    assert outcomes["replace out -> .out.old"] == "previous"
    assert outcomes["replace .out.partial -> out"] == "none (previous kept aside)"
    assert outcomes["rmtree .out.old"] == "new"
    assert outcomes["renamed into place"] == "new"


def _copy(src: Path, dst: Path, expect: dict[str, str]) -> None:
    import shutil

    shutil.copytree(src, dst)
    assert snapshot(dst) == expect


def test_a_first_run_killed_while_writing_leaves_no_out_folder(units, tmp_path, writers):
    out = tmp_path / "first" / "out"
    writer = writers(units, tmp_path)
    # killed at the 5th write (among the CSVs): nothing was there, nothing appears
    seen, stopped, code = writer.write(out, 5)
    writer.close()
    assert code == -signal.SIGKILL and len(seen) == 4 and stopped.startswith("to_csv")
    assert not out.exists()
    # the scratch folder stays behind, hidden; a new run is not disturbed by it
    assert [p.name.split("-")[0] for p in hidden_beside(out)] == [".out.partial"]
    result = run("plan", units, "--out", out, *PLAN_ARGS, 30)
    assert result.exit_code == 0, result.output
    assert _is_complete_plan(out)


def test_the_cli_killed_at_random_moments_never_leaves_half_a_plan(previous, units, tmp_path):
    # no instrumentation: the real `psbundle plan --force`, killed as soon as its scratch
    # folder appears and then a little later, while GDAL and matplotlib are writing
    out, before = previous
    delays = (0.0, 0.1, 0.4)
    outs, procs = [], []
    for i in range(len(delays)):
        o = tmp_path / f"cli{i}" / "out"
        o.parent.mkdir()
        _copy(out, o, before)
        outs.append(o)
        cmd = [sys.executable, "-m", "bundler.cli", "plan", str(units), "--out", str(o),
               "--force", *map(str, PLAN_ARGS), "30"]  # fmt: skip
        procs.append(
            subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    pending = dict(enumerate(zip(outs, procs, strict=True)))
    started: dict[int, float] = {}
    deadline = time.monotonic() + 120
    try:
        while pending and time.monotonic() < deadline:
            for i, (o, proc) in list(pending.items()):
                if i not in started and any(".partial-" in p.name for p in hidden_beside(o)):
                    started[i] = time.monotonic()
                if i in started and time.monotonic() - started[i] >= delays[i]:
                    proc.send_signal(signal.SIGKILL)
                if proc.poll() is not None:
                    del pending[i]
            time.sleep(0.001)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert not pending, "children did not finish"
    # killed the moment its scratch folder appeared, long before the GPKG, CSVs, report and
    # map are written: the previous plan is untouched
    assert procs[0].returncode == -signal.SIGKILL and snapshot(outs[0]) == before
    for o, proc in zip(outs, procs, strict=True):
        # killed (or, if it was quicker than the delay, finished): either way a whole plan
        assert proc.returncode in (-signal.SIGKILL, 0)
        if o.exists():
            assert snapshot(o) == before or _is_complete_plan(o)
        else:
            old = [p for p in hidden_beside(o) if ".old-" in p.name]
            assert len(old) == 1 and snapshot(old[0]) == before
