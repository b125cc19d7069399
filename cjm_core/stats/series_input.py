"""Time series given to the interrupted and structural time series: checked, regular, split.

:func:`as_series` turns a Series (or a DataFrame with date and value columns) into a float
Series on a sorted, regular DatetimeIndex and names its frequency; :func:`split_at` finds the
first period on or after the intervention and checks that both sides are long enough.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import StudyError


def as_series(series: Any, date_column: str, value_column: str, name: str = "series"):
    """A float Series on a sorted, regular DatetimeIndex, and the frequency label."""
    if isinstance(series, pd.DataFrame):
        missing = [c for c in (date_column, value_column) if c not in series.columns]
        if missing:
            raise StudyError(
                f"{name} is a DataFrame without column(s) {missing}; it has "
                f"{list(series.columns)}. Pass date_column= and value_column=."
            )
        series = pd.Series(series[value_column].to_numpy(), index=series[date_column])
    if not isinstance(series, pd.Series):
        raise StudyError(f"{name} must be a pandas Series indexed by dates (or a DataFrame).")
    index = series.index
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp()
    if not isinstance(index, pd.DatetimeIndex):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                index = pd.DatetimeIndex(pd.to_datetime(index))
        except (TypeError, ValueError):
            raise StudyError(
                f"The index (dates) of {name} could not be read as dates, e.g. "
                f"{list(index[:3])!r}; index the series by dates."
            ) from None
    if index.hasnans:
        raise StudyError(f"{name} has {int(index.isna().sum())} missing date(s) (NaT).")
    values = pd.to_numeric(pd.Series(series.to_numpy()), errors="coerce").to_numpy(float)
    bad = np.isnan(values) & series.notna().to_numpy()
    if bad.any():
        raise StudyError(
            f"{name} holds non-numeric values, e.g. {list(series[bad][:3])!r} on "
            f"{[str(d.date()) for d in index[bad][:3]]}; convert them to numbers."
        )
    nan = np.isnan(values)
    if nan.any():
        raise StudyError(
            f"{name} holds {int(nan.sum())} missing value(s) (NaN) out of {values.size}, "
            f"e.g. on {[str(d.date()) for d in index[nan][:3]]}; nothing is dropped "
            "silently: impute or remove them (a time series must stay regular)."
        )
    if np.isinf(values).any():
        raise StudyError(f"{name} holds {int(np.isinf(values).sum())} infinite value(s).")
    if index.has_duplicates:
        dups = sorted({str(d.date()) for d in index[index.duplicated()]})
        raise StudyError(
            f"{name} has duplicated dates ({len(dups)}), e.g. {dups[:3]}; aggregate to "
            "one value per period first."
        )
    out = pd.Series(values, index=index, name=series.name).sort_index()
    return out, _frequency(out.index, name)


def _naive(index: pd.DatetimeIndex) -> np.ndarray:
    """The instants as numpy datetimes (UTC for aware indexes)."""
    return (index.tz_convert(None) if index.tz is not None else index).to_numpy()


def _frequency(index: pd.DatetimeIndex, name: str) -> str:
    """The regular spacing of ``index`` ("daily", "monthly", ...) or a StudyError on gaps."""
    if index.size < 3:
        raise StudyError(f"{name} needs at least 3 periods; got {index.size}.")
    steps = np.diff(_naive(index))
    if (steps == steps[0]).all():
        step = pd.Timedelta(steps[0])
        named = {1: "daily", 7: "weekly"}.get(step.days) if step.seconds == 0 else None
        return named or f"every {step}"
    if (index.day_of_week < 5).all() and steps.max() <= np.timedelta64(4, "D"):
        missing = pd.bdate_range(index[0], index[-1]).difference(index)
        if missing.size == 0:
            return "business-daily"
        raise StudyError(
            f"{name} is business-daily with {missing.size} missing day(s), e.g. "
            f"{[str(d.date()) for d in missing[:3]]}; fill them so the series is regular."
        )
    for code, label in (("M", "monthly"), ("Q", "quarterly"), ("Y", "yearly")):
        periods = index.to_period(code)
        ordinal = periods.asi8
        if (np.diff(ordinal) == 1).all():
            return label
        if (np.diff(ordinal) >= 1).all() and np.median(np.diff(ordinal)) == 1:
            full = pd.period_range(periods[0], periods[-1], freq=code)
            gaps = full.difference(periods)
            raise StudyError(
                f"{name} is {label} with {gaps.size} missing period(s), e.g. "
                f"{[str(p) for p in gaps[:3]]}; fill them (e.g. with 0 for counts) so the "
                "series is regular."
            )
    common = pd.Timedelta(pd.Series(steps).mode()[0])
    expected = pd.date_range(index[0], index[-1], freq=common)
    gaps = expected.difference(index)
    detail = (
        f"{gaps.size} missing date(s), e.g. {[str(d) for d in gaps[:3]]}"
        if (index.isin(expected).all())
        else "irregular spacing between dates"
    )
    raise StudyError(
        f"{name} is not a regular series (most steps are {common}): {detail}. Use regular "
        "periods (daily, weekly, monthly...) without gaps."
    )


def split_at(index: pd.DatetimeIndex, intervention: Any, min_pre: int, min_post: int) -> int:
    """Position of the first post period: the first date on or after ``intervention``."""
    try:
        when = pd.Timestamp(intervention)
    except (TypeError, ValueError):
        raise StudyError(f"intervention must be a date; got {intervention!r}.") from None
    if when.tzinfo is not None and index.tz is None:
        when = when.tz_localize(None)
    elif when.tzinfo is None and index.tz is not None:
        when = when.tz_localize(index.tz)
    t0 = int(index.searchsorted(when, side="left"))
    first, last = index[0].date(), index[-1].date()
    if t0 < min_pre or index.size - t0 < min_post:
        where = "outside" if t0 in (0, index.size) else "too close to an end of"
        raise StudyError(
            f"intervention {when.date()} is {where} the series ({first} to {last}): it leaves "
            f"{t0} pre-intervention and {index.size - t0} post-intervention period(s); at "
            f"least {min_pre} before and {min_post} after are needed."
        )
    return t0
