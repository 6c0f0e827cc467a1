"""Fuzzing the two edges where user files enter: the layer reader/validator and the scenario loader.

Whatever they are given, they either succeed or raise :class:`InputError` (which the CLI turns
into one message and exit code 2). Any other exception is a bug: the CLI would report it as an
internal error (exit 1). The budget is bounded (``max_examples`` per test, no deadline); set
``PSBUNDLE_FUZZ_EXAMPLES`` to hunt longer, e.g. ``PSBUNDLE_FUZZ_EXAMPLES=2000``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundler.config.scenario import Scenario, from_dict, load_scenario, to_dict
from bundler.errors import InputError
from bundler.input.validation import ValidationReport, load_units
from tests.layers import layer, square

EXAMPLES = int(os.environ.get("PSBUNDLE_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ---------------------------------------------------------------------------------------------
# the layer reader and validator


def _valid_geojson() -> str:
    """Three 1 km squares near Sumatra in lon/lat, with the ministry's fields: a usable layer."""
    gdf = layer(
        [square(0, 0, 1000), square(1100, 0, 1000), square(3000, 0, 1000)],
        LUAS_SK=[100.0, 100.0, 100.0],
        KODE_PROV=["16", "16", "16"],
        NAMA_PROV=["Sumatera Selatan"] * 3,
        Jml_KK=[10, 20, 30],
        forest_ha_2010=[80.0, 80.0, 80.0],
        KELAS_KUPS=["gold", "blue", "silver"],
        PENDAMPING=["ya", "tidak", "ya"],
    ).to_crs("EPSG:4326")
    return gdf.to_json()


VALID_GEOJSON = _valid_geojson()
VALID_FEATURES = json.loads(VALID_GEOJSON)["features"]
PROPERTY_KEYS = sorted({k for f in VALID_FEATURES for k in f["properties"]})


def _check_outcome(path: Path, **kw) -> ValidationReport | None:
    """Run the validator: a report or an InputError, and a report's promises hold."""
    try:
        report = load_units(path, **kw)
    except InputError as exc:
        # one message that names the file
        assert str(path) in str(exc)
        return None
    assert isinstance(report, ValidationReport)
    if report.ok:
        units = report.units
        # a usable layer: unique ids, finite non-negative areas, polygonal geometry
        assert units is not None and len(units) > 0
        assert units["unit_id"].is_unique
        assert np.isfinite(units["area_ha"]).all() and (units["area_ha"] >= 0).all()
        assert set(units.geom_type) <= {"Polygon", "MultiPolygon"}
    else:
        # every problem is a message, and they become one InputError
        assert report.units is None and all(isinstance(e, str) and e for e in report.errors)
        try:
            report.raise_if_errors()
        except InputError as exc:
            assert str(path) in str(exc)
        else:
            raise AssertionError("raise_if_errors did not raise on a report with errors")
    return report


SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".csv", ".txt", "")


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_never_crash_the_reader(data, suffix):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"units{suffix}"
        path.write_bytes(data)
        _check_outcome(path)


@st.composite
def mutated_text(draw, text: str) -> str:
    """``text`` with a few characters dropped, duplicated, replaced or inserted."""
    chars = list(text)
    for _ in range(draw(st.integers(1, 6))):
        if not chars:
            break
        i = draw(st.integers(0, len(chars) - 1))
        op = draw(st.sampled_from(("drop", "dup", "replace", "insert")))
        c = draw(st.sampled_from('{}[]",:0123456789.-eE ntfaxNI\\'))
        if op == "drop":
            del chars[i]
        elif op == "dup":
            chars.insert(i, chars[i])
        elif op == "replace":
            chars[i] = c
        else:
            chars.insert(i, c)
    return "".join(chars)


@FUZZ
@given(text=mutated_text(VALID_GEOJSON))
def test_mutated_geojson_text_never_crashes_the_validator(text):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "units.geojson"
        path.write_text(text)
        _check_outcome(path)


# JSON values of every kind, including what a numeric column should never hold
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, 0.0, -0.0, "1e999", "NaN", "inf", "-1", ""]),
    st.text(max_size=12),
    st.sampled_from(["PPHD", "HKM", "ZZZ", "16", "Sumatera Selatan", "2020-01-01", "ya"]),
)
GARBAGE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


GEOMETRY_KINDS = ["Polygon", "MultiPolygon", "Point", "LineString", "MultiPoint"]
GEOMETRY_KINDS += ["GeometryCollection", "null", "keep", "Bogus"]
# a real key in another case, canonical names, names validation itself uses, junk
EXTRA_KEYS = ["ps_id", "unit_id", "scheme", "decreed_ha", "peat_ha", "geometry", "_row", "", "x"]
CRS_NAMES = ["EPSG:32748", "urn:ogc:def:crs:EPSG::4326", "EPSG:0", "bogus"]


def _coord():
    # mostly near the valid layer (104.1 E, 3.2 S), sometimes anywhere or absurd
    near = st.tuples(st.floats(104.0, 104.2), st.floats(-3.3, -3.1))
    wild = st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True))
    return st.one_of(near, near, near, wild).map(list)


@st.composite
def geometry(draw):
    kind = draw(st.sampled_from(GEOMETRY_KINDS))
    ring = st.lists(_coord(), min_size=0, max_size=6)

    def closed(r):
        return r + r[:1] if r and draw(st.booleans()) else r

    if kind == "null":
        return None
    if kind == "keep":
        return draw(st.sampled_from(VALID_FEATURES))["geometry"]
    if kind == "Point":
        return {"type": kind, "coordinates": draw(_coord())}
    if kind in ("LineString", "MultiPoint"):
        return {"type": kind, "coordinates": draw(ring)}
    if kind == "Polygon":
        return {"type": kind, "coordinates": [closed(draw(ring))]}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [[closed(draw(ring))], [closed(draw(ring))]]}
    if kind == "GeometryCollection":
        parts = [draw(geometry()) for _ in range(draw(st.integers(0, 2)))]
        return {"type": kind, "geometries": parts}
    return {"type": kind, "coordinates": draw(GARBAGE)}


@st.composite
def fuzzed_collection(draw) -> str:
    """The valid layer with random property values, keys and geometries, maybe text-mutated."""
    features = []
    for f in draw(st.lists(st.sampled_from(VALID_FEATURES), min_size=0, max_size=5)):
        props = dict(f["properties"])
        for key in draw(st.lists(st.sampled_from(PROPERTY_KEYS), max_size=4)):
            props[key] = draw(GARBAGE)
        if draw(st.booleans()):
            # a random extra key
            extra = draw(st.sampled_from(EXTRA_KEYS) | st.text(max_size=6))
            props[extra] = draw(GARBAGE)
        geom = draw(geometry()) if draw(st.booleans()) else f["geometry"]
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    doc = {"type": "FeatureCollection", "features": features}
    if draw(st.booleans()):
        doc["crs"] = {
            "type": "name",
            "properties": {"name": draw(st.sampled_from(CRS_NAMES))},
        }
    text = json.dumps(doc, allow_nan=True)
    if draw(st.integers(0, 4)) == 0:
        text = draw(mutated_text(text))
    return text


@FUZZ
@given(
    text=fuzzed_collection(),
    province=st.sampled_from([None, "16", "sumatera selatan", "Aceh", ""]),
)
def test_fuzzed_properties_and_geometries_never_crash_the_validator(text, province):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "units.geojson"
        path.write_text(text)
        _check_outcome(path, province=province)


def test_the_unfuzzed_layer_is_usable(tmp_path):
    # the seed of the fuzzers is valid, so mutations start from a layer that passes
    path = tmp_path / "units.geojson"
    path.write_text(VALID_GEOJSON)
    report = _check_outcome(path)
    assert report is not None and report.ok and len(report.units) == 3


# ---------------------------------------------------------------------------------------------
# the scenario loader


def _keys(obj, prefix=""):
    """Every dotted key of a scenario and its default value."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.update(_keys(value, prefix + f.name + "."))
        else:
            out[prefix + f.name] = value
    return out


REAL_KEYS = _keys(Scenario())
SECTIONS = sorted({k.split(".")[0] for k in REAL_KEYS if "." in k})


@st.composite
def typo(draw, word: str) -> str:
    """``word`` with one character dropped, doubled, swapped or replaced."""
    i = draw(st.integers(0, len(word) - 1))
    op = draw(st.sampled_from(("drop", "dup", "swap", "replace")))
    if op == "drop":
        return word[:i] + word[i + 1 :]
    if op == "dup":
        return word[:i] + word[i] + word[i:]
    if op == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + draw(st.sampled_from("aeiouxz_")) + word[i + 1 :]


def _assert_valid_scenario(s) -> None:
    # a valid scenario passes its own checks again: nothing out of range slipped through
    assert isinstance(s, Scenario)
    assert from_dict(to_dict(s)) == s
    for key, value in _keys(s).items():
        if isinstance(value, float):
            assert math.isfinite(value), key


# literals of every TOML type, including numbers too large for a float or for int()
TOML_LITERALS = ["1", "-1", "0", "3.5", "-2.0", "1e400", "-1e400", "inf", "-inf", "nan"]
TOML_LITERALS += ["true", "false", "[]", "{}", "0x10", "0o7", "0b1", "1_000", "'lit'"]
TOML_LITERALS += ['"npv"', '"x"', "[1, 2]", '["a", "b"]', "{ a = 1 }", '"""multi"""']
TOML_LITERALS += ["1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "9223372036854775808"]
TOML_LITERALS += ["1" + "0" * 400, "1" * 5000, "0x" + "f" * 5000]
TOML_VALUES = st.one_of(
    st.sampled_from(TOML_LITERALS),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@st.composite
def toml_text(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(st.sampled_from(sorted(REAL_KEYS)))
        section, _, name = key.rpartition(".")
        if draw(st.integers(0, 3)) == 0:
            name = draw(typo(name))
        if section and draw(st.integers(0, 5)) == 0:
            section = draw(typo(section))
        if section:
            lines.append(f"[{section}]")
        lines.append(f"{name} = {draw(TOML_VALUES)}")
    text = "\n".join(lines) + "\n"
    if draw(st.integers(0, 3)) == 0:
        text = draw(mutated_text(text)) if text.strip() else text
    return text


def _load_text(text: str):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "scenario.toml"
        path.write_text(text, encoding="utf-8")
        try:
            s = load_scenario(path)
        except InputError as exc:
            assert str(path) in str(exc)
            return None
    _assert_valid_scenario(s)
    return s


@FUZZ
@given(text=toml_text())
def test_toml_ish_scenarios_load_or_fail_with_input_error(text):
    _load_text(text)


@FUZZ
@given(text=st.text(max_size=300))
def test_random_text_scenarios_load_or_fail_with_input_error(text):
    _load_text(text)


VALUES = st.one_of(
    SCALARS,
    st.integers(-(10**400), 10**400),
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=5), SCALARS, max_size=3),
)


def same_type(default):
    """Values of the default's type: within or outside the key's range."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(-10, 10**6)
    if isinstance(default, float):
        return st.floats(-1e6, 1e6)
    if isinstance(default, str):
        return st.sampled_from([default, "npv", "credits", "max-p", "fixed", "x"])
    return st.just(default)


@st.composite
def scenario_dict(draw):
    data: dict = {}
    typos = []
    for key in draw(st.lists(st.sampled_from(sorted(REAL_KEYS)), max_size=6)):
        *parents, name = key.split(".")
        roll = draw(st.integers(0, 4))
        default = REAL_KEYS[key]
        if roll == 0:
            value = default
        elif roll == 2:
            value = draw(same_type(default))  # right type, maybe out of range
        else:
            value = draw(VALUES)
        if roll == 1 and len(name) >= 5:
            name = draw(typo(name))
            typos.append((parents, name))
        node = data
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                break
        else:
            node[name] = to_dict(value)
    if draw(st.integers(0, 5)) == 0:
        data[draw(st.sampled_from(SECTIONS))] = draw(VALUES)  # a section that is not a table
    return data, typos


def _unknown_typos(data: dict, typos: list) -> list[str]:
    """The dotted typo'd keys that are in ``data`` and are not real keys."""
    found = []
    for parents, name in typos:
        section = data
        for p in parents:
            section = section.get(p) if isinstance(section, dict) else None
        full = ".".join([*parents, name])
        if isinstance(section, dict) and name in section and full not in REAL_KEYS:
            found.append(full)
    return found


@FUZZ
@given(case=scenario_dict())
def test_random_scenario_dicts_give_a_scenario_or_input_error(case):
    data, typos = case
    unknown = _unknown_typos(data, typos)
    try:
        s = from_dict(data, origin="fuzz.toml")
    except InputError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.toml: invalid scenario")
        for full in unknown:
            # a one-character typo of a real key is named, with a suggestion
            assert f"unknown key '{full}'; did you mean" in msg, (full, msg)
        return
    # an unknown key is never accepted silently
    assert not unknown
    _assert_valid_scenario(s)
