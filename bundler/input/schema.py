"""Canonical column names, the ministry's field names, and scheme codes.

The ministry's PS permit layer uses Indonesian field names (``PS_ID``, ``SKEMA``,
``LUAS_SK`` ...). Everything inside ps-bundler uses the canonical English names
below; a layer may use either, and a scenario's ``[input.columns]`` table may
add or override mappings.
"""

from __future__ import annotations

# ministry field name -> canonical name. Matching is case-insensitive because
# real exports mix cases (``Luas_HK`` next to ``LUAS_HL``).
MINISTRY_FIELDS: dict[str, str] = {
    "PS_ID": "unit_id",
    "SKEMA": "scheme",
    "LEMBAGA": "institution",
    "NO_SK": "decree_no",
    "TGL_SK": "decree_date",
    "KODE_PROV": "province_code",
    "NAMA_PROV": "province",
    "KODE_KAB": "district_code",
    "NAMA_KAB": "district",
    "NAMA_KEC": "subdistrict",
    "NAMA_DESA": "village",
    "LUAS_SK": "decreed_ha",
    "LUAS_HK": "conservation_ha",
    "LUAS_HL": "protection_ha",
    "LUAS_HPT": "limited_production_ha",
    "LUAS_HP": "production_ha",
    "LUAS_HPK": "convertible_ha",
    "LUAS_POLI": "polygon_ha",
    "SHAPE_AREA": "shape_area_m2",
    "KELILING": "perimeter_km",
    "JML_KK": "households",
    "KELAS_KUPS": "kups_class",
    "PENDAMPING": "facilitator",
    "ID_LANSKAP": "landscape_id",
    # a recorded tenure conflict (yes/no, or a description of it): the unit is excluded
    "KONFLIK": "conflict",
    "SENGKETA": "conflict",
    # shapefile fields are cut to 10 characters
    "FOREST2010": "forest_ha_2010",
    "FOREST2020": "forest_ha_2020",
    "MANGROVE": "mangrove_ha",
}

# unit_id is not required: a layer without a usable key gets ids by the rule in
# bundler/input/unit_ids.py
REQUIRED_COLUMNS: tuple[str, ...] = ("scheme",)

# canonical numeric columns: they must be finite and non-negative where present.
NUMERIC_COLUMNS: tuple[str, ...] = (
    "decreed_ha",
    "conservation_ha",
    "protection_ha",
    "limited_production_ha",
    "production_ha",
    "convertible_ha",
    "polygon_ha",
    "shape_area_m2",
    "perimeter_km",
    "households",
    "forest_ha_2010",
    "forest_ha_2020",
    "peat_ha",
    "mangrove_ha",
)

FOREST_FUNCTION_COLUMNS: tuple[str, ...] = (
    "conservation_ha",
    "protection_ha",
    "limited_production_ha",
    "production_ha",
    "convertible_ha",
)

TEXT_COLUMNS: tuple[str, ...] = (
    "institution",
    "decree_no",
    "decree_date",
    "province_code",
    "province",
    "district_code",
    "district",
    "subdistrict",
    "village",
    "landscape_id",
    "kups_class",
)

SCHEMES: tuple[str, ...] = ("hutan_desa", "hkm", "htr", "kemitraan", "hutan_adat", "iphps")

# raw scheme code (upper-cased, spaces/underscores removed) -> canonical scheme
SCHEME_CODES: dict[str, str] = {
    "PPHD": "hutan_desa",
    "HD": "hutan_desa",
    "HUTANDESA": "hutan_desa",
    "PPHKM": "hkm",
    "HKM": "hkm",
    "PPHTR": "htr",
    "HTR": "htr",
    "PKK": "kemitraan",
    "KK": "kemitraan",
    "KULIN-KK": "kemitraan",
    "KULINKK": "kemitraan",
    "KEMITRAAN": "kemitraan",
    "HA": "hutan_adat",
    "HUTANADAT": "hutan_adat",
    "IPHPS": "iphps",
}

KUPS_CLASSES: tuple[str, ...] = ("blue", "silver", "gold", "platinum")

_KUPS_ALIASES = {"biru": "blue", "perak": "silver", "emas": "gold"}

_TRUE = {"true", "yes", "ya", "y", "1", "t", "ada"}
_FALSE = {"false", "no", "tidak", "n", "0", "f", "", "none", "nan", "tidak ada"}


def parse_conflict(value: object) -> tuple[bool, str]:
    """Read a ``conflict`` (``KONFLIK``) field: whether it records a conflict, and its note.

    ``True``, a non-zero number or a yes value (``yes``, ``ya``, ``true``, ``1`` ...)
    records one; an empty value or a no value (``no``, ``tidak``, ``false``, ``0`` ...)
    does not. Any other text describes the conflict: it records one, and the text is
    returned as its note (``""`` otherwise).

    Examples
    --------
    >>> parse_conflict("ya")
    (True, '')
    >>> parse_conflict("tumpang tindih dengan HGU")
    (True, 'tumpang tindih dengan HGU')
    >>> parse_conflict("tidak")
    (False, '')
    """
    flag = parse_bool(value)
    if flag is not None:
        return flag, ""
    return True, str(value).strip()


def normalize_scheme(code: object) -> str | None:
    """Map a raw scheme code to its canonical scheme name.

    Parameters
    ----------
    code : object
        The value of the ``SKEMA`` / ``scheme`` field, e.g. ``"PPHKm"``, ``"HD"``
        or an already canonical ``"hkm"``.

    Returns
    -------
    str or None
        One of :data:`SCHEMES`, or ``None`` when the code is unknown.

    Examples
    --------
    >>> normalize_scheme("PPHKm")
    'hkm'
    >>> normalize_scheme("Kulin-KK")
    'kemitraan'
    """
    if code is None:
        return None
    text = str(code).strip()
    if text.lower() in SCHEMES:
        return text.lower()
    key = text.upper().replace(" ", "").replace("_", "")
    return SCHEME_CODES.get(key)


def normalize_kups(value: object) -> str | None:
    """Map a KUPS class label (English or Indonesian, any case) to its canonical name.

    Returns ``None`` for empty values and the sentinel ``"?"`` for unknown labels.
    """
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("", "nan", "none"):
        return None
    text = _KUPS_ALIASES.get(text, text)
    return text if text in KUPS_CLASSES else "?"


def parse_bool(value: object) -> bool | None:
    """Read a yes/no field written in English or Indonesian; ``None`` if unreadable."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float):
        if value != value:  # NaN
            return False
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None
