"""Relative and absolute gaps, their formatting, and where they are written and shown."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from bundler.cli import commands as cli
from bundler.config.scenario import Scenario
from bundler.economics.estimation import estimate_plan
from bundler.graph.adjacency import build_adjacency
from bundler.outputs.gaps import format_gap, format_relative_gap
from bundler.outputs.plan import write_plan
from bundler.planning.planner import plan_bundles
from solvers.base import SolveParams, Termination, absolute_gap, relative_gap
from solvers.mip.model import within_gap
from tests.scored import scored_grid

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    "objective, bound, rel, absolute",
    [
        (100.0, 102.4, 0.024, 2.4),  # |bound - objective| / |objective|
        (102.4, 100.0, 2.4 / 102.4, 2.4),  # minimizing: bound below
        (-50.0, -40.0, 0.2, 10.0),  # negative objectives: divide by |objective|
        (0.5, 0.75, 0.5, 0.25),  # no max(1, ...) floor under the objective any more
        (0.0, 175_769.0, None, 175_769.0),  # objective 0: relative gap undefined
        (1e-12, 3.0, None, 3.0 - 1e-12),  # |objective| < 1e-9 counts as 0
        (0.0, 0.0, 0.0, 0.0),  # a proven zero objective has gap 0
        (0.0, 4e-7, 0.0, 4e-7),  # float noise around 0 is no gap
        (1e6, 1e6 + 0.5, 0.0, 0.5),  # noise within 1e-6 of the larger value
        (None, 1.0, None, None),
        (1.0, None, None, None),
        (None, None, None, None),
        (NAN, 1.0, None, None),
        (1.0, INF, None, None),
    ],
)
def test_relative_and_absolute_gap_known_answers(objective, bound, rel, absolute):
    got = relative_gap(objective, bound)
    if rel is None:
        assert got is None
    else:
        assert got == pytest.approx(rel, rel=1e-12, abs=0)
    got_abs = absolute_gap(objective, bound)
    if absolute is None:
        assert got_abs is None
    else:
        assert got_abs == pytest.approx(absolute, rel=1e-12, abs=0)


def test_an_undefined_gap_is_never_within_the_target():
    assert not within_gap(relative_gap(0.0, 175_769.0), 0.99)
    assert within_gap(relative_gap(0.0, 0.0), 0.0)
    assert within_gap(relative_gap(0.0, 1e-9), 1e-4)


@pytest.mark.parametrize(
    "objective, bound, text",
    [
        (100.0, 102.4, "2.40%"),
        (123_456.789, 130_000.0, "5.30%"),
        (0.0, 175_769.0, "undefined (objective 0; absolute gap 175,769)"),
        (0.0, 1_234.5, "undefined (objective 0; absolute gap 1,234.5)"),
        (0.0, 0.25, "undefined (objective 0; absolute gap 0.25)"),
        (0.0, 0.0, "0.00%"),
        (5.0, 5.0, "0.00%"),
        (100.0, 100.004, "<0.01%"),  # not zero, so not "0.00%"
        (1.0, 3.0, "200.00%"),
        (1.0, None, "-"),
        (None, 1.0, "-"),
        (None, None, "-"),
        (NAN, 1.0, "-"),
    ],
)
def test_format_gap(objective, bound, text):
    assert format_gap(objective, bound) == text


def test_format_relative_gap():
    assert format_relative_gap(0.024) == "2.40%"
    assert format_relative_gap(0.0) == "0.00%"
    assert format_relative_gap(None) == "-"
    assert format_relative_gap(NAN) == "-"


def test_cli_plan_summary_prints_the_gap_as_a_percentage(monkeypatch, tmp_path):
    printed = []
    monkeypatch.setattr(cli.out, "print", lambda *a, **k: printed.append(a[0]))
    plan = _FakePlan(objective=0.0, bound=175_769.0)
    cli._print_plan(plan, tmp_path)
    rows = dict(zip(printed[0].columns[0].cells, printed[0].columns[1].cells, strict=True))
    assert rows["gap"] == "undefined (objective 0; absolute gap 175,769)"
    printed.clear()
    cli._print_plan(_FakePlan(objective=100.0, bound=102.4), tmp_path)
    rows = dict(zip(printed[0].columns[0].cells, printed[0].columns[1].cells, strict=True))
    assert rows["gap"] == "2.40%"


@dataclasses.dataclass
class _FakePlan:
    """What :func:`bundler.cli.commands._print_plan` reads of a plan."""

    objective: float | None
    bound: float | None
    objective_name: str = "npv"
    solver: str = "highs"
    termination: Termination = Termination.FEASIBLE
    runtime_s: float = 1.0
    explanation: str = ""

    @property
    def bundles(self):
        import pandas as pd

        return pd.DataFrame(columns=["n_units", "area_ha", "credits_tco2e_yr", "npv_usd"])


def _plan(tmp_path):
    units = scored_grid(tmp_path, 1, 4, protect=[40_000] * 4)
    scen = Scenario().with_values({"bundling.min_area_ha": 5000, "bundling.max_units": 2})
    g = build_adjacency(units, 500.0)
    params = SolveParams(time_limit=30, seed=0)
    return units, scen, plan_bundles(units, g, scen, 500.0, solver="highs", params=params)


def test_run_json_has_abs_gap_next_to_every_gap(tmp_path):
    units, scen, plan = _plan(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    write_plan(
        out, units, plan, scen, {}, {}, report=False, economics=estimate_plan(units, plan, scen)
    )
    run = json.loads((out / "run.json").read_text())
    keys = list(run)
    assert keys[keys.index("gap") + 1] == "abs_gap"
    assert run["gap"] == relative_gap(plan.objective, plan.bound)
    assert run["abs_gap"] == absolute_gap(plan.objective, plan.bound)
    assert run["components"]
    for comp in run["components"]:
        ckeys = list(comp)
        assert ckeys[ckeys.index("gap") + 1] == "abs_gap"
        assert comp["abs_gap"] == absolute_gap(comp["objective"], comp["bound"])


def test_an_undefined_gap_is_null_in_run_json_and_explained_in_the_report(tmp_path):
    units, scen, plan = _plan(tmp_path)
    plan = dataclasses.replace(plan, objective=0.0, bound=175_769.0, gap=None)
    out = tmp_path / "out"
    out.mkdir()
    write_plan(out, units, plan, scen, {}, {}, economics=estimate_plan(units, plan, scen))
    run = json.loads((out / "run.json").read_text())
    assert run["gap"] is None and run["abs_gap"] == 175_769.0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "gap undefined (objective 0; absolute gap 175,769)" in page
    assert "<dt>gap</dt><dd>undefined (objective 0; absolute gap 175,769)</dd>" in page
