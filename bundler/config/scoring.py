"""Scenario section for unit scoring: every factor with its source.

The defaults come from ``docs/domain.md`` (policy brief, da Fonseca et al. 2007,
Agus et al., Basuki et al. 2022, Hergoualc'h & Verchot 2011, IPCC 2013 Wetlands
Supplement); values marked *assumed* are reasonable defaults, not facts. Each
field's metadata carries its source, so ``scenarios/default.toml`` and
:func:`bundler.config.scenario.field_sources` can list them.

Orders of magnitude of the defaults (see :mod:`bundler.scoring.units` for the formulas):

* protection: a unit with 75% forest cover losing 0.6%/yr of it, on mineral soil,
  gets ``0.75 * 0.006 * 427 tCO2/ha * 1.0 = 1.9 tCO2e/ha/yr`` over its whole area;
  the brief's national figure is 10.23 Mt over 5.5 Mha, i.e. 1.9 t/ha/yr (about
  2.9 t per ha of forest, i.e. 0.7%/yr of loss at 427 tCO2/ha).
* restoration: ``4.5 tCO2e/ha/yr * 0.7`` restorable = 3.2 t per ha of non-forest.
* peat: ``19.4 tCO2/ha/yr * 0.3`` drained ``* 0.5`` avoided = 2.9 t per ha of peat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bundler.config.fields import number as _num

# typology class -> interventions (the brief's forest-transition table)
DEFAULT_INTERVENTIONS: dict[str, tuple[str, ...]] = {
    "HFLD": ("protect",),
    "HFHD": ("protect", "manage"),
    "LFHD": ("manage", "restore"),
    "LFLD": ("restore",),
    "LFND": ("restore",),
}

# the potential (credit) streams, in the order of every table and column list
STREAMS: tuple[str, ...] = ("protect", "arr", "peat")

# intervention -> the potential stream it earns ("" = none)
DEFAULT_STREAMS: dict[str, str] = {
    "protect": "protect",
    # improved management, reduced-impact logging and regenerative agriculture are
    # credited for the forest loss they avoid, i.e. the same stream as protection
    "manage": "protect",
    "restore": "arr",
    "rewet": "peat",
}

# recognised permit-holder institution types (upper case, matched as whole words)
DEFAULT_INSTITUTIONS: tuple[str, ...] = (
    "LPHD",  # Lembaga Pengelola Hutan Desa (village forest)
    "KTH",  # Kelompok Tani Hutan (forest farmer group)
    "GAPOKTANHUT",  # Gabungan Kelompok Tani Hutan (federation of KTH)
    "KOPERASI",  # cooperative
    "LMDH",  # Lembaga Masyarakat Desa Hutan (Java partnerships, IPHPS)
    "MHA",  # Masyarakat Hukum Adat (customary community)
    "LPHA",  # Lembaga Pengelola Hutan Adat
)

DEFAULT_KUPS_SCORES: dict[str, float] = {
    "blue": 0.25,
    "silver": 0.50,
    "gold": 0.75,
    "platinum": 1.00,
}

AGUS = "Agus et al. (RSPO review)"


@dataclass(frozen=True)
class TypologySection:
    """Forest-transition typology, reference period and the interventions per class."""

    high_forest_cover: float = _num(
        0.50, hi=1.0, source="da Fonseca et al. 2007: HFLD means forest cover > 50%"
    )
    high_deforestation_pct_yr: float = _num(
        0.22, hi=100.0, source="da Fonseca et al. 2007: HFLD means deforestation < 0.22%/yr"
    )
    net_gain_pct_yr: float = _num(
        0.0,
        lo=-100.0,
        hi=100.0,
        source="assumed: low-forest units at or below this rate are LFND (no loss or net gain)",
    )
    start_year: int = _num(
        2010, lo=1900, hi=2100, source="brief: forest cover 2010-2020 as the baseline"
    )
    end_year: int = _num(2020, lo=1900, hi=2100, source="brief: forest cover 2010-2020")
    min_forest_ha: float = _num(
        1.0,
        source="assumed: forest areas below ~1 ha (11 Landsat pixels) are mapping noise; "
        "rates use max(area, this)",
    )
    interventions: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_INTERVENTIONS),
        metadata={"source": "brief: forest-transition phase -> intervention table"},
    )
    stream_of_intervention: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_STREAMS),
        metadata={
            "source": "assumed: protect and manage earn avoided emissions, restore earns "
            "ARR, rewet earns the peat stream"
        },
    )
    min_peat_ha: float = _num(
        1.0, source="assumed: less peat than this in a unit is a mapping edge effect"
    )


@dataclass(frozen=True)
class CarbonSection:
    """Carbon stocks (above-ground, MgC/ha) that make the deforestation emission factor."""

    upland_forest_c: float = _num(189.0, source=AGUS + ": undisturbed upland forest")
    upland_disturbed_c: float = _num(104.0, source=AGUS + ": disturbed upland forest")
    swamp_forest_c: float = _num(162.0, source=AGUS + ": undisturbed swamp forest")
    swamp_disturbed_c: float = _num(84.0, source=AGUS + ": disturbed swamp forest")
    disturbed_share: float = _num(
        0.2,
        hi=1.0,
        source="assumed: a fifth of the natural forest left in PS permits is logged-over; "
        "calibrated with restore.restorable_share and peat.drained_share so that a "
        "generated national layer gives the brief's 61/25/15% split",
    )
    upland_post_c: float = _num(30.0, source=AGUS + ": shrub, the land cover after clearing")
    swamp_post_c: float = _num(28.0, source=AGUS + ": swamp shrub")
    co2_per_c: float = _num(44.0 / 12.0, lo=0.0, source="molar mass ratio CO2/C = 44/12")


@dataclass(frozen=True)
class ProtectSection:
    """Avoided deforestation: baseline rate and effectiveness."""

    effectiveness: float = _num(
        1.0,
        hi=1.0,
        source="assumed: the potential is the whole avoided baseline emission, as in the "
        "brief's Table 1; credits are discounted later by additionality, buffer, leakage "
        "and uncertainty ([economics])",
    )
    province_floor_share: float = _num(
        0.25,
        hi=1.0,
        source="assumed: the baseline rate is at least this share of the province's rate, "
        "so that HFLD units keep a small protection potential",
    )
    max_baseline_pct_yr: float = _num(
        5.0,
        hi=100.0,
        source="assumed: cap on the projected rate, so that a unit that lost most of "
        "its forest does not project that rate onto its remnant",
    )


@dataclass(frozen=True)
class RestoreSection:
    """Afforestation, reforestation and revegetation (ARR)."""

    sequestration_tco2e_ha_yr: float = _num(
        4.5,
        source="Basuki et al. 2022: 4.5-40.7 tCO2e/ha/yr, tropical ARR, first 20 years; "
        "the low end (conservative)",
    )
    restorable_share: float = _num(
        0.35,
        hi=1.0,
        source="assumed: about a third of the non-forest land in a permit is degraded land "
        "open to replanting; the rest is agroforestry, farmland, settlement or roads",
    )


@dataclass(frozen=True)
class PeatSection:
    """Peat rewetting."""

    drained_tc_ha_yr: float = _num(
        5.3,
        source="IPCC 2013 Wetlands Supplement, Tier 1, drained tropical forest on peat "
        "(5.3 tC/ha/yr; acacia 20); Hergoualc'h & Verchot 2011 give ~59 tCO2/ha/yr "
        "for converted peat swamp forest",
    )
    drained_share: float = _num(
        0.4, hi=1.0, source="assumed: share of a unit's peat that is drained by canals"
    )
    rewet_effectiveness: float = _num(
        0.5, hi=1.0, source="assumed: rewetting avoids half of the drained-peat emissions"
    )


@dataclass(frozen=True)
class AdditionalitySection:
    """Weights and scales of the additionality score (0-1)."""

    threat_weight: float = _num(
        0.4, source="assumed: deforestation threat relative to the province"
    )
    legal_weight: float = _num(
        0.3, source="assumed: surplus over legal protection (protection + conservation forest)"
    )
    financial_weight: float = _num(
        0.3, source="assumed: financial barrier (unit size and households per ha)"
    )
    size_half_ha: float = _num(
        1_000.0,
        lo=1e-6,
        source="assumed: size barrier halves at 1,000 ha (brief: the average PS unit is "
        "under 1,000 ha)",
    )
    households_half_per_ha: float = _num(
        0.2, lo=1e-9, source="assumed: poverty proxy reaches 0.5 at 0.2 households per ha"
    )
    unknown_legal_surplus: float = _num(
        0.5, hi=1.0, source="assumed: neutral when no forest-function areas are given"
    )
    unknown_poverty: float = _num(
        0.5, hi=1.0, source="assumed: neutral poverty term when households are not given"
    )


@dataclass(frozen=True)
class ReadinessSection:
    """Weights and scales of the institutional readiness score (0-1)."""

    institution_weight: float = _num(0.20, source="assumed")
    kups_weight: float = _num(0.25, source="assumed")
    facilitator_weight: float = _num(
        0.25, source="assumed: the brief names a facilitator on site as a criterion"
    )
    landscape_weight: float = _num(
        0.15, source="assumed: membership of a landscape or IAD area (brief: 48 IAD landscapes)"
    )
    households_weight: float = _num(0.15, source="assumed")
    households_half: float = _num(
        50.0, lo=1e-9, source="assumed: household score reaches 0.5 at 50 households"
    )
    kups_scores: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_KUPS_SCORES),
        metadata={"source": "assumed: the four KUPS grades evenly spaced, blue .25 ... platinum 1"},
    )
    institutions: tuple[str, ...] = field(
        default=DEFAULT_INSTITUTIONS,
        metadata={"source": "ministry permit-holder institution types (LEMBAGA field)"},
    )


@dataclass(frozen=True)
class ScoringSection:
    """Everything :func:`bundler.scoring.units.score_units` uses."""

    typology: TypologySection = field(default_factory=TypologySection)
    carbon: CarbonSection = field(default_factory=CarbonSection)
    protect: ProtectSection = field(default_factory=ProtectSection)
    restore: RestoreSection = field(default_factory=RestoreSection)
    peat: PeatSection = field(default_factory=PeatSection)
    additionality: AdditionalitySection = field(default_factory=AdditionalitySection)
    readiness: ReadinessSection = field(default_factory=ReadinessSection)
