"""The committed study notebooks, and the before/after study end to end through papermill."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from cjm_core.errors import StudyError
from cjm_core.paths import notebooks_dir
from cjm_core.runner import KERNEL_NAME, list_parameters, run_study

NOTEBOOKS = sorted(notebooks_dir().glob("*.ipynb"))
BEFORE_AFTER = notebooks_dir() / "before_after_study.ipynb"
STUDY_PARAMETERS = ["template", "data_dir", "intervention_date", "touchpoints", "metrics",
                    "controls", "pre", "post", "washout", "design", "breakdown", "correction",
                    "alpha", "cost", "value_per_conversion", "seed"]  # fmt: skip
STUDY_DEFAULTS = {
    "template": "banking", "data_dir": "data/banking", "intervention_date": "2024-04-01",
    "touchpoints": ["call_centre"],
    "metrics": ["conversion", "csat", "wait_time", "revenue_per_customer"],
    "controls": [], "pre": None, "post": None, "washout": None, "design": "auto",
    "breakdown": "persona", "correction": "holm", "alpha": 0.05, "cost": 50000.0,
    "value_per_conversion": None, "seed": 7,
}  # fmt: skip


# -- the committed files -------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_are_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a study notebook has code cells"
    assert all(c.outputs == [] for c in code), "strip outputs before committing"
    assert all(c.execution_count is None for c in code), "strip execution counts"
    assert "papermill" not in nb.metadata, "an executed copy was committed"
    assert nb.metadata.kernelspec.name == KERNEL_NAME


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_study_notebooks_have_one_parameters_cell_with_help(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = list_parameters(path)
    assert params and all(p["help"] for p in params.values()), "a trailing comment per value"


def test_before_after_notebook_declares_the_study_parameters():
    nb = nbformat.read(BEFORE_AFTER, as_version=4)
    assert nb.metadata.cjm["name"] == "before_after"
    assert nb.metadata.cjm["title"] == "Before/after study of a touchpoint change"
    assert nb.metadata.cjm["description"]
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    params = list_parameters(BEFORE_AFTER)
    assert list(params) == STUDY_PARAMETERS
    assert {k: v["default"] for k, v in params.items()} == STUDY_DEFAULTS


def test_python3_kernel_runs_this_environment():
    """papermill's "python3" kernel must start this venv's Python, or cjm_core is missing."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    executable = spec.argv[0]
    # jupyter_client replaces a bare "python" by the Python running papermill
    assert executable in ("python", "python3", sys.executable) or executable.startswith(
        sys.prefix
    ), f"kernel {KERNEL_NAME!r} at {spec.resource_dir} starts {executable}, not this venv"


# -- end to end ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def banking_data(tmp_path_factory) -> Path:
    from cjm_core.datasets import generate_dataset
    from cjm_core.plugins import get_registry

    out = tmp_path_factory.mktemp("banking")
    generate_dataset(get_registry().template("banking"), out, customers=800, seed=11)
    return out


@pytest.fixture(scope="module")
def study_run(banking_data, tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    run = run_study("before_after", {"data_dir": str(banking_data)}, reports_dir=reports,
                    progress=False)  # fmt: skip
    return run


def test_study_writes_the_report_folder(study_run, banking_data):
    assert study_run.path.parent.name == "before_after"
    assert study_run.notebook.name == "before_after.ipynb" and study_run.notebook.is_file()
    html = study_run.html.read_text()
    text = re.sub(r"<[^>]+>", "", html)  # code is highlighted token by token
    assert "load_bundle(" not in text and "record(" not in text  # inputs hidden
    assert "Before/after study" in html and "<table" in html
    for section in (
        "Design and checks",
        "Results",
        "Effects with their intervals",
        "The time series",
        "By persona",
        "Return on investment",
        "Conclusion",
    ):
        assert section in html, section  # fmt: skip
    assert html.count("data:image/png;base64,") >= 2  # forest plot and time series, embedded
    assert "Planted effects detected" in html and "covered" in html


def test_manifest_holds_what_reproduces_the_run(study_run, banking_data):
    manifest = json.loads((study_run.path / "manifest.json").read_text())
    assert manifest["study"] == "before_after" and manifest["status"] == "succeeded"
    assert manifest["parameters"]["data_dir"] == str(banking_data)
    assert manifest["parameters"]["intervention_date"] == "2024-04-01"  # default recorded
    assert manifest["seed"] == 7
    files = {f["path"] for f in manifest["data"]["files"]}
    assert files >= {"events.parquet", "feedback.parquet", "customers.parquet", "truth.json"}
    assert len(manifest["data"]["sha256"]) == 64
    packages = manifest["versions"]["packages"]
    assert packages["cjm-core"] and packages["papermill"] and packages["cjm-banking"]
    assert any(p["distribution"] == "cjm-banking" for p in manifest["versions"]["plugins"])
    assert "git" in manifest  # None outside a git checkout
    assert manifest["results"] == study_run.results


def test_recorded_figures_equal_a_direct_computation(study_run, banking_data):
    from cjm_core.bundle import load_bundle
    from cjm_core.studies import read_truth
    from cjm_core.study_spec import BeforeAfterStudy

    results = json.loads((study_run.path / "results.json").read_text())
    spec = {k: v for k, v in STUDY_DEFAULTS.items() if k not in ("template", "data_dir")}
    spec["intervention"] = spec.pop("intervention_date")
    direct = BeforeAfterStudy.from_dict(spec).run(load_bundle(banking_data, template="banking"))
    truth = read_truth(banking_data)
    expected = direct.headline(truth)
    control = {f"control.{m}" for m in ("conversion", "csat", "wait_time")}
    assert set(results) == {*expected, "designs", "checks", "roi", "parameters", *control}
    # the planted fix shows on the control charts after the change (limits from before it)
    for name in control:
        assert results[name]["signals_after"] >= 1, name
    assert results["control.wait_time"]["first_signal"].startswith("2024-04-01")
    for key, figures in expected.items():
        got = results[key]
        assert got.keys() == figures.keys()
        for name, value in figures.items():
            if isinstance(value, float):
                assert got[name] == pytest.approx(value, rel=1e-12), (key, name)
            else:
                assert got[name] == value, (key, name)
    conversion = results["call_centre.conversion"]
    assert conversion["truth_difference"] == pytest.approx(0.08)
    assert results["designs"]["call_centre.conversion"] == conversion["design"]
    assert results["roi"][0]["cost"] == 50000.0
    assert {c["check"] for c in results["checks"]} >= {"observations", "seasonality", "novelty"}
    assert results["parameters"]["seed"] == 7


def test_a_failing_study_keeps_its_notebook(banking_data, tmp_path):
    with pytest.raises(StudyError) as info:
        run_study("before_after", {"data_dir": str(banking_data),
                                   "intervention_date": "2031-01-01"},
                  reports_dir=tmp_path, run_name="bad", progress=False)  # fmt: skip
    message = str(info.value)
    kept = tmp_path / "before_after" / "bad" / "before_after.ipynb"
    assert "StudyError" in message and "outside the data range" in message
    assert str(kept) in message and kept.is_file()
    manifest = json.loads((kept.parent / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["error"]["ename"] == "StudyError"
    assert "2031-01-01" in manifest["error"]["evalue"]
    assert (kept.parent / "report.html").is_file()
