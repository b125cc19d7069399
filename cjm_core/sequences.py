"""Events in journey order: the one shared step under every journey analysis.

:func:`journey_events` assigns each event to a journey and a position in it, as an Ibis
expression (so it runs on DuckDB or Spark unchanged). Events are ordered by customer, then
timestamp, then ``_seq`` (the input order of a pandas input; touchpoint then event type
otherwise): ties in timestamps keep the order of the input.

A journey is either given (the ``journey_id`` column, per customer) or made by splitting
each customer's events where the gap between two events exceeds ``gap`` and, with
``split_on_conversion``, right after a conversion event.
"""

from __future__ import annotations

import ibis
import pandas as pd

from .engine import SEQ, US, order_keys, with_seq
from .errors import CjmError

DEFAULT_GAP = "30min"
CONVERSION = "conversion"


def gap_seconds(gap: str | pd.Timedelta | float | int) -> float:
    """Seconds in ``gap`` ("30min", "2h", "7D", a Timedelta, or a number of seconds).

    >>> gap_seconds("30min"), gap_seconds("7D")
    (1800.0, 604800.0)
    """
    if isinstance(gap, int | float):
        seconds = float(gap)
    else:
        try:
            seconds = pd.Timedelta(gap).total_seconds()
        except (ValueError, TypeError):
            raise CjmError(
                f"Cannot read the duration {gap!r}; write it like '30min', '2h' or '7D'."
            ) from None
    if not seconds > 0:
        raise CjmError(f"A duration must be positive, got {gap!r}.")
    return seconds


def journey_events(
    table: ibis.Table,
    *,
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
) -> ibis.Table:
    """Add ``journey_id``, ``step`` (1-based), ``is_last`` and ``_seq`` to the events.

    :param table: events from :func:`cjm_core.engine.events_table` (with ``_us``).
    :param gap: split a customer's events where consecutive events are more than ``gap``
        apart. ``None`` uses the events' own ``journey_id`` column when there is one, and
        otherwise splits at the default gap of 30 minutes.
    :param split_on_conversion: with a gap, also start a new journey after a conversion.
    :returns: the events with journey columns. A journey is identified by
        (``customer_id``, ``journey_id``): the given ids (text), or for generated journeys
        the number 1, 2, ... of the journey within its customer (int64, cheap to group
        by); :func:`journey_label` renders them as ``<customer_id>#<n>``. ``_seq`` orders
        each customer's events (the input order, or generated, see
        :func:`cjm_core.engine.order_keys`).

    One sort per customer serves everything: the gap test looks at the previous and next
    event (lag and lead), the journey number is a running sum of journey starts, and the
    step is the distance from the journey's first row. Times are integer microseconds.
    """
    t = table
    if gap is None and "journey_id" in t.columns:
        t = with_seq(t.mutate(journey_id=t.journey_id.cast("string")))
        w = ibis.window(group_by=[t.customer_id, t.journey_id], order_by=[t[US], t[SEQ]])
        return t.mutate(
            step=(ibis.row_number().over(w) + 1).cast("int64"),
            is_last=t[SEQ].lead().over(w).isnull(),
        )
    limit = int(round(gap_seconds(DEFAULT_GAP if gap is None else gap) * 1_000_000))
    w = ibis.window(group_by=t.customer_id, order_by=order_keys(t))
    us = t[US]
    previous, following = us.lag().over(w), us.lead().over(w)
    new = previous.isnull() | ((us - previous) > limit)
    last = following.isnull() | ((following - us) > limit)
    if split_on_conversion:
        conversion = t.event_type == CONVERSION
        new = new | conversion.lag().over(w).fill_null(False)
        last = last | conversion
    row = ibis.row_number().over(w)
    t = t.mutate(_new=new.cast("int64"), is_last=last, _row=row)
    if SEQ not in t.columns:
        t = t.mutate(**{SEQ: t._row.cast("int64")})
    running = ibis.cumulative_window(group_by=t.customer_id, order_by=t._row)
    t = t.mutate(
        journey_id=t._new.sum().over(running).cast("int64"),
        _first_row=ibis.ifelse(t._new == 1, t._row, None).max().over(running),
    )
    return t.mutate(step=(t._row - t._first_row + 1).cast("int64")).drop(
        "_new", "_row", "_first_row"
    )


def journey_label(t: ibis.Table) -> ibis.Value:
    """Journey ids as text: the given ids, or ``<customer_id>#<n>`` for generated ones."""
    if t.journey_id.type().is_string():
        return t.journey_id
    return t.customer_id.cast("string") + "#" + t.journey_id.cast("string")
