"""The evidence behind pain points: one row per touchpoint (and group) and signal.

Each signal counts the customers it affects at a touchpoint, beyond what is normal there:

- ``drop_off``: journeys ending at the touchpoint without a conversion, above the pooled exit
  rate of the touchpoints of its stage (of all touchpoints without a catalog);
- ``loops``: conversions lost by journeys that revisit the touchpoint (their conversion rate
  below that of journeys passing it once, one-sided two-proportion z-test);
- ``repeat_contacts``: customers contacting an assisted touchpoint twice within ``within``;
- ``long_duration``: customers with a visit longer than the touchpoint's service level
  (``target_s`` in the catalog or ``targets=``; assisted touchpoints default to
  ``wait_target_s``);
- ``low_<metric>``: dissatisfied answers (CSAT 1-2, CES 1-3, NPS 0-6, a rating in its bottom
  two points) above the pooled share of all touchpoints: reach x excess share;
- ``negative_comments``: negative comments above the pooled share: reach x excess share
  (the detail names the most frequent topic of the touchpoint's negative comments).

Excess shares count only when a one-sided z-test against the pooled share gives
``p < alpha``; the row keeps the rate, the baseline and the p-value either way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from .model import JourneyCatalog

#: dissatisfied answers: score <= this, per metric (ratings: their bottom two points)
LOW = {"csat": 2, "ces": 3, "nps": 6}

EVIDENCE = [
    "touchpoint", "signal", "measure", "rate", "baseline", "p_value", "customers_affected",
    "lost_conversions", "detail",
]  # fmt: skip


def excess(hits: int, n: int, base: float, alpha: float) -> tuple[float, float]:
    """(excess share above ``base``, one-sided p-value of hits/n > base)."""
    if n == 0 or not 0 < base < 1:
        return (max(hits / n - base, 0.0) if n else 0.0), math.nan
    rate = hits / n
    z = (rate - base) / math.sqrt(base * (1 - base) / n)
    p = float(sps.norm.sf(z))
    return (rate - base if (rate > base and p < alpha) else 0.0), p


def drop_off_rows(jf: pd.DataFrame, catalog: JourneyCatalog | None, alpha: float) -> list[dict]:
    visits = jf.drop_duplicates(["customer_id", "journey", "touchpoint"])
    ends = jf[jf["is_last"] & ~jf["converted"]]
    stage = catalog.stage_of() if catalog is not None else {}
    journeys = visits.groupby("touchpoint").size()
    drops = ends.groupby("touchpoint").size().reindex(journeys.index, fill_value=0)
    groups = journeys.index.map(lambda t: stage.get(t, "(all)"))
    base = drops.groupby(groups).transform("sum") / journeys.groupby(groups).transform("sum")
    rows = []
    for tp in journeys.index:
        n, k, b = int(journeys[tp]), int(drops[tp]), float(base[tp])
        ex, p = excess(k, n, b, alpha)
        lost = ex * n
        customers = ends.loc[ends["touchpoint"] == tp, "customer_id"].nunique()
        rows.append(_row(
            tp, "drop_off", "journeys ending here unconverted", k / n if n else math.nan, b, p,
            customers * (lost / k if k else 0.0), lost,
            f"{k:,} of {n:,} journeys end here unconverted ({k / n:.0%} vs {b:.0%} in its stage)",
        ))  # fmt: skip
    return rows


def loop_rows(jf: pd.DataFrame, alpha: float) -> list[dict]:
    per = (
        jf.groupby(["customer_id", "journey", "touchpoint"])
        .agg(visits=("step", "size"), converted=("converted", "first"))
        .reset_index()
    )
    rows = []
    for tp, part in per.groupby("touchpoint"):
        loop = part["visits"] >= 2
        n_loop, n_once = int(loop.sum()), int((~loop).sum())
        if not n_loop or not n_once:
            continue
        k_loop, k_once = (
            int(part.loc[loop, "converted"].sum()),
            int(part.loc[~loop, "converted"].sum()),
        )
        c_loop, c_once = k_loop / n_loop, k_once / n_once
        pooled = (k_loop + k_once) / (n_loop + n_once)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n_loop + 1 / n_once))
        p = float(sps.norm.sf((c_once - c_loop) / se)) if se > 0 else math.nan
        lost = (c_once - c_loop) * n_loop if (c_once > c_loop and p < alpha) else 0.0
        rows.append(_row(
            tp, "loops", "conversion of journeys revisiting it (baseline: passing once)",
            c_loop, c_once, p, lost,
            lost, f"{n_loop:,} journeys revisit it; they convert {c_loop:.0%} vs "
            f"{c_once:.0%} when passing once",
        ))  # fmt: skip
    return rows


def repeat_rows(jf: pd.DataFrame, assisted: set[str], within: pd.Timedelta) -> list[dict]:
    rows = []
    for tp in sorted(assisted & set(jf["touchpoint"])):
        ev = jf[jf["touchpoint"] == tp].sort_values(["customer_id", "timestamp"])
        gap = ev.groupby("customer_id")["timestamp"].diff()
        repeat = ev.loc[gap <= within, "customer_id"].nunique()
        reach = ev["customer_id"].nunique()
        rows.append(_row(
            tp, "repeat_contacts", f"customers contacting again within {within}",
            repeat / reach, 0.0, math.nan, repeat, 0.0,
            f"{repeat:,} of {reach:,} customers came back within {within.days or within} "
            f"{'days' if within.days else ''}".rstrip(),
        ))  # fmt: skip
    return rows


def duration_rows(jf: pd.DataFrame, targets: dict[str, float]) -> list[dict]:
    rows = []
    for tp, target in sorted(targets.items()):
        ev = jf[(jf["touchpoint"] == tp) & jf["duration_s"].notna()]
        if ev.empty:
            continue
        over = ev.loc[ev["duration_s"] > target, "customer_id"].nunique()
        reach = ev["customer_id"].nunique()
        median = float(ev["duration_s"].median())
        rows.append(_row(
            tp, "long_duration", f"customers with a visit over {target:g} s", over / reach, 0.0,
            math.nan, over, 0.0, f"{over:,} of {reach:,} customers waited or took longer than "
            f"{_minutes(target)} (median {_minutes(median)})",
        ))  # fmt: skip
    return rows


def score_rows(answers: pd.DataFrame, reach: pd.Series, alpha: float) -> list[dict]:
    """Low scores per metric, from answers with ``touchpoint``, ``metric``, ``low``."""
    rows = []
    for metric, part in answers.groupby("metric"):
        base = float(part["low"].mean())
        for tp, sub in part.groupby("touchpoint"):
            n, k = len(sub), int(sub["low"].sum())
            ex, p = excess(k, n, base, alpha)
            r = int(reach.get(tp, 0))
            rows.append(_row(
                tp, f"low_{metric}", f"dissatisfied {metric} answers", k / n, base, p, r * ex,
                0.0, f"{k / n:.0%} of {n:,} {metric} answers dissatisfied vs {base:.0%} overall",
            ))  # fmt: skip
    return rows


def comment_rows(comments: pd.DataFrame, reach: pd.Series, alpha: float) -> list[dict]:
    """Negative comments, from comments with ``touchpoint`` and ``negative``."""
    if comments.empty:
        return []
    base = float(comments["negative"].mean())
    rows = []
    for tp, sub in comments.groupby("touchpoint"):
        n, k = len(sub), int(sub["negative"].sum())
        ex, p = excess(k, n, base, alpha)
        topics = sub.loc[sub["negative"], "topic"].dropna() if "topic" in sub else ()
        about = f", mostly about '{topics.mode().iloc[0]}'" if len(topics) else ""
        rows.append(_row(
            tp, "negative_comments", "negative comments", k / n, base, p,
            int(reach.get(tp, 0)) * ex, 0.0,
            f"{k / n:.0%} of {n:,} comments negative vs {base:.0%} overall{about}",
        ))  # fmt: skip
    return rows


def _row(tp, signal, measure, rate, base, p, affected, lost, detail) -> dict:
    return dict(zip(EVIDENCE, [tp, signal, measure, rate, base, p, float(affected),
                               float(lost), detail], strict=True))  # fmt: skip


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def low_answer(metric: pd.Series, score: pd.Series, scales: dict[str, tuple[float, float]]):
    """True where an answer is dissatisfied (see :data:`LOW`; other ratings: bottom two)."""
    cut = metric.map(lambda m: LOW.get(m, scales.get(m, (1, 5))[0] + 1))
    return (score <= cut).to_numpy(dtype=bool) & np.isfinite(score.to_numpy(dtype=float))
