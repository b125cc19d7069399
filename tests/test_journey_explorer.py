"""The journey explorer notebook on each real-data adapter (fixtures in the sources' formats)
and on a CRM export: it runs through `cjm study run` and records what it read."""

from __future__ import annotations

import json

import pytest

from cjm_core.bundle import load_bundle
from cjm_core.journeys import build_journeys
from cjm_core.paths import workspace_root
from cjm_core.plugins import get_registry
from cjm_core.runner import run_study

BANKING = "plugins/cjm_banking/tests/fixtures"
RETAIL = "plugins/cjm_retail/tests/fixtures"
CASES = [
    ("bpi_challenge_2012", "banking", {"path": f"{BANKING}/bpi_2012_sample.csv"}),
    ("bank_call_centre", "banking", {"path": f"{BANKING}/bank_calls_sample.txt"}),
    ("bank_marketing", "banking", {"path": f"{BANKING}/bank_additional_sample.csv"}),
    ("olist", "retail", {"path": f"{RETAIL}/olist"}),
    ("online_shoppers", "retail", {"path": f"{RETAIL}/online_shoppers"}),
    ("contact_centre", "banking", {"path": "tests/fixtures/connectors/contact_centre_calls.csv",
                                   "assume_timezone": "Europe/Madrid"}),
]  # fmt: skip


@pytest.mark.parametrize(("connector", "template", "options"), CASES, ids=[c[0] for c in CASES])
def test_explorer_runs_on_the_source_and_records_what_it_read(
    connector, template, options, tmp_path
):
    params = {"connector": connector, "template": template, "options": options}
    run = run_study("journey_explorer", params, reports_dir=tmp_path, progress=False)
    results = json.loads((run.path / "results.json").read_text())
    absolute = {k: str(workspace_root() / v) if k == "path" else v for k, v in options.items()}
    tables = get_registry().connector(connector).read(**absolute)
    recorded = results["source"]["tables"]
    for name, table in tables.items():
        assert recorded[name]["loaded"] == len(table)
        assert recorded[name]["rows read"] == table.attrs["rows_read"]
        assert recorded[name]["set aside"] == len(table.attrs["set_aside"])
    bundle = load_bundle(tables, template=template)
    assert results["journeys"]["journeys"] == len(build_journeys(bundle.events, gap=None))
    html = run.html.read_text()
    for section in ("What was read", "The most frequent paths", "Transitions", "Touchpoints"):
        assert section in html
    assert results["parameters"]["connector"] == connector


REAL = [
    ("bpi_challenge_2012", "banking", {}),
    ("bank_call_centre", "banking", {}),
    ("bank_marketing", "banking", {}),
    ("olist", "retail", {"path": "olist_ecommerce_sample"}),
    ("online_shoppers", "retail", {"path": "uci_online_shoppers_intention"}),
]


@pytest.mark.parametrize(("connector", "template", "options"), REAL, ids=[c[0] for c in REAL])
def test_explorer_runs_on_each_full_real_data_set(connector, template, options, tmp_path):
    import os
    from pathlib import Path

    real = Path(os.environ.get("CJM_REAL_DATA", workspace_root().parent / "shared/data/real"))
    if not real.is_dir():
        pytest.skip(f"the real public data sets are not here ({real}; set CJM_REAL_DATA)")
    options = {k: str(real / v) for k, v in options.items()}
    params = {"connector": connector, "template": template, "options": options}
    run = run_study("journey_explorer", params, reports_dir=tmp_path, progress=False)
    results = json.loads((run.path / "results.json").read_text())
    assert results["journeys"]["journeys"] > 1000  # thousands of journeys in each data set
    assert results["source"]["tables"]["events"]["loaded"] > 10_000
    assert results["top_variant"]["journeys"] > 0
