"""Pieces shared by the ``psbundle`` commands: consoles, option types, small helpers."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bundler.i18n.languages import LANGUAGES
from bundler.planning.settings_check import check_settings
from solvers.base import SolveParams
from solvers.registry import BACKENDS, DEFAULT_MIP_BACKEND

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

# The --out rule: every command that writes a folder (score, plan, national, sweep) needs
# --out DIR; only demo, which reads no input of yours, has a default folder.
DEMO_OUT = "psbundle-demo"
OUT_RULE = (
    "score, plan, national and sweep write a folder that you name with --out DIR "
    f"(required); demo writes to ./{DEMO_OUT} unless given --out; generate --out FILE "
    "writes one layer file."
)
OutDirOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        help="Output folder (required). Written all at once; it must be absent or empty "
        "unless --force.",
        show_default=False,
    ),
]


# Solver settings shared by plan, demo, national and sweep. The backend names are the
# registry's (solvers.registry.BACKENDS), so --help and shell completion list them.
Solver = enum.StrEnum("Solver", {name: name for name in BACKENDS})
_EXACT = [b.name for b in BACKENDS.values() if b.kind == "mip"]
_FAST = [b.name for b in BACKENDS.values() if b.kind != "mip"]
SolverOpt = Annotated[
    Solver,
    typer.Option(
        "--solver",
        help=f"Solver backend: {', '.join(_EXACT)} solve the exact MIP (proven optimal, or "
        f"the bound and gap are reported); {', '.join(_FAST)} is fast and proves nothing. "
        "'psbundle solvers' shows which work on this machine.",
        case_sensitive=False,
    ),
]
DEFAULT_SOLVER = Solver(DEFAULT_MIP_BACKEND)

# --time-limit bounds the solver's time only (reading, scoring, the graph, estimates and
# writing come on top); bundler/planning/planner.py spends params.time_limit on one whole
# plan, and bundler/scale/ gives every province (of every scenario) its own plan.
PlanTimeLimitOpt = Annotated[
    float,
    typer.Option(
        "--time-limit",
        help="Seconds the solver may spend on the whole plan, shared among its groups of "
        "neighbouring units (smallest first); groups still waiting when it is spent get a "
        "quick heuristic answer. Reading, scoring and writing come on top.",
        min=0.1,
    ),
]
ProvinceTimeLimitOpt = Annotated[
    float,
    typer.Option(
        "--time-limit",
        help="Seconds the solver may spend on each province's plan: every province gets "
        "this whole budget (as --time-limit of psbundle plan); provinces run side by side on "
        "the Dask workers. Reading, scoring and writing come on top.",
        min=0.1,
    ),
]
SweepTimeLimitOpt = Annotated[
    float,
    typer.Option(
        "--time-limit",
        help="Seconds the solver may spend on each province under each scenario: every "
        "(scenario, province) plan gets this whole budget (as --time-limit of psbundle "
        "plan); they run side by side on the Dask workers. Reading, scoring and writing "
        "come on top.",
        min=0.1,
    ),
]

DEFAULT_MIP_GAP = SolveParams().rel_gap
_GAP_EXAMPLE = "a fraction in [0, 1), e.g. 0.01 for 1%"


def _check_mip_gap(value: float | None) -> float | None:
    """``value`` when SolveParams takes it as a relative gap, else a usage error saying
    what one is."""
    if value is not None:
        try:
            SolveParams(rel_gap=value)
        except ValueError:
            raise typer.BadParameter(
                f"{value:g} is not a relative gap: the MIP's relative optimality gap is "
                f"{_GAP_EXAMPLE}. The metres between neighbouring units are --max-gap-m."
            ) from None
    return value


def _deprecated_gap(value: float | None) -> float | None:
    """``--gap``, the old name of ``--mip-gap``: warn, then check it the same way."""
    if value is not None:
        err.print(
            "[yellow]warning:[/] --gap is deprecated; use --mip-gap (the MIP's relative "
            f"optimality gap, {_GAP_EXAMPLE})",
            highlight=False,
            soft_wrap=True,
        )
    return _check_mip_gap(value)


MipGapOpt = Annotated[
    float,
    typer.Option(
        "--mip-gap",
        help="Relative optimality gap of the MIP, a fraction (0.01 = 1%, not metres): each "
        "group of units stops once its answer is proven within this fraction of the best "
        "possible, and counts as optimal.",
        callback=_check_mip_gap,
    ),
]
GapAliasOpt = Annotated[
    float | None,
    typer.Option("--gap", hidden=True, callback=_deprecated_gap, show_default=False),
]


def mip_gap_of(mip_gap: float, gap: float | None) -> float:
    """The relative gap to solve to: ``--mip-gap``, or the deprecated ``--gap`` if given."""
    from bundler.errors import InputError

    if gap is None:
        return mip_gap
    if mip_gap not in (DEFAULT_MIP_GAP, gap):
        raise InputError(
            f"--gap {gap:g} and --mip-gap {mip_gap:g}: --gap is the old name of --mip-gap; "
            "give --mip-gap only"
        )
    return gap


# --lang: the language of report.html, the priority list's `why`, the units' reasons and
# the closing summary (scenario report.lang); the choices are bundler/i18n's languages
Lang = enum.StrEnum("Lang", {name: name for name in LANGUAGES})
LangOpt = Annotated[
    Lang | None,
    typer.Option(
        "--lang",
        help="Language of report.html, the priority list's 'why', the units' reasons and "
        "this command's closing summary: en (English) or id (Bahasa Indonesia). Default: "
        "the scenario's report.lang (en). The CSV files keep '.' decimals.",
        case_sensitive=False,
        show_default=False,
    ),
]


def with_lang(scen, lang: Lang | None):
    """``scen`` with ``--lang`` applied (``report.lang``), when it was given."""
    return overrides(scen, **{"report.lang": lang.value if lang else None})


# --exclude: no-go layers (scenario [safeguards] exclude); repeatable, adds to the scenario's
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="FILE[:LABEL]",
        help="Leave out the units a no-go layer covers: recorded tenure conflicts, "
        "concessions or other areas (polygons or points, any vector format). A unit is "
        "excluded when more than safeguards.max_overlap_share (10%) of its area lies under "
        "the layer's polygons or a point of it lies inside; its reason names LABEL (default: "
        "the file's stem) and the overlap. Repeat for more layers; adds to the scenario's "
        "[safeguards] exclude. A 'conflict' (KONFLIK) column of the units layer excludes too.",
        show_default=False,
    ),
]


def with_exclusions(scen, exclude: list[str] | None):
    """``scen`` with the ``--exclude FILE[:LABEL]`` layers added to ``safeguards.exclude``."""
    if not exclude:
        return scen
    from bundler.safeguards.layers import exclusion_option

    layers = (*scen.safeguards.exclude, *(exclusion_option(text) for text in exclude))
    return dataclasses.replace(
        scen, safeguards=dataclasses.replace(scen.safeguards, exclude=layers)
    )


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
    _print_exclusions(prepared)
    return prepared


def _print_exclusions(prepared) -> None:
    """One line on standard error: how many units the safeguards exclude, and by what."""
    from bundler.safeguards.exclusion import excluded_mask

    record = prepared.safeguards
    if not record.get("layers") and not record.get("conflict_column"):
        return
    by = [f"{layer['label']}: {layer['units_excluded']}" for layer in record.get("layers", [])]
    if record.get("conflict_column"):
        by.append(f"conflict column: {record.get('conflict_units_excluded', 0)}")
    n = int(excluded_mask(prepared.units).sum())
    err.print(
        escape_markup(f"safeguards: {n} unit(s) excluded before planning ({', '.join(by)})"),
        highlight=False,
    )


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
    "report.lang": "--lang",
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
    lang: Lang | None = None,
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
        "report.lang": lang.value if lang else None,
    }
    resolved = overrides(scen, **values)
    given = {k: PLAN_FLAGS[k] for k, v in values.items() if v is not None}
    check_settings(resolved, scenario_file, given)
    return resolved


def check_solver(solver: str) -> None:
    """Raise a clear ``--solver`` error for a backend that is unknown or unavailable here."""
    from bundler.errors import InputError
    from solvers.registry import available_backends, get_backend

    try:
        backend = get_backend(solver)
    except (ValueError, ImportError) as exc:
        raise InputError(f"--solver: {exc}") from None
    if not backend.is_available():
        usable = ", ".join(b.name for b in available_backends()) or "none"
        raise InputError(
            f"--solver: solver backend {solver!r} is installed but its solver does not "
            f"load on this machine; usable here: {usable} (see psbundle solvers)"
        )
