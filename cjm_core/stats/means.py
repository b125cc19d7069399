"""Tests of means: two samples."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .result import TestResult, _as_sample, _check_alpha, mean_ci


def welch_t_test(
    a: Sequence[float] | np.ndarray | pd.Series,
    b: Sequence[float] | np.ndarray | pd.Series,
    alpha: float = 0.05,
) -> TestResult:
    """Welch's two-sample t-test of ``mean(b) - mean(a)`` (unequal variances).

    Standard error ``sqrt(s_a**2 / n_a + s_b**2 / n_b)``, Satterthwaite degrees of freedom,
    two-sided p-value and t interval (statsmodels ``CompareMeans`` with
    ``usevar="unequal"``). NaN or infinite values raise an error saying how many: nothing
    is dropped silently. Each group needs at least 2 observations.

    Example::

        >>> r = welch_t_test([1, 2, 3, 4], [3, 4, 5, 6])
        >>> r.estimate, round(r.df, 1)
        (2.0, 6.0)
    """
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    alpha = _check_alpha(alpha)
    xa, xb = _as_sample(a, "a"), _as_sample(b, "b")
    notes: list[str] = []
    compare = CompareMeans(DescrStatsW(xb), DescrStatsW(xa))
    se = float(compare.std_meandiff_separatevar)
    diff = float(xb.mean() - xa.mean())
    if se == 0:
        t, p, dof = math.nan, math.nan, float(xa.size + xb.size - 2)
        low = high = diff
        notes.append("both samples have zero variance: the t-test is undefined")
    else:
        t, p, dof = compare.ttest_ind(usevar="unequal")
        low, high = compare.tconfint_diff(alpha=alpha, usevar="unequal")

    return TestResult(
        estimate=diff,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p),
        statistic=float(t),
        std_error=se,
        method="Welch two-sample t-test",
        n={"a": int(xa.size), "b": int(xb.size)},
        alpha=alpha,
        estimates={"a": float(xa.mean()), "b": float(xb.mean())},
        group_ci={"a": mean_ci(xa, alpha), "b": mean_ci(xb, alpha)},
        df=float(dof),
        statistic_name="t",
        notes=tuple(notes),
    )
