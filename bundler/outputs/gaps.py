"""Optimality gaps as people read them: percentages, or why there is none.

Every place that shows a gap to a person (the CLI summaries, ``report.html``)
formats it here, so a gap reads the same everywhere. Machine outputs
(``run.json``) keep the numbers of :func:`solvers.base.relative_gap` and
:func:`solvers.base.absolute_gap`.
"""

from __future__ import annotations

import math

from solvers.base import absolute_gap, relative_gap

NO_GAP = "-"


def format_gap(objective: float | None, bound: float | None) -> str:
    """The relative gap between ``objective`` and ``bound`` for a reader.

    Parameters
    ----------
    objective : float or None
        Objective value of the solution.
    bound : float or None
        Best proven bound on the optimum.

    Returns
    -------
    str
        ``"2.40%"`` (two decimals; ``"0.00%"`` only for a proven zero gap, a
        smaller non-zero gap reads ``"<0.01%"``);
        ``"undefined (objective 0; absolute gap 175,769)"`` when the objective
        is 0 and the bound is not, so no relative gap exists; ``"-"`` without a
        bound or an objective (or with a non-finite one).
    """
    rel = relative_gap(objective, bound)
    if rel is not None:
        return format_relative_gap(rel)
    absolute = absolute_gap(objective, bound)
    if absolute is None:
        return NO_GAP
    return f"undefined (objective 0; absolute gap {_format_amount(absolute)})"


def format_relative_gap(gap: float | None) -> str:
    """A relative gap already computed (a fraction) as a percentage; ``"-"`` for None."""
    if gap is None or not math.isfinite(gap):
        return NO_GAP
    text = f"{gap:.2%}"
    return "<0.01%" if gap > 0 and text == "0.00%" else text


def _format_amount(x: float) -> str:
    if x >= 1:
        text = f"{x:,.2f}"
        return text.rstrip("0").rstrip(".")
    return f"{x:.3g}"


# what the objective, the bound and the gap measure, by objective (one text for the
# CLI summary, run.json and the report)
_MEASURES = {
    "npv": (
        "the planning model's NPV in USD: each unit's present value of credits minus its "
        "costs under the linear cost model, minus every bundle's fixed costs. That model "
        "never counts a cost lower than the exact cost model, so the exact NPV of the same "
        "bundles (npv_usd in bundles.csv) is at least this objective; the bound bounds the "
        "planning model, not the exact NPV"
    ),
    "credits": "the credits per year (tCO2e/yr) of the chosen bundles under the planning model",
    "max-p": "the number of bundles (regions); the bound is a count of regions",
}


def bound_meaning(objective_name: str) -> str:
    """What a plan's objective, bound and gap measure, for a reader.

    Parameters
    ----------
    objective_name : str
        ``"npv"``, ``"credits"`` or ``"max-p"``.

    Returns
    -------
    str
    """
    return _MEASURES.get(objective_name, f"the {objective_name} objective")
