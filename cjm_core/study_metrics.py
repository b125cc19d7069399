"""Units of analysis for before/after studies: one row per unit, with a time and a value.

:func:`metric_units` turns a bundle, a metric and a touchpoint into a tidy table that a
study splits into periods by ``time``, tests, adjusts (``history``) and breaks down
(``persona``, ``region``). :data:`METRICS` describes each metric; :func:`describe_metric`
gives report text. Feedback metrics the template declares (e.g. retail's ``rating``) are
known through the bundle's catalog (:func:`get_metric`).

Example::

    >>> import pandas as pd
    >>> from cjm_core.bundle import load_bundle
    >>> from cjm_core.model import JourneyCatalog
    >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
    ...     "channels": [{"id": "web", "name": "Web"}],
    ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
    ...                      "stage": "s", "kind": "digital"}]})
    >>> b = load_bundle({"events": pd.DataFrame({"customer_id": ["c1", "c1", "c2"],
    ...     "touchpoint": ["site"] * 3, "event_type": ["interaction", "conversion", "interaction"],
    ...     "timestamp": ["2024-03-01T10:00Z", "2024-03-01T11:00Z", "2024-03-02T10:00Z"]}),
    ...     "customers": pd.DataFrame({"customer_id": ["c1", "c2"]})}, template=cat)
    >>> metric_units(b, "conversion", "site")[["unit", "value"]].to_dict("list")
    {'unit': ['c1', 'c2'], 'value': [1.0, 0.0]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import StudyError

KINDS = ("proportion", "mean", "nps", "skewed")
UNITS = ("journey", "customer", "response", "event", "contact")
DAY_NS = 86_400 * 10**9
_CONVERSIONS = "number of the customer's conversion events (a real zero)"
_SCORES = (
    "mean score the customer gave for the same metric (any touchpoint); 0 when none, which "
    "is not a real zero (has_history is False)"
)


@dataclass(frozen=True)
class Metric:
    """What a metric measures: its ``kind`` (how to test it), ``unit`` and report text.

    ``history`` says which pre-period quantity the ``history`` column holds.

    Example::

        >>> METRICS["drop_off"].higher_is_better, METRICS["nps"].kind
        (False, 'nps')
    """

    name: str
    kind: str
    unit: str
    description: str
    higher_is_better: bool = True
    history: str = _CONVERSIONS

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.unit not in UNITS:
            raise StudyError(
                f"Metric {self.name!r}: kind {self.kind!r} must be one of {', '.join(KINDS)} "
                f"and unit {self.unit!r} one of {', '.join(UNITS)}."
            )


def _answers(what: str) -> str:
    return (
        f"{what} given for the touchpoint: one unit per feedback row with this metric and "
        "touchpoint; time = the answer's timestamp; value = the score. Answers without a "
        "touchpoint are set aside and counted."
    )


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("conversion", "proportion", "journey",
               "Share of journeys through the touchpoint that convert. A journey is a "
               "journey_id within a customer (a customer's whole history when the events have "
               "no journey_id); it scores 1 when it has an event_type == 'conversion' event at "
               "or after its first event at the touchpoint; time = that first visit."),
        Metric("stage_conversion", "proportion", "journey",
               "Share of journeys through the touchpoint that reach a later stage: 1 when the "
               "journey has an event, at or after its first visit, at a touchpoint whose stage "
               "comes later in the catalog's order; time = the first visit."),
        Metric("drop_off", "proportion", "journey",
               "Share of journeys through the touchpoint that end there: 1 when the journey's "
               "last event (latest timestamp, ties broken by row order) is at the touchpoint "
               "and the journey has no conversion event at all; time = the first visit.",
               higher_is_better=False),
        Metric("time_to_convert", "skewed", "journey",
               "Seconds from a journey's first visit to the touchpoint to its first conversion "
               "at or after it, among converting journeys only (read it with conversion); "
               "time = the first visit.", higher_is_better=False),
        Metric("csat", "mean", "response",
               _answers("Customer satisfaction answers (1 very dissatisfied .. 5 very satisfied)"),
               history=_SCORES),
        Metric("nps", "nps", "response",
               _answers("Likelihood-to-recommend answers (0-10; the Net Promoter Score is % "
                        "promoters 9-10 minus % detractors 0-6)"), history=_SCORES),
        Metric("ces", "mean", "response",
               _answers("Customer effort answers (1 strongly disagree .. 7 strongly agree that "
                        "it was easy)"), history=_SCORES),
        Metric("wait_time", "skewed", "event",
               "duration_s of each event at the touchpoint (the wait at an assisted touchpoint "
               "such as banking's call centre, a handling or session time elsewhere); time = "
               "the event's timestamp. Events without a duration are set aside and counted.",
               higher_is_better=False,
               history="number of the customer's events at the touchpoint (a real zero)"),
        Metric("repeat_purchase", "proportion", "customer",
               "Share of customers who buy again: a customer's unit is their first conversion "
               "at or after their first visit to the touchpoint (time t); 1 when they have "
               "another conversion in (t, t + repeat_days]. Units whose window ends after the "
               "last event are left out and counted."),
        # a mean: most customers spend nothing, so a rank test's location shift is ~0
        Metric("revenue_per_customer", "mean", "customer",
               "Sum of the customer's event value (missing values count as 0) in [t, t + "
               "revenue_days], t = the customer's first visit to the touchpoint (time = t). "
               "Customers whose window ends after the last event are left out and counted.",
               history="sum of the customer's event value (a real zero)"),
    )
}  # fmt: skip
JOURNEY_METRICS = ("conversion", "stage_conversion", "drop_off", "time_to_convert")


def get_metric(name: str, catalog: Any = None) -> Metric:
    """The :class:`Metric` called ``name``: from :data:`METRICS`, or a feedback metric that
    ``catalog`` declares (kind ``mean``, one unit per response, higher is better).

    Example::

        >>> get_metric("wait_time").unit
        'event'
    """
    if name in METRICS:
        return METRICS[name]
    declared = {m.id: m for m in (catalog.all_metrics if catalog is not None else ())}
    if name in declared:
        m = declared[name]
        extra = f"; {m.description}" if m.description else ""
        what = f"{m.name} answers ({m.min:g} .. {m.max:g}{extra})"
        return Metric(name, "mean", "response", _answers(what), history=_SCORES)
    known = [*METRICS, *(k for k in declared if k not in METRICS)]
    raise StudyError(f"Unknown metric {name!r}; known metrics: {', '.join(known)}.")


def describe_metric(name: str, catalog: Any = None) -> str:
    """One paragraph for reports: kind, unit, direction, definition and history covariate.

    Example::

        >>> describe_metric("drop_off")[:61]
        'drop_off (proportion per journey; lower is better): Share of '
    """
    m = get_metric(name, catalog)
    better = "higher" if m.higher_is_better else "lower"
    return (
        f"{m.name} ({m.kind} per {m.unit}; {better} is better): {m.description} "
        f"History covariate: {m.history}, in the history_days before the unit's time."
    )


class _Index:
    """Records (code, time[, weight]) sorted, to count and sum them in time windows fast.

    Times are ranked on the grid of record times, so a (code, rank) pair is one int64 key.
    """

    def __init__(self, codes: np.ndarray, times: np.ndarray, weights: np.ndarray | None = None):
        order = np.lexsort((times, codes))
        self.codes, self.times = codes[order], times[order]
        self.grid = np.unique(self.times)
        self.m = len(self.grid) + 1
        self.keys = self.codes * self.m + np.searchsorted(self.grid, self.times)
        w = np.ones(len(order)) if weights is None else weights[order]
        self.cum = np.concatenate([[0.0], np.cumsum(w)])

    def pos(self, codes: np.ndarray, x: np.ndarray, closed: bool) -> np.ndarray:
        """Number of records with a lower code, or the same code and time < x (<= if closed)."""
        rank = np.searchsorted(self.grid, x, side="right" if closed else "left")
        return np.searchsorted(self.keys, codes * self.m + rank, side="left")

    def window(self, codes, lo, hi, lo_closed=True, hi_closed=False):
        """Count and weight sum of each code's records between ``lo`` and ``hi``."""
        a, b = self.pos(codes, lo, not lo_closed), self.pos(codes, hi, hi_closed)
        return b - a, self.cum[b] - self.cum[a]

    def first_from(self, codes: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether each code has a record at or after x, and the time of the first one."""
        if not len(self.keys):
            return np.zeros(len(codes), dtype=bool), np.zeros(len(codes), dtype=np.int64)
        i = np.minimum(self.pos(codes, x, closed=False), len(self.keys) - 1)
        ok = (self.codes[i] == codes) & (self.times[i] >= x)  # else: past the code's records
        return ok, np.where(ok, self.times[i], 0)


def _last_per_code(codes: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each code and the row that sorts last for it by ``keys`` (most significant last)."""
    order = np.lexsort((*keys, codes))
    ends = np.append(codes[order][1:] != codes[order][:-1], True)
    return codes[order][ends], order[ends]


def _ns(s: pd.Series, table: str) -> np.ndarray:
    if s.isna().any():
        raise StudyError(f"{table}.timestamp has {int(s.isna().sum())} missing value(s); fill "
                         "them or load the data with cjm_core.bundle.load_bundle.")  # fmt: skip
    if getattr(s.dtype, "tz", None) is None:
        raise StudyError(
            f"{table}.timestamp must be time-zone aware (UTC); load the data with "
            "cjm_core.bundle.load_bundle, which validates and converts it."
        )
    return pd.DatetimeIndex(s).as_unit("ns").asi8


def _need(df: pd.DataFrame, columns: tuple[str, ...], table: str, metric: str, fix: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise StudyError(
            f"Metric {metric!r} needs column(s) {', '.join(missing)} in {table}, which has "
            f"{', '.join(map(str, df.columns))}. Fix: {fix}."
        )


def _days(value: Any, name: str) -> int:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e5
    if not ok:
        raise StudyError(f"{name} must be a positive number of days, got {value!r}.")
    return int(round(value * DAY_NS))


class _Data:
    """The events (and feedback) as arrays: times in ns, customer codes, touchpoint flags."""

    def __init__(self, bundle: Any, metric: str, tp: str):
        self.catalog, self.ev = bundle.catalog, (ev := bundle.events)
        self.fb = bundle.feedback if bundle.feedback is not None else None
        self.metric, self.tp, self.left_out, self.notes = metric, tp, {}, []
        self.scores: _Index | None = None  # feedback metrics: earlier scores, for history
        if not len(ev):
            raise StudyError("The bundle has no events: there is nothing to study.")
        self.t = _ns(ev["timestamp"], "events")
        has_fb = self.fb is not None and len(self.fb) > 0
        self.fb_t = _ns(self.fb["timestamp"], "feedback") if has_fb else np.zeros(0, np.int64)
        both = [ev["customer_id"], *([self.fb["customer_id"]] if has_fb else [])]
        codes, self.ids = pd.factorize(pd.concat(both, ignore_index=True))
        if (codes < 0).any():
            n = int((codes < 0).sum())
            raise StudyError(f"{n} event or feedback row(s) have no customer_id; fill it in "
                             "or load the data with cjm_core.bundle.load_bundle.")  # fmt: skip
        self.code, self.fb_code = codes[: len(ev)], codes[len(ev) :]
        self.tp_code, self.tp_names = pd.factorize(ev["touchpoint"])  # NaN -> -1
        self.at = self.tp_code == (self.tp_names.get_loc(tp) if tp in self.tp_names else -2)
        self.start = min(self.t.min(), self.fb_t.min(initial=self.t.min()))
        self.end = self.t.max()
        self.all = _Index(self.code, self.t)

    def is_conversion(self) -> np.ndarray:
        _need(self.ev, ("event_type",), "events", self.metric,
              "mark conversions with event_type = 'conversion'")  # fmt: skip
        return self.ev["event_type"].eq("conversion").to_numpy(dtype=bool, na_value=False)

    def visited(self) -> None:
        if not self.at.any():
            seen = ", ".join(sorted(self.ev["touchpoint"].dropna().unique()))
            raise StudyError(
                f"No events at touchpoint {self.tp!r}, so metric {self.metric!r} has no units; "
                f"touchpoints with events: {seen}."
            )

    def first_visit(self, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.visited()
        first = pd.Series(self.t[self.at]).groupby(group[self.at]).min()
        return first.index.to_numpy(), first.to_numpy()

    def journeys(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Journey code per event, and each journey's customer code and unit id."""
        ev = self.ev
        if "journey_id" in ev.columns:
            missing = int(ev["journey_id"].isna().sum())
            if missing:
                raise StudyError(
                    f"{missing} event(s) have no journey_id; fill it in for every event or "
                    "drop the column to treat each customer's history as one journey."
                )
            j = ev.groupby(["customer_id", "journey_id"], sort=False).ngroup().to_numpy()
            _, row = np.unique(j, return_index=True)
            first = ev.iloc[row]
            ids = first["customer_id"].to_numpy(str) + "/" + first["journey_id"].to_numpy(str)
            return j, self.code[row], ids
        self.notes.append("events have no journey_id column: each customer's history is a journey")
        return self.code, np.arange(len(self.ids)), self.ids.to_numpy(str)

    def money(self) -> _Index:
        """The events with a value, weighted by it."""
        v = self.ev["value"].to_numpy(dtype=float, na_value=np.nan)
        has = ~np.isnan(v)
        return _Index(self.code[has], self.t[has], v[has])

    def leave_out(self, ok: np.ndarray, reason: str) -> np.ndarray:
        if (~ok).any():
            self.left_out[reason] = self.left_out.get(reason, 0) + int((~ok).sum())
        return ok


def _journey_units(d: _Data, name: str) -> dict[str, np.ndarray]:
    jcode, jcust, jids = d.journeys()
    conv = d.is_conversion()
    units, first = d.first_visit(jcode)
    out = {"unit": jids[units], "code": jcust[units], "time": first}
    if name == "stage_conversion":
        order = {s: i for i, s in enumerate(d.catalog.stage_ids)}
        stage = {t.id: order[t.stage] for t in d.catalog.touchpoints}
        mine = stage[d.tp]
        if mine == len(order) - 1:
            raise StudyError(
                f"Touchpoint {d.tp!r} is in the last stage ({d.catalog.stage_ids[-1]!r}), "
                "so no journey can reach a later stage; use 'conversion' instead."
            )
        rank = np.array([stage.get(name, -1) for name in d.tp_names] + [-1])
        later = rank[d.tp_code] > mine  # code -1 (no touchpoint) takes the appended -1
        ok, _ = _Index(jcode[later], d.t[later]).first_from(units, first)
        return {**out, "value": ok.astype(float)}
    if name == "drop_off":
        last = np.zeros(jcode.max() + 1, dtype=np.int64)
        journey, row = _last_per_code(jcode, np.arange(len(jcode)), d.t)
        last[journey] = row
        ends_here = d.at[last[units]] & ~np.isin(units, jcode[conv])
        return {**out, "value": ends_here.astype(float)}
    ok, when = _Index(jcode[conv], d.t[conv]).first_from(units, first)
    if name == "conversion":
        return {**out, "value": ok.astype(float)}
    return {k: v[ok] for k, v in out.items()} | {"value": (when - first)[ok] / 1e9}


def _customer_units(d: _Data, name: str, days: int) -> dict[str, np.ndarray]:
    codes, first = d.first_visit(d.code)
    end = pd.Timestamp(d.end, tz="UTC")
    window = f"its {days / DAY_NS:g}-day window runs past the last event ({end:%Y-%m-%d %H:%M} UTC)"
    if name == "repeat_purchase":
        conv = d.is_conversion()
        index = _Index(d.code[conv], d.t[conv])
        bought, t = index.first_from(codes, first)
        codes, t = codes[bought], t[bought]
        keep = d.leave_out(t + days <= d.end, f"repeat_purchase: {window}")
        codes, t = codes[keep], t[keep]
        again, _ = index.window(codes, t, t + days, lo_closed=False, hi_closed=True)
        return {"code": codes, "time": t, "value": (again > 0).astype(float)}
    _need(d.ev, ("value",), "events", name, "supply the money value of each event in 'value'")
    keep = d.leave_out(first + days <= d.end, f"revenue_per_customer: {window}")
    codes, t = codes[keep], first[keep]
    _, total = d.money().window(codes, t, t + days, lo_closed=True, hi_closed=True)
    return {"code": codes, "time": t, "value": total}


def _wait_units(d: _Data) -> dict[str, np.ndarray]:
    _need(d.ev, ("duration_s",), "events", "wait_time",
          "record the wait (or handling time) in seconds in duration_s")  # fmt: skip
    d.visited()
    dur = d.ev["duration_s"].to_numpy(dtype=float, na_value=np.nan)
    keep = d.at & d.leave_out(
        ~(d.at & np.isnan(dur)), "events at the touchpoint without duration_s"
    )
    labels = "event:" + d.ev.index.to_numpy()[keep].astype(str)
    return {"unit": labels, "code": d.code[keep], "time": d.t[keep], "value": dur[keep]}


def _feedback_units(d: _Data, name: str) -> dict[str, np.ndarray]:
    fb = d.fb
    if fb is None or len(fb) == 0:
        raise StudyError(f"Metric {name!r} needs feedback, but the bundle has none.")
    _need(fb, ("touchpoint",), "feedback", name, "add the touchpoint each answer is about")
    mine = fb["metric"].eq(name).to_numpy(dtype=bool, na_value=False)
    score = fb["score"].to_numpy(dtype=float, na_value=np.nan)
    t, code = d.fb_t, d.fb_code
    scored = mine & ~np.isnan(score)
    d.leave_out(~(mine & np.isnan(score)), f"{name} answers without a score")
    no_tp = fb["touchpoint"].isna().to_numpy()
    d.leave_out(~(scored & no_tp), f"{name} answers without a touchpoint (not about one)")
    here = scored & fb["touchpoint"].eq(d.tp).to_numpy(dtype=bool, na_value=False)
    if not here.any():
        have = ", ".join(sorted(fb.loc[scored & ~no_tp, "touchpoint"].unique()))
        have = have or f"none (all {int(scored.sum())} are about no touchpoint)"
        raise StudyError(
            f"No {name!r} answers at touchpoint {d.tp!r}; touchpoints with {name} answers: {have}."
        )
    labels = "feedback:" + fb.index.to_numpy()[here].astype(str)
    d.scores = _Index(code[scored], t[scored], score[scored])
    return {"unit": labels, "code": code[here], "time": t[here], "value": score[here]}


def metric_units(
    bundle: Any,
    metric: str,
    touchpoint: str,
    *,
    repeat_days: float = 30,
    history_days: float = 90,
    revenue_days: float = 30,
) -> pd.DataFrame:
    """One row per unit of ``metric`` at ``touchpoint``, sorted by time then unit.

    Definitions are in :data:`METRICS` (``describe_metric(name)`` prints one): conversion
    and feedback units are those of :func:`cjm_core.studies.before_after` and of the planted
    truth (``synth_truth``), ``wait_time`` the truth's duration. Columns:

    - ``unit``: ``customer/journey`` (or ``customer`` without journey_id), ``customer``,
      ``feedback:<row label>`` or ``event:<row label>`` (labels of the bundle's table);
    - ``customer_id``; ``time`` (UTC, places the unit in a period); ``value`` (float);
    - ``persona`` from customers (NaN when absent) and ``region`` when customers carry it,
      else the region of the customer's earliest event when events carry it;
    - ``history``: the metric's pre-period covariate (``METRICS[name].history``) over
      ``[time - history_days, time)``, so only data before ``time``; 0 when nothing is
      there, a real zero except for feedback metrics (a mean score);
    - ``has_history``: the customer left a record in that window (any event; for feedback
      metrics an answer of the metric), so ``history`` carries information;
    - ``history_complete``: the window lies inside the data. Early units have truncated
      history, which differs between periods: restrict or check before adjusting on it.

    ``df.attrs``: ``metric``, ``touchpoint``, ``kind``, ``unit``, ``left_out`` (reason ->
    number of rows or units set aside), ``notes``, ``data_start`` (first event or answer),
    ``data_end`` (last event) and the three day parameters. Raises
    :class:`~cjm_core.errors.StudyError` for an unknown metric or touchpoint, a missing
    column, bad day counts, or no units at the touchpoint.

    Example::

        >>> from types import SimpleNamespace
        >>> from cjm_core.model import JourneyCatalog
        >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
        ...     "channels": [{"id": "ph", "name": "Phone"}], "touchpoints": [{"id": "call",
        ...     "name": "Call", "channel": "ph", "stage": "s", "kind": "assisted"}]})
        >>> ts = pd.to_datetime(["2024-03-01 10:00", "2024-03-02 10:00"], utc=True)
        >>> ev = pd.DataFrame({"customer_id": ["a", "a"], "timestamp": ts,
        ...     "touchpoint": ["call", "call"], "duration_s": [600.0, 60.0]})
        >>> df = metric_units(SimpleNamespace(catalog=cat, events=ev, feedback=None,
        ...     customers=None), "wait_time", "call")
        >>> df[["unit", "value", "history"]].to_dict("list")
        {'unit': ['event:0', 'event:1'], 'value': [600.0, 60.0], 'history': [0.0, 1.0]}
    """
    catalog = bundle.catalog
    spec = get_metric(metric, catalog)
    if touchpoint not in catalog.touchpoint_ids:
        raise StudyError(
            f"Unknown touchpoint {touchpoint!r} for catalog {catalog.name!r}; its touchpoints "
            f"are: {', '.join(catalog.touchpoint_ids)}."
        )
    h = _days(history_days, "history_days")
    d = _Data(bundle, metric, touchpoint)
    if spec.name in JOURNEY_METRICS:
        u = _journey_units(d, spec.name)
    elif spec.name == "repeat_purchase":
        u = _customer_units(d, spec.name, _days(repeat_days, "repeat_days"))
    elif spec.name == "revenue_per_customer":
        u = _customer_units(d, spec.name, _days(revenue_days, "revenue_days"))
    elif spec.name == "wait_time":
        u = _wait_units(d)
    else:
        u = _feedback_units(d, spec.name)
    u["history"], u["has_history"] = _history(d, spec.name, u["code"], u["time"], h)
    u["history_complete"] = u["time"] - h >= d.start
    df = _frame(d, bundle, u)
    df.attrs = {
        "metric": spec.name, "touchpoint": touchpoint, "kind": spec.kind, "unit": spec.unit,
        "left_out": d.left_out, "notes": d.notes, "data_start": pd.Timestamp(d.start, tz="UTC"),
        "data_end": pd.Timestamp(d.end, tz="UTC"), "history_days": history_days,
        "repeat_days": repeat_days, "revenue_days": revenue_days,
    }  # fmt: skip
    return df


def _history(d: _Data, name: str, code: np.ndarray, t: np.ndarray, h: int):
    """The history covariate over [t - h, t) and whether the customer left a record there."""
    if d.scores is not None:  # feedback: mean earlier score of the same metric
        n, total = d.scores.window(code, t - h, t)
        return total / np.maximum(n, 1), n > 0
    if name == "revenue_per_customer":
        source = d.money()
    elif name == "wait_time":
        source = _Index(d.code[d.at], d.t[d.at])
    else:
        conv = d.is_conversion()
        source = _Index(d.code[conv], d.t[conv])
    _, total = source.window(code, t - h, t)
    seen, _ = d.all.window(code, t - h, t)
    return total, seen > 0


def _frame(d: _Data, bundle: Any, u: dict[str, np.ndarray]) -> pd.DataFrame:
    code, ids = u["code"], d.ids.to_numpy(object)
    df = pd.DataFrame({
        "unit": u["unit"] if "unit" in u else ids[code], "customer_id": ids[code],
        "time": pd.to_datetime(u["time"], utc=True), "value": np.asarray(u["value"], dtype=float),
    })  # fmt: skip
    customers = getattr(bundle, "customers", None)
    if customers is not None and len(customers):
        _check_unique(customers)
        row = pd.Index(customers["customer_id"]).get_indexer(d.ids)[code]
        if (row < 0).any():
            d.notes.append(f"{int((row < 0).sum())} unit(s) of customers not in customers")
    for col in ("persona", "region"):
        if customers is not None and len(customers) and col in customers.columns:
            known = customers[col].to_numpy(object, na_value=np.nan)[row]
            df[col] = np.where(row >= 0, known, np.nan)
        elif col in d.ev.columns:  # region: that of the customer's earliest event
            who, row = _last_per_code(d.code, -np.arange(len(d.t)), -d.t)  # earliest row
            per_code = np.full(len(ids), np.nan, dtype=object)
            per_code[who] = d.ev[col].to_numpy(object, na_value=np.nan)[row]
            df[col] = per_code[code]
        elif col == "persona":
            df[col] = np.nan
    for col in ("history", "has_history", "history_complete"):
        df[col] = u[col]
    return df.sort_values(["time", "unit"], kind="stable", ignore_index=True)


def _check_unique(customers: pd.DataFrame) -> None:
    dup = customers["customer_id"].duplicated()
    if dup.any():
        raise StudyError(
            f"customers.customer_id has {int(dup.sum())} duplicate(s) (e.g. "
            f"{customers.loc[dup, 'customer_id'].iloc[0]!r}); keep one row per customer."
        )
