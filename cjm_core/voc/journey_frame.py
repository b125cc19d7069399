"""Events with their journey as a pandas frame: what feedback linking and pain points read.

The journeys are cut on the engine (:func:`cjm_core.sequences.journey_events`, the same rules
as :func:`cjm_core.build_journeys`); only the columns these analyses need come back.

Example::

    >>> import pandas as pd
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05",
    ...                                  "2024-01-02 09:00"], utc=True),
    ...     "touchpoint": ["web", "call", "web"], "event_type": ["interaction", "conversion",
    ...     "interaction"]})
    >>> journey_frame(ev, gap="30min")[["journey", "touchpoint", "converted"]].values.tolist()
    [['a#1', 'web', True], ['a#1', 'call', True], ['a#2', 'web', False]]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..engine import events_table
from ..sequences import CONVERSION, journey_events, journey_label


def journey_frame(
    events: Any,
    *,
    gap: Any = None,
    split_on_conversion: bool = True,
    customers: Iterable[str] | None = None,
    extra: Iterable[str] = (),
    engine: Any = None,
) -> pd.DataFrame:
    """One row per event, in customer and journey order: customer_id, journey (the given id
    or ``customer#n``), given_id (the events' own journey_id, when journeys are given),
    step, is_last, timestamp, touchpoint, event_type, duration_s, value, converted (the
    journey has a conversion event), journey_value (its conversions' value) and the
    ``extra`` event columns. ``customers``: only these customers' events."""
    eng, t = events_table(events, engine)
    given = gap is None and "journey_id" in t.columns
    j = journey_events(t, gap=gap, split_on_conversion=split_on_conversion)
    if customers is not None:
        j = j.filter(j.customer_id.cast("string").isin(sorted(set(map(str, customers)))))
    cols = {
        "customer_id": j.customer_id.cast("string"),
        "journey": journey_label(j),
        "step": j.step,
        "is_last": j.is_last,
        "timestamp": j.timestamp,
        "touchpoint": j.touchpoint,
        "event_type": j.event_type,
        "duration_s": j.duration_s.cast("float64"),
        "value": j.value.cast("float64"),
        "_seq": j._seq,
        **{c: j[c] for c in extra if c in j.columns},
    }
    if given:
        cols["given_id"] = j.journey_id
    frame = eng.execute(j.select(**cols), order_by=["customer_id", "_seq"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    conv = frame["event_type"] == CONVERSION
    keys = [frame["customer_id"], frame["journey"]]  # given ids may repeat across customers
    frame["converted"] = conv.groupby(keys).transform("any").astype(bool)
    value = frame["value"].where(conv, 0.0).fillna(0.0)
    frame["journey_value"] = value.groupby(keys).transform("sum")
    return frame.drop(columns="_seq").reset_index(drop=True)
