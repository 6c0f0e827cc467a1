"""Stages 3-5, planning: turn scored units and their graph into bundling problems, hand
them to a backend in ``solvers/``, and verify the returned plan independently.

Data flow: ... graph + scores -> **problems -> solver -> plan -> verify** -> estimate ->
... :func:`plan_bundles` does all of it and returns a verified :class:`Plan`;
:func:`plan_alternatives` finds verified near-optimal alternatives to it;
:func:`check_settings` stops contradictory settings before any work.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.planning.alternatives import Alternatives, plan_alternatives
    from bundler.planning.planner import Plan, plan_bundles
    from bundler.planning.problem_builder import ProblemSet, build_problems
    from bundler.planning.settings_check import check_settings
    from bundler.planning.verify import plan_violations, verify_plan

_EXPORTS = {
    "Alternatives": "bundler.planning.alternatives",
    "plan_alternatives": "bundler.planning.alternatives",
    "Plan": "bundler.planning.planner",
    "plan_bundles": "bundler.planning.planner",
    "ProblemSet": "bundler.planning.problem_builder",
    "build_problems": "bundler.planning.problem_builder",
    "plan_violations": "bundler.planning.verify",
    "verify_plan": "bundler.planning.verify",
    "check_settings": "bundler.planning.settings_check",
}
__all__ = [
    "Alternatives",
    "Plan",
    "ProblemSet",
    "build_problems",
    "check_settings",
    "plan_alternatives",
    "plan_bundles",
    "plan_violations",
    "verify_plan",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
