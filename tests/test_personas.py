"""Personas from data: features, k-means segments, cards, names and archetype matching.

Numbers are checked against hand computations (features, scaling, traits), against planted
structure (three separated blobs) and against the synthetic data's true personas.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from cjm_core import csat, nps, path_variants
from cjm_core.errors import CjmError, MissingColumnError
from cjm_core.model import Persona
from cjm_core.personas import (
    Scaler,
    archetype_profiles,
    customer_features,
    find_personas,
    match_archetypes,
    persona_cards,
    persona_name,
    support_touchpoints,
)

# -- a tiny log, features by hand -------------------------------------------------------------


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture
def tiny_events() -> pd.DataFrame:
    """a: 2 journeys (web, app, app+conversion 100; then a call); b: a branch visit that
    converts (40), then a call (the last event of the log); c: two web journeys, far back."""
    rows = [
        ("a", "2024-03-01 09:00", "website", "web", "interaction", None, "j1"),
        ("a", "2024-03-01 09:10", "mobile_app", "app", "interaction", None, "j1"),
        ("a", "2024-03-01 09:20", "mobile_app", "app", "conversion", 100.0, "j1"),
        ("a", "2024-03-11 10:00", "call_centre", "phone", "interaction", None, "j2"),
        ("b", "2024-03-21 12:00", "branch_visit", "branch", "interaction", None, "j3"),
        ("b", "2024-03-21 12:30", "branch_visit", "branch", "conversion", 40.0, "j3"),
        ("b", "2024-03-31 12:00", "call_centre", "phone", "interaction", None, "j4"),
        ("c", "2024-01-01 00:00", "website", "web", "interaction", None, "j5"),
        ("c", "2024-02-15 00:00", "website", "web", "interaction", None, "j6"),
    ]
    cols = ["customer_id", "timestamp", "touchpoint", "channel", "event_type", "value"]
    ev = pd.DataFrame(rows, columns=[*cols, "journey_id"])
    ev["timestamp"] = pd.to_datetime(ev["timestamp"], utc=True)
    return ev


@pytest.fixture
def tiny_feedback() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "z"],
            "metric": ["csat", "csat", "nps", "nps", "nps"],
            "score": [4, 2, 9, 3, 10],
        }
    )


def test_features_of_a_tiny_log_match_hand_computed_values(tiny_events, tiny_feedback, catalog):
    f = customer_features(tiny_events, tiny_feedback, catalog=catalog)
    assert f.index.tolist() == ["a", "b", "c"]
    as_of = _ts("2024-03-31 12:00")  # the last event
    expected = {
        "events": [4, 3, 2],
        "journeys": [2, 2, 2],
        "conversions": [1, 1, 0],
        "value": [100.0, 40.0, 0.0],
        "n_channels": [3, 2, 1],
        "digital_share": [3 / 4, 0, 1],
        "physical_share": [0, 2 / 3, 0],
        "assisted_share": [1 / 4, 1 / 3, 0],
        # a: 30.125 days known; b: 10 days, counted as 30; c: 90.5 days
        "frequency": [30 * 2 / 30.125, 2.0, 30 * 2 / 90.5],
        "recency_days": [
            (as_of - _ts("2024-03-11 10:00")) / pd.Timedelta(days=1),
            0.0,
            45.5,
        ],
        "conversion_rate": [0.5, 0.5, 0.0],
        "support_contacts": [1, 1, 0],
        "mean_csat": [3.0, np.nan, np.nan],
        "mean_nps": [9.0, 3.0, np.nan],
        "n_answers": [3, 1, 0],
    }
    for column, values in expected.items():
        np.testing.assert_allclose(f[column].to_numpy(), values, err_msg=column)
    assert f.loc["a", "recency_days"] == pytest.approx(20 + 2 / 24)
    assert any("1 answer(s) from 1 customer(s) without events" in n for n in f.attrs["notes"])


def test_features_without_catalog_use_channel_shares_and_the_word_rule(tiny_events):
    f = customer_features(tiny_events, as_of="2024-04-30 12:00")
    shares = sorted(c for c in f.columns if c.startswith("share_"))
    assert shares == ["share_app", "share_branch", "share_phone", "share_web"]
    assert f.loc["a", "share_app"] == pytest.approx(0.5)
    # as_of 30 days after the last event: recency grows by 30 days
    assert f.loc["b", "recency_days"] == pytest.approx(30.0)
    assert f.loc["b", "frequency"] == pytest.approx(30 * 2 / 40)
    # no catalog: "call" in the id makes call_centre a support touchpoint, nothing else
    assert f.attrs["support_touchpoints"] == ["call_centre"]
    assert f["support_contacts"].tolist() == [1.0, 1.0, 0.0]


def test_support_rule_and_override(tiny_events, catalog):
    assert support_touchpoints(tiny_events, catalog) == ["call_centre"]  # assisted + words
    ev = tiny_events.assign(channel=tiny_events["channel"].replace("branch", "helpdesk"))
    assert support_touchpoints(ev) == ["branch_visit", "call_centre"]  # channel id has "help"
    f = customer_features(tiny_events, catalog=catalog, support=["website"])
    assert f["support_contacts"].tolist() == [1.0, 0.0, 2.0]


def test_features_refuse_bad_input(tiny_events):
    with pytest.raises(CjmError, match=r"2 event\(s\) are after as_of"):
        customer_features(tiny_events, as_of="2024-03-21 12:15")
    with pytest.raises(MissingColumnError, match="touchpoint"):
        customer_features(tiny_events.drop(columns="touchpoint"))
    naive = tiny_events.assign(timestamp=tiny_events["timestamp"].dt.tz_localize(None))
    with pytest.raises(CjmError, match="time-zone aware"):
        customer_features(naive)
    no_id = tiny_events.copy()
    no_id.loc[3, "customer_id"] = None
    with pytest.raises(CjmError, match=r"1 event\(s\) have no customer_id \(rows \[3\]\)"):
        customer_features(no_id)


# -- scaling and clustering on planted blobs --------------------------------------------------


def test_scaler_takes_log1p_of_counts_then_z_scores():
    f = pd.DataFrame({"value": [0.0, math.e - 1, math.e**2 - 1], "digital_share": [0.2, 0.4, 0.6]})
    s = Scaler.fit(f, ["value", "digital_share"])
    assert s.logged == ("value",)
    z = s.transform(f)
    step = 1 / math.sqrt(2 / 3)  # log values 0, 1, 2: mean 1, sd sqrt(2/3)
    np.testing.assert_allclose(z[:, 0], [-step, 0, step], atol=1e-12)
    np.testing.assert_allclose(z[:, 1], [-step, 0, step], atol=1e-12)


SIZES = (60, 40, 25)
CENTRES = {  # digital_share, frequency, value
    "app": (0.9, 3.0, 120.0),
    "branch": (0.1, 0.3, 2000.0),
    "middle": (0.5, 1.0, 0.0),
}


@pytest.fixture(scope="module")
def blobs() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    parts, truth = [], []
    for (name, (d, fr, v)), n in zip(CENTRES.items(), SIZES, strict=True):
        parts.append(
            pd.DataFrame(
                {
                    "digital_share": np.clip(rng.normal(d, 0.03, n), 0, 1),
                    "frequency": np.abs(rng.normal(fr, 0.05 * fr, n)),
                    "value": np.abs(rng.normal(v, 0.05 * v, n)),
                }
            )
        )
        truth += [name] * n
    f = pd.concat(parts, ignore_index=True)
    f.index = pd.Index([f"c{i:03d}" for i in range(len(f))], name="customer_id")
    order = rng.permutation(len(f))  # shuffled, so the numbering cannot follow the rows
    return f.iloc[order], pd.Series(truth, index=f.index).iloc[order]


def test_three_separated_blobs_give_k_3_with_exact_sizes(blobs):
    f, truth = blobs
    m = find_personas(f, seed=0)
    assert m.k == 3
    assert m.info["chosen_by"].startswith("silhouette")
    assert m.k_table["k"].tolist() == list(range(2, 9))
    assert m.k_table.loc[m.k_table["silhouette"].idxmax(), "k"] == 3
    assert m.labels.value_counts().sort_index().tolist() == list(SIZES)  # numbered by size
    assert adjusted_rand_score(truth, m.labels) == 1.0
    assert pd.crosstab(m.labels, truth).idxmax(axis=1).tolist() == ["app", "branch", "middle"]
    assert m.info["stability_ari"] == 1.0
    assert m.labels.index.equals(f.index)


def test_same_seed_same_labels_and_numbering_does_not_depend_on_row_order(blobs):
    f, _ = blobs
    a = find_personas(f, k=3, seed=11)
    b = find_personas(f, k=3, seed=11)
    pd.testing.assert_series_equal(a.labels, b.labels)
    c = find_personas(f.iloc[::-1], k=3, seed=5)
    pd.testing.assert_series_equal(c.labels.loc[f.index], a.labels)
    assert a.info["chosen_by"] == "given" and len(a.k_table) == 0


def test_predict_and_assign_use_the_fitted_personas(blobs, tiny_events):
    f, _ = blobs
    m = find_personas(f, k=3)
    pd.testing.assert_series_equal(m.predict(f), m.labels)
    ev = pd.DataFrame({"customer_id": [f.index[0], "stranger"], "touchpoint": ["web", "web"]})
    assigned = m.assign(ev)
    assert assigned["persona"].tolist()[0] == m.labels.iloc[0]
    assert assigned["persona"].isna().tolist() == [False, True]
    assert "persona" not in ev.columns  # a copy


def test_find_personas_checks_its_input(blobs):
    f, _ = blobs
    bad = f.copy()
    bad.iloc[2, 1] = np.nan
    with pytest.raises(CjmError, match=rf"'frequency' has 1 missing .*{bad.index[2]}"):
        find_personas(bad)
    with pytest.raises(CjmError, match="k must be a whole number from 1 to 125"):
        find_personas(f, k=200)
    with pytest.raises(CjmError, match="pass columns"):
        find_personas(pd.DataFrame({"x": [1.0, 2.0, 3.0]}))


# -- cards and names --------------------------------------------------------------------------


def test_naming_rules():
    assert persona_name({"digital_share": 1.4, "frequency": 0.9, "value": 0.6}) == (
        "Digital, frequent, high-value"
    )
    assert persona_name({"physical_share": 0.7, "assisted_share": 1.2, "frequency": -0.8}) == (
        "Assisted & in-person, infrequent"
    )
    # a low share names nothing; below 0.5 sd names nothing; only 3 words
    assert persona_name({"digital_share": -1.5, "recency_days": 0.4}) == "Typical"
    assert persona_name({"value": -2, "conversion_rate": -1.5, "n_channels": 1, "events": 0.9}) == (
        "Low-value, rarely converting, multichannel"
    )
    assert persona_name({"share_web": 0.9, "support_contacts": -0.6}) == "Web-first, self-service"
    # a taken name gets the next words down to 0.25 sd, else stays (the caller numbers it)
    assert persona_name({"frequency": 0.9, "value": 0.3}, {"Frequent"}) == "Frequent, high-value"
    assert persona_name({"frequency": 0.9, "value": 0.1}, {"Frequent"}) == "Frequent"


def test_cards_traits_are_the_largest_standardised_gaps_with_the_actual_means(blobs):
    f, _ = blobs
    m = find_personas(f, k=3)
    z = pd.DataFrame(m.scaler.transform(f), columns=m.columns, index=f.index)
    for card in m.cards.cards:
        mine = m.labels == card.persona
        gaps = z[mine].mean()
        assert [t.feature for t in card.traits][:3] == gaps.abs().sort_values(
            ascending=False
        ).index[:3].tolist()
        for t in card.traits:
            assert t.z == pytest.approx(gaps[t.feature])
            assert t.value == pytest.approx(f.loc[mine, t.feature].mean())
            assert t.overall == pytest.approx(f[t.feature].mean())
        assert card.customers == SIZES[card.persona - 1]
    first = m.cards.cards[0]  # the app blob: digital, frequent
    assert first.name == "Digital, frequent"
    share = first.traits[[t.feature for t in first.traits].index("digital_share")]
    assert share.text() == (
        f"digital share {share.value:.2f} vs {f['digital_share'].mean():.2f} overall "
        f"({share.z:+.1f} sd)"
    )
    names = [c.name for c in m.cards.cards]
    assert len(set(names)) == 3
    assert "Persona 1: Digital, frequent" in m.summary()
    assert "<h4" in m._repr_html_() and "Digital, frequent" in m.cards._repr_html_()


def test_cards_paths_and_satisfaction_come_from_the_personas_events(tiny_events, tiny_feedback):
    f = customer_features(tiny_events)
    m = find_personas(f, k=2, columns=["share_web"])  # c (all web) apart from a and b
    assert m.labels.to_dict() == {"a": 1, "b": 1, "c": 2}
    fb = pd.concat([tiny_feedback, pd.DataFrame({"customer_id": ["b"], "metric": ["csat"],
                                                 "score": [5]})])  # fmt: skip
    cards = persona_cards(m, tiny_events, fb, top_paths=2)
    one, two = cards.cards
    expected = path_variants(tiny_events[tiny_events["customer_id"].isin(["a", "b"])], top=2)
    top = expected.to_frame().head(2)
    assert [p[0] for p in one.paths] == top["variant"].tolist()
    assert [p[1] for p in one.paths] == top["journeys"].tolist()
    assert one.csat.estimate == csat([4, 2, 5]).estimate  # 2 of 3 answer 4-5
    assert one.nps.estimate == nps([9, 3]).estimate == 0.0
    assert (one.csat.ci_low, one.csat.ci_high) == (csat([4, 2, 5]).ci_low, csat([4, 2, 5]).ci_high)
    assert two.csat is None and "0 CSAT answer(s): no score" in two.notes
    assert "1 answer(s) of customers without a persona" in cards.notes[0]
    row = cards.to_frame().iloc[0]
    assert row["csat_n"] == 3 and row["nps"] == 0.0
    assert "NPS +0" in one.text() and "CSAT 67% satisfied" in one.text()


# -- archetypes: hand-made and on the synthetic templates -------------------------------------


def test_archetype_profiles_follow_the_stated_mapping():
    f = pd.DataFrame(
        {
            "digital_share": [0.6, 0.6],
            "physical_share": [0.3, 0.3],
            "assisted_share": [0.1, 0.1],
            "journeys": [2.0, 2.0],
            "conversion_rate": [0.2, 0.2],
            "value": [100.0, 100.0],
        }
    )
    archetypes = [
        Persona("on", "Online", share=0.75, traits={
            "affinity": {"digital": 2.0, "physical": 0.5, "assisted": 1.0},
            "journeys_per_customer": 3, "conversion": {"focus": 0.3, "other": 0.1},
            "value_median": 10}),
        Persona("off", "Offline", share=0.25, traits={
            "affinity": {"digital": 0.5, "physical": 2.0, "assisted": 1.0},
            "journeys_per_customer": 1, "conversion": 0.4, "value_median": 40}),
    ]  # fmt: skip
    p = archetype_profiles(archetypes, f)
    # mean affinities (weights 3/4, 1/4): digital 1.625, physical 0.875, assisted 1
    on = np.array([0.6 * 2 / 1.625, 0.3 * 0.5 / 0.875, 0.1])
    np.testing.assert_allclose(
        p.loc["on", ["digital_share", "physical_share", "assisted_share"]], on / on.sum()
    )
    # journeys: weighted mean trait 2.5 -> 2 * 3 / 2.5; conversion: 0.2 and 0.4, mean 0.25
    assert p.loc["on", "journeys"] == pytest.approx(2.4)
    assert p.loc["off", "conversion_rate"] == pytest.approx(0.2 * 0.4 / 0.25)
    # value: 3 * 0.2 * 10 = 6 and 1 * 0.4 * 40 = 16, weighted mean 8.5
    assert p.loc["off", "value"] == pytest.approx(100 * 16 / 8.5)


def _truth_check(template: str):
    import importlib

    gen = importlib.import_module(f"cjm_{template}.generator")
    d = gen.generate(customers=2000, seed=7)
    ev, cu = d.tables["events"], d.tables["customers"]
    f = customer_features(ev, catalog=gen.catalog())
    m = find_personas(f, seed=0)
    truth = cu.set_index("customer_id")["persona"].reindex(f.index)
    match = match_archetypes(m, gen.catalog())
    return m, truth, match


@pytest.fixture(scope="module")
def banking():
    return _truth_check("banking")


@pytest.fixture(scope="module")
def retail():
    return _truth_check("retail")


@pytest.mark.parametrize("template, floor", [("banking", 0.03), ("retail", 0.015)])
def test_clusters_recover_the_true_personas_better_than_chance(template, floor, request):
    m, truth, _ = request.getfixturevalue(template)
    ari = adjusted_rand_score(truth, m.labels)
    rng = np.random.default_rng(0)
    chance = [adjusted_rand_score(rng.permutation(truth.to_numpy()), m.labels) for _ in range(20)]
    # measured (2000 customers, seed 7): banking 0.057 (k=3), retail 0.024 (k=4);
    # label permutations stay below 0.005
    assert max(chance) < 0.005
    assert ari > floor
    assert m.info["stability_ari"] > 0.95


@pytest.mark.parametrize("template", ["banking", "retail"])
def test_archetype_matching_agrees_with_the_majority_true_persona(template, request):
    """Measured: for each persona the archetype it is matched to equals the most frequent
    true persona among its customers in 2 of 3 (banking) and 3 of 4 (retail) personas."""
    m, truth, match = request.getfixturevalue(template)
    majority = pd.crosstab(m.labels, truth).idxmax(axis=1)
    mapping = match.mapping()
    agree = [mapping[p] == majority[p] for p in mapping]
    assert sum(agree) > len(agree) / 2
    assert agree[0]  # the largest persona
    assert len(set(mapping.values())) == len(mapping)  # one to one


def test_hungarian_assignment_has_the_least_total_distance(banking):
    _, _, match = banking
    d = match.distances.to_numpy()
    best = min(
        sum(d[i, j] for i, j in enumerate(perm))
        for perm in itertools.permutations(range(d.shape[1]), d.shape[0])
    )
    assert match.table["distance"].sum() == pytest.approx(best)
    assert set(match.table["confidence"].str.split(":").str[0]) <= {"clear", "weak"}
    assert any("archetypes without a persona" in n for n in match.notes)


def test_more_personas_than_archetypes_leaves_some_unmatched(blobs):
    f, _ = blobs
    f = f.assign(journeys=f["frequency"] * 2)
    m = find_personas(f, k=3, columns=["digital_share", "frequency", "value"])
    arch = [Persona("x", "X", traits={"journeys_per_customer": 5}),
            Persona("y", "Y", traits={"journeys_per_customer": 1})]  # fmt: skip
    match = match_archetypes(m, arch)
    assert match.table["confidence"].str.startswith("unmatched").sum() == 1
    assert sorted(a for a in match.mapping().values() if a) == ["x", "y"]
    # the frequent blob (persona 1, journeys ~6) is matched to the frequent archetype
    assert match.mapping()[1] == "x"


def test_plots_return_figures(blobs):
    import matplotlib

    matplotlib.use("Agg")
    f, _ = blobs
    m = find_personas(f, k_range=range(2, 5))
    for fig in (m.plot(), m.plot("silhouette"), m.cards.plot()):
        assert fig.axes
    with pytest.raises(CjmError, match="Unknown plot kind"):
        m.plot("pie")
