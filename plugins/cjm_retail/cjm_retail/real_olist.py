"""The ``olist`` connector: Olist order journeys and reviews as retail events and feedback.

Source: the "Brazilian E-Commerce Public Dataset by Olist" (Olist & André Sionek, Kaggle),
licence **CC BY-NC-SA 4.0, non-commercial use only**. None of it ships with this package:
give the folder that holds the CSV files as Olist publishes them (the full data set, or the
15,000-order sample in ``../shared/data/real/olist_ecommerce_sample``). Four files are read:
``olist_orders_dataset.csv``, ``olist_customers_dataset.csv``,
``olist_order_payments_dataset.csv`` and ``olist_order_reviews_dataset.csv``; items,
products and sellers are not used.

What becomes what (the rules live in ``olist_mapping.yaml``; ``mapping_file`` gives others):

- **Customer**: ``customer_unique_id`` (the person). Olist's own ``customer_id`` is a key per
  order. The customers table has one row per person: ``region`` (state), ``city``,
  ``zip_prefix`` (5 digits: the leading zeros some copies lost are put back), all taken from
  the person's latest order, and ``orders`` (the person's customers lines with a loaded
  order: Olist writes one line per order).
- **Journey**: one per order, ``journey_id`` = ``order_id``. Events: purchase and payment
  approval at ``checkout``, carrier handover and delivery at ``delivery``, the review at
  ``reviews`` (one event per filled timestamp, so a canceled order may have only two).
  The purchase is the conversion, with ``value`` = the order's payment total (sum of
  ``payment_value``, BRL; empty when the order has no payment row). ``duration_s`` of the
  carrier and delivery events = seconds since the purchase (empty when the source dates the
  step before the purchase). Extra columns: ``activity``, ``order_status``, ``days_late``
  (delivery event only: delivery date minus promised date in days, > 0 = late) and
  ``review_id`` (review event only).
- **Order status**: ``canceled`` and ``unavailable`` orders are *non-converting*: the purchase
  event is an interaction without value; their other events and their review are kept (set
  aside, they would remove the angriest reviews). A status without a rule is set aside,
  with its review and (when the person has no other order) its customer rows.
- **Feedback**: one row per review: ``metric`` ``rating`` (the catalog's 1-5 metric),
  ``score`` = ``review_score``, ``comment`` = title and message joined by " — ",
  ``language`` ``"pt"`` where there is a comment, ``touchpoint`` ``reviews``, timestamp =
  when the customer answered, plus ``journey_id`` (the order) and ``review_id``. Olist
  sometimes files one review under two orders of one person: each order keeps its row.
  Reviews off the 1-5 scale, of unknown orders or of orders set aside, and repeated lines
  (same review_id and order_id) are set aside.
- **Timestamps**: Olist writes local wall-clock time in Brazil without a zone
  (``2018-03-01 10:00:00``; mostly São Paulo time, UTC-3, UTC-2 in summer time until 2019).
  By default (``timezone="UTC"``) the wall clock is kept and *labelled* UTC: hours of day stay
  Brazilian and day boundaries are right, but instants are 2-3 hours early. Pass
  ``timezone="America/Sao_Paulo"`` to convert to true UTC (a time skipped by a summer-time
  change moves forward, a repeated one is read as the first).

Count check: ``events.attrs["rows_read"]`` is the number of order lines and
``rows_read == events["journey_id"].nunique() + len(events.attrs["set_aside"])`` (each
loaded order gives one journey of 1 to 5 events); feedback: one review line -> one row,
``rows_read == len(feedback) + len(set_aside)``; customers: lines of the customers file,
``rows_read == customers["orders"].sum() + len(set_aside)`` (one line per order in Olist).
Set-aside rows keep the source values, their line number ``_line`` and a ``reason``.

Malformed input (missing file or column, a line with too many or too few fields, empty
keys, a timestamp not in Olist's format, a score that is not a number) raises a
:class:`~cjm_core.errors.ConnectorError` naming the file, the column and the line.

Example (synthetic rows in the Olist format, shipped with the tests)::

    >>> from pathlib import Path
    >>> import cjm_retail
    >>> folder = Path(cjm_retail.__file__).parents[1] / "tests" / "fixtures" / "olist"
    >>> tables = read_olist(folder)
    >>> ev = tables["events"]
    >>> len(ev), ev["journey_id"].nunique(), int((ev["event_type"] == "conversion").sum())
    (26, 7, 5)
    >>> len(tables["customers"]), len(tables["feedback"])
    (6, 6)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cjm_core.errors import CjmError, ConnectorError
from cjm_core.extensions import Connector

from .real_data import (
    check_keys,
    check_timezone,
    check_touchpoint,
    flag,
    load_rules,
    localize,
    read_source_csv,
    require_values,
    set_aside,
    to_number,
    to_timestamp,
    with_counts,
)

FILES = {
    "orders": "olist_orders_dataset.csv",
    "customers": "olist_customers_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
    "reviews": "olist_order_reviews_dataset.csv",
}
PURCHASE = "order_purchase_timestamp"
DELIVERED = "order_delivered_customer_date"
PROMISED = "order_estimated_delivery_date"
TIMESTAMPS = (PURCHASE, "order_approved_at", "order_delivered_carrier_date", DELIVERED)
COLUMNS = {
    "orders": ("order_id", "customer_id", "order_status", *TIMESTAMPS, PROMISED),
    "customers": (
        "customer_id",
        "customer_unique_id",
        "customer_zip_code_prefix",
        "customer_city",
        "customer_state",
    ),
    "payments": ("order_id", "payment_value"),
    "reviews": (
        "review_id",
        "order_id",
        "review_score",
        "review_comment_title",
        "review_comment_message",
        "review_answer_timestamp",
    ),
}
FORMAT = "%Y-%m-%d %H:%M:%S"
KINDS = ("conversion", "interaction", "set_aside")
DEFAULT_RULES = Path(__file__).with_name("olist_mapping.yaml")


def load_olist_rules(mapping_file: str | Path | None = None) -> dict[str, Any]:
    """The Olist mapping rules, checked: milestones, statuses and review.

    Example::

        >>> rules = load_olist_rules()
        >>> rules["milestones"]["order_delivered_customer_date"]
        ('delivery', 'delivered', True)
        >>> rules["statuses"]["canceled"], rules["review"]["metric"]
        ('interaction', 'rating')
    """
    from .generator import catalog

    rules, where = load_rules(DEFAULT_RULES, mapping_file)
    check_keys(rules, ("milestones", "statuses", "review"), where, "(top level)")
    milestones = check_keys(rules.get("milestones"), TIMESTAMPS, where, "milestones")
    if PURCHASE not in milestones:
        raise ConnectorError(f"The {where}: 'milestones' must map {PURCHASE!r} (the purchase).")
    steps = {}
    for col, rule in milestones.items():
        name = f"milestones.{col}"
        rule = check_keys(rule, ("touchpoint", "activity", "duration_since_purchase"), where, name)
        touchpoint = check_touchpoint(rule.get("touchpoint"), where, name)
        steps[col] = (
            touchpoint,
            str(rule.get("activity") or col),
            bool(rule.get("duration_since_purchase")),
        )
    statuses = rules.get("statuses")
    if not isinstance(statuses, dict) or any(v not in KINDS for v in statuses.values()):
        raise ConnectorError(
            f"The {where}: 'statuses' must map each order_status to one of {', '.join(KINDS)}."
        )
    review = check_keys(rules.get("review"), ("touchpoint", "metric", "language"), where, "review")
    touchpoint = review.get("touchpoint")
    if touchpoint is not None:
        touchpoint = check_touchpoint(touchpoint, where, "review.touchpoint")
    try:
        metric = catalog().metric(str(review.get("metric")))
    except CjmError:
        raise ConnectorError(
            f"The {where}: review.metric {review.get('metric')!r} is not a metric of the retail "
            f"catalog; use 'rating' (1-5) or a standard metric such as 'csat'."
        ) from None
    return {
        "milestones": steps,
        "statuses": {str(k): str(v) for k, v in statuses.items()},
        "review": {
            "touchpoint": touchpoint,
            "metric": metric.id,
            "language": review.get("language"),
        },
        "scale": metric,
        "where": where,
    }


def _comment(reviews: pd.DataFrame) -> pd.Series:
    title = reviews["review_comment_title"].str.strip().replace("", np.nan)
    message = reviews["review_comment_message"].str.strip().replace("", np.nan)
    both = title + " — " + message
    return both.fillna(title).fillna(message)


def read_olist(
    path: str | Path, *, mapping_file: str | Path | None = None, timezone: str = "UTC"
) -> dict[str, pd.DataFrame]:
    """Read the Olist CSV files in the folder ``path``: events, feedback and customers.

    See the module docstring for the rules, the count check and the time zone.
    """
    rules = load_olist_rules(mapping_file)
    timezone = check_timezone(timezone)
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ConnectorError(
            f"Olist folder {str(folder)!r} does not exist (or is not a folder); give the folder "
            f"holding {', '.join(FILES.values())}."
        )
    files = {k: folder / name for k, name in FILES.items()}
    src = {k: read_source_csv(files[k], COLUMNS[k]) for k in FILES}
    orders, customers, payments, reviews = (src[k] for k in FILES)
    require_values(orders, ("order_id", "customer_id", "order_status", PURCHASE), files["orders"])
    require_values(customers, ("customer_id", "customer_unique_id"), files["customers"])
    require_values(payments, ("order_id",), files["payments"])
    require_values(
        reviews, ("order_id", "review_score", "review_answer_timestamp"), files["reviews"]
    )
    times = {c: to_timestamp(orders, c, files["orders"], FORMAT) for c in (*TIMESTAMPS, PROMISED)}
    paid = to_number(payments, "payment_value", files["payments"])
    total = paid.groupby(payments["order_id"]).sum(min_count=1)

    # Orders: which are loaded, and why the others are not.
    status = orders["order_status"]
    kind = status.map(rules["statuses"])
    person_of = customers.drop_duplicates("customer_id").set_index("customer_id")
    person = orders["customer_id"].map(person_of["customer_unique_id"])
    reason = pd.Series(np.nan, index=orders.index, dtype="object")
    flag(reason, orders["order_id"].duplicated(), "order_id repeats an earlier line")
    flag(
        reason,
        kind.isna(),
        "order_status='" + status + f"' has no rule under 'statuses' in the {rules['where']}; "
        "add one (conversion, interaction or set_aside)",
    )
    by_rule = "order_status='" + status + "': set aside by the mapping file"
    flag(reason, kind == "set_aside", by_rule)
    flag(reason, person.isna(), f"customer_id not in {FILES['customers']}")
    keep = reason.isna()
    order_aside = set_aside(orders[~keep], reason)

    events = _order_events(orders[keep], person[keep], kind[keep], times, total, timezone, rules)
    feedback, review_events, review_aside = _reviews(
        reviews, orders[keep], person[keep], reason, orders, files["reviews"], timezone, rules
    )
    if review_events is not None:
        events = pd.concat([events, review_events], ignore_index=True)
    helpers = ["_order", "_rank"]  # loaded order position, step within the order
    events = events.sort_values(helpers, kind="stable").drop(columns=helpers)
    people, customer_aside = _customers(customers, orders, keep, times[PURCHASE])
    return {
        "events": with_counts(events, len(orders), order_aside),
        "feedback": with_counts(feedback, len(reviews), review_aside),
        "customers": with_counts(people, len(customers), customer_aside),
    }


def _order_events(orders, person, kind, times, total, timezone, rules) -> pd.DataFrame:
    """One event per filled milestone timestamp of each loaded order (in rule order)."""
    local = {c: localize(t[orders.index], timezone) for c, t in times.items()}
    purchase = local[PURCHASE]
    position = pd.Series(np.arange(len(orders)), index=orders.index)
    frames = []
    for rank, (col, (touchpoint, activity, since)) in enumerate(rules["milestones"].items()):
        at = local[col]
        has = at.notna()
        frame = pd.DataFrame(
            {
                "customer_id": person[has],
                "timestamp": at[has],
                "touchpoint": touchpoint,
                "event_type": "interaction",
                "value": np.nan,
                "duration_s": np.nan,
                "journey_id": orders.loc[has, "order_id"],
                "activity": activity,
                "order_status": orders.loc[has, "order_status"],
                "days_late": np.nan,
                "review_id": np.nan,
                "_order": position[has],
                "_rank": rank,
            }
        )
        if since:
            wait = (at - purchase).dt.total_seconds()
            frame["duration_s"] = wait.where(wait >= 0)[has]
        if col == PURCHASE:
            converts = kind[has] == "conversion"
            frame["event_type"] = np.where(converts, "conversion", "interaction")
            frame["value"] = frame["journey_id"].map(total).where(converts)
        if col == DELIVERED:
            late = times[DELIVERED].dt.normalize() - times[PROMISED].dt.normalize()
            frame["days_late"] = late.dt.days[orders.index][has].astype("float64")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _reviews(reviews, kept, person, order_reason, orders, file, timezone, rules):
    """Feedback rows, review events (or None) and the reviews set aside."""
    review = rules["review"]
    scale = rules["scale"]
    score = to_number(reviews, "review_score", file)
    answered = localize(to_timestamp(reviews, "review_answer_timestamp", file, FORMAT), timezone)
    known = reviews["order_id"].isin(orders["order_id"])
    first_reason = order_reason.groupby(orders["order_id"]).first()
    reason = pd.Series(np.nan, index=reviews.index, dtype="object")
    flag(reason, ~known, f"order_id not in {FILES['orders']}")
    repeats = reviews.duplicated(["review_id", "order_id"])
    flag(reason, repeats, "review_id and order_id repeat an earlier line")
    in_kept = reviews["order_id"].isin(kept["order_id"])
    flag(reason, ~in_kept, "its order is set aside: " + reviews["order_id"].map(first_reason))
    on_scale = score.map(lambda s: bool(scale.contains(s)))
    flag(
        reason,
        ~on_scale,
        "review_score=" + reviews["review_score"] + f": not on the {scale.id} scale "
        f"{scale.min:g}-{scale.max:g}",
    )
    keep = reason.isna()
    r = reviews[keep]
    who = r["order_id"].map(pd.Series(person.to_numpy(), index=kept["order_id"].to_numpy()))
    comment = _comment(r)
    feedback = pd.DataFrame(
        {
            "customer_id": who,
            "timestamp": answered[keep],
            "touchpoint": review["touchpoint"],
            "metric": review["metric"],
            "score": score[keep],
            "comment": comment,
            "language": np.where(comment.notna(), review["language"], None),
            "journey_id": r["order_id"],
            "review_id": r["review_id"],
        }
    )
    events = None
    if review["touchpoint"] is not None:
        position = pd.Series(np.arange(len(kept)), index=kept["order_id"].to_numpy())
        status = pd.Series(kept["order_status"].to_numpy(), index=kept["order_id"].to_numpy())
        events = pd.DataFrame(
            {
                "customer_id": who,
                "timestamp": answered[keep],
                "touchpoint": review["touchpoint"],
                "event_type": "interaction",
                "value": np.nan,
                "duration_s": np.nan,
                "journey_id": r["order_id"],
                "activity": "review",
                "order_status": r["order_id"].map(status),
                "days_late": np.nan,
                "review_id": r["review_id"],
                "_order": r["order_id"].map(position),
                "_rank": len(rules["milestones"]),
            }
        )
    return feedback, events, set_aside(reviews[~keep], reason)


def _customers(customers, orders, keep, purchase) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per person with a loaded order; customers lines of no loaded order set aside."""
    loaded = set(orders.loc[keep, "customer_id"])
    reason = pd.Series(np.nan, index=customers.index, dtype="object")
    flag(reason, customers["customer_id"].duplicated(), "customer_id repeats an earlier line")
    placed = customers["customer_id"].isin(orders["customer_id"])
    flag(reason, placed & ~customers["customer_id"].isin(loaded), "its order is set aside")
    flag(reason, ~placed, f"no order in {FILES['orders']} has this customer_id")
    rows = customers[reason.isna()].copy()
    latest = purchase[keep].groupby(orders.loc[keep, "customer_id"]).max()
    rows["_latest"] = rows["customer_id"].map(latest)
    rows = rows.sort_values("_latest", kind="stable")  # people in order of first purchase
    person = rows["customer_unique_id"]
    last = rows.drop_duplicates("customer_unique_id", keep="last")
    last = last.set_index("customer_unique_id").loc[person.unique()]  # latest order's address
    people = pd.DataFrame(
        {
            "customer_id": last.index.astype("str"),
            "region": last["customer_state"].to_numpy(),
            "city": last["customer_city"].to_numpy(),
            "zip_prefix": last["customer_zip_code_prefix"].str.zfill(5).to_numpy(),
            "orders": person.value_counts().loc[person.unique()].to_numpy(),
        }
    )
    return people, set_aside(customers[reason.notna()], reason)


OLIST_CONNECTOR = Connector(
    name="olist",
    description=(
        "Olist e-commerce orders and reviews (Brazil; CC BY-NC-SA 4.0, non-commercial): one "
        "journey per order, the person's reviews as 1-5 rating feedback (retail template)"
    ),
    options={
        "path": "folder holding the Olist CSVs (orders, customers, order_payments, order_reviews)",
        "mapping_file": "YAML rules: milestones -> touchpoints, statuses, review (default: "
        "cjm_retail/olist_mapping.yaml)",
        "timezone": "zone of Olist's wall-clock times: 'UTC' (default: keep the wall clock, "
        "labelled UTC) or 'America/Sao_Paulo' (convert to true UTC)",
    },
    read=read_olist,
)
