"""Smoke test of the benchmark runner (one 100-unit grid, HiGHS and the heuristic, 5 s
limit), the messy / dense / counties instance families and GeoDa's max-p peer."""

from __future__ import annotations

import importlib.util
import math

import networkx as nx
import numpy as np
import pytest
import shapely

from benchmarks import families
from benchmarks.bench_maxp import maxp_problem, pygeoda_maxp, voronoi_layer
from benchmarks.greedy import solve_greedy
from benchmarks.instances import build_instance, load_instance
from benchmarks.runner import COLUMNS, Config, read_csv, run_benchmarks, run_task
from bundler.graph.adjacency import build_adjacency
from bundler.planning.problem_builder import build_problems
from solvers.problem import BundlingProblem

HAS_SPOPT = all(importlib.util.find_spec(m) for m in ("spopt", "libpysal"))
HAS_PYGEODA = importlib.util.find_spec("pygeoda") is not None
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
    pyg = [r for r in rows if r["solver"] == "pygeoda"]
    assert len(pyg) == 1 and pyg[0]["variant"] == "it=99"
    assert (pyg[0]["termination"] == "feasible") == HAS_PYGEODA, pyg[0]
    if not HAS_PYGEODA:
        assert pyg[0]["termination"] == "skipped" and "pygeoda not installed" in pyg[0]["note"]
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


# ------------------------------------------------------------ the messy, dense, counties families


def _same(a, b) -> bool:
    cols = ["unit_id", "area_ha", "area_excl_ha", "potential_tco2e_yr", "additionality"]
    return (
        len(a.units) == len(b.units)
        and bool(shapely.equals_exact(a.units.geometry.values, b.units.geometry.values, 0).all())
        and a.units[cols].equals(b.units[cols])
        and sorted(a.graph.edges()) == sorted(b.graph.edges())
    )


@pytest.fixture(scope="module")
def messy():
    return build_instance("messy", 200, seed=1)


def test_families_plan_under_their_own_settings(messy):
    scen = messy.scenario
    assert scen.graph.max_gap_m == 500.0
    assert scen.bundling.min_area_ha == 5000.0
    assert scen.economics.carbon_price_usd == 10.0
    assert scen.bundling.objective == "npv"
    assert messy.settings == families.FAMILY_SETTINGS["messy"]
    # the instance's problems are built under that scenario
    assert messy.problems and all(isinstance(p, BundlingProblem) for p in messy.problems)
    assert all(np.all(p.min_area_ha == 5000.0) for p in messy.problems)
    assert sum(p.n for p in messy.problems) == messy.info["eligible_units"]
    # the problems are rebuilt, not pickled, for the runner's workers
    assert messy.__getstate__()["problem_set"] is None


def test_messy_is_reproducible(messy):
    assert _same(messy, build_instance("messy", 200, seed=1))
    assert not _same(messy, build_instance("messy", 200, seed=2))


def test_messy_has_the_claimed_properties(messy):
    units = messy.units
    geoms = units.geometry.values
    n = len(units)
    assert n == 200 and messy.info["landscapes"] == 3
    # neighbours: 15-150 m apart (each unit shrunk by 7.5-75 m), some overlapping
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=500.0)
    keep = left < right
    gap = shapely.distance(geoms[left[keep]], geoms[right[keep]])
    nearest = np.full(n, np.inf)
    np.minimum.at(nearest, left[keep], gap)
    np.minimum.at(nearest, right[keep], gap)
    between = (nearest >= 15.0 - 0.5) & (nearest <= 150.0 + 0.5)
    assert between.mean() >= 0.85, np.percentile(nearest, [5, 50, 95])
    assert 2 <= (units["overlap_ha"] > 0).sum() <= 0.1 * n
    # a few units with a detached part
    parts = shapely.get_num_geometries(geoms)
    assert 2 <= (parts > 1).sum() <= 0.05 * n
    # the 500 m rule links each landscape; touching does not; landscapes km apart
    assert messy.info["graph_components"] == messy.info["landscapes"]
    assert nx.number_connected_components(build_adjacency(units, 0.0)) > n / 2
    comps = [
        shapely.union_all(geoms[units["unit_id"].isin(c).to_numpy()])
        for c in nx.connected_components(messy.graph)
    ]
    apart = min(
        shapely.distance(comps[i], comps[j])
        for i in range(len(comps))
        for j in range(i + 1, len(comps))
    )
    assert apart >= families.LANDSCAPE_GAP_M - 10.0
    # a few hundred ha on average with a heavy tail: several units to reach 5,000 ha
    area = units["area_ha"].to_numpy()
    assert 150 < area.mean() < 600 and area.max() > 4 * np.median(area)
    stats = families.cost_test_stats(messy.problems)
    assert stats["compact_units"] >= 5
    # the product's scoring: real forest columns, and the cost test binds for some only
    assert {"forest_ha_2010", "forest_ha_2020", "peat_ha", "typology"} <= set(units.columns)
    assert 0.0 < stats["unit_pays"] < 1.0


def test_dense_is_one_component_under_touching():
    inst = build_instance("dense", 300, seed=1)
    assert inst.scenario.graph.max_gap_m == 0.0
    assert inst.scenario.economics.carbon_price_usd == 10.0
    assert nx.is_connected(inst.graph) and inst.component_sizes == [300]
    assert inst.units["area_ha"].mean() == pytest.approx(800.0, rel=0.01)
    stats = families.cost_test_stats(inst.problems)
    assert 0.05 < stats["compact_ok"] < 0.95, stats
    assert _same(inst, build_instance("dense", 300, seed=1))
    assert inst.maxp_units is not None  # a tessellation: in the max-p comparison too


def test_counties_need_several_units():
    inst = build_instance("counties", 159, seed=1)
    area = inst.units["area_ha"].to_numpy()
    rules = inst.scenario.bundling
    assert rules.min_area_ha == 300_000.0
    assert 20_000 < area.mean() < 60_000 and area.max() < rules.min_area_ha / 2
    # one tessellation: no gaps or overlaps, one component under touching
    assert (inst.units["overlap_ha"] == 0).all()
    assert nx.is_connected(inst.graph) and inst.info["eligible_share"] == 1.0
    stats = families.cost_test_stats(inst.problems)
    assert stats["roots"] == 159 and 5 <= stats["compact_units"] <= 20
    assert _same(inst, build_instance("counties", 159, seed=1))
    assert not _same(inst, build_instance("counties", 159, seed=2))


# ------------------------------------------------------------ GeoDa's max-p


@pytest.mark.skipif(not HAS_PYGEODA, reason="pygeoda not installed")
def test_pygeoda_maxp_is_valid():
    problem = maxp_problem(200, seed=0)
    cells, _ = voronoi_layer(200, 0)
    out = pygeoda_maxp(cells, problem.area_min_ha, 10_000.0, seed=1, threads=1)
    g = problem.graph()
    assert out["regions"] and out["runtime_s"] >= 0
    assert out["edges"] == {tuple(e) for e in np.asarray(problem.edges).tolist()}
    assert all(not problem.bundle_violations(r.tolist(), g) for r in out["regions"])
    covered = np.sort(np.concatenate(out["regions"]))
    assert len(covered) == len(set(covered.tolist()))
    assert len(out["regions"]) <= problem.area_min_ha.sum() // 10_000


@pytest.mark.skipif(not HAS_PYGEODA, reason="pygeoda not installed")
def test_pygeoda_refuses_groups_below_the_threshold():
    # GeoDa's maxp_greedy never returns when a group of neighbours cannot reach the bound
    cells = [shapely.box(i, j, i + 1, j + 1) for i in range(3) for j in range(3)]
    cells += [shapely.box(10, 10, 11, 11), shapely.box(11, 10, 12, 11)]
    with pytest.raises(ValueError, match="cannot reach"):
        pygeoda_maxp(cells, np.ones(len(cells)), 3.0)


@pytest.mark.skipif(not HAS_PYGEODA, reason="pygeoda not installed")
def test_runner_pygeoda_row(tmp_path):
    inst = build_instance("counties", 60, seed=3)
    path = inst.save(tmp_path / f"{inst.name}.pkl")
    assert load_instance(path).problems  # rebuilt after loading
    spec = {
        "instance_path": str(path),
        "instance": inst.name,
        "family": inst.family,
        "n": inst.n,
        "part": "max-p",
        "solver": "pygeoda",
        "variant": "it=20",
        "time_limit": 5.0,
        "seed": 0,
        "threads": 1,
        "settings": "",
        "settings_json": '{"iterations": 20, "cpu_threads": 1}',
    }
    row = run_task(spec)
    assert row["termination"] == "feasible", row
    assert row["objective"] >= 1 and row["n_bundles"] == row["objective"]
    assert "0 invalid" in row["note"] and "0 edges differ" in row["note"]
