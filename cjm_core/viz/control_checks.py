"""Checks of a control chart's inputs: the period code, the baseline, bad rows."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError


def baseline_periods(periods: pd.Series, baseline) -> tuple[np.ndarray, str]:
    k = len(periods)
    if baseline is None:
        return np.ones(k, bool), f"all {k} periods"
    if isinstance(baseline, int | np.integer) and not isinstance(baseline, bool):
        if not 1 <= baseline <= k:
            raise CjmError(
                f"baseline={baseline} periods, but there are {k} periods; give 1 to {k}."
            )
        return np.arange(k) < baseline, f"the first {int(baseline)} periods"
    if not isinstance(baseline, str) or baseline.count("..") != 1:
        raise CjmError(
            f"baseline must be 'YYYY-MM-DD..YYYY-MM-DD' or a number of first "
            f"periods; got {baseline!r}."
        )
    low, high = (part.strip() for part in baseline.split(".."))
    try:
        lo = pd.Timestamp(low) if low else pd.Timestamp.min
        hi = pd.Timestamp(high) if high else pd.Timestamp.max
    except ValueError:
        raise CjmError(
            f"baseline {baseline!r}: cannot read its dates; write 'YYYY-MM-DD..YYYY-MM-DD'."
        ) from None
    starts = _starts(periods)
    mask = ((starts >= naive(lo)) & (starts <= naive(hi))).to_numpy()
    if not mask.any():
        raise CjmError(
            f"baseline {baseline!r} contains none of the periods "
            f"({periods.iloc[0]} to {periods.iloc[-1]})."
        )
    return (
        mask,
        f"periods starting {low or 'from the first'} to {high or 'the last'} ({int(mask.sum())})",
    )


def _starts(periods: pd.Series) -> pd.Series:
    if isinstance(periods.dtype, pd.PeriodDtype):
        return periods.dt.start_time
    if pd.api.types.is_numeric_dtype(periods) or pd.api.types.is_bool_dtype(periods):
        raise CjmError(
            "A date-range baseline needs dates or pandas Periods in column 'period' "
            f"(got numbers, e.g. {periods.iloc[0]!r}); give a number of first periods."
        )
    try:
        with warnings.catch_warnings():  # "could not infer format": a failure is reported
            warnings.simplefilter("ignore", UserWarning)
            return pd.to_datetime(periods, utc=True).dt.tz_localize(None)
    except (ValueError, TypeError):
        raise CjmError(
            "A date-range baseline needs dates or pandas Periods in column 'period' "
            f"(got e.g. {periods.iloc[0]!r}); give a number of first periods."
        ) from None


def naive(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def check_period(period: Any) -> None:
    if not isinstance(period, str):
        raise CjmError(f"period must be a pandas period code (text) such as 'W'; got {period!r}.")
    try:
        pd.Period("2024-01-01", freq=period)
    except (ValueError, TypeError, AttributeError):
        raise CjmError(
            f"Unknown period code {period!r}; use a pandas period code such as 'D', "
            "'W' (Monday-Sunday), 'W-SAT', 'M', 'Q' or 'Y'."
        ) from None


def bad_rows(table: pd.DataFrame, bad: np.ndarray, column: str, expected: str) -> None:
    if bad.any():
        rows = table.index[bad].tolist()
        raise CjmError(
            f"Column {column!r} must hold {expected}; {int(bad.sum())} row(s) do not "
            f"(rows {rows[:5]}{'...' if len(rows) > 5 else ''}). Fix those rows."
        )
