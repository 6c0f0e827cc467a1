"""Stage 8, outputs: write a run's files atomically (a scratch folder moved into place),
the plan files, the HTML report and map, and the national and sweep folders.

Data flow: ... estimate -> schedule -> **outputs**. Every file and column is described
in ``docs/outputs.md``.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.outputs.files import atomic_output_dir, check_output_dir
    from bundler.outputs.national import write_national
    from bundler.outputs.plan import write_plan
    from bundler.outputs.report import write_report
    from bundler.outputs.sweep import write_sweep

_EXPORTS = {
    "atomic_output_dir": "bundler.outputs.files",
    "check_output_dir": "bundler.outputs.files",
    "write_plan": "bundler.outputs.plan",
    "write_report": "bundler.outputs.report",
    "write_national": "bundler.outputs.national",
    "write_sweep": "bundler.outputs.sweep",
}
__all__ = [
    "atomic_output_dir",
    "check_output_dir",
    "write_national",
    "write_plan",
    "write_report",
    "write_sweep",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
