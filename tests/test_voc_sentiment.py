"""Comment sentiment (cjm_core.voc.sentiment, .lexicon, .text) and its agreement with ratings
(cjm_core.voc.sentiment_agreement).

Scores are checked against the rule written in cjm_core.voc.lexicon (sum of weights,
``s / sqrt(s^2 + 4)``); agreement figures against hand-computed small cases and scikit-learn
/ scipy. The synthetic banking data (seed 7) and, when present, the real Olist reviews
measure agreement with the rating given with each comment.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as sps

from cjm_core.errors import CjmError
from cjm_core.voc.lexicon import ALPHA, NEGATION, load_lexicon, merged_lexicon
from cjm_core.voc.sentiment import NEUTRAL_BAND, comment_sentiment, label_scores
from cjm_core.voc.sentiment_agreement import cohen_kappa, sentiment_agreement
from cjm_core.voc.text import WordLoader, detect_languages, fold, stop_words

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("CJM_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))


def score_of(total: float) -> float:
    return total / math.sqrt(total**2 + ALPHA)


def one(text: str, language: str | None = None) -> pd.Series:
    return comment_sentiment([text], language=language).iloc[0]


# --- labels of hand-made sentences ----------------------------------------------------------

CASES = [
    ("en", "Excellent service, the agent was really helpful", "positive"),
    ("en", "I was on hold for ages and nobody could help me", "negative"),
    ("en", "The parcel did not arrive and I want a refund", "negative"),
    ("en", "Not happy at all, would not recommend", "negative"),
    ("en", "It was ok.", "neutral"),
    ("en", "Quick and easy, thank you!", "positive"),
    ("pt", "Produto excelente, chegou antes do prazo. Recomendo!", "positive"),
    ("pt", "Péssimo atendimento, não recomendo", "negative"),
    ("pt", "Até agora não recebi o produto", "negative"),
    ("pt", "Nunca chegou, quero meu dinheiro de volta", "negative"),
    ("pt", "Muito bom, gostei bastante", "positive"),
    ("pt", "Não tive nenhum problema, tudo certo", "positive"),
    ("pt", "Mais ou menos.", "neutral"),
    ("es", "Muy buena atención, lo recomiendo", "positive"),
    ("es", "El pedido no llegó y nadie me ayudó", "negative"),
    ("es", "No funciona, pésima calidad", "negative"),
    ("es", "Tardaron muchísimo en responder", "negative"),
    ("es", "Todo perfecto, gracias", "positive"),
]


@pytest.mark.parametrize(("language", "text", "label"), CASES)
def test_hand_made_sentences_get_their_label(language, text, label):
    assert one(text, language)["label"] == label


def test_all_cases_at_once_match_one_by_one_and_detect_languages():
    frame = pd.DataFrame(CASES, columns=["language", "comment", "label"])
    scored = comment_sentiment(frame.drop(columns="language"))  # languages detected
    assert scored["label"].tolist() == frame["label"].tolist()
    detected = scored["language"].tolist()
    assert sum(d == g for d, g in zip(detected, frame["language"], strict=True)) >= 15
    assert set(detected) <= {"en", "pt", "es", "unknown"}


def test_scores_follow_the_stated_rule():
    # good = 1, very = x1.5, negation = -0.6 x weight, arrive negated = -1.5, great = 1.5
    assert one("good", "en")["sentiment"] == pytest.approx(score_of(1.0))
    assert one("very good", "en")["sentiment"] == pytest.approx(score_of(1.5))
    assert one("not good", "en")["sentiment"] == pytest.approx(score_of(NEGATION * 1.0))
    assert one("it did not arrive", "en")["sentiment"] == pytest.approx(score_of(-1.5))
    # but: before x0.5, after x1.5 -> 0.5 * 1 + 1.5 * (-1) = -1
    assert one("good but slow", "en")["sentiment"] == pytest.approx(score_of(-1.0))
    # two clauses: the negation stops at the comma -> -0.6 + 1.5
    assert one("not good, great", "en")["sentiment"] == pytest.approx(score_of(0.9))
    assert one("good", "en")["hits"] == 1 and one("the table", "en")["hits"] == 0


@pytest.mark.parametrize(
    ("language", "plain", "negated"),
    [
        ("en", "good", "not good"),
        ("en", "I recommend it", "I do not recommend it"),
        ("pt", "recomendo", "não recomendo"),
        ("pt", "funciona", "não funciona"),
        ("pt", "gostei", "nunca gostei"),
        ("es", "funciona", "no funciona"),
        ("es", "me gustó", "no me gustó"),
    ],
)
def test_negation_flips_the_sign(language, plain, negated):
    assert one(plain, language)["sentiment"] > 0 > one(negated, language)["sentiment"]


@pytest.mark.parametrize(
    ("language", "plain", "negated"),
    [
        ("en", "it arrived", "it has not arrived"),
        ("pt", "chegou", "não chegou"),
        ("pt", "recebi", "nunca recebi"),
        ("es", "llegó", "no llegó"),
    ],
)
def test_delivery_words_are_neutral_alone_and_negative_when_negated(language, plain, negated):
    assert one(plain, language)["sentiment"] == 0
    assert one(negated, language)["sentiment"] == pytest.approx(score_of(-1.5))


@pytest.mark.parametrize(
    ("language", "base", "stronger"),
    [
        ("en", "good", "very good"),
        ("pt", "bom", "muito bom"),
        ("es", "bueno", "muy bueno"),
        ("pt", "demorou", "demorou demais"),
    ],
)
def test_intensifiers_strengthen(language, base, stronger):
    assert abs(one(stronger, language)["sentiment"]) > abs(one(base, language)["sentiment"])


def test_accents_case_and_letter_runs_are_folded():
    texts = ["péssimo", "PESSIMO", "pessimo", "pésssimo"]
    scores = comment_sentiment(texts, language="pt")["sentiment"]
    assert scores.nunique() == 1 and scores.iloc[0] == pytest.approx(score_of(-2.0))
    assert fold("Ação, NÃO, ñandú, don't") == "acao, nao, nandu, dont"
    assert one("não chegou", "pt")["sentiment"] == one("nao chegou", "pt")["sentiment"]


def test_emoticons_score():
    assert one("ok :)", "en")["label"] == "positive"
    assert one("ok :-(", "en")["label"] == "negative"
    assert one("ok 👍", "en")["label"] == "positive"
    assert one("obs:deve chegar", "pt")["hits"] == 0  # ":d" inside a word is no smiley


def test_missing_and_blank_comments_are_kept_and_counted():
    s = pd.Series(["great", None, "  ", np.nan, "awful"], index=list("abcde"))
    out = comment_sentiment(s)
    assert out.index.tolist() == list("abcde")
    assert out["sentiment"].isna().tolist() == [False, True, True, True, False]
    assert out["label"].tolist() == ["positive", None, None, None, "negative"]
    assert "3 missing or blank" in out.attrs["notes"][0]


def test_empty_input_gives_an_empty_frame():
    out = comment_sentiment([])
    assert len(out) == 0
    assert list(out.columns) == ["sentiment", "label", "language", "hits"]


def test_feedback_frame_keeps_index_and_uses_language_column():
    fb = pd.DataFrame(
        {"comment": ["no", "no", "Très bien", None], "language": ["es", "pt-BR", "fr", "pt"]},
        index=[10, 11, 12, 13],
    )
    out = comment_sentiment(fb)
    assert out.index.tolist() == [10, 11, 12, 13]
    assert out["language"].tolist() == ["es", "pt", "fr", "pt"]
    assert out.loc[10, "hits"] == 0  # "no" alone: a negator, no sentiment
    assert any("merged" in n for n in out.attrs["notes"])  # the French comment
    with pytest.raises(CjmError, match="no column 'text'"):
        comment_sentiment(fb, comment_column="text")


def test_language_detection_by_stop_words():
    got = detect_languages(
        ["The app is great", "Não chegou o meu pedido", "El paquete no llegó", "ok", ""]
    )
    assert got == ["en", "pt", "es", "unknown", "unknown"]


def test_word_lists_load_strictly():
    for language in ("en", "pt", "es"):
        lexicon = load_lexicon(language)
        assert len(lexicon) >= 200  # a few hundred words and stems
        assert "no" not in lexicon.words and "false" not in lexicon.negators
    assert "no" in load_lexicon("es").negators and "no" not in load_lexicon("pt").negators
    assert {"no", "on", "off"} <= stop_words("en")
    assert len(merged_lexicon()) > len(load_lexicon("en"))
    with pytest.raises(CjmError, match="listed twice"):
        yaml.load("words:\n  good: 1\n  good: 2\n", WordLoader)  # noqa: S506
    with pytest.raises(CjmError, match="No sentiment lexicon"):
        load_lexicon("fr")


def test_label_band():
    assert label_scores([-NEUTRAL_BAND, 0, NEUTRAL_BAND, np.nan]).tolist() == [
        "negative",
        "neutral",
        "positive",
        None,
    ]


def test_scoring_is_fast_enough():
    texts = [t for _, t, _ in CASES] * 1200  # 21 600 comments, languages detected
    start = time.perf_counter()
    out = comment_sentiment(texts)
    elapsed = time.perf_counter() - start
    assert len(out) == len(texts) and out["label"].notna().all()
    assert elapsed < 5.0, f"{len(texts)} comments took {elapsed:.1f} s"


# --- agreement with ratings ------------------------------------------------------------------

SCORES = [0.8, 0.5, -0.6, -0.9, 0.0, 0.3, -0.2, 0.05, 0.9, np.nan]
RATINGS = [5, 4, 1, 2, 3, 2, 3, 4, 5, 4]


def test_agreement_against_hand_computed_values():
    a = sentiment_agreement(pd.Series(SCORES), RATINGS)
    t = a.table.set_index("measure")
    # labels: + + - - 0 + - 0 +   rating classes: + + - - 0 - 0 + +
    assert a.n_used == 9 and a.n_without_comment == 1 and a.n_without_rating == 0
    assert a.polar_accuracy == pytest.approx(5 / 7)
    assert t.loc["polar_accuracy_decided", "estimate"] == pytest.approx(5 / 6)
    # confusion diagonal 2, 1, 3 of 9; margins (3, 2, 4) both ways
    po, pe = 6 / 9, (9 + 4 + 16) / 81
    assert a.kappa == pytest.approx((po - pe) / (1 - pe)) and a.kappa == pytest.approx(25 / 52)
    se = math.sqrt(po * (1 - po) / (9 * (1 - pe) ** 2))
    assert t.loc["kappa", "ci_low"] == pytest.approx(25 / 52 - 1.959964 * se, abs=1e-6)
    # Spearman: ranks of scores 8 7 2 1 4 6 3 5 9, of ratings 8.5 6.5 1 2.5 4.5 2.5 4.5 6.5 8.5
    rho = 48.5 / math.sqrt(60 * 58)
    assert a.spearman == pytest.approx(rho)
    half = 1.959964 * math.sqrt(1.06 / 6)
    assert t.loc["spearman", "ci_low"] == pytest.approx(math.tanh(math.atanh(rho) - half), 1e-6)
    assert t.loc["spearman", "ci_high"] == pytest.approx(math.tanh(math.atanh(rho) + half), 1e-6)
    assert a.confusion.to_numpy().tolist() == [[2, 0, 1], [1, 1, 0], [0, 1, 3]]


def test_agreement_cross_checked_with_sklearn_and_scipy():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(3)
    ratings = rng.integers(1, 6, 300)
    scores = np.clip((ratings - 3) / 2.5 + rng.normal(0, 0.5, 300), -1, 1)
    a = sentiment_agreement(scores, ratings)
    truth = np.where(ratings <= 2, "negative", np.where(ratings >= 4, "positive", "neutral"))
    assert a.kappa == pytest.approx(cohen_kappa_score(truth, label_scores(scores)))
    assert a.spearman == pytest.approx(sps.spearmanr(scores, ratings).statistic)
    k, po, pe = cohen_kappa(np.array(list("aabb")), np.array(list("abbb")))
    assert (k, po, pe) == pytest.approx((0.5, 0.75, 0.5))


def test_agreement_aligns_on_index_and_checks_ratings():
    s = comment_sentiment(pd.Series(["great", "awful", "ok"], index=[7, 8, 9]))
    a = sentiment_agreement(s, pd.Series([1, 3, 5, 4], index=[9, 8, 7, 6]))
    assert a.polar_accuracy == 0.5 and a.n_used == 3
    with pytest.raises(CjmError, match="not whole numbers on the 1-5 scale"):
        sentiment_agreement(s, [5, 0, 3])
    with pytest.raises(CjmError, match="lack 1 row"):
        sentiment_agreement(s, pd.Series([5, 1], index=[7, 8]))
    with pytest.raises(CjmError, match="3 comment score"):
        sentiment_agreement(s, [5, 1])
    ten = sentiment_agreement(s, [10, 0, 7], scale=10, low=0, negative_max=6, positive_min=9)
    assert ten.polar_accuracy == 1.0


def test_agreement_renders():
    a = sentiment_agreement(pd.Series(SCORES), RATINGS)
    assert "confusion" in a.summary() and "kappa" in a._repr_html_()
    fig = a.plot()
    assert len(fig.axes[0].patches) == 3 * 5  # 3 labels x 5 ratings
    import matplotlib.pyplot as plt

    plt.close(fig)


# --- synthetic and real data -----------------------------------------------------------------


def test_banking_comments_agree_with_csat():
    from cjm_banking.generator import generate

    fb = generate(customers=3000, seed=7).tables["feedback"]
    csat = fb[fb["metric"] == "csat"]
    a = sentiment_agreement(comment_sentiment(csat), csat["score"])
    # measured: polar accuracy 0.99, kappa 0.87, Spearman 0.83 (429 comments)
    assert a.n_used > 400 and a.n_without_comment > 500
    assert a.polar_accuracy >= 0.95
    assert a.kappa >= 0.75
    assert a.spearman >= 0.75


def test_olist_reviews_agree_with_their_stars():
    folder = REAL / "olist_ecommerce_sample"
    if not folder.is_dir():
        pytest.skip(f"real data folder {folder} is absent (set CJM_REAL_DATA to run this test)")
    real_olist = pytest.importorskip("cjm_retail.real_olist")
    fb = real_olist.read_olist(folder)["feedback"]
    s = comment_sentiment(fb)
    a = sentiment_agreement(s, fb["score"])
    # measured on the 6 457 reviews with text: polar accuracy 0.861, kappa 0.625,
    # Spearman 0.737; the Portuguese lexicon was written without fitting to these reviews
    assert a.n_used == 6457
    assert a.polar_accuracy >= 0.80
    assert a.kappa >= 0.55
    assert a.spearman >= 0.65
    assert (s["language"].dropna() == "pt").all()
