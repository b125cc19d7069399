"""The plugin system through real pluggy managers, never depending on what is installed.

Inline plugins are small modules built here; installed plugins are faked with a
``*.dist-info`` folder (METADATA + entry_points.txt) in ``tmp_path`` put on ``sys.path``.
"""

from __future__ import annotations

import doctest
import importlib.metadata
import json
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pluggy
import pytest

import cjm_core.builtin
import cjm_core.hookspecs
import cjm_core.plugin_checks as checks
import cjm_core.plugins as plugins
import cjm_core.registry
from cjm_core.errors import CatalogError, ConnectorError, StudyError, TemplateNotFoundError
from cjm_core.extensions import KPI, Connector, Funnel, NotebookSpec, Template
from cjm_core.model import JourneyCatalog
from cjm_core.plugins import hookimpl, make_plugin_manager, registry_with
from cjm_core.registry import PluginFailure, PluginWarning, build_registry

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.filterwarnings("ignore::cjm_core.registry.PluginWarning")

CATALOG = JourneyCatalog.from_dict(
    {
        "stages": [{"id": "consider", "name": "Consider"}, {"id": "buy", "name": "Buy"}],
        "channels": [{"id": "web", "name": "Web"}],
        "touchpoints": [
            {"id": "ad", "name": "Ad", "channel": "web", "stage": "consider", "kind": "digital"},
            {"id": "site", "name": "Site", "channel": "web", "stage": "buy", "kind": "digital"},
        ],
    },
    name="tiny",
)


def make_plugin(name: str, **hooks: Callable[[], object]) -> types.ModuleType:
    """A plugin module called ``name`` whose hooks are the given functions, marked."""
    module = types.ModuleType(name)
    for hook, func in hooks.items():
        setattr(module, hook, hookimpl(func))
    return module


def template(name: str = "demo", **changes) -> Template:
    fields = {"title": "Demo", "catalog": CATALOG}
    fields.update(changes)
    return Template(name=name, **fields)


def connector(name: str = "echo", **changes) -> Connector:
    fields = {"description": "returns nothing", "options": {"path": "a file"}}
    fields.update(changes)
    fields.setdefault("read", lambda **options: {})
    return Connector(name=name, **fields)


def write_notebook(path: Path, cjm: dict | None = None) -> Path:
    metadata = {"cjm": cjm} if cjm is not None else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"cells": [], "metadata": metadata, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


def failures_of(reg, plugin: str) -> list[PluginFailure]:
    return [f for f in reg.failures if f.plugin == plugin]


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch) -> Path:
    """An empty workspace (its notebooks/ folder) and no block-list from the environment."""
    home = tmp_path / "home"
    (home / "notebooks").mkdir(parents=True)
    monkeypatch.setenv("CJM_HOME", str(home))
    monkeypatch.delenv(plugins.DISABLE_ENV, raising=False)
    return home


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path for fake distributions; their modules are forgotten afterwards."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(root)):
            del sys.modules[name]


def fake_dist(
    root: Path, dist: str, version: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text("[cjm]\n" + lines)
    for module, source in modules.items():
        (root / f"{module}.py").write_text(source)


GOOD_MODULE = """
from cjm_core.extensions import Connector
from cjm_core.plugins import hookimpl


@hookimpl
def cjm_register_connectors():
    return [Connector("fake_echo", "echoes", {"path": "a file"}, lambda **options: {})]
"""


TYPO_MODULE = """
from cjm_core.plugins import hookimpl


@hookimpl
def cjm_register_conectors():
    return []
"""


@pytest.fixture
def good_and_broken(site) -> Path:
    """A working dist (cjm-fake-good 0.2, entry point ``good``) and one that fails to import."""
    fake_dist(
        site, "cjm-fake-good", "0.2", {"good": "cjm_fake_good"}, {"cjm_fake_good": GOOD_MODULE}
    )
    fake_dist(site, "broken-plugin", "0.1", {"broken": "no_such_module_xyz"}, {})
    return site


# -- every hook, through a real manager ----------------------------------------------------
def test_hook_cjm_register_templates():
    demo = template("demo", kpis=(KPI("conv", "Conversion", "converted / journeys"),))
    reg = registry_with(make_plugin("demo_plugin", cjm_register_templates=lambda: [demo]))
    assert reg.template("demo") is demo
    assert reg.plugin_of("template", "demo") == "demo_plugin"
    info = {p.name: p for p in reg.plugins}["demo_plugin"]
    assert info.hooks == ("cjm_register_templates",)
    assert info.templates == ("demo",)
    assert (info.connectors, info.notebooks, info.distribution) == ((), (), None)
    assert failures_of(reg, "demo_plugin") == []


def test_hook_cjm_register_connectors():
    echo = connector("echo")
    reg = registry_with(
        make_plugin("conn_plugin", cjm_register_connectors=lambda: [echo]), builtins=False
    )
    assert reg.connector("echo") is echo
    assert reg.to_dict()["plugins"][0]["connectors"] == ["echo"]
    assert reg.failures == []


def test_builtin_registers_the_files_connector():
    from cjm_core.connectors.files import FILES_CONNECTOR

    reg = registry_with()
    assert reg.connector("files") is FILES_CONNECTOR
    assert reg.plugin_of("connector", "files") == "cjm_core.builtin"
    assert failures_of(reg, "cjm_core.builtin") == []


def test_hook_cjm_register_notebooks(tmp_path):
    path = write_notebook(tmp_path / "pkg" / "churn.ipynb", {"title": "Churn"})
    spec = NotebookSpec(name="churn", path=path, title="Churn study")
    reg = registry_with(
        make_plugin("nb_plugin", cjm_register_notebooks=lambda: [spec]), builtins=False
    )
    assert reg.notebook("churn") is spec
    assert reg.plugins[0].notebooks == ("churn",)


def test_builtin_notebooks_come_from_notebook_metadata(workspace):
    folder = workspace / "notebooks"
    write_notebook(folder / "before_after_study.ipynb", {"title": "Before/after"})
    write_notebook(folder / "funnel.ipynb", {"name": "funnels", "title": "F", "description": "d"})
    write_notebook(folder / "explore.ipynb")  # no cjm metadata: not a study
    (folder / "broken.ipynb").write_text("{not json")
    with pytest.warns(PluginWarning, match="broken.ipynb"):
        reg = registry_with(warn=False)
    assert list(reg.notebooks) == ["before_after", "funnels"]
    assert reg.notebook("before_after").path == folder.resolve() / "before_after_study.ipynb"
    assert reg.notebook("before_after").title == "Before/after"
    assert reg.notebook("funnels").description == "d"
    assert reg.plugin_of("notebook", "funnels") == "cjm_core.builtin"


def test_builtins_are_trylast_in_pluggy_order_but_win_duplicates_in_the_registry(
    workspace, tmp_path
):
    write_notebook(workspace / "notebooks" / "before_after_study.ipynb", {"title": "Builtin"})
    own = write_notebook(tmp_path / "own.ipynb", {"title": "Own"})
    other = make_plugin(
        "other",
        cjm_register_notebooks=lambda: [NotebookSpec("before_after", own, "Other")],
    )
    pm = make_plugin_manager(load_entrypoints=False, plugins=[other])
    first, second = pm.hook.cjm_register_notebooks()
    assert [n.title for n in first] == ["Other"]  # third-party runs first in pluggy order
    assert [n.title for n in second] == ["Builtin"]
    reg = build_registry(pm, warn=False)
    assert reg.notebook("before_after").title == "Builtin"  # first registered wins
    (failure,) = failures_of(reg, "other")
    assert "'cjm_core.builtin'" in failure.error and "'other'" in failure.error


# -- failures are reported by plugin name, the rest keeps working --------------------------
def test_plugin_whose_hook_raises_is_reported_and_others_load():
    def boom():
        raise RuntimeError("database down")

    reg = registry_with(
        make_plugin("bad", cjm_register_templates=boom, cjm_register_connectors=lambda: []),
        make_plugin("good", cjm_register_templates=lambda: [template("ok")]),
        builtins=False,
    )
    assert reg.failures == [
        PluginFailure("bad", "cjm_register_templates", "raised RuntimeError: database down")
    ]
    assert list(reg.templates) == ["ok"]
    assert [p.name for p in reg.plugins] == ["bad", "good"]


def test_failures_are_warned_about_once_each():
    bad = make_plugin("bad", cjm_register_templates=lambda: None)
    with pytest.warns(PluginWarning) as record:
        registry_with(bad, builtins=False)
    assert [str(w.message) for w in record] == [
        "cjm plugin bad [cjm_register_templates]: returned a NoneType (None); expected a list "
        "of Template ([] for none); nothing from this hook was added"
    ]


MALFORMED = {
    "not a list": ("cjm_register_templates", lambda: template("x"), "expected a list of Template"),
    "a generator": ("cjm_register_templates", lambda: (t for t in []), "a generator"),
    "wrong type": ("cjm_register_templates", lambda: [connector("x")], "expected a Template"),
    "empty name": ("cjm_register_templates", lambda: [template("")], "non-empty string"),
    "name with space": ("cjm_register_connectors", lambda: [connector("a b")], "without spaces"),
    "catalog a dict": (
        "cjm_register_templates",
        lambda: [template("x", catalog={"stages": []})],
        "catalog must be a JourneyCatalog, got a dict",
    ),
    "generate not callable": (
        "cjm_register_templates",
        lambda: [template("x", generate="gen")],
        "generate must be callable or None",
    ),
    "funnel step not in catalog": (
        "cjm_register_templates",
        lambda: [template("x", funnels=(Funnel("f", "F", steps=("ad", "nowhere")),))],
        "funnel 'f' has steps not in the catalog: ['nowhere']",
    ),
    "kpi of wrong type": (
        "cjm_register_templates",
        lambda: [template("x", kpis=("conversion",))],
        "kpis[0] is a str ('conversion'), not a KPI",
    ),
    "options not str->str": (
        "cjm_register_connectors",
        lambda: [connector("x", options={"sep": 1})],
        "options must map str -> str; bad entries: ['sep']",
    ),
    "read not callable": (
        "cjm_register_connectors",
        lambda: [connector("x", read=None)],
        "read must be callable",
    ),
    "notebook path missing": (
        "cjm_register_notebooks",
        lambda: [NotebookSpec("x", Path("/no/such/study.ipynb"), "X")],
        "is not an existing .ipynb file",
    ),
    "notebook path relative": (
        "cjm_register_notebooks",
        lambda: [NotebookSpec("x", Path("study.ipynb"), "X")],
        "must be absolute",
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_returns_are_reported_and_skipped(case):
    hook, returns, expected = MALFORMED[case]
    reg = registry_with(
        make_plugin("sloppy", **{hook: returns}),
        make_plugin("fine", cjm_register_templates=lambda: [template("fine")]),
        builtins=False,
    )
    (failure,) = reg.failures
    assert (failure.plugin, failure.hook) == ("sloppy", hook)
    assert expected in failure.error
    assert (reg.templates.keys(), reg.connectors, reg.notebooks) == ({"fine"}, {}, {})
    assert {p.name: p.hooks for p in reg.plugins}["sloppy"] == (hook,)


def test_one_malformed_item_does_not_lose_the_good_items_of_the_same_list():
    reg = registry_with(
        make_plugin("mixed", cjm_register_connectors=lambda: [connector("a", read=1), connector()]),
        builtins=False,
    )
    assert list(reg.connectors) == ["echo"]
    assert [f.error for f in reg.failures] == [
        "connector 'a' is malformed: read must be callable, got a int (1); skipped"
    ]


def test_duplicate_names_are_reported_naming_both_plugins():
    first, second = template("same"), template("same")
    reg = registry_with(
        make_plugin("alpha", cjm_register_templates=lambda: [first]),
        make_plugin("beta", cjm_register_templates=lambda: [second, template("own")]),
        make_plugin("gamma", cjm_register_connectors=lambda: [connector(), connector()]),
        builtins=False,
    )
    assert reg.template("same") is first
    assert list(reg.templates) == ["same", "own"]
    beta, gamma = reg.failures
    assert beta.plugin == "beta"
    assert "already registered by plugin 'alpha'" in beta.error
    assert "from plugin 'beta' is skipped" in beta.error
    assert (
        gamma.error == "connector 'echo' is returned twice by plugin 'gamma'; the second is skipped"
    )


def test_hook_defined_without_hookimpl_and_plugin_without_hooks_are_reported():
    unmarked = types.ModuleType("unmarked")
    unmarked.cjm_register_templates = lambda: [template()]
    reg = registry_with(unmarked, types.ModuleType("empty"), builtins=False)
    assert [(f.plugin, f.hook) for f in reg.failures] == [
        ("unmarked", "cjm_register_templates"),
        ("empty", "load"),
    ]
    assert "without @hookimpl" in reg.failures[0].error
    assert "implements none of the cjm hooks" in reg.failures[1].error


def test_typo_in_a_hook_name_fails_fast_at_manager_build():
    typo = make_plugin("typo", cjm_register_templatez=lambda: [])
    with pytest.raises(pluggy.PluginValidationError, match="unknown hook 'cjm_register_templatez'"):
        make_plugin_manager(load_entrypoints=False, plugins=[typo])
    with pytest.raises(pluggy.PluginValidationError) as info:
        registry_with(typo)
    note = "\n".join(info.value.__notes__)
    assert "did you mean 'cjm_register_templates'?" in note
    assert "CJM_DISABLE_PLUGINS=typo" in note


def test_typo_in_an_installed_plugin_fails_fast_too(site):
    source = TYPO_MODULE
    fake_dist(site, "cjm-typo", "1.0", {"typo": "cjm_fake_typo"}, {"cjm_fake_typo": source})
    with pytest.raises(pluggy.PluginValidationError, match="cjm_register_conectors"):
        make_plugin_manager(entrypoint_path=[site])
    assert (
        make_plugin_manager(entrypoint_path=[site], disabled="cjm-typo").disabled[0].name == "typo"
    )


# -- installed plugins: entry points, import failures, block-list --------------------------
def test_plugin_that_fails_to_import_is_reported_and_the_good_one_works(good_and_broken):
    reg = build_registry(make_plugin_manager(), warn=False)  # scans sys.path
    (broken,) = failures_of(reg, "broken")
    assert broken.hook == "load"
    assert "entry point 'broken = no_such_module_xyz' of broken-plugin 0.1 failed to import" in (
        broken.error
    )
    assert "ModuleNotFoundError: No module named 'no_such_module_xyz'" in broken.error
    assert "broken" not in [p.name for p in reg.plugins]
    assert reg.connector("fake_echo").description == "echoes"
    good = {p.name: p for p in reg.plugins}["good"]
    assert (good.distribution, good.version, good.module) == (
        "cjm-fake-good",
        "0.2",
        "cjm_fake_good",
    )
    assert good.connectors == ("fake_echo",)
    assert failures_of(reg, "good") == []


def test_entry_points_are_loaded_after_builtins_sorted_by_name(site):
    for name in ("zeta", "alpha"):
        module = f"cjm_fake_{name}"
        source = GOOD_MODULE.replace("fake_echo", name)
        fake_dist(site, f"cjm-{name}", "1.0", {name: module}, {module: source})
    pm = make_plugin_manager(entrypoint_path=[site])
    assert [n for n, _ in pm.list_name_plugin()] == ["cjm_core.builtin", "alpha", "zeta"]


def test_same_entry_point_name_in_two_distributions_keeps_the_first(site):
    fake_dist(
        site, "cjm-fake-good", "0.2", {"good": "cjm_fake_good"}, {"cjm_fake_good": GOOD_MODULE}
    )
    fake_dist(site, "cjm-other", "0.9", {"good": "cjm_fake_other"}, {"cjm_fake_other": GOOD_MODULE})
    reg = build_registry(make_plugin_manager(entrypoint_path=[site], builtins=False), warn=False)
    assert [(p.name, p.distribution) for p in reg.plugins] == [("good", "cjm-fake-good")]
    (failure,) = reg.failures
    assert "already used by good (cjm-fake-good 0.2)" in failure.error
    assert "cjm-other 0.9" in failure.error


@pytest.mark.parametrize("value", ["good", "cjm-fake-good", "other, CJM_FAKE_GOOD"])
def test_block_list_by_entry_point_or_distribution_name(good_and_broken, monkeypatch, value):
    monkeypatch.setenv("CJM_DISABLE_PLUGINS", value)
    pm = make_plugin_manager(entrypoint_path=[good_and_broken])
    reg = build_registry(pm, warn=False)
    assert "fake_echo" not in reg.connectors
    assert "cjm_fake_good" not in sys.modules  # a disabled plugin is not even imported
    assert pm.is_blocked("good")
    assert [(s.name, s.distribution, s.version) for s in reg.disabled] == [
        ("good", "cjm-fake-good", "0.2")
    ]
    assert reg.to_dict()["disabled"][0]["distribution"] == "cjm-fake-good"
    assert "Disabled (CJM_DISABLE_PLUGINS):\n  - good (cjm-fake-good 0.2)" in reg.describe()
    assert [f.plugin for f in reg.failures if f.hook == "load"] == ["broken"]


def test_block_list_silences_a_broken_plugin_and_argument_overrides_env(
    good_and_broken, monkeypatch
):
    monkeypatch.setenv("CJM_DISABLE_PLUGINS", "good")
    reg = build_registry(
        make_plugin_manager(entrypoint_path=[good_and_broken], disabled=["broken-plugin"]),
        warn=False,
    )
    assert [s.name for s in reg.disabled] == ["broken"]
    assert "fake_echo" in reg.connectors
    assert [f for f in reg.failures if f.hook == "load"] == []


def test_builtins_can_be_disabled_like_any_plugin():
    reg = registry_with(disabled="cjm_core.builtin")
    assert reg.plugins == [] and reg.connectors == {}
    assert [s.distribution for s in reg.disabled] == ["cjm-core"]


# -- reporting -----------------------------------------------------------------------------
def test_to_dict_is_json_serialisable_with_versions(good_and_broken):
    reg = build_registry(make_plugin_manager(entrypoint_path=[good_and_broken]), warn=False)
    data = json.loads(json.dumps(reg.to_dict()))
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["good"] == {
        "name": "good",
        "distribution": "cjm-fake-good",
        "version": "0.2",
        "module": "cjm_fake_good",
        "hooks": ["cjm_register_connectors"],
        "templates": [],
        "connectors": ["fake_echo"],
        "notebooks": [],
    }
    builtin = by_name["cjm_core.builtin"]
    assert builtin["version"] == importlib.metadata.version("cjm-core")
    assert builtin["hooks"] == ["cjm_register_connectors", "cjm_register_notebooks"]
    assert {"plugin": "broken", "hook": "load"}.items() <= data["failures"][0].items()


def test_describe_is_a_table_with_failures_last(good_and_broken):
    reg = build_registry(make_plugin_manager(entrypoint_path=[good_and_broken]), warn=False)
    text = reg.describe()
    lines = text.splitlines()
    assert lines[0].startswith("2 plugin(s) loaded, 0 disabled, ")
    assert lines[2].split() == ["PLUGIN", "DISTRIBUTION", "VERSION", "HOOKS"]
    good_row = next(line for line in lines if line.startswith("good "))
    assert good_row.split() == ["good", "cjm-fake-good", "0.2", "cjm_register_connectors"]
    assert "connectors: fake_echo" in lines[lines.index(good_row) + 1]
    failures_at = lines.index("Failures (skipped; everything else loaded):")
    assert lines[failures_at + 1].startswith("  - broken [load]: entry point 'broken = ")
    assert lines[-1].startswith("  - ")


def test_lookups_name_what_exists_and_how_to_install():
    reg = registry_with(
        make_plugin(
            "shop",
            cjm_register_templates=lambda: [template("retailish")],
            cjm_register_connectors=lambda: [connector("sql")],
        ),
        make_plugin("retail", cjm_register_templates=lambda: 42),
        builtins=False,
    )
    with pytest.raises(TemplateNotFoundError) as info:
        reg.template("retail")
    message = str(info.value)
    assert "No template named 'retail'. Did you mean 'retailish'?" in message
    assert "Installed templates: retailish (plugin shop)." in message
    assert "Plugin failure: retail [cjm_register_templates]: returned a int (42)" in message
    assert "pip install -e plugins/cjm_retail" in message
    with pytest.raises(ConnectorError, match=r"No connector named 'sqll'. Did you mean 'sql'\?"):
        reg.connector("sqll")
    with pytest.raises(StudyError, match=r"(?s)Installed notebooks: none\..*cjm\.title"):
        reg.notebook("churn")


def test_get_registry_is_cached_and_refreshable(monkeypatch):
    calls = []

    def fake_manager(**kwargs):
        calls.append(kwargs)
        return make_plugin_manager(load_entrypoints=False)

    monkeypatch.setattr(plugins, "make_plugin_manager", fake_manager)
    monkeypatch.setattr(plugins, "_DEFAULT", None)
    first = plugins.get_registry()
    assert plugins.get_registry() is first
    assert plugins.get_registry(refresh=True) is not first
    assert calls == [{}, {}]  # the default: entry points, built-ins, env block-list


# -- the contract between hookspecs, docs and tests (datasette habit) ----------------------
def hookspec_names() -> list[str]:
    return [
        name
        for name, func in vars(cjm_core.hookspecs).items()
        if name.startswith("cjm_") and hasattr(func, "cjm_spec")
    ]


def test_every_hookspec_is_documented_and_tested():
    names = hookspec_names()
    assert names == list(cjm_core.registry.HOOKS)
    docs = (ROOT / "docs" / "plugins.md").read_text()
    for name in names:
        assert f"`{name}()`" in docs, f"{name} is missing from docs/plugins.md"
        assert f"test_hook_{name}" in globals(), f"{name} has no test_hook_{name}"


def test_docstring_examples_run():
    attempted = 0
    for module in (cjm_core.hookspecs, plugins, cjm_core.registry, cjm_core.builtin, checks):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted >= 10


def test_the_inline_plugin_example_of_the_docs_runs(capsys):
    docs = (ROOT / "docs" / "plugins.md").read_text()
    section = docs.split("## 6. A runnable inline plugin", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "docs/plugins.md", "exec"), {"__name__": "docs_example"})
    out = capsys.readouterr().out
    assert "ShopPlugin" in out and "templates: shop" in out and "connectors: nothing" in out


def test_a_notebook_path_given_as_str_is_accepted_as_a_path(tmp_path):
    path = write_notebook(tmp_path / "churn.ipynb", {"title": "Churn"})
    spec = NotebookSpec(name="churn", path=str(path), title="Churn")  # type: ignore[arg-type]
    reg = registry_with(make_plugin("nb", cjm_register_notebooks=lambda: [spec]), builtins=False)
    assert reg.notebook("churn").path == path
    assert isinstance(reg.notebook("churn").path, Path)


def test_describe_indents_multi_line_errors():
    def invalid_catalog():
        raise CatalogError("Invalid catalog 'x': 2 problem(s):\n  - a\n  - b")

    reg = registry_with(make_plugin("cat", cjm_register_templates=invalid_catalog), builtins=False)
    assert reg.describe().splitlines()[-3:] == [
        "  - cat [cjm_register_templates]: raised CatalogError: Invalid catalog 'x': 2 problem(s):",
        "      - a",
        "      - b",
    ]
