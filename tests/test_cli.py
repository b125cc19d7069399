"""The ``cjm`` command, run as a user would (the in-repo plugins are installed by `make`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cjm_core.cli import main, parse_parameters
from cjm_core.errors import StudyError

CJM = [sys.executable, "-m", "cjm_core.cli"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CJM, *args], capture_output=True, text=True, timeout=300)


def test_parse_parameters_reads_values_as_yaml(tmp_path):
    params_file = tmp_path / "params.yaml"
    params_file.write_text("alpha: 0.01\ntemplate: retail\n")
    params = parse_parameters(["alpha=0.1", "touchpoints=[branch, atm]", "seed=3"], [params_file])
    assert params == {
        "alpha": 0.1,
        "template": "retail",
        "touchpoints": ["branch", "atm"],
        "seed": 3,
    }


@pytest.mark.parametrize("bad", ["alpha", "=3"])
def test_parse_parameters_rejects_pairs_without_key_or_equals(bad):
    with pytest.raises(StudyError, match="key=value"):
        parse_parameters([bad], [])


def test_parse_parameters_rejects_missing_file(tmp_path):
    with pytest.raises(StudyError, match="does not exist"):
        parse_parameters([], [str(tmp_path / "nope.yaml")])


def test_plugins_json_lists_banking_and_retail_with_versions():
    out = run_cli("plugins", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    by_dist = {p["distribution"]: p for p in data["plugins"]}
    assert {"cjm-banking", "cjm-retail"} <= set(by_dist)
    assert by_dist["cjm-banking"]["templates"] == ["banking"]
    assert by_dist["cjm-retail"]["templates"] == ["retail"]
    assert by_dist["cjm-banking"]["version"]
    assert "cjm_register_templates" in by_dist["cjm-banking"]["hooks"]
    builtin = [p for p in data["plugins"] if "files" in p["connectors"]]
    assert builtin and "before_after" in builtin[0]["notebooks"]
    assert data["failures"] == []


def test_plugins_table_names_every_plugin():
    out = run_cli("plugins")
    assert out.returncode == 0, out.stderr
    for word in ("cjm-banking", "cjm-retail", "banking", "retail", "files"):
        assert word in out.stdout


def test_generate_then_validate_clean_folder(tmp_path, capsys):
    out = tmp_path / "bank"
    assert (
        main(["generate", "banking", "--customers", "300", "--seed", "3", "--out", str(out)]) == 0
    )
    written = capsys.readouterr().out.split()
    assert {Path(p).name for p in written} >= {
        "events.parquet",
        "feedback.parquet",
        "customers.parquet",
        "costs.parquet",
        "truth.json",
    }
    assert main(["validate", str(out), "--template", "banking"]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_validate_prints_every_problem_and_exits_1(tmp_path, capsys):
    out = tmp_path / "bank"
    main(
        [
            "generate",
            "banking",
            "--customers",
            "200",
            "--seed",
            "1",
            "--out",
            str(out),
            "--format",
            "csv",
        ]
    )
    capsys.readouterr()
    events = pd.read_csv(out / "events.csv", dtype=str)
    events.loc[3, "touchpoint"] = "teleporter"
    events.loc[5, "timestamp"] = "not a time"
    events.to_csv(out / "events.csv", index=False)
    feedback = pd.read_csv(out / "feedback.csv", dtype=str)
    csat_row = feedback.index[feedback["metric"] == "csat"][0]
    feedback.loc[csat_row, "score"] = "9"
    feedback.to_csv(out / "feedback.csv", index=False)

    assert main(["validate", str(out), "--template", "banking"]) == 1
    text = capsys.readouterr().out
    assert "3 problem(s)" in text
    lines = {line.split(":")[0].strip(" -"): line for line in text.splitlines()[1:]}
    assert "at row 3" in lines["events.touchpoint"] and "teleporter" in lines["events.touchpoint"]
    assert "at row 5" in lines["events.timestamp"] and "not a time" in lines["events.timestamp"]
    assert f"at row {csat_row}" in lines["feedback.score"] and "1-5" in lines["feedback.score"]


def test_unknown_template_is_one_clear_error(tmp_path):
    out = run_cli("validate", str(tmp_path), "--template", "bankin")
    assert out.returncode == 2
    assert "bankin" in out.stderr and "banking" in out.stderr
    assert "Traceback" not in out.stderr


def test_connectors_lists_each_connector_with_its_options(capsys):
    from cjm_core.plugins import get_registry

    assert main(["connectors"]) == 0
    out = capsys.readouterr().out
    registry = get_registry()
    for name, connector in registry.connectors.items():
        assert f"{name} (plugin {registry.plugin_of('connector', name)})" in out
        for option in connector.options:
            assert f"    {option}: " in out
    assert main(["connectors", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert set(listed) == set(registry.connectors)
    assert listed["files"]["plugin"] == "cjm_core.builtin"
    assert "mapping" in listed["files"]["options"]
