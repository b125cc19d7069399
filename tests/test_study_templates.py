"""A study follows the chosen template: `-p template=retail` alone picks retail's defaults."""

from __future__ import annotations

import json

import pytest

from cjm_core.bundle import load_bundle
from cjm_core.cli import main
from cjm_core.paths import notebooks_dir
from cjm_core.plugins import get_registry
from cjm_core.runner import list_parameters, template_defaults
from cjm_core.study_spec import BeforeAfterStudy

DECLARED = list_parameters(notebooks_dir() / "before_after_study.ipynb")


def test_another_template_brings_its_study_defaults():
    filled = template_defaults({"template": "retail"}, DECLARED)
    assert filled == {
        "template": "retail",
        "data_dir": "data/retail",
        "touchpoints": ["checkout"],
        "metrics": ["conversion", "csat", "wait_time", "revenue_per_customer"],
        "intervention_date": "2024-03-18",
        "alpha": 0.05,
        "cost": 20000.0,
    }


def test_what_the_user_gives_wins_over_template_defaults():
    given = {"template": "retail", "touchpoints": ["store"], "data_dir": "/x"}
    filled = template_defaults(given, DECLARED)
    assert filled["touchpoints"] == ["store"] and filled["data_dir"] == "/x"
    assert filled["intervention_date"] == "2024-03-18"


def test_notebook_default_template_changes_nothing():
    assert template_defaults({"template": "banking"}, DECLARED) == {"template": "banking"}
    assert template_defaults({"alpha": 0.1}, DECLARED) == {"alpha": 0.1}


def test_unknown_template_is_named():
    from cjm_core.errors import TemplateNotFoundError

    with pytest.raises(TemplateNotFoundError, match="retial"):
        template_defaults({"template": "retial"}, DECLARED)


def test_retail_study_runs_from_the_cli_with_the_template_alone(tmp_path, capsys):
    data = tmp_path / "retail"
    assert (
        main(["generate", "retail", "--customers", "800", "--seed", "5", "--out", str(data)]) == 0
    )
    reports = tmp_path / "reports"
    args = ["study", "run", "before_after", "-p", "template=retail", "-p", f"data_dir={data}"]
    assert main([*args, "--reports-dir", str(reports), "--no-progress"]) == 0
    html = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("Report: ")
    run_dir = reports / "before_after"
    (run,) = run_dir.iterdir()
    assert html == str(run / "report.html")
    results = json.loads((run / "results.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["parameters"]["touchpoints"] == ["checkout"]
    assert manifest["parameters"]["intervention_date"] == "2024-03-18"

    template = get_registry().template("retail")
    spec = {k: v for k, v in manifest["parameters"].items() if k not in ("template", "data_dir")}
    spec["intervention"] = spec.pop("intervention_date")
    direct = BeforeAfterStudy.from_dict(spec).run(load_bundle(data, template="retail"))
    assert spec["cost"] == 20000.0 and spec["metrics"][:2] == ["conversion", "csat"]
    for key, figures in direct.headline().items():
        recorded = results[key]
        assert recorded["estimate"] == pytest.approx(figures["estimate"])
        assert recorded["ci_low"] == pytest.approx(figures["ci_low"])
        assert recorded["n_after"] == figures["n_after"]
        assert recorded["design"] == figures["design"]
    truth = json.loads((data / "truth.json").read_text())
    assert truth["intervention"]["touchpoint"] == "checkout"
    assert results["checkout.conversion"]["truth_difference"] == pytest.approx(
        template.generate(customers=10, seed=5).truth["effects"]["conversion"]["difference"]
    )
