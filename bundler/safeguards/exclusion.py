"""Safeguards: the units left out before planning, and why.

A unit is excluded when

* more than ``[safeguards] max_overlap_share`` of its area lies under the polygons of an
  exclusion layer (the layer's polygons are merged first, so an area they share counts
  once), or
* a point of an exclusion layer lies inside it or on its boundary, or
* (``[safeguards] conflict_column``, on by default) the layer's ``conflict`` column
  (``KONFLIK``) records a tenure conflict.

:func:`apply_safeguards` adds the columns below to the units; planning locks excluded
units out before any problem is built (:mod:`bundler.planning.problem_builder`) and the
verifier checks that no bundle holds one (:mod:`bundler.planning.verify`).

Columns (only when a layer is given or the units have a ``conflict`` column):
``excluded`` (bool), ``excluded_by`` (the labels of what excludes it, ``;``-joined; the
``conflict`` column is ``conflict``), ``exclusion_share`` (0-1: the largest share of its
area under one layer's polygons, excluded or not), ``exclusion_points`` (the layers' points
inside it) and ``exclusion_reason`` (the reason, in the scenario's ``report.lang``; a plan
writes it as the unit's ``reason``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bundler.config.scenario import Scenario
from bundler.i18n.catalogue import Translator, translator
from bundler.i18n.languages import N_
from bundler.safeguards.layers import NoGoLayer, read_no_go_layers

EXCLUDED = "excluded"
EXCLUDED_BY = "excluded_by"
SHARE = "exclusion_share"
POINTS = "exclusion_points"
REASON = "exclusion_reason"
COLUMNS = (EXCLUDED, EXCLUDED_BY, SHARE, POINTS, REASON)
# what excluded_by calls the layer's own conflict column
CONFLICT_LABEL = "conflict"
# the reason of a unit marked excluded without one (a table made by hand)
REASON_EXCLUDED = N_("excluded before planning")


@dataclass
class Safeguards:
    """Units with the safeguards' columns, and what ``run.json`` records of them.

    Attributes
    ----------
    units : GeoDataFrame
    record : dict
        ``max_overlap_share``, ``conflict_column`` (whether the units' conflict column
        was used), ``conflict_units_excluded`` and ``layers``: per layer ``label``,
        ``path``, ``sha256``, ``features``, ``polygons``, ``points``, ``units_excluded``.
    inputs : dict
        ``exclude_<label> -> {"path", "sha256"}`` per layer, for ``run.json``'s inputs.
    warnings : list of str
    """

    units: gpd.GeoDataFrame
    record: dict
    inputs: dict[str, dict] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def apply_safeguards(
    units: gpd.GeoDataFrame, scenario: Scenario, layers: list[NoGoLayer] | None = None
) -> Safeguards:
    """Mark the units that the scenario's safeguards exclude (see the module's docstring).

    Parameters
    ----------
    units : GeoDataFrame
        Validated units in the working CRS.
    scenario : Scenario
        ``[safeguards]`` and the reasons' language ``report.lang``.
    layers : list of NoGoLayer, optional
        Already read; by default ``scenario.safeguards.exclude`` is read.

    Returns
    -------
    Safeguards

    Raises
    ------
    InputError
        When an exclusion layer cannot be used (:mod:`bundler.safeguards.layers`).
    """
    rules = scenario.safeguards
    # columns of an earlier run (a plan.gpkg read back) say nothing about this one
    units = units.drop(columns=[c for c in COLUMNS if c in units.columns])
    if layers is None:
        layers = read_no_go_layers(rules.exclude, units.crs) if rules.exclude else []
    use_conflict = bool(rules.conflict_column and "conflict" in units.columns)
    record: dict = {
        "max_overlap_share": rules.max_overlap_share,
        "conflict_column": use_conflict,
        "layers": [],
    }
    if not layers and not use_conflict:
        return Safeguards(units, record)
    n = len(units)
    geoms = np.asarray(units.geometry.values, dtype=object)
    area = shapely.area(geoms)
    shares = np.zeros((n, len(layers)))
    counts = np.zeros((n, len(layers)), dtype=int)
    for k, layer in enumerate(layers):
        shares[:, k] = overlap_shares(geoms, layer.polygons, area)
        counts[:, k] = point_counts(geoms, layer.points)
    by_layer = (shares > rules.max_overlap_share) | (counts > 0)
    conflict = (
        units["conflict"].fillna(False).astype(bool).to_numpy() if use_conflict else np.zeros(n)
    ).astype(bool)
    excluded = by_layer.any(axis=1) | conflict
    notes = (
        units["conflict_note"].fillna("").astype(str).to_numpy()
        if "conflict_note" in units.columns
        else np.full(n, "", dtype=object)
    )
    tr = translator(scenario.report.lang)
    labels = [layer.label for layer in layers]
    by = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    for i in np.flatnonzero(excluded):
        names = [labels[k] for k in np.flatnonzero(by_layer[i])]
        by[i] = ";".join(names + ([CONFLICT_LABEL] if conflict[i] else []))
        reason[i] = _reason(
            [(labels[k], shares[i, k], counts[i, k]) for k in np.flatnonzero(by_layer[i])],
            rules.max_overlap_share,
            conflict[i],
            notes[i],
            tr,
        )
    units[EXCLUDED] = excluded
    units[EXCLUDED_BY] = by
    units[SHARE] = shares.max(axis=1) if layers else np.zeros(n)
    units[POINTS] = counts.sum(axis=1)
    units[REASON] = reason

    warnings = [w for layer in layers for w in layer.warnings]
    for k, layer in enumerate(layers):
        record["layers"].append({**layer.record(), "units_excluded": int(by_layer[:, k].sum())})
        if not (shares[:, k] > 0).any() and not (counts[:, k] > 0).any():
            warnings.append(
                f"exclusion layer {layer.path} ({layer.label!r}): none of its {layer.features} "
                "feature(s) touches a unit; check that it covers the units' area and that its "
                "CRS is right"
            )
    if use_conflict:
        record["conflict_units_excluded"] = int(conflict.sum())
    inputs = {
        f"exclude_{layer.label}": {"path": layer.path, "sha256": layer.sha256} for layer in layers
    }
    return Safeguards(units, record, inputs, warnings)


def _reason(hits, limit: float, conflict: bool, note: str, tr: Translator) -> str:
    """Why a unit is excluded: each layer that excludes it with its overlap, and a conflict."""
    _ = tr.gettext
    parts = []
    for label, share, count in hits:
        if share > limit:
            parts.append(
                _("overlaps '{layer}' by {share} of its area (more than {limit})").format(
                    layer=label, share=tr.percent(share, 1), limit=_percent_limit(limit, tr)
                )
            )
        if count:
            parts.append(_("contains {n} point(s) of '{layer}'").format(n=int(count), layer=label))
    if conflict:
        parts.append(
            _("the layer's conflict column records a tenure conflict: '{note}'").format(note=note)
            if note
            else _("the layer's conflict column records a tenure conflict")
        )
    return _("excluded: {what}").format(what="; ".join(parts))


def _percent_limit(limit: float, tr: Translator) -> str:
    """``max_overlap_share`` as a percentage with no more decimals than it has (``10%``)."""
    return tr.significant(limit * 100, 6) + "%"


def overlap_shares(
    geoms: np.ndarray, polygons: np.ndarray, area: np.ndarray | None = None
) -> np.ndarray:
    """The share (0-1) of each geometry's area under the union of ``polygons``.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
        The units, in a metric equal-area CRS.
    polygons : ndarray of shapely polygons
        Valid, in the same CRS; where they overlap each other the area counts once.
    area : ndarray, optional
        The units' areas, when already known.
    """
    n = len(geoms)
    covered = np.zeros(n)
    area = shapely.area(geoms) if area is None else np.asarray(area, float)
    if not n or not len(polygons):
        return covered
    unit, poly = shapely.STRtree(polygons).query(geoms, predicate="intersects")
    if not len(unit):
        return covered
    order = np.argsort(unit, kind="stable")
    unit, poly = unit[order], poly[order]
    pieces = shapely.intersection(geoms[unit], polygons[poly])
    ids, first, hits = np.unique(unit, return_index=True, return_counts=True)
    single = hits == 1
    covered[ids[single]] = shapely.area(pieces[first[single]])
    for u, start, k in zip(ids[~single], first[~single], hits[~single], strict=True):
        covered[u] = shapely.area(shapely.union_all(pieces[start : start + k]))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area > 0, covered / area, 0.0)
    return np.clip(share, 0.0, 1.0)


def point_counts(geoms: np.ndarray, points: np.ndarray) -> np.ndarray:
    """How many of ``points`` lie inside each geometry or on its boundary."""
    n = len(geoms)
    if not n or not len(points):
        return np.zeros(n, dtype=int)
    unit, _ = shapely.STRtree(points).query(geoms, predicate="intersects")
    return np.bincount(unit, minlength=n).astype(int)


def excluded_mask(units: pd.DataFrame) -> np.ndarray:
    """True for the units marked ``excluded`` (none when the column is absent)."""
    if EXCLUDED not in units.columns:
        return np.zeros(len(units), dtype=bool)
    return units[EXCLUDED].fillna(False).astype(bool).to_numpy()


def exclusion_reasons(units: pd.DataFrame, tr: Translator) -> np.ndarray:
    """Each unit's exclusion reason (``exclusion_reason``; a generic one when it is empty)."""
    given = (
        units[REASON].fillna("").astype(str).to_numpy()
        if REASON in units.columns
        else np.full(len(units), "", dtype=object)
    )
    return np.where(given != "", given, tr.gettext(REASON_EXCLUDED)).astype(object)


def excluded_table(units: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The report's "Excluded units": ``unit_id``, ``excluded_by``, ``overlap``, ``reason``.

    ``overlap`` is the largest share of the unit's area under one layer's polygons (a
    percentage) and the number of the layers' points inside it, written for ``lang``;
    ``reason`` is the unit's ``reason`` (else its ``exclusion_reason``).
    """
    mask = excluded_mask(units)
    cols = ["unit_id", EXCLUDED_BY, "overlap", "reason"]
    if not mask.any():
        return pd.DataFrame(columns=cols)
    tr = translator(lang)
    rows = units.loc[mask]
    share = _column(rows, SHARE, 0.0)
    points = _column(rows, POINTS, 0)
    overlap = []
    for s, p in zip(share, points, strict=True):
        parts = [tr.percent(float(s), 1)] if s > 0 else []
        if p > 0:
            parts.append(tr.gettext("{n} point(s)").format(n=int(p)))
        overlap.append("; ".join(parts))
    reason = rows["reason"] if "reason" in rows.columns else rows.get(REASON)
    return pd.DataFrame(
        {
            "unit_id": rows["unit_id"].astype(str).to_numpy(),
            EXCLUDED_BY: rows[EXCLUDED_BY].fillna("").astype(str).to_numpy()
            if EXCLUDED_BY in rows.columns
            else "",
            "overlap": overlap,
            "reason": (
                reason.fillna("").astype(str).to_numpy()
                if reason is not None
                else exclusion_reasons(rows, tr)
            ),
        },
        columns=cols,
    )


def _column(frame: pd.DataFrame, name: str, default) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), default)
    return pd.to_numeric(frame[name], errors="coerce").fillna(default).to_numpy()
