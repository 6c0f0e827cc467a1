"""Solver backends by name.

Backends are registered by dotted module path and imported only when asked for,
so importing :mod:`solvers` never loads a solver library (see "Known environment
traps" in docs/architecture.md). Every backend module keeps the contract of
:mod:`solvers.backend`: a MIP backend is a :class:`~solvers.backend.MipBackend`
(``solve_mip(model, params, warm_start=None)``), the heuristic a
:class:`~solvers.backend.HeuristicBackend` (``solve_bundling(problem, params, ...)``),
and every one has ``NAME``, ``KIND``, ``DESCRIPTION`` and ``is_available()``.

:func:`open_lp_relaxation` opens the LP relaxation of a model with the LP backend
(:data:`LP_BACKEND`, HiGHS: the only backend with an incremental LP), for the cut
rounds of :mod:`solvers.mip.rooted`.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from solvers.backend import Backend, HeuristicBackend, LpBackend, MipBackend

if TYPE_CHECKING:  # annotations only: no numpy or scipy at import
    from solvers.mip.model import LpRelaxation, MipModel


@dataclass(frozen=True)
class BackendInfo:
    """One registered backend.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"highs"``.
    kind : str
        ``"mip"`` (solves a :class:`~solvers.mip.model.MipModel`) or ``"heuristic"``
        (solves a bundling problem directly).
    description : str
        One line for help texts.
    module : str
        Dotted path of the implementing module (a :class:`~solvers.backend.Backend`
        with the same ``NAME``, ``KIND`` and ``DESCRIPTION``).
    """

    name: str
    kind: str
    description: str
    module: str


BACKENDS: dict[str, BackendInfo] = {
    b.name: b
    for b in (
        BackendInfo(
            "highs", "mip", "HiGHS branch-and-cut via highspy (in process)", "solvers.mip.highs"
        ),
        BackendInfo("cbc", "mip", "COIN-OR CBC via PuLP's bundled executable", "solvers.mip.cbc"),
        BackendInfo(
            "cpsat",
            "mip",
            "OR-Tools CP-SAT (pure integer models; rows scaled to integers)",
            "solvers.mip.cpsat",
        ),
        BackendInfo(
            "heuristic",
            "heuristic",
            "greedy construction and local search, no optimality proof",
            "solvers.heuristic",
        ),
    )
}

DEFAULT_MIP_BACKEND = "highs"
# The backend whose module provides ``open_lp`` (see LpBackend).
LP_BACKEND = "highs"


def _unknown(name: str) -> ValueError:
    known = sorted(BACKENDS)
    close = difflib.get_close_matches(str(name).lower(), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"unknown solver backend {name!r}; known: {', '.join(known)}.{hint}")


def get_backend(name: str) -> MipBackend | HeuristicBackend:
    """The module implementing backend ``name``, imported on first use.

    Parameters
    ----------
    name : str
        A key of :data:`BACKENDS` (case-insensitive).

    Returns
    -------
    MipBackend or HeuristicBackend
        The backend's module (kind ``"mip"`` or ``"heuristic"``).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known names and the closest one.
    ImportError
        When the backend's module (or its solver library) cannot be imported.
    """
    info = BACKENDS.get(str(name).strip().lower())
    if info is None:
        raise _unknown(name)
    try:
        module = importlib.import_module(info.module)
    except (ImportError, OSError) as exc:
        raise ImportError(
            f"solver backend {name!r} is not usable here: cannot import {info.module} ({exc})"
        ) from exc
    return cast("MipBackend | HeuristicBackend", module)


def mip_backend_for(name: str) -> MipBackend:
    """The backend ``name`` when it is a MIP backend, else :data:`DEFAULT_MIP_BACKEND`.

    For work that needs a MIP whatever solved the plan (pools of bundles, re-solves
    with bounds): the heuristic proves nothing.
    """
    backend = get_backend(name)
    if getattr(backend, "KIND", "") != "mip":
        backend = get_backend(DEFAULT_MIP_BACKEND)
    return cast("MipBackend", backend)


def open_lp_relaxation(model: MipModel, threads: int = 0) -> LpRelaxation:
    """The LP relaxation of ``model`` from :data:`LP_BACKEND`, ready to solve and take cuts.

    Parameters
    ----------
    model : MipModel
    threads : int
        As :attr:`~solvers.base.SolveParams.threads`.

    Returns
    -------
    LpRelaxation

    Raises
    ------
    ImportError, OSError
        When the LP backend's solver library cannot be loaded.
    """
    backend = cast(LpBackend, get_backend(LP_BACKEND))
    return backend.open_lp(model, threads)


def available_backends() -> list[BackendInfo]:
    """The registered backends whose module imports and whose ``is_available()`` is true.

    Returns
    -------
    list of BackendInfo
        In registration order.
    """
    out = []
    for info in BACKENDS.values():
        try:
            module = cast(Backend, importlib.import_module(info.module))
            ok = bool(module.is_available())
        except (ImportError, OSError, AttributeError):
            continue
        if ok:
            out.append(info)
    return out
