"""transitions on hand-made logs with hand-computed answers, on DuckDB and Spark."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cjm_core.errors import CjmError  # noqa: E402
from cjm_core.transitions import transitions  # noqa: E402

from .test_journeys import hand_log, log  # noqa: E402

NAN = float("nan")

# hand_log() as chains of states (conversion events are not states; seconds between steps):
#   a#1 (start) > website -600-> mobile_app -120-> mobile_app > (conversion)
#   a#2 (start) > website > (drop-off)
#   b#1 (start) > website -300-> call_centre -0-> branch_visit > (drop-off)
#   b#2 (start) > website > (drop-off)
#   c#1 (start) > (conversion)                      (only a conversion event)
#   c#2 (start) > mobile_app > (drop-off)
FIRST_ORDER = [
    ["(start)", "(conversion)", 1, 1 / 6, NAN],
    ["(start)", "mobile_app", 1, 1 / 6, NAN],
    ["(start)", "website", 4, 4 / 6, NAN],
    ["branch_visit", "(drop-off)", 1, 1.0, NAN],
    ["call_centre", "branch_visit", 1, 1.0, 0.0],
    ["mobile_app", "(conversion)", 1, 1 / 3, NAN],
    ["mobile_app", "(drop-off)", 1, 1 / 3, NAN],
    ["mobile_app", "mobile_app", 1, 1 / 3, 120.0],
    ["website", "(drop-off)", 2, 0.5, NAN],
    ["website", "call_centre", 1, 0.25, 300.0],
    ["website", "mobile_app", 1, 0.25, 600.0],
]


def same_rows(frame: pd.DataFrame, expected: list[list]) -> None:
    got = frame[["from", "to", "count", "probability", "median_s"]].values.tolist()
    assert [r[:3] for r in got] == [r[:3] for r in expected]
    for g, e in zip(got, expected, strict=True):
        assert g[3] == pytest.approx(e[3])
        assert (math.isnan(g[4]) and math.isnan(e[4])) or g[4] == e[4], (g, e)


def test_first_order_on_both_engines(on_both):
    result = on_both(transitions, hand_log())
    same_rows(result.to_frame(), FIRST_ORDER)
    assert result.info["journeys"] == 6
    out = result.to_frame()
    assert out.loc[out["from"] == "(start)", "count"].sum() == 6
    assert out.loc[out["to"].isin(["(conversion)", "(drop-off)"]), "count"].sum() == 6


def test_second_order_at_channel_level_on_both_engines(on_both, catalog):
    # channels: website web, mobile_app app, call_centre phone, branch_visit branch
    result = on_both(transitions, hand_log(), order=2, level="channel", catalog=catalog)
    same_rows(
        result.to_frame(),
        [
            ["(start)", "(conversion)", 1, 1 / 6, NAN],
            ["(start)", "app", 1, 1 / 6, NAN],
            ["(start)", "web", 4, 4 / 6, NAN],
            ["(start) > app", "(drop-off)", 1, 1.0, NAN],
            ["(start) > web", "(drop-off)", 2, 0.5, NAN],
            ["(start) > web", "app", 1, 0.25, 600.0],
            ["(start) > web", "phone", 1, 0.25, 300.0],
            ["app > app", "(conversion)", 1, 1.0, NAN],
            ["phone > branch", "(drop-off)", 1, 1.0, NAN],
            ["web > app", "app", 1, 1.0, 120.0],
            ["web > phone", "branch", 1, 1.0, 0.0],
        ],
    )


def test_third_order_histories_start_with_start():
    out = transitions(log([("a", "10:00", "website"), ("a", "10:01", "mobile_app"),
                           ("a", "10:02", "store"), ("a", "10:03", "website")]),
                      order=3).to_frame()  # fmt: skip
    assert out[["from", "to"]].values.tolist() == [
        ["(start)", "website"],
        ["(start) > website", "mobile_app"],
        ["(start) > website > mobile_app", "store"],
        ["mobile_app > store > website", "(drop-off)"],
        ["website > mobile_app > store", "website"],
    ]


def test_median_seconds_of_an_even_number_of_transitions():
    events = log([("a", "10:00", "website"), ("a", "10:01", "call_centre"),
                  ("b", "10:00", "website"), ("b", "10:03", "call_centre"),
                  ("c", "10:00", "website"), ("c", "10:05", "call_centre"),
                  ("d", "10:00", "website"), ("d", "10:20", "call_centre")])  # fmt: skip
    out = transitions(events).to_frame()
    row = out[(out["from"] == "website") & (out["to"] == "call_centre")].iloc[0]
    assert row["count"] == 4 and row["median_s"] == 240.0  # (180 + 300) / 2


def test_matrix_and_plot():
    result = transitions(hand_log())
    m = result.matrix()
    assert list(m.index) == ["(start)", "branch_visit", "call_centre", "mobile_app", "website"]
    assert list(m.columns) == [
        "branch_visit", "call_centre", "mobile_app", "website", "(conversion)", "(drop-off)"
    ]  # fmt: skip
    assert m.loc["website", "mobile_app"] == 0.25 and m.loc["website", "website"] == 0.0
    assert m.sum(axis=1).tolist() == pytest.approx([1.0] * 5)
    fig = result.plot()
    assert fig.axes[0].get_title().startswith("Transitions")
    assert "(conversion)" in [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "note: 6 journeys" in result.summary()


def test_out_of_order_ties_one_event_and_empty_log():
    events = hand_log()
    shuffled = events.iloc[[10, 6, 3, 0, 9, 4, 7, 2, 8, 5, 1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(transitions(shuffled).to_frame(), transitions(events).to_frame())
    swapped = events.iloc[[0, 1, 2, 3, 4, 5, 7, 6, 8, 9, 10]].reset_index(drop=True)
    pairs = transitions(swapped).to_frame()[["from", "to"]].values.tolist()
    assert ["website", "branch_visit"] in pairs and ["branch_visit", "call_centre"] in pairs
    one = transitions(log([("z", "10:00", "website")])).to_frame()
    assert one[["from", "to", "count", "probability"]].values.tolist() == [
        ["(start)", "website", 1, 1.0], ["website", "(drop-off)", 1, 1.0]
    ]  # fmt: skip
    empty = transitions(events.iloc[:0])
    assert len(empty) == 0 and empty.matrix().empty and "no events" in empty.summary()


def test_given_journey_ids_keep_events_after_a_conversion_in_the_journey():
    events = hand_log().assign(journey_id=["x"] * 5 + ["y"] * 4 + ["z"] * 2)
    out = transitions(events).to_frame()
    pairs = dict(zip(zip(out["from"], out["to"], strict=True), out["count"], strict=True))
    # x: website > mobile_app > mobile_app > website (the conversion at call_centre is skipped)
    assert pairs[("mobile_app", "website")] == 1
    assert pairs[("website", "(conversion)")] == 1  # x ends after its conversion
    assert pairs[("mobile_app", "(conversion)")] == 1  # z: mobile_app (conv) > mobile_app


def test_bad_options():
    with pytest.raises(CjmError, match="order must be"):
        transitions(hand_log(), order=0)
    with pytest.raises(CjmError, match="needs a catalog"):
        transitions(hand_log(), level="stage")
