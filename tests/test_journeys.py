"""build_journeys on hand-made logs with hand-computed answers, on DuckDB and Spark."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cjm_core.errors import CjmError, UnknownTouchpointError  # noqa: E402
from cjm_core.journeys import build_journeys, step_codes  # noqa: E402

DAY = "2024-05-01"


def log(rows: list[tuple]) -> pd.DataFrame:
    """Events from (customer, "HH:MM", touchpoint[, event_type[, value]]) tuples."""
    full = [tuple(r) + ("interaction", 0.0)[len(r) - 3 :] for r in rows]
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in full],
            "timestamp": pd.to_datetime([f"{DAY} {r[1]}" for r in full], utc=True),
            "touchpoint": [r[2] for r in full],
            "event_type": [r[3] for r in full],
            "value": [float(r[4]) for r in full],
        }
    )


def hand_log() -> pd.DataFrame:
    """Six journeys at a 30 min gap (split at conversions):

    a#1 website 09:00, mobile_app 09:10, mobile_app 09:12, call_centre 09:20 (conversion, 50)
    a#2 website 12:00                                    (a new journey: 2 h 40 later)
    b#1 website 10:00, call_centre 10:05, branch_visit 10:05 (a tie: input order decides)
    b#2 website 10:50                                    (45 min later)
    c#1 mobile_app 08:00 (conversion, 20)                (a journey of one conversion)
    c#2 mobile_app 08:01                                 (new journey after the conversion)
    """
    return log(
        [
            ("a", "09:00", "website"),
            ("a", "09:10", "mobile_app"),
            ("a", "09:12", "mobile_app"),
            ("a", "09:20", "call_centre", "conversion", 50),
            ("a", "12:00", "website"),
            ("b", "10:00", "website"),
            ("b", "10:05", "call_centre"),
            ("b", "10:05", "branch_visit"),
            ("b", "10:50", "website"),
            ("c", "08:00", "mobile_app", "conversion", 20),
            ("c", "08:01", "mobile_app"),
        ]
    )


def test_one_row_per_journey_with_hand_computed_values_on_both_engines(on_both, catalog):
    out = on_both(build_journeys, hand_log(), catalog=catalog).to_frame()
    assert out["journey_id"].tolist() == ["a#1", "a#2", "b#1", "b#2", "c#1", "c#2"]
    assert out["customer_id"].tolist() == ["a", "a", "b", "b", "c", "c"]
    assert out["start"].tolist()[0] == pd.Timestamp(f"{DAY} 09:00", tz="UTC")
    assert out["end"].tolist()[0] == pd.Timestamp(f"{DAY} 09:20", tz="UTC")
    assert out["duration_s"].tolist() == [1200.0, 0.0, 300.0, 0.0, 0.0, 0.0]
    assert out["n_events"].tolist() == [4, 1, 3, 1, 1, 1]
    assert out["touchpoints"].tolist() == [
        ("call_centre", "mobile_app", "website"),
        ("website",),
        ("branch_visit", "call_centre", "website"),
        ("website",),
        ("mobile_app",),
        ("mobile_app",),
    ]
    assert out["n_touchpoints"].tolist() == [3, 1, 3, 1, 1, 1]
    assert out["channels"].tolist() == [
        ("app", "phone", "web"),
        ("web",),
        ("branch", "phone", "web"),
        ("web",),
        ("app",),
        ("app",),
    ]
    assert out["n_channels"].tolist() == [3, 1, 3, 1, 1, 1]
    assert out["omnichannel"].tolist() == [True, False, True, False, False, False]
    assert out["converted"].tolist() == [True, False, False, False, True, False]
    assert out["value"].tolist() == [50.0, 0.0, 0.0, 0.0, 20.0, 0.0]
    assert out["first_touchpoint"].tolist() == [
        "website", "website", "website", "website", "mobile_app", "mobile_app"
    ]  # fmt: skip
    assert out["last_touchpoint"].tolist() == [
        "call_centre", "website", "branch_visit", "website", "mobile_app", "mobile_app"
    ]  # fmt: skip
    assert [str(d) for d in out.dtypes[["duration_s", "n_events", "omnichannel"]]] == [
        "float64", "int64", "bool"
    ]  # fmt: skip


def test_summary_statistics_and_rendering():
    result = build_journeys(hand_log())
    stats = result.stats()
    assert stats["journeys"] == 6 and stats["customers"] == 3
    assert stats["conversion_rate"] == pytest.approx(2 / 6)
    assert stats["median_duration_s"] == 0.0  # durations 1200, 0, 300, 0, 0, 0
    assert stats["omnichannel_share"] == 0.0  # no channel column and no catalog
    assert stats["mean_events"] == pytest.approx(11 / 6)
    text = result.summary()
    assert text.startswith("6 journey(s) of 3 customer(s); conversion rate 33.3%")
    assert "no channel column" in text
    assert "<table" in result._repr_html_() and "a#1" in result._repr_html_()
    assert "6 row(s)" in repr(result)
    fig = result.plot()
    assert [ax.get_xlabel() for ax in fig.axes] == ["events per journey", "duration (minutes)"]
    assert len(fig.axes[0].patches) == 40  # 20 bins, converted and not converted


def test_channel_column_is_used_and_its_nulls_are_left_out():
    events = hand_log().assign(
        channel=["web", "app", None, "phone", "web", "web", "phone", "store", "web", "app", "app"]
    )
    out = build_journeys(events).to_frame()
    assert out["channels"].tolist()[:3] == [
        ("app", "phone", "web"),
        ("web",),
        ("phone", "store", "web"),
    ]
    assert out["omnichannel"].tolist()[:2] == [True, False]


def test_gap_none_uses_the_given_journey_ids():
    events = hand_log().assign(journey_id=["x"] * 5 + ["y"] * 4 + ["z"] * 2)
    out = build_journeys(events, gap=None).to_frame()
    assert out["journey_id"].tolist() == ["x", "y", "z"]
    assert out["n_events"].tolist() == [5, 4, 2]
    assert out["duration_s"].tolist() == [3 * 3600.0, 50 * 60.0, 60.0]
    assert out["value"].tolist() == [50.0, 0.0, 20.0]


def test_a_longer_gap_and_no_split_on_conversion_merge_journeys():
    out = build_journeys(hand_log(), gap="3h", split_on_conversion=False).to_frame()
    assert out["journey_id"].tolist() == ["a#1", "b#1", "c#1"]
    assert out["n_events"].tolist() == [5, 4, 2]
    assert out["converted"].tolist() == [True, False, True]


def test_events_out_of_order_give_the_same_journeys():
    events = hand_log()
    # shuffle, keeping the tied pair (rows 6 and 7) in their input order
    shuffled = events.iloc[[10, 6, 3, 0, 9, 4, 7, 2, 8, 5, 1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        build_journeys(shuffled).to_frame(), build_journeys(events).to_frame()
    )


def test_ties_in_timestamps_keep_the_input_order():
    events = hand_log()
    swapped = events.iloc[[0, 1, 2, 3, 4, 5, 7, 6, 8, 9, 10]].reset_index(drop=True)
    out = build_journeys(swapped).to_frame()
    assert out.loc[2, "last_touchpoint"] == "call_centre"
    assert build_journeys(events).to_frame().loc[2, "last_touchpoint"] == "branch_visit"


def test_one_event_and_an_empty_log():
    one = build_journeys(log([("z", "10:00", "website")])).to_frame()
    assert one[["journey_id", "n_events", "duration_s", "converted", "value"]].values.tolist() == [
        ["z#1", 1, 0.0, False, 0.0]
    ]
    empty = build_journeys(hand_log().iloc[:0])
    frame = empty.to_frame()
    assert len(frame) == 0 and list(frame.columns)[:3] == ["journey_id", "customer_id", "start"]
    assert str(frame["start"].dtype) == "datetime64[us, UTC]"
    assert math.isnan(empty.stats()["conversion_rate"])
    assert "no events" in empty.summary()


def test_step_codes_errors():
    from cjm_core.engine import events_table

    eng, t = events_table(hand_log(), "duckdb")
    with pytest.raises(CjmError, match="Unknown level 'page'"):
        step_codes(eng, t, level="page")
    with pytest.raises(CjmError, match="needs a catalog"):
        step_codes(eng, t, level="stage")
    with pytest.raises(CjmError, match=r"min_share must be a share in \[0, 1\)"):
        step_codes(eng, t, min_share=1.5)
    with pytest.raises(CjmError, match="alias rule"):
        step_codes(eng, t, aliases={"nowhere": "x"})
    codes = step_codes(eng, t, min_share=0.2)  # website 4, mobile_app 4, call 2, branch 1 of 11
    assert codes.labels == {1: "mobile_app", 2: "other", 3: "website"}


def test_touchpoints_missing_from_the_catalog_are_named(catalog):
    events = hand_log()
    events.loc[0, "touchpoint"] = "kiosk"
    with pytest.raises(UnknownTouchpointError, match=r"'kiosk' \(1 events\)"):
        from cjm_core.variants import path_variants

        path_variants(events, level="stage", catalog=catalog)


def test_an_empty_log_gives_the_same_empty_table_on_both_engines(on_both):
    frame = on_both(build_journeys, hand_log().iloc[:0]).to_frame()
    assert frame.empty and list(frame.columns)[-2:] == ["first_touchpoint", "last_touchpoint"]
