"""Settings that contradict each other are an error, not an empty plan.

A scenario is checked key by key when it is read; this module checks the keys
against each other, once the file and the command-line flags are combined, and
says where each value came from.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from bundler.config.scenario import Scenario
from bundler.errors import InputError


def contradictions(scenario: Scenario) -> list[tuple[str, float, str, float]]:
    """Pairs of settings that no bundle can satisfy together.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    list of (key_a, value_a, key_b, value_b)
        Each says ``key_a = value_a`` exceeds ``key_b = value_b``.
    """
    rules = scenario.bundling
    if rules.objective == "max-p":  # max-p regions have no maximum area
        return []
    found = []
    if rules.min_area_ha > rules.max_area_ha:
        found.append(
            ("bundling.min_area_ha", rules.min_area_ha, "bundling.max_area_ha", rules.max_area_ha)
        )
    for intervention, area in sorted(rules.min_area_ha_by_intervention.items()):
        if area > rules.max_area_ha:
            found.append(
                (
                    f"bundling.min_area_ha_by_intervention.{intervention}",
                    area,
                    "bundling.max_area_ha",
                    rules.max_area_ha,
                )
            )
    return found


def _in_file(path: Path, dotted: str) -> bool:
    try:
        node = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def origin_of(dotted: str, scenario_file: Path | None, flags: Mapping[str, str]) -> str:
    """Where a setting's value came from: a command-line flag, a scenario file or the default."""
    if dotted in flags:
        return f"from the command-line flag {flags[dotted]}"
    if scenario_file is not None and _in_file(Path(scenario_file), dotted):
        return f"from {scenario_file}"
    return "the default"


def check_settings(
    scenario: Scenario,
    scenario_file: Path | None = None,
    flags: Mapping[str, str] | None = None,
) -> None:
    """Raise one :class:`InputError` naming every pair of contradictory settings.

    Parameters
    ----------
    scenario : Scenario
        The resolved scenario (file plus flags).
    scenario_file : Path, optional
        The scenario file, to tell a value set there from a default.
    flags : mapping, optional
        Dotted key -> the flag that set it (``{"bundling.min_area_ha": "--min-area-ha"}``).

    Raises
    ------
    InputError
        With exit code 2, when any pair contradicts.
    """
    flags = flags or {}
    found = contradictions(scenario)
    if not found:
        return
    problems = [
        f"{a} = {va:,.0f} ha ({origin_of(a, scenario_file, flags)}) is above "
        f"{b} = {vb:,.0f} ha ({origin_of(b, scenario_file, flags)}): no bundle can be at least "
        f"the one and at most the other; lower {a} or raise {b}"
        for a, va, b, vb in found
    ]
    name = f"scenario {scenario.name!r}" if scenario.name else "the settings"
    raise InputError(f"{name}: contradictory settings", problems)
