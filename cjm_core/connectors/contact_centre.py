"""The ``contact_centre`` connector: calls, chats, cases or tasks exported from a CRM or a
contact-centre platform as CSV, one row per contact.

Expected columns (fields), found by name (see *columns* in ``contact_centre.yaml``: "Customer
ID", "customer_id" and "Caller ID" all work) or named with ``mapping={"Export column":
"field"}``:

- ``customer_id`` (required), ``start_time`` (required; ISO 8601 or ``time_format``; an
  optional ``start_date`` column is put in front of it when the date is a column of its own)
- ``queue`` and/or ``channel`` (at least one): the *touchpoints* rules map them to catalog
  touchpoints ("Cards" queue -> ``call_centre``, "Chat" channel -> ``chatbot``)
- ``wait_time``, ``handling_time`` (optional): seconds (``85``, ``85.5``) or ``h:mm:ss``
  (``0:01:25``, hours may pass 24); ``mm:ss`` is refused as ambiguous
- ``outcome`` (optional): read as resolved / abandoned / transferred by the *outcomes* rules
- ``case_id`` (optional): the call, case or ticket id, kept as an attribute

Output: ``events`` (one per loaded contact: ``event_type`` "interaction", ``duration_s`` =
the wait, attributes ``handling_s``, ``queue``, ``source_channel``, ``outcome``,
``abandoned``, ``case_id`` for the fields present, plus the ``keep`` columns) and
``customers`` (one row per distinct caller, with ``contacts`` and ``abandoned`` counts).

Rows are set aside (never dropped) with a ``reason``: no customer id (blank, or one of
``anonymous_ids``), no start time, a local time the zone skips or repeats, no touchpoint rule,
an unknown outcome. Count check: both tables carry ``attrs["rows_read"]`` (source rows) and
the same ``attrs["set_aside"]``; ``rows_read == len(events) + len(set_aside)`` and
``rows_read == customers["contacts"].sum() + len(set_aside)``. Malformed input (missing
columns, broken CSV lines, times or durations that cannot be read, naive times without
``assume_timezone``) raises :class:`~cjm_core.errors.ConnectorError` naming file, line,
column and the fix.

Example (the fixture: 30 contacts, one e-mail with no rule)::

    >>> from cjm_core.paths import workspace_root
    >>> calls = workspace_root() / "tests/fixtures/connectors/contact_centre_calls.csv"
    >>> tables = read_contact_centre(calls, assume_timezone="Europe/Madrid")
    >>> ev = tables["events"]
    >>> ev.attrs["rows_read"], len(ev), ev.attrs["set_aside"]["reason"].tolist()
    (30, 29, ["no touchpoint rule for queue='Complaints', channel='Email'"])
    >>> print(ev[["customer_id", "timestamp", "touchpoint", "duration_s", "outcome"]].head(3))
      customer_id                 timestamp   touchpoint  duration_s   outcome
    0      C-1001 2024-03-04 07:58:12+00:00  call_centre        42.0  resolved
    1      C-1002 2024-03-04 08:03:47+00:00  call_centre       115.0  resolved
    2      C-1003 2024-03-04 08:20:05+00:00      chatbot         8.0  resolved
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConnectorError
from ..extensions import Connector
from .exports import (
    fail,
    load_yaml,
    no_column,
    normal_name,
    parse_seconds,
    parse_times,
    read_export,
)

FIELDS = (
    "customer_id",
    "start_time",
    "start_date",
    "queue",
    "channel",
    "wait_time",
    "handling_time",
    "outcome",
    "case_id",
)
OUTCOMES = ("resolved", "abandoned", "transferred")
DEFAULT_RULES = Path(__file__).with_name("contact_centre.yaml")


def _words(value: Any, where: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConnectorError(f"{where} must be a text or a list of texts, got {value!r}.")
    return [" ".join(v.casefold().split()) for v in values]


# --- the connector ----------------------------------------------------------------------


def load_rules(rules: Mapping[str, Any] | str | Path | None = None) -> dict[str, Any]:
    """The default rules (``contact_centre.yaml``), with the sections of ``rules`` (a dict
    or a YAML file) replacing theirs. Checked: known fields, outcomes and rule keys.

    Example::

        >>> load_rules({"touchpoints": [{"queue": "Cards", "touchpoint": "call_centre"}]}
        ...            )["touchpoints"]
        [{'queue': ['cards'], 'touchpoint': 'call_centre'}]
    """
    conf = load_yaml(DEFAULT_RULES, "contact-centre rules")
    given = load_yaml(rules, "contact-centre rules") if rules is not None else {}
    unknown = sorted(set(given) - {"columns", "touchpoints", "outcomes"})
    if unknown:
        raise ConnectorError(
            f"Unknown section(s) {unknown} in the contact-centre rules; sections: columns, "
            f"touchpoints, outcomes."
        )
    conf.update(given)
    columns = conf.get("columns") or {}
    bad = sorted(set(columns) - set(FIELDS))
    if bad:
        raise ConnectorError(f"Rules 'columns' name unknown field(s) {bad}; fields: {FIELDS}.")
    outcomes = conf.get("outcomes") or {}
    bad = sorted(set(outcomes) - set(OUTCOMES))
    if bad:
        raise ConnectorError(f"Rules 'outcomes' name {bad}; outcomes are {', '.join(OUTCOMES)}.")
    touchpoints = []
    for i, rule in enumerate(conf.get("touchpoints") or []):
        where = f"Touchpoint rule {i + 1} ({rule!r})"
        if not isinstance(rule, Mapping) or not isinstance(rule.get("touchpoint"), str):
            raise ConnectorError(
                f"{where} needs a 'touchpoint' id, e.g. {{queue: Cards, touchpoint: call_centre}}."
            )
        if set(rule) - {"queue", "channel", "touchpoint"}:
            raise ConnectorError(f"{where} may only have the keys queue, channel, touchpoint.")
        touchpoints.append(
            {k: (v if k == "touchpoint" else _words(v, where)) for k, v in rule.items()}
        )
    return {
        "columns": {
            f: [normal_name(a) for a in _words(v, f"columns.{f}")] for f, v in columns.items()
        },
        "touchpoints": touchpoints,
        "outcomes": {w: o for o, v in outcomes.items() for w in _words(v, f"outcomes.{o}")},
    }


def find_columns(
    file: Path, header: list[str], aliases: Mapping[str, list[str]], mapping: Mapping | None
) -> dict[str, str]:
    """``{field: export column}``: the ``mapping`` first, then names matching the aliases."""
    found: dict[str, str] = {}
    for source, field in (mapping or {}).items():
        source = " ".join(str(source).split())  # as read_export reads header names
        if field not in FIELDS:
            raise ConnectorError(
                f"mapping={{{source!r}: {field!r}}}: {field!r} is not a field; fields: "
                f"{', '.join(FIELDS)} (carry other columns with keep=[...])."
            )
        if source not in header:
            raise no_column(file, source, header, "correct the mapping")
        found[field] = source
    for field in FIELDS:
        if field in found:
            continue
        names = {field, *aliases.get(field, [])}
        hits = [c for c in header if normal_name(c) in names and c not in found.values()]
        if len(hits) > 1:
            raise fail(
                file,
                f"columns {hits} could all be {field}",
                f"pass mapping={{{hits[0]!r}: {field!r}}} to choose",
            )
        if hits:
            found[field] = hits[0]
    return found


def read_contact_centre(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | str | Path | None = None,
    rules: Mapping[str, Any] | str | Path | None = None,
    sep: str = ",",
    encoding: str = "utf-8-sig",
    assume_timezone: str | None = None,
    time_format: str | None = None,
    anonymous_ids: Iterable[str] = (),
    keep: Iterable[str] = (),
) -> dict[str, pd.DataFrame]:
    """Read a contact-centre export into ``events`` and ``customers`` (see the module doc).

    Example::

        >>> from cjm_core.paths import workspace_root
        >>> calls = workspace_root() / "tests/fixtures/connectors/contact_centre_calls.csv"
        >>> cust = read_contact_centre(calls, assume_timezone="Europe/Madrid")["customers"]
        >>> len(cust), int(cust["contacts"].sum()), int(cust["abandoned"].sum())
        (12, 29, 2)
    """
    conf = load_rules(rules)
    if mapping is not None:  # a dict, or the path of a YAML file holding one
        mapping = load_yaml(mapping, "column mapping")
    keep, anonymous_ids = ([x] if isinstance(x, str) else list(x) for x in (keep, anonymous_ids))
    file, raw = read_export(path, sep=sep, encoding=encoding)
    header = [c for c in raw.columns if c != "_line"]
    cols = find_columns(file, header, conf["columns"], mapping)
    need = [f for f in ("customer_id", "start_time") if f not in cols]
    need += [] if {"queue", "channel"} & set(cols) else ["queue or channel"]
    if need:
        raise fail(
            file,
            f"no column for {', '.join(need)} (columns: {', '.join(header)})",
            f"name the export's column with mapping={{'<column>': {need[0].split()[0]!r}}}",
        )
    keep = [" ".join(str(c).split()) for c in keep]
    for column in keep:
        if column not in header:
            raise no_column(file, column, header, "correct keep=")

    def text(field: str) -> pd.Series:
        if field not in cols:
            return pd.Series("", index=raw.index, dtype="str")
        return raw[cols[field]].str.strip()

    when = text("start_time")
    if "start_date" in cols:
        when = (text("start_date") + " " + when).str.strip()
    column = " + ".join(cols[f] for f in ("start_date", "start_time") if f in cols)
    stamps, not_local = parse_times(
        when, raw, file, column, time_format=time_format, assume_timezone=assume_timezone
    )
    customer = text("customer_id")
    queue, channel = text("queue"), text("channel")
    touchpoint = _touchpoints(queue, channel, conf["touchpoints"])
    outcome = text("outcome").str.casefold().str.split().str.join(" ").map(conf["outcomes"])
    raw_outcome = text("outcome")
    shown = [
        f"{f}=" + s.map(repr) for f, s in (("queue", queue), ("channel", channel)) if f in cols
    ]
    where = shown[0] if len(shown) == 1 else shown[0] + ", " + shown[1]
    checks = [
        ((customer == "") | customer.isin([str(a) for a in anonymous_ids]), "no customer id"),
        (when == "", "no start time"),
        (not_local, f"local time skipped or repeated in {assume_timezone}"),
        (touchpoint.isna(), "no touchpoint rule for " + where),
        ((raw_outcome != "") & outcome.isna(), "unknown outcome " + raw_outcome.map(repr)),
    ]
    reasons = pd.Series("", index=raw.index, dtype="str")
    for mask, reason in checks:
        mask = np.asarray(mask, dtype=bool)
        label = reason[mask] if isinstance(reason, pd.Series) else reason
        reasons[mask] = reasons[mask] + "; " + label
    reasons = reasons.str.removeprefix("; ")
    aside = (reasons != "").to_numpy()
    ok = ~aside

    events = pd.DataFrame(
        {
            "customer_id": customer[ok],
            "timestamp": stamps[ok],
            "touchpoint": touchpoint[ok],
            "event_type": "interaction",
            "duration_s": _seconds(text, "wait_time", raw, file, cols)[ok],
        }
    )
    if "handling_time" in cols:
        events["handling_s"] = _seconds(text, "handling_time", raw, file, cols)[ok]
    for field, name in (("queue", "queue"), ("channel", "source_channel"), ("case_id", "case_id")):
        if field in cols:
            events[name] = text(field)[ok].replace("", np.nan)
    if "outcome" in cols:
        events["outcome"] = outcome[ok]
        events["abandoned"] = (outcome[ok] == "abandoned").to_numpy()
    for column in keep:
        events[column] = raw[column][ok]
    events = events.reset_index(drop=True)

    set_aside = raw[aside].assign(reason=reasons[aside].to_numpy()).reset_index(drop=True)
    grouped = events.groupby("customer_id", sort=False)
    customers = grouped.size().rename("contacts").reset_index()
    if "abandoned" in events:
        customers["abandoned"] = grouped["abandoned"].sum().to_numpy()
    for df in (events, customers):
        df.attrs.update(rows_read=len(raw), set_aside=set_aside)
    return {"events": events, "customers": customers}


def _touchpoints(queue: pd.Series, channel: pd.Series, rules: list[dict]) -> pd.Series:
    q = queue.str.casefold().str.split().str.join(" ")
    c = channel.str.casefold().str.split().str.join(" ")
    out = pd.Series(np.nan, index=queue.index, dtype="str")
    for rule in rules:
        hit = out.isna()
        if "queue" in rule:
            hit &= q.isin(rule["queue"])
        if "channel" in rule:
            hit &= c.isin(rule["channel"])
        out[hit] = rule["touchpoint"]
    return out


def _seconds(text, field, raw, file, cols) -> pd.Series:
    if field not in cols:
        return pd.Series(np.nan, index=raw.index, dtype="float64")
    return parse_seconds(text(field), raw, file, cols[field])


CONTACT_CENTRE_CONNECTOR = Connector(
    name="contact_centre",
    description="CRM / contact-centre CSV export (calls, chats, cases): one row per contact",
    options={
        "path": "the CSV export, one row per call, chat, case or task",
        "mapping": "export column -> field (customer_id, start_time, queue, wait_time, ...), "
        "a dict or a YAML file",
        "rules": "YAML file or dict replacing sections of contact_centre.yaml (columns, "
        "touchpoints, outcomes)",
        "sep": "field separator (default ',')",
        "encoding": "text encoding (default 'utf-8-sig')",
        "assume_timezone": "zone of times written without an offset, e.g. 'Europe/London'",
        "time_format": "strftime format of non-ISO times, e.g. '%d/%m/%Y %H:%M:%S'",
        "anonymous_ids": "customer ids meaning 'unidentified caller' (rows set aside)",
        "keep": "export columns carried unchanged as event attributes",
    },
    read=read_contact_centre,
)
