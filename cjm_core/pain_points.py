"""Pain points, ranked: where customers struggle, how many, and what it costs.

:func:`pain_points` gathers the evidence of :mod:`cjm_core.pain_signals` (drop-off, loops,
repeat contacts, long waits or durations, low scores, negative comments) per touchpoint, and
per group (persona, region) when asked, and ranks touchpoints by their **impact**: the
customers affected, summed over the signals (a customer hit by two problems at one
touchpoint counts twice: impact counts customer-problems). ``impact_score`` scales it to 100
for the top pain point. Lost conversions (excess drop-offs, loops) are priced at the mean
value of a converted journey as ``value_at_risk``. With an effort per touchpoint (the
catalog's ``effort`` or ``effort=``), each pain point gets its impact-effort quadrant.

Example::

    >>> from cjm_banking.generator import generate, catalog
    >>> data = generate(customers=400, seed=1)
    >>> ranked = pain_points(data.tables["events"], data.tables["feedback"], catalog=catalog())
    >>> ranked.to_frame().loc[0, "touchpoint"]
    'call_centre'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import CjmError
from .model import JourneyCatalog
from .pain_result import PainPoints, rank_table
from .pain_signals import (
    comment_rows,
    drop_off_rows,
    duration_rows,
    loop_rows,
    low_answer,
    repeat_rows,
    score_rows,
)
from .sequences import gap_seconds
from .voc.journey_frame import journey_frame
from .voc.link import link_feedback

__all__ = ["PainPoints", "pain_points"]


def pain_points(
    events: Any,
    feedback: pd.DataFrame | None = None,
    *,
    catalog: JourneyCatalog | None = None,
    by: str | None = None,
    customers: pd.DataFrame | None = None,
    groups: pd.Series | None = None,
    negative: pd.Series | None = None,
    targets: Mapping[str, float] | None = None,
    wait_target_s: float = 300.0,
    effort: Mapping[str, float] | None = None,
    within: str = "7D",
    window: str = "7D",
    gap: Any = None,
    split_on_conversion: bool = True,
    alpha: float = 0.05,
    engine: Any = None,
) -> PainPoints:
    """Rank the touchpoints (per group of ``by``) by the customers their problems affect.

    :param feedback: canonical feedback: answers are placed at their touchpoint, or linked
        to the last touchpoint within ``window`` before them (:func:`cjm_core.link_feedback`).
    :param by: an events or customers column (``"persona"``, ``"region"``); or ``groups``,
        a Series customer_id -> group (e.g. ``find_personas(...).labels``).
    :param negative: a boolean Series aligned with ``feedback`` marking negative comments
        (e.g. ``comment_sentiment(feedback)["label"] == "negative"``); by default comments are
        scored with :func:`cjm_core.comment_sentiment`.
    :param targets: service levels in seconds per touchpoint, over the catalog's
        ``target_s``; assisted touchpoints without one use ``wait_target_s``.
    :param effort: 1 (easy) .. 5 (hard) per touchpoint, over the catalog's ``effort``.
    :returns: :class:`PainPoints`: ranked ``table``, all rows of ``evidence``.
    """
    jf = journey_frame(events, gap=gap, split_on_conversion=split_on_conversion, engine=engine,
                       extra=[by] if by else [])  # fmt: skip
    if jf.empty:
        raise CjmError("The events are empty: there is nothing to find pain points in.")
    notes: list[str] = []
    jf["_group"] = _groups(jf, by, customers, groups, notes)
    answers, comments = _feedback(feedback, events, jf, window, negative, catalog, engine, notes)
    levels = _targets(catalog, targets, wait_target_s, set(jf["touchpoint"]))
    assisted = {t.id for t in catalog.touchpoints if t.kind == "assisted"} if catalog else set()
    limit = pd.Timedelta(seconds=gap_seconds(within))
    rows = []
    for group, part in jf.groupby("_group", sort=True):
        reach = part.groupby("touchpoint")["customer_id"].nunique()
        members = set(part["customer_id"])
        found = (
            drop_off_rows(part, catalog, alpha)
            + loop_rows(part, alpha)
            + repeat_rows(part, assisted, limit)
            + duration_rows(part, levels)
            + score_rows(answers[answers["customer_id"].isin(members)], reach, alpha)
            + comment_rows(comments[comments["customer_id"].isin(members)], reach, alpha)
        )
        for row in found:
            row["group"] = group
            row["reach"] = int(reach.get(row["touchpoint"], 0))
        rows += found
    evidence = pd.DataFrame(rows)
    value = jf.loc[jf["converted"] & (jf["journey_value"] > 0)].drop_duplicates(
        ["customer_id", "journey"]
    )["journey_value"]
    per_conversion = float(value.mean()) if len(value) else np.nan
    efforts = {t.id: t.effort for t in catalog.touchpoints if t.effort} if catalog else {}
    efforts.update(effort or {})
    table = rank_table(evidence, per_conversion, efforts, grouped=by is not None or groups
                       is not None)  # fmt: skip
    notes.insert(0, "impact: customers affected, summed over signals (customer-problems); "
                    "excess shares count when significant at alpha")  # fmt: skip
    return PainPoints(
        table, notes, evidence=evidence, by=by or ("groups" if groups is not None else None),
        value_per_conversion=per_conversion, alpha=alpha,
    )  # fmt: skip


def _groups(jf, by, customers, groups, notes) -> pd.Series:
    if by is None and groups is None:
        return pd.Series("all", index=jf.index)
    if groups is not None:
        values = jf["customer_id"].map(groups.rename(index=str))
    elif by in jf.columns:
        values = jf[by]
    elif customers is not None and by in customers.columns:
        values = jf["customer_id"].map(
            customers.set_index(customers["customer_id"].astype(str))[by]
        )
    else:
        raise CjmError(
            f"Cannot break pain points down by {by!r}: not an events column, and customers= "
            "does not have it. Pass customers= with that column or groups=."
        )
    missing = values.isna()
    if missing.any():
        notes.append(f"{jf.loc[missing, 'customer_id'].nunique()} customer(s) without a group "
                     "are in the '(none)' group")  # fmt: skip
    return values.astype("object").where(~missing, "(none)").astype(str)


def _feedback(feedback, events, jf, window, negative, catalog, engine, notes):
    empty = pd.DataFrame(
        columns=["customer_id", "touchpoint", "metric", "low", "negative", "topic"]
    )
    if feedback is None or len(feedback) == 0:
        return empty, empty
    result = link_feedback(feedback, events, window=window, engine=engine)
    linked = result.to_frame()
    unlinked = int((linked["link"] == "unlinked").sum())
    if unlinked:
        notes.append(f"{unlinked} of {len(linked)} answers could not be placed at a touchpoint "
                     "(see link_feedback) and are not used")  # fmt: skip
    relationship = int(result.relationship.sum())
    if relationship:
        notes.append(f"{relationship} NPS answers without a touchpoint are about the "
                     "relationship, not a touchpoint, and are not used here")  # fmt: skip
    placed = result.at_touchpoints().assign(touchpoint=lambda t: t["linked_touchpoint"])
    scales = {m.id: (m.min, m.max) for m in catalog.all_metrics} if catalog else {}
    score = pd.to_numeric(placed["score"], errors="coerce")
    placed = placed.assign(low=low_answer(placed["metric"], score, scales))
    placed = placed[placed["touchpoint"].notna() & score.notna()]
    answers = placed[["customer_id", "touchpoint", "metric", "low"]]
    if "comment" not in placed.columns:
        return answers, empty
    has_text = placed["comment"].notna() & (placed["comment"].astype(str).str.strip() != "")
    comments = placed[has_text].copy()
    if negative is not None:
        comments["negative"] = negative.reindex(comments.index).fillna(False).astype(bool)
    else:
        comments["negative"] = _sentiment_negative(comments, notes)
    comments["topic"] = _topic_labels(comments, notes)
    return answers, comments[["customer_id", "touchpoint", "negative", "topic"]]


def _topic_labels(comments: pd.DataFrame, notes: list[str]) -> pd.Series:
    """The topic (top terms) of each negative comment, when there are enough to find them."""
    from .voc.topics import comment_topics

    labels = pd.Series(None, index=comments.index, dtype=object)
    if int(comments["negative"].sum()) < 30:
        return labels
    try:
        found = comment_topics(comments, negative=comments["negative"])
    except CjmError as error:  # too few or too uniform comments for topics
        notes.append(f"no topics of negative comments: {error}")
        return labels
    names = found.to_frame().set_index("topic")["label"]
    assigned = found.assignments["topic"]
    return labels.fillna(assigned[assigned > 0].map(names))


def _sentiment_negative(comments: pd.DataFrame, notes: list[str]) -> pd.Series:
    try:
        from .voc.sentiment import comment_sentiment
    except ImportError:  # pragma: no cover - the sentiment module ships with cjm_core
        notes.append("comments judged negative by their low score (no sentiment model)")
        return comments["low"].astype(bool)
    scored = comment_sentiment(comments)
    return (scored["label"] == "negative").reindex(comments.index).fillna(False)


def _targets(catalog, targets, wait_target_s, seen: set[str]) -> dict[str, float]:
    levels: dict[str, float] = {}
    if catalog is not None:
        for t in catalog.touchpoints:
            if t.target_s:
                levels[t.id] = float(t.target_s)
            elif t.kind == "assisted" and wait_target_s:
                levels[t.id] = float(wait_target_s)
    for tp, seconds in (targets or {}).items():
        if not isinstance(seconds, int | float) or seconds <= 0:
            raise CjmError(f"targets[{tp!r}] must be seconds > 0; got {seconds!r}.")
        levels[tp] = float(seconds)
    return {tp: s for tp, s in levels.items() if tp in seen}
