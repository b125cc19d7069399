"""The numbers behind the journey-map canvas, as small tidy frames per stage.

:func:`journey_map_data` gathers, per stage of the catalog (in catalog order):

- **touchpoints**: reach (distinct customers, and their share of all customers in the
  events), events, channel, and the moment-of-truth flag;
- **actions**: what customers do there: the most frequent (touchpoint, event type) pairs by
  events, with the share of customers doing them ("visits Branch", "converts at Online
  application");
- **emotion**: one score on a common -1..+1 scale. Each source is mapped onto it: CSAT
  (1..5) as ``(x - 3) / 2``, CES (1..7, higher = easier) as ``(x - 4) / 3``, comment sentiment
  (:func:`cjm_core.comment_sentiment`, already -1..1) as is. Per source the score is the mean
  of the mapped answers and its standard error ``sd / sqrt(n)`` (the sd floored at half a
  scale step, 0.25 / 0.1667 / 0.1, so unanimous answers do not get an infinite weight;
  sources with fewer than ``min_answers`` answers are left out). The sources are combined by
  inverse-variance weighting: ``score = sum(w_k s_k) / sum(w_k)`` with ``w_k = 1 / se_k**2``,
  ``se = 1 / sqrt(sum(w_k))`` and the band ``score +- z(1 - alpha/2) * se`` clipped to
  [-1, 1]. The rule treats the sources as independent; a comment given with a CSAT answer is
  not, so the band is somewhat too narrow when both come from the same answers. Answers are
  placed by their ``touchpoint``; those without one (relationship surveys such as NPS) are
  on no stage and are counted in the notes;
- **pain points**: the top ``top_pains`` per stage of :func:`cjm_core.pain_points` (those
  with at least one firing signal), with their top signal and the first piece of evidence;
  ``top`` marks the overall #1;
- **opportunities**, by two rules: (1) each pain point shown whose quadrant (impact-effort,
  see :mod:`cjm_core.pain_result`) is ``quick win`` or ``fill-in`` (effort <= 3) is an
  opportunity to fix it; (2) a touchpoint whose own emotion band lies wholly above
  ``scale_above`` (0.2) is one to scale ("what works");
- **moments of truth**: the touchpoints :func:`cjm_core.moments_of_truth` flags.

Example::

    >>> from cjm_banking.generator import generate, catalog
    >>> d = generate(customers=300, seed=3)
    >>> m = journey_map_data(d.tables["events"], d.tables["feedback"], catalog=catalog())
    >>> m.stages["stage"].tolist()[:2], m.pain_points.iloc[0]["touchpoint"]
    (['awareness', 'consideration'], 'call_centre')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import CjmError
from ..model import JourneyCatalog

#: mapping of each source onto -1..+1: (centre, half-range, sd floor on the mapped scale)
SOURCES = {"csat": (3.0, 2.0, 0.25), "ces": (4.0, 3.0, 1 / 6), "sentiment": (0.0, 1.0, 0.1)}
VERBS = {"digital": "uses", "physical": "visits", "assisted": "contacts"}
EVENT_VERBS = {"conversion": "converts"}
SIGNALS = {"long_duration": "long wait or duration", "drop_off": "drop-off",
           "repeat_contacts": "repeat contacts", "loops": "loops back",
           "negative_comments": "negative comments"}  # fmt: skip
EMOTION_COLUMNS = ["score", "std_error", "low", "high", "answers", "sources"]


@dataclass
class JourneyMapData:
    """The frames one canvas is drawn from (see :func:`journey_map_data`)."""

    stages: pd.DataFrame
    touchpoints: pd.DataFrame
    actions: pd.DataFrame
    emotion: pd.DataFrame
    emotion_sources: pd.DataFrame
    touchpoint_emotion: pd.DataFrame
    pain_points: pd.DataFrame
    opportunities: pd.DataFrame
    moments: pd.DataFrame
    catalog: JourneyCatalog
    persona: str | None = None
    customers: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        e = self.emotion.set_index("stage")
        lines = [f"Journey map ({self.catalog.name or 'catalog'}; persona={self.persona}; "
                 f"{self.customers} customers)"]  # fmt: skip
        for _, s in self.stages.iterrows():
            tps = self.touchpoints[self.touchpoints["stage"] == s["stage"]]
            score = e.loc[s["stage"], "score"] if s["stage"] in e.index else math.nan
            lines.append(f"- {s['name']}: {len(tps)} touchpoint(s), {s['customers']} customers,"
                         f" emotion {score:+.2f}")  # fmt: skip
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        return (f"<JourneyMapData: {len(self.stages)} stages, {len(self.touchpoints)} "
                f"touchpoints, persona={self.persona!r}, {self.customers} customers>")  # fmt: skip


def journey_map_data(
    events: pd.DataFrame,
    feedback: pd.DataFrame | None = None,
    *,
    catalog: JourneyCatalog,
    persona: str | None = None,
    customers: pd.DataFrame | None = None,
    pains: Any = None,
    moments: Any = None,
    top_pains: int = 3,
    top_actions: int = 3,
    min_answers: int = 3,
    scale_above: float = 0.2,
    alpha: float = 0.05,
) -> JourneyMapData:
    """Tidy frames per stage for the journey-map canvas (rules in the module docstring).

    :param events: canonical events (pandas): customer_id, touchpoint, optional event_type.
    :param feedback: canonical feedback (metric, score, touchpoint, optional comment).
    :param persona: keep only the customers of this persona (needs ``customers=`` with a
        ``persona`` column).
    :param pains: a :class:`~cjm_core.PainPoints` (or its table) to reuse; computed if None.
    :param moments: a :class:`~cjm_core.MomentsOfTruth` (or its table); computed if None.
    :returns: :class:`JourneyMapData`.
    """
    if not isinstance(catalog, JourneyCatalog):
        raise CjmError("journey_map_data needs catalog=<a JourneyCatalog> for the stages.")
    notes: list[str] = []
    events, feedback = _check(events, feedback)
    if persona is not None:
        events, feedback = _for_persona(events, feedback, customers, persona, notes)
    stage_of, names = catalog.stage_of(), {t.id: t.name for t in catalog.touchpoints}
    outside = ~events["touchpoint"].isin(stage_of)
    if outside.any():
        unknown = sorted(events.loc[outside, "touchpoint"].astype(str).unique())
        notes.append(f"{int(outside.sum())} event(s) at touchpoints not in the catalog "
                     f"({', '.join(unknown[:5])}) are on no stage and not drawn")  # fmt: skip
    events = events.assign(stage=events["touchpoint"].map(stage_of))
    total = int(events["customer_id"].nunique())
    touchpoints = _touchpoints(events[~outside], catalog, total)
    actions = _actions(events[~outside], catalog, total, top_actions)
    answers = _answers(feedback, stage_of, notes)
    emotion_sources = _emotion_sources(answers, "stage", min_answers)
    emotion = _combine(emotion_sources, "stage", alpha)
    tp_sources = _emotion_sources(answers, "touchpoint", min_answers)
    touchpoint_emotion = _combine(tp_sources, "touchpoint", alpha)
    pain_table = _pains(pains, events, feedback, catalog, persona, top_pains, names, stage_of)
    moment_table = _moments(moments, events, feedback, catalog, stage_of)
    flagged = set(moment_table.loc[moment_table["moment_of_truth"], "touchpoint"])
    touchpoints["moment_of_truth"] = touchpoints["touchpoint"].isin(flagged)
    opportunities = _opportunities(pain_table, touchpoint_emotion, names, stage_of, scale_above)
    stages = _stages(catalog, events, answers)
    order = {s: i for i, s in enumerate(catalog.stage_ids)}
    emotion, emotion_sources = (
        frame.sort_values("stage", key=lambda s: s.map(order), kind="stable").reset_index(
            drop=True) for frame in (emotion, emotion_sources))  # fmt: skip
    return JourneyMapData(
        stages=stages, touchpoints=touchpoints, actions=actions, emotion=emotion,
        emotion_sources=emotion_sources, touchpoint_emotion=touchpoint_emotion,
        pain_points=pain_table, opportunities=opportunities, moments=moment_table,
        catalog=catalog, persona=persona, customers=total, notes=notes,
    )  # fmt: skip


def _check(events, feedback) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if not isinstance(events, pd.DataFrame):
        raise CjmError(f"events must be a pandas DataFrame; got {type(events).__name__}. "
                       "Fix: collect the events to pandas first (engine.to_pandas()).")  # fmt: skip
    missing = [c for c in ("customer_id", "touchpoint") if c not in events.columns]
    if missing:
        raise CjmError(f"events lack the column(s) {missing}; present: {list(events.columns)}.")
    if events.empty:
        raise CjmError("The events are empty: there is no journey to map.")
    blank = events["touchpoint"].isna() | events["customer_id"].isna()
    if blank.any():
        rows = list(events.index[blank][:5])
        raise CjmError(f"events.touchpoint/customer_id: {int(blank.sum())} row(s) are empty "
                       f"(rows {rows}). Fix: drop or fill them before mapping.")  # fmt: skip
    events = events.assign(customer_id=events["customer_id"].astype(str))
    if "event_type" not in events.columns:
        events = events.assign(event_type="interaction")
    if feedback is not None:
        for column in ("metric", "score"):
            if column not in feedback.columns:
                raise CjmError(f"feedback lacks the column {column!r}; present: "
                               f"{list(feedback.columns)}.")  # fmt: skip
        feedback = feedback.assign(customer_id=feedback["customer_id"].astype(str))
    return events, feedback


def _for_persona(events, feedback, customers, persona, notes):
    if customers is None or "persona" not in customers.columns:
        raise CjmError(f"persona={persona!r} needs customers= with a 'persona' column "
                       "(the customers table of the bundle).")  # fmt: skip
    known = sorted(customers["persona"].dropna().astype(str).unique())
    if persona not in known:
        raise CjmError(f"No customer has persona {persona!r}; personas: {known}.")
    ids = set(customers.loc[customers["persona"] == persona, "customer_id"].astype(str))
    kept = events["customer_id"].isin(ids)
    if not kept.any():
        raise CjmError(f"The {len(ids)} customer(s) of persona {persona!r} have no events.")
    notes.append(f"persona {persona!r}: {int(kept.sum())} of {len(events)} events kept "
                 f"({len(ids)} customers of that persona)")  # fmt: skip
    if feedback is not None:
        feedback = feedback[feedback["customer_id"].isin(ids)]
    return events[kept], feedback


def _touchpoints(events: pd.DataFrame, catalog: JourneyCatalog, total: int) -> pd.DataFrame:
    reach = events.groupby("touchpoint")["customer_id"].nunique()
    count = events.groupby("touchpoint").size()
    channels = {c.id: c.name for c in catalog.channels}
    rows = []
    for t in catalog.touchpoints:
        if t.id not in reach.index:
            continue
        rows.append({"stage": t.stage, "touchpoint": t.id, "name": t.name,
                     "channel": t.channel, "channel_name": channels[t.channel], "kind": t.kind,
                     "customers": int(reach[t.id]), "share": reach[t.id] / total,
                     "events": int(count[t.id])})  # fmt: skip
    table = pd.DataFrame(rows, columns=["stage", "touchpoint", "name", "channel", "channel_name",
                                        "kind", "customers", "share", "events"])  # fmt: skip
    order = {s: i for i, s in enumerate(catalog.stage_ids)}
    corder = {c: i for i, c in enumerate(catalog.channel_ids)}
    table["_s"] = table["stage"].map(order)
    table["_c"] = table["channel"].map(corder)
    table = table.sort_values(["_s", "_c", "customers"], ascending=[True, True, False])
    return table.drop(columns=["_s", "_c"]).reset_index(drop=True)


def _actions(events, catalog, total, top) -> pd.DataFrame:
    tps = {t.id: t for t in catalog.touchpoints}
    grouped = events.groupby(["stage", "touchpoint", "event_type"])
    table = grouped.agg(events=("customer_id", "size"), customers=("customer_id", "nunique"))
    table = table.reset_index()
    table["share"] = table["customers"] / total
    table["action"] = [
        f"{VERBS.get(tps[tp].kind, 'uses')} {tps[tp].name}" if kind == "interaction"
        else f"{EVENT_VERBS.get(kind, str(kind).replace('_', ' '))} at {tps[tp].name}"
        for tp, kind in zip(table["touchpoint"], table["event_type"], strict=True)
    ]  # fmt: skip
    table = table.sort_values(["stage", "events", "touchpoint"], ascending=[True, False, True])
    table = table.groupby("stage", sort=False).head(top)
    table["rank"] = table.groupby("stage").cumcount() + 1
    order = {s: i for i, s in enumerate(catalog.stage_ids)}
    table = table.sort_values(["stage", "rank"], key=lambda s: s.map(order) if s.name ==
                              "stage" else s)  # fmt: skip
    return table[["stage", "rank", "touchpoint", "event_type", "action", "events", "customers",
                  "share"]].reset_index(drop=True)  # fmt: skip


def _answers(feedback, stage_of, notes) -> pd.DataFrame:
    """One row per value on the -1..+1 scale: stage, touchpoint, source, value."""
    columns = ["stage", "touchpoint", "source", "raw", "value"]
    if feedback is None or len(feedback) == 0:
        notes.append("no feedback: the emotion lane is empty")
        return pd.DataFrame(columns=columns)
    tp = feedback["touchpoint"] if "touchpoint" in feedback.columns else pd.Series(
        None, index=feedback.index, dtype=object)  # fmt: skip
    placed = tp.isin(stage_of)
    unplaced = int((~placed).sum())
    if unplaced:
        kinds = feedback.loc[~placed, "metric"].value_counts()
        shown = ", ".join(f"{k}: {v}" for k, v in kinds.items())
        notes.append(f"{unplaced} answer(s) without a catalog touchpoint ({shown}) are on no "
                     "stage and not in the emotion curve")  # fmt: skip
    fb = feedback[placed].assign(stage=tp[placed].map(stage_of), touchpoint=tp[placed])
    parts = []
    for metric in ("csat", "ces"):
        rows = fb[fb["metric"] == metric]
        score = pd.to_numeric(rows["score"], errors="coerce")
        centre, half, _ = SOURCES[metric]
        top = 5 if metric == "csat" else 7
        bad = score.isna() | (score < 1) | (score > top)
        if bad.any():
            raise CjmError(f"feedback.score: {int(bad.sum())} {metric} answer(s) are missing or "
                           f"off the 1-{top} scale (rows {list(rows.index[bad][:5])}). Fix: "
                           "drop or rescale them before mapping.")  # fmt: skip
        parts.append(pd.DataFrame({"stage": rows["stage"], "touchpoint": rows["touchpoint"],
                                   "source": metric, "raw": score,
                                   "value": (score - centre) / half}))  # fmt: skip
    if "comment" in fb.columns:
        has_text = fb["comment"].notna() & (fb["comment"].astype(str).str.strip() != "")
        with_text = fb[has_text]
        if len(with_text):
            from ..voc.sentiment import comment_sentiment

            s = comment_sentiment(with_text)["sentiment"]
            parts.append(pd.DataFrame({"stage": with_text["stage"],
                                       "touchpoint": with_text["touchpoint"],
                                       "source": "sentiment", "raw": s, "value": s}))  # fmt: skip
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def _emotion_sources(answers: pd.DataFrame, key: str, min_answers: int) -> pd.DataFrame:
    rows = []
    for (group, source), part in answers.groupby([key, "source"], sort=True):
        x = part["value"].to_numpy(dtype=float)
        n = x.size
        sd = float(x.std(ddof=1)) if n > 1 else math.nan
        floor = SOURCES[source][2]
        se = max(sd, floor) / math.sqrt(n) if n > 1 else math.nan
        rows.append({key: group, "source": source, "answers": n,
                     "raw_mean": float(part["raw"].mean()), "score": float(x.mean()),
                     "std_error": se, "used": n >= max(min_answers, 2)})  # fmt: skip
    return pd.DataFrame(rows, columns=[key, "source", "answers", "raw_mean", "score",
                                       "std_error", "used"])  # fmt: skip


def _combine(sources: pd.DataFrame, key: str, alpha: float) -> pd.DataFrame:
    z = float(sps.norm.ppf(1 - alpha / 2))
    rows = []
    for group, part in sources[sources["used"]].groupby(key, sort=True):
        w = 1 / part["std_error"].to_numpy() ** 2
        score = float(np.sum(w * part["score"].to_numpy()) / w.sum())
        se = float(1 / math.sqrt(w.sum()))
        rows.append({key: group, "score": score, "std_error": se,
                     "low": max(score - z * se, -1.0), "high": min(score + z * se, 1.0),
                     "answers": int(part["answers"].sum()),
                     "sources": ", ".join(part["source"])})  # fmt: skip
    return pd.DataFrame(rows, columns=[key, *EMOTION_COLUMNS])


def _pains(pains, events, feedback, catalog, persona, top, names, stage_of) -> pd.DataFrame:
    columns = ["stage", "rank", "touchpoint", "name", "impact_score", "top_signal", "signal",
               "evidence", "effort", "quadrant", "top"]  # fmt: skip
    if pains is None:
        from ..pain_points import pain_points

        pains = pain_points(events, feedback, catalog=catalog)
    table = pains.to_frame() if hasattr(pains, "to_frame") else pd.DataFrame(pains).copy()
    if "group" in table.columns and persona is not None:
        table = table[table["group"] == persona]
    table = table[table["impact_score"] > 0].sort_values("rank")
    table = table.assign(stage=table["touchpoint"].map(stage_of)).dropna(subset=["stage"])
    table["name"] = table["touchpoint"].map(names)
    table["signal"] = [_signal(s) for s in table["top_signal"]]
    table["evidence"] = table["evidence"].fillna("").astype(str).str.split("; ").str[0]
    table["top"] = False
    if len(table):
        table.loc[table.index[0], "top"] = True
    table = table.groupby("stage", sort=False).head(top)
    for column in ("effort", "quadrant"):
        if column not in table.columns:
            table[column] = np.nan
    return table[columns].reset_index(drop=True)


def _signal(name: Any) -> str:
    """A readable name of a pain signal: ``low_csat`` -> ``low CSAT``."""
    name = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
    if name.startswith("low_"):
        return f"low {name[4:].upper()}"
    return SIGNALS.get(name, name.replace("_", " "))


def _moments(moments, events, feedback, catalog, stage_of) -> pd.DataFrame:
    if moments is None:
        from ..moments import moments_of_truth

        moments = moments_of_truth(events, feedback, catalog=catalog)
    table = moments.to_frame() if hasattr(moments, "to_frame") else pd.DataFrame(moments).copy()
    table["moment_of_truth"] = table["moment_of_truth"].fillna(False).astype(bool)
    table["stage"] = table["touchpoint"].map(stage_of)
    keep = [c for c in ("stage", "touchpoint", "difference", "ci_low", "ci_high", "p_adjusted",
                        "moment_of_truth") if c in table.columns]  # fmt: skip
    return table[keep].reset_index(drop=True)


def _opportunities(pains, tp_emotion, names, stage_of, scale_above) -> pd.DataFrame:
    rows = []
    for _, p in pains.iterrows():
        if p["quadrant"] in ("quick win", "fill-in"):
            rows.append({"stage": p["stage"], "touchpoint": p["touchpoint"], "kind": p["quadrant"],
                         "text": f"{p['quadrant'].capitalize()}: fix the {p['signal']} at "
                                 f"{p['name']} (effort {p['effort']:g}/5)",
                         "value": p["impact_score"]})  # fmt: skip
    good = tp_emotion[tp_emotion["low"] > scale_above]
    for _, t in good.sort_values("score", ascending=False).iterrows():
        rows.append({"stage": stage_of.get(t["touchpoint"]), "touchpoint": t["touchpoint"],
                     "kind": "scale", "value": t["score"],
                     "text": f"Scale what works: {names.get(t['touchpoint'], t['touchpoint'])} "
                             f"(emotion {t['score']:+.2f}, {t['answers']} answers)"})  # fmt: skip
    return pd.DataFrame(rows, columns=["stage", "touchpoint", "kind", "text", "value"])


def _stages(catalog, events, answers) -> pd.DataFrame:
    reach = events.groupby("stage")["customer_id"].nunique()
    count = answers.groupby("stage").size() if len(answers) else pd.Series(dtype=int)
    rows = [{"stage": s.id, "name": s.name, "order": i,
             "customers": int(reach.get(s.id, 0)), "answers": int(count.get(s.id, 0))}
            for i, s in enumerate(sorted(catalog.stages, key=lambda s: s.order))]  # fmt: skip
    return pd.DataFrame(rows)
