"""Optimality gaps as people read them: percentages, or why there is none.

Every place that shows a gap to a person (the CLI summaries, ``report.html``)
formats it here, so a gap reads the same everywhere. Machine outputs
(``run.json``) keep the numbers of :func:`solvers.base.relative_gap` and
:func:`solvers.base.absolute_gap`.
"""

from __future__ import annotations

import math

from bundler.i18n.catalogue import Translator, translator
from bundler.i18n.languages import N_
from solvers.base import absolute_gap, relative_gap

NO_GAP = "-"


def format_gap(objective: float | None, bound: float | None, lang: str = "en") -> str:
    """The relative gap between ``objective`` and ``bound`` for a reader.

    Parameters
    ----------
    objective : float or None
        Objective value of the solution.
    bound : float or None
        Best proven bound on the optimum.
    lang : str
        The reader's language (:mod:`bundler.i18n`): its words and number format.

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
        return format_relative_gap(rel, lang)
    absolute = absolute_gap(objective, bound)
    if absolute is None:
        return NO_GAP
    tr = translator(lang)
    return tr.gettext("undefined (objective 0; absolute gap {gap})").format(
        gap=_format_amount(absolute, tr)
    )


def format_relative_gap(gap: float | None, lang: str = "en") -> str:
    """A relative gap already computed (a fraction) as a percentage; ``"-"`` for None."""
    if gap is None or not math.isfinite(gap):
        return NO_GAP
    tr = translator(lang)
    text = tr.percent(gap, 2)
    if gap > 0 and text == tr.percent(0.0, 2):
        return "<" + tr.percent(0.0001, 2)
    return text


def _format_amount(x: float, tr: Translator) -> str:
    if x >= 1:
        text = tr.decimal(x, 2)
        return text.rstrip("0").rstrip(tr.decimal_sign)
    return tr.significant(x, 3)


# what the objective, the bound and the gap measure, by objective (one text for the
# CLI summary, run.json and the report)
_MEASURES = {
    "npv": N_(
        "the planning model's NPV in USD: each unit's present value of credits minus its "
        "costs under the linear cost model, minus every bundle's fixed costs. That model "
        "never counts a cost lower than the exact cost model, so the exact NPV of the same "
        "bundles (npv_usd in bundles.csv) is at least this objective; the bound bounds the "
        "planning model, not the exact NPV"
    ),
    "credits": N_("the credits per year (tCO2e/yr) of the chosen bundles under the planning model"),
    "max-p": N_("the number of bundles (regions); the bound is a count of regions"),
}


def bound_meaning(objective_name: str, lang: str = "en") -> str:
    """What a plan's objective, bound and gap measure, for a reader.

    Parameters
    ----------
    objective_name : str
        ``"npv"``, ``"credits"`` or ``"max-p"``.
    lang : str
        The reader's language (:mod:`bundler.i18n`).

    Returns
    -------
    str
    """
    _ = translator(lang).gettext
    if objective_name in _MEASURES:
        return _(_MEASURES[objective_name])
    return _("the {objective} objective").format(objective=objective_name)
