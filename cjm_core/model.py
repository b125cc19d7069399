"""The journey catalog: stages, channels, touchpoints, metrics and personas.

Plain frozen dataclasses, validated when a :class:`JourneyCatalog` is built. A catalog with
duplicate ids, dangling references or unknown kinds is rejected with a
:class:`~cjm_core.errors.CatalogError` that names every offending item.

Example::

    >>> from cjm_core import JourneyCatalog
    >>> cat = JourneyCatalog.from_dict({
    ...     "stages": [{"id": "buy", "name": "Buy"}],
    ...     "channels": [{"id": "web", "name": "Web"}],
    ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
    ...                      "stage": "buy", "kind": "digital"}],
    ... })
    >>> cat.touchpoint("site").channel
    'web'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import CatalogError

TOUCHPOINT_KINDS = ("digital", "physical", "assisted")


@dataclass(frozen=True)
class Stage:
    """A step of the journey; ``order`` is its position (0 = first)."""

    id: str
    name: str
    order: int = 0
    description: str = ""


@dataclass(frozen=True)
class Channel:
    """A medium through which customers reach touchpoints (web, phone, store ...)."""

    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Touchpoint:
    """A place where the company meets the customer.

    ``kind`` is one of ``digital``, ``physical`` or ``assisted`` (a person helps).
    ``target_s`` (optional) is its service level in seconds: a visit whose ``duration_s``
    (the wait, or the time taken) is longer counts as a pain (see
    :func:`cjm_core.pain_points`); ``effort`` (optional, 1 easy .. 5 hard) is how hard it
    is to improve, for the impact-effort matrix.
    """

    id: str
    name: str
    channel: str
    stage: str
    kind: str
    description: str = ""
    target_s: float | None = None
    effort: float | None = None


@dataclass(frozen=True)
class Metric:
    """A feedback metric with its declared scale (inclusive)."""

    id: str
    name: str
    min: float
    max: float
    integer: bool = True
    description: str = ""

    def contains(self, score: float) -> bool:
        return self.min <= score <= self.max and (not self.integer or float(score).is_integer())


#: Metrics every catalog knows, with their standard scales.
STANDARD_METRICS: tuple[Metric, ...] = (
    Metric("nps", "Net Promoter Score", 0, 10, description="likelihood to recommend, 0-10"),
    Metric(
        "csat", "Customer satisfaction", 1, 5, description="1 very dissatisfied .. 5 very satisfied"
    ),
    Metric(
        "ces",
        "Customer effort score",
        1,
        7,
        description="agreement that the company made it easy: 1 strongly disagree .. 7 "
        "strongly agree (higher is better)",
    ),
)


@dataclass(frozen=True)
class Persona:
    """A customer archetype: a name, a description and the traits that define it."""

    id: str
    name: str
    description: str = ""
    share: float | None = None
    traits: Mapping[str, Any] = field(default_factory=dict)


_FIELDS = {
    "stages": (Stage, ("id", "name")),
    "channels": (Channel, ("id", "name")),
    "touchpoints": (Touchpoint, ("id", "name", "channel", "stage", "kind")),
    "metrics": (Metric, ("id", "name", "min", "max")),
    "personas": (Persona, ("id", "name")),
}


@dataclass(frozen=True)
class JourneyCatalog:
    """Stages (ordered), channels, touchpoints, extra metrics and persona archetypes."""

    stages: tuple[Stage, ...]
    channels: tuple[Channel, ...]
    touchpoints: tuple[Touchpoint, ...]
    metrics: tuple[Metric, ...] = ()
    personas: tuple[Persona, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        problems = _check(self)
        if problems:
            label = f"catalog {self.name!r}" if self.name else "catalog"
            raise CatalogError(
                f"Invalid {label}: {len(problems)} problem(s):\n"
                + "\n".join(f"  - {p}" for p in problems)
            )

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str = "") -> JourneyCatalog:
        """Build a catalog from plain data (as read from YAML)."""
        if not isinstance(data, Mapping):
            raise CatalogError(
                f"A catalog must be a mapping with 'stages', 'channels' and 'touchpoints'; "
                f"got {type(data).__name__}."
            )
        unknown = set(data) - set(_FIELDS) - {"name"}
        if unknown:
            raise CatalogError(
                f"Unknown catalog section(s) {sorted(unknown)}; "
                f"expected some of {sorted(_FIELDS)} and 'name'."
            )
        problems: list[str] = []
        built: dict[str, list] = {}
        for section, (klass, required) in _FIELDS.items():
            items = data.get(section) or []
            if section in ("stages", "channels", "touchpoints") and not items:
                problems.append(f"section '{section}' is missing or empty")
            built[section] = []
            for i, item in enumerate(items):
                if not isinstance(item, Mapping):
                    problems.append(f"{section}[{i}] must be a mapping, got {item!r}")
                    continue
                missing = [f for f in required if item.get(f) in (None, "")]
                if missing:
                    problems.append(
                        f"{section}[{i}] ({item.get('id', '?')!r}) lacks required field(s) "
                        f"{missing}"
                    )
                    continue
                allowed = set(klass.__dataclass_fields__)
                extra = set(item) - allowed - {"order"}
                if extra:
                    problems.append(
                        f"{section}[{i}] ({item.get('id')!r}) has unknown field(s) "
                        f"{sorted(extra)}; allowed: {sorted(allowed)}"
                    )
                    continue
                values = {k: v for k, v in item.items() if k in allowed}
                if klass is Stage:
                    values["order"] = i
                built[section].append(klass(**values))
        if problems:
            label = f"catalog {name or data.get('name')!r}"
            raise CatalogError(
                f"Invalid {label}: {len(problems)} problem(s):\n"
                + "\n".join(f"  - {p}" for p in problems)
            )
        return cls(
            stages=tuple(built["stages"]),
            channels=tuple(built["channels"]),
            touchpoints=tuple(built["touchpoints"]),
            metrics=tuple(built["metrics"]),
            personas=tuple(built["personas"]),
            name=name or str(data.get("name", "")),
        )

    @classmethod
    def from_yaml(cls, path: str | Path, name: str = "") -> JourneyCatalog:
        """Read a catalog from a YAML file (see ``plugins/cjm_banking`` for an example)."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CatalogError(f"Catalog file {str(path)!r} does not exist.") from None
        except yaml.YAMLError as exc:
            raise CatalogError(f"Catalog file {str(path)!r} is not valid YAML: {exc}") from None
        return cls.from_dict(data, name=name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for section in _FIELDS:
            rows = []
            for item in getattr(self, section):
                row = asdict(item)
                row.pop("order", None)
                if isinstance(item, Persona):
                    row["traits"] = dict(item.traits)
                if isinstance(item, Touchpoint):  # optional service level and effort
                    row = {k: v for k, v in row.items() if v is not None}
                rows.append(row)
            out[section] = rows
        return out

    # -- look-ups ----------------------------------------------------------------------
    def touchpoint(self, touchpoint_id: str) -> Touchpoint:
        return _lookup(self.touchpoints, touchpoint_id, "touchpoint")

    def stage(self, stage_id: str) -> Stage:
        return _lookup(self.stages, stage_id, "stage")

    def channel(self, channel_id: str) -> Channel:
        return _lookup(self.channels, channel_id, "channel")

    def persona(self, persona_id: str) -> Persona:
        return _lookup(self.personas, persona_id, "persona")

    def metric(self, metric_id: str) -> Metric:
        return _lookup(self.all_metrics, metric_id, "metric")

    @property
    def all_metrics(self) -> tuple[Metric, ...]:
        """The standard metrics (nps, csat, ces) plus those this catalog declares."""
        own = {m.id for m in self.metrics}
        return tuple(m for m in STANDARD_METRICS if m.id not in own) + self.metrics

    @property
    def touchpoint_ids(self) -> list[str]:
        return [t.id for t in self.touchpoints]

    @property
    def stage_ids(self) -> list[str]:
        return [s.id for s in sorted(self.stages, key=lambda s: s.order)]

    @property
    def channel_ids(self) -> list[str]:
        return [c.id for c in self.channels]

    def channel_of(self) -> dict[str, str]:
        """Touchpoint id -> channel id."""
        return {t.id: t.channel for t in self.touchpoints}

    def stage_of(self) -> dict[str, str]:
        """Touchpoint id -> stage id."""
        return {t.id: t.stage for t in self.touchpoints}

    def __repr__(self) -> str:
        return (
            f"JourneyCatalog(name={self.name!r}, stages={len(self.stages)}, "
            f"channels={len(self.channels)}, touchpoints={len(self.touchpoints)}, "
            f"personas={len(self.personas)})"
        )


def _lookup(items: Iterable, item_id: str, what: str):
    for item in items:
        if item.id == item_id:
            return item
    known = ", ".join(sorted(i.id for i in items)) or "none"
    raise CatalogError(f"No {what} with id {item_id!r} in the catalog; known: {known}.")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check(cat: JourneyCatalog) -> list[str]:
    problems: list[str] = []
    for section in _FIELDS:
        seen: set[str] = set()
        for item in getattr(cat, section):
            if not isinstance(item.id, str) or not item.id.strip() or " " in item.id:
                problems.append(f"{section[:-1]} id {item.id!r} must be a non-empty word")
            elif item.id in seen:
                problems.append(f"duplicate {section[:-1]} id {item.id!r}")
            seen.add(item.id)
    stages = {s.id for s in cat.stages}
    channels = {c.id for c in cat.channels}
    for t in cat.touchpoints:
        if t.channel not in channels:
            problems.append(
                f"touchpoint {t.id!r} refers to unknown channel {t.channel!r} "
                f"(channels: {', '.join(sorted(channels))})"
            )
        if t.stage not in stages:
            problems.append(
                f"touchpoint {t.id!r} refers to unknown stage {t.stage!r} "
                f"(stages: {', '.join(sorted(stages))})"
            )
        if t.kind not in TOUCHPOINT_KINDS:
            problems.append(
                f"touchpoint {t.id!r} has unknown kind {t.kind!r}; "
                f"expected one of {', '.join(TOUCHPOINT_KINDS)}"
            )
        target_ok = t.target_s is None or (_number(t.target_s) and t.target_s > 0)
        if not target_ok:
            problems.append(
                f"touchpoint {t.id!r} has target_s {t.target_s!r}; expected seconds > 0"
            )
        if t.effort is not None and not (_number(t.effort) and 1 <= t.effort <= 5):
            problems.append(f"touchpoint {t.id!r} has effort {t.effort!r}; expected 1 to 5")
    for m in cat.metrics:
        if not (isinstance(m.min, int | float) and isinstance(m.max, int | float)):
            problems.append(f"metric {m.id!r} needs numeric min and max")
        elif m.min >= m.max:
            problems.append(f"metric {m.id!r} has min {m.min} not below max {m.max}")
    for p in cat.personas:
        if p.share is not None and not 0 < p.share <= 1:
            problems.append(f"persona {p.id!r} has share {p.share}; expected 0 < share <= 1")
    return problems
