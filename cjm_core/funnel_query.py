"""The funnel as Ibis expressions: one row per customer, then one small aggregate.

Events are ordered per customer by the key (timestamp, _seq), with timestamps as integer
microseconds since 1970 (``ts`` below); "after" compares keys, and
"the first matching event" is the minimum of a struct (timestamp, _seq) per customer, so no
per-customer sort (window) is needed in ordered and any-order modes: every step is a hash
join of that step's events with the previous step's match, then a min per customer. Strict
mode numbers all events of a customer once (``pos``) to know what "the next event" is.
On prepared events ``_seq`` already numbers each customer's events in journey order, so it
alone orders them (:class:`Order`): plain minimums, and no numbering in strict mode.

The per-customer table (``state``) holds ``cid``, the entry ``t1``/``s1`` (time in
microseconds and _seq), per later step ``t{k}``/``s{k}`` (its matched event), then ``r{k}``
(reached, bool) and ``d{k}`` (seconds from the entry, null when not reached); ``excluded``
when the funnel has exclusions. Nothing per event comes back to Python.

Example::

    >>> import pandas as pd
    >>> from cjm_core.engine import events_table
    >>> from cjm_core.funnel_steps import read_steps
    >>> eng, t = events_table(pd.DataFrame({"customer_id": ["a", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
    ...     "touchpoint": ["web", "shop"]}))
    >>> plan = read_steps(["web", "shop"], "touchpoint")
    >>> entry, base = entries(t, "touchpoint", plan, ["shop", "web"], "ordered", None)
    >>> state = BUILDERS["ordered"](entry, base, plan, 86400.0, Order())
    >>> out = eng.execute(count_steps(state, plan, False))
    >>> int(out["c1"][0]), int(out["c2"][0]), float(out["m2"][0])
    (1, 1, 86400.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis

from .engine import SEQ, US, with_seq
from .funnel_steps import FunnelStep


def entries(
    table: ibis.Table,
    column: str,
    plan: list[FunnelStep],
    values: list[str],
    mode: str,
    attribute: str | None,
    order: Order | None = None,
) -> tuple[ibis.Table, ibis.Table]:
    """The entry per customer (``cid, t1, s1`` [+ ``p1`` in strict mode, + ``bd``, the
    attribute at the entry event]) and the events of the steps and exclusions (``cid, ts,
    seq, v`` [+ ``pos``]), filtered first so the joins work on the few rows that matter.
    """
    order = order or Order()
    table = with_seq(table)
    cols = {"cid": table.customer_id, "ts": table[US], "seq": table[SEQ]}
    cols["v"] = table[column]
    if attribute is not None:
        cols["bd"] = table[attribute]
    t = table.select(**cols)
    if mode == "strict":  # consecutive means consecutive among all events of the customer
        if order.by_seq:  # _seq numbers them already
            t = t.mutate(pos=t.seq.cast("int64"))
        else:
            position = ibis.row_number().over(group_by=t.cid, order_by=[t.ts, t.seq])
            t = t.mutate(pos=position.cast("int64"))
    t = t.filter(t.v.isin(values) if values else ibis.literal(False))
    first = t.filter(is_step(t.v, plan[0]))
    extra = [c for c in ("pos", "bd") if c in first.columns]
    e = first.group_by("cid").aggregate(**order.first(first, "e", extra))
    ts, seq, more = order.unpack(e, "e", extra)
    out = {"t1": ts, "s1": seq}
    if "pos" in more:
        out["p1"] = more["pos"]
    if "bd" in more:
        out["bd"] = more["bd"]
    return e.select("cid", **out), t.drop("bd") if attribute is not None else t


@dataclass(frozen=True)
class Order:
    """How events compare in journey order.

    In general by (timestamp, _seq): "after" compares both and the first event is the
    minimum of a struct. With ``by_seq``, ``_seq`` numbers each customer's events in
    journey order (as on prepared events), so it alone decides: a plain minimum, no struct
    (the timestamp of the event with the smallest ``_seq`` is the smallest timestamp)."""

    by_seq: bool = False

    def after(self, ts, seq, at, aseq) -> ibis.BooleanValue:
        """(ts, seq) comes strictly after (at, aseq)."""
        if self.by_seq:
            return seq > aseq
        return (ts > at) | ((ts == at) & (seq > aseq))

    def first(self, t: ibis.Table, name: str, extra=(), where=None) -> dict[str, ibis.Value]:
        """Aggregates of the first event of ``t`` (where ``where`` holds): its ts and seq
        and the ``extra`` columns of that event, under names made from ``name``."""
        if not self.by_seq:
            fields = {"ts": t.ts, "seq": t.seq, **{c: t[c] for c in extra}}
            return {name: ibis.struct(fields).min(where=where)}
        out = {f"{name}_ts": t.ts.min(where=where), f"{name}_seq": t.seq.min(where=where)}
        out.update({f"{name}_{c}": t[c].argmin(t.seq, where=where) for c in extra})
        return out

    def unpack(self, g: ibis.Table, name: str, extra=()) -> tuple:
        """(ts, seq, {extra column: value}) of the aggregates made by :meth:`first`."""
        if not self.by_seq:
            return g[name]["ts"], g[name]["seq"], {c: g[name][c] for c in extra}
        return g[f"{name}_ts"], g[f"{name}_seq"], {c: g[f"{name}_{c}"] for c in extra}


def attach_customer_attribute(
    state: ibis.Table, people: ibis.Table, name: str, code: Callable | None = None
) -> ibis.Table:
    """Add ``bd`` from the customers table (null for customers it does not list);
    ``code``: how ids become the codes ``state.cid`` holds (None: cid holds the ids)."""
    ids = people.customer_id.cast("string")
    p = people.select(pcid=ids if code is None else code(ids), bd=people[name])
    cid = state.cid if code is not None else state.cid.cast("string")
    j = state.left_join(p, cid == p.pcid)
    return j.select(*state.columns, "bd")


def ordered(
    entry: ibis.Table, base: ibis.Table, plan: list[FunnelStep], seconds: float, order: Order
) -> ibis.Table:
    """Each step: the first matching event after the previous required step's match."""
    found = ordered_matches(entry, base, plan, seconds, order)
    return _finish(_collect(entry, found), plan, {s.number: [s.number] for s in plan})


def ordered_matches(
    entry: ibis.Table, base: ibis.Table, plan: list[FunnelStep], seconds: float, order: Order
) -> dict[int, ibis.Table]:
    """Per later step (by number), its match for each customer who reached it: ``acid``,
    ``wt`` (the entry time), ``at`` and ``aseq`` (the matched event)."""
    anchor = entry.select(acid=entry.cid, at=entry.t1, aseq=entry.s1, wt=entry.t1)
    found = {}
    for step in plan[1:]:
        cand = base.filter(is_step(base.v, step))
        j = cand.join(
            anchor,
            [
                cand.cid == anchor.acid,
                order.after(cand.ts, cand.seq, anchor.at, anchor.aseq),
                cand.ts <= anchor.wt + _micros(seconds),
            ],
        )
        g = j.group_by(acid=j.cid, wt=j.wt).aggregate(**order.first(j, "f"))
        ts, seq, _ = order.unpack(g, "f")
        found[step.number] = g.select("acid", "wt", at=ts, aseq=seq)
        if not step.optional:
            anchor = found[step.number]
    return found


def count_matches(entry: ibis.Table, found: dict[int, ibis.Table]) -> ibis.Table:
    """:func:`count_steps`' row for an ordered funnel without exclusions or breakdown,
    counted on the entries and each step's matches (one row per customer who reached it),
    with no per-customer table joining them: ``c1``, and ``c{k}``, ``m{k}`` per later step
    (``excluded`` is 0)."""
    out = entry.aggregate(c1=entry.count()).mutate(excluded=ibis.literal(0, "int64"))
    for k, f in found.items():
        seconds = (f.at - f.wt).cast("float64") / 1e6  # as _finish: from the entry
        step = f.aggregate(**{f"c{k}": f.count(), f"m{k}": seconds.median()})
        out = out.cross_join(step)
    return out


def strict(
    entry: ibis.Table, base: ibis.Table, plan: list[FunnelStep], seconds: float, order: Order
) -> ibis.Table:
    """Each step: the customer's very next event after the previous match (an unmatched
    optional step leaves the position where it was)."""
    cur = entry.select(acid=entry.cid, cur=entry.p1, wt=entry.t1)
    found = {}
    for step in plan[1:]:
        cand = base.filter(is_step(base.v, step))
        j = cand.join(
            cur,
            [
                cand.cid == cur.acid,
                cand.pos == cur.cur + 1,
                cand.ts <= cur.wt + _micros(seconds),
            ],
        )
        f = j.select(acid=j.cid, wt=j.wt, cur=j.pos, at=j.ts, aseq=j.seq)
        found[step.number] = f
        if step.optional:
            m = f.select(mcid=f.acid, mcur=f.cur)
            lj = cur.left_join(m, cur.acid == m.mcid)
            cur = lj.select("acid", "wt", cur=lj.mcur.fill_null(lj.cur))
        else:
            cur = f.select("acid", "cur", "wt")
    return _finish(_collect(entry, found), plan, {s.number: [s.number] for s in plan})


def any_order(
    entry: ibis.Table, base: ibis.Table, plan: list[FunnelStep], seconds: float, order: Order
) -> ibis.Table:
    """Step k: all required steps up to k (and step k itself) done after the entry."""
    state = entry
    if len(plan) > 1:
        j = _after_entry(entry, base, seconds, order)
        aggs = {}
        for s in plan[1:]:
            aggs.update(order.first(j, f"f{s.number}", where=is_step(j.v, s)))
        g = j.group_by(acid=j.cid).aggregate(**aggs)
        cols = {}
        for s in plan[1:]:
            ts, seq, _ = order.unpack(g, f"f{s.number}")
            cols[f"t{s.number}"], cols[f"s{s.number}"] = ts, seq
        g = g.select("acid", **cols)
        lj = entry.left_join(g, entry.cid == g.acid)
        state = lj.select(*entry.columns, *cols)
    needs = {}
    for step in plan:
        required = [s.number for s in plan[: step.number - 1] if not s.optional]
        needs[step.number] = required + [step.number]
    return _finish(state, plan, needs)


BUILDERS: dict[str, Callable[..., ibis.Table]] = {
    "ordered": ordered,
    "strict": strict,
    "any": any_order,
}


def mark_excluded(
    state: ibis.Table,
    base: ibis.Table,
    values: tuple[str, ...],
    plan: list[FunnelStep],
    seconds: float,
    order: Order,
) -> ibis.Table:
    """``excluded``: an excluded event after the entry and before a counted step's match."""
    x = base.filter(base.v.isin(list(values)))
    j = _after_entry(state, x, seconds, order)
    g = j.group_by(xcid=j.cid).aggregate(**order.first(j, "x"))
    ts, seq, _ = order.unpack(g, "x")
    g = g.select("xcid", xt=ts, xs=seq)
    lj = state.left_join(g, state.cid == g.xcid)
    flags = [
        lj[f"r{s.number}"] & order.after(lj[f"t{s.number}"], lj[f"s{s.number}"], lj.xt, lj.xs)
        for s in plan[1:]
    ]
    hit = _any(flags).fill_null(False) if flags else ibis.literal(False)
    return lj.select(*state.columns, excluded=hit)


def count_steps(state: ibis.Table, plan: list[FunnelStep], grouped: bool) -> ibis.Table:
    """Per breakdown value (``bd``): ``c{k}`` customers and ``m{k}`` median seconds per
    step (k >= 2; step 1 takes no time), plus ``excluded`` (customers removed)."""
    keep = ~state.excluded if "excluded" in state.columns else None
    if keep is None:
        state = state.mutate(excluded=ibis.literal(False))
    else:  # removed customers' times are set aside (median(where=) fails on Spark)
        nothing = ibis.null("float64")
        state = state.mutate(
            **{f"d{s.number}": ibis.ifelse(keep, state[f"d{s.number}"], nothing) for s in plan[1:]}
        )
        keep = ~state.excluded
    metrics = {"excluded": state.excluded.cast("int64").sum()}
    for step in plan:
        k = step.number
        counted = state[f"r{k}"] if keep is None else state[f"r{k}"] & keep
        metrics[f"c{k}"] = counted.cast("int64").sum()
        if k > 1:
            metrics[f"m{k}"] = state[f"d{k}"].median()  # d is null when not reached
    return state.group_by("bd").aggregate(**metrics) if grouped else state.aggregate(**metrics)


def presence(base: ibis.Table, values: list[str]) -> ibis.Table:
    """One row: ``has{i}`` is True when ``values[i]`` occurs in the (filtered) events."""
    return base.aggregate(**{f"has{i}": (base.v == v).any() for i, v in enumerate(values)})


def is_step(col: ibis.Column, step: FunnelStep) -> ibis.BooleanValue:
    """True where ``col`` holds one of the step's values."""
    return col.isin(list(step.values)) if step.values else ibis.literal(False)


# -- helpers ---------------------------------------------------------------------------------


def _micros(seconds: float) -> int:
    return round(seconds * 1_000_000)


def _after_entry(entry: ibis.Table, events: ibis.Table, seconds: float, order: Order) -> ibis.Table:
    """``events`` strictly after each customer's entry and within the window."""
    e = entry.select(acid=entry.cid, at=entry.t1, aseq=entry.s1)
    return events.join(
        e,
        [
            events.cid == e.acid,
            order.after(events.ts, events.seq, e.at, e.aseq),
            events.ts <= e.at + _micros(seconds),
        ],
    )


def _collect(entry: ibis.Table, found: dict[int, ibis.Table]) -> ibis.Table:
    """The entry with each step's match (``t{k}``, ``s{k}``) left-joined on."""
    state = entry
    for k, f in found.items():
        g = f.select(fcid=f.acid, **{f"t{k}": f.at, f"s{k}": f.aseq})
        lj = state.left_join(g, state.cid == g.fcid)
        state = lj.select(*state.columns, f"t{k}", f"s{k}")
    return state


def _finish(state: ibis.Table, plan: list[FunnelStep], needs: dict[int, list[int]]) -> ibis.Table:
    """Add ``r{k}`` and ``d{k}`` from the matched ``t{k}``.

    ``needs[k]`` lists the steps whose matches make step k reached; the time of step k is
    the latest of their times (in ordered and strict modes just step k's own).
    """
    add = {"r1": ibis.literal(True), "d1": ibis.literal(0.0)}
    for step in plan[1:]:
        k = step.number
        reached = _every([state[f"t{j}"].notnull() for j in needs[k] if j > 1])
        times = [state[f"t{j}"] for j in needs[k]]
        when = times[0] if len(times) == 1 else ibis.greatest(*times)
        seconds = (when - state.t1).cast("float64") / 1e6
        add[f"r{k}"] = reached
        add[f"d{k}"] = ibis.ifelse(reached, seconds, ibis.null("float64"))
    return state.mutate(**add)


def _every(conditions: list[ibis.BooleanValue]) -> ibis.BooleanValue:
    out = conditions[0]
    for c in conditions[1:]:
        out = out & c
    return out


def _any(conditions: list[ibis.BooleanValue]) -> ibis.BooleanValue:
    out = conditions[0]
    for c in conditions[1:]:
        out = out | c
    return out
