"""Transitions between the steps of journeys, with start, conversion and drop-off states.

Every journey is read as a chain of states: "(start)", then one state per event at the
chosen level (touchpoint, stage or channel), then "(conversion)" when the journey converted
and "(drop-off)" otherwise. Conversion events are outcomes, not states: a journey with a
conversion event anywhere ends in "(conversion)", and the conversion event itself does not
add a state (so ``... > website > (conversion)``, not ``... > checkout > (conversion)``). A
journey made only of conversion events is ``(start) > (conversion)``. (Path variants, by
contrast, list every event, conversion events included.)

With ``order=k`` the from-state is the last k states (fewer at the beginning, where the
history starts with "(start)"), rendered joined with " > ".

Example::

    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05",
    ...                                  "2024-01-02 09:00"], utc=True),
    ...     "touchpoint": ["website", "call_centre", "website"],
    ... })
    >>> t = transitions(events).to_frame()
    >>> t[["from", "to", "count"]].values.tolist()[:2]
    [['(start)', 'website', 2], ['call_centre', '(drop-off)', 1]]
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from .engine import US
from .errors import CjmError
from .journeys import MISSING, StepCodes, session_codes
from .model import JourneyCatalog
from .results import AnalysisResult
from .sessions import Sessions, sessions

START, CONVERTED, DROP_OFF = "(start)", "(conversion)", "(drop-off)"
_END_CODES = {-1: CONVERTED, -2: DROP_OFF}
_MARKER = -3  # one row per journey, to count journeys made only of conversion events
_JOURNEY = ["customer_id", "journey_id"]
SEPARATOR = " > "

COLUMNS = {
    "from": object,
    "to": object,
    "count": "int64",
    "probability": "float64",
    "median_s": "float64",
}


class Transitions(AnalysisResult):
    """Transition counts and probabilities; rows ordered by from, to.

    Columns: from, to, count, probability (count / all transitions out of ``from``),
    median_s (median seconds between the two events, to the microsecond; NaN out of
    (start) and into the end states).
    """

    title = "Transitions"

    def matrix(self) -> pd.DataFrame:
        """From x to probabilities (0 where no transition), (start) first, end states last."""
        t = self.table
        if t.empty:
            return pd.DataFrame(dtype="float64")
        m = t.pivot_table(index="from", columns="to", values="probability", fill_value=0.0)
        rows = sorted(m.index, key=lambda s: (s != START, s))
        cols = sorted(m.columns, key=lambda s: (s in (CONVERTED, DROP_OFF), s))
        m = m.loc[rows, cols].astype("float64")
        m.index.name, m.columns.name = "from", "to"
        return m

    def plot(self, **kwargs: Any):
        """Heatmap of the transition probabilities (seaborn; a matplotlib Figure)."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        m = self.matrix()
        size = kwargs.pop("figsize", (1.0 + 0.7 * max(len(m.columns), 1), 1.0 + 0.5 * len(m)))
        fig, ax = plt.subplots(figsize=size)
        if m.empty:
            ax.text(0.5, 0.5, "no transitions", ha="center", va="center")
            ax.set_axis_off()
        else:
            small = m.size <= 400
            sns.heatmap(m, ax=ax, cmap="Blues", vmin=0, vmax=1, annot=small, fmt=".2f", **kwargs)
        ax.set_title(self._heading())
        fig.tight_layout()
        return fig


def transitions(
    events: Any,
    *,
    order: int = 1,
    level: str = "touchpoint",
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
    catalog: JourneyCatalog | None = None,
    engine: Any = None,
) -> Transitions:
    """Counts, probabilities and median times of the transitions between journey states.

    :param order: length of the history in the from-state (1 = first-order Markov chain).
    :param level: states are touchpoints, stages (needs ``catalog``) or channels (the
        events' channel column, else the catalog).
    :param gap, split_on_conversion: how journeys are cut (see
        :func:`cjm_core.sequences.journey_events`); ``gap=None`` uses the events' own
        journey_id column when present, else 30 minutes.
    :returns: :class:`Transitions` (rows ordered by from, to). An empty log gives an empty
        table. The counts out of "(start)" add up to the number of journeys, and so do the
        counts into "(conversion)" and "(drop-off)".

    Example::

        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "customer_id": ["a", "a", "a"],
        ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:02",
        ...                                  "2024-01-01 10:03"], utc=True),
        ...     "touchpoint": ["website", "mobile_app", "mobile_app"],
        ...     "event_type": ["interaction", "interaction", "conversion"],
        ... })
        >>> t = transitions(events).to_frame()
        >>> t.loc[t["from"] == "website", ["to", "median_s"]].values.tolist()
        [['mobile_app', 120.0]]
    """
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise CjmError(f"order must be a whole number >= 1, got {order!r}.")
    ses = sessions(events, gap=gap, split_on_conversion=split_on_conversion, engine=engine)
    eng = ses.engine
    codes, coded = session_codes(ses, level=level, catalog=catalog)
    info = {"order": order, "level": level, "engine": eng.name}
    if codes.n_events == 0:
        return Transitions(_frame([]), ["the log has no events: no transitions"], **info)
    if _shortcut(order, level, ses):
        counts = _first_order_counts(ses, codes)
    else:
        counts = eng.execute(_transition_counts(coded, order), ["_to", *_history(order)])
    table, journeys = _render(counts, order, codes.labels)
    notes = [
        f"{journeys} journeys; conversion events end a journey in {CONVERTED} and are not "
        "states themselves"
    ]
    return Transitions(table, notes, journeys=journeys, **info)


def _history(order: int) -> list[str]:
    return [f"_f{i}" for i in range(1, order + 1)]  # _f1 = the most recent state


def _transition_counts(j: ibis.Table, order: int) -> ibis.Table:
    """Rows (history codes, to code) with count and median microseconds, in one query."""
    converted = j._conv.any().over(ibis.window(group_by=_JOURNEY))
    j = j.mutate(_jconv=converted)
    s = j.filter(~j._conv)
    w = ibis.window(group_by=_JOURNEY, order_by=s.step)
    s = s.mutate(
        _prev_us=s[US].lag().over(w),
        _next=s._code.lead().over(w),
        **{f"_l{i}": s._code.lag(i).over(w) for i in range(1, order + 1)},
    )
    null_code = ibis.null("int64")
    into = s.select(
        _to=s._code,
        _dt=(s[US] - s._prev_us).cast("float64"),
        **{f"_f{i}": s[f"_l{i}"].cast("int64") for i in range(1, order + 1)},
    )
    last = s.filter(s._next.isnull())
    out = last.select(
        _to=ibis.ifelse(last._jconv, -1, -2).cast("int64"),
        _dt=ibis.null("float64"),
        _f1=last._code,
        **{f"_f{i}": last[f"_l{i - 1}"].cast("int64") for i in range(2, order + 1)},
    )
    first = j.filter(j.step == 1)
    marker = first.select(
        _to=ibis.literal(_MARKER, "int64"),
        _dt=ibis.null("float64"),
        **{f"_f{i}": null_code for i in range(1, order + 1)},
    )
    columns = ["_to", "_dt", *_history(order)]
    rows = into.select(columns).union(out.select(columns)).union(marker.select(columns))
    return rows.group_by(["_to", *_history(order)]).agg(
        _count=rows._to.count(), _median_us=rows._dt.median()
    )


def _shortcut(order: int, level: str, ses: Sessions) -> bool:
    """First-order touchpoint transitions of journeys that a conversion always ends can be
    read from each event's previous touchpoint (see :func:`_first_order_counts`)."""
    return order == 1 and level == "touchpoint" and ses.key[0] == "gap" and ses.key[2]


def _first_order_counts(ses: Sessions, codes: StepCodes) -> pd.DataFrame:
    """The rows of :func:`_transition_counts` for order 1 at the touchpoint level, from the
    previous touchpoint each event carries (``_prev``): one group-by, no window, no union.

    Valid when a conversion always ends its journey (``split_on_conversion``): then the
    event before a state is a state, and the last state of a converting journey is the one
    before its final conversion event. Events are grouped by (previous touchpoint,
    touchpoint, conversion), counting them and the journeys' last events; pandas then reads
    the transitions into states (the events that are not conversions), into
    "(conversion)" (last conversion events, from the previous touchpoint), into
    "(drop-off)" (last events that are not conversions, from their touchpoint) and the
    journeys (the events without a previous touchpoint)."""
    j = ses.table
    grouped = j.group_by(["_prev", "_tp", "_conv"]).agg(
        _count=j.count(),  # COUNT(*): reads no column
        _last=j.is_last.cast("int64").sum(),
        # the time into a state (not into an end state)
        _median_us=ibis.ifelse(j._conv, ibis.null("float64"), j._dt.cast("float64")).median(),
    )
    g = ses.engine.execute(grouped, order_by=["_conv", "_prev", "_tp"])
    conv = g["_conv"].astype(bool)
    into = g[~conv].assign(_from=g["_prev"], _kind=0)
    ends = [
        _ends(g[conv & g["_prev"].notna()], "_prev", -1),  # from the state before
        _ends(g[~conv], "_tp", -2),  # from the journey's last state
    ]
    marker = {"_from": None, "_tp": None, "_kind": _MARKER, "_median_us": float("nan")}
    marker["_count"] = int(g.loc[g["_prev"].isna(), "_count"].sum())  # the journeys
    columns = ["_from", "_tp", "_kind", "_count", "_median_us"]
    df = pd.concat(
        [pd.DataFrame([marker]), into[columns], *(e.reindex(columns=columns) for e in ends)],
        ignore_index=True,
    )
    # session codes -> step codes (the same touchpoints; missing ones have their own code)
    step_of = {label: code for code, label in codes.labels.items()}
    names = ses.tp_name()

    def step(values: pd.Series) -> pd.Series:
        return values.map(lambda c: step_of[names[int(c)] or MISSING] if pd.notna(c) else None)

    to = step(df["_tp"]).where(df["_kind"] == 0, df["_kind"])
    start = df["_from"].isna() | (df["_kind"] == _MARKER)
    f1 = step(df["_from"]).where(~start, None)
    # a touchpoint has one code (and nulls their own): no two rows share (from, to)
    return pd.DataFrame(
        {
            "_to": to.astype("int64"),
            "_f1": f1.astype("Float64"),
            "_count": df["_count"],
            "_median_us": df["_median_us"],
        }
    )


def _ends(rows: pd.DataFrame, state: str, kind: int) -> pd.DataFrame:
    """Journeys ending in the end state ``kind``, counted per ``state`` (the from-state
    column) from the grouped rows' counts of last events."""
    out = rows.groupby(state, as_index=False)["_last"].sum()
    out = out[out["_last"] > 0]
    return out.rename(columns={state: "_from", "_last": "_count"}).assign(_kind=kind)


def _render(counts: pd.DataFrame, order: int, labels: dict[int, str]) -> tuple[pd.DataFrame, int]:
    """Labels for the coded rows; probabilities; the (start) > (conversion) row of journeys
    without any state. Returns the table and the number of journeys."""
    is_marker = counts["_to"] == _MARKER
    journeys = int(counts.loc[is_marker, "_count"].sum())
    counts = counts[~is_marker]
    started = int(counts.loc[counts["_f1"].isna() & (counts["_to"] > 0), "_count"].sum())
    rows = []
    for _, r in counts.iterrows():
        to = _END_CODES.get(int(r["_to"])) or labels[int(r["_to"])]
        median = r["_median_us"] / 1_000_000 if pd.notna(r["_median_us"]) else np.nan
        rows.append(
            {
                "from": _state(r, order, labels),
                "to": to,
                "count": int(r["_count"]),
                "median_s": median,
            }
        )
    if journeys > started:  # journeys made only of conversion events
        rows.append({"from": START, "to": CONVERTED, "count": journeys - started})
    table = _frame(rows)
    out_of = table.groupby("from")["count"].transform("sum")
    table["probability"] = table["count"] / out_of
    return table.sort_values(["from", "to"], kind="stable").reset_index(drop=True), journeys


def _state(r: pd.Series, order: int, labels: dict[int, str]) -> str:
    history = []
    for i in range(1, order + 1):
        code = r[f"_f{i}"]
        if pd.isna(code):
            history.append(START)
            break
        history.append(labels[int(code)])
    return SEPARATOR.join(reversed(history))


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype(COLUMNS)
