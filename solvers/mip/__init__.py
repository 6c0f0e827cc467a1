"""Exact solving by mixed-integer programming.

* :mod:`solvers.mip.model`: the solver-neutral :class:`~solvers.mip.model.MipModel`,
  its builder, :func:`~solvers.mip.model.within_gap` and the
  :class:`~solvers.mip.model.LpRelaxation` interface;
* :mod:`solvers.mip.rooted`: the rooted-assignment model of a bundling problem,
  its reductions, separator cuts and the solve-check-resolve loop;
* :mod:`solvers.mip.highs`, :mod:`solvers.mip.cbc`, :mod:`solvers.mip.cpsat`: one
  backend each (see :class:`solvers.backend.MipBackend`), imported on demand by
  :mod:`solvers.registry`. HiGHS also provides the LP relaxation the rooted model's
  cut rounds use.

This file imports nothing, so importing a submodule loads no solver library.
"""
