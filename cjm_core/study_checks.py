"""The checks of a before/after study, one row each: ``ok``, ``warning`` or ``not run``.

- **observations**: at least ``MIN_N`` units per window (for a share, ``MIN_EVENTS``
  successes and failures), else the answer is fragile;
- **volume**: units per day after vs before; a change beyond ``VOLUME_BAND`` means the
  population reaching the touchpoint changed, not only its experience;
- **mix**: the breakdown column (persona by default) before vs after: a chi-squared test; a
  significant shift with Cramér's V of at least 0.1 can explain a difference on its own;
- **pre-trend** (difference-in-differences): the treated-minus-control gap should be flat
  before the change (slope test per period);
- **seasonality**: with less than a year of data and windows in different months, a
  seasonal swing cannot be told apart from the change;
- **novelty**: the first ``novelty`` days after the change vs the rest of the after window:
  an effect that fades shows as a significant difference between the two;
- **history adjustment**: whether the CUPED-style adjustment ran, and why not.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .study_spec import BeforeAfterStudy

MIN_N = 30
MIN_EVENTS = 10
VOLUME_BAND = (0.8, 1.25)


def run_checks(
    study: BeforeAfterStudy, bundle: Any, tp: str, metric: str, units: pd.DataFrame, design: Any
) -> list[dict[str, str]]:
    """The checks of one touchpoint and metric, as rows of the study's checks table."""
    found = [
        _observations(units, design),
        _volume(study, units, tp),
        _mix(study, units),
        _pre_trend(study, design),
        _seasonality(study, units, design),
        _novelty(study, units, tp, metric),
        _history(study, units, metric),
    ]
    return [{"touchpoint": tp, "metric": metric, **row} for row in found]


def _row(check: str, status: str, detail: str) -> dict[str, str]:
    return {"check": check, "status": status, "detail": detail}


def _observations(units: pd.DataFrame, design: Any) -> dict[str, str]:
    counts = units["period"].value_counts()
    nb, na = int(counts.get("before", 0)), int(counts.get("after", 0))
    left = int(units["period"].isna().sum())
    detail = f"{nb} before, {na} after ({left} outside the windows or in the washout)"
    if min(nb, na) < MIN_N:
        return _row("observations", "warning", detail + f"; fewer than {MIN_N} in a window")
    if design.test.method.startswith("Two-proportion"):
        v = units[units["period"].notna()].groupby("period")["value"].agg(["sum", "count"])
        least = int(min(v["sum"].min(), (v["count"] - v["sum"]).min()))
        if least < MIN_EVENTS:
            return _row("observations", "warning", detail + f"; only {least} successes or failures")
    return _row("observations", "ok", detail)


def _volume(study: BeforeAfterStudy, units: pd.DataFrame, tp: str) -> dict[str, str]:
    spans = {}
    for period in ("before", "after"):
        times = units.loc[units["period"] == period, "time"]
        if len(times) < 2:
            return _row("volume", "not run", "too few units to compare volumes")
        spans[period] = (times.max() - times.min()).total_seconds() / 86_400
    if min(spans.values()) <= 0:
        return _row("volume", "not run", "a window spans less than a day")
    counts = units["period"].value_counts()
    rate = {p: counts[p] / spans[p] for p in spans}
    ratio = rate["after"] / rate["before"]
    detail = f"{rate['before']:.3g} units/day before, {rate['after']:.3g} after (x{ratio:.2f})"
    inside = VOLUME_BAND[0] <= ratio <= VOLUME_BAND[1]
    if inside:
        return _row("volume", "ok", detail)
    return _row("volume", "warning", detail + ": who reaches the touchpoint changed")


def _mix(study: BeforeAfterStudy, units: pd.DataFrame) -> dict[str, str]:
    from .stats.chisquare import chi_square

    column = study.breakdown or "persona"
    if column not in units.columns or units[column].isna().all():
        return _row("mix", "not run", f"the units carry no {column!r}")
    data = units[units["period"].notna()]
    table = pd.crosstab(data[column], data["period"])
    if table.shape[0] < 2 or table.shape[1] < 2:
        return _row("mix", "not run", f"only one {column} or one window")
    test = chi_square(table, correct=False)
    shares = table / table.sum()
    moved = (shares["after"] - shares["before"]).abs().sort_values(ascending=False)
    top = moved.index[0]
    detail = (
        f"{column} mix: chi-squared p = {test.p_value:.3g}, Cramér's V = {test.estimate:.3f}; "
        f"largest shift {top}: {shares.loc[top, 'before']:.1%} -> {shares.loc[top, 'after']:.1%}"
    )
    if test.p_value < study.alpha and test.estimate >= 0.1:
        return _row("mix", "warning", detail + ": compare per segment (breakdown=...)")
    return _row("mix", "ok", detail)


def _pre_trend(study: BeforeAfterStudy, design: Any) -> dict[str, str]:
    from .study_design import pre_trend

    if design.name != "did" or design.data is None:
        return _row("pre-trend", "not run", "only for difference-in-differences")
    found = pre_trend(design.data, study.its_period, study.alpha)
    if found is None:
        return _row("pre-trend", "not run", "fewer than 4 periods before the change")
    detail = (
        f"treated-minus-control gap moved {found['slope']:+.3g} per {study.its_period}-period "
        f"over {found['periods']} periods before the change (p = {found['p_value']:.3g})"
    )
    if found["p_value"] < study.alpha:
        return _row("pre-trend", "warning", detail + ": trends were not parallel")
    return _row("pre-trend", "ok", detail)


def _seasonality(study: BeforeAfterStudy, units: pd.DataFrame, design: Any) -> dict[str, str]:
    if design.name == "did":
        return _row("seasonality", "ok", "the controls share any seasonal swing (DiD)")
    times = units["time"]
    span = (times.max() - times.min()).days
    if span >= 365:
        return _row("seasonality", "ok", f"{span} days of data: a full year is covered")
    local = units[units["period"].notna()]
    months = local.groupby("period")["time"].agg(lambda t: set(t.dt.month))
    if len(months) == 2 and months["before"] != months["after"]:
        return _row(
            "seasonality",
            "warning",
            f"{span} days of data and the windows fall in different months: a seasonal swing "
            "cannot be told apart from the change (use controls, or the same months a year "
            "earlier)",
        )
    return _row("seasonality", "ok", "both windows cover the same months")


def _novelty(study: BeforeAfterStudy, units: pd.DataFrame, tp: str, metric: str) -> dict[str, str]:
    from .study_run import compare, metric_kind

    if not study.novelty:
        return _row("novelty", "not run", "novelty=None")
    after = units[units["period"] == "after"]
    start = study.date_of(tp) + pd.Timedelta(study.washout or 0)
    early = after["time"] < start + pd.Timedelta(study.novelty)
    if early.sum() < MIN_N or (~early).sum() < MIN_N:
        return _row("novelty", "not run", f"fewer than {MIN_N} units in the first {study.novelty}")
    split = after.assign(period=early.map({True: "before", False: "after"}))
    test = compare(split, metric_kind(metric), study.alpha)
    detail = (
        f"first {study.novelty}: {test.estimates['before']:.4g}, later: "
        f"{test.estimates['after']:.4g} (difference p = {test.p_value:.3g})"
    )
    if test.p_value < study.alpha:
        return _row("novelty", "warning", detail + ": the effect changes after the first days")
    return _row("novelty", "ok", detail)


def _history(study: BeforeAfterStudy, units: pd.DataFrame, metric: str) -> dict[str, str]:
    from .study_run import history_sample, metric_kind

    if not study.adjust_for_history:
        return _row("history adjustment", "not run", "adjust_for_history=False")
    data, detail = history_sample(units, metric_kind(metric))
    if data is None:
        return _row("history adjustment", "not run", detail)
    return _row("history adjustment", "ok", detail + "; adjusted estimate reported beside")
