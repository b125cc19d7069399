"""Survey scores (NPS, CSAT, CES): hand-computed answers, input checks and simulation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cjm_core.errors import StudyError
from cjm_core.stats.result import TestResult
from cjm_core.stats.scores import ScoreResult, ces, csat, nps, nps_difference

Z = 1.959963984540054  # qnorm(0.975)


def _wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson score interval by its formula (Wilson 1927; Agresti & Coull 1998, eq. 2)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


# -- NPS -----------------------------------------------------------------------------------


def test_nps_hand_computed():
    # 50 promoters (10), 30 passives (8), 20 detractors (3): NPS = 100 (0.5 - 0.2) = 30
    # var of one answer scored +1/0/-1: 0.5 + 0.2 - 0.3**2 = 0.61; se = 100 sqrt(0.61 / 100)
    r = nps([10] * 50 + [8] * 30 + [3] * 20)
    se = 100 * math.sqrt(0.61 / 100)  # 7.8102 points
    assert r.estimate == 30.0
    assert r.std_error == pytest.approx(se, rel=1e-12)
    assert (r.ci_low, r.ci_high) == (pytest.approx(30 - Z * se), pytest.approx(30 + Z * se))
    assert r.shares == {"promoters": 0.5, "passives": 0.3, "detractors": 0.2}
    assert r.statistic == pytest.approx(30 / se) and r.p_value == pytest.approx(
        2 * sps.norm.sf(30 / se)
    )
    assert r.counts[10] == 50 and r.counts[8] == 30 and r.counts[3] == 20 and r.counts[0] == 0
    assert r.n == 100 and r.metric == "NPS"
    # the same variance as the population variance of the +1/0/-1 coded answers
    coded = np.array([1] * 50 + [0] * 30 + [-1] * 20)
    assert r.std_error == pytest.approx(100 * coded.std() / math.sqrt(100))
    # shares carry Wilson intervals
    shares = r.table.set_index("quantity")
    assert shares.loc["share of promoters", "ci_low"] == pytest.approx(_wilson(50, 100)[0])
    assert shares.loc["share of detractors", "ci_high"] == pytest.approx(_wilson(20, 100)[1])


def test_nps_forum_example():
    # talkstats.com thread "Net Promoter Score - Calculating Confidence Intervals and Margin of
    # Error": 1162 answers, 291 promoters, 476 passives, 395 detractors -> NPS of -9 and
    # "a confidence interval of 4.4" (the margin of error). By hand: NPS = 100 * -104 / 1162
    # = -8.95; var = 686/1162 - (104/1162)**2 = 0.58235; margin = 1.96 * 100 sqrt(var/1162)
    scores = [10] * 291 + [7] * 476 + [0] * 395
    r = nps(scores)
    assert round(r.estimate) == -9 and r.estimate == pytest.approx(-8.9501, abs=1e-4)
    margin = (r.ci_high - r.ci_low) / 2
    assert round(margin, 1) == 4.4 and margin == pytest.approx(4.3877, abs=1e-4)


def test_nps_adjusted_wald_hand_computed():
    # 5 promoters, 2 passives, 3 detractors; adjusted Wald adds 3 answers: 3/4 promoter and
    # 3/4 detractor: p = 5.75/13, d = 3.75/13, centre 100 * 2/13 = 15.38,
    # var = 9.5/13 - (2/13)**2, half-width = z * 100 sqrt(var / 13) = 45.71
    r = nps([10, 9, 9, 10, 9, 8, 7, 6, 5, 0], method="adjusted-wald")
    assert r.estimate == 20.0  # the reported NPS stays the raw one
    half = Z * 100 * math.sqrt((9.5 / 13 - (2 / 13) ** 2) / 13)
    assert r.ci_low == pytest.approx(100 * 2 / 13 - half) and r.ci_low == pytest.approx(
        -30.33, 1e-3
    )
    assert r.ci_high == pytest.approx(100 * 2 / 13 + half)
    assert "Adjusted Wald" in r.method


def test_nps_interval_is_clipped_and_degenerate_case_noted():
    r = nps([10] * 19 + [8])
    assert r.estimate == 95.0 and r.ci_high == 100.0 and r.ci_low < 95
    same = nps([9, 10, 10])
    assert same.std_error == 0 and math.isnan(same.p_value) and "one category" in same.notes[0]


def test_nps_variance_by_simulation():
    # the spread of simulated NPS estimates matches the formula's standard error
    rng = np.random.default_rng(3)
    probs = np.array([0.25, 0.30, 0.45])  # detractors, passives, promoters
    n, reps = 120, 20000
    counts = rng.multinomial(n, probs, size=reps)
    estimates = 100 * (counts[:, 2] - counts[:, 0]) / n
    var_formula = 100**2 * (0.45 + 0.25 - 0.2**2) / n
    # the sample variance of 20000 draws has a relative SE of 1%: allow 4 of them
    assert estimates.var(ddof=1) == pytest.approx(var_formula, rel=0.04)


def test_nps_interval_coverage_by_simulation():
    rng = np.random.default_rng(5)
    probs = np.array([2, 1, 2, 3, 4, 8, 10, 15, 20, 17, 18]) / 100
    truth = 100 * (probs[9:].sum() - probs[:7].sum())
    reps = 600  # 3 binomial SEs around 0.95: 0.923-0.977
    for method in ("wald", "adjusted-wald"):
        samples = rng.choice(11, size=(reps, 80), p=probs)
        results = [nps(s, method=method) for s in samples]
        covered = np.mean([r.ci_low <= truth <= r.ci_high for r in results])
        assert 0.923 < covered < 0.977, (method, covered)


def test_nps_difference_hand_computed():
    # a: 40 P / 30 passive / 30 D (NPS 10, var 0.69); b: 55 / 25 / 20 (NPS 35, var 0.6275)
    a = [10] * 40 + [8] * 30 + [3] * 30
    b = [9] * 55 + [7] * 25 + [0] * 20
    r = nps_difference(a, b)
    se = 100 * math.sqrt(0.69 / 100 + 0.6275 / 100)  # 11.478 points
    assert isinstance(r, TestResult)
    assert r.estimate == pytest.approx(25.0) and r.std_error == pytest.approx(se)
    assert r.statistic == pytest.approx(25 / se) and r.statistic_name == "z"
    assert r.p_value == pytest.approx(2 * sps.norm.sf(25 / se))
    assert (r.ci_low, r.ci_high) == (pytest.approx(25 - Z * se), pytest.approx(25 + Z * se))
    assert r.estimates == {"a": 10.0, "b": 35.0} and r.n == {"a": 100, "b": 100}
    assert r.group_ci["a"] == (pytest.approx(nps(a).ci_low), pytest.approx(nps(a).ci_high))
    # b minus a: swapping the groups flips the sign
    assert nps_difference(b, a).estimate == pytest.approx(-25.0)
    text = r.relabel("before", "after").summary()
    assert "after - before" in text and "z = 2.178" in text


def test_nps_difference_false_positive_rate_by_simulation():
    rng = np.random.default_rng(8)
    probs = np.array([5, 3, 4, 5, 6, 7, 10, 15, 15, 15, 15]) / 100
    reps = 600  # 3 binomial SEs around 0.05: 0.023-0.077
    data = rng.choice(11, size=(reps, 2, 100), p=probs)
    rate = np.mean([nps_difference(x[0], x[1]).p_value < 0.05 for x in data])
    assert 0.023 < rate < 0.077


def test_nps_difference_all_in_one_category():
    r = nps_difference([10, 10, 9], [9, 9])
    assert r.estimate == 0 and math.isnan(r.p_value) and "undefined" in r.notes[0]


# -- CSAT and CES --------------------------------------------------------------------------

ANSWERS = [5, 4, 4, 3, 2, 5, 4, 1, 5, 4]  # mean 3.7, 7 of 10 answer 4 or 5


def test_csat_hand_computed():
    r = csat(ANSWERS)
    assert r.estimate == 0.7 and r.shares == {"satisfied": 0.7} and r.metric == "CSAT"
    assert (r.ci_low, r.ci_high) == tuple(pytest.approx(v) for v in _wilson(7, 10))
    assert r.std_error == pytest.approx(math.sqrt(0.7 * 0.3 / 10))
    sd = np.std(ANSWERS, ddof=1)
    half = sps.t.ppf(0.975, 9) * sd / math.sqrt(10)
    assert r.mean == pytest.approx(3.7)
    assert r.mean_ci == (pytest.approx(3.7 - half), pytest.approx(3.7 + half))
    assert r.counts == {1: 1, 2: 1, 3: 1, 4: 4, 5: 3}
    # top box only; a 7-point scale with its top 3
    assert csat(ANSWERS, top_box=1).estimate == 0.3
    assert csat([7, 6, 5, 4, 1], scale=7, top_box=3).estimate == 0.6


def test_ces_hand_computed():
    answers = [7, 6, 6, 5, 4, 2, 7, 5, 6, 3]
    r = ces(answers)
    sd = np.std(answers, ddof=1)
    half = sps.t.ppf(0.975, 9) * sd / math.sqrt(10)
    assert r.estimate == pytest.approx(5.1) and r.std_error == pytest.approx(sd / math.sqrt(10))
    assert (r.ci_low, r.ci_high) == (pytest.approx(5.1 - half), pytest.approx(5.1 + half))
    # "easy" = above the midpoint of 1-7: answers 5, 6 or 7
    assert r.shares == {"easy": 0.7}
    assert ces(answers, easy_min=6).shares == {"easy": 0.5}
    assert ces([5, 4, 1, 2], scale=5).shares == {"easy": 0.5}  # 4-5 of 1-5


def test_csat_and_ces_coverage_by_simulation():
    rng = np.random.default_rng(9)
    probs = np.array([0.08, 0.12, 0.20, 0.35, 0.25])
    top, mean = 0.60, float(np.arange(1, 6) @ probs)
    samples = rng.choice(np.arange(1, 6), size=(600, 50), p=probs)
    results = [csat(s) for s in samples]
    assert 0.923 < np.mean([r.ci_low <= top <= r.ci_high for r in results]) < 0.977
    assert 0.923 < np.mean([r.mean_ci[0] <= mean <= r.mean_ci[1] for r in results]) < 0.977


# -- rendering and input checks ------------------------------------------------------------


def test_score_result_renders():
    r = nps([10] * 50 + [8] * 30 + [3] * 20)
    assert isinstance(r, ScoreResult)
    text = r.summary()
    assert "NPS (points) = 30, 95% CI [14.69, 45.31]" in text and "test of NPS = 0" in text
    frame = r.to_frame()
    assert list(frame.columns[:3]) == ["metric", "n", "quantity"] and len(frame) == 4
    assert r._repr_html_().startswith("<div><strong>Net Promoter Score")
    assert "ScoreResult(NPS, estimate=30" in repr(r)
    assert "test of" not in csat(ANSWERS).summary()  # no test for CSAT


def test_invalid_answers_are_counted_and_shown():
    scores = pd.Series([9, 10, np.nan, 11, 7.5, "x", 3], index=list("abcdefg"))
    with pytest.raises(StudyError) as info:
        nps(scores)
    message = str(info.value)
    assert "4 of 7 answers are not valid NPS answers (whole numbers 0 to 10)" in message
    assert "1 missing (NaN/None), 1 not numbers, 1 not whole numbers, 1 outside 0-10" in message
    assert "'c': nan" in message and "'d': 11" in message and "Fix:" in message
    with pytest.raises(
        StudyError, match=r"2 of 4 answers .* 2 outside 1-5.*\(position: value\) 0: 0"
    ):
        csat([0, 1, 2, 6])
    with pytest.raises(StudyError, match="b: 1 of 3 answers"):
        nps_difference([1, 2, 3], [1, 2, -1])
    with pytest.raises(StudyError, match="at least 2"):
        ces([4])
    with pytest.raises(StudyError, match="not numbers"):
        csat([True, 4, 5])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: csat(ANSWERS, top_box=5), "top_box must be a whole number from 1 to 4"),
        (lambda: csat(ANSWERS, scale=1), "scale must be a whole number of at least 2"),
        (lambda: ces(ANSWERS, easy_min=9), "easy_min must be a whole number from 2 to 7"),
        (lambda: nps(ANSWERS, method="bootstrap"), "method must be 'wald' or 'adjusted-wald'"),
        (lambda: nps(ANSWERS, alpha=2), "alpha"),
    ],
)
def test_bad_options_are_explained(call, message):
    with pytest.raises(StudyError, match=message):
        call()
