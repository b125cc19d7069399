"""Settings of the synthetic journey generator (:mod:`cjm_core.synth`).

A template describes its simulated world with one :class:`SimulationSettings`: the catalog
(whose persona archetypes carry the behavioural traits below), a Markov-style transition
table over the touchpoints, how journeys convert, what follows a conversion, handling
times, surveys, comment phrases, costs and the planted :class:`Intervention`. The engine
is the same for every template; only these settings differ.

Persona traits read by the engine (``personas[].traits`` in the catalog YAML)::

    affinity: {digital: 1.6, physical: 0.4, assisted: 0.7}  # x weight of moving to a kind
    journeys_per_customer: 2.5     # mean; k = 1 + Poisson(mean - 1), capped at max_journeys
    conversion: {focus: 0.2, other: 0.1}  # focus: journeys that include the intervention
                                          # touchpoint (before it changes); other: the rest
    value_median: 800              # median money value of a conversion (lognormal)
    survey_propensity: 1.0         # x every survey response rate
    satisfaction: 0.3              # tilts this persona's scores up (+) or down (-)
    devices: {mobile: 0.7, desktop: 0.3}   # device of digital events
    age_bands: {"25-34": 0.6, "35-44": 0.4}

Example::

    >>> from cjm_core.synth_settings import tilt
    >>> tilt((0.5, 0.5), 1.0).round(3).tolist()  # scores shifted up
    [0.269, 0.731]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .errors import SimulationError
from .model import JourneyCatalog

#: Version of the engine; bumped whenever the same settings and seed would give other data.
ENGINE_VERSION = "1.0"


@dataclass(frozen=True)
class Intervention:
    """The planted change at one touchpoint, from a date on.

    From the date, journeys whose *first* visit to ``touchpoint`` is on or after it convert
    with probability ``persona focus rate + conversion_lift`` (no clipping), the ``csat``
    answers about the touchpoint follow ``csat_after`` instead of ``csat_before`` (the same
    for every persona; the period of an answer is that of its own timestamp) and the
    ``duration_s`` of its events has median ``duration_after_s`` instead of
    ``duration_before_s``. Nothing else changes across the date.
    """

    touchpoint: str
    date: str
    description: str
    conversion_lift: float
    csat_before: tuple[float, ...]
    csat_after: tuple[float, ...]
    duration_label: str = "duration_s"  # name of the duration effect in truth.json
    duration_before_s: float = 300.0
    duration_after_s: float = 120.0
    duration_sigma: float = 0.6
    csat_rate: float = 0.2  # share of the touchpoint's events answered with a CSAT survey
    extra_monthly_cost: float = 0.0  # what the change costs per month from the date on


@dataclass(frozen=True)
class FollowUp:
    """A touchpoint visited after a conversion with ``probability``, ``delay_s`` later."""

    touchpoint: str
    probability: float
    delay_s: float


@dataclass(frozen=True)
class SurveyRule:
    """Survey answers for ``metric``.

    With ``touchpoints``, each event at one of them is answered with probability ``rate``
    (x the persona's survey propensity), shortly after the event. Without, it is a
    relationship survey: each journey is answered with probability ``rate`` after its last
    event, with no touchpoint. ``scores`` are the probabilities of the scale points from the
    metric's min to max; ``converted_scores`` (optional) those for converted journeys.
    """

    metric: str
    touchpoints: tuple[str, ...]
    rate: float
    scores: tuple[float, ...]
    converted_scores: tuple[float, ...] | None = None
    comment_rate: float = 1.0  # x the sentiment's comment rate


@dataclass(frozen=True)
class PhraseBank:
    """Comment phrases: per touchpoint and sentiment (English), and localised names."""

    details: Mapping[str, Mapping[str, tuple[str, ...]]]  # tp -> sentiment -> phrases
    names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # lang -> tp -> name


@dataclass(frozen=True)
class SimulationSettings:
    """Everything that makes one template's synthetic world (see the module docstring)."""

    template: str
    catalog: JourneyCatalog
    intervention: Intervention
    start_weights: Mapping[str, float]
    transitions: Mapping[str, Mapping[str, float]]  # tp -> {tp or "end": weight}
    conversion_touchpoints: Mapping[str, float]
    follow_ups: Mapping[str, tuple[FollowUp, ...]]  # conversion tp or "*" -> follow-ups
    durations: Mapping[str, tuple[float, float]]  # tp -> (median seconds, log-sigma)
    surveys: tuple[SurveyRule, ...]
    phrases: PhraseBank
    regions: Mapping[str, float]
    languages: Mapping[str, float]
    costs: Mapping[str, tuple[float, float]]  # tp -> (fixed per month, cost per event)
    conversion_requires_visit: bool = False  # convert only at a visited conversion tp
    conversion_boost: Mapping[str, float] = field(default_factory=dict)  # x "other" rate
    fixed_device: Mapping[str, str] = field(default_factory=dict)
    max_steps: int = 25
    max_journeys: int = 8
    max_path_days: float = 10.0
    value_sigma: float = 0.6
    currency: str = "EUR"
    comment_rates: Mapping[str, float] = field(
        default_factory=lambda: {"negative": 0.6, "neutral": 0.3, "positive": 0.45}
    )
    version: str = "1"


@dataclass(frozen=True)
class PersonaBehaviour:
    """The traits of one persona the engine uses (read from the catalog)."""

    id: str
    share: float
    affinity: Mapping[str, float]
    journeys_per_customer: float
    focus_rate: float
    other_rate: float
    value_median: float
    survey_propensity: float
    satisfaction: float
    devices: Mapping[str, float]
    age_bands: Mapping[str, float]


_TRAITS = ("affinity", "journeys_per_customer", "conversion", "value_median",
           "survey_propensity", "satisfaction", "devices", "age_bands")  # fmt: skip


def persona_behaviours(catalog: JourneyCatalog) -> list[PersonaBehaviour]:
    """Read the engine's traits from the catalog's personas; every gap is reported."""
    problems: list[str] = []
    out = []
    for p in catalog.personas:
        missing = [t for t in _TRAITS if t not in p.traits]
        if missing or p.share is None:
            problems.append(f"persona {p.id!r} lacks {missing + ([] if p.share else ['share'])}")
            continue
        t = p.traits
        conv = t["conversion"]
        if not {"focus", "other"} <= set(conv):
            problems.append(f"persona {p.id!r}: conversion needs 'focus' and 'other' rates")
            continue
        out.append(
            PersonaBehaviour(
                id=p.id,
                share=float(p.share),
                affinity={k: float(v) for k, v in t["affinity"].items()},
                journeys_per_customer=float(t["journeys_per_customer"]),
                focus_rate=float(conv["focus"]),
                other_rate=float(conv["other"]),
                value_median=float(t["value_median"]),
                survey_propensity=float(t["survey_propensity"]),
                satisfaction=float(t["satisfaction"]),
                devices=dict(t["devices"]),
                age_bands=dict(t["age_bands"]),
            )
        )
    if not catalog.personas:
        problems.append("the catalog declares no personas")
    total = sum(b.share for b in out)
    if out and not problems and abs(total - 1) > 1e-6:
        problems.append(f"persona shares sum to {total:.6f}, not 1")
    if problems:
        raise SimulationError(
            f"Catalog {catalog.name!r} cannot drive the generator: "
            + "; ".join(problems)
            + ". See cjm_core.synth_settings for the traits each persona needs."
        )
    return out


def check_settings(s: SimulationSettings) -> None:
    """Reject settings that name unknown touchpoints or break the planted-effect rules."""
    tps = set(s.catalog.touchpoint_ids)
    focus = s.intervention.touchpoint
    problems: list[str] = []

    def known(where: str, ids) -> None:
        bad = sorted(set(ids) - tps)
        if bad:
            problems.append(f"{where} names unknown touchpoint(s) {bad}")

    known("intervention", [focus])
    known("start_weights", s.start_weights)
    known("transitions", s.transitions)
    for tp, row in s.transitions.items():
        known(f"transitions[{tp!r}]", [k for k in row if k != "end"])
    known("conversion_touchpoints", s.conversion_touchpoints)
    known("durations", s.durations)
    known("costs", s.costs)
    for rule in s.surveys:
        known(f"survey {rule.metric!r}", rule.touchpoints)
    for key, ups in s.follow_ups.items():
        if key != "*":
            known("follow_ups", [key])
        known(f"follow_ups[{key!r}]", [u.touchpoint for u in ups])
        if any(u.touchpoint == focus for u in ups):
            problems.append(
                f"follow_ups[{key!r}] visits the intervention touchpoint {focus!r}; a visit "
                f"after the conversion would change which journeys 'include' it"
            )
    if focus in s.conversion_touchpoints and not s.conversion_requires_visit:
        problems.append(
            f"the intervention touchpoint {focus!r} is a conversion touchpoint; set "
            f"conversion_requires_visit so a conversion never adds a first visit to it"
        )
    if any(r.metric == "csat" and focus in r.touchpoints for r in s.surveys):
        problems.append(
            f"a survey rule asks csat at {focus!r}; the intervention plants that one "
            f"(intervention.csat_rate)"
        )
    for name in ("csat_before", "csat_after"):
        probs = getattr(s.intervention, name)
        if len(probs) != 5 or abs(sum(probs) - 1) > 1e-9:
            problems.append(f"intervention.{name} must be 5 probabilities summing to 1")
    for rule in s.surveys:
        metric = s.catalog.metric(rule.metric)
        size = int(metric.max - metric.min) + 1
        for probs in (rule.scores, rule.converted_scores):
            if probs is not None and (len(probs) != size or abs(sum(probs) - 1) > 1e-9):
                problems.append(f"survey {rule.metric!r} needs {size} probabilities summing to 1")
    missing = sorted(tps - set(s.durations))
    if missing:
        problems.append(f"durations lack touchpoint(s) {missing}")
    if problems:
        raise SimulationError(
            f"Simulation settings of {s.template!r} are inconsistent: " + "; ".join(problems)
        )


def tilt(probs: tuple[float, ...] | np.ndarray, strength: float) -> np.ndarray:
    """Shift a distribution over ordered scale points up (strength > 0) or down."""
    p = np.asarray(probs, dtype=float)
    z = np.linspace(-0.5, 0.5, len(p))
    w = p * np.exp(strength * z)
    return w / w.sum()


def expected_journeys(mean: float, cap: int) -> float:
    """E[k] for k = 1 + min(Poisson(mean - 1), cap - 1): exact."""
    lam = max(mean - 1.0, 0.0)
    pmf = [math.exp(-lam) * lam**j / math.factorial(j) for j in range(cap - 1)]
    tail = 1.0 - sum(pmf)
    return 1.0 + sum(j * q for j, q in enumerate(pmf)) + (cap - 1) * tail
