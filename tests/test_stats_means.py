"""compare_means: figures printed by R, input checks, edge cases and calibration.

Sign convention: every estimate is b minus a. R's ``t.test(x, y)`` and ``wilcox.test(x, y)``
report x minus y, so R's call on (x, y) is our ``compare_means(a=y, b=x)``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from cjm_core.errors import StudyError
from cjm_core.stats import TestResult, welch_t_test
from cjm_core.stats.calibrate_means import calibrate
from cjm_core.stats.means import METHODS, _qwilcox, _rank_sum, _wilcox_pmf, compare_means

# R's `sleep` data: extra hours of sleep, group 1 and group 2 (the same ten patients).
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]

# ?wilcox.test two-sample example (Hollander & Wolfe 1973, p. 69f.): permeability constants
# at term (x) and at 12-26 weeks (y).
HW_X = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
HW_Y = [1.15, 0.88, 0.90, 0.74, 1.21]

# R's `airquality` Ozone for Month 5 (May) and Month 8 (August), NAs removed (26 values each),
# copied from the airquality.csv export in github.com/Jangrae/csv; it reproduces R's
# W = 127.5 below, and the means 23.61538 / 59.96154 of R's airquality.
OZONE_MAY = [41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32,
             23, 45, 115, 37]  # fmt: skip
OZONE_AUG = [39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45,
             168, 73, 76, 118, 84, 85]  # fmt: skip

# R's `mtcars` mpg by transmission (am = 0 automatic, am = 1 manual), in data-set order.
MPG_AUTO = [21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4, 10.4, 14.7,
            21.5, 15.5, 15.2, 13.3, 19.2]  # fmt: skip
MPG_MANUAL = [21.0, 21.0, 22.8, 32.4, 30.4, 33.9, 27.3, 26.0, 30.4, 15.8, 19.7, 15.0, 21.4]


# -- t-tests: R's ?t.test sleep example ----------------------------------------------------


def test_welch_matches_r_sleep():
    # t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p-value = 0.07939,
    # 95 percent CI -3.3654832 0.2054832 (Cookbook for R, "t-test" page,
    # cookbook-r.com/Statistical_analysis/t-test/; R's ?t.test example). Our sign: b - a.
    r = compare_means(SLEEP_1, SLEEP_2, "welch")
    assert r.estimate == pytest.approx(1.58)
    assert r.statistic == pytest.approx(1.8608, abs=5e-5)
    assert r.df == pytest.approx(17.776, abs=5e-4)
    assert r.p_value == pytest.approx(0.07939, abs=5e-6)
    assert (r.ci_low, r.ci_high) == (
        pytest.approx(-0.2054832, abs=5e-8),
        pytest.approx(3.3654832, abs=5e-8),
    )
    assert r.method == "Welch two-sample t-test" and r.statistic_name == "t"


def test_student_matches_r_sleep_var_equal():
    # t.test(extra ~ group, data = sleep, var.equal = TRUE): t = -1.8608, df = 18,
    # p-value = 0.07919, 95 percent CI -3.363874 0.203874 (Cookbook for R, t-test page).
    r = compare_means(SLEEP_1, SLEEP_2, "student")
    assert r.statistic == pytest.approx(1.8608, abs=5e-5)
    assert r.df == 18
    assert r.p_value == pytest.approx(0.07919, abs=5e-6)
    assert (r.ci_low, r.ci_high) == (
        pytest.approx(-0.203874, abs=5e-7),
        pytest.approx(3.363874, abs=5e-7),
    )
    pooled = (9 * np.var(SLEEP_1, ddof=1) + 9 * np.var(SLEEP_2, ddof=1)) / 18
    assert r.std_error == pytest.approx(math.sqrt(pooled * 2 / 10))


def test_paired_matches_r_sleep_paired():
    # t.test(extra ~ group, data = sleep, paired = TRUE): t = -4.0621, df = 9,
    # p-value = 0.002833, 95 percent CI -2.4598858 -0.7001142, mean of the differences
    # -1.58 (Cookbook for R, t-test page; R's ?t.test example).
    r = compare_means(SLEEP_1, SLEEP_2, "paired")
    assert r.estimate == pytest.approx(1.58)
    assert r.statistic == pytest.approx(4.0621, abs=5e-5)
    assert r.df == 9
    assert r.p_value == pytest.approx(0.002833, abs=5e-7)
    assert (r.ci_low, r.ci_high) == (
        pytest.approx(0.7001142, abs=5e-8),
        pytest.approx(2.4598858, abs=5e-8),
    )
    assert r.n == {"a": 10, "b": 10} and "10 pairs" in r.notes[0]


def test_sign_follows_b_minus_a():
    for method in ("welch", "student", "paired", "mann-whitney", "bootstrap"):
        up, down = compare_means(SLEEP_1, SLEEP_2, method), compare_means(SLEEP_2, SLEEP_1, method)
        assert up.estimate > 0 > down.estimate, method


def test_welch_t_test_is_compare_means_welch():
    old, new = welch_t_test(SLEEP_1, SLEEP_2, alpha=0.1), compare_means(SLEEP_1, SLEEP_2, alpha=0.1)
    assert old == new
    assert old.group_ci["a"] == pytest.approx((0.75 - 1.0376, 0.75 + 1.0376), abs=1e-3)


# -- Mann-Whitney: R's wilcox.test ----------------------------------------------------------


def test_mann_whitney_exact_matches_r_example():
    # wilcox.test(x, y, alternative = "g"): W = 35, p-value = 0.1272 ("Wilcoxon rank sum exact
    # test"; R's ?wilcox.test example as printed at
    # rstudio-pubs-static.s3.amazonaws.com/1010246_c61c86672ec041989613d044201c79c4.html).
    w, p, *_ = _rank_sum(np.array(HW_X), np.array(HW_Y), alternative="greater")
    assert w == 35 and p == pytest.approx(0.1272, abs=5e-5)
    # two-sided (our only alternative): twice the one-sided value, 0.2544
    r = compare_means(a=HW_Y, b=HW_X, method="mann-whitney")
    assert r.statistic == 35 and r.statistic_name == "W"
    assert r.p_value == pytest.approx(2 * 0.1272061, abs=1e-6)
    assert r.p_value == pytest.approx(0.2544, abs=5e-5)
    assert r.method == "Wilcoxon rank sum exact test (Mann-Whitney U)"
    # W counts the pairs b[i] > a[j]; swapping the groups gives n_a n_b - W
    assert compare_means(HW_X, HW_Y, "mann-whitney").statistic == 50 - 35


def test_mann_whitney_normal_approximation_matches_r_example():
    # wilcox.test(x, y, alternative = "greater", exact = FALSE, correct = FALSE)  # H&W large
    # sample approximation: W = 35, p-value = 0.1103 (same ?wilcox.test example).
    x, y = np.array(HW_X), np.array(HW_Y)
    w, p, *_ = _rank_sum(x, y, exact=False, correct=False, alternative="greater")
    assert w == 35 and p == pytest.approx(0.1103, abs=5e-5)
    # two-sided and "less" versions of the same call, printed in a public R transcript of
    # the book data: p-value = 0.2207 and 0.8897
    assert _rank_sum(x, y, exact=False, correct=False)[1] == pytest.approx(0.2207, abs=5e-5)
    less = _rank_sum(x, y, exact=False, correct=False, alternative="less")[1]
    assert less == pytest.approx(0.8897, abs=5e-5)


def test_mann_whitney_exact_interval_is_order_statistics_of_differences():
    # No printed R interval found for this example: check R's algorithm independently. The
    # exact null distribution of W (all C(15, 5) placements of y), its 2.5% quantile k, and
    # the interval [d_(k), d_(mn - k + 1)] of the sorted differences x[i] - y[j].
    counts = np.zeros(51)
    for ys in itertools.combinations(range(15), 5):
        counts[sum(sum(j < i for j in ys) for i in set(range(15)) - set(ys))] += 1
    pmf = counts / counts.sum()
    assert _wilcox_pmf(10, 5) == pytest.approx(pmf, abs=1e-15)
    k = int(np.argmax(np.cumsum(pmf) >= 0.025))
    assert _qwilcox(0.025, 10, 5) == k == 9
    d = np.sort(np.subtract.outer(HW_X, HW_Y).ravel())
    r = compare_means(a=HW_Y, b=HW_X, method="mann-whitney")
    assert (r.ci_low, r.ci_high) == (pytest.approx(d[k - 1]), pytest.approx(d[50 - k]))
    assert (r.ci_low, r.ci_high) == (pytest.approx(-0.15), pytest.approx(0.76))
    assert r.estimate == pytest.approx(np.median(d)) == pytest.approx(0.305)
    assert math.isnan(r.std_error)
    assert r.estimates == {"a": pytest.approx(0.9), "b": pytest.approx(1.415)}  # medians


def test_mann_whitney_airquality_matches_r():
    # wilcox.test(Ozone ~ Month, data = airquality, subset = Month %in% c(5, 8)):
    # W = 127.5, p-value = 0.0001208, "with continuity correction" (ties: normal approximation)
    # (R's ?wilcox.test example, as printed in public knitr transcripts of it).
    r = compare_means(a=OZONE_AUG, b=OZONE_MAY, method="mann-whitney")  # R's x = May
    assert r.statistic == 127.5
    assert r.p_value == pytest.approx(0.0001208, abs=5e-8)
    assert r.method.endswith("normal approximation with continuity correction")
    assert any("ties" in note for note in r.notes)
    assert np.mean(OZONE_MAY) == pytest.approx(23.61538, abs=1e-5)
    assert np.mean(OZONE_AUG) == pytest.approx(59.96154, abs=1e-5)
    # our natural orientation (a = before = May): W for August, same p-value
    forward = compare_means(OZONE_MAY, OZONE_AUG, "mann-whitney")
    assert forward.statistic == 26 * 26 - 127.5
    assert forward.p_value == pytest.approx(r.p_value, rel=1e-12)
    assert forward.ci_low < forward.estimate < forward.ci_high and forward.ci_low > 0


def test_mann_whitney_root_finding_interval_matches_r_mtcars():
    # wilcox.test(mpg ~ am, data = mtcars, conf.int = TRUE): W = 42, p-value = 0.001871,
    # 95 percent CI -11.699942 -2.900042, difference in location -6.799963 (knitr output of R
    # in a public R Markdown tutorial; broom's tidy.htest example prints the same -6.80,
    # -11.7, -2.90). These digits come from R's uniroot(tol = 1e-4) steps.
    r = compare_means(a=MPG_MANUAL, b=MPG_AUTO, method="mann-whitney")  # R's x = automatic
    assert r.statistic == 42
    assert r.p_value == pytest.approx(0.001871, abs=5e-7)
    assert r.estimate == pytest.approx(-6.799963, abs=5e-7)
    assert r.ci_low == pytest.approx(-11.699942, abs=5e-7)
    assert r.ci_high == pytest.approx(-2.900042, abs=5e-7)


def test_mann_whitney_sleep_and_ties_match_r():
    # wilcox.test(extra ~ group, data = sleep): W = 25.5, p-value = 0.06933 (public R
    # tutorials reproducing it; ties, continuity correction)
    r = compare_means(a=SLEEP_2, b=SLEEP_1, method="mann-whitney")
    assert r.statistic == 25.5 and r.p_value == pytest.approx(0.06933, abs=5e-6)
    # endmemo.com/r/wilcoxon.php: x <- c(1,5,9,24,56,21,3,7,21,4);
    # y <- c(12,15,5,9,9,14,56,22,3,7,32,5): W = 51.5, p-value = 0.5966; with
    # y <- c(1233,4356,987,39999,1111,200000): W = 0, p-value = 0.001364
    x = [1, 5, 9, 24, 56, 21, 3, 7, 21, 4]
    r = compare_means(a=[12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5], b=x, method="mann-whitney")
    assert r.statistic == 51.5 and r.p_value == pytest.approx(0.5966, abs=5e-5)
    r = compare_means(a=[1233, 4356, 987, 39999, 1111, 200000], b=x, method="mann-whitney")
    assert r.statistic == 0 and r.p_value == pytest.approx(0.001364, abs=5e-7)


def test_mann_whitney_large_samples_use_normal_approximation():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 60), rng.normal(0.5, 1, 55)  # 50+ values: no exact test
    r = compare_means(a, b, "mann-whitney")
    assert "normal approximation" in r.method and not any("ties" in n for n in r.notes)
    d = np.subtract.outer(b, a).ravel()
    assert r.estimate == pytest.approx(np.median(d), abs=2e-3)  # root-found HL estimate
    assert r.ci_low < r.estimate < r.ci_high


def test_mann_whitney_tiny_samples_say_the_level_is_not_reached():
    r = compare_means([1, 2], [3, 4], "mann-whitney")
    assert (r.ci_low, r.ci_high) == (1, 3)  # all differences: widest possible interval
    assert any("not achievable: 0.667" in note for note in r.notes)


# -- bootstrap -----------------------------------------------------------------------------


def test_bootstrap_is_seeded_and_consistent():
    a = np.random.default_rng(1).normal(10, 2, 80)
    b = np.random.default_rng(2).normal(11, 2, 90)
    r1 = compare_means(a, b, "bootstrap", seed=5)
    assert r1 == compare_means(a, b, "bootstrap", seed=5)
    r2 = compare_means(a, b, "bootstrap", seed=6)
    assert r1.ci_low != r2.ci_low and r1.estimate == r2.estimate
    assert r1.estimate == pytest.approx(b.mean() - a.mean())
    # the bootstrap SE is close to the analytic (Welch) SE, the interval close to Welch's
    welch = compare_means(a, b)
    assert r1.std_error == pytest.approx(welch.std_error, rel=0.05)
    assert r1.ci_low == pytest.approx(welch.ci_low, abs=0.1 * welch.std_error + 0.05)
    assert r1.ci_high == pytest.approx(welch.ci_high, abs=0.1 * welch.std_error + 0.05)
    assert r1.statistic == pytest.approx(r1.estimate / r1.std_error)
    assert r1.p_value < 0.05 and r1.ci_low > 0  # p-value agrees with the interval
    assert r1.p_value >= 2 / 10_001  # never exactly 0


def test_bootstrap_p_value_counts_the_resamples_on_the_far_side_of_zero():
    rng = np.random.default_rng(9)
    a, b = rng.normal(0, 1, 30), rng.normal(0.2, 1, 30)
    r = compare_means(a, b, "bootstrap", n_boot=2000, seed=1)
    # recompute the resamples exactly as documented
    g = np.random.default_rng(1)
    ia, ib = g.integers(0, 30, (2000, 30)), g.integers(0, 30, (2000, 30))
    d = b[ib].mean(axis=1) - a[ia].mean(axis=1)
    expected = min(1, 2 * (1 + min((d <= 0).sum(), (d >= 0).sum())) / 2001)
    assert r.p_value == pytest.approx(expected)
    assert (r.ci_low, r.ci_high) == tuple(pytest.approx(q) for q in np.quantile(d, [0.025, 0.975]))


def test_bootstrap_medians_and_big_samples():
    a, b = [1, 2, 3, 4, 100], [2, 3, 4, 5, 200]
    r = compare_means(a, b, "bootstrap", statistic="median", n_boot=500)
    assert r.estimate == 1.0 and r.estimates == {"a": 3.0, "b": 4.0}
    assert "medians" in r.method and r.group_ci == {}
    big = np.arange(60_000, dtype=float)  # resampled in chunks to bound memory
    r = compare_means(big, big + 1, "bootstrap", n_boot=200)
    assert r.estimate == 1 and r.ci_low < 1 < r.ci_high


# -- edge cases and input checks -----------------------------------------------------------


@pytest.mark.parametrize("method", ["welch", "student", "bootstrap"])
def test_zero_variance_gives_nan_statistic_and_a_note(method):
    r = compare_means([3, 3, 3], [5, 5, 5, 5], method)
    assert r.estimate == 2 and math.isnan(r.statistic) and math.isnan(r.p_value)
    assert not r.significant and any("undefined" in note for note in r.notes)


def test_zero_variance_paired_and_mann_whitney():
    r = compare_means([1, 2, 3], [2, 3, 4], "paired")  # every difference is 1
    assert r.estimate == 1 and math.isnan(r.statistic) and "differences" in r.notes[0]
    r = compare_means([4, 4, 4], [4, 4], "mann-whitney")
    assert math.isnan(r.statistic) and math.isnan(r.p_value) and math.isnan(r.ci_low)
    assert "all values are tied (W = 3)" in r.notes[-1]
    r = compare_means([1, 1, 1], [2, 2, 2], "mann-whitney")  # each group constant
    assert r.statistic == 9 and (r.estimate, r.ci_low, r.ci_high) == (1, 1, 1)
    assert "interval is a point" in r.notes[-1]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_refuses_nan_and_too_few_values(method):
    with pytest.raises(StudyError, match=r"Sample b holds 1 missing value\(s\) \(NaN\) out of 3"):
        compare_means([1, 2, 3], [1, np.nan, 3], method)
    with pytest.raises(StudyError, match="Sample a holds 1 infinite value"):
        compare_means([1, np.inf, 3], [1, 2, 3], method)
    with pytest.raises(StudyError, match="Sample a needs at least 2 observations"):
        compare_means([1], [1, 2, 3], method)
    with pytest.raises(StudyError, match="numbers only"):
        compare_means(["x", "y"], [1, 2], method)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "ttest"}, r"Unknown method 'ttest'; choose one of welch, student, paired"),
        ({"method": "paired", "b": [1, 2, 3, 4]}, "equal length.*3 values in a and 4 in b"),
        ({"statistic": "mode", "method": "bootstrap"}, "statistic must be 'mean' or 'median'"),
        ({"statistic": "median"}, "statistic='median' needs method='bootstrap'"),
        ({"method": "bootstrap", "n_boot": 10}, "n_boot must be a whole number of at least 100"),
        ({"method": "bootstrap", "n_boot": 500.0}, "n_boot must be a whole number"),
        ({"alpha": 1.5}, "alpha must be a number between 0 and 1"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = {"a": [1, 2, 3], "b": [2, 3, 5], **kwargs}
    with pytest.raises(StudyError, match=message):
        compare_means(**args)


def test_paired_series_must_be_aligned():
    a = pd.Series([1.0, 2.0, 3.0], index=["u1", "u2", "u3"])
    b = pd.Series([2.0, 2.5, 4.0], index=["u2", "u1", "u3"])
    with pytest.raises(StudyError, match=r"different indexes.*b\.reindex\(a\.index\)"):
        compare_means(a, b, "paired")
    r = compare_means(a, b.reindex(a.index), "paired")
    assert r.estimate == pytest.approx(np.mean([1.5, 0.0, 1.0]))


def test_results_render_with_notes():
    r = compare_means(OZONE_MAY, OZONE_AUG, "mann-whitney").relabel("before", "after")
    assert isinstance(r, TestResult)
    text = r.summary()
    assert "W = 548.5" in text and "Hodges-Lehmann" in text and "after - before" in text
    html = r._repr_html_()
    assert html.startswith("<div>") and "not a difference in means" in html
    frame = compare_means(SLEEP_1, SLEEP_2, "bootstrap").to_frame()
    assert frame.loc[0, "estimate"] == pytest.approx(1.58) and math.isnan(frame.loc[0, "df"])


# -- calibration ---------------------------------------------------------------------------

N_FAST = 400


@pytest.fixture(scope="module")
def fast_calibration() -> pd.DataFrame:
    return calibrate(n_sims=N_FAST, seed=2024)


def test_calibration_table_has_every_method_and_the_issue_bounds(fast_calibration):
    table = fast_calibration
    assert list(table.columns) == ["function", "check", "value", "low", "high", "ok"]
    assert {f"compare_means(method={m!r})" for m in METHODS} == set(table["function"])
    fpr = table[table["check"] == "false-positive rate"]
    assert len(fpr) == 5 and (fpr["low"] == 0.035).all() and (fpr["high"] == 0.065).all()
    cover = table[table["check"].str.startswith("95% CI coverage")]
    assert (cover["low"] == 0.93).all() and (cover["high"] == 0.97).all()


def test_fast_calibration_within_widened_bounds(fast_calibration):
    # With 400 studies a rate near 5% has a binomial SE of 1.1 points: allow 3 SE around the
    # nominal value (rather than the 3.5-6.5% of the 2,000-study run), and for power 3 SE
    # around the prediction plus the 5-point tolerance of the full run.
    se = math.sqrt(0.05 * 0.95 / N_FAST)
    for row in fast_calibration.itertuples():
        if row.check.startswith("false-positive rate"):
            assert abs(row.value - 0.05) <= 3 * se, row
        elif row.check.startswith("95% CI coverage"):
            assert abs(row.value - 0.95) <= 3 * se, row
        else:
            predicted = (row.low + row.high) / 2
            tol = 3 * math.sqrt(predicted * (1 - predicted) / N_FAST) + 0.05
            assert abs(row.value - predicted) <= tol, row
