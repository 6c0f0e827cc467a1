"""Writing a scenario sweep: the comparison table and chart, and each scenario's lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bundler.config.doc import render_scenario
from bundler.config.scenario import Scenario
from bundler.outputs.files import run_envelope
from bundler.outputs.plan import json_default, package_versions
from bundler.scale.national import (
    Part,
    concat_csv,
    folder_name,
    merged_priority,
    overall_termination,
    provinces_table,
)
from bundler.scale.sweep import comparison_chart, comparison_table


def scenario_row(name: str, parts: Sequence[Part]) -> dict:
    """The comparison figures of one scenario, summed over its provinces."""

    def total(key: str) -> float:
        return float(sum(p.summary.get(key) or 0.0 for p in parts if p.status != "failed"))

    return {
        "scenario": name,
        "bundles": int(total("n_bundles")),
        "units_included": int(total("units_in_bundles")),
        "area_ha": total("area_ha"),
        "credits_tco2e_yr": total("credits_tco2e_yr"),
        "npv_usd": total("npv_usd"),
        "provinces": len(parts),
        "provinces_failed": sum(p.status == "failed" for p in parts),
        "termination": overall_termination(parts),
    }


def write_sweep(
    folder: Path,
    scenarios: Sequence[Scenario],
    parts: Sequence[Part],
    grid_values: dict[str, dict],
    facts: dict,
) -> dict:
    """Write a sweep into ``folder`` (a scratch folder the caller moves into place).

    Parameters
    ----------
    folder : Path
    scenarios : sequence of Scenario
    parts : sequence of Part
        Every province under every scenario.
    grid_values : dict
        Scenario name -> ``{label: value}`` of a grid sweep (empty for files).
    facts : dict
        Run facts for ``run.json``.

    Returns
    -------
    dict
        The facts written to ``run.json``.

    Notes
    -----
    Files: ``comparison.csv``, ``comparison.md``, ``comparison.png``,
    ``run.json`` and per scenario ``scenarios/<name>/`` with ``scenario.toml``
    (resolved), ``priority.csv``, ``bundles.csv`` and ``provinces.csv``.
    """
    labels = list(next(iter(grid_values.values()), {}).keys())
    rows = []
    for scen in scenarios:
        mine = [p for p in parts if p.scenario == scen.name]
        rows.append({**scenario_row(scen.name, mine), **grid_values.get(scen.name, {})})
        target = folder / "scenarios" / folder_name(scen.name)
        target.mkdir(parents=True)
        (target / "scenario.toml").write_text(render_scenario(scen), encoding="utf-8")
        merged_priority(mine, scen).to_csv(
            target / "priority.csv", index=False, float_format="%.2f"
        )
        concat_csv(mine, "bundles.csv").to_csv(
            target / "bundles.csv", index=False, float_format="%.4f"
        )
        provinces_table(mine).to_csv(target / "provinces.csv", index=False, float_format="%.4f")
    table = comparison_table(rows, labels)
    table.to_csv(folder / "comparison.csv", index=False, float_format="%.4f")
    (folder / "comparison.md").write_text(_markdown(table), encoding="utf-8")
    comparison_chart(table, folder / "comparison.png")
    own = {
        "scenarios": [s.name for s in scenarios],
        "parts": len(parts),
        "parts_computed": sum(p.status == "computed" for p in parts),
        "parts_resumed": sum(p.status == "resumed" for p in parts),
        "parts_failed": {f"{p.scenario}/{p.code}": p.error for p in parts if p.status == "failed"},
    }
    run = run_envelope("sweep", own, package_versions(), facts)
    (folder / "run.json").write_text(json.dumps(run, indent=2, default=json_default) + "\n")
    return run


def _markdown(table) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    return str(v)
