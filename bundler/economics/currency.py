"""Money in rupiah beside money in dollars: the one place where ``*_idr`` columns are made.

Every figure is computed in US dollars; a provincial office reads rupiah. Each column
whose name ends in ``_usd`` gets a twin ending in ``_idr`` right after it, equal to the
dollar figure times the scenario's ``economics.usd_idr`` (rupiah per dollar). The
conversion happens only here, so every output that shows rupiah uses the same rate
and the same rule.
"""

from __future__ import annotations

import math

import pandas as pd

from bundler.errors import InputError

USD_SUFFIX = "_usd"
IDR_SUFFIX = "_idr"
RATE_KEY = "economics.usd_idr"


def idr_name(usd_column: str) -> str:
    """The rupiah twin of a dollar column: ``npv_usd`` -> ``npv_idr``."""
    return usd_column.removesuffix(USD_SUFFIX) + IDR_SUFFIX


def check_rate(usd_idr: float) -> float:
    """``usd_idr`` as a float, or an error naming ``economics.usd_idr``.

    The scenario already refuses a rate below 1; this guards callers of the API
    that pass a rate of their own.

    Raises
    ------
    InputError
        When ``usd_idr`` is not a finite positive number.
    """
    if isinstance(usd_idr, bool) or not isinstance(usd_idr, int | float):
        raise InputError(f"{RATE_KEY}: expected a number of rupiah per US dollar, got {usd_idr!r}")
    if not (math.isfinite(usd_idr) and usd_idr > 0):
        raise InputError(f"{RATE_KEY}: must be a positive number of rupiah, got {usd_idr!r}")
    return float(usd_idr)


def usd_to_idr(usd, usd_idr: float):
    """Rupiah of a dollar amount: ``usd * usd_idr``, unrounded.

    Parameters
    ----------
    usd : float, array or Series
    usd_idr : float
        Rupiah per US dollar (``economics.usd_idr``).

    Returns
    -------
    float, array or Series
        Of the same kind as ``usd``; a missing value stays missing.

    Raises
    ------
    InputError
        When ``usd_idr`` is not a finite positive number (naming ``economics.usd_idr``).
    """
    return usd * check_rate(usd_idr)


def with_idr_columns(frame: pd.DataFrame, usd_idr: float) -> pd.DataFrame:
    """A copy of ``frame`` with ``<x>_idr = <x>_usd * usd_idr`` right after every ``<x>_usd``.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        Any table; columns not ending in ``_usd`` are kept as they are. The type
        (and a GeoDataFrame's geometry and CRS) is kept.
    usd_idr : float
        Rupiah per US dollar (``economics.usd_idr``).

    Returns
    -------
    DataFrame or GeoDataFrame
        The same rows with the rupiah columns added (:func:`usd_to_idr`). Values are
        not rounded, so that ``<x>_idr == <x>_usd * usd_idr`` exactly; empty (missing)
        dollar values stay empty. A frame that already has ``<x>_idr`` has it replaced.

    Raises
    ------
    InputError
        When ``usd_idr`` is not a finite positive number (naming ``economics.usd_idr``).
    """
    rate = check_rate(usd_idr)
    out = frame.copy()
    usd = [c for c in out.columns if isinstance(c, str) and c.endswith(USD_SUFFIX)]
    for column in usd:
        values = usd_to_idr(pd.to_numeric(out[column], errors="coerce").astype(float), rate)
        target = idr_name(column)
        if target in out.columns:
            out = out.drop(columns=target)
        out.insert(out.columns.get_loc(column) + 1, target, values)
    return out
