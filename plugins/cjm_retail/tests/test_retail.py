"""The retail template: entry point, catalog, template, and its synthetic data."""

from __future__ import annotations

import hashlib
from importlib.metadata import entry_points
from types import SimpleNamespace

import cjm_retail
import pandas as pd
import pytest
from cjm_retail.generator import CSAT_AFTER, CSAT_BEFORE, catalog, generate
from cjm_retail.plugin import retail_template

from cjm_core.plugins import build_registry, make_plugin_manager, registry_with
from cjm_core.synth_checks import describe_synthetic

DATE = "2024-03-18"


def test_entry_point_is_found_and_its_hooks_validate():
    found = [ep for ep in entry_points(group="cjm") if ep.name == "retail"]
    assert [(ep.value, ep.dist.name) for ep in found] == [("cjm_retail.plugin", "cjm-retail")]
    registry = build_registry(make_plugin_manager(builtins=False, disabled=""), warn=False)
    info = next(p for p in registry.plugins if p.name == "retail")
    assert (info.distribution, info.version) == ("cjm-retail", cjm_retail.__version__)
    assert info.hooks == ("cjm_register_templates", "cjm_register_connectors")
    assert info.templates == ("retail",) and info.connectors == ("olist", "online_shoppers")
    assert [f for f in registry.failures if f.plugin == "retail"] == []
    inline = registry_with(cjm_retail.plugin, builtins=False, warn=False)
    assert inline.failures == [] and list(inline.templates) == ["retail"]


def test_catalog_covers_the_retail_journey():
    cat = catalog()
    kinds = {t.id: t.kind for t in cat.touchpoints}
    for tp in ("ads", "social", "website", "app", "store", "checkout", "delivery", "returns",
               "support", "reviews"):  # fmt: skip
        assert tp in kinds
    assert kinds["store"] == "physical" and kinds["support"] == "assisted"
    assert cat.stage_ids == ["awareness", "consideration", "purchase", "delivery",
                             "post_purchase"]  # fmt: skip
    rating = cat.metric("rating")
    assert (rating.min, rating.max) == (1, 5)
    assert 4 <= len(cat.personas) <= 5
    assert sum(p.share for p in cat.personas) == pytest.approx(1.0)


def test_template_kpis_funnels_and_study_defaults():
    t = retail_template()
    metrics = ["conversion", "csat", "wait_time", "revenue_per_customer"]
    assert t.study_defaults == {"touchpoints": ["checkout"], "metrics": metrics,
                                "intervention_date": DATE, "alpha": 0.05,
                                "cost": 20000.0}  # fmt: skip
    kpis = {k.id for k in t.kpis}
    assert {"conversion_rate", "checkout_completion", "csat_checkout", "return_rate",
            "average_rating", "nps"} <= kpis  # fmt: skip
    assert ("website", "checkout") in [f.steps for f in t.funnels]
    assert t.generate is generate


@pytest.fixture(scope="module")
def data():
    return generate(customers=20_000, seed=2024)


def test_truth_states_the_planted_effects(data):
    truth = data.truth
    assert truth["template"] == "retail"
    assert truth["intervention"]["touchpoint"] == "checkout"
    assert truth["intervention"]["date"] == DATE
    eff = truth["effects"]
    assert eff["conversion"]["difference"] == 0.1
    assert 0.35 < eff["conversion"]["before"] < 0.6
    assert eff["csat"]["before"] == 3.24 and eff["csat"]["after"] == 3.81
    assert eff["csat"]["difference"] == pytest.approx(0.57, abs=1e-12)
    assert eff["csat"]["distribution_before"] == list(CSAT_BEFORE)
    assert eff["csat"]["distribution_after"] == list(CSAT_AFTER)
    assert eff["checkout_time_s"]["median_before"] == 420
    assert eff["checkout_time_s"]["median_after"] == 180


def test_the_before_after_study_recovers_the_truth(data):
    from cjm_core.studies import before_after

    bundle = SimpleNamespace(catalog=catalog(), events=data.tables["events"],
                             feedback=data.tables["feedback"])  # fmt: skip
    result = before_after(bundle, ["checkout"], DATE)
    for metric in ("conversion", "csat"):
        test = result.test("checkout", metric)
        truth = data.truth["effects"][metric]["difference"]
        assert abs(test.estimate - truth) < 3 * test.std_error, (metric, test.estimate, truth)
        assert test.p_value < 1e-6
    ev = data.tables["events"]
    checkout = ev[(ev["touchpoint"] == "checkout") & (ev["event_type"] == "interaction")]
    after = checkout["timestamp"] >= pd.Timestamp(DATE, tz="UTC")
    assert checkout.loc[~after, "duration_s"].median() == pytest.approx(420, rel=0.05)
    assert checkout.loc[after, "duration_s"].median() == pytest.approx(180, rel=0.05)


def test_data_look_like_real_journeys(data):
    s = describe_synthetic(data, catalog())
    assert 0.15 < s["conversion_share"] < 0.3
    assert 0.1 < s["survey_share"] < 0.3
    assert s["multichannel_share"] > 0.6
    assert s["median_customer_spread_days"] > 30
    digital = s["digital_share_by_persona"]
    assert digital["convenience_seeker"] - digital["store_lover"] > 0.2
    assert s["distinct_comment_share"] > 0.5
    assert s["languages"] == ["en", "es", "pt"]
    assert s["negative_rate_low_scores"] > s["negative_rate_high_scores"] + 0.5


def test_purchases_happen_at_checkout_or_store_and_reviews_carry_ratings(data):
    ev, fb = data.tables["events"], data.tables["feedback"]
    conv = ev[ev["event_type"] == "conversion"]
    assert set(conv["touchpoint"]) == {"checkout", "store"}
    assert conv["value"].between(1, 2000).all()
    # deliveries follow online purchases (or one made before the window opened)
    online = set(conv.loc[conv["touchpoint"] == "checkout", "journey_id"])
    deliveries = ev[ev["touchpoint"] == "delivery"]
    orphans = deliveries[~deliveries["journey_id"].isin(online)]
    assert len(orphans) < 0.03 * len(deliveries)
    ratings = fb[fb["metric"] == "rating"]
    assert len(ratings) > 500 and set(ratings["touchpoint"]) == {"reviews"}
    assert ratings["score"].between(1, 5).all() and ratings["score"].mean() > 3.5
    assert ratings["comment"].notna().mean() > 0.6


def test_generated_tables_validate():
    from cjm_core.schema import (
        validate_costs,
        validate_customers,
        validate_events,
        validate_feedback,
    )

    small = generate(customers=1500, seed=1)
    cat = catalog()
    for res in (validate_events(small.tables["events"], cat),
                validate_feedback(small.tables["feedback"], cat),
                validate_customers(small.tables["customers"]),
                validate_costs(small.tables["costs"], cat)):  # fmt: skip
        assert res.problems == [] and res.n_rejected == 0


def test_same_seed_same_files(tmp_path):
    from cjm_core.datasets import generate_dataset

    runs = [generate_dataset(retail_template(), tmp_path / d, customers=500, seed=7,
                             format="csv") for d in ("a", "b")]  # fmt: skip
    digests = [[hashlib.sha256(p.read_bytes()).hexdigest() for p in run] for run in runs]
    assert digests[0] == digests[1]
