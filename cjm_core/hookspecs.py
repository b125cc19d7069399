"""The hooks a cjm plugin can implement: this module is their reference.

One project name, ``cjm``, for the markers, the plugin manager and the entry-point group.
Every hook is prefixed ``cjm_``. The ``cjm_register_*`` hooks take no arguments and return a
*list* of things to add (``[]`` for nothing); the core checks each item when the registry is
built and reports anything malformed by plugin name (see :mod:`cjm_core.registry`).

Plugin authors do not import this module: they mark their functions with
``from cjm_core.plugins import hookimpl`` (the one place the implementation marker lives).
A function whose name is not one of the hooks below (a typo such as
``cjm_register_templatez``) makes the plugin manager fail at start-up with pluggy's
``PluginValidationError``: a misspelt hook would otherwise be ignored without a word.

Example::

    >>> from cjm_core.plugins import hookimpl, registry_with
    >>> class Nothing:
    ...     @staticmethod
    ...     @hookimpl
    ...     def cjm_register_templates():
    ...         return []
    >>> registry_with(Nothing, builtins=False).plugins[0].hooks
    ('cjm_register_templates',)
"""

from __future__ import annotations

import pluggy

from .extensions import Connector, NotebookSpec, Template

hookspec = pluggy.HookspecMarker("cjm")


@hookspec
def cjm_register_templates() -> list[Template]:
    """Add industry templates (``cjm generate NAME``, ``cjm validate --template NAME``).

    :returns: a ``list`` of :class:`cjm_core.extensions.Template`, ``[]`` for none. Each
        template is checked: ``name`` a non-empty string without spaces and unique across
        plugins, ``title`` a non-empty string, ``catalog`` a
        :class:`cjm_core.model.JourneyCatalog`, ``generate`` callable or ``None``
        (``generate(customers=..., seed=..., **options)`` returns
        :class:`~cjm_core.extensions.SyntheticData`), ``kpis`` only
        :class:`~cjm_core.extensions.KPI`, ``funnels`` only
        :class:`~cjm_core.extensions.Funnel` whose touchpoint or stage steps exist in the
        catalog, ``study_defaults`` a mapping, ``adapters`` a mapping of name -> callable.
    """


@hookspec
def cjm_register_connectors() -> list[Connector]:
    """Add data-source connectors (the built-in ``files`` connector comes this way too).

    :returns: a ``list`` of :class:`cjm_core.extensions.Connector`, ``[]`` for none. Each
        connector is checked: ``name`` a non-empty string without spaces and unique across
        plugins, ``description`` a string, ``options`` a mapping of option name (str) ->
        one-line help (str), ``read`` callable as ``read(**options)`` returning a dict of
        canonical table name (``events``, ``feedback``, ``customers``, ``costs``) ->
        ``pandas.DataFrame`` with canonical column names.
    """


@hookspec
def cjm_register_notebooks() -> list[NotebookSpec]:
    """Add study notebooks (``cjm study run NAME``).

    :returns: a ``list`` of :class:`cjm_core.extensions.NotebookSpec`, ``[]`` for none. Each
        spec is checked: ``name`` a non-empty string without spaces and unique across
        plugins, ``title`` a non-empty string, ``path`` an absolute path to an existing
        ``.ipynb`` file (build it from ``Path(__file__).parent`` and ship the notebook as
        package data). The notebook should have one cell tagged ``parameters``.
    """
