"""The personas notebook through `cjm study run` on generated banking data."""

from __future__ import annotations

from pathlib import Path

import pytest

from cjm_core.bundle import load_bundle
from cjm_core.datasets import generate_dataset
from cjm_core.plugins import get_registry
from cjm_core.record import read_records
from cjm_core.runner import run_study


@pytest.fixture(scope="module")
def personas_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("banking")
    generate_dataset(get_registry().template("banking"), data, customers=1500, seed=11)
    params = {"data_dir": str(data), "funnel_steps": ["website", "online_application"]}
    run = run_study("personas", params, reports_dir=tmp_path_factory.mktemp("reports"),
                    progress=False)  # fmt: skip
    customers = load_bundle(data, template="banking").events["customer_id"].nunique()
    return run, customers


def test_personas_are_found_described_and_matched(personas_run):
    run, customers = personas_run
    records = read_records(run.notebook)
    found = records["personas"]
    assert 2 <= found["k"] <= 8 and len(found["names"]) == found["k"]
    assert len(set(found["names"])) == found["k"]  # plain names, unique
    assert sum(found["sizes"]) == customers  # every customer with events, once
    assert found["stability_ari"] > 0.9
    matched = {r["archetype"] for r in records["archetypes"]} - {"None", "nan"}
    catalog = get_registry().template("banking").catalog
    assert matched <= {p.id for p in catalog.personas} and matched
    assert records["agreement_with_recorded_persona"] > 0.01  # better than chance (~0)
    # the planted call-centre problem is the first pain point of most personas
    firsts = list(records["top_pain_per_persona"].values())
    assert firsts.count("call_centre") >= len(firsts) / 2


def test_the_report_shows_cards_and_charts(personas_run):
    html = Path(personas_run[0].html).read_text(encoding="utf-8")
    for heading in ("Segmentation", "Persona cards", "Journeys per persona",
                    "Satisfaction and pain points per persona"):  # fmt: skip
        assert heading in html
    assert html.count("<img") >= 3
