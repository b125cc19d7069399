"""The plugin manager: entry points, built-ins, a block-list, and the default registry.

Plugin authors import the one implementation marker from here::

    from cjm_core.plugins import hookimpl

and declare their module in the ``cjm`` entry-point group (see ``docs/plugins.md``).

:func:`make_plugin_manager` builds a fresh :class:`CjmPluginManager`: it registers the
built-in plugin (``cjm_core.builtin``) first, then every ``cjm`` entry point sorted by name,
each loaded on its own so that one that fails to import is recorded (name and error) and
skipped; names in ``CJM_DISABLE_PLUGINS`` are not even imported. It ends with
``check_pending()``: a ``@hookimpl`` whose name is not a cjm hook (a typo) raises pluggy's
``PluginValidationError`` at once, on purpose, rather than being ignored.

Call sites use the typed :class:`~cjm_core.registry.Registry` from :func:`get_registry`
(cached for the process) or, in tests, :func:`registry_with`.

Example::

    >>> from cjm_core.plugins import hookimpl, registry_with
    >>> from cjm_core.extensions import Connector
    >>> class MyPlugin:
    ...     @staticmethod
    ...     @hookimpl
    ...     def cjm_register_connectors():
    ...         return [Connector("echo", "returns nothing", {}, lambda **o: {})]
    >>> registry_with(MyPlugin, builtins=False).plugin_of("connector", "echo")
    'MyPlugin'
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pluggy

from . import hookspecs
from .registry import (
    HOOKS,
    PluginFailure,
    PluginInfo,
    PluginSource,
    PluginWarning,
    Registry,
    _canonical,
    build_registry,
)

__all__ = [
    "ENTRYPOINT_GROUP",
    "DISABLE_ENV",
    "BUILTIN_PLUGINS",
    "CjmPluginManager",
    "PluginFailure",
    "PluginInfo",
    "PluginSource",
    "PluginWarning",
    "Registry",
    "build_registry",
    "get_registry",
    "hookimpl",
    "make_plugin_manager",
    "registry_with",
]

hookimpl = pluggy.HookimplMarker("cjm")

ENTRYPOINT_GROUP = "cjm"
DISABLE_ENV = "CJM_DISABLE_PLUGINS"
BUILTIN_PLUGINS: tuple[str, ...] = ("cjm_core.builtin",)
CORE_DISTRIBUTION = "cjm-core"


class CjmPluginManager(pluggy.PluginManager):
    """A pluggy manager for project ``cjm`` that remembers where plugins came from.

    ``sources`` maps each registered plugin name to its :class:`PluginSource`;
    ``load_failures`` lists plugins that could not be imported or registered;
    ``disabled`` lists plugins skipped because of the block-list.
    """

    def __init__(self) -> None:
        super().__init__("cjm")
        self.sources: dict[str, PluginSource] = {}
        self.load_failures: list[PluginFailure] = []
        self.disabled: list[PluginSource] = []


def make_plugin_manager(
    *,
    load_entrypoints: bool = True,
    disabled: Iterable[str] | str | None = None,
    builtins: bool = True,
    plugins: Sequence[object] = (),
    entrypoint_path: Sequence[str | Path] | None = None,
) -> CjmPluginManager:
    """Build a fresh plugin manager with the hookspecs, built-ins and entry points loaded.

    :param load_entrypoints: load the ``cjm`` entry-point group.
    :param disabled: plugin names not to load; an entry point is skipped when its name or
        its distribution's name matches (``banking`` or ``cjm-banking``; ``-``, ``_`` and
        case do not matter). ``None`` reads the comma-separated ``CJM_DISABLE_PLUGINS``.
        ``cjm_core.builtin`` disables the built-ins.
    :param builtins: register the built-in plugin ``cjm_core.builtin``.
    :param plugins: extra plugin objects (modules, classes, instances) registered last,
        named after their ``__name__`` (or class name).
    :param entrypoint_path: look for distributions only on these folders (default:
        ``sys.path``).
    :raises pluggy.PluginValidationError: a ``@hookimpl`` names no cjm hook (a typo) or has
        the wrong signature; the note says which plugin and the hook names that exist.

    Example::

        >>> pm = make_plugin_manager(load_entrypoints=False)
        >>> pm.has_plugin("cjm_core.builtin")
        True
    """
    pm = CjmPluginManager()
    pm.add_hookspecs(hookspecs)
    blocked = _parse_disabled(os.environ.get(DISABLE_ENV, "") if disabled is None else disabled)
    if builtins:
        for module in BUILTIN_PLUGINS:
            source = PluginSource(module, module, CORE_DISTRIBUTION, _core_version())
            _add(pm, source, _importer(module), blocked, f"built-in module {module!r}")
    if load_entrypoints:
        for ep, source in _entry_points(entrypoint_path):
            what = f"entry point '{ep.name} = {ep.value}' of {source.distribution} {source.version}"
            _add(pm, source, ep.load, blocked, what)
    for plugin in plugins:
        name = _inline_name(pm, plugin)
        source = PluginSource(name, getattr(plugin, "__module__", None) or name)
        _add(pm, source, lambda p=plugin: p, blocked, f"inline plugin {name!r}")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        exc.add_note(_typo_note(pm, exc.plugin))
        raise
    return pm


def registry_with(
    *plugins: object,
    load_entrypoints: bool = False,
    builtins: bool = True,
    disabled: Iterable[str] | str | None = None,
    warn: bool = True,
) -> Registry:
    """A fresh registry with the built-ins plus ``plugins`` (a helper for plugin tests).

    Nothing installed is loaded unless ``load_entrypoints=True``, so a test sees exactly the
    plugins it passes.

    Example::

        >>> import cjm_core.builtin
        >>> registry_with(cjm_core.builtin, builtins=False).plugins[0].name
        'cjm_core.builtin'
    """
    pm = make_plugin_manager(
        load_entrypoints=load_entrypoints, disabled=disabled, builtins=builtins, plugins=plugins
    )
    return build_registry(pm, warn=warn)


_DEFAULT: Registry | None = None


def get_registry(refresh: bool = False) -> Registry:
    """The process-wide registry: entry points + built-ins, honouring CJM_DISABLE_PLUGINS.

    Built once (failures are warned about once) and cached; ``refresh=True`` rebuilds it,
    e.g. after installing a plugin in a running notebook.

    Example::

        >>> "files" in get_registry().connectors  # doctest: +SKIP
        True
    """
    global _DEFAULT
    if _DEFAULT is None or refresh:
        _DEFAULT = build_registry(make_plugin_manager())
    return _DEFAULT


# -- helpers ---------------------------------------------------------------------------------
def _add(
    pm: CjmPluginManager,
    source: PluginSource,
    load: Callable[[], object],
    blocked: set[str],
    what: str,
) -> None:
    """Load one plugin and register it, recording (not raising) what goes wrong."""
    if {_canonical(source.name), _canonical(source.distribution or "")} & blocked:
        pm.set_blocked(source.name)
        pm.disabled.append(source)
        return
    if pm.has_plugin(source.name):
        other = pm.sources.get(source.name)
        pm.load_failures.append(
            PluginFailure(
                source.name,
                "load",
                f"{what} is skipped: the plugin name {source.name!r} is already used by "
                f"{other.label() if other else 'another plugin'}; rename one entry point",
            )
        )
        return
    try:
        plugin = load()
    except (Exception, SystemExit) as exc:
        pm.load_failures.append(
            PluginFailure(
                source.name, "load", f"{what} failed to import: {type(exc).__name__}: {exc}"
            )
        )
        return
    try:
        pm.register(plugin, name=source.name)
    except pluggy.PluginValidationError as exc:
        exc.add_note(_typo_note(pm, plugin, source.name))
        raise
    except ValueError as exc:  # the same object is already registered under another name
        pm.load_failures.append(
            PluginFailure(source.name, "load", f"{what} could not be registered: {exc}")
        )
        return
    pm.sources[source.name] = source


def _entry_points(
    path: Sequence[str | Path] | None,
) -> list[tuple[importlib.metadata.EntryPoint, PluginSource]]:
    """Entry points of group ``cjm``, one per distribution name, sorted by entry-point name."""
    if path is None:
        dists = importlib.metadata.distributions()
    else:
        dists = importlib.metadata.distributions(path=[str(p) for p in path])
    seen: set[str] = set()
    found = []
    for dist in dists:
        dist_name = dist.name or "?"
        if _canonical(dist_name) in seen:  # the first on the path wins, as for imports
            continue
        seen.add(_canonical(dist_name))
        for ep in dist.entry_points:
            if ep.group == ENTRYPOINT_GROUP:
                found.append((ep, PluginSource(ep.name, ep.value, dist_name, dist.version)))
    found.sort(key=lambda pair: (pair[1].name, _canonical(pair[1].distribution or "")))
    return found


def _parse_disabled(disabled: Iterable[str] | str) -> set[str]:
    names = disabled.split(",") if isinstance(disabled, str) else disabled
    return {_canonical(n.strip()) for n in names if n.strip()}


def _importer(module: str) -> Callable[[], object]:
    return lambda: importlib.import_module(module)


def _inline_name(pm: CjmPluginManager, plugin: object) -> str:
    base = getattr(plugin, "__name__", None) or type(plugin).__name__
    name, n = base, 1
    while pm.has_plugin(name):
        n += 1
        name = f"{base}-{n}"
    return name


def _core_version() -> str:
    try:
        return importlib.metadata.version(CORE_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _typo_note(pm: pluggy.PluginManager, plugin: object, name: str | None = None) -> str:
    name = name or pm.get_name(plugin) or repr(plugin)
    unknown = [c.name for c in pm.get_hookcallers(plugin) or [] if not c.has_spec()]
    hints = [
        f"{u!r} -> did you mean {m[0]!r}?"
        for u in unknown
        if (m := difflib.get_close_matches(u, list(HOOKS), n=1))
    ]
    return (
        f"cjm plugin {name!r}: the cjm hooks are {', '.join(HOOKS)} (see docs/plugins.md). "
        + " ".join(hints)
        + f" Fix the plugin, or skip it with {DISABLE_ENV}={name}."
    )
