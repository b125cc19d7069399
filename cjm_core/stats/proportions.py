"""Tests of two proportions: difference, relative lift and the z-test (or R's prop.test)."""

from __future__ import annotations

import math

from scipy import stats as sps

from .result import TestResult, _check_alpha, _check_counts, proportion_ci


def two_proportions(
    successes_a: int,
    n_a: int,
    successes_b: int,
    n_b: int,
    alpha: float = 0.05,
    *,
    correct: bool = False,
) -> TestResult:
    """Compare two proportions: ``p_b - p_a`` with a Wald CI and a pooled z-test.

    - estimate: ``p_b - p_a`` (b is the comparison group, e.g. *after*; a the reference);
    - CI: Wald interval of the difference with the unpooled standard error
      ``sqrt(p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b)``;
    - p-value: two-sided z-test with the pooled standard error (``z**2`` is R's
      ``prop.test(correct = FALSE)`` X-squared);
    - ``correct=True``: R's default ``prop.test``: Yates' continuity correction of the
      statistic and the interval, the correction capped at ``|p_b - p_a| / (1/n_a + 1/n_b)``
      as R caps it; the statistic is then ``sign(p_b - p_a) * sqrt(X-squared)``;
    - relative lift ``p_b / p_a - 1`` with a delta-method CI computed on the log ratio
      (NaN when ``p_a`` or ``p_b`` is 0).

    When both groups are all 0 or all 1 the pooled standard error is 0 and the z-test is
    undefined: statistic and p-value are NaN (noted in ``notes``).

    Example (R: ``prop.test(x = c(490, 400), n = c(500, 500))`` gives X-squared = 80.909
    and the interval 0.1408536 to 0.2191464)::

        >>> r = two_proportions(400, 500, 490, 500, correct=True)
        >>> round(r.statistic ** 2, 3), [round(x, 7) for x in (r.ci_low, r.ci_high)]
        (80.909, [0.1408536, 0.2191464])
        >>> r = two_proportions(15, 50, 25, 50)
        >>> round(r.statistic ** 2, 4), [round(x, 4) for x in (r.ci_low, r.ci_high)]
        (4.1667, [0.012, 0.388])
    """
    alpha = _check_alpha(alpha)
    sa, na = _check_counts(successes_a, n_a, "a")
    sb, nb = _check_counts(successes_b, n_b, "b")
    pa, pb = sa / na, sb / nb
    delta = pb - pa
    inv_n = 1 / na + 1 / nb
    zq = sps.norm.ppf(1 - alpha / 2)
    notes: list[str] = []

    yates = min(0.5, abs(delta) / inv_n) if correct else 0.0
    se_unpooled = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    width = zq * se_unpooled + yates * inv_n
    low, high = max(delta - width, -1.0), min(delta + width, 1.0)

    pooled = (sa + sb) / (na + nb)
    if pooled in (0.0, 1.0):
        z, p = math.nan, math.nan
        notes.append("all observations are equal in both groups: the z-test is undefined")
    else:
        # Pearson's X-squared of the 2x2 table (with Yates' correction when asked)
        x2 = 0.0
        for s, n in ((sa, na), (sb, nb)):
            for observed, expected in ((s, n * pooled), (n - s, n * (1 - pooled))):
                x2 += (abs(observed - expected) - yates) ** 2 / expected
        z = math.copysign(math.sqrt(x2), delta)
        p = float(sps.chi2.sf(x2, 1))
        if min(na, nb) * min(pooled, 1 - pooled) < 5:
            notes.append("an expected count is below 5: the normal approximation may be poor")

    lift, lift_ci = math.nan, (math.nan, math.nan)
    if pa > 0:
        lift = pb / pa - 1
        if pb > 0:
            se_log = math.sqrt((1 - pa) / (na * pa) + (1 - pb) / (nb * pb))
            log_ratio = math.log(pb / pa)
            lift_ci = (math.exp(log_ratio - zq * se_log) - 1, math.exp(log_ratio + zq * se_log) - 1)

    method = "Two-proportion z-test (pooled), Wald CI of the difference"
    if correct:
        method = "Two-proportion test with continuity correction (R prop.test)"
    return TestResult(
        estimate=delta,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p),
        statistic=float(z),
        std_error=se_unpooled,
        method=method,
        n={"a": na, "b": nb},
        alpha=alpha,
        estimates={"a": pa, "b": pb},
        group_ci={"a": proportion_ci(sa, na, alpha), "b": proportion_ci(sb, nb, alpha)},
        relative_lift=lift,
        relative_lift_ci=lift_ci,
        statistic_name="z",
        notes=tuple(notes),
    )
