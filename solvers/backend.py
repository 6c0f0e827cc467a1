"""The contract every solver backend keeps, as :class:`typing.Protocol` classes.

A backend is a module (imported on demand by :mod:`solvers.registry`) with

* ``NAME``: its registry key, e.g. ``"highs"``;
* ``KIND``: ``"mip"`` (solves a :class:`~solvers.mip.model.MipModel`, see
  :class:`MipBackend`) or ``"heuristic"`` (solves a bundling problem directly, see
  :class:`HeuristicBackend`);
* ``DESCRIPTION``: one line for help texts;
* ``is_available()``: whether its solver library loads here.

The registry keeps the same name, kind and description in
:data:`solvers.registry.BACKENDS`, so that listing backends imports none of them;
a test checks that the two agree. The protocols are ``runtime_checkable``, so
``isinstance(module, MipBackend)`` checks that the names exist (not their types).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: keeps this module free of numpy and scipy
    import numpy as np

    from solvers.base import SolveParams, SolveResult
    from solvers.mip.model import LpRelaxation, MipModel
    from solvers.problem import BundlingProblem, BundlingResult

MIP = "mip"
HEURISTIC = "heuristic"


@runtime_checkable
class Backend(Protocol):
    """What every backend module has."""

    NAME: str
    KIND: str
    DESCRIPTION: str

    def is_available(self) -> bool:
        """True when the backend's solver library loads in this process."""
        ...


@runtime_checkable
class MipBackend(Backend, Protocol):
    """A backend of kind ``"mip"``: solves a :class:`~solvers.mip.model.MipModel`."""

    def solve_mip(
        self, model: MipModel, params: SolveParams, warm_start: np.ndarray | None = None
    ) -> SolveResult:
        """Solve ``model``; solver-side failures come back as ``ERROR``, never raised.

        ``warm_start`` is a starting solution of shape ``(model.num_vars,)``.
        """
        ...


@runtime_checkable
class HeuristicBackend(Backend, Protocol):
    """A backend of kind ``"heuristic"``: solves a bundling problem directly."""

    def solve_bundling(
        self,
        problem: BundlingProblem,
        params: SolveParams,
        warm_start: Sequence[Sequence[int]] | None = None,
    ) -> BundlingResult:
        """Feasible bundles for ``problem``, starting from ``warm_start`` bundles if given."""
        ...


@runtime_checkable
class LpBackend(Protocol):
    """A backend that also provides an incremental LP relaxation (HiGHS)."""

    def open_lp(self, model: MipModel, threads: int = 0) -> LpRelaxation:
        """The LP relaxation of ``model``; raises ImportError or OSError when unavailable."""
        ...
