"""Journey analyses render in a notebook: a table as HTML and a default chart each."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from cjm_core.datasets import generate_dataset
from cjm_core.plugins import get_registry

ANALYSES = {
    "build_journeys": "build_journeys(events)",
    "path_variants": "path_variants(events, top=5, gap=None)",
    "transitions": "transitions(events, gap=None)",
    "funnel": 'funnel(events, ["website", "online_application"], window="30D")',
    "touchpoint_kpis": "touchpoint_kpis(events, gap=None)",
    "retention": 'retention(events, period="M")',
    "drop_off": "drop_off(events, gap=None)",
    # several analyses sharing one prepared (sessionised, kept) log
    "prepared_paths": "path_variants(prepared := prepare_events(events, gap=None), top=5)",
    "prepared_journeys": "build_journeys(prepared, gap=None)",
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    data = tmp_path_factory.mktemp("bank")
    generate_dataset(get_registry().template("banking"), data, customers=300, seed=2)
    cells = [
        nbformat.v4.new_code_cell(
            "%matplotlib inline\n"
            "import pandas as pd\n"
            "from cjm_core import *\n"
            f"events = pd.read_parquet({str(data / 'events.parquet')!r})"
        )
    ]
    for name, call in ANALYSES.items():
        cells.append(nbformat.v4.new_code_cell(f"result_{name} = {call}\nresult_{name}"))
        cells.append(nbformat.v4.new_code_cell(f"result_{name}.plot()"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    return nb


def _outputs(cell) -> dict:
    merged = {}
    for out in cell.outputs:
        merged.update(out.get("data", {}))
    return merged


@pytest.mark.parametrize("index, name", list(enumerate(ANALYSES)))
def test_result_shows_a_table_and_a_chart(executed, index, name):
    table_cell = executed.cells[1 + 2 * index]
    chart_cell = executed.cells[2 + 2 * index]
    assert not [o for o in table_cell.outputs if o.output_type == "error"], name
    html = _outputs(table_cell).get("text/html", "")
    assert "<table" in html and "</table>" in html, f"{name} renders no HTML table"
    chart = _outputs(chart_cell)
    assert not [o for o in chart_cell.outputs if o.output_type == "error"], name
    assert (
        "image/png" in chart
        or "application/vnd.plotly.v1+json" in chart
        or ("text/html" in chart and "plotly" in chart["text/html"])
    ), f"{name}.plot() shows no chart: {sorted(chart)}"
