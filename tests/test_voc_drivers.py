"""Key driver analysis: known answers, a published example, simulation, banking data.

Known answers: with uncorrelated drivers every measure equals the squared correlation;
with two drivers LMG has a closed form. Published: relaimpo / domir's printed LMG values
for ``lm(mpg ~ am + vs + cyl, data = mtcars)``. Independent code paths: LMG by brute force
over all p! orderings, relative weights through an SVD of the data (Johnson 2000's own
construction), betas and p-values from statsmodels on the raw data.
"""

from __future__ import annotations

import ast
import itertools
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.linalg import hadamard

from cjm_core.errors import CjmError, ColumnTypeError, MissingColumnError
from cjm_core.voc import relimp
from cjm_core.voc.drivers import key_drivers
from cjm_core.voc.drivers_table import driver_table

matplotlib.use("Agg")

# mtcars (R datasets; Henderson and Velleman 1981): mpg, cyl, vs, am of the 32 cars
MTCARS = """21 6 0 1|21 6 0 1|22.8 4 1 1|21.4 6 1 0|18.7 8 0 0|18.1 6 1 0|14.3 8 0 0|24.4 4 1 0|
22.8 4 1 0|19.2 6 1 0|17.8 6 1 0|16.4 8 0 0|17.3 8 0 0|15.2 8 0 0|10.4 8 0 0|10.4 8 0 0|
14.7 8 0 0|32.4 4 1 1|30.4 4 1 1|33.9 4 1 1|21.5 4 1 0|15.5 8 0 0|15.2 8 0 0|13.3 8 0 0|
19.2 8 0 0|27.3 4 1 1|26 4 0 1|30.4 4 1 1|15.8 8 0 1|19.7 6 0 1|15 8 0 1|21.4 4 1 1"""


def mtcars() -> pd.DataFrame:
    rows = [r.split() for r in MTCARS.replace("\n", "").split("|")]
    return pd.DataFrame(rows, columns=["mpg", "cyl", "vs", "am"]).astype(float)


def with_correlation(target: np.ndarray, n: int = 50, seed: int = 0) -> np.ndarray:
    """n rows whose sample correlation matrix is exactly ``target``."""
    z = np.random.default_rng(seed).standard_normal((n, len(target)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T)).T)  # sample covariance = I
    return z @ np.linalg.cholesky(target).T


def lmg_brute_force(R: np.ndarray) -> np.ndarray:
    """LMG the slow way: R² gains averaged over every ordering of the drivers."""
    p = len(R) - 1

    def r2(cols: list[int]) -> float:
        if not cols:
            return 0.0
        rxy = R[cols, -1]
        return float(rxy @ np.linalg.solve(R[np.ix_(cols, cols)], rxy))

    total = np.zeros(p)
    for order in itertools.permutations(range(p)):
        seen: list[int] = []
        for j in order:
            total[j] += r2(seen + [j]) - r2(seen)
            seen.append(j)
    return total / math.factorial(p)


def rw_from_svd(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson's (2000) construction on the data: X = P D Q', Z = P Q' (orthogonal),
    Lambda = Q D Q' / sqrt(n - 1) regresses X on Z, beta regresses y on Z."""
    xs = (x - x.mean(0)) / x.std(0, ddof=1)
    ys = (y - y.mean()) / y.std(ddof=1)
    p_, d, qt = np.linalg.svd(xs, full_matrices=False)
    z = p_ @ qt * np.sqrt(len(x) - 1)
    lam = qt.T @ np.diag(d) @ qt / np.sqrt(len(x) - 1)
    beta = np.linalg.lstsq(z, ys, rcond=None)[0]
    return (lam**2) @ (beta**2)


# -- known answers ----------------------------------------------------------------------


def test_orthogonal_drivers_all_measures_equal_squared_correlations():
    h = hadamard(16).astype(float)[:, 1:5]  # centred, mutually orthogonal columns
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3], dtype=float)
    df = pd.DataFrame(h, columns=["a", "b", "c", "d"]).assign(y=y)
    r = key_drivers(df, "y", n_boot=0).table.set_index("driver").loc[["a", "b", "c", "d"]]
    r2_single = np.array([np.corrcoef(h[:, j], y)[0, 1] ** 2 for j in range(4)])
    np.testing.assert_allclose(r["lmg"], r2_single, atol=1e-12)
    np.testing.assert_allclose(r["relative_weight"], r2_single, atol=1e-12)
    np.testing.assert_allclose(r["beta"] ** 2, r2_single, atol=1e-12)
    # hand check of one: h[:, 0] is the +-1 pattern of Walsh column 1
    assert r.loc["a", "lmg"] == pytest.approx(
        np.dot(h[:, 0], y - y.mean()) ** 2 / (16 * np.var(y) * 16)
    )


def test_two_drivers_closed_form():
    r1, r2, r12 = 0.5, 0.3, 0.2
    target = np.array([[1, r12, r1], [r12, 1, r2], [r1, r2, 1]])
    df = pd.DataFrame(with_correlation(target), columns=["x1", "x2", "y"])
    res = key_drivers(df, "y", n_boot=0)
    t = res.table.set_index("driver")
    big_r2 = (r1**2 + r2**2 - 2 * r1 * r2 * r12) / (1 - r12**2)  # 0.28 / 0.96
    assert big_r2 == pytest.approx(0.2916666666666667)
    assert res.info["r_squared"] == pytest.approx(big_r2, abs=1e-12)
    # LMG_1 = (r1² + (R² - r2²)) / 2 = 0.2258333..., LMG_2 = 0.0658333...
    assert t.loc["x1", "lmg"] == pytest.approx(0.22583333333333333, abs=1e-12)
    assert t.loc["x2", "lmg"] == pytest.approx(0.06583333333333333, abs=1e-12)
    assert t.loc["x1", "beta"] == pytest.approx((r1 - r12 * r2) / (1 - r12**2), abs=1e-12)
    for col in ("lmg", "relative_weight"):
        assert t[col].sum() == pytest.approx(big_r2, abs=1e-10)
    assert t.loc["x1", "lmg_share"] == pytest.approx(0.22583333333333333 / big_r2, abs=1e-10)


def test_published_mtcars_lmg_from_relaimpo():
    # relaimpo::calc.relimp(mpg ~ am + vs + cyl, data = mtcars, type = "lmg") as printed in
    # the domir README (github.com/jluchman/domir): R² 0.7619773, lmg am 0.1774892,
    # vs 0.2027032, cyl 0.3817849 (rounded to 7 digits).
    r = key_drivers(mtcars(), "mpg", ["am", "vs", "cyl"], n_boot=0)
    t = r.table.set_index("driver")
    assert r.info["r_squared"] == pytest.approx(0.7619773, abs=5e-8)
    assert t.loc["am", "lmg"] == pytest.approx(0.1774892, abs=5e-8)
    assert t.loc["vs", "lmg"] == pytest.approx(0.2027032, abs=5e-8)
    assert t.loc["cyl", "lmg"] == pytest.approx(0.3817849, abs=5e-8)
    assert list(t.index) == ["cyl", "vs", "am"] and list(t["rank"]) == [1, 2, 3]


@pytest.mark.parametrize("name", ["longley", "stackloss"])
def test_lmg_equals_brute_force_over_orderings(name):
    import statsmodels.datasets as ds

    data = getattr(ds, name).load_pandas().data
    outcome = data.columns[0]
    drivers = list(data.columns[1:])
    r = key_drivers(data, outcome, drivers, n_boot=0)
    R = np.corrcoef(data[drivers + [outcome]].to_numpy().T)
    expected = lmg_brute_force(R)
    got = r.table.set_index("driver").loc[drivers, "lmg"].to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-10, rtol=0)
    assert got.sum() == pytest.approx(r.info["r_squared"], abs=1e-10)
    rw = r.table.set_index("driver").loc[drivers, "relative_weight"].to_numpy()
    np.testing.assert_allclose(
        rw, rw_from_svd(data[drivers].to_numpy(), data[outcome].to_numpy()), atol=1e-10
    )
    assert rw.sum() == pytest.approx(r.info["r_squared"], abs=1e-10)


def test_betas_and_p_values_match_ols_on_raw_data():
    df = mtcars()
    r = key_drivers(df, "mpg", ["am", "vs", "cyl"], n_boot=0).table.set_index("driver")
    fit = sm.OLS(df["mpg"], sm.add_constant(df[["am", "vs", "cyl"]])).fit()
    for d in ("am", "vs", "cyl"):
        scale = df[d].std() / df["mpg"].std()
        assert r.loc[d, "beta"] == pytest.approx(fit.params[d] * scale, abs=1e-10)
        assert r.loc[d, "p_value"] == pytest.approx(fit.pvalues[d], rel=1e-8)
        low, high = fit.conf_int(0.05).loc[d] * scale
        assert (r.loc[d, "beta_low"], r.loc[d, "beta_high"]) == pytest.approx((low, high))


def test_binary_outcome_uses_linear_probability_model_with_hc3():
    df = mtcars()
    r = key_drivers(df, "am", ["mpg", "cyl"], n_boot=0)
    z = (df - df.mean()) / df.std()
    fit = sm.OLS(z["am"], sm.add_constant(z[["mpg", "cyl"]])).fit(cov_type="HC3")
    t = r.table.set_index("driver")
    assert t.loc["mpg", "p_value"] == pytest.approx(fit.pvalues["mpg"], rel=1e-8)
    assert any("linear probability model" in n for n in r.notes)
    assert r.info["r_squared"] == pytest.approx(fit.rsquared, abs=1e-12)


# -- missing values ---------------------------------------------------------------------


def planted(n=400, seed=3, rho=0.3, b=(0.6, 0.4, 0.2)):
    s = np.full((3, 3), rho) + (1 - rho) * np.eye(3)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)) @ np.linalg.cholesky(s).T
    df = pd.DataFrame(x, columns=["a", "b", "c"])
    df["y"] = x @ np.array(b) + rng.standard_normal(n)
    return df


def test_complete_case_drops_and_reports_rows():
    df = planted()
    df.loc[:9, "a"] = np.nan
    df.loc[5:14, "c"] = np.nan
    df.loc[20, "y"] = np.nan
    r = key_drivers(df, "y", n_boot=0)
    assert r.info["n"] == 400 - 15 - 1 and r.info["dropped"] == 16
    assert any("15 of 399 row(s) with a missing driver dropped" in n for n in r.notes)
    assert any("1 of 400 row(s) without 'y' dropped" in n for n in r.notes)
    ref = key_drivers(df.dropna(), "y", n_boot=0)
    pd.testing.assert_frame_equal(r.table, ref.table)


def test_pairwise_matches_pandas_corr_and_equals_complete_without_gaps():
    df = planted()
    full = key_drivers(df, "y", n_boot=0)
    same = key_drivers(df, "y", n_boot=0, missing="pairwise")
    cols = ["beta", "lmg", "relative_weight"]
    np.testing.assert_allclose(same.table[cols], full.table[cols], atol=1e-12)
    gappy = df.copy()
    rng = np.random.default_rng(9)
    gappy[["a", "b", "c"]] = gappy[["a", "b", "c"]].mask(rng.random((400, 3)) < 0.3)
    r = key_drivers(gappy, "y", n_boot=0, missing="pairwise")
    R = gappy.corr().to_numpy()  # pandas: pairwise-complete Pearson
    beta = np.linalg.solve(R[:3, :3], R[:3, 3])
    got = r.table.set_index("driver").loc[["a", "b", "c"], "beta"]
    np.testing.assert_allclose(got, beta, atol=1e-12)
    counts = [int((gappy[u].notna() & gappy[v].notna()).sum()) for u, v in
              itertools.combinations(["a", "b", "c", "y"], 2)]  # fmt: skip
    assert (r.info["n_pair_min"], r.info["n_pair_max"]) == (min(counts), max(counts))
    assert any(f"n per pair from {min(counts)} to {max(counts)}" in n for n in r.notes)


def test_pairwise_too_few_shared_rows_names_pairs_and_a_fix():
    df = planted(n=200)
    df.loc[:189, "c"] = np.nan  # c shares only 10 rows with the others
    with pytest.raises(CjmError, match=r"a~c \(10\).*drivers=\['a', 'b'\]"):
        key_drivers(df, "y", missing="pairwise", n_boot=0)
    r = key_drivers(df, "y", missing="pairwise", n_boot=0, min_pair=5)
    assert r.info["n_pair_min"] == 10


def test_pairwise_inconsistent_correlations_are_refused():
    # each pair of drivers shares its own 20 rows: a ~ b and a ~ c nearly +1, b ~ c nearly -1,
    # which no single data set can produce (the pairwise matrix is not positive definite)
    rng = np.random.default_rng(0)
    u = rng.standard_normal((3, 20))
    e = 0.05 * rng.standard_normal((3, 20))
    nan = np.full(20, np.nan)
    df = pd.DataFrame(
        {
            "a": np.r_[u[0], u[1], nan],
            "b": np.r_[u[0] + e[0], nan, u[2]],
            "c": np.r_[nan, u[1] + e[1], -u[2] + e[2]],
            "y": rng.standard_normal(60),
        }
    )
    with pytest.raises(CjmError, match="correlations of 'a', 'b', 'c' contradict each other"):
        key_drivers(df, "y", missing="pairwise", n_boot=0)


# -- validation -------------------------------------------------------------------------


def test_validation_errors_name_the_columns():
    df = planted(n=30)
    with pytest.raises(MissingColumnError, match="'zz'"):
        key_drivers(df, "y", ["a", "zz"])
    with pytest.raises(MissingColumnError, match="outcome column 'nope'"):
        key_drivers(df, "nope")
    with pytest.raises(ColumnTypeError, match="'label'"):
        key_drivers(df.assign(label="x"), "y", ["a", "label"])
    with pytest.raises(CjmError, match=r"constant \(or empty\) column.*.k."):
        key_drivers(df.assign(k=4.0), "y", ["a", "k"])
    with pytest.raises(CjmError, match="need at least 5"):
        key_drivers(df.head(4), "y", ["a", "b", "c"])
    with pytest.raises(CjmError, match=r"drivers 'a', 'b', 'd' are \(almost\) perfectly collinear"):
        key_drivers(df.assign(d=df["a"] + 2 * df["b"]), "y", ["a", "b", "c", "d"])
    with pytest.raises(CjmError, match="outcome; remove it"):
        key_drivers(df, "y", ["a", "y"])


def test_default_drivers_skip_ids_and_text():
    df = planted(n=60).assign(customer_id=range(60), name="x")
    r = key_drivers(df, "y", n_boot=0)
    assert sorted(r.table["driver"]) == ["a", "b", "c"]
    assert any("customer_id" in n and "name" in n for n in r.notes)


def test_many_drivers_need_relative_weights():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.standard_normal((200, 13)), columns=[f"d{i}" for i in range(13)])
    df["y"] = df.sum(axis=1) + rng.standard_normal(200)
    with pytest.raises(CjmError, match="method='relative_weights'"):
        key_drivers(df, "y", n_boot=0)
    r = key_drivers(df, "y", n_boot=20, method="relative_weights")
    assert r.table["relative_weight"].sum() == pytest.approx(r.info["r_squared"], abs=1e-10)
    assert r.table["lmg"].isna().all() and r.table["rw_low"].notna().all()


# -- bootstrap and simulation -----------------------------------------------------------


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    df = planted(n=300)
    one = key_drivers(df, "y", n_boot=200, seed=5)
    two = key_drivers(df, "y", n_boot=200, seed=5)
    other = key_drivers(df, "y", n_boot=200, seed=6)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert not one.table["lmg_low"].equals(other.table["lmg_low"])
    t = one.table
    assert ((t["lmg_low"] <= t["lmg"]) & (t["lmg"] <= t["lmg_high"])).all()
    assert ((t["rw_low"] <= t["relative_weight"]) & (t["relative_weight"] <= t["rw_high"])).all()
    si = one.share_intervals.set_index("driver").loc[t["driver"]]
    assert (si["lmg_share_low"].to_numpy() <= t["lmg_share"].to_numpy()).all()


def test_simulation_ranking_recovered_and_intervals_cover():
    b, rho, n, reps = np.array([0.6, 0.4, 0.2]), 0.3, 600, 200
    s = np.full((3, 3), rho) + (1 - rho) * np.eye(3)
    R = np.ones((4, 4))
    R[:3, :3] = s
    R[:3, 3] = R[3, :3] = s @ b / np.sqrt(b @ s @ b + 1.0)
    pop_lmg, pop_rw = relimp.lmg(R), relimp.relative_weights(R)
    assert pop_lmg == pytest.approx([0.2424, 0.1407, 0.0686], abs=1e-4)
    rng = np.random.default_rng(2024)
    chol = np.linalg.cholesky(s)
    cover_lmg, cover_rw, ordered = np.zeros(3), np.zeros(3), 0
    for i in range(reps):
        x = rng.standard_normal((n, 3)) @ chol.T
        df = pd.DataFrame(x, columns=["a", "b", "c"]).assign(y=x @ b + rng.standard_normal(n))
        t = key_drivers(df, "y", n_boot=300, seed=i).table.set_index("driver")
        t = t.loc[["a", "b", "c"]]
        cover_lmg += (t["lmg_low"] <= pop_lmg) & (pop_lmg <= t["lmg_high"])
        cover_rw += (t["rw_low"] <= pop_rw) & (pop_rw <= t["rw_high"])
        ordered += list(t["rank"]) == [1, 2, 3]
    assert ordered / reps >= 0.95
    assert ((cover_lmg / reps >= 0.90) & (cover_lmg / reps <= 0.99)).all(), cover_lmg / reps
    assert ((cover_rw / reps >= 0.90) & (cover_rw / reps <= 0.99)).all(), cover_rw / reps


# -- rendering --------------------------------------------------------------------------


def test_result_renders_and_plots():
    r = key_drivers(mtcars(), "mpg", ["am", "vs", "cyl"], n_boot=100)
    assert r.summary().startswith("Key drivers of mpg (R² = 0.762, n = 32")
    assert "<table" in r._repr_html_() and "mpg" in repr(r)
    fig = r.plot()
    assert len(fig.axes[0].patches) == 3
    q = r.quadrant()
    assert q.set_index("driver").loc["cyl", "quadrant"] == "keep up the good work"
    assert q["importance"].sum() == pytest.approx(1.0)
    fig2 = r.plot("quadrant")
    assert fig2.axes[0].get_ylabel() == "importance (share of R²)"
    custom = r.quadrant({"am": 0.9, "vs": 0.1, "cyl": 0.2}).set_index("driver")
    assert custom.loc["cyl", "quadrant"] == "concentrate here"


# -- driver_table -----------------------------------------------------------------------


def small_feedback() -> tuple[pd.DataFrame, pd.DataFrame]:
    ts = pd.Timestamp("2024-01-01", tz="UTC")
    fb = pd.DataFrame(
        [
            ("a", 0, "website", "csat", 4),
            ("a", 1, "website", "csat", 2),
            ("a", 2, "call_centre", "csat", 5),
            ("a", 3, None, "nps", 3),
            ("a", 4, None, "nps", 9),
            ("b", 0, "call_centre", "csat", 1),
            ("b", 1, None, "csat", 5),
            ("c", 0, "mobile_app", "csat", 3),
            ("c", 1, None, "nps", 10),
        ],
        columns=["customer_id", "day", "touchpoint", "metric", "score"],
    )
    fb["timestamp"] = ts + pd.to_timedelta(fb.pop("day"), unit="D")
    ev = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c"],
            "event_type": ["conversion", "conversion", "interaction", "conversion", "x"],
        }
    )
    return fb, ev


def test_driver_table_touchpoints_nps_and_conversion():
    fb, ev = small_feedback()
    t = driver_table(fb, "nps", min_answers=1)
    assert list(t.columns) == ["customer_id", "call_centre", "mobile_app", "website", "nps"]
    row = t.set_index("customer_id")
    assert row.loc["a", "website"] == 3.0 and row.loc["a", "nps"] == 9.0  # mean; latest
    assert np.isnan(row.loc["b", "nps"])
    assert any("1 'csat' answer(s) without a touchpoint" in n for n in t.attrs["notes"])
    conv = driver_table(fb, "conversion", events=ev, min_answers=1).set_index("customer_id")
    assert conv["conversion"].to_dict() == {"a": 1, "b": 0, "c": 1}
    rep = driver_table(fb, "retention", events=ev, min_answers=1).set_index("customer_id")
    assert rep["retention"].to_dict() == {"a": 1, "b": 0, "c": 0}
    few = driver_table(fb, "nps", min_answers=2)
    assert list(few.columns) == ["customer_id", "call_centre", "nps"]
    assert any("mobile_app (1), website (1)" in n for n in few.attrs["notes"])


def test_driver_table_stages_use_the_catalog(catalog_dict):
    from cjm_core.model import JourneyCatalog

    fb, _ = small_feedback()
    for tp in catalog_dict["touchpoints"]:
        if tp["id"] == "call_centre":
            tp["stage"] = "discover"  # now website and call centre share a stage
    cat = JourneyCatalog.from_dict(catalog_dict)
    t = driver_table(fb, "nps", level="stage", catalog=cat, min_answers=1)
    assert list(t.columns) == ["customer_id", "discover", "use", "nps"]
    row = t.set_index("customer_id")
    assert row.loc["a", "discover"] == pytest.approx((4 + 2 + 5) / 3)  # mean of all answers
    assert row.loc["c", "use"] == 3.0 and np.isnan(row.loc["c", "discover"])
    with pytest.raises(CjmError, match="needs catalog"):
        driver_table(fb, "nps", level="stage")
    with pytest.raises(CjmError, match="needs events"):
        driver_table(fb, "conversion", min_answers=1)
    with pytest.raises(CjmError, match=r"\['kiosk'\] are not in catalog"):
        driver_table(fb.replace({"touchpoint": {"website": "kiosk"}}), level="stage", catalog=cat)


# -- synthetic banking data -------------------------------------------------------------


def test_banking_conversion_on_touchpoint_csat():
    from cjm_banking.generator import catalog, generate

    data = generate(customers=3000, seed=7)
    fb, ev = data.tables["feedback"], data.tables["events"]
    table = driver_table(fb, "conversion", events=ev, catalog=catalog())
    assert "call_centre" in table.attrs["drivers"]
    # customers rarely rate two touchpoints: the default pairwise check refuses and names
    # a set of drivers that does share enough rows
    with pytest.raises(CjmError, match=r"min_pair=20") as err:
        key_drivers(table, "conversion", missing="pairwise")
    keep = ast.literal_eval(str(err.value).split("drivers=")[1].split("]")[0] + "]")
    assert "call_centre" in keep and len(keep) < len(table.attrs["drivers"])
    r = key_drivers(table, "conversion", keep, missing="pairwise", n_boot=300)
    t = r.table
    assert t["lmg"].sum() == pytest.approx(r.info["r_squared"], abs=1e-10)
    assert t["relative_weight"].sum() == pytest.approx(r.info["r_squared"], abs=1e-10)
    assert r.info["r_squared"] < 0.1  # CSAT explains little of who converts in this world
    assert r.info["n_pair_min"] >= 20
    assert t.set_index("driver").loc["call_centre", "n"] == t["n"].max()
    assert any("linear probability model" in n for n in r.notes)


def test_sparse_drop_leaves_out_the_driver_in_most_thin_pairs():
    rng = np.random.default_rng(4)
    n = 300
    a, b = rng.normal(size=n), rng.normal(size=n)
    c = np.where(np.arange(n) < 10, rng.normal(size=n), np.nan)  # answered by 10 rows only
    df = pd.DataFrame({"a": a, "b": b, "c": c, "y": a + 0.5 * b + rng.normal(size=n)})
    with pytest.raises(CjmError, match="too few for"):
        key_drivers(df, "y", missing="pairwise", n_boot=0)
    r = key_drivers(df, "y", missing="pairwise", n_boot=0, sparse="drop")
    assert r.table["driver"].tolist() == ["a", "b"]
    assert any("left out for too few shared answers" in n and "'c'" in n for n in r.notes)
    full = key_drivers(df.drop(columns="c"), "y", missing="pairwise", n_boot=0)
    assert r.info["r_squared"] == pytest.approx(full.info["r_squared"])
