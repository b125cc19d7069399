"""Which design a before/after study can use, and its estimate.

``auto`` picks, in order:

1. **difference-in-differences** when control touchpoints are given and each has at least
   ``MIN_UNITS`` units in both windows: the change at the touchpoint minus the change at the
   controls over the same dates (two-way fixed effects on the units, standard errors
   clustered by customer) — it removes whatever moved every touchpoint alike (season,
   campaigns). Control units that are also units of a changed touchpoint (a journey
   through both) are left out of the controls;
2. **interrupted time series** when there are at least ``min_its_periods`` periods
   (``its_period``, weeks by default) on each side, no washout gap, and the metric trends
   before the change (the slope of the pre-period series differs from 0 at ``alpha``, least
   squares weighted by the units per period): segmented regression of the metric's
   per-period value with Newey-West errors; the estimate is the level change at the
   intervention, net of the pre-existing trend. Without a trend a direct comparison answers
   the same question with more power, so ``auto`` keeps to it (``design="its"`` forces the
   time series);
3. **before/after**: the two windows compared directly (two proportions, Welch,
   Mann-Whitney, NPS difference by metric).

The chosen design, and why the others were not used, are in :class:`Design`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .errors import StudyError
from .stats.result import TestResult
from .study_spec import BeforeAfterStudy

MIN_UNITS = 10


@dataclass
class Design:
    """The design used (``name``), why (``why``), its estimate as a TestResult (``test``)
    and the raw result of the design's method (``result``; e.g. a DiD or ITS result)."""

    name: str
    why: str
    test: TestResult
    result: Any = None
    series: pd.DataFrame | None = field(default=None, repr=False)  # ITS: per period
    data: pd.DataFrame | None = field(default=None, repr=False)  # DiD: units of all groups


def choose_design(
    study: BeforeAfterStudy,
    bundle: Any,
    tp: str,
    metric: str,
    units: pd.DataFrame,
    plain: TestResult,
) -> Design:
    """The design for one touchpoint and metric (see the module docstring)."""
    reasons = []
    if study.design in ("auto", "did") and study.controls:
        did, reason = _did(study, bundle, tp, metric, units, plain)
        if did is not None:
            return did
        reasons.append(reason)
    elif study.design == "auto":
        reasons.append("no control touchpoints were given (controls=[...]) for a DiD")
    if study.design in ("auto", "its"):
        its, reason = _its(study, tp, metric, units, plain)
        if its is not None:
            return its
        reasons.append(reason)
    why = "before/after comparison of the two windows"
    if study.design == "before_after":
        why += " (asked for)"
    elif reasons:
        why += ": " + "; ".join(reasons)
    return Design("before_after", why, plain)


def period_series(units: pd.DataFrame, kind: str, freq: str) -> pd.DataFrame:
    """Per-period value of the metric: the share or mean, the NPS, or the median (skewed);
    columns ``start`` (period start, UTC), ``value``, ``n``, ``period`` (before/after)."""
    data = units[units["period"].notna()]
    local = data["time"].dt.tz_convert("UTC").dt.tz_localize(None)
    start = local.dt.to_period(freq).dt.start_time.dt.tz_localize("UTC")
    grouped = data.groupby(start)
    value = grouped["value"].agg(_aggregate(kind))
    out = pd.DataFrame({"value": value, "n": grouped.size(), "period": grouped["period"].first()})
    return out.rename_axis("start").reset_index()


def _did(study, bundle, tp, metric, units, plain) -> tuple[Design | None, str]:
    from .stats.did import diff_in_diff
    from .study_metrics import metric_units

    parts = [units.assign(group="treated")]
    changed = set(units["unit"])
    for other in study.touchpoints:
        if other != tp:
            try:
                changed |= set(metric_units(bundle, metric, other)["unit"])
            except StudyError:
                pass  # not measurable there: no unit of it to keep out
    for control in study.controls:
        try:
            c = metric_units(bundle, metric, control, repeat_days=study.repeat_days)
        except StudyError as exc:
            return None, f"control {control!r} cannot be measured on {metric} ({exc})"
        # a journey that also went through a changed touchpoint is not a control
        c = c[~c["unit"].isin(changed)]
        c = c.assign(period=study.periods(c["time"], tp), group=f"control:{control}")
        counts = c["period"].value_counts()
        if min(counts.get("before", 0), counts.get("after", 0)) < MIN_UNITS:
            return None, (
                f"control {control!r} has too few {metric} units in a window "
                f"({counts.get('before', 0)} before, {counts.get('after', 0)} after; "
                f"{MIN_UNITS} needed) for a DiD"
            )
        parts.append(c)
    data = pd.concat(parts, ignore_index=True)
    data = data[data["period"].notna()]
    data = data.assign(
        is_treated=(data["group"] == "treated").astype(int),
        post=(data["period"] == "after").astype(int),
    )
    data["d"] = data["is_treated"] * data["post"]
    kind_note = ""
    if plain.method.startswith(("Wilcoxon", "Mann", "NPS")) or "NPS" in plain.method:
        kind_note = " (on the unit values: a difference in means)"
    result = diff_in_diff(
        data, outcome="value", unit="is_treated", time="post", treated="d", cluster="customer_id"
    )
    test = _as_test(plain, result, "Difference-in-differences" + kind_note)
    names = ", ".join(study.controls)
    why = (
        f"difference-in-differences against the control touchpoint(s) {names}: the change at "
        f"{tp} minus their change over the same dates"
    )
    return Design("did", why, test, result, data=data), ""


def _its(study, tp, metric, units, plain) -> tuple[Design | None, str]:
    from .stats.its import interrupted_time_series
    from .study_run import metric_kind

    if study.washout and pd.Timedelta(study.washout) > pd.Timedelta(0):
        return None, "a washout leaves a gap in the time series, so no interrupted time series"
    series = period_series(units, metric_kind(metric), study.its_period)
    counts = series["period"].value_counts()
    have = (int(counts.get("before", 0)), int(counts.get("after", 0)))
    if min(have) < study.min_its_periods:
        return None, (
            f"{have[0]} periods before and {have[1]} after ({study.its_period}); an "
            f"interrupted time series needs {study.min_its_periods} on each side"
        )
    full = regular_series(series, study.its_period)
    if full["value"].isna().any():
        return None, "some periods have no observations, so no interrupted time series"
    trend = _pre_slope(full[full["period"] == "before"])
    if study.design == "auto" and trend["p_value"] >= study.alpha:
        return None, (
            f"no trend before the change ({trend['slope']:+.3g} per {study.its_period}-period, "
            f"p = {trend['p_value']:.2g}), so the windows are compared directly rather than "
            "spending power on a trend the data do not show"
        )
    values = pd.Series(full["value"].to_numpy(float), index=full["start"])
    result = interrupted_time_series(values, study.date_of(tp), seasonality=None, alpha=study.alpha)
    test = _as_test(plain, result, "Interrupted time series (level change, Newey-West)")
    why = (
        f"interrupted time series: {have[0]} {study.its_period}-periods before and {have[1]} "
        "after, so the level change is estimated net of the pre-existing trend"
    )
    return Design("its", why, test, result, series=full), ""


def _pre_slope(pre: pd.DataFrame) -> dict[str, float]:
    """Slope per period of the pre-change series and its p-value: least squares weighted by
    the units per period, classical errors and t on n - 2 df. (Newey-West errors on a dozen
    periods reject far too often; see :mod:`cjm_core.stats.its`.)"""
    import statsmodels.api as sm

    x = sm.add_constant(np.arange(len(pre), dtype=float))
    fit = sm.WLS(pre["value"].to_numpy(float), x, weights=pre["n"].to_numpy(float)).fit()
    return {"slope": float(fit.params[1]), "p_value": float(fit.pvalues[1])}


def regular_series(series: pd.DataFrame, freq: str) -> pd.DataFrame:
    """:func:`period_series` with a row for every period between the first and the last
    (NaN value where a period has no units)."""
    starts = series["start"].dt.tz_localize(None).dt.to_period(freq)
    full = pd.period_range(starts.min(), starts.max(), freq=freq)
    out = series.set_index(starts).reindex(full)
    out["start"] = full.start_time.tz_localize("UTC")
    return out.reset_index(drop=True)


def _aggregate(kind: str):
    if kind == "nps":
        return lambda s: 100.0 * (float((s >= 9).mean()) - float((s <= 6).mean()))
    if kind == "skewed":
        return "median"
    return "mean"


def _as_test(plain: TestResult, result: Any, method: str) -> TestResult:
    """The design's estimate in a TestResult that keeps the plain comparison's groups."""
    return replace(
        plain,
        estimate=float(result.estimate),
        ci_low=float(result.ci_low),
        ci_high=float(result.ci_high),
        p_value=float(result.p_value),
        statistic=float(getattr(result, "statistic", math.nan)),
        std_error=float(getattr(result, "std_error", math.nan)),
        method=method,
        relative_lift=None,
        relative_lift_ci=None,
        df=None,
        notes=tuple(getattr(result, "notes", ()) or ()),
    )


def pre_trend(units_by_group: pd.DataFrame, freq: str, alpha: float) -> dict[str, float] | None:
    """Slope of the treated-minus-control gap over the pre-period (per period, OLS); None
    with fewer than 4 periods. A slope that differs from 0 says the trends were not parallel
    before the change."""
    import statsmodels.api as sm

    pre = units_by_group[units_by_group["period"] == "before"]
    local = pre["time"].dt.tz_convert("UTC").dt.tz_localize(None)
    pre = pre.assign(bucket=local.dt.to_period(freq))
    means = pre.groupby(["bucket", "is_treated"])["value"].mean().unstack()
    if 1 not in means.columns or 0 not in means.columns:
        return None
    gap = (means[1] - means[0]).dropna()
    if len(gap) < 4:
        return None
    x = sm.add_constant(np.arange(len(gap), dtype=float))
    fit = sm.OLS(gap.to_numpy(float), x).fit()
    return {"slope": float(fit.params[1]), "p_value": float(fit.pvalues[1]), "periods": len(gap)}
