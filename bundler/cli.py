"""The ``psbundle`` command line: a thin layer over the pipeline functions."""

from __future__ import annotations

import functools
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bundler import __version__
from bundler.errors import EXIT_INTERNAL, PsBundlerError
from bundler.progress import progress_bar

app = typer.Typer(
    name="psbundle",
    help=(
        "Bundle Social Forestry (Perhutanan Sosial) units into connected, cost-efficient "
        "carbon projects.\n\n"
        "Start with the built-in demo:  psbundle demo --out demo-out\n\n"
        "Typical session on your own layer:\n\n"
        "  psbundle validate permits.gpkg --province 'Sumatera Selatan'\n\n"
        "  psbundle graph permits.gpkg --max-gap-m 1000 --edges edges.csv\n\n"
        "Exit codes: 0 success, 1 internal error (a bug), 2 bad input, "
        "3 output folder not empty (use --force), 4 solver failure."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def friendly_errors(fn):
    """Turn ps-bundler errors into one clear message and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PsBundlerError as exc:
            _fail(_escape(str(exc)), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written", 130)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, show the traceback only on request
            if os.environ.get("PSBUNDLE_DEBUG"):
                traceback.print_exc()
            _fail(
                f"internal error ({type(exc).__name__}: {_escape(str(exc))}). This is a bug in "
                "ps-bundler; set PSBUNDLE_DEBUG=1 to see the traceback and please report it",
                EXIT_INTERNAL,
            )

    return wrapper


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


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


def _load(units: Path, scenario: Path | None, province: str | None, assume_crs: str | None):
    from bundler.scenario import load_scenario
    from bundler.validation import load_units

    scen = load_scenario(scenario)
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
        table.add_row("multipolygons", str(int((units.geom_type == "MultiPolygon").sum())))
    table.add_row("input CRS", report.input_crs or "none")
    if report.crs is not None:
        table.add_row("working CRS (equal-area)", report.crs.to_proj4() or "")
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
        err.print(f"[yellow]warning:[/] {_escape(w)}", highlight=False)


@app.command()
@friendly_errors
def validate(
    units: UnitsArg,
    province: ProvinceOpt = None,
    scenario: ScenarioOpt = None,
    assume_crs: AssumeCrsOpt = None,
):
    """Check a PS unit layer and report every problem at once.

    Errors (exit 2): no CRS, coordinates that contradict the CRS, empty or
    non-polygon geometries, duplicate ids, unknown scheme codes, non-numeric,
    missing, infinite or negative values. Repaired invalid geometries, overlapping
    permits (with their overlap area) and decreed-vs-polygon area mismatches are
    listed as warnings (exit 0).

    Example: psbundle validate permits.gpkg --province 16
    """
    _, report = _load(units, scenario, province, assume_crs)
    if report.ok:
        _print_report(report)
        out.print(f"[green]OK:[/] {report.source} is usable ({len(report.units)} units).")
    report.raise_if_errors()


def _build_graph(report, scen, max_gap_m: float | None):
    from bundler.graph import build_adjacency

    gap = scen.graph.max_gap_m if max_gap_m is None else max_gap_m
    with progress_bar("building adjacency") as tick:
        graph = build_adjacency(
            report.units, gap, landscape_edges=scen.graph.landscape_edges, progress=tick
        )
    return graph, gap


def _print_graph(graph, gap: float, limit: int = 20) -> None:
    from bundler.graph import graph_summary

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
        shown = ", ".join(s.isolated[:limit])
        more = f" and {len(s.isolated) - limit} more" if len(s.isolated) > limit else ""
        out.print(f"[bold]Isolated units:[/] {shown}{more}")


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
):
    """Build the adjacency graph: which units may be bundled together.

    Two units are neighbours when the gap between their boundaries is at most
    --max-gap-m metres, or (scenario graph.landscape_edges) when they share a
    landscape id. Prints the connected groups, their sizes and the isolated
    units; --edges writes every pair with its gap and shared border length.

    Example: psbundle graph permits.gpkg --max-gap-m 500 --edges edges.csv
    """
    from bundler.graph import edges_frame
    from bundler.outputs import atomic_write_file

    scen, report = _load(units, scenario, province, assume_crs)
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
            help="Output layer; format from the suffix (.gpkg, .shp, .geojson, .fgb, .parquet).",
        ),
    ],
    units: Annotated[int, typer.Option("--units", "-n", help="Number of units.", min=1)] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same file.")] = 0,
    provinces: Annotated[
        int, typer.Option("--provinces", help="Number of provinces (1-38).", min=1, max=38)
    ] = 1,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
):
    """Write a realistic synthetic PS permit layer in the ministry's schema.

    Units are clustered in landscapes with small gaps between neighbours, with a
    long tail of areas, multipolygons, a few overlaps and invalid rings, forest
    cover 2010/2020, peat, mangrove and readiness fields.

    Example: psbundle generate --units 2000 --seed 7 --provinces 3 --out synthetic.gpkg
    """
    from bundler.errors import InputError, OutputExistsError
    from bundler.generator import generate_units, write_layer

    suffixes = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".parquet")
    if out_file.suffix.lower() not in suffixes:
        raise InputError(f"--out {out_file}: unknown format; use one of {', '.join(suffixes)}")
    if out_file.exists() and not force:
        raise OutputExistsError(f"{out_file}: exists; pass --force to replace it")
    t0 = time.perf_counter()
    with err.status(f"generating {units:,} units ..."):
        gdf = generate_units(units, seed=seed, n_provinces=provinces)
        write_layer(gdf, out_file)
    out.print(
        f"wrote {len(gdf):,} units in {gdf['KODE_PROV'].nunique()} province(s), "
        f"{gdf['LUAS_SK'].sum():,.0f} ha, to {out_file} ({time.perf_counter() - t0:.1f} s)"
    )


DEMO_UNITS = 300
DEMO_SEED = 2026


@app.command()
@friendly_errors
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the demo's files.")
    ] = Path("psbundle-demo"),
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty folder.")] = False,
):
    """Run the main job on the built-in demo: one generated province of 300 units.

    Generates the demo layer (seed 2026), validates it, builds the adjacency
    graph and writes units.gpkg and edges.csv into the output folder.

    Example: psbundle demo --out demo-out
    """
    from bundler.generator import generate_units, write_layer
    from bundler.graph import edges_frame
    from bundler.outputs import atomic_output_dir, check_output_dir
    from bundler.scenario import Scenario
    from bundler.validation import load_units

    check_output_dir(out_dir, force)
    scen = Scenario()
    with atomic_output_dir(out_dir, force) as tmp:
        with err.status("generating the demo province ..."):
            gdf = generate_units(DEMO_UNITS, seed=DEMO_SEED, n_provinces=1)
            layer = tmp / "units.gpkg"
            write_layer(gdf, layer)
            report = load_units(layer, scen)
        report.raise_if_errors()
        _print_report(report, limit=5)
        g, gap = _build_graph(report, scen, None)
        _print_graph(g, gap, limit=10)
        edges_frame(g).to_csv(tmp / "edges.csv", index=False)
    out.print(f"[green]demo written to[/] {out_dir}/ (units.gpkg, edges.csv)")


def main() -> None:
    """Entry point of the ``psbundle`` console script."""
    app(prog_name="psbundle")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
