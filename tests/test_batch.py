"""`cjm study batch`: grid files, run names, a batch that goes on past a failed run, and the
reports index (escaping included). Only the end-to-end batch starts kernels (3 runs)."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
import yaml

from cjm_core import runner
from cjm_core.batch import plan_batch, read_grid, run_batch
from cjm_core.batch_grid import derive_run_name, safe_name, unique_name
from cjm_core.cli import main
from cjm_core.errors import StudyError
from cjm_core.paths import notebooks_dir
from cjm_core.reports_index import collect_runs, format_value, headline_figures, write_index

CALLS = "plugins/cjm_banking/tests/fixtures/bank_calls_sample.txt"
BPI = "plugins/cjm_banking/tests/fixtures/bpi_2012_sample.csv"
EXPLORER = "journey_explorer"


# -- end to end through the CLI: 2 runs succeed, 1 fails at run time -----------------------


@pytest.fixture(scope="module")
def cli_batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    grid = {
        "study": EXPLORER,
        "parameters": {"template": "banking", "top": 3},
        "runs": [
            {"name": "calls", "connector": "bank_call_centre", "options": {"path": CALLS}},
            {"name": "bpi", "connector": "bpi_challenge_2012", "options": {"path": BPI}},
            {"name": "broken", "connector": "bank_call_centre",
             "options": {"path": "no/such/calls.txt"}},
        ],
    }  # fmt: skip
    grid_file = root / "grid.yaml"
    grid_file.write_text(yaml.safe_dump(grid), encoding="utf-8")
    reports = root / "reports"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["study", "batch", str(grid_file), "--reports-dir", str(reports)])
    return {"code": code, "out": out.getvalue(), "err": err.getvalue(), "reports": reports}


def test_batch_goes_on_past_the_failed_run_and_exits_1(cli_batch):
    assert cli_batch["code"] == 1
    reports = cli_batch["reports"]
    [record] = list(reports.glob("batch-*.json"))
    data = json.loads(record.read_text())
    assert data["counts"] == {"succeeded": 2, "failed": 1, "skipped": 0}
    runs = {r["name"]: r for r in data["runs"]}
    assert [r["name"] for r in data["runs"]] == ["calls", "bpi", "broken"]  # grid order
    assert runs["calls"]["status"] == runs["bpi"]["status"] == "succeeded"
    assert runs["broken"]["status"] == "failed" and "no/such/calls.txt" in runs["broken"]["error"]
    # figures the explorer recorded (the same fixtures as tests/test_journey_explorer.py)
    assert runs["calls"]["headline"]["journeys.journeys"] == "8"
    assert runs["calls"]["headline"]["journeys.customers"] == "5"
    assert runs["bpi"]["headline"]["journeys.conversion_rate"] == "0.25"
    for run in data["runs"]:
        folder = Path(run["path"])
        assert folder.parent == reports / EXPLORER and folder.name.endswith("-" + run["name"])
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["status"] == run["status"] and Path(run["report"]).is_file()
    out = cli_batch["out"]
    assert re.search(r"broken\s+failed\s+Study 'journey_explorer' failed", out)
    assert re.search(
        r"calls\s+succeeded\s+journeys\.conversion_rate: 0; journeys\.customers: 5", out
    )
    assert f"Index: {reports / 'index.html'}" in out
    assert "run 3/3: broken" in cli_batch["err"]  # the overall progress bar


def test_index_lists_every_run_with_status_links_and_error(cli_batch):
    reports = cli_batch["reports"]
    page = (reports / "index.html").read_text()
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', page)
    assert len(links) == 3
    for href, name in links:
        assert (reports / href).is_file() and href.endswith(f"{name}/report.html")
    rows = {name.rsplit("-", 1)[-1]: row for row in page.split("<tr>")[2:]
            for name in re.findall(r'">([^<]+)</a>', row)}  # fmt: skip
    assert '<span class="succeeded">succeeded</span>' in rows["calls"]
    assert '<span class="failed">failed</span>' in rows["broken"]
    assert "no/such/calls.txt" in rows["broken"]
    assert "connector: <b>bank_call_centre</b>" in rows["calls"]
    assert "top: <b>3</b>" in rows["calls"]  # differs from the default 10
    assert "funnel_window" not in page  # defaults are left out
    assert "journeys.journeys: <b>8</b>" in rows["calls"]
    assert "3 run(s): 2 succeeded, 1 failed" in page
    assert "<script" not in page and "http" not in page  # no script, nothing fetched


# -- validation before anything runs -------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"study": EXPLORER, "grid": {"top": [1]}, "runz": []}, "unknown key(s) runz"),
        ({"grid": {"top": [1]}}, "must name the study"),
        ({"study": EXPLORER}, "nothing to run"),
        ({"study": EXPLORER, "grid": {}}, "'grid' is empty"),
        ({"study": EXPLORER, "grid": {"top": 5}}, "grid parameter 'top' must be a non-empty list"),
        ({"study": EXPLORER, "grid": {"top": []}}, "grid parameter 'top' must be a non-empty list"),
        ({"study": EXPLORER, "runs": []}, "'runs' must be a non-empty list"),
        ({"study": EXPLORER, "runs": [{"name": "a", "tpo": 3}]}, "run 'a' sets 'tpo', which"),
        ({"study": EXPLORER, "runs": [{"top": 1}, {"alhpa": 1}]}, "run 2 sets 'alhpa', which"),
        ({"study": EXPLORER, "parameters": {"gapp": 1}, "runs": [{}]}, "'parameters' sets 'gapp'"),
        ({"study": EXPLORER, "runs": [{"name": "x", "top": 1}], "grid": {"top": [2]}},
         "run 'x' sets top, which the grid varies too"),
        ({"study": "no_such_study", "grid": {"top": [1]}}, "no_such_study"),
    ],
)  # fmt: skip
def test_grid_errors_name_the_run_and_the_parameter(grid, message, monkeypatch):
    monkeypatch.setattr(runner, "run_study", _must_not_run)
    with pytest.raises(StudyError, match=re.escape(message)):
        run_batch(grid, progress=False)


def test_unknown_parameter_lists_what_the_notebook_declares():
    with pytest.raises(StudyError) as info:
        plan_batch({"study": EXPLORER, "runs": [{"name": "north", "region": "n"}]})
    assert "run 'north' sets 'region', which study 'journey_explorer' does not declare" in str(
        info.value
    )
    assert "connector, template, options, gap, top" in str(info.value)


def test_missing_data_folder_is_found_before_anything_runs(tmp_path):
    runs = [{"name": "ok", "data_dir": str(tmp_path)},
            {"name": "gone", "data_dir": str(tmp_path / "x")}]  # fmt: skip
    grid = {"study": "before_after", "runs": runs}
    with pytest.raises(StudyError, match=r"run 'gone': data_dir '.*/x' does not exist"):
        plan_batch(grid)


def test_grid_file_problems(tmp_path):
    with pytest.raises(StudyError, match="does not exist"):
        read_grid(tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(StudyError, match="must hold a mapping"):
        read_grid(tmp_path / "list.yaml")
    (tmp_path / "bad.yaml").write_text("study: [unclosed\n")
    with pytest.raises(StudyError, match="not valid YAML"):
        read_grid(tmp_path / "bad.yaml")


# -- run names -----------------------------------------------------------------------------


def test_names_come_from_the_varying_parameters_in_grid_order():
    product = {"gap": ["30min", None], "funnel_steps": [["web"], ["web", "branch"]]}
    grid = {"study": EXPLORER, "parameters": {"top": 5}, "grid": product}
    plan = plan_batch(grid)
    assert [r.name for r in plan] == [
        "gap=30min,funnel_steps=web",
        "gap=30min,funnel_steps=web+branch",
        "gap=none,funnel_steps=web",
        "gap=none,funnel_steps=web+branch",
    ]
    assert plan[3].parameters == {"top": 5, "gap": None, "funnel_steps": ["web", "branch"]}
    assert plan[3].varying == {"gap": None, "funnel_steps": ["web", "branch"]}


def test_runs_times_grid_and_only_varying_parameters_in_names():
    grid = {"study": EXPLORER,
            "runs": [{"name": "north", "top": 3}, {"top": 3, "gap": "1D"}, {"top": 3, "gap": "1D"}],
            "grid": {"funnel_window": ["7D", "30D"]}}  # fmt: skip
    names = [r.name for r in plan_batch(grid)]
    assert names == [
        "north,funnel_window=7D",
        "north,funnel_window=30D",
        "gap=1D,funnel_window=7D",  # top=3 is the same everywhere: left out
        "gap=1D,funnel_window=30D",
        "gap=1D,funnel_window=7D-2",  # the same set twice: made unique
        "gap=1D,funnel_window=30D-2",
    ]


def test_names_are_safe_folder_names_without_credentials():
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("a b/c\\d:e*f") == "a_b_c_d_e_f"
    assert safe_name("") == "run" and safe_name("...") == "run"
    long = safe_name("x=" + "y" * 200)
    assert len(long) == 80 and re.fullmatch(r"x=y{71}-[0-9a-f]{6}", long)
    assert safe_name("x=" + "y" * 200) == long != safe_name("x=" + "y" * 199)
    name = derive_run_name({"options": {"path": "a", "api_token": "abc123"}})
    assert "abc123" not in name and "***" in name
    assert unique_name("a", set()) == "a" and unique_name("a", {"a", "a-2"}) == "a-3"
    plan = plan_batch({"study": EXPLORER, "runs": [{"name": "n/1"}, {"name": "n/1"}]})
    assert [r.name for r in plan] == ["n_1", "n_1-2"]


# -- run_batch with a stand-in runner: stop on error, counts, the batch record ---------------


def _must_not_run(*args, **kwargs):
    raise AssertionError("a run started although the grid is invalid")


def _fake_run_study(name, parameters, *, run_name, reports_dir, progress, registry):
    folder = Path(reports_dir) / EXPLORER / run_name
    folder.mkdir(parents=True)
    failed = parameters.get("top") == 2
    error = {"ename": "ValueError", "evalue": "bad top\nsecond line"}
    manifest = {"study": EXPLORER, "title": "Explorer", "run": run_name,
                "notebook": str(notebooks_dir() / "journey_explorer.ipynb"),
                "parameters": parameters, "started": f"2024-01-0{parameters['top']}T00:00:00+00:00",
                "status": "failed" if failed else "succeeded",
                "error": error if failed else None,
                "results": {"journeys": {"journeys": parameters["top"] * 10}}}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "report.html").write_text("<html></html>")
    if failed:
        raise StudyError("Study 'journey_explorer' failed in cell 3: ValueError: bad top")


def test_stop_on_error_skips_the_rest(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "run_study", _fake_run_study)
    grid = {"study": EXPLORER, "grid": {"top": [1, 2, 3]}}
    result = run_batch(grid, reports_dir=tmp_path, stop_on_error=True)
    assert [(r.name, r.status) for r in result.runs] == [
        ("top=1", "succeeded"), ("top=2", "failed"), ("top=3", "skipped")]  # fmt: skip
    assert result.counts == {"succeeded": 1, "failed": 1, "skipped": 1} and not result.ok
    assert result.runs[0].headline == [("journeys.journeys", "10")]
    assert result.runs[1].error.endswith("ValueError: bad top")
    assert result.runs[2].path is None and not list((tmp_path / EXPLORER).glob("*top=3"))
    frame = result.to_frame()
    assert list(frame["status"]) == ["succeeded", "failed", "skipped"]
    assert frame.loc[0, "headline"] == "journeys.journeys: 10"
    assert "run 2/3: top=2" in capsys.readouterr().err
    record = json.loads(result.record.read_text())
    assert record["counts"] == result.counts and record["grid"] == grid
    assert result.index == tmp_path / "index.html"
    assert "Study batch (study=journey_explorer, runs=3, succeeded=1, failed=1" in result.summary()
    result.plot()  # a figure, no error


def test_without_stop_on_error_every_run_is_tried(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "run_study", _fake_run_study)
    result = run_batch({"study": EXPLORER, "grid": {"top": [1, 2, 3]}}, reports_dir=tmp_path,
                       progress=False)  # fmt: skip
    assert [r.status for r in result.runs] == ["succeeded", "failed", "succeeded"]
    again = run_batch({"study": EXPLORER, "grid": {"top": [1]}}, reports_dir=tmp_path,
                      progress=False)  # fmt: skip
    assert again.ok and again.record != result.record  # a second batch gets its own folders
    page = result.index.read_text()
    assert page.count("<tr><td>") == 4  # every run folder, not only the last batch's
    started = re.findall(r"<td>(2024-01-0\d) 00:00:00 UTC</td>", page)
    assert started == ["2024-01-03", "2024-01-02", "2024-01-01", "2024-01-01"]  # newest first
    assert "ValueError: bad top" in page and "second line" not in page


# -- the index: headline rule, defaults, escaping --------------------------------------------


def test_headline_figures_rule():
    results = {
        "parameters": {"alpha": 0.05},
        "answers_total": 1234,
        "m.conversion.persona_a": {"estimate": 0.5, "p_value": 0.1},
        "m.conversion": {"estimate": -0.029960317, "p_value": 0.69},
        "m.csat": {"estimate": 0.70385, "verdict": "no clear change"},
        "journeys": {"customers": 5, "median_duration_s": 37507.3385, "rows": [1, 2]},
        "label": "x",
    }
    assert headline_figures(results) == [
        ("answers_total", "1234"),
        ("m.conversion", "-0.03"),
        ("m.csat", "0.704"),
        ("m.conversion.persona_a", "0.5"),
        ("journeys.customers", "5"),
        ("journeys.median_duration_s", "37507"),
    ]
    assert headline_figures(results, limit=8)[-1] == ("label", "x")
    assert [format_value(v) for v in (1e-5, 123.5, float("nan"), False)] == [
        "1e-05", "124", "nan", "no"]  # fmt: skip


def _manifest_run(base, study, run, **fields):
    folder = base / study / run
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"study": study, "run": run, **fields}))
    return folder


def test_index_escapes_every_text_from_manifests(tmp_path):
    evil = "<script>alert(1)</script>"
    folder = _manifest_run(
        tmp_path, "demo", "r&1", title="<i>Demo</i>", status="failed",
        parameters={"region": evil, "<b>key</b>": 1},
        error={"ename": "ValueError", "evalue": f"bad {evil}"},
        results={"n": {"label": evil}}, started="2024-01-01T00:00:00+00:00",
    )  # fmt: skip
    (folder / "report.html").write_text("x")
    page = write_index(tmp_path).read_text()
    assert "<script" not in page and "<i>" not in page and "<b>key" not in page
    assert "region: <b>&lt;script&gt;alert(1)&lt;/script&gt;</b>" in page
    assert "ValueError: bad &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;i&gt;Demo&lt;/i&gt;" in page
    assert '<a href="demo/r%261/report.html">r&amp;1</a>' in page
    assert "notebook not found: all parameters shown" in page


def test_index_shows_only_changed_parameters_and_reports_unreadable_folders(tmp_path):
    notebook = notebooks_dir() / "journey_explorer.ipynb"
    defaults = {n: i["default"] for n, i in runner.list_parameters(notebook).items()}
    _manifest_run(tmp_path, EXPLORER, "a", notebook=str(notebook), status="succeeded",
                  parameters=defaults | {"top": 4, "gap": "1D"}, results={})  # fmt: skip
    broken = tmp_path / "other" / "b"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{not json")
    runs, skipped = collect_runs(tmp_path)
    assert len(runs) == 1 and skipped[0].startswith("other/b: unreadable manifest")
    page = write_index(tmp_path).read_text()
    row = page.split("<tr><td>")[1]
    assert re.findall(r"<li>(\w+): ", row) == ["gap", "top"]
    assert 'a <span class="meta">(no report)</span>' in row
    assert "Skipped folders (1)" in page and "other/b: unreadable manifest" in page


def test_the_templates_grid_runs_the_study_on_both_templates(tmp_path):
    """notebooks/templates_grid.yaml, its data folders pointed at freshly generated data."""
    import yaml

    from cjm_core.datasets import generate_dataset
    from cjm_core.paths import notebooks_dir
    from cjm_core.plugins import get_registry

    grid = yaml.safe_load((notebooks_dir() / "templates_grid.yaml").read_text())
    for run in grid["runs"]:
        folder = tmp_path / run["template"]
        generate_dataset(get_registry().template(run["template"]), folder, customers=600, seed=2)
        run["data_dir"] = str(folder)
    grid["parameters"]["n_boot"] = 30
    result = run_batch(grid, reports_dir=tmp_path / "reports", progress=False)
    assert result.counts["succeeded"] == 2 and result.counts["failed"] == 0
    index = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    for run in result.runs:
        assert Path(run.report).is_file() and "The journey map" in Path(run.report).read_text()
        assert run.name in index
