"""The journey-map canvas: its frames on a hand-made log, the drawn banking and retail maps."""

import math

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from cjm_core.errors import CjmError
from cjm_core.model import JourneyCatalog
from cjm_core.viz import (
    journey_map,
    journey_map_data,
    journey_maps_by_persona,
    save_journey_map,
)

Z = 1.959963984540054  # the 97.5% normal quantile


def _catalog():
    return JourneyCatalog.from_dict({
        "name": "tiny",
        "stages": [{"id": "s1", "name": "First"}, {"id": "s2", "name": "Second"},
                   {"id": "s3", "name": "Third"}],
        "channels": [{"id": "web", "name": "Web"}, {"id": "phone", "name": "Phone"}],
        "touchpoints": [
            {"id": "web", "name": "Site", "channel": "web", "stage": "s1", "kind": "digital"},
            {"id": "call", "name": "Call", "channel": "phone", "stage": "s1",
             "kind": "assisted", "effort": 2},
            {"id": "shop", "name": "Shop", "channel": "web", "stage": "s2", "kind": "digital"},
            {"id": "post", "name": "Post", "channel": "web", "stage": "s3", "kind": "digital"},
        ],
    })  # fmt: skip


def _log():
    """a: site, call, shop (converts); b: site, site, shop; c: site, call; d: call, post."""
    visits = [("a", "web"), ("a", "call"), ("a", "shop"), ("b", "web"), ("b", "web"),
              ("b", "shop"), ("c", "web"), ("c", "call"), ("d", "call"), ("d", "post")]  # fmt: skip
    t0 = pd.Timestamp("2024-01-01 10:00", tz="UTC")
    return pd.DataFrame({
        "customer_id": [c for c, _ in visits],
        "timestamp": [t0 + pd.Timedelta(minutes=i) for i in range(len(visits))],
        "touchpoint": [t for _, t in visits],
        "event_type": ["interaction", "interaction", "conversion"] + ["interaction"] * 7,
    })  # fmt: skip


def _feedback():
    """CSAT 5, 4, 4, 3 about the site and 1, 2 about the shop; CES 7, 4, 1 about the call;
    one NPS answer without a touchpoint."""
    rows = [("a", "web", "csat", 5), ("b", "web", "csat", 4), ("c", "web", "csat", 4),
            ("a", "web", "csat", 3), ("a", "shop", "csat", 1), ("b", "shop", "csat", 2),
            ("a", "call", "ces", 7), ("c", "call", "ces", 4), ("d", "call", "ces", 1),
            ("d", None, "nps", 9)]  # fmt: skip
    return pd.DataFrame(rows, columns=["customer_id", "touchpoint", "metric", "score"])


PAINS = pd.DataFrame({
    "rank": [1, 2], "touchpoint": ["call", "shop"], "impact_score": [100.0, 40.0],
    "top_signal": ["long_duration", "drop_off"], "effort": [2.0, math.nan],
    "evidence": ["3 of 3 customers waited; 1 came back", "1 of 2 journeys end here"],
    "quadrant": ["quick win", None],
})  # fmt: skip
MOMENTS = pd.DataFrame({"touchpoint": ["shop", "call"], "moment_of_truth": [True, False]})


@pytest.fixture(scope="module")
def tiny():
    return journey_map_data(_log(), _feedback(), catalog=_catalog(), pains=PAINS,
                            moments=MOMENTS, min_answers=2)  # fmt: skip


def test_stages_touchpoints_and_actions_on_a_hand_made_log(tiny):
    assert tiny.stages[["stage", "name", "customers", "answers"]].values.tolist() == [
        ["s1", "First", 4, 7], ["s2", "Second", 2, 2], ["s3", "Third", 1, 0]]  # fmt: skip
    tps = tiny.touchpoints.set_index("touchpoint")
    assert tps["customers"].to_dict() == {"web": 3, "call": 3, "shop": 2, "post": 1}
    assert tps.loc["web", "share"] == 0.75 and tps.loc["web", "events"] == 4
    assert tps["stage"].tolist() == ["s1", "s1", "s2", "s3"]  # catalog stage order
    assert tps["moment_of_truth"].to_dict() == {"web": False, "call": False, "shop": True,
                                                "post": False}  # fmt: skip
    s1 = tiny.actions[tiny.actions["stage"] == "s1"]
    assert s1["action"].tolist() == ["uses Site", "contacts Call"]
    assert s1["events"].tolist() == [4, 3] and s1["share"].tolist() == [0.75, 0.75]
    s2 = tiny.actions[tiny.actions["stage"] == "s2"].set_index("event_type")
    assert s2.loc["conversion", "action"] == "converts at Shop"
    assert any("1 answer(s) without a catalog touchpoint (nps: 1)" in n for n in tiny.notes)


def test_emotion_by_hand(tiny):
    src = tiny.emotion_sources.set_index(["stage", "source"])
    # CSAT 5, 4, 4, 3 -> 1, .5, .5, 0: mean .5, sd sqrt(1/6), se sqrt(1/24)
    assert src.loc[("s1", "csat"), "score"] == pytest.approx(0.5)
    assert src.loc[("s1", "csat"), "std_error"] == pytest.approx(math.sqrt(1 / 24))
    # CES 7, 4, 1 -> 1, 0, -1: mean 0, sd 1, se sqrt(1/3)
    assert src.loc[("s1", "ces"), "score"] == pytest.approx(0.0)
    assert src.loc[("s1", "ces"), "std_error"] == pytest.approx(math.sqrt(1 / 3))
    e = tiny.emotion.set_index("stage")
    # inverse-variance weights 24 and 3: (24 * .5 + 3 * 0) / 27, se 1 / sqrt(27)
    assert e.loc["s1", "score"] == pytest.approx(12 / 27)
    assert e.loc["s1", "std_error"] == pytest.approx(1 / math.sqrt(27))
    assert e.loc["s1", "low"] == pytest.approx(12 / 27 - Z / math.sqrt(27))
    assert e.loc["s1", "high"] == pytest.approx(12 / 27 + Z / math.sqrt(27))
    # CSAT 1, 2 -> -1, -.5: mean -.75, se .25; the band is clipped at -1
    assert e.loc["s2", "score"] == pytest.approx(-0.75)
    assert (e.loc["s2", "low"], e.loc["s2", "high"]) == pytest.approx((-1.0, -0.75 + Z * 0.25))
    assert e.index.tolist() == ["s1", "s2"]  # no answers about s3
    web = tiny.touchpoint_emotion.set_index("touchpoint").loc["web"]
    assert (web["low"], web["high"]) == pytest.approx((0.5 - Z * 0.2041241, 0.5 + Z * 0.2041241))


def test_single_source_band_and_unanimous_floor():
    fb = pd.DataFrame({"customer_id": ["a"] * 4, "touchpoint": "web", "metric": "csat",
                       "score": [4, 4, 4, 4]})  # fmt: skip
    m = journey_map_data(_log(), fb, catalog=_catalog(), pains=PAINS, moments=MOMENTS)
    e = m.emotion.set_index("stage").loc["s1"]
    # all answers 4 -> .5 each; sd floored at half a step (.25): se = .25 / 2
    assert e["score"] == pytest.approx(0.5) and e["std_error"] == pytest.approx(0.125)


def test_sentiment_is_a_source_on_its_own_scale():
    from cjm_core.voc.sentiment import comment_sentiment

    comments = ["great, very helpful", "terrible, never again", "good service"]
    fb = pd.DataFrame({"customer_id": ["a", "b", "c"], "touchpoint": "web", "metric": "csat",
                       "score": [5, 1, 4], "comment": comments})  # fmt: skip
    m = journey_map_data(_log(), fb, catalog=_catalog(), pains=PAINS, moments=MOMENTS)
    src = m.emotion_sources.set_index("source")
    expected = comment_sentiment(comments)["sentiment"]
    assert src.loc["sentiment", "answers"] == 3
    assert src.loc["sentiment", "score"] == pytest.approx(expected.mean())
    assert src.loc["sentiment", "std_error"] == pytest.approx(
        max(expected.std(ddof=1), 0.1) / math.sqrt(3))  # fmt: skip


def test_pain_points_and_opportunities_rules(tiny):
    p = tiny.pain_points
    assert p[["stage", "touchpoint", "signal", "top"]].values.tolist() == [
        ["s1", "call", "long wait or duration", True],
        ["s2", "shop", "drop-off", False],
    ]
    assert p.loc[0, "evidence"] == "3 of 3 customers waited"  # the first piece only
    o = tiny.opportunities
    assert o[["touchpoint", "kind"]].values.tolist() == [["call", "quick win"]]
    assert o.loc[0, "text"] == "Quick win: fix the long wait or duration at Call (effort 2/5)"
    # the site's band [0.10, 0.90] lies above 0.05 but not above 0.2: scaled only at 0.05
    low = journey_map_data(_log(), _feedback(), catalog=_catalog(), pains=PAINS,
                           moments=MOMENTS, min_answers=2, scale_above=0.05)  # fmt: skip
    scale = low.opportunities[low.opportunities["kind"] == "scale"]
    assert scale["touchpoint"].tolist() == ["web"]


def test_errors_name_the_problem():
    with pytest.raises(CjmError, match="customers="):
        journey_map_data(_log(), catalog=_catalog(), persona="x", pains=PAINS, moments=MOMENTS)
    people = pd.DataFrame({"customer_id": list("abcd"), "persona": ["p", "p", "q", "q"]})
    with pytest.raises(CjmError, match=r"personas: \['p', 'q'\]"):
        journey_map_data(_log(), catalog=_catalog(), persona="zz", customers=people,
                         pains=PAINS, moments=MOMENTS)  # fmt: skip
    with pytest.raises(CjmError, match="catalog="):
        journey_map(_log())
    bad = _feedback().assign(score=[5, 4, 4, 3, 1, 9, 7, 4, 1, 9])
    with pytest.raises(CjmError, match="off the 1-5 scale"):
        journey_map_data(_log(), bad, catalog=_catalog(), pains=PAINS, moments=MOMENTS)
    with pytest.raises(CjmError, match="suffix"):
        save_journey_map(object(), "map.jpg")


def test_persona_keeps_its_customers():
    people = pd.DataFrame({"customer_id": list("abcd"), "persona": ["p", "p", "q", "q"]})
    m = journey_map_data(_log(), _feedback(), catalog=_catalog(), persona="q",
                         customers=people, pains=PAINS, moments=MOMENTS)  # fmt: skip
    assert m.customers == 2
    assert m.touchpoints.set_index("touchpoint")["customers"].to_dict() == {
        "web": 1, "call": 2, "post": 1}  # fmt: skip


# -- the drawn maps ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def banking():
    from cjm_banking.generator import catalog, generate

    d = generate(customers=2000, seed=7)
    data = journey_map_data(d.tables["events"], d.tables["feedback"], catalog=catalog())
    return d, data, journey_map(data)


def _texts(fig):
    return [t for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def _by_gid(fig, prefix):
    return {
        t.get_gid(): t
        for t in _texts(fig)
        if (t.get_gid() or "").startswith(prefix) and not t.get_gid().endswith(":body")
    }


def test_banking_columns_touchpoints_and_emotion(banking):
    d, data, fig = banking
    from cjm_banking.generator import catalog

    cat = catalog()
    headers = sorted(_by_gid(fig, "stage:").values(), key=lambda t: t.get_position()[0])
    assert [t.get_text() for t in headers] == [s.name for s in cat.stages]
    assert [t.get_gid() for t in headers] == [f"stage:{s}" for s in cat.stage_ids]
    labels = _by_gid(fig, "touchpoint:")
    seen = set(d.tables["events"]["touchpoint"])
    for tp in cat.touchpoints:
        if tp.id in seen:
            assert labels[f"touchpoint:{tp.id}"].get_text() == tp.name
    line = [x for x in fig.findobj() if getattr(x, "get_gid", lambda: None)() == "emotion"][0]
    answered = [i + 0.5 for i, s in enumerate(cat.stage_ids) if s in set(data.emotion["stage"])]
    assert list(line.get_xdata()) == answered
    assert list(line.get_ydata()) == pytest.approx(data.emotion["score"].tolist())
    assert len(answered) == int((data.stages["answers"] > 0).sum()) == 3


def test_banking_planted_pain_point_is_the_highlighted_first(banking):
    _, data, fig = banking
    top = _by_gid(fig, "top_pain:")
    assert list(top) == ["top_pain:call_centre"]
    assert top["top_pain:call_centre"].get_text().startswith("#1 Call centre")
    box = [p for p in fig.findobj() if getattr(p, "get_gid", lambda: None)()
           == "box:top_pain:call_centre"][0]  # fmt: skip
    others = [p.get_linewidth() for p in fig.findobj() if
              (getattr(p, "get_gid", lambda: None)() or "").startswith("box:pain:")]  # fmt: skip
    assert others and box.get_linewidth() > max(others)
    assert data.pain_points.loc[data.pain_points["top"], "touchpoint"].tolist() == ["call_centre"]


def _inside(fig):
    """Labels whose text runs outside their box (pixels, 1 px tolerance)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = {p.get_gid()[4:]: p.get_window_extent(renderer) for p in fig.findobj()
             if (getattr(p, "get_gid", lambda: None)() or "").startswith("box:")}  # fmt: skip
    out = []
    for t in _texts(fig):
        gid = (t.get_gid() or "").removesuffix(":body")
        if gid in boxes:
            b, e = boxes[gid], t.get_window_extent(renderer)
            if e.x0 < b.x0 - 1 or e.x1 > b.x1 + 1 or e.y0 < b.y0 - 1 or e.y1 > b.y1 + 1:
                out.append(t.get_gid())
    return out, len(boxes)


def test_banking_text_stays_inside_its_boxes(banking):
    outside, boxes = _inside(banking[2])
    assert boxes >= 15 and outside == []


def test_retail_map_is_tidy_and_shows_checkout_first():
    from cjm_retail.generator import catalog, generate

    d = generate(customers=1500, seed=7)
    fig = journey_map(d.tables["events"], d.tables["feedback"], catalog=catalog())
    assert list(_by_gid(fig, "top_pain:")) == ["top_pain:checkout"]
    headers = sorted(_by_gid(fig, "stage:").values(), key=lambda t: t.get_position()[0])
    assert [t.get_text() for t in headers] == [s.name for s in catalog().stages]
    outside, boxes = _inside(fig)
    assert boxes >= 12 and outside == []


def test_files_png_svg_pdf(banking, tmp_path):
    from PIL import Image

    _, data, fig = banking
    png = save_journey_map(fig, tmp_path / "map.png")
    assert png.stat().st_size > 50_000
    w, h = fig.get_size_inches()
    with Image.open(png) as im:
        assert im.size == (round(w * 300), round(h * 300))
    svg = save_journey_map(fig, tmp_path / "map.svg").read_text(encoding="utf-8")
    for name in data.stages["name"]:
        assert f">{name}<" in svg  # kept as text, not paths
    pdf = save_journey_map(fig, tmp_path / "map.pdf")
    assert pdf.read_bytes()[:4] == b"%PDF" and pdf.stat().st_size > 10_000


def test_persona_map_and_stars():
    from cjm_banking.generator import catalog, generate

    d = generate(customers=1200, seed=7)
    people = d.tables["customers"]
    moments = pd.DataFrame({"touchpoint": ["branch"], "moment_of_truth": [True]})
    maps = journey_maps_by_persona(d.tables["events"], d.tables["feedback"], catalog=catalog(),
                                   customers=people, personas=["branch_traditionalist"],
                                   moments=moments)  # fmt: skip
    fig = maps["branch_traditionalist"]
    assert "persona: Branch traditionalist" in _by_gid(fig, "title")["title"].get_text()
    stars = [x.get_gid() for x in fig.findobj()
             if (getattr(x, "get_gid", lambda: None)() or "").startswith("moment:")]  # fmt: skip
    assert stars == ["moment:branch"]
    ids = set(people.loc[people["persona"] == "branch_traditionalist", "customer_id"])
    data = journey_map_data(d.tables["events"], d.tables["feedback"], catalog=catalog(),
                            customers=people, persona="branch_traditionalist",
                            moments=moments)  # fmt: skip
    events = d.tables["events"]
    assert data.customers == events.loc[events["customer_id"].isin(ids), "customer_id"].nunique()
    branch = data.touchpoints.set_index("touchpoint").loc["branch", "customers"]
    assert (
        branch
        == events[events["customer_id"].isin(ids) & (events["touchpoint"] == "branch")][
            "customer_id"
        ].nunique()
    )
