"""Study reports: self-contained, with contents, parameters and manifest, and text from the
data shown as text (a comment holding a script stays inert)."""

from __future__ import annotations

import pandas as pd

from cjm_core.datasets import generate_dataset
from cjm_core.plugins import get_registry
from cjm_core.report_html import add_header, self_contained
from cjm_core.runner import run_study

SCRIPT = "<script>alert('x')</script><b>bold</b>"


def test_header_escapes_parameters_errors_and_titles():
    page = '<html><body><main><h1 id="T">T<a class="anchor-link">¶</a></h1><h2 id="A">A</h2>'
    manifest = {"status": "failed", "parameters": {"region": SCRIPT, "alpha": 0.05},
                "error": {"ename": "CjmError", "evalue": SCRIPT}, "study": "s"}  # fmt: skip
    out = add_header(page, "Title <i>", manifest)
    assert SCRIPT not in out and out.count("&lt;script&gt;alert(&#x27;x&#x27;)") == 2
    assert "Title &lt;i&gt;" in out and 'href="#T"' in out and 'href="#A"' in out
    assert 'class="cjm-status-failed"' in out
    assert out.index("cjm-header") > out.index("<body>")


def test_scripts_from_the_network_are_removed():
    page = (
        '<head><script src="https://cdn.x/require.js"></script><script>local()</script>'
        '<script type="module">import("https://cdn.x/mermaid.mjs")</script></head>'
    )
    assert self_contained(page) == "<head><script>local()</script></head>"


def test_a_voice_of_customer_report_shows_a_scripted_comment_as_text(tmp_path):
    data = tmp_path / "banking"
    generate_dataset(get_registry().template("banking"), data, customers=800, seed=5)
    path = next(data.glob("feedback.*"))
    feedback = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    hold = feedback["comment"].fillna("").str.contains("hold")
    assert hold.sum() >= 5
    feedback.loc[hold, "comment"] = SCRIPT + " " + feedback.loc[hold, "comment"]
    if path.suffix == ".parquet":
        feedback.to_parquet(path)
    else:
        feedback.to_csv(path, index=False)
    run = run_study("voice_of_customer", {"data_dir": str(data), "n_boot": 50},
                    reports_dir=tmp_path / "reports", progress=False)  # fmt: skip
    page = run.html.read_text(encoding="utf-8")
    assert "<script>alert(" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(" in page  # shown, as text (topic examples)
    assert "https://cdnjs" not in page and 'class="cjm-header"' in page
    index = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    assert "voice_of_customer" in index and run.path.name in index  # the index lists the run
