"""``psbundle plan --importance``: its options, the measurement and its summary on screen."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bundler.cli.common import err, escape_markup, out
from bundler.cli.progress import progress_bar

ImportanceOpt = Annotated[
    bool,
    typer.Option(
        "--importance",
        help="Also measure how much each unit matters. A unit of the plan: the objective "
        "lost when it is locked out and the plan re-optimised, with proven bounds on that "
        "loss. A unit outside: the carbon price at which a bundle that holds it first passes "
        "the cost test and pays (witnessed, with a proven lower end), or why it never can. "
        "Writes importance.csv, importance and join_price_usd columns of plan.gpkg's units "
        "layer and a section of the report; takes up to --importance-time seconds more.",
    ),
]
ImportanceTimeOpt = Annotated[
    float | None,
    typer.Option(
        "--importance-time",
        metavar="S",
        help="With --importance: its time budget in seconds, a ceiling (default: "
        "--time-limit). Units not solved again by then keep proven bounds from the plan.",
        min=0.1,
        show_default=False,
    ),
]
MaxPriceOpt = Annotated[
    float | None,
    typer.Option(
        "--max-price",
        metavar="P",
        help="With --importance: the top of the carbon-price search, USD/tCO2e (default 100); "
        "a unit with no passing bundle up to P is reported as never joining within it.",
        min=0.01,
        show_default=False,
    ),
]


def check_importance(wanted: bool, budget: float | None, max_price: float | None, scen) -> None:
    """Before any work: the importance options need --importance, which needs a price.

    Raises
    ------
    InputError
        For --importance-time or --max-price without --importance, or --importance with
        the max-p objective.
    """
    from bundler.errors import InputError

    if not wanted:
        flags = (("--importance-time", budget), ("--max-price", max_price))
        given = [flag for flag, value in flags if value is not None]
        if given:
            raise InputError(f"{' and '.join(given)} only apply with --importance")
        return
    if scen.bundling.objective == "max-p":
        raise InputError(
            "--importance needs the npv or credits objective: a max-p plan has no value or "
            "cost test to lose or to pass"
        )


def measure_importance(units, result, scen, solver: str, params, wanted, budget, max_price):
    """The importance of every unit of ``result`` (None without --importance)."""
    from dataclasses import replace

    from bundler.planning.importance import DEFAULT_MAX_PRICE, plan_importance

    if not wanted:
        return None
    time_limit = params.time_limit if budget is None else budget
    with progress_bar("measuring the importance of units") as tick:
        return plan_importance(
            units,
            result,
            scen,
            solver=solver,
            params=replace(params, time_limit=time_limit),
            max_price=DEFAULT_MAX_PRICE if max_price is None else max_price,
            progress=tick,
        )


def print_importance(importance, lang: str) -> None:
    """How many units were measured, and how many of the losses are proven."""
    from bundler.i18n.catalogue import translator

    tr = translator(lang)
    _ = tr.gettext
    facts = importance.facts()
    t = Table(title=_("Importance of units"), show_header=False, title_justify="left")
    t.add_row(
        _("units in the plan solved again"), f"{facts['resolved']} / {facts['units_in_plan']}"
    )
    t.add_row(
        _("losses proven"),
        _("{proven} / {units} ({provable} in groups whose plan is proven optimal)").format(
            proven=facts["proven"], units=facts["units_in_plan"], provable=facts["provable"]
        ),
    )
    t.add_row(
        _("units outside with a join price"),
        f"{facts['with_join_price']} / {facts['units_outside']}",
    )
    t.add_row(
        _("price search"),
        _("0 to {price} USD/tCO2e").format(price=tr.decimal(importance.max_price, 2)),
    )
    out.print(t)
    if facts["resolved"] < facts["units_in_plan"]:
        note = _(
            "{left} unit(s) of the plan were not solved again within {seconds} s: their "
            "losses carry the plan's bounds; give more time with --importance-time"
        ).format(
            left=facts["units_in_plan"] - facts["resolved"],
            seconds=tr.decimal(importance.budget_s, 1, group=False),
        )
        err.print(f"[yellow]{escape_markup(note)}[/]")
