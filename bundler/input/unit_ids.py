"""Unit identity: one unique, stable ``unit_id`` per permit, joinable back to the source.

Real ministry exports have no usable permit key in ``PS_ID``: many permits share
a value (a district code plus a sequence number) and many carry ``0``. Only
``OBJECTID`` is unique. The rule, applied to the whole file before any province
filter so that an id never depends on the options of a run:

* an explicit key (``--id-column`` / ``input.id_column``) is used as it is; an
  empty or repeated value there is an error that names the rows;
* otherwise the layer's id column (``PS_ID``, or a canonical ``unit_id``) is
  used as it is when every value is present, non-zero and unique;
* otherwise each permit whose id is unique and non-zero keeps it, and every
  other permit gets ``<id>-o<OBJECTID>`` (``0-o122``, ``640101-o29``) when the
  layer has a unique ``OBJECTID``, else ``<id>-r<row>`` with ``row`` its 1-based
  feature number in the file (a permit without any id gets ``o122`` / ``r122``).

The source's ``PS_ID``, ``NO_SK`` and ``OBJECTID`` are kept under those names in
every unit table and layer, so each id joins back to the file it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bundler.input.reading import find_column
from bundler.text import short_list

# the ministry's own key-like fields, kept in every output under these names
SOURCE_KEYS: tuple[str, ...] = ("PS_ID", "NO_SK", "OBJECTID")


@dataclass
class UnitIds:
    """The ids chosen for a layer, and what the user must be told about them."""

    ids: pd.Series
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def id_text(values: pd.Series) -> pd.Series:
    """Ids as text; numbers read as floats (``1.0``) print as integers, blanks as ``""``."""

    def one(v: object) -> str:
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        text = str(v).strip()
        return "" if text.lower() in ("nan", "none", "<na>") else text

    return values.map(one).astype(object)


def source_key_columns(raw: pd.DataFrame) -> dict[str, pd.Series]:
    """The ministry key fields found in ``raw`` (any case), under their ministry names."""
    found = {key: find_column(raw.columns, key) for key in SOURCE_KEYS}
    return {key: raw[col] for key, col in found.items() if col is not None}


def _rows_of(mask: np.ndarray, rows: np.ndarray, shown: int = 12) -> str:
    return short_list(rows[mask], shown)


def assign_unit_ids(
    ids: pd.Series | None,
    rows: np.ndarray,
    objectid: pd.Series | None,
    id_name: str,
    explicit: bool,
) -> UnitIds:
    """Choose one unique id per feature by the rule in the module docstring.

    Parameters
    ----------
    ids : Series or None
        The id column's raw values (``None`` when the layer has none).
    rows : ndarray
        1-based feature numbers, aligned with ``ids``.
    objectid : Series or None
        The layer's ``OBJECTID`` values, if it has that field.
    id_name : str
        The id column's name in the file, for messages.
    explicit : bool
        The user named the key: use it as is, and treat blanks or repeats as errors.

    Returns
    -------
    UnitIds
        ``ids`` aligned with ``rows``; ``errors`` when an explicit key is unusable.
    """
    n = len(rows)
    text = id_text(ids) if ids is not None else pd.Series([""] * n, dtype=object)
    text.index = range(n)
    blank = (text == "").to_numpy()
    dup = text.duplicated(keep=False).to_numpy() & ~blank
    out = UnitIds(ids=text)
    if explicit:
        if blank.any():
            out.errors.append(
                f"column {id_name} (the id column): empty in rows {_rows_of(blank, rows)}"
            )
        if dup.any():
            groups = pd.Series(rows[dup]).groupby(text[dup].to_numpy()).apply(list).sort_index()
            listed = [f"{k} (rows {', '.join(map(str, v))})" for k, v in groups.items()]
            shown = short_list(listed, 12)
            out.errors.append(f"column {id_name} (the id column): duplicate values {shown}")
        return out
    zero = (text == "0").to_numpy()
    keep = ~blank & ~zero & ~dup
    if keep.all():
        return out
    oid = id_text(objectid) if objectid is not None else None
    if oid is not None:
        oid.index = range(n)
    use_oid = oid is not None and (oid != "").all() and not oid.duplicated().any()
    rowwise = pd.Series([f"r{r}" for r in rows], dtype=object)

    def made_with(suffix: pd.Series) -> pd.Series:
        return text.where(keep, np.where(blank, suffix, text + "-" + suffix))

    made = made_with("o" + oid if use_oid else rowwise)
    if made.duplicated().any():  # a literal id that looks like a made one: rows never repeat
        made = made_with(rowwise)
        use_oid = False
    out.ids = made.astype(object)
    how = "OBJECTID" if use_oid else "feature number"
    form = "<id>-o<OBJECTID>" if use_oid else "<id>-r<row>"
    facts = []
    if ids is None:
        facts.append(f"the layer has no id column ({id_name})")
    else:
        facts.append(f"{text[~blank].nunique()} distinct values for {n} permits")
        if zero.any():
            facts.append(f"{int(zero.sum())} carry 0")
        if blank.any():
            facts.append(f"{int(blank.sum())} are empty")
        if dup.any():
            facts.append(f"{int((dup & ~zero).sum())} share a value with another permit")
    examples = ", ".join(out.ids[~keep].head(3))
    out.warnings.append(
        f"unit ids: {id_name} is not a permit key in this layer ({'; '.join(facts)}); "
        f"those {int((~keep).sum())} permits get the id {form} from their {how} "
        f"(e.g. {examples}), the others keep their {id_name}. {id_name}, NO_SK and OBJECTID "
        "stay in every output; name the key yourself with --id-column"
    )
    return out
