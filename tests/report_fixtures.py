"""Hand-made inputs for the report: a grid of 1 km squares in UTM 48S with three bundles."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

X0, Y0 = 400_000.0, 9_650_000.0
UTM = "EPSG:32748"
NASTY_ID = "<b>x</b>&"
NASTY_REASON = 'cost > price <script>alert("r")</script>'

# (column, row) of each unit on a 6 x 4 grid of 1 km squares -> bundle id ("" = not selected)
_BUNDLE_CELLS = {
    "B1": [(0, 0), (1, 0), (0, 1), (1, 1)],
    "B2": [(3, 0), (4, 0), (4, 1)],
    "B10": [(0, 3), (1, 3), (2, 3)],
}


def report_inputs(empty: bool = False):
    """``units, bundles, tables, yearly_credits, facts`` for the report writer.

    See :func:`bundler.outputs.report.write_report`.

    With ``empty``, no unit is selected and ``bundles`` and ``yearly_credits`` have no rows.
    """
    owner = {cell: b for b, cells in _BUNDLE_CELLS.items() for cell in cells}
    rows = []
    for row in range(4):
        for col in range(6):
            b = "" if empty else owner.get((col, row), "")
            reason = "" if b else ("below minimum area" if col % 2 else "not ready")
            rows.append(
                {
                    "unit_id": f"U{row}{col}",
                    "bundle_id": b,
                    "reason": reason,
                    "area_ha": 100.0,
                    "geometry": box(
                        X0 + col * 1000,
                        Y0 + row * 1000,
                        X0 + col * 1000 + 900,
                        Y0 + row * 1000 + 900,
                    ),
                }
            )
    # an unselected unit whose id and reason must be escaped
    rows[-1].update(unit_id=NASTY_ID, bundle_id="", reason=NASTY_REASON)
    units = gpd.GeoDataFrame(rows, geometry="geometry", crs=UTM)

    figures = {  # bundle -> credits/yr, cost/tCO2e, intervention
        "B1": (4000.0, 6.5, "avoided deforestation"),
        "B2": (2500.0, 11.25, "peat rewetting"),
        "B10": (1500.0, 3.0, "agroforestry <mixed>"),
    }
    if empty:
        figures = {}
    brows = []
    for b, (q, c, what) in figures.items():
        members = units[units["bundle_id"] == b]
        brows.append(
            {
                "bundle_id": b,
                "n_units": len(members),
                "area_ha": float(members["area_ha"].sum()),
                "credits_tco2e_yr": q,
                "cost_usd": q * c * 30,
                "npv_usd": q * (15 - c) * 20,
                "cost_per_tco2e": c,
                "main_intervention": what,
                "geometry": members.geometry.union_all(),
            }
        )
    columns = [
        "bundle_id",
        "n_units",
        "area_ha",
        "credits_tco2e_yr",
        "cost_usd",
        "npv_usd",
        "cost_per_tco2e",
        "main_intervention",
        "geometry",
    ]
    bundles = gpd.GeoDataFrame(pd.DataFrame(brows, columns=columns), geometry="geometry", crs=UTM)

    yearly = pd.DataFrame(
        [
            {"bundle_id": b, "year": y, "credits": q * min(1.0, (y - 2025) / 3)}
            for b, (q, _, _) in figures.items()
            for y in range(2026, 2036)
        ],
        columns=["bundle_id", "year", "credits"],
    )
    tables = {
        "Bundles": bundles.drop(columns="geometry"),
        "Five-year priority list": pd.DataFrame(
            {
                "rank": [1, 2],
                "unit_id": ["U00", NASTY_ID],
                "note": ["ready", "a < b & c"],
            }
        ),
        "Benefit sharing": pd.DataFrame(
            {"party": ["community", "government"], "share": [0.6, 0.4]}
        ),
    }
    facts = {
        "input": {"path": "data/ps_<prov>.gpkg", "sha256": "ab" * 32},
        "scenario_name": "default",
        "solver": "highs",
        "termination": "feasible",
        "objective": 123456.789,
        "bound": 130000.0,
        "gap": 0.052987,
        "runtime_s": 12.345,
        "seed": 7,
        "carbon_price_usd": 10.0,
        "packages": {"python": "3.11.2", "shapely": "2.1"},
    }
    if empty:
        facts = {
            **facts,
            "termination": "optimal",
            "objective": 0.0,
            "bound": 0.0,
            "gap": 0.0,
            "explanation": "No connected group of eligible units reaches 1,000 ha.",
        }
    return units, bundles, tables, yearly, facts
