"""Funnels: how many customers go on from a first step to the next ones, within a window.

The counting unit is the **customer**. A customer enters the funnel at their *first* event
matching step 1 (the entry); the conversion window runs from that entry, and only that
first attempt is evaluated (a later step-1 event does not start a second attempt).

Events are taken in the shared journey order: customer, timestamp, then ``_seq`` (the input
order), so ties in timestamps are resolved the same way everywhere: an event matches a later
step only if it comes *after* the previous matched event in that order (two events at the
same instant count as step k then step k+1 when step k's row comes first).

The window is inclusive: an event exactly ``window`` after the entry counts, one
microsecond later does not.

Modes
    ``ordered``: each step happens after the previous step's match (other events may occur
    in between); each step takes the first matching event after the previous one.
    ``strict``: each step is the customer's very next event after the previous match (no
    other event of any kind in between; as only the first attempt counts, a second step-1
    event right after the entry also breaks the chain).
    ``any``: step k counts customers who did steps 1..k, in any order, after the entry.
    Time to step k is when the last of them was first done.

Optional steps may be skipped: later steps are measured from the previous *required* step,
and an optional step's own row counts customers who did it after the previous required step
(its conversion and drop-off are also relative to that step). In strict mode a matched
optional step must be followed directly by the next step.

Exclusion: a customer with an excluded event after the entry and before their last matched
step is removed from the whole funnel; the result's notes say how many.

Ids: with a catalog, ids it does not know are errors and known ids without events give
zeros; without one (and always for event types), ids that occur in no event are errors (a
typo is likelier than a step nobody took), except on an empty log, which gives zeros.

Example::

    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01"], utc=True),
    ...     "touchpoint": ["website", "checkout", "website"]})
    >>> funnel(events, ["website", "checkout"]).to_frame()["customers"].tolist()
    [2, 1]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import ibis
import pandas as pd

from .engine import SEQ, Engine, catalog_of, events_table
from .errors import CjmError
from .funnel_query import (
    BUILDERS,
    Order,
    attach_customer_attribute,
    count_matches,
    count_steps,
    entries,
    mark_excluded,
    ordered_matches,
    presence,
)
from .funnel_result import FunnelResult, step_rows
from .funnel_steps import (
    FunnelStep,
    check_any_order,
    check_choice,
    known_ids,
    match_column,
    read_exclude,
    read_steps,
)
from .model import JourneyCatalog
from .prepared import PreparedEvents
from .sequences import gap_seconds
from .sessions import code_of, customer_code

__all__ = ["FunnelResult", "FunnelStep", "funnel"]


def funnel(
    events: Any,
    steps: Any,
    *,
    window: str | pd.Timedelta | float = "7D",
    mode: str = "ordered",
    level: str = "touchpoint",
    optional: Any = (),
    exclude: Any = (),
    breakdown: str | None = None,
    catalog: JourneyCatalog | None = None,
    customers: Any = None,
    engine: Any = None,
) -> FunnelResult:
    """Customers reaching each step of a funnel within ``window`` of entering it.

    :param events: canonical events (DataFrame, Parquet/CSV path, Ibis table, Spark
        DataFrame or DataBundle; a bundle also supplies ``catalog`` and ``customers``).
    :param steps: ids at ``level``, in order; a list/tuple inside means "any of these".
    :param window: conversion window from the entry ("7D", "2h", seconds), inclusive.
    :param mode: ``"ordered"``, ``"strict"`` or ``"any"`` (see the module docstring).
    :param level: ``"touchpoint"``, ``"stage"`` (needs ``catalog``) or ``"event_type"``.
    :param optional: 1-based numbers (or names) of steps that may be skipped (not step 1).
    :param exclude: ids at ``level``; customers with such an event between their entry and
        their last matched step are removed (and counted in the notes).
    :param breakdown: a column of the events (value at the entry event) or of ``customers``
        (joined on customer_id; preferred when both have it): one funnel per value.
    :param catalog: validates ids (unknown ids are errors) and maps touchpoints to stages.
        Without it, ids must occur in the events.
    :param customers: customer attributes (one row per customer_id) for ``breakdown``.
    :param engine: None (current/default DuckDB), "duckdb", a SparkSession or an Engine.
    :returns: a :class:`FunnelResult`; its rows are per breakdown value and step.

    Example::

        >>> import pandas as pd
        >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b", "b"],
        ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 10:00",
        ...                                  "2024-01-01 09:00", "2024-01-09 09:00"], utc=True),
        ...     "touchpoint": ["website", "checkout", "website", "checkout"]})
        >>> f = funnel(ev, ["website", "checkout"], window="7D")
        >>> f.to_frame()["customers"].tolist(), f.to_frame()["conversion_from_start"].tolist()
        ([2, 1], [1.0, 0.5])
    """
    check_choice(mode, level)
    catalog = catalog_of(events, catalog)
    if hasattr(events, "events") and hasattr(events, "customers"):  # a DataBundle
        customers = customers if customers is not None else events.customers
    seconds = _window_seconds(window)
    plan = read_steps(steps, level, optional=optional, catalog=catalog)
    excl_ids, excl_values = read_exclude(exclude, level, plan, catalog)
    if mode == "any":
        check_any_order(plan)
    if mode == "strict" and excl_ids:
        raise CjmError(
            "exclude has no effect in mode='strict': the steps are consecutive events, so no "
            "other event can occur between them. Use mode='ordered' with exclude."
        )
    if breakdown in ("customer_id", "timestamp", SEQ):
        raise CjmError(f"breakdown={breakdown!r} is not an attribute; use e.g. 'region'.")

    eng, table = events_table(events, engine)
    column = match_column(level)
    all_values = sorted({v for s in plan for v in s.values} | set(excl_values))
    every = table  # all events: what a missing id is reported against
    source, people = _breakdown_source(eng, table, breakdown, customers)
    attribute = breakdown if source == "events" else None
    # the query's view of the steps: the values, or on prepared events their codes
    q = _Query(table, column, plan, all_values, tuple(excl_values))
    order, code = Order(), None
    if isinstance(events, PreparedEvents) and attribute is None:
        kept = events.kept()
        q = _Query.on_codes(kept, q, strict=mode == "strict")
        order = Order(by_seq=kept.ordinal)
        code = customer_code if kept.coded_ids else None  # the kept ids are codes
    entry, base = entries(q.table, q.column, q.plan, q.values, mode, attribute, order)
    if people is not None:
        entry = attach_customer_attribute(entry, people, breakdown, code)
    if mode == "ordered" and not excl_values and breakdown is None:  # no per-customer table
        expr = count_matches(entry, ordered_matches(entry, base, q.plan, seconds, order))
    else:
        state = BUILDERS[mode](entry, base, q.plan, seconds, order)
        if excl_values:
            state = mark_excluded(state, base, q.excluded, q.plan, seconds, order)
        expr = count_steps(state, q.plan, grouped=breakdown is not None)
    check = known_ids(level, catalog) is None  # no vocabulary: ids must occur in the events
    if check and q.present is None:  # answered by the same query (the filtered events are shared)
        expr = expr.cross_join(presence(base, q.values))
    counts = eng.execute(expr, order_by=["bd"] if breakdown else None)
    if check and q.present is not None:  # prepared events: their vocabulary tells
        counts = counts.assign(**{f"has{i}": has for i, has in enumerate(q.present)})
    notes = []
    if check:
        notes += _check_present(eng, every, base, counts, all_values, level, column, excl_ids)
    table_out, removed = step_rows(counts, plan, breakdown)
    if removed:
        notes.append(
            f"{removed} customer(s) removed from the funnel: an excluded event "
            f"({', '.join(excl_ids)}) occurred between their entry and their last matched step."
        )
    if not notes and (table_out.empty or int(table_out["customers"].max()) == 0):
        notes.append(f"No customer entered the funnel: no event matched step 1 ({plan[0].name}).")
    if any(s.optional for s in plan):
        notes.append(
            "Optional steps may be skipped; each is measured from the previous required step "
            "and later steps do not require it."
        )
    return FunnelResult(
        table_out,
        notes,
        steps=plan,
        breakdown=breakdown,
        excluded=removed,
        mode=mode,
        level=level,
        window=str(window),
        engine=eng.name,
    )


@dataclass(frozen=True)
class _Query:
    """What the funnel query matches: ``column`` of ``table`` against the steps' values."""

    table: ibis.Table
    column: str
    plan: list[FunnelStep]
    values: list[Any]
    excluded: tuple[Any, ...]
    present: list[bool] | None = None  # which values occur in the events, when known

    @classmethod
    def on_codes(cls, ses: Any, q: _Query, strict: bool) -> _Query:
        """On a kept journey table (:mod:`cjm_core.sessions`): touchpoints and event types
        as their integer codes, so no event is decoded; only the events of the steps are
        read, unless strict mode has to number all events (when ``_seq`` does not)."""
        if q.column == "touchpoint":
            column, vocabulary = "_tp", ses.touchpoints
        else:
            column, vocabulary = "_ev", ses.event_types
        code = code_of(vocabulary)

        def coded(values):
            return tuple(code.get(v, -1) for v in values)  # -1: occurs in no event

        table = ses.table
        if not strict or ses.ordinal:
            table = table.filter(table[column].isin(list(coded(q.values)) or [-1]))
        plan = [replace(step, values=coded(step.values)) for step in q.plan]
        values = list(coded(q.values))
        present = [v != -1 for v in values]
        return cls(table, column, plan, values, coded(q.excluded), present)


# -- checks that need the data ---------------------------------------------------------------


def _window_seconds(window: Any) -> float:
    try:
        return gap_seconds(window)
    except CjmError as error:
        raise CjmError(f"Bad window={window!r}: {error}") from None


def _check_present(
    eng: Engine,
    table: ibis.Table,
    base: ibis.Table,
    counts: pd.DataFrame,
    values: list[str],
    level: str,
    column: str,
    excl_ids: tuple[str, ...],
) -> list[str]:
    """Without a catalog to vouch for them, ids must occur in the events: raise if one does
    not (a likely typo); an empty log gives a note instead."""
    if len(counts) == 0:  # a breakdown with nobody entered: ask separately
        counts = eng.execute(presence(base, values))
    found = counts.iloc[0]
    missing = [v for i, v in enumerate(values) if not bool(found[f"has{i}"])]
    if not missing:
        return []
    if eng.execute(table.aggregate(n=table.customer_id.count()))["n"].iloc[0] == 0:
        return ["The event log is empty: no customer entered the funnel."]
    col = table[column]
    shown = eng.execute(table.select(v=col).distinct().order_by("v").limit(30))["v"].tolist()
    what = "exclude" if set(missing) <= set(excl_ids) else "steps"
    raise CjmError(
        f"{level} id(s) {missing} in {what} occur in no event (column {column!r}); values "
        f"present include {shown}. Fix the ids, or pass catalog= to accept ids without events."
    )


def _breakdown_source(
    eng: Engine, table: ibis.Table, breakdown: str | None, customers: Any
) -> tuple[str | None, ibis.Table | None]:
    """Where the breakdown column comes from: ("customers", their table) or ("events", None)."""
    if breakdown is None:
        return None, None
    if customers is not None:
        people = _customers_table(eng, customers, breakdown)
        if people is not None:
            return "customers", people
    if breakdown in table.columns:
        return "events", None
    where = "events" + (" or the customers" if customers is not None else "")
    hint = "" if customers is not None else "; pass customers= for customer attributes"
    raise CjmError(
        f"breakdown column {breakdown!r} is in neither the {where}; event columns: "
        f"{list(table.columns)}{hint}."
    )


def _customers_table(eng: Engine, customers: Any, breakdown: str) -> ibis.Table | None:
    """customer_id + the breakdown column, one row per customer (None: column absent)."""
    if isinstance(customers, pd.DataFrame):
        if breakdown not in customers.columns:
            return None
        _require_id(list(customers.columns))
        dup = customers["customer_id"][customers["customer_id"].duplicated()]
        if len(dup):
            _duplicates(len(dup), dup.head(5).tolist())
        return eng.table(customers[["customer_id", breakdown]])
    people = eng.table(customers)
    if breakdown not in people.columns:
        return None
    _require_id(list(people.columns))
    ids = people.customer_id
    check = eng.execute(people.aggregate(n=ids.count(), unique=ids.nunique()))
    extra = int(check["n"].iloc[0] - check["unique"].iloc[0])
    if extra:
        _duplicates(extra, [])
    return people.select("customer_id", breakdown)


def _require_id(columns: list[str]) -> None:
    if "customer_id" not in columns:
        raise CjmError(f"customers has no 'customer_id' column to join on; columns: {columns}.")


def _duplicates(count: int, first: list) -> None:
    shown = f" (first: {first})" if first else ""
    raise CjmError(
        f"customers repeats {count} customer_id value(s){shown}; a breakdown needs one row "
        "per customer. Deduplicate the customers table first."
    )
