"""Smoke test of the benchmark runner: one 100-unit grid, HiGHS and the heuristic, 5 s limit."""

from __future__ import annotations

import importlib.util
import math

import pytest

from benchmarks.greedy import solve_greedy
from benchmarks.instances import build_instance
from benchmarks.runner import COLUMNS, Config, read_csv, run_benchmarks
from bundler.planning.problem_builder import build_problems

HAS_SPOPT = all(importlib.util.find_spec(m) for m in ("spopt", "libpysal"))
REL_GAP = 1e-4  # SolveParams' default rel_gap, what the runner uses


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    cfg = Config(
        out=out,
        sizes=(100,),
        families=("grid",),
        solvers=("highs", "heuristic"),
        time_limit=5.0,
        greedy=True,
        cold=False,  # the cold MIP would spend its 5 s too; the warm one covers HiGHS
        maxp_exact_max_n=0,  # keep it quick: the exact max-p row is recorded as skipped
        spopt=HAS_SPOPT,
        spopt_construction=2,
        spopt_sa=1,
        headline=False,
        plot=False,
    )
    run_benchmarks(cfg, log=lambda *_: None)
    return out


def test_csv_columns_and_rows(results):
    rows = read_csv(results / "results.csv")
    header = (results / "results.csv").read_text().splitlines()[0].split(",")
    assert header == COLUMNS
    got = {(r["objective_kind"], r["solver"], r["variant"]) for r in rows}
    assert {
        ("npv", "highs", "warm"),
        ("npv", "heuristic", "planner"),
        ("npv", "greedy", "baseline"),
        ("max-p", "heuristic", "heuristic"),
        ("max-p", "highs", "warm"),
    } <= got
    assert (("max-p", "spopt", "c=2,sa=1") in got) == HAS_SPOPT
    assert (results / "results.md").exists()
    for r in rows:
        assert r["instance"] == "grid-100-s0" and r["n"] == 100
        assert r["termination"] in {
            "optimal",
            "feasible",
            "no_solution",
            "infeasible",
            "skipped",
        }, r
        if r["termination"] == "skipped":
            assert r["note"], "a skipped run says why"
        else:
            assert r["runtime_s"] is not None and r["runtime_s"] < 5.0 * 3 + 60
            assert r["peak_mem_mb"] and r["peak_mem_mb"] >= (r["base_mem_mb"] or 0) > 0


def test_terminations_are_honest(results):
    for r in read_csv(results / "results.csv"):
        if r["termination"] == "optimal":
            assert r["gap"] is not None and r["gap"] <= REL_GAP + 1e-9, r
            assert r["objective"] is not None
        elif r["termination"] == "feasible":
            assert r["objective"] is not None
            # a gap, when there is one, is the gap of the objective and bound reported
            if r["gap"] is not None:
                assert r["bound"] is not None
                assert math.isclose(
                    r["gap"],
                    abs(r["bound"] - r["objective"]) / max(1.0, abs(r["objective"])),
                    rel_tol=1e-6,
                    abs_tol=1e-9,
                )
        if r["termination"] in ("optimal", "feasible") and r["bound"] is not None:
            assert r["objective"] <= r["bound"] + 1e-6 * max(1.0, abs(r["bound"])), r
    rows = read_csv(results / "results.csv")
    # everything ran, and max-p found regions
    maxp = [r for r in rows if r["objective_kind"] == "max-p" and r["solver"] == "heuristic"]
    assert maxp and maxp[0]["objective"] >= 1


def test_greedy_baseline_is_feasible():
    inst = build_instance("grid", 100, seed=0)
    pset = build_problems(inst.units, inst.graph, inst.scenario)
    for p in pset.problems:
        res = solve_greedy(p)
        g = p.graph()
        assert all(not p.bundle_violations(b, g) for b in res.bundles)
        used = [u for b in res.bundles for u in b]
        assert len(used) == len(set(used))
        assert res.objective == pytest.approx(sum(p.bundle_objective(b) for b in res.bundles))
