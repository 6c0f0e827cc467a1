"""Render a scenario as a commented TOML file: every key, its value and its source."""

from __future__ import annotations

import dataclasses
import json

from bundler.config.scenario import Scenario


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if dataclasses.is_dataclass(value):  # a table in a list, e.g. safeguards.exclude
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot render {type(value).__name__}")


def _section(obj, name: str, lines: list[str]) -> None:
    lines.append(f"[{name}]")
    nested = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            nested.append((f"{name}.{f.name}", value))
            continue
        source = f.metadata.get("source", "")
        comment = f"  # {source}" if source else ""
        if value is None:
            lines.append(f"# {f.name} = (unset){comment}")
        else:
            lines.append(f"{f.name} = {_toml_value(value)}{comment}")
    lines.append("")
    for sub_name, sub in nested:
        _section(sub, sub_name, lines)


def render_scenario(scenario: Scenario | None = None) -> str:
    """The scenario as TOML text with each default's source as a comment.

    Parameters
    ----------
    scenario : Scenario, optional
        Defaults when omitted.

    Returns
    -------
    str
        Text that :func:`bundler.config.scenario.load_scenario` reads back to an equal scenario.
    """
    scenario = scenario or Scenario()
    lines = [
        "# ps-bundler scenario: every key with its value and the source of the default.",
        "# Copy this file, change what you need and pass it with --scenario.",
        "# Sources are named beside each value; 'assumed' marks a reasonable default,",
        "# not a fact.",
        "",
        f"name = {_toml_value(scenario.name)}",
        "",
    ]
    for f in dataclasses.fields(scenario):
        value = getattr(scenario, f.name)
        if dataclasses.is_dataclass(value):
            _section(value, f.name, lines)
    return "\n".join(lines).rstrip() + "\n"
