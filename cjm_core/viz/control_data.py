"""Per-period counts for :mod:`cjm_core.viz.control`, from canonical events and feedback.

Each function returns one row per period of ``periods`` (a pandas PeriodIndex, in UTC),
periods without data included with n = 0: ``period, successes, n`` for conversion,
``period, mean, sd, n`` (sd with ddof = 1) for durations and survey scores. Rows left out
(no duration, no numeric score) are counted in ``notes``.

Example::

    >>> import pandas as pd
    >>> stamps = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-03"], utc=True))
    >>> weeks = pd.period_range("2024-01-01", "2024-01-14", freq="W")
    >>> means_per_period(pd.Series([1.0, 3.0]), stamps, weeks)["n"].tolist()
    [2, 0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError


def conversion_counts(
    events: pd.DataFrame,
    periods: pd.PeriodIndex,
    touchpoint: str | None,
    catalog: Any,
    gap: Any,
    notes: list[str],
) -> pd.DataFrame:
    """Journeys (:func:`cjm_core.build_journeys`) and those converting, per period of their
    start; with ``touchpoint``, only journeys visiting it."""
    from ..journeys import build_journeys

    j = build_journeys(events, gap=gap, catalog=catalog).to_frame()
    total = len(j)
    if touchpoint is not None:
        j = j[j["touchpoints"].map(lambda tps: touchpoint in tps)]
        notes.append(f"{len(j)} of {total} journeys visit {touchpoint}")
    notes.append(
        f"journeys cut with gap={gap} (None: the events' journey_id), each counted "
        "in the period of its start"
    )
    key = _assign(j["start"], periods)
    g = j.assign(_p=key).groupby("_p")["converted"]
    return pd.DataFrame(
        {
            "period": periods,
            "successes": g.sum().reindex(periods, fill_value=0).astype("int64").to_numpy(),
            "n": g.size().reindex(periods, fill_value=0).to_numpy(),
        }
    )


def duration_counts(
    events: pd.DataFrame, periods: pd.PeriodIndex, touchpoint: str | None, notes: list[str]
) -> pd.DataFrame:
    """Mean, sd and count of ``duration_s`` of the events at ``touchpoint`` (all events
    without one) per period of their timestamp; events without a duration are counted."""
    need_columns(events, ["duration_s"], "events")
    rows = events if touchpoint is None else events[events["touchpoint"] == touchpoint]
    if touchpoint is None:
        notes.append("no touchpoint given: the mean duration_s of all events")
    values = pd.to_numeric(rows["duration_s"], errors="coerce")
    missing = int(values.isna().sum())
    if missing:
        notes.append(f"{missing} of {len(rows)} events without a duration_s were left out")
    return means_per_period(values[values.notna()], rows["timestamp"][values.notna()], periods)


def score_counts(
    feedback: pd.DataFrame,
    periods: pd.PeriodIndex,
    kpi: str,
    touchpoint: str | None,
    notes: list[str],
) -> pd.DataFrame:
    """Mean, sd and count of the ``kpi`` answers (metric csat, ces or nps) per period; NPS
    answers are scored +100 / 0 / -100 first (checked to be whole numbers 0-10)."""
    need_columns(feedback, ["metric", "score"], "feedback")
    rows = feedback[feedback["metric"].astype(str).str.lower() == kpi]
    if touchpoint is not None:
        rows = rows[rows["touchpoint"] == touchpoint]
    if rows.empty:
        raise CjmError(
            f"The feedback holds no {kpi!r} answers"
            + (f" at touchpoint {touchpoint!r}" if touchpoint else "")
            + f"; metrics there: {sorted(map(str, feedback['metric'].unique()))}."
        )
    scores = pd.to_numeric(rows["score"], errors="coerce")
    missing = int(scores.isna().sum())
    if missing:
        notes.append(
            f"{missing} of {len(rows)} {kpi} answers without a numeric score were left out"
        )
    rows, scores = rows[scores.notna()], scores[scores.notna()]
    if kpi == "nps":
        from ..stats.scores import nps

        overall = nps(scores)  # checks the answers are whole numbers 0-10
        scores = pd.Series(
            np.select([scores >= 9, scores <= 6], [100.0, -100.0], 0.0), index=scores.index
        )
        notes.append(
            f"each answer scored +100 (9-10), 0 (7-8), -100 (0-6): the period mean "
            f"is its NPS; overall NPS {overall.estimate:.1f} (n = {overall.n})"
        )
    return means_per_period(scores, rows["timestamp"], periods)


def means_per_period(values: pd.Series, stamps: pd.Series, periods: pd.PeriodIndex) -> pd.DataFrame:
    """``period, mean, sd, n`` of ``values`` grouped by the period of ``stamps`` (UTC)."""
    g = values.astype(float).groupby(_assign(stamps, periods))
    stats = g.agg(["mean", "std", "size"]).reindex(periods)
    stats = stats.rename(columns={"std": "sd"}).assign(n=stats["size"].fillna(0).astype("int64"))
    return stats[["mean", "sd", "n"]].rename_axis("period").reset_index()


def _assign(stamps: pd.Series, periods: pd.PeriodIndex) -> np.ndarray:
    utc = pd.to_datetime(stamps, utc=True).dt.tz_localize(None)
    return utc.dt.to_period(periods.freqstr).to_numpy()


def need_columns(table: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise a CjmError naming the ``columns`` the table lacks."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CjmError(
            f"The {what} lack column(s) {missing}; columns there: {list(table.columns)}."
        )
