"""Match data-driven personas to the catalog's template archetypes (``catalog.personas``).

Each archetype's **expected feature profile** comes from its traits, calibrated on the data
(the traits are relative: an affinity of 1.8 means "more than the others", not a share):

- ``affinity`` {digital, physical, assisted} -> the kind shares: the base's mean share of
  kind k times ``affinity_k / mean affinity_k`` (the mean over archetypes weighted by their
  ``share``; equal weights when shares are missing), rescaled so the kinds add up as in the
  base;
- ``journeys_per_customer`` -> ``journeys``; ``conversion`` (a rate, or the mean of a
  mapping such as {focus, other}) -> ``conversion_rate``; ``journeys_per_customer x
  conversion x value_median`` -> ``value``: each the base mean times the archetype's trait
  over the archetypes' weighted mean trait.

Profiles are compared on the raw feature scale standardised by the base:
``(mean - base mean) / base sd`` for the personas, ``(expected - base mean) / base sd`` for
the archetypes. ``distance`` is the root mean square difference over the features both
have (in sd); the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) pairs
personas and archetypes one to one with the least total distance. **Confidence**: "clear"
when the archetype is at most 0.8 times as far as the next nearest one and within 1 sd;
"weak" otherwise (with the reason); personas beyond the number of archetypes stay
"unmatched".

Example::

    >>> from cjm_core.model import Persona
    >>> p = [Persona("a", "A", share=0.5, traits={"journeys_per_customer": 3}),
    ...      Persona("b", "B", share=0.5, traits={"journeys_per_customer": 1})]
    >>> import pandas as pd
    >>> f = pd.DataFrame({"journeys": [1.0, 2, 3]})
    >>> archetype_profiles(p, f).round(2).to_dict()
    {'journeys': {'a': 3.0, 'b': 1.0}}
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError
from ..results import AnalysisResult

CLEAR_RATIO = 0.8
CLEAR_DISTANCE = 1.0
KINDS = ("digital", "physical", "assisted")

__all__ = ["ArchetypeMatch", "archetype_profiles", "match_archetypes"]


class ArchetypeMatch(AnalysisResult):
    """One row per persona: its archetype, the distance (RMS, in sd), the next nearest
    archetype and a confidence note. ``distances`` is the full persona x archetype table."""

    title = "Personas matched to archetypes"

    def __init__(self, table, distances: pd.DataFrame, notes=(), **info):
        super().__init__(table, notes, **info)
        self.distances = distances

    def mapping(self) -> dict[int, str | None]:
        """Persona number -> archetype id (None when unmatched)."""
        pairs = zip(self.table["persona"], self.table["archetype"], strict=True)
        return {int(p): a if isinstance(a, str) else None for p, a in pairs}

    def plot(self, **kwargs: Any):
        """Heatmap of the distances, matched pairs outlined (matplotlib Figure)."""
        import matplotlib.pyplot as plt

        d = self.distances
        fig, ax = plt.subplots(figsize=kwargs.pop("figsize", (1.5 + 1.2 * d.shape[1],
                                                              1.2 + 0.5 * d.shape[0])))  # fmt: skip
        im = ax.imshow(d.to_numpy(), cmap="viridis_r", aspect="auto")
        ax.set_xticks(range(d.shape[1]), d.columns, rotation=30, ha="right")
        ax.set_yticks(range(d.shape[0]), [str(p) for p in d.index])
        cols = list(d.columns)
        for i, a in enumerate(self.table["archetype"]):
            if a is not None:
                ax.add_patch(plt.Rectangle((cols.index(a) - 0.5, i - 0.5), 1, 1, fill=False,
                                           edgecolor="red", linewidth=2))  # fmt: skip
        fig.colorbar(im, ax=ax, label="distance (RMS, sd)")
        ax.set(xlabel="archetype", ylabel="persona", title=self.title)
        fig.tight_layout()
        return fig

    def _repr_html_(self, max_rows: int = 20) -> str:
        return (
            super()
            ._repr_html_(max_rows)
            .replace(
                "</strong>", f"</strong><p>{html.escape(self.info.get('features', ''))}</p>", 1
            )
        )


def _trait_number(value: Any) -> float | None:
    if isinstance(value, Mapping):
        nums = [float(v) for v in value.values() if isinstance(v, int | float)]
        return float(np.mean(nums)) if nums else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _nan_if_none(x: float | None) -> float:
    return np.nan if x is None else x


def archetype_profiles(personas: Sequence[Any], features: pd.DataFrame) -> pd.DataFrame:
    """Expected feature values of each archetype (rows: archetype id), calibrated on the
    base ``features`` (the mapping is in the module text). Features an archetype's traits
    say nothing about are NaN."""
    if not personas:
        raise CjmError("The catalog has no persona archetypes (catalog.personas is empty).")
    ids = [p.id for p in personas]
    shares = np.array([p.share or np.nan for p in personas], dtype=float)
    w = np.ones(len(ids)) if np.isnan(shares).any() else shares
    w = w / w.sum()
    out = pd.DataFrame(index=pd.Index(ids, name="archetype"))

    def calibrated(values: list[float | None], base: float) -> np.ndarray:
        v = np.array([np.nan if x is None else x for x in values], dtype=float)
        ok = ~np.isnan(v)
        ref = np.sum(w[ok] * v[ok]) / w[ok].sum() if ok.any() else np.nan
        return base * v / ref if ref else np.full(len(v), np.nan)

    kind_cols = [f"{k}_share" for k in KINDS]
    if all(c in features.columns for c in kind_cols):
        aff = np.array(
            [
                [
                    _nan_if_none(_trait_number((p.traits.get("affinity") or {}).get(k)))
                    for k in KINDS
                ]
                for p in personas
            ]  # fmt: skip
        )
        base = features[kind_cols].mean().to_numpy()
        mean_aff = np.nansum(w[:, None] * aff, axis=0) / np.sum(w[:, None] * ~np.isnan(aff), 0)
        raw = base * aff / mean_aff
        raw = raw / raw.sum(axis=1, keepdims=True) * base.sum()
        for i, c in enumerate(kind_cols):
            out[c] = raw[:, i]
    traits = {
        "journeys": [_trait_number(p.traits.get("journeys_per_customer")) for p in personas],
        "conversion_rate": [_trait_number(p.traits.get("conversion")) for p in personas],
    }
    vm = [_trait_number(p.traits.get("value_median")) for p in personas]
    traits["value"] = [
        None if None in (j, c, v) else j * c * v
        for j, c, v in zip(traits["journeys"], traits["conversion_rate"], vm, strict=True)
    ]
    for feature, values in traits.items():
        if feature in features.columns and any(v is not None for v in values):
            out[feature] = calibrated(values, float(features[feature].mean()))
    return out


def match_archetypes(model: Any, catalog: Any) -> ArchetypeMatch:
    """Pair each persona of ``model`` with one of ``catalog.personas`` (Hungarian
    algorithm on the distance of standardised profiles; see the module text).

    :param model: a :class:`~cjm_core.personas.PersonaModel`.
    :param catalog: a :class:`~cjm_core.JourneyCatalog` with persona archetypes (or a list
        of :class:`~cjm_core.Persona`).
    :returns: :class:`ArchetypeMatch`: persona, name, customers, archetype, archetype_name,
        distance, next_archetype, next_distance, confidence.

    Example::

        >>> import pandas as pd
        >>> from cjm_core.model import Persona
        >>> from cjm_core.personas import find_personas
        >>> f = pd.DataFrame({"journeys": [1.0, 1, 1, 5, 5, 6]},
        ...                  index=pd.Index(list("abcdef"), name="customer_id"))
        >>> arch = [Persona("few", "Few", traits={"journeys_per_customer": 1}),
        ...         Persona("many", "Many", traits={"journeys_per_customer": 5})]
        >>> match_archetypes(find_personas(f, k=2, columns=["journeys"]), arch).mapping()
        {1: 'few', 2: 'many'}
    """
    from scipy.optimize import linear_sum_assignment

    personas = list(getattr(catalog, "personas", catalog))
    features = model.features
    expected = archetype_profiles(personas, features)
    cols = [c for c in expected.columns if expected[c].notna().all()]
    left_out = [c for c in expected.columns if c not in cols]
    if not cols:
        raise CjmError(
            "No feature can be compared: the archetypes' traits (affinity, "
            "journeys_per_customer, conversion, value_median) map to none of the features "
            f"{list(features.columns)}, or not for every archetype."
        )
    base_mean = features[cols].mean()
    base_sd = features[cols].std(ddof=0).replace(0, np.nan)
    observed = features[cols].groupby(model.labels.to_numpy()).mean()
    zc = ((observed - base_mean) / base_sd).fillna(0.0)
    za = ((expected[cols] - base_mean) / base_sd).fillna(0.0)
    diff = zc.to_numpy()[:, None, :] - za.to_numpy()[None, :, :]
    dist = np.sqrt((diff**2).mean(axis=2))
    distances = pd.DataFrame(dist, index=zc.index.rename("persona"), columns=za.index)
    rows_i, cols_j = linear_sum_assignment(dist)
    match = dict(zip(rows_i, cols_j, strict=True))
    names = {p.id: p.name for p in personas}
    sizes = model.labels.value_counts()
    table = []
    for i, p in enumerate(zc.index):
        row = {"persona": int(p), "name": model.names.get(p, ""), "customers": int(sizes[p])}
        order = np.argsort(dist[i], kind="stable")
        if i in match:
            j = match[i]
            nxt = next(o for o in order if o != j) if len(order) > 1 else None
            d, dn = float(dist[i, j]), float(dist[i, nxt]) if nxt is not None else np.nan
            why = []
            if not d <= CLEAR_RATIO * dn:
                why.append(f"{za.index[nxt]} is almost as near ({dn:.2f} sd)")
            if d > CLEAR_DISTANCE:
                why.append(f"the profile is {d:.2f} sd from the archetype")
            if order[0] != j:
                why.append(f"nearest is {za.index[order[0]]}, taken by a closer persona")
            row |= {
                "archetype": za.index[j],
                "archetype_name": names[za.index[j]],
                "distance": d,
                "next_archetype": za.index[nxt] if nxt is not None else None,
                "next_distance": dn,
                "confidence": "clear" if not why else "weak: " + "; ".join(why),
            }
        else:
            row |= {"archetype": None, "archetype_name": None, "distance": np.nan,
                    "next_archetype": za.index[order[0]], "next_distance": float(dist[i, order[0]]),
                    "confidence": "unmatched: more personas than archetypes"}  # fmt: skip
        table.append(row)
    notes = [f"compared on {cols} (z-scores of means, base sd)"]
    if left_out:
        notes.append(f"{left_out}: not given for every archetype, not compared")
    if len(personas) > len(zc):
        unused = sorted(set(za.index) - {za.index[j] for j in match.values()})
        notes.append(f"archetypes without a persona: {unused}")
    return ArchetypeMatch(pd.DataFrame(table), distances, notes, features=", ".join(cols))
