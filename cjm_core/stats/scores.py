"""Survey scores: Net Promoter Score (NPS), customer satisfaction (CSAT), customer effort (CES).

Each takes the raw answers (a list, array or Series of whole numbers on the survey's scale)
and returns a :class:`ScoreResult`: the headline ``estimate`` with its confidence interval,
plus a ``table`` of every quantity reported (shares, mean) with their own intervals.
Answers that are missing (NaN), not whole numbers or off the scale raise a
:class:`~cjm_core.errors.StudyError` that counts them and shows examples: nothing is
dropped silently.

Example::

    >>> r = nps([10, 9, 9, 8, 7, 6, 3, 10, 9, 5])
    >>> r.estimate, r.shares["promoters"], r.shares["detractors"]
    (20.0, 0.5, 0.3)
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import StudyError
from .result import TestResult, _check_alpha, _fmt, mean_ci, proportion_ci

__all__ = ["ScoreResult", "ces", "csat", "nps", "nps_difference"]


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """One survey score: ``estimate`` with CI, the answers' ``counts`` and a ``table``.

    ``table`` has one row per reported quantity (columns ``quantity, estimate, ci_low,
    ci_high, std_error``); ``shares`` maps category names to their share of answers (0-1);
    ``mean`` and ``mean_ci`` are the mean answer and its Student-t interval. ``statistic``
    and ``p_value`` test NPS = 0 for :func:`nps` and are NaN for CSAT and CES, which have no
    natural null value.
    """

    metric: str
    estimate: float
    ci_low: float
    ci_high: float
    std_error: float
    method: str
    n: int
    alpha: float
    shares: Mapping[str, float]
    mean: float
    mean_ci: tuple[float, float]
    counts: Mapping[int, int]
    table: pd.DataFrame
    statistic: float = math.nan
    p_value: float = math.nan
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """The ``table`` with ``metric``, ``n`` and ``alpha`` columns in front."""
        frame = self.table.copy()
        frame.insert(0, "metric", self.metric)
        frame.insert(1, "n", self.n)
        frame["alpha"] = self.alpha
        return frame

    def summary(self) -> str:
        """A few lines: method, n, the headline estimate with CI, then the other rows."""
        pct = f"{1 - self.alpha:.0%}"
        lines = [self.method, f"  n = {self.n}"]
        for row in self.table.itertuples(index=False):
            lines.append(
                f"  {row.quantity} = {row.estimate:.4g}, {pct} CI [{row.ci_low:.4g}, "
                f"{row.ci_high:.4g}]"
            )
        if not math.isnan(self.p_value):
            lines.append(
                f"  test of {self.metric} = 0: z = {self.statistic:.4g}, p = {self.p_value:.4g}"
            )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.table.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
            for row in self.table.itertuples(index=False)
        )
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return (
            f"<div><strong>{html.escape(self.method)}</strong> (n = {self.n})"
            f"<table><tr>{head}</tr>{body}</table>{notes}</div>"
        )

    def __repr__(self) -> str:
        return (
            f"ScoreResult({self.metric}, estimate={self.estimate:.4g}, "
            f"ci=[{self.ci_low:.4g}, {self.ci_high:.4g}], n={self.n})"
        )


# -- input checks ----------------------------------------------------------------------------


def _answers(values: Any, name: str, low: int, high: int, what: str) -> np.ndarray:
    """Whole-number answers in ``[low, high]``; everything else is counted and shown."""
    labels = values.index if isinstance(values, pd.Series) else None
    raw = np.asarray(values, dtype=object).ravel()
    if raw.size < 2:
        raise StudyError(f"{name} needs at least 2 {what} answers; got {raw.size}.")
    nums = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=float)
    is_bool = np.array([isinstance(v, bool | np.bool_) for v in raw])
    missing = pd.isna(pd.Series(raw)).to_numpy()
    not_number = (np.isnan(nums) & ~missing) | is_bool
    fractional = ~np.isnan(nums) & ~is_bool & (nums != np.round(nums))
    outside = ~np.isnan(nums) & ~is_bool & ~fractional & ((nums < low) | (nums > high))
    bad = missing | not_number | fractional | outside
    if bad.any():
        where = np.flatnonzero(bad)
        pos = (labels[where[:5]] if labels is not None else where[:5]).tolist()
        examples = ", ".join(f"{p!r}: {raw[i]!r}" for p, i in zip(pos, where[:5], strict=True))
        parts = [
            f"{int(k.sum())} {label}"
            for k, label in (
                (missing, "missing (NaN/None)"),
                (not_number, "not numbers"),
                (fractional, "not whole numbers"),
                (outside, f"outside {low}-{high}"),
            )
            if k.any()
        ]
        raise StudyError(
            f"{name}: {int(bad.sum())} of {raw.size} answers are not valid {what} answers "
            f"(whole numbers {low} to {high}): {', '.join(parts)}. Examples (position: "
            f"value) {examples}. Fix: drop unanswered surveys explicitly and report how many "
            f"(e.g. scores.dropna()), and map other scales onto {low}-{high} before scoring."
        )
    return nums.astype(int)


def _check_scale(scale: Any, name: str = "scale") -> int:
    if isinstance(scale, bool) or not isinstance(scale, int | np.integer) or scale < 2:
        raise StudyError(f"{name} must be a whole number of at least 2 points; got {scale!r}.")
    return int(scale)


# -- NPS -------------------------------------------------------------------------------------


def _nps_parts(x: np.ndarray) -> tuple[int, int, int, float, float]:
    """(n, promoters, detractors, NPS in points, its standard error in points)."""
    n, n_pro, n_det = x.size, int((x >= 9).sum()), int((x <= 6).sum())
    p_pro, p_det = n_pro / n, n_det / n
    var = p_pro + p_det - (p_pro - p_det) ** 2  # variance of one answer scored +1/0/-1
    return n, n_pro, n_det, 100 * (n_pro - n_det) / n, 100 * math.sqrt(max(var, 0.0) / n)


def nps(scores: Any, alpha: float = 0.05, *, method: str = "wald") -> ScoreResult:
    """Net Promoter Score of 0-10 answers, in points from -100 to 100, with its CI.

    Promoters answer 9-10, passives 7-8, detractors 0-6; NPS = 100 (p_promoters -
    p_detractors). Scoring each answer +1 / 0 / -1, the NPS is 100 times their mean, so its
    variance is ``var = (p_P + p_D - (p_P - p_D)**2) / n`` (times 100**2 in points; Rocks
    2016, *The American Statistician* 70(4)).

    - ``method="wald"``: ``NPS +- z * se``;
    - ``method="adjusted-wald"``: the same after adding 3 pseudo-answers (3/4 promoter,
      3/4 detractor, 3/2 passive), which keeps small or extreme samples inside -100..100
      with better coverage (Rocks 2016; Lewis & Sauro, MeasuringU 2021). The reported
      ``estimate`` stays the raw NPS.

    Interval ends are clipped to [-100, 100]. ``statistic``/``p_value``: z-test of NPS = 0
    (as many promoters as detractors). ``shares`` are proportions (0-1) with Wilson CIs.

    Example::

        >>> r = nps([10] * 50 + [8] * 30 + [3] * 20)
        >>> r.estimate, round(r.std_error, 3), [round(v, 2) for v in (r.ci_low, r.ci_high)]
        (30.0, 7.81, [14.69, 45.31])
    """
    alpha = _check_alpha(alpha)
    if method not in ("wald", "adjusted-wald"):
        raise StudyError(f"method must be 'wald' or 'adjusted-wald'; got {method!r}.")
    x = _answers(scores, "scores", 0, 10, "NPS")
    n, n_pro, n_det, est, se = _nps_parts(x)
    z = float(sps.norm.ppf(1 - alpha / 2))
    if method == "wald":
        centre, half = est, z * se
    else:
        pa, da = (n_pro + 0.75) / (n + 3), (n_det + 0.75) / (n + 3)
        centre = 100 * (pa - da)
        half = z * 100 * math.sqrt((pa + da - (pa - da) ** 2) / (n + 3))
    low, high = float(max(-100.0, centre - half)), float(min(100.0, centre + half))
    notes: list[str] = []
    if se > 0:
        stat = est / se
        p_value = float(2 * sps.norm.sf(abs(stat)))
    else:
        stat = p_value = math.nan
        notes.append("all answers fall in one category: the standard error is 0")
    counts = {"promoters": n_pro, "passives": n - n_pro - n_det, "detractors": n_det}
    rows = [("NPS (points)", est, low, high, se)]
    for cat, k in counts.items():
        p = k / n
        rows.append((f"share of {cat}", p, *proportion_ci(k, n, alpha), math.sqrt(p * (1 - p) / n)))
    return ScoreResult(
        metric="NPS",
        estimate=est,
        ci_low=low,
        ci_high=high,
        std_error=se,
        method=f"Net Promoter Score (-100..100), {method.replace('-', ' ').title()} interval",
        n=n,
        alpha=alpha,
        shares={cat: k / n for cat, k in counts.items()},
        mean=float(x.mean()),
        mean_ci=mean_ci(x, alpha),
        counts=_value_counts(x, 0, 10),
        table=_table(rows),
        statistic=float(stat),
        p_value=p_value,
        notes=tuple(notes),
    )


def nps_difference(a: Any, b: Any, alpha: float = 0.05) -> TestResult:
    """Change in NPS from group ``a`` (before) to ``b`` (after), in points: b minus a.

    z-test and Wald CI with ``se = sqrt(se_a**2 + se_b**2)``, each group's variance as in
    :func:`nps` (independent samples; unpooled, so the test and the CI agree). Group
    estimates and CIs are the groups' own NPS and Wald intervals.

    Example::

        >>> r = nps_difference([10] * 40 + [8] * 30 + [3] * 30, [10] * 55 + [8] * 25 + [3] * 20)
        >>> r.estimate, round(r.std_error, 2), round(r.p_value, 4)
        (25.0, 11.48, 0.0294)
    """
    alpha = _check_alpha(alpha)
    xa = _answers(a, "a", 0, 10, "NPS")
    xb = _answers(b, "b", 0, 10, "NPS")
    na, _, _, est_a, se_a = _nps_parts(xa)
    nb, _, _, est_b, se_b = _nps_parts(xb)
    z = float(sps.norm.ppf(1 - alpha / 2))
    diff, se = est_b - est_a, math.hypot(se_a, se_b)
    notes: list[str] = []
    if se > 0:
        stat = diff / se
        p_value = float(2 * sps.norm.sf(abs(stat)))
    else:
        stat = p_value = math.nan
        notes.append("all answers fall in one category in both groups: the z-test is undefined")
    return TestResult(
        estimate=diff,
        ci_low=diff - z * se,
        ci_high=diff + z * se,
        p_value=p_value,
        statistic=float(stat),
        std_error=se,
        method="Difference of Net Promoter Scores (points), z-test, unpooled variances",
        n={"a": na, "b": nb},
        alpha=alpha,
        estimates={"a": est_a, "b": est_b},
        group_ci={
            "a": (max(-100.0, est_a - z * se_a), min(100.0, est_a + z * se_a)),
            "b": (max(-100.0, est_b - z * se_b), min(100.0, est_b + z * se_b)),
        },
        statistic_name="z",
        notes=tuple(notes),
    )


# -- CSAT and CES ----------------------------------------------------------------------------


def _value_counts(x: np.ndarray, low: int, high: int) -> dict[int, int]:
    return {
        v: int(c)
        for v, c in zip(
            range(low, high + 1), np.bincount(x - low, minlength=high - low + 1), strict=True
        )
    }


def _table(rows: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["quantity", "estimate", "ci_low", "ci_high", "std_error"])


def _share_and_mean(
    x: np.ndarray, hit: np.ndarray, label: str, alpha: float, share_first: bool
) -> tuple[list, tuple, tuple]:
    n, k = x.size, int(hit.sum())
    p = k / n
    share = (label, p, *proportion_ci(k, n, alpha), math.sqrt(p * (1 - p) / n))
    m_ci = mean_ci(x, alpha)
    mean = ("mean score", float(x.mean()), *m_ci, float(x.std(ddof=1) / math.sqrt(n)))
    return ([share, mean] if share_first else [mean, share]), share, mean


def csat(scores: Any, scale: int = 5, top_box: int = 2, alpha: float = 0.05) -> ScoreResult:
    """Customer satisfaction: the top-box share (headline) and the mean answer.

    Answers are whole numbers 1..``scale``; the top ``top_box`` points count as satisfied
    (4-5 on the default 5-point scale). ``estimate`` is the satisfied share as a proportion
    (0-1) with a Wilson interval; ``mean``/``mean_ci`` give the mean answer with a Student-t
    interval (``std_error = s / sqrt(n)``).

    Example::

        >>> r = csat([5, 4, 4, 3, 2, 5, 4, 1, 5, 4])
        >>> r.estimate, r.mean, [round(v, 3) for v in (r.ci_low, r.ci_high)]
        (0.7, 3.7, [0.397, 0.892])
    """
    alpha = _check_alpha(alpha)
    scale = _check_scale(scale)
    if isinstance(top_box, bool) or not isinstance(top_box, int) or not 1 <= top_box < scale:
        raise StudyError(f"top_box must be a whole number from 1 to {scale - 1}; got {top_box!r}.")
    x = _answers(scores, "scores", 1, scale, f"{scale}-point CSAT")
    cut = scale - top_box + 1
    rows, share, mean = _share_and_mean(x, x >= cut, f"top-{top_box}-box share", alpha, True)
    return ScoreResult(
        metric="CSAT",
        estimate=share[1],
        ci_low=share[2],
        ci_high=share[3],
        std_error=share[4],
        method=f"CSAT: share answering {cut}-{scale} of 1-{scale} (Wilson CI); mean (t CI)",
        n=int(x.size),
        alpha=alpha,
        shares={"satisfied": share[1]},
        mean=mean[1],
        mean_ci=(mean[2], mean[3]),
        counts=_value_counts(x, 1, scale),
        table=_table(rows),
    )


def ces(
    scores: Any, scale: int = 7, alpha: float = 0.05, *, easy_min: int | None = None
) -> ScoreResult:
    """Customer effort score: the mean answer (headline) and the share of "easy" answers.

    Answers are whole numbers 1..``scale`` where **higher means easier** (CES 2.0: "The
    company made it easy for me to handle my issue", 1 = strongly disagree, 7 = strongly
    agree); reverse a lower-is-easier scale first (``scale + 1 - x``). ``estimate`` is the
    mean with a Student-t interval; the "easy" share counts answers from ``easy_min`` up
    (default: above the midpoint, 5-7 on a 7-point scale) with a Wilson interval.

    Example::

        >>> r = ces([7, 6, 6, 5, 4, 2, 7, 5, 6, 3])
        >>> r.estimate, r.shares["easy"]
        (5.1, 0.7)
    """
    alpha = _check_alpha(alpha)
    scale = _check_scale(scale)
    if easy_min is None:
        easy_min = math.floor((scale + 1) / 2) + 1
    if isinstance(easy_min, bool) or not isinstance(easy_min, int) or not 1 < easy_min <= scale:
        raise StudyError(f"easy_min must be a whole number from 2 to {scale}; got {easy_min!r}.")
    x = _answers(scores, "scores", 1, scale, f"{scale}-point CES")
    rows, share, mean = _share_and_mean(
        x, x >= easy_min, f"share {easy_min}-{scale} (easy)", alpha, False
    )
    notes = ("all answers are equal: the mean's interval has zero width",) if mean[4] == 0 else ()
    return ScoreResult(
        metric="CES",
        estimate=mean[1],
        ci_low=mean[2],
        ci_high=mean[3],
        std_error=mean[4],
        method=f"CES: mean of 1-{scale} answers, higher = easier (t CI); easy share (Wilson CI)",
        n=int(x.size),
        alpha=alpha,
        shares={"easy": share[1]},
        mean=mean[1],
        mean_ci=(mean[2], mean[3]),
        counts=_value_counts(x, 1, scale),
        table=_table(rows),
        notes=notes,
    )
