"""Persona cards: size, defining traits, typical paths, satisfaction and a plain name.

- **Traits**: the clustered features whose persona mean differs most from the whole base in
  standardised units (the mean z-score, see :class:`~cjm_core.personas.segment.Scaler`):
  the top 3, and a 4th when it is at least :data:`STRONG` (0.5 sd) away. Each shows the
  persona's mean against the base's, e.g. "digital share 0.86 vs 0.41 overall (+1.6 sd)".
- **Typical paths**: the ``top_paths`` most frequent path variants of the persona's
  journeys (:func:`cjm_core.path_variants` on its customers' events).
- **Satisfaction**: CSAT (top-2-box share of 1-5 answers, Wilson CI) and NPS (Wald CI) of
  its customers' answers (:mod:`cjm_core.stats.scores`); absent below 2 answers.
- **Names** (:func:`persona_name`): the words of the features at least 0.5 sd from the base,
  strongest first, at most 3: the channel mix first (a kind or channel share well above the
  base: "Digital", "In-person", "Assisted"; two such kinds are joined with "&"), then words
  from :data:`WORDS` ("frequent" / "infrequent", "high-value" / "low-value" ...). No strong
  trait: "Typical". A name already taken gets the next strongest words (down to 0.25 sd),
  and if still taken its number.

Example::

    >>> persona_name({"digital_share": 1.4, "frequency": 0.9, "value": 0.6, "recency_days": 0.1})
    'Digital, frequent, high-value'
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..results import AnalysisResult

STRONG = 0.5  # sd from the base for a trait to name a persona
WEAK = 0.25  # sd, the floor when more words are needed to tell two names apart
MAX_WORDS = 3

KIND_WORDS = {
    "digital_share": "Digital",
    "physical_share": "In-person",
    "assisted_share": "Assisted",
}
#: feature -> (word when above the base, word when below).
WORDS = {
    "frequency": ("frequent", "infrequent"),
    "recency_days": ("lapsed", "recently active"),
    "value": ("high-value", "low-value"),
    "conversion_rate": ("converting", "rarely converting"),
    "conversions": ("many purchases", "few purchases"),
    "support_contacts": ("support-heavy", "self-service"),
    "n_channels": ("multichannel", "few channels"),
    "events": ("very active", "light users"),
    "journeys": ("many journeys", "few journeys"),
    "mean_csat": ("satisfied", "dissatisfied"),
    "mean_nps": ("promoters", "detractors"),
}
LABELS = {
    "digital_share": "digital share",
    "physical_share": "physical share",
    "assisted_share": "assisted share",
    "n_channels": "channels used",
    "frequency": "journeys per 30 days",
    "recency_days": "days since last event",
    "value": "value",
    "conversion_rate": "conversion rate",
    "support_contacts": "support contacts",
    "mean_csat": "mean CSAT",
    "mean_nps": "mean NPS answer",
}

__all__ = ["PersonaCard", "PersonaCards", "Trait", "persona_cards", "persona_name"]


@dataclass(frozen=True)
class Trait:
    """One defining feature: the persona's mean, the base's, and the gap in sd."""

    feature: str
    z: float
    value: float
    overall: float

    def text(self) -> str:
        label = LABELS.get(self.feature, self.feature.replace("_", " "))
        return f"{label} {_num(self.value)} vs {_num(self.overall)} overall ({self.z:+.1f} sd)"


@dataclass(frozen=True)
class PersonaCard:
    """A persona at a glance; ``paths`` rows are (variant, journeys, share)."""

    persona: int
    name: str
    customers: int
    share: float
    traits: tuple[Trait, ...]
    paths: tuple[tuple[str, int, float], ...] = ()
    csat: Any = None  # cjm_core.stats.ScoreResult or None
    nps: Any = None
    notes: tuple[str, ...] = field(default=())

    def lines(self) -> list[str]:
        out = [f"Persona {self.persona}: {self.name}",
               f"  {self.customers} customers ({self.share:.1%} of the base)"]  # fmt: skip
        out += [f"  - {t.text()}" for t in self.traits]
        if self.paths:
            out.append("  typical paths:")
            out += [f"    {v} ({n} journeys, {s:.1%})" for v, n, s in self.paths]
        out += [f"  {_score_text(s)}" for s in (self.csat, self.nps) if s is not None]
        return out + [f"  note: {n}" for n in self.notes]

    def text(self) -> str:
        return "\n".join(self.lines())

    def html(self) -> str:
        e = html.escape
        traits = "".join(f"<li>{e(t.text())}</li>" for t in self.traits)
        paths = "".join(f"<li>{e(v)} <small>({n}, {s:.1%})</small></li>" for v, n, s in self.paths)
        scores = "".join(f"<p>{e(_score_text(s))}</p>" for s in (self.csat, self.nps) if s)
        return (
            "<div style='border:1px solid #bbb;border-radius:6px;padding:8px 12px;margin:4px;"
            "width:330px;display:inline-block;vertical-align:top'>"
            f"<h4 style='margin:2px 0'>{self.persona}. {e(self.name)}</h4>"
            f"<p>{self.customers} customers ({self.share:.1%})</p><ul>{traits}</ul>"
            + (f"<p>Typical paths</p><ol>{paths}</ol>" if paths else "")
            + scores
            + "".join(f"<p><em>{e(n)}</em></p>" for n in self.notes)
            + "</div>"
        )


def _score_text(s: Any) -> str:
    pct = f"{1 - s.alpha:.0%}"
    if s.metric == "NPS":
        return f"NPS {s.estimate:+.0f} ({pct} CI {s.ci_low:+.0f} to {s.ci_high:+.0f}; n={s.n})"
    return (
        f"CSAT {s.estimate:.0%} satisfied ({pct} CI {s.ci_low:.0%}-{s.ci_high:.0%}), mean "
        f"{s.mean:.2f} (n={s.n})"
    )


def _num(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"


class PersonaCards(AnalysisResult):
    """One card per persona (``cards``); ``table`` has one row per persona."""

    title = "Persona cards"

    def __init__(self, cards: list[PersonaCard], notes=(), **info: Any):
        self.cards = list(cards)
        rows = []
        for c in cards:
            row = {"persona": c.persona, "name": c.name, "customers": c.customers,
                   "share": c.share, "traits": "; ".join(t.text() for t in c.traits),
                   "typical_paths": " | ".join(v for v, _, _ in c.paths)}  # fmt: skip
            for label, s in (("csat", c.csat), ("nps", c.nps)):
                row[label] = s.estimate if s is not None else np.nan
                row[f"{label}_ci_low"] = s.ci_low if s is not None else np.nan
                row[f"{label}_ci_high"] = s.ci_high if s is not None else np.nan
                row[f"{label}_n"] = s.n if s is not None else 0
            rows.append(row)
        super().__init__(pd.DataFrame(rows), notes, **info)

    def summary(self, max_rows: int = 20) -> str:
        lines = [c.text() for c in self.cards[:max_rows]]
        return "\n\n".join(lines + [f"note: {n}" for n in self.notes])

    def _repr_html_(self, max_rows: int = 20) -> str:
        cards = "".join(c.html() for c in self.cards[:max_rows])
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return f"<div>{cards}{notes}</div>"

    def plot(self, **kwargs: Any):
        """Horizontal bars: customers per persona, labelled with the names."""
        import matplotlib.pyplot as plt

        t = self.table.iloc[::-1]
        fig, ax = plt.subplots(figsize=kwargs.pop("figsize", (7, 0.5 + 0.5 * len(t))))
        ax.barh([f"{p}. {n}" for p, n in zip(t["persona"], t["name"], strict=True)], t["customers"])
        ax.set(xlabel="customers", title=self.title)
        fig.tight_layout()
        return fig


def persona_name(z: dict[str, float], taken: set[str] | frozenset = frozenset()) -> str:
    """A plain name from the mean z-scores of a persona's features (rules in the module).

    >>> persona_name({"physical_share": 1.1, "assisted_share": 0.8, "frequency": -0.7})
    'In-person & assisted, infrequent'
    >>> persona_name({"value": 0.1})
    'Typical'
    """
    words = _words(z, STRONG)
    name = _join(words[:MAX_WORDS])
    if name not in taken:
        return name
    more = _words(z, WEAK)
    for n in range(min(len(words), MAX_WORDS) + 1, len(more) + 1):
        name = _join(more[:n])
        if name not in taken:
            return name
    return name  # the caller adds the number


def _words(z: dict[str, float], floor: float) -> list[str]:
    ranked = sorted(
        ((f, v) for f, v in z.items() if np.isfinite(v) and abs(v) >= floor),
        key=lambda fv: (-abs(fv[1]), fv[0]),
    )
    mix = [_mix_word(f) for f, v in ranked if v > 0 and _mix_word(f)]
    rest = []
    for f, v in ranked:
        if _mix_word(f):
            continue
        high, low = WORDS.get(f, (f"high {_label(f)}", f"low {_label(f)}"))
        rest.append(high if v > 0 else low)
    head = [" & ".join([mix[0]] + [m.lower() for m in mix[1:2]])] if mix else []
    return head + rest


def _mix_word(feature: str) -> str | None:
    if feature in KIND_WORDS:
        return KIND_WORDS[feature]
    if feature.startswith("share_") and feature != "share_other":
        return f"{feature[6:].replace('_', ' ').capitalize()}-first"
    return None


def _label(feature: str) -> str:
    return LABELS.get(feature, feature.replace("_", " "))


def _join(words: list[str]) -> str:
    if not words:
        return "Typical"
    text = ", ".join(words)
    return text[0].upper() + text[1:]


def persona_cards(
    model: Any,
    events: pd.DataFrame | None = None,
    feedback: pd.DataFrame | None = None,
    *,
    top_paths: int = 3,
    path_level: str = "touchpoint",
) -> PersonaCards:
    """The cards of a :class:`~cjm_core.personas.PersonaModel`; with ``events`` the typical
    paths, with ``feedback`` CSAT and NPS with their confidence intervals.

    Example::

        >>> import pandas as pd
        >>> from cjm_core.personas import find_personas
        >>> f = pd.DataFrame({"frequency": [0.1, 0.2, 0.1, 3.0, 3.2, 2.9]},
        ...                  index=pd.Index(list("abcdef"), name="customer_id"))
        >>> [c.name for c in persona_cards(find_personas(f, k=2)).cards]
        ['Infrequent', 'Frequent']
    """
    from ..variants import path_variants

    z = model.zscores()
    raw = model.features[model.columns]
    means = raw.groupby(model.labels.to_numpy()).mean()
    overall = raw.mean()
    sizes = model.labels.value_counts()
    notes: list[str] = []
    if events is not None:
        ev = model.assign(events)
        unknown = int(ev["persona"].isna().sum())
        if unknown:
            notes.append(f"{unknown} event(s) of customers without a persona are in no card")
    if feedback is not None:
        fb = feedback.assign(persona=feedback["customer_id"].map(model.labels))
        if fb["persona"].isna().any():
            notes.append(f"{int(fb['persona'].isna().sum())} answer(s) of customers without a "
                         "persona are in no card")  # fmt: skip
    cards, taken = [], set()
    for p in z.index:
        zs = z.loc[p]
        ranked = zs.abs().sort_values(ascending=False, kind="stable")
        top = [f for i, f in enumerate(ranked.index) if i < 3 or (i == 3 and ranked[f] >= STRONG)]
        traits = tuple(Trait(f, float(zs[f]), float(means.loc[p, f]), float(overall[f]))
                       for f in top)  # fmt: skip
        name = persona_name(zs.to_dict(), taken)
        name = name if name not in taken else f"{name} ({p})"
        taken.add(name)
        paths, card_notes = (), []
        if events is not None:
            mine = ev[ev["persona"] == p].drop(columns="persona")
            pv = path_variants(mine, top=top_paths, level=path_level).to_frame()
            pv = pv[pv["variant"] != "(other variants)"]
            paths = tuple(
                zip(
                    pv["variant"],
                    pv["journeys"].astype(int),
                    pv["share"].astype(float),
                    strict=True,
                )
            )
        csat_r = nps_r = None
        if feedback is not None:
            mine_fb = fb[fb["persona"] == p]
            csat_r, nps_r = _scores(mine_fb, card_notes)
        cards.append(PersonaCard(int(p), name, int(sizes[p]), float(sizes[p] / sizes.sum()),
                                 traits, paths, csat_r, nps_r, tuple(card_notes)))  # fmt: skip
    return PersonaCards(cards, notes, personas=len(cards))


def _scores(fb: pd.DataFrame, notes: list[str]) -> tuple[Any, Any]:
    from ..stats.scores import csat, nps

    out = []
    for metric, score in (("csat", csat), ("nps", nps)):
        answers = fb.loc[fb["metric"] == metric, "score"]
        if len(answers) >= 2:
            out.append(score(answers.to_numpy()))
        else:
            out.append(None)
            notes.append(f"{len(answers)} {metric.upper()} answer(s): no score")
    return out[0], out[1]
