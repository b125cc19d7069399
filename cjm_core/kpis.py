"""The touchpoint KPI table: reach, position, conversion with vs without, exit, wait.

:func:`touchpoint_kpis` builds one row per touchpoint from the events in journey order
(:func:`cjm_core.sequences.journey_events`) in one Ibis expression (DuckDB or Spark), then
adds the two-proportion comparison (:func:`cjm_core.stats.two_proportions`) in pandas.

Example::

    >>> import pandas as pd
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 09:05",
    ...                                  "2024-01-01 10:00"], utc=True),
    ...     "touchpoint": ["web", "shop", "web"],
    ...     "event_type": ["interaction", "conversion", "interaction"]})
    >>> touchpoint_kpis(ev).to_frame()[["touchpoint", "journeys", "exit_rate"]].values.tolist()
    [['web', 2, 0.5], ['shop', 1, 1.0]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .engine import catalog_of, events_table
from .errors import CjmError
from .friction import JOURNEY, journeys_with_outcome, new_figure, ratio
from .model import JourneyCatalog
from .results import AnalysisResult
from .stats import two_proportions

COLUMNS = [
    "touchpoint",
    "customers",
    "journeys",
    "share_of_journeys",
    "avg_position",
    "conversion_rate_with",
    "conversion_rate_without",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "exit_rate",
    "median_duration_s",
    "events",
]
CATALOG_COLUMNS = ["name", "channel", "stage", "kind"]


class TouchpointKPIs(AnalysisResult):
    """One row per touchpoint (see :func:`touchpoint_kpis` for the columns).

    ``plot()`` returns a matplotlib Figure: a forest plot of the conversion-rate difference
    (journeys with the touchpoint minus without) and its confidence interval.
    """

    title = "Touchpoint KPIs"

    def plot(self, **kwargs: Any):
        data = self.table.dropna(subset=["difference"])
        data = data.sort_values(["difference", "touchpoint"], kind="stable")
        fig, ax = new_figure(len(data))
        y = np.arange(len(data))
        err = [data["difference"] - data["ci_low"], data["ci_high"] - data["difference"]]
        ax.errorbar(data["difference"], y, xerr=err, fmt="o", capsize=3, **kwargs)
        ax.axvline(0, color="grey", lw=1, ls="--")
        ax.set_yticks(y, data["touchpoint"].astype(str))
        level = 100 * (1 - self.info.get("alpha", 0.05))
        ax.set_xlabel(f"conversion rate: with minus without the touchpoint ({level:g}% CI)")
        ax.set_title("Conversion of journeys with vs without each touchpoint")
        return fig


def touchpoint_kpis(
    events: Any,
    *,
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
    alpha: float = 0.05,
    catalog: JourneyCatalog | None = None,
    engine: Any = None,
) -> TouchpointKPIs:
    """Per touchpoint KPIs over journeys.

    Columns (rows: most journeys first, then by touchpoint id):

    - ``customers`` / ``journeys``: distinct customers / journeys with an event there;
      ``share_of_journeys`` = journeys / all journeys;
    - ``avg_position``: mean 1-based step of the touchpoint's *first* visit in each journey
      that includes it (1.0 = always where journeys start);
    - ``conversion_rate_with`` / ``conversion_rate_without``: conversion rate of journeys
      that include it / of all other journeys; ``difference`` = with minus without, its
      Wald CI (``ci_low``, ``ci_high``, level ``1 - alpha``) and the pooled z-test
      ``p_value`` (:func:`cjm_core.stats.two_proportions` with a = without, b = with;
      NaN when every journey includes it, and a NaN p-value when no or every journey
      converts);
    - ``exit_rate``: journeys whose last event is there (converted or not) / journeys
      including it (:func:`cjm_core.friction.drop_off` counts unconverted exits only);
    - ``median_duration_s``: median ``duration_s`` of its events (NaN when none has one);
    - ``events``: number of events there;
    - with a catalog: ``name``, ``channel``, ``stage`` and ``kind`` (None when unknown).

    Example::

        >>> import pandas as pd
        >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
        ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 09:05",
        ...                                  "2024-01-01 10:00", "2024-01-02 08:00"], utc=True),
        ...     "touchpoint": ["web", "shop", "web", "app"],
        ...     "event_type": ["interaction", "conversion", "interaction", "interaction"]})
        >>> k = touchpoint_kpis(ev).to_frame().set_index("touchpoint")
        >>> float(k.loc["shop", "difference"]), float(k.loc["web", "avg_position"])
        (1.0, 1.0)
    """
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise CjmError(f"alpha must be a number between 0 and 1 (exclusive); got {alpha!r}.")
    catalog = catalog_of(events, catalog)
    eng, t = events_table(events, engine)
    j = journeys_with_outcome(t, gap, split_on_conversion)
    per_event = t.group_by("touchpoint").aggregate(  # needs no journeys: straight from t
        events=t.count(),
        customers=t.customer_id.nunique(),
        median_duration_s=t.duration_s.cast("float64").median(),
    )
    per = j.group_by([*JOURNEY, "touchpoint"]).aggregate(
        _first=j.step.min(), _exit=j.is_last.cast("int64").max(), _cv=j._conv.max()
    )
    per_journey = per.group_by("touchpoint").aggregate(
        journeys=per.count(),
        _conv=per._cv.sum(),
        _exits=per._exit.sum(),
        _exits_conv=(per._exit * per._cv).sum(),
        avg_position=per._first.cast("float64").mean(),
    )
    expr = per_event.join(per_journey, "touchpoint")
    df = eng.execute(expr, order_by=["touchpoint"])
    for column in ("events", "customers", "journeys", "_conv", "_exits", "_exits_conv"):
        df[column] = df[column].astype("int64")
    # every journey ends at exactly one touchpoint: the exits add up to all journeys
    total, total_conv = int(df["_exits"].sum()), int(df["_exits_conv"].sum())
    df["share_of_journeys"] = ratio(df["journeys"], pd.Series(total, index=df.index))
    df["conversion_rate_with"] = ratio(df["_conv"], df["journeys"])
    df["conversion_rate_without"] = ratio(total_conv - df["_conv"], total - df["journeys"])
    tests = [
        _compare(int(cw), int(nw), total_conv - int(cw), total - int(nw), alpha)
        for cw, nw in zip(df["_conv"], df["journeys"], strict=True)
    ]
    for i, column in enumerate(("difference", "ci_low", "ci_high", "p_value")):
        df[column] = pd.Series([row[i] for row in tests], index=df.index, dtype="float64")
    df["exit_rate"] = ratio(df["_exits"], df["journeys"])
    df["median_duration_s"] = df["median_duration_s"].astype("float64")
    df["avg_position"] = df["avg_position"].astype("float64")
    df = df.sort_values(["journeys", "touchpoint"], ascending=[False, True], kind="stable")
    df = df[COLUMNS].reset_index(drop=True)
    if catalog is not None:
        known = {tp.id: tp for tp in catalog.touchpoints}
        for column in CATALOG_COLUMNS:
            values = [
                getattr(known[tp], column) if tp in known else None for tp in df["touchpoint"]
            ]
            df[column] = pd.Series(values, index=df.index, dtype=object)
    notes = ["the event log is empty: no journeys"] if total == 0 else []
    if total:
        notes.append(
            f"{total} journeys, {total_conv} converted; difference = conversion rate of "
            "journeys with the touchpoint minus those without (Wald CI, pooled z-test)"
        )
    if catalog is not None:
        unknown = sorted(set(df["touchpoint"]) - {tp.id for tp in catalog.touchpoints})
        if unknown:
            notes.append(f"touchpoint(s) not in the catalog: {', '.join(map(str, unknown))}")
    return TouchpointKPIs(df, notes, journeys=total, converted=total_conv, alpha=alpha)


def _compare(conv_with: int, n_with: int, conv_without: int, n_without: int, alpha: float):
    """(difference, ci_low, ci_high, p_value): with minus without; NaN when a group is empty."""
    if n_with == 0 or n_without == 0:
        return (math.nan,) * 4
    r = two_proportions(conv_without, n_without, conv_with, n_with, alpha=alpha)
    return r.estimate, r.ci_low, r.ci_high, r.p_value
