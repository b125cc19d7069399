"""Path variants: the most frequent sequences of touchpoints (or stages, or channels).

Each journey's path is the sequence of its events' steps in journey order (conversion events
included, at their touchpoint). Paths are never joined into strings on the engine: each
journey gets a key (its length, its first steps packed exactly into one integer, and two
sums of a 31-bit hash of (position, step code) over any later steps; integer arithmetic that
gives the same values on every engine, see :mod:`cjm_core.path_keys`), journeys are counted
by key, and only the top variants are rendered as text, decoded from the packed steps (or,
for paths longer than those, from one representative journey). Paths of up to 15 steps over
15 touchpoints are identified exactly; two longer paths with the same first steps share a
key only if both 31-bit sums collide (odds of about 1 in 4e18 per pair). On prepared events
(:func:`cjm_core.prepare_events`) the keys of plain touchpoint paths are computed once, with
the journeys of :func:`cjm_core.build_journeys`. The top variants plus one "(other
variants)" row always add up to all journeys analysed.

Example::

    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05"] * 2
    ...                                 + ["2024-01-01 11:00"], utc=True),
    ...     "touchpoint": ["website", "call_centre", "website", "call_centre", "website"],
    ... })
    >>> path_variants(events, top=1).to_frame()[["variant", "journeys"]].values.tolist()
    [['website > call_centre', 2], ['(other variants)', 1]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import pandas as pd

from .engine import SEQ, US, Engine, events_table
from .errors import CjmError
from .journeys import (
    StepCodes,
    apply_codes,
    same_codes,
    session_codes,
    shared_journeys,
    shares_journeys,
)
from .model import JourneyCatalog
from .path_keys import key_aggregates, layout, packed_steps
from .prepared import PreparedEvents
from .results import AnalysisResult
from .sessions import Sessions, build, sessions

OTHER_VARIANTS = "(other variants)"
TRUNCATED = "…"  # last step of a path cut at max_length
SEPARATOR = " > "

_JOURNEY = ["customer_id", "journey_id"]

COLUMNS = {
    "variant": object,
    "steps": object,
    "n_steps": "int64",
    "journeys": "int64",
    "share": "float64",
    "conversions": "int64",
    "conversion_rate": "float64",
    "median_duration_s": "float64",
}


class PathVariants(AnalysisResult):
    """Top path variants, then one "(other variants)" row; counts add up to all journeys.

    Columns: variant (steps joined with " > "), steps (tuple), n_steps (without the "…"
    marker), journeys, share (of all journeys analysed), conversions, conversion_rate
    (a conversion event anywhere in the journey), median_duration_s (of the whole journeys,
    first to last event, to the millisecond).
    """

    title = "Path variants"

    def summary(self, max_rows: int = 25) -> str:
        shown = self.table.drop(columns=["steps"])
        lines = [self._heading(), shown.head(max_rows).to_string(index=False)]
        if len(shown) > max_rows:
            lines.append(f"... {len(shown) - max_rows} more row(s)")
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def plot(self, kind: str = "sankey", **kwargs: Any):
        """``kind="sankey"``: a plotly Sankey (``plotly.graph_objects.Figure``) of the top
        variants' step-to-step flows, ending in (conversion) or (drop-off);
        ``kind="bar"``: a matplotlib Figure of the variants' shares."""
        from .variants_plots import bar, sankey

        if kind == "sankey":
            return sankey(self, **kwargs)
        if kind == "bar":
            return bar(self, **kwargs)
        raise CjmError(f"Unknown plot kind {kind!r}; use 'sankey' or 'bar'.")


def path_variants(
    events: Any,
    *,
    level: str = "touchpoint",
    top: int = 20,
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
    collapse_repeats: bool = False,
    max_length: int | None = None,
    min_share: float | None = None,
    aliases: Mapping[str, str] | None = None,
    catalog: JourneyCatalog | None = None,
    before: str | None = None,
    after: str | None = None,
    engine: Any = None,
) -> PathVariants:
    """The ``top`` most frequent paths with count, share, conversion rate, median duration.

    :param level: steps are touchpoints, stages (needs ``catalog``) or channels (the
        events' channel column, else the catalog).
    :param gap, split_on_conversion: how journeys are cut (see
        :func:`cjm_core.sequences.journey_events`); ``gap=None`` uses the events' own
        journey_id column when present, else 30 minutes.
    :param aliases: rename steps (``{"mobile_app": "digital", "website": "digital"}``),
        applied first; unknown steps are an error.
    :param min_share: steps with less than this share of all events become "other".
    :param collapse_repeats: consecutive equal steps (after aliases) count once.
    :param max_length: keep the first ``max_length`` steps; longer paths end in "…".
    :param before, after: keep the part of each journey up to and including (``before``)
        or from (``after``) its first visit to this touchpoint; journeys that never visit
        it are left out (a note counts them) and shares are of the journeys that do.
    :returns: :class:`PathVariants`, ordered by journeys (descending) then path text, then
        the "(other variants)" row (always present; zero when every variant is shown).
        When variants tie at the cut-off, those whose steps come first alphabetically
        (step by step, a path before its extensions) are shown. An empty log gives an
        empty table.

    Example::

        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "customer_id": ["a", "a", "a"],
        ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:01",
        ...                                  "2024-01-01 10:02"], utc=True),
        ...     "touchpoint": ["website", "website", "call_centre"],
        ... })
        >>> path_variants(events, collapse_repeats=True).to_frame().loc[0, "variant"]
        'website > call_centre'
    """
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise CjmError(f"top must be a whole number >= 1, got {top!r}.")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise CjmError(f"max_length must be a whole number >= 1 or None, got {max_length!r}.")
    if before is not None and after is not None:
        raise CjmError("Give either before= or after=, not both.")
    anchor = before if before is not None else after
    ses = sessions(events, gap=gap, split_on_conversion=split_on_conversion, engine=engine)
    eng = ses.engine
    codes, coded = session_codes(
        ses, level=level, catalog=catalog, aliases=aliases, min_share=min_share
    )
    info = {"level": level, "top": top, "engine": eng.name}
    if codes.n_events == 0:
        return PathVariants(_frame([]), ["the log has no events: no journeys"], **info)
    if anchor is not None:
        known = set(catalog.touchpoint_ids) if catalog is not None else codes.touchpoints
        if anchor not in known:
            raise CjmError(
                f"Unknown touchpoint {anchor!r} for {'before' if before else 'after'}=; "
                f"known touchpoints: {sorted(known)}."
            )
    anchor_code = ses.tp_code().get(anchor) if anchor is not None else None
    plan = _Plan(codes, collapse_repeats, max_length, before, after, anchor_code)
    if plan.plain() and shares_journeys(ses) and same_codes(ses, codes):
        journeys, view = shared_journeys(ses), _shared_view  # prepared: the journey rows
    else:
        journeys, view = plan.journeys(coded), _plain_view
    buckets = eng.execute(_buckets(journeys, top, anchor is not None, view), ["_bucket"])
    shown = buckets[buckets["_bucket"].between(1, top)]
    n_codes = len(codes.labels)
    _, packed = layout(n_codes)
    long = shown[shown["_len"] > packed]  # steps past the packed ones: read a journey
    paths = {}
    if len(long):
        paths = _render(eng, plan, _customers(events, ses, coded, plan, long["_rep"]))
    rows = []
    for _, b in shown.iterrows():
        key = tuple(b[k] for k in _KEY)
        if b["_len"] <= packed:
            steps = tuple(codes.labels[c] for c in packed_steps(b["_pk"], b["_len"], n_codes))
        elif key in paths:
            steps = paths[key]
        else:
            raise CjmError(
                f"Could not render a path of customer {b['_rep']!r}: its events come in a "
                "different order on a second reading (events tied in customer, timestamp, "
                "touchpoint and event type but different otherwise). Add a '_seq' column "
                "giving their order."
            )
        rows.append(_row(steps, b, truncated=bool(b["_trunc"])))
    rows.sort(key=lambda r: (-r["journeys"], r["variant"]))
    rest = buckets[buckets["_bucket"] == top + 1]
    rows.append(_row((), rest.iloc[0] if len(rest) else None, other=True))
    table = _frame(rows)
    total = int(table["journeys"].sum())
    table["share"] = table["journeys"] / total if total else float("nan")
    excluded = buckets.loc[buckets["_bucket"] == -1, "journeys"].sum()
    n_variants = int(buckets["_variants"].max()) if buckets["_variants"].notna().any() else 0
    notes = [f"{total} journeys in {n_variants} variants; {len(shown)} shown"]
    if anchor is not None:
        where = "up to and including" if before else "from"
        notes.append(
            f"paths {where} the first visit to {anchor!r}; {int(excluded)} journey(s) "
            f"without {anchor!r} left out; shares are of the {total} journeys with it"
        )
    notes += plan.describe()
    return PathVariants(table, notes, journeys=total, variants=n_variants, **info)


class _Plan:
    """The per-event and per-journey Ibis expressions for one set of path options."""

    def __init__(self, codes, collapse, max_length, before, after, anchor_code):
        self.codes: StepCodes = codes
        self.collapse, self.max_length = collapse, max_length
        self.before, self.after, self.anchor_code = before, after, anchor_code

    def describe(self) -> list[str]:
        out = []
        if self.collapse:
            out.append("consecutive repeats collapsed")
        if self.max_length:
            out.append(f"paths cut after {self.max_length} steps (marked '{TRUNCATED}')")
        return out

    def plain(self) -> bool:
        """Every event is a step, in journey order (no anchor, collapsing or cut)."""
        return not (
            self.collapse
            or self.max_length
            or self.anchor_code is not None
            or self.before is not None
            or self.after is not None
        )

    def steps(self, j: ibis.Table) -> ibis.Table:
        """Coded journey events with ``_in`` (a step of the path) and ``_pos`` (its 1-based
        position)."""
        anchor = self.before if self.before is not None else self.after
        if anchor is not None:
            at = j._tp == self.anchor_code if self.anchor_code else ibis.literal(False)
            first = j.step.min(where=at).over(ibis.window(group_by=_JOURNEY))
            j = j.mutate(_anchor=first)
            step = j.step.cast("int64")
            inside = step <= j._anchor if self.before is not None else step >= j._anchor
            pos = step if self.before is not None else step - j._anchor + 1
            j = j.mutate(_in=inside.fill_null(False), _pos=pos.fill_null(0))
        else:
            j = j.mutate(_in=ibis.literal(True), _pos=j.step.cast("int64"))
        if self.collapse:
            previous = j._code.lag().over(ibis.window(group_by=_JOURNEY, order_by=j.step))
            keep = j._in & ((j._pos == 1) | (previous != j._code).fill_null(True))
            j = j.mutate(_in=keep)
            running = ibis.cumulative_window(group_by=_JOURNEY, order_by=j.step)
            j = j.mutate(_pos=j._in.cast("int64").sum().over(running))
        return j

    def journeys(self, coded: ibis.Table) -> ibis.Table:
        """One row per journey: its path key, first steps, conversion and duration."""
        j = self.steps(coded)
        every = self.before is None and self.after is None and not self.collapse
        take = None if every else j._in  # None: every event is a step (no filters to run)
        if self.max_length is not None:
            cut = j._pos <= self.max_length
            take = cut if take is None else take & cut
        agg = j.group_by(_JOURNEY).agg(
            _n=j.count() if every else j.count(where=j._in),
            _conv=j._conv.any().cast("int64"),
            _dur=j[US].max() - j[US].min(),
            **key_aggregates(j._pos, j._code, len(self.codes.labels), take),
        )
        length = agg._n if self.max_length is None else agg._n.clip(upper=self.max_length)
        truncated = ibis.literal(False) if self.max_length is None else agg._n > self.max_length
        return agg.mutate(_len=length.cast("int64"), _trunc=truncated)


def _shared_view(t: ibis.Table) -> dict[str, ibis.Value]:
    """The columns of :meth:`_Plan.journeys` for a plain path, as expressions on the shared
    per-journey rows (no projection of its own: DuckDB would keep a projection that a query
    reads twice as a temporary result)."""
    return {
        "_n": t.n_events,
        "_conv": t.converted.cast("int64"),
        "_dur": t._end - t._start,
        "_pk": t._pk,
        "_s1": t._s1,
        "_s2": t._s2,
        "_len": t.n_events.cast("int64"),
        "_trunc": ibis.literal(False),
    }


def _plain_view(t: ibis.Table) -> dict[str, ibis.Value]:
    """The columns of :meth:`_Plan.journeys` as they are."""
    return {k: t[k] for k in ("_n", "_conv", "_dur", *_KEY)}


_KEY = ["_len", "_trunc", "_pk", "_s1", "_s2"]
#: ties in counts: paths in the order of their first steps (the packed steps sort so),
#: shorter first, then uncut first, then the hashed later steps
_ORDER = ["_pk", "_len", "_trunc", "_s1", "_s2"]


def _buckets(journeys: ibis.Table, top: int, anchored: bool, view=None) -> ibis.Table:
    """Journeys grouped into buckets: 1..top (the top variants), top+1 (the rest), -1 (left
    out: no anchor touchpoint); ``_variants``: the number of variants. ``view``: the
    columns of :meth:`_Plan.journeys` as expressions on ``journeys`` (default: its own).

    Only the top variants' keys are joined back to the journeys (a join with a handful of
    rows): the rank of every variant is not needed."""
    view = view or _plain_view
    c = view(journeys)
    analysed = journeys.filter(c["_n"] > 0) if anchored else journeys
    a = view(analysed)
    v = analysed.group_by(**{k: a[k] for k in _KEY}).agg(_count=analysed.count())
    v = v.mutate(_rank=ibis.row_number().over(order_by=[ibis.desc(v._count), *_ORDER]) + 1)
    best = v.filter(v._rank <= top)
    ranks = best.select(**{f"{k}_v": best[k] for k in _KEY}, _rank=best._rank)
    j = journeys.left_join(ranks, [c[k] == ranks[f"{k}_v"] for k in _KEY])
    c = view(j)
    rest = (c["_n"] == 0, -1) if anchored else (ibis.literal(False), -1)  # left out
    bucket = ibis.cases(rest, (j._rank.notnull(), j._rank.cast("int64")), else_=top + 1)
    j = j.mutate(_bucket=bucket.cast("int64"))
    c = view(j)
    out = j.group_by("_bucket").agg(
        journeys=j.count(),
        conversions=c["_conv"].sum(),
        _median_us=c["_dur"].median(),
        _rep=j.customer_id.min(),
        **{k: c[k].max() for k in _KEY if isinstance(c[k], ibis.Column)},
    )
    fixed = {k: c[k] for k in _KEY if not isinstance(c[k], ibis.Column)}  # e.g. _trunc
    out = out.mutate(**fixed) if fixed else out
    return out.cross_join(v.aggregate(_variants=v.count()))


def _customers(
    events: Any, ses: Sessions, coded: ibis.Table, plan: _Plan, customers: pd.Series
) -> ibis.Table:
    """The coded journey events of a few customers, read cheaply.

    Prepared events are a table on the engine and pandas inputs carry their own order
    (``_seq``): the coded events are filtered. Otherwise the order is generated while
    sessionising the whole table, which a filter cannot skip, so the few customers are read
    again on their own; the generated order within a customer is the same.
    """
    wanted = sorted(set(customers))
    if hasattr(events, "events") and not isinstance(events, pd.DataFrame):
        events = events.events  # a DataBundle
    if not isinstance(events, pd.DataFrame | PreparedEvents):
        eng = ses.engine
        raw = eng.table(events)
        if SEQ not in raw.columns:
            raw = raw.filter(raw.customer_id.cast("string").isin(wanted))
            split = ses.key[2] if ses.key[0] == "gap" else True
            gap = ses.key[1] / 1e6 if ses.key[0] == "gap" else None
            few = build(eng, events_table(raw, eng)[1], gap, split, like=ses)
            return apply_codes(few, plan.codes)
    return coded.filter(coded.customer_id.isin(wanted))


def _render(eng: Engine, plan: _Plan, mine: ibis.Table) -> dict:
    """Path labels by path key, from all journeys of the representative customers."""
    steps = plan.steps(mine)
    keys = plan.journeys(mine).select(*_JOURNEY, *_KEY)
    limit = plan.max_length
    s = steps.filter(steps._in if limit is None else steps._in & (steps._pos <= limit))
    s = s.select(*_JOURNEY, "_pos", "_code")
    joined = s.join(keys, _JOURNEY)
    df = eng.execute(joined, order_by=[*_JOURNEY, "_pos"])
    labels = plan.codes.labels
    paths: dict = {}
    for (_, _), part in df.groupby(_JOURNEY, sort=True):
        first = part.iloc[0]
        key = tuple(first[k] for k in _KEY)
        paths.setdefault(key, tuple(labels[c] for c in part["_code"]))
    return paths


def _row(steps: tuple, b: pd.Series | None, *, truncated: bool = False, other: bool = False):
    journeys = 0 if b is None else int(b["journeys"])
    conversions = 0 if b is None else int(b["conversions"])
    median = float("nan") if b is None or pd.isna(b["_median_us"]) else b["_median_us"] / 1e6
    shown = steps + ((TRUNCATED,) if truncated else ())
    return {
        "variant": OTHER_VARIANTS if other else SEPARATOR.join(shown),
        "steps": shown,
        "n_steps": len(steps),
        "journeys": journeys,
        "share": float("nan"),
        "conversions": conversions,
        "conversion_rate": conversions / journeys if journeys else float("nan"),
        "median_duration_s": float(median),
    }


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype(COLUMNS)
