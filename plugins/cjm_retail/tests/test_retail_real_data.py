"""The retail connectors for real public data: ``olist`` and ``online_shoppers``.

Fixture numbers are checked by hand (see tests/fixtures/README.md). The full-data tests read
``$CJM_REAL_DATA`` (default ``<workspace>/../shared/data/real``) and recompute their totals
with the ``csv`` module; they skip when the folder is absent (a clone without ../shared).
"""

from __future__ import annotations

import csv
import math
import os
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

import cjm_retail.plugin
import pandas as pd
import pytest
from cjm_retail.real_olist import FILES, read_olist
from cjm_retail.real_shoppers import read_online_shoppers

from cjm_core.bundle import load_bundle
from cjm_core.errors import ConnectorError
from cjm_core.plugins import registry_with

FIXTURES = Path(__file__).parent / "fixtures"
OLIST = FIXTURES / "olist"
SHOPPERS = FIXTURES / "online_shoppers"
ROOT = Path(__file__).resolve().parents[3]  # the workspace: plugins/cjm_retail/tests/..
REAL = Path(os.environ.get("CJM_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))


def order_of_status() -> dict[str, str]:
    with (OLIST / FILES["orders"]).open(newline="") as f:
        by_status = {row["order_status"]: row["order_id"] for row in csv.DictReader(f)}
    return by_status


def real_folder(name: str) -> Path:
    folder = REAL / name
    if not folder.is_dir():
        pytest.skip(
            f"real data folder {folder} is absent (set CJM_REAL_DATA to the folder holding "
            f"{name}/ to run this test)"
        )
    return folder


def copy_fixture(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def edit(file: Path, old: str, new: str, count: int = 1) -> None:
    text = file.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    file.write_text(text.replace(old, new, count), encoding="utf-8")


def assert_counts(tables: dict[str, pd.DataFrame], olist: bool) -> None:
    """The count check of the module docstrings, table by table."""
    ev = tables["events"]
    assert ev.attrs["rows_read"] == ev["journey_id"].nunique() + len(ev.attrs["set_aside"])
    cu = tables["customers"]
    loaded = cu["orders"].sum() if olist else len(cu)
    assert cu.attrs["rows_read"] == loaded + len(cu.attrs["set_aside"])
    if olist:
        fb = tables["feedback"]
        assert fb.attrs["rows_read"] == len(fb) + len(fb.attrs["set_aside"])
    for df in tables.values():
        aside = df.attrs["set_aside"]
        assert {"_line", "reason"} <= set(aside.columns) and aside["reason"].notna().all()


# --- the plugin -----------------------------------------------------------------------


def test_the_retail_plugin_registers_both_connectors():
    reg = registry_with(cjm_retail.plugin, builtins=False, warn=False)
    assert reg.failures == []
    assert sorted(reg.connectors) == ["olist", "online_shoppers"]
    assert set(reg.connector("olist").options) == {"path", "mapping_file", "timezone"}
    assert set(reg.connector("online_shoppers").options) == {"path", "mapping_file", "year"}
    tables = reg.connector("online_shoppers").read(path=SHOPPERS)
    assert set(tables) == {"events", "customers"}


# --- olist: the synthetic fixture ----------------------------------------------------


@pytest.fixture(scope="module")
def olist() -> dict[str, pd.DataFrame]:
    return read_olist(OLIST)


def test_olist_fixture_gives_the_hand_counted_journeys(olist):
    ev, fb, cu = olist["events"], olist["feedback"], olist["customers"]
    assert (len(ev), ev["journey_id"].nunique(), ev["customer_id"].nunique()) == (26, 7, 6)
    assert ev["touchpoint"].value_counts().to_dict() == {"checkout": 13, "delivery": 7,
                                                         "reviews": 6}  # fmt: skip
    assert ev["activity"].value_counts().to_dict() == {
        "purchase": 7, "payment_approved": 6, "review": 6, "carrier_handover": 4,
        "delivered": 3}  # fmt: skip
    conv = ev[ev["event_type"] == "conversion"]
    assert sorted(conv["order_status"]) == ["delivered"] * 3 + ["invoiced", "shipped"]
    assert sorted(conv["value"].fillna(-1)) == [-1, 35.9, 45.5, 120.5, 210.0]  # 7: no payment
    ids = order_of_status()
    for status in ("canceled", "unavailable"):  # non-converting: purchase is an interaction
        buy = ev[(ev["journey_id"] == ids[status]) & (ev["activity"] == "purchase")]
        assert buy["event_type"].tolist() == ["interaction"] and buy["value"].isna().all()
    late = ev.dropna(subset=["days_late"]).set_index("order_status")["days_late"]
    assert sorted(late) == [-14.0, -13.0, 3.0]
    carrier = ev[ev["activity"] == "carrier_handover"]["duration_s"].tolist()
    assert carrier[0] == 99900.0  # order 1: 2018-02-20 10:15 -> 2018-02-21 14:00
    assert ev["duration_s"][ev["touchpoint"] != "delivery"].isna().all()
    assert (len(fb), fb["comment"].notna().sum(), (fb["language"] == "pt").sum()) == (6, 5, 5)
    assert sorted(fb["score"]) == [1, 2, 3, 4, 5, 5]
    assert set(fb["metric"]) == {"rating"} and set(fb["touchpoint"]) == {"reviews"}
    assert fb["comment"][0] == "Recomendo — Chegou antes do prazo, produto ótimo."
    assert "\nQuero o dinheiro de volta" in fb["comment"][1]
    assert set(fb["journey_id"]) <= set(ev["journey_id"])
    assert len(cu) == 6 and cu["orders"].tolist().count(2) == 1
    repeat = cu[cu["orders"] == 2].iloc[0]
    assert (repeat["region"], repeat["zip_prefix"]) == ("RJ", "22041")  # latest order's address
    assert "01310" in cu["zip_prefix"].tolist()  # the lost leading zero put back


def test_olist_times_are_the_wall_clock_labelled_utc_or_converted_from_sao_paulo(olist):
    ev = olist["events"]
    buy = ev[ev["activity"] == "purchase"].set_index("order_status")["timestamp"]
    assert str(buy["shipped"]) == "2017-10-15 00:30:00+00:00"
    assert str(ev["timestamp"].dtype) == "datetime64[us, UTC]"
    sp = read_olist(OLIST, timezone="America/Sao_Paulo")["events"]
    buy = sp[sp["activity"] == "purchase"].set_index("journey_id")["timestamp"]
    ids = order_of_status()
    assert str(buy[ids["shipped"]]) == "2017-10-15 03:00:00+00:00"  # 00:30 skipped -> 01:00 -02
    assert str(buy[ids["invoiced"]]) == "2018-08-20 22:45:00+00:00"  # 19:45 at UTC-3


def test_olist_tables_pass_strict_validation_and_the_count_check(olist):
    bundle = load_bundle(dict(olist), template="retail")
    assert bundle.problems == [] and len(bundle.events) == 26
    channels = bundle.events.groupby("touchpoint")["channel"].first().to_dict()
    assert channels == {"checkout": "web", "delivery": "carrier", "reviews": "reviews"}
    assert_counts(olist, olist=True)
    assert all(len(df.attrs["set_aside"]) == 0 for df in olist.values())


def test_olist_sets_aside_unmapped_statuses_their_reviews_and_customers(tmp_path):
    folder = copy_fixture(OLIST, tmp_path)
    edit(folder / FILES["orders"], ",invoiced,", ",lost_in_space,")
    with (folder / FILES["customers"]).open("a", encoding="utf-8") as f:
        f.write("ffffffffffffffffffffffffffffffff,eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee,1000,x,SP\n")
    tables = read_olist(folder)
    ev, fb, cu = tables["events"], tables["feedback"], tables["customers"]
    aside = ev.attrs["set_aside"]
    assert len(aside) == 1 and aside["_line"].tolist() == [7]
    assert "order_status='lost_in_space' has no rule under 'statuses'" in aside["reason"][0]
    assert (ev["journey_id"].nunique(), len(ev), len(fb), len(cu)) == (6, 23, 5, 5)
    assert fb.attrs["set_aside"]["reason"][0].startswith("its order is set aside: order_status=")
    assert cu.attrs["set_aside"]["reason"].tolist() == [
        "its order is set aside",
        f"no order in {FILES['orders']} has this customer_id",
    ]
    assert_counts(tables, olist=True)
    assert load_bundle(dict(tables), template="retail").problems == []


def test_olist_mapping_file_can_set_canceled_orders_aside(tmp_path):
    rules = (Path(cjm_retail.__file__).parent / "olist_mapping.yaml").read_text()
    custom = tmp_path / "rules.yaml"
    custom.write_text(rules.replace("canceled: interaction", "canceled: set_aside"))
    tables = read_olist(OLIST, mapping_file=custom)
    reasons = tables["events"].attrs["set_aside"]["reason"].tolist()
    assert reasons == ["order_status='canceled': set aside by the mapping file"]
    assert len(tables["feedback"]) == 5 and len(tables["customers"]) == 5
    assert_counts(tables, olist=True)


def test_olist_review_score_off_the_scale_is_set_aside(tmp_path):
    folder = copy_fixture(OLIST, tmp_path)
    edit(folder / FILES["reviews"], ",4,,,2018-09-11", ",6,,,2018-09-11")
    fb = read_olist(folder)["feedback"]
    assert fb.attrs["set_aside"]["reason"].tolist() == [
        "review_score=6: not on the rating scale 1-5"
    ]
    assert fb.attrs["set_aside"]["_line"].tolist() == [7]  # line 3 holds a line break


def test_olist_repeated_review_line_is_set_aside(tmp_path):
    folder = copy_fixture(OLIST, tmp_path)
    file = folder / FILES["reviews"]
    last = file.read_text(encoding="utf-8").splitlines()[-1]
    file.write_text(file.read_text(encoding="utf-8") + last + "\n", encoding="utf-8")
    tables = read_olist(folder)
    aside = tables["feedback"].attrs["set_aside"]
    assert aside[["_line", "reason"]].values.tolist() == [
        [9, "review_id and order_id repeat an earlier line"]
    ]
    assert len(tables["feedback"]) == 6 and len(tables["events"]) == 26
    assert_counts(tables, olist=True)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("orders", "order_status,", "status,", "lacks column(s) 'order_status'"),
        ("orders", ",canceled,", ",canceled,extra,", "line 2: 9 field(s) where the header has 8"),
        ("payments", ",1,credit_card,3,100.0", ",1,credit_card", "line 2: 3 field(s)"),
        ("reviews", ",4,,,", ",quatro,,,", "column 'review_score': 1 value(s) that are not num"),
        ("orders", "2018-08-20 19:45:00", "20/08/2018 19:45", "not in the format"),
        ("customers", "caa3475140071afa2fd9bdd4911093cf", "", "'customer_unique_id': 1 empty"),
    ],
)
def test_olist_malformed_input_names_file_column_and_line(tmp_path, file, old, new, expected):
    folder = copy_fixture(OLIST, tmp_path)
    edit(folder / FILES[file], old, new)
    with pytest.raises(ConnectorError) as err:
        read_olist(folder)
    assert FILES[file] in str(err.value) and expected in str(err.value)


def test_olist_bad_options_and_missing_files(tmp_path):
    with pytest.raises(ConnectorError, match="does not exist"):
        read_olist(tmp_path / "nowhere")
    with pytest.raises(ConnectorError, match="olist_orders_dataset.csv' does not exist"):
        read_olist(tmp_path)
    with pytest.raises(ConnectorError, match="Unknown time zone 'Mars/Olympus'"):
        read_olist(OLIST, timezone="Mars/Olympus")
    bad = tmp_path / "bad.yaml"
    bad.write_text("milestones:\n  order_purchase_timestamp: {touchpoint: warehouse}\n"
                   "statuses: {}\nreview: {metric: rating}\n")  # fmt: skip
    with pytest.raises(ConnectorError, match="touchpoint 'warehouse'.*touchpoints: ads"):
        read_olist(OLIST, mapping_file=bad)


# --- online shoppers: the real sample -------------------------------------------------


@pytest.fixture(scope="module")
def shoppers() -> dict[str, pd.DataFrame]:
    return read_online_shoppers(SHOPPERS)


def test_shoppers_fixture_gives_the_hand_counted_sessions(shoppers):
    ev, cu = shoppers["events"], shoppers["customers"]
    assert (len(ev), ev["journey_id"].nunique(), len(cu)) == (20, 10, 10)
    assert (ev["customer_id"] == ev["journey_id"]).all()
    assert ev["touchpoint"].value_counts().to_dict() == {"website": 17, "checkout": 3}
    assert ev[ev["event_type"] == "conversion"]["customer_id"].tolist() == [
        "s00005", "s00006", "s00007"]  # fmt: skip
    assert ev["page_type"].value_counts().to_dict() == {
        "product_related": 10, "administrative": 4, "informational": 3}  # fmt: skip
    s6 = ev[ev["journey_id"] == "s00006"]
    offsets = (s6["timestamp"] - s6["timestamp"].iloc[0]).dt.total_seconds().tolist()
    assert offsets == pytest.approx([0, 111.5, 160.0, 2028.819697])
    assert s6["duration_s"].tolist()[:3] == pytest.approx([111.5, 48.5, 1868.819697])
    assert str(s6["timestamp"].iloc[0]) == "2017-03-01 00:00:00+00:00"
    assert str(ev[ev["journey_id"] == "s00005"]["timestamp"].iloc[0]) == "2017-02-04 00:00:00+00:00"
    aside = ev.attrs["set_aside"]
    assert aside["_line"].tolist() == [9, 13] and aside["reason"].str.startswith("no page").all()
    assert cu.set_index("customer_id").loc["s00010", "visitor_type"] == "Other"
    assert cu["traffic_type"].tolist()[-1] == 20


def test_shoppers_dates_keep_month_and_weekend_in_any_year(shoppers):
    for year in (2017, 2018):
        tables = read_online_shoppers(SHOPPERS / "online_shoppers_intention.csv", year=year)
        first = tables["events"].groupby("customer_id")["timestamp"].first()
        cu = tables["customers"].set_index("customer_id")
        assert (first.dt.year == year).all()
        assert (first.dt.strftime("%b").str[:3] == cu.loc[first.index, "month"].str[:3]).all()
        assert ((first.dt.day_of_week >= 5) == cu.loc[first.index, "weekend"]).all()


def test_shoppers_tables_pass_strict_validation_and_the_count_check(shoppers):
    bundle = load_bundle(dict(shoppers), template="retail")
    assert bundle.problems == [] and set(bundle.events["channel"]) == {"web"}
    assert_counts(shoppers, olist=False)


def test_shoppers_bad_months_and_negative_durations_are_set_aside(tmp_path):
    folder = copy_fixture(SHOPPERS, tmp_path)
    file = folder / "online_shoppers_intention.csv"
    edit(file, "0,0,0,0,2,64,0,0.1,0,0,Feb", "0,0,0,0,2,-64,0,0.1,0,0,Feb")
    edit(file, ",Nov,2,2,4,20,", ",Brumaire,2,2,4,20,")
    tables = read_online_shoppers(folder)
    reasons = tables["customers"].attrs["set_aside"].set_index("_line")["reason"]
    assert reasons[3] == "a negative page count or duration"
    assert reasons[12] == "Month='Brumaire': not an English month name or abbreviation"
    assert len(reasons) == 4 and len(tables["customers"]) == 8
    assert_counts(tables, olist=False)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("Weekend,Revenue", "Weekend,Purchase", "lacks column(s) 'Revenue'"),
        (",FALSE,FALSE\r\n0,0,0,0,2", ",FALSE,FALSE,\r\n0,0,0,0,2", "line 2: 19 field(s)"),
        (",Feb,2,2,1,2,", ",Feb,2,2,1,", "line 3: 17 field(s)"),
        ("0,0,0,0,13,649.25", "0,0,0,0,thirteen,649.25", "'ProductRelated': 1 value(s) that"),
        ("Visitor,TRUE,TRUE", "Visitor,yes,TRUE", "'Weekend': 1 value(s) that are not TRUE"),
        (",New_Visitor,FALSE,FALSE\r\n4", ",,FALSE,FALSE\r\n4", "'VisitorType': 1 empty value(s)"),
    ],
)
def test_shoppers_malformed_input_names_file_column_and_line(tmp_path, old, new, expected):
    folder = copy_fixture(SHOPPERS, tmp_path)
    file = folder / "online_shoppers_intention.csv"
    file.write_bytes(file.read_bytes().replace(old.encode(), new.encode(), 1))
    with pytest.raises(ConnectorError) as err:
        read_online_shoppers(file)
    assert "online_shoppers_intention.csv" in str(err.value) and expected in str(err.value)


def test_shoppers_bad_options(tmp_path):
    with pytest.raises(ConnectorError, match="year must be a calendar year"):
        read_online_shoppers(SHOPPERS, year="soon")
    bad = tmp_path / "bad.yaml"
    bad.write_text("pages: {Checkout: {touchpoint: website}}\nconversion: {touchpoint: checkout}\n")
    with pytest.raises(ConnectorError, match="unknown key.*'Checkout'.*Administrative"):
        read_online_shoppers(SHOPPERS, mapping_file=bad)
    with pytest.raises(ConnectorError, match="does not exist"):
        read_online_shoppers(tmp_path)


# --- the full real data (skipped without ../shared) ----------------------------------


def test_olist_full_real_data_matches_an_independent_count():
    folder = real_folder("olist_ecommerce_sample")

    def rows(name: str) -> list[dict[str, str]]:
        with (folder / FILES[name]).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    orders, customers, payments, reviews = (rows(k) for k in FILES)
    stamps = ("order_purchase_timestamp", "order_approved_at", "order_delivered_carrier_date",
              "order_delivered_customer_date")  # fmt: skip
    converting = {o["order_id"] for o in orders if o["order_status"] not in
                  ("canceled", "unavailable")}  # fmt: skip
    paid = sum(float(p["payment_value"]) for p in payments if p["order_id"] in converting)
    person = {c["customer_id"]: c["customer_unique_id"] for c in customers}
    late = sum(
        o["order_delivered_customer_date"][:10] > o["order_estimated_delivery_date"][:10]
        for o in orders
        if o["order_delivered_customer_date"]
    )

    tables = read_olist(folder)
    ev, fb, cu = tables["events"], tables["feedback"], tables["customers"]
    assert ev.attrs["rows_read"] == len(orders) == ev["journey_id"].nunique()
    assert len(ev) == sum(bool(o[s]) for o in orders for s in stamps) + len(reviews)
    assert (ev["event_type"] == "conversion").sum() == len(converting)
    assert ev["value"].sum() == pytest.approx(paid)
    assert (ev["days_late"] > 0).sum() == late
    assert len(cu) == ev["customer_id"].nunique() == len({person[o["customer_id"]] for o in orders})
    assert len(fb) == len(reviews) == fb.attrs["rows_read"]
    commented = sum(bool(r["review_comment_title"].strip() or r["review_comment_message"].strip())
                    for r in reviews)  # fmt: skip
    assert fb["comment"].notna().sum() == commented
    assert Counter(fb["score"].astype(int)) == Counter(int(r["review_score"]) for r in reviews)
    assert_counts(tables, olist=True)
    assert load_bundle(dict(tables), template="retail").problems == []


def test_shoppers_full_real_data_matches_an_independent_count():
    folder = real_folder("uci_online_shoppers_intention")
    with (folder / "online_shoppers_intention.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    pages = ("Administrative", "Informational", "ProductRelated")
    kept = [r for r in rows if any(int(r[p]) > 0 for p in pages)]
    bought = sum(r["Revenue"] == "TRUE" for r in kept)
    n_events = sum(int(r[p]) > 0 for r in kept for p in pages) + bought

    tables = read_online_shoppers(folder)
    ev, cu = tables["events"], tables["customers"]
    assert (ev.attrs["rows_read"], len(cu), len(ev.attrs["set_aside"])) == (
        len(rows),
        len(kept),
        len(rows) - len(kept),
    )
    assert len(ev) == n_events and (ev["event_type"] == "conversion").sum() == bought
    assert math.isclose(
        ev["duration_s"].sum(),
        sum(float(r[f"{p}_Duration"]) for r in kept for p in pages if int(r[p]) > 0),
    )
    assert Counter(cu["month"]) == Counter(r["Month"] for r in kept)
    first = ev.groupby("customer_id")["timestamp"].first()
    weekend = cu.set_index("customer_id")["weekend"]
    assert ((first.dt.day_of_week >= 5) == weekend[first.index]).all()
    assert first.min() >= pd.Timestamp(datetime(2017, 2, 1), tz="UTC")
    assert_counts(tables, olist=False)
    assert load_bundle(dict(tables), template="retail").problems == []
