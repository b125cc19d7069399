"""Data contracts: every bad input of issue 2 point 4, strict and lenient modes, dtypes."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from cjm_core.errors import (
    ERROR_BY_KIND,
    CjmError,
    ColumnTypeError,
    DataValidationError,
    DuplicateRowsError,
    EmptyTableError,
    MissingColumnError,
    MissingValueError,
    NaiveTimestampError,
    ScoreRangeError,
    TimestampError,
    UnknownMetricError,
    UnknownTouchpointError,
    ValueRangeError,
)
from cjm_core.schema import (
    Problem,
    check_table,
    empty_table,
    validate_costs,
    validate_customers,
    validate_events,
    validate_feedback,
    validate_table,
)


def raises(cls, fn, *args, **kw) -> DataValidationError:
    with pytest.raises(cls) as info:
        fn(*args, **kw)
    return info.value


def assert_names(err: DataValidationError, column: str, count: int, rows: list[int]) -> Problem:
    """The first problem names the column, the count and the first rows, in its message."""
    p = err.problems[0]
    assert (p.column, p.count, list(p.rows[:5])) == (column, count, rows[:5])
    where = f"{p.table}.{column}" if column != "*" else p.table
    assert p.message.startswith(f"{where}: {count} ")
    first = ", ".join(map(str, rows[:5]))
    assert f"row{'s' if count > 1 else ''} {first}" in p.message
    assert "Fix:" in p.message
    assert p.message in str(err)
    return p


# -- valid input ---------------------------------------------------------------------------


def test_valid_events_get_canonical_dtypes_and_keep_order(events_df, catalog):
    res = validate_events(events_df, catalog)
    t = res.table
    assert (res.n_in, res.n_kept, res.n_rejected, res.problems) == (8, 8, 0, [])
    assert str(t["timestamp"].dtype) == "datetime64[us, UTC]"
    for col in ("customer_id", "touchpoint", "channel", "event_type", "journey_id"):
        assert t[col].dtype == "str", col
    assert t["value"].dtype == "float64" and t["duration_s"].dtype == "float64"
    assert list(t.columns) == [
        "customer_id",
        "timestamp",
        "touchpoint",
        "channel",
        "event_type",
        "value",
        "duration_s",
        "journey_id",
        "region",
    ]
    assert t["touchpoint"].tolist() == events_df["touchpoint"].tolist()  # input order kept
    assert t["channel"].tolist() == [
        "web",
        "app",
        "branch",
        "web",
        "phone",
        "app",
        "phone",
        "branch",
    ]
    assert t["region"].tolist() == events_df["region"].tolist()  # extra column untouched
    assert t["value"].iloc[7] == -15.5  # refunds may be negative
    assert t.index.tolist() == list(range(8))
    assert res.rejected.empty and {"_row", "reason"} <= set(res.rejected.columns)


def test_input_frame_is_not_modified(events_df, catalog):
    before = events_df.copy()
    validate_events(events_df, catalog)
    pd.testing.assert_frame_equal(events_df, before)


def test_offsets_are_converted_to_utc(events_df, catalog):
    df = events_df.head(4).copy()
    df["timestamp"] = [
        "2024-03-01T10:00:00+02:00",
        "2024-03-01T10:00:00-05:00",
        "2024-03-01 10:00:00+0530",
        "2024-03-01T10:00:00.250Z",
    ]
    got = validate_events(df, catalog).table["timestamp"]
    assert got.tolist() == [
        pd.Timestamp("2024-03-01 08:00", tz="UTC"),
        pd.Timestamp("2024-03-01 15:00", tz="UTC"),
        pd.Timestamp("2024-03-01 04:30", tz="UTC"),
        pd.Timestamp("2024-03-01 10:00:00.250", tz="UTC"),
    ]


def test_aware_datetime_column_in_another_zone_is_converted(events_df, catalog):
    df = events_df.head(2).copy()
    df["timestamp"] = pd.to_datetime(["2024-07-01 10:00", "2024-07-01 11:00"]).tz_localize(
        "Europe/Lisbon"
    )
    got = validate_events(df, catalog).table["timestamp"]
    assert got.tolist() == [
        pd.Timestamp("2024-07-01 09:00", tz="UTC"),
        pd.Timestamp("2024-07-01 10:00", tz="UTC"),
    ]
    assert str(got.dtype) == "datetime64[us, UTC]"


def test_derived_columns_fill_nulls_from_catalog_and_default(events_df, catalog):
    df = events_df.drop(columns=["event_type"]).copy()
    df["channel"] = ["web", None, None, "web", "phone", "app", None, "branch"]
    t = validate_events(df, catalog).table
    assert t["event_type"].tolist() == ["interaction"] * 8
    assert t["channel"].tolist()[:3] == ["web", "app", "branch"]
    df2 = events_df.copy()
    df2.loc[1:2, "event_type"] = [None, " "]
    df2["channel"] = ""
    t2 = validate_events(df2, catalog).table
    assert t2["event_type"].tolist()[:3] == ["interaction"] * 3  # row 2 was "conversion"
    assert t2["channel"].tolist() == t["channel"].tolist()


def test_numeric_ids_become_text(customers_df, events_df, catalog):
    customers_df["customer_id"] = [1, 2, 3]
    assert validate_customers(customers_df).table["customer_id"].tolist() == ["1", "2", "3"]
    events_df["customer_id"] = [1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, np.nan]
    err = raises(MissingValueError, validate_events, events_df, catalog)
    assert_names(err, "customer_id", 1, [7])
    res = validate_events(events_df, catalog, lenient=True)
    assert res.table["customer_id"].tolist() == ["1", "1", "1", "2", "2", "3", "3"]


def test_datetime_objects_in_an_object_column(events_df, catalog):
    df = events_df.head(3).copy()
    df["timestamp"] = pd.Series(
        [
            dt.datetime(2024, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            "2024-03-01T10:00:00Z",
            dt.datetime(2024, 3, 1, 10),  # naive
        ],
        dtype=object,
    )
    err = raises(NaiveTimestampError, validate_events, df, catalog)
    assert_names(err, "timestamp", 1, [2])
    got = validate_events(df, catalog, assume_timezone="UTC").table["timestamp"]
    assert got.dt.hour.tolist() == [9, 10, 10]


def test_feedback_customers_costs_valid(feedback_df, customers_df, costs_df, catalog):
    fb = validate_feedback(feedback_df, catalog).table
    assert fb["score"].tolist() == [9.0, 4.0, 2.0, 6.0, 0.75]
    assert fb["touchpoint"].isna().tolist() == [False, False, False, True, False]
    assert fb["comment"].dtype == "str" and fb["comment"].isna().sum() == 1
    cu = validate_customers(customers_df).table
    assert cu["age"].tolist() == [34, 27, 61] and cu["age"].dtype == "int64"
    co = validate_costs(costs_df, catalog).table
    assert co["period"].tolist() == ["2024-02", "2024-03", "2024-03"]
    assert co["amount"].dtype == "float64"


def test_costs_period_from_dates_and_bad_periods(costs_df, catalog):
    df = costs_df.copy()
    df["period"] = pd.to_datetime(["2024-02-01", "2024-03-15", "2024-03-31"])
    assert validate_costs(df, catalog).table["period"].tolist() == ["2024-02", "2024-03", "2024-03"]
    df["period"] = ["2024-02", "2024-3", "March"]
    err = raises(ColumnTypeError, validate_costs, df, catalog)
    assert_names(err, "period", 2, [1, 2])
    assert "YYYY-MM" in err.problems[0].message


# -- table-level problems ------------------------------------------------------------------


@pytest.mark.parametrize("table", ["events", "feedback", "customers", "costs"])
def test_empty_input_raises_even_when_lenient(table, catalog):
    df = empty_table(table)
    for lenient in (False, True):
        err = raises(EmptyTableError, validate_table, table, df, catalog, lenient=lenient)
        assert f"{table}: the table has no rows" in str(err)


def test_missing_column_lists_present_and_canonical_and_suggests_mapping(events_df, catalog):
    df = events_df.rename(columns={"customer_id": "cust"})
    for lenient in (False, True):
        err = raises(MissingColumnError, validate_events, df, catalog, lenient=lenient)
    p = err.problems[0]
    assert (p.table, p.column, p.kind, p.level, p.count) == (
        "events",
        "customer_id",
        "missing_column",
        "table",
        0,
    )
    assert "columns present: cust, timestamp, touchpoint" in p.message
    assert "canonical columns: customer_id, timestamp, touchpoint (required)" in p.message
    assert "mapping={'cust': 'customer_id'}" in p.message


def test_every_missing_column_is_reported(events_df, catalog):
    err = raises(MissingColumnError, validate_events, events_df[["duration_s", "region"]], catalog)
    assert [p.column for p in err.problems] == ["customer_id", "timestamp", "touchpoint"]


# -- row-level problems --------------------------------------------------------------------


def test_missing_values(events_df, catalog):
    events_df.loc[[2, 6], "touchpoint"] = [None, "  "]
    err = raises(MissingValueError, validate_events, events_df, catalog)
    assert_names(err, "touchpoint", 2, [2, 6])


def test_mistyped_numeric_column(events_df, catalog):
    events_df["duration_s"] = events_df["duration_s"].astype(object)
    events_df.loc[[1, 4], "duration_s"] = ["abc", True]
    err = raises(ColumnTypeError, validate_events, events_df, catalog)
    p = assert_names(err, "duration_s", 2, [1, 4])
    assert "not numbers" in p.message and "'abc'" in p.message


def test_numbers_written_as_text_are_accepted(events_df, catalog):
    events_df["value"] = ["0", "0", "120.5", "", "0", "0", "0", "-1e1"]
    got = validate_events(events_df, catalog).table["value"]
    assert got.tolist()[:3] == [0.0, 0.0, 120.5] and np.isnan(got[3]) and got[7] == -10.0


def test_score_as_text_is_a_type_error(feedback_df, catalog):
    feedback_df["score"] = ["9", "four", "2", "6", "0.75"]
    err = raises(ColumnTypeError, validate_feedback, feedback_df, catalog)
    assert_names(err, "score", 1, [1])


def test_timestamps_given_as_numbers(events_df, catalog):
    events_df["timestamp"] = np.arange(8) * 3600 + 1_709_280_000
    err = raises(ColumnTypeError, validate_events, events_df, catalog)
    p = assert_names(err, "timestamp", 8, [0, 1, 2, 3, 4])
    assert "unit='s'" in p.message and "(first 5 of 8)" in p.message


def test_unparsable_timestamps(events_df, catalog):
    events_df.loc[[3, 5], "timestamp"] = ["yesterday", "2024-13-45T10:00:00Z"]
    err = raises(TimestampError, validate_events, events_df, catalog)
    p = assert_names(err, "timestamp", 2, [3, 5])
    assert "'yesterday'" in p.message and "ISO 8601" in p.message


def test_naive_timestamps_are_rejected_by_default(events_df, catalog):
    events_df.loc[[0, 4], "timestamp"] = ["2024-03-01 09:00:00", "2024-03-03"]
    err = raises(NaiveTimestampError, validate_events, events_df, catalog)
    p = assert_names(err, "timestamp", 2, [0, 4])
    assert "assume_timezone=" in p.message


@pytest.mark.parametrize(
    ("zone", "naive", "utc"),
    [
        ("Europe/Lisbon", "2024-01-15 10:00", "2024-01-15 10:00"),  # WET = UTC+0
        ("Europe/Lisbon", "2024-07-01 10:00", "2024-07-01 09:00"),  # WEST = UTC+1
        ("America/New_York", "2024-03-01T10:00:00", "2024-03-01 15:00"),
        ("UTC", "2024-03-01 10:00", "2024-03-01 10:00"),
    ],
)
def test_assume_timezone_localises_naive_values(events_df, catalog, zone, naive, utc):
    events_df.loc[0, "timestamp"] = naive
    got = validate_events(events_df, catalog, assume_timezone=zone).table["timestamp"]
    assert got[0] == pd.Timestamp(utc, tz="UTC")
    assert got[2] == pd.Timestamp("2024-03-02 08:00", tz="UTC")  # aware values untouched


def test_naive_datetime_column_with_assume_timezone(events_df, catalog):
    events_df["timestamp"] = pd.to_datetime(["2024-07-01 10:00"] * 8) + pd.to_timedelta(
        np.arange(8), unit="min"
    )
    raises(NaiveTimestampError, validate_events, events_df, catalog)
    got = validate_events(events_df, catalog, assume_timezone="Europe/Lisbon").table
    assert got["timestamp"][0] == pd.Timestamp("2024-07-01 09:00", tz="UTC")


def test_local_time_skipped_by_dst_is_reported(events_df, catalog):
    events_df.loc[3, "timestamp"] = "2024-03-31 01:30:00"  # Lisbon skips 01:00-02:00
    err = raises(
        TimestampError, validate_events, events_df, catalog, assume_timezone="Europe/Lisbon"
    )
    p = assert_names(err, "timestamp", 1, [3])
    assert "Europe/Lisbon" in p.message


def test_unknown_time_zone_name(events_df, catalog):
    with pytest.raises(CjmError, match="Unknown time zone 'Europe/Lisbo'"):
        validate_events(events_df, catalog, assume_timezone="Europe/Lisbo")


def test_unknown_touchpoint(events_df, catalog):
    events_df.loc[[1, 2, 7], "touchpoint"] = ["kiosk", "kiosk", "fax"]
    err = raises(UnknownTouchpointError, validate_events, events_df, catalog)
    p = assert_names(err, "touchpoint", 3, [1, 2, 7])
    assert "'kiosk', 'fax'" in p.message
    assert "known: website, mobile_app, call_centre, branch_visit" in p.message


def test_unknown_channel_and_channel_that_disagrees(events_df, catalog):
    events_df["channel"] = ["web", "app", "carrier_pigeon", "web", "web", "app", "phone", "branch"]
    err = raises(UnknownTouchpointError, validate_events, events_df, catalog)
    assert [(p.column, p.rows) for p in err.problems] == [("channel", (2,)), ("channel", (4,))]
    assert "not in the catalog" in err.problems[0].message
    assert "disagree with the catalog's channel" in err.problems[1].message


def test_unknown_metric(feedback_df, catalog):
    feedback_df.loc[2, "metric"] = "NPS"
    err = raises(UnknownMetricError, validate_feedback, feedback_df, catalog)
    p = assert_names(err, "metric", 1, [2])
    assert "use one of nps, csat, ces, rating" in p.message


@pytest.mark.parametrize(
    ("metric", "score", "scale"),
    [
        ("nps", 11, "0-10"),
        ("csat", 0, "1-5"),
        ("ces", 8, "1-7"),
        ("csat", 3.5, "1-5"),
        ("nps", -1, "0-10"),
        ("rating", 1.5, "0-1"),
    ],
)
def test_scores_off_their_scale(feedback_df, catalog, metric, score, scale):
    feedback_df.loc[3, ["metric", "score"]] = [metric, score]
    err = raises(ScoreRangeError, validate_feedback, feedback_df, catalog)
    p = assert_names(err, "score", 1, [3])
    assert f"{metric} scale {scale}" in p.message
    assert f"(values {float(score)!r})" in p.message


def test_scale_boundaries_and_fractional_custom_metric_pass(feedback_df, catalog):
    feedback_df["metric"] = ["nps", "nps", "csat", "ces", "rating"]
    feedback_df["score"] = [0, 10, 5, 7, 0.333]
    assert validate_feedback(feedback_df, catalog).n_kept == 5


def test_negative_duration_and_amount(events_df, costs_df, catalog):
    events_df.loc[5, "duration_s"] = -3.0
    err = raises(ValueRangeError, validate_events, events_df, catalog)
    assert_names(err, "duration_s", 1, [5])
    costs_df.loc[0, "amount"] = -1.0
    err = raises(ValueRangeError, validate_costs, costs_df, catalog)
    assert_names(err, "amount", 1, [0])


def test_exact_duplicate_rows_flag_later_copies(events_df, catalog):
    df = pd.concat([events_df, events_df.iloc[[2, 2, 5]]], ignore_index=True)
    err = raises(DuplicateRowsError, validate_events, df, catalog)
    p = assert_names(err, "*", 3, [8, 9, 10])
    assert "exact duplicate" in p.message
    res = validate_events(df, catalog, lenient=True)
    assert res.rejected["reason"].tolist() == ["exact duplicate of row 2"] * 2 + [
        "exact duplicate of row 5"
    ]
    assert res.n_kept == 8


def test_duplicate_customer_ids(customers_df):
    df = pd.concat([customers_df, customers_df.iloc[[0]]], ignore_index=True)
    df.loc[4] = ["c2", "saver", 50]  # same id, other attributes
    err = raises(DuplicateRowsError, validate_customers, df)
    assert [(p.column, p.rows) for p in err.problems] == [("*", (3,)), ("customer_id", (4,))]


# -- strict collects everything; lenient sets rows aside -----------------------------------


def bad_events(events_df: pd.DataFrame) -> pd.DataFrame:
    df = events_df.copy()
    df.loc[1, "touchpoint"] = "kiosk"
    df.loc[4, "timestamp"] = "2024-03-03 08:30"
    df.loc[4, "duration_s"] = -1.0
    df.loc[6, "timestamp"] = "not a time"
    return df


def test_strict_raises_first_problem_class_with_all_problems(events_df, catalog):
    err = raises(DataValidationError, validate_events, bad_events(events_df), catalog)
    kinds = [p.kind for p in err.problems]
    assert kinds == [
        "unparsable_timestamp",
        "naive_timestamp",
        "unknown_touchpoint",
        "out_of_range",
    ]
    assert type(err) is ERROR_BY_KIND[kinds[0]] is TimestampError
    assert str(err).startswith("Data validation failed for events: 4 problem(s):")
    for p in err.problems:
        assert f"\n  - {p.message}" in str(err)


def test_lenient_sets_bad_rows_aside_with_reasons(events_df, catalog, caplog):
    res = validate_events(bad_events(events_df), catalog, lenient=True)
    assert (res.n_in, res.n_kept, res.n_rejected) == (8, 5, 3)
    assert res.n_in == res.n_kept + res.n_rejected
    assert len(res.problems) == 4
    rej = res.rejected
    assert rej["_row"].tolist() == [1, 4, 6]
    assert list(rej.columns) == list(events_df.columns) + ["_row", "reason"]
    assert rej["reason"].tolist() == [
        "touchpoint='kiosk': not in the catalog",
        "timestamp='2024-03-03 08:30': no time zone; duration_s='-1.0': negative",
        "timestamp='not a time': not ISO 8601",
    ]
    assert rej["touchpoint"][0] == "kiosk"  # original values, not converted ones
    assert res.table["journey_id"].tolist() == ["j1", "j1", "j2", "j3", "j3"]
    assert "3 of 8 rows set aside" in caplog.text


def test_problem_rows_hold_every_row_and_examples_the_first_five(events_df, catalog):
    df = pd.concat([events_df, events_df.assign(journey_id="x")], ignore_index=True)
    df["touchpoint"] = "kiosk"
    res = check_table("events", df, catalog)
    p = res.problems[0]
    assert p.count == 16 and p.rows == tuple(range(16))
    assert [e["_row"] for e in p.examples] == [0, 1, 2, 3, 4]
    assert p.examples[0]["touchpoint"] == "kiosk"
    assert "rows 0, 1, 2, 3, 4 (first 5 of 16)" in p.message
    assert isinstance(hash(p), int)  # frozen and hashable


def test_check_table_never_raises_for_data_problems(events_df, catalog):
    res = check_table("events", events_df.rename(columns={"touchpoint": "tp"}), catalog)
    assert [p.kind for p in res.problems] == ["missing_column"]
    res = check_table("events", events_df.iloc[:0], catalog)
    assert [p.kind for p in res.problems] == ["empty"]


def test_bad_arguments(events_df, catalog):
    with pytest.raises(CjmError, match="No canonical table named 'event'"):
        validate_table("event", events_df, catalog)
    with pytest.raises(CjmError, match="needs a JourneyCatalog"):
        validate_table("events", events_df, None)
    with pytest.raises(CjmError, match="must be a pandas DataFrame"):
        validate_table("customers", [{"customer_id": "a"}])


def test_duplicate_column_names_raise(customers_df):
    df = pd.concat([customers_df, customers_df[["age"]]], axis=1)
    err = raises(MissingColumnError, validate_customers, df, lenient=True)
    assert "'age'" not in err.problems[0].message and "appears more than once" in str(err)


def test_large_table_is_fast(catalog):
    n = 200_000
    rng = np.random.default_rng(1)
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 86_400 * 90, n), unit="s"
    )
    df = pd.DataFrame(
        {
            "customer_id": pd.Series(rng.integers(0, 20_000, n)).astype(str),
            "timestamp": np.datetime_as_string(ts.tz_localize(None).to_numpy(), "s", "UTC"),
            "touchpoint": np.array(catalog.touchpoint_ids)[rng.integers(0, 4, n)],
            "duration_s": rng.exponential(60, n),
        }
    )
    start = time.perf_counter()
    res = validate_events(df, catalog, lenient=True)
    elapsed = time.perf_counter() - start
    assert res.n_in == n == res.n_kept + res.n_rejected
    assert elapsed < 10, f"validating {n} rows took {elapsed:.1f}s"


def test_docs_example_runs(capsys):
    import re
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "data-contracts.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    exec(compile(code, "docs/data-contracts.md", "exec"), {})
    out = capsys.readouterr().out
    assert "events.timestamp: 1 naive timestamp(s) without a time zone at row 1" in out
    assert "touchpoint='kiosk': not in the catalog" in out
