"""Pieces shared by the ``psbundle`` commands: consoles, option types, small helpers."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bundler.planning.settings_check import check_settings

out = Console()
err = Console(stderr=True)


def escape_markup(text: str) -> str:
    """``text`` with rich markup brackets escaped, to print as is."""
    return text.replace("[", r"\[")


UnitsArg = Annotated[
    Path,
    typer.Argument(
        help="PS unit layer: GeoPackage, Shapefile, GeoJSON, FlatGeobuf or GeoParquet, "
        "with the ministry's fields (PS_ID, SKEMA, LUAS_SK, ...) or canonical names.",
        show_default=False,
    ),
]
ProvinceOpt = Annotated[
    str | None,
    typer.Option(
        "--province", "-p", help="Keep only one province, by code (16) or name (Sumatera Selatan)."
    ),
]
ScenarioOpt = Annotated[
    Path | None,
    typer.Option("--scenario", "-s", help="Scenario TOML file (see scenarios/default.toml)."),
]
AssumeCrsOpt = Annotated[
    str | None,
    typer.Option(
        "--assume-crs",
        help="CRS to use when the layer has none, e.g. EPSG:4326 or ESRI:54034.",
    ),
]
MaxGapOpt = Annotated[
    float | None,
    typer.Option(
        "--max-gap-m",
        help="Units are neighbours when their boundaries are at most this many metres apart "
        "(0: touching only). Default: the scenario's graph.max_gap_m (1000).",
        min=0,
    ),
]


IdColumnOpt = Annotated[
    str | None,
    typer.Option(
        "--id-column",
        help="The column that is the permit key (e.g. OBJECTID); its values must be unique. "
        "Default: PS_ID, where permits that share a PS_ID or carry 0 get <PS_ID>-o<OBJECTID> "
        "(see README, 'Unit ids').",
    ),
]


ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace the folder when it holds an earlier ps-bundler output "
        "(never a folder with other files).",
    ),
]


class Objective(enum.StrEnum):
    npv = "npv"
    credits = "credits"
    maxp = "max-p"


def prepare(units, scen, province, assume_crs, rasters):
    """Read, validate and score ``units`` with a spinner, printing any warnings."""
    from bundler.pipeline import prepare_units

    with err.status(f"reading, checking and scoring {units} ..."):
        prepared = prepare_units(units, scen, province, assume_crs, rasters)
    for w in prepared.warnings:
        err.print(f"[yellow]warning:[/] {escape_markup(w)}", highlight=False)
    return prepared


def overrides(scen, **values):
    """``scen`` with the command-line values that were given (not None) applied."""
    given = {k: v for k, v in values.items() if v is not None}
    return scen.with_values(given) if given else scen


# dotted scenario key -> the flag of ``plan`` and ``national`` that sets it
PLAN_FLAGS = {
    "bundling.min_area_ha": "--min-area-ha",
    "graph.max_gap_m": "--max-gap-m",
    "economics.carbon_price_usd": "--carbon-price",
    "bundling.objective": "--objective",
    "input.id_column": "--id-column",
}


def with_id_column(scen, id_column: str | None):
    """``scen`` with ``--id-column`` applied (``input.id_column``), when it was given."""
    return overrides(scen, **{"input.id_column": id_column})


def plan_overrides(
    scen,
    min_area_ha=None,
    max_gap_m=None,
    carbon_price=None,
    objective=None,
    id_column=None,
    scenario_file: Path | None = None,
):
    """``scen`` with the planning flags shared by ``plan`` and ``national`` applied.

    The combined settings are checked against each other; a contradiction names both
    keys and whether each came from ``scenario_file``, a flag or the default.
    """
    values = {
        "bundling.min_area_ha": min_area_ha,
        "graph.max_gap_m": max_gap_m,
        "economics.carbon_price_usd": carbon_price,
        "bundling.objective": objective.value if objective else None,
        "input.id_column": id_column,
    }
    resolved = overrides(scen, **values)
    given = {k: PLAN_FLAGS[k] for k, v in values.items() if v is not None}
    check_settings(resolved, scenario_file, given)
    return resolved


def check_solver(solver: str) -> None:
    """Raise a clear ``--solver`` error for a backend that is unknown or unavailable."""
    from bundler.errors import InputError
    from solvers.registry import get_backend

    try:
        get_backend(solver)
    except ValueError as exc:
        raise InputError(f"--solver: {exc}") from None
