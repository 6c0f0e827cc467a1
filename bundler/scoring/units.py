"""Unit scoring: forest-transition typology, mitigation potentials, additionality, readiness.

Every factor comes from :class:`~bundler.config.scoring.ScoringSection` (a scenario's
``[scoring]`` tables), where each default carries its source. The formulas are in the
docstring of :func:`score_units`.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from bundler.config.scoring import STREAMS, ScoringSection
from bundler.errors import InputError
from bundler.input.schema import normalize_kups, parse_bool
from bundler.text import short_list

# the per-unit areas a unit needs; they come from rasters or from columns
LAYER_COLUMNS: tuple[str, ...] = ("forest_ha_2010", "forest_ha_2020", "peat_ha", "mangrove_ha")
# the CLI's raster options, for messages
RASTER_FLAGS: dict[str, str] = {
    "forest_ha_2010": "--forest-2010",
    "forest_ha_2020": "--forest-2020",
    "peat_ha": "--peat",
    "mangrove_ha": "--mangrove",
}
TYPOLOGIES: tuple[str, ...] = ("HFLD", "HFHD", "LFHD", "LFLD", "LFND")
POTENTIAL_COLUMNS: dict[str, str] = {s: f"potential_{s}_tco2e_yr" for s in STREAMS}
# rates within this distance (%/yr) of a threshold count as on the threshold, so that
# float noise in ln(A0/A1) does not move a unit across a class boundary
RATE_EPS = 1e-9
# forest areas above the unit's area by more than this share are reported
AREA_EXCESS_TOLERANCE = 0.01
MAX_NAMED = 10


def _ids(values) -> str:
    return short_list(values, MAX_NAMED)


def _check_config(cfg: ScoringSection) -> None:
    """Consistency checks the scenario loader cannot make field by field."""
    problems: list[str] = []
    t = cfg.typology
    if t.end_year <= t.start_year:
        problems.append(
            f"scoring.typology.end_year ({t.end_year}) must be after start_year ({t.start_year})"
        )
    if t.net_gain_pct_yr >= t.high_deforestation_pct_yr:
        problems.append("scoring.typology.net_gain_pct_yr must be below high_deforestation_pct_yr")
    missing = [k for k in TYPOLOGIES if k not in t.interventions]
    unknown = [k for k in t.interventions if k not in TYPOLOGIES]
    if missing:
        problems.append(f"scoring.typology.interventions: no entry for {', '.join(missing)}")
    if unknown:
        problems.append(
            f"scoring.typology.interventions: unknown classes {', '.join(unknown)} "
            f"(known: {', '.join(TYPOLOGIES)})"
        )
    named = {i for ivs in t.interventions.values() for i in ivs} | {"rewet"}
    no_stream = sorted(named - set(t.stream_of_intervention))
    if no_stream:
        problems.append(
            "scoring.typology.stream_of_intervention: no entry for "
            f'{", ".join(no_stream)} (use "" for an intervention that earns no potential)'
        )
    for k, v in t.stream_of_intervention.items():
        if v not in (*STREAMS, ""):
            problems.append(
                f"scoring.typology.stream_of_intervention.{k}: {v!r} is not one of "
                f'{", ".join(STREAMS)} or ""'
            )
    for k, v in cfg.readiness.kups_scores.items():
        if not 0.0 <= v <= 1.0:
            problems.append(f"scoring.readiness.kups_scores.{k}: must be within 0-1, got {v}")
    a, r = cfg.additionality, cfg.readiness
    if a.threat_weight + a.legal_weight + a.financial_weight <= 0:
        problems.append("scoring.additionality: the weights must not all be 0")
    weights = (
        r.institution_weight,
        r.kups_weight,
        r.facilitator_weight,
        r.landscape_weight,
        r.households_weight,
    )
    if sum(weights) <= 0:
        problems.append("scoring.readiness: the weights must not all be 0")
    if problems:
        raise InputError("invalid [scoring] settings", problems)


def _numeric(units: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(units[col], errors="coerce").to_numpy(float)


def _fill_layers(out: pd.DataFrame, raster_areas: pd.DataFrame | None) -> list[str]:
    """Put the four layer columns into ``out``: rasters first, then columns, then 0."""
    notes: list[str] = []
    ids = out["unit_id"].astype(str)
    if raster_areas is not None:
        known = [c for c in raster_areas.columns if c in LAYER_COLUMNS]
        absent = sorted(set(ids) - set(raster_areas.index.astype(str)))
        if known and absent:
            raise InputError(
                f"raster areas: no values for units {_ids(absent)}; "
                "were they computed from this layer?"
            )
        table = raster_areas.copy()
        table.index = table.index.astype(str)
        for col in known:
            if col in out.columns:
                notes.append(f"{col}: the raster replaces the layer's column")
            out[col] = table[col].reindex(ids).to_numpy(float)
    needed = [c for c in ("forest_ha_2010", "forest_ha_2020") if c not in out.columns]
    if needed:
        flags = " and ".join(RASTER_FLAGS[c] for c in needed)
        raise InputError(
            f"units: forest cover is needed for scoring: add the column(s) "
            f"{', '.join(needed)} to the layer or pass the raster(s) {flags}"
        )
    for col in ("forest_ha_2010", "forest_ha_2020"):
        values = _numeric(out, col)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            raise InputError(
                f"units: column {col}: missing or negative values in units "
                f"{_ids(ids[bad])}; fill them or pass the raster {RASTER_FLAGS[col]}"
            )
        out[col] = values
    for col in ("peat_ha", "mangrove_ha"):
        # no peat or mangrove information means none (documented default)
        values = _numeric(out, col) if col in out.columns else np.zeros(len(out))
        out[col] = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    return notes


def deforestation_rate(
    a_start: np.ndarray, a_end: np.ndarray, years: float, min_ha: float
) -> np.ndarray:
    """Annual deforestation rate in %/yr, ``r = 100 * ln(A_start / A_end) / years``.

    Both areas are first raised to ``min_ha`` (``scoring.typology.min_forest_ha``), which
    defines the rate when an area is 0: total loss of ``A`` ha gives
    ``100 * ln(A / min_ha) / years`` (finite, high), a gain from nothing gives a negative
    rate, and no forest at either date gives 0. Positive means loss, negative net gain.

    Parameters
    ----------
    a_start, a_end : array of float
        Forest area (ha) at the start and end of the reference period.
    years : float
        Length of the reference period.
    min_ha : float
        Detection floor, ha (> 0 to keep the rate finite).
    """
    floor = max(float(min_ha), 1e-9)
    a0 = np.maximum(np.asarray(a_start, float), floor)
    a1 = np.maximum(np.asarray(a_end, float), floor)
    return 100.0 * np.log(a0 / a1) / float(years)


def classify_typology(
    cover: np.ndarray, rate: np.ndarray, scoring: ScoringSection | None = None
) -> np.ndarray:
    """Forest-transition class of each unit.

    With ``FC`` the forest cover (fraction) at the end of the reference period, ``DR``
    the deforestation rate (%/yr), ``T_FC = 0.5`` and ``T_DR = 0.22`` (da Fonseca et al.
    2007) and ``T_G = 0`` (``scoring.typology``):

    * ``FC > T_FC`` and ``DR >= T_DR``: HFHD; ``FC > T_FC`` and ``DR < T_DR``: HFLD;
    * ``FC <= T_FC`` and ``DR >= T_DR``: LFHD; ``FC <= T_FC`` and ``DR <= T_G``: LFND;
      otherwise LFLD.

    Rates within ``RATE_EPS`` of a threshold count as on it.
    """
    t = (scoring or ScoringSection()).typology
    cover = np.asarray(cover, float)
    rate = np.asarray(rate, float)
    high_fc = cover > t.high_forest_cover
    high_dr = rate >= t.high_deforestation_pct_yr - RATE_EPS
    gain = rate <= t.net_gain_pct_yr + RATE_EPS
    return np.select(
        [high_fc & high_dr, high_fc, high_dr, gain], ["HFHD", "HFLD", "LFHD", "LFND"], "LFLD"
    ).astype(object)


def emission_factor(wetland_share: np.ndarray, scoring: ScoringSection | None = None) -> np.ndarray:
    """Emissions per hectare deforested, tCO2/ha.

    ``EF = 44/12 * (s * (C_swamp - C_swamp,post) + (1 - s) * (C_upland - C_upland,post))``
    with ``C_type = (1 - d) * C_undisturbed + d * C_disturbed`` (``d`` the disturbed
    share), stocks from Agus et al. and ``s`` the wetland (peat or mangrove) share of the
    forest. Defaults: upland 146.5 MgC/ha -> 427 tCO2/ha, swamp 123 -> 348 tCO2/ha.
    """
    c = (scoring or ScoringSection()).carbon
    d = c.disturbed_share
    upland = (1 - d) * c.upland_forest_c + d * c.upland_disturbed_c
    swamp = (1 - d) * c.swamp_forest_c + d * c.swamp_disturbed_c
    ef_up = max(upland - c.upland_post_c, 0.0) * c.co2_per_c
    ef_sw = max(swamp - c.swamp_post_c, 0.0) * c.co2_per_c
    s = np.clip(np.asarray(wetland_share, float), 0.0, 1.0)
    return s * ef_sw + (1 - s) * ef_up


def _region_key(units: pd.DataFrame) -> pd.Series:
    for col in ("province_code", "province"):
        if col in units.columns:
            key = units[col].astype(object).where(units[col].notna(), "")
            return key.astype(str).str.strip()
    return pd.Series("", index=units.index)


def _legal_surplus(units: pd.DataFrame, area: np.ndarray, cfg: ScoringSection) -> np.ndarray:
    cols = [
        "conservation_ha",
        "protection_ha",
        "limited_production_ha",
        "production_ha",
        "convertible_ha",
    ]
    present = [c for c in cols if c in units.columns]
    if not present:
        return np.full(len(units), cfg.additionality.unknown_legal_surplus)
    parts = {c: np.nan_to_num(np.clip(_numeric(units, c), 0, None)) for c in present}
    protected = parts.get("conservation_ha", 0.0) + parts.get("protection_ha", 0.0)
    total = sum(parts.values())
    # decreed function areas may not add up to the polygon's area: use the larger
    denom = np.maximum(total, area)
    share = np.divide(protected, denom, out=np.zeros(len(units)), where=denom > 0)
    legal = 1.0 - np.clip(share, 0.0, 1.0)
    return np.where(total > 0, legal, cfg.additionality.unknown_legal_surplus)


def _flags(units: pd.DataFrame, col: str) -> np.ndarray:
    if col not in units.columns:
        return np.zeros(len(units), bool)
    return np.array([parse_bool(v) is True for v in units[col]], dtype=bool)


def _texts(units: pd.DataFrame, col: str) -> list[str]:
    if col not in units.columns:
        return [""] * len(units)
    return ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in units[col]]


def score_units(
    units: gpd.GeoDataFrame,
    scoring: ScoringSection | None = None,
    raster_areas: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Typology, mitigation potentials, additionality and readiness of each unit.

    Parameters
    ----------
    units : GeoDataFrame
        Validated units: ``unit_id``, ``scheme``, ``area_ha`` and optional canonical
        columns (see below). Never modified.
    scoring : ScoringSection, optional
        The factors; the defaults when omitted.
    raster_areas : DataFrame, optional
        From :func:`bundler.input.rasters.zonal_areas`, indexed by ``unit_id``. Its columns
        ``forest_ha_2010``, ``forest_ha_2020``, ``peat_ha``, ``mangrove_ha`` replace the
        layer's columns of the same name.

    Returns
    -------
    GeoDataFrame
        A copy of ``units`` with the columns below. Notes (a raster replacing a column,
        forest areas above the unit's area) are in ``.attrs["scoring_warnings"]``.

    Raises
    ------
    InputError
        When neither rasters nor the layer give both forest columns (the message names the
        columns and raster options), forest values are missing or negative, ``area_ha`` is
        missing, raster areas lack some units, or the ``[scoring]`` settings are
        inconsistent.

    Notes
    -----
    Inputs and their defaults: ``A0 = forest_ha_2010``, ``A1 = forest_ha_2020`` (required,
    both capped at ``A = area_ha``); ``peat_ha``, ``mangrove_ha`` (absent or NaN: 0). The
    reference period is ``T = end_year - start_year`` (2010-2020). Columns added:

    * ``forest_cover`` ``FC = A1 / A``;
    * ``deforestation_rate`` ``r = 100 ln(max(A0, m) / max(A1, m)) / T`` %/yr, with the
      detection floor ``m = min_forest_ha`` (see :func:`deforestation_rate`);
    * ``reference_rate`` ``r_p``: the same rate of the pooled forest of the unit's province
      (``province_code``, else ``province``; without either, the whole layer), i.e. the
      area-weighted mean rate: ``r_p = 100 ln(max(sum A0, m) / max(sum A1, m)) / T``;
    * ``typology`` from ``FC`` and ``r`` (:func:`classify_typology`); ``intervention``:
      the class's interventions (``scoring.typology.interventions``) plus ``rewet`` when
      ``peat_ha >= min_peat_ha`` (and > 0), joined with ``+``. Each intervention earns one
      potential stream (``stream_of_intervention``: protect/manage -> protect, restore ->
      arr, rewet -> peat); streams a unit's interventions do not earn are 0;
    * ``baseline_rate`` ``b = clip(max(r, f * max(r_p, 0)), 0, b_max)`` %/yr: the unit's
      own loss rate, floored by a share ``f`` of the province's rate (so HFLD units keep a
      small potential) and capped at ``b_max``;
    * ``potential_protect_tco2e_yr = A1 * b / 100 * EF * e_p``, with ``EF`` from
      :func:`emission_factor` at wetland share ``s = min(1, (peat_ha + mangrove_ha) / A)``
      (forest assumed evenly spread over the unit) and protection effectiveness ``e_p``;
    * ``potential_arr_tco2e_yr = max(A - A1, 0) * q * g``: restorable share ``q`` of the
      non-forest times the ARR sequestration rate ``g``;
    * ``potential_peat_tco2e_yr = peat_ha * u * E * 44/12 * e_w``: drained share ``u``,
      drained-peat emissions ``E`` (tC/ha/yr), rewetting effectiveness ``e_w``;
    * ``potential_tco2e_yr``: the sum; ``main_intervention``: the stream (protect, arr,
      peat) with the largest potential, first in that order on ties, ``none`` if all 0;
    * ``threat = clip(r / r_p, 0, 1)`` (when ``r_p <= 0``: 1 if ``r > 0`` else 0);
      ``legal_surplus = 1 - (protection_ha + conservation_ha) / max(sum of the five
      forest-function areas, A)``, since protection and conservation forest are already
      protected by law (no function columns, or all 0: ``unknown_legal_surplus``);
      ``financial_barrier = mean(A_h / (A_h + A), d / (d + d_h))`` with ``d =
      households / A``: smaller and poorer (more households per ha) units can less
      afford a project alone (households absent or NaN: the poverty term is
      ``unknown_poverty``, neutral 0.5);
    * ``additionality = (w_t threat + w_l legal_surplus + w_f financial_barrier) /
      (w_t + w_l + w_f)``, in 0-1; it rises with ``r`` and households and falls with
      protected share and area;
    * ``readiness = (w_i I + w_k K + w_f F + w_l L + w_h H) / (sum of the weights)``, in
      0-1: ``I`` = 1 when ``institution`` names a recognised type (LPHD, KTH,
      Gapoktanhut, ... as a whole word), ``K`` = the KUPS class score (blue .25, silver
      .5, gold .75, platinum 1, none 0), ``F`` = facilitator on site, ``L`` = a
      non-empty ``landscape_id``, ``H = h / (h + h_half)`` for ``h`` households. Absent
      columns score 0.
    """
    cfg = scoring if scoring is not None else ScoringSection()
    _check_config(cfg)
    for col in ("unit_id", "area_ha"):
        if col not in units.columns:
            raise InputError(f"units: column {col} is missing; run the layer through validation")
    out = units.copy()
    notes = _fill_layers(out, raster_areas)
    ids = out["unit_id"].astype(str).to_numpy()
    n = len(out)
    t = cfg.typology

    area = np.nan_to_num(np.clip(_numeric(out, "area_ha"), 0, None))
    raw0 = out["forest_ha_2010"].to_numpy(float)
    raw1 = out["forest_ha_2020"].to_numpy(float)
    excess = (np.maximum(raw0, raw1) > area * (1 + AREA_EXCESS_TOLERANCE)) & (area > 0)
    if excess.any():
        notes.append(
            f"forest area above the unit's area in units {_ids(ids[excess])}; capped at area_ha"
        )
    a0 = np.minimum(raw0, area)
    a1 = np.minimum(raw1, area)
    peat = np.minimum(out["peat_ha"].to_numpy(float), area)
    mangrove = np.minimum(out["mangrove_ha"].to_numpy(float), area)

    years = float(t.end_year - t.start_year)
    cover = np.divide(a1, area, out=np.zeros(n), where=area > 0)
    rate = deforestation_rate(a0, a1, years, t.min_forest_ha)
    region = _region_key(out)
    sums = pd.DataFrame({"r": region.to_numpy(), "a0": a0, "a1": a1}).groupby("r").sum()
    ref_by_region = pd.Series(
        deforestation_rate(sums["a0"], sums["a1"], years, t.min_forest_ha), index=sums.index
    )
    ref = region.map(ref_by_region).to_numpy(float)

    typology = classify_typology(cover, rate, cfg)
    has_peat = (peat > 0) & (peat >= t.min_peat_ha)
    interventions = []
    earns = {s: np.zeros(n, bool) for s in STREAMS}
    for j in range(n):
        ivs = list(t.interventions[typology[j]])
        if has_peat[j]:
            ivs.append("rewet")
        interventions.append("+".join(ivs))
        for iv in ivs:
            stream = t.stream_of_intervention.get(iv, "")
            if stream:
                earns[stream][j] = True

    p = cfg.protect
    baseline = np.clip(
        np.maximum(rate, p.province_floor_share * np.maximum(ref, 0.0)), 0.0, p.max_baseline_pct_yr
    )
    wet = np.divide(peat + mangrove, area, out=np.zeros(n), where=area > 0)
    ef = emission_factor(wet, cfg)
    protect = np.where(earns["protect"], a1 * baseline / 100.0 * ef * p.effectiveness, 0.0)
    r_cfg = cfg.restore
    arr = np.where(
        earns["arr"],
        np.maximum(area - a1, 0.0) * r_cfg.restorable_share * r_cfg.sequestration_tco2e_ha_yr,
        0.0,
    )
    pc = cfg.peat
    peat_pot = np.where(
        earns["peat"],
        peat
        * pc.drained_share
        * pc.drained_tc_ha_yr
        * cfg.carbon.co2_per_c
        * pc.rewet_effectiveness,
        0.0,
    )
    pots = np.vstack([protect, arr, peat_pot])
    total = pots.sum(axis=0)
    main = np.where(total > 0, np.array(STREAMS, dtype=object)[pots.argmax(axis=0)], "none")

    # additionality
    a = cfg.additionality
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ref > 0, rate / ref, np.where(rate > 0, 1.0, 0.0))
    threat = np.clip(np.nan_to_num(ratio), 0.0, 1.0)
    legal = _legal_surplus(out, area, cfg)
    size = a.size_half_ha / (a.size_half_ha + area)
    if "households" in out.columns:
        hh_raw = np.clip(_numeric(out, "households"), 0, None)
    else:
        hh_raw = np.full(n, np.nan)
    known = np.isfinite(hh_raw)
    hh = np.where(known, hh_raw, 0.0)
    density = np.divide(hh, area, out=np.zeros(n), where=area > 0)
    poverty = np.where(known, density / (density + a.households_half_per_ha), a.unknown_poverty)
    financial = (size + poverty) / 2.0
    w = np.array([a.threat_weight, a.legal_weight, a.financial_weight])
    additionality = (w[0] * threat + w[1] * legal + w[2] * financial) / w.sum()

    # readiness
    rd = cfg.readiness
    names = [re.escape(s.strip().upper()) for s in rd.institutions if s.strip()]
    pattern = re.compile(r"\b(" + "|".join(names) + r")\b") if names else None
    inst = np.array(
        [bool(pattern and pattern.search(s.upper())) for s in _texts(out, "institution")], float
    )
    kups_scores = {k.lower(): v for k, v in rd.kups_scores.items()}
    kups = np.array(
        [kups_scores.get(normalize_kups(v) or "", 0.0) for v in _texts(out, "kups_class")]
    )
    fac = _flags(out, "facilitator").astype(float)
    land = np.array(
        [s.strip().lower() not in ("", "nan", "none") for s in _texts(out, "landscape_id")],
        float,
    )
    hh_score = hh / (hh + rd.households_half)
    wr = np.array(
        [
            rd.institution_weight,
            rd.kups_weight,
            rd.facilitator_weight,
            rd.landscape_weight,
            rd.households_weight,
        ]
    )
    readiness = (
        wr[0] * inst + wr[1] * kups + wr[2] * fac + wr[3] * land + wr[4] * hh_score
    ) / wr.sum()

    out["forest_ha_2010"] = raw0
    out["forest_ha_2020"] = raw1
    out["forest_cover"] = cover
    out["deforestation_rate"] = rate
    out["reference_rate"] = ref
    out["typology"] = typology
    out["intervention"] = interventions
    out["baseline_rate"] = baseline
    out["potential_protect_tco2e_yr"] = protect
    out["potential_arr_tco2e_yr"] = arr
    out["potential_peat_tco2e_yr"] = peat_pot
    # the drained peat a rewetting project blocks canals on; the cost model prices
    # rewetting works on this area, not on the whole peat area
    out["rewet_ha"] = np.where(earns["peat"], peat * pc.drained_share, 0.0)
    out["potential_tco2e_yr"] = total
    out["main_intervention"] = main
    out["threat"] = threat
    out["legal_surplus"] = legal
    out["financial_barrier"] = financial
    out["additionality"] = np.clip(additionality, 0.0, 1.0)
    out["readiness"] = np.clip(readiness, 0.0, 1.0)
    out.attrs["scoring_warnings"] = notes
    return out
