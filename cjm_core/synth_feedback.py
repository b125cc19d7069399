"""Survey answers, comments and monthly costs for the synthetic generator.

Only a minority answers: each event at a surveyed touchpoint is answered with the rule's
rate (x the persona's survey propensity), minutes to hours after the event; relationship
surveys (NPS, no touchpoint) answer for a journey a day or so after its last event. Scores
follow the rule's distribution tilted by the persona's satisfaction, except the planted CSAT
at the intervention touchpoint: ``csat_before`` / ``csat_after`` for everyone, chosen by the
period of the answer's own timestamp (so a study splitting answers by timestamp sees
exactly those distributions). Answers that would arrive after the window are not collected.

Example::

    >>> import numpy as np
    >>> draw_categories(np.random.default_rng(0), np.array([[0.0, 1.0], [1.0, 0.0]]))
    array([1, 0])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .synth_settings import SimulationSettings, tilt
from .synth_text import compose_comment, sentiment_of

DAY = 86_400
TIMESTAMP_DTYPE = pd.DatetimeTZDtype(unit="us", tz="UTC")


def draw_categories(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row of ``probs`` (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    return (cum <= rng.random(len(probs))[:, None]).sum(axis=1)


def _delay(rng, median: float, sigma: float, lo: float, hi: float, n: int) -> np.ndarray:
    d = np.exp(np.log(median) + sigma * rng.standard_normal(n))
    return np.clip(d, lo, hi).astype(np.int64)


def make_feedback(s: SimulationSettings, world, bs, w, meta, c_language, cust, rng, text_rng):
    """The feedback table (see the module docstring for how answers arise)."""
    prop = np.array([b.survey_propensity for b in bs])
    n_j = len(meta["journey_ids"])
    j_conv = np.zeros(n_j, dtype=bool)
    j_conv[meta["journey"][meta["conversion"]]] = True
    persona, tp, time, journey = meta["persona"], meta["tp"], meta["time"], meta["journey"]
    blocks: list[dict] = []
    iv = s.intervention

    # the planted CSAT at the intervention touchpoint
    idx = np.flatnonzero(tp == world.focus)
    idx = idx[rng.random(len(idx)) < iv.csat_rate * prop[persona[idx]]]
    t = time[idx] + _delay(rng, 2400, 1.0, 60, 2 * DAY, len(idx))
    probs = np.where((t >= w.date)[:, None], np.array(iv.csat_after), np.array(iv.csat_before))
    blocks.append(_block(idx, t, tp[idx], "csat", 1 + draw_categories(rng, probs), 1.0))

    # the last event of each journey, for relationship surveys
    last = np.zeros(n_j, dtype=np.int64)
    np.maximum.at(last, journey, np.arange(len(journey)))  # events are sorted by time
    for rule in s.surveys:
        metric = s.catalog.metric(rule.metric)
        base = np.array([tilt(rule.scores, b.satisfaction) for b in bs])
        conv = np.array([tilt(rule.converted_scores or rule.scores, b.satisfaction) for b in bs])
        if rule.touchpoints:
            wanted = [world.tps.index(t) for t in rule.touchpoints]
            idx = np.flatnonzero(np.isin(tp, wanted))
            idx = idx[rng.random(len(idx)) < rule.rate * prop[persona[idx]]]
            t = time[idx] + _delay(rng, 2400, 1.0, 60, 2 * DAY, len(idx))
            where = tp[idx]
        else:
            idx = last[rng.random(n_j) < rule.rate * prop[persona[last]]]
            t = time[idx] + _delay(rng, DAY, 0.8, 600, 5 * DAY, len(idx))
            where = np.full(len(idx), -1)
        converted = j_conv[journey[idx]]
        probs = np.where(converted[:, None], conv[persona[idx]], base[persona[idx]])
        score = metric.min + draw_categories(rng, probs)
        blocks.append(_block(idx, t, where, rule.metric, score, rule.comment_rate))

    fb = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
    keep = fb["time"] < w.end
    fb = {k: v[keep] for k, v in fb.items()}
    ev = fb["event"]
    tps = np.array([*world.tps, None], dtype=object)  # index -1 -> None
    table = pd.DataFrame({
        "customer_id": cust["customer_id"].to_numpy()[meta["cust"][ev]],
        "journey_id": meta["journey_ids"][journey[ev]],
        "timestamp": pd.to_datetime(fb["time"], unit="s", utc=True).astype(TIMESTAMP_DTYPE),
        "touchpoint": tps[fb["tp"]],
        "metric": fb["metric"].astype(object),
        "score": fb["score"].astype(np.int64),
        "language": c_language[meta["cust"][ev]].astype(object),
        "_comment_rate": fb["comment_rate"],
    })  # fmt: skip
    # two visits of one journey can draw answers in the same second: one answer counts
    same = ["customer_id", "timestamp", "touchpoint", "metric"]
    table = table[~table.duplicated(same, keep="first")]
    table = table.sort_values(["customer_id", "timestamp", "metric"], kind="stable")
    table = table.reset_index(drop=True)
    table.insert(6, "comment", _comments(s, table, text_rng))
    return table.drop(columns="_comment_rate")


def _block(event, time, tp, metric: str, score, comment_rate: float) -> dict:
    n = len(event)
    return {
        "event": event,
        "time": time,
        "tp": np.asarray(tp),
        "score": np.asarray(score),
        "metric": np.full(n, metric, dtype=object),
        "comment_rate": np.full(n, comment_rate),
    }


def _comments(s: SimulationSettings, table: pd.DataFrame, rng) -> list[str | None]:
    """Comments for a share of the answers; more often for unhappy ones."""
    sentiment = np.empty(len(table), dtype=object)
    for metric_id in table["metric"].unique():
        m = (table["metric"] == metric_id).to_numpy()
        metric = s.catalog.metric(metric_id)
        sentiment[m] = sentiment_of(metric_id, table["score"].to_numpy()[m], metric.min,
                                    metric.max)  # fmt: skip
    rate = np.array([s.comment_rates[x] for x in sentiment]) * table["_comment_rate"].to_numpy()
    wants = rng.random(len(table)) < rate
    names = {t.id: t.name.lower() for t in s.catalog.touchpoints}
    names.update(s.phrases.names.get("en", {}))
    out: list[str | None] = []
    for i, (tp, lang) in enumerate(zip(table["touchpoint"], table["language"], strict=True)):
        if not wants[i]:
            out.append(None)
            continue
        tp = None if pd.isna(tp) else tp
        name = names.get(tp if tp is not None else "_overall", "service")
        out.append(compose_comment(rng, lang, sentiment[i], tp, name, s.phrases))
    return out


def make_costs(s: SimulationSettings, world, w, meta, rng) -> pd.DataFrame:
    """Monthly cost per touchpoint: a fixed part, a part per event, a little noise, and the
    intervention's extra monthly cost from its date on (pro rata by day)."""
    months = pd.period_range(
        pd.Timestamp(w.start, unit="s"), pd.Timestamp(w.end - 1, unit="s"), freq="M"
    )
    ev_month = meta["time"].astype("datetime64[s]").astype("datetime64[M]")
    rows = []
    for t, (fixed, unit) in s.costs.items():
        t_ix = world.tps.index(t)
        for month in months:
            lo = max(int(month.start_time.value // 10**9), w.start)
            hi = min(int((month.end_time.value + 1) // 10**9), w.end)
            share = (hi - lo) / (month.days_in_month * DAY)
            n = int(((meta["tp"] == t_ix) & (ev_month == np.datetime64(str(month)))).sum())
            amount = (fixed * share + unit * n) * (1 + 0.03 * rng.standard_normal())
            if t == s.intervention.touchpoint:
                after = max(0, hi - max(lo, w.date)) / (month.days_in_month * DAY)
                amount += s.intervention.extra_monthly_cost * after
            rows.append((t, str(month), round(max(amount, 0.0), 2)))
    return pd.DataFrame(rows, columns=["touchpoint", "period", "amount"]).astype(
        {"touchpoint": object, "period": object}
    )
