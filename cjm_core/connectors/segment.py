"""The ``segment_track`` connector: Segment track calls as JSON lines (a warehouse or S3
export, or a replay archive), one call per line::

    {"type": "track", "event": "Order Completed", "userId": "U-1", "anonymousId": "a-9",
     "timestamp": "2024-03-04T10:00:00.000Z", "messageId": "...",
     "properties": {"revenue": 59.9, "currency": "GBP", "order_id": "T-1"},
     "context": {"page": {"path": "/checkout", "url": "https://..."}}}

- ``type``: only ``track`` calls are loaded; ``identify``, ``page``, ``screen``, ``group``,
  ``alias`` calls are set aside with the reason ("a 'page' call, not a track call").
- ``event`` (required text) and ``timestamp`` (required ISO 8601 with ``Z`` or an offset;
  Segment's corrected event time) raise :class:`~cjm_core.errors.ConnectorError` naming the
  file and line when missing or unreadable.
- customer: ``userId`` when present, else ``anonymousId`` (not stitched, see
  :mod:`cjm_core.connectors.web_analytics`); ``identified`` says which.
- page: ``context.page.path`` / ``url`` (else ``properties.path`` / ``url``); screen:
  ``properties.screen_name``; platform: ``context.device.type`` (ios, android), else "app"
  when ``context.app`` is given, else "web" (server-side calls included).
- conversion value: ``properties.revenue``, else ``total``, else ``value``; ``currency``,
  ``order_id`` (as ``transaction_id``), ``context.campaign.source`` / ``medium``,
  ``messageId`` (as ``message_id``) are kept.
- journeys: Segment has no session id, so ``journey_id`` is empty; cut journeys by time gap
  downstream (e.g. ``cjm_core.sessions.sessions(events, gap="30min")``).

A message delivered twice (same ``messageId`` and content) is set aside as a duplicate.
Rules and the count check (one line -> at most one event:
``rows_read == len(events) + len(set_aside)``) are those of
:mod:`cjm_core.connectors.web_analytics`.

Example (the fixture: 13 lines; an identify call, an unknown event, a duplicate delivery)::

    >>> from cjm_core.paths import workspace_root
    >>> export = workspace_root() / "tests/fixtures/connectors/web/segment_tracks.jsonl"
    >>> tables = read_segment(export)
    >>> ev, cust = tables["events"], tables["customers"]
    >>> ev.attrs["rows_read"], len(ev), len(cust), float(ev["value"].sum())
    (13, 10, 3, 89.9)
    >>> for reason in ev.attrs["set_aside"]["reason"]:
    ...     print(reason)
    an 'identify' call, not a track call
    no touchpoint rule for event='Experiment Viewed', page='/product/trail-sneaker'
    duplicate of segment_tracks.jsonl line 7
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..extensions import Connector
from .exports import fail
from .web_analytics import build_tables, hit, load_rules, read_json_lines

_ZONE = re.compile(r"(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


def _part(record: Mapping[str, Any], key: str, file: Path, line: int) -> Mapping[str, Any]:
    value = record.get(key) or {}
    if not isinstance(value, Mapping):
        raise fail(file, f"{value!r} is not an object", "check the export", line=line, column=key)
    return value


def flatten_segment(record: Mapping[str, Any], file: Path, line: int) -> dict[str, Any] | str:
    """A Segment call as a :func:`~cjm_core.connectors.web_analytics.hit`, or the reason to
    set it aside (a call that is not a track call)."""
    kind = record.get("type")
    if kind != "track":
        article = "an" if str(kind)[:1].casefold() in "aeiou" else "a"
        return f"{article} {kind!r} call, not a track call"
    name, when = record.get("event"), record.get("timestamp")
    if not isinstance(name, str) or not name.strip():
        raise fail(
            file,
            f"no event name ({name!r})",
            "give each track call an 'event'",
            line=line,
            column="event",
        )
    stamp = None
    if isinstance(when, str) and _ZONE.search(when.strip()):
        try:
            stamp = pd.Timestamp(when.strip()).tz_convert("UTC")
        except ValueError:
            stamp = None
    if stamp is None:
        raise fail(
            file,
            f"{when!r} is not an ISO 8601 time with a zone",
            "export Segment's 'timestamp' field as written (e.g. 2024-03-04T10:00:00.000Z)",
            line=line,
            column="timestamp",
        )
    props, context = _part(record, "properties", file, line), _part(record, "context", file, line)
    page, device = _part(context, "page", file, line), _part(context, "device", file, line)
    campaign = _part(context, "campaign", file, line)
    revenue = next(
        (props[k] for k in ("revenue", "total", "value") if props.get(k) is not None), None
    )
    try:
        revenue = None if revenue is None else float(revenue)
    except (TypeError, ValueError):
        raise fail(
            file,
            f"{revenue!r} is not a number",
            "check the export",
            line=line,
            column="properties.revenue",
        ) from None
    device_type = str(device.get("type") or "").casefold()
    platform = (
        device_type if device_type in ("ios", "android") else "app" if context.get("app") else "web"
    )
    return hit(
        event_name=name,
        timestamp=stamp,
        user_id=record.get("userId"),
        anonymous_id=record.get("anonymousId"),
        page_url=page.get("url") or props.get("url"),
        page_path=page.get("path") or props.get("path"),
        screen=props.get("screen_name"),
        platform=platform,
        revenue=revenue,
        source=campaign.get("source"),
        medium=campaign.get("medium"),
        transaction_id=props.get("order_id"),
        currency=props.get("currency"),
        message_id=record.get("messageId"),
    )


def read_segment(
    path: str | Path | Iterable[str | Path],
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
    conversions: Iterable[str] | None = None,
    unknown: str = "set_aside",
    broken: str = "error",
) -> dict[str, pd.DataFrame]:
    """Read Segment track calls into ``events`` and ``customers`` (see the module doc).

    Example::

        >>> from cjm_core.paths import workspace_root
        >>> export = workspace_root() / "tests/fixtures/connectors/web/segment_tracks.jsonl"
        >>> ev = read_segment(export)["events"]
        >>> ev.groupby("touchpoint").size().to_dict()
        {'app': 3, 'checkout': 3, 'website': 4}
    """
    conf = load_rules(rules, conversions)
    lines = read_json_lines(path, broken=broken)
    return build_tables(lines, flatten_segment, conf, unknown=unknown, journeys=False)


SEGMENT_CONNECTOR = Connector(
    name="segment_track",
    description="Segment track calls as JSON lines (warehouse / S3 export, replay archive)",
    options={
        "path": "a JSON-lines file (.jsonl, .json.gz), a folder of them, or a list",
        "rules": "YAML file or dict replacing sections of web_rules.yaml (conversions, "
        "touchpoints)",
        "conversions": "event names that are conversions (default: Order Completed, purchase)",
        "unknown": "events without a touchpoint rule: 'set_aside' (default) or 'error'",
        "broken": "lines that are not JSON objects: 'error' (default) or 'set_aside'",
    },
    read=read_segment,
)
