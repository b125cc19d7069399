"""Every study notebook runs top to bottom in CI with the small parameters of one shared file
(tests/notebook_parameters.yaml) and records the figures it promises."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cjm_core.datasets import generate_dataset
from cjm_core.paths import notebooks_dir, workspace_root
from cjm_core.plugins import get_registry
from cjm_core.record import read_records
from cjm_core.runner import run_study

SHARED = Path(__file__).with_name("notebook_parameters.yaml")
PLAN = yaml.safe_load(SHARED.read_text(encoding="utf-8"))


def test_every_workspace_notebook_has_small_parameters():
    studies = {name for name, spec in get_registry().notebooks.items()
               if Path(spec.path).parent == notebooks_dir()}  # fmt: skip
    assert studies == set(PLAN), f"add or remove entries in {SHARED.name}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    made: dict[str, Path] = {}

    def data(template: str) -> Path:
        if template not in made:
            made[template] = tmp_path_factory.mktemp(template)
            generate_dataset(get_registry().template(template), made[template], customers=800,
                             seed=11)  # fmt: skip
        return made[template]

    return data


@pytest.mark.parametrize("study", sorted(PLAN))
def test_the_notebook_runs_and_records_its_figures(study, generated, tmp_path):
    entry = PLAN[study]
    params = dict(entry.get("parameters") or {})
    if "data" in entry:
        params.setdefault("template", entry["data"])
        params["data_dir"] = str(generated(entry["data"]))
    options = params.get("options")
    if isinstance(options, dict) and "path" in options:
        params["options"] = {**options, "path": str(workspace_root() / options["path"])}
    run = run_study(study, params, reports_dir=tmp_path, progress=False)
    assert run.manifest["status"] == "succeeded"
    records = read_records(run.notebook)
    for name, check in entry["records"].items():
        assert name in records, f"{study} does not record {name!r}"
        value = records[name]
        if check == "present":
            assert value not in (None, {}, [], "")
        elif check == "number":
            assert isinstance(value, int | float) and value == value
        elif check == "list":
            assert isinstance(value, list) and value
        elif check is True:
            assert value is True
        else:
            assert value == check
    assert run.html.is_file() and run.html.stat().st_size > 10_000
