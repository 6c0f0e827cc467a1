"""Configuration: the scenario (every setting of every stage, its default and the source of
that default), read from TOML, checked, and rendered back as commented TOML.

Used by every stage; it imports no other stage.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.config.doc import render_scenario
    from bundler.config.scenario import Scenario, from_dict, load_scenario, to_dict

_EXPORTS = {
    "Scenario": "bundler.config.scenario",
    "from_dict": "bundler.config.scenario",
    "load_scenario": "bundler.config.scenario",
    "to_dict": "bundler.config.scenario",
    "render_scenario": "bundler.config.doc",
}
__all__ = [
    "Scenario",
    "from_dict",
    "load_scenario",
    "render_scenario",
    "to_dict",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
