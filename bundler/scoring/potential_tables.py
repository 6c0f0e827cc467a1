"""The brief's two summary tables for a scored layer: potential by intervention and by scheme.

Potentials are the scored units' raw ``potential_*_tco2e_yr`` (before additionality,
buffer, leakage and uncertainty), summed and given in MtCO2e/yr, like the brief's
Table 1 (10.23 / 4.12 / 2.45 = 16.80 MtCO2e/yr) and Table 2.
"""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from bundler.config.scoring import STREAMS
from bundler.i18n.catalogue import translator
from bundler.i18n.languages import N_
from bundler.input.schema import SCHEMES

# the printed tables' names of the streams (English; written in the tables' language)
STREAM_LABELS: dict[str, str] = {
    "protect": N_("forest protection"),
    "arr": N_("restoration (ARR)"),
    "peat": N_("peat rewetting"),
    "total": N_("total"),
}
SCHEME_LABELS: dict[str, str] = {
    "hutan_desa": "Hutan Desa",
    "hkm": "HKm",
    "htr": "HTR",
    "kemitraan": "Kemitraan (Kulin-KK)",
    "hutan_adat": "Hutan Adat",
    "iphps": "IPHPS",
    "total": N_("total"),
}


def _mt(scored: pd.DataFrame, stream: str) -> pd.Series:
    return pd.to_numeric(scored[f"potential_{stream}_tco2e_yr"], errors="coerce").fillna(0) / 1e6


def _province(scored: pd.DataFrame) -> pd.Series | None:
    for col in ("province", "province_code"):
        if col in scored.columns:
            return scored[col].astype(object).where(scored[col].notna(), "").astype(str)
    return None


def potential_by_intervention(scored: pd.DataFrame) -> pd.DataFrame:
    """Potential per intervention stream: the brief's Table 1.

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`bundler.scoring.units.score_units`.

    Returns
    -------
    DataFrame
        Index ``protect, arr, peat, total``; columns ``mtco2e_yr`` (``sum of potential /
        10^6``), ``share`` (of the total, 0-1; 0 when the total is 0) and
        ``top_province`` (the province, by ``province`` else ``province_code``, with the
        largest potential of that stream; "" without a province column or potential).
    """
    prov = _province(scored)
    rows = {}
    for stream in (*STREAMS, "total"):
        values = sum(_mt(scored, s) for s in STREAMS) if stream == "total" else _mt(scored, stream)
        top = ""
        if prov is not None and values.sum() > 0:
            by = values.groupby(prov.to_numpy()).sum()
            top = str(by.idxmax())
        rows[stream] = {"mtco2e_yr": float(values.sum()), "top_province": top}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    total = frame.loc["total", "mtco2e_yr"]
    frame.insert(1, "share", frame["mtco2e_yr"] / total if total > 0 else 0.0)
    frame.index.name = "intervention"
    return frame


def potential_by_scheme(scored: pd.DataFrame) -> pd.DataFrame:
    """Potential per PS scheme and stream: the brief's Table 2.

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`bundler.scoring.units.score_units`, with ``scheme``.

    Returns
    -------
    DataFrame
        One row per scheme present, largest total first, then ``total``; columns
        ``protect, arr, peat, total`` in MtCO2e/yr and ``share`` (the scheme's total over
        the grand total, 0-1).
    """
    data = pd.DataFrame({s: _mt(scored, s) for s in STREAMS})
    data["scheme"] = scored["scheme"].astype(str).to_numpy()
    by = data.groupby("scheme")[list(STREAMS)].sum()
    by["total"] = by[list(STREAMS)].sum(axis=1)
    # ties keep the canonical scheme order
    order = {s: i for i, s in enumerate(SCHEMES)}
    by = by.sort_values(
        by=["total", "scheme"],
        key=lambda c: c.map(order).fillna(len(order)) if c.name == "scheme" else -c,
    )
    grand = float(by["total"].sum())
    by.loc["total"] = by[[*STREAMS, "total"]].sum()
    by["share"] = by["total"] / grand if grand > 0 else 0.0
    by.index.name = "scheme"
    return by


def _decimals(total: float) -> int:
    # a province layer sums to a fraction of a megatonne; keep its digits visible
    return 2 if total >= 1 else 4


def intervention_table(frame: pd.DataFrame, title: str | None = None, lang: str = "en") -> Table:
    """A rich table of :func:`potential_by_intervention`'s result, like the brief's Table 1.

    Parameters
    ----------
    frame : DataFrame
        The result of :func:`potential_by_intervention`.
    title : str, optional
        The table's title; by default "Potential by intervention" in ``lang``.
    lang : str
        The table's language (:mod:`bundler.i18n`): its words and numbers.

    Returns
    -------
    rich.table.Table
        MtCO2e/yr with 2 decimals (4 when the largest value is below 1), share in %.
    """
    tr = translator(lang)
    _ = tr.gettext
    table = Table(title=_("Potential by intervention") if title is None else title)
    table.add_column(_("intervention"))
    table.add_column(_("MtCO2e/yr"), justify="right")
    table.add_column(_("share"), justify="right")
    table.add_column(_("highest in"))
    dec = _decimals(float(frame["mtco2e_yr"].max()))
    for name, row in frame.iterrows():
        table.add_row(
            _(STREAM_LABELS[str(name)]) if str(name) in STREAM_LABELS else str(name),
            tr.decimal(row["mtco2e_yr"], dec, group=False),
            tr.percent(row["share"], 0),
            str(row["top_province"]),
            end_section=name == "peat",
        )
    return table


def scheme_table(frame: pd.DataFrame, title: str | None = None, lang: str = "en") -> Table:
    """A rich table of :func:`potential_by_scheme`'s result, like the brief's Table 2.

    Parameters
    ----------
    frame : DataFrame
        The result of :func:`potential_by_scheme`.
    title : str, optional
        The table's title; by default "Potential by scheme (MtCO2e/yr)" in ``lang``.
    lang : str
        The table's language (:mod:`bundler.i18n`): its words and numbers.

    Returns
    -------
    rich.table.Table
        One row per scheme (display names such as "Hutan Desa") and the total row;
        MtCO2e/yr with 2 decimals (4 when the largest total is below 1), share in %.
    """
    tr = translator(lang)
    _ = tr.gettext
    table = Table(title=_("Potential by scheme (MtCO2e/yr)") if title is None else title)
    for col, justify in (
        (_("scheme"), "left"),
        (_("protect"), "right"),
        ("ARR", "right"),
        (_("peat"), "right"),
        (_("total"), "right"),
        (_("share"), "right"),
    ):
        table.add_column(col, justify=justify)
    last = len(frame) - 2
    dec = _decimals(float(frame["total"].max()))
    for i, (name, row) in enumerate(frame.iterrows()):
        table.add_row(
            _(SCHEME_LABELS[str(name)])
            if str(name) == "total"
            else SCHEME_LABELS.get(str(name), str(name)),
            *(tr.decimal(row[c], dec, group=False) for c in (*STREAMS, "total")),
            tr.percent(row["share"], 0),
            end_section=i == last,
        )
    return table


def print_tables(scored: pd.DataFrame, lang: str = "en") -> tuple[Table, Table]:
    """Both summary tables of a scored layer, ready for ``rich.console.Console.print``.

    In the language ``lang`` (:mod:`bundler.i18n`).

    Returns
    -------
    (Table, Table)
        :func:`intervention_table` of :func:`potential_by_intervention` and
        :func:`scheme_table` of :func:`potential_by_scheme`.
    """
    return (
        intervention_table(potential_by_intervention(scored), lang=lang),
        scheme_table(potential_by_scheme(scored), lang=lang),
    )
