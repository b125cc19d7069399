"""Funnels on small hand-made logs whose answers were counted by hand.

The main log (touchpoints W=website, B=branch_visit, M=mobile_app, C=call_centre; hours
after 2024-01-01 00:00 UTC; window 7 days):

    c1  W 0h, B 1h, M 2h (M is a conversion)        north
    c2  W 0h, C 1h, B 2h, M 3h                       south
    c3  W 0h, M 1h, B 2h                             north
    c4  B 0h (north), W 1h, M 2h (south)             entry W at 1h: region south
    c5  M 0h (never does W: never enters)            north
    c6  W 0h, B exactly 7 days later, M 1 s after   south

Funnel W > B > M:
    ordered  5, 4 (c1 c2 c3 c6), 2 (c1 c2)
    strict   5, 2 (c1 c6),       1 (c1)
    any      5, 4 (c1 c2 c3 c6), 3 (c1 c2 c3)
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from cjm_core.errors import CjmError
from cjm_core.funnels import funnel

matplotlib.use("Agg")

T0 = pd.Timestamp("2024-01-01", tz="UTC")
H = 3600
WEEK = 7 * 24 * H
W, B, M, C = "website", "branch_visit", "mobile_app", "call_centre"
STEPS = [W, B, M]


def log(rows: list[tuple]) -> pd.DataFrame:
    """Events from (customer, seconds after T0, touchpoint[, region[, event_type]])."""
    out = []
    for row in rows:
        customer, seconds, touchpoint, *rest = row
        region = rest[0] if rest else "north"
        event_type = rest[1] if len(rest) > 1 else "interaction"
        ts = T0 + pd.Timedelta(seconds=seconds)
        out.append((customer, ts, touchpoint, region, event_type))
    columns = ["customer_id", "timestamp", "touchpoint", "region", "event_type"]
    return pd.DataFrame(out, columns=columns)


MAIN = [
    ("c1", 0, W, "north"),
    ("c1", 1 * H, B, "north"),
    ("c1", 2 * H, M, "north", "conversion"),
    ("c2", 0, W, "south"),
    ("c2", 1 * H, C, "south"),
    ("c2", 2 * H, B, "south"),
    ("c2", 3 * H, M, "south"),
    ("c3", 0, W, "north"),
    ("c3", 1 * H, M, "north"),
    ("c3", 2 * H, B, "north"),
    ("c4", 0, B, "north"),
    ("c4", 1 * H, W, "south"),
    ("c4", 2 * H, M, "south"),
    ("c5", 0, M, "north"),
    ("c6", 0, W, "south"),
    ("c6", WEEK, B, "south"),
    ("c6", WEEK + 1, M, "south"),
]


@pytest.fixture
def events() -> pd.DataFrame:
    return log(MAIN)


def column(result, name: str) -> list:
    return result.to_frame()[name].tolist()


def same(values: list, expected: list) -> bool:
    """Equal lists where NaN equals NaN."""
    return len(values) == len(expected) and all(
        (isinstance(a, float) and math.isnan(a) and isinstance(b, float) and math.isnan(b))
        or a == b
        for a, b in zip(values, expected, strict=True)
    )


# -- modes -----------------------------------------------------------------------------------


def test_ordered_funnel_counts_conversions_drop_off_and_times(events):
    f = funnel(events, STEPS, window="7D")
    out = f.to_frame()
    assert list(out.columns) == [
        "step",
        "step_name",
        "optional",
        "customers",
        "conversion_from_previous",
        "conversion_from_start",
        "drop_off",
        "drop_off_rate",
        "median_time_to_step_s",
    ]
    assert column(f, "step") == [1, 2, 3]
    assert column(f, "step_name") == STEPS
    assert column(f, "customers") == [5, 4, 2]
    assert column(f, "conversion_from_previous") == [1.0, 0.8, 0.5]
    assert column(f, "conversion_from_start") == [1.0, 0.8, 0.4]
    assert column(f, "drop_off") == [0, 1, 2]
    assert column(f, "drop_off_rate") == [0.0, 0.2, 0.5]
    # step 2: c1 1h, c2 2h, c3 2h, c6 7 days -> median 2h; step 3: c1 2h, c2 3h -> 2.5h
    assert column(f, "median_time_to_step_s") == [0.0, 7200.0, 9000.0]
    assert str(out["customers"].dtype) == "int64"
    assert f.conversion() == 0.4


def test_strict_funnel_needs_consecutive_events(events):
    f = funnel(events, STEPS, mode="strict")
    # c2 has C between W and B; c3 goes W -> M; c6's M falls outside the window
    assert column(f, "customers") == [5, 2, 1]
    assert column(f, "median_time_to_step_s") == [0.0, (H + WEEK) / 2, 7200.0]
    assert column(f, "drop_off") == [0, 3, 1]


def test_any_order_funnel_counts_steps_done_in_any_order(events):
    f = funnel(events, STEPS, mode="any")
    # c3 did M before B: counts at step 3, reached when the later of the two happened (2h)
    assert column(f, "customers") == [5, 4, 3]
    assert column(f, "median_time_to_step_s") == [0.0, 7200.0, 7200.0]
    assert column(f, "conversion_from_previous") == [1.0, 0.8, 0.75]


def test_window_end_is_inclusive():
    c6 = log([r for r in MAIN if r[0] == "c6"])
    at_end = funnel(c6, STEPS, window="7D")  # B exactly 7 days after entry counts
    assert column(at_end, "customers") == [1, 1, 0]
    assert column(at_end, "median_time_to_step_s")[1] == float(WEEK)
    one_second_short = funnel(c6, STEPS, window=WEEK - 1)  # seconds
    assert column(one_second_short, "customers") == [1, 0, 0]


def test_ties_in_time_follow_the_input_order():
    # c7: W then B at the same instant (in that input order) -> B counts, after 0 s;
    # c8: B is listed before W at the same instant -> B comes before the entry
    ties = log([("c7", 0, W), ("c7", 0, B), ("c8", 0, B), ("c8", 0, W)])
    for mode in ("ordered", "strict", "any"):
        f = funnel(ties, [W, B], mode=mode)
        assert column(f, "customers") == [2, 1], mode
        assert column(f, "median_time_to_step_s") == [0.0, 0.0], mode


def test_events_out_of_order_in_the_input_give_the_same_funnel(events):
    shuffled = events.sample(frac=1.0, random_state=3)
    assert not shuffled.index.equals(events.index)
    for mode in ("ordered", "strict", "any"):
        expected = funnel(events, STEPS, mode=mode).to_frame()
        pd.testing.assert_frame_equal(funnel(shuffled, STEPS, mode=mode).to_frame(), expected)


# -- step options ----------------------------------------------------------------------------


def test_optional_step_can_be_skipped_and_reports_its_own_count(events):
    f = funnel(events, [W, C, B], optional=[2])
    assert column(f, "optional") == [False, True, False]
    # C: only c2 (after 1h); B is measured from W: c1 c2 c3 c6
    assert column(f, "customers") == [5, 1, 4]
    assert column(f, "conversion_from_previous") == [1.0, 0.2, 0.8]
    assert column(f, "drop_off") == [0, 4, 1]
    assert column(f, "median_time_to_step_s") == [0.0, 3600.0, 7200.0]
    assert any("Optional steps" in n for n in f.notes)
    by_name = funnel(events, [W, C, B], optional=[C])
    pd.testing.assert_frame_equal(by_name.to_frame(), f.to_frame())


def test_optional_step_in_strict_and_any_order_modes(events):
    strict = funnel(events, [W, C, B], optional=[2], mode="strict")
    # c1 W->B (C skipped), c2 W->C->B, c6 W->B; c3 and c4 go on to M
    assert column(strict, "customers") == [5, 1, 3]
    assert column(strict, "median_time_to_step_s") == [0.0, 3600.0, 7200.0]
    assert column(funnel(events, [W, C, B], optional=[2], mode="any"), "customers") == [5, 1, 4]


def test_step_given_as_alternatives(events):
    f = funnel(events, [W, (B, C), M])
    assert column(f, "step_name") == [W, f"{B} or {C}", M]
    # step 2: c1 B 1h, c2 C 1h, c3 B 2h, c6 B 7d; step 3 after it: c1 2h, c2 3h
    assert column(f, "customers") == [5, 4, 2]
    assert column(f, "median_time_to_step_s") == [0.0, 5400.0, 9000.0]


def test_exclusion_removes_customers_and_says_how_many(events):
    # c9 calls after their last matched step (B): not excluded; c2 calls between W and M
    extra = log([("c9", 0, W), ("c9", 1 * H, B), ("c9", 5 * H, C)])
    f = funnel(pd.concat([events, extra], ignore_index=True), STEPS, exclude=[C])
    assert column(f, "customers") == [5, 4, 1]
    assert f.excluded == 1
    assert any("1 customer(s) removed" in n and C in n for n in f.notes)


def test_stage_level_maps_touchpoints_through_the_catalog(events, catalog):
    f = funnel(events, ["discover", "apply", "use"], level="stage", catalog=catalog)
    assert column(f, "customers") == [5, 4, 2]
    assert column(f, "median_time_to_step_s") == [0.0, 7200.0, 9000.0]


def test_event_type_level(events):
    f = funnel(events, ["interaction", "conversion"], level="event_type")
    # every customer has an interaction; only c1 converts (2h after their first event)
    assert column(f, "customers") == [6, 1]
    assert column(f, "median_time_to_step_s") == [0.0, 7200.0]


# -- breakdowns -----------------------------------------------------------------------------


def test_breakdown_by_event_column_takes_the_value_at_entry(events):
    f = funnel(events, STEPS, breakdown="region")
    out = f.to_frame()
    assert list(out.columns[:2]) == ["region", "step"]
    assert column(f, "region") == ["north"] * 3 + ["south"] * 3
    # north: c1 c3; south: c2 c4 (entered at W in the south) c6
    assert column(f, "customers") == [2, 2, 1, 3, 2, 1]
    assert same(column(f, "median_time_to_step_s"), [0.0, 5400.0, 7200.0, 0.0, 306000.0, 10800.0])
    assert f.conversion().to_dict() == {"north": 0.5, "south": 1 / 3}


def test_breakdown_by_customer_attribute(events):
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "persona": ["saver", "saver", "mover", "mover", "mover"],
            "region": ["x"] * 5,  # the customers table wins over the events' column
        }
    )
    f = funnel(events, STEPS, breakdown="persona", customers=customers)
    # c6 is not in the customers table: its persona is missing (last)
    assert column(f, "persona") == ["mover"] * 3 + ["saver"] * 3 + [None] * 3
    assert column(f, "customers") == [2, 1, 0, 2, 2, 2, 1, 1, 0]
    by_region = funnel(events, STEPS, breakdown="region", customers=customers)
    assert column(by_region, "region") == ["x", "x", "x", None, None, None]


def test_a_bundle_supplies_catalog_and_customers(events_df, customers_df, catalog):
    from cjm_core.bundle import load_bundle

    bundle = load_bundle({"events": events_df, "customers": customers_df}, template=catalog)
    f = funnel(bundle, ["discover", "apply"], level="stage", breakdown="persona")
    # c1 (saver): website 09:00Z, branch visit next day 08:00Z; c2 (mover) never visits
    assert column(f, "persona") == ["mover", "mover", "saver", "saver"]
    assert column(f, "customers") == [1, 0, 1, 1]
    assert same(column(f, "median_time_to_step_s"), [0.0, math.nan, 0.0, 82800.0])


# -- bad input -------------------------------------------------------------------------------


def test_empty_log_gives_a_funnel_of_zeros(events, catalog):
    empty = events.iloc[0:0]
    f = funnel(empty, [W, B], catalog=catalog)
    assert column(f, "customers") == [0, 0]
    assert all(math.isnan(v) for v in column(f, "conversion_from_start"))
    assert any("No customer entered" in n for n in f.notes)
    without_catalog = funnel(empty, [W, B])
    assert column(without_catalog, "customers") == [0, 0]
    assert without_catalog.notes[0].startswith("The event log is empty")


def test_one_event(events, catalog):
    one = events.iloc[[0]]
    f = funnel(one, [W, B], catalog=catalog)
    assert column(f, "customers") == [1, 0]
    assert column(f, "conversion_from_start") == [1.0, 0.0]
    assert same(column(f, "median_time_to_step_s"), [0.0, float("nan")])
    with pytest.raises(CjmError, match=r"\['branch_visit'\] in steps occur in no event"):
        funnel(one, [W, B])  # without a catalog an id absent from the log looks like a typo


@pytest.mark.parametrize(
    ("steps", "options", "message"),
    [
        ([], {}, "steps is empty"),
        ("website", {}, "steps must be a list"),
        ([W, ()], {}, "step 2 is an empty list"),
        ([W, "nowhere"], {"catalog": True}, r"Unknown touchpoint id\(s\) \['nowhere'\]"),
        ([W, "nowhere"], {}, r"\['nowhere'\] in steps occur in no event"),
        ([W, B], {"mode": "sideways"}, "Unknown funnel mode 'sideways'"),
        ([W, B], {"level": "planet"}, "Unknown funnel level 'planet'"),
        ([W, B], {"window": "soon"}, "Bad window='soon'"),
        ([W, B], {"window": "-1D"}, "must be positive"),
        ([W, B], {"optional": [1]}, "first step cannot be optional"),
        ([W, B], {"optional": [3]}, "optional step 3 does not exist"),
        ([W, B], {"optional": ["nope"]}, "optional step 'nope' names no step"),
        ([W, B], {"exclude": [B]}, "exclude overlaps the steps: 'branch_visit' \\(step 2\\)"),
        ([W, B], {"mode": "strict", "exclude": [C]}, "exclude has no effect in mode='strict'"),
        ([W, B, W], {"mode": "any"}, "steps 1 and 3 share"),
        (["discover", "apply"], {"level": "stage"}, "level='stage' needs the catalog"),
        ([W, B], {"breakdown": "planet"}, "breakdown column 'planet' is in neither"),
        ([W, B], {"breakdown": "customer_id"}, "not an attribute"),
    ],
)
def test_bad_options_are_named(events, catalog, steps, options, message):
    if options.get("catalog"):
        options = {**options, "catalog": catalog}
    with pytest.raises(CjmError, match=message):
        funnel(events, steps, **options)


def test_duplicate_customers_are_refused(events):
    customers = pd.DataFrame({"customer_id": ["c1", "c1"], "persona": ["a", "b"]})
    with pytest.raises(CjmError, match=r"repeats 1 customer_id value\(s\) \(first: \['c1'\]\)"):
        funnel(events, STEPS, breakdown="persona", customers=customers)


# -- rendering -------------------------------------------------------------------------------


def test_result_renders_as_text_html_and_a_funnel_chart(events):
    import matplotlib.pyplot as plt

    f = funnel(events, STEPS, exclude=[C], breakdown="region")
    text = f.summary()
    assert text.startswith("Funnel (steps=website > branch_visit > mobile_app, mode=ordered")
    assert "note: 1 customer(s) removed" in text
    html = f._repr_html_()
    assert "<table" in html and "removed from the funnel" in html
    assert repr(f).startswith("<FunnelResult: 6 row(s)")
    fig = f.plot()
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["region = north", "region = south"]
    assert [t.get_text() for t in visible[0].texts] == ["2 (100%)", "2 (100%)", "1 (50%)"]
    # south after removing c2: c4 and c6 entered, c6 reached B
    assert [t.get_text() for t in visible[1].texts] == ["2 (100%)", "1 (50%)", "0 (0%)"]
    plt.close(fig)


# -- DuckDB and Spark agree --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "per_region"),
    [
        ("ordered", [2, 2, 1, 3, 2, 1]),
        ("strict", [2, 1, 1, 3, 1, 0]),
        ("any", [2, 2, 2, 3, 2, 1]),
    ],
)
def test_modes_with_breakdown_on_both_engines(events, on_both, mode, per_region):
    f = on_both(funnel, events, STEPS, mode=mode, breakdown="region")
    assert column(f, "customers") == per_region


def test_exclusion_optional_and_customer_breakdown_on_both_engines(events, on_both):
    extra = log([("c9", 0, W), ("c9", 1 * H, B), ("c9", 5 * H, C)])
    customers = pd.DataFrame(
        {"customer_id": ["c1", "c2", "c3", "c4", "c9"], "persona": ["s", "s", "m", "m", "s"]}
    )
    data = pd.concat([events, extra], ignore_index=True)
    f = on_both(
        funnel, data, STEPS, optional=[2], exclude=[C], breakdown="persona", customers=customers
    )
    # c2 removed (calls before B and M). B optional, M measured from W:
    # m: c3 (B 2h, M 1h), c4 (M 1h after entry); s: c1 (B 1h, M 2h), c9 (B 1h); none: c6
    assert column(f, "persona") == ["m"] * 3 + ["s"] * 3 + [None] * 3
    assert column(f, "customers") == [2, 1, 2, 2, 2, 1, 1, 1, 0]
    assert same(
        column(f, "median_time_to_step_s"),
        [0.0, 7200.0, 3600.0, 0.0, 3600.0, 7200.0, 0.0, float(WEEK), math.nan],
    )
    assert column(f, "conversion_from_previous")[2::3] == [1.0, 0.5, 0.0]
    assert f.excluded == 1


def test_ties_on_both_engines(on_both):
    ties = log([("c7", 0, W), ("c7", 0, B), ("c8", 0, B), ("c8", 0, W)])
    assert column(on_both(funnel, ties, [W, B], mode="any"), "customers") == [2, 1]


@pytest.mark.parametrize("optional", [[], [2]])
def test_ordered_counts_from_the_matches_equal_the_per_customer_table(on_both, optional):
    """Without exclusions or breakdown an ordered funnel is counted on each step's matches
    (count_matches); the per-customer table (count_steps) must give the same row."""
    from cjm_core.engine import duckdb_engine, events_table
    from cjm_core.funnel_query import (
        BUILDERS,
        Order,
        count_matches,
        count_steps,
        entries,
        ordered_matches,
    )
    from cjm_core.funnel_steps import read_steps

    rng = np.random.default_rng(4)
    n = 3000
    data = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in rng.integers(0, 200, n)],
            "timestamp": T0 + pd.to_timedelta(rng.integers(0, 20 * 86400, n), unit="s"),
            "touchpoint": rng.choice([W, B, M, C], n),
        }
    )
    steps = [W, B, M, C]
    plan = read_steps(steps, "touchpoint", optional=optional)
    eng, t = events_table(data, duckdb_engine())
    entry, base = entries(t, "touchpoint", plan, sorted(steps), "ordered", None)
    week = 7 * 86400.0
    direct = eng.execute(count_matches(entry, ordered_matches(entry, base, plan, week, Order())))
    table = eng.execute(
        count_steps(BUILDERS["ordered"](entry, base, plan, week, Order()), plan, False)
    )
    pd.testing.assert_frame_equal(direct[table.columns], table, check_dtype=False, check_exact=True)
    assert 0 < table["c4"].iloc[0] < table["c2"].iloc[0] < table["c1"].iloc[0]
    # and the funnel itself on both engines
    on_both(funnel, data, steps, optional=optional)
