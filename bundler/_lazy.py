"""Lazy re-exports for the package ``__init__`` files.

A package lists ``name -> module`` and gets a module ``__getattr__`` (PEP 562)
that imports the module on first use. ``import bundler`` therefore stays cheap
(the command line starts without loading geopandas, matplotlib or the solvers),
and no ``__init__`` imports another stage's modules while it initialises, so the
re-exports cannot create import cycles.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` re-exporting ``name`` from ``exports[name]``.

    Usage in a package ``__init__``::

        __getattr__, __dir__ = lazy_exports(__name__, {"load_units": "bundler.input.validation"})
    """

    def getattr_(name: str) -> object:
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip __getattr__
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return getattr_, dir_
