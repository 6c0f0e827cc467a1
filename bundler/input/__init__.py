"""Stage 1, input: read a permit layer, map the ministry's fields to canonical names,
give every unit a stable ``unit_id``, repair and project the geometry, measure overlaps,
and (optionally) take forest, peat and mangrove areas from rasters.

Data flow: **file -> units** -> graph + scores -> problems -> solver -> plan -> verify
-> estimate -> schedule -> outputs. :func:`load_units` returns a
:class:`ValidationReport` whose ``units`` feed :mod:`bundler.scoring` and
:mod:`bundler.graph`.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.input.rasters import zonal_areas
    from bundler.input.reading import read_layer
    from bundler.input.schema import normalize_scheme
    from bundler.input.unit_ids import assign_unit_ids
    from bundler.input.validation import ValidationReport, load_units

_EXPORTS = {
    "ValidationReport": "bundler.input.validation",
    "load_units": "bundler.input.validation",
    "read_layer": "bundler.input.reading",
    "normalize_scheme": "bundler.input.schema",
    "assign_unit_ids": "bundler.input.unit_ids",
    "zonal_areas": "bundler.input.rasters",
}
__all__ = [
    "ValidationReport",
    "assign_unit_ids",
    "load_units",
    "normalize_scheme",
    "read_layer",
    "zonal_areas",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
