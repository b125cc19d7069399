"""Behavioural features per customer, the input of :func:`~cjm_core.personas.find_personas`.

One row per customer (index ``customer_id``), computed from the events (and the survey
answers when given). The rules, stated once:

- ``events``: the customer's events; ``journeys``: their journeys from
  :func:`cjm_core.build_journeys` (``gap=None``: the events' own ``journey_id``, else a
  30-minute gap);
- ``n_channels``: distinct channels used (the events' channel column, else the catalog's
  channel of each touchpoint; 0 with neither);
- ``digital_share``, ``physical_share``, ``assisted_share`` (with a catalog): the shares of
  the customer's events at touchpoints of each kind; without a catalog ``share_<channel>``
  per channel (the 10 most used, the rest in ``share_other``; touchpoints when there is no
  channel column either);
- ``frequency``: journeys per 30 days from the customer's first event to ``as_of``, counting
  at least 30 days (a customer first seen last week with one journey has 1.0, one seen for
  six months with three journeys has 0.5);
- ``recency_days``: days from the last event to ``as_of`` (default: the last event of the
  whole log);
- ``value``: the sum of the value of the customer's conversion events (the journeys'
  ``value``); ``conversions``: converted journeys; ``conversion_rate``: conversions per
  journey;
- ``support_contacts``: events at support touchpoints: ``support=`` when given, else the
  touchpoints of kind ``assisted`` in the catalog plus every touchpoint whose id (or channel
  id) contains one of :data:`SUPPORT_WORDS`;
- with feedback: ``mean_csat``, ``mean_nps`` (the mean 0-10 answer) and ``n_answers`` per
  customer (NaN / 0 without answers; not clustered by default).

Example::

    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-31"], utc=True),
    ...     "touchpoint": ["website", "call_centre", "website"],
    ...     "channel": ["web", "phone", "web"],
    ... })
    >>> f = customer_features(events)
    >>> f.loc["a", ["journeys", "support_contacts", "recency_days"]].tolist()
    [2.0, 1.0, 11.0]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError, MissingColumnError
from ..journeys import build_journeys
from ..model import TOUCHPOINT_KINDS, JourneyCatalog

SUPPORT_WORDS = ("support", "call", "phone", "contact", "help")
DAY = pd.Timedelta(days=1)
MAX_SHARE_COLUMNS = 10

__all__ = ["SUPPORT_WORDS", "customer_features", "support_touchpoints"]


def customer_features(
    events: pd.DataFrame,
    feedback: pd.DataFrame | None = None,
    catalog: JourneyCatalog | None = None,
    as_of: Any = None,
    *,
    gap: str | pd.Timedelta | float | None = None,
    support: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row of behavioural features per customer (see the module text for each rule).

    :param events: canonical events (customer_id, timestamp, touchpoint; channel,
        event_type, value, journey_id optional) as a pandas DataFrame.
    :param feedback: canonical feedback (customer_id, metric, score) for ``mean_csat``,
        ``mean_nps`` and ``n_answers``; answers of customers without events are counted in
        ``attrs["notes"]``, not added.
    :param catalog: touchpoint kinds for the kind shares and support rule.
    :param as_of: the reference time of ``frequency`` and ``recency_days`` (default: the
        last event); events after it are an error (filter them first).
    :param gap: how journeys are cut, as in :func:`cjm_core.build_journeys`.
    :param support: the touchpoint ids that count as support contacts (overrides the rule).
    :returns: a DataFrame indexed by customer_id (sorted), float columns; ``attrs["notes"]``
        lists what was counted aside, ``attrs["support_touchpoints"]`` the rule's result.

    Example::

        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "customer_id": ["a", "a"],
        ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
        ...     "touchpoint": ["website", "checkout"],
        ...     "event_type": ["interaction", "conversion"], "value": [None, 30.0]})
        >>> customer_features(events).loc["a", ["conversions", "value"]].tolist()
        [1.0, 30.0]
    """
    ev = _check_events(events)
    notes: list[str] = []
    ts = ev["timestamp"]
    as_of = ts.max() if as_of is None else _timestamp(as_of)
    late = ev[ts > as_of]
    if len(late):
        raise CjmError(
            f"{len(late)} event(s) are after as_of={as_of} (first customers: "
            f"{late['customer_id'].head(5).tolist()}); filter the events to timestamp <= as_of "
            "first, or leave as_of out to use the last event."
        )
    cid = ev["customer_id"]
    by = ev.groupby(cid, sort=True)
    out = pd.DataFrame(index=pd.Index(sorted(cid.unique()), name="customer_id"))
    out["events"] = by.size().astype(float)

    journeys = build_journeys(ev, gap=gap, catalog=catalog).to_frame()
    key = out.index.map(str)  # the engine gives ids back as text
    per = journeys.groupby("customer_id")
    out["journeys"] = per.size().reindex(key).fillna(0).to_numpy(dtype=float)
    out["conversions"] = per["converted"].sum().reindex(key).fillna(0).to_numpy(dtype=float)
    out["value"] = per["value"].sum().reindex(key).fillna(0).to_numpy(dtype=float)

    channel = _channels(ev, catalog)
    out["n_channels"] = channel.groupby(cid).nunique().reindex(out.index).fillna(0).astype(float)
    if catalog is not None:
        kind = ev["touchpoint"].map({t.id: t.kind for t in catalog.touchpoints})
        unknown = int(kind.isna().sum())
        if unknown:
            shown = sorted(ev.loc[kind.isna(), "touchpoint"].astype(str).unique())[:5]
            notes.append(
                f"{unknown} event(s) at touchpoints the catalog lacks ({shown}) have no kind: "
                "they count in the events but in none of the kind shares"
            )
        for k in TOUCHPOINT_KINDS:
            out[f"{k}_share"] = (kind == k).groupby(cid).mean().reindex(out.index)
    else:
        source = channel if channel.notna().any() else ev["touchpoint"]
        notes.append(
            "no catalog: shares are of "
            + ("channels" if source is channel else "touchpoints (no channel column)")
        )
        for name, share in _value_shares(source, cid).items():
            out[name] = share.reindex(out.index).fillna(0.0)

    first = by["timestamp"].min().reindex(out.index)
    last = by["timestamp"].max().reindex(out.index)
    known_days = ((as_of - first) / DAY).clip(lower=30.0)
    out["frequency"] = 30.0 * out["journeys"] / known_days
    out["recency_days"] = (as_of - last) / DAY
    with np.errstate(invalid="ignore", divide="ignore"):
        out["conversion_rate"] = np.where(
            out["journeys"] > 0, out["conversions"] / out["journeys"], 0.0
        )
    support_tps = support_touchpoints(ev, catalog) if support is None else sorted(set(support))
    is_support = ev["touchpoint"].isin(support_tps)
    out["support_contacts"] = is_support.groupby(cid).sum().reindex(out.index).astype(float)

    if feedback is not None:
        _add_feedback(out, feedback, notes)
    out.attrs["notes"] = notes
    out.attrs["support_touchpoints"] = support_tps
    out.attrs["as_of"] = str(as_of)
    return out


def support_touchpoints(events: pd.DataFrame, catalog: JourneyCatalog | None = None) -> list[str]:
    """The touchpoints counted as support contacts: kind ``assisted`` in the catalog, and
    every touchpoint whose id or channel id contains one of :data:`SUPPORT_WORDS`.

    >>> import pandas as pd
    >>> ev = pd.DataFrame({"touchpoint": ["website", "call_centre", "help_desk"]})
    >>> support_touchpoints(ev)
    ['call_centre', 'help_desk']
    """
    ids = set(events["touchpoint"].dropna().astype(str))
    found = set()
    channel_of: dict[str, str] = {}
    if catalog is not None:
        found |= {t.id for t in catalog.touchpoints if t.kind == "assisted"}
        channel_of = catalog.channel_of()
        ids |= set(channel_of)
    if "channel" in events.columns:
        pairs = events[["touchpoint", "channel"]].dropna().drop_duplicates()
        channel_of.update(
            zip(pairs["touchpoint"].astype(str), pairs["channel"].astype(str), strict=True)
        )

    def supportive(text: str) -> bool:
        return any(word in text.lower() for word in SUPPORT_WORDS)

    found |= {tp for tp in ids if supportive(tp) or supportive(channel_of.get(tp, ""))}
    return sorted(found)


def _check_events(events: Any) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise CjmError(
            f"customer_features needs the events as a pandas DataFrame, got "
            f"{type(events).__name__}; bring them over first (e.g. table.to_pandas())."
        )
    missing = [c for c in ("customer_id", "timestamp", "touchpoint") if c not in events.columns]
    if missing:
        raise MissingColumnError(
            f"events lack column(s) {missing}; present: {list(events.columns)}. Rename the "
            "source columns to the canonical names."
        )
    if not len(events):
        raise CjmError("The events are empty: there are no customers to describe.")
    no_id = events["customer_id"].isna()
    if no_id.any():
        raise CjmError(
            f"{int(no_id.sum())} event(s) have no customer_id (rows "
            f"{events.index[no_id][:5].tolist()}); drop or attribute them first: features are "
            "per customer."
        )
    ts = events["timestamp"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise CjmError(
            f"events.timestamp must be time-zone aware (UTC); got dtype {ts.dtype}. Convert with "
            "pd.to_datetime(..., utc=True)."
        )
    return events


def _timestamp(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _channels(ev: pd.DataFrame, catalog: JourneyCatalog | None) -> pd.Series:
    if "channel" in ev.columns:
        return ev["channel"]
    if catalog is not None:
        return ev["touchpoint"].map(catalog.channel_of())
    return pd.Series(np.nan, index=ev.index, dtype=object)


def _value_shares(source: pd.Series, cid: pd.Series) -> dict[str, pd.Series]:
    """``share_<value>`` per customer for the most used values, the rest in share_other."""
    counts = source.value_counts()
    top = sorted(counts.index[:MAX_SHARE_COLUMNS].astype(str))
    text = source.astype(str).where(source.notna(), "(missing)")
    shares = {f"share_{v}": (text == v).groupby(cid).mean() for v in top}
    if len(counts) > MAX_SHARE_COLUMNS or source.isna().any():
        shares["share_other"] = (~text.isin(top)).groupby(cid).mean()
    return shares


def _add_feedback(out: pd.DataFrame, feedback: pd.DataFrame, notes: list[str]) -> None:
    missing = [c for c in ("customer_id", "metric", "score") if c not in feedback.columns]
    if missing:
        raise MissingColumnError(
            f"feedback lacks column(s) {missing}; present: {list(feedback.columns)}."
        )
    fb = feedback[feedback["customer_id"].notna()]
    if len(fb) < len(feedback):
        notes.append(f"{len(feedback) - len(fb)} answer(s) without customer_id left out")
    outside = ~fb["customer_id"].isin(out.index)
    if outside.any():
        notes.append(
            f"{int(outside.sum())} answer(s) from {fb.loc[outside, 'customer_id'].nunique()} "
            "customer(s) without events left out"
        )
    fb = fb[~outside]
    score = pd.to_numeric(fb["score"], errors="coerce")
    for metric, column in (("csat", "mean_csat"), ("nps", "mean_nps")):
        mine = fb["metric"] == metric
        out[column] = score[mine].groupby(fb.loc[mine, "customer_id"]).mean().reindex(out.index)
    n = score.notna().groupby(fb["customer_id"]).sum()
    out["n_answers"] = n.reindex(out.index).fillna(0).astype(float)
