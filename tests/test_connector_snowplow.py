"""The snowplow connector (Snowplow enriched events, 131-field TSV).

Fixtures in ``tests/fixtures/connectors/web/`` are synthetic (written for these tests in the
exact enriched-event format: 131 tab-separated fields in the order of the Snowplow Python
Analytics SDK, UTC times like ``2024-03-04 10:00:00.123``, contexts as self-describing JSON;
no real export is redistributed):

- ``snowplow_enriched.tsv``: 12 lines. Lines 1-6: an anonymous visitor (domain_userid
  f3d1..., one domain_sessionid): page_view /, page_ping, page_view of a product, structured
  event se_action add-to-cart, page_view /checkout, transaction T-7001 tr_total 59.9.
  Lines 7-10: U-4002 (user_id) in sessions 3 and 4 of domain_userid 7b9e... (no
  domain_sessionid): page_view with empty derived_tstamp and a newsletter campaign, an
  ``experiment_viewed`` self-describing event without rule, page_view, transaction T-7002
  tr_total 30.00. Line 11: a page_view without any id. Line 12: a page_view with only
  network_userid.
- ``snowplow_broken.tsv``: three lines, the second cut off after 31 fields.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cjm_core.bundle import load_bundle
from cjm_core.connectors.snowplow import FIELDS, SNOWPLOW_CONNECTOR, read_snowplow
from cjm_core.errors import ConnectorError
from cjm_core.plugins import hookimpl, registry_with

WEB = Path(__file__).parent / "fixtures" / "connectors" / "web"
SNOWPLOW = WEB / "snowplow_enriched.tsv"
REAL = Path(
    os.environ.get("CJM_REAL_DATA", Path(__file__).resolve().parents[1] / ".." / "shared/data/real")
)
ANON = "f3d1c2b4-7a6e-4b1f-9c0d-2e8a5b7c9d10"
NETWORK = "0e6f3a52-9b7c-4d1e-8f20-3c4b5a6d7e8f"


def records() -> list[dict[str, str]]:
    text = SNOWPLOW.read_text(encoding="utf-8").splitlines()
    return [dict(zip(FIELDS, t.split("\t"), strict=True)) for t in text]


def write(tmp_path: Path, rows: list[dict[str, str]], name: str = "x.tsv") -> Path:
    path = tmp_path / name
    path.write_text("".join("\t".join(r[f] for f in FIELDS) + "\n" for r in rows), "utf-8")
    return path


def count_check(tables: dict[str, pd.DataFrame]) -> None:
    ev, cust = tables["events"], tables["customers"]
    aside = ev.attrs["set_aside"]
    assert ev.attrs["rows_read"] == len(ev) + len(aside)
    assert cust.attrs["rows_read"] == int(cust["events"].sum()) + len(cust.attrs["set_aside"])
    assert set(aside.columns) >= {"file", "line", "reason", "record"}


class SnowplowPlugin:
    @staticmethod
    @hookimpl
    def cjm_register_connectors():
        return [SNOWPLOW_CONNECTOR]


def test_fields_are_the_131_of_the_enriched_format():
    assert len(FIELDS) == 131 and len(set(FIELDS)) == 131
    assert FIELDS[:3] == ["app_id", "platform", "etl_tstamp"]
    assert FIELDS.index("page_urlpath") == 35 and FIELDS.index("tr_total") == 61
    assert FIELDS[-7:] == [
        "derived_tstamp",
        "event_vendor",
        "event_name",
        "event_format",
        "event_version",
        "event_fingerprint",
        "true_tstamp",
    ]


def test_connector_reads_through_a_registry():
    reg = registry_with(SnowplowPlugin, builtins=False, warn=False)
    assert reg.connector("snowplow") is SNOWPLOW_CONNECTOR
    assert set(SNOWPLOW_CONNECTOR.options) == {"path", "rules", "conversions", "unknown", "broken"}
    assert len(reg.connector("snowplow").read(path=SNOWPLOW)["events"]) == 10


def test_reads_the_fixture_with_hand_checked_numbers():
    tables = read_snowplow(SNOWPLOW)
    ev, cust = tables["events"], tables["customers"]
    aside = ev.attrs["set_aside"]
    assert (ev.attrs["rows_read"], len(ev), len(aside)) == (12, 10, 2)
    assert aside["line"].tolist() == [8, 11]
    assert aside["event_name"].tolist() == ["experiment_viewed", "page_view"]
    assert aside["reason"].tolist() == [
        "no touchpoint rule for event='experiment_viewed', page='/blog/spring-trails'",
        "no customer id",
    ]
    assert aside["record"].iloc[1].count("\t") == 130  # the source line as read
    # user_id, else domain_userid, else network_userid
    assert cust["customer_id"].tolist() == [ANON, "U-4002", NETWORK]
    assert cust["identified"].tolist() == [False, True, False]
    assert cust["events"].tolist() == [6, 3, 1]
    assert cust["conversions"].tolist() == [1, 1, 0]
    assert cust["revenue"].tolist() == [59.9, 30.0, 0.0]
    assert ev["touchpoint"].value_counts().to_dict() == {"website": 7, "checkout": 3}
    conv = ev[ev["event_type"] == "conversion"]
    assert conv["event_name"].tolist() == ["transaction", "transaction"]
    assert conv["value"].tolist() == [59.9, 30.0] and ev["value"].notna().sum() == 2
    assert conv["transaction_id"].tolist() == ["T-7001", "T-7002"]
    assert set(conv["currency"]) == {"GBP"}
    # event names: page_ping kept, structured event named by se_action
    assert ev["event_name"].tolist()[:5] == [
        "page_view",
        "page_ping",
        "page_view",
        "add-to-cart",
        "page_view",
    ]
    assert ev.loc[4, ["page_path", "touchpoint"]].tolist() == ["/checkout", "checkout"]
    # journeys: domain_sessionid, else domain_userid-domain_sessionidx; none without either
    assert ev.groupby("customer_id", sort=False)["journey_id"].nunique().tolist() == [1, 2, 0]
    assert ev.loc[0, "journey_id"] == "c0ffee00-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    assert ev.loc[6, "journey_id"] == "7b9e2d4c-5f1a-4c8e-b3d7-6a0f9e1c2b3d-3"
    # derived_tstamp, else collector_tstamp (line 7 has no derived_tstamp)
    assert str(ev.loc[0, "timestamp"]) == "2024-03-04 10:00:00.123000+00:00"
    assert ev.loc[6, "timestamp"] == pd.Timestamp("2024-03-04T11:00:00Z")
    assert str(ev["timestamp"].dtype) == "datetime64[us, UTC]"
    # mkt_source / mkt_medium, else refr_source / refr_medium
    assert ev.loc[0, ["source", "medium"]].tolist() == ["Google", "search"]
    assert ev.loc[6, ["source", "medium"]].tolist() == ["newsletter", "email"]
    assert ev.loc[8, "message_id"] == "a7c1f0e2-4b3d-4e5f-8a9b-000000000010"  # line 10
    count_check(tables)


def test_result_passes_the_retail_template():
    tables = read_snowplow(SNOWPLOW)
    bundle = load_bundle(tables, template="retail")
    assert len(bundle.events) == 10 and len(bundle.customers) == 3
    assert set(bundle.events["channel"]) == {"web"}
    assert (bundle.events["event_type"] == "conversion").sum() == 2


def test_unknown_event_is_an_error_when_asked():
    with pytest.raises(ConnectorError) as err:
        read_snowplow(SNOWPLOW, unknown="error")
    message = str(err.value)
    assert "snowplow_enriched.tsv, line 8: no touchpoint rule for event='experiment_viewed'" in (
        message
    )
    assert "unknown='set_aside'" in message


def test_rules_and_conversions_can_be_changed(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "touchpoints:\n"
        "  - {page: '/blog/*', touchpoint: search}\n"
        "  - {event: [page_view, page_ping, add_to_cart, transaction], touchpoint: website}\n",
        encoding="utf-8",
    )
    ev = read_snowplow(SNOWPLOW, rules=rules, conversions=["add-to-cart"])["events"]
    assert len(ev) == 11 and ev.attrs["set_aside"]["line"].tolist() == [11]
    assert ev["touchpoint"].value_counts().to_dict() == {"website": 9, "search": 2}
    conv = ev[ev["event_type"] == "conversion"]
    # transactions stay conversions; a structured event carries no value
    assert conv["event_name"].tolist() == ["add-to-cart", "transaction", "transaction"]
    assert conv["value"].fillna(-1).tolist() == [-1.0, 59.9, 30.0]


def test_broken_line_is_an_error_naming_file_and_line():
    with pytest.raises(ConnectorError) as err:
        read_snowplow(WEB / "snowplow_broken.tsv")
    message = str(err.value)
    assert "snowplow_broken.tsv, line 2: 31 tab-separated fields, expected 131" in message
    assert "broken='set_aside'" in message


def test_broken_line_can_be_set_aside():
    tables = read_snowplow(WEB / "snowplow_broken.tsv", broken="set_aside")
    aside = tables["events"].attrs["set_aside"]
    assert len(tables["events"]) == 2 and aside["line"].tolist() == [2]
    assert aside["reason"].tolist() == ["31 tab-separated fields, expected 131"]
    assert aside["record"].iloc[0].startswith("shop\tweb\t")
    count_check(tables)


@pytest.mark.parametrize(("extra", "fields"), [("\tX", 132), ("", 130)])
def test_wrong_field_count_names_file_and_line(tmp_path, extra, fields):
    text = SNOWPLOW.read_text(encoding="utf-8").splitlines()[:3]
    text[1] = text[1] + extra if extra else text[1].rsplit("\t", 1)[0]
    path = tmp_path / "x.tsv"
    path.write_text("\n\n".join(text) + "\n", encoding="utf-8")  # blank lines: not counted
    with pytest.raises(ConnectorError, match=rf"x.tsv, line 3: {fields} tab-separated fields"):
        read_snowplow(path)
    tables = read_snowplow(path, broken="set_aside")
    assert tables["events"].attrs["rows_read"] == 3 and len(tables["events"]) == 2
    count_check(tables)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"derived_tstamp": "2024-03-04T10:01:00Z"}, "column 'derived_tstamp': '2024-03-04T10"),
        ({"derived_tstamp": "", "collector_tstamp": ""}, "column 'collector_tstamp': ''"),
        ({"derived_tstamp": "2024-02-30 10:00:00"}, "is not a time like"),
        ({"event": "transaction", "tr_total": "lots"}, "column 'tr_total': 'lots' is not a"),
        ({"event_name": "", "unstruct_event": "{not json"}, "column 'unstruct_event'"),
    ],
)
def test_wrong_values_name_the_line_and_field(tmp_path, change, expected):
    rows = records()[:3]
    rows[2] = {**rows[2], **change}
    with pytest.raises(ConnectorError, match="x.tsv, line 3") as err:
        read_snowplow(write(tmp_path, rows))
    assert expected in str(err.value)


def test_unstruct_schema_name_and_mobile_platform(tmp_path):
    rows = records()
    rows[7] = {**rows[7], "event_name": ""}  # older enrich: name from unstruct_event's schema
    rows[11] = {**rows[11], "platform": "mob"}
    tables = read_snowplow(write(tmp_path, rows), rules=None)
    aside = tables["events"].attrs["set_aside"]
    assert aside["event_name"].tolist() == ["experiment_viewed", "page_view"]
    assert tables["events"]["touchpoint"].iloc[-1] == "app"  # mobile tracker -> app
    count_check(tables)


def test_reads_folders_and_gzip_alike(tmp_path):
    expected = read_snowplow(SNOWPLOW)["events"]
    folder = tmp_path / "enriched"
    folder.mkdir()
    with gzip.open(folder / "part-00000.gz", "wt", encoding="utf-8") as f:
        f.write(SNOWPLOW.read_text(encoding="utf-8"))
    (folder / "_SUCCESS").write_text("", encoding="utf-8")  # not read
    shutil.copy(SNOWPLOW, folder / "part-00001.tsv")  # the same events again
    both = read_snowplow(folder)["events"]
    assert both.attrs["rows_read"] == 24 and len(both) == 10
    reasons = both.attrs["set_aside"]["reason"]
    assert (reasons == "duplicate of part-00000.gz line 1").sum() == 1
    assert reasons.str.startswith("duplicate of").sum() == 10
    pd.testing.assert_frame_equal(both, expected, check_like=True)


def test_missing_input_is_a_clear_error(tmp_path):
    with pytest.raises(ConnectorError, match="the file does not exist"):
        read_snowplow(tmp_path / "none.tsv")
    with pytest.raises(ConnectorError, match="the folder has no enriched-event files"):
        read_snowplow(tmp_path)
    with pytest.raises(ConnectorError, match="broken='x'"):
        read_snowplow(SNOWPLOW, broken="x")


def test_full_real_export_when_available():
    folder = REAL / "snowplow_enriched"
    if not folder.is_dir():
        pytest.skip(f"no Snowplow enriched export at {folder} (set CJM_REAL_DATA; none is shipped)")
    files = sorted(p for p in folder.iterdir() if p.name.endswith((".tsv", ".txt")))
    rows = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as f:
            rows += [r for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    ids = {r[12] or r[15] or r[17] for r in rows if len(r) == 131} - {""}
    tables = read_snowplow(files, broken="set_aside")
    count_check(tables)
    assert tables["events"].attrs["rows_read"] == len(rows)
    assert set(tables["customers"]["customer_id"]) <= ids
