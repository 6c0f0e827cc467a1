"""ps-bundler: bundle Social Forestry units into landscape-scale carbon projects.

The Python API, for a notebook or a script; each function is the one the
``psbundle`` commands call. The chain, file to folder::

    import bundler
    scenario = bundler.Scenario()                          # or bundler.load_scenario("my.toml")
    prepared = bundler.prepare_units("permits.gpkg", scenario)   # read, validate, score
    graph = bundler.build_adjacency(prepared.units, scenario.graph.max_gap_m)
    plan = bundler.plan_bundles(prepared.units, graph, scenario, scenario.graph.max_gap_m)
    economics = bundler.estimate_plan(prepared.units, plan, scenario)

and :func:`write_plan` writes every output file (see ``docs/outputs.md``).
:func:`load_units` (validation only), :func:`score_units` and
:func:`generate_units` (a synthetic layer) are the single steps. README.md
("Python API") has a complete, tested example; ``docs/architecture.md`` says
where everything lives.

Names are imported on first use, so ``import bundler`` is cheap.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports
from bundler.version import __version__

if TYPE_CHECKING:
    from bundler.config.scenario import Scenario, load_scenario
    from bundler.economics.estimation import estimate_plan
    from bundler.errors import InputError, PsBundlerError
    from bundler.graph.adjacency import build_adjacency
    from bundler.input.validation import load_units
    from bundler.outputs.files import atomic_output_dir
    from bundler.outputs.plan import write_plan
    from bundler.pipeline import Prepared, adjacency, prepare_units
    from bundler.planning.planner import Plan, plan_bundles
    from bundler.scoring.units import score_units
    from bundler.synthetic.generator import generate_units, write_layer

_EXPORTS = {
    "Scenario": "bundler.config.scenario",
    "load_scenario": "bundler.config.scenario",
    "load_units": "bundler.input.validation",
    "Prepared": "bundler.pipeline",
    "prepare_units": "bundler.pipeline",
    "score_units": "bundler.scoring.units",
    "build_adjacency": "bundler.graph.adjacency",
    "adjacency": "bundler.pipeline",
    "Plan": "bundler.planning.planner",
    "plan_bundles": "bundler.planning.planner",
    "estimate_plan": "bundler.economics.estimation",
    "atomic_output_dir": "bundler.outputs.files",
    "write_plan": "bundler.outputs.plan",
    "generate_units": "bundler.synthetic.generator",
    "write_layer": "bundler.synthetic.generator",
    "PsBundlerError": "bundler.errors",
    "InputError": "bundler.errors",
}
__all__ = [
    "InputError",
    "Plan",
    "Prepared",
    "PsBundlerError",
    "Scenario",
    "__version__",
    "adjacency",
    "atomic_output_dir",
    "build_adjacency",
    "estimate_plan",
    "generate_units",
    "load_scenario",
    "load_units",
    "plan_bundles",
    "prepare_units",
    "score_units",
    "write_layer",
    "write_plan",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
