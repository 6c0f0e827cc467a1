"""Text of the report: escaping, numbers as people read them, tables and run facts.

Every piece of text that goes into ``report.html`` passes through :func:`esc`
(``html.escape``), so the template receives ready, escaped markup. Numbers are
written for the page's language (``lang``, see :mod:`bundler.i18n`), and so are
the tables' headers (:func:`bundler.outputs.report.labels.column_label`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from markupsafe import Markup

from bundler.i18n.catalogue import translator
from bundler.outputs.report.labels import column_label

# the column whose cells link a table row to the map (and the map's panel back to the row)
BUNDLE_COLUMN = "bundle_id"


def table_html(df: pd.DataFrame, table_id: str | None = None, lang: str = "en") -> str:
    """An HTML table of ``df`` with every header and cell escaped.

    A meaningful index (anything but a plain 0..n-1 range) becomes the first
    column(s). Numbers are right-aligned and given thousands separators.

    Parameters
    ----------
    df : DataFrame
    table_id : str, optional
        With it, and when ``df`` has a ``bundle_id`` column, each row gets the
        id ``<table_id>-r<n>`` (n from 0) and ``data-bundle``, and its bundle
        id becomes a link that selects the bundle on the interactive map (whose
        panel links back to the row).
    lang : str
        The language of the headers and numbers: a known column's header is its
        label in that language (the column's name, as in the CSV files, in English),
        with the name in its ``title``.

    Returns
    -------
    str
    """
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    if df.empty:
        return paragraph(translator(lang).gettext("(no rows)"))
    cols = [" / ".join(str(p) for p in c) if isinstance(c, tuple) else str(c) for c in df.columns]
    head = "".join(_header(c, lang) for c in cols)
    link_at = cols.index(BUNDLE_COLUMN) if table_id and BUNDLE_COLUMN in cols else None
    rows = []
    for n, rec in enumerate(df.itertuples(index=False, name=None)):
        cells = []
        for i, v in enumerate(rec):
            if i == link_at and fmt_cell(v):
                b = esc(fmt_cell(v))
                cells.append(f'<td><a href="#map" class="to-map" data-bundle="{b}">{b}</a></td>')
            elif is_number(v):
                cells.append(f'<td class="num">{esc(fmt_num(v, lang))}</td>')
            else:
                cells.append(f"<td>{esc(fmt_cell(v))}</td>")
        if link_at is not None and fmt_cell(rec[link_at]):
            attrs = f' id="{esc(table_id)}-r{n}" data-bundle="{esc(fmt_cell(rec[link_at]))}"'
        else:
            attrs = ""
        rows.append(f"<tr{attrs}>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _header(column: str, lang: str) -> str:
    label = column_label(column, lang)
    title = f' title="{esc(column)}"' if label != column else ""
    return f'<th scope="col"{title}>{esc(label)}</th>'


def facts_html(facts: dict, lang: str = "en") -> str:
    """Run facts as a definition list, values exactly as given (nested dicts nest).

    Parameters
    ----------
    facts : dict
    lang : str
        The language of the words around the facts and of numbers' decimal sign;
        keys and texts are shown as given.

    Returns
    -------
    str
    """
    if not facts:
        return paragraph(translator(lang).gettext("(no facts recorded)"))
    items = "".join(f"<dt>{esc(k)}</dt><dd>{_fact_value(v, lang)}</dd>" for k, v in facts.items())
    return f'<dl class="facts">{items}</dl>'


def _fact_value(v, lang: str) -> str:
    if isinstance(v, dict):
        return facts_html(v, lang)
    if isinstance(v, list | tuple):
        if v and all(isinstance(x, dict) for x in v):
            return table_html(pd.DataFrame(list(v)), lang=lang)
        if any(isinstance(x, str) and len(x) > 40 for x in v):  # sentences, e.g. warnings
            return "<ul>" + "".join(f"<li>{esc(str(x))}</li>" for x in v) + "</ul>"
        if not v:
            return esc(translator(lang).gettext("(none)"))
        return esc(", ".join(fact_scalar(x, lang) for x in v))
    return esc(fact_scalar(v, lang))


def fact_scalar(v, lang: str = "en") -> str:
    """A fact's value as text: ``none`` for None, else ``str`` (a float's shortest repr).

    In another language than English, ``none`` is that language's word and a
    number's decimal point its decimal sign (every digit kept).
    """
    tr = translator(lang)
    if v is None:
        return tr.gettext("none")
    if is_number(v):
        # str() of a float is its shortest round-trip repr: the value exactly as given
        return tr.exact(v)
    return str(v)


def is_number(v) -> bool:
    """True for an int or a finite-or-infinite float that is not NaN (bools are not numbers)."""
    return (
        isinstance(v, int | float | np.integer | np.floating)
        and not isinstance(v, bool | np.bool_)
        and not (isinstance(v, float | np.floating) and math.isnan(v))
    )


def fmt_num(v, lang: str = "en") -> str:
    """A number for a table: thousands separators; 2 decimals from 1, 3 significant below.

    Written for the locale of ``lang`` (``1,234.50`` in English, ``1.234,50`` in Indonesian).
    """
    return translator(lang).number(v)


def fmt_cell(v) -> str:
    """A table cell that is not a number: empty for missing values, lists joined by ``; ``."""
    if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
        return ""
    if isinstance(v, Sequence) and not isinstance(v, str):
        return "; ".join(map(str, v))
    return str(v)


def esc(s) -> str:
    """``str(s)`` escaped for HTML text and attribute values (``html.escape``)."""
    return html.escape(str(s), quote=True)


def paragraph(text) -> str:
    """``text`` escaped, as a paragraph."""
    return f"<p>{esc(text)}</p>"


def markup(s) -> Markup:
    """``s`` escaped as everywhere in the report (``html.escape``), for the template."""
    return Markup(esc(s))
