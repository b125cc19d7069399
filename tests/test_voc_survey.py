"""Survey metrics per group with hand-computed answers; comparisons; trends; bad input."""

import math

import numpy as np
import pandas as pd
import pytest

from cjm_core.errors import CjmError
from cjm_core.voc.survey import compare_scores, score_trend, survey_metrics


def _fb(scores, metric="nps", **cols):
    n = len(scores)
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "timestamp": pd.Timestamp("2024-01-15", tz="UTC"),
        "metric": metric, "score": scores, **cols,
    })  # fmt: skip


def test_nps_per_group_has_the_proper_variance():
    fb = _fb(
        [10, 9, 9, 8, 7, 6, 3, 10, 9, 5] + [10, 10, 0, 0], touchpoint=["web"] * 10 + ["call"] * 4
    )
    t = survey_metrics(fb, "nps", by="touchpoint").to_frame().set_index("touchpoint")
    web = t.loc["web"]
    # 5 promoters, 3 detractors of 10: NPS 20; variance of +1/0/-1 scores .5+.3-.2**2 = .76
    assert web["estimate"] == pytest.approx(20.0)
    assert web["std_error"] == pytest.approx(100 * math.sqrt(0.76 / 10))
    assert web["ci_low"] == pytest.approx(20 - 1.959964 * 100 * math.sqrt(0.076), abs=1e-4)
    assert (web["share_top"], web["share_bottom"]) == (0.5, 0.3)
    call = t.loc["call"]  # 2 promoters, 2 detractors: 0, variance 1
    assert call["estimate"] == 0 and call["std_error"] == pytest.approx(50.0)


def test_csat_top_two_box_and_mean_per_stage_and_persona():
    from cjm_banking.generator import catalog

    fb = _fb([5, 4, 2, 1, 3, 5], "csat", touchpoint=["call_centre"] * 3 + ["branch"] * 3,
             customer_id=list("abcdef"))  # fmt: skip
    customers = pd.DataFrame({"customer_id": list("abcdef"), "persona": list("xxyyyx")})
    stage = survey_metrics(fb, "csat", by="stage", catalog=catalog()).to_frame()
    assert stage["stage"].tolist() == ["consideration"]  # both are consideration touchpoints
    assert stage.loc[0, "estimate"] == pytest.approx(3 / 6)  # 5, 4, 5 in the top two boxes
    assert stage.loc[0, "mean"] == pytest.approx(20 / 6)
    per = survey_metrics(fb, "csat", by="persona", customers=customers).to_frame()
    assert per.set_index("persona")["estimate"].to_dict() == {"x": 1.0, "y": 0.0}
    assert per["n"].tolist() == [3, 3]


def test_groups_below_min_answers_keep_their_row_and_missing_touchpoint_is_a_group():
    fb = _fb([5, 4, 3, 2], "csat", touchpoint=["web", "web", "web", None])
    r = survey_metrics(fb, "csat", by="touchpoint", min_answers=2)
    t = r.to_frame().set_index("touchpoint")
    assert t.loc["(none)", "n"] == 1 and t.loc["(none)", "too_few"]
    assert math.isnan(t.loc["(none)", "estimate"])
    assert t["n"].sum() == 4  # nothing dropped
    assert any("fewer than 2" in n for n in r.notes)


def test_ces_and_declared_rating_scales():
    from cjm_retail.generator import catalog

    ces = survey_metrics(_fb([7, 6, 6, 5, 4, 2, 7, 5, 6, 3], "ces"), "ces").to_frame()
    assert ces.loc[0, "estimate"] == pytest.approx(5.1) and ces.loc[0, "share_top"] == 0.7
    rating = survey_metrics(_fb([1, 2, 5, 5], "rating"), "rating", catalog=catalog()).to_frame()
    assert rating.loc[0, "estimate"] == pytest.approx(3.25)
    assert rating.loc[0, "share_top"] == 0.5 and rating.loc[0, "share_bottom"] == 0.5


def test_bad_scores_and_unknown_metrics_are_named():
    with pytest.raises(CjmError, match=r"1 of 3 'csat' answers .*0-5|1 of 3 'csat' answers"):
        survey_metrics(_fb([5, 9, 4], "csat"), "csat")
    with pytest.raises(CjmError, match="Unknown survey metric 'effort'"):
        survey_metrics(_fb([5], "csat"), "effort")
    with pytest.raises(CjmError, match="no 'nps' answers; metrics present: \\['csat'\\]"):
        survey_metrics(_fb([5, 4], "csat"), "nps")
    with pytest.raises(CjmError, match="Cannot group by 'region'"):
        survey_metrics(_fb([5, 4], "csat"), "csat", by="region")


def test_compare_scores_uses_the_metric_s_test():
    fb = _fb([10] * 40 + [8] * 30 + [3] * 30 + [10] * 55 + [8] * 25 + [3] * 20,
             group=["a"] * 100 + ["b"] * 100)  # fmt: skip
    r = compare_scores(fb, "nps", by="group", a="a", b="b")
    assert r.estimate == pytest.approx(25.0) and r.p_value == pytest.approx(0.0294, abs=1e-4)
    assert set(r.n) == {"a", "b"}
    cs = _fb([5, 4, 1, 2, 5, 4, 4, 5], "csat", group=list("aaaabbbb"))
    r = compare_scores(cs, "csat", by="group", a="a", b="b")
    assert r.estimate == pytest.approx(1.0 - 0.5)  # top-2-box shares
    r = compare_scores(cs, "csat", by="group", a="a", b="b", on="mean")
    assert r.estimate == pytest.approx(4.5 - 3.0)
    with pytest.raises(CjmError, match="at least 2 in each group"):
        compare_scores(cs, "csat", by="group", a="a", b="zzz")


def test_compare_scores_before_and_after_a_date():
    fb = _fb([2, 3, 3, 4, 6, 6, 7, 5], "ces")
    fb["timestamp"] = pd.to_datetime(["2024-01-01"] * 4 + ["2024-03-01"] * 4, utc=True)
    r = compare_scores(fb, "ces", split_at="2024-02-01")
    assert r.estimate == pytest.approx(3.0)
    assert set(r.n) == {"before 2024-02-01", "from 2024-02-01"}


def test_score_trend_recovers_a_planted_slope():
    rng = np.random.default_rng(3)
    months = pd.date_range("2024-01-01", periods=8, freq="MS", tz="UTC")
    rows = []
    p = np.array([0.1, 0.15, 0.25, 0.25, 0.15, 0.1])
    for i, m in enumerate(months):  # answers 1-6, one point more with chance 0.1 * month
        base = rng.choice(np.arange(1, 7), size=400, p=p)
        rows.append(pd.DataFrame({"timestamp": m, "score": base + (rng.random(400) < 0.1 * i)}))
    fb = pd.concat(rows, ignore_index=True).assign(customer_id="x", metric="ces")
    r = score_trend(fb, "ces")
    assert len(r.to_frame()) == 8
    assert 0.06 < r.info["slope"] < 0.14 and r.info["slope_p"] < 0.001  # planted: 0.1
    assert r.info["slope_low"] < r.info["slope"] < r.info["slope_high"]
    flat = score_trend(fb[fb["timestamp"] == months[0]].assign(
        timestamp=np.repeat(months[:4], 100)), "ces")  # fmt: skip
    assert flat.info["slope_p"] > 0.05  # the same distribution every month
