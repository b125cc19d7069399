"""Survey metrics per touchpoint, stage, persona and period, with intervals, tests and trends.

:func:`survey_metrics` scores one metric (NPS, CSAT, CES, or a rating the catalog declares)
per group, each with a confidence interval: NPS with its proper variance (answers scored
+1/0/-1), CSAT as the top-2-box share (Wilson) and the mean (t), CES as the mean and the
"easy" share. :func:`compare_scores` tests the difference between two groups or two periods;
:func:`score_trend` follows a metric over time and tests its linear trend.

Example::

    >>> import pandas as pd
    >>> fb = pd.DataFrame({
    ...     "customer_id": list("abcdefgh"),
    ...     "timestamp": pd.to_datetime(["2024-01-10"] * 4 + ["2024-02-10"] * 4, utc=True),
    ...     "touchpoint": ["web", "web", "call", "call"] * 2,
    ...     "metric": "csat", "score": [5, 4, 2, 1, 5, 5, 3, 4]})
    >>> t = survey_metrics(fb, "csat", by="touchpoint").to_frame()
    >>> t[["touchpoint", "n", "estimate", "mean"]].values.tolist()
    [['call', 4, 0.25, 2.5], ['web', 4, 1.0, 4.75]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError
from ..model import JourneyCatalog
from ..results import AnalysisResult
from ..stats.means import compare_means
from ..stats.proportions import two_proportions
from ..stats.result import TestResult, _check_alpha
from ..stats.scores import nps_difference
from .groups import as_list, group_keys, with_groups
from .scales import ROW, check_scores, headline_of, metric_scale, score_answers


class SurveyMetrics(AnalysisResult):
    """One metric per group: n, ``estimate`` (the metric's headline) with CI, the mean with
    CI, and the top / bottom shares. ``info["headline"]`` says what the estimate is."""

    title = "Survey metric"

    def plot(self, **kwargs: Any):
        """Estimates with their intervals: a line over periods (one per group) when the
        table has a period column, else horizontal points with error bars."""
        from .survey_plots import plot_metrics

        return plot_metrics(self, **kwargs)


def survey_metrics(
    feedback: pd.DataFrame,
    metric: str = "csat",
    *,
    by: str | Sequence[str] | None = None,
    period: str | None = None,
    catalog: JourneyCatalog | None = None,
    customers: pd.DataFrame | None = None,
    alpha: float = 0.05,
    min_answers: int = 2,
) -> SurveyMetrics:
    """Score ``metric`` per group of ``by`` (and ``period``), each with its interval.

    :param by: feedback columns, ``"stage"``/``"channel"`` (from the touchpoint via
        ``catalog``) or customers columns (``"persona"``, joined on customer_id).
    :param period: "D", "W", "M", "Q" or "Y": adds a ``period`` column.
    :param min_answers: groups with fewer answers keep their row with NaN estimates and
        ``too_few=True`` (counted in a note), never dropped.
    :returns: :class:`SurveyMetrics`: one row per group (sorted) with ``metric``, ``n`` and
        the columns of :data:`cjm_core.voc.scales.ROW`.
    """
    alpha = _check_alpha(alpha)
    scale = metric_scale(metric, catalog)
    rows = check_scores(feedback, scale)
    keys = as_list(by)
    rows = with_groups(rows, keys, period=period, catalog=catalog, customers=customers)
    columns = keys + (["period"] if period is not None else [])
    out = []
    for key in group_keys(rows, columns):
        mask = np.ones(len(rows), dtype=bool)
        for column, value in zip(columns, key, strict=True):
            mask &= (rows[column] == value).to_numpy()
        scores = rows["score"].to_numpy()[mask]
        row = score_answers(scores, scale, alpha)
        if row["n"] < min_answers:
            row = {**dict.fromkeys(ROW, math.nan), "n": row["n"]}
        out.append({**dict(zip(columns, key, strict=True)), "metric": scale.id, **row})
    table = pd.DataFrame(out, columns=[*columns, "metric", *ROW])
    table["n"] = table["n"].astype("int64")
    table["too_few"] = table["n"] < min_answers
    notes = [f"estimate: {headline_of(scale.id)}; {1 - alpha:.0%} intervals"]
    if table["too_few"].any():
        notes.append(
            f"{int(table['too_few'].sum())} group(s) with fewer than {min_answers} answers "
            f"({int(table.loc[table['too_few'], 'n'].sum())} answers) are shown without estimates"
        )
    return SurveyMetrics(
        table, notes, metric=scale.id, by=", ".join(columns) or "all", answers=len(rows),
        headline=headline_of(scale.id), alpha=alpha,
    )  # fmt: skip


def compare_scores(
    feedback: pd.DataFrame,
    metric: str = "csat",
    *,
    by: str | None = None,
    a: Any = None,
    b: Any = None,
    split_at: str | pd.Timestamp | None = None,
    on: str = "headline",
    catalog: JourneyCatalog | None = None,
    customers: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> TestResult:
    """Test ``metric`` between two groups (``by`` column values ``a`` and ``b``) or two
    periods (answers before ``split_at`` are group a, from it on group b).

    The test follows the metric: NPS differences with the variance of a difference of two
    NPS (:func:`~cjm_core.stats.scores.nps_difference`); CSAT top-2-box shares with a
    two-proportion z-test (``on="mean"``: Welch's t on the mean answer instead); CES and
    ratings with Welch's t on the mean. The estimate is b minus a.

    Example::

        >>> import pandas as pd
        >>> fb = pd.DataFrame({"customer_id": range(8), "metric": "ces",
        ...     "score": [2, 3, 3, 4, 6, 6, 7, 5], "branch": list("xxxxyyyy")})
        >>> r = compare_scores(fb, "ces", by="branch", a="x", b="y")
        >>> r.estimate
        3.0
    """
    alpha = _check_alpha(alpha)
    scale = metric_scale(metric, catalog)
    rows = check_scores(feedback, scale)
    if (by is None) == (split_at is None):
        raise CjmError("Give either by= with a= and b= (two groups) or split_at= (two periods).")
    if split_at is not None:
        if "timestamp" not in rows.columns:
            raise CjmError("split_at= needs the feedback's timestamp column.")
        when = pd.Timestamp(split_at)
        when = when.tz_localize("UTC") if when.tzinfo is None else when
        after = pd.to_datetime(rows["timestamp"], utc=True) >= when
        x, y = rows.loc[~after, "score"], rows.loc[after, "score"]
        names = (f"before {when.date()}", f"from {when.date()}")
    else:
        rows = with_groups(rows, [by], catalog=catalog, customers=customers)
        x = rows.loc[rows[by] == str(a), "score"]
        y = rows.loc[rows[by] == str(b), "score"]
        names = (str(a), str(b))
    for name, values in zip(names, (x, y), strict=True):
        if len(values) < 2:
            raise CjmError(
                f"Group {name!r} has {len(values)} {scale.id} answer(s); a comparison needs at "
                f"least 2 in each group (groups found: "
                f"{sorted(rows[by].unique()) if by else 'before/after'})."
            )
    if on not in ("headline", "mean"):
        raise CjmError(f"on must be 'headline' or 'mean'; got {on!r}.")
    if scale.id == "nps" and on == "headline":
        result = nps_difference(x.astype(int).to_numpy(), y.astype(int).to_numpy(), alpha)
    elif scale.id == "csat" and on == "headline":
        top = scale.max - 1  # the top two boxes
        result = two_proportions(
            int((x >= top).sum()), len(x), int((y >= top).sum()), len(y), alpha=alpha
        )
    else:
        result = compare_means(x.to_numpy(), y.to_numpy(), method="welch", alpha=alpha)
    return result.relabel(*names)


class ScoreTrend(AnalysisResult):
    """A metric per period with intervals, and the fitted linear trend per period."""

    title = "Survey metric trend"

    def plot(self, **kwargs: Any):
        from .survey_plots import plot_metrics

        return plot_metrics(self, trend=self.info.get("slope"), **kwargs)


def score_trend(
    feedback: pd.DataFrame,
    metric: str = "csat",
    *,
    period: str = "M",
    catalog: JourneyCatalog | None = None,
    alpha: float = 0.05,
    min_answers: int = 2,
) -> ScoreTrend:
    """``metric`` per ``period`` and a test of its linear trend.

    The trend is a weighted least-squares line through the period estimates (weights
    1 / SE², periods numbered 0, 1, ...): ``info["slope"]`` is the change per period with
    its interval and p-value. Periods with fewer than ``min_answers`` answers (or a zero SE)
    are shown but left out of the fit, with a note.

    Example::

        >>> import pandas as pd
        >>> fb = pd.DataFrame({"customer_id": range(9), "metric": "ces",
        ...     "timestamp": pd.to_datetime(["2024-01-05"] * 3 + ["2024-02-05"] * 3
        ...                                 + ["2024-03-05"] * 3, utc=True),
        ...     "score": [2, 3, 4, 3, 4, 5, 4, 5, 6]})
        >>> round(score_trend(fb, "ces").info["slope"], 6)
        1.0
    """
    table = survey_metrics(
        feedback, metric, period=period, catalog=catalog, alpha=alpha, min_answers=min_answers
    ).to_frame()
    import statsmodels.api as sm  # here: importing it costs 0.4 s

    fit = table[(~table["too_few"]) & (table["std_error"] > 0)]
    notes = []
    info: dict[str, Any] = {"metric": metric, "period": period, "headline": headline_of(metric)}
    skipped = len(table) - len(fit)
    if skipped:
        notes.append(f"{skipped} period(s) left out of the trend fit (too few answers or SE 0)")
    if len(fit) >= 3:
        x = np.arange(len(table), dtype=float)[fit.index.to_numpy()]
        model = sm.WLS(fit["estimate"].to_numpy(), sm.add_constant(x), 1 / fit["std_error"] ** 2)
        res = model.fit()
        low, high = res.conf_int(alpha)[1]
        info.update(slope=float(res.params[1]), slope_low=float(low), slope_high=float(high),
                    slope_p=float(res.pvalues[1]), periods_fitted=len(fit))  # fmt: skip
        notes.append(
            f"trend: {res.params[1]:+.4g} per period, {1 - alpha:.0%} CI [{low:.4g}, {high:.4g}], "
            f"p = {res.pvalues[1]:.3g} (WLS on {len(fit)} period estimates, weights 1/SE²)"
        )
    else:
        notes.append(f"no trend test: {len(fit)} period(s) with estimates, 3 needed")
    return ScoreTrend(table, notes, **info)
