"""The ``ga4`` connector: the Google Analytics 4 BigQuery export (``events_YYYYMMDD`` tables)
exported as JSON lines (``bq extract --destination_format NEWLINE_DELIMITED_JSON``, INT64
written as text or numbers) or Parquet, one event per line / row.

Fields read from each event:

- ``event_name`` and ``event_timestamp`` (microseconds since the epoch, UTC) are required:
  a record without them, or with a timestamp that is not a whole number, raises
  :class:`~cjm_core.errors.ConnectorError` naming the file and line.
- customer: ``user_id`` when present, else ``user_pseudo_id`` (not stitched, see
  :mod:`cjm_core.connectors.web_analytics`); ``identified`` says which.
- ``event_params`` (a list of ``{key, value: {string_value, int_value, float_value,
  double_value}}``): ``page_location`` (page URL; its path is ``page_path``),
  ``firebase_screen`` or ``screen_name`` (app screen), ``ga_session_id`` (the journey:
  ``journey_id = "<user_pseudo_id>-<ga_session_id>"``, since a session id is only unique per
  device), ``value``, ``currency``, ``transaction_id``.
- ``platform`` (WEB, ANDROID, IOS; lower-cased), ``ecommerce.purchase_revenue`` (the
  conversion value; the ``value`` parameter when it is missing), ``ecommerce.transaction_id``.
- ``source`` / ``medium``: ``collected_traffic_source.manual_source`` / ``manual_medium``
  (the event's own campaign) when present, else ``traffic_source.source`` / ``medium``, which
  GA4 fills with the *user's first* acquisition, not the session's.

Everything else (``event_date``, ``device``, ``geo``, ``items`` ...) is not loaded; rules,
conversions, set-aside rows and the count check are those of
:mod:`cjm_core.connectors.web_analytics` (one line -> at most one event:
``rows_read == len(events) + len(set_aside)``).

Example (the fixture: 16 lines, one ``experiment_impression`` without a rule, one line
without any id)::

    >>> from cjm_core.paths import workspace_root
    >>> export = workspace_root() / "tests/fixtures/connectors/web/ga4_events.jsonl"
    >>> ev = read_ga4(export)["events"]
    >>> ev.attrs["rows_read"], len(ev)
    (16, 14)
    >>> for reason in ev.attrs["set_aside"]["reason"]:
    ...     print(reason)
    no touchpoint rule for event='experiment_impression', page='/product/rain-jacket'
    no customer id
    >>> ev[["customer_id", "touchpoint", "event_type", "value"]].tail(2).values.tolist()
    [['U-2001', 'app', 'interaction', nan], ['U-2001', 'app', 'conversion', 24.99]]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ..extensions import Connector
from .exports import fail
from .web_analytics import build_tables, hit, load_rules, read_json_lines

VALUE_KINDS = ("string_value", "int_value", "float_value", "double_value")


def event_params(record: Mapping[str, Any], file: Path, line: int) -> dict[str, Any]:
    """``{key: value}`` of a GA4 ``event_params`` list (``int_value`` as int).

    Example::

        >>> event_params({"event_params": [{"key": "ga_session_id",
        ...     "value": {"string_value": None, "int_value": "1709546400"}}]}, "x", 1)
        {'ga_session_id': 1709546400}
    """
    params = record.get("event_params") or []
    if not isinstance(params, list):
        raise _wrong(file, line, "event_params", params, "a list of {key, value}")
    out: dict[str, Any] = {}
    for item in params:
        if not isinstance(item, Mapping) or not isinstance(item.get("value") or {}, Mapping):
            raise _wrong(file, line, "event_params", item, "{key: ..., value: {...}}")
        value = item.get("value") or {}
        for kind in VALUE_KINDS:
            if value.get(kind) is not None:
                got = value[kind]
                try:
                    out[str(item.get("key"))] = (
                        int(got)
                        if kind == "int_value"
                        else float(got)
                        if kind != "string_value"
                        else str(got)
                    )
                except (TypeError, ValueError):
                    raise _wrong(file, line, f"event_params.{item.get('key')}", got, kind) from None
                break
    return out


def _wrong(file: Path, line: int, field: str, value: Any, expected: str):
    return fail(
        file,
        f"{value!r} is not {expected}",
        "check that the file is a GA4 BigQuery export (events_* table) written as JSON lines",
        line=line,
        column=field,
    )


def flatten_ga4(record: Mapping[str, Any], file: Path, line: int) -> dict[str, Any]:
    """A GA4 export record as a :func:`~cjm_core.connectors.web_analytics.hit`."""
    name = record.get("event_name")
    if not isinstance(name, str) or not name:
        raise fail(file, "no event_name", "export whole GA4 events", line=line, column="event_name")
    micros = record.get("event_timestamp")
    if isinstance(micros, str) and micros.strip().isdigit():
        micros = int(micros)
    if not isinstance(micros, int) or isinstance(micros, bool):
        raise _wrong(file, line, "event_timestamp", micros, "microseconds since the epoch")
    params = event_params(record, file, line)
    ecommerce = record.get("ecommerce") or {}
    collected = record.get("collected_traffic_source") or {}
    first = record.get("traffic_source") or {}
    if not all(isinstance(d, Mapping) for d in (ecommerce, collected, first)):
        raise _wrong(file, line, "ecommerce/traffic_source", record, "records (objects)")
    revenue = ecommerce.get("purchase_revenue")
    revenue = params.get("value") if revenue is None else revenue
    try:
        revenue = None if revenue is None else float(revenue)
    except (TypeError, ValueError):
        raise _wrong(file, line, "ecommerce.purchase_revenue", revenue, "a number") from None
    url = params.get("page_location")
    url = str(url) if url is not None else None
    pseudo, session = record.get("user_pseudo_id"), params.get("ga_session_id")
    return hit(
        event_name=name,
        timestamp=pd.Timestamp(micros, unit="us", tz="UTC"),
        user_id=record.get("user_id"),
        anonymous_id=pseudo,
        page_url=url,
        page_path=urlsplit(url).path if url else None,
        screen=params.get("firebase_screen") or params.get("screen_name"),
        platform=str(record.get("platform") or "web").casefold(),
        session=f"{pseudo}-{session}" if session is not None and pseudo else None,
        revenue=revenue,
        source=collected.get("manual_source") or first.get("source"),
        medium=collected.get("manual_medium") or first.get("medium"),
        transaction_id=ecommerce.get("transaction_id") or params.get("transaction_id"),
        currency=params.get("currency"),
    )


def read_ga4(
    path: str | Path | Iterable[str | Path],
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
    conversions: Iterable[str] | None = None,
    unknown: str = "set_aside",
    broken: str = "error",
    journeys: bool = True,
) -> dict[str, pd.DataFrame]:
    """Read a GA4 BigQuery export into ``events`` and ``customers`` (see the module doc).

    Example::

        >>> from cjm_core.paths import workspace_root
        >>> export = workspace_root() / "tests/fixtures/connectors/web/ga4_events.jsonl"
        >>> tables = read_ga4(export)
        >>> cust, ev = tables["customers"], tables["events"]
        >>> len(cust), ev["journey_id"].nunique(), float(cust["revenue"].sum())
        (4, 5, 114.89)
    """
    conf = load_rules(rules, conversions)
    lines = read_json_lines(path, broken=broken)
    return build_tables(lines, flatten_ga4, conf, unknown=unknown, journeys=journeys)


GA4_CONNECTOR = Connector(
    name="ga4",
    description="Google Analytics 4 BigQuery export (events_*), JSON lines or Parquet",
    options={
        "path": "an export file (.jsonl, .json.gz, .parquet), a folder of them, or a list",
        "rules": "YAML file or dict replacing sections of web_rules.yaml (conversions, "
        "touchpoints)",
        "conversions": "event names that are conversions (default: purchase, in_app_purchase)",
        "unknown": "events without a touchpoint rule: 'set_aside' (default) or 'error'",
        "broken": "lines that are not JSON objects: 'error' (default) or 'set_aside'",
        "journeys": "ga_session_id as journey_id (default True)",
    },
    read=read_ga4,
)
