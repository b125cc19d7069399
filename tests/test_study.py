"""BeforeAfterStudy: the spec, the windows, designs, checks, corrections, ROI, planted truth."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cjm_core.bundle import load_bundle
from cjm_core.errors import StudyError
from cjm_core.stats import adjust_pvalues, two_proportions
from cjm_core.study_metrics import metric_units
from cjm_core.study_spec import BeforeAfterStudy

DATE = "2024-04-01"


@pytest.fixture(scope="module")
def banking():
    from cjm_banking.generator import generate

    data = generate(customers=4000, seed=7)
    return load_bundle(data.tables, template="banking"), data.truth


def study(**kwargs):
    base = {"touchpoints": ["call_centre"], "intervention": DATE, "metrics": ["conversion"]}
    return BeforeAfterStudy(**{**base, **kwargs})


# -- the spec ------------------------------------------------------------------------------


def test_windows_with_pre_post_and_washout():
    s = study(pre="10D", post="5D", washout="2D")
    times = pd.Series(
        pd.to_datetime(
            ["2024-03-21", "2024-03-22", "2024-03-31 23:59", "2024-04-01", "2024-04-02 23:00",
             "2024-04-03", "2024-04-07 23:59", "2024-04-08"], utc=True, format="ISO8601",
        )
    )  # fmt: skip
    assert s.periods(times, "call_centre").tolist() == [
        None, "before", "before", None, None, "after", "after", None,
    ]  # fmt: skip
    everything = study().periods(times, "call_centre").tolist()
    assert everything == ["before"] * 3 + ["after"] * 5


def test_dates_per_touchpoint_and_costs():
    s = study(
        touchpoints=["call_centre", "branch"],
        intervention={"call_centre": "2024-04-01", "branch": "2024-05-01"},
        cost=1000,
    )
    assert s.date_of("branch") == pd.Timestamp("2024-05-01", tz="UTC")
    assert s.date_of("atm") == pd.Timestamp("2024-04-01", tz="UTC")  # a control: earliest
    assert s.cost_of("branch") == 500.0  # one cost shared equally
    assert study(cost={"call_centre": 70}).cost_of("call_centre") == 70.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"design": "rct"}, "design='rct'"),
        ({"correction": "sidak"}, "correction"),
        ({"family": "planet"}, "family"),
        ({"controls": ["call_centre"]}, "both changed"),
        ({"intervention": {"branch": DATE}}, "missing \\['call_centre'\\]"),
        ({"intervention": "soon"}, "not a date"),
        ({"pre": "a while"}, "not a duration"),
        ({"post": "-3D"}, "positive"),
        ({"alpha": 1.5}, "alpha"),
        ({"design": "did"}, "needs control touchpoints"),
        ({"metrics": []}, "at least one"),
        ({"touchpoints": ["a", "a"]}, "twice"),
        ({"min_its_periods": 1}, "min_its_periods"),
    ],
)
def test_bad_specs_are_clear_errors(kwargs, message):
    with pytest.raises(StudyError, match=message):
        study(**kwargs)


def test_from_dict_refuses_unknown_settings():
    spec = {"touchpoints": ["call_centre"], "intervention": DATE, "colour": "red"}
    with pytest.raises(StudyError, match="Unknown study setting.*colour"):
        BeforeAfterStudy.from_dict(spec)
    plain = BeforeAfterStudy.from_dict({"touchpoints": "call_centre", "intervention": DATE})
    assert plain.touchpoints == ["call_centre"] and plain.metrics == ["conversion", "csat"]


def test_unknown_touchpoint_metric_or_breakdown(banking):
    bundle, _ = banking
    with pytest.raises(StudyError, match="Unknown touchpoint"):
        study(touchpoints=["teleporter"]).run(bundle)
    with pytest.raises(StudyError, match="Unknown metric"):
        study(metrics=["happiness"]).run(bundle)
    with pytest.raises(StudyError, match="breakdown='shoe_size'"):
        study(breakdown="shoe_size", design="before_after").run(bundle)


# -- the numbers -----------------------------------------------------------------------------


def test_plain_rows_are_the_tests_of_the_units_and_holm_within_the_study(banking):
    bundle, _ = banking
    result = study(metrics=["conversion", "drop_off"], design="before_after").run(bundle)
    table = result.to_frame().set_index("metric")
    raw = []
    for metric in ("conversion", "drop_off"):
        units = metric_units(bundle, metric, "call_centre")
        before = units.loc[units["time"] < pd.Timestamp(DATE, tz="UTC"), "value"]
        after = units.loc[units["time"] >= pd.Timestamp(DATE, tz="UTC"), "value"]
        test = two_proportions(int(before.sum()), len(before), int(after.sum()), len(after))
        row = table.loc[metric]
        assert (row["n_before"], row["n_after"]) == (len(before), len(after))
        assert row["before"] == pytest.approx(before.mean())
        assert row["estimate"] == pytest.approx(after.mean() - before.mean())
        assert [row["ci_low"], row["ci_high"], row["p_value"]] == pytest.approx(
            [test.ci_low, test.ci_high, test.p_value]
        )
        raw.append(test.p_value)
    # Holm over the two comparisons, by hand
    lo, hi = sorted(raw)
    expected = {min(raw): min(1, 2 * lo), max(raw): max(min(1, 2 * lo), hi)}
    assert table["p_adjusted"].tolist() == pytest.approx([expected[p] for p in raw])
    assert (table["design"] == "before_after").all()


def test_planted_effects_are_recovered_before_after(banking):
    bundle, truth = banking
    result = study(metrics=["conversion", "csat", "wait_time"], design="before_after").run(bundle)
    table = result.to_frame().set_index("metric")
    for metric in ("conversion", "csat"):
        planted = truth["effects"][metric]["difference"]
        row = table.loc[metric]
        assert row["ci_low"] <= planted <= row["ci_high"], (metric, row)
        assert row["verdict"] == "better" and row["significant"]
    wait = table.loc["wait_time"]  # a shorter wait is better
    assert wait["estimate"] < 0 and wait["verdict"] == "better" and wait["kind"] == "skewed"
    assert not wait["higher_is_better"]


def test_difference_in_differences_with_controls(banking):
    bundle, truth = banking
    result = study(controls=["search_ads", "email"]).run(bundle)
    row = result.to_frame().iloc[0]
    assert row["design"] == "did" and row["method"].startswith("Difference-in-differences")
    assert row["ci_low"] <= truth["effects"]["conversion"]["difference"] <= row["ci_high"]
    design = result.result("call_centre", "conversion")["design"]
    assert "search_ads, email" in design.why
    # control journeys that also went through the call centre are not controls
    controls = design.data[design.data["group"] != "treated"]
    assert not set(controls["unit"]) & set(
        design.data.loc[design.data["group"] == "treated", "unit"]
    )
    checks = result.checks.set_index("check")
    assert checks.loc["pre-trend", "status"] in ("ok", "warning")
    assert "per W-period" in checks.loc["pre-trend", "detail"]
    assert checks.loc["seasonality", "status"] == "ok"


def test_csat_falls_back_when_controls_have_no_answers(banking):
    bundle, _ = banking
    result = study(metrics=["csat"], controls=["search_ads"], design="did").run(bundle)
    row = result.to_frame().iloc[0]
    assert row["design"] == "before_after"
    assert "cannot be measured on csat" in result.result("call_centre", "csat")["design"].why


def test_breakdown_widens_the_family(banking):
    bundle, _ = banking
    alone = study(design="before_after").run(bundle).to_frame()
    split = study(design="before_after", breakdown="persona").run(bundle)
    table = split.to_frame()
    personas = sorted(bundle.customers["persona"].unique())
    assert table["segment"].tolist() == ["all", *personas]
    overall = table[table["segment"] == "all"].iloc[0]
    assert overall["p_value"] == pytest.approx(alone["p_value"].iloc[0])
    assert overall["p_adjusted"] >= alone["p_adjusted"].iloc[0]
    assert table["p_adjusted"].tolist() == pytest.approx(
        adjust_pvalues(table["p_value"].to_numpy(), "holm").tolist()
    )
    # each persona row counts only that persona's units
    assert table.loc[table["segment"] != "all", "n_before"].sum() == overall["n_before"]
    assert "per-persona rows" in split.notes[0]


def test_roi_from_incremental_conversions(banking):
    bundle, _ = banking
    result = study(design="before_after", cost=5_000, value_per_conversion=100).run(bundle)
    row = result.to_frame().iloc[0]
    roi = result.roi.iloc[0]
    extra = row["estimate"] * row["n_after"]
    assert roi["incremental_conversions"] == pytest.approx(extra)
    assert roi["incremental_value"] == pytest.approx(extra * 100)
    assert roi["roi"] == pytest.approx((extra * 100 - 5_000) / 5_000)
    assert roi["roi_low"] == pytest.approx((row["ci_low"] * row["n_after"] * 100 - 5_000) / 5_000)
    assert "ROI" in roi["text"]
    no_cost = study(design="before_after").run(bundle).roi.iloc[0]
    assert math.isnan(no_cost["roi"]) and "no cost given" in no_cost["text"]
    assert no_cost["value_per_conversion"] == pytest.approx(
        bundle.events.loc[bundle.events["event_type"] == "conversion", "value"].mean()
    )


def test_checks_and_summary(banking):
    bundle, _ = banking
    result = study(metrics=["conversion", "csat"], design="before_after", washout="7D").run(bundle)
    checks = result.checks
    assert set(checks["check"]) == {
        "observations", "volume", "mix", "pre-trend", "seasonality", "novelty",
        "history adjustment",
    }  # fmt: skip
    assert set(checks["status"]) <= {"ok", "warning", "not run"}
    seasonality = checks[checks["check"] == "seasonality"]
    assert (seasonality["status"] == "warning").all()  # six months, windows in other months
    observed = checks[checks["check"] == "observations"].iloc[0]["detail"]
    assert "outside the windows or in the washout" in observed and "before" in observed
    text = result.summary()
    assert "conversion at call_centre rose" in text and "verdict: better" in text
    assert "Checks that need attention" in text and "ROI:" in text
    html = result._repr_html_()
    assert "<table" in html and "Checks" in html
    fig = result.plot()
    assert len(fig.axes) == 2


def test_too_few_observations_is_a_clear_error(banking):
    bundle, _ = banking
    with pytest.raises(StudyError, match="Too few observations"):
        study(pre="1h", post="1h", design="before_after").run(bundle)


def test_truth_comparison_and_headline(banking):
    bundle, truth = banking
    result = study(metrics=["conversion", "csat", "drop_off"], design="before_after").run(bundle)
    compared = result.compare_truth(truth).set_index("metric")
    assert compared.loc["conversion", "covered"] and compared.loc["conversion", "detected"]
    assert compared.loc["csat", "true_difference"] == pytest.approx(0.81)
    assert pd.isna(compared.loc["drop_off", "covered"])  # nothing planted for drop-off
    assert "detected: 2 of 2" in result.truth_report(truth)
    figures = result.headline(truth)
    assert set(figures) == {"call_centre.conversion", "call_centre.csat", "call_centre.drop_off"}
    conv = figures["call_centre.conversion"]
    assert conv["covered"] is True and conv["truth_difference"] == pytest.approx(0.08)
    assert isinstance(conv["n_before"], int) and conv["design"] == "before_after"
    assert figures["call_centre.drop_off"]["covered"] is None


def test_forest_plot_colours_each_verdict(banking):
    bundle, _ = banking
    result = study(metrics=["csat", "drop_off"], design="before_after", breakdown="persona")
    fig = result.run(bundle).plot()
    colours = {tuple(line.get_color()) if not isinstance(line.get_color(), str) else
               line.get_color() for ax in fig.axes for line in ax.get_lines()}  # fmt: skip
    assert "#1b9e77" in colours and "#7f7f7f" in colours  # better and no clear change


def _units(rng, effect, n_customers=400, rho=0.8):
    """Each customer has one unit before and one after; history predicts the value."""
    import numpy as np

    h = rng.normal(0, 1, size=(n_customers, 2))
    noise = rng.normal(0, 1, size=(n_customers, 2))
    value = rho * h + math.sqrt(1 - rho**2) * noise + np.array([0.0, effect])
    return pd.DataFrame({
        "customer_id": np.repeat([f"c{i}" for i in range(n_customers)], 2),
        "period": ["before", "after"] * n_customers,
        "value": value.ravel(), "history": h.ravel(), "history_complete": True,
    })  # fmt: skip


def test_history_adjustment_cuts_the_variance_and_stays_unbiased():
    import numpy as np

    from cjm_core.study_run import adjust_for_history, compare

    rng = np.random.default_rng(5)
    units = _units(rng, effect=0.2)
    adjusted = adjust_for_history(units, "mean", 0.05)
    plain = compare(units, "mean", 0.05)
    # the history explains rho^2 = 64% of the variance: the standard error shrinks by ~0.6
    assert adjusted["variance_reduction"] == pytest.approx(0.64, abs=0.08)
    assert adjusted["ci_high"] - adjusted["ci_low"] < 0.7 * (plain.ci_high - plain.ci_low)
    assert adjusted["ci_low"] <= 0.2 <= adjusted["ci_high"] and adjusted["n"] == 800
    # no effect: the adjusted test rejects at about alpha over 400 studies (2 SE: +-2.2 pts)
    rejected = [
        adjust_for_history(_units(rng, effect=0.0, n_customers=100), "mean", 0.05)["p_value"] < 0.05
        for _ in range(400)
    ]
    assert 0.025 <= np.mean(rejected) <= 0.08


def test_history_adjustment_is_skipped_with_a_reason():
    import numpy as np

    from cjm_core.study_run import adjust_for_history, history_sample

    units = _units(np.random.default_rng(1), effect=0.0, n_customers=50)
    assert history_sample(units, "skewed")[0] is None
    assert "regression on means" in history_sample(units, "skewed")[1]
    one_each = units.assign(customer_id=[f"c{i}" for i in range(100)])  # nobody in both
    data, why = history_sample(one_each, "mean")
    assert data is None and "0.0% of the customers" in why
    cut = units.assign(history_complete=units["period"] == "after")
    assert "full history window" in history_sample(cut, "mean")[1]
    assert adjust_for_history(one_each, "mean", 0.05) is None


def _weekly_units(rng, slope_per_week, weeks=26, per_day=40):
    import numpy as np

    days = pd.date_range("2024-01-01", periods=weeks * 7, freq="D", tz="UTC")
    times = days.repeat(per_day) + pd.to_timedelta(
        rng.integers(0, 86_400, len(days) * per_day), "s"
    )
    week = (times - days[0]).days / 7
    p = np.clip(0.3 + slope_per_week * week, 0.01, 0.99)
    units = pd.DataFrame({"time": times, "value": (rng.random(len(times)) < p).astype(float),
                          "customer_id": "c"})  # fmt: skip
    return units


def test_auto_picks_a_time_series_only_when_the_metric_trends_before_the_change():
    import numpy as np

    from cjm_core.study_design import choose_design
    from cjm_core.study_run import compare

    rng = np.random.default_rng(2)
    s = study(intervention="2024-04-01")  # 13 weeks on each side
    for slope, expected in ((0.012, "its"), (0.0, "before_after")):
        units = _weekly_units(rng, slope)
        units["period"] = s.periods(units["time"], "call_centre")
        design = choose_design(
            s, None, "call_centre", "conversion", units, compare(units, "proportion", 0.05)
        )
        assert design.name == expected, design.why
    assert "no trend before the change" in design.why and "p = " in design.why
    forced = study(design="its")
    design = choose_design(
        forced, None, "call_centre", "conversion", units, compare(units, "proportion", 0.05)
    )
    assert design.name == "its" and design.series is not None and len(design.series) == 26
    # a trend that simply continues: the time series finds no level change, a plain
    # before/after comparison would report the trend as an effect
    trending = _weekly_units(rng, 0.012)
    trending["period"] = s.periods(trending["time"], "call_centre")
    plain = compare(trending, "proportion", 0.05)
    its = choose_design(s, None, "call_centre", "conversion", trending, plain)
    assert plain.ci_low > 0.1 and its.test.ci_low <= 0 <= its.test.ci_high


def test_summary_says_when_the_design_estimate_differs_from_the_raw_move(banking):
    bundle, _ = banking
    result = study(controls=["search_ads", "email"]).run(bundle)
    row = result.to_frame().iloc[0]
    line = result.summary().splitlines()[1]
    raw = "rose" if row["after"] > row["before"] else "fell"
    assert f"conversion at call_centre {raw} from" in line
    assert "the difference-in-differences puts the change at" in line
