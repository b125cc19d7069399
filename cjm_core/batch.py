"""Run one study notebook for many parameter sets: ``cjm study batch grid.yaml``.

A grid file (YAML) names the study, the parameters every run shares, and the parameter
sets to run, as explicit ``runs``, a cartesian ``grid``, or both (each run x the grid)::

    study: before_after            # a study name (`cjm study list`) or a notebook path
    parameters:                    # shared by every run (optional)
      data_dir: data/banking
      metrics: [conversion]
    runs:                          # explicit parameter sets, each with an optional name
      - {name: north, breakdown: null}
      - {name: south, alpha: 0.01}
    grid:                          # every combination of these values
      alpha: [0.05, 0.01]
      touchpoints: [[call_centre], [branch]]

Run values override the shared ``parameters``; a parameter may not be set both in a run
and in the grid. Every parameter must be one the notebook declares, and every data folder
must exist: both are checked before anything runs, naming the run and the parameter.

A run without a name is named after the parameters that vary between the runs
(``alpha=0.01,touchpoints=branch``), made safe for a folder name and unique. Its folder is
``<reports_dir>/<study>/<batch time>-<name>`` so a batch can be run again. Runs execute
one after another; a failed run is recorded (status ``failed``, its error kept) and the
batch goes on, unless ``stop_on_error`` (the remaining runs are then ``skipped``).
At the end ``<reports_dir>/index.html`` lists every run folder and
``<reports_dir>/batch-<time>.json`` records this batch.

Example::

    >>> [r.name for r in plan_batch({"study": "journey_explorer", "grid": {"top": [5, 10]}})]
    ['top=5', 'top=10']
    >>> result = run_batch("grid.yaml")      # doctest: +SKIP
    >>> result.counts                         # doctest: +SKIP
    {'succeeded': 2, 'failed': 1, 'skipped': 0}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths
from .batch_grid import GRID_KEYS, PlannedRun, plan_batch, read_grid
from .errors import StudyError
from .manifest import redact
from .record import to_jsonable
from .reports_index import headline_figures, write_index
from .results import AnalysisResult

__all__ = ["GRID_KEYS", "BatchResult", "BatchRun", "PlannedRun", "plan_batch", "read_grid",
           "run_batch"]  # fmt: skip


@dataclass(frozen=True)
class BatchRun:
    """What happened to one run: status ``succeeded``, ``failed`` or ``skipped``."""

    name: str
    status: str
    parameters: dict[str, Any]
    path: Path | None = None
    report: Path | None = None
    error: str | None = None
    headline: list[tuple[str, str]] = field(default_factory=list)


# -- running -------------------------------------------------------------------------------


class BatchResult(AnalysisResult):
    """The runs of a batch: one row per run with its status, error and headline figures.

    ``runs`` holds :class:`BatchRun` objects; ``counts`` the runs per status; ``index``
    and ``record`` the paths of ``index.html`` and ``batch-<time>.json``.
    """

    title = "Study batch"

    def __init__(self, study: str, runs: list[BatchRun], index: Path, record: Path):
        self.runs = list(runs)
        self.counts = {
            s: sum(r.status == s for r in runs) for s in ("succeeded", "failed", "skipped")
        }
        self.index, self.record = index, record
        table = pd.DataFrame(
            {
                "name": [r.name for r in runs],
                "status": [r.status for r in runs],
                "headline": ["; ".join(f"{k}: {v}" for k, v in r.headline) for r in runs],
                "error": [r.error or "" for r in runs],
                "report": [str(r.report) if r.report else "" for r in runs],
            }
        )
        notes = [f"index: {index}", f"batch record: {record}"]
        super().__init__(table, notes, study=study, runs=len(runs), **self.counts)

    @property
    def ok(self) -> bool:
        """True when every run succeeded."""
        return self.counts["succeeded"] == len(self.runs)

    def summary(self, max_rows: int = 50) -> str:
        lines = [self._heading()]
        width = max([len(r.name) for r in self.runs] + [4])
        for r in self.runs[:max_rows]:
            text = (
                r.error.splitlines()[0]
                if r.error
                else "; ".join(f"{k}: {v}" for k, v in r.headline[:3])
            )
            lines.append(f"  {r.name:<{width}}  {r.status:<9}  {text}")
        if len(self.runs) > max_rows:
            lines.append(f"  ... {len(self.runs) - max_rows} more run(s)")
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def plot(self, **kwargs: Any):
        """A bar per status: how many runs succeeded, failed, were skipped."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=kwargs.get("figsize", (5, 2.5)))
        colours = {"succeeded": "#2e7d32", "failed": "#c62828", "skipped": "#9e9e9e"}
        ax.barh(list(self.counts), list(self.counts.values()), color=list(colours.values()))
        ax.set_xlabel("runs")
        ax.set_title(self._heading(), fontsize=9)
        fig.tight_layout()
        return fig


def run_batch(
    grid: str | Path | Mapping[str, Any],
    *,
    reports_dir: str | Path | None = None,
    progress: bool = True,
    stop_on_error: bool = False,
    registry: Any = None,
) -> BatchResult:
    """Run every parameter set of ``grid`` (a YAML file or a mapping, see the module doc)
    one after another, going on past a failed run unless ``stop_on_error``; then write
    ``<reports_dir>/index.html`` and ``<reports_dir>/batch-<time>.json``.

    Example::

        >>> result = run_batch("grids/regions.yaml", progress=False)  # doctest: +SKIP
        >>> result.counts, result.index.name                          # doctest: +SKIP
        ({'succeeded': 3, 'failed': 0, 'skipped': 0}, 'index.html')
    """
    from .runner import resolve_notebook, run_study

    source = read_grid(grid)
    planned = plan_batch(source, registry=registry)
    _, study, _ = resolve_notebook(source["study"], registry)
    base = Path(reports_dir) if reports_dir is not None else paths.reports_dir()
    base.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    stamp = _free_stamp(base, study, planned, started)
    record = base / f"batch-{stamp}.json"
    payload = {
        "study": study,
        "grid": redact(to_jsonable(source)),
        "started": started.isoformat(timespec="seconds"),
        "finished": None,  # a batch that was interrupted keeps None here
        "reports_dir": str(base),
        "runs": [{"name": p.name, "status": "planned"} for p in planned],
    }
    record.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    bar = _bar(len(planned), progress)
    done: list[BatchRun] = []
    try:
        for i, plan in enumerate(planned, start=1):
            if stop_on_error and any(r.status == "failed" for r in done):
                done.append(BatchRun(plan.name, "skipped", plan.parameters))
            else:
                if bar is not None:
                    bar.set_description(f"run {i}/{len(planned)}: {plan.name}")
                done.append(_one_run(run_study, source["study"], plan, f"{stamp}-{plan.name}",
                                     base, study, registry))  # fmt: skip
            if bar is not None:
                failed = sum(r.status == "failed" for r in done)
                bar.set_postfix_str(f"ok={len(done) - failed} failed={failed}")
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    index = write_index(base)
    result = BatchResult(study, done, index, record)
    payload |= {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "index": str(index),
        "counts": result.counts,
        "runs": [_run_json(r) for r in done],
    }
    record.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return result


# -- helpers -------------------------------------------------------------------------------


def _one_run(run_study, study_ref, plan, run_name, base, study, registry) -> BatchRun:
    folder = base / study / run_name
    error = None
    try:
        run_study(study_ref, plan.parameters, run_name=run_name, reports_dir=base,
                  progress=False, registry=registry)  # fmt: skip
    except Exception as exc:  # a failed run is recorded and the batch goes on
        error = str(exc) if isinstance(exc, StudyError) else f"{type(exc).__name__}: {exc}"
    manifest = _read_manifest(folder)
    report = folder / "report.html"
    return BatchRun(
        name=plan.name,
        status="failed" if error else "succeeded",
        parameters=plan.parameters,
        path=folder if folder.is_dir() else None,
        report=report if report.is_file() else None,
        error=error,
        headline=headline_figures(manifest.get("results") or {}),
    )


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _run_json(run: BatchRun) -> dict[str, Any]:
    return {
        "name": run.name,
        "status": run.status,
        "parameters": redact(run.parameters),
        "path": str(run.path) if run.path else None,
        "report": str(run.report) if run.report else None,
        "error": run.error,
        "headline": dict(run.headline),
    }


def _free_stamp(base: Path, study: str, planned: list[PlannedRun], started: datetime) -> str:
    """The batch's time stamp, with ``-2``, ``-3`` ... when an earlier batch of the same
    second took it, so run folders and the batch record are never overwritten."""
    stamp = candidate = f"{started:%Y%m%dT%H%M%SZ}"
    i = 1
    while (base / f"batch-{candidate}.json").exists() or any(
        (base / study / f"{candidate}-{p.name}").exists() for p in planned
    ):
        i += 1
        candidate = f"{stamp}-{i}"
    return candidate


def _bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="run", desc="batch")
