"""The columns feedback is broken down by: touchpoint, stage, channel, persona, period, ...

:func:`with_groups` adds each requested column to the feedback: taken from the feedback
itself, derived from the catalog (``stage``, ``channel`` from the touchpoint), or joined from
the customers table (``persona``, ``region``). Missing values become ``"(none)"`` so every
answer stays in some group and the group totals add up to all answers.

Example::

    >>> import pandas as pd
    >>> fb = pd.DataFrame({"customer_id": ["a", "b"], "touchpoint": ["web", None],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-02-01"], utc=True)})
    >>> with_groups(fb, ["touchpoint"], period="M")[["touchpoint", "period"]].values.tolist()
    [['web', '2024-01'], ['(none)', '2024-02']]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import CjmError
from ..model import JourneyCatalog

NONE = "(none)"
PERIODS = {"D": "%Y-%m-%d", "W": "%Y-%m-%d", "M": "%Y-%m", "Q": None, "Y": "%Y"}


def as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def with_groups(
    feedback: pd.DataFrame,
    by: Sequence[str],
    *,
    period: str | None = None,
    catalog: JourneyCatalog | None = None,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``feedback`` with one text column per name in ``by`` (and ``period`` when given)."""
    out = feedback.copy()
    for name in by:
        out[name] = _group_values(out, name, catalog, customers)
    if period is not None:
        out["period"] = period_labels(out, period)
    return out


def _group_values(
    fb: pd.DataFrame, name: str, catalog: JourneyCatalog | None, customers: pd.DataFrame | None
) -> pd.Series:
    if name in ("stage", "channel") and name not in fb.columns:
        if catalog is None:
            raise CjmError(
                f"Grouping feedback by {name!r} needs the catalog (catalog=) to map each "
                "touchpoint to its " + name + "."
            )
        if "touchpoint" not in fb.columns:
            raise CjmError(f"Grouping by {name!r} needs the feedback's touchpoint column.")
        mapping = catalog.stage_of() if name == "stage" else catalog.channel_of()
        values = fb["touchpoint"].map(mapping)
    elif name in fb.columns:
        values = fb[name]
    elif customers is not None and name in customers.columns:
        if customers["customer_id"].duplicated().any():
            dup = customers["customer_id"][customers["customer_id"].duplicated()].head(3)
            raise CjmError(
                f"customers has repeated customer_id values (e.g. {dup.tolist()}); one row "
                "per customer is needed to attach its " + repr(name) + "."
            )
        values = fb["customer_id"].map(customers.set_index("customer_id")[name])
    else:
        where = "feedback" + (" or customers" if customers is not None else "")
        raise CjmError(
            f"Cannot group by {name!r}: no such column in {where} (feedback has "
            f"{list(fb.columns)}). Pass customers= with that column, or a catalog for "
            "'stage'/'channel'."
        )
    return values.astype("object").where(values.notna(), NONE).astype(str)


def period_labels(fb: pd.DataFrame, period: str) -> pd.Series:
    """Each answer's period as sortable text: ``2024-03`` (M), ``2024Q1`` (Q), the Monday
    of the week (W), the day (D) or the year (Y)."""
    code = str(period).upper()
    if code not in PERIODS:
        raise CjmError(f"period must be one of {sorted(PERIODS)}; got {period!r}.")
    if "timestamp" not in fb.columns:
        raise CjmError("A breakdown by period needs the feedback's timestamp column.")
    ts = pd.to_datetime(fb["timestamp"], utc=True).dt.tz_convert("UTC").dt.tz_localize(None)
    if code == "Q":
        return ts.dt.to_period("Q").astype(str)
    if code == "W":
        return (ts.dt.normalize() - pd.to_timedelta(ts.dt.weekday, unit="D")).dt.strftime(
            PERIODS["W"]
        )
    return ts.dt.strftime(PERIODS[code])


def group_keys(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The distinct combinations of ``columns``, sorted."""
    if not columns:
        return [()]
    return sorted(frame[list(columns)].drop_duplicates().itertuples(index=False, name=None))
