"""Scenario files: every tunable value of a run, with defaults and their sources.

A scenario is a TOML file whose tables mirror the dataclasses below. Any value
left out keeps its default; an unknown key, a wrong type or an out-of-range
value is an :class:`~bundler.errors.InputError` that names the file and key
(with a suggestion when the key looks like a typo). ``scenarios/default.toml``
lists every key with its default and source.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundler.config.economics import BundlingSection, EconomicsSection
from bundler.config.fields import number as _num
from bundler.config.scoring import ScoringSection
from bundler.config.sharing import BenefitSharingSection, ScheduleSection
from bundler.errors import InputError
from bundler.i18n.languages import LANGUAGES


@dataclass(frozen=True)
class InputSection:
    """How a layer is read."""

    # extra or overriding field-name mappings: raw name -> canonical name
    columns: dict[str, str] = field(default_factory=dict)
    # layer name inside multi-layer files (GeoPackage); empty means the first
    layer: str = ""
    # the column that is the permit key (its values must be unique); empty means the
    # layer's PS_ID / unit_id, made unique by the rule in bundler/input/unit_ids.py if needed
    id_column: str = ""


@dataclass(frozen=True)
class ValidationSection:
    """Tolerances of the validation step."""

    # |decreed - polygon| / decreed above this is reported
    area_tolerance: float = _num(0.10, hi=10.0, source="assumed: 10% flags digitising errors")
    # overlaps smaller than this are ignored as sliver noise
    min_overlap_ha: float = _num(0.01, source="assumed")


@dataclass(frozen=True)
class GraphSection:
    """Which units are neighbours."""

    max_gap_m: float = _num(
        1000.0,
        source="assumed: 1 km lets units split by a road or river be bundled; 0 means touching",
    )
    landscape_edges: bool = True


@dataclass(frozen=True)
class ExclusionLayer:
    """One no-go layer of ``[safeguards] exclude``: a vector file and its label.

    A relative ``path`` in a scenario file is relative to that file's folder.
    """

    path: str = ""
    # named in the reasons of the units it excludes; empty means the file's stem
    label: str = ""


@dataclass(frozen=True)
class SafeguardsSection:
    """Units left out before planning: no-go layers and recorded tenure conflicts.

    A unit is excluded when more than ``max_overlap_share`` of its area lies under the
    polygons of an ``exclude`` layer, when it holds a point of one, or (with
    ``conflict_column``) when the layer's ``conflict`` column (``KONFLIK``) records one.
    """

    # recorded tenure conflicts, concessions or other no-go areas (polygons or points)
    exclude: tuple[ExclusionLayer, ...] = field(
        default=(),
        metadata={
            "source": 'none by default; e.g. [{ path = "konflik.gpkg", label = "konflik" }], '
            "a path relative to the scenario file; --exclude FILE[:LABEL] adds layers"
        },
    )
    max_overlap_share: float = _num(
        0.1,
        hi=1.0,
        source="assumed: more than 10% of a unit's area in a no-go area rules it out; "
        "smaller overlaps are mostly boundary mismatch between independently digitised layers",
    )
    conflict_column: bool = field(
        default=True,
        metadata={
            "source": "assumed: a unit whose conflict (KONFLIK) column records a tenure "
            "conflict is excluded (the brief's social safeguards)"
        },
    )


@dataclass(frozen=True)
class ReportSection:
    """How the run's results are written for people."""

    # report.html, the priority list's `why`, the units' `reason` and the closing summary
    lang: str = field(
        default="en",
        metadata={
            "choices": LANGUAGES,
            "source": "en (English) or id (Bahasa Indonesia); also --lang",
        },
    )


@dataclass(frozen=True)
class Scenario:
    """All settings of one run. Build with :func:`load_scenario` or ``Scenario()``."""

    name: str = "default"
    input: InputSection = field(default_factory=InputSection)
    validation: ValidationSection = field(default_factory=ValidationSection)
    graph: GraphSection = field(default_factory=GraphSection)
    scoring: ScoringSection = field(default_factory=ScoringSection)
    economics: EconomicsSection = field(default_factory=EconomicsSection)
    bundling: BundlingSection = field(default_factory=BundlingSection)
    sharing: BenefitSharingSection = field(default_factory=BenefitSharingSection)
    schedule: ScheduleSection = field(default_factory=ScheduleSection)
    safeguards: SafeguardsSection = field(default_factory=SafeguardsSection)
    report: ReportSection = field(default_factory=ReportSection)

    def with_values(self, values: dict[str, Any]) -> Scenario:
        """Return a copy with dotted keys replaced, e.g. ``{"graph.max_gap_m": 500}``.

        Values go through the same checks as a scenario file.
        """
        data = to_dict(self)
        for dotted, value in values.items():
            node = data
            *parents, last = dotted.split(".")
            for part in parents:
                if part not in node or not isinstance(node[part], dict):
                    raise InputError(f"unknown scenario key {dotted!r}")
                node = node[part]
            node[last] = value
        return from_dict(data, origin="command-line options")


def to_dict(obj: Any) -> Any:
    """Turn a scenario (or section) into plain dicts, ready for TOML or JSON."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_dict(v) for v in obj]
    return obj


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _show(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for a message: shortened, and safe for integers too long to print."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's int-to-text digit limit (nested in a list too)
        return "an integer too long to print"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_value(value: Any, tp: Any, key: str, meta: Any, problems: list[str]) -> Any:
    """Check one value against its annotated type; return the converted value."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _check_value(value, inner[0], key, meta, problems)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            problems.append(f"{key}: expected a table, got {type(value).__name__}")
            return tp()
        return _build(tp, value, key + ".", problems)
    if origin is dict:
        _kt, vt = typing.get_args(tp)
        if not isinstance(value, dict):
            problems.append(f"{key}: expected a table, got {type(value).__name__}")
            return {}
        return {str(k): _check_value(v, vt, f"{key}.{k}", {}, problems) for k, v in value.items()}
    if origin in (list, tuple):
        (et, *_) = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            problems.append(f"{key}: expected a list, got {type(value).__name__}")
            return ()
        return tuple(_check_value(v, et, f"{key}[{i}]", {}, problems) for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{key}: expected true or false, got {_show(value)}")
            return False
        return value
    if tp in (int, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if tp is int and isinstance(value, float):
            ok = value.is_integer()
        if not ok:
            problems.append(f"{key}: expected a number, got {_show(value)}")
            return 0
        try:
            value = tp(value)
            finite = math.isfinite(value)
        except OverflowError:  # an int beyond the range of a float
            problems.append(f"{key}: number too large, got {_show(value)}")
            return 0
        if not finite:
            problems.append(f"{key}: must be finite, got {_show(value)}")
            return value
        lo, hi = meta.get("min"), meta.get("max")
        if lo is not None and value < lo:
            problems.append(f"{key}: must be >= {lo}, got {_show(value)}")
        if hi is not None and value > hi:
            problems.append(f"{key}: must be <= {hi}, got {_show(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            problems.append(f"{key}: expected a string, got {_show(value)}")
            return ""
        choices = meta.get("choices")
        if choices and value not in choices:
            problems.append(f"{key}: must be one of {', '.join(choices)}; got {_show(value)}")
        return value
    problems.append(f"{key}: unsupported type {_type_name(tp)}")  # pragma: no cover
    return value


def _build(cls: type, data: dict[str, Any], prefix: str, problems: list[str]) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
            known = ", ".join(sorted(fields))
            problems.append(f"unknown key '{prefix}{key}'{hint} (known here: {known})")
            continue
        f = fields[key]
        kwargs[key] = _check_value(value, hints[key], prefix + key, f.metadata, problems)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:  # pragma: no cover - guarded by checks above
        problems.append(f"{prefix.rstrip('.') or 'scenario'}: {exc}")
        return cls()


def from_dict(data: dict[str, Any], origin: str = "scenario") -> Scenario:
    """Build a :class:`Scenario` from nested dicts, checking every key and value.

    Parameters
    ----------
    data : dict
        Nested tables as read from TOML.
    origin : str
        What to call the source in error messages (usually the file path).

    Raises
    ------
    InputError
        Listing every unknown key, wrong type and out-of-range value at once.
    """
    problems: list[str] = []
    scenario = _build(Scenario, data, "", problems)
    if problems:
        raise InputError(f"{origin}: invalid scenario", problems)
    return scenario


def load_scenario(path: str | Path | None) -> Scenario:
    """Read and check a TOML scenario file; ``None`` gives the defaults.

    Parameters
    ----------
    path : str, Path or None
        The scenario file.

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        When the file is missing, is not valid TOML, or holds invalid keys or values.
    """
    if path is None:
        return Scenario()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: scenario file not found")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read scenario file ({exc})") from None
    try:
        data = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer with too many digits for int()
        raise InputError(f"{p}: not valid TOML: {exc}") from None
    data.setdefault("name", p.stem)
    return _paths_from(from_dict(data, origin=str(p)), p.parent)


def _paths_from(scenario: Scenario, folder: Path) -> Scenario:
    """``scenario`` with its exclusion layers' relative paths made absolute from ``folder``
    (the scenario file's), so they mean the same file wherever the command runs."""
    layers = tuple(
        dataclasses.replace(layer, path=str((folder / Path(layer.path).expanduser()).resolve()))
        if layer.path and not Path(layer.path).expanduser().is_absolute()
        else layer
        for layer in scenario.safeguards.exclude
    )
    if layers == scenario.safeguards.exclude:
        return scenario
    safeguards = dataclasses.replace(scenario.safeguards, exclude=layers)
    return dataclasses.replace(scenario, safeguards=safeguards)


def field_sources(obj: Any = None, prefix: str = "") -> dict[str, str]:
    """Map every dotted scenario key that has a documented source to that source."""
    obj = Scenario() if obj is None else obj
    out: dict[str, str] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.update(field_sources(value, prefix + f.name + "."))
        elif f.metadata.get("source"):
            out[prefix + f.name] = f.metadata["source"]
    return out
