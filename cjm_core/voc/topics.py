"""Topics of (negative) comments: TF-IDF and non-negative matrix factorisation (NMF).

:func:`comment_topics` takes a feedback table, keeps the comments to analyse (by default the
``negative`` ones of :func:`cjm_core.voc.sentiment.comment_sentiment`, or the caller's own
``negative=`` mask such as ``score <= 2``), turns them into a TF-IDF matrix (accents folded,
the shipped en/pt/es stop words removed but negators kept, so "não recebi" stays a term;
words and word pairs; sub-linear term frequency)
and factorises it with scikit-learn's NMF (``init="nndsvda"``, seeded). Each comment belongs
to its dominant topic (largest weight); comments with no weight on any topic (none of their
words is in the vocabulary) are counted as unassigned and left out of the shares.

Number of topics: given, or chosen in ``k_range`` (default 2..8, at most one topic per
``COMMENTS_PER_TOPIC`` comments) at the **knee of the reconstruction error**: NMF is fitted
for k = 1 .. the largest candidate, both axes of the error curve are scaled to 0..1, and the
chosen k is the candidate lying furthest below the straight line from the first point to the
last (the "Kneedle" rule of Satopää et al. 2011): where adding topics stops paying off.
``k_scores`` keeps, for every k, the error, that distance and, for information, the mean
UMass coherence of the topics' top ``COHERENCE_TERMS`` terms (Mimno et al. 2011; closer to 0
is more coherent). On three planted vocabularies UMass sometimes preferred two topics, the
knee found three every time; so the knee decides.

Too few comments (fewer than ``MIN_COMMENTS``, or fewer than ``COMMENTS_PER_TOPIC`` per
topic asked for) raise :class:`~cjm_core.errors.CjmError`: no topic is invented.

Example::

    >>> import pandas as pd
    >>> fb = pd.DataFrame({
    ...     "comment": ["long wait on hold", "on hold for ages, long wait"] * 6
    ...                + ["the app crashed at login", "app crash after login"] * 6,
    ...     "touchpoint": ["call_centre"] * 12 + ["mobile_app"] * 12})
    >>> t = comment_topics(fb, n_topics=2, negative_only=False)
    >>> t.table[["comments", "share", "touchpoints"]].values.tolist()
    [[12, 0.5, 'call_centre (100%)'], [12, 0.5, 'mobile_app (100%)']]
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError
from ..results import AnalysisResult
from .lexicon import load_lexicon
from .text import LANGUAGES, fold, stop_words

MIN_COMMENTS = 10  # fewer comments than this: no topics
COMMENTS_PER_TOPIC = 5  # at most one topic per this many comments
K_RANGE = (2, 8)  # candidates when n_topics is None
COHERENCE_TERMS = 10  # top terms per topic in the UMass coherence
TOP_TERMS = 10  # terms listed per topic
LABEL_TERMS = 3  # terms in a topic's label
TOKEN_PATTERN = r"(?u)\b[a-z][a-z0-9]+\b"  # on folded text: words of 2+ characters
NO_TOUCHPOINT = "(none)"

__all__ = ["CommentTopics", "comment_topics"]


class CommentTopics(AnalysisResult):
    """Topics of comments: one row per topic, largest first.

    ``table`` columns: ``topic`` (1, 2, ...), ``label`` (top terms), ``terms`` (list),
    ``comments``, ``share`` (of the assigned comments; sums to 1), ``touchpoints`` (text,
    e.g. ``"call_centre (61%), branch (20%)"``), ``examples`` (list of the most
    representative comments: highest weight on the topic). Also ``assignments`` (per analysed
    comment, on the feedback's index: ``topic`` (0 = unassigned) and ``weight``),
    ``k_scores`` (per number of topics: reconstruction error, distance below the chord,
    UMass coherence) and :meth:`by_touchpoint`.
    """

    title = "Comment topics"

    def by_touchpoint(self) -> pd.DataFrame:
        """Tidy counts: one row per topic and touchpoint (``topic, label, touchpoint,
        comments, share_of_topic``), topics in order, touchpoints by count."""
        frame = self.assignments[self.assignments["topic"] > 0]
        counts = (
            frame.groupby(["topic", "touchpoint"], sort=False)
            .size()
            .rename("comments")
            .reset_index()
        )
        counts["share_of_topic"] = counts["comments"] / counts.groupby("topic")[
            "comments"
        ].transform("sum")
        labels = self.table.set_index("topic")["label"]
        counts.insert(1, "label", counts["topic"].map(labels))
        return counts.sort_values(
            ["topic", "comments", "touchpoint"], ascending=[True, False, True]
        ).reset_index(drop=True)

    def plot(self, ax=None, **kwargs: Any):
        """Horizontal bars: each topic's share of the comments, labelled by its top terms."""
        import matplotlib.pyplot as plt

        if ax is None:
            height = 0.5 * len(self.table) + 1
            _, ax = plt.subplots(figsize=kwargs.pop("figsize", (7, height)))
        rows = self.table.iloc[::-1]
        names = [f"{t}: {lab}" for t, lab in zip(rows["topic"], rows["label"], strict=True)]
        ax.barh(names, rows["share"], color=kwargs.pop("color", "#c0392b"))
        for y, share in enumerate(rows["share"]):
            ax.text(share, y, f" {share:.0%}", va="center", fontsize="small")
        ax.set_xlabel("share of comments")
        ax.set_xlim(0, min(1.0, rows["share"].max() * 1.2 + 0.05))
        ax.set_title(self.title)
        return ax.figure


def comment_topics(
    feedback: pd.DataFrame | pd.Series,
    n_topics: int | None = None,
    negative_only: bool = True,
    seed: int = 0,
    examples: int = 3,
    max_features: int = 2000,
    *,
    negative: Any = None,
    k_range: tuple[int, int] = K_RANGE,
    min_df: int = 2,
    comment_column: str = "comment",
    touchpoint_column: str = "touchpoint",
) -> CommentTopics:
    """Find the topics of the (negative) comments of ``feedback``.

    :param feedback: a feedback table with a ``comment_column`` (``touchpoint_column``
        optional), or a Series of comments.
    :param n_topics: the number of topics; ``None`` chooses it in ``k_range`` at the knee of
        the reconstruction error (see the module notes).
    :param negative_only: analyse only negative comments: those labelled ``negative`` by
        :func:`~cjm_core.voc.sentiment.comment_sentiment`, or the rows where ``negative``
        is True. ``False`` analyses every comment (``negative`` must then be None).
    :param negative: the caller's own choice of negative comments: booleans on the
        feedback's index (a Series) or in its row order (e.g. ``fb["score"] <= 2``).
    :param seed: the NMF ``random_state``; the same seed gives the same topics.
    :param examples: the number of example comments per topic (distinct texts).
    :param max_features: the largest vocabulary (most frequent terms) kept by TF-IDF.
    :param min_df: a term must occur in at least this many comments.
    :returns: a :class:`CommentTopics`; ``info`` records the number of topics and how it
        was chosen, ``notes`` count the comments left out and why.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    frame = _frame(feedback, comment_column)
    texts = frame[comment_column]
    present = texts.notna() & texts.astype(str).str.strip().ne("")
    chosen, how = _selection(frame, present, negative_only, negative, comment_column)
    docs = texts[chosen].astype(str)
    n = len(docs)
    notes = [
        f"{len(frame)} feedback row(s): {int((~present).sum())} without a comment, "
        f"{int(present.sum()) - n} comment(s) not analysed ({how}), {n} analysed."
    ]
    if n < MIN_COMMENTS:
        raise CjmError(
            f"Only {n} comment(s) to analyse ({how}); topics need at least {MIN_COMMENTS}. "
            "Fix: pass more feedback, negative_only=False, or a wider negative= mask."
        )
    vectorizer = TfidfVectorizer(
        preprocessor=fold,
        token_pattern=TOKEN_PATTERN,
        stop_words=list(topic_stop_words()),
        ngram_range=(1, 2),
        min_df=min_df,
        max_features=max_features,
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(docs.tolist())
    except ValueError as exc:  # empty vocabulary
        raise CjmError(
            f"The {n} comment(s) leave no term after stop words and min_df={min_df} ({exc}). "
            "Fix: lower min_df or analyse more comments."
        ) from None
    terms = vectorizer.get_feature_names_out()
    most = min(n // COMMENTS_PER_TOPIC, len(terms))
    if n_topics is not None:
        if not isinstance(n_topics, int | np.integer) or n_topics < 1 or n_topics > most:
            raise CjmError(
                f"n_topics={n_topics!r} is not possible with {n} comment(s) and {len(terms)} "
                f"term(s): it must be a whole number from 1 to {most} (one topic per "
                f"{COMMENTS_PER_TOPIC} comments at most). Fix: ask for fewer topics or pass "
                "n_topics=None."
            )
        k, scores, rule = int(n_topics), pd.DataFrame(), "given"
    else:
        low, high = k_range
        candidates = list(range(low, min(high, most) + 1))
        if not candidates:
            raise CjmError(
                f"No number of topics in k_range={k_range} fits {n} comment(s) and "
                f"{len(terms)} term(s) (at most {most}). Fix: pass n_topics= or more comments."
            )
        scores = _k_scores(NMF, matrix, candidates[-1], seed)
        eligible = scores[scores["k"] >= candidates[0]]
        k = int(eligible.loc[eligible["below_chord"].idxmax(), "k"])
        rule = f"knee of the reconstruction error over k={candidates[0]}..{candidates[-1]}"
        notes.append(f"{k} topic(s): {rule} (see k_scores).")
    weights, components = _fit(NMF, matrix, k, seed)
    table, assignments = _describe(
        frame, docs, weights, components, terms, examples, touchpoint_column
    )
    nmf_index = table.pop("nmf_index").to_numpy()
    unassigned = int((assignments["topic"] == 0).sum())
    if unassigned:
        notes.append(
            f"{unassigned} comment(s) have no weight on any topic (no term in the vocabulary) "
            "and are left out of the shares."
        )
    result = CommentTopics(
        table,
        notes,
        n_topics=k,
        comments=n,
        chosen_by=rule,
        seed=seed,
        selection=how,
    )
    result.assignments = assignments
    result.k_scores = scores
    result.components = pd.DataFrame(  # each topic's term weights, in the table's order
        components[nmf_index], columns=terms, index=pd.Index(table["topic"], name="topic")
    )
    return result


@cache
def topic_stop_words() -> tuple[str, ...]:
    """The en/pt/es stop words less the negators ("not", "não", "nunca"), so that "nao
    recebi" stays a term; a word that is a negator in one language but a plain stop word in
    another (Portuguese "no" = "in the") stays a stop word.

    >>> words = topic_stop_words()
    >>> "nao" in words, "never" in words, "no" in words, "the" in words
    (False, False, True, True)
    """
    lexicons = {lang: load_lexicon(lang) for lang in LANGUAGES}
    keep = {
        word
        for lexicon in lexicons.values()
        for word in lexicon.negators
        if all(
            word not in stop_words(lang) or word in lexicons[lang].negators for lang in LANGUAGES
        )
    }
    return tuple(sorted(stop_words() - keep))


def _frame(feedback, comment_column: str) -> pd.DataFrame:
    if isinstance(feedback, pd.Series):
        return feedback.rename(comment_column).to_frame()
    if not isinstance(feedback, pd.DataFrame):
        raise CjmError(
            f"feedback must be a DataFrame (or a Series of comments); got "
            f"{type(feedback).__name__}."
        )
    if comment_column not in feedback.columns:
        raise CjmError(
            f"The feedback table has no column {comment_column!r} (columns: "
            f"{', '.join(map(str, feedback.columns))}). Fix: pass comment_column=."
        )
    return feedback


def _selection(frame, present, negative_only, negative, comment_column):
    """The rows to analyse and a few words on how they were chosen."""
    if negative is not None:
        if not negative_only:
            raise CjmError(
                "negative= selects negative comments, but negative_only=False asks for all "
                "of them. Fix: pass one or the other."
            )
        mask = _mask(negative, frame.index)
        return present & mask.astype(bool), "negative= mask"
    if not negative_only:
        return present, "all comments"
    from .sentiment import comment_sentiment

    labels = comment_sentiment(frame, comment_column=comment_column)["label"]
    return present & labels.eq("negative").to_numpy(), "label 'negative' from comment_sentiment"


def _mask(negative, index: pd.Index) -> pd.Series:
    """``negative=`` as booleans on the feedback's index (checked)."""
    if isinstance(negative, pd.Series):
        missing = index.difference(negative.index)
        if len(missing):
            raise CjmError(
                f"negative= lacks {len(missing)} row(s) of the feedback index (first: "
                f"{list(missing[:5])}). Fix: build it from the same table."
            )
        mask = negative.reindex(index)
    else:
        values = np.asarray(negative)
        if values.ndim != 1 or len(values) != len(index):
            raise CjmError(
                f"negative= has {values.size} value(s) for {len(index)} feedback row(s); pass "
                "one boolean per row (or a Series on the feedback's index)."
            )
        mask = pd.Series(values, index=index)
    bad = ~mask.isin([True, False])
    if bad.any():
        raise CjmError(
            f"negative= must hold True/False only; {int(bad.sum())} row(s) hold other values "
            f"(first: {mask.index[bad][:5].tolist()}). Fix: fill or drop them first."
        )
    return mask.astype(bool)


def _fit(nmf, matrix, k: int, seed: int, error: bool = False):
    model = nmf(n_components=k, init="nndsvda", random_state=seed, max_iter=1000)
    weights = model.fit_transform(matrix)
    if error:
        return weights, model.components_, float(model.reconstruction_err_)
    return weights, model.components_


def _k_scores(nmf, matrix, high: int, seed: int) -> pd.DataFrame:
    """For k = 1..high: reconstruction error, its distance below the chord of the scaled
    curve (the knee is the largest), and the mean UMass coherence."""
    ks = np.arange(1, high + 1)
    fits = [_fit(nmf, matrix, int(k), seed, error=True) for k in ks]
    error = np.array([f[2] for f in fits])
    x = (ks - 1) / (high - 1) if high > 1 else np.zeros(1)
    span = error.max() - error.min()
    y = (error - error.min()) / span if span > 0 else np.zeros_like(error)
    return pd.DataFrame(
        {
            "k": ks,
            "reconstruction_error": error,
            "below_chord": (1 - x) - y,
            "umass": [_umass(matrix, f[1]) for f in fits],
        }
    )


def _umass(matrix, components: np.ndarray, top: int = COHERENCE_TERMS) -> float:
    """Mean UMass coherence of the topics' top terms on the binary document-term matrix."""
    present = (matrix > 0).astype(np.float64).tocsc()
    docs = np.asarray(present.sum(axis=0)).ravel()
    per_topic = []
    for row in components:
        idx = np.argsort(-row, kind="stable")[:top]
        idx = idx[row[idx] > 0]  # a topic with fewer terms is judged on those it has
        sub = present[:, idx]
        co = (sub.T @ sub).toarray()
        i, j = np.tril_indices(len(idx), k=-1)  # j ranks above i
        per_topic.append(np.mean(np.log((co[i, j] + 1) / docs[idx][j])) if len(i) else 0.0)
    return float(np.mean(per_topic))


def _describe(frame, docs, weights, components, terms, examples, touchpoint_column):
    """The topic table (largest first, numbered from 1) and each comment's topic."""
    k = components.shape[0]
    dominant = np.where(weights.max(axis=1) > 0, weights.argmax(axis=1), -1)
    sizes = np.bincount(dominant[dominant >= 0], minlength=k)
    order = np.lexsort((np.arange(k), -sizes))  # by size, then by NMF order
    number = np.empty(k, dtype=int)
    number[order] = np.arange(1, k + 1)
    if touchpoint_column in frame.columns:
        tp = frame.loc[docs.index, touchpoint_column].astype(object)
        tp = tp.where(tp.notna(), NO_TOUCHPOINT).astype(str)
    else:
        tp = pd.Series(NO_TOUCHPOINT, index=docs.index)
    topic = np.where(dominant >= 0, number[np.maximum(dominant, 0)], 0)
    weight = np.where(dominant >= 0, weights[np.arange(len(docs)), np.maximum(dominant, 0)], 0.0)
    assignments = pd.DataFrame(
        {"topic": topic, "weight": weight, "touchpoint": tp.to_numpy(), "comment": docs.to_numpy()},
        index=docs.index,
    )
    assigned = int(sizes.sum())
    rows = []
    for t in order:
        top = [str(terms[i]) for i in np.argsort(-components[t], kind="stable")[:TOP_TERMS]]
        mine = dominant == t
        counts = tp[mine].value_counts()
        counts = counts.iloc[np.lexsort((counts.index.to_numpy(), -counts.to_numpy()))]
        shown = ", ".join(f"{name} ({c / mine.sum():.0%})" for name, c in counts.head(3).items())
        ranked = docs[mine].iloc[np.argsort(-weights[mine, t], kind="stable")]
        rows.append(
            {
                "topic": int(number[t]),
                "label": ", ".join(top[:LABEL_TERMS]),
                "terms": top,
                "comments": int(sizes[t]),
                "share": sizes[t] / assigned if assigned else math.nan,
                "touchpoints": shown,
                "examples": list(dict.fromkeys(ranked.tolist()))[:examples],
                "nmf_index": int(t),
            }
        )
    return pd.DataFrame(rows), assignments
