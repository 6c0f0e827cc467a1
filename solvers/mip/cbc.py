"""CBC through PuLP (``pulp.PULP_CBC_CMD``, the CBC executable bundled with PuLP).

CBC runs as a separate process on files written to a private temporary directory,
which is removed afterwards. Two PuLP details shape this module:

* PuLP reports status ``Optimal`` also when CBC stopped at the time limit with an
  integer solution; only ``prob.sol_status`` (``LpSolutionOptimal`` versus
  ``LpSolutionIntegerFeasible``) tells a proof from a timed-out answer.
* PuLP does not return CBC's best bound. CBC prints it in its log after the
  "Result -" line ("Lower bound:" when minimizing, "Upper bound:" with ``-max``),
  so the log goes to a file and is parsed. The log's objective leaves out the
  objective constant; the bound is only trusted after the log's objective has been
  matched to the returned solution. Otherwise the bound is ``None`` for a
  feasible answer.

CBC does not check its time limit while it solves the root LP relaxation, which
on a large, degenerate model can take many times the limit. A watchdog therefore
kills the CBC process (found by its private temporary directory among this
process's children, on Linux) once it overruns the limit by
:func:`kill_after` seconds; the answer is then ``NO_SOLUTION``.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import warnings

import numpy as np

from solvers.base import SolveParams, SolveResult, Termination, relative_gap
from solvers.mip.model import MipModel, within_gap

NAME = "cbc"
KIND = "mip"
DESCRIPTION = "COIN-OR CBC via PuLP's bundled executable"

_BOUND_RE = re.compile(r"^(?:Lower|Upper) bound:\s*(\S+)", re.MULTILINE)
_OBJ_RE = re.compile(r"^Objective value:\s*(\S+)", re.MULTILINE)
_RESULT_RE = re.compile(r"^Result - (.*)$", re.MULTILINE)


def is_available() -> bool:
    """True when PuLP imports and its bundled CBC executable is present."""
    try:
        import pulp

        return bool(_cbc_cmd(pulp, msg=False).available())
    except (ImportError, OSError):
        return False


def solve_mip(
    model: MipModel, params: SolveParams, warm_start: np.ndarray | None = None
) -> SolveResult:
    """Solve a :class:`~solvers.mip.model.MipModel` with CBC.

    Parameters
    ----------
    model : MipModel
    params : SolveParams
        ``seed=0`` keeps CBC's own fixed default seed (CBC reads a zero
        ``randomCbcSeed`` as "seed from the clock", which is not reproducible).
        ``threads`` of 0 or 1 runs serial CBC; more starts CBC's threaded search.
    warm_start : numpy.ndarray of shape (n,), optional
        Starting values, passed to CBC as a MIP start (``-mips``).

    Returns
    -------
    SolveResult
        ``bound`` comes from CBC's log; it is ``None`` for a feasible answer when
        the log does not state it. Never raises for solver-side failures.
    """
    t0 = time.perf_counter()
    if (reason := model.trivially_infeasible()) is not None:
        return SolveResult(
            Termination.INFEASIBLE,
            None,
            None,
            None,
            time.perf_counter() - t0,
            solver=NAME,
            message=reason,
        )
    tmp = tempfile.mkdtemp(prefix="psb-cbc-")
    try:
        return _solve(model, params, warm_start, t0, tmp)
    except Exception as exc:  # a backend failure must not bring the caller down
        return SolveResult.failed(
            NAME, time.perf_counter() - t0, f"CBC failed: {type(exc).__name__}: {exc}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _solve(model: MipModel, params: SolveParams, warm_start, t0: float, tmp: str):
    import pulp

    prob = pulp.LpProblem("psb", pulp.LpMaximize if model.maximize else pulp.LpMinimize)
    # PuLP 3 deprecates constructing LpVariable directly in favour of add_variable
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable
    lbs, ubs = model.lb.tolist(), model.ub.tolist()
    xs = [
        new_var(
            f"x{j}",
            lbs[j] if lbs[j] > -math.inf else None,
            ubs[j] if ubs[j] < math.inf else None,
            pulp.LpInteger if is_int else pulp.LpContinuous,
        )
        for j, is_int in enumerate(model.integer.tolist())
    ]
    # Every variable goes into the objective, zero costs included: a variable in no
    # row and with no cost would otherwise be left out of the file with its bounds.
    prob.setObjective(
        pulp.LpAffineExpression(
            list(zip(xs, model.obj.tolist(), strict=True)), constant=model.obj_offset
        )
    )
    A = model.A
    # plain Python lists: indexing numpy arrays per term is several times slower
    indptr, cols, coefs = A.indptr.tolist(), A.indices.tolist(), A.data.tolist()
    for i, (lo, hi) in enumerate(zip(model.row_lo.tolist(), model.row_hi.tolist(), strict=True)):
        start, end = indptr[i], indptr[i + 1]
        if start == end or (lo == -math.inf and hi == math.inf):
            continue  # trivially_infeasible already vetted empty rows
        terms = [(xs[cols[k]], coefs[k]) for k in range(start, end)]
        if lo == hi:
            senses = [(pulp.LpConstraintEQ, hi, "e")]
        else:
            senses = []
            if hi < math.inf:
                senses.append((pulp.LpConstraintLE, hi, "u"))
            if lo > -math.inf:
                senses.append((pulp.LpConstraintGE, lo, "l"))
        for sense, rhs, tag in senses:
            expr = pulp.LpAffineExpression(terms)
            prob.addConstraint(pulp.LpConstraint(expr, sense, rhs=rhs), f"r{i}{tag}")

    if warm_start is not None:
        x0 = model.round_solution(warm_start)
        for v, val in zip(xs, x0, strict=True):
            v.setInitialValue(float(val), check=False)

    options = []
    if params.seed > 0:
        options += [f"randomSeed {params.seed}", f"randomCbcSeed {params.seed}"]
    log_path = os.path.join(tmp, "cbc.log")
    solver = _cbc_cmd(
        pulp,
        msg=False,
        timeLimit=params.time_limit,
        gapRel=params.rel_gap,
        # CBC's threaded code path (any -threads value) sometimes stalls ~10 s on exit
        # (seen with the bundled CBC 2.10.3), so one thread means plain serial CBC.
        threads=params.threads if params.threads > 1 else None,
        warmStart=warm_start is not None,
        options=options,
        logPath=log_path,
    )
    solver.tmpDir = tmp
    watchdog = _Watchdog(tmp, kill_after(params.time_limit))
    failure = None
    try:
        prob.solve(solver)
    except pulp.PulpSolverError as exc:
        failure = exc
    finally:
        watchdog.stop()
    runtime = time.perf_counter() - t0
    if failure is not None:
        if not watchdog.killed:
            raise failure
        return SolveResult(
            Termination.NO_SOLUTION,
            None,
            None,
            None,
            runtime,
            solver=NAME,
            message=f"CBC overran its {params.time_limit:g} s time limit (it does not check "
            f"the limit in the root LP) and was stopped after {runtime:.1f} s",
        )
    log = _read(log_path)
    if params.verbose:
        print(log)

    result_line = m.group(1).strip() if (m := _RESULT_RE.search(log)) else ""
    message = f"{pulp.LpStatus[prob.status]}; {pulp.LpSolution[prob.sol_status]}"
    if result_line:
        message += f"; CBC: {result_line}"

    if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        x = model.round_solution([v.varValue if v.varValue is not None else 0.0 for v in xs])
        violation = model.max_violation(x)
        if violation > _feasibility_tol(model):
            # CBC can stop mid-search and still write "objective value" with a point
            # that is not a solution (coin-or/pulp#711); PuLP then calls it feasible.
            term = Termination.ERROR if prob.sol_status == pulp.LpSolutionOptimal else None
            return SolveResult(
                term or Termination.NO_SOLUTION,
                None,
                _log_bound(log, model, None) if term is None else None,
                None,
                runtime,
                solver=NAME,
                message=f"{message}; CBC's point violates the model by {violation:.3g}",
            )
        objective = model.objective_value(x)
        bound = _log_bound(log, model, objective)
        sense = 1.0 if model.maximize else -1.0
        if bound is not None and (bound - objective) * sense < -1e-6 * max(1.0, abs(objective)):
            bound = None  # a "bound" on the wrong side of the solution is not one
        term = Termination.FEASIBLE
        if prob.sol_status == pulp.LpSolutionOptimal:
            # CBC's summary has no bound line when the search closed the gap
            bound = objective if bound is None else bound
            if within_gap(relative_gap(objective, bound), params.rel_gap):
                term = Termination.OPTIMAL
            else:
                message += "; outside rel_gap as SolveResult measures it"
        return SolveResult(
            term,
            objective,
            bound,
            relative_gap(objective, bound),
            runtime,
            x=x,
            solver=NAME,
            message=message,
        )
    if prob.status == pulp.LpStatusInfeasible:
        return SolveResult(
            Termination.INFEASIBLE, None, None, None, runtime, solver=NAME, message=message
        )
    if prob.status == pulp.LpStatusNotSolved:
        bound = _log_bound(log, model, None)
        return SolveResult(
            Termination.NO_SOLUTION, None, bound, None, runtime, solver=NAME, message=message
        )
    return SolveResult.failed(NAME, runtime, message)


def _log_bound(log: str, model: MipModel, objective: float | None) -> float | None:
    """CBC's best bound from the summary at the end of its log, or ``None``.

    The summary's "Objective value" is compared with ``objective`` (the value of
    the returned solution) to learn whether CBC counted the objective constant,
    so that the bound is put on the same footing; with no solution to compare,
    the constant is assumed left out, as CBC does with PuLP's MPS files.
    """
    start = log.rfind("Result - ")
    if start < 0:
        return None
    summary = log[start:]
    bound = _number(_BOUND_RE.search(summary))
    if bound is None:
        return None
    if objective is None:
        return bound + model.obj_offset
    log_obj = _number(_OBJ_RE.search(summary))
    if log_obj is None:
        return None
    tol = 1e-6 * max(1.0, abs(objective))
    if abs(log_obj + model.obj_offset - objective) <= tol:
        return bound + model.obj_offset
    if abs(log_obj - objective) <= tol:
        return bound
    return None


def _number(match: re.Match | None) -> float | None:
    if match is None:
        return None
    try:
        value = float(match.group(1))
    except ValueError:
        return None
    # CBC prints 1e50 and beyond for "no bound"
    return value if math.isfinite(value) and abs(value) < 1e49 else None


def _feasibility_tol(model: MipModel) -> float:
    """Absolute violation accepted in CBC's answers: CBC's tolerances scaled to the rows."""
    bounds = np.concatenate([model.row_lo, model.row_hi])
    finite = np.abs(bounds[np.isfinite(bounds)])
    return 1e-6 * max(1.0, float(finite.max()) if finite.size else 1.0)


def kill_after(time_limit: float) -> float:
    """Seconds after which the watchdog stops a CBC run with this time limit.

    Generous, because CBC normally stops a little after its limit (it checks the
    clock between nodes) and a late stop still returns its best solution.
    """
    return time_limit + max(10.0, 0.25 * time_limit)


class _Watchdog:
    """Kill this process's CBC child running in ``tmp`` if it is still alive after ``seconds``."""

    def __init__(self, tmp: str, seconds: float):
        self.tmp = tmp.encode()
        self.killed = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        """Disarm, and wait for a kill in progress so that ``killed`` is final."""
        self._timer.cancel()
        self._timer.join()

    def _fire(self) -> None:
        me = os.getpid()
        try:
            entries = [e for e in os.listdir("/proc") if e.isdigit()]
        except OSError:  # no procfs (not Linux): nothing to do
            return
        for entry in entries:
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    # "pid (comm) state ppid ...", and comm may contain spaces
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
                if ppid != me:
                    continue
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if self.tmp not in f.read():
                        continue
                os.kill(int(entry), signal.SIGKILL)
                self.killed = True
            except (OSError, ValueError, IndexError):
                continue


def _cbc_cmd(pulp, **kwargs):
    with warnings.catch_warnings():
        # PuLP 3 warns that PULP_CBC_CMD (the bundled CBC) goes away in PuLP 4
        warnings.filterwarnings("ignore", message=".*PULP_CBC_CMD", category=DeprecationWarning)
        return pulp.PULP_CBC_CMD(**kwargs)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""
