"""The contact_centre connector: a CRM / contact-centre CSV export -> events and customers.

The fixture ``tests/fixtures/connectors/contact_centre_calls.csv`` is synthetic (written for
these tests, CRLF line ends as CRM exports on Windows have): 30 contacts of 13 customers,
Madrid local times without offset, queues Cards and Loans, channels Voice and Chat, one
e-mail to the Complaints queue (no touchpoint rule), two abandoned calls, two transfers.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd
import pytest

from cjm_core.bundle import load_bundle
from cjm_core.connectors.contact_centre import (
    CONTACT_CENTRE_CONNECTOR,
    load_rules,
    read_contact_centre,
)
from cjm_core.connectors.exports import parse_seconds, read_export
from cjm_core.errors import ConnectorError
from cjm_core.plugins import registry_with

# how the Anonymous Bank call-centre log (tab-separated, YYMMDD + H:MM:SS, Israel time) is read
BANK_LOG = {
    "sep": "\t",
    "mapping": {
        "date": "start_date",
        "vru_entry": "start_time",
        "type": "queue",
        "q_time": "wait_time",
        "ser_time": "handling_time",
    },
    "rules": {
        "touchpoints": [{"touchpoint": "call_centre"}],
        "outcomes": {"resolved": ["AGENT"], "abandoned": ["HANG", "PHANTOM"]},
    },
    "time_format": "%y%m%d %H:%M:%S",
    "assume_timezone": "Asia/Jerusalem",
    "anonymous_ids": ["0"],
}


FIXTURE = Path(__file__).parent / "fixtures" / "connectors" / "contact_centre_calls.csv"
REAL = Path(
    os.environ.get("CJM_REAL_DATA", Path(__file__).resolve().parents[1] / ".." / "shared/data/real")
)
HEADER = "Customer ID,Start Time,Channel,Queue,Wait Time,Handle Time,Outcome\n"


def real_file(dataset: str, name: str) -> Path:
    path = REAL / dataset / name
    if not path.is_file():
        pytest.skip(f"real data set {dataset!r} not found at {path} (set CJM_REAL_DATA)")
    return path


def export(tmp_path: Path, body: str, header: str = HEADER, name: str = "calls.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return read_contact_centre(FIXTURE, assume_timezone="Europe/Madrid")


def test_registered_by_the_builtin_plugin_after_files():
    reg = registry_with()
    assert reg.connector("contact_centre") is CONTACT_CENTRE_CONNECTOR
    assert reg.plugin_of("connector", "contact_centre") == "cjm_core.builtin"
    assert list(reg.connectors)[0] == "files"
    got = reg.connector("contact_centre").read(path=FIXTURE, assume_timezone="Europe/Madrid")
    assert len(got["events"]) == 29


def test_fixture_read_hand_checked(tables):
    ev, cust = tables["events"], tables["customers"]
    assert (ev.attrs["rows_read"], len(ev), len(cust)) == (30, 29, 12)
    assert ev["touchpoint"].value_counts().to_dict() == {"call_centre": 21, "chatbot": 8}
    assert set(ev["event_type"]) == {"interaction"}  # no conversions in a contact log
    assert ev["queue"].value_counts().to_dict() == {"Cards": 16, "Loans": 13}
    assert ev["outcome"].value_counts().to_dict() == {
        "resolved": 25,
        "abandoned": 2,
        "transferred": 2,
    }
    abandoned = ev[ev["abandoned"]]
    assert abandoned["customer_id"].tolist() == ["C-1004", "C-1010"]
    assert abandoned["duration_s"].tolist() == [250.0, 347.0]  # 00:04:10 and 00:05:47
    assert pd.isna(abandoned["handling_s"].iloc[0]) and abandoned["handling_s"].iloc[1] == 0.0
    # 2024-03-04 08:58:12 in Madrid (UTC+1 in March) is 07:58:12 UTC
    assert str(ev["timestamp"].iloc[0]) == "2024-03-04 07:58:12+00:00"
    assert ev["case_id"].iloc[0] == "INT-240304-0001" and "Agent" not in ev.columns
    assert cust.set_index("customer_id")["contacts"].to_dict()["C-1001"] == 4
    assert cust["abandoned"].sum() == 2 and "C-1013" not in set(cust["customer_id"])
    aside = ev.attrs["set_aside"]
    assert aside["_line"].tolist() == [12] and aside["Customer ID"].tolist() == ["C-1013"]
    assert aside["reason"].tolist() == [
        "no touchpoint rule for queue='Complaints', channel='Email'"
    ]


def test_totals_match_an_independent_read_with_the_csv_module(tables):
    with FIXTURE.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Channel"] != "Email"]
    seconds = [
        sum(int(p) * m for p, m in zip(r["Wait Time"].split(":"), (3600, 60, 1), strict=True))
        for r in rows
    ]
    ev = tables["events"]
    assert ev["duration_s"].sum() == sum(seconds) == 2295
    assert ev["customer_id"].nunique() == len({r["Customer ID"] for r in rows})


def test_count_check(tables):
    ev, cust = tables["events"], tables["customers"]
    aside = ev.attrs["set_aside"]
    assert cust.attrs["set_aside"] is aside
    assert ev.attrs["rows_read"] == len(ev) + len(aside) == 30
    assert cust.attrs["rows_read"] == cust["contacts"].sum() + len(aside)


def test_output_validates_with_the_banking_template(tables):
    bundle = load_bundle(tables, template="banking")
    assert (len(bundle.events), len(bundle.customers), bundle.n_rejected) == (29, 12, 0)
    pairs = bundle.events[["touchpoint", "channel"]].drop_duplicates().values.tolist()
    assert sorted(map(tuple, pairs)) == [("call_centre", "phone"), ("chatbot", "chat")]


def test_durations_in_seconds_or_hms():
    got = parse_seconds(
        pd.Series(["85", "85.5", "0:01:25", "27:00:00", " ", "00:00:00"]), None, "x.csv", "wait"
    )
    assert got.tolist()[:4] == [85.0, 85.5, 85.0, 97200.0]
    assert pd.isna(got[4]) and got[5] == 0.0


@pytest.mark.parametrize("value", ["5:30", "-3", "0:61:00", "soon"])
def test_a_bad_duration_names_file_line_column_and_fix(tmp_path, value):
    path = export(
        tmp_path,
        f"C1,2024-03-04T10:00:00Z,Voice,Cards,12,60,Resolved\n"
        f"C2,2024-03-04T11:00:00Z,Voice,Cards,{value},60,Resolved\n",
    )
    with pytest.raises(ConnectorError) as err:
        read_contact_centre(path)
    msg = str(err.value)
    assert "calls.csv, line 3, column 'Wait Time'" in msg and repr(value) in msg
    assert "h:mm:ss" in msg


def test_a_column_mapping_names_other_headers(tmp_path):
    path = export(
        tmp_path,
        "77,04/03/2024 10:00,Cards,90\n",
        header="Caller,Began,Skill,Secs Waiting\n",
    )
    mapping = {"Caller": "customer_id", "Began": "start_time", "Secs Waiting": "wait_time"}
    got = read_contact_centre(
        path, mapping=mapping, time_format="%d/%m/%Y %H:%M", assume_timezone="UTC"
    )["events"]
    # "Skill" is found as the queue by its default alias
    assert got.iloc[0][["customer_id", "queue", "duration_s"]].tolist() == ["77", "Cards", 90.0]
    assert str(got["timestamp"][0]) == "2024-03-04 10:00:00+00:00"
    yaml_file = tmp_path / "mapping.yaml"
    yaml_file.write_text("Caller: customer_id\nBegan: start_time\nSecs Waiting: wait_time\n")
    again = read_contact_centre(
        path, mapping=yaml_file, time_format="%d/%m/%Y %H:%M", assume_timezone="UTC"
    )["events"]
    pd.testing.assert_frame_equal(again, got)


def test_mapping_errors_name_what_exists(tmp_path):
    path = export(tmp_path, "C1,2024-03-04T10:00:00Z,Voice,Cards,12,60,Resolved\n")
    with pytest.raises(ConnectorError, match="'waiting' is not a field; fields: customer_id"):
        read_contact_centre(path, mapping={"Wait Time": "waiting"})
    with pytest.raises(ConnectorError, match="no column 'Wait Tme'; did you mean 'Wait Time'"):
        read_contact_centre(path, mapping={"Wait Tme": "wait_time"})


def test_missing_columns_are_an_error_with_the_fix(tmp_path):
    path = export(tmp_path, "2024-03-04T10:00:00Z,Cards\n", header="When,Queue\n")
    with pytest.raises(ConnectorError) as err:
        read_contact_centre(path)
    msg = str(err.value)
    assert "calls.csv: no column for customer_id, start_time (columns: When, Queue)" in msg
    assert "Fix: name the export's column with mapping={'<column>': 'customer_id'}" in msg
    path = export(tmp_path, "C1,2024-03-04T10:00:00Z\n", header="Customer ID,Start Time\n")
    with pytest.raises(ConnectorError, match="no column for queue or channel"):
        read_contact_centre(path)


def test_broken_csv_lines_are_errors_with_their_line(tmp_path):
    ok = "C1,2024-03-04T10:00:00Z,Voice,Cards,12,60,Resolved\n"
    path = export(tmp_path, ok + "C2,2024-03-04T11:00:00Z,Voice,Cards,Loans,12,60,Resolved\n")
    with pytest.raises(ConnectorError, match=r"line 3: 8 fields where the header has 7"):
        read_contact_centre(path)
    path = export(tmp_path, ok + ok + 'C3,"2024-03-04T11:00:00Z,Voice,Cards,12,60,Resolved\n')
    with pytest.raises(ConnectorError, match=r"line 4: broken CSV .*Fix: close the open quote"):
        read_contact_centre(path)


def test_unreadable_and_naive_times_are_errors(tmp_path):
    path = export(
        tmp_path,
        "C1,2024-03-04 10:00:00,Voice,Cards,12,60,Resolved\n"
        "C2,04/03/2024 10:00,Voice,Cards,12,60,Resolved\n",
    )
    with pytest.raises(ConnectorError) as err:
        read_contact_centre(path, assume_timezone="Europe/Madrid")
    msg = str(err.value)
    assert "line 3, column 'Start Time': '04/03/2024 10:00' cannot be read as a time" in msg
    assert "time_format=" in msg
    naive = export(tmp_path, "C1,2024-03-04 10:00:00,Voice,Cards,12,60,Resolved\n", name="n.csv")
    with pytest.raises(ConnectorError, match="line 2.*has no time zone.*assume_timezone="):
        read_contact_centre(naive)
    with pytest.raises(ConnectorError, match="Unknown time zone 'Mars/Olympus'"):
        read_contact_centre(path, assume_timezone="Mars/Olympus")


def test_rows_without_customer_time_rule_or_known_outcome_are_set_aside(tmp_path):
    body = (
        "C1,2024-03-04 10:00:00,Voice,Cards,12,60,Resolved\n"
        ",2024-03-04 10:05:00,Voice,Cards,12,60,Resolved\n"
        "0,2024-03-04 10:06:00,Voice,Cards,12,60,Resolved\n"
        "C2,,Voice,Cards,12,60,Resolved\n"
        "C3,2024-03-31 02:30:00,Voice,Cards,12,60,Resolved\n"  # skipped by the DST change
        "C4,2024-03-04 10:10:00,Fax,Faxes,12,60,Resolved\n"
        "C5,2024-03-04 10:20:00,Voice,Cards,12,60,Call back later\n"
        "C6,2024-03-04 10:30:00,Voice,Cards,12,,\n"
    )
    got = read_contact_centre(
        export(tmp_path, body), assume_timezone="Europe/Madrid", anonymous_ids=["0"]
    )
    ev, aside = got["events"], got["events"].attrs["set_aside"]
    assert ev["customer_id"].tolist() == ["C1", "C6"]
    assert pd.isna(ev["outcome"][1]) and not ev["abandoned"][1]  # a blank outcome is kept
    assert aside[["_line", "reason"]].values.tolist() == [
        [3, "no customer id"],
        [4, "no customer id"],
        [5, "no start time"],
        [6, "local time skipped or repeated in Europe/Madrid"],
        [7, "no touchpoint rule for queue='Faxes', channel='Fax'"],
        [8, "unknown outcome 'Call back later'"],
    ]
    assert ev.attrs["rows_read"] == len(ev) + len(aside) == 8


def test_rules_from_a_yaml_file_replace_only_their_sections(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "touchpoints:\n"
        "  - {queue: Complaints, channel: Email, touchpoint: branch}\n"
        "  - {channel: chat, touchpoint: chatbot}\n"
        "  - {touchpoint: call_centre}\n",
        encoding="utf-8",
    )
    got = read_contact_centre(FIXTURE, rules=rules, assume_timezone="Europe/Madrid")["events"]
    assert len(got) == 30 and got.attrs["set_aside"].empty
    assert got["touchpoint"].value_counts().to_dict() == {
        "call_centre": 21,
        "chatbot": 8,
        "branch": 1,
    }
    assert got["outcome"].value_counts()["resolved"] == 26  # default outcomes still apply


@pytest.mark.parametrize(
    "rules, message",
    [
        ({"queues": []}, "Unknown section"),
        ({"touchpoints": [{"queue": "Cards"}]}, "needs a 'touchpoint' id"),
        ({"touchpoints": [{"skill": "Cards", "touchpoint": "x"}]}, "may only have the keys"),
        ({"outcomes": {"solved": ["ok"]}}, "outcomes are resolved, abandoned, transferred"),
        ({"columns": {"agent": ["agent_name"]}}, "unknown field"),
    ],
)
def test_malformed_rules_are_errors(rules, message):
    with pytest.raises(ConnectorError, match=message):
        load_rules(rules)


def test_keep_carries_export_columns_and_a_bom_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text(
        HEADER.replace("Outcome", "Agent") + "C1,2024-03-04T10:00Z,Chat,Cards,5,9,Ana\n",
        encoding="utf-8-sig",
    )
    got = read_contact_centre(path, keep=["Agent"])["events"]
    assert got[["customer_id", "touchpoint", "Agent"]].values.tolist() == [["C1", "chatbot", "Ana"]]
    with pytest.raises(ConnectorError, match="no column 'Agnt'"):
        read_contact_centre(path, keep=["Agnt"])


def test_date_and_time_columns_tab_separated(tmp_path):
    """The layout of the Anonymous Bank log: tab-separated, YYMMDD date, H:MM:SS time."""
    path = export(
        tmp_path,
        "1\t33\t990201\t7:02:47\tPS\t0\t166\tAGENT\r\n2\t0\t990201\t7:31:45\tNW\t12\t0\tHANG\r\n",
        header="call_id\tcustomer_id\tdate\tvru_entry\ttype\tq_time\tser_time\toutcome\r\n",
        name="calls.txt",
    )
    got = read_contact_centre(
        path,
        **BANK_LOG,
    )["events"]
    assert got[["customer_id", "case_id", "handling_s"]].values.tolist() == [["33", "1", 166.0]]
    assert str(got["timestamp"][0]) == "1999-02-01 05:02:47+00:00"  # Israel: UTC+2
    assert got.attrs["set_aside"]["reason"].tolist() == ["no customer id"]


def test_read_export_keeps_text_and_start_lines(tmp_path):
    path = export(tmp_path, '007,"a\nb"\n\n010,c\n', header="id,note\n")
    file, df = read_export(path)
    assert df.to_dict("list") == {"id": ["007", "010"], "note": ["a\nb", "c"], "_line": [2, 5]}
    with pytest.raises(ConnectorError, match="does not exist"):
        read_export(tmp_path / "nope.csv")


# --- the full real files (skipped when ../shared/data/real is absent) --------------------


def test_full_anonymous_bank_call_centre_log():
    """33,344 calls of February 1999 (Technion SEE Center; research use, not redistributed):
    callers with id 0 are unidentified and set aside; totals checked against the csv module."""
    path = real_file("anonymous_bank_call_center", "data_anonymous_bank_february.txt")
    tables = read_contact_centre(
        path,
        **BANK_LOG,
    )
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    known = [r for r in rows if r["customer_id"] != "0"]
    ev, cust = tables["events"], tables["customers"]
    aside = ev.attrs["set_aside"]
    assert (ev.attrs["rows_read"], len(ev), len(aside)) == (len(rows), len(known), 19_558)
    assert len(rows) == 33_344 and len(known) == 13_786
    assert len(cust) == len({r["customer_id"] for r in known}) == 4_081
    assert ev["abandoned"].sum() == sum(r["outcome"] != "AGENT" for r in known)
    assert ev["duration_s"].sum() == sum(int(r["q_time"]) for r in known)
    assert ev["handling_s"].sum() == sum(int(r["ser_time"]) for r in known)
    assert ev.attrs["rows_read"] == cust["contacts"].sum() + len(aside)
    bundle = load_bundle(tables, template="banking")
    assert (len(bundle.events), len(bundle.customers)) == (13_786, 4_081)


def test_full_helpdesk_log_does_not_fit_and_says_why():
    """The Helpdesk log has one row per back-office *activity* of a ticket (assign
    seriousness, take in charge, resolve, close), with no queue or channel, wait, handling
    time or outcome per contact: the connector refuses it by default, naming what is
    missing, rather than turning 21,348 internal steps into customer contacts."""
    path = real_file("helpdesk_tickets", "helpdesk_events.csv")
    with pytest.raises(ConnectorError, match="no column for queue or channel"):
        read_contact_centre(path)
