"""Drop-off, loops and back-tracking, repeat contacts: hand-checked numbers on small logs."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from matplotlib.figure import Figure

from cjm_core.errors import CjmError
from cjm_core.friction import drop_off, loops, repeat_contacts

COLUMNS = ["customer_id", "timestamp", "touchpoint", "event_type"]


def make_log(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    return df


@pytest.fixture
def log() -> pd.DataFrame:
    """Five journeys (default 30 min gap, split after a conversion):

    J1 a#1: website, branch_visit, website, call_centre   unconverted, ends call_centre
    J2 b#1: website, branch_visit*                         converted (*conversion)
    J3 b#2: call_centre, call_centre                       unconverted, ends call_centre
    J4 c#1: mobile_app, website                            unconverted, ends website
    J5 d#1: website, mobile_app*                           converted
    Catalog stages: website discover(0), branch_visit apply(1), mobile_app use(2),
    call_centre support(3).
    """
    i, c = "interaction", "conversion"
    return make_log(
        [
            ("a", "2024-03-01T09:00", "website", i),
            ("a", "2024-03-01T09:05", "branch_visit", i),
            ("a", "2024-03-01T09:10", "website", i),
            ("a", "2024-03-01T09:15", "call_centre", i),
            ("b", "2024-03-01T09:00", "website", i),
            ("b", "2024-03-01T09:05", "branch_visit", c),
            ("b", "2024-03-01T09:06", "call_centre", i),  # new journey: after a conversion
            ("b", "2024-03-01T09:20", "call_centre", i),
            ("c", "2024-03-02T12:00", "mobile_app", i),
            ("c", "2024-03-02T12:01", "website", i),
            ("d", "2024-03-03T08:00", "website", i),
            ("d", "2024-03-03T08:30", "mobile_app", c),
        ]
    )


def rows(result, columns) -> list[list]:
    return result.to_frame()[columns].values.tolist()


# -- drop-off --------------------------------------------------------------------------------


def test_drop_off_per_touchpoint(log):
    r = drop_off(log)
    assert rows(r, ["touchpoint", "journeys", "drop_offs"]) == [
        ["call_centre", 2, 2],  # J1 and J3 end there unconverted
        ["website", 4, 1],  # J4
        ["branch_visit", 2, 0],
        ["mobile_app", 2, 0],
    ]
    df = r.to_frame()
    assert df["share_of_drop_offs"].tolist() == pytest.approx([2 / 3, 1 / 3, 0, 0])
    assert df["exit_rate"].tolist() == pytest.approx([1.0, 0.25, 0.0, 0.0])
    assert (r.info["journeys"], r.info["converted"], r.info["unconverted"]) == (5, 2, 3)
    assert "3 of 5 journeys end without a conversion" in r.summary()


def test_drop_off_by_stage_needs_a_catalog_and_maps_unknown_touchpoints(log, catalog):
    extra = make_log([("e", "2024-03-04T10:00", "kiosk", "interaction")])
    r = drop_off(pd.concat([log, extra], ignore_index=True), level="stage", catalog=catalog)
    assert rows(r, ["stage", "journeys", "drop_offs"]) == [
        ["support", 2, 2],
        ["(unknown)", 1, 1],
        ["discover", 4, 1],
        ["apply", 2, 0],
        ["use", 2, 0],
    ]
    with pytest.raises(CjmError, match="needs a catalog"):
        drop_off(log, level="stage")
    with pytest.raises(CjmError, match="Unknown level 'region'"):
        drop_off(log, level="region")


def test_drop_off_by_channel_prefers_the_events_channel_column(log, catalog):
    by_catalog = drop_off(log, level="channel", catalog=catalog)
    assert rows(by_catalog, ["channel", "drop_offs"])[:2] == [["phone", 2], ["web", 1]]
    own = log.assign(channel=["x"] * 4 + [None] * 8)
    r = drop_off(own, level="channel", catalog=catalog)
    # J1 (all 'x') ends unconverted; the rest fall back to the catalog's channel
    assert rows(r, ["channel", "journeys", "drop_offs"]) == [
        ["phone", 1, 1],
        ["web", 3, 1],
        ["x", 1, 1],
        ["app", 2, 0],
        ["branch", 1, 0],
    ]


def test_drop_off_on_both_engines(log, catalog, on_both):
    r = on_both(drop_off, log, level="stage", catalog=catalog)
    assert r.to_frame()["drop_offs"].tolist() == [2, 1, 0, 0]


def test_drop_off_ignores_input_order_and_ties_follow_input_order(log):
    shuffled = log.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(drop_off(shuffled).to_frame(), drop_off(log).to_frame())
    tie = make_log(
        [
            ("a", "2024-03-01T09:00", "website", "interaction"),
            ("a", "2024-03-01T09:00", "call_centre", "interaction"),
        ]
    )
    assert rows(drop_off(tie), ["touchpoint", "drop_offs"])[0] == ["call_centre", 1]
    assert rows(drop_off(tie.iloc[::-1]), ["touchpoint", "drop_offs"])[0] == ["website", 1]


def test_drop_off_of_one_event_and_of_an_empty_log(log):
    one = drop_off(log.head(1))
    assert rows(one, ["touchpoint", "journeys", "drop_offs", "share_of_drop_offs"]) == [
        ["website", 1, 1, 1.0]
    ]
    empty = drop_off(log.head(0))
    assert empty.to_frame().empty and list(empty.to_frame().columns)[0] == "touchpoint"
    assert empty.info["journeys"] == 0
    assert "empty" in empty.summary()


def test_drop_off_renders(log):
    r = drop_off(log)
    fig = r.plot()
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].patches) == 4
    assert "<table" in r._repr_html_() and "DropOff" in repr(r)


# -- loops -------------------------------------------------------------------------------


LOOP_COLUMNS = [
    "touchpoint",
    "journeys",
    "revisit_journeys",
    "revisits",
    "backtrack_journeys",
    "loop_journeys",
]


def test_loops_with_a_catalog_count_revisits_and_back_tracking(log, catalog):
    r = loops(log, catalog=catalog)
    assert rows(r, LOOP_COLUMNS) == [
        # J1 revisits website after branch_visit (apply): revisit + back-track;
        # J4 reaches website (discover) after mobile_app (use): back-track
        ["website", 4, 1, 1, 2, 2],
        ["call_centre", 2, 1, 1, 0, 1],  # J3 calls twice
        ["branch_visit", 2, 0, 0, 0, 0],
        ["mobile_app", 2, 0, 0, 0, 0],
    ]
    df = r.to_frame()
    assert df["share_of_journeys"].tolist() == pytest.approx([0.4, 0.2, 0.0, 0.0])
    # website: loop journeys J1, J4 never convert; J2 and J5 (no loop) both do
    assert df["conversion_rate_loop"].tolist()[:2] == [0.0, 0.0]
    assert math.isnan(df["conversion_rate_loop"].iloc[2])
    assert df["conversion_rate_no_loop"].tolist() == pytest.approx([1.0, 0.0, 0.5, 0.5])


def test_loops_without_a_catalog_report_revisits_only(log):
    r = loops(log)
    df = r.to_frame()
    assert "backtrack_journeys" not in df.columns
    assert rows(r, ["touchpoint", "loop_journeys"]) == [
        ["call_centre", 1],
        ["website", 1],
        ["branch_visit", 0],
        ["mobile_app", 0],
    ]
    # website without a loop: J2, J4, J5 of which J2 and J5 convert
    assert df.loc[1, "conversion_rate_no_loop"] == pytest.approx(2 / 3)
    assert any("back-tracking" in n for n in r.notes)


def test_touchpoints_unknown_to_the_catalog_do_not_back_track(catalog):
    log = make_log(
        [
            ("a", "2024-03-01T09:00", "website", "interaction"),
            ("a", "2024-03-01T09:01", "mobile_app", "interaction"),  # stage use (2)
            ("a", "2024-03-01T09:02", "kiosk", "interaction"),  # no stage
            ("a", "2024-03-01T09:03", "branch_visit", "interaction"),  # apply (1) < use
        ]
    )
    df = loops(log, catalog=catalog).to_frame().set_index("touchpoint")
    assert df["backtrack_journeys"].to_dict() == {
        "branch_visit": 1,
        "kiosk": 0,
        "mobile_app": 0,
        "website": 0,
    }


def test_loops_on_both_engines(log, catalog, on_both):
    r = on_both(loops, log, catalog=catalog)
    assert r.to_frame()["loop_journeys"].tolist() == [2, 1, 0, 0]


def test_loops_of_an_empty_log_one_event_and_the_chart(log, catalog):
    assert loops(log.head(0)).to_frame().empty
    one = loops(log.head(1), catalog=catalog)
    assert rows(one, LOOP_COLUMNS) == [["website", 1, 0, 0, 0, 0]]
    assert isinstance(loops(log).plot(), Figure)


# -- repeat contacts -----------------------------------------------------------------------


@pytest.fixture
def contacts() -> pd.DataFrame:
    i = "interaction"
    return make_log(
        [
            ("a", "2024-01-01T09:00", "call_centre", i),
            ("a", "2024-01-05T09:00", "call_centre", i),  # 4 days after: repeat
            ("a", "2024-01-20T09:00", "call_centre", i),  # 15 days: not
            ("a", "2024-01-21T09:00", "chat", i),  # 1 day after a call
            ("a", "2024-01-22T09:00", "website", i),  # not a contact touchpoint
            ("b", "2024-01-01T09:00", "call_centre", i),
            ("b", "2024-01-08T09:00", "call_centre", i),  # exactly 7 days: repeat
            ("b", "2024-01-15T09:00:01", "call_centre", i),  # 7 days + 1 s: not
            ("c", "2024-01-02T09:00", "call_centre", i),
            ("d", "2024-01-03T10:00", "call_centre", i),
            ("d", "2024-01-03T10:00", "call_centre", i),  # same instant: repeat
        ]
    )


REPEAT_COLUMNS = ["touchpoint", "contacts", "customers", "repeat_contacts"]


def test_repeat_contacts_within_seven_days(contacts):
    r = repeat_contacts(contacts)
    assert rows(r, [*REPEAT_COLUMNS, "customers_with_repeat"]) == [["call_centre", 9, 4, 3, 3]]
    assert r.to_frame()["repeat_rate"].tolist() == pytest.approx([1 / 3])
    assert r.customers().values.tolist() == [["a", 3, 1], ["b", 3, 1], ["d", 2, 1]]
    one_day = repeat_contacts(contacts, touchpoints="call_centre", within="1D")
    assert rows(one_day, ["repeat_contacts"]) == [[1]]  # only d's tie


def test_repeat_contacts_pool_the_touchpoints_given(contacts):
    r = repeat_contacts(contacts, touchpoints=["call_centre", "chat"])
    assert rows(r, [*REPEAT_COLUMNS, "customers_with_repeat"]) == [
        ["call_centre", 9, 4, 3, 3],
        ["chat", 1, 1, 1, 1],  # a's chat came a day after a's call
        ["(all)", 10, 4, 4, 3],
    ]
    assert r.to_frame()["repeat_rate"].tolist() == pytest.approx([1 / 3, 1.0, 0.4])
    assert r.customers().values.tolist() == [["a", 4, 2], ["b", 3, 1], ["d", 2, 1]]


def test_repeat_contacts_on_both_engines(contacts, spark_engine, on_both):
    r = on_both(repeat_contacts, contacts, touchpoints=["call_centre", "chat"])
    assert r.to_frame()["repeat_contacts"].tolist() == [3, 1, 4]
    spark = repeat_contacts(contacts, touchpoints=["call_centre"], engine=spark_engine)
    assert spark.customers()["customer_id"].tolist() == ["a", "b", "d"]


def test_repeat_contacts_bad_inputs(contacts):
    with pytest.raises(CjmError, match=r"\['email'\].*call_centre, chat, website"):
        repeat_contacts(contacts, touchpoints=["call_centre", "email"])
    with pytest.raises(CjmError, match="one or more touchpoint ids"):
        repeat_contacts(contacts, touchpoints=[])
    with pytest.raises(CjmError, match="Cannot read the duration"):
        repeat_contacts(contacts, within="a week")
    with pytest.raises(CjmError, match="event log is empty"):
        repeat_contacts(contacts.head(0))


def test_repeat_contacts_out_of_order_input_and_chart(contacts):
    shuffled = contacts.sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(
        repeat_contacts(shuffled).to_frame(), repeat_contacts(contacts).to_frame()
    )
    assert isinstance(repeat_contacts(contacts).plot(), Figure)
