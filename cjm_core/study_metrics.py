"""Units of analysis for before/after studies: one row per unit, with a time and a value.

:func:`metric_units` turns a bundle, a metric and a touchpoint into a tidy table that a
study splits into periods by ``time``, tests, adjusts (``history``) and breaks down
(``persona``, ``region``). :data:`METRICS` describes each metric; :func:`describe_metric`
gives report text. Feedback metrics the template declares (e.g. retail's ``rating``) are
known through the bundle's catalog (:func:`get_metric`).

Example::

    >>> import pandas as pd
    >>> from cjm_core.bundle import load_bundle
    >>> from cjm_core.model import JourneyCatalog
    >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
    ...     "channels": [{"id": "web", "name": "Web"}],
    ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
    ...                      "stage": "s", "kind": "digital"}]})
    >>> b = load_bundle({"events": pd.DataFrame({"customer_id": ["c1", "c1", "c2"],
    ...     "touchpoint": ["site"] * 3, "event_type": ["interaction", "conversion", "interaction"],
    ...     "timestamp": ["2024-03-01T10:00Z", "2024-03-01T11:00Z", "2024-03-02T10:00Z"]}),
    ...     "customers": pd.DataFrame({"customer_id": ["c1", "c2"]})}, template=cat)
    >>> metric_units(b, "conversion", "site")[["unit", "value"]].to_dict("list")
    {'unit': ['c1', 'c2'], 'value': [1.0, 0.0]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .errors import StudyError
from .study_units import (
    UnitData,
    customer_units,
    days_param,
    feedback_units,
    history_of,
    journey_units,
    unit_frame,
    wait_units,
)

KINDS = ("proportion", "mean", "nps", "skewed")
UNITS = ("journey", "customer", "response", "event", "contact")
_CONVERSIONS = "number of the customer's conversion events (a real zero)"
_SCORES = (
    "mean score the customer gave for the same metric (any touchpoint); 0 when none, which "
    "is not a real zero (has_history is False)"
)


@dataclass(frozen=True)
class Metric:
    """What a metric measures: its ``kind`` (how to test it), ``unit`` and report text.

    ``history`` says which pre-period quantity the ``history`` column holds.

    Example::

        >>> METRICS["drop_off"].higher_is_better, METRICS["nps"].kind
        (False, 'nps')
    """

    name: str
    kind: str
    unit: str
    description: str
    higher_is_better: bool = True
    history: str = _CONVERSIONS

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.unit not in UNITS:
            raise StudyError(
                f"Metric {self.name!r}: kind {self.kind!r} must be one of {', '.join(KINDS)} "
                f"and unit {self.unit!r} one of {', '.join(UNITS)}."
            )


def _answers(what: str) -> str:
    return (
        f"{what} given for the touchpoint: one unit per feedback row with this metric and "
        "touchpoint; time = the answer's timestamp; value = the score. Answers without a "
        "touchpoint are set aside and counted."
    )


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("conversion", "proportion", "journey",
               "Share of journeys through the touchpoint that convert. A journey is a "
               "journey_id within a customer (a customer's whole history when the events have "
               "no journey_id); it scores 1 when it has an event_type == 'conversion' event at "
               "or after its first event at the touchpoint; time = that first visit."),
        Metric("stage_conversion", "proportion", "journey",
               "Share of journeys through the touchpoint that reach a later stage: 1 when the "
               "journey has an event, at or after its first visit, at a touchpoint whose stage "
               "comes later in the catalog's order; time = the first visit."),
        Metric("drop_off", "proportion", "journey",
               "Share of journeys through the touchpoint that end there: 1 when the journey's "
               "last event (latest timestamp, ties broken by row order) is at the touchpoint "
               "and the journey has no conversion event at all; time = the first visit.",
               higher_is_better=False),
        Metric("time_to_convert", "skewed", "journey",
               "Seconds from a journey's first visit to the touchpoint to its first conversion "
               "at or after it, among converting journeys only (read it with conversion); "
               "time = the first visit.", higher_is_better=False),
        Metric("csat", "mean", "response",
               _answers("Customer satisfaction answers (1 very dissatisfied .. 5 very satisfied)"),
               history=_SCORES),
        Metric("nps", "nps", "response",
               _answers("Likelihood-to-recommend answers (0-10; the Net Promoter Score is % "
                        "promoters 9-10 minus % detractors 0-6)"), history=_SCORES),
        Metric("ces", "mean", "response",
               _answers("Customer effort answers (1 strongly disagree .. 7 strongly agree that "
                        "it was easy)"), history=_SCORES),
        Metric("wait_time", "skewed", "event",
               "duration_s of each event at the touchpoint (the wait at an assisted touchpoint "
               "such as banking's call centre, a handling or session time elsewhere); time = "
               "the event's timestamp. Events without a duration are set aside and counted.",
               higher_is_better=False,
               history="number of the customer's events at the touchpoint (a real zero)"),
        Metric("repeat_purchase", "proportion", "customer",
               "Share of customers who buy again: a customer's unit is their first conversion "
               "at or after their first visit to the touchpoint (time t); 1 when they have "
               "another conversion in (t, t + repeat_days]. Units whose window ends after the "
               "last event are left out and counted."),
        # a mean: most customers spend nothing, so a rank test's location shift is ~0
        Metric("revenue_per_customer", "mean", "customer",
               "Sum of the customer's event value (missing values count as 0) in [t, t + "
               "revenue_days], t = the customer's first visit to the touchpoint (time = t). "
               "Customers whose window ends after the last event are left out and counted.",
               history="sum of the customer's event value (a real zero)"),
    )
}  # fmt: skip
JOURNEY_METRICS = ("conversion", "stage_conversion", "drop_off", "time_to_convert")


def get_metric(name: str, catalog: Any = None) -> Metric:
    """The :class:`Metric` called ``name``: from :data:`METRICS`, or a feedback metric that
    ``catalog`` declares (kind ``mean``, one unit per response, higher is better).

    Example::

        >>> get_metric("wait_time").unit
        'event'
    """
    if name in METRICS:
        return METRICS[name]
    declared = {m.id: m for m in (catalog.all_metrics if catalog is not None else ())}
    if name in declared:
        m = declared[name]
        extra = f"; {m.description}" if m.description else ""
        what = f"{m.name} answers ({m.min:g} .. {m.max:g}{extra})"
        return Metric(name, "mean", "response", _answers(what), history=_SCORES)
    known = [*METRICS, *(k for k in declared if k not in METRICS)]
    raise StudyError(f"Unknown metric {name!r}; known metrics: {', '.join(known)}.")


def describe_metric(name: str, catalog: Any = None) -> str:
    """One paragraph for reports: kind, unit, direction, definition and history covariate.

    Example::

        >>> describe_metric("drop_off")[:61]
        'drop_off (proportion per journey; lower is better): Share of '
    """
    m = get_metric(name, catalog)
    better = "higher" if m.higher_is_better else "lower"
    return (
        f"{m.name} ({m.kind} per {m.unit}; {better} is better): {m.description} "
        f"History covariate: {m.history}, in the history_days before the unit's time."
    )


def metric_units(
    bundle: Any,
    metric: str,
    touchpoint: str,
    *,
    repeat_days: float = 30,
    history_days: float = 90,
    revenue_days: float = 30,
) -> pd.DataFrame:
    """One row per unit of ``metric`` at ``touchpoint``, sorted by time then unit.

    Definitions are in :data:`METRICS` (``describe_metric(name)`` prints one): conversion
    and feedback units are those of :func:`cjm_core.studies.before_after` and of the planted
    truth (``synth_truth``), ``wait_time`` the truth's duration. Columns:

    - ``unit``: ``customer/journey`` (or ``customer`` without journey_id), ``customer``,
      ``feedback:<row label>`` or ``event:<row label>`` (labels of the bundle's table);
    - ``customer_id``; ``time`` (UTC, places the unit in a period); ``value`` (float);
    - ``persona`` from customers (NaN when absent) and ``region`` when customers carry it,
      else the region of the customer's earliest event when events carry it;
    - ``history``: the metric's pre-period covariate (``METRICS[name].history``) over
      ``[time - history_days, time)``, so only data before ``time``; 0 when nothing is
      there, a real zero except for feedback metrics (a mean score);
    - ``has_history``: the customer left a record in that window (any event; for feedback
      metrics an answer of the metric), so ``history`` carries information;
    - ``history_complete``: the window lies inside the data. Early units have truncated
      history, which differs between periods: restrict or check before adjusting on it.

    ``df.attrs``: ``metric``, ``touchpoint``, ``kind``, ``unit``, ``left_out`` (reason ->
    number of rows or units set aside), ``notes``, ``data_start`` (first event or answer),
    ``data_end`` (last event) and the three day parameters. Raises
    :class:`~cjm_core.errors.StudyError` for an unknown metric or touchpoint, a missing
    column, bad day counts, or no units at the touchpoint.

    Example::

        >>> from types import SimpleNamespace
        >>> from cjm_core.model import JourneyCatalog
        >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
        ...     "channels": [{"id": "ph", "name": "Phone"}], "touchpoints": [{"id": "call",
        ...     "name": "Call", "channel": "ph", "stage": "s", "kind": "assisted"}]})
        >>> ts = pd.to_datetime(["2024-03-01 10:00", "2024-03-02 10:00"], utc=True)
        >>> ev = pd.DataFrame({"customer_id": ["a", "a"], "timestamp": ts,
        ...     "touchpoint": ["call", "call"], "duration_s": [600.0, 60.0]})
        >>> df = metric_units(SimpleNamespace(catalog=cat, events=ev, feedback=None,
        ...     customers=None), "wait_time", "call")
        >>> df[["unit", "value", "history"]].to_dict("list")
        {'unit': ['event:0', 'event:1'], 'value': [600.0, 60.0], 'history': [0.0, 1.0]}
    """
    catalog = bundle.catalog
    spec = get_metric(metric, catalog)
    if touchpoint not in catalog.touchpoint_ids:
        raise StudyError(
            f"Unknown touchpoint {touchpoint!r} for catalog {catalog.name!r}; its touchpoints "
            f"are: {', '.join(catalog.touchpoint_ids)}."
        )
    h = days_param(history_days, "history_days")
    d = UnitData(bundle, metric, touchpoint)
    if spec.name in JOURNEY_METRICS:
        u = journey_units(d, spec.name)
    elif spec.name == "repeat_purchase":
        u = customer_units(d, spec.name, days_param(repeat_days, "repeat_days"))
    elif spec.name == "revenue_per_customer":
        u = customer_units(d, spec.name, days_param(revenue_days, "revenue_days"))
    elif spec.name == "wait_time":
        u = wait_units(d)
    else:
        u = feedback_units(d, spec.name)
    u["history"], u["has_history"] = history_of(d, spec.name, u["code"], u["time"], h)
    u["history_complete"] = u["time"] - h >= d.start
    df = unit_frame(d, bundle, u)
    df.attrs = {
        "metric": spec.name, "touchpoint": touchpoint, "kind": spec.kind, "unit": spec.unit,
        "left_out": d.left_out, "notes": d.notes, "data_start": pd.Timestamp(d.start, tz="UTC"),
        "data_end": pd.Timestamp(d.end, tz="UTC"), "history_days": history_days,
        "repeat_days": repeat_days, "revenue_days": revenue_days,
    }  # fmt: skip
    return df
