"""How much each unit matters to a plan.

* :func:`~solvers.importance.replacement.replacement_importance`: for each unit of a
  plan, the loss of objective when the unit is locked out and the plan re-optimised,
  with bounds that prove it.
* :func:`~solvers.importance.thresholds.price_thresholds`: for each unit outside the
  plan, the carbon price at which a bundle that holds it first passes the economic
  tests, between a proven lower end and a witnessed upper end.
"""

from solvers.importance.replacement import UnitImportance, replacement_importance, without_unit
from solvers.importance.thresholds import PriceSlopes, Threshold, bundle_price, price_thresholds

__all__ = [
    "PriceSlopes",
    "Threshold",
    "UnitImportance",
    "bundle_price",
    "price_thresholds",
    "replacement_importance",
    "without_unit",
]
