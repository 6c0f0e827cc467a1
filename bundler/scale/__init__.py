"""Scale: ``psbundle national`` and ``psbundle sweep``. The layer is validated and scored
once, then each province (under each scenario) runs the planning -> estimate ->
schedule chain as its own Dask task; finished provinces are kept in a parts cache so a
re-run resumes. :mod:`bundler.outputs` writes the merged results.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.scale.dask_runner import dask_client, run_jobs
    from bundler.scale.national import Part, plan_parts, split_provinces
    from bundler.scale.parts_cache import PartsCache
    from bundler.scale.province_job import ProvinceSpec, plan_province
    from bundler.scale.sweep import file_scenarios, grid_scenarios, parse_grid

_EXPORTS = {
    "Part": "bundler.scale.national",
    "plan_parts": "bundler.scale.national",
    "split_provinces": "bundler.scale.national",
    "ProvinceSpec": "bundler.scale.province_job",
    "plan_province": "bundler.scale.province_job",
    "PartsCache": "bundler.scale.parts_cache",
    "dask_client": "bundler.scale.dask_runner",
    "run_jobs": "bundler.scale.dask_runner",
    "file_scenarios": "bundler.scale.sweep",
    "grid_scenarios": "bundler.scale.sweep",
    "parse_grid": "bundler.scale.sweep",
}
__all__ = [
    "Part",
    "PartsCache",
    "ProvinceSpec",
    "dask_client",
    "file_scenarios",
    "grid_scenarios",
    "parse_grid",
    "plan_parts",
    "plan_province",
    "run_jobs",
    "split_provinces",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
