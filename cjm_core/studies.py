"""Studies: a question about a bundle in, a tidy result with its checks out.

:func:`before_after` compares a touchpoint before and after a change (an intervention
date) on conversion and on feedback scores, with a two-proportion z-test and a Welch t-test
from :mod:`cjm_core.stats`. Its :class:`~cjm_core.study_results.BeforeAfterResult` renders
as text, HTML, a table and a plot, and compares itself with the planted truth of synthetic
data.

Example::

    >>> from cjm_core.bundle import load_bundle            # doctest: +SKIP
    >>> bundle = load_bundle("data/banking", template="banking")  # doctest: +SKIP
    >>> result = before_after(bundle, "call_centre", "2024-04-01")  # doctest: +SKIP
    >>> result.to_frame()                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

from .errors import StudyError
from .stats import TestResult, two_proportions, welch_t_test
from .study_results import (
    CONVERSION,
    PERIODS,
    BeforeAfterResult,
    BeforeAfterRow,
    as_utc,
    read_truth,
)

__all__ = ["BeforeAfterResult", "BeforeAfterRow", "before_after", "read_truth"]


# -- the study -----------------------------------------------------------------------------


def before_after(
    bundle: Any,
    touchpoints: str | Iterable[str],
    intervention_date: str | date | datetime | pd.Timestamp,
    metrics: str | Iterable[str] = (CONVERSION, "csat"),
    alpha: float = 0.05,
) -> BeforeAfterResult:
    """Compare each touchpoint before and after ``intervention_date``, metric by metric.

    Definitions (estimates are always *after minus before*):

    - **conversion**: the units are journeys (``journey_id`` within a customer; when the
      events have no ``journey_id`` column each customer's whole history is one journey, and
      the result's notes say so) that include the touchpoint. A journey *converted* when it
      has an event with ``event_type == "conversion"`` at or after its first visit to the
      touchpoint. Its period is *before* when that first visit is earlier than the
      intervention, *after* otherwise. Tested with :func:`~cjm_core.stats.two_proportions`.
    - **csat** and any other feedback metric of the catalog (``nps``, ``ces`` ... compared
      as mean scores for now): feedback rows with that metric whose ``touchpoint`` is the
      touchpoint; the period comes from the feedback timestamp. Tested with
      :func:`~cjm_core.stats.welch_t_test` on the scores.

    ``intervention_date`` is a time in UTC: a ``"YYYY-MM-DD"`` string means midnight UTC;
    naive datetimes are read as UTC, aware ones are converted. Raises
    :class:`~cjm_core.errors.StudyError` for an unknown touchpoint or metric, a date outside
    the data, or a period without observations.

    Example::

        >>> result = before_after(bundle, ["call_centre"], "2024-04-01")  # doctest: +SKIP
        >>> result.test("call_centre", "csat").p_value < 0.05             # doctest: +SKIP
        True
    """
    catalog = bundle.catalog
    touchpoints = _as_list(touchpoints, "touchpoints")
    metrics = _as_list(metrics, "metrics")
    unknown_tp = [t for t in touchpoints if t not in catalog.touchpoint_ids]
    if unknown_tp:
        raise StudyError(
            f"Unknown touchpoint(s) {unknown_tp} for catalog {catalog.name!r}; "
            f"its touchpoints are: {', '.join(catalog.touchpoint_ids)}."
        )
    feedback_metrics = [m.id for m in catalog.all_metrics]
    unknown_m = [m for m in metrics if m != CONVERSION and m not in feedback_metrics]
    if unknown_m:
        raise StudyError(
            f"Unknown metric(s) {unknown_m}; choose among: "
            f"{', '.join([CONVERSION, *feedback_metrics])}."
        )
    when = as_utc(intervention_date)
    notes: list[str] = []
    events = bundle.events if CONVERSION in metrics else None
    feedback = bundle.feedback if any(m != CONVERSION for m in metrics) else None
    check_date_in_range(when, events, feedback)
    if events is not None and "journey_id" not in events.columns:
        notes.append(
            "events have no journey_id column: each customer's whole history is one journey"
        )
    for m in metrics:
        if m == "nps":
            notes.append("nps is compared as a mean score (0-10), not as the NPS percentage")

    rows = []
    for tp in touchpoints:
        for metric in metrics:
            if metric == CONVERSION:
                test = _conversion_test(events, tp, when, alpha)
            else:
                test = _feedback_test(feedback, tp, metric, when, alpha)
            rows.append(_row(tp, metric, test.relabel(*PERIODS)))
    return BeforeAfterResult(rows, when, alpha, notes)


def _conversion_test(events: pd.DataFrame, tp: str, when: pd.Timestamp, alpha: float):
    if "event_type" not in events.columns:
        raise StudyError(
            "The events have no event_type column, so no conversion can be seen; mark "
            "conversions with event_type = 'conversion' or drop 'conversion' from metrics."
        )
    key = ["customer_id", "journey_id"] if "journey_id" in events.columns else ["customer_id"]
    if "journey_id" in key:
        missing = int(events["journey_id"].isna().sum())
        if missing:
            raise StudyError(
                f"{missing} event(s) have no journey_id; fill it in for every event or drop "
                "the column to treat each customer's history as one journey."
            )
    visits = (
        events.loc[events["touchpoint"] == tp, [*key, "timestamp"]]
        .groupby(key, as_index=False)["timestamp"]
        .min()
        .rename(columns={"timestamp": "first_visit"})
    )
    conversions = events.loc[events["event_type"] == CONVERSION, [*key, "timestamp"]]
    after_visit = conversions.merge(visits, on=key)
    converted = after_visit.loc[after_visit["timestamp"] >= after_visit["first_visit"], key]
    converted = converted.drop_duplicates().assign(converted=True)
    journeys = visits.merge(converted, on=key, how="left")
    journeys["converted"] = journeys["converted"].fillna(False).astype(bool)
    after = (journeys["first_visit"] >= when).to_numpy()
    counts = {"before": ~after, "after": after}
    n = {p: int(mask.sum()) for p, mask in counts.items()}
    _check_nonempty(n, tp, CONVERSION, "journeys visiting it")
    conv = journeys["converted"].to_numpy()
    return two_proportions(
        int(conv[~after].sum()), n["before"], int(conv[after].sum()), n["after"], alpha=alpha
    )


def _feedback_test(
    feedback: pd.DataFrame | None, tp: str, metric: str, when: pd.Timestamp, alpha: float
):
    if feedback is None or len(feedback) == 0:
        raise StudyError(f"Metric {metric!r} needs feedback, but the bundle has none.")
    if "touchpoint" not in feedback.columns:
        raise StudyError(
            f"Metric {metric!r} is compared per touchpoint, but the feedback has no "
            "touchpoint column."
        )
    rows = feedback.loc[(feedback["metric"] == metric) & (feedback["touchpoint"] == tp)]
    after = (rows["timestamp"] >= when).to_numpy()
    n = {"before": int((~after).sum()), "after": int(after.sum())}
    _check_nonempty(n, tp, metric, f"{metric} feedback rows")
    scores = rows["score"].to_numpy(dtype=float)
    return welch_t_test(scores[~after], scores[after], alpha=alpha)


def _row(tp: str, metric: str, test: TestResult) -> BeforeAfterRow:
    return BeforeAfterRow(
        touchpoint=tp,
        metric=metric,
        n_before=test.n["before"],
        n_after=test.n["after"],
        before=test.estimates["before"],
        after=test.estimates["after"],
        estimate=test.estimate,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        p_value=test.p_value,
        method=test.method,
        significant=test.significant,
        test=test,
    )


# -- checks and conversions ----------------------------------------------------------------


def _as_list(value: str | Iterable[str], name: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise StudyError(f"{name} is empty: give at least one.")
    return items


def check_date_in_range(when: pd.Timestamp, *tables: pd.DataFrame | None) -> None:
    stamps = [t["timestamp"] for t in tables if t is not None and len(t)]
    if not stamps:
        raise StudyError("The bundle has no events or feedback to study.")
    for s in stamps:
        if getattr(s.dtype, "tz", None) is None:
            raise StudyError(
                "Timestamps must be time-zone aware (UTC); load the data with "
                "cjm_core.bundle.load_bundle, which validates and converts them."
            )
    first = min(s.min() for s in stamps)
    last = max(s.max() for s in stamps)
    if not first < when <= last:
        raise StudyError(
            f"intervention_date {when:%Y-%m-%d %H:%M} UTC is outside the data range "
            f"{first:%Y-%m-%d} to {last:%Y-%m-%d}; choose a date inside it so both periods "
            "have data."
        )


def _check_nonempty(n: Mapping[str, int], tp: str, metric: str, what: str) -> None:
    for period in PERIODS:
        if n[period] == 0:
            raise StudyError(
                f"No {what} at touchpoint {tp!r} in the {period} period "
                f"(n before = {n['before']}, n after = {n['after']}) for metric {metric!r}; "
                "move the intervention date or widen the data."
            )
