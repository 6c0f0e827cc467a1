"""The Python API: the README's example runs as written, and the package exports resolve."""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import re
import subprocess
import sys

import pytest

import bundler

ROOT = pathlib.Path(__file__).resolve().parents[1]
SUBPACKAGES = (
    "input",
    "scoring",
    "graph",
    "planning",
    "economics",
    "outputs",
    "scale",
    "config",
    "synthetic",
)
PLAN_FILES = {
    "report.html",
    "map.png",
    "plan.gpkg",
    "bundles.csv",
    "estimates.csv",
    "yearly.csv",
    "priority.csv",
    "benefit_sharing.csv",
    "plan.xlsx",
    "run.json",
}


def readme_example() -> str:
    """The first ``python`` code block of the README's "Python API" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "README.md's Python API section has no python block"
    return blocks[0]


def test_readme_example_runs_and_writes_a_plan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme_example"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(readme_example(), "README.md (Python API)", "exec"), namespace)

    report, units, plan = namespace["report"], namespace["units"], namespace["plan"]
    assert report.ok and len(report.units) == 60
    assert len(units) == 60 and units["unit_id"].is_unique
    for column in ("typology", "potential_tco2e_yr", "additionality", "readiness"):
        assert units[column].notna().all(), column
    assert namespace["graph"].number_of_nodes() == 60
    assert plan.termination.value in ("optimal", "feasible")
    assert len(plan.bundles) >= 1, "the example should show at least one bundle"
    assert (plan.bundles["area_ha"] >= namespace["scenario"].bundling.min_area_ha - 1e-6).all()

    economics = namespace["economics"]
    assert list(economics.est.summary["bundle_id"]) == list(plan.bundles["bundle_id"])
    assert set(economics.priority["bundle_id"]) == set(plan.bundles["bundle_id"])

    out = tmp_path / "api-demo" / "plan"
    assert {p.name for p in out.iterdir()} == PLAN_FILES
    run = json.loads((out / "run.json").read_text())
    assert run["n_units"] == 60 and run["n_bundles"] == len(plan.bundles)
    assert sorted(run["files"]) == sorted(PLAN_FILES - {"run.json"})
    assert "bundles" in printed.getvalue()


def test_every_exported_name_resolves():
    assert bundler.__version__
    for name in bundler.__all__:
        assert getattr(bundler, name) is not None, name
    for sub in SUBPACKAGES:
        module = __import__(f"bundler.{sub}", fromlist=["__all__"])
        assert module.__doc__ and module.__all__, sub
        for name in module.__all__:
            assert getattr(module, name) is not None, f"bundler.{sub}.{name}"
    with pytest.raises(AttributeError):
        _ = bundler.no_such_function


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_each_subpackage_imports_first_in_a_fresh_interpreter(sub):
    """No import cycle, whichever stage a program imports first."""
    code = (
        f"import bundler.{sub} as m\n"
        "for name in m.__all__:\n"
        "    getattr(m, name)\n"
        "import bundler\n"
        "for name in bundler.__all__:\n"
        "    getattr(bundler, name)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_import_bundler_is_cheap():
    """``import bundler`` (and so the CLI's start) loads no geo or solver library."""
    code = (
        "import sys, bundler\n"
        "heavy = [m for m in ('geopandas', 'matplotlib', 'highspy', 'ortools', 'pulp', 'dask')\n"
        "         if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
