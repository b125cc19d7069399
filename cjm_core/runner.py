"""Run a study notebook with papermill and write its report.

``run_study("before_after", {"intervention_date": "2024-04-01"})`` executes the notebook
into ``reports/<study>/<run>/`` and writes beside it:

- ``<study>.ipynb``: the executed notebook (on failure papermill marks the failing cell);
- ``report.html``: the HTML report, inputs hidden, images embedded;
- ``results.json``: the figures the notebook recorded (:func:`cjm_core.record.record`);
- ``manifest.json``: study, parameters (credentials masked), data fingerprint, versions of
  packages and plugins, seed, git commit, start and end times, status and results.

Credentials never reach the report: sensitive parameters are masked in the manifest and
scrubbed from the executed notebook (papermill's injected cell and metadata included)
before the HTML is written.

Example::

    >>> run = run_study("before_after", {"data_dir": "data/banking"})  # doctest: +SKIP
    >>> run.html                                                        # doctest: +SKIP
    PosixPath('.../reports/before_after/20261122T153000Z-3f9a2c/report.html')
"""

from __future__ import annotations

import ast
import hashlib
import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import paths
from .errors import StudyError
from .manifest import build_manifest, mask_secrets, redact, secret_values
from .record import read_records, to_jsonable
from .report_html import export_report
from .reports_index import write_index

KERNEL_NAME = "python3"


@dataclass(frozen=True)
class StudyRun:
    """A finished run: its folder, executed notebook, HTML report, manifest and results."""

    path: Path
    notebook: Path
    html: Path
    manifest: dict[str, Any] = field(repr=False)
    results: dict[str, Any] = field(repr=False)

    @property
    def status(self) -> str:
        return self.manifest.get("status", "unknown")


def list_parameters(notebook_path: str | Path) -> dict[str, dict[str, Any]]:
    """The parameters of a notebook's ``parameters`` cell: name -> default, type, help.

    ``default`` is the literal value (the source text when it is not a literal); ``help``
    is the trailing comment.

    Example::

        >>> list_parameters("notebooks/before_after_study.ipynb")["alpha"]  # doctest: +SKIP
        {'default': 0.05, 'type': 'float', 'help': 'significance level ...'}
    """
    from papermill import inspect_notebook

    path = Path(notebook_path)
    if not path.is_file():
        raise StudyError(f"Notebook {str(path)!r} does not exist.")
    out = {}
    for name, info in inspect_notebook(str(path)).items():
        default = _literal(info.get("default"))
        declared = info.get("inferred_type_name")  # from a type annotation, if any
        out[name] = {
            "default": default,
            "type": declared if declared not in (None, "None") else type(default).__name__,
            "help": info.get("help") or "",
        }
    return out


def resolve_notebook(name_or_path: str | Path, registry: Any = None) -> tuple[Path, str, str]:
    """``(path, study name, title)`` of a study given by registry name or notebook path."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".ipynb") or "/" in text:
        path = Path(text)
        if not path.is_absolute() and not path.exists():
            path = paths.workspace_root() / path
        if not path.is_file():
            raise StudyError(f"Notebook {text!r} does not exist.")
        meta = _notebook_meta(path)
        name = meta.get("name") or path.stem.removesuffix("_study")
        return path.resolve(), name, meta.get("title") or name
    if registry is None:
        from .plugins import get_registry

        registry = get_registry()
    spec = registry.notebook(text)  # raises StudyError naming the known studies
    return Path(spec.path).resolve(), spec.name, spec.title


def run_study(
    name_or_path: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    run_name: str | None = None,
    reports_dir: str | Path | None = None,
    progress: bool = True,
    registry: Any = None,
) -> StudyRun:
    """Execute a study notebook with papermill and write its report folder.

    ``name_or_path`` is a study name from the registry (``cjm study list``) or a notebook
    path. ``parameters`` override the notebook's ``parameters`` cell; an unknown name is an
    error listing the accepted ones. A relative ``data_dir`` is resolved against the
    workspace root and must exist. The run folder is ``<reports_dir>/<study>/<run_name>``
    (default: UTC time plus a short hash of the parameters). On a failing cell the executed
    notebook, HTML and a manifest with status ``failed`` are kept and :class:`StudyError`
    is raised naming the error and the notebook.

    Example::

        >>> run = run_study("before_after", {"alpha": 0.01}, progress=False)  # doctest: +SKIP
        >>> run.results["call_centre.csat"]["p_value"] < 0.01                # doctest: +SKIP
        True
    """
    path, study, title = resolve_notebook(name_or_path, registry)
    declared = list_parameters(path)
    given = _check_parameters(dict(parameters or {}), declared, study)
    given = template_defaults(given, declared, registry)
    effective = {name: info["default"] for name, info in declared.items()} | given
    data_dir = _resolve_data_dir(given, effective)
    run_dir = _make_run_dir(reports_dir, study, run_name, effective)
    output = run_dir / f"{study}.ipynb"
    secrets = secret_values(effective)

    started = _now()
    error: dict[str, Any] | None = None
    failure: Exception | None = None
    try:
        _execute(path, output, given, progress)
    except Exception as exc:  # every failure is reported in the manifest, then re-raised
        error = _describe(exc, secrets)
        failure = exc
    finished = _now()

    html = run_dir / "report.html"
    results: dict[str, Any] = {}
    if output.is_file():
        _scrub(output, secrets)
        results = read_records(output)
    _write_json(run_dir / "results.json", results)
    manifest = build_manifest(
        study=study,
        notebook=path,
        parameters=effective,
        data_dir=data_dir,
        registry=registry,
        title=title,
        run=run_dir.name,
        executed_notebook=str(output),
        report=str(html),
        started=started,
        finished=finished,
        status="failed" if error else "succeeded",
        error=error,
        results=results,
    )
    _write_json(run_dir / "manifest.json", manifest)
    if output.is_file():
        export_report(output, html, title, manifest)
    try:  # reports/index.html lists this run too
        write_index(run_dir.parent.parent)
    except OSError as exc:  # the run itself is done; say so and go on
        warnings.warn(f"Could not update the reports index: {exc}", stacklevel=2)
    if error:
        where = f"cell {error['cell']}" if error.get("cell") is not None else "the run"
        hint = ""
        if error["ename"] == "ModuleNotFoundError" and "cjm" in error["evalue"]:
            hint = (
                f"\nThe {KERNEL_NAME!r} kernel does not run this environment's Python; "
                "register it with `python -m ipykernel install --sys-prefix`."
            )
        raise StudyError(
            f"Study {study!r} failed in {where}: {error['ename']}: {error['evalue']}\n"
            f"The executed notebook is kept at {output}"
            + (f" (report: {html})" if html.is_file() else "")
            + hint
        ) from failure
    return StudyRun(run_dir, output, html, manifest, results)


# -- steps ---------------------------------------------------------------------------------


def _check_parameters(given: dict[str, Any], declared: dict[str, dict], study: str) -> dict:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        if not declared:
            accepted = "none: the notebook has no cell tagged 'parameters'"
        else:
            accepted = "\n" + "\n".join(
                f"  {n} = {redact({n: i['default']})[n]!r}  # {i['help']}"
                for n, i in declared.items()
            )
        raise StudyError(
            f"Unknown parameter(s) {', '.join(unknown)} for study {study!r}. Accepted: {accepted}"
        )
    try:
        return {k: to_jsonable(v, k) for k, v in given.items()}
    except StudyError as exc:
        raise StudyError(f"Parameters must be plain values: {exc}") from None


def template_defaults(
    given: dict[str, Any], declared: dict[str, dict], registry: Any = None
) -> dict[str, Any]:
    """Fill in what a chosen template implies when the user did not say otherwise.

    With ``-p template=retail`` alone, the notebook's banking defaults would not fit: the
    template's ``study_defaults`` (touchpoints, intervention_date, metrics, alpha ...) and
    ``data_dir = data/<template>`` replace the notebook defaults for every parameter the
    notebook declares and the user did not give. Without ``template`` nothing changes.

    >>> template_defaults({"alpha": 0.1}, {"alpha": {}})
    {'alpha': 0.1}
    """
    name = given.get("template")
    if not name or "template" not in declared or name == declared["template"].get("default"):
        return given
    if registry is None:
        from .plugins import get_registry

        registry = get_registry()
    implied = {"data_dir": f"data/{name}", **dict(registry.template(name).study_defaults)}
    filled = {k: v for k, v in implied.items() if k in declared and k not in given}
    return given | {k: to_jsonable(v, k) for k, v in filled.items()}


def _resolve_data_dir(given: dict[str, Any], effective: dict[str, Any]) -> Path | None:
    """Make ``data_dir`` absolute (workspace-relative) and check that it exists (not when
    the study reads through a ``connector`` instead)."""
    if effective.get("data_dir") in (None, "") or effective.get("connector"):
        return None
    data_dir = Path(str(effective["data_dir"])).expanduser()
    if not data_dir.is_absolute():
        data_dir = paths.workspace_root() / data_dir
    if not data_dir.exists():
        template = effective.get("template") or "<template>"
        raise StudyError(
            f"Data folder {str(data_dir)!r} does not exist. Generate it with "
            f"`cjm generate {template} --out {data_dir}` or pass -p data_dir=<folder>."
        )
    given["data_dir"] = effective["data_dir"] = str(data_dir)
    return data_dir


def _make_run_dir(
    reports_dir: str | Path | None, study: str, run_name: str | None, params: dict[str, Any]
) -> Path:
    base = Path(reports_dir) if reports_dir is not None else paths.reports_dir()
    base = base / study
    base.mkdir(parents=True, exist_ok=True)
    if run_name is not None:
        if "/" in run_name or run_name in ("", ".", ".."):
            raise StudyError(f"run_name {run_name!r} must be a plain folder name.")
        try:
            (base / run_name).mkdir()
        except FileExistsError:
            raise StudyError(
                f"Run folder {str(base / run_name)!r} already exists; choose another run "
                "name or delete it."
            ) from None
        return base / run_name
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    stem = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{digest[:6]}"
    for i in range(1, 1000):
        candidate = base / (stem if i == 1 else f"{stem}-{i}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise StudyError(f"Could not create a unique run folder under {str(base)!r}.")


def _execute(path: Path, output: Path, parameters: dict[str, Any], progress: bool) -> None:
    import papermill

    papermill.execute_notebook(
        str(path),
        str(output),
        parameters=parameters,
        kernel_name=KERNEL_NAME,
        progress_bar=progress,
        cwd=str(paths.workspace_root()),
    )


def _describe(exc: Exception, secrets: set[str]) -> dict[str, Any]:
    from papermill.exceptions import PapermillExecutionError

    def clean(text: str) -> str:
        return mask_secrets(text, secrets)

    if isinstance(exc, PapermillExecutionError):
        return {
            "ename": exc.ename,
            "evalue": clean(str(exc.evalue)),
            "cell": exc.exec_count,
            "cell_index": exc.cell_index,
        }
    return {"ename": type(exc).__name__, "evalue": clean(str(exc)), "cell": None}


def _scrub(notebook: Path, secrets: set[str]) -> None:
    """Mask every secret in the executed notebook: cell sources, text outputs, tracebacks
    and papermill's parameter metadata (images and notebook structure are left alone)."""
    if not secrets:
        return
    import nbformat

    def clean(text: str) -> str:
        return mask_secrets(text, secrets)

    def clean_any(value: Any) -> Any:
        if isinstance(value, str):
            return clean(value)
        if isinstance(value, list):
            return [clean_any(v) for v in value]
        if isinstance(value, dict):
            return {k: clean_any(v) for k, v in value.items()}
        return value

    nb = nbformat.read(notebook, as_version=4)
    papermill_meta = nb.metadata.get("papermill", {})
    if "parameters" in papermill_meta:
        papermill_meta["parameters"] = redact(clean_any(papermill_meta["parameters"]))
    for cell in nb.cells:
        cell.source = clean(cell.source)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = clean_any(output["text"])
            for key in ("evalue", "traceback"):
                if key in output:
                    output[key] = clean_any(output[key])
            for mime, value in output.get("data", {}).items():
                if not mime.startswith("image/") or mime == "image/svg+xml":
                    output["data"][mime] = clean_any(value)
    nbformat.write(nb, notebook)


# -- small helpers -------------------------------------------------------------------------


def _literal(source: Any) -> Any:
    if not isinstance(source, str):
        return source
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return source


def _notebook_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("cjm")
    except (OSError, ValueError) as exc:
        raise StudyError(f"Notebook {str(path)!r} is not a readable notebook: {exc}") from None
    return meta if isinstance(meta, dict) else {}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
