"""Scenario files: defaults, checks with clear messages, overrides."""

from __future__ import annotations

import pytest

from bundler.config.scenario import Scenario, field_sources, from_dict, load_scenario
from bundler.errors import InputError


def _load(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return load_scenario(path)


def test_no_file_gives_defaults():
    assert load_scenario(None) == Scenario()


def test_values_are_read_and_named_after_the_file(tmp_path):
    s = _load(tmp_path, "[graph]\nmax_gap_m = 250\n[economics]\ncarbon_price_usd = 10\n")
    assert s.graph.max_gap_m == 250.0
    assert s.economics.carbon_price_usd == 10.0
    assert s.name == "s"
    # untouched values keep their defaults
    assert s.economics.discount_rate == Scenario().economics.discount_rate


def test_unknown_key_suggests_the_intended_one(tmp_path):
    with pytest.raises(InputError) as exc:
        _load(tmp_path, "[economics]\ncarbon_prise_usd = 10\n")
    msg = str(exc.value)
    assert "s.toml" in msg
    assert (
        "unknown key 'economics.carbon_prise_usd'; did you mean 'economics.carbon_price_usd'?"
        in msg
    )


def test_unknown_section(tmp_path):
    with pytest.raises(InputError, match="unknown key 'grapf'; did you mean 'graph'"):
        _load(tmp_path, "[grapf]\nmax_gap_m = 1\n")


def test_wrong_types_and_ranges_are_all_reported(tmp_path):
    text = (
        "[graph]\nmax_gap_m = 'far'\nlandscape_edges = 1\n"
        "[economics]\ncarbon_price_usd = -5\ncrediting_years = 2.5\n"
        "[bundling]\nobjective = 'profit'\n"
    )
    with pytest.raises(InputError) as exc:
        _load(tmp_path, text)
    msg = str(exc.value)
    assert "graph.max_gap_m: expected a number, got 'far'" in msg
    assert "graph.landscape_edges: expected true or false, got 1" in msg
    assert "economics.carbon_price_usd: must be >= 0.0, got -5.0" in msg
    assert "economics.crediting_years: expected a number, got 2.5" in msg
    assert "bundling.objective: must be one of npv, credits, max-p; got 'profit'" in msg


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="not valid TOML"):
        _load(tmp_path, "[graph\nmax_gap_m = 1\n")
    with pytest.raises(InputError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.toml")


def test_command_line_overrides_go_through_the_same_checks():
    s = Scenario().with_values({"graph.max_gap_m": 0, "bundling.min_area_ha": 1234})
    assert s.graph.max_gap_m == 0.0 and s.bundling.min_area_ha == 1234.0
    with pytest.raises(InputError, match="carbon_price_usd: must be >= 0.0"):
        Scenario().with_values({"economics.carbon_price_usd": -1})


def test_tables_and_lists(tmp_path):
    s = _load(
        tmp_path,
        "[input.columns]\nID_IZIN = 'unit_id'\n[bundling]\nlocked_in = ['a', 'b']\n"
        "[bundling.min_area_ha_by_intervention]\nprotect = 20000\n",
    )
    assert s.input.columns == {"ID_IZIN": "unit_id"}
    assert s.bundling.locked_in == ("a", "b")
    assert s.bundling.min_area_ha_by_intervention == {"protect": 20000.0}
    with pytest.raises(InputError, match="bundling.locked_in: expected a list"):
        from_dict({"bundling": {"locked_in": "a"}})


def test_every_economic_default_names_its_source():
    sources = field_sources()
    econ = [k for k in sources if k.startswith("economics.")]
    assert len(econ) >= 25
    assert "TNC" in sources["economics.feasibility_usd"]
    assert all(v.strip() for v in sources.values())
