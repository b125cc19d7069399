"""The typed facade over the plugin manager: what the plugins add, checked and attributed.

:func:`build_registry` calls each plugin's hook implementations one at a time, so every
template, connector and notebook is attributed to the plugin that added it and a plugin
that raises or hands back something malformed is reported by name and skipped while the
others keep working. Call sites use :class:`Registry` and never touch ``pm.hook``.

Order is deterministic: plugins are read in registration order (built-ins, then entry
points sorted by name, then inline plugins) and, for a name added twice, the first
registered wins; the second is reported as a failure naming both plugins.

Example::

    >>> from cjm_core.plugins import registry_with
    >>> registry = registry_with(builtins=False)
    >>> print(registry.describe())
    0 plugin(s) loaded, 0 disabled, 0 failure(s)
    <BLANKLINE>
    PLUGIN  DISTRIBUTION  VERSION  HOOKS
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pluggy

from .errors import CjmError, ConnectorError, StudyError, TemplateNotFoundError
from .extensions import Connector, NotebookSpec, Template
from .plugin_checks import check_item, short_repr


class PluginWarning(UserWarning):
    """Issued once per plugin failure when a registry is built (they are listed there too)."""


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin comes from: its plugin name, module, distribution and version.

    For an entry point ``name`` is the entry-point name and ``module`` its value
    (``cjm_banking.plugin``); inline plugins have no distribution.
    """

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None

    def label(self) -> str:
        """``banking (cjm-banking 0.1.0)``."""
        if self.distribution is None:
            return f"{self.name} ({self.module})"
        return f"{self.name} ({self.distribution} {self.version})"


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that failed: ``hook`` is ``"load"`` for import/registration failures."""

    plugin: str
    hook: str
    error: str

    def __str__(self) -> str:
        return f"{self.plugin} [{self.hook}]: {self.error}"


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin, the hooks it implements and the names of what it added."""

    name: str
    distribution: str | None
    version: str | None
    module: str
    hooks: tuple[str, ...]
    templates: tuple[str, ...] = ()
    connectors: tuple[str, ...] = ()
    notebooks: tuple[str, ...] = ()


# hook name -> (kind, expected class); the order is the order plugins are read in.
HOOKS: dict[str, tuple[str, type]] = {
    "cjm_register_templates": ("template", Template),
    "cjm_register_connectors": ("connector", Connector),
    "cjm_register_notebooks": ("notebook", NotebookSpec),
}
T = TypeVar("T")
_IMPL_MARK = "cjm_impl"  # the attribute pluggy.HookimplMarker("cjm") sets on a function


@dataclass(eq=False)
class Registry:
    """Templates, connectors and notebooks by name, the plugins that added them, failures.

    Build it with :func:`build_registry` (or :func:`cjm_core.plugins.get_registry`).

    Example::

        >>> from cjm_core.plugins import registry_with
        >>> reg = registry_with(builtins=False)
        >>> reg.templates, reg.failures
        ({}, [])
    """

    plugins: list[PluginInfo] = field(default_factory=list)
    templates: dict[str, Template] = field(default_factory=dict)
    connectors: dict[str, Connector] = field(default_factory=dict)
    notebooks: dict[str, NotebookSpec] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    disabled: list[PluginSource] = field(default_factory=list)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> plugin

    # -- look-ups ----------------------------------------------------------------------
    def template(self, name: str) -> Template:
        """The template called ``name``; :class:`TemplateNotFoundError` says what exists."""
        return self._get("template", name, self.templates, TemplateNotFoundError)

    def connector(self, name: str) -> Connector:
        """The connector called ``name``; :class:`ConnectorError` says what exists."""
        return self._get("connector", name, self.connectors, ConnectorError)

    def notebook(self, name: str) -> NotebookSpec:
        """The study notebook called ``name``; :class:`StudyError` says what exists."""
        return self._get("notebook", name, self.notebooks, StudyError)

    def plugin_of(self, kind: str, name: str) -> str:
        """The plugin that added ``kind`` (template/connector/notebook) ``name``."""
        return self.owners[(kind, name)]

    def _get(self, kind: str, name: str, table: Mapping[str, T], error: type[CjmError]) -> T:
        if name in table:
            return table[name]
        lines = [f"No {kind} named {name!r}."]
        close = difflib.get_close_matches(name, list(table), n=1)
        if close:
            lines[0] += f" Did you mean {close[0]!r}?"
        installed = ", ".join(f"{n} (plugin {self.owners[(kind, n)]})" for n in table)
        lines.append(f"Installed {kind}s: {installed or 'none'}.")
        wanted = {_canonical(name), _canonical(f"cjm-{name}")}
        lines += [
            f"Plugin {s.label()} is disabled (CJM_DISABLE_PLUGINS)."
            for s in self.disabled
            if wanted & {_canonical(s.name), _canonical(s.distribution or "")}
        ]
        lines += [
            f"Plugin failure: {f}"
            for f in self.failures
            if _canonical(f.plugin) in wanted or repr(name) in f.error
        ]
        if kind == "notebook":
            lines.append(
                "Study notebooks are notebooks/*.ipynb whose metadata has cjm.title, or come "
                "from plugins (cjm_register_notebooks); `cjm plugins` lists them."
            )
        else:
            lines.append(
                f"Install the plugin that provides it (in-repo plugins: "
                f"`pip install -e plugins/cjm_{name}`); `cjm plugins` lists what is installed."
            )
        raise error("\n".join(lines))

    # -- reporting ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable data (what ``cjm plugins --json`` prints)."""
        return {
            "plugins": [
                {
                    "name": p.name,
                    "distribution": p.distribution,
                    "version": p.version,
                    "module": p.module,
                    "hooks": list(p.hooks),
                    "templates": list(p.templates),
                    "connectors": list(p.connectors),
                    "notebooks": list(p.notebooks),
                }
                for p in self.plugins
            ],
            "disabled": [
                {
                    "name": s.name,
                    "distribution": s.distribution,
                    "version": s.version,
                    "module": s.module,
                }
                for s in self.disabled
            ],
            "failures": [
                {"plugin": f.plugin, "hook": f.hook, "error": f.error} for f in self.failures
            ],
        }

    def describe(self) -> str:
        """A table of the plugins and what they add, then disabled plugins and failures."""
        head = (
            f"{len(self.plugins)} plugin(s) loaded, {len(self.disabled)} disabled, "
            f"{len(self.failures)} failure(s)"
        )
        rows = [("PLUGIN", "DISTRIBUTION", "VERSION", "HOOKS")] + [
            (p.name, p.distribution or "-", p.version or "-", ", ".join(p.hooks) or "-")
            for p in self.plugins
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [head, ""]
        for i, row in enumerate(rows):
            cells = [c.ljust(w) for c, w in zip(row[:3], widths, strict=True)]
            lines.append("  ".join([*cells, row[3]]).rstrip())
            if i == 0:
                continue
            plugin = self.plugins[i - 1]
            for kind in ("templates", "connectors", "notebooks"):
                names = getattr(plugin, kind)
                if names:
                    lines.append(f"{'':{widths[0]}}  {kind}: {', '.join(names)}")
        if self.disabled:
            lines += ["", "Disabled (CJM_DISABLE_PLUGINS):"]
            lines += [f"  - {s.label()}" for s in self.disabled]
        if self.failures:
            lines += ["", "Failures (skipped; everything else loaded):"]
            lines += ["  - " + str(f).replace("\n", "\n    ") for f in self.failures]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Registry plugins={len(self.plugins)} templates={len(self.templates)} "
            f"connectors={len(self.connectors)} notebooks={len(self.notebooks)} "
            f"failures={len(self.failures)}>"
        )


def build_registry(pm: pluggy.PluginManager, *, warn: bool = True) -> Registry:
    """Call every plugin's hooks one by one, check what they return, and index it.

    :param pm: a manager from :func:`cjm_core.plugins.make_plugin_manager` (its load
        failures, sources and disabled plugins are carried over).
    :param warn: issue a :class:`PluginWarning` for each failure.

    Example::

        >>> from cjm_core.plugins import make_plugin_manager
        >>> reg = build_registry(make_plugin_manager(load_entrypoints=False, builtins=False))
        >>> reg.plugins
        []
    """
    sources: Mapping[str, PluginSource] = getattr(pm, "sources", {})
    reg = Registry(
        failures=list(getattr(pm, "load_failures", [])),
        disabled=list(getattr(pm, "disabled", [])),
    )
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        source = sources.get(name) or PluginSource(name, _module_of(plugin))
        added: dict[str, list[str]] = {hook: [] for hook in HOOKS}
        hooks = []
        for hook in HOOKS:
            impls = [i for i in getattr(pm.hook, hook).get_hookimpls() if i.plugin is plugin]
            if impls:
                hooks.append(hook)
            for impl in impls:
                added[hook] += _collect(reg, name, hook, impl)
        _check_unmarked(reg, name, plugin, hooks)
        reg.plugins.append(
            PluginInfo(
                name=name,
                distribution=source.distribution,
                version=source.version,
                module=source.module,
                hooks=tuple(hooks),
                templates=tuple(added["cjm_register_templates"]),
                connectors=tuple(added["cjm_register_connectors"]),
                notebooks=tuple(added["cjm_register_notebooks"]),
            )
        )
    if warn:
        for failure in reg.failures:
            warnings.warn(f"cjm plugin {failure}", PluginWarning, stacklevel=2)
    return reg


def _collect(reg: Registry, plugin: str, hook: str, impl: pluggy.HookImpl) -> list[str]:
    """Call one hookimpl, validate each item, add the good ones; returns the names added."""
    kind, cls = HOOKS[hook]

    def fail(error: str) -> None:
        reg.failures.append(PluginFailure(plugin, hook, error))

    if impl.hookwrapper or impl.wrapper:
        fail("is a hook wrapper; cjm_register_* hooks take plain @hookimpl functions; skipped")
        return []
    try:
        result = impl.function()
    except Exception as exc:
        fail(f"raised {type(exc).__name__}: {exc}")
        return []
    if not isinstance(result, list | tuple):
        fail(
            f"returned {short_repr(result)}; expected a list of {cls.__name__} ([] for none); "
            f"nothing from this hook was added"
        )
        return []
    table: dict[str, Any] = getattr(reg, kind + "s")
    names = []
    for i, item in enumerate(result):
        if not isinstance(item, cls):
            fail(f"item {i} is {short_repr(item)}, expected a {cls.__name__}; skipped")
            continue
        item, problems = check_item(kind, item)
        label = f"{kind} {item.name!r}" if isinstance(item.name, str) else f"item {i}"
        if problems:
            fail(f"{label} is malformed: {'; '.join(problems)}; skipped")
            continue
        owner = reg.owners.get((kind, item.name))
        if owner is not None:
            fail(
                f"{label} is already registered by plugin {owner!r}; the one from plugin "
                f"{plugin!r} is skipped (the first registered wins: built-ins, then entry "
                f"points sorted by name). Rename it, or disable one plugin with "
                f"CJM_DISABLE_PLUGINS."
                if owner != plugin
                else f"{label} is returned twice by plugin {plugin!r}; the second is skipped"
            )
            continue
        table[item.name] = item
        reg.owners[(kind, item.name)] = plugin
        names.append(item.name)
    return names


def _check_unmarked(reg: Registry, plugin_name: str, plugin: object, hooks: list[str]) -> None:
    """Report hook functions defined without ``@hookimpl`` (pluggy ignores them silently)."""
    unmarked = []
    for hook in HOOKS:
        func = getattr(plugin, hook, None)
        if hook not in hooks and callable(func) and not hasattr(func, _IMPL_MARK):
            unmarked.append(hook)
            reg.failures.append(
                PluginFailure(
                    plugin_name,
                    hook,
                    f"{hook} is defined without @hookimpl, so it is ignored; decorate it with "
                    f"`from cjm_core.plugins import hookimpl`",
                )
            )
    if not hooks and not unmarked:
        reg.failures.append(
            PluginFailure(
                plugin_name,
                "load",
                f"implements none of the cjm hooks ({', '.join(HOOKS)}); does its entry point "
                f"name the module that holds the @hookimpl functions?",
            )
        )


def _module_of(plugin: object) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__module__


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
