"""The synthetic journey engine (cjm_core.synth*) and writing data sets (cjm_core.datasets).

A small self-contained world is defined here, so these tests depend on no plugin; the
industry templates are tested in their own packages (plugins/*/tests).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from cjm_core.datasets import generate_dataset, write_dataset
from cjm_core.errors import CjmError, PluginError, SimulationError
from cjm_core.extensions import SyntheticData, Template
from cjm_core.model import JourneyCatalog
from cjm_core.synth import _walk, build_world, simulate
from cjm_core.synth_checks import describe_synthetic, observed_effects
from cjm_core.synth_settings import (
    FollowUp,
    Intervention,
    PhraseBank,
    SimulationSettings,
    SurveyRule,
    expected_journeys,
    persona_behaviours,
    tilt,
)
from cjm_core.synth_text import compose_comment, sentiment_of
from cjm_core.synth_truth import scale_mean, visit_probability


def _persona(pid: str, share: float, digital: float, focus: float) -> dict:
    return {
        "id": pid, "name": pid.title(), "share": share,
        "traits": {
            "affinity": {"digital": digital, "physical": 1.0, "assisted": 2 - digital},
            "journeys_per_customer": 2.5, "conversion": {"focus": focus, "other": 0.15},
            "value_median": 100, "survey_propensity": 1.0, "satisfaction": 0.2,
            "devices": {"mobile": 0.6, "desktop": 0.4}, "age_bands": {"25-34": 1.0},
        },
    }  # fmt: skip


CATALOG = JourneyCatalog.from_dict(
    {
        "name": "toy",
        "stages": [{"id": "look", "name": "Look"}, {"id": "buy", "name": "Buy"},
                   {"id": "after", "name": "After"}],
        "channels": [{"id": "web", "name": "Web"}, {"id": "phone", "name": "Phone"},
                     {"id": "shop", "name": "Shop"}, {"id": "mail", "name": "Mail"}],
        "touchpoints": [
            {"id": "ad", "name": "Ad", "channel": "web", "stage": "look", "kind": "digital"},
            {"id": "site", "name": "Site", "channel": "web", "stage": "look", "kind": "digital"},
            {"id": "hotline", "name": "Hotline", "channel": "phone", "stage": "look",
             "kind": "assisted"},
            {"id": "shop", "name": "Shop", "channel": "shop", "stage": "buy",
             "kind": "physical"},
            {"id": "order", "name": "Order", "channel": "web", "stage": "buy",
             "kind": "digital"},
            {"id": "parcel", "name": "Parcel", "channel": "mail", "stage": "after",
             "kind": "physical"},
        ],
        "personas": [_persona("clicker", 0.6, 1.7, 0.2), _persona("caller", 0.4, 0.4, 0.35)],
    }
)  # fmt: skip

SETTINGS = SimulationSettings(
    template="toy",
    catalog=CATALOG,
    intervention=Intervention(
        touchpoint="hotline", date="2024-03-01", description="More agents",
        conversion_lift=0.15, csat_before=(0.3, 0.3, 0.2, 0.1, 0.1),
        csat_after=(0.05, 0.1, 0.2, 0.35, 0.3), duration_label="wait_time_s",
        duration_before_s=600, duration_after_s=60, csat_rate=0.5,
        extra_monthly_cost=1000,
    ),
    start_weights={"ad": 3, "site": 1, "hotline": 0.5, "shop": 0.5},
    transitions={
        "ad": {"site": 3, "end": 2},
        "site": {"site": 1, "hotline": 1, "order": 1, "shop": 0.5, "end": 2},
        "hotline": {"site": 1, "hotline": 0.3, "shop": 0.5, "end": 1.5},
        "shop": {"site": 0.3, "end": 2},
        "order": {"site": 0.5, "hotline": 0.5, "end": 2},
    },
    conversion_touchpoints={"order": 2, "shop": 1},
    follow_ups={"*": (FollowUp("parcel", 0.9, 86_400),)},
    durations={t: (60, 0.5) for t in CATALOG.touchpoint_ids},
    surveys=(SurveyRule("csat", ("shop", "order"), 0.2, (0.1, 0.1, 0.2, 0.3, 0.3)),
             SurveyRule("nps", (), 0.1, tuple([1 / 11] * 11))),
    phrases=PhraseBank(details={"hotline": {"negative": ("waited forever on the {tp}",)}}),
    regions={"north": 0.5, "south": 0.5},
    languages={"en": 0.8, "pt": 0.1, "es": 0.1},
    costs={"hotline": (5000, 2.0), "site": (1000, 0.01)},
    max_path_days=6,
)  # fmt: skip

WINDOW = {"start": "2024-01-01", "end": "2024-04-30"}


@pytest.fixture(scope="module")
def big() -> SyntheticData:
    return simulate(SETTINGS, customers=40_000, seed=3, **WINDOW)


def test_same_seed_gives_identical_tables_and_another_seed_differs():
    a = simulate(SETTINGS, customers=400, seed=5, **WINDOW)
    b = simulate(SETTINGS, customers=400, seed=5, **WINDOW)
    c = simulate(SETTINGS, customers=400, seed=6, **WINDOW)
    for name in ("events", "feedback", "customers", "costs"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert a.truth == b.truth
    assert not a.tables["events"].equals(c.tables["events"])


def test_planted_effects_are_recovered_within_sampling_error(big):
    truth = big.truth["effects"]
    seen = observed_effects(big, "hotline", "2024-03-01")
    for metric in ("conversion", "csat"):
        gap = seen[metric]["difference"] - truth[metric]["difference"]
        assert abs(gap) < 3 * seen[metric]["std_error"], (metric, seen[metric], truth[metric])
    # the "before" level is the exact pooled persona rate, not only the difference
    conv = seen["conversion"]
    se_before = np.sqrt(conv["before"] * (1 - conv["before"]) / conv["n_before"])
    assert abs(conv["before"] - truth["conversion"]["before"]) < 3 * se_before
    # a study would detect it: the effect is many standard errors away from zero
    assert seen["conversion"]["difference"] > 5 * seen["conversion"]["std_error"]


def test_the_step_is_sharp_at_the_date(big):
    """Journeys first calling in the two weeks either side of the date already show the
    full before / after rates (a delayed or gradual effect would fail here)."""
    ev = big.tables["events"]
    truth = big.truth["effects"]["conversion"]
    first = ev[ev["touchpoint"] == "hotline"].groupby("journey_id")["timestamp"].min()
    converted = first.index.isin(ev.loc[ev["event_type"] == "conversion", "journey_id"])
    date = pd.Timestamp("2024-03-01", tz="UTC")
    two_weeks = pd.Timedelta(days=14)
    for lo, hi, expected in ((date - two_weeks, date, truth["before"]),
                             (date, date + two_weeks, truth["after"])):  # fmt: skip
        rate = converted[((first >= lo) & (first < hi)).to_numpy()]
        assert len(rate) > 1000
        se = np.sqrt(expected * (1 - expected) / len(rate))
        assert abs(rate.mean() - expected) < 3 * se, (lo, rate.mean(), expected)


def test_without_a_lift_the_difference_vanishes():
    flat = dataclasses.replace(
        SETTINGS,
        intervention=dataclasses.replace(SETTINGS.intervention, conversion_lift=0.0,
                                         csat_after=SETTINGS.intervention.csat_before),
    )  # fmt: skip
    data = simulate(flat, customers=12_000, seed=3, **WINDOW)
    assert data.truth["effects"]["conversion"]["difference"] == 0.0
    assert data.truth["effects"]["csat"]["difference"] == 0.0
    seen = observed_effects(data, "hotline", "2024-03-01")
    for metric in ("conversion", "csat"):
        assert abs(seen[metric]["difference"]) < 3 * seen[metric]["std_error"]


def test_truth_values_follow_the_model_exactly(big):
    eff = big.truth["effects"]
    assert eff["csat"]["before"] == scale_mean(SETTINGS.intervention.csat_before) == 2.4
    assert eff["csat"]["after"] == 3.75
    assert eff["csat"]["difference"] == pytest.approx(1.35, abs=1e-12)
    assert eff["conversion"]["difference"] == 0.15
    by = eff["conversion"]["by_persona"]
    pooled = sum(p["weight"] * p["before"] for p in by.values())
    assert eff["conversion"]["before"] == pytest.approx(pooled, abs=1e-9)
    assert eff["conversion"]["after"] == pytest.approx(pooled + 0.15, abs=1e-9)
    assert eff["wait_time_s"] == {"touchpoint": "hotline", "median_before": 600,
                                  "median_after": 60, "definition": pytest.approx(
                                      eff["wait_time_s"]["definition"])}  # fmt: skip
    assert big.truth["intervention"]["date"] == "2024-03-01"
    assert big.truth["seed"] == 3 and big.truth["customers"] == 40_000


def test_visit_probability_matches_simulated_walks():
    behaviours = persona_behaviours(CATALOG)
    world = build_world(SETTINGS, behaviours)
    rng = np.random.default_rng(0)
    for p in range(len(behaviours)):
        paths = _walk(rng, world, np.full(40_000, p), SETTINGS.max_steps)
        share = (paths == world.focus).any(axis=1).mean()
        exact = visit_probability(world, p, SETTINGS.max_steps)
        assert abs(share - exact) < 3 * np.sqrt(exact * (1 - exact) / 40_000)


def test_expected_journeys_is_the_capped_poisson_mean():
    draws = 1 + np.minimum(np.random.default_rng(1).poisson(1.5, 400_000), 3)
    assert expected_journeys(2.5, 4) == pytest.approx(draws.mean(), abs=0.01)
    assert expected_journeys(1.0, 8) == 1.0


def test_conversions_follow_the_first_focus_visit_and_stay_in_the_window(big):
    ev = big.tables["events"]
    assert str(ev["timestamp"].dtype) == "datetime64[us, UTC]"
    assert ev["timestamp"].min() >= pd.Timestamp("2024-01-01", tz="UTC")
    assert ev["timestamp"].max() < pd.Timestamp("2024-05-01", tz="UTC")
    first = ev[ev["touchpoint"] == "hotline"].groupby("journey_id")["timestamp"].min()
    conv = ev[ev["event_type"] == "conversion"].join(first.rename("first"), on="journey_id",
                                                     how="inner")  # fmt: skip
    assert len(conv) > 500
    assert (conv["timestamp"] >= conv["first"]).all()
    assert (conv["value"] > 0).all()
    assert ev.loc[ev["event_type"] != "conversion", "value"].isna().all()
    # follow-ups come only after a conversion (cut off when it happened before the window)
    converted = set(ev.loc[ev["event_type"] == "conversion", "journey_id"])
    parcels = ev[ev["touchpoint"] == "parcel"]
    orphans = parcels[~parcels["journey_id"].isin(converted)]
    assert len(orphans) < 0.05 * len(parcels)
    assert orphans["timestamp"].max() < pd.Timestamp("2024-01-31", tz="UTC")
    # events of a journey are in time order, journey ids are unique per customer
    assert (ev.groupby("journey_id")["customer_id"].nunique() == 1).all()
    assert ev["journey_id"].str.fullmatch(r"J\d{6}").all()


def test_wait_time_medians_shift_at_the_date(big):
    ev = big.tables["events"]
    hot = ev[ev["touchpoint"] == "hotline"]
    after = hot["timestamp"] >= pd.Timestamp("2024-03-01", tz="UTC")
    assert hot.loc[~after, "duration_s"].median() == pytest.approx(600, rel=0.06)
    assert hot.loc[after, "duration_s"].median() == pytest.approx(60, rel=0.06)
    assert (ev["duration_s"] >= 0).all()


def test_realism_figures(big):
    s = describe_synthetic(big, CATALOG)
    assert 0.1 < s["conversion_share"] < 0.4
    assert s["survey_share"] < 0.4
    shares = s["digital_share_by_persona"]
    assert shares["clicker"] - shares["caller"] > 0.15
    assert s["languages"] == ["en", "es", "pt"]
    assert s["negative_rate_low_scores"] > s["negative_rate_high_scores"] + 0.4


def test_costs_are_monthly_and_include_the_intervention_cost(big):
    costs = big.tables["costs"]
    assert sorted(costs["period"].unique()) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert (costs["amount"] >= 0).all()
    hot = costs[costs["touchpoint"] == "hotline"].set_index("period")["amount"]
    ev = big.tables["events"]
    calls = ev[ev["touchpoint"] == "hotline"].groupby(ev["timestamp"].dt.strftime("%Y-%m")).size()
    base = 5000 + 2.0 * calls
    # noise is 3 %; March and April carry the extra 1000 a month
    assert (hot["2024-01"] / base["2024-01"]) == pytest.approx(1, abs=0.12)
    assert (hot["2024-04"] - 1000) / base["2024-04"] == pytest.approx(1, abs=0.12)


def test_comments_vary_and_follow_the_tone():
    rng = np.random.default_rng(4)
    bank = SETTINGS.phrases
    texts = [compose_comment(rng, "en", "negative", "hotline", "hotline", bank)
             for _ in range(300)]  # fmt: skip
    assert len(set(texts)) > 30
    assert all("positive" not in t for t in texts)
    assert any(t == t.lower() for t in texts)  # some casual, lower-case answers
    pt = compose_comment(np.random.default_rng(2), "pt", "positive", None, "loja", bank)
    assert pt and pt != pt.lower()
    assert sentiment_of("nps", np.array([0, 6, 7, 8, 9, 10]), 0, 10).tolist() == [
        "negative", "negative", "neutral", "neutral", "positive", "positive"]  # fmt: skip
    assert sentiment_of("csat", np.array([1, 2, 3, 4, 5]), 1, 5).tolist() == [
        "negative", "negative", "neutral", "positive", "positive"]  # fmt: skip


def test_tilt_moves_the_mean_up_or_down():
    base = (0.2, 0.2, 0.2, 0.2, 0.2)
    mean = lambda p: float(np.dot(np.arange(1, 6), p))  # noqa: E731
    assert mean(tilt(base, 1.0)) > 3 > mean(tilt(base, -1.0))
    assert tilt(base, 0.0) == pytest.approx(base)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"transitions": {"ad": {"nowhere": 1, "end": 1}}}, "unknown touchpoint"),
        ({"follow_ups": {"*": (FollowUp("hotline", 0.5, 60),)}}, "intervention touchpoint"),
        ({"surveys": (SurveyRule("csat", ("hotline",), 0.1, (0.2,) * 5),)}, "plants that"),
        ({"surveys": (SurveyRule("ces", ("site",), 0.1, (0.5, 0.5)),)}, "7 probabilities"),
        ({"durations": {"ad": (1, 1)}}, "durations lack"),
    ],
)
def test_inconsistent_settings_are_rejected(change, message):
    with pytest.raises(SimulationError, match=message):
        simulate(dataclasses.replace(SETTINGS, **change), customers=10, seed=1, **WINDOW)


def test_bad_arguments_and_personas_are_rejected():
    with pytest.raises(SimulationError, match="must fall inside the window"):
        simulate(SETTINGS, customers=10, intervention_date="2025-01-01", **WINDOW)
    with pytest.raises(SimulationError, match="not a date"):
        simulate(SETTINGS, customers=10, start="soon")
    with pytest.raises(SimulationError, match="positive integer"):
        simulate(SETTINGS, customers=0)
    data = CATALOG.to_dict()
    data["personas"][0]["share"] = 0.5
    del data["personas"][1]["traits"]["affinity"]
    with pytest.raises(SimulationError, match=r"caller.*affinity"):
        persona_behaviours(JourneyCatalog.from_dict(data))
    data["personas"][1] = _persona("caller", 0.4, 0.4, 0.3)
    with pytest.raises(SimulationError, match="sum to 0.9"):
        persona_behaviours(JourneyCatalog.from_dict(data))


# -- writing data sets ---------------------------------------------------------------------
def _toy_generate(customers: int, seed: int, **options) -> SyntheticData:
    return simulate(SETTINGS, customers=customers, seed=seed, **WINDOW, **options)


TOY = Template(name="toy", title="Toy", catalog=CATALOG, generate=_toy_generate)


def _digests(paths) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_writes_byte_identical_files(tmp_path, fmt):
    one = generate_dataset(TOY, tmp_path / "one", customers=300, seed=9, format=fmt)
    two = generate_dataset(TOY, tmp_path / "two", customers=300, seed=9, format=fmt)
    other = generate_dataset(TOY, tmp_path / "other", customers=300, seed=10, format=fmt)
    names = [f"{t}.{fmt}" for t in ("events", "feedback", "customers", "costs")]
    assert [p.name for p in one] == [*names, "truth.json"]
    assert _digests(one) == _digests(two)
    differ = {k for k, v in _digests(other).items() if _digests(one)[k] != v}
    assert {f"events.{fmt}", f"feedback.{fmt}", "truth.json"} <= differ


def test_parquet_round_trips_without_timestamps_in_metadata(tmp_path):
    data = simulate(SETTINGS, customers=200, seed=2, **WINDOW)
    paths = write_dataset(data, tmp_path)
    meta = pq.ParquetFile(paths[0]).metadata
    assert set(meta.metadata or {}) <= {b"ARROW:schema"}
    assert "2026" not in meta.created_by and "version" in meta.created_by
    back = pd.read_parquet(paths[0])
    assert str(back["timestamp"].dtype) == "datetime64[us, UTC]"
    assert back["timestamp"].equals(data.tables["events"]["timestamp"])
    assert pd.read_parquet(paths[1])["score"].tolist() == data.tables["feedback"]["score"].tolist()
    truth = paths[-1].read_text()
    assert truth == json.dumps(json.loads(truth), sort_keys=True, indent=2) + "\n"


def test_csv_timestamps_are_iso_8601_utc(tmp_path):
    paths = write_dataset(simulate(SETTINGS, customers=100, seed=2, **WINDOW), tmp_path,
                          format="csv")  # fmt: skip
    events = pd.read_csv(paths[0], dtype=str)
    assert events["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00").all()
    customers = pd.read_csv(paths[2], dtype=str)
    assert customers["signup_date"].str.endswith("T00:00:00+00:00").all()


def test_writing_errors_name_the_problem(tmp_path):
    with pytest.raises(PluginError, match="no synthetic data generator"):
        generate_dataset(dataclasses.replace(TOY, generate=None), tmp_path)
    with pytest.raises(CjmError, match="Unknown format 'xlsx'"):
        generate_dataset(TOY, tmp_path, format="xlsx")
    with pytest.raises(CjmError, match=r"lack table\(s\) \['costs'\]"):
        write_dataset(
            SyntheticData(
                tables={
                    "events": pd.DataFrame(),
                    "feedback": pd.DataFrame(),
                    "customers": pd.DataFrame(),
                },
                truth={},
            ),
            tmp_path,
        )


def test_generated_tables_pass_the_canonical_checks(big):
    from cjm_core.schema import (
        validate_costs,
        validate_customers,
        validate_events,
        validate_feedback,
    )

    results = [
        validate_events(big.tables["events"], CATALOG),
        validate_feedback(big.tables["feedback"], CATALOG),
        validate_customers(big.tables["customers"]),
        validate_costs(big.tables["costs"], CATALOG),
    ]
    for name, res in zip(("events", "feedback", "customers", "costs"), results, strict=True):
        assert res.problems == [], name
        assert res.n_kept == len(big.tables[name])


def test_no_customer_answers_the_same_survey_twice_in_one_second():
    # retail, 5000 customers, seed 3 once drew two checkout CSAT answers of one journey at
    # the same second with the same score: an exact duplicate row that strict loading refuses
    from cjm_retail.generator import generate

    from cjm_core.bundle import load_bundle

    data = generate(customers=5000, seed=3)
    feedback = data.tables["feedback"]
    assert not feedback.duplicated(["customer_id", "timestamp", "touchpoint", "metric"]).any()
    assert len(load_bundle(data.tables, template="retail").feedback) == len(feedback)
