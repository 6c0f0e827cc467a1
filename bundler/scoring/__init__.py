"""Stage 2, scoring: typology, interventions, mitigation potentials, additionality and
readiness of every unit, and the brief's two potential tables.

Data flow: file -> units -> graph + **scores** -> problems -> ... The scored units are
what the planner, the estimation and every output layer use.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.scoring.potential_tables import potential_by_intervention, potential_by_scheme
    from bundler.scoring.units import score_units

_EXPORTS = {
    "score_units": "bundler.scoring.units",
    "potential_by_intervention": "bundler.scoring.potential_tables",
    "potential_by_scheme": "bundler.scoring.potential_tables",
}
__all__ = [
    "potential_by_intervention",
    "potential_by_scheme",
    "score_units",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
