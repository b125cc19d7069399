"""The ``bank_call_centre`` connector: "Anonymous Bank" (Israel) call-centre log, Feb 1999.

Source: I. Guedj and A. Mandelbaum, Technion SEE Center ("Anonymous Bank call center data"),
file ``data_anonymous_bank_february.txt`` as distributed with T. W. Miller's *Modeling
Techniques in Predictive Analytics* (GitHub ``mtpa/mtpa``). No formal licence: research and
teaching use, so the test fixture is synthetic rows in the file's exact format.

The file is tab-separated (CRLF line ends), one row per call: ``vru+line, call_id,
customer_id, priority, type, date, vru_entry, vru_exit, vru_time, q_start, q_exit, q_time,
outcome, ser_start, ser_exit, ser_time, server``.

Date and time parsing: ``date`` is ``YYMMDD`` (``990201``; two-digit years follow POSIX
``%y``: 69-99 -> 19xx) and ``vru_entry`` is ``H:MM:SS`` with the hour not zero-padded
(``7:02:47``). The event ``timestamp`` is ``date`` + ``vru_entry`` (when the call reached
the bank), read with format ``%y%m%d %H:%M:%S`` as wall-clock time in the rules'
``timezone`` (``Asia/Jerusalem``, UTC+2 in February 1999) and converted to UTC. The other
clock columns are not parsed (their seconds are already in ``vru_time``, ``q_time``,
``ser_time``); 25 real calls have ``vru_exit`` before ``vru_entry`` (a negative
``vru_time``), kept as they are in ``vru_s``.

How rows become canonical tables (rules in ``mappings/bank_call_centre.yaml``, editable):

- Each call is one event; ``types`` maps the service type (also the queue) to a touchpoint
  (all six -> ``call_centre``), ``event_type`` is ``interaction``.
- ``duration_s`` = ``q_time`` (seconds waited for an agent); columns kept: ``handling_s``
  (``ser_time``), ``vru_s`` (``vru_time``), ``outcome`` (served / abandoned / phantom by the
  ``outcomes`` rule), ``abandoned`` (bool: HANG), ``service`` (type code), ``service_name``,
  ``priority``, ``server``, ``vru_line``, ``call_id`` (unique only with ``vru_line``),
  ``identified``.
- ``customer_id`` is the caller id, so repeat callers share it. ``0`` means an unidentified
  caller: with ``unidentified="per_call"`` (default) each such call gets its own id
  ``unidentified-<vru+line>-<call_id>``; with ``"set_aside"`` those calls are set aside.
- customers: one row per caller of a loaded call: ``identified`` and ``priority`` (highest
  seen: 0/1 regular, 2 priority).
- Set aside with a reason (not errors): a type or outcome without a rule or mapped to null,
  a negative ``q_time``, unidentified callers in ``"set_aside"`` mode. Errors
  (``ConnectorError``): missing columns, broken lines, non-numeric seconds or priority,
  unparsable dates or times.

Count check: events ``rows_read`` = calls in the file and ``rows_read == len(events) +
len(set_aside)``. customers ``rows_read`` = distinct caller ids in the file (after the
unidentified rule) and ``rows_read == len(customers) + len(set_aside)``.

Example (synthetic calls in the file's format)::

    >>> from cjm_core.bundle import load_bundle
    >>> tables = read_bank_calls(FIXTURE)
    >>> ev = tables["events"]
    >>> len(ev), int(ev.abandoned.sum()), int(ev.customer_id.value_counts().iloc[0])
    (8, 2, 3)
    >>> load_bundle(tables, template="banking")
    DataBundle(source='<dict>', events=8, feedback=0, customers=5, costs=None, rejected=0)
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

DATASET, FILENAME = "anonymous_bank_call_center", "data_anonymous_bank_february.txt"
COLUMNS = (
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
)
UNIDENTIFIED = ("per_call", "set_aside")
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bank_calls_sample.txt"


def call_times(file: Path, df: pd.DataFrame, timezone: str) -> pd.Series:
    """``date`` (YYMMDD) + ``vru_entry`` (H:MM:SS) local time in ``timezone`` -> UTC."""
    local = pd.to_datetime(
        df["date"].str.strip() + " " + df["vru_entry"].str.strip(),
        format="%y%m%d %H:%M:%S",
        errors="coerce",
    )
    shown = df.assign(date=df["date"] + " " + df["vru_entry"])
    fail_rows(file, "date", local.isna(), shown, "date + vru_entry value(s) that are not "
              "YYMMDD H:MM:SS", "dates are 990201 (YYMMDD), times 7:02:47")  # fmt: skip
    try:
        return local.dt.tz_localize(timezone, ambiguous="raise", nonexistent="raise").dt.tz_convert(
            "UTC"
        )
    except Exception as exc:  # unknown zone, or a time skipped / repeated by a DST change
        raise ConnectorError(
            f"{str(file)!r}: could not place the call times in zone {timezone!r}: {exc}. Fix: "
            f"set 'timezone' in the rules to the IANA zone the times were recorded in."
        ) from None


def read_bank_calls(
    path: str | Path | None = None,
    *,
    rules: str | Path | dict[str, Any] | None = None,
    unidentified: str = "per_call",
) -> dict[str, pd.DataFrame]:
    """Read the call-centre log into events and customers (see the module doc).

    :param path: the ``data_anonymous_bank_february.txt`` file or its folder (default: the
        shared real-data folder, ``$CJM_REAL_DATA/anonymous_bank_call_center``).
    :param rules: a YAML rules file or dict shaped like ``mappings/bank_call_centre.yaml``.
    :param unidentified: ``"per_call"`` (one customer per unidentified call) or
        ``"set_aside"`` (set calls with customer_id 0 aside).
    :returns: ``{"events": ..., "customers": ...}`` with the count-check ``attrs``.

    Example::

        >>> ev = read_bank_calls(FIXTURE, unidentified="set_aside")["events"]
        >>> len(ev), ev.attrs["set_aside"].reason.unique().tolist()
        (5, ['unidentified caller (customer_id 0)'])
    """
    if unidentified not in UNIDENTIFIED:
        raise ConnectorError(
            f"unidentified={unidentified!r} is not an option; use 'per_call' or 'set_aside'."
        )
    file = source_file(path, DATASET, FILENAME)
    rule, where = load_rules(rules, "bank_call_centre.yaml", ("timezone", "types", "outcomes"))
    types, outcomes = dict(rule["types"] or {}), dict(rule["outcomes"] or {})
    check_touchpoints(types, where, "types")
    abandoned_labels = set(rule.get("abandoned_outcomes") or [])

    src = read_table(file, sep="\t", required=COLUMNS)
    seconds = {c: to_numbers(file, src, c) for c in ("vru_time", "q_time", "ser_time")}
    priority = to_numbers(file, src, "priority")
    times = call_times(file, src, str(rule["timezone"]))

    caller = src["customer_id"].str.strip()
    identified = ~caller.isin(["0", ""])
    customer = caller.where(
        identified | (unidentified == "set_aside"),
        "unidentified-" + src["vru+line"].str.strip() + "-" + src["call_id"].str.strip(),
    )
    kind, result = src["type"].str.strip(), src["outcome"].str.strip()
    touchpoint, label = kind.map(types), result.map(outcomes)
    reason = pd.Series("", index=src.index, dtype=object)
    checks = [
        (seconds["q_time"] < 0, "negative q_time " + src["q_time"]),
        (~identified & (unidentified == "set_aside"), "unidentified caller (customer_id 0)"),
        *rule_problems(result, outcomes, "outcome", where),
        *rule_problems(kind, types, "type", where),
    ]
    for mask, why in checks:  # later checks overwrite earlier ones: a type problem shows first
        reason[mask] = why if isinstance(why, str) else why[mask]
    drop = reason != ""

    keep = ~drop
    events = pd.DataFrame(
        {
            "customer_id": customer[keep],
            "timestamp": times[keep],
            "touchpoint": touchpoint[keep],
            "event_type": "interaction",
            "duration_s": seconds["q_time"][keep],
            "handling_s": seconds["ser_time"][keep],
            "vru_s": seconds["vru_time"][keep],
            "outcome": label[keep],
            "abandoned": label[keep].isin(list(abandoned_labels)),
            "service": kind[keep],
            "service_name": kind[keep].map(dict(rule.get("type_names") or {})),
            "priority": priority[keep].astype(int),
            "server": src.loc[keep, "server"],
            "vru_line": src.loc[keep, "vru+line"],
            "call_id": src.loc[keep, "call_id"],
            "identified": identified[keep],
        }
    ).reset_index(drop=True)
    customers = (
        events.groupby("customer_id", sort=True)
        .agg(identified=("identified", "first"), priority=("priority", "max"))
        .reset_index()
    )
    # attrs last: pandas compares attrs on concat, and DataFrames in attrs do not compare
    count_check(events, len(src), aside(src, drop, reason))
    count_check(customers, customer.nunique(), customers_aside(customer, customers["customer_id"]))
    return {"events": events, "customers": customers}


def _read(**options: Any) -> dict[str, pd.DataFrame]:
    unknown = sorted(set(options) - {"path", "rules", "unidentified"})
    if unknown:
        raise ConnectorError(
            f"The bank_call_centre connector has no option(s) {', '.join(map(repr, unknown))}; "
            f"options: path, rules, unidentified."
        )
    path = options.pop("path", None)
    return read_bank_calls(path, **options)


CALLS_CONNECTOR = Connector(
    name="bank_call_centre",
    description=(
        "'Anonymous Bank' (Israel) call-centre log, February 1999 (Technion SEE Center, "
        "research use): one call_centre event per call, duration_s = queue wait"
    ),
    options={
        "path": f"the {FILENAME} file or its folder (default: $CJM_REAL_DATA/{DATASET})",
        "rules": "YAML rules file (type -> touchpoint, outcomes, time zone)",
        "unidentified": "'per_call' (default: one customer per call of customer_id 0) or "
        "'set_aside'",
    },
    read=_read,
)
