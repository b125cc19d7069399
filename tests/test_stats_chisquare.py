"""chi_square and two_proportions(correct=True) against R's printed figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cjm_core.errors import StudyError
from cjm_core.stats.chisquare import chi_square
from cjm_core.stats.proportions import two_proportions

# R's ?chisq.test: M <- as.table(rbind(c(762, 327, 468), c(484, 239, 477)))
PARTY = pd.DataFrame(
    [[762, 327, 468], [484, 239, 477]],
    index=pd.Index(["F", "M"], name="gender"),
    columns=pd.Index(["Democrat", "Independent", "Republican"], name="party"),
)


def test_independence_matches_r_chisq_test():
    # R: X-squared = 30.07, df = 2, p-value = 2.954e-07 (printed in ?chisq.test's example
    # output); expected F/Democrat 703.6714, M/Republican 411.3166
    r = chi_square(PARTY)
    assert r.statistic == pytest.approx(30.07, abs=5e-3)
    assert r.df == 2 and r.statistic_name == "X-squared"
    assert r.p_value == pytest.approx(2.954e-07, rel=5e-4)
    assert r.expected.loc["F", "Democrat"] == pytest.approx(703.67138193688788)
    assert r.expected.loc["M", "Republican"] == pytest.approx(411.31664853101199)
    assert r.method == "Pearson's Chi-squared test"
    assert r.n == {"total": 2757}
    # Pearson residuals and standardised residuals by hand for one cell
    e = 703.67138193688788
    assert r.residuals.loc["F", "Democrat"] == pytest.approx((762 - e) / math.sqrt(e))
    v = (1 - 1557 / 2757) * (1 - 1246 / 2757)
    assert r.stdres.loc["F", "Democrat"] == pytest.approx((762 - e) / math.sqrt(e * v))
    # Cramér's V = sqrt(X2 / (N (k - 1))), k = 2
    assert r.estimate == pytest.approx(math.sqrt(r.statistic / 2757))
    assert r.ci_low < r.estimate < r.ci_high


def test_two_by_two_uses_yates_as_r_does():
    # R: x <- matrix(c(12, 5, 7, 7), ncol = 2); chisq.test(x)$p.value  # 0.4233
    # (statistic 0.6411203, expected 10.41935, 8.580645, 6.580645, 5.419355)
    r = chi_square([[12, 7], [5, 7]])
    assert r.p_value == pytest.approx(0.42330542432241836, abs=1e-12)
    assert r.statistic == pytest.approx(0.64112026389503174, abs=1e-12)
    assert "Yates" in r.method
    assert r.expected.to_numpy().ravel().tolist() == pytest.approx(
        [10.419354838709678, 8.5806451612903221, 6.5806451612903230, 5.4193548387096770]
    )
    plain = chi_square([[12, 7], [5, 7]], correct=False)
    # by hand: |O - E| = 1.580645 in every cell, times sum(1/E) = 0.549001 -> 1.371646
    # (R without correction, as printed by the prmisc package's README: 1.37, p = .242)
    assert plain.statistic == pytest.approx(1.580645**2 * 0.549001, abs=1e-5)
    assert round(plain.p_value, 3) == 0.242
    assert plain.estimate == r.estimate  # the effect size never uses the correction


def test_goodness_of_fit_matches_r():
    # R: chisq.test(c(A = 20, B = 15, C = 25)): X-squared = 2.5, df = 2, p-value = 0.2865
    r = chi_square(pd.Series([20, 15, 25], index=["A", "B", "C"]))
    assert r.statistic == pytest.approx(2.5) and r.df == 2
    assert r.p_value == pytest.approx(math.exp(-1.25)) and round(r.p_value, 4) == 0.2865
    assert r.effect_name == "Cohen's w"
    assert r.estimate == pytest.approx(math.sqrt(2.5 / 60))
    given = chi_square([20, 15, 25], probabilities=[0.25, 0.25, 0.5])
    assert given.expected["count"].tolist() == [15, 15, 30]
    assert given.statistic == pytest.approx(25 / 15 + 0 / 15 + 25 / 30)


def test_k_sample_proportions_match_r_prop_test():
    # R's ?prop.test (Fleiss 1981): smokers <- c(83, 90, 129, 70); patients <- c(86, 93, 136, 82)
    # prop.test(smokers, patients): X-squared = 12.6, df = 3, p-value = 0.005585
    smokers, patients = np.array([83, 90, 129, 70]), np.array([86, 93, 136, 82])
    r = chi_square([smokers, patients - smokers])
    assert round(r.statistic, 1) == 12.6 and r.df == 3
    assert r.p_value == pytest.approx(0.005585, abs=5e-7)
    assert "Yates" not in r.method  # only 2x2 tables are corrected


def test_two_proportions_with_correction_matches_r_prop_test():
    # R: prop.test(x = c(490, 400), n = c(500, 500))  (default correct = TRUE)
    #   X-squared = 80.909, df = 1, p-value < 2.2e-16
    #   95 percent confidence interval: 0.1408536 0.2191464   (prop 1 - prop 2)
    r = two_proportions(400, 500, 490, 500, correct=True)
    assert r.statistic**2 == pytest.approx(80.909, abs=5e-4)
    assert r.statistic > 0 and r.p_value < 2.2e-16
    assert [r.ci_low, r.ci_high] == pytest.approx([0.1408536, 0.2191464], abs=5e-8)
    assert "continuity" in r.method
    # the correction is capped at |delta| / (1/n_a + 1/n_b): equal proportions give X2 = 0
    same = two_proportions(10, 50, 10, 50, correct=True)
    assert same.statistic == 0 and same.p_value == pytest.approx(1.0)
    # without the correction z^2 is the uncorrected Pearson X-squared of the 2x2 table
    plain = two_proportions(400, 500, 490, 500)
    table = chi_square([[490, 10], [400, 100]], correct=False)
    assert plain.statistic**2 == pytest.approx(table.statistic)


def test_interval_of_the_effect_size_reaches_zero_when_not_significant():
    r = chi_square([[20, 21], [19, 40]])
    assert r.p_value > 0.05 and r.ci_low == 0.0 and r.ci_high > r.estimate
    # a statistic below the central distribution's 2.5% point: no noncentrality fits it
    tiny = chi_square([[20, 21], [19, 20]])
    assert tiny.ci_low == 0.0 and tiny.ci_high == tiny.estimate
    assert any("unusually small" in n for n in tiny.notes)
    # with a narrower level the interval shrinks
    assert chi_square(PARTY, alpha=0.2).ci_high < chi_square(PARTY).ci_high


def test_the_effect_size_interval_covers_the_truth_by_simulation():
    # 2x3 tables from a known joint distribution: V's interval covers the population V
    rng = np.random.default_rng(3)
    joint = np.array([[0.20, 0.15, 0.15], [0.10, 0.15, 0.25]])
    rows, cols = joint.sum(1), joint.sum(0)
    true_v = math.sqrt(((joint - np.outer(rows, cols)) ** 2 / np.outer(rows, cols)).sum())
    n, sims = 400, 300
    tables = rng.multinomial(n, joint.ravel(), size=sims).reshape(sims, 2, 3)
    covered = np.mean([_covers(chi_square(t), true_v) for t in tables])
    assert 0.91 <= covered <= 0.99  # 95% nominal; 300 studies: +-2.5 points is 2 SE


def _covers(r, truth):
    return r.ci_low <= truth <= r.ci_high


def test_small_expected_counts_are_noted():
    assert any("below 5" in n for n in chi_square([[1, 2], [3, 9]]).notes)
    assert not chi_square(PARTY).notes


@pytest.mark.parametrize(
    ("table", "kwargs", "message"),
    [
        ([[1, -2], [3, 4]], {}, "whole non-negative counts"),
        ([[1, 2.5], [3, 4]], {}, "whole non-negative counts"),
        ([[1, float("nan")], [3, 4]], {}, "whole non-negative counts"),
        ([[0, 0], [3, 4]], {}, "empty rows"),
        ([5], {}, "at least two cells"),
        ([1, 2, 3], {"probabilities": [0.5, 0.5]}, "one per cell"),
        ([1, 2, 3], {"probabilities": [1, 1, 1]}, "sum to 1"),
        ([[1, 2], [3, 4]], {"probabilities": [0.5, 0.5]}, "one row or column"),
        ([["a", "b"], ["c", "d"]], {}, "counts"),
    ],
)
def test_bad_tables_are_clear_errors(table, kwargs, message):
    with pytest.raises(StudyError, match=message):
        chi_square(table, **kwargs)


def test_renders_as_text_html_and_frame():
    r = chi_square(PARTY)
    text = r.summary()
    assert "X-squared = 30.07, df = 2" in text and "Cramér's V" in text
    assert "<table>" in r._repr_html_()
    row = r.to_frame().iloc[0]
    assert row["statistic"] == pytest.approx(30.07, abs=5e-3) and row["df"] == 2
    assert row["effect_size"] == "Cramér's V" and row["n_total"] == 2757
