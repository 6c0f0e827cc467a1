"""The planner's report: ``report.html`` (self-contained, offline, with an interactive
map) and ``map.png``.

Modules: ``page`` (``write_report``, the page), ``map_data`` (the interactive map's
data), ``static_map`` (``map.png`` and the frame and colours both maps share),
``charts`` (credits and cost curve) and ``cells`` (escaping, numbers, tables). The
page's template, CSS and the map's script are in ``bundler/outputs/templates/``.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.outputs.report.cells import facts_html, table_html
    from bundler.outputs.report.map_data import map_data
    from bundler.outputs.report.page import report_html, write_report
    from bundler.outputs.report.static_map import bundle_colors, map_figure, map_frame

_EXPORTS = {
    "write_report": "bundler.outputs.report.page",
    "report_html": "bundler.outputs.report.page",
    "map_data": "bundler.outputs.report.map_data",
    "bundle_colors": "bundler.outputs.report.static_map",
    "map_figure": "bundler.outputs.report.static_map",
    "map_frame": "bundler.outputs.report.static_map",
    "table_html": "bundler.outputs.report.cells",
    "facts_html": "bundler.outputs.report.cells",
}
__all__ = [
    "bundle_colors",
    "facts_html",
    "map_data",
    "map_figure",
    "map_frame",
    "report_html",
    "table_html",
    "write_report",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
