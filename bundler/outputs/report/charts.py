"""The report's charts: credits per year and the cost curve, as inline SVG.

Drawn with matplotlib and written as SVG text (``svg.fonttype`` none) with
their ids made unique per chart and a fixed hash salt, so the same inputs give
the same bytes and two charts never share an id. Their words (titles, axis labels,
legends, notes) and tick labels are in the page's language (``lang``).
"""

from __future__ import annotations

import io
import re

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from bundler.i18n.catalogue import Translator, translator
from bundler.outputs.report.cells import esc, fact_scalar, fmt_num, is_number, paragraph
from bundler.outputs.report.static_map import MAX_LEGEND, UNSELECTED_FILL
from bundler.text import natural_key


def credits_html(yearly: pd.DataFrame, colors: dict[str, str], lang: str = "en") -> str:
    """Stacked bars of issuable credits per year, one colour per bundle (or why there are none).

    Parameters
    ----------
    yearly : DataFrame
        ``bundle_id``, ``year``, ``credits`` (tCO2e).
    colors : dict of str to str
        Bundle id -> colour.
    lang : str
        The chart's language (:mod:`bundler.i18n`).

    Returns
    -------
    str
    """
    tr = translator(lang)
    _ = tr.gettext
    if yearly is None or not len(yearly):
        return paragraph(_("No credits: no bundle was selected, or none issues credits."))
    table = (
        yearly.assign(bundle_id=yearly["bundle_id"].astype(str))
        .pivot_table(
            index="year",
            columns="bundle_id",
            values="credits",
            aggfunc="sum",
            fill_value=0.0,
        )
        .sort_index()
    )
    order = sorted(table.columns, key=natural_key)
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    bottom = np.zeros(len(table))
    years = table.index.to_numpy()
    width = 0.85
    for b in order:
        vals = table[b].to_numpy(dtype=float)
        bars = PathPatch(
            _bars_path(years, bottom, vals, width),
            facecolor=colors.get(b, UNSELECTED_FILL),
            linewidth=0,
            label=b,
        )
        bars.sticky_edges.y.append(0.0)  # as ax.bar: no margin below the baseline
        # add_artist, not add_patch: add_patch walks every segment of the path for the
        # data limits (1.5 s of the 1.8 s this chart took for 236 bundles of 30 years);
        # the limits of the stack are known, they are set once below
        ax.add_artist(bars)
        bottom += vals
    if len(years):
        ax.update_datalim(
            [(years.min() - width / 2, 0.0), (years.max() + width / 2, float(bottom.max()))]
        )
    ax.autoscale_view()
    ax.set_xlabel(_("Year"))
    ax.set_ylabel(_("Issuable credits (tCO2e)"))
    ax.set_title(
        _("Credits per year, all bundles: {total} tCO2e in total").format(
            total=fmt_num(float(bottom.sum()), lang)
        )
    )
    ax.yaxis.set_major_formatter(_whole(tr))
    ax.grid(axis="y", alpha=0.3)
    if len(order) <= MAX_LEGEND:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title=_("Bundle"))
    fig.tight_layout()
    return f'<div class="chart">{_figure_svg(fig, "credits")}</div>'


def _bars_path(x: np.ndarray, bottom: np.ndarray, height: np.ndarray, width: float) -> MplPath:
    """One bundle's bars, every year, as one compound path.

    Drawn like ``ax.bar`` (centred on ``x``, from ``bottom`` up by ``height``),
    but one ``<path>`` per bundle in the SVG instead of one element per bar: a
    national report stacks ~30 years of hundreds of bundles, and per-bar
    elements made this chart several megabytes and slow to draw.
    """
    x0, x1 = x - width / 2, x + width / 2
    y0, y1 = bottom, bottom + height
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    verts = np.stack([np.column_stack(c) for c in corners], axis=1).reshape(-1, 2)
    step = [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO, MplPath.CLOSEPOLY]
    return MplPath(verts, np.tile(np.array(step, dtype=np.uint8), len(x)))


def cost_curve_html(
    bundles: gpd.GeoDataFrame, facts: dict, colors: dict[str, str], lang: str = "en"
) -> str:
    """The bundles' cost curve, cheapest first, with the carbon price (or why there is none).

    Parameters
    ----------
    bundles : GeoDataFrame
        ``bundle_id``, ``credits_tco2e_yr`` and ``cost_per_tco2e``.
    facts : dict
        ``carbon_price_usd`` is drawn when given.
    colors : dict of str to str
        Bundle id -> colour.
    lang : str
        The chart's language (:mod:`bundler.i18n`).

    Returns
    -------
    str
    """
    tr = translator(lang)
    _ = tr.gettext
    price = facts.get("carbon_price_usd")
    if not len(bundles):
        return paragraph(_("No bundle, so no cost curve."))
    d = pd.DataFrame(
        {
            "b": bundles["bundle_id"].astype(str).to_numpy(),
            "q": bundles["credits_tco2e_yr"].to_numpy(dtype=float),
            "c": bundles["cost_per_tco2e"].to_numpy(dtype=float),
        }
    )
    # a bundle without credits has no cost per tCO2e and no width on the curve
    dropped = d.loc[~(np.isfinite(d["c"]) & (d["q"] > 0)), "b"].tolist()
    d = d.loc[~d["b"].isin(dropped)]
    if not len(d):
        return paragraph(_("No bundle issues credits, so no cost curve."))
    d["k"] = d["b"].map(natural_key)
    d = d.sort_values(["c", "k"], kind="stable").reset_index(drop=True)
    edges = np.concatenate([[0.0], np.cumsum(d["q"].to_numpy())])
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    ax.bar(
        edges[:-1],
        d["c"],
        width=d["q"],
        align="edge",
        color=[colors.get(b, UNSELECTED_FILL) for b in d["b"]],
        linewidth=0,
    )
    ax.step(
        edges,
        np.append(d["c"].to_numpy(), d["c"].iloc[-1]),
        where="post",
        color="black",
        linewidth=1.2,
    )
    if len(d) <= 30:
        for x0, q, c, b in zip(edges[:-1], d["q"], d["c"], d["b"], strict=True):
            ax.text(x0 + q / 2, c, b, ha="center", va="bottom", fontsize=7, rotation=90)
    if is_number(price):
        ax.axhline(
            float(price),
            color="#b30000",
            linestyle="--",
            linewidth=1.5,
            label=_("carbon price {price} USD/tCO2e").format(price=fact_scalar(price, lang)),
        )
        ax.legend(loc="upper left")
    ax.set_xlabel(_("Cumulative credits (tCO2e per year), cheapest bundle first"))
    ax.set_ylabel(_("Cost (USD per tCO2e)"))
    ax.set_title(_("Cost curve of the bundles"))
    ax.xaxis.set_major_formatter(_whole(tr))
    if lang != "en":  # matplotlib's own tick labels have a decimal point
        ax.yaxis.set_major_formatter(_Localized(tr.decimal_sign))
    ax.set_xlim(0, max(edges[-1], 1.0))
    ax.set_ylim(bottom=min(0.0, float(d["c"].min())))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    note = "" if is_number(price) else paragraph(_("No carbon price was given, so none is drawn."))
    if dropped:
        text = _("Not on the curve (no credits): {bundles}.").format(bundles=", ".join(dropped))
        note += f"<p>{esc(text)}</p>"
    return f'<div class="chart">{_figure_svg(fig, "cost")}</div>{note}'


def _whole(tr: Translator) -> mpl.ticker.Formatter:
    """Tick labels as whole numbers with the locale's thousands separator."""
    return mpl.ticker.FuncFormatter(lambda x, _pos: tr.decimal(x, 0))


class _Localized(mpl.ticker.ScalarFormatter):
    """matplotlib's usual tick labels, with a locale's decimal sign for the point."""

    def __init__(self, decimal_sign: str):
        super().__init__()
        self.decimal_sign = decimal_sign

    def __call__(self, x, pos=None):
        return super().__call__(x, pos).replace(".", self.decimal_sign)

    def get_offset(self):
        return super().get_offset().replace(".", self.decimal_sign)


def _figure_svg(fig: Figure, prefix: str) -> str:
    """A figure as inline SVG with its ids made unique to ``prefix``.

    A fixed hash salt makes the ids the same on every run; text stays text
    (``svg.fonttype`` none) so no glyph definitions clash between charts.
    """
    buf = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": f"ps-bundler-{prefix}", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    # path data to 0.01 pt on one line: matplotlib writes 6 decimals and a line per
    # vertex, which tripled the bytes of a chart of many bars for nothing one can see
    svg = re.sub(r'\bd="([^"]*)"', lambda m: f'd="{_short_path(m.group(1))}"', svg)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        pattern = re.compile(r'(\bid="|#)(' + "|".join(map(re.escape, ids)) + r')(?=["\)])')
        svg = pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    return svg


def _short_path(d: str) -> str:
    """SVG path data, shorter and drawn the same to 0.01 pt.

    Paths of only moves, lines and closes (bars, ticks, grid lines, axes) are
    rewritten with relative lines (``Mx y l dx dy ... z``), each delta taken
    between coordinates already rounded to 0.01, so no error accumulates; any
    other path keeps its commands, its numbers rounded to two decimals.
    """
    tokens = re.findall(r"[A-Za-z]|-?\d+(?:\.\d+)?(?:e-?\d+)?", d)
    if {t for t in tokens if t.isalpha()} - {"M", "L", "z", "Z"}:
        return " ".join(t if t.isalpha() else _cents(round(float(t) * 100)) for t in tokens)
    out: list[str] = []
    at = (0, 0)
    words = iter(tokens)
    for cmd in words:
        if cmd in "zZ":
            out.append("z")
            continue
        x, y = (round(float(next(words)) * 100) for _ in range(2))
        if cmd == "M":
            out.append(f"M{_cents(x)} {_cents(y)}")
        else:
            lead = " " if out[-1][0] == " " or out[-1][0] == "l" else "l"
            out.append(f"{lead}{_cents(x - at[0])} {_cents(y - at[1])}")
        at = (x, y)
    return "".join(out).replace(" -", "-")


def _cents(v: int) -> str:
    """Hundredths as a short decimal: 12345 -> ``123.45``, -50 -> ``-0.5``, 200 -> ``2``."""
    text = f"{abs(v) / 100:.2f}".rstrip("0").rstrip(".")
    return "-" + text if v < 0 else text


def pareto_figure(table: pd.DataFrame, lang: str = "en") -> Figure:
    """The Pareto front: each plan's co-benefit (x) against its objective (y), joined."""
    tr = translator(lang)
    _ = tr.gettext
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.subplots()
    d = table.sort_values("cobenefit")
    ax.plot(d["cobenefit"], d["objective"], marker="o", color="#1b7837", linewidth=1.2)
    for point, x, y in zip(d["point"], d["cobenefit"], d["objective"], strict=True):
        ax.annotate(f"P{point}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel(_("Co-benefit of the plan"))
    ax.set_ylabel(_("Objective of the plan"))
    ax.set_title(_("Objective against co-benefit (Pareto front)"))
    if lang != "en":
        ax.xaxis.set_major_formatter(_Localized(tr.decimal_sign))
        ax.yaxis.set_major_formatter(_Localized(tr.decimal_sign))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def pareto_html(table: pd.DataFrame, lang: str = "en") -> str:
    """The Pareto front as inline SVG (:func:`pareto_figure`)."""
    if not len(table):
        return ""
    return f'<div class="chart">{_figure_svg(pareto_figure(table, lang), "pareto")}</div>'
