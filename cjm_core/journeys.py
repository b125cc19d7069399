"""Journeys: one row per journey, and the step coding shared by paths and transitions.

:func:`build_journeys` splits each customer's events into journeys (an inactivity gap and/or
a conversion, or the events' own ``journey_id``; see :func:`cjm_core.sequences.journey_events`)
and summarises each journey in one row. The work runs as one Ibis expression on DuckDB or
Spark; only the journey table comes back.

:func:`step_codes` turns touchpoints into the steps of a path at a chosen level (touchpoint,
stage or channel), applies alias rules and groups rare steps, and gives every step an integer
code; :func:`session_codes` adds the code to a coded journey table. Path variants and
transitions work on these codes and render labels only for the small result.

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

from .engine import US, Engine
from .errors import CjmError, UnknownTouchpointError
from .journey_result import COLUMNS, SEP, Journeys, OnEngine, keep_on_engine
from .model import JourneyCatalog
from .path_keys import NO_TAIL, first_step, layout, packed_key, step_at, tail_sums
from .sessions import Sessions, sessions
from .sql_functions import bit_count, bit_or

LEVELS = ("touchpoint", "stage", "channel")
MISSING = "(missing)"  # label of an event without a value at the chosen level
OTHER = "other"  # label of rare steps grouped by ``min_share``
_JOURNEY = ["customer_id", "journey_id"]
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
    s = sessions(events, gap=gap, split_on_conversion=split_on_conversion, engine=engine)
    eng, j = s.engine, s.table
    notes = []
    info = {"gap": str(gap), "split_on_conversion": split_on_conversion, "engine": eng.name}
    if s.n_events == 0:
        notes.append("the log has no events: no journeys")
        return Journeys(pd.DataFrame(columns=list(COLUMNS)).astype(COLUMNS), notes, **info)
    if s.channels is not None:
        channels = s.channels
    elif catalog is not None:
        notes.append("channels derived from the catalog (the events have no channel column)")
        channel_of = catalog.channel_of()
        channels = sorted({channel_of[tp] for tp in s.touchpoints if tp in channel_of})
    else:
        notes.append(
            "the events have no channel column and no catalog was given: channels are empty "
            "and no journey counts as omnichannel"
        )
        channel_of, channels = {}, []
    many = max(len(s.touchpoints), len(channels)) > MAX_BITS
    if many:  # sets of many values are kept as text
        j = s.decoded()
        if s.channels is None:
            channel = j.touchpoint.substitute(channel_of, else_=ibis.null("string"))
            j = j.mutate(channel=channel.cast("string") if channel_of else ibis.null("string"))
        sets = {
            "_tp": j.touchpoint.collect(distinct=True).sort().join(SEP),
            "_ntp": j.touchpoint.nunique().cast("int64"),
            "_ch": j.channel.collect(distinct=True).sort().join(SEP),
            "_nch": j.channel.nunique().cast("int64"),
        }
        per_journey = _aggregate(j, sets)
    else:
        shared = shares_journeys(s)
        p = shared_journeys(s) if shared else _aggregate(j, _masks(s))
        if s.channels is None:  # catalog channels from the touchpoint mask
            p = p.mutate(_ch=_channel_mask(p._tp, s.touchpoints, channel_of, channels))
        per_journey = p.mutate(_ntp=bit_count(p._tp), _nch=bit_count(p._ch))
        if shared:  # read from the prepared events' shared table
            source = OnEngine(eng, per_journey, s.touchpoints, channels, True, owner=s)
            return Journeys(source, notes, **info)
    kept = keep_on_engine(eng, per_journey, s.touchpoints, None if many else channels, not many)
    return Journeys(kept, notes, **info)


def shared_journeys(s: Sessions) -> ibis.Table:
    """The per-journey rows of prepared events (kept on the engine on first use, shared by
    :func:`build_journeys` and :func:`cjm_core.path_variants`), with the key of each
    journey's touchpoint path (``_pk``, ``_s1``, ``_s2``: :mod:`cjm_core.path_keys`).
    Only for vocabularies of at most :data:`MAX_BITS` touchpoints and channels."""

    def build() -> ibis.Table:
        t = s.table
        longest = s.engine.execute(t.aggregate(m=t.step.max()))["m"].iloc[0]  # a quick scan
        longest = int(longest) if pd.notna(longest) else 0
        return _aggregate(t, _masks(s), len(s.touchpoints), longest)

    return s.derived("journeys", build)


def shares_journeys(s: Sessions) -> bool:
    """Whether :func:`shared_journeys` serves ``s`` (prepared events, sets as bitmasks)."""
    n_channels = len(s.channels) if s.channels is not None else 0
    return s.kept is not None and max(len(s.touchpoints), n_channels) <= MAX_BITS


def _masks(s: Sessions) -> dict:
    """The journey's touchpoints (and channels) as bitmask aggregates of ``s.table``."""
    j = s.table
    sets = {"_tp": bit_or(_bit(j._tp))}
    if s.channels is not None:
        sets["_ch"] = bit_or(_bit(j._ch))
    return sets


def _aggregate(
    j: ibis.Table, sets: dict, path_keys: int | None = None, longest: int | None = None
) -> ibis.Table:
    """One row per journey of the coded journey table ``j``; with ``path_keys`` (the number
    of touchpoint codes) also the key of each journey's touchpoint path (``_pk``, ``_s1``,
    ``_s2``: see :mod:`cjm_core.path_keys`; ``longest``: the longest journey, when known),
    for :func:`cjm_core.path_variants` to count; the first and last touchpoints then come
    from the key."""
    ends = {"_first": j._tp.max(where=j.step == 1), "_last": j._tp.max(where=j.is_last)}
    keys = {}
    if path_keys is not None:  # the packed steps here; the hash sums of longer paths below
        keys = packed_key(j.step.cast("int64"), j._tp.cast("int64"), path_keys)
        ends = {}  # the first and last touchpoints come from the key
    out = j.group_by(_JOURNEY).agg(
        _start=j[US].min(),
        _end=j[US].max(),
        n_events=j.count(),  # COUNT(*): reads no column
        converted=j._conv.any(),
        value=j.value.sum(where=j._conv),
        **ends,
        **sets,
        **keys,
    )
    if path_keys is None:
        return out
    tp_type = j._tp.type()
    packed = layout(path_keys)[1]
    out = out.mutate(
        _first=first_step(out._pk, path_keys).cast(tp_type),
        _last=step_at(out._pk, out.n_events, path_keys).cast(tp_type),  # right up to K steps
    )
    if longest is not None and longest <= packed:
        return out.mutate(**{k: ibis.literal(v, "int64") for k, v in NO_TAIL.items()})
    # the steps past the packed ones are few (10 events per journey pack 15 steps): their
    # hash sums (and the last touchpoint) come from those rows alone, joined to their
    # journeys (cheaper than more aggregates of every row)
    long = j.filter(j.step > packed)
    tails = long.group_by(_JOURNEY).agg(
        **tail_sums(long.step.cast("int64"), long._tp.cast("int64"), path_keys),
        _tail_last=long._tp.max(where=long.is_last),
    )
    joined = out.left_join(tails, _JOURNEY)
    last = ibis.ifelse(joined.n_events <= packed, joined._last, joined._tail_last)
    return joined.select(
        *(last.name(c) if c == "_last" else joined[c] for c in out.columns),
        **{k: joined[k].fill_null(v) for k, v in NO_TAIL.items()},
    )


def _bit(code: ibis.IntegerValue) -> ibis.IntegerValue:
    """Code k >= 1 as the bit ``1 << (k - 1)`` (int64 on every engine); 0 for code 0."""
    one = ibis.literal(1).cast("int64")
    return ibis.ifelse(code > 0, one << (code - 1), 0).cast("int64")


def _channel_mask(tp_mask, touchpoints: list[str], channel_of, channels: list[str]):
    """The channels of a journey as a bitmask, from the bitmask of its touchpoints."""
    mask = ibis.literal(0, "int64")
    for k, channel in enumerate(channels):
        bits = sum(1 << i for i, tp in enumerate(touchpoints) if channel_of.get(tp) == channel)
        mask = mask + ibis.ifelse((tp_mask & bits) != 0, 1 << k, 0).cast("int64")
    return mask


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
    source, keys = _step_source(level, "channel" in t.columns, catalog, min_share)
    # count(*): no reference to _seq, so a generated tie-breaker is not computed here
    grouped = t.group_by([t[k].cast("string").name(k) for k in keys]).agg(events=ibis._.count())
    counts = eng.execute(grouped, order_by=keys)
    return codes_from_counts(counts, source, level, catalog, aliases, min_share)


def _step_source(
    level: str, has_channel: bool, catalog: JourneyCatalog | None, min_share: float | None
) -> tuple[str, list[str]]:
    """Check the options; the column the steps come from and the columns to count by."""
    if level not in LEVELS:
        raise CjmError(f"Unknown level {level!r}; use one of {list(LEVELS)}.")
    if min_share is not None and not 0 <= min_share < 1:
        raise CjmError(f"min_share must be a share in [0, 1), got {min_share!r}.")
    source = "channel" if level == "channel" and has_channel else "touchpoint"
    if level != "touchpoint" and source == "touchpoint" and catalog is None:
        need = "a catalog (catalog=...)" if level == "stage" else "a channel column or a catalog"
        raise CjmError(f"level={level!r} needs {need} to map touchpoints to {level}s.")
    return source, ["touchpoint"] if source == "touchpoint" else ["touchpoint", "channel"]


def codes_from_counts(
    counts: pd.DataFrame,
    source: str,
    level: str,
    catalog: JourneyCatalog | None,
    aliases: Mapping[str, str] | None,
    min_share: float | None,
) -> StepCodes:
    """:func:`step_codes` from the events per touchpoint (and channel) in ``counts``."""
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


def session_codes(
    s: Sessions,
    *,
    level: str = "touchpoint",
    catalog: JourneyCatalog | None = None,
    aliases: Mapping[str, str] | None = None,
    min_share: float | None = None,
) -> tuple[StepCodes, ibis.Table]:
    """:func:`step_codes` for a coded journey table (from its vocabulary counts, no query)
    and the table with ``_code``, the step code of each event."""
    source, keys = _step_source(level, s.channels is not None, catalog, min_share)
    counts = s.counts.groupby(keys, dropna=False, as_index=False, sort=True)["events"].sum()
    codes = codes_from_counts(counts, source, level, catalog, aliases, min_share)
    return codes, apply_codes(s, codes)


def apply_codes(s: Sessions, codes: StepCodes) -> ibis.Table:
    """The coded journey table with ``_code``, the step code of each event."""
    column = s.table._tp if codes.source == "touchpoint" else s.table._ch
    mapping = _mapping(s, codes)
    if _identity(codes, mapping):  # the same codes
        return s.table.mutate(_code=column.cast("int64"))
    missing = codes.missing_code if codes.missing_code is not None else 0
    code = column.substitute(mapping, else_=missing) if mapping else ibis.literal(missing)
    return s.table.mutate(_code=code.cast("int64"))


def same_codes(s: Sessions, codes: StepCodes) -> bool:
    """Whether the steps of ``codes`` are the touchpoints of ``s``, code for code (so the
    path keys of :func:`shared_journeys` are theirs)."""
    return (
        codes.source == "touchpoint"
        and len(codes.labels) == len(s.touchpoints)
        and _identity(codes, _mapping(s, codes))
    )


def _mapping(s: Sessions, codes: StepCodes) -> dict[int, int]:
    """Code in ``s`` -> step code."""
    vocabulary = s.touchpoints if codes.source == "touchpoint" else s.channels
    code_of = dict(zip(codes.counts[codes.source], codes.counts["code"], strict=True))
    return {i + 1: int(code_of[v]) for i, v in enumerate(vocabulary) if v in code_of}


def _identity(codes: StepCodes, mapping: dict[int, int]) -> bool:
    return codes.missing_code is None and all(k == v for k, v in mapping.items())
