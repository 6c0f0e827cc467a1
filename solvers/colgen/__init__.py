"""Column generation for bundling: a set-packing master, pricing by root, a Lagrangian bound.

:func:`solve_colgen` (:mod:`solvers.colgen.driver`) solves a
:class:`~solvers.problem.BundlingProblem` of any size and proves a bound on it;
:mod:`solvers.colgen.root_bounds` bounds the best bundle of each root at given unit
prices (exactly with :mod:`solvers.colgen.single_root`), and
:mod:`solvers.colgen.master` holds the pool of bundles and the master problem;
:mod:`solvers.colgen.neighbourhood` improves plans by re-solving regions of them.
"""

from solvers.colgen.driver import solve_colgen

__all__ = ["solve_colgen"]
