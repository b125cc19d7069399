"""The ``bpi_challenge_2012`` connector: BPI Challenge 2012 loan applications, banking template.

Source: van Dongen, B.F. (2012), *BPI Challenge 2012*, 4TU.ResearchData,
DOI 10.4121/uuid:3926db30-f712-4394-aebc-75976070e91f (CC BY 4.0 / 4TU terms: cite it).
The file is the XES log converted to CSV, one row per event: ``case_id,
application_registered_at, amount_requested, activity, lifecycle, resource, timestamp``
(ISO 8601 with offset, ``+01:00`` / ``+02:00``; converted to UTC).

How rows become canonical tables (rules in ``mappings/bpi_2012.yaml``, editable):

- One case is one customer and one journey: ``customer_id == journey_id == case_id``.
- Only lifecycle ``COMPLETE`` rows are kept (one event per finished step); ``SCHEDULE`` and
  ``START`` rows of work items are set aside with the reason ``lifecycle START not kept``.
- ``activities`` maps each activity to a touchpoint: A_* application states and offer
  decisions -> ``online_application``; O_SENT / O_SENT_BACK (offer mailed, returned signed)
  -> ``email``; staff phone work (W_Afhandelen leads, W_Completeren aanvraag, W_Nabellen
  offertes, W_Nabellen incomplete dossiers) -> ``call_centre``; back-office work
  (W_Valideren aanvraag, W_Beoordelen fraude, W_Wijzigen contractgegevens) -> ``null``,
  set aside. An activity with no rule is **set aside** with the reason
  ``activity 'X' has no rule in <rules file>`` (not an error).
- ``conversions`` (A_APPROVED) get ``event_type == "conversion"`` and ``value`` = the case's
  ``amount_requested``; every other event is an ``interaction`` without value.
- events keep ``activity``, ``lifecycle`` and ``resource`` (employee id, text) as columns.
- customers: ``customer_id``, ``amount_requested``, ``registered_at`` (UTC) and ``outcome``
  (approved / declined / cancelled by the ``outcomes`` precedence, else ``open``).

Count check: events ``rows_read`` = source rows and ``rows_read == len(events) +
len(set_aside)`` (one row gives at most one event). customers ``rows_read`` = distinct case
ids in the source and ``rows_read == len(customers) + len(set_aside)`` (cases none of whose
rows was loaded are set aside). Bad input (missing columns, broken lines, non-numeric
amounts, timestamps that are not ISO 8601 with an offset) raises ``ConnectorError``.

Example (a real 4-case sample of the log)::

    >>> from cjm_core.bundle import load_bundle
    >>> tables = read_bpi_2012(FIXTURE)
    >>> ev = tables["events"]
    >>> ev.attrs["rows_read"], len(ev), len(ev.attrs["set_aside"])
    (46, 28, 18)
    >>> ev.touchpoint.value_counts().to_dict()
    {'online_application': 21, 'call_centre': 5, 'email': 2}
    >>> load_bundle(tables, template="banking")
    DataBundle(source='<dict>', events=28, feedback=0, customers=4, costs=None, rejected=0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cjm_core.errors import ConnectorError
from cjm_core.extensions import Connector

from .real_data import (
    aside,
    check_touchpoints,
    count_check,
    customers_aside,
    fail_rows,
    load_rules,
    read_table,
    rule_problems,
    source_file,
    to_numbers,
)

DATASET, FILENAME = "bpi_challenge_2012", "bpic2012_events.csv.gz"
COLUMNS = (
    "case_id",
    "application_registered_at",
    "amount_requested",
    "activity",
    "lifecycle",
    "resource",
    "timestamp",
)
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bpi_2012_sample.csv"
_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"


def parse_times(file: Path, df: pd.DataFrame, column: str) -> pd.Series:
    """ISO 8601 text with an offset -> UTC timestamps; anything else raises ConnectorError."""
    text = df[column].str.strip()
    out = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    bad = out.isna() | ~text.str.contains(_OFFSET)
    fail_rows(file, column, bad, df, "value(s) that are not ISO 8601 times with an offset")
    return out


def read_bpi_2012(
    path: str | Path | None = None, *, rules: str | Path | dict[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """Read the BPI Challenge 2012 event log into events and customers (see the module doc).

    :param path: the ``bpic2012_events.csv(.gz)`` file or its folder (default: the shared
        real-data folder, ``$CJM_REAL_DATA/bpi_challenge_2012``).
    :param rules: a YAML rules file or dict shaped like ``mappings/bpi_2012.yaml``.
    :returns: ``{"events": ..., "customers": ...}`` with the count-check ``attrs``.

    Example::

        >>> customers = read_bpi_2012(FIXTURE)["customers"]
        >>> customers.set_index("customer_id").outcome.to_dict()
        {'173697': 'declined', '173703': 'cancelled', '173751': 'approved', '173916': 'declined'}
    """
    file = source_file(path, DATASET, FILENAME)
    rule, where = load_rules(rules, "bpi_2012.yaml", ("keep_lifecycle", "activities"))
    targets = dict(rule["activities"] or {})
    check_touchpoints(targets, where, "activities")
    keep_lifecycle = set(rule["keep_lifecycle"] or [])
    conversions = set(rule.get("conversions") or [])
    outcomes = dict(rule.get("outcomes") or {})

    src = read_table(file, sep=",", required=COLUMNS)
    for col in ("case_id", "activity", "lifecycle"):
        fail_rows(file, col, src[col].str.strip() == "", src, "empty value(s)")
    times = parse_times(file, src, "timestamp")
    registered = parse_times(file, src, "application_registered_at")
    amount = to_numbers(file, src, "amount_requested")

    activity, lifecycle = src["activity"], src["lifecycle"]
    touchpoint = activity.map(targets)
    reason = pd.Series("", index=src.index, dtype=object)
    other_lc = ~lifecycle.isin(list(keep_lifecycle))
    checks = [
        *rule_problems(activity, targets, "activity", where, null="maps to no touchpoint"),
        (other_lc, "lifecycle " + lifecycle + " not kept (keep_lifecycle)"),
    ]
    for mask, why in checks:  # later checks overwrite earlier ones: lifecycle shows first
        reason[mask] = why[mask]
    drop = reason != ""

    keep = ~drop
    is_conv = activity[keep].isin(list(conversions))
    events = pd.DataFrame(
        {
            "customer_id": src.loc[keep, "case_id"],
            "timestamp": times[keep],
            "touchpoint": touchpoint[keep],
            "event_type": is_conv.map({True: "conversion", False: "interaction"}),
            "value": amount[keep].where(is_conv),
            "journey_id": src.loc[keep, "case_id"],
            "activity": activity[keep],
            "lifecycle": lifecycle[keep],
            "resource": src.loc[keep, "resource"].replace("", None),
        }
    ).reset_index(drop=True)
    customers = _customers(src, activity, amount, registered, outcomes, events)
    count_check(events, len(src), aside(src, drop, reason))  # attrs last (see count_check)
    return {"events": events, "customers": customers}


def _customers(
    src: pd.DataFrame,
    activity: pd.Series,
    amount: pd.Series,
    registered: pd.Series,
    outcomes: dict[str, str],
    events: pd.DataFrame,
) -> pd.DataFrame:
    first = ~src["case_id"].duplicated()
    table = pd.DataFrame(
        {
            "customer_id": src.loc[first, "case_id"],
            "amount_requested": amount[first],
            "registered_at": registered[first],
        }
    ).reset_index(drop=True)
    outcome = pd.Series("open", index=table["customer_id"], dtype=object)
    for act, label in reversed(list(outcomes.items())):  # earlier entries win
        cases = src.loc[activity == act, "case_id"].unique()
        outcome[outcome.index.isin(cases)] = label
    table["outcome"] = outcome.to_numpy()
    loaded = table["customer_id"].isin(events["customer_id"].unique())
    set_aside = customers_aside(table["customer_id"], table.loc[loaded, "customer_id"])
    return count_check(table[loaded].reset_index(drop=True), len(table), set_aside)


def _read(**options: Any) -> dict[str, pd.DataFrame]:
    unknown = sorted(set(options) - {"path", "rules"})
    if unknown:
        raise ConnectorError(
            f"The bpi_challenge_2012 connector has no option(s) {', '.join(map(repr, unknown))}; "
            f"options: path, rules."
        )
    return read_bpi_2012(options.get("path"), rules=options.get("rules"))


BPI_CONNECTOR = Connector(
    name="bpi_challenge_2012",
    description=(
        "BPI Challenge 2012 loan-application event log (van Dongen 2012, 4TU, CC BY 4.0): "
        "cases -> customers and journeys, A_/O_/W_ activities -> banking touchpoints"
    ),
    options={
        "path": f"the {FILENAME} file or its folder (default: $CJM_REAL_DATA/{DATASET})",
        "rules": "YAML rules file (activity -> touchpoint, lifecycles kept, conversions)",
    },
    read=_read,
)
