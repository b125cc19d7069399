"""The planted truth of a synthetic data set, computed exactly from the model.

- Conversion: among journeys that include the intervention ("focus") touchpoint, the share
  with a conversion (which always comes after the first focus visit), split by the date of
  that first visit. Persona ``p`` converts with ``focus_p`` before and ``focus_p + lift``
  after, so the ``difference`` is exactly ``lift``. ``before`` / ``after`` are the
  population rates pooled over the persona mix of focus journeys, whose weights
  ``share_p x E[journeys_p] x P(a journey of p visits the focus touchpoint)`` are exact
  (the visit probability from the transition matrix, the journey count from its capped
  Poisson law). The mix is the same before and after because the first focus visit is
  placed uniformly in the window whatever the persona.
- CSAT at the focus touchpoint: the means of ``csat_before`` / ``csat_after``.
- Duration (wait or handling time) at the focus touchpoint: the lognormal medians.

Example::

    >>> from cjm_core.synth_truth import scale_mean
    >>> scale_mean((0.16, 0.24, 0.30, 0.20, 0.10))
    2.84
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .synth_settings import ENGINE_VERSION, SimulationSettings, expected_journeys


def scale_mean(probs, low: int = 1) -> float:
    """Mean score of a distribution over the points ``low, low + 1, ...``."""
    return _r(sum((low + k) * p for k, p in enumerate(probs)))


def _r(x: float) -> float:
    return round(float(x), 12)


def visit_probability(world, persona: int, max_steps: int) -> float:
    """P(a walk of ``persona`` visits the focus touchpoint within ``max_steps`` steps)."""
    n = len(world.tps)
    mass = world.start[persona].copy()
    q = world.trans[persona, :, :n]
    hit = 0.0
    for step in range(max_steps):
        hit += mass[world.focus]
        mass[world.focus] = 0.0
        if step < max_steps - 1:
            mass = mass @ q
    return float(hit)


def compute_truth(s: SimulationSettings, world, bs, w, *, seed: int, customers: int,
                  start: str, end: str) -> dict[str, Any]:  # fmt: skip
    """The ``truth.json`` content (see the module docstring)."""
    iv = s.intervention
    focus = iv.touchpoint
    date = str(np.datetime64(w.date, "s").astype("datetime64[D]"))
    lift = iv.conversion_lift
    personas = {}
    weights = []
    for p, b in enumerate(bs):
        ej = expected_journeys(b.journeys_per_customer, s.max_journeys)
        hit = visit_probability(world, p, s.max_steps)
        weights.append(b.share * ej * hit)
        personas[b.id] = {
            "share": b.share,
            "expected_journeys": _r(ej),
            "focus_visit_probability": _r(hit),
            "before": b.focus_rate,
            "after": _r(b.focus_rate + lift),
        }
    wt = np.array(weights) / sum(weights)
    before = float(np.dot(wt, [b.focus_rate for b in bs]))
    for b, x in zip(bs, wt, strict=True):
        personas[b.id]["weight"] = _r(x)
    csat_b, csat_a = scale_mean(iv.csat_before), scale_mean(iv.csat_after)
    diff = sum((k + 1) * (a - b) for k, (a, b) in enumerate(zip(iv.csat_after, iv.csat_before,
                                                                strict=True)))  # fmt: skip
    return {
        "template": s.template,
        "seed": seed,
        "customers": customers,
        "start": start,
        "end": end,
        "generator_version": f"{ENGINE_VERSION}/{s.version}",
        "generator": {
            "engine": "cjm_core.synth",
            "engine_version": ENGINE_VERSION,
            "settings_version": s.version,
        },  # fmt: skip
        "intervention": {"touchpoint": focus, "date": date, "description": iv.description},
        "effects": {
            "conversion": {
                "touchpoint": focus,
                "definition": (
                    f"Among journeys with at least one {focus} event: the share with an "
                    f"event_type == 'conversion' event at or after the first {focus} event; "
                    f"'after' when that first {focus} event is on or after {date} (UTC)."
                ),
                "before": _r(before),
                "after": _r(before + lift),
                "difference": lift,
                "exact": "difference is exact; before and after are population rates "
                "pooled over the persona mix (exact weights in by_persona)",
                "expected_journeys": _r(customers * sum(weights)),
                "by_persona": personas,
            },
            "csat": {
                "touchpoint": focus,
                "definition": (
                    f"Mean score of feedback rows with metric == 'csat' and touchpoint == "
                    f"{focus!r}; 'after' when the answer's timestamp is on or after {date}."
                ),
                "before": csat_b,
                "after": csat_a,
                "difference": _r(diff),
                "distribution_before": list(iv.csat_before),
                "distribution_after": list(iv.csat_after),
            },
            iv.duration_label: {
                "touchpoint": focus,
                "definition": f"Median duration_s of {focus} events, by the event's timestamp.",
                "median_before": iv.duration_before_s,
                "median_after": iv.duration_after_s,
            },
        },
        "notes": [
            "Nothing else changes across the date: the data are stationary otherwise.",
            "Rates are population values; a sample differs by sampling error.",
            "Answers and follow-up visits that would fall after the window are not in the data.",
        ],
    }
