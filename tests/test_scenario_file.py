"""scenarios/default.toml documents every key and equals the built-in defaults."""

from __future__ import annotations

from pathlib import Path

from bundler.config.doc import render_scenario
from bundler.config.scenario import Scenario, field_sources, load_scenario

DEFAULT = Path(__file__).resolve().parents[1] / "scenarios" / "default.toml"


def test_default_file_is_the_rendered_defaults():
    # regenerate with: psbundle scenario --write scenarios/default.toml
    assert DEFAULT.read_text(encoding="utf-8") == render_scenario()


def test_default_file_loads_back_to_the_defaults():
    assert load_scenario(DEFAULT) == Scenario()


def test_every_sourced_key_has_its_source_in_the_file():
    text = DEFAULT.read_text(encoding="utf-8")
    for key, source in field_sources().items():
        assert source in text, key


def test_every_scenario_file_in_the_repository_loads():
    for path in sorted(DEFAULT.parent.glob("*.toml")):
        load_scenario(path)
