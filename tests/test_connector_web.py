"""The web-analytics connectors: ga4 (GA4 BigQuery export) and segment_track (Segment).

Fixtures in ``tests/fixtures/connectors/web/`` are synthetic (written for these tests in the
sources' real formats; no real export is redistributed):

- ``ga4_events.jsonl``: 16 GA4 events as ``bq extract`` writes them (INT64 as text): a web
  visitor without login (page_view, view_item, add_to_cart, begin_checkout, purchase 59.90 in
  one session), U-1001 over two sessions (an ``experiment_impression`` without rule, a
  purchase 30.00), an anonymous blog reader, a consent-mode ping without ids, and U-2001 in
  the Android app (screen_view, add_to_cart, purchase 24.99).
- ``ga4_broken.jsonl``: three lines, the second cut off.
- ``segment_tracks.jsonl``: 13 Segment calls: an identify call, web track calls of an
  anonymous visitor who signs in at Order Completed (59.90), an ``Experiment Viewed``
  without rule, one message delivered twice, iOS calls of U-3001 (Order Completed 30.00),
  a server-side Checkout Started.
- ``segment_broken.jsonl``: three lines, the third cut off.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cjm_core.bundle import load_bundle
from cjm_core.connectors.ga4 import GA4_CONNECTOR, read_ga4
from cjm_core.connectors.segment import SEGMENT_CONNECTOR, read_segment
from cjm_core.connectors.web_analytics import load_rules
from cjm_core.errors import ConnectorError
from cjm_core.plugins import hookimpl, registry_with

WEB = Path(__file__).parent / "fixtures" / "connectors" / "web"
GA4, SEGMENT = WEB / "ga4_events.jsonl", WEB / "segment_tracks.jsonl"
REAL = Path(
    os.environ.get("CJM_REAL_DATA", Path(__file__).resolve().parents[1] / ".." / "shared/data/real")
)


def lines(path: Path) -> list[dict]:
    return [json.loads(t) for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]


def write(tmp_path: Path, records: list, name: str = "x.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def count_check(tables: dict[str, pd.DataFrame]) -> None:
    ev, cust = tables["events"], tables["customers"]
    aside = ev.attrs["set_aside"]
    assert ev.attrs["rows_read"] == len(ev) + len(aside)
    assert cust.attrs["rows_read"] == int(cust["events"].sum()) + len(cust.attrs["set_aside"])
    assert set(aside.columns) >= {"file", "line", "reason", "record"}


class WebPlugin:
    @staticmethod
    @hookimpl
    def cjm_register_connectors():
        return [GA4_CONNECTOR, SEGMENT_CONNECTOR]


def test_connectors_register_and_read_through_a_registry():
    from cjm_core.plugins import get_registry

    assert get_registry().plugin_of("connector", "ga4") == "cjm_core.builtin"  # built in
    reg = registry_with(WebPlugin, builtins=False, warn=False)  # and as a plugin would add it
    assert reg.connector("ga4") is GA4_CONNECTOR
    assert len(reg.connector("ga4").read(path=GA4)["events"]) == 14
    assert len(reg.connector("segment_track").read(path=SEGMENT)["events"]) == 10


# --- GA4 ---------------------------------------------------------------------------------


def test_ga4_reads_the_fixture_with_hand_checked_numbers():
    tables = read_ga4(GA4)
    ev, cust = tables["events"], tables["customers"]
    assert (ev.attrs["rows_read"], len(ev), len(ev.attrs["set_aside"])) == (16, 14, 2)
    assert ev["touchpoint"].value_counts().to_dict() == {"website": 8, "checkout": 3, "app": 3}
    conv = ev[ev["event_type"] == "conversion"]
    assert conv["value"].tolist() == [59.9, 30.0, 24.99]
    assert conv["transaction_id"].tolist() == ["T-50021", "T-50022", "T-50023"]
    assert ev["value"].notna().sum() == 3  # only conversions carry a value
    # user_id when present, else user_pseudo_id
    assert cust["customer_id"].tolist() == [
        "1745301.1709540000",
        "U-1001",
        "3310077.1709100000",
        "U-2001",
    ]
    assert cust["identified"].tolist() == [False, True, False, True]
    assert cust["events"].tolist() == [5, 4, 2, 3]
    # journeys: ga_session_id per device; U-1001 has two sessions
    assert ev.groupby("customer_id", sort=False)["journey_id"].nunique().tolist() == [1, 2, 1, 1]
    assert ev["journey_id"].iloc[0] == "1745301.1709540000-1709546390"
    assert str(ev["timestamp"].iloc[0]) == "2024-03-04 10:00:00.123456+00:00"
    app = ev[ev["touchpoint"] == "app"]
    assert app["screen"].tolist() == ["Home", "ProductDetail", "OrderConfirmation"]
    assert set(app["platform"]) == {"android"}
    # collected_traffic_source wins over the user's first traffic_source
    assert ev.loc[8, ["source", "medium"]].tolist() == ["bing", "organic"]
    assert ev.loc[3, "page_path"] == "/checkout"
    count_check(tables)
    bundle = load_bundle(tables, template="retail")
    assert len(bundle.events) == 14 and len(bundle.customers) == 4
    assert set(bundle.events["channel"]) == {"web", "app"}


def test_ga4_set_aside_rows_keep_the_source_line_and_reason():
    aside = read_ga4(GA4)["events"].attrs["set_aside"]
    assert aside["line"].tolist() == [8, 11]
    assert aside["event_name"].tolist() == ["experiment_impression", "page_view"]
    assert aside["reason"].iloc[1] == "no customer id"
    assert json.loads(aside["record"].iloc[0])["event_name"] == "experiment_impression"


def test_ga4_unknown_event_is_an_error_when_asked():
    with pytest.raises(ConnectorError) as err:
        read_ga4(GA4, unknown="error")
    message = str(err.value)
    assert "ga4_events.jsonl, line 8" in message and "experiment_impression" in message
    assert "unknown='set_aside'" in message


def test_ga4_rules_and_conversions_can_be_changed(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "touchpoints:\n"
        "  - {page_regex: 'rain-jacket', touchpoint: search}\n"
        "  - {platform: android, touchpoint: app}\n"
        "  - {event: [page_view, view_item, add_to_cart, begin_checkout, purchase,"
        " session_start, experiment_impression], touchpoint: website}\n",
        encoding="utf-8",
    )
    ev = read_ga4(GA4, rules=rules, conversions=["add_to_cart"])["events"]
    assert len(ev) == 15 and len(ev.attrs["set_aside"]) == 1  # only the id-less ping
    assert (ev["touchpoint"] == "search").sum() == 3  # U-1001 rain-jacket pages, first match
    conv = ev[ev["event_type"] == "conversion"]
    assert conv["event_name"].tolist() == ["add_to_cart", "add_to_cart"]
    assert conv["value"].tolist() == [59.9, 24.99]  # the 'value' parameter
    assert (ev["touchpoint"] == "checkout").sum() == 0


def test_bad_rules_are_refused():
    with pytest.raises(ConnectorError, match="needs a 'touchpoint' id"):
        load_rules({"touchpoints": [{"event": "x"}]})
    with pytest.raises(ConnectorError, match="Unknown section"):
        load_rules({"pages": []})
    with pytest.raises(ConnectorError, match="bad regular expression"):
        load_rules({"touchpoints": [{"page_regex": "(", "touchpoint": "website"}]})


def test_ga4_broken_line_is_an_error_naming_file_and_line():
    with pytest.raises(ConnectorError) as err:
        read_ga4(WEB / "ga4_broken.jsonl")
    assert "ga4_broken.jsonl, line 2: broken JSON line" in str(err.value)
    assert "broken='set_aside'" in str(err.value)


def test_ga4_broken_line_can_be_set_aside():
    tables = read_ga4(WEB / "ga4_broken.jsonl", broken="set_aside")
    aside = tables["events"].attrs["set_aside"]
    assert len(tables["events"]) == 2 and aside["line"].tolist() == [2]
    assert aside["reason"].iloc[0].startswith("broken JSON line")
    count_check(tables)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"event_timestamp": "yesterday"}, "column 'event_timestamp': 'yesterday' is not"),
        ({"event_name": None}, "column 'event_name': no event_name"),
        ({"event_params": {"page_location": "/"}}, "column 'event_params'"),
        ({"ecommerce": {"purchase_revenue": "lots"}}, "'lots' is not a number"),
    ],
)
def test_ga4_wrong_types_name_the_line_and_field(tmp_path, change, expected):
    records = lines(GA4)[:3]
    records[2] = {**records[2], **change}
    with pytest.raises(ConnectorError, match="x.jsonl, line 3") as err:
        read_ga4(write(tmp_path, records))
    assert expected in str(err.value)


def test_ga4_reads_folders_gzip_and_parquet_alike(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    expected = read_ga4(GA4)["events"]
    records = lines(GA4)
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(GA4, folder / "events_20240304.jsonl")
    with gzip.open(folder / "events_20240305.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps(records[0]) + "\n")
    both = read_ga4(folder)["events"]
    assert len(both) == 14  # the gzip line repeats line 1 exactly: set aside as duplicate
    assert both.attrs["set_aside"]["reason"].iloc[-1] == "duplicate of events_20240304.jsonl line 1"
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "events.parquet")
    from_parquet = read_ga4(tmp_path / "events.parquet")["events"]
    pd.testing.assert_frame_equal(from_parquet, expected)


def test_ga4_full_real_export_when_available():
    folder = REAL / "ga4_obfuscated_sample_ecommerce"
    if not folder.is_dir():
        pytest.skip(f"no GA4 export at {folder} (set CJM_REAL_DATA; none is shipped)")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".jsonl", ".json"))
    records = [r for p in files for r in lines(p)]
    ids = {r.get("user_id") or r.get("user_pseudo_id") for r in records} - {None}
    tables = read_ga4(files)
    count_check(tables)
    assert tables["events"].attrs["rows_read"] == len(records)
    assert set(tables["customers"]["customer_id"]) <= ids


# --- Segment -----------------------------------------------------------------------------


def test_segment_reads_the_fixture_with_hand_checked_numbers():
    tables = read_segment(SEGMENT)
    ev, cust = tables["events"], tables["customers"]
    assert (ev.attrs["rows_read"], len(ev), len(ev.attrs["set_aside"])) == (13, 10, 3)
    assert ev.attrs["set_aside"]["line"].tolist() == [1, 6, 8]
    # userId when present, else anonymousId: the visitor who signs in shows twice
    anon = "6f1c2a8e-93b4-4d7a-a0f2-1c9d8e7b6a51"
    assert cust["customer_id"].tolist() == [anon, "U-3001", "U-3002"]
    assert cust["events"].tolist() == [3, 4, 3]
    assert cust["conversions"].tolist() == [0, 2, 0]
    assert cust["revenue"].tolist() == [0.0, 89.9, 0.0]
    conv = ev[ev["event_type"] == "conversion"]
    assert conv["touchpoint"].tolist() == ["checkout", "app"]
    assert conv["value"].tolist() == [59.9, 30.0]  # revenue, not total (64.89)
    assert ev["journey_id"].isna().all()
    assert ev.loc[5, "timestamp"] == pd.Timestamp("2024-03-04T11:10:00Z")  # +01:00 offset
    assert ev["platform"].tolist()[-4:] == ["ios", "ios", "ios", "web"]
    assert ev.loc[0, ["source", "medium"]].tolist() == ["newsletter", "email"]
    count_check(tables)
    bundle = load_bundle(tables, template="retail")
    assert len(bundle.events) == 10 and len(bundle.customers) == 3


def test_segment_broken_line_error_and_set_aside():
    path = WEB / "segment_broken.jsonl"
    with pytest.raises(ConnectorError, match=r"segment_broken.jsonl, line 3: broken JSON"):
        read_segment(path)
    tables = read_segment(path, broken="set_aside")
    assert len(tables["events"]) == 2
    count_check(tables)


def test_segment_unknown_event_error_names_the_line():
    with pytest.raises(ConnectorError, match=r"line 6: no touchpoint rule for event='Experiment"):
        read_segment(SEGMENT, unknown="error")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"timestamp": "2024-03-04 10:00:00"}, "is not an ISO 8601 time with a zone"),
        ({"timestamp": None}, "column 'timestamp'"),
        ({"event": ""}, "column 'event': no event name"),
        ({"properties": ["revenue", 1]}, "column 'properties'"),
    ],
)
def test_segment_wrong_values_name_the_line_and_field(tmp_path, change, expected):
    records = lines(SEGMENT)[1:3]
    records[1] = {**records[1], **change}
    with pytest.raises(ConnectorError, match="x.jsonl, line 2") as err:
        read_segment(write(tmp_path, records))
    assert expected in str(err.value)


def test_segment_without_any_id_is_set_aside(tmp_path):
    records = lines(SEGMENT)[1:3]
    records[0] = {**records[0], "anonymousId": None, "userId": None}
    tables = read_segment(write(tmp_path, records))
    assert tables["events"].attrs["set_aside"]["reason"].tolist() == ["no customer id"]
    count_check(tables)
