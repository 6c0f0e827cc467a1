"""OR-Tools CP-SAT on a pure integer :class:`~solvers.mip.model.MipModel`.

CP-SAT only knows integer variables and integer (int64) coefficients, so the model
is translated:

* **Variables** keep their bounds, rounded inwards to integers; an infinite bound
  becomes ``±(2**31 - 1)``. A model with any continuous variable is refused
  (``ERROR``).
* **Rows** are scaled one by one by ``s = 10**k``, the smallest ``k`` in ``0..6`` that
  makes every coefficient of the row integral (within ``1e-9`` relative). The
  activity ``s * a @ x`` of integer ``x`` is then an integer, so rounding the
  bounds inwards (``hi`` down, ``lo`` up) is *exact*.
* Rows whose coefficients are still fractional after ``10**6`` scaling are rounded
  **conservatively**, so that every solution of the rounded row satisfies the
  original one: for ``a @ x <= hi`` each coefficient is rounded up when its
  variable is ``>= 0`` (down when ``<= 0``), which can only raise the activity;
  a variable of either sign gets the nearest integer and the worst-case error
  ``|a' - s a| * max(|lb|, |ub|)`` is taken off ``hi``; ``hi`` is then rounded down.
  ``>=`` rows are mirrored (coefficients down, ``lo`` up); a two-sided row becomes
  one copy of each. Such a row is slightly *tighter* than the original, so CP-SAT
  solves a restriction: its answers are feasible for the original model, but
  "optimal" and "infeasible" refer to the restriction (the message says so).
* **Objective** coefficients are scaled the same way but rounded to the nearest
  integer, so the objective CP-SAT optimizes may be approximate. The reported
  objective is recomputed in floats from ``x``; the reported bound is CP-SAT's
  bound divided by the scale and widened by the worst-case rounding error, so
  it stays a valid bound. If that widening leaves a gap above ``rel_gap``, an
  "optimal" answer is reported as ``FEASIBLE``.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from solvers.base import SolveParams, SolveResult, Termination, relative_gap
from solvers.mip.model import INT_TOL, MipModel, within_gap

NAME = "cpsat"
KIND = "mip"
DESCRIPTION = "OR-Tools CP-SAT (pure integer models; rows scaled to integers)"

MAX_POWER = 6  # scale by at most 10**6
_REL_TOL = 1e-9  # a scaled coefficient this close (relatively) to an integer is one
_BIG = 2**31 - 1  # stand-in for an infinite integer bound
_INT64_SAFE = 2.0**62  # keep every activity bound well inside int64
_MAX_AUTO_WORKERS = 8


def is_available() -> bool:
    """True when OR-Tools' CP-SAT imports."""
    try:
        from ortools.sat.python import cp_model  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def solve_mip(
    model: MipModel, params: SolveParams, warm_start: np.ndarray | None = None
) -> SolveResult:
    """Solve a pure integer :class:`~solvers.mip.model.MipModel` with CP-SAT.

    Parameters
    ----------
    model : MipModel
        Every variable must be integer (see the module docstring for the scaling).
    params : SolveParams
        ``threads`` becomes ``num_workers``; ``0`` uses one worker per CPU (at most 8).
    warm_start : numpy.ndarray of shape (n,), optional
        Passed to CP-SAT as a solution hint.

    Returns
    -------
    SolveResult
        ``ERROR`` for a model with continuous variables or coefficients too large
        for int64 after scaling; never raises for solver-side failures.
    """
    t0 = time.perf_counter()
    if not model.is_pure_integer:
        return _result(
            t0,
            Termination.ERROR,
            message="CP-SAT needs a pure integer model; this one has "
            f"{int((~model.integer).sum())} continuous variable(s)",
        )
    if (reason := model.trivially_infeasible()) is not None:
        return _result(t0, Termination.INFEASIBLE, message=reason)
    try:
        return _solve(model, params, warm_start, t0)
    except _ScalingError as exc:
        return _result(t0, Termination.ERROR, message=str(exc))
    except _InfeasibleRowError as exc:
        return _result(t0, Termination.INFEASIBLE, message=str(exc))
    except Exception as exc:  # a backend failure must not bring the caller down
        return _result(t0, Termination.ERROR, message=f"CP-SAT failed: {type(exc).__name__}: {exc}")


class _ScalingError(ValueError):
    pass


class _InfeasibleRowError(ValueError):
    pass


def integer_bounds(model: MipModel) -> tuple[np.ndarray, np.ndarray]:
    """Variable bounds rounded inwards to integers, infinite ones replaced by ``±(2**31-1)``."""
    lb = np.where(np.isfinite(model.lb), np.ceil(model.lb - INT_TOL), -_BIG)
    ub = np.where(np.isfinite(model.ub), np.floor(model.ub + INT_TOL), _BIG)
    return np.maximum(lb, -_BIG).astype(np.int64), np.minimum(ub, _BIG).astype(np.int64)


def powers_of_ten(values: np.ndarray) -> np.ndarray:
    """Per value, the smallest ``k`` in ``0..6`` with ``values * 10**k`` integral, else 7."""
    k = np.full(values.shape, MAX_POWER + 1, dtype=np.int64)
    for p in range(MAX_POWER, -1, -1):
        v = values * 10.0**p
        ok = np.abs(v - np.round(v)) <= _REL_TOL * np.maximum(1.0, np.abs(v))
        k[ok] = p
    return k


def scale_rows(model: MipModel, lb: np.ndarray, ub: np.ndarray):
    """Integer rows equivalent to (or, when inexact, tighter than) the model's rows.

    Parameters
    ----------
    model : MipModel
    lb, ub : numpy.ndarray of int64
        Integer variable bounds (see :func:`integer_bounds`).

    Returns
    -------
    rows : list of (cols, coefs, lo, hi)
        ``cols`` an int array, ``coefs`` Python ints, ``lo`` / ``hi`` Python ints
        or ``None`` for an absent side.
    inexact : int
        Number of original rows that had to be rounded conservatively.
    """
    A = model.A
    m = model.num_rows
    counts = np.diff(A.indptr)
    row_of = np.repeat(np.arange(m), counts)
    k_nz = powers_of_ten(A.data)
    k_row = np.zeros(m, dtype=np.int64)
    np.maximum.at(k_row, row_of, k_nz)
    exact_row = k_row <= MAX_POWER
    scale = 10.0 ** np.minimum(k_row, MAX_POWER)
    v = A.data * scale[row_of]
    big = np.maximum(np.abs(lb), np.abs(ub)).astype(float)
    cols = A.indices
    pos, neg = lb[cols] >= 0, ub[cols] <= 0
    up = np.where(pos, np.ceil(v), np.where(neg, np.floor(v), np.round(v)))
    down = np.where(pos, np.floor(v), np.where(neg, np.ceil(v), np.round(v)))
    mixed = ~(pos | neg)
    err_up = np.zeros(m)
    err_down = np.zeros(m)
    np.add.at(err_up, row_of[mixed], (np.abs(up - v) * big[cols])[mixed])
    np.add.at(err_down, row_of[mixed], (np.abs(down - v) * big[cols])[mixed])
    nearest = np.round(v)
    magnitude = np.zeros(m)
    np.add.at(magnitude, row_of, (np.abs(v) + 1.0) * big[cols])
    # activity range of the scaled row over the box, to drop sides no point can reach
    # (e.g. 1e30 standing for infinity, which would not fit in int64)
    act_min = np.zeros(m)
    act_max = np.zeros(m)
    np.add.at(act_min, row_of, np.minimum(v * lb[cols], v * ub[cols]))
    np.add.at(act_max, row_of, np.maximum(v * lb[cols], v * ub[cols]))

    rows = []
    for i in range(m):
        start, end = A.indptr[i], A.indptr[i + 1]
        lo, hi = model.row_lo[i], model.row_hi[i]
        if start == end or (lo == -math.inf and hi == math.inf):
            continue
        if magnitude[i] >= _INT64_SAFE:
            raise _ScalingError(
                f"row {i} is too large for CP-SAT's 64-bit integers after scaling by {scale[i]:g}"
            )
        c = cols[start:end]
        s = scale[i]
        slack = _REL_TOL * max(1.0, abs(act_min[i]), abs(act_max[i]))
        if hi * s < act_min[i] - slack or lo * s > act_max[i] + slack:
            raise _InfeasibleRowError(f"row {i} cannot be satisfied within the variable bounds")
        if lo * s <= act_min[i]:
            lo = -math.inf
        if hi * s >= act_max[i]:
            hi = math.inf
        if lo == -math.inf and hi == math.inf:
            continue
        lo_s = _ceil(lo * s) if lo > -math.inf else None
        hi_s = _floor(hi * s) if hi < math.inf else None
        if exact_row[i]:
            rows.append((c, _ints(nearest[start:end]), lo_s, hi_s))
            continue
        if hi_s is not None:
            rows.append((c, _ints(up[start:end]), None, _floor(hi * s - err_up[i])))
        if lo_s is not None:
            rows.append((c, _ints(down[start:end]), _ceil(lo * s + err_down[i]), None))
    for _, _, lo_s, hi_s in rows:
        for side in (lo_s, hi_s):
            if side is not None and abs(side) >= _INT64_SAFE:
                raise _ScalingError("a row bound is too large for CP-SAT after scaling")
    return rows, int((~exact_row).sum())


def scale_objective(model: MipModel, lb: np.ndarray, ub: np.ndarray):
    """Integer objective coefficients, the scale and the worst-case rounding error.

    Returns
    -------
    coefs : numpy.ndarray of int64
    scale : float
        The objective CP-SAT sees is about ``scale * (obj @ x)``.
    error : float
        Bound on ``|coefs @ x - scale * obj @ x|`` over the variable box (0 when exact).
    """
    c = model.obj
    nz = c != 0
    k = int(powers_of_ten(c[nz]).max()) if nz.any() else 0
    scale = 10.0 ** min(k, MAX_POWER)
    v = c * scale
    coefs = np.round(v)
    big = np.maximum(np.abs(lb), np.abs(ub)).astype(float)
    error = float((np.abs(coefs - v) * big).sum()) if k > MAX_POWER else 0.0
    if float(((np.abs(v) + 1.0) * big).sum()) >= _INT64_SAFE:
        raise _ScalingError("the objective is too large for CP-SAT's 64-bit integers")
    return coefs.astype(np.int64), scale, error


def _solve(model: MipModel, params: SolveParams, warm_start, t0: float) -> SolveResult:
    from ortools.sat.python import cp_model

    lb, ub = integer_bounds(model)
    rows, inexact = scale_rows(model, lb, ub)
    obj_coefs, obj_scale, obj_error = scale_objective(model, lb, ub)

    cp = cp_model.CpModel()
    xs = [cp.new_int_var(int(lo), int(hi), "") for lo, hi in zip(lb, ub, strict=True)]
    for cols, coefs, lo, hi in rows:
        expr = cp_model.LinearExpr.weighted_sum([xs[j] for j in cols], coefs)
        if lo is not None and hi is not None:
            cp.add_linear_constraint(expr, lo, hi)
        elif hi is not None:
            cp.add(expr <= hi)
        else:
            cp.add(expr >= lo)
    nz = np.flatnonzero(obj_coefs)
    has_objective = nz.size > 0
    if has_objective:
        expr = cp_model.LinearExpr.weighted_sum([xs[j] for j in nz], _ints(obj_coefs[nz]))
        if model.maximize:
            cp.maximize(expr)
        else:
            cp.minimize(expr)
    if warm_start is not None:
        x0 = np.clip(np.round(np.asarray(warm_start, dtype=float)), lb, ub)
        for v, val in zip(xs, x0.astype(np.int64).tolist(), strict=True):
            cp.add_hint(v, val)

    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = float(params.time_limit)
    p.relative_gap_limit = float(params.rel_gap)
    p.num_workers = int(params.threads) if params.threads > 0 else _auto_workers()
    p.random_seed = int(params.seed)
    p.log_search_progress = bool(params.verbose)
    status = solver.solve(cp)
    runtime = time.perf_counter() - t0

    note = (
        f"; {inexact} row(s) rounded conservatively, so CP-SAT solved a slightly tighter model"
        if inexact
        else ""
    )
    message = f"CP-SAT: {solver.status_name(status)}{note}"
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        x = model.round_solution(np.asarray(solver.response_proto.solution, dtype=float))
        objective = model.objective_value(x)
        if has_objective:
            sign = 1.0 if model.maximize else -1.0
            bound = (solver.best_objective_bound + sign * obj_error) / obj_scale
            bound += model.obj_offset
            if (bound - objective) * sign < -1e-9 * max(1.0, abs(objective)):
                bound = None  # CP-SAT's placeholder, not a bound (see below)
        else:
            bound = objective if status == cp_model.OPTIMAL else None
        gap = relative_gap(objective, bound)
        term = Termination.OPTIMAL if status == cp_model.OPTIMAL else Termination.FEASIBLE
        if inexact:
            # proofs about the tightened model say nothing certain about the real one:
            # its optimum may be higher, so neither "optimal" nor the bound carries over
            term, bound, gap = Termination.FEASIBLE, None, None
        if term == Termination.OPTIMAL and not within_gap(gap, params.rel_gap):
            term = Termination.FEASIBLE
            message += "; outside rel_gap as SolveResult measures it" + (
                " (the objective was rounded to integers)" if obj_error else ""
            )
        return _result(t0, term, objective, bound, gap, x, message, runtime)
    if status == cp_model.INFEASIBLE:
        # infeasibility of a tightened model does not prove the real one infeasible
        term = Termination.NO_SOLUTION if inexact else Termination.INFEASIBLE
        return _result(t0, term, message=message, runtime=runtime)
    if status == cp_model.UNKNOWN:
        # no bound: when the limit strikes during presolve CP-SAT reports 0 as its
        # "best bound", which is no bound at all, and nothing here tells the cases apart
        return _result(t0, Termination.NO_SOLUTION, message=message, runtime=runtime)
    if status == cp_model.MODEL_INVALID:
        message += f": {cp.validate()}"
    return _result(t0, Termination.ERROR, message=message, runtime=runtime)


def _auto_workers() -> int:
    return max(1, min(os.cpu_count() or 1, _MAX_AUTO_WORKERS))


def _floor(v: float) -> int:
    return math.floor(v + _REL_TOL * max(1.0, abs(v)))


def _ceil(v: float) -> int:
    return math.ceil(v - _REL_TOL * max(1.0, abs(v)))


def _ints(a: np.ndarray) -> list[int]:
    return a.astype(np.int64).tolist()


def _result(
    t0: float,
    termination: Termination,
    objective: float | None = None,
    bound: float | None = None,
    gap: float | None = None,
    x: np.ndarray | None = None,
    message: str = "",
    runtime: float | None = None,
) -> SolveResult:
    return SolveResult(
        termination,
        objective,
        bound,
        gap,
        time.perf_counter() - t0 if runtime is None else runtime,
        x=x,
        solver=NAME,
        message=message,
    )
