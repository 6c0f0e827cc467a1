"""Small text helpers shared by messages and tables."""

from __future__ import annotations

import re
from collections.abc import Iterable


def short_list(values: Iterable[object], limit: int, sep: str = ", ") -> str:
    """The first ``limit`` values joined by ``sep``, then ``" and N more"`` if any are left."""
    shown = [str(v) for v in values]
    head = sep.join(shown[:limit])
    return head + (f" and {len(shown) - limit} more" if len(shown) > limit else "")


def natural_key(text: object) -> tuple:
    """Sort key that orders digit runs by value: ``"2" < "10"``, ``"B2" < "B10"``."""
    return tuple(
        (0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(text)) if t
    )
