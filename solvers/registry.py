"""Solver backends by name.

Backends are registered by dotted module path and imported only when asked for,
so importing :mod:`solvers` never loads a solver library (see "Known environment
traps" in the architecture notes). A MIP backend module exposes
``solve_mip(model, params, warm_start=None)``; the heuristic exposes
``solve_bundling(problem, params, ...)``. Every backend module exposes
``is_available()``.
"""

from __future__ import annotations

import difflib
import importlib
import types
from dataclasses import dataclass


@dataclass(frozen=True)
class BackendInfo:
    """One registered backend.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"highs"``.
    kind : str
        ``"mip"`` (solves a :class:`~solvers.mip.MipModel`) or ``"heuristic"``
        (solves a bundling problem directly).
    description : str
        One line for help texts.
    module : str
        Dotted path of the implementing module.
    """

    name: str
    kind: str
    description: str
    module: str


BACKENDS: dict[str, BackendInfo] = {
    b.name: b
    for b in (
        BackendInfo(
            "highs", "mip", "HiGHS branch-and-cut via highspy (in process)", "solvers.highs_backend"
        ),
        BackendInfo(
            "cbc", "mip", "COIN-OR CBC via PuLP's bundled executable", "solvers.cbc_backend"
        ),
        BackendInfo(
            "cpsat",
            "mip",
            "OR-Tools CP-SAT (pure integer models; rows scaled to integers)",
            "solvers.cpsat_backend",
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


def _unknown(name: str) -> ValueError:
    known = sorted(BACKENDS)
    close = difflib.get_close_matches(str(name).lower(), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"unknown solver backend {name!r}; known: {', '.join(known)}.{hint}")


def get_backend(name: str) -> types.ModuleType:
    """The module implementing backend ``name``, imported on first use.

    Parameters
    ----------
    name : str
        A key of :data:`BACKENDS` (case-insensitive).

    Returns
    -------
    types.ModuleType

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
        return importlib.import_module(info.module)
    except (ImportError, OSError) as exc:
        raise ImportError(
            f"solver backend {name!r} is not usable here: cannot import {info.module} ({exc})"
        ) from exc


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
            module = importlib.import_module(info.module)
            ok = bool(module.is_available())
        except (ImportError, OSError, AttributeError):
            continue
        if ok:
            out.append(info)
    return out
