"""``psbundle national`` and ``psbundle sweep``: many provinces and scenarios on Dask."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bundler.cli.common import (
    DEFAULT_MIP_GAP,
    DEFAULT_SOLVER,
    AssumeCrsOpt,
    ExcludeOpt,
    ForceOpt,
    GapAliasOpt,
    IdColumnOpt,
    Lang,
    LangOpt,
    MaxGapOpt,
    MipGapOpt,
    Objective,
    OutDirOpt,
    ProvinceOpt,
    ProvinceTimeLimitOpt,
    ScenarioOpt,
    SolverOpt,
    SweepTimeLimitOpt,
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
from bundler.cli.progress import progress_bar
from bundler.planning.settings_check import check_settings
from bundler.text import short_list

CACHE_NAME = ".psbundle-cache"

SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (heuristic and solvers).")]
WorkersOpt = Annotated[
    int,
    typer.Option("--workers", help="Worker processes of the local Dask cluster.", min=1),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Address of a running Dask scheduler (tcp://host:8786) to use instead of a "
        "local cluster. Its workers need ps-bundler installed, not the input file.",
    ),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache",
        help=f"Folder of completed provinces, so a re-run resumes. Default: {CACHE_NAME} "
        "beside --out. Delete it to start afresh.",
    ),
]


def national(
    units: UnitsArg,
    out_dir: OutDirOpt,
    scenario: ScenarioOpt = None,
    solver: SolverOpt = DEFAULT_SOLVER,
    time_limit: ProvinceTimeLimitOpt = 10.0,
    objective: Annotated[
        Objective | None, typer.Option("--objective", help="npv (default), credits or max-p.")
    ] = None,
    min_area_ha: Annotated[
        float | None,
        typer.Option("--min-area-ha", help="Minimum bundle area, ha.", min=0),
    ] = None,
    max_gap_m: MaxGapOpt = None,
    carbon_price: Annotated[
        float | None,
        typer.Option("--carbon-price", help="Carbon price, USD/tCO2e.", min=0),
    ] = None,
    seed: SeedOpt = 0,
    mip_gap: MipGapOpt = DEFAULT_MIP_GAP,
    gap: GapAliasOpt = None,
    workers: WorkersOpt = 2,
    scheduler: SchedulerOpt = None,
    cache: CacheOpt = None,
    assume_crs: AssumeCrsOpt = None,
    id_column: IdColumnOpt = None,
    lang: LangOpt = None,
    exclude: ExcludeOpt = None,
    force: ForceOpt = False,
):
    """Plan every province on its own, on Dask, then merge a national picture.

    The layer is validated and scored once; each province is then planned,
    estimated and scheduled as its own task (bundles never cross a province
    border; the scenario's yearly capacities apply to each provincial office).
    Completed provinces are kept in the cache as they finish: re-running the
    same command resumes, planning only what is missing. A province that
    fails is reported (exit code 5) and the others are still written.

    Writes to --out: provinces/<code>/ (each province's plan files),
    provinces.csv, priority.csv (national and provincial rank), bundles.csv,
    estimates.csv, yearly.csv, benefit_sharing.csv, the brief's two tables
    (potential_by_intervention.csv, potential_by_scheme.csv), plan.gpkg,
    report.html, map.png and run.json. For raster-based forest figures, run
    psbundle score first and pass its scored_units.gpkg. --lang id writes the
    reports, the reasons and this summary in Bahasa Indonesia. --exclude
    FILE[:LABEL] (repeatable) leaves out the units a no-go layer covers.

    Example: psbundle national permits.gpkg --out national-2027 --carbon-price 10
    """
    from bundler.i18n.catalogue import translator
    from bundler.outputs.files import atomic_output_dir
    from bundler.outputs.national import write_national
    from bundler.scoring.potential_tables import print_tables

    backend, rel_gap = solver.value, mip_gap_of(mip_gap, gap)
    run_on = _RunOn(units, out_dir, backend, time_limit, rel_gap, seed, workers, scheduler, cache)
    base = _start(out_dir, force, backend, scenario)
    scen = plan_overrides(
        base,
        min_area_ha,
        max_gap_m,
        carbon_price,
        objective,
        id_column,
        scenario_file=scenario,
        lang=lang,
    )
    scen = with_exclusions(scen, exclude)
    prepared = prepare(units, scen, None, assume_crs, {})
    run_on.add_inputs(prepared.inputs)
    parts = run_on.parts([(scen, prepared.units)], report=True)
    facts = {**run_on.facts(), "warnings": prepared.warnings, "safeguards": prepared.safeguards}
    with atomic_output_dir(out_dir, force) as tmp, err.status("writing national outputs ..."):
        run = write_national(tmp, prepared.units, parts, scen, facts)
    tr = translator(scen.report.lang)
    _print_provinces(parts, tr.lang)
    for table in print_tables(prepared.units, tr.lang):
        out.print(table)
    # TRANSLATORS: keep the [green]...[/] colour tags around the first words
    done = tr.gettext(
        "[green]national run written to[/] {folder}/ ({bundles} bundles; {planned} provinces "
        "planned, {resumed} resumed, {failed} failed; {seconds} s)"
    )
    out.print(
        done.format(
            folder=out_dir,
            bundles=run["n_bundles"],
            planned=run["provinces_computed"],
            resumed=run["provinces_resumed"],
            failed=len(run["provinces_failed"]),
            seconds=tr.decimal(run_on.elapsed(), 0, group=False),
        )
    )
    _raise_if_failed(parts, out_dir)


def sweep(
    units: UnitsArg,
    out_dir: OutDirOpt,
    more: Annotated[
        list[str] | None,
        typer.Argument(
            help="More scenario files or grid items, after the first --scenarios or --grid.",
            show_default=False,
        ),
    ] = None,
    scenarios: Annotated[
        list[Path] | None,
        typer.Option("--scenarios", help="Scenario TOML files to compare (one per scenario)."),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            help="KEY=V1,V2,... items; every combination is a scenario. Keys: price, "
            "min_area_ha, max_area_ha, max_units, max_gap_m, objective, min_readiness, "
            "discount_rate, or any dotted scenario key.",
        ),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", "-s", help="Base scenario that --grid varies."),
    ] = None,
    province: ProvinceOpt = None,
    solver: SolverOpt = DEFAULT_SOLVER,
    time_limit: SweepTimeLimitOpt = 10.0,
    seed: SeedOpt = 0,
    mip_gap: MipGapOpt = DEFAULT_MIP_GAP,
    gap: GapAliasOpt = None,
    workers: WorkersOpt = 2,
    scheduler: SchedulerOpt = None,
    cache: CacheOpt = None,
    assume_crs: AssumeCrsOpt = None,
    id_column: IdColumnOpt = None,
    lang: LangOpt = None,
    exclude: ExcludeOpt = None,
    force: ForceOpt = False,
):
    """Compare scenarios: plan the same layer under each, on Dask, side by side.

    Give scenario files (--scenarios a.toml b.toml) or a grid of values
    (--grid price=3,5,10 min_area_ha=5000,10000 gives six scenarios). Each
    scenario is planned province by province as in psbundle national, with
    the same cache, so a re-run resumes.

    Writes to --out: comparison.csv, comparison.md and comparison.png
    (bundles, units included, area, credits and NPV per scenario), run.json,
    and scenarios/<name>/ with the resolved scenario.toml, priority.csv,
    bundles.csv and provinces.csv. --lang id (for every scenario) writes the
    priority lists' 'why', the reasons and this summary in Bahasa Indonesia.
    --exclude FILE[:LABEL] (repeatable) leaves out, under every scenario, the
    units a no-go layer covers.

    Example: psbundle sweep permits.gpkg --out sweep --province 16 --grid price=5,10,20
    """
    from bundler.errors import InputError
    from bundler.i18n.catalogue import translator
    from bundler.outputs.files import atomic_output_dir
    from bundler.outputs.sweep import write_sweep
    from bundler.scale.sweep import file_scenarios, grid_scenarios, grid_values, parse_grid

    backend, rel_gap = solver.value, mip_gap_of(mip_gap, gap)
    run_on = _RunOn(units, out_dir, backend, time_limit, rel_gap, seed, workers, scheduler, cache)
    more = list(more or [])
    if bool(scenarios) == bool(grid):
        raise InputError("give either --scenarios FILE ... or --grid KEY=V1,V2 ..., not both")
    base = with_lang(with_id_column(_start(out_dir, force, backend, scenario), id_column), lang)
    base = with_exclusions(base, exclude)
    values_of: dict[str, dict] = {}
    if grid:
        items = parse_grid([*grid, *more])
        scens = grid_scenarios(base, items)
        values_of = dict(zip((s.name for s in scens), grid_values(items), strict=True))
        for s in scens:
            check_settings(s, scenario, {key: f"--grid {label}" for label, key, _ in items})
    else:
        files = [*scenarios, *map(Path, more)]
        scens = file_scenarios(files)
        scens = [with_lang(with_id_column(s, id_column), lang) for s in scens]
        scens = [with_exclusions(s, exclude) for s in scens]
        for s, f in zip(scens, files, strict=True):
            check_settings(s, f)
    work, prepared_by, warnings, safeguards = [], {}, [], {}
    for s in scens:
        # scoring, validation and safeguards (their reasons in report.lang) may differ by
        # scenario; prepare each variant once
        sections = ("input", "validation", "scoring", "safeguards", "report")
        variant = json.dumps([_section(s, k) for k in sections])
        if variant not in prepared_by:
            prepared = prepare(units, s, province, assume_crs, {})
            prepared_by[variant] = prepared
            run_on.add_inputs(prepared.inputs)
            warnings.extend(w for w in prepared.warnings if w not in warnings)
        work.append((s, prepared_by[variant].units))
        safeguards[s.name] = prepared_by[variant].safeguards
    parts = run_on.parts(work, report=False)
    facts = {
        **run_on.facts(),
        "province": province,
        "warnings": warnings,
        "safeguards": safeguards,
    }
    with atomic_output_dir(out_dir, force) as tmp, err.status("writing the comparison ..."):
        write_sweep(tmp, scens, parts, values_of, facts)
    tr = translator(_summary_lang(scens, lang))
    _print_comparison(out_dir / "comparison.csv", tr.lang)
    # TRANSLATORS: keep the [green]...[/] colour tags around the first words
    done = tr.gettext(
        "[green]sweep written to[/] {folder}/ (comparison.csv, comparison.png, scenarios/)"
    )
    out.print(done.format(folder=out_dir))
    _raise_if_failed(parts, out_dir)


def _summary_lang(scens, lang: Lang | None) -> str:
    """The closing summary's language: ``--lang``, else the scenarios' ``report.lang``
    when they all agree, else English."""
    if lang is not None:
        return lang.value
    langs = {s.report.lang for s in scens}
    return langs.pop() if len(langs) == 1 else "en"


def _start(out_dir: Path, force: bool, solver: str, scenario: Path | None):
    """Check the output folder and the solver before any work; return the scenario."""
    from bundler.config.scenario import load_scenario
    from bundler.outputs.files import check_output_dir

    check_output_dir(out_dir, force)
    check_solver(solver)
    return load_scenario(scenario)


@dataclass
class _RunOn:
    """Where and how parts are planned: the input, solver settings, Dask and the cache."""

    units: Path
    out_dir: Path
    solver: str
    time_limit: float
    gap: float
    seed: int
    workers: int
    scheduler: str | None
    cache: Path | None
    started: float = field(default_factory=time.perf_counter)
    inputs: dict = field(default_factory=dict)
    # ready {"path", "sha256"} records of further inputs (exclusion layers): in run.json
    # and in the parts cache's keys
    more_inputs: dict = field(default_factory=dict)

    def add_inputs(self, inputs: dict) -> None:
        """Keep the ready records among a prepared layer's ``inputs`` (exclusion layers)."""
        self.more_inputs.update({k: v for k, v in inputs.items() if isinstance(v, dict)})

    def parts(self, work, report: bool):
        """Plan every (scenario, units) pair province by province on Dask."""
        from bundler.outputs.plan import input_record
        from bundler.scale.dask_runner import dask_client
        from bundler.scale.national import plan_parts
        from bundler.scale.parts_cache import PartsCache
        from solvers.base import SolveParams

        self.inputs = {"units": input_record(self.units), **self.more_inputs}
        cache = PartsCache(self.cache or self.out_dir.parent / CACHE_NAME)
        params = SolveParams(
            time_limit=self.time_limit, rel_gap=self.gap, threads=1, seed=self.seed
        )
        where = self.scheduler or f"a local cluster of {self.workers} workers"
        with contextlib.ExitStack() as stack:
            with err.status(f"starting Dask ({where}) ..."):
                client = stack.enter_context(dask_client(self.scheduler, self.workers))
            with progress_bar("planning provinces") as tick:
                parts = plan_parts(
                    work, self.inputs, self.solver, params, cache, client, report, tick
                )
        resumed = sum(p.status == "resumed" for p in parts)
        if resumed:
            err.print(f"resumed {resumed} of {len(parts)} province runs from {cache.root}")
        return parts

    def elapsed(self) -> float:
        """Seconds since the command started."""
        return time.perf_counter() - self.started

    def facts(self) -> dict:
        """The run's settings for ``run.json``."""
        return {
            "inputs": self.inputs,
            "solver": self.solver,
            "time_limit_s_per_province": self.time_limit,
            "rel_gap_target": self.gap,
            "seed": self.seed,
            "dask": self.scheduler or f"local cluster, {self.workers} workers",
            "planning_wall_time_s": round(self.elapsed(), 1),
        }


def _section(scen, name: str) -> dict:
    from bundler.config.scenario import to_dict

    return to_dict(getattr(scen, name))


def _print_provinces(parts, lang: str = "en", limit: int = 40) -> None:
    from bundler.i18n.catalogue import translator

    tr = translator(lang)
    _ = tr.gettext
    t = Table(title=_("Provinces"), title_justify="left")
    for col, right in (
        (_("code"), False),
        (_("province"), False),
        (_("status"), False),
        (_("units"), True),
        (_("bundles"), True),
        (_("credits t/yr"), False),
        (_("NPV USD"), False),
        (_("term"), False),
    ):
        t.add_column(col, justify="right" if right else "left")
    for p in parts[:limit]:
        s = p.summary
        t.add_row(
            p.code,
            escape_markup(p.name),
            p.status if p.status != "failed" else f"[red]failed[/]: {escape_markup(p.error)}",
            str(p.n_units),
            str(s.get("n_bundles", "-")),
            tr.decimal(s["credits_tco2e_yr"]) if s else "-",
            tr.decimal(s["npv_usd"]) if s else "-",
            s.get("termination", "-"),
        )
    out.print(t)
    if len(parts) > limit:
        out.print(_("... and {n} more in provinces.csv").format(n=len(parts) - limit))


def _print_comparison(path: Path, lang: str = "en") -> None:
    import pandas as pd

    from bundler.i18n.catalogue import translator
    from bundler.outputs.report.labels import column_label

    tr = translator(lang)
    table = pd.read_csv(path)
    t = Table(title=tr.gettext("Scenario comparison"), title_justify="left")
    cols = ["scenario", "bundles", "units_included", "credits_tco2e_yr", "npv_usd", "termination"]
    for c in cols:
        t.add_column(column_label(c, lang))
    for row in table[cols].itertuples(index=False):
        t.add_row(*[tr.decimal(v) if isinstance(v, float) else escape_markup(str(v)) for v in row])
    out.print(t)


def _raise_if_failed(parts, out_dir: Path) -> None:
    from bundler.errors import PartialFailureError

    failed = [p for p in parts if p.status == "failed"]
    if failed:
        names = short_list((f"{p.scenario}/{p.code} ({p.error})" for p in failed), 5, "; ")
        raise PartialFailureError(
            f"{len(failed)} of {len(parts)} province runs failed: {names}. "
            f"The others were written to {out_dir}/ (see provinces.csv); run the same "
            "command again to retry only the failed ones"
        )
