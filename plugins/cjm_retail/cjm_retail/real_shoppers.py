"""The ``online_shoppers`` connector: UCI online shoppers sessions as retail journeys.

Source: "Online Shoppers Purchasing Intention Dataset", UCI Machine Learning Repository
(id 468, DOI 10.24432/C5F88Q; Sakar, Polat, Katircioglu & Kastro, 2018), licence CC BY 4.0.
One CSV, ``online_shoppers_intention.csv``: 12,330 sessions of an online shop over one year,
each summarised as page counts and seconds per page type, Google-Analytics rates, month,
weekend flag, visitor and traffic codes and ``Revenue`` (a purchase was made).

**Read this before using the output: identities and dates are made up.**

- **Visitors**: the source has no visitor id (its authors say each session belongs to a
  different user). Each session is its own anonymous customer *and* its own journey:
  ``customer_id`` = ``journey_id`` = ``"s"`` + the session's data row number, 5 digits
  (``s00001`` is the first row under the header). Repeat visits cannot be followed;
  ``visitor_type`` (Returning_Visitor, New_Visitor, Other) is kept as an attribute.
- **Dates**: the source gives only the month (``Feb`` ... ``Dec``, no Jan or Apr; ``June`` is
  spelled out) and whether the day was a weekend, no year, day or hour. Sessions are placed
  on a *synthetic* date: in the year ``year`` (default 2017, a placeholder), the k-th session
  of a month with a given weekend flag (in file order) falls on the (k mod n)-th day of that
  month that is a weekend day (Sat, Sun) or a weekday, as the flag says, at 00:00 UTC. Only
  the month and weekend-vs-weekday are real: analyse by month, never by day, hour or week.
- **Events**: the source has counts, not page sequences. Each page type visited (count > 0)
  gives one ``interaction`` event at the touchpoint of ``online_shoppers_mapping.yaml``
  (``website`` for all three types: the catalog has no separate product-page touchpoint),
  in the order Administrative, Informational, ProductRelated (an assumption), each starting
  when the previous one ended; ``duration_s`` = the seconds on those pages; extra columns
  ``page_type`` and ``pages`` (the count). ``Revenue = TRUE`` adds a ``conversion`` event at
  ``checkout`` after the last page, without ``value`` (the source has no amount).
- **Customers** (one per session): ``month``, ``weekend``, ``visitor_type``,
  ``traffic_type`` (coded acquisition source 1-20, labels not published, so not mapped to
  catalog channels), ``region``, ``operating_system``, ``browser`` (codes), ``bounce_rate``,
  ``exit_rate``, ``page_value`` and ``special_day``.
- **Set aside** (with a reason): a month that is not an English month name, a negative count
  or duration, and a session without any page of a mapped type (nothing to place).

Count check: events ``rows_read == events["journey_id"].nunique() + len(set_aside)`` (a
session gives 1 to 4 events); customers ``rows_read == len(customers) + len(set_aside)``.
Malformed input (missing file or column, a line with too many or too few fields, empty
values, non-numbers, Weekend/Revenue not TRUE/FALSE) raises a
:class:`~cjm_core.errors.ConnectorError` naming the file, the column and the line.

Example (real rows of the source, shipped with the tests under CC BY 4.0)::

    >>> from pathlib import Path
    >>> import cjm_retail
    >>> file = Path(cjm_retail.__file__).parents[1] / "tests" / "fixtures" / "online_shoppers"
    >>> tables = read_online_shoppers(file)
    >>> ev = tables["events"]
    >>> ev["journey_id"].nunique(), len(ev), int((ev["event_type"] == "conversion").sum())
    (10, 20, 3)
    >>> str(ev["timestamp"].iloc[0]), ev["page_type"].iloc[0]
    ('2017-02-01 00:00:00+00:00', 'product_related')
"""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cjm_core.errors import ConnectorError
from cjm_core.extensions import Connector

from .real_data import (
    check_keys,
    check_touchpoint,
    flag,
    load_rules,
    read_source_csv,
    require_values,
    set_aside,
    to_flag,
    to_number,
    with_counts,
)

FILE = "online_shoppers_intention.csv"
PAGE_TYPES = ("Administrative", "Informational", "ProductRelated")
CODES = {  # source column -> customers attribute (whole numbers)
    "OperatingSystems": "operating_system",
    "Browser": "browser",
    "Region": "region",
    "TrafficType": "traffic_type",
}
RATES = {
    "BounceRates": "bounce_rate",
    "ExitRates": "exit_rate",
    "PageValues": "page_value",
    "SpecialDay": "special_day",
}
COLUMNS = (
    *(c for p in PAGE_TYPES for c in (p, f"{p}_Duration")),
    *RATES,
    "Month",
    *CODES,
    "VisitorType",
    "Weekend",
    "Revenue",
)
MONTHS = {
    **{calendar.month_abbr[m].lower(): m for m in range(1, 13)},
    **{calendar.month_name[m].lower(): m for m in range(1, 13)},
}
DEFAULT_RULES = Path(__file__).with_name("online_shoppers_mapping.yaml")


def load_shoppers_rules(mapping_file: str | Path | None = None) -> dict[str, Any]:
    """The checked rules: page type -> (touchpoint, page_type), and the conversion touchpoint.

    Example::

        >>> load_shoppers_rules()["pages"]["ProductRelated"]
        ('website', 'product_related')
    """
    rules, where = load_rules(DEFAULT_RULES, mapping_file)
    check_keys(rules, ("pages", "conversion"), where, "(top level)")
    pages = check_keys(rules.get("pages"), PAGE_TYPES, where, "pages")
    if not pages:
        raise ConnectorError(f"The {where}: 'pages' must map at least one of {PAGE_TYPES}.")
    steps = {}
    for col, rule in pages.items():
        rule = check_keys(rule, ("touchpoint", "page_type"), where, f"pages.{col}")
        touchpoint = check_touchpoint(rule.get("touchpoint"), where, f"pages.{col}")
        steps[col] = (touchpoint, str(rule.get("page_type") or col))
    conversion = check_keys(rules.get("conversion"), ("touchpoint",), where, "conversion")
    return {
        "pages": steps,
        "conversion": check_touchpoint(conversion.get("touchpoint"), where, "conversion"),
    }


def session_dates(months: pd.Series, weekend: pd.Series, year: int) -> pd.Series:
    """The synthetic date of each session (UTC midnight): see the module docstring.

    Example::

        >>> s = session_dates(pd.Series([2, 2, 2]), pd.Series([True, True, False]), 2017)
        >>> s.dt.strftime("%a %d").tolist()  # 2017-02-04 is the first Saturday
        ['Sat 04', 'Sun 05', 'Wed 01']
    """
    out = pd.Series(pd.NaT, index=months.index, dtype="datetime64[us, UTC]")
    rank = months.groupby([months, weekend]).cumcount()
    for (month, at_weekend), idx in months.groupby([months, weekend]).groups.items():
        month = int(month)
        last = calendar.monthrange(year, month)[1]
        days = [
            d for d in range(1, last + 1) if (date(year, month, d).weekday() >= 5) == at_weekend
        ]
        picked = np.asarray(days)[rank[idx].to_numpy() % len(days)]
        out[idx] = pd.to_datetime(
            {"year": year, "month": month, "day": picked}, utc=True
        ).to_numpy()
    return out


def read_online_shoppers(
    path: str | Path, *, mapping_file: str | Path | None = None, year: int = 2017
) -> dict[str, pd.DataFrame]:
    """Read ``online_shoppers_intention.csv`` (the file, or a folder holding it).

    Returns events and customers; see the module docstring for the made-up visitors and
    dates, the rules and the count check.
    """
    rules = load_shoppers_rules(mapping_file)
    try:
        year = int(year)
        date(year, 1, 1)
    except (TypeError, ValueError):
        raise ConnectorError(f"year must be a calendar year such as 2017, got {year!r}.") from None
    file = Path(path).expanduser()
    file = file / FILE if file.is_dir() else file
    df = read_source_csv(file, COLUMNS)
    require_values(df, COLUMNS, file)
    num = {c: to_number(df, c, file, integer=True) for c in (*PAGE_TYPES, *CODES)}
    num |= {c: to_number(df, c, file) for c in (*RATES, *(f"{p}_Duration" for p in PAGE_TYPES))}
    weekend = to_flag(df, "Weekend", file)
    revenue = to_flag(df, "Revenue", file)
    month = df["Month"].str.strip().str.lower().map(MONTHS)

    reason = pd.Series(np.nan, index=df.index, dtype="object")
    unknown = "Month='" + df["Month"] + "': not an English month name or abbreviation"
    flag(reason, month.isna(), unknown)
    measures = [c for p in PAGE_TYPES for c in (p, f"{p}_Duration")]
    negative = pd.concat([num[c] < 0 for c in measures], axis=1).any(axis=1)
    flag(reason, negative, "a negative page count or duration")
    mapped = pd.concat([num[c] > 0 for c in rules["pages"]], axis=1).any(axis=1)
    types = ", ".join(rules["pages"])
    flag(reason, ~mapped, f"no page of a mapped type ({types} all 0): no event to place")
    keep = reason.isna()
    aside = set_aside(df[~keep], reason)

    ids = pd.Series([f"s{i:05d}" for i in range(1, len(df) + 1)], index=df.index)[keep]
    start = session_dates(month[keep].astype("int64"), weekend[keep], year)
    events = _events(ids, start, {c: v[keep] for c, v in num.items()}, revenue[keep], rules)
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "month": df.loc[keep, "Month"],
            "weekend": weekend[keep],
            "visitor_type": df.loc[keep, "VisitorType"],
            **{name: num[c][keep].astype("int64") for c, name in CODES.items()},
            **{name: num[c][keep] for c, name in RATES.items()},
        }
    )
    return {
        "events": with_counts(events, len(df), aside),
        "customers": with_counts(customers, len(df), aside.copy()),
    }


def _events(ids, start, num, revenue, rules) -> pd.DataFrame:
    """Page-type events one after the other from the session start, then the conversion."""
    position = pd.Series(np.arange(len(ids)), index=ids.index)
    elapsed = pd.Series(0.0, index=ids.index)
    frames = []
    for rank, (col, (touchpoint, page_type)) in enumerate(rules["pages"].items()):
        seconds = num[f"{col}_Duration"]
        has = num[col] > 0
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": ids[has],
                    "timestamp": (start + pd.to_timedelta(elapsed, unit="s"))[has],
                    "touchpoint": touchpoint,
                    "event_type": "interaction",
                    "duration_s": seconds[has],
                    "journey_id": ids[has],
                    "page_type": page_type,
                    "pages": num[col][has],
                    "_order": position[has],
                    "_rank": rank,
                }
            )
        )
        elapsed = elapsed + seconds.where(has, 0.0)
    frames.append(
        pd.DataFrame(
            {
                "customer_id": ids[revenue],
                "timestamp": (start + pd.to_timedelta(elapsed, unit="s"))[revenue],
                "touchpoint": rules["conversion"],
                "event_type": "conversion",
                "duration_s": np.nan,
                "journey_id": ids[revenue],
                "page_type": None,
                "pages": np.nan,
                "_order": position[revenue],
                "_rank": len(frames),
            }
        )
    )
    events = pd.concat(frames, ignore_index=True)
    events["timestamp"] = events["timestamp"].astype("datetime64[us, UTC]")
    return events.sort_values(["_order", "_rank"], kind="stable").drop(columns=["_order", "_rank"])


SHOPPERS_CONNECTOR = Connector(
    name="online_shoppers",
    description=(
        "UCI online shoppers sessions (CC BY 4.0): one anonymous customer and journey per "
        "session, page-type events at the website, Revenue as a conversion; SYNTHETIC dates "
        "(only month and weekend are real) (retail template)"
    ),
    options={
        "path": "online_shoppers_intention.csv, or the folder holding it",
        "mapping_file": "YAML rules: page types -> touchpoints, conversion touchpoint (default: "
        "cjm_retail/online_shoppers_mapping.yaml)",
        "year": "the placeholder year of the synthetic session dates (default 2017)",
    },
    read=read_online_shoppers,
)
