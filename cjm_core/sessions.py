"""The sessionised journey table in integer codes: what journeys, paths, transitions and
funnels are computed from.

:func:`sessions` reads the events, codes touchpoints, event types and channels as small
integers (their sorted vocabulary comes from one small query), and cuts each customer's
events into journeys with one shared sort. The table is narrow, so sorting and keeping 10
million events is cheap; :func:`cjm_core.prepare_events` keeps it on the engine for several
analyses to share.

Columns: ``customer_id`` (text; in the table that :func:`cjm_core.prepare_events` keeps on
DuckDB, a 63-bit code of the id, see :func:`customer_code`, with ``_mixed`` flagging two
customers under one code), ``_us`` (time, integer microseconds), ``_tp``, ``_ev``
(and ``_ch`` when the events have a channel column): codes 1..n in the order of
:attr:`Sessions.touchpoints` (:attr:`~Sessions.event_types`, :attr:`~Sessions.channels`),
0 for a missing value; ``_conv`` (a conversion event), ``value``, ``_seq`` (the order of the
customer's events), ``journey_id`` (1, 2, ... per customer, or the given ids),
``step`` (1-based), ``is_last``, and ``_prev``/``_dt``: the previous touchpoint code of the
journey and the microseconds since it (null on a journey's first event).

Example::

    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05",
    ...                                  "2024-01-01 12:00"], utc=True),
    ...     "touchpoint": ["web", "call", "web"],
    ... })
    >>> s = sessions(events, gap="30min")
    >>> s.touchpoints
    ['call', 'web']
    >>> s.engine.execute(s.table, order_by=["_seq"])[["_tp", "journey_id", "step"]].values.tolist()
    [[2, 1, 1], [1, 1, 2], [2, 2, 1]]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from .engine import SEQ, US, Engine, events_table
from .sequences import CONVERSION, cut_journeys, given_journeys
from .sql_functions import id_check, id_code


@dataclass
class Sessions:
    """A coded, sessionised event table on an engine, with the vocabularies of its codes."""

    engine: Engine
    table: ibis.Table
    counts: pd.DataFrame  # events per touchpoint, event type [and channel] (the vocabulary)
    touchpoints: list[str]
    event_types: list[str]
    channels: list[str] | None  # None: the events have no channel column
    key: tuple  # the journey options (see cjm_core.prepared.options_key)
    #: for a table kept on the engine (:func:`cjm_core.prepare_events`): the functions that
    #: drop it and the tables derived from it; None for an expression
    kept: list | None = None
    released: bool = False
    #: ``_seq`` numbers each customer's events in journey order (0, 1, ...), so it alone
    #: orders them; otherwise it is the input order, used after the timestamp
    ordinal: bool = False
    #: when ``customer_id`` holds 63-bit codes of the ids (:func:`customer_code`): the events
    #: whose ids they stand for (:meth:`with_ids` decodes them); None when it holds the ids
    id_source: ibis.Table | None = field(default=None, repr=False)
    _derived: dict = field(default_factory=dict, repr=False)

    def tp_code(self) -> dict[str, int]:
        """Touchpoint -> code."""
        return code_of(self.touchpoints)

    def tp_name(self) -> dict[int, str | None]:
        """Code -> touchpoint (0 -> None)."""
        return {0: None, **{i + 1: tp for i, tp in enumerate(self.touchpoints)}}

    @property
    def n_events(self) -> int:
        return int(self.counts["events"].sum())

    def derived(self, name: str, build: Callable[[], ibis.Table]) -> ibis.Table:
        """A table computed from this kept table by ``build()``, kept on the engine on first
        use and dropped with it (e.g. the per-journey rows that journeys and path variants
        share)."""
        from .prepared import materialise

        if self.kept is None:
            raise TypeError("only a kept table has derived tables")
        if name not in self._derived:
            table, drop = materialise(self.engine, build())
            self.kept.append(drop)
            self._derived[name] = table
        return self._derived[name]

    @property
    def coded_ids(self) -> bool:
        """Whether ``customer_id`` holds codes of the ids."""
        return self.id_source is not None

    def with_ids(self, t: ibis.Table) -> ibis.Table:
        """``t`` (a table read from this one) with its ``customer_id`` codes replaced by the
        ids again (from a table of the ids and their codes, kept on first use); ``t``
        itself when the ids are kept as they are."""
        if not self.coded_ids:
            return t

        def build() -> ibis.Table:
            ids = self.id_source.select(_cid=self.id_source.customer_id.cast("string"))
            ids = ids.distinct()
            return ids.mutate(_c=customer_code(ids._cid))

        ids = self.derived("customer_ids", build)
        j = t.left_join(ids, t.customer_id == ids._c)  # a null id has a null code
        return j.select(*(ids._cid.name(c) if c == "customer_id" else t[c] for c in t.columns))

    def decoded(self) -> ibis.Table:
        """The table with ``customer_id``, ``touchpoint`` and ``event_type`` as text again
        (for analyses written against the canonical columns)."""
        t = self.with_ids(self.table)
        return t.mutate(
            touchpoint=_decode(t._tp, self.touchpoints),
            event_type=_decode(t._ev, self.event_types),
            **({"channel": _decode(t._ch, self.channels)} if self.channels is not None else {}),
        )


def sessions(
    events: Any,
    *,
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
    engine: Any = None,
) -> Sessions:
    """The coded journey table of ``events`` (prepared events with the same options are
    used as they are; see :func:`cjm_core.prepare_events`)."""
    from .prepared import PreparedEvents, options_key

    if isinstance(events, PreparedEvents):
        eng, t = events.engine_for(engine), events.source
        kept = events.kept()
        wanted = options_key(gap, split_on_conversion, "journey_id" in t.columns)
        if wanted == kept.key:
            return kept
    else:
        eng, t = events_table(events, engine)
    return build(eng, t, gap, split_on_conversion)


def build(
    eng: Engine,
    t: ibis.Table,
    gap: Any,
    split_on_conversion: bool,
    like: Sessions | None = None,
    coded_ids: bool = False,
) -> Sessions:
    """Code and sessionise the canonical events ``t`` (an expression; nothing is kept).

    ``like``: use the vocabularies (so the codes) of another Sessions, e.g. of the whole
    log when ``t`` is a few of its customers; no vocabulary query is run then.
    ``coded_ids``: ``customer_id`` holds codes of the ids (:func:`customer_code`), and
    ``_mixed`` flags an event whose previous event under the same code is of another
    customer (:func:`has_mixed_customers`)."""
    from .prepared import options_key

    has_channel = "channel" in t.columns
    if has_channel:
        t = t.mutate(channel=t.channel.cast("string"))
    keys = ["touchpoint", "event_type", *(["channel"] if has_channel else [])]
    if like is not None:
        counts, touchpoints = like.counts, like.touchpoints
        event_types, channels = like.event_types, like.channels
    else:
        counts = eng.execute(t.group_by(keys).agg(events=ibis._.count()), order_by=keys)
        touchpoints = sorted(counts["touchpoint"].dropna().unique())
        event_types = sorted(counts["event_type"].dropna().unique())
        channels = sorted(counts["channel"].dropna().unique()) if has_channel else None
    given = "journey_id" in t.columns
    key = options_key(gap, split_on_conversion, given)
    conv_code = event_types.index(CONVERSION) + 1 if CONVERSION in event_types else -1
    ids = customer_code(t.customer_id) if coded_ids else t.customer_id
    cols = {
        "customer_id": ids,
        US: t[US],
        "_tp": _encode(t.touchpoint, touchpoints),
        "_ev": _encode(t.event_type, event_types),
        "value": t.value.cast("float64"),
    }
    if has_channel:
        cols["_ch"] = _encode(t.channel, channels)
    if SEQ in t.columns:
        cols[SEQ] = t[SEQ]
    if key == ("ids",):
        cols["journey_id"] = t.journey_id.cast("string")
    if coded_ids:  # a second, independent code: two customers sharing a code show
        cols["_id2"] = second_code(t.customer_id)
    n = t.select(**cols)
    n = n.mutate(_conv=n._ev == conv_code)
    order = [n[US], n[SEQ]] if SEQ in n.columns else [n[US], n._tp, n._ev]
    if key == ("ids",):
        if coded_ids:
            raise ValueError("customer codes are for journeys cut by a gap")
        table = given_journeys(n, order, previous_of="_tp")
    else:
        table = cut_journeys(
            n, order, key[1], split_on_conversion, n._conv, previous_of=n._tp, renumber=True,
            same="_id2" if coded_ids else None,
        )  # fmt: skip
        table = table.mutate(journey_id=table.journey_id.cast("int32"))
    # narrow integers: the table is kept for several analyses (cast to int64 before
    # arithmetic: DuckDB and Spark raise on overflow)
    table = table.mutate(step=table.step.cast("int32"), _prev=table._prev.cast(table._tp.type()))
    ordinal = key != ("ids",) or SEQ not in t.columns
    return Sessions(
        eng, table, counts, touchpoints, event_types, channels, key, ordinal=ordinal,
        id_source=t if coded_ids else None,
    )  # fmt: skip


def customer_code(ids: ibis.Value) -> ibis.IntegerValue:
    """A customer id as a 63-bit code (its hash; null for a null id), on DuckDB. Sorting and
    joining codes costs far less than text: the two sorts that cut journeys carry no text.
    The engine needs :func:`cjm_core.sql_functions.add_id_macros` first."""
    return id_code(ids.cast("string"))


def second_code(ids: ibis.Value) -> ibis.IntegerValue:
    """Another 63-bit code of a customer id, independent of :func:`customer_code`."""
    return id_check(ids.cast("string"))


def has_mixed_customers(s: Sessions) -> bool:
    """Whether two customers of the kept table ``s`` share a code (a hash collision, about
    one chance in 10**7 with a billion customers): then their events must keep the ids."""
    t = s.table
    return bool(s.engine.execute(t.aggregate(m=t._mixed.any()))["m"].fillna(False).iloc[0])


def code_of(vocabulary: list[str]) -> dict[str, int]:
    """Value -> code: 1..n in the order of the (sorted) vocabulary; 0 is a missing value."""
    return {v: i + 1 for i, v in enumerate(vocabulary)}


def _encode(column: ibis.Value, vocabulary: list[str]) -> ibis.IntegerValue:
    dtype = "int16" if len(vocabulary) < 32_000 else "int32"
    if not vocabulary:
        return ibis.literal(0, dtype)
    return column.substitute(code_of(vocabulary), else_=0).cast(dtype)


def _decode(column: ibis.Value, vocabulary: list[str]) -> ibis.StringValue:
    if not vocabulary:
        return ibis.null("string")
    mapping: Mapping[int, str] = {i + 1: v for i, v in enumerate(vocabulary)}
    return column.substitute(mapping, else_=ibis.null("string")).cast("string")
