"""Checks of what plugins hand back: one function per kind, each listing every problem.

The registry (:mod:`cjm_core.registry`) calls :func:`check_item` on every template,
connector and notebook a hook returns; an item with problems is reported with the plugin's
name and skipped.

Example::

    >>> from cjm_core.extensions import Connector
    >>> check_item("connector", Connector("csv", "CSV files", {"sep": 1}, print))[1]
    ["options must map str -> str; bad entries: ['sep']"]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .extensions import KPI, Connector, Funnel, NotebookSpec, Template
from .model import JourneyCatalog


def check_item(kind: str, item: Any) -> tuple[Any, list[str]]:
    """Check one ``template``, ``connector`` or ``notebook``: (normalised item, problems).

    The item must already be of the right class; a notebook ``path`` given as ``str`` comes
    back as a :class:`~pathlib.Path`.
    """
    return _CHECKS[kind](item)


def short_repr(value: Any) -> str:
    """``a dict ({'stages': []})``: the type and a repr cut at 60 characters."""
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"a {type(value).__name__} ({text})"


_WORD = re.compile(r"\S+")


def _check_name(item: Any) -> list[str]:
    if not isinstance(item.name, str) or not _WORD.fullmatch(item.name):
        return [f"name must be a non-empty string without spaces, got {item.name!r}"]
    return []


def _check_title(item: Any) -> list[str]:
    if not isinstance(item.title, str) or not item.title.strip():
        return [f"title must be a non-empty string, got {item.title!r}"]
    return []


def _check_template(t: Template) -> tuple[Template, list[str]]:
    problems = _check_name(t) + _check_title(t)
    if not isinstance(t.catalog, JourneyCatalog):
        problems.append(f"catalog must be a JourneyCatalog, got {short_repr(t.catalog)}")
    if t.generate is not None and not callable(t.generate):
        problems.append(f"generate must be callable or None, got {short_repr(t.generate)}")
    problems += [f"kpis[{i}] is {short_repr(k)}, not a KPI" for i, k in _bad(t.kpis, KPI)]
    problems += [
        f"funnels[{i}] is {short_repr(f)}, not a Funnel" for i, f in _bad(t.funnels, Funnel)
    ]
    if isinstance(t.catalog, JourneyCatalog) and isinstance(t.funnels, list | tuple):
        known = {"touchpoint": set(t.catalog.touchpoint_ids), "stage": set(t.catalog.stage_ids)}
        for f in t.funnels:
            if not isinstance(f, Funnel):
                continue
            if f.level not in (*known, "event_type"):
                problems.append(
                    f"funnel {f.id!r} has level {f.level!r}; expected touchpoint, stage or "
                    f"event_type"
                )
            elif f.level in known and (missing := [s for s in f.steps if s not in known[f.level]]):
                problems.append(f"funnel {f.id!r} has steps not in the catalog: {missing}")
    if not isinstance(t.study_defaults, Mapping):
        problems.append(f"study_defaults must be a mapping, got {short_repr(t.study_defaults)}")
    if not isinstance(t.adapters, Mapping) or not all(
        isinstance(k, str) and callable(v) for k, v in t.adapters.items()
    ):
        problems.append(f"adapters must map names to callables, got {short_repr(t.adapters)}")
    return t, problems


def _check_connector(c: Connector) -> tuple[Connector, list[str]]:
    problems = _check_name(c)
    if not isinstance(c.description, str):
        problems.append(f"description must be a string, got {short_repr(c.description)}")
    if not callable(c.read):
        problems.append(f"read must be callable, got {short_repr(c.read)}")
    if not isinstance(c.options, Mapping):
        problems.append(
            f"options must be a mapping of option name -> help text, got {short_repr(c.options)}"
        )
    else:
        bad = [k for k, v in c.options.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            problems.append(f"options must map str -> str; bad entries: {bad}")
    return c, problems


def _check_notebook(n: NotebookSpec) -> tuple[NotebookSpec, list[str]]:
    problems = _check_name(n) + _check_title(n)
    if isinstance(n.path, str):
        n = replace(n, path=Path(n.path))
    if not isinstance(n.path, Path):
        problems.append(f"path must be a pathlib.Path, got {short_repr(n.path)}")
    elif not n.path.is_absolute():
        problems.append(f"path {str(n.path)!r} must be absolute (build it from __file__)")
    elif n.path.suffix != ".ipynb" or not n.path.is_file():
        problems.append(f"path {str(n.path)!r} is not an existing .ipynb file")
    return n, problems


_CHECKS: dict[str, Callable[[Any], tuple[Any, list[str]]]] = {
    "template": _check_template,
    "connector": _check_connector,
    "notebook": _check_notebook,
}


def _bad(items: Any, cls: type) -> list[tuple[int, Any]]:
    if not isinstance(items, list | tuple):
        return [(0, items)]
    return [(i, x) for i, x in enumerate(items) if not isinstance(x, cls)]
