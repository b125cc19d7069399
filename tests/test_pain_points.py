"""Pain points and moments of truth: signals on a hand-made log, the planted problems first."""

import pandas as pd
import pytest

from cjm_core.model import JourneyCatalog
from cjm_core.moments import moments_of_truth
from cjm_core.pain_points import pain_points


def _catalog():
    return JourneyCatalog.from_dict({
        "stages": [{"id": "buy", "name": "Buy"}],
        "channels": [{"id": "web", "name": "Web"}, {"id": "phone", "name": "Phone"}],
        "touchpoints": [
            {"id": "web", "name": "Web", "channel": "web", "stage": "buy", "kind": "digital"},
            {"id": "call", "name": "Call", "channel": "phone", "stage": "buy",
             "kind": "assisted", "target_s": 120, "effort": 2},
        ],
    })  # fmt: skip


def _log():
    """Customers c0..c5: each a web visit then a call; c0-c2 wait 300 s, c3-c5 60 s;
    c0 and c1 call again 2 days later; c3, c4, c5 convert on the web a minute after."""
    rows = []
    for i in range(6):
        t0 = pd.Timestamp("2024-01-01 10:00", tz="UTC") + pd.Timedelta(days=i)
        rows.append((f"c{i}", t0, "web", "interaction", 30.0))
        rows.append((f"c{i}", t0 + pd.Timedelta(minutes=5), "call", "interaction",
                     300.0 if i < 3 else 60.0))  # fmt: skip
        if i < 2:
            rows.append((f"c{i}", t0 + pd.Timedelta(days=2), "call", "interaction", 400.0))
        if i >= 3:
            rows.append((f"c{i}", t0 + pd.Timedelta(minutes=12), "web", "conversion", 10.0))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "touchpoint", "event_type",
                                       "duration_s"]).assign(value=50.0)  # fmt: skip


def test_signals_on_a_hand_made_log():
    r = pain_points(_log(), catalog=_catalog(), gap="30min")
    ev = r.evidence.set_index(["touchpoint", "signal"])
    assert ev.loc[("call", "long_duration"), "customers_affected"] == 3  # c0, c1, c2 (> 120 s)
    assert ev.loc[("call", "repeat_contacts"), "customers_affected"] == 2  # c0, c1 within 7 days
    assert ev.loc[("call", "repeat_contacts"), "rate"] == pytest.approx(2 / 6)
    # 11 journeys: c0, c1 have 2, others 1; drop-offs: c0-c2 end at call (5 journeys unconverted)
    drop = ev.loc[("call", "drop_off")]
    assert drop["rate"] == pytest.approx(5 / 8)  # 8 journeys pass the call, 5 end there
    table = r.to_frame()
    assert table.loc[0, "touchpoint"] == "call" and table.loc[0, "impact_score"] == 100
    assert table.loc[0, "effort"] == 2 and table.loc[0, "quadrant"] == "quick win"
    assert "3 of 6 customers waited or took longer than 2.0 min" in table.loc[0, "evidence"]


def test_targets_override_the_catalog_and_low_scores_count_when_significant():
    fb = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(6)] * 10,
        "timestamp": pd.Timestamp("2024-01-20", tz="UTC"),
        "touchpoint": ["call"] * 30 + ["web"] * 30,
        "metric": "csat", "score": [1] * 25 + [4] * 5 + [5] * 28 + [1] * 2,
    })  # fmt: skip
    r = pain_points(_log(), fb, catalog=_catalog(), gap="30min", targets={"call": 500},
                    window="60D")  # fmt: skip
    ev = r.evidence.set_index(["touchpoint", "signal"])
    assert ev.loc[("call", "long_duration"), "customers_affected"] == 0
    low = ev.loc[("call", "low_csat")]
    assert low["rate"] == pytest.approx(25 / 30) and low["baseline"] == pytest.approx(27 / 60)
    assert low["customers_affected"] == pytest.approx(6 * (25 / 30 - 27 / 60))
    assert ev.loc[("web", "low_csat"), "customers_affected"] == 0  # below the pooled share


@pytest.mark.parametrize("template", ["banking", "retail"])
def test_the_planted_problem_ranks_first(template):
    import importlib

    gen = importlib.import_module(f"cjm_{template}.generator")
    data = gen.generate(customers=1500, seed=11)
    ev, fb = data.tables["events"], data.tables["feedback"]
    planted = data.truth["intervention"]["touchpoint"]
    r = pain_points(ev, fb, catalog=gen.catalog())
    ranked = r.to_frame()
    assert ranked.loc[0, "touchpoint"] == planted
    assert ranked.loc[0, "signals"] >= 1 and ranked.loc[0, "impact_score"] == 100
    if template == "banking":  # long waits and repeat calls
        assert {"long_duration", "repeat_contacts"} <= set(
            r.evidence.query("touchpoint == @planted and customers_affected > 0")["signal"]
        )
    when = pd.Timestamp(data.truth["intervention"]["date"], tz="UTC")
    before = pain_points(ev[ev["timestamp"] < when], fb[fb["timestamp"] < when],
                         catalog=gen.catalog()).to_frame()  # fmt: skip
    assert before.loc[0, "touchpoint"] == planted
    by = pain_points(ev, fb, catalog=gen.catalog(), by="persona",
                     customers=data.tables["customers"]).to_frame()  # fmt: skip
    assert set(by["group"]) == set(data.tables["customers"]["persona"])
    firsts = by.sort_values("impact", ascending=False).groupby("group").head(1)
    assert (firsts["touchpoint"] == planted).sum() >= 3  # first for most of the 5 personas


def test_moments_of_truth_on_a_hand_made_log():
    rows = []
    for i in range(60):  # 30 slow calls (10% convert), 30 quick ones (60% convert)
        t0 = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=2 * i)
        slow = i < 30
        rows.append((f"c{i}", t0, "call", "interaction", 600.0 if slow else 30.0))
        if (slow and i < 3) or (not slow and i - 30 < 18):
            rows.append((f"c{i}", t0 + pd.Timedelta(minutes=3), "web", "conversion", 1.0))
    ev = pd.DataFrame(rows, columns=["customer_id", "timestamp", "touchpoint", "event_type",
                                     "duration_s"])  # fmt: skip
    m = moments_of_truth(ev, catalog=_catalog(), gap="30min").to_frame()
    call = m.set_index("touchpoint").loc["call"]
    assert (call["journeys"], call["bad_journeys"]) == (60, 30)
    assert call["conversion_bad"] == pytest.approx(0.1)
    assert call["conversion_good"] == pytest.approx(0.6)
    assert call["difference"] == pytest.approx(0.5) and call["moment_of_truth"]
    assert m.loc[0, "touchpoint"] == "call"


def test_negative_comments_name_their_most_frequent_topic():
    from cjm_core.pain_signals import comment_rows

    comments = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(40)],
        "touchpoint": ["call"] * 20 + ["web"] * 20,
        "negative": [True] * 16 + [False] * 4 + [True] * 4 + [False] * 16,
        "topic": ["hold, wait"] * 12 + ["fees"] * 4 + [None] * 4 + ["slow page"] * 4
        + [None] * 16,
    })  # fmt: skip
    rows = {r["touchpoint"]: r for r in comment_rows(comments, pd.Series({"call": 50, "web": 80}),
                                                     0.05)}  # fmt: skip
    call = rows["call"]
    assert call["rate"] == 0.8 and call["baseline"] == 0.5
    assert call["customers_affected"] == pytest.approx(50 * 0.3)
    assert call["detail"] == "80% of 20 comments negative vs 50% overall, mostly about 'hold, wait'"
    assert rows["web"]["customers_affected"] == 0
