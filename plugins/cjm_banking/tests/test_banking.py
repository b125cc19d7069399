"""The banking template: entry point, catalog, template, and its synthetic data."""

from __future__ import annotations

import hashlib
from importlib.metadata import entry_points
from types import SimpleNamespace

import cjm_banking
import pandas as pd
import pytest
from cjm_banking.generator import CSAT_AFTER, CSAT_BEFORE, catalog, generate
from cjm_banking.plugin import banking_template

from cjm_core.plugins import build_registry, make_plugin_manager, registry_with
from cjm_core.synth_checks import describe_synthetic

DATE = "2024-04-01"


def test_entry_point_is_found_and_its_hooks_validate():
    found = [ep for ep in entry_points(group="cjm") if ep.name == "banking"]
    assert [(ep.value, ep.dist.name) for ep in found] == [("cjm_banking.plugin", "cjm-banking")]
    registry = build_registry(make_plugin_manager(builtins=False, disabled=""), warn=False)
    info = next(p for p in registry.plugins if p.name == "banking")
    assert (info.distribution, info.version) == ("cjm-banking", cjm_banking.__version__)
    assert info.hooks == ("cjm_register_templates", "cjm_register_connectors")
    assert info.templates == ("banking",)
    assert info.connectors == ("bpi_challenge_2012", "bank_call_centre", "bank_marketing")
    assert [f for f in registry.failures if f.plugin == "banking"] == []
    # the module alone, through a fresh manager, validates too
    inline = registry_with(cjm_banking.plugin, builtins=False, warn=False)
    assert inline.failures == [] and list(inline.templates) == ["banking"]


def test_catalog_covers_digital_physical_and_assisted_touchpoints():
    cat = catalog()
    kinds = {t.id: t.kind for t in cat.touchpoints}
    for tp in ("website", "mobile_app", "call_centre", "branch", "atm", "email", "social_ads"):
        assert tp in kinds
    assert kinds["call_centre"] == "assisted" and kinds["atm"] == "physical"
    assert {"digital", "physical", "assisted"} == set(kinds.values())
    assert cat.stage_ids == ["awareness", "consideration", "application", "onboarding",
                             "servicing"]  # fmt: skip
    assert 4 <= len(cat.personas) <= 5
    assert sum(p.share for p in cat.personas) == pytest.approx(1.0)


def test_template_kpis_funnels_and_study_defaults():
    t = banking_template()
    metrics = ["conversion", "csat", "wait_time", "revenue_per_customer"]
    assert t.study_defaults == {"touchpoints": ["call_centre"], "metrics": metrics,
                                "intervention_date": DATE, "alpha": 0.05,
                                "cost": 50000.0}  # fmt: skip
    kpis = {k.id for k in t.kpis}
    assert {"conversion_rate", "csat_call_centre", "avg_wait_call_centre", "nps",
            "repeat_contact_rate"} <= kpis  # fmt: skip
    assert ("website", "online_application") in [f.steps for f in t.funnels]
    assert t.generate is generate


@pytest.fixture(scope="module")
def data():
    return generate(customers=20_000, seed=2024)


def test_truth_states_the_planted_effects(data):
    truth = data.truth
    assert truth["template"] == "banking" and truth["seed"] == 2024
    assert truth["intervention"]["touchpoint"] == "call_centre"
    assert truth["intervention"]["date"] == DATE
    eff = truth["effects"]
    assert eff["conversion"]["difference"] == 0.08
    assert 0.15 < eff["conversion"]["before"] < 0.3
    assert eff["csat"]["before"] == 2.84 and eff["csat"]["after"] == 3.65
    assert eff["csat"]["difference"] == pytest.approx(0.81, abs=1e-12)
    assert eff["csat"]["distribution_before"] == list(CSAT_BEFORE)
    assert eff["csat"]["distribution_after"] == list(CSAT_AFTER)
    assert eff["wait_time_s"]["median_before"] == 540 and eff["wait_time_s"]["median_after"] == 120


def test_the_before_after_study_recovers_the_truth(data):
    from cjm_core.studies import before_after

    bundle = SimpleNamespace(catalog=catalog(), events=data.tables["events"],
                             feedback=data.tables["feedback"])  # fmt: skip
    result = before_after(bundle, ["call_centre"], DATE)
    for metric in ("conversion", "csat"):
        test = result.test("call_centre", metric)
        truth = data.truth["effects"][metric]["difference"]
        assert abs(test.estimate - truth) < 3 * test.std_error, (metric, test.estimate, truth)
        assert test.p_value < 1e-6
    ev = data.tables["events"]
    calls = ev[ev["touchpoint"] == "call_centre"]
    after = calls["timestamp"] >= pd.Timestamp(DATE, tz="UTC")
    assert calls.loc[~after, "duration_s"].median() == pytest.approx(540, rel=0.05)
    assert calls.loc[after, "duration_s"].median() == pytest.approx(120, rel=0.05)


def test_data_look_like_real_journeys(data):
    s = describe_synthetic(data, catalog())
    assert 0.15 < s["conversion_share"] < 0.3
    assert 0.1 < s["survey_share"] < 0.3
    assert s["multichannel_share"] > 0.6
    assert s["median_journey_span_days"] > 0.5  # journeys span days ...
    assert s["median_customer_spread_days"] > 30  # ... and customers come back over weeks
    digital = s["digital_share_by_persona"]
    assert digital["digital_native"] - digital["branch_traditionalist"] > 0.3
    assert s["distinct_comment_share"] > 0.5
    assert s["languages"] == ["en", "es", "pt"]
    assert s["negative_rate_low_scores"] > s["negative_rate_high_scores"] + 0.5


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

    runs = [generate_dataset(banking_template(), tmp_path / d, customers=500, seed=7)
            for d in ("a", "b")]  # fmt: skip
    digests = [[hashlib.sha256(p.read_bytes()).hexdigest() for p in run] for run in runs]
    assert digests[0] == digests[1]
