"""The touchpoint KPI table: hand-checked numbers on a small log, both engines, bad input."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest
from matplotlib.figure import Figure

from cjm_core.errors import CjmError
from cjm_core.kpis import touchpoint_kpis


@pytest.fixture
def log() -> pd.DataFrame:
    """Five journeys (default 30 min gap, split after a conversion; * = conversion):

    J1 a#1: website(10), branch_visit(600), website(30), call_centre(240)   unconverted
    J2 b#1: website(20), branch_visit*(900)                                 converted
    J3 b#2: call_centre(-), call_centre(120)                                unconverted
    J4 c#1: mobile_app(5), website(-)                                       unconverted
    J5 d#1: website(40), mobile_app*(15)                                    converted
    (duration_s in brackets, - = missing)
    """
    i, c = "interaction", "conversion"
    rows = [
        ("a", "2024-03-01T09:00", "website", i, 10.0),
        ("a", "2024-03-01T09:05", "branch_visit", i, 600.0),
        ("a", "2024-03-01T09:10", "website", i, 30.0),
        ("a", "2024-03-01T09:15", "call_centre", i, 240.0),
        ("b", "2024-03-01T09:00", "website", i, 20.0),
        ("b", "2024-03-01T09:05", "branch_visit", c, 900.0),
        ("b", "2024-03-01T09:06", "call_centre", i, None),
        ("b", "2024-03-01T09:20", "call_centre", i, 120.0),
        ("c", "2024-03-02T12:00", "mobile_app", i, 5.0),
        ("c", "2024-03-02T12:01", "website", i, None),
        ("d", "2024-03-03T08:00", "website", i, 40.0),
        ("d", "2024-03-03T08:30", "mobile_app", c, 15.0),
    ]
    df = pd.DataFrame(
        rows, columns=["customer_id", "timestamp", "touchpoint", "event_type", "duration_s"]
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df


def test_reach_position_exit_and_wait(log):
    df = touchpoint_kpis(log).to_frame()
    assert df["touchpoint"].tolist() == ["website", "branch_visit", "call_centre", "mobile_app"]
    assert df["customers"].tolist() == [4, 2, 2, 2]
    assert df["journeys"].tolist() == [4, 2, 2, 2]
    assert df["events"].tolist() == [5, 2, 3, 2]
    assert df["share_of_journeys"].tolist() == pytest.approx([0.8, 0.4, 0.4, 0.4])
    # first visit: website at steps 1 (J1), 1 (J2), 2 (J4), 1 (J5); call_centre 4 (J1), 1 (J3)
    assert df["avg_position"].tolist() == pytest.approx([1.25, 2.0, 2.5, 1.5])
    # journeys ending there: website J4; branch_visit J2; call_centre J1, J3; mobile_app J5
    assert df["exit_rate"].tolist() == pytest.approx([0.25, 0.5, 1.0, 0.5])
    assert df["median_duration_s"].tolist() == pytest.approx([25.0, 750.0, 180.0, 10.0])


def test_conversion_with_vs_without_each_touchpoint(log):
    r = touchpoint_kpis(log)
    df = r.to_frame().set_index("touchpoint")
    # 5 journeys, 2 converted (J2, J5)
    assert df["conversion_rate_with"].to_dict() == pytest.approx(
        {"website": 0.5, "branch_visit": 0.5, "call_centre": 0.0, "mobile_app": 0.5}
    )
    assert df["conversion_rate_without"].to_dict() == pytest.approx(
        {"website": 0.0, "branch_visit": 1 / 3, "call_centre": 2 / 3, "mobile_app": 1 / 3}
    )
    assert df.loc["call_centre", "difference"] == pytest.approx(-2 / 3)
    # website: 2/4 vs 0/1. Wald SE sqrt(.5 * .5 / 4) = .25; pooled z = .5 / sqrt(.4 .6 1.25)
    web = df.loc["website"]
    assert [web.ci_low, web.ci_high, web.p_value] == pytest.approx(
        [0.010009, 0.989991, 0.361310], abs=1e-6
    )
    # call centre: 0/2 vs 2/3. Wald SE sqrt(2/27); pooled z = -(2/3) / sqrt(.4 .6 (1/2 + 1/3));
    # the interval's lower end -1.200101 is cut at -1 (a difference of proportions), as R does
    call = df.loc["call_centre"]
    assert [call.ci_low, call.ci_high, call.p_value] == pytest.approx(
        [-1.0, -0.133232, 0.136037], abs=1e-6
    )
    assert r.info["journeys"] == 5 and r.info["converted"] == 2


def test_alpha_sets_the_interval_level(log):
    wide = touchpoint_kpis(log, alpha=0.01).to_frame().set_index("touchpoint")
    # z(0.995) = 2.575829: 0.5 -/+ 2.575829 * 0.25
    assert wide.loc["website", "ci_low"] == pytest.approx(0.5 - 0.643957, abs=1e-6)
    with pytest.raises(CjmError, match="alpha"):
        touchpoint_kpis(log, alpha=1.5)


def test_catalog_columns_and_unknown_touchpoints(log, catalog):
    extra = log.head(1).assign(customer_id="e", touchpoint="kiosk")
    r = touchpoint_kpis(pd.concat([log, extra], ignore_index=True), catalog=catalog)
    df = r.to_frame().set_index("touchpoint")
    assert df.loc["call_centre", ["name", "channel", "stage", "kind"]].tolist() == [
        "Call centre",
        "phone",
        "support",
        "assisted",
    ]
    assert df.loc["kiosk", ["name", "stage"]].tolist() == [None, None]
    assert any("not in the catalog: kiosk" in n for n in r.notes)
    bundle = SimpleNamespace(events=log, catalog=catalog)  # a DataBundle brings its catalog
    assert touchpoint_kpis(bundle).to_frame()["stage"].tolist()[0] == "discover"


def test_a_touchpoint_in_every_journey_has_no_comparison_and_no_wait():
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-01 09:01", "2024-01-01 09:00"], utc=True
            ),
            "touchpoint": ["web", "shop", "web"],
            "event_type": ["interaction", "conversion", "interaction"],
        }
    )
    df = touchpoint_kpis(log).to_frame().set_index("touchpoint")
    assert df.loc["web", "conversion_rate_with"] == 0.5
    for column in ("conversion_rate_without", "difference", "ci_low", "p_value"):
        assert math.isnan(df.loc["web", column])
    assert math.isnan(df.loc["web", "median_duration_s"])  # no duration_s column at all
    assert df.loc["shop", "difference"] == 1.0  # 1/1 vs 0/1


def test_given_journey_ids_are_used(log):
    # one journey per customer: a, b, c, d -> b's calls join its converted journey
    df = touchpoint_kpis(log.assign(journey_id="j")).to_frame().set_index("touchpoint")
    assert df.loc["call_centre", "journeys"] == 2
    assert df.loc["call_centre", "conversion_rate_with"] == 0.5  # a no, b yes
    assert df.loc["call_centre", "exit_rate"] == 1.0


def test_kpis_on_both_engines(log, catalog, on_both):
    r = on_both(touchpoint_kpis, log, catalog=catalog)
    assert r.to_frame()["journeys"].tolist() == [4, 2, 2, 2]


def test_order_ties_one_event_and_empty_log(log):
    shuffled = log.sample(frac=1, random_state=7)
    pd.testing.assert_frame_equal(
        touchpoint_kpis(shuffled).to_frame(), touchpoint_kpis(log).to_frame()
    )
    tie = log.head(2).assign(timestamp=log["timestamp"].iloc[0])
    assert touchpoint_kpis(tie).to_frame().set_index("touchpoint")["exit_rate"].to_dict() == {
        "website": 0.0,
        "branch_visit": 1.0,
    }
    one = touchpoint_kpis(log.head(1)).to_frame()
    assert one[["touchpoint", "journeys", "avg_position", "exit_rate"]].values.tolist() == [
        ["website", 1, 1.0, 1.0]
    ]
    empty = touchpoint_kpis(log.head(0))
    assert empty.to_frame().empty and "empty" in empty.summary()


def test_forest_plot(log):
    fig = touchpoint_kpis(log).plot()
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["call_centre", "branch_visit", "mobile_app", "website"]  # by difference
