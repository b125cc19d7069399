"""The result of a before/after study: one tidy table, the checks, the ROI and the summary.

:class:`StudyResult` renders as text a manager can read (``summary()``), as HTML in a
notebook, and as DataFrames (``to_frame()``, ``checks``, ``roi``); ``plot()`` draws the
forest plot of the effects with their intervals, ``plot_series()`` the time series of one
metric with its counterfactual when the design was an interrupted time series.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from .errors import StudyError

VERDICTS = ("better", "worse", "no clear change")
_COLOURS = {"better": "#1b9e77", "worse": "#d95f02"}
DESIGN_NAMES = {"did": "difference-in-differences", "its": "interrupted time series"}


class StudyResult:
    """A run :class:`~cjm_core.study_spec.BeforeAfterStudy`.

    ``table``: one row per touchpoint x metric (x segment): design, n and value per window,
    estimate (after minus before, in the metric's units) with its interval, p-value and the
    p-value corrected within its family, the history-adjusted estimate, and a verdict.
    ``checks``: one row per check (see :mod:`cjm_core.study_checks`). ``roi``: incremental
    conversions, value, cost and return per changed touchpoint. ``details`` holds every
    test and design result by (touchpoint, metric, segment).
    """

    def __init__(self, study, table, checks, roi, details, notes):
        self.study = study
        self.table = table
        self.checks = checks
        self.roi = roi
        self.details = details
        self.notes = list(notes)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def result(self, touchpoint: str, metric: str, segment: str | None = None) -> dict:
        """The tests behind one row: ``plain`` (before/after), ``design``, ``adjusted`` and
        (overall rows) the ``units`` with their period."""
        try:
            return self.details[(touchpoint, metric, segment)]
        except KeyError:
            have = sorted({f"{t}/{m}" for t, m, _ in self.details})
            raise StudyError(
                f"No result for {touchpoint}/{metric}; the study has {have}."
            ) from None

    def summary(self) -> str:
        """Plain language: per comparison the change, how sure, the design; then checks
        that need attention, the ROI and the notes."""
        s = self.study
        overall = self.table[self.table["segment"] == "all"]
        lines = [
            f"Before/after study of {', '.join(s.touchpoints)} "
            f"({_dates(s)}); {len(self.table)} comparison(s), p-values corrected with "
            f"{s.correction} per {s.family}, {1 - s.alpha:.0%} intervals."
        ]
        for row in overall.itertuples(index=False):
            lines.append("- " + _sentence(row, s.alpha))
            if not math.isnan(row.adjusted_estimate):
                lines.append(
                    f"  adjusted for the customers' history: {_fmt(row.adjusted_estimate, row)} "
                    f"[{_fmt(row.adjusted_ci_low, row)}, {_fmt(row.adjusted_ci_high, row)}], "
                    f"variance cut by {max(row.adjusted_variance_reduction, 0):.0%}"
                )
            lines.append(
                f"  design: {self.details[(row.touchpoint, row.metric, None)]['design'].why}"
            )
        segments = self.table[self.table["segment"] != "all"]
        if len(segments):
            moved = segments[segments["verdict"] != "no clear change"]
            lines.append(
                f"- by {s.breakdown}: {len(segments)} comparisons, {len(moved)} with a clear "
                "change after correction"
                + (
                    ": "
                    + "; ".join(f"{r.segment} {r.metric} {r.verdict}" for r in moved.itertuples())
                    if len(moved)
                    else ""
                )
            )
        warnings = (
            self.checks[self.checks["status"] == "warning"] if len(self.checks) else self.checks
        )
        if len(warnings):
            lines.append("Checks that need attention:")
            lines += [
                f"- {r.touchpoint}/{r.metric} {r.check}: {r.detail}" for r in warnings.itertuples()
            ]
        else:
            lines.append("Checks: nothing needs attention.")
        for r in self.roi.itertuples(index=False):
            lines.append("ROI: " + r.text)
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        shown = self.table.drop(columns=["kind", "higher_is_better"], errors="ignore")
        names = html.escape(", ".join(self.study.touchpoints))
        parts = [
            f"<p><strong>Before/after study</strong> of {names}"
            f" ({html.escape(_dates(self.study))}); estimate = after &minus; before.</p>",
            shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", escape=True),
        ]
        if len(self.checks):
            parts += [
                "<p><strong>Checks</strong></p>",
                self.checks.to_html(index=False, escape=True),
            ]
        if len(self.roi):
            parts += [
                "<p><strong>ROI</strong></p>",
                self.roi.drop(columns="text").to_html(
                    index=False, float_format=lambda v: f"{v:,.4g}", escape=True
                ),
            ]
        parts += [
            f"<p><em>{html.escape(line)}</em></p>" for line in self.summary().splitlines()[:1]
        ]
        return "<div>" + "".join(parts) + "</div>"

    def __repr__(self) -> str:
        return f"StudyResult({len(self.table)} comparisons; touchpoints {self.study.touchpoints})"

    def counterfactual(self, touchpoint: str, metric: str):
        """A second opinion beside the design's estimate: a CausalImpact-style structural
        time series (:func:`cjm_core.stats.structural_time_series`) fitted on the metric's
        per-period series before the change, its forecast after the change as the
        counterfactual. Needs every period to have units (no washout gap)."""
        from .stats.sts import structural_time_series
        from .study_design import period_series, regular_series

        found = self.result(touchpoint, metric)
        kind = self.table.loc[self.table["metric"] == metric, "kind"].iloc[0]
        freq = self.study.its_period
        series = regular_series(period_series(found["units"], kind, freq), freq)
        if series["value"].isna().any():
            raise StudyError(
                f"{touchpoint}/{metric}: {int(series['value'].isna().sum())} period(s) have no "
                "units (a washout, or sparse data): no counterfactual series."
            )
        values = pd.Series(series["value"].to_numpy(float), index=series["start"])
        date = self.study.date_of(touchpoint)
        return structural_time_series(values, date, alpha=self.study.alpha, seed=self.study.seed)

    def compare_truth(self, truth: dict) -> pd.DataFrame:
        """The planted effects of synthetic data beside the estimates (see
        :mod:`cjm_core.study_truth`)."""
        from .study_truth import compare_truth

        return compare_truth(self.table, truth)

    def truth_report(self, truth: dict) -> str:
        from .study_truth import truth_report

        return truth_report(self.table, truth)

    def headline(self, truth: dict | None = None) -> dict[str, dict]:
        """The figures a report records, JSON-ready, with the truth when given."""
        from .study_truth import headline

        return headline(self.table, truth)

    def plot(self):
        """Forest plot: each comparison's estimate with its interval, per metric panel."""
        return forest_plot(self.table, self.study.alpha)

    def plot_series(self, touchpoint: str, metric: str):
        """The metric per period with the fitted and counterfactual lines (interrupted time
        series designs only)."""
        design = self.result(touchpoint, metric)["design"]
        if design.name != "its":
            raise StudyError(
                f"{touchpoint}/{metric} used the {design.name} design; a time series plot needs "
                "the interrupted time series design."
            )
        return design.result.plot()


def correct(table: pd.DataFrame, study: Any) -> pd.DataFrame:
    """Add ``p_adjusted`` (corrected within the study's family) and ``significant``."""
    from .stats.multiple import adjust_pvalues

    out = table.copy()
    if study.correction == "none":
        out["p_adjusted"] = out["p_value"]
    else:
        family = {"study": None, "touchpoint": out["touchpoint"], "metric": out["metric"]}
        labels = family[study.family]
        out["p_adjusted"] = adjust_pvalues(
            out["p_value"].to_numpy(float),
            study.correction,
            family=None if labels is None else labels.to_numpy(),
        )
    out["significant"] = out["p_adjusted"] < study.alpha
    return out


def add_verdicts(table: pd.DataFrame, study: Any) -> pd.DataFrame:
    """``verdict``: better / worse (significant after correction, in the metric's good or
    bad direction) or no clear change."""
    up = table["estimate"] > 0
    good = up == table["higher_is_better"]
    verdict = np.where(~table["significant"], VERDICTS[2], np.where(good, VERDICTS[0], VERDICTS[1]))
    return table.assign(verdict=verdict)


def roi_table(study: Any, bundle: Any, table: pd.DataFrame, details: dict) -> pd.DataFrame:
    """Per changed touchpoint with a conversion row: incremental conversions in the after
    window (estimate x journeys after, with its interval), their value, the cost and
    ``roi = (value - cost) / cost``."""
    rows = []
    conv = table[(table["metric"] == "conversion") & (table["segment"] == "all")]
    value, source = _value_per_conversion(study, bundle)
    for r in conv.itertuples(index=False):
        extra = [r.estimate * r.n_after, r.ci_low * r.n_after, r.ci_high * r.n_after]
        money = [x * value for x in extra]
        cost = study.cost_of(r.touchpoint)
        roi = [(m - cost) / cost for m in money] if cost else [math.nan] * 3
        text = (
            f"{r.touchpoint}: {extra[0]:+,.0f} conversions in the after window "
            f"[{extra[1]:+,.0f}, {extra[2]:+,.0f}] x {value:,.2f} per conversion ({source}) = "
            f"{money[0]:+,.0f} [{money[1]:+,.0f}, {money[2]:+,.0f}]"
        )
        text += (
            f"; cost {cost:,.0f}, ROI {roi[0]:+.0%} [{roi[1]:+.0%}, {roi[2]:+.0%}]"
            if cost
            else "; no cost given (cost=...), so no ROI"
        )
        rows.append(
            {
                "touchpoint": r.touchpoint,
                "incremental_conversions": extra[0],
                "incremental_conversions_low": extra[1],
                "incremental_conversions_high": extra[2],
                "value_per_conversion": value,
                "incremental_value": money[0],
                "incremental_value_low": money[1],
                "incremental_value_high": money[2],
                "cost": cost if cost else math.nan,
                "roi": roi[0],
                "roi_low": roi[1],
                "roi_high": roi[2],
                "text": text,
            }
        )
    return pd.DataFrame(rows)


def _value_per_conversion(study: Any, bundle: Any) -> tuple[float, str]:
    if study.value_per_conversion is not None:
        return float(study.value_per_conversion), "given"
    events = bundle.events
    if "value" not in events.columns:
        return math.nan, "no value column: give value_per_conversion="
    values = events.loc[events["event_type"] == "conversion", "value"].dropna()
    if values.empty:
        return math.nan, "no conversion values: give value_per_conversion="
    return float(values.mean()), f"mean value of {len(values):,} conversions"


def forest_plot(table: pd.DataFrame, alpha: float):
    """Estimates with intervals, one panel per metric (metrics have different units)."""
    import seaborn as sns
    from matplotlib.figure import Figure

    metrics = list(dict.fromkeys(table["metric"]))
    height = max(2.2, 0.45 * table.groupby("metric").size().max() + 1.2)
    with sns.axes_style("whitegrid"):
        fig = Figure(figsize=(4.6 * len(metrics), height), layout="constrained")
        axes = fig.subplots(1, len(metrics), squeeze=False)[0]
        for ax, metric in zip(axes, metrics, strict=True):
            rows = table[table["metric"] == metric].iloc[::-1]
            y = np.arange(len(rows))
            colours = [_COLOURS.get(v, "#7f7f7f") for v in rows["verdict"]]
            for yi, (est, low, high, colour) in enumerate(
                zip(rows["estimate"], rows["ci_low"], rows["ci_high"], colours, strict=True)
            ):
                ax.errorbar(est, yi, xerr=[[est - low], [high - est]], fmt="o", color=colour,
                            capsize=3)  # fmt: skip
            ax.axvline(0, color="black", lw=0.8)
            labels = [
                f"{t} ({s})" if s != "all" else t
                for t, s in zip(rows["touchpoint"], rows["segment"], strict=True)
            ]
            ax.set_yticks(y, labels)
            ax.set_title(f"{metric}: after - before")
            ax.set_xlabel(f"{1 - alpha:.0%} interval; green better, orange worse")
    return fig


def _sentence(row: Any, alpha: float) -> str:
    moved = row.after - row.before
    direction = "rose" if moved > 0 else "fell" if moved < 0 else "did not move"
    sure = (
        f"a clear change (p = {row.p_adjusted:.2g} after correction)"
        if row.significant
        else f"not a clear change (p = {row.p_adjusted:.2g} after correction)"
    )
    interval = f"[{_fmt(row.ci_low, row, sign=True)}, {_fmt(row.ci_high, row, sign=True)}]"
    estimate = f"{_fmt(row.estimate, row, sign=True)} {interval}"
    if row.design != "before_after":  # the design's estimate can differ from the raw move
        estimate = f"the {DESIGN_NAMES.get(row.design, row.design)} puts the change at {estimate}"
    return (
        f"{row.metric} at {row.touchpoint} {direction} from {_fmt(row.before, row)} to "
        f"{_fmt(row.after, row)} (n = {row.n_before} / {row.n_after}): {estimate}, {sure}; "
        f"verdict: {row.verdict}"
    )


def _fmt(value: float, row: Any, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if row.kind == "proportion":
        return f"{value * 100:+.1f} pts" if sign else f"{value:.1%}"
    return f"{value:+.3g}" if sign else f"{value:.3g}"


def _dates(study: Any) -> str:
    dates = sorted({study.date_of(t) for t in study.touchpoints})
    return "changed " + ", ".join(f"{d:%Y-%m-%d}" for d in dates)
