"""Tests of proportions: two groups (z-test, difference and relative lift)."""

from __future__ import annotations

import math

from scipy import stats as sps

from .result import TestResult, _check_alpha, _check_counts, proportion_ci


def two_proportions(
    successes_a: int, n_a: int, successes_b: int, n_b: int, alpha: float = 0.05
) -> TestResult:
    """Compare two proportions: ``p_b - p_a`` with a Wald CI and a pooled z-test.

    - estimate: ``p_b - p_a`` (b is the comparison group, e.g. *after*; a the reference);
    - CI: Wald interval of the difference with the unpooled standard error
      ``sqrt(p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b)``;
    - p-value: two-sided z-test with the pooled standard error (statsmodels
      ``proportions_ztest``; ``z**2`` equals R's ``prop.test(correct = FALSE)`` X-squared);
    - relative lift ``p_b / p_a - 1`` with a delta-method CI computed on the log ratio
      (NaN when ``p_a`` or ``p_b`` is 0).

    When both groups are all 0 or all 1 the pooled standard error is 0 and the z-test is
    undefined: statistic and p-value are NaN (noted in ``notes``).

    Example::

        >>> r = two_proportions(15, 50, 25, 50)
        >>> round(r.statistic ** 2, 4), [round(x, 4) for x in (r.ci_low, r.ci_high)]
        (4.1667, [0.012, 0.388])
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    alpha = _check_alpha(alpha)
    sa, na = _check_counts(successes_a, n_a, "a")
    sb, nb = _check_counts(successes_b, n_b, "b")
    pa, pb = sa / na, sb / nb
    notes: list[str] = []

    se_unpooled = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    low, high = confint_proportions_2indep(
        sb, nb, sa, na, method="wald", compare="diff", alpha=alpha
    )
    pooled = (sa + sb) / (na + nb)
    if pooled in (0.0, 1.0):
        z, p = math.nan, math.nan
        notes.append("all observations are equal in both groups: the z-test is undefined")
    else:
        z, p = proportions_ztest([sb, sa], [nb, na], alternative="two-sided")

    lift, lift_ci = math.nan, (math.nan, math.nan)
    if pa > 0:
        lift = pb / pa - 1
        if pb > 0:
            se_log = math.sqrt((1 - pa) / (na * pa) + (1 - pb) / (nb * pb))
            zq = sps.norm.ppf(1 - alpha / 2)
            log_ratio = math.log(pb / pa)
            lift_ci = (math.exp(log_ratio - zq * se_log) - 1, math.exp(log_ratio + zq * se_log) - 1)

    return TestResult(
        estimate=pb - pa,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p),
        statistic=float(z),
        std_error=se_unpooled,
        method="Two-proportion z-test (pooled), Wald CI of the difference",
        n={"a": na, "b": nb},
        alpha=alpha,
        estimates={"a": pa, "b": pb},
        group_ci={"a": proportion_ci(sa, na, alpha), "b": proportion_ci(sb, nb, alpha)},
        relative_lift=lift,
        relative_lift_ci=lift_ci,
        statistic_name="z",
        notes=tuple(notes),
    )
