"""Benefit sharing: exact cents, known splits, and the bundle table."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bundler.config.economics import EconomicsSection
from bundler.config.sharing import BenefitSharingSection
from bundler.economics.benefit_sharing import (
    SHARING_COLUMNS,
    allocate_cents,
    share_benefits,
    split_revenue,
)
from bundler.economics.estimation import estimate_bundles
from tests.scored import scored_grid

weights = st.lists(
    st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(total=st.integers(min_value=0, max_value=10**13), w=weights)
def test_cents_add_up_and_stay_within_one_cent_of_the_quota(total, w):
    cents = allocate_cents(total, w)
    assert int(cents.sum()) == total
    assert (cents >= 0).all()
    wsum = sum(Fraction(x) for x in w)
    for c, x in zip(cents, w, strict=True):
        quota = total * Fraction(x) / wsum if wsum else Fraction(total, len(w))
        assert abs(int(c) - quota) < 1


def _largest_remainder(total: int, w: list[float]) -> list[int]:
    """The method of the docstring, in Fractions: the reference the integers must match."""
    f = [Fraction(x) for x in w]
    fsum = sum(f)
    if fsum == 0:
        f, fsum = [Fraction(1)] * len(f), Fraction(len(f))
    quotas = [total * x / fsum for x in f]
    out = [q.numerator // q.denominator for q in quotas]
    for i in sorted(range(len(f)), key=lambda i: (-(quotas[i] - out[i]), i))[: total - sum(out)]:
        out[i] += 1
    return out


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10**13),
    w=st.lists(
        st.one_of(
            st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False),
            st.sampled_from([0.0, 5e-324, 0.1, 1 / 3, 1.0]),  # subnormal, ties, zeros
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_cents_are_the_largest_remainder_split_in_exact_rationals(total, w):
    assert allocate_cents(total, w).tolist() == _largest_remainder(total, w)


@settings(max_examples=300, deadline=None)
@given(
    revenue=st.floats(min_value=0, max_value=1e10, allow_nan=False),
    state=st.floats(min_value=0, max_value=1e10, allow_nan=False),
    local=st.floats(min_value=0, max_value=1),
    investor=st.floats(min_value=0, max_value=1),
    w=weights,
)
def test_shares_sum_exactly_to_revenue(revenue, state, local, investor, w):
    cents = split_revenue(revenue, state, local, investor, w)
    assert len(cents) == 3 + len(w)
    assert int(cents.sum()) == round(100 * revenue)
    assert (cents >= 0).all()


def test_known_split():
    # 100 USD: state 10, local government 10% = 10, the remaining 80 half to the
    # investor (40) and 40 to three equal units: 13.34 + 13.33 + 13.33
    cents = split_revenue(100.0, 10.0, 0.1, 0.5, [1.0, 1.0, 1.0])
    assert cents.tolist() == [1000, 1000, 4000, 1334, 1333, 1333]
    # a state line above the revenue takes all of it
    assert split_revenue(5.0, 9.0, 0.1, 0.5, [1.0]).tolist() == [500, 0, 0, 0]


def test_bundle_table(tmp_path):
    units = scored_grid(tmp_path, 1, 3, protect=[1000.0, 3000.0, 0.0])
    units["households"] = [50, np.nan, 0]
    econ = EconomicsSection()
    bundles = {"B": ["U000", "U001", "U002"]}
    summary = estimate_bundles(units, bundles, econ).summary
    row = summary.iloc[0]
    table = share_benefits(units, bundles, summary, econ, BenefitSharingSection())
    assert list(table.columns) == SHARING_COLUMNS
    assert table["party"].tolist() == ["state", "local_government", "investor", *["unit"] * 3]
    assert round(table["amount_usd"].sum() * 100) == round(row["pv_revenue"] * 100)
    assert table["share"].sum() == pytest.approx(1.0)
    by = table.set_index(table["party"] + table["unit_id"])
    assert by.loc["state", "amount_usd"] == pytest.approx(
        econ.pnbp_usd_per_credit * row["pv_credits"], abs=0.01
    )
    assert by.loc["local_government", "share"] == pytest.approx(0.05, abs=1e-6)
    # investor: year-0 costs over all costs but the PNBP, of what is left
    rest = row["pv_revenue"] * 0.95 - econ.pnbp_usd_per_credit * row["pv_credits"]
    s = row["upfront_usd"] / (row["pv_costs"] - econ.pnbp_usd_per_credit * row["pv_credits"])
    assert by.loc["investor", "amount_usd"] == pytest.approx(s * rest, abs=0.01)
    # units by credits 1:3:0, per household only where households are known and > 0
    assert by.loc["unitU001", "amount_usd"] == pytest.approx(
        3 * by.loc["unitU000", "amount_usd"], abs=0.02
    )
    assert by.loc["unitU002", "amount_usd"] == 0
    assert by.loc["unitU000", "per_household_usd"] == pytest.approx(
        by.loc["unitU000", "amount_usd"] / 50
    )
    assert np.isnan(by.loc["unitU001", "per_household_usd"])
    assert np.isnan(by.loc["unitU002", "per_household_usd"])
    assert np.isnan(by.loc["state", "per_household_usd"])


def test_fixed_investor_share_and_units_by_area(tmp_path):
    units = scored_grid(tmp_path, 1, 2, protect=[1000.0, 3000.0])
    econ = EconomicsSection()
    bundles = {"B": ["U000", "U001"]}
    summary = estimate_bundles(units, bundles, econ).summary
    sec = BenefitSharingSection(investor_basis="fixed", investor_share=0.4, unit_basis="area")
    table = share_benefits(units, bundles, summary, econ, sec)
    inv = table.loc[table["party"] == "investor", "amount_usd"].iloc[0]
    unit_amounts = table.loc[table["party"] == "unit", "amount_usd"].to_numpy()
    assert inv == pytest.approx(0.4 / 0.6 * unit_amounts.sum(), abs=0.02)
    # equal areas (up to the projection) share almost equally
    assert unit_amounts[0] == pytest.approx(unit_amounts[1], rel=1e-3)
    sec = BenefitSharingSection(unit_basis="investment")
    table = share_benefits(units, bundles, summary, econ, sec)
    assert round(table["amount_usd"].sum() * 100) == round(summary["pv_revenue"].iloc[0] * 100)
