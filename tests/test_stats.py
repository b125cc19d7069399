"""Statistics: known answers from R, input checks, and behaviour by simulation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cjm_core.errors import CjmError, StudyError
from cjm_core.stats import TestResult, mean_ci, proportion_ci, two_proportions, welch_t_test

# R's `sleep` data set: extra hours of sleep under two drugs.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


# -- known answers -------------------------------------------------------------------------


def test_welch_matches_r_t_test_on_sleep():
    # R: t.test(extra ~ group, data = sleep)
    #   t = -1.8608, df = 17.776, p-value = 0.07939
    #   95 percent CI: -3.3654832 0.2054832; means 0.75 2.33   (group1 - group2)
    r = welch_t_test(SLEEP_1, SLEEP_2)
    # our convention is b - a = group2 - group1: same numbers, opposite sign
    assert r.estimate == pytest.approx(2.33 - 0.75)
    assert r.statistic == pytest.approx(1.8608, abs=1e-4)
    assert r.df == pytest.approx(17.776, abs=1e-3)
    assert r.p_value == pytest.approx(0.07939, abs=1e-5)
    assert r.ci_low == pytest.approx(-0.2054832, abs=1e-7)
    assert r.ci_high == pytest.approx(3.3654832, abs=1e-7)
    assert r.estimates == {"a": pytest.approx(0.75), "b": pytest.approx(2.33)}
    assert r.n == {"a": 10, "b": 10}
    assert not r.significant
    # the standard error is the Welch one
    se = math.sqrt(np.var(SLEEP_1, ddof=1) / 10 + np.var(SLEEP_2, ddof=1) / 10)
    assert r.std_error == pytest.approx(se)


def test_welch_ci_level_follows_alpha():
    r90 = welch_t_test(SLEEP_1, SLEEP_2, alpha=0.10)
    r95 = welch_t_test(SLEEP_1, SLEEP_2)
    assert r90.ci_high - r90.ci_low < r95.ci_high - r95.ci_low
    assert r90.significant  # p = 0.079 < 0.10
    assert r90.p_value == pytest.approx(r95.p_value)


def test_two_proportions_matches_prop_test():
    # R: prop.test(c(15, 25), c(50, 50), correct = FALSE) -> X-squared = 4.1667, p = 0.04123
    r = two_proportions(15, 50, 25, 50)
    assert r.estimate == pytest.approx(0.2)
    assert r.statistic**2 == pytest.approx(4.1667, abs=1e-4)
    assert r.statistic > 0  # after (b) is higher
    assert r.p_value == pytest.approx(0.04123, abs=1e-5)
    # Wald CI by hand: diff +- z * sqrt(pa(1-pa)/na + pb(1-pb)/nb)
    se = math.sqrt(0.3 * 0.7 / 50 + 0.5 * 0.5 / 50)
    z = 1.959963984540054
    assert r.std_error == pytest.approx(se)
    assert r.ci_low == pytest.approx(0.2 - z * se)
    assert r.ci_high == pytest.approx(0.2 + z * se)
    assert r.estimates == {"a": 0.3, "b": 0.5}
    assert r.significant


def test_two_proportions_relative_lift_delta_method():
    r = two_proportions(15, 50, 25, 50)
    assert r.relative_lift == pytest.approx(0.5 / 0.3 - 1)
    se_log = math.sqrt(0.7 / (50 * 0.3) + 0.5 / (50 * 0.5))
    z = 1.959963984540054
    low, high = r.relative_lift_ci
    assert low == pytest.approx(math.exp(math.log(0.5 / 0.3) - z * se_log) - 1)
    assert high == pytest.approx(math.exp(math.log(0.5 / 0.3) + z * se_log) - 1)


def test_two_proportions_sign_follows_b_minus_a():
    down = two_proportions(25, 50, 15, 50)
    assert down.estimate == pytest.approx(-0.2)
    assert down.statistic < 0
    assert down.ci_high < 0


def test_one_group_intervals():
    # Wilson interval for 15/50 (R: prop.test(15, 50, correct = FALSE)$conf.int)
    low, high = proportion_ci(15, 50)
    assert (low, high) == (pytest.approx(0.1910, abs=1e-4), pytest.approx(0.4375, abs=1e-4))
    # t interval of 1..5: 3 +- qt(.975, 4) * sd / sqrt(5)
    low, high = mean_ci([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert (low, high) == (pytest.approx(3 - half), pytest.approx(3 + half))


def test_degenerate_proportions_have_undefined_test_not_a_crash():
    r = two_proportions(0, 20, 0, 30)
    assert r.estimate == 0
    assert math.isnan(r.p_value) and math.isnan(r.statistic)
    assert not r.significant
    assert "undefined" in r.notes[0]


# -- rendering -----------------------------------------------------------------------------


def test_result_renders_as_text_html_and_frame():
    r = welch_t_test(SLEEP_1, SLEEP_2).relabel("before", "after")
    assert isinstance(r, TestResult)
    text = r.summary()
    assert "Welch" in text and "after - before" in text and "0.07939" in text
    assert "before: n = 10" in text
    html = r._repr_html_()
    assert html.startswith("<div>") and "p_value" in html and "0.07939" in html
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 1
    assert frame.loc[0, "n_before"] == 10 and frame.loc[0, "estimate_after"] == pytest.approx(2.33)
    assert frame.loc[0, "df"] == pytest.approx(17.776, abs=1e-3)
    assert "n=(before=10, after=10)" in repr(r)


def test_result_is_frozen():
    r = two_proportions(1, 2, 1, 2)
    with pytest.raises(AttributeError):
        r.estimate = 1.0  # type: ignore[misc]


# -- input checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((5, 0, 1, 10), "n_a must be at least 1"),
        ((11, 10, 1, 10), "successes_a must lie between 0 and n_a = 10"),
        ((1, 10, -1, 10), "successes_b must lie between 0 and n_b = 10"),
        ((1.5, 10, 1, 10), "successes_a must be a whole number"),
        (("3", 10, 1, 10), "successes_a must be a whole number"),
    ],
)
def test_two_proportions_rejects_bad_counts(args, message):
    with pytest.raises(StudyError, match=message):
        two_proportions(*args)


def test_counts_may_be_numpy_or_whole_floats():
    r = two_proportions(np.int64(15), 50.0, 25, np.int32(50))
    assert r.n == {"a": 50, "b": 50}


def test_bad_alpha_is_rejected():
    with pytest.raises(StudyError, match="alpha"):
        two_proportions(1, 10, 2, 10, alpha=5)


def test_welch_refuses_nan_and_says_how_many():
    with pytest.raises(CjmError, match=r"Sample b holds 2 missing value\(s\) \(NaN\) out of 5"):
        welch_t_test([1, 2, 3], [1, np.nan, 3, np.nan, 5])


def test_welch_needs_two_observations_per_group():
    with pytest.raises(StudyError, match="Sample a needs at least 2 observations"):
        welch_t_test([1], [1, 2, 3])


# -- simulation ----------------------------------------------------------------------------

REPS = 2000
ALPHA = 0.05
# three binomial standard errors of a rate near 0.05 (or 0.95) over REPS replicates
TOL = 3 * math.sqrt(ALPHA * (1 - ALPHA) / REPS)


def test_two_proportions_false_positive_rate_and_coverage_by_simulation():
    rng = np.random.default_rng(20240401)
    p, n_a, n_b = 0.3, 300, 400
    sa, sb = rng.binomial(n_a, p, REPS), rng.binomial(n_b, p, REPS)
    rejected = np.mean(
        [two_proportions(a, n_a, b, n_b).p_value < ALPHA for a, b in zip(sa, sb, strict=True)]
    )
    assert abs(rejected - ALPHA) < TOL

    # with a real effect the Wald CI covers the true difference at about its nominal rate
    pa, pb = 0.3, 0.38
    sa, sb = rng.binomial(n_a, pa, REPS), rng.binomial(n_b, pb, REPS)
    results = [two_proportions(a, n_a, b, n_b) for a, b in zip(sa, sb, strict=True)]
    covered = np.mean([r.ci_low <= pb - pa <= r.ci_high for r in results])
    assert abs(covered - (1 - ALPHA)) < TOL
    lift = pb / pa - 1
    lift_covered = np.mean(
        [r.relative_lift_ci[0] <= lift <= r.relative_lift_ci[1] for r in results]
    )
    assert abs(lift_covered - (1 - ALPHA)) < TOL

    # ... and the effect is found with the power the design predicts
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    predicted = NormalIndPower().power(
        proportion_effectsize(pb, pa), nobs1=n_a, alpha=ALPHA, ratio=n_b / n_a
    )
    power = np.mean([r.significant for r in results])
    assert abs(power - predicted) < 3 * math.sqrt(predicted * (1 - predicted) / REPS) + 0.02


def test_welch_false_positive_rate_and_coverage_by_simulation():
    rng = np.random.default_rng(7)
    # unequal sizes and variances: the case Welch is for
    n_a, n_b, sd_a, sd_b = 12, 40, 1.0, 3.0
    rejected = []
    for _ in range(REPS):
        a = rng.normal(3.0, sd_a, n_a)
        b = rng.normal(3.0, sd_b, n_b)
        rejected.append(welch_t_test(a, b).p_value < ALPHA)
    assert abs(np.mean(rejected) - ALPHA) < TOL

    covered = []
    for _ in range(REPS):
        a = rng.normal(3.0, sd_a, n_a)
        b = rng.normal(3.5, sd_b, n_b)
        r = welch_t_test(a, b)
        covered.append(r.ci_low <= 0.5 <= r.ci_high)
    assert abs(np.mean(covered) - (1 - ALPHA)) < TOL
