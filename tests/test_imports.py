"""OR-Tools, highspy and PuLP must load together in one process, in any order.

OR-Tools and highspy each ship a ``libhighs``; whichever loads first wins, and with
mismatched versions the other fails with an undefined symbol (``import pulp`` loads
highspy too). Load order is per process, so every order runs in a fresh interpreter,
and each one solves a tiny model in every library, since a clean import alone would
not show a symbol clash that appears only when HiGHS actually runs.
"""

from __future__ import annotations

import itertools
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

IMPORTS = {
    "ortools": "from ortools.sat.python import cp_model\n"
    "from ortools.linear_solver import pywraplp",
    "highspy": "import highspy",
    "pulp": "import pulp",
}

# max x + y  s.t.  x + 2y <= 3,  x, y in {0, 1, 2}  ->  optimum 2 (x = 1, y = 1 or x = 2, y = 0)
SOLVE_ALL = textwrap.dedent(
    """
    from ortools.sat.python import cp_model
    from ortools.linear_solver import pywraplp
    import highspy
    import numpy as np
    import pulp

    m = cp_model.CpModel()
    x, y = m.new_int_var(0, 2, "x"), m.new_int_var(0, 2, "y")
    m.add(x + 2 * y <= 3)
    m.maximize(x + y)
    s = cp_model.CpSolver()
    assert s.solve(m) == cp_model.OPTIMAL and s.objective_value == 2, "cp-sat"

    # OR-Tools' own copy of HiGHS, the library that clashes with highspy's
    for backend in ("HIGHS", "SCIP"):
        lp = pywraplp.Solver.CreateSolver(backend)
        assert lp is not None, backend
        x, y = lp.IntVar(0, 2, "x"), lp.IntVar(0, 2, "y")
        lp.Add(x + 2 * y <= 3)
        lp.Maximize(x + y)
        assert lp.Solve() == pywraplp.Solver.OPTIMAL, backend
        assert abs(lp.Objective().Value() - 2) < 1e-9, backend

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(
        2, 1, 2, int(highspy.MatrixFormat.kRowwise), int(highspy.ObjSense.kMaximize), 0.0,
        np.array([1.0, 1.0]), np.zeros(2), np.full(2, 2.0),
        np.array([-np.inf]), np.array([3.0]),
        np.array([0, 2], dtype=np.int32), np.array([0, 1], dtype=np.int32),
        np.array([1.0, 2.0]), np.array([1, 1], dtype=np.int32),
    )
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal, "highspy"
    assert abs(h.getInfo().objective_function_value - 2) < 1e-9, "highspy"

    prob = pulp.LpProblem("t", pulp.LpMaximize)
    px = pulp.LpVariable("x", 0, 2, cat="Integer")
    py = pulp.LpVariable("y", 0, 2, cat="Integer")
    prob += px + py
    prob += px + 2 * py <= 3
    for solver in (pulp.PULP_CBC_CMD(msg=False), pulp.HiGHS(msg=False)):
        prob.solve(solver)
        assert pulp.LpStatus[prob.status] == "Optimal", solver.name
        assert abs(pulp.value(prob.objective) - 2) < 1e-9, solver.name
    print("ok")
    """
)


@pytest.mark.parametrize("order", list(itertools.permutations(IMPORTS)), ids=lambda o: "-".join(o))
def test_solver_libraries_load_and_solve_in_any_order(order):
    code = "\n".join(IMPORTS[name] for name in order) + "\n" + SOLVE_ALL
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, f"order {order} failed:\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip().endswith("ok")


def test_importing_solvers_loads_no_solver_library():
    code = textwrap.dedent(
        """
        import sys
        import solvers.registry, solvers.mip, solvers.mip.model, solvers.mip.rooted
        import solvers.mip.highs, solvers.mip.cbc, solvers.mip.cpsat, solvers.api
        loaded = [m for m in ("highspy", "ortools", "pulp") if m in sys.modules]
        assert not loaded, loaded
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
