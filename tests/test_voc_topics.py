"""Topics of negative comments (cjm_core.voc.topics): TF-IDF + NMF.

A planted corpus of three distinct vocabularies (each tied to a touchpoint, in known
proportions) must come back as three topics with those shares and touchpoints; the
synthetic banking data (seed 7) must put call-centre waiting on top.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cjm_core.errors import CjmError
from cjm_core.voc.topics import CommentTopics, comment_topics

VOCABULARIES = {
    "call_centre": ["hold", "wait", "agent", "transferred", "line", "queue", "phone"],
    "mobile_app": ["app", "crash", "login", "update", "screen", "password", "freezes"],
    "branch": ["branch", "cashier", "closed", "counter", "opening", "hours", "parking"],
}
SIZES = {"call_centre": 100, "mobile_app": 60, "branch": 40}
COMPLAINTS = ["terrible", "awful", "frustrating", "horrible", "useless"]
PRAISE = ["Great service, thank you", "Excellent, very happy", "Lovely staff, perfect"]


def planted(seed: int = 0, praise: int = 30) -> pd.DataFrame:
    """200 negative comments (100/60/40 by touchpoint) and ``praise`` positive ones."""
    rng = np.random.default_rng(seed)
    rows = []
    for tp, n in SIZES.items():
        for _ in range(n):
            words = rng.choice(VOCABULARIES[tp], size=4, replace=False)
            rows.append((f"{rng.choice(COMPLAINTS)} {' '.join(words)}", tp))
    rows += [(PRAISE[i % 3], "website") for i in range(praise)]
    order = rng.permutation(len(rows))
    frame = pd.DataFrame([rows[i] for i in order], columns=["comment", "touchpoint"])
    frame.index = frame.index + 1000  # a non-default index, kept in the assignments
    return frame


@pytest.fixture(scope="module")
def planted_topics() -> CommentTopics:
    return comment_topics(planted())


def test_planted_topics_are_recovered(planted_topics):
    t = planted_topics
    table = t.to_frame()
    assert t.info["n_topics"] == 3 and len(table) == 3
    assert table["topic"].tolist() == [1, 2, 3]
    assert table["share"].tolist() == pytest.approx([0.5, 0.3, 0.2], abs=0.02)
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["comments"].sum() == 200  # the 30 positive comments are not analysed
    for (_, row), tp in zip(table.iterrows(), SIZES, strict=True):
        assert row["touchpoints"].startswith(f"{tp} (")
        assert set(row["label"].split(", ")) <= set(VOCABULARIES[tp])
        assert len(row["examples"]) == 3
        assert all(any(w in e for w in VOCABULARIES[tp]) for e in row["examples"])
    assert "30 comment(s) not analysed" in t.notes[0]
    scores = t.k_scores.set_index("k")
    assert scores.index.tolist() == list(range(1, 9))
    assert scores["below_chord"].idxmax() == 3
    assert scores["reconstruction_error"].is_monotonic_decreasing
    # the knee by hand: scale both axes to 0..1, distance below the chord from k=1 to k=8
    e = scores["reconstruction_error"].to_numpy()
    below = (1 - np.arange(8) / 7) - (e - e.min()) / (e.max() - e.min())
    assert scores["below_chord"].to_numpy() == pytest.approx(below)


def test_by_touchpoint_and_assignments(planted_topics):
    tidy = planted_topics.by_touchpoint()
    assert list(tidy.columns) == ["topic", "label", "touchpoint", "comments", "share_of_topic"]
    top = tidy.groupby("topic").head(1)
    assert top["touchpoint"].tolist() == list(SIZES)
    assert top["comments"].tolist() == pytest.approx(list(SIZES.values()), abs=4)
    assert tidy["comments"].sum() == 200
    a = planted_topics.assignments
    assert len(a) == 200 and a.index.min() >= 1000 and (a["topic"] > 0).all()
    frame = planted()
    assert (frame.loc[a.index, "comment"] == a["comment"]).all()


def test_same_seed_same_topics():
    first, second = comment_topics(planted()), comment_topics(planted())
    pd.testing.assert_frame_equal(first.to_frame(), second.to_frame())
    pd.testing.assert_frame_equal(first.assignments, second.assignments)


def test_given_number_of_topics_and_own_negative_mask():
    frame = planted()
    mask = ~frame["comment"].isin(PRAISE)
    t = comment_topics(frame, n_topics=2, negative=mask)
    assert t.info["n_topics"] == 2 and t.info["chosen_by"] == "given"
    assert t.to_frame()["comments"].sum() == 200 and t.k_scores.empty
    as_list = comment_topics(frame, n_topics=3, negative=mask.tolist())
    assert as_list.to_frame()["share"].tolist() == pytest.approx([0.5, 0.3, 0.2], abs=0.02)
    everything = comment_topics(frame, n_topics=4, negative_only=False)
    assert everything.to_frame()["comments"].sum() == 230
    assert "website (100%)" in everything.to_frame()["touchpoints"].tolist()


def test_bad_requests_raise_clear_errors():
    frame = planted()
    with pytest.raises(CjmError, match="negative_only=False"):
        comment_topics(frame, negative=frame["touchpoint"].eq("branch"), negative_only=False)
    with pytest.raises(CjmError, match="one boolean per row"):
        comment_topics(frame, negative=[True, False])
    with pytest.raises(CjmError, match="True/False only"):
        comment_topics(frame, negative=frame["touchpoint"])
    with pytest.raises(CjmError, match="at least 10"):
        comment_topics(frame.head(40), negative=frame.head(40)["touchpoint"].eq("branch"))
    with pytest.raises(CjmError, match="from 1 to 46"):
        comment_topics(frame, n_topics=47, negative_only=False)
    with pytest.raises(CjmError, match="no column 'comment'"):
        comment_topics(frame.rename(columns={"comment": "text"}))


def test_comments_without_vocabulary_are_unassigned():
    frame = planted(praise=0)
    extra = pd.DataFrame({"comment": ["zzz qqq"], "touchpoint": ["branch"]}, index=[1])
    t = comment_topics(pd.concat([frame, extra]), n_topics=3, negative_only=False)
    assert t.info["comments"] == 201  # analysed ...
    assert t.to_frame()["comments"].sum() == 200  # ... but "zzz", "qqq" occur once: no term
    assert t.assignments.loc[1, "topic"] == 0
    assert any("1 comment(s) have no weight" in n for n in t.notes)


def test_plot_and_rendering(planted_topics):
    fig = planted_topics.plot()
    bars = fig.axes[0].patches
    assert [round(b.get_width(), 2) for b in bars] == [0.2, 0.3, 0.5]  # smallest at the bottom
    assert "Comment topics" in planted_topics.summary()
    assert "touchpoints" in planted_topics._repr_html_()
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_banking_top_negative_topic_is_call_centre_waiting():
    from cjm_banking.generator import generate

    fb = generate(customers=3000, seed=7).tables["feedback"]
    t = comment_topics(fb)
    top = t.to_frame().iloc[0]
    # measured: 262 negative comments, k = 2, top topic "hold, long, wait" with 77 %
    assert t.info["comments"] > 200
    assert {"hold", "wait"} <= set(top["terms"])
    assert top["share"] >= 0.5
    assert top["touchpoints"].startswith("call_centre (")
    assert all(
        any(w in e.lower() for w in ("hold", "wait", "line", "transferred"))
        for e in top["examples"]
    )
