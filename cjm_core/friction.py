"""Friction in journeys: where they end unconverted, where they loop, who contacts again.

- :func:`drop_off`: per last step (touchpoint, stage or channel), the journeys that end
  there without converting, their share of all unconverted journeys and the exit rate.
- :func:`loops`: per touchpoint, journeys that revisit it and journeys that back-track to
  it (go back to an earlier stage of the catalog), with their conversion rate.
- :func:`repeat_contacts`: contacts at given touchpoints (e.g. the call centre) that follow
  another contact by the same customer within a window (e.g. calling twice within 7 days).

Journeys and their order come from :func:`cjm_core.sequences.journey_events` (customer,
timestamp, then input order for ties); a journey *converts* when it holds an event whose
``event_type`` is ``"conversion"``. The heavy work is one Ibis expression per analysis, run
on DuckDB or Spark; only the small per-touchpoint table comes back.

Example::

    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 09:05",
    ...                                  "2024-01-01 10:00"], utc=True),
    ...     "touchpoint": ["web", "call_centre", "web"]})
    >>> drop_off(ev).to_frame()["drop_offs"].tolist()
    [1, 1]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import pandas as pd

from .engine import US, Engine, catalog_of, events_table, order_keys
from .errors import CjmError
from .model import JourneyCatalog
from .results import AnalysisResult
from .sequences import CONVERSION, gap_seconds, journey_events

LEVELS = ("touchpoint", "stage", "channel")
UNKNOWN = "(unknown)"
JOURNEY = ["customer_id", "journey_id"]


# -- shared helpers (also used by cjm_core.kpis) ---------------------------------------------


def level_expr(t: ibis.Table, level: str, catalog: JourneyCatalog | None) -> ibis.Value:
    """The touchpoint, its stage or its channel (catalog ids; ``"(unknown)"`` if unmapped)."""
    if level not in LEVELS:
        raise CjmError(f"Unknown level {level!r}; use one of {', '.join(LEVELS)}.")
    if level == "touchpoint":
        return t.touchpoint
    mapping: dict[str, str] = {}
    if catalog is not None:
        mapping = catalog.stage_of() if level == "stage" else catalog.channel_of()
    if level == "channel" and "channel" in t.columns:  # the events' own channel comes first
        fallback = t.touchpoint.substitute(mapping, else_=UNKNOWN) if mapping else UNKNOWN
        return t.channel.cast("string").fill_null(fallback)
    if not mapping:
        raise CjmError(
            f"level={level!r} needs a catalog (catalog=JourneyCatalog or a DataBundle) to "
            f"map touchpoints to {level}s"
            + (" or a 'channel' column in the events." if level == "channel" else ".")
        )
    return t.touchpoint.substitute(mapping, else_=UNKNOWN)


def journeys_with_outcome(t: ibis.Table, gap: Any, split_on_conversion: bool) -> ibis.Table:
    """:func:`journey_events` plus ``_conv`` (1 when the event's journey converts, else 0)."""
    j = journey_events(t, gap=gap, split_on_conversion=split_on_conversion)
    whole = ibis.window(group_by=[j.customer_id, j.journey_id])
    return j.mutate(_conv=(j.event_type == CONVERSION).cast("int64").max().over(whole))


def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """``num / den`` as float, NaN where ``den`` is 0."""
    den = den.astype("float64")
    return (num.astype("float64") / den.where(den > 0)).astype("float64")


def new_figure(rows: int, width: float = 7.0):
    """A matplotlib Figure (not registered with pyplot) and its single Axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, max(2.5, 0.35 * rows + 1.2)), layout="constrained")
    return fig, fig.subplots()


def _empty_note(n: int) -> list[str]:
    return ["the event log is empty: no journeys"] if n == 0 else []


# -- drop-off ------------------------------------------------------------------------------


class DropOff(AnalysisResult):
    """Per last step: journeys ``visiting`` it, unconverted journeys ending there
    (``drop_offs``), their ``share_of_drop_offs`` and the ``exit_rate``
    (drop_offs / journeys visiting it). ``plot()`` returns a matplotlib Figure."""

    title = "Drop-off"

    def plot(self, top: int = 15, **kwargs: Any):
        level = self.table.columns[0]
        data = self.table.head(top).iloc[::-1]
        fig, ax = new_figure(len(data))
        ax.barh(data[level].astype(str), data["drop_offs"], color="#c0504d", **kwargs)
        for y, (n, rate) in enumerate(zip(data["drop_offs"], data["exit_rate"], strict=True)):
            ax.annotate(f" exit {rate:.0%}", (n, y), va="center", fontsize=8)
        ax.set_xlabel("unconverted journeys ending here")
        ax.set_title(f"Where journeys end without converting (by {level})")
        return fig


def drop_off(
    events: Any,
    *,
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
    level: str = "touchpoint",
    catalog: JourneyCatalog | None = None,
    engine: Any = None,
) -> DropOff:
    """Where journeys end without converting.

    One row per ``level`` value (touchpoint, stage or channel; stage needs a catalog, channel
    the events' ``channel`` column or a catalog): ``journeys`` that visit it,
    ``drop_offs`` = unconverted journeys whose last event is there, ``share_of_drop_offs``
    (of all unconverted journeys; the column adds up to 1) and ``exit_rate`` = drop_offs /
    journeys visiting it. Rows: most drop-offs first, then by name.

    :param gap: inactivity gap splitting journeys (see :func:`journey_events`).
    :param split_on_conversion: also start a new journey after a conversion.

    Example::

        >>> import pandas as pd
        >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"],
        ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 09:05",
        ...                                  "2024-01-01 10:00"], utc=True),
        ...     "touchpoint": ["web", "shop", "web"],
        ...     "event_type": ["interaction", "conversion", "interaction"]})
        >>> drop_off(ev).to_frame()[["touchpoint", "drop_offs", "exit_rate"]].values.tolist()
        [['web', 1, 0.5], ['shop', 0, 0.0]]
    """
    catalog = catalog_of(events, catalog)
    eng, t = events_table(events, engine)
    level_expr(t, level, catalog)  # check the level before building anything
    j = journeys_with_outcome(t, gap, split_on_conversion)
    j = j.mutate(_key=level_expr(j, level, catalog))
    per = j.group_by([*JOURNEY, "_key"]).aggregate(
        _end=(j.is_last & (j._conv == 0)).cast("int64").max(), _last=j.is_last.cast("int64").max()
    )
    agg = per.group_by("_key").aggregate(
        journeys=per.count(), drop_offs=per._end.sum(), _ends=per._last.sum()
    )
    df = eng.execute(agg, order_by=["_key"])
    total = int(df["_ends"].sum())  # each journey ends at exactly one place
    df = df.rename(columns={"_key": level})
    df["drop_offs"] = df["drop_offs"].astype("int64")
    unconverted = int(df["drop_offs"].sum())
    converted = total - unconverted
    df["share_of_drop_offs"] = ratio(df["drop_offs"], pd.Series(unconverted, index=df.index))
    df["exit_rate"] = ratio(df["drop_offs"], df["journeys"])
    df = df.sort_values(["drop_offs", level], ascending=[False, True], kind="stable")
    df = df[[level, "journeys", "drop_offs", "share_of_drop_offs", "exit_rate"]]
    notes = _empty_note(total) or [
        f"{unconverted} of {total} journeys end without a conversion; exit rate = those "
        f"ending at the {level} / journeys visiting it"
    ]
    return DropOff(
        df, notes, level=level, journeys=total, converted=converted, unconverted=unconverted
    )


# -- loops and back-tracking ---------------------------------------------------------------


class Loops(AnalysisResult):
    """Per touchpoint: revisits, back-tracking (with a catalog) and the conversion rate of
    journeys with vs without a loop there. ``plot()`` returns a matplotlib Figure."""

    title = "Loops and back-tracking"

    def plot(self, top: int = 15, **kwargs: Any):
        data = self.table.head(top).iloc[::-1]
        fig, ax = new_figure(len(data))
        ax.barh(data["touchpoint"].astype(str), data["share_of_journeys"], **kwargs)
        ax.set_xlabel("share of all journeys with a loop at the touchpoint")
        ax.set_title("Loops and back-tracking per touchpoint")
        return fig


def loops(
    events: Any,
    *,
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
    catalog: JourneyCatalog | None = None,
    engine: Any = None,
) -> Loops:
    """Touchpoints that journeys come back to.

    Per touchpoint (rows: most loop journeys first, then by id):

    - ``journeys``: journeys that visit it;
    - ``revisit_journeys``: journeys in which it appears more than once (not necessarily
      in a row); ``revisits``: its appearances beyond the first, summed over journeys;
    - ``backtrack_journeys`` (only with a catalog): journeys that reach it *after* a
      touchpoint of a later stage (catalog stage order), i.e. go back to an earlier stage;
      touchpoints unknown to the catalog neither back-track nor count as later stages;
    - ``loop_journeys``: journeys with a revisit or a back-track at it, and
      ``share_of_journeys`` = loop_journeys / all journeys;
    - ``conversion_rate_loop`` / ``conversion_rate_no_loop``: conversion rate of the
      journeys visiting it with a loop there / without one (NaN when there are none).

    Example::

        >>> import pandas as pd
        >>> ev = pd.DataFrame({"customer_id": ["a"] * 3,
        ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 09:05",
        ...                                  "2024-01-01 09:10"], utc=True),
        ...     "touchpoint": ["web", "call", "web"]})
        >>> loops(ev).to_frame()[["touchpoint", "revisits"]].values.tolist()
        [['web', 1], ['call', 0]]
    """
    catalog = catalog_of(events, catalog)
    eng, t = events_table(events, engine)
    j = journeys_with_outcome(t, gap, split_on_conversion)
    aggs: dict[str, Any] = {}
    if catalog is not None:
        j = j.mutate(_rank=j.touchpoint.substitute(_stage_rank(catalog), else_=ibis.null("int64")))
        before = ibis.window(
            group_by=[j.customer_id, j.journey_id], order_by=j.step, rows=(None, -1)
        )
        j = j.mutate(_back=(j._rank < j._rank.max().over(before)).fill_null(False))
        aggs["_bt"] = j._back.cast("int64").max()
    per = j.group_by([*JOURNEY, "touchpoint"]).aggregate(
        _n=j.count(), _cv=j._conv.max(), _last=j.is_last.cast("int64").max(), **aggs
    )
    loop = per._n > 1
    if catalog is not None:
        loop = loop | (per._bt == 1)
    per = per.mutate(_loop=loop.cast("int64"))
    out: dict[str, Any] = {
        "journeys": per.count(),
        "revisit_journeys": (per._n > 1).cast("int64").sum(),
        "revisits": (per._n - 1).sum(),
        "loop_journeys": per._loop.sum(),
        "_conv_visit": per._cv.sum(),
        "_conv_loop": (per._cv * per._loop).sum(),
        "_ends": per._last.sum(),
    }
    if catalog is not None:
        out["backtrack_journeys"] = per._bt.sum()
    agg = per.group_by("touchpoint").aggregate(**out)
    df = eng.execute(agg, order_by=["touchpoint"])
    for column in out:
        df[column] = df[column].astype("int64")
    total = int(df["_ends"].sum())  # each journey ends at exactly one touchpoint
    df["share_of_journeys"] = ratio(df["loop_journeys"], pd.Series(total, index=df.index))
    df["conversion_rate_loop"] = ratio(df["_conv_loop"], df["loop_journeys"])
    df["conversion_rate_no_loop"] = ratio(
        df["_conv_visit"] - df["_conv_loop"], df["journeys"] - df["loop_journeys"]
    )
    columns = ["touchpoint", "journeys", "revisit_journeys", "revisits"]
    columns += ["backtrack_journeys"] if catalog is not None else []
    columns += ["loop_journeys", "share_of_journeys", "conversion_rate_loop"]
    columns += ["conversion_rate_no_loop"]
    df = df.sort_values(["loop_journeys", "touchpoint"], ascending=[False, True], kind="stable")
    notes = _empty_note(total)
    if catalog is None:
        notes.append(
            "no catalog given: only revisits are reported; back-tracking to an earlier stage "
            "needs the catalog's stage order (catalog=...)"
        )
    return Loops(df[columns], notes, journeys=total, backtracking=catalog is not None)


def _stage_rank(catalog: JourneyCatalog) -> dict[str, int]:
    rank = {stage_id: i for i, stage_id in enumerate(catalog.stage_ids)}
    return {tp.id: rank[tp.stage] for tp in catalog.touchpoints if tp.stage in rank}


# -- repeat contacts -----------------------------------------------------------------------

COUNTS = ["contacts", "customers", "repeat_contacts", "customers_with_repeat"]


class RepeatContacts(AnalysisResult):
    """Per touchpoint: contacts, customers, repeat contacts, repeat rate, customers with a
    repeat. ``customers()`` lists the customers with repeats; ``plot()`` returns a
    matplotlib Figure."""

    title = "Repeat contacts"

    def __init__(
        self,
        table: pd.DataFrame,
        notes: Iterable[str] = (),
        *,
        engine: Engine,
        per_customer: ibis.Table,
        **info: Any,
    ):
        super().__init__(table, list(notes), **info)
        self._engine = engine
        self._per_customer = per_customer
        self._customers: pd.DataFrame | None = None

    def customers(self) -> pd.DataFrame:
        """Customers with at least one repeat contact: ``customer_id``, ``contacts``,
        ``repeat_contacts`` (most repeats first, then by id); computed on first call."""
        if self._customers is None:
            self._customers = (
                self._engine.execute(self._per_customer)
                .sort_values(
                    ["repeat_contacts", "customer_id"], ascending=[False, True], kind="stable"
                )
                .reset_index(drop=True)
            )
        return self._customers.copy()

    def plot(self, **kwargs: Any):
        data = self.table.iloc[::-1]
        fig, ax = new_figure(len(data))
        ax.barh(data["touchpoint"].astype(str), data["repeat_rate"], color="#8064a2", **kwargs)
        ax.set_xlabel(f"share of contacts repeated within {self.info.get('within')}")
        ax.set_title("Repeat contacts")
        return fig


def repeat_contacts(
    events: Any,
    *,
    touchpoints: str | Iterable[str] = ("call_centre",),
    within: str | pd.Timedelta | float = "7D",
    engine: Any = None,
) -> RepeatContacts:
    """Contacts that come soon after another contact of the same customer.

    A contact is an event at one of ``touchpoints``; it is a *repeat* when the same
    customer's previous contact at any of those touchpoints (in time order, ties in input
    order) lies at most ``within`` before it (a tie in time counts). Journeys play no part.
    Per touchpoint: ``contacts``, ``customers`` (with a contact), ``repeat_contacts``,
    ``repeat_rate`` (repeat_contacts / contacts) and ``customers_with_repeat``; with more
    than one touchpoint a last row ``"(all)"`` pools them. Rows follow ``touchpoints``.

    :raises CjmError: a touchpoint has no events (the message lists those in the data).

    Example::

        >>> import pandas as pd
        >>> ev = pd.DataFrame({"customer_id": ["a", "a", "a"],
        ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-02-01"],
        ...                                 utc=True),
        ...     "touchpoint": ["call_centre"] * 3})
        >>> repeat_contacts(ev).to_frame()[["contacts", "repeat_contacts"]].values.tolist()
        [[3, 1]]
    """
    wanted = [touchpoints] if isinstance(touchpoints, str) else list(dict.fromkeys(touchpoints))
    if not wanted or not all(isinstance(tp, str) for tp in wanted):
        raise CjmError(f"touchpoints must be one or more touchpoint ids, got {touchpoints!r}.")
    seconds = gap_seconds(within)
    eng, t = events_table(events, engine)
    c = t.filter(t.touchpoint.isin(wanted))
    w = ibis.window(group_by=c.customer_id, order_by=order_keys(c))
    us, limit = c[US], int(round(seconds * 1_000_000))
    c = c.mutate(_rep=((us - us.lag().over(w)) <= limit).fill_null(False).cast("int64"))
    per = c.group_by(["customer_id", "touchpoint"]).aggregate(_n=c.count(), _r=c._rep.sum())
    agg = per.group_by("touchpoint").aggregate(
        contacts=per._n.sum(),
        customers=per.count(),
        repeat_contacts=per._r.sum(),
        customers_with_repeat=(per._r > 0).cast("int64").sum(),
    )
    pooled = c.group_by("customer_id").aggregate(contacts=c.count(), repeat_contacts=c._rep.sum())
    df = eng.execute(agg, order_by=["touchpoint"])
    missing = [tp for tp in wanted if tp not in set(df["touchpoint"])]
    if missing:
        present = eng.execute(t.select("touchpoint").distinct(), order_by=["touchpoint"])
        names = ", ".join(map(str, present["touchpoint"])) or "none (the event log is empty)"
        raise CjmError(f"No events at touchpoint(s) {missing}; touchpoints in the data: {names}.")
    df = df.set_index("touchpoint").loc[wanted].reset_index()
    if len(wanted) > 1:
        row = eng.execute(
            pooled.aggregate(
                contacts=pooled.contacts.sum(),
                customers=pooled.count(),
                repeat_contacts=pooled.repeat_contacts.sum(),
                customers_with_repeat=(pooled.repeat_contacts > 0).cast("int64").sum(),
            )
        ).assign(touchpoint="(all)")
        df = pd.concat([df, row[df.columns]], ignore_index=True)
    df[COUNTS] = df[COUNTS].astype("int64")
    df["repeat_rate"] = ratio(df["repeat_contacts"], df["contacts"])
    df = df[["touchpoint", *COUNTS[:3], "repeat_rate", COUNTS[3]]]
    label = within if isinstance(within, str) else f"{seconds:g}s"
    note = (
        f"a repeat contact follows the customer's previous contact at {', '.join(wanted)} "
        f"within {label}"
    )
    return RepeatContacts(
        df,
        [note],
        engine=eng,
        per_customer=pooled.filter(pooled.repeat_contacts > 0),
        within=label,
        touchpoints=", ".join(wanted),
    )
