"""The field constructor every scenario section uses, so that checks and sources stay uniform."""

from __future__ import annotations

from dataclasses import field


def number(default: float, *, lo: float | None = 0.0, hi: float | None = None, source: str = ""):
    """A numeric scenario field with bounds, keeping the default's source as metadata.

    Parameters
    ----------
    default : float or int
    lo, hi : float or None
        Inclusive bounds checked when a scenario file is loaded (``None``: unbounded).
    source : str
        Where the default comes from; ``"assumed: ..."`` when it is not a fact.
        ``scenarios/default.toml`` prints it beside the value.
    """
    return field(default=default, metadata={"min": lo, "max": hi, "source": source})
