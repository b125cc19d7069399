"""The voice-of-the-customer notebook through `cjm study run`: both templates' generated data
(the planted problem found first) and the real Olist reviews when they are here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cjm_core.datasets import generate_dataset
from cjm_core.paths import workspace_root
from cjm_core.plugins import get_registry
from cjm_core.record import read_records
from cjm_core.runner import run_study


@pytest.fixture(scope="module", params=["banking", "retail"])
def voc_run(request, tmp_path_factory):
    template = request.param
    data = tmp_path_factory.mktemp(template)
    generate_dataset(get_registry().template(template), data, customers=1500, seed=11)
    reports = tmp_path_factory.mktemp("reports")
    maps = tmp_path_factory.mktemp("maps")
    params = {"data_dir": str(data), "template": template, "n_boot": 100, "map_dir": str(maps)}
    run = run_study("voice_of_customer", params, reports_dir=reports, progress=False)
    run.path.joinpath("maps.txt").write_text(str(maps))
    return template, run, read_records(run.notebook)


def test_the_journey_map_is_shown_and_saved_for_print(voc_run):
    _, run, _ = voc_run
    maps = Path(run.path.joinpath("maps.txt").read_text())
    png, svg, pdf = (maps / f"journey_map.{ext}" for ext in ("png", "svg", "pdf"))
    assert png.stat().st_size > 50_000 and pdf.read_bytes().startswith(b"%PDF")
    assert "Consideration" in svg.read_text(encoding="utf-8")  # stages stay text in the SVG
    assert "The journey map" in Path(run.html).read_text(encoding="utf-8")


def test_the_report_renders_every_section(voc_run):
    template, run, _ = voc_run
    html = Path(run.html).read_text(encoding="utf-8")
    for heading in ("Survey metrics", "Feedback linked to journeys", "Comments", "Key drivers",
                    "Personas from behaviour", "Pain points", "Conclusion"):  # fmt: skip
        assert heading in html
    assert html.count("<img") >= 6  # metric, trend, linking, topics, personas, pain points, ...
    assert "Traceback" not in html


def test_the_planted_problem_is_found_first(voc_run):
    template, _, records = voc_run
    planted = {"banking": "call_centre", "retail": "checkout"}[template]
    assert records["planted_problem"] == {"touchpoint": planted, "ranked_first": True}
    assert records["pain_points"]["top"] == planted


def test_the_recorded_figures(voc_run):
    template, _, records = voc_run
    assert records["linking"] == {"journey_id": records["survey"]["answers"]
                                  + _other_answers(records)}  # fmt: skip
    assert records["sentiment_agreement"]["polar_accuracy"] > 0.9
    assert records["sentiment_agreement"]["kappa"] > 0.6
    assert 2 <= records["personas"]["k"] <= 8 and records["personas"]["stability_ari"] > 0.8
    # the largest topic of negative comments is mostly about the planted problem's touchpoint
    top = max(records["topics"], key=lambda t: t["share"])
    planted = {"banking": "call_centre", "retail": "checkout"}[template]
    assert top["touchpoints"].startswith(planted)


def _other_answers(records) -> int:
    """Answers of the other metrics (the survey record counts only the scored metric)."""
    return records["answers_total"] - records["survey"]["answers"]


def test_the_notebook_runs_on_the_real_olist_reviews(tmp_path):
    real = Path(os.environ.get("CJM_REAL_DATA", workspace_root().parent / "shared/data/real"))
    folder = real / "olist_ecommerce_sample"
    if not folder.exists():
        pytest.skip(f"the real public data sets are not here ({real}; set CJM_REAL_DATA)")
    run = run_study("voice_of_customer", {"connector": "olist", "template": "retail",
                                          "options": {"path": str(folder)}, "metric": "rating",
                                          "driver_outcome": "retention", "n_boot": 100},
                    reports_dir=tmp_path, progress=False)  # fmt: skip
    records = read_records(run.notebook)
    assert records["survey"]["answers"] == 14_944  # every review, none dropped
    agreement = records["sentiment_agreement"]
    assert agreement["polar_accuracy"] > 0.8 and agreement["n"] > 6_000
    labels = " ".join(t["label"] for t in records["topics"])
    assert "recebi" in labels or "chegou" in labels  # "not received / did not arrive"
