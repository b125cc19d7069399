"""Units of analysis for studies: a tiny hand-built bundle whose every unit is counted by hand,
then the banking generator's planted truth."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cjm_core.bundle import load_bundle
from cjm_core.errors import StudyError
from cjm_core.model import JourneyCatalog
from cjm_core.studies import before_after
from cjm_core.study_metrics import METRICS, Metric, describe_metric, get_metric, metric_units

CATALOG = JourneyCatalog.from_dict(
    {
        "name": "mini",
        "stages": [{"id": "aware", "name": "Aware"}, {"id": "consider", "name": "Consider"},
                   {"id": "buy", "name": "Buy"}],
        "channels": [{"id": "web", "name": "Web"}, {"id": "phone", "name": "Phone"}],
        "touchpoints": [
            {"id": "ad", "name": "Ad", "channel": "web", "stage": "aware", "kind": "digital"},
            {"id": "website", "name": "Website", "channel": "web", "stage": "consider",
             "kind": "digital"},
            {"id": "call", "name": "Call", "channel": "phone", "stage": "consider",
             "kind": "assisted"},
            {"id": "shop", "name": "Shop", "channel": "web", "stage": "buy", "kind": "digital"},
        ],
        "metrics": [{"id": "rating", "name": "Review rating", "min": 1, "max": 5}],
    }
)  # fmt: skip

NAN = float("nan")
IA, CV = "interaction", "conversion"
# (customer, journey, time, touchpoint, event_type, value, duration_s); the row order matters
# for ties (drop_off breaks them by row order). Traps are commented.
EVENTS = [
    ("a", "j1", "03-01 09:00", "ad", IA, NAN, 5),
    ("a", "j1", "03-01 10:00", "call", IA, NAN, 300),
    ("a", "j1", "03-02 10:00", "website", IA, NAN, 40),
    ("a", "j1", "03-03 10:00", "shop", CV, 100, 60),
    ("a", "j2", "03-20 08:00", "shop", IA, NAN, 60),  # a later stage *before* the call
    ("a", "j2", "03-20 09:00", "call", IA, NAN, 600),
    ("a", "j2", "03-20 09:30", "call", IA, NAN, NAN),  # no duration: set aside in wait_time
    ("a", "j9", "03-25 10:00", "shop", CV, 20, 60),  # a's repeat purchase, no call
    ("b", "j3", "03-05 10:00", "shop", CV, 50, 60),  # converts *before* the call
    ("b", "j3", "03-05 11:00", "call", IA, NAN, 120),
    ("b", "j3", "03-05 12:00", "website", IA, NAN, 40),
    ("b", "j11", "04-04 11:00", "shop", CV, 7, 60),  # exactly 30 days after b's first call
    ("b", "j4", "04-10 10:00", "call", IA, NAN, 60),
    ("b", "j4", "04-10 10:00", "shop", CV, 80, 60),  # same instant as the call: counts
    ("c", "j5", "04-15 10:00", "website", IA, NAN, 40),
    ("c", "j5", "04-15 11:00", "call", IA, NAN, 30),
    ("c", "j5", "04-15 11:00", "website", IA, NAN, 40),  # tie, later row: the last event
    ("c", "j6", "04-20 10:00", "ad", IA, NAN, 5),
    ("c", "j6", "04-21 10:00", "shop", CV, 30, 60),
    ("c", "j7", "04-25 10:00", "website", IA, NAN, 40),
    ("c", "j7", "04-25 10:00", "call", IA, NAN, 90),  # tie, later row: ends at the call
    ("d", "j8", "04-18 10:00", "call", IA, NAN, 45),
    ("d", "j8", "04-19 10:00", "shop", IA, NAN, 60),
    ("e", "j10", "05-16 00:00", "ad", IA, NAN, 5),  # the last event of the data
]
# (customer, time, touchpoint, metric, score)
FEEDBACK = [
    ("a", "03-02 12:00", "call", "csat", 2),
    ("a", "03-10 12:00", "website", "csat", 1),
    ("b", "04-01 12:00", None, "csat", 4),  # no touchpoint: set aside, but is b's history
    ("b", "04-05 12:00", "call", "csat", 3),
    ("a", "04-12 12:00", "call", "csat", 5),
    ("c", "04-16 12:00", "call", "csat", 4),
    ("a", "04-01 13:00", None, "nps", 10),
    ("d", "04-20 12:00", "call", "nps", 9),
    ("b", "03-15 12:00", "call", "nps", 6),
    ("a", "03-12 12:00", "website", "ces", 6),
    ("a", "03-13 12:00", "website", "rating", 4),
]
CUSTOMERS = {
    "customer_id": ["a", "b", "c", "d", "e"],
    "persona": ["p1", "p2", "p1", "p2", "p1"],
    "region": ["north", "south", "north", "east", "west"],
}


def _ts(text: str) -> str:
    return f"2024-{text}Z"


def _tables() -> dict[str, pd.DataFrame]:
    cols = ["customer_id", "journey_id", "timestamp", "touchpoint", "event_type", "value",
            "duration_s"]  # fmt: skip
    events = pd.DataFrame(EVENTS, columns=cols).assign(timestamp=lambda d: d.timestamp.map(_ts))
    cols = ["customer_id", "timestamp", "touchpoint", "metric", "score"]
    feedback = pd.DataFrame(FEEDBACK, columns=cols).assign(timestamp=lambda d: d.timestamp.map(_ts))
    return {"events": events, "feedback": feedback, "customers": pd.DataFrame(CUSTOMERS)}


@pytest.fixture
def bundle():
    return load_bundle(_tables(), template=CATALOG)


def _col(df: pd.DataFrame, name: str) -> list:
    return df[name].tolist()


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(_ts(text))


# -- journeys ------------------------------------------------------------------------------
JOURNEYS = ["a/j1", "b/j3", "a/j2", "b/j4", "c/j5", "d/j8", "c/j7"]  # by first call


def test_conversion_units_by_hand(bundle):
    df = metric_units(bundle, "conversion", "call")
    assert list(df.columns) == ["unit", "customer_id", "time", "value", "persona", "region",
                                "history", "has_history", "history_complete"]  # fmt: skip
    assert _col(df, "unit") == JOURNEYS
    assert _col(df, "customer_id") == ["a", "b", "a", "b", "c", "d", "c"]
    firsts = ["03-01 10:00", "03-05 11:00", "03-20 09:00", "04-10 10:00", "04-15 11:00",
              "04-18 10:00", "04-25 10:00"]  # fmt: skip
    assert _col(df, "time") == [_utc(t) for t in firsts]
    # a/j1 converts after the call; b/j3 only before it; b/j4 at the same instant
    assert _col(df, "value") == [1, 0, 0, 1, 0, 0, 0]
    assert _col(df, "persona") == ["p1", "p2", "p1", "p2", "p1", "p2", "p1"]
    assert _col(df, "region") == ["north", "south", "north", "south", "north", "east", "north"]
    # conversions of the customer in the 90 days strictly before the unit's time
    # b/j4 (04-10 10:00): 03-05 and 04-04 count, its own 04-10 10:00 conversion does not
    assert _col(df, "history") == [0, 1, 1, 2, 0, 0, 1]
    assert _col(df, "has_history") == [True] * 5 + [False, True]  # d: first event is the call
    assert not df["history_complete"].any()  # data start 03-01 09:00: no 90-day window fits
    assert df.attrs["left_out"] == {} and df.attrs["notes"] == []
    assert df.attrs["data_start"] == _utc("03-01 09:00")
    assert df.attrs["data_end"] == _utc("05-16 00:00")
    assert (df.attrs["metric"], df.attrs["kind"], df.attrs["unit"]) == (
        "conversion", "proportion", "journey")  # fmt: skip


def test_conversion_units_reproduce_the_before_after_study(bundle):
    df = metric_units(bundle, "conversion", "call")
    after = df["time"] >= pd.Timestamp("2024-04-01", tz="UTC")
    (row,) = before_after(bundle, "call", "2024-04-01", metrics="conversion").results
    assert (row.n_before, row.n_after) == (3, 4) == ((~after).sum(), after.sum())
    assert row.before == pytest.approx(1 / 3) == df.value[~after].mean()
    assert row.after == pytest.approx(1 / 4) == df.value[after].mean()


def test_history_window_is_a_parameter(bundle):
    df = metric_units(bundle, "conversion", "call", history_days=10)
    # b/j3 [02-24 11:00, 03-05 11:00): 03-05 10:00; b/j4 [03-31, 04-10): 04-04; c/j7: 04-21
    assert _col(df, "history") == [0, 1, 0, 1, 0, 0, 1]
    assert _col(df, "history_complete") == [False, False, True, True, True, True, True]


def test_stage_conversion_needs_a_later_stage_after_the_visit(bundle):
    df = metric_units(bundle, "stage_conversion", "call")
    assert _col(df, "unit") == JOURNEYS
    # a/j2 saw the shop before the call: no; website is the call's own stage: no
    assert _col(df, "value") == [1, 0, 0, 1, 0, 1, 0]
    assert METRICS["stage_conversion"].kind == "proportion"


def test_drop_off_is_a_last_event_at_the_touchpoint_without_conversion(bundle):
    df = metric_units(bundle, "drop_off", "call")
    # a/j2 ends at the call; c/j7 ties website and call at its last instant, call row last;
    # c/j5 ties the other way; b/j4's last row is its conversion
    assert _col(df, "value") == [0, 0, 1, 0, 0, 0, 1]
    assert not METRICS["drop_off"].higher_is_better


def test_time_to_convert_keeps_converting_journeys(bundle):
    df = metric_units(bundle, "time_to_convert", "call")
    assert _col(df, "unit") == ["a/j1", "b/j4"]
    assert _col(df, "value") == [2 * 86_400.0, 0.0]
    assert _col(df, "history") == [0, 2]
    assert METRICS["time_to_convert"].kind == "skewed"


def test_without_journey_id_a_customer_history_is_one_journey(bundle):
    events = bundle.events.drop(columns="journey_id")
    lite = SimpleNamespace(catalog=CATALOG, events=events, feedback=None,
                           customers=bundle.customers)  # fmt: skip
    df = metric_units(lite, "conversion", "call")
    # first calls: a 03-01, b 03-05 (converts 04-04), c 04-15 (converts 04-21), d never
    assert _col(df, "unit") == ["a", "b", "c", "d"]
    assert _col(df, "value") == [1, 1, 1, 0]
    assert "no journey_id" in df.attrs["notes"][0]


# -- feedback ------------------------------------------------------------------------------


def test_csat_units_are_answers_at_the_touchpoint(bundle):
    df = metric_units(bundle, "csat", "call")
    assert _col(df, "unit") == ["feedback:0", "feedback:3", "feedback:4", "feedback:5"]
    assert _col(df, "time") == [_utc(t) for t in ["03-02 12:00", "04-05 12:00", "04-12 12:00",
                                                   "04-16 12:00"]]  # fmt: skip
    assert _col(df, "value") == [2, 3, 5, 4]
    # earlier csat of the same customer, any touchpoint or none: b 4; a mean(2, 1)
    assert _col(df, "history") == [0, 4, 1.5, 0]
    assert _col(df, "has_history") == [False, True, True, False]
    assert df.attrs["left_out"] == {"csat answers without a touchpoint (not about one)": 1}


def test_csat_units_reproduce_the_before_after_study(bundle):
    df = metric_units(bundle, "csat", "call")
    after = df["time"] >= pd.Timestamp("2024-04-10", tz="UTC")
    (row,) = before_after(bundle, "call", "2024-04-10", metrics="csat").results
    assert (row.n_before, row.n_after, row.before, row.after) == (2, 2, 2.5, 4.5)
    assert (df.value[~after].mean(), df.value[after].mean()) == (2.5, 4.5)


def test_nps_and_template_metrics(bundle):
    df = metric_units(bundle, "nps", "call")
    assert (_col(df, "value"), df.attrs["kind"]) == ([6, 9], "nps")
    assert df.attrs["left_out"] == {"nps answers without a touchpoint (not about one)": 1}
    rating = metric_units(bundle, "rating", "website")  # declared by the catalog only
    assert _col(rating, "value") == [4] and rating.attrs["kind"] == "mean"
    spec = get_metric("rating", CATALOG)
    assert (spec.kind, spec.unit, spec.higher_is_better) == ("mean", "response", True)
    assert "Review rating answers (1 .. 5)" in describe_metric("rating", CATALOG)


def test_feedback_errors_name_what_exists(bundle):
    with pytest.raises(StudyError, match="No 'ces' answers at touchpoint 'call'.*: website"):
        metric_units(bundle, "ces", "call")
    no_feedback = SimpleNamespace(catalog=CATALOG, events=bundle.events, feedback=None,
                                  customers=None)  # fmt: skip
    with pytest.raises(StudyError, match="needs feedback, but the bundle has none"):
        metric_units(no_feedback, "csat", "call")
    bare = SimpleNamespace(
        catalog=CATALOG,
        events=bundle.events,
        feedback=bundle.feedback.drop(columns="touchpoint"),
        customers=None,
    )
    with pytest.raises(StudyError, match="column\\(s\\) touchpoint in feedback"):
        metric_units(bare, "csat", "call")


# -- events and customers ------------------------------------------------------------------


def test_wait_time_units_are_call_events_with_a_duration(bundle):
    df = metric_units(bundle, "wait_time", "call")
    assert _col(df, "unit") == ["event:1", "event:9", "event:5", "event:12", "event:15",
                                "event:21", "event:20"]  # fmt: skip
    assert _col(df, "value") == [300, 120, 600, 60, 30, 45, 90]
    # earlier call events of the customer (the one without a duration counts too)
    assert _col(df, "history") == [0, 0, 1, 1, 0, 0, 1]
    assert df.attrs["left_out"] == {"events at the touchpoint without duration_s": 1}
    assert METRICS["wait_time"].kind == "skewed" and not METRICS["wait_time"].higher_is_better


def test_repeat_purchase_leaves_out_windows_past_the_data(bundle):
    df = metric_units(bundle, "repeat_purchase", "call")
    # a: first conversion after the call 03-03 10:00, again 03-25 -> 1
    # b: 04-04 11:00 (a journey without the call), again 04-10 -> 1; c: 04-21 + 30 > 05-16
    assert _col(df, "unit") == ["a", "b"]
    assert _col(df, "time") == [_utc("03-03 10:00"), _utc("04-04 11:00")]
    assert _col(df, "value") == [1, 1]
    assert _col(df, "history") == [0, 1]
    ((reason, n),) = df.attrs["left_out"].items()
    assert n == 1 and "30-day window runs past the last event (2024-05-16 00:00 UTC)" in reason
    six = metric_units(bundle, "repeat_purchase", "call", repeat_days=6)
    # windows (t, t + 6 days]: a none; b reaches 04-10 10:00 (< 04-10 11:00); c kept, none
    assert (_col(six, "unit"), _col(six, "value")) == (["a", "b", "c"], [0, 1, 0])
    assert six.attrs["left_out"] == {}


def test_revenue_per_customer_sums_values_from_the_first_visit(bundle):
    df = metric_units(bundle, "revenue_per_customer", "call")
    # a: 100 + 20; b: 50 was before the call, 7 lands exactly on day 30 (included); c: 30;
    # d: 04-18 + 30 days > 05-16 -> left out
    assert _col(df, "unit") == ["a", "b", "c"]
    assert _col(df, "value") == [120, 7, 30]
    assert _col(df, "history") == [0, 50, 0]
    assert sum(df.attrs["left_out"].values()) == 1
    short = metric_units(bundle, "revenue_per_customer", "call", revenue_days=29.5)
    assert _col(short, "value") == [120, 0, 30]  # b's 7 falls just outside 29.5 days


def test_region_falls_back_to_the_earliest_event_and_missing_customers_are_noted(bundle):
    events = bundle.events.assign(region=["r1"] * 8 + ["r2"] * 6 + ["r3"] * 9 + ["r4"])
    customers = bundle.customers.drop(columns="region").iloc[:3]  # d and e missing
    lite = SimpleNamespace(catalog=CATALOG, events=events, feedback=None, customers=customers)
    df = metric_units(lite, "conversion", "call")
    assert _col(df, "region") == ["r1", "r2", "r1", "r2", "r3", "r3", "r3"]
    assert _col(df, "persona")[:5] == ["p1", "p2", "p1", "p2", "p1"]
    assert math.isnan(_col(df, "persona")[5])
    assert df.attrs["notes"] == ["1 unit(s) of customers not in customers"]
    none = SimpleNamespace(catalog=CATALOG, events=bundle.events, feedback=None, customers=None)
    df = metric_units(none, "conversion", "call")
    assert "region" not in df.columns and df["persona"].isna().all()


# -- errors --------------------------------------------------------------------------------


def test_unknown_metric_lists_the_known_ones(bundle):
    with pytest.raises(StudyError, match="Unknown metric 'sales'.*conversion.*wait_time.*rating"):
        metric_units(bundle, "sales", "call")
    with pytest.raises(StudyError, match="Unknown metric 'rating'"):
        describe_metric("rating")  # only the catalog declares it


def test_touchpoint_errors(bundle):
    with pytest.raises(StudyError, match="Unknown touchpoint 'phone'.*ad, website, call, shop"):
        metric_units(bundle, "conversion", "phone")
    quiet = SimpleNamespace(catalog=CATALOG, events=bundle.events.query("touchpoint != 'call'"),
                            feedback=None, customers=None)  # fmt: skip
    with pytest.raises(StudyError, match="No events at touchpoint 'call'.*ad, shop, website"):
        metric_units(quiet, "conversion", "call")
    with pytest.raises(StudyError, match="'shop' is in the last stage \\('buy'\\)"):
        metric_units(bundle, "stage_conversion", "shop")


@pytest.mark.parametrize(
    ("metric", "column", "fix"),
    [
        ("wait_time", "duration_s", "in seconds in duration_s"),
        ("conversion", "event_type", "event_type = 'conversion'"),
        ("repeat_purchase", "event_type", "event_type = 'conversion'"),
        ("revenue_per_customer", "value", "money value"),
    ],
)
def test_missing_columns_are_named_with_the_fix(bundle, metric, column, fix):
    events = bundle.events.drop(columns=column)
    lite = SimpleNamespace(catalog=CATALOG, events=events, feedback=None, customers=None)
    with pytest.raises(StudyError, match=f"needs column\\(s\\) {column} in events.*{fix}"):
        metric_units(lite, metric, "call")


def test_bad_inputs_are_refused(bundle):
    with pytest.raises(StudyError, match="history_days must be a positive number of days"):
        metric_units(bundle, "conversion", "call", history_days=0)
    with pytest.raises(StudyError, match="repeat_days must be a positive"):
        metric_units(bundle, "repeat_purchase", "call", repeat_days="30")
    events = bundle.events.assign(journey_id=bundle.events.journey_id.where(lambda s: s != "j2"))
    lite = SimpleNamespace(catalog=CATALOG, events=events, feedback=None, customers=None)
    with pytest.raises(StudyError, match="3 event\\(s\\) have no journey_id"):
        metric_units(lite, "conversion", "call")
    naive = bundle.events.assign(timestamp=bundle.events.timestamp.dt.tz_localize(None))
    with pytest.raises(StudyError, match="events.timestamp must be time-zone aware"):
        metric_units(SimpleNamespace(catalog=CATALOG, events=naive, feedback=None,
                                     customers=None), "conversion", "call")  # fmt: skip
    twice = SimpleNamespace(catalog=CATALOG, events=bundle.events, feedback=None,
                            customers=pd.concat([bundle.customers] * 2))  # fmt: skip
    with pytest.raises(StudyError, match="customers.customer_id has 5 duplicate"):
        metric_units(twice, "conversion", "call")
    with pytest.raises(StudyError, match="kind 'ratio' must be one of"):
        Metric("x", "ratio", "journey", "")


def test_registry_and_descriptions():
    assert set(METRICS) >= {"conversion", "stage_conversion", "drop_off", "time_to_convert",
                            "csat", "nps", "ces", "wait_time", "repeat_purchase",
                            "revenue_per_customer"}  # fmt: skip
    text = describe_metric("repeat_purchase")
    assert text.startswith("repeat_purchase (proportion per customer; higher is better): ")
    assert "(t, t + repeat_days]" in text and "a real zero" in text
    assert "not a real zero" in describe_metric("csat")
    with pytest.raises(AttributeError):
        METRICS["csat"].kind = "nps"  # frozen


# -- the banking generator's planted truth -------------------------------------------------


@pytest.fixture(scope="module")
def banking():
    from cjm_banking.generator import generate

    data = generate(customers=20_000, seed=7)
    return load_bundle(data.tables, template="banking"), data.truth


def _split(df: pd.DataFrame, date: str):
    after = (df["time"] >= pd.Timestamp(date, tz="UTC")).to_numpy()
    return df["value"].to_numpy()[~after], df["value"].to_numpy()[after]


def test_banking_conversion_and_csat_match_the_planted_truth(banking):
    bundle, truth = banking
    tp, date = truth["intervention"]["touchpoint"], truth["intervention"]["date"]
    for metric in ("conversion", "csat"):
        effect = truth["effects"][metric]
        for values, period in zip(_split(metric_units(bundle, metric, tp), date),
                                  ("before", "after"), strict=True):  # fmt: skip
            se = values.std(ddof=1) / math.sqrt(len(values))
            assert abs(values.mean() - effect[period]) < 4 * se, (metric, period)
            assert se < (0.01 if metric == "conversion" else 0.04)  # the check has teeth


def test_banking_wait_time_medians_match_the_planted_truth(banking):
    bundle, truth = banking
    tp, date = truth["intervention"]["touchpoint"], truth["intervention"]["date"]
    effect = truth["effects"]["wait_time_s"]
    for values, period in zip(_split(metric_units(bundle, "wait_time", tp), date),
                              ("before", "after"), strict=True):  # fmt: skip
        # lognormal with sigma 0.6: the sample median's log has s.e. 1.2533 * 0.6 / sqrt(n)
        se = 1.2533 * 0.6 / math.sqrt(len(values))
        assert abs(math.log(np.median(values) / effect[f"median_{period}"])) < 4 * se


def test_banking_every_metric_is_fast(banking):
    bundle, _ = banking
    assert len(bundle.events) > 140_000
    for metric in [m for m in METRICS if m not in ("nps", "ces")]:
        best = min(_timed(bundle, metric) for _ in range(2))
        assert best < 1.0, (metric, best)


def _timed(bundle, metric: str) -> float:
    start = time.perf_counter()
    metric_units(bundle, metric, "call_centre")
    return time.perf_counter() - start
