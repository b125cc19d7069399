"""What a before/after study asks: :class:`BeforeAfterStudy`, validated, with its windows.

A study names the touchpoints that were changed, when (one date, or a date per touchpoint),
the metrics to compare, and how: the pre and post windows, a washout after the change, the
control touchpoints that were not changed (for a difference-in-differences), a breakdown
(e.g. by persona), alpha, the correction for multiple comparisons, and what the change cost.
:meth:`BeforeAfterStudy.run` (see :mod:`cjm_core.study_run`) runs it on a data bundle.

Windows, per touchpoint with intervention time ``t``: *before* is ``[t - pre, t)``, *after*
is ``[t + washout, t + washout + post)``; ``pre=None`` / ``post=None`` reach the start /
end of the data. Units in the washout or outside both windows are left out and counted.

Example::

    >>> study = BeforeAfterStudy(touchpoints=["call_centre"], intervention="2024-04-01",
    ...                          metrics=["conversion", "csat"], washout="7D")
    >>> study.date_of("call_centre")
    Timestamp('2024-04-01 00:00:00+0000', tz='UTC')
    >>> study.periods(pd.Series(pd.to_datetime(["2024-03-31", "2024-04-03", "2024-04-09"],
    ...                                       utc=True)), "call_centre").tolist()
    ['before', None, 'after']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from .errors import StudyError
from .study_results import as_utc

DESIGNS = ("auto", "before_after", "did", "its")
CORRECTIONS = ("holm", "fdr_bh", "bonferroni", "none")
FAMILIES = ("study", "touchpoint", "metric")


@dataclass
class BeforeAfterStudy:
    """A before/after study spec. Every field has a plain meaning:

    :param touchpoints: the touchpoints that were changed.
    :param intervention: when: ``"YYYY-MM-DD"`` (UTC) for all, or ``{touchpoint: date}``.
    :param metrics: names from :data:`cjm_core.study_metrics.METRICS` or the catalog's
        feedback metrics (``conversion``, ``stage_conversion``, ``drop_off``,
        ``time_to_convert``, ``csat``, ``nps``, ``ces``, ``wait_time``, ``repeat_purchase``,
        ``revenue_per_customer``).
    :param pre, post: window lengths (``"90D"``, ``"12W"``); None: all data on that side.
    :param washout: a period right after the change left out of both windows (``"7D"``).
    :param controls: touchpoints that were not changed: with them the study can compare
        the change against them (difference-in-differences).
    :param breakdown: a customer or unit column (``"persona"``, ``"region"``): each
        comparison is repeated per value, and the correction covers all of them.
    :param design: ``"auto"`` (pick from the data: difference-in-differences with
        controls, interrupted time series with enough periods, else before/after) or force
        one of ``"before_after"``, ``"did"``, ``"its"``.
    :param its_period: the period of the time series (``"W"`` weeks, ``"D"`` days).
    :param min_its_periods: periods needed on each side for an interrupted time series.
    :param novelty: the first days after the change compared with the rest (``"14D"``),
        to spot an effect that fades; None: no check.
    :param alpha: significance level; intervals are ``1 - alpha``.
    :param correction: ``"holm"``, ``"fdr_bh"``, ``"bonferroni"`` or ``"none"``.
    :param family: which p-values are corrected together: the whole ``"study"``, each
        ``"touchpoint"``'s metrics, or each ``"metric"`` across touchpoints.
    :param adjust_for_history: adjust for each customer's pre-period behaviour (CUPED-style
        regression) where the same customers appear before and after.
    :param cost: what the change cost (one number, or per touchpoint), for the ROI.
    :param value_per_conversion: money per conversion for the ROI; None: the mean ``value``
        of the data's conversion events.
    :param repeat_days: the window of ``repeat_purchase``.
    :param seed: for anything random (bootstrap).
    """

    touchpoints: Sequence[str]
    intervention: str | Mapping[str, Any]
    metrics: Sequence[str] = ("conversion", "csat")
    pre: str | None = None
    post: str | None = None
    washout: str | None = None
    controls: Sequence[str] = ()
    breakdown: str | None = None
    design: str = "auto"
    its_period: str = "W"
    min_its_periods: int = 8
    novelty: str | None = "14D"
    alpha: float = 0.05
    correction: str = "holm"
    family: str = "study"
    adjust_for_history: bool = True
    cost: float | Mapping[str, float] | None = None
    value_per_conversion: float | None = None
    repeat_days: int = 30
    seed: int = 0
    _dates: dict[str, pd.Timestamp] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.touchpoints = _names(self.touchpoints, "touchpoints")
        self.metrics = _names(self.metrics, "metrics")
        self.controls = _names(self.controls, "controls", allow_empty=True)
        both = sorted(set(self.touchpoints) & set(self.controls))
        if both:
            raise StudyError(f"{both} cannot be both changed (touchpoints) and controls.")
        self._dates = self._read_dates()
        for name in ("pre", "post", "washout", "novelty"):
            _duration(getattr(self, name), name)
        _choice(self.design, DESIGNS, "design")
        _choice(self.correction, CORRECTIONS, "correction")
        _choice(self.family, FAMILIES, "family")
        if not (isinstance(self.alpha, float | int) and 0 < self.alpha < 1):
            raise StudyError(f"alpha must be between 0 and 1; got {self.alpha!r}.")
        if not isinstance(self.min_its_periods, int) or self.min_its_periods < 3:
            raise StudyError(
                f"min_its_periods must be a whole number >= 3; got {self.min_its_periods!r}."
            )
        if self.design == "did" and not self.controls:
            raise StudyError("design='did' needs control touchpoints: give controls=[...].")

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> BeforeAfterStudy:
        """A study from a mapping (notebook parameters, YAML); unknown keys are an error."""
        known = {f.name for f in fields(cls) if f.init}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise StudyError(f"Unknown study setting(s) {unknown}; known: {sorted(known)}.")
        return cls(**dict(spec))

    def run(self, bundle: Any) -> Any:
        """Run the study on a :class:`~cjm_core.bundle.DataBundle`; returns a
        :class:`~cjm_core.study_report.StudyResult` (see :mod:`cjm_core.study_run`)."""
        from .study_run import run_study

        return run_study(self, bundle)

    def date_of(self, touchpoint: str) -> pd.Timestamp:
        """The intervention time of a changed touchpoint (controls: the earliest date)."""
        if touchpoint in self._dates:
            return self._dates[touchpoint]
        return min(self._dates.values())

    def periods(self, times: pd.Series, touchpoint: str) -> pd.Series:
        """``"before"``, ``"after"`` or None (washout, outside the windows) per time."""
        t = self.date_of(touchpoint)
        wash = _duration(self.washout, "washout") or pd.Timedelta(0)
        pre, post = _duration(self.pre, "pre"), _duration(self.post, "post")
        before = times < t
        if pre is not None:
            before &= times >= t - pre
        after = times >= t + wash
        if post is not None:
            after &= times < t + wash + post
        out = np.where(before, "before", np.where(after, "after", None))
        return pd.Series(out, index=times.index, dtype=object)

    def cost_of(self, touchpoint: str) -> float | None:
        if self.cost is None:
            return None
        if isinstance(self.cost, Mapping):
            value = self.cost.get(touchpoint)
            return None if value is None else float(value)
        return float(self.cost) / len(self.touchpoints)  # shared equally: see the ROI notes

    def _read_dates(self) -> dict[str, pd.Timestamp]:
        if isinstance(self.intervention, Mapping):
            missing = [t for t in self.touchpoints if t not in self.intervention]
            extra = sorted(set(self.intervention) - set(self.touchpoints))
            if missing or extra:
                raise StudyError(
                    f"intervention dates must be given for exactly the changed touchpoints; "
                    f"missing {missing}, not changed {extra}."
                )
            return {t: as_utc(self.intervention[t]) for t in self.touchpoints}
        when = as_utc(self.intervention)
        return {t: when for t in self.touchpoints}


def _names(value: Any, name: str, allow_empty: bool = False) -> list[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    if not items and not allow_empty:
        raise StudyError(f"{name} must name at least one; got {value!r}.")
    bad = [v for v in items if not isinstance(v, str) or not v]
    if bad:
        raise StudyError(f"{name} must be names (text); got {bad}.")
    if len(set(items)) != len(items):
        raise StudyError(f"{name} lists a name twice: {items}.")
    return items


def _duration(value: Any, name: str) -> pd.Timedelta | None:
    if value is None:
        return None
    try:
        td = pd.Timedelta(value)
    except (ValueError, TypeError):
        raise StudyError(
            f"{name}={value!r} is not a duration; write it like '90D' or '12W'."
        ) from None
    if td < pd.Timedelta(0) or (td == pd.Timedelta(0) and name != "washout"):
        raise StudyError(f"{name} must be a positive duration; got {value!r}.")
    return td


def _choice(value: Any, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise StudyError(f"{name}={value!r} is not one of {list(allowed)}.")
