"""Scenario sweeps: the same layer planned under several scenarios, compared side by side.

Scenarios come from files or from a grid of values (``price=3,5,10
min_area_ha=5000,10000`` gives six). Each scenario is planned province by
province exactly like a national run, sharing the parts cache, and the
comparison table gives per scenario the bundles, units included, area,
credits and NPV.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bundler.config.scenario import Scenario, load_scenario, to_dict
from bundler.errors import InputError

# short names for the keys a planner sweeps most; any dotted scenario key works too
GRID_ALIASES = {
    "price": "economics.carbon_price_usd",
    "carbon_price": "economics.carbon_price_usd",
    "min_area_ha": "bundling.min_area_ha",
    "max_area_ha": "bundling.max_area_ha",
    "max_units": "bundling.max_units",
    "max_gap_m": "graph.max_gap_m",
    "objective": "bundling.objective",
    "min_readiness": "bundling.min_readiness",
    "discount_rate": "economics.discount_rate",
}
COMPARISON_COLUMNS = [
    "scenario",
    "bundles",
    "units_included",
    "area_ha",
    "credits_tco2e_yr",
    "npv_usd",
    "provinces",
    "provinces_failed",
    "termination",
]


def scenario_keys(scenario: Scenario | None = None) -> list[str]:
    """Every dotted key of a scenario (``economics.carbon_price_usd`` ...)."""
    out: list[str] = []

    def walk(node: dict, prefix: str) -> None:
        for k, v in node.items():
            if isinstance(v, dict) and v and k != "column_map":
                walk(v, f"{prefix}{k}.")
            else:
                out.append(prefix + k)

    walk(to_dict(scenario or Scenario()), "")
    return [k for k in out if k != "name"]


def parse_grid(specs: Sequence[str]) -> list[tuple[str, str, list]]:
    """Parse ``KEY=V1,V2,...`` items into ``(label, dotted_key, values)``.

    Parameters
    ----------
    specs : sequence of str
        ``KEY`` is an alias from :data:`GRID_ALIASES` or a dotted scenario key.
        Values are numbers, ``true``/``false`` or text.

    Returns
    -------
    list of (str, str, list)

    Raises
    ------
    InputError
        Naming the item for a missing ``=``, an empty value, a repeated or
        unknown key (with the closest known key).
    """
    known = scenario_keys()
    out, seen = [], set()
    for spec in specs:
        label, sep, raw = spec.partition("=")
        label = label.strip()
        if not sep or not label:
            raise InputError(f"--grid {spec!r}: expected KEY=V1,V2,... such as price=3,5,10")
        key = GRID_ALIASES.get(label, label)
        if key not in known:
            close = difflib.get_close_matches(label, [*GRID_ALIASES, *known], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"--grid {spec!r}: unknown scenario key {label!r}{hint}")
        if key in seen:
            raise InputError(f"--grid {spec!r}: {label} is given twice")
        seen.add(key)
        values = [_value(v.strip()) for v in raw.split(",")]
        if any(v == "" for v in values):
            raise InputError(f"--grid {spec!r}: empty value; write KEY=V1,V2,...")
        out.append((label, key, values))
    return out


def grid_values(grid: Sequence[tuple[str, str, list]]) -> list[dict]:
    """Every combination of grid values as ``{label: value}``, in the order of the scenarios."""
    labels = [label for label, _, _ in grid]
    return [
        dict(zip(labels, combo, strict=True))
        for combo in itertools.product(*(values for _, _, values in grid))
    ]


def grid_scenarios(base: Scenario, grid: Sequence[tuple[str, str, list]]) -> list[Scenario]:
    """One scenario per combination of grid values, named after them (``price=5_min_area_ha=5000``).

    Each is checked like a scenario file; a bad value names the grid item.
    """
    key_of = {label: key for label, key, _ in grid}
    out = []
    for values in grid_values(grid):
        name = "_".join(f"{label}={_text(v)}" for label, v in values.items())
        try:
            scen = base.with_values(
                {**{key_of[label]: v for label, v in values.items()}, "name": name}
            )
        except InputError as exc:
            raise InputError(f"--grid {name}: {exc}") from None
        out.append(scen)
    return out


def file_scenarios(paths: Sequence[Path]) -> list[Scenario]:
    """Load scenario files; a repeated name gets a numeric suffix so folders stay apart."""
    out, names = [], set()
    for path in paths:
        scen = load_scenario(path)
        name, k = scen.name, 2
        while name in names:
            name, k = f"{scen.name}-{k}", k + 1
        names.add(name)
        out.append(scen if name == scen.name else scen.with_values({"name": name}))
    return out


def comparison_table(rows: Sequence[dict], grid_labels: Sequence[str] = ()) -> pd.DataFrame:
    """The comparison across scenarios, one row each, grid values as their own columns."""
    table = pd.DataFrame(list(rows), columns=[*COMPARISON_COLUMNS, *grid_labels])
    return table[["scenario", *grid_labels, *COMPARISON_COLUMNS[1:]]]


def comparison_chart(table: pd.DataFrame, path: Path) -> None:
    """Bars of bundles, units included, credits and NPV per scenario, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    panels = [
        ("bundles", "bundles", 1.0),
        ("units_included", "units in bundles", 1.0),
        ("credits_tco2e_yr", "credits, MtCO2e/yr", 1e-6),
        ("npv_usd", "NPV, million USD", 1e-6),
    ]
    n = len(table)
    fig = Figure(figsize=(max(7.0, 1.0 + 0.9 * n), 6.5), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    labels = table["scenario"].astype(str).tolist()
    for ax, (col, title, scale) in zip(axes.flat, panels, strict=True):
        values = pd.to_numeric(table[col], errors="coerce").fillna(0.0) * scale
        ax.bar(range(n), values, color="#2e7d32")
        ax.set_title(title, fontsize=10)
        ax.axhline(0, color="#555", linewidth=0.6)
        ax.set_xticks(range(n), labels, rotation=35, ha="right", fontsize=8)
    fig.suptitle("Scenario sweep")
    fig.savefig(path, format="png", dpi=110)


def _value(text: str):
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in low else number


def _text(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)
