"""The built-in file connector: CSV and Parquet, column mappings, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from cjm_core.connectors.files import (
    FILES_CONNECTOR,
    apply_mapping,
    find_files,
    load_mapping,
    read_files,
)
from cjm_core.errors import ConnectorError
from cjm_core.extensions import Connector
from cjm_core.schema import validate_table


@pytest.fixture
def tables(events_df, feedback_df, customers_df, costs_df) -> dict[str, pd.DataFrame]:
    return {
        "events": events_df,
        "feedback": feedback_df,
        "customers": customers_df,
        "costs": costs_df,
    }


def write(folder, tables, fmt="csv", rename=None):
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df = df.rename(columns=rename or {})
        if fmt == "parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            df.to_csv(folder / f"{name}.{fmt}", index=False)
    return folder


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_round_trip_gives_the_same_validated_tables(tmp_path, tables, catalog, fmt):
    folder = write(tmp_path / "data", tables, fmt)
    got = read_files(folder)
    assert sorted(got) == sorted(tables)
    for name, df in tables.items():
        want = validate_table(name, df, catalog).table
        have = validate_table(name, got[name], catalog).table
        pd.testing.assert_frame_equal(have, want)
        assert have["customer_id" if name != "costs" else "touchpoint"].dtype == "str"


def test_csv_keeps_id_text_and_leaves_timestamps_as_text(tmp_path, customers_df, events_df):
    customers_df["customer_id"] = ["007", "010", "100"]
    events_df["journey_id"] = ["0012"] * 8
    folder = write(tmp_path, {"customers": customers_df, "events": events_df})
    got = read_files(folder)
    assert got["customers"]["customer_id"].tolist() == ["007", "010", "100"]
    assert got["customers"]["age"].dtype == "int64"  # other columns keep inferred types
    assert got["events"]["journey_id"][0] == "0012"
    assert got["events"]["timestamp"].dtype == "str"


def test_flat_mapping_applies_to_every_table(tmp_path, tables, catalog):
    folder = write(tmp_path, tables, rename={"customer_id": "cust", "timestamp": "ts"})
    got = read_files(folder, mapping={"cust": "customer_id", "ts": "timestamp"})
    assert list(got["events"].columns[:3]) == ["customer_id", "timestamp", "touchpoint"]
    assert "customer_id" in got["customers"].columns and "cust" not in got["feedback"].columns
    assert validate_table("events", got["events"], catalog).n_kept == 8


def test_per_table_mapping_from_dict_and_yaml(tmp_path, tables):
    tables = dict(tables, events=tables["events"].rename(columns={"touchpoint": "page"}))
    folder = write(tmp_path / "d", tables)
    by_dict = read_files(folder, mapping={"events": {"page": "touchpoint"}})
    yaml_file = tmp_path / "mapping.yaml"
    yaml_file.write_text("events:\n  page: touchpoint\n", encoding="utf-8")
    by_yaml = read_files(folder, mapping_file=yaml_file)
    by_path = read_files(folder, mapping=str(yaml_file))  # a path given as the mapping
    for got in (by_dict, by_yaml, by_path):
        assert got["events"]["touchpoint"].tolist() == tables["events"]["page"].tolist()
        assert "page" not in got["events"].columns


def test_mapping_naming_an_absent_column(tmp_path, tables):
    folder = write(tmp_path, tables)
    with pytest.raises(ConnectorError) as info:
        read_files(folder, mapping={"events": {"cust": "customer_id"}})
    msg = str(info.value)
    assert "table 'events'" in msg and "'cust'" in msg
    assert "columns present: customer_id, timestamp, touchpoint" in msg
    with pytest.raises(ConnectorError, match="'cust' found in no table"):
        read_files(folder, mapping={"cust": "customer_id"})


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"evnts": {"a": "b"}}, "unknown table(s) 'evnts'"),
        ({"events": {"a": "b"}, "x": "y"}, "mixes per-table sections"),
        ({"a": 3}, "bad entries for 'a'"),
        (["a"], "must be a mapping"),
    ],
)
def test_malformed_mappings(mapping, message):
    with pytest.raises(ConnectorError) as info:
        load_mapping(mapping)
    assert message in str(info.value)


def test_mapping_that_would_duplicate_a_column(customers_df):
    df = customers_df.assign(cust="x")
    with pytest.raises(ConnectorError, match="duplicate column.*'customer_id'"):
        apply_mapping({"customers": df}, {"cust": "customer_id"})


def test_mapping_and_mapping_file_together(tmp_path):
    with pytest.raises(ConnectorError, match="not both"):
        load_mapping({"a": "b"}, tmp_path / "m.yaml")
    with pytest.raises(ConnectorError, match="does not exist"):
        load_mapping(mapping_file=tmp_path / "m.yaml")


def test_missing_folder(tmp_path):
    with pytest.raises(ConnectorError, match="Data folder .*nowhere' does not exist"):
        read_files(tmp_path / "nowhere")


def test_folder_without_events_lists_its_files(tmp_path, customers_df):
    write(tmp_path, {"customers": customers_df, "evnts": customers_df})
    with pytest.raises(ConnectorError) as info:
        read_files(tmp_path)
    assert "No events file" in str(info.value)
    assert "the folder holds: customers.csv, evnts.csv" in str(info.value)


def test_both_formats_need_a_choice(tmp_path, tables):
    write(tmp_path, tables, "csv")
    write(tmp_path, {"events": tables["events"]}, "parquet")
    with pytest.raises(ConnectorError, match="in 2 files .*events.parquet, events.csv"):
        read_files(tmp_path)
    assert sorted(read_files(tmp_path, format="csv")) == sorted(tables)
    assert list(read_files(tmp_path, format="parquet")) == ["events"]
    with pytest.raises(ConnectorError, match="Unknown file format 'xlsx'"):
        find_files(tmp_path, format="xlsx")


def test_unreadable_file_names_it(tmp_path):
    (tmp_path / "events.parquet").write_bytes(b"not parquet")
    with pytest.raises(ConnectorError, match="Could not read .*events.parquet"):
        read_files(tmp_path)


def test_connector_object(tmp_path, tables):
    assert isinstance(FILES_CONNECTOR, Connector) and FILES_CONNECTOR.name == "files"
    assert set(FILES_CONNECTOR.options) == {"path", "format", "mapping", "mapping_file"}
    folder = write(tmp_path, tables, "parquet")
    got = FILES_CONNECTOR.read(path=folder, format="parquet")
    assert {k: len(v) for k, v in got.items()} == {
        "events": 8,
        "feedback": 5,
        "customers": 3,
        "costs": 3,
    }
