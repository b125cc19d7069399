"""KPI control charts: hand-computed limits, the Western Electric rules, simulated shifts and
false alarms, the planted call-centre fix of the banking demo, bad input."""

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from cjm_core.errors import CjmError
from cjm_core.viz.control import control_chart, control_chart_from_counts

WEEKS = "2024-01-01..2024-03-31"  # the banking demo's weeks before the fix of 2024-04-01


# -- hand-computed limits -------------------------------------------------------------------


def test_p_chart_limits_by_hand():
    counts = pd.DataFrame(
        {"period": ["w1", "w2", "w3", "w4"], "successes": [10, 15, 20, 5], "n": [100, 100, 200, 50]}
    )
    t = control_chart_from_counts(counts, kpi="conversion").to_frame()
    # p-bar = 50 / 450 = 1/9; sigma_i = sqrt(1/9 * 8/9 / n_i): 0.031427, 1/45, 2/45
    assert t["centre"].tolist() == pytest.approx([1 / 9] * 4)
    assert t["value"].tolist() == pytest.approx([0.10, 0.15, 0.10, 0.10])
    assert t["ucl"].tolist() == pytest.approx(
        [0.2053920, 0.2053920, 1 / 9 + 3 / 45, 1 / 9 + 6 / 45], abs=1e-7
    )
    # n = 50: 1/9 - 6/45 = -0.0222 is clipped to 0
    assert t["lcl"].tolist() == pytest.approx([0.0168302, 0.0168302, 1 / 9 - 3 / 45, 0.0], abs=1e-7)
    assert (t["signal"] == "").all() and t["baseline"].all()


def test_xbar_limits_by_hand():
    counts = pd.DataFrame(
        {"period": [1, 2, 3], "mean": [10.0, 12.0, 11.0], "sd": [2.0, 3.0, 1.0], "n": [5, 10, 4]}
    )
    chart = control_chart_from_counts(counts, kpi="wait")
    t = chart.to_frame()
    # centre = (5*10 + 10*12 + 4*11) / 19; pooled sd = sqrt((4*4 + 9*9 + 3*1) / 16) = 2.5
    assert chart.info["centre"] == pytest.approx(214 / 19)
    assert chart.info["sigma"] == pytest.approx(2.5)
    half = 3 * 2.5 / np.sqrt([5, 10, 4])
    assert t["ucl"].to_numpy() == pytest.approx(214 / 19 + half)
    assert t["lcl"].to_numpy() == pytest.approx(214 / 19 - half)
    assert "pooled within-period sd" in chart.summary()


def test_xbar_from_events_matches_direct_computation():
    rng = np.random.default_rng(3)
    stamps = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        rng.uniform(0, 28 * 86400, 300), unit="s"
    )
    ev = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(300)],
            "timestamp": stamps,
            "touchpoint": rng.choice(["call", "web"], 300),
            "event_type": "interaction",
            "duration_s": rng.gamma(2.0, 100.0, 300),
        }
    )
    chart = control_chart(ev, "wait_time", touchpoint="call", baseline=2)
    call = ev[ev["touchpoint"] == "call"]
    week = (call["timestamp"] - pd.Timestamp("2024-01-01", tz="UTC")).dt.days // 7
    g = call.groupby(week)["duration_s"]
    first = call[week < 2]["duration_s"]
    pooled = np.sqrt(
        sum((len(x) - 1) * x.var() for _, x in first.groupby(week[week < 2])) / (len(first) - 2)
    )
    t = chart.to_frame()
    assert t["value"].to_numpy() == pytest.approx(g.mean().to_numpy())
    assert t["n"].tolist() == g.size().tolist()
    assert chart.info["centre"] == pytest.approx(first.mean())
    assert chart.info["sigma"] == pytest.approx(pooled)
    assert t["baseline"].tolist() == [True, True, False, False]


# -- the rules ------------------------------------------------------------------------------


def test_rules_fire_where_expected_and_empty_periods_are_kept():
    # baseline: 10 periods at +-0.5 with n = 4 and sd = 2 -> centre 0, sigma_i = 1
    means = [0.5, -0.5] * 5 + [0.5] * 4 + [np.nan] + [0.5] * 4 + [-0.5, 2.5, 0.3, 2.2, -3.5, -2.5]
    means += [2.5, 1.8, 0.0, 2.1]  # 1.8 is within 2 sigma; 2.1 has no partner in its 3
    n = [0 if np.isnan(m) else 4 for m in means]
    counts = pd.DataFrame({"period": range(len(means)), "mean": means, "sd": 2.0, "n": n})
    chart = control_chart_from_counts(counts, baseline=10)
    t = chart.to_frame()
    assert chart.info["centre"] == pytest.approx(0.0) and chart.info["sigma"] == 2.0
    expected = {
        18: "run of 8 above centre",
        22: "2 of 3 beyond 2σ above",
        23: "below LCL",
        24: "2 of 3 beyond 2σ below",
    }
    assert {i: s for i, s in enumerate(t["signal"]) if s} == expected
    assert t.loc[14, "n"] == 0 and math.isnan(t.loc[14, "value"])  # kept, not dropped
    assert any("1 period(s) without data" in note for note in chart.notes)
    assert len(chart.signals) == 4


def test_planted_shift_in_a_proportion_is_flagged_soon_after():
    rng = np.random.default_rng(11)
    n = rng.poisson(300, 30)
    p = np.where(np.arange(30) < 19, 0.20, 0.28)  # week 20 (index 19) jumps by 8 points
    counts = pd.DataFrame(
        {
            "period": pd.period_range("2024-01-01", periods=30, freq="W"),
            "successes": rng.binomial(n, p),
            "n": n,
        }
    )
    t = control_chart_from_counts(counts, baseline="2024-01-01..2024-05-06").to_frame()
    assert t["baseline"].sum() == 19
    flagged = np.flatnonzero(t["signal"] != "")
    assert flagged.size and 19 <= flagged[0] <= 21
    assert (t["signal"][:19] == "").all()


def test_planted_shift_in_mean_wait_from_events():
    rng = np.random.default_rng(5)
    rows = []
    for week in range(30):
        median = 300.0 if week < 19 else 200.0
        k = 40
        start = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(weeks=week)
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": [f"c{week}_{i}" for i in range(k)],
                    "timestamp": start
                    + pd.to_timedelta(rng.uniform(0, 7 * 86400 - 1, k), unit="s"),
                    "touchpoint": "desk",
                    "event_type": "interaction",
                    "duration_s": median * rng.lognormal(0.0, 0.5, k),
                }
            )
        )
    chart = control_chart(
        pd.concat(rows, ignore_index=True), "wait_time", touchpoint="desk", baseline=19
    )
    t = chart.to_frame()
    flagged = np.flatnonzero(t["signal"] != "")
    assert flagged.size and 19 <= flagged[0] <= 21
    assert (t["signal"][:19] == "").all()
    assert "below LCL" in t["signal"][flagged[0]]


def test_false_alarm_rate_of_stable_processes_is_near_nominal():
    rng = np.random.default_rng(2024)
    n = np.full(200, 500)
    counts = pd.DataFrame({"period": range(200), "successes": rng.binomial(n, 0.2), "n": n})
    t = control_chart_from_counts(counts).to_frame()
    beyond = t["signal"].str.contains("CL").mean()
    assert 0 <= beyond <= 0.01
    # 5000 periods of 5 normal answers: the rate of points beyond 3 sigma is ~0.27%
    x = rng.normal(10.0, 2.0, (5000, 5))
    means = pd.DataFrame({"period": range(5000), "mean": x.mean(1), "sd": x.std(1, ddof=1), "n": 5})
    t = control_chart_from_counts(means).to_frame()
    rate = t["signal"].str.contains("CL").mean()
    assert 0.001 <= rate <= 0.005, rate


# -- the banking demo: the call-centre fix of 2024-04-01 -----------------------------------


@pytest.fixture(scope="module")
def bank():
    from cjm_banking.generator import generate

    return generate(customers=3000, seed=7)


def test_banking_wait_time_drop_is_flagged_in_the_first_week(bank):
    ev = bank.tables["events"]
    chart = control_chart(ev, "wait_time", touchpoint="call_centre", baseline=WEEKS)
    t = chart.to_frame()
    before = ev[
        (ev["touchpoint"] == "call_centre")
        & (ev["timestamp"] < pd.Timestamp("2024-04-01", tz="UTC"))
    ]
    assert chart.info["centre"] == pytest.approx(before["duration_s"].mean())
    assert t["baseline"].sum() == 13 and (t["signal"][t["baseline"]] == "").all()
    first = t[t["signal"] != ""].iloc[0]
    assert str(first["period"]) == "2024-04-01/2024-04-07" and "below LCL" in first["signal"]
    assert (t["signal"][~t["baseline"]].str.contains("below LCL")).all()


def test_banking_csat_rise_is_flagged_in_the_second_week(bank):
    chart = control_chart(bank.tables["feedback"], "csat", touchpoint="call_centre", baseline=WEEKS)
    t = chart.to_frame()
    assert chart.info["centre"] == pytest.approx(2.9034, abs=1e-4)  # planted: 2.84 before
    assert (t["signal"][t["baseline"]] == "").all()
    first = t[t["signal"] != ""].iloc[0]
    assert str(first["period"]) == "2024-04-08/2024-04-14"
    assert first["signal"] == "2 of 3 beyond 2σ above"
    assert t["signal"][~t["baseline"]].str.contains("above").sum() == 12  # of 13 weeks


def test_banking_conversion_p_chart_and_plot(bank):
    chart = control_chart(
        bank.tables["events"], "conversion", touchpoint="call_centre", baseline=WEEKS
    )
    t = chart.to_frame()
    assert list(t.columns) == ["period", "n", "value", "centre", "lcl", "ucl", "signal", "baseline"]
    assert t["n"].sum() == 1499 and (t["signal"][t["baseline"]] == "").all()
    assert (t["signal"][~t["baseline"]] != "").sum() >= 1
    assert (t["lcl"] >= 0).all() and (t["ucl"] <= 1).all()

    import matplotlib.pyplot as plt

    open_before = plt.get_fignums()  # other tests may leave pyplot figures open
    fig = chart.plot()
    assert plt.get_fignums() == open_before  # not created through pyplot
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    assert "Conversion" in ax.get_title() and "call_centre" in ax.get_title()
    red = [c for c in ax.collections if c.get_label() == "signal"][0]
    assert len(red.get_offsets()) == len(chart.signals)
    assert "<strong>" in chart._repr_html_() and "baseline: periods starting" in chart.summary()


def test_nps_is_scored_per_answer_in_points():
    fb = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "metric": "nps",
            "timestamp": pd.to_datetime(["2024-01-03"] * 3 + ["2024-02-05"] * 3, utc=True),
            "score": [10, 9, 3, 8, 6, 10],
        }
    )
    t = control_chart(fb, "nps", period="M").to_frame()
    assert t["value"].tolist() == pytest.approx([100 / 3, 0.0])  # (2-1)/3, (1-1)/3
    assert t["centre"][0] == pytest.approx(100 / 6)


# -- bad input --------------------------------------------------------------------------------


def _events():
    return pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "touchpoint": ["web", "call"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-09"], utc=True),
            "event_type": "interaction",
            "duration_s": [1.0, 2.0],
        }
    )


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kpi": "revenue"}, "'revenue'"),
        ({"kpi": "wait_time", "touchpoint": "branch"}, "'branch'"),
        ({"kpi": "wait_time", "period": "fortnight"}, "'fortnight'"),
        ({"kpi": "wait_time", "baseline": 9}, "baseline=9"),
        ({"kpi": "wait_time", "baseline": "2023-01-01..2023-02-01"}, "contains none"),
        ({"kpi": "csat"}, "'metric'"),
    ],
)
def test_bad_input_names_what_is_wrong(kwargs, needle):
    with pytest.raises(CjmError, match=needle.replace("(", r"\(")):
        control_chart(_events(), **kwargs)


def test_bad_counts_name_column_and_rows():
    with pytest.raises(CjmError, match=r"'successes'.*rows \[1\]"):
        control_chart_from_counts(
            pd.DataFrame({"period": [1, 2], "successes": [1, 9], "n": [5, 5]})
        )
    with pytest.raises(CjmError, match="date-range baseline"):
        control_chart_from_counts(
            pd.DataFrame({"period": ["a", "b"], "successes": [1, 2], "n": [5, 5]}),
            baseline="2024-01-01..",
        )


def test_empty_weeks_from_events_are_kept_and_catalog_names_the_touchpoint():
    from cjm_core.model import JourneyCatalog

    cat = JourneyCatalog.from_dict({
        "stages": [{"id": "s", "name": "S"}], "channels": [{"id": "phone", "name": "Phone"}],
        "touchpoints": [{"id": "call", "name": "Call centre", "channel": "phone", "stage": "s",
                         "kind": "assisted"},
                        {"id": "desk", "name": "Desk", "channel": "phone", "stage": "s",
                         "kind": "assisted"}]})  # fmt: skip
    ev = pd.DataFrame(
        {
            "customer_id": list("abcd"),
            "touchpoint": "call",
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-15", "2024-01-16"], utc=True
            ),
            "event_type": ["interaction", "conversion", "interaction", "interaction"],
            "duration_s": [60.0, np.nan, 90.0, 30.0],
        }
    )
    chart = control_chart(ev, "wait_time", touchpoint="call", catalog=cat)
    t = chart.to_frame()
    assert t["n"].tolist() == [1, 0, 2] and math.isnan(t["value"][1])
    assert t["value"][2] == 60.0 and chart.info["centre"] == 60.0
    assert "Call centre (call)" in chart.title
    assert any("1 of 4 events without a duration_s" in note for note in chart.notes)
    conv = control_chart(ev, "conversion", gap="1h").to_frame()
    assert conv["n"].tolist() == [2, 0, 2] and conv["value"][0] == 0.5
    with pytest.raises(CjmError, match="'desk'.*although the catalog defines it"):
        control_chart(ev, "wait_time", touchpoint="desk", catalog=cat)


# -- real data (skipped without ../shared/data/real) -------------------------------------------


def test_olist_monthly_review_scores_as_csat():
    import os
    from pathlib import Path

    real = Path(
        os.environ.get(
            "CJM_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
        )
    )
    path = real / "olist_ecommerce_sample" / "olist_order_reviews_dataset.csv"
    if not path.is_file():
        pytest.skip(f"real data {path} is absent (set CJM_REAL_DATA)")
    r = pd.read_csv(path, usecols=["order_id", "review_score", "review_creation_date"])
    local = pd.to_datetime(r["review_creation_date"]).dt.tz_localize("America/Sao_Paulo")
    fb = pd.DataFrame(
        {
            "customer_id": r["order_id"],
            "timestamp": local,
            "metric": "csat",
            "score": r["review_score"],
        }
    )
    chart = control_chart(fb, "csat", period="M", baseline="2017-01-01..2017-12-31")
    t = chart.to_frame().set_index(chart.to_frame()["period"].astype(str))
    month = local.dt.tz_convert("UTC").dt.strftime("%Y-%m")
    direct = r.groupby(month)["review_score"].mean()
    assert t.loc[direct.index, "value"].to_numpy() == pytest.approx(direct.to_numpy())
    base = r[month.between("2017-01", "2017-12")]["review_score"]
    assert chart.info["centre"] == pytest.approx(base.mean())
    assert "below LCL" in t.loc["2018-03", "signal"]  # the dip of March 2018
