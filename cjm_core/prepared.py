"""Events sessionised once and kept on the engine, shared by every journey analysis.

Each analysis on its own reads the events and sorts every customer's events into journeys.
When several analyses run on the same log (a journey summary: journeys, paths, transitions,
a funnel), :func:`prepare_events` does that work once and keeps the coded journey table
(:mod:`cjm_core.sessions`) on the engine: a temporary DuckDB table, a cached Spark table.
Every analysis accepts the result in place of the events, with the same results::

    >>> import pandas as pd
    >>> from cjm_core import build_journeys, path_variants
    >>> events = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05",
    ...                                  "2024-01-02 09:00"], utc=True),
    ...     "touchpoint": ["website", "call_centre", "website"],
    ... })
    >>> prepared = prepare_events(events, gap="30min")
    >>> len(build_journeys(prepared)), len(build_journeys(events))
    (2, 2)
    >>> path_variants(prepared).to_frame()["variant"].tolist()[:2]
    ['website', 'website > call_centre']

On DuckDB the kept table holds each customer id as a 63-bit code (its hash): the two sorts
that cut journeys and the joins of funnels then carry no text. A second, independent code
travels through the first sort, so two ids sharing a code are noticed (about one chance in
10**7 with a billion customers) and the events are kept with their ids instead. The ids come
back where results show them (the journey table; a customers breakdown is matched by code).

Journeys, path variants, transitions and funnels read the kept table. An analysis asked for
other journey options (another ``gap``), and the analyses that need columns the coded table
does not keep (drop-off, loops, KPIs, retention, funnels by an event attribute), read the
events again: correct, but not faster.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass, field
from typing import Any

import ibis
import pandas as pd

from .engine import Engine, events_table, get_engine
from .errors import CjmError

_names = itertools.count()


def options_key(gap: Any, split_on_conversion: bool, has_ids: bool) -> tuple:
    """What defines the journeys: the given ids, or (gap in microseconds, split)."""
    from .sequences import DEFAULT_GAP, gap_seconds

    if gap is None and has_ids:
        return ("ids",)
    seconds = gap_seconds(DEFAULT_GAP if gap is None else gap)
    return ("gap", int(round(seconds * 1_000_000)), bool(split_on_conversion))


@dataclass(eq=False)
class PreparedEvents:
    """Canonical events (``source``) and their coded journey table kept on an engine
    (``sessions``). Make them with :func:`prepare_events`."""

    engine: Engine
    source: ibis.Table
    sessions: Any  # cjm_core.sessions.Sessions, its table materialised
    gap: Any
    split_on_conversion: bool
    _finalizer: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"PreparedEvents(engine={self.engine.name!r}, gap={self.gap!r}, "
            f"split_on_conversion={self.split_on_conversion})"
        )

    def engine_for(self, engine: Any) -> Engine:
        """The engine the events live on; an analysis asking for another one is an error."""
        if engine is None or engine is self.engine:
            return self.engine
        if get_engine(engine).con is self.engine.con:
            return self.engine
        raise CjmError(
            f"These events were prepared on {self.engine!r}; run the analysis there (omit "
            "engine=) or prepare them again on the other engine."
        )

    def kept(self) -> Any:
        """The coded journey table kept on the engine (:class:`cjm_core.sessions.Sessions`);
        an error once :meth:`release` has dropped it."""
        if self.sessions.released:
            raise CjmError(
                "These prepared events were released (release() drops their tables); "
                "prepare the events again."
            )
        return self.sessions

    def release(self) -> None:
        """Drop the kept tables from the engine now (otherwise when neither these events nor
        a result reading them is in use). Results that read them (``build_journeys``)
        stop working: bring them over with ``to_frame()`` first."""
        self.sessions.released = True
        if self._finalizer is not None:
            self._finalizer()


def prepare_events(
    events: Any,
    *,
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
    engine: Any = None,
) -> PreparedEvents:
    """Read, check, code and sessionise ``events`` once, for several analyses to share.

    :param events: a pandas DataFrame, a Parquet/CSV path, an Ibis table, a Spark DataFrame
        or a DataBundle (see :func:`cjm_core.engine.events_table`).
    :param gap, split_on_conversion: how journeys are cut, as in
        :func:`cjm_core.build_journeys` (``gap=None``: the events' own journey_id, else
        30 minutes). Analyses called with the same options reuse the journeys.
    :returns: :class:`PreparedEvents`, accepted as ``events`` by every analysis.

    Example::

        >>> import pandas as pd
        >>> from cjm_core import transitions
        >>> events = pd.DataFrame({
        ...     "customer_id": ["a", "a"],
        ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:03"], utc=True),
        ...     "touchpoint": ["website", "call_centre"],
        ... })
        >>> prepared = prepare_events(events, gap="30min")
        >>> transitions(prepared).to_frame()[["from", "to", "count"]].values.tolist()[-1]
        ['website', 'call_centre', 1]
    """
    from .sessions import build, has_mixed_customers
    from .sql_functions import add_id_macros

    eng, source = events_table(events, engine)
    # on DuckDB journeys cut by a gap code the customers as integers (their hashes): the
    # sorts carry no text. Spark keeps the ids (its hash has 32 bits).
    key = options_key(gap, split_on_conversion, "journey_id" in source.columns)
    code = eng.name == "duckdb" and key[0] == "gap"
    if code:
        add_id_macros(eng.con)
    coded = build(eng, source, gap, split_on_conversion, coded_ids=code)
    coded.table, drop = materialise(eng, coded.table)
    if code and has_mixed_customers(coded):  # two ids share a code: keep the ids
        drop()
        coded = build(eng, source, gap, split_on_conversion, like=coded)
        coded.table, drop = materialise(eng, coded.table)
    coded.kept = [drop]
    prepared = PreparedEvents(eng, source, coded, gap, split_on_conversion)
    # the tables live while the coded table is used: by these events or by a result that
    # reads them (build_journeys' result reads the shared journey rows)
    prepared._finalizer = weakref.finalize(coded, _drop_all, coded.kept)
    return prepared


def _drop_all(drops: list) -> None:
    for drop in reversed(drops):
        drop()


def materialise(eng: Engine, expr: ibis.Table) -> tuple[ibis.Table, Any]:
    """Keep ``expr`` on the engine; returns the table and a function that drops it."""
    name = f"cjm_kept_{next(_names)}"
    con = eng.con
    if eng.name == "pyspark":
        # a cached temp view on the session (``expr.cache()`` would pick Ibis's default
        # backend for in-memory inputs); the pinned Ibis's own steps for it
        con._run_pre_execute_hooks(expr)
        table = con._create_cached_table(name, expr)

        def release() -> None:
            try:
                con._drop_cached_table(name)
            except Exception:  # noqa: BLE001 - the session may be stopped at exit
                pass

        return table, release
    table = con.create_table(name, expr, temp=True)

    def drop() -> None:
        try:
            con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
        except Exception:  # noqa: BLE001 - the connection may be closed at exit
            pass

    return table, drop
