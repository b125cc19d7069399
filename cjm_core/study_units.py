"""The units behind :func:`cjm_core.study_metrics.metric_units`: per-metric builders.

:class:`UnitData` reads a bundle once for one metric and touchpoint (codes, times, the
touchpoint's events, conversions, answers); the ``*_units`` functions build the units of
each kind of metric as arrays (customer code, time, value); :func:`history_of` computes the
history covariate over a window before each unit with :class:`TimeIndex`; and
:func:`unit_frame` assembles the tidy table with persona and region.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import StudyError

DAY_NS = 86_400 * 10**9


class TimeIndex:
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


def last_per_code(codes: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each code and the row that sorts last for it by ``keys`` (most significant last)."""
    order = np.lexsort((*keys, codes))
    ends = np.append(codes[order][1:] != codes[order][:-1], True)
    return codes[order][ends], order[ends]


def nanoseconds(s: pd.Series, table: str) -> np.ndarray:
    if s.isna().any():
        raise StudyError(f"{table}.timestamp has {int(s.isna().sum())} missing value(s); fill "
                         "them or load the data with cjm_core.bundle.load_bundle.")  # fmt: skip
    if getattr(s.dtype, "tz", None) is None:
        raise StudyError(
            f"{table}.timestamp must be time-zone aware (UTC); load the data with "
            "cjm_core.bundle.load_bundle, which validates and converts it."
        )
    return pd.DatetimeIndex(s).as_unit("ns").asi8


def need_columns(
    df: pd.DataFrame, columns: tuple[str, ...], table: str, metric: str, fix: str
) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise StudyError(
            f"Metric {metric!r} needs column(s) {', '.join(missing)} in {table}, which has "
            f"{', '.join(map(str, df.columns))}. Fix: {fix}."
        )


def days_param(value: Any, name: str) -> int:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e5
    if not ok:
        raise StudyError(f"{name} must be a positive number of days, got {value!r}.")
    return int(round(value * DAY_NS))


class UnitData:
    """The events (and feedback) as arrays: times in ns, customer codes, touchpoint flags."""

    def __init__(self, bundle: Any, metric: str, tp: str):
        self.catalog, self.ev = bundle.catalog, (ev := bundle.events)
        self.fb = bundle.feedback if bundle.feedback is not None else None
        self.metric, self.tp, self.left_out, self.notes = metric, tp, {}, []
        self.scores: TimeIndex | None = None  # feedback metrics: earlier scores, for history
        if not len(ev):
            raise StudyError("The bundle has no events: there is nothing to study.")
        self.t = nanoseconds(ev["timestamp"], "events")
        has_fb = self.fb is not None and len(self.fb) > 0
        self.fb_t = (
            nanoseconds(self.fb["timestamp"], "feedback") if has_fb else np.zeros(0, np.int64)
        )
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
        self.all = TimeIndex(self.code, self.t)

    def is_conversion(self) -> np.ndarray:
        need_columns(self.ev, ("event_type",), "events", self.metric,
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

    def money(self) -> TimeIndex:
        """The events with a value, weighted by it."""
        v = self.ev["value"].to_numpy(dtype=float, na_value=np.nan)
        has = ~np.isnan(v)
        return TimeIndex(self.code[has], self.t[has], v[has])

    def leave_out(self, ok: np.ndarray, reason: str) -> np.ndarray:
        if (~ok).any():
            self.left_out[reason] = self.left_out.get(reason, 0) + int((~ok).sum())
        return ok


def journey_units(d: UnitData, name: str) -> dict[str, np.ndarray]:
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
        ok, _ = TimeIndex(jcode[later], d.t[later]).first_from(units, first)
        return {**out, "value": ok.astype(float)}
    if name == "drop_off":
        last = np.zeros(jcode.max() + 1, dtype=np.int64)
        journey, row = last_per_code(jcode, np.arange(len(jcode)), d.t)
        last[journey] = row
        ends_here = d.at[last[units]] & ~np.isin(units, jcode[conv])
        return {**out, "value": ends_here.astype(float)}
    ok, when = TimeIndex(jcode[conv], d.t[conv]).first_from(units, first)
    if name == "conversion":
        return {**out, "value": ok.astype(float)}
    return {k: v[ok] for k, v in out.items()} | {"value": (when - first)[ok] / 1e9}


def customer_units(d: UnitData, name: str, days: int) -> dict[str, np.ndarray]:
    codes, first = d.first_visit(d.code)
    end = pd.Timestamp(d.end, tz="UTC")
    window = f"its {days / DAY_NS:g}-day window runs past the last event ({end:%Y-%m-%d %H:%M} UTC)"
    if name == "repeat_purchase":
        conv = d.is_conversion()
        index = TimeIndex(d.code[conv], d.t[conv])
        bought, t = index.first_from(codes, first)
        codes, t = codes[bought], t[bought]
        keep = d.leave_out(t + days <= d.end, f"repeat_purchase: {window}")
        codes, t = codes[keep], t[keep]
        again, _ = index.window(codes, t, t + days, lo_closed=False, hi_closed=True)
        return {"code": codes, "time": t, "value": (again > 0).astype(float)}
    need_columns(
        d.ev, ("value",), "events", name, "supply the money value of each event in 'value'"
    )
    keep = d.leave_out(first + days <= d.end, f"revenue_per_customer: {window}")
    codes, t = codes[keep], first[keep]
    _, total = d.money().window(codes, t, t + days, lo_closed=True, hi_closed=True)
    return {"code": codes, "time": t, "value": total}


def wait_units(d: UnitData) -> dict[str, np.ndarray]:
    need_columns(d.ev, ("duration_s",), "events", "wait_time",
          "record the wait (or handling time) in seconds in duration_s")  # fmt: skip
    d.visited()
    dur = d.ev["duration_s"].to_numpy(dtype=float, na_value=np.nan)
    keep = d.at & d.leave_out(
        ~(d.at & np.isnan(dur)), "events at the touchpoint without duration_s"
    )
    labels = "event:" + d.ev.index.to_numpy()[keep].astype(str)
    return {"unit": labels, "code": d.code[keep], "time": d.t[keep], "value": dur[keep]}


def feedback_units(d: UnitData, name: str) -> dict[str, np.ndarray]:
    fb = d.fb
    if fb is None or len(fb) == 0:
        raise StudyError(f"Metric {name!r} needs feedback, but the bundle has none.")
    need_columns(fb, ("touchpoint",), "feedback", name, "add the touchpoint each answer is about")
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
    d.scores = TimeIndex(code[scored], t[scored], score[scored])
    return {"unit": labels, "code": code[here], "time": t[here], "value": score[here]}


def history_of(d: UnitData, name: str, code: np.ndarray, t: np.ndarray, h: int):
    """The history covariate over [t - h, t) and whether the customer left a record there."""
    if d.scores is not None:  # feedback: mean earlier score of the same metric
        n, total = d.scores.window(code, t - h, t)
        return total / np.maximum(n, 1), n > 0
    if name == "revenue_per_customer":
        source = d.money()
    elif name == "wait_time":
        source = TimeIndex(d.code[d.at], d.t[d.at])
    else:
        conv = d.is_conversion()
        source = TimeIndex(d.code[conv], d.t[conv])
    _, total = source.window(code, t - h, t)
    seen, _ = d.all.window(code, t - h, t)
    return total, seen > 0


def unit_frame(d: UnitData, bundle: Any, u: dict[str, np.ndarray]) -> pd.DataFrame:
    code, ids = u["code"], d.ids.to_numpy(object)
    df = pd.DataFrame({
        "unit": u["unit"] if "unit" in u else ids[code], "customer_id": ids[code],
        "time": pd.to_datetime(u["time"], utc=True), "value": np.asarray(u["value"], dtype=float),
    })  # fmt: skip
    customers = getattr(bundle, "customers", None)
    if customers is not None and len(customers):
        check_unique_customers(customers)
        row = pd.Index(customers["customer_id"]).get_indexer(d.ids)[code]
        if (row < 0).any():
            d.notes.append(f"{int((row < 0).sum())} unit(s) of customers not in customers")
    for col in ("persona", "region"):
        if customers is not None and len(customers) and col in customers.columns:
            known = customers[col].to_numpy(object, na_value=np.nan)[row]
            df[col] = np.where(row >= 0, known, np.nan)
        elif col in d.ev.columns:  # region: that of the customer's earliest event
            who, row = last_per_code(d.code, -np.arange(len(d.t)), -d.t)  # earliest row
            per_code = np.full(len(ids), np.nan, dtype=object)
            per_code[who] = d.ev[col].to_numpy(object, na_value=np.nan)[row]
            df[col] = per_code[code]
        elif col == "persona":
            df[col] = np.nan
    for col in ("history", "has_history", "history_complete"):
        df[col] = u[col]
    return df.sort_values(["time", "unit"], kind="stable", ignore_index=True)


def check_unique_customers(customers: pd.DataFrame) -> None:
    dup = customers["customer_id"].duplicated()
    if dup.any():
        raise StudyError(
            f"customers.customer_id has {int(dup.sum())} duplicate(s) (e.g. "
            f"{customers.loc[dup, 'customer_id'].iloc[0]!r}); keep one row per customer."
        )
