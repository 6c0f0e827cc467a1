"""Solver backends for ps-bundler, all behind one interface (see :mod:`solvers.base`)."""
