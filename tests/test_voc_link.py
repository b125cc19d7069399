"""Feedback linked to journeys: each rule, the reasons for unlinked answers, the counts."""

import pandas as pd
import pytest

from cjm_core.errors import CjmError
from cjm_core.voc.link import REASONS, link_feedback


def _events():
    t = pd.to_datetime
    return pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b"],
        "timestamp": t(["2024-01-01 10:00", "2024-01-01 10:10", "2024-01-03 09:00",
                        "2024-01-03 09:05", "2024-01-05 12:00"], utc=True),
        "touchpoint": ["web", "call", "web", "branch", "web"],
        "journey_id": ["j1", "j1", "j2", "j2", "j3"],
    })  # fmt: skip


def _feedback():
    t = pd.to_datetime
    return pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "z", "a"],
        "timestamp": t(["2024-01-01 12:00", "2024-01-04 08:00", "2024-01-03 10:00",
                        "2024-01-20 00:00", "2024-01-06 00:00", "2024-01-02 00:00",
                        "2024-01-04 00:00"], utc=True),
        "touchpoint": ["call", None, "call", None, "store", "web", None],
        "metric": "csat", "score": [1, 2, 3, 4, 5, 3, 4],
        "journey_id": [None, None, None, None, None, None, "j9"],
    })  # fmt: skip


def test_each_rule_and_reason_on_a_hand_made_log():
    out = link_feedback(_feedback(), _events(), window="7D", gap="1h").to_frame()
    got = out[["journey", "linked_touchpoint", "link"]].values.tolist()
    assert got == [
        ["a#1", "call", "touchpoint"],  # the call of the first journey, 1h50 earlier
        ["a#2", "branch", "last_event"],  # no touchpoint: the last event before the answer
        ["a#1", "call", "touchpoint"],  # the latest call, 2 days earlier, in journey 1
        [None, None, "unlinked"],  # 15 days after b's only event
        [None, None, "unlinked"],  # b never visited the store
        [None, None, "unlinked"],  # z has no events
        ["a#2", "branch", "last_event"],  # journeys cut by gap: its journey_id is not used
    ]
    assert out["reason"].tolist()[3:6] == [
        REASONS["outside_window"],
        REASONS["touchpoint_not_visited"],
        REASONS["no_events"],
    ]
    assert out.loc[0, "lag_s"] == 110 * 60


def test_given_journey_ids_link_first_and_counts_add_up():
    fb = _feedback()
    fb.loc[1, "journey_id"] = "j2"
    r = link_feedback(fb, _events(), window="7D")  # gap None: the events' own journey ids
    out = r.to_frame()
    assert out.loc[1, ["journey", "linked_touchpoint", "link"]].tolist() == [
        "j2",
        "branch",
        "journey_id",
    ]
    assert out.loc[0, "journey"] == "j1"
    assert out.loc[6, ["link", "reason"]].tolist() == ["unlinked", REASONS["unknown_journey"]]
    counts = r.counts
    assert counts["answers"].sum() == len(fb)
    assert counts.groupby("link")["answers"].sum()["unlinked"] == 4
    assert "3 of 7 answers linked; 4 unlinked" in r.notes[0]


def test_window_is_configurable_and_bad_times_are_named():
    narrow = link_feedback(_feedback(), _events(), window="1h", gap="1h").to_frame()
    assert narrow.loc[0, "link"] == "unlinked"  # the call was 1h50 before
    fb = _feedback()
    fb.loc[2, "timestamp"] = None
    with pytest.raises(CjmError, match=r"1 answers have no readable time \(rows \[2\]\)"):
        link_feedback(fb, _events())


def test_synthetic_answers_link_to_the_journey_the_generator_wrote():
    from cjm_banking.generator import generate

    d = generate(customers=600, seed=5)
    fb, ev = d.tables["feedback"], d.tables["events"]
    given = link_feedback(fb, ev).to_frame()
    assert (given["link"] == "journey_id").all()
    inferred = link_feedback(fb.drop(columns="journey_id"), ev, window="30D").to_frame()
    assert (inferred["link"] != "unlinked").all()
    same = (inferred["journey"] == fb["journey_id"]).mean()
    assert same > 0.98  # the inferred journey is the one the answer was about
