"""The banking real-data connectors: BPI Challenge 2012, bank call centre, bank marketing.

Fixture numbers are hand-checked (see tests/fixtures/README.md). Tests on the full real files
read them from $CJM_REAL_DATA (default <workspace>/../shared/data/real) and skip without it;
their expected totals are computed here independently with the csv module.
"""

from __future__ import annotations

import csv
import gzip
import os
from collections import Counter
from pathlib import Path

import cjm_banking.plugin
import pandas as pd
import pytest
from cjm_banking.real_bpi import read_bpi_2012
from cjm_banking.real_calls import read_bank_calls
from cjm_banking.real_marketing import read_bank_marketing

from cjm_core.bundle import load_bundle
from cjm_core.errors import ConnectorError
from cjm_core.plugins import registry_with

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BPI = FIXTURES / "bpi_2012_sample.csv"
CALLS = FIXTURES / "bank_calls_sample.txt"
ADDITIONAL = FIXTURES / "bank_additional_sample.csv"
FULL = FIXTURES / "bank_full_sample.csv"
REAL = Path(
    os.environ.get("CJM_REAL_DATA")
    or Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"
)


def real_file(dataset: str, name: str) -> Path:
    path = REAL / dataset / name
    if not path.is_file():
        pytest.skip(f"real data file {path} not found (set CJM_REAL_DATA to the real-data folder)")
    return path


def assert_counts(table: pd.DataFrame, rows_read: int, loaded: int | None = None) -> None:
    """The count-check convention: rows_read == loaded + set aside, each with a reason."""
    aside = table.attrs["set_aside"]
    assert table.attrs["rows_read"] == rows_read
    assert rows_read == (len(table) if loaded is None else loaded) + len(aside)
    assert "reason" in aside.columns and aside["reason"].str.len().gt(0).all()


def edited(tmp_path: Path, source: Path, old: str, new: str, count: int = 1) -> Path:
    """A copy of ``source`` with ``old`` replaced by ``new`` (bytes kept, CRLF too)."""
    text = source.read_bytes().decode()
    assert old in text, old
    out = tmp_path / source.name
    out.write_bytes(text.replace(old, new, count).encode())
    return out


# --- registration ------------------------------------------------------------------------


def test_connectors_register_through_a_real_manager():
    registry = registry_with(cjm_banking.plugin, builtins=False, warn=False)
    assert registry.failures == []
    assert list(registry.connectors) == ["bpi_challenge_2012", "bank_call_centre", "bank_marketing"]
    calls = registry.connectors["bank_call_centre"]
    assert set(calls.options) == {"path", "rules", "unidentified"}
    tables = calls.read(path=CALLS, unidentified="set_aside")
    assert len(tables["events"]) == 5
    with pytest.raises(ConnectorError, match="no option.*'sep'"):
        registry.connectors["bank_marketing"].read(path=ADDITIONAL, sep=";")


def test_missing_source_file_names_it_and_the_fix(tmp_path):
    with pytest.raises(ConnectorError, match=r"does not exist; pass path="):
        read_bpi_2012(tmp_path / "nothing.csv")
    with pytest.raises(ConnectorError, match=r"data_anonymous_bank_february.txt.*does not exist"):
        read_bank_calls(tmp_path)  # a folder without the file


def test_rules_file_problems_are_connector_errors(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("activities: {A_SUBMITTED: kiosk}\nkeep_lifecycle: [COMPLETE]\n")
    with pytest.raises(ConnectorError, match=r"'A_SUBMITTED' -> 'kiosk'.*Use one of"):
        read_bpi_2012(BPI, rules=bad)
    bad.write_text("keep_lifecycle: [COMPLETE]\n")
    with pytest.raises(ConnectorError, match=r"lacks section\(s\) 'activities'"):
        read_bpi_2012(BPI, rules=bad)
    bad.write_text("types: [unclosed\n")
    with pytest.raises(ConnectorError, match="not valid YAML"):
        read_bank_calls(CALLS, rules=bad)


# --- BPI Challenge 2012 ------------------------------------------------------------------


def test_bpi_fixture_read():
    tables = read_bpi_2012(BPI)
    ev, cust = tables["events"], tables["customers"]
    assert_counts(ev, 46)
    assert len(ev) == 28
    assert Counter(ev.attrs["set_aside"]["reason"]) == {
        "lifecycle START not kept (keep_lifecycle)": 9,
        "lifecycle SCHEDULE not kept (keep_lifecycle)": 5,
        "activity 'W_Beoordelen fraude' maps to no touchpoint": 3,
        "activity 'W_Valideren aanvraag' maps to no touchpoint": 1,
    }
    assert ev.touchpoint.value_counts().to_dict() == {
        "online_application": 21,
        "call_centre": 5,
        "email": 2,
    }
    conv = ev[ev.event_type == "conversion"]
    assert conv[["customer_id", "activity", "value"]].values.tolist() == [
        ["173751", "A_APPROVED", 10000.0]
    ]
    assert ev.value.notna().sum() == 1
    assert (ev.customer_id == ev.journey_id).all() and set(ev.lifecycle) == {"COMPLETE"}
    assert str(ev.timestamp.iloc[0]) == "2011-10-01 06:11:08.866000+00:00"  # +02:00 -> UTC
    assert_counts(cust, 4)
    assert cust.set_index("customer_id").outcome.to_dict() == {
        "173697": "declined",
        "173703": "cancelled",
        "173751": "approved",
        "173916": "declined",
    }
    bundle = load_bundle(tables, template="banking")
    assert (len(bundle.events), len(bundle.customers), bundle.n_rejected) == (28, 4, 0)


def test_bpi_unknown_activity_is_set_aside(tmp_path):
    path = edited(tmp_path, BPI, "A_DECLINED,COMPLETE,112", "A_MYSTERY,COMPLETE,112")
    ev = read_bpi_2012(path)["events"]
    assert_counts(ev, 46)
    aside = ev.attrs["set_aside"]
    row = aside[aside.activity == "A_MYSTERY"]
    assert len(ev) == 27 and row.line.tolist() == [4]
    assert row.reason.iloc[0].startswith("activity 'A_MYSTERY' has no rule in rules file")


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("amount_requested,", "amount,", r"lacks column\(s\) 'amount_requested'"),
        (",15000,", ",15 000 EUR,", r"'amount_requested': 3 value\(s\) that are not numbers at "
         r"line\(s\) 2, 3, 4"),
        ("2011-10-01T08:11:09.035+02:00", "2011-10-01 08:11:09", r"'timestamp'.*line\(s\) 3 "),
        ("2011-10-01T08:11:09.035+02:00", "01/10/2011", r"not ISO 8601.*line\(s\) 3 "),
        ("A_DECLINED,COMPLETE,112,", "A_DECLINED,COMPLETE,112,x,", r"broken line.*line 4"),
        (",112,2011-10-01T08:11:46.420+02:00", ",112", r"fewer than 7 fields at line\(s\) 4 "),
    ],
)  # fmt: skip
def test_bpi_malformed_input(tmp_path, old, new, match):
    path = edited(tmp_path, BPI, old, new, count=3)
    with pytest.raises(ConnectorError, match=match):
        read_bpi_2012(path)


def test_bpi_full_real_file():
    path = real_file("bpi_challenge_2012", "bpic2012_events.csv.gz")
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    complete = [r for r in rows if r["lifecycle"] == "COMPLETE"]
    back_office = {"W_Valideren aanvraag", "W_Beoordelen fraude", "W_Wijzigen contractgegevens"}
    kept = [r for r in complete if r["activity"] not in back_office]
    approved = [r for r in kept if r["activity"] == "A_APPROVED"]

    tables = read_bpi_2012(path)
    ev, cust = tables["events"], tables["customers"]
    assert_counts(ev, len(rows))
    assert (len(rows), len(ev)) == (262_200, len(kept))
    assert Counter(ev.attrs["set_aside"].reason.str.split(" ").str[:2].str.join(" ")) == {
        "lifecycle START": sum(r["lifecycle"] == "START" for r in rows),
        "lifecycle SCHEDULE": sum(r["lifecycle"] == "SCHEDULE" for r in rows),
        "activity 'W_Valideren": sum(r["activity"] == "W_Valideren aanvraag" for r in complete),
        "activity 'W_Beoordelen": sum(r["activity"] == "W_Beoordelen fraude" for r in complete),
    }
    assert (ev.event_type == "conversion").sum() == len(approved) == 2246
    assert ev.value.sum() == sum(float(r["amount_requested"]) for r in approved)
    assert_counts(cust, len({r["case_id"] for r in rows}))
    assert len(cust) == 13_087
    assert load_bundle(tables, template="banking").n_rejected == 0


# --- call centre ---------------------------------------------------------------------------


def test_calls_fixture_read():
    tables = read_bank_calls(CALLS)
    ev, cust = tables["events"], tables["customers"]
    assert_counts(ev, 8)
    assert len(ev) == 8 and set(ev.touchpoint) == {"call_centre"}
    assert ev.duration_s.sum() == 262 and ev.handling_s.sum() == 940
    assert ev.outcome.value_counts().to_dict() == {"served": 5, "abandoned": 2, "phantom": 1}
    assert ev.abandoned.sum() == 2
    assert ev.customer_id.value_counts().head(2).to_dict() == {"12345678": 3, "7654321": 2}
    assert ev.customer_id.iloc[0] == "unidentified-AA0101-10001"
    # 1999-02-01 7:05:10 in Israel (UTC+2) and a call entering at 23:59:50 on 28 February
    assert str(ev.timestamp.iloc[0]) == "1999-02-01 05:05:10+00:00"
    assert str(ev.timestamp.iloc[5]) == "1999-02-28 21:59:50+00:00"
    assert_counts(cust, 5)
    assert cust.set_index("customer_id").loc["12345678"].tolist() == [True, 2]
    bundle = load_bundle(tables, template="banking")
    assert (len(bundle.events), len(bundle.customers), bundle.n_rejected) == (8, 5, 0)


def test_calls_unidentified_set_aside():
    tables = read_bank_calls(CALLS, unidentified="set_aside")
    ev, cust = tables["events"], tables["customers"]
    assert_counts(ev, 8)
    assert len(ev) == 5 and ev.attrs["set_aside"].line.tolist() == [2, 5, 8]
    assert_counts(cust, 3)  # the callers 12345678, 7654321 and "0"
    assert cust.customer_id.tolist() == ["12345678", "7654321"]
    with pytest.raises(ConnectorError, match="'per_call' or 'set_aside'"):
        read_bank_calls(CALLS, unidentified="drop")


def test_calls_unknown_type_and_negative_wait_are_set_aside(tmp_path):
    path = edited(tmp_path, CALLS, "\tNE\t990203", "\tXX\t990203")
    path = edited(tmp_path, path, "14:20:20\t12\tPHANTOM", "14:20:20\t-12\tPHANTOM")
    ev = read_bank_calls(path)["events"]
    assert_counts(ev, 8)
    aside = ev.attrs["set_aside"]
    assert aside.line.tolist() == [4, 6]
    assert aside.reason.iloc[0].startswith("type 'XX' has no rule in rules file")
    assert aside.reason.iloc[1] == "negative q_time -12"


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("\tq_time\t", "\tqueue_time\t", r"lacks column\(s\) 'q_time'"),
        ("\t990215\t", "\t99-02-15\t", r"'date'.*line\(s\) 6 .*'99-02-15 14:20:00'"),
        ("\t990203\t10:30:00", "\t990230\t10:30:00", r"not YYMMDD H:MM:SS at line\(s\) 4 "),
        ("\t60\tHANG", "\tsixty\tHANG", r"'q_time': 1 value\(s\) that are not numbers at "
         r"line\(s\) 4 "),
        ("\tDANA\r\n", "\tDANA\tEXTRA\r\n", r"broken line: line 2 has more fields"),
        ("\tRONIT\r\n", "\tRONIT\tEXTRA\r\n", r"broken line.*Expected 17 fields in line 3"),
    ],
)  # fmt: skip
def test_calls_malformed_input(tmp_path, old, new, match):
    with pytest.raises(ConnectorError, match=match):
        read_bank_calls(edited(tmp_path, CALLS, old, new))


def test_calls_full_real_file():
    path = real_file("anonymous_bank_call_center", "data_anonymous_bank_february.txt")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    identified = [r for r in rows if r["customer_id"] != "0"]
    callers = Counter(r["customer_id"] for r in identified)

    tables = read_bank_calls(path)
    ev, cust = tables["events"], tables["customers"]
    assert_counts(ev, len(rows))
    assert len(rows) == len(ev) == 33_344
    assert ev.abandoned.sum() == sum(r["outcome"] == "HANG" for r in rows) == 5_904
    assert ev.duration_s.sum() == sum(int(r["q_time"]) for r in rows)
    assert ev.handling_s.sum() == sum(int(r["ser_time"]) for r in rows)
    assert_counts(cust, len(callers) + len(rows) - len(identified))
    assert cust.identified.sum() == len(callers) == 4_081
    repeat = ev[ev.identified].customer_id.value_counts()
    assert (repeat > 1).sum() == sum(n > 1 for n in callers.values())
    assert ev.timestamp.min() == pd.Timestamp("1999-01-31 22:11:28", tz="UTC")  # 1 Feb, 0:11
    assert load_bundle(tables, template="banking").n_rejected == 0


# --- bank marketing ------------------------------------------------------------------------


def test_marketing_additional_fixture_read():
    tables = read_bank_marketing(ADDITIONAL)
    ev, cust = tables["events"], tables["customers"]
    inter = ev[ev.event_type == "interaction"]
    assert_counts(ev, 12, loaded=len(inter))
    assert (len(inter), (ev.event_type == "conversion").sum(), len(ev)) == (12, 6, 18)
    days = inter.timestamp.dt.tz_convert("Europe/Lisbon").dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert days == [
        "2008-05-05 12:00", "2008-05-05 12:00", "2008-05-05 12:00", "2008-05-06 12:00",
        "2008-05-12 12:00", "2008-12-01 12:00", "2009-03-02 12:00", "2009-12-02 12:00",
        "2010-03-01 12:00", "2010-03-01 12:00", "2010-11-01 12:00", "2010-11-05 12:00",
    ]  # fmt: skip
    conv = ev[ev.event_type == "conversion"]
    assert conv.customer_id.tolist() == [f"bm-{n:05d}" for n in (3, 6, 7, 8, 9, 11)]
    assert str(conv.timestamp.iloc[0]) == "2008-05-05 11:26:15+00:00"  # noon WEST + 1575 s
    assert set(ev.touchpoint) == {"call_centre"} and set(ev.date_inferred) == {"year,day"}
    assert "duration_s" not in ev.columns and ev.call_s.iloc[0] == 261
    assert_counts(cust, 12)
    assert cust.columns.tolist()[:3] == ["customer_id", "age", "job"]
    assert cust.age_band.tolist()[:3] == ["55-64", "55-64", "35-44"]
    bundle = load_bundle(tables, template="banking")
    assert (len(bundle.events), len(bundle.customers), bundle.n_rejected) == (18, 12, 0)


def test_marketing_full_fixture_read():
    tables = read_bank_marketing(FULL)
    ev, cust = tables["events"], tables["customers"]
    inter = ev[ev.event_type == "interaction"]
    assert_counts(ev, 10, loaded=len(inter))
    assert (len(inter), len(ev)) == (10, 13)
    assert inter.timestamp.dt.tz_convert("Europe/Lisbon").dt.strftime("%Y-%m-%d").tolist() == [
        "2008-05-05", "2008-05-05", "2008-05-05", "2008-06-02", "2008-12-22",
        "2009-01-28", "2009-02-02", "2009-12-02", "2010-01-06", "2010-11-17",
    ]  # fmt: skip
    assert set(ev.date_inferred) == {"year"} and ev.contact.iloc[0] == "unknown"
    assert "balance" in cust.columns and cust.balance.iloc[3] == -10
    assert load_bundle(tables, template="banking").n_rejected == 0


def test_marketing_bad_rows_are_set_aside(tmp_path):
    path = edited(tmp_path, FULL, '"cellular";2;"feb"', '"cellular";30;"feb"')  # 30 February
    path = edited(tmp_path, path, '"telephone";22;"dec"', '"fax";22;"dec"')
    ev = read_bank_marketing(path)["events"]
    inter = (ev.event_type == "interaction").sum()
    assert_counts(ev, 10, loaded=inter)
    aside = ev.attrs["set_aside"]
    assert inter == 8 and aside.line.tolist() == [6, 8]
    assert aside.reason.iloc[0].startswith("contact 'fax' has no rule in rules file")
    assert aside.reason.iloc[1] == "no such date: feb 30"


@pytest.mark.parametrize(
    ("source", "old", "new", "match"),
    [
        (ADDITIONAL, '"poutcome";', '"outcome";', r"lacks column\(s\) 'poutcome'"),
        (ADDITIONAL, '"day_of_week";', '"weekday";', r"neither 'day_of_week'.*nor 'day'"),
        (FULL, '58;"management"', 'fifty-eight;"management"', r"'age'.*line\(s\) 2 "),
        (FULL, ';"unknown";"no"\n', ';"unknown"\n', r"fewer than 17 fields at line\(s\) 2 "),
    ],
)
def test_marketing_malformed_input(tmp_path, source, old, new, match):
    with pytest.raises(ConnectorError, match=match):
        read_bank_marketing(edited(tmp_path, source, old, new))


@pytest.mark.parametrize("name", ["bank-additional-full.csv", "bank-full.csv"])
def test_marketing_full_real_file(name):
    path = real_file("uci_bank_marketing", name)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    yes = sum(r["y"] == "yes" for r in rows)

    tables = read_bank_marketing(path)
    ev, cust = tables["events"], tables["customers"]
    inter = ev[ev.event_type == "interaction"]
    assert_counts(ev, len(rows), loaded=len(inter))
    assert len(inter) == len(rows) and (ev.event_type == "conversion").sum() == yes
    assert (len(rows), yes) == {"bank-additional-full.csv": (41_188, 4_640),
                                "bank-full.csv": (45_211, 5_289)}[name]  # fmt: skip
    local = inter.timestamp.dt.tz_convert("Europe/Lisbon")
    assert local.is_monotonic_increasing  # the file is in date order; so is the calendar
    assert local.dt.year.min() == 2008 and local.dt.year.max() == 2010
    assert (local.dt.strftime("%b").str.lower() == [r["month"] for r in rows]).all()
    if name == "bank-additional-full.csv":
        assert (local.dt.strftime("%a").str.lower() == [r["day_of_week"] for r in rows]).all()
    else:
        assert (local.dt.day == [int(r["day"]) for r in rows]).all()
    assert_counts(cust, len(rows))
    assert load_bundle(tables, template="banking").n_rejected == 0
