"""The engine: inputs of every kind, identical outputs on DuckDB and Spark, journey order."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from cjm_core.engine import (
    EngineError,
    duckdb_engine,
    events_table,
    get_engine,
    use_engine,
    with_seq,
)
from cjm_core.errors import CjmError, MissingColumnError, NaiveTimestampError
from cjm_core.sequences import gap_seconds, journey_events, journey_label

ORDER = ["customer_id", "timestamp", "_seq"]


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture
def log() -> pd.DataFrame:
    """Customer a: two visits 10 min apart ending in a conversion, then two events at the
    same instant 2 h later (a tie: input order decides); customer b: one short journey."""
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b"],
            "timestamp": [
                ts("2024-01-01 10:00"),
                ts("2024-01-01 10:10"),
                ts("2024-01-01 12:00"),
                ts("2024-01-01 12:00"),
                ts("2024-01-02 00:00"),
                ts("2024-01-02 00:05"),
            ],
            "touchpoint": ["web", "app", "web", "call", "web", "web"],
            "event_type": ["interaction", "conversion", "interaction", None, None, "conversion"],
        }
    )


def _journeys(log, engine, **kw):
    eng, table = events_table(log, engine)
    j = journey_events(table, **kw)
    out = eng.execute(j.mutate(journey_id=journey_label(j)), order_by=ORDER)
    return out[["customer_id", "journey_id", "step", "is_last", "touchpoint"]]


def test_journeys_split_by_gap_and_conversion_on_both_engines(log, on_both):
    out = on_both(_journeys, log, gap="30min")
    assert out["journey_id"].tolist() == ["a#1", "a#1", "a#2", "a#2", "b#1", "b#1"]
    assert out["step"].tolist() == [1, 2, 1, 2, 1, 2]
    assert out["is_last"].tolist() == [False, True, False, True, False, True]
    assert out["touchpoint"].tolist()[2:4] == ["web", "call"], "ties keep input order"
    assert str(out["step"].dtype) == "int64"


def test_without_split_on_conversion_a_long_gap_still_splits(log, engine):
    out = _journeys(log, engine, gap="3h", split_on_conversion=False)
    assert out["journey_id"].tolist() == ["a#1"] * 4 + ["b#1"] * 2
    out = _journeys(log, engine, gap="3h", split_on_conversion=True)
    assert out["journey_id"].tolist() == ["a#1", "a#1", "a#2", "a#2", "b#1", "b#1"]


def test_given_journey_ids_are_used_when_no_gap_is_asked(log, engine):
    log = log.assign(journey_id=["j1", "j1", "j1", "j2", "j9", "j9"])
    out = _journeys(log, engine)
    assert out["journey_id"].tolist() == ["j1", "j1", "j1", "j2", "j9", "j9"]
    assert out["step"].tolist() == [1, 2, 3, 1, 1, 2]
    assert out["is_last"].tolist() == [False, False, True, True, False, True]


def test_events_out_of_order_are_sorted_by_time(log, engine):
    shuffled = log.iloc[[5, 3, 1, 0, 4, 2]].reset_index(drop=True)
    out = _journeys(shuffled, engine, gap="30min")
    assert out["touchpoint"].tolist()[:2] == ["web", "app"]
    # the tie at 12:00: input order now puts "call" (row 1) before "web" (row 5)
    assert out["touchpoint"].tolist()[2:4] == ["call", "web"]


def test_one_event_is_one_journey_of_one_step(engine):
    one = pd.DataFrame(
        {"customer_id": ["x"], "timestamp": [ts("2024-05-01")], "touchpoint": ["web"]}
    )
    out = _journeys(one, engine, gap="30min")
    assert out[["journey_id", "step", "is_last"]].iloc[0].tolist() == ["x#1", 1, True]


def test_inputs_of_every_kind(log, tmp_path):
    engine = duckdb_engine()
    path = tmp_path / "events.parquet"
    log.to_parquet(path)

    def read(data):  # files and Ibis tables get a generated order (with_seq)
        return engine.execute(with_seq(events_table(data, engine)[1]), order_by=ORDER)

    from_file, from_frame, from_ibis = read(path), read(log), read(ibis.memtable(log))
    cols = ["customer_id", "timestamp", "touchpoint", "event_type"]
    # files have no row order to keep: the 12:00 tie is ordered by touchpoint (call < web)
    assert from_file["touchpoint"].tolist() == ["web", "app", "call", "web", "web", "web"]
    pd.testing.assert_frame_equal(from_ibis[cols], from_file[cols])
    assert from_frame["touchpoint"].tolist()[2:4] == ["web", "call"], "frames keep row order"
    assert from_frame["event_type"].tolist()[3] == "interaction", "missing event_type filled"
    assert from_frame["timestamp"].dtype == "datetime64[us, UTC]"


def test_spark_dataframe_input(log, spark, spark_engine):
    sdf = spark.createDataFrame(log.astype({"customer_id": object, "touchpoint": object}))
    out = _journeys(sdf, spark_engine, gap="30min")
    assert out["journey_id"].tolist()[:2] == ["a#1", "a#1"]
    with pytest.raises(EngineError, match="Spark DataFrame"):
        events_table(sdf, duckdb_engine())


def test_bad_inputs_are_clear_errors(log):
    with pytest.raises(MissingColumnError, match="touchpoint"):
        events_table(log.drop(columns="touchpoint"))
    naive = log.assign(timestamp=log["timestamp"].dt.tz_localize(None))
    with pytest.raises(NaiveTimestampError, match="tz_localize"):
        events_table(naive)
    with pytest.raises(EngineError, match="tz-aware"):
        events_table(log.assign(timestamp="2024-01-01"))
    with pytest.raises(EngineError, match="does not exist"):
        events_table("/no/such/file.parquet")
    with pytest.raises(EngineError, match="DataFrame"):
        events_table(42)
    with pytest.raises(EngineError, match="Unknown engine"):
        get_engine("oracle")
    with pytest.raises(CjmError, match="30min"):
        gap_seconds("soon")
    with pytest.raises(CjmError, match="positive"):
        gap_seconds(0)


def test_use_engine_sets_the_default_for_a_block():
    engine = duckdb_engine()
    with use_engine(engine):
        assert get_engine() is engine
    assert get_engine() is not engine


def test_sub_second_gaps_split_the_same_on_both_engines(on_both):
    base = ts("2024-01-01 10:00:00.700")
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a"],
            "timestamp": [
                base,
                base + pd.Timedelta(seconds=1799.6),  # inside 30 min
                base + pd.Timedelta(seconds=1799.6 + 1800.3),  # 0.3 s past 30 min
            ],
            "touchpoint": ["web", "web", "web"],
        }
    )
    out = on_both(_journeys, log, gap="30min")
    assert out["journey_id"].tolist() == ["a#1", "a#1", "a#2"]
