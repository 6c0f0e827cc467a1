"""Files other tools open: the plan as an Excel workbook (``plan.xlsx``) and default
QGIS layer styles inside ``plan.gpkg`` (the GeoPackage ``layer_styles`` table).

Both carry what the plan's CSVs and layers already hold, only shaped for a
spreadsheet or a GIS: nothing here computes a figure.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.outputs.interop.qgis_styles import write_plan_styles
    from bundler.outputs.interop.workbook import write_plan_workbook, write_workbook

_EXPORTS = {
    "write_plan_styles": "bundler.outputs.interop.qgis_styles",
    "write_plan_workbook": "bundler.outputs.interop.workbook",
    "write_workbook": "bundler.outputs.interop.workbook",
}
__all__ = ["write_plan_styles", "write_plan_workbook", "write_workbook"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
