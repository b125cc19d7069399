"""Sentiment of free-text comments (English, Portuguese, Spanish), offline.

:func:`comment_sentiment` scores each comment with the lexicon of its language (see
:mod:`cjm_core.voc.lexicon` for the rules: negation, intensifiers, "but", the score
``s / sqrt(s**2 + 4)``); a comment is ``negative`` below ``-NEUTRAL_BAND``, ``positive``
above ``+NEUTRAL_BAND``, else ``neutral``. The language is the one given (argument or
``language`` column), else detected by a stop-word vote; comments in another language or
undecided (``unknown``) are scored with the three lexicons merged. Missing or blank comments
get a NaN score and no label: they are kept and counted, never dropped.

:func:`cjm_core.voc.sentiment_agreement.sentiment_agreement` checks the scores against
ratings given with the comments (e.g. 1-5 review stars).

Example::

    >>> s = comment_sentiment(["Não recebi o produto", "The agent was very helpful", None])
    >>> s["label"].tolist(), s["language"].tolist()
    (['negative', 'positive', None], ['pt', 'en', None])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError
from .lexicon import load_lexicon, merged_lexicon
from .text import LANGUAGES, fold_all, normalise_language, vote_languages

NEUTRAL_BAND = 0.15  # |score| below this is neutral (one word of weight <= 0.3 stays neutral)
LABELS = ("negative", "neutral", "positive")

__all__ = ["LABELS", "NEUTRAL_BAND", "comment_sentiment", "label_scores"]


def comment_sentiment(
    comments: Any,
    language: str | None = None,
    *,
    comment_column: str = "comment",
    language_column: str = "language",
) -> pd.DataFrame:
    """Score each comment: ``sentiment`` in [-1, 1], ``label``, ``language`` and ``hits``.

    :param comments: a list or Series of texts, or a feedback DataFrame (its
        ``comment_column`` is scored, its ``language_column`` used when present; the index is
        kept).
    :param language: one language for every comment (``"en"``, ``"pt"``, ``"es"``, or any
        code, e.g. ``"pt-BR"``); ``None`` takes the column, else detects it.
    :returns: a DataFrame on the input's index with columns ``sentiment`` (float, NaN for a
        missing or blank comment), ``label`` (``"negative"``/``"neutral"``/``"positive"``,
        ``None`` when missing), ``language`` (given, else detected; ``"unknown"`` when the
        vote ties) and ``hits`` (lexicon words that scored). ``attrs["notes"]`` counts the
        missing comments and those scored with the merged lexicon.

    Example::

        >>> s = comment_sentiment(["muy bueno", "no funciona", "ok"], language="es")
        >>> s["label"].tolist(), s["hits"].tolist()
        (['positive', 'negative', 'neutral'], [1, 1, 1])
    """
    texts, given, index = _read_comments(comments, language, comment_column, language_column)
    n = len(texts)
    present = np.array([t is not None for t in texts], dtype=bool)
    folded = fold_all([t for t in texts if t is not None])
    langs = np.array(given, dtype=object)
    todo = present & pd.isna(pd.Series(langs, dtype=object)).to_numpy()
    if todo.any():
        where = np.flatnonzero(todo)
        position = np.cumsum(present) - 1
        langs[where] = vote_languages([folded[position[i]] for i in where])
    scores = np.full(n, np.nan)
    hits = np.zeros(n, dtype=np.int64)
    kept = np.flatnonzero(present)
    merged_rows = 0
    for lang in pd.unique(langs[kept]):
        rows = kept[langs[kept] == lang]
        lexicon = load_lexicon(lang) if lang in LANGUAGES else merged_lexicon()
        merged_rows += 0 if lang in LANGUAGES else len(rows)
        local = np.searchsorted(kept, rows)
        scores[rows], hits[rows] = lexicon.score([folded[i] for i in local])
    labels = label_scores(scores)
    langs[~present] = [normalise_language(g) for g in np.asarray(given, dtype=object)[~present]]
    out = pd.DataFrame(
        {
            "sentiment": scores,
            "label": pd.Series(labels, index=index, dtype=object),  # None stays None
            "language": pd.Series(langs, index=index, dtype=object),
            "hits": hits,
        },
        index=index,
    )
    out.attrs["notes"] = _notes(n, int((~present).sum()), merged_rows, langs[kept])
    return out


def label_scores(scores: Any) -> np.ndarray:
    """``negative`` / ``neutral`` / ``positive`` for scores beyond / within ``NEUTRAL_BAND``
    (``None`` for NaN).

    >>> label_scores([-0.5, 0.1, 0.15, float("nan")]).tolist()
    ['negative', 'neutral', 'positive', None]
    """
    x = np.asarray(scores, dtype=float)
    out = np.where(
        x <= -NEUTRAL_BAND, "negative", np.where(x >= NEUTRAL_BAND, "positive", "neutral")
    ).astype(object)
    out[np.isnan(x)] = None
    return out


def _read_comments(comments, language, comment_column, language_column):
    """Texts (None when missing or blank), given languages (None = detect) and the index."""
    langs: Any = None
    if isinstance(comments, pd.DataFrame):
        if comment_column not in comments.columns:
            raise CjmError(
                f"The feedback table has no column {comment_column!r} (columns: "
                f"{', '.join(map(str, comments.columns))}). Fix: pass comment_column=<the "
                "column holding the comment text>."
            )
        values, index = comments[comment_column], comments.index
        if language is None and language_column in comments.columns:
            langs = comments[language_column].to_numpy(dtype=object)
    elif isinstance(comments, pd.Series):
        values, index = comments, comments.index
    elif isinstance(comments, str):
        values, index = pd.Series([comments]), pd.RangeIndex(1)
    elif isinstance(comments, Iterable):
        values = pd.Series(list(comments), dtype=object)
        index = values.index
    else:
        raise CjmError(
            f"comments must be a list or Series of texts or a feedback DataFrame; got "
            f"{type(comments).__name__}."
        )
    texts = [
        None
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or not str(v).strip()
        else str(v)
        for v in values.tolist()
    ]
    if language is not None:
        code = normalise_language(language)
        given = [code] * len(texts)
    elif langs is not None:
        given = [normalise_language(v) for v in langs]
    else:
        given = [None] * len(texts)
    return texts, given, index


def _notes(n: int, missing: int, merged: int, langs: np.ndarray) -> list[str]:
    counts = pd.Series(langs, dtype=object).value_counts()
    shown = ", ".join(f"{k}: {v}" for k, v in counts.items())
    notes = [
        f"{n} comment(s): {n - missing} scored ({shown or 'none'}), {missing} missing or "
        "blank (NaN score, no label)."
    ]
    if merged:
        notes.append(
            f"{merged} comment(s) in a language without its own lexicon or undecided "
            "('unknown') were scored with the en/pt/es lexicons merged."
        )
    return notes
