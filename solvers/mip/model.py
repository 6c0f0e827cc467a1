r"""A solver-neutral mixed-integer program in matrix form.

Every MIP backend (:mod:`solvers.mip.highs`, :mod:`solvers.mip.cbc`,
:mod:`solvers.mip.cpsat`) takes a :class:`MipModel`:

.. math::

    \max / \min \; c^\top x + c_0 \quad
    \text{s.t.} \; \ell^r \le A x \le u^r, \quad \ell \le x \le u, \quad
    x_j \in \mathbb{Z} \text{ for integer } j.

Row bounds may be infinite on either side; an equality row has ``row_lo == row_hi``.

:class:`LpRelaxation` is the interface of an LP relaxation that takes cuts and
re-solves (opened with :func:`solvers.registry.open_lp_relaxation`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

# Tolerance below which a value counts as integral when rounding solutions and bounds.
INT_TOL = 1e-6
# Float slack when comparing a reported gap with the requested one.
GAP_TOL = 1e-9


def within_gap(gap: float | None, rel_gap: float) -> bool:
    """True when ``gap`` is known and at most ``rel_gap`` (up to float slack).

    Backends call this before reporting ``OPTIMAL``: solvers measure their gap
    in their own ways (CBC divides by the larger of bound and objective), so a
    solver's "optimal" may be outside the gap as :func:`solvers.base.relative_gap`
    measures it, and is then reported as ``FEASIBLE``. A ``None`` gap (missing, or
    undefined because the objective is 0 and the bound is not) is never within.
    """
    return gap is not None and gap <= rel_gap + GAP_TOL


class LpRelaxation(Protocol):
    """The LP relaxation of a :class:`MipModel`, kept between solves so added rows are cheap."""

    def solve(self, time_limit: float) -> tuple[float, np.ndarray] | None:
        """Solve (from the previous basis); ``(objective, x)`` when optimal, else None."""
        ...

    def add_rows(self, A, lo: np.ndarray, hi: np.ndarray) -> None:
        """Append the rows ``lo <= A @ x <= hi``."""
        ...


def _as_csr(A, n: int | None = None) -> sp.csr_array:
    A = sp.csr_array(A, dtype=float)
    if n is not None and A.shape[1] != n:
        raise ValueError(f"constraint matrix has {A.shape[1]} columns, the model has {n}")
    # Backends iterate rows as (indices, data) slices; duplicates or unsorted
    # indices would be passed through as repeated terms.
    A.sum_duplicates()
    A.sort_indices()
    return A


def _vec(v, n: int, name: str, dtype=float) -> np.ndarray:
    a = np.asarray(v, dtype=dtype)
    if a.ndim == 0:
        a = np.full(n, a, dtype=dtype)
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
    return a


@dataclass(frozen=True, eq=False)
class MipModel:
    """A mixed-integer linear program ``opt obj @ x + obj_offset`` over a box and rows.

    Attributes
    ----------
    obj : numpy.ndarray of shape (n,)
        Objective coefficients.
    lb, ub : numpy.ndarray of shape (n,)
        Variable bounds; ``-inf`` / ``inf`` allowed.
    integer : numpy.ndarray of bool, shape (n,)
        Which variables must take integer values.
    A : scipy.sparse.csr_array of shape (m, n)
        Constraint matrix (stored with sorted, summed-up indices).
    row_lo, row_hi : numpy.ndarray of shape (m,)
        Row bounds ``row_lo <= A @ x <= row_hi``; ``-inf`` / ``inf`` allowed.
    maximize : bool
        Maximize (default) or minimize.
    obj_offset : float
        Constant added to the objective.
    """

    obj: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: sp.csr_array
    row_lo: np.ndarray
    row_hi: np.ndarray
    maximize: bool = True
    obj_offset: float = 0.0

    def __post_init__(self):
        obj = np.asarray(self.obj, dtype=float)
        if obj.ndim != 1:
            raise ValueError(f"obj must be one-dimensional, got shape {obj.shape}")
        n = obj.shape[0]
        A = _as_csr(self.A, n)
        m = A.shape[0]
        # frozen dataclass: normalize the fields once, here, so backends can rely on dtypes
        set_ = object.__setattr__
        set_(self, "obj", obj)
        set_(self, "lb", _vec(self.lb, n, "lb"))
        set_(self, "ub", _vec(self.ub, n, "ub"))
        set_(self, "integer", _vec(self.integer, n, "integer", dtype=bool))
        set_(self, "A", A)
        set_(self, "row_lo", _vec(self.row_lo, m, "row_lo"))
        set_(self, "row_hi", _vec(self.row_hi, m, "row_hi"))
        set_(self, "maximize", bool(self.maximize))
        set_(self, "obj_offset", float(self.obj_offset))
        if np.isnan(self.lb).any() or np.isnan(self.ub).any():
            raise ValueError("variable bounds must not be NaN")
        if np.isnan(self.row_lo).any() or np.isnan(self.row_hi).any():
            raise ValueError("row bounds must not be NaN")
        if not (np.isfinite(obj).all() and np.isfinite(A.data).all()):
            raise ValueError("objective and matrix coefficients must be finite")

    @property
    def num_vars(self) -> int:
        """Number of variables ``n``."""
        return self.obj.shape[0]

    @property
    def num_rows(self) -> int:
        """Number of constraint rows ``m``."""
        return self.A.shape[0]

    @property
    def is_pure_integer(self) -> bool:
        """True when every variable is integer."""
        return bool(self.integer.all())

    def with_rows(self, A_new, lo_new, hi_new) -> MipModel:
        """A new model with extra rows appended (this model is unchanged).

        Parameters
        ----------
        A_new : array_like or sparse of shape (k, n)
        lo_new, hi_new : array_like of shape (k,)

        Returns
        -------
        MipModel
        """
        A_new = _as_csr(A_new, self.num_vars)
        k = A_new.shape[0]
        return MipModel(
            obj=self.obj,
            lb=self.lb,
            ub=self.ub,
            integer=self.integer,
            A=sp.vstack([self.A, A_new], format="csr"),
            row_lo=np.concatenate([self.row_lo, _vec(lo_new, k, "lo_new")]),
            row_hi=np.concatenate([self.row_hi, _vec(hi_new, k, "hi_new")]),
            maximize=self.maximize,
            obj_offset=self.obj_offset,
        )

    def objective_value(self, x) -> float:
        """Objective ``obj @ x + obj_offset`` of a solution."""
        return float(self.obj @ np.asarray(x, dtype=float) + self.obj_offset)

    def max_violation(self, x) -> float:
        """Largest absolute bound, row or integrality violation of ``x`` (0 when feasible).

        Parameters
        ----------
        x : array_like of shape (n,)

        Returns
        -------
        float
            ``inf`` for a wrong shape or non-finite values.
        """
        x = np.asarray(x, dtype=float)
        if x.shape != (self.num_vars,) or not np.isfinite(x).all():
            return math.inf
        ax = self.A @ x
        parts = [
            self.lb - x,
            x - self.ub,
            self.row_lo - ax,
            ax - self.row_hi,
            np.abs(x - np.round(x))[self.integer],
        ]
        return max(0.0, *(float(p.max()) for p in parts if p.size))

    def round_solution(self, x) -> np.ndarray:
        """``x`` as floats, integer variables rounded and everything clipped to the bounds.

        Solvers return integer variables up to a tolerance (``0.9999999``); rounding
        makes downstream ``x > 0.5`` style tests and objective recomputation exact.
        """
        x = np.asarray(x, dtype=float).copy()
        x[self.integer] = np.round(x[self.integer])
        return np.clip(x, self.lb, self.ub)

    def trivially_infeasible(self) -> str | None:
        """A reason the model is infeasible on its face, or ``None``.

        Catches what some backends mishandle rather than report: crossed variable or
        row bounds, integer variables with no integer in their range, and empty rows
        whose bounds exclude zero.
        """
        lb, ub = self.lb, self.ub
        ilb = np.where(self.integer, np.ceil(lb - INT_TOL), lb)
        iub = np.where(self.integer, np.floor(ub + INT_TOL), ub)
        bad = np.flatnonzero(ilb > iub)
        if bad.size:
            j = int(bad[0])
            return f"variable {j} has empty domain [{lb[j]}, {ub[j]}]"
        bad = np.flatnonzero(self.row_lo > self.row_hi)
        if bad.size:
            i = int(bad[0])
            return f"row {i} has crossed bounds [{self.row_lo[i]}, {self.row_hi[i]}]"
        empty = np.diff(self.A.indptr) == 0
        bad = np.flatnonzero(empty & ((self.row_lo > 0) | (self.row_hi < 0)))
        if bad.size:
            i = int(bad[0])
            return f"empty row {i} needs 0 in [{self.row_lo[i]}, {self.row_hi[i]}]"
        return None


class MipBuilder:
    """Build a :class:`MipModel` one variable and one row at a time.

    Parameters
    ----------
    maximize : bool
        Objective sense of the built model.
    obj_offset : float
        Constant added to the objective.

    Examples
    --------
    >>> b = MipBuilder()
    >>> x = b.add_var(0, 1, integer=True, obj=3.0)
    >>> y = b.add_var(0, 1, integer=True, obj=2.0)
    >>> _ = b.add_row({x: 1.0, y: 1.0}, hi=1.0)
    >>> b.build().num_rows
    1
    """

    def __init__(self, maximize: bool = True, obj_offset: float = 0.0):
        self.maximize = maximize
        self.obj_offset = obj_offset
        self._obj: list[float] = []
        self._lb: list[float] = []
        self._ub: list[float] = []
        self._int: list[bool] = []
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._lo: list[float] = []
        self._hi: list[float] = []

    @property
    def num_vars(self) -> int:
        """Variables added so far."""
        return len(self._obj)

    def add_var(
        self,
        lb: float = 0.0,
        ub: float = math.inf,
        integer: bool = False,
        obj: float = 0.0,
    ) -> int:
        """Add one variable.

        Parameters
        ----------
        lb, ub : float
            Bounds; ``-inf`` / ``inf`` allowed.
        integer : bool
            Whether the variable must be integral.
        obj : float
            Objective coefficient.

        Returns
        -------
        int
            The column index of the new variable.
        """
        self._lb.append(float(lb))
        self._ub.append(float(ub))
        self._int.append(bool(integer))
        self._obj.append(float(obj))
        return len(self._obj) - 1

    def add_vars(
        self,
        count: int,
        lb: float = 0.0,
        ub: float = math.inf,
        integer: bool = False,
        obj: float | Sequence[float] = 0.0,
    ) -> np.ndarray:
        """Add ``count`` variables with shared bounds.

        Parameters
        ----------
        count : int
        lb, ub : float
        integer : bool
        obj : float or sequence of float
            One coefficient for all, or one per variable.

        Returns
        -------
        numpy.ndarray of int
            The column indices of the new variables.
        """
        objs = np.broadcast_to(np.asarray(obj, dtype=float), (count,))
        return np.array([self.add_var(lb, ub, integer, float(c)) for c in objs], dtype=int)

    def add_row(
        self,
        terms: Mapping[int, float] | tuple[Sequence[int], Sequence[float]],
        lo: float = -math.inf,
        hi: float = math.inf,
    ) -> int:
        """Add the row ``lo <= sum(coef * x[idx]) <= hi`` and return its index.

        Parameters
        ----------
        terms : dict or (indices, coefficients)
            ``{index: coef}`` or two equally long sequences; repeated indices add up.
        lo, hi : float
            Row bounds; use ``lo == hi`` for an equality.

        Returns
        -------
        int
            The row index.
        """
        if isinstance(terms, Mapping):
            idx = np.fromiter(terms.keys(), dtype=int, count=len(terms))
            coef = np.fromiter(terms.values(), dtype=float, count=len(terms))
        else:
            idx = np.asarray(terms[0], dtype=int).ravel()
            coef = np.asarray(terms[1], dtype=float).ravel()
            if idx.shape != coef.shape:
                raise ValueError("row indices and coefficients differ in length")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_vars):
            raise IndexError(f"row refers to a variable outside 0..{self.num_vars - 1}")
        self._rows.append((idx, coef))
        self._lo.append(float(lo))
        self._hi.append(float(hi))
        return len(self._rows) - 1

    def build(self) -> MipModel:
        """The model built so far."""
        n = self.num_vars
        if self._rows:
            cols = np.concatenate([r[0] for r in self._rows])
            data = np.concatenate([r[1] for r in self._rows])
            ridx = np.repeat(np.arange(len(self._rows)), [len(r[0]) for r in self._rows])
            A = sp.csr_array((data, (ridx, cols)), shape=(len(self._rows), n))
        else:
            A = sp.csr_array((0, n))
        return MipModel(
            obj=np.array(self._obj, dtype=float),
            lb=np.array(self._lb, dtype=float),
            ub=np.array(self._ub, dtype=float),
            integer=np.array(self._int, dtype=bool),
            A=A,
            row_lo=np.array(self._lo, dtype=float),
            row_hi=np.array(self._hi, dtype=float),
            maximize=self.maximize,
            obj_offset=self.obj_offset,
        )
