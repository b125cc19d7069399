"""Which survey metric a feedback row answers, on which scale, and how it is scored.

NPS (0-10), CSAT (1-5) and CES (1-7) are standard; a template may declare more (a product
rating 1-5, say) in its catalog's ``metrics``. :func:`metric_scale` finds the scale;
:func:`score_answers` scores a group of answers with the right method from
:mod:`cjm_core.stats.scores` and returns one flat row; :func:`check_scores` rejects rows whose
score is missing or off the scale, naming them.

Example::

    >>> metric_scale("csat").max, metric_scale("nps").min
    (5, 0)
    >>> row = score_answers([5, 4, 4, 3, 2], metric_scale("csat"))
    >>> row["estimate"], row["mean"]
    (0.6, 3.6)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError
from ..model import STANDARD_METRICS, JourneyCatalog, Metric
from ..stats.result import mean_ci
from ..stats.scores import ces, csat, nps

#: the headline of each metric: what ``estimate`` is in the tables of this package
HEADLINE = {
    "nps": "NPS in points (-100..100): % promoters (9-10) minus % detractors (0-6)",
    "csat": "share answering in the top two boxes (4-5 of 5)",
    "ces": "mean answer (1-7, higher = easier)",
    "rating": "mean answer",
}

ROW = [
    "n", "estimate", "ci_low", "ci_high", "std_error", "mean", "mean_low", "mean_high",
    "share_top", "share_bottom",
]  # fmt: skip


def metric_scale(metric: str, catalog: JourneyCatalog | None = None) -> Metric:
    """The declared :class:`~cjm_core.model.Metric` of ``metric`` (standard or the catalog's)."""
    if catalog is not None:
        try:
            return catalog.metric(metric)
        except Exception:  # noqa: BLE001 - reported below with the known metrics
            pass
    for m in STANDARD_METRICS:
        if m.id == metric:
            return m
    known = sorted(
        {m.id for m in STANDARD_METRICS} | {m.id for m in (catalog.metrics if catalog else ())}
    )
    raise CjmError(
        f"Unknown survey metric {metric!r}; known metrics: {known}. Declare other rating "
        "metrics (id, name, min, max) under `metrics:` in the template's catalog and pass "
        "catalog=."
    )


def check_scores(feedback: pd.DataFrame, scale: Metric) -> pd.DataFrame:
    """The feedback rows of ``scale``'s metric; rows with a missing, non-numeric or
    off-scale score raise an error naming them (nothing is dropped silently)."""
    for column in ("metric", "score"):
        if column not in feedback.columns:
            raise CjmError(
                f"feedback lacks the column {column!r}; present: {list(feedback.columns)}. "
                "Load feedback through a connector or cjm_core.load_bundle."
            )
    rows = feedback[feedback["metric"] == scale.id]
    if rows.empty:
        present = sorted(feedback["metric"].dropna().astype(str).unique())
        raise CjmError(f"feedback has no {scale.id!r} answers; metrics present: {present}.")
    score = pd.to_numeric(rows["score"], errors="coerce")
    bad = score.isna() | (score < scale.min) | (score > scale.max)
    if scale.integer:
        bad |= score.notna() & (score != np.round(score))
    if bad.any():
        examples = ", ".join(f"{i!r}: {rows['score'][i]!r}" for i in rows.index[bad][:5])
        raise CjmError(
            f"feedback.score: {int(bad.sum())} of {len(rows)} {scale.id!r} answers are missing "
            f"or not on the {scale.min:g}-{scale.max:g} scale (row: score) {examples}. Fix: "
            "drop unanswered surveys explicitly (and report how many) or map the answers "
            "onto the declared scale."
        )
    return rows.assign(score=score.astype(float))


def score_answers(values: Any, scale: Metric, alpha: float = 0.05) -> dict[str, float]:
    """One flat row (:data:`ROW`) scoring ``values``: the headline ``estimate`` with CI, the
    mean with CI, and the top / bottom shares (promoters / detractors for NPS; top-2 / bottom-2
    boxes for CSAT; easy / hard for CES and other ratings). Fewer than two answers give NaN
    estimates (``n`` still counts them)."""
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    row = dict.fromkeys(ROW, math.nan)
    row["n"] = n
    if n == 0:
        return row
    if n < 2:  # one answer: its value, no interval
        row.update(mean=float(x[0]))
        return row
    if scale.id == "nps":
        r = nps(x.astype(int), alpha)
        top, bottom = r.shares["promoters"], r.shares["detractors"]
    elif scale.id == "csat":
        r = csat(x.astype(int), scale=int(scale.max), alpha=alpha)
        top, bottom = r.estimate, float(np.mean(x <= 2))
    elif scale.id == "ces":
        r = ces(x.astype(int), scale=int(scale.max), alpha=alpha)
        top, bottom = r.shares["easy"], float(np.mean(x <= math.floor((scale.max + 1) / 2) - 1))
    else:
        return _rating_row(x, scale, alpha)
    row.update(
        estimate=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high, std_error=r.std_error,
        mean=r.mean, mean_low=r.mean_ci[0], mean_high=r.mean_ci[1],
        share_top=top, share_bottom=bottom,
    )  # fmt: skip
    return row


def _rating_row(x: np.ndarray, scale: Metric, alpha: float) -> dict[str, float]:
    """Another declared rating: the mean (t interval) is the headline."""
    n = x.size
    low, high = mean_ci(x, alpha)
    top = int((x >= scale.max - 1).sum())
    se = float(x.std(ddof=1) / math.sqrt(n))
    return {
        "n": n, "estimate": float(x.mean()), "ci_low": low, "ci_high": high, "std_error": se,
        "mean": float(x.mean()), "mean_low": low, "mean_high": high,
        "share_top": top / n, "share_bottom": float(np.mean(x <= scale.min + 1)),
    }  # fmt: skip


def headline_of(metric: str) -> str:
    """What ``estimate`` means for ``metric``."""
    return HEADLINE.get(metric, HEADLINE["rating"])
