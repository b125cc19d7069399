"""The ``snowplow`` connector: Snowplow *enriched events* as Snowplow Enrich writes them
(the "good" stream / S3 archive): tab-separated, no header, one event per line, the
131 fields of :data:`FIELDS` in that fixed order. Timestamps are UTC without a zone
(``2024-03-04 10:00:00.123``).

- Lines: a file, a folder (files named ``*.tsv``, ``*.txt``, ``part-*`` or ``*.gz``, in name
  order) or a list of files; ``.gz`` is read as gzip. Blank lines are skipped and not counted.
  A line with another number of fields (a truncated file, an older enriched format, a tab
  inside a value) raises :class:`~cjm_core.errors.ConnectorError` naming the file and line
  (``broken="error"``, the default) or is set aside with the reason (``broken="set_aside"``).
- customer: ``user_id`` when present, else ``domain_userid`` (the first-party cookie), else
  ``network_userid`` (the collector's cookie); not stitched (see
  :mod:`cjm_core.connectors.web_analytics`); ``identified`` says whether ``user_id`` was set.
  A line with none of the three is set aside ("no customer id").
- journey: ``domain_sessionid`` when present (a UUID), else
  ``"<domain_userid>-<domain_sessionidx>"``; none without ``domain_userid``.
- time: ``derived_tstamp`` (the device time corrected for clock skew), else
  ``collector_tstamp``; one that is missing or not ``YYYY-MM-DD HH:MM:SS[.fff]`` raises.
- event name: ``se_action`` for structured events (``event`` = ``struct``), else
  ``event_name`` (``page_view``, ``page_ping``, ``transaction``, the schema name of a
  self-describing event such as ``link_click``), else the schema name in ``unstruct_event``,
  else ``event``. Names are compared as in the rules (``add-to-cart`` is ``add_to_cart``).
- page: ``page_urlpath`` and ``page_url``; platform: ``platform`` (web, mob, app, pc, srv ...).
- conversions: ``transaction`` events always, with ``tr_total`` as value, plus the configured
  conversion names; ``tr_orderid`` (as ``transaction_id``), ``tr_currency``, ``event_id``
  (as ``message_id``), ``mkt_source`` / ``mkt_medium`` (else ``refr_source`` /
  ``refr_medium``) are kept. Each ``transaction_item`` line is an interaction of its own.

Rules: ``web_rules.yaml`` with :data:`SNOWPLOW_TOUCHPOINTS` added (mobile tracker events to
``app`` first; ``transaction``, ``transaction_item`` to ``checkout``, page pings and common
self-describing events to ``website`` last) unless ``rules`` gives its own ``touchpoints``.
Unknown events are set aside (``unknown="set_aside"``) or raise (``unknown="error"``).
Count check (one line -> at most one event): ``rows_read == len(events) + len(set_aside)``.

Example (the fixture: 12 lines; an ``experiment_viewed`` event without a rule, a line
without any id)::

    >>> from cjm_core.paths import workspace_root
    >>> export = workspace_root() / "tests/fixtures/connectors/web/snowplow_enriched.tsv"
    >>> tables = read_snowplow(export)
    >>> ev, cust = tables["events"], tables["customers"]
    >>> ev.attrs["rows_read"], len(ev), len(cust), float(ev["value"].sum())
    (12, 10, 3, 89.9)
    >>> for reason in ev.attrs["set_aside"]["reason"]:
    ...     print(reason)
    no touchpoint rule for event='experiment_viewed', page='/blog/spring-trails'
    no customer id
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConnectorError
from ..extensions import Connector
from .exports import fail, load_yaml
from .web_analytics import DEFAULT_RULES, build_tables, hit, load_rules, source_files

# The enriched event's fields in order, as in ENRICHED_EVENT_FIELD_TYPES of the Snowplow
# Python Analytics SDK (snowplow/snowplow-python-analytics-sdk,
# snowplow_analytics_sdk/event_transformer.py, Apache 2.0), which is also the order of the
# "canonical event model" (docs.snowplow.io) and of the atomic.events table: 131 fields.
FIELDS = (
    "app_id platform etl_tstamp collector_tstamp dvce_created_tstamp event event_id txn_id "
    "name_tracker v_tracker v_collector v_etl user_id user_ipaddress user_fingerprint "
    "domain_userid domain_sessionidx network_userid geo_country geo_region geo_city geo_zipcode "
    "geo_latitude geo_longitude geo_region_name ip_isp ip_organization ip_domain ip_netspeed "
    "page_url page_title page_referrer page_urlscheme page_urlhost page_urlport page_urlpath "
    "page_urlquery page_urlfragment refr_urlscheme refr_urlhost refr_urlport refr_urlpath "
    "refr_urlquery refr_urlfragment refr_medium refr_source refr_term mkt_medium mkt_source "
    "mkt_term mkt_content mkt_campaign contexts se_category se_action se_label se_property "
    "se_value unstruct_event tr_orderid tr_affiliation tr_total tr_tax tr_shipping tr_city "
    "tr_state tr_country ti_orderid ti_sku ti_name ti_category ti_price ti_quantity "
    "pp_xoffset_min pp_xoffset_max pp_yoffset_min pp_yoffset_max useragent br_name br_family "
    "br_version br_type br_renderengine br_lang br_features_pdf br_features_flash "
    "br_features_java br_features_director br_features_quicktime br_features_realplayer "
    "br_features_windowsmedia br_features_gears br_features_silverlight br_cookies "
    "br_colordepth br_viewwidth br_viewheight os_name os_family os_manufacturer os_timezone "
    "dvce_type dvce_ismobile dvce_screenwidth dvce_screenheight doc_charset doc_width "
    "doc_height tr_currency tr_total_base tr_tax_base tr_shipping_base ti_currency "
    "ti_price_base base_currency geo_timezone mkt_clickid mkt_network etl_tags "
    "dvce_sent_tstamp refr_domain_userid refr_device_tstamp derived_contexts domain_sessionid "
    "derived_tstamp event_vendor event_name event_format event_version event_fingerprint "
    "true_tstamp"
).split()

# Touchpoint rules for Snowplow's own events, around those of web_rules.yaml.
SNOWPLOW_FIRST = [{"platform": "mob", "touchpoint": "app"}]
SNOWPLOW_TOUCHPOINTS = [
    {"event": ["transaction", "transaction_item"], "touchpoint": "checkout"},
    {
        "event": ["page_ping", "link_click", "submit_form", "change_form", "focus_form"],
        "touchpoint": "website",
    },
]
SUFFIXES = (".tsv", ".txt", ".gz")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})?$")
_SCHEMA = re.compile(r"^iglu:[^/]+/([^/]+)/")


def snowplow_rules(
    rules: Mapping[str, Any] | str | Path | None = None, conversions: Iterable[str] | None = None
) -> dict[str, Any]:
    """The rules of :func:`read_snowplow`: ``web_rules.yaml`` with the Snowplow touchpoint
    rules (unless ``rules`` gives ``touchpoints``); ``transaction`` is always a conversion.

    Example::

        >>> conf = snowplow_rules(conversions=["add-to-cart"])
        >>> sorted(conf["conversions"]), conf["touchpoints"][0]
        (['add_to_cart', 'transaction'], {'platform': ['mob'], 'touchpoint': 'app'})
    """
    given = load_yaml(rules, "web-analytics rules") if rules is not None else {}
    if "touchpoints" not in given:
        default = load_yaml(DEFAULT_RULES, "web-analytics rules").get("touchpoints") or []
        given["touchpoints"] = [*SNOWPLOW_FIRST, *default, *SNOWPLOW_TOUCHPOINTS]
    conf = load_rules(given, conversions)
    conf["conversions"] = conf["conversions"] | {"transaction"}
    return conf


def read_tsv_lines(
    path: str | Path | Iterable[str | Path], *, broken: str = "error"
) -> Iterator[tuple[Path, int, str, dict | None, str]]:
    """``(file, line, text, record, problem)`` for each non-blank line, ``record`` being
    ``{field: text}`` over :data:`FIELDS`, or ``None`` with the ``problem`` when the line has
    another number of fields (``broken="set_aside"``)."""
    if broken not in ("error", "set_aside"):
        raise ConnectorError(f"broken={broken!r}: use 'error' or 'set_aside'.")
    for file in source_files(path, SUFFIXES, ("part-",), "enriched-event"):
        opener = gzip.open if file.name.endswith(".gz") else open
        try:
            with opener(file, "rt", encoding="utf-8", newline="") as handle:
                for number, text in enumerate(handle, start=1):
                    text = text.rstrip("\r\n")
                    if not text.strip():
                        continue
                    values = text.split("\t")
                    if len(values) == len(FIELDS):
                        yield file, number, text, dict(zip(FIELDS, values, strict=True)), ""
                        continue
                    problem = f"{len(values)} tab-separated fields, expected {len(FIELDS)}"
                    if broken == "error":
                        raise fail(
                            file,
                            problem,
                            "give enriched events as Snowplow Enrich writes them (the current "
                            "131-field format; a truncated file? export it again), or pass "
                            "broken='set_aside' to set such lines aside",
                            line=number,
                        )
                    yield file, number, text, None, problem
        except UnicodeDecodeError as exc:
            raise fail(
                file, f"not UTF-8 text ({exc.reason})", "give the files as written"
            ) from None
        except (OSError, EOFError) as exc:
            raise fail(file, f"cannot be read ({exc})", "check the file") from None


def _stamp(record: Mapping[str, str], file: Path, line: int) -> pd.Timestamp:
    column = "derived_tstamp" if record["derived_tstamp"] else "collector_tstamp"
    text = record[column]
    if _STAMP.match(text):
        try:
            return pd.Timestamp(text, tz="UTC")
        except ValueError:
            pass
    raise fail(
        file,
        f"{text!r} is not a time like 2024-03-04 10:00:00.123",
        "give derived_tstamp or collector_tstamp as Snowplow writes them (UTC)",
        line=line,
        column=column,
    )


def _event_name(record: Mapping[str, str], file: Path, line: int) -> str:
    if record["event"] == "struct" and record["se_action"]:
        return record["se_action"]
    if record["event_name"]:
        return record["event_name"]
    if record["unstruct_event"]:
        try:
            schema = json.loads(record["unstruct_event"])["data"]["schema"]
            return _SCHEMA.match(schema).group(1)
        except (ValueError, TypeError, KeyError, AttributeError):
            raise fail(
                file,
                "not a self-describing event JSON with data.schema 'iglu:vendor/name/...'",
                "check the export",
                line=line,
                column="unstruct_event",
            ) from None
    if record["event"]:
        return record["event"]
    raise fail(file, "no event type", "check the export", line=line, column="event")


def flatten_snowplow(record: Mapping[str, str], file: Path, line: int) -> dict[str, Any]:
    """An enriched event (``{field: text}``) as a
    :func:`~cjm_core.connectors.web_analytics.hit`."""
    revenue = None
    if record["event"] == "transaction" and record["tr_total"]:
        try:
            revenue = float(record["tr_total"])
        except ValueError:
            raise fail(
                file,
                f"{record['tr_total']!r} is not a number",
                "check the export",
                line=line,
                column="tr_total",
            ) from None
    duid = record["domain_userid"]
    session = record["domain_sessionid"] or (
        f"{duid}-{record['domain_sessionidx']}" if duid and record["domain_sessionidx"] else None
    )
    return hit(
        event_name=_event_name(record, file, line),
        timestamp=_stamp(record, file, line),
        user_id=record["user_id"] or None,
        anonymous_id=duid or record["network_userid"] or None,
        page_url=record["page_url"] or None,
        page_path=record["page_urlpath"] or None,
        platform=record["platform"] or None,
        session=session,
        revenue=revenue,
        source=record["mkt_source"] or record["refr_source"] or None,
        medium=record["mkt_medium"] or record["refr_medium"] or None,
        transaction_id=record["tr_orderid"] or None,
        currency=record["tr_currency"] or None,
        message_id=record["event_id"] or None,
    )


def read_snowplow(
    path: str | Path | Iterable[str | Path],
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
    conversions: Iterable[str] | None = None,
    unknown: str = "set_aside",
    broken: str = "error",
) -> dict[str, pd.DataFrame]:
    """Read Snowplow enriched events into ``events`` and ``customers`` (see the module doc).

    Example::

        >>> from cjm_core.paths import workspace_root
        >>> export = workspace_root() / "tests/fixtures/connectors/web/snowplow_enriched.tsv"
        >>> ev = read_snowplow(export)["events"]
        >>> ev.groupby("touchpoint").size().to_dict()
        {'checkout': 3, 'website': 7}
        >>> ev["journey_id"].nunique()
        3
    """
    conf = snowplow_rules(rules, conversions)
    lines = read_tsv_lines(path, broken=broken)
    return build_tables(lines, flatten_snowplow, conf, unknown=unknown)


SNOWPLOW_CONNECTOR = Connector(
    name="snowplow",
    description="Snowplow enriched events (131-field TSV from Snowplow Enrich, S3 archive)",
    options={
        "path": "an enriched-event TSV file (.tsv, .gz, part-*), a folder of them, or a list",
        "rules": "YAML file or dict replacing sections of web_rules.yaml (conversions, "
        "touchpoints; without touchpoints the Snowplow defaults are used)",
        "conversions": "event names that are conversions besides transaction events "
        "(default: those of web_rules.yaml)",
        "unknown": "events without a touchpoint rule: 'set_aside' (default) or 'error'",
        "broken": "lines without 131 fields: 'error' (default) or 'set_aside'",
    },
    read=read_snowplow,
)
