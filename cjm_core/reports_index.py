"""``reports/index.html``: one page listing every study run found under the reports folder.

:func:`write_index` reads the ``manifest.json`` of each run folder
(``<reports_dir>/<study>/<run>/``), not only those of the latest batch, and writes a
self-contained page (inline CSS, no script, no network): runs grouped by study, newest
first, each with a relative link to its ``report.html``, its status (a failed run shows the
first line of its error), start time, the parameters that differ from the notebook's
defaults, and its headline figures. Every text taken from a manifest is HTML-escaped.

Headline figures (:func:`headline_figures`) flatten the recorded results to at most six
``name: value`` pairs, in this order: top-level numbers; the ``estimate`` of each result
holding one (fewest dots in its name first, so overall effects come before breakdowns);
numbers one level down (``journeys.customers``); then short texts. Lists and the recorded
``parameters`` are left out. Numbers show 3 significant digits (whole numbers from 100 up).

Example::

    >>> headline_figures({"n": 1200, "conv": {"estimate": 0.031234, "p_value": 0.2}})
    [('n', '1200'), ('conv', '0.0312')]
    >>> import tempfile
    >>> write_index(tempfile.mkdtemp()).name
    'index.html'
"""

from __future__ import annotations

import html
import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import paths

MAX_HEADLINE = 6
SKIPPED_RESULTS = ("parameters",)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.meta{color:#666;font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.succeeded{color:#1b5e20;font-weight:600}.failed{color:#b71c1c;font-weight:600}
.error{color:#b71c1c;font-size:.82rem;display:block;max-width:32rem;word-break:break-word}
ul.kv{margin:0;padding-left:1rem}code{font-size:.82rem}
""".strip()


def format_value(value: Any) -> str:
    """A number rounded for reading (3 significant digits; whole from 100 up), else text.

    >>> [format_value(v) for v in (0.029960, 37507.34, 12, True, None, "ok")]
    ['0.03', '37507', '12', 'yes', '-', 'ok']
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def headline_figures(results: dict[str, Any], limit: int = MAX_HEADLINE) -> list[tuple[str, str]]:
    """At most ``limit`` ``(name, value)`` pairs summarising a run's recorded results (the
    order is in the module doc).

    >>> headline_figures({"source": {"connector": "x"}, "journeys": {"customers": 5, "rate": 0.25}})
    [('journeys.customers', '5'), ('journeys.rate', '0.25'), ('source.connector', 'x')]
    """
    ranked: list[tuple[int, int, str, Any]] = []  # (priority, dots, name, value)
    for key, value in (results or {}).items():
        if key in SKIPPED_RESULTS:
            continue
        if _is_number(value):
            ranked.append((0, 0, key, value))
        elif isinstance(value, str):
            ranked.append((3, 0, key, value))
        elif isinstance(value, dict) and "estimate" in value:
            ranked.append((1, key.count("."), key, value["estimate"]))
        elif isinstance(value, dict):
            for sub, inner in value.items():
                if _is_number(inner):
                    ranked.append((2, 0, f"{key}.{sub}", inner))
                elif isinstance(inner, str):
                    ranked.append((3, 0, f"{key}.{sub}", inner))
    ranked.sort(key=lambda item: item[:2])  # stable: recorded order within a rank
    return [(name, format_value(value)) for _, _, name, value in ranked[:limit]]


def collect_runs(reports_dir: str | Path | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Every run under ``reports_dir`` as a dict (manifest plus ``folder``), newest first,
    and the folders that were skipped, each with the reason.

    >>> import tempfile
    >>> collect_runs(tempfile.mkdtemp())
    ([], [])
    """
    base = Path(reports_dir) if reports_dir is not None else paths.reports_dir()
    runs, skipped = [], []
    for manifest in sorted(base.glob("*/*/manifest.json")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            skipped.append(
                f"{manifest.parent.relative_to(base).as_posix()}: unreadable manifest ({exc})"
            )
            continue
        data["folder"] = manifest.parent
        runs.append(data)
    runs.sort(key=lambda r: (str(r.get("started") or ""), r["folder"].name), reverse=True)
    return runs, skipped


def write_index(reports_dir: str | Path | None = None) -> Path:
    """Write ``<reports_dir>/index.html`` (default ``reports/index.html``) listing every
    run folder found there; returns its path. See the module doc for what it shows.

    >>> import tempfile
    >>> "No study runs yet" in write_index(tempfile.mkdtemp()).read_text()
    True
    """
    base = Path(reports_dir) if reports_dir is not None else paths.reports_dir()
    base.mkdir(parents=True, exist_ok=True)
    runs, skipped = collect_runs(base)
    page = render_index(runs, skipped, base)
    target = base / "index.html"
    temporary = base / f".index.html.{os.getpid()}.tmp"
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(target)  # readers never see a half-written page
    return target


def render_index(runs: list[dict[str, Any]], skipped: list[str], base: Path) -> str:
    """The index page for ``runs`` (as from :func:`collect_runs`), links relative to ``base``."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:  # newest first, so groups come in the order of their newest run
        groups.setdefault(str(run.get("study") or run["folder"].parent.name), []).append(run)
    succeeded = sum(r.get("status") == "succeeded" for r in runs)
    failed = sum(r.get("status") == "failed" for r in runs)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Study reports</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Study reports</h1>",
        f'<p class="meta">{len(runs)} run(s): {succeeded} succeeded, {failed} failed; '
        f"written {_e(now)} from the run folders under {_e(str(base))}.</p>",
    ]
    if not runs:
        parts.append("<p>No study runs yet: run <code>cjm study run NAME</code>.</p>")
    defaults_cache: dict[str, dict[str, Any] | None] = {}
    for study, group in groups.items():
        title = group[0].get("title") or study
        parts.append(
            f'<h2>{_e(title)} <span class="meta">({_e(study)}, {len(group)} run(s))</span></h2>'
        )
        parts.append(
            "<table><thead><tr><th>Run</th><th>Status</th><th>Started</th>"
            "<th>Parameters (not default)</th><th>Headline figures</th></tr></thead><tbody>"
        )
        for run in group:
            defaults = _defaults(run.get("notebook"), defaults_cache)
            parts.append(_row(run, defaults, base))
        parts.append("</tbody></table>")
    if skipped:
        items = "".join(f"<li>{_e(s)}</li>" for s in skipped)
        parts.append(f"<h2>Skipped folders ({len(skipped)})</h2><ul>{items}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- pieces --------------------------------------------------------------------------------


def _row(run: dict[str, Any], defaults: dict[str, Any] | None, base: Path) -> str:
    folder: Path = run["folder"]
    name = _e(str(run.get("run") or folder.name))
    report = folder / "report.html"
    if report.is_file():
        href = quote(report.relative_to(base).as_posix())
        name_cell = f'<a href="{_e(href)}">{name}</a>'
    else:
        name_cell = f'{name} <span class="meta">(no report)</span>'
    status = str(run.get("status") or "unknown")
    status_cell = f'<span class="{_e(status)}">{_e(status)}</span>'
    if status == "failed":
        status_cell += f'<span class="error">{_e(_error_line(run.get("error")))}</span>'
    changed = _changed_parameters(run.get("parameters") or {}, defaults)
    params_cell = _pairs([(k, _param_text(v)) for k, v in changed.items()])
    if defaults is None and changed:
        params_cell += '<span class="meta">(notebook not found: all parameters shown)</span>'
    results = run.get("results")
    if not isinstance(results, dict):
        results = _read_json(folder / "results.json")
    headline_cell = _pairs(headline_figures(results))
    return (
        f"<tr><td>{name_cell}</td><td>{status_cell}</td><td>{_e(_time(run.get('started')))}</td>"
        f"<td>{params_cell}</td><td>{headline_cell}</td></tr>"
    )


def _changed_parameters(params: dict[str, Any], defaults: dict[str, Any] | None) -> dict[str, Any]:
    if defaults is None:
        return dict(params)
    root = paths.workspace_root()
    changed = {}
    for key, value in params.items():
        if key not in defaults:
            changed[key] = value
            continue
        default = defaults[key]
        if value == default:
            continue
        if (
            key == "data_dir"
            and isinstance(default, str)
            and default
            and not Path(default).is_absolute()
        ):
            if str(value) == str(root / default):
                continue
        changed[key] = value
    return changed


def _defaults(notebook: Any, cache: dict[str, dict[str, Any] | None]) -> dict[str, Any] | None:
    key = str(notebook or "")
    if key not in cache:
        cache[key] = None
        if key and Path(key).is_file():
            try:
                from .runner import list_parameters

                cache[key] = {n: i["default"] for n, i in list_parameters(key).items()}
            except Exception:  # an unreadable notebook: show every parameter instead
                cache[key] = None
    return cache[key]


def _error_line(error: Any) -> str:
    if isinstance(error, dict):
        text = f"{error.get('ename') or 'Error'}: {error.get('evalue') or ''}"
    else:
        text = str(error or "unknown error")
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first if len(first) <= 200 else first[:197] + "..."


def _param_text(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return format_value(value) if isinstance(value, float) else str(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _pairs(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return '<span class="meta">-</span>'
    items = "".join(f"<li>{_e(k)}: <b>{_e(v)}</b></li>" for k, v in pairs)
    return f'<ul class="kv">{items}</ul>'


def _time(value: Any) -> str:
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)
