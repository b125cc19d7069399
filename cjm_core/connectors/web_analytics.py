"""What the web-analytics connectors share: JSON-lines reading, the YAML rules, the output.

The connectors themselves live in :mod:`cjm_core.connectors.ga4` (``ga4``: the GA4
BigQuery export) and :mod:`cjm_core.connectors.segment` (``segment_track``: Segment track
calls). Each turns one source record into a flat *hit* (:func:`hit`) and hands the hits to
:func:`build_tables`, which applies the rules of ``web_rules.yaml`` and returns ``events``
and ``customers`` with the count check.

- **Lines**: :func:`read_json_lines` reads a file, a folder of ``*.json``, ``*.jsonl``,
  ``*.ndjson`` files (``.gz`` too) and ``*.parquet`` files (in name order), or a list of
  them; a Parquet row's 1-based number stands for its line. Blank lines are skipped
  and not counted. A line that is not a JSON object raises
  :class:`~cjm_core.errors.ConnectorError` naming the file and line (``broken="error"``, the
  default: a broken line usually means a truncated or hand-edited export, which you want to
  know about), or is set aside with its text and the reason (``broken="set_aside"``).
- **Touchpoints**: the first matching rule of ``touchpoints`` (by event name, page path glob,
  page URL regex, app screen glob or platform). An event no rule matches is set aside with
  the reason (``unknown="set_aside"``, the default) or raises (``unknown="error"``).
- **Conversions**: events named in ``conversions`` get ``event_type`` "conversion" and their
  revenue as ``value`` (other events have no value).
- **Customer**: the signed-in user id when the event has one, else the device / cookie id
  (GA4 ``user_pseudo_id``, Segment ``anonymousId``). The two are *not* stitched: a visitor who
  signs in half-way shows as two customers (stitch them upstream if you need to). An event with
  neither is set aside ("no customer id", e.g. GA4 consent-mode pings).
- **Duplicates**: an event identical in every output column to an earlier one (a Segment
  message delivered twice) is set aside as "duplicate of <file> line N".

Count check: ``events`` and ``customers`` carry ``attrs["rows_read"]`` (non-blank source
lines) and the same ``attrs["set_aside"]`` (``file``, ``line``, ``event_name``, ``reason``,
``record``: the line's text); one line gives at most one event, so
``rows_read == len(events) + len(set_aside) == customers["events"].sum() + len(set_aside)``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConnectorError
from .exports import fail, load_yaml, normal_name

DEFAULT_RULES = Path(__file__).with_name("web_rules.yaml")
RULE_KEYS = ("event", "page", "page_regex", "screen", "platform")
SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz", ".parquet")
ATTRIBUTES = (
    "event_name",
    "platform",
    "page_path",
    "screen",
    "source",
    "medium",
    "transaction_id",
    "currency",
    "message_id",
)


def _texts(value: Any, where: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConnectorError(f"{where} must be a text or a list of texts, got {value!r}.")
    return values


def load_rules(
    rules: Mapping[str, Any] | str | Path | None = None, conversions: Iterable[str] | None = None
) -> dict[str, Any]:
    """The default rules (``web_rules.yaml``) with the sections of ``rules`` (a dict or a
    YAML file) replacing theirs, and ``conversions`` (event names) replacing that section.

    Example::

        >>> conf = load_rules({"touchpoints": [{"page": "/Shop*", "touchpoint": "website"}]},
        ...                   conversions=["Order Completed"])
        >>> conf["touchpoints"], conf["conversions"]
        ([{'page': ['/shop*'], 'touchpoint': 'website'}], {'order_completed'})
    """
    conf = load_yaml(DEFAULT_RULES, "web-analytics rules")
    given = load_yaml(rules, "web-analytics rules") if rules is not None else {}
    unknown = sorted(set(given) - {"conversions", "touchpoints"})
    if unknown:
        raise ConnectorError(
            f"Unknown section(s) {unknown} in the web-analytics rules; sections: conversions, "
            f"touchpoints."
        )
    conf.update(given)
    if conversions is not None:
        conf["conversions"] = [conversions] if isinstance(conversions, str) else list(conversions)
    touchpoints = []
    for i, rule in enumerate(conf.get("touchpoints") or []):
        where = f"Touchpoint rule {i + 1} ({rule!r})"
        if not isinstance(rule, Mapping) or not isinstance(rule.get("touchpoint"), str):
            raise ConnectorError(
                f"{where} needs a 'touchpoint' id, e.g. {{event: page_view, touchpoint: website}}."
            )
        if set(rule) - {"touchpoint", *RULE_KEYS} or len(rule) < 2:
            raise ConnectorError(
                f"{where} needs one or more of the keys {', '.join(RULE_KEYS)} besides touchpoint."
            )
        out: dict[str, Any] = {}
        for key, value in rule.items():
            if key == "touchpoint":
                out[key] = value
            elif key == "event":
                out[key] = [normal_name(v) for v in _texts(value, where)]
            elif key == "page_regex":
                try:
                    out[key] = [re.compile(v, re.IGNORECASE) for v in _texts(value, where)]
                except re.error as exc:
                    raise ConnectorError(f"{where}: bad regular expression ({exc}).") from None
            else:
                out[key] = [v.casefold() for v in _texts(value, where)]
        touchpoints.append(out)
    names = _texts(conf.get("conversions") or [], "conversions")
    return {"touchpoints": touchpoints, "conversions": {normal_name(n) for n in names}}


def match_rule(rules: list[dict], event: str, path: str, url: str, screen: str, platform: str):
    """The touchpoint of the first rule matching, or ``None`` (texts may be "").

    Example::

        >>> match_rule(load_rules()["touchpoints"], "page_view", "/checkout/pay", "", "", "web")
        'checkout'
    """
    event, path, screen, platform = normal_name(event), path.casefold(), screen.casefold(), platform
    for rule in rules:
        if "event" in rule and event not in rule["event"]:
            continue
        if "page" in rule and not (path and any(fnmatchcase(path, g) for g in rule["page"])):
            continue
        if "page_regex" in rule and not (url and any(r.search(url) for r in rule["page_regex"])):
            continue
        if "screen" in rule and not (
            screen and any(fnmatchcase(screen, g) for g in rule["screen"])
        ):
            continue
        if "platform" in rule and platform.casefold() not in rule["platform"]:
            continue
        return rule["touchpoint"]
    return None


def source_files(
    path: str | Path | Iterable[str | Path],
    suffixes: tuple[str, ...] = SUFFIXES,
    prefixes: tuple[str, ...] = (),
    kind: str = "export",
) -> list[Path]:
    """The files to read: ``path`` itself, the ``kind`` files of a folder (names ending in
    one of ``suffixes`` or starting with one of ``prefixes``), or each of a list."""
    if isinstance(path, (str, Path)):
        given = Path(path).expanduser()
        if given.is_dir():
            files = sorted(
                p
                for p in given.iterdir()
                if p.is_file() and (p.name.endswith(suffixes) or p.name.startswith(prefixes))
            )
            if not files:
                fix = f"give files named *{suffixes}"
                raise fail(given, f"the folder has no {kind} files", fix)
            return files
        paths = [given]
    else:
        paths = [Path(p).expanduser() for p in path]
    for file in paths:
        if not file.is_file():
            raise fail(file, "the file does not exist", "check the path")
    return paths


def read_json_lines(
    path: str | Path | Iterable[str | Path], *, broken: str = "error"
) -> Iterator[tuple[Path, int, str, dict | None, str]]:
    """``(file, line, text, record, problem)`` for each non-blank line; ``record`` is ``None``
    and ``problem`` says why when the line is not a JSON object (``broken="set_aside"``).

    Example::

        >>> import tempfile
        >>> f = Path(tempfile.mkdtemp()) / "x.jsonl"
        >>> _ = f.write_text('{"a": 1}\\n\\n{"a": \\n', encoding="utf-8")
        >>> [(n, r, p[:26]) for _, n, _, r, p in read_json_lines(f, broken="set_aside")]
        [(1, {'a': 1}, ''), (3, None, 'broken JSON line (Expectin')]
    """
    if broken not in ("error", "set_aside"):
        raise ConnectorError(f"broken={broken!r}: use 'error' or 'set_aside'.")
    for file in source_files(path):
        if file.suffix == ".parquet":
            yield from _parquet_rows(file)
            continue
        opener = gzip.open if file.name.endswith(".gz") else open
        try:
            with opener(file, "rt", encoding="utf-8") as handle:
                for number, text in enumerate(handle, start=1):
                    text = text.strip()
                    if not text:
                        continue
                    try:
                        record = json.loads(text)
                        problem = "" if isinstance(record, dict) else "not a JSON object"
                    except ValueError as exc:
                        record, problem = None, f"broken JSON line ({exc})"
                    if problem and broken == "error":
                        raise fail(
                            file,
                            problem,
                            "repair or remove the line (a truncated export? export it again), "
                            "or pass broken='set_aside' to set such lines aside",
                            line=number,
                        )
                    yield file, number, text, (None if problem else record), problem
        except UnicodeDecodeError as exc:
            raise fail(file, f"not UTF-8 text ({exc.reason})", "export as UTF-8") from None
        except (OSError, EOFError) as exc:
            raise fail(file, f"cannot be read ({exc})", "check the file") from None


def _parquet_rows(file: Path) -> Iterator[tuple[Path, int, str, dict, str]]:
    """Each row of a Parquet file as a record (nested columns as dicts and lists); its
    1-based row number stands for the line."""
    import pyarrow.parquet as pq

    try:
        records = pq.read_table(file).to_pylist()
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise fail(file, f"cannot be read as Parquet ({exc})", "check the file") from None
    for number, record in enumerate(records, start=1):
        yield file, number, json.dumps(record, default=str), record, ""


def hit(**fields: Any) -> dict[str, Any]:
    """A flat hit: ``event_name``, ``timestamp`` (tz-aware), ``user_id``, ``anonymous_id``,
    ``page_url``, ``page_path``, ``screen``, ``platform``, ``session``, ``revenue`` and the
    other :data:`ATTRIBUTES`; what a source lacks is ``None``."""
    names = ("timestamp", "user_id", "anonymous_id", "page_url", "session", "revenue")
    return {name: fields.get(name) for name in (*names, *ATTRIBUTES)}


def build_tables(
    lines: Iterable[tuple[Path, int, str, dict | None, str]],
    flatten,
    conf: Mapping[str, Any],
    *,
    unknown: str = "set_aside",
    journeys: bool = True,
) -> dict[str, pd.DataFrame]:
    """``events`` and ``customers`` from the lines of :func:`read_json_lines`;
    ``flatten(record, file, line)`` turns a record into a :func:`hit`, or returns the reason
    to set it aside (text), or raises :class:`ConnectorError` on a wrong type."""
    if unknown not in ("error", "set_aside"):
        raise ConnectorError(f"unknown={unknown!r}: use 'error' or 'set_aside'.")
    rows, aside, cache = [], [], {}
    for file, line, text, record, problem in lines:
        h = flatten(record, file, line) if record is not None else {}
        if isinstance(h, str):  # the source's reason to set the record aside
            h, problem = {}, h
        where = {"file": str(file), "line": line, "event_name": h.get("event_name")}
        customer = h.get("user_id") or h.get("anonymous_id")
        if problem or not customer:
            aside.append({**where, "reason": problem or "no customer id", "record": text})
            continue
        key = tuple(h.get(k) or "" for k in ("event_name", "page_path", "page_url", "screen"))
        key += (h.get("platform") or "",)
        if key not in cache:
            cache[key] = match_rule(conf["touchpoints"], *key)
        if cache[key] is None:
            shown = ", ".join(
                f"{n}={v!r}"
                for n, v in zip(("event", "page", "", "screen", ""), key, strict=True)
                if n and v
            )
            if unknown == "error":
                raise fail(
                    file,
                    f"no touchpoint rule for {shown}",
                    "add a rule to the touchpoints section of your rules file (see "
                    "web_rules.yaml), or pass unknown='set_aside'",
                    line=line,
                )
            aside.append({**where, "reason": f"no touchpoint rule for {shown}", "record": text})
            continue
        is_conversion = normal_name(h["event_name"]) in conf["conversions"]
        session = h.get("session")
        rows.append(
            {
                "customer_id": str(customer),
                "timestamp": h["timestamp"],
                "touchpoint": cache[key],
                "event_type": "conversion" if is_conversion else "interaction",
                "value": h.get("revenue") if is_conversion else None,
                "journey_id": session if journeys and session is not None else None,
                **{a: h.get(a) for a in ATTRIBUTES},
                "identified": bool(h.get("user_id")),
                "_where": where,
                "_text": text,
            }
        )
    columns = ["customer_id", "timestamp", "touchpoint", "event_type", "value", "journey_id"]
    columns += [*ATTRIBUTES, "identified"]
    events = pd.DataFrame(rows, columns=[*columns, "_where", "_text"])
    events["timestamp"] = pd.to_datetime(events["timestamp"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    events["value"] = events["value"].astype("float64")
    seen: dict[tuple, dict] = {}
    dup = np.zeros(len(events), dtype=bool)
    for i, key in enumerate(events[columns].astype("str").itertuples(index=False, name=None)):
        origin = seen.setdefault(key, events["_where"].iat[i])
        if origin is not events["_where"].iat[i]:
            dup[i] = True
            reason = f"duplicate of {Path(origin['file']).name} line {origin['line']}"
            aside.append(
                {**events["_where"].iat[i], "reason": reason, "record": events["_text"].iat[i]}
            )
    events = events[~dup].drop(columns=["_where", "_text"]).reset_index(drop=True)
    for column in ["journey_id", *ATTRIBUTES]:
        events[column] = events[column].astype("str").where(events[column].notna())
    set_aside = pd.DataFrame(aside, columns=["file", "line", "event_name", "reason", "record"])
    customers = (
        events.assign(_conv=events["event_type"] == "conversion")
        .groupby("customer_id", sort=False)
        .agg(
            identified=("identified", "first"),
            events=("touchpoint", "size"),
            conversions=("_conv", "sum"),
            revenue=("value", "sum"),
        )
        .reset_index()
    )
    for df in (events, customers):
        df.attrs.update(rows_read=len(rows) + len(aside) - int(dup.sum()), set_aside=set_aside)
    return {"events": events, "customers": customers}
