"""The set-up files agree with each other: pyproject, environment.yml, constraints, Makefile."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _env_pip() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    sections = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml needs exactly one pip section"
    return sections[0]["pip"]


def _plugin_dirs() -> list[str]:
    return sorted(
        str(p.parent.relative_to(ROOT)) for p in (ROOT / "plugins").glob("*/pyproject.toml")
    )


def test_environment_yml_pins_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def test_environment_yml_has_every_pyproject_requirement_with_same_specifier():
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    wanted = project["dependencies"] + extras["dev"] + extras["spark"]
    pip = [r for r in _env_pip() if not r.startswith("-e")]
    assert sorted(pip) == sorted(wanted), (
        "environment.yml pip section differs from pyproject.toml dependencies + dev: "
        f"only in environment.yml: {sorted(set(pip) - set(wanted))}; "
        f"only in pyproject: {sorted(set(wanted) - set(pip))}"
    )


def test_environment_yml_installs_core_and_every_plugin_editable():
    editable = sorted(r.split(None, 1)[1] for r in _env_pip() if r.startswith("-e"))
    assert editable == sorted([".", *_plugin_dirs()])
    assert {"plugins/cjm_banking", "plugins/cjm_retail"} <= set(_plugin_dirs())


def test_constraints_pin_every_direct_requirement():
    pins = {}
    for line in (ROOT / "requirements/constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    for req in project["dependencies"] + extras["dev"] + extras["spark"]:
        assert _name(req) in pins, f"{req} is not pinned in requirements/constraints.txt"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_generated_files_are_git_ignored():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    for entry in (".venv/", "reports/*", "data/*"):
        assert entry in ignored
