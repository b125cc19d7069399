"""Bundles: load from a dict or a folder, strict and lenient, validate a whole folder."""

from __future__ import annotations

import pandas as pd
import pytest

from cjm_core.bundle import DataBundle, load_bundle, resolve_catalog, validate_data_dir
from cjm_core.errors import (
    CjmError,
    EmptyTableError,
    NaiveTimestampError,
    ScoreRangeError,
    UnknownTouchpointError,
)


@pytest.fixture
def tables(events_df, feedback_df, customers_df, costs_df) -> dict[str, pd.DataFrame]:
    return {
        "events": events_df,
        "feedback": feedback_df,
        "customers": customers_df,
        "costs": costs_df,
    }


def write(folder, tables, fmt="parquet"):
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if fmt == "parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            df.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_load_from_dict(tables, catalog):
    b = load_bundle(tables, template=catalog)
    assert isinstance(b, DataBundle) and b.catalog is catalog
    assert (len(b.events), len(b.feedback), len(b.customers), len(b.costs)) == (8, 5, 3, 3)
    assert str(b.events["timestamp"].dtype) == "datetime64[us, UTC]"
    assert b.events["channel"].tolist()[:2] == ["web", "app"]
    assert b.problems == [] and b.n_rejected == 0 and b.absent == ()
    assert repr(b) == (
        "DataBundle(source='<dict>', events=8, feedback=5, customers=3, costs=3, rejected=0)"
    )
    assert b.table("costs") is b.costs


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_load_from_folder_equals_load_from_dict(tmp_path, tables, catalog, fmt):
    folder = write(tmp_path / "data", tables, fmt)
    b = load_bundle(folder, template=catalog)
    ref = load_bundle(tables, template=catalog)
    assert b.source == str(folder)
    for name in ("events", "feedback", "customers", "costs"):
        pd.testing.assert_frame_equal(b.table(name), ref.table(name))


def test_optional_tables_may_be_absent(tables, catalog):
    b = load_bundle({"events": tables["events"], "customers": tables["customers"]}, catalog)
    assert b.costs is None and b.absent == ("feedback", "costs")
    assert len(b.feedback) == 0
    assert list(b.feedback.columns[:4]) == ["customer_id", "timestamp", "metric", "score"]
    text = b.summary()
    assert "feedback   absent (optional table not supplied)" in text
    assert "events              8 rows kept, 0 rejected" in text
    assert "no problems found" in text


def test_missing_required_table(tables, catalog):
    with pytest.raises(EmptyTableError, match="required customers table is missing"):
        load_bundle({"events": tables["events"]}, catalog, lenient=True)


def test_strict_collects_problems_across_tables(tables, catalog):
    tables["events"].loc[2, "touchpoint"] = "kiosk"
    tables["feedback"].loc[0, "score"] = 11
    with pytest.raises(UnknownTouchpointError) as info:
        load_bundle(tables, catalog)
    assert [(p.table, p.kind) for p in info.value.problems] == [
        ("events", "unknown_touchpoint"),
        ("feedback", "score_out_of_range"),
    ]
    assert "Data validation failed for events, feedback: 2 problem(s)" in str(info.value)


def test_lenient_bundle_keeps_rejected_rows_per_table(tables, catalog):
    tables["events"].loc[2, "touchpoint"] = "kiosk"
    tables["feedback"].loc[[0, 1], "score"] = [11, 0]
    b = load_bundle(tables, catalog, lenient=True)
    assert (len(b.events), len(b.feedback)) == (7, 3)
    assert b.rejected["events"]["_row"].tolist() == [2]
    assert b.rejected["feedback"]["reason"].tolist() == [
        "score='11.0': off the nps scale 0-10 (whole numbers)",
        "score='0.0': off the csat scale 1-5 (whole numbers)",
    ]
    assert b.n_rejected == 3 and len(b.problems) == 3
    assert "feedback            3 rows kept, 2 rejected" in b.summary()
    assert "3 problem(s)" in b.summary()


def test_mapping_and_timezone_reach_every_table(tables, catalog):
    renamed = {k: v.rename(columns={"customer_id": "cust"}) for k, v in tables.items()}
    renamed["events"]["timestamp"] = renamed["events"]["timestamp"].str.replace(
        r"(Z|[+-]\d\d:\d\d)$", "", regex=True
    )
    with pytest.raises(NaiveTimestampError):
        load_bundle(renamed, catalog, mapping={"cust": "customer_id"})
    b = load_bundle(renamed, catalog, mapping={"cust": "customer_id"}, assume_timezone="Asia/Tokyo")
    assert b.events["timestamp"][0] == pd.Timestamp("2024-03-01 00:00", tz="UTC")
    assert b.events["customer_id"][0] == "c1"


def test_unknown_table_name_in_dict(tables, catalog):
    with pytest.raises(CjmError, match="Unknown table name.*'evnts'"):
        load_bundle({"evnts": tables["events"]}, catalog)


def test_template_name_is_resolved_through_the_registry(monkeypatch, catalog):
    import cjm_core.plugins as plugins

    class FakeRegistry:
        def template(self, name):
            assert name == "mini"
            return type("T", (), {"catalog": catalog})()

    monkeypatch.setattr(plugins, "get_registry", lambda *a, **k: FakeRegistry())
    assert resolve_catalog("mini") is catalog
    with pytest.raises(CjmError, match="template name or a JourneyCatalog"):
        resolve_catalog(42)


def test_validate_data_dir_collects_every_problem(tmp_path, tables, catalog):
    folder = write(tmp_path / "good", tables)
    assert validate_data_dir(folder, catalog) == []

    tables["events"].loc[1, "timestamp"] = "2024-03-01 09:05"
    tables["feedback"].loc[4, "score"] = 1.5
    tables["customers"] = pd.concat([tables["customers"], tables["customers"].iloc[[1]]])
    tables["costs"] = tables["costs"].iloc[:0]
    problems = validate_data_dir(write(tmp_path / "bad", tables), catalog)
    assert [(p.table, p.kind, p.rows) for p in problems] == [
        ("events", "naive_timestamp", (1,)),
        ("feedback", "score_out_of_range", (4,)),
        ("customers", "duplicate", (3,)),
        ("costs", "empty", ()),
    ]
    fixed = validate_data_dir(tmp_path / "bad", catalog, assume_timezone="UTC")
    assert [p.table for p in fixed] == ["feedback", "customers", "costs"]
    with pytest.raises(ScoreRangeError):
        load_bundle(tmp_path / "bad", catalog, assume_timezone="UTC")


def test_validate_data_dir_reports_missing_customers(tmp_path, tables, catalog):
    folder = write(tmp_path, {"events": tables["events"]})
    problems = validate_data_dir(folder, catalog)
    assert [(p.table, p.kind, p.level) for p in problems] == [("customers", "empty", "table")]
    assert "customers.parquet or customers.csv" in problems[0].message
