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

from .engine import SEQ, US, order_keys
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
        return given_journeys(t.mutate(journey_id=t.journey_id.cast("string")), order_keys(t))
    limit = int(round(gap_seconds(DEFAULT_GAP if gap is None else gap) * 1_000_000))
    conversion = t.event_type == CONVERSION
    return cut_journeys(t, order_keys(t), limit, split_on_conversion, conversion)


def cut_journeys(
    t: ibis.Table,
    order: list[ibis.Value],
    limit_us: int,
    split: bool,
    conversion: ibis.BooleanValue,
    previous_of: ibis.Value | None = None,
    renumber: bool = False,
    same: str | None = None,
) -> ibis.Table:
    """Journeys by an inactivity gap of ``limit_us`` microseconds (and, with ``split``,
    after each ``conversion``), each customer's events in ``order``: one sort for the gap
    test (the previous event) and the row number, a second, by row number, for the running
    journey number and the neighbours (next event, previous touchpoint and gap), so the
    first pass carries fewer columns through its sort.

    Adds journey_id (1, 2, ... per customer), step, is_last and ``_seq`` (when absent, or
    with ``renumber``: each customer's events numbered 0, 1, ... in ``order``);
    with ``previous_of`` also ``_prev`` (its value on the journey's previous event) and
    ``_dt`` (microseconds since that event), null on a journey's first event; with
    ``same`` (a column that never changes within a customer, e.g. a second code of the id
    when the partition is a first one) ``_mixed``: the previous event has another value
    (two customers share the partition), and the column itself is dropped.
    """
    w = ibis.window(group_by=t.customer_id, order_by=order)
    us = t[US]
    before = us.lag().over(w)
    new = before.isnull() | ((us - before) > limit_us)
    if split:
        new = new | conversion.lag().over(w).fill_null(False)
    flags = {"_new": new, "_row": ibis.row_number().over(w)}
    split_col = _column_name(t, conversion) if split else None
    if split and split_col is None:  # an expression on the input: kept for pass 2
        flags[split_col := "_split"] = conversion
    if same is not None:
        flags["_mixed"] = (t[same].lag().over(w) != t[same]).fill_null(False)
    t = t.mutate(**flags)
    if same is not None:
        t = t.drop(same)
    # pass 2: one sort by the row number serves the running journey number and the
    # neighbours (next event, previous touchpoint and gap), so pass 1 carries fewer columns
    near = ibis.window(group_by=t.customer_id, order_by=t._row)
    running = ibis.cumulative_window(group_by=t.customer_id, order_by=t._row)
    us = t[US]
    after = us.lead().over(near)
    last = after.isnull() | ((after - us) > limit_us)
    if split:
        last = last | t[split_col]
    extra = {}
    if previous_of is not None:
        previous = t[previous_of.get_name()]
        extra["_prev"] = ibis.ifelse(t._new, ibis.null(previous.type()), previous.lag().over(near))
        extra["_dt"] = ibis.ifelse(t._new, ibis.null("int64"), us - us.lag().over(near))
    if renumber or SEQ not in t.columns:
        extra[SEQ] = t._row.cast("int64")
    t = t.mutate(
        is_last=last,
        journey_id=t._new.cast("int64").sum().over(running).cast("int64"),
        _first=ibis.ifelse(t._new, t._row, None).max().over(running),
        **extra,
    )
    done = t.mutate(step=(t._row - t._first + 1).cast("int64"))
    return done.drop("_new", "_row", "_first", *(["_split"] if split_col == "_split" else []))


def _column_name(t: ibis.Table, value: ibis.Value) -> str | None:
    """The name of ``value`` when it is just a column of ``t``."""
    name = value.get_name() if hasattr(value, "get_name") else None
    return name if name in t.columns and value.equals(t[name]) else None


def given_journeys(
    t: ibis.Table, order: list[ibis.Value], previous_of: str | None = None
) -> ibis.Table:
    """Journeys given by the events' own (text) journey_id; adds step, is_last and
    ``_seq`` (when absent, numbering each customer's events in ``order``); with
    ``previous_of`` (a column name) also ``_prev`` and ``_dt`` as :func:`cut_journeys`."""
    if SEQ not in t.columns:
        whole = ibis.window(group_by=t.customer_id, order_by=order)
        t = t.mutate(**{SEQ: ibis.row_number().over(whole).cast("int64")})
    w = ibis.window(group_by=[t.customer_id, t.journey_id], order_by=[t[US], t[SEQ]])
    first = ibis.row_number().over(w) == 0
    extra = {}
    if previous_of is not None:
        column = t[previous_of]
        extra["_prev"] = ibis.ifelse(first, ibis.null(column.type()), column.lag().over(w))
        extra["_dt"] = ibis.ifelse(first, ibis.null("int64"), t[US] - t[US].lag().over(w))
    return t.mutate(
        step=(ibis.row_number().over(w) + 1).cast("int64"),
        is_last=t[SEQ].lead().over(w).isnull(),
        **extra,
    )


def journey_label(t: ibis.Table) -> ibis.Value:
    """Journey ids as text: the given ids, or ``<customer_id>#<n>`` for generated ones."""
    if t.journey_id.type().is_string():
        return t.journey_id
    return t.customer_id.cast("string") + "#" + t.journey_id.cast("string")
