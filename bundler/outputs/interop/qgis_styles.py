"""Default QGIS styles inside ``plan.gpkg``, so the plan opens in QGIS looking like the report.

QGIS keeps a layer's styles in the GeoPackage table ``layer_styles`` (columns ``id``,
``f_table_catalog``, ``f_table_schema``, ``f_table_name``, ``f_geometry_column``,
``styleName``, ``styleQML``, ``styleSLD``, ``useAsDefault``, ``description``, ``owner``,
``ui``, ``update_time``) and applies the row marked ``useAsDefault`` when the layer is
added. Here each layer gets one such row:

* ``bundles``: a categorized renderer on ``bundle_id``, each bundle filled with its
  colour on the report's map (:func:`bundler.outputs.report.static_map.bundle_colors`,
  imported, so the two never drift apart) and outlined in the report's outline colour;
* ``units``: the same categories, plus the empty ``bundle_id`` (units in no bundle)
  in the report's "not selected" grey. In QGIS a category with an empty value also
  takes any value no other category lists, so no unit is left undrawn.

Each row carries the style twice: as QML (QGIS) and as SLD 1.0 (GeoServer and other
tools). The table is written with :mod:`sqlite3` after GDAL has written the layers,
and registered in ``gpkg_contents`` as an attribute table, as QGIS does. Its
``update_time`` (and its ``gpkg_contents.last_change``) is ``OGR_CURRENT_DATE`` when
that is set, the variable GDAL reads for the same purpose, so that a GeoPackage
written twice with it set is the same file.
"""

from __future__ import annotations

import os
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from matplotlib.colors import to_rgba

from bundler.errors import InputError
from bundler.outputs.report.static_map import (
    BUNDLE_OUTLINE,
    UNSELECTED_EDGE,
    UNSELECTED_FILL,
    bundle_colors,
)

STYLE_TABLE = "layer_styles"
DATE_VARIABLE = "OGR_CURRENT_DATE"
FIELD = "bundle_id"
OWNER = "ps-bundler"
# outlines in millimetres on screen: bundles stand out, units stay fine-lined
BUNDLE_OUTLINE_MM = 0.46
UNIT_OUTLINE_MM = 0.1
# the report's map draws selected units with white edges
UNIT_EDGE = "#ffffff"
NOT_SELECTED = "not selected"
# QGIS's code for polygon layers (QgsWkbTypes::PolygonGeometry)
_POLYGON = "2"

# The table as QGIS creates it through OGR (QgsOgrProviderMetadata::saveStyle).
_CREATE = f"""CREATE TABLE IF NOT EXISTS {STYLE_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)"""


@dataclass(frozen=True)
class Category:
    """One value of ``bundle_id`` and how it is drawn."""

    value: str
    label: str
    fill: str
    outline: str
    outline_mm: float


@dataclass(frozen=True)
class LayerStyle:
    """One row of ``layer_styles``: a layer's default style."""

    layer: str
    qml: str
    sld: str
    description: str


def bundle_categories(bundle_ids: Iterable[str]) -> list[Category]:
    """The ``bundles`` layer's categories: each bundle in its report colour."""
    return [
        Category(b, b, colour, BUNDLE_OUTLINE, BUNDLE_OUTLINE_MM)
        for b, colour in bundle_colors(bundle_ids).items()
    ]


def unit_categories(bundle_ids: Iterable[str]) -> list[Category]:
    """The ``units`` layer's categories: units of a bundle in its colour, the rest grey."""
    selected = [
        Category(b, b, colour, UNIT_EDGE, UNIT_OUTLINE_MM)
        for b, colour in bundle_colors(bundle_ids).items()
    ]
    grey = Category("", NOT_SELECTED, UNSELECTED_FILL, UNSELECTED_EDGE, UNIT_OUTLINE_MM)
    return [*selected, grey]


def plan_styles(
    bundle_ids: Iterable[str], units_layer: str = "units", bundles_layer: str = "bundles"
) -> list[LayerStyle]:
    """The default styles of ``plan.gpkg``'s two layers.

    Parameters
    ----------
    bundle_ids : iterable of str
        Every bundle of the plan (colours follow :func:`bundle_colors` of them, as on
        the report's map).
    units_layer, bundles_layer : str
        The layer names in the GeoPackage.

    Returns
    -------
    list of LayerStyle
    """
    ids = [str(b) for b in bundle_ids]
    units, bundles = unit_categories(ids), bundle_categories(ids)
    return [
        LayerStyle(
            units_layer,
            categorized_qml(units),
            categorized_sld(units_layer, units),
            "ps-bundler: units coloured by bundle as in report.html; units in no bundle grey",
        ),
        LayerStyle(
            bundles_layer,
            categorized_qml(bundles),
            categorized_sld(bundles_layer, bundles),
            "ps-bundler: bundles coloured as in report.html",
        ),
    ]


def write_plan_styles(
    gpkg: Path,
    bundle_ids: Iterable[str],
    units_layer: str = "units",
    bundles_layer: str = "bundles",
) -> None:
    """Store :func:`plan_styles` in ``gpkg`` as each layer's default QGIS style.

    Parameters
    ----------
    gpkg : Path
        A GeoPackage whose layers are already written (in the run's scratch folder).
    bundle_ids : iterable of str
    units_layer, bundles_layer : str

    Raises
    ------
    InputError
        When ``OGR_CURRENT_DATE`` is set but is not an ISO 8601 date-time.
    """
    write_layer_styles(gpkg, plan_styles(bundle_ids, units_layer, bundles_layer))


def write_layer_styles(
    gpkg: Path, styles: Sequence[LayerStyle], environ: Mapping[str, str] | None = None
) -> None:
    """Write ``styles`` into ``gpkg``'s ``layer_styles`` table, as each layer's default.

    Rows of earlier styles of the same layers are replaced, so the table has one
    default per layer.

    Parameters
    ----------
    gpkg : Path
    styles : sequence of LayerStyle
    environ : mapping, optional
        Where to read ``OGR_CURRENT_DATE`` (default: the process environment).

    Raises
    ------
    ValueError
        When a style names a layer that is not a geometry layer of ``gpkg``.
    InputError
        When ``OGR_CURRENT_DATE`` is set but is not an ISO 8601 date-time.
    """
    stamp = style_time(os.environ if environ is None else environ)
    con = sqlite3.connect(gpkg)
    try:
        with con:  # one transaction: all rows or none
            geometry = dict(
                con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
            )
            missing = [s.layer for s in styles if s.layer not in geometry]
            if missing:
                raise ValueError(f"{gpkg}: no geometry layer {', '.join(missing)}")
            con.execute(_CREATE)
            for s in styles:
                con.execute(f"DELETE FROM {STYLE_TABLE} WHERE f_table_name = ?", (s.layer,))
                row = (s.layer, geometry[s.layer], s.layer, s.qml, s.sld, s.description)
                con.execute(
                    f"INSERT INTO {STYLE_TABLE} (f_table_catalog, f_table_schema, "
                    "f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
                    "useAsDefault, description, owner, ui, update_time) "
                    "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, ?, NULL, ?)",
                    (*row, OWNER, stamp),
                )
            # registered like any attribute table, so GDAL and QGIS list and open it
            con.execute(
                "INSERT OR REPLACE INTO gpkg_contents "
                "(table_name, data_type, identifier, description, last_change) "
                "VALUES (?, 'attributes', ?, 'default layer styles (QGIS)', ?)",
                (STYLE_TABLE, STYLE_TABLE, stamp),
            )
    finally:
        con.close()


def style_time(environ: Mapping[str, str]) -> str:
    """``update_time`` of the styles: ``OGR_CURRENT_DATE`` when set, else now (UTC).

    Raises
    ------
    InputError
        When ``OGR_CURRENT_DATE`` is set but is not an ISO 8601 date-time.
    """
    fixed = environ.get(DATE_VARIABLE)
    if fixed:
        try:
            datetime.fromisoformat(fixed)
        except ValueError:
            raise InputError(
                f"{DATE_VARIABLE}={fixed!r}: not an ISO 8601 date-time "
                "(e.g. 2025-01-01T00:00:00Z); unset it or correct it"
            ) from None
        return fixed  # as GDAL writes it into gpkg_contents
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---------------------------------------------------------------- QML


def categorized_qml(categories: Sequence[Category]) -> str:
    """A QGIS style (QML) with a categorized renderer on ``bundle_id``.

    Parameters
    ----------
    categories : sequence of Category

    Returns
    -------
    str
        A ``<qgis>`` document (symbology only) that QGIS 3 reads.
    """
    root = ET.Element("qgis", {"version": "3.28.0", "styleCategories": "Symbology"})
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        {
            "type": "categorizedSymbol",
            "attr": FIELD,
            "symbollevels": "0",
            "enableorderby": "0",
            "forceraster": "0",
            "referencescale": "-1",
        },
    )
    listed = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for k, c in enumerate(categories):
        ET.SubElement(
            listed,
            "category",
            {
                "value": c.value,
                "label": c.label,
                "symbol": str(k),
                "render": "true",
                "type": "string",
            },
        )
        symbols.append(_fill_symbol(str(k), c))
    source = ET.SubElement(renderer, "source-symbol")
    source.append(_fill_symbol("0", Category("", "", UNSELECTED_FILL, UNSELECTED_EDGE, 0.26)))
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "layerGeometryType").text = _POLYGON
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def _fill_symbol(name: str, c: Category) -> ET.Element:
    """A QGIS fill symbol: one simple-fill layer, its properties written twice (the
    ``Option`` map QGIS 3.26+ reads and the ``prop`` list older QGIS 3 reads)."""
    symbol = ET.Element(
        "symbol",
        {"type": "fill", "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    layer = ET.SubElement(
        symbol, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"}
    )
    props = {
        "color": _qgis_colour(c.fill),
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_unit": "MM",
        "outline_color": _qgis_colour(c.outline),
        "outline_style": "solid",
        "outline_width": f"{c.outline_mm:g}",
        "outline_width_unit": "MM",
        "style": "solid",
    }
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    for key, value in props.items():
        ET.SubElement(options, "Option", {"name": key, "type": "QString", "value": value})
    for key, value in props.items():
        ET.SubElement(layer, "prop", {"k": key, "v": value})
    return symbol


def _qgis_colour(colour: str) -> str:
    """``#rrggbb`` -> QGIS's ``r,g,b,a`` (0-255 each)."""
    return ",".join(str(round(v * 255)) for v in to_rgba(colour))


# ---------------------------------------------------------------- SLD


def categorized_sld(layer: str, categories: Sequence[Category]) -> str:
    """The same style as an OGC SLD 1.0 document, one rule per category.

    The category with an empty value becomes the ``ElseFilter`` rule, as in QGIS
    (it takes every feature no other rule takes, empty ``bundle_id`` included).
    """
    root = ET.Element(
        "StyledLayerDescriptor",
        {
            "version": "1.0.0",
            "xmlns": "http://www.opengis.net/sld",
            "xmlns:ogc": "http://www.opengis.net/ogc",
            "xmlns:xlink": "http://www.w3.org/1999/xlink",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:schemaLocation": "http://www.opengis.net/sld "
            "http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd",
        },
    )
    named = ET.SubElement(root, "NamedLayer")
    ET.SubElement(named, "Name").text = layer
    style = ET.SubElement(named, "UserStyle")
    ET.SubElement(style, "Name").text = layer
    feature_style = ET.SubElement(style, "FeatureTypeStyle")
    for c in categories:
        rule = ET.SubElement(feature_style, "Rule")
        ET.SubElement(rule, "Name").text = c.label
        ET.SubElement(rule, "Title").text = c.label
        if c.value:
            where = ET.SubElement(ET.SubElement(rule, "ogc:Filter"), "ogc:PropertyIsEqualTo")
            ET.SubElement(where, "ogc:PropertyName").text = FIELD
            ET.SubElement(where, "ogc:Literal").text = c.value
        else:
            ET.SubElement(rule, "ElseFilter")
        symbolizer = ET.SubElement(rule, "PolygonSymbolizer")
        fill = ET.SubElement(symbolizer, "Fill")
        ET.SubElement(fill, "CssParameter", {"name": "fill"}).text = c.fill
        stroke = ET.SubElement(symbolizer, "Stroke")
        ET.SubElement(stroke, "CssParameter", {"name": "stroke"}).text = c.outline
        # SLD widths are in pixels: about 3.8 px per mm at 96 dpi
        width = f"{max(c.outline_mm * 96 / 25.4, 0.5):.1f}"
        ET.SubElement(stroke, "CssParameter", {"name": "stroke-width"}).text = width
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
