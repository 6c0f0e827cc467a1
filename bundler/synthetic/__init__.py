"""Synthetic data: realistic PS permit layers in the ministry's schema, for the demo,
the tests and the benchmarks (the start of the data flow when no real file is at hand).
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.synthetic.generator import generate_units, write_layer

_EXPORTS = {
    "generate_units": "bundler.synthetic.generator",
    "write_layer": "bundler.synthetic.generator",
}
__all__ = [
    "generate_units",
    "write_layer",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
