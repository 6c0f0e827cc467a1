"""The planner's report page: ``report.html`` (self-contained, offline) and, beside it, ``map.png``.

``report.html`` carries everything inline: the interactive map (its data as
JSON and the project's own ``templates/map.js``, no framework, nothing from a
CDN), the charts as matplotlib SVGs, and a little CSS. Nothing is fetched, so
the file can be mailed to a provincial office or opened on a laptop in the
field. The page is ``templates/report.html.j2`` (its CSS ``report.css``, its
script ``map.js``): Python draws and formats the pieces, already escaped, and
the template places them; every word of the map's interface is in the template.

The page is written in one language (``lang``, the scenario's ``report.lang``):
every word through the catalogue of :mod:`bundler.i18n` (Jinja2's ``i18n``
extension in the template, ``gettext`` here and in the charts), every number in
that language's locale. Ids, codes and the run facts' keys stay as in the files.

Both files are deterministic: the same inputs give byte-identical files (fixed
colour cycle, fixed SVG id salt, no dates in the metadata).
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import pandas as pd
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from bundler.i18n.catalogue import Translator, translator
from bundler.outputs.files import atomic_write_file
from bundler.outputs.gaps import format_gap, format_relative_gap
from bundler.outputs.report.cells import (
    esc,
    fact_scalar,
    facts_html,
    fmt_num,
    is_number,
    markup,
    paragraph,
    table_html,
)
from bundler.outputs.report.charts import cost_curve_html, credits_html
from bundler.outputs.report.map_data import map_data, map_json, map_layers
from bundler.outputs.report.static_map import (
    BUNDLE_OUTLINE,
    MAP_BACKGROUND,
    PNG_DPI,
    UNSELECTED_EDGE,
    UNSELECTED_FILL,
    bundle_colors,
    map_figure,
    map_frame,
)


@functools.cache
def _templates(lang: str) -> Environment:
    """The page's template environment, its gettext that of ``lang``."""
    env = Environment(
        loader=PackageLoader("bundler.outputs", "templates"),
        # every piece comes in as Markup, already escaped with html.escape (esc)
        autoescape=True,
        trim_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translator(lang).translations, newstyle=True)
    return env


def write_report(
    folder: Path,
    units: gpd.GeoDataFrame,
    bundles: gpd.GeoDataFrame,
    tables: dict[str, pd.DataFrame],
    yearly_credits: pd.DataFrame,
    facts: dict,
    sharing: pd.DataFrame | None = None,
    lang: str = "en",
    charts: dict[str, str] | None = None,
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
        and geometry. The map's unit panel also shows ``typology``,
        ``intervention``, ``potential_tco2e_yr``, ``additionality`` and
        ``readiness`` when present; ``district_code`` or ``district`` (with
        ``province_code``) give the district outlines; a boolean ``excluded``
        column puts units left out before planning on a layer of their own.
    bundles : GeoDataFrame
        One dissolved (multi)polygon per bundle with ``bundle_id``, ``n_units``,
        ``area_ha``, ``credits_tco2e_yr``, ``cost_usd``, ``npv_usd``,
        ``cost_per_tco2e`` and ``main_intervention``; the map's bundle panel
        also shows ``start_year``, ``priority_rank``, ``province_rank`` and
        ``province_code`` when present. May be empty: the report then says
        that no bundle was selected and why.
    tables : dict of str to DataFrame
        Titled tables to show, in this order. The rows of a table with a
        ``bundle_id`` column link to the map, and the map's panel back to them.
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
    sharing : DataFrame, optional
        The benefit-sharing table (``bundle_id``, ``party``, ``amount_usd``,
        ``share``): the map's bundle panel then shows the shares by party.
    lang : str
        The page's language (a language of :mod:`bundler.i18n`, default English):
        its words, table headers and numbers. ``map.png`` has no words.
    charts : dict of str to str, optional
        Table title -> a chart's HTML (inline SVG) shown above that table.
    """
    folder = Path(folder)
    colors = bundle_colors(bundles["bundle_id"] if len(bundles) else [])
    fig = map_figure(units, bundles, colors)
    atomic_write_file(folder / "map.png", lambda p: fig.savefig(p, format="png", dpi=PNG_DPI))
    page = report_html(units, bundles, tables, yearly_credits, facts, colors, sharing, lang, charts)
    atomic_write_file(folder / "report.html", lambda p: p.write_bytes(page.encode("utf-8")))


def report_html(
    units: gpd.GeoDataFrame,
    bundles: gpd.GeoDataFrame,
    tables: dict[str, pd.DataFrame],
    yearly_credits: pd.DataFrame,
    facts: dict,
    colors: dict[str, str] | None = None,
    sharing: pd.DataFrame | None = None,
    lang: str = "en",
    charts: dict[str, str] | None = None,
) -> str:
    """The report as one self-contained HTML string (see :func:`write_report`).

    Parameters
    ----------
    units, bundles, tables, yearly_credits, facts, sharing, lang
        As for :func:`write_report`.
    colors : dict of str to str, optional
        Bundle id -> colour; by default :func:`bundle_colors` of the bundles.

    Returns
    -------
    str
    """
    if colors is None:
        colors = bundle_colors(bundles["bundle_id"] if len(bundles) else [])
    tr = translator(lang)
    _ = tr.gettext
    scenario = facts.get("scenario_name") or facts.get("scenario")
    kind = str(facts.get("report_kind", "plan"))
    titles = {
        "plan": _("Social Forestry carbon bundles: plan report"),
        "national": _("Social Forestry carbon bundles: national report"),
    }
    title = titles.get(kind) or _("Social Forestry carbon bundles: {kind} report").format(kind=kind)
    if isinstance(scenario, str) and scenario:
        title += f" ({scenario})"
    sections = [
        ("map", _("Map")),
        ("credits", _("Credits over time")),
        ("cost-curve", _("Cost curve")),
        *[(f"table-{i}", t) for i, t in enumerate(tables)],
        ("not-selected", _("Why units were not selected")),
        ("facts", _("Run facts")),
    ]
    data = map_data(units, bundles, colors, map_frame(units, bundles), sharing, lang)
    shown = {**facts, "gap": _gap_text(facts, tr)} if "gap" in facts else facts
    return (
        _templates(lang)
        .get_template("report.html.j2")
        .render(
            lang=tr.lang,
            js_locale=tr.js_locale,
            title=markup(title),
            summary=Markup(_summary_html(units, bundles, tr)),
            status=Markup(_status_html(facts, tr)),
            empty=None if len(bundles) else Markup(_empty_html(facts, tr)),
            sections=[(anchor, markup(heading)) for anchor, heading in sections],
            map_data=Markup(map_json(data)),
            map_layers=map_layers(data),
            map_aspect=f"{data['grid'][0]} / {data['grid'][1]}",
            map_colors={
                "background": MAP_BACKGROUND,
                "unselected": UNSELECTED_FILL,
                "unselected_edge": UNSELECTED_EDGE,
                "outline": BUNDLE_OUTLINE,
            },
            n_units=len(units),
            legend=_legend(bundles, colors, tr),
            credits=Markup(credits_html(yearly_credits, colors, lang)),
            cost_curve=Markup(cost_curve_html(bundles, facts, colors, lang)),
            tables=[
                (
                    markup(t),
                    Markup((charts or {}).get(t, "") + table_html(df, f"table-{i}", lang)),
                )
                for i, (t, df) in enumerate(tables.items())
            ],
            reasons=Markup(_reasons_html(units, tr)),
            facts=Markup(facts_html(shown, lang)),
        )
    )


def _legend(
    bundles: gpd.GeoDataFrame, colors: dict[str, str], tr: Translator
) -> list[tuple[Markup, str, Markup]]:
    """``(bundle id, colour, area)`` per bundle for the legend the template writes."""
    area = (
        dict(zip(bundles["bundle_id"].astype(str), bundles["area_ha"], strict=True))
        if (len(bundles) and "area_ha" in bundles)
        else {}
    )
    return [
        (
            markup(b),
            c,
            markup(fmt_num(area[b], tr.lang) if b in area and is_number(area[b]) else ""),
        )
        for b, c in colors.items()
    ]


def _gap_text(facts: dict, tr: Translator) -> str:
    """The run's gap for a reader: from its objective and bound, else the ``gap`` fact."""
    objective, bound = facts.get("objective"), facts.get("bound")
    if is_number(objective) and is_number(bound):
        return format_gap(float(objective), float(bound), tr.lang)
    gap = facts.get("gap")
    return format_relative_gap(float(gap) if is_number(gap) else None, tr.lang)


def _summary_html(units: gpd.GeoDataFrame, bundles: gpd.GeoDataFrame, tr: Translator) -> str:
    _ = tr.gettext
    n_sel = int((units["bundle_id"].fillna("").astype(str) != "").sum()) if len(units) else 0
    parts = [
        _("{n} bundle(s)").format(n=len(bundles)),
        _("{selected} of {total} units selected").format(selected=n_sel, total=len(units)),
    ]
    for col, text in (
        ("area_ha", _("{value} ha")),
        ("credits_tco2e_yr", _("{value} tCO2e/yr")),
        ("npv_usd", _("{value} USD NPV")),
    ):
        if len(bundles) and col in bundles:
            parts.append(text.format(value=fmt_num(float(bundles[col].sum()), tr.lang)))
    return f"<p>{esc('; '.join(parts))}.</p>"


def _status_number(v, lang: str) -> str:
    return fmt_num(v, lang) if is_number(v) else fact_scalar(v, lang)


def _status_html(facts: dict, tr: Translator) -> str:
    _ = tr.gettext
    term = facts.get("termination")
    solver = facts.get("solver")
    if term is None:
        text = (
            _("Termination was not reported by {solver}: the plan is not known to be optimal.")
            if solver is not None
            else _("Termination was not reported: the plan is not known to be optimal.")
        )
        return f'<p class="status notopt">{esc(text.format(solver=solver))}</p>'
    if "bound" in facts or "gap" in facts:
        detail = _("termination {termination}, bound {bound}, gap {gap}").format(
            termination=fact_scalar(term, tr.lang),
            # prose: the bound rounded like the tables (the run facts keep every digit)
            bound=_status_number(facts.get("bound"), tr.lang),
            gap=_gap_text(facts, tr),
        )
    else:
        detail = _("termination {termination}").format(termination=fact_scalar(term, tr.lang))
    if str(term) == "partial":
        cls, text = (
            "notopt",
            (
                _(
                    "Partial by {solver}: some provinces failed and are missing here; see the "
                    "provinces table."
                )
                if solver is not None
                else _(
                    "Partial: some provinces failed and are missing here; see the provinces table."
                )
            ),
        )
    elif str(term) == "optimal":
        cls, text = (
            "optimal",
            (
                _("Proven optimal by {solver} ({detail}).")
                if solver is not None
                else _("Proven optimal ({detail}).")
            ),
        )
    else:
        cls, text = (
            "notopt",
            (
                _("Not proven optimal by {solver}: {detail}. A better plan may exist.")
                if solver is not None
                else _("Not proven optimal: {detail}. A better plan may exist.")
            ),
        )
    return f'<p class="status {cls}">{esc(text.format(solver=solver, detail=detail))}</p>'


def _empty_html(facts: dict, tr: Translator) -> str:
    _ = tr.gettext
    why = facts.get("explanation")
    text = _("No bundle was selected: this plan has no carbon project.")
    if why:
        text += f" {why}"
    else:
        text += " " + _("The table “{table}” below gives each unit's reason.").format(
            table=_("Why units were not selected")
        )
    return f'<p class="empty">{esc(text)}</p>'


def _reasons_html(units: gpd.GeoDataFrame, tr: Translator) -> str:
    _ = tr.gettext
    if "reason" not in units or not len(units):
        return paragraph(_("(no units)"))
    bid = units["bundle_id"].fillna("").astype(str)
    reason = (
        units.loc[bid == "", "reason"].fillna("").astype(str).replace("", _("(no reason given)"))
    )
    if not len(reason):
        return paragraph(_("Every unit was selected."))
    counts = reason.value_counts()
    df = pd.DataFrame({"reason": counts.index, "units": counts.to_numpy()})
    if "area_ha" in units:
        ha = units.loc[bid == ""].assign(r=reason).groupby("r")["area_ha"].sum()
        df["area_ha"] = df["reason"].map(ha).to_numpy()
    df = df.sort_values(["units", "reason"], ascending=[False, True], kind="stable")
    return table_html(df.reset_index(drop=True), lang=tr.lang)
