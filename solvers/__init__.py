"""Solver backends for ps-bundler, all behind one interface (see :mod:`solvers.backend`).

* :mod:`solvers.problem`: the solver-neutral bundling problem and result;
* :mod:`solvers.base`: parameters, termination, results, gap measures;
* :mod:`solvers.backend`: the backend contract (:class:`typing.Protocol` classes);
* :mod:`solvers.registry`: backends by name, imported on demand;
* :mod:`solvers.api`: :func:`~solvers.api.solve_bundling`, the entry point ``bundler`` uses;
* :mod:`solvers.mip`: the MIP model layer, the rooted bundling model and the MIP backends;
* :mod:`solvers.heuristic`: the heuristic backend (partition for max-p, selection otherwise).
"""
