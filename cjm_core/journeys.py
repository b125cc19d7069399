"""Journeys: one row per journey, and the step coding shared by paths and transitions.

:func:`build_journeys` splits each customer's events into journeys (an inactivity gap and/or
a conversion, or the events' own ``journey_id``; see :func:`cjm_core.sequences.journey_events`)
and summarises each journey in one row. The work runs as one Ibis expression on DuckDB or
Spark; only the journey table comes back.

:func:`step_codes` turns touchpoints into the steps of a path at a chosen level (touchpoint,
stage or channel), applies alias rules and groups rare steps, and gives every step an integer
code; :func:`with_codes` adds the code to the events. Path variants and transitions work on
these codes and render labels only for the small result.

Example::

    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05",
    ...                                  "2024-01-02 09:00"], utc=True),
    ...     "touchpoint": ["website", "call_centre", "website"],
    ... })
    >>> build_journeys(events).to_frame()["n_events"].tolist()
    [2, 1]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd

from .engine import SEQ, Engine, events_table
from .errors import CjmError, UnknownTouchpointError
from .model import JourneyCatalog
from .results import AnalysisResult
from .sequences import CONVERSION, journey_events, journey_label

LEVELS = ("touchpoint", "stage", "channel")
MISSING = "(missing)"  # label of an event without a value at the chosen level
OTHER = "other"  # label of rare steps grouped by ``min_share``
_SEP = "\x1f"  # joins a journey's distinct ids on the engine (the ASCII unit separator)

JOURNEY_COLUMNS = {
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


class Journeys(AnalysisResult):
    """One row per journey (see :func:`build_journeys` for the columns)."""

    title = "Journeys"

    def stats(self) -> dict[str, float]:
        """Number of journeys and customers, conversion rate, median duration, omnichannel
        share, mean events per journey (NaN when there are no journeys)."""
        t = self.table
        n = len(t)
        return {
            "journeys": n,
            "customers": int(t["customer_id"].nunique()),
            "conversion_rate": float(t["converted"].mean()) if n else float("nan"),
            "median_duration_s": float(t["duration_s"].median()) if n else float("nan"),
            "omnichannel_share": float(t["omnichannel"].mean()) if n else float("nan"),
            "mean_events": float(t["n_events"].mean()) if n else float("nan"),
        }

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


def build_journeys(
    events: Any,
    *,
    gap: str | pd.Timedelta | float | None = "30min",
    split_on_conversion: bool = True,
    catalog: JourneyCatalog | None = None,
    engine: Any = None,
) -> Journeys:
    """One row per journey: who, when, how long, which touchpoints and channels, outcome.

    :param gap: a new journey starts where a customer's events are more than ``gap`` apart
        ("30min", "2h", "7D" or seconds). ``None`` uses the events' own ``journey_id``
        column (and the default gap of 30 minutes when there is none).
    :param split_on_conversion: with a gap, a conversion also ends its journey.
    :param catalog: derives each event's channel from its touchpoint when the events have no
        ``channel`` column (touchpoints the catalog lacks then have no channel). With
        neither, ``channels`` is empty, ``n_channels`` 0 and no journey is omnichannel (a
        note says so). Events without a channel are left out of ``channels``.
    :returns: :class:`Journeys`, rows ordered by customer, start (then journey id), with
        columns journey_id, customer_id, start, end, duration_s (end - start in seconds),
        n_events, touchpoints (distinct touchpoint ids, sorted alphabetically: a set, the
        order of visits is what :func:`~cjm_core.variants.path_variants` shows),
        n_touchpoints, channels (distinct, sorted), n_channels, omnichannel
        (n_channels >= 2), converted (an event with event_type "conversion"), value (sum of
        the conversion events' value, 0.0 without any), first_touchpoint, last_touchpoint.
        An empty log gives an empty table (no error).

    Events with equal timestamps keep their input order (see ``journey_events``).

    Example::

        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "customer_id": ["a", "a"],
        ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:10"], utc=True),
        ...     "touchpoint": ["website", "website"],
        ...     "event_type": ["interaction", "conversion"],
        ...     "value": [0.0, 40.0],
        ... })
        >>> row = build_journeys(events).to_frame().iloc[0]
        >>> float(row["duration_s"]), bool(row["converted"]), float(row["value"])
        (600.0, True, 40.0)
    """
    eng, t = events_table(events, engine)
    notes = []
    if "channel" in t.columns:
        t = t.mutate(channel=t.channel.cast("string"))
    elif catalog is not None:
        t = _join_mapping(t, "touchpoint", catalog.channel_of(), "channel", "string")
        notes.append("channels derived from the catalog (the events have no channel column)")
    else:
        t = t.mutate(channel=ibis.null("string"))
        notes.append(
            "the events have no channel column and no catalog was given: channels are empty "
            "and no journey counts as omnichannel"
        )
    j = journey_events(t, gap=gap, split_on_conversion=split_on_conversion)
    is_conversion = j.event_type == CONVERSION
    # sorted distinct ids joined into one text (arrays are slow to bring back into pandas)
    touchpoints = j.touchpoint.collect(distinct=True).sort().join(_SEP)
    channels = j.channel.collect(distinct=True).sort().join(_SEP)
    per_journey = j.group_by(["customer_id", "journey_id"]).agg(
        start=j.timestamp.min(),
        end=j.timestamp.max(),
        n_events=j[SEQ].count(),
        touchpoints=touchpoints,
        channels=channels,
        converted=is_conversion.any(),
        value=j.value.sum(where=is_conversion),
        first_touchpoint=j.touchpoint.max(where=j.step == 1),
        last_touchpoint=j.touchpoint.max(where=j.is_last),
    )
    per_journey = per_journey.mutate(journey_id=journey_label(per_journey))
    df = eng.execute(per_journey, order_by=["customer_id", "start", "journey_id"])
    df = _journey_frame(df)
    info = {"gap": str(gap), "split_on_conversion": split_on_conversion, "engine": eng.name}
    if df.empty:
        notes.append("the log has no events: no journeys")
    return Journeys(df, notes, **info)


def _journey_frame(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for column in ("touchpoints", "channels"):
        df[column] = [tuple(v.split(_SEP)) if v else () for v in df[column]]
    df["value"] = df["value"].astype("float64").fillna(0.0)
    df["duration_s"] = (
        (df["end"] - df["start"]).dt.total_seconds() if len(df) else pd.Series(dtype="float64")
    )
    df["n_touchpoints"] = df["touchpoints"].map(len)
    df["n_channels"] = df["channels"].map(len)
    df["omnichannel"] = df["n_channels"] >= 2
    df = df[list(JOURNEY_COLUMNS)]
    return df.astype(JOURNEY_COLUMNS)


def _join_mapping(
    t: ibis.Table, column: str, mapping: Mapping[Any, Any], name: str, dtype: str
) -> ibis.Table:
    """Add ``name`` = mapping[column] (null when unmapped) by a join with a small table."""
    keys = list(mapping)
    values = pd.Series([mapping[k] for k in keys], dtype=object if dtype == "string" else dtype)
    m = ibis.memtable(pd.DataFrame({"_map_key": pd.Series(keys, dtype=object), name: values}))
    m = m.mutate(_map_key=m._map_key.cast(t[column].type()), **{name: m[name].cast(dtype)})
    if name in t.columns:
        t = t.drop(name)
    return t.left_join(m, t[column] == m._map_key).drop("_map_key")


# -- steps at a level, as integer codes ---------------------------------------------------------


@dataclass(frozen=True)
class StepCodes:
    """How events become path steps: the mapped column, each step's label and integer code.

    ``counts`` has one row per value of ``source`` (and touchpoint) with its events, label and
    code; ``labels`` maps code -> label (codes 1..n in alphabetical order of the labels).
    """

    level: str
    source: str
    counts: pd.DataFrame
    labels: dict[int, str]
    missing_code: int | None

    @property
    def n_events(self) -> int:
        return int(self.counts["events"].sum())

    @property
    def touchpoints(self) -> set[str]:
        return set(self.counts["touchpoint"].dropna())


def step_codes(
    eng: Engine,
    t: ibis.Table,
    *,
    level: str = "touchpoint",
    catalog: JourneyCatalog | None = None,
    aliases: Mapping[str, str] | None = None,
    min_share: float | None = None,
) -> StepCodes:
    """Count events per touchpoint (and channel) in one small query and code the steps.

    Level ``stage`` maps touchpoints through the catalog; ``channel`` uses the events'
    channel column, or the catalog when there is none. Then ``aliases`` (step -> new name)
    rename steps, and steps with less than ``min_share`` of all events become "other".
    Events without a value at the level get the step "(missing)".

    Example::

        >>> import pandas as pd
        >>> from cjm_core.engine import events_table
        >>> events = pd.DataFrame({"customer_id": ["a", "a", "b"], "touchpoint": ["web", "app",
        ...     "web"], "timestamp": pd.to_datetime(["2024-01-01"] * 3, utc=True)})
        >>> eng, t = events_table(events, "duckdb")
        >>> step_codes(eng, t, aliases={"app": "web"}).labels
        {1: 'web'}
    """
    if level not in LEVELS:
        raise CjmError(f"Unknown level {level!r}; use one of {list(LEVELS)}.")
    if min_share is not None and not 0 <= min_share < 1:
        raise CjmError(f"min_share must be a share in [0, 1), got {min_share!r}.")
    source = "channel" if level == "channel" and "channel" in t.columns else "touchpoint"
    if level != "touchpoint" and source == "touchpoint" and catalog is None:
        need = "a catalog (catalog=...)" if level == "stage" else "a channel column or a catalog"
        raise CjmError(f"level={level!r} needs {need} to map touchpoints to {level}s.")
    keys = ["touchpoint"] if source == "touchpoint" else ["touchpoint", "channel"]
    # count(*): no reference to _seq, so a generated tie-breaker is not computed here
    grouped = t.group_by([t[k].cast("string").name(k) for k in keys]).agg(events=ibis._.count())
    counts = eng.execute(grouped, order_by=keys)
    if source == "touchpoint" and level != "touchpoint":
        mapping = catalog.stage_of() if level == "stage" else catalog.channel_of()
        unknown = counts[counts["touchpoint"].notna() & ~counts["touchpoint"].isin(mapping)]
        if len(unknown):
            listed = ", ".join(
                f"{tp!r} ({n} events)"
                for tp, n in zip(unknown["touchpoint"], unknown["events"], strict=True)
            )
            raise UnknownTouchpointError(
                f"{len(unknown)} touchpoint(s) of the events are not in the catalog, so they "
                f"have no {level}: {listed}. Add them to the catalog or use "
                "level='touchpoint'."
            )
        labels = counts["touchpoint"].map(mapping)
    else:
        labels = counts[source]
    labels = labels.where(labels.notna(), MISSING).astype(object)
    if aliases:
        unknown = sorted(set(aliases) - set(labels))
        if unknown:
            raise CjmError(
                f"alias rule(s) for unknown step(s) {unknown}; steps at level {level!r} are "
                f"{sorted(set(labels))}."
            )
        labels = labels.map(lambda s: aliases.get(s, s))
    if min_share:
        share = counts["events"].groupby(labels).transform("sum") / counts["events"].sum()
        labels = labels.where(share >= min_share, OTHER)
    counts = counts.assign(label=labels.astype(object))
    ordered = sorted(set(counts["label"]))
    code_of = {label: i + 1 for i, label in enumerate(ordered)}
    counts["code"] = counts["label"].map(code_of).astype("int64")
    missing = counts.loc[counts[source].isna(), "code"]
    return StepCodes(
        level=level,
        source=source,
        counts=counts,
        labels={code: label for label, code in code_of.items()},
        missing_code=int(missing.iloc[0]) if len(missing) else None,
    )


def with_codes(t: ibis.Table, codes: StepCodes) -> ibis.Table:
    """Add ``_code`` (int64): the step code of each event (see :func:`step_codes`).

    Example::

        >>> import pandas as pd
        >>> from cjm_core.engine import events_table
        >>> events = pd.DataFrame({"customer_id": ["a", "a"], "touchpoint": ["web", "app"],
        ...     "timestamp": pd.to_datetime(["2024-01-01"] * 2, utc=True)})
        >>> eng, t = events_table(events, "duckdb")
        >>> coded = with_codes(t, step_codes(eng, t))
        >>> sorted(eng.execute(coded)["_code"].tolist())
        [1, 2]
    """
    known = codes.counts[codes.counts[codes.source].notna()]
    mapping = dict(zip(known[codes.source], known["code"], strict=True))
    t = t.mutate(**{codes.source: t[codes.source].cast("string")})
    out = _join_mapping(t, codes.source, mapping, "_code", "int64")
    if codes.missing_code is not None:
        out = out.mutate(_code=out._code.fill_null(codes.missing_code))
    return out
