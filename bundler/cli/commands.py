"""The ``psbundle`` command line: a thin layer over the pipeline functions."""

from __future__ import annotations

import functools
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Annotated

import shapely
import typer
from rich.table import Table
from typer.core import TyperGroup

from bundler.cli import scale as cli_scale
from bundler.cli.common import (
    DEFAULT_MIP_GAP,
    DEFAULT_SOLVER,
    DEMO_OUT,
    OUT_RULE,
    AssumeCrsOpt,
    ExcludeOpt,
    ForceOpt,
    GapAliasOpt,
    IdColumnOpt,
    LangOpt,
    MaxGapOpt,
    MipGapOpt,
    Objective,
    OutDirOpt,
    PlanTimeLimitOpt,
    ProvinceOpt,
    ScenarioOpt,
    SolverOpt,
    UnitsArg,
    check_solver,
    err,
    escape_markup,
    mip_gap_of,
    out,
    plan_overrides,
    prepare,
    with_exclusions,
    with_id_column,
    with_lang,
)
from bundler.cli.importance import (
    ImportanceOpt,
    ImportanceTimeOpt,
    MaxPriceOpt,
    check_importance,
    measure_importance,
    print_importance,
)
from bundler.cli.progress import progress_bar
from bundler.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, PsBundlerError
from bundler.text import short_list
from bundler.version import __version__


def _fail(message: str, code: int) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


# click's UsageError (an unknown option, a value out of range, a missing --out): typer
# exports only its subclass BadParameter, whichever click it runs on (its own copy lately)
_UsageError = typer.BadParameter.__base__


class _Commands(TyperGroup):
    """The ``psbundle`` group: a mistake on a command line is one ``error:`` line and exit 2,
    like every other bad input, instead of click's usage box."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            _fail(f"{escape_markup(exc.format_message())} (see {where} --help)", exc.exit_code)


app = typer.Typer(
    name="psbundle",
    cls=_Commands,
    help=(
        "Bundle Social Forestry (Perhutanan Sosial) units into connected, cost-efficient "
        "carbon projects.\n\n"
        "Start with the built-in demo:  psbundle demo --out demo-out\n\n"
        "Typical session on your own layer:\n\n"
        "  psbundle validate permits.gpkg --province 'Sumatera Selatan'\n\n"
        "  psbundle graph permits.gpkg --max-gap-m 1000 --edges edges.csv\n\n"
        "  psbundle plan permits.gpkg --province 16 --out plan-16\n\n"
        "  psbundle national permits.gpkg --out national\n\n"
        "  psbundle sweep permits.gpkg --out sweep --grid price=5,10,20\n\n"
        f"Output: {OUT_RULE}\n\n"
        "Exit codes: 0 success, 1 internal error (a bug), 2 bad input, "
        "3 output folder not empty (--force replaces only an earlier ps-bundler output), "
        "4 solver failure, 5 partly done (some provinces of a national run or sweep failed), "
        "130 interrupted."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def friendly_errors(fn):
    """Turn ps-bundler errors into one clear message and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PsBundlerError as exc:
            _fail(escape_markup(str(exc)), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written", EXIT_INTERRUPTED)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, show the traceback only on request
            if os.environ.get("PSBUNDLE_DEBUG"):
                traceback.print_exc()
            _fail(
                f"internal error ({type(exc).__name__}: {escape_markup(str(exc))}). This is a "
                "bug in ps-bundler; set PSBUNDLE_DEBUG=1 to see the traceback and please report it",
                EXIT_INTERNAL,
            )

    return wrapper


def _version(value: bool):
    if value:
        out.print(f"psbundle {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
):
    pass


def _load(
    units: Path,
    scenario: Path | None,
    province: str | None,
    assume_crs: str | None,
    id_column: str | None = None,
):
    from bundler.config.scenario import load_scenario
    from bundler.input.validation import load_units

    scen = with_id_column(load_scenario(scenario), id_column)
    with err.status(f"reading and checking {units} ..."):
        report = load_units(units, scen, province=province, assume_crs=assume_crs)
    return scen, report


def _print_report(report, limit: int = 15) -> None:
    units = report.units
    table = Table(title=f"Validation of {report.source}", show_header=False, title_justify="left")
    table.add_row("features in file", str(report.n_input))
    if units is not None:
        table.add_row("units checked", str(len(units)))
        table.add_row("total area", f"{units['area_ha'].sum():,.0f} ha")
        parts = shapely.get_num_geometries(units.geometry.values)
        table.add_row("units in several parts", str(int((parts > 1).sum())))
    table.add_row("input CRS", report.input_crs or "none")
    if report.crs is not None:
        table.add_row("working CRS (equal-area)", report.crs.srs)
    table.add_row("repaired geometries", str(len(report.repaired)))
    table.add_row("overlapping pairs", str(len(report.overlaps)))
    table.add_row("decreed-area mismatches", str(len(report.area_mismatch)))
    out.print(table)
    if report.repaired:
        out.print("[bold]Repaired geometries:[/] " + ", ".join(report.repaired))
    if len(report.overlaps):
        t = Table(title="Overlapping permits (largest first)", title_justify="left")
        for c in ("unit_a", "unit_b", "overlap_ha"):
            t.add_column(c, justify="right" if c == "overlap_ha" else "left")
        rows = report.overlaps.sort_values("overlap_ha", ascending=False)
        for r in rows.head(limit).itertuples(index=False):
            t.add_row(str(r.unit_a), str(r.unit_b), f"{r.overlap_ha:,.2f}")
        out.print(t)
        if len(rows) > limit:
            out.print(f"... and {len(rows) - limit} more overlapping pairs")
    if len(report.area_mismatch):
        t = Table(title="Decreed area (LUAS_SK) vs polygon area", title_justify="left")
        for c in ("unit_id", "decreed_ha", "polygon_ha", "rel_diff"):
            t.add_column(c)
        for r in report.area_mismatch.head(limit).itertuples(index=False):
            t.add_row(
                str(r.unit_id), f"{r.decreed_ha:,.1f}", f"{r.polygon_ha:,.1f}", f"{r.rel_diff:+.1%}"
            )
        out.print(t)
        if len(report.area_mismatch) > limit:
            out.print(f"... and {len(report.area_mismatch) - limit} more")
    for w in report.warnings:
        err.print(f"[yellow]warning:[/] {escape_markup(w)}", highlight=False)


@app.command()
@friendly_errors
def validate(
    units: UnitsArg,
    province: ProvinceOpt = None,
    scenario: ScenarioOpt = None,
    assume_crs: AssumeCrsOpt = None,
    id_column: IdColumnOpt = None,
):
    """Check a PS unit layer and report every problem at once.

    Errors (exit 2): no CRS, coordinates that contradict the CRS, empty or
    non-polygon geometries, duplicate ids, unknown scheme codes, non-numeric,
    missing, infinite or negative values. Repaired invalid geometries, overlapping
    permits (with their overlap area) and decreed-vs-polygon area mismatches are
    listed as warnings (exit 0).

    Example: psbundle validate permits.gpkg --province 16
    """
    _, report = _load(units, scenario, province, assume_crs, id_column)
    if report.ok:
        _print_report(report)
        out.print(f"[green]OK:[/] {report.source} is usable ({len(report.units)} units).")
    report.raise_if_errors()


def _build_graph(report, scen, max_gap_m: float | None):
    from bundler.graph.adjacency import build_adjacency

    gap = scen.graph.max_gap_m if max_gap_m is None else max_gap_m
    with progress_bar("building adjacency") as tick:
        graph = build_adjacency(
            report.units, gap, landscape_edges=scen.graph.landscape_edges, progress=tick
        )
    return graph, gap


def _print_graph(graph, gap: float, limit: int = 20) -> None:
    from bundler.graph.adjacency import graph_summary

    s = graph_summary(graph)
    t = Table(title=f"Adjacency graph (max gap {gap:g} m)", show_header=False, title_justify="left")
    t.add_row("units", f"{s.n_units:,}")
    t.add_row("neighbour pairs (edges)", f"{s.n_edges:,}")
    t.add_row("connected groups", f"{s.n_components:,}")
    t.add_row("largest group", f"{s.largest_component_size:,} units")
    t.add_row("isolated units", f"{len(s.isolated):,}")
    out.print(t)
    sizes = {}
    for size in s.component_sizes:
        sizes[size] = sizes.get(size, 0) + 1
    t = Table(title="Groups by size", title_justify="left")
    t.add_column("units in group", justify="right")
    t.add_column("groups", justify="right")
    for size, count in sorted(sizes.items(), reverse=True):
        t.add_row(str(size), str(count))
    out.print(t)
    if s.isolated:
        out.print(f"[bold]Isolated units:[/] {short_list(s.isolated, limit)}")


@app.command()
@friendly_errors
def graph(
    units: UnitsArg,
    max_gap_m: MaxGapOpt = None,
    edges: Annotated[
        Path | None, typer.Option("--edges", help="Write the neighbour pairs to this CSV file.")
    ] = None,
    province: ProvinceOpt = None,
    scenario: ScenarioOpt = None,
    assume_crs: AssumeCrsOpt = None,
    id_column: IdColumnOpt = None,
):
    """Build the adjacency graph: which units may be bundled together.

    Two units are neighbours when the gap between their boundaries is at most
    --max-gap-m metres, or (scenario graph.landscape_edges) when they share a
    landscape id. Prints the connected groups, their sizes and the isolated
    units; --edges writes every pair with its gap and shared border length.

    Example: psbundle graph permits.gpkg --max-gap-m 500 --edges edges.csv
    """
    from bundler.graph.adjacency import edges_frame
    from bundler.outputs.files import atomic_write_file

    scen, report = _load(units, scenario, province, assume_crs, id_column)
    report.raise_if_errors()
    g, gap = _build_graph(report, scen, max_gap_m)
    _print_graph(g, gap)
    if edges is not None:
        frame = edges_frame(g)
        atomic_write_file(edges, lambda p: frame.to_csv(p, index=False))
        out.print(f"wrote {len(frame):,} neighbour pairs to {edges}")


@app.command()
@friendly_errors
def generate(
    out_file: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output layer file (required); format from the suffix (.gpkg, .shp, "
            ".geojson, .fgb, .parquet).",
        ),
    ],
    units: Annotated[int, typer.Option("--units", "-n", help="Number of units.", min=1)] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same file.")] = 0,
    provinces: Annotated[
        int, typer.Option("--provinces", help="Number of provinces (1-38).", min=1, max=38)
    ] = 1,
    crs: Annotated[
        str,
        typer.Option(
            "--crs",
            help="Output CRS: ESRI:54034 (World Cylindrical Equal Area, like many ministry "
            "exports, the default) or EPSG:4326.",
        ),
    ] = "ESRI:54034",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
):
    """Write a realistic synthetic PS permit layer in the ministry's schema.

    Units are clustered in landscapes with small gaps between neighbours, with a
    long tail of areas, multipolygons, a few overlaps and invalid rings, forest
    cover 2010/2020, peat, mangrove and readiness fields.

    Example: psbundle generate --units 2000 --seed 7 --provinces 3 --out synthetic.gpkg
    """
    from bundler.errors import InputError, OutputExistsError
    from bundler.synthetic.generator import CRS_CHOICES, generate_units, write_layer

    suffixes = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".parquet")
    if out_file.suffix.lower() not in suffixes:
        raise InputError(f"--out {out_file}: unknown format; use one of {', '.join(suffixes)}")
    if crs.strip().upper() not in CRS_CHOICES:
        raise InputError(f"--crs {crs}: unknown CRS; use {' or '.join(CRS_CHOICES)}")
    if out_file.exists() and not force:
        raise OutputExistsError(f"{out_file}: exists; pass --force to replace it")
    t0 = time.perf_counter()
    with err.status(f"generating {units:,} units ..."):
        gdf = generate_units(units, seed=seed, n_provinces=provinces, crs=crs)
        write_layer(gdf, out_file)
    out.print(
        f"wrote {len(gdf):,} units in {gdf['KODE_PROV'].nunique()} province(s), "
        f"{gdf['LUAS_SK'].sum():,.0f} ha, to {out_file} ({time.perf_counter() - t0:.1f} s)"
    )


RasterOpt = Path | None


def _raster_flags(forest_2010, forest_2020, peat, mangrove) -> dict[str, Path | None]:
    from bundler.errors import InputError

    if (forest_2010 is None) != (forest_2020 is None):
        raise InputError("--forest-2010 and --forest-2020 go together: give both or neither")
    return {
        "forest_2010": forest_2010,
        "forest_2020": forest_2020,
        "peat": peat,
        "mangrove": mangrove,
    }


@app.command()
@friendly_errors
def solvers():
    """List the solver backends and whether they work on this machine.

    Exact backends (highs, cbc, cpsat) solve a rooted-assignment MIP with
    contiguity cuts and prove optimality or report their bound and gap; the
    heuristic is fast and gives no proof.

    Example: psbundle solvers
    """
    from solvers.registry import BACKENDS, available_backends

    ok = {b.name for b in available_backends()}
    t = Table(title="Solver backends", title_justify="left")
    for c in ("name", "kind", "available", "description"):
        t.add_column(c)
    for b in BACKENDS.values():
        t.add_row(b.name, b.kind, "yes" if b.name in ok else "no", b.description)
    out.print(t)


@app.command()
@friendly_errors
def score(
    units: UnitsArg,
    out_dir: OutDirOpt,
    forest_2010: Annotated[
        RasterOpt,
        typer.Option(
            "--forest-2010",
            help="Forest raster of 2010 (GeoTIFF; 1/0 forest or a 0-1 fraction; any CRS).",
        ),
    ] = None,
    forest_2020: Annotated[
        RasterOpt, typer.Option("--forest-2020", help="Forest raster of 2020.")
    ] = None,
    peat: Annotated[RasterOpt, typer.Option("--peat", help="Peat raster.")] = None,
    mangrove: Annotated[RasterOpt, typer.Option("--mangrove", help="Mangrove raster.")] = None,
    province: ProvinceOpt = None,
    scenario: ScenarioOpt = None,
    assume_crs: AssumeCrsOpt = None,
    id_column: IdColumnOpt = None,
    force: ForceOpt = False,
):
    """Score every unit: typology, interventions, mitigation potential, additionality, readiness.

    Forest, peat and mangrove areas come from rasters by exact-area zonal
    statistics when given, otherwise from the layer's columns (forest_ha_2010,
    forest_ha_2020, peat_ha, mangrove_ha). Writes scored_units.gpkg, the
    brief's two tables (potential_by_intervention.csv, potential_by_scheme.csv)
    and run.json, and prints the tables.

    Example: psbundle score permits.gpkg --out scored
    --forest-2010 fc2010.tif --forest-2020 fc2020.tif
    """
    from bundler.config.scenario import load_scenario
    from bundler.outputs.files import atomic_output_dir, check_output_dir, write_layers
    from bundler.scoring.potential_tables import (
        intervention_table,
        potential_by_intervention,
        potential_by_scheme,
        scheme_table,
    )

    check_output_dir(out_dir, force)
    scen = with_id_column(load_scenario(scenario), id_column)
    rasters = _raster_flags(forest_2010, forest_2020, peat, mangrove)
    prepared = prepare(units, scen, province, assume_crs, rasters)
    by_int = potential_by_intervention(prepared.units)
    by_scheme = potential_by_scheme(prepared.units)
    with atomic_output_dir(out_dir, force) as tmp:
        write_layers(tmp / "scored_units.gpkg", {"units": prepared.units}, prepared.units)
        by_int.to_csv(tmp / "potential_by_intervention.csv", float_format="%.4f")
        by_scheme.to_csv(tmp / "potential_by_scheme.csv", float_format="%.4f")
    out.print(intervention_table(by_int))
    out.print(scheme_table(by_scheme))
    out.print(f"[green]scored {len(prepared.units):,} units into[/] {out_dir}/")


def _check_min_difference(value: float | None) -> float | None:
    """``value`` when it is a share of units in (0, 1], else a usage error saying what one is."""
    if value is not None and not 0 < value <= 1:
        raise typer.BadParameter(
            f"{value:g} is not a share of units: it must be above 0 and at most 1, e.g. 0.2 "
            "for plans that differ in at least 20% of their units"
        )
    return value


AlternativesOpt = Annotated[
    int,
    typer.Option(
        "--alternatives",
        metavar="K",
        help="Also look for up to K near-optimal alternative plans (0: none), each within "
        "--max-loss of the best plan's objective and different from the best and every "
        "earlier alternative in at least --min-difference of its units: alternatives.csv, "
        "a bundle_id_alt<i> column of plan.gpkg's units layer and a section of the report. "
        "The search takes up to --time-limit seconds more.",
        min=0,
    ),
]
MaxLossOpt = Annotated[
    float | None,
    typer.Option(
        "--max-loss",
        metavar="P",
        help="With --alternatives: the largest loss of objective, in percent of the best "
        "plan's (default 5).",
        min=0,
        max=100,
        show_default=False,
    ),
]
MinDifferenceOpt = Annotated[
    float | None,
    typer.Option(
        "--min-difference",
        metavar="D",
        help="With --alternatives: the least share of units, above 0 and at most 1, by which "
        "each alternative differs from the best and every earlier alternative (units in "
        "only one of two plans over units in either; default 0.2).",
        callback=_check_min_difference,
        show_default=False,
    ),
]
CobenefitColumnOpt = Annotated[
    str | None,
    typer.Option(
        "--cobenefit-column",
        metavar="COL",
        help="The layer's column holding each unit's co-benefit value, a number >= 0 "
        "(default biodiversity, used when present): cobenefit per unit and per bundle "
        "(sum over its units) in plan.gpkg and bundles.csv.",
        show_default=False,
    ),
]
MinCobenefitOpt = Annotated[
    float | None,
    typer.Option(
        "--min-cobenefit",
        metavar="X",
        help="A floor on the plan's total co-benefit: when the best plan falls short, "
        "re-optimise over a pool of feasible bundles for the best plan whose co-benefit is "
        "at least X (its gap measured against the bound without the floor).",
        min=0,
        show_default=False,
    ),
]

ParetoOpt = Annotated[
    int,
    typer.Option(
        "--pareto",
        metavar="N",
        help="Also trace a front of up to N plans (2 or more; 0: none) trading the objective "
        "against co-benefit: floors on co-benefit spread between the best plan's and the "
        "largest a pool of feasible bundles reaches, each point the best plan meeting its "
        "floor, none dominated: pareto.csv, pareto.png and a section of the report. Takes "
        "up to --time-limit seconds more.",
        min=0,
    ),
]


@app.command()
@friendly_errors
def plan(
    units: UnitsArg,
    out_dir: OutDirOpt,
    scenario: ScenarioOpt = None,
    province: ProvinceOpt = None,
    solver: SolverOpt = DEFAULT_SOLVER,
    time_limit: PlanTimeLimitOpt = 60.0,
    objective: Annotated[
        Objective | None,
        typer.Option(
            "--objective", help="npv (default), credits or max-p (max-p regions, no cost test)."
        ),
    ] = None,
    min_area_ha: Annotated[
        float | None,
        typer.Option(
            "--min-area-ha", help="Minimum bundle area, ha (scenario bundling.min_area_ha).", min=0
        ),
    ] = None,
    max_gap_m: MaxGapOpt = None,
    carbon_price: Annotated[
        float | None,
        typer.Option(
            "--carbon-price", help="Carbon price, USD/tCO2e; also the default cost ceiling.", min=0
        ),
    ] = None,
    forest_2010: Annotated[
        RasterOpt, typer.Option("--forest-2010", help="Forest raster 2010.")
    ] = None,
    forest_2020: Annotated[
        RasterOpt, typer.Option("--forest-2020", help="Forest raster 2020.")
    ] = None,
    peat: Annotated[RasterOpt, typer.Option("--peat", help="Peat raster.")] = None,
    mangrove: Annotated[RasterOpt, typer.Option("--mangrove", help="Mangrove raster.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (heuristic and solvers).")] = 0,
    alternatives: AlternativesOpt = 0,
    max_loss: MaxLossOpt = None,
    min_difference: MinDifferenceOpt = None,
    cobenefit_column: CobenefitColumnOpt = None,
    min_cobenefit: MinCobenefitOpt = None,
    pareto: ParetoOpt = 0,
    importance: ImportanceOpt = False,
    importance_time: ImportanceTimeOpt = None,
    max_price: MaxPriceOpt = None,
    biodiversity: Annotated[
        RasterOpt,
        typer.Option(
            "--biodiversity",
            help="A raster of a co-benefit index (any value >= 0): each unit's co-benefit is "
            "its mean value times the unit's area in ha (instead of a column).",
        ),
    ] = None,
    threads: Annotated[int, typer.Option("--threads", help="Solver threads.", min=1)] = 1,
    mip_gap: MipGapOpt = DEFAULT_MIP_GAP,
    gap: GapAliasOpt = None,
    assume_crs: AssumeCrsOpt = None,
    id_column: IdColumnOpt = None,
    lang: LangOpt = None,
    exclude: ExcludeOpt = None,
    force: ForceOpt = False,
):
    """Pick and merge neighbouring units into connected, cost-efficient carbon projects.

    Every bundle is connected under the gap rule, reaches the minimum area (an
    overlap counted once), passes the cost test (levelized cost per credited
    tCO2e at most the carbon price) and stays manageable (maximum area, units
    and radius). The plan is checked by an independent verifier, then written
    atomically to --out: report.html (the planner's report: map, five-year
    priority list, bundles, benefit sharing), map.png, plan.gpkg (layers units
    and bundles), bundles.csv, estimates.csv, yearly.csv, priority.csv,
    benefit_sharing.csv and run.json (inputs with sha256, resolved scenario,
    solver, termination, objective, bound, gap, runtime, versions, seed). A
    plan is called optimal only when the solver proved it. --lang id writes the
    report, the reasons and this summary in Bahasa Indonesia. --exclude
    FILE[:LABEL] (repeatable) leaves out the units that a no-go layer covers
    (tenure conflicts, concessions), as does the layer's own conflict column.
    --alternatives K adds up to K near-optimal alternative plans, each within
    --max-loss of the best and different from every earlier plan in at least
    --min-difference of its units (alternatives.csv, bundle_id_alt<i> columns).
    A co-benefit per unit (column biodiversity, or --cobenefit-column COL) is
    summed per bundle; --min-cobenefit X puts a floor on the plan's total, and
    --pareto N traces N plans trading the objective against it (pareto.csv).
    --importance measures each unit: the loss when a unit of the plan is locked
    out, and the carbon price at which a unit outside would join (importance.csv).

    Example: psbundle plan permits.gpkg --out plan-16 --province 16 --carbon-price 10
    --exclude konflik.gpkg:konflik
    """
    from bundler.config.scenario import load_scenario
    from bundler.economics.estimation import estimate_plan
    from bundler.outputs.files import atomic_output_dir, check_output_dir
    from bundler.outputs.plan import write_plan
    from bundler.pipeline import adjacency
    from solvers.base import SolveParams

    rel_gap = mip_gap_of(mip_gap, gap)
    check_output_dir(out_dir, force)
    check_solver(solver.value)
    scen = plan_overrides(
        load_scenario(scenario),
        min_area_ha,
        max_gap_m,
        carbon_price,
        objective,
        id_column,
        scenario_file=scenario,
        lang=lang,
    )
    scen = with_exclusions(scen, exclude)
    _check_alternatives(alternatives, max_loss, min_difference, scen)
    _check_cobenefit_floor(min_cobenefit, alternatives, scen, pareto)
    check_importance(importance, importance_time, max_price, scen)
    rasters = _raster_flags(forest_2010, forest_2020, peat, mangrove)
    prepared = prepare(units, scen, province, assume_crs, rasters)
    prepared.units = _with_cobenefit(prepared, cobenefit_column, biodiversity, units)
    params = SolveParams(time_limit=time_limit, rel_gap=rel_gap, threads=threads, seed=seed)
    with progress_bar("building adjacency") as tick:
        graph = adjacency(prepared.units, scen, tick)
    result = _solve(prepared.units, graph, scen, solver.value, params)
    floor = _cobenefit_floor(prepared.units, result, scen, solver.value, params, min_cobenefit)
    if floor is not None:
        result = floor.plan
    front = _pareto(prepared.units, result, scen, solver.value, params, pareto)
    alts = _alternatives(
        prepared.units, result, scen, params, alternatives, max_loss, min_difference
    )
    weights = measure_importance(
        prepared.units, result, scen, solver.value, params, importance, importance_time, max_price
    )
    economics = estimate_plan(prepared.units, result, scen)
    with atomic_output_dir(out_dir, force) as tmp:
        write_plan(
            tmp,
            prepared.units,
            result,
            scen,
            prepared.inputs,
            {
                "seed": seed,
                "time_limit_s": time_limit,
                "threads": threads,
                "rel_gap_target": rel_gap,
                "max_gap_m": scen.graph.max_gap_m,
                "province": province,
                "warnings": prepared.warnings,
                "safeguards": prepared.safeguards,
                "cobenefit_column": cobenefit_column,
                "cobenefit_floor": None if floor is None else floor.facts(),
            },
            economics=economics,
            alternatives=alts,
            pareto=front,
            importance=weights,
        )
    _print_plan(result, out_dir, scen.report.lang, alts, front, weights)


def _solve(units, graph, scen, solver: str, params):
    """Plan bundles under the scenario's gap rule, with a progress bar."""
    from bundler.planning.planner import plan_bundles

    with progress_bar("solving groups of units") as tick:
        return plan_bundles(
            units, graph, scen, scen.graph.max_gap_m, solver=solver, params=params, progress=tick
        )


def _check_alternatives(k: int, max_loss, min_difference, scen) -> None:
    """Before any work: --max-loss and --min-difference need --alternatives, which needs an
    objective whose plans can differ in their units."""
    from bundler.errors import InputError

    if not k and (max_loss is not None or min_difference is not None):
        flags = (("--max-loss", max_loss), ("--min-difference", min_difference))
        given = [flag for flag, value in flags if value is not None]
        raise InputError(f"{' and '.join(given)} only apply with --alternatives K (K > 0)")
    if k and scen.bundling.objective == "max-p":
        raise InputError(
            "--alternatives needs the npv or credits objective: a max-p plan puts every unit "
            "in a bundle, so no other plan can differ from it in its units"
        )


def _check_cobenefit_floor(min_cobenefit, k: int, scen, pareto: int = 0) -> None:
    """Before any work: --min-cobenefit and --pareto need an objective whose plans can differ
    in their units, and are not combined with --alternatives or each other."""
    from bundler.errors import InputError

    if pareto:
        if pareto < 2:
            raise InputError(f"--pareto needs 2 or more points, got {pareto}")
        if scen.bundling.objective == "max-p":
            raise InputError("--pareto needs the npv or credits objective, not max-p")
        if k or min_cobenefit is not None:
            raise InputError(
                "--pareto cannot be combined with --alternatives or --min-cobenefit; run them apart"
            )
    if min_cobenefit is None:
        return
    if scen.bundling.objective == "max-p":
        raise InputError(
            "--min-cobenefit needs the npv or credits objective: a max-p plan puts every unit "
            "in a bundle, so its co-benefit is fixed"
        )
    if k:
        raise InputError("--min-cobenefit and --alternatives cannot be combined; run them apart")


def _with_cobenefit(prepared, column: str | None, raster: Path | None, source: Path):
    """The units with ``cobenefit`` from the raster or the column (or without any)."""
    from bundler.errors import InputError
    from bundler.scoring.cobenefit import add_cobenefit, cobenefit_from_raster

    if raster is None:
        return add_cobenefit(prepared.units, column, str(source))
    if column is not None:
        raise InputError("give --biodiversity RASTER or --cobenefit-column COL, not both")
    with err.status(f"reading the co-benefit raster {raster} ..."):
        units, warnings = cobenefit_from_raster(prepared.units, Path(raster))
    for w in warnings:
        err.print(f"[yellow]warning:[/] {escape_markup(w)}", highlight=False)
    prepared.warnings.extend(warnings)
    prepared.inputs["raster_biodiversity"] = Path(raster)
    return units


def _cobenefit_floor(units, result, scen, solver: str, params, floor):
    """The verified plan meeting the co-benefit floor (None without --min-cobenefit)."""
    from bundler.planning.cobenefit_floor import plan_min_cobenefit

    if floor is None:
        return None
    with err.status(f"re-optimising for a co-benefit of at least {floor:g} ..."):
        return plan_min_cobenefit(
            units, result, scen, scen.graph.max_gap_m, floor, solver=solver, params=params
        )


def _pareto(units, result, scen, solver: str, params, n: int):
    """The verified Pareto front of objective against co-benefit (None when ``n`` is 0)."""
    from bundler.planning.pareto import plan_pareto

    if not n:
        return None
    with err.status(f"tracing a Pareto front of {n} plan(s) ..."):
        return plan_pareto(
            units, result, scen, scen.graph.max_gap_m, n, solver=solver, params=params
        )


def _print_pareto(front, lang: str) -> None:
    """The front's plans, and what was dropped."""
    from bundler.i18n.catalogue import translator

    tr = translator(lang)
    _ = tr.gettext
    t = Table(title=_("Objective against co-benefit (Pareto front)"), title_justify="left")
    for header in (_("point"), _("floor"), _("objective"), _("co-benefit"), _("gap")):
        t.add_column(header, justify="right")
    for row in front.table.itertuples(index=False):
        gap = "-" if row.gap is None or row.gap != row.gap else tr.percent(row.gap, 1)
        t.add_row(
            f"P{row.point}",
            tr.decimal(row.floor, 2),
            tr.number(row.objective),
            tr.decimal(row.cobenefit, 2),
            gap,
        )
    out.print(t)
    out.print(f"[yellow]{escape_markup(front.note)}[/]")


def _alternatives(units, result, scen, params, k: int, max_loss, min_difference):
    """Up to ``k`` verified near-optimal alternatives to ``result`` (None when ``k`` is 0)."""
    from bundler.planning.alternatives import (
        DEFAULT_MAX_LOSS,
        DEFAULT_MIN_DIFFERENCE,
        plan_alternatives,
    )

    if not k:
        return None
    with err.status(f"looking for {k} near-optimal alternative plan(s) ..."):
        return plan_alternatives(
            units,
            result,
            scen,
            scen.graph.max_gap_m,
            k,
            max_loss=DEFAULT_MAX_LOSS if max_loss is None else max_loss / 100.0,
            min_difference=DEFAULT_MIN_DIFFERENCE if min_difference is None else min_difference,
            params=params,
        )


def _print_alternatives(alts, lang: str) -> None:
    """The alternatives beside the best plan, and why there are fewer than asked for."""
    from bundler.i18n.catalogue import translator

    tr = translator(lang)
    _ = tr.gettext
    t = Table(title=_("Near-optimal alternatives"), title_justify="left")
    for header in (
        _("plan"),
        _("objective"),
        _("gap"),
        _("loss"),
        _("bundles"),
        _("units"),
        _("differs from best"),
        _("from nearest"),
    ):
        t.add_column(header, justify="left" if header == _("plan") else "right")

    def pct(v) -> str:
        return "-" if v is None or v != v else tr.percent(v, 1)

    for row in alts.table.itertuples(index=False):
        t.add_row(
            row.plan,
            tr.number(row.objective),
            pct(row.gap),
            pct(row.loss),
            str(row.n_bundles),
            str(row.units_in_bundles),
            pct(row.difference_from_best),
            pct(row.difference_from_nearest),
        )
    out.print(t)
    if alts.note:
        out.print(f"[yellow]{escape_markup(alts.note)}[/]")


def _print_plan(
    result, out_dir: Path, lang: str = "en", alternatives=None, pareto=None, importance=None
) -> None:
    from bundler.i18n.catalogue import translator
    from bundler.outputs.gaps import bound_meaning, format_gap
    from bundler.planning.planner import plan_totals

    tr = translator(lang)
    _ = tr.gettext
    b = result.bundles
    t = Table(title=_("Plan"), show_header=False, title_justify="left")
    t.add_row(_("objective"), result.objective_name)
    t.add_row(_("solver"), result.solver)
    t.add_row(_("termination"), result.termination.value)
    t.add_row(
        _("objective value"), "-" if result.objective is None else tr.decimal(result.objective, 2)
    )
    t.add_row(_("bound"), "-" if result.bound is None else tr.decimal(result.bound, 2))
    t.add_row(_("gap"), format_gap(result.objective, result.bound, lang))
    t.add_row(_("gap refers to"), bound_meaning(result.objective_name, lang))
    t.add_row(_("bundles"), str(len(b)))
    if len(b):
        totals = plan_totals(b)
        t.add_row(_("units in bundles"), str(totals["units_in_bundles"]))
        t.add_row(_("area in bundles"), _("{value} ha").format(value=tr.decimal(totals["area_ha"])))
        if b["credits_tco2e_yr"].notna().any():
            credits = tr.decimal(totals["credits_tco2e_yr"])
            t.add_row(_("credits"), _("{value} tCO2e/yr").format(value=credits))
            t.add_row(_("NPV"), _("{amount} USD").format(amount=tr.decimal(totals["npv_usd"])))
    t.add_row(
        _("runtime"),
        _("{seconds} s").format(seconds=tr.decimal(result.runtime_s, 1, group=False)),
    )
    out.print(t)
    if result.explanation:
        out.print(f"[yellow]{escape_markup(result.explanation)}[/]")
    if alternatives is not None:
        _print_alternatives(alternatives, lang)
    if pareto is not None:
        _print_pareto(pareto, lang)
    if importance is not None:
        print_importance(importance, lang)
    # TRANSLATORS: keep the [green]...[/] colour tags around the first words
    done = _("[green]plan written to[/] {folder}/ ({files})")
    out.print(
        done.format(
            folder=out_dir,
            files="report.html, map.png, plan.gpkg, bundles.csv, estimates.csv, yearly.csv, "
            "priority.csv, benefit_sharing.csv, run.json"
            + (", alternatives.csv" if alternatives is not None else "")
            + (", pareto.csv, pareto.png" if pareto is not None else "")
            + (", importance.csv" if importance is not None else ""),
        )
    )


@app.command("scenario")
@friendly_errors
def scenario_cmd(
    scenario: Annotated[
        Path | None, typer.Argument(help="A scenario file to check and show resolved.")
    ] = None,
    write: Annotated[
        Path | None, typer.Option("--write", help="Write the TOML to this file.")
    ] = None,
):
    """Show a scenario as TOML: every key, its value and the source of the default.

    Without a file, shows the defaults: a starting point for your own scenario.
    With a file, checks it (unknown keys, types, ranges) and shows it resolved.

    Example: psbundle scenario --write my-scenario.toml
    """
    from bundler.config.doc import render_scenario
    from bundler.config.scenario import load_scenario
    from bundler.outputs.files import atomic_write_file

    text = render_scenario(load_scenario(scenario))
    if write is None:
        out.print(text, markup=False, highlight=False, end="")
    else:
        atomic_write_file(write, lambda p: p.write_text(text, encoding="utf-8"))
        out.print(f"wrote {write}")


DEMO_UNITS = 300
DEMO_SEED = 2026
# a voluntary-market price (docs/domain.md: REDD+ ~3-10, ARR ~10-25 USD/t, indicative)
DEMO_SCENARIO = {"economics.carbon_price_usd": 15.0}


@app.command()
@friendly_errors
def demo(
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output folder. The one command with a default folder (it reads no input "
            "of yours); written all at once, it must be absent or empty unless --force.",
        ),
    ] = Path(DEMO_OUT),
    solver: SolverOpt = DEFAULT_SOLVER,
    time_limit: PlanTimeLimitOpt = 30.0,
    lang: LangOpt = None,
    force: ForceOpt = False,
):
    """Run the whole chain on the built-in demo: one generated province of 300 units.

    Generates the demo layer (seed 2026), validates and scores it, builds the
    adjacency graph and plans bundles at the demo's carbon price of 15 USD/t,
    writing units.gpkg (the generated layer), edges.csv (the graph) and the
    plan (report.html, map.png, plan.gpkg, bundles.csv, estimates.csv,
    yearly.csv, priority.csv, benefit_sharing.csv, run.json) into the output
    folder. --lang id writes the report, the reasons and the closing summary in
    Bahasa Indonesia.

    Example: psbundle demo --out demo-out
    """
    from bundler.config.scenario import Scenario
    from bundler.economics.estimation import estimate_plan
    from bundler.graph.adjacency import edges_frame
    from bundler.i18n.catalogue import translator
    from bundler.outputs.files import atomic_output_dir, check_output_dir
    from bundler.outputs.plan import sha256_of, write_plan
    from bundler.pipeline import adjacency, prepare_units
    from bundler.synthetic.generator import generate_units, write_layer
    from solvers.base import SolveParams

    check_output_dir(out_dir, force)
    check_solver(solver.value)
    scen = with_lang(Scenario(name="demo").with_values(DEMO_SCENARIO), lang)
    with atomic_output_dir(out_dir, force) as tmp:
        with err.status("generating, checking and scoring the demo province ..."):
            layer = tmp / "units.gpkg"
            write_layer(generate_units(DEMO_UNITS, seed=DEMO_SEED, n_provinces=1), layer)
            prepared = prepare_units(layer, scen)
        _print_report(prepared.report, limit=5)
        with progress_bar("building adjacency") as tick:
            graph = adjacency(prepared.units, scen, tick)
        _print_graph(graph, scen.graph.max_gap_m, limit=10)
        edges_frame(graph).to_csv(tmp / "edges.csv", index=False)
        params = SolveParams(time_limit=time_limit, seed=DEMO_SEED)
        result = _solve(prepared.units, graph, scen, solver.value, params)
        economics = estimate_plan(prepared.units, result, scen)
        write_plan(
            tmp,
            prepared.units,
            result,
            scen,
            # the layer's final place, not the scratch folder it is written in
            {"units": {"path": str(out_dir / "units.gpkg"), "sha256": sha256_of(layer)}},
            {
                "seed": DEMO_SEED,
                "time_limit_s": time_limit,
                "demo": True,
                "max_gap_m": scen.graph.max_gap_m,
                "warnings": prepared.warnings,
            },
            economics=economics,
        )
    lang = scen.report.lang
    _print_plan(result, out_dir, lang)
    # TRANSLATORS: keep the [green]...[/] colour tags around the first words
    done = translator(lang).gettext(
        "[green]demo written to[/] {folder}/ (report.html, units.gpkg, edges.csv, and the plan "
        "files above)"
    )
    out.print(done.format(folder=out_dir))


# registered here, after every shared piece above exists
app.command()(friendly_errors(cli_scale.national))
app.command()(friendly_errors(cli_scale.sweep))


def main() -> None:
    """Entry point of the ``psbundle`` console script."""
    app(prog_name="psbundle")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
