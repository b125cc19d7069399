"""Events in journey order: the one shared step under every journey analysis.

:func:`journey_events` assigns each event to a journey and a position in it, as an Ibis
expression (so it runs on DuckDB or Spark unchanged). Events are ordered by customer, then
timestamp, then ``_seq`` (the input order): ties in timestamps keep the order of the input.

A journey is either given (the ``journey_id`` column, per customer) or made by splitting
each customer's events where the gap between two events exceeds ``gap`` and, with
``split_on_conversion``, right after a conversion event.
"""

from __future__ import annotations

import ibis
import pandas as pd

from .engine import SEQ
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


def epoch_ms(ts: ibis.TimestampValue) -> ibis.IntegerValue:
    """Milliseconds since 1970, identical on DuckDB and Spark (whole seconds + milliseconds;
    finer precision is dropped, as Spark's ``unix_timestamp`` has whole seconds only).

    Example::

        >>> import ibis
        >>> from cjm_core.engine import duckdb_engine
        >>> ts = ibis.literal("1970-01-01 00:00:01.250", type="timestamp")
        >>> int(duckdb_engine().con.execute(epoch_ms(ts)))
        1250
    """
    seconds = ts.epoch_seconds().floor().cast("int64")
    return seconds * 1000 + ts.millisecond().cast("int64")


def journey_events(
    table: ibis.Table,
    *,
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
) -> ibis.Table:
    """Add ``journey_id`` (str), ``step`` (1-based), ``n_steps`` and ``is_last`` to events.

    :param gap: split a customer's events where consecutive events are more than ``gap``
        apart. ``None`` uses the events' own ``journey_id`` column when there is one, and
        otherwise splits at the default gap of 30 minutes.
    :param split_on_conversion: with a gap, also start a new journey after a conversion.
    :returns: the events with journey columns; generated ids are ``<customer_id>#<n>``
        (n = 1, 2, ... in time order).
    """
    t = table
    order = [t.timestamp, t[SEQ]]
    if gap is None and "journey_id" in t.columns:
        t = t.mutate(journey_id=t.journey_id.cast("string"))
    else:
        seconds = gap_seconds(DEFAULT_GAP if gap is None else gap)
        w = ibis.window(group_by=t.customer_id, order_by=order)
        epoch = epoch_ms(t.timestamp)
        previous = epoch.lag().over(w)
        new = previous.isnull() | ((epoch - previous) > seconds * 1000)
        if split_on_conversion:
            after_conversion = (t.event_type == CONVERSION).lag().over(w).fill_null(False)
            new = new | after_conversion
        t = t.mutate(_new_journey=new.cast("int64"))
        running = ibis.cumulative_window(group_by=t.customer_id, order_by=[t.timestamp, t[SEQ]])
        t = t.mutate(_journey_no=t._new_journey.sum().over(running))
        t = t.mutate(
            journey_id=t.customer_id.cast("string") + "#" + t._journey_no.cast("string")
        ).drop("_new_journey", "_journey_no")
    within = ibis.window(group_by=[t.customer_id, t.journey_id], order_by=[t.timestamp, t[SEQ]])
    whole = ibis.window(group_by=[t.customer_id, t.journey_id])
    t = t.mutate(
        step=(ibis.row_number().over(within) + 1).cast("int64"),
        n_steps=t[SEQ].count().over(whole).cast("int64"),
    )
    return t.mutate(is_last=t.step == t.n_steps)
