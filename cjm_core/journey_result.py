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
import pyarrow as pa
import pyarrow.compute as pc

from .engine import Engine
from .errors import CjmError
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
    owner: Any = None  # the prepared events' coded table the journeys are read from

    def _check(self) -> None:
        if self.owner is not None and self.owner.released:
            raise CjmError(
                "These journeys read prepared events that were released; call to_frame() "
                "before release(), or build the journeys again."
            )

    def frame(self, limit: int | None = None) -> pd.DataFrame:
        self._check()
        table = self.table if self.owner is None else self.owner.with_ids(self.table)
        expr = table.order_by([ibis.asc(c, nulls_first=False) for c in ORDER])
        if limit is not None:
            expr = expr.limit(limit)
        tps = self.touchpoints if self.tp_mask else None
        # Arrow straight into the final columns: pandas' own conversion and a normalising
        # pass cost more than the query on millions of journeys
        table = self.engine.con.to_pyarrow(expr)
        return decode(table, tps, self.channels, self.touchpoints)

    def count(self) -> int:
        self._check()
        return int(self.engine.execute(self.table.aggregate(n=self.table.count()))["n"].iloc[0])

    def stats(self) -> dict[str, float]:
        self._check()
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
    table: pa.Table,
    touchpoints: list[str] | None,
    channels: list[str] | None,
    names: list[str],
) -> pd.DataFrame:
    """The engine's journey rows (an Arrow table) as the documented columns (see
    :data:`COLUMNS`): ``touchpoints``/``channels`` the bit orders of the masks (None: text),
    ``names`` the touchpoint of each code of ``_first``/``_last``."""

    def arr(name: str, dtype: str | None = None) -> np.ndarray:
        column = table.column(name)
        if dtype is not None and column.null_count:
            column = pc.fill_null(column, 0)
        out = column.to_numpy(zero_copy_only=False)
        return out.astype(dtype, copy=False) if dtype else out

    ids = table.column("journey_id")
    if pa.types.is_integer(ids.type):  # generated: <customer_id>#<n>
        ids = pc.binary_join_element_wise(
            table.column("customer_id"), pc.cast(ids, pa.string()), "#"
        )
    start, end = arr("_start", "int64"), arr("_end", "int64")
    nch = arr("_nch", "int64")
    lookup = np.array([None, *names], dtype=object)
    value = table.column("value").cast(pa.float64()).fill_null(0.0).to_numpy()
    columns = {
        "journey_id": _text(ids),
        "customer_id": _text(table.column("customer_id")),
        "start": _utc(start),
        "end": _utc(end),
        "duration_s": (end - start).astype("float64") / 1e6,
        "n_events": arr("n_events", "int64"),
        "touchpoints": _sets(table.column("_tp"), touchpoints),
        "n_touchpoints": arr("_ntp", "int64"),
        "channels": _sets(table.column("_ch"), channels),
        "n_channels": nch,
        "omnichannel": nch >= 2,
        "converted": arr("converted", "bool"),
        "value": value.astype("float64", copy=False),
        "first_touchpoint": lookup[arr("_first", "int64")],
        "last_touchpoint": lookup[arr("_last", "int64")],
    }
    # each column built in its final dtype (pandas would otherwise infer text as str)
    return pd.DataFrame({k: pd.Series(v, dtype=COLUMNS[k], copy=False) for k, v in columns.items()})


def _text(column: pa.ChunkedArray) -> np.ndarray:
    """Text as an object array of str (None for nulls)."""
    return np.asarray(
        column.to_pylist() if column.null_count else column.to_numpy(zero_copy_only=False),
        dtype=object,
    )


def _utc(micros: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(micros.view("datetime64[us]")).tz_localize("UTC")


def _sets(values: pa.ChunkedArray, vocabulary: list[str] | None) -> np.ndarray:
    """Bitmasks (or text joined by SEP) as sorted tuples; each distinct value decoded once."""
    if vocabulary is None:
        text = values.to_pylist()
        lookup = {v: tuple(v.split(SEP)) if v else () for v in set(text) if v is not None}
        out = np.empty(len(text), dtype=object)
        out[:] = [lookup.get(v, ()) for v in text]
        return out
    masks = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype("int64", copy=False)
    codes, uniques = pd.factorize(masks)
    decoded = np.empty(len(uniques), dtype=object)
    for i, mask in enumerate(uniques):
        decoded[i] = tuple(name for k, name in enumerate(vocabulary) if int(mask) >> k & 1)
    return decoded[codes] if len(codes) else np.empty(0, dtype=object)


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
        """Drop the journey table from the engine now; the frame is brought over first, so
        ``to_frame()`` keeps working."""
        self.table  # noqa: B018 - bring the frame over first
        finalizer = getattr(self._source, "finalizer", None)
        if finalizer is not None:
            finalizer()

    def __len__(self) -> int:
        if self._frame is not None or self._stats is not None:
            return int(self.stats()["journeys"])
        return self._source.count()  # no medians needed for a count

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
