"""Safeguards: units left out before planning.

No-go layers (recorded tenure conflicts, concessions, other areas a carbon project
must avoid; ``--exclude FILE[:LABEL]``, scenario ``[safeguards]``) and the layer's own
``conflict`` column (``KONFLIK``) mark units ``excluded``, with a reason naming the
layer and the overlap. ``layers`` reads the files; ``exclusion`` marks the units.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.safeguards.exclusion import Safeguards, apply_safeguards, excluded_table
    from bundler.safeguards.layers import NoGoLayer, exclusion_option, read_no_go_layers

_EXPORTS = {
    "Safeguards": "bundler.safeguards.exclusion",
    "apply_safeguards": "bundler.safeguards.exclusion",
    "excluded_table": "bundler.safeguards.exclusion",
    "NoGoLayer": "bundler.safeguards.layers",
    "exclusion_option": "bundler.safeguards.layers",
    "read_no_go_layers": "bundler.safeguards.layers",
}
__all__ = [
    "NoGoLayer",
    "Safeguards",
    "apply_safeguards",
    "excluded_table",
    "exclusion_option",
    "read_no_go_layers",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
