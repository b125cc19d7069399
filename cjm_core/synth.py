"""The seeded synthetic journey generator every industry template shares.

:func:`simulate` turns a template's :class:`~cjm_core.synth_settings.SimulationSettings`
into canonical tables (events, feedback, customers, costs) plus the planted truth. Only the
settings differ between templates. How the world works:

- customers belong to personas (the catalog's shares); each has 1..k journeys;
- a journey is a walk over the touchpoints drawn from the persona's transition matrix (the
  template's weights x the persona's affinity for digital / physical / assisted
  touchpoints), with loops and back-tracking; events are minutes (same channel) to days
  (switching channel) apart;
- most journeys do not convert. A journey that includes the intervention ("focus")
  touchpoint converts with the persona's ``focus`` rate, plus the planted lift when its
  *first* visit to the focus touchpoint is on or after the intervention date; other
  journeys convert with the persona's ``other`` rate. A conversion is an event with
  ``event_type == "conversion"`` and a ``value`` after the walk, followed by follow-up visits
  (delivery, onboarding ...);
- the first visit to the focus touchpoint is placed uniformly in the window, whatever the
  persona and path, so the persona mix of focus journeys is the same before and after the
  date and a naive before/after comparison is unbiased. Focus journeys are squeezed in time
  to end inside the window (their conversion is never cut off); other journeys and
  follow-ups are simply cut at the window's edges;
- only a minority answers surveys (see :mod:`cjm_core.synth_feedback`); comments follow the
  score (:mod:`cjm_core.synth_text`).

The truth (:mod:`cjm_core.synth_truth`) is computed exactly from the model.

Example::

    >>> from cjm_banking.generator import settings  # doctest: +SKIP
    >>> data = simulate(settings(), customers=200, seed=1)  # doctest: +SKIP
    >>> sorted(data.tables)  # doctest: +SKIP
    ['costs', 'customers', 'events', 'feedback']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import SimulationError
from .extensions import SyntheticData
from .synth_feedback import make_costs, make_feedback
from .synth_settings import (
    PersonaBehaviour,
    SimulationSettings,
    check_settings,
    persona_behaviours,
)
from .synth_truth import compute_truth

DAY = 86_400
TIMESTAMP_DTYPE = pd.DatetimeTZDtype(unit="us", tz="UTC")
# Relative activity by hour of day (UTC), for the time of day a journey's anchor falls on.
HOUR_PROFILE = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.2, 2.0, 2.5, 2.6, 2.6, 2.5, 2.5,
                         2.4, 2.3, 2.3, 2.4, 2.5, 2.4, 2.0, 1.5, 1.0, 0.6])  # fmt: skip


@dataclass(frozen=True)
class World:
    """Index arrays and per-persona matrices built once from the settings."""

    tps: tuple[str, ...]
    kinds: np.ndarray  # per touchpoint
    channels: np.ndarray
    focus: int
    start: np.ndarray  # (personas, tps) probabilities of the first touchpoint
    trans: np.ndarray  # (personas, tps, tps + 1) probabilities; last column = end
    conv_tps: np.ndarray  # indices of the conversion touchpoints
    conv_probs: np.ndarray  # (personas, len(conv_tps)) choice probabilities


@dataclass(frozen=True)
class Window:
    start: int  # epoch seconds, inclusive
    end: int  # exclusive (the day after ``end``)
    date: int  # intervention date, midnight UTC

    @property
    def days(self) -> int:
        return (self.end - self.start) // DAY


def build_world(s: SimulationSettings, behaviours: list[PersonaBehaviour]) -> World:
    """The per-persona start and transition probabilities (also used for the truth)."""
    tps = tuple(s.catalog.touchpoint_ids)
    ix = {t: i for i, t in enumerate(tps)}
    kinds = np.array([s.catalog.touchpoint(t).kind for t in tps])
    n = len(tps)
    start = np.zeros((len(behaviours), n))
    trans = np.zeros((len(behaviours), n, n + 1))
    conv_tps = np.array([ix[t] for t in s.conversion_touchpoints])
    conv = np.zeros((len(behaviours), len(conv_tps)))
    for p, b in enumerate(behaviours):
        aff = np.array([b.affinity.get(k, 1.0) for k in kinds])
        for t, w in s.start_weights.items():
            start[p, ix[t]] = w * aff[ix[t]]
        for i, t in enumerate(tps):
            row = s.transitions.get(t, {"end": 1.0})
            for to, w in row.items():
                trans[p, i, n if to == "end" else ix[to]] = w * (
                    1.0 if to == "end" else aff[ix[to]]
                )
        conv[p] = [w * aff[ix[t]] for t, w in s.conversion_touchpoints.items()]
    start /= start.sum(axis=1, keepdims=True)
    trans /= trans.sum(axis=2, keepdims=True)
    conv /= conv.sum(axis=1, keepdims=True)
    return World(tps, kinds, np.array([s.catalog.touchpoint(t).channel for t in tps]),
                 ix[s.intervention.touchpoint], start, trans, conv_tps, conv)  # fmt: skip


def _day(text: str, what: str) -> int:
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise SimulationError(f"{what} {text!r} is not a date; use YYYY-MM-DD.") from None
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.normalize().value // 10**9)


def make_window(start: str, end: str, intervention_date: str) -> Window:
    """Check the dates: ``start`` <= ``intervention_date`` <= ``end`` (inclusive days)."""
    w = Window(_day(start, "start"), _day(end, "end") + DAY, _day(intervention_date, "date"))
    if w.end - w.start < 14 * DAY:
        raise SimulationError(f"The window {start} .. {end} must span at least 14 days.")
    if not w.start < w.date < w.end - DAY:
        raise SimulationError(
            f"The intervention date {intervention_date} must fall inside the window "
            f"{start} .. {end} (after its first day and before its last)."
        )
    return w


def _cum(p: np.ndarray) -> np.ndarray:
    c = np.cumsum(p, axis=-1)
    c[..., -1] = 1.0
    return c


def _lognormal(rng: np.random.Generator, median, sigma, size=None) -> np.ndarray:
    return np.exp(np.log(median) + sigma * rng.standard_normal(size))


def _customers(s: SimulationSettings, bs: list[PersonaBehaviour], n: int, rng, w: Window):
    persona = rng.choice(len(bs), size=n, p=[b.share for b in bs])
    region = rng.choice(list(s.regions), size=n, p=list(s.regions.values()))
    language = rng.choice(list(s.languages), size=n, p=list(s.languages.values()))
    age = np.empty(n, dtype=object)
    device = np.empty(n, dtype=object)
    for p, b in enumerate(bs):
        m = persona == p
        age[m] = rng.choice(list(b.age_bands), size=m.sum(), p=list(b.age_bands.values()))
        device[m] = rng.choice(list(b.devices), size=m.sum(), p=list(b.devices.values()))
    signup = w.start - DAY * rng.integers(1, 8 * 365, size=n)
    lam = np.array([max(b.journeys_per_customer - 1, 0.0) for b in bs])
    k = 1 + np.minimum(rng.poisson(lam[persona]), s.max_journeys - 1)
    width = max(6, len(str(n)))
    ids = np.array([f"C{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
    table = pd.DataFrame({
        "customer_id": ids, "persona": [bs[p].id for p in persona], "region": region,
        "age_band": age, "language": language, "preferred_device": device,
        "signup_date": pd.to_datetime(signup, unit="s", utc=True).astype(TIMESTAMP_DTYPE),
    })  # fmt: skip
    return table, persona, language, k


def _walk(rng, world: World, persona: np.ndarray, max_steps: int) -> np.ndarray:
    """(journeys, max_steps) touchpoint indices of each walk, -1 after its end."""
    n_tp = len(world.tps)
    path = np.full((len(persona), max_steps), -1, dtype=np.int64)
    start, trans = _cum(world.start), _cum(world.trans)
    cur = (start[persona] <= rng.random(len(persona))[:, None]).sum(axis=1)
    path[:, 0] = cur
    active = np.arange(len(persona))
    for step in range(1, max_steps):
        nxt = (trans[persona[active], cur[active]] <= rng.random(len(active))[:, None]).sum(1)
        keep = nxt < n_tp
        active = active[keep]
        if not len(active):
            break
        path[active, step] = nxt[keep]
        cur[active] = nxt[keep]
    return path


def _offsets(rng, world: World, path: np.ndarray, max_span: float) -> np.ndarray:
    """Seconds from each journey's first event to each step (minutes to days apart)."""
    valid = path >= 0
    ch = world.channels[np.maximum(path, 0)]
    same = np.zeros_like(valid)
    same[:, 1:] = ch[:, 1:] == ch[:, :-1]
    shape = path.shape
    session = _lognormal(rng, 480, 0.9, shape)
    same_day = _lognormal(rng, 9000, 0.7, shape)
    days = (1 + rng.poisson(1.2, shape)) * DAY + rng.normal(0, 5400, shape)
    later = np.where(rng.random(shape) < 0.35, same_day, days)
    gap = np.clip(np.where(same, session, later), 60, None)
    gap[:, 0] = 0
    gap[~valid] = 0
    off = np.cumsum(gap, axis=1)
    span = off.max(axis=1)
    scale = np.minimum(1.0, max_span / np.maximum(span, 1.0))
    return off * scale[:, None]


def _convert(rng, s, world, bs, path, persona, after):
    """Whether each journey converts, where, and its value."""
    n_j = len(persona)
    has_focus = (path == world.focus).any(axis=1)
    focus_rate = np.array([b.focus_rate for b in bs])[persona]
    other = np.array([b.other_rate for b in bs])[persona]
    tp_ix = {t: i for i, t in enumerate(world.tps)}
    for tp, boost in s.conversion_boost.items():
        other = np.where((path == tp_ix[tp]).any(axis=1), other * boost, other)
    other = np.minimum(other, 0.95)
    visited_conv = np.isin(path, world.conv_tps)
    if s.conversion_requires_visit:
        other = np.where(visited_conv.any(axis=1), other, 0.0)
    p = np.where(has_focus, focus_rate + s.intervention.conversion_lift * after, other)
    converted = rng.random(n_j) < p
    if s.conversion_requires_visit:
        last = path.shape[1] - 1 - np.argmax(visited_conv[:, ::-1], axis=1)
        where = path[np.arange(n_j), last]
        if world.focus in world.conv_tps:
            where = np.where(has_focus, world.focus, where)
    else:
        u = rng.random(n_j)
        pick = (_cum(world.conv_probs)[persona] <= u[:, None]).sum(axis=1)
        where = world.conv_tps[pick]
    median = np.array([b.value_median for b in bs])[persona]
    value = np.round(_lognormal(rng, median, s.value_sigma), 2)
    return converted, where, value


def simulate(
    settings: SimulationSettings,
    *,
    customers: int = 5000,
    seed: int = 7,
    start: str = "2024-01-01",
    end: str = "2024-06-30",
    intervention_date: str | None = None,
) -> SyntheticData:
    """Simulate ``customers`` customers' journeys between ``start`` and ``end`` (inclusive).

    :param settings: the template's world (``cjm_banking.generator.settings()``).
    :param customers: number of customers (each has 1..``max_journeys`` journeys).
    :param seed: the same seed gives identical tables.
    :param intervention_date: when the focus touchpoint changes (default: the settings').
    :returns: tables ``events``, ``feedback``, ``customers``, ``costs`` and the ``truth``.

    Example::

        >>> from cjm_banking.generator import settings  # doctest: +SKIP
        >>> simulate(settings(), customers=100, seed=3).truth["effects"]["conversion"][
        ...     "difference"]  # doctest: +SKIP
        0.08
    """
    if not isinstance(customers, int | np.integer) or customers < 1:
        raise SimulationError(f"customers must be a positive integer, got {customers!r}.")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise SimulationError(f"seed must be a non-negative integer, got {seed!r}.")
    check_settings(settings)
    bs = persona_behaviours(settings.catalog)
    date = intervention_date or settings.intervention.date
    w = make_window(start, end, date)
    world = build_world(settings, bs)
    r_cust, r_walk, r_time, r_conv, r_ev, r_fb, r_text, r_cost = (
        np.random.default_rng(ss) for ss in np.random.SeedSequence(int(seed)).spawn(8)
    )
    cust, c_persona, c_language, k = _customers(settings, bs, int(customers), r_cust, w)
    j_cust = np.repeat(np.arange(len(k)), k)
    j_persona = c_persona[j_cust]
    path = _walk(r_walk, world, j_persona, settings.max_steps)
    ev = _place(settings, world, bs, w, path, j_persona, r_time, r_conv)
    events, meta = _events_table(settings, world, bs, w, ev, j_cust, j_persona, cust, r_ev)
    feedback = make_feedback(settings, world, bs, w, meta, c_language, cust, r_fb, r_text)
    costs = make_costs(settings, world, w, meta, r_cost)
    truth = compute_truth(settings, world, bs, w, seed=int(seed), customers=int(customers),
                          start=start, end=end)  # fmt: skip
    tables = {"events": events, "feedback": feedback, "customers": cust, "costs": costs}
    return SyntheticData(tables=tables, truth=truth)


def _place(s, world, bs, w: Window, path, persona, r_time, r_conv) -> dict[str, np.ndarray]:
    """Put every journey's events on the calendar; returns long-format event arrays."""
    n_j, n_s = path.shape
    rows = np.arange(n_j)
    off = _offsets(r_time, world, path, s.max_path_days * DAY)
    length = (path >= 0).sum(axis=1)
    has_focus = (path == world.focus).any(axis=1)
    anchor_step = np.where(has_focus, np.argmax(path == world.focus, axis=1), 0)
    pre_days = int(s.max_path_days) + 16  # other journeys may begin before the window
    day = np.where(
        has_focus,
        r_time.integers(0, w.days, n_j),
        r_time.integers(-pre_days, w.days, n_j),
    )
    hour = r_time.choice(24, size=n_j, p=HOUR_PROFILE / HOUR_PROFILE.sum())
    anchor = w.start + day * DAY + hour * 3600 + r_time.integers(0, 3600, n_j)
    after = has_focus & (anchor >= w.date)
    converted, conv_tp, value = _convert(r_conv, s, world, bs, path, persona, after)
    conv_gap = np.clip(_lognormal(r_time, 3600, 1.0, n_j), 60, 2 * DAY)
    last_off = off[rows, length - 1]
    # relative seconds from the anchor; squeeze focus journeys to end inside the window
    rel = off - off[rows, anchor_step][:, None]
    conv_rel = last_off + conv_gap - off[rows, anchor_step]
    tail = np.where(converted, conv_rel, last_off - off[rows, anchor_step])
    room = (w.end - 1 - anchor).astype(float)
    squeeze = np.where(has_focus & (tail > room), room / np.maximum(tail, 1.0), 1.0)
    rel = np.where(rel > 0, rel * squeeze[:, None], rel)
    conv_rel = conv_rel * squeeze
    valid = path >= 0
    j_idx = np.broadcast_to(rows[:, None], path.shape)[valid]
    parts = {
        "journey": [j_idx],
        "seq": [np.broadcast_to(np.arange(n_s), path.shape)[valid]],
        "tp": [path[valid]],
        "time": [anchor[j_idx] + np.floor(rel[valid]).astype(np.int64)],
        "conversion": [np.zeros(len(j_idx), dtype=bool)],
        "value": [np.full(len(j_idx), np.nan)],
    }
    cj = np.flatnonzero(converted)
    conv_time = anchor[cj] + np.floor(conv_rel[cj]).astype(np.int64)
    _append(parts, cj, np.full(len(cj), n_s), conv_tp[cj], conv_time, True, value[cj])
    ix = {t: i for i, t in enumerate(world.tps)}
    for c_tp in np.unique(conv_tp[cj]):
        ups = s.follow_ups.get(world.tps[c_tp], s.follow_ups.get("*", ()))
        sel = cj[conv_tp[cj] == c_tp]
        base = conv_time[conv_tp[cj] == c_tp]
        for f, up in enumerate(ups):
            hit = r_conv.random(len(sel)) < up.probability
            delay = np.clip(_lognormal(r_conv, up.delay_s, 0.5, len(sel)), 60, 14 * DAY)
            t = base + delay.astype(np.int64)
            _append(parts, sel[hit], np.full(hit.sum(), n_s + 1 + f),
                    np.full(hit.sum(), ix[up.touchpoint]), t[hit], False, np.nan)  # fmt: skip
    ev = {k: np.concatenate(v) for k, v in parts.items()}
    inside = (ev["time"] >= w.start) & (ev["time"] < w.end)
    lost = ev["conversion"] & ~inside & has_focus[ev["journey"]]
    assert not lost.any(), "a focus journey's conversion fell outside the window"
    return {k: v[inside] for k, v in ev.items()}


def _append(parts, journey, seq, tp, time, conversion: bool, value) -> None:
    n = len(journey)
    parts["journey"].append(journey)
    parts["seq"].append(seq)
    parts["tp"].append(tp)
    parts["time"].append(time)
    parts["conversion"].append(np.full(n, conversion))
    parts["value"].append(np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy())


def _events_table(s, world, bs, w, ev, j_cust, j_persona, cust, rng):
    """The canonical events table, sorted, with journey ids; plus arrays for feedback."""
    first = pd.Series(ev["time"]).groupby(ev["journey"]).min()
    kept = first.index.to_numpy()
    order_j = np.lexsort((kept, first.to_numpy(), j_cust[kept]))
    rank = np.empty(len(j_cust), dtype=np.int64)
    rank[kept[order_j]] = np.arange(len(kept))
    e_rank = rank[ev["journey"]]
    order = np.lexsort((ev["seq"], e_rank, ev["time"], j_cust[ev["journey"]]))
    ev = {k: v[order] for k, v in ev.items()}
    e_rank = e_rank[order]
    e_cust = j_cust[ev["journey"]]
    e_persona = j_persona[ev["journey"]]
    n = len(e_rank)
    tp = ev["tp"]
    median = np.array([s.durations[t][0] for t in world.tps])[tp]
    sigma = np.array([s.durations[t][1] for t in world.tps])[tp]
    is_focus = tp == world.focus
    iv = s.intervention
    median = np.where(is_focus, np.where(ev["time"] >= w.date, iv.duration_after_s,
                                         iv.duration_before_s), median)  # fmt: skip
    sigma = np.where(is_focus, iv.duration_sigma, sigma)
    duration = np.round(_lognormal(rng, median, sigma, n), 1)
    device = np.full(n, None, dtype=object)
    digital = world.kinds[tp] == "digital"
    for p, b in enumerate(bs):
        m = digital & (e_persona == p)
        device[m] = rng.choice(list(b.devices), size=m.sum(), p=list(b.devices.values()))
    for t, d in s.fixed_device.items():
        device[tp == world.tps.index(t)] = d
    width = max(6, len(str(len(kept))))
    jid = np.array([f"J{i:0{width}d}" for i in range(1, len(kept) + 1)], dtype=object)
    tps = np.array(world.tps, dtype=object)
    events = pd.DataFrame({
        "customer_id": cust["customer_id"].to_numpy()[e_cust],
        "journey_id": jid[e_rank],
        "timestamp": pd.to_datetime(ev["time"], unit="s", utc=True).astype(TIMESTAMP_DTYPE),
        "touchpoint": tps[tp],
        "channel": world.channels.astype(object)[tp],
        "event_type": np.where(ev["conversion"], "conversion", "interaction").astype(object),
        "value": ev["value"],
        "duration_s": duration,
        "region": cust["region"].to_numpy()[e_cust],
        "device": device,
    })  # fmt: skip
    meta = {"cust": e_cust, "persona": e_persona, "tp": tp, "time": ev["time"],
            "journey": e_rank, "conversion": ev["conversion"], "journey_ids": jid}  # fmt: skip
    return events, meta
