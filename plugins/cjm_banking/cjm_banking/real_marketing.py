"""The ``bank_marketing`` connector: UCI Bank Marketing (Portuguese bank telemarketing).

Source: Moro, S., Rita, P. & Cortez, P. (2014), UCI Machine Learning Repository "Bank
Marketing", DOI 10.24432/C5K306, CC BY 4.0 (cite the DOI and Moro et al. 2014, Decision
Support Systems 62:22-31). Two files, semicolon-separated with quoted text:
``bank-additional-full.csv`` (41,188 rows, May 2008 - Nov 2010, has ``day_of_week``; the
default) and ``bank-full.csv`` (45,211 rows, has ``day`` of the month and ``balance``).

**THE TIMESTAMPS ARE SYNTHETIC.** The files give no dates: only ``month`` and either the
weekday (``day_of_week``) or the day of the month (``day``), and no year. Events are placed
on a documented calendar (rules ``calendar`` in ``mappings/bank_marketing.yaml``):

- year: rows are in date order; from ``first_year`` (2008) the year goes up by one each
  time the month goes back (dec -> mar), which gives 2008-2010 for both files;
- day, ``bank-full.csv``: the file's ``day`` (a date that does not exist is set aside);
- day, ``bank-additional-full.csv``: a month's first contact goes on the first such
  weekday of the month; a new week starts each time the weekday goes back (fri -> mon), and
  each contact goes on its weekday of that week (the last such weekday of the month if that
  week runs past the month's end). Weekdays stay true; the day of the month is a guess
  (weeks without calls are not seen, so dates can come early);
- time of day: ``12:00`` in ``Europe/Lisbon``, converted to UTC.

Events carry ``date_inferred`` (``"year,day"`` or ``"year"``: the parts of the date that
were guessed). Use them for order, month and weekday; do not read days between contacts of
different clients, time-of-day or seasonality finer than a month into them.

How rows become canonical tables (other rules in the same YAML, editable):

- No client id exists: one row is one client, ``customer_id == journey_id == "bm-NNNNN"``
  (NNNNN = the data row number in the file, 1-based).
- Each row gives one ``interaction`` event, the campaign's **last** contact (the only one
  with a month), at the touchpoint of its ``contact`` (cellular, telephone, unknown ->
  ``call_centre``). Earlier contacts are counted, not dated: kept in ``campaign`` (contacts
  in this campaign, the last included), ``previous``, ``pdays``, ``poutcome``. The call
  length ``duration`` is kept as ``call_s`` (``duration_s`` is the wait in this catalog).
- ``y == "yes"`` also gives a ``conversion`` event (term deposit subscribed) at the same
  touchpoint, ``call_s`` seconds later (at the end of that call); no ``value`` (unknown).
- customers: ``customer_id``, the client columns (age, job, marital, education, default,
  balance, housing, loan: those present) and ``age_band``.
- Set aside with a reason: a contact without a rule or mapped to null, an unknown month or
  weekday, a day that does not exist, an empty ``y``. Errors (``ConnectorError``): missing
  columns, broken lines, non-numeric numbers.

Count check: events ``rows_read`` = rows of the file and, exactly, ``rows_read ==
(event_type == "interaction").sum() + len(set_aside)`` and ``len(events) ==
(event_type == "interaction").sum() + (event_type == "conversion").sum()`` (one row gives
one interaction plus one conversion when ``y == "yes"``). customers: ``rows_read ==
len(customers) + len(set_aside)``.

Example (real rows of bank-additional-full.csv, CC BY 4.0)::

    >>> from cjm_core.bundle import load_bundle
    >>> tables = read_bank_marketing(FIXTURE)
    >>> ev = tables["events"]
    >>> len(ev), int((ev.event_type == "conversion").sum()), str(ev.timestamp.iloc[0])
    (18, 6, '2008-05-05 11:00:00+00:00')
    >>> load_bundle(tables, template="banking")
    DataBundle(source='<dict>', events=18, feedback=0, customers=12, costs=None, rejected=0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cjm_core.errors import ConnectorError
from cjm_core.extensions import Connector

from .real_data import (
    aside,
    check_touchpoints,
    count_check,
    customers_aside,
    load_rules,
    read_table,
    rule_problems,
    source_file,
    to_numbers,
)

DATASET, FILENAME = "uci_bank_marketing", "bank-additional-full.csv"
COLUMNS = (
    "age",
    "job",
    "marital",
    "education",
    "default",
    "housing",
    "loan",
    "contact",
    "month",
    "duration",
    "campaign",
    "pdays",
    "previous",
    "poutcome",
    "y",
)
NUMBERS = ("age", "duration", "campaign", "pdays", "previous", "balance", "day")
MACRO = ("emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m", "nr.employed")
MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
WEEKDAYS = {d: i for i, d in enumerate("mon tue wed thu fri sat sun".split())}
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bank_additional_sample.csv"


def synthetic_dates(month: pd.Series, first_year: int, weekday=None, day=None) -> pd.Series:
    """Dates (midnight, naive) of contacts in file order, by the documented calendar.

    Give ``weekday`` (0 = Monday) or ``day`` (of the month); days that do not exist give NaT.

    Example::

        >>> month, weekday = pd.Series([5, 5, 5, 12, 3]), pd.Series([0, 1, 0, 0, 0])
        >>> synthetic_dates(month, 2008, weekday=weekday).dt.strftime("%Y-%m-%d").tolist()
        ['2008-05-05', '2008-05-06', '2008-05-12', '2008-12-01', '2009-03-02']
    """
    year = first_year + (month.diff() < 0).cumsum()
    if day is not None:
        parts = pd.DataFrame({"year": year, "month": month, "day": day})
        return pd.to_datetime(parts, errors="coerce")
    first = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
    new_month = (month != month.shift()) | (year != year.shift())
    block = new_month.cumsum()
    week = ((weekday < weekday.shift()) & ~new_month).astype(int).groupby(block).cumsum()
    start = weekday.groupby(block).transform("first")  # weekday of the month's first contact
    monday = 1 + (start - first.dt.day_of_week) % 7 - start  # day number of week 0's Monday
    nth = monday + 7 * week + weekday
    last = first.dt.days_in_month
    nth = nth.where(nth <= last, nth - 7 * ((nth - last + 6) // 7))  # the last such weekday
    return first + pd.to_timedelta(nth - 1, unit="D")


def read_bank_marketing(
    path: str | Path | None = None, *, rules: str | Path | dict[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """Read a UCI Bank Marketing file into events and customers (see the module doc).

    :param path: ``bank-additional-full.csv`` or ``bank-full.csv`` (the variant is told by
        its columns), or the folder (then ``bank-additional-full.csv``; default: the shared
        real-data folder, ``$CJM_REAL_DATA/uci_bank_marketing``).
    :param rules: a YAML rules file or dict shaped like ``mappings/bank_marketing.yaml``.
    :returns: ``{"events": ..., "customers": ...}`` with the count-check ``attrs``.

    Example::

        >>> tables = read_bank_marketing(FIXTURE)
        >>> sorted(tables["customers"].age_band.value_counts().items())
        [('25-34', 2), ('35-44', 5), ('55-64', 4), ('65+', 1)]
    """
    file = source_file(path, DATASET, FILENAME)
    rule, where = load_rules(rules, "bank_marketing.yaml", ("contacts", "conversion", "calendar"))
    contacts = dict(rule["contacts"] or {})
    check_touchpoints(contacts, where, "contacts")
    conv, cal = dict(rule["conversion"]), dict(rule["calendar"])

    src = read_table(file, sep=";", required=(*COLUMNS, conv["column"]))
    by_weekday = "day_of_week" in src.columns
    if not by_weekday and "day" not in src.columns:
        raise ConnectorError(
            f"{str(file)!r} has neither 'day_of_week' (bank-additional-full.csv) nor 'day' "
            f"(bank-full.csv); columns present: {', '.join(src.columns)}."
        )
    num = {c: to_numbers(file, src, c) for c in NUMBERS + MACRO if c in src.columns}
    month = src["month"].str.strip().str.lower().map(MONTHS)
    contact = src["contact"].str.strip()
    touchpoint = contact.map(contacts)
    outcome = src[conv["column"]].str.strip()
    reason = pd.Series("", index=src.index, dtype=object)
    checks = [
        (outcome == "", f"empty {conv['column']!r}"),
        *rule_problems(contact, contacts, "contact", where),
        (month.isna(), "unknown month " + src["month"].map(repr)),
    ]
    weekday = None
    if by_weekday:
        weekday = src["day_of_week"].str.strip().str.lower().map(WEEKDAYS)
        checks.append((weekday.isna(), "unknown day_of_week " + src["day_of_week"].map(repr)))
    for mask, why in checks:  # the last matching check gives the reason
        reason[mask] = why if isinstance(why, str) else why[mask]

    ok = reason == ""
    dates = synthetic_dates(
        month[ok].astype(int),
        int(cal["first_year"]),
        weekday=None if weekday is None else weekday[ok].astype(int),
        day=None if by_weekday else num["day"][ok].astype(int),
    )
    no_date = pd.Series(False, index=src.index)
    no_date[ok] = dates.isna()
    if no_date.any():  # only bank-full.csv: a day the month does not have
        reason[no_date] = (
            "no such date: " + src.loc[no_date, "month"] + " " + src.loc[no_date, "day"]
        )
    keep = reason == ""
    try:
        hour, minute = (int(x) for x in str(cal["time"]).split(":")[:2])
        local = dates[keep[ok].to_numpy()] + pd.Timedelta(hours=hour, minutes=minute)
        stamp = local.dt.tz_localize(str(cal["timezone"])).dt.tz_convert("UTC")
    except Exception as exc:  # a time that is not "HH:MM", an unknown zone
        raise ConnectorError(
            f'The {where} calendar cannot place the contacts ({exc}); give time as "HH:MM" '
            f"(quoted) and timezone as an IANA zone such as Europe/Lisbon."
        ) from None

    ids = "bm-" + pd.Series(src.index + 1, index=src.index).map("{:05d}".format)
    client = [c for c in rule.get("client_columns") or [] if c in src.columns]
    extra = [c for c in src.columns if c not in client and c not in ("duration",)]
    base = pd.DataFrame(
        {
            "customer_id": ids[keep],
            "timestamp": stamp,
            "touchpoint": touchpoint[keep],
            "event_type": "interaction",
            "journey_id": ids[keep],
            "call_s": num["duration"][keep],
            "date_inferred": "year,day" if by_weekday else "year",
        }
    )
    for col in extra:
        base[col] = num[col][keep] if col in num else src.loc[keep, col]
    won = base[outcome[keep] == str(conv["value"])].copy()
    won["event_type"] = "conversion"
    won["timestamp"] = won["timestamp"] + pd.to_timedelta(won["call_s"], unit="s")
    events = pd.concat([base, won]).sort_index(kind="stable").reset_index(drop=True)

    customers = pd.DataFrame({"customer_id": ids[keep]})
    for col in client:
        customers[col] = num[col][keep] if col in num else src.loc[keep, col]
    customers["age_band"] = _age_bands(num["age"][keep], dict(rule.get("age_bands") or {}))
    customers = customers.reset_index(drop=True)
    count_check(events, len(src), aside(src, ~keep, reason))
    count_check(customers, len(src), customers_aside(ids, customers["customer_id"]))
    return {"events": events, "customers": customers}


def _age_bands(age: pd.Series, bands: dict[Any, str]) -> pd.Series:
    if not bands:
        return pd.Series(np.nan, index=age.index, dtype=object)
    lower = sorted((float(k), str(v)) for k, v in bands.items())
    edges = [b for b, _ in lower] + [np.inf]
    return pd.cut(age, edges, right=False, labels=[v for _, v in lower]).astype(object)


def _read(**options: Any) -> dict[str, pd.DataFrame]:
    unknown = sorted(set(options) - {"path", "rules"})
    if unknown:
        raise ConnectorError(
            f"The bank_marketing connector has no option(s) {', '.join(map(repr, unknown))}; "
            f"options: path, rules."
        )
    return read_bank_marketing(options.get("path"), rules=options.get("rules"))


MARKETING_CONNECTOR = Connector(
    name="bank_marketing",
    description=(
        "UCI Bank Marketing telemarketing (Moro et al. 2014, CC BY 4.0): one client per row, "
        "last contact at call_centre, y=yes a conversion; SYNTHETIC dates (month/weekday only)"
    ),
    options={
        "path": f"bank-additional-full.csv or bank-full.csv, or their folder (default: "
        f"$CJM_REAL_DATA/{DATASET}/{FILENAME})",
        "rules": "YAML rules file (contact -> touchpoint, conversion, calendar, age bands)",
    },
    read=_read,
)
