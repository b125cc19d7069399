"""Personas as clusters of customers: standardise the features, k-means, choose k, check it.

- **Standardising** (:class:`Scaler`): counts and money (:data:`LOG_FEATURES`: events,
  journeys, frequency, value, conversions, support_contacts, n_answers) are taken as
  ``log1p`` first, as they are skewed; then every column is z-scored with the base's mean and
  standard deviation (``ddof=0``); a column without spread gets z = 0 (a note says so).
- **Clustering**: scikit-learn ``KMeans(k, n_init=n_init, random_state=seed)``.
- **Choosing k** (when ``k`` is None): the k of ``k_range`` with the highest mean
  silhouette score, computed on a seeded random sample of at most ``sample_size`` (5000)
  customers; ties go to the smaller k. ``k_table`` keeps every k with its silhouette and
  inertia.
- **Stability**: ``info["stability_ari"]`` is the mean adjusted Rand index between the
  fitted labels and refits with seeds ``seed + 1 .. seed + 5``; 1.0 means the same clusters
  whatever the seed.
- **Numbering**: personas are numbered 1..k by size, largest first (ties: by the centroid's
  coordinates), so the numbers do not depend on k-means' internal order.

Example::

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = pd.DataFrame({"digital_share": np.r_[rng.normal(0.9, 0.02, 30),
    ...                                          rng.normal(0.2, 0.02, 20)]},
    ...                  index=pd.Index([f"c{i}" for i in range(50)], name="customer_id"))
    >>> m = find_personas(f, k_range=range(2, 5))
    >>> m.k, m.labels.value_counts().tolist()
    (2, [30, 20])
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError
from ..results import AnalysisResult

LOG_FEATURES = (
    "events",
    "journeys",
    "frequency",
    "value",
    "conversions",
    "support_contacts",
    "n_answers",
)
#: Clustered by default (those present); kind shares, or share_<channel> without a catalog.
DEFAULT_COLUMNS = (
    "digital_share",
    "physical_share",
    "assisted_share",
    "n_channels",
    "frequency",
    "recency_days",
    "value",
    "conversion_rate",
    "support_contacts",
)
STABILITY_SEEDS = 5

__all__ = ["DEFAULT_COLUMNS", "LOG_FEATURES", "PersonaModel", "Scaler", "find_personas"]


@dataclass(frozen=True)
class Scaler:
    """``log1p`` on ``logged`` columns, then ``(x - mean) / sd`` (sd 0: z = 0)."""

    columns: tuple[str, ...]
    logged: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray

    @classmethod
    def fit(cls, features: pd.DataFrame, columns: list[str]) -> Scaler:
        logged = tuple(c for c in columns if c in LOG_FEATURES)
        raw = _raw(features, columns, logged)
        return cls(tuple(columns), logged, raw.mean(axis=0), raw.std(axis=0))

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        raw = _raw(features, list(self.columns), self.logged)
        sd = np.where(self.sd > 0, self.sd, 1.0)
        return (raw - self.mean) / sd


def _raw(features: pd.DataFrame, columns: list[str], logged: tuple[str, ...]) -> np.ndarray:
    x = features[columns].to_numpy(dtype=float).copy()
    for i, c in enumerate(columns):
        if c in logged:
            x[:, i] = np.log1p(np.clip(x[:, i], 0, None))
    return x


def find_personas(
    features: pd.DataFrame,
    k: int | None = None,
    *,
    k_range: range | list[int] = range(2, 9),
    seed: int = 0,
    columns: list[str] | None = None,
    n_init: int = 10,
    sample_size: int = 5000,
    events: pd.DataFrame | None = None,
    feedback: pd.DataFrame | None = None,
    top_paths: int = 3,
) -> PersonaModel:
    """Cluster customers into personas (k-means on standardised features; see the module).

    :param features: one row per customer, e.g. from
        :func:`~cjm_core.personas.customer_features` (index = customer_id).
    :param k: the number of personas; None chooses it from ``k_range`` by silhouette.
    :param columns: the features to cluster on (default: those of :data:`DEFAULT_COLUMNS`
        present, or the ``share_*`` columns when there are no kind shares). They must be
        numbers without NaN.
    :param events, feedback: when given, the cards get typical paths and satisfaction
        (see :func:`~cjm_core.personas.persona_cards`).
    :returns: :class:`PersonaModel`.

    Example::

        >>> import pandas as pd
        >>> f = pd.DataFrame({"value": [0, 1, 0, 900, 1000, 950.0]},
        ...                  index=pd.Index(list("abcdef"), name="customer_id"))
        >>> find_personas(f, k=2).labels.tolist()
        [1, 1, 1, 2, 2, 2]
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    columns = _columns(features, columns)
    scaler = Scaler.fit(features, columns)
    x = scaler.transform(features)
    notes = [
        f"{c}: no spread, z = 0 for everyone"
        for c, s in zip(columns, scaler.sd, strict=True)
        if s == 0
    ]
    n = len(x)
    rows, fits = [], {}
    if k is None:
        ks = [kk for kk in k_range if 2 <= kk < n]
        if not ks:
            raise CjmError(f"k_range {list(k_range)} has no k with 2 <= k < {n} (customers).")
        sample = min(n, sample_size)
        for kk in ks:
            km = KMeans(kk, n_init=n_init, random_state=seed).fit(x)
            score = (
                silhouette_score(x, km.labels_, sample_size=sample, random_state=seed)
                if len(set(km.labels_)) > 1
                else np.nan
            )
            rows.append({"k": kk, "silhouette": float(score), "inertia": float(km.inertia_)})
            fits[kk] = km
        k_table = pd.DataFrame(rows)
        k = int(k_table.loc[k_table["silhouette"].idxmax(), "k"])  # first max: smaller k
        chosen_by = f"silhouette (max over k={ks[0]}..{ks[-1]}, sample of {sample})"
    else:
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= n:
            raise CjmError(f"k must be a whole number from 1 to {n} (customers); got {k!r}.")
        k_table = pd.DataFrame(columns=["k", "silhouette", "inertia"])
        chosen_by = "given"
    km = fits.get(k) or KMeans(k, n_init=n_init, random_state=seed).fit(x)
    labels, centers = _relabel(km.labels_, km.cluster_centers_)
    refits = [
        KMeans(k, n_init=n_init, random_state=seed + i).fit(x).labels_
        for i in range(1, STABILITY_SEEDS + 1)
    ]
    aris = [adjusted_rand_score(labels, r) for r in refits]
    model = PersonaModel(
        features=features,
        labels=pd.Series(labels, index=features.index, name="persona"),
        scaler=scaler,
        centers=centers,
        k_table=k_table,
        notes=notes,
        k=k,
        chosen_by=chosen_by,
        seed=seed,
        stability_ari=round(float(np.mean(aris)), 4),
        stability_ari_min=round(float(np.min(aris)), 4),
        silhouette=_silhouette_of(k_table, k),
    )
    from .cards import persona_cards

    model.cards = persona_cards(model, events, feedback, top_paths=top_paths)
    model.table = model.profile()
    return model


def _silhouette_of(k_table: pd.DataFrame, k: int) -> float:
    hit = k_table.loc[k_table["k"] == k, "silhouette"]
    return round(float(hit.iloc[0]), 4) if len(hit) else float("nan")


def _columns(features: Any, columns: list[str] | None) -> list[str]:
    if not isinstance(features, pd.DataFrame) or not len(features):
        raise CjmError("features must be a non-empty DataFrame, one row per customer.")
    if features.index.has_duplicates:
        dup = features.index[features.index.duplicated()][:5].tolist()
        raise CjmError(f"features repeat customer(s) {dup}; one row per customer is needed.")
    if columns is None:
        columns = [c for c in DEFAULT_COLUMNS if c in features.columns]
        if not any(c.endswith("_share") for c in columns):
            columns += [c for c in features.columns if str(c).startswith("share_")]
        if not columns:
            raise CjmError(
                f"None of the default feature columns {list(DEFAULT_COLUMNS)} is in the "
                f"features ({list(features.columns)}); pass columns=[...]."
            )
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise CjmError(f"columns {missing} are not features; present: {list(features.columns)}.")
    for c in columns:
        values = pd.to_numeric(features[c], errors="coerce")
        bad = values.isna() | np.isinf(values)
        if bad.any():
            raise CjmError(
                f"feature {c!r} has {int(bad.sum())} missing or non-numeric value(s) (customers "
                f"{features.index[bad][:5].tolist()}); fill or drop them first, or leave {c!r} "
                "out of columns."
            )
    return list(columns)


def _relabel(labels: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clusters numbered 1..k by size (largest first; ties by centroid coordinates)."""
    sizes = np.bincount(labels, minlength=len(centers))
    order = sorted(range(len(centers)), key=lambda c: (-sizes[c], tuple(centers[c])))
    new = np.empty(len(centers), dtype=int)
    new[order] = np.arange(1, len(centers) + 1)
    return new[labels], centers[order]


class PersonaModel(AnalysisResult):
    """Fitted personas. ``labels`` (customer_id -> persona number 1..k), ``cards``
    (:class:`~cjm_core.personas.PersonaCards`), ``k_table`` (k, silhouette, inertia),
    ``centers`` (standardised centroids, persona order), ``scaler``; ``table`` is the
    profile: size, name and the mean of every feature per persona."""

    title = "Personas"

    def __init__(self, *, features, labels, scaler, centers, k_table, notes=(), **info):
        self.features = features
        self.labels = labels
        self.scaler = scaler
        self.centers = centers
        self.k_table = k_table
        self.cards = None
        super().__init__(pd.DataFrame(), notes, **info)

    @property
    def k(self) -> int:
        return int(self.info["k"])

    @property
    def columns(self) -> list[str]:
        return list(self.scaler.columns)

    @property
    def names(self) -> dict[int, str]:
        """Persona number -> plain name."""
        return {c.persona: c.name for c in self.cards.cards}

    def zscores(self) -> pd.DataFrame:
        """Mean standardised value of each clustered feature per persona (0 = the base)."""
        z = pd.DataFrame(self.scaler.transform(self.features), columns=self.columns)
        return z.groupby(self.labels.to_numpy()).mean().rename_axis("persona")

    def profile(self) -> pd.DataFrame:
        """Per persona: customers, share, name and the mean of every numeric feature, then
        the whole base as a last row ("all")."""
        num = self.features.select_dtypes("number")
        means = num.groupby(self.labels.to_numpy()).mean()
        sizes = self.labels.value_counts().sort_index()
        table = pd.DataFrame(
            {
                "persona": means.index.astype(object),
                "name": [self.names.get(p, "") for p in means.index],
                "customers": sizes.reindex(means.index).to_numpy(),
                "share": (sizes / sizes.sum()).reindex(means.index).to_numpy(),
            }
        )
        table = pd.concat([table, means.reset_index(drop=True)], axis=1)
        base = {"persona": "all", "name": "whole base", "customers": len(self.labels)}
        base.update(share=1.0, **num.mean().to_dict())
        return pd.concat([table, pd.DataFrame([base])], ignore_index=True)

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """The nearest persona of each row of ``features`` (same columns, this scaling)."""
        _columns(features, self.columns)
        x = self.scaler.transform(features)
        d = ((x[:, None, :] - self.centers[None, :, :]) ** 2).sum(axis=2)
        return pd.Series(d.argmin(axis=1) + 1, index=features.index, name="persona")

    def assign(self, events: pd.DataFrame, column: str = "persona") -> pd.DataFrame:
        """A copy of ``events`` with ``column``: each customer's persona number (<NA> for
        customers the model has not seen)."""
        out = events.copy()
        out[column] = events["customer_id"].map(self.labels).astype("Int64")
        return out

    def summary(self, max_rows: int = 20) -> str:
        lines = [self._heading(), self._choice_text()]
        lines += [self.cards.summary()] + [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _choice_text(self) -> str:
        text = f"k = {self.k} chosen by {self.info['chosen_by']}"
        if len(self.k_table):
            pairs = ", ".join(f"{int(r.k)}: {r.silhouette:.3f}" for r in self.k_table.itertuples())
            text += f"; silhouette by k: {pairs}"
        return text + (
            f"; stability: mean adjusted Rand index {self.info['stability_ari']:.3f} "
            f"(min {self.info['stability_ari_min']:.3f}) over {STABILITY_SEEDS} other seeds"
        )

    def _repr_html_(self, max_rows: int = 20) -> str:
        return (
            f"<div><strong>{html.escape(self._heading())}</strong>"
            f"<p>{html.escape(self._choice_text())}</p>{self.cards._repr_html_()}"
            + "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
            + "</div>"
        )

    def plot(self, kind: str = "profile", **kwargs: Any):
        """``kind="profile"``: heatmap of the personas' mean z-scores per feature;
        ``kind="silhouette"``: silhouette (and inertia) against k. A matplotlib Figure."""
        import matplotlib.pyplot as plt

        if kind == "silhouette":
            if not len(self.k_table):
                raise CjmError("k was given, not chosen: there is no silhouette table to plot.")
            fig, ax = plt.subplots(figsize=kwargs.pop("figsize", (6, 3.5)))
            ax.plot(self.k_table["k"], self.k_table["silhouette"], marker="o")
            ax.axvline(self.k, color="grey", linestyle="--")
            ax.set(xlabel="k (personas)", ylabel="mean silhouette", title="Choice of k")
            fig.tight_layout()
            return fig
        if kind != "profile":
            raise CjmError(f"Unknown plot kind {kind!r}; use 'profile' or 'silhouette'.")
        z = self.zscores()
        size = (1.2 + 0.9 * len(z.columns), 1.5 + 0.6 * len(z))
        fig, ax = plt.subplots(figsize=kwargs.pop("figsize", size))
        lim = max(1.0, float(np.nanmax(np.abs(z.to_numpy()))))
        im = ax.imshow(z.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_xticks(range(len(z.columns)), z.columns, rotation=45, ha="right")
        ax.set_yticks(range(len(z)), [f"{p}. {self.names.get(p, '')}" for p in z.index])
        for (i, j), v in np.ndenumerate(z.to_numpy()):
            ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=8)
        fig.colorbar(im, ax=ax, label="mean z-score (0 = whole base)")
        ax.set_title(f"Persona profiles (k={self.k}): mean z-score per feature")
        fig.tight_layout()
        return fig
