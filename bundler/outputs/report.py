"""The planner's report: ``report.html`` (self-contained, offline) and ``map.png``.

``report.html`` carries everything inline: the map is an SVG drawn from the
geometries (one ``<path>`` per unit, with a hover ``<title>``), the charts are
matplotlib SVGs, and a little CSS. Nothing is fetched, so the file can be
mailed to a provincial office or opened on a laptop in the field. The page is
``templates/report.html.j2`` (its CSS ``templates/report.css``): Python draws
and formats the pieces, already escaped, and the template places them.

Both maps (``map.png`` and the HTML's SVG) take their extent, margin and scale
bar from one :class:`MapFrame`, and their colours from :func:`bundle_colors`.

Both files are deterministic: the same inputs give byte-identical files (fixed
colour cycle, fixed SVG id salt, no dates in the metadata).
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import withStroke

from bundler.outputs.files import atomic_write_file
from bundler.outputs.gaps import format_gap, format_relative_gap
from bundler.text import natural_key

# tab20 without its two greys (which would read as "not selected"), strong
# hues first so that the first nine bundles never share a hue.
_TAB20_ORDER = (0, 2, 4, 6, 8, 10, 12, 16, 18, 1, 3, 5, 7, 9, 11, 13, 17, 19)
UNSELECTED_FILL = "#d9d9d9"
UNSELECTED_EDGE = "#969696"
# A colour used nowhere else in the page, so a screenshot can find the map.
MAP_BACKGROUND = "#f4f8fb"
BUNDLE_OUTLINE = "#303030"
# Width of the HTML map's viewBox; coordinates are rounded to 0.1 of it.
VIEW_W = 1000.0
MAP_PNG_WIDTH_PX = 1600
_PNG_DPI = 100
_MAX_LEGEND = 20

_TEMPLATES = Environment(
    loader=PackageLoader("bundler.outputs", "templates"),
    # every piece comes in as Markup, already escaped with html.escape (_esc)
    autoescape=True,
    trim_blocks=True,
    keep_trailing_newline=True,
)


def write_report(
    folder: Path,
    units: gpd.GeoDataFrame,
    bundles: gpd.GeoDataFrame,
    tables: dict[str, pd.DataFrame],
    yearly_credits: pd.DataFrame,
    facts: dict,
) -> None:
    """Write ``report.html`` and ``map.png`` into ``folder``.

    Each file is written under a temporary name in ``folder`` and renamed into
    place, so a reader never sees half a file.

    Parameters
    ----------
    folder : Path
        Output folder (must exist).
    units : GeoDataFrame
        Every unit, in a projected metric CRS, with ``unit_id``, ``bundle_id``
        (``""`` when not selected), ``reason`` (why not selected), ``area_ha``
        and geometry.
    bundles : GeoDataFrame
        One dissolved (multi)polygon per bundle with ``bundle_id``, ``n_units``,
        ``area_ha``, ``credits_tco2e_yr``, ``cost_usd``, ``npv_usd``,
        ``cost_per_tco2e`` and ``main_intervention``. May be empty: the report
        then says that no bundle was selected and why.
    tables : dict of str to DataFrame
        Titled tables to show, in this order.
    yearly_credits : DataFrame
        ``bundle_id``, ``year``, ``credits`` (issuable tCO2e in that year).
    facts : dict
        Run facts (inputs and their sha256, scenario, solver, termination,
        objective, bound, gap, runtime, seed, versions ...), shown as given,
        except ``gap``: a percentage of ``objective`` and ``bound`` (see
        :func:`bundler.outputs.gaps.format_gap`), or "undefined ..." when the objective is 0.
        ``carbon_price_usd`` is drawn on the cost curve; ``explanation`` is
        shown when no bundle was selected; ``report_kind`` names the report
        in its title (``plan`` by default, ``national`` ...).
    """
    folder = Path(folder)
    colors = bundle_colors(bundles["bundle_id"] if len(bundles) else [])
    fig = map_figure(units, bundles, colors)
    atomic_write_file(folder / "map.png", lambda p: fig.savefig(p, format="png", dpi=_PNG_DPI))
    page = report_html(units, bundles, tables, yearly_credits, facts, colors)
    atomic_write_file(folder / "report.html", lambda p: p.write_bytes(page.encode("utf-8")))


def bundle_colors(bundle_ids: Iterable[str]) -> dict[str, str]:
    """A fixed colour per bundle: ids in natural order take the colour cycle in turn.

    Parameters
    ----------
    bundle_ids : iterable of str

    Returns
    -------
    dict of str to str
        Bundle id -> ``#rrggbb``.
    """
    cmap = mpl.colormaps["tab20"]
    cycle = [mpl.colors.to_hex(cmap(i)) for i in _TAB20_ORDER]
    ids = sorted({str(b) for b in bundle_ids}, key=natural_key)
    return {b: cycle[i % len(cycle)] for i, b in enumerate(ids)}


# ---------------------------------------------------------------- both maps


@dataclass(frozen=True)
class ScaleBar:
    """A scale bar: a round length in metres, its length in map units and its label."""

    length_m: float
    length: float
    label: str


@dataclass(frozen=True)
class MapFrame:
    """What ``map.png`` and the HTML map share: extent drawn, margin and scale bar.

    Attributes
    ----------
    minx, miny, maxx, maxy : float
        The units' and bundles' bounds, in map units.
    w, h : float
        Width and height of those bounds, at least 1 map unit.
    pad : float
        Margin around the bounds: 2% of the longer side. The scale bar goes
        below the bounds, its left end at ``minx``.
    bar : ScaleBar or None
        None when the CRS is not projected (no scale bar).
    """

    minx: float
    miny: float
    maxx: float
    maxy: float
    w: float
    h: float
    pad: float
    bar: ScaleBar | None


def map_frame(units: gpd.GeoDataFrame, bundles: gpd.GeoDataFrame) -> MapFrame:
    """The frame of both maps (see :class:`MapFrame`)."""
    minx, miny, maxx, maxy = _extent(units, bundles)
    w, h = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
    return MapFrame(minx, miny, maxx, maxy, w, h, 0.02 * max(w, h), scale_bar(units.crs, w))


def scale_bar(crs, width: float) -> ScaleBar | None:
    """A scale bar of a round length (1, 2 or 5 times a power of ten metres) about a
    fifth of ``width`` (map units), or None when ``crs`` is not projected."""
    to_m = _metres_per_unit(crs)
    if to_m is None:
        return None
    length_m = _nice_length(width * to_m / 5)
    return ScaleBar(length_m, length_m / to_m, _length_label(length_m))


# ---------------------------------------------------------------- map.png


def map_figure(
    units: gpd.GeoDataFrame, bundles: gpd.GeoDataFrame, colors: dict[str, str]
) -> Figure:
    """The map as a matplotlib figure (Agg canvas), 1600 px wide at its dpi.

    Parameters
    ----------
    units, bundles : GeoDataFrame
        As for :func:`write_report`.
    colors : dict of str to str
        Bundle id -> colour, from :func:`bundle_colors`.

    Returns
    -------
    Figure
    """
    frame = map_frame(units, bundles)
    minx, miny, maxx, maxy = frame.minx, frame.miny, frame.maxx, frame.maxy
    w, h, pad = frame.w, frame.h, frame.pad
    width_in = MAP_PNG_WIDTH_PX / _PNG_DPI
    # the map takes 80% of the width (the legend the rest) and 90% of the height
    height_in = float(np.clip(width_in * 0.8 * h / w / 0.9, 6.0, 20.0))
    fig = Figure(figsize=(width_in, height_in), dpi=_PNG_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.02, 0.8, 0.9))
    ax.set_axis_off()
    ax.set_aspect("equal", adjustable="box")
    bid = units["bundle_id"].fillna("").astype(str).to_numpy()
    selected = bid != ""
    geoms = units.geometry.to_numpy()
    if (~selected).any():
        ax.add_collection(
            PathCollection(
                [_mpl_path(g) for g in geoms[~selected]],
                facecolors=UNSELECTED_FILL,
                edgecolors=UNSELECTED_EDGE,
                linewidths=0.4,
            )
        )
    if selected.any():
        ax.add_collection(
            PathCollection(
                [_mpl_path(g) for g in geoms[selected]],
                facecolors=[colors.get(b, UNSELECTED_FILL) for b in bid[selected]],
                edgecolors="white",
                linewidths=0.3,
            )
        )
    if len(bundles):
        ax.add_collection(
            PathCollection(
                [_mpl_path(g) for g in bundles.geometry.to_numpy()],
                facecolors="none",
                edgecolors=BUNDLE_OUTLINE,
                linewidths=1.0,
            )
        )
        for b, pt in _label_points(bundles):
            ax.text(
                pt.x,
                pt.y,
                b,
                ha="center",
                va="center",
                fontsize=9,
                fontweight="bold",
                path_effects=[withStroke(linewidth=3, foreground="white")],
            )
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - 4 * pad, maxy + pad)  # room below for the scale bar
    if not len(units):
        ax.text(0.5, 0.5, "No units", transform=ax.transAxes, ha="center", fontsize=14)
    if frame.bar is not None:
        _draw_scale_bar(ax, frame.bar, minx, miny - pad * 3, pad)
    handles = [
        Patch(facecolor=c, edgecolor=BUNDLE_OUTLINE, label=b)
        for b, c in list(colors.items())[:_MAX_LEGEND]
    ]
    if len(colors) > _MAX_LEGEND:
        handles.append(Patch(color="none", label=f"… and {len(colors) - _MAX_LEGEND} more"))
    handles.append(
        Patch(facecolor=UNSELECTED_FILL, edgecolor=UNSELECTED_EDGE, label="not selected")
    )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=9,
        frameon=True,
        title="Bundles",
    )
    title = f"{len(colors)} bundle(s), {int(selected.sum())} of {len(units)} units selected"
    fig.suptitle(title, fontsize=14, y=0.98)
    return fig


def _mpl_path(geom) -> MplPath:
    """A compound matplotlib path (holes included) for a (multi)polygon."""
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for ring in _rings(geom):
        xy = np.asarray(ring.coords)[:, :2]
        if len(xy) < 3:
            continue
        c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
        c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
        verts.append(xy)
        codes.append(c)
    if not verts:
        return MplPath(np.zeros((1, 2)), [MplPath.MOVETO])
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _draw_scale_bar(ax, bar: ScaleBar, x0: float, y0: float, pad: float) -> None:
    """``bar`` from ``(x0, y0)`` rightwards (map units), its label just above."""
    ax.plot([x0, x0 + bar.length], [y0, y0], color="black", linewidth=3, solid_capstyle="butt")
    ax.text(
        x0 + bar.length / 2,
        y0 + pad * 0.3,
        bar.label,
        ha="center",
        va="bottom",
        fontsize=9,
    )


# ---------------------------------------------------------------- report.html


def report_html(
    units: gpd.GeoDataFrame,
    bundles: gpd.GeoDataFrame,
    tables: dict[str, pd.DataFrame],
    yearly_credits: pd.DataFrame,
    facts: dict,
    colors: dict[str, str] | None = None,
) -> str:
    """The report as one self-contained HTML string (see :func:`write_report`).

    Parameters
    ----------
    units, bundles, tables, yearly_credits, facts
        As for :func:`write_report`.
    colors : dict of str to str, optional
        Bundle id -> colour; by default :func:`bundle_colors` of the bundles.

    Returns
    -------
    str
    """
    if colors is None:
        colors = bundle_colors(bundles["bundle_id"] if len(bundles) else [])
    scenario = facts.get("scenario_name") or facts.get("scenario")
    title = f"Social Forestry carbon bundles: {facts.get('report_kind', 'plan')} report"
    if isinstance(scenario, str) and scenario:
        title += f" ({scenario})"
    sections = [
        ("map", "Map"),
        ("credits", "Credits over time"),
        ("cost-curve", "Cost curve"),
        *[(f"table-{i}", t) for i, t in enumerate(tables)],
        ("not-selected", "Why units were not selected"),
        ("facts", "Run facts"),
    ]
    return _TEMPLATES.get_template("report.html.j2").render(
        title=_markup(title),
        summary=Markup(_summary_html(units, bundles)),
        status=Markup(_status_html(facts)),
        empty=None if len(bundles) else Markup(_empty_html(facts)),
        sections=[(anchor, _markup(heading)) for anchor, heading in sections],
        map=Markup(map_svg(units, bundles, colors)),
        legend=Markup(_legend_html(bundles, colors)),
        credits=Markup(_credits_html(yearly_credits, colors)),
        cost_curve=Markup(_cost_curve_html(bundles, facts, colors)),
        tables=[(_markup(t), Markup(table_html(df))) for t, df in tables.items()],
        reasons=Markup(_reasons_html(units)),
        facts=Markup(facts_html({**facts, "gap": _gap_text(facts)} if "gap" in facts else facts)),
    )


def map_svg(units: gpd.GeoDataFrame, bundles: gpd.GeoDataFrame, colors: dict[str, str]) -> str:
    """The map as inline SVG: one ``<path class="unit">`` with a ``<title>`` per unit.

    Geometry is simplified to a fraction of the map's extent and coordinates
    are rounded to 0.1 of a 1000-wide viewBox, which keeps a province of a few
    thousand units near a megabyte while staying sharp at screen size.

    Parameters
    ----------
    units, bundles : GeoDataFrame
        As for :func:`write_report`.
    colors : dict of str to str
        Bundle id -> colour.

    Returns
    -------
    str
    """
    frame = map_frame(units, bundles)
    minx, maxy, w, h, pad = frame.minx, frame.maxy, frame.w, frame.h, frame.pad
    scale = VIEW_W / (w + 2 * pad)
    view_h = round((h + 2 * pad) * scale + 30, 1)  # room below for the scale bar

    def to_view(g: np.ndarray) -> np.ndarray:
        return np.column_stack([(g[:, 0] - minx + pad) * scale, (maxy + pad - g[:, 1]) * scale])

    def view_geoms(geoms) -> np.ndarray:
        arr = shapely.transform(np.asarray(geoms, dtype=object), to_view)
        # a quarter of a viewBox unit: invisible at any usual screen size
        return shapely.simplify(arr, 0.25, preserve_topology=True)

    bid = units["bundle_id"].fillna("").astype(str).to_numpy()
    reason = units["reason"].fillna("").astype(str).to_numpy() if "reason" in units else None
    uid = units["unit_id"].astype(str).to_numpy()
    area = units["area_ha"].to_numpy() if "area_ha" in units else None
    geoms = view_geoms(units.geometry.to_numpy()) if len(units) else np.array([])

    def unit_path(i: int) -> str:
        what = f"bundle {bid[i]}" if bid[i] else "not selected"
        if not bid[i] and reason is not None and reason[i]:
            what += f": {reason[i]}"
        label = f"{uid[i]} — {what}"
        if area is not None and _is_number(area[i]):
            label += f" ({_fmt_num(area[i])} ha)"
        return (
            f'<path class="unit" data-unit="{_esc(uid[i])}" d="{_svg_d(geoms[i])}">'
            f"<title>{_esc(label)}</title></path>"
        )

    out = [
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VIEW_W:g} '
        f'{view_h:g}" role="img" aria-label="Map of bundles and units">',
        f'<rect x="0" y="0" width="{VIEW_W:g}" height="{view_h:g}" fill="{MAP_BACKGROUND}"/>',
        f'<g fill="{UNSELECTED_FILL}" stroke="{UNSELECTED_EDGE}" stroke-width="0.6" '
        'fill-rule="evenodd">',
        *(unit_path(i) for i in np.flatnonzero(bid == "")),
        "</g>",
    ]
    for b, c in colors.items():
        idx = np.flatnonzero(bid == b)
        if len(idx):
            out.append(f'<g fill="{c}" stroke="#ffffff" stroke-width="0.5" fill-rule="evenodd">')
            out += [unit_path(i) for i in idx]
            out.append("</g>")
    # units whose bundle has no row in `bundles` would otherwise vanish
    orphans = np.flatnonzero((bid != "") & ~np.isin(bid, list(colors)))
    if len(orphans):
        out.append(f'<g fill="{UNSELECTED_FILL}" stroke="#000000" fill-rule="evenodd">')
        out += [unit_path(i) for i in orphans]
        out.append("</g>")
    if len(bundles):
        outlines = view_geoms(bundles.geometry.to_numpy())
        out.append(
            f'<g fill="none" stroke="{BUNDLE_OUTLINE}" stroke-width="1.5" pointer-events="none">'
        )
        out += [f'<path class="bundle" d="{_svg_d(g)}"/>' for g in outlines]
        out.append("</g><g>")
        for b, pt in _label_points(bundles):
            ((x, y),) = to_view(np.array([[pt.x, pt.y]]))
            out.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" '
                f'dominant-baseline="middle">{_esc(b)}</text>'
            )
        out.append("</g>")
    if not len(units):
        out.append(
            f'<text x="{VIEW_W / 2:g}" y="{view_h / 2:g}" text-anchor="middle">No units</text>'
        )
    if frame.bar is not None:
        ((x0, _),) = to_view(np.array([[frame.minx, frame.miny]]))
        bar = frame.bar.length * scale
        y = view_h - 12
        out.append(
            f'<g><path d="M{x0:.1f} {y:.1f}h{bar:.1f}" stroke="#000000" '
            f'stroke-width="3"/><text x="{x0 + bar / 2:.1f}" y="{y - 10:.1f}" '
            f'text-anchor="middle">{frame.bar.label}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out)


def table_html(df: pd.DataFrame) -> str:
    """An HTML table of ``df`` with every header and cell escaped.

    A meaningful index (anything but a plain 0..n-1 range) becomes the first
    column(s). Numbers are right-aligned and given thousands separators.

    Parameters
    ----------
    df : DataFrame

    Returns
    -------
    str
    """
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    if df.empty:
        return "<p>(no rows)</p>"
    cols = [" / ".join(str(p) for p in c) if isinstance(c, tuple) else str(c) for c in df.columns]
    head = "".join(f'<th scope="col">{_esc(c)}</th>' for c in cols)
    rows = []
    for rec in df.itertuples(index=False, name=None):
        cells = []
        for v in rec:
            if _is_number(v):
                cells.append(f'<td class="num">{_esc(_fmt_num(v))}</td>')
            else:
                cells.append(f"<td>{_esc(_fmt_cell(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def facts_html(facts: dict) -> str:
    """Run facts as a definition list, values exactly as given (nested dicts nest).

    Parameters
    ----------
    facts : dict

    Returns
    -------
    str
    """
    if not facts:
        return "<p>(no facts recorded)</p>"
    items = "".join(f"<dt>{_esc(k)}</dt><dd>{_fact_value(v)}</dd>" for k, v in facts.items())
    return f'<dl class="facts">{items}</dl>'


def _fact_value(v) -> str:
    if isinstance(v, dict):
        return facts_html(v)
    if isinstance(v, list | tuple):
        if v and all(isinstance(x, dict) for x in v):
            return table_html(pd.DataFrame(list(v)))
        if any(isinstance(x, str) and len(x) > 40 for x in v):  # sentences, e.g. warnings
            return "<ul>" + "".join(f"<li>{_esc(str(x))}</li>" for x in v) + "</ul>"
        return _esc(", ".join(_fact_scalar(x) for x in v)) if v else "(none)"
    return _esc(_fact_scalar(v))


def _fact_scalar(v) -> str:
    # str() of a float is its shortest round-trip repr: the value exactly as given
    return "none" if v is None else str(v)


def _gap_text(facts: dict) -> str:
    """The run's gap for a reader: from its objective and bound, else the ``gap`` fact."""
    objective, bound = facts.get("objective"), facts.get("bound")
    if _is_number(objective) and _is_number(bound):
        return format_gap(float(objective), float(bound))
    gap = facts.get("gap")
    return format_relative_gap(float(gap) if _is_number(gap) else None)


def _summary_html(units: gpd.GeoDataFrame, bundles: gpd.GeoDataFrame) -> str:
    n_sel = int((units["bundle_id"].fillna("").astype(str) != "").sum()) if len(units) else 0
    parts = [f"{len(bundles)} bundle(s)", f"{n_sel} of {len(units)} units selected"]
    for col, unit in (("area_ha", "ha"), ("credits_tco2e_yr", "tCO2e/yr"), ("npv_usd", "USD NPV")):
        if len(bundles) and col in bundles:
            parts.append(f"{_fmt_num(float(bundles[col].sum()))} {unit}")
    return f"<p>{_esc('; '.join(parts))}.</p>"


def _status_html(facts: dict) -> str:
    term = facts.get("termination")
    solver = facts.get("solver")
    by = f" by {solver}" if solver is not None else ""
    if term is None:
        return (
            f'<p class="status notopt">Termination was not reported{_esc(by)}: '
            "the plan is not known to be optimal.</p>"
        )
    detail = f"termination {_fact_scalar(term)}"
    if "bound" in facts or "gap" in facts:
        detail += f", bound {_fact_scalar(facts.get('bound'))}, gap {_gap_text(facts)}"
    if str(term) == "partial":
        return (
            f'<p class="status notopt">Partial{_esc(by)}: some provinces failed and are '
            "missing here; see the provinces table.</p>"
        )
    if str(term) == "optimal":
        return f'<p class="status optimal">Proven optimal{_esc(by)} ({_esc(detail)}).</p>'
    return (
        f'<p class="status notopt">Not proven optimal{_esc(by)}: {_esc(detail)}. '
        "A better plan may exist.</p>"
    )


def _empty_html(facts: dict) -> str:
    why = facts.get("explanation")
    text = "No bundle was selected: this plan has no carbon project."
    if why:
        text += f" {why}"
    else:
        text += " The table “Why units were not selected” below gives each unit's reason."
    return f'<p class="empty">{_esc(text)}</p>'


def _legend_html(bundles: gpd.GeoDataFrame, colors: dict[str, str]) -> str:
    items = []
    area = (
        dict(zip(bundles["bundle_id"].astype(str), bundles["area_ha"], strict=True))
        if (len(bundles) and "area_ha" in bundles)
        else {}
    )
    for b, c in colors.items():
        extra = f" ({_fmt_num(area[b])} ha)" if b in area and _is_number(area[b]) else ""
        items.append(f'<span class="sw" style="background:{c}"></span>{_esc(b + extra)}')
    items.append(f'<span class="sw" style="background:{UNSELECTED_FILL}"></span>not selected')
    return (
        '<figcaption class="legend">' + " ".join(items) + "<br>Hover over a unit for its id, "
        "its bundle or why it was not selected.</figcaption>"
    )


def _reasons_html(units: gpd.GeoDataFrame) -> str:
    if "reason" not in units or not len(units):
        return "<p>(no units)</p>"
    bid = units["bundle_id"].fillna("").astype(str)
    reason = units.loc[bid == "", "reason"].fillna("").astype(str).replace("", "(no reason given)")
    if not len(reason):
        return "<p>Every unit was selected.</p>"
    counts = reason.value_counts()
    df = pd.DataFrame({"reason": counts.index, "units": counts.to_numpy()})
    if "area_ha" in units:
        ha = units.loc[bid == ""].assign(r=reason).groupby("r")["area_ha"].sum()
        df["area_ha"] = df["reason"].map(ha).to_numpy()
    df = df.sort_values(["units", "reason"], ascending=[False, True], kind="stable")
    return table_html(df.reset_index(drop=True))


# ---------------------------------------------------------------- charts


def _credits_html(yearly: pd.DataFrame, colors: dict[str, str]) -> str:
    if yearly is None or not len(yearly):
        return "<p>No credits: no bundle was selected, or none issues credits.</p>"
    table = (
        yearly.assign(bundle_id=yearly["bundle_id"].astype(str))
        .pivot_table(
            index="year", columns="bundle_id", values="credits", aggfunc="sum", fill_value=0.0
        )
        .sort_index()
    )
    order = sorted(table.columns, key=natural_key)
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    bottom = np.zeros(len(table))
    years = table.index.to_numpy()
    for b in order:
        vals = table[b].to_numpy(dtype=float)
        ax.bar(
            years,
            vals,
            bottom=bottom,
            width=0.85,
            color=colors.get(b, UNSELECTED_FILL),
            label=b,
            linewidth=0,
        )
        bottom += vals
    ax.set_xlabel("Year")
    ax.set_ylabel("Issuable credits (tCO2e)")
    ax.set_title(f"Credits per year, all bundles: {_fmt_num(float(bottom.sum()))} tCO2e in total")
    ax.yaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.grid(axis="y", alpha=0.3)
    if len(order) <= _MAX_LEGEND:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="Bundle")
    fig.tight_layout()
    return f'<div class="chart">{_figure_svg(fig, "credits")}</div>'


def _cost_curve_html(bundles: gpd.GeoDataFrame, facts: dict, colors: dict[str, str]) -> str:
    price = facts.get("carbon_price_usd")
    if not len(bundles):
        return "<p>No bundle, so no cost curve.</p>"
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
        return "<p>No bundle issues credits, so no cost curve.</p>"
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
    if _is_number(price):
        ax.axhline(
            float(price),
            color="#b30000",
            linestyle="--",
            linewidth=1.5,
            label=f"carbon price {_fact_scalar(price)} USD/tCO2e",
        )
        ax.legend(loc="upper left")
    ax.set_xlabel("Cumulative credits (tCO2e per year), cheapest bundle first")
    ax.set_ylabel("Cost (USD per tCO2e)")
    ax.set_title("Cost curve of the bundles")
    ax.xaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.set_xlim(0, max(edges[-1], 1.0))
    ax.set_ylim(bottom=min(0.0, float(d["c"].min())))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    note = "" if _is_number(price) else "<p>No carbon price was given, so none is drawn.</p>"
    if dropped:
        note += f"<p>Not on the curve (no credits): {_esc(', '.join(dropped))}.</p>"
    return f'<div class="chart">{_figure_svg(fig, "cost")}</div>{note}'


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
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        pattern = re.compile(r'(\bid="|#)(' + "|".join(map(re.escape, ids)) + r')(?=["\)])')
        svg = pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    return svg


# ---------------------------------------------------------------- helpers


def _extent(units: gpd.GeoDataFrame, bundles: gpd.GeoDataFrame) -> tuple[float, ...]:
    boxes = [f.total_bounds for f in (units, bundles) if len(f)]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return (0.0, 0.0, 1.0, 1.0)
    b = np.array(boxes)
    return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())


def _rings(geom) -> list:
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, shapely.Polygon):
        return [geom.exterior, *geom.interiors]
    if hasattr(geom, "geoms"):
        return [r for g in geom.geoms for r in _rings(g)]
    return []


def _svg_d(geom) -> str:
    """SVG path data for a (multi)polygon: ``Mx yLx y x y…Z`` per ring."""
    parts = []
    for ring in _rings(geom):
        xy = np.asarray(ring.coords)[:, :2]
        if len(xy) > 1 and (xy[0] == xy[-1]).all():
            xy = xy[:-1]  # Z closes the ring
        if len(xy) < 3:
            continue
        pts = [f"{_c(x)} {_c(y)}" for x, y in xy]
        parts.append(f"M{pts[0]}L{' '.join(pts[1:])}Z")
    return "".join(parts)


def _c(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _label_points(bundles: gpd.GeoDataFrame) -> list[tuple[str, shapely.Point]]:
    return [
        (str(b), g.representative_point())
        for b, g in zip(bundles["bundle_id"], bundles.geometry, strict=True)
        if g is not None and not g.is_empty
    ]


def _metres_per_unit(crs) -> float | None:
    """Metres in one map unit, or None when the CRS is not projected (no scale bar)."""
    if crs is None or not crs.is_projected or not crs.axis_info:
        return None
    factor = crs.axis_info[0].unit_conversion_factor
    return float(factor) if factor else None


def _nice_length(x: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``x`` (at least 1 m)."""
    if not x > 1:
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


def _length_label(m: float) -> str:
    return f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"


def _is_number(v) -> bool:
    return (
        isinstance(v, int | float | np.integer | np.floating)
        and not isinstance(v, bool | np.bool_)
        and not (isinstance(v, float | np.floating) and math.isnan(v))
    )


def _fmt_num(v) -> str:
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:,.2f}"
    return f"{v:.3g}"


def _fmt_cell(v) -> str:
    if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
        return ""
    if isinstance(v, Sequence) and not isinstance(v, str):
        return "; ".join(map(str, v))
    return str(v)


def _esc(s) -> str:
    return html.escape(str(s), quote=True)


def _markup(s) -> Markup:
    """``s`` escaped as everywhere in the report (``html.escape``), for the template."""
    return Markup(_esc(s))
