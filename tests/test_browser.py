"""A study report checked as a person would see it: headless Chromium (Debian's package,
installed by ``scripts/browser_check.py`` when missing) opens the HTML from disk, shows its
figures and tables with no script errors, keeps a scripted comment as text, and leaves a
screenshot. Without a browser the test skips with the reason, except under CI (``CI`` set),
where it fails."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from cjm_core.datasets import generate_dataset
from cjm_core.plugins import get_registry
from cjm_core.runner import run_study

from .scripts import load_script

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "<script>alert('x')</script>"


def _browser_script():
    return load_script("browser_check")


@pytest.fixture(scope="module")
def browser():
    module = _browser_script()
    try:
        module.ensure_chromium()
    except module.BrowserUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI: {exc}")
        pytest.skip(f"no browser: {exc}")
    return module


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("banking")
    generate_dataset(get_registry().template("banking"), data, customers=800, seed=5)
    path = data / "feedback.parquet"
    feedback = pd.read_parquet(path)
    hold = feedback["comment"].fillna("").str.contains("hold")
    feedback.loc[hold, "comment"] = SCRIPT + " " + feedback.loc[hold, "comment"]
    feedback.to_parquet(path)
    reports = tmp_path_factory.mktemp("reports")
    run = run_study("voice_of_customer", {"data_dir": str(data), "n_boot": 50},
                    reports_dir=reports, progress=False)  # fmt: skip
    return run.html


def test_the_report_shows_figures_and_tables_without_script_errors(browser, report):
    shot = report.parent / "screenshot.png"
    seen = browser.view(report, shot)
    assert seen.errors == [], seen.console
    assert seen.dom.count("<img") >= 8
    assert seen.dom.count('src="data:image/png;base64,') == seen.dom.count("<img")  # embedded
    assert seen.dom.count("<table") >= 8
    for heading in ("Survey metrics", "Pain points", "The journey map", "Conclusion"):
        assert heading in seen.dom
    assert 'class="cjm-header"' in seen.dom and "Contents" in seen.dom
    # the scripted comment is text on the page, not a script that ran
    assert "alert(" not in "".join(seen.console)
    assert "&lt;script&gt;alert(" in seen.dom
    assert seen.screenshot == shot and shot.stat().st_size > 50_000


def test_the_screenshot_is_the_page_not_a_blank(browser, report):
    from PIL import Image

    shot = report.parent / "screenshot-2.png"
    browser.view(report, shot, width=1000, height=1400)
    image = Image.open(shot).convert("L")
    assert image.size == (1000, 1400)
    dark = sum(image.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 5_000  # text and figures drawn, not an empty white page


def test_the_paths_sankey_is_interactive_in_the_report_offline(browser, tmp_path):
    options = {"path": str(ROOT / "plugins/cjm_banking/tests/fixtures/bpi_2012_sample.csv")}
    run = run_study("journey_explorer", {"connector": "bpi_challenge_2012", "options": options},
                    reports_dir=tmp_path, progress=False)  # fmt: skip
    seen = browser.view(run.html)
    assert seen.errors == [], seen.console
    assert 'class="sankey"' in seen.dom and seen.dom.count('class="sankey-link"') >= 2
    page = run.html.read_text(encoding="utf-8")
    assert re.search(r"<script[^>]*src=\"https?://", page) is None  # plotly.js is inline
