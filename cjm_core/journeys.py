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

from .engine import SEQ, US, Engine, events_table
from .errors import CjmError, UnknownTouchpointError
from .journey_result import COLUMNS, SEP, Journeys, keep_on_engine
from .model import JourneyCatalog
from .sequences import CONVERSION, journey_events

LEVELS = ("touchpoint", "stage", "channel")
MISSING = "(missing)"  # label of an event without a value at the chosen level
OTHER = "other"  # label of rare steps grouped by ``min_share``
MAX_BITS = 62  # sets of up to this many distinct values are bitmasks on the engine


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
    j = journey_events(t, gap=gap, split_on_conversion=split_on_conversion)
    notes = []
    has_channel = "channel" in j.columns
    if has_channel:
        j = j.mutate(channel=j.channel.cast("string"))
    elif catalog is not None:
        notes.append("channels derived from the catalog (the events have no channel column)")
    else:
        notes.append(
            "the events have no channel column and no catalog was given: channels are empty "
            "and no journey counts as omnichannel"
        )
    keys = ["touchpoint", "channel"] if has_channel else ["touchpoint"]
    vocab = eng.execute(j.group_by(keys).agg(_n=ibis._.count()), order_by=keys)
    info = {"gap": str(gap), "split_on_conversion": split_on_conversion, "engine": eng.name}
    if vocab.empty:
        notes.append("the log has no events: no journeys")
        return Journeys(pd.DataFrame(columns=list(COLUMNS)).astype(COLUMNS), notes, **info)
    touchpoints = sorted(vocab["touchpoint"].dropna().unique())
    if has_channel:
        channels = sorted(vocab["channel"].dropna().unique())
        member = {c: j.channel == c for c in channels}
    elif catalog is not None:
        channel_of = catalog.channel_of()
        channels = sorted({channel_of[tp] for tp in touchpoints if tp in channel_of})
        member = {
            c: j.touchpoint.isin([tp for tp in touchpoints if channel_of.get(tp) == c])
            for c in channels
        }
    else:
        channels, member = [], {}
    tp_set, tp_bits = _set_of(j, j.touchpoint, {tp: j.touchpoint == tp for tp in touchpoints})
    ch_set, ch_bits = _set_of(j, j.channel if has_channel else None, member)
    is_conversion = j.event_type == CONVERSION
    per_journey = j.group_by(["customer_id", "journey_id"]).agg(
        _start=j[US].min(),
        _end=j[US].max(),
        n_events=j[SEQ].count(),
        _tp=tp_set,
        _ntp=_count_of({tp: j.touchpoint == tp for tp in touchpoints}, j.touchpoint),
        _ch=ch_set,
        _nch=_count_of(member, j.channel if has_channel else None),
        converted=is_conversion.any(),
        value=j.value.sum(where=is_conversion),
        first_touchpoint=j.touchpoint.max(where=j.step == 1),
        last_touchpoint=j.touchpoint.max(where=j.is_last),
    )
    source = keep_on_engine(
        eng, per_journey, touchpoints if tp_bits else None, channels if ch_bits else None
    )
    return Journeys(source, notes, **info)


def _set_of(j: ibis.Table, column: Any, member: dict[str, ibis.Value]) -> tuple[Any, bool]:
    """A journey's set of values: a bitmask (bit k: the k-th value of ``member`` occurs) when
    there are at most MAX_BITS values, else the sorted distinct values joined as text."""
    if len(member) <= MAX_BITS:
        mask = ibis.literal(0, "int64")
        for k, hit in enumerate(member.values()):
            mask = mask + hit.any().ifelse(1 << k, 0).cast("int64")
        return mask, True
    if column is None:  # catalog channels: the channel of each touchpoint
        raise CjmError(f"More than {MAX_BITS} channels in the catalog; add a channel column.")
    return column.collect(distinct=True).sort().join(SEP), False


def _count_of(member: dict[str, ibis.Value], column: Any) -> ibis.Value:
    """The number of distinct values of a journey (0 when there are none)."""
    if len(member) <= MAX_BITS or column is None:
        count = ibis.literal(0, "int64")
        for hit in member.values():
            count = count + hit.any().cast("int64")
        return count
    return column.nunique().cast("int64")


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
