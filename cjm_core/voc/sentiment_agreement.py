"""Agreement of comment sentiment with the ratings given with the comments.

:func:`sentiment_agreement` checks the lexicon method of :mod:`cjm_core.voc.sentiment` where a
data set carries a rating next to each comment (review stars, CSAT): polar accuracy, Cohen's
kappa on three classes and Spearman's rho between score and rating, each with an interval.

Example::

    >>> from cjm_core.voc.sentiment import comment_sentiment
    >>> s = comment_sentiment(["Great service", "Awful, never again", "It was ok"])
    >>> a = sentiment_agreement(s, [5, 1, 3])
    >>> a.polar_accuracy, a.kappa, a.n_used
    (1.0, 1.0, 3)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import CjmError
from ..results import AnalysisResult
from ..stats.result import proportion_ci
from .sentiment import LABELS, label_scores

SPEARMAN_SE = 1.06  # Fisher-z standard error of Spearman's rho: sqrt(1.06 / (n - 3))

__all__ = ["SentimentAgreement", "cohen_kappa", "sentiment_agreement"]


class SentimentAgreement(AnalysisResult):
    """How far comment sentiment agrees with the ratings given with the comments.

    ``table``: one row per measure (``polar_accuracy``, ``polar_accuracy_decided``,
    ``kappa``, ``spearman``) with ``estimate, ci_low, ci_high, n, p_value``. Attributes:
    ``polar_accuracy``, ``kappa``, ``spearman``, ``confusion`` (rating class x label
    counts), ``by_rating`` (label shares per rating), ``n_used``, ``n_without_comment``,
    ``n_without_rating``.
    """

    title = "Comment sentiment vs ratings"

    def _value(self, measure: str) -> float:
        return float(self.table.set_index("measure").loc[measure, "estimate"])

    @property
    def polar_accuracy(self) -> float:
        return self._value("polar_accuracy")

    @property
    def kappa(self) -> float:
        return self._value("kappa")

    @property
    def spearman(self) -> float:
        return self._value("spearman")

    def summary(self, max_rows: int = 20) -> str:
        return (
            super().summary(max_rows)
            + "\nconfusion (rating class x label):\n"
            + (self.confusion.to_string())
        )

    def plot(self, ax=None, **kwargs: Any):
        """Stacked horizontal bars: the share of each label among comments of each rating."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=kwargs.pop("figsize", (6, 3)))
        colours = {"negative": "#c0392b", "neutral": "#bdc3c7", "positive": "#27ae60"}
        shares = self.by_rating
        left = np.zeros(len(shares))
        for label in LABELS:
            ax.barh(
                shares.index.astype(str),
                shares[label],
                left=left,
                color=colours[label],
                label=label,
            )
            left += shares[label].to_numpy()
        ax.set_xlabel("share of comments")
        ax.set_ylabel("rating")
        ax.set_xlim(0, 1)
        ax.legend(loc="lower right", fontsize="small")
        ax.set_title(f"Comment sentiment by rating (kappa {self.kappa:.2f})")
        return ax.figure


def sentiment_agreement(
    sentiment: Any,
    ratings: Any,
    scale: int = 5,
    *,
    low: int = 1,
    negative_max: int = 2,
    positive_min: int | None = None,
    alpha: float = 0.05,
) -> SentimentAgreement:
    """Compare comment sentiment with ratings on a ``low``..``scale`` scale.

    Ratings up to ``negative_max`` are negative, from ``positive_min`` (default
    ``scale - 1``) positive, the ones between neutral (on 1-5: 1-2, 3, 4-5).

    * polar accuracy: among comments with a negative or positive rating, the share whose
      label is the same (a ``neutral`` label counts as a miss; ``polar_accuracy_decided``
      leaves those out), with a Wilson interval;
    * Cohen's kappa of label vs rating class on three classes, with Cohen's (1960)
      large-sample standard error ``sqrt(po (1 - po) / (n (1 - pe)^2))``;
    * Spearman's rho of score vs rating, with the Fisher-z interval using the standard
      error ``sqrt(1.06 / (n - 3))`` (Fieller, Hartley and Pearson 1957).

    :param sentiment: the frame of :func:`comment_sentiment`, or scores (Series/array; the
        labels then follow ``NEUTRAL_BAND``).
    :param ratings: a Series on the same index, or an array of the same length; missing
        ratings are counted (``n_without_rating``) and left out.

    Example::

        >>> from cjm_core.voc.sentiment import comment_sentiment
        >>> s = comment_sentiment(["great", "awful", "ok", "terrible", "lovely"])
        >>> a = sentiment_agreement(s, [5, 1, 3, 2, 4])
        >>> a.polar_accuracy, a.kappa, round(a.spearman, 3)
        (1.0, 1.0, 0.949)
    """
    score, label, rating, index = _align(sentiment, ratings)
    rating = _check_ratings(rating, index, low, scale)
    positive_min = scale - 1 if positive_min is None else positive_min
    if not low <= negative_max < positive_min <= scale:
        raise CjmError(
            f"Rating bands must satisfy low <= negative_max < positive_min <= scale; got "
            f"low={low}, negative_max={negative_max}, positive_min={positive_min}, "
            f"scale={scale}."
        )
    has_comment, has_rating = ~np.isnan(score), ~np.isnan(rating)
    used = has_comment & has_rating
    n_used = int(used.sum())
    no_comment, no_rating = (
        int((~has_comment & has_rating).sum()),
        int((has_comment & ~has_rating).sum()),
    )
    if n_used < 2:
        raise CjmError(
            f"Only {n_used} row(s) have both a comment and a rating (of {len(score)}); at least "
            "2 are needed to compare sentiment with ratings."
        )
    r, s, lab = rating[used], score[used], label[used]
    truth = np.where(
        r <= negative_max, "negative", np.where(r >= positive_min, "positive", "neutral")
    )
    rows = [*_polar(truth, lab, alpha), _kappa(truth, lab, alpha), _spearman(s, r, alpha)]
    table = pd.DataFrame(rows, columns=["measure", "estimate", "ci_low", "ci_high", "n", "p_value"])
    notes = [
        f"{n_used} comment(s) with a rating used; {no_comment} rating(s) without a comment and "
        f"{no_rating} comment(s) without a rating left out.",
        f"Rating classes: negative <= {negative_max}, positive >= {positive_min}, neutral "
        f"between; a neutral label counts as a miss in polar_accuracy.",
    ]
    result = SentimentAgreement(
        table, notes, n_used=n_used, n_without_comment=no_comment, scale=f"{low}-{scale}"
    )
    result.n_used, result.n_without_comment, result.n_without_rating = n_used, no_comment, no_rating
    result.confusion = pd.crosstab(
        pd.Categorical(truth, LABELS),
        pd.Categorical(lab, LABELS),
        dropna=False,
        rownames=["rating class"],
        colnames=["label"],
    )
    by = pd.crosstab(r.astype(int), pd.Categorical(lab, LABELS), dropna=False, normalize="index")
    by.index.name, by.columns.name = "rating", "label"
    result.by_rating = by
    return result


def _align(sentiment, ratings):
    if isinstance(sentiment, pd.DataFrame):
        if "sentiment" not in sentiment.columns:
            raise CjmError(
                "sentiment must be the frame of comment_sentiment (a 'sentiment' column) or "
                f"scores; columns found: {', '.join(map(str, sentiment.columns))}."
            )
        scores = pd.to_numeric(sentiment["sentiment"], errors="coerce")
        labels = sentiment["label"] if "label" in sentiment.columns else None
    else:
        scores = pd.Series(sentiment) if not isinstance(sentiment, pd.Series) else sentiment
        scores, labels = pd.to_numeric(scores, errors="coerce"), None
    if isinstance(ratings, pd.Series):
        if not ratings.index.equals(scores.index):
            missing = scores.index.difference(ratings.index)
            if len(missing):
                raise CjmError(
                    f"ratings lack {len(missing)} row(s) of the sentiment index (first: "
                    f"{list(missing[:5])}). Fix: pass ratings on the same index (e.g. the "
                    "score column of the same feedback table)."
                )
            ratings = ratings.reindex(scores.index)
        values = ratings.to_numpy()
    else:
        values = np.asarray(list(ratings) if not isinstance(ratings, np.ndarray) else ratings)
        if len(values) != len(scores):
            raise CjmError(
                f"{len(values)} rating(s) for {len(scores)} comment score(s); they must pair "
                "up row by row (or pass a Series on the same index)."
            )
    score = scores.to_numpy(dtype=float)
    label = label_scores(score) if labels is None else labels.to_numpy(dtype=object)
    return score, label, values, scores.index


def _check_ratings(values, index, low, scale) -> np.ndarray:
    rating = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    given = pd.notna(pd.Series(values)).to_numpy()
    bad = (given & np.isnan(rating)) | (
        ~np.isnan(rating) & ((rating < low) | (rating > scale) | (rating % 1 != 0))
    )
    if bad.any():
        where = [index[i] for i in np.flatnonzero(bad)[:5]]
        shown = [values[i] for i in np.flatnonzero(bad)[:5]]
        raise CjmError(
            f"{int(bad.sum())} rating(s) are not whole numbers on the {low}-{scale} scale "
            f"(rows {where}, values {shown}). Fix: pass scale= (and low=) of the survey, or "
            "clean those ratings."
        )
    return rating


def _polar(truth, label, alpha):
    polar = truth != "neutral"
    n = int(polar.sum())
    hit = int((label[polar] == truth[polar]).sum())
    decided = polar & (label != "neutral")
    nd = int(decided.sum())
    hd = int((label[decided] == truth[decided]).sum())
    rows = []
    for name, k, m in (("polar_accuracy", hit, n), ("polar_accuracy_decided", hd, nd)):
        low, high = proportion_ci(k, m, alpha) if m else (math.nan, math.nan)
        rows.append((name, k / m if m else math.nan, low, high, m, math.nan))
    return rows


def cohen_kappa(truth: np.ndarray, label: np.ndarray) -> tuple[float, float, float]:
    """Cohen's kappa of two labelings, with observed (po) and chance (pe) agreement.

    >>> k, po, pe = cohen_kappa(np.array(["a", "a", "b", "b"]), np.array(["a", "b", "b", "b"]))
    >>> round(k, 3), po, pe
    (0.5, 0.75, 0.5)
    """
    cats = sorted(set(truth) | set(label))
    table = pd.crosstab(
        pd.Categorical(truth, cats), pd.Categorical(label, cats), dropna=False
    ).to_numpy(dtype=float)
    n = table.sum()
    po = np.trace(table) / n
    pe = float((table.sum(axis=1) * table.sum(axis=0)).sum() / n**2)
    kappa = (po - pe) / (1 - pe) if pe < 1 else math.nan
    return float(kappa), float(po), pe


def _kappa(truth, label, alpha):
    n = len(truth)
    kappa, po, pe = cohen_kappa(truth, label)
    if math.isnan(kappa):
        return ("kappa", kappa, math.nan, math.nan, n, math.nan)
    se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
    z = sps.norm.ppf(1 - alpha / 2)
    return ("kappa", kappa, kappa - z * se, kappa + z * se, n, math.nan)


def _spearman(score, rating, alpha):
    n = len(score)
    if np.ptp(score) == 0 or np.ptp(rating) == 0:
        return ("spearman", math.nan, math.nan, math.nan, n, math.nan)
    rho, p = sps.spearmanr(score, rating)
    low = high = math.nan
    if n > 3 and abs(rho) < 1:
        half = sps.norm.ppf(1 - alpha / 2) * math.sqrt(SPEARMAN_SE / (n - 3))
        low, high = math.tanh(math.atanh(rho) - half), math.tanh(math.atanh(rho) + half)
    elif abs(rho) == 1:
        low = high = float(rho)
    return ("spearman", float(rho), low, high, n, float(p))
