"""Running a :class:`~cjm_core.study_spec.BeforeAfterStudy` on a data bundle.

For each changed touchpoint and metric: the units of the metric
(:func:`cjm_core.study_metrics.metric_units`) are put in the *before* or *after* window,
compared with the test that fits the metric (two proportions; Welch for means; the NPS
difference; Mann-Whitney for skewed times), adjusted for the customers' history where the
same customers appear in both periods, estimated with the design the data support
(:mod:`cjm_core.study_design`), checked (:mod:`cjm_core.study_checks`), corrected for
multiple comparisons and priced (ROI). :class:`~cjm_core.study_report.StudyResult` holds the
tidy table, the checks, the ROI and a written summary.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .errors import StudyError
from .stats.result import TestResult
from .studies import check_date_in_range
from .study_spec import BeforeAfterStudy

MIN_SHARED = 0.10  # share of customers seen in both periods for the history adjustment


def run_study(study: BeforeAfterStudy, bundle: Any) -> Any:
    """Run ``study`` on ``bundle`` (a :class:`~cjm_core.bundle.DataBundle`)."""
    from .study_checks import run_checks
    from .study_design import choose_design
    from .study_metrics import metric_units
    from .study_report import StudyResult, add_verdicts, correct, roi_table

    _check_names(study, bundle)
    for tp in study.touchpoints:
        check_date_in_range(study.date_of(tp), bundle.events, bundle.feedback)
    rows, checks, details, notes = [], [], {}, []
    for tp in study.touchpoints:
        for metric in study.metrics:
            units = _in_periods(
                study, metric_units(bundle, metric, tp, repeat_days=study.repeat_days), tp
            )
            kind = metric_kind(metric)
            plain = compare(units, kind, study.alpha, study.seed)
            design = choose_design(study, bundle, tp, metric, units, plain)
            adjusted = (
                adjust_for_history(units, kind, study.alpha) if study.adjust_for_history else None
            )
            details[(tp, metric, None)] = {
                "plain": plain, "design": design, "adjusted": adjusted, "units": units
            }  # fmt: skip
            rows.append(_row(tp, metric, None, units, kind, design.test, design, plain, adjusted))
            checks += run_checks(study, bundle, tp, metric, units, design)
            for segment, part in _segments(study, units):
                test = compare(part, kind, study.alpha, study.seed)
                details[(tp, metric, segment)] = {"plain": test}
                rows.append(_row(tp, metric, segment, part, kind, test, None, test, None))
    table = add_verdicts(correct(pd.DataFrame(rows), study), study)
    if study.breakdown:
        notes.append(
            f"per-{study.breakdown} rows compare before with after directly (no controls or "
            "time series per segment); they share the correction with the overall rows"
        )
    roi = roi_table(study, bundle, table, details)
    return StudyResult(study, table, pd.DataFrame(checks), roi, details, notes)


def compare(units: pd.DataFrame, kind: str, alpha: float, seed: int = 0) -> TestResult:
    """Before vs after on the units' values with the test that fits the metric's kind."""
    from .stats.means import compare_means
    from .stats.proportions import two_proportions
    from .stats.scores import nps_difference

    a = units.loc[units["period"] == "before", "value"].to_numpy(float)
    b = units.loc[units["period"] == "after", "value"].to_numpy(float)
    if len(a) < 2 or len(b) < 2:
        raise StudyError(
            f"Too few observations to compare: {len(a)} before and {len(b)} after (at least 2 "
            "each; far more for a useful answer). Widen the pre/post windows or drop the metric."
        )
    if kind == "proportion":
        test = two_proportions(int(a.sum()), len(a), int(b.sum()), len(b), alpha)
    elif kind == "nps":
        test = nps_difference(a, b, alpha=alpha)
    elif kind == "skewed":
        test = compare_means(a, b, method="mann-whitney", alpha=alpha)
    else:
        test = compare_means(a, b, method="welch", alpha=alpha, seed=seed)
    return test.relabel("before", "after")


def adjust_for_history(units: pd.DataFrame, kind: str, alpha: float) -> dict[str, float] | None:
    """CUPED-style regression adjustment: ``value ~ after + (history - mean history)``, with
    standard errors clustered by customer, on the units :func:`history_sample` keeps. None
    when it does not run (:func:`history_sample` says why). Returns estimate, ci_low,
    ci_high, p_value, std_error, ``n`` (units used) and the variance reduction against the
    same regression without the history."""
    import statsmodels.api as sm

    data, _ = history_sample(units, kind)
    if data is None:
        return None
    y = data["value"].to_numpy(float)
    after = (data["period"] == "after").to_numpy(float)
    h = data["history"].to_numpy(float)
    groups = pd.factorize(data["customer_id"])[0]
    ones = np.ones_like(y)
    fits = [
        sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
        for x in (np.column_stack([ones, after]), np.column_stack([ones, after, h - h.mean()]))
    ]
    base, fit = fits
    low, high = fit.conf_int(alpha)[1]
    return {
        "estimate": float(fit.params[1]),
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": float(fit.pvalues[1]),
        "std_error": float(fit.bse[1]),
        "variance_reduction": float(1 - (fit.bse[1] / base.bse[1]) ** 2),
        "n": len(data),
    }


def history_sample(units: pd.DataFrame, kind: str) -> tuple[pd.DataFrame | None, str]:
    """The units the history adjustment uses, or None, and a sentence saying which and why.

    It runs for shares and means (not for rank-based or NPS metrics), on the units whose
    history window lies inside the data (a window cut short by the data's start would make
    the history smaller before the change than after), when at least ``MIN_SHARED`` of
    their customers appear in both windows and the history varies."""
    if kind not in ("proportion", "mean"):
        return None, f"not for a {kind} metric (the adjustment is a regression on means)"
    if "history" not in units.columns:
        return None, "the metric has no history covariate"
    data = units[units["period"].notna()]
    if "history_complete" in data.columns:
        data = data[data["history_complete"]]
    if data["period"].nunique() < 2:
        return None, "no units with a full history window in one of the windows"
    people = data.groupby("customer_id")["period"].nunique()
    shared = float((people == 2).mean()) if len(people) else 0.0
    detail = f"{shared:.1%} of the customers with a full history appear in both windows"
    if shared < MIN_SHARED:
        return None, detail + f" (needs {MIN_SHARED:.0%})"
    if data["history"].std() == 0:
        return None, detail + ", but their history does not vary"
    return data, detail + f"; {len(data)} units used"


def _in_periods(study: BeforeAfterStudy, units: pd.DataFrame, tp: str) -> pd.DataFrame:
    out = units.copy()
    out["period"] = study.periods(out["time"], tp)
    out.attrs = dict(units.attrs, outside_windows=int(out["period"].isna().sum()))
    return out


def _segments(study: BeforeAfterStudy, units: pd.DataFrame):
    if not study.breakdown:
        return
    if study.breakdown not in units.columns:
        raise StudyError(
            f"breakdown={study.breakdown!r} is not a column of the units (they have "
            f"{sorted(c for c in units.columns if c not in ('unit', 'time', 'value'))})."
        )
    for segment, part in units.groupby(study.breakdown, sort=True, dropna=True):
        periods = part["period"].value_counts()
        if periods.get("before", 0) >= 2 and periods.get("after", 0) >= 2:
            yield str(segment), part


def metric_kind(metric: str) -> str:
    """``proportion``, ``mean``, ``nps`` or ``skewed``: what test a metric's values get
    (a catalog's own rating metrics are means)."""
    from .study_metrics import METRICS

    return METRICS[metric].kind if metric in METRICS else "mean"


def _row(tp, metric, segment, units, kind, test, design, plain, adjusted) -> dict[str, Any]:
    from .study_metrics import METRICS

    counts = units["period"].value_counts()
    better = METRICS[metric].higher_is_better if metric in METRICS else True
    row = {
        "touchpoint": tp,
        "metric": metric,
        "segment": segment if segment is not None else "all",
        "design": design.name if design is not None else "before_after",
        "n_before": int(counts.get("before", 0)),
        "n_after": int(counts.get("after", 0)),
        "before": plain.estimates.get("before", math.nan),
        "after": plain.estimates.get("after", math.nan),
        "estimate": test.estimate,
        "ci_low": test.ci_low,
        "ci_high": test.ci_high,
        "p_value": test.p_value,
        "method": test.method,
        "relative_lift": plain.relative_lift if plain.relative_lift is not None else math.nan,
        "higher_is_better": better,
        "kind": kind,
    }
    for key in ("estimate", "ci_low", "ci_high", "p_value", "variance_reduction"):
        row[f"adjusted_{key}"] = adjusted[key] if adjusted else math.nan
    return row


def _check_names(study: BeforeAfterStudy, bundle: Any) -> None:
    from .study_metrics import METRICS

    catalog = bundle.catalog
    unknown = [t for t in [*study.touchpoints, *study.controls] if t not in catalog.touchpoint_ids]
    if unknown:
        raise StudyError(
            f"Unknown touchpoint(s) {unknown} for catalog {catalog.name!r}; its touchpoints: "
            f"{', '.join(catalog.touchpoint_ids)}."
        )
    feedback = [m.id for m in catalog.all_metrics]
    bad = [m for m in study.metrics if m not in METRICS and m not in feedback]
    if bad:
        raise StudyError(f"Unknown metric(s) {bad}; choose among {sorted({*METRICS, *feedback})}.")
