"""The result of :func:`cjm_core.build_journeys`: one row per journey, kept on the engine.

A log of 10 million events has millions of journeys. :class:`Journeys` keeps the journey
table on the engine (a temporary DuckDB table, a cached Spark table) and answers
``len()``, :meth:`Journeys.stats` and the previews of ``summary()`` and the notebook view
with small queries; the full pandas frame is built on the first ``to_frame()`` (or
``.table``) and kept.

On the engine, the sets of touchpoints and channels of a journey are bitmasks over the
sorted vocabulary (at most 62 values each; larger vocabularies are kept as text), times are
integer microseconds and generated journey ids are numbers; :func:`decode` turns them into
the documented columns.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

from .engine import Engine
from .results import AnalysisResult

SEP = "\x1f"  # joins a journey's distinct ids when they are kept as text

COLUMNS = {
    "journey_id": object,
    "customer_id": object,
    "start": "datetime64[us, UTC]",
    "end": "datetime64[us, UTC]",
    "duration_s": "float64",
    "n_events": "int64",
    "touchpoints": object,
    "n_touchpoints": "int64",
    "channels": object,
    "n_channels": "int64",
    "omnichannel": bool,
    "converted": bool,
    "value": "float64",
    "first_touchpoint": object,
    "last_touchpoint": object,
}
ORDER = ["customer_id", "_start", "journey_id"]


@dataclass
class OnEngine:
    """The per-journey table on an engine and the vocabularies to decode its sets."""

    engine: Engine
    table: ibis.Table  # customer_id, journey_id, _start, _end, n_events, _tp, _ch, ...
    touchpoints: list[str]  # code k is touchpoints[k - 1]; the bit order of a _tp mask
    channels: list[str] | None  # the bit order of a _ch mask (None: _ch is text)
    tp_mask: bool = True  # False: _tp is text

    def frame(self, limit: int | None = None) -> pd.DataFrame:
        expr = self.table.order_by([ibis.asc(c, nulls_first=False) for c in ORDER])
        if limit is not None:
            expr = expr.limit(limit)
        tps = self.touchpoints if self.tp_mask else None
        return decode(self.engine.execute(expr), tps, self.channels, self.touchpoints)

    def stats(self) -> dict[str, float]:
        t = self.table
        expr = t.aggregate(
            journeys=t.count(),
            customers=t.customer_id.nunique(),
            conversion_rate=t.converted.cast("float64").mean(),
            median_duration_s=((t._end - t._start).cast("float64") / 1e6).median(),
            omnichannel_share=(t._nch >= 2).cast("float64").mean(),
            mean_events=t.n_events.cast("float64").mean(),
        )
        row = self.engine.execute(expr).iloc[0]
        out = {k: float(v) if pd.notna(v) else float("nan") for k, v in row.items()}
        out["journeys"], out["customers"] = int(row["journeys"]), int(row["customers"])
        return out


def decode(
    df: pd.DataFrame,
    touchpoints: list[str] | None,
    channels: list[str] | None,
    names: list[str],
) -> pd.DataFrame:
    """The engine's journey rows as the documented columns (see :data:`COLUMNS`):
    ``touchpoints``/``channels`` the bit orders of the masks (None: text), ``names`` the
    touchpoint of each code of ``_first``/``_last``."""
    out = pd.DataFrame(index=df.index)
    ids = df["journey_id"]
    if pd.api.types.is_integer_dtype(ids.dtype):  # generated: <customer_id>#<n>
        ids = df["customer_id"].astype(str) + "#" + ids.astype(str)
    out["journey_id"] = ids.astype(object)
    out["customer_id"] = df["customer_id"].astype(object)
    for name, column in (("start", "_start"), ("end", "_end")):
        out[name] = pd.to_datetime(df[column].to_numpy("int64"), unit="us", utc=True)
    out["duration_s"] = (df["_end"] - df["_start"]).astype("float64") / 1e6
    out["n_events"] = df["n_events"]
    out["touchpoints"] = _sets(df["_tp"], touchpoints)
    out["n_touchpoints"] = df["_ntp"]
    out["channels"] = _sets(df["_ch"], channels)
    out["n_channels"] = df["_nch"]
    out["omnichannel"] = df["_nch"] >= 2
    out["converted"] = df["converted"]
    out["value"] = df["value"].astype("float64").fillna(0.0)
    lookup = np.array([None, *names], dtype=object)
    out["first_touchpoint"] = lookup[df["_first"].fillna(0).to_numpy("int64")]
    out["last_touchpoint"] = lookup[df["_last"].fillna(0).to_numpy("int64")]
    return out.astype(COLUMNS).reset_index(drop=True)


def _sets(values: pd.Series, vocabulary: list[str] | None) -> list[tuple]:
    """Bitmasks (or text joined by SEP) as sorted tuples; each distinct value decoded once."""
    if vocabulary is None:
        lookup = {v: tuple(v.split(SEP)) if v else () for v in values.dropna().unique()}
        return [lookup.get(v, ()) if isinstance(v, str) else () for v in values]
    codes, uniques = pd.factorize(values.to_numpy("int64"))
    decoded = np.empty(len(uniques), dtype=object)
    for i, mask in enumerate(uniques):
        decoded[i] = tuple(name for k, name in enumerate(vocabulary) if int(mask) >> k & 1)
    return list(decoded[codes]) if len(codes) else []


class Journeys(AnalysisResult):
    """One row per journey (see :func:`cjm_core.build_journeys` for the columns)."""

    title = "Journeys"

    def __init__(self, source: OnEngine | pd.DataFrame, notes=(), **info: Any):
        self._source = None if isinstance(source, pd.DataFrame) else source
        self._frame = source.reset_index(drop=True) if isinstance(source, pd.DataFrame) else None
        self._stats: dict[str, float] | None = None
        self.notes = tuple(notes)
        self.info = dict(info)

    @property
    def table(self) -> pd.DataFrame:
        """The journeys as a pandas frame (built from the engine on first use)."""
        if self._frame is None:
            self._frame = self._source.frame()
        return self._frame

    def release(self) -> None:
        """Drop the journey table from the engine (after ``to_frame()`` keeps working)."""
        self.table  # noqa: B018 - bring the frame over first
        finalizer = getattr(self._source, "finalizer", None)
        if finalizer is not None:
            finalizer()

    def __len__(self) -> int:
        return int(self.stats()["journeys"])

    def _head(self, n: int) -> pd.DataFrame:
        if self._frame is not None:
            return self._frame.head(n)
        return self._source.frame(limit=n)

    def stats(self) -> dict[str, float]:
        """Number of journeys and customers, conversion rate, median duration, omnichannel
        share, mean events per journey (NaN when there are no journeys)."""
        if self._stats is None:
            self._stats = self._source.stats() if self._frame is None else _frame_stats(self.table)
        return dict(self._stats)

    def summary(self, max_rows: int = 10) -> str:
        s = self.stats()
        head = (
            f"{s['journeys']} journey(s) of {s['customers']} customer(s); conversion rate "
            f"{s['conversion_rate']:.1%}, median duration {s['median_duration_s']:.0f} s, "
            f"omnichannel {s['omnichannel_share']:.1%}, {s['mean_events']:.2f} events per journey"
        )
        return head + "\n" + super().summary(max_rows)

    def plot(self, **kwargs: Any):
        """Histograms of events per journey and of duration, converted vs not (matplotlib
        Figure)."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=kwargs.pop("figsize", (10, 3.5)))
        t = self.table
        for converted, label in ((False, "not converted"), (True, "converted")):
            part = t[t["converted"] == converted]
            if len(part):
                axes[0].hist(part["n_events"], bins=20, alpha=0.6, label=label)
                axes[1].hist(part["duration_s"] / 60, bins=20, alpha=0.6, label=label)
        axes[0].set(xlabel="events per journey", ylabel="journeys")
        axes[1].set(xlabel="duration (minutes)", ylabel="journeys")
        for ax in axes:
            if ax.get_legend_handles_labels()[0]:
                ax.legend()
        fig.suptitle(self._heading())
        fig.tight_layout()
        return fig


def _frame_stats(t: pd.DataFrame) -> dict[str, float]:
    n = len(t)
    return {
        "journeys": n,
        "customers": int(t["customer_id"].nunique()),
        "conversion_rate": float(t["converted"].mean()) if n else float("nan"),
        "median_duration_s": float(t["duration_s"].median()) if n else float("nan"),
        "omnichannel_share": float(t["omnichannel"].mean()) if n else float("nan"),
        "mean_events": float(t["n_events"].mean()) if n else float("nan"),
    }


def keep_on_engine(
    eng: Engine, expr: ibis.Table, touchpoints: list[str], channels, tp_mask: bool
) -> OnEngine:
    """Materialise the per-journey expression; the table is dropped with the result."""
    from .prepared import materialise

    table, drop = materialise(eng, expr)
    source = OnEngine(eng, table, touchpoints, channels, tp_mask)
    source.finalizer = weakref.finalize(source, drop)
    return source
