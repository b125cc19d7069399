"""The grid file of ``cjm study batch``: its format (see :mod:`cjm_core.batch`, also
``cjm study batch --help``), checks and run names.

A run without a name is named after the parameters that vary between the runs
(``alpha=0.01,touchpoints=branch``), made safe for a folder name and unique.

Example::

    >>> grid = {"study": "journey_explorer", "grid": {"top": [5, 10]}}
    >>> [r.name for r in plan_batch(grid)]
    ['top=5', 'top=10']
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .errors import StudyError
from .manifest import redact
from .record import to_jsonable
from .reports_index import format_value

GRID_KEYS = ("study", "parameters", "runs", "grid")
MAX_NAME = 80


@dataclass(frozen=True)
class PlannedRun:
    """One parameter set of a batch: its name, the parameters given to the study (shared
    ones included) and those that vary between the runs."""

    name: str
    parameters: dict[str, Any]
    varying: dict[str, Any] = field(default_factory=dict)


# -- the grid file -------------------------------------------------------------------------


def read_grid(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """The grid as a dict: ``source`` is a YAML file or a mapping; its keys are checked.

    >>> read_grid({"study": "x", "grid": {"alpha": [0.1]}})["study"]
    'x'
    """
    if isinstance(source, Mapping):
        grid, where = dict(source), "The grid"
    else:
        import yaml

        path = Path(source)
        if not path.is_file():
            raise StudyError(f"Grid file {str(path)!r} does not exist.")
        try:
            grid = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise StudyError(f"Grid file {str(path)!r} is not valid YAML: {exc}") from None
        where = f"Grid file {str(path)!r}"
        if not isinstance(grid, dict):
            raise StudyError(f"{where} must hold a mapping with keys {', '.join(GRID_KEYS)}.")
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise StudyError(
            f"{where} has unknown key(s) {', '.join(map(str, unknown))}; accepted: "
            f"{', '.join(GRID_KEYS)} (notebook parameters go under 'parameters', 'runs' or 'grid')."
        )
    if not isinstance(grid.get("study"), str) or not grid["study"].strip():
        raise StudyError(
            f"{where} must name the study: `study: before_after` (or a notebook path)."
        )
    if not isinstance(grid.get("parameters") or {}, dict):
        raise StudyError(f"{where}: 'parameters' must be a mapping of name: value.")
    if "runs" not in grid and "grid" not in grid:
        raise StudyError(f"{where} has nothing to run: give 'runs:' (a list) and/or 'grid:'.")
    runs = grid.get("runs", [{}])
    if not isinstance(runs, list) or not runs or not all(isinstance(r, dict) for r in runs):
        raise StudyError(f"{where}: 'runs' must be a non-empty list of mappings name: value.")
    product = grid.get("grid", {})
    if "grid" in grid and (not isinstance(product, dict) or not product):
        raise StudyError(f"{where}: 'grid' is empty; give each parameter a list of values.")
    for name, values in product.items():
        if not isinstance(values, list) or not values:
            raise StudyError(
                f"{where}: grid parameter {name!r} must be a non-empty list of values to try "
                f"(got {values!r}); put a fixed value under 'parameters'."
            )
    return grid


def plan_batch(grid: str | Path | Mapping[str, Any], *, registry: Any = None) -> list[PlannedRun]:
    """The runs of a grid, named and checked against the notebook before anything runs.

    >>> plan = plan_batch({"study": "journey_explorer", "parameters": {"top": 5},
    ...                    "runs": [{"name": "a"}, {"funnel_steps": ["web", "app"]}]})
    >>> [(r.name, r.parameters) for r in plan]
    [('a', {'top': 5}), ('funnel_steps=web+app', {'top': 5, 'funnel_steps': ['web', 'app']})]
    """
    from .runner import list_parameters, resolve_notebook

    grid = read_grid(grid)
    path, study, _ = resolve_notebook(grid["study"], registry)
    declared = list_parameters(path)
    shared = dict(grid.get("parameters") or {})
    product = grid.get("grid", {})
    combos = [
        dict(zip(product, values, strict=True)) for values in itertools.product(*product.values())
    ]
    entries = []  # (label for messages, given name, run's own values)
    for i, run in enumerate(grid.get("runs", [{}]), start=1):
        run = dict(run)
        given = run.pop("name", None)
        label = f"run {given!r}" if given else f"run {i}"
        both = sorted(set(run) & set(product))
        if both:
            raise StudyError(
                f"In the grid file, {label} sets {', '.join(both)}, which the grid varies too; "
                "set it in one place."
            )
        for combo in combos:
            entries.append((label, given, run | combo))
    _check_names(shared, "'parameters'", declared, study)
    for label, _, values in entries:
        _check_names(values, label, declared, study)
    varying = _varying_keys([values for _, _, values in entries])
    planned, taken = [], set()
    for label, given, values in entries:
        parameters = {}
        for key, value in (shared | values).items():
            try:
                parameters[key] = to_jsonable(value, key)
            except StudyError as exc:
                raise StudyError(f"In the grid file, {label}: {exc}") from None
        _check_data_dir(parameters, declared, label, registry)
        moving = {k: v for k, v in values.items() if k in varying}
        grid_part = derive_run_name({k: v for k, v in values.items() if k in product})
        if given:
            base = f"{given},{grid_part}" if grid_part else str(given)
        else:
            base = derive_run_name(moving) or derive_run_name(values) or f"run-{len(planned) + 1}"
        name = unique_name(safe_name(base), taken)
        taken.add(name)
        planned.append(PlannedRun(name, parameters, moving))
    return planned


def derive_run_name(values: Mapping[str, Any]) -> str:
    """``key=value`` pairs joined by commas, lists joined by ``+``, credentials masked.

    >>> derive_run_name({"alpha": 0.01, "touchpoints": ["call_centre", "branch"]})
    'alpha=0.01,touchpoints=call_centre+branch'
    """
    return ",".join(f"{k}={_short(v)}" for k, v in redact(dict(values)).items())


def safe_name(text: str) -> str:
    """``text`` as a plain folder name: letters, digits and ``. _ - = , +`` only, at most
    80 characters (a long name keeps a short hash of the rest).

    >>> safe_name("region=São Paulo/../x")
    'region=S_o_Paulo_.._x'
    """
    name = re.sub(r"[^A-Za-z0-9._=,+-]+", "_", str(text)).strip("._-") or "run"
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:6]
        name = f"{name[: MAX_NAME - 7].rstrip('._-')}-{digest}"
    return name


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3`` ... when it is already taken.

    >>> unique_name("a", {"a", "a-2"})
    'a-3'
    """
    candidate, i = name, 1
    while candidate in taken:
        i += 1
        candidate = f"{name}-{i}"
    return candidate


def _check_names(values: Mapping[str, Any], where: str, declared: dict, study: str) -> None:
    unknown = [k for k in values if k not in declared]
    if unknown:
        raise StudyError(
            f"In the grid file, {where} sets {', '.join(map(repr, unknown))}, which study "
            f"{study!r} does not declare. Its parameters: {', '.join(declared) or 'none'}."
        )


def _check_data_dir(params: dict, declared: dict, label: str, registry: Any) -> None:
    from .runner import template_defaults

    if "data_dir" not in declared:
        return
    given = template_defaults(dict(params), declared, registry)
    effective = {k: i["default"] for k, i in declared.items()} | given
    if effective.get("connector") or effective.get("data_dir") in (None, ""):
        return
    folder = Path(str(effective["data_dir"])).expanduser()
    if not folder.is_absolute():
        folder = paths.workspace_root() / folder
    if not folder.exists():
        raise StudyError(
            f"In the grid file, {label}: data_dir {str(folder)!r} does not exist; generate it "
            f"with `cjm generate <template> --out {folder}` or fix 'data_dir'."
        )


def _varying_keys(sets: list[dict[str, Any]]) -> set[str]:
    """Keys whose value differs between the sets (or that some sets leave unset)."""

    def signature(values: dict[str, Any], key: str) -> str:
        if key not in values:
            return "\0unset"
        return json.dumps(values[key], sort_keys=True, default=str)

    keys = {k for s in sets for k in s}
    return {k for k in keys if len({signature(s, k) for s in sets}) > 1}


def _short(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "+".join(_short(v) for v in value) or "none"
    if value is None:
        return "none"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return format_value(value) if isinstance(value, float) else str(value)
