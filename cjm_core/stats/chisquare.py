"""Pearson's chi-squared test of a contingency table or of given probabilities (R's chisq.test).

The effect size is Cramér's V for a table (Cohen's w for goodness of fit), with an interval
from the noncentral chi-squared distribution: the noncentrality ``lambda`` is found where the
observed statistic sits at the ``1 - alpha/2`` and ``alpha/2`` quantiles, and
``V = sqrt(lambda / (N (k - 1)))`` (``k`` the smaller dimension; for w, ``sqrt(lambda / N)``),
the convention of R's effectsize package. The effect size uses the statistic without Yates'
correction; the test uses it with the correction for 2x2 tables, as R does.

Example (R: ``chisq.test(as.table(rbind(c(762, 327, 468), c(484, 239, 477))))`` gives
X-squared = 30.07, df = 2, p-value = 2.954e-07)::

    >>> r = chi_square([[762, 327, 468], [484, 239, 477]])
    >>> round(r.statistic, 2), r.df, f"{r.p_value:.3e}"
    (30.07, 2.0, '2.954e-07')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as sps

from ..errors import StudyError
from .result import TestResult, _check_alpha, _fmt


@dataclass(frozen=True)
class ChiSquareResult(TestResult):
    """A chi-squared test: ``statistic`` (X-squared), ``df``, ``p_value``; ``estimate`` is
    Cramér's V (a table) or Cohen's w (goodness of fit) with its interval; ``observed``,
    ``expected``, ``residuals`` (Pearson) and ``stdres`` (standardised) as DataFrames."""

    observed: pd.DataFrame | None = None
    expected: pd.DataFrame | None = None
    residuals: pd.DataFrame | None = None
    stdres: pd.DataFrame | None = None
    effect_name: str = "Cramér's V"

    def summary(self) -> str:
        lines = [
            self.method,
            f"  N = {self.n['total']}",
            f"  X-squared = {self.statistic:.4g}, df = {self.df:g}, p-value = {self.p_value:.4g}"
            f" ({'significant' if self.significant else 'not significant'} at "
            f"alpha = {self.alpha:g})",
            f"  {self.effect_name} = {self.estimate:.4g}, {self.confidence:.0%} CI "
            f"[{self.ci_low:.4g}, {self.ci_high:.4g}]",
        ]
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        out = super().to_frame()
        return out.assign(effect_size=self.effect_name)

    def __repr__(self) -> str:
        return (
            f"ChiSquareResult(X-squared={_fmt(self.statistic)}, df={_fmt(self.df)}, "
            f"p={_fmt(self.p_value)}, {self.effect_name}={_fmt(self.estimate)})"
        )


def chi_square(
    table: Any,
    *,
    probabilities: Any = None,
    correct: bool = True,
    alpha: float = 0.05,
) -> ChiSquareResult:
    """Pearson's chi-squared test, as R's ``chisq.test``.

    :param table: counts. Two or more rows and columns (a list of lists, an array or a
        DataFrame such as ``pd.crosstab(...)``): the test of independence of rows and
        columns. One row or column: the goodness-of-fit test against ``probabilities``
        (all equal when None).
    :param probabilities: expected shares of the cells (goodness of fit); must sum to 1.
    :param correct: Yates' continuity correction for 2x2 tables (R's default): half is
        taken off every ``|observed - expected|``, but never more than the smallest of them.
    :returns: :class:`ChiSquareResult`; a note warns when an expected count is below 5.

    Examples (R's ``?chisq.test``)::

        >>> round(chi_square([[12, 7], [5, 7]]).p_value, 4)  # Yates: 0.4233 in R
        0.4233
        >>> r = chi_square([20, 15, 25])  # X-squared = 2.5, df = 2, p-value = 0.2865
        >>> r.statistic, round(r.p_value, 4)
        (2.5, 0.2865)
    """
    alpha = _check_alpha(alpha)
    observed = _counts(table)
    values = observed.to_numpy(dtype=float)
    goodness = min(values.shape) == 1
    total = float(values.sum())
    if goodness:
        flat = values.ravel()
        p = _probabilities(probabilities, flat.size)
        expected = total * p
        x2 = float(((flat - expected) ** 2 / expected).sum())
        statistic, df = x2, flat.size - 1
        expected_frame = pd.DataFrame(
            expected.reshape(values.shape), observed.index, observed.columns
        )
        stdres = (flat - expected) / np.sqrt(expected * (1 - p))
        method = "Chi-squared test for given probabilities"
        effect, scale, name = math.sqrt(x2 / total), total, "Cohen's w"
    else:
        if probabilities is not None:
            raise StudyError("probabilities= is for one row or column of counts, not a table.")
        rows, cols = values.sum(axis=1), values.sum(axis=0)
        if (rows == 0).any() or (cols == 0).any():
            raise StudyError(
                "Every row and column of the table needs at least one count; empty "
                f"rows {list(observed.index[rows == 0])}, columns "
                f"{list(observed.columns[cols == 0])}: drop them."
            )
        expected = np.outer(rows, cols) / total
        x2 = float(((values - expected) ** 2 / expected).sum())
        yates = 0.0
        if correct and values.shape == (2, 2):
            yates = min(0.5, float(np.abs(values - expected).min()))
        statistic = float(((np.abs(values - expected) - yates) ** 2 / expected).sum())
        df = (values.shape[0] - 1) * (values.shape[1] - 1)
        expected_frame = pd.DataFrame(expected, observed.index, observed.columns)
        v = np.outer(1 - rows / total, 1 - cols / total)
        stdres = (values - expected) / np.sqrt(expected * v)
        method = "Pearson's Chi-squared test"
        if yates:
            method += " with Yates' continuity correction"
        k = min(values.shape) - 1
        effect, scale, name = math.sqrt(x2 / (total * k)), total * k, "Cramér's V"
    low, high = _noncentral_interval(x2, df, alpha)
    notes = []
    if high < x2:  # the statistic is below the central alpha/2 quantile: nothing fits
        high = x2
        notes.append("the statistic is unusually small: the effect size's upper bound is itself")
    if (expected < 5).any():
        notes.append("an expected count is below 5: the chi-squared approximation may be poor")
    residuals = (values - expected_frame.to_numpy()) / np.sqrt(expected_frame.to_numpy())
    return ChiSquareResult(
        estimate=effect,
        ci_low=math.sqrt(low / scale),
        ci_high=math.sqrt(high / scale),
        p_value=float(sps.chi2.sf(statistic, df)),
        statistic=statistic,
        std_error=math.nan,
        method=method,
        n={"total": int(round(total))},
        alpha=alpha,
        df=float(df),
        statistic_name="X-squared",
        notes=tuple(notes),
        observed=observed,
        expected=expected_frame,
        residuals=pd.DataFrame(residuals, observed.index, observed.columns),
        stdres=pd.DataFrame(np.reshape(stdres, values.shape), observed.index, observed.columns),
        effect_name=name,
    )


def _counts(table: Any) -> pd.DataFrame:
    frame = table if isinstance(table, pd.DataFrame) else None
    if frame is None:
        arr = np.asarray(table if not isinstance(table, pd.Series) else table.to_numpy())
        if arr.ndim == 1:
            index = table.index if isinstance(table, pd.Series) else None
            frame = pd.DataFrame({"count": arr}, index=index)
        elif arr.ndim == 2:
            frame = pd.DataFrame(arr)
        else:
            raise StudyError(f"A table of counts has 1 or 2 dimensions; got {arr.ndim}.")
    try:
        values = frame.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise StudyError("The table must hold counts (numbers) only.") from None
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        where = [(frame.index[i], frame.columns[j]) for i, j in zip(*np.nonzero(bad), strict=True)]
        raise StudyError(
            f"The table must hold whole non-negative counts; {int(bad.sum())} cell(s) do not, "
            f"e.g. (row, column) {where[:3]}: fix or remove them."
        )
    if values.size < 2 or values.sum() == 0:
        raise StudyError("The table needs at least two cells and a positive total count.")
    return frame


def _probabilities(probabilities: Any, size: int) -> np.ndarray:
    if probabilities is None:
        return np.full(size, 1 / size)
    p = np.asarray(probabilities, dtype=float).ravel()
    if p.size != size:
        raise StudyError(f"probabilities has {p.size} values for {size} cells; give one per cell.")
    if (p <= 0).any() or not math.isclose(p.sum(), 1.0, abs_tol=1e-8):
        raise StudyError(
            f"probabilities must be positive and sum to 1; they sum to {p.sum():.6g} "
            "(divide them by their sum if they are weights)."
        )
    return p


def _noncentral_interval(x2: float, df: int, alpha: float) -> tuple[float, float]:
    """Noncentrality bounds whose distributions put ``x2`` at their ``1 - alpha/2`` and
    ``alpha/2`` quantiles (0 when even the central distribution is beyond)."""

    def bound(q: float) -> float:
        def gap(lam: float) -> float:
            return sps.ncx2.cdf(x2, df, lam) - q if lam > 0 else sps.chi2.cdf(x2, df) - q

        if gap(0.0) <= 0:
            return 0.0
        hi = max(1.0, x2)
        while gap(hi) > 0:
            hi *= 2
        return float(optimize.brentq(gap, 0.0, hi, xtol=1e-10))

    return bound(1 - alpha / 2), bound(alpha / 2)
