"""The HTML report of a study run: outputs only, a table of contents, parameters and manifest.

nbconvert renders the executed notebook with its inputs and prompts hidden and its images
embedded. This module then makes the page self-contained (the template's MathJax and
require.js, and Mermaid when a diagram appears, come from a CDN: the reports use none, so those
scripts are removed and the page
opens from disk without a network) and puts a header in front of the outputs: the study's
title, a table of contents built from the notebook's headings, the run's parameters and the
manifest's essentials (status, times, data fingerprint, git commit, versions). Every value is
HTML-escaped: parameters and errors are text from users and data.

Example::

    >>> page = '<html><body><main><h2 id="A-b">A b<a class="anchor-link">¶</a></h2>'
    >>> out = add_header(page, "Study <1>", {"status": "succeeded", "parameters": {"a": 1}})
    >>> "Study &lt;1&gt;" in out and 'href="#A-b"' in out
    True
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I)
#: the template's Mermaid loader imports its library from a CDN (the reports draw none)
_MERMAID = re.compile(
    r"<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*</script>", re.S
)
_HEADING = re.compile(r"<h([12]) id=\"([^\"]+)\"[^>]*>(.*?)(?:<a class=\"anchor-link\"|</h\1>)",
                      re.S)  # fmt: skip
_TAG = re.compile(r"<[^>]+>")

STYLE = """
<style>
.cjm-header{font-family:system-ui,sans-serif;max-width:1100px;margin:16px auto;padding:12px 20px;
 border:1px solid #ddd;border-radius:6px;background:#fafafa}
.cjm-header h1{font-size:1.5em;margin:.2em 0}
.cjm-header table{border-collapse:collapse;font-size:.85em;margin:.4em 0}
.cjm-header td,.cjm-header th{border:1px solid #ddd;padding:2px 8px;text-align:left;
 vertical-align:top}
.cjm-status-succeeded{color:#2a7a2a;font-weight:bold}
.cjm-status-failed{color:#b00020;font-weight:bold}
.cjm-toc{columns:2;font-size:.9em}
</style>
"""


def export_report(notebook: Path, out: Path, title: str, manifest: dict[str, Any]) -> None:
    """Write the report of ``notebook`` (executed) to ``out``."""
    import nbformat
    from nbconvert import HTMLExporter

    from .record import is_record

    exporter = HTMLExporter(
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:  # records are data for results.json, not part of the report
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if not is_record(o)]
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    out.write_text(add_header(self_contained(body), title, manifest), encoding="utf-8")


def self_contained(page: str) -> str:
    """``page`` without scripts loaded from the network (MathJax, require.js, Mermaid)."""
    return _MERMAID.sub("", _EXTERNAL_SCRIPT.sub("", page))


def add_header(page: str, title: str, manifest: dict[str, Any]) -> str:
    """Insert the title, table of contents, parameters and manifest after ``<body>``."""
    headings = [(level, anchor, _TAG.sub("", text).strip())
                for level, anchor, text in _HEADING.findall(page)]  # fmt: skip
    toc = "".join(
        f'<li style="margin-left:{(int(level) - 1) * 1.2}em">'
        f'<a href="#{html.escape(anchor, quote=True)}">{html.escape(html.unescape(text))}</a></li>'
        for level, anchor, text in headings
    )
    status = str(manifest.get("status", ""))
    rows = [
        ("status", f'<span class="cjm-status-{html.escape(status)}">{html.escape(status)}</span>')
    ]
    for key in ("study", "run", "started", "finished", "seed", "git"):
        if manifest.get(key) not in (None, ""):
            rows.append((key, html.escape(_text(manifest[key]))))
    if manifest.get("error"):
        error = manifest["error"]
        rows.append(("error", html.escape(f"{error.get('ename', '')}: {error.get('evalue', '')}")))
    if manifest.get("data"):
        rows.append(("data", html.escape(_text(manifest["data"]))))
    versions = manifest.get("versions", {}).get("packages", {})
    if versions:
        rows.append(("versions", html.escape(", ".join(f"{k} {v}" for k, v in
                                                       sorted(versions.items())))))  # fmt: skip
    params = manifest.get("parameters", {})
    header = (
        f'{STYLE}<div class="cjm-header"><h1>{html.escape(title)}</h1>'
        + (f'<p><strong>Contents</strong></p><ul class="cjm-toc">{toc}</ul>' if toc else "")
        + "<p><strong>Parameters</strong></p><table>"
        + "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_text(v))}</td></tr>"
            for k, v in params.items()
        )  # fmt: skip
        + "</table><p><strong>Run</strong></p><table>"
        + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        + "</table></div>"
    )
    match = re.search(r"<body[^>]*>", page)
    if match is None:
        return header + page
    return page[: match.end()] + header + page[match.end() :]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)
