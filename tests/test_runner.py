"""The study runner on tiny notebooks, plus records, manifests and redaction."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cjm_core.errors import StudyError
from cjm_core.manifest import (
    build_manifest,
    data_fingerprint,
    git_commit,
    is_sensitive,
    package_versions,
    redact,
    secret_values,
)
from cjm_core.record import MIME_TYPE, read_records, to_jsonable
from cjm_core.runner import list_parameters, resolve_notebook, run_study

SECRET = "hunter2-xyz"
URL_PASSWORD = "s3cr3t-pw"
FAKE_REGISTRY = SimpleNamespace(
    plugins=[SimpleNamespace(name="demo", distribution="cjm-demo", version="9.9")],
    notebook=lambda name: (_ for _ in ()).throw(StudyError(f"No study {name!r}")),
)


def _write_notebook(path: Path, cells: list, name: str = "tiny") -> Path:
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "cjm": {"name": name, "title": f"{name.title()} study"},
        },
    )
    nbformat.write(nb, path)
    return path


def _parameters_cell(source: str):
    return new_code_cell(source, metadata={"tags": ["parameters"]})


TINY_PARAMETERS = (
    "x = 2  # a number to double\n"
    'data_dir = ""  # folder of data\n'
    'db_password = "changeme"  # a credential\n'
    'dsn = "postgresql://me:nothing@db:5432/x"  # a connection URL\n'
    "seed = 1  # random seed"
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One successful run of a small notebook (the kernel start is the slow part)."""
    root = tmp_path_factory.mktemp("tiny")
    notebook = _write_notebook(
        root / "tiny_study.ipynb",
        [
            new_markdown_cell("# Tiny study\nDoubles a number."),
            _parameters_cell(TINY_PARAMETERS),
            new_code_cell(
                "import numpy as np\n"
                "from cjm_core.record import record\n"
                "SOURCE_MARKER = 1\n"
                "print('connecting with', dsn, db_password)\n"
                "record('double', np.int64(x) * 2)\n"
                "record('stats', {'mean': np.float64(1.5), 'missing': float('nan')})"
            ),
            new_code_cell("import pandas as pd\npd.DataFrame({'answer': [x * 2]})"),
        ],
    )
    data = root / "data"
    data.mkdir()
    (data / "events.csv").write_text("customer_id,timestamp\nc1,2024-01-01T00:00Z\n")
    params = {"x": 21, "data_dir": str(data), "db_password": SECRET,
              "dsn": f"postgresql://me:{URL_PASSWORD}@db:5432/x"}  # fmt: skip
    run = run_study(
        notebook, params, reports_dir=root / "reports", progress=False, registry=FAKE_REGISTRY
    )
    return SimpleNamespace(run=run, root=root, data=data, notebook=notebook)


def test_run_writes_notebook_html_results_and_manifest(tiny_run):
    run = tiny_run.run
    assert run.path.parent == tiny_run.root / "reports" / "tiny"
    assert run.notebook == run.path / "tiny.ipynb" and run.notebook.is_file()
    assert run.html == run.path / "report.html" and run.html.is_file()
    assert run.status == "succeeded"
    assert run.results == {"double": 42, "stats": {"mean": 1.5, "missing": None}}
    assert json.loads((run.path / "results.json").read_text()) == run.results
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest == run.manifest
    assert manifest["study"] == "tiny" and manifest["title"] == "Tiny study"
    assert manifest["status"] == "succeeded" and manifest["error"] is None
    assert manifest["parameters"]["x"] == 21 and manifest["seed"] == 1
    assert manifest["results"]["double"] == 42
    assert manifest["data"]["files"][0]["path"] == "events.csv"
    assert manifest["data"]["sha256"] == data_fingerprint(tiny_run.data)["sha256"]
    assert manifest["versions"]["packages"]["cjm-demo"] == "9.9"
    assert manifest["versions"]["packages"]["papermill"]
    assert manifest["started"] <= manifest["finished"]
    assert set(manifest["git"]) == {"commit", "dirty"} or manifest["git"] is None


def test_run_name_is_utc_time_plus_parameter_hash(tiny_run):
    name = tiny_run.run.path.name
    stamp, digest = name.split("-")[:2]
    assert len(stamp) == 16 and stamp[8] == "T" and stamp.endswith("Z")
    assert len(digest) == 6


def test_html_hides_inputs_and_records_but_shows_outputs(tiny_run):
    html = tiny_run.run.html.read_text()
    assert "SOURCE_MARKER" not in html  # no input code
    assert "Tiny study" in html and "Doubles a number" in html  # markdown stays
    assert "<table" in html and "answer" in html  # the DataFrame output
    assert MIME_TYPE not in html
    assert 'class="jp-InputPrompt' not in html and 'class="jp-OutputPrompt' not in html


def test_credentials_never_reach_the_report(tiny_run):
    run = tiny_run.run
    for path in (run.notebook, run.html, run.path / "manifest.json", run.path / "results.json"):
        text = path.read_text()
        assert SECRET not in text, path.name
        assert URL_PASSWORD not in text, path.name
    assert run.manifest["parameters"]["db_password"] == "***"
    assert run.manifest["parameters"]["dsn"] == "postgresql://me:***@db:5432/x"
    executed = run.notebook.read_text()
    assert "connecting with postgresql://me:***@db:5432/x ***" in executed


def test_failing_cell_keeps_notebook_and_raises(tmp_path):
    notebook = _write_notebook(
        tmp_path / "broken_study.ipynb",
        [
            _parameters_cell('divisor = 0  # what to divide by\napi_token = ""  # a credential'),
            new_code_cell("print('before the failure')"),
            new_code_cell(
                "if divisor == 0:\n"
                "    raise ZeroDivisionError(f'division by zero (token {api_token})')"
            ),
            new_code_cell("print('never run')"),
        ],
        name="broken",
    )
    reports = tmp_path / "reports"
    with pytest.raises(StudyError) as info:
        run_study(notebook, {"api_token": SECRET}, reports_dir=reports, run_name="r1",
                  progress=False, registry=FAKE_REGISTRY)  # fmt: skip
    message = str(info.value)
    run_dir = reports / "broken" / "r1"
    kept = run_dir / "broken.ipynb"
    assert "failed in cell 4: ZeroDivisionError: division by zero (token ***)" in message
    assert "Study 'broken' failed in cell 4" in message and str(kept) in message
    assert kept.is_file() and (run_dir / "report.html").is_file()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["error"]["ename"] == "ZeroDivisionError"
    assert manifest["error"]["evalue"] == "division by zero (token ***)"
    executed = nbformat.read(kept, as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "ZeroDivisionError"
    assert "papermill-error-cell-tag" in executed.cells[0].metadata.tags  # papermill marks it
    assert "An Exception was encountered" in executed.cells[0].source
    for path in (kept, run_dir / "report.html", run_dir / "manifest.json"):
        assert SECRET not in path.read_text(), path.name
    assert SECRET not in message


# -- checks before any kernel starts -------------------------------------------------------


@pytest.fixture
def quiet_notebook(tmp_path):
    return _write_notebook(
        tmp_path / "q_study.ipynb",
        [
            _parameters_cell(
                'template = "banking"  # template\n'
                'data_dir = "data/banking"  # data folder\n'
                'api_token = "abc"  # secret\n'
                'metrics = ["conversion", "csat"]  # metrics\n'
                "alpha = 0.05  # significance level"
            ),
            new_code_cell("raise RuntimeError('must not run')"),
        ],
        name="q",
    )


def test_list_parameters_reads_defaults_types_and_help(quiet_notebook):
    params = list_parameters(quiet_notebook)
    assert list(params) == ["template", "data_dir", "api_token", "metrics", "alpha"]
    assert params["metrics"] == {"default": ["conversion", "csat"], "type": "list",
                                 "help": "metrics"}  # fmt: skip
    assert params["alpha"] == {"default": 0.05, "type": "float", "help": "significance level"}


def test_unknown_parameter_lists_the_accepted_ones(quiet_notebook, tmp_path):
    with pytest.raises(StudyError) as info:
        run_study(quiet_notebook, {"alhpa": 0.1}, reports_dir=tmp_path, registry=FAKE_REGISTRY)
    message = str(info.value)
    assert "Unknown parameter(s) alhpa for study 'q'" in message
    assert "alpha = 0.05  # significance level" in message
    assert "api_token = '***'" in message and "abc" not in message
    assert not (tmp_path / "q").exists()  # nothing written


def test_missing_data_dir_says_how_to_generate_it(quiet_notebook, tmp_path, monkeypatch):
    monkeypatch.setenv("CJM_HOME", str(tmp_path))
    with pytest.raises(StudyError) as info:
        run_study(quiet_notebook, {"data_dir": "data/nowhere"}, reports_dir=tmp_path / "r",
                  registry=FAKE_REGISTRY)  # fmt: skip
    target = tmp_path / "data" / "nowhere"
    assert f"Data folder '{target}' does not exist" in str(info.value)
    assert f"cjm generate banking --out {target}" in str(info.value)


def test_existing_run_name_is_refused(quiet_notebook, tmp_path, monkeypatch):
    monkeypatch.setenv("CJM_HOME", str(tmp_path))
    (tmp_path / "data" / "banking").mkdir(parents=True)
    (tmp_path / "r" / "q" / "taken").mkdir(parents=True)
    with pytest.raises(StudyError, match="already exists"):
        run_study(quiet_notebook, run_name="taken", reports_dir=tmp_path / "r",
                  registry=FAKE_REGISTRY)  # fmt: skip


def test_resolve_by_name_through_the_registry(quiet_notebook):
    spec = SimpleNamespace(name="q", path=quiet_notebook, title="Q study")
    registry = SimpleNamespace(notebook=lambda name: spec)
    assert resolve_notebook("q", registry) == (quiet_notebook.resolve(), "q", "Q study")
    assert resolve_notebook(quiet_notebook)[1:] == ("q", "Q study")
    with pytest.raises(StudyError, match="No study 'nope'"):
        resolve_notebook("nope", FAKE_REGISTRY)
    with pytest.raises(StudyError, match="does not exist"):
        resolve_notebook("missing/thing.ipynb")


# -- records -------------------------------------------------------------------------------


def test_read_records_from_a_notebook_node():
    nb = new_notebook(cells=[new_code_cell("x")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="hello"),
        nbformat.v4.new_output("display_data", data={MIME_TYPE: {"name": "a", "value": 1}}),
        nbformat.v4.new_output("display_data", data={MIME_TYPE: {"name": "a", "value": 2}}),
        nbformat.v4.new_output("display_data", data={MIME_TYPE: {"name": "b", "value": [1]}}),
    ]
    assert read_records(nb) == {"a": 2, "b": [1]}  # the last value of a name wins


def test_to_jsonable_converts_numpy_pandas_and_nan():
    value = {
        "i": np.int32(3),
        "f": np.float32(0.5),
        "b": np.bool_(True),
        "nan": np.nan,
        "arr": np.array([1.0, np.nan]),
        "ts": pd.Timestamp("2024-04-01", tz="UTC"),
        "frame": pd.DataFrame({"a": [1], "b": ["x"]}),
        "na": pd.NA,
    }
    out = to_jsonable(value)
    assert out == {"i": 3, "f": 0.5, "b": True, "nan": None, "arr": [1.0, None],
                   "ts": "2024-04-01T00:00:00+00:00", "frame": [{"a": 1, "b": "x"}],
                   "na": None}  # fmt: skip
    json.dumps(out, allow_nan=False)
    with pytest.raises(StudyError, match="Cannot record 'thing.obj'"):
        to_jsonable({"obj": object()}, "thing")


# -- manifest pieces -----------------------------------------------------------------------


def test_redact_masks_sensitive_keys_and_url_passwords():
    params = {
        "data_dir": "data/banking",
        "password": "p1",
        "apiKey": "k1",
        "DB_TOKEN": "t1",
        "client_secret": "s1",
        "aws_credentials": {"id": "a", "value": "b"},
        "keyword": "kept",
        "sources": ["https://user:pw9@host/x", "https://host/y"],
        "nested": {"dsn": "mysql://root:toor@localhost/db", "private_key": None},
    }
    out = redact(params)
    assert out == {
        "data_dir": "data/banking",
        "password": "***",
        "apiKey": "***",
        "DB_TOKEN": "***",
        "client_secret": "***",
        "aws_credentials": "***",
        "keyword": "kept",
        "sources": ["https://user:***@host/x", "https://host/y"],
        "nested": {"dsn": "mysql://root:***@localhost/db", "private_key": None},
    }
    assert params["password"] == "p1"  # the input is not modified
    assert secret_values(params) == {"p1", "k1", "t1", "s1", "a", "b", "pw9", "toor"}
    assert [is_sensitive(k) for k in ("touchpoints", "alpha", "monkey", "passes")] == [
        False, False, True, False,
    ]  # fmt: skip


def test_fingerprint_is_stable_and_sensitive_to_content(tmp_path):
    def folder(name, files):
        root = tmp_path / name
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
        return root

    a = folder("a", {"events.csv": b"x,y\n1,2\n", "sub/truth.json": b"{}"})
    b = folder("b", {"sub/truth.json": b"{}", "events.csv": b"x,y\n1,2\n"})
    fa, fb = data_fingerprint(a), data_fingerprint(b)
    assert fa["sha256"] == fb["sha256"] == data_fingerprint(a)["sha256"]
    assert [f["path"] for f in fa["files"]] == ["events.csv", "sub/truth.json"]
    assert fa["files"][1]["sha256"] == (
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"  # sha256 of "{}"
    )
    assert fa["total_size"] == 10
    edited = folder("c", {"events.csv": b"x,y\n1,3\n", "sub/truth.json": b"{}"})
    renamed = folder("d", {"events2.csv": b"x,y\n1,2\n", "sub/truth.json": b"{}"})
    assert len({fa["sha256"], data_fingerprint(edited)["sha256"],
                data_fingerprint(renamed)["sha256"]}) == 3  # fmt: skip
    single = data_fingerprint(a / "events.csv")
    assert single["files"][0]["path"] == "events.csv"
    with pytest.raises(StudyError, match="does not exist"):
        data_fingerprint(tmp_path / "nope")


def test_git_commit_of_a_repo_and_of_a_plain_folder(tmp_path):
    assert git_commit(tmp_path) is None

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t",
                        *args], check=True, capture_output=True)  # fmt: skip

    git("init", "-q")
    assert git_commit(tmp_path) is None  # no commit yet
    (tmp_path / "f.txt").write_text("1")
    git("add", "f.txt")
    git("commit", "-q", "-m", "first")
    sha = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True,
                         text=True, check=True).stdout.strip()  # fmt: skip
    assert git_commit(tmp_path) == {"commit": sha, "dirty": False}
    (tmp_path / "f.txt").write_text("2")
    assert git_commit(tmp_path) == {"commit": sha, "dirty": True}


def test_package_versions_include_plugins():
    versions = package_versions(FAKE_REGISTRY)
    assert versions["cjm-demo"] == "9.9"
    assert versions["pandas"] == pd.__version__ and versions["numpy"] == np.__version__
    assert set(versions) >= {"cjm-core", "statsmodels", "scipy", "papermill", "pluggy",
                             "seaborn", "matplotlib", "pyarrow", "nbconvert"}  # fmt: skip


def test_build_manifest_redacts_everything(tmp_path):
    manifest = build_manifest(
        study="s",
        notebook="s.ipynb",
        parameters={"seed": 3, "token": "tk", "data_dir": str(tmp_path)},
        data_dir=tmp_path,
        root=tmp_path,
        registry=FAKE_REGISTRY,
        error={"evalue": "cannot reach https://u:pw@h"},
    )
    assert manifest["seed"] == 3 and manifest["parameters"]["token"] == "***"
    assert manifest["error"]["evalue"] == "cannot reach https://u:***@h"
    assert manifest["git"] is None and manifest["data"]["files"] == []
    assert manifest["versions"]["plugins"] == [
        {"name": "demo", "distribution": "cjm-demo", "version": "9.9"}
    ]
