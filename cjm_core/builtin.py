"""The built-in plugin: the ``files`` connector and the study notebooks in ``notebooks/``.

It is registered exactly like an external plugin (name ``cjm_core.builtin``, distribution
``cjm-core``) and can be disabled the same way (``CJM_DISABLE_PLUGINS=cjm_core.builtin``).

Which wins on a name clash: the registry keeps the first *registered* item of a name, and
the built-ins are registered before any entry point, so a plugin cannot shadow ``files`` by
accident (its duplicate is reported and skipped; disable the built-ins to replace it). The
hookimpls are also ``trylast``, the pytest habit, so that anyone calling ``pm.hook``
directly sees third-party results first.

A notebook in ``notebooks/`` is a study when its metadata has a ``cjm`` section with a
``title`` (``name`` and ``description`` optional)::

    "metadata": {"cjm": {"title": "Before/after study", "description": "..."}}

Its name defaults to the file stem without a trailing ``_study``
(``before_after_study.ipynb`` -> ``before_after``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from .extensions import Connector, NotebookSpec
from .paths import notebooks_dir
from .plugins import hookimpl
from .registry import PluginWarning


@hookimpl(trylast=True)
def cjm_register_connectors() -> list[Connector]:
    """The built-in connectors: ``files`` (CSV and Parquet with a column mapping), ``sql`` (a
    table or query of a database), ``contact_centre`` (CRM and call exports) and
    ``survey_export`` (wide survey-tool exports), ``ga4`` (the GA4 BigQuery export) and
    ``segment_track`` (Segment track calls) and ``snowplow`` (Snowplow enriched events)."""
    from .connectors.contact_centre import CONTACT_CENTRE_CONNECTOR
    from .connectors.files import FILES_CONNECTOR  # imported here: a failure stays in this hook
    from .connectors.ga4 import GA4_CONNECTOR
    from .connectors.segment import SEGMENT_CONNECTOR
    from .connectors.snowplow import SNOWPLOW_CONNECTOR
    from .connectors.sql import SQL_CONNECTOR
    from .connectors.surveys import SURVEY_CONNECTOR

    return [
        FILES_CONNECTOR,
        SQL_CONNECTOR,
        CONTACT_CENTRE_CONNECTOR,
        SURVEY_CONNECTOR,
        GA4_CONNECTOR,
        SEGMENT_CONNECTOR,
        SNOWPLOW_CONNECTOR,
    ]


@hookimpl(trylast=True)
def cjm_register_notebooks() -> list[NotebookSpec]:
    """Every study notebook of the workspace's ``notebooks/`` folder."""
    return find_notebooks(notebooks_dir())


def find_notebooks(folder: str | Path) -> list[NotebookSpec]:
    """The study notebooks in ``folder``: ``*.ipynb`` whose metadata has ``cjm.title``.

    Notebooks without that metadata (explorations) are left out on purpose; one that is not
    valid JSON is left out with a :class:`~cjm_core.registry.PluginWarning` naming it.
    Plugins that ship notebooks can use it too:
    ``find_notebooks(Path(__file__).parent / "notebooks")``.

    Example::

        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "churn_study.ipynb").write_text(
        ...     '{"cells": [], "metadata": {"cjm": {"title": "Churn"}}, '
        ...     '"nbformat": 4, "nbformat_minor": 5}')
        >>> [(n.name, n.title) for n in find_notebooks(folder)]
        [('churn', 'Churn')]
    """
    folder = Path(folder).resolve()
    specs = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("cjm")
        except (OSError, ValueError, AttributeError) as exc:
            warnings.warn(
                f"Notebook {str(path)!r} is skipped: it is not a readable notebook ({exc}).",
                PluginWarning,
                stacklevel=2,
            )
            continue
        if not isinstance(meta, dict) or not meta.get("title"):
            continue
        specs.append(
            NotebookSpec(
                name=meta.get("name") or path.stem.removesuffix("_study"),
                path=path,
                title=meta["title"],
                description=meta.get("description", ""),
            )
        )
    return specs
