"""National runs: every province planned on its own, then one national picture.

Provinces are independent carbon-planning regions here: a bundle never crosses
a province border, and the schedule's yearly capacities (project documents,
budget, facilitators) are those of each provincial office. The national
priority list merges the provincial ones by the schedule's own rule: bundles
scheduled for year 1 first, ordered by value (NPV plus the readiness weight),
then year 2 and so on, then ``after Y`` and ``later`` bundles by NPV.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from bundler.config.scenario import Scenario
from bundler.i18n.catalogue import translator
from bundler.input.unit_ids import SOURCE_KEYS
from bundler.safeguards.exclusion import REASON as EXCLUSION_REASON
from bundler.scale import province_job
from bundler.scale.dask_runner import Job, Outcome, run_jobs
from bundler.scale.parts_cache import PartsCache, part_key
from bundler.text import natural_key
from solvers.base import SolveParams

ALL = "all"
PROVINCE_COLUMNS = [
    "province_code",
    "province",
    "status",
    "n_units",
    "n_bundles",
    "units_in_bundles",
    "area_ha",
    "credits_tco2e_yr",
    "npv_usd",
    "termination",
    "gap",
    "abs_gap",
    "runtime_s",
    "error",
]


# the provinces' CSV columns that hold ids (read back as text, never as numbers)
TEXT_COLUMNS = ("bundle_id", "unit_id", "unit_ids", "province_code", *SOURCE_KEYS)


@dataclass
class Part:
    """One province under one scenario, after the run.

    ``status`` is ``computed`` (planned in this run), ``resumed`` (taken from
    the parts cache) or ``failed`` (``error`` says why).
    """

    scenario: str
    code: str
    name: str
    n_units: int
    key: str
    status: str = "failed"
    summary: dict = field(default_factory=dict)
    folder: Path | None = None
    error: str = ""


def split_provinces(units: gpd.GeoDataFrame) -> list[tuple[str, str, gpd.GeoDataFrame]]:
    """``(code, name, units)`` per province, in code order.

    A layer without ``province_code`` is one part called ``all``.
    """
    if "province_code" not in units.columns:
        return [(ALL, ALL, units)]
    codes = units["province_code"].astype(str)
    names = units["province"].astype(str) if "province" in units.columns else codes
    out = []
    for code in sorted(codes.unique(), key=natural_key):
        mask = (codes == code).to_numpy()
        out.append((code, str(names[mask].iloc[0]), units[mask]))
    return out


def plan_parts(
    work: Sequence[tuple[Scenario, gpd.GeoDataFrame]],
    inputs: dict,
    solver: str,
    params: SolveParams,
    cache: PartsCache,
    client,
    report: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[Part]:
    """Plan every province under every scenario, reusing completed parts.

    Parameters
    ----------
    work : sequence of (Scenario, GeoDataFrame)
        Each scenario with the units validated and scored under it (all provinces).
    inputs : dict
        ``name -> {"path", "sha256"}`` of the input files.
    solver : str
    params : SolveParams
        ``time_limit`` applies to each province.
    cache : PartsCache
        Completed parts are read from it and new ones stored in it as they finish.
    client : distributed.Client
    report : bool
        Write each province's ``report.html`` and ``map.png``.
    progress : callable, optional
        ``progress(done, total)`` over the parts still to plan.

    Returns
    -------
    list of Part
        Scenario by scenario, province by province.
    """
    settings = {
        "solver": solver,
        "time_limit": params.time_limit,
        "rel_gap": params.rel_gap,
        "seed": params.seed,
        "threads": params.threads,
        "report": report,
    }
    parts: list[Part] = []
    jobs: list[Job] = []
    waiting: dict[str, Part] = {}
    for scen, units in work:
        for code, name, frame in split_provinces(units):
            key = part_key(inputs, scen, code, settings)
            part = Part(scen.name, code, name, len(frame), key)
            parts.append(part)
            summary = cache.load(key)
            if summary is not None:
                part.status, part.summary, part.folder = "resumed", summary, cache.folder(key)
                continue
            spec = province_job.ProvinceSpec(
                code=code,
                name=name,
                scenario=scen,
                solver=solver,
                params=params,
                inputs=inputs,
                run_facts={"seed": params.seed, "time_limit_s": params.time_limit},
                report=report,
            )
            job_name = f"{scen.name}/{code}" if len(work) > 1 else code
            waiting[job_name] = part
            # looked up at run time, so the job is whatever the module holds now
            jobs.append(Job(job_name, province_job.plan_province, (spec, frame)))

    def store(outcome: Outcome) -> None:
        part = waiting[outcome.name]
        if outcome.error is not None:
            part.error = outcome.error
            return
        part.folder = cache.store(part.key, outcome.value)
        part.summary = outcome.value.summary
        part.status = "computed"

    run_jobs(client, jobs, on_done=store, progress=progress)
    return parts


def provinces_table(parts: Sequence[Part]) -> pd.DataFrame:
    """One row per province: status, figures, termination and any error."""
    rows = []
    for p in parts:
        s = p.summary
        rows.append(
            {
                "province_code": p.code,
                "province": p.name,
                "status": p.status,
                "n_units": p.n_units,
                # the figures between n_units and error come from the part's summary
                **{k: s.get(k) for k in PROVINCE_COLUMNS[4:-1]},
                "error": p.error,
            }
        )
    return pd.DataFrame(rows, columns=PROVINCE_COLUMNS)


def merged_priority(parts: Sequence[Part], scenario: Scenario) -> pd.DataFrame:
    """The national priority list: every province's list, ranked by the schedule's rule.

    Columns: ``rank`` (national), ``province_rank``, ``province_code`` and the
    provincial list's columns.
    """
    frames = []
    for p in _done(parts):
        pr = pd.read_csv(p.folder / "priority.csv", dtype={"start_year": str, "bundle_id": str})
        frames.append(pr.rename(columns={"rank": "province_rank"}).assign(province_code=p.code))
    if not frames:
        return pd.DataFrame(columns=["rank", "province_rank", "province_code"])
    table = pd.concat(frames, ignore_index=True)
    value = table["npv_usd"].to_numpy(float) + scenario.schedule.readiness_weight_usd * (
        np.nan_to_num(pd.to_numeric(table["readiness"], errors="coerce").to_numpy(float))
    )
    start = table["start_year"].astype(str)
    year = pd.to_numeric(start, errors="coerce")
    group = np.where(year.notna(), 0, np.where(start.str.startswith("after"), 1, 2))
    # scheduled bundles by value, the rest by NPV, as within a province
    worth = np.where(group == 0, value, table["npv_usd"].to_numpy(float))
    order = np.lexsort(
        (
            table["province_rank"].to_numpy(),
            table["province_code"].astype(str),
            -worth,
            year.fillna(0).to_numpy(),
            group,
        )
    )
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    first = ["rank", "province_rank", "province_code"]
    return table[first + [c for c in table.columns if c not in first]]


def concat_csv(parts: Sequence[Part], name: str) -> pd.DataFrame:
    """One of the provinces' CSV files, stacked, with ``province_code`` first."""
    # ids stay text: a numeric-looking PS_ID must not lose leading zeros or become 1.0e5
    text = dict.fromkeys(TEXT_COLUMNS, str)
    frames = [
        pd.read_csv(p.folder / name, dtype=text).assign(province_code=p.code) for p in _done(parts)
    ]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["province_code"])
    table = pd.concat(frames, ignore_index=True)
    return table[["province_code"] + [c for c in table.columns if c != "province_code"]]


def national_layers(
    units: gpd.GeoDataFrame, parts: Sequence[Part], lang: str = "en"
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The national ``units`` and ``bundles`` layers, from the provinces' plan.gpkg.

    Units of a failed province keep no bundle and say why in ``reason`` (in the
    language ``lang``, as the provinces' own reasons).
    """
    unit_bundle = pd.Series("", index=units["unit_id"].astype(str).to_numpy(), dtype=object)
    reason = pd.Series("", index=unit_bundle.index, dtype=object)
    bundle_frames = []
    for p in parts:
        if p.folder is None:
            ids = _province_unit_ids(units, p.code)
            reason[ids] = (
                translator(lang).gettext("province not planned: {error}").format(error=p.error)
            )
            continue
        gpkg = p.folder / "plan.gpkg"
        got = gpd.read_file(
            gpkg, layer="units", columns=["unit_id", "bundle_id", "reason"], read_geometry=False
        )
        ids = got["unit_id"].astype(str).to_numpy()
        unit_bundle[ids] = got["bundle_id"].fillna("").astype(str).to_numpy()
        reason[ids] = got["reason"].fillna("").astype(str).to_numpy()
        # provinces are written in the input's CRS; the merge works in the units' CRS
        b = gpd.read_file(gpkg, layer="bundles").to_crs(units.crs)
        if len(b):
            bundle_frames.append(b.assign(province_code=p.code))
    # an excluded unit's exclusion_reason is its reason (as in a plan's units layer)
    layer = units.drop(columns=[EXCLUSION_REASON], errors="ignore")
    layer.insert(1, "bundle_id", unit_bundle.reindex(units["unit_id"].astype(str)).to_numpy())
    layer.insert(2, "reason", reason.reindex(units["unit_id"].astype(str)).to_numpy())
    if bundle_frames:
        bundles = gpd.GeoDataFrame(pd.concat(bundle_frames, ignore_index=True), crs=units.crs)
    else:
        bundles = gpd.GeoDataFrame(
            {"bundle_id": pd.Series([], dtype=str)}, geometry=gpd.GeoSeries([], crs=units.crs)
        )
    return layer, bundles


def copy_parts(parts: Sequence[Part], folder: Path) -> None:
    """Copy each finished province's files to ``folder/<code>/``."""
    for p in _done(parts):
        target = folder / folder_name(p.code)
        shutil.copytree(p.folder, target, dirs_exist_ok=True)
        (target / "summary.json").unlink(missing_ok=True)


def _done(parts: Sequence[Part]) -> list[Part]:
    return [p for p in parts if p.folder is not None]


def _province_unit_ids(units: gpd.GeoDataFrame, code: str) -> np.ndarray:
    if code == ALL or "province_code" not in units.columns:
        return units["unit_id"].astype(str).to_numpy()
    mask = (units["province_code"].astype(str) == code).to_numpy()
    return units.loc[mask, "unit_id"].astype(str).to_numpy()


def folder_name(text: str) -> str:
    """``text`` made safe as a folder name (letters, digits and ``-_.=`` kept)."""
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in text) or "_"


def overall_termination(parts: Sequence[Part]) -> str:
    """``optimal`` only when every province was planned and proven optimal.

    ``partial`` when a province failed, ``feasible`` when all were planned but
    some only to a time or gap limit.
    """
    if any(p.status == "failed" for p in parts):
        return "partial"
    terms = [p.summary.get("termination") for p in parts]
    if all(t == "optimal" for t in terms):
        return "optimal"
    return "feasible" if all(t in ("optimal", "feasible") for t in terms) else "mixed"
