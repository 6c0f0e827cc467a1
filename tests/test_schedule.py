"""Five-year priority list: capacities, known answers, low-cover restoration."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundler.config.economics import EconomicsSection
from bundler.config.sharing import ScheduleSection
from bundler.economics.estimation import estimate_bundles
from bundler.economics.schedule import PRIORITY_COLUMNS, schedule_bundles, schedule_table
from tests.scored import scored_grid


def _table(npv, upfront=None, n_units=None, readiness=None, cover=None, intervention=None):
    n = len(npv)
    return pd.DataFrame(
        {
            "bundle_id": [f"B{i}" for i in range(n)],
            "npv_usd": npv,
            "upfront_usd": upfront if upfront is not None else [200_000.0] * n,
            "n_units": n_units if n_units is not None else [4] * n,
            "readiness": readiness if readiness is not None else [0.5] * n,
            "forest_cover": cover if cover is not None else [0.8] * n,
            "main_intervention": intervention or ["protect"] * n,
        }
    )


def test_one_document_a_year_orders_by_value():
    # one project document a year and three bundles worth 3, 1 and 2 M USD: discounting
    # a later start by 7%/yr makes the most valuable one go first
    table = _table([3e6, 1e6, 2e6])
    sec = ScheduleSection(documents_per_year=1, readiness_weight_usd=0.0)
    out, term = schedule_table(table, sec, 0.07)
    assert term == "optimal"
    assert list(out.columns) == PRIORITY_COLUMNS
    assert out["bundle_id"].tolist() == ["B0", "B2", "B1"]
    assert out["start_year"].tolist() == ["1", "2", "3"]
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["why"].iloc[0] == "ready (0.50), NPV 3.0 M USD, capacity in year 1"
    assert "year 1 full (project documents)" in out["why"].iloc[1]


def test_readiness_weight_breaks_a_tie():
    table = _table([1e6, 1e6], readiness=[0.2, 0.9])
    out, _ = schedule_table(table, ScheduleSection(documents_per_year=1), 0.07)
    assert out["bundle_id"].tolist() == ["B1", "B0"]


def test_budget_and_units_limit_each_year_and_the_rest_waits():
    # budget 1 M USD a year and bundles needing 0.6 M upfront: one a year for five
    # years; the sixth and seventh get no year
    table = _table([7e6, 6e6, 5e6, 4e6, 3e6, 2e6, 1e6], upfront=[6e5] * 7)
    out, term = schedule_table(table, ScheduleSection(budget_usd_per_year=1e6), 0.07)
    assert term == "optimal"
    assert out["start_year"].tolist() == ["1", "2", "3", "4", "5", "later", "later"]
    assert out["why"].iloc[-1] == "no capacity left in years 1-5"
    assert "year 1 full (budget)" in out["why"].iloc[1]


def test_bundles_that_can_never_start_say_why():
    table = _table([-1e6, 2e6, 2e6], upfront=[2e5, 5e6, 2e5], n_units=[4, 4, 99])
    out, _ = schedule_table(table, ScheduleSection(readiness_weight_usd=0.0), 0.07)
    why = dict(zip(out["bundle_id"], out["why"], strict=True))
    assert (out["start_year"] == "later").all()
    assert why["B0"].startswith("NPV -1.0 M USD: no positive value")
    assert why["B1"].startswith("upfront costs 5.0 M USD exceed the yearly budget")
    assert why["B2"].startswith("99 units exceed the 60 units")


def test_restoration_in_low_cover_landscapes_starts_after_year_5(tmp_path):
    units = scored_grid(tmp_path, 1, 4, protect=[0.0] * 4)
    units["potential_arr_tco2e_yr"] = 20_000.0
    units["main_intervention"] = "arr"
    units["forest_cover"] = [0.1, 0.2, 0.8, 0.9]
    units["province"] = "Sumatera Selatan"
    units["district"] = ["Ogan Ilir", "Ogan Ilir", "Banyuasin", "Musi"]
    econ = EconomicsSection(carbon_price_usd=15.0)  # ARR credits sell higher
    bundles = {"LOW": ["U000", "U001"], "HIGH": ["U002", "U003"]}
    est = estimate_bundles(units, bundles, econ)
    assert (est.summary["npv_usd"] > 0).all()
    out, _ = schedule_bundles(est.summary, units, bundles, econ, ScheduleSection())
    row = out.set_index("bundle_id")
    assert row.loc["LOW", "start_year"] == "after 5"
    assert "low-cover landscape (forest cover 0.15 < 0.30)" in row.loc["LOW", "why"]
    assert row.loc["HIGH", "start_year"] == "1"
    assert row.loc["HIGH", "districts"] == "Banyuasin; Musi"
    assert row.loc["HIGH", "province"] == "Sumatera Selatan"
    assert row.loc["HIGH", "readiness"] == pytest.approx(0.5)
    assert out["bundle_id"].tolist() == ["HIGH", "LOW"]


def _brute_force(value, upfront, size, sec, rate):
    """Best objective over every assignment of years (0 = none) to the bundles."""
    Y = sec.years
    best = 0.0
    for assign in itertools.product(range(Y + 1), repeat=len(value)):
        ok = True
        for y in range(1, Y + 1):
            chosen = [b for b, a in enumerate(assign) if a == y]
            ok &= len(chosen) <= sec.documents_per_year
            ok &= sum(upfront[b] for b in chosen) <= sec.budget_usd_per_year
            ok &= sum(size[b] for b in chosen) <= sec.units_per_year
        if ok:
            total = sum(value[b] * (1 + rate) ** -(a - 1) for b, a in enumerate(assign) if a)
            best = max(best, total)
    return best


bundle = st.tuples(
    st.floats(-1e6, 5e6),  # npv
    st.floats(1e5, 1.5e6),  # upfront
    st.integers(1, 30),  # units
    st.floats(0, 1),  # readiness
    st.floats(0, 1),  # forest cover
    st.sampled_from(["protect", "arr", "peat"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bundles=st.lists(bundle, min_size=1, max_size=5),
    docs=st.integers(0, 3),
    budget=st.floats(0, 3e6),
    units_cap=st.integers(0, 60),
    years=st.integers(1, 3),
)
def test_schedule_respects_capacities_and_is_optimal(bundles, docs, budget, units_cap, years):
    npv, upfront, size, ready, cover, kind = (list(c) for c in zip(*bundles, strict=True))
    table = _table(npv, upfront, size, ready, cover, kind)
    sec = ScheduleSection(
        years=years, documents_per_year=docs, budget_usd_per_year=budget, units_per_year=units_cap
    )
    rate = 0.07
    out, term = schedule_table(table, sec, rate)
    assert term == "optimal"
    assert sorted(out["bundle_id"]) == sorted(table["bundle_id"])
    t = table.set_index("bundle_id")
    starts = out.set_index("bundle_id")["start_year"].reindex(t.index)
    delayed = (t["main_intervention"] == "arr") & (t["forest_cover"] < sec.low_cover_threshold)
    assert ((starts == f"after {years}") == delayed).all()
    for y in range(1, years + 1):
        chosen = starts.index[starts == str(y)]
        assert len(chosen) <= docs
        assert t.loc[chosen, "upfront_usd"].sum() <= budget + 1e-6
        assert t.loc[chosen, "n_units"].sum() <= units_cap
    # the MIP's choice is as good as the best of all assignments
    free = ~delayed.to_numpy()
    value = (t["npv_usd"] + sec.readiness_weight_usd * t["readiness"]).to_numpy()[free]
    got = sum(
        value[k] * (1 + rate) ** -(int(starts[b]) - 1)
        for k, b in enumerate(t.index[free])
        if starts[b].isdigit()
    )
    best = _brute_force(
        value, t["upfront_usd"].to_numpy()[free], t["n_units"].to_numpy()[free], sec, rate
    )
    assert got == pytest.approx(best, rel=1e-6, abs=1e-3)
    assert np.isin(
        out["start_year"], [*map(str, range(1, years + 1)), f"after {years}", "later"]
    ).all()
