"""Retention cohorts and repeat purchase.

- :func:`retention`: customers grouped into cohorts by the period of their first conversion
  (or first event); for each later period, how many of them are active again.
- :func:`repeat_purchase`: the share of converting customers who convert again within N
  days of their first conversion, overall and per cohort, with Wilson intervals.

Periods are calendar periods in UTC. Labels: ``"2024-01"`` for months (``period="M"``),
``"2024-Q1"`` for quarters (``"Q"``) and ISO weeks ``"2024-W03"`` for weeks (``"W"``, weeks
start on Monday; the ISO year of a week may differ from the calendar year near New Year:
Monday 2024-12-30 starts ``"2025-W01"``). The same labels come out of DuckDB and Spark: the
period index is computed from the UTC year, quarter, month or epoch seconds, and labelled in
pandas.

Example::

    >>> import pandas as pd
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-07", "2024-01-20"], utc=True),
    ...     "touchpoint": ["shop"] * 3, "event_type": ["conversion"] * 3})
    >>> retention(ev).matrix().loc["2024-01"].tolist()
    [1.0, 0.5]
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from .engine import US, events_table, order_keys
from .errors import CjmError
from .friction import new_figure, ratio
from .results import AnalysisResult
from .sequences import CONVERSION, gap_seconds
from .stats import proportion_ci

PERIODS = {"M": "month", "W": "ISO week", "Q": "quarter"}
_MONDAY_SHIFT = 3 * 86400  # 1970-01-01 was a Thursday; weeks are counted from Monday
_WEEK = 7 * 86400


def _check_period(period: str) -> str:
    if period not in PERIODS:
        raise CjmError(
            f"Unknown period {period!r}; use 'M' (month), 'W' (ISO week) or 'Q' (quarter)."
        )
    return period


def period_index(ts: ibis.Value, period: str) -> ibis.Value:
    """An integer counting periods in UTC: months or quarters since year 0, weeks since
    Monday 1969-12-29. Consecutive periods differ by 1."""
    if period == "M":
        return (ts.year() * 12 + ts.month() - 1).cast("int64")
    if period == "Q":
        return (ts.year() * 4 + ts.quarter() - 1).cast("int64")
    epoch = ts.epoch_seconds().cast("int64")
    return ((epoch + _MONDAY_SHIFT) / _WEEK).floor().cast("int64")


def period_label(index: int, period: str) -> str:
    """The label of a period index (see the module docstring).

    >>> period_label(2024 * 12, "M"), period_label(2024 * 4 + 1, "Q"), period_label(2818, "W")
    ('2024-01', '2024-Q2', '2024-W01')
    """
    index = int(index)
    if period == "M":
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if period == "Q":
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    monday = pd.Timestamp("1969-12-29") + pd.Timedelta(weeks=index)
    year, week, _ = monday.isocalendar()
    return f"{year:04d}-W{week:02d}"


# -- retention -----------------------------------------------------------------------------


class Retention(AnalysisResult):
    """Long table: ``cohort``, ``period`` (periods since the cohort's, 0, 1, ...),
    ``cohort_size``, ``active`` and ``retention_rate``. ``matrix()`` pivots it;
    ``plot()`` returns a matplotlib Figure (seaborn heatmap of the rates)."""

    title = "Retention"

    def matrix(self, rate: bool = True) -> pd.DataFrame:
        """Cohorts (rows, in time order) x periods since (columns): rates or active counts.
        Periods after the end of the data are NaN."""
        value = "retention_rate" if rate else "active"
        if self.table.empty:
            return pd.DataFrame(dtype="float64")
        m = self.table.pivot(index="cohort", columns="period", values=value)
        cohorts = list(dict.fromkeys(self.table["cohort"]))
        m = m.loc[cohorts]
        m.columns.name = "period"
        return m.astype("float64") if rate else m

    def plot(self, **kwargs: Any):
        import seaborn as sns

        m = self.matrix(rate=True)
        fig, ax = new_figure(len(m), width=max(6.0, 0.6 * m.shape[1] + 2))
        if m.empty:
            ax.set_title("Retention: no cohorts")
            return fig
        options = {
            "annot": m.shape[1] <= 16,
            "fmt": ".0%",
            "cmap": "Blues",
            "vmin": 0,
            "vmax": 1,
            "cbar_kws": {"label": "retention rate"},
        }
        sns.heatmap(m, ax=ax, **{**options, **kwargs})
        ax.set_xlabel(f"{PERIODS[self.info['period']]}s since the first")
        ax.set_ylabel("cohort")
        ax.set_title(self._heading())
        return fig


def retention(
    events: Any, *, period: str = "M", conversions_only: bool = True, engine: Any = None
) -> Retention:
    """Cohort retention table.

    A customer's cohort is the period (UTC) of their first conversion (or of their first
    event with ``conversions_only=False``; customers who never convert are then left out of
    the default table). ``active`` counts the cohort's customers with a conversion (any
    event) in the period ``period`` steps after the cohort's; ``retention_rate`` =
    active / cohort_size, so period 0 is 1.0. Every cohort gets a row for each period up
    to the last one in the data (the period of the latest event), with 0 where nobody was
    active. Rows: cohorts in time order, then period.

    Example::

        >>> import pandas as pd
        >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"],
        ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-03-07", "2024-02-01"],
        ...                                 utc=True),
        ...     "touchpoint": ["shop"] * 3, "event_type": ["conversion"] * 3})
        >>> retention(ev).to_frame()[["cohort", "period", "active"]].values.tolist()[:3]
        [['2024-01', 0, 1], ['2024-01', 1, 0], ['2024-01', 2, 1]]
    """
    period = _check_period(period)
    eng, t = events_table(events, engine)
    t = t.mutate(_p=period_index(t.timestamp, period))
    act = t.filter(t.event_type == CONVERSION) if conversions_only else t
    first = act.group_by("customer_id").aggregate(_cohort=act._p.min())
    visits = act.select("customer_id", "_p").distinct()
    a = visits.join(first, "customer_id")
    agg = a.group_by(["_cohort", "_p"]).aggregate(active=a.count())
    expr = agg.cross_join(t.aggregate(_end=t._p.max()))
    df = eng.execute(expr, order_by=["_cohort", "_p"])
    notes = []
    if df.empty:
        notes.append(
            "no conversions in the events: no cohorts"
            if conversions_only
            else "the event log is empty: no cohorts"
        )
        rows = pd.DataFrame({"_cohort": [], "_p": []}, dtype="int64")
        end = 0
    else:
        end = int(df["_end"].iloc[0])
        cohorts = df.groupby("_cohort")["_p"].min().index
        rows = pd.DataFrame(
            [(c, p) for c in cohorts for p in range(c, end + 1)], columns=["_cohort", "_p"]
        )
    df = rows.merge(df[["_cohort", "_p", "active"]], on=["_cohort", "_p"], how="left")
    df["active"] = df["active"].fillna(0).astype("int64")
    sizes = df[df["_p"] == df["_cohort"]].set_index("_cohort")["active"]
    out = pd.DataFrame(
        {
            "cohort": [period_label(c, period) for c in df["_cohort"]],
            "period": (df["_p"] - df["_cohort"]).astype("int64"),
            "cohort_size": df["_cohort"].map(sizes).astype("int64"),
            "active": df["active"],
        }
    )
    out["cohort"] = out["cohort"].astype(object)
    out["retention_rate"] = ratio(out["active"], out["cohort_size"])
    what = "first conversion" if conversions_only else "first event"
    activity = "a conversion" if conversions_only else "any event"
    notes.append(f"cohort = {PERIODS[period]} (UTC) of the {what}; active = {activity}")
    return Retention(
        out,
        notes,
        period=period,
        cohorts=int(sizes.size),
        customers=int(sizes.sum()),
        last_period=period_label(end, period) if sizes.size else "",
    )


# -- repeat purchase -----------------------------------------------------------------------


class RepeatPurchase(AnalysisResult):
    """Rows: ``"all"`` then one per cohort: ``customers`` (converting), ``repeat_customers``
    (converted again within the window), ``repeat_rate`` with its Wilson ``ci_low`` /
    ``ci_high``. ``rate`` and ``ci`` hold the overall figures; ``plot()`` returns a
    matplotlib Figure."""

    title = "Repeat purchase"

    @property
    def rate(self) -> float:
        return float(self.table["repeat_rate"].iloc[0]) if len(self.table) else float("nan")

    @property
    def ci(self) -> tuple[float, float]:
        if not len(self.table):
            return (float("nan"), float("nan"))
        return float(self.table["ci_low"].iloc[0]), float(self.table["ci_high"].iloc[0])

    def plot(self, **kwargs: Any):
        data = self.table.iloc[1:]
        fig, ax = new_figure(len(data), width=max(6.0, 0.5 * len(data) + 2))
        x = np.arange(len(data))
        err = [data["repeat_rate"] - data["ci_low"], data["ci_high"] - data["repeat_rate"]]
        ax.bar(x, data["repeat_rate"], yerr=err, capsize=3, color="#4f81bd", **kwargs)
        if len(self.table):
            ax.axhline(self.rate, color="black", lw=1, ls="--", label=f"all: {self.rate:.1%}")
            ax.legend()
        ax.set_xticks(x, data["cohort"], rotation=45, ha="right")
        ax.set_ylabel(f"repeat within {self.info.get('within')}")
        ax.set_title("Repeat purchase by cohort (Wilson CI)")
        return fig


def repeat_purchase(
    events: Any,
    *,
    within: str | pd.Timedelta | float = "90D",
    period: str = "M",
    alpha: float = 0.05,
    engine: Any = None,
) -> RepeatPurchase:
    """Share of converting customers who convert again within ``within`` of their first
    conversion, overall and per cohort (period of the first conversion, UTC).

    The second conversion is the next conversion event in time order (ties in input order);
    it counts when it lies at most ``within`` after the first (a tie in time counts).
    Intervals: Wilson, level ``1 - alpha``. A note counts customers whose window reaches
    past the latest event of the log (their repeat may still come).

    Example::

        >>> import pandas as pd
        >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"],
        ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-07", "2024-01-20"],
        ...                                 utc=True),
        ...     "touchpoint": ["shop"] * 3, "event_type": ["conversion"] * 3})
        >>> r = repeat_purchase(ev, within="90D")
        >>> r.rate, r.to_frame()["cohort"].tolist()
        (0.5, ['all', '2024-01'])
    """
    period = _check_period(period)
    seconds = gap_seconds(within)
    eng, t = events_table(events, engine)
    c = t.filter(t.event_type == CONVERSION)
    w = ibis.window(group_by=c.customer_id, order_by=order_keys(c))
    c = c.mutate(_e=c[US], _p=period_index(c.timestamp, period), _rn=ibis.row_number().over(w))
    first = c.filter(c._rn == 0).select("customer_id", _e0=c._e, _cohort=c._p)
    second = c.filter(c._rn == 1).select("customer_id", _e1=c._e)
    per = first.left_join(second, "customer_id")
    end = t[US].max()
    limit = int(round(seconds * 1_000_000))  # times are integer microseconds
    per = per.cross_join(t.aggregate(_end=end))
    per = per.mutate(
        _rep=((per._e1 - per._e0) <= limit).fill_null(False).cast("int64"),
        _open=((per._e0 + limit) > per._end).cast("int64"),
    )
    agg = per.group_by("_cohort").aggregate(
        customers=per.count(), repeat_customers=per._rep.sum(), _open=per._open.sum()
    )
    df = eng.execute(agg, order_by=["_cohort"])
    rows = [("all", int(df["customers"].sum()), int(df["repeat_customers"].sum()))]
    rows += [
        (period_label(p, period), int(n), int(r))
        for p, n, r in zip(df["_cohort"], df["customers"], df["repeat_customers"], strict=True)
    ]
    out = pd.DataFrame(rows, columns=["cohort", "customers", "repeat_customers"])
    out["cohort"] = out["cohort"].astype(object)
    out["repeat_rate"] = ratio(out["repeat_customers"], out["customers"])
    cis = [
        proportion_ci(r, n, alpha) if n else (np.nan, np.nan)
        for r, n in zip(out["repeat_customers"], out["customers"], strict=True)
    ]
    out["ci_low"] = [float(lo) for lo, _ in cis]
    out["ci_high"] = [float(hi) for _, hi in cis]
    label = within if isinstance(within, str) else f"{seconds:g}s"
    notes = [f"repeat = another conversion within {label} of the first; CI: Wilson"]
    open_ = int(df["_open"].sum())
    if not rows[0][1]:
        notes.insert(0, "no conversions in the events: no converting customers")
    elif open_:
        notes.append(
            f"{open_} customer(s) converted for the first time less than {label} before the "
            "latest event: their window is not complete, so the rate may understate"
        )
    return RepeatPurchase(out, notes, within=label, period=period, customers=rows[0][1])
