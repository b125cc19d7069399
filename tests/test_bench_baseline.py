"""The journey benchmark's yardsticks are right: the pandas baseline agrees with a tiny log
whose journeys, variants, transitions and funnel were counted by hand, and the synthetic
event log and the hand-tuned SQL pipeline behave as documented."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_journeys  # noqa: E402
import journey_baseline as baseline  # noqa: E402
from eventlog import FUNNEL, event_log_path, make_event_log  # noqa: E402

C = "conversion"
ROWS = [  # customer, time, touchpoint, event type
    ("a", "2024-01-01 10:00", "web", None),
    ("a", "2024-01-01 10:10", "product", None),
    ("a", "2024-01-01 10:20", "basket", C),  # a1 = web > product > basket, converted
    ("a", "2024-01-01 10:25", "web", None),  # a2: new journey right after a conversion
    ("a", "2024-01-01 11:30", "web", None),  # a3: 65 minutes later
    ("b", "2024-01-01 09:00", "web", None),  # b1
    ("b", "2024-01-01 09:45", "basket", None),  # b2 = product > basket (rows out of order)
    ("b", "2024-01-01 09:40", "product", None),
    ("c", "2024-01-01 12:05", "product", None),  # c1 = web > product (out of order)
    ("c", "2024-01-01 12:00", "web", None),
    ("d", "2024-01-01 08:00", "web", None),  # d1
    ("d", "2024-01-09 08:00", "product", None),  # d2: 8 days later (outside the 7D window)
    ("e", "2024-01-01 10:00", "product", None),  # e1 = product > web
    ("e", "2024-01-01 10:05", "web", None),
    ("f", "2024-01-01 13:00", "web", None),  # f1 = web > web: exactly 30 min is no split
    ("f", "2024-01-01 13:30", "web", None),
]


@pytest.fixture
def tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in ROWS],
            "timestamp": pd.to_datetime([r[1] for r in ROWS], utc=True),
            "touchpoint": [r[2] for r in ROWS],
            "event_type": [r[3] or "interaction" for r in ROWS],
        }
    )


def test_journeys_split_on_gap_and_after_conversion(tiny):
    summary = baseline.journey_summary(tiny, steps=["web", "product", "basket"])
    j = summary.journeys
    assert summary.n_journeys == 10
    assert j.groupby("customer_id").size().to_dict() == {
        "a": 3,
        "b": 2,
        "c": 1,
        "d": 2,
        "e": 1,
        "f": 1,
    }
    a1 = j.iloc[0]
    assert (a1["customer_id"], a1["n_events"], bool(a1["converted"])) == ("a", 3, True)
    assert a1["start"] == pd.Timestamp("2024-01-01 10:00", tz="UTC")
    assert a1["end"] == pd.Timestamp("2024-01-01 10:20", tz="UTC")
    assert int(j["converted"].sum()) == 1


def test_path_variants_counts_share_and_conversion(tiny):
    v = baseline.journey_summary(tiny, steps=["web"]).variants
    assert v[["path", "journeys"]].values.tolist() == [
        ["web", 4],
        ["product", 1],
        ["product > basket", 1],
        ["product > web", 1],
        ["web > product", 1],
        ["web > product > basket", 1],
        ["web > web", 1],
    ]
    assert v["share"].iloc[0] == pytest.approx(4 / 10)
    assert v["share"].sum() == pytest.approx(1.0)
    rate = dict(zip(v["path"], v["conversion_rate"], strict=True))
    assert rate["web > product > basket"] == 1.0 and rate["web"] == 0.0


def test_transitions_with_start_conversion_and_drop_off(tiny):
    t = baseline.journey_summary(tiny, steps=["web"]).transitions
    counts = {(s, d): n for s, d, n in t[["source", "target", "count"]].values}
    assert counts == {
        ("(start)", "web"): 7,
        ("(start)", "product"): 3,
        ("web", "product"): 2,
        ("web", "web"): 1,
        ("web", "(drop-off)"): 6,
        ("product", "basket"): 2,
        ("product", "web"): 1,
        ("product", "(drop-off)"): 2,
        ("basket", "(conversion)"): 1,
        ("basket", "(drop-off)"): 1,
    }
    p = {(s, d): x for s, d, x in t[["source", "target", "probability"]].values}
    assert p[("(start)", "web")] == pytest.approx(0.7)
    assert p[("web", "(drop-off)")] == pytest.approx(6 / 9)
    assert p[("basket", "(conversion)")] == pytest.approx(0.5)


def test_ordered_funnel_within_window(tiny):
    f = baseline.journey_summary(tiny, steps=["web", "product", "basket"]).funnel
    # entered: a b c d e f; product after web within 7 days: a b c (d too late, e before)
    assert f["customers"].tolist() == [6, 3, 2]
    assert baseline.journey_summary(tiny, steps=["web", "product"], window="10D").funnel[
        "customers"
    ].tolist() == [6, 4]


def test_headline_is_what_the_benchmark_compares(tiny):
    head = baseline.journey_summary(tiny, steps=["web", "product", "basket"]).headline()
    assert head == {"journeys": 10, "top_variant": 4, "funnel": [6, 3, 2]}


def test_event_log_is_canonical_deterministic_and_tie_free():
    df = make_event_log(20_000, seed=4)
    assert len(df) == 20_000 and df["customer_id"].nunique() == 2_000
    assert str(df["timestamp"].dtype) == "datetime64[us, UTC]"
    assert set(df["event_type"]) == {"interaction", "conversion"}
    assert df["value"].notna().sum() == (df["event_type"] == "conversion").sum()
    assert df["timestamp"].is_monotonic_increasing  # a log arrives ordered by time
    assert not df.duplicated(["customer_id", "timestamp"]).any()  # no ties per customer
    pd.testing.assert_frame_equal(df, make_event_log(20_000, seed=4))
    summary = baseline.journey_summary(df, steps=FUNNEL)
    per_customer = summary.n_journeys / 2_000
    conversion = summary.journeys["converted"].mean()
    assert 2.5 < per_customer < 5.5  # several 30-min journeys per customer
    assert 0.15 < conversion < 0.25  # about 20 % of journeys convert
    counts = summary.funnel["customers"].tolist()
    assert counts == sorted(counts, reverse=True) and counts[-1] > 0


def test_reference_sql_agrees_with_pandas(tmp_path):
    path = event_log_path(30_000, seed=2, cache_dir=tmp_path)
    assert path.exists() and event_log_path(30_000, seed=2, cache_dir=tmp_path) == path
    expected = baseline.journey_summary(path, steps=FUNNEL).headline()
    con = duckdb.connect(config={"threads": 1})
    headline, parts = bench_journeys.reference_sql(con, str(path), FUNNEL)
    assert headline == expected
    assert set(parts) == {"sessionise", "journeys", "variants", "transitions", "funnel"}


def test_disagreement_prints_a_warning():
    runs = {
        "pandas": [{"headline": {"journeys": 5, "funnel": [3, 1]}}],
        "cjm": [{"headline": {"journeys": 5, "funnel": [3, 2]}}],
    }
    lines = bench_journeys._agreement(runs)
    assert lines == ["  WARNING: cjm funnel = [3, 2] but pandas gives [3, 1]"]
    assert np.isclose(bench_journeys.TARGET_SECONDS, 6.0)
