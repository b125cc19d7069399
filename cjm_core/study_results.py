"""The result of a before/after study: rows, text, HTML, a plot, and the planted truth.

:class:`BeforeAfterResult` is what :func:`cjm_core.studies.before_after` returns; it renders
as text (``summary()``), HTML, a table (``to_frame()``) and a plot, and puts the effects a
synthetic data set was generated with (``truth.json``) beside its estimates.

Example::

    >>> result = before_after(bundle, "call_centre", "2024-04-01")  # doctest: +SKIP
    >>> result.compare_truth(read_truth("data/banking"))             # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import StudyError
from .stats import TestResult
from .study_truth import judged, planted_effect, planted_effects, truth_frame

CONVERSION = "conversion"
PERIODS = ("before", "after")


@dataclass(frozen=True)
class BeforeAfterRow:
    """One touchpoint x metric comparison; ``estimate`` is after minus before."""

    touchpoint: str
    metric: str
    n_before: int
    n_after: int
    before: float
    after: float
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    significant: bool
    test: TestResult = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The row without its full test result (JSON-ready apart from numpy floats)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "test"}


class BeforeAfterResult:
    """The result of :func:`before_after`: one :class:`BeforeAfterRow` per touchpoint x metric.

    ``results`` lists the rows; ``notes`` says how the data were read (e.g. journeys taken
    as whole customer histories).
    """

    def __init__(
        self,
        results: Sequence[BeforeAfterRow],
        intervention_date: pd.Timestamp,
        alpha: float,
        notes: Sequence[str] = (),
    ):
        self.results = list(results)
        self.intervention_date = intervention_date
        self.alpha = alpha
        self.notes = list(notes)

    def test(self, touchpoint: str, metric: str) -> TestResult:
        """The full :class:`~cjm_core.stats.TestResult` of one touchpoint and metric."""
        for row in self.results:
            if row.touchpoint == touchpoint and row.metric == metric:
                return row.test
        have = ", ".join(f"{r.touchpoint}/{r.metric}" for r in self.results)
        raise StudyError(f"No result for {touchpoint}/{metric}; the study has: {have}.")

    def to_frame(self) -> pd.DataFrame:
        """One row per touchpoint x metric with n, group values, estimate, CI and p-value."""
        return pd.DataFrame([row.as_dict() for row in self.results])

    def summary(self) -> str:
        """One line per touchpoint x metric (``*`` marks a significant difference), notes."""
        lines = [
            f"Before/after study, intervention {self.intervention_date:%Y-%m-%d %H:%M} UTC, "
            f"{1 - self.alpha:.0%} confidence"
        ]
        for row in self.results:
            lines.append(
                f"  {row.touchpoint} / {row.metric}: before {row.before:.4g} (n={row.n_before}), "
                f"after {row.after:.4g} (n={row.n_after}); difference {row.estimate:+.4g} "
                f"[{row.ci_low:.4g}, {row.ci_high:.4g}], p = {row.p_value:.4g}"
                f"{' *' if row.significant else ''}"
            )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        table = self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.4g}")
        notes = "".join(f"<p><em>Note: {html.escape(n)}</em></p>" for n in self.notes)
        head = (
            f"<p><strong>Before/after study</strong>, intervention "
            f"{self.intervention_date:%Y-%m-%d} (UTC), {1 - self.alpha:.0%} confidence; "
            "estimate = after &minus; before.</p>"
        )
        return f"<div>{head}{table}{notes}</div>"

    def __repr__(self) -> str:
        pairs = ", ".join(f"{r.touchpoint}/{r.metric}" for r in self.results)
        return f"BeforeAfterResult({pairs}; intervention={self.intervention_date:%Y-%m-%d})"

    def plot(self):
        """Before vs after per metric, with each period's confidence interval as error bars.

        Returns a matplotlib ``Figure`` (one panel per metric, touchpoints along x).
        """
        return _plot(self)

    # -- truth of synthetic data ---------------------------------------------------------
    def compare_truth(self, truth: Mapping[str, Any]) -> pd.DataFrame:
        """Put the planted effects (``truth.json``) beside the estimates.

        ``truth`` is the generator's dict with ``effects`` = ``{metric: {touchpoint,
        before, after, difference}}`` (the bare effects mapping is accepted too). Rows
        without a planted effect get NaN truth and ``covered`` = ``<NA>``. ``covered`` is
        True when the CI contains the true difference; ``detected`` when the test is
        significant with the sign of the true difference.
        """
        effects = planted_effects(truth)
        rows = []
        for row in self.results:
            effect = planted_effect(effects, row.metric, row.touchpoint)
            true_diff = _float(effect.get("difference")) if effect else math.nan
            rows.append(
                {
                    "touchpoint": row.touchpoint,
                    "metric": row.metric,
                    "estimate": row.estimate,
                    "ci_low": row.ci_low,
                    "ci_high": row.ci_high,
                    "p_value": row.p_value,
                    "true_before": _float(effect.get("before")) if effect else math.nan,
                    "true_after": _float(effect.get("after")) if effect else math.nan,
                    "true_difference": true_diff,
                    **judged(row.ci_low, row.ci_high, row.estimate, row.significant, true_diff),
                }
            )
        return truth_frame(rows)

    def truth_report(self, truth: Mapping[str, Any]) -> str:
        """Markdown sentences saying, per planted effect, whether it was detected and covered."""
        frame = self.compare_truth(truth)
        planted = frame[frame["covered"].notna()]
        if len(planted):
            lines = [
                f"Planted effects detected: {int(planted['detected'].sum())} of {len(planted)}; "
                f"confidence intervals covering the true value: {int(planted['covered'].sum())} "
                f"of {len(planted)}.",
                "",
            ]
        else:
            lines = ["None of the studied effects is planted in the truth file.", ""]
        for rec in frame.to_dict("records"):
            where = f"**{rec['metric']}** at **{rec['touchpoint']}**"
            if pd.isna(rec["covered"]):
                lines.append(f"- {where}: no planted effect in the truth file.")
                continue
            verdict = "detected" if rec["detected"] else "**not detected**"
            cover = "covers" if rec["covered"] else "**does not cover**"
            lines.append(
                f"- {where}: true difference {rec['true_difference']:+.4g}, estimated "
                f"{rec['estimate']:+.4g} (CI {rec['ci_low']:.4g} to {rec['ci_high']:.4g}, "
                f"p = {rec['p_value']:.3g}): {verdict}; the CI {cover} the true value."
            )
        change = truth.get("intervention") or {}
        if change.get("date") and as_utc(change["date"]) != self.intervention_date:
            lines.append(
                f"- Caution: the planted intervention date is {change['date']}, "
                f"not the {self.intervention_date:%Y-%m-%d} studied here."
            )
        return "\n".join(lines)

    def headline(self, truth: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """The figures a report records: ``{"touchpoint.metric": {...}}``, JSON-ready."""
        compared = self.compare_truth(truth) if truth else None
        out: dict[str, dict[str, Any]] = {}
        for i, row in enumerate(self.results):
            fig = {
                k: v
                for k, v in row.as_dict().items()
                if k not in ("touchpoint", "metric", "method")
            }
            if compared is not None:
                rec = compared.iloc[i]
                fig["truth_difference"] = (
                    None if pd.isna(rec["covered"]) else rec["true_difference"]
                )
                fig["covered"] = None if pd.isna(rec["covered"]) else bool(rec["covered"])
                fig["detected"] = None if pd.isna(rec["detected"]) else bool(rec["detected"])
            out[f"{row.touchpoint}.{row.metric}"] = fig
        return out


def read_truth(data_dir: str | Path) -> dict[str, Any] | None:
    """The planted truth (``truth.json``) of a generated data folder, or None if absent.

    >>> read_truth("/nonexistent") is None
    True
    """
    path = Path(data_dir) / "truth.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _plot(result: BeforeAfterResult):
    import seaborn as sns
    from matplotlib.figure import Figure

    metrics = list(dict.fromkeys(r.metric for r in result.results))
    colours = dict(zip(PERIODS, sns.color_palette("colorblind", 2), strict=True))
    with sns.axes_style("whitegrid"):
        fig = Figure(figsize=(4.2 * len(metrics), 3.6), layout="constrained")
        axes = fig.subplots(1, len(metrics), squeeze=False)[0]
        for ax, metric in zip(axes, metrics, strict=True):
            rows = [r for r in result.results if r.metric == metric]
            for shift, period in zip((-0.12, 0.12), PERIODS, strict=True):
                x = np.arange(len(rows)) + shift
                y = np.array([r.test.estimates[period] for r in rows])
                ci = np.array([r.test.group_ci[period] for r in rows])
                ax.errorbar(
                    x,
                    y,
                    yerr=[y - ci[:, 0], ci[:, 1] - y],
                    fmt="o",
                    capsize=4,
                    color=colours[period],
                    label=period,
                )
            ax.set_xticks(range(len(rows)), [r.touchpoint for r in rows])
            ax.set_xlim(-0.6, len(rows) - 0.4)
            ax.grid(False, axis="x")
            ax.set_title(metric + (" rate" if metric == CONVERSION else " (mean score)"))
            ax.legend(title=f"{1 - result.alpha:.0%} CI", frameon=False)
        fig.suptitle(f"Before vs after {result.intervention_date:%Y-%m-%d}")
    return fig


def as_utc(value: Any) -> pd.Timestamp:
    """An intervention date as a UTC timestamp: ``"YYYY-MM-DD"`` is midnight UTC, naive
    times are read as UTC, aware ones converted.

    >>> as_utc("2024-04-01")
    Timestamp('2024-04-01 00:00:00+0000', tz='UTC')
    """
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise StudyError(
            f"intervention_date {value!r} is not a date; use 'YYYY-MM-DD' ({exc})."
        ) from None
    if ts is pd.NaT:
        raise StudyError(f"intervention_date {value!r} is empty; use 'YYYY-MM-DD'.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)
