"""What plugins hand to the core: templates, connectors, notebooks (and their parts).

The ``cjm_register_*`` hooks return lists of these. Each is a frozen dataclass so the core can
check it at load time and name the plugin when something is malformed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .model import JourneyCatalog


@dataclass(frozen=True)
class KPI:
    """A key performance indicator a template tracks (``definition`` says how it is computed)."""

    id: str
    name: str
    definition: str
    higher_is_better: bool = True


@dataclass(frozen=True)
class Funnel:
    """Ordered steps (touchpoint, stage or event-type ids) with a conversion window."""

    id: str
    name: str
    steps: tuple[str, ...]
    level: str = "touchpoint"  # touchpoint | stage | event_type
    window: str = "30D"


@dataclass(frozen=True)
class SyntheticData:
    """What a template's generator returns: canonical tables plus the planted truth."""

    tables: Mapping[str, pd.DataFrame]  # events, feedback, customers, costs
    truth: Mapping[str, Any]


@dataclass(frozen=True)
class Template:
    """An industry template: catalog, KPIs, funnels, personas, study defaults, generator.

    ``generate(customers=..., seed=..., **options)`` returns :class:`SyntheticData`;
    ``adapters`` maps a name to a callable reading a real public data set into canonical
    tables.
    """

    name: str
    title: str
    catalog: JourneyCatalog
    description: str = ""
    kpis: tuple[KPI, ...] = ()
    funnels: tuple[Funnel, ...] = ()
    study_defaults: Mapping[str, Any] = field(default_factory=dict)
    generate: Callable[..., SyntheticData] | None = None
    adapters: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Connector:
    """A data-source connector.

    ``options`` maps each option name to a one-line help text; ``read(**options)`` returns a
    dict of canonical table name -> raw DataFrame (columns already renamed to canonical names,
    not yet validated: :func:`cjm_core.bundle.load_bundle` validates).
    """

    name: str
    description: str
    options: Mapping[str, str]
    read: Callable[..., dict[str, pd.DataFrame]]


@dataclass(frozen=True)
class NotebookSpec:
    """A study notebook: ``cjm study run NAME`` executes ``path`` with papermill."""

    name: str
    path: Path
    title: str
    description: str = ""
