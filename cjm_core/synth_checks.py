"""Numbers that say whether synthetic data look like real journeys (for template tests).

:func:`describe_synthetic` summarises generated tables: how many journeys convert, how many
answer a survey, how many channels customers use, how digital each persona is, how varied
the comments are and whether their tone follows the score, and the before/after effects
measured the way the before/after study measures them (so they can be set against
``truth.json``).

Example::

    >>> from cjm_banking.generator import catalog, generate  # doctest: +SKIP
    >>> summary = describe_synthetic(generate(customers=500), catalog())  # doctest: +SKIP
    >>> 0.1 < summary["conversion_share"] < 0.35  # doctest: +SKIP
    True
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from .extensions import SyntheticData
from .model import JourneyCatalog

NEGATIVE_WORDS = ("disappoint", "terrible", "awful", "frustrat", "worst", "never", "not ",
                  "nobody", "fail", "slow", "ages", "forever", "late", "broke", "wasted",
                  "pain", "hard", "mess", "shame", "ugh", "gave up")  # fmt: skip


def observed_effects(data: SyntheticData, touchpoint: str, date: str) -> dict[str, Any]:
    """Conversion and CSAT before/after at ``touchpoint`` as the study defines them.

    Conversion: journeys with the touchpoint, converted when a conversion event comes at or
    after the first visit, split by the time of that first visit. CSAT: answers about the
    touchpoint, split by their timestamp. Each entry has before, after, difference and its
    standard error.
    """
    ev, fb = data.tables["events"], data.tables["feedback"]
    when = pd.Timestamp(date, tz="UTC")
    first = ev.loc[ev["touchpoint"] == touchpoint].groupby("journey_id")["timestamp"].min()
    conv = ev.loc[ev["event_type"] == "conversion", ["journey_id", "timestamp"]]
    conv = conv.join(first.rename("first"), on="journey_id", how="inner")
    converted = first.index.isin(conv.loc[conv["timestamp"] >= conv["first"], "journey_id"])
    after = (first >= when).to_numpy()
    rows = fb.loc[(fb["metric"] == "csat") & (fb["touchpoint"] == touchpoint)]
    later = (rows["timestamp"] >= when).to_numpy()
    scores = rows["score"].to_numpy(dtype=float)
    return {
        "conversion": _two(converted[~after].astype(float), converted[after].astype(float)),
        "csat": _two(scores[~later], scores[later]),
    }


def _two(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return {"before": float(a.mean()), "after": float(b.mean()),
            "difference": float(b.mean() - a.mean()), "std_error": se,
            "n_before": len(a), "n_after": len(b)}  # fmt: skip


def describe_synthetic(data: SyntheticData, catalog: JourneyCatalog) -> dict[str, Any]:
    """Realism figures of generated tables (see the module docstring)."""
    ev, fb, cust = (data.tables[k] for k in ("events", "feedback", "customers"))
    by_journey = ev.groupby("journey_id")
    journeys = pd.DataFrame({
        "converted": ev["event_type"].eq("conversion").groupby(ev["journey_id"]).any(),
        "span_days": (by_journey["timestamp"].max() - by_journey["timestamp"].min())
        .dt.total_seconds() / 86_400,
        "events": by_journey.size(),
    })  # fmt: skip
    kinds = {t.id: t.kind for t in catalog.touchpoints}
    persona = ev["customer_id"].map(cust.set_index("customer_id")["persona"])
    digital = ev["touchpoint"].map(kinds).eq("digital")
    starts = ev.groupby(["customer_id", "journey_id"])["timestamp"].min().groupby(level=0)
    spread = (starts.max() - starts.min())[starts.size() > 1].dt.total_seconds() / 86_400
    comments = fb.dropna(subset=["comment"])
    english = comments[comments["language"] == "en"]
    pattern = "|".join(re.escape(w) for w in NEGATIVE_WORDS)
    negative = english["comment"].str.lower().str.contains(pattern, regex=True)
    low = english["score"] <= _low_cut(english)
    high = english["score"] >= _high_cut(english)
    return {
        "journeys": len(journeys),
        "events_per_journey": float(journeys["events"].mean()),
        "conversion_share": float(journeys["converted"].mean()),
        "survey_share": fb["journey_id"].nunique() / len(journeys),
        "multichannel_share": float((ev.groupby("customer_id")["channel"].nunique() >= 3).mean()),
        "median_journey_span_days": float(journeys["span_days"].median()),
        "median_customer_spread_days": float(spread.median()),
        "digital_share_by_persona": digital.groupby(persona).mean().to_dict(),
        "comment_share": len(comments) / max(len(fb), 1),
        "distinct_comment_share": comments["comment"].nunique() / max(len(comments), 1),
        "languages": sorted(comments["language"].unique()),
        "negative_rate_low_scores": float(negative[low].mean()),
        "negative_rate_high_scores": float(negative[high].mean()),
    }


def _low_cut(fb: pd.DataFrame) -> pd.Series:
    """Per row, the highest score counted as low: 6 for NPS, else 2."""
    return np.where(fb["metric"] == "nps", 6, 2)


def _high_cut(fb: pd.DataFrame) -> pd.Series:
    """Per row, the lowest score counted as high: 9 for NPS, 6 for CES, else 4."""
    return np.where(fb["metric"] == "nps", 9, np.where(fb["metric"] == "ces", 6, 4))
