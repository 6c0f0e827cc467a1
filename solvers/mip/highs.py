"""HiGHS through highspy, in process: the ``"highs"`` MIP backend and the LP relaxation.

The model goes to HiGHS in one ``passModel`` call with the row-wise (CSR) matrix,
so building costs no Python loop over rows. Besides :func:`solve_mip`, this module
provides :func:`open_lp`, an LP relaxation kept in one HiGHS instance that takes
added rows and re-solves from the previous basis; the rooted model's LP cut rounds
reach it through :func:`solvers.registry.open_lp_relaxation`. HiGHS is the only
backend with such an incremental LP, so it is the one LP provider.

``highspy`` is imported inside the functions: importing it loads ``libhighs``, which
must not happen as a side effect of importing :mod:`solvers` (see "Known environment
traps" in docs/architecture.md).
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from solvers.base import SolveParams, SolveResult, Termination, relative_gap
from solvers.mip.model import MipModel, within_gap

NAME = "highs"
KIND = "mip"
DESCRIPTION = "HiGHS branch-and-cut via highspy (in process)"


def is_available() -> bool:
    """True when highspy imports."""
    try:
        import highspy  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def solve_mip(
    model: MipModel, params: SolveParams, warm_start: np.ndarray | None = None
) -> SolveResult:
    """Solve a :class:`~solvers.mip.model.MipModel` with HiGHS.

    Parameters
    ----------
    model : MipModel
    params : SolveParams
        ``threads=0`` leaves HiGHS' own default. HiGHS keeps one thread pool per
        process; a solve asking for a different size restarts it, so do not run
        HiGHS solves with different ``threads`` concurrently in one process.
    warm_start : numpy.ndarray of shape (n,), optional
        A starting solution, handed to HiGHS with ``setSolution``; HiGHS checks it
        and ignores it if infeasible.

    Returns
    -------
    SolveResult
        Never raises for solver-side failures: those come back as ``ERROR``.
    """
    t0 = time.perf_counter()
    try:
        return _solve(model, params, warm_start, t0)
    except Exception as exc:  # a backend failure must not bring the caller down
        return _error(t0, f"HiGHS failed: {type(exc).__name__}: {exc}")


# HiGHS 1.12's MIP presolve does not check the time limit inside presolve rule 15
# (upstream issues ERGO-Code/HiGHS#1501, #2478): on a 107-unit component of the
# 100,000-unit national benchmark it ran 18 s on a 1 s budget. Switching that rule
# off alone (found by switching off each rule in turn) keeps the limit, and on the
# 2,000-unit planning benchmark (seeds 11, 12, 14) it was as fast or faster, with
# one more optimum proven (seed 11: optimal in 14 s instead of a 1.6% gap at 25 s).
_RULES_OFF = 1 << 15


def pass_model(h, model: MipModel, relax: bool = False):
    """Load ``model`` into the ``highspy.Highs`` object ``h``; its LP relaxation if ``relax``.

    Returns HiGHS' status of ``passModel``.
    """
    import highspy

    A = model.A
    integer = np.zeros(model.num_vars, dtype=np.int32) if relax else model.integer
    return h.passModel(
        model.num_vars,
        model.num_rows,
        int(A.nnz),
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMaximize if model.maximize else highspy.ObjSense.kMinimize),
        model.obj_offset,
        model.obj,
        model.lb,
        model.ub,
        model.row_lo,
        model.row_hi,
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(np.float64),
        integer.astype(np.int32),  # 1 == HighsVarType.kInteger
    )


def _solve(model: MipModel, params: SolveParams, warm_start, t0: float) -> SolveResult:
    import highspy

    h = highspy.Highs()
    opts = {
        "output_flag": bool(params.verbose),
        "time_limit": float(params.time_limit),
        "mip_rel_gap": float(params.rel_gap),
        "random_seed": int(params.seed),
        "presolve_rule_off": _RULES_OFF,
    }
    if params.threads > 0:
        opts["threads"] = int(params.threads)
    for key, value in opts.items():
        if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
            return _error(t0, f"HiGHS rejected option {key}={value!r}")

    n = model.num_vars
    status = pass_model(h, model)
    if status == highspy.HighsStatus.kError:
        return _error(t0, "HiGHS rejected the model")

    if warm_start is not None:
        x0 = model.round_solution(warm_start)
        h.setSolution(n, np.arange(n, dtype=np.int32), x0)

    _run(h)
    runtime = time.perf_counter() - t0
    ms = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(ms)
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = model.round_solution(h.getSolution().col_value) if has_x else None
    objective = model.objective_value(x) if x is not None else None
    # an LP has no MIP dual bound; an optimal LP's bound is its objective (set below)
    bound = float(info.mip_dual_bound) if model.integer.any() else None
    if bound is not None and not math.isfinite(bound):
        bound = None

    S = highspy.HighsModelStatus
    limits = (
        S.kTimeLimit,
        S.kIterationLimit,
        S.kSolutionLimit,
        S.kInterrupt,
        S.kHighsInterrupt,
        S.kObjectiveBound,
        S.kObjectiveTarget,
        S.kMemoryLimit,
    )
    if bound is not None and objective is not None:
        sense = 1.0 if model.maximize else -1.0
        if (bound - objective) * sense < -1e-6 * max(1.0, abs(objective)):
            bound = None  # on the wrong side of the solution: not a bound
    if ms == S.kOptimal and x is not None:
        term = Termination.OPTIMAL
        if bound is None:
            bound = objective
        if not within_gap(relative_gap(objective, bound), params.rel_gap):
            term = Termination.FEASIBLE
            text += "; outside rel_gap as SolveResult measures it"
    elif ms in limits:
        term = Termination.FEASIBLE if x is not None else Termination.NO_SOLUTION
    elif ms == S.kInfeasible:
        term, x, objective, bound = Termination.INFEASIBLE, None, None, None
    else:
        term, x, objective = Termination.ERROR, None, None
    return SolveResult(
        term,
        objective,
        bound,
        relative_gap(objective, bound),
        runtime,
        x=x,
        solver=NAME,
        message=text,
    )


def _run(h) -> None:
    """``h.run()``, once more after restarting HiGHS' thread pool if the pool refused it."""
    import highspy  # loads libhighs: never at module import (see the module docstring)

    if h.run() == highspy.HighsStatus.kError and h.getModelStatus() == (
        highspy.HighsModelStatus.kNotset
    ):
        # HiGHS sizes one global thread pool at the first solve in the process and
        # refuses to run a later solve that asks for another size; restart the pool.
        highspy.Highs.resetGlobalScheduler(True)
        h.run()


class HighsLp:
    """The LP relaxation of a :class:`MipModel` in one HiGHS instance (see :func:`open_lp`).

    Implements :class:`solvers.mip.model.LpRelaxation`.
    """

    def __init__(self, model: MipModel, threads: int = 0):
        import highspy  # loads libhighs: never at module import (see the module docstring)

        self._h = h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        if threads > 0:
            h.setOptionValue("threads", int(threads))
        pass_model(h, model, relax=True)

    def solve(self, time_limit: float) -> tuple[float, np.ndarray] | None:
        """Re-solve (from the last basis); ``(objective, x)`` when optimal, else None."""
        import highspy  # loads libhighs: never at module import (see the module docstring)

        h = self._h
        h.setOptionValue("time_limit", float(time_limit))
        _run(h)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return float(h.getInfo().objective_function_value), np.asarray(h.getSolution().col_value)

    def add_rows(self, A, lo: np.ndarray, hi: np.ndarray) -> None:
        """Append rows ``lo <= A @ x <= hi`` (``A`` any scipy sparse matrix)."""
        C = sp.csr_array(A)
        C.sort_indices()
        self._h.addRows(
            C.shape[0],
            lo,
            hi,
            int(C.nnz),
            C.indptr.astype(np.int32),
            C.indices.astype(np.int32),
            C.data.astype(np.float64),
        )


def open_lp(model: MipModel, threads: int = 0) -> HighsLp:
    """The LP relaxation of ``model``, ready to solve and to take cuts.

    Parameters
    ----------
    model : MipModel
    threads : int
        As :attr:`SolveParams.threads`; matching a later HiGHS MIP's keeps HiGHS
        from resizing its process-wide thread pool in between.

    Raises
    ------
    ImportError, OSError
        When highspy cannot be loaded.
    """
    return HighsLp(model, threads)


def _error(t0: float, message: str) -> SolveResult:
    return SolveResult.failed(NAME, time.perf_counter() - t0, message)
