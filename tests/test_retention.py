"""Retention cohorts and repeat purchase: hand-checked numbers on small logs."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from matplotlib.figure import Figure

from cjm_core.errors import CjmError
from cjm_core.retention import period_label, repeat_purchase, retention

CONV, VISIT = "conversion", "interaction"


def make_log(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "touchpoint", "event_type"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    return df


@pytest.fixture
def log() -> pd.DataFrame:
    """a converts 5 Jan and 7 Feb, visits 7 Mar; b converts 31 Jan 23:59 and 1 Mar;
    c converts 10 Feb; d only visits (10 Feb)."""
    return make_log(
        [
            ("a", "2024-01-05T10:00Z", "shop", CONV),
            ("a", "2024-02-07T10:00Z", "shop", CONV),
            ("a", "2024-03-07T10:00Z", "web", VISIT),
            ("b", "2024-01-31T23:59Z", "shop", CONV),
            ("b", "2024-03-01T00:00Z", "shop", CONV),
            ("c", "2024-02-10T10:00Z", "shop", CONV),
            ("d", "2024-02-10T10:00Z", "web", VISIT),
        ]
    )


RET = ["cohort", "period", "cohort_size", "active"]


def rows(result, columns=RET) -> list[list]:
    return result.to_frame()[columns].values.tolist()


def test_monthly_cohorts_of_first_conversion(log):
    r = retention(log)
    assert rows(r) == [
        ["2024-01", 0, 2, 2],  # a, b
        ["2024-01", 1, 2, 1],  # a converts in Feb
        ["2024-01", 2, 2, 1],  # b converts in Mar (a's March visit is no conversion)
        ["2024-02", 0, 1, 1],  # c
        ["2024-02", 1, 1, 0],  # March is the last month of the data
    ]
    assert r.to_frame()["retention_rate"].tolist() == [1.0, 0.5, 0.5, 1.0, 0.0]
    m = r.matrix()
    assert m.index.tolist() == ["2024-01", "2024-02"] and m.columns.tolist() == [0, 1, 2]
    assert m.loc["2024-01"].tolist() == [1.0, 0.5, 0.5]
    assert m.loc["2024-02", 1] == 0.0 and math.isnan(m.loc["2024-02", 2])  # not observed
    assert r.matrix(rate=False).loc["2024-01"].tolist() == [2, 1, 1]
    assert (r.info["cohorts"], r.info["customers"], r.info["last_period"]) == (2, 3, "2024-03")


def test_any_event_cohorts(log):
    r = retention(log, conversions_only=False)
    assert rows(r) == [
        ["2024-01", 0, 2, 2],
        ["2024-01", 1, 2, 1],
        ["2024-01", 2, 2, 2],  # a visits, b converts
        ["2024-02", 0, 2, 2],  # c, d
        ["2024-02", 1, 2, 0],
    ]


def test_weekly_and_quarterly_periods(log):
    weekly = retention(log, period="W").to_frame()
    # a: Fri 5 Jan = 2024-W01, Wed 7 Feb = W06 (5 weeks later); b: Wed 31 Jan = W05,
    # Fri 1 Mar = W09 (4 later); c: Sat 10 Feb = W06; last event Thu 7 Mar = W10
    assert weekly.groupby("cohort")["period"].max().to_dict() == {
        "2024-W01": 9,
        "2024-W05": 5,
        "2024-W06": 4,
    }
    active = weekly[weekly["active"] > 0][["cohort", "period"]].values.tolist()
    assert active == [["2024-W01", 0], ["2024-W01", 5], ["2024-W05", 0], ["2024-W05", 4],
                      ["2024-W06", 0]]  # fmt: skip
    assert rows(retention(log, period="Q")) == [["2024-Q1", 0, 3, 3]]


def test_period_labels_and_utc():
    assert period_label(2024 * 12 + 11, "M") == "2024-12"
    assert period_label(2023 * 4 + 3, "Q") == "2023-Q4"
    log = make_log(
        [
            ("a", "2024-12-30T08:00Z", "shop", CONV),  # a Monday in ISO week 2025-W01
            ("b", "2021-01-03T08:00Z", "shop", CONV),  # a Sunday in ISO week 2020-W53
            ("c", "2024-01-31T23:30-02:00", "shop", CONV),  # 1 Feb 01:30 UTC
        ]
    )
    weekly = retention(log, period="W").to_frame()
    assert {"2020-W53", "2025-W01"} <= set(weekly["cohort"])
    monthly = retention(log, period="M").to_frame()
    assert "2024-02" in set(monthly["cohort"]) and "2024-01" not in set(monthly["cohort"])


def test_retention_on_both_engines(log, on_both):
    r = on_both(retention, log, period="W", conversions_only=False)
    assert r.to_frame()["cohort"].iloc[0] == "2024-W01"


def test_retention_bad_and_edge_inputs(log):
    with pytest.raises(CjmError, match="Unknown period 'Y'"):
        retention(log, period="Y")
    none = retention(log[log["event_type"] == VISIT])
    assert none.to_frame().empty and "no conversions" in none.summary()
    assert none.matrix().empty
    assert retention(log.head(0), conversions_only=False).to_frame().empty
    assert rows(retention(log.head(1))) == [["2024-01", 0, 1, 1]]
    shuffled = log.sample(frac=1, random_state=5)
    pd.testing.assert_frame_equal(retention(shuffled).to_frame(), retention(log).to_frame())


def test_retention_heatmap(log):
    fig = retention(log).plot()
    assert isinstance(fig, Figure)
    assert "Retention" in fig.axes[0].get_title()
    assert isinstance(retention(log.head(0)).plot(), Figure)


# -- repeat purchase -----------------------------------------------------------------------


def test_repeat_purchase_within_30_days(log):
    r = repeat_purchase(log, within="30D")
    # a: 5 Jan -> 7 Feb is 33 days (no); b: 31 Jan 23:59 -> 1 Mar is 29 days 1 min (yes)
    assert rows(r, ["cohort", "customers", "repeat_customers"]) == [
        ["all", 3, 1],
        ["2024-01", 2, 1],
        ["2024-02", 1, 0],
    ]
    df = r.to_frame()
    assert df["repeat_rate"].tolist() == pytest.approx([1 / 3, 0.5, 0.0])
    # Wilson 95%: 1/3 -> (0.0615, 0.7923); 1/2 -> (0.0945, 0.9055); 0/1 -> (0, 0.7935)
    assert df["ci_low"].tolist() == pytest.approx([0.061492, 0.094531, 0.0], abs=1e-6)
    assert df["ci_high"].tolist() == pytest.approx([0.792340, 0.905469, 0.793451], abs=1e-6)
    assert r.rate == pytest.approx(1 / 3) and r.ci[0] == pytest.approx(0.061492, abs=1e-6)
    # c (10 Feb) had less than 30 days before the last event (7 Mar)
    assert any(n.startswith("1 customer(s)") for n in r.notes)


def test_repeat_purchase_window_ties_and_periods(log):
    assert rows(repeat_purchase(log, within="90D", period="Q"), ["cohort", "repeat_customers"]) == [
        ["all", 2],
        ["2024-Q1", 2],
    ]
    tie = make_log(
        [("a", "2024-01-05T10:00Z", "shop", CONV), ("a", "2024-01-05T10:00Z", "app", CONV)]
    )
    assert repeat_purchase(tie).rate == 1.0  # the same instant is within any window
    one = repeat_purchase(log.head(1))
    assert rows(one, ["cohort", "customers", "repeat_customers"])[1] == ["2024-01", 1, 0]


def test_repeat_purchase_on_both_engines(log, on_both):
    r = on_both(repeat_purchase, log, within="30D")
    assert r.to_frame()["repeat_customers"].tolist() == [1, 1, 0]


def test_repeat_purchase_bad_and_empty_inputs(log):
    with pytest.raises(CjmError, match="Cannot read the duration"):
        repeat_purchase(log, within="soon")
    with pytest.raises(CjmError, match="Unknown period"):
        repeat_purchase(log, period="D")
    empty = repeat_purchase(log.head(0))
    assert rows(empty, ["cohort", "customers", "repeat_customers"]) == [["all", 0, 0]]
    assert math.isnan(empty.rate) and "no conversions" in empty.summary()
    fig = repeat_purchase(log, within="30D").plot()
    assert isinstance(fig, Figure) and len(fig.axes[0].patches) == 2
